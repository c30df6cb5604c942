//! Identifier types: UUIDs (entryUUID), OIDs, symbolic ids and uniqueIds.

use std::fmt;
use std::str::FromStr;

/// Why a string is not a well-formed identifier of the expected kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("not a UUID URN (urn:uuid: followed by 8-4-4-4-12 hex digits): {0:?}")]
    Uuid(String),
    #[error(
        "not an OID (dot-separated decimal arcs, no leading zeros, at most 64 characters): {0:?}"
    )]
    Oid(String),
    #[error("identifier is empty")]
    Empty,
    #[error("identifier longer than {limit} characters")]
    TooLong { limit: usize },
}

/// A UUID in the `urn:uuid:` form XDS uses for entryUUIDs. Stored as 16 bytes; always written
/// in lower case (TF-3 Table 4.2.3.1.7-2); upper-case input is accepted and normalized.
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Uuid([u8; 16]);

impl Uuid {
    pub const URN_PREFIX: &'static str = "urn:uuid:";

    pub const fn from_bytes(bytes: [u8; 16]) -> Self {
        Self(bytes)
    }

    /// A random (version 4) UUID from caller-supplied random bytes; the library does no IO, so
    /// the daemons bring the randomness.
    pub fn new_v4(mut random: [u8; 16]) -> Self {
        random[6] = (random[6] & 0x0f) | 0x40;
        random[8] = (random[8] & 0x3f) | 0x80;
        Self(random)
    }

    pub const fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    /// Parses `urn:uuid:xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` (prefix case-insensitive).
    pub fn parse_urn(value: &str) -> Result<Self, IdError> {
        let bare = strip_prefix_ignore_case(value, Self::URN_PREFIX)
            .ok_or_else(|| IdError::Uuid(value.to_owned()))?;
        Self::parse_bare(bare).map_err(|_| IdError::Uuid(value.to_owned()))
    }

    /// Parses the 36-character hyphenated form without prefix.
    pub fn parse_bare(value: &str) -> Result<Self, IdError> {
        let bytes = value.as_bytes();
        if bytes.len() != 36 {
            return Err(IdError::Uuid(value.to_owned()));
        }
        let mut out = [0u8; 16];
        let mut nibble = 0usize;
        for (index, &byte) in bytes.iter().enumerate() {
            if matches!(index, 8 | 13 | 18 | 23) {
                if byte != b'-' {
                    return Err(IdError::Uuid(value.to_owned()));
                }
                continue;
            }
            let digit = match byte {
                b'0'..=b'9' => byte - b'0',
                b'a'..=b'f' => byte - b'a' + 10,
                b'A'..=b'F' => byte - b'A' + 10,
                _ => return Err(IdError::Uuid(value.to_owned())),
            };
            out[nibble / 2] |= if nibble.is_multiple_of(2) {
                digit << 4
            } else {
                digit
            };
            nibble += 1;
        }
        Ok(Self(out))
    }

    /// Writes the canonical lower-case URN form.
    pub fn to_urn(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for Uuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut text = [0u8; 36];
        let mut position = 0;
        for (index, byte) in self.0.iter().enumerate() {
            if matches!(index, 4 | 6 | 8 | 10) {
                text[position] = b'-';
                position += 1;
            }
            text[position] = HEX[(byte >> 4) as usize];
            text[position + 1] = HEX[(byte & 0x0f) as usize];
            position += 2;
        }
        f.write_str(Self::URN_PREFIX)?;
        // Only ASCII hex digits and hyphens were written above.
        f.write_str(std::str::from_utf8(&text).map_err(|_| fmt::Error)?)
    }
}

impl fmt::Debug for Uuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl FromStr for Uuid {
    type Err = IdError;
    fn from_str(value: &str) -> Result<Self, IdError> {
        Self::parse_urn(value)
    }
}

fn strip_prefix_ignore_case<'a>(value: &'a str, prefix: &str) -> Option<&'a str> {
    if value.len() >= prefix.len()
        && value.is_char_boundary(prefix.len())
        && value[..prefix.len()].eq_ignore_ascii_case(prefix)
    {
        Some(&value[prefix.len()..])
    } else {
        None
    }
}

/// An ISO object identifier (TF-2 Appendix B): decimal arcs separated by dots, no leading
/// zeros, at least two arcs, at most 64 characters.
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Oid(String);

impl Oid {
    pub const MAX_LEN: usize = 64;

    pub fn parse(value: &str) -> Result<Self, IdError> {
        if Self::is_valid(value) {
            Ok(Self(value.to_owned()))
        } else {
            Err(IdError::Oid(value.to_owned()))
        }
    }

    pub fn is_valid(value: &str) -> bool {
        if value.is_empty() || value.len() > Self::MAX_LEN {
            return false;
        }
        let mut arcs = 0;
        for arc in value.split('.') {
            let bytes = arc.as_bytes();
            if bytes.is_empty() || !bytes.iter().all(u8::is_ascii_digit) {
                return false;
            }
            if bytes.len() > 1 && bytes[0] == b'0' {
                return false;
            }
            arcs += 1;
        }
        arcs >= 2
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The `urn:oid:` form used for homeCommunityId.
    pub fn to_urn(&self) -> String {
        format!("urn:oid:{}", self.0)
    }

    /// Parses `urn:oid:<oid>` (prefix case-insensitive).
    pub fn parse_urn(value: &str) -> Result<Self, IdError> {
        let bare = strip_prefix_ignore_case(value, "urn:oid:")
            .ok_or_else(|| IdError::Oid(value.to_owned()))?;
        Self::parse(bare).map_err(|_| IdError::Oid(value.to_owned()))
    }
}

impl fmt::Display for Oid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Oid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Oid({})", self.0)
    }
}

impl FromStr for Oid {
    type Err = IdError;
    fn from_str(value: &str) -> Result<Self, IdError> {
        Self::parse(value)
    }
}

/// The `id` of an object in a submission: a UUID, or a symbolic id valid only inside the
/// submission (any value not starting with `urn:uuid:`, TF-3 4.2.3.1.5).
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ObjectId {
    Uuid(Uuid),
    Symbolic(String),
}

impl ObjectId {
    /// Classifies a raw id. A value that claims to be a UUID URN but is malformed is an error,
    /// not a symbolic id: a typo in a reference must not silently become a new object.
    pub fn parse(value: &str) -> Result<Self, IdError> {
        if value.is_empty() {
            return Err(IdError::Empty);
        }
        if strip_prefix_ignore_case(value, Uuid::URN_PREFIX).is_some() {
            Uuid::parse_urn(value).map(Self::Uuid)
        } else {
            Ok(Self::Symbolic(value.to_owned()))
        }
    }

    pub fn as_uuid(&self) -> Option<Uuid> {
        match self {
            Self::Uuid(uuid) => Some(*uuid),
            Self::Symbolic(_) => None,
        }
    }

    pub fn is_symbolic(&self) -> bool {
        matches!(self, Self::Symbolic(_))
    }
}

impl From<Uuid> for ObjectId {
    fn from(uuid: Uuid) -> Self {
        Self::Uuid(uuid)
    }
}

impl fmt::Display for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Uuid(uuid) => fmt::Display::fmt(uuid, f),
            Self::Symbolic(symbol) => f.write_str(symbol),
        }
    }
}

impl fmt::Debug for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// A DocumentEntry uniqueId: an opaque identifier assigned by the document's creator (an OID,
/// `root^extension`, a UUID URN or a URI). Non-empty, free of surrounding whitespace, and within
/// the ebRIM ExternalIdentifier value limit.
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UniqueId(String);

impl UniqueId {
    /// ebRIM `LongName`, the type of ExternalIdentifier/@value.
    pub const MAX_LEN: usize = 256;

    pub fn parse(value: &str) -> Result<Self, IdError> {
        if value.trim().is_empty() {
            return Err(IdError::Empty);
        }
        if value.chars().count() > Self::MAX_LEN {
            return Err(IdError::TooLong {
                limit: Self::MAX_LEN,
            });
        }
        Ok(Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for UniqueId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for UniqueId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "UniqueId({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_round_trips_in_lower_case() {
        let text = "urn:uuid:7EDCA82F-054d-47f2-a032-9b2a5b5186c1";
        let uuid = Uuid::parse_urn(text).unwrap();
        assert_eq!(
            uuid.to_string(),
            "urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1"
        );
        assert_eq!(Uuid::parse_urn(&uuid.to_string()).unwrap(), uuid);
    }

    #[test]
    fn uuid_rejects_malformed_values() {
        for bad in [
            "7edca82f-054d-47f2-a032-9b2a5b5186c1",
            "urn:uuid:7edca82f054d47f2a0329b2a5b5186c1",
            "urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c",
            "urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186cg",
            "urn:uuid:",
        ] {
            assert!(Uuid::parse_urn(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn v4_sets_version_and_variant_bits() {
        let uuid = Uuid::new_v4([0xff; 16]);
        assert_eq!(
            uuid.to_string(),
            "urn:uuid:ffffffff-ffff-4fff-bfff-ffffffffffff"
        );
    }

    #[test]
    fn oid_rules_follow_appendix_b() {
        for good in [
            "1.3.6.1.4.1.21367.2005.3.7",
            "2.16.840.1.113883.6.1",
            "129.6.58.92.1.1",
            "0.0",
        ] {
            assert!(Oid::is_valid(good), "{good}");
        }
        let too_long = format!("1.{}", "2".repeat(63));
        for bad in [
            "",
            "1",
            "1..2",
            "1.02",
            "1.2.",
            ".1.2",
            "1.2a",
            "urn:oid:1.2",
            &too_long,
        ] {
            assert!(!Oid::is_valid(bad), "{bad}");
        }
        assert_eq!(Oid::parse_urn("urn:oid:1.2.3").unwrap().as_str(), "1.2.3");
    }

    #[test]
    fn object_ids_are_symbolic_unless_they_claim_to_be_uuids() {
        assert_eq!(
            ObjectId::parse("Document01").unwrap(),
            ObjectId::Symbolic("Document01".into())
        );
        assert!(ObjectId::parse("urn:uuid:not-a-uuid").is_err());
        assert!(ObjectId::parse("").is_err());
        assert!(matches!(
            ObjectId::parse("urn:uuid:10b545ea-725c-446d-9b95-8aeb444eddf3").unwrap(),
            ObjectId::Uuid(_)
        ));
    }

    #[test]
    fn unique_id_limits() {
        assert!(UniqueId::parse("2.999.2.1.20240315.1").is_ok());
        assert!(UniqueId::parse("1.2.3^ext-42").is_ok());
        assert_eq!(UniqueId::parse("  "), Err(IdError::Empty));
        assert_eq!(
            UniqueId::parse(&"1".repeat(257)),
            Err(IdError::TooLong {
                limit: UniqueId::MAX_LEN
            })
        );
    }
}
