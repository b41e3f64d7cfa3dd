//! The operator API under `/api/v1`: what the vendor's own product calls, with an operator
//! API key (`Authorization: Bearer scimk_…`). Errors are RFC 9457 problem documents
//! ([`problem`]). The OpenAPI document at `/api/openapi.json` is derived from these
//! handlers and types; every route is registered once, in [`routes`], which the router
//! serves and a test holds against the document.

mod api_keys;
mod audit;
mod events;
mod extract;
mod problem;
mod receipts;
mod resources;
mod roles;
mod tenants;
mod webhooks;

use axum::Json;
use axum::Router;
use axum::handler::Handler;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodFilter, MethodRouter, get, on};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::AppState;
use super::api_access::in_area;
use service::api_keys::ApiArea;

/// The methods the operator API serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verb {
    Get,
    Post,
    Put,
    Delete,
}

impl Verb {
    /// As OpenAPI names it.
    fn as_str(self) -> &'static str {
        match self {
            Verb::Get => "get",
            Verb::Post => "post",
            Verb::Put => "put",
            Verb::Delete => "delete",
        }
    }
}

/// One route of the operator API: a method, a path, the area of the API it belongs to
/// (a key reaches it only when it was given that area), and its handler.
struct Route {
    verb: Verb,
    path: &'static str,
    area: ApiArea,
    handler: MethodRouter<AppState>,
}

fn route<H, T>(verb: Verb, area: ApiArea, path: &'static str, handler: H) -> Route
where
    H: Handler<T, AppState>,
    T: 'static,
{
    let filter = match verb {
        Verb::Get => MethodFilter::GET,
        Verb::Post => MethodFilter::POST,
        Verb::Put => MethodFilter::PUT,
        Verb::Delete => MethodFilter::DELETE,
    };
    Route { verb, path, area, handler: in_area(area, on(filter, handler)) }
}

/// Every route under `/api/v1`; each must also be in [`OperatorApiDocument`]'s `paths`.
fn routes() -> Vec<Route> {
    use ApiArea::{ApiKeys, Audit, DirectoryData, Tenants, Webhooks};
    use Verb::{Delete, Get, Post, Put};
    vec![
        route(Get, DirectoryData, "/api/v1/directories/{directory}/events", events::directory_events),
        route(
            Post,
            DirectoryData,
            "/api/v1/directories/{directory}/events/{cursor}/ack",
            receipts::acknowledge_directory_event,
        ),
        route(Post, DirectoryData, "/api/v1/events/{event}/ack", receipts::acknowledge_event),
        route(Get, DirectoryData, "/api/v1/tenants/{slug}/revocations", receipts::list_revocations),
        route(Get, DirectoryData, "/api/v1/directories/{directory}/users", resources::list_users),
        route(Get, DirectoryData, "/api/v1/directories/{directory}/users/{id}", resources::get_user),
        route(Get, DirectoryData, "/api/v1/directories/{directory}/groups", resources::list_groups),
        route(Get, DirectoryData, "/api/v1/directories/{directory}/groups/{id}", resources::get_group),
        route(Get, DirectoryData, "/api/v1/roles", roles::list_roles),
        route(Post, DirectoryData, "/api/v1/roles", roles::create_role),
        route(Put, DirectoryData, "/api/v1/roles/{slug}", roles::update_role),
        route(Delete, DirectoryData, "/api/v1/roles/{slug}", roles::delete_role),
        route(Get, DirectoryData, "/api/v1/directories/{directory}/group-roles", roles::group_roles),
        route(Put, DirectoryData, "/api/v1/directories/{directory}/group-roles", roles::set_group_roles),
        route(Get, Tenants, "/api/v1/tenants", tenants::list_tenants),
        route(Post, Tenants, "/api/v1/tenants", tenants::create_tenant),
        route(Get, Tenants, "/api/v1/tenants/{slug}", tenants::tenant_detail),
        route(Post, Tenants, "/api/v1/tenants/{slug}/directories", tenants::add_directory),
        route(Delete, Tenants, "/api/v1/tenants/{slug}/directories/{directory}", tenants::delete_directory),
        route(Get, Tenants, "/api/v1/tenants/{slug}/directories/{directory}/safety-brake", tenants::safety_brake),
        route(Put, Tenants, "/api/v1/tenants/{slug}/directories/{directory}/safety-brake", tenants::set_safety_brake),
        route(Post, Tenants, "/api/v1/tenants/{slug}/setup-links", tenants::create_setup_link),
        route(Get, Tenants, "/api/v1/tenants/{slug}/setup-links", tenants::list_setup_links),
        route(Delete, Tenants, "/api/v1/tenants/{slug}/setup-links/{link}", tenants::revoke_setup_link),
        route(Get, Audit, "/api/v1/tenants/{slug}/audit", audit::export_audit_trail),
        route(Get, Audit, "/api/v1/tenants/{slug}/audit/checkpoints", audit::export_audit_checkpoints),
        route(Get, Webhooks, "/api/v1/tenants/{slug}/webhooks", webhooks::list_webhooks),
        route(Post, Webhooks, "/api/v1/tenants/{slug}/webhooks", webhooks::create_webhook),
        route(Get, Webhooks, "/api/v1/tenants/{slug}/webhooks/{webhook}/deliveries", webhooks::webhook_deliveries),
        route(
            Post,
            Webhooks,
            "/api/v1/tenants/{slug}/webhooks/{webhook}/dead-letters/{delivery}/replay",
            webhooks::replay_dead_letter,
        ),
        route(Get, ApiKeys, "/api/v1/api-keys", api_keys::list_keys),
        route(Post, ApiKeys, "/api/v1/api-keys", api_keys::issue_key),
        route(Delete, ApiKeys, "/api/v1/api-keys/{key}", api_keys::revoke_key),
    ]
}

pub(crate) fn router() -> Router<AppState> {
    // Routes of one path with several methods merge into one method router.
    routes()
        .into_iter()
        .fold(Router::new(), |router, route| router.route(route.path, route.handler))
        .route("/api/openapi.json", get(openapi_document))
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "SCIM onboarding portal: operator API",
        version = "1",
        description = "What the operator's own product calls: tenants, their directories (added and deleted), setup links and webhooks, the users and groups of each directory, its ordered, replayable event feed, and the tenant's audit trail."
    ),
    paths(
        api_keys::list_keys,
        api_keys::issue_key,
        api_keys::revoke_key,
        events::directory_events,
        receipts::acknowledge_directory_event,
        receipts::acknowledge_event,
        receipts::list_revocations,
        resources::list_users,
        resources::get_user,
        resources::list_groups,
        resources::get_group,
        roles::list_roles,
        roles::create_role,
        roles::update_role,
        roles::delete_role,
        roles::group_roles,
        roles::set_group_roles,
        tenants::list_tenants,
        tenants::create_tenant,
        tenants::tenant_detail,
        tenants::add_directory,
        tenants::delete_directory,
        tenants::safety_brake,
        tenants::set_safety_brake,
        tenants::create_setup_link,
        tenants::list_setup_links,
        tenants::revoke_setup_link,
        audit::export_audit_trail,
        audit::export_audit_checkpoints,
        webhooks::list_webhooks,
        webhooks::create_webhook,
        webhooks::webhook_deliveries,
        webhooks::replay_dead_letter,
    ),
    components(schemas(
        api_keys::ApiKeyBody,
        api_keys::NewApiKeyBody,
        api_keys::IssuedApiKeyBody,
        events::EventPage,
        service::events::Event,
        receipts::ReceiptBody,
        receipts::RevocationBody,
        problem::Problem,
        roles::RoleBody,
        roles::RoleRequestBody,
        roles::GrantBody,
        roles::GroupRolesRequestBody,
        roles::GroupRolesBody,
        tenants::TenantBody,
        tenants::NewTenantBody,
        tenants::DirectoryBody,
        tenants::NewDirectoryBody,
        tenants::CreatedDirectoryBody,
        tenants::DeletedDirectoryBody,
        tenants::SafetyBrakeBody,
        tenants::NewSetupLinkBody,
        tenants::SetupLinkBody,
        tenants::SetupLinkStateBody,
        webhooks::WebhookBody,
        webhooks::WebhookProgressBody,
        webhooks::NewWebhookBody,
        webhooks::CreatedWebhookBody,
        webhooks::DeliveryBody,
        webhooks::ReplayBody,
    )),
    modifiers(&ApiKeyScheme),
    security(("api_key" = []))
)]
struct OperatorApiDocument;

struct ApiKeyScheme;

impl Modify for ApiKeyScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let mut bearer = Http::new(HttpAuthScheme::Bearer);
        bearer.description = Some("An operator API key (`server admin create-api-key`)".to_owned());
        components.add_security_scheme("api_key", SecurityScheme::Http(bearer));
    }
}

/// `GET /api/openapi.json`
async fn openapi_document() -> Response {
    Json(document()).into_response()
}

/// The OpenAPI document, each operation marked with the area a key needs for it
/// (`x-api-key-area`), from the one list of routes.
fn document() -> serde_json::Value {
    let mut document = serde_json::to_value(OperatorApiDocument::openapi()).unwrap_or_default();
    for route in routes() {
        let operation = &mut document["paths"][route.path][route.verb.as_str()];
        if let Some(operation) = operation.as_object_mut() {
            operation.insert("x-api-key-area".to_owned(), serde_json::Value::from(route.area.as_str()));
        }
    }
    document
}

/// Times in bodies: RFC 3339, UTC, to the second.
fn rfc3339(at: chrono::DateTime<chrono::Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn the_openapi_document_describes_exactly_the_routes_served() {
        let document = document();
        let documented: BTreeSet<(String, String)> = document["paths"]
            .as_object()
            .unwrap()
            .iter()
            .flat_map(|(path, operations)| {
                operations.as_object().unwrap().keys().map(move |method| (method.clone(), path.clone()))
            })
            .collect();
        let served: BTreeSet<(String, String)> =
            routes().into_iter().map(|route| (route.verb.as_str().to_owned(), route.path.to_owned())).collect();
        assert_eq!(documented, served);
        // Each operation tells which area a key needs for it.
        for route in routes() {
            let area = &document["paths"][route.path][route.verb.as_str()]["x-api-key-area"];
            assert_eq!(area.as_str(), Some(route.area.as_str()), "{} {}", route.verb.as_str(), route.path);
        }
    }
}
