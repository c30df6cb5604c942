//! A small namespace-aware element tree for the harness's own needs (test plans, ebRIM 2.1
//! conversion). Product code never uses it: the daemons stream with `xds::wire`.

use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use quick_xml::reader::NsReader;

/// An element: resolved namespace, local name, attributes (qualified name as written, value
/// unescaped) and children.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Element {
    pub namespace: Option<String>,
    pub local: String,
    pub attributes: Vec<(String, String)>,
    pub children: Vec<Node>,
}

/// A child node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    Element(Element),
    Text(String),
}

impl Element {
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    pub fn set_attribute(&mut self, name: &str, value: impl Into<String>) {
        let value = value.into();
        match self.attributes.iter_mut().find(|(key, _)| key == name) {
            Some((_, existing)) => *existing = value,
            None => self.attributes.push((name.to_owned(), value)),
        }
    }

    pub fn remove_attribute(&mut self, name: &str) -> Option<String> {
        let index = self.attributes.iter().position(|(key, _)| key == name)?;
        Some(self.attributes.remove(index).1)
    }

    pub fn elements(&self) -> impl Iterator<Item = &Element> {
        self.children.iter().filter_map(|node| match node {
            Node::Element(element) => Some(element),
            Node::Text(_) => None,
        })
    }

    /// Concatenated text of this element's direct text children.
    pub fn text(&self) -> String {
        self.children
            .iter()
            .filter_map(|node| match node {
                Node::Text(text) => Some(text.as_str()),
                Node::Element(_) => None,
            })
            .collect()
    }
}

/// Why a document could not be read into a tree.
#[derive(Debug, thiserror::Error)]
pub enum TreeError {
    #[error("XML error at byte {position}: {source}")]
    Xml {
        position: u64,
        source: quick_xml::Error,
    },
    #[error("undefined entity &{0};")]
    Entity(String),
    #[error("the document has no root element")]
    Empty,
    #[error("DOCTYPE is not accepted")]
    DocType,
}

/// Parses a whole document.
pub fn parse(text: &str) -> Result<Element, TreeError> {
    let mut reader = NsReader::from_str(text);
    reader.config_mut().trim_text(false);
    let mut stack: Vec<Element> = Vec::new();
    let mut root = None;
    loop {
        let position = reader.buffer_position();
        let (resolved, event) = reader
            .read_resolved_event()
            .map_err(|source| TreeError::Xml { position, source })?;
        let namespace = match resolved {
            ResolveResult::Bound(namespace) => Some(namespace.as_ref().to_owned()),
            _ => None,
        };
        match event {
            Event::Start(start) => {
                let element = element_of(&start, namespace)
                    .map_err(|source| TreeError::Xml { position, source })?;
                stack.push(element);
            }
            Event::Empty(start) => {
                let element = element_of(&start, namespace)
                    .map_err(|source| TreeError::Xml { position, source })?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(Node::Element(element)),
                    None => root = Some(element),
                }
            }
            Event::End(_) => {
                let element = stack.pop().ok_or(TreeError::Empty)?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(Node::Element(element)),
                    None => root = Some(element),
                }
            }
            Event::Text(text) => push_text(&mut stack, &text.xml10_content()),
            Event::CData(data) => push_text(&mut stack, &data.xml10_content()),
            Event::GeneralRef(reference) => {
                let character = match reference.resolve_char_ref() {
                    Ok(Some(character)) => character,
                    Ok(None) => match &*reference {
                        "amp" => '&',
                        "lt" => '<',
                        "gt" => '>',
                        "quot" => '"',
                        "apos" => '\'',
                        other => return Err(TreeError::Entity(other.to_owned())),
                    },
                    Err(source) => return Err(TreeError::Xml { position, source }),
                };
                push_text(&mut stack, &character.to_string());
            }
            Event::DocType(_) => return Err(TreeError::DocType),
            Event::Eof => break,
            Event::Comment(_) | Event::PI(_) | Event::Decl(_) => {}
        }
    }
    root.ok_or(TreeError::Empty)
}

fn push_text(stack: &mut [Element], text: &str) {
    if let Some(parent) = stack.last_mut() {
        if let Some(Node::Text(existing)) = parent.children.last_mut() {
            existing.push_str(text);
        } else {
            parent.children.push(Node::Text(text.to_owned()));
        }
    }
}

fn element_of(
    start: &quick_xml::events::BytesStart<'_>,
    namespace: Option<String>,
) -> Result<Element, quick_xml::Error> {
    let name = start.name();
    let local = name.local_name().as_ref().to_owned();
    let mut attributes = Vec::new();
    for attribute in start.attributes() {
        let attribute = attribute.map_err(quick_xml::Error::from)?;
        let key = attribute.key.as_ref().to_owned();
        if key == "xmlns" || key.starts_with("xmlns:") {
            continue;
        }
        let value = attribute
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)?
            .into_owned();
        attributes.push((key, value));
    }
    Ok(Element {
        namespace,
        local,
        attributes,
        children: Vec::new(),
    })
}

/// Serializes a tree; `prefix_of` chooses the prefix for each element namespace, and the root
/// declares `declarations`.
pub fn write(
    root: &Element,
    prefix_of: &dyn Fn(Option<&str>) -> Option<String>,
    declarations: &[(&str, &str)],
) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    write_element(root, prefix_of, declarations, &mut out);
    out.push('\n');
    out
}

fn write_element(
    element: &Element,
    prefix_of: &dyn Fn(Option<&str>) -> Option<String>,
    declarations: &[(&str, &str)],
    out: &mut String,
) {
    let name = match prefix_of(element.namespace.as_deref()) {
        Some(prefix) if !prefix.is_empty() => format!("{prefix}:{}", element.local),
        _ => element.local.clone(),
    };
    out.push('<');
    out.push_str(&name);
    for (prefix, namespace) in declarations {
        out.push_str(&format!(" xmlns:{prefix}=\"{}\"", escape(namespace, true)));
    }
    for (key, value) in &element.attributes {
        out.push_str(&format!(" {key}=\"{}\"", escape(value, true)));
    }
    if element.children.is_empty() {
        out.push_str("/>");
        return;
    }
    out.push('>');
    for child in &element.children {
        match child {
            Node::Element(child) => write_element(child, prefix_of, &[], out),
            Node::Text(text) => out.push_str(&escape(text, false)),
        }
    }
    out.push_str("</");
    out.push_str(&name);
    out.push('>');
}

/// XML escaping for text (`attribute = false`) or attribute values.
pub fn escape(text: &str, attribute: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attribute => out.push_str("&quot;"),
            '\n' if attribute => out.push_str("&#10;"),
            '\t' if attribute => out.push_str("&#9;"),
            '\r' => out.push_str("&#13;"),
            other => out.push(other),
        }
    }
    out
}
