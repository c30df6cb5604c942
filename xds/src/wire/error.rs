//! Errors of the wire decoders. Each says what was wrong and where; [`DecodeError::class`] tells
//! an adapter which kind of answer it deserves (SOAP fault, XDS metadata error, size refusal).

use std::io;

use super::mime::MimeError;

/// How a decode error should be answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// The message is not a usable SOAP 1.2 message: SOAP fault with code `env:Sender`.
    SenderFault,
    /// A SOAP 1.1 envelope: SOAP fault with code `env:VersionMismatch`.
    VersionMismatch,
    /// The body element was recognized but is not schema-valid: a normal response with status
    /// Failure and XDSRegistryMetadataError / XDSRepositoryMetadataError.
    Metadata,
    /// An `xop:Include` names no MIME part: XDSMissingDocument.
    MissingDocument,
    /// A configured size limit was exceeded.
    TooLarge,
    /// Reading the request or storing an attachment failed on our side.
    Internal,
}

/// A decoding failure. Locations are element paths (`Envelope/Body/...`).
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("malformed XML at byte {position}: {source}")]
    Xml {
        position: u64,
        #[source]
        source: quick_xml::Error,
    },
    #[error("DOCTYPE declarations are refused (byte {position})")]
    DocType { position: u64 },
    #[error("XML encoding {declared:?} is not supported; send UTF-8")]
    Encoding { declared: String },
    #[error("undefined entity reference &{name}; at {location}")]
    UndefinedEntity { name: String, location: String },
    #[error("malformed start tag at {location}: {message}")]
    MalformedTag { message: String, location: String },
    #[error("namespace prefix {prefix:?} is not declared at {location}")]
    UndeclaredPrefix { prefix: String, location: String },
    #[error("not a SOAP 1.2 envelope: the root element is {found}")]
    NotAnEnvelope { found: String },
    #[error("SOAP 1.1 envelope received; this endpoint speaks SOAP 1.2")]
    Soap11,
    #[error("the SOAP envelope has no Body")]
    MissingBody,
    #[error("unexpected element {found} at {location}; expected {expected}")]
    UnexpectedElement {
        found: String,
        location: String,
        expected: &'static str,
        in_body: bool,
    },
    #[error("element {element} at {location} is in namespace {found:?}; expected {expected}")]
    WrongNamespace {
        element: String,
        found: String,
        expected: &'static str,
        location: String,
        in_body: bool,
    },
    #[error("required element {element} is missing in {location}")]
    MissingElement {
        element: &'static str,
        location: String,
        in_body: bool,
    },
    #[error("unexpected text {text:?} at {location}")]
    UnexpectedText {
        text: String,
        location: String,
        in_body: bool,
    },
    #[error("ebRIM 2.1 element {element} at {location}: XDS.b requires ebRIM 3.0")]
    Ebrim21 { element: String, location: String },
    #[error("elements nested deeper than {limit} at {location}")]
    TooDeep { limit: usize, location: String },
    #[error("text or attribute value longer than {limit} bytes at {location}")]
    TextTooLong { limit: usize, location: String },
    #[error("SOAP envelope larger than {limit} bytes")]
    EnvelopeTooLarge { limit: u64 },
    #[error("message larger than {limit} bytes")]
    MessageTooLarge { limit: u64 },
    #[error("document {what} larger than {limit} bytes")]
    AttachmentTooLarge { what: String, limit: u64 },
    #[error("more than {limit} MIME parts")]
    TooManyParts { limit: usize },
    #[error("invalid base64 content at {location}: {message}")]
    Base64 { location: String, message: String },
    #[error(
        "xop:Include at {location} refers to cid:{cid}, which is not a part of the MIME package"
    )]
    MissingAttachment { cid: String, location: String },
    #[error("MIME: {0}")]
    Mime(#[from] MimeError),
    #[error("reading the message failed: {0}")]
    Io(#[from] io::Error),
    #[error("storing an attachment failed: {0}")]
    Sink(String),
}

impl DecodeError {
    pub fn class(&self) -> ErrorClass {
        match self {
            Self::Soap11 => ErrorClass::VersionMismatch,
            Self::UnexpectedElement { in_body: true, .. }
            | Self::WrongNamespace { in_body: true, .. }
            | Self::MissingElement { in_body: true, .. }
            | Self::UnexpectedText { in_body: true, .. }
            | Self::Ebrim21 { .. }
            | Self::Base64 { .. } => ErrorClass::Metadata,
            Self::MissingAttachment { .. } => ErrorClass::MissingDocument,
            Self::EnvelopeTooLarge { .. }
            | Self::MessageTooLarge { .. }
            | Self::AttachmentTooLarge { .. }
            | Self::TooManyParts { .. }
            | Self::TextTooLong { .. }
            | Self::TooDeep { .. } => ErrorClass::TooLarge,
            Self::Sink(_) => ErrorClass::Internal,
            // A body that stops mid-way is a transport problem, not bad metadata.
            Self::Io(_) => ErrorClass::SenderFault,
            Self::Xml { .. }
            | Self::DocType { .. }
            | Self::Encoding { .. }
            | Self::UndefinedEntity { .. }
            | Self::MalformedTag { .. }
            | Self::UndeclaredPrefix { .. }
            | Self::NotAnEnvelope { .. }
            | Self::MissingBody
            | Self::UnexpectedElement { in_body: false, .. }
            | Self::WrongNamespace { in_body: false, .. }
            | Self::MissingElement { in_body: false, .. }
            | Self::UnexpectedText { in_body: false, .. }
            | Self::Mime(_) => ErrorClass::SenderFault,
        }
    }
}
