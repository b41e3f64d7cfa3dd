//! Cross-site request forgery: a state-changing request of the portal (a server function,
//! a form post, `/sso/start`) is refused when the browser says it comes from another site,
//! so a page elsewhere cannot sign a visitor into an attacker's tenant (login CSRF) or act
//! with their session. The session cookie is `SameSite=Lax` already; this closes what Lax
//! leaves open (same-site origins, top-level POSTs in older browsers) and does not rest on
//! cookie settings alone.
//!
//! The browser's word: `Sec-Fetch-Site` (every current browser sends it) must be
//! `same-origin` or `none` (typed, bookmarked); without it, `Origin` must be the portal's
//! public origin. A request with neither comes from no browser (scripts, the identity
//! providers' and the product's own clients, which carry no portal session) and passes.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The portal's public origin, `scheme://host[:port]`, as browsers write it in `Origin`.
#[derive(Debug, Clone)]
pub(crate) struct PublicOrigin(String);

impl PublicOrigin {
    pub(crate) fn of(public_base: &str) -> Self {
        let origin = match public_base.parse::<axum::http::Uri>() {
            Ok(uri) => match (uri.scheme_str(), uri.authority()) {
                (Some(scheme), Some(authority)) => {
                    let default_port =
                        matches!((scheme, authority.port_u16()), ("http", Some(80)) | ("https", Some(443)));
                    let host = if default_port { authority.host().to_owned() } else { authority.as_str().to_owned() };
                    format!("{}://{}", scheme.to_ascii_lowercase(), host.to_ascii_lowercase())
                }
                _ => public_base.to_owned(),
            },
            Err(_) => public_base.to_owned(),
        };
        Self(origin)
    }
}

/// Whether the browser's headers say the request comes from another site.
fn is_cross_site(headers: &HeaderMap, public: &PublicOrigin) -> bool {
    if let Some(site) = headers.get("sec-fetch-site") {
        return !matches!(site.to_str(), Ok("same-origin" | "none"));
    }
    match headers.get(header::ORIGIN) {
        Some(origin) => !origin.to_str().is_ok_and(|origin| origin.eq_ignore_ascii_case(&public.0)),
        None => false,
    }
}

/// The middleware on the portal's routes.
pub(super) async fn refuse_cross_site(State(public): State<PublicOrigin>, request: Request, next: Next) -> Response {
    let changes_state = !matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if changes_state && is_cross_site(request.headers(), &public) {
        tracing::warn!(
            path = %request.uri().path(),
            origin = ?request.headers().get(header::ORIGIN),
            site = ?request.headers().get("sec-fetch-site"),
            "refused a cross-site request to the portal"
        );
        let message = "This request came from another site and was refused. Open the portal itself and try again.";
        return (StatusCode::FORBIDDEN, [(header::CACHE_CONTROL, "no-store")], message).into_response();
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, value.parse().unwrap());
        }
        map
    }

    #[test]
    fn the_public_origin_is_written_as_browsers_write_it() {
        assert_eq!(PublicOrigin::of("https://Portal.Example.com/").0, "https://portal.example.com");
        assert_eq!(PublicOrigin::of("https://portal.example.com:443").0, "https://portal.example.com");
        assert_eq!(PublicOrigin::of("http://127.0.0.1:3000").0, "http://127.0.0.1:3000");
    }

    #[test]
    fn only_same_origin_browser_requests_and_non_browser_requests_pass() {
        let public = PublicOrigin::of("https://portal.example.com");
        assert!(!is_cross_site(&headers(&[("sec-fetch-site", "same-origin")]), &public));
        assert!(!is_cross_site(&headers(&[("sec-fetch-site", "none")]), &public));
        assert!(is_cross_site(&headers(&[("sec-fetch-site", "same-site")]), &public));
        assert!(is_cross_site(&headers(&[("sec-fetch-site", "cross-site")]), &public));
        assert!(!is_cross_site(&headers(&[("origin", "https://portal.example.com")]), &public));
        assert!(is_cross_site(&headers(&[("origin", "https://evil.example")]), &public));
        assert!(is_cross_site(&headers(&[("origin", "null")]), &public));
        assert!(!is_cross_site(&headers(&[]), &public));
        // The browser's fetch metadata wins over an Origin it also sent.
        assert!(is_cross_site(
            &headers(&[("sec-fetch-site", "cross-site"), ("origin", "https://portal.example.com")]),
            &public
        ));
    }
}
