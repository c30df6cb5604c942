//! XML namespaces and the closed set of element and attribute names the decoders recognize.
//! Names are matched once per tag into small enums, so the decoders compare integers, not
//! strings.

pub const NS_SOAP: &str = "http://www.w3.org/2003/05/soap-envelope";
pub const NS_SOAP11: &str = "http://schemas.xmlsoap.org/soap/envelope/";
pub const NS_WSA: &str = "http://www.w3.org/2005/08/addressing";
pub const NS_RIM: &str = "urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0";
pub const NS_RS: &str = "urn:oasis:names:tc:ebxml-regrep:xsd:rs:3.0";
pub const NS_LCM: &str = "urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0";
pub const NS_QUERY: &str = "urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0";
pub const NS_XDS: &str = "urn:ihe:iti:xds-b:2007";
pub const NS_RMD: &str = "urn:ihe:iti:rmd:2017";
pub const NS_XOP: &str = "http://www.w3.org/2004/08/xop/include";
pub const NS_XML: &str = "http://www.w3.org/XML/1998/namespace";
pub const NS_WSSE: &str =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd";
pub const NS_RIM21: &str = "urn:oasis:names:tc:ebxml-regrep:rim:xsd:2.1";
pub const NS_RS21: &str = "urn:oasis:names:tc:ebxml-regrep:registry:xsd:2.1";
pub const NS_QUERY21: &str = "urn:oasis:names:tc:ebxml-regrep:query:xsd:2.1";

/// WS-Addressing anonymous address: the reply travels back on the same connection.
pub const WSA_ANONYMOUS: &str = "http://www.w3.org/2005/08/addressing/anonymous";
/// The action of WS-Addressing faults.
pub const WSA_FAULT_ACTION: &str = "http://www.w3.org/2005/08/addressing/fault";

/// A namespace the decoders know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ns {
    None,
    Soap,
    Soap11,
    Wsa,
    Rim,
    Rs,
    Lcm,
    Query,
    Xds,
    Rmd,
    Xop,
    Xml,
    Wsse,
    /// ebRIM/ebRS 2.1: recognized only to say precisely why it is refused.
    Ebxml21,
    Other,
}

impl Ns {
    pub fn from_uri(uri: &[u8]) -> Self {
        match uri {
            b"http://www.w3.org/2003/05/soap-envelope" => Self::Soap,
            b"urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0" => Self::Rim,
            b"urn:oasis:names:tc:ebxml-regrep:xsd:rs:3.0" => Self::Rs,
            b"urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0" => Self::Lcm,
            b"urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0" => Self::Query,
            b"urn:ihe:iti:xds-b:2007" => Self::Xds,
            b"http://www.w3.org/2005/08/addressing" => Self::Wsa,
            b"urn:ihe:iti:rmd:2017" => Self::Rmd,
            b"http://www.w3.org/2004/08/xop/include" => Self::Xop,
            b"http://www.w3.org/XML/1998/namespace" => Self::Xml,
            b"http://schemas.xmlsoap.org/soap/envelope/" => Self::Soap11,
            b"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd" => {
                Self::Wsse
            }
            b"urn:oasis:names:tc:ebxml-regrep:rim:xsd:2.1"
            | b"urn:oasis:names:tc:ebxml-regrep:registry:xsd:2.1"
            | b"urn:oasis:names:tc:ebxml-regrep:query:xsd:2.1" => Self::Ebxml21,
            _ => Self::Other,
        }
    }
}

/// Element local names the decoders recognize.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tag {
    // SOAP and WS-Addressing.
    Envelope,
    Header,
    Body,
    Fault,
    Code,
    Subcode,
    Value,
    Reason,
    Text,
    Detail,
    Action,
    MessageId,
    To,
    ReplyTo,
    FaultTo,
    From,
    Address,
    RelatesTo,
    Security,
    // ebRIM.
    RegistryObjectList,
    ExtrinsicObject,
    RegistryPackage,
    Association,
    Classification,
    ExternalIdentifier,
    ObjectRef,
    ObjectRefList,
    Slot,
    ValueList,
    Name,
    Description,
    LocalizedString,
    VersionInfo,
    ContentVersionInfo,
    AdhocQuery,
    QueryExpression,
    // ebRS / lcm / query.
    SubmitObjectsRequest,
    RemoveObjectsRequest,
    RequestSlotList,
    ResponseSlotList,
    RegistryResponse,
    RegistryErrorList,
    RegistryError,
    AdhocQueryRequest,
    AdhocQueryResponse,
    ResponseOption,
    // XDS.b and RMD.
    ProvideAndRegisterDocumentSetRequest,
    Document,
    RetrieveDocumentSetRequest,
    RetrieveDocumentSetResponse,
    DocumentRequest,
    DocumentResponse,
    HomeCommunityId,
    RepositoryUniqueId,
    DocumentUniqueId,
    NewRepositoryUniqueId,
    NewDocumentUniqueId,
    MimeType,
    RemoveDocumentsRequest,
    // XOP.
    Include,
    Other,
}

impl Tag {
    pub fn from_local(local: &[u8]) -> Self {
        match local {
            b"Envelope" => Self::Envelope,
            b"Header" => Self::Header,
            b"Body" => Self::Body,
            b"Fault" => Self::Fault,
            b"Code" => Self::Code,
            b"Subcode" => Self::Subcode,
            b"Value" => Self::Value,
            b"Reason" => Self::Reason,
            b"Text" => Self::Text,
            b"Detail" => Self::Detail,
            b"Action" => Self::Action,
            b"MessageID" => Self::MessageId,
            b"To" => Self::To,
            b"ReplyTo" => Self::ReplyTo,
            b"FaultTo" => Self::FaultTo,
            b"From" => Self::From,
            b"Address" => Self::Address,
            b"RelatesTo" => Self::RelatesTo,
            b"Security" => Self::Security,
            b"RegistryObjectList" => Self::RegistryObjectList,
            b"ExtrinsicObject" => Self::ExtrinsicObject,
            b"RegistryPackage" => Self::RegistryPackage,
            b"Association" => Self::Association,
            b"Classification" => Self::Classification,
            b"ExternalIdentifier" => Self::ExternalIdentifier,
            b"ObjectRef" => Self::ObjectRef,
            b"ObjectRefList" => Self::ObjectRefList,
            b"Slot" => Self::Slot,
            b"ValueList" => Self::ValueList,
            b"Name" => Self::Name,
            b"Description" => Self::Description,
            b"LocalizedString" => Self::LocalizedString,
            b"VersionInfo" => Self::VersionInfo,
            b"ContentVersionInfo" => Self::ContentVersionInfo,
            b"AdhocQuery" => Self::AdhocQuery,
            b"QueryExpression" => Self::QueryExpression,
            b"SubmitObjectsRequest" => Self::SubmitObjectsRequest,
            b"RemoveObjectsRequest" => Self::RemoveObjectsRequest,
            b"RequestSlotList" => Self::RequestSlotList,
            b"ResponseSlotList" => Self::ResponseSlotList,
            b"RegistryResponse" => Self::RegistryResponse,
            b"RegistryErrorList" => Self::RegistryErrorList,
            b"RegistryError" => Self::RegistryError,
            b"AdhocQueryRequest" => Self::AdhocQueryRequest,
            b"AdhocQueryResponse" => Self::AdhocQueryResponse,
            b"ResponseOption" => Self::ResponseOption,
            b"ProvideAndRegisterDocumentSetRequest" => Self::ProvideAndRegisterDocumentSetRequest,
            b"Document" => Self::Document,
            b"RetrieveDocumentSetRequest" => Self::RetrieveDocumentSetRequest,
            b"RetrieveDocumentSetResponse" => Self::RetrieveDocumentSetResponse,
            b"DocumentRequest" => Self::DocumentRequest,
            b"DocumentResponse" => Self::DocumentResponse,
            b"HomeCommunityId" => Self::HomeCommunityId,
            b"RepositoryUniqueId" => Self::RepositoryUniqueId,
            b"DocumentUniqueId" => Self::DocumentUniqueId,
            b"NewRepositoryUniqueId" => Self::NewRepositoryUniqueId,
            b"NewDocumentUniqueId" => Self::NewDocumentUniqueId,
            b"mimeType" => Self::MimeType,
            b"RemoveDocumentsRequest" => Self::RemoveDocumentsRequest,
            b"Include" => Self::Include,
            _ => Self::Other,
        }
    }
}

/// Attribute local names the decoders read (all unqualified except the SOAP and XML ones).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttrName {
    Id,
    Home,
    Lid,
    ObjectType,
    Status,
    MimeType,
    IsOpaque,
    ClassifiedObject,
    ClassificationScheme,
    ClassificationNode,
    NodeRepresentation,
    RegistryObject,
    IdentificationScheme,
    Value,
    AssociationType,
    SourceObject,
    TargetObject,
    Name,
    SlotType,
    Lang,
    Charset,
    VersionName,
    Comment,
    ReturnType,
    ReturnComposedObjects,
    Federated,
    Federation,
    StartIndex,
    MaxResults,
    TotalResultCount,
    RequestId,
    HighestSeverity,
    ErrorCode,
    CodeContext,
    Severity,
    Location,
    DeletionScope,
    QueryLanguage,
    Href,
    MustUnderstand,
    RelationshipType,
    CreateReplica,
    Other,
}

impl AttrName {
    pub fn from_local(local: &[u8]) -> Self {
        match local {
            b"id" => Self::Id,
            b"home" => Self::Home,
            b"lid" => Self::Lid,
            b"objectType" => Self::ObjectType,
            b"status" => Self::Status,
            b"mimeType" => Self::MimeType,
            b"isOpaque" => Self::IsOpaque,
            b"classifiedObject" => Self::ClassifiedObject,
            b"classificationScheme" => Self::ClassificationScheme,
            b"classificationNode" => Self::ClassificationNode,
            b"nodeRepresentation" => Self::NodeRepresentation,
            b"registryObject" => Self::RegistryObject,
            b"identificationScheme" => Self::IdentificationScheme,
            b"value" => Self::Value,
            b"associationType" => Self::AssociationType,
            b"sourceObject" => Self::SourceObject,
            b"targetObject" => Self::TargetObject,
            b"name" => Self::Name,
            b"slotType" => Self::SlotType,
            b"lang" => Self::Lang,
            b"charset" => Self::Charset,
            b"versionName" => Self::VersionName,
            b"comment" => Self::Comment,
            b"returnType" => Self::ReturnType,
            b"returnComposedObjects" => Self::ReturnComposedObjects,
            b"federated" => Self::Federated,
            b"federation" => Self::Federation,
            b"startIndex" => Self::StartIndex,
            b"maxResults" => Self::MaxResults,
            b"totalResultCount" => Self::TotalResultCount,
            b"requestId" => Self::RequestId,
            b"highestSeverity" => Self::HighestSeverity,
            b"errorCode" => Self::ErrorCode,
            b"codeContext" => Self::CodeContext,
            b"severity" => Self::Severity,
            b"location" => Self::Location,
            b"deletionScope" => Self::DeletionScope,
            b"queryLanguage" => Self::QueryLanguage,
            b"href" => Self::Href,
            b"mustUnderstand" => Self::MustUnderstand,
            b"RelationshipType" => Self::RelationshipType,
            b"createReplica" => Self::CreateReplica,
            _ => Self::Other,
        }
    }
}
