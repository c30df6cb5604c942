//! [`MetadataStore`] over an ordered key-value engine. The key layout is designed for the
//! queries (ARCHITECTURE.md, "Registry storage"):
//!
//! | Table | Key | Value |
//! |---|---|---|
//! | `objects` | kind (1) · patient (8, big-endian) · entryUUID (16) | record |
//! | `locators` | entryUUID (16) | kind (1) · patient (8) |
//! | `unique_ids` | kind (1) · uniqueId · 0x00 · entryUUID (16) | — |
//! | `links` | direction (1) · object UUID (16) · association UUID (16) | other end (16) · type (1) |
//! | `patients` | `I` · patient id, or `N` · patient number (8) | number, or patient id |
//! | `patients` | `R` · patient number (8) | identity record |
//! | `patients` | `L` · local id | patient number (8) |
//! | `patients` | `S` · subsumed number (8) | surviving number (8) |
//! | `meta` | `next_patient`, or `D` · SubmissionSet uniqueId | counter, or digest |
//! | `meta` | `H` · feed message key | digest |
//! | `meta` | `next_audit` | next audit record id (8) |
//! | `patients` | `P` · patient number (8) | DMP record |
//! | `audit` | patient number (8, all ones without a patient) · record id (8) | audit record |
//! | `outbox` | record id (8) | audit record, until delivered to the audit repository |
//!
//! Patient ids are keyed by id number and assigning authority only
//! ([`crate::identity::canonical`]). Merges are few: they are also held in memory (loaded at
//! open), so following a chain costs no read.
//!
//! Objects are clustered by patient, so a patient's DocumentEntries are one contiguous range;
//! a lookup by entryUUID is two point reads (locator, record); by uniqueId a short prefix scan.
//! A uniqueId never contains 0x00 (XML cannot carry it), so the separator is unambiguous.
//!
//! Records are a format byte followed by postcard; enum variant order in the model is part of
//! the format (append only).

use std::collections::HashMap;
use std::sync::RwLock;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use xds::model::{AssociationType, Cx, Uuid};

use crate::access::DmpRecord;
use crate::audit::AuditRecord;
use crate::identity::{PatientRecord, canonical};

use super::{
    ChangeSet, Direction, Kind, Link, Located, MetadataStore, PatientNum, StoreError, StoreResult,
    StoreStats, StoredObject,
};

/// The tables (column families in RocksDB).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Table {
    Objects,
    Locators,
    UniqueIds,
    Links,
    Patients,
    Meta,
    Audit,
    Outbox,
}

impl Table {
    pub const ALL: [Table; 8] = [
        Self::Objects,
        Self::Locators,
        Self::UniqueIds,
        Self::Links,
        Self::Patients,
        Self::Meta,
        Self::Audit,
        Self::Outbox,
    ];

    pub const fn name(self) -> &'static str {
        match self {
            Self::Objects => "objects",
            Self::Locators => "locators",
            Self::UniqueIds => "unique_ids",
            Self::Links => "links",
            Self::Patients => "patients",
            Self::Meta => "meta",
            Self::Audit => "audit",
            Self::Outbox => "outbox",
        }
    }
}

/// One write of a batch: a put, or a delete when the value is `None`.
pub type Write = (Table, Vec<u8>, Option<Vec<u8>>);

/// An ordered key-value engine.
pub trait KvEngine: Send + Sync + 'static {
    fn get(&self, table: Table, key: &[u8]) -> StoreResult<Option<Vec<u8>>>;
    /// Visits keys starting with `prefix` in order; the visitor returns false to stop.
    fn scan_prefix(
        &self,
        table: Table,
        prefix: &[u8],
        visit: &mut dyn FnMut(&[u8], &[u8]) -> bool,
    ) -> StoreResult<()>;
    /// Visits keys starting with `prefix` and below `before` (when given) in descending order;
    /// the visitor returns false to stop.
    fn scan_prefix_back(
        &self,
        table: Table,
        prefix: &[u8],
        before: Option<&[u8]>,
        visit: &mut dyn FnMut(&[u8], &[u8]) -> bool,
    ) -> StoreResult<()>;
    /// Applies writes atomically; with `sync`, durably.
    fn write(&self, writes: Vec<Write>, sync: bool) -> StoreResult<()>;
    /// Makes every previous write durable.
    fn sync(&self) -> StoreResult<()>;
    fn approximate_disk_bytes(&self) -> StoreResult<u64>;
    /// Writes a consistent point-in-time copy of every table into `target` (which must not
    /// exist), while writes go on.
    fn checkpoint(&self, target: &std::path::Path) -> StoreResult<()>;
}

const RECORD_FORMAT: u8 = 1;
const NEXT_PATIENT: &[u8] = b"next_patient";
const NEXT_AUDIT: &[u8] = b"next_audit";
/// The audit key prefix of records without a known patient.
const NO_PATIENT: PatientNum = PatientNum::MAX;

fn audit_key(patient: Option<PatientNum>, id: u64) -> Vec<u8> {
    let mut key = Vec::with_capacity(16);
    key.extend_from_slice(&patient.unwrap_or(NO_PATIENT).to_be_bytes());
    key.extend_from_slice(&id.to_be_bytes());
    key
}

/// Any serde value as format byte · postcard.
fn encode_value<T: serde::Serialize>(value: &T, what: &str) -> StoreResult<Vec<u8>> {
    let mut out = vec![RECORD_FORMAT];
    postcard::to_io(value, &mut out)
        .map_err(|error| StoreError::fatal(format!("encode {what}: {error}")))?;
    Ok(out)
}

fn decode_value<T: serde::de::DeserializeOwned>(bytes: &[u8], what: &str) -> StoreResult<T> {
    match bytes.split_first() {
        Some((&RECORD_FORMAT, rest)) => postcard::from_bytes(rest)
            .map_err(|error| StoreError::corrupt(format!("{what}: {error}"))),
        _ => Err(StoreError::corrupt(format!("{what}: unknown format"))),
    }
}

fn object_key(kind: Kind, patient: PatientNum, uuid: &Uuid) -> Vec<u8> {
    let mut key = Vec::with_capacity(25);
    key.push(kind.tag());
    key.extend_from_slice(&patient.to_be_bytes());
    key.extend_from_slice(uuid.as_bytes());
    key
}

fn unique_id_key(kind: Kind, unique_id: &str, uuid: Option<&Uuid>) -> Vec<u8> {
    let mut key = Vec::with_capacity(unique_id.len() + 18);
    key.push(kind.tag());
    key.extend_from_slice(unique_id.as_bytes());
    key.push(0);
    if let Some(uuid) = uuid {
        key.extend_from_slice(uuid.as_bytes());
    }
    key
}

/// `D` · SubmissionSet uniqueId: the digest of the submission (idempotent retries).
fn digest_key(unique_id: &str) -> Vec<u8> {
    let mut key = b"D".to_vec();
    key.extend_from_slice(unique_id.as_bytes());
    key
}

fn link_key(direction: Direction, object: &Uuid, association: Option<&Uuid>) -> Vec<u8> {
    let mut key = Vec::with_capacity(33);
    key.push(match direction {
        Direction::From => b'S',
        Direction::To => b'T',
    });
    key.extend_from_slice(object.as_bytes());
    if let Some(association) = association {
        key.extend_from_slice(association.as_bytes());
    }
    key
}

fn patient_id_key(id: &Cx) -> Vec<u8> {
    let mut key = b"I".to_vec();
    key.extend_from_slice(canonical(id).format().as_bytes());
    key
}

fn local_id_key(id: &Cx) -> Vec<u8> {
    let mut key = b"L".to_vec();
    key.extend_from_slice(canonical(id).format().as_bytes());
    key
}

fn numbered_key(tag: u8, patient: PatientNum) -> Vec<u8> {
    let mut key = vec![tag];
    key.extend_from_slice(&patient.to_be_bytes());
    key
}

fn feed_key(key: &[u8]) -> Vec<u8> {
    let mut out = b"H".to_vec();
    out.extend_from_slice(key);
    out
}

fn patient_num_key(patient: PatientNum) -> Vec<u8> {
    let mut key = b"N".to_vec();
    key.extend_from_slice(&patient.to_be_bytes());
    key
}

fn association_type_tag(kind: AssociationType) -> u8 {
    AssociationType::ALL
        .iter()
        .position(|candidate| *candidate == kind)
        .map_or(u8::MAX, |index| index as u8)
}

fn uuid_of(bytes: &[u8]) -> StoreResult<Uuid> {
    let array: [u8; 16] = bytes
        .try_into()
        .map_err(|_| StoreError::corrupt("UUID of the wrong length"))?;
    Ok(Uuid::from_bytes(array))
}

fn u64_of(bytes: &[u8]) -> StoreResult<u64> {
    let array: [u8; 8] = bytes
        .try_into()
        .map_err(|_| StoreError::corrupt("number of the wrong length"))?;
    Ok(u64::from_be_bytes(array))
}

/// Encodes an object record.
pub fn encode_record(object: &StoredObject) -> StoreResult<Vec<u8>> {
    let mut out = vec![RECORD_FORMAT];
    postcard::to_io(object, &mut out)
        .map_err(|error| StoreError::fatal(format!("encode record: {error}")))?;
    Ok(out)
}

/// Decodes an object record.
pub fn decode_record(bytes: &[u8]) -> StoreResult<StoredObject> {
    match bytes.split_first() {
        Some((&RECORD_FORMAT, rest)) => postcard::from_bytes(rest).map_err(StoreError::corrupt),
        Some((format, _)) => Err(StoreError::corrupt(format!(
            "unknown record format {format}"
        ))),
        None => Err(StoreError::corrupt("empty record")),
    }
}

/// Encodes an identity record.
fn encode_patient_record(record: &PatientRecord) -> StoreResult<Vec<u8>> {
    let mut out = vec![RECORD_FORMAT];
    postcard::to_io(record, &mut out)
        .map_err(|error| StoreError::fatal(format!("encode patient record: {error}")))?;
    Ok(out)
}

fn decode_patient_record(bytes: &[u8]) -> StoreResult<PatientRecord> {
    match bytes.split_first() {
        Some((&RECORD_FORMAT, rest)) => postcard::from_bytes(rest).map_err(StoreError::corrupt),
        _ => Err(StoreError::corrupt("patient record format")),
    }
}

/// The merges, both ways.
#[derive(Debug, Default)]
struct Merges {
    /// Subsumed -> the patient it was merged into.
    into: HashMap<PatientNum, PatientNum>,
    /// Surviving -> the patients merged into it directly.
    from: HashMap<PatientNum, Vec<PatientNum>>,
}

impl Merges {
    fn add(&mut self, subsumed: PatientNum, surviving: PatientNum) {
        self.into.insert(subsumed, surviving);
        let list = self.from.entry(surviving).or_default();
        if !list.contains(&subsumed) {
            list.push(subsumed);
        }
    }
}

/// [`MetadataStore`] over a [`KvEngine`].
#[derive(Debug)]
pub struct KvMetadataStore<E> {
    engine: E,
    /// Cached patient counter; only the single writer moves it.
    next_patient: AtomicU64,
    merges: RwLock<Merges>,
    any_merge: AtomicBool,
}

fn poisoned() -> StoreError {
    StoreError::fatal("merge table lock poisoned")
}

impl<E: KvEngine> KvMetadataStore<E> {
    pub fn new(engine: E) -> StoreResult<Self> {
        let next = match engine.get(Table::Meta, NEXT_PATIENT)? {
            Some(bytes) => u64_of(&bytes)?,
            None => 1,
        };
        let mut merges = Merges::default();
        let mut failure = None;
        engine.scan_prefix(Table::Patients, b"S", &mut |key, value| match (
            u64_of(&key[1..]),
            u64_of(value),
        ) {
            (Ok(subsumed), Ok(surviving)) => {
                merges.add(subsumed, surviving);
                true
            }
            (Err(error), _) | (_, Err(error)) => {
                failure = Some(error);
                false
            }
        })?;
        if let Some(error) = failure {
            return Err(error);
        }
        let any_merge = !merges.into.is_empty();
        Ok(Self {
            engine,
            next_patient: AtomicU64::new(next),
            merges: RwLock::new(merges),
            any_merge: AtomicBool::new(any_merge),
        })
    }

    pub fn engine(&self) -> &E {
        &self.engine
    }

    fn writes_for(&self, changes: &ChangeSet) -> StoreResult<Vec<Write>> {
        let mut writes =
            Vec::with_capacity(changes.puts.len() * 4 + changes.new_patients.len() * 2 + 2);
        let mut highest_patient = None;
        for (patient, id) in &changes.new_patients {
            writes.push((
                Table::Patients,
                patient_id_key(id),
                Some(patient.to_be_bytes().to_vec()),
            ));
            writes.push((
                Table::Patients,
                patient_num_key(*patient),
                Some(id.format().into_bytes()),
            ));
            highest_patient = highest_patient.max(Some(*patient));
        }
        for (patient, record) in &changes.records {
            writes.push((
                Table::Patients,
                numbered_key(b'R', *patient),
                Some(encode_patient_record(record)?),
            ));
        }
        for (id, patient) in &changes.local_ids {
            writes.push((
                Table::Patients,
                local_id_key(id),
                Some(patient.to_be_bytes().to_vec()),
            ));
        }
        for (subsumed, surviving) in &changes.merges {
            writes.push((
                Table::Patients,
                numbered_key(b'S', *subsumed),
                Some(surviving.to_be_bytes().to_vec()),
            ));
        }
        for (key, digest) in &changes.feed_messages {
            writes.push((Table::Meta, feed_key(key), Some(digest.to_vec())));
        }
        if let Some(highest) = highest_patient {
            writes.push((
                Table::Meta,
                NEXT_PATIENT.to_vec(),
                Some((highest + 1).to_be_bytes().to_vec()),
            ));
        }
        for put in &changes.puts {
            let kind = put.object.kind();
            let uuid = put
                .object
                .uuid()
                .ok_or_else(|| StoreError::fatal("an object without a UUID cannot be stored"))?;
            writes.push((
                Table::Objects,
                object_key(kind, put.patient, &uuid),
                Some(encode_record(&put.object)?),
            ));
            if !put.is_new {
                continue;
            }
            let mut locator = vec![kind.tag()];
            locator.extend_from_slice(&put.patient.to_be_bytes());
            writes.push((Table::Locators, uuid.as_bytes().to_vec(), Some(locator)));
            if let Some(unique_id) = put.object.unique_id() {
                writes.push((
                    Table::UniqueIds,
                    unique_id_key(kind, unique_id, Some(&uuid)),
                    Some(Vec::new()),
                ));
            }
            if let StoredObject::Association(association) = &put.object {
                let (Some(source), Some(target)) =
                    (association.source.as_uuid(), association.target.as_uuid())
                else {
                    return Err(StoreError::fatal(
                        "an association with symbolic ends cannot be stored",
                    ));
                };
                let tag = association_type_tag(association.association_type);
                let mut to_target = target.as_bytes().to_vec();
                to_target.push(tag);
                writes.push((
                    Table::Links,
                    link_key(Direction::From, &source, Some(&uuid)),
                    Some(to_target),
                ));
                let mut to_source = source.as_bytes().to_vec();
                to_source.push(tag);
                writes.push((
                    Table::Links,
                    link_key(Direction::To, &target, Some(&uuid)),
                    Some(to_source),
                ));
            }
        }
        for removed in &changes.removes {
            let kind = removed.object.kind();
            let uuid = removed
                .object
                .uuid()
                .ok_or_else(|| StoreError::fatal("a stored object without a UUID"))?;
            writes.push((
                Table::Objects,
                object_key(kind, removed.patient, &uuid),
                None,
            ));
            writes.push((Table::Locators, uuid.as_bytes().to_vec(), None));
            if let Some(unique_id) = removed.object.unique_id() {
                writes.push((
                    Table::UniqueIds,
                    unique_id_key(kind, unique_id, Some(&uuid)),
                    None,
                ));
                if kind == Kind::SubmissionSet {
                    writes.push((Table::Meta, digest_key(unique_id), None));
                }
            }
            if let StoredObject::Association(association) = &removed.object
                && let (Some(source), Some(target)) =
                    (association.source.as_uuid(), association.target.as_uuid())
            {
                writes.push((
                    Table::Links,
                    link_key(Direction::From, &source, Some(&uuid)),
                    None,
                ));
                writes.push((
                    Table::Links,
                    link_key(Direction::To, &target, Some(&uuid)),
                    None,
                ));
            }
        }
        if let Some((unique_id, digest)) = &changes.submission_digest {
            writes.push((Table::Meta, digest_key(unique_id), Some(digest.to_vec())));
        }
        for (patient, record) in &changes.dmp {
            writes.push((
                Table::Patients,
                numbered_key(b'P', *patient),
                Some(encode_value(record, "DMP record")?),
            ));
        }
        if let Some(highest) = changes.audits.iter().map(|(_, record)| record.id).max() {
            for (patient, record) in &changes.audits {
                let value = encode_value(record, "audit record")?;
                writes.push((
                    Table::Outbox,
                    record.id.to_be_bytes().to_vec(),
                    Some(value.clone()),
                ));
                writes.push((Table::Audit, audit_key(*patient, record.id), Some(value)));
            }
            writes.push((
                Table::Meta,
                NEXT_AUDIT.to_vec(),
                Some((highest + 1).to_be_bytes().to_vec()),
            ));
        }
        for id in &changes.outbox_sent {
            writes.push((Table::Outbox, id.to_be_bytes().to_vec(), None));
        }
        Ok(writes)
    }
}

impl<E: KvEngine> MetadataStore for KvMetadataStore<E> {
    fn patient(&self, id: &Cx) -> StoreResult<Option<PatientNum>> {
        self.engine
            .get(Table::Patients, &patient_id_key(id))?
            .map(|bytes| u64_of(&bytes))
            .transpose()
    }

    fn patient_id(&self, patient: PatientNum) -> StoreResult<Option<Cx>> {
        match self
            .engine
            .get(Table::Patients, &patient_num_key(patient))?
        {
            Some(bytes) => {
                let text = String::from_utf8(bytes).map_err(StoreError::corrupt)?;
                Cx::parse(&text).map(Some).map_err(StoreError::corrupt)
            }
            None => Ok(None),
        }
    }

    fn patient_record(&self, patient: PatientNum) -> StoreResult<Option<PatientRecord>> {
        self.engine
            .get(Table::Patients, &numbered_key(b'R', patient))?
            .map(|bytes| decode_patient_record(&bytes))
            .transpose()
    }

    fn local_patient(&self, id: &Cx) -> StoreResult<Option<PatientNum>> {
        self.engine
            .get(Table::Patients, &local_id_key(id))?
            .map(|bytes| u64_of(&bytes))
            .transpose()
    }

    fn surviving(&self, patient: PatientNum) -> StoreResult<Option<PatientNum>> {
        if !self.has_merges() {
            return Ok(None);
        }
        let merges = self.merges.read().map_err(|_| poisoned())?;
        let mut current = patient;
        let mut steps = 0;
        while let Some(next) = merges.into.get(&current) {
            current = *next;
            steps += 1;
            if steps > merges.into.len() {
                return Err(StoreError::corrupt(format!(
                    "merge chain of patient {patient} loops"
                )));
            }
        }
        Ok((current != patient).then_some(current))
    }

    fn merged_into(&self, patient: PatientNum) -> StoreResult<Vec<PatientNum>> {
        if !self.has_merges() {
            return Ok(Vec::new());
        }
        let merges = self.merges.read().map_err(|_| poisoned())?;
        let mut found = Vec::new();
        let mut pending = vec![patient];
        while let Some(next) = pending.pop() {
            for subsumed in merges.from.get(&next).into_iter().flatten() {
                if *subsumed != patient && !found.contains(subsumed) {
                    found.push(*subsumed);
                    pending.push(*subsumed);
                }
            }
        }
        found.sort_unstable();
        Ok(found)
    }

    fn has_merges(&self) -> bool {
        self.any_merge.load(Ordering::Acquire)
    }

    fn feed_message(&self, key: &[u8]) -> StoreResult<Option<[u8; 20]>> {
        match self.engine.get(Table::Meta, &feed_key(key))? {
            Some(bytes) => {
                Ok(Some(bytes.try_into().map_err(|_| {
                    StoreError::corrupt("feed digest of the wrong length")
                })?))
            }
            None => Ok(None),
        }
    }

    fn next_patient_num(&self) -> StoreResult<PatientNum> {
        Ok(self.next_patient.load(Ordering::SeqCst))
    }

    fn locate(&self, uuid: &Uuid) -> StoreResult<Option<(Kind, PatientNum)>> {
        match self.engine.get(Table::Locators, uuid.as_bytes())? {
            Some(bytes) if bytes.len() == 9 => {
                let kind =
                    Kind::from_tag(bytes[0]).ok_or_else(|| StoreError::corrupt("locator kind"))?;
                Ok(Some((kind, u64_of(&bytes[1..])?)))
            }
            Some(_) => Err(StoreError::corrupt("locator of the wrong length")),
            None => Ok(None),
        }
    }

    fn object(&self, uuid: &Uuid) -> StoreResult<Option<Located>> {
        let Some((kind, patient)) = self.locate(uuid)? else {
            return Ok(None);
        };
        match self
            .engine
            .get(Table::Objects, &object_key(kind, patient, uuid))?
        {
            Some(bytes) => Ok(Some(Located {
                patient,
                object: decode_record(&bytes)?,
            })),
            None => Err(StoreError::corrupt(format!(
                "locator without record for {uuid}"
            ))),
        }
    }

    fn scan_patient(
        &self,
        patient: PatientNum,
        kind: Kind,
        visit: &mut dyn FnMut(StoredObject) -> bool,
    ) -> StoreResult<()> {
        let mut prefix = vec![kind.tag()];
        prefix.extend_from_slice(&patient.to_be_bytes());
        let mut failure = None;
        self.engine.scan_prefix(
            Table::Objects,
            &prefix,
            &mut |_, value| match decode_record(value) {
                Ok(object) => visit(object),
                Err(error) => {
                    failure = Some(error);
                    false
                }
            },
        )?;
        failure.map_or(Ok(()), Err)
    }

    fn by_unique_id(&self, kind: Kind, unique_id: &str) -> StoreResult<Vec<Uuid>> {
        let prefix = unique_id_key(kind, unique_id, None);
        let mut uuids = Vec::new();
        let mut failure = None;
        self.engine
            .scan_prefix(Table::UniqueIds, &prefix, &mut |key, _| match uuid_of(
                &key[prefix.len()..],
            ) {
                Ok(uuid) => {
                    uuids.push(uuid);
                    true
                }
                Err(error) => {
                    failure = Some(error);
                    false
                }
            })?;
        failure.map_or(Ok(uuids), Err)
    }

    fn links(&self, uuid: &Uuid, direction: Direction) -> StoreResult<Vec<Link>> {
        let prefix = link_key(direction, uuid, None);
        let mut links = Vec::new();
        let mut failure = None;
        self.engine
            .scan_prefix(Table::Links, &prefix, &mut |key, value| {
                let parsed = (|| -> StoreResult<Link> {
                    let association = uuid_of(&key[prefix.len()..])?;
                    if value.len() != 17 {
                        return Err(StoreError::corrupt("link of the wrong length"));
                    }
                    let other = uuid_of(&value[..16])?;
                    let association_type = *AssociationType::ALL
                        .get(usize::from(value[16]))
                        .ok_or_else(|| StoreError::corrupt("link association type"))?;
                    Ok(Link {
                        association,
                        other,
                        association_type,
                    })
                })();
                match parsed {
                    Ok(link) => {
                        links.push(link);
                        true
                    }
                    Err(error) => {
                        failure = Some(error);
                        false
                    }
                }
            })?;
        failure.map_or(Ok(links), Err)
    }

    fn submission_digest(&self, submission_set_unique_id: &str) -> StoreResult<Option<[u8; 20]>> {
        match self
            .engine
            .get(Table::Meta, &digest_key(submission_set_unique_id))?
        {
            Some(bytes) => {
                Ok(Some(bytes.try_into().map_err(|_| {
                    StoreError::corrupt("digest of the wrong length")
                })?))
            }
            None => Ok(None),
        }
    }

    fn dmp_record(&self, patient: PatientNum) -> StoreResult<Option<DmpRecord>> {
        self.engine
            .get(Table::Patients, &numbered_key(b'P', patient))?
            .map(|bytes| decode_value(&bytes, "DMP record"))
            .transpose()
    }

    fn audit_records(
        &self,
        patient: Option<PatientNum>,
        before: Option<u64>,
        limit: usize,
    ) -> StoreResult<Vec<AuditRecord>> {
        let prefix = patient.unwrap_or(NO_PATIENT).to_be_bytes();
        let before = before.map(|id| audit_key(patient, id));
        let mut records = Vec::new();
        let mut failure = None;
        self.engine.scan_prefix_back(
            Table::Audit,
            &prefix,
            before.as_deref(),
            &mut |_, value| {
                match decode_value(value, "audit record") {
                    Ok(record) => records.push(record),
                    Err(error) => failure = Some(error),
                }
                failure.is_none() && records.len() < limit
            },
        )?;
        failure.map_or(Ok(records), Err)
    }

    fn outbox(&self, limit: usize) -> StoreResult<Vec<AuditRecord>> {
        let mut records = Vec::new();
        let mut failure = None;
        self.engine
            .scan_prefix(Table::Outbox, b"", &mut |_, value| {
                match decode_value(value, "outbox record") {
                    Ok(record) => records.push(record),
                    Err(error) => failure = Some(error),
                }
                failure.is_none() && records.len() < limit
            })?;
        failure.map_or(Ok(records), Err)
    }

    fn next_audit_id(&self) -> StoreResult<u64> {
        match self.engine.get(Table::Meta, NEXT_AUDIT)? {
            Some(bytes) => u64_of(&bytes),
            None => Ok(1),
        }
    }

    fn apply(&self, changes: &ChangeSet, durable: bool) -> StoreResult<()> {
        if changes.is_empty() {
            return Ok(());
        }
        let writes = self.writes_for(changes)?;
        self.engine.write(writes, durable)?;
        if let Some(highest) = changes
            .new_patients
            .iter()
            .map(|(patient, _)| *patient)
            .max()
        {
            self.next_patient.fetch_max(highest + 1, Ordering::SeqCst);
        }
        if !changes.merges.is_empty() {
            let mut merges = self.merges.write().map_err(|_| poisoned())?;
            for (subsumed, surviving) in &changes.merges {
                merges.add(*subsumed, *surviving);
            }
            self.any_merge.store(true, Ordering::Release);
        }
        Ok(())
    }

    fn sync(&self) -> StoreResult<()> {
        self.engine.sync()
    }

    fn stats(&self) -> StoreResult<StoreStats> {
        // The outbox holds what the audit repository has not taken yet: small unless the
        // repository is unreachable; counting stops at a million (the gauge's ceiling).
        let mut outbox_records = 0u64;
        self.engine.scan_prefix(Table::Outbox, b"", &mut |_, _| {
            outbox_records += 1;
            outbox_records < 1_000_000
        })?;
        Ok(StoreStats {
            patients: self.next_patient.load(Ordering::SeqCst).saturating_sub(1),
            approximate_disk_bytes: self.engine.approximate_disk_bytes()?,
            outbox_records,
        })
    }

    fn checkpoint(&self, target: &std::path::Path) -> StoreResult<()> {
        self.engine.checkpoint(target)
    }
}
