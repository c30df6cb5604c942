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

/// Logs to standard error; `XDS_LOG` holds the filter (default `info`).
pub fn init_tracing() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("XDS_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
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
/// address, listeners this version does not have (`(name, value)` pairs), and endpoint paths. Returns the listen address if valid.
pub fn check_server(
    listen: &str,
    unavailable: &[(&str, &Option<String>)],
    paths: &[&String],
    problems: &mut Vec<String>,
) -> Option<std::net::SocketAddr> {
    let address = listen.parse().ok();
    if address.is_none() {
        problems.push(format!("server.listen {listen:?} is not ADDR:PORT"));
    }
    for (name, value) in unavailable {
        if value.is_some() {
            problems.push(format!(
                "{name}: this listener is not available in this version"
            ));
        }
    }
    for path in paths {
        if !path.starts_with('/') {
            problems.push(format!("endpoint path {path:?} must start with '/'"));
        }
    }
    address
}
