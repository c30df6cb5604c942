//! ITI-43 Retrieve Document Set: which requested documents this repository returns, and a
//! reader that streams each one from its chunks (checking its SHA-1 on the way when asked).

use std::collections::HashSet;
use std::io::{self, Read};
use std::sync::Arc;

use sha1::{Digest, Sha1};
use xds::XdsErrorCode;
use xds::error::{RegistryError, RegistryResponse};
use xds::model::DocumentRequest;
use xds::wire::RawXml;

use super::Repository;
use crate::store::{DocumentRecord, DocumentStore};

/// One document the answer will carry.
#[derive(Debug, Clone)]
pub struct FoundDocument {
    pub request: DocumentRequest,
    pub record: DocumentRecord,
}

/// What a retrieve answers: the status with one error per document not returned, and the
/// documents to stream.
#[derive(Debug, Clone)]
pub struct RetrievePlan {
    pub response: RegistryResponse,
    pub documents: Vec<FoundDocument>,
}

impl Repository {
    /// Looks the requested documents up (blocking store reads).
    pub fn plan_retrieve(&self, requests: Vec<DocumentRequest>) -> RetrievePlan {
        self.plan_retrieve_after(requests, Vec::new())
    }

    /// ITI-43 under the registry's access policy: asks the registry (forwarding the caller's
    /// WS-Security header) which of the requested documents the caller may read, and plans
    /// only those. A document the caller may not read is answered exactly like one this
    /// repository does not hold, so that the answer reveals nothing.
    pub async fn plan_checked_retrieve(
        &self,
        requests: Vec<DocumentRequest>,
        security: Option<&RawXml>,
    ) -> RetrievePlan {
        if !self.settings().retrieve_check {
            return self.plan_retrieve(requests);
        }
        let ours = self.settings().repository_unique_id.as_str();
        let asked: Vec<String> = requests
            .iter()
            .filter(|request| request.repository_unique_id == ours)
            .map(|request| request.document_unique_id.clone())
            .collect();
        if asked.is_empty() {
            return self.plan_retrieve(requests);
        }
        let refused = |errors: Vec<RegistryError>| RetrievePlan {
            response: RegistryResponse::from_errors(errors),
            documents: Vec::new(),
        };
        let readable: HashSet<String> = match self.registry().readable(&asked, security).await {
            Ok(Ok(readable)) => readable.into_iter().collect(),
            // The registry refused the caller (no DMP, not authorised, blocked...): its errors.
            Ok(Err(response)) => return refused(response.errors),
            Err(error) => {
                return refused(vec![RegistryError::error(
                    XdsErrorCode::RegistryNotAvailable,
                    format!("the registry could not check access to the documents: {error}"),
                )]);
            }
        };
        let (allowed, hidden): (Vec<_>, Vec<_>) = requests.into_iter().partition(|request| {
            request.repository_unique_id != ours || readable.contains(&request.document_unique_id)
        });
        let errors = hidden
            .into_iter()
            .map(|request| not_here(&request.document_unique_id))
            .collect();
        self.plan_retrieve_after(allowed, errors)
    }

    /// Plans `requests` after earlier `errors`.
    fn plan_retrieve_after(
        &self,
        requests: Vec<DocumentRequest>,
        mut errors: Vec<RegistryError>,
    ) -> RetrievePlan {
        let mut documents = Vec::new();
        for request in requests {
            let unique_id = request.document_unique_id.clone();
            if let Some(error) = self.foreign_repository(&request) {
                errors.push(error);
                continue;
            }
            match self.store().document(&unique_id) {
                Ok(Some(record)) => documents.push(FoundDocument { request, record }),
                Ok(None) => errors.push(not_here(&unique_id)),
                Err(error) => errors.push(
                    RegistryError::error(XdsErrorCode::RepositoryError, error.to_string())
                        .at(unique_id),
                ),
            }
        }
        let response = RegistryResponse::from_partial(errors, !documents.is_empty());
        RetrievePlan {
            response,
            documents,
        }
    }

    /// A reader over a stored document.
    pub fn document_reader(&self, record: &DocumentRecord) -> DocumentReader {
        DocumentReader {
            store: Arc::clone(self.store()),
            record: record.clone(),
            next_chunk: 0,
            current: Vec::new(),
            position: 0,
            delivered: 0,
            digest: self.settings().verify_on_read.then(Sha1::new),
        }
    }
}

/// Streams one stored document chunk by chunk. A missing chunk, a size or SHA-1 that differs
/// from the record is an `io::Error`: the answer breaks instead of carrying corrupt bytes.
pub struct DocumentReader {
    store: Arc<dyn DocumentStore>,
    record: DocumentRecord,
    next_chunk: u32,
    current: Vec<u8>,
    position: usize,
    delivered: u64,
    digest: Option<Sha1>,
}

impl std::fmt::Debug for DocumentReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DocumentReader")
            .field("blob", &self.record.blob)
            .field("delivered", &self.delivered)
            .finish()
    }
}

impl DocumentReader {
    fn corrupt(&self, what: String) -> io::Error {
        tracing::error!(blob = %self.record.blob, "stored document is damaged: {what}");
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("stored document is damaged: {what}"),
        )
    }

    /// Called once every byte was delivered.
    fn check_end(&mut self) -> io::Result<()> {
        if self.delivered != self.record.size {
            return Err(self.corrupt(format!(
                "{} bytes stored, {} recorded",
                self.delivered, self.record.size
            )));
        }
        if let Some(digest) = self.digest.take() {
            let hash: [u8; 20] = digest.finalize().into();
            if hash != self.record.hash {
                return Err(self.corrupt("its SHA-1 differs from the recorded one".to_owned()));
            }
        }
        Ok(())
    }
}

impl DocumentReader {
    /// Loads the next stored chunk, hashing and counting it; `None` at the end, once the final
    /// checks passed.
    fn load(&mut self) -> io::Result<Option<Vec<u8>>> {
        if self.next_chunk == self.record.chunk_count() {
            self.check_end()?;
            return Ok(None);
        }
        let chunk = self
            .store
            .chunk(self.record.blob, self.next_chunk)
            .map_err(|error| io::Error::other(error.message))?;
        let Some(chunk) = chunk else {
            return Err(self.corrupt(format!("chunk {} is missing", self.next_chunk)));
        };
        if let Some(digest) = &mut self.digest {
            digest.update(&chunk);
        }
        self.delivered += chunk.len() as u64;
        self.next_chunk += 1;
        Ok(Some(chunk))
    }

    /// The next stored chunk whole (for writers that take ownership of buffers), with the same
    /// checks as `read`; `None` at the end.
    pub fn next_chunk(&mut self) -> io::Result<Option<Vec<u8>>> {
        if self.position < self.current.len() {
            let rest = self.current.split_off(self.position);
            self.current.clear();
            self.position = 0;
            return Ok(Some(rest));
        }
        self.load()
    }
}

impl Read for DocumentReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        while self.position == self.current.len() {
            match self.load()? {
                None => return Ok(0),
                Some(chunk) => {
                    self.current = chunk;
                    self.position = 0;
                }
            }
        }
        let count = out.len().min(self.current.len() - self.position);
        out[..count].copy_from_slice(&self.current[self.position..self.position + count]);
        self.position += count;
        Ok(count)
    }
}

/// The error of a document this repository does not hold (or the caller may not read).
fn not_here(unique_id: &str) -> RegistryError {
    RegistryError::error(
        XdsErrorCode::DocumentUniqueIdError,
        format!("document {unique_id} is not in this repository"),
    )
    .at(unique_id)
}
