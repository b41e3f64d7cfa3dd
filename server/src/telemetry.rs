//! Structured logs with `tracing` on stderr (readable text by default, JSON for
//! collectors), and optionally the same spans exported as OpenTelemetry traces (OTLP over
//! HTTP with protobuf), configured by the standard `OTEL_*` variables and off unless an
//! OTLP endpoint is set.

use anyhow::Context as _;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Layer as _};

use crate::config::{LogConfig, LogFormat};

/// The service name traces carry when `OTEL_SERVICE_NAME` does not set one.
const SERVICE_NAME: &str = "scim-portal";

/// Which spans become traces: the server's own at `info` and above, not the database
/// driver's per-statement events.
const TRACE_FILTER: &str = "info,sqlx=warn";

/// What was installed; [`Telemetry::shutdown`] sends the traces still buffered.
#[derive(Debug, Default)]
pub struct Telemetry {
    traces: Option<SdkTracerProvider>,
}

impl Telemetry {
    /// Exports what is still buffered and stops the exporter (blocks up to its timeout).
    pub fn shutdown(self) {
        if let Some(traces) = self.traces
            && let Err(error) = traces.shutdown()
        {
            tracing::warn!(%error, "the last traces could not be exported");
        }
    }
}

/// Installs the global subscriber: logs, and the trace exporter when the environment asks
/// for one. A filter that does not parse falls back to `info` (and says so) rather than
/// silencing the server. Trace settings that cannot be honoured are an error (logs are
/// installed first, so the caller can log it): a server asked to export traces must not
/// start silently without.
///
/// Call it outside the async runtime: the exporter's blocking HTTP client runs on a thread
/// of its own and must not be made, or dropped, on a runtime thread.
pub fn init(config: &LogConfig) -> anyhow::Result<Telemetry> {
    let (filter, bad_filter) = match EnvFilter::try_new(&config.filter) {
        Ok(filter) => (filter, None),
        Err(error) => (EnvFilter::new("info"), Some(error)),
    };
    let traces = trace_exporter(&|name| std::env::var(name).ok());
    // Logs go to stderr; stdout carries command answers (`server admin … --json`) that
    // scripts read. Colours only for a terminal.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let logs = tracing_subscriber::fmt::layer().with_target(true).with_ansi(ansi).with_writer(std::io::stderr);
    let logs = match config.format {
        LogFormat::Text => logs.boxed(),
        LogFormat::Json => logs.json().flatten_event(true).boxed(),
    };
    // Spans are exported at `info` whatever the log filter says: an operator who logs only
    // warnings still wants a trace of every request.
    let exported = traces.as_ref().ok().and_then(Option::as_ref).map(|provider| {
        tracing_opentelemetry::layer()
            .with_tracer(provider.tracer(SERVICE_NAME))
            .with_filter(EnvFilter::new(TRACE_FILTER))
    });
    let installed = tracing_subscriber::registry().with(logs.with_filter(filter)).with(exported).try_init();
    if installed.is_err() {
        // Already installed (tests start several servers in one process).
        return Ok(Telemetry::default());
    }
    log_panics();
    if let Some(error) = bad_filter {
        tracing::warn!(filter = %config.filter, %error, "ignoring the log filter; logging at info");
    }
    let traces = traces?;
    if traces.is_some() {
        // Requests that arrive with a W3C `traceparent` continue the caller's trace.
        opentelemetry::global::set_text_map_propagator(opentelemetry_sdk::propagation::TraceContextPropagator::new());
        tracing::info!("exporting traces over OTLP");
    }
    Ok(Telemetry { traces })
}

/// The trace exporter the `OTEL_*` variables (read through `variable`) ask for: none
/// unless `OTEL_EXPORTER_OTLP_ENDPOINT` or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` is set
/// (and neither `OTEL_SDK_DISABLED=true` nor `OTEL_TRACES_EXPORTER=none`). The exporter
/// itself reads the endpoint, `…_HEADERS` and `…_TIMEOUT`; the SDK reads the sampler
/// (`OTEL_TRACES_SAMPLER`), the batching (`OTEL_BSP_*`) and `OTEL_RESOURCE_ATTRIBUTES`.
fn trace_exporter(variable: &dyn Fn(&str) -> Option<String>) -> anyhow::Result<Option<SdkTracerProvider>> {
    let set = |name: &str| variable(name).map(|value| value.trim().to_owned()).filter(|value| !value.is_empty());
    if set("OTEL_SDK_DISABLED").is_some_and(|value| value.eq_ignore_ascii_case("true")) {
        return Ok(None);
    }
    match set("OTEL_TRACES_EXPORTER").map(|value| value.to_ascii_lowercase()).as_deref() {
        None | Some("otlp") => {}
        Some("none") => return Ok(None),
        Some(other) => anyhow::bail!("OTEL_TRACES_EXPORTER={other:?}: this server exports traces with otlp or none"),
    }
    if set("OTEL_EXPORTER_OTLP_ENDPOINT").is_none() && set("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT").is_none() {
        return Ok(None);
    }
    let protocol = set("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL").or_else(|| set("OTEL_EXPORTER_OTLP_PROTOCOL"));
    if let Some(protocol) = protocol.filter(|protocol| protocol != "http/protobuf") {
        anyhow::bail!(
            "OTEL_EXPORTER_OTLP_PROTOCOL={protocol:?}: this server exports traces over http/protobuf only \
             (an OpenTelemetry Collector accepts it on port 4318)"
        );
    }
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .build()
        .context("setting up the OTLP trace exporter from OTEL_EXPORTER_OTLP_*")?;
    let mut resource = opentelemetry_sdk::Resource::builder();
    if set("OTEL_SERVICE_NAME").is_none() {
        resource = resource.with_service_name(SERVICE_NAME);
    }
    let provider = SdkTracerProvider::builder().with_batch_exporter(exporter).with_resource(resource.build()).build();
    Ok(Some(provider))
}

/// The trace context a request arrived with (`traceparent`), if traces are exported.
pub(crate) fn remote_parent(headers: &axum::http::HeaderMap) -> opentelemetry::Context {
    struct Headers<'a>(&'a axum::http::HeaderMap);
    impl opentelemetry::propagation::Extractor for Headers<'_> {
        fn get(&self, key: &str) -> Option<&str> {
            self.0.get(key).and_then(|value| value.to_str().ok())
        }
        fn keys(&self) -> Vec<&str> {
            self.0.keys().map(axum::http::HeaderName::as_str).collect()
        }
    }
    opentelemetry::global::get_text_map_propagator(|propagator| propagator.extract(&Headers(headers)))
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
    use super::{panic_message, trace_exporter};

    fn exporter_for(variables: &[(&str, &str)]) -> anyhow::Result<bool> {
        let lookup = |name: &str| variables.iter().find(|(key, _)| *key == name).map(|(_, value)| (*value).to_owned());
        trace_exporter(&lookup).map(|provider| provider.is_some())
    }

    #[test]
    fn traces_are_exported_only_when_an_otlp_endpoint_is_set_and_nothing_turns_them_off() {
        let endpoint = ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318");
        assert!(!exporter_for(&[]).unwrap());
        assert!(!exporter_for(&[("OTEL_EXPORTER_OTLP_ENDPOINT", " ")]).unwrap());
        assert!(exporter_for(&[endpoint]).unwrap());
        assert!(exporter_for(&[("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://127.0.0.1:4318/v1/traces")]).unwrap());
        assert!(exporter_for(&[endpoint, ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")]).unwrap());
        assert!(!exporter_for(&[endpoint, ("OTEL_SDK_DISABLED", "TRUE")]).unwrap());
        assert!(!exporter_for(&[endpoint, ("OTEL_TRACES_EXPORTER", "none")]).unwrap());
    }

    #[test]
    fn trace_settings_that_cannot_be_honoured_stop_the_start() {
        let endpoint = ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4317");
        let grpc = exporter_for(&[endpoint, ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")]).unwrap_err().to_string();
        assert!(grpc.contains("http/protobuf only"), "{grpc}");
        let zipkin = exporter_for(&[endpoint, ("OTEL_TRACES_EXPORTER", "zipkin")]).unwrap_err().to_string();
        assert!(zipkin.contains("otlp or none"), "{zipkin}");
    }

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
