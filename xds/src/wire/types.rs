//! Loose mirror types of the ebRIM 3.0, ebRS 3.0, XDS.b and RMD elements. Every attribute is
//! kept as the string that was sent (`None` when absent); nothing is interpreted here. The
//! transforms in `crate::transform` check and convert them into the strict model.

use super::xml::RawXml;

/// `rim:Slot`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Slot {
    pub name: Option<String>,
    pub slot_type: Option<String>,
    pub values: Vec<String>,
}

impl Slot {
    pub fn new(name: &str, values: Vec<String>) -> Self {
        Self {
            name: Some(name.to_owned()),
            slot_type: None,
            values,
        }
    }
}

/// `rim:LocalizedString`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LocalizedString {
    pub value: Option<String>,
    pub lang: Option<String>,
    pub charset: Option<String>,
}

/// `rim:VersionInfo` / `rim:ContentVersionInfo`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VersionInfo {
    pub version_name: Option<String>,
    pub comment: Option<String>,
}

/// The attributes and children every RegistryObject has.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegistryObject {
    pub id: Option<String>,
    pub home: Option<String>,
    pub lid: Option<String>,
    pub object_type: Option<String>,
    pub status: Option<String>,
    pub slots: Vec<Slot>,
    /// `rim:Name`; `Some(vec![])` for an empty `<rim:Name/>`.
    pub name: Option<Vec<LocalizedString>>,
    pub description: Option<Vec<LocalizedString>>,
    pub version_info: Option<VersionInfo>,
    pub classifications: Vec<Classification>,
    pub external_identifiers: Vec<ExternalIdentifier>,
}

impl RegistryObject {
    /// The values of the first slot with this name.
    pub fn slot(&self, name: &str) -> Option<&Slot> {
        self.slots
            .iter()
            .find(|slot| slot.name.as_deref() == Some(name))
    }
}

/// `rim:Classification`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Classification {
    pub object: RegistryObject,
    pub classified_object: Option<String>,
    pub classification_scheme: Option<String>,
    pub classification_node: Option<String>,
    pub node_representation: Option<String>,
}

/// `rim:ExternalIdentifier`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExternalIdentifier {
    pub object: RegistryObject,
    pub registry_object: Option<String>,
    pub identification_scheme: Option<String>,
    pub value: Option<String>,
}

/// `rim:ExtrinsicObject`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExtrinsicObject {
    pub object: RegistryObject,
    pub mime_type: Option<String>,
    pub is_opaque: Option<String>,
    pub content_version_info: Option<VersionInfo>,
}

/// `rim:RegistryPackage`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegistryPackage {
    pub object: RegistryObject,
}

/// `rim:Association`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Association {
    pub object: RegistryObject,
    pub association_type: Option<String>,
    pub source_object: Option<String>,
    pub target_object: Option<String>,
}

/// `rim:ObjectRef`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObjectRef {
    pub id: Option<String>,
    pub home: Option<String>,
    pub create_replica: Option<String>,
    pub slots: Vec<Slot>,
}

/// `rim:AdhocQuery`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AdhocQuery {
    pub object: RegistryObject,
    /// `(queryLanguage, text)` of a `rim:QueryExpression`; XDS stored queries have none.
    pub query_expression: Option<(Option<String>, String)>,
}

/// One member of a `rim:RegistryObjectList` (the `rim:Identifiable` substitution group
/// members XDS uses).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identifiable {
    ExtrinsicObject(ExtrinsicObject),
    RegistryPackage(RegistryPackage),
    Association(Association),
    Classification(Classification),
    ExternalIdentifier(ExternalIdentifier),
    ObjectRef(ObjectRef),
}

/// Attributes and slots of an ebRS request (`rs:RegistryRequestType`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestHeader {
    pub id: Option<String>,
    pub comment: Option<String>,
    pub request_slots: Option<Vec<Slot>>,
}

/// `lcm:SubmitObjectsRequest` (ITI-42, ITI-57, and inside ITI-41).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubmitObjectsRequest {
    pub header: RequestHeader,
    pub objects: Vec<Identifiable>,
}

/// Content of one `xds:Document` element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DocumentContent<H> {
    /// Inline base64, already decoded into the attachment sink.
    Inline(Attachment<H>),
    /// An `xop:Include`; resolved against the MIME parts once the package is read.
    /// `location` names the referring element for error messages.
    Xop { cid: String, location: String },
}

/// A document's bytes as stored by the attachment sink.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment<H> {
    pub handle: H,
    /// Decoded size in bytes.
    pub size: u64,
    /// Content-Type of the MIME part, if the content came from one.
    pub content_type: Option<String>,
    /// Content-ID of the MIME part, if the content came from one.
    pub content_id: Option<String>,
}

/// `xds:Document`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document<C> {
    pub id: Option<String>,
    pub content: C,
}

/// `xds:ProvideAndRegisterDocumentSetRequest`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvideAndRegisterRequest<C> {
    pub submit: SubmitObjectsRequest,
    pub documents: Vec<Document<C>>,
}

/// `query:AdhocQueryRequest`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AdhocQueryRequest {
    pub header: RequestHeader,
    pub return_type: Option<String>,
    pub return_composed_objects: Option<String>,
    pub federated: Option<String>,
    pub federation: Option<String>,
    pub start_index: Option<String>,
    pub max_results: Option<String>,
    pub query: AdhocQuery,
}

/// `rs:RegistryError`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegistryError {
    pub error_code: Option<String>,
    pub code_context: Option<String>,
    pub severity: Option<String>,
    pub location: Option<String>,
    /// Element text (ebRS allows a message body; IHE leaves it empty).
    pub text: String,
}

/// `rs:RegistryErrorList`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegistryErrorList {
    pub highest_severity: Option<String>,
    pub errors: Vec<RegistryError>,
}

/// `rs:RegistryResponse`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegistryResponse {
    pub status: Option<String>,
    pub request_id: Option<String>,
    pub response_slots: Option<Vec<Slot>>,
    pub errors: Option<RegistryErrorList>,
}

/// `query:AdhocQueryResponse`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AdhocQueryResponse {
    pub response: RegistryResponse,
    pub start_index: Option<String>,
    pub total_result_count: Option<String>,
    pub objects: Vec<Identifiable>,
}

/// `xds:DocumentRequest` (ITI-43 and ITI-86).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DocumentRequest {
    pub home_community_id: Option<String>,
    pub repository_unique_id: Option<String>,
    pub document_unique_id: Option<String>,
}

/// `xds:RetrieveDocumentSetRequest`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RetrieveDocumentSetRequest {
    pub requests: Vec<DocumentRequest>,
}

/// `xds:DocumentResponse`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentResponse<C> {
    pub home_community_id: Option<String>,
    pub repository_unique_id: Option<String>,
    pub document_unique_id: Option<String>,
    pub new_repository_unique_id: Option<String>,
    pub new_document_unique_id: Option<String>,
    pub mime_type: Option<String>,
    pub document: C,
}

/// `xds:RetrieveDocumentSetResponse`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetrieveDocumentSetResponse<C> {
    pub response: RegistryResponse,
    pub documents: Vec<DocumentResponse<C>>,
}

/// `lcm:RemoveObjectsRequest` (ITI-62).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RemoveObjectsRequest {
    pub header: RequestHeader,
    pub deletion_scope: Option<String>,
    pub query: Option<AdhocQuery>,
    pub object_refs: Option<Vec<ObjectRef>>,
}

/// `rmd:RemoveDocumentsRequest` (ITI-86).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RemoveDocumentsRequest {
    pub requests: Vec<DocumentRequest>,
}

/// A SOAP 1.2 fault code value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultCode {
    VersionMismatch,
    MustUnderstand,
    DataEncodingUnknown,
    Sender,
    Receiver,
}

impl FaultCode {
    pub const fn local_name(self) -> &'static str {
        match self {
            Self::VersionMismatch => "VersionMismatch",
            Self::MustUnderstand => "MustUnderstand",
            Self::DataEncodingUnknown => "DataEncodingUnknown",
            Self::Sender => "Sender",
            Self::Receiver => "Receiver",
        }
    }

    pub fn from_local_name(name: &str) -> Option<Self> {
        [
            Self::VersionMismatch,
            Self::MustUnderstand,
            Self::DataEncodingUnknown,
            Self::Sender,
            Self::Receiver,
        ]
        .into_iter()
        .find(|code| code.local_name() == name)
    }

    /// HTTP status for this fault (SOAP 1.2 Part 2, HTTP binding).
    pub const fn http_status(self) -> u16 {
        match self {
            Self::Sender => 400,
            _ => 500,
        }
    }
}

/// `env:Fault`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    pub code: FaultCode,
    /// Subcode QName values as written, outermost first (e.g. `wsa:ActionNotSupported`).
    pub subcodes: Vec<String>,
    pub reason: String,
    /// `xml:lang` of the reason text.
    pub reason_lang: Option<String>,
    /// Text content of `env:Detail`, if any.
    pub detail: Option<String>,
}

/// The body of a SOAP message we understand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body<C> {
    SubmitObjects(SubmitObjectsRequest),
    ProvideAndRegister(ProvideAndRegisterRequest<C>),
    AdhocQuery(AdhocQueryRequest),
    Retrieve(RetrieveDocumentSetRequest),
    RemoveObjects(RemoveObjectsRequest),
    RemoveDocuments(RemoveDocumentsRequest),
    RegistryResponse(RegistryResponse),
    AdhocQueryResponse(AdhocQueryResponse),
    RetrieveResponse(RetrieveDocumentSetResponse<C>),
    Fault(Fault),
    /// A body element of an extension namespace (`urn:xds:*`, the DMP management operations),
    /// kept raw for the daemon that serves it.
    Extension(RawXml),
}

impl<C> Body<C> {
    /// Local name of the body element, for logs and errors.
    pub fn element_name(&self) -> &'static str {
        match self {
            Self::SubmitObjects(_) => "SubmitObjectsRequest",
            Self::ProvideAndRegister(_) => "ProvideAndRegisterDocumentSetRequest",
            Self::AdhocQuery(_) => "AdhocQueryRequest",
            Self::Retrieve(_) => "RetrieveDocumentSetRequest",
            Self::RemoveObjects(_) => "RemoveObjectsRequest",
            Self::RemoveDocuments(_) => "RemoveDocumentsRequest",
            Self::RegistryResponse(_) => "RegistryResponse",
            Self::AdhocQueryResponse(_) => "AdhocQueryResponse",
            Self::RetrieveResponse(_) => "RetrieveDocumentSetResponse",
            Self::Fault(_) => "Fault",
            Self::Extension(_) => "extension element",
        }
    }

    /// Converts the document content type, failing on the first error.
    pub fn try_map_content<D, E>(
        self,
        mut convert: impl FnMut(C) -> Result<D, E>,
    ) -> Result<Body<D>, E> {
        Ok(match self {
            Self::SubmitObjects(request) => Body::SubmitObjects(request),
            Self::ProvideAndRegister(request) => {
                Body::ProvideAndRegister(ProvideAndRegisterRequest {
                    submit: request.submit,
                    documents: request
                        .documents
                        .into_iter()
                        .map(|document| {
                            Ok(Document {
                                id: document.id,
                                content: convert(document.content)?,
                            })
                        })
                        .collect::<Result<_, E>>()?,
                })
            }
            Self::AdhocQuery(request) => Body::AdhocQuery(request),
            Self::Retrieve(request) => Body::Retrieve(request),
            Self::RemoveObjects(request) => Body::RemoveObjects(request),
            Self::RemoveDocuments(request) => Body::RemoveDocuments(request),
            Self::RegistryResponse(response) => Body::RegistryResponse(response),
            Self::AdhocQueryResponse(response) => Body::AdhocQueryResponse(response),
            Self::Extension(raw) => Body::Extension(raw),
            Self::RetrieveResponse(response) => {
                Body::RetrieveResponse(RetrieveDocumentSetResponse {
                    response: response.response,
                    documents: response
                        .documents
                        .into_iter()
                        .map(|document| {
                            Ok(DocumentResponse {
                                home_community_id: document.home_community_id,
                                repository_unique_id: document.repository_unique_id,
                                document_unique_id: document.document_unique_id,
                                new_repository_unique_id: document.new_repository_unique_id,
                                new_document_unique_id: document.new_document_unique_id,
                                mime_type: document.mime_type,
                                document: convert(document.document)?,
                            })
                        })
                        .collect::<Result<_, E>>()?,
                })
            }
            Self::Fault(fault) => Body::Fault(fault),
        })
    }
}

/// A WS-Addressing endpoint reference (only the address matters to us).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EndpointReference {
    pub address: Option<String>,
}

/// A header block with `mustUnderstand` set that we do not process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotUnderstood {
    pub qname: String,
    pub namespace: String,
}

/// The SOAP header fields we use.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Header {
    pub action: Option<String>,
    /// Whether `wsa:Action` carried `mustUnderstand="1"`/`"true"` (IHE-WSA101).
    pub action_must_understand: bool,
    pub message_id: Option<String>,
    pub to: Option<String>,
    pub reply_to: Option<EndpointReference>,
    pub fault_to: Option<EndpointReference>,
    pub from: Option<EndpointReference>,
    pub relates_to: Option<String>,
    /// The WS-Security header, kept raw for the trust layer to verify.
    pub security: Option<RawXml>,
    /// Header blocks marked mustUnderstand that nobody here processes.
    pub not_understood: Vec<NotUnderstood>,
}

/// A SOAP 1.2 envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope<C> {
    pub header: Header,
    pub body: Body<C>,
}
