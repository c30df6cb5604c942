//! Test support of the registry: the shared harness support (`xds_conformance::support`) with
//! the registry's binary, paths and offline commands.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;

use xds::error::RegistryResponse;
use xds::model::{Metadata, QueryResponse, StoredQueryRequest};
pub use xds_conformance::support::*;

pub const BINARY: &str = env!("CARGO_BIN_EXE_xds-registry");
pub const PATH: &str = "/xds/registry";

/// Starts the registry binary on loopback with a fresh data directory (see `Daemon::start`).
pub fn start_registry(data_dir: &Path, extra: &[&str]) -> Daemon {
    Daemon::start(Path::new(BINARY), data_dir, extra)
}

/// Runs `xds-registry patient add ID... --data-dir DIR`.
pub fn patient_add(data_dir: &Path, ids: &[&str]) {
    let output = Command::new(BINARY)
        .args(["patient", "add"])
        .args(ids)
        .arg("--data-dir")
        .arg(data_dir)
        .env("XDS_LOG", "warn")
        .output()
        .expect("run patient add");
    assert!(
        output.status.success(),
        "patient add failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// ITI-42 over SOAP.
pub fn register(address: SocketAddr, metadata: &Metadata) -> RegistryResponse {
    xds_conformance::support::register(address, PATH, metadata)
}

/// ITI-18 over SOAP.
pub fn query(address: SocketAddr, request: &StoredQueryRequest) -> QueryResponse {
    xds_conformance::support::query(address, PATH, request)
}
