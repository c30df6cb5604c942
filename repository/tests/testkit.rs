//! The NIST XDS testkit's repository tests (ITI-41, ITI-43, ITI-86), run by the conformance
//! harness's runner against both real daemons on loopback. The runner enforces what the
//! toolkit only logs: each retrieved document's size, SHA-1 and mimeType against the registry's
//! metadata and against the bytes the run sent (testkit FORMAT.md §8.3).
//!
//! Set-up as the toolkit's orchestration does it for a combined registry/repository (FORMAT.md
//! §10): the run's patients are known to the registry before the tests (`patient add`), and
//! the tests' own feed steps (PnrXop/PnrNoXop `patientFeed`) go to the registry's MLLP
//! listener (ITI-8).

mod common;

use common::*;
use xds_conformance::runner::{Patients, Runner, Site, StepOutcome, tally};
use xds_conformance::suites::NIST_SUITES;
use xds_conformance::testkit;

/// Tests not run here, each with its reason.
const NOT_RUN: [(&str, &str); 1] = [(
    "12028",
    "the same as 12029 over TLS toward the repository and its registry; mutual TLS arrives with the trust issue",
)];

/// The raw-HTTP tests: hand-made MTOM bodies (XOP, inline base64 inside MTOM, a URL-encoded
/// cid, a WCF-style DICOM submission) with hard-coded patient ids and uniqueIds, so each runs
/// on fresh daemons with those patients fed.
const RAW: [&str; 2] = ["PnrXop", "PnrNoXop"];

/// The harness's `nist-repository` suite (CATALOG.md "Repository — ITI-41", "ITI-43",
/// "ITI-86"), less the raw-HTTP tests, which run apart.
fn tests() -> Vec<&'static str> {
    let suite = NIST_SUITES
        .iter()
        .find(|suite| suite.name == "nist-repository")
        .expect("the repository suite");
    suite
        .tests
        .iter()
        .copied()
        .filter(|test| !RAW.contains(test))
        .collect()
}
const RAW_PATIENTS: [&str; 3] = [
    "SR7^^^&1.2.260&ISO",
    "IDS-AD027-a^^^&1.3.6.1.4.1.21367.2005.13.20.1000&ISO",
    "P20160614133506.2^^^&1.3.6.1.4.1.21367.2005.13.20.1000&ISO",
];

/// Steps expected not to pass, each with its reason.
const EXCEPTIONS: [(&str, &str); 1] = [(
    "PnrNoXop/eval/eval",
    "binds $ssuid$ to the SubmissionSet uniqueId the runner assigned in ../submit, but that step replays a raw body and assigns none (the body's SubmissionSet uniqueId is fixed)",
)];

fn patients() -> Patients {
    Patients {
        register: "NISTREP1^^^&1.3.6.1.4.1.21367.2005.3.7&ISO".to_owned(),
        register_alt: "NISTREP2^^^&1.3.6.1.4.1.21367.2005.3.7&ISO".to_owned(),
        stored_query: "NISTREP3^^^&1.3.6.1.4.1.21367.2005.3.7&ISO".to_owned(),
    }
}

/// Runs `tests` on fresh daemons whose registry knows the runner's patients and `extra`.
fn run_on_fresh_daemons(name: &str, tests: &[&str], extra: &[&str]) -> Vec<StepOutcome> {
    let shared = testkit::require_shared_dir();
    let testkit_tests = shared.join("conformance/nist-testkit/tests");
    let patients = patients();
    let registry_dir = TempDir::new(&format!("{name}-registry"));
    let repository_dir = TempDir::new(&format!("{name}-repository"));
    let mut fed = vec![
        patients.register.as_str(),
        patients.register_alt.as_str(),
        patients.stored_query.as_str(),
    ];
    fed.extend_from_slice(extra);
    patient_add(registry_dir.path(), &fed);
    let registry = Daemon::start(
        registry_binary(),
        registry_dir.path(),
        &["--mllp-listen", "127.0.0.1:0"],
    );
    let repository = start_repository(repository_dir.path(), registry.address, 0, &[]);
    let site = Site {
        registry: registry.address,
        registry_path: REGISTRY_PATH.to_owned(),
        repository: Some(repository.address),
        repository_path: REPOSITORY_PATH.to_owned(),
        source_id: "1.3.6.1.4.1.21367.2009.1.2.1".to_owned(),
        mllp: registry.listener("mllp"),
    };
    let mut runner = Runner::new(&testkit_tests, site, patients);
    tests
        .iter()
        .flat_map(|test| runner.run_test(test))
        .collect()
}

#[test]
fn nist_testkit_repository_groups_pass() {
    let tests = tests();
    assert!(tests.len() >= 17, "{tests:?}");
    for test in tests.iter().chain(&RAW) {
        assert!(
            !NOT_RUN.iter().any(|(name, _)| name == test),
            "{test} is both run and listed as not run"
        );
    }
    let mut outcomes = run_on_fresh_daemons("testkit", &tests, &[]);
    for raw in RAW {
        outcomes.extend(run_on_fresh_daemons(raw, &[raw], &RAW_PATIENTS));
    }
    for outcome in &outcomes {
        println!("{outcome}");
    }
    let (passed, problems) = tally(&outcomes, &EXCEPTIONS);
    println!(
        "{passed} steps passed, {} exceptions listed, {} tests not run",
        EXCEPTIONS.len(),
        NOT_RUN.len()
    );
    assert!(
        problems.is_empty(),
        "{} steps failed:\n{}",
        problems.len(),
        problems.join("\n")
    );
    assert_eq!(passed + EXCEPTIONS.len(), outcomes.len());
    assert!(outcomes.len() >= 65, "only {} steps ran", outcomes.len());
}
