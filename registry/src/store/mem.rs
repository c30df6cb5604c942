//! In-memory [`KvEngine`]: ordered maps behind a lock. For tests of the service logic and the
//! store contract; nothing is durable.

use std::collections::BTreeMap;
use std::sync::RwLock;

use super::StoreError;
use super::StoreResult;
use super::kv::{KvEngine, Table, Write};

/// Every table in one ordered map keyed by (table, key).
type Tables = BTreeMap<(Table, Vec<u8>), Vec<u8>>;

#[derive(Debug, Default)]
pub struct MemEngine {
    tables: RwLock<Tables>,
}

impl MemEngine {
    pub fn new() -> Self {
        Self::default()
    }
}

fn poisoned() -> StoreError {
    StoreError::fatal("in-memory store lock poisoned")
}

impl KvEngine for MemEngine {
    fn get(&self, table: Table, key: &[u8]) -> StoreResult<Option<Vec<u8>>> {
        let tables = self.tables.read().map_err(|_| poisoned())?;
        Ok(tables.get(&(table, key.to_vec())).cloned())
    }

    fn scan_prefix(
        &self,
        table: Table,
        prefix: &[u8],
        visit: &mut dyn FnMut(&[u8], &[u8]) -> bool,
    ) -> StoreResult<()> {
        let tables = self.tables.read().map_err(|_| poisoned())?;
        for ((found_table, key), value) in tables.range((table, prefix.to_vec())..) {
            if *found_table != table || !key.starts_with(prefix) || !visit(key, value) {
                break;
            }
        }
        Ok(())
    }

    fn scan_prefix_back(
        &self,
        table: Table,
        prefix: &[u8],
        before: Option<&[u8]>,
        visit: &mut dyn FnMut(&[u8], &[u8]) -> bool,
    ) -> StoreResult<()> {
        let tables = self.tables.read().map_err(|_| poisoned())?;
        let low = (table, prefix.to_vec());
        let range = match before {
            Some(before) => tables.range(low..(table, before.to_vec())),
            None => tables.range(low..),
        };
        for ((found_table, key), value) in range.rev() {
            if *found_table != table || !key.starts_with(prefix) {
                continue;
            }
            if !visit(key, value) {
                break;
            }
        }
        Ok(())
    }

    fn write(&self, writes: Vec<Write>, _sync: bool) -> StoreResult<()> {
        let mut tables = self.tables.write().map_err(|_| poisoned())?;
        for (table, key, value) in writes {
            match value {
                Some(value) => {
                    tables.insert((table, key), value);
                }
                None => {
                    tables.remove(&(table, key));
                }
            }
        }
        Ok(())
    }

    fn sync(&self) -> StoreResult<()> {
        Ok(())
    }

    fn approximate_disk_bytes(&self) -> StoreResult<u64> {
        let tables = self.tables.read().map_err(|_| poisoned())?;
        Ok(tables
            .iter()
            .map(|((_, key), value)| (key.len() + value.len()) as u64)
            .sum())
    }

    fn checkpoint(&self, _target: &std::path::Path) -> StoreResult<()> {
        Err(StoreError::fatal("an in-memory store has no checkpoint"))
    }
}
