//! Webhooks through the operator API and the portal: registering (internal targets
//! refused), the endpoint list, the delivery log, dead letters and their replay, each
//! change in the tenant's trail; and that vendor staff reading a tenant's pages or webhooks
//! leave a record in that tenant's trail only, while support cannot change anything.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use service::webhooks::{Deliverer, WebhookOptions};
use store::testing::{FreshId as _, TestDatabase};
use store::{AuditRecord, TenantSlug};

use crate::onboarding::{Visitor, admin_of};
use crate::operator_api::{Directory, api_key};
use crate::webhooks::{Answer, Receiver, deliver_until, fast_retries, start_receiver};
use crate::{OPERATOR_PASSWORD, TestServer};

store::backend_tests!(
    the_operator_api_registers_lists_and_replays_a_tenants_webhooks,
    the_operator_api_refuses_internal_targets_and_answers_unknown_ids_with_404,
    an_admin_registers_a_webhook_reads_its_log_and_replays_a_dead_letter,
    staff_views_of_a_tenant_are_recorded_in_that_tenants_trail_only,
    support_cannot_register_or_replay_and_signed_out_visitors_get_nothing,
);

const ALLOW_INTERNAL: &[&str] = &["--webhooks-allow-internal-targets"];

/// A receiver that refuses the user named `poison` until told to accept it.
struct PoisonReceiver {
    url: String,
    received: Arc<Mutex<Vec<(reqwest::header::HeaderMap, String)>>>,
    accept: Arc<AtomicBool>,
}

impl PoisonReceiver {
    async fn start() -> Self {
        let received = Arc::new(Mutex::new(Vec::new()));
        let accept = Arc::new(AtomicBool::new(false));
        let script = {
            let accept = Arc::clone(&accept);
            Arc::new(move |_: usize, event: &Value| {
                let poison = event["data"]["userName"] == "poison";
                if poison && !accept.load(Ordering::SeqCst) { Answer::Fail } else { Answer::Ok }
            })
        };
        let url = start_receiver(Receiver { received: Arc::clone(&received), script }).await;
        Self { url, received, accept }
    }

    fn has_received(&self, user_name: &str) -> bool {
        self.times_received(user_name) > 0
    }

    fn times_received(&self, user_name: &str) -> usize {
        let needle = format!("\"userName\":\"{user_name}\"");
        self.received.lock().unwrap().iter().filter(|(_, body)| body.contains(&needle)).count()
    }
}

/// Provisions `before`, `poison` and `after`, and delivers until `after` arrived and
/// `poison` is a dead letter (after two attempts; the others do not wait for it).
async fn deliver_with_a_dead_letter(db: &TestDatabase, directory: &Directory, receiver: &PoisonReceiver) {
    directory.create_user("before").await;
    directory.create_user("poison").await;
    directory.create_user("after").await;
    // A generous timeout: on a busy machine a slow answer must not add failed attempts.
    let options = WebhookOptions { max_attempts: 2, request_timeout: Duration::from_secs(5), ..fast_retries() };
    let deliverer = Deliverer::new(db.store.clone(), options, service::Effects::system()).unwrap();
    deliver_until(&deliverer, || receiver.has_received("after") && receiver.times_received("poison") == 2).await;
}

async fn trail(db: &TestDatabase, slug: &str) -> Vec<AuditRecord> {
    let tenant = db.store.tenant_by_slug(&TenantSlug::parse(slug).unwrap()).await.unwrap().unwrap();
    db.store.tenant(tenant.id).audit_records(0, 1000).await.unwrap()
}

fn actions<'a>(records: &'a [AuditRecord], prefix: &str) -> Vec<&'a AuditRecord> {
    records.iter().filter(|record| record.action.starts_with(prefix)).collect()
}

fn detail(record: &AuditRecord) -> Value {
    serde_json::from_str(&record.detail).unwrap()
}

/// The operator API at `path` with `key`: status and JSON body.
async fn api(server: &TestServer, key: &str, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
    let mut request = reqwest::Client::new().request(method, server.url(path)).bearer_auth(key);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    if status >= 400 {
        assert_eq!(response.headers()["content-type"], "application/problem+json", "{path}");
    }
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn the_operator_api_registers_lists_and_replays_a_tenants_webhooks(db: TestDatabase) {
    let server = TestServer::start_with(&db, ALLOW_INTERNAL).await;
    let key = api_key(&db).await;
    let acme = Directory::new(&db, &server, "acme").await;
    let receiver = PoisonReceiver::start().await;
    let get = reqwest::Method::GET;
    let post = reqwest::Method::POST;

    let (status, created) =
        api(&server, &key, post.clone(), "/api/v1/tenants/acme/webhooks", Some(json!({"url": receiver.url}))).await;
    assert_eq!(status, 201, "{created}");
    let secret = created["secret"].as_str().unwrap();
    assert!(secret.starts_with("whsec_"), "{created}");
    let id = created["webhook"]["id"].as_str().unwrap().to_owned();
    assert_eq!(created["webhook"]["url"], receiver.url.as_str());
    let directory = &created["webhook"]["directories"][0];
    assert_eq!(
        (directory["directory"].as_str(), directory["delivered_up_to"].as_i64()),
        (Some(&*acme.id.to_string()), Some(0))
    );

    deliver_with_a_dead_letter(&db, &acme, &receiver).await;

    let (status, listed) = api(&server, &key, get.clone(), "/api/v1/tenants/acme/webhooks", None).await;
    assert_eq!(status, 200);
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["id"], id.as_str());
    assert_eq!(listed[0]["directories"][0]["delivered_up_to"], 3, "the dead letter did not hold up the feed");
    assert!(!listed.to_string().contains(secret), "the list shows the secret");
    let deliveries = format!("/api/v1/tenants/acme/webhooks/{id}/deliveries");
    let (status, log) = api(&server, &key, get.clone(), &deliveries, None).await;
    assert_eq!(status, 200);
    let mut outcomes: Vec<&str> = log.as_array().unwrap().iter().map(|a| a["outcome"].as_str().unwrap()).collect();
    assert_eq!(outcomes[0], "dead", "newest first: {log}");
    outcomes.sort_unstable();
    assert_eq!(outcomes, ["dead", "delivered", "delivered", "failed"], "{log}");
    let (_, dead) = api(&server, &key, get.clone(), &format!("{deliveries}?outcome=dead"), None).await;
    assert_eq!(dead.as_array().unwrap().len(), 1);
    assert_eq!((dead[0]["seq"].as_i64(), dead[0]["attempt"].as_i64()), (Some(2), Some(2)));
    assert_eq!(dead[0]["status_code"], 500);
    let (_, newest) = api(&server, &key, get.clone(), &format!("{deliveries}?limit=1"), None).await;
    assert_eq!(newest.as_array().unwrap().len(), 1);

    let replay = format!("/api/v1/tenants/acme/webhooks/{id}/dead-letters/{}/replay", dead[0]["id"].as_str().unwrap());
    let (status, refused) = api(&server, &key, post.clone(), &replay, None).await;
    assert_eq!((status, &refused), (200, &json!({"delivered": false})));
    receiver.accept.store(true, Ordering::SeqCst);
    let (status, delivered) = api(&server, &key, post.clone(), &replay, None).await;
    assert_eq!((status, &delivered), (200, &json!({"delivered": true})));
    let last = receiver.received.lock().unwrap().last().cloned().unwrap();
    assert_eq!(last.0["scim-event-id"], dead[0]["event"].as_str().unwrap(), "a replay keeps the event id");

    let records = trail(&db, "acme").await;
    let webhook_records = actions(&records, "webhook.");
    let summary: Vec<(&str, Value)> =
        webhook_records.iter().map(|r| (r.action.as_str(), detail(r)["delivered"].clone())).collect();
    assert_eq!(
        summary,
        [
            ("webhook.created", Value::Null),
            ("webhook.dead_letter_replayed", json!(false)),
            ("webhook.dead_letter_replayed", json!(true))
        ]
    );
    assert!(webhook_records.iter().all(|r| r.actor.starts_with("api-key:")), "{webhook_records:?}");

    let (_, document) = api(&server, &key, get, "/api/openapi.json", None).await;
    for path in [
        "/api/v1/tenants/{slug}/webhooks",
        "/api/v1/tenants/{slug}/webhooks/{webhook}/deliveries",
        "/api/v1/tenants/{slug}/webhooks/{webhook}/dead-letters/{delivery}/replay",
    ] {
        assert!(document["paths"][path].is_object(), "{path} is not in the OpenAPI document");
    }
}

async fn the_operator_api_refuses_internal_targets_and_answers_unknown_ids_with_404(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let key = api_key(&db).await;
    Directory::new(&db, &server, "acme").await;
    let post = reqwest::Method::POST;
    let get = reqwest::Method::GET;
    let webhooks = "/api/v1/tenants/acme/webhooks";

    let (status, internal) =
        api(&server, &key, post.clone(), webhooks, Some(json!({"url": "http://127.0.0.1:9/hook"}))).await;
    assert_eq!(status, 400);
    assert!(internal["detail"].as_str().unwrap().contains("internal address"), "{internal}");
    let (status, _) = api(&server, &key, post.clone(), webhooks, Some(json!({"url": "ftp://example.com/hook"}))).await;
    assert_eq!(status, 400);
    let (status, _) = api(&server, &key, post.clone(), webhooks, Some(json!({"address": "x"}))).await;
    assert_eq!(status, 400, "a body without url");
    let (_, listed) = api(&server, &key, get.clone(), webhooks, None).await;
    assert_eq!(listed, json!([]), "a refused target was registered");
    let (status, _) = api(
        &server,
        &key,
        post.clone(),
        "/api/v1/tenants/globex/webhooks",
        Some(json!({"url": "https://example.com"})),
    )
    .await;
    assert_eq!(status, 404);

    // An endpoint registered while internal targets were allowed (the CLI's way).
    let tenant = db.store.tenant_by_slug(&TenantSlug::parse("acme").unwrap()).await.unwrap().unwrap();
    #[allow(clippy::disallowed_methods)]
    let now = chrono::Utc::now();
    let hook = service::webhooks::register_webhook(
        &db.store,
        tenant.id,
        "http://127.0.0.1:9/hook",
        &fast_retries(),
        &service::Actor::Cli,
        &service::Effects::stopped_at(now),
    )
    .await
    .unwrap();
    let deliveries = format!("{webhooks}/{}/deliveries", hook.id);
    assert_eq!(api(&server, &key, get.clone(), &deliveries, None).await.0, 200);
    for (path, expected) in [
        (format!("{webhooks}/{}/deliveries", store::WebhookId::fresh()), 404),
        (format!("{webhooks}/not-an-id/deliveries"), 404),
        (format!("/api/v1/tenants/globex/webhooks/{}/deliveries", hook.id), 404),
        (format!("{deliveries}?outcome=lost"), 400),
        (format!("{deliveries}?limit=0"), 400),
        (format!("{deliveries}?limit=many"), 400),
    ] {
        let (status, problem) = api(&server, &key, get.clone(), &path, None).await;
        assert_eq!(status, expected, "{path}: {problem}");
        assert_eq!(problem["status"], expected, "{path}");
    }
    for path in [
        format!("{webhooks}/{}/dead-letters/{}/replay", hook.id, store::DeliveryId::fresh()),
        format!("{webhooks}/{}/dead-letters/not-an-id/replay", hook.id),
        format!("{webhooks}/{}/dead-letters/{}/replay", store::WebhookId::fresh(), store::DeliveryId::fresh()),
    ] {
        let (status, problem) = api(&server, &key, post.clone(), &path, None).await;
        assert_eq!(status, 404, "{path}: {problem}");
    }
    let recorded: Vec<String> =
        actions(&trail(&db, "acme").await, "webhook.").iter().map(|r| r.action.clone()).collect();
    assert_eq!(recorded, ["webhook.created"], "a refusal was recorded as a change");
    let anonymous = reqwest::Client::new().get(server.url(webhooks)).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
}

async fn an_admin_registers_a_webhook_reads_its_log_and_replays_a_dead_letter(db: TestDatabase) {
    let server = TestServer::start_with(&db, ALLOW_INTERNAL).await;
    let admin = admin_of(&server, "acme", "it@acme.example").await;
    let acme = Directory::new(&db, &server, "acme").await;
    let receiver = PoisonReceiver::start().await;

    let page = admin.get("/admin/webhooks").await;
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("/pkg/portal.js"));
    let stranger = Visitor::new(&server).get("/admin/webhooks").await;
    assert_eq!(stranger.headers()["location"], "/sign-in");
    let not_a_url = admin.call("/api/create_webhook", &[("url", "ftp://example.com/hook")]).await;
    assert_eq!(not_a_url.status(), 422);
    assert!(not_a_url.text().await.unwrap().contains("must be an https:// (or http://) URL."));
    let issued = admin.json("/api/create_webhook", &[("url", &receiver.url)]).await;
    assert!(issued["secret"].as_str().unwrap().starts_with("whsec_"), "{issued}");
    let id = issued["id"].as_str().unwrap().to_owned();
    deliver_with_a_dead_letter(&db, &acme, &receiver).await;

    let endpoints = admin.json("/api/webhook_endpoints", &[]).await;
    assert_eq!(endpoints[0]["id"], id.as_str());
    assert_eq!(endpoints[0]["url"], receiver.url.as_str());
    assert_eq!(endpoints[0]["directories"][0]["delivered_up_to"], 3);
    assert_eq!(endpoints[0]["directories"][0]["idp"], "Okta");
    assert!(!endpoints.to_string().contains(issued["secret"].as_str().unwrap()));
    let activity = admin.json("/api/webhook_activity", &[("webhook", &id)]).await;
    let mut outcomes: Vec<&str> =
        activity["attempts"].as_array().unwrap().iter().map(|a| a["outcome"].as_str().unwrap()).collect();
    assert_eq!(outcomes[0], "dead", "newest first");
    outcomes.sort_unstable();
    assert_eq!(outcomes, ["dead", "delivered", "delivered", "failed"]);
    let dead = &activity["dead_letters"][0];
    assert_eq!((dead["attempt"]["seq"].as_i64(), &dead["replayed"]), (Some(2), &Value::Null));
    let delivery = dead["attempt"]["id"].as_str().unwrap().to_owned();

    let refused = admin.json("/api/replay_dead_letter", &[("webhook", &id), ("delivery", &delivery)]).await;
    receiver.accept.store(true, Ordering::SeqCst);
    let delivered = admin.json("/api/replay_dead_letter", &[("webhook", &id), ("delivery", &delivery)]).await;
    let unknown = admin.call("/api/replay_dead_letter", &[("webhook", &id), ("delivery", "nonsense")]).await;

    assert_eq!((refused, delivered), (json!(false), json!(true)));
    assert_eq!(unknown.status(), 404);
    let after = admin.json("/api/webhook_activity", &[("webhook", &id)]).await;
    assert!(after["dead_letters"][0]["replayed"].as_str().unwrap().starts_with("20"), "{after}");
    assert_eq!(after["attempts"][0]["outcome"], "delivered");
    let records = trail(&db, "acme").await;
    let changes = actions(&records, "webhook.");
    let summary: Vec<&str> = changes.iter().map(|r| r.action.as_str()).collect();
    assert_eq!(summary, ["webhook.created", "webhook.dead_letter_replayed", "webhook.dead_letter_replayed"]);
    assert!(changes.iter().all(|r| r.actor.starts_with("admin:")), "{changes:?}");
    assert_eq!(detail(changes[0])["url"], receiver.url.as_str());
    // Another tenant's admin reaches none of it.
    let other = admin_of(&server, "globex", "it@globex.example").await;
    assert_eq!(other.json("/api/webhook_endpoints", &[]).await, json!([]));
    assert_eq!(other.call("/api/webhook_activity", &[("webhook", &id)]).await.status(), 404);
    let foreign = other.call("/api/replay_dead_letter", &[("webhook", &id), ("delivery", &delivery)]).await;
    assert_eq!(foreign.status(), 404);
}

/// Signs in a new operator with the support role; returns their browser.
pub(crate) async fn support_visitor<'a>(db: &TestDatabase, server: &'a TestServer) -> Visitor<'a> {
    let operator = db.store.operator_by_email(crate::OPERATOR_EMAIL).await.unwrap().unwrap();
    let support = store::Operator {
        id: store::OperatorId::fresh(),
        email: "support@vendor.example".into(),
        role: store::OperatorRole::Support,
        ..operator
    };
    db.store.insert_operator(&support).await.unwrap();
    let visitor = Visitor::new(server);
    let signed_in = visitor
        .post_form("/api/sign_in", &[("email", "support@vendor.example"), ("password", OPERATOR_PASSWORD)])
        .await;
    assert!(signed_in.status().is_redirection(), "{}", signed_in.status());
    visitor
}

async fn staff_views_of_a_tenant_are_recorded_in_that_tenants_trail_only(db: TestDatabase) {
    let server = TestServer::start_with(&db, ALLOW_INTERNAL).await;
    let admin = admin_of(&server, "acme", "it@acme.example").await;
    Directory::new(&db, &server, "globex").await;
    let receiver = PoisonReceiver::start().await;
    let id = admin.json("/api/create_webhook", &[("url", &receiver.url)]).await["id"].as_str().unwrap().to_owned();
    let support = support_visitor(&db, &server).await;
    let globex_before = trail(&db, "globex").await.len();

    let page = support.json("/api/tenant_detail", &[("slug", "acme")]).await;
    let sso = support.json("/api/tenant_sso", &[("slug", "acme")]).await;
    let endpoints = support.json("/api/tenant_webhooks", &[("slug", "acme")]).await;
    let activity = support.json("/api/tenant_webhook_activity", &[("slug", "acme"), ("webhook", &id)]).await;
    // Asking for acme's endpoint under another tenant, or for no endpoint: nothing shown,
    // nothing recorded.
    let elsewhere = support.call("/api/tenant_webhook_activity", &[("slug", "globex"), ("webhook", &id)]).await;
    let unknown = support.call("/api/tenant_webhook_activity", &[("slug", "acme"), ("webhook", "nonsense")]).await;
    let no_tenant = support.call("/api/tenant_webhooks", &[("slug", "initech")]).await;

    assert_eq!(page["slug"], "acme");
    assert!(sso["redirect_uri"].as_str().unwrap().ends_with("/sso/callback"));
    assert_eq!(endpoints[0]["id"], id.as_str());
    assert_eq!(activity["attempts"], json!([]));
    assert_eq!((elsewhere.status().as_u16(), unknown.status().as_u16(), no_tenant.status().as_u16()), (404, 404, 404));
    let records = trail(&db, "acme").await;
    let views = actions(&records, "support.");
    let summary: Vec<(&str, Value, Value, Value)> = views
        .iter()
        .map(|r| {
            let detail = detail(r);
            (
                r.action.as_str(),
                detail["viewer_email"].clone(),
                detail["viewer_role"].clone(),
                detail["webhook"].clone(),
            )
        })
        .collect();
    let support_email = json!("support@vendor.example");
    assert_eq!(
        summary,
        [
            ("support.viewed_tenant", support_email.clone(), json!("support"), Value::Null),
            ("support.viewed_tenant", support_email.clone(), json!("support"), Value::Null),
            ("support.viewed_webhooks", support_email.clone(), json!("support"), Value::Null),
            ("support.viewed_webhooks", support_email, json!("support"), json!(id)),
        ]
    );
    assert!(views.iter().all(|r| r.actor.starts_with("operator:")));
    assert_eq!(detail(views[1])["viewed"], "single sign-on settings");
    let globex = trail(&db, "globex").await;
    assert_eq!(globex.len(), globex_before, "another tenant's trail changed: {globex:?}");
    assert!(actions(&globex, "support.").is_empty());

    // The tenant's admins see who looked, on their audit page.
    let seen = admin.json("/api/audit_records", &[("filters[operation]", "support.viewed_webhooks")]).await;
    let rows = seen["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "{seen}");
    assert!(rows[0]["detail"].as_str().unwrap().contains("support@vendor.example"));

    // Operators' views are recorded too, with their role.
    server.json_call("/api/tenant_detail", &[("slug", "acme")]).await;
    let last = trail(&db, "acme").await.pop().unwrap();
    assert_eq!(last.action, "support.viewed_tenant");
    assert_eq!(detail(&last)["viewer_role"], "operator");
}

async fn support_cannot_register_or_replay_and_signed_out_visitors_get_nothing(db: TestDatabase) {
    let server = TestServer::start_with(&db, ALLOW_INTERNAL).await;
    let admin = admin_of(&server, "acme", "it@acme.example").await;
    let receiver = PoisonReceiver::start().await;
    let id = admin.json("/api/create_webhook", &[("url", &receiver.url)]).await["id"].as_str().unwrap().to_owned();
    let support = support_visitor(&db, &server).await;
    let signed_out = Visitor::new(&server);
    let delivery = store::DeliveryId::fresh().to_string();

    for (function, form) in [
        ("/api/create_webhook", vec![("url", receiver.url.as_str())]),
        ("/api/replay_dead_letter", vec![("webhook", id.as_str()), ("delivery", delivery.as_str())]),
        ("/api/webhook_endpoints", vec![]),
        ("/api/webhook_activity", vec![("webhook", id.as_str())]),
    ] {
        assert_eq!(support.call(function, &form).await.status(), 401, "{function} answered support");
        assert_eq!(server.call(function, &form).await.status(), 401, "{function} answered an operator");
        assert_eq!(signed_out.call(function, &form).await.status(), 401, "{function}");
    }
    for (function, form) in [
        ("/api/tenant_webhooks", vec![("slug", "acme")]),
        ("/api/tenant_webhook_activity", vec![("slug", "acme"), ("webhook", id.as_str())]),
    ] {
        assert_eq!(signed_out.call(function, &form).await.status(), 401, "{function}");
        assert_eq!(admin.call(function, &form).await.status(), 401, "{function} answered a tenant admin");
    }
    assert_eq!(admin.json("/api/webhook_endpoints", &[]).await.as_array().unwrap().len(), 1, "support registered one");
    let records = trail(&db, "acme").await;
    let changes: Vec<&str> = actions(&records, "webhook.").iter().map(|r| r.action.as_str()).collect();
    assert_eq!(changes, ["webhook.created"]);
    assert!(actions(&records, "support.").is_empty(), "a refused call was recorded as a view");
}
