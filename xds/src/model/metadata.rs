//! The XDS metadata objects: DocumentEntry, SubmissionSet, Folder and Association, with every
//! attribute of ITI TF-3 4.2.3 and the Metadata Update additions, plus the DMP statuses.
//!
//! Attributes that a transaction may omit are `Option`s or empty vectors here: whether a given
//! transaction requires them is the validator's business, not the type's. What the type does
//! guarantee is that every present value is well formed (a CX is a CX, a DTM is a DTM).

use std::fmt;

use super::hl7::{Cx, Dtm, Xcn, Xon, Xtn};
use super::ids::{ObjectId, Oid, UniqueId, Uuid};
use super::vocabulary as vocab;

/// One `rim:LocalizedString`.
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LocalizedString {
    pub value: String,
    /// `xml:lang`; absent means the schema default `en-US`.
    pub lang: Option<String>,
    /// `charset`; absent means the schema default `UTF-8`.
    pub charset: Option<String>,
}

impl LocalizedString {
    pub fn new(value: impl Into<String>) -> Self {
        Self {
            value: value.into(),
            lang: None,
            charset: None,
        }
    }
}

/// A `rim:Name` or `rim:Description`: zero or more translations. Empty means absent.
pub type InternationalString = Vec<LocalizedString>;

/// A slot we keep but do not interpret: extra metadata (TF-3 4.2.3.1.8) or a slot unknown to
/// the XDS vocabulary.
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Slot {
    pub name: String,
    pub values: Vec<String>,
}

/// A coded value carried by a Classification: `nodeRepresentation` = code, the `codingScheme`
/// slot = code system, `rim:Name` = display name.
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Code {
    pub code: String,
    pub coding_scheme: String,
    pub display_name: InternationalString,
}

impl Code {
    pub fn new(code: &str, coding_scheme: &str, display_name: &str) -> Self {
        Self {
            code: code.to_owned(),
            coding_scheme: coding_scheme.to_owned(),
            display_name: if display_name.is_empty() {
                Vec::new()
            } else {
                vec![LocalizedString::new(display_name)]
            },
        }
    }

    /// The first display name, if any.
    pub fn display(&self) -> Option<&str> {
        self.display_name.first().map(|name| name.value.as_str())
    }
}

/// One author (one author Classification, TF-3 4.2.3.1.4).
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Author {
    pub person: Option<Xcn>,
    pub institutions: Vec<Xon>,
    /// Coded strings (`code` or `code^^^&oid&ISO`), kept as sent.
    pub roles: Vec<String>,
    /// Coded strings, kept as sent.
    pub specialties: Vec<String>,
    pub telecommunications: Vec<Xtn>,
}

impl Author {
    pub fn is_empty(&self) -> bool {
        self.person.is_none()
            && self.institutions.is_empty()
            && self.roles.is_empty()
            && self.specialties.is_empty()
            && self.telecommunications.is_empty()
    }
}

/// availabilityStatus, including the DMP's logical deletion and archiving statuses
/// (dmp-profile.md §6.5-6.6).
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AvailabilityStatus {
    Submitted,
    Approved,
    Deprecated,
    /// `urn:asip:ci-sis:2010:StatusType:Deleted` (DMP TD3.3c).
    Deleted,
    /// `urn:asip:ci-sis:2010:StatusType:Archived` (DMP TD3.3d).
    Archived,
    /// A status URN outside the XDS and DMP vocabularies, kept as sent.
    Other(String),
}

impl AvailabilityStatus {
    pub const SUBMITTED: &'static str = "urn:oasis:names:tc:ebxml-regrep:StatusType:Submitted";
    pub const APPROVED: &'static str = "urn:oasis:names:tc:ebxml-regrep:StatusType:Approved";
    pub const DEPRECATED: &'static str = "urn:oasis:names:tc:ebxml-regrep:StatusType:Deprecated";
    pub const DELETED: &'static str = "urn:asip:ci-sis:2010:StatusType:Deleted";
    pub const ARCHIVED: &'static str = "urn:asip:ci-sis:2010:StatusType:Archived";

    pub fn from_urn(value: &str) -> Self {
        match value {
            Self::SUBMITTED => Self::Submitted,
            Self::APPROVED => Self::Approved,
            Self::DEPRECATED => Self::Deprecated,
            Self::DELETED => Self::Deleted,
            Self::ARCHIVED => Self::Archived,
            other => Self::Other(other.to_owned()),
        }
    }

    pub fn urn(&self) -> &str {
        match self {
            Self::Submitted => Self::SUBMITTED,
            Self::Approved => Self::APPROVED,
            Self::Deprecated => Self::DEPRECATED,
            Self::Deleted => Self::DELETED,
            Self::Archived => Self::ARCHIVED,
            Self::Other(urn) => urn,
        }
    }
}

impl fmt::Display for AvailabilityStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.urn())
    }
}

/// objectType of a DocumentEntry.
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DocumentEntryType {
    Stable,
    OnDemand,
}

impl DocumentEntryType {
    pub fn from_urn(value: &str) -> Option<Self> {
        match value {
            vocab::DOCUMENT_ENTRY_STABLE => Some(Self::Stable),
            vocab::DOCUMENT_ENTRY_ON_DEMAND => Some(Self::OnDemand),
            _ => None,
        }
    }

    pub const fn urn(self) -> &'static str {
        match self {
            Self::Stable => vocab::DOCUMENT_ENTRY_STABLE,
            Self::OnDemand => vocab::DOCUMENT_ENTRY_ON_DEMAND,
        }
    }
}

/// documentAvailability (Metadata Update).
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DocumentAvailability {
    Online,
    Offline,
}

impl DocumentAvailability {
    pub fn from_urn(value: &str) -> Option<Self> {
        match value {
            vocab::DOCUMENT_AVAILABILITY_ONLINE => Some(Self::Online),
            vocab::DOCUMENT_AVAILABILITY_OFFLINE => Some(Self::Offline),
            _ => None,
        }
    }

    pub const fn urn(self) -> &'static str {
        match self {
            Self::Online => vocab::DOCUMENT_AVAILABILITY_ONLINE,
            Self::Offline => vocab::DOCUMENT_AVAILABILITY_OFFLINE,
        }
    }
}

/// A SHA-1 digest; parsed from 40 hex digits in either case, written in lower case.
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sha1Hash(pub [u8; 20]);

impl Sha1Hash {
    pub fn parse_hex(value: &str) -> Option<Self> {
        let bytes = value.as_bytes();
        if bytes.len() != 40 {
            return None;
        }
        let mut out = [0u8; 20];
        for (index, pair) in bytes.chunks_exact(2).enumerate() {
            let high = (pair[0] as char).to_digit(16)?;
            let low = (pair[1] as char).to_digit(16)?;
            out[index] = (high * 16 + low) as u8;
        }
        Some(Self(out))
    }

    pub fn to_hex(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for Sha1Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for byte in &self.0 {
            write!(f, "{byte:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Sha1Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sha1({self})")
    }
}

/// A DocumentEntry (TF-3 Table 4.2.3.2-1).
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentEntry {
    pub entry_uuid: ObjectId,
    /// `lid` (Metadata Update); the first version has `lid = id`.
    pub logical_id: Option<ObjectId>,
    /// `rim:VersionInfo/@versionName` (Metadata Update).
    pub version: Option<String>,
    /// homeCommunityId (`home` attribute).
    pub home: Option<Oid>,
    /// `None` when the objectType attribute was absent.
    pub object_type: Option<DocumentEntryType>,
    pub availability_status: Option<AvailabilityStatus>,
    /// `None` when the mimeType attribute was absent.
    pub mime_type: Option<String>,
    pub title: InternationalString,
    pub comments: InternationalString,
    pub authors: Vec<Author>,
    pub class_code: Option<Code>,
    pub confidentiality_codes: Vec<Code>,
    pub event_codes: Vec<Code>,
    pub format_code: Option<Code>,
    pub healthcare_facility_type_code: Option<Code>,
    pub practice_setting_code: Option<Code>,
    pub type_code: Option<Code>,
    pub creation_time: Option<Dtm>,
    pub service_start_time: Option<Dtm>,
    pub service_stop_time: Option<Dtm>,
    pub hash: Option<Sha1Hash>,
    pub size: Option<u64>,
    pub language_code: Option<String>,
    pub legal_authenticator: Option<Xcn>,
    pub patient_id: Option<Cx>,
    pub source_patient_id: Option<Cx>,
    /// `PID-n|value` lines, kept as sent.
    pub source_patient_info: Vec<String>,
    /// CXi values of `urn:ihe:iti:xds:2013:referenceIdList`.
    pub reference_ids: Vec<Cx>,
    pub repository_unique_id: Option<Oid>,
    pub unique_id: Option<UniqueId>,
    pub uri: Option<String>,
    pub document_availability: Option<DocumentAvailability>,
    /// The limitedMetadata classification is present.
    pub limited_metadata: bool,
    pub extra_slots: Vec<Slot>,
}

impl DocumentEntry {
    /// An entry with only its id set; callers fill the rest.
    pub fn new(entry_uuid: ObjectId) -> Self {
        Self {
            entry_uuid,
            logical_id: None,
            version: None,
            home: None,
            object_type: Some(DocumentEntryType::Stable),
            availability_status: None,
            mime_type: None,
            title: Vec::new(),
            comments: Vec::new(),
            authors: Vec::new(),
            class_code: None,
            confidentiality_codes: Vec::new(),
            event_codes: Vec::new(),
            format_code: None,
            healthcare_facility_type_code: None,
            practice_setting_code: None,
            type_code: None,
            creation_time: None,
            service_start_time: None,
            service_stop_time: None,
            hash: None,
            size: None,
            language_code: None,
            legal_authenticator: None,
            patient_id: None,
            source_patient_id: None,
            source_patient_info: Vec::new(),
            reference_ids: Vec::new(),
            repository_unique_id: None,
            unique_id: None,
            uri: None,
            document_availability: None,
            limited_metadata: false,
            extra_slots: Vec::new(),
        }
    }
}

/// A SubmissionSet (TF-3 Table 4.2.3.3-1).
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubmissionSet {
    pub entry_uuid: ObjectId,
    pub home: Option<Oid>,
    pub availability_status: Option<AvailabilityStatus>,
    pub title: InternationalString,
    pub comments: InternationalString,
    pub authors: Vec<Author>,
    pub content_type_code: Option<Code>,
    /// `XON|XCN|XTN` values, kept as sent.
    pub intended_recipients: Vec<String>,
    pub patient_id: Option<Cx>,
    pub source_id: Option<Oid>,
    pub submission_time: Option<Dtm>,
    pub unique_id: Option<Oid>,
    pub limited_metadata: bool,
    pub extra_slots: Vec<Slot>,
}

impl SubmissionSet {
    pub fn new(entry_uuid: ObjectId) -> Self {
        Self {
            entry_uuid,
            home: None,
            availability_status: None,
            title: Vec::new(),
            comments: Vec::new(),
            authors: Vec::new(),
            content_type_code: None,
            intended_recipients: Vec::new(),
            patient_id: None,
            source_id: None,
            submission_time: None,
            unique_id: None,
            limited_metadata: false,
            extra_slots: Vec::new(),
        }
    }
}

/// A Folder (TF-3 Table 4.2.3.4-1).
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Folder {
    pub entry_uuid: ObjectId,
    pub logical_id: Option<ObjectId>,
    pub version: Option<String>,
    pub home: Option<Oid>,
    pub availability_status: Option<AvailabilityStatus>,
    pub title: InternationalString,
    pub comments: InternationalString,
    pub codes: Vec<Code>,
    pub last_update_time: Option<Dtm>,
    pub patient_id: Option<Cx>,
    pub unique_id: Option<Oid>,
    pub limited_metadata: bool,
    pub extra_slots: Vec<Slot>,
}

impl Folder {
    pub fn new(entry_uuid: ObjectId) -> Self {
        Self {
            entry_uuid,
            logical_id: None,
            version: None,
            home: None,
            availability_status: None,
            title: Vec::new(),
            comments: Vec::new(),
            codes: Vec::new(),
            last_update_time: None,
            patient_id: None,
            unique_id: None,
            limited_metadata: false,
            extra_slots: Vec::new(),
        }
    }
}

/// associationType (TF-3 Table 4.2.2-1 and the Metadata Update supplement).
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AssociationType {
    HasMember,
    Replace,
    Transform,
    Append,
    TransformAndReplace,
    Signs,
    IsSnapshotOf,
    UpdateAvailabilityStatus,
    SubmitAssociation,
}

impl AssociationType {
    pub const ALL: [AssociationType; 9] = [
        Self::HasMember,
        Self::Replace,
        Self::Transform,
        Self::Append,
        Self::TransformAndReplace,
        Self::Signs,
        Self::IsSnapshotOf,
        Self::UpdateAvailabilityStatus,
        Self::SubmitAssociation,
    ];

    pub const fn urn(self) -> &'static str {
        match self {
            Self::HasMember => "urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember",
            Self::Replace => "urn:ihe:iti:2007:AssociationType:RPLC",
            Self::Transform => "urn:ihe:iti:2007:AssociationType:XFRM",
            Self::Append => "urn:ihe:iti:2007:AssociationType:APND",
            Self::TransformAndReplace => "urn:ihe:iti:2007:AssociationType:XFRM_RPLC",
            Self::Signs => "urn:ihe:iti:2007:AssociationType:signs",
            Self::IsSnapshotOf => "urn:ihe:iti:2010:AssociationType:IsSnapshotOf",
            Self::UpdateAvailabilityStatus => {
                "urn:ihe:iti:2010:AssociationType:UpdateAvailabilityStatus"
            }
            Self::SubmitAssociation => "urn:ihe:iti:2010:AssociationType:SubmitAssociation",
        }
    }

    pub fn from_urn(value: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|candidate| candidate.urn() == value)
    }

    /// Document relationships (TF-3 4.2.2.2): both ends are DocumentEntries.
    pub const fn is_relationship(self) -> bool {
        matches!(
            self,
            Self::Replace
                | Self::Transform
                | Self::Append
                | Self::TransformAndReplace
                | Self::Signs
                | Self::IsSnapshotOf
        )
    }

    /// RPLC and XFRM_RPLC deprecate their target.
    pub const fn replaces(self) -> bool {
        matches!(self, Self::Replace | Self::TransformAndReplace)
    }
}

/// SubmissionSetStatus slot of an SS-DE HasMember.
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SubmissionSetStatus {
    Original,
    Reference,
}

impl SubmissionSetStatus {
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "Original" => Some(Self::Original),
            "Reference" => Some(Self::Reference),
            _ => None,
        }
    }

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Original => "Original",
            Self::Reference => "Reference",
        }
    }
}

/// An Association (TF-3 4.2.2).
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Association {
    pub entry_uuid: ObjectId,
    pub association_type: AssociationType,
    pub source: ObjectId,
    pub target: ObjectId,
    pub home: Option<Oid>,
    pub availability_status: Option<AvailabilityStatus>,
    pub submission_set_status: Option<SubmissionSetStatus>,
    /// `PreviousVersion` slot (Metadata Update).
    pub previous_version: Option<String>,
    /// `OriginalStatus` / `NewStatus` slots of UpdateAvailabilityStatus.
    pub original_status: Option<AvailabilityStatus>,
    pub new_status: Option<AvailabilityStatus>,
    /// `AssociationPropagation` slot: `yes` (true) or `no` (false).
    pub association_propagation: Option<bool>,
    /// Documentation classification on relationship associations.
    pub documentation: Option<Code>,
    pub extra_slots: Vec<Slot>,
}

impl Association {
    pub fn new(
        entry_uuid: ObjectId,
        association_type: AssociationType,
        source: ObjectId,
        target: ObjectId,
    ) -> Self {
        Self {
            entry_uuid,
            association_type,
            source,
            target,
            home: None,
            availability_status: None,
            submission_set_status: None,
            previous_version: None,
            original_status: None,
            new_status: None,
            association_propagation: None,
            documentation: None,
            extra_slots: Vec::new(),
        }
    }
}

/// A `rim:ObjectRef`: a reference to an object not carried in full.
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ObjectRef {
    pub id: Uuid,
    pub home: Option<Oid>,
}

/// The content of one RegistryObjectList, grouped by kind. Order within each kind is kept.
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Metadata {
    pub submission_sets: Vec<SubmissionSet>,
    pub document_entries: Vec<DocumentEntry>,
    pub folders: Vec<Folder>,
    pub associations: Vec<Association>,
    pub object_refs: Vec<ObjectRef>,
}

impl Metadata {
    pub fn is_empty(&self) -> bool {
        self.submission_sets.is_empty()
            && self.document_entries.is_empty()
            && self.folders.is_empty()
            && self.associations.is_empty()
            && self.object_refs.is_empty()
    }

    /// The patient the objects are about: the first SubmissionSet's patientId, else the first
    /// DocumentEntry's, else the first Folder's.
    pub fn patient(&self) -> Option<&Cx> {
        self.submission_sets
            .iter()
            .find_map(|set| set.patient_id.as_ref())
            .or_else(|| {
                self.document_entries
                    .iter()
                    .find_map(|entry| entry.patient_id.as_ref())
            })
            .or_else(|| {
                self.folders
                    .iter()
                    .find_map(|folder| folder.patient_id.as_ref())
            })
    }

    /// Number of top-level objects (ObjectRefs excluded).
    pub fn object_count(&self) -> usize {
        self.submission_sets.len()
            + self.document_entries.len()
            + self.folders.len()
            + self.associations.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn association_types_round_trip_and_classify() {
        for association_type in AssociationType::ALL {
            assert_eq!(
                AssociationType::from_urn(association_type.urn()),
                Some(association_type)
            );
        }
        assert!(AssociationType::Replace.replaces());
        assert!(AssociationType::TransformAndReplace.replaces());
        assert!(!AssociationType::Append.replaces());
        assert!(AssociationType::Signs.is_relationship());
        assert!(!AssociationType::HasMember.is_relationship());
        assert_eq!(
            AssociationType::from_urn("urn:ihe:iti:2007:AssociationType:Signs"),
            None
        );
    }

    #[test]
    fn statuses_include_the_dmp_extensions() {
        for status in [
            AvailabilityStatus::Submitted,
            AvailabilityStatus::Approved,
            AvailabilityStatus::Deprecated,
            AvailabilityStatus::Deleted,
            AvailabilityStatus::Archived,
        ] {
            assert_eq!(AvailabilityStatus::from_urn(status.urn()), status);
        }
        assert_eq!(
            AvailabilityStatus::from_urn("urn:asip:ci-sis:2010:StatusType:Deleted"),
            AvailabilityStatus::Deleted
        );
        assert_eq!(
            AvailabilityStatus::from_urn("Approved"),
            AvailabilityStatus::Other("Approved".into())
        );
    }

    #[test]
    fn sha1_hex_is_case_insensitive_and_written_lower_case() {
        let upper = Sha1Hash::parse_hex("DA39A3EE5E6B4B0D3255BFEF95601890AFD80709").unwrap();
        assert_eq!(upper.to_hex(), vocab::EMPTY_SHA1);
        assert!(Sha1Hash::parse_hex("da39").is_none());
        assert!(Sha1Hash::parse_hex("zz39a3ee5e6b4b0d3255bfef95601890afd80709").is_none());
    }
}
