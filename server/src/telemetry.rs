//! Structured logs with `tracing` on stderr: readable text by default, JSON for collectors.

use tracing_subscriber::EnvFilter;

use crate::config::{LogConfig, LogFormat};

/// Installs the global subscriber. A filter that does not parse falls back to `info`
/// (and says so) rather than silencing the server.
pub fn init(config: &LogConfig) {
    let (filter, bad_filter) = match EnvFilter::try_new(&config.filter) {
        Ok(filter) => (filter, None),
        Err(error) => (EnvFilter::new("info"), Some(error)),
    };
    // Logs go to stderr; stdout carries command answers (`server admin … --json`) that
    // scripts read. Colours only for a terminal.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(true)
        .with_ansi(ansi)
        .with_writer(std::io::stderr);
    let installed = match config.format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
    if installed.is_err() {
        // Already installed (tests start several servers in one process).
        return;
    }
    if let Some(error) = bad_filter {
        tracing::warn!(filter = %config.filter, %error, "ignoring the log filter; logging at info");
    }
}
