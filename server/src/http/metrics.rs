//! `/metrics`: the process's counters in the OpenMetrics text format, for a scraper such as
//! Prometheus. Like `/readyz` it is meant for the operator's own network: keep it off the
//! public load balancer.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::registry::Registry;

use super::AppState;

/// The application's counters, one registry per application (tests run several in one
/// process, and each must count only its own).
#[derive(Debug, Clone)]
pub struct PortalMetrics {
    registry: Arc<Registry>,
    render_panics: Counter,
}

impl Default for PortalMetrics {
    fn default() -> Self {
        let render_panics = Counter::default();
        let mut registry = Registry::default();
        registry.register(
            "portal_render_panics",
            "Portal requests whose rendering panicked (answered with an error page, status 500)",
            render_panics.clone(),
        );
        Self { registry: Arc::new(registry), render_panics }
    }
}

impl PortalMetrics {
    pub(crate) fn render_panic(&self) {
        self.render_panics.inc();
    }

    fn exposition(&self) -> Result<String, std::fmt::Error> {
        let mut text = String::new();
        encode(&mut text, &self.registry)?;
        Ok(text)
    }
}

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/metrics", get(metrics))
}

async fn metrics(State(state): State<AppState>) -> Response {
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
    use super::PortalMetrics;

    #[test]
    fn render_panics_are_exposed_as_a_counter() {
        let metrics = PortalMetrics::default();
        metrics.render_panic();
        metrics.render_panic();

        let text = metrics.exposition().unwrap();

        assert!(text.contains("# TYPE portal_render_panics counter"), "{text}");
        assert!(text.contains("portal_render_panics_total 2"), "{text}");
    }
}
