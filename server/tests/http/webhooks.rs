//! Webhook deliveries against a local receiver that fails, times out and answers slowly:
//! events arrive in order, none is lost, repeats carry the same id, signatures verify;
//! dead letters and their replay; internal targets are refused.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use serde_json::Value;
use service::webhooks::{Deliverer, WebhookError, WebhookOptions, register_webhook, signature};
use store::testing::{FreshId as _, TestDatabase};
use store::{DeliveryOutcome, TenantSlug};

use crate::TestServer;
use crate::operator_api::Directory;

store::backend_tests!(
    events_reach_a_flaky_receiver_in_order_with_none_lost,
    an_event_that_keeps_failing_becomes_a_dead_letter_and_can_be_replayed,
    internal_targets_are_refused_unless_allowed,
);

/// What the receiver does with the n-th request (0-based).
#[derive(Clone, Copy)]
pub(crate) enum Answer {
    Ok,
    Fail,
    /// Answer only after the deliverer's timeout.
    Hang,
}

/// Decides the answer to the n-th request, which carries this event.
pub(crate) type Script = Arc<dyn Fn(usize, &Value) -> Answer + Send + Sync>;

#[derive(Clone)]
pub(crate) struct Receiver {
    pub(crate) received: Arc<Mutex<Vec<(HeaderMap, String)>>>,
    pub(crate) script: Script,
}

async fn receive(State(receiver): State<Receiver>, headers: HeaderMap, body: String) -> StatusCode {
    let event: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    let n = {
        let mut received = receiver.received.lock().unwrap();
        received.push((headers, body));
        received.len() - 1
    };
    match (receiver.script)(n, &event) {
        Answer::Ok => StatusCode::NO_CONTENT,
        Answer::Fail => StatusCode::INTERNAL_SERVER_ERROR,
        Answer::Hang => {
            tokio::time::sleep(Duration::from_secs(2)).await;
            StatusCode::OK
        }
    }
}

/// A receiver on a random local port; its URL.
pub(crate) async fn start_receiver(receiver: Receiver) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let app = axum::Router::new().route("/hook", post(receive)).with_state(receiver);
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

pub(crate) fn fast_retries() -> WebhookOptions {
    WebhookOptions {
        allow_private_targets: true,
        max_attempts: 12,
        first_retry: Duration::from_millis(20),
        max_retry: Duration::from_millis(100),
        request_timeout: Duration::from_millis(500),
    }
}

/// Runs delivery passes until `done` or 20 seconds.
pub(crate) async fn deliver_until(deliverer: &Deliverer, done: impl Fn() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !done() {
        assert!(std::time::Instant::now() < deadline, "deliveries did not finish in 20 s");
        deliverer.deliver_pending().await.unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn events_reach_a_flaky_receiver_in_order_with_none_lost(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let acme = Directory::new(&db, &server, "acme").await;
    let second = Directory::new(&db, &server, "acme").await;
    let received = Arc::new(Mutex::new(Vec::new()));
    // Fails the 2nd and 5th request, times out on the 3rd, answers the rest.
    let script = Arc::new(|n: usize, _: &Value| match n {
        1 | 4 => Answer::Fail,
        2 => Answer::Hang,
        _ => Answer::Ok,
    });
    let url = start_receiver(Receiver { received: Arc::clone(&received), script }).await;
    let tenant = db.store.tenant_by_slug(&TenantSlug::parse("acme").unwrap()).await.unwrap().unwrap();
    let options = fast_retries();
    let hook =
        register_webhook(&db.store, tenant.id, &url, &options, &service::Actor::Cli, &service::Effects::system())
            .await
            .unwrap();
    for n in 0..6 {
        acme.create_user(&format!("user{n}")).await;
    }
    second.create_user("elsewhere").await;
    let deliverer = Deliverer::new(db.store.clone(), options, service::Effects::system()).unwrap();

    let distinct = |received: &Vec<(HeaderMap, String)>| {
        let mut ids: Vec<String> =
            received.iter().map(|(h, _)| h["scim-event-id"].to_str().unwrap().to_owned()).collect();
        ids.sort();
        ids.dedup();
        ids.len()
    };
    deliver_until(&deliverer, || distinct(&received.lock().unwrap()) == 7).await;

    let received = received.lock().unwrap().clone();
    let mut by_directory: std::collections::HashMap<String, Vec<i64>> = Default::default();
    let mut bodies: std::collections::HashMap<String, String> = Default::default();
    for (headers, body) in &received {
        let timestamp: i64 =
            headers["scim-signature"].to_str().unwrap()[2..].split(',').next().unwrap().parse().unwrap();
        assert_eq!(headers["scim-signature"], signature(&hook.secret, timestamp, body.as_bytes()), "bad signature");
        let event: Value = serde_json::from_str(body).unwrap();
        let id = event["id"].as_str().unwrap().to_owned();
        assert_eq!(headers["scim-event-id"], id.as_str());
        // A repeat is the same event, byte for byte.
        assert_eq!(bodies.entry(id).or_insert_with(|| body.clone()), body);
        let cursor: i64 = event["cursor"].as_str().unwrap().parse().unwrap();
        let seen = by_directory.entry(event["directory"].as_str().unwrap().to_owned()).or_default();
        // In order per directory: a repeat of the last one, or the next one.
        assert!(seen.last().is_none_or(|last| cursor == *last || cursor == last + 1), "{seen:?} then {cursor}");
        seen.push(cursor);
    }
    let mut acme_cursors = by_directory[&acme.id.to_string()].clone();
    acme_cursors.dedup();
    assert_eq!(acme_cursors, [1, 2, 3, 4, 5, 6], "an event is missing");
    let mut second_cursors = by_directory[&second.id.to_string()].clone();
    second_cursors.dedup();
    assert_eq!(second_cursors, [1]);
    assert!(received.len() >= 10, "the failures were retried: {} requests", received.len());

    // The log shows the failures and one delivery per event.
    let log = db.store.tenant(tenant.id).webhook_deliveries(hook.id, None, 100).await.unwrap();
    let delivered = log.iter().filter(|a| a.outcome == DeliveryOutcome::Delivered).count();
    let failed: Vec<_> = log.iter().filter(|a| a.outcome == DeliveryOutcome::Failed).collect();
    assert_eq!(delivered, 7);
    assert_eq!(failed.len(), 3, "{log:#?}");
    assert!(
        failed.iter().any(|a| a.status_code.is_none() && a.error.as_deref().is_some_and(|e| e.contains("in time")))
    );
    assert!(failed.iter().any(|a| a.status_code == Some(500)));
}

async fn an_event_that_keeps_failing_becomes_a_dead_letter_and_can_be_replayed(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let acme = Directory::new(&db, &server, "acme").await;
    let received = Arc::new(Mutex::new(Vec::new()));
    let accept_poison = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let script = {
        let accept_poison = Arc::clone(&accept_poison);
        Arc::new(move |_: usize, event: &Value| {
            let poison = event["data"]["userName"] == "poison";
            if poison && !accept_poison.load(std::sync::atomic::Ordering::SeqCst) { Answer::Fail } else { Answer::Ok }
        })
    };
    let url = start_receiver(Receiver { received: Arc::clone(&received), script }).await;
    let tenant = db.store.tenant_by_slug(&TenantSlug::parse("acme").unwrap()).await.unwrap().unwrap();
    let options = WebhookOptions { max_attempts: 3, ..fast_retries() };
    let hook =
        register_webhook(&db.store, tenant.id, &url, &options, &service::Actor::Cli, &service::Effects::system())
            .await
            .unwrap();
    acme.create_user("before").await;
    acme.create_user("poison").await;
    acme.create_user("after").await;
    let deliverer = Deliverer::new(db.store.clone(), options.clone(), service::Effects::system()).unwrap();
    let scope = db.store.tenant(tenant.id);

    let names = |received: &Vec<(HeaderMap, String)>| -> Vec<String> {
        received
            .iter()
            .map(|(_, body)| {
                serde_json::from_str::<Value>(body).unwrap()["data"]["userName"].as_str().unwrap().to_owned()
            })
            .collect()
    };
    deliver_until(&deliverer, || names(&received.lock().unwrap()).contains(&"after".to_owned())).await;

    assert_eq!(names(&received.lock().unwrap()), ["before", "poison", "poison", "poison", "after"]);
    let dead = scope.webhook_deliveries(hook.id, Some(DeliveryOutcome::Dead), 10).await.unwrap();
    assert_eq!((dead.len(), dead[0].attempt, dead[0].seq), (1, 3, 2));

    // Replay while the receiver still refuses: logged as failed, still a dead letter.
    let effects = service::Effects::system();
    let replay = |dead_letter| {
        service::webhooks::replay(&db.store, &options, tenant.id, hook.id, dead_letter, &service::Actor::Cli, &effects)
    };
    assert!(!replay(dead[0].id).await.unwrap());
    accept_poison.store(true, std::sync::atomic::Ordering::SeqCst);
    assert!(replay(dead[0].id).await.unwrap());
    let last = received.lock().unwrap().last().cloned().unwrap();
    assert_eq!(last.0["scim-event-id"], dead[0].event.to_string().as_str(), "a replay keeps the event id");
    let outcomes: Vec<_> =
        scope.webhook_deliveries(hook.id, None, 2).await.unwrap().iter().map(|d| d.outcome).collect();
    assert_eq!(outcomes, [DeliveryOutcome::Failed, DeliveryOutcome::Delivered], "both replays are logged");
    let replays: Vec<_> = scope
        .audit_records(0, 1000)
        .await
        .unwrap()
        .into_iter()
        .filter(|record| record.action == "webhook.dead_letter_replayed")
        .map(|record| serde_json::from_str::<Value>(&record.detail).unwrap()["delivered"].clone())
        .collect();
    assert_eq!(replays, [Value::Bool(false), Value::Bool(true)], "each replay is recorded with its result");
    let unknown = replay(store::DeliveryId::fresh()).await;
    assert!(matches!(unknown, Err(WebhookError::UnknownDeadLetter(_))), "{unknown:?}");
}

async fn internal_targets_are_refused_unless_allowed(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let acme = Directory::new(&db, &server, "acme").await;
    let tenant = db.store.tenant_by_slug(&TenantSlug::parse("acme").unwrap()).await.unwrap().unwrap();
    let strict = WebhookOptions::default();
    for url in [
        "http://127.0.0.1:9/hook",
        "http://localhost:9/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://10.1.2.3/hook",
        "http://[::1]:9/hook",
        "http://[fd00::1]/hook",
    ] {
        let refused =
            register_webhook(&db.store, tenant.id, url, &strict, &service::Actor::Cli, &service::Effects::system())
                .await;
        assert!(matches!(refused, Err(WebhookError::InvalidTarget(_))), "{url}: {refused:?}");
    }
    for url in ["ftp://example.com/hook", "not a url", "https:///nohost"] {
        let refused =
            register_webhook(&db.store, tenant.id, url, &strict, &service::Actor::Cli, &service::Effects::system())
                .await;
        assert!(matches!(refused, Err(WebhookError::InvalidTarget(_))), "{url}: {refused:?}");
    }

    // Registered while allowed, then delivered by a strict deliverer: refused at send time.
    let received = Arc::new(Mutex::new(Vec::new()));
    let url = start_receiver(Receiver { received: Arc::clone(&received), script: Arc::new(|_, _| Answer::Ok) }).await;
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
    acme.create_user("someone").await;
    let deliverer = Deliverer::new(
        db.store.clone(),
        WebhookOptions { allow_private_targets: false, ..fast_retries() },
        service::Effects::system(),
    )
    .unwrap();
    deliverer.deliver_pending().await.unwrap();
    assert!(received.lock().unwrap().is_empty(), "a strict deliverer reached an internal address");
    let log = db.store.tenant(tenant.id).webhook_deliveries(hook.id, None, 10).await.unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].outcome, DeliveryOutcome::Failed);
    assert!(log[0].error.as_deref().is_some_and(|e| e.contains("internal")), "{log:?}");
}
