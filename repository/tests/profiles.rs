//! Both daemons under the fr-dmp profile, as configured in production (`[profile]` section,
//! value sets read from the ANS files at start-up): the DMP sample submission is accepted end
//! to end, stored exactly as sent (dmp-profile.md §8 rule 6: sourcePatientInfo) and retrieved;
//! a plain IHE submission is rejected with the DMP rules it breaks, by the repository before
//! anything is stored and by the registry for ITI-42; a broken value-set folder stops start-up.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use xds::model::*;
use xds::{RegistryResponse, ResponseStatus};

const DMP_PATIENT: &str = "185057800608491^^^&1.2.250.1.213.1.4.8&ISO^NH";

fn valuesets() -> PathBuf {
    dmp_valuesets()
}

/// A configuration file for one daemon: development identity rules, the fr-dmp profile.
fn fr_dmp_config(dir: &Path, name: &str, valuesets: &Path) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(
        &path,
        format!(
            "[server]\ninsecure = true\n\n[profile]\nname = \"fr-dmp\"\nvaluesets = {:?}\n",
            valuesets.display().to_string()
        ),
    )
    .expect("config");
    path
}

struct DmpPair {
    _config_dir: TempDir,
    _registry_dir: TempDir,
    _repository_dir: TempDir,
    registry: Daemon,
    repository: Daemon,
}

fn start_pair(name: &str) -> DmpPair {
    let config_dir = TempDir::new(&format!("{name}-config"));
    // The registry keeps its development identity rules (any assigning authority) and adds
    // the profile.
    // Plain HTTP without assertions: the profile's validation without the DMP access policy
    // (repository/tests/access.rs tests the policy).
    let registry_config = fr_dmp_registry_config(config_dir.path());
    let mut text = std::fs::read_to_string(&registry_config).expect("config");
    text.push_str("\n[access]\npolicy = \"open\"\n");
    std::fs::write(&registry_config, text).expect("write the configuration");
    let repository_config = fr_dmp_config(config_dir.path(), "repository.toml", &valuesets());
    let registry_dir = TempDir::new(&format!("{name}-registry"));
    let repository_dir = TempDir::new(&format!("{name}-repository"));
    patient_add(registry_dir.path(), &[DMP_PATIENT]);
    let registry = Daemon::start(
        registry_binary(),
        registry_dir.path(),
        &["--config", registry_config.to_str().expect("utf-8")],
    );
    let url = format!("http://{}{REGISTRY_PATH}", registry.address);
    let repository = spawn_repository(
        repository_dir.path(),
        &repository_config,
        &url,
        &Output::default(),
    );
    DmpPair {
        _config_dir: config_dir,
        _registry_dir: registry_dir,
        _repository_dir: repository_dir,
        registry,
        repository,
    }
}

/// A Failure whose every error has `code`.
fn assert_failure_of(response: &RegistryResponse, code: xds::XdsErrorCode) {
    assert_eq!(response.status, ResponseStatus::Failure, "{response:?}");
    assert!(
        response.errors.iter().all(|error| error.code == code),
        "{response:?}"
    );
}

fn rule_ids(response: &RegistryResponse) -> Vec<String> {
    let mut ids: Vec<String> = response
        .errors
        .iter()
        .filter_map(|error| {
            let start = error.code_context.rfind('[')?;
            Some(
                error.code_context[start + 1..]
                    .trim_end_matches(']')
                    .to_owned(),
            )
        })
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

#[test]
fn the_dmp_sample_goes_through_and_a_plain_ihe_submission_is_refused_with_its_reasons() {
    let pair = start_pair("dmp-e2e");
    let patient = Cx::parse(DMP_PATIENT).expect("CX");

    // ITI-41 of the DMP sample: the letter and its signature.
    let mut metadata = dmp_sample();
    for entry in &mut metadata.document_entries {
        entry.hash = None;
        entry.size = None;
        entry.repository_unique_id = None;
    }
    let letter =
        b"<ClinicalDocument xmlns=\"urn:hl7-org:v3\">lettre de liaison</ClinicalDocument>".to_vec();
    let signature = b"<ds:Signature xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"/>".to_vec();
    let response = provide(
        pair.repository.address,
        &metadata,
        &[&letter, &signature],
        true,
    );
    assert_eq!(response.status, ResponseStatus::Success, "{response:?}");
    let entries = registered(
        pair.registry.address,
        &[
            "1.2.250.1.999.77.3.20261123.1",
            "1.2.250.1.999.77.3.20261123.2",
        ],
    );
    assert_eq!(entries.len(), 2);
    // Rule 6: sourcePatientInfo stored exactly as received.
    let sent = &dmp_sample().document_entries[0].source_patient_info;
    let letter_entry = entries
        .iter()
        .find(|entry| {
            entry.unique_id.as_ref().map(UniqueId::as_str) == Some("1.2.250.1.999.77.3.20261123.1")
        })
        .expect("letter");
    assert_eq!(&letter_entry.source_patient_info, sent);
    let (response, documents) = retrieve(
        pair.repository.address,
        &[(REPOSITORY_ID, "1.2.250.1.999.77.3.20261123.1")],
    );
    assert_eq!(response.status, ResponseStatus::Success, "{response:?}");
    assert_eq!(documents[0].content, letter);

    // ITI-41 of a plain IHE submission for the same patient: refused by the repository, with
    // its code and the DMP rules it breaks; nothing reaches the registry.
    let plain = provide_metadata("1.2.250.1.999.78.1", &patient, &["1.2.250.1.999.78.2"]);
    let response = provide(pair.repository.address, &plain, &[b"plain text"], true);
    assert_eq!(response.status, ResponseStatus::Failure);
    assert_failure_of(&response, xds::XdsErrorCode::RepositoryMetadataError);
    let rules = rule_ids(&response);
    for rule in ["DMP-20", "DMP-21", "DMP-24", "DMP-27"] {
        assert!(
            rules.iter().any(|id| id == rule),
            "{rule} missing from {rules:?}: {response:?}"
        );
    }
    assert!(registered(pair.registry.address, &["1.2.250.1.999.78.2"]).is_empty());
    let (response, _) = retrieve(
        pair.repository.address,
        &[(REPOSITORY_ID, "1.2.250.1.999.78.2")],
    );
    assert_eq!(response.status, ResponseStatus::Failure);

    // ITI-42 straight to the registry: its own code, the same rules.
    let mut plain = plain;
    for entry in &mut plain.document_entries {
        entry.hash = Some(Sha1Hash([7; 20]));
        entry.size = Some(10);
        entry.repository_unique_id = Some(Oid::parse(REPOSITORY_ID).expect("OID"));
    }
    let response = register(pair.registry.address, REGISTRY_PATH, &plain);
    assert_eq!(response.status, ResponseStatus::Failure);
    assert_failure_of(&response, xds::XdsErrorCode::RegistryMetadataError);
    assert!(
        rule_ids(&response).iter().any(|id| id == "DMP-21"),
        "{response:?}"
    );
    assert!(registered(pair.registry.address, &["1.2.250.1.999.78.2"]).is_empty());
}

#[test]
fn a_broken_value_set_folder_stops_either_daemon_before_it_listens() {
    let dir = TempDir::new("dmp-broken");
    let broken = dir.path().join("valuesets");
    std::fs::create_dir(&broken).expect("mkdir");
    copy_files(&valuesets(), &broken);
    let file = broken.join("JDV_J01_XdsAuthorSpecialty_CISIS.xml");
    let text = std::fs::read_to_string(&file).expect("read");
    std::fs::write(&file, &text[..text.len() / 2]).expect("truncate");
    let config = fr_dmp_config(dir.path(), "daemon.toml", &broken);
    for binary in [registry_binary(), Path::new(REPOSITORY_BINARY)] {
        let data = dir.path().join(binary.file_name().expect("name"));
        let output = Command::new(binary)
            .args(["serve", "--listen", "127.0.0.1:0", "--config"])
            .arg(&config)
            .arg("--data-dir")
            .arg(&data)
            .output()
            .expect("run");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(
            output.status.code(),
            Some(64),
            "{}: {stderr}",
            binary.display()
        );
        assert!(
            stderr.contains("JDV_J01_XdsAuthorSpecialty_CISIS.xml") && stderr.contains("truncated"),
            "{}: {stderr}",
            binary.display()
        );
        assert!(!String::from_utf8_lossy(&output.stdout).contains("listening on"));
    }
}
