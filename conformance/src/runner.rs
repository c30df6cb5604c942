//! Runs NIST testkit test plans (`tests/<id>/<section>/testplan.xml`) against live endpoints,
//! following the testkit's FORMAT.md: step grammar and expectations (§3, §7), the metadata
//! pipeline with patient-id overwrite, uniqueId/sourceId assignment and symbolic-id -> UUID
//! rewriting (§5), the per-section step log with `UseId`, `UseReport` and `Report` (§6),
//! `ExpectedContents` and XPath `Assertions` (§8).
//!
//! It speaks SOAP 1.2 to the registry (ITI-42, ITI-18) and, when the site has one, to the
//! repository: ITI-41 as MTOM/XOP, ITI-43 (MTOM answers, with the retrieved documents' size,
//! SHA-1 and mimeType enforced against the reference query and against what was sent, where
//! the toolkit only logs them, §8.3) and ITI-86. A step of another transaction is reported as
//! not run, with the reason, never as passed.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use sha1::{Digest, Sha1};
use xds::model::vocabulary as vocab;
use xds::wire::names::{NS_LCM, NS_QUERY, NS_RIM, NS_RMD, NS_RS, NS_SOAP, NS_XDS, NS_XOP};
use xds::wire::{ContentType, MultipartReader, MultipartWriter, OutgoingPart};

use crate::xmltree::{self, Element, Node};
use crate::xpath::XPath;

/// The system under test: where each transaction is sent.
#[derive(Debug, Clone)]
pub struct Site {
    /// The registry's HTTP address and SOAP path (ITI-42 and ITI-18).
    pub registry: SocketAddr,
    pub registry_path: String,
    /// The repository's HTTP address and SOAP path (ITI-41, ITI-43, ITI-86); without one,
    /// those steps are not run.
    pub repository: Option<SocketAddr>,
    pub repository_path: String,
    /// sourceId the runner writes into every SubmissionSet (FORMAT.md §5.1 step 7).
    pub source_id: String,
    /// The registry's MLLP listener (ITI-8 feeds); without one, feed steps are not run.
    pub mllp: Option<SocketAddr>,
}

/// The patient ids the registry was fed before the run (FORMAT.md §10), in CX form.
#[derive(Debug, Clone)]
pub struct Patients {
    /// registerPid: test 15817, the session id of most tests.
    pub register: String,
    /// registerAltPid: test 15817b, the session id of 12374.
    pub register_alt: String,
    /// sqPid: test 15818, the session id of 12346.
    pub stored_query: String,
}

/// What happened to one step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepOutcome {
    pub test: String,
    pub section: String,
    pub step: String,
    pub verdict: Verdict,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Passed,
    /// Every reason the step failed.
    Failed(Vec<String>),
    /// The step was not sent; why.
    NotRun(String),
}

impl std::fmt::Display for StepOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}/{}: ", self.test, self.section, self.step)?;
        match &self.verdict {
            Verdict::Passed => write!(f, "passed"),
            Verdict::Failed(reasons) => write!(f, "FAILED: {}", reasons.join("; ")),
            Verdict::NotRun(reason) => write!(f, "not run: {reason}"),
        }
    }
}

/// The testkit's transaction elements (FORMAT.md §4).
const TRANSACTIONS: [&str; 10] = [
    "RegisterTransaction",
    "ProvideAndRegisterTransaction",
    "StoredQueryTransaction",
    "RetrieveTransaction",
    "MuTransaction",
    "RemoveMetadataTransaction",
    "RdTransaction",
    "PatientIdentityFeedTransaction",
    "HttpTransaction",
    "NullTransaction",
];

/// The log of a feed step: its transaction element with the `$patientid$` report that later
/// tests bind (`UseReport ... test="15817"`).
fn feed_log(step: &str, patient: String) -> Element {
    let mut transaction = element("PatientIdentityFeedTransaction", &[("step", step)]);
    let mut reports = element("Reports", &[]);
    let mut report = element("Report", &[("name", "$patientid$")]);
    report.children.push(Node::Text(patient));
    reports.children.push(Node::Element(report));
    transaction.children.push(Node::Element(reports));
    transaction
}

/// Counts passed steps against a list of expected exceptions (`test/section/step`, reason):
/// returns the passed count and one line per problem: a step that failed or was not run
/// without being listed, or a listed step that passes (the list must stay true).
pub fn tally(outcomes: &[StepOutcome], exceptions: &[(&str, &str)]) -> (usize, Vec<String>) {
    let mut passed = 0;
    let mut problems = Vec::new();
    for outcome in outcomes {
        let key = format!("{}/{}/{}", outcome.test, outcome.section, outcome.step);
        let excepted = exceptions.iter().any(|(step, _)| *step == key);
        match (&outcome.verdict, excepted) {
            (Verdict::Passed, false) => passed += 1,
            (Verdict::Passed, true) => {
                problems.push(format!("{key}: listed as an exception but passes"))
            }
            (_, true) => {}
            (_, false) => problems.push(outcome.to_string()),
        }
    }
    (passed, problems)
}

const FEED_TESTS: [&str; 3] = ["15817", "15817b", "15818"];

/// A run: the testkit's `tests` folder, the site, and the logs of every section run so far.
#[derive(Debug)]
pub struct Runner {
    tests: PathBuf,
    site: Site,
    patients: Patients,
    /// Section logs by (test, section).
    logs: HashMap<(String, String), Element>,
    /// Run-unique prefix for minted ids.
    run: u128,
    counter: u64,
    /// The session patient id of the test being run.
    session_patient: String,
    /// What each ITI-41 sent, by DocumentEntry uniqueId: (size, SHA-1 hex).
    sent: HashMap<String, (u64, String)>,
}

/// Everything one step needs that comes from its test plan.
struct StepPlan<'a> {
    test: &'a str,
    section: &'a str,
    step: &'a Element,
    transaction: &'a Element,
}

impl Runner {
    /// A runner over `tests` (the testkit's `tests` folder). The three feed tests' reports
    /// (`$patientid$`) are set from `patients`, standing for the HL7v2 feeds.
    pub fn new(tests: &Path, site: Site, patients: Patients) -> Self {
        let run = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|elapsed| elapsed.as_nanos())
            .unwrap_or(0);
        let mut runner = Self {
            tests: tests.to_owned(),
            session_patient: patients.register.clone(),
            site,
            patients,
            logs: HashMap::new(),
            run,
            counter: 0,
            sent: HashMap::new(),
        };
        for test in FEED_TESTS {
            let id = runner.feed_patient(test).to_owned();
            let mut log = element("TestResults", &[]);
            let mut step = element("TestStep", &[("id", "step")]);
            step.children.push(Node::Element(feed_log("step", id)));
            log.children.push(Node::Element(step));
            runner.logs.insert((test.to_owned(), "pif".to_owned()), log);
        }
        runner
    }

    /// A feed step: an ADT^A01 for the feed test's patient (the session patient elsewhere),
    /// expected to be accepted.
    fn feed_step(&mut self, plan: &StepPlan<'_>, step_log: &mut Element) -> Verdict {
        let Some(address) = self.site.mllp else {
            return Verdict::NotRun("no MLLP listener".to_owned());
        };
        let patient = if FEED_TESTS.contains(&plan.test) {
            self.feed_patient(plan.test).to_owned()
        } else {
            self.session_patient.clone()
        };
        let cx = match xds::model::Cx::parse(&patient) {
            Ok(cx) => cx,
            Err(error) => return Verdict::Failed(vec![format!("patient id {patient:?}: {error}")]),
        };
        let number = self.next();
        let control_id = format!("{:x}-{number}", self.run);
        let expected_success = plan
            .step
            .elements()
            .find(|child| child.local == "ExpectedStatus")
            .map(|status| status.text())
            .is_none_or(|status| status.trim() == "Success");
        // The step's report: the patient it fed, as the toolkit's log has it.
        let step_id = plan.step.attribute("id").unwrap_or_default().to_owned();
        step_log
            .children
            .push(Node::Element(feed_log(&step_id, patient.clone())));
        match (
            crate::feed::feed(address, &cx, &control_id),
            expected_success,
        ) {
            (Ok(()), true) => Verdict::Passed,
            (Err(_), false) => Verdict::Passed,
            (Ok(()), false) => Verdict::Failed(vec![
                "the feed was accepted; a failure was expected".to_owned(),
            ]),
            (Err(error), true) => {
                Verdict::Failed(vec![format!("ITI-8 feed of {patient}: {error}")])
            }
        }
    }

    fn feed_patient(&self, test: &str) -> &str {
        match test {
            "15817b" => &self.patients.register_alt,
            "15818" => &self.patients.stored_query,
            _ => &self.patients.register,
        }
    }

    /// The session patient id of a test (FORMAT.md §10).
    fn session_patient_of(&self, test: &str) -> String {
        match test {
            "12346" | "20000d" | "20000e" | "20008" => self.patients.stored_query.clone(),
            "12374" => self.patients.register_alt.clone(),
            _ => self.patients.register.clone(),
        }
    }

    fn next(&mut self) -> u64 {
        self.counter += 1;
        self.counter
    }

    /// A patient id the registry was never fed (NewPatientId, AltPatientId).
    fn mint_patient(&mut self) -> String {
        let n = self.next();
        format!(
            "P{}.{n}^^^&1.3.6.1.4.1.21367.2005.3.7&ISO",
            self.run % 1_000_000_000_000
        )
    }

    fn mint_unique_id(&mut self) -> String {
        let n = self.next();
        format!(
            "1.3.6.1.4.1.21367.2009.97.{}.{n}",
            self.run % 1_000_000_000_000
        )
    }

    fn mint_uuid(&mut self) -> String {
        let n = self.next();
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&((self.run as u64) ^ 0x5851_f42d_4c95_7f2d).to_be_bytes());
        bytes[8..].copy_from_slice(&n.to_be_bytes());
        xds::model::Uuid::new_v4(bytes).to_urn()
    }

    /// Runs every section of a test listed in its `index.idx`, in order.
    pub fn run_test(&mut self, test: &str) -> Vec<StepOutcome> {
        let folder = self.tests.join(test);
        let sections = match std::fs::read_to_string(folder.join("index.idx")) {
            Ok(index) => index
                .lines()
                .map(str::trim)
                .filter(|line| !line.is_empty())
                .map(str::to_owned)
                .collect::<Vec<_>>(),
            Err(error) => {
                return vec![StepOutcome {
                    test: test.to_owned(),
                    section: String::new(),
                    step: String::new(),
                    verdict: Verdict::Failed(vec![format!("index.idx unreadable: {error}")]),
                }];
            }
        };
        self.session_patient = self.session_patient_of(test);
        let mut outcomes = Vec::new();
        for section in sections {
            outcomes.extend(self.run_section(test, &section));
        }
        outcomes
    }

    fn run_section(&mut self, test: &str, section: &str) -> Vec<StepOutcome> {
        let outcome = |step: &str, verdict: Verdict| StepOutcome {
            test: test.to_owned(),
            section: section.to_owned(),
            step: step.to_owned(),
            verdict,
        };
        let path = self.tests.join(test).join(section).join("testplan.xml");
        let plan = match std::fs::read_to_string(&path)
            .map_err(|error| error.to_string())
            .and_then(|text| xmltree::parse(&text).map_err(|error| error.to_string()))
        {
            Ok(plan) => plan,
            Err(error) => {
                return vec![outcome(
                    "",
                    Verdict::Failed(vec![format!("{}: {error}", path.display())]),
                )];
            }
        };
        self.logs.insert(
            (test.to_owned(), section.to_owned()),
            element("TestResults", &[]),
        );
        let mut outcomes = Vec::new();
        for step in plan.elements().filter(|child| child.local == "TestStep") {
            let id = step.attribute("id").unwrap_or_default().to_owned();
            let transaction = step
                .elements()
                .find(|child| TRANSACTIONS.contains(&child.local.as_str()));
            let mut step_log = element("TestStep", &[("id", &id)]);
            let verdict = match transaction {
                None => {
                    // A step holding only NewPatientId (12374/reset_patient_id).
                    if step.elements().any(|child| child.local == "NewPatientId") {
                        self.session_patient = self.mint_patient();
                    }
                    Verdict::Passed
                }
                Some(transaction) => {
                    let plan = StepPlan {
                        test,
                        section,
                        step,
                        transaction,
                    };
                    self.run_step(&plan, &mut step_log)
                }
            };
            if let Some(log) = self.logs.get_mut(&(test.to_owned(), section.to_owned())) {
                log.children.push(Node::Element(step_log));
            }
            outcomes.push(outcome(&id, verdict));
        }
        outcomes
    }

    fn run_step(&mut self, plan: &StepPlan<'_>, step_log: &mut Element) -> Verdict {
        let transaction = plan.transaction;
        let kind = transaction.local.as_str();
        let served = match kind {
            "RegisterTransaction"
            | "MuTransaction"
            | "StoredQueryTransaction"
            | "RemoveMetadataTransaction"
            | "NullTransaction" => true,
            "ProvideAndRegisterTransaction" | "RetrieveTransaction" | "RdTransaction" => {
                self.site.repository.is_some()
            }
            // Raw ITI-41 bodies (`type="pr.b"`, or no type as in PnrNoXop).
            "HttpTransaction" => {
                self.site.repository.is_some()
                    && matches!(transaction.attribute("type"), None | Some("pr.b"))
            }
            "PatientIdentityFeedTransaction" => self.site.mllp.is_some(),
            _ => false,
        };
        if !served {
            return Verdict::NotRun(format!("{kind} is not served by this site"));
        }
        if kind == "PatientIdentityFeedTransaction" {
            return self.feed_step(plan, step_log);
        }
        let child = |name: &str| plan.step.elements().find(|child| child.local == name);
        if child("NewPatientId").is_some() {
            self.session_patient = self.mint_patient();
        }
        let step_patient = if child("AltPatientId").is_some() {
            self.mint_patient()
        } else {
            self.session_patient.clone()
        };

        // Bindings: UseReport then UseId (FORMAT.md §5.1 steps 1 and 5).
        let mut problems = Vec::new();
        let mut reports = Vec::new();
        for use_report in transaction
            .elements()
            .filter(|child| child.local == "UseReport")
        {
            match self.resolve_report(plan, use_report) {
                Ok(binding) => reports.push(binding),
                Err(problem) => problems.push(problem),
            }
        }
        let mut ids = Vec::new();
        for use_id in transaction
            .elements()
            .filter(|child| child.local == "UseId")
        {
            match self.resolve_id(plan, use_id, step_log) {
                Ok(binding) => ids.push(binding),
                Err(problem) => problems.push(problem),
            }
        }
        if !problems.is_empty() {
            return Verdict::Failed(problems);
        }
        let mut transaction_log = element(
            kind,
            &[("step", plan.step.attribute("id").unwrap_or_default())],
        );

        let result = match kind {
            "NullTransaction" => None,
            "HttpTransaction" => match self.replay_http(plan) {
                Ok(answer) => Some(answer.body),
                Err(problem) => return Verdict::Failed(vec![problem]),
            },
            _ => {
                let Some(file) = transaction
                    .elements()
                    .find(|child| child.local == "MetadataFile")
                    .map(Element::text)
                else {
                    return Verdict::Failed(vec!["no MetadataFile".to_owned()]);
                };
                let path = self
                    .tests
                    .join(plan.test)
                    .join(plan.section)
                    .join(file.trim());
                let text = match std::fs::read_to_string(&path) {
                    Ok(text) => text,
                    Err(error) => {
                        return Verdict::Failed(vec![format!("{}: {error}", path.display())]);
                    }
                };
                let mut text = substitute(&text, &reports, true);
                text = substitute(
                    &text,
                    &[("$patientid$".to_owned(), self.session_patient.clone())],
                    true,
                );
                text = fill_times(&text);
                let submission = matches!(
                    kind,
                    "RegisterTransaction" | "MuTransaction" | "ProvideAndRegisterTransaction"
                );
                let body = if submission {
                    match self.prepare_submission(
                        &text,
                        transaction,
                        &step_patient,
                        &ids,
                        &mut transaction_log,
                    ) {
                        Ok(body) => body,
                        Err(problem) => return Verdict::Failed(vec![problem]),
                    }
                } else {
                    // RetrieveTransaction never applies its UseId elements (§5.1).
                    let text = if kind == "RetrieveTransaction" {
                        text
                    } else {
                        substitute(&text, &ids, true)
                    };
                    match xmltree::parse(&text) {
                        Ok(body) => body,
                        Err(error) => return Verdict::Failed(vec![format!("{file}: {error}")]),
                    }
                };
                let (body, attachments) = if kind == "ProvideAndRegisterTransaction" {
                    match self.provide_and_register_body(plan, body, &transaction_log) {
                        Ok(pair) => pair,
                        Err(problem) => return Verdict::Failed(vec![problem]),
                    }
                } else {
                    (body, Vec::new())
                };
                let (action, to_repository, mtom) = match kind {
                    "RegisterTransaction" => {
                        ("urn:ihe:iti:2007:RegisterDocumentSet-b", false, false)
                    }
                    "ProvideAndRegisterTransaction" => (
                        "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b",
                        true,
                        true,
                    ),
                    "RetrieveTransaction" => ("urn:ihe:iti:2007:RetrieveDocumentSet", true, true),
                    "RdTransaction" => ("urn:ihe:iti:2017:RemoveDocuments", true, false),
                    "RemoveMetadataTransaction" => {
                        ("urn:ihe:iti:2010:DeleteDocumentSet", false, false)
                    }
                    "MuTransaction" => ("urn:ihe:iti:2010:UpdateDocumentSet", false, false),
                    _ => ("urn:ihe:iti:2007:RegistryStoredQuery", false, false),
                };
                // WaitBefore (12323): time-dependent steps need the clock to move on.
                if let Some(wait) = transaction
                    .elements()
                    .find(|child| child.local == "WaitBefore")
                    .and_then(|wait| wait.text().trim().parse::<u64>().ok())
                {
                    std::thread::sleep(Duration::from_millis(wait.min(60_000)));
                }
                let sent = write_body(&body);
                let mut input = element("InputMetadata", &[]);
                input.children.push(Node::Element(body));
                transaction_log.children.push(Node::Element(input));
                let (address, path) = match (to_repository, self.site.repository) {
                    (true, Some(repository)) => (repository, self.site.repository_path.as_str()),
                    _ => (self.site.registry, self.site.registry_path.as_str()),
                };
                let request = SoapRequest {
                    address,
                    path,
                    action,
                    body: &sent,
                    attachments: &attachments,
                    mtom,
                };
                match post_soap(&request) {
                    Ok(answer) => {
                        if kind == "RetrieveTransaction" {
                            problems.extend(self.check_retrieved(plan, &answer));
                        }
                        Some(answer.body)
                    }
                    Err(problem) => return Verdict::Failed(vec![problem]),
                }
            }
        };

        if let Some(response) = &result {
            let mut wrapper = element("Result", &[]);
            wrapper.children.push(Node::Element(response.clone()));
            transaction_log.children.push(Node::Element(wrapper));
            problems.extend(check_status(plan.step, response));
            if let Some(expected) = transaction
                .elements()
                .find(|child| child.local == "ExpectedContents")
            {
                problems.extend(check_contents(
                    expected,
                    response,
                    &self.resolved_ids_in(expected, plan, step_log),
                ));
            }
        }

        // Reports: explicit ones, then implicit `<symbol>_uid` / `<symbol>_uuid`.
        let mut report_list = element("Reports", &[]);
        // Run parameters are reports of every step that runs with them (FORMAT.md §1): later
        // sections may read `$patientid$` from any step.
        report_list.children.push(Node::Element(text_element(
            "Report",
            &[("name", "$patientid$")],
            &self.session_patient,
        )));
        if problems.is_empty() {
            for report in transaction
                .elements()
                .filter(|child| child.local == "Report")
            {
                let name = report.attribute("name").unwrap_or_default();
                let value = XPath::parse(report.text().trim())
                    .and_then(|xpath| xpath.string(&transaction_log));
                match value {
                    Ok(value) => report_list.children.push(Node::Element(text_element(
                        "Report",
                        &[("name", name)],
                        &value,
                    ))),
                    Err(error) => problems.push(format!("report {name}: {error}")),
                }
            }
        }
        for (section, suffix) in [("AssignedUids", "_uid"), ("AssignedUuids", "_uuid")] {
            let assigned: Vec<(String, String)> = transaction_log
                .elements()
                .filter(|child| child.local == section)
                .flat_map(Element::elements)
                .filter_map(|assign| {
                    Some((
                        format!("{}{suffix}", assign.attribute("symbol")?),
                        assign.attribute("id")?.to_owned(),
                    ))
                })
                .collect();
            for (name, value) in assigned {
                report_list.children.push(Node::Element(text_element(
                    "Report",
                    &[("name", &name)],
                    &value,
                )));
            }
        }
        transaction_log.children.push(Node::Element(report_list));
        step_log.children.push(Node::Element(transaction_log));

        // XPath assertions over the section's log so far, this step included.
        if let Some(assertions) = transaction
            .elements()
            .find(|child| child.local == "Assertions")
        {
            problems.extend(self.check_assertions(plan, assertions, &reports, &ids, step_log));
        }
        if problems.is_empty() {
            Verdict::Passed
        } else {
            Verdict::Failed(problems)
        }
    }

    /// FORMAT.md §5.1 steps 2-9 on a submission.
    fn prepare_submission(
        &mut self,
        text: &str,
        transaction: &Element,
        patient: &str,
        ids: &[(String, String)],
        log: &mut Element,
    ) -> Result<Element, String> {
        let text = if crate::ebrim21::is_ebrim21(text) {
            crate::ebrim21::convert_submit_objects(text).map_err(|error| error.to_string())?
        } else {
            text.to_owned()
        };
        let mut root = xmltree::parse(&text).map_err(|error| error.to_string())?;
        // Some ITI-41 files hold the whole ProvideAndRegisterDocumentSetRequest; the documents
        // come from the step's <Document> elements, so only the submission is kept.
        if root.local == "ProvideAndRegisterDocumentSetRequest" {
            let submit = root
                .elements()
                .find(|child| child.local == "SubmitObjectsRequest")
                .cloned()
                .ok_or("ProvideAndRegisterDocumentSetRequest without SubmitObjectsRequest")?;
            root = submit;
        }
        let has = |name: &str| transaction.elements().any(|child| child.local == name);
        // ObjectRefs are dropped (3.0 input too).
        if let Some(list) = child_mut(&mut root, "RegistryObjectList") {
            list.children.retain(
                |node| !matches!(node, Node::Element(element) if element.local == "ObjectRef"),
            );
        }
        if !has("NoPatientId") {
            let mut assigned = element("AssignedPatientId", &[]);
            for_each_identifier(&mut root, &mut |identifier, owner| {
                if matches!(
                    identifier.attribute("identificationScheme"),
                    Some(vocab::DE_PATIENT_ID | vocab::SS_PATIENT_ID | vocab::FOLDER_PATIENT_ID)
                ) {
                    identifier.set_attribute("value", patient);
                    assigned.children.push(Node::Element(element(
                        "Assign",
                        &[("symbol", owner), ("id", patient)],
                    )));
                }
            });
            log.children.push(Node::Element(assigned));
        }
        replace_everywhere(&mut root, ids);
        let keep = transaction
            .elements()
            .find(|child| child.local == "NoAssignUids")
            .map(|element| element.attribute("id").map(str::to_owned));
        let mut uids = element("AssignedUids", &[]);
        let mut sources = element("AssignedSourceId", &[]);
        let mut minted = Vec::new();
        for_each_identifier(&mut root, &mut |identifier, owner| match identifier
            .attribute("identificationScheme")
        {
            Some(vocab::DE_UNIQUE_ID | vocab::SS_UNIQUE_ID | vocab::FOLDER_UNIQUE_ID) => {
                let skip = match &keep {
                    Some(None) => true,
                    Some(Some(kept)) => kept == owner,
                    None => false,
                };
                if !skip {
                    minted.push(owner.to_owned());
                }
            }
            Some(vocab::SS_SOURCE_ID) => {
                identifier.set_attribute("value", self.site.source_id.clone());
                sources.children.push(Node::Element(element(
                    "Assign",
                    &[("symbol", owner), ("id", &self.site.source_id)],
                )));
            }
            _ => {}
        });
        let mut values = HashMap::new();
        for owner in minted {
            let value = self.mint_unique_id();
            values.insert(owner, value);
        }
        for_each_identifier(&mut root, &mut |identifier, owner| {
            if matches!(
                identifier.attribute("identificationScheme"),
                Some(vocab::DE_UNIQUE_ID | vocab::SS_UNIQUE_ID | vocab::FOLDER_UNIQUE_ID)
            ) && let Some(value) = values.get(owner)
            {
                identifier.set_attribute("value", value.clone());
                uids.children.push(Node::Element(element(
                    "Assign",
                    &[("symbol", owner), ("id", value)],
                )));
            }
        });
        log.children.push(Node::Element(uids));
        log.children.push(Node::Element(sources));
        if has("AssignUuids") {
            let mut symbols = Vec::new();
            collect_symbolic_ids(&root, &mut symbols);
            let mut map = HashMap::new();
            let mut assigned = element("AssignedUuids", &[]);
            for symbol in symbols {
                if map.contains_key(&symbol) {
                    continue;
                }
                let uuid = self.mint_uuid();
                assigned.children.push(Node::Element(element(
                    "Assign",
                    &[("symbol", &symbol), ("id", &uuid)],
                )));
                map.insert(symbol, uuid);
            }
            rename_ids(&mut root, &map);
            log.children.push(Node::Element(assigned));
        }
        replace_everywhere(&mut root, ids);
        Ok(root)
    }

    /// Wraps a prepared SubmitObjectsRequest into a ProvideAndRegisterDocumentSetRequest with
    /// one `xop:Include` per `<Document>` of the step, and remembers what is sent (by
    /// DocumentEntry uniqueId) for the retrieve checks.
    fn provide_and_register_body(
        &mut self,
        plan: &StepPlan<'_>,
        submit: Element,
        log: &Element,
    ) -> Result<(Element, Vec<Attachment>), String> {
        let renamed: HashMap<&str, &str> = log
            .elements()
            .filter(|child| child.local == "AssignedUuids")
            .flat_map(Element::elements)
            .filter_map(|assign| Some((assign.attribute("symbol")?, assign.attribute("id")?)))
            .collect();
        let mut request = Element {
            namespace: Some(NS_XDS.to_owned()),
            local: "ProvideAndRegisterDocumentSetRequest".to_owned(),
            attributes: Vec::new(),
            children: Vec::new(),
        };
        let mut attachments = Vec::new();
        for (index, document) in plan
            .transaction
            .elements()
            .filter(|child| child.local == "Document")
            .enumerate()
        {
            let symbol = document.attribute("id").unwrap_or_default();
            let id = renamed.get(symbol).copied().unwrap_or(symbol).to_owned();
            let file = self
                .tests
                .join(plan.test)
                .join(plan.section)
                .join(document.text().trim());
            let bytes =
                std::fs::read(&file).map_err(|error| format!("{}: {error}", file.display()))?;
            let entry = descendants(&submit).find(|element| {
                element.local == "ExtrinsicObject" && element.attribute("id") == Some(&id)
            });
            let mime_type = entry
                .and_then(|entry| entry.attribute("mimeType"))
                .unwrap_or("application/octet-stream")
                .to_owned();
            if let Some(unique_id) = entry.and_then(|entry| {
                entry
                    .elements()
                    .find(|child| {
                        child.local == "ExternalIdentifier"
                            && child.attribute("identificationScheme") == Some(vocab::DE_UNIQUE_ID)
                    })
                    .and_then(|identifier| identifier.attribute("value"))
            }) {
                self.sent
                    .insert(unique_id.to_owned(), (bytes.len() as u64, hex_sha1(&bytes)));
            }
            let content_id = format!("document{}@xds-conformance", index + 1);
            let mut include = element("Include", &[("href", &format!("cid:{content_id}"))]);
            include.namespace = Some(NS_XOP.to_owned());
            let mut wrapper = element("Document", &[("id", &id)]);
            wrapper.namespace = Some(NS_XDS.to_owned());
            wrapper.children.push(Node::Element(include));
            attachments.push((content_id, mime_type, bytes));
            request.children.push(Node::Element(wrapper));
        }
        request.children.insert(0, Node::Element(submit));
        Ok((request, attachments))
    }

    /// FORMAT.md §8.3, enforced: each retrieved document against the `ReferenceMetadata` query
    /// result (repositoryUniqueId, mimeType or `ExpectedMimeType`, size, hash) and against what
    /// this run sent for that uniqueId; its bytes are hashed here, not taken on trust.
    fn check_retrieved(&self, plan: &StepPlan<'_>, answer: &SoapAnswer) -> Vec<String> {
        let mut problems = Vec::new();
        let response = &answer.body;
        if response.local != "RetrieveDocumentSetResponse" {
            return problems;
        }
        let reference = plan
            .transaction
            .elements()
            .find(|child| child.local == "ReferenceMetadata")
            .map(|reference| self.reference_result(plan, reference));
        let reference = match reference {
            Some(Ok(reference)) => Some(reference),
            Some(Err(problem)) => {
                problems.push(problem);
                None
            }
            None => None,
        };
        let expected_mime = plan
            .transaction
            .elements()
            .find(|child| child.local == "ExpectedMimeType")
            .map(|mime| mime.text().trim().to_owned());
        for document in response
            .elements()
            .filter(|child| child.local == "DocumentResponse")
        {
            let field = |name: &str| {
                document
                    .elements()
                    .find(|child| child.local == name)
                    .map(|child| child.text().trim().to_owned())
                    .unwrap_or_default()
            };
            let unique_id = field("DocumentUniqueId");
            let repository = field("RepositoryUniqueId");
            let mime_type = field("mimeType");
            let content = document
                .elements()
                .find(|child| child.local == "Document")
                .map(
                    |content| match content.elements().find(|child| child.local == "Include") {
                        Some(include) => {
                            let href = include.attribute("href").unwrap_or_default();
                            let id = xds::wire::mime::cid_from_href(href).unwrap_or_default();
                            answer
                                .parts
                                .get(&id)
                                .cloned()
                                .ok_or_else(|| format!("{unique_id}: no MIME part {href}"))
                        }
                        None => base64::engine::general_purpose::STANDARD
                            .decode(content.text().split_whitespace().collect::<String>())
                            .map_err(|error| format!("{unique_id}: inline content: {error}")),
                    },
                );
            let bytes = match content {
                Some(Ok(bytes)) => bytes,
                Some(Err(problem)) => {
                    problems.push(problem);
                    continue;
                }
                None => {
                    problems.push(format!("{unique_id}: DocumentResponse without Document"));
                    continue;
                }
            };
            let size = bytes.len() as u64;
            let hash = hex_sha1(&bytes);
            if let Some((sent_size, sent_hash)) = self.sent.get(&unique_id)
                && (*sent_size != size || *sent_hash != hash)
            {
                problems.push(format!(
                    "{unique_id}: retrieved {size} bytes with SHA-1 {hash}; sent {sent_size} bytes with SHA-1 {sent_hash}"
                ));
            }
            if let Some(expected) = &expected_mime
                && *expected != mime_type
            {
                problems.push(format!(
                    "{unique_id}: mimeType {mime_type}, expected {expected}"
                ));
            }
            let Some(reference) = &reference else {
                continue;
            };
            let Some(entry) = descendants(reference).find(|element| {
                element.local == "ExtrinsicObject"
                    && element.elements().any(|child| {
                        child.local == "ExternalIdentifier"
                            && child.attribute("identificationScheme") == Some(vocab::DE_UNIQUE_ID)
                            && child.attribute("value") == Some(unique_id.as_str())
                    })
            }) else {
                problems.push(format!("{unique_id}: not in the reference query result"));
                continue;
            };
            let slot = |name: &str| {
                entry
                    .elements()
                    .find(|child| child.local == "Slot" && child.attribute("name") == Some(name))
                    .and_then(|slot| descendants(slot).find(|value| value.local == "Value"))
                    .map(|value| value.text().trim().to_owned())
                    .unwrap_or_default()
            };
            if slot("repositoryUniqueId") != repository {
                problems.push(format!(
                    "{unique_id}: RepositoryUniqueId {repository}, registered {}",
                    slot("repositoryUniqueId")
                ));
            }
            let registered_mime = entry.attribute("mimeType").unwrap_or_default();
            if expected_mime.is_none() && registered_mime != mime_type {
                problems.push(format!(
                    "{unique_id}: mimeType {mime_type}, registered {registered_mime}"
                ));
            }
            if slot("size") != size.to_string() {
                problems.push(format!(
                    "{unique_id}: {size} bytes retrieved, registered size {}",
                    slot("size")
                ));
            }
            if !slot("hash").eq_ignore_ascii_case(&hash) {
                problems.push(format!(
                    "{unique_id}: SHA-1 {hash} retrieved, registered hash {}",
                    slot("hash")
                ));
            }
        }
        problems
    }

    /// The query answer a `ReferenceMetadata` element names.
    fn reference_result(
        &self,
        plan: &StepPlan<'_>,
        reference: &Element,
    ) -> Result<Element, String> {
        let step = reference.attribute("step").unwrap_or_default();
        let section = reference
            .attribute("testdir")
            .map(|dir| dir.trim_start_matches("../").trim_matches('/').to_owned())
            .unwrap_or_else(|| plan.section.to_owned());
        self.logs
            .get(&(plan.test.to_owned(), section.clone()))
            .into_iter()
            .flat_map(Element::elements)
            .filter(|child| child.local == "TestStep" && child.attribute("id") == Some(step))
            .flat_map(Element::elements)
            .flat_map(Element::elements)
            .filter(|child| child.local == "Result")
            .flat_map(Element::elements)
            .next()
            .cloned()
            .ok_or_else(|| {
                format!(
                    "ReferenceMetadata: no answer of {}/{section}/{step}",
                    plan.test
                )
            })
    }

    /// `HttpTransaction`: the `<Headers>` and `<BodyFile>` sent byte for byte to the
    /// repository (the testkit's hand-made MTOM bodies).
    fn replay_http(&self, plan: &StepPlan<'_>) -> Result<SoapAnswer, String> {
        let child = |name: &str| {
            plan.transaction
                .elements()
                .find(|child| child.local == name)
        };
        let headers = child("Headers").map(Element::text).unwrap_or_default();
        let content_type = headers
            .lines()
            .filter_map(|line| line.trim().split_once(':'))
            .find(|(name, _)| name.trim().eq_ignore_ascii_case("content-type"))
            .map(|(_, value)| value.trim().to_owned())
            .ok_or("HttpTransaction without a Content-Type header")?;
        let file = child("BodyFile")
            .map(|file| file.text().trim().to_owned())
            .ok_or("HttpTransaction without BodyFile")?;
        let path = self.tests.join(plan.test).join(plan.section).join(&file);
        let body = std::fs::read(&path).map_err(|error| format!("{}: {error}", path.display()))?;
        let address = self
            .site
            .repository
            .ok_or("HttpTransaction needs a repository")?;
        exchange(address, &self.site.repository_path, &content_type, &body)
    }

    /// A `UseReport` binding: (useAs, value).
    fn resolve_report(
        &self,
        plan: &StepPlan<'_>,
        use_report: &Element,
    ) -> Result<(String, String), String> {
        let name = use_report.attribute("reportName").unwrap_or_default();
        let use_as = use_report.attribute("useAs").unwrap_or(name).to_owned();
        let test = use_report.attribute("test").unwrap_or(plan.test);
        let section = match use_report.attribute("section") {
            None | Some("THIS") => plan.section,
            Some(section) => section,
        };
        let step = use_report.attribute("step").unwrap_or_default();
        let log = self
            .logs
            .get(&(test.to_owned(), section.to_owned()))
            .ok_or_else(|| {
                format!("UseReport {name}: no log of {test}/{section} (run it first)")
            })?;
        let value = log
            .elements()
            .filter(|child| child.local == "TestStep" && child.attribute("id") == Some(step))
            .flat_map(Element::elements)
            .flat_map(Element::elements)
            .filter(|child| child.local == "Reports")
            .flat_map(Element::elements)
            .find(|report| report.attribute("name") == Some(name))
            .map(Element::text)
            .ok_or_else(|| {
                format!("UseReport {name}: {test}/{section}/{step} has no such report")
            })?;
        Ok((use_as, value))
    }

    /// A `UseId` binding: (symbol, value).
    fn resolve_id(
        &self,
        plan: &StepPlan<'_>,
        use_id: &Element,
        current: &Element,
    ) -> Result<(String, String), String> {
        let symbol = use_id.attribute("symbol").unwrap_or_default().to_owned();
        let id = use_id.attribute("id").unwrap_or_default();
        let step = use_id.attribute("step").unwrap_or_default();
        let section_name = use_id.attribute("section").unwrap_or_default();
        let (test, section) = match use_id.attribute("testdir") {
            None => (plan.test.to_owned(), plan.section.to_owned()),
            Some(dir) => {
                let parts: Vec<&str> = dir.split('/').filter(|part| !part.is_empty()).collect();
                match parts.as_slice() {
                    ["..", section] => (plan.test.to_owned(), (*section).to_owned()),
                    ["..", "..", test, section] => ((*test).to_owned(), (*section).to_owned()),
                    [section] => (plan.test.to_owned(), (*section).to_owned()),
                    _ => return Err(format!("UseId {symbol}: testdir {dir:?} not understood")),
                }
            }
        };
        let log = self.logs.get(&(test.clone(), section.clone()));
        let steps = log
            .into_iter()
            .flat_map(Element::elements)
            .chain(std::iter::once(current));
        steps
            .filter(|child| child.local == "TestStep" && child.attribute("id") == Some(step))
            .flat_map(Element::elements)
            .flat_map(Element::elements)
            .filter(|child| child.local == section_name)
            .flat_map(Element::elements)
            .find(|assign| assign.attribute("symbol") == Some(id))
            .and_then(|assign| assign.attribute("id"))
            .map(|value| (symbol.clone(), value.to_owned()))
            .ok_or_else(|| {
                format!("UseId {symbol}: {test}/{section}/{step} {section_name} has no {id}")
            })
    }

    /// The ids named by `UseId` elements inside ExpectedContents (12000.1a).
    fn resolved_ids_in(
        &self,
        expected: &Element,
        plan: &StepPlan<'_>,
        current: &Element,
    ) -> Vec<String> {
        let mut out = Vec::new();
        let mut stack = vec![expected];
        while let Some(element) = stack.pop() {
            for child in element.elements() {
                if child.local == "UseId" {
                    if let Ok((_, value)) = self.resolve_id(plan, child, current) {
                        out.push(value);
                    }
                } else {
                    stack.push(child);
                }
            }
        }
        out
    }

    fn check_assertions(
        &self,
        plan: &StepPlan<'_>,
        assertions: &Element,
        reports: &[(String, String)],
        ids: &[(String, String)],
        current: &Element,
    ) -> Vec<String> {
        let name = assertions
            .elements()
            .find(|child| child.local == "DataRef")
            .and_then(|data| data.attribute("as"))
            .unwrap_or("output");
        let mut document = element(name, &[]);
        if let Some(log) = self
            .logs
            .get(&(plan.test.to_owned(), plan.section.to_owned()))
        {
            document.children.extend(log.children.iter().cloned());
        }
        document.children.push(Node::Element(current.clone()));
        let today = today();
        let mut problems = Vec::new();
        for assert in assertions
            .elements()
            .filter(|child| child.local == "Assert")
        {
            let id = assert.attribute("id").unwrap_or_default();
            let mut text = substitute(&assert.text(), reports, false);
            text = substitute(&text, ids, false);
            text = text.replace("$DATE$", &today);
            match XPath::parse(text.trim()).and_then(|xpath| xpath.is_true(&document)) {
                Ok(true) => {}
                Ok(false) => problems.push(format!("assertion {id} is false: {}", text.trim())),
                Err(error) => problems.push(format!("assertion {id}: {error}")),
            }
        }
        problems
    }
}

// ---------------------------------------------------------------------------------------------
// Expectations

/// FORMAT.md §7: status, ExpectedErrorCode, ExpectedErrorMessage, no error on Success.
fn check_status(step: &Element, response: &Element) -> Vec<String> {
    let mut problems = Vec::new();
    if response.local == "Fault" {
        let reason = descendants(response)
            .find(|element| element.local == "Text")
            .map(Element::text)
            .unwrap_or_default();
        return vec![format!("SOAP fault: {reason}")];
    }
    // A retrieve answer carries its status in the RegistryResponse it holds.
    let holder = if response.local == "RetrieveDocumentSetResponse" {
        response
            .elements()
            .find(|child| child.local == "RegistryResponse")
            .unwrap_or(response)
    } else {
        response
    };
    let status = holder
        .attribute("status")
        .and_then(|status| status.rsplit(':').next())
        .unwrap_or_default()
        .to_owned();
    let errors: Vec<(String, String, String)> = descendants(response)
        .filter(|element| element.local == "RegistryError")
        .map(|error| {
            (
                error.attribute("errorCode").unwrap_or_default().to_owned(),
                error
                    .attribute("codeContext")
                    .unwrap_or_default()
                    .to_owned(),
                error.attribute("severity").unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let describe = || {
        errors
            .iter()
            .map(|(code, context, _)| format!("{code} ({context})"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let text_of = |name: &str| {
        step.elements()
            .find(|child| child.local == name)
            .map(|child| child.text().trim().to_owned())
    };
    if let Some(expected) = text_of("ExpectedStatus") {
        let allowed: Vec<&str> = expected.split(',').map(str::trim).collect();
        if !allowed.contains(&status.as_str()) {
            problems.push(format!(
                "status {status}, expected {expected}; errors: [{}]",
                describe()
            ));
        }
        if allowed == ["Success"]
            && errors
                .iter()
                .any(|(_, _, severity)| severity.ends_with("Error"))
        {
            problems.push(format!("Success carries errors: {}", describe()));
        }
    }
    if let Some(code) = text_of("ExpectedErrorCode")
        && !errors.iter().any(|(found, _, _)| *found == code)
    {
        problems.push(format!("error code {code} expected; got [{}]", describe()));
    }
    if let Some(message) = text_of("ExpectedErrorMessage")
        && !errors.iter().any(|(code, context, severity)| {
            severity.ends_with("Error") && (code.contains(&message) || context.contains(&message))
        })
    {
        problems.push(format!("error {message} expected; got [{}]", describe()));
    }
    problems
}

/// What an AdhocQueryResponse returned, by kind.
struct Returned<'a> {
    documents: Vec<&'a Element>,
    submission_sets: Vec<&'a Element>,
    folders: Vec<&'a Element>,
    associations: Vec<&'a Element>,
    object_refs: usize,
}

fn returned(response: &Element) -> Returned<'_> {
    let objects: Vec<&Element> = response
        .elements()
        .filter(|child| child.local == "RegistryObjectList")
        .flat_map(Element::elements)
        .collect();
    let classified_as = |package: &Element, node: &str| {
        let id = package.attribute("id");
        package
            .elements()
            .chain(objects.iter().copied())
            .any(|classification| {
                classification.local == "Classification"
                    && classification.attribute("classificationNode") == Some(node)
                    && (classification.attribute("classifiedObject") == id
                        || package
                            .elements()
                            .any(|own| std::ptr::eq(own, classification)))
            })
    };
    let packages = objects
        .iter()
        .filter(|object| object.local == "RegistryPackage");
    Returned {
        documents: objects
            .iter()
            .copied()
            .filter(|object| object.local == "ExtrinsicObject")
            .collect(),
        submission_sets: packages
            .clone()
            .copied()
            .filter(|package| classified_as(package, vocab::SUBMISSION_SET_NODE))
            .collect(),
        folders: packages
            .copied()
            .filter(|package| classified_as(package, vocab::FOLDER_NODE))
            .collect(),
        associations: objects
            .iter()
            .copied()
            .filter(|object| object.local == "Association")
            .collect(),
        object_refs: objects
            .iter()
            .filter(|object| object.local == "ObjectRef")
            .count(),
    }
}

fn status_is(object: &Element, status: &str) -> bool {
    object
        .attribute("status")
        .is_some_and(|value| value.ends_with(&format!(":{status}")))
}

fn has_member(associations: &[&Element], source: Option<&str>, target: Option<&str>) -> bool {
    associations.iter().any(|association| {
        association
            .attribute("associationType")
            .is_some_and(|kind| kind.ends_with("HasMember"))
            && association.attribute("sourceObject") == source
            && association.attribute("targetObject") == target
    })
}

/// FORMAT.md §8.1.
fn check_contents(expected: &Element, response: &Element, named_ids: &[String]) -> Vec<String> {
    let found = returned(response);
    let mut problems = Vec::new();
    let shape = |found: &Returned<'_>| {
        format!(
            "{} documents, {} submission sets, {} folders, {} associations, {} object refs",
            found.documents.len(),
            found.submission_sets.len(),
            found.folders.len(),
            found.associations.len(),
            found.object_refs
        )
    };
    for check in expected.elements() {
        let count = check
            .attribute("count")
            .and_then(|count| count.trim().parse::<usize>().ok());
        let ss = found
            .submission_sets
            .first()
            .and_then(|ss| ss.attribute("id"));
        let folder = found
            .folders
            .first()
            .and_then(|folder| folder.attribute("id"));
        let all = |objects: &[&Element], status: &str| {
            objects.iter().all(|object| status_is(object, status))
        };
        let one = |status: &str| {
            found
                .documents
                .iter()
                .filter(|document| status_is(document, status))
                .count()
                == 1
        };
        let ss_with = |documents: usize, folders: usize, associations: usize| {
            found.submission_sets.len() == 1
                && found.documents.len() == documents
                && found.folders.len() == folders
                && found.associations.len() == associations
                && found
                    .documents
                    .iter()
                    .all(|document| has_member(&found.associations, ss, document.attribute("id")))
                && found
                    .folders
                    .iter()
                    .all(|folder| has_member(&found.associations, ss, folder.attribute("id")))
                && found
                    .submission_sets
                    .iter()
                    .all(|ss| status_is(ss, "Approved"))
        };
        let name = check.local.as_str();
        let ok = match (name, count) {
            ("Documents", Some(count)) => found.documents.len() == count,
            ("Folders", Some(count)) => found.folders.len() == count,
            ("SubmissionSets", Some(count)) => found.submission_sets.len() == count,
            ("Associations", Some(count)) => found.associations.len() == count,
            ("ObjectRefs", Some(count)) => {
                found.object_refs == count
                    && found.documents.is_empty()
                    && found.submission_sets.is_empty()
                    && found.folders.is_empty()
                    && found.associations.is_empty()
            }
            ("None", _) => {
                found.documents.is_empty()
                    && found.submission_sets.is_empty()
                    && found.folders.is_empty()
                    && found.associations.is_empty()
            }
            ("SSwithOneDoc", _) => ss_with(1, 0, 1),
            ("SSwithTwoDoc", _) => ss_with(2, 0, 2),
            ("SSwithOneFol", _) => ss_with(0, 1, 1),
            ("SSwithOneDocOneFol", _) => {
                found.submission_sets.len() == 1
                    && found.documents.len() == 1
                    && found.folders.len() == 1
                    && found.associations.len() == 4
                    && has_member(&found.associations, ss, found.documents[0].attribute("id"))
                    && has_member(&found.associations, ss, folder)
                    && has_member(
                        &found.associations,
                        folder,
                        found.documents[0].attribute("id"),
                    )
            }
            ("SSwithTwoDocOneFol", _) => {
                found.submission_sets.len() == 1
                    && found.documents.len() == 2
                    && found.folders.len() == 1
                    && found.associations.len() == 7
            }
            ("SSwithTwoDocOneFolOneDocInFol", _) => {
                found.submission_sets.len() == 1
                    && found.documents.len() == 2
                    && found.folders.len() == 1
                    && found.associations.len() == 5
            }
            ("SSApproved", _) => {
                !found.submission_sets.is_empty() && all(&found.submission_sets, "Approved")
            }
            // "Every DocumentEntry / Folder has this status", true of none, as the toolkit
            // evaluates it (30006 and 30007 expect `Documents count="0"` with `DocApp`); the
            // counts, when a test wants some, are separate elements.
            ("DocApp", _) => all(&found.documents, "Approved"),
            ("DocDep", _) => all(&found.documents, "Deprecated"),
            ("FolApp", _) => all(&found.folders, "Approved"),
            ("OneDocApp", _) => one("Approved"),
            ("OneDocDep", _) => one("Deprecated"),
            ("HasXFRM_RPLC", _) => {
                found
                    .associations
                    .iter()
                    .filter(|association| {
                        association
                            .attribute("associationType")
                            .is_some_and(|kind| kind.ends_with("XFRM_RPLC"))
                    })
                    .count()
                    == 1
            }
            ("DocumentEntries", _) => {
                let types: Vec<String> = descendants(check)
                    .filter(|element| element.local == "DocumentEntryType")
                    .map(|element| element.text().trim().to_owned())
                    .collect();
                let mut returned_ids: Vec<&str> = found
                    .documents
                    .iter()
                    .filter_map(|document| document.attribute("id"))
                    .collect();
                let mut wanted: Vec<&str> = named_ids.iter().map(String::as_str).collect();
                returned_ids.sort_unstable();
                wanted.sort_unstable();
                returned_ids == wanted
                    && found.documents.iter().all(|document| {
                        types.is_empty()
                            || document
                                .attribute("objectType")
                                .is_some_and(|kind| types.iter().any(|wanted| wanted == kind))
                    })
            }
            (other, _) => {
                problems.push(format!("ExpectedContents/{other} is not understood"));
                continue;
            }
        };
        let description = match count {
            Some(count) => format!("{name} count={count}"),
            None => name.to_owned(),
        };
        if !ok {
            problems.push(format!("expected {description}; got {}", shape(&found)));
        }
    }
    problems
}

// ---------------------------------------------------------------------------------------------
// Tree and text helpers

fn element(name: &str, attributes: &[(&str, &str)]) -> Element {
    Element {
        namespace: None,
        local: name.to_owned(),
        attributes: attributes
            .iter()
            .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
            .collect(),
        children: Vec::new(),
    }
}

fn text_element(name: &str, attributes: &[(&str, &str)], text: &str) -> Element {
    let mut out = element(name, attributes);
    out.children.push(Node::Text(text.to_owned()));
    out
}

pub(crate) fn descendants(root: &Element) -> impl Iterator<Item = &Element> {
    let mut stack = vec![root];
    std::iter::from_fn(move || {
        let next = stack.pop()?;
        stack.extend(next.elements().collect::<Vec<_>>().into_iter().rev());
        Some(next)
    })
}

fn child_mut<'a>(root: &'a mut Element, local: &str) -> Option<&'a mut Element> {
    root.children.iter_mut().find_map(|node| match node {
        Node::Element(element) if element.local == local => Some(element),
        _ => None,
    })
}

/// Calls `visit(identifier, owner id)` for every ExternalIdentifier, nested or top-level.
fn for_each_identifier(root: &mut Element, visit: &mut dyn FnMut(&mut Element, &str)) {
    let Some(list) = child_mut(root, "RegistryObjectList") else {
        return;
    };
    for node in &mut list.children {
        let Node::Element(object) = node else {
            continue;
        };
        if object.local == "ExternalIdentifier" {
            let owner = object
                .attribute("registryObject")
                .unwrap_or_default()
                .to_owned();
            visit(object, &owner);
            continue;
        }
        let owner = object.attribute("id").unwrap_or_default().to_owned();
        for child in &mut object.children {
            if let Node::Element(identifier) = child
                && identifier.local == "ExternalIdentifier"
            {
                visit(identifier, &owner);
            }
        }
    }
}

/// Every symbolic `id` (not a `urn:uuid:`) in the object list, in document order.
fn collect_symbolic_ids(root: &Element, out: &mut Vec<String>) {
    for element in descendants(root) {
        if let Some(id) = element.attribute("id")
            && !id.starts_with("urn:uuid:")
            && !matches!(
                element.local.as_str(),
                "SubmitObjectsRequest" | "RegistryObjectList"
            )
        {
            out.push(id.to_owned());
        }
    }
}

/// Rewrites ids and the four reference attributes (not `lid`) through `map`.
fn rename_ids(element: &mut Element, map: &HashMap<String, String>) {
    for (key, value) in &mut element.attributes {
        if matches!(
            key.as_str(),
            "id" | "classifiedObject" | "sourceObject" | "targetObject" | "registryObject"
        ) && let Some(uuid) = map.get(value.as_str())
        {
            value.clone_from(uuid);
        }
    }
    for child in &mut element.children {
        if let Node::Element(child) = child {
            rename_ids(child, map);
        }
    }
}

/// Text replacement of bound symbols in attribute values and text.
fn replace_everywhere(element: &mut Element, bindings: &[(String, String)]) {
    if bindings.is_empty() {
        return;
    }
    for (_, value) in &mut element.attributes {
        if value.contains('$') {
            *value = substitute(value, bindings, false);
        }
    }
    for child in &mut element.children {
        match child {
            Node::Element(child) => replace_everywhere(child, bindings),
            Node::Text(text) => {
                if text.contains('$') {
                    *text = substitute(text, bindings, false);
                }
            }
        }
    }
}

/// Replaces each symbol by its value, XML-escaped when `xml`. Longer symbols first, so
/// `$patientid2$` is not eaten by `$patientid$`... which cannot happen with `$` delimiters, but
/// bare words (`orig_uuid`, `orig_uuid2`) can overlap.
fn substitute(text: &str, bindings: &[(String, String)], xml: bool) -> String {
    let mut ordered: Vec<&(String, String)> = bindings
        .iter()
        .filter(|(symbol, _)| !symbol.is_empty())
        .collect();
    ordered.sort_by_key(|binding| std::cmp::Reverse(binding.0.len()));
    let mut out = text.to_owned();
    for (symbol, value) in ordered {
        if out.contains(symbol.as_str()) {
            let value = if xml {
                xmltree::escape(value, true)
            } else {
                value.clone()
            };
            out = out.replace(symbol.as_str(), &value);
        }
    }
    out
}

/// `$now$` and `$lastyear$` as HL7 DTM (UTC) at second precision.
///
/// `$now$` is the upper bound of half-open time ranges (`From <= t < To`), so it is rounded *up*
/// to the next whole second: an entry the registry stamped earlier in the current second
/// (registries stamp at second precision) is before "now", as the test plan means it.
fn fill_times(text: &str) -> String {
    if !text.contains("$now$") && !text.contains("$lastyear$") {
        return text.to_owned();
    }
    let elapsed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let seconds = elapsed.as_secs() as i64 + i64::from(elapsed.subsec_nanos() > 0);
    fill_times_at(text, seconds)
}

fn fill_times_at(text: &str, seconds: i64) -> String {
    let (year, month, day, hour, minute, second) = civil(seconds);
    let now = format!("{year:04}{month:02}{day:02}{hour:02}{minute:02}{second:02}");
    // A year before 29 February is 28 February: the previous year is not a leap year.
    let last_day = if (month, day) == (2, 29) { 28 } else { day };
    let last = format!(
        "{:04}{month:02}{last_day:02}{hour:02}{minute:02}{second:02}",
        year - 1
    );
    text.replace("$now$", &now).replace("$lastyear$", &last)
}

/// The current time as HL7 DTM to the second (UTC).
pub(crate) fn dtm_now() -> String {
    fill_times("$now$")
}

fn today() -> String {
    let (year, month, day, ..) = civil_now();
    format!("{year:04}{month:02}{day:02}")
}

/// UTC calendar time now.
fn civil_now() -> (i64, u32, u32, u32, u32, u32) {
    let seconds = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs())
        .unwrap_or(0) as i64;
    civil(seconds)
}

/// UTC calendar time of a Unix time (days-from-civil inverse, proleptic Gregorian).
fn civil(seconds: i64) -> (i64, u32, u32, u32, u32, u32) {
    let days = seconds.div_euclid(86_400);
    let of_day = seconds.rem_euclid(86_400) as u32;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (
        year,
        month,
        day,
        of_day / 3600,
        of_day / 60 % 60,
        of_day % 60,
    )
}

fn write_body(body: &Element) -> String {
    const KNOWN: [(&str, &str); 7] = [
        ("lcm", NS_LCM),
        ("rim", NS_RIM),
        ("rs", NS_RS),
        ("query", NS_QUERY),
        ("xds", NS_XDS),
        ("rmd", NS_RMD),
        ("xop", NS_XOP),
    ];
    let mut others: Vec<String> = Vec::new();
    for namespace in descendants(body).filter_map(|element| element.namespace.as_deref()) {
        if !KNOWN.iter().any(|(_, known)| *known == namespace)
            && !others.iter().any(|other| other == namespace)
        {
            others.push(namespace.to_owned());
        }
    }
    let other_prefixes: Vec<String> = (1..=others.len()).map(|n| format!("ns{n}")).collect();
    let prefix_of = |namespace: Option<&str>| {
        let namespace = namespace?;
        KNOWN
            .iter()
            .find(|(_, known)| *known == namespace)
            .map(|(prefix, _)| (*prefix).to_owned())
            .or_else(|| {
                others
                    .iter()
                    .position(|other| other == namespace)
                    .map(|index| other_prefixes[index].clone())
            })
    };
    let mut declarations: Vec<(&str, &str)> = KNOWN.to_vec();
    for (prefix, namespace) in other_prefixes.iter().zip(&others) {
        declarations.push((prefix, namespace));
    }
    let text = xmltree::write(body, &prefix_of, &declarations);
    match text.strip_prefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>") {
        Some(rest) => rest.trim().to_owned(),
        None => text,
    }
}

/// A MIME part to send: (Content-ID, Content-Type, bytes).
type Attachment = (String, String, Vec<u8>);

/// MIME parts received, by Content-ID.
type Parts = HashMap<String, Vec<u8>>;

/// One SOAP exchange to make.
struct SoapRequest<'a> {
    address: SocketAddr,
    path: &'a str,
    action: &'a str,
    /// The body element, serialized.
    body: &'a str,
    /// MIME parts for `xop:Include`s: (Content-ID, Content-Type, bytes).
    attachments: &'a [Attachment],
    /// Send as an MTOM/XOP package (with the attachments as parts).
    mtom: bool,
}

/// An answer: the body's first element (or the Fault) and the MIME parts by Content-ID.
pub(crate) struct SoapAnswer {
    /// HTTP status.
    pub(crate) status: u16,
    pub(crate) body: Element,
    pub(crate) parts: HashMap<String, Vec<u8>>,
}

/// POSTs a SOAP 1.2 request and reads the answer, Simple SOAP or MTOM.
fn post_soap(request: &SoapRequest<'_>) -> Result<SoapAnswer, String> {
    let SoapRequest {
        address,
        path,
        action,
        body,
        attachments,
        mtom,
    } = *request;
    let envelope = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><soap:Envelope xmlns:soap=\"{NS_SOAP}\" \
         xmlns:wsa=\"http://www.w3.org/2005/08/addressing\"><soap:Header>\
         <wsa:Action soap:mustUnderstand=\"1\">{action}</wsa:Action>\
         <wsa:MessageID>urn:uuid:{:032x}</wsa:MessageID>\
         <wsa:To>http://{address}{path}</wsa:To></soap:Header><soap:Body>{body}</soap:Body></soap:Envelope>",
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|elapsed| elapsed.as_nanos())
            .unwrap_or(0),
    );
    let (content_type, payload) = if mtom {
        let writer = MultipartWriter::new(format!(
            "MIMEBoundary_xds_conformance_{:x}",
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|elapsed| elapsed.as_nanos())
                .unwrap_or(0)
        ));
        let root = "root.message@xds-conformance";
        let mut payload = Vec::new();
        writer
            .write_package(
                &mut payload,
                root,
                envelope.as_bytes(),
                attachments
                    .iter()
                    .map(|(content_id, content_type, bytes)| OutgoingPart {
                        content_id: content_id.clone(),
                        content_type: content_type.clone(),
                        body: bytes.as_slice(),
                    }),
            )
            .map_err(|error| format!("build the MTOM package: {error}"))?;
        (writer.content_type(root, Some(action)), payload)
    } else {
        (
            format!("application/soap+xml; charset=UTF-8; action=\"{action}\""),
            envelope.into_bytes(),
        )
    };
    exchange(address, path, &content_type, &payload)
}

/// POSTs a payload and reads the SOAP answer, Simple SOAP or MTOM (chunked bodies too).
pub(crate) fn exchange(
    address: SocketAddr,
    path: &str,
    content_type: &str,
    payload: &[u8],
) -> Result<SoapAnswer, String> {
    let mut stream = TcpStream::connect_timeout(&address, Duration::from_secs(5))
        .map_err(|error| format!("connect {address}: {error}"))?;
    stream
        .set_read_timeout(Some(Duration::from_secs(120)))
        .map_err(|error| error.to_string())?;
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {address}\r\nContent-Type: {content_type}\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        payload.len()
    );
    stream
        .write_all(head.as_bytes())
        .and_then(|()| stream.write_all(payload))
        .map_err(|error| format!("send: {error}"))?;
    let mut answer = Vec::new();
    stream
        .read_to_end(&mut answer)
        .map_err(|error| format!("receive: {error}"))?;
    let split = answer
        .windows(4)
        .position(|window| window == b"\r\n\r\n")
        .ok_or("the HTTP answer has no header end")?;
    let head = String::from_utf8_lossy(&answer[..split]).into_owned();
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse::<u16>().ok())
        .ok_or("the HTTP answer has no status")?;
    let header = |name: &str| {
        head.split("\r\n").skip(1).find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.trim()
                .eq_ignore_ascii_case(name)
                .then(|| value.trim().to_owned())
        })
    };
    let mut body = answer[split + 4..].to_vec();
    if header("transfer-encoding").is_some_and(|value| value.eq_ignore_ascii_case("chunked")) {
        body = dechunk(&body)?;
    }
    let answer_type = header("content-type").unwrap_or_default();
    let (root, parts) = split_package(&answer_type, body)?;
    let text = String::from_utf8_lossy(&root);
    let start = text.find('<').ok_or("the HTTP answer has no XML")?;
    let end = text.rfind('>').ok_or("the HTTP answer has no XML")?;
    let envelope =
        xmltree::parse(&text[start..=end]).map_err(|error| format!("answer: {error}"))?;
    let body = envelope
        .elements()
        .find(|child| child.local == "Body")
        .and_then(|soap_body| soap_body.elements().next())
        .cloned()
        .ok_or_else(|| "the answer has no SOAP Body content".to_owned())?;
    Ok(SoapAnswer {
        status,
        body,
        parts,
    })
}

/// Lower-case hex SHA-1.
pub(crate) fn hex_sha1(bytes: &[u8]) -> String {
    Sha1::digest(bytes)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// Decodes a chunked HTTP body.
fn dechunk(mut raw: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    loop {
        let line_end = raw
            .windows(2)
            .position(|window| window == b"\r\n")
            .ok_or("a chunk size line is cut")?;
        let size_text = String::from_utf8_lossy(&raw[..line_end]);
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .map_err(|_| format!("bad chunk size {size_text:?}"))?;
        raw = &raw[line_end + 2..];
        if size == 0 {
            return Ok(out);
        }
        if raw.len() < size + 2 {
            return Err("a chunk is cut".to_owned());
        }
        out.extend_from_slice(&raw[..size]);
        raw = &raw[size + 2..];
    }
}

/// The root part and the other parts (by Content-ID) of an MTOM answer; a Simple SOAP answer
/// is all root.
fn split_package(content_type: &str, body: Vec<u8>) -> Result<(Vec<u8>, Parts), String> {
    let parsed = ContentType::parse(content_type).ok();
    let Some(parsed) = parsed.filter(ContentType::is_multipart_related) else {
        return Ok((body, HashMap::new()));
    };
    let boundary = parsed
        .param("boundary")
        .ok_or("multipart answer without a boundary")?;
    let start = parsed.param("start").map(|start| {
        start
            .trim()
            .trim_start_matches('<')
            .trim_end_matches('>')
            .to_owned()
    });
    let mut reader = MultipartReader::new(&body[..], boundary, 10_000, 16 * 1024, u64::MAX)
        .map_err(|error| format!("answer: {error}"))?;
    let mut root = None;
    let mut parts = HashMap::new();
    while let Some(headers) = reader
        .next_part()
        .map_err(|error| format!("answer: {error}"))?
    {
        let mut content = Vec::new();
        reader
            .body()
            .read_to_end(&mut content)
            .map_err(|error| format!("answer part: {error}"))?;
        let id = headers.content_id.clone().unwrap_or_default();
        let is_root = match &start {
            Some(start) => *start == id,
            None => root.is_none(),
        };
        if is_root && root.is_none() {
            root = Some(content);
        } else {
            parts.insert(id, content);
        }
    }
    Ok((root.ok_or("the MTOM answer has no root part")?, parts))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> Element {
        xmltree::parse(text).expect("test XML")
    }

    #[test]
    fn retrieve_checks_catch_bytes_and_types_that_differ_from_what_was_sent_or_registered() {
        let site = Site {
            registry: SocketAddr::from(([127, 0, 0, 1], 9)),
            registry_path: "/r".to_owned(),
            repository: None,
            repository_path: String::new(),
            source_id: "1.1".to_owned(),
            mllp: None,
        };
        let patients = Patients {
            register: "A^^^&1.1&ISO".to_owned(),
            register_alt: "B^^^&1.1&ISO".to_owned(),
            stored_query: "C^^^&1.1&ISO".to_owned(),
        };
        let mut runner = Runner::new(Path::new("/nowhere"), site, patients);
        let hash = hex_sha1(b"hello");
        runner.sent.insert("1.2.3".to_owned(), (5, hash.clone()));
        let reference = parsed(&format!(
            "<TestResults><TestStep id=\"q\"><StoredQueryTransaction><Result>\
             <AdhocQueryResponse xmlns=\"{NS_QUERY}\"><RegistryObjectList xmlns=\"{NS_RIM}\">\
             <ExtrinsicObject id=\"x\" mimeType=\"text/plain\">\
             <Slot name=\"size\"><ValueList><Value>5</Value></ValueList></Slot>\
             <Slot name=\"hash\"><ValueList><Value>{}</Value></ValueList></Slot>\
             <Slot name=\"repositoryUniqueId\"><ValueList><Value>1.1</Value></ValueList></Slot>\
             <ExternalIdentifier identificationScheme=\"{}\" value=\"1.2.3\"/>\
             </ExtrinsicObject></RegistryObjectList></AdhocQueryResponse></Result>\
             </StoredQueryTransaction></TestStep></TestResults>",
            hash.to_uppercase(),
            vocab::DE_UNIQUE_ID
        ));
        runner
            .logs
            .insert(("t".to_owned(), "query".to_owned()), reference);
        let step = parsed(
            "<TestStep id=\"r\"><RetrieveTransaction><ReferenceMetadata testdir=\"../query\" step=\"q\"/></RetrieveTransaction></TestStep>",
        );
        let transaction = step.elements().next().expect("transaction");
        let plan = StepPlan {
            test: "t",
            section: "retrieve",
            step: &step,
            transaction,
        };
        let answer = |bytes: &[u8], mime_type: &str| SoapAnswer {
            status: 200,
            body: parsed(&format!(
                "<RetrieveDocumentSetResponse xmlns=\"{NS_XDS}\"><DocumentResponse>\
                 <RepositoryUniqueId>1.1</RepositoryUniqueId><DocumentUniqueId>1.2.3</DocumentUniqueId>\
                 <mimeType>{mime_type}</mimeType><Document><Include xmlns=\"{NS_XOP}\" href=\"cid:d1\"/></Document>\
                 </DocumentResponse></RetrieveDocumentSetResponse>"
            )),
            parts: HashMap::from([("d1".to_owned(), bytes.to_vec())]),
        };
        assert_eq!(
            runner.check_retrieved(&plan, &answer(b"hello", "text/plain")),
            Vec::<String>::new()
        );
        let problems = runner.check_retrieved(&plan, &answer(b"hellO", "text/plain"));
        assert!(
            problems
                .iter()
                .any(|problem| problem.contains("sent 5 bytes")),
            "{problems:?}"
        );
        assert!(
            problems
                .iter()
                .any(|problem| problem.contains("registered hash")),
            "{problems:?}"
        );
        let problems = runner.check_retrieved(&plan, &answer(b"hello!", "text/xml"));
        assert!(
            problems
                .iter()
                .any(|problem| problem.contains("registered size")),
            "{problems:?}"
        );
        assert!(
            problems
                .iter()
                .any(|problem| problem.contains("mimeType text/xml")),
            "{problems:?}"
        );
    }

    #[test]
    fn civil_time_is_gregorian() {
        let (year, month, day, ..) = civil_now();
        assert!(year >= 2024 && (1..=12).contains(&month) && (1..=31).contains(&day));
        // 2024-02-29T23:59:59Z and the second after it.
        assert_eq!(civil(1_709_251_199), (2024, 2, 29, 23, 59, 59));
        assert_eq!(civil(1_709_251_200), (2024, 3, 1, 0, 0, 0));
        assert_eq!(
            fill_times_at("<a>$now$</a><b>$lastyear$</b>", 1_709_251_199),
            "<a>20240229235959</a><b>20230228235959</b>"
        );
    }

    #[test]
    fn now_is_never_before_the_current_second() {
        let before = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        let filled = fill_times("$now$");
        let (year, month, day, hour, minute, second) = civil(before);
        let stamped = format!("{year:04}{month:02}{day:02}{hour:02}{minute:02}{second:02}");
        // Something stamped in this second lies inside `[.., $now$)`.
        assert!(filled > stamped, "{filled} must be after {stamped}");
    }

    #[test]
    fn substitution_escapes_for_xml_and_prefers_longer_symbols() {
        let bindings = vec![
            ("orig_uuid".to_owned(), "A".to_owned()),
            ("orig_uuid2".to_owned(), "B&C".to_owned()),
        ];
        assert_eq!(
            substitute("orig_uuid2 orig_uuid", &bindings, true),
            "B&amp;C A"
        );
        assert_eq!(substitute("orig_uuid2", &bindings, false), "B&C");
    }

    #[test]
    fn contents_checks_count_by_kind() {
        let response = xmltree::parse(&format!(
            r#"<q:AdhocQueryResponse xmlns:q="{NS_QUERY}" xmlns:r="{NS_RIM}" status="urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success">
                <r:RegistryObjectList>
                  <r:RegistryPackage id="ss" status="urn:oasis:names:tc:ebxml-regrep:StatusType:Approved"/>
                  <r:Classification id="c" classifiedObject="ss" classificationNode="{}"/>
                  <r:ExtrinsicObject id="d" status="urn:oasis:names:tc:ebxml-regrep:StatusType:Approved"/>
                  <r:Association id="a" associationType="urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember" sourceObject="ss" targetObject="d"/>
                </r:RegistryObjectList></q:AdhocQueryResponse>"#,
            vocab::SUBMISSION_SET_NODE
        ))
        .unwrap();
        let expected = xmltree::parse(
            "<ExpectedContents><SSwithOneDoc/><DocApp/><Documents count=\"1\"/></ExpectedContents>",
        )
        .unwrap();
        assert!(check_contents(&expected, &response, &[]).is_empty());
        let wrong = xmltree::parse(
            "<ExpectedContents><Documents count=\"2\"/><DocDep/></ExpectedContents>",
        )
        .unwrap();
        assert_eq!(check_contents(&wrong, &response, &[]).len(), 2);
        // Status checks hold for an empty answer, counts do not.
        let empty = xmltree::parse(&format!(
            r#"<q:AdhocQueryResponse xmlns:q="{NS_QUERY}" xmlns:r="{NS_RIM}" status="urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success"><r:RegistryObjectList/></q:AdhocQueryResponse>"#
        ))
        .unwrap();
        let none = xmltree::parse(
            "<ExpectedContents><Documents count=\"0\"/><DocApp/><DocDep/><FolApp/></ExpectedContents>",
        )
        .unwrap();
        assert!(check_contents(&none, &empty, &[]).is_empty());
        let some = xmltree::parse(
            "<ExpectedContents><Documents count=\"1\"/><SSApproved/></ExpectedContents>",
        )
        .unwrap();
        assert_eq!(check_contents(&some, &empty, &[]).len(), 2);
        let step = xmltree::parse("<TestStep><ExpectedStatus>Failure</ExpectedStatus></TestStep>")
            .unwrap();
        assert_eq!(check_status(&step, &response).len(), 1);
    }
}
