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
    log_panics();
    if let Some(error) = bad_filter {
        tracing::warn!(filter = %config.filter, %error, "ignoring the log filter; logging at info");
    }
}

/// Panics are logged like every other error: one line, inside the span of the request they
/// happened in (so it carries the request id), with where in the code, and the backtrace
/// when `RUST_BACKTRACE` asks for one.
fn log_panics() {
    std::panic::set_hook(Box::new(|info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<&str>()
            .map(|text| (*text).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic without a message".to_owned());
        let location = info.location().map(|at| format!("{}:{}", at.file(), at.line())).unwrap_or_default();
        let thread = std::thread::current().name().unwrap_or("unnamed").to_owned();
        let backtrace = std::backtrace::Backtrace::capture();
        if backtrace.status() == std::backtrace::BacktraceStatus::Captured {
            tracing::error!(panic = %message, %location, %thread, %backtrace, "a thread panicked");
        } else {
            tracing::error!(panic = %message, %location, %thread, "a thread panicked");
        }
    }));
}
