//! A flat walk over the elements of a small XML document (configuration and reference files
//! such as value sets and code lists, never network input): each start or empty element with
//! its local name, depth and attributes, in document order. Ill-formed or truncated documents
//! are refused with the byte position.

use quick_xml::events::Event;
use quick_xml::reader::Reader;

/// One element met by [`scan_elements`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScannedElement {
    /// Local name (namespace prefix dropped).
    pub local: String,
    /// 0 for the root element.
    pub depth: usize,
    /// Attributes by local name, values unescaped and normalized.
    pub attributes: Vec<(String, String)>,
}

impl ScannedElement {
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }
}

/// Why a document could not be walked, or why the visitor stopped it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScanError {
    #[error("XML error at byte {position}: {message}")]
    Xml { position: u64, message: String },
    #[error("the file ends inside {open} unclosed element(s) (truncated?)")]
    Truncated { open: usize },
    #[error("{0}")]
    Visitor(String),
}

/// Calls `visit` for every start or empty element of `text`. The visitor may stop the walk
/// with an error message.
pub fn scan_elements(
    text: &str,
    mut visit: impl FnMut(&ScannedElement) -> Result<(), String>,
) -> Result<(), ScanError> {
    let mut reader = Reader::from_str(text);
    reader.config_mut().check_end_names = true;
    let mut depth = 0usize;
    loop {
        let event = reader.read_event().map_err(|error| ScanError::Xml {
            position: reader.buffer_position(),
            message: error.to_string(),
        })?;
        let (start, empty) = match &event {
            Event::Start(start) => (start, false),
            Event::Empty(start) => (start, true),
            Event::End(_) => {
                depth = depth.saturating_sub(1);
                continue;
            }
            Event::Eof => break,
            _ => continue,
        };
        let mut attributes = Vec::new();
        for attribute in start.attributes() {
            let attribute = attribute.map_err(|error| ScanError::Xml {
                position: reader.buffer_position(),
                message: error.to_string(),
            })?;
            let value = attribute
                .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .map_err(|error| ScanError::Xml {
                    position: reader.buffer_position(),
                    message: error.to_string(),
                })?;
            attributes.push((
                attribute.key.local_name().as_ref().to_owned(),
                value.into_owned(),
            ));
        }
        let element = ScannedElement {
            local: start.local_name().as_ref().to_owned(),
            depth,
            attributes,
        };
        visit(&element).map_err(ScanError::Visitor)?;
        if !empty {
            depth += 1;
        }
    }
    if depth != 0 {
        return Err(ScanError::Truncated { open: depth });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elements_come_in_order_with_depth_and_attributes() {
        let mut seen = Vec::new();
        scan_elements(
            "<a:r xmlns:a='urn:x'><c k='1 &amp; 2'/><d><e/></d></a:r>",
            |element| {
                seen.push((
                    element.local.clone(),
                    element.depth,
                    element.attribute("k").map(str::to_owned),
                ));
                Ok(())
            },
        )
        .expect("well-formed");
        assert_eq!(
            seen,
            vec![
                ("r".to_owned(), 0, None),
                ("c".to_owned(), 1, Some("1 & 2".to_owned())),
                ("d".to_owned(), 1, None),
                ("e".to_owned(), 2, None),
            ]
        );
    }

    #[test]
    fn truncated_mismatched_and_stopped_walks_fail() {
        assert_eq!(
            scan_elements("<a><b>", |_| Ok(())),
            Err(ScanError::Truncated { open: 2 })
        );
        assert!(matches!(
            scan_elements("<a></b>", |_| Ok(())),
            Err(ScanError::Xml { .. })
        ));
        assert_eq!(
            scan_elements("<a/>", |_| Err("no".to_owned())),
            Err(ScanError::Visitor("no".to_owned()))
        );
    }
}
