//! Webhook deliveries against a local receiver that fails, times out and answers slowly:
//! events arrive in order, none is lost, repeats carry the same id, signatures verify;
//! dead letters and their replay; internal targets are refused.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use serde_json::{Value, json};
use service::webhooks::{Deliverer, WebhookError, WebhookOptions, register_webhook, signature};
use store::testing::{FreshId as _, TestDatabase};
use store::{DeliveryOutcome, TenantSlug};

use crate::TestServer;
use crate::operator_api::Directory;

store::backend_tests!(
    events_reach_a_flaky_receiver_in_order_with_none_lost,
    an_event_that_keeps_failing_becomes_a_dead_letter_and_can_be_replayed,
    internal_targets_are_refused_unless_allowed,
    a_refused_user_holds_back_only_its_own_events,
    a_deactivation_overtakes_a_backlog_of_other_users_changes,
    a_slow_endpoint_delays_only_itself,
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
        ..WebhookOptions::default()
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
    // Three requests fail (by the script), so seven deliveries take ten requests.
    deliver_until(&deliverer, || {
        let received = received.lock().unwrap();
        distinct(&received) == 7 && received.len() >= 10
    })
    .await;

    let received = received.lock().unwrap().clone();
    let mut by_resource: std::collections::HashMap<String, Vec<i64>> = Default::default();
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
        let seen = by_resource.entry(event["resource_id"].as_str().unwrap().to_owned()).or_default();
        // In order per resource: a repeat of the last one, or a later one.
        assert!(seen.last().is_none_or(|last| cursor >= *last), "{seen:?} then {cursor}");
        seen.push(cursor);
        by_directory.entry(event["directory"].as_str().unwrap().to_owned()).or_default().push(cursor);
    }
    let mut acme_cursors = by_directory[&acme.id.to_string()].clone();
    acme_cursors.sort_unstable();
    acme_cursors.dedup();
    assert_eq!(acme_cursors, [1, 2, 3, 4, 5, 6], "an event is missing");
    let mut second_cursors = by_directory[&second.id.to_string()].clone();
    second_cursors.sort_unstable();
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
    let poisoned = || names(&received.lock().unwrap()).iter().filter(|name| *name == "poison").count();
    deliver_until(&deliverer, || poisoned() == 3).await;

    // The poison is another user: "after" did not wait for it.
    let mut seen = names(&received.lock().unwrap());
    let after = seen.iter().position(|name| name == "after").expect("after was delivered");
    assert!(after < seen.iter().rposition(|name| name == "poison").unwrap(), "{seen:?}");
    seen.sort();
    assert_eq!(seen, ["after", "before", "poison", "poison", "poison"]);
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
        // The metadata service through NAT64 and 6to4, and reserved IPv4 ranges.
        "http://[64:ff9b::a9fe:a9fe]/latest/meta-data",
        "http://[2002:a9fe:a9fe::1]/hook",
        "http://198.18.0.1/hook",
        "http://240.0.0.1/hook",
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

/// Whether each received event's resource is `id`.
fn of_resource<'a>(received: &'a [(HeaderMap, String)], id: &'a str) -> impl Iterator<Item = Value> + 'a {
    received
        .iter()
        .map(|(_, body)| serde_json::from_str::<Value>(body).unwrap())
        .filter(move |event| event["resource_id"] == id)
}

async fn a_refused_user_holds_back_only_its_own_events(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let acme = Directory::new(&db, &server, "acme").await;
    let stuck = acme.create_user("stuck").await;
    acme.create_user("alice").await;
    acme.patch(&format!("/Users/{stuck}"), json!([{"op": "replace", "path": "title", "value": "Engineer"}])).await;
    acme.create_user("bob").await;
    acme.patch(&format!("/Users/{stuck}"), json!([{"op": "replace", "path": "active", "value": false}])).await;
    acme.create_user("carol").await;

    let refuse = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let received = Arc::new(Mutex::new(Vec::new()));
    let script = {
        let (refuse, stuck) = (Arc::clone(&refuse), stuck.clone());
        Arc::new(move |_: usize, event: &Value| {
            let refused = event["resource_id"] == stuck.as_str() && refuse.load(std::sync::atomic::Ordering::SeqCst);
            if refused { Answer::Fail } else { Answer::Ok }
        })
    };
    let url = start_receiver(Receiver { received: Arc::clone(&received), script }).await;
    let tenant = db.store.tenant_by_slug(&TenantSlug::parse("acme").unwrap()).await.unwrap().unwrap();
    // Long enough that the refused event is not retried during the first part.
    let options = WebhookOptions {
        first_retry: Duration::from_millis(1500),
        max_retry: Duration::from_millis(1500),
        ..fast_retries()
    };
    let hook =
        register_webhook(&db.store, tenant.id, &url, &options, &service::Actor::Cli, &service::Effects::system())
            .await
            .unwrap();
    let deliverer = Deliverer::new(db.store.clone(), options, service::Effects::system()).unwrap();
    deliverer.deliver_pending().await.unwrap();
    deliverer.deliver_pending().await.unwrap();

    let names = |received: &[(HeaderMap, String)]| -> Vec<String> {
        let mut names: Vec<String> = received
            .iter()
            .map(|(_, body)| {
                serde_json::from_str::<Value>(body).unwrap()["data"]["userName"].as_str().unwrap().to_owned()
            })
            .collect();
        names.sort();
        names
    };
    // The others flowed; of the stuck user only its first event was tried, once.
    assert_eq!(names(&received.lock().unwrap()), ["alice", "bob", "carol", "stuck"]);
    let overview = service::webhooks::endpoints_overview(&db.store, tenant.id).await.unwrap();
    let progress = &overview[0].directories[0];
    assert_eq!((progress.delivered_seq, progress.held_back, progress.failing_resources), (6, 3, 1), "{progress:?}");
    assert!(progress.next_attempt_at.is_some());

    refuse.store(false, std::sync::atomic::Ordering::SeqCst);
    deliver_until(&deliverer, || of_resource(&received.lock().unwrap(), &stuck).count() == 4).await;
    let stuck_events: Vec<(String, String)> = of_resource(&received.lock().unwrap(), &stuck)
        .map(|event| (event["type"].as_str().unwrap().to_owned(), event["cursor"].as_str().unwrap().to_owned()))
        .collect();
    let expected = [("user.created", "1"), ("user.created", "1"), ("user.updated", "3"), ("user.deactivated", "5")];
    assert_eq!(stuck_events, expected.map(|(kind, cursor)| (kind.to_owned(), cursor.to_owned())), "in order");
    let overview = service::webhooks::endpoints_overview(&db.store, tenant.id).await.unwrap();
    assert_eq!(overview[0].directories[0].held_back, 0);
    let log = db.store.tenant(tenant.id).webhook_deliveries(hook.id, None, 100).await.unwrap();
    assert_eq!(log.iter().filter(|a| a.outcome == DeliveryOutcome::Delivered).count(), 6);
}

async fn a_deactivation_overtakes_a_backlog_of_other_users_changes(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let acme = Directory::new(&db, &server, "acme").await;
    let leaver = acme.create_user("leaver").await;
    let operations: Vec<Value> = (0..250)
        .map(|n| {
            json!({"method": "POST", "path": "/Users", "bulkId": format!("u{n}"),
                "data": {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": format!("routine{n}")}})
        })
        .collect();
    acme.send(
        reqwest::Method::POST,
        "/Bulk",
        json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"], "Operations": operations}),
    )
    .await;
    acme.patch(&format!("/Users/{leaver}"), json!([{"op": "replace", "path": "active", "value": false}])).await;

    let received = Arc::new(Mutex::new(Vec::new()));
    let url = start_receiver(Receiver { received: Arc::clone(&received), script: Arc::new(|_, _| Answer::Ok) }).await;
    let tenant = db.store.tenant_by_slug(&TenantSlug::parse("acme").unwrap()).await.unwrap().unwrap();
    // One resource at a time, so the order of arrival is the order of sending.
    let options = WebhookOptions { endpoint_concurrency: 1, ..fast_retries() };
    register_webhook(&db.store, tenant.id, &url, &options, &service::Actor::Cli, &service::Effects::system())
        .await
        .unwrap();
    let deliverer = Deliverer::new(db.store.clone(), options, service::Effects::system()).unwrap();
    deliverer.deliver_pending().await.unwrap();

    let kinds: Vec<(String, String)> = received
        .lock()
        .unwrap()
        .iter()
        .map(|(_, body)| {
            let event: Value = serde_json::from_str(body).unwrap();
            (event["type"].as_str().unwrap().to_owned(), event["resource_id"].as_str().unwrap().to_owned())
        })
        .collect();
    assert_eq!(kinds.len(), 252, "every event exactly once");
    let mut ids: Vec<&String> = kinds.iter().map(|(_, id)| id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 251);
    // The leaver's lane went first: its creation, then its deactivation, before the 250
    // routine creations written before the deactivation.
    assert_eq!(kinds[0], ("user.created".to_owned(), leaver.clone()));
    assert_eq!(kinds[1], ("user.deactivated".to_owned(), leaver));
}

/// A receiver that answers after 9.9 seconds, next to a fast one of another tenant: the
/// fast one's events arrive within 2 seconds of their SCIM request, every one of them.
async fn a_slow_endpoint_delays_only_itself(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let slow_directory = Directory::new(&db, &server, "slowco").await;
    let fast_directory = Directory::new(&db, &server, "fastco").await;
    let slow_url = {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let app = axum::Router::new().route(
            "/hook",
            post(|| async {
                tokio::time::sleep(Duration::from_millis(9900)).await;
                StatusCode::NO_CONTENT
            }),
        );
        tokio::spawn(async move { axum::serve(listener, app).await });
        url
    };
    let arrivals: Arc<Mutex<std::collections::HashMap<String, std::time::Instant>>> = Arc::default();
    let fast_url = {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let arrivals = Arc::clone(&arrivals);
        let app = axum::Router::new().route(
            "/hook",
            post(move |body: String| async move {
                let event: Value = serde_json::from_str(&body).unwrap();
                let name = event["data"]["userName"].as_str().unwrap_or_default().to_owned();
                arrivals.lock().unwrap().entry(name).or_insert_with(std::time::Instant::now);
                StatusCode::NO_CONTENT
            }),
        );
        tokio::spawn(async move { axum::serve(listener, app).await });
        url
    };
    // As shipped, but allowed to reach the local receivers.
    let options = WebhookOptions { allow_private_targets: true, ..WebhookOptions::default() };
    for (slug, url) in [("slowco", &slow_url), ("fastco", &fast_url)] {
        let tenant = db.store.tenant_by_slug(&TenantSlug::parse(slug).unwrap()).await.unwrap().unwrap();
        register_webhook(&db.store, tenant.id, url, &options, &service::Actor::Cli, &service::Effects::system())
            .await
            .unwrap();
    }
    let deliverer = Arc::new(Deliverer::new(db.store.clone(), options, service::Effects::system()).unwrap());
    let running = tokio::spawn(Arc::clone(&deliverer).run());
    // The slow endpoint gets busy first.
    for n in 0..20 {
        slow_directory.create_user(&format!("slow{n}")).await;
    }
    let mut sent = Vec::new();
    for n in 0..20 {
        let name = format!("fast{n}");
        fast_directory.create_user(&name).await;
        sent.push((name, std::time::Instant::now()));
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while arrivals.lock().unwrap().len() < 20 {
        assert!(std::time::Instant::now() < deadline, "the fast endpoint did not get every event");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    running.abort();
    let arrivals = arrivals.lock().unwrap();
    let mut latencies: Vec<Duration> =
        sent.iter().map(|(name, at)| arrivals[name].saturating_duration_since(*at)).collect();
    latencies.sort();
    let worst = *latencies.last().unwrap();
    assert!(worst < Duration::from_secs(2), "the fast endpoint's slowest delivery took {worst:?}: {latencies:?}");
}
