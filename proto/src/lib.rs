//! The gRPC contract: messages and services generated from proto/xds/v1 ([`v1`]), the
//! conversions between those messages and the xds model ([`metadata`], [`query`],
//! [`documents`]), the mapping of XDS outcomes to gRPC statuses ([`status`]), and how the VIHF
//! assertion travels in request metadata ([`security`]).

pub mod documents;
pub mod metadata;
#[cfg(feature = "server")]
pub mod observe;
pub mod query;
pub mod security;
#[cfg(feature = "server")]
pub mod server;
pub mod status;

/// Generated code of package `xds.v1`.
#[allow(
    clippy::all,
    clippy::pedantic,
    missing_debug_implementations,
    unused_qualifications
)]
pub mod v1 {
    tonic::include_proto!("xds.v1");
}

/// The encoded file descriptor set of package `xds.v1`, for server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("xds_v1_descriptor");
