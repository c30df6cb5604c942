//! A small namespace-aware tree of one captured element (the WS-Security header, a VIHF
//! assertion) and its Exclusive XML Canonicalization (exc-c14n, W3C REC 2002, without comments),
//! the form XML signatures digest and sign.
//!
//! Only small, bounded elements go through here (a header block already cut out and limited by
//! the streaming decoder); documents are never loaded as trees.

use quick_xml::events::Event;
use quick_xml::reader::Reader;

use super::xml::{RawXml, is_xml_char, resolve_reference};

/// A parsed element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Element {
    /// Prefix as written ("" when none).
    pub prefix: String,
    pub local: String,
    /// Namespace URI the prefix resolves to ("" for none).
    pub namespace: String,
    /// Attributes other than namespace declarations, in document order.
    pub attributes: Vec<Attribute>,
    /// Namespace declarations written on this element (`xmlns`, `xmlns:p`); "" is the default.
    pub declared: Vec<(String, String)>,
    /// Every namespace in scope here, declared here or by an ancestor (the context the element
    /// was captured in included); later entries win.
    pub in_scope: Vec<(String, String)>,
    pub children: Vec<Node>,
}

/// An attribute, its value unescaped and normalized (XML 1.0 §3.3.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribute {
    pub prefix: String,
    pub local: String,
    pub namespace: String,
    pub value: String,
}

/// A child node. Comments are dropped (canonical XML without comments).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    Element(Element),
    /// Character data, references resolved and line ends normalized.
    Text(String),
    /// A processing instruction: target and data.
    Instruction(String),
}

/// Why a captured element cannot be read as a tree.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomError {
    #[error("XML error at byte {position}: {message}")]
    Xml { position: u64, message: String },
    #[error("prefix {0:?} is not declared")]
    UndeclaredPrefix(String),
    #[error("the element is not closed")]
    Truncated,
    #[error("more than one top-level element")]
    Trailing,
    #[error("nothing but an element may be captured")]
    Empty,
    #[error("deeper than {0} levels")]
    TooDeep(usize),
    #[error("{0:?} is not a namespace-well-formed name")]
    Name(String),
    #[error("a character XML does not allow (U+{0:04X})")]
    Character(u32),
    #[error("prefix {0:?} is bound to an empty or reserved namespace")]
    Binding(String),
}

/// Largest element depth accepted in a captured element.
const MAX_DEPTH: usize = 64;

impl Element {
    /// The namespace a prefix resolves to here ("" prefix: the default namespace).
    pub fn resolve(&self, prefix: &str) -> Option<&str> {
        self.in_scope
            .iter()
            .rev()
            .find(|(declared, _)| declared == prefix)
            .map(|(_, uri)| uri.as_str())
    }

    /// Whether this element is `{namespace}local`.
    pub fn is(&self, namespace: &str, local: &str) -> bool {
        self.namespace == namespace && self.local == local
    }

    /// The child elements.
    pub fn elements(&self) -> impl Iterator<Item = &Element> {
        self.children.iter().filter_map(|node| match node {
            Node::Element(element) => Some(element),
            _ => None,
        })
    }

    /// The child elements named `{namespace}local`.
    pub fn children_named<'a>(
        &'a self,
        namespace: &'a str,
        local: &'a str,
    ) -> impl Iterator<Item = &'a Element> {
        self.elements()
            .filter(move |element| element.is(namespace, local))
    }

    /// The first child element named `{namespace}local`.
    pub fn child(&self, namespace: &str, local: &str) -> Option<&Element> {
        self.elements().find(|element| element.is(namespace, local))
    }

    /// The value of the attribute without a namespace named `local`.
    pub fn attribute(&self, local: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|attribute| attribute.namespace.is_empty() && attribute.local == local)
            .map(|attribute| attribute.value.as_str())
    }

    /// The concatenated text of this element's descendants.
    pub fn text(&self) -> String {
        let mut text = String::new();
        self.append_text(&mut text);
        text
    }

    fn append_text(&self, out: &mut String) {
        for node in &self.children {
            match node {
                Node::Text(text) => out.push_str(text),
                Node::Element(element) => element.append_text(out),
                Node::Instruction(_) => {}
            }
        }
    }

    /// Every element of the subtree (this one first), depth first.
    pub fn descendants(&self) -> Vec<&Element> {
        let mut found = vec![self];
        let mut index = 0;
        while index < found.len() {
            let element = found[index];
            found.extend(element.elements());
            index += 1;
        }
        found
    }
}

/// Parses a captured element into a tree; `raw.namespaces` is the context it was cut from.
pub fn parse(raw: &RawXml) -> Result<Element, DomError> {
    parse_in(&raw.xml, &raw.namespaces)
}

/// Parses the element `xml` whose ancestors declared `context`.
pub fn parse_in(xml: &str, context: &[(String, String)]) -> Result<Element, DomError> {
    let mut reader = Reader::from_str(xml);
    reader.config_mut().check_end_names = true;
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    let xml_error = |reader: &Reader<&[u8]>, message: String| DomError::Xml {
        position: reader.buffer_position(),
        message,
    };
    loop {
        let event = reader
            .read_event()
            .map_err(|error| xml_error(&reader, error.to_string()))?;
        match event {
            Event::Start(ref start) | Event::Empty(ref start) => {
                if root.is_some() && stack.is_empty() {
                    return Err(DomError::Trailing);
                }
                if stack.len() >= MAX_DEPTH {
                    return Err(DomError::TooDeep(MAX_DEPTH));
                }
                let inherited = stack
                    .last()
                    .map_or_else(|| context.to_vec(), |parent| parent.in_scope.clone());
                let element = open(&reader, start, inherited)?;
                if matches!(event, Event::Empty(_)) {
                    close(element, &mut stack, &mut root);
                } else {
                    stack.push(element);
                }
            }
            Event::End(_) => {
                let Some(element) = stack.pop() else {
                    return Err(xml_error(&reader, "unexpected end tag".to_owned()));
                };
                close(element, &mut stack, &mut root);
            }
            Event::Text(text) => {
                push_text(&mut stack, &normalize_line_ends(&text), &root)?;
            }
            Event::CData(data) => {
                push_text(&mut stack, &normalize_line_ends(&data), &root)?;
            }
            Event::GeneralRef(reference) => {
                let character = resolve_reference(&reference).ok_or_else(|| {
                    xml_error(&reader, format!("undefined entity {:?}", &*reference))
                })?;
                push_text(&mut stack, character.encode_utf8(&mut [0; 4]), &root)?;
            }
            Event::PI(instruction) => {
                if let Some(parent) = stack.last_mut() {
                    let content = instruction.to_string();
                    check_characters(&content)?;
                    parent.children.push(Node::Instruction(content));
                }
            }
            Event::Comment(_) | Event::Decl(_) => {}
            Event::DocType(_) => {
                return Err(xml_error(&reader, "a DOCTYPE is not allowed".to_owned()));
            }
            Event::Eof => break,
        }
    }
    if !stack.is_empty() {
        return Err(DomError::Truncated);
    }
    root.ok_or(DomError::Empty)
}

/// Refuses characters outside XML 1.0 `Char` (NUL and other C0 controls, U+FFFE, U+FFFF).
fn check_characters(text: &str) -> Result<(), DomError> {
    match text.chars().find(|character| !is_xml_char(*character)) {
        Some(character) => Err(DomError::Character(u32::from(character))),
        None => Ok(()),
    }
}

fn push_text(stack: &mut [Element], text: &str, root: &Option<Element>) -> Result<(), DomError> {
    check_characters(text)?;
    match stack.last_mut() {
        Some(parent) => {
            if let Some(Node::Text(previous)) = parent.children.last_mut() {
                previous.push_str(text);
            } else {
                parent.children.push(Node::Text(text.to_owned()));
            }
            Ok(())
        }
        // White space around the element is not part of it; anything else is.
        None if text.trim().is_empty() => Ok(()),
        None if root.is_some() => Err(DomError::Trailing),
        None => Err(DomError::Empty),
    }
}

fn close(element: Element, stack: &mut [Element], root: &mut Option<Element>) {
    match stack.last_mut() {
        Some(parent) => parent.children.push(Node::Element(element)),
        None => *root = Some(element),
    }
}

fn normalize_line_ends(text: &str) -> String {
    if !text.contains('\r') {
        return text.to_owned();
    }
    text.replace("\r\n", "\n").replace('\r', "\n")
}

/// `prefix:local` or `local`; anything else (a leading or trailing colon, two colons, an
/// empty name) is not a QName.
fn split(name: &str) -> Result<(&str, &str), DomError> {
    let (prefix, local) = match name.split_once(':') {
        Some((prefix, local)) => (prefix, local),
        None => ("", name),
    };
    let well_formed = is_ncname(local) && (prefix.is_empty() || is_ncname(prefix));
    if !well_formed || (name.contains(':') && prefix.is_empty()) {
        return Err(DomError::Name(name.to_owned()));
    }
    Ok((prefix, local))
}

/// An XML NCName: a letter or `_` first, then letters, digits, `.`, `-`, `_` (characters
/// beyond ASCII are taken as name characters).
fn is_ncname(name: &str) -> bool {
    let mut characters = name.chars();
    characters
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic() || first == '_' || !first.is_ascii())
        && characters.all(|character| {
            character.is_ascii_alphanumeric()
                || matches!(character, '.' | '-' | '_')
                || !character.is_ascii()
        })
}

fn open(
    reader: &Reader<&[u8]>,
    start: &quick_xml::events::BytesStart<'_>,
    mut in_scope: Vec<(String, String)>,
) -> Result<Element, DomError> {
    let xml_error = |message: String| DomError::Xml {
        position: reader.buffer_position(),
        message,
    };
    let name = start.name().as_ref().to_owned();
    let mut declared = Vec::new();
    let mut plain = Vec::new();
    for attribute in start.attributes() {
        let attribute = attribute.map_err(|error| xml_error(error.to_string()))?;
        let key = attribute.key.as_ref().to_owned();
        let value = attribute
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map_err(|error| xml_error(error.to_string()))?
            .into_owned();
        check_characters(&value)?;
        if key == "xmlns" {
            declared.push((String::new(), value));
        } else if let Some(prefix) = key.strip_prefix("xmlns:") {
            // Namespaces in XML 1.0: no empty binding for a prefix, xmlns never declared, xml
            // only to its own namespace.
            let reserved = prefix == "xmlns"
                || (prefix == "xml") != (value == "http://www.w3.org/XML/1998/namespace");
            if value.is_empty() || reserved || split(prefix).is_err() {
                return Err(DomError::Binding(prefix.to_owned()));
            }
            declared.push((prefix.to_owned(), value));
        } else {
            plain.push((key, value));
        }
    }
    in_scope.extend(declared.iter().cloned());
    let resolve = |prefix: &str| -> Option<String> {
        if prefix == "xml" {
            return Some("http://www.w3.org/XML/1998/namespace".to_owned());
        }
        in_scope
            .iter()
            .rev()
            .find(|(declared, _)| declared == prefix)
            .map(|(_, uri)| uri.clone())
    };
    let (prefix, local) = split(&name)?;
    let namespace = match resolve(prefix) {
        Some(uri) => uri,
        None if prefix.is_empty() => String::new(),
        None => return Err(DomError::UndeclaredPrefix(prefix.to_owned())),
    };
    let mut attributes = Vec::with_capacity(plain.len());
    for (key, value) in plain {
        let (attribute_prefix, attribute_local) = split(&key)?;
        // Unprefixed attributes are in no namespace (the default namespace does not apply).
        let attribute_namespace = if attribute_prefix.is_empty() {
            String::new()
        } else {
            resolve(attribute_prefix)
                .ok_or_else(|| DomError::UndeclaredPrefix(attribute_prefix.to_owned()))?
        };
        attributes.push(Attribute {
            prefix: attribute_prefix.to_owned(),
            local: attribute_local.to_owned(),
            namespace: attribute_namespace,
            value,
        });
    }
    Ok(Element {
        prefix: prefix.to_owned(),
        local: local.to_owned(),
        namespace,
        attributes,
        declared,
        in_scope,
        children: Vec::new(),
    })
}

/// Exclusive canonical form of `apex` (without comments). `inclusive` is the
/// InclusiveNamespaces PrefixList (`#default` for the default namespace): those prefixes are
/// rendered as inclusive c14n would. `omit` names one descendant to leave out (the enveloped
/// signature), by address.
pub fn exclusive_c14n(apex: &Element, inclusive: &[String], omit: Option<&Element>) -> Vec<u8> {
    let mut out = String::with_capacity(1024);
    let inclusive: Vec<&str> = inclusive
        .iter()
        .map(|prefix| {
            if prefix == "#default" {
                ""
            } else {
                prefix.as_str()
            }
        })
        .collect();
    render(apex, &[], &inclusive, omit, &mut out);
    out.into_bytes()
}

/// The URI a prefix resolves to in `scope`, "" when unbound.
fn lookup<'a>(scope: &'a [(String, String)], prefix: &str) -> &'a str {
    scope
        .iter()
        .rev()
        .find(|(declared, _)| declared == prefix)
        .map_or("", |(_, uri)| uri.as_str())
}

fn render(
    element: &Element,
    rendered: &[(String, String)],
    inclusive: &[&str],
    omit: Option<&Element>,
    out: &mut String,
) {
    // Prefixes this element visibly utilizes, plus the inclusive ones in scope.
    let mut prefixes: Vec<&str> = vec![element.prefix.as_str()];
    for attribute in &element.attributes {
        if !attribute.prefix.is_empty() && attribute.prefix != "xml" {
            prefixes.push(&attribute.prefix);
        }
    }
    for prefix in inclusive {
        let bound = element
            .in_scope
            .iter()
            .any(|(declared, _)| declared == prefix);
        if bound {
            prefixes.push(prefix);
        }
    }
    prefixes.sort_unstable();
    prefixes.dedup();
    let mut declarations: Vec<(String, String)> = Vec::new();
    for prefix in prefixes {
        if prefix == "xml" {
            continue;
        }
        let uri = lookup(&element.in_scope, prefix);
        let previous = lookup(rendered, prefix);
        if prefix.is_empty() {
            // xmlns="" only undoes a default namespace an output ancestor rendered.
            if uri != previous {
                declarations.push((String::new(), uri.to_owned()));
            }
        } else if !uri.is_empty() && uri != previous {
            declarations.push((prefix.to_owned(), uri.to_owned()));
        }
    }
    out.push('<');
    push_qname(out, &element.prefix, &element.local);
    for (prefix, uri) in &declarations {
        if prefix.is_empty() {
            out.push_str(" xmlns=\"");
        } else {
            out.push_str(" xmlns:");
            out.push_str(prefix);
            out.push_str("=\"");
        }
        escape_attribute(out, uri);
        out.push('"');
    }
    let mut attributes: Vec<&Attribute> = element.attributes.iter().collect();
    attributes.sort_by(|a, b| (&a.namespace, &a.local).cmp(&(&b.namespace, &b.local)));
    for attribute in attributes {
        out.push(' ');
        push_qname(out, &attribute.prefix, &attribute.local);
        out.push_str("=\"");
        escape_attribute(out, &attribute.value);
        out.push('"');
    }
    out.push('>');
    let mut scope: Vec<(String, String)>;
    let rendered = if declarations.is_empty() {
        rendered
    } else {
        scope = rendered.to_vec();
        scope.extend(declarations);
        &scope[..]
    };
    for node in &element.children {
        match node {
            Node::Element(child) => {
                if omit.is_some_and(|omitted| std::ptr::eq(omitted, child)) {
                    continue;
                }
                render(child, rendered, inclusive, omit, out);
            }
            Node::Text(text) => escape_text(out, text),
            Node::Instruction(content) => {
                out.push_str("<?");
                out.push_str(content);
                out.push_str("?>");
            }
        }
    }
    out.push_str("</");
    push_qname(out, &element.prefix, &element.local);
    out.push('>');
}

fn push_qname(out: &mut String, prefix: &str, local: &str) {
    if !prefix.is_empty() {
        out.push_str(prefix);
        out.push(':');
    }
    out.push_str(local);
}

fn escape_text(out: &mut String, text: &str) {
    for character in text.chars() {
        match character {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#xD;"),
            _ => out.push(character),
        }
    }
}

fn escape_attribute(out: &mut String, value: &str) {
    for character in value.chars() {
        match character {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '"' => out.push_str("&quot;"),
            '\t' => out.push_str("&#x9;"),
            '\n' => out.push_str("&#xA;"),
            '\r' => out.push_str("&#xD;"),
            _ => out.push(character),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c14n(xml: &str, context: &[(&str, &str)], inclusive: &[&str]) -> String {
        let context: Vec<(String, String)> = context
            .iter()
            .map(|(prefix, uri)| ((*prefix).to_owned(), (*uri).to_owned()))
            .collect();
        let element = parse_in(xml, &context).expect("parses");
        let inclusive: Vec<String> = inclusive
            .iter()
            .map(|prefix| (*prefix).to_owned())
            .collect();
        String::from_utf8(exclusive_c14n(&element, &inclusive, None)).expect("utf-8")
    }

    #[test]
    fn unused_namespaces_are_dropped_and_used_ones_pulled_from_the_context() {
        assert_eq!(
            c14n(
                r#"<a:e xmlns:b="urn:b" z="1" b:y="2"><a:f/></a:e>"#,
                &[("a", "urn:a"), ("c", "urn:c")],
                &[]
            ),
            r#"<a:e xmlns:a="urn:a" xmlns:b="urn:b" z="1" b:y="2"><a:f></a:f></a:e>"#
        );
    }

    #[test]
    fn inclusive_prefixes_are_rendered_when_in_scope() {
        assert_eq!(
            c14n(
                r#"<a:e><a:f xmlns:x="urn:x"/></a:e>"#,
                &[("a", "urn:a"), ("c", "urn:c"), ("", "urn:d")],
                &["c", "#default"]
            ),
            r#"<a:e xmlns="urn:d" xmlns:a="urn:a" xmlns:c="urn:c"><a:f></a:f></a:e>"#
        );
    }

    #[test]
    fn escapes_and_attribute_order_follow_the_recommendation() {
        assert_eq!(
            c14n(
                "<e xmlns=\"urn:d\" b=\"&quot;x&#9;\" a=\"&lt;&gt;\">1 &lt; 2 &amp;&#13; <![CDATA[>]]></e>",
                &[],
                &[]
            ),
            "<e xmlns=\"urn:d\" a=\"&lt;>\" b=\"&quot;x&#x9;\">1 &lt; 2 &amp;&#xD; &gt;</e>"
        );
    }

    #[test]
    fn a_default_namespace_is_undone_only_under_a_rendered_one() {
        assert_eq!(
            c14n(r#"<e xmlns="urn:d"><f xmlns=""/></e>"#, &[], &[]),
            r#"<e xmlns="urn:d"><f xmlns=""></f></e>"#
        );
        assert_eq!(c14n(r#"<e><f xmlns=""/></e>"#, &[], &[]), "<e><f></f></e>");
    }

    #[test]
    fn refuses_what_is_not_one_element() {
        assert_eq!(parse_in("<a/><b/>", &[]), Err(DomError::Trailing));
        assert!(parse_in("<a><b></a>", &[]).is_err());
        assert_eq!(
            parse_in("<p:a/>", &[]),
            Err(DomError::UndeclaredPrefix("p".into()))
        );
        assert_eq!(parse_in("", &[]), Err(DomError::Empty));
        assert_eq!(
            parse_in("<e :q:a=\"1\"/>", &[]),
            Err(DomError::Name(":q:a".into()))
        );
        assert_eq!(
            parse_in("<e a=\"\u{0}\"/>", &[]),
            Err(DomError::Character(0))
        );
        assert_eq!(parse_in("<e>\u{1}</e>", &[]), Err(DomError::Character(1)));
        assert_eq!(
            parse_in("<e xmlns:p=\"\"/>", &[]),
            Err(DomError::Binding("p".into()))
        );
    }
}
