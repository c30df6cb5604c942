//! Decode benchmark (`cargo bench -p xds --bench decode`): a ProvideAndRegister request with
//! 1,000 fully populated DocumentEntries and a 100 MiB attachment, generated on the fly so the
//! attachment is never in memory. Prints medians and ratios against a floor measured in the
//! same run:
//!
//! - metadata decode MB/s (SOAP envelope -> wire types, and -> wire + strict model),
//! - the MB/s of a bare quick-xml event scan of the same bytes (the floor) and the ratios,
//! - attachment MB/s through the MTOM reader into a counting sink,
//! - peak memory above the baseline for 10 MiB, 100 MiB and 1 GiB attachments.
//!
//! Options: `--entries N`, `--attachment-mib N`, `--runs N`, `--metadata-only` (skip the
//! attachment and memory passes). Profiling aids: `--layers` (quick-xml NsReader scan and the
//! cursor alone), with `--setup-only`, `--floor-only`, `--cursor-only`, `--wire-only` or
//! `--model-only` to run one stage three times (e.g. under callgrind).

#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)] // a command that prints figures

// The daemons' allocator: decoding allocates many small strings, where glibc's malloc/free
// cost about a quarter of the decode time (measured with perf).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::io::Read;
use std::time::{Duration, Instant};

use xds::model::*;
use xds::transform::{self, Options};
use xds::wire::{self, Body, CountingSink, Limits, MultipartWriter, OutContent};

fn oid(text: &str) -> Oid {
    Oid::parse(text).unwrap()
}

/// A realistic, fully populated DocumentEntry (every attribute, two authors).
fn entry(index: usize) -> DocumentEntry {
    let mut entry = DocumentEntry::new(ObjectId::Symbolic(format!("Document{index:05}")));
    let patient =
        Cx::new("248098765432140", &Hd::iso(&oid("1.2.250.1.213.1.4.10"))).with_type_code("NH");
    entry.mime_type = Some("text/xml".into());
    entry.title = vec![LocalizedString::new(format!(
        "Compte rendu d'hospitalisation n°{index}"
    ))];
    entry.comments = vec![LocalizedString::new(
        "Document produit par le DPI de l'établissement",
    )];
    let author = Author {
        person: Some(
            Xcn::parse("801234567890^DURANT^Romuald^^^^^^&1.2.250.1.71.4.2.1&ISO^D^^^IDNPS")
                .unwrap(),
        ),
        institutions: vec![
            Xon::parse("Hôpital Exemple^^^^^&1.2.250.1.71.4.2.2&ISO^IDNST^^^1750100125").unwrap(),
        ],
        roles: vec!["ATTPHYS^^^&2.16.840.1.113883.5.88&ISO".into()],
        specialties: vec![
            "G15_10/SM26^Qualifié en Médecine Générale (SM)^1.2.250.1.213.1.1.4.5".into(),
        ],
        telecommunications: vec![Xtn::parse("^^Internet^romuald.durant@example.org").unwrap()],
    };
    entry.authors = vec![author.clone(), author];
    entry.class_code = Some(Code::new("10", "1.2.250.1.213.1.1.4.1", "Compte rendu"));
    entry.confidentiality_codes = vec![Code::new("N", "2.16.840.1.113883.5.25", "Normal")];
    entry.event_codes = vec![Code::new(
        "I10",
        "2.16.840.1.113883.6.3",
        "Hypertension essentielle",
    )];
    entry.format_code = Some(Code::new(
        "urn:ihe:iti:xds-sd:pdf:2008",
        "1.3.6.1.4.1.19376.1.2.3",
        "PDF",
    ));
    entry.healthcare_facility_type_code = Some(Code::new(
        "SA01",
        "1.2.250.1.71.4.2.4",
        "Etablissement public de santé",
    ));
    entry.practice_setting_code = Some(Code::new(
        "ETABLISSEMENT",
        "1.2.250.1.213.1.1.4.9",
        "Etablissement de santé",
    ));
    entry.type_code = Some(Code::new(
        "34133-9",
        "2.16.840.1.113883.6.1",
        "Synthèse d'épisode de soins",
    ));
    entry.creation_time = Some(Dtm::parse("20240315093000").unwrap());
    entry.service_start_time = Some(Dtm::parse("20240310080000").unwrap());
    entry.service_stop_time = Some(Dtm::parse("20240314170000").unwrap());
    entry.language_code = Some("fr-FR".into());
    entry.legal_authenticator = Some(
        Xcn::parse("801234567890^DURANT^Romuald^^^^^^&1.2.250.1.71.4.2.1&ISO^D^^^IDNPS").unwrap(),
    );
    entry.patient_id = Some(patient);
    entry.source_patient_id = Some(Cx::new(
        &format!("IPP{index}"),
        &Hd::iso(&oid("1.2.250.1.999.1")),
    ));
    entry.source_patient_info = vec![
        "PID-5|DUPONT^JEAN^^^^^L".into(),
        "PID-7|19700101".into(),
        "PID-8|M".into(),
    ];
    entry.unique_id = Some(UniqueId::parse(&format!("1.2.250.1.999.2.{index}")).unwrap());
    entry
}

/// The SOAP envelope of an ITI-41 request whose documents are `xop:Include`s.
fn envelope(entries: usize) -> String {
    let set_id = ObjectId::Symbolic("SubmissionSet01".into());
    let mut set = SubmissionSet::new(set_id.clone());
    set.patient_id = entry(0).patient_id;
    set.source_id = Some(oid("1.2.250.1.999.4"));
    set.submission_time = Some(Dtm::parse("20240315093000").unwrap());
    set.unique_id = Some(oid("1.2.250.1.999.3.1"));
    set.content_type_code = Some(Code::new("04", "1.2.250.1.213.1.1.4.12", "Hospitalisation"));
    let documents: Vec<DocumentEntry> = (0..entries).map(entry).collect();
    let mut associations = Vec::new();
    for (index, document) in documents.iter().enumerate() {
        let mut member = Association::new(
            ObjectId::Symbolic(format!("assoc{index}")),
            AssociationType::HasMember,
            set_id.clone(),
            document.entry_uuid.clone(),
        );
        member.submission_set_status = Some(SubmissionSetStatus::Original);
        associations.push(member);
    }
    let request = ProvideAndRegister {
        documents: documents
            .iter()
            .map(|document| Document {
                id: document.entry_uuid.clone(),
                content: (),
            })
            .collect(),
        metadata: Metadata {
            submission_sets: vec![set],
            document_entries: documents,
            associations,
            ..Metadata::default()
        },
    };
    let mut index = 0;
    let body = transform::provide_and_register_to_wire(&request, |_| {
        index += 1;
        OutContent::Xop {
            cid: format!("doc{index}@bench"),
        }
    });
    let header = wire::Header {
        action: Some("urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b".into()),
        message_id: Some("urn:uuid:0f8e2f1c-6d1e-4c6b-9a55-3c1f7f0c2a41".into()),
        ..wire::Header::default()
    };
    wire::write_envelope(&header, &Body::ProvideAndRegister(body))
}

/// An MTOM package produced lazily: framing and envelope from memory, attachment bytes
/// generated as they are read.
struct LazyPackage {
    pieces: Vec<Piece>,
    current: usize,
    offset: u64,
}

enum Piece {
    Bytes(Vec<u8>),
    Generated(u64),
}

impl LazyPackage {
    fn new(
        writer: &MultipartWriter,
        envelope: &str,
        documents: usize,
        attachment_bytes: u64,
    ) -> Self {
        let mut pieces = vec![
            Piece::Bytes(writer.root_part_header("root@bench")),
            Piece::Bytes(envelope.as_bytes().to_vec()),
        ];
        for index in 1..=documents {
            pieces.push(Piece::Bytes(
                writer.part_header(&format!("doc{index}@bench"), "application/pdf"),
            ));
            pieces.push(if index == 1 {
                Piece::Generated(attachment_bytes)
            } else {
                Piece::Bytes(b"%PDF-1.4 small".to_vec())
            });
        }
        pieces.push(Piece::Bytes(writer.closing()));
        Self {
            pieces,
            current: 0,
            offset: 0,
        }
    }
}

impl Read for LazyPackage {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        while let Some(piece) = self.pieces.get(self.current) {
            let length = match piece {
                Piece::Bytes(bytes) => bytes.len() as u64,
                Piece::Generated(size) => *size,
            };
            if self.offset >= length {
                self.current += 1;
                self.offset = 0;
                continue;
            }
            let count = (length - self.offset).min(out.len() as u64) as usize;
            match piece {
                Piece::Bytes(bytes) => out[..count]
                    .copy_from_slice(&bytes[self.offset as usize..self.offset as usize + count]),
                Piece::Generated(_) => {
                    // Random bytes over the whole range, line breaks and dashes included, as in
                    // real PDFs and images (a 45-byte boundary cannot occur by chance).
                    let block = pattern_block();
                    let mut filled = 0;
                    while filled < count {
                        let from = (self.offset as usize + filled) % block.len();
                        let take = (block.len() - from).min(count - filled);
                        out[filled..filled + take].copy_from_slice(&block[from..from + take]);
                        filled += take;
                    }
                }
            }
            self.offset += count as u64;
            return Ok(count);
        }
        Ok(0)
    }
}

/// 64 KiB of pseudo-random bytes, generated once.
fn pattern_block() -> &'static [u8] {
    static BLOCK: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    BLOCK.get_or_init(|| {
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        (0..64 * 1024)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state as u8
            })
            .collect()
    })
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn mb_per_second(bytes: usize, time: Duration) -> f64 {
    bytes as f64 / 1e6 / time.as_secs_f64()
}

/// The floor: every event of the document read by quick-xml, nothing done with it.
fn scan(xml: &[u8]) -> usize {
    let mut reader = quick_xml::Reader::from_reader(xml);
    reader.config_mut().trim_text(false);
    let mut buffer = Vec::with_capacity(1024);
    let mut events = 0;
    loop {
        buffer.clear();
        match reader.read_event_into(&mut buffer).expect("well-formed") {
            quick_xml::events::Event::Eof => return events,
            _ => events += 1,
        }
    }
}

/// Decodes the metadata; returns what was decoded so that dropping it is not timed.
fn decode_metadata(xml: &[u8], model: bool) -> (usize, Box<dyn std::any::Any>) {
    let body = wire::decode_body_xml(xml, &Limits::default(), &mut CountingSink::default())
        .expect("decodes");
    let Body::ProvideAndRegister(request) = body else {
        panic!("not ITI-41")
    };
    if model {
        let metadata = transform::submit_objects_from_wire(&request.submit, Options::REPOSITORY)
            .expect("valid");
        (
            metadata.document_entries.len(),
            Box::new((request, metadata)),
        )
    } else {
        (request.submit.objects.len(), Box::new(request))
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|arg| arg == "--memory-child") {
        memory_child(&args);
        return;
    }
    let option = |name: &str, default: u64| -> u64 {
        args.iter()
            .position(|arg| arg == name)
            .and_then(|index| args.get(index + 1))
            .and_then(|value| value.parse().ok())
            .unwrap_or(default)
    };
    let entries = option("--entries", 1000) as usize;
    let attachment_mib = option("--attachment-mib", 100);
    let runs = option("--runs", 15) as usize;

    let envelope = envelope(entries);
    // The body element alone (what the metadata decoders read), for the bare decode and scan.
    let body_start = envelope
        .find("<xds:ProvideAndRegisterDocumentSetRequest")
        .unwrap();
    let body_end = envelope.find("</soap:Body>").unwrap();
    let body_xml = envelope.as_bytes()[body_start..body_end].to_vec();
    println!(
        "dataset: ITI-41 ProvideAndRegister, {entries} DocumentEntries, metadata {:.2} MB, attachment {attachment_mib} MiB (generated while read)",
        body_xml.len() as f64 / 1e6
    );

    if args.iter().any(|arg| arg == "--layers") {
        let time = |f: &dyn Fn() -> usize| {
            let mut samples = Vec::new();
            for _ in 0..runs {
                let start = Instant::now();
                assert!(f() > 0);
                samples.push(start.elapsed());
            }
            mb_per_second(body_xml.len(), median(samples))
        };
        let ns_scan = || {
            let mut reader = quick_xml::NsReader::from_reader(&body_xml[..]);
            let mut buffer = Vec::new();
            let mut events = 0;
            loop {
                buffer.clear();
                match reader.read_event_into(&mut buffer).unwrap() {
                    quick_xml::events::Event::Eof => return events,
                    _ => events += 1,
                }
            }
        };
        if args.iter().any(|arg| arg == "--setup-only") {
            return;
        }
        if args.iter().any(|arg| arg == "--model-only") {
            for _ in 0..3 {
                decode_metadata(&body_xml, true);
            }
            return;
        }
        if args.iter().any(|arg| arg == "--floor-only") {
            for _ in 0..3 {
                scan(&body_xml);
            }
            return;
        }
        if args.iter().any(|arg| arg == "--wire-only") {
            for _ in 0..3 {
                decode_metadata(&body_xml, false);
            }
            return;
        }
        if args.iter().any(|arg| arg == "--cursor-only") {
            for _ in 0..3 {
                wire::xml::cursor_scan(&body_xml).unwrap();
            }
            return;
        }
        println!(
            "layer: quick-xml NsReader scan  {:8.1} MB/s",
            time(&ns_scan)
        );
        println!(
            "layer: XmlIn cursor scan        {:8.1} MB/s",
            time(&|| wire::xml::cursor_scan(&body_xml).unwrap())
        );
        return;
    }
    let (mut wire_times, mut model_times, mut floor_times) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..runs {
        let start = Instant::now();
        assert!(scan(&body_xml) > entries);
        floor_times.push(start.elapsed());
        let start = Instant::now();
        let (objects, decoded) = decode_metadata(&body_xml, false);
        wire_times.push(start.elapsed());
        assert!(objects > entries);
        drop(decoded);
        let start = Instant::now();
        let (documents, decoded) = decode_metadata(&body_xml, true);
        model_times.push(start.elapsed());
        assert_eq!(documents, entries);
        drop(decoded);
    }
    let floor = mb_per_second(body_xml.len(), median(floor_times));
    let wire_rate = mb_per_second(body_xml.len(), median(wire_times));
    let model_rate = mb_per_second(body_xml.len(), median(model_times));
    println!(
        "metadata decode, XML -> wire types:           {wire_rate:8.1} MB/s (median of {runs})"
    );
    println!(
        "metadata decode, XML -> wire -> strict model: {model_rate:8.1} MB/s (median of {runs})"
    );
    println!("floor, bare quick-xml event scan:             {floor:8.1} MB/s (median of {runs})");
    println!(
        "ratio wire / floor:          {:.2} (goal >= 0.5)",
        wire_rate / floor
    );
    println!("ratio wire+model / floor:    {:.2}", model_rate / floor);
    if args.iter().any(|arg| arg == "--metadata-only") {
        return;
    }

    let writer = MultipartWriter::new(MultipartWriter::boundary_from_random([7u8; 16]));
    let content_type = writer.content_type(
        "root@bench",
        Some("urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b"),
    );
    // Attachment throughput: a package with a one-entry envelope and one large part.
    let small = envelope_with_one_document();
    let mut attachment_times = Vec::new();
    for _ in 0..3 {
        let package = LazyPackage::new(&writer, &small, 1, attachment_mib * 1024 * 1024);
        let start = Instant::now();
        wire::decode_message(
            &content_type,
            package,
            &Limits::default(),
            &mut CountingSink::default(),
        )
        .expect("decodes");
        attachment_times.push(start.elapsed());
    }
    let attachment_rate = mb_per_second(
        (attachment_mib * 1024 * 1024) as usize,
        median(attachment_times),
    );
    println!(
        "attachment streaming (MTOM part -> sink):     {attachment_rate:8.1} MB/s ({attachment_mib} MiB part, median of 3)"
    );
    // Peak memory: each size in a fresh process, so that nothing measured here inflates it.
    let envelope_file =
        std::env::temp_dir().join(format!("xds-bench-envelope-{}.xml", std::process::id()));
    std::fs::write(&envelope_file, &envelope).expect("write envelope");
    let mut peaks = Vec::new();
    for (label, mib) in [
        ("10 MiB", 10u64),
        (&format!("{attachment_mib} MiB"), attachment_mib),
        ("1 GiB", 1024),
    ] {
        let output = std::process::Command::new(std::env::current_exe().expect("own path"))
            .args([
                "--memory-child",
                &mib.to_string(),
                "--entries",
                &entries.to_string(),
                "--envelope",
            ])
            .arg(&envelope_file)
            .output()
            .expect("run memory pass");
        let text = String::from_utf8_lossy(&output.stdout);
        let kib: u64 = text.trim().parse().unwrap_or_else(|_| {
            panic!(
                "memory pass failed: {text} {}",
                String::from_utf8_lossy(&output.stderr)
            )
        });
        peaks.push(format!("{label}: {:.1} MiB", kib as f64 / 1024.0));
    }
    let _ = std::fs::remove_file(&envelope_file);
    println!(
        "peak memory above baseline, whole package decoded ({entries} entries + attachment): {} (goal < 32 MiB, independent of attachment size)",
        peaks.join(", ")
    );
}

/// Child process: decodes one package whose attachment is generated while read, and prints the
/// growth of the peak resident set above the resident set just before decoding (KiB).
fn memory_child(args: &[String]) {
    let value = |name: &str| {
        args.iter()
            .position(|arg| arg == name)
            .and_then(|index| args.get(index + 1))
            .cloned()
            .unwrap()
    };
    let mib: u64 = value("--memory-child").parse().unwrap();
    let entries: usize = value("--entries").parse().unwrap();
    let envelope = std::fs::read_to_string(value("--envelope")).unwrap();
    let writer = MultipartWriter::new(MultipartWriter::boundary_from_random([7u8; 16]));
    let content_type = writer.content_type("root@bench", None);
    let package = LazyPackage::new(&writer, &envelope, entries, mib * 1024 * 1024);
    // Linux: writing 5 to clear_refs resets the peak resident set size to the current one.
    std::fs::write("/proc/self/clear_refs", "5").expect("reset peak RSS (Linux)");
    let baseline = status_kib("VmRSS:");
    let message = wire::decode_message(
        &content_type,
        package,
        &Limits::default(),
        &mut CountingSink::default(),
    )
    .expect("decodes");
    let Body::ProvideAndRegister(request) = &message.envelope.body else {
        panic!()
    };
    assert_eq!(request.documents[0].content.handle, mib * 1024 * 1024);
    println!("{}", status_kib("VmHWM:").saturating_sub(baseline));
}

fn status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status.lines().find_map(|line| {
                line.strip_prefix(field)
                    .map(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
            })
        })
        .flatten()
        .unwrap_or(0)
}

fn envelope_with_one_document() -> String {
    envelope(1)
}
