//! ITI-57 Update Document Set, the availability-status operations (xds-spec-brief.md §6.1
//! operations 2 and 4; dmp-profile.md §6.5-6.6): a request holds one SubmissionSet and
//! UpdateAvailabilityStatus associations from it to objects already registered, each with
//! `OriginalStatus` (the object's current status) and `NewStatus`. The profile says which
//! transitions exist (IHE: Approved <-> Deprecated; fr-dmp: Approved/Archived -> Deleted,
//! Approved <-> Archived), the lifecycle policy who may make them. The SubmissionSet and the
//! associations are stored (FindSubmissionSets shows the change), the targets' statuses change,
//! all in one atomic write; no new version is made.
//!
//! New metadata versions of DocumentEntries and Folders and submitted associations (operations
//! 1, 3 and 5) are refused with XDSMetadataUpdateError until they are implemented.

use std::collections::HashSet;

use xds::XdsErrorCode;
use xds::error::RegistryError;
use xds::model::{AssociationType, AvailabilityStatus, Metadata, ObjectId, Uuid};
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

/// Who may change an object's availability status. The access policy implements it (the DMP:
/// the author deletes and archives, dmp-profile.md §8 rule 33); an error refuses the request.
pub trait LifecyclePolicy: Send + Sync + std::fmt::Debug {
    fn check(&self, change: &StatusChange<'_>) -> Result<(), RegistryError>;
}

/// Allows every change (until the access policy exists).
#[derive(Debug, Clone, Copy, Default)]
pub struct AllowAll;

impl LifecyclePolicy for AllowAll {
    fn check(&self, _change: &StatusChange<'_>) -> Result<(), RegistryError> {
        Ok(())
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

/// Every version of the logical DocumentEntry `lid` (the entries sharing its uniqueId whose lid
/// is `lid`), first version first; empty when `lid` names no DocumentEntry.
pub(crate) fn versions(store: &dyn MetadataStore, lid: &Uuid) -> Result<Vec<Located>, StoreError> {
    let Some(first) = store.object(lid)? else {
        return Ok(Vec::new());
    };
    let StoredObject::DocumentEntry(entry) = &first.object else {
        return Ok(Vec::new());
    };
    let Some(unique_id) = entry.unique_id.as_ref().map(|id| id.as_str().to_owned()) else {
        return Ok(vec![first]);
    };
    let mut found = vec![first];
    for uuid in store.by_unique_id(Kind::DocumentEntry, &unique_id)? {
        if uuid == *lid {
            continue;
        }
        let Some(located) = store.object(&uuid)? else {
            continue;
        };
        let StoredObject::DocumentEntry(version) = &located.object else {
            continue;
        };
        if version.logical_id.as_ref().and_then(ObjectId::as_uuid) == Some(*lid) {
            found.push(located);
        }
    }
    found.sort_by_key(version_number);
    Ok(found)
}

fn version_number(located: &Located) -> u64 {
    match &located.object {
        StoredObject::DocumentEntry(entry) => entry
            .version
            .as_deref()
            .and_then(|version| version.parse::<u64>().ok())
            .unwrap_or(1),
        _ => 0,
    }
}

/// The latest version of the logical DocumentEntry `lid`; `None` when `lid` names no
/// DocumentEntry.
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
                AssociationType::HasMember => other_kind == Some(Kind::Folder),
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

/// The change set of a validated ITI-57 request, or the errors that refuse it.
pub fn update(
    store: &dyn MetadataStore,
    metadata: Metadata,
    profile: &dyn Profile,
    settings: &RegisterSettings,
    random: &mut dyn FnMut() -> [u8; 16],
) -> Result<Result<ChangeSet, Vec<RegistryError>>, StoreError> {
    let mut errors = Vec::new();
    for folder in &metadata.folders {
        errors.push(error(
            XdsErrorCode::MetadataUpdateError,
            &format!("Folder {}", folder.entry_uuid),
            "new Folder versions (ITI-57 metadata update) are not supported by this registry yet"
                .to_owned(),
        ));
    }
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
    // New DocumentEntry versions, each with its HasMember from the SubmissionSet (consumed here).
    let mut members: HashSet<ObjectId> = HashSet::new();
    for mut entry in metadata.document_entries {
        let location = format!("DocumentEntry {}", entry.entry_uuid);
        let member = metadata.associations.iter().find(|association| {
            association.association_type == AssociationType::HasMember
                && association.source == set_id
                && association.target == entry.entry_uuid
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
        let Some(lid) = entry.logical_id.as_ref().and_then(ObjectId::as_uuid) else {
            errors.push(error(
                XdsErrorCode::MetadataUpdateError,
                &location,
                "an ITI-57 DocumentEntry names the logical object it updates in lid (a UUID)"
                    .to_owned(),
            ));
            continue;
        };
        if entry.entry_uuid.as_uuid() == Some(lid) {
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
        let Some(latest) = latest_version(store, &lid)? else {
            errors.push(error(
                XdsErrorCode::MetadataVersionError,
                &location,
                format!(
                    "lid {} names no DocumentEntry of the registry",
                    lid.to_urn()
                ),
            ));
            continue;
        };
        let StoredObject::DocumentEntry(previous) = &latest.object else {
            continue;
        };
        let latest_version = previous.version.clone().unwrap_or_else(|| "1".to_owned());
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
        if entry.unique_id != previous.unique_id || entry.object_type != previous.object_type {
            errors.push(error(
                XdsErrorCode::MetadataUpdateError,
                &location,
                "a new version keeps the uniqueId and the objectType of the document".to_owned(),
            ));
            continue;
        }
        if previous.availability_status != Some(AvailabilityStatus::Approved) {
            errors.push(error(
                XdsErrorCode::MetadataUpdateError,
                &location,
                format!(
                    "the latest version of {} is {}, not Approved",
                    lid.to_urn(),
                    previous
                        .availability_status
                        .as_ref()
                        .map_or("without status", AvailabilityStatus::urn)
                ),
            ));
            continue;
        }
        if let Some(reason) = profile.version_change_refused(previous, &entry) {
            errors.push(error(XdsErrorCode::MetadataUpdateError, &location, reason));
            continue;
        }
        let next_version = latest_version
            .parse::<u64>()
            .map_or_else(|_| "2".to_owned(), |number| (number + 1).to_string());
        let new_uuid = match entry.entry_uuid.as_uuid() {
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
        entry.entry_uuid = ObjectId::Uuid(new_uuid);
        entry.logical_id = Some(ObjectId::Uuid(lid));
        entry.version = Some(next_version);
        entry.availability_status = Some(AvailabilityStatus::Approved);
        changes.puts.push(Put {
            patient,
            object: StoredObject::DocumentEntry(entry),
            is_new: true,
        });
        associations.push(member);
    }
    for mut association in metadata.associations {
        let location = format!("Association {}", association.entry_uuid);
        if members.contains(&association.entry_uuid) {
            continue;
        }
        if association.association_type != AssociationType::UpdateAvailabilityStatus {
            errors.push(error(
                XdsErrorCode::MetadataUpdateError,
                &location,
                format!(
                    "{} in ITI-57 is not supported by this registry yet; only UpdateAvailabilityStatus is",
                    association.association_type.urn()
                ),
            ));
            continue;
        }
        // The structural checks made sure of the form: source = the SubmissionSet, target a
        // UUID, both statuses present and different.
        let (Some(target_uuid), Some(from), Some(to)) = (
            association.target.as_uuid(),
            association.original_status.clone(),
            association.new_status.clone(),
        ) else {
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
        if let Err(refusal) = settings.lifecycle.check(&StatusChange {
            target: &target,
            from: &from,
            to: &to,
        }) {
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
