//! Every admin and operator action leaves exactly one record in its tenant's audit trail,
//! written with its change, whatever the entry point: the operator console, the admin's
//! portal, the operator API, the command line and the server's own jobs.
//!
//! The actions, by entry point:
//! - console (operator): `tenant.created`, `directory.created`, `setup_link.created`,
//!   `sso.configured`; support views: `support.viewed_tenant`;
//! - setup link: `admin.created`;
//! - portal (admin): `directory.created`, `directory.idp_changed`, `token.issued` (wizard
//!   and tokens page), `oauth_client.issued`, `directory.mapping_saved`, `token.rotated`,
//!   `token.revoked`, `directory.self_test`, `webhook.created`, `audit.retention_set`,
//!   `setup_link.created` (an invitation);
//! - the server itself: `directory.setup_completed` (an identity provider's first
//!   provisioning), `audit.retention_pruned`;
//! - operator API: `tenant.created`, `directory.created` (with its token), `setup_link.created`,
//!   `webhook.created`;
//! - command line: `tenant.created` and `directory.created` (create-directory),
//!   `directory.configured`, `schema_extension.defined`, `oauth_client.issued`,
//!   `setup_link.created`, `webhook.created`;
//! - WorkOS-compatible API and its Admin Portal links: `portal_link.created`,
//!   `portal_link.signed_in` (driven in `portal_links.rs`);
//! - `directory.deleted` through the portal, the console, the operator API and the
//!   WorkOS-compatible API, and the purge job's `directory.purged` (driven in
//!   `directory_deletion.rs`, which checks each records once, and a retry nothing).

use serde_json::{Value, json};
use store::testing::TestDatabase;
use store::{TenantId, TenantSlug};

use crate::TestServer;
use crate::onboarding::{admin_of, start_directory};
use crate::operator_api::api_key;

store::backend_tests!(every_action_leaves_exactly_one_record_whatever_the_entry_point);

/// A tenant's trail, read from where the last check left it.
struct Trail<'a> {
    db: &'a TestDatabase,
    tenant: TenantId,
    read_to: i64,
}

impl<'a> Trail<'a> {
    async fn of(db: &'a TestDatabase, slug: &str) -> Self {
        let slug = TenantSlug::parse(slug).unwrap();
        let tenant = db.store.tenant_by_slug(&slug).await.unwrap().unwrap().id;
        Self { db, tenant, read_to: 0 }
    }

    /// The actions recorded since the last call (SCIM requests, which the request log
    /// records on its own schedule, left out), as `(actor kind, action)`.
    async fn since_last(&mut self) -> Vec<(String, String)> {
        let records = self.db.store.tenant(self.tenant).audit_records(self.read_to, 1000).await.unwrap();
        self.read_to = records.last().map_or(self.read_to, |last| last.seq);
        records
            .into_iter()
            .filter(|record| record.action != "scim.request")
            .map(|record| {
                let kind = record.actor.split(':').next().unwrap_or_default().to_owned();
                (kind, record.action)
            })
            .collect()
    }

    /// Asserts that exactly these actions were recorded since the last call, in order.
    async fn expect(&mut self, entry_point: &str, expected: &[(&str, &str)]) {
        let recorded = self.since_last().await;
        let expected: Vec<(String, String)> =
            expected.iter().map(|(actor, action)| ((*actor).to_owned(), (*action).to_owned())).collect();
        assert_eq!(recorded, expected, "{entry_point}");
    }
}

fn server_command(db: &TestDatabase, args: &[&str]) -> Value {
    let output = crate::server_binary()
        .args(args)
        .env("DATABASE_URL", db.url.as_str())
        .env("WEBHOOKS_ALLOW_INTERNAL_TARGETS", "true")
        .output()
        .unwrap();
    assert!(output.status.success(), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).unwrap_or(Value::Null)
}

async fn api(server: &TestServer, key: &str, path: &str, body: Value) -> Value {
    let url = format!("http://{}{path}", server.address());
    let response = reqwest::Client::new().post(url).bearer_auth(key).json(&body).send().await.unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    assert!(status.is_success(), "{path}: {status} {text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

async fn every_action_leaves_exactly_one_record_whatever_the_entry_point(db: TestDatabase) {
    let server = TestServer::start_with(&db, &["--webhooks-allow-internal-targets"]).await;

    // The console and the setup link (admin_of: create_tenant, create_setup_link, accept).
    let admin = admin_of(&server, "acme", "it@acme.example").await;
    let mut acme = Trail::of(&db, "acme").await;
    acme.expect(
        "console and setup link",
        &[("operator", "tenant.created"), ("operator", "setup_link.created"), ("admin", "admin.created")],
    )
    .await;
    let added = server.json_call("/api/add_directory", &[("slug", "acme"), ("idp", "okta")]).await;
    assert!(added.is_object(), "{added}");
    let sso = [
        ("slug", "acme"),
        ("issuer", "http://127.0.0.1:9/realms/acme"),
        ("client_id", "portal"),
        ("client_secret", "s3cret"),
        ("display_name", "Acme SSO"),
    ];
    server.json_call("/api/configure_tenant_sso", &sso).await;
    server.json_call("/api/tenant_detail", &[("slug", "acme")]).await;
    acme.expect(
        "console",
        &[("operator", "directory.created"), ("operator", "sso.configured"), ("operator", "support.viewed_tenant")],
    )
    .await;

    // The admin's portal.
    let directory = start_directory(&admin, "okta").await;
    admin.json("/api/change_provider", &[("directory", &directory), ("idp", "entra")]).await;
    admin.json("/api/issue_setup_token", &[("directory", &directory), ("valid_days", "0")]).await;
    admin.json("/api/issue_setup_client", &[("directory", &directory)]).await;
    // The proposed mapping, confirmed as it is.
    let proposed = admin.json("/api/load_mapping", &[("directory", &directory)]).await;
    let mut form: Vec<(String, String)> = vec![("directory".into(), directory.clone())];
    for (index, row) in proposed["rows"].as_array().unwrap().iter().enumerate() {
        form.push((format!("attributes[{index}]"), row["attribute"].as_str().unwrap().to_owned()));
        form.push((format!("sources[{index}]"), row["source"].as_str().unwrap().to_owned()));
    }
    let mapping: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    admin.json("/api/save_mapping", &mapping).await;
    let made = [("directory", directory.as_str()), ("label", "Entra prod"), ("valid_days", "0")];
    admin.json("/api/create_directory_token", &made).await;
    let tokens = admin.json("/api/list_tokens", &[("directory", &directory)]).await;
    let newest = tokens[0]["id"].as_str().unwrap().to_owned();
    let rotate = [("directory", directory.as_str()), ("token", newest.as_str()), ("overlap_minutes", "60")];
    admin.json("/api/rotate_token", &rotate).await;
    let tokens = admin.json("/api/list_tokens", &[("directory", &directory)]).await;
    let rotated = tokens[0]["id"].as_str().unwrap().to_owned();
    admin.json("/api/revoke_directory_token", &[("directory", &directory), ("token", &rotated)]).await;
    let report = admin.json("/api/run_self_test", &[("directory", &directory)]).await;
    assert_eq!(report["passed"], true, "{report}");
    // Its deliberate 404 is the self-test's, not a failure of the directory's sync.
    server.audit.flush().await;
    let directory_id: store::DirectoryId = directory.parse().unwrap();
    #[allow(clippy::disallowed_methods)] // the server recorded at the real time
    let health = db
        .store
        .tenant(acme.tenant)
        .directory_sync_health(directory_id, chrono::Utc::now() - chrono::Duration::hours(1))
        .await
        .unwrap();
    assert!(health.requests > 0);
    assert_eq!(health.failures, 0, "the self-test's 404 counted as a failure");
    #[allow(clippy::disallowed_methods)]
    let overview = service::support::failures_by_cause(&db.store, chrono::Utc::now()).await.unwrap();
    let not_found = overview.iter().filter(|c| c.cause == service::support::FailureCause::NotFound);
    assert_eq!(not_found.map(|c| c.failures).sum::<u64>(), 0, "the self-test's 404 counts in the support console");
    admin.json("/api/create_webhook", &[("url", "http://127.0.0.1:9/hook")]).await;
    admin.json("/api/set_audit_retention", &[("days", "400")]).await;
    admin.json("/api/invite_admin", &[("valid_days", "7")]).await;
    acme.expect(
        "admin portal",
        &[
            ("admin", "directory.created"),
            ("admin", "directory.idp_changed"),
            ("admin", "token.issued"),
            ("admin", "oauth_client.issued"),
            ("admin", "directory.mapping_saved"),
            ("admin", "token.issued"),
            ("admin", "token.rotated"),
            ("admin", "token.revoked"),
            ("admin", "directory.self_test"),
            ("admin", "webhook.created"),
            ("admin", "audit.retention_set"),
            ("admin", "setup_link.created"),
        ],
    )
    .await;

    // The server itself: an identity provider's first provisioning completes a directory's
    // setup (the self-test passed above, so use a second directory).
    let second = start_directory(&admin, "okta").await;
    let issued = admin.json("/api/issue_setup_token", &[("directory", &second), ("valid_days", "0")]).await;
    let user = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "ada@acme.example"});
    let created = reqwest::Client::new()
        .post(format!("http://{}/scim/v2/{second}/Users", server.address()))
        .bearer_auth(issued["token"].as_str().unwrap())
        .header("content-type", "application/scim+json")
        .body(user.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    server.audit.flush().await;
    let feed = admin.json("/api/sync_feed", &[("directory", &second), ("after", "0")]).await;
    assert_eq!(feed["completed"], true, "{feed}");
    acme.expect(
        "the server",
        &[("admin", "directory.created"), ("admin", "token.issued"), ("system", "directory.setup_completed")],
    )
    .await;

    // The operator API.
    let key = api_key(&db).await;
    api(&server, &key, "/api/v1/tenants", json!({"slug": "globex", "display_name": "Globex"})).await;
    let added = api(&server, &key, "/api/v1/tenants/globex/directories", json!({"idp": "entra"})).await;
    assert!(added["token"].as_str().is_some_and(|token| token.starts_with("scim_")), "{added}");
    api(&server, &key, "/api/v1/tenants/globex/setup-links", json!({"valid_days": 3})).await;
    api(&server, &key, "/api/v1/tenants/globex/webhooks", json!({"url": "http://127.0.0.1:9/hook"})).await;
    let mut globex = Trail::of(&db, "globex").await;
    globex
        .expect(
            "operator API",
            &[
                ("api-key", "tenant.created"),
                ("api-key", "directory.created"),
                ("api-key", "setup_link.created"),
                ("api-key", "webhook.created"),
            ],
        )
        .await;

    // The command line.
    let printed = server_command(&db, &["admin", "create-directory", "--tenant", "initech", "--idp", "okta", "--json"]);
    let directory = printed["directory"].as_str().unwrap().to_owned();
    let scoped = ["--tenant", "initech", "--directory", directory.as_str()];
    server_command(&db, &[&["admin", "configure-directory"][..], &scoped, &["--rate-limit-per-second", "50"]].concat());
    let schema = std::env::temp_dir().join(format!("initech-{directory}.json"));
    let definition = json!({"id": "urn:initech:params:scim:schemas:extension:2.0:User", "name": "Initech",
        "attributes": [{"name": "badge", "type": "string", "multiValued": false, "required": false}]});
    std::fs::write(&schema, definition.to_string()).unwrap();
    let schema_path = schema.to_str().unwrap();
    server_command(&db, &[&["admin", "define-extension"][..], &scoped, &["--schema", schema_path]].concat());
    server_command(&db, &[&["admin", "create-oauth-client"][..], &scoped, &["--label", "Okta", "--json"]].concat());
    server_command(&db, &["admin", "create-setup-link", "--tenant", "initech", "--json"]);
    server_command(&db, &["admin", "create-webhook", "--tenant", "initech", "--url", "http://127.0.0.1:9/h", "--json"]);
    let mut initech = Trail::of(&db, "initech").await;
    initech
        .expect(
            "command line",
            &[
                ("cli", "tenant.created"),
                ("cli", "directory.created"),
                ("cli", "directory.configured"),
                ("cli", "schema_extension.defined"),
                ("cli", "oauth_client.issued"),
                ("cli", "setup_link.created"),
                ("cli", "webhook.created"),
            ],
        )
        .await;

    // The retention job: pruning and its record commit together, once.
    #[allow(clippy::disallowed_methods)] // the server recorded at the real time
    let later = chrono::Utc::now() + chrono::Duration::days(401);
    service::audit::enforce_retention(&db.store, &crate::audit_signer(), 90, later).await.unwrap();
    acme.read_to = 0;
    let after_pruning = acme.since_last().await;
    assert_eq!(after_pruning, [("system".to_owned(), "audit.retention_pruned".to_owned())]);
    for (slug, trail) in [("acme", acme.tenant), ("globex", globex.tenant), ("initech", initech.tenant)] {
        let report = service::audit::verify_chain(&db.store, trail).await.unwrap();
        assert_eq!(report.first_break, None, "{slug}");
    }
}
