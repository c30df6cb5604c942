//! `multipart/related` framing (RFC 2046 §5.1, RFC 2387) for MTOM/XOP: a pull reader that hands
//! out each part as a [`BufRead`] so no part is ever held whole in memory, and a writer for the
//! framing bytes around streamed parts.
//!
//! Tolerance, as XDS peers need it: CRLF or bare LF line ends, transport padding after a
//! boundary, folded header lines, a preamble and an epilogue. Strictness: the body must end
//! with the closing delimiter, header blocks are bounded, and a line that merely starts with
//! the boundary text is content, not a delimiter.

use std::io::{self, BufRead, Read, Write};

use memchr::memmem;

use super::error::DecodeError;
use super::mime::{MimeError, normalize_content_id};

/// Why the input stream stopped being readable, carried through `io::Error` so that readers
/// layered above (the XML parser) report the real cause.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputAbort {
    #[error(transparent)]
    Mime(#[from] MimeError),
    #[error("envelope larger than {0} bytes")]
    EnvelopeTooLarge(u64),
    #[error("message larger than {0} bytes")]
    MessageTooLarge(u64),
}

impl InputAbort {
    pub(crate) fn into_io(self) -> io::Error {
        io::Error::new(io::ErrorKind::InvalidData, self)
    }

    /// Recovers the abort reason from an `io::Error` produced by [`InputAbort::into_io`].
    pub(crate) fn from_io(error: &io::Error) -> Option<Self> {
        error
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<InputAbort>())
            .cloned()
    }
}

impl From<InputAbort> for DecodeError {
    fn from(abort: InputAbort) -> Self {
        match abort {
            InputAbort::Mime(error) => DecodeError::Mime(error),
            InputAbort::EnvelopeTooLarge(limit) => DecodeError::EnvelopeTooLarge { limit },
            InputAbort::MessageTooLarge(limit) => DecodeError::MessageTooLarge { limit },
        }
    }
}

/// Converts an `io::Error` from a stream read into the precise decode error.
pub(crate) fn decode_error_from_io(error: io::Error) -> DecodeError {
    match InputAbort::from_io(&error) {
        Some(abort) => abort.into(),
        None => DecodeError::Io(error),
    }
}

/// The headers of one part that MTOM cares about.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PartHeaders {
    /// Content-ID without angle brackets.
    pub content_id: Option<String>,
    pub content_type: Option<String>,
    pub transfer_encoding: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Preamble,
    Headers,
    Body,
    /// The current part's body is finished; `last` says whether it was the closing delimiter.
    BodyDone {
        last: bool,
    },
    Done,
}

const MIN_BUFFER: usize = 64 * 1024;

/// Pull reader of a multipart body.
#[derive(Debug)]
pub struct MultipartReader<R> {
    source: R,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    eof: bool,
    /// `\n--boundary`.
    delimiter: Vec<u8>,
    finder: memmem::Finder<'static>,
    state: State,
    part_index: usize,
    max_parts: usize,
    max_header_bytes: usize,
    bytes_read: u64,
    max_message_bytes: u64,
}

impl<R: Read> MultipartReader<R> {
    pub fn new(
        source: R,
        boundary: &str,
        max_parts: usize,
        max_header_bytes: usize,
        max_message_bytes: u64,
    ) -> Result<Self, MimeError> {
        // RFC 2046: 1 to 70 characters, no trailing space.
        if boundary.is_empty() || boundary.len() > 200 || boundary.ends_with(' ') {
            return Err(MimeError::InvalidBoundary(boundary.to_owned()));
        }
        let mut delimiter = b"\n--".to_vec();
        delimiter.extend_from_slice(boundary.as_bytes());
        let finder = memmem::Finder::new(&delimiter).into_owned();
        let capacity = MIN_BUFFER.max(delimiter.len() * 4 + max_header_bytes);
        Ok(Self {
            source,
            buf: vec![0; capacity],
            start: 0,
            end: 0,
            eof: false,
            delimiter,
            finder,
            state: State::Preamble,
            part_index: 0,
            max_parts,
            max_header_bytes,
            bytes_read: 0,
            max_message_bytes,
        })
    }

    /// Total bytes read from the source so far.
    pub fn bytes_read(&self) -> u64 {
        self.bytes_read
    }

    /// 1-based index of the current part.
    pub fn part_index(&self) -> usize {
        self.part_index
    }

    /// Reads more input into the buffer; returns false at end of input.
    fn fill_more(&mut self) -> io::Result<bool> {
        if self.eof {
            return Ok(false);
        }
        if self.start > 0 && (self.start == self.end || self.end == self.buf.len()) {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.end == self.buf.len() {
            let new_len = self.buf.len() * 2;
            self.buf.resize(new_len, 0);
        }
        loop {
            match self.source.read(&mut self.buf[self.end..]) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(false);
                }
                Ok(count) => {
                    self.end += count;
                    self.bytes_read += count as u64;
                    if self.bytes_read > self.max_message_bytes {
                        return Err(InputAbort::MessageTooLarge(self.max_message_bytes).into_io());
                    }
                    return Ok(true);
                }
                Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                Err(error) => return Err(error),
            }
        }
    }

    fn available(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    /// Advances to the next part and returns its headers; `None` after the closing delimiter.
    /// Whatever the caller left unread of the previous part is skipped.
    pub fn next_part(&mut self) -> Result<Option<PartHeaders>, DecodeError> {
        loop {
            match self.state {
                State::Done => return Ok(None),
                State::Preamble => {
                    self.skip_preamble()?;
                }
                State::Body => {
                    // Drain the rest of the current part.
                    loop {
                        let length = self.body_fill().map_err(decode_error_from_io)?.len();
                        if length == 0 {
                            break;
                        }
                        self.start += length;
                    }
                }
                State::BodyDone { last: true } => {
                    self.state = State::Done;
                    return Ok(None);
                }
                State::BodyDone { last: false } | State::Headers => {
                    self.part_index += 1;
                    if self.part_index > self.max_parts {
                        return Err(DecodeError::TooManyParts {
                            limit: self.max_parts,
                        });
                    }
                    let headers = self.read_headers()?;
                    self.state = State::Body;
                    return Ok(Some(headers));
                }
            }
        }
    }

    /// The current part's body as a `BufRead`, ending at the next delimiter.
    pub fn body(&mut self) -> PartBody<'_, R> {
        PartBody { reader: self }
    }

    fn skip_preamble(&mut self) -> Result<(), DecodeError> {
        let dash_boundary = self.delimiter[1..].to_vec();
        loop {
            let available = self.available();
            // The first delimiter may open the body without a preceding line break.
            let found = if available.starts_with(&dash_boundary) {
                Some(0)
            } else {
                self.finder.find(available).map(|index| index + 1)
            };
            match found {
                Some(index) => {
                    self.start += index + dash_boundary.len();
                    let last = self.finish_delimiter_line()?;
                    self.state = if last { State::Done } else { State::Headers };
                    if last {
                        return Err(MimeError::Empty.into());
                    }
                    return Ok(());
                }
                None => {
                    // Keep a tail that could be the start of the delimiter.
                    let keep = self.delimiter.len().min(available.len());
                    self.start = self.end - keep;
                    if !self.fill_more().map_err(decode_error_from_io)? {
                        return Err(MimeError::NoOpeningBoundary.into());
                    }
                }
            }
        }
    }

    /// After `--boundary`: `--` closes the package; otherwise transport padding and a line end.
    /// Returns whether this was the closing delimiter.
    fn finish_delimiter_line(&mut self) -> Result<bool, DecodeError> {
        loop {
            let available = self.available();
            if available.len() >= 2 && &available[..2] == b"--" {
                self.start += 2;
                return Ok(true);
            }
            if let Some(newline) = memchr::memchr(b'\n', available) {
                let padding = &available[..newline];
                let padding = padding.strip_suffix(b"\r").unwrap_or(padding);
                if padding.iter().all(|byte| *byte == b' ' || *byte == b'\t') {
                    self.start += newline + 1;
                    return Ok(false);
                }
                return Err(MimeError::MalformedHeader {
                    part: self.part_index + 1,
                    line: String::from_utf8_lossy(padding).into_owned(),
                }
                .into());
            }
            if available.len() > 1024 {
                return Err(MimeError::MalformedHeader {
                    part: self.part_index + 1,
                    line: String::from_utf8_lossy(&available[..64]).into_owned(),
                }
                .into());
            }
            if !self.fill_more().map_err(decode_error_from_io)? {
                // "--boundary" at the very end without "--": the package is cut off.
                return Err(MimeError::Truncated {
                    part: self.part_index,
                }
                .into());
            }
        }
    }

    fn read_headers(&mut self) -> Result<PartHeaders, DecodeError> {
        let part = self.part_index;
        let mut headers = PartHeaders::default();
        let mut lines: Vec<(String, String)> = Vec::new();
        let mut consumed = 0usize;
        loop {
            let available = self.available();
            let Some(newline) = memchr::memchr(b'\n', available) else {
                if available.len() + consumed > self.max_header_bytes {
                    return Err(MimeError::HeaderTooLarge {
                        part,
                        limit: self.max_header_bytes,
                    }
                    .into());
                }
                if !self.fill_more().map_err(decode_error_from_io)? {
                    return Err(MimeError::Truncated { part }.into());
                }
                continue;
            };
            consumed += newline + 1;
            if consumed > self.max_header_bytes {
                return Err(MimeError::HeaderTooLarge {
                    part,
                    limit: self.max_header_bytes,
                }
                .into());
            }
            let raw_line = &available[..newline];
            let raw_line = raw_line.strip_suffix(b"\r").unwrap_or(raw_line);
            let line = String::from_utf8_lossy(raw_line).into_owned();
            self.start += newline + 1;
            if line.is_empty() {
                break;
            }
            if line.starts_with([' ', '\t']) {
                match lines.last_mut() {
                    Some((_, value)) => {
                        value.push(' ');
                        value.push_str(line.trim());
                    }
                    None => return Err(MimeError::MalformedHeader { part, line }.into()),
                }
                continue;
            }
            let Some((name, value)) = line.split_once(':') else {
                return Err(MimeError::MalformedHeader { part, line }.into());
            };
            let name = name.trim();
            if name.is_empty() || name.contains(char::is_whitespace) {
                return Err(MimeError::MalformedHeader {
                    part,
                    line: line.clone(),
                }
                .into());
            }
            lines.push((name.to_ascii_lowercase(), value.trim().to_owned()));
        }
        for (name, value) in lines {
            match name.as_str() {
                "content-id" => headers.content_id = Some(normalize_content_id(&value)),
                "content-type" => headers.content_type = Some(value),
                "content-transfer-encoding" => headers.transfer_encoding = Some(value),
                _ => {}
            }
        }
        Ok(headers)
    }

    /// The body bytes available before the next delimiter; empty at the end of the part.
    fn body_fill(&mut self) -> io::Result<&[u8]> {
        if self.state != State::Body {
            return Ok(&[]);
        }
        let mut search_from = 0usize;
        loop {
            let available_len = self.end - self.start;
            let available = &self.buf[self.start..self.end];
            if let Some(relative) = self.finder.find(&available[search_from..]) {
                let index = search_from + relative;
                let after = index + self.delimiter.len();
                if available_len < after + 2 && !self.eof {
                    if self.fill_more()? {
                        continue;
                    }
                    continue;
                }
                let following = &available[after..available_len.min(after + 2)];
                let is_close = following == b"--";
                let is_delimiter = is_close
                    || following
                        .first()
                        .is_some_and(|byte| matches!(byte, b' ' | b'\t' | b'\r' | b'\n'));
                if !is_delimiter {
                    if following.is_empty() {
                        // Input ended right after "--boundary": truncated.
                        return Err(InputAbort::Mime(MimeError::Truncated {
                            part: self.part_index,
                        })
                        .into_io());
                    }
                    // Content that happens to start a line with the boundary text.
                    search_from = index + 1;
                    continue;
                }
                let mut body_end = index;
                if body_end > 0 && available[body_end - 1] == b'\r' {
                    body_end -= 1;
                }
                if body_end > 0 {
                    return Ok(&self.buf[self.start..self.start + body_end]);
                }
                // At the delimiter: finish the part.
                self.start += index + self.delimiter.len();
                let last = match self.finish_delimiter_line() {
                    Ok(last) => last,
                    Err(DecodeError::Mime(error)) => return Err(InputAbort::Mime(error).into_io()),
                    Err(DecodeError::Io(error)) => return Err(error),
                    Err(other) => return Err(io::Error::other(other.to_string())),
                };
                self.state = State::BodyDone { last };
                return Ok(&[]);
            }
            // No delimiter in view: hand out everything except a tail that could begin one.
            let hold = self.delimiter.len() + 1;
            if available_len > hold {
                return Ok(&self.buf[self.start..self.end - hold]);
            }
            if !self.fill_more()? {
                return Err(InputAbort::Mime(MimeError::Truncated {
                    part: self.part_index,
                })
                .into_io());
            }
            search_from = 0;
        }
    }
}

/// One part's body; reading stops at the part's end.
#[derive(Debug)]
pub struct PartBody<'a, R> {
    reader: &'a mut MultipartReader<R>,
}

impl<R: Read> Read for PartBody<'_, R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let count = available.len().min(out.len());
        out[..count].copy_from_slice(&available[..count]);
        self.consume(count);
        Ok(count)
    }
}

impl<R: Read> BufRead for PartBody<'_, R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.reader.body_fill()
    }

    fn consume(&mut self, amount: usize) {
        self.reader.start += amount;
    }
}

/// Writes the framing of a multipart/related MTOM package; the caller streams part bodies in
/// between.
#[derive(Debug, Clone)]
pub struct MultipartWriter {
    boundary: String,
}

impl MultipartWriter {
    /// `boundary` must not occur in any part; derive it from 128 random bits.
    pub fn new(boundary: impl Into<String>) -> Self {
        Self {
            boundary: boundary.into(),
        }
    }

    /// A boundary from 16 random bytes supplied by the caller.
    pub fn boundary_from_random(random: [u8; 16]) -> String {
        let mut boundary = String::from("MIMEBoundary_");
        for byte in random {
            boundary.push_str(&format!("{byte:02x}"));
        }
        boundary
    }

    pub fn boundary(&self) -> &str {
        &self.boundary
    }

    /// The HTTP Content-Type of an MTOM message whose root part has `root_content_id`.
    pub fn content_type(&self, root_content_id: &str, action: Option<&str>) -> String {
        let mut value = format!(
            "multipart/related; boundary=\"{}\"; type=\"application/xop+xml\"; start=\"<{}>\"; start-info=\"application/soap+xml\"",
            self.boundary, root_content_id
        );
        if let Some(action) = action {
            value.push_str(&format!("; action=\"{action}\""));
        }
        value
    }

    /// Delimiter and headers opening the root (SOAP) part.
    pub fn root_part_header(&self, content_id: &str) -> Vec<u8> {
        format!(
            "--{}\r\nContent-Type: application/xop+xml; charset=UTF-8; type=\"application/soap+xml\"\r\nContent-Transfer-Encoding: binary\r\nContent-ID: <{}>\r\n\r\n",
            self.boundary, content_id
        )
        .into_bytes()
    }

    /// Delimiter and headers opening an attachment part.
    pub fn part_header(&self, content_id: &str, content_type: &str) -> Vec<u8> {
        format!(
            "\r\n--{}\r\nContent-Type: {}\r\nContent-Transfer-Encoding: binary\r\nContent-ID: <{}>\r\n\r\n",
            self.boundary, content_type, content_id
        )
        .into_bytes()
    }

    /// The closing delimiter.
    pub fn closing(&self) -> Vec<u8> {
        format!("\r\n--{}--\r\n", self.boundary).into_bytes()
    }

    /// Writes a whole package: the root part holding `envelope`, then each attachment copied
    /// from its reader in bounded chunks (no attachment is held in memory). Returns the bytes
    /// written.
    pub fn write_package<W: Write>(
        &self,
        out: &mut W,
        root_content_id: &str,
        envelope: &[u8],
        attachments: impl IntoIterator<Item = OutgoingPart<impl Read>>,
    ) -> io::Result<u64> {
        let mut written = 0u64;
        let header = self.root_part_header(root_content_id);
        out.write_all(&header)?;
        out.write_all(envelope)?;
        written += (header.len() + envelope.len()) as u64;
        for mut part in attachments {
            let header = self.part_header(&part.content_id, &part.content_type);
            out.write_all(&header)?;
            written += header.len() as u64;
            written += io::copy(&mut part.body, out)?;
        }
        let closing = self.closing();
        out.write_all(&closing)?;
        Ok(written + closing.len() as u64)
    }
}

/// One attachment to write with [`MultipartWriter::write_package`].
#[derive(Debug)]
pub struct OutgoingPart<R> {
    pub content_id: String,
    pub content_type: String,
    pub body: R,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts_of(
        body: &[u8],
        boundary: &str,
        chunk: usize,
    ) -> Result<Vec<(PartHeaders, Vec<u8>)>, DecodeError> {
        let source = ChunkedReader { data: body, chunk };
        let mut reader = MultipartReader::new(source, boundary, 100, 4096, u64::MAX)?;
        let mut parts = Vec::new();
        while let Some(headers) = reader.next_part()? {
            let mut content = Vec::new();
            reader
                .body()
                .read_to_end(&mut content)
                .map_err(decode_error_from_io)?;
            parts.push((headers, content));
        }
        Ok(parts)
    }

    /// A source that returns at most `chunk` bytes per read, to exercise every split point.
    struct ChunkedReader<'a> {
        data: &'a [u8],
        chunk: usize,
    }

    impl Read for ChunkedReader<'_> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let count = self.chunk.min(out.len()).min(self.data.len());
            out[..count].copy_from_slice(&self.data[..count]);
            self.data = &self.data[count..];
            Ok(count)
        }
    }

    const PACKAGE: &[u8] = b"preamble\r\n--b1\r\nContent-Type: text/plain\r\nContent-ID: <root@x>\r\n\r\nhello\r\n--b1  \r\nContent-ID:\r\n  <second@x>\r\n\r\nline1\r\n--b1X not a delimiter\r\n\r\n--b1--\r\nepilogue";

    #[test]
    fn splits_parts_at_every_chunk_size() {
        for chunk in 1..PACKAGE.len() + 1 {
            let parts = parts_of(PACKAGE, "b1", chunk).unwrap();
            assert_eq!(parts.len(), 2, "chunk {chunk}");
            assert_eq!(parts[0].0.content_id.as_deref(), Some("root@x"));
            assert_eq!(parts[0].0.content_type.as_deref(), Some("text/plain"));
            assert_eq!(parts[0].1, b"hello");
            assert_eq!(
                parts[1].0.content_id.as_deref(),
                Some("second@x"),
                "folded header"
            );
            assert_eq!(
                parts[1].1, b"line1\r\n--b1X not a delimiter\r\n",
                "chunk {chunk}"
            );
        }
    }

    #[test]
    fn bare_lf_line_ends_are_accepted() {
        let body = b"--b\nContent-ID: <a>\n\nx\n\n--b\nContent-ID: <c>\n\ny\n--b--\n";
        let parts = parts_of(body, "b", 3).unwrap();
        assert_eq!(parts[0].1, b"x\n");
        assert_eq!(parts[1].1, b"y");
    }

    #[test]
    fn missing_closing_delimiter_is_truncation() {
        let body = b"--b\r\nContent-ID: <a>\r\n\r\nsome content that never ends";
        let error = parts_of(body, "b", 7).unwrap_err();
        assert!(
            matches!(error, DecodeError::Mime(MimeError::Truncated { part: 1 })),
            "{error:?}"
        );
        let body = b"--b\r\nContent-ID: <a>\r\n\r\nx\r\n--b";
        let error = parts_of(body, "b", 64).unwrap_err();
        assert!(
            matches!(error, DecodeError::Mime(MimeError::Truncated { .. })),
            "{error:?}"
        );
        let body = b"--b\r\nContent-ID: <a>\r\n";
        let error = parts_of(body, "b", 64).unwrap_err();
        assert!(
            matches!(error, DecodeError::Mime(MimeError::Truncated { part: 1 })),
            "{error:?}"
        );
    }

    #[test]
    fn no_boundary_at_all_is_refused() {
        let error = parts_of(b"just some text", "b", 64).unwrap_err();
        assert!(
            matches!(error, DecodeError::Mime(MimeError::NoOpeningBoundary)),
            "{error:?}"
        );
        let error = parts_of(b"--b--\r\n", "b", 64).unwrap_err();
        assert!(
            matches!(error, DecodeError::Mime(MimeError::Empty)),
            "{error:?}"
        );
    }

    #[test]
    fn oversized_header_block_is_refused() {
        let mut body = b"--b\r\nX-Long: ".to_vec();
        body.extend(std::iter::repeat_n(b'a', 10_000));
        body.extend_from_slice(b"\r\n\r\nx\r\n--b--");
        let source = ChunkedReader {
            data: &body,
            chunk: 512,
        };
        let mut reader = MultipartReader::new(source, "b", 10, 1024, u64::MAX).unwrap();
        let error = reader.next_part().unwrap_err();
        assert!(
            matches!(error, DecodeError::Mime(MimeError::HeaderTooLarge { .. })),
            "{error:?}"
        );
    }

    #[test]
    fn too_many_parts_and_too_many_bytes_are_refused() {
        let mut body = Vec::new();
        for index in 0..5 {
            body.extend_from_slice(format!("--b\r\nContent-ID: <{index}>\r\n\r\nx\r\n").as_bytes());
        }
        body.extend_from_slice(b"--b--\r\n");
        let mut reader = MultipartReader::new(
            ChunkedReader {
                data: &body,
                chunk: 1000,
            },
            "b",
            3,
            1024,
            u64::MAX,
        )
        .unwrap();
        let mut error = None;
        for _ in 0..5 {
            match reader.next_part() {
                Ok(Some(_)) => continue,
                Ok(None) => break,
                Err(found) => {
                    error = Some(found);
                    break;
                }
            }
        }
        assert!(matches!(
            error,
            Some(DecodeError::TooManyParts { limit: 3 })
        ));
        let mut reader = MultipartReader::new(
            ChunkedReader {
                data: &body,
                chunk: 10,
            },
            "b",
            30,
            1024,
            20,
        )
        .unwrap();
        let mut error = None;
        loop {
            match reader.next_part() {
                Ok(Some(_)) => continue,
                Ok(None) => break,
                Err(found) => {
                    error = Some(found);
                    break;
                }
            }
        }
        assert!(
            matches!(error, Some(DecodeError::MessageTooLarge { limit: 20 })),
            "{error:?}"
        );
    }

    #[test]
    fn writer_output_reads_back() {
        let writer = MultipartWriter::new("MIMEBoundary_test");
        let mut body = writer.root_part_header("root@example.org");
        body.extend_from_slice(b"<envelope/>");
        body.extend(writer.part_header("doc1@example.org", "text/plain"));
        body.extend_from_slice(b"line\r\n");
        body.extend(writer.closing());
        let parts = parts_of(&body, writer.boundary(), 5).unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].1, b"<envelope/>");
        assert_eq!(parts[1].0.content_id.as_deref(), Some("doc1@example.org"));
        assert_eq!(parts[1].1, b"line\r\n");
        let content_type = writer.content_type("root@example.org", Some("urn:a"));
        assert!(content_type.contains("start=\"<root@example.org>\""));
    }
}
