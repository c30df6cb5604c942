//! The wire layer: SOAP 1.2 + WS-Addressing envelopes and faults, MTOM/XOP multipart packages
//! with streamed attachments (or inline base64), and streaming ebRIM 3.0 / ebRS / XDS.b / RMD
//! readers and writers built on quick-xml (no DOM).
//!
//! Layout: `message` (entry point: HTTP body + Content-Type -> envelope), `multipart` (MIME
//! framing), `mime` (header values), `xml` (the streaming cursor), `decode` / `encode` (element
//! readers and writers), `types` (loose mirror types), `attachment` (sinks and streaming base64),
//! `names` (namespaces and element names), `limits`, `error`.
//!
//! Architecture invariant: among product crates, only this module names quick-xml.

pub mod attachment;
mod decode;
pub mod dom;
pub mod encode;
pub mod error;
pub mod limits;
pub mod message;
pub mod mime;
pub mod multipart;
pub mod names;
pub mod scan;
pub mod types;
pub mod xml;

pub use attachment::{AttachmentInfo, AttachmentSink, CountingSink, MemorySink, SinkError};
pub use encode::{OutContent, XmlWriter, write_body, write_body_document, write_envelope};
pub use error::{DecodeError, ErrorClass};
pub use limits::Limits;
pub use message::{DecodedMessage, decode_body_xml, decode_message};
pub use mime::{ContentType, MimeError};
pub use multipart::{MultipartReader, MultipartWriter, OutgoingPart, PartHeaders};
pub use scan::{ScanError, ScannedElement, scan_elements};
pub use types::*;
pub use xml::RawXml;
