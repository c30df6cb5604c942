//! The repository's admin hooks: store gauges, readiness (store open, registry reachable) and
//! online backup (the listener is `xds::net::admin`).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use xds::net::admin::{AdminHooks, Pending};
use xds::net::metrics::{Gauge, OUTBOX_RECORDS, STORE_BYTES};

use crate::registry_client::RegistryClient;
use crate::store::DocumentStore;

/// The folder of the document store inside a data directory and a backup.
pub const STORE: &str = "documents";
pub const DAEMON: &str = "xds-repository";

pub struct RepositoryAdmin {
    pub store: Arc<dyn DocumentStore>,
    pub registry: Arc<dyn RegistryClient>,
    pub backup_dir: PathBuf,
}

impl std::fmt::Debug for RepositoryAdmin {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("RepositoryAdmin")
            .field("backup_dir", &self.backup_dir)
            .finish_non_exhaustive()
    }
}

/// Writes a backup of `store` into `backup_dir`.
pub fn backup(store: &dyn DocumentStore, backup_dir: &Path) -> Result<PathBuf, String> {
    xds::net::admin::take_backup(backup_dir, DAEMON, STORE, |target| {
        store.checkpoint(target).map_err(|error| error.message)
    })
}

impl AdminHooks for RepositoryAdmin {
    fn daemon(&self) -> &'static str {
        DAEMON
    }

    fn gauges(&self) -> Vec<Gauge> {
        let sizes = self
            .store
            .counts()
            .and_then(|counts| Ok((counts, self.store.disk_bytes()?)));
        match sizes {
            Ok(((documents, pending, uploads), bytes)) => vec![
                Gauge::new(STORE_BYTES.0, STORE_BYTES.1, bytes as f64).labelled("store", STORE),
                Gauge::new(
                    "xds_repository_documents",
                    "Documents stored (RocksDB's estimate).",
                    documents as f64,
                ),
                Gauge::new(OUTBOX_RECORDS.0, OUTBOX_RECORDS.1, pending as f64)
                    .labelled("outbox", "submissions"),
                Gauge::new(
                    "xds_repository_uploads_in_progress",
                    "Document uploads begun and not yet committed or rolled back.",
                    uploads as f64,
                ),
            ],
            Err(error) => {
                tracing::error!(error = %error.message, "store statistics unavailable");
                Vec::new()
            }
        }
    }

    fn ready(&self) -> Pending<'_, Result<(), String>> {
        Box::pin(async move {
            let store = Arc::clone(&self.store);
            tokio::task::spawn_blocking(move || store.document("readiness-probe").map(|_| ()))
                .await
                .map_err(|error| error.to_string())?
                .map_err(|error| format!("document store: {}", error.message))?;
            self.registry
                .reachable()
                .await
                .map_err(|reason| format!("registry unreachable: {reason}"))
        })
    }

    fn backup(&self) -> Result<PathBuf, String> {
        backup(&*self.store, &self.backup_dir)
    }
}
