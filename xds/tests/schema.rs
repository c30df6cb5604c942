//! What the writer emits for every request and response type validates against the XML schemas
//! of the shared folder (ebRIM/ebRS 3.0, XDS.b, RMD, SOAP 1.2), checked with xmllint.

// In test helpers a panic is the failure report, so unwrapping is the point.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::sample;
use xds::error::{RegistryError, RegistryResponse, XdsErrorCode};
use xds::model::*;
use xds::transaction::Transaction;
use xds::transform;
use xds::wire::{self, Body, Header, OutContent};

fn header(transaction: Transaction) -> Header {
    Header {
        action: Some(transaction.action().to_owned()),
        action_must_understand: true,
        message_id: Some("urn:uuid:5b3a1d2e-8c4f-4a7b-b1e9-2d6c0a9f1e18".to_owned()),
        reply_to: Some(wire::EndpointReference {
            address: Some(wire::names::WSA_ANONYMOUS.to_owned()),
        }),
        to: Some("https://registry.example.org/xds/registry".to_owned()),
        ..Header::default()
    }
}

fn response_header(transaction: Transaction) -> Header {
    Header {
        action: Some(transaction.response_action().to_owned()),
        relates_to: Some("urn:uuid:5b3a1d2e-8c4f-4a7b-b1e9-2d6c0a9f1e18".to_owned()),
        ..Header::default()
    }
}

/// Validates the body as a standalone document and inside a SOAP envelope.
fn check(name: &str, header: &Header, body: Body<OutContent>) {
    let document = wire::write_body_document(&body);
    if let Err(complaint) = common::xmllint_validate(&document, name) {
        panic!("{name}: body is not schema-valid:\n{complaint}\n{document}");
    }
    let envelope = wire::write_envelope(header, &body);
    if let Err(complaint) = common::xmllint_validate(&envelope, &format!("{name}-envelope")) {
        panic!("{name}: envelope is not schema-valid:\n{complaint}\n{envelope}");
    }
}

fn errors() -> Vec<RegistryError> {
    vec![
        RegistryError::error(XdsErrorCode::UnknownPatientId, "P1^^^&1.2&ISO").at("SubmissionSet01"),
        RegistryError::warning(XdsErrorCode::ExtraMetadataNotSaved, "urn:example:extra"),
    ]
}

#[test]
fn register_and_update_requests_are_schema_valid() {
    check(
        "iti42",
        &header(Transaction::Iti42),
        Body::SubmitObjects(transform::submit_objects_to_wire(&sample::submission())),
    );
    check(
        "iti57",
        &header(Transaction::Iti57),
        Body::SubmitObjects(transform::submit_objects_to_wire(&sample::stored_metadata())),
    );
}

#[test]
fn provide_and_register_is_schema_valid_inline_and_after_xop_reconstitution() {
    let metadata = sample::submission();
    let request = ProvideAndRegister {
        documents: metadata
            .document_entries
            .iter()
            .map(|entry| Document {
                id: entry.entry_uuid.clone(),
                content: b"Patient seen for follow-up.\n".to_vec(),
            })
            .collect(),
        metadata,
    };
    let inline = transform::provide_and_register_to_wire(&request, |document| {
        OutContent::Inline(document.content.clone())
    });
    check(
        "iti41-inline",
        &header(Transaction::Iti41),
        Body::ProvideAndRegister(inline),
    );
    // An XOP package is validated on its reconstituted infoset (xop:Include replaced by the
    // base64 of the part), which is what the schema describes.
    let mut counter = 0;
    let xop = transform::provide_and_register_to_wire(&request, |_| {
        counter += 1;
        OutContent::Xop {
            cid: format!("doc{counter}@example.org"),
        }
    });
    let document = wire::write_body_document(&Body::ProvideAndRegister(xop));
    assert!(document.contains("<xop:Include"));
    let reconstituted = document
        .split("<xop:Include")
        .enumerate()
        .map(|(index, piece)| {
            if index == 0 {
                piece.to_owned()
            } else {
                format!("UGF0aWVudA=={}", &piece[piece.find("/>").unwrap() + 2..])
            }
        })
        .collect::<String>();
    common::xmllint_validate(&reconstituted, "iti41-xop")
        .unwrap_or_else(|complaint| panic!("{complaint}\n{reconstituted}"));
}

#[test]
fn every_stored_query_request_is_schema_valid() {
    let uuid = sample::uuid("urn:uuid:a1b2c3d4-0000-4000-8000-000000000002");
    let patient = sample::patient();
    let mut find = FindDocumentsQuery::new(
        patient.clone(),
        vec![AvailabilityStatus::Approved, AvailabilityStatus::Deprecated],
    );
    find.class_codes = vec![vec![CodeParam::new("11488-4", "2.16.840.1.113883.6.1")]];
    find.event_codes = vec![
        vec![CodeParam::new("a", "b")],
        vec![CodeParam::new("c", "d")],
    ];
    find.creation_time = TimeRange {
        from: Dtm::parse("2024").ok(),
        to: Dtm::parse("20250101").ok(),
    };
    find.author_persons = vec![vec!["%Smith%".to_owned(), "O'Neil%".to_owned()]];
    find.document_types = vec![DocumentEntryType::Stable, DocumentEntryType::OnDemand];
    let mut by_reference = find.clone();
    by_reference.reference_ids = vec![vec![
        "A-2013001^^^&1.2.3.4.5.6&ISO^urn:ihe:iti:xds:2013:accession".to_owned(),
    ]];
    let queries = vec![
        StoredQuery::FindDocuments(find),
        StoredQuery::FindDocumentsByReferenceId(by_reference),
        StoredQuery::FindSubmissionSets(FindSubmissionSetsQuery {
            patient_id: patient.clone(),
            source_ids: vec!["2.999.4.1".to_owned()],
            submission_time: TimeRange {
                from: Dtm::parse("20240101").ok(),
                to: None,
            },
            author_person: Some("%DURANT%".to_owned()),
            content_type_codes: vec![vec![CodeParam::new("CT-VISIT", "2.999.40.3")]],
            statuses: vec![AvailabilityStatus::Approved],
        }),
        StoredQuery::FindFolders(FindFoldersQuery {
            patient_id: patient.clone(),
            last_update_time: TimeRange::default(),
            codes: vec![vec![CodeParam::new("x", "y")]],
            statuses: vec![AvailabilityStatus::Approved],
        }),
        StoredQuery::GetAll(GetAllQuery {
            patient_id: patient,
            document_statuses: vec![AvailabilityStatus::Approved],
            submission_set_statuses: vec![AvailabilityStatus::Approved],
            folder_statuses: vec![AvailabilityStatus::Approved],
            format_codes: Vec::new(),
            confidentiality_codes: vec![vec![CodeParam::new("N", "2.16.840.1.113883.5.25")]],
            document_types: Vec::new(),
        }),
        StoredQuery::GetDocuments {
            selector: ObjectSelector::Uuids(vec![uuid]),
        },
        StoredQuery::GetFolders {
            selector: ObjectSelector::UniqueIds(vec!["2.999.6.1.1".to_owned()]),
        },
        StoredQuery::GetAssociations { uuids: vec![uuid] },
        StoredQuery::GetDocumentsAndAssociations {
            selector: ObjectSelector::Uuids(vec![uuid]),
        },
        StoredQuery::GetSubmissionSets { uuids: vec![uuid] },
        StoredQuery::GetSubmissionSetAndContents {
            selector: ObjectSelector::UniqueIds(vec!["2.999.3.1".to_owned()]),
            filter: ContentFilter::default(),
        },
        StoredQuery::GetFolderAndContents {
            selector: ObjectSelector::Uuids(vec![uuid]),
            filter: ContentFilter::default(),
        },
        StoredQuery::GetFoldersForDocument {
            selector: ObjectSelector::Uuids(vec![uuid]),
        },
        StoredQuery::GetRelatedDocuments {
            selector: ObjectSelector::Uuids(vec![uuid]),
            association_types: vec![AssociationType::Replace, AssociationType::Signs],
            document_types: Vec::new(),
        },
    ];
    assert_eq!(queries.len(), StoredQueryId::ALL.len());
    for query in queries {
        let name = format!("iti18-{}", query.id());
        let request = StoredQueryRequest {
            query,
            return_type: ReturnType::LeafClass,
            home: Some("urn:oid:2.999.9.9".to_owned()),
            metadata_level: None,
        };
        check(
            &name,
            &header(Transaction::Iti18),
            Body::AdhocQuery(transform::stored_query_to_wire(&request)),
        );
    }
}

#[test]
fn query_responses_are_schema_valid() {
    let leaf = QueryResponse {
        response: RegistryResponse::success(),
        metadata: sample::stored_metadata(),
    };
    check(
        "iti18-leafclass",
        &response_header(Transaction::Iti18),
        Body::AdhocQueryResponse(transform::query_response_to_wire(&leaf)),
    );
    let refs = QueryResponse {
        response: RegistryResponse::success(),
        metadata: Metadata {
            object_refs: sample::stored_metadata().object_refs,
            ..Metadata::default()
        },
    };
    check(
        "iti18-objectref",
        &response_header(Transaction::Iti18),
        Body::AdhocQueryResponse(transform::query_response_to_wire(&refs)),
    );
    let failure = QueryResponse {
        response: RegistryResponse::from_partial(errors(), false),
        metadata: Metadata::default(),
    };
    check(
        "iti18-failure",
        &response_header(Transaction::Iti18),
        Body::AdhocQueryResponse(transform::query_response_to_wire(&failure)),
    );
    let partial = QueryResponse {
        response: RegistryResponse::from_partial(errors(), true),
        metadata: sample::stored_metadata(),
    };
    check(
        "iti18-partial",
        &response_header(Transaction::Iti18),
        Body::AdhocQueryResponse(transform::query_response_to_wire(&partial)),
    );
}

#[test]
fn registry_responses_are_schema_valid() {
    for (name, transaction, response) in [
        (
            "iti42-success",
            Transaction::Iti42,
            RegistryResponse::success(),
        ),
        (
            "iti42-failure",
            Transaction::Iti42,
            RegistryResponse::from_errors(errors()),
        ),
        (
            "iti41-warning",
            Transaction::Iti41,
            RegistryResponse::from_errors(vec![errors().remove(1)]),
        ),
        (
            "iti57-failure",
            Transaction::Iti57,
            RegistryResponse::from_errors(vec![RegistryError::error(
                XdsErrorCode::MetadataVersionError,
                "PreviousVersion 1, latest 2",
            )]),
        ),
        (
            "iti62-failure",
            Transaction::Iti62,
            RegistryResponse::from_errors(vec![RegistryError::error(
                XdsErrorCode::ReferencesExistException,
                "urn:uuid:a1b2c3d4-0000-4000-8000-000000000004",
            )]),
        ),
        (
            "iti86-partial",
            Transaction::Iti86,
            RegistryResponse::from_partial(
                vec![
                    RegistryError::error(XdsErrorCode::DocumentUniqueIdError, "unknown")
                        .at("1.2.3"),
                ],
                true,
            ),
        ),
    ] {
        check(
            name,
            &response_header(transaction),
            Body::RegistryResponse(transform::registry_response_to_wire(&response)),
        );
    }
}

#[test]
fn retrieve_and_remove_messages_are_schema_valid() {
    let requests = vec![
        DocumentRequest {
            home_community_id: Some("urn:oid:2.999.9.9".to_owned()),
            repository_unique_id: "2.999.5.1".to_owned(),
            document_unique_id: "2.999.2.1".to_owned(),
        },
        DocumentRequest {
            home_community_id: None,
            repository_unique_id: "2.999.5.1".to_owned(),
            document_unique_id: "1.2.3^ext".to_owned(),
        },
    ];
    check(
        "iti43-request",
        &header(Transaction::Iti43),
        Body::Retrieve(wire::RetrieveDocumentSetRequest {
            requests: transform::document_requests_to_wire(&requests),
        }),
    );
    let response = RetrieveResponse {
        response: RegistryResponse::from_partial(
            vec![
                RegistryError::error(XdsErrorCode::DocumentUniqueIdError, "not found")
                    .at("1.2.3^ext"),
            ],
            true,
        ),
        documents: vec![RetrievedDocument {
            home_community_id: Some("urn:oid:2.999.9.9".to_owned()),
            repository_unique_id: "2.999.5.1".to_owned(),
            document_unique_id: "2.999.2.1".to_owned(),
            new_repository_unique_id: None,
            new_document_unique_id: None,
            mime_type: "text/plain".to_owned(),
            content: b"Patient seen for follow-up.\n".to_vec(),
        }],
    };
    check(
        "iti43-response",
        &response_header(Transaction::Iti43),
        Body::RetrieveResponse(transform::retrieve_response_to_wire(
            &response,
            |document| OutContent::Inline(document.content.clone()),
        )),
    );
    let remove = RemoveMetadata {
        object_refs: vec![sample::uuid(
            "urn:uuid:a1b2c3d4-0000-4000-8000-000000000001",
        )],
    };
    check(
        "iti62-request",
        &header(Transaction::Iti62),
        Body::RemoveObjects(transform::remove_metadata_to_wire(&remove)),
    );
    // The NIST copy of rmd.xsd allows one DocumentRequest per RemoveDocumentsRequest (IPF's WSDL
    // allows several, xds-spec-brief.md §10.10); validate the form both accept.
    check(
        "iti86-request",
        &header(Transaction::Iti86),
        Body::RemoveDocuments(wire::RemoveDocumentsRequest {
            requests: transform::document_requests_to_wire(&requests[..1]),
        }),
    );
}

#[test]
fn faults_are_schema_valid() {
    let fault = wire::Fault {
        code: wire::FaultCode::Sender,
        subcodes: vec!["wsa:ActionNotSupported".to_owned()],
        reason: "The action urn:example:unknown is not supported at this endpoint".to_owned(),
        reason_lang: None,
        detail: Some("urn:example:unknown".to_owned()),
    };
    let envelope = wire::write_envelope(
        &Header {
            action: Some(wire::names::WSA_FAULT_ACTION.to_owned()),
            ..Header::default()
        },
        &Body::Fault(fault),
    );
    common::xmllint_validate(&envelope, "fault")
        .unwrap_or_else(|complaint| panic!("{complaint}\n{envelope}"));
}

#[test]
fn the_schema_check_rejects_invalid_documents() {
    // A RegistryResponse without its required status, inside a valid envelope.
    let body = Body::RegistryResponse(wire::RegistryResponse::default());
    let envelope = wire::write_envelope(&response_header(Transaction::Iti42), &body);
    let envelope = envelope.replace(" status=\"\"", "");
    let complaint = common::xmllint_validate(&envelope, "invalid-envelope")
        .expect_err("missing status must be refused");
    assert!(complaint.contains("status"), "{complaint}");
    // A Slot without its ValueList.
    let document = r#"<lcm:SubmitObjectsRequest xmlns:lcm="urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0" xmlns:rim="urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0"><rim:RegistryObjectList><rim:ExtrinsicObject id="a"><rim:Slot name="x"/></rim:ExtrinsicObject></rim:RegistryObjectList></lcm:SubmitObjectsRequest>"#;
    assert!(common::xmllint_validate(document, "invalid-slot").is_err());
    // A SOAP 1.2 fault whose code is not one of the five.
    let fault = wire::write_envelope(
        &Header::default(),
        &Body::Fault(wire::Fault {
            code: wire::FaultCode::Sender,
            subcodes: vec![],
            reason: "x".into(),
            reason_lang: None,
            detail: None,
        }),
    )
    .replace("soap:Sender", "soap:Bogus");
    assert!(common::xmllint_validate(&fault, "invalid-fault").is_err());
}
