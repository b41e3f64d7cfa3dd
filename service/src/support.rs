//! What support staff see: failed SCIM requests across every tenant, grouped by cause
//! with counts per hour, each with the request, the response and a plain-language fix
//! hint. Support reads tenants' data, so opening a failure's detail is itself recorded in
//! that tenant's audit trail, where its admins see who looked and when.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};
use store::{AuditOutcome, AuditQuery, DirectoryId, NewAuditRecord, Store, TenantId, TenantSlug};

use crate::actor::Actor;
use crate::{ServiceError, sentence};

/// Why a SCIM request failed, in the groups support works with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FailureCause {
    /// No usable token: missing, not ours, another directory's, expired, revoked; or a
    /// read-only token asked to write.
    AuthenticationFailure,
    /// The directory's rate limit was exhausted.
    RateLimited,
    /// A user or group with the same name already exists.
    UniquenessConflict,
    /// The request named an attribute no schema of the directory defines.
    UnknownAttribute,
    /// A value did not fit the schema (type, mutability, a required attribute missing).
    SchemaMismatch,
    /// The request could not be read: bad JSON, a bad filter, too large, too many.
    MalformedRequest,
    /// The user or group addressed does not exist (any more).
    NotFound,
    /// `If-Match` named a version that is no longer current.
    VersionConflict,
    /// Our failure (5xx) or an endpoint we do not offer.
    ServerError,
}

impl FailureCause {
    pub const ALL: [FailureCause; 9] = [
        FailureCause::AuthenticationFailure,
        FailureCause::RateLimited,
        FailureCause::UniquenessConflict,
        FailureCause::UnknownAttribute,
        FailureCause::SchemaMismatch,
        FailureCause::MalformedRequest,
        FailureCause::NotFound,
        FailureCause::VersionConflict,
        FailureCause::ServerError,
    ];

    /// Classifies a failed request from its status and its audit record's detail
    /// (`{"response": {"scimType": …, "detail": …}, "refusal": …}`).
    pub fn of(status: i32, detail: &Value) -> Self {
        let response = &detail["response"];
        let scim_type = response["scimType"].as_str().unwrap_or_default();
        let said = response["detail"].as_str().unwrap_or_default();
        let names_unknown_attribute = said.contains("unknown attribute");
        match (status, scim_type) {
            (401 | 403, _) => FailureCause::AuthenticationFailure,
            (429, _) => FailureCause::RateLimited,
            (409, _) | (_, "uniqueness") => FailureCause::UniquenessConflict,
            (400, "invalidPath" | "noTarget") => FailureCause::UnknownAttribute,
            (400, _) if names_unknown_attribute => FailureCause::UnknownAttribute,
            (400, "invalidValue" | "mutability") => FailureCause::SchemaMismatch,
            (404, _) => FailureCause::NotFound,
            (412, _) => FailureCause::VersionConflict,
            (500.., _) => FailureCause::ServerError,
            _ => FailureCause::MalformedRequest,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            FailureCause::AuthenticationFailure => "authentication_failure",
            FailureCause::RateLimited => "rate_limited",
            FailureCause::UniquenessConflict => "uniqueness_conflict",
            FailureCause::UnknownAttribute => "unknown_attribute",
            FailureCause::SchemaMismatch => "schema_mismatch",
            FailureCause::MalformedRequest => "malformed_request",
            FailureCause::NotFound => "not_found",
            FailureCause::VersionConflict => "version_conflict",
            FailureCause::ServerError => "server_error",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|cause| cause.as_str() == text)
    }

    pub fn label(self) -> &'static str {
        match self {
            FailureCause::AuthenticationFailure => "Authentication failure",
            FailureCause::RateLimited => "Rate limited",
            FailureCause::UniquenessConflict => "Uniqueness conflict",
            FailureCause::UnknownAttribute => "Unknown attribute",
            FailureCause::SchemaMismatch => "Schema mismatch",
            FailureCause::MalformedRequest => "Malformed request",
            FailureCause::NotFound => "Not found",
            FailureCause::VersionConflict => "Version conflict",
            FailureCause::ServerError => "Server error",
        }
    }

    /// What the failure means and what fixes it.
    pub fn hint(self) -> &'static str {
        match self {
            FailureCause::AuthenticationFailure => {
                "The token is missing, expired, revoked, another directory's or read-only. Generate a new token \
                 and paste it into the identity provider."
            }
            FailureCause::RateLimited => {
                "The identity provider sent more requests than this directory allows. It retries on its own; \
                 raise the directory's limit if this persists."
            }
            FailureCause::UniquenessConflict => {
                "A user or group with the same name already exists in this directory. Identity providers usually \
                 look the existing one up and update it; if this keeps failing, remove the duplicate or match \
                 users by their external id."
            }
            FailureCause::UnknownAttribute => {
                "The request named an attribute that does not exist here. Check the attribute mapping in the \
                 identity provider, or define the attribute in a schema extension."
            }
            FailureCause::SchemaMismatch => {
                "The request did not fit the directory's schema (a wrong type, a read-only attribute, a required \
                 one missing). Check the attribute mapping in the identity provider."
            }
            FailureCause::MalformedRequest => {
                "The identity provider sent something this service cannot read (bad JSON, an unsupported filter, \
                 too large a request)."
            }
            FailureCause::NotFound => {
                "The identity provider addressed a user or group that does not exist here (any more), often one \
                 deleted here but not in the identity provider. Provisioning it again fixes this."
            }
            FailureCause::VersionConflict => {
                "The user or group changed since the identity provider read it; it reads it again and retries."
            }
            FailureCause::ServerError => {
                "The server failed to answer or does not offer the endpoint; the identity provider will retry. If \
                 it persists, look for errors in the server's log at the time of the request."
            }
        }
    }
}

/// A failed request's meaning for a person: the cause's hint, the refusal's own
/// explanation for a refused credential, and what the server said.
pub fn explain(status: i32, detail: &Value) -> String {
    let cause = FailureCause::of(status, detail);
    let hint = detail["explanation"].as_str().unwrap_or(cause.hint());
    let said = detail["response"]["detail"]
        .as_str()
        .map(|text| format!(" The server said: {}", sentence(text)))
        .unwrap_or_default();
    format!("{}: {hint}{said}", cause.label())
}

/// Hours covered by the support overview.
pub const WINDOW_HOURS: i64 = 24;

/// Failures read per tenant for the overview at most (the newest).
const PER_TENANT: i64 = 5000;

/// One cause across tenants over the last [`WINDOW_HOURS`].
#[derive(Debug, Clone, PartialEq)]
pub struct CauseSummary {
    pub cause: FailureCause,
    pub failures: u64,
    /// Tenants with at least one failure of this cause.
    pub tenants: usize,
    /// Failures per hour, oldest hour first; the last is the current hour.
    pub per_hour: Vec<u64>,
    pub latest: DateTime<Utc>,
}

/// A failed request as support lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub tenant: TenantId,
    pub tenant_slug: TenantSlug,
    pub seq: i64,
    pub occurred_at: DateTime<Utc>,
    pub directory: Option<DirectoryId>,
    pub method: String,
    pub path: String,
    pub status: i32,
    pub cause: FailureCause,
}

impl Failure {
    /// A failed SCIM request's audit record of `tenant`, and its parsed detail.
    fn from_record(tenant: &store::Tenant, record: store::AuditRecord) -> (Self, Value) {
        let detail: Value = serde_json::from_str(&record.detail).unwrap_or_default();
        let status = record.status.unwrap_or_default();
        let failure = Failure {
            tenant: tenant.id,
            tenant_slug: tenant.slug.clone(),
            seq: record.seq,
            occurred_at: record.occurred_at,
            directory: record.directory,
            method: record.method.unwrap_or_default(),
            path: record.path.unwrap_or_default(),
            status,
            cause: FailureCause::of(status, &detail),
        };
        (failure, detail)
    }
}

/// A failure with what it takes to explain it.
#[derive(Debug, Clone, PartialEq)]
pub struct FailureDetail {
    pub failure: Failure,
    pub request: Value,
    pub response: Value,
    pub explanation: String,
    /// For a uniqueness conflict: the stored user or group the request collided with (its
    /// kind, id and name), when it is still there.
    pub existing: Option<(store::ResourceKind, String, String)>,
}

/// Every tenant's failed SCIM requests of the last [`WINDOW_HOURS`], newest first (at most
/// the newest 5,000 of each tenant).
async fn recent_failures(store: &Store, now: DateTime<Utc>) -> Result<Vec<(Failure, Value)>, ServiceError> {
    let query = AuditQuery {
        since: Some(now - Duration::hours(WINDOW_HOURS)),
        outcome: Some(AuditOutcome::Failure),
        operation: Some("scim.request".to_owned()),
        ..AuditQuery::default()
    };
    let mut failures = Vec::new();
    for summary in store.tenant_summaries().await? {
        let tenant = summary.tenant;
        let records = store.tenant(tenant.id).audit_page(&query, None, PER_TENANT).await?;
        // The wizard self-test's deliberate 404 (about its own `selftest-…` user) is no failure.
        let records = records.into_iter().filter(|record| {
            !record.resource_id.as_deref().is_some_and(|id| id.starts_with(store::SELF_TEST_ID_PREFIX))
        });
        for record in records {
            failures.push(Failure::from_record(&tenant, record));
        }
    }
    failures.sort_by_key(|(failure, _)| std::cmp::Reverse(failure.occurred_at));
    Ok(failures)
}

/// The causes of the last [`WINDOW_HOURS`]' failures across tenants, most frequent first.
pub async fn failures_by_cause(store: &Store, now: DateTime<Utc>) -> Result<Vec<CauseSummary>, ServiceError> {
    let hours = usize::try_from(WINDOW_HOURS).unwrap_or(24);
    let mut by_cause: BTreeMap<FailureCause, (CauseSummary, Vec<TenantId>)> = BTreeMap::new();
    for (failure, _) in recent_failures(store, now).await? {
        let (summary, tenants) = by_cause.entry(failure.cause).or_insert_with(|| {
            let summary = CauseSummary {
                cause: failure.cause,
                failures: 0,
                tenants: 0,
                per_hour: vec![0; hours],
                latest: failure.occurred_at,
            };
            (summary, Vec::new())
        });
        summary.failures += 1;
        summary.latest = summary.latest.max(failure.occurred_at);
        let hours_ago = usize::try_from((now - failure.occurred_at).num_hours()).unwrap_or(0);
        if let Some(slot) = hours.checked_sub(hours_ago + 1).and_then(|index| summary.per_hour.get_mut(index)) {
            *slot += 1;
        }
        if !tenants.contains(&failure.tenant) {
            tenants.push(failure.tenant);
        }
    }
    let mut summaries: Vec<CauseSummary> =
        by_cause.into_values().map(|(summary, tenants)| CauseSummary { tenants: tenants.len(), ..summary }).collect();
    summaries.sort_by(|a, b| b.failures.cmp(&a.failures).then(a.cause.cmp(&b.cause)));
    Ok(summaries)
}

/// The newest failures of one cause across tenants (at most `limit`).
pub async fn failures_of(
    store: &Store,
    cause: FailureCause,
    now: DateTime<Utc>,
    limit: usize,
) -> Result<Vec<Failure>, ServiceError> {
    Ok(recent_failures(store, now)
        .await?
        .into_iter()
        .filter(|(failure, _)| failure.cause == cause)
        .take(limit)
        .map(|(failure, _)| failure)
        .collect())
}

/// One failed request of a tenant with its request, response and explanation; `None` when
/// the tenant has no such failed SCIM request. The viewing is recorded in the tenant's
/// audit trail (action `support.viewed_request`) before it is shown.
pub async fn failure_detail(
    store: &Store,
    tenant: TenantId,
    seq: i64,
    viewer: &Actor,
    now: DateTime<Utc>,
) -> Result<Option<FailureDetail>, ServiceError> {
    let Some(tenant_record) = store.tenant_by_id(tenant).await? else { return Ok(None) };
    let scope = store.tenant(tenant);
    let Some(record) = scope.audit_records(seq - 1, 1).await?.into_iter().next().filter(|record| {
        record.seq == seq && record.action == "scim.request" && record.outcome == AuditOutcome::Failure
    }) else {
        return Ok(None);
    };
    let detail = json!({ "viewed_seq": seq, "reason": "support console: investigating a failed request" });
    let viewing = NewAuditRecord {
        resource_id: record.resource_id.clone(),
        ..viewer.record("support.viewed_request", record.directory, detail, now)
    };
    scope.append_audit(&[viewing]).await?;
    let (failure, detail) = Failure::from_record(&tenant_record, record);
    let existing = match (failure.cause, failure.directory) {
        (FailureCause::UniquenessConflict, Some(directory)) => {
            colliding_resource(store, tenant, directory, &failure.path, &detail["request"]).await?
        }
        _ => None,
    };
    Ok(Some(FailureDetail {
        request: detail["request"].clone(),
        response: detail["response"].clone(),
        explanation: explain(failure.status, &detail),
        existing,
        failure,
    }))
}

/// The stored user (by `userName`) or group (by `displayName`) that a create or replace
/// collided with: what support opens next.
async fn colliding_resource(
    store: &Store,
    tenant: TenantId,
    directory: DirectoryId,
    path: &str,
    request: &Value,
) -> Result<Option<(store::ResourceKind, String, String)>, ServiceError> {
    let path = path.split('?').next().unwrap_or(path);
    let kind = path.split('/').find_map(store::ResourceKind::from_endpoint).unwrap_or(store::ResourceKind::User);
    let attribute = kind.name_attribute();
    let Some(name) = request[attribute].as_str() else { return Ok(None) };
    let Ok(Some(endpoint)) = crate::provisioning::portal_endpoint(store, tenant, directory, String::new()).await else {
        return Ok(None);
    };
    let filter = format!("{attribute} eq {}", crate::directory_sync::literal(name));
    let found = match endpoint.records(kind, Some(&filter), None, false, 1).await {
        Ok(page) => page.records.into_iter().next(),
        Err(crate::provisioning::ProvisioningError::Service(error)) => return Err(error),
        // A name the filter grammar refuses collided with nothing it can find.
        Err(crate::provisioning::ProvisioningError::Protocol(_)) => None,
    };
    Ok(found.map(|record| (kind, record.id, name.to_owned())))
}

/// Records that vendor staff read a tenant's data (`action`, e.g. `support.viewed_tenant`)
/// in the tenant's trail, naming the viewer and what they saw, so the tenant's admins see
/// who looked and when.
pub async fn record_view(
    store: &Store,
    tenant: TenantId,
    viewer: &Actor,
    action: &str,
    viewed: &str,
    mut detail: Value,
    now: DateTime<Utc>,
) -> Result<(), ServiceError> {
    if let Some(fields) = detail.as_object_mut() {
        fields.insert("viewed".to_owned(), json!(viewed));
    }
    append_view(store, tenant, viewer.record(action, None, detail, now)).await
}

/// [`record_view`] of one of the tenant's directories (`support.viewed_directory`): the
/// record names the directory in its own field, as the directory's other records do, so
/// the trail's directory filter finds who from the vendor read it.
pub async fn record_directory_view(
    store: &Store,
    tenant: TenantId,
    viewer: &Actor,
    directory: DirectoryId,
    viewed: &str,
    now: DateTime<Utc>,
) -> Result<(), ServiceError> {
    let detail = json!({ "directory": directory.to_string(), "viewed": viewed });
    append_view(store, tenant, viewer.record("support.viewed_directory", Some(directory), detail, now)).await
}

async fn append_view(store: &Store, tenant: TenantId, record: NewAuditRecord) -> Result<(), ServiceError> {
    // A view changes nothing: its record stands alone.
    Ok(store.tenant(tenant).append_audit(&[record]).await?)
}

/// A tenant's page in the operator console.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantPage {
    pub tenant: store::Tenant,
    pub directories: Vec<DirectoryStatus>,
    pub sso: Option<crate::sso::ProviderSummary>,
}

/// Where a directory of the tenant stands: its setup, what it holds, how it syncs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryStatus {
    pub directory: store::Directory,
    /// The furthest wizard step reached (1 to 6).
    pub step_reached: u8,
    pub completed_at: Option<DateTime<Utc>>,
    pub active_users: i64,
    pub inactive_users: i64,
    pub groups: i64,
    /// Requests and failures of the last 24 hours.
    pub health: store::SyncHealth,
}

/// The tenant named `slug` with its directories and single sign-on settings, for vendor
/// staff; `None` for an unknown slug. The viewing is recorded in the tenant's trail
/// (`support.viewed_tenant`) before anything is returned.
pub async fn tenant_page(
    store: &Store,
    slug: &TenantSlug,
    viewer: &Actor,
    now: DateTime<Utc>,
) -> Result<Option<TenantPage>, ServiceError> {
    let Some((tenant, directories)) = crate::tenants::detail(store, slug).await? else { return Ok(None) };
    let sso = crate::sso::provider(store, tenant.id).await?;
    let viewed = "tenant page: directories and single sign-on settings";
    record_view(store, tenant.id, viewer, "support.viewed_tenant", viewed, json!({}), now).await?;
    let scope = store.tenant(tenant.id);
    let mut statuses = Vec::with_capacity(directories.len());
    for directory in directories {
        let state = scope.setup_state(directory.id).await?;
        let counts =
            crate::directory_sync::counts(store, tenant.id, directory.id).await.map_err(|error| match error {
                crate::directory_sync::SyncError::Service(error) => error,
                other => ServiceError::Internal(other.to_string()),
            })?;
        let health = scope.directory_sync_health(directory.id, now - Duration::days(1)).await?;
        statuses.push(DirectoryStatus {
            step_reached: state.as_ref().map_or(1, |state| state.step),
            completed_at: state.and_then(|state| state.completed.map(|(at, _)| at)),
            active_users: counts.users.active,
            inactive_users: counts.users.inactive,
            groups: counts.groups,
            health,
            directory,
        });
    }
    Ok(Some(TenantPage { tenant, directories: statuses, sso }))
}

/// The tenant's single sign-on settings (never the secret) for vendor staff, recorded as
/// `support.viewed_tenant` before they are returned.
pub async fn tenant_sso(
    store: &Store,
    tenant: TenantId,
    viewer: &Actor,
    now: DateTime<Utc>,
) -> Result<Option<crate::sso::ProviderSummary>, ServiceError> {
    let provider = crate::sso::provider(store, tenant).await?;
    record_view(store, tenant, viewer, "support.viewed_tenant", "single sign-on settings", json!({}), now).await?;
    Ok(provider)
}

/// The tenant's webhook endpoints and their progress for vendor staff, recorded as
/// `support.viewed_webhooks` before they are returned.
pub async fn tenant_webhooks(
    store: &Store,
    tenant: TenantId,
    viewer: &Actor,
    now: DateTime<Utc>,
) -> Result<Vec<crate::webhooks::EndpointOverview>, ServiceError> {
    let endpoints = crate::webhooks::endpoints_overview(store, tenant).await?;
    record_view(store, tenant, viewer, "support.viewed_webhooks", "webhook endpoints", json!({}), now).await?;
    Ok(endpoints)
}

/// One endpoint's delivery log and dead letters for vendor staff, recorded as
/// `support.viewed_webhooks` (with the endpoint) before they are returned. An endpoint
/// that is not the tenant's is an error, and nothing is recorded.
pub async fn webhook_activity(
    store: &Store,
    tenant: TenantId,
    endpoint: store::WebhookId,
    viewer: &Actor,
    limit: usize,
    now: DateTime<Utc>,
) -> Result<crate::webhooks::EndpointActivity, crate::webhooks::WebhookError> {
    let activity = crate::webhooks::endpoint_activity(store, tenant, endpoint, limit).await?;
    let detail = json!({"webhook": endpoint.to_string()});
    record_view(store, tenant, viewer, "support.viewed_webhooks", "webhook delivery log and dead letters", detail, now)
        .await?;
    Ok(activity)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed(scim_type: &str, said: &str) -> Value {
        json!({"response": {"scimType": scim_type, "detail": said}})
    }

    #[test]
    fn each_cause_is_told_apart() {
        let cases = [
            (401, json!({"refusal": "expired_token"}), FailureCause::AuthenticationFailure),
            (403, json!({}), FailureCause::AuthenticationFailure),
            (429, json!({}), FailureCause::RateLimited),
            (409, failed("uniqueness", "userName is taken"), FailureCause::UniquenessConflict),
            (400, failed("invalidPath", "no attribute shoeSize"), FailureCause::UnknownAttribute),
            (400, failed("noTarget", "nothing matched"), FailureCause::UnknownAttribute),
            (400, failed("invalidSyntax", "unknown attribute shoeSize"), FailureCause::UnknownAttribute),
            (400, failed("invalidFilter", "unknown attribute 'x' in filter"), FailureCause::UnknownAttribute),
            (400, failed("invalidValue", "active must be a boolean"), FailureCause::SchemaMismatch),
            (400, failed("mutability", "id is read-only"), FailureCause::SchemaMismatch),
            (400, failed("invalidSyntax", "the body is not valid JSON"), FailureCause::MalformedRequest),
            (400, failed("invalidFilter", "expected an operator"), FailureCause::MalformedRequest),
            (413, json!({}), FailureCause::MalformedRequest),
            (404, json!({}), FailureCause::NotFound),
            (412, json!({}), FailureCause::VersionConflict),
            (500, json!({}), FailureCause::ServerError),
            (501, json!({}), FailureCause::ServerError),
            (503, json!("not an object"), FailureCause::ServerError),
        ];
        for (status, detail, cause) in cases {
            assert_eq!(FailureCause::of(status, &detail), cause, "{status} {detail}");
        }
    }

    #[test]
    fn causes_round_trip_through_their_names() {
        for cause in FailureCause::ALL {
            assert_eq!(FailureCause::parse(cause.as_str()), Some(cause));
            assert!(!cause.label().is_empty() && cause.hint().ends_with('.'));
        }
        assert_eq!(FailureCause::parse("nonsense"), None);
    }

    #[test]
    fn an_explanation_has_the_cause_the_hint_and_what_the_server_said() {
        let text = explain(409, &failed("uniqueness", "userName \"ada\" is taken"));
        assert!(text.starts_with("Uniqueness conflict: A user or group with the same name"), "{text}");
        assert!(text.ends_with("The server said: UserName \"ada\" is taken."), "{text}");
        // A refused credential is explained by its own reason.
        let refused = json!({"refusal": "expired_token", "explanation": "The bearer token has expired."});
        assert_eq!(explain(401, &refused), "Authentication failure: The bearer token has expired.");
    }
}
