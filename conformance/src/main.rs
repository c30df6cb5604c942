//! `xds-conformance` binary: see `xds_conformance::cli`.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    xds_conformance::cli::main_with(xds_conformance::cli::Cli::parse())
}
