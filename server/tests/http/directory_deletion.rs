//! Deleting a directory through the WorkOS-compatible API and the operator API (the portal
//! and the console are driven in `onboarding.rs` and `actions.rs`): its credentials stop
//! working at once, it is gone from every list and read, `dsync.deleted` (and, when its
//! setup completed, `dsync.activated` before it) is in the deployment's events, and its data
//! is purged once the operator's retention period has passed.

use chrono::{DateTime, Duration, Utc};
use reqwest::StatusCode;
use serde_json::Value;
use service::Clock as _;
use store::testing::TestDatabase;
use store::{DirectoryId, TenantId};

use crate::TestServer;
use crate::onboarding::{admin_of, start_directory};
use crate::operator_api::{Directory, api_key, events};
use crate::webhook_pages::support_visitor;
use crate::workos_api::{Api, directory_id, group, provision};

store::backend_tests!(
    the_compatible_api_deletes_a_directory_and_its_tokens_stop_working_at_once,
    a_second_deletion_answers_the_same_and_records_nothing,
    the_operator_api_deletes_only_the_named_tenants_directory,
    the_deleted_directorys_events_stay_readable_with_dsync_deleted_last,
    setup_completion_is_dsync_activated_once,
    the_purge_job_deletes_the_data_after_the_retention_and_records_it,
    with_no_retention_the_next_purge_deletes_the_data,
    an_admin_deletes_a_directory_of_their_tenant_after_typing_its_name,
    an_operator_deletes_a_directory_from_the_console_and_support_cannot,
);

fn now() -> DateTime<Utc> {
    #[allow(clippy::disallowed_methods)] // the tests' SCIM tokens are checked at the real time
    Utc::now()
}

impl Api {
    async fn delete(&self, path: &str) -> StatusCode {
        let response = self.client.delete(format!("{}{path}", self.base)).bearer_auth(&self.key).send().await.unwrap();
        response.status()
    }
}

/// `DELETE /api/v1/tenants/{tenant}/directories/{directory}` with `key`.
async fn operator_delete(server: &TestServer, key: &str, tenant: &str, directory: &str) -> (StatusCode, Value) {
    let url = format!("http://{}/api/v1/tenants/{tenant}/directories/{directory}", server.address());
    let response = reqwest::Client::new().delete(url).bearer_auth(key).send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn tenant_id(db: &TestDatabase, slug: &str) -> TenantId {
    db.store.tenant_by_slug(&slug.parse().unwrap()).await.unwrap().unwrap().id
}

/// The actions of a tenant's trail (SCIM requests left out), with their actor kind.
async fn actions(db: &TestDatabase, tenant: TenantId) -> Vec<(String, String)> {
    let records = db.store.tenant(tenant).audit_records(0, 1000).await.unwrap();
    records
        .into_iter()
        .filter(|record| record.action != "scim.request")
        .map(|record| (record.actor.split(':').next().unwrap_or_default().to_owned(), record.action))
        .collect()
}

async fn the_compatible_api_deletes_a_directory_and_its_tokens_stop_working_at_once(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let acme = Directory::new(&db, &server, "acme").await;
    let globex = Directory::new(&db, &server, "globex").await;
    provision(&acme, "ada@acme.example", "Ada").await;
    let tenant = tenant_id(&db, "acme").await;
    let actor = service::Actor::Cli;
    let client = service::directories::issue_oauth_client(
        &db.store,
        tenant,
        acme.id,
        "idp".into(),
        &actor,
        &service::Effects::system(),
    )
    .await
    .unwrap()
    .unwrap();
    let api = Api::new(&db, &server).await;
    let directory = directory_id(&api, "acme").await;
    assert_eq!(acme.get_raw("/Users").await, 200, "the token works before");

    assert_eq!(api.delete(&format!("/directories/{directory}")).await, StatusCode::ACCEPTED);

    assert_eq!(acme.get_raw("/Users").await, 401, "the directory's token is refused right after");
    let grant = service::directories::exchange_client_credentials(
        &db.store,
        &client.client_id,
        &client.secret,
        &service::Effects::system(),
    )
    .await;
    assert!(matches!(grant, Err(service::directories::GrantError::InvalidClient)), "its OAuth client is revoked");
    let (status, body) = api.call(&format!("/directories/{directory}")).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::NOT_FOUND, Some("entity_not_found")));
    assert_eq!(api.call(&format!("/directory_users?directory={directory}")).await.0, StatusCode::NOT_FOUND);
    let listed = api.get("/directories").await;
    let names: Vec<&str> =
        listed["data"].as_array().unwrap().iter().map(|d| d["organization_id"].as_str().unwrap()).collect();
    assert_eq!(names.len(), 1, "only globex's directory is left: {listed}");
    assert_eq!(globex.get_raw("/Users").await, 200, "another tenant's directory is untouched");
    // Unknown and malformed ids.
    assert_eq!(api.delete("/directories/directory_00000000000000000000000000000000").await, StatusCode::NOT_FOUND);
    assert_eq!(api.delete("/directories/not-a-directory").await, StatusCode::NOT_FOUND);
    assert_eq!(
        actions(&db, tenant).await.last().unwrap(),
        &("api-key".to_owned(), "directory.deleted".to_owned()),
        "recorded as the API key, in the tenant's trail"
    );
}

async fn a_second_deletion_answers_the_same_and_records_nothing(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let acme = Directory::new(&db, &server, "acme").await;
    let tenant = tenant_id(&db, "acme").await;
    let api = Api::new(&db, &server).await;
    let directory = directory_id(&api, "acme").await;

    assert_eq!(api.delete(&format!("/directories/{directory}")).await, StatusCode::ACCEPTED);
    let trail = actions(&db, tenant).await;
    assert_eq!(api.delete(&format!("/directories/{directory}")).await, StatusCode::ACCEPTED, "a retry succeeds");

    assert_eq!(actions(&db, tenant).await, trail, "the retry recorded nothing");
    let deleted = trail.iter().filter(|(_, action)| action == "directory.deleted").count();
    assert_eq!(deleted, 1);
    let key = api_key(&db).await;
    let (_, feed) = events(&server, &key, &acme.id.to_string(), "").await;
    let kinds: Vec<&str> = feed["events"].as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["directory.deleted"], "one deletion in the directory's feed");
}

async fn the_operator_api_deletes_only_the_named_tenants_directory(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let acme = Directory::new(&db, &server, "acme").await;
    let _globex = Directory::new(&db, &server, "globex").await;
    let key = api_key(&db).await;
    let id = acme.id.to_string();

    let (status, body) = operator_delete(&server, &key, "globex", &id).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "globex has no such directory: {body}");
    assert_eq!(body["status"], 404);
    assert_eq!(operator_delete(&server, &key, "initech", &id).await.0, StatusCode::NOT_FOUND, "no such tenant");
    assert_eq!(operator_delete(&server, &key, "acme", "nope").await.0, StatusCode::NOT_FOUND);
    assert_eq!(acme.get_raw("/Users").await, 200, "refused deletions change nothing");
    let url = format!("http://{}/api/v1/tenants/acme/directories/{id}", server.address());
    assert_eq!(reqwest::Client::new().delete(&url).send().await.unwrap().status(), 401, "an API key is needed");

    let (status, deleted) = operator_delete(&server, &key, "acme", &id).await;

    assert_eq!(status, StatusCode::OK, "{deleted}");
    assert_eq!(deleted["id"], id.as_str());
    let deleted_at = DateTime::parse_from_rfc3339(deleted["deleted_at"].as_str().unwrap()).unwrap();
    let purge_after = DateTime::parse_from_rfc3339(deleted["purge_after"].as_str().unwrap()).unwrap();
    assert_eq!(purge_after - deleted_at, Duration::days(30), "the default retention");
    assert_eq!(acme.get_raw("/Users").await, 401);
    let (again_status, again) = operator_delete(&server, &key, "acme", &id).await;
    assert_eq!((again_status, again["deleted_at"].clone()), (StatusCode::OK, deleted["deleted_at"].clone()));
    let detail = reqwest::Client::new()
        .get(format!("http://{}/api/v1/tenants/acme", server.address()))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(detail["directories"], serde_json::json!([]), "gone from the tenant");
    let users = reqwest::Client::new()
        .get(format!("http://{}/api/v1/directories/{id}/users", server.address()))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(users.status(), StatusCode::NOT_FOUND, "its users are no longer served");
}

async fn the_deleted_directorys_events_stay_readable_with_dsync_deleted_last(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let acme = Directory::new(&db, &server, "acme").await;
    let globex = Directory::new(&db, &server, "globex").await;
    let ada = provision(&acme, "ada@acme.example", "Ada").await;
    group(&acme, "Engineering", &[&ada]).await;
    provision(&globex, "gus@globex.example", "Gus").await;
    let api = Api::new(&db, &server).await;
    let directory = directory_id(&api, "acme").await;
    let organization = api.get("/organizations/external_id/acme").await["id"].as_str().unwrap().to_owned();
    let created = api.get(&format!("/directories/{directory}")).await["created_at"].clone();

    assert_eq!(api.delete(&format!("/directories/{directory}")).await, StatusCode::ACCEPTED);

    let deleted = api.events_when("events=dsync.deleted", 1).await;
    let listed = deleted["data"].as_array().unwrap();
    assert_eq!(listed.len(), 1, "{deleted}");
    let data = &listed[0]["data"];
    assert_eq!(listed[0]["event"], "dsync.deleted");
    assert_eq!(data["object"], "directory");
    assert_eq!(data["id"], directory.as_str());
    assert_eq!(data["organization_id"], organization.as_str());
    assert_eq!(data["state"], "deleting");
    assert_eq!(data["type"], "okta scim v2.0");
    assert_eq!(data["created_at"], created);
    assert!(data.get("domains").is_none() && data.get("external_key").is_none(), "as DsyncDeletedEvent: {data}");
    // Filters: by organization, and by time.
    let of_acme = api.get(&format!("/events?events=dsync.deleted&organization_id={organization}")).await;
    assert_eq!(of_acme["data"].as_array().unwrap().len(), 1);
    let globex_org = api.get("/organizations/external_id/globex").await["id"].as_str().unwrap().to_owned();
    let of_globex = api.get(&format!("/events?events=dsync.deleted&organization_id={globex_org}")).await;
    assert_eq!(of_globex["data"], serde_json::json!([]));
    let later = (now() + Duration::hours(1)).to_rfc3339();
    let after_it = api.get(&format!("/events?events=dsync.deleted&range_start={}", urlencode(&later))).await;
    assert_eq!(after_it["data"], serde_json::json!([]));
    // The directory's earlier events are still there, in order, its deletion last; the
    // membership event names its user and group by id.
    let all = "events=dsync.user.created,dsync.group.created,dsync.group.user_added,dsync.deleted";
    let page = api.events_when(&format!("{all}&organization_id={organization}"), 4).await;
    let kinds: Vec<&str> = page["data"].as_array().unwrap().iter().map(|e| e["event"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["dsync.user.created", "dsync.group.created", "dsync.group.user_added", "dsync.deleted"]);
    let user_id = page["data"][2]["data"]["user"]["id"].as_str().unwrap();
    assert!(user_id.ends_with(&ada.replace('-', "")), "{page}");
    // The operator's own feed of the directory too.
    let key = api_key(&db).await;
    let (status, feed) = events(&server, &key, &acme.id.to_string(), "").await;
    assert_eq!(status, StatusCode::OK);
    let last = feed["events"].as_array().unwrap().last().unwrap().clone();
    assert_eq!((last["type"].as_str(), last["resource_type"].as_str()), (Some("directory.deleted"), Some("Directory")));
    assert_eq!(last["resource_id"], acme.id.to_string().as_str());
    assert_eq!(last["normalized"]["state"], "deleting");
}

fn urlencode(text: &str) -> String {
    text.replace('+', "%2B").replace(':', "%3A")
}

async fn setup_completion_is_dsync_activated_once(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let acme = Directory::new(&db, &server, "acme").await;
    let tenant = tenant_id(&db, "acme").await;
    let base = format!("http://{}", server.address());
    let effects = service::Effects::system();
    let api = Api::new(&db, &server).await;
    let directory = directory_id(&api, "acme").await;
    assert_eq!(api.get("/events?events=dsync.activated").await["data"], serde_json::json!([]));

    for _ in 0..2 {
        let report =
            service::self_test::run(&db.store, tenant, acme.id, &base, &service::Actor::Cli, &effects).await.unwrap();
        assert!(report.passed, "{report:?}");
    }

    let activated = api.events_when("events=dsync.activated", 1).await;
    let events = activated["data"].as_array().unwrap();
    assert_eq!(events.len(), 1, "the second completion is no activation: {activated}");
    let data = &events[0]["data"];
    assert_eq!(events[0]["event"], "dsync.activated");
    assert_eq!(data["id"], directory.as_str());
    assert_eq!(data["state"], "active", "the SDK does not map `linked` in events");
    assert_eq!(data["external_key"], acme.id.to_string().as_str());
    assert_eq!(data["domains"], serde_json::json!([]));
    assert_eq!(api.get(&format!("/directories/{directory}")).await["state"], "linked");

    // Deleted afterwards: both, in order, and the `after` cursor goes on from the first.
    assert_eq!(api.delete(&format!("/directories/{directory}")).await, StatusCode::ACCEPTED);
    let both = api.events_when("events=dsync.activated,dsync.deleted", 2).await;
    let kinds: Vec<&str> = both["data"].as_array().unwrap().iter().map(|e| e["event"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["dsync.activated", "dsync.deleted"]);
    let first = both["data"][0]["id"].as_str().unwrap();
    let rest = api.get(&format!("/events?events=dsync.activated,dsync.deleted&after={first}")).await;
    assert_eq!(rest["data"][0]["event"], "dsync.deleted");
    assert_eq!(rest["data"].as_array().unwrap().len(), 1);
}

/// What is stored of a directory: its users and groups, and its change records.
async fn stored_rows(db: &TestDatabase, tenant: TenantId, directory: DirectoryId) -> (i64, usize) {
    let data = db.store.tenant(tenant).directory_data(directory);
    let mut resources = 0;
    for kind in [store::ResourceKind::User, store::ResourceKind::Group] {
        let spec = store::ListSpec {
            filter: None,
            sort: None,
            page: store::PageSpec::Offset { skip: 0, take: 1 },
            hide_self_test: false,
        };
        resources += data.list(kind, &spec).await.unwrap().total;
    }
    (resources, data.changes_after(0, 1000).await.unwrap().len())
}

async fn the_purge_job_deletes_the_data_after_the_retention_and_records_it(db: TestDatabase) {
    let clock = std::sync::Arc::new(service::clock::ManualClock::starting_at(now()));
    let server = TestServer::start_with_clock(&db, &[], clock.clone()).await;
    let acme = Directory::new(&db, &server, "acme").await;
    let ada = provision(&acme, "ada@acme.example", "Ada").await;
    group(&acme, "Engineering", &[&ada]).await;
    let tenant = tenant_id(&db, "acme").await;
    let key = api_key(&db).await;
    let id = acme.id.to_string();
    assert_eq!(operator_delete(&server, &key, "acme", &id).await.0, StatusCode::OK);
    let retention = Duration::days(30);
    assert_eq!(stored_rows(&db, tenant, acme.id).await, (2, 4), "user, group, membership and deletion are kept");

    clock.advance(Duration::days(30) - Duration::seconds(1));
    let early = service::directory_lifecycle::purge_deleted_directories(&db.store, retention, clock.now()).await;
    assert_eq!(early.unwrap(), [], "not before the retention has passed");
    assert_eq!(stored_rows(&db, tenant, acme.id).await, (2, 4));

    clock.advance(Duration::seconds(1));
    let purged =
        service::directory_lifecycle::purge_deleted_directories(&db.store, retention, clock.now()).await.unwrap();

    assert_eq!(purged.len(), 1);
    assert_eq!((purged[0].tenant, purged[0].directory), (tenant, acme.id));
    assert_eq!(purged[0].rows, 2 + 4, "two resources and four change records");
    assert_eq!(stored_rows(&db, tenant, acme.id).await, (0, 0));
    assert!(db.store.directory_owner(acme.id).await.unwrap().is_none(), "its route is gone");
    let trail = actions(&db, tenant).await;
    assert_eq!(trail.last().unwrap(), &("system".to_owned(), "directory.purged".to_owned()));
    let api = Api::new(&db, &server).await;
    let page = api.get("/events?events=dsync.user.created,dsync.group.user_added,dsync.deleted").await;
    assert_eq!(page["data"], serde_json::json!([]), "readers skip the purged directory's events");
    assert_eq!(events(&server, &key, &id, "").await.0, StatusCode::NOT_FOUND);
    assert_eq!(operator_delete(&server, &key, "acme", &id).await.0, StatusCode::NOT_FOUND, "nothing left to delete");
    // Idempotent: another run (another server process) finds nothing and records nothing.
    let again = service::directory_lifecycle::purge_deleted_directories(&db.store, retention, clock.now()).await;
    assert_eq!(again.unwrap(), []);
    assert_eq!(actions(&db, tenant).await, trail);
    let report = service::audit::verify_chain(&db.store, tenant).await.unwrap();
    assert_eq!(report.first_break, None);
}

async fn with_no_retention_the_next_purge_deletes_the_data(db: TestDatabase) {
    let server = TestServer::start_with(&db, &["--deleted-directory-retention-days", "0"]).await;
    let acme = Directory::new(&db, &server, "acme").await;
    let kept = Directory::new(&db, &server, "acme").await;
    provision(&acme, "ada@acme.example", "Ada").await;
    let tenant = tenant_id(&db, "acme").await;
    let key = api_key(&db).await;

    let (_, deleted) = operator_delete(&server, &key, "acme", &acme.id.to_string()).await;
    assert_eq!(deleted["purge_after"], deleted["deleted_at"], "no retention: due at once");
    let purged =
        service::directory_lifecycle::purge_deleted_directories(&db.store, Duration::zero(), now()).await.unwrap();

    assert_eq!(purged.iter().map(|p| p.directory).collect::<Vec<_>>(), [acme.id]);
    assert_eq!(stored_rows(&db, tenant, acme.id).await, (0, 0));
    assert_eq!(kept.get_raw("/Users").await, 200, "the tenant's other directory is untouched");
}

async fn an_admin_deletes_a_directory_of_their_tenant_after_typing_its_name(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let acme = admin_of(&server, "acme", "it@acme.example").await;
    let globex = admin_of(&server, "globex", "it@globex.example").await;
    let directory = start_directory(&acme, "okta").await;
    let theirs = start_directory(&globex, "entra").await;
    let other = [("directory", theirs.as_str()), ("confirmation", "Microsoft Entra ID")];
    assert_eq!(acme.call("/api/delete_directory", &other).await.status(), 404, "another tenant's is not found");
    let unconfirmed = acme.call("/api/delete_directory", &[("directory", &directory), ("confirmation", "Entra")]).await;
    assert_eq!(unconfirmed.status(), 422);
    assert!(unconfirmed.text().await.unwrap().contains("Type the directory's name, Okta"));
    let malformed = acme.call("/api/delete_directory", &[("directory", "not-an-id"), ("confirmation", "Okta")]).await;
    assert_eq!(malformed.status(), 404);
    assert_eq!(acme.json("/api/admin_home", &[]).await["directories"].as_array().unwrap().len(), 1);

    let deleted = acme.json("/api/delete_directory", &[("directory", &directory), ("confirmation", " okta ")]).await;

    let message = deleted["message"].as_str().unwrap();
    assert!(message.starts_with("The Okta directory was deleted at "), "{message}");
    assert!(message.contains("kept for 30 days, then purged"), "{message}");
    assert_eq!(acme.json("/api/admin_home", &[]).await["directories"], serde_json::json!([]), "gone from home");
    let dashboard = acme.call("/api/directory_dashboard", &[("directory", &directory)]).await;
    assert_eq!(dashboard.status(), 404);
    let again = acme.call("/api/delete_directory", &[("directory", &directory), ("confirmation", "Okta")]).await;
    assert_eq!(again.status(), 404, "the portal no longer knows it");
    let tenant = tenant_id(&db, "acme").await;
    assert_eq!(actions(&db, tenant).await.last().unwrap(), &("admin".to_owned(), "directory.deleted".to_owned()));
    let globex_home = globex.json("/api/admin_home", &[]).await;
    assert_eq!(globex_home["directories"].as_array().unwrap().len(), 1, "globex's directory stays");
}

async fn an_operator_deletes_a_directory_from_the_console_and_support_cannot(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    server.sign_in().await;
    server.call("/api/create_tenant", &[("slug", "acme"), ("display_name", "Acme")]).await;
    let added = server.call("/api/add_directory", &[("slug", "acme"), ("idp", "google")]).await;
    assert_eq!(added.status(), 200);
    let detail = server.json_call("/api/tenant_detail", &[("slug", "acme")]).await;
    let directory = detail["directories"][0]["id"].as_str().unwrap().to_owned();
    let staff = support_visitor(&db, &server).await;
    let form = [("slug", "acme"), ("directory", directory.as_str()), ("confirmation", "Google Workspace")];

    assert_eq!(staff.call("/api/console_delete_directory", &form).await.status(), 403, "support only looks");
    let wrong_tenant = [("slug", "globex"), ("directory", directory.as_str()), ("confirmation", "Google Workspace")];
    assert_eq!(server.call("/api/console_delete_directory", &wrong_tenant).await.status(), 404);
    let deleted = server.json_call("/api/console_delete_directory", &form).await;

    assert!(deleted["message"].as_str().unwrap().starts_with("The Google Workspace directory was deleted"));
    let detail = server.json_call("/api/tenant_detail", &[("slug", "acme")]).await;
    assert_eq!(detail["directories"], serde_json::json!([]));
    let tenant = tenant_id(&db, "acme").await;
    let trail = actions(&db, tenant).await;
    let deletions: Vec<&(String, String)> = trail.iter().filter(|(_, action)| action == "directory.deleted").collect();
    assert_eq!(deletions, [&("operator".to_owned(), "directory.deleted".to_owned())]);
}
