//! `POST /portal/generate_link`: an Admin Portal link into an organization's setup wizard
//! (WorkOS `adminPortal.generateLink`), made by [`service::portal_links`]. The answer is
//! `{"link": "…"}`; the link signs its visitor in at `GET /portal-link/{secret}`
//! (`crate::http::portal_visit`).

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use service::directory_sync::SyncError;
use service::portal_links::{self, PortalLinkError, PortalLinkRequest};
use service::{Actor, ServiceError};

use super::{Answer, ApiKey, Failure};
use crate::http::AppState;

/// The body the SDK sends (`JSON.stringify` leaves out what the caller did not give).
/// `intent_options` belongs to other intents and is not read.
#[derive(Debug, Deserialize)]
pub(super) struct GenerateLink {
    organization: Option<String>,
    intent: Option<String>,
    return_url: Option<String>,
    success_url: Option<String>,
    #[serde(default)]
    it_contact_emails: Vec<String>,
    external_user_id: Option<String>,
}

#[derive(Debug, Serialize)]
pub(super) struct PortalLink {
    link: String,
}

/// `POST /portal/generate_link` (`organization`, `intent: "dsync"`, `return_url`,
/// `success_url`, `it_contact_emails`, `external_user_id`): a five-minute, single-use link.
pub(super) async fn generate_link(
    ApiKey(key): ApiKey,
    State(state): State<AppState>,
    body: Bytes,
) -> Answer<PortalLink> {
    // Read here rather than by axum's `Json`, whose refusals are text: the SDK needs a
    // JSON object with a `message` whatever went wrong.
    let body: GenerateLink = serde_json::from_slice(&body).map_err(|error| {
        let message = format!("the body must be a JSON object of the documented fields: {error}");
        Failure::Sync(SyncError::Invalid { field: "body", message })
    })?;
    let Some(organization) = body.organization.filter(|id| !id.trim().is_empty()) else {
        let message = "`organization` is required: the `org_…` id of the organization".to_owned();
        return Err(Failure::Sync(SyncError::Invalid { field: "organization", message }));
    };
    let request = PortalLinkRequest {
        intent: body.intent,
        return_url: body.return_url,
        success_url: body.success_url,
        it_contact_emails: body.it_contact_emails,
        external_user_id: body.external_user_id,
    };
    let issued = portal_links::create_portal_link(
        &state.store,
        organization.trim(),
        request,
        &Actor::ApiKey(key),
        &state.effects,
    )
    .await?;
    Ok(Json(PortalLink { link: issued.url(&state.portal.public_base) }))
}

impl From<PortalLinkError> for Failure {
    fn from(error: PortalLinkError) -> Self {
        Failure::Sync(match error {
            PortalLinkError::UnknownOrganization(id) => SyncError::NotFound(format!("organization {id}")),
            PortalLinkError::Invalid { field, message } => SyncError::Invalid { field, message },
            PortalLinkError::Service(error) => SyncError::Service(error),
            // Opening a link is the portal's, not this API's.
            opening @ (PortalLinkError::Unknown | PortalLinkError::Used | PortalLinkError::Expired) => {
                SyncError::Service(ServiceError::Internal(opening.to_string()))
            }
        })
    }
}
