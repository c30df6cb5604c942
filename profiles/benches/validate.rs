//! What validation costs (run by hand; not part of the test command):
//!
//! ```text
//! cargo bench -p xds-profiles --bench validate -- [--rounds 15] [--batch 2000]
//! ```
//!
//! Needs the shared value sets (`$XDS_SHARED_DIR`, or `shared/` next to the workspace).
//! Prints, as medians over rounds:
//! - loading a profile: `ihe-xds-b` (nothing to read) and `fr-dmp` (every file of the value-set
//!   folder parsed, every binding resolved), as a daemon does once at start-up;
//! - validating the DMP sample (2 entries) and a 50-entry submission built from it: the
//!   structural rules alone (the floor) and `fr-dmp` (structural + DMP rules), in µs per
//!   submission, with the ratio floor / fr-dmp.

#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)] // a command that prints figures

use std::path::PathBuf;
use std::time::Instant;

use xds::model::{Metadata, ObjectId};
use xds::transform::{self, Options};
use xds::validate::{IheXdsB, Profile, Receiver, validate_submission};
use xds::wire::{self, Body, Limits, MemorySink};
use xds_profiles::{ProfileConfig, load};

fn shared_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("XDS_SHARED_DIR") {
        return PathBuf::from(dir);
    }
    let start = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    start
        .ancestors()
        .map(|dir| dir.join("shared"))
        .find(|dir| dir.join("profiles-data").is_dir())
        .expect("the shared test data: set XDS_SHARED_DIR")
}

fn sample() -> Metadata {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("samples/dmp-register.xml");
    let text = std::fs::read_to_string(path).unwrap();
    let body = wire::decode_body_xml(
        text.as_bytes(),
        &Limits::default(),
        &mut MemorySink::default(),
    )
    .unwrap();
    let Body::SubmitObjects(request) = body else {
        panic!("not a submission")
    };
    transform::submit_objects_from_wire(&request, Options::REGISTRY).unwrap()
}

/// The sample with `count` copies of its letter (each a member of the SubmissionSet).
fn scaled(count: usize) -> Metadata {
    let mut metadata = sample();
    let letter = metadata.document_entries[0].clone();
    let member = metadata
        .associations
        .iter()
        .find(|association| association.target == letter.entry_uuid)
        .unwrap()
        .clone();
    for index in 1..count {
        let mut entry = letter.clone();
        entry.entry_uuid = ObjectId::parse(&format!("Doc{index:03}")).unwrap();
        entry.unique_id =
            Some(xds::model::UniqueId::parse(&format!("1.2.250.1.999.77.4.{index}")).unwrap());
        let mut association = member.clone();
        association.entry_uuid = ObjectId::parse(&format!("as-doc{index:03}")).unwrap();
        association.target = entry.entry_uuid.clone();
        metadata.document_entries.push(entry);
        metadata.associations.push(association);
    }
    metadata
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Median µs per validation over `rounds` batches of `batch`.
fn per_validation(profile: &dyn Profile, metadata: &Metadata, rounds: usize, batch: usize) -> f64 {
    let violations = validate_submission(metadata, Receiver::Registry, profile);
    assert!(violations.is_empty(), "{violations:?}");
    median(
        (0..rounds)
            .map(|_| {
                let started = Instant::now();
                for _ in 0..batch {
                    std::hint::black_box(validate_submission(
                        std::hint::black_box(metadata),
                        Receiver::Registry,
                        profile,
                    ));
                }
                started.elapsed().as_secs_f64() * 1e6 / batch as f64
            })
            .collect(),
    )
}

fn main() {
    let mut rounds = 15;
    let mut batch = 2000;
    let mut arguments = std::env::args().skip(1);
    while let Some(argument) = arguments.next() {
        match argument.as_str() {
            "--rounds" => rounds = arguments.next().unwrap().parse().unwrap(),
            "--batch" => batch = arguments.next().unwrap().parse().unwrap(),
            "--bench" => {}
            other => panic!("unknown argument {other}"),
        }
    }
    let dmp = ProfileConfig {
        name: "fr-dmp".to_owned(),
        valuesets: Some(shared_dir().join("profiles-data/dmp/valuesets")),
        ..ProfileConfig::default()
    };
    let load_ms = |config: &ProfileConfig| {
        median(
            (0..rounds)
                .map(|_| {
                    let started = Instant::now();
                    std::hint::black_box(load(config).unwrap());
                    started.elapsed().as_secs_f64() * 1e3
                })
                .collect(),
        )
    };
    println!("profile load (median of {rounds}):");
    println!("  ihe-xds-b {:>9.3} ms", load_ms(&ProfileConfig::default()));
    println!(
        "  fr-dmp    {:>9.3} ms (every value-set file parsed, bindings resolved)",
        load_ms(&dmp)
    );
    let fr_dmp = load(&dmp).unwrap();
    println!("validation, µs per submission (median of {rounds} x {batch}):");
    for (label, metadata) in [
        ("DMP sample, 2 entries", sample()),
        ("50 entries", scaled(50)),
    ] {
        let batch = if metadata.document_entries.len() > 2 {
            batch / 10
        } else {
            batch
        };
        let floor = per_validation(&IheXdsB, &metadata, rounds, batch);
        let dmp = per_validation(fr_dmp.as_ref(), &metadata, rounds, batch);
        println!(
            "  {label:<22} structural {floor:>8.2}   fr-dmp {dmp:>8.2}   ratio structural/fr-dmp {:.2}",
            floor / dmp
        );
    }
}
