//! HL7 v2 data types as XDS uses them inside slot values and ExternalIdentifiers: CX, XCN, XON,
//! XTN, CE, HD and DTM, with the HL7 escaping rules of TF-3 4.2.3.1.7.
//!
//! Every composite is kept as a lossless [`Composite`] (components of sub-components, already
//! unescaped); the typed wrappers are views with named accessors and constructors. Parsing
//! never guesses: a raw field (`|`) or repetition (`~`) separator inside one value is an error,
//! because an XDS value holds exactly one field repetition.

use std::fmt;

use super::ids::Oid;

/// Why a value is not a well-formed HL7 v2 value of the expected type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Hl7Error {
    #[error("unescaped HL7 separator {separator:?} in {value:?}")]
    Separator { separator: char, value: String },
    #[error("not an HL7 DTM (YYYY[MM[DD[hh[mm[ss]]]]], UTC, no separators): {0:?}")]
    Dtm(String),
    #[error("{field} is required in {value:?}")]
    Missing { field: &'static str, value: String },
}

/// Escapes the HL7 delimiters in one sub-component's text.
pub fn escape(text: &str, out: &mut String) {
    let delimiter = |byte: u8| matches!(byte, b'\\' | b'|' | b'^' | b'&' | b'~');
    if !text.bytes().any(delimiter) {
        out.push_str(text);
        return;
    }
    let mut clean_from = 0;
    for (index, byte) in text.bytes().enumerate() {
        if delimiter(byte) {
            out.push_str(&text[clean_from..index]);
            out.push_str(match byte {
                b'\\' => "\\E\\",
                b'|' => "\\F\\",
                b'^' => "\\S\\",
                b'&' => "\\T\\",
                _ => "\\R\\",
            });
            clean_from = index + 1;
        }
    }
    out.push_str(&text[clean_from..]);
}

/// Resolves the five delimiter escapes. Other escape sequences (`\X0D\`, `\.br\`, ...) and a
/// lone backslash are kept as literal text: XDS allows only the delimiter escapes, and keeping
/// the text loses nothing.
pub fn unescape(text: &str) -> String {
    if !text.contains('\\') {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find('\\') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let replacement = match after.as_bytes() {
            [b'E', b'\\', ..] => Some('\\'),
            [b'F', b'\\', ..] => Some('|'),
            [b'S', b'\\', ..] => Some('^'),
            [b'T', b'\\', ..] => Some('&'),
            [b'R', b'\\', ..] => Some('~'),
            _ => None,
        };
        match replacement {
            Some(character) => {
                out.push(character);
                rest = &after[2..];
            }
            None => {
                out.push('\\');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// One HL7 v2 composite value: components (`^`) of sub-components (`&`), unescaped.
/// Trailing empty components and sub-components are trimmed, so two spellings of the same
/// value (`a^b` and `a^b^^`) compare equal, as TF-3 requires of receivers.
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[derive(Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Composite {
    components: Vec<Vec<String>>,
}

impl Composite {
    pub fn parse(value: &str) -> Result<Self, Hl7Error> {
        for separator in ['|', '~'] {
            if value.contains(separator) {
                return Err(Hl7Error::Separator {
                    separator,
                    value: value.to_owned(),
                });
            }
        }
        let mut components: Vec<Vec<String>> = value
            .split('^')
            .map(|component| component.split('&').map(unescape).collect())
            .collect();
        normalize(&mut components);
        Ok(Self { components })
    }

    /// Builds a composite from components given as sub-component lists (1-based positions are
    /// the vector indexes + 1).
    pub fn from_components(mut components: Vec<Vec<String>>) -> Self {
        normalize(&mut components);
        Self { components }
    }

    /// The sub-components of component `position` (1-based); empty if absent.
    pub fn subcomponents(&self, position: usize) -> &[String] {
        position
            .checked_sub(1)
            .and_then(|index| self.components.get(index))
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// Sub-component `sub` (1-based) of component `position` (1-based); "" if absent.
    pub fn get(&self, position: usize, sub: usize) -> &str {
        sub.checked_sub(1)
            .and_then(|index| self.subcomponents(position).get(index))
            .map(String::as_str)
            .unwrap_or("")
    }

    /// The first sub-component of component `position`.
    pub fn component(&self, position: usize) -> &str {
        self.get(position, 1)
    }

    /// Number of components after trimming.
    pub fn len(&self) -> usize {
        self.components.len()
    }

    pub fn is_empty(&self) -> bool {
        self.components.is_empty()
    }

    /// Whether component `position` is absent or empty.
    pub fn is_component_empty(&self, position: usize) -> bool {
        self.subcomponents(position).iter().all(String::is_empty)
    }

    /// Positions (1-based) of the non-empty components.
    pub fn present_components(&self) -> impl Iterator<Item = usize> + '_ {
        self.components
            .iter()
            .enumerate()
            .filter(|(_, subs)| subs.iter().any(|sub| !sub.is_empty()))
            .map(|(index, _)| index + 1)
    }

    pub fn set(&mut self, position: usize, subcomponents: Vec<String>) {
        let Some(index) = position.checked_sub(1) else {
            return;
        };
        if self.components.len() <= index {
            self.components.resize_with(index + 1, Vec::new);
        }
        self.components[index] = subcomponents;
        normalize(&mut self.components);
    }

    /// The escaped wire form.
    pub fn format(&self) -> String {
        let mut out = String::new();
        for (index, component) in self.components.iter().enumerate() {
            if index > 0 {
                out.push('^');
            }
            for (sub_index, sub) in component.iter().enumerate() {
                if sub_index > 0 {
                    out.push('&');
                }
                escape(sub, &mut out);
            }
        }
        out
    }
}

fn normalize(components: &mut Vec<Vec<String>>) {
    for component in components.iter_mut() {
        while component.last().is_some_and(String::is_empty) {
            component.pop();
        }
    }
    while components.last().is_some_and(Vec::is_empty) {
        components.pop();
    }
}

impl fmt::Display for Composite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.format())
    }
}

impl fmt::Debug for Composite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.format())
    }
}

/// HD: hierarchic designator (`namespace&universalId&universalIdType`).
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Hd {
    pub namespace_id: String,
    pub universal_id: String,
    pub universal_id_type: String,
}

impl Hd {
    /// `&<oid>&ISO`, the only assigning-authority form XDS accepts for patient ids.
    pub fn iso(oid: &Oid) -> Self {
        Self {
            namespace_id: String::new(),
            universal_id: oid.as_str().to_owned(),
            universal_id_type: "ISO".to_owned(),
        }
    }

    fn from_subcomponents(subs: &[String]) -> Option<Self> {
        if subs.iter().all(String::is_empty) {
            return None;
        }
        let at = |index: usize| subs.get(index).cloned().unwrap_or_default();
        Some(Self {
            namespace_id: at(0),
            universal_id: at(1),
            universal_id_type: at(2),
        })
    }

    fn to_subcomponents(&self) -> Vec<String> {
        vec![
            self.namespace_id.clone(),
            self.universal_id.clone(),
            self.universal_id_type.clone(),
        ]
    }

    /// The universal id when it is an OID and the type is `ISO`.
    pub fn iso_oid(&self) -> Option<Oid> {
        (self.universal_id_type == "ISO")
            .then(|| Oid::parse(&self.universal_id).ok())
            .flatten()
    }
}

macro_rules! composite_wrapper {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
        #[derive(Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub Composite);

        impl $name {
            pub fn parse(value: &str) -> Result<Self, Hl7Error> {
                Composite::parse(value).map(Self)
            }

            pub fn composite(&self) -> &Composite {
                &self.0
            }

            pub fn format(&self) -> String {
                self.0.format()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0.format())
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($name), self.0.format())
            }
        }
    };
}

composite_wrapper!(
    /// CX: extended composite id (patientId, sourcePatientId, referenceIdList's CXi).
    Cx
);

impl Cx {
    /// `id^^^&oid&ISO`.
    pub fn new(id_number: &str, assigning_authority: &Hd) -> Self {
        Self(Composite::from_components(vec![
            vec![id_number.to_owned()],
            vec![],
            vec![],
            assigning_authority.to_subcomponents(),
        ]))
    }

    /// `id^^^&oid&ISO^type` (CXi with an identifier type code, or the DMP's `^NH`).
    pub fn with_type_code(mut self, type_code: &str) -> Self {
        self.0.set(5, vec![type_code.to_owned()]);
        self
    }

    pub fn id_number(&self) -> &str {
        self.0.component(1)
    }

    pub fn assigning_authority(&self) -> Option<Hd> {
        Hd::from_subcomponents(self.0.subcomponents(4))
    }

    pub fn identifier_type_code(&self) -> &str {
        self.0.component(5)
    }

    /// Checks the XDS patient id form (TF-3 4.2.3.1.7, CX row): CX.1 present, CX.2 and CX.3
    /// empty, CX.4 = `&<OID>&ISO`. An identifier type code in CX.5 is tolerated because
    /// affinity domains such as the DMP put `NH` there; anything beyond CX.5 is refused.
    pub fn check_patient_id_form(&self) -> Result<(), String> {
        if self.id_number().is_empty() {
            return Err("CX.1 (id number) is empty".to_owned());
        }
        if !self.0.is_component_empty(2) || !self.0.is_component_empty(3) {
            return Err("CX.2 and CX.3 must be empty".to_owned());
        }
        let Some(authority) = self.assigning_authority() else {
            return Err("CX.4 (assigning authority) is missing".to_owned());
        };
        if !authority.namespace_id.is_empty() {
            return Err("CX.4.1 (namespace id) must be empty".to_owned());
        }
        if authority.universal_id_type != "ISO" {
            return Err("CX.4.3 (universal id type) must be ISO".to_owned());
        }
        if !Oid::is_valid(&authority.universal_id) {
            return Err(format!("CX.4.2 {:?} is not an OID", authority.universal_id));
        }
        if self.0.present_components().any(|position| position > 5) {
            return Err("components after CX.5 are not allowed".to_owned());
        }
        Ok(())
    }
}

composite_wrapper!(
    /// XCN: extended composite id and name for persons (authorPerson, legalAuthenticator).
    Xcn
);

impl Xcn {
    pub fn id(&self) -> &str {
        self.0.component(1)
    }
    pub fn family_name(&self) -> &str {
        self.0.component(2)
    }
    pub fn given_name(&self) -> &str {
        self.0.component(3)
    }
    /// XCN.4: second and further given names or initials.
    pub fn other_given_names(&self) -> &str {
        self.0.component(4)
    }
    pub fn suffix(&self) -> &str {
        self.0.component(5)
    }
    pub fn prefix(&self) -> &str {
        self.0.component(6)
    }
    pub fn degree(&self) -> &str {
        self.0.component(7)
    }
    pub fn assigning_authority(&self) -> Option<Hd> {
        Hd::from_subcomponents(self.0.subcomponents(9))
    }
    /// XCN.10 (`D` natural person, `U` system in the DMP).
    pub fn name_type_code(&self) -> &str {
        self.0.component(10)
    }
    /// XCN.13 (`IDNPS`, `EI`, `RI`, `NH` in the DMP).
    pub fn identifier_type_code(&self) -> &str {
        self.0.component(13)
    }

    /// TF-3: "last name or id required".
    pub fn check_form(&self) -> Result<(), String> {
        if self.id().is_empty() && self.family_name().is_empty() {
            return Err("XCN.1 (id) or XCN.2 (family name) is required".to_owned());
        }
        Ok(())
    }
}

composite_wrapper!(
    /// XON: extended composite name and id for organizations (authorInstitution).
    Xon
);

impl Xon {
    pub fn organization_name(&self) -> &str {
        self.0.component(1)
    }
    pub fn assigning_authority(&self) -> Option<Hd> {
        Hd::from_subcomponents(self.0.subcomponents(6))
    }
    pub fn identifier_type_code(&self) -> &str {
        self.0.component(7)
    }
    pub fn organization_identifier(&self) -> &str {
        self.0.component(10)
    }

    /// TF-3: XON.1 required; XON.6 must be `&OID&ISO` when XON.10 is present and not an OID.
    pub fn check_form(&self) -> Result<(), String> {
        if self.organization_name().is_empty() {
            return Err("XON.1 (organization name) is required".to_owned());
        }
        let identifier = self.organization_identifier();
        if !identifier.is_empty()
            && !Oid::is_valid(identifier)
            && self
                .assigning_authority()
                .and_then(|authority| authority.iso_oid())
                .is_none()
        {
            return Err(
                "XON.6 must be &OID&ISO when XON.10 is present and not itself an OID".to_owned(),
            );
        }
        Ok(())
    }
}

composite_wrapper!(
    /// XTN: extended telecommunication number (authorTelecommunication, intendedRecipient).
    Xtn
);

impl Xtn {
    pub fn use_code(&self) -> &str {
        self.0.component(2)
    }
    pub fn equipment_type(&self) -> &str {
        self.0.component(3)
    }
    pub fn communication_address(&self) -> &str {
        self.0.component(4)
    }
    pub fn country_code(&self) -> &str {
        self.0.component(5)
    }
    pub fn area_code(&self) -> &str {
        self.0.component(6)
    }
    pub fn local_number(&self) -> &str {
        self.0.component(7)
    }
    pub fn extension(&self) -> &str {
        self.0.component(8)
    }

    /// TF-3: an e-mail address (XTN.3 `Internet`, XTN.4) or a number (XTN.7).
    pub fn check_form(&self) -> Result<(), String> {
        let has_email =
            self.equipment_type() == "Internet" && !self.communication_address().is_empty();
        let has_number = !self.local_number().is_empty() || !self.0.component(1).is_empty();
        if !has_email && !has_number {
            return Err("XTN needs XTN.3=Internet with XTN.4, or a number in XTN.7".to_owned());
        }
        Ok(())
    }
}

composite_wrapper!(
    /// CE: coded element (`code^text^codingSystem`), used by stored-query code parameters
    /// (`code^^scheme`) and by the DMP's authorSpecialty.
    Ce
);

impl Ce {
    pub fn new(identifier: &str, text: &str, coding_system: &str) -> Self {
        Self(Composite::from_components(vec![
            vec![identifier.to_owned()],
            vec![text.to_owned()],
            vec![coding_system.to_owned()],
        ]))
    }
    pub fn identifier(&self) -> &str {
        self.0.component(1)
    }
    pub fn text(&self) -> &str {
        self.0.component(2)
    }
    pub fn coding_system(&self) -> &str {
        self.0.component(3)
    }
}

/// Precision of a DTM value.
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DtmPrecision {
    Year,
    Month,
    Day,
    Hour,
    Minute,
    Second,
}

/// HL7 DTM as XDS restricts it: `YYYY[MM[DD[hh[mm[ss]]]]]` in UTC, no separators, no zone.
/// Values of the same precision order chronologically as strings, which is how stored-query
/// time ranges compare (xds-spec-brief.md §4.1).
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Dtm(String);

impl Dtm {
    pub fn parse(value: &str) -> Result<Self, Hl7Error> {
        let bytes = value.as_bytes();
        let bad = || Hl7Error::Dtm(value.to_owned());
        if !matches!(bytes.len(), 4 | 6 | 8 | 10 | 12 | 14) || !bytes.iter().all(u8::is_ascii_digit)
        {
            return Err(bad());
        }
        let field = |start: usize| -> Option<u32> {
            let pair = value.get(start..start + 2)?;
            pair.parse().ok()
        };
        let in_range = |start: usize, low: u32, high: u32| match field(start) {
            Some(number) => (low..=high).contains(&number),
            None => true,
        };
        let month_ok = in_range(4, 1, 12);
        let day_ok = match (field(4), field(6)) {
            (Some(month), Some(day)) => {
                let year: u32 = value[..4].parse().map_err(|_| bad())?;
                (1..=days_in_month(year, month)).contains(&day)
            }
            _ => true,
        };
        if month_ok && day_ok && in_range(8, 0, 23) && in_range(10, 0, 59) && in_range(12, 0, 59) {
            Ok(Self(value.to_owned()))
        } else {
            Err(bad())
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The current time (UTC) to the second: the time the daemons stamp on what they write.
    pub fn now() -> Self {
        let seconds = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_secs());
        Self::from_unix_seconds(seconds)
    }

    /// The second-precision DTM of a Unix time (UTC), for times the registry sets itself
    /// (lastUpdateTime). Days are converted with the proleptic Gregorian calendar.
    pub fn from_unix_seconds(seconds: u64) -> Self {
        let days = (seconds / 86_400) as i64;
        let second_of_day = seconds % 86_400;
        // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let day_of_era = z.rem_euclid(146_097);
        let year_of_era =
            (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
        let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
        let month_index = (5 * day_of_year + 2) / 153;
        let day = day_of_year - (153 * month_index + 2) / 5 + 1;
        let month = if month_index < 10 {
            month_index + 3
        } else {
            month_index - 9
        };
        let year = year_of_era + era * 400 + i64::from(month <= 2);
        Self(format!(
            "{year:04}{month:02}{day:02}{:02}{:02}{:02}",
            second_of_day / 3600,
            second_of_day % 3600 / 60,
            second_of_day % 60
        ))
    }

    /// The Unix time (UTC) of the start of this DTM's period; None before 1970 or when a
    /// field is out of range.
    pub fn to_unix_seconds(&self) -> Option<i64> {
        let field = |range: std::ops::Range<usize>, default: i64| -> Option<i64> {
            match self.0.get(range) {
                Some(digits) => digits.parse().ok(),
                None => Some(default),
            }
        };
        let (year, month, day) = (field(0..4, 1970)?, field(4..6, 1)?, field(6..8, 1)?);
        let (hour, minute, second) = (field(8..10, 0)?, field(10..12, 0)?, field(12..14, 0)?);
        if !(1..=12).contains(&month)
            || !(1..=31).contains(&day)
            || hour > 23
            || minute > 59
            || second > 60
        {
            return None;
        }
        // Days since 1970-01-01 from a civil date (H. Hinnant's algorithm, the inverse above).
        let year = if month <= 2 { year - 1 } else { year };
        let era = year.div_euclid(400);
        let year_of_era = year.rem_euclid(400);
        let month_index = if month > 2 { month - 3 } else { month + 9 };
        let day_of_year = (153 * month_index + 2) / 5 + day - 1;
        let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
        let days = era * 146_097 + day_of_era - 719_468;
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second;
        (seconds >= 0).then_some(seconds)
    }

    pub fn precision(&self) -> DtmPrecision {
        match self.0.len() {
            4 => DtmPrecision::Year,
            6 => DtmPrecision::Month,
            8 => DtmPrecision::Day,
            10 => DtmPrecision::Hour,
            12 => DtmPrecision::Minute,
            _ => DtmPrecision::Second,
        }
    }
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

impl fmt::Display for Dtm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Dtm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Dtm({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_round_trips_every_delimiter() {
        let text = r"a|b^c&d~e\f";
        let mut escaped = String::new();
        escape(text, &mut escaped);
        assert_eq!(escaped, r"a\F\b\S\c\T\d\R\e\E\f");
        assert_eq!(unescape(&escaped), text);
    }

    #[test]
    fn unknown_escapes_and_lone_backslashes_are_kept() {
        assert_eq!(unescape(r"line\.br\next"), r"line\.br\next");
        assert_eq!(unescape(r"end\"), r"end\");
        assert_eq!(unescape(r"\X0D\"), r"\X0D\");
    }

    #[test]
    fn cx_patient_id_parses_and_formats() {
        let cx = Cx::parse("543797436^^^&1.2.840.113619.6.197&ISO").unwrap();
        assert_eq!(cx.id_number(), "543797436");
        let authority = cx.assigning_authority().unwrap();
        assert_eq!(authority.universal_id, "1.2.840.113619.6.197");
        assert_eq!(authority.universal_id_type, "ISO");
        assert_eq!(cx.format(), "543797436^^^&1.2.840.113619.6.197&ISO");
        assert!(cx.check_patient_id_form().is_ok());
        let built = Cx::new(
            "543797436",
            &Hd::iso(&Oid::parse("1.2.840.113619.6.197").unwrap()),
        );
        assert_eq!(built, cx);
    }

    #[test]
    fn cx_with_dmp_type_code_is_accepted_but_extra_components_are_not() {
        let ins = Cx::parse("248098765432140^^^&1.2.250.1.213.1.4.10&ISO^NH").unwrap();
        assert_eq!(ins.identifier_type_code(), "NH");
        assert!(ins.check_patient_id_form().is_ok());
        assert!(
            Cx::parse("1^^^&1.2.3&ISO^NH^fac")
                .unwrap()
                .check_patient_id_form()
                .is_err()
        );
        assert!(
            Cx::parse("1^x^^&1.2.3&ISO")
                .unwrap()
                .check_patient_id_form()
                .is_err()
        );
        assert!(
            Cx::parse("1^^^NS&1.2.3&ISO")
                .unwrap()
                .check_patient_id_form()
                .is_err()
        );
        assert!(
            Cx::parse("1^^^&1.2.3&DNS")
                .unwrap()
                .check_patient_id_form()
                .is_err()
        );
        assert!(
            Cx::parse("1^^^&abc&ISO")
                .unwrap()
                .check_patient_id_form()
                .is_err()
        );
        assert!(
            Cx::parse("^^^&1.2.3&ISO")
                .unwrap()
                .check_patient_id_form()
                .is_err()
        );
        assert!(Cx::parse("1").unwrap().check_patient_id_form().is_err());
    }

    #[test]
    fn trailing_separators_do_not_change_the_value() {
        assert_eq!(
            Xcn::parse("^Welby^Marcus^^^").unwrap(),
            Xcn::parse("^Welby^Marcus").unwrap()
        );
        assert_eq!(
            Cx::parse("1^^^&1.2&ISO&").unwrap(),
            Cx::parse("1^^^&1.2&ISO").unwrap()
        );
    }

    #[test]
    fn separators_that_would_split_a_value_are_refused() {
        assert!(matches!(
            Cx::parse("1|2"),
            Err(Hl7Error::Separator { separator: '|', .. })
        ));
        assert!(matches!(
            Xcn::parse("a~b"),
            Err(Hl7Error::Separator { separator: '~', .. })
        ));
    }

    #[test]
    fn xcn_dmp_forms_expose_every_component() {
        let xcn = Xcn::parse("801234567890^DURANT^Romuald^^^^^^&1.2.250.1.71.4.2.1&ISO^D^^^IDNPS")
            .unwrap();
        assert_eq!(xcn.id(), "801234567890");
        assert_eq!(xcn.family_name(), "DURANT");
        assert_eq!(xcn.given_name(), "Romuald");
        assert_eq!(
            xcn.assigning_authority().unwrap().universal_id,
            "1.2.250.1.71.4.2.1"
        );
        assert_eq!(xcn.name_type_code(), "D");
        assert_eq!(xcn.identifier_type_code(), "IDNPS");
        assert!(xcn.check_form().is_ok());
        assert!(Xcn::parse("^^Marcus").unwrap().check_form().is_err());
        let escaped = Xcn::parse(r"11375^O\S\Neil^Marcus").unwrap();
        assert_eq!(escaped.family_name(), "O^Neil");
        assert_eq!(escaped.format(), r"11375^O\S\Neil^Marcus");
    }

    #[test]
    fn xon_rules() {
        let xon =
            Xon::parse("Groupe Pitié Salpêtrière^^^^^&1.2.250.1.71.4.2.2&ISO^IDNST^^^1750100125")
                .unwrap();
        assert_eq!(xon.organization_name(), "Groupe Pitié Salpêtrière");
        assert_eq!(xon.identifier_type_code(), "IDNST");
        assert_eq!(xon.organization_identifier(), "1750100125");
        assert!(xon.check_form().is_ok());
        assert!(
            Xon::parse("Some Hospital^^^^^^^^^2.999.1.2.3.4")
                .unwrap()
                .check_form()
                .is_ok()
        );
        assert!(
            Xon::parse("Some Hospital^^^^^^^^^local-7")
                .unwrap()
                .check_form()
                .is_err()
        );
        assert!(Xon::parse("^^^^^^^^^1.2.3").unwrap().check_form().is_err());
    }

    #[test]
    fn xtn_rules() {
        let email = Xtn::parse("^^Internet^doc@example.org").unwrap();
        assert_eq!(email.communication_address(), "doc@example.org");
        assert!(email.check_form().is_ok());
        assert!(
            Xtn::parse("^PRN^PH^^1^555^1234567")
                .unwrap()
                .check_form()
                .is_ok()
        );
        assert!(Xtn::parse("^^Internet").unwrap().check_form().is_err());
    }

    #[test]
    fn ce_components() {
        let ce = Ce::parse("11488-4^^2.16.840.1.113883.6.1").unwrap();
        assert_eq!(ce.identifier(), "11488-4");
        assert_eq!(ce.text(), "");
        assert_eq!(ce.coding_system(), "2.16.840.1.113883.6.1");
        assert_eq!(Ce::new("11488-4", "", "2.16.840.1.113883.6.1"), ce);
    }

    #[test]
    fn dtm_from_unix_seconds() {
        assert_eq!(Dtm::from_unix_seconds(0).as_str(), "19700101000000");
        assert_eq!(
            Dtm::from_unix_seconds(951_782_400).as_str(),
            "20000229000000"
        );
        assert_eq!(
            Dtm::from_unix_seconds(1_710_495_000).as_str(),
            "20240315093000"
        );
        assert_eq!(
            Dtm::from_unix_seconds(4_102_444_799).as_str(),
            "20991231235959"
        );
        assert!(Dtm::parse(Dtm::from_unix_seconds(1_234_567_890).as_str()).is_ok());
    }

    #[test]
    fn dtm_accepts_each_precision_and_checks_ranges() {
        for (value, precision) in [
            ("2024", DtmPrecision::Year),
            ("202403", DtmPrecision::Month),
            ("20240229", DtmPrecision::Day),
            ("2024031509", DtmPrecision::Hour),
            ("202403150930", DtmPrecision::Minute),
            ("20240315093059", DtmPrecision::Second),
        ] {
            assert_eq!(Dtm::parse(value).unwrap().precision(), precision, "{value}");
        }
        for bad in [
            "",
            "24",
            "20241",
            "20231301",
            "20230229",
            "20240431",
            "2024031524",
            "202403152360",
            "20240315093060",
            "2024-03-15",
            "20240315093000.123",
            "20240315093000+0100",
            "202403150930001",
        ] {
            assert!(Dtm::parse(bad).is_err(), "{bad}");
        }
    }
}
