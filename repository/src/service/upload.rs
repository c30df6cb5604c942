//! Where ITI-41 documents go while the message is decoded: each attachment streams into the
//! store in chunks while its SHA-1 and size are computed. Nothing of a failed or rejected
//! upload stays behind: [`Uploads`] removes every blob it still owns when dropped.

use std::sync::Arc;

use sha1::{Digest, Sha1};
use xds::wire::{AttachmentInfo, AttachmentSink, SinkError};

use crate::store::{BlobId, CHUNK_BYTES, DocumentStore};

/// A stored attachment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredBlob {
    pub blob: BlobId,
    pub size: u64,
    pub hash: [u8; 20],
}

struct Writing {
    blob: BlobId,
    next_chunk: u32,
    buffer: Vec<u8>,
    digest: Sha1,
    size: u64,
}

/// The attachment sink of the repository.
pub struct BlobSink {
    store: Arc<dyn DocumentStore>,
    uploads: Uploads,
    current: Option<Writing>,
}

impl std::fmt::Debug for BlobSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlobSink")
            .field("blobs", &self.uploads.blobs.len())
            .finish()
    }
}

fn sink_error(error: impl std::fmt::Display) -> SinkError {
    SinkError(format!("storing the document failed: {error}"))
}

impl BlobSink {
    pub fn new(store: Arc<dyn DocumentStore>) -> Self {
        Self {
            uploads: Uploads {
                store: Arc::clone(&store),
                blobs: Vec::new(),
            },
            store,
            current: None,
        }
    }

    /// The blobs stored so far, owned by the returned guard.
    pub fn into_uploads(mut self) -> Uploads {
        self.abort();
        std::mem::replace(
            &mut self.uploads,
            Uploads {
                store: Arc::clone(&self.store),
                blobs: Vec::new(),
            },
        )
    }

    fn flush_chunk(&self, writing: &mut Writing) -> Result<(), SinkError> {
        self.store
            .put_chunk(writing.blob, writing.next_chunk, &writing.buffer)
            .map_err(sink_error)?;
        writing.next_chunk += 1;
        writing.buffer.clear();
        Ok(())
    }
}

impl AttachmentSink for BlobSink {
    type Handle = StoredBlob;

    fn begin(&mut self, _info: &AttachmentInfo<'_>) -> Result<(), SinkError> {
        self.abort();
        let blob = self.store.begin_blob().map_err(sink_error)?;
        self.uploads.blobs.push(blob);
        self.current = Some(Writing {
            blob,
            next_chunk: 0,
            buffer: Vec::with_capacity(64 * 1024),
            digest: Sha1::new(),
            size: 0,
        });
        Ok(())
    }

    fn write(&mut self, mut chunk: &[u8]) -> Result<(), SinkError> {
        let Some(mut writing) = self.current.take() else {
            return Err(SinkError("write without begin".to_owned()));
        };
        writing.digest.update(chunk);
        writing.size += chunk.len() as u64;
        while !chunk.is_empty() {
            let room = CHUNK_BYTES - writing.buffer.len();
            let count = room.min(chunk.len());
            writing.buffer.extend_from_slice(&chunk[..count]);
            chunk = &chunk[count..];
            if writing.buffer.len() == CHUNK_BYTES
                && let Err(error) = self.flush_chunk(&mut writing)
            {
                self.current = Some(writing);
                return Err(error);
            }
        }
        self.current = Some(writing);
        Ok(())
    }

    fn finish(&mut self) -> Result<StoredBlob, SinkError> {
        let Some(mut writing) = self.current.take() else {
            return Err(SinkError("finish without begin".to_owned()));
        };
        if !writing.buffer.is_empty() {
            self.flush_chunk(&mut writing)?;
        }
        Ok(StoredBlob {
            blob: writing.blob,
            size: writing.size,
            hash: writing.digest.finalize().into(),
        })
    }

    fn abort(&mut self) {
        if let Some(writing) = self.current.take() {
            self.uploads.release(writing.blob);
        }
    }
}

/// Blobs of one request that nothing durable refers to yet; removed on drop unless handed
/// over with [`Uploads::adopt`] (a recorded intent then owns them).
pub struct Uploads {
    store: Arc<dyn DocumentStore>,
    blobs: Vec<BlobId>,
}

impl std::fmt::Debug for Uploads {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Uploads")
            .field("blobs", &self.blobs)
            .finish()
    }
}

impl Uploads {
    /// Removes one blob now.
    fn release(&mut self, blob: BlobId) {
        self.blobs.retain(|kept| *kept != blob);
        if let Err(error) = self.store.discard_blobs(&[blob]) {
            tracing::warn!(%blob, "failed to {error:#}; start-up will remove it");
        }
    }

    /// Hands every blob over to a durable intent.
    pub fn adopt(&mut self) {
        self.blobs.clear();
    }
}

impl Drop for Uploads {
    fn drop(&mut self) {
        if self.blobs.is_empty() {
            return;
        }
        if let Err(error) = self.store.discard_blobs(&self.blobs) {
            tracing::warn!(
                blobs = self.blobs.len(),
                "failed to {error:#}; start-up will remove them"
            );
        }
    }
}
