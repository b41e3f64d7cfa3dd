//! The one-time outcome a page shows after a plain form's redirect: a secret sealed in the
//! session for the one page the browser is sent to (see
//! `crate::error::show_once_after_plain_form_post`), whose key the page's address carries.

use std::future::Future;

use leptos::prelude::*;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::PortalError;

/// The outcome under `key` (the address parameter, if the page was opened with one), taken
/// by `take` (the page's server function for it) when the page is rendered: nothing
/// without a key, and nothing once it has been shown.
pub(crate) fn shown_once<T, F, Fut>(key: Option<String>, take: F) -> Resource<Result<Option<T>, PortalError>>
where
    T: Clone + Send + Sync + Serialize + DeserializeOwned + 'static,
    F: Fn(String) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<Option<T>, PortalError>> + Send + 'static,
{
    Resource::new(
        || (),
        move |_| {
            let (key, take) = (key.clone(), take.clone());
            async move {
                match key {
                    Some(key) => take(key).await,
                    None => Ok(None),
                }
            }
        },
    )
}
