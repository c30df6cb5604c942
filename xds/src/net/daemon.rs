//! What both daemon binaries do the same way: logging to standard error (filter from
//! `XDS_LOG`), the lines scripts wait for on standard output, and exit codes (0 done, 64 bad
//! usage or configuration with nothing started, 1 runtime failure).

use std::io::Write;
use std::process::ExitCode;

/// A failure with its exit code.
#[derive(Debug)]
pub struct Failure {
    pub code: i32,
    pub message: String,
}

impl Failure {
    /// Bad usage or configuration (exit 64): nothing was started.
    pub fn usage(message: impl Into<String>) -> Self {
        Self {
            code: 64,
            message: message.into(),
        }
    }

    /// A failure at run time (exit 1).
    pub fn runtime(message: impl Into<String>) -> Self {
        Self {
            code: 1,
            message: message.into(),
        }
    }
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// One human-readable line per event (the default).
    #[default]
    Text,
    /// One JSON object per line (`timestamp`, `level`, `fields`, `target`, `span` with the
    /// request's `correlation_id`), for log collectors.
    Json,
}

impl std::str::FromStr for LogFormat {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "text" => Ok(Self::Text),
            "json" => Ok(Self::Json),
            other => Err(format!("log format {other:?} is neither text nor json")),
        }
    }
}

/// Logs to standard error in `format`; `XDS_LOG` holds the filter (default `info`). Events at
/// INFO and above never carry patient identifiers, names or document content; requests run
/// in a span carrying their correlation id (wsa:MessageID, gRPC `x-request-id`).
pub fn init_tracing(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("XDS_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .init(),
    }
}

/// The correlation id of a request: the caller's (wsa:MessageID, `x-request-id`) when it is a
/// short printable token, a fresh `urn:uuid:` otherwise. A caller's value is never trusted
/// blindly into logs: control characters and overlong values are replaced.
pub fn correlation_id(offered: Option<&str>) -> String {
    match offered {
        Some(id)
            if !id.is_empty()
                && id.len() <= 128
                && id.bytes().all(|byte| byte.is_ascii_graphic()) =>
        {
            id.to_owned()
        }
        _ => super::soap::random_uuid_urn(),
    }
}

/// Prints one line on standard output at once (`listening on ADDR (PROTO)`, command reports).
pub fn say(line: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{line}");
    let _ = stdout.flush();
}

/// The process exit for a command's result, printing the failure as `NAME: message`.
pub fn exit(name: &str, result: Result<(), Failure>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            let mut stderr = std::io::stderr().lock();
            let _ = writeln!(stderr, "{name}: {}", failure.message);
            ExitCode::from(u8::try_from(failure.code).unwrap_or(1))
        }
    }
}

/// An optional listener address (`name` is the key and flag, for the message).
pub fn optional_listen(
    name: &str,
    value: &Option<String>,
    problems: &mut Vec<String>,
) -> Option<std::net::SocketAddr> {
    let text = value.as_ref()?;
    match text.parse() {
        Ok(address) => Some(address),
        Err(_) => {
            problems.push(format!("{name} {text:?} is not ADDR:PORT"));
            None
        }
    }
}

/// The `[server]` checks both daemons make, each problem appended to `problems`: the listen
/// address and endpoint paths. Returns the listen address if valid.
pub fn check_server(
    listen: &str,
    paths: &[&String],
    problems: &mut Vec<String>,
) -> Option<std::net::SocketAddr> {
    let address = listen.parse().ok();
    if address.is_none() {
        problems.push(format!("server.listen {listen:?} is not ADDR:PORT"));
    }
    for path in paths {
        if !path.starts_with('/') {
            problems.push(format!("endpoint path {path:?} must start with '/'"));
        }
    }
    address
}
