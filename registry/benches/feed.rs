//! The patient identity feed under load (run by hand; not part of the test command):
//!
//! ```text
//! cargo bench -p xds-registry --bench feed -- [--clients 4] [--seconds 5]
//! ```
//!
//! Starts the real daemon (fresh data directory, `--mllp-listen`), then with N persistent MLLP
//! connections measures, each for S seconds:
//! - the floor: framed bytes that are not HL7, answered AR without touching the store (framing,
//!   parsing attempt, ACK writing, logging);
//! - ADT^A01 of new patients (test INS, an IPP linked): parsed, checked, written and synced
//!   before the AA;
//! - ADT^A08 updates of those patients;
//! - ADT^A40 merges of pairs of them;
//!
//! and prints messages per second, p50/p99 latency and the ratio to the floor.

#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)] // a command that prints figures

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use xds::model::Ins;
use xds_conformance::feed::Connection;
use xds_conformance::load::{Load, cpu_micros, ms, rss_mib};
use xds_conformance::support::{Daemon, Output, TempDir};

struct Args {
    clients: u64,
    seconds: u64,
}

fn parse_args() -> Args {
    let mut args = Args {
        clients: 4,
        seconds: 5,
    };
    let mut arguments = std::env::args().skip(1);
    while let Some(argument) = arguments.next() {
        let mut value = || -> u64 {
            arguments
                .next()
                .and_then(|value| value.parse().ok())
                .expect("a number")
        };
        match argument.as_str() {
            "--clients" => args.clients = value(),
            "--seconds" => args.seconds = value(),
            "--bench" => {}
            other => panic!("unknown argument {other}"),
        }
    }
    args
}

fn pid3(n: u64) -> String {
    format!(
        "IPP{n}^^^HOSP&1.2.250.1.999.1&ISO^PI~{}^^^&1.2.250.1.213.1.4.10&ISO^INS",
        Ins::test_nir(n).matricule
    )
}

fn adt(event: &str, control: &str, n: u64) -> String {
    format!(
        "MSH|^~\\&|HIS|HOSP|XDS|DMP|20261122120000||ADT^{event}^ADT_A01|{control}|P|2.5\rEVN||20261122120000\rPID|||{}||DUPONT^Jean^^^^^L||19850501|M|||^^^^^^BDL^^78006|||||||||||||||||||||QUAL\r",
        pid3(n)
    )
}

fn a40(control: &str, surviving: u64, subsumed: u64) -> String {
    format!(
        "MSH|^~\\&|HIS|HOSP|XDS|DMP|20261122120000||ADT^A40^ADT_A39|{control}|P|2.5\rEVN||20261122120000\rPID|||{}^^^&1.2.250.1.213.1.4.10&ISO\rMRG|{}^^^&1.2.250.1.213.1.4.10&ISO\r",
        Ins::test_nir(surviving).matricule,
        Ins::test_nir(subsumed).matricule
    )
}

struct Phase {
    load: Load,
    cpu_per_message: f64,
}

/// Runs `clients` connections for `seconds`; `message(client, i)` is the i-th message of a
/// client, whose acknowledgement must hold `MSA|{expect}`.
fn phase(
    address: SocketAddr,
    pid: u32,
    args: &Args,
    expect: &'static str,
    message: Arc<dyn Fn(u64, u64) -> String + Send + Sync>,
) -> Phase {
    let stop = Arc::new(AtomicBool::new(false));
    let cpu_before = cpu_micros(pid);
    let started = Instant::now();
    let threads: Vec<_> = (0..args.clients)
        .map(|client| {
            let (stop, message) = (Arc::clone(&stop), Arc::clone(&message));
            std::thread::spawn(move || {
                let mut connection =
                    Connection::connect(address, Duration::from_secs(30)).expect("connect");
                let mut latencies = Vec::new();
                let mut index = 0;
                while !stop.load(Ordering::Relaxed) {
                    let text = message(client, index);
                    index += 1;
                    let begun = Instant::now();
                    let answer = connection
                        .exchange(text.as_bytes())
                        .expect("exchange")
                        .expect("an answer");
                    latencies.push(begun.elapsed());
                    let answer = String::from_utf8_lossy(&answer);
                    assert!(
                        answer.contains(&format!("MSA|{expect}")),
                        "unexpected answer {answer}"
                    );
                }
                latencies
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs(args.seconds));
    stop.store(true, Ordering::Relaxed);
    let mut latencies: Vec<Duration> = threads
        .into_iter()
        .flat_map(|thread| thread.join().expect("client"))
        .collect();
    let seconds = started.elapsed().as_secs_f64();
    let cpu = cpu_micros(pid) - cpu_before;
    latencies.sort();
    let operations = latencies.len() as u64;
    Phase {
        load: Load {
            operations,
            seconds,
            latencies,
        },
        cpu_per_message: cpu as f64 / operations.max(1) as f64,
    }
}

fn print(name: &str, phase: &Phase, floor: Option<&Phase>) {
    let ratio = floor.map_or(String::new(), |floor| {
        format!(
            ", ratio to floor {:.2}",
            phase.load.rate() / floor.load.rate()
        )
    });
    println!(
        "{name}: {:.0} messages/s, p50 {:.2} ms, p99 {:.2} ms, {:.0} µs server CPU/message{ratio}",
        phase.load.rate(),
        ms(phase.load.percentile(0.5)),
        ms(phase.load.percentile(0.99)),
        phase.cpu_per_message
    );
}

fn main() {
    let args = parse_args();
    let dir = TempDir::new("bench-feed");
    let daemon = Daemon::spawn(
        Path::new(env!("CARGO_BIN_EXE_xds-registry")),
        "127.0.0.1:0",
        dir.path(),
        &["--mllp-listen", "127.0.0.1:0"],
        &Output {
            log_level: "error",
            stderr: None,
            ..Output::default()
        },
    );
    let address = daemon.listener("mllp").expect("an MLLP listener");
    let pid = daemon.child.id();
    println!(
        "feed benchmark: {} MLLP connections, {} s per phase, release daemon {}",
        args.clients,
        args.seconds,
        Path::new(env!("CARGO_BIN_EXE_xds-registry")).display()
    );
    let floor = phase(
        address,
        pid,
        &args,
        "AR",
        Arc::new(|_, _| "not an HL7 message".to_owned()),
    );
    print("floor (AR, no store)", &floor, None);
    let created = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&created);
    let create = phase(
        address,
        pid,
        &args,
        "AA",
        Arc::new(move |client, index| {
            counter.fetch_max(index + 1, Ordering::Relaxed);
            adt(
                "A01",
                &format!("C{client}-{index}"),
                client * 10_000_000 + index,
            )
        }),
    );
    print("A01 create (durable)", &create, Some(&floor));
    let per_client = created.load(Ordering::Relaxed).saturating_sub(1).max(1);
    let update = phase(
        address,
        pid,
        &args,
        "AA",
        Arc::new(move |client, index| {
            adt(
                "A08",
                &format!("U{client}-{index}"),
                client * 10_000_000 + index % per_client,
            )
        }),
    );
    print("A08 update (durable)", &update, Some(&floor));
    // Merges: pairs (2k+1 into 2k) of the created patients, each pair once.
    let merge = phase(
        address,
        pid,
        &args,
        "A",
        Arc::new(move |client, index| {
            let base = client * 10_000_000;
            let pair = index % (per_client / 2).max(1);
            a40(
                &format!("M{client}-{index}"),
                base + 2 * pair,
                base + 2 * pair + 1,
            )
        }),
    );
    print(
        "A40 merge (durable; AE once pairs run out)",
        &merge,
        Some(&floor),
    );
    println!("server RSS after the run: {:.0} MiB", rss_mib(pid));
    daemon.stop();
}
