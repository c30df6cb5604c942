//! Test support for the daemons' tests and the harness's own suites: runs a daemon binary on
//! loopback with a fresh data directory, talks to it with a minimal HTTP/1.1 client, and builds
//! canonical valid submissions from the model that tests then mutate.
//!
//! Everything here panics on failure: it is for tests, where a panic is the failure report.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use xds::error::RegistryResponse;
use xds::model::*;
use xds::transaction::Transaction;
use xds::transform::{self, Options};
use xds::wire::{self, Body, Header, MemorySink, OutContent};

/// A fresh directory under the target directory, removed on drop.
#[derive(Debug)]
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(name: &str) -> Self {
        let mut random = [0u8; 8];
        getrandom::fill(&mut random).expect("random");
        let dir = std::env::temp_dir().join(format!(
            "xds-test-{name}-{}",
            random
                .iter()
                .map(|byte| format!("{byte:02x}"))
                .collect::<String>()
        ));
        std::fs::create_dir_all(&dir).expect("create temp dir");
        Self(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Where a daemon's log goes.
#[derive(Debug, Clone, Copy)]
pub struct Output<'a> {
    /// `XDS_LOG`.
    pub log_level: &'a str,
    /// Standard error to this file instead of the caller's.
    pub stderr: Option<&'a Path>,
    /// Start with `--insecure` (plain listeners); without it the configuration (`--config`
    /// in the extra arguments) names the TLS files.
    pub insecure: bool,
}

impl Default for Output<'_> {
    fn default() -> Self {
        Self {
            log_level: "warn",
            stderr: None,
            insecure: true,
        }
    }
}

/// Our DMP-conformant ITI-42 submission (`profiles/samples/dmp-register.xml`) as metadata.
pub fn dmp_sample() -> Metadata {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../profiles/samples/dmp-register.xml");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    let body = wire::decode_body_xml(
        text.as_bytes(),
        &wire::Limits::default(),
        &mut MemorySink::default(),
    )
    .expect("the DMP sample decodes");
    let Body::SubmitObjects(request) = body else {
        panic!("the DMP sample is not a SubmitObjectsRequest");
    };
    transform::submit_objects_from_wire(&request, Options::REGISTRY)
        .expect("the DMP sample maps to the model")
}

/// The shared folder's ANS value sets (the fr-dmp profile's test data).
pub fn dmp_valuesets() -> PathBuf {
    crate::testkit::require_shared_dir().join("profiles-data/dmp/valuesets")
}

/// Writes `DIR/registry-fr-dmp.toml`: the development registry configuration (any assigning
/// authority, test INS) with the fr-dmp profile over the shared value sets; returns its path.
pub fn fr_dmp_registry_config(dir: &Path) -> PathBuf {
    let mut text = std::fs::read_to_string(registry_dev_config()).expect("dev config");
    text.push_str(&format!(
        "\n[profile]\nname = \"fr-dmp\"\nvaluesets = {:?}\n",
        dmp_valuesets().display().to_string()
    ));
    let path = dir.join("registry-fr-dmp.toml");
    std::fs::write(&path, text).expect("write the configuration");
    path
}

/// A fresh test PKI (`pki init`) in `DIR/pki`; returns its folder.
pub fn test_pki(dir: &Path) -> PathBuf {
    let pki = dir.join("pki");
    crate::pki::init(&pki).unwrap_or_else(|error| panic!("test PKI: {error}"));
    pki
}

/// The subject DN of the repository certificate of the test PKI (the registry's forwarder).
pub const REPOSITORY_DN: &str = "CN=xds-repository,O=XDS TEST PKI,C=FR";

/// Appends `[tls]` (the PKI's `DAEMON.pem`, its CA and CRL) and `[trust]` (the repository as
/// forwarder, plus `trust_extra` lines) to the configuration `base`, written as `path`.
pub fn secure_config(
    base: &str,
    pki: &Path,
    daemon: &str,
    trust_extra: &str,
    path: &Path,
) -> PathBuf {
    let file = |name: &str| format!("{:?}", pki.join(name).display().to_string());
    let text = format!(
        "{base}\n[tls]\ncertificate = {}\nprivate_key = {}\ntrust_anchors = {}\ncrls = [{}]\n\n[trust]\nforwarders = [{REPOSITORY_DN:?}]\n{trust_extra}\n",
        file(&format!("{daemon}.pem")),
        file(&format!("{daemon}.key")),
        file("ca.pem"),
        file("ca.crl"),
    );
    std::fs::write(path, text).expect("write the configuration");
    path.to_owned()
}

/// Copies the files of `from` (not its subfolders) into `to`, which must exist.
pub fn copy_files(from: &Path, to: &Path) {
    for entry in
        std::fs::read_dir(from).unwrap_or_else(|error| panic!("{}: {error}", from.display()))
    {
        let path = entry.expect("folder entry").path();
        if path.is_file() {
            std::fs::copy(&path, to.join(path.file_name().expect("file name"))).expect("copy");
        }
    }
}

/// A running daemon; killed on drop.
#[derive(Debug)]
pub struct Daemon {
    pub child: Child,
    /// The SOAP listener.
    pub address: SocketAddr,
    /// Every listener the daemon announced, with its protocol (`soap`, `mllp`, ...).
    pub listeners: Vec<(String, SocketAddr)>,
}

/// The registry configuration of development and test platforms (every assigning authority,
/// test and demo INS accepted). Daemons started here get it through `XDS_REGISTRY_CONFIG`
/// unless a test passes its own `--config`.
pub fn registry_dev_config() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../registry/registry.dev.toml")
}

impl Daemon {
    /// Starts `BINARY serve --insecure --listen 127.0.0.1:0 --data-dir DIR [extra]` and waits
    /// for its `listening on ADDR (PROTO)` lines: the SOAP one, and one per other
    /// `--*-listen` flag in `extra`.
    pub fn start(binary: &Path, data_dir: &Path, extra: &[&str]) -> Self {
        Self::start_on(binary, "127.0.0.1:0", data_dir, extra)
    }

    /// Like [`Daemon::start`], listening on `listen`.
    pub fn start_on(binary: &Path, listen: &str, data_dir: &Path, extra: &[&str]) -> Self {
        Self::spawn(binary, listen, data_dir, extra, &Output::default())
    }

    /// Like [`Daemon::start`], with its log level and standard error chosen.
    pub fn spawn(
        binary: &Path,
        listen: &str,
        data_dir: &Path,
        extra: &[&str],
        output: &Output<'_>,
    ) -> Self {
        let stderr = match output.stderr {
            Some(path) => Stdio::from(std::fs::File::create(path).expect("log file")),
            None => Stdio::inherit(),
        };
        let mut command = Command::new(binary);
        command.arg("serve");
        if output.insecure {
            command.arg("--insecure");
        }
        let mut child = command
            .args(["--listen", listen, "--data-dir"])
            .arg(data_dir)
            .args(extra)
            .env("XDS_LOG", output.log_level)
            .env("XDS_REGISTRY_CONFIG", registry_dev_config())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .unwrap_or_else(|error| panic!("start {}: {error}", binary.display()));
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let expected = 1 + extra
            .iter()
            .filter(|arg| arg.starts_with("--") && arg.ends_with("-listen"))
            .count();
        let mut listeners = Vec::new();
        while listeners.len() < expected {
            let line = match lines.next() {
                Some(Ok(line)) => line,
                _ => panic!("{} ended before announcing its listeners", binary.display()),
            };
            let (address, protocol) = line
                .strip_prefix("listening on ")
                .and_then(|rest| rest.strip_suffix(')'))
                .and_then(|rest| rest.split_once(" ("))
                .unwrap_or_else(|| panic!("unexpected line {line:?}"));
            listeners.push((protocol.to_owned(), address.parse().expect("address")));
        }
        let address = listeners
            .iter()
            .find(|(protocol, _)| protocol == "soap")
            .map(|(_, address)| *address)
            .expect("a SOAP listener");
        // Keep draining stdout so the daemon never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Self {
            child,
            address,
            listeners,
        }
    }

    /// The address of the listener of one protocol.
    pub fn listener(&self, protocol: &str) -> Option<SocketAddr> {
        self.listeners
            .iter()
            .find(|(name, _)| name == protocol)
            .map(|(_, address)| *address)
    }

    /// SIGKILL, no chance to clean up.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM and wait for a clean exit.
    pub fn stop(mut self) -> std::process::ExitStatus {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        self.child.wait().expect("wait")
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `BINARY patient add ID... --data-dir DIR` (the registry's offline command).
pub fn patient_add(binary: &Path, data_dir: &Path, ids: &[&str]) {
    let mut args = vec!["patient", "add"];
    args.extend_from_slice(ids);
    offline(binary, data_dir, &args);
}

/// Runs one offline command of the registry (`BINARY ARGS... --data-dir DIR`, development
/// configuration); panics unless it succeeds.
pub fn offline(binary: &Path, data_dir: &Path, args: &[&str]) {
    let output = Command::new(binary)
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .env("XDS_LOG", "warn")
        .env("XDS_REGISTRY_CONFIG", registry_dev_config())
        .output()
        .unwrap_or_else(|error| panic!("run {} {args:?}: {error}", binary.display()));
    assert!(
        output.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Runs `BINARY dmp open ID --data-dir DIR` for each id (the registry's offline DMP command;
/// a new id is registered).
pub fn dmp_open(binary: &Path, data_dir: &Path, ids: &[&str]) {
    for id in ids {
        dmp_command(binary, data_dir, &["open", id]);
    }
}

/// Runs `BINARY dmp ARGS... --data-dir DIR`; panics unless it succeeds.
pub fn dmp_command(binary: &Path, data_dir: &Path, args: &[&str]) {
    let mut all = vec!["dmp"];
    all.extend_from_slice(args);
    offline(binary, data_dir, &all);
}

/// The namespace of the registry's DMP management operations.
pub const ACCESS_NS: &str = "urn:xds:dmp:access:2026";

/// The envelope of a registry management operation (`getAccessHistory`, `manageDmp`, ...) with
/// its fields, and the assertion when given.
pub fn management_envelope(
    operation: &str,
    fields: &[(&str, &str)],
    assertion: Option<&str>,
) -> Vec<u8> {
    let mut xml = format!("<a:{operation} xmlns:a=\"{ACCESS_NS}\">");
    for (name, value) in fields {
        let value = value.replace('&', "&amp;").replace('<', "&lt;");
        xml.push_str(&format!("<a:{name}>{value}</a:{name}>"));
    }
    xml.push_str(&format!("</a:{operation}>"));
    let header = Header {
        action: Some(format!("{ACCESS_NS}:{operation}")),
        message_id: Some("urn:uuid:0c1d2e3f-4a5b-4c6d-8e7f-8091a2b3c4d5".to_owned()),
        security: assertion.map(|assertion| wire::RawXml {
            xml: crate::pki::security_header(assertion),
            namespaces: Vec::new(),
        }),
        ..Header::default()
    };
    let body = Body::Extension(wire::RawXml {
        xml,
        namespaces: Vec::new(),
    });
    wire::write_envelope(&header, &body).into_bytes()
}

/// The `<a:access .../>` entries of an access-history answer, and its `next` cursor.
pub fn history_entries(answer: &str) -> (Vec<String>, Option<String>) {
    let entries = answer
        .split("<a:access ")
        .skip(1)
        .map(|entry| entry.split("/>").next().unwrap_or(entry).to_owned())
        .collect();
    let next = answer
        .split("next=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .map(str::to_owned);
    (entries, next)
}

/// Every access-history entry of `patient` over plain HTTP (a registry without the DMP policy),
/// newest first, paging through.
pub fn whole_history(address: SocketAddr, path: &str, patient: &str) -> Vec<String> {
    let mut all = Vec::new();
    let mut before: Option<String> = None;
    loop {
        let mut fields = vec![("patient", patient), ("limit", "500")];
        if let Some(before) = &before {
            fields.push(("before", before.as_str()));
        }
        let answer = post(
            address,
            path,
            SOAP,
            &management_envelope("getAccessHistory", &fields, None),
        );
        let text = answer.text();
        assert!(text.contains("status=\"OK\""), "{text}");
        let (entries, next) = history_entries(&text);
        all.extend(entries);
        match next {
            Some(next) => before = Some(next),
            None => return all,
        }
    }
}

/// An HTTP answer.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub content_type: String,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// POSTs a body and reads the whole answer (Content-Length framing, one request per
/// connection).
pub fn post(address: SocketAddr, path: &str, content_type: &str, body: &[u8]) -> Answer {
    request(address, "POST", path, content_type, body)
}

pub fn request(
    address: SocketAddr,
    method: &str,
    path: &str,
    content_type: &str,
    body: &[u8],
) -> Answer {
    try_request(address, method, path, content_type, body)
        .unwrap_or_else(|error| panic!("{method} {path} at {address}: {error}"))
}

/// POSTs a body; a transport failure (daemon down, connection cut) is an `Err`.
pub fn try_post(
    address: SocketAddr,
    path: &str,
    content_type: &str,
    body: &[u8],
) -> Result<Answer, String> {
    try_request(address, "POST", path, content_type, body)
}

/// One request on its own connection; the whole answer is read (Connection: close).
pub fn try_request(
    address: SocketAddr,
    method: &str,
    path: &str,
    content_type: &str,
    body: &[u8],
) -> Result<Answer, String> {
    let failed = |what: &str, error: std::io::Error| format!("{what}: {error}");
    let mut stream = TcpStream::connect_timeout(&address, Duration::from_secs(5))
        .map_err(|error| failed("connect", error))?;
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .map_err(|error| failed("set timeout", error))?;
    exchange(&mut stream, address, method, path, content_type, body)
}

/// A TLS client identity for [`tls_post`]: the PKI folder and the certificate's file stem
/// (None: no client certificate).
#[derive(Debug, Clone, Copy)]
pub struct TlsClient<'a> {
    pub pki: &'a Path,
    pub certificate: Option<&'a str>,
}

/// The rustls configuration of a test client: trusts the PKI's CA, presents the chosen
/// certificate.
pub fn tls_client_config(client: TlsClient<'_>) -> Result<rustls::ClientConfig, String> {
    let certificate = client.certificate.map(|name| {
        (
            client.pki.join(format!("{name}.pem")),
            client.pki.join(format!("{name}.key")),
        )
    });
    xds::net::tls::client_config(
        certificate
            .as_ref()
            .map(|(chain, key)| (chain.as_path(), key.as_path())),
        &client.pki.join("ca.pem"),
    )
    .map_err(|error| error.to_string())
}

/// A TLS connection to `address` as `client` (the handshake happens on first use).
pub fn tls_connect(
    address: SocketAddr,
    client: TlsClient<'_>,
) -> Result<rustls::StreamOwned<rustls::ClientConnection, TcpStream>, String> {
    let config = tls_client_config(client)?;
    let server_name = rustls::pki_types::ServerName::IpAddress(address.ip().into());
    let connection = rustls::ClientConnection::new(std::sync::Arc::new(config), server_name)
        .map_err(|error| error.to_string())?;
    let socket = TcpStream::connect_timeout(&address, Duration::from_secs(5))
        .map_err(|error| format!("connect: {error}"))?;
    socket
        .set_read_timeout(Some(Duration::from_secs(60)))
        .map_err(|error| format!("set timeout: {error}"))?;
    Ok(rustls::StreamOwned::new(connection, socket))
}

/// POSTs over TLS (trusting the PKI's CA, presenting the chosen certificate), one request
/// per connection.
pub fn tls_post(
    address: SocketAddr,
    client: TlsClient<'_>,
    path: &str,
    content_type: &str,
    body: &[u8],
) -> Result<Answer, String> {
    let mut stream = tls_connect(address, client)?;
    exchange(&mut stream, address, "POST", path, content_type, body)
}

/// One bodiless request over TLS (admin endpoints), one request per connection.
pub fn tls_request(
    address: SocketAddr,
    client: TlsClient<'_>,
    method: &str,
    path: &str,
) -> Result<Answer, String> {
    let mut stream = tls_connect(address, client)?;
    exchange(&mut stream, address, method, path, "text/plain", b"")
}

/// Completes a TLS handshake and waits up to two seconds for the server to refuse it (with
/// TLS 1.3 the server judges the client certificate after the client has finished): the
/// alert received, or `Ok` when the server kept the connection.
pub fn tls_handshake(address: SocketAddr, client: TlsClient<'_>) -> Result<(), String> {
    let mut stream = tls_connect(address, client)?;
    while stream.conn.is_handshaking() {
        stream
            .conn
            .complete_io(&mut stream.sock)
            .map_err(|error| error.to_string())?;
    }
    stream
        .sock
        .set_read_timeout(Some(Duration::from_secs(2)))
        .map_err(|error| error.to_string())?;
    loop {
        match stream.conn.read_tls(&mut stream.sock) {
            Ok(0) => return Err("closed without an alert".to_owned()),
            Ok(_) => stream
                .conn
                .process_new_packets()
                .map(|_| ())
                .map_err(|error| error.to_string())?,
            Err(error)
                if matches!(
                    error.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return Ok(());
            }
            Err(error) => return Err(error.to_string()),
        }
    }
}

fn exchange(
    stream: &mut (impl Read + Write),
    address: SocketAddr,
    method: &str,
    path: &str,
    content_type: &str,
    body: &[u8],
) -> Result<Answer, String> {
    let failed = |what: &str, error: std::io::Error| format!("{what}: {error}");
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream
        .write_all(head.as_bytes())
        .and_then(|()| stream.write_all(body))
        .and_then(|()| stream.flush())
        .map_err(|error| failed("send", error))?;
    let mut raw = Vec::new();
    if let Err(error) = stream.read_to_end(&mut raw) {
        // A TLS peer may close without close_notify once the answer is whole.
        if raw.is_empty() || error.kind() != std::io::ErrorKind::UnexpectedEof {
            return Err(failed("receive", error));
        }
    }
    let split = raw
        .windows(4)
        .position(|window| window == b"\r\n\r\n")
        .ok_or("the answer has no header end")?;
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|line| line.split(' ').nth(1))
        .and_then(|code| code.parse().ok())
        .ok_or("the answer has no status")?;
    let mut content_type = String::new();
    let mut length = None;
    for line in lines {
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("content-type") {
                content_type = value.trim().to_owned();
            } else if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse::<usize>().ok();
            }
        }
    }
    let body = raw[split + 4..].to_vec();
    if let Some(length) = length
        && body.len() != length
    {
        return Err(format!(
            "the answer was cut: {} of {length} bytes",
            body.len()
        ));
    }
    Ok(Answer {
        status,
        content_type,
        body,
    })
}

/// A SOAP request carrying `assertion` (a VIHF, `pki::sign_vihf`) in its WS-Security header.
pub fn envelope_with_assertion(
    transaction: Transaction,
    body: &Body<OutContent>,
    assertion: Option<&str>,
) -> Vec<u8> {
    let header = Header {
        action: Some(transaction.action().to_owned()),
        message_id: Some("urn:uuid:6f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9".to_owned()),
        security: assertion.map(|assertion| wire::RawXml {
            xml: crate::pki::security_header(assertion),
            namespaces: Vec::new(),
        }),
        ..Header::default()
    };
    wire::write_envelope(&header, body).into_bytes()
}

pub fn envelope(transaction: Transaction, body: &Body<OutContent>) -> String {
    let header = Header {
        action: Some(transaction.action().to_owned()),
        message_id: Some("urn:uuid:0b4f5c5e-1d1f-4d5b-8f7e-1a2b3c4d5e6f".to_owned()),
        ..Header::default()
    };
    wire::write_envelope(&header, body)
}

pub const SOAP: &str = "application/soap+xml; charset=UTF-8";

/// Decodes a SOAP answer's body.
pub fn answer_body(answer: &Answer) -> Body<Vec<u8>> {
    let mut sink = MemorySink::default();
    let decoded = wire::decode_message(
        &answer.content_type,
        &answer.body[..],
        &wire::Limits::default(),
        &mut sink,
    )
    .unwrap_or_else(|error| panic!("undecodable answer ({error}): {}", answer.text()));
    decoded
        .envelope
        .body
        .try_map_content(|attachment| Ok::<_, ()>(attachment.handle))
        .expect("content")
}

/// POSTs `body` in a SOAP 1.2 envelope with the transaction's action; asserts HTTP 200.
pub fn post_soap(
    address: SocketAddr,
    path: &str,
    transaction: Transaction,
    body: &Body<OutContent>,
) -> Answer {
    let answer = post(address, path, SOAP, envelope(transaction, body).as_bytes());
    assert_eq!(answer.status, 200, "{}", answer.text());
    answer
}

/// The RegistryResponse of an answer, in model terms.
pub fn registry_response(answer: &Answer) -> RegistryResponse {
    match answer_body(answer) {
        Body::RegistryResponse(response) => {
            transform::registry_response_from_wire(&response).expect("valid RegistryResponse")
        }
        other => panic!(
            "unexpected answer {}: {}",
            other.element_name(),
            answer.text()
        ),
    }
}

/// ITI-42 over SOAP to `address` and `path`.
pub fn register(address: SocketAddr, path: &str, metadata: &Metadata) -> RegistryResponse {
    let body = Body::SubmitObjects(transform::submit_objects_to_wire(metadata));
    registry_response(&post_soap(address, path, Transaction::Iti42, &body))
}

/// ITI-57 Update Document Set over SOAP to `address` and `path`.
pub fn update(address: SocketAddr, path: &str, metadata: &Metadata) -> RegistryResponse {
    let body = Body::SubmitObjects(transform::submit_objects_to_wire(metadata));
    registry_response(&post_soap(address, path, Transaction::Iti57, &body))
}

/// ITI-62 Remove Metadata over SOAP to `address` and `path`.
pub fn remove_metadata(address: SocketAddr, path: &str, uuids: &[Uuid]) -> RegistryResponse {
    let body = Body::RemoveObjects(transform::remove_metadata_to_wire(&RemoveMetadata {
        object_refs: uuids.to_vec(),
    }));
    registry_response(&post_soap(address, path, Transaction::Iti62, &body))
}

/// ITI-18 over SOAP to `address` and `path`.
pub fn query(address: SocketAddr, path: &str, request: &StoredQueryRequest) -> QueryResponse {
    let body = Body::AdhocQuery(transform::stored_query_to_wire(request));
    match answer_body(&post_soap(address, path, Transaction::Iti18, &body)) {
        Body::AdhocQueryResponse(response) => {
            transform::query_response_from_wire(&response, Options::REGISTRY)
                .expect("valid query response")
        }
        other => panic!("unexpected answer {}", other.element_name()),
    }
}

pub fn oid(text: &str) -> Oid {
    Oid::parse(text).expect("OID")
}

/// A patient id in the CX form XDS requires: a test INS-NIR with a valid key.
pub fn patient(number: u32) -> Cx {
    Ins::test_nir(u64::from(number)).to_cx()
}

pub fn code(code: &str, scheme: &str) -> Code {
    Code::new(code, scheme, code)
}

/// A DocumentEntry with what a registry requires.
pub fn entry(symbol: &str, unique_id: &str, patient: &Cx) -> DocumentEntry {
    let mut entry = DocumentEntry::new(ObjectId::Symbolic(symbol.to_owned()));
    entry.object_type = Some(DocumentEntryType::Stable);
    entry.mime_type = Some("text/plain".to_owned());
    entry.title = vec![LocalizedString::new("Compte rendu")];
    entry.authors = vec![Author {
        person: Some(
            Xcn::parse("801234567890^DURANT^Romuald^^^^^^&1.2.250.1.71.4.2.1&ISO").expect("XCN"),
        ),
        ..Author::default()
    }];
    entry.class_code = Some(code("11488-4", "2.16.840.1.113883.6.1"));
    entry.confidentiality_codes = vec![code("N", "2.16.840.1.113883.5.25")];
    entry.event_codes = vec![code("T-D3000", "SNM3")];
    entry.format_code = Some(code(
        "urn:ihe:iti:xds:2017:mimeTypeSufficient",
        "1.3.6.1.4.1.19376.1.2.3",
    ));
    entry.healthcare_facility_type_code = Some(code("HCFT-OUT", "2.999.40.1"));
    entry.practice_setting_code = Some(code("PS-GEN", "2.999.40.2"));
    entry.type_code = Some(code("11488-4", "2.16.840.1.113883.6.1"));
    entry.creation_time = Some(Dtm::parse("20240315093000").expect("DTM"));
    entry.service_start_time = Some(Dtm::parse("202403150800").expect("DTM"));
    entry.hash = Sha1Hash::parse_hex("d3016d8d6c49163839f7535431760bf65e74560b");
    entry.size = Some(43);
    entry.language_code = Some("fr-FR".to_owned());
    entry.patient_id = Some(patient.clone());
    entry.source_patient_id = Some(Cx::new("IPP-77", &Hd::iso(&oid("1.2.250.1.999.1"))));
    entry.repository_unique_id = Some(oid("2.999.5.1"));
    entry.unique_id = Some(UniqueId::parse(unique_id).expect("uniqueId"));
    entry
}

pub fn submission_set(unique_id: &str, patient: &Cx) -> SubmissionSet {
    let mut set = SubmissionSet::new(ObjectId::Symbolic("SubmissionSet01".to_owned()));
    set.authors = vec![Author {
        person: Some(Xcn::parse("801234567890^DURANT^Romuald").expect("XCN")),
        ..Author::default()
    }];
    set.content_type_code = Some(code("CT-VISIT", "2.999.40.3"));
    set.patient_id = Some(patient.clone());
    set.source_id = Some(oid("2.999.4.1"));
    set.submission_time = Some(Dtm::parse("20240315092000").expect("DTM"));
    set.unique_id = Some(oid(unique_id));
    set
}

pub fn has_member(
    id: &str,
    source: &str,
    target: ObjectId,
    status: Option<SubmissionSetStatus>,
) -> Association {
    let mut association = Association::new(
        ObjectId::Symbolic(id.to_owned()),
        AssociationType::HasMember,
        ObjectId::Symbolic(source.to_owned()),
        target,
    );
    association.submission_set_status = status;
    association
}

/// An ITI-57 request: `set` and one UpdateAvailabilityStatus per (target, from, to).
pub fn status_update(
    mut set: SubmissionSet,
    changes: &[(Uuid, AvailabilityStatus, AvailabilityStatus)],
) -> Metadata {
    set.entry_uuid = ObjectId::parse("Update01").expect("id");
    let mut metadata = Metadata {
        submission_sets: vec![set],
        ..Metadata::default()
    };
    for (index, (target, from, to)) in changes.iter().enumerate() {
        let mut association = Association::new(
            ObjectId::parse(&format!("uas{index}")).expect("id"),
            AssociationType::UpdateAvailabilityStatus,
            ObjectId::parse("Update01").expect("id"),
            ObjectId::Uuid(*target),
        );
        association.original_status = Some(from.clone());
        association.new_status = Some(to.clone());
        metadata.associations.push(association);
    }
    metadata
}

/// A submission of `entries` DocumentEntries for one patient.
pub fn documents(set_unique_id: &str, patient: &Cx, unique_ids: &[&str]) -> Metadata {
    let mut metadata = Metadata {
        submission_sets: vec![submission_set(set_unique_id, patient)],
        ..Metadata::default()
    };
    for (index, unique_id) in unique_ids.iter().enumerate() {
        let symbol = format!("Doc{index}");
        metadata
            .document_entries
            .push(entry(&symbol, unique_id, patient));
        metadata.associations.push(has_member(
            &format!("hm{index}"),
            "SubmissionSet01",
            ObjectId::Symbolic(symbol),
            Some(SubmissionSetStatus::Original),
        ));
    }
    metadata
}

pub fn approved() -> Vec<AvailabilityStatus> {
    vec![AvailabilityStatus::Approved]
}

pub fn find_documents(patient: &Cx) -> StoredQueryRequest {
    StoredQueryRequest {
        query: StoredQuery::FindDocuments(FindDocumentsQuery::new(patient.clone(), approved())),
        return_type: ReturnType::LeafClass,
        home: None,
        metadata_level: None,
    }
}

pub fn leaf(query: StoredQuery) -> StoredQueryRequest {
    StoredQueryRequest {
        query,
        return_type: ReturnType::LeafClass,
        home: None,
        metadata_level: None,
    }
}

pub fn codes(response: &RegistryResponse) -> Vec<String> {
    response
        .errors
        .iter()
        .map(|error| error.code.to_string())
        .collect()
}

/// Asserts that a response reports each of these error codes.
pub fn assert_includes(response: &RegistryResponse, expected: &[&str]) {
    let found = codes(response);
    for code in expected {
        assert!(
            found.iter().any(|candidate| candidate == code),
            "{code} missing from {found:?}"
        );
    }
}

/// Checks a configuration reference (CONFIGURATION.md): the table under `## {section}` lists
/// every key of `T::default()` (a daemon's `Config` as TOML; empty tables are keys of their
/// own) with that default, in rows `` | `key` | `default` | meaning | ``; keys documented as
/// `unset` (optional, off by default) must be keys `T` accepts. Panics with the rows to add or
/// fix.
pub fn check_configuration_reference<T>(reference: &str, section: &str)
where
    T: Default + serde::Serialize + serde::de::DeserializeOwned,
{
    let defaults = toml::Value::try_from(T::default()).expect("the defaults serialize");
    let defaults = &defaults;
    // A key the parser knows reports a wrong value's type; an unknown one, an unknown field.
    let parse = |key: &str| {
        let (table, field) = key.rsplit_once('.').unwrap_or(("", key));
        match toml::from_str::<T>(&format!("[{table}]\n{field} = -1\n")) {
            Err(error) if error.to_string().contains("unknown field") => Err(error.to_string()),
            _ => Ok(()),
        }
    };
    fn flatten(prefix: &str, value: &toml::Value, out: &mut BTreeMap<String, toml::Value>) {
        match value {
            toml::Value::Table(table) if !table.is_empty() => {
                for (key, value) in table {
                    let path = if prefix.is_empty() {
                        key.clone()
                    } else {
                        format!("{prefix}.{key}")
                    };
                    flatten(&path, value, out);
                }
            }
            other => {
                out.insert(prefix.to_owned(), other.clone());
            }
        }
    }
    let mut expected = BTreeMap::new();
    flatten("", defaults, &mut expected);
    let heading = format!("## {section}");
    let body = reference
        .split_once(&heading)
        .map(|(_, rest)| rest.split("\n## ").next().unwrap_or(""))
        .unwrap_or_else(|| panic!("the reference has no {heading:?} section"));
    let mut documented = BTreeMap::new();
    let mut problems = Vec::new();
    for line in body.lines().filter(|line| line.starts_with("| `")) {
        let cells: Vec<&str> = line.split(" | ").collect();
        let key = cells[0]
            .trim_start_matches("| ")
            .trim_matches('`')
            .to_owned();
        let default = cells
            .get(1)
            .map_or("", |cell| cell.trim().trim_matches('`'));
        if default == "unset" {
            if let Err(error) = parse(&key) {
                problems.push(format!("{key}: documented but not a key ({error})"));
            }
            documented.insert(key, None);
            continue;
        }
        match toml::from_str::<toml::Table>(&format!("v = {default}")) {
            Ok(mut table) => {
                documented.insert(key, table.remove("v"));
            }
            Err(error) => problems.push(format!("{key}: default {default:?} is not TOML: {error}")),
        }
    }
    for (key, value) in &expected {
        match documented.get(key) {
            Some(Some(stated)) if stated == value => {}
            Some(stated) => problems.push(format!(
                "{key}: documented default {stated:?}, actual `{value}`"
            )),
            None => problems.push(format!("| `{key}` | `{value}` | |  (missing)")),
        }
    }
    for (key, stated) in &documented {
        if stated.is_some() && !expected.contains_key(key) {
            problems.push(format!("{key}: documented with a default but not a key"));
        }
    }
    assert!(
        problems.is_empty(),
        "CONFIGURATION.md, {section}:\n{}",
        problems.join("\n")
    );
}
