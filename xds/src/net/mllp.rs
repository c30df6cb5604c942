//! MLLP, the Minimal Lower Layer Protocol that carries HL7 v2 over TCP (ITI TF-2 Appendix C):
//! each message is framed as `<VT> message <FS><CR>` (0x0B ... 0x1C 0x0D).
//!
//! [`FrameReader`] reads frames with a size limit and two clocks (how long a connection may
//! stay silent between messages, and how long one message may take to arrive), so a client that
//! stalls or streams without end costs a bounded amount of memory and time. [`Client`] is the
//! sending side (the conformance harness's patient feeds, tests).

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout, timeout_at};

/// Start of a frame (VT).
pub const START: u8 = 0x0B;
/// End of a frame (FS), followed by CR.
pub const END: u8 = 0x1C;
pub const CR: u8 = 0x0D;

/// Why a frame could not be read. Every variant ends the connection: after a framing error
/// the reader cannot know where the next message starts.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    #[error("byte 0x{0:02X} where a frame should start (0x0B)")]
    NotFramed(u8),
    #[error("the peer closed the connection in the middle of a message ({0} bytes received)")]
    Truncated(usize),
    #[error("message larger than {0} bytes")]
    TooLarge(usize),
    #[error("no message for {0:?}")]
    Idle(Duration),
    #[error("a message took longer than {0:?} to arrive ({1} bytes received)")]
    Stalled(Duration, usize),
    #[error("{0}")]
    Io(#[from] io::Error),
}

/// Limits of a [`FrameReader`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameLimits {
    /// Largest message (between the delimiters).
    pub max_bytes: usize,
    /// Longest silence between two messages.
    pub idle: Duration,
    /// Longest time from a frame's first byte to its last.
    pub message: Duration,
}

impl Default for FrameLimits {
    fn default() -> Self {
        Self {
            max_bytes: 1 << 20,
            idle: Duration::from_secs(300),
            message: Duration::from_secs(30),
        }
    }
}

/// Reads MLLP frames.
#[derive(Debug)]
pub struct FrameReader<R> {
    reader: BufReader<R>,
    limits: FrameLimits,
}

impl<R: AsyncRead + Unpin> FrameReader<R> {
    pub fn new(reader: R, limits: FrameLimits) -> Self {
        Self {
            reader: BufReader::new(reader),
            limits,
        }
    }

    /// The next message, without its delimiters; `None` when the peer closed the connection
    /// between messages. Line breaks between frames are skipped.
    pub async fn next(&mut self) -> Result<Option<Vec<u8>>, FrameError> {
        // Wait for the start byte, skipping line breaks some senders put between frames.
        loop {
            let available = match timeout(self.limits.idle, self.reader.fill_buf()).await {
                Ok(result) => result?,
                Err(_) => return Err(FrameError::Idle(self.limits.idle)),
            };
            let Some(&first) = available.first() else {
                return Ok(None);
            };
            match first {
                START => {
                    self.reader.consume(1);
                    break;
                }
                CR | b'\n' => self.reader.consume(1),
                other => return Err(FrameError::NotFramed(other)),
            }
        }
        let deadline = Instant::now() + self.limits.message;
        let mut message = Vec::new();
        loop {
            let available = match timeout_at(deadline, self.reader.fill_buf()).await {
                Ok(result) => result?,
                Err(_) => return Err(FrameError::Stalled(self.limits.message, message.len())),
            };
            if available.is_empty() {
                return Err(FrameError::Truncated(message.len()));
            }
            match memchr_end(available) {
                Some(position) => {
                    if message.len() + position > self.limits.max_bytes {
                        return Err(FrameError::TooLarge(self.limits.max_bytes));
                    }
                    message.extend_from_slice(&available[..position]);
                    self.reader.consume(position + 1);
                    break;
                }
                None => {
                    let length = available.len();
                    if message.len() + length > self.limits.max_bytes {
                        return Err(FrameError::TooLarge(self.limits.max_bytes));
                    }
                    message.extend_from_slice(available);
                    self.reader.consume(length);
                }
            }
        }
        // The CR after FS; tolerated when missing (some senders omit it).
        if let Ok(Ok(available)) = timeout_at(deadline, self.reader.fill_buf()).await
            && available.first() == Some(&CR)
        {
            self.reader.consume(1);
        }
        Ok(Some(message))
    }

    /// The underlying stream (to write answers on the same connection).
    pub fn get_mut(&mut self) -> &mut R {
        self.reader.get_mut()
    }
}

fn memchr_end(bytes: &[u8]) -> Option<usize> {
    bytes.iter().position(|byte| *byte == END)
}

/// Writes one framed message.
pub async fn write_frame<W: AsyncWrite + Unpin>(writer: &mut W, message: &[u8]) -> io::Result<()> {
    let mut frame = Vec::with_capacity(message.len() + 3);
    frame.push(START);
    frame.extend_from_slice(message);
    frame.extend_from_slice(&[END, CR]);
    writer.write_all(&frame).await?;
    writer.flush().await
}

/// An MLLP client: one connection, one message and its acknowledgement at a time.
#[derive(Debug)]
pub struct Client {
    frames: FrameReader<TcpStream>,
    answer_timeout: Duration,
}

impl Client {
    /// Connects; `answer_timeout` bounds the wait for each acknowledgement.
    pub async fn connect(address: SocketAddr, answer_timeout: Duration) -> io::Result<Self> {
        let stream = timeout(answer_timeout, TcpStream::connect(address))
            .await
            .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "connect timed out"))??;
        stream.set_nodelay(true)?;
        Ok(Self {
            frames: FrameReader::new(
                stream,
                FrameLimits {
                    idle: answer_timeout,
                    message: answer_timeout,
                    ..FrameLimits::default()
                },
            ),
            answer_timeout,
        })
    }

    /// Sends a message and returns the acknowledgement's bytes.
    pub async fn send(&mut self, message: &[u8]) -> Result<Vec<u8>, FrameError> {
        write_frame(self.frames.get_mut(), message).await?;
        match self.frames.next().await? {
            Some(answer) => Ok(answer),
            None => Err(FrameError::Truncated(0)),
        }
    }

    pub fn answer_timeout(&self) -> Duration {
        self.answer_timeout
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(max_bytes: usize) -> FrameLimits {
        FrameLimits {
            max_bytes,
            idle: Duration::from_millis(200),
            message: Duration::from_millis(200),
        }
    }

    async fn frames(bytes: &[u8], max: usize) -> Vec<Result<Option<Vec<u8>>, String>> {
        let mut reader = FrameReader::new(bytes, limits(max));
        let mut out = Vec::new();
        loop {
            let next = reader.next().await.map_err(|error| error.to_string());
            let stop = !matches!(next, Ok(Some(_)));
            out.push(next);
            if stop {
                return out;
            }
        }
    }

    #[tokio::test]
    async fn frames_are_split_and_line_breaks_between_them_skipped() {
        let bytes = b"\x0bMSH|one\x1c\x0d\r\n\x0bMSH|two\x1c\x0bMSH|three\x1c\x0d";
        let read = frames(bytes, 100).await;
        assert_eq!(
            read,
            vec![
                Ok(Some(b"MSH|one".to_vec())),
                Ok(Some(b"MSH|two".to_vec())),
                Ok(Some(b"MSH|three".to_vec())),
                Ok(None)
            ]
        );
    }

    #[tokio::test]
    async fn broken_framing_is_an_error() {
        let read = frames(b"MSH|no frame\r", 100).await;
        assert!(
            matches!(&read[0], Err(message) if message.contains("0x4D")),
            "{read:?}"
        );
        let read = frames(b"\x0bMSH|cut", 100).await;
        assert!(
            matches!(&read[0], Err(message) if message.contains("closed")),
            "{read:?}"
        );
        let read = frames(b"\x0bMSH|0123456789\x1c\x0d", 8).await;
        assert!(
            matches!(&read[0], Err(message) if message.contains("larger")),
            "{read:?}"
        );
    }

    #[tokio::test]
    async fn a_stalled_peer_times_out() {
        let (client, server) = tokio::io::duplex(64);
        let mut reader = FrameReader::new(server, limits(100));
        let mut client = client;
        client.write_all(b"\x0bMSH|half").await.expect("write");
        let error = reader.next().await.expect_err("stalls");
        assert!(matches!(error, FrameError::Stalled(..)), "{error}");
        let (_client, server) = tokio::io::duplex(64);
        let mut reader = FrameReader::new(server, limits(100));
        assert!(matches!(reader.next().await, Err(FrameError::Idle(_))));
    }
}
