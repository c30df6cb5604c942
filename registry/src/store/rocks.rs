//! RocksDB engine: one column family per [`Table`], LZ4 compression with ZSTD at the bottom
//! level, bloom filters for the point lookups, a bounded block cache and memtable budget so
//! memory stays flat whatever the registry's size. The only file of the registry that names
//! RocksDB.

use std::path::Path;

use rocksdb::{
    BlockBasedIndexType, BlockBasedOptions, BottommostLevelCompaction, Cache,
    ColumnFamilyDescriptor, CompactOptions, DB, DBCompressionType, Options, ReadOptions,
    WriteBatch, WriteOptions,
};

use super::kv::{KvEngine, Table, Write};
use super::{StoreError, StoreResult};

/// Tuning of the RocksDB engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RocksSettings {
    pub block_cache_bytes: usize,
    /// Memtable budget shared by every column family.
    pub write_buffer_bytes: usize,
    pub background_jobs: i32,
}

impl Default for RocksSettings {
    fn default() -> Self {
        Self {
            block_cache_bytes: 256 << 20,
            write_buffer_bytes: 128 << 20,
            background_jobs: 2,
        }
    }
}

/// RocksDB behind [`KvEngine`].
pub struct RocksEngine {
    db: DB,
}

impl std::fmt::Debug for RocksEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RocksEngine")
            .field("path", &self.db.path())
            .finish()
    }
}

fn error(context: &str, error: rocksdb::Error) -> StoreError {
    // Busy / TryAgain / Incomplete can succeed on retry; everything else is fatal.
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

impl RocksEngine {
    /// Opens (creating if needed) the database in `path`.
    pub fn open(path: &Path, settings: RocksSettings) -> StoreResult<Self> {
        let cache = Cache::new_lru_cache(settings.block_cache_bytes);
        let mut options = Options::default();
        options.create_if_missing(true);
        options.create_missing_column_families(true);
        options.set_max_background_jobs(settings.background_jobs);
        options.set_db_write_buffer_size(settings.write_buffer_bytes);
        options.set_bytes_per_sync(1 << 20);
        let descriptors: Vec<ColumnFamilyDescriptor> = Table::ALL
            .iter()
            .map(|table| {
                let mut block = BlockBasedOptions::default();
                block.set_block_cache(&cache);
                block.set_bloom_filter(10.0, false);
                // Partitioned index and filters: a lookup reads one small partition, never a
                // whole table file's index or filter (hundreds of KB at national scale); the
                // partitions live in the cache's high-priority pool, the top levels stay pinned.
                block.set_index_type(BlockBasedIndexType::TwoLevelIndexSearch);
                block.set_partition_filters(true);
                block.set_metadata_block_size(4 << 10);
                block.set_cache_index_and_filter_blocks(true);
                block.set_cache_index_and_filter_blocks_with_high_priority(true);
                block.set_pin_top_level_index_and_filter(true);
                block.set_pin_l0_filter_and_index_blocks_in_cache(true);
                block.set_block_size(if *table == Table::Objects {
                    16 << 10
                } else {
                    4 << 10
                });
                let mut family = Options::default();
                family.set_block_based_table_factory(&block);
                family.set_compression_type(DBCompressionType::Lz4);
                family.set_bottommost_compression_type(DBCompressionType::Zstd);
                family.set_write_buffer_size(if *table == Table::Objects {
                    64 << 20
                } else {
                    16 << 20
                });
                family.set_level_compaction_dynamic_level_bytes(true);
                ColumnFamilyDescriptor::new(table.name(), family)
            })
            .collect();
        let db = DB::open_cf_descriptors(&options, path, descriptors)
            .map_err(|failure| error("open RocksDB", failure))?;
        Ok(Self { db })
    }

    fn family(&self, table: Table) -> StoreResult<&rocksdb::ColumnFamily> {
        self.db
            .cf_handle(table.name())
            .ok_or_else(|| StoreError::fatal(format!("column family {} missing", table.name())))
    }

    /// Compacts every column family down to its last level, rewriting that level too (so the
    /// table format of the current settings applies everywhere; benchmarks measure the
    /// compacted size).
    pub fn compact(&self) -> StoreResult<()> {
        let mut options = CompactOptions::default();
        options.set_bottommost_level_compaction(BottommostLevelCompaction::Force);
        for table in Table::ALL {
            self.db.compact_range_cf_opt(
                self.family(table)?,
                None::<&[u8]>,
                None::<&[u8]>,
                &options,
            );
        }
        Ok(())
    }
}

impl Drop for RocksEngine {
    /// A clean close writes the memtables to table files, so the next start has no
    /// write-ahead log to replay (RocksDB flushes on close only when the log is off). A crash
    /// skips this and start-up replays the log instead; a failure here loses nothing either.
    fn drop(&mut self) {
        let families: Vec<&rocksdb::ColumnFamily> = Table::ALL
            .iter()
            .filter_map(|table| self.db.cf_handle(table.name()))
            .collect();
        if let Err(failure) = self
            .db
            .flush_cfs_opt(&families, &rocksdb::FlushOptions::default())
        {
            tracing::warn!(%failure, "memtables not flushed at close; the next start replays the log");
        }
    }
}

/// The smallest key greater than every key starting with `prefix` (None when there is none).
fn prefix_upper_bound(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut bound = prefix.to_vec();
    while let Some(last) = bound.pop() {
        if last < u8::MAX {
            bound.push(last + 1);
            return Some(bound);
        }
    }
    None
}

impl KvEngine for RocksEngine {
    fn get(&self, table: Table, key: &[u8]) -> StoreResult<Option<Vec<u8>>> {
        self.db
            .get_cf(self.family(table)?, key)
            .map_err(|failure| error("read", failure))
    }

    fn scan_prefix(
        &self,
        table: Table,
        prefix: &[u8],
        visit: &mut dyn FnMut(&[u8], &[u8]) -> bool,
    ) -> StoreResult<()> {
        let mut read = ReadOptions::default();
        if let Some(bound) = prefix_upper_bound(prefix) {
            read.set_iterate_upper_bound(bound);
        }
        let mut iterator = self.db.raw_iterator_cf_opt(self.family(table)?, read);
        iterator.seek(prefix);
        while iterator.valid() {
            let (Some(key), Some(value)) = (iterator.key(), iterator.value()) else {
                break;
            };
            if !key.starts_with(prefix) || !visit(key, value) {
                break;
            }
            iterator.next();
        }
        iterator.status().map_err(|failure| error("scan", failure))
    }

    fn scan_prefix_back(
        &self,
        table: Table,
        prefix: &[u8],
        before: Option<&[u8]>,
        visit: &mut dyn FnMut(&[u8], &[u8]) -> bool,
    ) -> StoreResult<()> {
        let mut read = ReadOptions::default();
        read.set_iterate_lower_bound(prefix.to_vec());
        let upper = match before {
            Some(before) => Some(before.to_vec()),
            None => prefix_upper_bound(prefix),
        };
        let mut iterator = self.db.raw_iterator_cf_opt(self.family(table)?, read);
        match &upper {
            // seek_for_prev lands at or before the bound; the bound itself is excluded below.
            Some(upper) => iterator.seek_for_prev(upper),
            None => iterator.seek_to_last(),
        }
        while iterator.valid() {
            let (Some(key), Some(value)) = (iterator.key(), iterator.value()) else {
                break;
            };
            let beyond = upper.as_deref().is_some_and(|upper| key >= upper);
            if !beyond && (!key.starts_with(prefix) || !visit(key, value)) {
                break;
            }
            iterator.prev();
        }
        iterator.status().map_err(|failure| error("scan", failure))
    }

    fn write(&self, writes: Vec<Write>, sync: bool) -> StoreResult<()> {
        let mut batch = WriteBatch::default();
        for (table, key, value) in writes {
            let family = self.family(table)?;
            match value {
                Some(value) => batch.put_cf(family, key, value),
                None => batch.delete_cf(family, key),
            }
        }
        let mut options = WriteOptions::default();
        options.set_sync(sync);
        self.db
            .write_opt(batch, &options)
            .map_err(|failure| error("write", failure))
    }

    fn sync(&self) -> StoreResult<()> {
        self.db
            .flush_wal(true)
            .map_err(|failure| error("sync write-ahead log", failure))
    }

    fn approximate_disk_bytes(&self) -> StoreResult<u64> {
        let mut total = 0;
        for table in Table::ALL {
            total += self
                .db
                .property_int_value_cf(self.family(table)?, "rocksdb.total-sst-files-size")
                .map_err(|failure| error("read size", failure))?
                .unwrap_or(0);
        }
        Ok(total)
    }

    fn checkpoint(&self, target: &Path) -> StoreResult<()> {
        rocksdb::checkpoint::Checkpoint::new(&self.db)
            .and_then(|checkpoint| checkpoint.create_checkpoint(target))
            .map_err(|failure| error("checkpoint", failure))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upper_bounds_of_prefixes() {
        assert_eq!(prefix_upper_bound(b"ab"), Some(b"ac".to_vec()));
        assert_eq!(prefix_upper_bound(&[1, 255]), Some(vec![2]));
        assert_eq!(prefix_upper_bound(&[255, 255]), None);
    }
}
