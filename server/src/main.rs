//! The portal and SCIM server. Everything lives in the library so tests can start it.

use clap::Parser;

// Small, short-lived allocations dominate a SCIM request (JSON values, strings); glibc
// malloc spent an eighth of the server's CPU on them in the get-by-id benchmark.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = server::config::Cli::parse();
    server::telemetry::init(&cli.config.log);
    match server::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("{error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
