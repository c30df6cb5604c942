//! HL7 v2 messages in their pipe-delimited form (ER7), as the patient identity feed (ITI-8)
//! carries them: parsing with the separators the message declares in MSH-1/MSH-2, the character
//! set MSH-18 names (UTF-8 unless `8859/1`), and a writer for the messages we send (ACKs, feeds).
//!
//! Values come out as [`Composite`]s (components of sub-components, unescaped), the type the
//! metadata model uses for CX and XCN, so a PID-3 repetition is a [`Cx`] as it would appear in
//! XDS metadata.

use crate::model::hl7::{Composite, Cx};

/// The five delimiters a message declares (MSH-1, MSH-2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Separators {
    pub field: char,
    pub component: char,
    pub repetition: char,
    pub escape: char,
    pub subcomponent: char,
}

impl Default for Separators {
    /// `|^~\&`, the ones every message we write uses.
    fn default() -> Self {
        Self {
            field: '|',
            component: '^',
            repetition: '~',
            escape: '\\',
            subcomponent: '&',
        }
    }
}

impl Separators {
    /// Escapes one sub-component's text.
    pub fn escape(&self, text: &str, out: &mut String) {
        for character in text.chars() {
            let code = if character == self.field {
                'F'
            } else if character == self.component {
                'S'
            } else if character == self.subcomponent {
                'T'
            } else if character == self.repetition {
                'R'
            } else if character == self.escape {
                'E'
            } else if character == '\r' {
                // A segment separator inside a value would cut the message.
                out.push(self.escape);
                out.push_str("X0D");
                out.push(self.escape);
                continue;
            } else {
                out.push(character);
                continue;
            };
            out.push(self.escape);
            out.push(code);
            out.push(self.escape);
        }
    }

    /// Resolves the delimiter escapes (`\F\ \S\ \T\ \R\ \E\`); other escape sequences
    /// (formatting, hexadecimal) are kept as written.
    pub fn unescape(&self, text: &str) -> String {
        if !text.contains(self.escape) {
            return text.to_owned();
        }
        let mut out = String::with_capacity(text.len());
        let mut chars = text.chars().peekable();
        while let Some(character) = chars.next() {
            if character != self.escape {
                out.push(character);
                continue;
            }
            let mut sequence = String::new();
            let mut closed = false;
            for next in chars.by_ref() {
                if next == self.escape {
                    closed = true;
                    break;
                }
                sequence.push(next);
            }
            let replacement = match sequence.as_str() {
                "F" if closed => Some(self.field),
                "S" if closed => Some(self.component),
                "T" if closed => Some(self.subcomponent),
                "R" if closed => Some(self.repetition),
                "E" if closed => Some(self.escape),
                _ => None,
            };
            match replacement {
                Some(character) => out.push(character),
                None => {
                    out.push(self.escape);
                    out.push_str(&sequence);
                    if closed {
                        out.push(self.escape);
                    }
                }
            }
        }
        out
    }
}

/// Why bytes are not an HL7 v2 message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("not an HL7 v2 message: it does not start with an MSH segment")]
    NoHeader,
    #[error("MSH-1/MSH-2 do not declare five distinct delimiters")]
    Delimiters,
    #[error("the message is not UTF-8 and MSH-18 does not name 8859/1 ({0})")]
    Encoding(String),
    #[error("segment {number} has no valid segment id: {found:?}")]
    SegmentId { number: usize, found: String },
}

/// One segment: its id and raw fields (escaped, repetitions and components not split).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    pub id: String,
    /// `fields[n - 1]` is field n. For MSH, field 1 is the field separator and field 2 the
    /// encoding characters, as HL7 numbers them.
    fields: Vec<String>,
}

impl Segment {
    /// Field `number` (1-based) as written; "" when absent.
    pub fn raw(&self, number: usize) -> &str {
        number
            .checked_sub(1)
            .and_then(|index| self.fields.get(index))
            .map(String::as_str)
            .unwrap_or("")
    }

    /// How many fields the segment has.
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }
}

/// A parsed message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub separators: Separators,
    pub segments: Vec<Segment>,
}

fn decode(bytes: &[u8]) -> Result<String, ParseError> {
    match std::str::from_utf8(bytes) {
        Ok(text) => Ok(text.to_owned()),
        Err(error) => {
            // MSH-18 is read from the raw bytes: the header itself is ASCII.
            let header = bytes
                .split(|byte| *byte == b'\r' || *byte == b'\n')
                .next()
                .unwrap_or(&[]);
            let separator = header.get(3).copied().unwrap_or(b'|');
            let charset = header
                .split(|byte| *byte == separator)
                .nth(17)
                .unwrap_or(&[]);
            if charset.starts_with(b"8859/1") {
                Ok(bytes.iter().map(|byte| char::from(*byte)).collect())
            } else {
                Err(ParseError::Encoding(error.to_string()))
            }
        }
    }
}

impl Message {
    /// Parses a message. Segments end with CR; LF and CRLF are accepted too, and empty lines
    /// are skipped.
    pub fn parse(bytes: &[u8]) -> Result<Self, ParseError> {
        let text = decode(bytes)?;
        let text = text.trim_start_matches(['\r', '\n', ' ', '\t']);
        if !text.starts_with("MSH") {
            return Err(ParseError::NoHeader);
        }
        let mut characters = text[3..].chars();
        let field = characters.next().ok_or(ParseError::Delimiters)?;
        let encoding: Vec<char> = characters.take_while(|c| *c != field).collect();
        if encoding.len() < 4 {
            return Err(ParseError::Delimiters);
        }
        let separators = Separators {
            field,
            component: encoding[0],
            repetition: encoding[1],
            escape: encoding[2],
            subcomponent: encoding[3],
        };
        let all = [
            field,
            separators.component,
            separators.repetition,
            separators.escape,
            separators.subcomponent,
        ];
        let distinct = all
            .iter()
            .enumerate()
            .all(|(index, a)| all[index + 1..].iter().all(|b| a != b));
        if !distinct
            || all
                .iter()
                .any(|c| c.is_alphanumeric() || *c == '\r' || *c == '\n')
        {
            return Err(ParseError::Delimiters);
        }
        let mut segments = Vec::new();
        for (index, line) in text
            .split(['\r', '\n'])
            .filter(|line| !line.trim().is_empty())
            .enumerate()
        {
            let mut parts = line.split(field);
            let id = parts.next().unwrap_or("").to_owned();
            let valid_id = id.len() == 3
                && id
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
            if !valid_id {
                return Err(ParseError::SegmentId {
                    number: index + 1,
                    found: id.chars().take(16).collect(),
                });
            }
            let mut fields: Vec<String> = Vec::new();
            if index == 0 {
                if id != "MSH" {
                    return Err(ParseError::NoHeader);
                }
                fields.push(field.to_string());
            }
            fields.extend(parts.map(str::to_owned));
            segments.push(Segment { id, fields });
        }
        Ok(Self {
            separators,
            segments,
        })
    }

    /// The header segment (always the first).
    pub fn msh(&self) -> &Segment {
        &self.segments[0]
    }

    /// The first segment with this id.
    pub fn segment(&self, id: &str) -> Option<&Segment> {
        self.segments.iter().find(|segment| segment.id == id)
    }

    /// The repetitions of a field, as written (empty repetitions dropped).
    pub fn repetitions<'a>(&self, segment: &'a Segment, field: usize) -> Vec<&'a str> {
        if segment.id == "MSH" && field <= 2 {
            return vec![segment.raw(field)];
        }
        segment
            .raw(field)
            .split(self.separators.repetition)
            .filter(|repetition| !repetition.is_empty())
            .collect()
    }

    /// One field repetition as a composite (components of sub-components, unescaped).
    pub fn composite(&self, repetition: &str) -> Composite {
        Composite::from_components(
            repetition
                .split(self.separators.component)
                .map(|component| {
                    component
                        .split(self.separators.subcomponent)
                        .map(|sub| self.separators.unescape(sub))
                        .collect()
                })
                .collect(),
        )
    }

    /// One field repetition as a CX.
    pub fn cx(&self, repetition: &str) -> Cx {
        Cx(self.composite(repetition))
    }

    /// Component `component` (1-based, first sub-component) of a field's first repetition,
    /// unescaped; "" when absent.
    pub fn value(&self, segment: &Segment, field: usize, component: usize) -> String {
        if segment.id == "MSH" && field <= 2 {
            return segment.raw(field).to_owned();
        }
        let first = self
            .repetitions(segment, field)
            .first()
            .copied()
            .unwrap_or("");
        self.composite(first).component(component).to_owned()
    }
}

/// Builds messages with the standard delimiters `|^~\&`.
#[derive(Debug, Clone, Default)]
pub struct Writer {
    out: String,
}

/// One field to write: empty, a text (one escaped value), components, or repetitions of
/// composites.
#[derive(Debug, Clone)]
pub enum Field<'a> {
    Empty,
    Text(&'a str),
    Components(Vec<&'a str>),
    Composite(&'a Composite),
    Repeated(Vec<&'a Composite>),
}

impl Writer {
    pub fn new() -> Self {
        Self::default()
    }

    /// Writes the MSH segment: `fields[0]` is MSH-3.
    pub fn header(&mut self, fields: &[Field<'_>]) -> &mut Self {
        self.out.push_str("MSH|^~\\&");
        for field in fields {
            self.out.push('|');
            self.field(field);
        }
        self.out.push('\r');
        self
    }

    /// Writes a segment: `fields[0]` is field 1.
    pub fn segment(&mut self, id: &str, fields: &[Field<'_>]) -> &mut Self {
        self.out.push_str(id);
        for field in fields {
            self.out.push('|');
            self.field(field);
        }
        self.out.push('\r');
        self
    }

    fn field(&mut self, field: &Field<'_>) {
        let separators = Separators::default();
        match field {
            Field::Empty => {}
            Field::Text(text) => separators.escape(text, &mut self.out),
            Field::Components(components) => {
                let used = components
                    .iter()
                    .rposition(|component| !component.is_empty())
                    .map_or(0, |last| last + 1);
                for (index, component) in components[..used].iter().enumerate() {
                    if index > 0 {
                        self.out.push('^');
                    }
                    separators.escape(component, &mut self.out);
                }
            }
            Field::Composite(composite) => self.out.push_str(&composite.format()),
            Field::Repeated(composites) => {
                for (index, composite) in composites.iter().enumerate() {
                    if index > 0 {
                        self.out.push('~');
                    }
                    self.out.push_str(&composite.format());
                }
            }
        }
    }

    /// The message text (segments ended by CR).
    pub fn finish(self) -> String {
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A01: &str = "MSH|^~\\&|HIS|HOSP|XDS|DMP|20261122120000||ADT^A01^ADT_A01|MSG0001|P|2.5|||||FRA|UNICODE UTF-8\r\
EVN||20261122120000\r\
PID|||185057800608491^^^&1.2.250.1.213.1.4.8&ISO^INS~IPP42^^^HOSP&1.2.250.1.999.1&ISO^PI||DUPONT^Jean Pierre^Paul^^^^L||19850501|M|||^^^^^^BDL^^78006\r";

    #[test]
    fn a_feed_message_parses_into_fields_and_composites() {
        let message = Message::parse(A01.as_bytes()).expect("parses");
        assert_eq!(message.segments.len(), 3);
        let msh = message.msh();
        assert_eq!(msh.raw(1), "|");
        assert_eq!(msh.raw(2), "^~\\&");
        assert_eq!(message.value(msh, 9, 1), "ADT");
        assert_eq!(message.value(msh, 9, 2), "A01");
        assert_eq!(message.value(msh, 10, 1), "MSG0001");
        assert_eq!(message.value(msh, 12, 1), "2.5");
        let pid = message.segment("PID").expect("PID");
        let ids = message.repetitions(pid, 3);
        assert_eq!(ids.len(), 2);
        let ins = message.cx(ids[0]);
        assert_eq!(ins.id_number(), "185057800608491");
        assert_eq!(
            ins.assigning_authority().map(|hd| hd.universal_id),
            Some("1.2.250.1.213.1.4.8".to_owned())
        );
        assert_eq!(message.cx(ids[1]).identifier_type_code(), "PI");
        assert_eq!(message.value(pid, 5, 2), "Jean Pierre");
        assert_eq!(message.value(pid, 7, 1), "19850501");
        assert_eq!(
            message
                .composite(message.repetitions(pid, 11)[0])
                .component(9),
            "78006"
        );
    }

    #[test]
    fn declared_delimiters_and_escapes_are_honoured() {
        let text = "MSH#*!$%#A#B#C#D#1##ADT*A08#X1#P#2.5\nPID###ID1*$F$x**%9.9%ISO##NAME$S$1\n";
        let message = Message::parse(text.as_bytes()).expect("parses");
        assert_eq!(message.separators.component, '*');
        assert_eq!(message.value(message.msh(), 9, 2), "A08");
        let pid = message.segment("PID").expect("PID");
        let cx = message.cx(message.repetitions(pid, 3)[0]);
        assert_eq!(cx.id_number(), "ID1");
        assert_eq!(cx.composite().component(2), "#x");
        assert_eq!(message.value(pid, 5, 1), "NAME*1");
    }

    #[test]
    fn latin1_is_read_when_msh18_says_so_and_refused_otherwise() {
        let mut bytes =
            b"MSH|^~\\&|A|B|C|D|20260101||ADT^A01|1|P|2.5|||||FRA|8859/1\rPID|||X^^^&1.2.3&ISO||L"
                .to_vec();
        bytes.push(0xC9); // É
        bytes.extend_from_slice(b"ON\r");
        let message = Message::parse(&bytes).expect("latin-1");
        let pid = message.segment("PID").expect("PID");
        assert_eq!(message.value(pid, 5, 1), "LÉON");
        let mut utf8_claimed = bytes.clone();
        let at = utf8_claimed
            .windows(6)
            .position(|window| window == b"8859/1")
            .expect("MSH-18");
        utf8_claimed.splice(at..at + 6, b"UTF-8 ".iter().copied());
        assert!(matches!(
            Message::parse(&utf8_claimed),
            Err(ParseError::Encoding(_))
        ));
    }

    #[test]
    fn non_messages_are_refused() {
        for (bytes, what) in [
            (&b""[..], "empty"),
            (b"GET / HTTP/1.1\r\n\r\n", "HTTP"),
            (b"MSH", "header only"),
            (b"MSH|^~|", "two encoding characters"),
            (b"MSH|^^\\&|", "repeated delimiter"),
            (b"MSH|^~\\&|A\rpid|||x\r", "lower-case segment id"),
            (b"PID|||x\rMSH|^~\\&|\r", "PID first"),
        ] {
            assert!(Message::parse(bytes).is_err(), "{what} accepted");
        }
    }

    #[test]
    fn the_writer_escapes_and_parses_back() {
        let mut writer = Writer::new();
        let cx = Cx::parse("A^^^&1.2.3&ISO").expect("CX");
        writer
            .header(&[
                Field::Text("XDS"),
                Field::Empty,
                Field::Text("HIS"),
                Field::Empty,
                Field::Text("20261122"),
                Field::Empty,
                Field::Components(vec!["ACK", "A01", "ACK"]),
                Field::Text("1"),
                Field::Text("P"),
                Field::Text("2.5"),
            ])
            .segment("MSA", &[Field::Text("AE"), Field::Text("M|1")])
            .segment(
                "PID",
                &[
                    Field::Empty,
                    Field::Empty,
                    Field::Repeated(vec![cx.composite(), cx.composite()]),
                ],
            )
            .segment("NTE", &[Field::Text("line\rbreak & more")]);
        let text = writer.finish();
        let message = Message::parse(text.as_bytes()).expect("parses back");
        let msa = message.segment("MSA").expect("MSA");
        assert_eq!(message.value(msa, 2, 1), "M|1");
        assert_eq!(message.value(message.msh(), 9, 3), "ACK");
        let pid = message.segment("PID").expect("PID");
        assert_eq!(message.cx(message.repetitions(pid, 3)[1]), cx);
        assert_eq!(message.segments.len(), 4);
        let nte = message.segment("NTE").expect("NTE");
        assert_eq!(message.value(nte, 1, 1), "line\\X0D\\break & more");
    }
}
