//! Alerts: each condition opens one alert, told by email (read back from a real SMTP
//! server, aiosmtpd) and by the operator's signed alert webhook, told again on schedule
//! while it lasts, and once more when it ends; an SMTP outage delays a notification
//! without losing or doubling it; the portal shows open alerts to the tenant's admins and
//! to support.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use service::alerts::{AlertChannels, AlertSettings, ChannelSettings, Round, evaluate};
use service::clock::ManualClock;
use service::directories::TokenRequest;
use store::IdentityProvider;
use store::testing::TestDatabase;

use crate::TestServer;
use crate::onboarding::admin_of;
use crate::operator_api::{api_key, events};
use crate::webhooks::{Answer, Receiver, fast_retries, start_receiver};

store::backend_tests!(
    a_revocation_past_the_sla_is_alerted_repeated_and_resolved_by_email_and_webhook,
    an_smtp_outage_delays_an_alert_without_losing_or_doubling_it,
    quiet_providers_expiring_tokens_and_failing_webhooks_raise_alerts_until_fixed,
    a_failing_product_endpoint_is_the_deployments_alert_told_to_support_until_it_answers,
);

fn now() -> chrono::DateTime<chrono::Utc> {
    #[allow(clippy::disallowed_methods)] // the server stamps requests with the real clock
    chrono::Utc::now()
}

/// aiosmtpd, started from `tests/support/smtp_sink.py` with the Python that has it
/// (`TEST_SMTP_PYTHON`, which `cargo xtask test` sets up; else `python3`). Stopped when
/// dropped.
pub(crate) struct SmtpSink {
    child: Child,
    port: u16,
    received: PathBuf,
}

impl SmtpSink {
    pub(crate) fn start() -> Self {
        let python = std::env::var("TEST_SMTP_PYTHON").unwrap_or_else(|_| "python3".to_owned());
        static SINKS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = SINKS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let received = std::env::temp_dir().join(format!("smtp-sink-{}-{n}.jsonl", std::process::id()));
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/smtp_sink.py");
        let mut child = Command::new(&python)
            .arg(script)
            .arg(&received)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {python}: {e}"));
        let mut line = String::new();
        std::io::BufRead::read_line(&mut std::io::BufReader::new(child.stdout.take().unwrap()), &mut line).unwrap();
        let port = line.trim().parse().unwrap_or_else(|_| {
            panic!(
                "the SMTP sink did not start ({line:?}); it needs aiosmtpd: run `cargo xtask test`, \
                 or set TEST_SMTP_PYTHON to a Python that has it (pip install aiosmtpd)"
            )
        });
        Self { child, port, received }
    }

    pub(crate) fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    pub(crate) fn messages(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.received)
            .unwrap_or_default()
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect()
    }

    /// The messages once there are `count` of them (they are written when accepted, so
    /// the count is reached as soon as the round that sent them returned).
    pub(crate) fn expect(&self, count: usize) -> Vec<Value> {
        let messages = self.messages();
        assert_eq!(messages.len(), count, "{messages:#?}");
        messages
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.received);
    }
}

/// An alert webhook receiver that answers 204 and keeps what it received.
async fn alert_receiver() -> (String, Arc<Mutex<Vec<(reqwest::header::HeaderMap, String)>>>) {
    let received = Arc::new(Mutex::new(Vec::new()));
    let receiver = Receiver { received: received.clone(), script: Arc::new(|_, _| Answer::Ok) };
    (start_receiver(receiver).await, received)
}

fn channels(smtp_url: Option<&str>, webhook: Option<&str>, public_base: &str) -> AlertChannels {
    AlertChannels::configure(&ChannelSettings {
        smtp_url,
        mail_from: "Vendor Alerts <alerts@vendor.example>",
        support_email: Some("support@vendor.example"),
        webhook_url: webhook,
        webhook_secret: webhook.map(|_| "alert-secret"),
        public_base,
    })
    .unwrap()
}

/// A directory of `slug` with a SCIM client; the token as asked.
struct Scim {
    tenant: store::Tenant,
    directory: store::DirectoryId,
    base: String,
    token: String,
}

impl Scim {
    async fn new(
        db: &TestDatabase,
        server: &TestServer,
        slug: &str,
        idp: IdentityProvider,
        token: TokenRequest,
    ) -> Self {
        let (tenant, directory, token) = crate::provisioned(db, slug, idp, token, now()).await;
        let base = server.url(&format!("/scim/v2/{}", directory.id));
        Self { tenant, directory: directory.id, base, token: token.secret }
    }

    async fn send(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut request =
            reqwest::Client::new().request(method, format!("{}{path}", self.base)).bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.header("content-type", "application/scim+json").body(body.to_string());
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn create_user(&self, user_name: &str) -> String {
        let body = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": user_name});
        let (status, user) = self.send(reqwest::Method::POST, "/Users", Some(body)).await;
        assert_eq!(status, 201, "{user}");
        user["id"].as_str().unwrap().to_owned()
    }

    async fn deactivate(&self, id: &str) {
        let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                          "Operations": [{"op": "replace", "path": "active", "value": false}]});
        let (status, answer) = self.send(reqwest::Method::PATCH, &format!("/Users/{id}"), Some(body)).await;
        assert!(status == 200 || status == 204, "{status}: {answer}");
    }
}

fn token(label: &str, expires_at: Option<chrono::DateTime<chrono::Utc>>) -> TokenRequest {
    TokenRequest { label: label.into(), read_only: false, expires_at }
}

async fn a_revocation_past_the_sla_is_alerted_repeated_and_resolved_by_email_and_webhook(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let admin = admin_of(&server, "acme", "it@acme.example").await;
    let acme = Scim::new(&db, &server, "acme", IdentityProvider::Okta, token("Okta prod", None)).await;
    let bob = acme.create_user("bob@acme.example").await;
    acme.deactivate(&bob).await;
    let sink = SmtpSink::start();
    let (hook, hooked) = alert_receiver().await;
    let channels = channels(Some(&sink.url()), Some(&hook), &server.url(""));
    let settings = AlertSettings { repeat_every: chrono::Duration::minutes(60), ..AlertSettings::default() };
    let clock = Arc::new(ManualClock::starting_at(now()));
    let effects = service::Effects::new(clock.clone());

    // Within the SLA: nothing.
    assert_eq!(evaluate(&db.store, &settings, &channels, &effects).await.unwrap(), Round::default());
    clock.advance(chrono::Duration::minutes(16));
    let round = evaluate(&db.store, &settings, &channels, &effects).await.unwrap();
    assert_eq!((round.opened, round.notified, round.failed), (1, 1, 0));

    // One email to the tenant's admin, one to support, each with its own link.
    let opened = sink.expect(2);
    let recipients: Vec<&str> = opened.iter().map(|m| m["to"][0].as_str().unwrap()).collect();
    assert_eq!(recipients, ["it@acme.example", "support@vendor.example"]);
    let subject = opened[0]["subject"].as_str().unwrap();
    assert!(subject.starts_with("[acme"), "{subject}");
    assert!(
        subject.contains("Alert: 1 leaver of ‘") && subject.ends_with("(oldest: bob@acme.example, 16 min ago)"),
        "{subject}"
    );
    assert_eq!(opened[0]["from"], "alerts@vendor.example");
    let admin_body = opened[0]["body"].as_str().unwrap();
    assert!(admin_body.contains(&format!("See it in the portal: {}", server.url("/admin"))), "{admin_body}");
    assert!(admin_body.contains("What to do: The product has not confirmed"), "{admin_body}");
    assert!(opened[1]["body"].as_str().unwrap().contains(&server.url("/support?tenant=acme")));
    // The operator's webhook: signed, typed, about the tenant.
    {
        let hooked = hooked.lock().unwrap();
        assert_eq!(hooked.len(), 1);
        let (headers, body) = &hooked[0];
        let payload: Value = serde_json::from_str(body).unwrap();
        assert_eq!(
            (payload["type"].as_str(), payload["data"]["tenant"].as_str(), payload["data"]["kind"].as_str()),
            (Some("alert.opened"), Some("acme"), Some("revocation_overdue"))
        );
        let signature = headers["alert-signature"].to_str().unwrap();
        let timestamp: i64 = signature.split(',').next().unwrap().trim_start_matches("t=").parse().unwrap();
        assert_eq!(signature, service::webhooks::signature("alert-secret", timestamp, body.as_bytes()));
    }

    // Once per condition: the next round sends nothing.
    assert_eq!(evaluate(&db.store, &settings, &channels, &effects).await.unwrap(), Round::default());
    sink.expect(2);
    // The portal shows it to the admin and to support.
    let shown = admin.json("/api/open_alerts", &[]).await;
    assert_eq!(shown.as_array().unwrap().len(), 1, "{shown}");
    assert_eq!(shown[0]["kind"], "revocation_overdue");
    assert_eq!(shown[0]["kind_label"], "Revocation overdue");
    server.sign_in().await;
    let support = server.json_call("/api/support_alerts", &[]).await;
    assert_eq!((support[0]["tenant"].as_str(), support.as_array().unwrap().len()), (Some("acme"), 1));
    let other = admin_of(&server, "globex", "it@globex.example").await;
    assert_eq!(other.json("/api/open_alerts", &[]).await, json!([]), "another tenant's admin sees none");

    // Still open an hour later: told again.
    clock.advance(chrono::Duration::minutes(61));
    let round = evaluate(&db.store, &settings, &channels, &effects).await.unwrap();
    assert_eq!((round.opened, round.notified), (0, 1));
    let repeated = sink.expect(4);
    let subject = repeated[2]["subject"].as_str().unwrap();
    assert!(subject.contains("Still open: 1 leaver") && subject.contains("1 h 17 min ago"), "{subject}");
    assert_eq!(hooked.lock().unwrap().len(), 2);

    // The product confirms the deactivation: resolved, and told so.
    let key = api_key(&db).await;
    let (status, feed) = events(&server, &key, &acme.directory.to_string(), "").await;
    assert_eq!(status, 200);
    let deactivation = feed["events"].as_array().unwrap().iter().find(|e| e["type"] == "user.deactivated").unwrap();
    let cursor = deactivation["cursor"].as_str().unwrap().to_owned();
    let ack = server.url(&format!("/api/v1/directories/{}/events/{cursor}/ack", acme.directory));
    assert_eq!(reqwest::Client::new().post(ack).bearer_auth(&key).send().await.unwrap().status(), 200);
    let round = evaluate(&db.store, &settings, &channels, &effects).await.unwrap();
    assert_eq!((round.resolved, round.notified), (1, 1));
    let resolved = sink.expect(6);
    let subject = resolved[4]["subject"].as_str().unwrap();
    assert!(subject.contains("Resolved: 1 leaver"), "{subject}");
    assert!(resolved[4]["body"].as_str().unwrap().contains("Resolved "), "{}", resolved[4]["body"]);
    let last: Value = serde_json::from_str(&hooked.lock().unwrap()[2].1).unwrap();
    assert_eq!(last["type"], "alert.resolved");
    assert_eq!(admin.json("/api/open_alerts", &[]).await, json!([]));
    assert_eq!(evaluate(&db.store, &settings, &channels, &effects).await.unwrap(), Round::default());
    sink.expect(6);

    // Both ends are in the tenant's chained trail.
    let trail: Vec<String> =
        db.store.tenant(acme.tenant.id).audit_records(0, 1000).await.unwrap().into_iter().map(|r| r.action).collect();
    let alerts: Vec<&String> = trail.iter().filter(|a| a.starts_with("alert.")).collect();
    assert_eq!(alerts, ["alert.opened", "alert.resolved"]);
}

async fn an_smtp_outage_delays_an_alert_without_losing_or_doubling_it(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let globex = Scim::new(&db, &server, "globex", IdentityProvider::Okta, token("Okta prod", None)).await;
    globex.create_user("ada@globex.example").await;
    // A burst of failures: twelve reads of users that do not exist, among 15 requests.
    for n in 0..12 {
        let (status, _) = globex.send(reqwest::Method::GET, &format!("/Users/missing-{n}"), None).await;
        assert_eq!(status, 404);
    }
    globex.create_user("grace@globex.example").await;
    globex.create_user("alan@globex.example").await;
    let settings = AlertSettings { repeat_every: chrono::Duration::minutes(5), ..AlertSettings::default() };
    let clock = Arc::new(ManualClock::starting_at(now()));
    let effects = service::Effects::new(clock.clone());

    // No SMTP server listens there.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_url = format!("smtp://127.0.0.1:{}", closed.local_addr().unwrap().port());
    drop(closed);
    let outage = channels(Some(&dead_url), None, &server.url(""));
    let round = evaluate(&db.store, &settings, &outage, &effects).await.unwrap();
    assert_eq!((round.opened, round.notified, round.failed), (1, 0, 1));

    // SMTP is back: the alert goes out once, as the first notice (not "still open").
    let sink = SmtpSink::start();
    let live = channels(Some(&sink.url()), None, &server.url(""));
    let round = evaluate(&db.store, &settings, &live, &effects).await.unwrap();
    assert_eq!((round.opened, round.notified, round.failed), (0, 1, 0));
    let sent = sink.expect(1);
    assert_eq!(sent[0]["to"], json!(["support@vendor.example"]), "globex has no admin yet: support only");
    let subject = sent[0]["subject"].as_str().unwrap();
    assert!(
        subject.contains("Alert: 12 of 15 SCIM requests to ‘")
            && subject.contains("(80 %; the alert threshold is 20 %)"),
        "{subject}"
    );
    assert_eq!(evaluate(&db.store, &settings, &live, &effects).await.unwrap(), Round::default());

    // Two server processes' rounds at the same moment send the repeat once.
    clock.advance(settings.repeat_every);
    let (first, second) =
        tokio::join!(evaluate(&db.store, &settings, &live, &effects), evaluate(&db.store, &settings, &live, &effects));
    assert_eq!(first.unwrap().notified + second.unwrap().notified, 1);
    sink.expect(2);

    // Past the fifteen minutes, the failures are out of the window: resolved.
    clock.advance(chrono::Duration::minutes(11));
    let round = evaluate(&db.store, &settings, &live, &effects).await.unwrap();
    assert_eq!((round.resolved, round.notified), (1, 1));
    assert!(sink.expect(3)[2]["subject"].as_str().unwrap().contains("Resolved: 12 of 15"));
}

async fn quiet_providers_expiring_tokens_and_failing_webhooks_raise_alerts_until_fixed(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let admin = admin_of(&server, "initech", "it@initech.example").await;
    let entra = Scim::new(
        &db,
        &server,
        "initech",
        IdentityProvider::Entra,
        token("Entra prod", Some(now() + chrono::Duration::days(3))),
    )
    .await;
    entra.create_user("peter@initech.example").await;
    assert!(
        service::onboarding::complete_if_provisioned(&db.store, entra.tenant.id, entra.directory, now()).await.unwrap()
    );
    // A webhook endpoint that refuses everything until it is fixed.
    let refused = Arc::new(Mutex::new(Vec::new()));
    let fixed = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let script = {
        let fixed = fixed.clone();
        Arc::new(
            move |_: usize, _: &Value| {
                if fixed.load(std::sync::atomic::Ordering::SeqCst) { Answer::Ok } else { Answer::Fail }
            },
        )
    };
    let url = start_receiver(Receiver { received: refused.clone(), script }).await;
    let options = fast_retries();
    let system = service::Effects::system();
    service::webhooks::register_webhook(&db.store, entra.tenant.id, &url, &options, &service::Actor::Cli, &system)
        .await
        .unwrap();
    let deliverer = service::webhooks::Deliverer::new(db.store.clone(), options.clone(), system).unwrap();
    while refused.lock().unwrap().is_empty() {
        deliverer.deliver_pending().await.unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let settings = AlertSettings::default();
    let clock = Arc::new(ManualClock::starting_at(now()));
    let effects = service::Effects::new(clock.clone());
    let channels = AlertChannels::default();
    // The last token expires within a week: at once.
    assert_eq!(evaluate(&db.store, &settings, &channels, &effects).await.unwrap().opened, 1);

    // Four hours later, also: Entra silent past its default of three hours, the endpoint
    // failing for over an hour.
    clock.advance(chrono::Duration::hours(4));
    let round = evaluate(&db.store, &settings, &channels, &effects).await.unwrap();
    assert_eq!(round.opened, 2);
    let directory = entra.directory.to_string();
    let shown = admin.json("/api/open_alerts", &[("directory", &directory)]).await;
    let mut kinds: Vec<&str> = shown.as_array().unwrap().iter().map(|a| a["kind"].as_str().unwrap()).collect();
    kinds.sort_unstable();
    assert_eq!(kinds, ["idp_silent", "token_expiring", "webhook_failing"]);
    let summary = |kind: &str| {
        shown.as_array().unwrap().iter().find(|a| a["kind"] == kind).unwrap()["summary"].as_str().unwrap().to_owned()
    };
    assert!(summary("idp_silent").starts_with("Microsoft Entra ID has sent nothing to ‘"), "{}", summary("idp_silent"));
    assert!(summary("idp_silent").ends_with("for 4 h (the alert threshold is 3 h)"), "{}", summary("idp_silent"));
    assert!(summary("token_expiring").contains("The SCIM token ‘Entra prod’ of ‘"), "{}", summary("token_expiring"));
    assert!(summary("token_expiring").contains("expires in 2 d 19 h, on "), "{}", summary("token_expiring"));
    assert!(summary("webhook_failing").starts_with(&format!("Webhook endpoint {url} has failed for 4 h")));

    // The admin's threshold: a bad one is refused in words; 0 turns the alert off.
    let refused_setting = admin.call("/api/set_silence_alert", &[("directory", &directory), ("hours", "soon")]).await;
    assert_eq!(refused_setting.status(), 422);
    assert!(refused_setting.text().await.unwrap().contains("whole number of hours"));
    let default = admin.json("/api/silence_alert", &[("directory", &directory)]).await;
    assert_eq!(default["applies"], "The default for Microsoft Entra ID: an alert after 3 hours without a request.");
    let off = admin.json("/api/set_silence_alert", &[("directory", &directory), ("hours", "0")]).await;
    assert_eq!(off["applies"], "No alert when Microsoft Entra ID is silent.");
    // A new token that does not expire (the rotation's successor).
    service::directories::issue_token(
        &db.store,
        entra.tenant.id,
        entra.directory,
        token("Entra prod (rotated)", None),
        &service::Actor::Cli,
        &service::Effects::system(),
    )
    .await
    .unwrap();
    let round = evaluate(&db.store, &settings, &channels, &effects).await.unwrap();
    assert_eq!((round.opened, round.resolved), (0, 2));
    let left = admin.json("/api/open_alerts", &[]).await;
    assert_eq!(left.as_array().unwrap().len(), 1);
    assert_eq!(left[0]["kind"], "webhook_failing");
    // The endpoint answers again: the held event goes out and the alert ends.
    fixed.store(true, std::sync::atomic::Ordering::SeqCst);
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while db.store.tenant(entra.tenant.id).webhook_health(now()).await.unwrap()[0].held > 0 {
        assert!(std::time::Instant::now() < deadline, "the held event was not delivered");
        deliverer.deliver_pending().await.unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(evaluate(&db.store, &settings, &channels, &effects).await.unwrap().resolved, 1);
    let trail = db.store.tenant(entra.tenant.id).audit_records(0, 1000).await.unwrap();
    assert!(trail.iter().any(|r| r.action == "directory.silence_alert_set"));
}

/// The operator's own webhook endpoint (the vendor's product, every tenant's events) failing
/// for an hour: an alert of the deployment, not of a tenant — told to support and the alert
/// webhook (no tenant admin, no tenant's trail), shown in the support console, resolved once
/// the endpoint takes its held event.
async fn a_failing_product_endpoint_is_the_deployments_alert_told_to_support_until_it_answers(db: TestDatabase) {
    let server = TestServer::start_with(&db, &["--webhooks-allow-internal-targets"]).await;
    let admin = admin_of(&server, "acme", "it@acme.example").await;
    let acme = Scim::new(&db, &server, "acme", IdentityProvider::Okta, token("Okta prod", None)).await;
    let fixed = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let script = {
        let fixed = fixed.clone();
        Arc::new(
            move |_: usize, _: &Value| {
                if fixed.load(std::sync::atomic::Ordering::SeqCst) { Answer::Ok } else { Answer::Fail }
            },
        )
    };
    let received = Arc::new(Mutex::new(Vec::new()));
    let url = start_receiver(Receiver { received: received.clone(), script }).await;
    let key = api_key(&db).await;
    let created = reqwest::Client::new()
        .post(server.url("/webhook_endpoints"))
        .bearer_auth(&key)
        .json(&json!({ "endpoint_url": url, "events": ["dsync.user.created"] }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    acme.create_user("wile@acme.example").await;
    let deliverer =
        service::directory_sync::OperatorDeliverer::new(db.store.clone(), fast_retries(), service::Effects::system())
            .unwrap();
    // On PostgreSQL the feed shows the change once older transactions have ended: deliver
    // until the endpoint has refused it once.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while received.lock().unwrap().is_empty() {
        assert!(std::time::Instant::now() < deadline, "the event was not offered to the endpoint");
        deliverer.deliver_pending().await.unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let sink = SmtpSink::start();
    let (hook, hooked) = alert_receiver().await;
    let channels = channels(Some(&sink.url()), Some(&hook), &server.url(""));
    let settings = AlertSettings::default();
    let clock = Arc::new(ManualClock::starting_at(now()));
    let effects = service::Effects::new(clock.clone());
    // Refused, but not for an hour yet.
    assert_eq!(evaluate(&db.store, &settings, &channels, &effects).await.unwrap(), Round::default());
    clock.advance(chrono::Duration::hours(2));
    let round = evaluate(&db.store, &settings, &channels, &effects).await.unwrap();
    assert_eq!((round.opened, round.notified, round.failed), (1, 1, 0));

    // Support only: the tenant's admin is not told of the vendor's own endpoint.
    let opened = sink.expect(1);
    assert_eq!(opened[0]["to"][0], "support@vendor.example");
    let subject = opened[0]["subject"].as_str().unwrap();
    assert_eq!(
        subject,
        format!("[Deployment] Alert: The product's webhook endpoint {url} has failed for 2 h (1 event held back)")
    );
    let body = opened[0]["body"].as_str().unwrap();
    assert!(body.contains("About: the deployment's own webhook endpoints"), "{body}");
    assert!(body.contains("What to do: Check that the product's endpoint is up"), "{body}");
    assert!(body.contains(&format!("See it in the portal: {}", server.url("/support"))), "{body}");
    {
        let hooked = hooked.lock().unwrap();
        assert_eq!(hooked.len(), 1);
        let payload: Value = serde_json::from_str(&hooked[0].1).unwrap();
        assert_eq!(payload["type"], "alert.opened");
        assert_eq!(payload["data"]["kind"], "operator_webhook_failing");
        assert_eq!(payload["data"]["tenant"], Value::Null);
    }
    // Once: the next round sends nothing; the support console shows it, the admin does not.
    assert_eq!(evaluate(&db.store, &settings, &channels, &effects).await.unwrap(), Round::default());
    assert_eq!(admin.json("/api/open_alerts", &[]).await, json!([]));
    server.sign_in().await;
    let support = server.json_call("/api/support_alerts", &[]).await;
    assert_eq!(support.as_array().unwrap().len(), 1, "{support}");
    assert_eq!(
        (support[0]["tenant"].as_str(), support[0]["tenant_name"].as_str(), support[0]["kind_label"].as_str()),
        (Some(""), Some("The product's webhook endpoints"), Some("Product webhook failing"))
    );

    // The endpoint answers again: the held event goes out, the alert ends and says so.
    fixed.store(true, std::sync::atomic::Ordering::SeqCst);
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while db.store.operator_webhook_health(now()).await.unwrap()[0].held > 0 {
        assert!(std::time::Instant::now() < deadline, "the held event was not delivered");
        deliverer.deliver_pending().await.unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let round = evaluate(&db.store, &settings, &channels, &effects).await.unwrap();
    assert_eq!((round.resolved, round.notified), (1, 1));
    let resolved = sink.expect(2);
    assert!(resolved[1]["subject"].as_str().unwrap().starts_with("[Deployment] Resolved: The product's webhook"));
    let last: Value = serde_json::from_str(&hooked.lock().unwrap()[1].1).unwrap();
    assert_eq!(last["type"], "alert.resolved");
    assert_eq!(server.json_call("/api/support_alerts", &[]).await, json!([]));
    // Not the tenant's: nothing of it in the tenant's trail.
    let trail = db.store.tenant(acme.tenant.id).audit_records(0, 1000).await.unwrap();
    assert!(!trail.iter().any(|r| r.action.starts_with("alert.")));
}
