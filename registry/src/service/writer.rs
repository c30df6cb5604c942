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
use super::{iti57, iti62};
use crate::identity::{IdentityCommand, IdentityOutcome, MessageKey};
use crate::store::{ChangeSet, MetadataStore, StoreError};
use xds::validate::Profile;

/// Most submissions applied before one sync.
const MAX_GROUP: usize = 256;

/// What the writer answers for one submission.
pub type Reply = Result<RegistryResponse, StoreError>;

/// What the writer answers for one identity command.
pub type IdentityReply = Result<IdentityOutcome, StoreError>;

enum Job {
    Register {
        metadata: Metadata,
        digest: [u8; 20],
        reply: tokio::sync::oneshot::Sender<Reply>,
    },
    AddPatients {
        ids: Vec<Cx>,
        reply: tokio::sync::oneshot::Sender<Reply>,
    },
    Remove {
        request: RemoveMetadata,
        reply: tokio::sync::oneshot::Sender<Reply>,
    },
    Update {
        metadata: Metadata,
        profile: Arc<dyn Profile>,
        reply: tokio::sync::oneshot::Sender<Reply>,
    },
    Identity {
        command: IdentityCommand,
        message: Option<MessageKey>,
        provenance: Provenance,
        reply: tokio::sync::oneshot::Sender<IdentityReply>,
    },
}

/// A job's result before the group's sync.
enum Done {
    Registry(Reply),
    Identity(IdentityReply),
}

impl Done {
    /// Whether the job changed the store (so its answer waits for the sync).
    fn changed(&self) -> bool {
        match self {
            Self::Registry(Ok(response)) => response.errors.is_empty(),
            Self::Identity(Ok(outcome)) => outcome.is_applied(),
            _ => false,
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
        if Arc::strong_count(&thread) == 1 {
            if let Some(handle) = thread.lock().ok().and_then(|mut slot| slot.take()) {
                let _ = handle.join();
            }
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
    ) -> Result<tokio::sync::oneshot::Receiver<Reply>, StoreError> {
        self.request(|reply| Job::Register {
            metadata,
            digest,
            reply,
        })
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

    /// Registers a validated submission; resolves once it is durable (or refused).
    pub async fn register(&self, metadata: Metadata, digest: [u8; 20]) -> Reply {
        self.send_register(metadata, digest)?
            .await
            .unwrap_or_else(|_| Err(stopped()))
    }

    /// Same as [`Writer::register`] from a thread outside the async runtime.
    pub fn register_blocking(&self, metadata: Metadata, digest: [u8; 20]) -> Reply {
        self.send_register(metadata, digest)?
            .blocking_recv()
            .unwrap_or_else(|_| Err(stopped()))
    }

    /// Queues a submission and returns the receiver of its answer (pipelined bulk loads).
    pub fn submit(
        &self,
        metadata: Metadata,
        digest: [u8; 20],
    ) -> Result<tokio::sync::oneshot::Receiver<Reply>, StoreError> {
        self.send_register(metadata, digest)
    }

    /// ITI-57: applies status changes; resolves once they are durable (or refused).
    pub async fn update(&self, metadata: Metadata, profile: Arc<dyn Profile>) -> Reply {
        self.request(|reply| Job::Update {
            metadata,
            profile,
            reply,
        })?
        .await
        .unwrap_or_else(|_| Err(stopped()))
    }

    /// ITI-62: removes objects; resolves once the removal is durable (or refused).
    pub async fn remove(&self, request: RemoveMetadata) -> Reply {
        self.request(|reply| Job::Remove { request, reply })?
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
                ),
                Job::Update {
                    metadata, profile, ..
                } => Done::Registry(
                    iti57::update(
                        store,
                        std::mem::take(metadata),
                        profile.as_ref(),
                        settings,
                        &mut random_bytes,
                        &now,
                    )
                    .and_then(|outcome| applied(store, outcome)),
                ),
                Job::Remove { request, .. } => Done::Registry(
                    iti62::remove(store, request).and_then(|outcome| applied(store, outcome)),
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
                    metadata, digest, ..
                } => Done::Registry(register(
                    store,
                    std::mem::take(metadata),
                    *digest,
                    settings,
                    &now,
                )),
            };
            pending_sync |= done.changed();
            *outcome = Some(done);
        }
        let synced = if pending_sync { store.sync() } else { Ok(()) };
        for (job, outcome) in group.drain(..) {
            // An answer that reports a change is sent only once the change is durable.
            let outcome = match (&synced, outcome) {
                (Err(error), Some(done)) if done.changed() => Some(match done {
                    Done::Registry(_) => Done::Registry(Err(copy(error))),
                    Done::Identity(_) => Done::Identity(Err(copy(error))),
                }),
                (_, outcome) => outcome,
            };
            // A submitter that went away (timeout, closed connection) is not an error here.
            match (job, outcome) {
                (
                    Job::Register { reply, .. }
                    | Job::AddPatients { reply, .. }
                    | Job::Remove { reply, .. }
                    | Job::Update { reply, .. },
                    Some(Done::Registry(answer)),
                ) => {
                    let _ = reply.send(answer);
                }
                (Job::Identity { reply, .. }, Some(Done::Identity(answer))) => {
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
                    let _ = reply.send(Err(StoreError::fatal("the command was not processed")));
                }
            }
        }
    }
}

/// Applies a checked change set (made durable by the group's sync), or answers its refusal.
fn applied(store: &dyn MetadataStore, outcome: Result<ChangeSet, Vec<RegistryError>>) -> Reply {
    match outcome {
        Ok(changes) => store
            .apply(&changes, false)
            .map(|()| RegistryResponse::success()),
        Err(errors) => Ok(RegistryResponse::from_errors(errors)),
    }
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
) -> Reply {
    match iti42::register(store, metadata, digest, settings, &mut random_bytes, now) {
        Ok(Registered::Changes(changes)) => store
            .apply(&changes, false)
            .map(|()| RegistryResponse::success()),
        // The earlier identical submission may still be waiting for its sync: the answer
        // reports success, so it waits for this group's sync too (Done::changed).
        Ok(Registered::AlreadyRegistered) => Ok(RegistryResponse::success()),
        Err(RegisterError::Rejected(errors)) => Ok(RegistryResponse::from_errors(errors)),
        Err(RegisterError::Store(error)) => Err(error),
    }
}
