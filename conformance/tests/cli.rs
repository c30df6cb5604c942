//! The `xds-conformance` command line as a user meets it: `validate` on good and bad files,
//! `list`, and usage errors.

use std::process::Command;

use xds::model::*;
use xds::wire::{Body, OutContent};
use xds_conformance::support::{TempDir, copy_files, documents, patient};

const HARNESS: &str = env!("CARGO_BIN_EXE_xds-conformance");

fn harness(arguments: &[&str]) -> (i32, String, String) {
    let output = Command::new(HARNESS)
        .args(arguments)
        .output()
        .expect("run xds-conformance");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn write_submission(dir: &TempDir, name: &str, metadata: &Metadata) -> String {
    let body = Body::<OutContent>::SubmitObjects(xds::transform::submit_objects_to_wire(metadata));
    let path = dir.path().join(name);
    std::fs::write(&path, xds::wire::write_body_document(&body)).expect("write file");
    path.to_str().expect("utf-8").to_owned()
}

#[test]
fn validate_accepts_a_valid_submission_and_lists_every_violation_of_a_bad_one() {
    let dir = TempDir::new("validate");
    let valid = documents("1.2.250.1.999.5.1", &patient(1), &["1.2.250.1.999.6.1"]);
    let path = write_submission(&dir, "valid.xml", &valid);
    let (code, stdout, _) = harness(&["validate", &path]);
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains(": 0 violations"), "{stdout}");

    let mut bad = valid.clone();
    bad.document_entries[0].patient_id = Some(patient(2));
    bad.document_entries[0].class_code = None;
    let path = write_submission(&dir, "bad.xml", &bad);
    let (code, stdout, _) = harness(&["validate", &path]);
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("XDSPatientIdDoesNotMatch"), "{stdout}");
    assert!(stdout.contains("XDSRegistryMetadataError"), "{stdout}");
    assert!(stdout.contains("classCode"), "{stdout}");
    // As the repository would receive it, the repository's code.
    let (_, stdout, _) = harness(&["validate", "--repository", &path]);
    assert!(stdout.contains("XDSRepositoryMetadataError"), "{stdout}");
}

#[test]
fn validate_reads_the_testkit_ebrim_2_1_files() {
    let shared = xds_conformance::testkit::require_shared_dir();
    let file = shared.join("conformance/nist-testkit/tests/12346/single_doc/single_doc.xml");
    let (_, stdout, stderr) = harness(&["validate", file.to_str().expect("utf-8")]);
    assert!(
        stdout.contains("ebRIM 2.1 input, converted"),
        "{stdout}{stderr}"
    );
    assert!(stdout.contains("violation"), "{stdout}{stderr}");
}

#[test]
fn usage_errors_exit_64_and_list_names_every_suite() {
    let (code, _, stderr) = harness(&[
        "run",
        "--registry",
        "http://127.0.0.1:9/xds/registry",
        "--suite",
        "no-such-suite",
    ]);
    assert_eq!(code, 64, "{stderr}");
    assert!(stderr.contains("no suite named"), "{stderr}");
    let (code, _, stderr) = harness(&["run", "--registry", "https://127.0.0.1:9/x"]);
    assert_eq!(code, 64, "{stderr}");
    assert!(stderr.contains("TLS"), "{stderr}");
    let (code, stdout, _) = harness(&["list"]);
    assert_eq!(code, 0);
    let (code, _, stderr) = harness(&[
        "run",
        "--registry",
        "http://127.0.0.1:9/xds/registry",
        "--mllp",
        "somewhere:mllp",
    ]);
    assert_eq!(code, 64, "{stderr}");
    assert!(stderr.contains("--mllp"), "{stderr}");
    for suite in [
        "nist-patient-feed",
        "nist-registry-fixtures",
        "nist-iti18",
        "nist-iti42",
        "nist-repository",
        "malformed",
        "large-documents",
        "concurrency",
    ] {
        assert!(stdout.contains(suite), "{suite} missing from:\n{stdout}");
    }
}

/// `xds-conformance validate --profile fr-dmp --valuesets VALUESETS FILE`.
fn validate_fr_dmp(valuesets: &str, file: &str) -> (i32, String, String) {
    harness(&[
        "validate",
        "--profile",
        "fr-dmp",
        "--valuesets",
        valuesets,
        file,
    ])
}

/// The DMP sample of the profiles crate and the value sets of the shared folder.
fn dmp_paths() -> (String, String) {
    let sample = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../profiles/samples/dmp-register.xml");
    let valuesets =
        xds_conformance::testkit::require_shared_dir().join("profiles-data/dmp/valuesets");
    (
        sample.to_str().expect("utf-8").to_owned(),
        valuesets.to_str().expect("utf-8").to_owned(),
    )
}

#[test]
fn validate_fr_dmp_accepts_the_dmp_sample_and_rejects_a_nist_sample_with_reasons() {
    let (sample, valuesets) = dmp_paths();
    let (code, stdout, stderr) = validate_fr_dmp(&valuesets, &sample);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stdout.contains(": 0 violations (fr-dmp profile"),
        "{stdout}"
    );

    // A testkit submission with the values the runner would fill in (a valid INS, so that
    // the reasons are the DMP rules, not the patient id).
    let shared = xds_conformance::testkit::require_shared_dir();
    let text = std::fs::read_to_string(
        shared.join("conformance/nist-testkit/tests/12346/single_doc/single_doc.xml"),
    )
    .expect("testkit file");
    let text = text
        .replace("value=\"Document01\"", "value=\"1.2.250.1.999.9.1.1\"")
        .replace("value=\"SubmissionSet01\"", "value=\"1.2.250.1.999.9.2.1\"")
        .replace(
            "$patientid$",
            "185057800608491^^^&amp;1.2.250.1.213.1.4.8&amp;ISO^NH",
        );
    let dir = TempDir::new("validate-dmp");
    let nist = dir.path().join("single_doc.xml");
    std::fs::write(&nist, text).expect("write");
    let nist = nist.to_str().expect("utf-8");
    let (code, stdout, _) = harness(&["validate", nist]);
    assert_eq!(code, 0, "valid XDS.b: {stdout}");
    let (code, stdout, _) = validate_fr_dmp(&valuesets, nist);
    assert_eq!(code, 1, "{stdout}");
    for expected in [
        "XDSRegistryMetadataError  DMP-20  DocumentEntry Document01: the DMP requires legalAuthenticator",
        "DMP-21  DocumentEntry Document01: CODE_NOT_IN_JDV: classCode IMAGES (1.3.6.1.4.1.19376.1.2.6.1) is not in JDV_J57 ClassCode DMP",
        "DMP-21  SubmissionSet SubmissionSet01: CODE_NOT_IN_JDV: contentTypeCode 225728007",
        "DMP-22  DocumentEntry Document01: CLASS_TYPE_MISMATCH: typeCode 11369-6 gives classCode 52",
        "DMP-25  DocumentEntry Document01 / author 1: authorPerson ^Smitty^Gerald: XCN.9 is not &<OID>&ISO",
        "DMP-27  SubmissionSet SubmissionSet01: SUBMISSION_SIGNATURE",
    ] {
        assert!(
            stdout.contains(expected),
            "{expected:?} missing from\n{stdout}"
        );
    }
    assert!(
        stdout.contains(": 18 violations (fr-dmp profile"),
        "{stdout}"
    );
}

#[test]
fn validate_takes_the_profile_of_a_daemon_configuration_and_lists_rules() {
    let (sample, valuesets) = dmp_paths();
    let dir = TempDir::new("validate-config");
    // A test platform: test INS accepted. The sample with a test INS passes only with it.
    let config = dir.path().join("registry.toml");
    std::fs::write(
        &config,
        format!(
            "[server]\ninsecure = true\n[profile]\nname = \"fr-dmp\"\nvaluesets = {valuesets:?}\n[profile.dmp]\nins_accept = [\"nir\", \"test\"]\n"
        ),
    )
    .expect("write");
    let text = std::fs::read_to_string(&sample).expect("sample").replace(
        "1.2.250.1.213.1.4.8&amp;ISO^NH",
        "1.2.250.1.213.1.4.10&amp;ISO^NH",
    );
    let test_ins = dir.path().join("test-ins.xml");
    std::fs::write(&test_ins, text).expect("write");
    let test_ins = test_ins.to_str().expect("utf-8");
    let (code, stdout, _) = validate_fr_dmp(&valuesets, test_ins);
    assert_eq!(code, 1, "production rules refuse a test INS: {stdout}");
    assert!(stdout.contains("DMP-02"), "{stdout}");
    let (code, stdout, _) = harness(&[
        "validate",
        "--config",
        config.to_str().expect("utf-8"),
        test_ins,
    ]);
    assert_eq!(code, 0, "{stdout}");

    let (code, stdout, _) = harness(&[
        "validate",
        "--rules",
        "--config",
        config.to_str().expect("utf-8"),
    ]);
    assert_eq!(code, 0, "{stdout}");
    for id in [
        "IHE-REQUIRED",
        "IHE-PATIENT-MATCH",
        "DMP-01",
        "DMP-21",
        "DMP-28",
    ] {
        assert!(
            stdout.lines().any(|line| line.starts_with(id)),
            "{id} missing from\n{stdout}"
        );
    }

    // A broken value-set folder: exit 1 with the file and the reason, nothing checked.
    let broken = dir.path().join("valuesets");
    std::fs::create_dir(&broken).expect("mkdir");
    copy_files(std::path::Path::new(&valuesets), &broken);
    std::fs::write(
        broken.join("ValueSet-JDV-J60-FormatCode-DMP.json"),
        "{\"resourceType\": \"ValueSet\",",
    )
    .expect("truncate");
    let (code, _, stderr) = validate_fr_dmp(broken.to_str().expect("utf-8"), &sample);
    assert_ne!(code, 0, "{stderr}");
    assert!(
        stderr.contains("ValueSet-JDV-J60-FormatCode-DMP.json: not valid FHIR JSON"),
        "{stderr}"
    );
}
