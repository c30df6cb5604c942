//! The single writer: every change to the registry goes through one thread, so the checks of a
//! submission (uniqueIds, UUIDs, replacement targets) see every earlier submission and no two
//! submissions race. Group commit: the writer applies the submissions waiting in its queue one
//! after the other without syncing, then syncs the write-ahead log once and only then answers
//! them all. An answer is therefore never sent before its submission is durable, and one fsync
//! serves many concurrent submitters.

use std::sync::Arc;
use std::sync::mpsc;
use std::thread;

use xds::XdsErrorCode;
use xds::error::{RegistryError, RegistryResponse};
use xds::model::{Cx, Dtm, Metadata, RemoveMetadata};

use super::identity::{self, Provenance};
use super::iti42::{self, RegisterError, RegisterSettings, Registered};
use super::iti57::LifecyclePolicy;
use super::{iti57, iti62};
use crate::access::DmpRecord;
use crate::access::record::{CommandError, DmpCommand};
use crate::audit::{AuditOutcome, AuditRecord};
use crate::identity::canonical;
use crate::identity::{IdentityCommand, IdentityOutcome, MessageKey};
use crate::store::PatientNum;
use crate::store::{ChangeSet, MetadataStore, StoreError};
use xds::validate::Profile;

/// Most submissions applied before one sync.
const MAX_GROUP: usize = 256;

/// What the writer answers for one submission.
pub type Reply = Result<RegistryResponse, StoreError>;

/// What the writer answers for one identity command.
pub type IdentityReply = Result<IdentityOutcome, StoreError>;

/// What the writer answers for one DMP command: the record after it, or why it does not apply.
pub type DmpReply = Result<Result<DmpRecord, CommandError>, StoreError>;

/// An audit record to write with a transaction, and the patient it is filed under.
#[derive(Debug, Clone)]
pub struct Audit {
    pub patient: Option<Cx>,
    pub record: AuditRecord,
}

enum Job {
    Register {
        metadata: Metadata,
        digest: [u8; 20],
        audit: Option<Audit>,
        reply: tokio::sync::oneshot::Sender<Reply>,
    },
    AddPatients {
        ids: Vec<Cx>,
        reply: tokio::sync::oneshot::Sender<Reply>,
    },
    Remove {
        request: RemoveMetadata,
        audit: Option<Audit>,
        reply: tokio::sync::oneshot::Sender<Reply>,
    },
    Update {
        metadata: Metadata,
        profile: Arc<dyn Profile>,
        /// The caller's lifecycle rules, checked after the registry's own.
        caller: Option<Arc<dyn LifecyclePolicy>>,
        audit: Option<Audit>,
        reply: tokio::sync::oneshot::Sender<Reply>,
    },
    /// An audit record alone (queries, retrievals, refusals before any change).
    Audit {
        audit: Audit,
        reply: tokio::sync::oneshot::Sender<Result<u64, StoreError>>,
    },
    Dmp {
        patient: Cx,
        command: DmpCommand,
        audit: Audit,
        reply: tokio::sync::oneshot::Sender<DmpReply>,
    },
    /// Outbox entries delivered to the audit repository.
    OutboxSent {
        ids: Vec<u64>,
        reply: tokio::sync::oneshot::Sender<Result<(), StoreError>>,
    },
    Identity {
        command: IdentityCommand,
        message: Option<MessageKey>,
        provenance: Provenance,
        reply: tokio::sync::oneshot::Sender<IdentityReply>,
    },
}

/// A job's result before the group's sync, and whether it wrote to the store (its answer
/// then waits for the sync).
enum Done {
    Registry(Reply, bool),
    Identity(IdentityReply),
    Audit(Result<u64, StoreError>),
    Dmp(DmpReply),
    Sent(Result<(), StoreError>),
}

impl Done {
    fn changed(&self) -> bool {
        match self {
            Self::Registry(Ok(response), wrote) => *wrote || response.errors.is_empty(),
            Self::Identity(Ok(outcome)) => outcome.is_applied(),
            Self::Audit(Ok(_)) | Self::Dmp(Ok(_)) | Self::Sent(Ok(())) => true,
            _ => false,
        }
    }

    /// The same job failed by the group's sync.
    fn failed(self, error: &StoreError) -> Self {
        match self {
            Self::Registry(..) => Self::Registry(Err(copy(error)), false),
            Self::Identity(_) => Self::Identity(Err(copy(error))),
            Self::Audit(_) => Self::Audit(Err(copy(error))),
            Self::Dmp(_) => Self::Dmp(Err(copy(error))),
            Self::Sent(_) => Self::Sent(Err(copy(error))),
        }
    }
}

/// Handle to the writer thread. Dropping every handle stops the thread after it has answered
/// what it holds.
#[derive(Debug, Clone)]
pub struct Writer {
    jobs: mpsc::Sender<Job>,
    thread: Arc<std::sync::Mutex<Option<thread::JoinHandle<()>>>>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job").finish_non_exhaustive()
    }
}

impl Writer {
    /// Starts the writer thread.
    pub fn start(
        store: Arc<dyn MetadataStore>,
        settings: RegisterSettings,
    ) -> std::io::Result<Self> {
        let (jobs, queue) = mpsc::channel::<Job>();
        let thread = thread::Builder::new()
            .name("registry-writer".to_owned())
            .spawn(move || run(&*store, &settings, &queue))?;
        Ok(Self {
            jobs,
            thread: Arc::new(std::sync::Mutex::new(Some(thread))),
        })
    }

    /// Stops the writer once every handle is closed: this one is dropped, and when it was the
    /// last, the thread is joined after answering what it holds (so the store can close).
    pub fn close(self) {
        let thread = Arc::clone(&self.thread);
        drop(self);
        if Arc::strong_count(&thread) == 1
            && let Some(handle) = thread.lock().ok().and_then(|mut slot| slot.take())
        {
            let _ = handle.join();
        }
    }

    fn send(&self, job: Job) -> Result<(), StoreError> {
        self.jobs.send(job).map_err(|_| stopped())
    }

    /// Queues a job built around the sender of its answer; returns the receiver.
    fn request<T>(
        &self,
        job: impl FnOnce(tokio::sync::oneshot::Sender<T>) -> Job,
    ) -> Result<tokio::sync::oneshot::Receiver<T>, StoreError> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.send(job(reply))?;
        Ok(answer)
    }

    fn send_register(
        &self,
        metadata: Metadata,
        digest: [u8; 20],
        audit: Option<Audit>,
    ) -> Result<tokio::sync::oneshot::Receiver<Reply>, StoreError> {
        self.request(|reply| Job::Register {
            metadata,
            digest,
            audit,
            reply,
        })
    }

    /// Writes an audit record alone; resolves with its id once it is durable.
    pub async fn audit(&self, audit: Audit) -> Result<u64, StoreError> {
        self.request(|reply| Job::Audit { audit, reply })?
            .await
            .unwrap_or_else(|_| Err(stopped()))
    }

    fn send_dmp(
        &self,
        patient: Cx,
        command: DmpCommand,
        audit: Audit,
    ) -> Result<tokio::sync::oneshot::Receiver<DmpReply>, StoreError> {
        self.request(|reply| Job::Dmp {
            patient,
            command,
            audit,
            reply,
        })
    }

    /// Applies a DMP command (with its audit record); resolves once durable.
    pub async fn dmp(&self, patient: Cx, command: DmpCommand, audit: Audit) -> DmpReply {
        self.send_dmp(patient, command, audit)?
            .await
            .unwrap_or_else(|_| Err(stopped()))
    }

    /// Same as [`Writer::dmp`] from a plain thread.
    pub fn dmp_blocking(&self, patient: Cx, command: DmpCommand, audit: Audit) -> DmpReply {
        self.send_dmp(patient, command, audit)?
            .blocking_recv()
            .unwrap_or_else(|_| Err(stopped()))
    }

    /// Removes delivered records from the outbox; resolves once durable.
    pub async fn outbox_sent(&self, ids: Vec<u64>) -> Result<(), StoreError> {
        self.request(|reply| Job::OutboxSent { ids, reply })?
            .await
            .unwrap_or_else(|_| Err(stopped()))
    }

    fn send_add_patients(
        &self,
        ids: Vec<Cx>,
    ) -> Result<tokio::sync::oneshot::Receiver<Reply>, StoreError> {
        self.request(|reply| Job::AddPatients { ids, reply })
    }

    fn send_identity(
        &self,
        command: IdentityCommand,
        message: Option<MessageKey>,
        provenance: Provenance,
    ) -> Result<tokio::sync::oneshot::Receiver<IdentityReply>, StoreError> {
        self.request(|reply| Job::Identity {
            command,
            message,
            provenance,
            reply,
        })
    }

    /// Registers a validated submission; resolves once it is durable (or refused). The audit
    /// record, when given, is written in the same batch with the outcome.
    pub async fn register(
        &self,
        metadata: Metadata,
        digest: [u8; 20],
        audit: Option<Audit>,
    ) -> Reply {
        self.send_register(metadata, digest, audit)?
            .await
            .unwrap_or_else(|_| Err(stopped()))
    }

    /// Same as [`Writer::register`] from a thread outside the async runtime.
    pub fn register_blocking(&self, metadata: Metadata, digest: [u8; 20]) -> Reply {
        self.send_register(metadata, digest, None)?
            .blocking_recv()
            .unwrap_or_else(|_| Err(stopped()))
    }

    /// Queues a submission and returns the receiver of its answer (pipelined bulk loads).
    pub fn submit(
        &self,
        metadata: Metadata,
        digest: [u8; 20],
    ) -> Result<tokio::sync::oneshot::Receiver<Reply>, StoreError> {
        self.send_register(metadata, digest, None)
    }

    /// ITI-57: applies status changes; resolves once they are durable (or refused).
    pub async fn update(
        &self,
        metadata: Metadata,
        profile: Arc<dyn Profile>,
        caller: Option<Arc<dyn LifecyclePolicy>>,
        audit: Option<Audit>,
    ) -> Reply {
        self.request(|reply| Job::Update {
            metadata,
            profile,
            caller,
            audit,
            reply,
        })?
        .await
        .unwrap_or_else(|_| Err(stopped()))
    }

    /// ITI-62: removes objects; resolves once the removal is durable (or refused).
    pub async fn remove(&self, request: RemoveMetadata, audit: Option<Audit>) -> Reply {
        self.request(|reply| Job::Remove {
            request,
            audit,
            reply,
        })?
        .await
        .unwrap_or_else(|_| Err(stopped()))
    }

    /// Registers patient ids (durably) from a plain thread.
    pub fn add_patients_blocking(&self, ids: Vec<Cx>) -> Result<(), StoreError> {
        self.send_add_patients(ids)?
            .blocking_recv()
            .unwrap_or_else(|_| Err(stopped()))
            .map(|_| ())
    }

    /// Registers patient ids (durably).
    pub async fn add_patients(&self, ids: Vec<Cx>) -> Result<(), StoreError> {
        self.send_add_patients(ids)?
            .await
            .unwrap_or_else(|_| Err(stopped()))
            .map(|_| ())
    }

    /// Applies an identity command; resolves once it is durable (or refused).
    pub async fn identity(
        &self,
        command: IdentityCommand,
        message: Option<MessageKey>,
        provenance: Provenance,
    ) -> IdentityReply {
        self.send_identity(command, message, provenance)?
            .await
            .unwrap_or_else(|_| Err(stopped()))
    }

    /// Same as [`Writer::identity`] from a plain thread.
    pub fn identity_blocking(
        &self,
        command: IdentityCommand,
        message: Option<MessageKey>,
        provenance: Provenance,
    ) -> IdentityReply {
        self.send_identity(command, message, provenance)?
            .blocking_recv()
            .unwrap_or_else(|_| Err(stopped()))
    }
}

fn stopped() -> StoreError {
    StoreError::fatal("the registry writer has stopped")
}

fn random_bytes() -> [u8; 16] {
    let mut bytes = [0u8; 16];
    // getrandom only fails when the OS has no entropy source at all; the UUID then falls back
    // to the clock and a counter, still unique within this registry.
    if getrandom::fill(&mut bytes).is_err() {
        static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_nanos() as u64);
        bytes[..8].copy_from_slice(&nanos.to_be_bytes());
        let count = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        bytes[8..].copy_from_slice(&count.to_be_bytes());
    }
    bytes
}

fn run(store: &dyn MetadataStore, settings: &RegisterSettings, queue: &mpsc::Receiver<Job>) {
    let mut audits = match store.next_audit_id() {
        Ok(next) => AuditIds { next },
        Err(error) => {
            tracing::error!(error = %error.message, "cannot read the next audit id; the writer stops");
            return;
        }
    };
    let mut group: Vec<(Job, Option<Done>)> = Vec::with_capacity(MAX_GROUP);
    while let Ok(first) = queue.recv() {
        group.push((first, None));
        while group.len() < MAX_GROUP {
            match queue.try_recv() {
                Ok(job) => group.push((job, None)),
                Err(_) => break,
            }
        }
        let now = Dtm::now();
        let mut pending_sync = false;
        for (job, outcome) in &mut group {
            let done = match job {
                Job::AddPatients { ids, .. } => Done::Registry(
                    iti42::add_patients(store, ids, false).map(|_| RegistryResponse::success()),
                    false,
                ),
                Job::Update {
                    metadata,
                    profile,
                    caller,
                    audit,
                    ..
                } => {
                    let with_caller = caller.as_ref().map(|caller| RegisterSettings {
                        lifecycle: Arc::new(iti57::Both(
                            Arc::clone(&settings.lifecycle),
                            Arc::clone(caller),
                        )),
                        ..settings.clone()
                    });
                    let outcome = iti57::update(
                        store,
                        std::mem::take(metadata),
                        profile.as_ref(),
                        with_caller.as_ref().unwrap_or(settings),
                        &mut random_bytes,
                        &now,
                    );
                    finish(store, &mut audits, outcome, audit.take())
                }
                Job::Remove { request, audit, .. } => finish(
                    store,
                    &mut audits,
                    iti62::remove(store, request),
                    audit.take(),
                ),
                Job::Identity {
                    command,
                    message,
                    provenance,
                    ..
                } => Done::Identity(
                    identity::apply(store, command, message.as_ref(), provenance).and_then(
                        |(changes, outcome)| store.apply(&changes, false).map(|()| outcome),
                    ),
                ),
                Job::Register {
                    metadata,
                    digest,
                    audit,
                    ..
                } => {
                    let outcome =
                        register(store, std::mem::take(metadata), *digest, settings, &now);
                    finish(store, &mut audits, outcome, audit.take())
                }
                Job::Audit { audit, .. } => {
                    let mut changes = ChangeSet::default();
                    Done::Audit(
                        audits
                            .add(store, &mut changes, audit.clone())
                            .and_then(|id| store.apply(&changes, false).map(|()| id)),
                    )
                }
                Job::Dmp {
                    patient,
                    command,
                    audit,
                    ..
                } => Done::Dmp(dmp(store, &mut audits, patient, command, audit.clone())),
                Job::OutboxSent { ids, .. } => Done::Sent(store.apply(
                    &ChangeSet {
                        outbox_sent: std::mem::take(ids),
                        ..ChangeSet::default()
                    },
                    false,
                )),
            };
            pending_sync |= done.changed();
            *outcome = Some(done);
        }
        let synced = if pending_sync { store.sync() } else { Ok(()) };
        for (job, outcome) in group.drain(..) {
            // An answer that reports a change is sent only once the change is durable.
            let outcome = match (&synced, outcome) {
                (Err(error), Some(done)) if done.changed() => Some(done.failed(error)),
                (_, outcome) => outcome,
            };
            answer(job, outcome);
        }
    }
}

/// Sends a job's answer. A submitter that went away (timeout, closed connection) is not an
/// error here.
fn answer(job: Job, outcome: Option<Done>) {
    match (job, outcome) {
        (
            Job::Register { reply, .. }
            | Job::AddPatients { reply, .. }
            | Job::Remove { reply, .. }
            | Job::Update { reply, .. },
            Some(Done::Registry(answer, _)),
        ) => {
            let _ = reply.send(answer);
        }
        (Job::Identity { reply, .. }, Some(Done::Identity(answer))) => {
            let _ = reply.send(answer);
        }
        (Job::Audit { reply, .. }, Some(Done::Audit(answer))) => {
            let _ = reply.send(answer);
        }
        (Job::Dmp { reply, .. }, Some(Done::Dmp(answer))) => {
            let _ = reply.send(answer);
        }
        (Job::OutboxSent { reply, .. }, Some(Done::Sent(answer))) => {
            let _ = reply.send(answer);
        }
        (
            Job::Register { reply, .. }
            | Job::AddPatients { reply, .. }
            | Job::Remove { reply, .. }
            | Job::Update { reply, .. },
            _,
        ) => {
            let _ = reply.send(Ok(RegistryResponse::from_errors(vec![
                RegistryError::error(
                    XdsErrorCode::RegistryError,
                    "the submission was not processed",
                ),
            ])));
        }
        (Job::Identity { reply, .. }, _) => {
            let _ = reply.send(Err(not_processed()));
        }
        (Job::Audit { reply, .. }, _) => {
            let _ = reply.send(Err(not_processed()));
        }
        (Job::Dmp { reply, .. }, _) => {
            let _ = reply.send(Err(not_processed()));
        }
        (Job::OutboxSent { reply, .. }, _) => {
            let _ = reply.send(Err(not_processed()));
        }
    }
}

fn not_processed() -> StoreError {
    StoreError::fatal("the command was not processed")
}

/// The audit ids the writer hands out (one thread: a plain counter).
struct AuditIds {
    next: u64,
}

impl AuditIds {
    /// Adds `audit` to `changes` with the next id, filed under its patient's number (a patient
    /// the same change set creates counts).
    fn add(
        &mut self,
        store: &dyn MetadataStore,
        changes: &mut ChangeSet,
        audit: Audit,
    ) -> Result<u64, StoreError> {
        let patient = match &audit.patient {
            Some(id) => match store.patient(id)? {
                Some(number) => Some(number),
                None => {
                    let key = canonical(id);
                    changes
                        .new_patients
                        .iter()
                        .find(|(_, new)| canonical(new) == key)
                        .map(|(number, _)| *number)
                }
            },
            None => None,
        };
        let mut record = audit.record;
        record.id = self.next;
        self.next += 1;
        changes.audits.push((patient, record));
        Ok(self.next - 1)
    }
}

/// A transaction's result with its audit record: the change set (if accepted) and the record
/// (with the outcome) in one write.
fn finish(
    store: &dyn MetadataStore,
    audits: &mut AuditIds,
    outcome: Result<Result<ChangeSet, Vec<RegistryError>>, StoreError>,
    audit: Option<Audit>,
) -> Done {
    let (mut changes, response) = match outcome {
        Ok(Ok(changes)) => (changes, RegistryResponse::success()),
        Ok(Err(errors)) => (ChangeSet::default(), RegistryResponse::from_errors(errors)),
        Err(error) => return Done::Registry(Err(error), false),
    };
    let wrote = audit.is_some();
    if let Some(mut audit) = audit {
        audit.record.outcome = AuditOutcome::of(&response);
        if let Err(error) = audits.add(store, &mut changes, audit) {
            return Done::Registry(Err(error), false);
        }
    }
    match store.apply(&changes, false) {
        Ok(()) => Done::Registry(Ok(response), wrote),
        Err(error) => Done::Registry(Err(error), false),
    }
}

/// A DMP command: the record after it and its audit record in one write (a refused command
/// writes its audit record only).
fn dmp(
    store: &dyn MetadataStore,
    audits: &mut AuditIds,
    patient: &Cx,
    command: &DmpCommand,
    mut audit: Audit,
) -> DmpReply {
    let mut changes = ChangeSet::default();
    let number = match store.patient(patient)? {
        Some(number) => number,
        None if *command == DmpCommand::Open => {
            let number: PatientNum = store.next_patient_num()?;
            changes.new_patients.push((number, patient.clone()));
            number
        }
        None => {
            audit.record.outcome =
                AuditOutcome::Denied(format!("{}: unknown patient", crate::access::DMP_NOT_FOUND));
            audits.add(store, &mut changes, audit)?;
            store.apply(&changes, false)?;
            return Ok(Err(CommandError::NoDmp));
        }
    };
    let current = store.dmp_record(number)?;
    let result = command.apply(current.as_ref(), crate::audit::now_ms() / 1000);
    match &result {
        Ok(record) => changes.dmp.push((number, record.clone())),
        Err(error) => audit.record.outcome = AuditOutcome::Failed(error.to_string()),
    }
    audits.add(store, &mut changes, audit)?;
    store.apply(&changes, false)?;
    Ok(result)
}

fn copy(error: &StoreError) -> StoreError {
    StoreError {
        message: error.message.clone(),
        retryable: error.retryable,
    }
}

fn register(
    store: &dyn MetadataStore,
    metadata: Metadata,
    digest: [u8; 20],
    settings: &RegisterSettings,
    now: &Dtm,
) -> Result<Result<ChangeSet, Vec<RegistryError>>, StoreError> {
    match iti42::register(store, metadata, digest, settings, &mut random_bytes, now) {
        Ok(Registered::Changes(changes)) => Ok(Ok(changes)),
        // The earlier identical submission may still be waiting for its sync: the answer
        // reports success, so it waits for this group's sync too (Done::changed).
        Ok(Registered::AlreadyRegistered) => Ok(Ok(ChangeSet::default())),
        Err(RegisterError::Rejected(errors)) => Ok(Err(errors)),
        Err(RegisterError::Store(error)) => Err(error),
    }
}
