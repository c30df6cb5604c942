//! The streaming XML layer under every decoder: a cursor over quick-xml's event `Reader` that
//! parses each start tag's attributes once (namespace declarations, entity and character
//! references, attribute-value normalization, duplicate detection), resolves namespaces, matches
//! names into [`Tag`]/[`AttrName`], keeps an element path for error locations, enforces depth
//! and size limits, refuses DOCTYPE and undefined entities, and can hand raw content (inline
//! base64) straight from the input without buffering it.
//!
//! quick-xml tokenizes; this module does the namespace work itself because it reads the
//! attributes anyway, which saves quick-xml's `NsReader` a second pass over every start tag.

use std::io::{self, BufRead};
use std::ops::Range;

use quick_xml::events::Event;
use quick_xml::reader::Reader;

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

/// A namespace declaration in scope.
#[derive(Debug, Clone)]
struct Binding {
    /// "" for the default namespace.
    prefix: String,
    uri: String,
    ns: Ns,
    /// Element depth that declared it.
    depth: usize,
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

/// A problem found while reading a start tag.
enum TagProblem {
    Malformed(String),
    UndefinedEntity(String),
    Forbidden,
    TooLong,
    UndeclaredPrefix(String),
}

/// Streaming XML cursor.
pub(crate) struct XmlIn<R: BufRead> {
    reader: Reader<Counted<R>>,
    buf: Vec<u8>,
    /// The current start tag.
    pub(crate) tag: Tag,
    pub(crate) ns: Ns,
    /// Qualified names of the open elements, concatenated; `marks[i]` is where the i-th starts.
    /// The current start tag's name is the last one.
    names: String,
    attrs: Vec<Attr>,
    attr_text: String,
    /// Raw attribute names of the current tag, for duplicate detection (ranges into the tag).
    seen_names: Vec<Range<usize>>,
    bindings: Vec<Binding>,
    /// Character data since the last start or end tag.
    text: String,
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
        let mut reader = Reader::from_reader(Counted::new(source, envelope_limit));
        let config = reader.config_mut();
        config.trim_text(false);
        config.expand_empty_elements = false;
        config.check_end_names = true;
        Self {
            reader,
            buf: Vec::with_capacity(1024),
            tag: Tag::Other,
            ns: Ns::None,
            names: String::with_capacity(256),
            attrs: Vec::with_capacity(16),
            attr_text: String::with_capacity(256),
            seen_names: Vec::with_capacity(16),
            bindings: Vec::with_capacity(16),
            text: String::new(),
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
        if self.marks.is_empty() {
            return "/".to_owned();
        }
        let mut path = String::with_capacity(self.names.len() + self.marks.len());
        for (index, start) in self.marks.iter().enumerate() {
            let end = self
                .marks
                .get(index + 1)
                .copied()
                .unwrap_or(self.names.len());
            let name = &self.names[*start..end];
            path.push('/');
            path.push_str(split_prefix(name).map_or(name, |(_, local)| local));
        }
        path
    }

    /// The current (innermost open, or just closed if empty) element's qualified name.
    pub(crate) fn qname(&self) -> &str {
        let start = self.marks.last().copied().unwrap_or(0);
        &self.names[start..]
    }

    /// The current start tag's namespace URI ("" when none).
    pub(crate) fn namespace_uri(&self) -> String {
        let prefix = split_prefix(self.qname()).map_or("", |(prefix, _)| prefix);
        match self.binding(prefix) {
            Some(binding) => binding.uri.clone(),
            None if prefix.is_empty() => String::new(),
            None => format!("undeclared prefix {prefix}"),
        }
    }

    fn binding(&self, prefix: &str) -> Option<&Binding> {
        self.bindings
            .iter()
            .rev()
            .find(|binding| binding.prefix == prefix)
    }

    fn xml_error(&self, source: quick_xml::Error) -> DecodeError {
        if let quick_xml::Error::Io(io_error) = &source
            && let Some(abort) = InputAbort::from_io(io_error)
        {
            return abort.into();
        }
        DecodeError::Xml {
            position: self.position(),
            source,
        }
    }

    fn text_error(&self, problem: TextProblem) -> DecodeError {
        match problem {
            TextProblem::TooLong => DecodeError::TextTooLong {
                limit: self.max_text,
                location: self.location(),
            },
            TextProblem::Forbidden => DecodeError::UndefinedEntity {
                name: "a character XML forbids, in text".to_owned(),
                location: self.location(),
            },
        }
    }

    fn tag_error(&self, problem: TagProblem) -> DecodeError {
        let location = format!("{} (start tag {})", self.location(), self.qname());
        match problem {
            TagProblem::Malformed(message) => DecodeError::MalformedTag { message, location },
            TagProblem::UndefinedEntity(name) => DecodeError::UndefinedEntity { name, location },
            TagProblem::Forbidden => DecodeError::UndefinedEntity {
                name: "a character XML forbids, in an attribute".to_owned(),
                location,
            },
            TagProblem::TooLong => DecodeError::TextTooLong {
                limit: self.max_text,
                location,
            },
            TagProblem::UndeclaredPrefix(prefix) => {
                DecodeError::UndeclaredPrefix { prefix, location }
            }
        }
    }

    /// Advances to the next start or end tag, collecting character data on the way.
    pub(crate) fn next(&mut self) -> Result<Ev, DecodeError> {
        if self.pending_end {
            self.pending_end = false;
            self.leave();
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
                    self.leave();
                    return Ok(Ev::End);
                }
                Event::Text(text) => {
                    if let Err(problem) =
                        push_checked(&mut self.text, &text.xml10_content(), self.max_text)
                    {
                        return Err(self.text_error(problem));
                    }
                    continue;
                }
                Event::CData(data) => {
                    if let Err(problem) =
                        push_checked(&mut self.text, &data.xml10_content(), self.max_text)
                    {
                        return Err(self.text_error(problem));
                    }
                    continue;
                }
                Event::GeneralRef(reference) => {
                    let resolved = match resolve_reference(&reference) {
                        Some(character) => character,
                        None => {
                            let name = reference.to_string();
                            return Err(DecodeError::UndefinedEntity {
                                name,
                                location: self.location(),
                            });
                        }
                    };
                    let mut encoded = [0u8; 4];
                    let piece: &str = resolved.encode_utf8(&mut encoded);
                    if let Err(problem) = push_checked(&mut self.text, piece, self.max_text) {
                        return Err(self.text_error(problem));
                    }
                    continue;
                }
                Event::Comment(_) | Event::PI(_) => continue,
                Event::Decl(declaration) => {
                    let declared = match declaration.encoding() {
                        Some(Ok(value)) => Some(value.into_owned()),
                        Some(Err(error)) => return Err(self.xml_error(error.into())),
                        None => None,
                    };
                    if let Some(encoding) = declared
                        && !encoding.eq_ignore_ascii_case("utf-8")
                        && !encoding.eq_ignore_ascii_case("utf8")
                    {
                        return Err(DecodeError::Encoding { declared: encoding });
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
            let content: &str = &start;
            if self.record_raw {
                self.raw_start.clear();
                self.raw_start.push('<');
                self.raw_start.push_str(content);
                self.raw_start.push_str(if empty { "/>" } else { ">" });
            }
            let name_len = start.name().as_ref().len();
            self.marks.push(self.names.len());
            self.names.push_str(&content[..name_len]);
            let depth = self.marks.len();
            let mut tag_state = TagState {
                attrs: &mut self.attrs,
                attr_text: &mut self.attr_text,
                seen_names: &mut self.seen_names,
                bindings: &mut self.bindings,
                max_text: self.max_text,
                depth,
            };
            if let Err(problem) = tag_state.parse(content, name_len) {
                return Err(self.tag_error(problem));
            }
            let qname = &self.names[self.names.len() - name_len..];
            let (prefix, local) = match split_prefix(qname) {
                Some((prefix, local)) => (prefix, local),
                None => ("", qname),
            };
            self.tag = Tag::from_local(local.as_bytes());
            self.ns = match self
                .bindings
                .iter()
                .rev()
                .find(|binding| binding.prefix == prefix)
            {
                Some(binding) => binding.ns,
                None if prefix.is_empty() => Ns::None,
                None => return Err(self.tag_error(TagProblem::UndeclaredPrefix(prefix.to_owned()))),
            };
            self.pending_end = empty;
            if self.marks.len() > self.max_depth {
                return Err(DecodeError::TooDeep {
                    limit: self.max_depth,
                    location: self.location(),
                });
            }
            return Ok(Ev::Start);
        }
    }

    /// Closes the current element: its path segment and its namespace declarations.
    fn leave(&mut self) {
        let depth = self.marks.len();
        while self
            .bindings
            .last()
            .is_some_and(|binding| binding.depth >= depth)
        {
            self.bindings.pop();
        }
        if let Some(mark) = self.marks.pop() {
            self.names.truncate(mark);
        }
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
            Ev::End => {
                // Copy out (an exact-size allocation) and keep the buffer's capacity for the
                // next text node.
                let value = self.text.clone();
                self.text.clear();
                Ok(value)
            }
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
                element: self.qname().to_owned(),
                location: self.location(),
            };
        }
        DecodeError::UnexpectedElement {
            found: self.qname().to_owned(),
            location: self.location(),
            expected,
            in_body: self.in_body,
        }
    }

    /// The error for a known element name in the wrong namespace.
    pub(crate) fn wrong_namespace(&self, expected: &'static str) -> DecodeError {
        if self.ns == Ns::Ebxml21 {
            return DecodeError::Ebrim21 {
                element: self.qname().to_owned(),
                location: self.location(),
            };
        }
        DecodeError::WrongNamespace {
            element: self.qname().to_owned(),
            found: self.namespace_uri(),
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
        let mut namespaces: Vec<(String, String)> = Vec::new();
        for binding in &self.bindings {
            namespaces.retain(|(prefix, _)| *prefix != binding.prefix);
            if !binding.uri.is_empty() {
                namespaces.push((binding.prefix.clone(), binding.uri.clone()));
            }
        }
        // The start tag itself was recorded by `next` while `record_raw` was on.
        let mut xml = std::mem::take(&mut self.raw_start);
        if self.pending_end {
            self.pending_end = false;
            self.leave();
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
                    if depth + self.marks.len() > self.max_depth {
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
                        self.leave();
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
                    if resolve_reference(reference).is_none() {
                        let name = reference.to_string();
                        return Err(DecodeError::UndefinedEntity {
                            name,
                            location: self.location(),
                        });
                    }
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
            if xml.len() > self.max_text.saturating_mul(16) {
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

/// The per-tag state the attribute parser fills (split from the cursor to satisfy borrows: the
/// tag's text lives in the cursor's read buffer).
struct TagState<'a> {
    attrs: &'a mut Vec<Attr>,
    attr_text: &'a mut String,
    seen_names: &'a mut Vec<Range<usize>>,
    bindings: &'a mut Vec<Binding>,
    max_text: usize,
    depth: usize,
}

impl TagState<'_> {
    /// Parses the attributes of a start tag (`content` = the text between `<` and `>` or `/>`),
    /// binding its namespace declarations before anything is resolved.
    fn parse(&mut self, content: &str, name_len: usize) -> Result<(), TagProblem> {
        self.attrs.clear();
        self.attr_text.clear();
        self.seen_names.clear();
        let bytes = content.as_bytes();
        let mut position = name_len;
        // Prefixed attributes are resolved after every declaration of the tag is known.
        let mut pending_prefixed: Vec<(Range<usize>, Range<usize>)> = Vec::new();
        let mut seen_known = 0u64;
        loop {
            let blank_start = position;
            while position < bytes.len() && matches!(bytes[position], b' ' | b'\t' | b'\r' | b'\n')
            {
                position += 1;
            }
            if position >= bytes.len() {
                break;
            }
            if position == blank_start {
                return Err(TagProblem::Malformed(
                    "attributes must be separated by white space".to_owned(),
                ));
            }
            let name_start = position;
            position += bytes[position..]
                .iter()
                .position(|&byte| NAME_STOP[usize::from(byte)])
                .unwrap_or(bytes.len() - position);
            let name = &content[name_start..position];
            if name.is_empty() {
                return Err(TagProblem::Malformed("attribute without a name".to_owned()));
            }
            while position < bytes.len() && matches!(bytes[position], b' ' | b'\t' | b'\r' | b'\n')
            {
                position += 1;
            }
            if bytes.get(position) != Some(&b'=') {
                return Err(TagProblem::Malformed(format!(
                    "attribute {name} has no value"
                )));
            }
            position += 1;
            while position < bytes.len() && matches!(bytes[position], b' ' | b'\t' | b'\r' | b'\n')
            {
                position += 1;
            }
            let quote = match bytes.get(position) {
                Some(&quote @ (b'"' | b'\'')) => quote,
                _ => {
                    return Err(TagProblem::Malformed(format!(
                        "value of attribute {name} is not quoted"
                    )));
                }
            };
            let value_start = position + 1;
            let value_end = memchr::memchr(quote, &bytes[value_start..])
                .map(|offset| value_start + offset)
                .ok_or_else(|| {
                    TagProblem::Malformed(format!("value of attribute {name} is not closed"))
                })?;
            position = value_end + 1;
            let raw_value = &content[value_start..value_end];
            // Duplicates (a well-formedness error): known names through a bitmask, the others
            // by comparison with the other unknown names of the tag.
            let known = if name.bytes().any(|byte| byte == b':') {
                AttrName::Other
            } else {
                AttrName::from_local(name.as_bytes())
            };
            if known == AttrName::Other {
                for seen in self.seen_names.iter() {
                    if &content[seen.clone()] == name {
                        return Err(TagProblem::Malformed(format!("duplicate attribute {name}")));
                    }
                }
                self.seen_names.push(name_start..name_start + name.len());
            } else {
                let bit = 1u64 << (known as u32);
                if seen_known & bit != 0 {
                    return Err(TagProblem::Malformed(format!("duplicate attribute {name}")));
                }
                seen_known |= bit;
                let begin = self.attr_text.len();
                append_attribute_value(self.attr_text, raw_value, self.max_text)?;
                self.attrs.push(Attr {
                    ns: Ns::None,
                    name: known,
                    value: begin..self.attr_text.len(),
                });
                continue;
            }
            if name == "xmlns" || name.starts_with("xmlns:") {
                let mut uri = String::new();
                append_attribute_value(&mut uri, raw_value, self.max_text)?;
                let prefix = name.strip_prefix("xmlns:").unwrap_or("");
                if !prefix.is_empty() && uri.is_empty() {
                    return Err(TagProblem::Malformed(format!(
                        "namespace prefix {prefix} bound to an empty URI"
                    )));
                }
                let ns = Ns::from_uri(uri.as_bytes());
                self.bindings.push(Binding {
                    prefix: prefix.to_owned(),
                    uri,
                    ns,
                    depth: self.depth,
                });
                continue;
            }
            match split_prefix(name) {
                None => {
                    // An unknown unprefixed attribute: checked for well-formedness, not kept.
                    let begin = self.attr_text.len();
                    append_attribute_value(self.attr_text, raw_value, self.max_text)?;
                    self.attr_text.truncate(begin);
                }
                Some(_) => pending_prefixed
                    .push((name_start..name_start + name.len(), value_start..value_end)),
            }
        }
        for (name_range, value_range) in pending_prefixed {
            let name = &content[name_range];
            let (prefix, local) = split_prefix(name).unwrap_or(("", name));
            let ns = if prefix == "xml" {
                Ns::Xml
            } else {
                match self
                    .bindings
                    .iter()
                    .rev()
                    .find(|binding| binding.prefix == prefix)
                {
                    Some(binding) => binding.ns,
                    None => return Err(TagProblem::UndeclaredPrefix(prefix.to_owned())),
                }
            };
            let attr_name = AttrName::from_local(local.as_bytes());
            let raw_value = &content[value_range];
            if attr_name != AttrName::Other {
                let begin = self.attr_text.len();
                append_attribute_value(self.attr_text, raw_value, self.max_text)?;
                self.attrs.push(Attr {
                    ns,
                    name: attr_name,
                    value: begin..self.attr_text.len(),
                });
            } else {
                let begin = self.attr_text.len();
                append_attribute_value(self.attr_text, raw_value, self.max_text)?;
                self.attr_text.truncate(begin);
            }
        }
        Ok(())
    }
}

/// Appends an attribute value after resolving references and normalizing white space (XML 1.0
/// §3.3.3: each tab, line feed, carriage return or CR LF pair becomes a space; characters
/// written as references keep their value).
fn append_attribute_value(out: &mut String, raw: &str, max_text: usize) -> Result<(), TagProblem> {
    if raw.len() > max_text {
        return Err(TagProblem::TooLong);
    }
    // Fast path: nothing to refuse, resolve or normalize (almost every value).
    let bytes = raw.as_bytes();
    if bytes.iter().all(|&byte| PLAIN[usize::from(byte)]) {
        out.push_str(raw);
        return Ok(());
    }
    // One pass: refuse '<' and forbidden characters, note whether any reference or white
    // space needs rewriting.
    let mut needs_work = false;
    let mut maybe_nonchar = false;
    for &byte in bytes {
        match byte {
            b'<' => {
                return Err(TagProblem::Malformed(
                    "'<' in an attribute value".to_owned(),
                ));
            }
            b'&' | b'\t' | b'\n' | b'\r' => needs_work = true,
            0x00..=0x1F => return Err(TagProblem::Forbidden),
            0xEF => maybe_nonchar = true,
            _ => {}
        }
    }
    if maybe_nonchar && !is_xml_text(raw) {
        return Err(TagProblem::Forbidden);
    }
    if !needs_work {
        out.push_str(raw);
        return Ok(());
    }
    let mut rest = raw;
    while let Some(index) = rest.find(['&', '\t', '\n', '\r']) {
        out.push_str(&rest[..index]);
        let special = rest.as_bytes()[index];
        rest = &rest[index + 1..];
        match special {
            b'&' => {
                let end = rest.find(';').ok_or_else(|| {
                    TagProblem::Malformed("unterminated reference in an attribute value".to_owned())
                })?;
                let name = &rest[..end];
                let character = resolve_reference_name(name)
                    .ok_or_else(|| TagProblem::UndefinedEntity(name.to_owned()))?;
                if !is_xml_char(character) {
                    return Err(TagProblem::Forbidden);
                }
                out.push(character);
                rest = &rest[end + 1..];
            }
            b'\r' => {
                out.push(' ');
                if rest.as_bytes().first() == Some(&b'\n') {
                    rest = &rest[1..];
                }
            }
            _ => out.push(' '),
        }
    }
    out.push_str(rest);
    Ok(())
}

/// The character a reference stands for: the five predefined entities and character
/// references; anything else is undefined (there is no DTD).
fn resolve_reference_name(name: &str) -> Option<char> {
    match name {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        _ => {
            let number = name.strip_prefix('#')?;
            let code = match number.strip_prefix('x') {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                None => number.parse::<u32>().ok()?,
            };
            if number.is_empty()
                || number.starts_with('+')
                || number
                    .get(1..)
                    .is_some_and(|digits| digits.starts_with('+'))
            {
                return None;
            }
            char::from_u32(code)
        }
    }
}

/// A GeneralRef event's character, if it is a defined reference to an XML character.
pub(crate) fn resolve_reference(reference: &quick_xml::events::BytesRef<'_>) -> Option<char> {
    resolve_reference_name(reference).filter(|character| is_xml_char(*character))
}

/// Bytes that need no attention in attribute values or text: everything except C0 controls
/// (including tab, LF, CR, which attribute normalization rewrites), `<`, `&` and 0xEF (the lead
/// byte of U+FFFE/U+FFFF).
static PLAIN: [bool; 256] = {
    let mut table = [true; 256];
    let mut byte = 0;
    while byte < 0x20 {
        table[byte] = false;
        byte += 1;
    }
    table[b'<' as usize] = false;
    table[b'&' as usize] = false;
    table[0xEF] = false;
    table
};

/// Bytes that end an attribute name: `=` and white space.
static NAME_STOP: [bool; 256] = {
    let mut table = [false; 256];
    table[b'=' as usize] = true;
    table[b' ' as usize] = true;
    table[b'\t' as usize] = true;
    table[b'\r' as usize] = true;
    table[b'\n' as usize] = true;
    table
};

/// Splits `prefix:local` at its first colon (byte search; names are short).
fn split_prefix(name: &str) -> Option<(&str, &str)> {
    let colon = name.bytes().position(|byte| byte == b':')?;
    Some((&name[..colon], &name[colon + 1..]))
}

/// Why a piece of text cannot be appended.
enum TextProblem {
    TooLong,
    Forbidden,
}

/// Appends text after checking the size limit and that it holds only XML characters.
fn push_checked(text: &mut String, piece: &str, max_text: usize) -> Result<(), TextProblem> {
    if text.len() + piece.len() > max_text {
        return Err(TextProblem::TooLong);
    }
    if !is_xml_text(piece) {
        return Err(TextProblem::Forbidden);
    }
    text.push_str(piece);
    Ok(())
}

/// Whether every character of `text` is an XML 1.0 `Char`. Works on bytes: in UTF-8 the only
/// forbidden characters are C0 controls other than tab, LF and CR, and U+FFFE / U+FFFF
/// (EF BF BE / EF BF BF); surrogates cannot occur in a `str`.
fn is_xml_text(text: &str) -> bool {
    let bytes = text.as_bytes();
    if bytes
        .iter()
        .all(|&byte| PLAIN[usize::from(byte)] || byte == b'<' || byte == b'&')
    {
        return true;
    }
    let mut maybe_nonchar = false;
    for &byte in bytes {
        if byte < 0x20 {
            if !matches!(byte, b'\t' | b'\n' | b'\r') {
                return false;
            }
        } else if byte == 0xEF {
            maybe_nonchar = true;
        }
    }
    !maybe_nonchar
        || memchr::memchr_iter(0xEF, bytes).all(|index| {
            !(bytes.get(index + 1) == Some(&0xBF)
                && matches!(bytes.get(index + 2), Some(0xBE | 0xBF)))
        })
}

/// XML 1.0 `Char`: what a character reference may produce (WFC: Legal Character).
pub(crate) fn is_xml_char(character: char) -> bool {
    matches!(character, '\u{9}' | '\u{A}' | '\u{D}' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// Counts the start tags of a document through the cursor alone (benchmark diagnostics).
#[doc(hidden)]
pub fn cursor_scan(xml: &[u8]) -> Result<usize, DecodeError> {
    let mut cursor = XmlIn::new(xml, u64::MAX, 256, 1 << 20);
    let mut starts = 0;
    loop {
        match cursor.next()? {
            Ev::Start => starts += 1,
            Ev::End => cursor.text.clear(),
            Ev::Eof => return Ok(starts),
        }
    }
}

/// Maps an `io::Error` raised while streaming raw content.
pub(crate) fn io_error(error: io::Error) -> DecodeError {
    decode_error_from_io(error)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(raw: &str) -> Result<String, String> {
        let mut out = String::new();
        append_attribute_value(&mut out, raw, 1 << 20)
            .map(|()| out)
            .map_err(|problem| match problem {
                TagProblem::Malformed(message) => message,
                TagProblem::UndefinedEntity(name) => format!("undefined {name}"),
                TagProblem::Forbidden => "forbidden".to_owned(),
                TagProblem::TooLong => "too long".to_owned(),
                TagProblem::UndeclaredPrefix(prefix) => prefix,
            })
    }

    #[test]
    fn attribute_values_are_unescaped_and_normalized() {
        assert_eq!(value("plain").unwrap(), "plain");
        assert_eq!(
            value("a&amp;b&lt;c&gt;d&quot;e&apos;f").unwrap(),
            "a&b<c>d\"e'f"
        );
        assert_eq!(value("x&#10;y&#x9;z&#13;").unwrap(), "x\ny\tz\r");
        assert_eq!(
            value("line\r\nnext\tcol\nend").unwrap(),
            "line next col end"
        );
        assert_eq!(value("&#233;t&#xE9;").unwrap(), "été");
        assert_eq!(value("&nope;").unwrap_err(), "undefined nope");
        assert_eq!(value("&#0;").unwrap_err(), "forbidden");
        assert_eq!(value("&#xFFFE;").unwrap_err(), "forbidden");
        assert_eq!(value("&#x+41;").unwrap_err(), "undefined #x+41");
        assert_eq!(
            value("&amp").unwrap_err(),
            "unterminated reference in an attribute value"
        );
        assert_eq!(value("a<b").unwrap_err(), "'<' in an attribute value");
    }

    type Parsed = (Vec<(Ns, AttrName, String)>, Vec<Binding>);

    fn tag(content: &str) -> Result<Parsed, String> {
        let mut attrs = Vec::new();
        let mut attr_text = String::new();
        let mut seen = Vec::new();
        let mut bindings = Vec::new();
        let name_len = content.find([' ', '\t', '\n']).unwrap_or(content.len());
        let mut state = TagState {
            attrs: &mut attrs,
            attr_text: &mut attr_text,
            seen_names: &mut seen,
            bindings: &mut bindings,
            max_text: 1 << 20,
            depth: 1,
        };
        state
            .parse(content, name_len)
            .map_err(|problem| match problem {
                TagProblem::Malformed(message) => message,
                TagProblem::UndeclaredPrefix(prefix) => format!("undeclared {prefix}"),
                _ => "other".to_owned(),
            })?;
        let values = attrs
            .iter()
            .map(|attr| (attr.ns, attr.name, attr_text[attr.value.clone()].to_owned()))
            .collect();
        Ok((values, bindings))
    }

    #[test]
    fn start_tags_bind_namespaces_before_resolving_attributes() {
        let (attrs, bindings) =
            tag(r#"s:Action s:mustUnderstand="1" xmlns:s="http://www.w3.org/2003/05/soap-envelope" id='x'"#).unwrap();
        assert_eq!(bindings.len(), 1);
        assert_eq!(bindings[0].ns, Ns::Soap);
        assert!(attrs.contains(&(Ns::Soap, AttrName::MustUnderstand, "1".to_owned())));
        assert!(attrs.contains(&(Ns::None, AttrName::Id, "x".to_owned())));
        assert_eq!(
            tag(r#"a xml:lang="fr""#).unwrap().0,
            vec![(Ns::Xml, AttrName::Lang, "fr".to_owned())]
        );
    }

    #[test]
    fn malformed_start_tags_are_refused() {
        assert_eq!(
            tag(r#"a id="1" id="2""#).unwrap_err(),
            "duplicate attribute id"
        );
        assert_eq!(
            tag(r#"a id="1"name="2""#).unwrap_err(),
            "attributes must be separated by white space"
        );
        assert_eq!(tag(r#"a id"#).unwrap_err(), "attribute id has no value");
        assert_eq!(
            tag(r#"a id=1"#).unwrap_err(),
            "value of attribute id is not quoted"
        );
        assert_eq!(
            tag(r#"a id="1"#).unwrap_err(),
            "value of attribute id is not closed"
        );
        assert_eq!(tag(r#"a p:id="1""#).unwrap_err(), "undeclared p");
        assert_eq!(
            tag(r#"a xmlns:p="""#).unwrap_err(),
            "namespace prefix p bound to an empty URI"
        );
    }
}
