//! MIME header values: `Content-Type` with its parameters (RFC 2045 / 2387), Content-ID and
//! Content-Transfer-Encoding, parsed tolerantly as XDS peers send them (quoted or bare
//! parameters, any case, `start` with or without angle brackets).

/// A MIME or multipart framing problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MimeError {
    #[error("unsupported Content-Type {0:?}")]
    UnsupportedContentType(String),
    #[error("malformed Content-Type {0:?}")]
    MalformedContentType(String),
    #[error("multipart/related Content-Type has no boundary parameter")]
    MissingBoundary,
    #[error("boundary {0:?} is not a valid MIME boundary")]
    InvalidBoundary(String),
    #[error("no opening boundary delimiter found")]
    NoOpeningBoundary,
    #[error("the multipart body ends before its closing boundary (inside part {part})")]
    Truncated { part: usize },
    #[error("part {part} header block exceeds {limit} bytes")]
    HeaderTooLarge { part: usize, limit: usize },
    #[error("part {part} has a malformed header line {line:?}")]
    MalformedHeader { part: usize, line: String },
    #[error("root part {start:?} (the start parameter) is not in the package")]
    MissingRoot { start: String },
    #[error("the package has no parts")]
    Empty,
    #[error("two parts share Content-ID {0:?}")]
    DuplicateContentId(String),
    #[error("Content-Transfer-Encoding {0:?} is not supported (binary, 8bit, 7bit, base64)")]
    UnsupportedTransferEncoding(String),
    #[error("root part Content-Type {0:?} is not application/xop+xml or a SOAP type")]
    UnsupportedRootType(String),
}

/// A parsed Content-Type value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentType {
    /// `type/subtype`, lower case.
    pub essence: String,
    /// Parameters with lower-case names and unquoted values, in order.
    pub params: Vec<(String, String)>,
}

impl ContentType {
    pub fn parse(value: &str) -> Result<Self, MimeError> {
        let malformed = || MimeError::MalformedContentType(value.to_owned());
        let mut rest = value.trim();
        let essence_end = rest.find(';').unwrap_or(rest.len());
        let essence = rest[..essence_end].trim().to_ascii_lowercase();
        let (major, minor) = essence.split_once('/').ok_or_else(malformed)?;
        if major.is_empty() || minor.is_empty() || essence.contains(char::is_whitespace) {
            return Err(malformed());
        }
        rest = &rest[essence_end..];
        let mut params = Vec::new();
        while let Some(after) = rest.strip_prefix(';') {
            let after = after.trim_start();
            if after.is_empty() {
                break;
            }
            let equals = after.find('=').ok_or_else(malformed)?;
            let name = after[..equals].trim().to_ascii_lowercase();
            if name.is_empty() {
                return Err(malformed());
            }
            let value_text = after[equals + 1..].trim_start();
            let (param_value, remaining) = if let Some(quoted) = value_text.strip_prefix('"') {
                let mut out = String::new();
                let mut chars = quoted.char_indices();
                let mut end = None;
                while let Some((index, character)) = chars.next() {
                    match character {
                        '\\' => {
                            if let Some((_, escaped)) = chars.next() {
                                out.push(escaped);
                            }
                        }
                        '"' => {
                            end = Some(index + 1);
                            break;
                        }
                        other => out.push(other),
                    }
                }
                let end = end.ok_or_else(malformed)?;
                (out, quoted[end..].trim_start())
            } else {
                let end = value_text.find(';').unwrap_or(value_text.len());
                (value_text[..end].trim().to_owned(), &value_text[end..])
            };
            params.push((name, param_value));
            rest = remaining;
            if !rest.is_empty() && !rest.starts_with(';') {
                return Err(malformed());
            }
        }
        Ok(Self { essence, params })
    }

    /// A parameter value by (case-insensitive) name.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(candidate, _)| candidate.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    pub fn is_multipart_related(&self) -> bool {
        self.essence == "multipart/related"
    }

    /// `application/soap+xml`, or `text/xml` (tolerated when it carries a SOAP 1.2 envelope).
    pub fn is_soap_xml(&self) -> bool {
        matches!(
            self.essence.as_str(),
            "application/soap+xml" | "text/xml" | "application/xml"
        )
    }
}

/// Strips the angle brackets of a Content-ID header value or `start` parameter.
pub fn normalize_content_id(value: &str) -> String {
    let trimmed = value.trim();
    let inner = trimmed
        .strip_prefix('<')
        .and_then(|rest| rest.strip_suffix('>'))
        .unwrap_or(trimmed);
    inner.trim().to_owned()
}

/// Turns an `xop:Include/@href` (`cid:...`, possibly percent-encoded) into a bare Content-ID.
pub fn cid_from_href(href: &str) -> Option<String> {
    let trimmed = href.trim();
    let rest = if trimmed.len() >= 4 && trimmed[..4].eq_ignore_ascii_case("cid:") {
        &trimmed[4..]
    } else {
        return None;
    };
    Some(normalize_content_id(&percent_decode(rest)))
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'%' && index + 2 < bytes.len() {
            let hex = |byte: u8| (byte as char).to_digit(16);
            if let (Some(high), Some(low)) = (hex(bytes[index + 1]), hex(bytes[index + 2])) {
                out.push((high * 16 + low) as u8);
                index += 3;
                continue;
            }
        }
        out.push(bytes[index]);
        index += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A Content-Transfer-Encoding we accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransferEncoding {
    /// `binary`, `8bit` or `7bit`: the bytes are the content.
    Identity,
    /// `base64`: decoded while streaming.
    Base64,
}

impl TransferEncoding {
    pub fn parse(value: Option<&str>) -> Result<Self, MimeError> {
        match value.map(|text| text.trim().to_ascii_lowercase()) {
            None => Ok(Self::Identity),
            Some(text) => match text.as_str() {
                "binary" | "8bit" | "7bit" | "" => Ok(Self::Identity),
                "base64" => Ok(Self::Base64),
                _ => Err(MimeError::UnsupportedTransferEncoding(text)),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_mtom_content_type_of_the_brief() {
        let content_type = ContentType::parse(
            r#"multipart/related; boundary="MIMEBoundary_4f1c"; type="application/xop+xml"; start="<root.part@example.org>"; start-info="application/soap+xml"; action="urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b""#,
        )
        .unwrap();
        assert!(content_type.is_multipart_related());
        assert_eq!(content_type.param("boundary"), Some("MIMEBoundary_4f1c"));
        assert_eq!(content_type.param("START"), Some("<root.part@example.org>"));
        assert_eq!(
            content_type.param("start-info"),
            Some("application/soap+xml")
        );
    }

    #[test]
    fn parameters_may_be_bare_and_names_any_case() {
        let content_type = ContentType::parse(
            "Multipart/Related;Boundary=uuid:376733a6+id=17;Type=\"application/xop+xml\"",
        )
        .unwrap();
        assert_eq!(content_type.essence, "multipart/related");
        assert_eq!(content_type.param("boundary"), Some("uuid:376733a6+id=17"));
        assert_eq!(content_type.param("type"), Some("application/xop+xml"));
    }

    #[test]
    fn malformed_content_types_are_refused() {
        for bad in [
            "",
            "multipart",
            "multipart/related; boundary",
            "text/xml; a=\"unterminated",
            "a b/c",
        ] {
            assert!(ContentType::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn content_ids_and_hrefs_compare_after_normalization() {
        assert_eq!(
            normalize_content_id(" <doc1@example.org> "),
            "doc1@example.org"
        );
        assert_eq!(normalize_content_id("doc1@example.org"), "doc1@example.org");
        assert_eq!(
            cid_from_href("cid:doc1@example.org").as_deref(),
            Some("doc1@example.org")
        );
        assert_eq!(
            cid_from_href("cid:1.urn%3Auuid%3A42@urn%3Aihe%3Aiti%3Axds-b%3A2007").as_deref(),
            Some("1.urn:uuid:42@urn:ihe:iti:xds-b:2007")
        );
        assert_eq!(cid_from_href("CID:x").as_deref(), Some("x"));
        assert_eq!(cid_from_href("http://example.org/x"), None);
        assert_eq!(cid_from_href("cid:100%"), Some("100%".to_owned()));
    }

    #[test]
    fn transfer_encodings() {
        assert_eq!(
            TransferEncoding::parse(Some("Binary")).unwrap(),
            TransferEncoding::Identity
        );
        assert_eq!(
            TransferEncoding::parse(Some("8bit")).unwrap(),
            TransferEncoding::Identity
        );
        assert_eq!(
            TransferEncoding::parse(Some("base64")).unwrap(),
            TransferEncoding::Base64
        );
        assert!(TransferEncoding::parse(Some("quoted-printable")).is_err());
    }
}
