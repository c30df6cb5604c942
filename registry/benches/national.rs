//! National-scale benchmark of the registry (run by hand; not part of the test command):
//!
//! ```text
//! cargo bench -p xds-registry --bench national -- [--patients 1000000] [--entries 10000000]
//!     [--heavy 20] [--clients 16] [--seconds 10] [--data-dir DIR] [--keep] [--compact]
//! ```
//!
//! 1. Generates a skewed dataset (test INS-NIR ids under 1.2.250.1.213.1.4.10, a few patients
//!    with 1,000+ entries, realistic codes) and imports it through the same path as
//!    `xds-registry import`: ebRIM XML -> decode -> validation -> single writer -> RocksDB.
//! 2. Compacts and measures disk bytes per DocumentEntry.
//! 3. Starts the real daemon on the data (restart time = spawn to `listening on`), then with
//!    N concurrent keep-alive clients measures FindDocuments (LeafClass) and GetDocuments
//!    latency and throughput, the no-op SOAP endpoint of the same server (transport floor),
//!    durable one-document ITI-42 submissions, server RSS and CPU microseconds per operation.
//!
//! With `--data-dir` an existing dataset is reused (the import phase is skipped when the
//! directory holds a completed import; `--compact` compacts it again first, rewriting every
//! table file in the current format).

#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)] // a command that prints figures

use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use xds::model::*;
use xds::transaction::Transaction;
use xds::transform::{self, Options};
use xds::wire::{self, Body, Header, MemorySink};
use xds_conformance::load::{Client, Operation, Rng, cpu_micros, load, ms, rss_mib};
use xds_registry::identity::IdentityPolicy;
use xds_registry::service::{QuerySettings, RegisterSettings, Registry};
use xds_registry::store::MetadataStore;
use xds_registry::store::kv::KvMetadataStore;
use xds_registry::store::rocks::{RocksEngine, RocksSettings};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

struct Args {
    patients: u64,
    entries: u64,
    heavy: u64,
    clients: usize,
    seconds: u64,
    data_dir: Option<PathBuf>,
    keep: bool,
    /// Compact a kept dataset again (after a change of table settings).
    compact: bool,
}

fn parse_args() -> Args {
    let mut args = Args {
        patients: 1_000_000,
        entries: 10_000_000,
        heavy: 20,
        clients: 16,
        seconds: 10,
        data_dir: None,
        keep: false,
        compact: false,
    };
    let mut iter = std::env::args().skip(1);
    while let Some(arg) = iter.next() {
        let mut value = || iter.next().unwrap_or_else(|| panic!("{arg} needs a value"));
        match arg.as_str() {
            "--patients" => args.patients = value().parse().expect("number"),
            "--entries" => args.entries = value().parse().expect("number"),
            "--heavy" => args.heavy = value().parse().expect("number"),
            "--clients" => args.clients = value().parse().expect("number"),
            "--seconds" => args.seconds = value().parse().expect("number"),
            "--data-dir" => args.data_dir = Some(PathBuf::from(value())),
            "--keep" => args.keep = true,
            "--compact" => args.compact = true,
            "--bench" => {}
            other => panic!("unknown argument {other}"),
        }
    }
    args
}

/// xorshift64*: deterministic, fast.
/// A valid test INS-NIR (13 digits + key = 97 - n mod 97) for patient number `n`.
fn ins_nir(n: u64) -> String {
    let sex = 1 + n % 2;
    let year = 30 + n % 70;
    let month = 1 + n / 2 % 12;
    let order = n % 1000;
    let commune = 100 + n / 1000 % 900;
    let department = 10 + n / 900_000 % 80;
    let body = format!("{sex}{year:02}{month:02}{department:02}{commune:03}{order:03}");
    let number: u64 = body.parse().expect("digits");
    format!("{body}{:02}", 97 - number % 97)
}

fn patient_id(n: u64) -> Cx {
    Cx::new(
        &ins_nir(n),
        &Hd::iso(&Oid::parse("1.2.250.1.213.1.4.10").expect("OID")),
    )
    .with_type_code("NH")
}

const CLASS: [(&str, &str); 6] = [
    ("11488-4", "Consultation note"),
    ("18842-5", "Discharge summary"),
    ("11502-2", "Laboratory report"),
    ("18748-4", "Diagnostic imaging study"),
    ("57833-6", "Prescription"),
    ("34133-9", "Summary of episode note"),
];
const TYPES: [&str; 12] = [
    "11488-4", "18842-5", "11502-2", "18748-4", "57833-6", "34133-9", "60591-5", "11506-3",
    "28655-9", "34874-8", "52040-3", "68604-8",
];
const PRACTICE: [&str; 5] = [
    "ETABLISSEMENT",
    "AMBULATOIRE",
    "MEDECINE_GENERALE",
    "IMAGERIE",
    "BIOLOGIE",
];
const FACILITY: [&str; 4] = ["SA01", "SA07", "SA29", "SA52"];
const AUTHORS: [&str; 8] = [
    "DURANT^Romuald",
    "MARTIN^Claire",
    "BERNARD^Luc",
    "PETIT^Anne",
    "ROBERT^Paul",
    "RICHARD^Julie",
    "DUBOIS^Marc",
    "MOREAU^Sophie",
];

fn dtm(rng: &mut Rng) -> Dtm {
    let seconds = 1_262_304_000 + rng.below(15 * 365 * 86_400);
    Dtm::from_unix_seconds(seconds)
}

fn document(symbol: String, unique_id: String, patient: &Cx, rng: &mut Rng) -> DocumentEntry {
    let mut entry = DocumentEntry::new(ObjectId::Symbolic(symbol));
    let class = CLASS[rng.below(CLASS.len() as u64) as usize];
    let type_code = TYPES[rng.below(TYPES.len() as u64) as usize];
    entry.object_type = Some(DocumentEntryType::Stable);
    entry.mime_type = Some(
        if rng.below(3) == 0 {
            "application/pdf"
        } else {
            "text/xml"
        }
        .to_owned(),
    );
    entry.title = vec![LocalizedString::new(class.1)];
    let author = AUTHORS[rng.below(AUTHORS.len() as u64) as usize];
    entry.authors = vec![Author {
        person: Some(
            Xcn::parse(&format!(
                "8{:010}^{author}^^^^^^&1.2.250.1.71.4.2.1&ISO^D^^^IDNPS",
                rng.below(10_000_000_000)
            ))
            .expect("XCN"),
        ),
        institutions: vec![
            Xon::parse(&format!(
                "Etablissement {}^^^^^&1.2.250.1.71.4.2.2&ISO^IDNST^^^1{:09}",
                rng.below(500),
                rng.below(1_000_000_000)
            ))
            .expect("XON"),
        ],
        roles: Vec::new(),
        specialties: vec![
            "SM26^Qualifié en Médecine Générale (SM)^1.2.250.1.213.1.1.5.3".to_owned(),
        ],
        telecommunications: Vec::new(),
    }];
    entry.class_code = Some(Code::new(class.0, "2.16.840.1.113883.6.1", class.1));
    entry.confidentiality_codes = vec![if rng.below(20) == 0 {
        Code::new(
            "MASQUE_PS",
            "1.2.250.1.213.1.1.4.13",
            "Masqué aux professionnels de santé",
        )
    } else {
        Code::new("N", "2.16.840.1.113883.5.25", "Normal")
    }];
    entry.format_code = Some(Code::new(
        "urn:ihe:iti:xds-sd:pdf:2008",
        "1.3.6.1.4.1.19376.1.2.3",
        "PDF",
    ));
    let facility = FACILITY[rng.below(FACILITY.len() as u64) as usize];
    entry.healthcare_facility_type_code = Some(Code::new(facility, "1.2.250.1.71.4.2.4", facility));
    let practice = PRACTICE[rng.below(PRACTICE.len() as u64) as usize];
    entry.practice_setting_code = Some(Code::new(practice, "1.2.250.1.213.1.1.4.9", practice));
    entry.type_code = Some(Code::new(type_code, "2.16.840.1.113883.6.1", type_code));
    let created = dtm(rng);
    entry.creation_time = Some(created.clone());
    entry.service_start_time = Some(created);
    let mut hash = [0u8; 20];
    for chunk in hash.chunks_mut(8) {
        let bytes = rng.next_u64().to_be_bytes();
        chunk.copy_from_slice(&bytes[..chunk.len()]);
    }
    entry.hash = Some(Sha1Hash(hash));
    entry.size = Some(1_000 + rng.below(2_000_000));
    entry.language_code = Some("fr-FR".to_owned());
    entry.patient_id = Some(patient.clone());
    entry.source_patient_id = Some(Cx::new(
        &format!("IPP{}", rng.below(100_000_000)),
        &Hd::iso(&Oid::parse("1.2.250.1.999.1").expect("OID")),
    ));
    entry.repository_unique_id = Some(Oid::parse("1.2.250.1.999.5.1").expect("OID"));
    entry.unique_id = Some(UniqueId::parse(&unique_id).expect("uniqueId"));
    entry
}

/// One submission of `count` documents for patient `n`.
fn submission(n: u64, first_document: u64, count: u64, set_number: u64, rng: &mut Rng) -> Metadata {
    let patient = patient_id(n);
    let mut set = SubmissionSet::new(ObjectId::Symbolic("ss".to_owned()));
    set.authors = vec![Author {
        person: Some(Xcn::parse("8001^DURANT^Romuald").expect("XCN")),
        ..Author::default()
    }];
    set.content_type_code = Some(Code::new("04", "1.2.250.1.213.1.1.4.12", "Hospitalisation"));
    set.patient_id = Some(patient.clone());
    set.source_id = Some(Oid::parse("1.2.250.1.999.4").expect("OID"));
    set.submission_time = Some(dtm(rng));
    set.unique_id = Some(Oid::parse(&format!("1.2.250.1.999.3.{set_number}")).expect("OID"));
    let mut metadata = Metadata {
        submission_sets: vec![set],
        ..Metadata::default()
    };
    for index in 0..count {
        let symbol = format!("d{index}");
        metadata.document_entries.push(document(
            symbol.clone(),
            format!("1.2.250.1.999.2.{}", first_document + index),
            &patient,
            rng,
        ));
        let mut member = Association::new(
            ObjectId::Symbolic(format!("a{index}")),
            AssociationType::HasMember,
            ObjectId::Symbolic("ss".to_owned()),
            ObjectId::Symbolic(symbol),
        );
        member.submission_set_status = Some(SubmissionSetStatus::Original);
        metadata.associations.push(member);
    }
    metadata
}

/// Entries per patient: `heavy` patients with 1,000-3,000, the others share the rest.
fn plan(args: &Args) -> Vec<u64> {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut counts = vec![0u64; args.patients as usize];
    let mut remaining = args.entries;
    for count in counts.iter_mut().take(args.heavy as usize) {
        *count = (1_000 + rng.below(2_001)).min(remaining);
        remaining -= *count;
    }
    let others = args.patients.saturating_sub(args.heavy).max(1);
    for (index, count) in counts.iter_mut().enumerate().skip(args.heavy as usize) {
        let left = others - (index as u64 - args.heavy);
        let mean = remaining / left.max(1);
        // Uniform in [mean/2, 3*mean/2], never more than what is left.
        let value = if mean == 0 {
            u64::from(remaining > 0)
        } else {
            mean / 2 + rng.below(mean + 1)
        };
        *count = value.min(remaining);
        remaining -= *count;
    }
    counts
}

fn dir_size(path: &Path) -> u64 {
    let mut total = 0;
    if let Ok(entries) = std::fs::read_dir(path) {
        for entry in entries.flatten() {
            let path = entry.path();
            total += if path.is_dir() {
                dir_size(&path)
            } else {
                entry.metadata().map_or(0, |meta| meta.len())
            };
        }
    }
    total
}

const DONE_MARKER: &str = "benchmark-import.done";

/// Full compaction, the last level rewritten in the current table format.
fn compact(data_dir: &Path) {
    let engine =
        RocksEngine::open(&data_dir.join("metadata"), RocksSettings::default()).expect("reopen");
    let compacting = Instant::now();
    engine.compact().expect("compact");
    drop(engine);
    println!("compaction: {:.1} s", compacting.elapsed().as_secs_f64());
}

fn import(args: &Args, data_dir: &Path, counts: &[u64]) {
    let engine = RocksEngine::open(&data_dir.join("metadata"), RocksSettings::default())
        .expect("open RocksDB");
    let store: Arc<dyn MetadataStore> = Arc::new(KvMetadataStore::new(engine).expect("store"));
    let registry = Registry::start(
        Arc::clone(&store),
        Arc::new(xds::validate::IheXdsB),
        RegisterSettings {
            require_known_patient: false,
            identity: Arc::new(IdentityPolicy::development()),
            ..RegisterSettings::default()
        },
        QuerySettings::default(),
    )
    .expect("registry");
    // A generator thread encodes submissions to ebRIM XML; this thread decodes and validates
    // them and feeds the writer, like `xds-registry import` does with files.
    let (sender, receiver) = std::sync::mpsc::sync_channel::<(u64, String)>(256);
    let plan = counts.to_vec();
    let generator = std::thread::spawn(move || {
        let mut rng = Rng(42);
        let (mut document, mut set) = (0u64, 0u64);
        for (patient, &count) in plan.iter().enumerate() {
            let mut left = count;
            while left > 0 {
                let batch = left.min(1 + rng.below(20));
                let metadata = submission(patient as u64, document, batch, set, &mut rng);
                document += batch;
                set += 1;
                left -= batch;
                let body = Body::SubmitObjects(transform::submit_objects_to_wire(&metadata));
                if sender
                    .send((batch, wire::write_body_document(&body)))
                    .is_err()
                {
                    return;
                }
            }
        }
    });
    let started = Instant::now();
    let (mut entries, mut bytes) = (0u64, 0u64);
    let mut last = Instant::now();
    let total = args.entries;
    let decoded = receiver.into_iter().map(|(count, xml)| {
        entries += count;
        bytes += xml.len() as u64;
        let body = wire::decode_body_xml(
            xml.as_bytes(),
            &wire::Limits::default(),
            &mut MemorySink::default(),
        )
        .expect("decode");
        let Body::SubmitObjects(request) = body else {
            panic!("not a submission")
        };
        if last.elapsed() > Duration::from_secs(5) {
            last = Instant::now();
            let mut stderr = std::io::stderr().lock();
            let _ = writeln!(
                stderr,
                "  import: {entries}/{total} entries, {:.0} entries/s",
                entries as f64 / started.elapsed().as_secs_f64()
            );
        }
        transform::submit_objects_from_wire(&request, Options::REGISTRY).expect("valid")
    });
    let (registered, rejected) = xds_registry::import::import_stream(
        &registry,
        decoded,
        |_, _| {},
        |errors| panic!("rejected: {errors}"),
    )
    .expect("import");
    generator.join().expect("generator");
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "import: {registered} submissions ({rejected} rejected), {entries} DocumentEntries, {:.1} MB of ebRIM, {elapsed:.1} s: {:.0} entries/s, {:.0} submissions/s",
        bytes as f64 / 1e6,
        entries as f64 / elapsed,
        registered as f64 / elapsed
    );
    registry.close();
    drop(store);
    compact(data_dir);
    std::fs::write(data_dir.join(DONE_MARKER), format!("{entries}\n")).expect("marker");
}

fn envelope(transaction: Transaction, body: &Body<wire::OutContent>) -> Vec<u8> {
    let header = Header {
        action: Some(transaction.action().to_owned()),
        message_id: Some("urn:uuid:6b0b1b7e-0000-4000-8000-000000000000".to_owned()),
        ..Header::default()
    };
    wire::write_envelope(&header, body).into_bytes()
}

fn main() {
    let args = parse_args();
    let temporary = args.data_dir.is_none();
    let data_dir = args.data_dir.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!("xds-national-{}", std::process::id()))
    });
    std::fs::create_dir_all(&data_dir).expect("data dir");
    let counts = plan(&args);
    let entries: u64 = counts.iter().sum();
    println!(
        "dataset: {} patients, {entries} DocumentEntries, {} heavy patients with {}..{} entries; data in {}",
        args.patients,
        args.heavy,
        counts
            .iter()
            .take(args.heavy as usize)
            .min()
            .copied()
            .unwrap_or(0),
        counts
            .iter()
            .take(args.heavy as usize)
            .max()
            .copied()
            .unwrap_or(0),
        data_dir.display()
    );
    if data_dir.join(DONE_MARKER).exists() {
        println!("import: skipped (dataset present)");
        if args.compact {
            compact(&data_dir);
        }
    } else {
        import(&args, &data_dir, &counts);
    }
    let disk = dir_size(&data_dir.join("metadata"));
    println!(
        "disk: {:.1} MB, {:.0} bytes per DocumentEntry (goal <= 1536)",
        disk as f64 / 1e6,
        disk as f64 / entries.max(1) as f64
    );

    // The real daemon on this data.
    let spawned = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_xds-registry"))
        .args([
            "serve",
            "--insecure",
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
        ])
        .arg(&data_dir)
        .env("XDS_LOG", "warn")
        .env("XDS_REGISTRY_CONFIG", {
            let config = data_dir.join("bench.toml");
            std::fs::write(
                &config,
                "[server]\nnoop_path = \"/noop\"\n[query]\nunknown_patient = \"empty\"\n[identity]\nins_accept = [\"nir\", \"nia\", \"test\"]\n",
            )
            .expect("config");
            config
        })
        .stdout(Stdio::piped())
        .spawn()
        .expect("start daemon");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let line = lines.next().expect("line").expect("readable");
    let restart = spawned.elapsed();
    let address: SocketAddr = line
        .trim_start_matches("listening on ")
        .trim_end_matches(" (soap)")
        .parse()
        .expect("address");
    let pid = child.id();
    // Stop the daemon however this run ends.
    struct Reaper(std::process::Child);
    impl Drop for Reaper {
        fn drop(&mut self) {
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(self.0.id().to_string())
                .status();
            let _ = self.0.wait();
        }
    }
    let reaper = Reaper(child);
    println!(
        "restart: {:.0} ms from spawn to listening (goal <= 2000)",
        ms(restart)
    );

    // Typical patients (not the heavy ones) for FindDocuments; documents by uniqueId.
    let mut typical: Vec<u64> = (args.heavy..args.patients)
        .filter(|&n| (5..=20).contains(&counts[n as usize]))
        .take(100_000)
        .collect();
    if typical.is_empty() {
        typical = (0..args.patients)
            .filter(|&n| counts[n as usize] > 0)
            .take(100_000)
            .collect();
    }
    let typical = Arc::new(typical);
    let find = {
        let typical = Arc::clone(&typical);
        Arc::new(move |client: &mut Client, rng: &mut Rng| {
            let n = typical[rng.below(typical.len() as u64) as usize];
            let request = StoredQueryRequest {
                query: StoredQuery::FindDocuments(FindDocumentsQuery::new(
                    patient_id(n),
                    vec![AvailabilityStatus::Approved],
                )),
                return_type: ReturnType::LeafClass,
                home: None,
                metadata_level: None,
            };
            let body = envelope(
                Transaction::Iti18,
                &Body::AdhocQuery(transform::stored_query_to_wire(&request)),
            );
            let (status, answer) = client.post("/xds/registry", &body);
            assert!(
                status == 200 && answer.windows(7).any(|window| window == b"Success"),
                "FindDocuments failed"
            );
        }) as Operation
    };
    let get = Arc::new(move |client: &mut Client, rng: &mut Rng| {
        let document = rng.below(entries);
        let request = StoredQueryRequest {
            query: StoredQuery::GetDocuments {
                selector: ObjectSelector::UniqueIds(vec![format!("1.2.250.1.999.2.{document}")]),
            },
            return_type: ReturnType::LeafClass,
            home: None,
            metadata_level: None,
        };
        let body = envelope(
            Transaction::Iti18,
            &Body::AdhocQuery(transform::stored_query_to_wire(&request)),
        );
        let (status, answer) = client.post("/xds/registry", &body);
        assert!(
            status == 200
                && answer
                    .windows(16)
                    .any(|window| window == b"ExtrinsicObject "),
            "GetDocuments found nothing"
        );
    }) as Operation;
    let sample_query = {
        let request = StoredQueryRequest {
            query: StoredQuery::FindDocuments(FindDocumentsQuery::new(
                patient_id(args.heavy),
                vec![AvailabilityStatus::Approved],
            )),
            return_type: ReturnType::LeafClass,
            home: None,
            metadata_level: None,
        };
        envelope(
            Transaction::Iti18,
            &Body::AdhocQuery(transform::stored_query_to_wire(&request)),
        )
    };
    let noop = Arc::new(move |client: &mut Client, _: &mut Rng| {
        let (status, _) = client.post("/noop", &sample_query);
        assert_eq!(status, 200);
    }) as Operation;

    let report = |name: &str, make: Operation| -> f64 {
        let before = cpu_micros(pid);
        let result = load(address, args.clients, args.seconds, make);
        let cpu = cpu_micros(pid) - before;
        println!(
            "{name}: {} clients, {:.0} ops/s, p50 {:.2} ms, p99 {:.2} ms, server CPU {:.0} us/op",
            args.clients,
            result.rate(),
            ms(result.percentile(0.5)),
            ms(result.percentile(0.99)),
            cpu as f64 / result.operations.max(1) as f64
        );
        result.rate()
    };
    // Warm the cache a little, as a running registry would be.
    let _ = load(address, args.clients, 2, Arc::clone(&find));
    let floor = report("no-op SOAP endpoint (floor)", noop);
    let find_rate = report("FindDocuments LeafClass (~10 results)", find);
    let _ = report("GetDocuments LeafClass (1 by uniqueId)", get);
    println!(
        "ratio FindDocuments / floor: {:.2} (goal >= 0.4)",
        find_rate / floor.max(1e-9)
    );

    // Durable one-document ITI-42 submissions.
    // Numbers no earlier run on a kept dataset used (uniqueIds must be new).
    let run_base = 10_000_000_000
        + std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_secs() % 1_000_000)
            * 1_000_000;
    let next = Arc::new(AtomicU64::new(run_base));
    let submit = {
        let next = Arc::clone(&next);
        let patients = args.patients;
        Arc::new(move |client: &mut Client, rng: &mut Rng| {
            let number = next.fetch_add(1, Ordering::Relaxed);
            let metadata = submission(
                rng.below(patients),
                10_000_000_000 + number,
                1,
                10_000_000_000 + number,
                rng,
            );
            let body = envelope(
                Transaction::Iti42,
                &Body::SubmitObjects(transform::submit_objects_to_wire(&metadata)),
            );
            let (status, answer) = client.post("/xds/registry", &body);
            assert!(
                status == 200 && answer.windows(7).any(|window| window == b"Success"),
                "{}",
                String::from_utf8_lossy(&answer)
            );
        }) as Operation
    };
    let _ = report(
        "ITI-42 one-document submissions, durable (goal >= 1500/s)",
        submit,
    );
    println!("server RSS: {:.0} MiB (goal <= 1024)", rss_mib(pid));

    drop(reaper);
    if temporary && !args.keep {
        let _ = std::fs::remove_dir_all(&data_dir);
    }
}
