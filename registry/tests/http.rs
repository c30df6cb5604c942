//! The real `xds-registry` binary over HTTP on loopback, a fresh data directory per test:
//! ITI-42 registration and its errors, ITI-18 queries, SOAP faults, restart and kill -9.

mod common;

use common::*;
use xds::ResponseStatus;
use xds::model::*;
use xds::transaction::Transaction;

fn started(name: &str, patients: &[&Cx]) -> (TempDir, Daemon) {
    let dir = TempDir::new(name);
    let ids: Vec<String> = patients.iter().map(|cx| cx.format()).collect();
    if !ids.is_empty() {
        patient_add(
            dir.path(),
            &ids.iter().map(String::as_str).collect::<Vec<_>>(),
        );
    }
    let daemon = start_registry(dir.path(), &[]);
    (dir, daemon)
}

#[test]
fn registers_and_finds_documents() {
    let alice = patient(1);
    let (_dir, daemon) = started("register", &[&alice]);
    let response = register(
        daemon.address,
        &documents("2.999.1.1", &alice, &["2.999.2.1", "2.999.2.2"]),
    );
    assert_eq!(
        response.status,
        ResponseStatus::Success,
        "{:?}",
        response.errors
    );

    let found = query(daemon.address, &find_documents(&alice));
    assert_eq!(found.response.status, ResponseStatus::Success);
    let mut unique_ids: Vec<String> = found
        .metadata
        .document_entries
        .iter()
        .map(|entry| {
            entry
                .unique_id
                .as_ref()
                .expect("uniqueId")
                .as_str()
                .to_owned()
        })
        .collect();
    unique_ids.sort();
    assert_eq!(unique_ids, ["2.999.2.1", "2.999.2.2"]);
    for entry in &found.metadata.document_entries {
        assert!(
            entry.entry_uuid.as_uuid().is_some(),
            "symbolic ids become UUIDs"
        );
        assert_eq!(
            entry.availability_status,
            Some(AvailabilityStatus::Approved)
        );
        assert_eq!(entry.patient_id.as_ref(), Some(&alice));
    }

    // ObjectRef answers carry references only.
    let mut by_reference = find_documents(&alice);
    by_reference.return_type = ReturnType::ObjectRef;
    let refs = query(daemon.address, &by_reference);
    assert_eq!(refs.metadata.object_refs.len(), 2);
    assert!(refs.metadata.document_entries.is_empty());

    // Another patient sees nothing; an unknown patient gets an empty Success (default policy).
    let nobody = query(daemon.address, &find_documents(&patient(999)));
    assert_eq!(nobody.response.status, ResponseStatus::Success);
    assert!(nobody.metadata.document_entries.is_empty());
}

#[test]
fn refuses_unknown_patients_and_duplicates_and_changes_nothing() {
    let alice = patient(1);
    let (_dir, daemon) = started("refuse", &[&alice]);
    let unknown = patient(2);
    let response = register(
        daemon.address,
        &documents("2.999.1.1", &unknown, &["2.999.2.1"]),
    );
    assert_eq!(response.status, ResponseStatus::Failure);
    assert_eq!(codes(&response), ["XDSUnknownPatientId"]);

    assert_eq!(
        register(
            daemon.address,
            &documents("2.999.1.2", &alice, &["2.999.2.9"])
        )
        .status,
        ResponseStatus::Success
    );
    // Same DocumentEntry uniqueId with another hash, and a reused SubmissionSet uniqueId:
    // every problem is reported at once, nothing is stored.
    let mut again = documents("2.999.1.2", &alice, &["2.999.2.9", "2.999.2.10"]);
    again.document_entries[0].hash =
        Sha1Hash::parse_hex("0000000000000000000000000000000000000001");
    let response = register(daemon.address, &again);
    assert_eq!(response.status, ResponseStatus::Failure);
    assert_includes(
        &response,
        &["XDSDuplicateUniqueIdInRegistry", "XDSNonIdenticalHash"],
    );
    let after = query(daemon.address, &find_documents(&alice));
    assert_eq!(
        after.metadata.document_entries.len(),
        1,
        "the failed submission stored nothing"
    );
}

#[test]
fn a_retried_submission_answers_success_without_duplicating() {
    let alice = patient(1);
    let (_dir, daemon) = started("retry", &[&alice]);
    let submission = documents("2.999.1.1", &alice, &["2.999.2.1"]);
    assert_eq!(
        register(daemon.address, &submission).status,
        ResponseStatus::Success
    );
    assert_eq!(
        register(daemon.address, &submission).status,
        ResponseStatus::Success
    );
    assert_eq!(
        query(daemon.address, &find_documents(&alice))
            .metadata
            .document_entries
            .len(),
        1
    );
}

#[test]
fn patient_mismatch_and_missing_attributes_are_reported_with_locations() {
    let alice = patient(1);
    let bob = patient(2);
    let (_dir, daemon) = started("mismatch", &[&alice, &bob]);
    let mut submission = documents("2.999.1.1", &alice, &["2.999.2.1"]);
    submission.document_entries[0].patient_id = Some(bob.clone());
    submission.document_entries[0].class_code = None;
    let response = register(daemon.address, &submission);
    assert_eq!(response.status, ResponseStatus::Failure);
    assert_includes(
        &response,
        &["XDSPatientIdDoesNotMatch", "XDSRegistryMetadataError"],
    );
    assert!(
        response.errors.iter().all(|error| error.location.is_some()),
        "{:?}",
        response.errors
    );
}

#[test]
fn replacement_deprecates_the_original_and_keeps_folders_current() {
    let alice = patient(1);
    let (_dir, daemon) = started("replace", &[&alice]);
    // A folder holding the original.
    let mut first = documents("2.999.1.1", &alice, &["2.999.2.1"]);
    let mut folder = Folder::new(ObjectId::Symbolic("Folder01".to_owned()));
    folder.codes = vec![code("Allergies", "2.999.40.7")];
    folder.patient_id = Some(alice.clone());
    folder.unique_id = Some(oid("2.999.6.1"));
    folder.title = vec![LocalizedString::new("Allergies")];
    first.folders.push(folder);
    first.associations.push(has_member(
        "hmF",
        "SubmissionSet01",
        ObjectId::Symbolic("Folder01".to_owned()),
        None,
    ));
    first.associations.push(has_member(
        "fd",
        "Folder01",
        ObjectId::Symbolic("Doc0".to_owned()),
        None,
    ));
    first.associations.push(has_member(
        "hmfd",
        "SubmissionSet01",
        ObjectId::Symbolic("fd".to_owned()),
        None,
    ));
    let response = register(daemon.address, &first);
    assert_eq!(
        response.status,
        ResponseStatus::Success,
        "{:?}",
        response.errors
    );
    let original = query(daemon.address, &find_documents(&alice))
        .metadata
        .document_entries[0]
        .clone();
    let original_uuid = original.entry_uuid.as_uuid().expect("uuid");

    let mut second = documents("2.999.1.2", &alice, &["2.999.2.2"]);
    second.associations.push(Association::new(
        ObjectId::Symbolic("rplc".to_owned()),
        AssociationType::Replace,
        ObjectId::Symbolic("Doc0".to_owned()),
        ObjectId::Uuid(original_uuid),
    ));
    let response = register(daemon.address, &second);
    assert_eq!(
        response.status,
        ResponseStatus::Success,
        "{:?}",
        response.errors
    );

    let approved = query(daemon.address, &find_documents(&alice))
        .metadata
        .document_entries;
    assert_eq!(approved.len(), 1);
    assert_eq!(
        approved[0].unique_id.as_ref().map(|id| id.as_str()),
        Some("2.999.2.2")
    );
    let mut deprecated_query = find_documents(&alice);
    if let StoredQuery::FindDocuments(query) = &mut deprecated_query.query {
        query.statuses = vec![AvailabilityStatus::Deprecated];
    }
    let deprecated = query(daemon.address, &deprecated_query)
        .metadata
        .document_entries;
    assert_eq!(deprecated.len(), 1);
    assert_eq!(deprecated[0].entry_uuid.as_uuid(), Some(original_uuid));

    // The folder now holds the replacement too.
    let contents = query(
        daemon.address,
        &leaf(StoredQuery::GetFolderAndContents {
            selector: ObjectSelector::UniqueIds(vec!["2.999.6.1".to_owned()]),
            filter: ContentFilter::default(),
        }),
    );
    let members: Vec<&str> = contents
        .metadata
        .document_entries
        .iter()
        .filter_map(|entry| entry.unique_id.as_ref().map(|id| id.as_str()))
        .collect();
    assert!(members.contains(&"2.999.2.2"), "{members:?}");

    // Replacing the deprecated original again fails.
    let mut third = documents("2.999.1.3", &alice, &["2.999.2.3"]);
    third.associations.push(Association::new(
        ObjectId::Symbolic("rplc".to_owned()),
        AssociationType::Replace,
        ObjectId::Symbolic("Doc0".to_owned()),
        ObjectId::Uuid(original_uuid),
    ));
    let response = register(daemon.address, &third);
    assert_eq!(response.status, ResponseStatus::Failure);
    assert_eq!(codes(&response), ["XDSRegistryDeprecatedDocumentError"]);

    // GetRelatedDocuments sees the RPLC from either end.
    let related = query(
        daemon.address,
        &leaf(StoredQuery::GetRelatedDocuments {
            selector: ObjectSelector::Uuids(vec![original_uuid]),
            association_types: vec![AssociationType::Replace],
            document_types: Vec::new(),
        }),
    );
    assert_eq!(related.metadata.document_entries.len(), 2);
    assert_eq!(related.metadata.associations.len(), 1);
}

#[test]
fn get_queries_and_single_patient_rule() {
    let alice = patient(1);
    let bob = patient(2);
    let (_dir, daemon) = started("get", &[&alice, &bob]);
    assert_eq!(
        register(
            daemon.address,
            &documents("2.999.1.1", &alice, &["2.999.2.1"])
        )
        .status,
        ResponseStatus::Success
    );
    assert_eq!(
        register(
            daemon.address,
            &documents("2.999.1.2", &bob, &["2.999.2.2"])
        )
        .status,
        ResponseStatus::Success
    );
    let both = leaf(StoredQuery::GetDocuments {
        selector: ObjectSelector::UniqueIds(vec!["2.999.2.1".to_owned(), "2.999.2.2".to_owned()]),
    });
    let response = query(daemon.address, &both);
    assert_eq!(response.response.status, ResponseStatus::Failure);
    assert_eq!(codes(&response.response), ["XDSResultNotSinglePatient"]);
    assert!(response.metadata.document_entries.is_empty());
    // ObjectRef is not restricted.
    let mut refs = both.clone();
    refs.return_type = ReturnType::ObjectRef;
    assert_eq!(query(daemon.address, &refs).metadata.object_refs.len(), 2);

    let one = query(
        daemon.address,
        &leaf(StoredQuery::GetSubmissionSetAndContents {
            selector: ObjectSelector::UniqueIds(vec!["2.999.1.1".to_owned()]),
            filter: ContentFilter::default(),
        }),
    );
    assert_eq!(one.response.status, ResponseStatus::Success);
    assert_eq!(one.metadata.submission_sets.len(), 1);
    assert_eq!(one.metadata.document_entries.len(), 1);
    assert_eq!(one.metadata.associations.len(), 1);
    let document_uuid = one.metadata.document_entries[0]
        .entry_uuid
        .as_uuid()
        .expect("uuid");

    let sets = query(
        daemon.address,
        &leaf(StoredQuery::GetSubmissionSets {
            uuids: vec![document_uuid],
        }),
    );
    assert_eq!(sets.metadata.submission_sets.len(), 1);
    assert_eq!(sets.metadata.associations.len(), 1);
    let associations = query(
        daemon.address,
        &leaf(StoredQuery::GetAssociations {
            uuids: vec![document_uuid],
        }),
    );
    assert_eq!(associations.metadata.associations.len(), 1);
    assert_eq!(
        associations.metadata.associations[0].submission_set_status,
        Some(SubmissionSetStatus::Original)
    );

    let all = query(
        daemon.address,
        &leaf(StoredQuery::GetAll(GetAllQuery {
            patient_id: alice.clone(),
            document_statuses: approved(),
            submission_set_statuses: approved(),
            folder_statuses: approved(),
            format_codes: Vec::new(),
            confidentiality_codes: Vec::new(),
            document_types: Vec::new(),
        })),
    );
    assert_eq!(
        (
            all.metadata.submission_sets.len(),
            all.metadata.document_entries.len(),
            all.metadata.associations.len()
        ),
        (1, 1, 1)
    );
}

#[test]
fn find_documents_filters() {
    let alice = patient(1);
    let (_dir, daemon) = started("filters", &[&alice]);
    let mut submission = documents(
        "2.999.1.1",
        &alice,
        &["2.999.2.1", "2.999.2.2", "2.999.2.3"],
    );
    submission.document_entries[1].class_code = Some(code("18842-5", "2.16.840.1.113883.6.1"));
    submission.document_entries[1].creation_time = Some(Dtm::parse("2023").expect("DTM"));
    submission.document_entries[2]
        .event_codes
        .push(code("E2", "2.999.40.8"));
    submission.document_entries[2].service_start_time = None;
    submission.document_entries[2].authors[0].person =
        Some(Xcn::parse("^MARTIN^Claire").expect("XCN"));
    assert_eq!(
        register(daemon.address, &submission).status,
        ResponseStatus::Success
    );

    let run = |adjust: &dyn Fn(&mut FindDocumentsQuery)| -> Vec<String> {
        let mut request = find_documents(&alice);
        if let StoredQuery::FindDocuments(query) = &mut request.query {
            adjust(query);
        }
        let mut found: Vec<String> = query(daemon.address, &request)
            .metadata
            .document_entries
            .iter()
            .filter_map(|entry| entry.unique_id.as_ref().map(|id| id.as_str().to_owned()))
            .collect();
        found.sort();
        found
    };
    assert_eq!(
        run(&|q| q.class_codes = vec![vec![CodeParam::new("18842-5", "2.16.840.1.113883.6.1")]]),
        ["2.999.2.2"]
    );
    // OR inside a slot, AND across slots.
    assert_eq!(
        run(&|q| q.event_codes = vec![
            vec![CodeParam::new("T-D3000", "SNM3")],
            vec![CodeParam::new("E2", "2.999.40.8")]
        ]),
        ["2.999.2.3"]
    );
    assert_eq!(
        run(&|q| q.event_codes = vec![vec![
            CodeParam::new("X", "SNM3"),
            CodeParam::new("E2", "2.999.40.8")
        ]]),
        ["2.999.2.3"]
    );
    // Creation time at year precision, half-open.
    assert_eq!(
        run(&|q| q.creation_time = TimeRange {
            from: None,
            to: Some(Dtm::parse("2024").expect("DTM"))
        }),
        ["2.999.2.2"]
    );
    // An entry without serviceStartTime still matches a service start range.
    assert_eq!(
        run(&|q| q.service_start_time = TimeRange {
            from: Some(Dtm::parse("203001").expect("DTM")),
            to: None
        }),
        ["2.999.2.3"]
    );
    // Author person with wildcards.
    assert_eq!(
        run(&|q| q.author_persons = vec![vec!["%MART_N%".to_owned()]]),
        ["2.999.2.3"]
    );
    assert_eq!(
        run(&|q| q.author_persons = vec![vec!["%DURANT%".to_owned()]]),
        ["2.999.2.1", "2.999.2.2"]
    );
}

#[test]
fn query_parameter_errors_have_their_codes() {
    let alice = patient(1);
    let (_dir, daemon) = started("params", &[&alice]);
    let send = |slots: &str, id: &str| -> xds::error::RegistryResponse {
        let xml = format!(
            r#"<?xml version="1.0"?><soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope" xmlns:wsa="http://www.w3.org/2005/08/addressing"><soap:Header><wsa:Action soap:mustUnderstand="1">urn:ihe:iti:2007:RegistryStoredQuery</wsa:Action><wsa:MessageID>urn:uuid:1</wsa:MessageID></soap:Header><soap:Body><query:AdhocQueryRequest xmlns:query="urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0" xmlns:rim="urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0"><query:ResponseOption returnComposedObjects="true" returnType="LeafClass"/><rim:AdhocQuery id="{id}">{slots}</rim:AdhocQuery></query:AdhocQueryRequest></soap:Body></soap:Envelope>"#
        );
        let answer = post(daemon.address, "/xds/registry", SOAP, xml.as_bytes());
        assert_eq!(answer.status, 200, "{}", answer.text());
        match answer_body(&answer) {
            xds::wire::Body::AdhocQueryResponse(response) => {
                xds::transform::registry_response_from_wire(&response.response).expect("response")
            }
            other => panic!("{}", other.element_name()),
        }
    };
    let slot = |name: &str, value: &str| {
        format!(
            r#"<rim:Slot name="{name}"><rim:ValueList><rim:Value>{value}</rim:Value></rim:ValueList></rim:Slot>"#
        )
    };
    let find = "urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d";
    let patient_slot = slot(
        "$XDSDocumentEntryPatientId",
        &format!("'{}'", alice.format().replace('&', "&amp;")),
    );
    let status = slot(
        "$XDSDocumentEntryStatus",
        "('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved')",
    );
    assert_eq!(
        codes(&send(&patient_slot, find)),
        ["XDSStoredQueryMissingParam"]
    );
    assert_eq!(
        codes(&send(
            &format!("{patient_slot}{patient_slot}{status}"),
            find
        )),
        ["XDSStoredQueryParamNumber"]
    );
    assert_eq!(
        codes(&send(
            &status,
            "urn:uuid:00000000-0000-0000-0000-000000000000"
        )),
        ["XDSUnknownStoredQuery"]
    );
    let ok = send(&format!("{patient_slot}{status}"), find);
    assert_eq!(ok.status, ResponseStatus::Success, "{:?}", ok.errors);
}

#[test]
fn soap_faults_for_unusable_messages() {
    let (_dir, daemon) = started("faults", &[]);
    let garbage = post(daemon.address, "/xds/registry", SOAP, b"<not-closed");
    assert_eq!(garbage.status, 400);
    assert!(garbage.text().contains("Fault"), "{}", garbage.text());

    let query_body = xds::wire::Body::AdhocQuery(xds::transform::stored_query_to_wire(
        &find_documents(&patient(1)),
    ));
    let no_action = xds::wire::write_envelope(&xds::wire::Header::default(), &query_body);
    let answer = post(daemon.address, "/xds/registry", SOAP, no_action.as_bytes());
    assert_eq!(answer.status, 400);
    assert!(
        answer.text().contains("MessageAddressingHeaderRequired"),
        "{}",
        answer.text()
    );

    let retrieve = envelope(
        Transaction::Iti43,
        &xds::wire::Body::Retrieve(xds::wire::RetrieveDocumentSetRequest::default()),
    );
    let answer = post(daemon.address, "/xds/registry", SOAP, retrieve.as_bytes());
    assert_eq!(answer.status, 400);
    assert!(
        answer.text().contains("ActionNotSupported"),
        "{}",
        answer.text()
    );

    let soap11 =
        r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body/></s:Envelope>"#;
    let answer = post(
        daemon.address,
        "/xds/registry",
        "text/xml",
        soap11.as_bytes(),
    );
    assert_eq!(answer.status, 500);
    assert!(
        answer.text().contains("VersionMismatch"),
        "{}",
        answer.text()
    );

    assert_eq!(
        request(daemon.address, "GET", "/xds/registry", SOAP, b"").status,
        405
    );
    assert_eq!(post(daemon.address, "/elsewhere", SOAP, b"").status, 404);
}

#[test]
fn restart_keeps_everything() {
    let alice = patient(1);
    let (dir, daemon) = started("restart", &[&alice]);
    assert_eq!(
        register(
            daemon.address,
            &documents("2.999.1.1", &alice, &["2.999.2.1"])
        )
        .status,
        ResponseStatus::Success
    );
    let before = query(daemon.address, &find_documents(&alice)).metadata;
    assert!(daemon.stop().success(), "clean shutdown on SIGTERM");
    let daemon = start_registry(dir.path(), &[]);
    let after = query(daemon.address, &find_documents(&alice)).metadata;
    assert_eq!(before, after);
    // Known patients survive too.
    assert_eq!(
        register(
            daemon.address,
            &documents("2.999.1.2", &alice, &["2.999.2.2"])
        )
        .status,
        ResponseStatus::Success
    );
}

/// Submitters stream registrations while the daemon is killed with SIGKILL: every
/// acknowledged submission is there after restart, and no submission is half there.
#[test]
fn kill_9_loses_no_acknowledged_submission_and_leaves_no_partial_one() {
    let alice = patient(1);
    let (dir, daemon) = started("kill", &[&alice]);
    let address = daemon.address;
    let acknowledged = std::sync::Arc::new(std::sync::Mutex::new(Vec::<u32>::new()));
    let mut submitters = Vec::new();
    for worker in 0..4u32 {
        let acknowledged = std::sync::Arc::clone(&acknowledged);
        let alice = alice.clone();
        submitters.push(std::thread::spawn(move || {
            for round in 0..10_000u32 {
                let number = worker * 100_000 + round;
                let ids: Vec<String> = (0..3).map(|part| format!("2.999.2.{number}.{part}")).collect();
                let submission = documents(
                    &format!("2.999.1.{number}"),
                    &alice,
                    &ids.iter().map(String::as_str).collect::<Vec<_>>(),
                );
                let body = xds::wire::Body::SubmitObjects(xds::transform::submit_objects_to_wire(&submission));
                let Ok(mut stream) = std::net::TcpStream::connect(address) else { return };
                let xml = envelope(Transaction::Iti42, &body);
                let head = format!(
                    "POST /xds/registry HTTP/1.1\r\nHost: x\r\nContent-Type: {SOAP}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    xml.len()
                );
                use std::io::{Read, Write};
                if stream.write_all(head.as_bytes()).and_then(|()| stream.write_all(xml.as_bytes())).is_err() {
                    return;
                }
                let mut raw = Vec::new();
                if stream.read_to_end(&mut raw).is_err() {
                    return;
                }
                let text = String::from_utf8_lossy(&raw);
                if text.starts_with("HTTP/1.1 200") && text.contains("ResponseStatusType:Success") {
                    acknowledged.lock().expect("lock").push(number);
                } else if text.contains("ResponseStatusType:Failure") {
                    panic!("unexpected answer: {text}");
                } else {
                    // Cut short by the kill: not acknowledged.
                    return;
                }
            }
        }));
    }
    // Let a few hundred submissions through, then pull the plug.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while acknowledged.lock().expect("lock").len() < 200 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    daemon.kill();
    for submitter in submitters {
        submitter.join().expect("submitter");
    }
    let acknowledged = acknowledged.lock().expect("lock").clone();
    assert!(
        acknowledged.len() >= 200,
        "only {} acknowledged",
        acknowledged.len()
    );

    let daemon = start_registry(dir.path(), &[]);
    let mut by_reference = find_documents(&alice);
    by_reference.return_type = ReturnType::LeafClass;
    let stored = query(
        daemon.address,
        &StoredQueryRequest {
            return_type: ReturnType::ObjectRef,
            ..by_reference
        },
    )
    .metadata
    .object_refs
    .len();
    assert_eq!(
        stored % 3,
        0,
        "{stored} entries: a submission was stored in part"
    );
    // Every acknowledged submission is whole.
    for number in &acknowledged {
        let selector = ObjectSelector::UniqueIds(
            (0..3)
                .map(|part| format!("2.999.2.{number}.{part}"))
                .collect(),
        );
        let response = query(
            daemon.address,
            &StoredQueryRequest {
                query: StoredQuery::GetDocuments { selector },
                return_type: ReturnType::ObjectRef,
                home: None,
                metadata_level: None,
            },
        );
        assert_eq!(
            response.metadata.object_refs.len(),
            3,
            "acknowledged submission {number} lost"
        );
    }
    assert!(stored / 3 >= acknowledged.len());
    // Every acknowledged submission left its audit record (written in the same batch).
    let history = whole_history(daemon.address, PATH, &alice.format());
    let audited: std::collections::HashSet<String> = history
        .iter()
        .filter(|entry| {
            entry.contains("transaction=\"ITI-42\"") && entry.contains("outcome=\"allowed\"")
        })
        .filter_map(|entry| {
            entry
                .split("documents=\"")
                .nth(1)
                .and_then(|rest| rest.split('"').next())
                .map(|ids| {
                    ids.split(' ')
                        .find(|id| id.starts_with("2.999.1."))
                        .unwrap_or("")
                        .to_owned()
                })
        })
        .collect();
    for number in &acknowledged {
        assert!(
            audited.contains(&format!("2.999.1.{number}")),
            "acknowledged submission {number} has no audit record ({} records)",
            history.len()
        );
    }
}

#[test]
fn bad_configuration_stops_before_binding_with_exit_64() {
    let dir = TempDir::new("config");
    let run = |args: &[&str]| {
        let output = std::process::Command::new(BINARY)
            .args(args)
            .arg("--data-dir")
            .arg(dir.path())
            .output()
            .expect("run");
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
            output.stdout,
        )
    };
    let (code, stderr, stdout) = run(&["serve", "--insecure", "--listen", "nowhere"]);
    assert_eq!(code, Some(64), "{stderr}");
    assert!(stderr.contains("server.listen"), "{stderr}");
    assert!(stdout.is_empty(), "nothing was started");
    let (code, stderr, _) = run(&["serve", "--listen", "127.0.0.1:0"]);
    assert_eq!(code, Some(64));
    assert!(stderr.contains("--insecure"), "{stderr}");
    let config = dir.path().join("registry.toml");
    std::fs::write(&config, "[server]\nlisen = '127.0.0.1:0'\n").expect("write");
    let (code, stderr, _) = run(&[
        "serve",
        "--insecure",
        "--config",
        config.to_str().expect("utf-8"),
    ]);
    assert_eq!(code, Some(64));
    assert!(stderr.contains("lisen"), "{stderr}");
    let (code, stderr, _) = run(&["serve", "--insecure", "--mllp-listen", "port 2575"]);
    assert_eq!(code, Some(64));
    assert!(stderr.contains("mllp_listen"), "{stderr}");
    std::fs::write(
        &config,
        "[identity]\ndomains = ['ins', 'not-an-oid']\nins_accept = ['nir', 'ins-c', 'tset']\n[mllp]\nversions = []\n",
    )
    .expect("write");
    let (code, stderr, stdout) = run(&[
        "serve",
        "--insecure",
        "--config",
        config.to_str().expect("utf-8"),
    ]);
    assert_eq!(code, Some(64));
    assert!(stdout.is_empty(), "nothing was started");
    for part in ["not-an-oid", "withdrawn", "\"tset\"", "mllp.versions"] {
        assert!(stderr.contains(part), "{part} missing: {stderr}");
    }
}

#[test]
fn import_loads_files_through_validation_and_resumes() {
    let alice = patient(1);
    let dir = TempDir::new("import");
    let files = dir.path().join("files");
    std::fs::create_dir_all(&files).expect("mkdir");
    for number in 0..5u32 {
        let submission = documents(
            &format!("2.999.1.{number}"),
            &alice,
            &[&format!("2.999.2.{number}")],
        );
        let body =
            xds::wire::Body::SubmitObjects(xds::transform::submit_objects_to_wire(&submission));
        // Bare bodies and SOAP envelopes are both accepted.
        let xml = if number % 2 == 0 {
            xds::wire::write_body_document(&body)
        } else {
            envelope(Transaction::Iti42, &body)
        };
        std::fs::write(files.join(format!("{number}.xml")), xml).expect("write");
    }
    let data = dir.path().join("data");
    let import = || {
        std::process::Command::new(BINARY)
            .args(["import", "--register-patients", "--data-dir"])
            .arg(&data)
            .arg(&files)
            .env("XDS_LOG", "warn")
            .env("XDS_REGISTRY_CONFIG", registry_dev_config())
            .output()
            .expect("run import")
    };
    let first = import();
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert!(
        String::from_utf8_lossy(&first.stdout).contains("5 registered"),
        "{}",
        String::from_utf8_lossy(&first.stdout)
    );
    let second = import();
    assert!(second.status.success());
    assert!(
        String::from_utf8_lossy(&second.stdout).contains("5 skipped"),
        "{}",
        String::from_utf8_lossy(&second.stdout)
    );

    let daemon = start_registry(&data, &[]);
    assert_eq!(
        query(daemon.address, &find_documents(&alice))
            .metadata
            .document_entries
            .len(),
        5
    );
}

#[test]
fn too_many_results_for_leaf_class_but_not_for_object_ref() {
    let alice = patient(1);
    let dir = TempDir::new("limit");
    patient_add(dir.path(), &[&alice.format()]);
    let config = dir.path().join("registry.toml");
    std::fs::write(
        &config,
        "[query]\nleaf_class_limit = 2\nunknown_patient = \"error\"\n[identity]\nins_accept = [\"nir\", \"nia\", \"test\"]\n",
    )
    .expect("config");
    let daemon = start_registry(dir.path(), &["--config", config.to_str().expect("utf-8")]);
    let submission = documents(
        "2.999.1.1",
        &alice,
        &["2.999.2.1", "2.999.2.2", "2.999.2.3"],
    );
    assert_eq!(
        register(daemon.address, &submission).status,
        ResponseStatus::Success
    );
    let leaf_answer = query(daemon.address, &find_documents(&alice));
    assert_eq!(leaf_answer.response.status, ResponseStatus::Failure);
    assert_eq!(codes(&leaf_answer.response), ["XDSTooManyResults"]);
    assert!(leaf_answer.metadata.document_entries.is_empty());
    let mut by_reference = find_documents(&alice);
    by_reference.return_type = ReturnType::ObjectRef;
    let refs = query(daemon.address, &by_reference);
    assert_eq!(refs.response.status, ResponseStatus::Success);
    assert_eq!(refs.metadata.object_refs.len(), 3);
    // The configured unknown-patient policy answers XDSUnknownPatientId.
    let unknown = query(daemon.address, &find_documents(&patient(77)));
    assert_eq!(codes(&unknown.response), ["XDSUnknownPatientId"]);
}

/// Without the DMP policy every transaction is still audited: the patient's history lists the
/// submission, a query by patient and a lookup by uniqueId (filed under the patient found),
/// newest first, and a refused submission too.
#[test]
fn every_transaction_leaves_an_audit_record_in_the_patients_history() {
    let alice = patient(1);
    let (_dir, daemon) = started("audit-history", &[&alice]);
    let response = register(
        daemon.address,
        &documents("2.999.1.7", &alice, &["2.999.2.7.0"]),
    );
    assert_eq!(response.status, ResponseStatus::Success, "{response:?}");
    // The same SubmissionSet uniqueId with other content: refused.
    let refused = register(
        daemon.address,
        &documents("2.999.1.7", &alice, &["2.999.2.7.1"]),
    );
    assert_eq!(refused.status, ResponseStatus::Failure);
    let found = query(daemon.address, &find_documents(&alice));
    assert_eq!(found.metadata.document_entries.len(), 1);
    let by_id = query(
        daemon.address,
        &StoredQueryRequest {
            query: StoredQuery::GetDocuments {
                selector: ObjectSelector::UniqueIds(vec!["2.999.2.7.0".to_owned()]),
            },
            return_type: ReturnType::LeafClass,
            home: None,
            metadata_level: None,
        },
    );
    assert_eq!(by_id.metadata.document_entries.len(), 1);
    let history = whole_history(daemon.address, PATH, &alice.format());
    let summary: Vec<(String, String)> = history
        .iter()
        .map(|entry| {
            let field = |name: &str| {
                entry
                    .split(&format!(" {name}=\""))
                    .nth(1)
                    .and_then(|rest| rest.split('"').next())
                    .unwrap_or("")
                    .to_owned()
            };
            (field("action"), field("outcome"))
        })
        .collect();
    let expected: Vec<(String, String)> = [
        ("GetDocuments", "allowed"),
        ("FindDocuments", "allowed"),
        ("submit", "failed"),
        ("submit", "allowed"),
    ]
    .iter()
    .map(|(action, outcome)| ((*action).to_owned(), (*outcome).to_owned()))
    .collect();
    assert_eq!(summary, expected, "{history:?}");
    assert!(
        history[0].contains("documents=\"2.999.2.7.0\""),
        "{}",
        history[0]
    );
}
