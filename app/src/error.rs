//! [`PortalError`]: what every server function of the portal answers when it refuses or
//! fails. One variant per HTTP status, each with the sentence the page shows, so the status
//! travels with the error: the server answers the call with it, and the browser gets the
//! same value back and can match on it.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

/// Why a server function refused or failed. `Display` is the sentence for people; the
/// cause of a failure is logged on the server where it happened and never sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum PortalError {
    /// 401: nobody is signed in, or the credentials are not right.
    #[error("{0}")]
    Unauthorized(String),
    /// 403: signed in, but this account's role may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// 404: no such thing, or not the signed-in account's to see.
    #[error("{0}")]
    NotFound(String),
    /// 409: it exists already.
    #[error("{0}")]
    Conflict(String),
    /// 410: it existed, but cannot be used any more (a used or expired setup link).
    #[error("{0}")]
    Gone(String),
    /// 422: the input is not acceptable; the sentence says what to change.
    #[error("{0}")]
    Invalid(String),
    /// 429: too many attempts; wait before the next.
    #[error("{0}")]
    Throttled(String),
    /// 503: the database or the session store failed.
    #[error("{0}")]
    Unavailable(String),
    /// The call itself failed: the browser did not reach the server, or one side could not
    /// read what the other sent. The detail is for logs; people read a fixed sentence.
    #[error("The server could not be reached. Try again in a moment.")]
    Call(String),
}

impl PortalError {
    /// The HTTP status the server answers this error with.
    pub fn status(&self) -> u16 {
        match self {
            PortalError::Unauthorized(_) => 401,
            PortalError::Forbidden(_) => 403,
            PortalError::NotFound(_) => 404,
            PortalError::Conflict(_) => 409,
            PortalError::Gone(_) => 410,
            PortalError::Invalid(_) => 422,
            PortalError::Throttled(_) => 429,
            PortalError::Unavailable(_) => 503,
            PortalError::Call(_) => 500,
        }
    }

    /// The session is over (or never was): sign in again.
    pub fn signed_out() -> Self {
        PortalError::Unauthorized("Your session has ended. Sign in again.".to_owned())
    }

    /// The database failed; the service logged the cause.
    pub fn unavailable() -> Self {
        PortalError::Unavailable("The database is unavailable. Try again shortly.".to_owned())
    }

    /// The session store failed; the cause is logged where it was read or written.
    pub fn sessions_unavailable() -> Self {
        PortalError::Unavailable("Sessions are unavailable right now. Try again shortly.".to_owned())
    }
}

impl FromServerFnError for PortalError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        PortalError::Call(value.to_string())
    }

    /// Encodes the error as the body of the server function's answer, and sets that
    /// answer's status. server_fn answers every error with 500 and leptos_axum then applies
    /// the call's `ResponseOptions`; encoding is the one step of a call that sees both the
    /// error and the response, so no server function sets a status itself.
    ///
    /// A plain form post (a page whose bundle has not arrived) keeps server_fn's answer
    /// instead: a redirect back to the page with the error in its address, where the
    /// page's `ServerAction` shows it; a status of ours would turn that redirect into a
    /// bare JSON body on the visitor's screen.
    fn ser(&self) -> leptos::server_fn::Bytes {
        #[cfg(feature = "ssr")]
        if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>()
            && !is_plain_form_post()
            && let Ok(status) = http::StatusCode::from_u16(self.status())
        {
            response.set_status(status);
        }
        <JsonEncoding as leptos::server_fn::Encodes<Self>>::encode(self).unwrap_or_else(|_| {
            // Serialising a string enum cannot fail; the fallback keeps the body readable.
            leptos::server_fn::Bytes::from_static(br#"{"Call":"the error could not be encoded"}"#)
        })
    }
}

/// Whether the server function being run was called by a plain HTML form (the browser
/// asks for a page back) rather than by a program (the operator's scripts, the tests),
/// which asks for JSON.
#[cfg(feature = "ssr")]
fn is_plain_form_post() -> bool {
    leptos::prelude::use_context::<http::request::Parts>().is_some_and(|request| {
        request
            .headers
            .get(http::header::ACCEPT)
            .and_then(|accept| accept.to_str().ok())
            .is_some_and(|accept| accept.contains("text/html"))
    })
}

/// For a server function posted by a plain form from a page that sends no `Referer`: sends
/// the browser on to `location` once it succeeded (server_fn would otherwise answer with
/// the portal's home page, and the outcome lost). A program asking for JSON gets the
/// outcome in the answer and is not redirected.
#[cfg(feature = "ssr")]
pub(crate) fn after_plain_form_post_go_to(location: &str) {
    if is_plain_form_post() {
        leptos_axum::redirect(location);
    }
}

/// For a server function posted by a plain form from a confirmation (the page at an
/// address that asks first, such as `?withdraw_link=<id>`): once it succeeded, sends the
/// browser back to that page without its query, so it shows the outcome instead of asking
/// again. Only the `Referer`'s path is used, with one leading slash (`//host/…` would be
/// another site's address): the browser is never sent to another site. For a form that
/// appears on more than one page (a panel shared by two pages).
#[cfg(feature = "ssr")]
pub(crate) fn after_plain_form_post_go_back_to_page() {
    after_plain_form_post_go_back_to_page_with("");
}

/// [`after_plain_form_post_go_back_to_page`], with `query` (without its `?`; empty for
/// none) in the page's address: what the page says about the post that brought it back.
#[cfg(feature = "ssr")]
pub(crate) fn after_plain_form_post_go_back_to_page_with(query: &str) {
    if !is_plain_form_post() {
        return;
    }
    let page = leptos::prelude::use_context::<http::request::Parts>().and_then(|request| {
        let referer = request.headers.get(http::header::REFERER)?.to_str().ok()?;
        Some(same_site_path(referer.parse::<http::Uri>().ok()?.path()))
    });
    if let Some(page) = page {
        let separator = if query.is_empty() { "" } else { "?" };
        leptos_axum::redirect(&format!("{page}{separator}{query}"));
    }
}

/// `path` as an address on this site: one leading slash, whatever it had.
#[cfg(feature = "ssr")]
fn same_site_path(path: &str) -> String {
    format!("/{}", path.trim_start_matches(['/', '\\']))
}

/// For a server function posted by a plain form whose outcome is a secret shown once (a
/// new token, an API key): seals `value` in the caller's session (see
/// `service::session::PortalSession::seal_for_one_showing`) and sends the browser to
/// `page` with the key in its address (`?{kind}=`), where the page takes it with
/// [`take_shown_once`]. A program asking for JSON gets the value in the answer instead.
#[cfg(feature = "ssr")]
pub(crate) async fn show_once_after_plain_form_post<T: Serialize>(
    page: &str,
    kind: &str,
    value: &T,
) -> Result<(), PortalError> {
    if !is_plain_form_post() {
        return Ok(());
    }
    let visitor = crate::portal::Visitor::current()?;
    let key = visitor.session.seal_for_one_showing(&visitor.portal.effects, kind, value).await?;
    leptos_axum::redirect(&format!("{page}?{kind}={}", key.as_str()));
    Ok(())
}

/// The outcome of `kind` that [`show_once_after_plain_form_post`] sealed under `key` for
/// the caller's session, taken: `None` once it has been shown (or for any other key).
#[cfg(feature = "ssr")]
pub(crate) async fn take_shown_once<T: serde::de::DeserializeOwned>(
    kind: &str,
    key: &str,
) -> Result<Option<T>, PortalError> {
    let visitor = crate::portal::Visitor::current()?;
    Ok(visitor.session.take_shown_once(kind, key).await?)
}

/// For a server function posted by a plain form from `page`, a page that sends no
/// `Referer` because its address is a secret (a setup or confirmation link): takes the
/// browser back to `page` with the error in its address, as server_fn does for pages
/// that send one (it would otherwise answer with the portal's home page and the error
/// lost). `S` is the server function that refused.
#[cfg(feature = "ssr")]
pub(crate) fn back_to_secret_page<S: leptos::server_fn::ServerFn<Error = PortalError>>(
    page: &str,
    error: &PortalError,
) {
    if !is_plain_form_post() {
        return;
    }
    let error = leptos::server_fn::error::ServerFnUrlError::new(S::PATH, error.clone());
    // The address is only parsed to be encoded: its origin is dropped below.
    if let Ok(url) = error.to_url(&format!("http://portal{page}")) {
        let location = match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_owned(),
        };
        leptos_axum::redirect(&location);
    }
}

/// For a server function posted by a plain form from `page` whose fields are not secret
/// (branding, a new tenant, a webhook's URL, the sign-in email): when it refused, takes the browser back to `page` with the error
/// and what was typed (`fields`) in its address, so the page shows the refusal beside the
/// values the person entered instead of the stored ones. `S` is the server function that
/// refused.
#[cfg(feature = "ssr")]
pub(crate) fn back_with_what_was_typed<S: leptos::server_fn::ServerFn<Error = PortalError>>(
    page: &str,
    fields: &[(&str, &str)],
    error: &PortalError,
) {
    if !is_plain_form_post() {
        return;
    }
    let typed = form_urlencoded::Serializer::new(String::new()).extend_pairs(fields).finish();
    back_to_secret_page::<S>(&format!("{page}?{typed}"), error);
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::same_site_path;

    #[test]
    fn a_referring_page_is_always_a_path_of_this_site() {
        assert_eq!(same_site_path("/admin"), "/admin");
        assert_eq!(same_site_path("/tenants/acme"), "/tenants/acme");
        assert_eq!(same_site_path("//evil.example/x"), "/evil.example/x");
        assert_eq!(same_site_path("/\\evil.example"), "/evil.example");
        assert_eq!(same_site_path(""), "/");
    }
}
