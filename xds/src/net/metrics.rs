//! The daemon's metrics, exposed in the Prometheus text format (version 0.0.4) on the admin
//! listener: what the adapters count as they answer (transactions by outcome with their
//! latency, XDS errors by code, access-policy refusals by reason, HL7 feed messages) plus the
//! gauges a daemon reads from its stores at scrape time.
//!
//! Counting is one short critical section per answered request; nothing here blocks on IO.
//! Label values come from closed vocabularies (transaction names, XDS error codes, refusal
//! tokens, HL7 event and acknowledgement codes), never from patient data.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use crate::error::{RegistryError, RegistryResponse, ResponseStatus};

/// Upper bounds (seconds) of the latency histogram's buckets.
const BUCKETS: [f64; 15] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

#[derive(Debug, Clone, Default)]
struct Histogram {
    /// Observations per bucket (not cumulative; the exposition accumulates).
    counts: [u64; BUCKETS.len()],
    /// Observations above the last bound.
    over: u64,
    sum: f64,
}

impl Histogram {
    fn observe(&mut self, seconds: f64) {
        match BUCKETS.iter().position(|bound| seconds <= *bound) {
            Some(index) => self.counts[index] += 1,
            None => self.over += 1,
        }
        self.sum += seconds;
    }

    fn count(&self) -> u64 {
        self.counts.iter().sum::<u64>() + self.over
    }
}

#[derive(Debug, Default)]
struct Counts {
    /// (protocol, transaction, outcome) -> requests.
    requests: BTreeMap<(String, String, String), u64>,
    /// (protocol, transaction) -> latency.
    durations: BTreeMap<(String, String), Histogram>,
    /// XDS error code -> errors answered.
    errors: BTreeMap<String, u64>,
    /// Refusal reason -> refusals.
    refusals: BTreeMap<String, u64>,
    /// (event, acknowledgement code) -> HL7 messages.
    mllp: BTreeMap<(String, String), u64>,
}

/// Names and help of the gauges both daemons expose.
pub const STORE_BYTES: (&str, &str) = (
    "xds_store_disk_bytes",
    "Bytes of the store's table and blob files on disk.",
);
pub const OUTBOX_RECORDS: (&str, &str) = (
    "xds_outbox_records",
    "Records waiting in a durable outbox: audit (registry: for the ATNA audit repository), submissions (repository: ITI-41 submissions whose registration is in doubt, settled with the registry).",
);

/// The process's metrics (one daemon per process).
#[derive(Debug, Default)]
pub struct Metrics {
    counts: Mutex<Counts>,
}

/// The process-wide metrics every adapter counts into.
pub fn global() -> &'static Metrics {
    static METRICS: OnceLock<Metrics> = OnceLock::new();
    METRICS.get_or_init(Metrics::default)
}

/// A value read at scrape time (store sizes, outbox depths).
#[derive(Debug, Clone)]
pub struct Gauge {
    pub name: &'static str,
    pub help: &'static str,
    pub labels: Vec<(&'static str, String)>,
    pub value: f64,
}

impl Gauge {
    pub fn new(name: &'static str, help: &'static str, value: f64) -> Self {
        Self {
            name,
            help,
            labels: Vec::new(),
            value,
        }
    }

    pub fn labelled(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.labels.push((name, value.into()));
        self
    }
}

/// The outcome label of a RegistryResponse.
pub fn outcome_of(response: &RegistryResponse) -> &'static str {
    match response.status {
        ResponseStatus::Success => "success",
        ResponseStatus::PartialSuccess => "partial_success",
        ResponseStatus::Failure => "failure",
    }
}

impl Metrics {
    fn with(&self, change: impl FnOnce(&mut Counts)) {
        // A panic elsewhere while holding the lock leaves counts that are still counts.
        let mut counts = match self.counts.lock() {
            Ok(counts) => counts,
            Err(poisoned) => poisoned.into_inner(),
        };
        change(&mut counts);
    }

    /// One answered request: `outcome` is `success`, `partial_success`, `failure`, `fault` or a
    /// gRPC status code name.
    pub fn request(&self, protocol: &str, transaction: &str, outcome: &str, elapsed: Duration) {
        self.with(|counts| {
            *counts
                .requests
                .entry((
                    protocol.to_owned(),
                    transaction.to_owned(),
                    outcome.to_owned(),
                ))
                .or_default() += 1;
            counts
                .durations
                .entry((protocol.to_owned(), transaction.to_owned()))
                .or_default()
                .observe(elapsed.as_secs_f64());
        });
    }

    /// The errors of an answer: each counted by XDS code, refusals also by their token.
    pub fn errors(&self, errors: &[RegistryError]) {
        if errors.is_empty() {
            return;
        }
        self.with(|counts| {
            for error in errors {
                *counts
                    .errors
                    .entry(error.code.as_str().to_owned())
                    .or_default() += 1;
                if let Some(token) = crate::error::refusal_token(&error.code_context) {
                    *counts.refusals.entry(token.to_owned()).or_default() += 1;
                }
            }
        });
    }

    /// One answered XDS transaction: request, latency and errors.
    pub fn response(
        &self,
        protocol: &str,
        transaction: &str,
        response: &RegistryResponse,
        started: Instant,
    ) {
        self.errors(&response.errors);
        self.request(
            protocol,
            transaction,
            outcome_of(response),
            started.elapsed(),
        );
    }

    /// A caller refused before any transaction (certificate, assertion): `reason` is the
    /// WS-Security fault subcode or gRPC status.
    pub fn refusal(&self, reason: &str) {
        self.with(|counts| *counts.refusals.entry(reason.to_owned()).or_default() += 1);
    }

    /// One HL7 message of the identity feed and the acknowledgement code it got.
    pub fn mllp(&self, event: &str, ack: &str) {
        // Events are short codes (A01, A40); anything else is not a label value we keep.
        let event = if !event.is_empty()
            && event.len() <= 8
            && event.bytes().all(|byte| byte.is_ascii_alphanumeric())
        {
            event
        } else {
            "other"
        };
        self.with(|counts| {
            *counts
                .mllp
                .entry((event.to_owned(), ack.to_owned()))
                .or_default() += 1;
        });
    }

    /// The exposition: every counter and histogram, then `gauges`.
    pub fn render(&self, daemon: &str, gauges: &[Gauge]) -> String {
        let mut out = String::with_capacity(8 * 1024);
        family(
            &mut out,
            "xds_build_info",
            "gauge",
            "The daemon and its version.",
        );
        sample(
            &mut out,
            "xds_build_info",
            &[("daemon", daemon), ("version", env!("CARGO_PKG_VERSION"))],
            1.0,
        );
        let counts = match self.counts.lock() {
            Ok(counts) => counts,
            Err(poisoned) => poisoned.into_inner(),
        };
        family(
            &mut out,
            "xds_requests_total",
            "counter",
            "Requests answered, by protocol, transaction and outcome.",
        );
        for ((protocol, transaction, outcome), value) in &counts.requests {
            sample(
                &mut out,
                "xds_requests_total",
                &[
                    ("protocol", protocol),
                    ("transaction", transaction),
                    ("outcome", outcome),
                ],
                *value as f64,
            );
        }
        family(
            &mut out,
            "xds_request_duration_seconds",
            "histogram",
            "Time from the request's arrival to its answer, by protocol and transaction.",
        );
        for ((protocol, transaction), histogram) in &counts.durations {
            let labels = [
                ("protocol", protocol.as_str()),
                ("transaction", transaction),
            ];
            let mut cumulative = 0;
            for (bound, count) in BUCKETS.iter().zip(histogram.counts) {
                cumulative += count;
                let le = format!("{bound}");
                sample(
                    &mut out,
                    "xds_request_duration_seconds_bucket",
                    &[labels[0], labels[1], ("le", &le)],
                    cumulative as f64,
                );
            }
            sample(
                &mut out,
                "xds_request_duration_seconds_bucket",
                &[labels[0], labels[1], ("le", "+Inf")],
                histogram.count() as f64,
            );
            sample(
                &mut out,
                "xds_request_duration_seconds_sum",
                &labels,
                histogram.sum,
            );
            sample(
                &mut out,
                "xds_request_duration_seconds_count",
                &labels,
                histogram.count() as f64,
            );
        }
        counter(
            &mut out,
            "xds_errors_total",
            "XDS errors answered (RegistryError elements), by error code.",
            "code",
            &counts.errors,
        );
        counter(
            &mut out,
            "xds_policy_refusals_total",
            "Requests refused by the access policy or the caller checks, by refusal token (or WS-Security fault).",
            "reason",
            &counts.refusals,
        );
        family(
            &mut out,
            "xds_mllp_messages_total",
            "counter",
            "HL7 v2 messages of the identity feed (ITI-8), by event and acknowledgement code.",
        );
        for ((event, ack), value) in &counts.mllp {
            sample(
                &mut out,
                "xds_mllp_messages_total",
                &[("event", event), ("ack", ack)],
                *value as f64,
            );
        }
        drop(counts);
        let mut described: Vec<&str> = Vec::new();
        for gauge in gauges {
            if !described.contains(&gauge.name) {
                described.push(gauge.name);
                family(&mut out, gauge.name, "gauge", gauge.help);
            }
            let labels: Vec<(&str, &str)> = gauge
                .labels
                .iter()
                .map(|(name, value)| (*name, value.as_str()))
                .collect();
            sample(&mut out, gauge.name, &labels, gauge.value);
        }
        out
    }
}

fn counter(out: &mut String, name: &str, help: &str, label: &str, values: &BTreeMap<String, u64>) {
    family(out, name, "counter", help);
    for (value_label, value) in values {
        sample(out, name, &[(label, value_label)], *value as f64);
    }
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {}", help.replace('\\', "\\\\"));
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

fn sample(out: &mut String, name: &str, labels: &[(&str, &str)], value: f64) {
    out.push_str(name);
    if !labels.is_empty() {
        out.push('{');
        for (index, (label, value)) in labels.iter().enumerate() {
            if index > 0 {
                out.push(',');
            }
            out.push_str(label);
            out.push_str("=\"");
            for character in value.chars() {
                match character {
                    '\\' => out.push_str("\\\\"),
                    '"' => out.push_str("\\\""),
                    '\n' => out.push_str("\\n"),
                    other => out.push(other),
                }
            }
            out.push('"');
        }
        out.push('}');
    }
    let _ = writeln!(out, " {value}");
}

/// Times one request and counts it when answered.
#[derive(Debug, Clone, Copy)]
pub struct Timer {
    started: Instant,
}

impl Timer {
    pub fn start() -> Self {
        Self {
            started: Instant::now(),
        }
    }

    pub fn started(&self) -> Instant {
        self.started
    }

    /// Counts an answered XDS transaction and logs it (INFO: transaction, outcome, time and
    /// error codes; never identifiers or content).
    pub fn answered(self, protocol: &str, transaction: &str, response: &RegistryResponse) {
        global().response(protocol, transaction, response, self.started);
        // Field values are evaluated only when INFO is enabled.
        tracing::info!(
            protocol,
            transaction,
            outcome = outcome_of(response),
            ms = self.started.elapsed().as_secs_f64() * 1000.0,
            errors = %response
                .errors
                .iter()
                .map(|error| error.code.as_str())
                .collect::<Vec<_>>()
                .join(" "),
            "answered"
        );
    }

    /// Counts a message that could not be decoded (a fault); its log line gets a fresh
    /// correlation id, the message having no MessageID to give.
    pub fn undecodable(self, protocol: &str) {
        let span = tracing::info_span!(
            "soap",
            correlation_id = %super::daemon::correlation_id(None)
        );
        span.in_scope(|| self.ended(protocol, "unknown", "fault"));
    }

    /// Counts a request that got no transaction answer (`outcome`: `fault`, a status name) and
    /// logs it.
    pub fn ended(self, protocol: &str, transaction: &str, outcome: &str) {
        let elapsed = self.started.elapsed();
        global().request(protocol, transaction, outcome, elapsed);
        tracing::info!(
            protocol,
            transaction,
            outcome,
            ms = elapsed.as_secs_f64() * 1000.0,
            "answered"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::XdsErrorCode;

    #[test]
    fn exposition_lists_counts_histograms_and_gauges() {
        let metrics = Metrics::default();
        let refused = RegistryResponse::from_errors(vec![RegistryError::error(
            XdsErrorCode::RegistryError,
            "ACCESS_BLOCKED: this professional is blocked",
        )]);
        metrics.response("soap", "ITI-18", &refused, Instant::now());
        metrics.request("soap", "ITI-18", "success", Duration::from_millis(3));
        metrics.request("grpc", "ITI-18", "OK", Duration::from_secs(60));
        metrics.mllp("A01", "AA");
        metrics.mllp("A01\n", "AE");
        let text = metrics.render(
            "xds-registry",
            &[Gauge::new("xds_store_disk_bytes", "Bytes.", 42.0).labelled("store", "metadata")],
        );
        assert!(text.contains(
            "xds_requests_total{protocol=\"soap\",transaction=\"ITI-18\",outcome=\"failure\"} 1\n"
        ));
        assert!(text.contains(
            "xds_request_duration_seconds_bucket{protocol=\"soap\",transaction=\"ITI-18\",le=\"0.005\"} 2\n"
        ));
        assert!(text.contains(
            "xds_request_duration_seconds_bucket{protocol=\"grpc\",transaction=\"ITI-18\",le=\"30\"} 0\n"
        ));
        assert!(text.contains(
            "xds_request_duration_seconds_bucket{protocol=\"grpc\",transaction=\"ITI-18\",le=\"+Inf\"} 1\n"
        ));
        assert!(text.contains("xds_errors_total{code=\"XDSRegistryError\"} 1\n"));
        assert!(text.contains("xds_policy_refusals_total{reason=\"ACCESS_BLOCKED\"} 1\n"));
        assert!(text.contains("xds_mllp_messages_total{event=\"other\",ack=\"AE\"} 1\n"));
        assert!(text.contains("xds_store_disk_bytes{store=\"metadata\"} 42\n"));
    }
}
