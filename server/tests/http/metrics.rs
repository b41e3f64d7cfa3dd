//! `/metrics` as a scraper reads it: SCIM requests counted and timed per directory, the
//! audit queue and the connection pool, each webhook endpoint's lag read from the database
//! (so it shows an endpoint that has stopped receiving, whichever process delivers), and
//! the setting that takes `/metrics` off the main listener.

use std::sync::{Arc, Mutex};

use serde_json::Value;
use service::clock::ManualClock;
use service::webhooks::{Deliverer, register_webhook};
use store::testing::TestDatabase;

use crate::TestServer;
use crate::operator_api::Directory;
use crate::webhooks::{Answer, Receiver, deliver_until, fast_retries, start_receiver};

store::backend_tests!(
    scim_requests_the_audit_queue_the_pool_and_webhook_lag_are_measured,
    metrics_can_be_taken_off_the_main_listener,
);

fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 11, 25, 9, 0, 0).unwrap()
}

async fn scrape(server: &TestServer) -> String {
    let response = server.get("/metrics").await;
    assert_eq!(response.status(), 200);
    let kind = response.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(kind.starts_with("application/openmetrics-text"), "{kind}");
    response.text().await.unwrap()
}

/// The value of the series written exactly as `series` (name and labels) in a scrape.
pub(crate) fn value(text: &str, series: &str) -> f64 {
    let line = text
        .lines()
        .find(|line| line.strip_prefix(series).is_some_and(|rest| rest.starts_with(' ')))
        .unwrap_or_else(|| panic!("no series {series} in\n{text}"));
    line[series.len()..].trim().parse().unwrap()
}

async fn scim_requests_the_audit_queue_the_pool_and_webhook_lag_are_measured(db: TestDatabase) {
    let clock = Arc::new(ManualClock::starting_at(now()));
    let server = TestServer::start_with_clock(&db, &[], clock.clone()).await;
    let effects = service::Effects::new(clock.clone());
    let acme = Directory::new(&db, &server, "acme").await;
    let tenant = db.store.tenant_by_slug(&"acme".parse().unwrap()).await.unwrap().unwrap();
    // A tenant whose directory has no change yet has nothing to deliver.
    let (globex, _, _) = crate::provisioned(
        &db,
        "globex",
        store::IdentityProvider::Okta,
        service::directories::TokenRequest { label: "t".into(), read_only: false, expires_at: None },
        now(),
    )
    .await;
    let received = Arc::new(Mutex::new(Vec::new()));
    let url =
        start_receiver(Receiver { received: Arc::clone(&received), script: Arc::new(|_, _: &Value| Answer::Ok) }).await;
    let options = fast_retries();
    let acme_hook =
        register_webhook(&db.store, tenant.id, &url, &options, &service::Actor::Cli, &effects).await.unwrap().id;
    let globex_hook =
        register_webhook(&db.store, globex.id, &url, &options, &service::Actor::Cli, &effects).await.unwrap().id;

    acme.create_user("ada@acme.example").await;
    assert_eq!(acme.get_raw("/Users/not-there").await, 404);
    let stranger = reqwest::Client::new().get(format!("{}/Users", acme.scim_base())).bearer_auth("scim_guessed");
    assert_eq!(stranger.send().await.unwrap().status(), 401);
    server.audit.flush().await;
    // The webhook has not been delivered to for two hours (no deliverer runs yet).
    clock.advance(chrono::Duration::hours(2));

    let text = scrape(&server).await;
    let directory = acme.id;
    assert_eq!(
        value(&text, &format!(r#"scim_requests_total{{directory="{directory}",method="POST",status="2xx"}}"#)),
        1.0
    );
    assert_eq!(
        value(&text, &format!(r#"scim_requests_total{{directory="{directory}",method="GET",status="4xx"}}"#)),
        2.0
    );
    assert_eq!(
        value(&text, &format!(r#"scim_request_duration_seconds_count{{directory="{directory}",method="GET"}}"#)),
        2.0
    );
    assert_eq!(
        value(
            &text,
            &format!(r#"scim_request_duration_seconds_bucket{{le="+Inf",directory="{directory}",method="POST"}}"#)
        ),
        1.0
    );
    assert_eq!(value(&text, "audit_queue_records"), 0.0);
    assert_eq!(value(&text, "audit_records_lost_total"), 0.0);
    assert!(value(&text, "db_pool_max_connections") >= 1.0, "{text}");
    assert!(value(&text, r#"db_pool_connections{state="idle"}"#) >= 0.0, "{text}");
    let acme_series = format!(r#"{{tenant="{}",endpoint="{acme_hook}"}}"#, tenant.id);
    let globex_series = format!(r#"{{tenant="{}",endpoint="{globex_hook}"}}"#, globex.id);
    assert_eq!(value(&text, &format!("webhook_lag_seconds{acme_series}")), 7200.0);
    assert_eq!(value(&text, &format!("webhook_held_events{acme_series}")), 0.0);
    assert_eq!(value(&text, &format!("webhook_lag_seconds{globex_series}")), 0.0);
    assert_eq!(value(&text, "metrics_collection_failures_total"), 0.0);

    // Delivered: no lag left.
    let deliverer = Deliverer::new(db.store.clone(), options, effects.clone()).unwrap();
    deliver_until(&deliverer, || !received.lock().unwrap().is_empty()).await;
    let text = scrape(&server).await;
    assert_eq!(value(&text, &format!("webhook_lag_seconds{acme_series}")), 0.0);
}

async fn metrics_can_be_taken_off_the_main_listener(db: TestDatabase) {
    for (setting, served) in [("off", false), ("127.0.0.1:9", false), ("main", true)] {
        let server = TestServer::start_with(&db, &["--metrics-listen", setting]).await;
        let status = server.get("/metrics").await.status();
        assert_eq!(status == 200, served, "--metrics-listen {setting}: {status}");
        server.shut_down().await.unwrap();
    }
}
