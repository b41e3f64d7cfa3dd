//! No portal page fails silently. Leptos renders a page partly in the request's own task and
//! partly in tasks it spawns through its executor (a suspense boundary walks its children
//! in an effect of its own; a resource loads in its own task). A panic in any of them is:
//! - logged as an error inside the request's span, so the line carries its request id;
//! - counted in `portal_render_panics_total` (`/metrics`);
//! - answered with an error page, status 500, instead of a half page or a request that
//!   waits for a boundary whose task died.
//!
//! How: [`install_executor`] makes Leptos spawn its tasks through an executor that carries
//! the request's [`RenderWatch`] (a task-local) and tracing span into every task spawned
//! while the request renders, and catches their panics; [`guard_render`] wraps each portal
//! request, catches panics of its own task and, for a page, holds the document until it is
//! complete, so a panic anywhere before the last byte turns into the error page.

use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};

use any_spawner::{CustomExecutor, Executor, PinnedFuture, PinnedLocalFuture};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use futures_util::FutureExt as _;
use tokio::sync::Notify;
use tracing::Instrument as _;

use super::metrics::PortalMetrics;
use crate::telemetry::panic_message;

/// A page larger than this is not held back whole (no page of the portal comes near it).
const LARGEST_HELD_PAGE: usize = 8 * 1024 * 1024;

tokio::task_local! {
    /// The watch of the portal request whose rendering the current task belongs to.
    static RENDERING: Arc<RenderWatch>;
}

/// One portal request's render: whether any of its tasks panicked.
#[derive(Debug)]
pub(crate) struct RenderWatch {
    request_id: String,
    /// Method and path, for the log line.
    request: String,
    metrics: PortalMetrics,
    panic: Mutex<Option<String>>,
    panicked: Notify,
}

impl RenderWatch {
    fn new(request_id: String, request: String, metrics: PortalMetrics) -> Self {
        Self { request_id, request, metrics, panic: Mutex::new(None), panicked: Notify::new() }
    }

    /// Records a panic of this request's render: logged, counted, and the request told.
    fn record(&self, message: String) {
        tracing::error!(
            request_id = %self.request_id,
            request = %self.request,
            panic = %message,
            "a portal request panicked while rendering; answering 500"
        );
        self.metrics.render_panic();
        let mut panic = self.panic.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if panic.is_none() {
            *panic = Some(message);
        }
        drop(panic);
        // `notify_one` keeps a permit for a waiter that has not started waiting yet.
        self.panicked.notify_one();
    }

    fn has_panicked(&self) -> bool {
        self.panic.lock().unwrap_or_else(std::sync::PoisonError::into_inner).is_some()
    }
}

/// Makes Leptos spawn its tasks through [`RequestAwareExecutor`]. Leptos's own handlers
/// would install the plain tokio executor on first use; this runs before any of them
/// (when the application is built), and a second call changes nothing.
pub(crate) fn install_executor() {
    let _ = Executor::init_custom_executor(RequestAwareExecutor);
}

/// Tokio's executor, as Leptos would use it, plus the spawning request's watch and span.
struct RequestAwareExecutor;

impl CustomExecutor for RequestAwareExecutor {
    fn spawn(&self, task: PinnedFuture<()>) {
        let watch = RENDERING.try_with(Arc::clone).ok();
        let span = tracing::Span::current();
        tokio::spawn(watched(watch, task).instrument(span));
    }

    fn spawn_local(&self, task: PinnedLocalFuture<()>) {
        tokio::task::spawn_local(task);
    }

    fn poll_local(&self) {}
}

/// Runs a Leptos task under its request's watch (which its own spawns inherit), and turns
/// its panic into a recorded render failure.
async fn watched(watch: Option<Arc<RenderWatch>>, task: PinnedFuture<()>) {
    match watch {
        Some(watch) => {
            let outcome = RENDERING.scope(Arc::clone(&watch), AssertUnwindSafe(task).catch_unwind()).await;
            if let Err(payload) = outcome {
                watch.record(panic_message(payload.as_ref()));
            }
        }
        None => {
            if let Err(payload) = AssertUnwindSafe(task).catch_unwind().await {
                tracing::error!(panic = %panic_message(payload.as_ref()), "a portal task outside any request panicked");
            }
        }
    }
}

/// The middleware around every portal request (see the module documentation).
pub(super) async fn guard_render(State(metrics): State<PortalMetrics>, request: Request, next: Next) -> Response {
    let request_id =
        request.headers().get("x-request-id").and_then(|value| value.to_str().ok()).unwrap_or_default().to_owned();
    let described = format!("{} {}", request.method(), request.uri().path());
    let watch = Arc::new(RenderWatch::new(request_id, described, metrics));
    let render = RENDERING.scope(Arc::clone(&watch), async move {
        let response = next.run(request).await;
        if !is_html(&response) {
            return response;
        }
        // The document is held until its last byte: a boundary's task can still panic
        // while the serialized data that ends the document is being written.
        let (parts, body) = response.into_parts();
        match axum::body::to_bytes(body, LARGEST_HELD_PAGE).await {
            Ok(bytes) => Response::from_parts(parts, Body::from(bytes)),
            Err(error) => {
                tracing::error!(%error, "a portal page could not be read whole");
                error_page(StatusCode::INTERNAL_SERVER_ERROR, None)
            }
        }
    });
    let outcome = tokio::select! {
        outcome = AssertUnwindSafe(render).catch_unwind() => outcome,
        () = watch.panicked.notified() => return error_page(StatusCode::INTERNAL_SERVER_ERROR, Some(&watch.request_id)),
    };
    match outcome {
        Ok(_) if watch.has_panicked() => error_page(StatusCode::INTERNAL_SERVER_ERROR, Some(&watch.request_id)),
        Ok(response) => response,
        Err(payload) => {
            watch.record(panic_message(payload.as_ref()));
            error_page(StatusCode::INTERNAL_SERVER_ERROR, Some(&watch.request_id))
        }
    }
}

fn is_html(response: &Response) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("text/html"))
}

/// A whole page of its own, for when the portal's pages cannot be rendered. Its classes are
/// ones the portal's pages use, so the stylesheet has them.
pub(super) fn error_page(status: StatusCode, request_id: Option<&str>) -> Response {
    let reference = request_id
        .filter(|id| !id.is_empty())
        .map(|id| {
            format!(
                r#"<p class="mt-2 text-slate-600">Reference: <span id="request-id" class="font-mono">{}</span></p>"#,
                escape(id)
            )
        })
        .unwrap_or_default();
    let (title, explanation) = if status == StatusCode::SERVICE_UNAVAILABLE {
        ("This page is unavailable right now", "Try again in a moment.")
    } else {
        (
            "Something went wrong on our side",
            "This page could not be shown. The error has been logged; if it happens again, give your operator the reference below.",
        )
    };
    let html = format!(
        r#"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"/><meta name="viewport" content="width=device-width, initial-scale=1"/><title>{title}</title><link rel="stylesheet" href="/pkg/{bundle}.css"/></head><body class="min-h-screen bg-slate-50 text-slate-900 antialiased"><main class="mx-auto max-w-3xl px-6 py-12"><h1 id="error-heading" class="text-2xl font-bold">{title}</h1><p class="mt-2 text-slate-600">{explanation}</p>{reference}<a href="/" class="mt-6 inline-block font-semibold text-indigo-600 hover:text-indigo-500">Back to the start page</a></main></body></html>"#,
        bundle = app::BUNDLE_NAME,
    );
    let mut response = (status, Html(html)).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn escape(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '<' => "&lt;".to_owned(),
            '>' => "&gt;".to_owned(),
            '&' => "&amp;".to_owned(),
            '"' => "&quot;".to_owned(),
            other => other.to_string(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::error_page;

    #[tokio::test]
    async fn the_error_page_names_the_request_and_escapes_it() {
        let response = error_page(axum::http::StatusCode::INTERNAL_SERVER_ERROR, Some("<id>"));

        assert_eq!(response.status(), 500);
        let body = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
        let html = String::from_utf8(body.to_vec()).unwrap();
        assert!(html.contains("&lt;id&gt;"), "{html}");
        assert!(!html.contains("<id>"), "{html}");
    }
}
