//! The `xds-conformance` command line as a user meets it: `validate` on good and bad files,
//! `list`, and usage errors.

use std::process::Command;

use xds::model::*;
use xds::wire::{Body, OutContent};
use xds_conformance::support::{TempDir, documents, patient};

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
