//! `xds`: the XDS.b vocabulary shared by the registry, the repository, the profiles, the gRPC
//! contract and the conformance harness.
//!
//! Layout:
//! - [`model`]: strict metadata types (DocumentEntry, SubmissionSet, Folder, Association, ids,
//!   HL7 v2 data types, stored queries) that services and stores work with.
//! - [`wire`]: SOAP 1.2 + WS-Addressing envelopes and faults, MTOM/XOP multipart with streamed
//!   attachments, and streaming ebRIM 3.0 / ebRS readers and writers on quick-xml, producing
//!   loose mirror types.
//! - [`transform`]: wire -> model (collecting every violation with its location) and
//!   model -> wire.
//! - [`validate`]: IHE XDS.b rules that need no registry state, and the `Profile` trait that
//!   affinity-domain rules plug into.
//! - [`hl7v2`]: HL7 v2 messages (ER7) for the patient identity feed: parser and writer.
//! - [`error`]: the closed set of XDS error codes and the RegistryResponse status model.
//! - [`transaction`]: the one table of transactions we speak.
//! - `net` (feature `net`): the HTTP glue the daemons share (listener, streamed bodies, SOAP
//!   answers, SOAP client). It is the only module that names tokio or hyper.
//!
//! Architecture invariants: outside `net`, nothing here does IO beyond the `std::io::Read`/`Write` streams the
//! caller hands in; nothing names tokio, hyper, tonic, rustls or RocksDB; `model` never imports
//! `wire`.

pub mod error;
pub mod hl7v2;
pub mod model;
#[cfg(feature = "net")]
pub mod net;
pub mod transaction;
pub mod transform;
pub mod validate;
pub mod wire;

pub use error::{RegistryError, RegistryResponse, ResponseStatus, Severity, XdsErrorCode};
