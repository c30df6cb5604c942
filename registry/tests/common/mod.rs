//! Test support of the registry: the shared harness support (`xds_conformance::support`) with
//! the registry's binary, paths and offline commands.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::Path;

use xds::error::RegistryResponse;
use xds::model::{Metadata, QueryResponse, StoredQueryRequest};
pub use xds_conformance::support::*;

pub const BINARY: &str = env!("CARGO_BIN_EXE_xds-registry");
pub const PATH: &str = "/xds/registry";

/// Starts the registry binary on loopback with a fresh data directory (see `Daemon::start`).
pub fn start_registry(data_dir: &Path, extra: &[&str]) -> Daemon {
    Daemon::start(Path::new(BINARY), data_dir, extra)
}

/// Registers patients with the registry's offline command.
pub fn patient_add(data_dir: &Path, ids: &[&str]) {
    xds_conformance::support::patient_add(Path::new(BINARY), data_dir, ids);
}

/// ITI-42 over SOAP.
pub fn register(address: SocketAddr, metadata: &Metadata) -> RegistryResponse {
    xds_conformance::support::register(address, PATH, metadata)
}

/// ITI-18 over SOAP.
pub fn query(address: SocketAddr, request: &StoredQueryRequest) -> QueryResponse {
    xds_conformance::support::query(address, PATH, request)
}
