//! ITI-8 over MLLP against the real binary: a hospital system's feed sent with PyPI's `hl7`
//! package (registry/tests/peers/hl7_feed.py), the registry's behaviour afterwards (ITI-42,
//! ITI-18 over SOAP; `patient show`), and bad input that must never crash or wedge the
//! listener.
//!
//! The Python peer needs `hl7` (0.4.x): `scripts/test` installs it into a virtual environment
//! and sets XDS_PYTHON; otherwise `python3` must already have it.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use xds::ResponseStatus;
use xds::model::*;

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
    child: Child,
    soap: SocketAddr,
    mllp: SocketAddr,
    log: PathBuf,
}

impl Feed {
    fn start(dir: &Path, config: &str) -> Self {
        let config_path = dir.join("registry.toml");
        std::fs::write(&config_path, config).expect("config");
        let log = dir.join("registry.log");
        let mut child = Command::new(BINARY)
            .args([
                "serve",
                "--insecure",
                "--listen",
                "127.0.0.1:0",
                "--mllp-listen",
                "127.0.0.1:0",
            ])
            .arg("--config")
            .arg(&config_path)
            .arg("--data-dir")
            .arg(dir.join("data"))
            .env("XDS_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).expect("log file"))
            .spawn()
            .expect("start the registry");
        let mut stdout = child.stdout.take().expect("stdout");
        let mut text = String::new();
        let mut byte = [0u8; 1];
        while text.matches('\n').count() < 2 {
            match stdout.read(&mut byte) {
                Ok(1) => text.push(char::from(byte[0])),
                _ => panic!(
                    "the registry stopped: {}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                ),
            }
        }
        std::thread::spawn(move || {
            let mut sink = Vec::new();
            let _ = stdout.read_to_end(&mut sink);
        });
        let address = |protocol: &str| -> SocketAddr {
            text.lines()
                .find_map(|line| {
                    line.strip_prefix("listening on ")?
                        .strip_suffix(&format!(" ({protocol})"))
                })
                .unwrap_or_else(|| panic!("no {protocol} line in {text:?}"))
                .parse()
                .expect("address")
        };
        Self {
            soap: address("soap"),
            mllp: address("mllp"),
            child,
            log,
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn stop(mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let status = self.child.wait().expect("wait");
        assert!(
            status.success(),
            "the registry did not stop cleanly: {status}"
        );
    }
}

impl Drop for Feed {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
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
    let input = format!(
        "[{}]",
        messages
            .iter()
            .map(|message| json_string(message))
            .collect::<Vec<_>>()
            .join(",")
    );
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write");
    let output = child.wait_with_output().expect("python ran");
    assert!(
        output.status.success(),
        "hl7 peer failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    parse_acks(&String::from_utf8_lossy(&output.stdout))
}

fn json_string(text: &str) -> String {
    let mut out = String::from("\"");
    for character in text.chars() {
        match character {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\r' => out.push_str("\\r"),
            '\n' => out.push_str("\\n"),
            other => out.push(other),
        }
    }
    out.push('"');
    out
}

/// Reads the peer's JSON answer (an array of flat objects of strings).
fn parse_acks(json: &str) -> Vec<Ack> {
    let mut acks = Vec::new();
    let mut rest = json;
    while let Some(start) = rest.find('{') {
        let mut fields = std::collections::HashMap::new();
        let mut cursor = &rest[start + 1..];
        loop {
            cursor = cursor.trim_start_matches([' ', ',']);
            if cursor.starts_with('}') {
                cursor = &cursor[1..];
                break;
            }
            let (key, after) = json_value(cursor);
            let after = after.trim_start().trim_start_matches(':').trim_start();
            let (value, after) = json_value(after);
            fields.insert(key, value);
            cursor = after;
        }
        let get = |name: &str| fields.get(name).cloned().unwrap_or_default();
        acks.push(Ack {
            code: get("msa1"),
            control: get("msa2"),
            location: get("err_location"),
            error: get("err_code"),
            text: get("msa3"),
        });
        rest = cursor;
    }
    acks
}

fn json_value(text: &str) -> (String, &str) {
    let mut out = String::new();
    let mut chars = text.char_indices();
    assert_eq!(
        chars.next().map(|(_, c)| c),
        Some('"'),
        "JSON string expected at {text:.40}"
    );
    while let Some((index, character)) = chars.next() {
        match character {
            '"' => return (out, &text[index + 1..]),
            '\\' => match chars.next().map(|(_, c)| c) {
                Some('n') => out.push('\n'),
                Some('r') => out.push('\r'),
                Some('t') => out.push('\t'),
                Some('u') => {
                    let hex: String = (0..4)
                        .filter_map(|_| chars.next().map(|(_, c)| c))
                        .collect();
                    if let Some(decoded) =
                        u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32)
                    {
                        out.push(decoded);
                    }
                }
                Some(other) => out.push(other),
                None => break,
            },
            other => out.push(other),
        }
    }
    panic!("unterminated JSON string");
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

/// Writes one MLLP frame.
fn frame(stream: &mut TcpStream, message: &[u8]) {
    let mut bytes = vec![0x0B];
    bytes.extend_from_slice(message);
    bytes.extend_from_slice(&[0x1C, 0x0D]);
    stream.write_all(&bytes).expect("send");
}

/// Reads one MLLP frame; `None` when the server closed the connection.
fn read_frame(stream: &mut TcpStream) -> Option<String> {
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let mut bytes = Vec::new();
    let mut byte = [0u8; 1];
    loop {
        match stream.read(&mut byte) {
            Ok(0) => return None,
            Ok(_) if byte[0] == 0x1C => break,
            Ok(_) => bytes.push(byte[0]),
            Err(error) if error.kind() == std::io::ErrorKind::ConnectionReset => return None,
            Err(error) => panic!("read: {error}"),
        }
    }
    let _ = stream.read(&mut byte);
    Some(
        String::from_utf8_lossy(&bytes)
            .trim_start_matches('\u{b}')
            .to_owned(),
    )
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

fn connect(address: SocketAddr) -> TcpStream {
    TcpStream::connect(address).expect("connect")
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
        .write_all(b"\x0bMSH|^~\\&|HIS|HOSP")
        .expect("half a message");

    // Not HL7 at all, on a healthy frame: AR, and the connection stays usable.
    let mut stream = connect(feed.mllp);
    frame(&mut stream, b"hello, is this the lab?");
    let (code, _) = msa(&read_frame(&mut stream).expect("an answer"));
    assert_eq!(code, "AR");
    // A version we do not take: AR naming MSH-12.
    frame(
        &mut stream,
        valid("V1").replace("|P|2.5|", "|P|2.1|").as_bytes(),
    );
    let (code, location) = msa(&read_frame(&mut stream).expect("an answer"));
    assert_eq!((code.as_str(), location.as_str()), ("AR", "MSH^1^12"));
    // Missing PID-3: AE naming it.
    frame(
        &mut stream,
        adt("A01", "ADT_A01", "V2", "", "X", "").as_bytes(),
    );
    let (code, location) = msa(&read_frame(&mut stream).expect("an answer"));
    assert_eq!((code.as_str(), location.as_str()), ("AE", "PID^1^3"));
    // Missing PID: AE naming the segment.
    frame(
        &mut stream,
        b"MSH|^~\\&|HIS|HOSP|XDS|DMP|2026||ADT^A01|V3|P|2.5\rEVN||2026\r",
    );
    let (code, location) = msa(&read_frame(&mut stream).expect("an answer"));
    assert_eq!((code.as_str(), location.as_str()), ("AE", "PID^1"));
    // Still serving on the same connection.
    frame(&mut stream, valid("V4").as_bytes());
    assert_eq!(msa(&read_frame(&mut stream).expect("an answer")).0, "AA");

    // A message larger than the limit (64 KiB here): the connection is closed.
    let mut huge = connect(feed.mllp);
    let big = format!("{}{}", valid("H1"), "X".repeat(100 << 10));
    let mut bytes = vec![0x0B];
    bytes.extend_from_slice(big.as_bytes());
    bytes.extend_from_slice(&[0x1C, 0x0D]);
    let _ = huge.write_all(&bytes);
    assert!(
        read_frame(&mut huge).is_none(),
        "a huge message must not be answered"
    );

    // Broken framing (no start byte): the connection is closed.
    let mut unframed = connect(feed.mllp);
    unframed.write_all(valid("B1").as_bytes()).expect("send");
    unframed.write_all(b"\r\n").expect("send");
    assert!(
        read_frame(&mut unframed).is_none(),
        "an unframed message must not be answered"
    );

    // The stalled client is cut off (message timeout 1 s) while the listener keeps serving.
    let started = Instant::now();
    assert!(
        read_frame(&mut stalled).is_none(),
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
                    stream.write_all(b"\x0b\x00\xff\xfe garbage").expect("send");
                    stream.write_all(&[0x1C, 0x0D]).expect("send");
                } else {
                    frame(&mut stream, message.as_bytes());
                }
                read_frame(&mut stream).map(|ack| msa(&ack).0)
            })
        })
        .collect();
    for (index, handle) in handles.into_iter().enumerate() {
        let answer = handle.join().expect("client thread");
        let expected = if index == 3 { "AR" } else { "AA" };
        assert_eq!(answer.as_deref(), Some(expected), "client {index}");
    }
    assert!(
        feed.child.try_wait().expect("status").is_none(),
        "the registry is still running"
    );
    let mut after = connect(feed.mllp);
    frame(&mut after, valid("Z1").as_bytes());
    assert_eq!(msa(&read_frame(&mut after).expect("an answer")).0, "AA");

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
                let Ok(mut stream) = TcpStream::connect(address) else {
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
                    let mut bytes = vec![0x0B];
                    bytes.extend_from_slice(message.as_bytes());
                    bytes.extend_from_slice(&[0x1C, 0x0D]);
                    if stream.write_all(&bytes).is_err() {
                        break;
                    }
                    match read_frame(&mut stream) {
                        Some(ack) if msa(&ack).0 == "AA" => acknowledged.push(patient),
                        _ => break,
                    }
                }
                acknowledged
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(1_500));
    feed.child.kill().expect("SIGKILL");
    feed.child.wait().expect("wait");
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
