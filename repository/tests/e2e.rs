//! End to end: the real `xds-repository` and `xds-registry` binaries on loopback, fresh data
//! directories per test; what a source, a consumer and a document administrator see.

mod common;

use common::*;
use xds::ResponseStatus;
use xds::model::*;

fn unique(name: &str) -> String {
    format!("1.2.250.1.999.2.{name}")
}

#[test]
fn provided_documents_are_registered_with_their_hash_and_size_and_retrieved_byte_for_byte() {
    let patient = patient(1);
    let pair = Pair::start("provide", &[&patient], &[]);
    let small = b"Compte rendu d'hospitalisation\n".to_vec();
    // Larger than one stored chunk, so it spans several.
    let large = content(7, 3 * 1024 * 1024 + 17);
    let mut metadata =
        provide_metadata("1.2.250.1.999.1.1", &patient, &[&unique("1"), &unique("2")]);
    metadata.document_entries[1].mime_type = Some("application/pdf".to_owned());
    let response = provide(pair.repository.address, &metadata, &[&small, &large], true);
    assert_eq!(response.status, ResponseStatus::Success, "{response:?}");

    // The registry holds what the repository computed.
    let entries = registered(pair.registry.address, &[&unique("1"), &unique("2")]);
    assert_eq!(entries.len(), 2);
    for entry in &entries {
        let expected: &[u8] =
            if entry.unique_id.as_ref().map(UniqueId::as_str) == Some(unique("1").as_str()) {
                &small
            } else {
                &large
            };
        assert_eq!(entry.size, Some(expected.len() as u64));
        assert_eq!(
            entry.hash.map(|hash| hash.to_hex()),
            Some(sha1_hex(expected))
        );
        assert_eq!(
            entry.repository_unique_id.as_ref().map(Oid::as_str),
            Some(REPOSITORY_ID)
        );
    }

    // Found and missing mixed: PartialSuccess, one error per missing document, located.
    let (response, documents) = retrieve(
        pair.repository.address,
        &[
            (REPOSITORY_ID, &unique("2")),
            (REPOSITORY_ID, "1.2.250.1.999.2.404"),
            (REPOSITORY_ID, &unique("1")),
            ("1.2.250.1.999.77", &unique("1")),
        ],
    );
    assert_eq!(response.status, ResponseStatus::PartialSuccess);
    let errors: Vec<(String, Option<String>)> = response
        .errors
        .iter()
        .map(|error| (error.code.to_string(), error.location.clone()))
        .collect();
    assert_eq!(
        errors,
        vec![
            (
                "XDSDocumentUniqueIdError".to_owned(),
                Some("1.2.250.1.999.2.404".to_owned())
            ),
            ("XDSUnknownRepositoryId".to_owned(), Some(unique("1"))),
        ]
    );
    assert_eq!(documents.len(), 2);
    assert_eq!(documents[0].unique_id, unique("2"));
    assert_eq!(documents[0].mime_type, "application/pdf");
    assert_eq!(sha1_hex(&documents[0].content), sha1_hex(&large));
    assert_eq!(documents[0].content.len(), large.len());
    assert_eq!(documents[1].unique_id, unique("1"));
    assert_eq!(documents[1].mime_type, "text/plain");
    assert_eq!(documents[1].content, small);

    // Nothing found at all: Failure.
    let (response, documents) = retrieve(pair.repository.address, &[(REPOSITORY_ID, "1.2.3")]);
    assert_eq!(response.status, ResponseStatus::Failure);
    assert!(documents.is_empty());
}

#[test]
fn with_end_to_end_verification_documents_come_back_the_same() {
    let patient = patient(10);
    let config_dir = TempDir::new("verify-config");
    let config = config_dir.path().join("repository.toml");
    std::fs::write(&config, "[repository]\nverify_on_read = true\n").expect("write config");
    let pair = Pair::start(
        "verify",
        &[&patient],
        &["--config", config.to_str().expect("utf-8")],
    );
    let large = content(11, 2 * 1024 * 1024 + 5);
    let metadata = provide_metadata("1.2.250.1.999.1.10", &patient, &[&unique("80")]);
    let response = provide(pair.repository.address, &metadata, &[&large], true);
    assert_eq!(response.status, ResponseStatus::Success, "{response:?}");
    let (response, documents) =
        retrieve(pair.repository.address, &[(REPOSITORY_ID, &unique("80"))]);
    assert_eq!(response.status, ResponseStatus::Success);
    assert_eq!(documents[0].content, large);
}

#[test]
fn inline_base64_documents_are_accepted() {
    let patient = patient(2);
    let pair = Pair::start("inline", &[&patient], &[]);
    let text = b"inline content".to_vec();
    let metadata = provide_metadata("1.2.250.1.999.1.2", &patient, &[&unique("10")]);
    let response = provide(pair.repository.address, &metadata, &[&text], false);
    assert_eq!(response.status, ResponseStatus::Success, "{response:?}");
    let (_, documents) = retrieve(pair.repository.address, &[(REPOSITORY_ID, &unique("10"))]);
    assert_eq!(documents[0].content, text);
}

#[test]
fn a_supplied_hash_or_size_that_differs_is_refused_and_nothing_is_kept() {
    let patient = patient(3);
    let pair = Pair::start("hash", &[&patient], &[]);
    let text = b"the real bytes".to_vec();
    let mut metadata = provide_metadata(
        "1.2.250.1.999.1.3",
        &patient,
        &[&unique("20"), &unique("21")],
    );
    metadata.document_entries[0].hash =
        Sha1Hash::parse_hex("0000000000000000000000000000000000000000");
    metadata.document_entries[1].size = Some(999);
    let response = provide(pair.repository.address, &metadata, &[&text, &text], true);
    assert_eq!(response.status, ResponseStatus::Failure);
    let codes: Vec<String> = response
        .errors
        .iter()
        .map(|error| error.code.to_string())
        .collect();
    assert_eq!(codes, vec!["XDSRepositoryMetadataError"; 2]);
    assert!(response.errors.iter().all(|error| error.location.is_some()));
    assert!(registered(pair.registry.address, &[&unique("20"), &unique("21")]).is_empty());
    let (response, _) = retrieve(pair.repository.address, &[(REPOSITORY_ID, &unique("20"))]);
    assert_eq!(response.status, ResponseStatus::Failure);

    // A correct hash in either case is fine.
    let mut metadata = provide_metadata("1.2.250.1.999.1.4", &patient, &[&unique("22")]);
    metadata.document_entries[0].hash = Sha1Hash::parse_hex(&sha1_hex(&text).to_uppercase());
    metadata.document_entries[0].size = Some(text.len() as u64);
    let response = provide(pair.repository.address, &metadata, &[&text], true);
    assert_eq!(response.status, ResponseStatus::Success, "{response:?}");

    let stored = pair.stop_repository_and_list();
    assert_eq!(
        stored.documents.len(),
        1,
        "only the accepted document is kept"
    );
    assert!(stored.pending.is_empty() && stored.uploads.is_empty());
    assert_eq!(
        stored.chunk_blobs.len(),
        1,
        "no chunk of a refused document is left"
    );
}

#[test]
fn a_registry_rejection_is_relayed_and_rolls_the_documents_back() {
    let known = patient(4);
    let unknown = patient(5);
    let pair = Pair::start("rejected", &[&known], &[]);
    let metadata = provide_metadata("1.2.250.1.999.1.5", &unknown, &[&unique("30")]);
    let response = provide(pair.repository.address, &metadata, &[b"x"], true);
    assert_eq!(response.status, ResponseStatus::Failure);
    assert_eq!(response.errors[0].code.to_string(), "XDSUnknownPatientId");
    let (response, _) = retrieve(pair.repository.address, &[(REPOSITORY_ID, &unique("30"))]);
    assert_eq!(
        response.errors[0].code.to_string(),
        "XDSDocumentUniqueIdError"
    );
    let stored = pair.stop_repository_and_list();
    assert!(stored.documents.is_empty() && stored.pending.is_empty());
    assert!(stored.uploads.is_empty() && stored.chunk_blobs.is_empty());
}

#[test]
fn a_retried_submission_gets_the_same_answer_and_is_stored_once() {
    let patient = patient(6);
    let pair = Pair::start("retry", &[&patient], &[]);
    let metadata = provide_metadata("1.2.250.1.999.1.6", &patient, &[&unique("40")]);
    let first = provide(pair.repository.address, &metadata, &[b"same bytes"], true);
    let second = provide(pair.repository.address, &metadata, &[b"same bytes"], true);
    assert_eq!(first.status, ResponseStatus::Success);
    assert_eq!(second, first);
    // The same document uniqueId with other bytes.
    let other = provide(pair.repository.address, &metadata, &[b"other bytes"], true);
    assert_eq!(other.status, ResponseStatus::Failure);
    assert_eq!(other.errors[0].code.to_string(), "XDSNonIdenticalHash");
    // The same SubmissionSet uniqueId with other metadata.
    let mut changed = metadata.clone();
    changed.document_entries[0].title = vec![LocalizedString::new("Autre titre")];
    let other = provide(pair.repository.address, &changed, &[b"same bytes"], true);
    assert_eq!(other.status, ResponseStatus::Failure);
    assert_eq!(
        other.errors[0].code.to_string(),
        "XDSDuplicateUniqueIdInRegistry"
    );
    let found = query(
        pair.registry.address,
        REGISTRY_PATH,
        &find_documents(&patient),
    );
    assert_eq!(found.metadata.document_entries.len(), 1);
    let stored = pair.stop_repository_and_list();
    assert_eq!(stored.documents.len(), 1);
    assert_eq!(stored.chunk_blobs.len(), 1);
}

#[test]
fn removed_documents_are_gone_and_each_failure_is_reported() {
    let patient = patient(7);
    let pair = Pair::start("remove", &[&patient], &[]);
    let metadata = provide_metadata(
        "1.2.250.1.999.1.7",
        &patient,
        &[&unique("50"), &unique("51")],
    );
    let response = provide(pair.repository.address, &metadata, &[b"a", b"b"], true);
    assert_eq!(response.status, ResponseStatus::Success);
    let response = remove(
        pair.repository.address,
        &[
            (REPOSITORY_ID, &unique("50")),
            (REPOSITORY_ID, "1.2.250.1.999.2.404"),
            ("1.2.250.1.999.77", &unique("51")),
        ],
    );
    assert_eq!(response.status, ResponseStatus::PartialSuccess);
    let codes: Vec<(String, Option<String>)> = response
        .errors
        .iter()
        .map(|error| (error.code.to_string(), error.location.clone()))
        .collect();
    assert_eq!(
        codes,
        vec![
            (
                "XDSDocumentUniqueIdError".to_owned(),
                Some("1.2.250.1.999.2.404".to_owned())
            ),
            ("XDSUnknownRepositoryId".to_owned(), Some(unique("51"))),
        ]
    );
    let (response, documents) = retrieve(
        pair.repository.address,
        &[
            (REPOSITORY_ID, &unique("50")),
            (REPOSITORY_ID, &unique("51")),
        ],
    );
    assert_eq!(response.status, ResponseStatus::PartialSuccess);
    assert_eq!(documents.len(), 1);
    assert_eq!(documents[0].unique_id, unique("51"));
    let response = remove(pair.repository.address, &[(REPOSITORY_ID, &unique("50"))]);
    assert_eq!(response.status, ResponseStatus::Failure);
    let response = remove(pair.repository.address, &[(REPOSITORY_ID, &unique("51"))]);
    assert_eq!(response.status, ResponseStatus::Success);
}

#[test]
fn an_unreachable_registry_is_reported_and_nothing_is_kept() {
    let patient = patient(8);
    let dir = TempDir::new("no-registry");
    let closed = std::net::SocketAddr::from(([127, 0, 0, 1], free_port()));
    let repository = start_repository(dir.path(), closed, 0, &[]);
    let metadata = provide_metadata("1.2.250.1.999.1.8", &patient, &[&unique("60")]);
    let response = provide(repository.address, &metadata, &[b"x"], true);
    assert_eq!(response.status, ResponseStatus::Failure);
    assert_eq!(
        response.errors[0].code.to_string(),
        "XDSRegistryNotAvailable"
    );
    assert!(repository.stop().success());
    let stored = inventory(dir.path());
    assert!(stored.documents.is_empty() && stored.pending.is_empty());
    assert!(stored.uploads.is_empty() && stored.chunk_blobs.is_empty());
}

#[test]
fn oversize_truncated_and_abandoned_uploads_leave_nothing_behind() {
    let patient = patient(9);
    let config_dir = TempDir::new("limits-config");
    let config = config_dir.path().join("repository.toml");
    std::fs::write(&config, "[limits]\nmax_document_mib = 1\n").expect("write config");
    let pair = Pair::start(
        "limits",
        &[&patient],
        &["--config", config.to_str().expect("utf-8")],
    );
    let address = pair.repository.address;

    // Over the document limit: a Sender fault naming the limit.
    let metadata = provide_metadata("1.2.250.1.999.1.9", &patient, &[&unique("70")]);
    let (content_type, body) = provide_request(&metadata, &[&content(1, 2 << 20)], true);
    let answer = post(address, REPOSITORY_PATH, &content_type, &body);
    assert_eq!(answer.status, 400, "{}", answer.text());
    assert!(
        answer.text().contains("Sender") && answer.text().contains("1048576"),
        "{}",
        answer.text()
    );

    // A body shorter than its Content-Length, then the client hangs up.
    let (content_type, body) = provide_request(&metadata, &[&content(2, 600 << 10)], true);
    {
        use std::io::Write;
        let mut stream = std::net::TcpStream::connect(address).expect("connect");
        let head = format!(
            "POST {REPOSITORY_PATH} HTTP/1.1\r\nHost: {address}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        stream.write_all(head.as_bytes()).expect("head");
        stream
            .write_all(&body[..body.len() / 2])
            .expect("half the body");
    }
    // Let the daemon notice the hang-up and clean up.
    std::thread::sleep(std::time::Duration::from_millis(300));

    // The daemon still serves, and nothing of the failed uploads is kept.
    let response = provide(address, &metadata, &[b"fits"], true);
    assert_eq!(response.status, ResponseStatus::Success, "{response:?}");
    let stored = pair.stop_repository_and_list();
    assert_eq!(stored.documents.len(), 1);
    assert!(stored.uploads.is_empty(), "{:?}", stored.uploads);
    assert_eq!(stored.chunk_blobs.len(), 1);
}

#[test]
fn wrong_paths_methods_actions_and_bodies_get_precise_faults() {
    let pair = Pair::start("faults", &[], &[]);
    let address = pair.repository.address;
    assert_eq!(post(address, "/elsewhere", SOAP, b"x").status, 404);
    assert_eq!(
        request(address, "GET", REPOSITORY_PATH, SOAP, b"").status,
        405
    );
    let answer = post(address, REPOSITORY_PATH, SOAP, b"not xml");
    assert_eq!(answer.status, 400);
    assert!(answer.text().contains("Fault"));
    // A registry action at the repository.
    let body = xds::wire::Body::<xds::wire::OutContent>::SubmitObjects(Default::default());
    let answer = post(
        address,
        REPOSITORY_PATH,
        SOAP,
        envelope(xds::transaction::Transaction::Iti42, &body).as_bytes(),
    );
    assert_eq!(answer.status, 400);
    assert!(
        answer.text().contains("ActionNotSupported"),
        "{}",
        answer.text()
    );
}

/// ITI-43 for one document, raw: the HTTP exchange as it happened.
fn retrieve_raw(repository: std::net::SocketAddr, unique_id: &str) -> Result<Answer, String> {
    let body =
        xds::wire::Body::<xds::wire::OutContent>::Retrieve(xds::wire::RetrieveDocumentSetRequest {
            requests: vec![xds::wire::DocumentRequest {
                home_community_id: None,
                repository_unique_id: Some(REPOSITORY_ID.to_owned()),
                document_unique_id: Some(unique_id.to_owned()),
            }],
        });
    try_post(
        repository,
        REPOSITORY_PATH,
        SOAP,
        envelope(xds::transaction::Transaction::Iti43, &body).as_bytes(),
    )
}

#[test]
fn a_damaged_stored_document_is_never_served_as_if_whole() {
    use xds_repository::store::DocumentStore;
    use xds_repository::store::rocks::{RocksDocumentStore, RocksSettings};

    let patient = patient(12);
    let config_dir = TempDir::new("damaged-config");
    let config = config_dir.path().join("repository.toml");
    std::fs::write(&config, "[repository]\nverify_on_read = true\n").expect("write config");
    let config = config.to_str().expect("utf-8").to_owned();
    let pair = Pair::start("damaged", &[&patient], &["--config", &config]);
    // One answer read before it is sent, one streamed (more than 2 MiB).
    let small = b"exactly these bytes".to_vec();
    let large = content(12, 3 * 1024 * 1024);
    let metadata = provide_metadata(
        "1.2.250.1.999.1.12",
        &patient,
        &[&unique("90"), &unique("91")],
    );
    let response = provide(pair.repository.address, &metadata, &[&small, &large], true);
    assert_eq!(response.status, ResponseStatus::Success, "{response:?}");

    // Change one byte of each stored document behind the daemon's back.
    let Pair {
        registry,
        repository,
        repository_dir,
        registry_dir: _registry_dir,
    } = pair;
    assert!(repository.stop().success());
    {
        let store = RocksDocumentStore::open(
            &repository_dir.path().join("documents"),
            RocksSettings::default(),
        )
        .expect("open the store");
        for (_, record) in store.inventory().expect("inventory").documents {
            let mut chunk = store.chunk(record.blob, 0).expect("read").expect("chunk 0");
            chunk[0] ^= 0x01;
            store.put_chunk(record.blob, 0, &chunk).expect("write");
        }
        store.sync().expect("sync");
    }
    let repository = start_repository(
        repository_dir.path(),
        registry.address,
        0,
        &["--config", &config],
    );

    // Read before sending: a Receiver fault says so.
    let answer = retrieve_raw(repository.address, &unique("90")).expect("an answer");
    assert_eq!(answer.status, 500, "{}", answer.text());
    assert!(answer.text().contains("Receiver"), "{}", answer.text());
    assert!(answer.text().contains("damaged"), "{}", answer.text());
    // Streamed: the answer breaks before its end instead of arriving complete.
    match retrieve_raw(repository.address, &unique("91")) {
        Err(problem) => assert!(
            problem.contains("cut") || problem.contains("receive"),
            "{problem}"
        ),
        Ok(answer) => panic!(
            "a damaged document arrived as a whole answer ({} bytes)",
            answer.body.len()
        ),
    }
}
