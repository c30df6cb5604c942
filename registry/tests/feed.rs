//! ITI-8 over MLLP against the real binary: a hospital system's feed sent with PyPI's `hl7`
//! package (registry/tests/peers/hl7_feed.py), the registry's behaviour afterwards (ITI-42,
//! ITI-18 over SOAP; `patient show`), and bad input that must never crash or wedge the
//! listener.
//!
//! The Python peer needs `hl7` (0.4.x): `scripts/test` installs it into a virtual environment
//! and sets XDS_PYTHON; otherwise `python3` must already have it.

mod common;

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use xds::ResponseStatus;
use xds::model::*;
use xds_conformance::feed::Connection;

fn python() -> String {
    let python = std::env::var("XDS_PYTHON").unwrap_or_else(|_| "python3".to_owned());
    let found = Command::new(&python)
        .args(["-c", "import hl7, hl7.client"])
        .status()
        .map(|status| status.success())
        .unwrap_or(false);
    assert!(
        found,
        "{python} cannot import PyPI's hl7 package: run scripts/test (it installs it) or `pip install hl7==0.4.5`, or set XDS_PYTHON"
    );
    python
}

/// A registry with the feed listener and its standard error in a file.
struct Feed {
    daemon: Daemon,
    soap: SocketAddr,
    mllp: SocketAddr,
    log: PathBuf,
}

impl Feed {
    fn start(dir: &Path, config: &str) -> Self {
        let config_path = dir.join("registry.toml");
        std::fs::write(&config_path, config).expect("config");
        let log = dir.join("registry.log");
        let daemon = Daemon::spawn(
            Path::new(BINARY),
            "127.0.0.1:0",
            &dir.join("data"),
            &[
                "--mllp-listen",
                "127.0.0.1:0",
                "--config",
                config_path.to_str().expect("utf-8"),
            ],
            &Output {
                log_level: "info",
                stderr: Some(&log),
                ..Output::default()
            },
        );
        Self {
            soap: daemon.address,
            mllp: daemon.listener("mllp").expect("an MLLP listener"),
            daemon,
            log,
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn stop(self) {
        let status = self.daemon.stop();
        assert!(
            status.success(),
            "the registry did not stop cleanly: {status}"
        );
    }
}

const CONFIG: &str = "[server]\ninsecure = true\n[identity]\ndomains = [\"ins\"]\nins_accept = [\"nir\", \"nia\", \"test\"]\n[mllp]\nmax_message_kib = 64\nmessage_timeout_seconds = 1\n";

fn ins(n: u64) -> Ins {
    Ins::test_nir(n)
}

/// A test INS of `n` with a wrong key.
fn bad_key(n: u64) -> String {
    let matricule = ins(n).matricule;
    let wrong = if &matricule[13..] == "01" { "02" } else { "01" };
    format!("{}{wrong}", &matricule[..13])
}

fn pid3(n: u64, ipp: &str) -> String {
    format!(
        "{ipp}^^^HOSP&1.2.250.1.999.1&ISO^PI~{}^^^&1.2.250.1.213.1.4.10&ISO^INS",
        ins(n).matricule
    )
}

fn adt(
    event: &str,
    structure: &str,
    control: &str,
    pid3: &str,
    name: &str,
    status: &str,
) -> String {
    [
        format!("MSH|^~\\&|HIS|HOSP|XDS|DMP|20261122120000||ADT^{event}^{structure}|{control}|P|2.5|||||FRA|UNICODE UTF-8"),
        "EVN||20261122120000".to_owned(),
        format!("PID|||{pid3}||{name}^Jean^Paul^^^^L||19850501|M|||^^^^^^BDL^^78006|||||||||||||||||||||{status}"),
    ]
    .join("\r")
}

fn a40(control: &str, surviving: &str, subsumed: &str) -> String {
    [
        format!("MSH|^~\\&|HIS|HOSP|XDS|DMP|20261122120000||ADT^A40^ADT_A39|{control}|P|2.5"),
        "EVN||20261122120000".to_owned(),
        format!("PID|||{surviving}"),
        format!("MRG|{subsumed}"),
    ]
    .join("\r")
}

#[derive(Debug)]
struct Ack {
    code: String,
    control: String,
    location: String,
    error: String,
    text: String,
}

/// Sends messages with the Python peer; one acknowledgement per message.
fn send_with_python(mllp: SocketAddr, messages: &[String]) -> Vec<Ack> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/peers/hl7_feed.py");
    let mut child = Command::new(python())
        .arg(script)
        .arg(mllp.ip().to_string())
        .arg(mllp.port().to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python");
    // Messages separated by FS (0x1C), a byte no HL7 message holds.
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(messages.join("\u{1c}").as_bytes())
        .expect("write");
    let output = child.wait_with_output().expect("python ran");
    assert!(
        output.status.success(),
        "hl7 peer failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| {
            let fields: Vec<&str> = line.split('\t').collect();
            let field = |index: usize| fields.get(index).copied().unwrap_or("").to_owned();
            Ack {
                code: field(0),
                control: field(1),
                text: field(2),
                location: field(3),
                error: field(4),
            }
        })
        .collect()
}

fn found(address: SocketAddr, id: &Cx) -> Vec<(String, String)> {
    let response = query(address, &find_documents(id));
    assert_eq!(
        response.response.status,
        ResponseStatus::Success,
        "{:?}",
        response.response.errors
    );
    let mut found: Vec<(String, String)> = response
        .metadata
        .document_entries
        .iter()
        .map(|entry| {
            (
                entry
                    .unique_id
                    .as_ref()
                    .map(|id| id.as_str().to_owned())
                    .unwrap_or_default(),
                entry
                    .patient_id
                    .as_ref()
                    .map(Cx::format)
                    .unwrap_or_default(),
            )
        })
        .collect();
    found.sort();
    found
}

fn offline(dir: &Path, args: &[&str]) -> (i32, String) {
    let output = Command::new(BINARY)
        .args(args)
        .arg("--config")
        .arg(dir.join("registry.toml"))
        .arg("--data-dir")
        .arg(dir.join("data"))
        .env("XDS_LOG", "warn")
        .output()
        .expect("offline command");
    (
        output.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
    )
}

#[test]
fn a_hospital_feed_creates_updates_and_merges_patients_the_registry_then_honours() {
    let dir = TempDir::new("feed");
    let feed = Feed::start(dir.path(), CONFIG);
    let (a, b) = (ins(100).to_cx(), ins(101).to_cx());

    let acks = send_with_python(
        feed.mllp,
        &[
            adt(
                "A01",
                "ADT_A01",
                "C1",
                &pid3(100, "IPP100"),
                "DUPONT",
                "PROV",
            ),
            adt(
                "A04",
                "ADT_A01",
                "C2",
                &pid3(101, "IPP101"),
                "MARTIN",
                "VALI",
            ),
            adt(
                "A08",
                "ADT_A01",
                "C3",
                &pid3(100, "IPP100"),
                "DUPONT-DURAND",
                "QUAL",
            ),
            // A resend of C3: the same answer, nothing new.
            adt(
                "A08",
                "ADT_A01",
                "C3",
                &pid3(100, "IPP100"),
                "DUPONT-DURAND",
                "QUAL",
            ),
            // A bad key in the INS: AE naming PID-3's second repetition.
            adt(
                "A01",
                "ADT_A01",
                "C4",
                &format!(
                    "IPP9^^^HOSP&1.2.250.1.999.1&ISO^PI~{}^^^&1.2.250.1.213.1.4.10&ISO^INS",
                    bad_key(102)
                ),
                "X",
                "",
            ),
            // No PID-3 at all.
            adt("A28", "ADT_A05", "C5", "", "Y", ""),
            // Only a local id: no identifier of the affinity domain.
            adt(
                "A31",
                "ADT_A05",
                "C6",
                "IPP7^^^HOSP&1.2.250.1.999.1&ISO^PI",
                "Z",
                "",
            ),
        ],
    );
    let codes: Vec<&str> = acks.iter().map(|ack| ack.code.as_str()).collect();
    assert_eq!(
        codes,
        ["AA", "AA", "AA", "AA", "AE", "AE", "AE"],
        "{acks:?}"
    );
    let controls: Vec<&str> = acks.iter().map(|ack| ack.control.as_str()).collect();
    assert_eq!(controls, ["C1", "C2", "C3", "C3", "C4", "C5", "C6"]);
    assert!(acks[4].location.starts_with("PID^1^3^2"), "{:?}", acks[4]);
    assert_eq!(acks[4].error, "102");
    assert!(acks[4].text.contains("key"), "{:?}", acks[4]);
    assert_eq!(
        (acks[5].location.as_str(), acks[5].error.as_str()),
        ("PID^1^3", "101")
    );
    assert!(acks[6].text.contains("affinity domain"), "{:?}", acks[6]);

    // The registry takes documents for fed patients only.
    let unknown = ins(999).to_cx();
    assert_includes(
        &register(feed.soap, &documents("2.999.1.9", &unknown, &["2.999.2.9"])),
        &["XDSUnknownPatientId"],
    );
    for (set, id, document) in [
        ("2.999.1.1", &a, "2.999.2.1"),
        ("2.999.1.2", &b, "2.999.2.2"),
        ("2.999.1.3", &b, "2.999.2.3"),
    ] {
        let response = register(feed.soap, &documents(set, id, &[document]));
        assert_eq!(
            response.status,
            ResponseStatus::Success,
            "{:?}",
            response.errors
        );
    }
    assert_eq!(found(feed.soap, &a).len(), 1);

    let surviving = format!("{}^^^&1.2.250.1.213.1.4.10&ISO^INS", ins(100).matricule);
    let subsumed = format!("{}^^^&1.2.250.1.213.1.4.10&ISO^INS", ins(101).matricule);
    let acks = send_with_python(
        feed.mllp,
        &[
            a40("M1", &surviving, &subsumed),
            a40("M1", &surviving, &subsumed),
            a40(
                "M2",
                &surviving,
                &format!("{}^^^&1.2.250.1.213.1.4.10&ISO", ins(555).matricule),
            ),
            a40("M3", &subsumed, &surviving),
        ],
    );
    let codes: Vec<&str> = acks.iter().map(|ack| ack.code.as_str()).collect();
    assert_eq!(codes, ["AA", "AA", "AE", "AE"], "{acks:?}");
    assert_eq!(
        (acks[2].location.as_str(), acks[2].error.as_str()),
        ("MRG^1^1", "204")
    );
    assert!(acks[3].text.contains("already merged"), "{:?}", acks[3]);

    // ITI-18 by the surviving id returns every document, under the surviving id; by the
    // subsumed id, nothing; ITI-42 under the subsumed id is refused.
    let expected: Vec<(String, String)> = ["2.999.2.1", "2.999.2.2", "2.999.2.3"]
        .iter()
        .map(|id| (id.to_string(), a.format()))
        .collect();
    assert_eq!(found(feed.soap, &a), expected);
    assert!(found(feed.soap, &b).is_empty());
    assert_includes(
        &register(feed.soap, &documents("2.999.1.4", &b, &["2.999.2.4"])),
        &["XDSUnknownPatientId"],
    );
    let log = feed.log();
    assert!(log.contains("ITI-8 applied"), "{log}");
    assert!(log.contains("ITI-8 not applied"), "{log}");
    feed.stop();

    // Persisted: the operator's view after a restart of the data directory.
    let (code, shown) = offline(dir.path(), &["patient", "show", &a.format()]);
    assert_eq!(code, 0, "{shown}");
    for expected in [
        "state: active",
        "identity status: QUAL",
        "birth name: DUPONT-DURAND",
        "birth place (INSEE): 78006",
        "local id: IPP100^^^HOSP&1.2.250.1.999.1&ISO^PI",
        "DocumentEntries: 3",
    ] {
        assert!(
            shown.contains(expected),
            "{expected:?} missing from\n{shown}"
        );
    }
    let (code, shown) = offline(
        dir.path(),
        &["patient", "show", "IPP101^^^HOSP&1.2.250.1.999.1&ISO"],
    );
    assert_eq!(code, 0, "{shown}");
    assert!(
        shown.contains(&format!("merged into {}", a.format())),
        "{shown}"
    );
    let (code, shown) = offline(dir.path(), &["patient", "show", &unknown.format()]);
    assert_eq!(code, 2, "{shown}");

    let feed = Feed::start(dir.path(), CONFIG);
    assert_eq!(
        found(feed.soap, &a),
        expected,
        "the merge survives a restart"
    );
    feed.stop();
}

/// Reads one answer as text; `None` when the server closed the connection.
fn answer(connection: &mut Connection) -> Option<String> {
    connection
        .receive()
        .expect("read")
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
}

fn msa(ack: &str) -> (String, String) {
    let message = xds::hl7v2::Message::parse(ack.as_bytes()).expect("an HL7 ACK");
    let msa = message.segment("MSA").expect("MSA");
    let err = message
        .segment("ERR")
        .map(|err| err.raw(2).to_owned())
        .unwrap_or_default();
    (message.value(msa, 1, 1), err)
}

fn connect(address: SocketAddr) -> Connection {
    Connection::connect(address, Duration::from_secs(10)).expect("connect")
}

#[test]
fn bad_messages_get_rejections_or_a_closed_connection_never_a_stuck_listener() {
    let dir = TempDir::new("feed-bad");
    let mut feed = Feed::start(dir.path(), CONFIG);
    let valid = |control: &str| {
        adt(
            "A01",
            "ADT_A01",
            control,
            &pid3(200, "IPP200"),
            "DUPONT",
            "",
        )
    };

    // A stalled client first: it must not hold the others up.
    let mut stalled = connect(feed.mllp);
    stalled
        .write_raw(b"\x0bMSH|^~\\&|HIS|HOSP")
        .expect("half a message");

    // Not HL7 at all, on a healthy frame: AR, and the connection stays usable.
    let mut stream = connect(feed.mllp);
    stream.send(b"hello, is this the lab?").expect("send");
    let (code, _) = msa(&answer(&mut stream).expect("an answer"));
    assert_eq!(code, "AR");
    // A version we do not take: AR naming MSH-12.
    stream
        .send(valid("V1").replace("|P|2.5|", "|P|2.1|").as_bytes())
        .expect("send");
    let (code, location) = msa(&answer(&mut stream).expect("an answer"));
    assert_eq!((code.as_str(), location.as_str()), ("AR", "MSH^1^12"));
    // Missing PID-3: AE naming it.
    stream
        .send(adt("A01", "ADT_A01", "V2", "", "X", "").as_bytes())
        .expect("send");
    let (code, location) = msa(&answer(&mut stream).expect("an answer"));
    assert_eq!((code.as_str(), location.as_str()), ("AE", "PID^1^3"));
    // Missing PID: AE naming the segment.
    stream
        .send(b"MSH|^~\\&|HIS|HOSP|XDS|DMP|2026||ADT^A01|V3|P|2.5\rEVN||2026\r")
        .expect("send");
    let (code, location) = msa(&answer(&mut stream).expect("an answer"));
    assert_eq!((code.as_str(), location.as_str()), ("AE", "PID^1"));
    // Still serving on the same connection.
    stream.send(valid("V4").as_bytes()).expect("send");
    assert_eq!(msa(&answer(&mut stream).expect("an answer")).0, "AA");

    // A message larger than the limit (64 KiB here): the connection is closed.
    let mut huge = connect(feed.mllp);
    let big = format!("{}{}", valid("H1"), "X".repeat(100 << 10));
    // The server may close before reading it all: the write may fail.
    let _ = huge.send(big.as_bytes());
    assert!(
        answer(&mut huge).is_none(),
        "a huge message must not be answered"
    );

    // Broken framing (no start byte): the connection is closed.
    let mut unframed = connect(feed.mllp);
    unframed.write_raw(valid("B1").as_bytes()).expect("send");
    unframed.write_raw(b"\r\n").expect("send");
    assert!(
        answer(&mut unframed).is_none(),
        "an unframed message must not be answered"
    );

    // The stalled client is cut off (message timeout 1 s) while the listener keeps serving.
    let started = Instant::now();
    assert!(
        answer(&mut stalled).is_none(),
        "the stalled connection is closed"
    );
    assert!(started.elapsed() < Duration::from_secs(8));

    // Many clients at once, one of them garbage: all good ones answered.
    let handles: Vec<_> = (0..8)
        .map(|index| {
            let address = feed.mllp;
            let message = valid(&format!("P{index}"));
            std::thread::spawn(move || {
                let mut stream = connect(address);
                if index == 3 {
                    stream.send(b"\x00\xff\xfe garbage").expect("send");
                } else {
                    stream.send(message.as_bytes()).expect("send");
                }
                answer(&mut stream).map(|ack| msa(&ack).0)
            })
        })
        .collect();
    for (index, handle) in handles.into_iter().enumerate() {
        let answer = handle.join().expect("client thread");
        let expected = if index == 3 { "AR" } else { "AA" };
        assert_eq!(answer.as_deref(), Some(expected), "client {index}");
    }
    assert!(
        feed.daemon.child.try_wait().expect("status").is_none(),
        "the registry is still running"
    );
    let mut after = connect(feed.mllp);
    after.send(valid("Z1").as_bytes()).expect("send");
    assert_eq!(msa(&answer(&mut after).expect("an answer")).0, "AA");

    let log = feed.log();
    for expected in [
        "larger than",
        "where a frame should start",
        "took longer than",
        "not an HL7 v2 message",
    ] {
        assert!(
            log.contains(expected),
            "no log line with {expected:?}:\n{log}"
        );
    }
    feed.stop();
}

#[test]
fn kill_9_loses_no_acknowledged_feed_message() {
    let dir = TempDir::new("feed-kill");
    let config = format!("{CONFIG}[query]\nunknown_patient = \"error\"\n");
    let mut feed = Feed::start(dir.path(), &config);
    let address = feed.mllp;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let senders: Vec<_> = (0..4u64)
        .map(|sender| {
            let stop = std::sync::Arc::clone(&stop);
            std::thread::spawn(move || {
                let mut acknowledged = Vec::new();
                let Ok(mut connection) = Connection::connect(address, Duration::from_secs(10))
                else {
                    return acknowledged;
                };
                let mut n = 0u64;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let patient = 1_000 + sender * 100_000 + n;
                    n += 1;
                    let message = adt(
                        "A01",
                        "ADT_A01",
                        &format!("K{patient}"),
                        &pid3(patient, &format!("IPP{patient}")),
                        "DUPONT",
                        "",
                    );
                    match connection.exchange(message.as_bytes()) {
                        Ok(Some(ack)) if msa(&String::from_utf8_lossy(&ack)).0 == "AA" => {
                            acknowledged.push(patient)
                        }
                        _ => break,
                    }
                }
                acknowledged
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(1_500));
    feed.daemon.child.kill().expect("SIGKILL");
    feed.daemon.child.wait().expect("wait");
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let acknowledged: Vec<u64> = senders
        .into_iter()
        .flat_map(|sender| sender.join().expect("sender"))
        .collect();
    assert!(
        acknowledged.len() > 20,
        "only {} feeds acknowledged",
        acknowledged.len()
    );
    drop(feed);

    let feed = Feed::start(dir.path(), &config);
    for patient in &acknowledged {
        let response = query(feed.soap, &find_documents(&ins(*patient).to_cx()));
        assert_eq!(
            response.response.status,
            ResponseStatus::Success,
            "patient {patient} was acknowledged (AA) but is unknown after kill -9: {:?}",
            response.response.errors
        );
    }
    // The registry did not invent patients either.
    let never = query(feed.soap, &find_documents(&ins(999_999).to_cx()));
    assert_includes(&never.response, &["XDSUnknownPatientId"]);
    feed.stop();
}
