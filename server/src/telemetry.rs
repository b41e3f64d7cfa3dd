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
        let message = panic_message(info.payload());
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

/// What a panic said, if it said it as text (a `&str` or a `String`, as `panic!` makes them).
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "a panic without a message".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::panic_message;

    #[test]
    fn a_panic_message_is_read_from_either_kind_of_payload() {
        let borrowed: Box<dyn std::any::Any + Send> = Box::new("static text");
        let owned: Box<dyn std::any::Any + Send> = Box::new(String::from("formatted text"));
        let other: Box<dyn std::any::Any + Send> = Box::new(7_u8);

        assert_eq!(panic_message(borrowed.as_ref()), "static text");
        assert_eq!(panic_message(owned.as_ref()), "formatted text");
        assert_eq!(panic_message(other.as_ref()), "a panic without a message");
    }
}
