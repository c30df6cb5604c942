//! Request and response bodies of the transactions, in model terms. `D` is the type that holds
//! a document's content: a handle chosen by the caller (an in-memory buffer in tests, a stored
//! blob in the repository), so that no layer needs the bytes in memory.

use super::ids::{ObjectId, Uuid};
use super::metadata::Metadata;
use crate::error::RegistryResponse;

/// ITI-41 ProvideAndRegisterDocumentSet-b: metadata plus one document per DocumentEntry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvideAndRegister<D> {
    pub metadata: Metadata,
    pub documents: Vec<Document<D>>,
}

/// One `xds:Document`: `id` names the ExtrinsicObject it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document<D> {
    pub id: ObjectId,
    pub content: D,
}

/// One `xds:DocumentRequest` of ITI-43 or ITI-86. Values are kept as sent: whether they name
/// this repository or a known document is the service's answer, not a format error.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DocumentRequest {
    pub home_community_id: Option<String>,
    pub repository_unique_id: String,
    pub document_unique_id: String,
}

/// One `xds:DocumentResponse` of ITI-43.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetrievedDocument<D> {
    pub home_community_id: Option<String>,
    pub repository_unique_id: String,
    pub document_unique_id: String,
    pub new_repository_unique_id: Option<String>,
    pub new_document_unique_id: Option<String>,
    pub mime_type: String,
    pub content: D,
}

/// ITI-43 response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetrieveResponse<D> {
    pub response: RegistryResponse,
    pub documents: Vec<RetrievedDocument<D>>,
}

/// ITI-62 Remove Metadata: the entryUUIDs to remove.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoveMetadata {
    pub object_refs: Vec<Uuid>,
}

/// ITI-18 response: status, errors and the returned objects (or ObjectRefs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryResponse {
    pub response: RegistryResponse,
    pub metadata: Metadata,
}
