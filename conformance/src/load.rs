//! Load generation for the benchmark commands (not for tests): keep-alive HTTP/1.1 clients on
//! threads, latency percentiles, and the server's CPU time and memory read from `/proc`.
//! Everything panics on failure: a benchmark that cannot talk to its server has no figures.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// A small xorshift generator (deterministic load).
#[derive(Debug, Clone)]
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, bound: u64) -> u64 {
        self.next_u64() % bound.max(1)
    }
}

/// A byte stream a client talks over (plain TCP or TLS).
pub trait Stream: Read + Write + Send {}

impl<T: Read + Write + Send> Stream for T {}

/// A keep-alive HTTP/1.1 client, over plain TCP or mutual TLS.
pub struct Client {
    stream: BufReader<Box<dyn Stream>>,
    address: SocketAddr,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Client")
            .field("address", &self.address)
            .finish_non_exhaustive()
    }
}

impl Client {
    pub fn connect(address: SocketAddr) -> Self {
        let stream = TcpStream::connect(address).expect("connect");
        stream.set_nodelay(true).expect("nodelay");
        Self {
            stream: BufReader::new(Box::new(stream)),
            address,
        }
    }

    /// A client presenting `config`'s certificate (one TLS session per client, kept alive).
    pub fn connect_tls(address: SocketAddr, config: Arc<rustls::ClientConfig>) -> Self {
        let stream = TcpStream::connect(address).expect("connect");
        stream.set_nodelay(true).expect("nodelay");
        let connection = rustls::ClientConnection::new(
            config,
            rustls::pki_types::ServerName::IpAddress(address.ip().into()),
        )
        .expect("TLS client");
        Self {
            stream: BufReader::new(Box::new(rustls::StreamOwned::new(connection, stream))),
            address,
        }
    }

    /// POSTs a Simple SOAP body; (status, answer body).
    pub fn post(&mut self, path: &str, body: &[u8]) -> (u16, Vec<u8>) {
        self.post_typed(path, "application/soap+xml; charset=UTF-8", body)
    }

    /// POSTs a body with its Content-Type; (status, answer body).
    pub fn post_typed(&mut self, path: &str, content_type: &str, body: &[u8]) -> (u16, Vec<u8>) {
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
            self.address,
            body.len()
        );
        // One write per request (head and body together, as a TLS record would carry them).
        let mut request = Vec::with_capacity(head.len() + body.len());
        request.extend_from_slice(head.as_bytes());
        request.extend_from_slice(body);
        let writer = self.stream.get_mut();
        writer.write_all(&request).expect("write");
        writer.flush().expect("flush");
        let mut line = String::new();
        self.stream.read_line(&mut line).expect("status line");
        let status = line
            .split(' ')
            .nth(1)
            .and_then(|code| code.parse().ok())
            .expect("status");
        let mut length = 0usize;
        loop {
            line.clear();
            self.stream.read_line(&mut line).expect("header");
            if line == "\r\n" {
                break;
            }
            if let Some((name, value)) = line.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().expect("length");
            }
        }
        let mut answer = vec![0u8; length];
        self.stream.read_exact(&mut answer).expect("body");
        (status, answer)
    }
}

/// One request of a load, made by a client thread.
pub type Operation = Arc<dyn Fn(&mut Client, &mut Rng) + Send + Sync>;

#[derive(Debug)]
pub struct Load {
    pub operations: u64,
    pub seconds: f64,
    pub latencies: Vec<Duration>,
}

impl Load {
    pub fn rate(&self) -> f64 {
        self.operations as f64 / self.seconds
    }

    pub fn percentile(&self, fraction: f64) -> Duration {
        if self.latencies.is_empty() {
            return Duration::ZERO;
        }
        let index = ((self.latencies.len() as f64 - 1.0) * fraction).round() as usize;
        self.latencies[index]
    }
}

/// Runs `clients` threads for `seconds`, each calling `make(client, rng)` in a loop.
pub fn load(address: SocketAddr, clients: usize, seconds: u64, make: Operation) -> Load {
    load_with(
        Arc::new(move || Client::connect(address)),
        clients,
        seconds,
        make,
    )
}

/// Like [`load`], each thread's client made by `connect`.
pub fn load_with(
    connect: Arc<dyn Fn() -> Client + Send + Sync>,
    clients: usize,
    seconds: u64,
    make: Operation,
) -> Load {
    let stop = Arc::new(AtomicBool::new(false));
    let count = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let threads: Vec<_> = (0..clients)
        .map(|index| {
            let (stop, count, make) = (Arc::clone(&stop), Arc::clone(&count), Arc::clone(&make));
            let connect = Arc::clone(&connect);
            std::thread::spawn(move || {
                let mut client = connect();
                let mut rng = Rng(0x1234_5678 + index as u64 * 7919);
                let mut latencies = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    let begun = Instant::now();
                    make(&mut client, &mut rng);
                    latencies.push(begun.elapsed());
                    count.fetch_add(1, Ordering::Relaxed);
                }
                latencies
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs(seconds));
    stop.store(true, Ordering::Relaxed);
    let mut latencies: Vec<Duration> = threads
        .into_iter()
        .flat_map(|thread| thread.join().expect("client"))
        .collect();
    let seconds = started.elapsed().as_secs_f64();
    latencies.sort();
    Load {
        operations: count.load(Ordering::Relaxed),
        seconds,
        latencies,
    }
}

/// CPU time (user + system) of a process, in microseconds.
pub fn cpu_micros(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: u64 = fields.get(11).and_then(|v| v.parse().ok()).unwrap_or(0)
        + fields.get(12).and_then(|v| v.parse().ok()).unwrap_or(0);
    // Linux reports in clock ticks of 1/100 s on every platform we run.
    ticks * 10_000
}

/// Resident memory of a process now, in MiB.
pub fn rss_mib(pid: u32) -> f64 {
    status_mib(pid, "VmRSS:")
}

/// The most resident memory a process has had since it started, in MiB.
pub fn peak_rss_mib(pid: u32) -> f64 {
    status_mib(pid, "VmHWM:")
}

fn status_mib(pid: u32, field: &str) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|value| {
            value
                .trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<f64>()
                .ok()
        })
        .map_or(0.0, |kib| kib / 1024.0)
}

pub fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}
