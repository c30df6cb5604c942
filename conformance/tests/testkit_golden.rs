//! Golden tests over every request body of the NIST testkit (read from the shared data, never
//! copied): ebRIM 2.1 files are converted to 3.0, placeholders filled as a runner would, and then
//! each file must decode, and decode -> encode -> decode must give an equal value, at the wire
//! level for every file and at the model level for every file whose metadata is well formed.
//! Files that do not transform cleanly (the testkit's deliberately broken submissions) must
//! produce exactly the violations recorded in `tests/data/testkit-golden.txt`; set
//! `XDS_UPDATE_GOLDEN=1` to rewrite that snapshot, then review its diff.

// In test helpers a panic is the failure report, so unwrapping is the point.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::Path;

use xds::transform::{self, Options};
use xds::wire::{self, Body, Limits, MemorySink, OutContent};
use xds_conformance::testkit::{self, FileKind};

fn decode(xml: &str) -> Body<wire::DocumentContent<Vec<u8>>> {
    wire::decode_body_xml(
        xml.as_bytes(),
        &Limits::default(),
        &mut MemorySink::default(),
    )
    .unwrap_or_else(|error| panic!("decode failed: {error}\n{xml}"))
}

fn to_out(body: &Body<wire::DocumentContent<Vec<u8>>>) -> Body<OutContent> {
    body.clone()
        .try_map_content::<_, ()>(|content| match content {
            wire::DocumentContent::Inline(attachment) => Ok(OutContent::Inline(attachment.handle)),
            wire::DocumentContent::Xop { cid, .. } => Ok(OutContent::Xop { cid }),
        })
        .expect("infallible")
}

/// The outcome of one file: "ok" or the sorted list of violations.
fn model_round_trip(body: &Body<wire::DocumentContent<Vec<u8>>>) -> Result<(), String> {
    match body {
        Body::SubmitObjects(request) => {
            let model = transform::submit_objects_from_wire(request, Options::REGISTRY)
                .map_err(describe)?;
            let encoded = wire::write_body_document(&Body::SubmitObjects(
                transform::submit_objects_to_wire(&model),
            ));
            let Body::SubmitObjects(again) = decode(&encoded) else {
                panic!("re-encoded body changed kind")
            };
            let model_again = transform::submit_objects_from_wire(&again, Options::REGISTRY)
                .unwrap_or_else(|violations| {
                    panic!(
                        "re-encoded metadata fails: {}\n{encoded}",
                        describe(violations)
                    )
                });
            assert_eq!(model, model_again, "model round trip differs:\n{encoded}");
            Ok(())
        }
        Body::AdhocQuery(request) => {
            let model = transform::stored_query_from_wire(request).map_err(|errors| {
                errors
                    .iter()
                    .map(|error| format!("{}: {}", error.code, error.code_context))
                    .collect::<Vec<_>>()
                    .join(" | ")
            })?;
            let encoded = wire::write_body_document(&Body::AdhocQuery(
                transform::stored_query_to_wire(&model),
            ));
            let Body::AdhocQuery(again) = decode(&encoded) else {
                panic!("re-encoded body changed kind")
            };
            let model_again =
                transform::stored_query_from_wire(&again).expect("re-encoded query decodes");
            assert_eq!(model, model_again, "query round trip differs:\n{encoded}");
            Ok(())
        }
        Body::RemoveObjects(request) => {
            let model = transform::remove_metadata_from_wire(request, Options::REGISTRY)
                .map_err(describe)?;
            let encoded = wire::write_body_document(&Body::RemoveObjects(
                transform::remove_metadata_to_wire(&model),
            ));
            let Body::RemoveObjects(again) = decode(&encoded) else {
                panic!("re-encoded body changed kind")
            };
            assert_eq!(
                transform::remove_metadata_from_wire(&again, Options::REGISTRY).unwrap(),
                model
            );
            Ok(())
        }
        Body::Retrieve(request) => {
            let model =
                transform::document_requests_from_wire(&request.requests, Options::REPOSITORY)
                    .map_err(describe)?;
            let encoded =
                wire::write_body_document(&Body::Retrieve(wire::RetrieveDocumentSetRequest {
                    requests: transform::document_requests_to_wire(&model),
                }));
            let Body::Retrieve(again) = decode(&encoded) else {
                panic!("re-encoded body changed kind")
            };
            assert_eq!(
                transform::document_requests_from_wire(&again.requests, Options::REPOSITORY)
                    .unwrap(),
                model
            );
            Ok(())
        }
        Body::RemoveDocuments(request) => {
            let model =
                transform::document_requests_from_wire(&request.requests, Options::REPOSITORY)
                    .map_err(describe)?;
            let encoded =
                wire::write_body_document(&Body::RemoveDocuments(wire::RemoveDocumentsRequest {
                    requests: transform::document_requests_to_wire(&model),
                }));
            let Body::RemoveDocuments(again) = decode(&encoded) else {
                panic!("re-encoded body changed kind")
            };
            assert_eq!(
                transform::document_requests_from_wire(&again.requests, Options::REPOSITORY)
                    .unwrap(),
                model
            );
            Ok(())
        }
        Body::ProvideAndRegister(request) => {
            let model = transform::submit_objects_from_wire(&request.submit, Options::REPOSITORY)
                .map_err(describe)?;
            let encoded = wire::write_body_document(&Body::SubmitObjects(
                transform::submit_objects_to_wire(&model),
            ));
            let Body::SubmitObjects(again) = decode(&encoded) else {
                panic!("re-encoded body changed kind")
            };
            assert_eq!(
                transform::submit_objects_from_wire(&again, Options::REPOSITORY).unwrap(),
                model
            );
            Ok(())
        }
        other => panic!("unexpected body {}", other.element_name()),
    }
}

fn describe(violations: Vec<transform::Violation>) -> String {
    let mut lines: Vec<String> = violations
        .iter()
        .map(|violation| {
            format!(
                "{} at {}: {}",
                violation.code, violation.location, violation.message
            )
        })
        .collect();
    lines.sort();
    lines.join(" | ")
}

#[test]
fn every_testkit_request_body_decodes_and_round_trips() {
    let shared = testkit::require_shared_dir();
    let root = shared.join("conformance").join("nist-testkit");
    let mut outcomes = BTreeMap::new();
    let mut counts: BTreeMap<FileKind, (usize, usize)> = BTreeMap::new();
    for path in testkit::xml_files(&root.join("tests")) {
        let raw = std::fs::read_to_string(&path)
            .unwrap_or_else(|error| panic!("{}: {error}", path.display()));
        let kind = testkit::classify(&raw);
        let xml = match kind {
            FileKind::TestPlan | FileKind::Other => continue,
            FileKind::Submit21 => xds_conformance::ebrim21::convert_submit_objects(&raw)
                .unwrap_or_else(|error| panic!("{}: conversion failed: {error}", path.display())),
            _ => raw,
        };
        // Fill what the runner fills: symbols bound by the section's test plan, then the
        // remaining `$placeholders$`, then (below) uniqueIds and sourceIds.
        let testplan =
            std::fs::read_to_string(path.with_file_name("testplan.xml")).unwrap_or_default();
        let xml = testkit::substitute_symbols(&xml, &testkit::bound_symbols(&testplan));
        let xml = testkit::instantiate(&xml);
        let mut body = decode(&xml);
        let seed = path.display().to_string();
        match &mut body {
            Body::SubmitObjects(request) => {
                testkit::assign_unique_ids(&mut request.objects, &seed, "1.3.6.1.4.1.21367.2009.97")
            }
            Body::ProvideAndRegister(request) => testkit::assign_unique_ids(
                &mut request.submit.objects,
                &seed,
                "1.3.6.1.4.1.21367.2009.97",
            ),
            _ => {}
        }
        // Wire level: decode -> encode -> decode is lossless for every file.
        let encoded = wire::write_body_document(&to_out(&body));
        assert_eq!(
            decode(&encoded),
            body,
            "{}: wire round trip differs",
            path.display()
        );
        let relative = path
            .strip_prefix(&root)
            .unwrap_or(Path::new(""))
            .display()
            .to_string();
        let entry = counts.entry(kind).or_default();
        entry.0 += 1;
        let outcome = match model_round_trip(&body) {
            Ok(()) => {
                entry.1 += 1;
                "ok".to_owned()
            }
            Err(violations) => violations,
        };
        outcomes.insert(relative, outcome);
    }
    let mut snapshot = String::from(
        "# Outcome of the model transform for each NIST testkit request body.\n# Regenerate with XDS_UPDATE_GOLDEN=1 and review the diff.\n",
    );
    for (file, outcome) in &outcomes {
        snapshot.push_str(&format!("{file}: {outcome}\n"));
    }
    let snapshot_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/testkit-golden.txt");
    if std::env::var_os("XDS_UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(snapshot_path.parent().unwrap()).unwrap();
        std::fs::write(&snapshot_path, &snapshot).unwrap();
    }
    let expected = std::fs::read_to_string(&snapshot_path).unwrap_or_default();
    eprintln!("files per kind (total, model round trip): {counts:?}");
    assert!(
        outcomes.len() > 500,
        "only {} request bodies found",
        outcomes.len()
    );
    assert_eq!(
        snapshot,
        expected,
        "transform outcomes differ from {}",
        snapshot_path.display()
    );
}

/// Every ebRIM 2.1 file of the testkit converts to a schema-valid ebRIM 3.0
/// SubmitObjectsRequest (checked with xmllint against the shared lcm.xsd).
#[test]
fn every_converted_ebrim21_file_is_schema_valid() {
    let shared = testkit::require_shared_dir();
    let root = shared
        .join("conformance")
        .join("nist-testkit")
        .join("tests");
    let out_dir = std::env::temp_dir().join(format!("xds-ebrim21-{}", std::process::id()));
    std::fs::create_dir_all(&out_dir).unwrap();
    let mut written = Vec::new();
    for path in testkit::xml_files(&root) {
        let raw = std::fs::read_to_string(&path).unwrap();
        if testkit::classify(&raw) != FileKind::Submit21 {
            continue;
        }
        let converted = xds_conformance::ebrim21::convert_submit_objects(&raw).unwrap();
        let target = out_dir.join(format!("{}.xml", written.len()));
        std::fs::write(&target, converted).unwrap();
        written.push((target, path));
    }
    assert!(
        written.len() >= 200,
        "expected the testkit's ~218 ebRIM 2.1 files, found {}",
        written.len()
    );
    let output = std::process::Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(shared.join("conformance/schemas/lcm.xsd"))
        .args(written.iter().map(|(target, _)| target))
        .output()
        .expect("xmllint (Debian package libxml2-utils) must be installed");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let failures: Vec<&str> = stderr
        .lines()
        .filter(|line| !line.ends_with(" validates"))
        .collect();
    assert!(
        output.status.success() && failures.is_empty(),
        "converted files fail schema validation:\n{}",
        failures.join("\n")
    );
    assert_eq!(
        stderr
            .lines()
            .filter(|line| line.ends_with(" validates"))
            .count(),
        written.len()
    );
}
