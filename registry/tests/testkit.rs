//! The NIST XDS testkit's registry tests for ITI-42 and ITI-18, run by the conformance
//! harness's runner against the real daemon over HTTP on loopback (fresh data dir).
//!
//! Set-up as the toolkit's orchestration does it (testkit FORMAT.md §10): the feed tests 15817,
//! 15817b and 15818 send the three patients over MLLP (ITI-8 HL7v2 ADT^A01), then the fixture
//! loaders 12346 and 12374 run, then the ITI-18 group (exact counts on 12346's data) and the
//! ITI-42 group.

mod common;

use common::{TempDir, start_registry};
use xds_conformance::runner::{Patients, Runner, Site, Verdict, tally};
use xds_conformance::suites::NIST_SUITES;
use xds_conformance::testkit;

/// Steps that are expected not to pass here, each with its reason. Everything else must pass.
/// Steps expected not to pass, each with its reason (the same as conformance/known-failures.txt).
const EXCEPTIONS: [(&str, &str); 4] = [
    (
        "20004/failed_update/update",
        "test data: the update's SubmissionSet uniqueId is the literal SubmissionSet01_uniqueid (NoAssignUids keeps it), not an OID, so the structural rule (XDSRegistryMetadataError) answers before the update rule the step expects",
    ),
    (
        "20004/success_update/update",
        "test data: same non-OID SubmissionSet uniqueId as failed_update",
    ),
    (
        "20004/query_success_update/uniqueid_query",
        "follows from success_update being refused (non-OID SubmissionSet uniqueId in the test data)",
    ),
    (
        "20004/query_success_update/validate",
        "follows from success_update being refused (non-OID SubmissionSet uniqueId in the test data)",
    ),
];

#[test]
fn nist_testkit_register_and_stored_query_groups_pass() {
    let shared = testkit::require_shared_dir();
    let tests = shared.join("conformance/nist-testkit/tests");
    let dir = TempDir::new("testkit");
    let patients = Patients {
        register: "NISTREG1^^^&1.3.6.1.4.1.21367.2005.3.7&ISO".to_owned(),
        register_alt: "NISTREG2^^^&1.3.6.1.4.1.21367.2005.3.7&ISO".to_owned(),
        stored_query: "NISTSQ1^^^&1.3.6.1.4.1.21367.2005.3.7&ISO".to_owned(),
    };
    let daemon = start_registry(dir.path(), &["--mllp-listen", "127.0.0.1:0"]);
    let site = Site {
        registry: daemon.address,
        registry_path: "/xds/registry".to_owned(),
        repository: None,
        repository_path: String::new(),
        source_id: "1.3.6.1.4.1.21367.2009.1.2.1".to_owned(),
        mllp: daemon.listener("mllp"),
    };
    let mut runner = Runner::new(&tests, site, patients);
    let mut outcomes = Vec::new();
    // The harness's registry suites, in their order: feeds, fixtures, ITI-18, ITI-42, ITI-57
    // (versions, status changes, submitted associations), ITI-62.
    let tests: Vec<&str> = NIST_SUITES
        .iter()
        .filter(|suite| !suite.needs_repository)
        .flat_map(|suite| suite.tests.iter().copied())
        .collect();
    assert_eq!(tests.len(), 3 + 2 + 14 + 24 + 30 + 9, "{tests:?}");
    for test in tests {
        outcomes.extend(runner.run_test(test));
    }
    for outcome in &outcomes {
        println!("{outcome}");
    }
    let (passed, problems) = tally(&outcomes, &EXCEPTIONS);
    println!(
        "{passed} steps passed, {} exceptions listed",
        EXCEPTIONS.len()
    );
    assert!(
        problems.is_empty(),
        "{} steps failed:\n{}",
        problems.len(),
        problems.join("\n")
    );
    assert!(passed > 150, "only {passed} steps ran");
}

#[test]
fn the_runner_reports_a_registry_that_does_not_conform() {
    // Same plans, but the patients were never fed: the positive submissions of 11990 must come
    // back as failures, and the query that depends on them cannot bind its ids.
    let shared = testkit::require_shared_dir();
    let tests = shared.join("conformance/nist-testkit/tests");
    let dir = TempDir::new("testkit-unfed");
    let daemon = start_registry(dir.path(), &[]);
    let site = Site {
        registry: daemon.address,
        registry_path: "/xds/registry".to_owned(),
        repository: None,
        repository_path: String::new(),
        source_id: "1.3.6.1.4.1.21367.2009.1.2.1".to_owned(),
        mllp: None,
    };
    let patients = Patients {
        register: "UNFED1^^^&1.3.6.1.4.1.21367.2005.3.7&ISO".to_owned(),
        register_alt: "UNFED2^^^&1.3.6.1.4.1.21367.2005.3.7&ISO".to_owned(),
        stored_query: "UNFED3^^^&1.3.6.1.4.1.21367.2005.3.7&ISO".to_owned(),
    };
    let outcomes = Runner::new(&tests, site, patients).run_test("11990");
    let submit = &outcomes[0];
    assert_eq!(submit.step, "submit");
    match &submit.verdict {
        Verdict::Failed(reasons) => assert!(
            reasons
                .iter()
                .any(|reason| reason.contains("XDSUnknownPatientId")),
            "{reasons:?}"
        ),
        other => panic!("expected a failure, got {other:?}"),
    }
    assert!(
        outcomes
            .iter()
            .skip(1)
            .all(|outcome| matches!(outcome.verdict, Verdict::Failed(_))),
        "{outcomes:?}"
    );
}
