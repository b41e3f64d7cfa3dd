//! Operator API keys with a whole lifecycle: each key reaches only its areas (and only
//! reads when read-only) on the operator API and the WorkOS-compatible API; keys are
//! listed with their last use, issued through the API within the issuer's reach, expire,
//! and are revoked at once — from the API, the command line and the console.

use std::sync::Arc;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use service::api_keys::{ApiArea, ApiKeyRequest, ApiKeyScopes};
use service::clock::ManualClock;
use store::testing::TestDatabase;

use crate::TestServer;
use crate::operator_api::Directory;

store::backend_tests!(
    a_key_reaches_only_its_areas_and_only_reads_when_read_only,
    keys_are_listed_issued_within_reach_expire_and_are_revoked_at_once,
    the_command_line_and_the_console_issue_list_and_revoke_keys,
);

fn now() -> chrono::DateTime<chrono::Utc> {
    #[allow(clippy::disallowed_methods)] // the server stamps requests with the real clock
    chrono::Utc::now()
}

/// A key of `areas` only (read-only or not).
pub(crate) async fn issue(db: &TestDatabase, label: &str, areas: &[ApiArea], read_only: bool) -> String {
    let request =
        ApiKeyRequest { label: label.into(), scopes: ApiKeyScopes::new(areas.to_vec(), read_only), expires_at: None };
    service::api_keys::issue_api_key(&db.store, request, None, &service::Actor::Cli, &service::Effects::system())
        .await
        .unwrap()
        .secret
}

async fn call(server: &TestServer, key: &str, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
    let mut request = reqwest::Client::new().request(method, server.url(path)).bearer_auth(key);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn a_key_reaches_only_its_areas_and_only_reads_when_read_only(db: TestDatabase) {
    let server = TestServer::start_with(&db, &["--webhooks-allow-internal-targets"]).await;
    let acme = Directory::new(&db, &server, "acme").await;
    let directory = acme.id.to_string();
    let workos_directory = service::directory_sync::ids::directory_id(acme.id);
    let feed_reader = issue(&db, "feed reader", &[ApiArea::DirectoryData], true).await;
    let onboarding = issue(&db, "onboarding", &[ApiArea::Tenants], false).await;
    let only_keys = issue(&db, "key manager", &[ApiArea::ApiKeys], false).await;

    // The read-only directory-data key reads users and events, on both APIs...
    let events = format!("/api/v1/directories/{directory}/events");
    assert_eq!(call(&server, &feed_reader, Method::GET, &events, None).await.0, StatusCode::OK);
    let users = format!("/directory_users?directory={workos_directory}");
    assert_eq!(call(&server, &feed_reader, Method::GET, &users, None).await.0, StatusCode::OK);
    // ...acknowledges nothing (a write), and reaches no tenant, webhook or audit trail.
    let (status, problem) = call(&server, &feed_reader, Method::POST, "/api/v1/events/event_x/ack", None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(problem["detail"].as_str().unwrap().contains("read-only"), "{problem}");
    let (status, problem) = call(&server, &feed_reader, Method::GET, "/api/v1/tenants", None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        problem["detail"], "this API key does not reach tenants (it reaches directory_data (read-only))",
        "{problem}"
    );
    for path in ["/api/v1/tenants/acme/audit", "/api/v1/tenants/acme/webhooks", "/api/v1/api-keys"] {
        assert_eq!(call(&server, &feed_reader, Method::GET, path, None).await.0, StatusCode::FORBIDDEN, "{path}");
    }
    let (status, answer) = call(&server, &feed_reader, Method::GET, "/organizations", None).await;
    assert_eq!((status, answer["code"].as_str()), (StatusCode::FORBIDDEN, Some("forbidden")));
    let endpoint = json!({ "endpoint_url": "http://127.0.0.1:9/hook", "events": ["dsync.user.created"] });
    let (status, _) = call(&server, &feed_reader, Method::POST, "/webhook_endpoints", Some(endpoint.clone())).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // The tenants key onboards (tenants, directories, Admin Portal links) and reads no user.
    let tenant = json!({ "slug": "globex", "display_name": "Globex" });
    assert_eq!(call(&server, &onboarding, Method::POST, "/api/v1/tenants", Some(tenant)).await.0, StatusCode::CREATED);
    assert_eq!(call(&server, &onboarding, Method::GET, "/directories", None).await.0, StatusCode::OK);
    assert_eq!(call(&server, &onboarding, Method::GET, &users, None).await.0, StatusCode::FORBIDDEN);
    assert_eq!(call(&server, &onboarding, Method::GET, "/events", None).await.0, StatusCode::FORBIDDEN);

    // Every route of the WorkOS-compatible API names an area: a key of another area is
    // refused by each (403, not let through, not a 500), a key of every area by none.
    let full = issue(&db, "everything", &ApiArea::ALL, false).await;
    let workos_routes = [
        (Method::GET, "/organizations".to_owned()),
        (Method::GET, "/organizations/org_x".to_owned()),
        (Method::GET, "/organizations/external_id/x".to_owned()),
        (Method::GET, "/directories".to_owned()),
        (Method::GET, format!("/directories/{workos_directory}")),
        (Method::GET, format!("/directories/{workos_directory}/users")),
        (Method::GET, format!("/directories/{workos_directory}/users/x")),
        (Method::GET, format!("/directories/{workos_directory}/groups")),
        (Method::GET, format!("/directories/{workos_directory}/groups/x")),
        (Method::GET, users.clone()),
        (Method::GET, "/directory_users/x".to_owned()),
        (Method::GET, format!("/directory_groups?directory={workos_directory}")),
        (Method::GET, "/directory_groups/x".to_owned()),
        (Method::GET, "/events?events=dsync.user.created".to_owned()),
        (Method::GET, "/webhook_endpoints".to_owned()),
        (Method::PATCH, "/webhook_endpoints/we_x".to_owned()),
    ];
    for (method, path) in &workos_routes {
        let (status, answer) = call(&server, &only_keys, method.clone(), path, Some(json!({}))).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{method} {path}: {answer}");
        let (status, answer) = call(&server, &full, method.clone(), path, Some(json!({}))).await;
        assert!(
            status != StatusCode::FORBIDDEN && status != StatusCode::UNAUTHORIZED && !status.is_server_error(),
            "{method} {path}: {status} {answer}"
        );
    }
}

async fn keys_are_listed_issued_within_reach_expire_and_are_revoked_at_once(db: TestDatabase) {
    let clock = Arc::new(ManualClock::starting_at(now()));
    let server = TestServer::start_with_clock(&db, &[], clock.clone()).await;
    let acme = Directory::new(&db, &server, "acme").await;
    let events = format!("/api/v1/directories/{}/events", acme.id);
    let admin_key = issue(&db, "key manager", &[ApiArea::ApiKeys, ApiArea::Tenants], false).await;

    // Issued through the API: within the issuer's reach only, with words for what is wrong.
    let asked = json!({ "label": "feed worker", "areas": ["tenants"], "read_only": true, "expires_in_days": 30 });
    let (status, issued) = call(&server, &admin_key, Method::POST, "/api/v1/api-keys", Some(asked)).await;
    assert_eq!(status, StatusCode::CREATED, "{issued}");
    assert_eq!(issued["api_key"]["areas"], json!(["tenants"]));
    assert_eq!(
        (issued["api_key"]["read_only"].as_bool(), issued["api_key"]["state"].as_str()),
        (Some(true), Some("active"))
    );
    let expected_expiry = (now() + chrono::Duration::days(30)).date_naive().to_string();
    assert!(issued["api_key"]["expires_at"].as_str().unwrap().starts_with(&expected_expiry), "{issued}");
    let worker = issued["key"].as_str().unwrap().to_owned();
    let worker_id = issued["api_key"]["id"].as_str().unwrap().to_owned();
    let beyond = json!({ "label": "escalation", "areas": ["directory_data"] });
    let (status, problem) = call(&server, &admin_key, Method::POST, "/api/v1/api-keys", Some(beyond)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(problem["detail"], "A key can issue keys of at most its own reach (tenants, api_keys).");
    for (body, words) in [
        (json!({ "label": "x", "areas": ["everything"] }), "unknown API key area \"everything\""),
        (json!({ "label": "x", "areas": [] }), "Choose at least one area"),
        (json!({ "label": " ", "areas": ["tenants"] }), "Give the key a label"),
        (json!({ "label": "x", "areas": ["tenants"], "expires_in_days": 0 }), "whole number of days"),
    ] {
        let (status, problem) = call(&server, &admin_key, Method::POST, "/api/v1/api-keys", Some(body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{problem}");
        assert!(problem["detail"].as_str().unwrap().contains(words), "{problem}");
    }

    // Listed with state and last use, never a secret.
    assert_eq!(call(&server, &worker, Method::GET, "/api/v1/tenants", None).await.0, StatusCode::OK);
    let (status, listed) = call(&server, &admin_key, Method::GET, "/api/v1/api-keys", None).await;
    assert_eq!(status, StatusCode::OK);
    let listed = listed.as_array().unwrap();
    assert_eq!(listed.len(), 2);
    assert!(listed.iter().all(|key| key.get("key").is_none() && key["last_used_at"].is_string()), "{listed:?}");
    assert!(listed.iter().any(|key| key["label"] == "feed worker"), "{listed:?}");

    // Expired: refused like an unknown key, and listed as expired.
    clock.advance(chrono::Duration::days(31));
    assert_eq!(call(&server, &worker, Method::GET, "/api/v1/tenants", None).await.0, StatusCode::UNAUTHORIZED);
    let (_, listed) = call(&server, &admin_key, Method::GET, "/api/v1/api-keys", None).await;
    let worker_listed = listed.as_array().unwrap().iter().find(|key| key["id"] == worker_id.as_str()).unwrap();
    assert_eq!(worker_listed["state"], "expired");

    // Revoked: the next request is refused; revoking again changes nothing; unknown: 404.
    let full = issue(&db, "product", &ApiArea::ALL, false).await;
    assert_eq!(call(&server, &full, Method::GET, &events, None).await.0, StatusCode::OK);
    let full_id = listed_id(&server, &admin_key, "product").await;
    let (status, revoked) =
        call(&server, &admin_key, Method::DELETE, &format!("/api/v1/api-keys/{full_id}"), None).await;
    assert_eq!((status, revoked["state"].as_str()), (StatusCode::OK, Some("revoked")));
    let first_revocation = revoked["revoked_at"].clone();
    assert_eq!(call(&server, &full, Method::GET, &events, None).await.0, StatusCode::UNAUTHORIZED);
    let (status, again) = call(&server, &admin_key, Method::DELETE, &format!("/api/v1/api-keys/{full_id}"), None).await;
    assert_eq!((status, &again["revoked_at"]), (StatusCode::OK, &first_revocation));
    let unknown = format!("/api/v1/api-keys/{}", <store::ApiKeyId as store::testing::FreshId>::fresh());
    assert_eq!(call(&server, &admin_key, Method::DELETE, &unknown, None).await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        call(&server, &admin_key, Method::DELETE, "/api/v1/api-keys/nonsense", None).await.0,
        StatusCode::NOT_FOUND
    );
    // An expired key revokes nothing, not even itself.
    let (status, _) = call(&server, &worker, Method::DELETE, &format!("/api/v1/api-keys/{worker_id}"), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "expired keys do nothing");
}

async fn listed_id(server: &TestServer, key: &str, label: &str) -> String {
    let (_, listed) = call(server, key, Method::GET, "/api/v1/api-keys", None).await;
    let found = listed.as_array().unwrap().iter().find(|key| key["label"] == label).unwrap();
    found["id"].as_str().unwrap().to_owned()
}

async fn the_command_line_and_the_console_issue_list_and_revoke_keys(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let admin = |args: &[&str]| {
        let output = crate::server_binary()
            .arg("admin")
            .args(args)
            .env("DATABASE_URL", db.url.as_str())
            .env("PUBLIC_URL", "https://scim.vendor.example/")
            .output()
            .unwrap();
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    let (ok, printed, errors) = admin(&[
        "create-api-key",
        "--label",
        "audit export",
        "--area",
        "audit,tenants",
        "--read-only",
        "--expires-in-days",
        "90",
        "--json",
    ]);
    assert!(ok, "{errors}");
    let created: Value = serde_json::from_str(&printed).unwrap();
    assert_eq!((created["areas"].clone(), created["read_only"].as_bool()), (json!(["tenants", "audit"]), Some(true)));
    let key = created["key"].as_str().unwrap().to_owned();
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(call(&server, &key, Method::GET, "/api/v1/tenants", None).await.0, StatusCode::OK);
    let (ok, _, errors) = admin(&["create-api-key", "--area", "everything"]);
    assert!(!ok && errors.contains("unknown API key area \"everything\""), "{errors}");

    let (ok, printed, errors) = admin(&["list-api-keys", "--json"]);
    assert!(ok, "{errors}");
    let listed: Value = serde_json::from_str(&printed).unwrap();
    assert_eq!((listed[0]["id"].as_str(), listed[0]["state"].as_str()), (Some(id.as_str()), Some("active")));
    assert!(listed[0]["last_used_at"].is_string(), "{listed}");
    let (ok, printed, _) = admin(&["list-api-keys"]);
    assert!(ok && printed.contains("audit export") && printed.contains("tenants, audit (read-only)"), "{printed}");

    // The console lists, issues and revokes (an operator; support staff only see the list).
    server.sign_in().await;
    let rows = server.json_call("/api/list_api_keys", &[]).await;
    assert_eq!(rows[0]["label"], "audit export");
    assert_eq!(rows[0]["reach"], "Tenants, directories and setup links; Audit trails (read-only)");
    let issued = server
        .json_call("/api/issue_api_key", &[("label", "events worker"), ("directory_data", "on"), ("valid_days", "90")])
        .await;
    assert_eq!(issued["reach"], "Directory data: users, groups, events, receipts, roles");
    let worker = issued["key"].as_str().unwrap().to_owned();
    let refused = server.call("/api/issue_api_key", &[("label", "nothing"), ("valid_days", "0")]).await;
    assert_eq!(refused.status(), 422);
    assert!(refused.text().await.unwrap().contains("Choose at least one area"));
    let console_id = server.json_call("/api/list_api_keys", &[]).await[0]["id"].as_str().unwrap().to_owned();
    server.json_call("/api/revoke_api_key", &[("key", &console_id)]).await;
    let acme = Directory::new(&db, &server, "acme").await;
    let events = format!("/api/v1/directories/{}/events", acme.id);
    assert_eq!(call(&server, &worker, Method::GET, &events, None).await.0, StatusCode::UNAUTHORIZED);

    let (ok, printed, errors) = admin(&["revoke-api-key", "--id", &id]);
    assert!(ok && printed.contains("Revoked API key"), "{printed}{errors}");
    assert_eq!(call(&server, &key, Method::GET, "/api/v1/tenants", None).await.0, StatusCode::UNAUTHORIZED);
    let (ok, printed, _) = admin(&["revoke-api-key", "--id", &id]);
    assert!(ok && printed.contains("already revoked"), "{printed}");
}
