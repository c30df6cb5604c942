//! The storage port of the repository: document contents (in chunks, so no document is ever
//! held whole), the records that make a document retrievable, and the durable intents that
//! keep the repository atomic with the registry (ARCHITECTURE.md, "Repository").
//!
//! Life of a document: [`DocumentStore::begin_blob`] records an upload marker, chunks are
//! appended; the ITI-41 service records a pending [`Intent`] naming the blobs (synced), asks
//! the registry, then [`DocumentStore::commit`] (document records in, intent committed,
//! markers out, one synced batch) or [`DocumentStore::roll_back`] (blobs, markers and intent
//! out). A marker that no pending intent names belongs to an upload that never finished: start-up
//! removes it with its chunks.

pub mod rocks;

use serde::{Deserialize, Serialize};

/// Bytes of one stored chunk of a document.
pub const CHUNK_BYTES: usize = 1 << 20;

/// A storage failure; `retryable` says whether trying again can help.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct StoreError {
    pub message: String,
    pub retryable: bool,
}

impl StoreError {
    pub fn fatal(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            retryable: false,
        }
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Identifies one stored content (random, so an aborted upload never collides with another).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct BlobId(pub [u8; 16]);

impl BlobId {
    pub fn random() -> Self {
        Self(xds::net::soap::random_bytes())
    }
}

impl std::fmt::Display for BlobId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for byte in &self.0 {
            write!(f, "{byte:02x}")?;
        }
        Ok(())
    }
}

/// What makes a document retrievable: where its content is and what the registry was told.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentRecord {
    pub blob: BlobId,
    pub size: u64,
    pub hash: [u8; 20],
    pub mime_type: String,
    /// Unix seconds.
    pub stored_at: u64,
}

impl DocumentRecord {
    /// Chunks the content occupies.
    pub fn chunk_count(&self) -> u32 {
        u32::try_from(self.size.div_ceil(CHUNK_BYTES as u64)).unwrap_or(u32::MAX)
    }
}

/// One error of a stored registry answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredError {
    pub code: String,
    pub context: String,
    pub severity: String,
    pub location: Option<String>,
}

/// The registry's answer to a committed submission, kept so that a retry gets it again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredResponse {
    pub status: String,
    pub errors: Vec<StoredError>,
}

/// Where a submission stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum IntentState {
    /// Stored, registration asked for or about to be: the outcome is not known yet.
    Pending,
    /// Registered and retrievable; the answer given.
    Committed(StoredResponse),
}

/// The durable record of one ITI-41 submission, keyed by its SubmissionSet uniqueId.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Intent {
    /// Unix seconds when the intent was recorded.
    pub created_at: u64,
    /// SHA-1 of the registration the repository sent (metadata with hash, size and
    /// repositoryUniqueId): a retry with the same digest is the same submission.
    pub digest: [u8; 20],
    /// The documents it stores, by DocumentEntry uniqueId (empty once committed).
    pub documents: Vec<(String, DocumentRecord)>,
    pub state: IntentState,
}

/// Storage of the repository. Implementations must make each method's writes atomic, and
/// `record_intent`, `commit`, `roll_back` and `remove_document` durable before they return.
pub trait DocumentStore: Send + Sync + std::fmt::Debug {
    /// Records an upload marker for a new blob.
    fn begin_blob(&self) -> StoreResult<BlobId>;
    /// Stores chunk `index` of `blob` (not synced: the next synced write covers it).
    fn put_chunk(&self, blob: BlobId, index: u32, bytes: &[u8]) -> StoreResult<()>;
    /// Reads chunk `index` of `blob`.
    fn chunk(&self, blob: BlobId, index: u32) -> StoreResult<Option<Vec<u8>>>;
    /// Removes blobs and their markers (uploads that will not be kept).
    fn discard_blobs(&self, blobs: &[BlobId]) -> StoreResult<()>;
    /// The record of a retrievable document.
    fn document(&self, unique_id: &str) -> StoreResult<Option<DocumentRecord>>;
    /// The intent of a submission.
    fn intent(&self, submission_set: &str) -> StoreResult<Option<Intent>>;
    /// Records a pending intent (synced).
    fn record_intent(&self, submission_set: &str, intent: &Intent) -> StoreResult<()>;
    /// Makes the intent's documents retrievable and marks it committed with `response`, in one
    /// synced batch. A document whose uniqueId is already stored (the same bytes, registered
    /// again) keeps its first copy; the new blob is removed.
    fn commit(
        &self,
        submission_set: &str,
        intent: &Intent,
        response: StoredResponse,
    ) -> StoreResult<()>;
    /// Forgets a pending intent and removes its blobs, in one synced batch.
    fn roll_back(&self, submission_set: &str, intent: &Intent) -> StoreResult<()>;
    /// Removes a document (record and content) in one synced batch; false if unknown.
    fn remove_document(&self, unique_id: &str) -> StoreResult<bool>;
    /// Every pending intent.
    fn pending_intents(&self) -> StoreResult<Vec<(String, Intent)>>;
    /// Blobs with an upload marker.
    fn marked_blobs(&self) -> StoreResult<Vec<BlobId>>;
    /// Counts for logs and tests: (documents, pending intents, upload markers).
    fn counts(&self) -> StoreResult<(u64, u64, u64)>;
    /// Persists everything (shutdown).
    fn sync(&self) -> StoreResult<()>;
    /// Bytes the store occupies on disk (table and blob files).
    fn disk_bytes(&self) -> StoreResult<u64>;
    /// Writes a consistent point-in-time copy of the store into `target` (which must not
    /// exist) while the repository runs: the online backup.
    fn checkpoint(&self, target: &std::path::Path) -> StoreResult<()>;
}

/// Unix seconds now.
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}
