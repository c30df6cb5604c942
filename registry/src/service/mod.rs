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
use xds::model::{
    AvailabilityStatus, Caller, Cx, Metadata, QueryResponse, RemoveMetadata, StoredQueryRequest,
};
use xds::validate::{Profile, Receiver, registry_errors, validate_submission, validate_update};

use crate::access::record::DmpCommand;
use crate::access::{self, AccessSettings, Denial, DmpRecord, Operation, Viewer};
use crate::audit::{AuditOutcome, AuditRecord, transaction_name};
use crate::identity::{IdentityCommand, IdentityPolicy, MessageKey, canonical};
use crate::store::{MetadataStore, PatientNum, StoreError, StoredObject};
pub use identity::Provenance;
pub use iti18::{QuerySettings, UnknownPatientAnswer};
pub use iti42::RegisterSettings;
use writer::{Audit, DmpReply, IdentityReply, Writer};
use xds::transaction::Transaction;

/// The registry: store, writer thread, profile and settings.
#[derive(Clone)]
pub struct Registry {
    store: Arc<dyn MetadataStore>,
    writer: Writer,
    profile: Arc<dyn Profile>,
    query: Arc<QuerySettings>,
    identity: Arc<IdentityPolicy>,
    access: Arc<AccessSettings>,
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
            access: Arc::new(AccessSettings {
                enforce: false,
                ..AccessSettings::default()
            }),
        })
    }

    /// The same registry under an access policy (the default is none: `start` serves plain
    /// IHE XDS.b).
    pub fn with_access(mut self, access: AccessSettings) -> Self {
        self.access = Arc::new(access);
        self
    }

    pub fn access(&self) -> &AccessSettings {
        &self.access
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

    /// ITI-42 for `caller` (`via`: ITI-41 when a repository forwards the provider's call):
    /// the submission must agree with the caller's assertion (patient, author structure or
    /// person) and the access policy must let the caller feed this patient's DMP. The audit
    /// record is written in the same batch as the submission, or alone when it is refused.
    pub async fn register_as(
        &self,
        caller: &Caller,
        metadata: Metadata,
        via: Transaction,
    ) -> RegistryResponse {
        let patient = metadata.patient().cloned();
        let audit = self
            .audit_draft(caller, via, "submit", patient.as_ref())
            .touching(&metadata);
        let mut errors = caller.check_submission(&metadata);
        if errors.is_empty() {
            match self.admission(caller, patient.as_ref(), Operation::Feed) {
                Ok(_) => errors = self.secret_session_errors(caller, &metadata),
                Err(error) => errors.push(error),
            }
        }
        if errors.is_empty() {
            errors = self.validate(&metadata);
        }
        if !errors.is_empty() {
            return self
                .refuse(patient, audit, RegistryResponse::from_errors(errors))
                .await;
        }
        let digest = submission_digest(&metadata);
        let audit = Audit {
            patient,
            record: audit,
        };
        match self.writer.register(metadata, digest, Some(audit)).await {
            Ok(response) => response,
            Err(error) => store_failure(&error),
        }
    }

    /// ITI-57 for `caller` (same checks as [`Registry::register_as`], and the access policy's
    /// update rules).
    pub async fn update_as(&self, caller: &Caller, metadata: Metadata) -> RegistryResponse {
        let patient = metadata.patient().cloned();
        let audit = self
            .audit_draft(
                caller,
                Transaction::Iti57,
                update_action(&metadata),
                patient.as_ref(),
            )
            .touching(&metadata);
        let mut errors = caller.check_submission(&metadata);
        let mut rules: Option<Arc<dyn iti57::LifecyclePolicy>> = None;
        if errors.is_empty() {
            match self.admission(caller, patient.as_ref(), Operation::Update) {
                Ok(admitted) => {
                    rules = Some(Arc::new(access::CallerLifecycle {
                        viewer: admitted.viewer,
                        settings: Arc::clone(&self.access),
                    }));
                }
                Err(error) => errors.push(error),
            }
        }
        if errors.is_empty() {
            errors = registry_errors(&validate_update(&metadata, &*self.profile));
        }
        if !errors.is_empty() {
            return self
                .refuse(patient, audit, RegistryResponse::from_errors(errors))
                .await;
        }
        let audit = Audit {
            patient,
            record: audit,
        };
        match self
            .writer
            .update(metadata, Arc::clone(&self.profile), rules, Some(audit))
            .await
        {
            Ok(response) => response,
            Err(error) => store_failure(&error),
        }
    }

    /// ITI-18 for `caller` (`via`: ITI-43 when a repository asks which documents its caller
    /// may retrieve): a query naming a patient must name the assertion's; the access policy
    /// admits the caller and hides what it must not see. The audit record (with the entries
    /// answered) is durable before the answer leaves.
    pub async fn query_as(
        &self,
        caller: &Caller,
        request: StoredQueryRequest,
        via: Transaction,
    ) -> QueryResponse {
        let named = request.query.patient().cloned();
        let action = format!("{:?}", request.query.id());
        let patient = named.clone().or_else(|| {
            caller
                .assertion
                .as_ref()
                .and_then(|assertion| assertion.patient.clone())
        });
        let mut audit = self.audit_draft(caller, via, &action, patient.as_ref());
        let admitted = match named.as_ref().map(|named| caller.check_patient(named)) {
            Some(Err(error)) => Err(error),
            _ => self.admission(caller, patient.as_ref(), Operation::Consult),
        };
        let admitted = admitted.and_then(|admitted| match admitted.viewer {
            Viewer::System if request.return_type != xds::model::ReturnType::ObjectRef => {
                Err(RegistryError::error(
                    XdsErrorCode::RegistryError,
                    format!(
                        "{}: without an assertion only identifiers (ObjectRef) are answered",
                        access::ACCESS_NOT_AUTHORISED
                    ),
                ))
            }
            _ => Ok(admitted),
        });
        let admitted = match admitted {
            Ok(admitted) => admitted,
            Err(error) => {
                let response = RegistryResponse::from_errors(vec![error]);
                let response = self.refuse(patient, audit, response).await;
                return QueryResponse {
                    response,
                    metadata: Metadata::default(),
                };
            }
        };
        let filter = admitted.filter(&self.access);
        let response = self.run_query(request, filter).await;
        audit = audit.touching(&response.metadata);
        audit.outcome = AuditOutcome::of(&response.response);
        // A lookup naming no patient (by uniqueId, by UUID) is filed under the patient of
        // what it found, so that it shows in that patient's history.
        let patient = patient.or_else(|| {
            let found = response.metadata.patient().cloned();
            audit.patient = found.as_ref().map(ToString::to_string);
            found
        });
        match self
            .writer
            .audit(Audit {
                patient,
                record: audit,
            })
            .await
        {
            Ok(_) => response,
            Err(error) => QueryResponse {
                response: audit_failure(&error),
                metadata: Metadata::default(),
            },
        }
    }

    /// A DMP management command from the network (setAuthorization, patient or operator
    /// consoles). `operation` is what the caller must be admitted for; operators (configured
    /// certificates) are admitted for any patient. Audited like every transaction.
    pub async fn dmp_as(
        &self,
        caller: &Caller,
        patient: &Cx,
        command: DmpCommand,
    ) -> Result<DmpRecord, RegistryError> {
        let mut audit = AuditRecord::draft(caller, "DMP-manage", command.name(), Some(patient));
        let operator = access::is_operator(&self.access, caller);
        if !operator {
            let checked = caller.check_patient(patient).and_then(|()| {
                let allowed = match (
                    &command,
                    self.admission(caller, Some(patient), Operation::Manage)?
                        .viewer,
                ) {
                    // Professional software declares (or withdraws) its own authorisation.
                    (
                        DmpCommand::Authorise { name_id } | DmpCommand::Revoke { name_id },
                        Viewer::Professional(professional),
                    ) => *name_id == professional.name_id,
                    // The patient manages their own DMP (not a legal representative closing it).
                    (
                        DmpCommand::Close { .. } | DmpCommand::Open,
                        Viewer::Patient { representative },
                    ) => !representative,
                    (_, Viewer::Patient { .. } | Viewer::Unrestricted) => true,
                    _ => false,
                };
                if allowed {
                    Ok(())
                } else {
                    Err(Denial::to_error(&access::management_denied(command.name())))
                }
            });
            if let Err(error) = checked {
                audit.outcome =
                    AuditOutcome::of(&RegistryResponse::from_errors(vec![error.clone()]));
                return match self
                    .writer
                    .audit(Audit {
                        patient: Some(patient.clone()),
                        record: audit,
                    })
                    .await
                {
                    Ok(_) => Err(error),
                    Err(store) => Err(audit_failure(&store).errors.remove(0)),
                };
            }
        }
        self.dmp_command(patient, command, audit).await
    }

    /// Applies a DMP command with its audit record (operator CLI and [`Registry::dmp_as`]).
    async fn dmp_command(
        &self,
        patient: &Cx,
        command: DmpCommand,
        audit: AuditRecord,
    ) -> Result<DmpRecord, RegistryError> {
        let audit = Audit {
            patient: Some(patient.clone()),
            record: audit,
        };
        command_answer(self.writer.dmp(patient.clone(), command, audit).await)
    }

    /// A DMP command from the operator's command line (audited as the operator).
    pub fn dmp_blocking(
        &self,
        patient: &Cx,
        command: DmpCommand,
        operator: &str,
    ) -> Result<DmpRecord, RegistryError> {
        let mut audit = AuditRecord::draft(
            &Caller::anonymous(),
            "DMP-manage",
            command.name(),
            Some(patient),
        );
        audit.name_id = operator.to_owned();
        audit.dmp_transaction = "TD0".to_owned();
        let audit = Audit {
            patient: Some(patient.clone()),
            record: audit,
        };
        command_answer(self.writer.dmp_blocking(patient.clone(), command, audit))
    }

    /// The DMP record of a patient (None: no DMP, or unknown patient).
    pub fn dmp_record(&self, patient: &Cx) -> Result<Option<DmpRecord>, StoreError> {
        match self.store.patient(patient)? {
            Some(number) => self.store.dmp_record(number),
            None => Ok(None),
        }
    }

    /// A page of a patient's access history, newest first: records with ids below `before`,
    /// at most `limit`. A legal representative does not see the connexion-secrète records.
    pub fn history(
        &self,
        patient: &Cx,
        before: Option<u64>,
        limit: usize,
        representative: bool,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        let Some(number) = self.store.patient(patient)? else {
            return Ok(Vec::new());
        };
        let mut page = Vec::new();
        let mut cursor = before;
        while page.len() < limit {
            let batch = self.store.audit_records(Some(number), cursor, limit)?;
            let Some(last) = batch.last() else { break };
            cursor = Some(last.id);
            let full = batch.len() == limit;
            page.extend(
                batch
                    .into_iter()
                    .filter(|record| !(representative && record.secret)),
            );
            if !full {
                break;
            }
        }
        page.truncate(limit);
        Ok(page)
    }

    /// The patient-facing access history over the network: the patient (portal), an operator,
    /// or anyone when no policy applies. A legal representative does not see the
    /// connexion-secrète records.
    pub async fn history_as(
        &self,
        caller: &Caller,
        patient: &Cx,
        before: Option<u64>,
        limit: usize,
    ) -> Result<Vec<AuditRecord>, RegistryError> {
        self.patient_read(caller, patient, "history", |representative| {
            self.history(patient, before, limit, representative)
        })
        .await
    }

    /// The DMP record over the network, for the same callers as the history (None: no DMP).
    pub async fn dmp_show_as(
        &self,
        caller: &Caller,
        patient: &Cx,
    ) -> Result<Option<DmpRecord>, RegistryError> {
        self.patient_read(caller, patient, "show", |_| self.dmp_record(patient))
            .await
    }

    /// A read of the patient's own data (history, DMP state): admitted for the patient's
    /// portal, an operator console, or anyone without policy; audited.
    async fn patient_read<T>(
        &self,
        caller: &Caller,
        patient: &Cx,
        action: &str,
        read: impl FnOnce(bool) -> Result<T, StoreError>,
    ) -> Result<T, RegistryError> {
        let mut audit = AuditRecord::draft(caller, "DMP-manage", action, Some(patient));
        let representative = if access::is_operator(&self.access, caller) {
            Ok(false)
        } else {
            caller.check_patient(patient).and_then(|()| {
                match self
                    .admission(caller, Some(patient), Operation::Manage)?
                    .viewer
                {
                    Viewer::Patient { representative } => Ok(representative),
                    Viewer::Unrestricted => Ok(false),
                    _ => Err(access::management_denied(action).to_error()),
                }
            })
        };
        let result = representative.and_then(|representative| {
            read(representative).map_err(|error| audit_failure(&error).errors.remove(0))
        });
        audit.outcome = match &result {
            Ok(_) => AuditOutcome::Success,
            Err(error) => AuditOutcome::of(&RegistryResponse::from_errors(vec![error.clone()])),
        };
        self.writer
            .audit(Audit {
                patient: Some(patient.clone()),
                record: audit,
            })
            .await
            .map_err(|error| audit_failure(&error).errors.remove(0))?;
        result
    }

    /// Removes records delivered to the audit repository from the outbox (durable when it
    /// returns).
    pub async fn outbox_sent(&self, ids: Vec<u64>) -> Result<(), StoreError> {
        self.writer.outbox_sent(ids).await
    }

    /// Writes the audit record of a transaction refused before the writer (durable when it
    /// returns) and answers the refusal.
    async fn refuse(
        &self,
        patient: Option<Cx>,
        mut audit: AuditRecord,
        response: RegistryResponse,
    ) -> RegistryResponse {
        audit.outcome = AuditOutcome::of(&response);
        match self
            .writer
            .audit(Audit {
                patient,
                record: audit,
            })
            .await
        {
            Ok(_) => response,
            Err(error) => audit_failure(&error),
        }
    }

    fn audit_draft(
        &self,
        caller: &Caller,
        transaction: Transaction,
        action: &str,
        patient: Option<&Cx>,
    ) -> AuditRecord {
        AuditRecord::draft(caller, transaction_name(transaction), action, patient)
    }

    /// The access decision for `caller` on `patient`'s DMP.
    fn admission(
        &self,
        caller: &Caller,
        patient: Option<&Cx>,
        operation: Operation,
    ) -> Result<Admitted, RegistryError> {
        if !self.access.enforce {
            return Ok(Admitted {
                viewer: Viewer::Unrestricted,
                patients: Vec::new(),
            });
        }
        let number = match patient {
            Some(patient) => self
                .store
                .patient(patient)
                .map_err(|error| audit_failure(&error).errors.remove(0))?,
            None => None,
        };
        // A subsumed id's documents now belong to the surviving patient.
        let number = match number {
            Some(number) => Some(
                self.store
                    .surviving(number)
                    .map_err(|error| audit_failure(&error).errors.remove(0))?
                    .unwrap_or(number),
            ),
            None => None,
        };
        let record = match number {
            Some(number) => self
                .store
                .dmp_record(number)
                .map_err(|error| audit_failure(&error).errors.remove(0))?,
            None => None,
        };
        let viewer = access::admit(&self.access, caller, record.as_ref(), operation)
            .map_err(|denial| denial.to_error())?;
        let patients = match number {
            Some(number) => self
                .patient_ids(number)
                .map_err(|error| audit_failure(&error).errors.remove(0))?,
            None => Vec::new(),
        };
        Ok(Admitted { viewer, patients })
    }

    /// The canonical ids filed under a patient: its own and every id merged into it.
    fn patient_ids(&self, number: PatientNum) -> Result<Vec<Cx>, StoreError> {
        let mut ids = Vec::new();
        for number in std::iter::once(number).chain(self.store.merged_into(number)?) {
            if let Some(id) = self.store.patient_id(number)? {
                ids.push(canonical(&id));
            }
        }
        Ok(ids)
    }

    /// dmp-profile.md §8 rule 44: in a connexion-secrète session every submitted DocumentEntry
    /// carries INVISIBLE_REPRESENTANTS_LEGAUX.
    fn secret_session_errors(&self, caller: &Caller, metadata: &Metadata) -> Vec<RegistryError> {
        let secret = caller.assertion.as_ref().is_some_and(|assertion| {
            assertion.confidentiality.as_deref() == Some(access::INVISIBLE_REPRESENTANTS_LEGAUX)
        });
        if !secret || !self.access.enforce {
            return Vec::new();
        }
        metadata
            .document_entries
            .iter()
            .filter(|entry| {
                !entry
                    .confidentiality_codes
                    .iter()
                    .any(|code| code.code == access::INVISIBLE_REPRESENTANTS_LEGAUX)
            })
            .map(|entry| {
                RegistryError::error(
                    XdsErrorCode::RegistryMetadataError,
                    format!(
                        "{}: a connexion-secrète session submits only documents flagged INVISIBLE_REPRESENTANTS_LEGAUX",
                        access::ACCESS_NOT_AUTHORISED
                    ),
                )
                .at(entry.entry_uuid.to_string())
            })
            .collect()
    }

    /// ITI-42 Register Document Set-b. The answer is sent once the submission is durable.
    pub async fn register(&self, metadata: Metadata) -> RegistryResponse {
        let errors = self.validate(&metadata);
        if !errors.is_empty() {
            return RegistryResponse::from_errors(errors);
        }
        let digest = submission_digest(&metadata);
        match self.writer.register(metadata, digest, None).await {
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
            .update(metadata, Arc::clone(&self.profile), None, None)
            .await
        {
            Ok(response) => response,
            Err(error) => store_failure(&error),
        }
    }

    /// ITI-62 for `caller`: audited like every transaction. Under the DMP policy metadata is
    /// never removed (dmp-profile.md §8 rule 46: deletion is logical, through ITI-57), except by
    /// an operator console.
    pub async fn remove_as(&self, caller: &Caller, request: RemoveMetadata) -> RegistryResponse {
        // Filed under the patient of the first object named, when there is one.
        let patient = request
            .object_refs
            .first()
            .and_then(|uuid| self.store.object(uuid).ok().flatten())
            .and_then(|located| self.store.patient_id(located.patient).ok().flatten());
        let mut audit = self.audit_draft(caller, Transaction::Iti62, "remove", patient.as_ref());
        audit.entry_uuids = request
            .object_refs
            .iter()
            .map(ToString::to_string)
            .collect();
        if self.access.enforce && !access::is_operator(&self.access, caller) {
            let refusal = RegistryResponse::from_errors(vec![RegistryError::error(
                XdsErrorCode::RegistryError,
                format!(
                    "{}: the DMP never removes metadata (documents are deleted logically with ITI-57)",
                    access::ACCESS_NOT_AUTHORISED
                ),
            )]);
            return self.refuse(patient, audit, refusal).await;
        }
        let audit = Audit {
            patient,
            record: audit,
        };
        match self.writer.remove(request, Some(audit)).await {
            Ok(response) => response,
            Err(error) => store_failure(&error),
        }
    }

    /// ITI-62 Remove Metadata: all or nothing, answered once durable.
    pub async fn remove_metadata(&self, request: RemoveMetadata) -> RegistryResponse {
        match self.writer.remove(request, None).await {
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
        self.run_query(request, None).await
    }

    /// Runs a stored query on a blocking thread, seeing what `filter` lets through.
    async fn run_query(
        &self,
        request: StoredQueryRequest,
        filter: Option<iti18::Filter>,
    ) -> QueryResponse {
        let store = Arc::clone(&self.store);
        let settings = Arc::clone(&self.query);
        match tokio::task::spawn_blocking(move || {
            iti18::run_filtered(&*store, &request, &settings, filter)
        })
        .await
        {
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

/// A caller admitted by the access policy: how it sees, and the ids of its patient.
#[derive(Debug, Clone)]
struct Admitted {
    viewer: Viewer,
    /// Canonical ids of the admitted patient (empty: no patient scope).
    patients: Vec<Cx>,
}

impl Admitted {
    /// The visibility filter of the stored queries (None: everything not deleted).
    fn filter(self, settings: &Arc<AccessSettings>) -> Option<iti18::Filter> {
        if matches!(self.viewer, Viewer::Unrestricted) {
            return None;
        }
        let settings = Arc::clone(settings);
        let Admitted { viewer, patients } = self;
        let in_scope = move |id: Option<&Cx>| {
            id.is_some_and(|id| {
                let id = canonical(id);
                patients.contains(&id)
            })
        };
        Some(Arc::new(move |object: &StoredObject| match object {
            StoredObject::DocumentEntry(entry) => {
                in_scope(entry.patient_id.as_ref()) && viewer.sees(&settings, entry)
            }
            StoredObject::SubmissionSet(_) | StoredObject::Folder(_) => {
                in_scope(object.patient_id())
            }
            StoredObject::Association(_) => true,
        }))
    }
}

/// The audit action of an ITI-57 submission: the status change it asks, or a metadata update.
fn update_action(metadata: &Metadata) -> &'static str {
    let new_status = metadata
        .associations
        .iter()
        .find_map(|association| association.new_status.as_ref());
    match new_status {
        Some(AvailabilityStatus::Deleted) => "delete",
        Some(AvailabilityStatus::Archived) => "archive",
        Some(AvailabilityStatus::Approved) => "unarchive",
        _ => "update",
    }
}

/// The answer when the audit record could not be written: nothing was done.
fn audit_failure(error: &StoreError) -> RegistryResponse {
    tracing::error!(error = %error.message, "audit record not written");
    RegistryResponse::from_errors(vec![RegistryError::error(
        XdsErrorCode::RegistryError,
        "the registry could not record the access; nothing was done, try again",
    )])
}

/// The answer of a DMP command.
fn command_answer(reply: DmpReply) -> Result<DmpRecord, RegistryError> {
    match reply {
        Ok(Ok(record)) => Ok(record),
        Ok(Err(error)) => Err(RegistryError::error(
            match error {
                access::record::CommandError::NoDmp => XdsErrorCode::UnknownPatientId,
                _ => XdsErrorCode::RegistryError,
            },
            match error {
                access::record::CommandError::NoDmp => {
                    format!("{}: {error}", access::DMP_NOT_FOUND)
                }
                access::record::CommandError::Closed => {
                    format!("{}: {error}", access::DMP_CLOSED)
                }
                _ => error.to_string(),
            },
        )),
        Err(error) => Err(audit_failure(&error).errors.remove(0)),
    }
}
