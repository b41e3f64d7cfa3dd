//! Setup links emailed to the customer's IT admin, from the console and the operator API,
//! read back from a real SMTP server (aiosmtpd): the message names the tenant and who
//! invited, its link opens the setup page with the address offered, and the lists and the
//! trail say where the link went. A message the SMTP server refuses leaves no open link.

use serde_json::{Value, json};
use store::testing::TestDatabase;

use crate::TestServer;
use crate::alerts::SmtpSink;
use crate::onboarding::Visitor;
use crate::operator_api::api_key;

store::backend_tests!(
    a_setup_link_emailed_from_the_api_and_the_console_reaches_the_it_admin,
    a_setup_link_the_smtp_server_refuses_is_withdrawn,
    a_deployment_without_mail_says_so_and_still_makes_links_to_pass_on,
);

/// The link in a message's body.
fn link_in(message: &Value) -> String {
    let body = message["body"].as_str().unwrap();
    body.split_whitespace().find(|word| word.contains("/setup/setup_")).unwrap_or_else(|| panic!("{body}")).to_owned()
}

async fn post_json(server: &TestServer, key: &str, path: &str, body: Value) -> reqwest::Response {
    reqwest::Client::new().post(server.url(path)).bearer_auth(key).json(&body).send().await.unwrap()
}

/// Acme's trail: each record's action and detail.
async fn trail(db: &TestDatabase) -> Vec<(String, Value)> {
    let tenant = db.store.tenant_by_slug(&"acme".parse().unwrap()).await.unwrap().unwrap().id;
    let records = db.store.tenant(tenant).audit_records(0, 1000).await.unwrap();
    records.into_iter().map(|r| (r.action, serde_json::from_str(&r.detail).unwrap())).collect()
}

/// An operator API key, and tenant `acme` made with it.
async fn acme(db: &TestDatabase, server: &TestServer) -> String {
    let key = api_key(db).await;
    let created = post_json(server, &key, "/api/v1/tenants", json!({"slug": "acme", "display_name": "Acme"})).await;
    assert_eq!(created.status(), 201);
    key
}

async fn links(server: &TestServer, key: &str) -> Vec<Value> {
    let response = reqwest::Client::new().get(server.url("/api/v1/tenants/acme/setup-links")).bearer_auth(key);
    response.send().await.unwrap().json::<Vec<Value>>().await.unwrap()
}

async fn a_setup_link_emailed_from_the_api_and_the_console_reaches_the_it_admin(db: TestDatabase) {
    let sink = SmtpSink::start();
    let server =
        TestServer::start_with(&db, &["--smtp-url", &sink.url(), "--mail-from", "Vendor <noreply@vendor.example>"])
            .await;
    let key = acme(&db, &server).await;

    // The vendor's product emails the link: the answer has no URL, only where it went.
    let emailed = post_json(
        &server,
        &key,
        "/api/v1/tenants/acme/setup-links",
        json!({"valid_days": 3, "email": " IT@Acme.example "}),
    )
    .await;
    assert_eq!(emailed.status(), 201);
    let emailed: Value = emailed.json().await.unwrap();
    assert_eq!(emailed["sent_to"], "it@acme.example");
    assert!(emailed.get("url").is_none(), "{emailed}");

    let messages = sink.expect(1);
    let message = &messages[0];
    assert_eq!(message["to"], json!(["it@acme.example"]));
    assert_eq!(message["from"], "noreply@vendor.example");
    assert_eq!(message["subject"], "Set up directory sync for Acme");
    let body = message["body"].as_str().unwrap();
    assert!(body.contains("connect Acme's identity provider"), "{body}");
    assert!(body.contains("The link works once"), "{body}");
    let link = link_in(message);
    assert!(link.starts_with(&server.url("/setup/setup_")), "{link}");

    // The link opens the setup page, which offers the address it was sent to.
    let admin = Visitor::new(&server);
    let page = admin.get(link.strip_prefix(&server.url("")).unwrap()).await.text().await.unwrap();
    assert!(page.contains(r#"value="it@acme.example""#), "{page}");
    let secret = link.rsplit('/').next().unwrap();
    let accepted = admin.accept_setup_link(secret, "it@acme.example", "correct horse battery").await;
    assert!(accepted.status().is_redirection(), "{}", accepted.status());

    // An operator emails another from the console.
    server.sign_in().await;
    let to = server
        .json_call("/api/email_setup_link", &[("slug", "acme"), ("valid_days", "7"), ("email", "second@acme.example")])
        .await;
    assert_eq!(to, "second@acme.example");
    // The first message, the admin's email confirmation (the deployment sends mail), this one.
    let messages = sink.messages();
    let to_second: Vec<&Value> = messages.iter().filter(|m| m["to"] == json!(["second@acme.example"])).collect();
    assert_eq!(to_second.len(), 1, "{messages:#?}");
    assert!(to_second[0]["body"].as_str().unwrap().contains("ops@vendor.example has invited you"), "{messages:#?}");

    // The lists say where each went; the trail too.
    let listed = links(&server, &key).await;
    let sent: Vec<(&str, &str)> =
        listed.iter().map(|l| (l["sent_to"].as_str().unwrap(), l["state"].as_str().unwrap())).collect();
    assert_eq!(sent, [("second@acme.example", "open"), ("it@acme.example", "used")]);
    let console = server.json_call("/api/list_setup_links", &[("tenant", "acme")]).await;
    assert_eq!(console[0]["sent_to"], "second@acme.example");
    let trail = trail(&db).await;
    let created: Vec<&str> = trail
        .iter()
        .filter(|(action, _)| action == "setup_link.created")
        .map(|(_, detail)| detail["sent_to"].as_str().unwrap())
        .collect();
    assert_eq!(created, ["it@acme.example", "second@acme.example"]);

    // An address that is not one is refused before anything is made.
    let invalid =
        post_json(&server, &key, "/api/v1/tenants/acme/setup-links", json!({"email": "not an address"})).await;
    assert_eq!(invalid.status(), 400);
    let problem: Value = invalid.json().await.unwrap();
    assert!(problem["detail"].as_str().unwrap().contains("is not an email address"), "{problem}");
    assert_eq!(links(&server, &key).await.len(), 2);
}

async fn a_setup_link_the_smtp_server_refuses_is_withdrawn(db: TestDatabase) {
    // Nothing listens here: every message fails.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let server = TestServer::start_with(&db, &["--smtp-url", &format!("smtp://127.0.0.1:{closed}")]).await;
    let key = acme(&db, &server).await;

    let failed =
        post_json(&server, &key, "/api/v1/tenants/acme/setup-links", json!({"email": "it@acme.example"})).await;
    assert_eq!(failed.status(), 502);
    let problem: Value = failed.json().await.unwrap();
    assert!(problem["detail"].as_str().unwrap().contains("it was withdrawn"), "{problem}");
    server.sign_in().await;
    let console = server
        .call("/api/email_setup_link", &[("slug", "acme"), ("valid_days", "7"), ("email", "it@acme.example")])
        .await;
    assert_eq!(console.status(), 503);
    assert!(console.text().await.unwrap().contains("could not be emailed"));

    let listed = links(&server, &key).await;
    let states: Vec<&str> = listed.iter().map(|l| l["state"].as_str().unwrap()).collect();
    assert_eq!(states, ["revoked", "revoked"]);
    let trail = trail(&db).await;
    let withdrawn: Vec<&Value> =
        trail.iter().filter(|(action, _)| action == "setup_link.revoked").map(|(_, detail)| detail).collect();
    assert_eq!(withdrawn.len(), 2);
    let reason = withdrawn[0]["reason"].clone();
    assert!(reason.as_str().unwrap().contains("could not be sent"), "{reason}");
}

async fn a_deployment_without_mail_says_so_and_still_makes_links_to_pass_on(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let key = acme(&db, &server).await;

    let refused =
        post_json(&server, &key, "/api/v1/tenants/acme/setup-links", json!({"email": "it@acme.example"})).await;
    assert_eq!(refused.status(), 400);
    let problem: Value = refused.json().await.unwrap();
    assert!(problem["detail"].as_str().unwrap().contains("sends no email"), "{problem}");
    assert!(links(&server, &key).await.is_empty());

    let shown = post_json(&server, &key, "/api/v1/tenants/acme/setup-links", json!({})).await;
    let shown: Value = shown.json().await.unwrap();
    assert!(shown["url"].as_str().unwrap().contains("/setup/setup_"), "{shown}");
    assert_eq!(shown["sent_to"], Value::Null);
    // The console's tenant page offers no email field.
    server.sign_in().await;
    let page = server.get("/tenants/acme").await.text().await.unwrap();
    assert!(page.contains("This deployment sends no email"), "{page}");
}
