//! The repository's transactions on model types: ITI-41 ([`iti41`]), ITI-43 ([`iti43`]),
//! ITI-86 ([`iti86`]), and the settling of submissions whose outcome is in doubt
//! ([`recovery`]). Uploads stream into the store through [`upload::BlobSink`].

pub mod iti41;
pub mod iti43;
pub mod iti86;
pub mod recovery;
pub mod upload;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use xds::XdsErrorCode;
use xds::error::RegistryError;
use xds::model::DocumentRequest;
use xds::validate::{IheXdsB, Profile};

use crate::registry_client::RegistryClient;
use crate::store::DocumentStore;

/// Settings of the service.
#[derive(Debug, Clone)]
pub struct ServiceSettings {
    /// This repository's repositoryUniqueId (an OID).
    pub repository_unique_id: xds::model::Oid,
    /// A pending submission older than this, not in flight here, is settled by asking the
    /// registry (longer than the registry timeout, so an answer still coming cannot be missed).
    pub in_doubt_after: Duration,
    /// How often pending submissions are looked at.
    pub settle_interval: Duration,
    /// Check each retrieved document's SHA-1 while it streams out; a mismatch breaks the
    /// answer rather than deliver corrupt bytes.
    pub verify_on_read: bool,
    /// ITI-43 asks the registry which requested documents the caller may read (the
    /// registry's access policy, architecture.md invariant 3).
    pub retrieve_check: bool,
}

/// The repository service; cheap to clone.
#[derive(Debug, Clone)]
pub struct Repository {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    store: Arc<dyn DocumentStore>,
    registry: Arc<dyn RegistryClient>,
    settings: ServiceSettings,
    /// The validation profile ITI-41 submissions are checked with before anything is stored
    /// or registered.
    profile: Arc<dyn Profile>,
    /// SubmissionSet uniqueIds whose registration is in flight in this process.
    in_flight: Mutex<HashSet<String>>,
}

impl Repository {
    pub fn new(
        store: Arc<dyn DocumentStore>,
        registry: Arc<dyn RegistryClient>,
        settings: ServiceSettings,
    ) -> Self {
        Self::with_profile(store, registry, settings, Arc::new(IheXdsB))
    }

    /// A repository validating submissions with `profile` (structural rules always apply).
    pub fn with_profile(
        store: Arc<dyn DocumentStore>,
        registry: Arc<dyn RegistryClient>,
        settings: ServiceSettings,
        profile: Arc<dyn Profile>,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                store,
                registry,
                settings,
                profile,
                in_flight: Mutex::new(HashSet::new()),
            }),
        }
    }

    pub fn profile(&self) -> &dyn Profile {
        &*self.inner.profile
    }

    pub fn store(&self) -> &Arc<dyn DocumentStore> {
        &self.inner.store
    }

    pub fn registry(&self) -> &Arc<dyn RegistryClient> {
        &self.inner.registry
    }

    pub fn settings(&self) -> &ServiceSettings {
        &self.inner.settings
    }

    /// The error for an ITI-43 or ITI-86 request naming another repository, if it does.
    fn foreign_repository(&self, request: &DocumentRequest) -> Option<RegistryError> {
        let ours = self.settings().repository_unique_id.as_str();
        (request.repository_unique_id != ours).then(|| {
            RegistryError::error(
                XdsErrorCode::UnknownRepositoryId,
                format!(
                    "repositoryUniqueId {} is not this repository ({ours})",
                    request.repository_unique_id
                ),
            )
            .at(request.document_unique_id.clone())
        })
    }

    /// Claims a submission set uniqueId for this process; `None` if it is already in flight.
    fn claim(&self, submission_set: &str) -> Option<Claim> {
        let mut in_flight = self
            .inner
            .in_flight
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        in_flight.insert(submission_set.to_owned()).then(|| Claim {
            repository: self.clone(),
            submission_set: submission_set.to_owned(),
        })
    }
}

/// A submission set uniqueId in flight; released on drop.
#[derive(Debug)]
struct Claim {
    repository: Repository,
    submission_set: String,
}

impl Drop for Claim {
    fn drop(&mut self) {
        self.repository
            .inner
            .in_flight
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(&self.submission_set);
    }
}
