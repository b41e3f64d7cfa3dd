//! The portal and SCIM server. Everything lives in the library so tests can start it.

use clap::Parser;

// Small, short-lived allocations dominate a SCIM request (JSON values, strings); glibc
// malloc spent an eighth of the server's CPU on them in the get-by-id benchmark.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let cli = server::config::Cli::parse();
    // Before the runtime: the trace exporter's blocking client must not be made on it.
    let telemetry = match server::telemetry::init(&cli.config.log) {
        Ok(telemetry) => telemetry,
        Err(error) => {
            tracing::error!("{error:#}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            tracing::error!(%error, "cannot start the async runtime");
            return std::process::ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(server::run(cli));
    drop(runtime);
    telemetry.shutdown();
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("{error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
