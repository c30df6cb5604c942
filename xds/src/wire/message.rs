//! Whole HTTP message bodies: Simple SOAP or an MTOM/XOP package, chosen by Content-Type.
//! Attachments stream into the caller's sink part by part; `xop:Include` references are
//! resolved once the whole package has been read, wherever the root part sits.

use std::collections::HashMap;
use std::io::{BufReader, Read};

use super::attachment::{AttachmentInfo, AttachmentSink, Base64Stream, FeedError, SinkError};
use super::decode::{decode_envelope, read_body_element};
use super::error::DecodeError;
use super::limits::Limits;
use super::mime::{ContentType, MimeError, TransferEncoding, normalize_content_id};
use super::multipart::{InputAbort, MultipartReader, decode_error_from_io};
use super::types::{Attachment, Body, DocumentContent, Envelope};
use super::xml::XmlIn;

/// A decoded message.
#[derive(Debug)]
pub struct DecodedMessage<H> {
    pub envelope: Envelope<Attachment<H>>,
    /// Whether it arrived as an MTOM/XOP package.
    pub mtom: bool,
    /// MIME parts no `xop:Include` referred to (ITI-41: XDSMissingDocumentMetadata).
    pub unreferenced: Vec<Attachment<H>>,
}

/// Decodes an HTTP request or response body given its Content-Type header.
pub fn decode_message<R: Read, S: AttachmentSink>(
    content_type: &str,
    body: R,
    limits: &Limits,
    sink: &mut S,
) -> Result<DecodedMessage<S::Handle>, DecodeError> {
    let parsed = ContentType::parse(content_type)?;
    if parsed.is_multipart_related() {
        decode_mtom(&parsed, body, limits, sink)
    } else if parsed.is_soap_xml() {
        let source =
            BufReader::with_capacity(64 * 1024, LimitedRead::new(body, limits.max_message_bytes));
        let mut xml = XmlIn::new(
            source,
            limits.max_envelope_bytes,
            limits.max_depth,
            limits.max_text_bytes,
        );
        let envelope = decode_envelope(&mut xml, sink, limits)?;
        let body = envelope.body.try_map_content(|content| match content {
            DocumentContent::Inline(attachment) => Ok(attachment),
            DocumentContent::Xop { cid, location } => {
                Err(DecodeError::MissingAttachment { cid, location })
            }
        })?;
        Ok(DecodedMessage {
            envelope: Envelope {
                header: envelope.header,
                body,
            },
            mtom: false,
            unreferenced: Vec::new(),
        })
    } else {
        Err(MimeError::UnsupportedContentType(content_type.to_owned()).into())
    }
}

fn decode_mtom<R: Read, S: AttachmentSink>(
    content_type: &ContentType,
    body: R,
    limits: &Limits,
    sink: &mut S,
) -> Result<DecodedMessage<S::Handle>, DecodeError> {
    let boundary = content_type
        .param("boundary")
        .ok_or(MimeError::MissingBoundary)?;
    let start = content_type.param("start").map(normalize_content_id);
    let mut reader = MultipartReader::new(
        body,
        boundary,
        limits.max_parts,
        limits.max_part_header_bytes,
        limits.max_message_bytes,
    )?;
    let mut envelope = None;
    let mut parts: Vec<Option<Attachment<S::Handle>>> = Vec::new();
    let mut by_cid: HashMap<String, usize> = HashMap::new();
    while let Some(headers) = reader.next_part()? {
        let is_root = envelope.is_none()
            && match &start {
                Some(start) => headers.content_id.as_deref() == Some(start.as_str()),
                None => true,
            };
        if is_root {
            if let Some(root_type) = &headers.content_type {
                let root = ContentType::parse(root_type)?;
                if !matches!(
                    root.essence.as_str(),
                    "application/xop+xml" | "application/soap+xml" | "text/xml"
                ) {
                    return Err(MimeError::UnsupportedRootType(root_type.clone()).into());
                }
            }
            let encoding = TransferEncoding::parse(headers.transfer_encoding.as_deref())?;
            if encoding != TransferEncoding::Identity {
                return Err(MimeError::UnsupportedTransferEncoding(
                    "base64 on the root part".to_owned(),
                )
                .into());
            }
            let mut xml = XmlIn::new(
                reader.body(),
                limits.max_envelope_bytes,
                limits.max_depth,
                limits.max_text_bytes,
            );
            envelope = Some(decode_envelope(&mut xml, sink, limits)?);
            continue;
        }
        let content_id = headers.content_id.clone().unwrap_or_default();
        if !content_id.is_empty() && by_cid.contains_key(&content_id) {
            return Err(MimeError::DuplicateContentId(content_id).into());
        }
        let attachment = stream_part(
            &mut reader,
            &headers.content_id,
            &headers.content_type,
            &headers.transfer_encoding,
            limits,
            sink,
        )?;
        if !content_id.is_empty() {
            by_cid.insert(content_id, parts.len());
        }
        parts.push(Some(attachment));
    }
    let envelope = envelope.ok_or_else(|| match &start {
        Some(start) => DecodeError::Mime(MimeError::MissingRoot {
            start: start.clone(),
        }),
        None => DecodeError::Mime(MimeError::Empty),
    })?;
    let body = envelope.body.try_map_content(|content| match content {
        DocumentContent::Inline(attachment) => Ok(attachment),
        DocumentContent::Xop { cid, location } => {
            let index = *by_cid
                .get(&cid)
                .ok_or_else(|| DecodeError::MissingAttachment {
                    cid: cid.clone(),
                    location: location.clone(),
                })?;
            parts[index]
                .take()
                .ok_or(DecodeError::Mime(MimeError::DuplicateContentId(cid)))
        }
    })?;
    let unreferenced = parts.into_iter().flatten().collect();
    Ok(DecodedMessage {
        envelope: Envelope {
            header: envelope.header,
            body,
        },
        mtom: true,
        unreferenced,
    })
}

fn stream_part<R: Read, S: AttachmentSink>(
    reader: &mut MultipartReader<R>,
    content_id: &Option<String>,
    content_type: &Option<String>,
    transfer_encoding: &Option<String>,
    limits: &Limits,
    sink: &mut S,
) -> Result<Attachment<S::Handle>, DecodeError> {
    let encoding = TransferEncoding::parse(transfer_encoding.as_deref())?;
    let info = AttachmentInfo {
        content_id: content_id.as_deref(),
        content_type: content_type.as_deref(),
        document_id: None,
    };
    sink.begin(&info)
        .map_err(|error| DecodeError::Sink(error.0))?;
    let limit = limits.max_attachment_bytes;
    let what = format!("part <{}>", content_id.as_deref().unwrap_or(""));
    let result = (|| -> Result<u64, DecodeError> {
        let mut size = 0u64;
        let mut base64 = (encoding == TransferEncoding::Base64).then(Base64Stream::new);
        let mut body = reader.body();
        loop {
            let chunk = std::io::BufRead::fill_buf(&mut body).map_err(decode_error_from_io)?;
            if chunk.is_empty() {
                break;
            }
            let length = chunk.len();
            match &mut base64 {
                None => {
                    size += length as u64;
                    if size > limit {
                        return Err(DecodeError::AttachmentTooLarge {
                            what: what.clone(),
                            limit,
                        });
                    }
                    sink.write(chunk)
                        .map_err(|error| DecodeError::Sink(error.0))?;
                }
                Some(decoder) => {
                    let mut emit = |decoded: &[u8]| -> Result<(), SinkError> {
                        size += decoded.len() as u64;
                        if size > limit {
                            return Err(SinkError(String::new()));
                        }
                        sink.write(decoded)
                    };
                    decoder
                        .feed(chunk, &mut emit)
                        .map_err(|error| map_feed(error, &what, limit, size))?;
                }
            }
            std::io::BufRead::consume(&mut body, length);
        }
        if let Some(decoder) = &mut base64 {
            let mut emit = |decoded: &[u8]| -> Result<(), SinkError> {
                size += decoded.len() as u64;
                if size > limit {
                    return Err(SinkError(String::new()));
                }
                sink.write(decoded)
            };
            decoder
                .finish(&mut emit)
                .map_err(|error| map_feed(error, &what, limit, size))?;
        }
        Ok(size)
    })();
    match result {
        Ok(size) => {
            let handle = sink.finish().map_err(|error| DecodeError::Sink(error.0))?;
            Ok(Attachment {
                handle,
                size,
                content_type: content_type.clone(),
                content_id: content_id.clone(),
            })
        }
        Err(error) => {
            sink.abort();
            Err(error)
        }
    }
}

fn map_feed(error: FeedError, what: &str, limit: u64, size: u64) -> DecodeError {
    match error {
        FeedError::Base64(problem) => DecodeError::Base64 {
            location: what.to_owned(),
            message: problem.to_string(),
        },
        FeedError::Sink(_) if size > limit => DecodeError::AttachmentTooLarge {
            what: what.to_owned(),
            limit,
        },
        FeedError::Sink(sink_error) => DecodeError::Sink(sink_error.0),
    }
}

/// Decodes a bare body element (no SOAP envelope), as found in test data files.
pub fn decode_body_xml<R: std::io::BufRead, S: AttachmentSink>(
    source: R,
    limits: &Limits,
    sink: &mut S,
) -> Result<Body<DocumentContent<S::Handle>>, DecodeError> {
    let mut xml = XmlIn::new(
        source,
        limits.max_envelope_bytes,
        limits.max_depth,
        limits.max_text_bytes,
    );
    match xml.next()? {
        super::xml::Ev::Start => {}
        _ => {
            return Err(DecodeError::NotAnEnvelope {
                found: "nothing (empty document)".to_owned(),
            });
        }
    }
    xml.in_body = true;
    let body = read_body_element(&mut xml, sink, limits)?;
    match xml.next()? {
        super::xml::Ev::Eof => Ok(body),
        _ => Err(xml.unexpected("end of document")),
    }
}

/// Stops reading after `limit` bytes with a precise error.
#[derive(Debug)]
struct LimitedRead<R> {
    inner: R,
    remaining: u64,
    limit: u64,
}

impl<R> LimitedRead<R> {
    fn new(inner: R, limit: u64) -> Self {
        Self {
            inner,
            remaining: limit,
            limit,
        }
    }
}

impl<R: Read> Read for LimitedRead<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let count = self.inner.read(out)?;
        if count as u64 > self.remaining {
            return Err(InputAbort::MessageTooLarge(self.limit).into_io());
        }
        self.remaining -= count as u64;
        Ok(count)
    }
}
