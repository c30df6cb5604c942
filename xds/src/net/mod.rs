//! Feature `net`: the HTTP glue both daemons share, so that each daemon's adapter is only its
//! own dispatch. Nothing here knows a transaction's business rules.
//!
//! - [`http`]: the HTTP/1.1 listener loop with graceful shutdown, and bodies that stream in
//!   (a blocking [`std::io::Read`] over an incoming body) and out (a [`std::io::Write`] feeding
//!   a response body), so documents never have to be held whole in memory.
//! - [`soap`]: SOAP 1.2 answers (faults, envelopes, MTOM packages) ready to send.
//! - [`client`]: a pooled SOAP-over-HTTP client (the repository registering with a registry).
//! - [`mllp`]: MLLP framing (HL7 v2 over TCP) with size and time limits, and a client.
//! - [`signal`]: the shutdown signal (SIGINT, SIGTERM).
//! - [`tls`]: mutual TLS configuration and what client certificates say about their holder.
//! - [`trust`]: the VIHF assertion verified into the request's `Caller`.
//! - [`daemon`]: logging, standard output lines and exit codes of the daemon binaries.
//! - [`metrics`]: the counters and histograms the adapters keep, in the Prometheus format.
//! - [`admin`]: the admin listener (metrics, health, readiness, online backup).
//! - [`backup`]: backup folders of the stores' checkpoints and their restore.

pub mod admin;
pub mod backup;
pub mod client;
pub mod daemon;
pub mod http;
pub mod metrics;
pub mod mllp;
pub mod security;
pub mod signal;
pub mod soap;
pub mod tls;
pub mod trust;
