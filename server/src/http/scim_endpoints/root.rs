//! Requests to a directory's root that span resource types: `POST /.search` and `POST /Bulk`.

use super::extract::{ScimJson, ScimRequest};
use axum::response::Response;
use service::provisioning::ListQuery;

use super::{Scim, ScimResult, written};

/// RFC 7644 §3.4.3 Querying Resources Using HTTP POST, at the root: users and groups in
/// one list.
pub(super) async fn search_all(request: ScimRequest, ScimJson(body): ScimJson) -> ScimResult {
    let query = ListQuery::from_search_body(&body)?;
    Ok(Scim::ok(request.endpoint.search_all(&query).await?))
}

/// RFC 7644 §3.7 Bulk Operations
pub(super) async fn bulk(request: ScimRequest, ScimJson(body): ScimJson) -> Response {
    written(request.endpoint.bulk(&body, request.now).await, Scim::ok)
}
