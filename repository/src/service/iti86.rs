//! ITI-86 Remove Documents (RMD): removes stored documents; the registry's metadata is the
//! Document Administrator's business (ITI-62), not the repository's.

use xds::XdsErrorCode;
use xds::error::{RegistryError, RegistryResponse};
use xds::model::DocumentRequest;

use super::Repository;

impl Repository {
    /// Removes each requested document (blocking store writes). Success when all were removed,
    /// PartialSuccess when some were, Failure when none.
    pub fn remove_documents(&self, requests: &[DocumentRequest]) -> RegistryResponse {
        let mut errors = Vec::new();
        let mut removed = 0usize;
        for request in requests {
            let unique_id = &request.document_unique_id;
            if let Some(error) = self.foreign_repository(request) {
                errors.push(error);
                continue;
            }
            match self.store().remove_document(unique_id) {
                Ok(true) => removed += 1,
                Ok(false) => errors.push(
                    RegistryError::error(
                        XdsErrorCode::DocumentUniqueIdError,
                        format!("document {unique_id} is not in this repository"),
                    )
                    .at(unique_id.clone()),
                ),
                Err(error) => errors.push(
                    RegistryError::error(XdsErrorCode::RemoveDocumentsError, error.to_string())
                        .at(unique_id.clone()),
                ),
            }
        }
        RegistryResponse::from_partial(errors, removed > 0)
    }
}
