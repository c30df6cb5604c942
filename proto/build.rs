//! Generates the messages, clients and servers of proto/xds/v1 with the vendored protoc, and the
//! encoded file descriptor set that server reflection serves.

use std::path::PathBuf;

const PROTOS: [&str; 5] = [
    "xds/v1/metadata.proto",
    "xds/v1/registry.proto",
    "xds/v1/repository.proto",
    "xds/v1/identity.proto",
    "xds/v1/policy.proto",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = PathBuf::from(std::env::var("OUT_DIR")?);
    let mut config = tonic_prost_build::Config::new();
    config.protoc_executable(protoc_bin_vendored::protoc_bin_path()?);
    tonic_prost_build::configure()
        .file_descriptor_set_path(out.join("xds_v1_descriptor.bin"))
        .compile_with_config(config, &PROTOS, &["."])?;
    for proto in PROTOS {
        println!("cargo:rerun-if-changed={proto}");
    }
    Ok(())
}
