//! Our own suites: declarative scenario files (`conformance/suites/NAME.toml`) for what the NIST
//! testkit lacks: malformed input, large documents, concurrency. Each case sends one request
//! (raw bytes, a file, or a body template wrapped in a SOAP 1.2 envelope, optionally with a
//! generated document as MTOM), `repeat` times concurrently, and checks the answer: HTTP status,
//! fault code and subcode, response status, error codes; then, if asked, that the documents it
//! sent retrieve byte for byte, or that the patient's documents did not change.
//!
//! Template variables in bodies and files: `{{patient}}` (the run's patient), `{{uid:NAME}}` (a
//! fresh OID per case copy, the same for every use of NAME), `{{uuid:NAME}}` (a fresh
//! `urn:uuid:`), `{{now}}` (HL7 DTM, UTC). A generated document is the MIME part
//! `cid:document@xds-conformance`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::Deserialize;
use xds::model::vocabulary as vocab;
use xds::wire::names::NS_SOAP;
use xds::wire::{MultipartWriter, OutgoingPart};

use crate::runner::{SoapAnswer, descendants, exchange, hex_sha1};
use crate::suites::{Outcome, Target, TestResult};
use crate::xmltree::Element;

/// A scenario file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFile {
    pub description: String,
    #[serde(rename = "case")]
    pub cases: Vec<Case>,
}

/// Which daemon a case talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    Registry,
    Repository,
}

/// One case.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    pub name: String,
    pub endpoint: Side,
    /// HTTP Content-Type of `raw`/`file` bodies (templates get the SOAP 1.2 or MTOM type).
    pub content_type: Option<String>,
    /// The body, as is.
    pub raw: Option<String>,
    /// The body, from a file relative to the suites folder (variables filled).
    pub file: Option<String>,
    /// A body-element template relative to the suites folder, wrapped in an envelope.
    pub body: Option<String>,
    /// wsa:Action of the wrapped template.
    pub action: Option<String>,
    /// Attach one generated document of this many KiB as MTOM (the template refers to it).
    pub document_kib: Option<u64>,
    /// Concurrent copies of the case, each with its own ids.
    #[serde(default = "one")]
    pub repeat: usize,
    pub expect: Expect,
}

fn one() -> usize {
    1
}

/// What the answer must show.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    pub http_status: Option<u16>,
    /// Fault code local name (`Sender`, `Receiver`, `VersionMismatch`, `MustUnderstand`).
    pub fault: Option<String>,
    /// A fault subcode value (`wsa:ActionNotSupported`).
    pub fault_subcode: Option<String>,
    /// `Success`, `Failure` or `PartialSuccess`.
    pub status: Option<String>,
    /// Error codes that must all be present.
    #[serde(default)]
    pub errors: Vec<String>,
    /// After a successful ITI-41: the generated document retrieves byte for byte (its
    /// uniqueId is `{{uid:doc}}`).
    #[serde(default)]
    pub retrievable: bool,
    /// The patient's documents at the registry are the same before and after.
    #[serde(default)]
    pub unchanged: bool,
}

/// Loads every `*.toml` of a folder, by name (file stem), sorted.
pub fn load_suites(dir: &Path) -> Result<Vec<(String, ScenarioFile)>, String> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|error| format!("{}: {error}", dir.display()))?
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| {
            path.extension()
                .is_some_and(|extension| extension == "toml")
        })
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path)
                .map_err(|error| format!("{}: {error}", path.display()))?;
            let file: ScenarioFile =
                toml::from_str(&text).map_err(|error| format!("{}: {error}", path.display()))?;
            let name = path
                .file_stem()
                .map(|stem| stem.to_string_lossy().into_owned())
                .unwrap_or_default();
            Ok((name, file))
        })
        .collect()
}

static COUNTER: AtomicU64 = AtomicU64::new(1);

/// A run-unique number.
fn fresh() -> u64 {
    let run = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs())
        .unwrap_or(0);
    run * 1_000_000 + COUNTER.fetch_add(1, Ordering::Relaxed)
}

/// Fills the template variables of one case copy.
fn fill(text: &str, patient: &str, names: &mut HashMap<String, String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let Some(end) = rest[start..].find("}}") else {
            out.push_str(&rest[start..]);
            return out;
        };
        let variable = &rest[start + 2..start + end];
        let value = match variable.split_once(':') {
            None if variable == "patient" => crate::xmltree::escape(patient, true),
            None if variable == "now" => crate::runner::dtm_now(),
            Some(("uid", name)) => names
                .entry(format!("uid:{name}"))
                .or_insert_with(|| format!("1.3.6.1.4.1.21367.2017.7.{}", fresh()))
                .clone(),
            Some(("uuid", name)) => names
                .entry(format!("uuid:{name}"))
                .or_insert_with(|| {
                    let mut bytes = [0u8; 16];
                    let _ = getrandom::fill(&mut bytes);
                    xds::model::Uuid::new_v4(bytes).to_urn()
                })
                .clone(),
            _ => format!("{{{{{variable}}}}}"),
        };
        out.push_str(&value);
        rest = &rest[start + end + 2..];
    }
    out.push_str(rest);
    out
}

/// A generated document: printable, deterministic per seed.
fn generated(seed: u64, size: usize) -> Vec<u8> {
    let mut state = seed | 1;
    (0..size)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            b'a' + (state % 26) as u8
        })
        .collect()
}

const DOCUMENT_CID: &str = "document@xds-conformance";

/// One request ready to send.
struct Prepared {
    content_type: String,
    payload: Vec<u8>,
    names: HashMap<String, String>,
    document: Option<Vec<u8>>,
}

fn prepare(case: &Case, suites: &Path, patient: &str) -> Result<Prepared, String> {
    let mut names = HashMap::new();
    let read = |file: &str| {
        let path = suites.join(file);
        std::fs::read_to_string(&path).map_err(|error| format!("{}: {error}", path.display()))
    };
    if let Some(raw) = &case.raw {
        return Ok(Prepared {
            content_type: case.content_type.clone().unwrap_or_default(),
            payload: raw.clone().into_bytes(),
            names,
            document: None,
        });
    }
    if let Some(file) = &case.file {
        let text = fill(&read(file)?, patient, &mut names);
        return Ok(Prepared {
            content_type: case.content_type.clone().unwrap_or_default(),
            payload: text.into_bytes(),
            names,
            document: None,
        });
    }
    let (Some(body), Some(action)) = (&case.body, &case.action) else {
        return Err(format!(
            "case {}: give `raw`, `file`, or `body` with `action`",
            case.name
        ));
    };
    let body = fill(&read(body)?, patient, &mut names);
    let body = body
        .trim_start()
        .strip_prefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>")
        .unwrap_or(&body);
    let envelope = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><soap:Envelope xmlns:soap=\"{NS_SOAP}\" \
         xmlns:wsa=\"http://www.w3.org/2005/08/addressing\"><soap:Header>\
         <wsa:Action soap:mustUnderstand=\"1\">{action}</wsa:Action>\
         <wsa:MessageID>urn:uuid:00000000-0000-4000-8000-{:012x}</wsa:MessageID>\
         </soap:Header><soap:Body>{body}</soap:Body></soap:Envelope>",
        fresh() % (1 << 48)
    );
    let Some(kib) = case.document_kib else {
        return Ok(Prepared {
            content_type: format!("application/soap+xml; charset=UTF-8; action=\"{action}\""),
            payload: envelope.into_bytes(),
            names,
            document: None,
        });
    };
    let document = generated(fresh(), usize::try_from(kib << 10).unwrap_or(usize::MAX));
    let writer = MultipartWriter::new(format!("MIMEBoundary_scenario_{:x}", fresh()));
    let mut payload = Vec::with_capacity(document.len() + envelope.len() + 1024);
    writer
        .write_package(
            &mut payload,
            "root@xds-conformance",
            envelope.as_bytes(),
            std::iter::once(OutgoingPart {
                content_id: DOCUMENT_CID.to_owned(),
                content_type: "application/octet-stream".to_owned(),
                body: document.as_slice(),
            }),
        )
        .map_err(|error| error.to_string())?;
    Ok(Prepared {
        content_type: writer.content_type("root@xds-conformance", Some(action)),
        payload,
        names,
        document: Some(document),
    })
}

/// The local part of a QName text (`soap:Sender` -> `Sender`).
fn local(text: &str) -> &str {
    text.trim().rsplit(':').next().unwrap_or_default()
}

fn child<'a>(element: &'a Element, name: &str) -> Option<&'a Element> {
    element.elements().find(|candidate| candidate.local == name)
}

/// Checks an answer against the expectations (the retrieve and unchanged checks excepted).
fn check_answer(expect: &Expect, answer: &SoapAnswer) -> Vec<String> {
    let mut problems = Vec::new();
    let body = &answer.body;
    if let Some(status) = expect.http_status
        && status != answer.status
    {
        problems.push(format!("HTTP status {}, expected {status}", answer.status));
    }
    let is_fault = body.local == "Fault";
    if let Some(fault) = &expect.fault {
        let code = child(body, "Code")
            .and_then(|code| child(code, "Value"))
            .map(|value| local(&value.text()).to_owned());
        if code.as_deref() != Some(fault.as_str()) {
            problems.push(format!(
                "fault {fault} expected; got {}",
                code.map_or_else(|| body.local.clone(), |code| format!("fault {code}"))
            ));
        }
    }
    if let Some(subcode) = &expect.fault_subcode {
        let found = descendants(body)
            .filter(|element| element.local == "Subcode")
            .filter_map(|element| child(element, "Value"))
            .any(|value| value.text().trim() == subcode);
        if !found {
            problems.push(format!("fault subcode {subcode} expected"));
        }
    }
    if let Some(expected) = &expect.status {
        let holder = if body.local == "RetrieveDocumentSetResponse" {
            child(body, "RegistryResponse").unwrap_or(body)
        } else {
            body
        };
        let status = holder
            .attribute("status")
            .map(local)
            .unwrap_or(if is_fault { "(a SOAP fault)" } else { "(none)" });
        if status != expected {
            let errors: Vec<String> = descendants(body)
                .filter(|element| element.local == "RegistryError")
                .map(|error| {
                    format!(
                        "{} ({})",
                        error.attribute("errorCode").unwrap_or_default(),
                        error.attribute("codeContext").unwrap_or_default()
                    )
                })
                .collect();
            problems.push(format!(
                "status {status}, expected {expected}; errors: [{}]",
                errors.join(", ")
            ));
        }
    }
    let found: Vec<String> = descendants(body)
        .filter(|element| element.local == "RegistryError")
        .filter_map(|error| error.attribute("errorCode").map(str::to_owned))
        .collect();
    for code in &expect.errors {
        if !found.contains(code) {
            problems.push(format!("error {code} expected; got {found:?}"));
        }
    }
    problems
}

fn post(
    endpoint: &crate::suites::Endpoint,
    content_type: &str,
    payload: &[u8],
) -> Result<SoapAnswer, String> {
    exchange(endpoint.address, &endpoint.path, content_type, payload)
}

/// The uniqueIds of the patient's DocumentEntries at the registry (every status).
fn patient_documents(target: &Target, patient: &str) -> Result<Vec<String>, String> {
    let query = format!(
        "<query:AdhocQueryRequest xmlns:query=\"urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0\" \
         xmlns:rim=\"urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0\">\
         <query:ResponseOption returnComposedObjects=\"true\" returnType=\"LeafClass\"/>\
         <rim:AdhocQuery id=\"urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d\">\
         <rim:Slot name=\"$XDSDocumentEntryPatientId\"><rim:ValueList><rim:Value>'{}'</rim:Value></rim:ValueList></rim:Slot>\
         <rim:Slot name=\"$XDSDocumentEntryStatus\"><rim:ValueList>\
         <rim:Value>('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved','urn:oasis:names:tc:ebxml-regrep:StatusType:Deprecated')</rim:Value>\
         </rim:ValueList></rim:Slot></rim:AdhocQuery></query:AdhocQueryRequest>",
        crate::xmltree::escape(patient, false)
    );
    let envelope = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><soap:Envelope xmlns:soap=\"{NS_SOAP}\" \
         xmlns:wsa=\"http://www.w3.org/2005/08/addressing\"><soap:Header>\
         <wsa:Action soap:mustUnderstand=\"1\">urn:ihe:iti:2007:RegistryStoredQuery</wsa:Action>\
         <wsa:MessageID>urn:uuid:00000000-0000-4000-8000-{:012x}</wsa:MessageID>\
         </soap:Header><soap:Body>{query}</soap:Body></soap:Envelope>",
        fresh() % (1 << 48)
    );
    let answer = post(
        &target.registry,
        "application/soap+xml; charset=UTF-8",
        envelope.as_bytes(),
    )?;
    let mut ids: Vec<String> = descendants(&answer.body)
        .filter(|element| element.local == "ExternalIdentifier")
        .filter(|identifier| {
            identifier.attribute("identificationScheme") == Some(vocab::DE_UNIQUE_ID)
        })
        .filter_map(|identifier| identifier.attribute("value").map(str::to_owned))
        .collect();
    ids.sort();
    Ok(ids)
}

/// The generated document retrieves byte for byte (registry says where, repository gives it).
fn check_retrievable(target: &Target, unique_id: &str, document: &[u8]) -> Vec<String> {
    let Some(repository) = &target.repository else {
        return vec!["retrievable: no --repository given".to_owned()];
    };
    // Which repositoryUniqueId the registry recorded.
    let query = format!(
        "<query:AdhocQueryRequest xmlns:query=\"urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0\" \
         xmlns:rim=\"urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0\">\
         <query:ResponseOption returnComposedObjects=\"true\" returnType=\"LeafClass\"/>\
         <rim:AdhocQuery id=\"urn:uuid:5c4f972b-d56b-40ac-a5fc-c8ca9b40b9d4\">\
         <rim:Slot name=\"$XDSDocumentEntryUniqueId\"><rim:ValueList><rim:Value>('{unique_id}')</rim:Value></rim:ValueList></rim:Slot>\
         </rim:AdhocQuery></query:AdhocQueryRequest>"
    );
    let wrap = |action: &str, body: &str| {
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><soap:Envelope xmlns:soap=\"{NS_SOAP}\" \
             xmlns:wsa=\"http://www.w3.org/2005/08/addressing\"><soap:Header>\
             <wsa:Action soap:mustUnderstand=\"1\">{action}</wsa:Action>\
             <wsa:MessageID>urn:uuid:00000000-0000-4000-8000-{:012x}</wsa:MessageID>\
             </soap:Header><soap:Body>{body}</soap:Body></soap:Envelope>",
            fresh() % (1 << 48)
        )
    };
    let answer = match post(
        &target.registry,
        "application/soap+xml; charset=UTF-8",
        wrap("urn:ihe:iti:2007:RegistryStoredQuery", &query).as_bytes(),
    ) {
        Ok(answer) => answer,
        Err(problem) => return vec![format!("GetDocuments: {problem}")],
    };
    let slot = |name: &str| {
        descendants(&answer.body)
            .filter(|element| element.local == "Slot" && element.attribute("name") == Some(name))
            .flat_map(descendants)
            .find(|value| value.local == "Value")
            .map(|value| value.text().trim().to_owned())
    };
    let Some(repository_id) = slot("repositoryUniqueId") else {
        return vec![format!("{unique_id} is not registered")];
    };
    let request = format!(
        "<xds:RetrieveDocumentSetRequest xmlns:xds=\"urn:ihe:iti:xds-b:2007\"><xds:DocumentRequest>\
         <xds:RepositoryUniqueId>{repository_id}</xds:RepositoryUniqueId>\
         <xds:DocumentUniqueId>{unique_id}</xds:DocumentUniqueId></xds:DocumentRequest>\
         </xds:RetrieveDocumentSetRequest>"
    );
    let answer = match post(
        repository,
        "application/soap+xml; charset=UTF-8",
        wrap("urn:ihe:iti:2007:RetrieveDocumentSet", &request).as_bytes(),
    ) {
        Ok(answer) => answer,
        Err(problem) => return vec![format!("ITI-43: {problem}")],
    };
    let mut problems = Vec::new();
    let expected = hex_sha1(document);
    match answer.parts.values().next() {
        None => problems.push(format!("{unique_id}: the retrieve answer carries no document")),
        Some(bytes) if bytes.len() != document.len() || hex_sha1(bytes) != expected => problems
            .push(format!(
                "{unique_id}: retrieved {} bytes with SHA-1 {}, sent {} bytes with SHA-1 {expected}",
                bytes.len(),
                hex_sha1(bytes),
                document.len()
            )),
        Some(_) => {}
    }
    if slot("hash").is_some_and(|hash| !hash.eq_ignore_ascii_case(&expected)) {
        problems.push(format!(
            "{unique_id}: the registered hash is not the document's SHA-1"
        ));
    }
    problems
}

/// Runs one case copy; the problems found.
fn run_copy(case: &Case, suites: &Path, target: &Target) -> Vec<String> {
    let patient = &target.patients.register;
    let prepared = match prepare(case, suites, patient) {
        Ok(prepared) => prepared,
        Err(problem) => return vec![problem],
    };
    let endpoint = match case.endpoint {
        Side::Registry => &target.registry,
        Side::Repository => match &target.repository {
            Some(repository) => repository,
            None => return vec!["no --repository given".to_owned()],
        },
    };
    let before = if case.expect.unchanged {
        match patient_documents(target, patient) {
            Ok(ids) => Some(ids),
            Err(problem) => return vec![format!("before: {problem}")],
        }
    } else {
        None
    };
    let answer = match post(endpoint, &prepared.content_type, &prepared.payload) {
        Ok(answer) => answer,
        Err(problem) => return vec![problem],
    };
    let mut problems = check_answer(&case.expect, &answer);
    if problems.is_empty() && case.expect.retrievable {
        match (prepared.names.get("uid:doc"), &prepared.document) {
            (Some(unique_id), Some(document)) => {
                problems.extend(check_retrievable(target, unique_id, document));
            }
            _ => problems.push("retrievable needs document_kib and {{uid:doc}}".to_owned()),
        }
    }
    if let Some(before) = before {
        match patient_documents(target, patient) {
            Ok(after) if after != before => problems.push(format!(
                "the patient's documents changed: {} before, {} after",
                before.len(),
                after.len()
            )),
            Ok(_) => {}
            Err(problem) => problems.push(format!("after: {problem}")),
        }
    }
    problems
}

/// Runs the chosen cases of a scenario file; `report` sees each result as it ends.
pub fn run_scenarios(
    suite: &str,
    file: &ScenarioFile,
    suites: &Path,
    selected: &dyn Fn(&str) -> bool,
    target: &Target,
    report: &mut dyn FnMut(&TestResult),
) -> Vec<TestResult> {
    let mut results = Vec::new();
    for case in file.cases.iter().filter(|case| selected(&case.name)) {
        let started = Instant::now();
        let copies = case.repeat.max(1);
        let problems: Vec<String> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..copies)
                .map(|_| scope.spawn(|| run_copy(case, suites, target)))
                .collect();
            handles
                .into_iter()
                .enumerate()
                .flat_map(|(index, handle)| {
                    let problems = handle
                        .join()
                        .unwrap_or_else(|_| vec!["the case panicked".to_owned()]);
                    problems.into_iter().map(move |problem| {
                        if copies > 1 {
                            format!("copy {}: {problem}", index + 1)
                        } else {
                            problem
                        }
                    })
                })
                .collect()
        });
        let result = TestResult {
            suite: suite.to_owned(),
            name: case.name.clone(),
            outcome: if problems.is_empty() {
                Outcome::Passed
            } else {
                Outcome::Failed(problems)
            },
            steps: copies,
            known: Vec::new(),
            duration: started.elapsed().max(Duration::from_micros(1)),
        };
        report(&result);
        results.push(result);
    }
    results
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_are_filled_once_per_name() {
        let mut names = HashMap::new();
        let text = fill(
            "{{patient}} {{uid:doc}} {{uid:doc}} {{uid:set}} {{unknown}}",
            "P^^^&1.2&ISO",
            &mut names,
        );
        let parts: Vec<&str> = text.split(' ').collect();
        assert_eq!(parts[0], "P^^^&amp;1.2&amp;ISO");
        assert_eq!(parts[1], parts[2]);
        assert_ne!(parts[1], parts[3]);
        assert_eq!(parts[4], "{{unknown}}");
    }

    #[test]
    fn the_checked_in_suites_parse() {
        let suites = load_suites(&crate::suites::default_suites_dir()).expect("suites parse");
        assert!(suites.len() >= 3, "{} suites", suites.len());
        for (name, file) in &suites {
            assert!(!file.cases.is_empty(), "{name} has no case");
            for case in &file.cases {
                let sources = [case.raw.is_some(), case.file.is_some(), case.body.is_some()];
                assert_eq!(
                    sources.iter().filter(|given| **given).count(),
                    1,
                    "{name}/{}: exactly one of raw, file, body",
                    case.name
                );
            }
        }
    }
}
