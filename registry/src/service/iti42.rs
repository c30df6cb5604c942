//! ITI-42 Register Document Set-b: the registry's checks that need its state, and the effects of
//! a submission, computed as one [`ChangeSet`] (xds-spec-brief.md §3.6, §3.8, §3.9).
//!
//! Runs in the single writer (see `service::writer`), so what it reads is every committed
//! submission plus those applied earlier in the same group.

use std::collections::HashMap;
use std::sync::Arc;

use xds::XdsErrorCode;
use xds::error::RegistryError;
use xds::model::{
    Association, AssociationType, AvailabilityStatus, Cx, DocumentEntry, Dtm, Metadata, ObjectId,
    SubmissionSetStatus, Uuid,
};

use crate::identity::IdentityPolicy;
use crate::store::{
    ChangeSet, Direction, Kind, Located, MetadataStore, PatientNum, Put, StoreError, StoredObject,
};

/// Settings of the ITI-42 service.
#[derive(Debug, Clone)]
pub struct RegisterSettings {
    /// Refuse submissions for patient ids the registry does not know (XDSUnknownPatientId).
    /// Off only for tests and migrations; identity feeds register patients.
    pub require_known_patient: bool,
    /// The INS checks and the affinity domain: an INS with a bad key or of a refused kind is
    /// an XDSRegistryMetadataError naming the value.
    pub identity: Arc<IdentityPolicy>,
    /// Who may make ITI-57 changes, whoever the caller (the access policy adds the caller's
    /// rules per request: the author deletes, masking needs DIRECTE, ...).
    pub lifecycle: Arc<dyn super::iti57::LifecyclePolicy>,
}

impl Default for RegisterSettings {
    fn default() -> Self {
        Self {
            require_known_patient: true,
            identity: Arc::new(IdentityPolicy::default()),
            lifecycle: Arc::new(super::iti57::AllowAll),
        }
    }
}

/// Why a submission was not registered.
#[derive(Debug)]
pub enum RegisterError {
    /// The submission breaks rules: the errors to report, nothing was stored.
    Rejected(Vec<RegistryError>),
    /// Storage failed.
    Store(StoreError),
}

impl From<StoreError> for RegisterError {
    fn from(error: StoreError) -> Self {
        Self::Store(error)
    }
}

/// What registering produced.
#[derive(Debug)]
pub enum Registered {
    /// New objects and effects to apply.
    Changes(ChangeSet),
    /// The same submission was registered before (a retry): nothing to do, answer Success.
    AlreadyRegistered,
}

fn error(
    code: XdsErrorCode,
    location: impl Into<String>,
    context: impl Into<String>,
) -> RegistryError {
    RegistryError::error(code, context).at(location.into())
}

/// Where an association end is.
#[derive(Debug, Clone)]
enum End {
    /// An object of this submission.
    Local(Kind, usize),
    /// An object already in the registry.
    Existing(Located),
}

impl End {
    fn kind(&self) -> Kind {
        match self {
            Self::Local(kind, _) => *kind,
            Self::Existing(located) => located.object.kind(),
        }
    }
}

/// Computes the change set of a structurally valid submission (`xds::validate` passed).
/// `random` supplies 16 random bytes per new UUID; `now` is the registry's clock.
pub fn register(
    store: &dyn MetadataStore,
    mut metadata: Metadata,
    digest: [u8; 20],
    settings: &RegisterSettings,
    random: &mut dyn FnMut() -> [u8; 16],
    now: &Dtm,
) -> Result<Registered, RegisterError> {
    let mut errors = Vec::new();
    let Some(set) = metadata.submission_sets.first() else {
        return Err(RegisterError::Rejected(vec![RegistryError::error(
            XdsErrorCode::RegistryMetadataError,
            "no SubmissionSet",
        )]));
    };
    let set_location = format!("SubmissionSet {}", set.entry_uuid);
    let patient_id: Cx = set.patient_id.clone().unwrap_or_default();
    let set_unique_id = set
        .unique_id
        .as_ref()
        .map(|id| id.as_str().to_owned())
        .unwrap_or_default();

    // A retry of a submission already registered answers the same: Success, nothing new.
    if !store
        .by_unique_id(Kind::SubmissionSet, &set_unique_id)?
        .is_empty()
    {
        if store.submission_digest(&set_unique_id)? == Some(digest) {
            return Ok(Registered::AlreadyRegistered);
        }
        errors.push(error(
            XdsErrorCode::DuplicateUniqueIdInRegistry,
            &set_location,
            format!("SubmissionSet uniqueId {set_unique_id} is already registered"),
        ));
    }
    for kind in [Kind::DocumentEntry, Kind::Folder] {
        if !store.by_unique_id(kind, &set_unique_id)?.is_empty() {
            errors.push(error(
                XdsErrorCode::DuplicateUniqueIdInRegistry,
                &set_location,
                format!(
                    "SubmissionSet uniqueId {set_unique_id} is already the uniqueId of a {kind:?}"
                ),
            ));
        }
    }

    // An INS must be well formed and of a kind this deployment accepts (dmp-profile.md §1).
    check_ins(&metadata, &settings.identity, &mut errors);

    // The patient must be known from the identity feed, and not merged into another id.
    let mut changes = ChangeSet::default();
    let patient = submission_patient(
        store,
        &patient_id,
        settings,
        &set_location,
        &mut errors,
        &mut changes,
    )?;

    // Submitted UUIDs must be new; Folder uniqueIds must be new; DocumentEntry uniqueIds may be
    // registered again only for the same document.
    let submitted_ids: Vec<(String, ObjectId)> = metadata
        .document_entries
        .iter()
        .map(|entry| {
            (
                format!("DocumentEntry {}", entry.entry_uuid),
                entry.entry_uuid.clone(),
            )
        })
        .chain(metadata.submission_sets.iter().map(|set| {
            (
                format!("SubmissionSet {}", set.entry_uuid),
                set.entry_uuid.clone(),
            )
        }))
        .chain(metadata.folders.iter().map(|folder| {
            (
                format!("Folder {}", folder.entry_uuid),
                folder.entry_uuid.clone(),
            )
        }))
        .chain(metadata.associations.iter().map(|association| {
            (
                format!("Association {}", association.entry_uuid),
                association.entry_uuid.clone(),
            )
        }))
        .collect();
    for (location, id) in &submitted_ids {
        if let Some(uuid) = id.as_uuid()
            && store.locate(&uuid)?.is_some()
        {
            errors.push(error(
                XdsErrorCode::RegistryMetadataError,
                location,
                format!("entryUUID {uuid} is already registered"),
            ));
        }
    }
    for folder in &metadata.folders {
        let unique_id = folder
            .unique_id
            .as_ref()
            .map(|id| id.as_str())
            .unwrap_or_default();
        for kind in [Kind::Folder, Kind::SubmissionSet, Kind::DocumentEntry] {
            if !store.by_unique_id(kind, unique_id)?.is_empty() {
                errors.push(error(
                    XdsErrorCode::DuplicateUniqueIdInRegistry,
                    format!("Folder {}", folder.entry_uuid),
                    format!("Folder uniqueId {unique_id} is already registered"),
                ));
                break;
            }
        }
    }
    for entry in &metadata.document_entries {
        let unique_id = entry
            .unique_id
            .as_ref()
            .map(|id| id.as_str())
            .unwrap_or_default();
        for uuid in store.by_unique_id(Kind::DocumentEntry, unique_id)? {
            let Some(Located {
                object: StoredObject::DocumentEntry(existing),
                ..
            }) = store.object(&uuid)?
            else {
                continue;
            };
            let location = format!("DocumentEntry {}", entry.entry_uuid);
            if existing.hash != entry.hash {
                errors.push(error(
                    XdsErrorCode::NonIdenticalHash,
                    &location,
                    unique_id.to_owned(),
                ));
                break;
            }
            if existing.size != entry.size {
                errors.push(error(
                    XdsErrorCode::NonIdenticalSize,
                    &location,
                    unique_id.to_owned(),
                ));
                break;
            }
        }
    }

    // Symbolic ids become UUIDs (the same symbol, the same UUID).
    let mut assigned: HashMap<String, Uuid> = HashMap::new();
    let mut assign = |id: &mut ObjectId| {
        if let ObjectId::Symbolic(symbol) = id {
            let uuid = *assigned
                .entry(symbol.clone())
                .or_insert_with(|| Uuid::new_v4(random()));
            *id = ObjectId::Uuid(uuid);
        }
    };
    for entry in &mut metadata.document_entries {
        assign(&mut entry.entry_uuid);
    }
    for set in &mut metadata.submission_sets {
        assign(&mut set.entry_uuid);
    }
    for folder in &mut metadata.folders {
        assign(&mut folder.entry_uuid);
    }
    for association in &mut metadata.associations {
        assign(&mut association.entry_uuid);
    }
    // References: symbolic ones were all checked to name objects of the submission.
    for association in &mut metadata.associations {
        for end in [&mut association.source, &mut association.target] {
            if let ObjectId::Symbolic(symbol) = end
                && let Some(uuid) = assigned.get(symbol.as_str())
            {
                *end = ObjectId::Uuid(*uuid);
            }
        }
    }

    // Index the submission's objects by UUID.
    let mut locals: HashMap<Uuid, (Kind, usize)> = HashMap::new();
    for (index, entry) in metadata.document_entries.iter().enumerate() {
        if let Some(uuid) = entry.entry_uuid.as_uuid() {
            locals.insert(uuid, (Kind::DocumentEntry, index));
        }
    }
    for (index, folder) in metadata.folders.iter().enumerate() {
        if let Some(uuid) = folder.entry_uuid.as_uuid() {
            locals.insert(uuid, (Kind::Folder, index));
        }
    }
    for (index, association) in metadata.associations.iter().enumerate() {
        if let Some(uuid) = association.entry_uuid.as_uuid() {
            locals.insert(uuid, (Kind::Association, index));
        }
    }
    let set_uuid = metadata.submission_sets[0]
        .entry_uuid
        .as_uuid()
        .unwrap_or(Uuid::from_bytes([0; 16]));
    locals.insert(set_uuid, (Kind::SubmissionSet, 0));

    let resolve = |uuid: &ObjectId| -> Result<Option<End>, StoreError> {
        let Some(uuid) = uuid.as_uuid() else {
            return Ok(None);
        };
        if let Some((kind, index)) = locals.get(&uuid) {
            return Ok(Some(End::Local(*kind, *index)));
        }
        Ok(store.object(&uuid)?.map(End::Existing))
    };

    let mut updated: HashMap<Uuid, Located> = HashMap::new();
    let mut touched_folders: Vec<Uuid> = Vec::new();
    let mut new_associations: Vec<Association> = Vec::new();
    let local_entry_patient = |index: usize| metadata.document_entries[index].patient_id.clone();

    for association in &metadata.associations {
        let location = format!("Association {}", association.entry_uuid);
        let source = resolve(&association.source)?;
        let target = resolve(&association.target)?;
        let (Some(source), Some(target)) = (source, target) else {
            let missing = if resolve(&association.source)?.is_none() {
                &association.source
            } else {
                &association.target
            };
            errors.push(error(
                XdsErrorCode::UnresolvedReferenceException,
                &location,
                format!("{missing} is neither in the submission nor in the registry"),
            ));
            continue;
        };
        match association.association_type {
            AssociationType::HasMember => match (&source, &target) {
                (End::Local(Kind::SubmissionSet, _), End::Local(..)) => {}
                (End::Local(Kind::SubmissionSet, _), End::Existing(existing)) => {
                    // By reference: an existing DocumentEntry (patient may differ).
                    if existing.object.kind() != Kind::DocumentEntry {
                        errors.push(error(
                            XdsErrorCode::RegistryMetadataError,
                            &location,
                            format!("a SubmissionSet can reference an existing DocumentEntry only, not a {:?}", existing.object.kind()),
                        ));
                    } else if association.submission_set_status
                        != Some(SubmissionSetStatus::Reference)
                    {
                        errors.push(error(
                            XdsErrorCode::RegistryMetadataError,
                            &location,
                            "a HasMember to an existing DocumentEntry needs SubmissionSetStatus Reference",
                        ));
                    }
                }
                (source_end, target_end)
                    if source_end.kind() == Kind::Folder
                        && target_end.kind() == Kind::DocumentEntry =>
                {
                    let folder_patient = match source_end {
                        End::Local(_, index) => metadata.folders[*index].patient_id.clone(),
                        End::Existing(existing) => {
                            check_approved(&mut errors, &location, existing, "Folder");
                            existing.object.patient_id().cloned()
                        }
                    };
                    let entry_patient = match target_end {
                        End::Local(_, index) => local_entry_patient(*index),
                        End::Existing(existing) => {
                            check_approved(&mut errors, &location, existing, "DocumentEntry");
                            existing.object.patient_id().cloned()
                        }
                    };
                    if end_patient(store, source_end, patient)?
                        != end_patient(store, target_end, patient)?
                    {
                        errors.push(error(
                            XdsErrorCode::PatientIdDoesNotMatch,
                            &location,
                            format!(
                                "Folder patientId {} and DocumentEntry patientId {} differ",
                                folder_patient.map(|cx| cx.format()).unwrap_or_default(),
                                entry_patient.map(|cx| cx.format()).unwrap_or_default()
                            ),
                        ));
                    }
                    if let (End::Existing(existing), Some(uuid)) =
                        (source_end, association.source.as_uuid())
                    {
                        updated.entry(uuid).or_insert_with(|| existing.clone());
                        touched_folders.push(uuid);
                    }
                }
                (End::Existing(existing), _) if existing.object.kind() == Kind::SubmissionSet => {
                    errors.push(error(
                        XdsErrorCode::RegistryMetadataError,
                        &location,
                        "no new association may start at an existing SubmissionSet",
                    ))
                }
                _ => errors.push(error(
                    XdsErrorCode::RegistryMetadataError,
                    &location,
                    format!(
                        "a HasMember from a {:?} to a {:?} is not an XDS membership",
                        source.kind(),
                        target.kind()
                    ),
                )),
            },
            kind => {
                let End::Local(Kind::DocumentEntry, source_index) = source else {
                    errors.push(error(
                        XdsErrorCode::UnresolvedReferenceException,
                        &location,
                        "the source of a document relationship must be a DocumentEntry of the submission",
                    ));
                    continue;
                };
                match &target {
                    End::Local(Kind::SubmissionSet, _) if kind == AssociationType::Signs => {}
                    End::Local(Kind::DocumentEntry, _)
                        if !kind.replaces() && kind != AssociationType::IsSnapshotOf => {}
                    End::Existing(existing) if existing.object.kind() == Kind::DocumentEntry => {
                        let target_patient = existing.object.patient_id().cloned();
                        if !check_approved_document(&mut errors, &location, existing) {
                            continue;
                        }
                        if end_patient(store, &target, patient)? != patient {
                            errors.push(error(
                                XdsErrorCode::PatientIdDoesNotMatch,
                                &location,
                                format!(
                                    "the {} target's patientId {} differs from the DocumentEntry's {}",
                                    kind.urn(),
                                    target_patient.map(|cx| cx.format()).unwrap_or_default(),
                                    local_entry_patient(source_index).map(|cx| cx.format()).unwrap_or_default()
                                ),
                            ));
                            continue;
                        }
                        if kind.replaces() {
                            replace(
                                store,
                                patient,
                                &mut errors,
                                &location,
                                existing,
                                &metadata.document_entries[source_index],
                                set_uuid,
                                &mut updated,
                                &mut touched_folders,
                                &mut new_associations,
                                random,
                            )?;
                        }
                    }
                    _ => errors.push(error(
                        XdsErrorCode::UnresolvedReferenceException,
                        &location,
                        format!(
                            "the target of a {} association must be an existing DocumentEntry",
                            kind.urn()
                        ),
                    )),
                }
            }
        }
    }
    if !errors.is_empty() {
        return Err(RegisterError::Rejected(errors));
    }

    // Every new object is Approved; Folders get their lastUpdateTime; all filed under the patient.
    // DocumentEntries and Folders are version 1 of a logical object named by their entryUUID
    // (Metadata Update: the first version has lid = id).
    for entry in &mut metadata.document_entries {
        entry.availability_status = Some(AvailabilityStatus::Approved);
        entry.logical_id = Some(entry.entry_uuid.clone());
        entry.version = Some("1".to_owned());
    }
    for set in &mut metadata.submission_sets {
        set.availability_status = Some(AvailabilityStatus::Approved);
    }
    for folder in &mut metadata.folders {
        folder.availability_status = Some(AvailabilityStatus::Approved);
        folder.last_update_time = Some(now.clone());
        folder.logical_id = Some(folder.entry_uuid.clone());
        folder.version = Some("1".to_owned());
    }
    for association in metadata
        .associations
        .iter_mut()
        .chain(new_associations.iter_mut())
    {
        association.availability_status = Some(AvailabilityStatus::Approved);
    }
    for uuid in touched_folders {
        if let Some(Located {
            object: StoredObject::Folder(folder),
            ..
        }) = updated.get_mut(&uuid)
        {
            folder.last_update_time = Some(now.clone());
        }
    }
    changes
        .puts
        .extend(metadata.submission_sets.into_iter().map(|set| Put {
            patient,
            object: StoredObject::SubmissionSet(set),
            is_new: true,
        }));
    changes
        .puts
        .extend(metadata.document_entries.into_iter().map(|entry| Put {
            patient,
            object: StoredObject::DocumentEntry(entry),
            is_new: true,
        }));
    changes
        .puts
        .extend(metadata.folders.into_iter().map(|folder| Put {
            patient,
            object: StoredObject::Folder(folder),
            is_new: true,
        }));
    changes.puts.extend(
        metadata
            .associations
            .into_iter()
            .chain(new_associations)
            .map(|association| Put {
                patient,
                object: StoredObject::Association(association),
                is_new: true,
            }),
    );
    changes
        .puts
        .extend(updated.into_values().map(|located| Put {
            patient: located.patient,
            object: located.object,
            is_new: false,
        }));
    changes.submission_digest = Some((set_unique_id, digest));
    Ok(Registered::Changes(changes))
}

fn status_of(object: &StoredObject) -> Option<&AvailabilityStatus> {
    match object {
        StoredObject::DocumentEntry(entry) => entry.availability_status.as_ref(),
        StoredObject::SubmissionSet(set) => set.availability_status.as_ref(),
        StoredObject::Folder(folder) => folder.availability_status.as_ref(),
        StoredObject::Association(association) => association.availability_status.as_ref(),
    }
}

fn check_approved(errors: &mut Vec<RegistryError>, location: &str, existing: &Located, what: &str) {
    if status_of(&existing.object) != Some(&AvailabilityStatus::Approved) {
        let code = if existing.object.kind() == Kind::DocumentEntry {
            XdsErrorCode::RegistryDeprecatedDocumentError
        } else {
            XdsErrorCode::RegistryMetadataError
        };
        errors.push(error(
            code,
            location,
            format!(
                "the {what} {} is not Approved",
                existing
                    .object
                    .uuid()
                    .map(|uuid| uuid.to_string())
                    .unwrap_or_default()
            ),
        ));
    }
}

/// A relationship's existing target must be Approved; returns whether it is.
fn check_approved_document(
    errors: &mut Vec<RegistryError>,
    location: &str,
    existing: &Located,
) -> bool {
    let approved = status_of(&existing.object) == Some(&AvailabilityStatus::Approved);
    if !approved {
        errors.push(error(
            XdsErrorCode::RegistryDeprecatedDocumentError,
            location,
            format!(
                "the target DocumentEntry {} is {}",
                existing
                    .object
                    .uuid()
                    .map(|uuid| uuid.to_string())
                    .unwrap_or_default(),
                status_of(&existing.object)
                    .map(|status| status.urn().to_owned())
                    .unwrap_or_default()
            ),
        ));
    }
    approved
}

/// RPLC / XFRM_RPLC effects (TF-3 4.2.2.2.1): the replaced entry and its transformations and
/// addenda become Deprecated, and each Approved Folder holding it gets the replacement too.
#[allow(clippy::too_many_arguments)] // one call site; the pieces are the submission's state
fn replace(
    store: &dyn MetadataStore,
    patient: PatientNum,
    errors: &mut Vec<RegistryError>,
    location: &str,
    replaced: &Located,
    replacement: &DocumentEntry,
    set_uuid: Uuid,
    updated: &mut HashMap<Uuid, Located>,
    touched_folders: &mut Vec<Uuid>,
    new_associations: &mut Vec<Association>,
    random: &mut dyn FnMut() -> [u8; 16],
) -> Result<(), StoreError> {
    let Some(replaced_uuid) = replaced.object.uuid() else {
        return Ok(());
    };
    let Some(replacement_uuid) = replacement.entry_uuid.as_uuid() else {
        return Ok(());
    };
    deprecate(updated, replaced.clone());
    for link in store.links(&replaced_uuid, Direction::To)? {
        match link.association_type {
            AssociationType::Transform | AssociationType::Append => {
                if let Some(child) = store.object(&link.other)?
                    && status_of(&child.object) == Some(&AvailabilityStatus::Approved)
                {
                    deprecate(updated, child);
                }
            }
            AssociationType::HasMember => {
                let Some(folder) = store.object(&link.other)? else {
                    continue;
                };
                if folder.object.kind() != Kind::Folder
                    || status_of(&folder.object) != Some(&AvailabilityStatus::Approved)
                {
                    continue;
                }
                if final_patient(store, folder.patient)? != patient {
                    errors.push(error(
                        XdsErrorCode::PatientIdDoesNotMatch,
                        location,
                        format!(
                            "the replacement's patientId differs from Folder {}'s",
                            link.other
                        ),
                    ));
                    continue;
                }
                let member_uuid = Uuid::new_v4(random());
                new_associations.push(Association::new(
                    ObjectId::Uuid(member_uuid),
                    AssociationType::HasMember,
                    ObjectId::Uuid(link.other),
                    ObjectId::Uuid(replacement_uuid),
                ));
                new_associations.push(Association::new(
                    ObjectId::Uuid(Uuid::new_v4(random())),
                    AssociationType::HasMember,
                    ObjectId::Uuid(set_uuid),
                    ObjectId::Uuid(member_uuid),
                ));
                updated.entry(link.other).or_insert(folder);
                touched_folders.push(link.other);
            }
            _ => {}
        }
    }
    Ok(())
}

fn deprecate(updated: &mut HashMap<Uuid, Located>, located: Located) {
    let Some(uuid) = located.object.uuid() else {
        return;
    };
    let entry = updated.entry(uuid).or_insert(located);
    if let StoredObject::DocumentEntry(document) = &mut entry.object {
        document.availability_status = Some(AvailabilityStatus::Deprecated);
    }
}

/// The patient an object is filed under once merges are followed.
/// The number of a submission's patient: known from the identity feed and not merged into
/// another id (XDSUnknownPatientId otherwise, reported in `errors`), or, when unknown patients
/// are allowed, a new number recorded in `changes`.
pub(crate) fn submission_patient(
    store: &dyn MetadataStore,
    patient_id: &Cx,
    settings: &RegisterSettings,
    location: &str,
    errors: &mut Vec<RegistryError>,
    changes: &mut ChangeSet,
) -> Result<PatientNum, StoreError> {
    Ok(match store.patient(patient_id)? {
        Some(patient) => {
            if let Some(into) = store.surviving_id(patient)? {
                let into = into.format();
                errors.push(error(
                    XdsErrorCode::UnknownPatientId,
                    location,
                    format!(
                        "{} was merged into {into}; submit under the surviving id",
                        patient_id.format()
                    ),
                ));
            }
            patient
        }
        None if settings.require_known_patient => {
            errors.push(error(
                XdsErrorCode::UnknownPatientId,
                location,
                patient_id.format(),
            ));
            0
        }
        None => {
            let patient = store.next_patient_num()?;
            changes.new_patients.push((patient, patient_id.clone()));
            patient
        }
    })
}

pub(crate) fn final_patient(
    store: &dyn MetadataStore,
    patient: PatientNum,
) -> Result<PatientNum, StoreError> {
    Ok(store.surviving(patient)?.unwrap_or(patient))
}

/// The patient of an association end: the submission's for its own objects (they all carry
/// the SubmissionSet's patientId), the merge-resolved one for objects already registered.
fn end_patient(
    store: &dyn MetadataStore,
    end: &End,
    submission_patient: PatientNum,
) -> Result<PatientNum, StoreError> {
    match end {
        End::Local(..) => Ok(submission_patient),
        End::Existing(located) => final_patient(store, located.patient),
    }
}

/// Reports each INS of the submission that the policy refuses, once per value, at the first
/// object carrying it: patientIds everywhere, and sourcePatientIds that are INS.
pub(crate) fn check_ins(
    metadata: &Metadata,
    policy: &IdentityPolicy,
    errors: &mut Vec<RegistryError>,
) {
    let mut reported: Vec<&Cx> = Vec::new();
    let ids = metadata
        .submission_sets
        .iter()
        .map(|set| {
            (
                format!("SubmissionSet {}", set.entry_uuid),
                set.patient_id.as_ref(),
            )
        })
        .chain(metadata.document_entries.iter().flat_map(|entry| {
            let location = format!("DocumentEntry {}", entry.entry_uuid);
            [
                (location.clone(), entry.patient_id.as_ref()),
                (location, entry.source_patient_id.as_ref()),
            ]
        }))
        .chain(metadata.folders.iter().map(|folder| {
            (
                format!("Folder {}", folder.entry_uuid),
                folder.patient_id.as_ref(),
            )
        }));
    for (location, id) in ids {
        let Some(id) = id else { continue };
        if reported.contains(&id) {
            continue;
        }
        if let Err(refused) = policy.ins.check(id) {
            reported.push(id);
            errors.push(error(
                XdsErrorCode::RegistryMetadataError,
                location,
                refused.to_string(),
            ));
        }
    }
}

/// Registers patient ids directly (operator command and tests, until the identity feed).
/// Runs in the writer (or on a store nobody else writes); `durable` syncs before returning.
pub fn add_patients(
    store: &dyn MetadataStore,
    ids: &[Cx],
    durable: bool,
) -> Result<Vec<PatientNum>, StoreError> {
    let mut changes = ChangeSet::default();
    let mut next = store.next_patient_num()?;
    let mut numbers = Vec::new();
    for id in ids {
        match store.patient(id)? {
            Some(existing) => numbers.push(existing),
            None => {
                if let Some((number, _)) = changes
                    .new_patients
                    .iter()
                    .find(|(_, pending)| pending == id)
                {
                    numbers.push(*number);
                    continue;
                }
                changes.new_patients.push((next, id.clone()));
                numbers.push(next);
                next += 1;
            }
        }
    }
    store.apply(&changes, durable)?;
    Ok(numbers)
}
