//! The registry service on the in-memory engine: association effects that need several
//! submissions (XFRM/APND children of a replaced entry, patient checks of targets).

mod common;

use std::sync::Arc;

use common::*;
use xds::ResponseStatus;
use xds::model::*;
use xds_registry::identity::IdentityPolicy;
use xds_registry::service::{QuerySettings, RegisterSettings, Registry};
use xds_registry::store::kv::KvMetadataStore;
use xds_registry::store::mem::MemEngine;

fn registry() -> Registry {
    let store = Arc::new(KvMetadataStore::new(MemEngine::new()).expect("store"));
    let registry = Registry::start(
        store,
        Arc::new(xds::validate::IheXdsB),
        RegisterSettings {
            identity: Arc::new(IdentityPolicy::development()),
            ..RegisterSettings::default()
        },
        QuerySettings::default(),
    )
    .expect("registry");
    registry
        .add_patients_blocking(vec![patient(1), patient(2)])
        .expect("patients");
    registry
}

fn uuid_of(registry: &Registry, unique_id: &str) -> Uuid {
    let found = registry.query_blocking(&leaf(StoredQuery::GetDocuments {
        selector: ObjectSelector::UniqueIds(vec![unique_id.to_owned()]),
    }));
    found.metadata.document_entries[0]
        .entry_uuid
        .as_uuid()
        .expect("uuid")
}

fn status_of(registry: &Registry, unique_id: &str) -> Option<AvailabilityStatus> {
    let found = registry.query_blocking(&leaf(StoredQuery::GetDocuments {
        selector: ObjectSelector::UniqueIds(vec![unique_id.to_owned()]),
    }));
    found.metadata.document_entries[0]
        .availability_status
        .clone()
}

fn relate(
    set: &str,
    patient_number: u32,
    unique_id: &str,
    kind: AssociationType,
    target: Uuid,
) -> Metadata {
    let mut metadata = documents(set, &patient(patient_number), &[unique_id]);
    metadata.associations.push(Association::new(
        ObjectId::Symbolic("rel".to_owned()),
        kind,
        ObjectId::Symbolic("Doc0".to_owned()),
        ObjectId::Uuid(target),
    ));
    metadata
}

#[test]
fn replacing_deprecates_the_appendices_and_transforms_of_the_original() {
    let registry = registry();
    assert_eq!(
        registry
            .register_blocking(documents("2.999.1.1", &patient(1), &["2.999.2.1"]))
            .status,
        ResponseStatus::Success
    );
    let original = uuid_of(&registry, "2.999.2.1");
    let append = registry.register_blocking(relate(
        "2.999.1.2",
        1,
        "2.999.2.2",
        AssociationType::Append,
        original,
    ));
    assert_eq!(
        append.status,
        ResponseStatus::Success,
        "{:?}",
        append.errors
    );
    let transform = registry.register_blocking(relate(
        "2.999.1.3",
        1,
        "2.999.2.3",
        AssociationType::Transform,
        original,
    ));
    assert_eq!(
        transform.status,
        ResponseStatus::Success,
        "{:?}",
        transform.errors
    );
    assert_eq!(
        status_of(&registry, "2.999.2.2"),
        Some(AvailabilityStatus::Approved)
    );

    let replace = registry.register_blocking(relate(
        "2.999.1.4",
        1,
        "2.999.2.4",
        AssociationType::TransformAndReplace,
        original,
    ));
    assert_eq!(
        replace.status,
        ResponseStatus::Success,
        "{:?}",
        replace.errors
    );
    for deprecated in ["2.999.2.1", "2.999.2.2", "2.999.2.3"] {
        assert_eq!(
            status_of(&registry, deprecated),
            Some(AvailabilityStatus::Deprecated),
            "{deprecated}"
        );
    }
    assert_eq!(
        status_of(&registry, "2.999.2.4"),
        Some(AvailabilityStatus::Approved)
    );
}

#[test]
fn a_relationship_to_another_patients_document_fails() {
    let registry = registry();
    assert_eq!(
        registry
            .register_blocking(documents("2.999.1.1", &patient(1), &["2.999.2.1"]))
            .status,
        ResponseStatus::Success
    );
    let original = uuid_of(&registry, "2.999.2.1");
    let response = registry.register_blocking(relate(
        "2.999.1.2",
        2,
        "2.999.2.2",
        AssociationType::Replace,
        original,
    ));
    assert_eq!(response.status, ResponseStatus::Failure);
    assert_eq!(codes(&response), ["XDSPatientIdDoesNotMatch"]);
    assert_eq!(
        status_of(&registry, "2.999.2.1"),
        Some(AvailabilityStatus::Approved),
        "nothing changed"
    );
}

#[test]
fn a_relationship_to_an_unknown_document_is_unresolved() {
    let registry = registry();
    let missing = Uuid::parse_urn("urn:uuid:00000000-0000-4000-8000-000000000001").expect("uuid");
    let response = registry.register_blocking(relate(
        "2.999.1.2",
        1,
        "2.999.2.2",
        AssociationType::Signs,
        missing,
    ));
    assert_eq!(response.status, ResponseStatus::Failure);
    assert_eq!(codes(&response), ["UnresolvedReferenceException"]);
}

#[test]
fn an_existing_document_can_join_a_new_submission_by_reference() {
    let registry = registry();
    assert_eq!(
        registry
            .register_blocking(documents("2.999.1.1", &patient(1), &["2.999.2.1"]))
            .status,
        ResponseStatus::Success
    );
    let existing = uuid_of(&registry, "2.999.2.1");
    let mut metadata = documents("2.999.1.2", &patient(1), &["2.999.2.2"]);
    metadata.associations.push(has_member(
        "ref",
        "SubmissionSet01",
        ObjectId::Uuid(existing),
        Some(SubmissionSetStatus::Reference),
    ));
    let response = registry.register_blocking(metadata);
    assert_eq!(
        response.status,
        ResponseStatus::Success,
        "{:?}",
        response.errors
    );
    let contents = registry.query_blocking(&leaf(StoredQuery::GetSubmissionSetAndContents {
        selector: ObjectSelector::UniqueIds(vec!["2.999.1.2".to_owned()]),
        filter: ContentFilter::default(),
    }));
    assert_eq!(contents.metadata.document_entries.len(), 2);
}
