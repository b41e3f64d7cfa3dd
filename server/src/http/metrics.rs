//! `/metrics`: the process's measurements in the OpenMetrics text format, for a scraper such
//! as Prometheus. Served on the main listener, on an address of its own, or not at all
//! (`METRICS_LISTEN`); like `/readyz` it is meant for the operator's own network.
//!
//! Counters and histograms are updated as things happen (SCIM requests, background job
//! runs, render panics). Gauges that describe shared state (the audit writer's queue, the
//! connection pool, each webhook endpoint's lag) are read when the scraper asks, so every
//! process of a deployment reports the same lag, read from the database.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use store::{DirectoryId, Store};

use super::AppState;

/// A SCIM request's counter: which directory, which method, and the status class.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ScimRequest {
    directory: String,
    method: &'static str,
    status: &'static str,
}

/// A SCIM request's latency: which directory and method.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ScimLatency {
    directory: String,
    method: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct JobRun {
    job: &'static str,
    outcome: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Job {
    job: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Endpoint {
    tenant: String,
    endpoint: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PoolState {
    state: &'static str,
}

/// The `directory` label of a SCIM request that named no directory of this deployment: a
/// guessed address must not add a series per guess.
const UNKNOWN_DIRECTORY: &str = "unknown";

/// A background job of the process, named in `background_job_runs_total{job=…}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackgroundJob {
    /// Expired sessions and access tokens, audit retention and checkpoints (every 10 min).
    Sweeper,
    /// Deliveries to the operator's own webhook endpoints (every second).
    OperatorWebhooks,
    /// Non-human identities past their expiry (every minute).
    NonhumanExpiry,
    /// Users re-derived after a mapping or role change (every second).
    Republisher,
    /// Deleted directories past their retention (every minute).
    DirectoryPurge,
    /// The alert conditions (`ALERT_CHECK_SECONDS`).
    Alerts,
    /// The Google Workspace connector's due runs (every 10 s).
    GoogleConnector,
}

impl BackgroundJob {
    fn name(self) -> &'static str {
        match self {
            BackgroundJob::Sweeper => "sweeper",
            BackgroundJob::OperatorWebhooks => "operator_webhooks",
            BackgroundJob::NonhumanExpiry => "nonhuman_expiry",
            BackgroundJob::Republisher => "republisher",
            BackgroundJob::DirectoryPurge => "directory_purge",
            BackgroundJob::Alerts => "alerts",
            BackgroundJob::GoogleConnector => "google_connector",
        }
    }
}

/// SCIM latency buckets in seconds: 1 ms to 10 s, so the tail an identity provider times
/// out on (Entra waits about 10 s) is in a bucket of its own.
fn latency_histogram() -> Histogram {
    Histogram::new([0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0])
}

type FloatGauge = Gauge<f64, AtomicU64>;

/// The application's measurements, one registry per application (tests run several in one
/// process, and each must count only its own).
#[derive(Debug, Clone)]
pub struct PortalMetrics {
    registry: Arc<Registry>,
    render_panics: Counter,
    scim_requests: Family<ScimRequest, Counter>,
    scim_latency: Family<ScimLatency, Histogram, fn() -> Histogram>,
    job_runs: Family<JobRun, Counter>,
    job_last_success: Family<Job, FloatGauge>,
    audit_waiting: Gauge,
    audit_lost: Counter,
    pool_connections: Family<PoolState, Gauge>,
    pool_max: Gauge,
    webhook_lag: Family<Endpoint, FloatGauge>,
    webhook_held: Family<Endpoint, Gauge>,
    collection_failures: Counter,
}

impl Default for PortalMetrics {
    fn default() -> Self {
        let metrics = Self {
            registry: Arc::default(),
            render_panics: Counter::default(),
            scim_requests: Family::default(),
            scim_latency: Family::new_with_constructor(latency_histogram),
            job_runs: Family::default(),
            job_last_success: Family::default(),
            audit_waiting: Gauge::default(),
            audit_lost: Counter::default(),
            pool_connections: Family::default(),
            pool_max: Gauge::default(),
            webhook_lag: Family::default(),
            webhook_held: Family::default(),
            collection_failures: Counter::default(),
        };
        let mut registry = Registry::default();
        registry.register(
            "portal_render_panics",
            "Portal requests whose rendering panicked (answered with an error page, status 500)",
            metrics.render_panics.clone(),
        );
        registry.register(
            "scim_requests",
            "SCIM requests answered, by directory, method and status class (2xx, 4xx, 5xx)",
            metrics.scim_requests.clone(),
        );
        registry.register_with_unit(
            "scim_request_duration",
            "Time from a SCIM request's arrival to its answer, by directory and method",
            prometheus_client::registry::Unit::Seconds,
            metrics.scim_latency.clone(),
        );
        registry.register(
            "background_job_runs",
            "Runs of the process's background jobs, by job and outcome (ok, failed)",
            metrics.job_runs.clone(),
        );
        registry.register_with_unit(
            "background_job_last_success_timestamp",
            "When each background job last ran without an error (Unix time)",
            prometheus_client::registry::Unit::Seconds,
            metrics.job_last_success.clone(),
        );
        registry.register(
            "audit_queue_records",
            "Audit records queued by this process and not yet appended to their trail",
            metrics.audit_waiting.clone(),
        );
        registry.register(
            "audit_records_lost",
            "Audit records the database refused twice (each also logged as an error)",
            metrics.audit_lost.clone(),
        );
        registry.register(
            "db_pool_connections",
            "Open database connections of this process, in use or idle",
            metrics.pool_connections.clone(),
        );
        registry.register(
            "db_pool_max_connections",
            "The most connections the pool opens (DATABASE_MAX_CONNECTIONS)",
            metrics.pool_max.clone(),
        );
        registry.register_with_unit(
            "webhook_lag",
            "Age of the oldest change a tenant's webhook endpoint has not received yet (0: none)",
            prometheus_client::registry::Unit::Seconds,
            metrics.webhook_lag.clone(),
        );
        registry.register(
            "webhook_held_events",
            "Events held back from a tenant's webhook endpoint (refused, or behind a refused one)",
            metrics.webhook_held.clone(),
        );
        registry.register(
            "metrics_collection_failures",
            "Scrapes whose database readings (webhook lag) failed; those series are left out",
            metrics.collection_failures.clone(),
        );
        Self { registry: Arc::new(registry), ..metrics }
    }
}

impl PortalMetrics {
    pub(crate) fn render_panic(&self) {
        self.render_panics.inc();
    }

    /// Counts an answered SCIM request (`None`: it named no known directory).
    pub(crate) fn scim_request(
        &self,
        directory: Option<DirectoryId>,
        method: &Method,
        status: StatusCode,
        took: Duration,
    ) {
        let directory = directory.map_or_else(|| UNKNOWN_DIRECTORY.to_owned(), |id| id.to_string());
        let method = method_label(method);
        let status = match status.as_u16() {
            100..=199 => "1xx",
            200..=299 => "2xx",
            300..=399 => "3xx",
            400..=499 => "4xx",
            _ => "5xx",
        };
        self.scim_latency
            .get_or_create(&ScimLatency { directory: directory.clone(), method })
            .observe(took.as_secs_f64());
        self.scim_requests.get_or_create(&ScimRequest { directory, method, status }).inc();
    }

    /// Counts a run of a background job that ended `at`.
    pub fn job_run(&self, job: BackgroundJob, succeeded: bool, at: chrono::DateTime<chrono::Utc>) {
        let outcome = if succeeded { "ok" } else { "failed" };
        self.job_runs.get_or_create(&JobRun { job: job.name(), outcome }).inc();
        if succeeded {
            #[allow(clippy::cast_precision_loss)] // milliseconds since 1970 fit a double exactly
            let seconds = at.timestamp_millis() as f64 / 1000.0;
            self.job_last_success.get_or_create(&Job { job: job.name() }).set(seconds);
        }
    }

    /// Reads the gauges of shared state: the audit queue, the pool, the endpoints' lag.
    async fn collect(&self, store: &Store, audit: &service::audit::AuditLog, now: chrono::DateTime<chrono::Utc>) {
        let backlog = audit.backlog();
        self.audit_waiting.set(i64::try_from(backlog.waiting).unwrap_or(i64::MAX));
        self.audit_lost.inc_by(backlog.lost.saturating_sub(self.audit_lost.get()));
        let pool = store.pool_usage();
        self.pool_connections.get_or_create(&PoolState { state: "idle" }).set(i64::from(pool.idle));
        self.pool_connections
            .get_or_create(&PoolState { state: "in_use" })
            .set(i64::from(pool.open.saturating_sub(pool.idle)));
        self.pool_max.set(i64::from(pool.max));
        // Endpoints removed or disabled since the last scrape must not linger.
        self.webhook_lag.clear();
        self.webhook_held.clear();
        if let Err(error) = self.collect_webhook_lag(store, now).await {
            tracing::warn!(%error, "cannot read the webhook endpoints' lag for /metrics");
            self.collection_failures.inc();
            self.webhook_lag.clear();
            self.webhook_held.clear();
        }
    }

    async fn collect_webhook_lag(
        &self,
        store: &Store,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), store::StoreError> {
        for tenant in store.tenants_with_webhooks().await? {
            for lag in store.tenant(tenant).webhook_lag().await? {
                let labels = Endpoint { tenant: tenant.to_string(), endpoint: lag.endpoint.to_string() };
                let seconds = lag
                    .oldest_undelivered_at
                    .map_or(0.0, |oldest| (now - oldest).to_std().unwrap_or_default().as_secs_f64());
                self.webhook_lag.get_or_create(&labels).set(seconds);
                self.webhook_held.get_or_create(&labels).set(lag.held);
            }
        }
        Ok(())
    }

    fn exposition(&self) -> Result<String, std::fmt::Error> {
        let mut text = String::new();
        encode(&mut text, &self.registry)?;
        Ok(text)
    }
}

/// A fixed set, so that a client inventing methods cannot add series.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        _ => "other",
    }
}

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/metrics", get(metrics))
}

async fn metrics(State(state): State<AppState>) -> Response {
    state.metrics.collect(&state.store, &state.audit, state.effects.now()).await;
    match state.metrics.exposition() {
        Ok(text) => {
            let mut response = text.into_response();
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
            );
            response
        }
        Err(error) => {
            tracing::error!(%error, "encoding the metrics failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use axum::http::{Method, StatusCode};

    use super::{BackgroundJob, PortalMetrics};

    #[test]
    fn render_panics_are_exposed_as_a_counter() {
        let metrics = PortalMetrics::default();
        metrics.render_panic();
        metrics.render_panic();

        let text = metrics.exposition().unwrap();

        assert!(text.contains("# TYPE portal_render_panics counter"), "{text}");
        assert!(text.contains("portal_render_panics_total 2"), "{text}");
    }

    #[test]
    fn scim_requests_are_counted_by_status_class_and_timed_by_method() {
        let metrics = PortalMetrics::default();
        metrics.scim_request(None, &Method::GET, StatusCode::UNAUTHORIZED, Duration::from_millis(2));
        metrics.scim_request(None, &Method::GET, StatusCode::NOT_FOUND, Duration::from_millis(30));
        metrics.scim_request(None, &Method::from_bytes(b"BREW").unwrap(), StatusCode::OK, Duration::from_secs(20));

        let text = metrics.exposition().unwrap();

        assert!(text.contains(r#"scim_requests_total{directory="unknown",method="GET",status="4xx"} 2"#), "{text}");
        assert!(text.contains(r#"scim_requests_total{directory="unknown",method="other",status="2xx"} 1"#), "{text}");
        // 2 ms falls in the 2.5 ms bucket, 30 ms in 50 ms; 20 s only in +Inf.
        let bucket = |method: &str, le: &str| {
            format!(r#"scim_request_duration_seconds_bucket{{le="{le}",directory="unknown",method="{method}"}}"#)
        };
        assert!(text.contains(&format!("{} 0", bucket("GET", "0.001"))), "{text}");
        assert!(text.contains(&format!("{} 1", bucket("GET", "0.0025"))), "{text}");
        assert!(text.contains(&format!("{} 2", bucket("GET", "0.05"))), "{text}");
        assert!(text.contains(&format!("{} 0", bucket("other", "10.0"))), "{text}");
        assert!(text.contains(&format!("{} 1", bucket("other", "+Inf"))), "{text}");
    }

    #[test]
    fn a_failed_job_run_leaves_its_last_success_where_it_was() {
        let metrics = PortalMetrics::default();
        let at = chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 12, 5, 18, 0, 0).unwrap();
        metrics.job_run(BackgroundJob::Alerts, false, at);

        let text = metrics.exposition().unwrap();
        assert!(text.contains(r#"background_job_runs_total{job="alerts",outcome="failed"} 1"#), "{text}");
        assert!(!text.contains(r#"background_job_last_success_timestamp_seconds{job="alerts"}"#), "{text}");

        metrics.job_run(BackgroundJob::Alerts, true, at);
        let text = metrics.exposition().unwrap();
        assert!(text.contains(r#"background_job_runs_total{job="alerts",outcome="ok"} 1"#), "{text}");
        assert!(text.contains(r#"background_job_last_success_timestamp_seconds{job="alerts"} 1796493600.0"#), "{text}");
    }
}
