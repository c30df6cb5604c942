//! ITI-62 Remove Metadata (xds-spec-brief.md §6.2): removes registry objects by entryUUID, all
//! or nothing, keeping the registry's references whole. Run by the writer thread, so it sees
//! every earlier submission and nothing changes under it.
//!
//! - Every referenced object exists, else UnresolvedReferenceException.
//! - No association that stays may point at a removed object (an association may itself be the
//!   target of a SubmissionSet HasMember), else ReferencesExistException.
//! - No object that stays may lose what makes it reachable: a DocumentEntry or Folder keeps a
//!   HasMember from a SubmissionSet, a SubmissionSet keeps at least one association, else
//!   XDSUnreferencedObjectException.
//!
//! The objects and every index entry (locator, uniqueId, links, submission digest) are
//! deleted in one atomic write.

use std::collections::HashSet;

use xds::XdsErrorCode;
use xds::error::RegistryError;
use xds::model::{AssociationType, RemoveMetadata, Uuid};

use crate::store::{ChangeSet, Direction, Kind, Located, MetadataStore, StoreResult, StoredObject};

fn located_error(code: XdsErrorCode, uuid: &Uuid, context: String) -> RegistryError {
    RegistryError::error(code, context).at(uuid.to_urn())
}

fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::DocumentEntry => "DocumentEntry",
        Kind::SubmissionSet => "SubmissionSet",
        Kind::Folder => "Folder",
        Kind::Association => "Association",
    }
}

/// The change set removing `request`'s objects, or the errors that forbid it (nothing removed).
pub fn remove(
    store: &dyn MetadataStore,
    request: &RemoveMetadata,
) -> StoreResult<Result<ChangeSet, Vec<RegistryError>>> {
    let mut errors = Vec::new();
    let mut removed: HashSet<Uuid> = HashSet::new();
    let mut objects: Vec<Located> = Vec::new();
    for uuid in &request.object_refs {
        if !removed.insert(*uuid) {
            continue;
        }
        match store.object(uuid)? {
            Some(located) => objects.push(located),
            None => errors.push(located_error(
                XdsErrorCode::UnresolvedReferenceException,
                uuid,
                format!("{} is not in the registry", uuid.to_urn()),
            )),
        }
    }
    if !errors.is_empty() {
        return Ok(Err(errors));
    }

    // No association that stays points at a removed object.
    for located in &objects {
        let Some(uuid) = located.object.uuid() else {
            continue;
        };
        for direction in [Direction::From, Direction::To] {
            for link in store.links(&uuid, direction)? {
                if !removed.contains(&link.association) {
                    errors.push(located_error(
                        XdsErrorCode::ReferencesExistException,
                        &uuid,
                        format!(
                            "{} {} is still referenced by association {} ({}), which is not removed",
                            kind_name(located.object.kind()),
                            uuid.to_urn(),
                            link.association.to_urn(),
                            link.association_type.urn()
                        ),
                    ));
                }
            }
        }
    }

    // No object that stays loses its membership.
    let mut checked: HashSet<Uuid> = HashSet::new();
    for located in &objects {
        let StoredObject::Association(association) = &located.object else {
            continue;
        };
        for end in [&association.source, &association.target] {
            let Some(end) = end.as_uuid() else {
                continue;
            };
            if removed.contains(&end) || !checked.insert(end) {
                continue;
            }
            let Some((kind, _)) = store.locate(&end)? else {
                continue;
            };
            let reachable = match kind {
                Kind::DocumentEntry | Kind::Folder => {
                    let mut member = false;
                    for link in store.links(&end, Direction::To)? {
                        if link.association_type == AssociationType::HasMember
                            && !removed.contains(&link.association)
                            && matches!(store.locate(&link.other)?, Some((Kind::SubmissionSet, _)))
                        {
                            member = true;
                            break;
                        }
                    }
                    member
                }
                Kind::SubmissionSet => store
                    .links(&end, Direction::From)?
                    .iter()
                    .any(|link| !removed.contains(&link.association)),
                Kind::Association => true,
            };
            if !reachable {
                errors.push(located_error(
                    XdsErrorCode::UnreferencedObjectException,
                    &end,
                    format!(
                        "{} {} would be left without {} once its associations are removed",
                        kind_name(kind),
                        end.to_urn(),
                        if kind == Kind::SubmissionSet {
                            "any member"
                        } else {
                            "a SubmissionSet HasMember"
                        }
                    ),
                ));
            }
        }
    }
    if !errors.is_empty() {
        return Ok(Err(errors));
    }
    Ok(Ok(ChangeSet {
        removes: objects,
        ..ChangeSet::default()
    }))
}
