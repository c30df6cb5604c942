//! `xds::validate`: the registry's and repository's structural checks of a submission.

mod common;

use common::sample;
use xds::XdsErrorCode;
use xds::model::*;
use xds::validate::{IheXdsB, Receiver, validate_submission};

fn codes(metadata: &Metadata, receiver: Receiver) -> Vec<XdsErrorCode> {
    validate_submission(metadata, receiver, &IheXdsB)
        .iter()
        .map(|error| error.code)
        .collect()
}

#[test]
fn the_sample_submission_is_valid_for_both_receivers() {
    let metadata = sample::submission();
    assert_eq!(
        validate_submission(&metadata, Receiver::Registry, &IheXdsB),
        Vec::new()
    );
    assert_eq!(
        validate_submission(&metadata, Receiver::Repository, &IheXdsB),
        Vec::new()
    );
}

#[test]
fn hash_size_and_repository_are_required_by_the_registry_only() {
    let mut metadata = sample::submission();
    metadata.document_entries[0].hash = None;
    metadata.document_entries[0].size = None;
    metadata.document_entries[0].repository_unique_id = None;
    assert_eq!(
        codes(&metadata, Receiver::Registry),
        vec![XdsErrorCode::RegistryMetadataError; 3]
    );
    assert_eq!(codes(&metadata, Receiver::Repository), Vec::new());
}

#[test]
fn every_problem_is_reported_with_its_code_and_location() {
    let mut metadata = sample::submission();
    let other = Cx::new("999", &Hd::iso(&sample::oid("1.2.250.1.213.1.4.10"))).with_type_code("NH");
    metadata.document_entries[1].patient_id = Some(other);
    metadata.document_entries[1].unique_id = metadata.document_entries[0].unique_id.clone();
    metadata.document_entries[0].class_code = None;
    metadata.associations[0].target = ObjectId::Symbolic("nowhere".to_owned());
    let errors = validate_submission(&metadata, Receiver::Registry, &IheXdsB);
    let found: Vec<XdsErrorCode> = errors.iter().map(|error| error.code).collect();
    for expected in [
        XdsErrorCode::PatientIdDoesNotMatch,
        XdsErrorCode::RegistryDuplicateUniqueIdInMessage,
        XdsErrorCode::RegistryMetadataError,
        XdsErrorCode::UnresolvedReferenceException,
    ] {
        assert!(
            found.contains(&expected),
            "{expected:?} missing from {errors:?}"
        );
    }
    assert!(
        errors
            .iter()
            .all(|error| !error.location.is_empty() && error.rule.is_some()),
        "{errors:?}"
    );
    // The repository names its own codes for the same problems.
    let repository = codes(&metadata, Receiver::Repository);
    assert!(
        repository.contains(&XdsErrorCode::RepositoryDuplicateUniqueIdInMessage),
        "{repository:?}"
    );
}

#[test]
fn a_submission_needs_exactly_one_submission_set() {
    let mut metadata = sample::submission();
    metadata.submission_sets.clear();
    assert!(codes(&metadata, Receiver::Registry).contains(&XdsErrorCode::RegistryMetadataError));
}
