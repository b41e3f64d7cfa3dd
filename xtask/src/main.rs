//! The project's entry points (`cargo xtask <command>`): run the product, run every test,
//! build the browser bundle. Each installs what it needs from the package registries the
//! first time, and skips what is already there.
//!
//! Why an xtask instead of cargo-leptos: cargo-leptos must be compiled from source here
//! (15-30 minutes on 2 cores) and downloads tools from outside the registries. The xtask links
//! `wasm-bindgen-cli-support` (the library inside the wasm-bindgen CLI, pinned to the same
//! version as the `wasm-bindgen` crate) and calls Tailwind and wasm-opt from npm, so a
//! fresh machine builds the site with nothing but cargo, npm and apt.
// A command-line tool at the edge: it prints, and it may block while it polls a child.
#![allow(clippy::print_stdout, clippy::print_stderr, clippy::disallowed_methods)]

mod bench;
mod fuzz;
mod postgres;
mod process;
mod site;
mod suite;
mod tools;

use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(about = "Run, test and build the SCIM portal")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Build everything and serve the portal on http://127.0.0.1:3000 (SQLite under ./data
    /// unless DATABASE_URL says otherwise). Arguments after `--` go to the server.
    Run {
        /// Build without optimisations: quicker to build, slower to run.
        #[arg(long)]
        dev: bool,
        /// Demo mode: a tenant `demo` provisioned by a simulated identity provider built
        /// into the server (the server's `--demo`).
        #[arg(long)]
        demo: bool,
        #[arg(last = true)]
        server_args: Vec<String>,
    },
    /// Every check and test: formatting, clippy, unit and integration tests on SQLite and
    /// PostgreSQL, and browser tests in headless Chromium against a release build.
    Test {
        /// Skip the browser tests (and the release build they need).
        #[arg(long)]
        no_browser: bool,
    },
    /// Measure the SCIM service: a release server on a fresh database per backend, one
    /// directory, and the load generator (`bench/`). Arguments after `--` go to it:
    /// `--users`, `--requests`, `--concurrency`, `--bulk-users`.
    Bench {
        /// `sqlite`, `postgres` or `both`.
        #[arg(long, default_value = "both")]
        backend: String,
        #[arg(last = true)]
        load: Vec<String>,
    },
    /// Fuzz the protocol core's parsers and PATCH (cargo-fuzz, nightly) for a while each.
    Fuzz {
        /// Seconds per target.
        #[arg(long, default_value_t = 60)]
        seconds: u64,
    },
    /// Build the browser bundle and the server binary.
    Build {
        /// Build without optimisations.
        #[arg(long)]
        dev: bool,
    },
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run { dev, demo, server_args } => {
            let demo_flag = demo.then(|| "--demo".to_owned());
            let server_args: Vec<String> = demo_flag.into_iter().chain(server_args).collect();
            run(profile(dev), &server_args)
        }
        Command::Test { no_browser } => suite::run(&suite::Options { browser: !no_browser }),
        Command::Build { dev } => site::build(profile(dev)).map(|_| ()),
        Command::Fuzz { seconds } => fuzz::run(seconds),
        Command::Bench { backend, load } => {
            let backends = match backend.as_str() {
                "both" => vec!["sqlite".to_owned(), "postgres".to_owned()],
                one => vec![one.to_owned()],
            };
            bench::run(&bench::Options { backends, load })
        }
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("xtask: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn profile(dev: bool) -> site::Profile {
    if dev { site::Profile::Dev } else { site::Profile::Release }
}

fn run(profile: site::Profile, server_args: &[String]) -> anyhow::Result<()> {
    let server = site::build(profile)?;
    println!();
    println!(
        "Starting the portal; it prints its address and, on the first start, how to sign in. Stop it with Ctrl-C."
    );
    println!(
        "Database: {}",
        std::env::var("DATABASE_URL").unwrap_or_else(|_| "sqlite://data/portal.db (default)".into())
    );
    println!();
    let status = std::process::Command::new(&server).args(server_args).current_dir(workspace_root()).status()?;
    anyhow::ensure!(status.success(), "the server exited with {status}");
    Ok(())
}

/// The workspace root: the xtask's manifest sits one folder below it.
fn workspace_root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir.parent().unwrap_or(manifest_dir).to_path_buf()
}
