//! The Google Workspace pull connector against a stand-in of Google's token endpoint and
//! Directory API (see `google_stand_in`): connecting checks the key, the admin and the
//! delegation at once; a run reads everything, then writes through the directory's own
//! SCIM endpoint (creates, updates, deactivations, groups with nested groups), writes
//! nothing when nothing changed, retries Google's rate limits, and ends without writing
//! when Google refuses part of the listing.

use serde_json::{Value, json};
use service::Actor;
use service::google::GoogleError;
use service::google::connections::{ConnectError, ConnectRequest, connect, request_run, run_due};
use store::testing::TestDatabase;
use store::{IdentityProvider, backend_tests};

use crate::TestServer;
use crate::google_stand_in::{KEY_FILE, StandIn, backend_error, group, member, not_authorized, rate_limited, user};
use crate::nonhuman::Scim;

backend_tests!(
    a_google_directory_is_read_from_google_and_written_through_its_scim_endpoint,
    google_refusals_and_rate_limits_are_told_and_a_partial_read_writes_nothing,
    a_revoked_connector_token_stops_the_runs_and_one_process_runs_a_connection,
    the_admin_and_vendor_support_ask_for_a_full_sync_from_the_portal,
);

const ADMIN: &str = "it-admin@acme.example";

fn at(text: &str) -> chrono::DateTime<chrono::Utc> {
    text.parse().unwrap()
}

fn request(admin: &str) -> ConnectRequest {
    ConnectRequest {
        key_file: KEY_FILE.to_owned(),
        admin_email: admin.to_owned(),
        customer: String::new(),
        interval_minutes: None,
    }
}

/// A tenant's Google directory.
async fn google_directory(db: &TestDatabase, slug: &str) -> (store::TenantId, store::DirectoryId) {
    let token = service::directories::TokenRequest { label: "unused".into(), read_only: false, expires_at: None };
    let (tenant, directory, _) =
        crate::provisioned(db, slug, IdentityProvider::Google, token, at("2026-12-06T08:00:00Z")).await;
    (tenant.id, directory.id)
}

fn company(google: &StandIn) {
    google.with(|directory| {
        let mut alan = user("103", "alan@acme.example", "Alan", "Turing");
        alan["suspended"] = json!(true);
        directory.users = vec![
            user("101", "ada@acme.example", "Ada", "Lovelace"),
            user("102", "grace@acme.example", "Grace", "Hopper"),
            alan,
        ];
        directory.groups = vec![
            (
                group("g1", "eng@acme.example", "Engineering"),
                vec![
                    member("101", "ada@acme.example", "USER"),
                    member("102", "grace@acme.example", "USER"),
                    member("g2", "leads@acme.example", "GROUP"),
                    member("C03az79cb", "", "CUSTOMER"),
                ],
            ),
            (group("g2", "leads@acme.example", "Leads"), vec![member("102", "grace@acme.example", "USER")]),
        ];
    });
}

fn count(run: &store::GoogleRun, name: &str) -> u64 {
    run.counts[name].as_u64().unwrap_or_else(|| panic!("no {name} in {}", run.counts))
}

fn by_name<'a>(list: &'a Value, attribute: &str, name: &str) -> &'a Value {
    list["Resources"].as_array().unwrap().iter().find(|r| r[attribute] == name).unwrap_or_else(|| panic!("no {name}"))
}

async fn a_google_directory_is_read_from_google_and_written_through_its_scim_endpoint(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let google = StandIn::start(ADMIN).await;
    company(&google);
    let (tenant, directory) = google_directory(&db, "acme").await;
    let now = at("2026-12-06T09:00:00Z");
    let effects = service::Effects::stopped_at(now);
    let http = reqwest::Client::new();
    let base = server.url("");

    let connected =
        connect(&db.store, &google.options(), http.clone(), tenant, directory, request(ADMIN), &Actor::Cli, &effects)
            .await
            .unwrap();
    assert_eq!(connected.sample_users, ["ada@acme.example", "grace@acme.example", "alan@acme.example"]);
    assert_eq!(connected.client_id, "100000000000000000001");

    // The first run is due at once.
    let runs = run_due(&db.store, &google.options(), http.clone(), &base, "process-a", &effects, 10).await.unwrap();
    assert_eq!(runs.len(), 1);
    let run = &runs[0];
    assert!(run.succeeded, "{:?}", run.error);
    assert_eq!((count(run, "users_created"), count(run, "groups_created")), (3, 2), "{}", run.counts);
    assert_eq!((count(run, "members_skipped"), count(run, "writes_failed")), (1, 0), "{}", run.counts);
    assert_eq!(run.trigger, "setup");

    let scim = Scim::for_directory(&db, &server, tenant, directory).await;
    let users = scim.get("/Users?sortBy=userName").await;
    let names: Vec<&str> =
        users["Resources"].as_array().unwrap().iter().map(|u| u["userName"].as_str().unwrap()).collect();
    assert_eq!(names, ["ada@acme.example", "alan@acme.example", "grace@acme.example"]);
    let ada = by_name(&users, "userName", "ada@acme.example");
    assert_eq!((&ada["externalId"], &ada["active"], &ada["title"]), (&json!("101"), &json!(true), &json!("Engineer")));
    assert_eq!(ada["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]["department"], "R&D");
    assert_eq!(by_name(&users, "userName", "alan@acme.example")["active"], false, "suspended in Google");
    let groups = scim.get("/Groups").await;
    let engineering = by_name(&groups, "displayName", "Engineering");
    let leads = by_name(&groups, "displayName", "Leads");
    let mut members: Vec<&str> =
        engineering["members"].as_array().unwrap().iter().map(|m| m["value"].as_str().unwrap()).collect();
    members.sort_unstable();
    let mut expected = vec![
        ada["id"].as_str().unwrap(),
        by_name(&users, "userName", "grace@acme.example")["id"].as_str().unwrap(),
        leads["id"].as_str().unwrap(),
    ];
    expected.sort_unstable();
    assert_eq!(members, expected, "users and the nested group; the whole customer is no member");

    // Written as the connector's token, like any provider's writes.
    let data = db.store.tenant(tenant).directory_data(directory);
    let changes = data.changes_after(0, 1000).await.unwrap();
    let connection = db.store.tenant(tenant).google_connection(directory).await.unwrap().unwrap();
    assert!(changes.iter().all(|change| change.actor == format!("token:{}", connection.token)), "{changes:?}");

    // Not due again before its interval; asked for, it runs and writes nothing new.
    assert!(
        run_due(&db.store, &google.options(), http.clone(), &base, "process-a", &effects, 10).await.unwrap().is_empty()
    );
    assert!(request_run(&db.store, tenant, directory, &Actor::Cli, now).await.unwrap());
    let runs = run_due(&db.store, &google.options(), http.clone(), &base, "process-a", &effects, 10).await.unwrap();
    assert_eq!((count(&runs[0], "users_unchanged"), count(&runs[0], "users_updated")), (3, 0), "{}", runs[0].counts);
    assert_eq!(count(&runs[0], "groups_updated"), 0, "{}", runs[0].counts);
    assert_eq!(runs[0].trigger, "cli");
    assert_eq!(
        data.changes_after(0, 1000).await.unwrap().len(),
        changes.len(),
        "an unchanged directory writes nothing"
    );

    // Google changes: a title, a person gone, a group renamed, memberships.
    google.with(|directory| {
        directory.users[0]["organizations"][0]["title"] = json!("Principal Engineer");
        directory.users.remove(1);
        directory.groups[0].0["name"] = json!("Engineering Team");
        directory.groups[0].1.remove(1);
        directory.groups[1].1.clear();
    });
    assert!(request_run(&db.store, tenant, directory, &Actor::Cli, now).await.unwrap());
    let runs = run_due(&db.store, &google.options(), http.clone(), &base, "process-a", &effects, 10).await.unwrap();
    let run = &runs[0];
    assert!(run.succeeded, "{:?}", run.error);
    assert_eq!((count(run, "users_updated"), count(run, "users_deactivated")), (1, 1), "{}", run.counts);
    assert_eq!((count(run, "groups_updated"), count(run, "groups_deleted")), (2, 0), "{}", run.counts);
    let users = scim.get("/Users").await;
    assert_eq!(by_name(&users, "userName", "grace@acme.example")["active"], false, "gone from Google: deactivated");
    assert_eq!(by_name(&users, "userName", "ada@acme.example")["title"], "Principal Engineer");
    let groups = scim.get("/Groups").await;
    assert_eq!(by_name(&groups, "displayName", "Engineering Team")["members"].as_array().unwrap().len(), 2);
    assert!(by_name(&groups, "displayName", "Leads").get("members").is_none_or(|m| m.as_array().unwrap().is_empty()));

    // A group Google no longer lists is deleted.
    google.with(|directory| {
        directory.groups.remove(1);
    });
    assert!(request_run(&db.store, tenant, directory, &Actor::Cli, now).await.unwrap());
    let runs = run_due(&db.store, &google.options(), http.clone(), &base, "process-a", &effects, 10).await.unwrap();
    assert_eq!((count(&runs[0], "groups_deleted"), count(&runs[0], "groups_updated")), (1, 1), "{}", runs[0].counts);

    // The runs and the trail.
    let listed = db.store.tenant(tenant).google_runs(directory, 10).await.unwrap();
    assert_eq!(listed.len(), 4);
    assert!(listed.iter().all(|run| run.succeeded));
    let query = store::AuditQuery { directory: Some(directory), ..Default::default() };
    let trail = db.store.tenant(tenant).audit_page(&query, None, 500).await.unwrap();
    let actions: Vec<&str> = trail.iter().map(|record| record.action.as_str()).collect();
    assert_eq!(actions.iter().filter(|a| **a == "google.connected").count(), 1);
    assert_eq!(actions.iter().filter(|a| **a == "google.sync_requested").count(), 3);
    assert_eq!(actions.iter().filter(|a| **a == "google.sync_run").count(), 4);
}

async fn google_refusals_and_rate_limits_are_told_and_a_partial_read_writes_nothing(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let google = StandIn::start(ADMIN).await;
    company(&google);
    let (tenant, directory) = google_directory(&db, "acme").await;
    let now = at("2026-12-06T09:00:00Z");
    let effects = service::Effects::stopped_at(now);
    let http = reqwest::Client::new();
    let base = server.url("");
    let options = google.options();
    let connect_as = |request: ConnectRequest, directory| {
        let (http, options, effects) = (http.clone(), options.clone(), effects.clone());
        let store = db.store.clone();
        async move { connect(&store, &options, http, tenant, directory, request, &Actor::Cli, &effects).await }
    };

    // Refused before anything is stored, each with what to fix.
    let refused = connect_as(request("someone@acme.example"), directory).await.unwrap_err();
    assert!(matches!(&refused, ConnectError::Test(GoogleError::SignInRefused { status: 401, .. })), "{refused:?}");
    assert!(refused.to_string().contains("unauthorized_client"), "{refused}");
    let mut not_a_key = request(ADMIN);
    not_a_key.key_file = r#"{"installed": {"client_id": "1.apps.googleusercontent.com"}}"#.to_owned();
    assert!(matches!(connect_as(not_a_key, directory).await, Err(ConnectError::Key(_))));
    assert!(matches!(connect_as(request("it-admin"), directory).await, Err(ConnectError::AdminEmail)));
    let okta = crate::provisioned(
        &db,
        "acme",
        IdentityProvider::Okta,
        service::directories::TokenRequest { label: "x".into(), read_only: false, expires_at: None },
        now,
    )
    .await
    .1;
    assert!(matches!(connect_as(request(ADMIN), okta.id).await, Err(ConnectError::NotGoogle)));
    assert!(db.store.tenant(tenant).google_connection(directory).await.unwrap().is_none());

    // Rate limits and a backend error are waited out.
    connect_as(request(ADMIN), directory).await.unwrap();
    google.with(|directory| {
        directory.requests.clear();
        directory.failures.insert("users", [rate_limited(), backend_error()].into());
    });
    let runs = run_due(&db.store, &options, http.clone(), &base, "process-a", &effects, 10).await.unwrap();
    assert!(runs[0].succeeded, "{:?}", runs[0].error);
    assert_eq!(count(&runs[0], "users_created"), 3);
    let user_requests =
        google.with(|directory| directory.requests.iter().filter(|r| r.starts_with("GET users")).count());
    assert_eq!(user_requests, 3, "two refused, then the page");

    // Google refuses the groups: the run ends before writing, so a person Google no
    // longer lists is not deactivated on a partial read.
    google.with(|directory| {
        directory.users.remove(0);
        directory.failures.insert("groups", [not_authorized()].into());
    });
    assert!(request_run(&db.store, tenant, directory, &Actor::Cli, now).await.unwrap());
    let runs = run_due(&db.store, &options, http.clone(), &base, "process-a", &effects, 10).await.unwrap();
    assert!(!runs[0].succeeded);
    assert_eq!(
        runs[0].error.as_deref(),
        Some(
            "Google's Directory API answered 403 to groups.list: Not Authorized to access this resource/api [forbidden]"
        )
    );
    let scim = Scim::for_directory(&db, &server, tenant, directory).await;
    let ada = scim.get("/Users?filter=userName%20eq%20%22ada@acme.example%22").await;
    assert_eq!(ada["Resources"][0]["active"], true);

    // Rate-limited past every attempt: the run says so.
    google.with(|directory| {
        directory.failures.insert("users", std::iter::repeat_n(rate_limited(), 4).collect());
    });
    assert!(request_run(&db.store, tenant, directory, &Actor::Cli, now).await.unwrap());
    let runs = run_due(&db.store, &options, http.clone(), &base, "process-a", &effects, 10).await.unwrap();
    assert_eq!(
        runs[0].error.as_deref(),
        Some("Google's Directory API kept answering 429 to users.list after 4 attempts: Rate Limit Exceeded")
    );
    let query = store::AuditQuery { directory: Some(directory), ..Default::default() };
    let trail = db.store.tenant(tenant).audit_page(&query, None, 100).await.unwrap();
    let failed_runs = trail
        .iter()
        .filter(|record| record.action == "google.sync_run" && record.outcome == store::AuditOutcome::Failure)
        .count();
    assert_eq!(failed_runs, 2);

    // Once Google answers again, the next run deactivates her.
    assert!(request_run(&db.store, tenant, directory, &Actor::Cli, now).await.unwrap());
    let runs = run_due(&db.store, &options, http.clone(), &base, "process-a", &effects, 10).await.unwrap();
    assert_eq!(count(&runs[0], "users_deactivated"), 1, "{}", runs[0].counts);
}

async fn a_revoked_connector_token_stops_the_runs_and_one_process_runs_a_connection(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let google = StandIn::start(ADMIN).await;
    company(&google);
    let (tenant, directory) = google_directory(&db, "acme").await;
    let now = at("2026-12-06T09:00:00Z");
    let effects = service::Effects::stopped_at(now);
    let http = reqwest::Client::new();
    let base = server.url("");
    let options = google.options();
    connect(&db.store, &options, http.clone(), tenant, directory, request(ADMIN), &Actor::Cli, &effects).await.unwrap();

    // Two processes at once: one runs it.
    let (a, b) = tokio::join!(
        run_due(&db.store, &options, http.clone(), &base, "process-a", &effects, 10),
        run_due(&db.store, &options, http.clone(), &base, "process-b", &effects, 10),
    );
    assert_eq!(a.unwrap().len() + b.unwrap().len(), 1);
    assert_eq!(db.store.tenant(tenant).google_runs(directory, 10).await.unwrap().len(), 1);

    // The admin revokes the connector's token on the tokens page: the next run fails.
    let token = db.store.tenant(tenant).google_connection(directory).await.unwrap().unwrap().token;
    // Revocation takes effect at the time given; the server reads the real clock.
    #[allow(clippy::disallowed_methods)]
    let revoked_at = chrono::Utc::now();
    service::directories::revoke_token(&db.store, tenant, directory, token, &Actor::Cli, revoked_at).await.unwrap();
    assert!(request_run(&db.store, tenant, directory, &Actor::Cli, now).await.unwrap());
    let runs = run_due(&db.store, &options, http.clone(), &base, "process-a", &effects, 10).await.unwrap();
    let error = runs[0].error.clone().unwrap_or_default();
    assert!(error.starts_with("the directory's SCIM endpoint could not be read (401)"), "{error}");
}

/// "Sync now" in the portal: the directory's admin asks for a run on the dashboard and
/// vendor support for a full resync from the console; each request is on the tenant's
/// trail under who asked, and the run it starts says so. Another tenant's admin, support
/// naming another tenant, and a directory Google does not feed are refused.
async fn the_admin_and_vendor_support_ask_for_a_full_sync_from_the_portal(db: TestDatabase) {
    let now = at("2026-12-06T09:00:00Z");
    let clock = std::sync::Arc::new(service::clock::ManualClock::starting_at(now));
    let server = TestServer::start_with_clock(&db, &[], clock).await;
    let google = StandIn::start(ADMIN).await;
    company(&google);
    let admin = crate::onboarding::admin_of(&server, "acme", "it@acme.example").await;
    let directory = crate::onboarding::start_directory(&admin, "google").await;
    let okta = crate::onboarding::start_directory(&admin, "okta").await;
    let tenant = db.store.tenant_by_slug(&"acme".parse().unwrap()).await.unwrap().unwrap().id;
    let id: store::DirectoryId = directory.parse().unwrap();
    let options = google.options();
    let http = reqwest::Client::new();
    let base = server.url("");
    // The portal's clock stands still: a run asked for there is due at once. One set of
    // effects for every run, as a server has: its ids order the runs made in one instant.
    let effects = service::Effects::stopped_at(now);
    connect(&db.store, &options, http.clone(), tenant, id, request(ADMIN), &Actor::Cli, &effects).await.unwrap();
    let first = run_due(&db.store, &options, http.clone(), &base, "process-a", &effects, 10).await.unwrap();
    assert_eq!(first.len(), 1);
    assert!(run_due(&db.store, &options, http.clone(), &base, "process-a", &effects, 10).await.unwrap().is_empty());

    // The admin's "Sync now", a plain form on the dashboard, which comes back saying it
    // was asked for; the next round runs it, and the run names the admin.
    let dashboard = format!("/admin/directories/{directory}");
    let form = [("directory", directory.as_str())];
    let asked = crate::plain_forms::post_from(admin.client(), &server, &dashboard, "/api/sync_google_now", &form).await;
    assert_eq!(crate::plain_forms::location(&asked), dashboard);
    let html = admin.get(&dashboard).await.text().await.unwrap();
    assert!(html.contains("id=\"google-sync\"") && html.contains("Sync asked for…"), "{html}");
    // While the bundle runs, the panel is read again until the run asked for has happened.
    let followed = crate::plain_forms::island_regions(&html, "LiveRegions");
    assert!(followed.iter().any(|region| region == "google-sync"), "{followed:?}");
    let runs = run_due(&db.store, &options, http.clone(), &base, "process-a", &effects, 10).await.unwrap();
    assert_eq!(runs.len(), 1);
    let html = admin.get(&dashboard).await.text().await.unwrap();
    assert!(!html.contains("data-unsettled"), "the run happened: {html}");
    assert!(crate::plain_forms::island_regions(&html, "LiveRegions").iter().all(|region| region != "google-sync"));
    let requests = |records: &[store::AuditRecord]| {
        records.iter().filter(|r| r.action == "google.sync_requested").map(|r| r.actor.clone()).collect::<Vec<_>>()
    };
    let records = db.store.tenant(tenant).audit_records(0, 1000).await.unwrap();
    let asked_by = requests(&records);
    assert_eq!(asked_by.len(), 1);
    assert!(asked_by[0].starts_with("admin:"), "{asked_by:?}");
    assert_eq!(runs[0].trigger, asked_by[0]);
    let shown = admin.json("/api/google_sync", &[("directory", &directory)]).await;
    assert!(shown["runs"][0]["trigger"].as_str().unwrap().contains("it@acme.example"), "{shown}");

    // Vendor support reads the runs (on the record) and asks for a resync of acme's directory.
    let support = crate::webhook_pages::support_visitor(&db, &server).await;
    let shown = support.json("/api/google_sync", &[("directory", &directory), ("tenant", "acme")]).await;
    assert_eq!(shown["client_id"], "100000000000000000001", "{shown}");
    let asked = support.call("/api/sync_google_now", &[("directory", &directory), ("tenant", "acme")]).await;
    assert_eq!(asked.status(), 200, "{}", asked.text().await.unwrap());
    let runs = run_due(&db.store, &options, http.clone(), &base, "process-b", &effects, 10).await.unwrap();
    assert_eq!(runs.len(), 1);
    assert!(runs[0].succeeded, "{:?}", runs[0].error);
    assert_eq!(count(&runs[0], "users_unchanged"), 3, "a full read of Google: {}", runs[0].counts);
    let records = db.store.tenant(tenant).audit_records(0, 1000).await.unwrap();
    let asked_by = requests(&records);
    assert_eq!(asked_by.len(), 2);
    assert!(asked_by[1].starts_with("operator:"), "{asked_by:?}");
    assert_eq!(runs[0].trigger, asked_by[1]);
    let viewed = records.iter().rev().find(|record| record.action == "support.viewed_directory").unwrap();
    assert!(viewed.detail.contains(&directory) && viewed.detail.contains("Google Workspace sync"), "{}", viewed.detail);
    let shown = admin.json("/api/google_sync", &[("directory", &directory)]).await;
    assert!(
        shown["runs"][0]["trigger"].as_str().unwrap().ends_with("by support@vendor.example (vendor support)"),
        "{shown}"
    );

    // Refused: a directory without a connection, another tenant's admin, support naming
    // another tenant. None of them asks for a run.
    let refused = admin.call("/api/sync_google_now", &[("directory", &okta)]).await;
    assert_eq!(refused.status(), 404);
    assert!(refused.text().await.unwrap().contains("not connected to Google Workspace"));
    let stranger = crate::onboarding::admin_of(&server, "globex", "it@globex.example").await;
    assert_eq!(stranger.call("/api/sync_google_now", &[("directory", &directory)]).await.status(), 404);
    let elsewhere = [("directory", directory.as_str()), ("tenant", "globex")];
    assert_eq!(support.call("/api/sync_google_now", &elsewhere).await.status(), 404);
    let records = db.store.tenant(tenant).audit_records(0, 1000).await.unwrap();
    assert_eq!(requests(&records).len(), 2);
    assert!(run_due(&db.store, &options, http, &base, "process-a", &effects, 10).await.unwrap().is_empty());
}
