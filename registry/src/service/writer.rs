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
use xds::model::{Cx, Dtm, Metadata};

use super::iti42::{self, RegisterError, RegisterSettings, Registered};
use crate::store::{MetadataStore, StoreError};

/// Most submissions applied before one sync.
const MAX_GROUP: usize = 256;

/// What the writer answers for one submission.
pub type Reply = Result<RegistryResponse, StoreError>;

struct Job {
    work: Work,
    reply: tokio::sync::oneshot::Sender<Reply>,
}

enum Work {
    Register {
        metadata: Metadata,
        digest: [u8; 20],
    },
    AddPatients(Vec<Cx>),
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

    fn send(&self, work: Work) -> Result<tokio::sync::oneshot::Receiver<Reply>, StoreError> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.jobs.send(Job { work, reply }).map_err(|_| stopped())?;
        Ok(answer)
    }

    /// Registers a validated submission; resolves once it is durable (or refused).
    pub async fn register(&self, metadata: Metadata, digest: [u8; 20]) -> Reply {
        self.send(Work::Register { metadata, digest })?
            .await
            .unwrap_or_else(|_| Err(stopped()))
    }

    /// Same as [`Writer::register`] from a thread outside the async runtime.
    pub fn register_blocking(&self, metadata: Metadata, digest: [u8; 20]) -> Reply {
        self.send(Work::Register { metadata, digest })?
            .blocking_recv()
            .unwrap_or_else(|_| Err(stopped()))
    }

    /// Queues a submission and returns the receiver of its answer (pipelined bulk loads).
    pub fn submit(
        &self,
        metadata: Metadata,
        digest: [u8; 20],
    ) -> Result<tokio::sync::oneshot::Receiver<Reply>, StoreError> {
        self.send(Work::Register { metadata, digest })
    }

    /// Registers patient ids (durably) from a plain thread.
    pub fn add_patients_blocking(&self, ids: Vec<Cx>) -> Result<(), StoreError> {
        self.send(Work::AddPatients(ids))?
            .blocking_recv()
            .unwrap_or_else(|_| Err(stopped()))
            .map(|_| ())
    }

    /// Registers patient ids (durably).
    pub async fn add_patients(&self, ids: Vec<Cx>) -> Result<(), StoreError> {
        self.send(Work::AddPatients(ids))?
            .await
            .unwrap_or_else(|_| Err(stopped()))
            .map(|_| ())
    }
}

fn stopped() -> StoreError {
    StoreError::fatal("the registry writer has stopped")
}

fn now() -> Dtm {
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs());
    Dtm::from_unix_seconds(seconds)
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
    let mut group: Vec<(Job, Option<Reply>)> = Vec::with_capacity(MAX_GROUP);
    while let Ok(first) = queue.recv() {
        group.push((first, None));
        while group.len() < MAX_GROUP {
            match queue.try_recv() {
                Ok(job) => group.push((job, None)),
                Err(_) => break,
            }
        }
        let now = now();
        let mut pending_sync = false;
        for (job, outcome) in &mut group {
            let (metadata, digest) = match &mut job.work {
                Work::Register { metadata, digest } => (std::mem::take(metadata), *digest),
                Work::AddPatients(ids) => {
                    let result = iti42::add_patients(store, ids, false);
                    pending_sync |= result.is_ok();
                    *outcome = Some(result.map(|_| RegistryResponse::success()));
                    continue;
                }
            };
            let result =
                match iti42::register(store, metadata, digest, settings, &mut random_bytes, &now) {
                    Ok(Registered::Changes(changes)) => match store.apply(&changes, false) {
                        Ok(()) => {
                            pending_sync = true;
                            Ok(RegistryResponse::success())
                        }
                        Err(error) => Err(error),
                    },
                    Ok(Registered::AlreadyRegistered) => {
                        // The earlier identical submission may still be waiting for its sync.
                        pending_sync = true;
                        Ok(RegistryResponse::success())
                    }
                    Err(RegisterError::Rejected(errors)) => {
                        Ok(RegistryResponse::from_errors(errors))
                    }
                    Err(RegisterError::Store(error)) => Err(error),
                };
            *outcome = Some(result);
        }
        let synced = if pending_sync { store.sync() } else { Ok(()) };
        for (job, outcome) in group.drain(..) {
            let reply = match (&synced, outcome) {
                (Ok(()), Some(reply)) => reply,
                (Err(error), Some(Ok(response))) if response.errors.is_empty() => Err(StoreError {
                    message: error.message.clone(),
                    retryable: error.retryable,
                }),
                (_, Some(reply)) => reply,
                (_, None) => Ok(RegistryResponse::from_errors(vec![RegistryError::error(
                    XdsErrorCode::RegistryError,
                    "the submission was not processed",
                )])),
            };
            // A submitter that went away (timeout, closed connection) is not an error here.
            let _ = job.reply.send(reply);
        }
    }
}
