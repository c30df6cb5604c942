//! Throughput and memory benchmark of the repository (run by hand; not part of the test
//! command):
//!
//! ```text
//! cargo bench -p xds-repository --bench throughput -- [--clients 16] [--seconds 10]
//!     [--large-mib 1024] [--documents 32]
//! ```
//!
//! Both release daemons on loopback with fresh data directories (the load generator shares the
//! machine's cores). It prints:
//! 1. ITI-41 submissions/s (one 10 KB document each, MTOM, durable end to end with our
//!    registry), p50/p99, and each daemon's CPU microseconds per submission;
//! 2. ITI-43 MB/s retrieving 1 MiB documents, and in the same run the MB/s of the same server
//!    answering the same request with 1 MiB from memory (the floor), and the ratio;
//! 3. the repository's peak RSS growth while one `--large-mib` document is uploaded and then
//!    downloaded (a fresh repository process, so the peak is this phase's), with both rates.

#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)] // a command that prints figures

use std::io::{BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sha1::{Digest, Sha1};
use xds::model::*;
use xds::transaction::Transaction;
use xds::transform;
use xds::wire::{self, Body, ContentType, Header, MultipartReader, MultipartWriter, OutContent};
use xds_conformance::load::{Client, Operation, Rng, cpu_micros, load, ms, peak_rss_mib, rss_mib};
use xds_conformance::support::{self, TempDir};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const REPOSITORY_ID: &str = "1.3.6.1.4.1.21367.13.80.9";
const PATH: &str = "/xds/repository";

struct Args {
    clients: usize,
    seconds: u64,
    large_mib: u64,
    documents: u64,
}

fn parse_args() -> Args {
    let mut args = Args {
        clients: 16,
        seconds: 10,
        large_mib: 1024,
        documents: 32,
    };
    let mut raw = std::env::args().skip(1);
    while let Some(flag) = raw.next() {
        let mut value = || raw.next().and_then(|value| value.parse::<u64>().ok());
        match flag.as_str() {
            "--clients" => args.clients = value().expect("--clients N") as usize,
            "--seconds" => args.seconds = value().expect("--seconds N"),
            "--large-mib" => args.large_mib = value().expect("--large-mib N"),
            "--documents" => args.documents = value().expect("--documents N"),
            // cargo bench passes --bench.
            _ => {}
        }
    }
    args
}

/// A daemon process.
struct Daemon {
    child: Child,
    address: SocketAddr,
}

impl Daemon {
    fn start(binary: &Path, arguments: &[&str]) -> Self {
        let mut child = Command::new(binary)
            .args(arguments)
            .env("XDS_LOG", "warn")
            .env("XDS_REGISTRY_CONFIG", support::registry_dev_config())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start daemon");
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let mut line = String::new();
        std::io::BufRead::read_line(&mut stdout, &mut line).expect("listening line");
        let address = line
            .trim()
            .strip_prefix("listening on ")
            .and_then(|rest| rest.strip_suffix(" (soap)"))
            .unwrap_or_else(|| panic!("unexpected line {line:?}"))
            .parse()
            .expect("address");
        std::thread::spawn(move || {
            let mut sink = Vec::new();
            let _ = stdout.read_to_end(&mut sink);
        });
        Self { child, address }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}

fn registry_binary(repository: &Path) -> PathBuf {
    let path = repository.with_file_name("xds-registry");
    if !path.exists() {
        let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned()))
            .args([
                "build",
                "--release",
                "-p",
                "xds-registry",
                "--bin",
                "xds-registry",
            ])
            .status()
            .expect("cargo build");
        assert!(status.success());
    }
    path
}

fn envelope(transaction: Transaction, body: &Body<OutContent>) -> String {
    let header = Header {
        action: Some(transaction.action().to_owned()),
        message_id: Some("urn:uuid:6b0b1b7e-0000-4000-8000-000000000001".to_owned()),
        ..Header::default()
    };
    wire::write_envelope(&header, body)
}

/// Fixed-width placeholders so a template's length never changes.
const SET_PLACEHOLDER: &str = "1.2.250.1.999.8.100000000000";
const DOC_PLACEHOLDER: &str = "1.2.250.1.999.9.100000000000";

/// `prefix` and `n` in 12 digits without a leading zero (an OID component).
fn unique(prefix: &str, n: u64) -> String {
    format!("{prefix}{}", 100_000_000_000 + n)
}

/// An ITI-41 MTOM request for one document (ids as placeholders): (Content-Type, head of the
/// package up to the document bytes, tail after them).
fn provide_template(patient: &Cx) -> (String, String, String) {
    let mut metadata = support::documents(SET_PLACEHOLDER, patient, &[DOC_PLACEHOLDER]);
    for entry in &mut metadata.document_entries {
        entry.hash = None;
        entry.size = None;
        entry.repository_unique_id = None;
        entry.mime_type = Some("application/pdf".to_owned());
    }
    let request = ProvideAndRegister {
        documents: vec![Document {
            id: metadata.document_entries[0].entry_uuid.clone(),
            content: (),
        }],
        metadata,
    };
    let body = Body::ProvideAndRegister(transform::provide_and_register_to_wire(&request, |_| {
        OutContent::Xop {
            cid: "document1@bench".to_owned(),
        }
    }));
    let envelope = envelope(Transaction::Iti41, &body);
    let writer = MultipartWriter::new("MIMEBoundary_bench_4f1c2a");
    let mut head = writer.root_part_header("root@bench");
    head.extend_from_slice(envelope.as_bytes());
    head.extend_from_slice(&writer.part_header("document1@bench", "application/pdf"));
    (
        writer.content_type("root@bench", Some(Transaction::Iti41.action())),
        String::from_utf8(head).expect("utf-8"),
        String::from_utf8(writer.closing()).expect("utf-8"),
    )
}

fn retrieve_request(unique_id: &str) -> Vec<u8> {
    let body = Body::Retrieve(wire::RetrieveDocumentSetRequest {
        requests: vec![wire::DocumentRequest {
            home_community_id: None,
            repository_unique_id: Some(REPOSITORY_ID.to_owned()),
            document_unique_id: Some(unique_id.to_owned()),
        }],
    });
    envelope(Transaction::Iti43, &body).into_bytes()
}

fn success(status: u16, answer: &[u8]) -> bool {
    status == 200
        && memchr_find(answer, b"ResponseStatusType:Success")
        && !memchr_find(answer, b"RegistryError ")
}

fn memchr_find(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

/// Pseudo-random printable bytes.
fn filler(seed: u64, size: usize) -> Vec<u8> {
    let mut rng = Rng(seed | 1);
    (0..size)
        .map(|_| b'a' + (rng.next_u64() % 26) as u8)
        .collect()
}

fn main() {
    let args = parse_args();
    let repository_binary = PathBuf::from(env!("CARGO_BIN_EXE_xds-repository"));
    let registry_binary = registry_binary(&repository_binary);
    let registry_dir = TempDir::new("bench-registry");
    let repository_dir = TempDir::new("bench-repository");
    let patient = support::patient(1);
    support::patient_add(
        &registry_binary,
        registry_dir.path(),
        &[&patient.to_string()],
    );
    let registry_data = registry_dir.path().to_str().unwrap().to_owned();
    let registry = Daemon::start(
        &registry_binary,
        &[
            "serve",
            "--insecure",
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            &registry_data,
        ],
    );
    let config = repository_dir.path().join("repository.toml");
    std::fs::write(
        &config,
        "[server]\nnoop_path = \"/noop\"\nnoop_document_kib = 1024\n",
    )
    .unwrap();
    let repository_data = repository_dir.path().join("data");
    let registry_url = format!("http://{}/xds/registry", registry.address);
    let repository_arguments = [
        "serve",
        "--insecure",
        "--listen",
        "127.0.0.1:0",
        "--data-dir",
        repository_data.to_str().unwrap(),
        "--registry-url",
        &registry_url,
        "--repository-id",
        REPOSITORY_ID,
        "--config",
        config.to_str().unwrap(),
    ];
    let repository = Daemon::start(&repository_binary, &repository_arguments);
    println!(
        "xds-repository benchmark: {} clients, {} s per phase, {} cores",
        args.clients,
        args.seconds,
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );

    // 1. ITI-41, 10 KB documents.
    let (content_type, head, tail) = provide_template(&patient);
    let document = String::from_utf8(filler(7, 10 * 1024)).unwrap();
    let next = Arc::new(std::sync::atomic::AtomicU64::new(1));
    let template = Arc::new((content_type, format!("{head}{document}{tail}")));
    let provide: Operation = {
        let (template, next) = (Arc::clone(&template), Arc::clone(&next));
        Arc::new(move |client: &mut Client, _rng: &mut Rng| {
            let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let body = template
                .1
                .replace(SET_PLACEHOLDER, &unique("1.2.250.1.999.8.", n))
                .replace(DOC_PLACEHOLDER, &unique("1.2.250.1.999.9.", n));
            let (status, answer) = client.post_typed(PATH, &template.0, body.as_bytes());
            assert!(
                success(status, &answer),
                "ITI-41 failed: {}",
                String::from_utf8_lossy(&answer)
            );
        })
    };
    let (repository_cpu, registry_cpu) = (cpu_micros(repository.pid()), cpu_micros(registry.pid()));
    let submissions = load(repository.address, args.clients, args.seconds, provide);
    let repository_cpu = cpu_micros(repository.pid()) - repository_cpu;
    let registry_cpu = cpu_micros(registry.pid()) - registry_cpu;
    println!(
        "ITI-41 10 KB, durable end to end: {:.0} submissions/s (goal >= 800), p50 {:.2} ms, p99 {:.2} ms; CPU per submission: repository {:.0} µs, registry {:.0} µs",
        submissions.rate(),
        ms(submissions.percentile(0.5)),
        ms(submissions.percentile(0.99)),
        repository_cpu as f64 / submissions.operations.max(1) as f64,
        registry_cpu as f64 / submissions.operations.max(1) as f64,
    );

    // 2. ITI-43, 1 MiB documents, against the in-memory floor.
    let (content_type, head, tail) = provide_template(&patient);
    let mut client = Client::connect(repository.address);
    let first = next.fetch_add(args.documents, std::sync::atomic::Ordering::Relaxed);
    let stored: Vec<String> = (first..first + args.documents)
        .map(|n| {
            let document = String::from_utf8(filler(n, 1 << 20)).unwrap();
            let body = format!("{head}{document}{tail}")
                .replace(SET_PLACEHOLDER, &unique("1.2.250.1.999.8.", n))
                .replace(DOC_PLACEHOLDER, &unique("1.2.250.1.999.9.", n));
            let (status, answer) = client.post_typed(PATH, &content_type, body.as_bytes());
            assert!(success(status, &answer), "storing failed");
            unique("1.2.250.1.999.9.", n)
        })
        .collect();
    let requests = Arc::new(
        stored
            .iter()
            .map(|id| retrieve_request(id))
            .collect::<Vec<_>>(),
    );
    let retrieve: Operation = {
        let requests = Arc::clone(&requests);
        Arc::new(move |client: &mut Client, rng: &mut Rng| {
            let request = &requests[rng.below(requests.len() as u64) as usize];
            let (status, answer) = client.post(PATH, request);
            assert!(status == 200 && answer.len() > 1 << 20, "ITI-43 failed");
        })
    };
    let floor: Operation = {
        let requests = Arc::clone(&requests);
        Arc::new(move |client: &mut Client, rng: &mut Rng| {
            let request = &requests[rng.below(requests.len() as u64) as usize];
            let (status, answer) = client.post("/noop", request);
            assert!(status == 200 && answer.len() > 1 << 20, "floor failed");
        })
    };
    let cpu = cpu_micros(repository.pid());
    let retrieved = load(repository.address, args.clients, args.seconds, retrieve);
    let retrieve_cpu = cpu_micros(repository.pid()) - cpu;
    let cpu = cpu_micros(repository.pid());
    let floored = load(repository.address, args.clients, args.seconds, floor);
    let floor_cpu = cpu_micros(repository.pid()) - cpu;
    let mib = |load: &xds_conformance::load::Load| load.rate() * 1.0;
    println!(
        "ITI-43 1 MiB from storage: {:.0} MiB/s, p50 {:.2} ms, p99 {:.2} ms, {:.0} µs CPU per retrieve",
        mib(&retrieved),
        ms(retrieved.percentile(0.5)),
        ms(retrieved.percentile(0.99)),
        retrieve_cpu as f64 / retrieved.operations.max(1) as f64,
    );
    println!(
        "floor, 1 MiB from memory (same server): {:.0} MiB/s, p50 {:.2} ms, {:.0} µs CPU per answer",
        mib(&floored),
        ms(floored.percentile(0.5)),
        floor_cpu as f64 / floored.operations.max(1) as f64,
    );
    println!(
        "ITI-43 / floor: {:.2} (goal >= 0.5)",
        mib(&retrieved) / mib(&floored).max(f64::MIN_POSITIVE)
    );
    println!(
        "repository RSS after the load: {:.0} MiB",
        rss_mib(repository.pid())
    );
    drop(repository);

    // 3. One large document through a fresh repository process.
    let repository = Daemon::start(&repository_binary, &repository_arguments);
    std::thread::sleep(Duration::from_millis(500));
    let baseline = rss_mib(repository.pid());
    let size = args.large_mib << 20;
    let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let (content_type, head, tail) = provide_template(&patient);
    let head = head
        .replace(SET_PLACEHOLDER, &unique("1.2.250.1.999.8.", n))
        .replace(DOC_PLACEHOLDER, &unique("1.2.250.1.999.9.", n));
    let started = Instant::now();
    let sent_hash = upload(repository.address, &content_type, &head, &tail, size);
    let upload_seconds = started.elapsed().as_secs_f64();
    let after_upload = peak_rss_mib(repository.pid());
    let started = Instant::now();
    let (received, received_hash) = download(
        repository.address,
        &retrieve_request(&unique("1.2.250.1.999.9.", n)),
    );
    let download_seconds = started.elapsed().as_secs_f64();
    assert_eq!(received, size, "downloaded size");
    assert_eq!(received_hash, sent_hash, "downloaded bytes differ");
    let peak = peak_rss_mib(repository.pid());
    println!(
        "{} MiB document: upload {:.0} MiB/s, download {:.0} MiB/s (content verified by SHA-1)",
        args.large_mib,
        args.large_mib as f64 / upload_seconds,
        args.large_mib as f64 / download_seconds,
    );
    println!(
        "repository RSS: baseline {baseline:.0} MiB, peak after upload {after_upload:.0} MiB, peak after download {peak:.0} MiB: growth {:.0} MiB (goal <= 64)",
        peak - baseline
    );
}

/// Streams one MTOM ITI-41 request with a generated document of `size` bytes; returns its
/// SHA-1.
fn upload(address: SocketAddr, content_type: &str, head: &str, tail: &str, size: u64) -> [u8; 20] {
    let mut stream = TcpStream::connect(address).expect("connect");
    let length = head.len() as u64 + size + tail.len() as u64;
    write!(
        stream,
        "POST {PATH} HTTP/1.1\r\nHost: {address}\r\nContent-Type: {content_type}\r\nContent-Length: {length}\r\nConnection: close\r\n\r\n"
    )
    .expect("head");
    stream.write_all(head.as_bytes()).expect("envelope");
    let mut digest = Sha1::new();
    let block = filler(99, 1 << 20);
    let mut left = size;
    let mut index = 0u8;
    while left > 0 {
        let mut chunk = block.clone();
        chunk[0] = b'a' + index % 26;
        index = index.wrapping_add(1);
        let count = left.min(chunk.len() as u64) as usize;
        digest.update(&chunk[..count]);
        stream.write_all(&chunk[..count]).expect("document");
        left -= count as u64;
    }
    stream.write_all(tail.as_bytes()).expect("closing");
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).expect("answer");
    assert!(
        memchr_find(&answer, b"ResponseStatusType:Success"),
        "large upload failed: {}",
        String::from_utf8_lossy(&answer[..answer.len().min(2000)])
    );
    digest.finalize().into()
}

/// Retrieves one document, streaming its MIME part through SHA-1: (size, SHA-1).
fn download(address: SocketAddr, request: &[u8]) -> (u64, [u8; 20]) {
    let mut stream = TcpStream::connect(address).expect("connect");
    write!(
        stream,
        "POST {PATH} HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/soap+xml; charset=UTF-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        request.len()
    )
    .expect("head");
    stream.write_all(request).expect("body");
    let mut reader = BufReader::with_capacity(1 << 16, stream);
    let mut content_type = String::new();
    loop {
        let mut line = String::new();
        std::io::BufRead::read_line(&mut reader, &mut line).expect("header");
        if line == "\r\n" || line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-type")
        {
            content_type = value.trim().to_owned();
        }
    }
    let parsed = ContentType::parse(&content_type).expect("content type");
    let boundary = parsed.param("boundary").expect("boundary").to_owned();
    let mut parts = MultipartReader::new(reader, &boundary, 10, 16 * 1024, u64::MAX).expect("mime");
    let mut index = 0;
    let mut result = (0, [0u8; 20]);
    while parts.next_part().expect("part").is_some() {
        let mut digest = Sha1::new();
        let mut size = 0u64;
        let mut buffer = vec![0u8; 1 << 16];
        let mut body = parts.body();
        loop {
            let count = body.read(&mut buffer).expect("read part");
            if count == 0 {
                break;
            }
            digest.update(&buffer[..count]);
            size += count as u64;
        }
        if index == 1 {
            result = (size, digest.finalize().into());
        }
        index += 1;
    }
    result
}
