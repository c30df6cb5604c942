//! Settling submissions whose outcome is in doubt (the repository stopped, or the registry's
//! answer was lost, between the durable intent and the commit): the registry is asked whether
//! the submission set is registered; registered -> commit, not registered -> roll back,
//! no answer -> try again later. At start-up, uploads that no intent owns are removed.

use std::collections::HashSet;
use std::time::Duration;

use xds::error::RegistryResponse;

use super::Repository;
use super::iti41::stored_response;
use crate::store::{Intent, unix_now};

/// How a pending submission ended.
#[derive(Debug)]
pub(crate) enum Settled {
    Committed(RegistryResponse),
    RolledBack,
    InDoubt(String),
}

impl Repository {
    /// Settles one pending intent with the registry's help.
    pub(crate) async fn settle(&self, submission_set: &str, intent: &Intent) -> Settled {
        let store = self.store();
        match self
            .inner
            .registry
            .submission_set_registered(submission_set)
            .await
        {
            Ok(true) => {
                let response = RegistryResponse::success();
                match store.commit(submission_set, intent, stored_response(&response)) {
                    Ok(()) => {
                        tracing::info!(%submission_set, "in-doubt submission settled: registered, documents committed");
                        Settled::Committed(response)
                    }
                    Err(error) => Settled::InDoubt(error.to_string()),
                }
            }
            Ok(false) => match store.roll_back(submission_set, intent) {
                Ok(()) => {
                    tracing::info!(%submission_set, "in-doubt submission settled: not registered, documents removed");
                    Settled::RolledBack
                }
                Err(error) => Settled::InDoubt(error.to_string()),
            },
            Err(error) => Settled::InDoubt(error.to_string()),
        }
    }

    /// Removes uploads that no pending intent owns (start-up only: in a running daemon they
    /// may belong to requests being decoded). Returns how many were removed.
    pub fn remove_abandoned_uploads(&self) -> Result<usize, crate::store::StoreError> {
        let store = self.store();
        let owned: HashSet<_> = store
            .pending_intents()?
            .iter()
            .flat_map(|(_, intent)| intent.documents.iter().map(|(_, record)| record.blob))
            .collect();
        let abandoned: Vec<_> = store
            .marked_blobs()?
            .into_iter()
            .filter(|blob| !owned.contains(blob))
            .collect();
        store.discard_blobs(&abandoned)?;
        Ok(abandoned.len())
    }

    /// One pass over the pending intents old enough to settle. Returns (settled, still
    /// pending).
    pub async fn settle_pending(&self) -> (usize, usize) {
        let pending = match self.store().pending_intents() {
            Ok(pending) => pending,
            Err(error) => {
                tracing::warn!("failed to {error:#}");
                return (0, 0);
            }
        };
        let threshold = self.settings().in_doubt_after.as_secs();
        let now = unix_now();
        let mut settled = 0;
        let mut remaining = 0;
        for (submission_set, intent) in pending {
            let old_enough = now.saturating_sub(intent.created_at) >= threshold;
            let Some(_claim) = old_enough.then(|| self.claim(&submission_set)).flatten() else {
                remaining += 1;
                continue;
            };
            match self.settle(&submission_set, &intent).await {
                Settled::InDoubt(reason) => {
                    tracing::debug!(%submission_set, %reason, "still in doubt");
                    remaining += 1;
                }
                Settled::Committed(_) | Settled::RolledBack => settled += 1,
            }
        }
        (settled, remaining)
    }

    /// Settles pending intents every `settle_interval` until `shutdown` resolves.
    pub async fn settle_forever(&self, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        let interval = self
            .settings()
            .settle_interval
            .max(Duration::from_millis(100));
        loop {
            let (settled, remaining) = self.settle_pending().await;
            if settled > 0 || remaining > 0 {
                tracing::debug!(settled, remaining, "pending submissions");
            }
            tokio::select! {
                () = tokio::time::sleep(interval) => {}
                () = &mut shutdown => return,
            }
        }
    }
}
