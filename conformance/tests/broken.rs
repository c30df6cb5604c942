//! The harness fails when the system is wrong: `xds-conformance run` against the real daemons
//! behind a proxy that breaks their answers (a wrong error code, a query result short of one
//! document, a retrieved document with one byte changed) must report those tests as failed,
//! with the reason, and exit non-zero; through a proxy that changes nothing, the same tests
//! pass. The daemon binaries are found in the same target directory (built if missing): the
//! harness never depends on a daemon crate.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use xds_conformance::support::{Daemon, TempDir, patient_add};

const HARNESS: &str = env!("CARGO_BIN_EXE_xds-conformance");
const PATIENT: &str = "NISTREG1^^^&1.3.6.1.4.1.21367.2005.3.7&ISO";

fn binary(name: &str) -> PathBuf {
    let path = Path::new(HARNESS).with_file_name(name);
    if !path.exists() {
        let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned()))
            .args(["build", "-p", name, "--bin", name])
            .status()
            .expect("cargo build");
        assert!(status.success(), "building {name} failed");
    }
    path
}

/// How the proxy breaks answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Breakage {
    Nothing,
    /// Every XDSRepositoryMetadataError becomes XDSRegistryError.
    ErrorCode,
    /// The first DocumentEntry of every query answer is dropped.
    Count,
    /// The first byte of every retrieved document is changed.
    Content,
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

fn replace_all(body: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len());
    let mut rest = body;
    while let Some(at) = find(rest, from) {
        out.extend_from_slice(&rest[..at]);
        out.extend_from_slice(to);
        rest = &rest[at + from.len()..];
    }
    out.extend_from_slice(rest);
    out
}

fn break_body(breakage: Breakage, mut body: Vec<u8>) -> Vec<u8> {
    match breakage {
        Breakage::Nothing => body,
        Breakage::ErrorCode => replace_all(
            &body,
            b"errorCode=\"XDSRepositoryMetadataError\"",
            b"errorCode=\"XDSRegistryError\"",
        ),
        Breakage::Count => {
            if let (Some(start), Some(end)) = (
                find(&body, b"<rim:ExtrinsicObject "),
                find(&body, b"</rim:ExtrinsicObject>"),
            ) && start < end
            {
                body.drain(start..end + b"</rim:ExtrinsicObject>".len());
            }
            body
        }
        Breakage::Content => {
            if let Some(at) = find(&body, b"Content-ID: <document1@xds-repository>\r\n\r\n") {
                let first = at + b"Content-ID: <document1@xds-repository>\r\n\r\n".len();
                if first < body.len() {
                    body[first] ^= 0x20;
                }
            }
            body
        }
    }
}

/// Reads one HTTP message (head and Content-Length body).
fn read_message(stream: &mut TcpStream) -> Option<(String, Vec<u8>)> {
    let mut raw = Vec::new();
    let mut buffer = [0u8; 65536];
    let head_end = loop {
        if let Some(at) = find(&raw, b"\r\n\r\n") {
            break at;
        }
        let count = stream.read(&mut buffer).ok()?;
        if count == 0 {
            return None;
        }
        raw.extend_from_slice(&buffer[..count]);
    };
    let head = String::from_utf8_lossy(&raw[..head_end]).into_owned();
    let length = head
        .lines()
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, value)| value.trim().parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = raw[head_end + 4..].to_vec();
    while body.len() < length {
        let count = stream.read(&mut buffer).ok()?;
        if count == 0 {
            return None;
        }
        body.extend_from_slice(&buffer[..count]);
    }
    Some((head, body))
}

/// Serves one request: forward to `upstream`, break the answer, send it back.
fn proxy_one(mut client: TcpStream, upstream: SocketAddr, breakage: Breakage) -> Option<()> {
    let (head, body) = read_message(&mut client)?;
    let mut server = TcpStream::connect(upstream).ok()?;
    let mut request = Vec::new();
    for line in head.lines() {
        let lower = line.to_ascii_lowercase();
        if lower.starts_with("connection:") {
            continue;
        }
        request.extend_from_slice(line.as_bytes());
        request.extend_from_slice(b"\r\n");
    }
    request.extend_from_slice(b"Connection: close\r\n\r\n");
    request.extend_from_slice(&body);
    server.write_all(&request).ok()?;
    let (answer_head, answer_body) = read_message(&mut server)?;
    let answer_body = break_body(breakage, answer_body);
    let mut answer = Vec::new();
    for line in answer_head.lines() {
        let lower = line.to_ascii_lowercase();
        if lower.starts_with("content-length:") || lower.starts_with("connection:") {
            continue;
        }
        answer.extend_from_slice(line.as_bytes());
        answer.extend_from_slice(b"\r\n");
    }
    answer.extend_from_slice(
        format!(
            "Content-Length: {}\r\nConnection: close\r\n\r\n",
            answer_body.len()
        )
        .as_bytes(),
    );
    answer.extend_from_slice(&answer_body);
    client.write_all(&answer).ok()
}

/// A proxy on loopback in front of `upstream`, until dropped.
struct Proxy {
    address: SocketAddr,
    stop: Arc<AtomicBool>,
}

impl Proxy {
    fn start(upstream: SocketAddr, breakage: Breakage) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        let address = listener.local_addr().expect("proxy address");
        listener.set_nonblocking(true).expect("nonblocking");
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = Arc::clone(&stop);
        std::thread::spawn(move || {
            while !stopping.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((client, _)) => {
                        let _ = client.set_nonblocking(false);
                        std::thread::spawn(move || proxy_one(client, upstream, breakage));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Self { address, stop }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Runs the harness on `tests` of `suite` through proxies that break answers; (exit code,
/// output).
fn run_through(breakage: Breakage, suite: &str, tests: &[&str]) -> (i32, String) {
    let registry_dir = TempDir::new("broken-registry");
    let repository_dir = TempDir::new("broken-repository");
    patient_add(&binary("xds-registry"), registry_dir.path(), &[PATIENT]);
    let registry = Daemon::start(&binary("xds-registry"), registry_dir.path(), &[]);
    let registry_proxy = Proxy::start(registry.address, breakage);
    // The repository registers through the proxy too: the registry's answers reach it broken.
    let registry_url = format!("http://{}/xds/registry", registry_proxy.address);
    let repository = Daemon::start(
        &binary("xds-repository"),
        repository_dir.path(),
        &["--registry-url", &registry_url],
    );
    let repository_proxy = Proxy::start(repository.address, breakage);
    let mut command = Command::new(HARNESS);
    command
        .arg("run")
        .arg("--registry")
        .arg(format!("http://{}/xds/registry", registry_proxy.address))
        .arg("--repository")
        .arg(format!(
            "http://{}/xds/repository",
            repository_proxy.address
        ))
        .args(["--suite", suite]);
    for test in tests {
        command.args(["--test", test]);
    }
    let output = command.output().expect("run the harness");
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    (output.status.code().unwrap_or(-1), text)
}

fn line_of<'a>(output: &'a str, test: &str) -> &'a str {
    output
        .lines()
        .find(|line| line.ends_with(&format!(" {test}")) || line.contains(&format!(" {test} (")))
        .unwrap_or("")
}

#[test]
fn a_conformant_system_passes_through_a_proxy_that_changes_nothing() {
    let (code, output) = run_through(
        Breakage::Nothing,
        "nist-repository",
        &["11966", "11981", "12029"],
    );
    assert_eq!(code, 0, "{output}");
    assert!(output.ends_with("3 passed, 0 failed\n"), "{output}");
}

#[test]
fn a_wrong_error_code_is_reported() {
    let (code, output) = run_through(Breakage::ErrorCode, "nist-repository", &["11981"]);
    assert_eq!(code, 1, "{output}");
    assert!(line_of(&output, "11981").starts_with("FAIL"), "{output}");
    assert!(
        output.contains("error code XDSRepositoryMetadataError expected"),
        "{output}"
    );
    assert!(output.ends_with("0 passed, 1 failed\n"), "{output}");
}

#[test]
fn a_wrong_count_is_reported() {
    let (code, output) = run_through(Breakage::Count, "nist-repository", &["11966"]);
    assert_eq!(code, 1, "{output}");
    assert!(line_of(&output, "11966").starts_with("FAIL"), "{output}");
    assert!(output.contains("eval/eval"), "{output}");
}

#[test]
fn a_corrupted_retrieve_is_reported() {
    let (code, output) = run_through(Breakage::Content, "nist-repository", &["12029"]);
    assert_eq!(code, 1, "{output}");
    assert!(line_of(&output, "12029").starts_with("FAIL"), "{output}");
    assert!(output.contains("retrieve/retrieve"), "{output}");
    assert!(output.contains("SHA-1"), "{output}");
}

/// The feed suite over MLLP: (exit code, output) of a run against a registry started with
/// `registry_args`.
fn run_feed_suite(registry_args: &[&str]) -> (i32, String) {
    let registry_dir = TempDir::new("feed-registry");
    let mut args = vec!["--mllp-listen", "127.0.0.1:0"];
    args.extend_from_slice(registry_args);
    let registry = Daemon::start(&binary("xds-registry"), registry_dir.path(), &args);
    let mllp = registry.listener("mllp").expect("an MLLP listener");
    let output = Command::new(HARNESS)
        .arg("run")
        .arg("--registry")
        .arg(format!("http://{}/xds/registry", registry.address))
        .arg("--mllp")
        .arg(mllp.to_string())
        .args(["--suite", "nist-patient-feed"])
        .output()
        .expect("run the harness");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

#[test]
fn the_feed_suite_feeds_over_mllp_and_reports_a_registry_that_refuses() {
    let (code, output) = run_feed_suite(&[]);
    assert_eq!(code, 0, "{output}");
    assert!(output.ends_with("3 passed, 0 failed\n"), "{output}");

    // A production identity policy takes only INS: the testkit's patients are refused (AE).
    let dir = TempDir::new("feed-production");
    let config = dir.path().join("registry.toml");
    std::fs::write(&config, "[server]\ninsecure = true\n").expect("config");
    let (code, output) = run_feed_suite(&["--config", config.to_str().expect("utf-8")]);
    assert_eq!(code, 1, "{output}");
    let line = line_of(&output, "15817");
    assert!(line.contains("FAIL"), "{output}");
    assert!(output.contains("affinity domain"), "{output}");
}
