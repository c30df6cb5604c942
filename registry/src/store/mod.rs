//! The registry's storage port: [`MetadataStore`] is what the services call (domain-level
//! reads and one atomic write per submission). [`kv::KvMetadataStore`] implements it over any
//! ordered key-value [`kv::KvEngine`]; `rocks.rs` (the only file that names RocksDB) and
//! `mem.rs` are the engines. A distributed backend (a PostgreSQL-protocol database sharded by
//! patient) would implement [`MetadataStore`] directly: an added file, not a rewrite.

pub mod kv;
pub mod mem;
pub mod rocks;

use xds::model::{Association, AssociationType, Cx, DocumentEntry, Folder, SubmissionSet, Uuid};

use crate::access::DmpRecord;
use crate::audit::AuditRecord;
use crate::identity::PatientRecord;

/// Number the registry gives each patient identifier (keys stay short and fixed-size).
pub type PatientNum = u64;

/// Storage failure. `retryable` says whether trying again may help (busy, transient IO).
#[derive(Debug, thiserror::Error)]
#[error("storage: {message}")]
pub struct StoreError {
    pub message: String,
    pub retryable: bool,
}

impl StoreError {
    pub fn fatal(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            retryable: false,
        }
    }

    pub fn corrupt(what: impl std::fmt::Display) -> Self {
        Self {
            message: format!("corrupt record: {what}"),
            retryable: false,
        }
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// The kinds of registry objects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    DocumentEntry,
    SubmissionSet,
    Folder,
    Association,
}

impl Kind {
    pub const fn tag(self) -> u8 {
        match self {
            Self::DocumentEntry => b'D',
            Self::SubmissionSet => b'S',
            Self::Folder => b'F',
            Self::Association => b'A',
        }
    }

    pub fn from_tag(tag: u8) -> Option<Self> {
        match tag {
            b'D' => Some(Self::DocumentEntry),
            b'S' => Some(Self::SubmissionSet),
            b'F' => Some(Self::Folder),
            b'A' => Some(Self::Association),
            _ => None,
        }
    }
}

/// A stored object. Its entryUUID is always a UUID once stored.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum StoredObject {
    DocumentEntry(DocumentEntry),
    SubmissionSet(SubmissionSet),
    Folder(Folder),
    Association(Association),
}

impl StoredObject {
    pub fn kind(&self) -> Kind {
        match self {
            Self::DocumentEntry(_) => Kind::DocumentEntry,
            Self::SubmissionSet(_) => Kind::SubmissionSet,
            Self::Folder(_) => Kind::Folder,
            Self::Association(_) => Kind::Association,
        }
    }

    /// The entryUUID (stored objects always have UUID ids).
    pub fn uuid(&self) -> Option<Uuid> {
        match self {
            Self::DocumentEntry(entry) => entry.entry_uuid.as_uuid(),
            Self::SubmissionSet(set) => set.entry_uuid.as_uuid(),
            Self::Folder(folder) => folder.entry_uuid.as_uuid(),
            Self::Association(association) => association.entry_uuid.as_uuid(),
        }
    }

    pub fn patient_id(&self) -> Option<&Cx> {
        match self {
            Self::DocumentEntry(entry) => entry.patient_id.as_ref(),
            Self::SubmissionSet(set) => set.patient_id.as_ref(),
            Self::Folder(folder) => folder.patient_id.as_ref(),
            Self::Association(_) => None,
        }
    }

    pub fn unique_id(&self) -> Option<&str> {
        match self {
            Self::DocumentEntry(entry) => entry.unique_id.as_ref().map(|id| id.as_str()),
            Self::SubmissionSet(set) => set.unique_id.as_ref().map(|id| id.as_str()),
            Self::Folder(folder) => folder.unique_id.as_ref().map(|id| id.as_str()),
            Self::Association(_) => None,
        }
    }
}

/// An object and the patient it is filed under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    pub patient: PatientNum,
    pub object: StoredObject,
}

/// Which end of an association an object is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Associations whose sourceObject is the object.
    From,
    /// Associations whose targetObject is the object.
    To,
}

/// One association touching an object, as indexed: enough to filter without loading it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Link {
    pub association: Uuid,
    /// The other end.
    pub other: Uuid,
    pub association_type: AssociationType,
}

/// One object written by a change set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Put {
    pub patient: PatientNum,
    pub object: StoredObject,
    /// New objects get their indexes (locator, uniqueId, links); updates only rewrite the record.
    pub is_new: bool,
}

/// Everything one transaction changes, applied as one atomic write.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChangeSet {
    pub new_patients: Vec<(PatientNum, Cx)>,
    /// Identity records written (new or replaced).
    pub records: Vec<(PatientNum, PatientRecord)>,
    /// Local identifiers (other assigning authorities) linked to a patient.
    pub local_ids: Vec<(Cx, PatientNum)>,
    /// Merges: (subsumed, surviving).
    pub merges: Vec<(PatientNum, PatientNum)>,
    /// Feed messages applied (key, digest), for idempotent resends.
    pub feed_messages: Vec<(Vec<u8>, [u8; 20])>,
    pub puts: Vec<Put>,
    /// Objects removed (ITI-62) with every index entry: locator, uniqueId, association links
    /// and, for a SubmissionSet, its submission digest (so the uniqueId may be submitted again).
    pub removes: Vec<Located>,
    /// SubmissionSet uniqueId and digest of the submission, for idempotent retries.
    pub submission_digest: Option<(String, [u8; 20])>,
    /// DMP records written (new or replaced).
    pub dmp: Vec<(PatientNum, DmpRecord)>,
    /// Audit records (with their ids), filed under their patient (None: no known patient);
    /// each also goes to the export outbox.
    pub audits: Vec<(Option<PatientNum>, AuditRecord)>,
    /// Outbox entries delivered to the audit repository.
    pub outbox_sent: Vec<u64>,
}

impl ChangeSet {
    pub fn is_empty(&self) -> bool {
        self.new_patients.is_empty()
            && self.records.is_empty()
            && self.local_ids.is_empty()
            && self.merges.is_empty()
            && self.feed_messages.is_empty()
            && self.puts.is_empty()
            && self.removes.is_empty()
            && self.submission_digest.is_none()
            && self.dmp.is_empty()
            && self.audits.is_empty()
            && self.outbox_sent.is_empty()
    }
}

/// Counts kept by the store, for operators and benchmarks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StoreStats {
    pub patients: u64,
    pub approximate_disk_bytes: u64,
    /// Audit records waiting for the ATNA export.
    pub outbox_records: u64,
}

/// What the registry's services need from storage. Every lookup by patient, entryUUID or
/// uniqueId is an index lookup (a point read or a prefix scan of one patient), never a scan
/// of the whole registry.
pub trait MetadataStore: Send + Sync + 'static {
    /// The number of a registered patient identifier (id number and assigning authority; the
    /// identifier type code does not count).
    fn patient(&self, id: &Cx) -> StoreResult<Option<PatientNum>>;
    /// The identifier of a patient number.
    fn patient_id(&self, patient: PatientNum) -> StoreResult<Option<Cx>>;
    /// The identity record of a patient, when one was written (feeds, operator commands).
    fn patient_record(&self, patient: PatientNum) -> StoreResult<Option<PatientRecord>>;
    /// The patient a local identifier (another assigning authority) is linked to.
    fn local_patient(&self, id: &Cx) -> StoreResult<Option<PatientNum>>;
    /// For a subsumed patient, the end of its merge chain (the id that now holds its
    /// documents); `None` for an active patient.
    fn surviving(&self, patient: PatientNum) -> StoreResult<Option<PatientNum>>;
    /// For a subsumed patient, the id its merge chain ends at; `None` for an active patient.
    fn surviving_id(&self, patient: PatientNum) -> StoreResult<Option<Cx>> {
        match self.surviving(patient)? {
            Some(surviving) => self.patient_id(surviving),
            None => Ok(None),
        }
    }
    /// Every patient merged into this one, directly or through a chain.
    fn merged_into(&self, patient: PatientNum) -> StoreResult<Vec<PatientNum>>;
    /// Whether any merge was ever recorded (answers skip merge handling when not).
    fn has_merges(&self) -> bool;
    /// The digest of a feed message applied under this key.
    fn feed_message(&self, key: &[u8]) -> StoreResult<Option<[u8; 20]>>;
    /// The next unused patient number.
    fn next_patient_num(&self) -> StoreResult<PatientNum>;
    /// Where an entryUUID is filed.
    fn locate(&self, uuid: &Uuid) -> StoreResult<Option<(Kind, PatientNum)>>;
    /// An object by entryUUID.
    fn object(&self, uuid: &Uuid) -> StoreResult<Option<Located>>;
    /// Visits every object of one kind filed under a patient, in entryUUID order; the visitor
    /// returns false to stop.
    fn scan_patient(
        &self,
        patient: PatientNum,
        kind: Kind,
        visit: &mut dyn FnMut(StoredObject) -> bool,
    ) -> StoreResult<()>;
    /// entryUUIDs carrying a uniqueId, for one kind of object.
    fn by_unique_id(&self, kind: Kind, unique_id: &str) -> StoreResult<Vec<Uuid>>;
    /// Associations starting or ending at an object.
    fn links(&self, uuid: &Uuid, direction: Direction) -> StoreResult<Vec<Link>>;
    /// The digest recorded for a SubmissionSet uniqueId.
    fn submission_digest(&self, submission_set_unique_id: &str) -> StoreResult<Option<[u8; 20]>>;
    /// A patient's DMP record; None when the patient has no DMP.
    fn dmp_record(&self, patient: PatientNum) -> StoreResult<Option<DmpRecord>>;
    /// Audit records filed under a patient (None: those without a known patient), newest
    /// first, with ids below `before`, at most `limit`.
    fn audit_records(
        &self,
        patient: Option<PatientNum>,
        before: Option<u64>,
        limit: usize,
    ) -> StoreResult<Vec<AuditRecord>>;
    /// The oldest records of the export outbox, at most `limit`.
    fn outbox(&self, limit: usize) -> StoreResult<Vec<AuditRecord>>;
    /// The id the next audit record gets.
    fn next_audit_id(&self) -> StoreResult<u64>;
    /// Applies a change set atomically. With `durable`, it is on stable storage when this
    /// returns; without, [`MetadataStore::sync`] makes it so (group commit).
    fn apply(&self, changes: &ChangeSet, durable: bool) -> StoreResult<()>;
    /// Makes every applied change durable.
    fn sync(&self) -> StoreResult<()>;
    /// Counts for operators.
    fn stats(&self) -> StoreResult<StoreStats>;
    /// Writes a consistent point-in-time copy of the store into `target` (which must not
    /// exist) while the registry runs: the online backup.
    fn checkpoint(&self, target: &std::path::Path) -> StoreResult<()>;
}
