//! The French national health identifier (INS, dmp-profile.md §1): the matricule (a NIR or a
//! NIA), the OID of the authority that assigned it, and what a deployment accepts.
//!
//! A matricule has 15 characters: 13 identifying characters and a 2-digit key,
//! `97 - (N mod 97)` where `N` is the 13 characters read as a number after the Corsican
//! departments `2A` and `2B` (positions 6-7) are replaced by `19` and `18`. Only the shape and
//! the key are checked: real NIRs exist with sex and month values outside the public
//! validator's ranges (dmp-profile.md §1.2, caveats).

use std::fmt;

use super::hl7::Cx;

/// Which INS an assigning-authority OID stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum InsKind {
    /// INS-NIR, production: `1.2.250.1.213.1.4.8`.
    Nir,
    /// INS-NIA (temporary number), production: `1.2.250.1.213.1.4.9`.
    Nia,
    /// INS-NIR of fictitious test patients: `1.2.250.1.213.1.4.10`.
    Test,
    /// INS-NIR of fictitious demonstration patients: `1.2.250.1.213.1.4.11`.
    Demo,
    /// The withdrawn "computed INS" (INS-C), `1.2.250.1.213.1.4.2` (UNCONFIRMED OID): never
    /// accepted.
    Computed,
}

impl InsKind {
    /// Every kind, in OID order.
    pub const ALL: [InsKind; 5] = [Self::Computed, Self::Nir, Self::Nia, Self::Test, Self::Demo];

    /// The assigning-authority OID.
    pub const fn oid(self) -> &'static str {
        match self {
            Self::Nir => "1.2.250.1.213.1.4.8",
            Self::Nia => "1.2.250.1.213.1.4.9",
            Self::Test => "1.2.250.1.213.1.4.10",
            Self::Demo => "1.2.250.1.213.1.4.11",
            Self::Computed => "1.2.250.1.213.1.4.2",
        }
    }

    /// The kind of an assigning-authority OID, if it is one of the INS OIDs.
    pub fn from_oid(oid: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.oid() == oid)
    }

    /// The name configuration files use: `nir`, `nia`, `test`, `demo`, `ins-c`.
    pub const fn config_name(self) -> &'static str {
        match self {
            Self::Nir => "nir",
            Self::Nia => "nia",
            Self::Test => "test",
            Self::Demo => "demo",
            Self::Computed => "ins-c",
        }
    }

    /// The kind a configuration name stands for.
    pub fn from_config_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|kind| kind.config_name() == name)
    }

    /// The name people read: `INS-NIR`, `INS-NIA`, `test INS-NIR`, `demo INS-NIR`, `INS-C`.
    pub const fn label(self) -> &'static str {
        match self {
            Self::Nir => "INS-NIR",
            Self::Nia => "INS-NIA",
            Self::Test => "test INS-NIR",
            Self::Demo => "demo INS-NIR",
            Self::Computed => "INS-C",
        }
    }

    /// Whether the matricule carries a key that is always valid (test and demo matricules are
    /// fictitious: whether their keys always are is UNCONFIRMED, so a flag decides).
    const fn is_fictitious(self) -> bool {
        matches!(self, Self::Test | Self::Demo)
    }
}

impl fmt::Display for InsKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// Why a value is not an acceptable INS. Every message names the value at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InsError {
    #[error(
        "INS matricule {value:?} has {length} characters; 15 are required (13 and a 2-digit key)"
    )]
    Length { value: String, length: usize },
    #[error(
        "INS matricule {value:?}: character {position} {found:?} is not allowed (digits only, except 2A or 2B at positions 6-7)"
    )]
    Character {
        value: String,
        position: usize,
        found: char,
    },
    #[error(
        "INS matricule {value:?} has key {found}; its first 13 characters give key {expected:02}"
    )]
    Key {
        value: String,
        found: String,
        expected: u8,
    },
    #[error("{kind} ({oid}) is not accepted by this deployment: {value:?}")]
    NotAccepted {
        value: String,
        kind: InsKind,
        oid: &'static str,
    },
    #[error("INS-C ({oid}) is withdrawn and never accepted: {value:?}")]
    Withdrawn { value: String, oid: &'static str },
}

/// The key of the 13 identifying characters of a NIR, after the Corsican substitution.
/// `None` when they are not 13 characters of the NIR alphabet.
pub fn nir_key(first13: &str) -> Option<u8> {
    let bytes: [u8; 13] = first13.as_bytes().try_into().ok()?;
    let mut digits = bytes;
    // 2A -> 19, 2B -> 18: only the department field (positions 6-7) changes.
    match (bytes[5], bytes[6]) {
        (b'2', b'A') => [digits[5], digits[6]] = [b'1', b'9'],
        (b'2', b'B') => [digits[5], digits[6]] = [b'1', b'8'],
        _ => {}
    }
    let mut number: u64 = 0;
    for digit in digits {
        if !digit.is_ascii_digit() {
            return None;
        }
        number = number * 10 + u64::from(digit - b'0');
    }
    Some((97 - number % 97) as u8)
}

/// Checks a matricule's shape (15 characters, digits except `2A`/`2B` at positions 6-7) and,
/// with `check_key`, its key.
pub fn check_matricule(value: &str, check_key: bool) -> Result<(), InsError> {
    let length = value.chars().count();
    if length != 15 {
        return Err(InsError::Length {
            value: value.to_owned(),
            length,
        });
    }
    let bytes = value.as_bytes();
    for (index, found) in value.chars().enumerate() {
        let allowed = found.is_ascii_digit()
            || (index == 6 && matches!(found, 'A' | 'B') && bytes[5] == b'2');
        if !allowed {
            return Err(InsError::Character {
                value: value.to_owned(),
                position: index + 1,
                found,
            });
        }
    }
    if check_key {
        let expected = nir_key(&value[..13]).unwrap_or(0);
        let found = &value[13..];
        if found.parse::<u8>().ok() != Some(expected) {
            return Err(InsError::Key {
                value: value.to_owned(),
                found: found.to_owned(),
                expected,
            });
        }
    }
    Ok(())
}

/// A checked INS: its kind and matricule.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Ins {
    pub kind: InsKind,
    pub matricule: String,
}

impl Ins {
    /// The XDS patientId of this INS: `<matricule>^^^&<OID>&ISO^NH` (dmp-profile.md §1.4).
    pub fn to_cx(&self) -> Cx {
        let mut cx = Cx::default();
        cx.0.set(1, vec![self.matricule.clone()]);
        cx.0.set(
            4,
            vec![String::new(), self.kind.oid().to_owned(), "ISO".to_owned()],
        );
        cx.0.set(5, vec!["NH".to_owned()]);
        cx
    }

    /// A test INS-NIR with a valid key for a number (tests, benchmarks, examples): 13 digits
    /// derived from `n`, then the key.
    pub fn test_nir(n: u64) -> Self {
        let sex = 1 + n % 2;
        let year = n % 100;
        let month = 1 + (n / 100) % 12;
        let department = 1 + (n / 1_200) % 95;
        let commune = 1 + (n / 114_000) % 999;
        let order = 1 + n % 997;
        let body = format!("{sex}{year:02}{month:02}{department:02}{commune:03}{order:03}");
        let key = nir_key(&body).unwrap_or(0);
        Self {
            kind: InsKind::Test,
            matricule: format!("{body}{key:02}"),
        }
    }
}

/// What a deployment accepts as INS (dmp-profile.md §1.1-§1.2). The default is a production
/// deployment: INS-NIR and INS-NIA only, keys checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InsPolicy {
    /// The kinds accepted (INS-C never is, whatever this says).
    pub accepted: Vec<InsKind>,
    /// Check the key of test and demo matricules too.
    pub check_fictitious_keys: bool,
}

impl Default for InsPolicy {
    fn default() -> Self {
        Self::production()
    }
}

impl InsPolicy {
    /// INS-NIR and INS-NIA.
    pub fn production() -> Self {
        Self {
            accepted: vec![InsKind::Nir, InsKind::Nia],
            check_fictitious_keys: true,
        }
    }

    /// Production kinds plus test and demo INS (integration and conformance platforms).
    pub fn with_test_patients() -> Self {
        Self {
            accepted: vec![InsKind::Nir, InsKind::Nia, InsKind::Test, InsKind::Demo],
            check_fictitious_keys: true,
        }
    }

    /// Checks a patient identifier. `Ok(None)` when its assigning authority is not an INS OID
    /// (other identification domains are not this policy's business); `Ok(Some(ins))` for an
    /// accepted, well-formed INS; an error naming the value otherwise.
    pub fn check(&self, id: &Cx) -> Result<Option<Ins>, InsError> {
        let Some(authority) = id.assigning_authority() else {
            return Ok(None);
        };
        let Some(kind) = InsKind::from_oid(&authority.universal_id) else {
            return Ok(None);
        };
        // The whole identifier, as the caller sent it, names the value in errors only.
        let value = || id.format();
        if kind == InsKind::Computed {
            return Err(InsError::Withdrawn {
                value: value(),
                oid: kind.oid(),
            });
        }
        if !self.accepted.contains(&kind) {
            return Err(InsError::NotAccepted {
                value: value(),
                kind,
                oid: kind.oid(),
            });
        }
        // NIA: the same shape as a NIR; its key algorithm is UNCONFIRMED, so only the shape.
        let check_key = match kind {
            InsKind::Nia => false,
            kind if kind.is_fictitious() => self.check_fictitious_keys,
            _ => true,
        };
        check_matricule(id.id_number(), check_key).map_err(|error| match error {
            // Name the whole identifier, as the caller sent it.
            InsError::Key {
                found, expected, ..
            } => InsError::Key {
                value: value(),
                found,
                expected,
            },
            other => other,
        })?;
        Ok(Some(Ins {
            kind,
            matricule: id.id_number().to_owned(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cx(text: &str) -> Cx {
        Cx::parse(text).expect("CX")
    }

    #[test]
    fn keys_of_the_worked_examples() {
        assert_eq!(nir_key("1850578006084"), Some(91));
        assert_eq!(nir_key("292042A004012"), Some(49));
        assert_eq!(nir_key("292042B004012"), Some(76));
        assert_eq!(nir_key("2480987654321"), Some(40));
        assert!(check_matricule("185057800608491", true).is_ok());
        assert!(check_matricule("292042A00401249", true).is_ok());
        assert!(check_matricule("292042B00401276", true).is_ok());
    }

    #[test]
    fn corsican_departments_use_their_own_substitution() {
        // 2A and 2B differ from each other and from the digits 19/18 in the same place only
        // through the substitution: 2A behaves as 19, 2B as 18.
        assert_eq!(nir_key("292042A004012"), nir_key("2920419004012"));
        assert_eq!(nir_key("292042B004012"), nir_key("2920418004012"));
        let wrong = check_matricule("292042A00401276", true).expect_err("2B's key on 2A");
        assert!(
            matches!(wrong, InsError::Key { expected: 49, .. }),
            "{wrong}"
        );
        // A or B only after a 2, only at position 7.
        assert!(matches!(
            check_matricule("292043A00401249", true),
            Err(InsError::Character { position: 7, .. })
        ));
        assert!(matches!(
            check_matricule("2920A2100401249", true),
            Err(InsError::Character { position: 5, .. })
        ));
    }

    #[test]
    fn wrong_keys_are_named_with_the_expected_one() {
        let error = check_matricule("185057800608492", true).expect_err("bad key");
        let message = error.to_string();
        assert!(message.contains("185057800608492"), "{message}");
        assert!(message.contains("91"), "{message}");
        // 00 is never a key.
        assert!(check_matricule("185057800608400", true).is_err());
        // Without key checking only the shape counts.
        assert!(check_matricule("185057800608492", false).is_ok());
    }

    #[test]
    fn malformed_matricules_are_refused() {
        for (value, what) in [
            ("", "empty"),
            ("18505780060849", "14 characters"),
            ("1850578006084911", "16 characters"),
            ("18505780060849A", "letter in the key"),
            ("1850 7800608491", "space"),
            ("1850578006084é1", "non-ASCII"),
            ("x85057800608491", "letter first"),
        ] {
            assert!(check_matricule(value, true).is_err(), "{what} accepted");
        }
    }

    #[test]
    fn each_oid_is_recognised_and_the_policy_decides() {
        let production = InsPolicy::production();
        let nir = production
            .check(&cx("185057800608491^^^&1.2.250.1.213.1.4.8&ISO^NH"))
            .expect("valid NIR")
            .expect("an INS");
        assert_eq!(nir.kind, InsKind::Nir);
        assert_eq!(nir.matricule, "185057800608491");
        // NIA: shape only (its key algorithm is unpublished).
        let nia = production
            .check(&cx("185057800608400^^^&1.2.250.1.213.1.4.9&ISO^NH"))
            .expect("NIA shape")
            .expect("an INS");
        assert_eq!(nia.kind, InsKind::Nia);
        assert!(
            production
                .check(&cx("18505780060840^^^&1.2.250.1.213.1.4.9&ISO"))
                .is_err()
        );
        // A production deployment refuses test and demo INS, and names the value.
        for oid in ["1.2.250.1.213.1.4.10", "1.2.250.1.213.1.4.11"] {
            let id = format!("185057800608491^^^&{oid}&ISO^NH");
            let error = production.check(&cx(&id)).expect_err("refused");
            assert!(matches!(error, InsError::NotAccepted { .. }));
            assert!(error.to_string().contains(&id), "{error}");
            assert!(error.to_string().contains(oid), "{error}");
        }
        let platform = InsPolicy::with_test_patients();
        for (oid, kind) in [
            ("1.2.250.1.213.1.4.10", InsKind::Test),
            ("1.2.250.1.213.1.4.11", InsKind::Demo),
        ] {
            let id = cx(&format!("185057800608491^^^&{oid}&ISO"));
            assert_eq!(
                platform.check(&id).expect("accepted").map(|ins| ins.kind),
                Some(kind)
            );
            let bad = cx(&format!("185057800608490^^^&{oid}&ISO"));
            assert!(platform.check(&bad).is_err(), "bad key accepted for {kind}");
            let lenient = InsPolicy {
                check_fictitious_keys: false,
                ..InsPolicy::with_test_patients()
            };
            assert!(lenient.check(&bad).is_ok(), "key checked despite the flag");
        }
        // INS-C is never accepted, even when listed.
        let everything = InsPolicy {
            accepted: InsKind::ALL.to_vec(),
            check_fictitious_keys: true,
        };
        assert!(matches!(
            everything.check(&cx("185057800608491^^^&1.2.250.1.213.1.4.2&ISO")),
            Err(InsError::Withdrawn { .. })
        ));
        // Other identification domains are not INS.
        assert_eq!(production.check(&cx("SR7^^^&1.2.260&ISO")), Ok(None));
        assert_eq!(production.check(&cx("SR7")), Ok(None));
    }

    #[test]
    fn names_round_trip_and_test_numbers_are_valid() {
        for kind in InsKind::ALL {
            assert_eq!(InsKind::from_oid(kind.oid()), Some(kind));
            assert_eq!(InsKind::from_config_name(kind.config_name()), Some(kind));
        }
        let policy = InsPolicy::with_test_patients();
        let mut seen = std::collections::HashSet::new();
        for n in 0..5_000 {
            let ins = Ins::test_nir(n);
            let id = ins.to_cx();
            assert_eq!(policy.check(&id).expect("valid"), Some(ins.clone()));
            assert!(seen.insert(ins.matricule), "test_nir({n}) repeats");
        }
        assert_eq!(
            Ins::test_nir(7).to_cx().format(),
            format!(
                "{}^^^&1.2.250.1.213.1.4.10&ISO^NH",
                Ins::test_nir(7).matricule
            )
        );
    }
}
