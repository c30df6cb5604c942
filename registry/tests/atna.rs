//! ATNA export against a real audit repository: Debian's rsyslog on loopback, receiving the
//! registry's audit records over TLS (RFC 5425 through imtcp's GnuTLS driver) and over RELP
//! with TLS (imrelp). The RELP receiver is stopped and restarted in the middle of a load:
//! every record still arrives, exactly once (ids compared).
//!
//! Needs `rsyslogd` with the relp and gnutls modules (Debian: rsyslog, rsyslog-relp,
//! rsyslog-gnutls; scripts/test installs them).

mod common;

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use xds::model::Cx;
use xds::transaction::Transaction;
use xds::transform;
use xds::wire::Body;

const PATIENT: &str = "1^^^&1.2.3.4.5&ISO";

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("free port")
}

/// One rsyslogd with its own configuration, pid file and output file.
struct Rsyslog {
    config: PathBuf,
    pid_file: PathBuf,
    port: u16,
    child: Option<Child>,
}

impl Rsyslog {
    /// `input`: the input's module and parameters; the received messages are written to
    /// `output`, one line each: the structured data, then the message.
    fn new(dir: &Path, modules: &str, input: &str, output: &Path) -> Self {
        let port = free_port();
        let work = dir.join("rsyslog-work");
        std::fs::create_dir_all(&work).expect("work dir");
        let config = dir.join("rsyslog.conf");
        let global = format!(
            "global(workDirectory={:?} {modules})",
            work.display().to_string()
        );
        let text = format!(
            "{global}\n{}\ntemplate(name=\"audit\" type=\"string\" string=\"%structured-data% %msg%\\n\")\naction(type=\"omfile\" file={:?} template=\"audit\")\n",
            input.replace("PORT", &port.to_string()),
            output.display().to_string()
        );
        std::fs::write(&config, text).expect("rsyslog configuration");
        let mut rsyslog = Self {
            config,
            pid_file: dir.join("rsyslog.pid"),
            port,
            child: None,
        };
        rsyslog.start();
        rsyslog
    }

    fn start(&mut self) {
        let child = Command::new("rsyslogd")
            .arg("-n")
            .arg("-f")
            .arg(&self.config)
            .arg("-i")
            .arg(&self.pid_file)
            .stdout(Stdio::null())
            .spawn()
            .expect("rsyslogd (install rsyslog, rsyslog-relp, rsyslog-gnutls; scripts/test does)");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "rsyslogd did not listen on {}",
                self.port
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops rsyslogd as a service stop does (SIGTERM), and waits for it to exit.
    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            let _ = child.wait();
        }
    }
}

impl Drop for Rsyslog {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A registry on mutual TLS (certificate-only callers accepted) exporting to `atna`.
fn registry(dir: &Path, pki: &Path, atna: &str) -> Daemon {
    let base = format!(
        "[server]\ninsecure = false\n\n[audit]\natna = {atna:?}\nretry_seconds = 1\ntimeout_seconds = 5\n"
    );
    let config = secure_config(
        &base,
        pki,
        "registry",
        "require_assertion = false",
        &dir.join("registry.toml"),
    );
    let data = dir.join("registry-data");
    patient_add(&data, &[PATIENT]);
    Daemon::spawn(
        Path::new(BINARY),
        "127.0.0.1:0",
        &data,
        &["--config", config.to_str().expect("utf-8")],
        &Output {
            insecure: false,
            ..Output::default()
        },
    )
}

/// One FindDocuments over mutual TLS; true when answered.
fn query_once(address: SocketAddr, pki: &Path) -> bool {
    let request = find_documents(&Cx::parse(PATIENT).expect("CX"));
    let body = Body::AdhocQuery(transform::stored_query_to_wire(&request));
    tls_post(
        address,
        TlsClient {
            pki,
            certificate: Some("structure"),
        },
        PATH,
        SOAP,
        &envelope_with_assertion(Transaction::Iti18, &body, None),
    )
    .is_ok_and(|answer| {
        answer.status == 200 && answer.text().contains("ResponseStatusType:Success")
    })
}

/// The record ids found in rsyslog's output file.
fn received_ids(output: &Path) -> Vec<u64> {
    let text = std::fs::read_to_string(output).unwrap_or_default();
    text.lines().filter_map(record_id).collect()
}

/// Waits until `count` records were received (or a minute went by); the ids received.
fn wait_for(output: &Path, count: usize) -> Vec<u64> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let ids = received_ids(output);
        if ids.len() >= count || Instant::now() > deadline {
            // A little longer: a duplicate arriving late must be seen.
            std::thread::sleep(Duration::from_millis(500));
            return received_ids(output);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn tls_files(pki: &Path) -> (String, String, String) {
    let file = |name: &str| pki.join(name).display().to_string();
    (file("ca.pem"), file("registry.pem"), file("registry.key"))
}

#[test]
fn syslog_over_tls_delivers_dicom_audit_messages() {
    let dir = TempDir::new("atna-tls");
    let pki = test_pki(dir.path());
    let output = dir.path().join("audit.log");
    let (ca, certificate, key) = tls_files(&pki);
    let rsyslog = Rsyslog::new(
        dir.path(),
        &format!(
            "DefaultNetstreamDriver=\"gtls\" DefaultNetstreamDriverCAFile={ca:?} DefaultNetstreamDriverCertFile={certificate:?} DefaultNetstreamDriverKeyFile={key:?}"
        ),
        "module(load=\"imtcp\" StreamDriver.Name=\"gtls\" StreamDriver.Mode=\"1\" StreamDriver.AuthMode=\"x509/certvalid\")\ninput(type=\"imtcp\" port=\"PORT\" address=\"127.0.0.1\")",
        &output,
    );
    let daemon = registry(
        dir.path(),
        &pki,
        &format!("tls://localhost:{}", rsyslog.port),
    );
    for _ in 0..5 {
        assert!(query_once(daemon.address, &pki));
    }
    let ids = wait_for(&output, 5);
    assert_eq!(ids, vec![1, 2, 3, 4, 5]);
    let text = std::fs::read_to_string(&output).expect("output");
    let first = text.lines().next().expect("a line");
    for part in [
        "transaction=\"ITI-18\"",
        "<AuditMessage>",
        "EventActionCode=\"E\"",
        "csd-code=\"110112\"",
        "csd-code=\"ITI-18\"",
        "ParticipantObjectID=\"1^^^&amp;1.2.3.4.5&amp;ISO\"",
        "EventOutcomeIndicator=\"0\"",
        "</AuditMessage>",
    ] {
        assert!(first.contains(part), "{part} missing from {first}");
    }
}

#[test]
fn relp_over_tls_delivers_every_record_exactly_once_across_a_receiver_restart() {
    let dir = TempDir::new("atna-relp");
    let pki = test_pki(dir.path());
    let output = dir.path().join("audit.log");
    let (ca, certificate, key) = tls_files(&pki);
    let mut rsyslog = Rsyslog::new(
        dir.path(),
        "",
        &format!(
            "module(load=\"imrelp\")\ninput(type=\"imrelp\" port=\"PORT\" address=\"127.0.0.1\" tls=\"on\" tls.cacert={ca:?} tls.mycert={certificate:?} tls.myprivkey={key:?} tls.authmode=\"certvalid\")"
        ),
        &output,
    );
    let daemon = registry(
        dir.path(),
        &pki,
        &format!("relp+tls://localhost:{}", rsyslog.port),
    );
    // A steady load; the receiver stops a third of the way through and comes back later.
    const TOTAL: usize = 300;
    let mut answered = 0;
    for round in 0..TOTAL {
        if round == TOTAL / 3 {
            rsyslog.stop();
        }
        if round == TOTAL / 2 {
            rsyslog.start();
        }
        if query_once(daemon.address, &pki) {
            answered += 1;
        }
    }
    assert_eq!(answered, TOTAL, "every query was answered");
    let mut ids = wait_for(&output, TOTAL);
    let received = ids.len();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(
        received,
        ids.len(),
        "{} records arrived twice",
        received - ids.len()
    );
    let expected: Vec<u64> = (1..=TOTAL as u64).collect();
    let missing: Vec<&u64> = expected
        .iter()
        .filter(|id| ids.binary_search(id).is_err())
        .collect();
    assert!(missing.is_empty(), "records never arrived: {missing:?}");
    assert_eq!(ids, expected);
}

#[test]
fn syslog_over_udp_sends_one_datagram_per_record() {
    let dir = TempDir::new("atna-udp");
    let pki = test_pki(dir.path());
    let receiver = std::net::UdpSocket::bind("127.0.0.1:0").expect("udp receiver");
    receiver
        .set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    let port = receiver.local_addr().expect("address").port();
    let daemon = registry(dir.path(), &pki, &format!("udp://127.0.0.1:{port}"));
    for _ in 0..3 {
        assert!(query_once(daemon.address, &pki));
    }
    let mut ids = Vec::new();
    let mut buffer = vec![0u8; 65_536];
    while ids.len() < 3 {
        let size = receiver.recv(&mut buffer).expect("a datagram");
        let text = String::from_utf8_lossy(&buffer[..size]).into_owned();
        // RFC 5424: <PRI>1 TIMESTAMP HOST APP PROCID MSGID [SD] BOM MSG
        assert!(text.starts_with("<85>1 "), "{text}");
        assert!(text.contains(" IHE+RFC-3881 [audit@32473 id=\""), "{text}");
        assert!(text.ends_with("</AuditMessage>"), "{text}");
        ids.extend(record_id(&text));
    }
    assert_eq!(ids, vec![1, 2, 3]);
}

fn record_id(text: &str) -> Option<u64> {
    text.split("id=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .and_then(|id| id.parse().ok())
}
