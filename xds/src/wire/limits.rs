//! Size and shape limits applied while decoding untrusted input. Every limit is checked as
//! bytes arrive, so an oversized message is refused before it is held in memory.

/// Decoder limits. The defaults suit a national registry/repository; daemons override them from
/// configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Bytes of XML in the SOAP envelope (the MTOM root part or the Simple SOAP body), not
    /// counting inline base64 document content, which counts as an attachment.
    pub max_envelope_bytes: u64,
    /// Decoded bytes of one document (an MTOM part or one inline base64 `xds:Document`).
    pub max_attachment_bytes: u64,
    /// Bytes of the whole HTTP body.
    pub max_message_bytes: u64,
    /// MIME parts in one multipart package, root included.
    pub max_parts: usize,
    /// Bytes of the header block of one MIME part.
    pub max_part_header_bytes: usize,
    /// Element nesting depth.
    pub max_depth: usize,
    /// Characters of one text node or attribute value.
    pub max_text_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_envelope_bytes: 64 * 1024 * 1024,
            max_attachment_bytes: 2 * 1024 * 1024 * 1024,
            max_message_bytes: 4 * 1024 * 1024 * 1024,
            max_parts: 10_000,
            max_part_header_bytes: 16 * 1024,
            max_depth: 64,
            max_text_bytes: 1024 * 1024,
        }
    }
}
