//! `xds-registry`: the XDS.b Document Registry daemon.
//!
//! Layout (ARCHITECTURE.md, "Registry"):
//! - [`store`]: the storage port ([`store::MetadataStore`]) and its key-value implementation
//!   over RocksDB (`store/rocks.rs`, the only file naming RocksDB) or memory.
//! - [`identity`]: patient identity: the INS and affinity-domain policy, identity records,
//!   the ITI-8 feed (HL7 v2 ADT) and its MLLP listener ([`mllp`]).
//! - [`service`]: ITI-42 (checks needing registry state, effects of associations) through the
//!   single group-committing writer, and ITI-18 (the 14 stored queries).
//! - [`soap`], [`server`]: the SOAP 1.2 adapter and the HTTP listener.
//! - [`config`]: configuration file, environment and flags, validated before binding.
//! - [`patients`]: the operator's offline identity commands (`patient add|show|merge`).
//! - [`import`]: bulk load of submission files through the same validation.
//! - [`app`]: what the binary's commands do.

pub mod access;
pub mod admin;
pub mod app;
pub mod audit;
pub mod config;
pub mod dmp_cli;
pub mod dmp_soap;
pub mod grpc;
pub mod identity;
pub mod import;
pub mod mllp;
pub mod patients;
pub mod server;
pub mod service;
pub mod soap;
pub mod store;
