//! `xds-registry` binary: see `xds_registry::app`.

use std::process::ExitCode;

use clap::Parser;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = xds_registry::app::Cli::parse();
    xds::net::daemon::init_tracing(cli.log_format);
    xds::net::daemon::exit("xds-registry", xds_registry::app::run(cli))
}
