//! The streaming XML layer under every decoder: a thin cursor over quick-xml's `NsReader` that
//! resolves namespaces, matches names into [`Tag`]/[`AttrName`], keeps an element path for error
//! locations, enforces depth and size limits, refuses DOCTYPE and undefined entities, and can
//! hand raw content (inline base64) straight from the input without buffering it.

use std::io::{self, BufRead};
use std::ops::Range;

use quick_xml::XmlVersion;
use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use quick_xml::reader::NsReader;

use super::error::DecodeError;
use super::multipart::{InputAbort, decode_error_from_io};
use super::names::{AttrName, Ns, Tag};

/// A `BufRead` that counts consumed bytes against the envelope limit. Counting can be paused
/// while inline document content streams through, which counts against the attachment limit
/// instead.
#[derive(Debug)]
pub(crate) struct Counted<R> {
    inner: R,
    consumed: u64,
    limit: u64,
    pub(crate) counting: bool,
    /// Total bytes consumed, for positions.
    pub(crate) position: u64,
}

impl<R> Counted<R> {
    pub(crate) fn new(inner: R, limit: u64) -> Self {
        Self {
            inner,
            consumed: 0,
            limit,
            counting: true,
            position: 0,
        }
    }
}

impl<R: BufRead> io::Read for Counted<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let count = available.len().min(out.len());
        out[..count].copy_from_slice(&available[..count]);
        self.consume(count);
        Ok(count)
    }
}

impl<R: BufRead> BufRead for Counted<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.consumed > self.limit {
            return Err(InputAbort::EnvelopeTooLarge(self.limit).into_io());
        }
        self.inner.fill_buf()
    }

    fn consume(&mut self, amount: usize) {
        self.inner.consume(amount);
        self.position += amount as u64;
        if self.counting {
            self.consumed += amount as u64;
        }
    }
}

/// What [`XmlIn::next`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ev {
    Start,
    End,
    Eof,
}

#[derive(Debug, Clone)]
struct Attr {
    ns: Ns,
    name: AttrName,
    value: Range<usize>,
}

/// Raw XML of one element with the namespace declarations in scope where it started, so that
/// it can be parsed or canonicalized on its own later (the WS-Security header).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawXml {
    /// The element's bytes exactly as received.
    pub xml: String,
    /// `(prefix, namespace)` pairs in scope at the element, innermost last; the default
    /// namespace has an empty prefix.
    pub namespaces: Vec<(String, String)>,
}

/// Streaming XML cursor.
pub(crate) struct XmlIn<R: BufRead> {
    reader: NsReader<Counted<R>>,
    buf: Vec<u8>,
    /// The current start tag.
    pub(crate) tag: Tag,
    pub(crate) ns: Ns,
    namespace_uri: String,
    qname: String,
    attrs: Vec<Attr>,
    attr_text: String,
    /// Character data since the last start or end tag.
    text: String,
    path: String,
    marks: Vec<usize>,
    /// The current start tag was empty (`<a/>`): the next call reports its end.
    pending_end: bool,
    max_depth: usize,
    max_text: usize,
    /// Whether the cursor is inside the SOAP Body's content (decides error classes).
    pub(crate) in_body: bool,
    record_raw: bool,
    raw_start: String,
}

impl<R: BufRead> XmlIn<R> {
    pub(crate) fn new(source: R, envelope_limit: u64, max_depth: usize, max_text: usize) -> Self {
        let mut reader = NsReader::from_reader(Counted::new(source, envelope_limit));
        let config = reader.config_mut();
        config.trim_text(false);
        config.expand_empty_elements = false;
        config.check_end_names = true;
        Self {
            reader,
            buf: Vec::with_capacity(1024),
            tag: Tag::Other,
            ns: Ns::None,
            namespace_uri: String::new(),
            qname: String::new(),
            attrs: Vec::with_capacity(16),
            attr_text: String::with_capacity(256),
            text: String::new(),
            path: String::with_capacity(256),
            marks: Vec::with_capacity(32),
            pending_end: false,
            max_depth,
            max_text,
            in_body: false,
            record_raw: false,
            raw_start: String::new(),
        }
    }

    pub(crate) fn position(&self) -> u64 {
        self.reader.get_ref().position
    }

    /// The element path of the current position, for error locations.
    pub(crate) fn location(&self) -> String {
        if self.path.is_empty() {
            "/".to_owned()
        } else {
            self.path.clone()
        }
    }

    /// The current start tag's qualified name as written.
    pub(crate) fn qname(&self) -> &str {
        &self.qname
    }

    /// The current start tag's namespace URI ("" when none).
    pub(crate) fn namespace_uri(&self) -> &str {
        &self.namespace_uri
    }

    fn xml_error(&self, source: quick_xml::Error) -> DecodeError {
        if let quick_xml::Error::Io(io_error) = &source {
            if let Some(abort) = InputAbort::from_io(io_error) {
                return abort.into();
            }
        }
        DecodeError::Xml {
            position: self.position(),
            source,
        }
    }

    fn push_text(&mut self, piece: &str) -> Result<(), DecodeError> {
        if self.text.len() + piece.len() > self.max_text {
            return Err(DecodeError::TextTooLong {
                limit: self.max_text,
                location: self.location(),
            });
        }
        self.text.push_str(piece);
        Ok(())
    }

    /// Advances to the next start or end tag, collecting character data on the way.
    pub(crate) fn next(&mut self) -> Result<Ev, DecodeError> {
        if self.pending_end {
            self.pending_end = false;
            self.pop_path();
            return Ok(Ev::End);
        }
        loop {
            self.buf.clear();
            let event = match self.reader.read_event_into(&mut self.buf) {
                Ok(event) => event,
                Err(error) => return Err(self.xml_error(error)),
            };
            let (start, empty) = match event {
                Event::Start(start) => (start, false),
                Event::Empty(start) => (start, true),
                Event::End(_) => {
                    self.pop_path();
                    return Ok(Ev::End);
                }
                Event::Text(text) => {
                    let content = text.xml10_content().into_owned();
                    self.push_text(&content)?;
                    continue;
                }
                Event::CData(data) => {
                    let content = data.xml10_content().into_owned();
                    self.push_text(&content)?;
                    continue;
                }
                Event::GeneralRef(reference) => {
                    let resolved = match reference.resolve_char_ref() {
                        Ok(Some(character)) => character,
                        Ok(None) => match &*reference {
                            "amp" => '&',
                            "lt" => '<',
                            "gt" => '>',
                            "quot" => '"',
                            "apos" => '\'',
                            other => {
                                let name = other.to_owned();
                                return Err(DecodeError::UndefinedEntity {
                                    name,
                                    location: self.location(),
                                });
                            }
                        },
                        Err(error) => return Err(self.xml_error(error)),
                    };
                    let mut encoded = [0u8; 4];
                    let piece = resolved.encode_utf8(&mut encoded).to_owned();
                    self.push_text(&piece)?;
                    continue;
                }
                Event::Comment(_) | Event::PI(_) => continue,
                Event::Decl(declaration) => {
                    let declared = match declaration.encoding() {
                        Some(Ok(value)) => Some(value.into_owned()),
                        Some(Err(error)) => return Err(self.xml_error(error.into())),
                        None => None,
                    };
                    if let Some(encoding) = declared {
                        if !encoding.eq_ignore_ascii_case("utf-8")
                            && !encoding.eq_ignore_ascii_case("utf8")
                        {
                            return Err(DecodeError::Encoding { declared: encoding });
                        }
                    }
                    continue;
                }
                Event::DocType(_) => {
                    return Err(DecodeError::DocType {
                        position: self.position(),
                    });
                }
                Event::Eof => return Ok(Ev::Eof),
            };
            if self.record_raw {
                self.raw_start.clear();
                self.raw_start.push('<');
                self.raw_start.push_str(&start);
                self.raw_start.push_str(if empty { "/>" } else { ">" });
            }
            let mut sink = StartSink {
                tag: &mut self.tag,
                ns: &mut self.ns,
                namespace_uri: &mut self.namespace_uri,
                qname: &mut self.qname,
                attrs: &mut self.attrs,
                attr_text: &mut self.attr_text,
                max_text: self.max_text,
            };
            if let Err(error) = Self::read_start(&self.reader, &start, &mut sink) {
                return Err(match error {
                    StartError::Xml(source) => DecodeError::Xml {
                        position: self.reader.get_ref().position,
                        source,
                    },
                    StartError::TooLong => DecodeError::TextTooLong {
                        limit: self.max_text,
                        location: self.path.clone(),
                    },
                });
            }
            self.pending_end = empty;
            return self.enter();
        }
    }

    fn enter(&mut self) -> Result<Ev, DecodeError> {
        self.marks.push(self.path.len());
        self.path.push('/');
        let local = self.qname.rsplit(':').next().unwrap_or(&self.qname);
        self.path.push_str(local);
        if self.marks.len() > self.max_depth {
            return Err(DecodeError::TooDeep {
                limit: self.max_depth,
                location: self.location(),
            });
        }
        Ok(Ev::Start)
    }

    fn pop_path(&mut self) {
        if let Some(mark) = self.marks.pop() {
            self.path.truncate(mark);
        }
    }

    fn read_start(
        reader: &NsReader<Counted<R>>,
        start: &quick_xml::events::BytesStart<'_>,
        sink: &mut StartSink<'_>,
    ) -> Result<(), StartError> {
        let resolver = reader.resolver();
        let name = start.name();
        let (resolved, local) = resolver.resolve_element(name);
        *sink.ns = match &resolved {
            ResolveResult::Bound(namespace) => Ns::from_uri(namespace.as_ref().as_bytes()),
            ResolveResult::Unbound => Ns::None,
            ResolveResult::Unknown(_) => Ns::Other,
        };
        sink.namespace_uri.clear();
        match &resolved {
            ResolveResult::Bound(namespace) => sink.namespace_uri.push_str(namespace.as_ref()),
            ResolveResult::Unknown(prefix) => {
                sink.namespace_uri.push_str("undeclared prefix ");
                sink.namespace_uri.push_str(prefix);
            }
            ResolveResult::Unbound => {}
        }
        *sink.tag = Tag::from_local(local.as_ref().as_bytes());
        sink.qname.clear();
        sink.qname.push_str(name.as_ref());
        sink.attrs.clear();
        sink.attr_text.clear();
        for attribute in start.attributes().with_checks(true) {
            let attribute = attribute.map_err(|error| StartError::Xml(error.into()))?;
            let key = attribute.key;
            let key_bytes = key.as_ref();
            if key_bytes == "xmlns" || key_bytes.starts_with("xmlns:") {
                continue;
            }
            let (attr_ns, attr_local) = if key.prefix().is_some() {
                let (resolved, local) = resolver.resolve_attribute(key);
                let ns = match resolved {
                    ResolveResult::Bound(namespace) => Ns::from_uri(namespace.as_ref().as_bytes()),
                    _ => Ns::Other,
                };
                (ns, AttrName::from_local(local.as_ref().as_bytes()))
            } else {
                (Ns::None, AttrName::from_local(key_bytes.as_bytes()))
            };
            if attr_local == AttrName::Other {
                continue;
            }
            let value = attribute
                .normalized_value(XmlVersion::Implicit1_0)
                .map_err(StartError::Xml)?;
            if value.len() > sink.max_text {
                return Err(StartError::TooLong);
            }
            let begin = sink.attr_text.len();
            sink.attr_text.push_str(&value);
            sink.attrs.push(Attr {
                ns: attr_ns,
                name: attr_local,
                value: begin..sink.attr_text.len(),
            });
        }
        Ok(())
    }

    /// An unqualified attribute of the current start tag.
    pub(crate) fn attr(&self, name: AttrName) -> Option<&str> {
        self.attr_in(Ns::None, name)
    }

    pub(crate) fn attr_in(&self, ns: Ns, name: AttrName) -> Option<&str> {
        self.attrs
            .iter()
            .find(|attr| attr.name == name && attr.ns == ns)
            .map(|attr| &self.attr_text[attr.value.clone()])
    }

    pub(crate) fn attr_owned(&self, name: AttrName) -> Option<String> {
        self.attr(name).map(str::to_owned)
    }

    fn text_is_blank(&self) -> bool {
        self.text
            .bytes()
            .all(|byte| matches!(byte, b' ' | b'\t' | b'\r' | b'\n'))
    }

    fn unexpected_text(&self) -> DecodeError {
        let mut shown: String = self.text.trim().chars().take(40).collect();
        if self.text.trim().chars().count() > 40 {
            shown.push('…');
        }
        DecodeError::UnexpectedText {
            text: shown,
            location: self.location(),
            in_body: self.in_body,
        }
    }

    /// Inside an element with element-only content: the next child start tag, or `None` at the
    /// parent's end. Stray non-blank text is an error.
    pub(crate) fn next_child(&mut self) -> Result<bool, DecodeError> {
        match self.next()? {
            Ev::Start => {
                if !self.text_is_blank() {
                    return Err(self.unexpected_text());
                }
                self.text.clear();
                Ok(true)
            }
            Ev::End => {
                if !self.text_is_blank() {
                    return Err(self.unexpected_text());
                }
                self.text.clear();
                Ok(false)
            }
            Ev::Eof => Err(DecodeError::MissingElement {
                element: "end tag",
                location: self.location(),
                in_body: self.in_body,
            }),
        }
    }

    /// Inside an element with text-only content: its text, up to the end tag.
    pub(crate) fn read_text(&mut self) -> Result<String, DecodeError> {
        self.text.clear();
        match self.next()? {
            Ev::End => Ok(std::mem::take(&mut self.text)),
            Ev::Start => Err(self.unexpected("text content")),
            Ev::Eof => Err(DecodeError::MissingElement {
                element: "end tag",
                location: self.location(),
                in_body: self.in_body,
            }),
        }
    }

    /// All character data inside the current element, markup ignored, up to its end tag.
    pub(crate) fn read_all_text(&mut self) -> Result<String, DecodeError> {
        self.text.clear();
        let mut out = String::new();
        let mut depth = 1usize;
        while depth > 0 {
            let event = self.next()?;
            if out.len() + self.text.len() > self.max_text {
                return Err(DecodeError::TextTooLong {
                    limit: self.max_text,
                    location: self.location(),
                });
            }
            out.push_str(&self.text);
            self.text.clear();
            match event {
                Ev::Start => depth += 1,
                Ev::End => depth -= 1,
                Ev::Eof => return Err(self.missing("end tag")),
            }
        }
        Ok(out)
    }

    /// Skips the rest of the current element, whatever it contains.
    pub(crate) fn skip(&mut self) -> Result<(), DecodeError> {
        let mut depth = 1usize;
        while depth > 0 {
            let event = self.next()?;
            self.text.clear();
            match event {
                Ev::Start => depth += 1,
                Ev::End => depth -= 1,
                Ev::Eof => {
                    return Err(DecodeError::MissingElement {
                        element: "end tag",
                        location: self.location(),
                        in_body: self.in_body,
                    });
                }
            }
        }
        self.text.clear();
        Ok(())
    }

    /// The error for a child element that is not allowed where it is.
    pub(crate) fn unexpected(&self, expected: &'static str) -> DecodeError {
        if self.ns == Ns::Ebxml21 {
            return DecodeError::Ebrim21 {
                element: self.qname.clone(),
                location: self.location(),
            };
        }
        DecodeError::UnexpectedElement {
            found: self.qname.clone(),
            location: self.location(),
            expected,
            in_body: self.in_body,
        }
    }

    /// The error for a known element name in the wrong namespace.
    pub(crate) fn wrong_namespace(&self, expected: &'static str) -> DecodeError {
        if self.ns == Ns::Ebxml21 {
            return DecodeError::Ebrim21 {
                element: self.qname.clone(),
                location: self.location(),
            };
        }
        DecodeError::WrongNamespace {
            element: self.qname.clone(),
            found: self.namespace_uri.clone(),
            expected,
            location: self.location(),
            in_body: self.in_body,
        }
    }

    pub(crate) fn missing(&self, element: &'static str) -> DecodeError {
        DecodeError::MissingElement {
            element,
            location: self.location(),
            in_body: self.in_body,
        }
    }

    /// Turns on recording of raw start tags, needed before [`XmlIn::capture_raw`] can be used
    /// on an element (only header blocks need it, so the body pays nothing).
    pub(crate) fn set_record_raw(&mut self, on: bool) {
        self.record_raw = on;
    }

    /// Captures the current element (just started) as raw XML, with the namespaces in scope.
    pub(crate) fn capture_raw(&mut self) -> Result<RawXml, DecodeError> {
        let namespaces = self
            .reader
            .resolver()
            .bindings()
            .map(|(prefix, namespace)| {
                let prefix = match prefix {
                    quick_xml::name::PrefixDeclaration::Default => String::new(),
                    quick_xml::name::PrefixDeclaration::Named(name) => name.to_owned(),
                };
                (prefix, namespace.as_ref().to_owned())
            })
            .collect();
        // The start tag itself was recorded by `next` while `record_raw` was on.
        let mut xml = std::mem::take(&mut self.raw_start);
        if self.pending_end {
            self.pending_end = false;
            self.pop_path();
            return Ok(RawXml { xml, namespaces });
        }
        let mut depth = 1usize;
        loop {
            self.buf.clear();
            let event = match self.reader.read_event_into(&mut self.buf) {
                Ok(event) => event,
                Err(error) => return Err(self.xml_error(error)),
            };
            match &event {
                Event::Start(start) => {
                    depth += 1;
                    if depth > self.max_depth {
                        return Err(DecodeError::TooDeep {
                            limit: self.max_depth,
                            location: self.location(),
                        });
                    }
                    xml.push('<');
                    xml.push_str(start);
                    xml.push('>');
                }
                Event::Empty(start) => {
                    xml.push('<');
                    xml.push_str(start);
                    xml.push_str("/>");
                }
                Event::End(end) => {
                    xml.push_str("</");
                    xml.push_str(end);
                    xml.push('>');
                    depth -= 1;
                    if depth == 0 {
                        self.pop_path();
                        return Ok(RawXml { xml, namespaces });
                    }
                }
                Event::Text(text) => xml.push_str(text),
                Event::CData(data) => {
                    xml.push_str("<![CDATA[");
                    xml.push_str(data);
                    xml.push_str("]]>");
                }
                Event::GeneralRef(reference) => {
                    xml.push('&');
                    xml.push_str(reference);
                    xml.push(';');
                }
                Event::Comment(comment) => {
                    xml.push_str("<!--");
                    xml.push_str(comment);
                    xml.push_str("-->");
                }
                Event::PI(instruction) => {
                    xml.push_str("<?");
                    xml.push_str(instruction);
                    xml.push_str("?>");
                }
                Event::DocType(_) => {
                    return Err(DecodeError::DocType {
                        position: self.position(),
                    });
                }
                Event::Decl(_) => {}
                Event::Eof => return Err(self.missing("end tag")),
            }
            if xml.len() as u64 > self.max_text as u64 * 16 {
                return Err(DecodeError::TextTooLong {
                    limit: self.max_text * 16,
                    location: self.location(),
                });
            }
        }
    }

    /// Direct access to the input for streaming element content (inline base64). The caller
    /// must stop before the next `<` so the cursor resumes at a tag.
    pub(crate) fn input(&mut self) -> &mut Counted<R> {
        self.reader.get_mut()
    }

    /// Whether the current start tag was empty (`<a/>`).
    pub(crate) fn is_empty_element(&self) -> bool {
        self.pending_end
    }
}

struct StartSink<'a> {
    tag: &'a mut Tag,
    ns: &'a mut Ns,
    namespace_uri: &'a mut String,
    qname: &'a mut String,
    attrs: &'a mut Vec<Attr>,
    attr_text: &'a mut String,
    max_text: usize,
}

enum StartError {
    Xml(quick_xml::Error),
    TooLong,
}

/// Maps an `io::Error` raised while streaming raw content.
pub(crate) fn io_error(error: io::Error) -> DecodeError {
    decode_error_from_io(error)
}
