//! ITI-57 availability-status changes on the registry service: the IHE transitions
//! (Approved <-> Deprecated) and the DMP lifecycle of the fr-dmp profile (archive, unarchive,
//! logical deletion; dmp-profile.md §6.5-6.6, §8 rules 32, 34, 35): what queries show before
//! and after, precise refusals that change nothing, and the lifecycle policy hook.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use common::*;
use xds::error::RegistryError;
use xds::model::*;
use xds::validate::Profile;
use xds::{RegistryResponse, ResponseStatus, XdsErrorCode};
use xds_registry::identity::IdentityPolicy;
use xds_registry::service::iti57::{LifecycleChange, LifecyclePolicy};
use xds_registry::service::{QuerySettings, RegisterSettings, Registry};
use xds_registry::store::kv::KvMetadataStore;
use xds_registry::store::mem::MemEngine;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

fn registry_with(
    profile: Arc<dyn Profile>,
    lifecycle: Arc<dyn LifecyclePolicy>,
    patients: Vec<Cx>,
) -> Registry {
    let store = Arc::new(KvMetadataStore::new(MemEngine::new()).expect("store"));
    let registry = Registry::start(
        store,
        profile,
        RegisterSettings {
            identity: Arc::new(IdentityPolicy::development()),
            lifecycle,
            ..RegisterSettings::default()
        },
        QuerySettings::default(),
    )
    .expect("registry");
    registry.add_patients_blocking(patients).expect("patients");
    registry
}

/// An ihe-xds-b registry that allows every lifecycle change, knowing `patients`.
fn ihe_registry(patients: Vec<Cx>) -> Registry {
    registry_with(
        Arc::new(xds::validate::IheXdsB),
        Arc::new(xds_registry::service::iti57::AllowAll),
        patients,
    )
}

fn update_set(unique_id: &str, patient: &Cx) -> SubmissionSet {
    submission_set(unique_id, patient)
}

fn document(registry: &Registry, unique_id: &str) -> Option<DocumentEntry> {
    registry
        .query_blocking(&leaf(StoredQuery::GetDocuments {
            selector: ObjectSelector::UniqueIds(vec![unique_id.to_owned()]),
        }))
        .metadata
        .document_entries
        .into_iter()
        .next()
}

fn found(registry: &Registry, patient: &Cx, statuses: Vec<AvailabilityStatus>) -> usize {
    registry
        .query_blocking(&leaf(StoredQuery::FindDocuments(FindDocumentsQuery::new(
            patient.clone(),
            statuses,
        ))))
        .metadata
        .document_entries
        .len()
}

fn refused(response: &RegistryResponse, code: XdsErrorCode, words: &str) {
    assert_eq!(response.status, ResponseStatus::Failure, "{response:?}");
    assert!(
        response
            .errors
            .iter()
            .any(|error| error.code == code && error.code_context.contains(words)),
        "{code:?} / {words:?} missing: {response:?}"
    );
}

#[test]
fn ihe_status_changes_deprecate_and_approve_the_latest_version() {
    use AvailabilityStatus::{Approved, Archived, Deprecated};
    let runtime = runtime();
    let registry = ihe_registry(vec![patient(1), patient(2)]);
    let patient = patient(1);
    let submitted = documents("1.2.250.1.999.57.1", &patient, &["1.2.250.1.999.57.11"]);
    assert_eq!(
        registry.register_blocking(submitted).status,
        ResponseStatus::Success
    );
    let entry = document(&registry, "1.2.250.1.999.57.11").expect("registered");
    let uuid = entry.entry_uuid.as_uuid().expect("uuid");

    let deprecate = status_update(
        update_set("1.2.250.1.999.57.2", &patient),
        &[(uuid, Approved, Deprecated)],
    );
    let response = runtime.block_on(registry.update(deprecate));
    assert_eq!(response.status, ResponseStatus::Success, "{response:?}");
    assert_eq!(
        document(&registry, "1.2.250.1.999.57.11").and_then(|entry| entry.availability_status),
        Some(Deprecated)
    );
    assert_eq!(found(&registry, &patient, vec![Approved]), 0);
    assert_eq!(found(&registry, &patient, vec![Deprecated]), 1);
    // The update's SubmissionSet and its association are registered: a consumer sees the change.
    let sets = registry.query_blocking(&leaf(StoredQuery::GetSubmissionSets { uuids: vec![uuid] }));
    let associations =
        registry.query_blocking(&leaf(StoredQuery::GetAssociations { uuids: vec![uuid] }));
    assert!(
        associations
            .metadata
            .associations
            .iter()
            .any(|association| association.association_type
                == AssociationType::UpdateAvailabilityStatus),
        "{associations:?} {sets:?}"
    );

    // Refusals change nothing: a wrong OriginalStatus, a transition the profile lacks, a
    // SubmissionSet target, an unknown target, a malformed slot, another patient's entry.
    let cases: Vec<(Metadata, XdsErrorCode, &str)> = vec![
        (
            status_update(
                update_set("1.2.250.1.999.57.3", &patient),
                &[(uuid, Approved, Deprecated)],
            ),
            XdsErrorCode::MetadataUpdateError,
            "is not the current status",
        ),
        (
            status_update(
                update_set("1.2.250.1.999.57.3", &patient),
                &[(uuid, Deprecated, Archived)],
            ),
            XdsErrorCode::MetadataUpdateError,
            "the ihe-xds-b profile has no transition",
        ),
        (
            {
                let set = registry
                    .query_blocking(&leaf(StoredQuery::GetSubmissionSets { uuids: vec![uuid] }))
                    .metadata
                    .submission_sets[0]
                    .entry_uuid
                    .as_uuid()
                    .expect("uuid");
                status_update(
                    update_set("1.2.250.1.999.57.3", &patient),
                    &[(set, Approved, Deprecated)],
                )
            },
            XdsErrorCode::MetadataUpdateError,
            "cannot be updated",
        ),
        (
            status_update(
                update_set("1.2.250.1.999.57.3", &patient),
                &[(Uuid::new_v4([3; 16]), Deprecated, Approved)],
            ),
            XdsErrorCode::UnresolvedReferenceException,
            "is not in the registry",
        ),
        (
            {
                let mut metadata = status_update(
                    update_set("1.2.250.1.999.57.3", &patient),
                    &[(uuid, Deprecated, Approved)],
                );
                metadata.associations[0].new_status = None;
                metadata
            },
            XdsErrorCode::MetadataUpdateOperationError,
            "NewStatus slot is missing",
        ),
        (
            status_update(
                update_set("1.2.250.1.999.57.3", &self::patient(2)),
                &[(uuid, Deprecated, Approved)],
            ),
            XdsErrorCode::PatientIdDoesNotMatch,
            "another patient",
        ),
    ];
    for (request, code, words) in cases {
        refused(&runtime.block_on(registry.update(request)), code, words);
        assert_eq!(
            document(&registry, "1.2.250.1.999.57.11").and_then(|entry| entry.availability_status),
            Some(Deprecated),
            "unchanged after {words}"
        );
    }
    // Back to Approved.
    let approve = status_update(
        update_set("1.2.250.1.999.57.4", &patient),
        &[(uuid, Deprecated, Approved)],
    );
    assert_eq!(
        runtime.block_on(registry.update(approve)).status,
        ResponseStatus::Success
    );
    assert_eq!(found(&registry, &patient, vec![Approved]), 1);
    // The same ITI-57 body under ITI-42 is refused (UpdateAvailabilityStatus belongs to ITI-57).
    let misplaced = status_update(
        update_set("1.2.250.1.999.57.5", &patient),
        &[(uuid, Approved, Deprecated)],
    );
    let response = registry.register_blocking(misplaced);
    assert_eq!(response.status, ResponseStatus::Failure);
}

/// A policy that records what it is asked, refuses deletions and, when told, versions.
#[derive(Debug, Default)]
struct Recording {
    calls: AtomicUsize,
    seen: Mutex<Vec<(AvailabilityStatus, AvailabilityStatus)>>,
    versions: AtomicUsize,
    refuse_versions: std::sync::atomic::AtomicBool,
}

impl LifecyclePolicy for Recording {
    fn check(&self, change: &LifecycleChange<'_>) -> Result<(), RegistryError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        match change {
            LifecycleChange::Status(change) => {
                self.seen
                    .lock()
                    .expect("lock")
                    .push((change.from.clone(), change.to.clone()));
                if *change.to == AvailabilityStatus::Deleted {
                    return Err(RegistryError::error(
                        XdsErrorCode::MetadataUpdateError,
                        "NOT_AUTHOR: only the author may delete",
                    ));
                }
            }
            LifecycleChange::Version { .. } => {
                self.versions.fetch_add(1, Ordering::SeqCst);
                if self.refuse_versions.load(Ordering::SeqCst) {
                    return Err(RegistryError::error(
                        XdsErrorCode::MetadataUpdateError,
                        "AUTH_MODE_NOT_ALLOWED: masking needs direct authentication",
                    ));
                }
            }
        }
        Ok(())
    }
}

/// The letter of the DMP sample.
const LETTER: &str = "1.2.250.1.999.77.3.20261123.1";

/// A fr-dmp registry holding the DMP sample: the registry, the sample, its patient.
fn dmp_registry(lifecycle: Arc<dyn LifecyclePolicy>) -> (Registry, Metadata, Cx) {
    let sample = dmp_sample();
    let patient = sample.submission_sets[0]
        .patient_id
        .clone()
        .expect("patient");
    let registry = registry_with(dmp_profile(), lifecycle, vec![patient.clone()]);
    let response = registry.register_blocking(sample.clone());
    assert_eq!(response.status, ResponseStatus::Success, "{response:?}");
    (registry, sample, patient)
}

fn dmp_profile() -> Arc<dyn Profile> {
    xds_profiles::load(&xds_profiles::ProfileConfig {
        name: "fr-dmp".to_owned(),
        valuesets: Some(dmp_valuesets()),
        ..xds_profiles::ProfileConfig::default()
    })
    .expect("fr-dmp")
}

#[test]
fn dmp_lifecycle_archive_unarchive_delete_as_the_profile_and_the_policy_allow() {
    use AvailabilityStatus::{Approved, Archived, Deleted, Deprecated};
    let runtime = runtime();
    let policy = Arc::new(Recording::default());
    let (registry, sample, patient) = dmp_registry(policy.clone());
    let letter = LETTER;
    let uuid = document(&registry, letter)
        .and_then(|entry| entry.entry_uuid.as_uuid())
        .expect("registered");
    // The update SubmissionSet: the sample's, with a new uniqueId (it must pass fr-dmp too).
    let set = |n: u32| {
        let mut set = sample.submission_sets[0].clone();
        set.unique_id = Some(Oid::parse(&format!("1.2.250.1.999.77.1.5700{n}")).expect("OID"));
        set
    };
    let status = |registry: &Registry| {
        registry
            .query_blocking(&leaf(StoredQuery::GetDocuments {
                selector: ObjectSelector::Uuids(vec![uuid]),
            }))
            .metadata
            .document_entries
            .first()
            .and_then(|entry| entry.availability_status.clone())
    };

    // Archive (TD3.3d): gone from FindDocuments(Approved), found when Archived is asked and by
    // UUID (rule 35).
    let response =
        runtime.block_on(registry.update(status_update(set(1), &[(uuid, Approved, Archived)])));
    assert_eq!(response.status, ResponseStatus::Success, "{response:?}");
    assert_eq!(status(&registry), Some(Archived));
    assert_eq!(
        found(&registry, &patient, vec![Approved]),
        1,
        "the signature entry only"
    );
    assert_eq!(found(&registry, &patient, vec![Approved, Archived]), 2);
    // Unarchive.
    let response =
        runtime.block_on(registry.update(status_update(set(2), &[(uuid, Archived, Approved)])));
    assert_eq!(response.status, ResponseStatus::Success, "{response:?}");
    assert_eq!(status(&registry), Some(Approved));
    // IHE's Deprecated is not a DMP transition (rule 32).
    refused(
        &runtime.block_on(registry.update(status_update(set(3), &[(uuid, Approved, Deprecated)]))),
        XdsErrorCode::MetadataUpdateError,
        "the fr-dmp profile has no transition",
    );
    // Deletion refused by the policy: the hook was asked, nothing changed.
    let calls = policy.calls.load(Ordering::SeqCst);
    refused(
        &runtime.block_on(registry.update(status_update(set(4), &[(uuid, Approved, Deleted)]))),
        XdsErrorCode::MetadataUpdateError,
        "NOT_AUTHOR",
    );
    assert_eq!(
        policy.calls.load(Ordering::SeqCst),
        calls + 1,
        "the hook is called"
    );
    assert_eq!(
        policy.seen.lock().expect("lock").last(),
        Some(&(Approved, Deleted))
    );
    assert_eq!(status(&registry), Some(Approved));
}

#[test]
fn dmp_deleted_documents_disappear_from_every_answer_and_stay_deleted() {
    use AvailabilityStatus::{Approved, Deleted};
    let runtime = runtime();
    let (registry, sample, patient) =
        dmp_registry(Arc::new(xds_registry::service::iti57::AllowAll));
    let letter = LETTER;
    let uuid = document(&registry, letter)
        .and_then(|entry| entry.entry_uuid.as_uuid())
        .expect("registered");
    let mut set = sample.submission_sets[0].clone();
    set.unique_id = Some(Oid::parse("1.2.250.1.999.77.1.57100").expect("OID"));
    let response =
        runtime.block_on(registry.update(status_update(set.clone(), &[(uuid, Approved, Deleted)])));
    assert_eq!(response.status, ResponseStatus::Success, "{response:?}");

    // Rule 34: no query shows it, whatever it asks.
    assert_eq!(
        found(&registry, &patient, vec![Approved, Deleted]),
        1,
        "the signature only"
    );
    assert!(document(&registry, letter).is_none(), "by uniqueId");
    let by_uuid = registry.query_blocking(&leaf(StoredQuery::GetDocuments {
        selector: ObjectSelector::Uuids(vec![uuid]),
    }));
    assert!(by_uuid.metadata.document_entries.is_empty());
    let contents = registry.query_blocking(&leaf(StoredQuery::GetSubmissionSetAndContents {
        selector: ObjectSelector::UniqueIds(vec![
            sample.submission_sets[0]
                .unique_id
                .as_ref()
                .expect("uid")
                .as_str()
                .to_owned(),
        ]),
        filter: ContentFilter::default(),
    }));
    assert_eq!(contents.metadata.document_entries.len(), 1, "{contents:?}");
    assert!(
        contents.metadata.associations.iter().all(|association| {
            association.target.as_uuid() != Some(uuid) && association.source.as_uuid() != Some(uuid)
        }),
        "no association names the deleted entry: {contents:?}"
    );
    // Deleted is final.
    set.unique_id = Some(Oid::parse("1.2.250.1.999.77.1.57101").expect("OID"));
    refused(
        &runtime.block_on(registry.update(status_update(set, &[(uuid, Deleted, Approved)]))),
        XdsErrorCode::MetadataUpdateError,
        "no transition",
    );
}

#[test]
fn concurrent_changes_of_one_entry_one_wins_the_other_fails_cleanly() {
    use AvailabilityStatus::{Approved, Deprecated};
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let registry = ihe_registry(vec![patient(1)]);
    let patient = patient(1);
    let submitted = documents("1.2.250.1.999.57.50", &patient, &["1.2.250.1.999.57.51"]);
    assert_eq!(
        registry.register_blocking(submitted).status,
        ResponseStatus::Success
    );
    let uuid = document(&registry, "1.2.250.1.999.57.51")
        .and_then(|entry| entry.entry_uuid.as_uuid())
        .expect("registered");
    for round in 0..10u32 {
        let (from, to) = if round % 2 == 0 {
            (Approved, Deprecated)
        } else {
            (Deprecated, Approved)
        };
        let first = status_update(
            update_set(&format!("1.2.250.1.999.57.6{round}1"), &patient),
            &[(uuid, from.clone(), to.clone())],
        );
        let second = status_update(
            update_set(&format!("1.2.250.1.999.57.6{round}2"), &patient),
            &[(uuid, from.clone(), to.clone())],
        );
        let (one, two) = runtime
            .block_on(async { tokio::join!(registry.update(first), registry.update(second)) });
        let statuses = [one.status, two.status];
        assert_eq!(
            statuses
                .iter()
                .filter(|status| **status == ResponseStatus::Success)
                .count(),
            1,
            "round {round}: {one:?} {two:?}"
        );
        let loser = if one.status == ResponseStatus::Success {
            &two
        } else {
            &one
        };
        refused(
            loser,
            XdsErrorCode::MetadataUpdateError,
            "is not the current status",
        );
        assert_eq!(
            document(&registry, "1.2.250.1.999.57.51").and_then(|entry| entry.availability_status),
            Some(to)
        );
    }
    // Two new versions from the same PreviousVersion: one becomes version 2, the other is stale.
    let current = document(&registry, "1.2.250.1.999.57.51").expect("entry");
    let version = |set_uid: &str, title: &str| {
        new_version(update_set(set_uid, &patient), &current, "1", |entry| {
            entry.title = vec![LocalizedString::new(title)];
        })
    };
    let (one, two) = runtime.block_on(async {
        tokio::join!(
            registry.update(version("1.2.250.1.999.57.71", "A")),
            registry.update(version("1.2.250.1.999.57.72", "B"))
        )
    });
    let winners = [&one, &two]
        .iter()
        .filter(|response| response.status == ResponseStatus::Success)
        .count();
    assert_eq!(winners, 1, "{one:?} {two:?}");
    let loser = if one.status == ResponseStatus::Success {
        &two
    } else {
        &one
    };
    refused(
        loser,
        XdsErrorCode::MetadataVersionError,
        "is not the latest version",
    );
    let lid = current
        .logical_id
        .as_ref()
        .and_then(ObjectId::as_uuid)
        .expect("lid");
    assert_eq!(
        versions_of(&registry, lid, Some(2)).len(),
        2,
        "no lost or doubled version"
    );
}

#[test]
fn status_changes_and_versions_acknowledged_over_soap_survive_kill_9() {
    let dir = TempDir::new("lifecycle-crash");
    let patient = patient(1);
    patient_add(dir.path(), &[&patient.to_string()]);
    let daemon = start_registry(dir.path(), &[]);
    let submitted = documents("1.2.250.1.999.57.70", &patient, &["1.2.250.1.999.57.71"]);
    assert_eq!(
        register(daemon.address, &submitted).status,
        ResponseStatus::Success
    );
    let lookup = |address| {
        query(
            address,
            &leaf(StoredQuery::GetDocuments {
                selector: ObjectSelector::UniqueIds(vec!["1.2.250.1.999.57.71".to_owned()]),
            }),
        )
        .metadata
        .document_entries
    };
    let uuid = lookup(daemon.address)[0]
        .entry_uuid
        .as_uuid()
        .expect("uuid");
    let request = status_update(
        update_set("1.2.250.1.999.57.72", &patient),
        &[(
            uuid,
            AvailabilityStatus::Approved,
            AvailabilityStatus::Deprecated,
        )],
    );
    let response = update(daemon.address, PATH, &request);
    assert_eq!(response.status, ResponseStatus::Success, "{response:?}");
    // And a new version (of the Approved latest: first back to Approved).
    let back = status_update(
        update_set("1.2.250.1.999.57.73", &patient),
        &[(
            uuid,
            AvailabilityStatus::Deprecated,
            AvailabilityStatus::Approved,
        )],
    );
    let response = update(daemon.address, PATH, &back);
    assert_eq!(response.status, ResponseStatus::Success, "{response:?}");
    let current = lookup(daemon.address).remove(0);
    let version = new_version(
        update_set("1.2.250.1.999.57.74", &patient),
        &current,
        "1",
        |entry| {
            entry.title = vec![LocalizedString::new("version 2")];
        },
    );
    let response = update(daemon.address, PATH, &version);
    assert_eq!(response.status, ResponseStatus::Success, "{response:?}");
    daemon.kill();
    let daemon = start_registry(dir.path(), &[]);
    let after = lookup(daemon.address);
    assert_eq!(after.len(), 1, "level 1: the latest version");
    assert_eq!(after[0].version.as_deref(), Some("2"));
    assert_eq!(after[0].title[0].value, "version 2");
    assert_eq!(
        after[0].availability_status,
        Some(AvailabilityStatus::Approved)
    );
}

/// An ITI-57 request making a new version of `previous` (whose latest version is `version`).
fn new_version(
    set: SubmissionSet,
    previous: &DocumentEntry,
    version: &str,
    change: impl FnOnce(&mut DocumentEntry),
) -> Metadata {
    let mut set = set;
    set.entry_uuid = ObjectId::parse("Update01").expect("id");
    let mut entry = previous.clone();
    entry.entry_uuid = ObjectId::parse("Version").expect("id");
    entry.logical_id = previous.logical_id.clone();
    entry.version = None;
    entry.availability_status = None;
    change(&mut entry);
    let mut member = Association::new(
        ObjectId::parse("member").expect("id"),
        AssociationType::HasMember,
        ObjectId::parse("Update01").expect("id"),
        ObjectId::parse("Version").expect("id"),
    );
    member.submission_set_status = Some(SubmissionSetStatus::Original);
    member.previous_version = Some(version.to_owned());
    Metadata {
        submission_sets: vec![set],
        document_entries: vec![entry],
        associations: vec![member],
        ..Metadata::default()
    }
}

fn versions_of(registry: &Registry, lid: Uuid, level: Option<u32>) -> Vec<DocumentEntry> {
    let mut request = leaf(StoredQuery::GetDocuments {
        selector: ObjectSelector::LogicalIds(vec![lid]),
    });
    request.metadata_level = level;
    registry.query_blocking(&request).metadata.document_entries
}

#[test]
fn a_new_version_shares_the_logical_id_deprecates_the_previous_and_hides_it_at_level_1() {
    let runtime = runtime();
    let registry = ihe_registry(vec![patient(1)]);
    let patient = patient(1);
    let submitted = documents("1.2.250.1.999.57.80", &patient, &["1.2.250.1.999.57.81"]);
    assert_eq!(
        registry.register_blocking(submitted).status,
        ResponseStatus::Success
    );
    let first = document(&registry, "1.2.250.1.999.57.81").expect("registered");
    let lid = first.entry_uuid.as_uuid().expect("uuid");
    assert_eq!(
        first.logical_id.as_ref().and_then(ObjectId::as_uuid),
        Some(lid),
        "lid = id"
    );
    assert_eq!(first.version.as_deref(), Some("1"));

    let update = new_version(
        update_set("1.2.250.1.999.57.82", &patient),
        &first,
        "1",
        |entry| {
            entry.title = vec![LocalizedString::new("Compte rendu corrigé")];
        },
    );
    let response = runtime.block_on(registry.update(update));
    assert_eq!(response.status, ResponseStatus::Success, "{response:?}");
    let all = versions_of(&registry, lid, Some(2));
    assert_eq!(all.len(), 2, "{all:?}");
    assert_eq!(
        all[0].availability_status,
        Some(AvailabilityStatus::Deprecated)
    );
    assert_eq!(
        all[1].availability_status,
        Some(AvailabilityStatus::Approved)
    );
    assert_eq!(all[1].version.as_deref(), Some("2"));
    assert_eq!(
        all[1].logical_id.as_ref().and_then(ObjectId::as_uuid),
        Some(lid)
    );
    assert_eq!(all[1].unique_id, first.unique_id);
    assert_eq!(all[1].title[0].value, "Compte rendu corrigé");
    // Level 1 (the default): the latest version only, by logical id or by uniqueId.
    assert_eq!(versions_of(&registry, lid, None).len(), 1);
    assert_eq!(
        document(&registry, "1.2.250.1.999.57.81").and_then(|entry| entry.version),
        Some("2".to_owned())
    );
    assert_eq!(
        found(&registry, &patient, vec![AvailabilityStatus::Approved]),
        1
    );

    // Refused, nothing changed: a stale PreviousVersion, an unknown lid, a changed uniqueId,
    // a status change of the old version.
    let latest = all[1].clone();
    let stale = new_version(
        update_set("1.2.250.1.999.57.83", &patient),
        &latest,
        "1",
        |_| {},
    );
    refused(
        &runtime.block_on(registry.update(stale)),
        XdsErrorCode::MetadataVersionError,
        "is not the latest version",
    );
    let unknown = new_version(
        update_set("1.2.250.1.999.57.83", &patient),
        &latest,
        "2",
        |entry| {
            entry.logical_id = Some(ObjectId::Uuid(Uuid::new_v4([5; 16])));
        },
    );
    refused(
        &runtime.block_on(registry.update(unknown)),
        XdsErrorCode::MetadataVersionError,
        "names no DocumentEntry",
    );
    let renamed = new_version(
        update_set("1.2.250.1.999.57.83", &patient),
        &latest,
        "2",
        |entry| {
            entry.unique_id = Some(UniqueId::parse("1.2.250.1.999.57.89").expect("uid"));
        },
    );
    refused(
        &runtime.block_on(registry.update(renamed)),
        XdsErrorCode::MetadataUpdateError,
        "keeps the uniqueId",
    );
    let old = status_update(
        update_set("1.2.250.1.999.57.83", &patient),
        &[(
            lid,
            AvailabilityStatus::Deprecated,
            AvailabilityStatus::Approved,
        )],
    );
    refused(
        &runtime.block_on(registry.update(old)),
        XdsErrorCode::MetadataUpdateError,
        "not the latest version",
    );
    assert_eq!(
        versions_of(&registry, lid, Some(2)).len(),
        2,
        "nothing added"
    );
}

#[test]
fn dmp_masking_is_a_new_version_that_changes_only_the_confidentiality_codes() {
    let runtime = runtime();
    let policy = Arc::new(Recording::default());
    let (registry, sample, _patient) = dmp_registry(policy.clone());
    let letter = LETTER;
    let first = document(&registry, letter).expect("registered");
    let set = |n: u32| {
        let mut set = sample.submission_sets[0].clone();
        set.unique_id = Some(Oid::parse(&format!("1.2.250.1.999.77.1.5790{n}")).expect("OID"));
        set
    };
    let flag = |code: &str| Code::new(code, "1.2.250.1.213.1.1.4.13", code);
    let normal = Code::new("N", "2.16.840.1.113883.5.25", "Normal");
    // A version that must be accepted; the latest version after it.
    let apply = |request: Metadata| {
        let response = runtime.block_on(registry.update(request));
        assert_eq!(response.status, ResponseStatus::Success, "{response:?}");
        document(&registry, letter).expect("latest")
    };
    // TD3.3a: mask from professionals.
    let mask = new_version(set(1), &first, "1", |entry| {
        entry.confidentiality_codes = vec![normal.clone(), flag("MASQUE_PS")];
    });
    let masked = apply(mask);
    assert_eq!(masked.version.as_deref(), Some("2"));
    assert!(
        masked
            .confidentiality_codes
            .iter()
            .any(|code| code.code == "MASQUE_PS")
    );
    // TD3.3a: unmask (the list without the flag).
    let unmask = new_version(set(2), &masked, "2", |entry| {
        entry.confidentiality_codes = vec![normal.clone()];
    });
    let unmasked = apply(unmask);
    assert_eq!(unmasked.version.as_deref(), Some("3"));
    assert_eq!(unmasked.confidentiality_codes, vec![normal.clone()]);
    assert_eq!(
        policy.versions.load(Ordering::SeqCst),
        2,
        "the hook saw both versions"
    );
    // A change the policy refuses changes nothing.
    policy.refuse_versions.store(true, Ordering::SeqCst);
    let refused_mask = new_version(set(5), &unmasked, "3", |entry| {
        entry.confidentiality_codes = vec![normal.clone(), flag("MASQUE_PS")];
    });
    refused(
        &runtime.block_on(registry.update(refused_mask)),
        XdsErrorCode::MetadataUpdateError,
        "AUTH_MODE_NOT_ALLOWED",
    );
    policy.refuse_versions.store(false, Ordering::SeqCst);
    // TD3.3b: invisible to the patient, then visible again.
    let hide = new_version(set(6), &unmasked, "3", |entry| {
        entry.confidentiality_codes = vec![normal.clone(), flag("INVISIBLE_PATIENT")];
    });
    let hidden = apply(hide);
    assert!(
        hidden
            .confidentiality_codes
            .iter()
            .any(|code| code.code == "INVISIBLE_PATIENT")
    );
    let show = new_version(set(7), &hidden, "4", |entry| {
        entry.confidentiality_codes = vec![normal.clone()];
    });
    let unmasked = apply(show);
    assert_eq!(unmasked.version.as_deref(), Some("5"));
    assert_eq!(unmasked.confidentiality_codes, vec![normal.clone()]);
    // Rule 30: anything else changed is refused, and a flag outside J58 too (rule 23).
    let retitled = new_version(set(3), &unmasked, "5", |entry| {
        entry.title = vec![LocalizedString::new("Autre titre")];
        entry.confidentiality_codes = vec![normal.clone(), flag("INVISIBLE_PATIENT")];
    });
    refused(
        &runtime.block_on(registry.update(retitled)),
        XdsErrorCode::MetadataUpdateError,
        "changes only the confidentialityCode list",
    );
    let bad_flag = new_version(set(4), &unmasked, "5", |entry| {
        entry.confidentiality_codes = vec![normal.clone(), flag("MASQUE_PSOCIAL")];
    });
    let response = runtime.block_on(registry.update(bad_flag));
    assert_eq!(response.status, ResponseStatus::Failure);
    assert!(
        response
            .errors
            .iter()
            .any(|error| error.code_context.contains("[DMP-23]")),
        "{response:?}"
    );
    assert_eq!(
        document(&registry, letter).and_then(|entry| entry.version),
        Some("5".to_owned())
    );
}

#[test]
fn a_folder_gets_versions_and_its_members_follow_unless_told_not_to() {
    let runtime = runtime();
    let registry = ihe_registry(vec![patient(1)]);
    let patient = patient(1);
    // A folder holding one document.
    let mut submitted = documents("1.2.250.1.999.57.90", &patient, &["1.2.250.1.999.57.91"]);
    let mut folder = Folder::new(ObjectId::parse("Folder01").expect("id"));
    folder.title = vec![LocalizedString::new("Suivi")];
    folder.codes = vec![Code::new("F1", "1.2.250.1.999.1", "Suivi")];
    folder.patient_id = Some(patient.clone());
    folder.unique_id = Some(Oid::parse("1.2.250.1.999.57.92").expect("OID"));
    submitted.folders.push(folder);
    let set_id = submitted.submission_sets[0].entry_uuid.clone();
    let entry_id = submitted.document_entries[0].entry_uuid.clone();
    let mut set_member = Association::new(
        ObjectId::parse("ss-fol").expect("id"),
        AssociationType::HasMember,
        set_id.clone(),
        ObjectId::parse("Folder01").expect("id"),
    );
    set_member.submission_set_status = Some(SubmissionSetStatus::Original);
    let folder_member = Association::new(
        ObjectId::parse("fol-doc").expect("id"),
        AssociationType::HasMember,
        ObjectId::parse("Folder01").expect("id"),
        entry_id,
    );
    let mut ss_folder_member = Association::new(
        ObjectId::parse("ss-fol-doc").expect("id"),
        AssociationType::HasMember,
        set_id,
        ObjectId::parse("fol-doc").expect("id"),
    );
    ss_folder_member.submission_set_status = Some(SubmissionSetStatus::Original);
    submitted
        .associations
        .extend([set_member, folder_member, ss_folder_member]);
    let response = registry.register_blocking(submitted);
    assert_eq!(response.status, ResponseStatus::Success, "{response:?}");
    let folders = |level: Option<u32>| {
        let mut request = leaf(StoredQuery::GetFolders {
            selector: ObjectSelector::UniqueIds(vec!["1.2.250.1.999.57.92".to_owned()]),
        });
        request.metadata_level = level;
        registry.query_blocking(&request).metadata.folders
    };
    let first = folders(None).pop().expect("registered");
    assert_eq!(first.version.as_deref(), Some("1"));
    let lid = first.entry_uuid.clone();

    let update = |set_uid: &str, previous: &str, propagate: Option<bool>| {
        let mut set = update_set(set_uid, &patient);
        set.entry_uuid = ObjectId::parse("Update01").expect("id");
        let mut next = first.clone();
        next.entry_uuid = ObjectId::parse("Folder02").expect("id");
        next.logical_id = Some(lid.clone());
        next.version = None;
        next.availability_status = None;
        next.title = vec![LocalizedString::new("Suivi renommé")];
        let mut member = Association::new(
            ObjectId::parse("member").expect("id"),
            AssociationType::HasMember,
            ObjectId::parse("Update01").expect("id"),
            ObjectId::parse("Folder02").expect("id"),
        );
        member.submission_set_status = Some(SubmissionSetStatus::Original);
        member.previous_version = Some(previous.to_owned());
        member.association_propagation = propagate;
        Metadata {
            submission_sets: vec![set],
            folders: vec![next],
            associations: vec![member],
            ..Metadata::default()
        }
    };
    refused(
        &runtime.block_on(registry.update(update("1.2.250.1.999.57.93", "7", None))),
        XdsErrorCode::MetadataVersionError,
        "is not the latest version",
    );
    let response = runtime.block_on(registry.update(update("1.2.250.1.999.57.94", "1", None)));
    assert_eq!(response.status, ResponseStatus::Success, "{response:?}");
    let all = folders(Some(2));
    assert_eq!(all.len(), 2, "{all:?}");
    let latest = folders(None);
    assert_eq!(latest.len(), 1, "level 1: the latest only");
    assert_eq!(latest[0].version.as_deref(), Some("2"));
    assert_eq!(latest[0].title[0].value, "Suivi renommé");
    // The document followed the folder into its new version.
    let contents = registry.query_blocking(&leaf(StoredQuery::GetFolderAndContents {
        selector: ObjectSelector::Uuids(vec![latest[0].entry_uuid.as_uuid().expect("uuid")]),
        filter: ContentFilter::default(),
    }));
    assert_eq!(contents.metadata.document_entries.len(), 1, "{contents:?}");
    // Without propagation, the next version holds nothing.
    let response =
        runtime.block_on(registry.update(update("1.2.250.1.999.57.95", "2", Some(false))));
    assert_eq!(response.status, ResponseStatus::Success, "{response:?}");
    let third = folders(None).pop().expect("latest");
    assert_eq!(third.version.as_deref(), Some("3"));
    let contents = registry.query_blocking(&leaf(StoredQuery::GetFolderAndContents {
        selector: ObjectSelector::Uuids(vec![third.entry_uuid.as_uuid().expect("uuid")]),
        filter: ContentFilter::default(),
    }));
    assert!(
        contents.metadata.document_entries.is_empty(),
        "{contents:?}"
    );
}

#[test]
fn submitted_associations_link_registered_entries_or_a_new_version_and_may_change_status_at_once() {
    let runtime = runtime();
    let registry = ihe_registry(vec![patient(1), patient(2)]);
    let patient = patient(1);
    let submitted = documents(
        "1.2.250.1.999.57.100",
        &patient,
        &["1.2.250.1.999.57.101", "1.2.250.1.999.57.102"],
    );
    assert_eq!(
        registry.register_blocking(submitted).status,
        ResponseStatus::Success
    );
    let first = document(&registry, "1.2.250.1.999.57.101").expect("first");
    let second = document(&registry, "1.2.250.1.999.57.102").expect("second");
    let uuid = |entry: &DocumentEntry| entry.entry_uuid.as_uuid().expect("uuid");
    // SubmitAssociation announcing an APND between two registered entries, deprecated in the
    // same request.
    let request = |set_uid: &str, source: ObjectId, deprecate: bool| {
        let mut set = update_set(set_uid, &patient);
        set.entry_uuid = ObjectId::parse("Update01").expect("id");
        let mut associations = vec![
            Association::new(
                ObjectId::parse("announce").expect("id"),
                AssociationType::SubmitAssociation,
                ObjectId::parse("Update01").expect("id"),
                ObjectId::parse("apnd").expect("id"),
            ),
            Association::new(
                ObjectId::parse("apnd").expect("id"),
                AssociationType::Append,
                source,
                ObjectId::Uuid(uuid(&second)),
            ),
        ];
        if deprecate {
            let mut change = Association::new(
                ObjectId::parse("uas").expect("id"),
                AssociationType::UpdateAvailabilityStatus,
                ObjectId::parse("Update01").expect("id"),
                ObjectId::parse("apnd").expect("id"),
            );
            change.original_status = Some(AvailabilityStatus::Approved);
            change.new_status = Some(AvailabilityStatus::Deprecated);
            associations.push(change);
        }
        Metadata {
            submission_sets: vec![set],
            associations,
            ..Metadata::default()
        }
    };
    let response = runtime.block_on(registry.update(request(
        "1.2.250.1.999.57.103",
        ObjectId::Uuid(uuid(&first)),
        true,
    )));
    assert_eq!(response.status, ResponseStatus::Success, "{response:?}");
    let related = |level: Option<u32>| {
        let mut query = leaf(StoredQuery::GetRelatedDocuments {
            selector: ObjectSelector::Uuids(vec![uuid(&first)]),
            association_types: vec![AssociationType::Append],
            document_types: Vec::new(),
        });
        query.metadata_level = level;
        registry.query_blocking(&query).metadata
    };
    assert!(
        related(None).document_entries.is_empty(),
        "level 1: a Deprecated APND relates nothing"
    );
    let level_2 = related(Some(2));
    assert_eq!(level_2.document_entries.len(), 2, "{level_2:?}");
    assert_eq!(
        level_2.associations[0].availability_status,
        Some(AvailabilityStatus::Deprecated)
    );

    // A new version of the first entry linked by hand: refused under propagation, accepted
    // with AssociationPropagation = no (CP-ITI-1029).
    let with_version = |set_uid: &str, propagate: Option<bool>| {
        let mut metadata = new_version(update_set(set_uid, &patient), &first, "1", |entry| {
            entry.title = vec![LocalizedString::new("v2")];
        });
        metadata.associations[0].association_propagation = propagate;
        let version_id = metadata.document_entries[0].entry_uuid.clone();
        let extra = request(set_uid, version_id, false);
        metadata.associations.extend(extra.associations);
        metadata
    };
    refused(
        &runtime.block_on(registry.update(with_version("1.2.250.1.999.57.104", None))),
        XdsErrorCode::MetadataUpdateOperationError,
        "AssociationPropagation",
    );
    let response =
        runtime.block_on(registry.update(with_version("1.2.250.1.999.57.105", Some(false))));
    assert_eq!(response.status, ResponseStatus::Success, "{response:?}");
    let latest = document(&registry, "1.2.250.1.999.57.101").expect("latest");
    assert_eq!(latest.version.as_deref(), Some("2"));
    let mut query = leaf(StoredQuery::GetRelatedDocuments {
        selector: ObjectSelector::Uuids(vec![uuid(&latest)]),
        association_types: vec![AssociationType::Append],
        document_types: Vec::new(),
    });
    query.metadata_level = None;
    assert_eq!(
        registry
            .query_blocking(&query)
            .metadata
            .document_entries
            .len(),
        2,
        "the new version's own APND"
    );
    // Another patient's entry cannot be linked.
    let other = documents(
        "1.2.250.1.999.57.106",
        &self::patient(2),
        &["1.2.250.1.999.57.107"],
    );
    assert_eq!(
        registry.register_blocking(other).status,
        ResponseStatus::Success
    );
    let foreign = document(&registry, "1.2.250.1.999.57.107").expect("other");
    refused(
        &runtime.block_on(registry.update(request(
            "1.2.250.1.999.57.108",
            ObjectId::Uuid(uuid(&foreign)),
            false,
        ))),
        XdsErrorCode::PatientIdDoesNotMatch,
        "another patient",
    );
}
