//! What mutual TLS and VIHF verification cost (run by hand; not part of the test command):
//!
//! ```text
//! cargo bench -p xds-registry --bench trust -- [--entries 10] [--clients 2] [--seconds 4]
//!     [--rounds 5] [--verifications 2000]
//! ```
//!
//! 1. Makes a test PKI, starts two registries with the same data: one plain (`--insecure`), one
//!    on mutual TLS requiring a signed VIHF assertion on every request.
//! 2. Measures FindDocuments (LeafClass, `--entries` entries answered) with `--clients`
//!    keep-alive clients on each, alternating, `--rounds` times: throughput, the TLS+VIHF /
//!    plain ratio (median of the rounds), server CPU microseconds per query. Each TLS client
//!    keeps its connection and sends the same assertion on every request, as a workstation does
//!    for a user's session (the registry verifies it once, then remembers it).
//! 3. Times one assertion verification in process (parse, exclusive c14n, SHA-256 digest,
//!    RSA-SHA256 signature, attribute checks), median of rounds, against an RSA-2048 signature
//!    verification alone (its floor), and the same assertion presented again by the same
//!    certificate (remembered until it expires: a SHA-256 of the header and a lookup).

#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)] // a command that prints figures

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use xds::model::*;
use xds::transaction::Transaction;
use xds::transform;
use xds::wire::{self, Body, Header, RawXml};
use xds_conformance::load::{Client, Operation, cpu_micros, load_with};
use xds_conformance::pki::{self, VihfSpec};
use xds_conformance::support::*;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const PATIENT: &str = "185057800608491^^^&1.2.250.1.213.1.4.8&ISO^NH";

struct Args {
    entries: usize,
    clients: usize,
    seconds: u64,
    rounds: usize,
    verifications: usize,
}

fn parse_args() -> Args {
    let mut args = Args {
        entries: 10,
        clients: 2,
        seconds: 4,
        rounds: 5,
        verifications: 2000,
    };
    let mut words = std::env::args().skip(1);
    while let Some(word) = words.next() {
        let mut value = || {
            words
                .next()
                .expect("a value")
                .parse::<u64>()
                .expect("a number")
        };
        match word.as_str() {
            "--entries" => args.entries = value() as usize,
            "--clients" => args.clients = value() as usize,
            "--seconds" => args.seconds = value(),
            "--rounds" => args.rounds = value() as usize,
            "--verifications" => args.verifications = value() as usize,
            "--bench" => {}
            other => panic!("unknown argument {other}"),
        }
    }
    args
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(|a, b| a.partial_cmp(b).expect("numbers"));
    values[values.len() / 2]
}

fn request(
    transaction: Transaction,
    body: &Body<wire::OutContent>,
    assertion: Option<&str>,
) -> Vec<u8> {
    let header = Header {
        action: Some(transaction.action().to_owned()),
        message_id: Some("urn:uuid:6f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9".to_owned()),
        security: assertion.map(|assertion| RawXml {
            xml: pki::security_header(assertion),
            namespaces: Vec::new(),
        }),
        ..Header::default()
    };
    wire::write_envelope(&header, body).into_bytes()
}

fn main() {
    let args = parse_args();
    let dir = TempDir::new("bench-trust");
    let pki_dir = test_pki(dir.path());
    let binary = Path::new(env!("CARGO_BIN_EXE_xds-registry"));
    let patient = Cx::parse(PATIENT).expect("CX");
    let plain_dir = dir.path().join("plain");
    let secure_dir = dir.path().join("secure");
    for data in [&plain_dir, &secure_dir] {
        let status = std::process::Command::new(binary)
            .args(["patient", "add", PATIENT, "--data-dir"])
            .arg(data)
            .env("XDS_REGISTRY_CONFIG", registry_dev_config())
            .stdout(std::process::Stdio::null())
            .status()
            .expect("patient add");
        assert!(status.success());
    }
    let base = std::fs::read_to_string(registry_dev_config())
        .expect("dev config")
        .replace("insecure = true", "insecure = false");
    let config = secure_config(
        &base,
        &pki_dir,
        "registry",
        "",
        &dir.path().join("tls.toml"),
    );
    let quiet = Output {
        log_level: "error",
        ..Output::default()
    };
    let plain = Daemon::spawn(binary, "127.0.0.1:0", &plain_dir, &[], &quiet);
    let secure = Daemon::spawn(
        binary,
        "127.0.0.1:0",
        &secure_dir,
        &["--config", config.to_str().expect("utf-8")],
        &Output {
            insecure: false,
            ..quiet
        },
    );
    let assertion = pki::sign_vihf(&pki_dir, &VihfSpec::structure(Some(PATIENT))).expect("sign");
    let client_config = Arc::new(
        xds::net::tls::client_config(
            Some((
                &pki_dir.join("structure.pem"),
                &pki_dir.join("structure.key"),
            )),
            &pki_dir.join("ca.pem"),
        )
        .expect("client TLS"),
    );

    // The same entries in both.
    let unique_ids: Vec<String> = (0..args.entries)
        .map(|index| format!("1.2.250.1.999.88.{index}"))
        .collect();
    let ids: Vec<&str> = unique_ids.iter().map(String::as_str).collect();
    let mut metadata = documents("1.2.250.1.999.88.1000", &patient, &ids);
    // The assertion's structure is the submission's author institution (indirect mode).
    let institution = Xon::parse(&format!(
        "HOPITAL TEST^^^^^&1.2.250.1.71.4.2.2&ISO^IDNST^^^{}",
        pki::STRUCTURE_ID
    ))
    .expect("XON");
    for set in &mut metadata.submission_sets {
        set.authors.push(Author {
            person: None,
            institutions: vec![institution.clone()],
            roles: Vec::new(),
            specialties: Vec::new(),
            telecommunications: Vec::new(),
        });
    }
    let submit = request(
        Transaction::Iti42,
        &Body::SubmitObjects(transform::submit_objects_to_wire(&metadata)),
        None,
    );
    let answer = Client::connect(plain.address).post(REGISTRY, &submit);
    assert!(String::from_utf8_lossy(&answer.1).contains("ResponseStatusType:Success"));
    let submit = request(
        Transaction::Iti42,
        &Body::SubmitObjects(transform::submit_objects_to_wire(&metadata)),
        Some(&assertion),
    );
    let answer =
        Client::connect_tls(secure.address, Arc::clone(&client_config)).post(REGISTRY, &submit);
    assert!(
        String::from_utf8_lossy(&answer.1).contains("ResponseStatusType:Success"),
        "{}",
        String::from_utf8_lossy(&answer.1)
    );

    let find = Body::AdhocQuery(transform::stored_query_to_wire(&find_documents(&patient)));
    let plain_body = Arc::new(request(Transaction::Iti18, &find, None));
    let secure_body = Arc::new(request(Transaction::Iti18, &find, Some(&assertion)));
    let expected = args.entries;
    let operation = |body: Arc<Vec<u8>>| -> Operation {
        Arc::new(move |client: &mut Client, _rng| {
            let (status, answer) = client.post(REGISTRY, &body);
            assert_eq!(status, 200);
            let text = String::from_utf8_lossy(&answer);
            assert_eq!(
                text.matches("<rim:ExtrinsicObject ").count(),
                expected,
                "{text}"
            );
        })
    };
    println!(
        "FindDocuments, {} entries answered, {} keep-alive clients, {} s x {} rounds; request {} B plain, {} B with the assertion",
        args.entries,
        args.clients,
        args.seconds,
        args.rounds,
        plain_body.len(),
        secure_body.len()
    );
    let (mut plain_rates, mut secure_rates, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    let (mut plain_cpu, mut secure_cpu) = (Vec::new(), Vec::new());
    for round in 0..args.rounds {
        let address = plain.address;
        let before = cpu_micros(plain.child.id());
        let plain_load = load_with(
            Arc::new(move || Client::connect(address)),
            args.clients,
            args.seconds,
            operation(Arc::clone(&plain_body)),
        );
        plain_cpu
            .push((cpu_micros(plain.child.id()) - before) as f64 / plain_load.operations as f64);
        let (address, config) = (secure.address, Arc::clone(&client_config));
        let before = cpu_micros(secure.child.id());
        let secure_load = load_with(
            Arc::new(move || Client::connect_tls(address, Arc::clone(&config))),
            args.clients,
            args.seconds,
            operation(Arc::clone(&secure_body)),
        );
        secure_cpu
            .push((cpu_micros(secure.child.id()) - before) as f64 / secure_load.operations as f64);
        let ratio = secure_load.rate() / plain_load.rate();
        println!(
            "  round {}: plain {:.0} q/s, mTLS+VIHF {:.0} q/s, ratio {ratio:.2}",
            round + 1,
            plain_load.rate(),
            secure_load.rate()
        );
        plain_rates.push(plain_load.rate());
        secure_rates.push(secure_load.rate());
        ratios.push(ratio);
    }
    println!(
        "FindDocuments plain: median {:.0} q/s, server CPU {:.0} us/query",
        median(&mut plain_rates),
        median(&mut plain_cpu)
    );
    println!(
        "FindDocuments mTLS+VIHF: median {:.0} q/s, server CPU {:.0} us/query",
        median(&mut secure_rates),
        median(&mut secure_cpu)
    );
    println!(
        "ratio mTLS+VIHF / plain: median {:.2} (goal >= 0.70)",
        median(&mut ratios)
    );
    drop(plain);
    drop(secure);

    // One verification in process, and its floor (the RSA signature check alone); then the
    // same assertion again on the same certificate (remembered).
    let new_trust = || {
        xds::net::trust::Trust::new(
            xds::net::trust::TrustSettings::default(),
            None,
            Arc::new(|_| Vec::new()),
        )
        .expect("trust")
    };
    let trust = new_trust();
    let certificate = xds::net::tls::read_certificates(&pki_dir.join("structure.pem"))
        .expect("certificate")
        .remove(0);
    let peer = trust.peer(Some(certificate.clone()));
    let security = RawXml {
        xml: pki::security_header(&assertion),
        namespaces: Vec::new(),
    };
    trust
        .caller(&peer, Some(&security))
        .expect("the assertion verifies");
    let (mut verify, mut remembered, mut rsa) = (Vec::new(), Vec::new(), Vec::new());
    let message =
        b"SignedInfo stand-in of the usual size, canonicalized: about a kilobyte".repeat(14);
    let key = ring::signature::RsaKeyPair::from_pkcs8(
        xds::net::tls::read_private_key(&pki_dir.join("structure.key"))
            .expect("key file")
            .secret_der(),
    )
    .expect("key");
    let mut signature = vec![0u8; key.public().modulus_len()];
    key.sign(
        &ring::signature::RSA_PKCS1_SHA256,
        &ring::rand::SystemRandom::new(),
        &message,
        &mut signature,
    )
    .expect("sign");
    let public = ring::signature::UnparsedPublicKey::new(
        &ring::signature::RSA_PKCS1_2048_8192_SHA256,
        ring::signature::KeyPair::public_key(&key).as_ref().to_vec(),
    );
    for _ in 0..args.rounds {
        let started = Instant::now();
        for _ in 0..args.verifications {
            let fresh = new_trust();
            std::hint::black_box(fresh.caller(&peer, Some(&security)).expect("verifies"));
        }
        verify.push(started.elapsed().as_secs_f64() * 1e6 / args.verifications as f64);
        let started = Instant::now();
        for _ in 0..args.verifications {
            std::hint::black_box(trust.caller(&peer, Some(&security)).expect("verifies"));
        }
        remembered.push(started.elapsed().as_secs_f64() * 1e6 / args.verifications as f64);
        let started = Instant::now();
        for _ in 0..args.verifications {
            public.verify(&message, &signature).expect("verifies");
        }
        rsa.push(started.elapsed().as_secs_f64() * 1e6 / args.verifications as f64);
    }
    let (verify, remembered, rsa) = (
        median(&mut verify),
        median(&mut remembered),
        median(&mut rsa),
    );
    println!(
        "one assertion verification ({} B): median {verify:.1} us CPU; RSA-2048 signature check alone {rsa:.1} us (ratio {:.1}); the same assertion again (remembered) {remembered:.1} us",
        assertion.len(),
        verify / rsa
    );
}

const REGISTRY: &str = "/xds/registry";
