//! What `xds-conformance run` runs: the NIST testkit suites (groups of test plans, executed by
//! [`crate::runner`]) and our own declarative suites (`conformance/suites/*.toml`, executed by
//! [`crate::scenario`]), each test ending as passed, failed (with every reason) or skipped (with
//! its reason), and the checked-in list of known failures.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::runner::{Patients, Runner, Site, StepOutcome, Verdict};

/// An endpoint given as an `http://HOST:PORT/path` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub address: SocketAddr,
    pub path: String,
}

impl Endpoint {
    /// Parses `http://ADDR:PORT/path` (a literal address: the harness talks to loopback and
    /// test networks; `https://` arrives with the trust work).
    pub fn parse(url: &str) -> Result<Self, String> {
        let rest = if let Some(rest) = url.strip_prefix("http://") {
            rest
        } else if url.starts_with("https://") {
            return Err(format!(
                "{url}: TLS endpoints are not supported yet (the trust issue adds --client-cert)"
            ));
        } else {
            return Err(format!("{url}: expected http://ADDR:PORT/path"));
        };
        let (authority, path) = match rest.find('/') {
            Some(slash) => (&rest[..slash], &rest[slash..]),
            None => (rest, "/"),
        };
        let address = authority
            .replace("localhost", "127.0.0.1")
            .parse::<SocketAddr>()
            .map_err(|_| format!("{url}: {authority} is not ADDR:PORT"))?;
        Ok(Self {
            address,
            path: path.to_owned(),
        })
    }
}

/// How one test ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Passed,
    Failed(Vec<String>),
    Skipped(String),
}

/// One test's result.
#[derive(Debug, Clone)]
pub struct TestResult {
    pub suite: String,
    pub name: String,
    pub outcome: Outcome,
    /// Steps or cases that ran.
    pub steps: usize,
    /// Known failures met on the way (`step: reason`), reported but not failing the test.
    pub known: Vec<String>,
    pub duration: Duration,
}

/// The checked-in list of known failures: `test/section/step: reason` lines (`#` comments).
#[derive(Debug, Clone, Default)]
pub struct KnownFailures {
    entries: Vec<(String, String)>,
}

/// The project's own list, for our daemons.
pub const DEFAULT_KNOWN_FAILURES: &str = include_str!("../known-failures.txt");

impl KnownFailures {
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut entries = Vec::new();
        for (number, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let Some((step, reason)) = line.split_once(": ") else {
                return Err(format!(
                    "known failures, line {}: expected `test/section/step: reason`",
                    number + 1
                ));
            };
            if reason.trim().is_empty() {
                return Err(format!("known failures, line {}: no reason", number + 1));
            }
            entries.push((step.trim().to_owned(), reason.trim().to_owned()));
        }
        Ok(Self { entries })
    }

    /// The reason a step (`test/section/step`) is a known failure.
    pub fn reason(&self, step: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(known, _)| known == step)
            .map(|(_, reason)| reason.as_str())
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// A NIST testkit suite: test plans run in order.
#[derive(Debug, Clone, Copy)]
pub struct NistSuite {
    pub name: &'static str,
    pub description: &'static str,
    pub tests: &'static [&'static str],
    /// Whether it needs `--repository`.
    pub needs_repository: bool,
    /// Whether it needs `--mllp` (the registry's ITI-8 listener).
    pub needs_mllp: bool,
}

/// The NIST suites, in the order they must run (the patient feeds, then the registry's
/// fixture loaders).
pub const NIST_SUITES: [NistSuite; 7] = [
    NistSuite {
        name: "nist-patient-feed",
        description: "15817, 15817b, 15818: HL7v2 ADT^A01 feeds of the run's three patients (ITI-8 over MLLP)",
        tests: &["15817", "15817b", "15818"],
        needs_repository: false,
        needs_mllp: true,
    },
    NistSuite {
        name: "nist-registry-fixtures",
        description: "12346 and 12374 load the data the stored-query tests count (run first)",
        tests: &["12346", "12374"],
        needs_repository: false,
        needs_mllp: false,
    },
    NistSuite {
        name: "nist-iti18",
        description: "ITI-18 Registry Stored Query (exact counts on 12346's data)",
        tests: &[
            "11897", "11898", "11899", "11901", "11902", "11903", "11904", "11905", "11906",
            "11907", "11908", "11909", "12368", "15803",
        ],
        needs_repository: false,
        needs_mllp: false,
    },
    NistSuite {
        name: "nist-iti42",
        description: "ITI-42 Register Document Set-b",
        tests: &[
            "11990", "11991", "11992", "11993", "11994", "11995", "11996", "11997", "11998",
            "11998a", "11999", "12000", "12000.1a", "12001", "12002", "12004", "12022", "12084",
            "12323", "12326", "12327", "12370", "12379", "15806",
        ],
        needs_repository: false,
        needs_mllp: false,
    },
    NistSuite {
        name: "nist-iti57",
        description: "ITI-57 Update Document Set: DocumentEntry and Folder versions, status changes, submitted associations, malformed requests (20004: known failures, see known-failures.txt)",
        tests: &[
            "15800", "15800b", "15800c", "15800d", "15800e", "15801", "15802", "15802b", "20000",
            "20000b", "20000c", "20000d", "20000e", "20000f", "20001", "20002", "20004", "20005",
            "20006", "20002b", "20003", "20007", "20008", "20100a", "20100b", "21000", "21001",
            "21002", "21003", "21004",
        ],
        needs_repository: false,
        needs_mllp: false,
    },
    NistSuite {
        name: "nist-iti62",
        description: "ITI-62 Remove Metadata: unknown objects, references that stay, objects left unreferenced, RPLC/XFRM/APND chains",
        tests: &[
            "30000", "30001", "30002", "30003", "30004", "30005", "30006", "30007", "30008",
        ],
        needs_repository: false,
        needs_mllp: false,
    },
    NistSuite {
        name: "nist-repository",
        description: "ITI-41, ITI-43 and ITI-86 (PnrXop/PnrNoXop use fixed ids: once per registry state)",
        tests: &[
            "11966",
            "11979",
            "11981",
            "11983",
            "11986",
            "12369",
            "15816",
            "ReposAcceptanceTest-1111",
            "ReposAcceptanceTest-1112",
            "ReposAcceptanceTest-1113",
            "12021",
            "12029",
            "12360",
            "50000",
            "50001",
            "50002",
            "50003",
            "PnrXop",
            "PnrNoXop",
        ],
        needs_repository: true,
        needs_mllp: false,
    },
];

/// Where a run sends its requests, and with what.
#[derive(Debug, Clone)]
pub struct Target {
    pub registry: Endpoint,
    pub repository: Option<Endpoint>,
    /// The registry's MLLP listener (ITI-8).
    pub mllp: Option<SocketAddr>,
    pub source_id: String,
    pub patients: Patients,
}

impl Target {
    pub fn site(&self) -> Site {
        Site {
            registry: self.registry.address,
            registry_path: self.registry.path.clone(),
            repository: self.repository.as_ref().map(|endpoint| endpoint.address),
            repository_path: self
                .repository
                .as_ref()
                .map(|endpoint| endpoint.path.clone())
                .unwrap_or_default(),
            mllp: self.mllp,
            source_id: self.source_id.clone(),
        }
    }
}

/// Folds one test's step outcomes into a result.
pub fn fold_steps(
    suite: &str,
    test: &str,
    steps: &[StepOutcome],
    known: &KnownFailures,
    duration: Duration,
) -> TestResult {
    let mut failures = Vec::new();
    let mut notes = Vec::new();
    let mut ran = 0;
    for step in steps {
        let key = format!("{}/{}/{}", step.test, step.section, step.step);
        let reason = known.reason(&key);
        match (&step.verdict, reason) {
            (Verdict::Passed, None) => ran += 1,
            (Verdict::Passed, Some(_)) => {
                ran += 1;
                notes.push(format!(
                    "{key}: listed as a known failure but passes (update the list)"
                ));
            }
            (_, Some(reason)) => notes.push(format!("{key}: {reason}")),
            (Verdict::Failed(reasons), None) => {
                ran += 1;
                failures.push(format!(
                    "{}/{}: {}",
                    step.section,
                    step.step,
                    reasons.join("; ")
                ));
            }
            (Verdict::NotRun(reason), None) => {
                failures.push(format!("{}/{}: not run: {reason}", step.section, step.step))
            }
        }
    }
    let outcome = if !failures.is_empty() {
        Outcome::Failed(failures)
    } else if ran == 0 {
        Outcome::Skipped("no step ran".to_owned())
    } else {
        Outcome::Passed
    };
    TestResult {
        suite: suite.to_owned(),
        name: test.to_owned(),
        outcome,
        steps: ran,
        known: notes,
        duration,
    }
}

/// Runs the chosen tests of a NIST suite; `report` sees each result as it ends.
pub fn run_nist(
    suite: &NistSuite,
    selected: &dyn Fn(&str) -> bool,
    runner: &mut Runner,
    target: &Target,
    known: &KnownFailures,
    report: &mut dyn FnMut(&TestResult),
) -> Vec<TestResult> {
    let mut results = Vec::new();
    for test in suite.tests.iter().filter(|test| selected(test)) {
        let started = Instant::now();
        let missing = if suite.needs_repository && target.repository.is_none() {
            Some("no --repository given")
        } else if suite.needs_mllp && target.mllp.is_none() {
            Some("no --mllp given (the patients must then be registered beforehand)")
        } else {
            None
        };
        let result = if let Some(missing) = missing {
            TestResult {
                suite: suite.name.to_owned(),
                name: (*test).to_owned(),
                outcome: Outcome::Skipped(missing.to_owned()),
                steps: 0,
                known: Vec::new(),
                duration: Duration::ZERO,
            }
        } else {
            let steps = runner.run_test(test);
            fold_steps(suite.name, test, &steps, known, started.elapsed())
        };
        report(&result);
        results.push(result);
    }
    results
}

/// The folder of our own suites (`conformance/suites` of the source tree, or `--suites DIR`).
pub fn default_suites_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("suites")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_are_http_urls_with_literal_addresses() {
        assert_eq!(
            Endpoint::parse("http://127.0.0.1:8080/xds/registry"),
            Ok(Endpoint {
                address: SocketAddr::from(([127, 0, 0, 1], 8080)),
                path: "/xds/registry".to_owned()
            })
        );
        assert_eq!(
            Endpoint::parse("http://localhost:9/").map(|endpoint| endpoint.address.port()),
            Ok(9)
        );
        assert!(Endpoint::parse("https://127.0.0.1:1/x").is_err());
        assert!(Endpoint::parse("127.0.0.1:1").is_err());
    }

    #[test]
    fn the_checked_in_known_failures_parse_and_each_has_a_reason() {
        let known = KnownFailures::parse(DEFAULT_KNOWN_FAILURES).expect("parses");
        assert!(!known.is_empty());
        assert!(KnownFailures::parse("a/b/c\n").is_err());
        assert!(KnownFailures::parse("a/b/c: \n").is_err());
    }

    #[test]
    fn a_test_fails_on_any_unlisted_failure_and_notes_listed_ones() {
        let step = |section: &str, verdict: Verdict| StepOutcome {
            test: "t".to_owned(),
            section: section.to_owned(),
            step: "s".to_owned(),
            verdict,
        };
        let known = KnownFailures::parse("t/feed/s: no MLLP here\n").expect("parses");
        let result = fold_steps(
            "suite",
            "t",
            &[
                step("feed", Verdict::NotRun("PIF".to_owned())),
                step("submit", Verdict::Passed),
            ],
            &known,
            Duration::ZERO,
        );
        assert_eq!(result.outcome, Outcome::Passed);
        assert_eq!(result.known, vec!["t/feed/s: no MLLP here".to_owned()]);
        let result = fold_steps(
            "suite",
            "t",
            &[step("submit", Verdict::Failed(vec!["status".to_owned()]))],
            &known,
            Duration::ZERO,
        );
        assert!(matches!(result.outcome, Outcome::Failed(_)));
    }
}
