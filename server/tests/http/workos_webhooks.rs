//! The operator's WorkOS-style webhook endpoints: made, listed, changed and deleted through
//! `/webhook_endpoints`, and delivering every tenant's Directory Sync events of their types,
//! in order, signed as WorkOS signs (the SDK's `constructEvent` checks the same in
//! `end2end/`).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use service::directory_sync::OperatorDeliverer;
use store::testing::TestDatabase;

use crate::TestServer;
use crate::operator_api::{Directory, api_key};
use crate::webhooks::{Answer, Receiver, fast_retries, start_receiver};

store::backend_tests!(
    operator_endpoints_are_made_once_per_idempotency_key_listed_changed_and_deleted,
    operator_endpoints_receive_every_tenants_events_of_their_types_in_order_signed,
    a_deactivation_reaches_an_operator_endpoint_ahead_of_a_backlog,
);

struct Api {
    base: String,
    key: String,
    client: reqwest::Client,
}

impl Api {
    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
        key: Option<&str>,
    ) -> (StatusCode, Value) {
        let mut request = self.client.request(method, format!("{}{path}", self.base)).bearer_auth(&self.key);
        if let Some(body) = body {
            request = request.json(&body);
        }
        if let Some(key) = key {
            request = request.header("idempotency-key", key);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }
}

async fn api(db: &TestDatabase, server: &TestServer) -> Api {
    Api { base: format!("http://{}", server.address()), key: api_key(db).await, client: reqwest::Client::new() }
}

async fn operator_endpoints_are_made_once_per_idempotency_key_listed_changed_and_deleted(db: TestDatabase) {
    let server = TestServer::start_with(&db, &["--webhooks-allow-internal-targets"]).await;
    let api = api(&db, &server).await;
    let body = json!({ "endpoint_url": "http://127.0.0.1:9/hook", "events": ["dsync.user.created"] });

    let (status, created) = api.send(reqwest::Method::POST, "/webhook_endpoints", Some(body.clone()), Some("k1")).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["object"], "webhook_endpoint");
    assert_eq!(created["status"], "enabled");
    assert!(created["secret"].as_str().unwrap().starts_with("whsec_"));
    let (_, again) = api.send(reqwest::Method::POST, "/webhook_endpoints", Some(body), Some("k1")).await;
    assert_eq!(again, created, "a retry with the same key makes no second endpoint");
    let (_, listed) = api.send(reqwest::Method::GET, "/webhook_endpoints", None, None).await;
    assert_eq!(listed["data"], json!([created]));

    let id = created["id"].as_str().unwrap();
    let path = format!("/webhook_endpoints/{id}");
    let change = json!({ "status": "disabled", "events": ["dsync.user.created", "dsync.user.deleted"] });
    let (status, changed) = api.send(reqwest::Method::PATCH, &path, Some(change), None).await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!((changed["status"].as_str(), changed["events"].as_array().unwrap().len()), (Some("disabled"), 2));

    for (body, field) in [
        (json!({ "endpoint_url": "http://127.0.0.1:9/hook", "events": [] }), "events"),
        (json!({ "endpoint_url": "http://127.0.0.1:9/hook", "events": ["user.created"] }), "events"),
        (json!({ "endpoint_url": "ftp://example.invalid/", "events": ["dsync.user.created"] }), "endpoint_url"),
        (json!({ "events": ["dsync.user.created"] }), "body"),
    ] {
        let (status, answer) = api.send(reqwest::Method::POST, "/webhook_endpoints", Some(body), None).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
        assert_eq!(answer["errors"][0]["field"], field, "{answer}");
    }
    let (status, _) = api.send(reqwest::Method::PATCH, &path, Some(json!({ "status": "paused" })), None).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    assert_eq!(api.send(reqwest::Method::DELETE, &path, None, None).await.0, StatusCode::NO_CONTENT);
    assert_eq!(api.send(reqwest::Method::DELETE, &path, None, None).await.0, StatusCode::NOT_FOUND);
    let (_, listed) = api.send(reqwest::Method::GET, "/webhook_endpoints", None, None).await;
    assert_eq!(listed["data"], json!([]));
}

async fn operator_endpoints_receive_every_tenants_events_of_their_types_in_order_signed(db: TestDatabase) {
    let server = TestServer::start_with(&db, &["--webhooks-allow-internal-targets"]).await;
    let acme = Directory::new(&db, &server, "acme").await;
    let globex = Directory::new(&db, &server, "globex").await;
    // Made before the endpoint: not sent to it.
    acme.create_user("before@acme.example").await;
    let api = api(&db, &server).await;
    let received = Arc::new(Mutex::new(Vec::new()));
    // Ada's first delivery fails: it comes again before her later events, while the other
    // tenant's user does not wait for it.
    let refused_once = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let script = Arc::new(move |_: usize, event: &Value| {
        let ada = event["data"]["username"] == "ada@acme.example";
        if ada && !refused_once.swap(true, std::sync::atomic::Ordering::SeqCst) { Answer::Fail } else { Answer::Ok }
    });
    let url = start_receiver(Receiver { received: Arc::clone(&received), script }).await;
    let body = json!({ "endpoint_url": url, "events": ["dsync.user.created", "dsync.user.updated"] });
    let (_, endpoint) = api.send(reqwest::Method::POST, "/webhook_endpoints", Some(body), None).await;
    let secret = endpoint["secret"].as_str().unwrap().to_owned();

    let ada = acme.create_user("ada@acme.example").await;
    globex.create_user("gus@globex.example").await;
    acme.patch(&format!("/Users/{ada}"), json!([{ "op": "replace", "path": "active", "value": false }])).await;
    acme.send(
        reqwest::Method::POST,
        "/Groups",
        json!({ "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Not subscribed" }),
    )
    .await;

    let deliverer = OperatorDeliverer::new(db.store.clone(), fast_retries(), service::Effects::system()).unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while received.lock().unwrap().len() < 4 {
        assert!(std::time::Instant::now() < deadline, "deliveries did not arrive: {:?}", received.lock().unwrap());
        deliverer.deliver_pending().await.unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let got = received.lock().unwrap().clone();
    let events: Vec<Value> = got.iter().map(|(_, body)| serde_json::from_str(body).unwrap()).collect();
    let summary: Vec<(String, String)> = events
        .iter()
        .map(|e| {
            (e["event"].as_str().unwrap().to_owned(), e["data"]["username"].as_str().unwrap_or_default().to_owned())
        })
        .collect();
    let of = |name: &str| -> Vec<(usize, &str)> {
        summary
            .iter()
            .enumerate()
            .filter(|(_, (_, who))| who == name)
            .map(|(n, (kind, _))| (n, kind.as_str()))
            .collect()
    };
    let ada_events = of("ada@acme.example");
    let gus_events = of("gus@globex.example");
    assert_eq!(
        ada_events.iter().map(|(_, kind)| *kind).collect::<Vec<_>>(),
        ["dsync.user.created", "dsync.user.created", "dsync.user.updated"],
        "the failed event again, then her later one, of the endpoint's types only: {summary:?}"
    );
    assert_eq!(gus_events.len(), 1, "{summary:?}");
    assert!(gus_events[0].0 < ada_events[1].0, "the other tenant's user waited for Ada's retry: {summary:?}");
    let (first, retry, update) = (ada_events[0].0, ada_events[1].0, ada_events[2].0);
    assert_eq!(events[first]["id"], events[retry]["id"], "a retry keeps the event id");
    assert_eq!(events[update]["data"]["previous_attributes"], json!({ "state": "active" }));
    for (headers, body) in &got {
        let header = headers["workos-signature"].to_str().unwrap();
        let (t, v1) = header.split_once(", ").unwrap();
        let timestamp = t.strip_prefix("t=").unwrap();
        assert!(timestamp.len() >= 13, "milliseconds: {header}");
        let expected =
            service::directory_sync::webhooks::workos_signature(&secret, timestamp.parse().unwrap(), body.as_bytes());
        assert_eq!(expected.split_once(", ").unwrap().1, v1, "signed over the exact body");
    }
    // Nothing more to send.
    deliverer.deliver_pending().await.unwrap();
    assert_eq!(received.lock().unwrap().len(), 4);
}

async fn a_deactivation_reaches_an_operator_endpoint_ahead_of_a_backlog(db: TestDatabase) {
    let server = TestServer::start_with(&db, &["--webhooks-allow-internal-targets"]).await;
    let acme = Directory::new(&db, &server, "acme").await;
    let api = api(&db, &server).await;
    let received = Arc::new(Mutex::new(Vec::new()));
    let url = start_receiver(Receiver { received: Arc::clone(&received), script: Arc::new(|_, _| Answer::Ok) }).await;
    let body = json!({ "endpoint_url": url, "events": ["dsync.user.created", "dsync.user.updated"] });
    let (status, _) = api.send(reqwest::Method::POST, "/webhook_endpoints", Some(body), None).await;
    assert_eq!(status, StatusCode::CREATED);

    let leaver = acme.create_user("leaver@acme.example").await;
    let operations: Vec<Value> = (0..150)
        .map(|n| {
            json!({"method": "POST", "path": "/Users", "bulkId": format!("u{n}"),
                "data": {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": format!("routine{n}@acme.example")}})
        })
        .collect();
    acme.send(
        reqwest::Method::POST,
        "/Bulk",
        json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"], "Operations": operations}),
    )
    .await;
    acme.patch(&format!("/Users/{leaver}"), json!([{ "op": "replace", "path": "active", "value": false }])).await;

    // On PostgreSQL the deployment feed shows a change once every older transaction of the
    // cluster has ended (other tests' included): wait until it shows all 152, so that the
    // delivery below sees the backlog and the deactivation beyond it, as a server would.
    let query = service::directory_sync::EventQuery {
        events: vec!["dsync.user.created".into(), "dsync.user.updated".into()],
        limit: 1000,
        ..Default::default()
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while service::directory_sync::list_events(&db.store, &query).await.unwrap().data.len() < 152 {
        assert!(std::time::Instant::now() < deadline, "the feed did not show the 152 events");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // One resource at a time: the order of arrival is the order of sending.
    let options = service::webhooks::WebhookOptions { endpoint_concurrency: 1, ..fast_retries() };
    let deliverer = OperatorDeliverer::new(db.store.clone(), options, service::Effects::system()).unwrap();
    deliverer.deliver_pending().await.unwrap();
    deliverer.deliver_pending().await.unwrap();

    let events: Vec<(String, String, String)> = received
        .lock()
        .unwrap()
        .iter()
        .map(|(_, body)| {
            let event: Value = serde_json::from_str(body).unwrap();
            (
                event["id"].as_str().unwrap().to_owned(),
                event["event"].as_str().unwrap().to_owned(),
                event["data"]["username"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    assert_eq!(events.len(), 152, "every event exactly once");
    let mut ids: Vec<&String> = events.iter().map(|(id, _, _)| id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 152);
    assert_eq!(events[0].1, "dsync.user.created");
    assert_eq!(events[0].2, "leaver@acme.example");
    // The leaver's deactivation overtook the routine creations written before it.
    let deactivation =
        events.iter().position(|(_, kind, who)| kind == "dsync.user.updated" && who == "leaver@acme.example");
    assert!(deactivation.is_some_and(|at| at <= 1), "{:?}", &events[..3]);
}
