//! ITI-62 Remove Metadata on the real daemon over SOAP: the referential rules of
//! xds-spec-brief.md §6.2 (each refusal changes nothing), a whole submission removed and
//! submitted again, an acknowledged removal that survives kill -9, and the fr-dmp profile, which has no
//! ITI-62 (dmp-profile.md §8 rule 46).

mod common;

use std::net::SocketAddr;

use common::*;
use xds::model::*;
use xds::{RegistryResponse, ResponseStatus, XdsErrorCode};

/// The entryUUIDs of a submission set and of what it holds (GetSubmissionSetAndContents).
struct Contents {
    set: Uuid,
    documents: Vec<Uuid>,
    associations: Vec<(Uuid, AssociationType, Uuid, Uuid)>,
}

fn uuid(id: &ObjectId) -> Uuid {
    id.as_uuid().expect("stored ids are UUIDs")
}

fn contents(address: SocketAddr, set_unique_id: &str) -> Option<Contents> {
    let response = query(
        address,
        &leaf(StoredQuery::GetSubmissionSetAndContents {
            selector: ObjectSelector::UniqueIds(vec![set_unique_id.to_owned()]),
            filter: ContentFilter::default(),
        }),
    );
    assert_eq!(
        response.response.status,
        ResponseStatus::Success,
        "{response:?}"
    );
    let set = response.metadata.submission_sets.first()?;
    Some(Contents {
        set: uuid(&set.entry_uuid),
        documents: response
            .metadata
            .document_entries
            .iter()
            .map(|entry| uuid(&entry.entry_uuid))
            .collect(),
        associations: response
            .metadata
            .associations
            .iter()
            .map(|association| {
                (
                    uuid(&association.entry_uuid),
                    association.association_type,
                    uuid(&association.source),
                    uuid(&association.target),
                )
            })
            .collect(),
    })
}

fn documents_found(address: SocketAddr, unique_ids: &[&str]) -> usize {
    query(
        address,
        &leaf(StoredQuery::GetDocuments {
            selector: ObjectSelector::UniqueIds(
                unique_ids.iter().map(|id| (*id).to_owned()).collect(),
            ),
        }),
    )
    .metadata
    .document_entries
    .len()
}

fn remove(address: SocketAddr, uuids: &[Uuid]) -> RegistryResponse {
    remove_metadata(address, PATH, uuids)
}

/// A Failure whose errors all have `code`, each located at an object.
fn refused(response: &RegistryResponse, code: XdsErrorCode) {
    assert_eq!(response.status, ResponseStatus::Failure, "{response:?}");
    assert!(!response.errors.is_empty());
    for error in &response.errors {
        assert_eq!(error.code, code, "{response:?}");
        assert!(
            error
                .location
                .as_deref()
                .is_some_and(|at| at.starts_with("urn:uuid:")),
            "{error:?}"
        );
    }
}

#[test]
fn removal_keeps_references_whole_and_a_removed_submission_can_come_again() {
    let dir = TempDir::new("remove");
    let patient = patient(1);
    patient_add(dir.path(), &[&patient.to_string()]);
    let daemon = start_registry(dir.path(), &[]);
    let address = daemon.address;
    let original = documents("1.2.250.1.999.62.1", &patient, &["1.2.250.1.999.62.11"]);
    assert_eq!(register(address, &original).status, ResponseStatus::Success);
    let set = contents(address, "1.2.250.1.999.62.1").expect("registered");
    let member = set.associations[0].0;
    let document = set.documents[0];

    // Unknown object: UnresolvedReferenceException.
    let unknown = Uuid::new_v4([9; 16]);
    refused(
        &remove(address, &[unknown, document]),
        XdsErrorCode::UnresolvedReferenceException,
    );
    // The SubmissionSet alone: its HasMember stays and points at it.
    let response = remove(address, &[set.set]);
    refused(&response, XdsErrorCode::ReferencesExistException);
    assert!(
        response.errors[0].code_context.contains(&member.to_urn()),
        "{response:?}"
    );
    // The entry and its HasMember without the SubmissionSet: the set would hold nothing.
    refused(
        &remove(address, &[document, member]),
        XdsErrorCode::UnreferencedObjectException,
    );
    // The HasMember alone: both.
    let response = remove(address, &[member]);
    refused(&response, XdsErrorCode::UnreferencedObjectException);
    assert_eq!(
        response.errors.len(),
        2,
        "the set and the entry: {response:?}"
    );
    assert_eq!(
        documents_found(address, &["1.2.250.1.999.62.11"]),
        1,
        "nothing changed"
    );

    // An appendix in another submission references the entry.
    let mut appendix = documents("1.2.250.1.999.62.2", &patient, &["1.2.250.1.999.62.21"]);
    let appended = appendix.document_entries[0].entry_uuid.clone();
    appendix.associations.push(Association::new(
        ObjectId::parse("apnd").expect("id"),
        AssociationType::Append,
        appended,
        ObjectId::Uuid(document),
    ));
    assert_eq!(
        register(address, &appendix).status,
        ResponseStatus::Success,
        "APND"
    );
    let response = remove(address, &[set.set, document, member]);
    refused(&response, XdsErrorCode::ReferencesExistException);
    assert!(
        response.errors[0].code_context.contains("APND"),
        "{response:?}"
    );

    // The appendix set (with its APND), then the original: both gone.
    let appendix_set = contents(address, "1.2.250.1.999.62.2").expect("appendix");
    let mut all: Vec<Uuid> = vec![appendix_set.set];
    all.extend(&appendix_set.documents);
    all.extend(
        appendix_set
            .associations
            .iter()
            .map(|association| association.0),
    );
    let apnd = query(
        address,
        &leaf(StoredQuery::GetAssociations {
            uuids: vec![document],
        }),
    )
    .metadata
    .associations
    .into_iter()
    .find(|association| association.association_type == AssociationType::Append)
    .expect("the APND");
    all.push(uuid(&apnd.entry_uuid));
    assert_eq!(remove(address, &all).status, ResponseStatus::Success);
    assert_eq!(
        remove(address, &[set.set, document, member]).status,
        ResponseStatus::Success
    );
    assert_eq!(
        documents_found(address, &["1.2.250.1.999.62.11", "1.2.250.1.999.62.21"]),
        0
    );
    assert!(contents(address, "1.2.250.1.999.62.1").is_none());
    // Removing again: the objects are unknown now.
    refused(
        &remove(address, &[document]),
        XdsErrorCode::UnresolvedReferenceException,
    );

    // The same submission again (same uniqueIds): registered anew, not "already registered".
    assert_eq!(register(address, &original).status, ResponseStatus::Success);
    let again = contents(address, "1.2.250.1.999.62.1").expect("registered again");
    assert_ne!(again.set, set.set, "new entryUUIDs");
    assert_eq!(documents_found(address, &["1.2.250.1.999.62.11"]), 1);

    // An acknowledged removal survives a crash (SIGKILL right after the answer).
    let mut again_all = vec![again.set];
    again_all.extend(&again.documents);
    again_all.extend(again.associations.iter().map(|association| association.0));
    assert_eq!(remove(address, &again_all).status, ResponseStatus::Success);
    daemon.kill();
    let daemon = start_registry(dir.path(), &[]);
    assert_eq!(documents_found(daemon.address, &["1.2.250.1.999.62.11"]), 0);
    assert!(contents(daemon.address, "1.2.250.1.999.62.1").is_none());
}

#[test]
fn the_dmp_profile_has_no_remove_metadata() {
    let dir = TempDir::new("remove-dmp");
    let config = fr_dmp_registry_config(dir.path());
    let data = dir.path().join("data");
    let daemon = start_registry(&data, &["--config", config.to_str().expect("utf-8")]);
    let body =
        xds::wire::Body::RemoveObjects(xds::transform::remove_metadata_to_wire(&RemoveMetadata {
            object_refs: vec![Uuid::new_v4([7; 16])],
        }));
    let answer = post(
        daemon.address,
        PATH,
        SOAP,
        envelope(xds::transaction::Transaction::Iti62, &body).as_bytes(),
    );
    let text = answer.text();
    assert!(answer.status >= 400, "{text}");
    assert!(text.contains("ActionNotSupported"), "{text}");
}

/// Under the DMP access policy (here with the plain profile, which serves ITI-62) metadata is
/// never removed: the request is refused with its token, changes nothing, and is audited like
/// the removals an open registry performs.
#[test]
fn the_dmp_policy_refuses_removal_and_every_removal_is_audited() {
    let dir = TempDir::new("remove-policy");
    let patient = patient(1);
    let data = dir.path().join("data");
    patient_add(&data, &[&patient.to_string()]);
    let daemon = start_registry(&data, &[]);
    let submission = documents("1.2.250.1.999.62.5", &patient, &["1.2.250.1.999.62.51"]);
    assert_eq!(
        register(daemon.address, &submission).status,
        ResponseStatus::Success
    );
    let set = contents(daemon.address, "1.2.250.1.999.62.5").expect("registered");
    let everything: Vec<Uuid> = std::iter::once(set.set)
        .chain(set.documents.iter().copied())
        .chain(set.associations.iter().map(|association| association.0))
        .collect();
    drop(daemon);

    let config = dir.path().join("dmp-policy.toml");
    let mut text = std::fs::read_to_string(registry_dev_config()).expect("dev config");
    text.push_str("\n[access]\npolicy = \"dmp\"\n");
    std::fs::write(&config, text).expect("config");
    let daemon = start_registry(&data, &["--config", config.to_str().expect("utf-8")]);
    let response = remove(daemon.address, &everything);
    assert_eq!(response.status, ResponseStatus::Failure);
    assert!(
        response.errors[0]
            .code_context
            .starts_with("ACCESS_NOT_AUTHORISED"),
        "{response:?}"
    );
    drop(daemon);

    // The open registry finds everything still there, removes it, and the patient's history
    // shows both removals, refused then done.
    let daemon = start_registry(&data, &[]);
    assert_eq!(documents_found(daemon.address, &["1.2.250.1.999.62.51"]), 1);
    assert_eq!(
        remove(daemon.address, &everything).status,
        ResponseStatus::Success
    );
    assert_eq!(documents_found(daemon.address, &["1.2.250.1.999.62.51"]), 0);
    let history = whole_history(daemon.address, PATH, &patient.format());
    let removals: Vec<&String> = history
        .iter()
        .filter(|entry| entry.contains("transaction=\"ITI-62\""))
        .collect();
    assert_eq!(removals.len(), 2, "{history:?}");
    assert!(
        removals[0].contains("outcome=\"allowed\""),
        "{}",
        removals[0]
    );
    assert!(
        removals[1].contains("outcome=\"denied\""),
        "{}",
        removals[1]
    );
}
