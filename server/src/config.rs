//! Configuration from command-line flags and environment variables (flags win), with
//! defaults that run the product on one machine with a SQLite file.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use store::DatabaseUrl;

/// Self-hostable SCIM onboarding portal: the SCIM 2.0 service, the operator API and the
/// portal in one process.
#[derive(Debug, Parser)]
#[command(version, about)]
pub struct Cli {
    #[command(flatten)]
    pub config: Config,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// What to do; without a subcommand the server serves.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the portal, the SCIM endpoints and the API (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
}

/// Settings shared by every subcommand.
#[derive(Debug, Clone, Args)]
pub struct Config {
    /// Where the data lives: `sqlite:<path>` (created if missing) or
    /// `postgres://user:password@host:port/database`.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://data/portal.db",
        global = true
    )]
    pub database_url: DatabaseUrl,

    /// Most database connections the server opens.
    #[arg(
        long,
        env = "DATABASE_MAX_CONNECTIONS",
        default_value_t = 16,
        global = true
    )]
    pub database_max_connections: u32,

    /// Address and port to listen on. Use 0.0.0.0:3000 to accept connections from other hosts.
    #[arg(
        long,
        env = "BIND_ADDR",
        default_value = "127.0.0.1:3000",
        global = true
    )]
    pub bind: SocketAddr,

    /// The folder holding the built browser bundle (`pkg/portal.js`, `.wasm`, `.css`), as
    /// written by `cargo xtask build`.
    #[arg(long, env = "SITE_ROOT", default_value = "target/site", global = true)]
    pub site_root: PathBuf,

    /// Seconds to let in-flight requests finish after SIGTERM or Ctrl-C before exiting.
    #[arg(
        long,
        env = "SHUTDOWN_GRACE_SECONDS",
        default_value_t = 20,
        global = true
    )]
    pub shutdown_grace_seconds: u64,

    #[command(flatten)]
    pub log: LogConfig,
}

/// Logging. The filter uses `RUST_LOG` syntax (e.g. `info,server=debug`).
#[derive(Debug, Clone, Args)]
pub struct LogConfig {
    /// Which events to log, in `RUST_LOG` syntax.
    #[arg(
        long = "log-filter",
        env = "RUST_LOG",
        default_value = "info,sqlx=warn",
        global = true
    )]
    pub filter: String,
    /// `text` for people, `json` for log collectors.
    #[arg(long = "log-format", env = "LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub format: LogFormat,
}

/// The shape of log lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_run_on_a_local_sqlite_file() {
        let cli = Cli::try_parse_from(["server"]).unwrap();
        assert_eq!(cli.config.database_url.backend(), store::Backend::Sqlite);
        assert_eq!(
            cli.config.bind,
            "127.0.0.1:3000".parse::<SocketAddr>().unwrap()
        );
        assert!(cli.command.is_none());
    }

    #[test]
    fn a_postgres_url_selects_postgres() {
        let cli = Cli::try_parse_from([
            "server",
            "--database-url",
            "postgres://app@db/portal",
            "migrate",
        ])
        .unwrap();
        assert_eq!(cli.config.database_url.backend(), store::Backend::Postgres);
        assert!(matches!(cli.command, Some(Command::Migrate)));
    }

    #[test]
    fn an_unknown_database_scheme_is_refused_at_parse_time() {
        let error = Cli::try_parse_from(["server", "--database-url", "mysql://x"]).unwrap_err();
        assert!(
            error.to_string().contains("unsupported database URL"),
            "{error}"
        );
    }
}
