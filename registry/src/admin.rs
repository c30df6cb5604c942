//! The registry's admin hooks: store gauges, readiness and online backup (the listener is
//! `xds::net::admin`).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use xds::net::admin::{AdminHooks, Pending};
use xds::net::metrics::{Gauge, OUTBOX_RECORDS, STORE_BYTES};

use crate::store::MetadataStore;

/// The folder of the metadata store inside a data directory and a backup.
pub const STORE: &str = "metadata";
pub const DAEMON: &str = "xds-registry";

pub struct RegistryAdmin {
    pub store: Arc<dyn MetadataStore>,
    pub backup_dir: PathBuf,
}

impl std::fmt::Debug for RegistryAdmin {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("RegistryAdmin")
            .field("backup_dir", &self.backup_dir)
            .finish_non_exhaustive()
    }
}

/// Writes a backup of `store` into `backup_dir`.
pub fn backup(store: &dyn MetadataStore, backup_dir: &Path) -> Result<PathBuf, String> {
    xds::net::admin::take_backup(backup_dir, DAEMON, STORE, |target| {
        store.checkpoint(target).map_err(|error| error.message)
    })
}

impl AdminHooks for RegistryAdmin {
    fn daemon(&self) -> &'static str {
        DAEMON
    }

    fn gauges(&self) -> Vec<Gauge> {
        match self.store.stats() {
            Ok(stats) => vec![
                Gauge::new(
                    STORE_BYTES.0,
                    STORE_BYTES.1,
                    stats.approximate_disk_bytes as f64,
                )
                .labelled("store", STORE),
                Gauge::new(
                    "xds_registry_patients",
                    "Patient identifiers the registry knows.",
                    stats.patients as f64,
                ),
                Gauge::new(
                    OUTBOX_RECORDS.0,
                    OUTBOX_RECORDS.1,
                    stats.outbox_records as f64,
                )
                .labelled("outbox", "audit"),
            ],
            Err(error) => {
                tracing::error!(error = %error.message, "store statistics unavailable");
                Vec::new()
            }
        }
    }

    fn ready(&self) -> Pending<'_, Result<(), String>> {
        let store = Arc::clone(&self.store);
        Box::pin(async move {
            tokio::task::spawn_blocking(move || store.next_audit_id().map(|_| ()))
                .await
                .map_err(|error| error.to_string())?
                .map_err(|error| format!("metadata store: {}", error.message))
        })
    }

    fn backup(&self) -> Result<PathBuf, String> {
        backup(&*self.store, &self.backup_dir)
    }
}
