//! Where document bytes go while a message is decoded. The decoder never keeps a document in
//! memory: it streams each MTOM part, and each inline base64 `xds:Document` once decoded, into
//! an [`AttachmentSink`] chosen by the caller (a blob store in the repository, a buffer in tests).

use std::fmt;

use base64::Engine;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

/// What the decoder knows about an attachment when it starts.
#[derive(Debug, Clone, Copy)]
pub struct AttachmentInfo<'a> {
    /// Content-ID of the MIME part (no angle brackets); `None` for inline content.
    pub content_id: Option<&'a str>,
    /// Content-Type of the MIME part; `None` for inline content.
    pub content_type: Option<&'a str>,
    /// `xds:Document/@id` for inline content.
    pub document_id: Option<&'a str>,
}

/// A storage failure reported by a sink.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SinkError(pub String);

impl fmt::Display for SinkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SinkError {}

/// Receives attachments one at a time: `begin`, any number of `write`s, then `finish` (or
/// `abort` when decoding fails part-way, which must discard what was written).
pub trait AttachmentSink {
    type Handle;
    fn begin(&mut self, info: &AttachmentInfo<'_>) -> Result<(), SinkError>;
    fn write(&mut self, chunk: &[u8]) -> Result<(), SinkError>;
    fn finish(&mut self) -> Result<Self::Handle, SinkError>;
    fn abort(&mut self);
}

/// Keeps attachments in memory (tests, small messages, clients).
#[derive(Debug, Default)]
pub struct MemorySink {
    current: Option<Vec<u8>>,
}

impl AttachmentSink for MemorySink {
    type Handle = Vec<u8>;

    fn begin(&mut self, _info: &AttachmentInfo<'_>) -> Result<(), SinkError> {
        self.current = Some(Vec::new());
        Ok(())
    }

    fn write(&mut self, chunk: &[u8]) -> Result<(), SinkError> {
        match &mut self.current {
            Some(buffer) => {
                buffer.extend_from_slice(chunk);
                Ok(())
            }
            None => Err(SinkError("write without begin".to_owned())),
        }
    }

    fn finish(&mut self) -> Result<Vec<u8>, SinkError> {
        self.current
            .take()
            .ok_or_else(|| SinkError("finish without begin".to_owned()))
    }

    fn abort(&mut self) {
        self.current = None;
    }
}

/// Counts bytes and discards them (benchmarks, size-only checks).
#[derive(Debug, Default)]
pub struct CountingSink {
    current: u64,
}

impl AttachmentSink for CountingSink {
    type Handle = u64;

    fn begin(&mut self, _info: &AttachmentInfo<'_>) -> Result<(), SinkError> {
        self.current = 0;
        Ok(())
    }

    fn write(&mut self, chunk: &[u8]) -> Result<(), SinkError> {
        self.current += chunk.len() as u64;
        Ok(())
    }

    fn finish(&mut self) -> Result<u64, SinkError> {
        Ok(self.current)
    }

    fn abort(&mut self) {
        self.current = 0;
    }
}

/// Why streamed base64 is invalid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Base64Error {
    InvalidCharacter(u8),
    DataAfterPadding,
    Length,
    Decode(String),
}

impl fmt::Display for Base64Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidCharacter(byte) => {
                write!(f, "byte 0x{byte:02x} is not a base64 character")
            }
            Self::DataAfterPadding => f.write_str("data after '=' padding"),
            Self::Length => f.write_str("length is not a whole number of base64 quanta"),
            Self::Decode(message) => f.write_str(message),
        }
    }
}

const ENGINE: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

const CHUNK: usize = 64 * 1024;

/// Incremental base64 decoder: feed any slices (XML whitespace is skipped), get decoded bytes
/// out in chunks, memory bounded by [`CHUNK`].
#[derive(Debug)]
pub(crate) struct Base64Stream {
    pending: Vec<u8>,
    output: Vec<u8>,
    padded: bool,
}

impl Base64Stream {
    pub(crate) fn new() -> Self {
        Self {
            pending: Vec::with_capacity(CHUNK + 4),
            output: vec![0; CHUNK / 4 * 3 + 3],
            padded: false,
        }
    }

    /// Feeds encoded bytes; calls `emit` with decoded chunks.
    pub(crate) fn feed(
        &mut self,
        input: &[u8],
        emit: &mut dyn FnMut(&[u8]) -> Result<(), SinkError>,
    ) -> Result<(), FeedError> {
        for &byte in input {
            match byte {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'+' | b'/' => {
                    if self.padded {
                        return Err(FeedError::Base64(Base64Error::DataAfterPadding));
                    }
                    self.pending.push(byte);
                }
                b'=' => {
                    self.padded = true;
                    self.pending.push(byte);
                }
                b' ' | b'\t' | b'\r' | b'\n' => {}
                other => return Err(FeedError::Base64(Base64Error::InvalidCharacter(other))),
            }
            if self.pending.len() >= CHUNK && !self.padded {
                self.flush_whole(emit)?;
            }
        }
        Ok(())
    }

    fn flush_whole(
        &mut self,
        emit: &mut dyn FnMut(&[u8]) -> Result<(), SinkError>,
    ) -> Result<(), FeedError> {
        let whole = self.pending.len() / 4 * 4;
        if whole == 0 {
            return Ok(());
        }
        let written = ENGINE
            .decode_slice(&self.pending[..whole], &mut self.output)
            .map_err(|error| FeedError::Base64(Base64Error::Decode(error.to_string())))?;
        emit(&self.output[..written]).map_err(FeedError::Sink)?;
        self.pending.drain(..whole);
        Ok(())
    }

    /// Decodes what remains; the total must be a whole number of quanta (padding optional).
    pub(crate) fn finish(
        &mut self,
        emit: &mut dyn FnMut(&[u8]) -> Result<(), SinkError>,
    ) -> Result<(), FeedError> {
        let rest = self.pending.len() % 4;
        let unpadded = self
            .pending
            .iter()
            .rev()
            .take_while(|byte| **byte == b'=')
            .count();
        if (rest == 1) || (self.padded && rest != 0) || unpadded > 2 {
            return Err(FeedError::Base64(Base64Error::Length));
        }
        if self.pending.is_empty() {
            return Ok(());
        }
        let written = ENGINE
            .decode_slice(&self.pending, &mut self.output)
            .map_err(|error| FeedError::Base64(Base64Error::Decode(error.to_string())))?;
        emit(&self.output[..written]).map_err(FeedError::Sink)?;
        self.pending.clear();
        Ok(())
    }
}

/// A base64 or sink failure while streaming.
#[derive(Debug)]
pub(crate) enum FeedError {
    Base64(Base64Error),
    Sink(SinkError),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_all(pieces: &[&[u8]]) -> Result<Vec<u8>, FeedError> {
        let mut stream = Base64Stream::new();
        let mut out = Vec::new();
        let mut emit = |chunk: &[u8]| {
            out.extend_from_slice(chunk);
            Ok(())
        };
        for piece in pieces {
            stream.feed(piece, &mut emit)?;
        }
        stream.finish(&mut emit)?;
        Ok(out)
    }

    #[test]
    fn decodes_across_arbitrary_splits_and_whitespace() {
        let text = b"UGF0aWVudCBzZWVuIGZvciBmb2xsb3ctdXAuIE5vIGNvbXBsYWludHMuCg==";
        for split in 0..text.len() {
            let (left, right) = text.split_at(split);
            assert_eq!(
                decode_all(&[left, b"\r\n ", right]).unwrap(),
                b"Patient seen for follow-up. No complaints.\n"
            );
        }
    }

    #[test]
    fn large_input_streams_in_chunks() {
        let data: Vec<u8> = (0..300_000u32).map(|index| (index % 251) as u8).collect();
        let encoded = base64::engine::general_purpose::STANDARD.encode(&data);
        let mut with_newlines = Vec::new();
        for line in encoded.as_bytes().chunks(76) {
            with_newlines.extend_from_slice(line);
            with_newlines.extend_from_slice(b"\n");
        }
        assert_eq!(decode_all(&[&with_newlines]).unwrap(), data);
    }

    #[test]
    fn rejects_bad_base64() {
        assert!(matches!(
            decode_all(&[b"QQ==QUJD"]),
            Err(FeedError::Base64(Base64Error::DataAfterPadding))
        ));
        assert!(matches!(
            decode_all(&[b"QU*D"]),
            Err(FeedError::Base64(Base64Error::InvalidCharacter(b'*')))
        ));
        assert!(matches!(
            decode_all(&[b"QUJDR"]),
            Err(FeedError::Base64(Base64Error::Length))
        ));
        assert_eq!(
            decode_all(&[b"QUI"]).unwrap(),
            b"AB",
            "missing padding is tolerated"
        );
        assert_eq!(decode_all(&[b""]).unwrap(), b"");
    }
}
