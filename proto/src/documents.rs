//! Document requests (ITI-43, ITI-86) <-> the model, read by the same rules as the SOAP
//! elements (values kept as sent; whether they name this repository or a known document is the
//! service's answer).

use xds::error::RegistryError;
use xds::model::DocumentRequest;
use xds::transform::{self, Options};
use xds::wire;

use crate::v1;

fn present(value: String) -> Option<String> {
    (!value.is_empty()).then_some(value)
}

/// Reads document requests: at least one, each naming a repository and a document
/// (XDSRepositoryMetadataError at `DocumentRequest[n]` otherwise).
pub fn requests_from_proto(
    requests: Vec<v1::DocumentRequest>,
) -> Result<Vec<DocumentRequest>, Vec<RegistryError>> {
    let requests: Vec<wire::DocumentRequest> = requests
        .into_iter()
        .map(|request| wire::DocumentRequest {
            home_community_id: present(request.home_community_id),
            repository_unique_id: present(request.repository_unique_id),
            document_unique_id: present(request.document_unique_id),
        })
        .collect();
    transform::document_requests_from_wire(&requests, Options::REPOSITORY).map_err(|violations| {
        violations
            .iter()
            .map(transform::Violation::to_registry_error)
            .collect()
    })
}

pub fn request_to_proto(request: &DocumentRequest) -> v1::DocumentRequest {
    v1::DocumentRequest {
        home_community_id: request.home_community_id.clone().unwrap_or_default(),
        repository_unique_id: request.repository_unique_id.clone(),
        document_unique_id: request.document_unique_id.clone(),
    }
}

/// The pairing rules of ITI-41 for documents that arrived as chunks: every DocumentEntry has
/// exactly one document (XDSMissingDocument) and every document a DocumentEntry
/// (XDSMissingDocumentMetadata), with the locations the SOAP transform gives.
pub fn pairing_errors(
    metadata: &xds::model::Metadata,
    documents: &[xds::model::ObjectId],
) -> Vec<RegistryError> {
    use xds::error::XdsErrorCode;
    let mut errors = Vec::new();
    for entry in &metadata.document_entries {
        if !documents.contains(&entry.entry_uuid) {
            errors.push(
                RegistryError::error(
                    XdsErrorCode::MissingDocument,
                    format!("DocumentEntry {} has no document", entry.entry_uuid),
                )
                .at(format!("ExtrinsicObject {}", entry.entry_uuid)),
            );
        }
    }
    for document in documents {
        if !metadata
            .document_entries
            .iter()
            .any(|entry| &entry.entry_uuid == document)
        {
            errors.push(
                RegistryError::error(
                    XdsErrorCode::MissingDocumentMetadata,
                    format!("document {document} has no DocumentEntry"),
                )
                .at(format!("xds:Document {document}")),
            );
        }
    }
    errors
}
