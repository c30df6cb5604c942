//! `xds-repository`: the XDS.b Document Repository daemon.
//!
//! Layout (ARCHITECTURE.md, "Repository"):
//! - [`store`]: the storage port ([`store::DocumentStore`]: chunks, document records,
//!   intents) and its RocksDB implementation (`store/rocks.rs`, the only file naming RocksDB).
//! - [`service`]: ITI-41 (check, durable intent, register, commit or roll back), ITI-43,
//!   ITI-86, and the settling of submissions whose outcome is in doubt.
//! - [`registry_client`]: the registry port and its SOAP adapter (ITI-42, ITI-18).
//! - [`soap`]: the SOAP 1.2 adapter (streamed request and answer bodies).
//! - [`config`]: configuration file, environment and flags, validated before binding.
//! - [`app`]: what the binary's commands do.
//!
//! Architecture invariant: a document is retrievable if and only if it is registered. The
//! only writes that make a document retrievable are in `DocumentStore::commit`, called once
//! the registry accepted the submission (or, when the answer was lost, once it confirmed it).

pub mod admin;
pub mod app;
pub mod config;
pub mod grpc;
pub mod registry_client;
pub mod service;
pub mod soap;
pub mod store;
