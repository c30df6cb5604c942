//! Crash safety (ARCHITECTURE.md invariant 1): SIGKILL the repository, and separately the
//! registry, at pseudo-random moments while clients submit, 30 times each; then every
//! acknowledged document is registered and retrievable byte for byte, no registered entry lacks
//! its document, and no stored document lacks its entry.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use xds::ResponseStatus;
use xds::model::*;
use xds::transform;
use xds::wire::Body;

const KILLS_EACH: usize = 30;
const CLIENTS: u32 = 4;

/// Submits one-document submissions until told to stop; records what was acknowledged.
fn submit_until_stopped(
    repository: SocketAddr,
    patient: Cx,
    client: u32,
    stop: Arc<AtomicBool>,
    acknowledged: Arc<Mutex<BTreeMap<String, Vec<u8>>>>,
) {
    let mut number = 0u64;
    while !stop.load(Ordering::Relaxed) {
        number += 1;
        let unique_id = format!("1.2.250.1.999.3.{client}.{number}");
        let set_unique_id = format!("1.2.250.1.999.4.{client}.{number}");
        let bytes = content(u64::from(client) << 32 | number, 10 * 1024);
        let metadata = provide_metadata(&set_unique_id, &patient, &[&unique_id]);
        let (content_type, body) = provide_request(&metadata, &[&bytes], true);
        let Ok(answer) = try_post(repository, REPOSITORY_PATH, &content_type, &body) else {
            std::thread::sleep(Duration::from_millis(20));
            continue;
        };
        if answer.status != 200 {
            continue;
        }
        if let Body::RegistryResponse(response) = answer_body(&answer)
            && transform::registry_response_from_wire(&response)
                .is_ok_and(|response| response.status == ResponseStatus::Success)
        {
            acknowledged.lock().expect("lock").insert(unique_id, bytes);
        }
    }
}

/// A pseudo-random pause of 80-480 ms (deterministic, so a failure can be replayed).
fn pause(round: usize) -> Duration {
    let mixed = (round as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 40;
    Duration::from_millis(80 + mixed % 400)
}

#[test]
fn kill_9_of_either_daemon_loses_no_acknowledged_document_and_leaves_no_orphan() {
    let patient = patient(100);
    let registry_dir = TempDir::new("crash-registry");
    let repository_dir = TempDir::new("crash-repository");
    let config = repository_dir.path().join("repository.toml");
    std::fs::write(
        &config,
        "[repository]\nregistry_timeout_seconds = 5\nin_doubt_after_seconds = 1\nsettle_interval_seconds = 1\n",
    )
    .expect("write config");
    let config = config.to_str().expect("utf-8").to_owned();
    let data = repository_dir.path().join("data");
    patient_add(registry_dir.path(), &[&patient.to_string()]);
    let registry_port = free_port();
    let repository_port = free_port();
    let mut registry = start_registry(registry_dir.path(), registry_port);
    let registry_address = registry.address;
    let start = |data: &std::path::Path| {
        start_repository(
            data,
            registry_address,
            repository_port,
            &["--config", &config],
        )
    };
    let mut repository = start(&data);
    let repository_address = repository.address;

    let stop = Arc::new(AtomicBool::new(false));
    let acknowledged = Arc::new(Mutex::new(BTreeMap::new()));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|client| {
            let (patient, stop, acknowledged) = (
                patient.clone(),
                Arc::clone(&stop),
                Arc::clone(&acknowledged),
            );
            std::thread::spawn(move || {
                submit_until_stopped(repository_address, patient, client, stop, acknowledged)
            })
        })
        .collect();
    for round in 0..2 * KILLS_EACH {
        std::thread::sleep(pause(round));
        if round % 2 == 0 {
            repository.kill();
            repository = start(&data);
        } else {
            registry.kill();
            registry = start_registry(registry_dir.path(), registry_port);
        }
    }
    std::thread::sleep(Duration::from_millis(300));
    stop.store(true, Ordering::Relaxed);
    for client in clients {
        client.join().expect("client");
    }
    let acknowledged = std::mem::take(&mut *acknowledged.lock().expect("lock"));
    assert!(
        acknowledged.len() > 2 * KILLS_EACH,
        "too few acknowledged submissions to mean anything: {}",
        acknowledged.len()
    );

    // Let the repository settle what is in doubt, then look at its store.
    let mut stored = None;
    for _ in 0..20 {
        std::thread::sleep(Duration::from_millis(1500));
        assert!(repository.stop().success());
        let inventory = inventory(&data);
        let settled = inventory.pending.is_empty();
        repository = start(&data);
        if settled {
            stored = Some(inventory);
            break;
        }
    }
    let stored = stored.expect("every pending submission settles");
    assert!(
        stored.uploads.is_empty(),
        "abandoned uploads: {:?}",
        stored.uploads
    );
    let stored_ids: BTreeSet<&str> = stored.documents.iter().map(|(id, _)| id.as_str()).collect();
    let blobs: BTreeSet<_> = stored
        .documents
        .iter()
        .map(|(_, record)| record.blob)
        .collect();
    assert_eq!(
        stored.chunk_blobs, blobs,
        "chunks without a document, or documents without chunks"
    );

    // The registry's view.
    let mut query = find_documents(&patient);
    query.return_type = ReturnType::LeafClass;
    let found = common::query(registry.address, REGISTRY_PATH, &query);
    let registered_ids: BTreeSet<String> = found
        .metadata
        .document_entries
        .iter()
        .filter_map(|entry| entry.unique_id.as_ref().map(|id| id.as_str().to_owned()))
        .collect();
    let registered_ids: BTreeSet<&str> = registered_ids.iter().map(String::as_str).collect();
    assert_eq!(
        registered_ids, stored_ids,
        "registered entries and stored documents differ"
    );
    for unique_id in acknowledged.keys() {
        assert!(
            registered_ids.contains(unique_id.as_str()),
            "{unique_id} acknowledged, not registered"
        );
    }
    // Every acknowledged document, byte for byte.
    let ids: Vec<&String> = acknowledged.keys().collect();
    for batch in ids.chunks(50) {
        let requests: Vec<(&str, &str)> = batch
            .iter()
            .map(|id| (REPOSITORY_ID, id.as_str()))
            .collect();
        let (response, documents) = retrieve(repository.address, &requests);
        assert_eq!(response.status, ResponseStatus::Success, "{response:?}");
        for document in documents {
            assert_eq!(
                Some(&document.content),
                acknowledged.get(&document.unique_id),
                "{} differs",
                document.unique_id
            );
        }
    }
}
