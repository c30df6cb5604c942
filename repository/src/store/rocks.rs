//! RocksDB behind [`DocumentStore`]: the only file of the repository that names RocksDB.
//!
//! Column families: `chunks` (key: blob id · chunk index, value: up to 1 MiB of content) with
//! RocksDB's blob files, so document bytes are written once to a blob file at flush and never
//! rewritten by compaction (blob garbage collection reclaims removed documents); `documents`
//! (DocumentEntry uniqueId -> [`DocumentRecord`]); `pending` and `outcomes` (SubmissionSet
//! uniqueId -> [`Intent`], pending or committed: start-up scans only the small pending one);
//! `uploads` (blob id -> start time, the marker of an upload in progress).
//!
//! Durability: chunks go to the write-ahead log unsynced; every intent, commit, roll-back and
//! removal is a synced write, and syncing the log persists every earlier write with it.

use std::path::Path;

use rocksdb::{
    BlockBasedOptions, Cache, ColumnFamilyDescriptor, DB, DBCompressionType, Direction,
    IteratorMode, Options, WriteBatch, WriteOptions,
};

use super::{
    BlobId, DocumentRecord, DocumentStore, Intent, IntentState, StoreError, StoreResult,
    StoredResponse, unix_now,
};

const CHUNKS: &str = "chunks";
const DOCUMENTS: &str = "documents";
const PENDING: &str = "pending";
const OUTCOMES: &str = "outcomes";
const UPLOADS: &str = "uploads";
const FAMILIES: [&str; 5] = [CHUNKS, DOCUMENTS, PENDING, OUTCOMES, UPLOADS];

/// Keys and values of a whole column family.
type Entries = Vec<(Box<[u8]>, Box<[u8]>)>;

/// Everything the store holds, for consistency checks (tests, operators): it reads every key,
/// so it is not for a busy national store.
#[derive(Debug, Clone, Default)]
pub struct Inventory {
    pub documents: Vec<(String, DocumentRecord)>,
    pub pending: Vec<String>,
    pub uploads: Vec<BlobId>,
    /// Blobs that have at least one chunk.
    pub chunk_blobs: std::collections::BTreeSet<BlobId>,
}

/// Tuning of the document store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RocksSettings {
    pub block_cache_bytes: usize,
    /// Memtable of the chunk family: the most document bytes held in memory before a flush
    /// writes them to a blob file (twice this with the memtable being flushed).
    pub chunk_write_buffer_bytes: usize,
    pub background_jobs: i32,
    /// RocksDB's own CRC32C check of each chunk read. Off when the service checks each
    /// document's SHA-1 end to end while streaming it (one integrity check, not two).
    pub verify_chunk_checksums: bool,
}

impl Default for RocksSettings {
    fn default() -> Self {
        Self {
            block_cache_bytes: 64 << 20,
            chunk_write_buffer_bytes: 8 << 20,
            background_jobs: 2,
            verify_chunk_checksums: true,
        }
    }
}

/// The RocksDB document store.
pub struct RocksDocumentStore {
    db: DB,
    verify_chunk_checksums: bool,
}

impl std::fmt::Debug for RocksDocumentStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RocksDocumentStore")
            .field("path", &self.db.path())
            .finish()
    }
}

fn failed(context: &str, error: rocksdb::Error) -> StoreError {
    let retryable = matches!(
        error.kind(),
        rocksdb::ErrorKind::Busy
            | rocksdb::ErrorKind::TryAgain
            | rocksdb::ErrorKind::Incomplete
            | rocksdb::ErrorKind::TimedOut
    );
    StoreError {
        message: format!("{context}: {error}"),
        retryable,
    }
}

fn encode<T: serde::Serialize>(value: &T) -> StoreResult<Vec<u8>> {
    postcard::to_allocvec(value).map_err(|error| StoreError::fatal(format!("encode: {error}")))
}

fn decode<'a, T: serde::Deserialize<'a>>(what: &str, bytes: &'a [u8]) -> StoreResult<T> {
    postcard::from_bytes(bytes)
        .map_err(|error| StoreError::fatal(format!("stored {what} is unreadable: {error}")))
}

fn chunk_key(blob: BlobId, index: u32) -> [u8; 20] {
    let mut key = [0u8; 20];
    key[..16].copy_from_slice(&blob.0);
    key[16..].copy_from_slice(&index.to_be_bytes());
    key
}

/// The key range of every chunk of `blob`: [blob · 0, blob · 0xffffffff · 0).
fn chunk_range(blob: BlobId) -> (Vec<u8>, Vec<u8>) {
    let mut end = vec![0xffu8; 21];
    end[..16].copy_from_slice(&blob.0);
    end[20] = 0;
    (chunk_key(blob, 0).to_vec(), end)
}

fn synced() -> WriteOptions {
    let mut options = WriteOptions::default();
    options.set_sync(true);
    options
}

impl RocksDocumentStore {
    /// Opens (creating if needed) the store in `path`.
    pub fn open(path: &Path, settings: RocksSettings) -> StoreResult<Self> {
        let cache = Cache::new_lru_cache(settings.block_cache_bytes);
        let mut options = Options::default();
        options.create_if_missing(true);
        options.create_missing_column_families(true);
        options.set_max_background_jobs(settings.background_jobs);
        options.set_bytes_per_sync(1 << 20);
        // Bound the log: a large upload flushes its memtable rather than growing the log.
        options.set_max_total_wal_size(4 * settings.chunk_write_buffer_bytes as u64);
        let descriptors: Vec<ColumnFamilyDescriptor> = FAMILIES
            .iter()
            .map(|name| {
                let mut block = BlockBasedOptions::default();
                block.set_block_cache(&cache);
                block.set_bloom_filter(10.0, false);
                block.set_cache_index_and_filter_blocks(true);
                block.set_pin_l0_filter_and_index_blocks_in_cache(true);
                let mut family = Options::default();
                family.set_block_based_table_factory(&block);
                family.set_compression_type(DBCompressionType::Lz4);
                if *name == CHUNKS {
                    family.set_enable_blob_files(true);
                    family.set_min_blob_size(0);
                    family.set_blob_file_size(256 << 20);
                    family.set_enable_blob_gc(true);
                    family.set_blob_gc_age_cutoff(0.25);
                    family.set_blob_compression_type(DBCompressionType::None);
                    family.set_write_buffer_size(settings.chunk_write_buffer_bytes);
                    family.set_max_write_buffer_number(2);
                } else {
                    family.set_write_buffer_size(8 << 20);
                    family.set_level_compaction_dynamic_level_bytes(true);
                }
                ColumnFamilyDescriptor::new(*name, family)
            })
            .collect();
        let db = DB::open_cf_descriptors(&options, path, descriptors)
            .map_err(|error| failed("open RocksDB", error))?;
        Ok(Self {
            db,
            verify_chunk_checksums: settings.verify_chunk_checksums,
        })
    }

    fn family(&self, name: &str) -> StoreResult<&rocksdb::ColumnFamily> {
        self.db
            .cf_handle(name)
            .ok_or_else(|| StoreError::fatal(format!("column family {name} missing")))
    }

    fn get(&self, name: &str, key: &[u8]) -> StoreResult<Option<Vec<u8>>> {
        self.db
            .get_cf(self.family(name)?, key)
            .map_err(|error| failed(&format!("read {name}"), error))
    }

    fn write(&self, batch: WriteBatch, context: &str) -> StoreResult<()> {
        self.db
            .write_opt(batch, &synced())
            .map_err(|error| failed(context, error))
    }

    fn delete_blob(&self, batch: &mut WriteBatch, blob: BlobId) -> StoreResult<()> {
        let (start, end) = chunk_range(blob);
        batch.delete_range_cf(self.family(CHUNKS)?, start, end);
        batch.delete_cf(self.family(UPLOADS)?, blob.0);
        Ok(())
    }

    fn scan(&self, name: &str) -> StoreResult<Entries> {
        self.db
            .iterator_cf(
                self.family(name)?,
                IteratorMode::From(&[], Direction::Forward),
            )
            .map(|item| item.map_err(|error| failed(&format!("scan {name}"), error)))
            .collect()
    }
}

impl RocksDocumentStore {
    /// Lists everything stored (see [`Inventory`]).
    pub fn inventory(&self) -> StoreResult<Inventory> {
        let documents = self
            .scan(DOCUMENTS)?
            .into_iter()
            .map(|(key, value)| {
                Ok((
                    String::from_utf8_lossy(&key).into_owned(),
                    decode("document record", &value)?,
                ))
            })
            .collect::<StoreResult<_>>()?;
        let mut chunk_blobs = std::collections::BTreeSet::new();
        let family = self.family(CHUNKS)?;
        let mut options = rocksdb::ReadOptions::default();
        // Only keys are needed: do not read document bytes from the blob files.
        options.set_async_io(false);
        let mut iterator = self.db.raw_iterator_cf_opt(family, options);
        iterator.seek_to_first();
        while let Some(key) = iterator.key() {
            if let Ok(blob) = <[u8; 16]>::try_from(&key[..16.min(key.len())]) {
                chunk_blobs.insert(BlobId(blob));
                // Skip to the next blob.
                let mut next = blob;
                let mut carry = true;
                for byte in next.iter_mut().rev() {
                    if carry {
                        let (value, overflow) = byte.overflowing_add(1);
                        *byte = value;
                        carry = overflow;
                    }
                }
                if carry {
                    break;
                }
                iterator.seek(next);
            } else {
                iterator.next();
            }
        }
        iterator
            .status()
            .map_err(|error| failed("scan chunks", error))?;
        Ok(Inventory {
            documents,
            pending: self
                .pending_intents()?
                .into_iter()
                .map(|(submission_set, _)| submission_set)
                .collect(),
            uploads: self.marked_blobs()?,
            chunk_blobs,
        })
    }
}

impl DocumentStore for RocksDocumentStore {
    fn begin_blob(&self) -> StoreResult<BlobId> {
        let blob = BlobId::random();
        self.db
            .put_cf(self.family(UPLOADS)?, blob.0, unix_now().to_be_bytes())
            .map_err(|error| failed("record an upload", error))?;
        Ok(blob)
    }

    fn put_chunk(&self, blob: BlobId, index: u32, bytes: &[u8]) -> StoreResult<()> {
        self.db
            .put_cf(self.family(CHUNKS)?, chunk_key(blob, index), bytes)
            .map_err(|error| failed("store a chunk", error))
    }

    fn chunk(&self, blob: BlobId, index: u32) -> StoreResult<Option<Vec<u8>>> {
        let mut options = rocksdb::ReadOptions::default();
        options.set_verify_checksums(self.verify_chunk_checksums);
        // A document is read once, front to back: do not let it evict the index blocks.
        options.fill_cache(false);
        self.db
            .get_cf_opt(self.family(CHUNKS)?, chunk_key(blob, index), &options)
            .map_err(|error| failed("read a chunk", error))
    }

    fn discard_blobs(&self, blobs: &[BlobId]) -> StoreResult<()> {
        if blobs.is_empty() {
            return Ok(());
        }
        let mut batch = WriteBatch::default();
        for blob in blobs {
            self.delete_blob(&mut batch, *blob)?;
        }
        // Not synced: if the removal is lost, start-up finds the markers and removes again.
        self.db
            .write(batch)
            .map_err(|error| failed("discard uploads", error))
    }

    fn document(&self, unique_id: &str) -> StoreResult<Option<DocumentRecord>> {
        self.get(DOCUMENTS, unique_id.as_bytes())?
            .map(|bytes| decode("document record", &bytes))
            .transpose()
    }

    fn intent(&self, submission_set: &str) -> StoreResult<Option<Intent>> {
        for name in [PENDING, OUTCOMES] {
            if let Some(bytes) = self.get(name, submission_set.as_bytes())? {
                return decode("intent", &bytes).map(Some);
            }
        }
        Ok(None)
    }

    fn record_intent(&self, submission_set: &str, intent: &Intent) -> StoreResult<()> {
        let mut batch = WriteBatch::default();
        batch.put_cf(
            self.family(PENDING)?,
            submission_set.as_bytes(),
            encode(intent)?,
        );
        self.write(batch, "record an intent")
    }

    fn commit(
        &self,
        submission_set: &str,
        intent: &Intent,
        response: StoredResponse,
    ) -> StoreResult<()> {
        let mut batch = WriteBatch::default();
        let documents = self.family(DOCUMENTS)?;
        for (unique_id, record) in &intent.documents {
            if self.document(unique_id)?.is_some() {
                // Registered again with identical bytes (the registry checked): keep the first.
                self.delete_blob(&mut batch, record.blob)?;
            } else {
                batch.put_cf(documents, unique_id.as_bytes(), encode(record)?);
                batch.delete_cf(self.family(UPLOADS)?, record.blob.0);
            }
        }
        let committed = Intent {
            created_at: intent.created_at,
            digest: intent.digest,
            documents: Vec::new(),
            state: IntentState::Committed(response),
        };
        batch.delete_cf(self.family(PENDING)?, submission_set.as_bytes());
        batch.put_cf(
            self.family(OUTCOMES)?,
            submission_set.as_bytes(),
            encode(&committed)?,
        );
        self.write(batch, "commit a submission")
    }

    fn roll_back(&self, submission_set: &str, intent: &Intent) -> StoreResult<()> {
        let mut batch = WriteBatch::default();
        for (_, record) in &intent.documents {
            self.delete_blob(&mut batch, record.blob)?;
        }
        batch.delete_cf(self.family(PENDING)?, submission_set.as_bytes());
        self.write(batch, "roll back a submission")
    }

    fn remove_document(&self, unique_id: &str) -> StoreResult<bool> {
        let Some(record) = self.document(unique_id)? else {
            return Ok(false);
        };
        let mut batch = WriteBatch::default();
        batch.delete_cf(self.family(DOCUMENTS)?, unique_id.as_bytes());
        self.delete_blob(&mut batch, record.blob)?;
        self.write(batch, "remove a document")?;
        Ok(true)
    }

    fn pending_intents(&self) -> StoreResult<Vec<(String, Intent)>> {
        self.scan(PENDING)?
            .into_iter()
            .map(|(key, value)| {
                Ok((
                    String::from_utf8_lossy(&key).into_owned(),
                    decode("intent", &value)?,
                ))
            })
            .collect()
    }

    fn marked_blobs(&self) -> StoreResult<Vec<BlobId>> {
        self.scan(UPLOADS)?
            .into_iter()
            .map(|(key, _)| {
                <[u8; 16]>::try_from(&key[..])
                    .map(BlobId)
                    .map_err(|_| StoreError::fatal("an upload marker has a malformed key"))
            })
            .collect()
    }

    fn counts(&self) -> StoreResult<(u64, u64, u64)> {
        let documents = self
            .db
            .property_int_value_cf(self.family(DOCUMENTS)?, "rocksdb.estimate-num-keys")
            .map_err(|error| failed("count documents", error))?
            .unwrap_or(0);
        Ok((
            documents,
            self.scan(PENDING)?.len() as u64,
            self.scan(UPLOADS)?.len() as u64,
        ))
    }

    fn sync(&self) -> StoreResult<()> {
        self.db
            .flush_wal(true)
            .map_err(|error| failed("sync the log", error))
    }

    fn disk_bytes(&self) -> StoreResult<u64> {
        let mut total = 0;
        for name in FAMILIES {
            for property in [
                "rocksdb.total-sst-files-size",
                "rocksdb.total-blob-file-size",
            ] {
                total += self
                    .db
                    .property_int_value_cf(self.family(name)?, property)
                    .map_err(|error| failed("read size", error))?
                    .unwrap_or(0);
            }
        }
        Ok(total)
    }

    fn checkpoint(&self, target: &Path) -> StoreResult<()> {
        rocksdb::checkpoint::Checkpoint::new(&self.db)
            .and_then(|checkpoint| checkpoint.create_checkpoint(target))
            .map_err(|error| failed("checkpoint", error))
    }
}

impl Drop for RocksDocumentStore {
    fn drop(&mut self) {
        // A clean close leaves nothing to replay.
        for name in FAMILIES {
            if let Some(family) = self.db.cf_handle(name) {
                let _ = self.db.flush_cf(family);
            }
        }
    }
}
