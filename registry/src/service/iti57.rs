//! ITI-57 Update Document Set, the availability-status operations (xds-spec-brief.md §6.1
//! operations 2 and 4; dmp-profile.md §6.5-6.6): a request holds one SubmissionSet and
//! UpdateAvailabilityStatus associations from it to objects already registered, each with
//! `OriginalStatus` (the object's current status) and `NewStatus`. The profile says which
//! transitions exist (IHE: Approved <-> Deprecated; fr-dmp: Approved/Archived -> Deleted,
//! Approved <-> Archived), the lifecycle policy who may make them. The SubmissionSet and the
//! associations are stored (FindSubmissionSets shows the change), the targets' statuses change,
//! all in one atomic write; no new version is made.
//!
//! New versions of DocumentEntries and Folders (operations 1 and 3) share the first version's
//! uniqueId and lid. Submitted associations (operation 5) are announced by a SubmitAssociation
//! from the SubmissionSet and link objects already registered.

use std::collections::{HashMap, HashSet};

use xds::XdsErrorCode;
use xds::error::RegistryError;
use xds::model::{AssociationType, AvailabilityStatus, Dtm, Metadata, ObjectId, Uuid};
use xds::validate::Profile;

use super::iti42::{RegisterSettings, check_ins, final_patient, submission_patient};
use crate::store::{ChangeSet, Kind, Located, MetadataStore, Put, StoreError, StoredObject};

/// One status change an ITI-57 request asks for.
#[derive(Debug)]
pub struct StatusChange<'a> {
    pub target: &'a Located,
    pub from: &'a AvailabilityStatus,
    pub to: &'a AvailabilityStatus,
}

/// A change an ITI-57 request asks for, as the lifecycle policy sees it.
#[derive(Debug)]
pub enum LifecycleChange<'a> {
    /// UpdateAvailabilityStatus (DMP deletion, archiving).
    Status(StatusChange<'a>),
    /// A new version replacing `previous` (DMP masking and visibility: a new
    /// confidentialityCode list).
    Version {
        previous: &'a Located,
        next: &'a StoredObject,
    },
}

/// Who may make a lifecycle change. The access policy implements it (the DMP: the author
/// deletes and archives, dmp-profile.md §8 rule 33; masking needs direct authentication,
/// rule 31); an error refuses the request.
pub trait LifecyclePolicy: Send + Sync + std::fmt::Debug {
    fn check(&self, change: &LifecycleChange<'_>) -> Result<(), RegistryError>;
}

/// Allows every change (the registry's own policy; the access policy adds the caller's).
#[derive(Debug, Clone, Copy, Default)]
pub struct AllowAll;

impl LifecyclePolicy for AllowAll {
    fn check(&self, _change: &LifecycleChange<'_>) -> Result<(), RegistryError> {
        Ok(())
    }
}

/// Two policies that must both allow a change: the registry's own, then the one of the
/// transaction's caller (the access policy's, [`crate::access::CallerLifecycle`]).
#[derive(Debug)]
pub struct Both(
    pub std::sync::Arc<dyn LifecyclePolicy>,
    pub std::sync::Arc<dyn LifecyclePolicy>,
);

impl LifecyclePolicy for Both {
    fn check(&self, change: &LifecycleChange<'_>) -> Result<(), RegistryError> {
        self.0.check(change)?;
        self.1.check(change)
    }
}

fn error(code: XdsErrorCode, location: &str, context: String) -> RegistryError {
    RegistryError::error(code, context).at(location.to_owned())
}

fn status_of(object: &StoredObject) -> Option<&AvailabilityStatus> {
    match object {
        StoredObject::DocumentEntry(entry) => entry.availability_status.as_ref(),
        StoredObject::Folder(folder) => folder.availability_status.as_ref(),
        StoredObject::Association(association) => association.availability_status.as_ref(),
        StoredObject::SubmissionSet(set) => set.availability_status.as_ref(),
    }
}

fn set_status(object: &mut StoredObject, status: AvailabilityStatus) {
    match object {
        StoredObject::DocumentEntry(entry) => entry.availability_status = Some(status),
        StoredObject::Folder(folder) => folder.availability_status = Some(status),
        StoredObject::Association(association) => association.availability_status = Some(status),
        StoredObject::SubmissionSet(set) => set.availability_status = Some(status),
    }
}

/// The logical id of a versioned object (a DocumentEntry or Folder; the first version's is its
/// own entryUUID).
fn logical_id(object: &StoredObject) -> Option<Uuid> {
    let (id, lid) = match object {
        StoredObject::DocumentEntry(entry) => (&entry.entry_uuid, &entry.logical_id),
        StoredObject::Folder(folder) => (&folder.entry_uuid, &folder.logical_id),
        _ => return None,
    };
    lid.as_ref().unwrap_or(id).as_uuid()
}

fn version_name(object: &StoredObject) -> Option<&str> {
    match object {
        StoredObject::DocumentEntry(entry) => entry.version.as_deref(),
        StoredObject::Folder(folder) => folder.version.as_deref(),
        _ => None,
    }
}

/// Every version of the logical DocumentEntry or Folder `lid` (the objects of its kind sharing
/// its uniqueId whose lid is `lid`), first version first; empty when `lid` names neither.
pub(crate) fn versions(store: &dyn MetadataStore, lid: &Uuid) -> Result<Vec<Located>, StoreError> {
    let Some(first) = store.object(lid)? else {
        return Ok(Vec::new());
    };
    let kind = first.object.kind();
    if !matches!(kind, Kind::DocumentEntry | Kind::Folder) {
        return Ok(Vec::new());
    }
    let Some(unique_id) = first.object.unique_id().map(str::to_owned) else {
        return Ok(vec![first]);
    };
    let mut found = vec![first];
    for uuid in store.by_unique_id(kind, &unique_id)? {
        if uuid == *lid {
            continue;
        }
        let Some(located) = store.object(&uuid)? else {
            continue;
        };
        if logical_id(&located.object) == Some(*lid) {
            found.push(located);
        }
    }
    found.sort_by_key(version_number);
    Ok(found)
}

fn version_number(located: &Located) -> u64 {
    version_name(&located.object)
        .and_then(|version| version.parse::<u64>().ok())
        .unwrap_or(1)
}

/// The latest version of the logical DocumentEntry or Folder `lid`; `None` when `lid` names
/// neither.
pub(crate) fn latest_version(
    store: &dyn MetadataStore,
    lid: &Uuid,
) -> Result<Option<Located>, StoreError> {
    Ok(versions(store, lid)?.pop())
}

/// Copies, for a new version, the Approved Folder memberships and document relationships of
/// the previous version (ITI-57 association propagation).
fn propagated(
    store: &dyn MetadataStore,
    previous: &Uuid,
    next: &Uuid,
    random: &mut dyn FnMut() -> [u8; 16],
) -> Result<Vec<xds::model::Association>, StoreError> {
    let mut copies = Vec::new();
    for direction in [crate::store::Direction::From, crate::store::Direction::To] {
        for link in store.links(previous, direction)? {
            let Some(Located {
                object: StoredObject::Association(association),
                ..
            }) = store.object(&link.association)?
            else {
                continue;
            };
            if association.availability_status != Some(AvailabilityStatus::Approved) {
                continue;
            }
            let other_kind = store.locate(&link.other)?.map(|(kind, _)| kind);
            let keep = match association.association_type {
                // Folder memberships (of an entry, or of a folder's entries), never a
                // SubmissionSet's.
                AssociationType::HasMember => {
                    matches!(other_kind, Some(Kind::Folder | Kind::DocumentEntry))
                }
                AssociationType::UpdateAvailabilityStatus | AssociationType::SubmitAssociation => {
                    false
                }
                _ => true,
            };
            if !keep {
                continue;
            }
            let mut copy = association.clone();
            copy.entry_uuid = ObjectId::Uuid(Uuid::new_v4(random()));
            if copy.source.as_uuid() == Some(*previous) {
                copy.source = ObjectId::Uuid(*next);
            }
            if copy.target.as_uuid() == Some(*previous) {
                copy.target = ObjectId::Uuid(*next);
            }
            copies.push(copy);
        }
    }
    Ok(copies)
}

/// Why a submitted association (ITI-57 operation 5) may not be registered: its ends exist, are
/// Approved and belong to the SubmissionSet's patient (a Folder membership: Folder to
/// DocumentEntry; a relationship: DocumentEntry to DocumentEntry), and no Approved association
/// of its type links them already.
fn check_submitted(
    store: &dyn MetadataStore,
    association: &xds::model::Association,
    patient: crate::store::PatientNum,
    patient_id: &xds::model::Cx,
    new_versions: &[Uuid],
) -> Result<Option<(XdsErrorCode, String)>, StoreError> {
    let (Some(source), Some(target)) = (association.source.as_uuid(), association.target.as_uuid())
    else {
        return Ok(Some((
            XdsErrorCode::MetadataUpdateError,
            "a submitted association links objects already in the registry (UUIDs)".to_owned(),
        )));
    };
    let expected = match association.association_type {
        AssociationType::HasMember => (Kind::Folder, Kind::DocumentEntry),
        _ => (Kind::DocumentEntry, Kind::DocumentEntry),
    };
    for (end, kind) in [(source, expected.0), (target, expected.1)] {
        if new_versions.contains(&end) {
            continue;
        }
        let Some(located) = store.object(&end)? else {
            return Ok(Some((
                XdsErrorCode::UnresolvedReferenceException,
                format!("{} is not in the registry", end.to_urn()),
            )));
        };
        if located.object.kind() != kind {
            return Ok(Some((
                XdsErrorCode::MetadataUpdateError,
                format!(
                    "{} is a {:?}; a {} links a {kind:?} there",
                    end.to_urn(),
                    located.object.kind(),
                    association.association_type.urn()
                ),
            )));
        }
        if status_of(&located.object) != Some(&AvailabilityStatus::Approved) {
            return Ok(Some((
                XdsErrorCode::MetadataUpdateError,
                format!("{} is not Approved", end.to_urn()),
            )));
        }
        if final_patient(store, located.patient)? != final_patient(store, patient)? {
            return Ok(Some((
                XdsErrorCode::PatientIdDoesNotMatch,
                format!(
                    "{} belongs to another patient than the SubmissionSet's {}",
                    end.to_urn(),
                    patient_id.format()
                ),
            )));
        }
    }
    for link in store.links(&source, crate::store::Direction::From)? {
        if link.other != target || link.association_type != association.association_type {
            continue;
        }
        if let Some(Located {
            object: StoredObject::Association(existing),
            ..
        }) = store.object(&link.association)?
            && existing.availability_status == Some(AvailabilityStatus::Approved)
        {
            return Ok(Some((
                XdsErrorCode::MetadataUpdateError,
                format!(
                    "an Approved {} already links {} to {} ({})",
                    association.association_type.urn(),
                    source.to_urn(),
                    target.to_urn(),
                    link.association.to_urn()
                ),
            )));
        }
    }
    Ok(None)
}

/// The change set of a validated ITI-57 request, or the errors that refuse it.
pub fn update(
    store: &dyn MetadataStore,
    metadata: Metadata,
    profile: &dyn Profile,
    settings: &RegisterSettings,
    random: &mut dyn FnMut() -> [u8; 16],
    now: &Dtm,
) -> Result<Result<ChangeSet, Vec<RegistryError>>, StoreError> {
    let mut errors = Vec::new();
    let Some(mut set) = metadata.submission_sets.into_iter().next() else {
        return Ok(Err(vec![RegistryError::error(
            XdsErrorCode::MetadataUpdateError,
            "an ITI-57 request holds one SubmissionSet",
        )]));
    };
    let set_location = format!("SubmissionSet {}", set.entry_uuid);
    let unique_id = set
        .unique_id
        .as_ref()
        .map(|id| id.as_str().to_owned())
        .unwrap_or_default();
    for kind in [Kind::SubmissionSet, Kind::DocumentEntry, Kind::Folder] {
        if !store.by_unique_id(kind, &unique_id)?.is_empty() {
            errors.push(error(
                XdsErrorCode::DuplicateUniqueIdInRegistry,
                &set_location,
                format!("SubmissionSet uniqueId {unique_id} is already registered"),
            ));
            break;
        }
    }
    let probe = Metadata {
        submission_sets: vec![set.clone()],
        ..Metadata::default()
    };
    check_ins(&probe, &settings.identity, &mut errors);
    let mut changes = ChangeSet::default();
    let patient_id = set.patient_id.clone().unwrap_or_default();
    let patient = submission_patient(
        store,
        &patient_id,
        settings,
        &set_location,
        &mut errors,
        &mut changes,
    )?;
    let set_id = set.entry_uuid.clone();
    let set_uuid = match set.entry_uuid.as_uuid() {
        Some(uuid) => {
            if store.locate(&uuid)?.is_some() {
                errors.push(error(
                    XdsErrorCode::RegistryMetadataError,
                    &set_location,
                    format!("entryUUID {uuid} is already registered"),
                ));
            }
            uuid
        }
        None => Uuid::new_v4(random()),
    };

    let mut targets: HashSet<Uuid> = HashSet::new();
    let mut associations = Vec::new();
    // New DocumentEntry and Folder versions, each with its HasMember from the SubmissionSet
    // (consumed here).
    let mut members: HashSet<ObjectId> = HashSet::new();
    // Request id of each new version -> its entryUUID, kind and whether associations propagate.
    let mut versioned: HashMap<ObjectId, (Uuid, Kind, bool)> = HashMap::new();
    let submitted: Vec<StoredObject> = metadata
        .document_entries
        .into_iter()
        .map(StoredObject::DocumentEntry)
        .chain(metadata.folders.into_iter().map(StoredObject::Folder))
        .collect();
    for mut object in submitted {
        let (entry_uuid, entry_lid) = match &object {
            StoredObject::DocumentEntry(entry) => {
                (entry.entry_uuid.clone(), entry.logical_id.clone())
            }
            StoredObject::Folder(folder) => (folder.entry_uuid.clone(), folder.logical_id.clone()),
            _ => continue,
        };
        let kind_name = match object.kind() {
            Kind::Folder => "Folder",
            _ => "DocumentEntry",
        };
        let location = format!("{kind_name} {entry_uuid}");
        let member = metadata.associations.iter().find(|association| {
            association.association_type == AssociationType::HasMember
                && association.source == set_id
                && association.target == entry_uuid
        });
        let Some(member) = member else {
            errors.push(error(
                XdsErrorCode::MetadataUpdateError,
                &location,
                "a new version needs a HasMember from the SubmissionSet (with its PreviousVersion slot)".to_owned(),
            ));
            continue;
        };
        members.insert(member.entry_uuid.clone());
        let Some(lid) = entry_lid.as_ref().and_then(ObjectId::as_uuid) else {
            errors.push(error(
                XdsErrorCode::MetadataUpdateError,
                &location,
                format!(
                    "an ITI-57 {kind_name} names the logical object it updates in lid (a UUID)"
                ),
            ));
            continue;
        };
        if entry_uuid.as_uuid() == Some(lid) {
            errors.push(error(
                XdsErrorCode::MetadataUpdateError,
                &location,
                "lid equals id: a first version is submitted with ITI-42, not ITI-57".to_owned(),
            ));
            continue;
        }
        if !targets.insert(lid) {
            errors.push(error(
                XdsErrorCode::MetadataUpdateError,
                &location,
                format!("{} is updated twice in one request", lid.to_urn()),
            ));
            continue;
        }
        let Some(latest) =
            latest_version(store, &lid)?.filter(|latest| latest.object.kind() == object.kind())
        else {
            errors.push(error(
                XdsErrorCode::MetadataVersionError,
                &location,
                format!("lid {} names no {kind_name} of the registry", lid.to_urn()),
            ));
            continue;
        };
        let latest_version = version_name(&latest.object).unwrap_or("1").to_owned();
        if member.previous_version.as_deref() != Some(latest_version.as_str()) {
            errors.push(error(
                XdsErrorCode::MetadataVersionError,
                &location,
                format!(
                    "PreviousVersion {} is not the latest version of {} ({latest_version})",
                    member.previous_version.as_deref().unwrap_or("(missing)"),
                    lid.to_urn()
                ),
            ));
            continue;
        }
        let same_kind_of_document = match (&object, &latest.object) {
            (StoredObject::DocumentEntry(next), StoredObject::DocumentEntry(previous)) => {
                next.object_type == previous.object_type
            }
            _ => true,
        };
        if object.unique_id() != latest.object.unique_id() || !same_kind_of_document {
            errors.push(error(
                XdsErrorCode::MetadataUpdateError,
                &location,
                format!("a new version keeps the uniqueId (and a DocumentEntry its objectType) of the {kind_name}"),
            ));
            continue;
        }
        let previous_status = status_of(&latest.object).cloned();
        if previous_status != Some(AvailabilityStatus::Approved) {
            errors.push(error(
                XdsErrorCode::MetadataUpdateError,
                &location,
                format!(
                    "the latest version of {} is {}, not Approved",
                    lid.to_urn(),
                    previous_status
                        .as_ref()
                        .map_or("without status", AvailabilityStatus::urn)
                ),
            ));
            continue;
        }
        if let (StoredObject::DocumentEntry(next), StoredObject::DocumentEntry(previous)) =
            (&object, &latest.object)
            && let Some(reason) = profile.version_change_refused(previous, next)
        {
            errors.push(error(XdsErrorCode::MetadataUpdateError, &location, reason));
            continue;
        }
        if let Err(refusal) = settings.lifecycle.check(&LifecycleChange::Version {
            previous: &latest,
            next: &object,
        }) {
            errors.push(refusal);
            continue;
        }
        let next_version = latest_version
            .parse::<u64>()
            .map_or_else(|_| "2".to_owned(), |number| (number + 1).to_string());
        let new_uuid = match entry_uuid.as_uuid() {
            Some(uuid) if store.locate(&uuid)?.is_some() => {
                errors.push(error(
                    XdsErrorCode::RegistryMetadataError,
                    &location,
                    format!("entryUUID {uuid} is already registered"),
                ));
                continue;
            }
            Some(uuid) => uuid,
            None => Uuid::new_v4(random()),
        };
        let previous_uuid = latest.object.uuid().unwrap_or(lid);
        versioned.insert(
            entry_uuid.clone(),
            (
                new_uuid,
                object.kind(),
                member.association_propagation != Some(false),
            ),
        );
        // The previous version becomes Deprecated; the new one is Approved.
        let mut deprecated = latest.clone();
        set_status(&mut deprecated.object, AvailabilityStatus::Deprecated);
        changes.puts.push(Put {
            patient: deprecated.patient,
            object: deprecated.object,
            is_new: false,
        });
        // Folder memberships and document relationships follow the new version unless the
        // request says AssociationPropagation = no.
        if member.association_propagation != Some(false) {
            for association in propagated(store, &previous_uuid, &new_uuid, random)? {
                changes.puts.push(Put {
                    patient,
                    object: StoredObject::Association(association),
                    is_new: true,
                });
            }
        }
        let mut member = member.clone();
        member.entry_uuid = ObjectId::Uuid(Uuid::new_v4(random()));
        member.source = ObjectId::Uuid(set_uuid);
        member.target = ObjectId::Uuid(new_uuid);
        member.availability_status = Some(AvailabilityStatus::Approved);
        match &mut object {
            StoredObject::DocumentEntry(entry) => {
                entry.entry_uuid = ObjectId::Uuid(new_uuid);
                entry.logical_id = Some(ObjectId::Uuid(lid));
                entry.version = Some(next_version);
            }
            StoredObject::Folder(folder) => {
                folder.entry_uuid = ObjectId::Uuid(new_uuid);
                folder.logical_id = Some(ObjectId::Uuid(lid));
                folder.version = Some(next_version);
                folder.last_update_time = Some(now.clone());
            }
            _ => {}
        }
        set_status(&mut object, AvailabilityStatus::Approved);
        changes.puts.push(Put {
            patient,
            object,
            is_new: true,
        });
        associations.push(member);
    }
    // Associations the SubmissionSet announces with a SubmitAssociation (operation 5), and the
    // UUIDs they get.
    let mut announced: HashMap<ObjectId, Uuid> = HashMap::new();
    for association in &metadata.associations {
        if association.association_type == AssociationType::SubmitAssociation {
            let uuid = association
                .target
                .as_uuid()
                .unwrap_or_else(|| Uuid::new_v4(random()));
            announced.insert(association.target.clone(), uuid);
        }
    }
    // Status changes of associations this request submits, applied once they are built.
    let mut pending: Vec<(Uuid, AvailabilityStatus)> = Vec::new();
    // The versions this request creates: possible ends of the associations it submits.
    let new_ends: Vec<Uuid> = versioned.values().map(|(uuid, _, _)| *uuid).collect();
    for mut association in metadata.associations {
        let location = format!("Association {}", association.entry_uuid);
        if members.contains(&association.entry_uuid) {
            continue;
        }
        if association.association_type == AssociationType::SubmitAssociation {
            let Some(target) = announced.get(&association.target) else {
                continue;
            };
            association.entry_uuid = ObjectId::Uuid(Uuid::new_v4(random()));
            association.source = ObjectId::Uuid(set_uuid);
            association.target = ObjectId::Uuid(*target);
            association.availability_status = Some(AvailabilityStatus::Approved);
            associations.push(association);
            continue;
        }
        if let Some(uuid) = announced.get(&association.entry_uuid).copied() {
            // An end may be a version this request creates: then it is new, Approved and the
            // SubmissionSet's patient's, but it must not also inherit associations (CP-ITI-1029).
            let mut propagating = false;
            for end in [&mut association.source, &mut association.target] {
                if let Some((new_uuid, _, propagates)) = versioned.get(end) {
                    propagating |= *propagates;
                    *end = ObjectId::Uuid(*new_uuid);
                }
            }
            if propagating {
                errors.push(error(
                    XdsErrorCode::MetadataUpdateOperationError,
                    &location,
                    "a submitted association ends at a version made with AssociationPropagation; send AssociationPropagation = no with a manual association".to_owned(),
                ));
                continue;
            }
            if let Some(refusal) =
                check_submitted(store, &association, patient, &patient_id, &new_ends)?
            {
                errors.push(error(refusal.0, &location, refusal.1));
                continue;
            }
            association.entry_uuid = ObjectId::Uuid(uuid);
            association.availability_status = Some(AvailabilityStatus::Approved);
            associations.push(association);
            continue;
        }
        if association.association_type != AssociationType::UpdateAvailabilityStatus {
            errors.push(error(
                XdsErrorCode::MetadataUpdateError,
                &location,
                format!(
                    "a {} in ITI-57 is announced by a SubmitAssociation from the SubmissionSet",
                    association.association_type.urn()
                ),
            ));
            continue;
        }
        // The structural checks made sure of the form: source = the SubmissionSet, target a
        // UUID or an association of the request, both statuses present and different.
        let (Some(from), Some(to)) = (
            association.original_status.clone(),
            association.new_status.clone(),
        ) else {
            continue;
        };
        if let Some(submitted) = announced.get(&association.target).copied() {
            // The status of an association this request submits (it starts Approved).
            if from != AvailabilityStatus::Approved || !profile.status_change_allowed(&from, &to) {
                errors.push(error(
                    XdsErrorCode::MetadataUpdateError,
                    &location,
                    format!(
                        "a submitted association starts Approved; {} -> {} is not a transition of the {} profile",
                        from.urn(),
                        to.urn(),
                        profile.name()
                    ),
                ));
                continue;
            }
            pending.push((submitted, to));
            association.entry_uuid = ObjectId::Uuid(Uuid::new_v4(random()));
            association.source = ObjectId::Uuid(set_uuid);
            association.target = ObjectId::Uuid(submitted);
            association.availability_status = Some(AvailabilityStatus::Approved);
            associations.push(association);
            continue;
        }
        let Some(target_uuid) = association.target.as_uuid() else {
            errors.push(error(
                XdsErrorCode::MetadataUpdateError,
                &location,
                format!(
                    "the targetObject {} is neither in the registry nor an association this request submits",
                    association.target
                ),
            ));
            continue;
        };
        if !targets.insert(target_uuid) {
            errors.push(error(
                XdsErrorCode::MetadataUpdateError,
                &location,
                format!(
                    "{} is the target of two status changes in one request",
                    target_uuid.to_urn()
                ),
            ));
            continue;
        }
        let Some(mut target) = store.object(&target_uuid)? else {
            errors.push(error(
                XdsErrorCode::UnresolvedReferenceException,
                &location,
                format!("{} is not in the registry", target_uuid.to_urn()),
            ));
            continue;
        };
        let kind = target.object.kind();
        let allowed_kind = match &target.object {
            StoredObject::DocumentEntry(_) | StoredObject::Folder(_) => true,
            StoredObject::Association(existing) => {
                // Never a SubmissionSet's HasMember (its status follows the set's).
                !(existing.association_type == AssociationType::HasMember
                    && existing
                        .source
                        .as_uuid()
                        .map(|source| store.locate(&source))
                        .transpose()?
                        .flatten()
                        .is_some_and(|(kind, _)| kind == Kind::SubmissionSet))
            }
            StoredObject::SubmissionSet(_) => false,
        };
        if !allowed_kind {
            errors.push(error(
                XdsErrorCode::MetadataUpdateError,
                &location,
                format!(
                    "the status of a {kind:?} ({}) cannot be updated",
                    target_uuid.to_urn()
                ),
            ));
            continue;
        }
        if kind != Kind::Association
            && final_patient(store, target.patient)? != final_patient(store, patient)?
        {
            errors.push(error(
                XdsErrorCode::PatientIdDoesNotMatch,
                &location,
                format!(
                    "{} belongs to another patient than the SubmissionSet's {}",
                    target_uuid.to_urn(),
                    patient_id.format()
                ),
            ));
            continue;
        }
        if let StoredObject::DocumentEntry(entry) = &target.object
            && let Some(lid) = entry.logical_id.as_ref().and_then(ObjectId::as_uuid)
            && latest_version(store, &lid)?.and_then(|latest| latest.object.uuid())
                != Some(target_uuid)
        {
            errors.push(error(
                XdsErrorCode::MetadataUpdateError,
                &location,
                format!(
                    "{} is not the latest version of its document; status changes apply to the latest",
                    target_uuid.to_urn()
                ),
            ));
            continue;
        }
        let current = status_of(&target.object).cloned();
        if current.as_ref() != Some(&from) {
            errors.push(error(
                XdsErrorCode::MetadataUpdateError,
                &location,
                format!(
                    "OriginalStatus {} is not the current status of {} ({})",
                    from.urn(),
                    target_uuid.to_urn(),
                    current.as_ref().map_or("none", AvailabilityStatus::urn)
                ),
            ));
            continue;
        }
        if !profile.status_change_allowed(&from, &to) {
            errors.push(error(
                XdsErrorCode::MetadataUpdateError,
                &location,
                format!(
                    "the {} profile has no transition from {} to {}",
                    profile.name(),
                    from.urn(),
                    to.urn()
                ),
            ));
            continue;
        }
        if let Err(refusal) = settings
            .lifecycle
            .check(&LifecycleChange::Status(StatusChange {
                target: &target,
                from: &from,
                to: &to,
            }))
        {
            errors.push(refusal);
            continue;
        }
        set_status(&mut target.object, to);
        changes.puts.push(Put {
            patient: target.patient,
            object: target.object,
            is_new: false,
        });
        association.entry_uuid = match association.entry_uuid.as_uuid() {
            Some(uuid) if store.locate(&uuid)?.is_none() => ObjectId::Uuid(uuid),
            Some(uuid) => {
                errors.push(error(
                    XdsErrorCode::RegistryMetadataError,
                    &location,
                    format!("entryUUID {uuid} is already registered"),
                ));
                continue;
            }
            None => ObjectId::Uuid(Uuid::new_v4(random())),
        };
        if association.source == set_id {
            association.source = ObjectId::Uuid(set_uuid);
        }
        association.availability_status = Some(AvailabilityStatus::Approved);
        associations.push(association);
    }
    if !errors.is_empty() {
        return Ok(Err(errors));
    }
    for (uuid, status) in pending {
        for association in &mut associations {
            if association.entry_uuid.as_uuid() == Some(uuid) {
                association.availability_status = Some(status.clone());
            }
        }
    }
    set.entry_uuid = ObjectId::Uuid(set_uuid);
    set.availability_status = Some(AvailabilityStatus::Approved);
    changes.puts.push(Put {
        patient,
        object: StoredObject::SubmissionSet(set),
        is_new: true,
    });
    for association in associations {
        changes.puts.push(Put {
            patient,
            object: StoredObject::Association(association),
            is_new: true,
        });
    }
    Ok(Ok(changes))
}
