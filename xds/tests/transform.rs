//! wire -> model checks: every violation is reported at once, with its code and location; the
//! canonical sample survives model -> wire -> XML -> wire -> model unchanged.

// In test helpers a panic is the failure report, so unwrapping is the point.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::sample;
use xds::XdsErrorCode;
use xds::model::vocabulary as vocab;
use xds::model::*;
use xds::transform::{self, Options, Violation};
use xds::wire::{self, Body, Identifiable, Limits, MemorySink};

fn to_xml_and_back(metadata: &Metadata, options: Options) -> Result<Metadata, Vec<Violation>> {
    let xml = wire::write_body_document(&Body::SubmitObjects(transform::submit_objects_to_wire(
        metadata,
    )));
    let Body::SubmitObjects(request) = wire::decode_body_xml(
        xml.as_bytes(),
        &Limits::default(),
        &mut MemorySink::default(),
    )
    .unwrap() else {
        panic!()
    };
    transform::submit_objects_from_wire(&request, options)
}

fn wire_objects(metadata: &Metadata) -> Vec<Identifiable> {
    transform::submit_objects_to_wire(metadata).objects
}

fn violations(objects: &[Identifiable], options: Options) -> Vec<Violation> {
    transform::metadata_from_wire(objects, options).expect_err("must be refused")
}

fn extrinsic(objects: &mut [Identifiable], index: usize) -> &mut wire::ExtrinsicObject {
    objects
        .iter_mut()
        .filter_map(|object| match object {
            Identifiable::ExtrinsicObject(extrinsic) => Some(extrinsic),
            _ => None,
        })
        .nth(index)
        .unwrap()
}

fn slot_mut<'a>(object: &'a mut wire::RegistryObject, name: &str) -> &'a mut wire::Slot {
    object
        .slots
        .iter_mut()
        .find(|slot| slot.name.as_deref() == Some(name))
        .unwrap()
}

#[test]
fn the_full_sample_round_trips_through_xml() {
    for metadata in [sample::submission(), sample::stored_metadata()] {
        assert_eq!(
            to_xml_and_back(&metadata, Options::REGISTRY).unwrap(),
            metadata
        );
    }
}

#[test]
fn child_ids_are_stable_and_distinct() {
    let parent = ObjectId::Uuid(sample::uuid(
        "urn:uuid:a1b2c3d4-0000-4000-8000-000000000002",
    ));
    assert_eq!(
        transform::child_id(&parent, 1),
        transform::child_id(&parent, 1)
    );
    let ids: std::collections::HashSet<String> = (1..200)
        .map(|ordinal| transform::child_id(&parent, ordinal))
        .collect();
    assert_eq!(ids.len(), 199);
    assert!(ids.iter().all(|id| Uuid::parse_urn(id).is_ok()));
    assert_eq!(
        transform::child_id(&ObjectId::Symbolic("Doc1".into()), 3),
        "Doc1.3"
    );
}

#[test]
fn every_violation_is_reported_at_once_with_its_location() {
    let mut objects = wire_objects(&sample::submission());
    let entry = extrinsic(&mut objects, 0);
    slot_mut(&mut entry.object, vocab::SLOT_CREATION_TIME).values = vec!["2024-03-15".into()];
    slot_mut(&mut entry.object, vocab::SLOT_HASH).values = vec!["abc".into()];
    slot_mut(&mut entry.object, vocab::SLOT_SERVICE_START_TIME)
        .values
        .push("20240101".into());
    entry.object.external_identifiers[0].value = Some("P1|x^^^&1.2&ISO".into());
    entry.object.classifications.push(wire::Classification {
        classification_scheme: Some("urn:uuid:00000000-0000-4000-8000-000000000000".into()),
        classified_object: entry.object.id.clone(),
        ..wire::Classification::default()
    });
    let second = extrinsic(&mut objects, 1);
    second.object.classifications.retain(|classification| {
        classification.classification_scheme.as_deref() != Some(vocab::DE_CLASS_CODE)
    });
    let class_code = second
        .object
        .classifications
        .iter_mut()
        .find(|classification| {
            classification.classification_scheme.as_deref() == Some(vocab::DE_TYPE_CODE)
        });
    class_code.unwrap().object.slots.clear();
    let found = violations(&objects, Options::REGISTRY);
    let described: Vec<(XdsErrorCode, String, String)> = found
        .iter()
        .map(|violation| {
            (
                violation.code,
                violation.location.clone(),
                violation.message.clone(),
            )
        })
        .collect();
    let has = |location: &str, fragment: &str| {
        described.iter().any(|(code, found_location, message)| {
            *code == XdsErrorCode::RegistryMetadataError
                && found_location == location
                && message.contains(fragment)
        })
    };
    assert!(
        has("ExtrinsicObject Document01", "creationTime: not an HL7 DTM"),
        "{described:#?}"
    );
    assert!(
        has(
            "ExtrinsicObject Document01",
            "hash: not 40 hexadecimal digits"
        ),
        "{described:#?}"
    );
    assert!(
        has(
            "ExtrinsicObject Document01 / slot serviceStartTime",
            "takes one value, got 2"
        ),
        "{described:#?}"
    );
    assert!(
        has(
            "ExtrinsicObject Document01",
            "patientId: unescaped HL7 separator '|'"
        ),
        "{described:#?}"
    );
    assert!(
        has("ExtrinsicObject Document01", "unknown classificationScheme"),
        "{described:#?}"
    );
    assert!(
        has(
            "ExtrinsicObject Document02 / typeCode",
            "has no codingScheme slot"
        ),
        "{described:#?}"
    );
    assert_eq!(found.len(), 6, "{described:#?}");
}

#[test]
fn the_repository_reports_repository_metadata_errors() {
    let mut objects = wire_objects(&sample::submission());
    slot_mut(&mut extrinsic(&mut objects, 0).object, vocab::SLOT_SIZE).values = vec!["-1".into()];
    let found = violations(&objects, Options::REPOSITORY);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].code, XdsErrorCode::RepositoryMetadataError);
    assert!(
        found[0]
            .message
            .contains("size: not a non-negative integer")
    );
}

#[test]
fn registry_packages_must_be_labelled() {
    let mut objects = wire_objects(&sample::submission());
    for object in &mut objects {
        if let Identifiable::RegistryPackage(package) = object {
            package
                .object
                .classifications
                .retain(|classification| classification.classification_node.is_none());
        }
    }
    let found = violations(&objects, Options::REGISTRY);
    let messages: Vec<&str> = found
        .iter()
        .map(|violation| violation.message.as_str())
        .collect();
    assert_eq!(
        messages,
        vec![
            "RegistryPackage is classified neither as SubmissionSet nor as Folder",
            "RegistryPackage is classified neither as SubmissionSet nor as Folder"
        ]
    );
    assert_eq!(found[0].location, "RegistryPackage SubmissionSet01");
}

#[test]
fn labelling_classifications_may_be_siblings() {
    // NIST style: the SubmissionSet classification is a sibling in the RegistryObjectList.
    let mut objects = wire_objects(&sample::submission());
    let mut moved = Vec::new();
    for object in &mut objects {
        if let Identifiable::RegistryPackage(package) = object {
            let (labels, rest): (Vec<_>, Vec<_>) = package
                .object
                .classifications
                .drain(..)
                .partition(|classification| classification.classification_node.is_some());
            package.object.classifications = rest;
            moved.extend(labels);
        }
    }
    objects.extend(moved.into_iter().map(Identifiable::Classification));
    let metadata = transform::metadata_from_wire(&objects, Options::REGISTRY).unwrap();
    assert_eq!(metadata, sample::submission());
    // A sibling that classifies nothing in the message is refused.
    objects.push(Identifiable::Classification(wire::Classification {
        classified_object: Some("Nowhere".into()),
        classification_node: Some(vocab::SUBMISSION_SET_NODE.into()),
        ..wire::Classification::default()
    }));
    let found = violations(&objects, Options::REGISTRY);
    assert!(
        found[0].message.contains("classifies \"Nowhere\""),
        "{found:?}"
    );
}

#[test]
fn association_problems_are_precise() {
    let mut objects = wire_objects(&sample::submission());
    for object in &mut objects {
        if let Identifiable::Association(association) = object {
            match association.object.id.as_deref() {
                Some("ss-doc1") => association.association_type = Some("HasMember".into()),
                Some("ss-doc2") => association.target_object = None,
                Some("rplc") => association.source_object = Some("urn:uuid:not-a-uuid".into()),
                Some("signs") => association.object.id = None,
                _ => {}
            }
        }
    }
    let found = violations(&objects, Options::REGISTRY);
    let messages: Vec<String> = found
        .iter()
        .map(|violation| format!("{}: {}", violation.location, violation.message))
        .collect();
    assert!(
        messages.contains(&"Association ss-doc1: unknown associationType \"HasMember\"".to_owned()),
        "{messages:#?}"
    );
    assert!(
        messages.contains(&"Association ss-doc2: targetObject is missing".to_owned()),
        "{messages:#?}"
    );
    assert!(
        messages
            .iter()
            .any(|message| message.starts_with("Association rplc: sourceObject: not a UUID URN")),
        "{messages:#?}"
    );
    assert_eq!(
        found.len(),
        3,
        "an association without id gets one: {messages:#?}"
    );
}

#[test]
fn provide_and_register_pairs_documents_with_entries() {
    let metadata = sample::submission();
    let mut request = wire::ProvideAndRegisterRequest {
        submit: transform::submit_objects_to_wire(&metadata),
        documents: vec![
            wire::Document {
                id: Some("Document01".into()),
                content: wire::Attachment {
                    handle: vec![1u8],
                    size: 1,
                    content_type: None,
                    content_id: None,
                },
            },
            wire::Document {
                id: Some("Stray".into()),
                content: wire::Attachment {
                    handle: vec![2u8],
                    size: 1,
                    content_type: None,
                    content_id: None,
                },
            },
        ],
    };
    let found = transform::provide_and_register_from_wire(request.clone(), Options::REPOSITORY)
        .unwrap_err();
    let codes: Vec<(XdsErrorCode, &str)> = found
        .iter()
        .map(|violation| (violation.code, violation.location.as_str()))
        .collect();
    assert_eq!(
        codes,
        vec![
            (XdsErrorCode::MissingDocument, "ExtrinsicObject Document02"),
            (XdsErrorCode::MissingDocumentMetadata, "xds:Document Stray"),
        ]
    );
    request.documents[1].id = Some("Document02".into());
    let model =
        transform::provide_and_register_from_wire(request.clone(), Options::REPOSITORY).unwrap();
    assert_eq!(model.documents.len(), 2);
    request.documents[1].id = Some("Document01".into());
    let found =
        transform::provide_and_register_from_wire(request, Options::REPOSITORY).unwrap_err();
    assert!(
        found
            .iter()
            .any(|violation| violation.message.contains("two xds:Document elements")),
        "{found:?}"
    );
}

#[test]
fn remove_metadata_follows_the_rmd_restrictions() {
    let request = wire::RemoveObjectsRequest {
        deletion_scope: Some("urn:oasis:names:tc:ebxml-regrep:DeletionScopeType:DeleteAll".into()),
        query: Some(wire::AdhocQuery::default()),
        object_refs: Some(vec![wire::ObjectRef {
            id: Some("Document01".into()),
            ..wire::ObjectRef::default()
        }]),
        ..wire::RemoveObjectsRequest::default()
    };
    let found = transform::remove_metadata_from_wire(&request, Options::REGISTRY).unwrap_err();
    let messages: Vec<&str> = found
        .iter()
        .map(|violation| violation.message.as_str())
        .collect();
    assert_eq!(messages.len(), 3, "{messages:?}");
    assert!(messages.contains(&"ITI-62 does not allow rim:AdhocQuery"));
    assert!(messages.contains(&"ITI-62 does not allow deletionScope"));
    assert!(
        messages
            .iter()
            .any(|message| message.contains("not a UUID URN"))
    );
    let empty = wire::RemoveObjectsRequest {
        object_refs: Some(vec![]),
        ..wire::RemoveObjectsRequest::default()
    };
    assert_eq!(
        transform::remove_metadata_from_wire(&empty, Options::REGISTRY).unwrap_err()[0].message,
        "rim:ObjectRefList is empty"
    );
}

#[test]
fn responses_from_peers_are_read_strictly() {
    let response = wire::RegistryResponse {
        status: Some("urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Failure".into()),
        errors: Some(wire::RegistryErrorList {
            highest_severity: None,
            errors: vec![
                wire::RegistryError {
                    error_code: Some("XDSUnknownPatientId".into()),
                    code_context: Some("P1".into()),
                    ..Default::default()
                },
                wire::RegistryError {
                    error_code: Some("VendorSpecific".into()),
                    ..Default::default()
                },
            ],
        }),
        ..Default::default()
    };
    let found = transform::registry_response_from_wire(&response).unwrap_err();
    assert_eq!(found.len(), 1);
    assert!(found[0].message.contains("VendorSpecific"));
    let mut good = response.clone();
    good.errors.as_mut().unwrap().errors.pop();
    let model = transform::registry_response_from_wire(&good).unwrap();
    assert_eq!(
        model.errors[0].severity,
        xds::Severity::Error,
        "absent severity defaults to Error"
    );
    assert_eq!(model.status, xds::ResponseStatus::Failure);
}
