//! The registry's services: what the SOAP adapter (and later gRPC) calls, with model types in
//! and out. ITI-42 goes through the single writer (`writer`), ITI-18 reads the store directly
//! on a blocking thread.

pub mod identity;
pub mod iti18;
pub mod iti42;
pub mod iti57;
pub mod iti62;
pub mod writer;

use std::sync::Arc;

use sha1::{Digest, Sha1};
use xds::XdsErrorCode;
use xds::error::{RegistryError, RegistryResponse};
use xds::model::{Caller, Cx, Metadata, QueryResponse, RemoveMetadata, StoredQueryRequest};
use xds::validate::{Profile, Receiver, registry_errors, validate_submission, validate_update};

use crate::identity::{IdentityCommand, IdentityPolicy, MessageKey};
use crate::store::{MetadataStore, StoreError};
pub use identity::Provenance;
pub use iti18::{QuerySettings, UnknownPatientAnswer};
pub use iti42::RegisterSettings;
use writer::{IdentityReply, Writer};

/// The registry: store, writer thread, profile and settings.
#[derive(Clone)]
pub struct Registry {
    store: Arc<dyn MetadataStore>,
    writer: Writer,
    profile: Arc<dyn Profile>,
    query: Arc<QuerySettings>,
    identity: Arc<IdentityPolicy>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("profile", &self.profile.name())
            .finish_non_exhaustive()
    }
}

/// The SHA-1 of a submission's canonical encoding: a retry with the same SubmissionSet
/// uniqueId and the same digest is the same submission.
pub fn submission_digest(metadata: &Metadata) -> [u8; 20] {
    let mut hasher = Sha1::new();
    // postcard writes into a Vec only fails for types serde cannot encode, which the model
    // does not have; an empty digest input would still make retries compare equal.
    if let Ok(bytes) = postcard::to_allocvec(metadata) {
        hasher.update(&bytes);
    }
    hasher.finalize().into()
}

fn store_failure(error: &StoreError) -> RegistryResponse {
    tracing::error!(error = %error.message, "registry store failure");
    RegistryResponse::from_errors(vec![RegistryError::error(
        XdsErrorCode::RegistryError,
        "the registry could not store the submission; nothing was registered, try again",
    )])
}

impl Registry {
    /// Starts the writer thread over a store.
    pub fn start(
        store: Arc<dyn MetadataStore>,
        profile: Arc<dyn Profile>,
        register: RegisterSettings,
        query: QuerySettings,
    ) -> std::io::Result<Self> {
        let identity = Arc::clone(&register.identity);
        let writer = Writer::start(Arc::clone(&store), register)?;
        Ok(Self {
            store,
            writer,
            profile,
            query: Arc::new(query),
            identity,
        })
    }

    /// Closes this handle; the last one stops the writer after its pending work.
    pub fn close(self) {
        self.writer.close();
    }

    pub fn profile(&self) -> &dyn Profile {
        &*self.profile
    }

    pub fn store(&self) -> &Arc<dyn MetadataStore> {
        &self.store
    }

    /// Checks a submission without registry state (structure, profile); empty when valid.
    pub fn validate(&self, metadata: &Metadata) -> Vec<RegistryError> {
        registry_errors(&validate_submission(
            metadata,
            Receiver::Registry,
            &*self.profile,
        ))
    }

    /// ITI-42 for `caller`: the submission must agree with the caller's assertion (patient,
    /// author structure or person) before anything else.
    pub async fn register_as(&self, caller: &Caller, metadata: Metadata) -> RegistryResponse {
        let errors = caller.check_submission(&metadata);
        if !errors.is_empty() {
            return RegistryResponse::from_errors(errors);
        }
        self.register(metadata).await
    }

    /// ITI-57 for `caller` (same checks as [`Registry::register_as`]).
    pub async fn update_as(&self, caller: &Caller, metadata: Metadata) -> RegistryResponse {
        let errors = caller.check_submission(&metadata);
        if !errors.is_empty() {
            return RegistryResponse::from_errors(errors);
        }
        self.update(metadata).await
    }

    /// ITI-18 for `caller`: a query naming a patient must name the assertion's.
    pub async fn query_as(&self, caller: &Caller, request: StoredQueryRequest) -> QueryResponse {
        if let Some(Err(error)) = request
            .query
            .patient()
            .map(|patient| caller.check_patient(patient))
        {
            return QueryResponse {
                response: RegistryResponse::from_errors(vec![error]),
                metadata: Metadata::default(),
            };
        }
        self.query(request).await
    }

    /// ITI-42 Register Document Set-b. The answer is sent once the submission is durable.
    pub async fn register(&self, metadata: Metadata) -> RegistryResponse {
        let errors = self.validate(&metadata);
        if !errors.is_empty() {
            return RegistryResponse::from_errors(errors);
        }
        let digest = submission_digest(&metadata);
        match self.writer.register(metadata, digest).await {
            Ok(response) => response,
            Err(error) => store_failure(&error),
        }
    }

    /// ITI-57 Update Document Set (availability-status changes): checked like a submission
    /// (structure, profile), then applied atomically by the writer, answered once durable.
    pub async fn update(&self, metadata: Metadata) -> RegistryResponse {
        let errors = registry_errors(&validate_update(&metadata, &*self.profile));
        if !errors.is_empty() {
            return RegistryResponse::from_errors(errors);
        }
        match self
            .writer
            .update(metadata, Arc::clone(&self.profile))
            .await
        {
            Ok(response) => response,
            Err(error) => store_failure(&error),
        }
    }

    /// ITI-62 Remove Metadata: all or nothing, answered once durable.
    pub async fn remove_metadata(&self, request: RemoveMetadata) -> RegistryResponse {
        match self.writer.remove(request).await {
            Ok(response) => response,
            Err(error) => store_failure(&error),
        }
    }

    /// ITI-42 from a plain thread (bulk import).
    pub fn register_blocking(&self, metadata: Metadata) -> RegistryResponse {
        let errors = self.validate(&metadata);
        if !errors.is_empty() {
            return RegistryResponse::from_errors(errors);
        }
        let digest = submission_digest(&metadata);
        match self.writer.register_blocking(metadata, digest) {
            Ok(response) => response,
            Err(error) => store_failure(&error),
        }
    }

    /// Queues a submission for a pipelined bulk load; the receiver gets its answer. Validation
    /// failures answer at once.
    pub fn submit(&self, metadata: Metadata) -> tokio::sync::oneshot::Receiver<writer::Reply> {
        let errors = self.validate(&metadata);
        if !errors.is_empty() {
            let (reply, answer) = tokio::sync::oneshot::channel();
            let _ = reply.send(Ok(RegistryResponse::from_errors(errors)));
            return answer;
        }
        let digest = submission_digest(&metadata);
        match self.writer.submit(metadata, digest) {
            Ok(answer) => answer,
            Err(error) => {
                let (reply, answer) = tokio::sync::oneshot::channel();
                let _ = reply.send(Err(error));
                answer
            }
        }
    }

    /// ITI-18 Registry Stored Query.
    pub async fn query(&self, request: StoredQueryRequest) -> QueryResponse {
        let store = Arc::clone(&self.store);
        let settings = Arc::clone(&self.query);
        match tokio::task::spawn_blocking(move || iti18::run(&*store, &request, &settings)).await {
            Ok(response) => response,
            Err(error) => {
                tracing::error!(%error, "stored query task failed");
                QueryResponse {
                    response: RegistryResponse::from_errors(vec![RegistryError::error(
                        XdsErrorCode::RegistryError,
                        "the query could not be completed",
                    )]),
                    metadata: Metadata::default(),
                }
            }
        }
    }

    /// ITI-18 from the calling thread.
    pub fn query_blocking(&self, request: &StoredQueryRequest) -> QueryResponse {
        iti18::run(&*self.store, request, &self.query)
    }

    /// The identity policy submissions are checked with (the feed and operator commands use
    /// the same).
    pub fn identity_policy(&self) -> &IdentityPolicy {
        &self.identity
    }

    /// Applies an identity command (ITI-8 feed, operator commands); durable when it returns.
    pub async fn identity(
        &self,
        command: IdentityCommand,
        message: Option<MessageKey>,
        provenance: Provenance,
    ) -> IdentityReply {
        self.writer.identity(command, message, provenance).await
    }

    /// Same as [`Registry::identity`] from a plain thread.
    pub fn identity_blocking(
        &self,
        command: IdentityCommand,
        message: Option<MessageKey>,
        provenance: Provenance,
    ) -> IdentityReply {
        self.writer.identity_blocking(command, message, provenance)
    }

    /// Registers patient ids as given, without the identity policy (tests, migrations).
    pub async fn add_patients(&self, ids: Vec<Cx>) -> Result<(), StoreError> {
        self.writer.add_patients(ids).await
    }

    /// Same as [`Registry::add_patients`] from a plain thread, without the identity policy.
    pub fn add_patients_blocking(&self, ids: Vec<Cx>) -> Result<(), StoreError> {
        self.writer.add_patients_blocking(ids)
    }
}
