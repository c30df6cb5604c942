//! `xds-repository` binary: see `xds_repository::app`.

use std::process::ExitCode;

use clap::Parser;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = xds_repository::app::Cli::parse();
    xds::net::daemon::init_tracing(cli.log_format);
    xds::net::daemon::exit("xds-repository", xds_repository::app::run(cli))
}
