//! Headers every answer carries so a browser treats the portal safely: nothing is framed
//! by another site (clickjacking: `frame-ancestors 'none'` and, for older browsers,
//! `X-Frame-Options`), no answer is sniffed into another type, no address leaves in a
//! `Referer` (a setup link's address is its secret), no `<base>` or plugin is honoured, and
//! behind `https://` the browser keeps to HTTPS (HSTS). A header a route set itself stays:
//! portal pages send their own Content-Security-Policy with a nonce for their inline
//! scripts (`app::content_security_policy`); every other answer (JSON, files, the server's
//! own error page) runs no script at all.

use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

/// The headers, made once.
#[derive(Debug, Clone)]
pub(crate) struct SecurityHeaders(std::sync::Arc<Vec<(HeaderName, HeaderValue)>>);

impl SecurityHeaders {
    /// `https`: the public URL is `https://`, so HSTS is sent.
    pub(crate) fn new(https: bool) -> Self {
        let mut headers = vec![
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(
                    "default-src 'self'; script-src 'none'; frame-ancestors 'none'; base-uri 'self'; object-src 'none'",
                ),
            ),
            (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
            (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
            (header::REFERRER_POLICY, HeaderValue::from_static("same-origin")),
            (HeaderName::from_static("cross-origin-opener-policy"), HeaderValue::from_static("same-origin")),
        ];
        if https {
            headers.push((header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000")));
        }
        Self(std::sync::Arc::new(headers))
    }
}

pub(crate) async fn add(State(headers): State<SecurityHeaders>, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let answer = response.headers_mut();
    for (name, value) in headers.0.iter() {
        if !answer.contains_key(name) {
            answer.insert(name.clone(), value.clone());
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hsts_is_sent_only_behind_https() {
        let names = |headers: &SecurityHeaders| headers.0.iter().map(|(name, _)| name.clone()).collect::<Vec<_>>();
        assert!(names(&SecurityHeaders::new(true)).contains(&header::STRICT_TRANSPORT_SECURITY));
        assert!(!names(&SecurityHeaders::new(false)).contains(&header::STRICT_TRANSPORT_SECURITY));
    }
}
