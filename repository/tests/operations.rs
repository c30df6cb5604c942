//! Operations (issue 12): the admin listener's metrics after a workload (parsed by Prometheus's
//! own promtool), health and readiness, an online backup taken under write load and restored,
//! and the logs of a full workload (JSON, correlation ids, no patient data or content).

mod common;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::grpc::{RegistryClient, RepositoryClient, grpc_retrieve, plain};
use common::*;
use xds::ResponseStatus;
use xds::model::LocalizedString;

const ADMIN: [&str; 2] = ["--admin-listen", "127.0.0.1:0"];

fn get(address: SocketAddr, path: &str) -> (u16, String) {
    let answer = request(address, "GET", path, "text/plain", b"");
    (
        answer.status,
        String::from_utf8_lossy(&answer.body).into_owned(),
    )
}

/// The samples of an exposition: `name{labels}` -> value.
fn scrape(admin: SocketAddr) -> (String, BTreeMap<String, f64>) {
    let (status, text) = get(admin, "/metrics");
    assert_eq!(status, 200, "{text}");
    let samples = text
        .lines()
        .filter(|line| !line.starts_with('#') && !line.is_empty())
        .map(|line| {
            let (name, value) = line.rsplit_once(' ').expect("sample line");
            (name.to_owned(), value.parse().expect("sample value"))
        })
        .collect();
    (text, samples)
}

fn value(samples: &BTreeMap<String, f64>, name: &str) -> f64 {
    samples.get(name).copied().unwrap_or(0.0)
}

fn moved(before: &BTreeMap<String, f64>, after: &BTreeMap<String, f64>, name: &str) -> f64 {
    value(after, name) - value(before, name)
}

fn requests(protocol: &str, transaction: &str, outcome: &str) -> String {
    format!(
        "xds_requests_total{{protocol=\"{protocol}\",transaction=\"{transaction}\",outcome=\"{outcome}\"}}"
    )
}

/// Prometheus's own parser and linter over an exposition.
fn promtool_accepts(exposition: &str) {
    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool (Debian's prometheus package; scripts/test installs it)");
    std::io::Write::write_all(
        &mut child.stdin.take().expect("stdin"),
        exposition.as_bytes(),
    )
    .expect("write to promtool");
    let output = child.wait_with_output().expect("promtool");
    assert!(
        output.status.success(),
        "promtool check metrics: {}{}\n{exposition}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

fn unique(number: usize) -> String {
    format!("1.2.250.1.999.12.{number}")
}

#[test]
fn metrics_follow_a_workload_and_health_endpoints_answer() {
    let known = patient(1201);
    let stranger = patient(1202);
    let mut registry_extra = ADMIN.to_vec();
    registry_extra.extend(["--mllp-listen", "127.0.0.1:0"]);
    let pair = Pair::start_with("metrics", &[&known], &registry_extra, &ADMIN);
    let registry_admin = pair.registry.listener("admin").expect("registry admin");
    let repository_admin = pair.repository.listener("admin").expect("repository admin");
    let (_, registry_before) = scrape(registry_admin);
    let (_, repository_before) = scrape(repository_admin);

    // Two submissions: one registered, one for a patient the registry does not know.
    let accepted = provide(
        pair.repository.address,
        &provide_metadata("1.2.250.1.999.11.1", &known, &[&unique(1), &unique(2)]),
        &[b"one", b"two"],
        true,
    );
    assert_eq!(accepted.status, ResponseStatus::Success, "{accepted:?}");
    let refused = provide(
        pair.repository.address,
        &provide_metadata("1.2.250.1.999.11.2", &stranger, &[&unique(3)]),
        &[b"three"],
        true,
    );
    assert_eq!(refused.status, ResponseStatus::Failure);
    // A retrieve that finds everything, one that finds nothing; a query; a feed message.
    let (found, _) = retrieve(
        pair.repository.address,
        &[(REPOSITORY_ID, &unique(1)), (REPOSITORY_ID, &unique(2))],
    );
    assert_eq!(found.status, ResponseStatus::Success);
    let (missing, _) = retrieve(pair.repository.address, &[(REPOSITORY_ID, &unique(404))]);
    assert_eq!(missing.status, ResponseStatus::Failure);
    assert_eq!(registered(pair.registry.address, &[&unique(1)]).len(), 1);
    let mllp = pair.registry.listener("mllp").expect("mllp");
    xds_conformance::feed::feed(mllp, &patient(1203), "OPS-1").expect("feed accepted");

    let (registry_text, registry_after) = scrape(registry_admin);
    let (repository_text, repository_after) = scrape(repository_admin);
    promtool_accepts(&registry_text);
    promtool_accepts(&repository_text);

    // The repository: what it answered, with latency observations and error codes.
    let repository = |name: &str| moved(&repository_before, &repository_after, name);
    assert_eq!(repository(&requests("soap", "ITI-41", "success")), 1.0);
    assert_eq!(repository(&requests("soap", "ITI-41", "failure")), 1.0);
    assert_eq!(repository(&requests("soap", "ITI-43", "success")), 1.0);
    assert_eq!(repository(&requests("soap", "ITI-43", "failure")), 1.0);
    assert_eq!(
        repository("xds_request_duration_seconds_count{protocol=\"soap\",transaction=\"ITI-41\"}"),
        2.0
    );
    assert_eq!(
        repository(
            "xds_request_duration_seconds_bucket{protocol=\"soap\",transaction=\"ITI-41\",le=\"+Inf\"}"
        ),
        2.0
    );
    assert_eq!(
        repository("xds_errors_total{code=\"XDSUnknownPatientId\"}"),
        1.0
    );
    assert_eq!(
        repository("xds_errors_total{code=\"XDSDocumentUniqueIdError\"}"),
        1.0
    );
    assert!(value(&repository_after, "xds_repository_documents") >= 2.0);
    assert_eq!(
        value(
            &repository_after,
            "xds_outbox_records{outbox=\"submissions\"}"
        ),
        0.0
    );
    assert!(
        repository_after
            .keys()
            .any(|name| name == "xds_store_disk_bytes{store=\"documents\"}")
    );
    // The registry: the repository's registrations (ITI-42), the query, the feed.
    let registry = |name: &str| moved(&registry_before, &registry_after, name);
    assert_eq!(registry(&requests("soap", "ITI-42", "success")), 1.0);
    assert_eq!(registry(&requests("soap", "ITI-42", "failure")), 1.0);
    assert!(registry(&requests("soap", "ITI-18", "success")) >= 1.0);
    assert_eq!(
        registry("xds_errors_total{code=\"XDSUnknownPatientId\"}"),
        1.0
    );
    assert_eq!(
        registry("xds_mllp_messages_total{event=\"A01\",ack=\"AA\"}"),
        1.0
    );
    assert_eq!(value(&registry_after, "xds_registry_patients"), 2.0);
    assert!(
        registry_after
            .keys()
            .any(|name| name.starts_with("xds_build_info{daemon=\"xds-registry\""))
    );
    // Nothing of a patient in the exposition.
    for text in [&registry_text, &repository_text] {
        assert!(!text.contains(known.id_number()) && !text.contains(stranger.id_number()));
    }

    // Health and readiness; readiness follows the registry.
    for admin in [registry_admin, repository_admin] {
        assert_eq!(get(admin, "/healthz"), (200, "ok\n".to_owned()));
        assert_eq!(get(admin, "/readyz").0, 200);
        assert_eq!(get(admin, "/nothing").0, 404);
        assert_eq!(
            request(admin, "POST", "/metrics", "text/plain", b"").status,
            405
        );
    }
    let Pair {
        registry,
        repository,
        ..
    } = pair;
    registry.kill();
    let (status, reason) = get(repository_admin, "/readyz");
    assert_eq!(status, 503);
    assert!(reason.contains("registry unreachable"), "{reason}");
    assert_eq!(get(repository_admin, "/healthz").0, 200);
    drop(repository);
}

fn run(binary: &Path, args: &[&str], data_dir: &Path, admin: Option<SocketAddr>) -> (bool, String) {
    let mut command = Command::new(binary);
    command
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .arg("--insecure")
        .env("XDS_LOG", "warn")
        .env("XDS_REGISTRY_CONFIG", registry_dev_config());
    if let Some(admin) = admin {
        command.args(["--admin-listen", &admin.to_string()]);
    }
    let output = command.output().expect("run the command");
    (
        output.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
    )
}

/// `backup FOLDER` printed by the backup command.
fn backup(binary: &Path, data_dir: &Path, admin: SocketAddr) -> String {
    let (ok, output) = run(binary, &["backup"], data_dir, Some(admin));
    assert!(ok, "backup failed: {output}");
    output
        .lines()
        .find_map(|line| line.strip_prefix("backup "))
        .expect("backup FOLDER line")
        .to_owned()
}

#[test]
fn a_backup_taken_under_write_load_restores_to_a_consistent_pair() {
    let subject = patient(1210);
    let pair = Pair::start_with("backup", &[&subject], &ADMIN, &ADMIN);
    let registry_admin = pair.registry.listener("admin").expect("admin");
    let repository_admin = pair.repository.listener("admin").expect("admin");
    let repository_address = pair.repository.address;
    let acknowledged = Arc::new(AtomicUsize::new(0));
    const SUBMISSIONS: usize = 60;
    let writer = {
        let acknowledged = Arc::clone(&acknowledged);
        let subject = subject.clone();
        std::thread::spawn(move || {
            for number in 0..SUBMISSIONS {
                let bytes = content(number as u64, 1000 + number * 997);
                let metadata = provide_metadata(
                    &format!("1.2.250.1.999.13.{number}"),
                    &subject,
                    &[&unique(1000 + number)],
                );
                let response = provide(repository_address, &metadata, &[&bytes], true);
                assert_eq!(response.status, ResponseStatus::Success, "{response:?}");
                acknowledged.fetch_add(1, Ordering::SeqCst);
            }
        })
    };
    while acknowledged.load(Ordering::SeqCst) < 15 {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // The registry first, then the repository: every document the registry's backup lists
    // was stored by the repository before (ITI-41 stores, then registers).
    let before_backup = acknowledged.load(Ordering::SeqCst);
    let registry_backup = backup(registry_binary(), pair.registry_dir.path(), registry_admin);
    let repository_backup = backup(
        Path::new(REPOSITORY_BINARY),
        pair.repository_dir.path(),
        repository_admin,
    );
    let during = acknowledged.load(Ordering::SeqCst);
    writer.join().expect("the write load");
    assert!(
        during < SUBMISSIONS,
        "the load ended before the backups were taken; nothing was tested under load"
    );
    // A running daemon's store is never replaced.
    let (ok, output) = run(
        registry_binary(),
        &["restore", &registry_backup],
        pair.registry_dir.path(),
        None,
    );
    assert!(!ok, "restore into a running registry's store: {output}");
    let Pair {
        registry,
        repository,
        ..
    } = pair;
    assert!(repository.stop().success());
    assert!(registry.stop().success());

    // Restore both into fresh data directories and start the pair there.
    let registry_dir = TempDir::new("restored-registry");
    let repository_dir = TempDir::new("restored-repository");
    for (binary, folder, dir) in [
        (registry_binary(), &registry_backup, registry_dir.path()),
        (
            Path::new(REPOSITORY_BINARY),
            &repository_backup,
            repository_dir.path(),
        ),
    ] {
        let (ok, output) = run(binary, &["restore", folder], dir, None);
        assert!(ok, "restore failed: {output}");
    }
    let registry = Daemon::start(registry_binary(), registry_dir.path(), &[]);
    let repository = start_repository(repository_dir.path(), registry.address, 0, &[]);
    let listed = query(registry.address, REGISTRY_PATH, &find_documents(&subject));
    assert_eq!(listed.response.status, ResponseStatus::Success);
    let entries = &listed.metadata.document_entries;
    assert!(
        entries.len() >= before_backup && entries.len() <= SUBMISSIONS,
        "{} entries restored; {before_backup} were acknowledged before the backup",
        entries.len()
    );
    // Every document the restored registry lists is retrieved, with its registered hash.
    for entry in entries {
        let unique_id = entry.unique_id.as_ref().expect("uniqueId").as_str();
        let (response, documents) = retrieve(repository.address, &[(REPOSITORY_ID, unique_id)]);
        assert_eq!(
            response.status,
            ResponseStatus::Success,
            "{unique_id}: {response:?}"
        );
        assert_eq!(
            Some(sha1_hex(&documents[0].content)),
            entry.hash.map(|hash| hash.to_hex())
        );
    }
}

/// A test NIR of this test only: its digits must never show in a log line.
const FAMILY: &str = "ZYGMONDOVSKA";
const GIVEN: &str = "PERPETUELLE";
const CONTENT_MARK: &str = "CONTENU-CLINIQUE-CONFIDENTIEL-8317";

#[test]
fn the_logs_of_a_full_workload_are_json_with_correlation_ids_and_no_patient_data() {
    let subject = patient(1220);
    let registry_dir = TempDir::new("logs-registry");
    let repository_dir = TempDir::new("logs-repository");
    let logs = TempDir::new("logs-files");
    let registry_log = logs.path().join("registry.log");
    let repository_log = logs.path().join("repository.log");
    let output = |path| Output {
        log_level: "info",
        stderr: Some(path),
        ..Output::default()
    };
    let json = ["--log-format", "json", "--grpc-listen", "127.0.0.1:0"];
    let mut registry_args = json.to_vec();
    registry_args.extend(["--mllp-listen", "127.0.0.1:0"]);
    let registry = Daemon::spawn(
        registry_binary(),
        "127.0.0.1:0",
        registry_dir.path(),
        &registry_args,
        &output(&registry_log),
    );
    let url = format!("http://{}{REGISTRY_PATH}", registry.address);
    let mut repository_args = vec!["--registry-url", &url, "--repository-id", REPOSITORY_ID];
    repository_args.extend(json);
    let repository = Daemon::spawn(
        Path::new(REPOSITORY_BINARY),
        "127.0.0.1:0",
        repository_dir.path(),
        &repository_args,
        &output(&repository_log),
    );

    // The identity feed with names, accepted and refused.
    let mllp = registry.listener("mllp").expect("mllp");
    let adt = |id: &str, control: &str| {
        format!(
            "MSH|^~\\&|DPI|HOPITAL|XDS|DMP|20261123120000||ADT^A01^ADT_A01|{control}|P|2.5\rEVN||20261123120000\rPID|||{id}||{FAMILY}^{GIVEN}||19850301|F\r"
        )
    };
    let ack = xds_conformance::feed::send(mllp, &adt(&subject.to_string(), "LOG-1")).expect("feed");
    assert!(ack.contains("|AA|"), "{ack}");
    // The same INS with a wrong key (its last digit changed): refused.
    let number = subject.id_number();
    let last = number
        .chars()
        .last()
        .and_then(|digit| digit.to_digit(10))
        .expect("digit");
    let bad_key = subject.to_string().replacen(
        number,
        &format!("{}{}", &number[..number.len() - 1], (last + 1) % 10),
        1,
    );
    let ack = xds_conformance::feed::send(mllp, &adt(&bad_key, "LOG-2")).expect("feed");
    assert!(!ack.contains("|AA|"), "{ack}");

    // A message that is not SOAP: a fault, still logged with a correlation id.
    let garbage = post(
        repository.address,
        REPOSITORY_PATH,
        "application/soap+xml",
        FAMILY.as_bytes(),
    );
    assert_ne!(garbage.status, 200);

    // Submissions (accepted, refused), queries, retrieves, over SOAP and gRPC.
    let mut document = CONTENT_MARK.as_bytes().to_vec();
    document.extend_from_slice(format!(" {FAMILY} {GIVEN} {}", subject.id_number()).as_bytes());
    let mut metadata = provide_metadata("1.2.250.1.999.14.1", &subject, &[&unique(2001)]);
    metadata.document_entries[0].title = vec![LocalizedString {
        value: format!("Compte rendu {FAMILY}"),
        lang: None,
        charset: None,
    }];
    let accepted = provide(repository.address, &metadata, &[&document], true);
    assert_eq!(accepted.status, ResponseStatus::Success, "{accepted:?}");
    let stranger = patient(1221);
    let refused = provide(
        repository.address,
        &provide_metadata("1.2.250.1.999.14.2", &stranger, &[&unique(2002)]),
        &[&document],
        false,
    );
    assert_eq!(refused.status, ResponseStatus::Failure);
    let listed = query(registry.address, REGISTRY_PATH, &find_documents(&subject));
    assert_eq!(listed.metadata.document_entries.len(), 1);
    let (found, documents) = retrieve(repository.address, &[(REPOSITORY_ID, &unique(2001))]);
    assert_eq!(found.status, ResponseStatus::Success);
    assert_eq!(documents[0].content, document);
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let grpc_id = "ops-log-request-4242";
    runtime.block_on(async {
        let mut client = RegistryClient::new(plain(registry.listener("grpc").expect("grpc")).await);
        let mut request = tonic::Request::new(xds_proto::v1::FindDocumentsRequest {
            patient_id: subject.to_string(),
            statuses: vec![xds_proto::v1::AvailabilityStatus::Approved as i32],
            ..Default::default()
        });
        request
            .metadata_mut()
            .insert("x-request-id", grpc_id.parse().expect("metadata"));
        let answer = client.find_documents(request).await.expect("FindDocuments");
        assert_eq!(
            answer
                .metadata()
                .get("x-request-id")
                .and_then(|value| value.to_str().ok()),
            Some(grpc_id)
        );
        let mut client =
            RepositoryClient::new(plain(repository.listener("grpc").expect("grpc")).await);
        let (_, got) = grpc_retrieve(&mut client, &[&unique(2001)], REPOSITORY_ID, None)
            .await
            .expect("gRPC retrieve");
        assert_eq!(got[0].content, document);
    });
    assert!(registry.stop().success());
    assert!(repository.stop().success());

    let mut answered = 0;
    let mut correlated_grpc = false;
    for log in [&registry_log, &repository_log] {
        let text = std::fs::read_to_string(log).expect("log");
        for line in text.lines() {
            let event: serde_json::Value = serde_json::from_str(line)
                .unwrap_or_else(|error| panic!("not a JSON log line ({error}): {line}"));
            for secret in [
                subject.id_number(),
                stranger.id_number(),
                FAMILY,
                GIVEN,
                CONTENT_MARK,
            ] {
                assert!(
                    !line.contains(secret),
                    "{} logged {secret:?}: {line}",
                    log.display()
                );
            }
            if event["fields"]["message"] == "answered" {
                answered += 1;
                assert!(
                    event["span"]["correlation_id"].is_string(),
                    "an answer without its correlation id: {line}"
                );
                correlated_grpc |= event["span"]["correlation_id"] == grpc_id;
            }
        }
    }
    // Feed-free answers: 2 ITI-41, 2 forwarded ITI-42, 1 ITI-18, 1 ITI-43, 2 gRPC calls.
    assert!(answered >= 8, "{answered} answer lines");
    assert!(
        correlated_grpc,
        "the caller's x-request-id is not in the logs"
    );
}

#[test]
fn compose_file_agrees_with_the_configurations() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root");
    let output = Command::new("python3")
        .arg(root.join("repository/tests/peers/compose_check.py"))
        .arg(root)
        .output()
        .expect("python3 (with PyYAML: Debian's python3-yaml; scripts/test installs it)");
    assert!(
        output.status.success(),
        "docker-compose.yml disagrees with the Dockerfile or the configurations:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn the_admin_listener_is_on_mutual_tls_and_refuses_professional_cards() {
    let pair = start_secure("admin-tls", "", |_| {});
    let config_dir = pair.dirs[0].path();
    let repository_dir = pair.dirs[2].path();
    let registry_admin = pair.registry.listener("admin").expect("admin");
    let repository_admin = pair.repository.listener("admin").expect("admin");
    let client = |certificate| TlsClient {
        pki: &pair.pki,
        certificate,
    };
    let metrics = tls_request(registry_admin, client(Some("structure")), "GET", "/metrics")
        .expect("metrics over TLS");
    assert_eq!(metrics.status, 200);
    assert!(String::from_utf8_lossy(&metrics.body).contains("xds_build_info"));
    let card = tls_request(
        registry_admin,
        client(Some("professional")),
        "GET",
        "/metrics",
    )
    .expect("an answer");
    assert_eq!(card.status, 403);
    assert!(tls_handshake(repository_admin, client(None)).is_err());
    assert!(
        try_request(repository_admin, "GET", "/metrics", "text/plain", b"")
            .map_or(true, |answer| answer.status != 200),
        "plain HTTP answered on a TLS admin listener"
    );
    // The commands reach the daemons with their own certificate (container health checks,
    // backups).
    let command = |binary: &Path, config: &str, admin: SocketAddr, args: &[&str]| {
        Command::new(binary)
            .args(args)
            .arg("--config")
            .arg(config_dir.join(config))
            .args(["--admin-listen", &admin.to_string(), "--data-dir"])
            .arg(repository_dir)
            .env("XDS_LOG", "warn")
            .output()
            .expect("run")
    };
    let health = command(
        registry_binary(),
        "registry-tls.toml",
        registry_admin,
        &["health"],
    );
    assert!(health.status.success(), "{health:?}");
    let backup = command(
        Path::new(REPOSITORY_BINARY),
        "repository-tls.toml",
        repository_admin,
        &["backup"],
    );
    assert!(backup.status.success(), "{backup:?}");
    let folder = String::from_utf8_lossy(&backup.stdout)
        .trim()
        .strip_prefix("backup ")
        .expect("backup FOLDER")
        .to_owned();
    assert!(Path::new(&folder).join("BACKUP").is_file());
    assert!(
        Path::new(&folder)
            .join("documents")
            .join("CURRENT")
            .is_file()
    );
}
