//! ITI-41 Provide and Register Document Set-b: check the stored documents against their
//! metadata, set hash, size and repositoryUniqueId, record a durable intent, register with
//! ITI-42, then commit or roll back. A retried submission (same SubmissionSet uniqueId, same
//! content) gets the committed answer again and stores nothing twice.

use std::collections::HashMap;
use xds::validate::{Receiver, registry_errors, validate_submission};

use sha1::{Digest, Sha1};
use xds::XdsErrorCode;
use xds::error::{RegistryError, RegistryResponse, ResponseStatus, Severity};
use xds::model::{Metadata, ObjectId, ProvideAndRegister, Sha1Hash};
use xds::wire::{Attachment, RawXml};

use super::Repository;
use super::recovery::Settled;
use super::upload::{StoredBlob, Uploads};
use crate::registry_client::RegistryCallError;
use crate::store::{DocumentRecord, Intent, IntentState, StoredError, StoredResponse, unix_now};

/// A Failure answer with one error.
pub(crate) fn failure(code: XdsErrorCode, context: impl Into<String>) -> RegistryResponse {
    RegistryResponse::from_errors(vec![RegistryError::error(code, context)])
}

/// The registry's answer as kept with a committed intent.
pub(crate) fn stored_response(response: &RegistryResponse) -> StoredResponse {
    StoredResponse {
        status: response.status.urn().to_owned(),
        errors: response
            .errors
            .iter()
            .map(|error| StoredError {
                code: error.code.as_str().to_owned(),
                context: error.code_context.clone(),
                severity: error.severity.urn().to_owned(),
                location: error.location.clone(),
            })
            .collect(),
    }
}

/// A kept answer, back in model terms (codes we no longer know become XDSRepositoryError).
pub(crate) fn restored_response(stored: &StoredResponse) -> RegistryResponse {
    RegistryResponse {
        status: ResponseStatus::from_urn(&stored.status).unwrap_or(ResponseStatus::Success),
        errors: stored
            .errors
            .iter()
            .map(|error| RegistryError {
                code: XdsErrorCode::from_spec(&error.code).unwrap_or(XdsErrorCode::RepositoryError),
                code_context: error.context.clone(),
                severity: Severity::from_urn(&error.severity).unwrap_or(Severity::Error),
                location: error.location.clone(),
            })
            .collect(),
        request_id: None,
    }
}

/// SHA-1 of the metadata the repository registers (hash, size and repositoryUniqueId set):
/// the identity of a submission. Taken over the compact storage encoding, not a second
/// rendering of the ebRIM the client writes anyway.
fn registration_digest(metadata: &Metadata) -> [u8; 20] {
    let mut digest = Sha1::new();
    // Encoding into a hasher cannot fail for in-memory model values.
    let _ = postcard::to_io(metadata, DigestWriter(&mut digest));
    digest.finalize().into()
}

/// Feeds bytes written to it into a SHA-1 (so the encoding is never held whole).
struct DigestWriter<'a>(&'a mut Sha1);

impl std::io::Write for DigestWriter<'_> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.update(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn repository_error(error: impl std::fmt::Display) -> RegistryResponse {
    failure(XdsErrorCode::RepositoryError, error.to_string())
}

impl Repository {
    /// Handles a decoded, well-formed ITI-41 request whose documents are already stored
    /// (`uploads` owns them until an intent does).
    pub async fn provide_and_register(
        &self,
        request: ProvideAndRegister<Attachment<StoredBlob>>,
        security: Option<RawXml>,
        mut uploads: Uploads,
    ) -> RegistryResponse {
        let ProvideAndRegister {
            mut metadata,
            documents,
        } = request;
        // Structural and profile rules first: a rejected submission stores nothing (dropping
        // `uploads` removes its documents) and never reaches the registry.
        let violations = validate_submission(&metadata, Receiver::Repository, self.profile());
        if !violations.is_empty() {
            return RegistryResponse::from_errors(registry_errors(&violations));
        }
        let stored: HashMap<ObjectId, StoredBlob> = documents
            .into_iter()
            .map(|document| (document.id, document.content.handle))
            .collect();
        let store = self.store();
        let repository_id = self.settings().repository_unique_id.clone();
        let now = unix_now();
        let mut errors = Vec::new();
        let mut records = Vec::with_capacity(stored.len());
        for entry in &mut metadata.document_entries {
            // The transform paired every DocumentEntry with its document.
            let Some(blob) = stored.get(&entry.entry_uuid) else {
                continue;
            };
            let location = format!("ExtrinsicObject {}", entry.entry_uuid);
            let computed = Sha1Hash(blob.hash);
            if let Some(hash) = entry.hash
                && hash != computed
            {
                errors.push(
                    RegistryError::error(
                        XdsErrorCode::RepositoryMetadataError,
                        format!("hash {hash} differs from the SHA-1 of the document received, {computed}"),
                    )
                    .at(location.clone()),
                );
            }
            if let Some(size) = entry.size
                && size != blob.size
            {
                errors.push(
                    RegistryError::error(
                        XdsErrorCode::RepositoryMetadataError,
                        format!(
                            "size {size} differs from the size of the document received, {}",
                            blob.size
                        ),
                    )
                    .at(location.clone()),
                );
            }
            entry.hash = Some(computed);
            entry.size = Some(blob.size);
            entry.repository_unique_id = Some(repository_id.clone());
            let (Some(unique_id), Some(mime_type)) = (&entry.unique_id, &entry.mime_type) else {
                // Both are required: the transform reported their absence already.
                continue;
            };
            match store.document(unique_id.as_str()) {
                Ok(Some(existing)) if existing.hash != blob.hash => errors.push(
                    RegistryError::error(XdsErrorCode::NonIdenticalHash, unique_id.as_str())
                        .at(location.clone()),
                ),
                Ok(Some(existing)) if existing.size != blob.size => errors.push(
                    RegistryError::error(XdsErrorCode::NonIdenticalSize, unique_id.as_str())
                        .at(location.clone()),
                ),
                Ok(_) => {}
                Err(error) => return repository_error(error),
            }
            records.push((
                unique_id.as_str().to_owned(),
                DocumentRecord {
                    blob: blob.blob,
                    size: blob.size,
                    hash: blob.hash,
                    mime_type: mime_type.clone(),
                    stored_at: now,
                },
            ));
        }
        let submission_set = metadata
            .submission_sets
            .first()
            .and_then(|set| set.unique_id.as_ref())
            .map(ToString::to_string);
        let Some(submission_set) = submission_set else {
            errors.push(RegistryError::error(
                XdsErrorCode::RepositoryMetadataError,
                "the SubmissionSet has no uniqueId",
            ));
            return RegistryResponse::from_errors(errors);
        };
        if !errors.is_empty() {
            return RegistryResponse::from_errors(errors);
        }
        let digest = registration_digest(&metadata);
        let Some(_claim) = self.claim(&submission_set) else {
            return failure(
                XdsErrorCode::RepositoryBusy,
                format!(
                    "a submission with SubmissionSet uniqueId {submission_set} is in progress; retry later"
                ),
            );
        };
        match store.intent(&submission_set) {
            Ok(None) => {}
            Ok(Some(intent)) => {
                let committed = match intent.state {
                    IntentState::Committed(response) => Some(restored_response(&response)),
                    IntentState::Pending => match self.settle(&submission_set, &intent).await {
                        Settled::Committed(response) => Some(response),
                        Settled::RolledBack => None,
                        Settled::InDoubt(reason) => {
                            return failure(
                                XdsErrorCode::RegistryNotAvailable,
                                format!(
                                    "an earlier attempt of SubmissionSet {submission_set} is not settled yet ({reason}); retry later"
                                ),
                            );
                        }
                    },
                };
                if let Some(response) = committed {
                    return if intent.digest == digest {
                        response
                    } else {
                        failure(
                            XdsErrorCode::DuplicateUniqueIdInRegistry,
                            format!(
                                "SubmissionSet uniqueId {submission_set} was already submitted with other content"
                            ),
                        )
                    };
                }
            }
            Err(error) => return repository_error(error),
        }
        let intent = Intent {
            created_at: now,
            digest,
            documents: records,
            state: IntentState::Pending,
        };
        if let Err(error) = store.record_intent(&submission_set, &intent) {
            return repository_error(error);
        }
        uploads.adopt();
        let registered = self
            .inner
            .registry
            .register(&metadata, security.as_ref())
            .await;
        match registered {
            Ok(response) if response.status != ResponseStatus::Failure => {
                match store.commit(&submission_set, &intent, stored_response(&response)) {
                    Ok(()) => response,
                    Err(error) => {
                        // Registered but not yet retrievable: the intent stays pending and the
                        // settling task commits it (the registry will say it is registered).
                        tracing::error!(%submission_set, "failed to {error:#}");
                        repository_error(format!(
                            "the documents are registered but storing the outcome failed ({error}); they become retrievable once the repository settles the submission"
                        ))
                    }
                }
            }
            Ok(response) => {
                if let Err(error) = store.roll_back(&submission_set, &intent) {
                    tracing::warn!(%submission_set, "failed to {error:#}; the settling task retries");
                }
                response
            }
            Err(RegistryCallError::NotReached(reason)) => {
                if let Err(error) = store.roll_back(&submission_set, &intent) {
                    tracing::warn!(%submission_set, "failed to {error:#}; the settling task retries");
                }
                failure(XdsErrorCode::RegistryNotAvailable, reason)
            }
            Err(RegistryCallError::InDoubt(reason)) => {
                tracing::warn!(%submission_set, %reason, "registration outcome in doubt; settled later");
                failure(
                    XdsErrorCode::RegistryNotAvailable,
                    format!(
                        "{reason}; the outcome is in doubt and will be settled with the registry: resubmitting the same submission returns the settled outcome"
                    ),
                )
            }
        }
    }
}
