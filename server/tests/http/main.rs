//! Black-box HTTP tests: the whole application on a random port with a fresh database, on
//! SQLite and on PostgreSQL. One test binary for the crate.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::SocketAddr;
use std::time::Duration;

use clap::Parser;
use serde_json::Value;
use server::config::Cli;
use server::http::App;
use store::backend_tests;
use store::testing::{FreshId as _, TestDatabase};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

mod actions;
mod activity;
mod agents;
mod alerts;
mod api_keys;
mod audit_export;
mod audit_trail;
mod brake;
mod branding;
mod demo;
mod directory_deletion;
mod email_confirmation;
mod google;
mod google_stand_in;
mod idp_sequences;
mod metrics;
mod nonhuman;
mod oauth_clients;
mod onboarding;
mod operator_api;
mod people;
mod plain_forms;
mod portal_links;
mod processes;
mod receipts;
mod render;
mod roles;
mod roles_pages;
mod scim;
mod secrets_at_rest;
mod setup_link_email;
mod sso;
mod stale_users;
mod static_assets;
mod suspensions;
mod webhook_pages;
mod webhooks;
mod workos_api;
mod workos_webhooks;

/// A server running in this process until `stop` is called or it is dropped.
struct TestServer {
    address: SocketAddr,
    client: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<anyhow::Result<()>>,
    audit: service::audit::AuditLog,
}

/// The seed of the audit signing key every test server signs checkpoints with.
const AUDIT_KEY_SEED: [u8; 32] = [42; 32];

/// The test servers' audit signing key.
fn audit_signer() -> service::audit_checkpoints::AuditSigner {
    service::audit_checkpoints::AuditSigner::from_seed(&AUDIT_KEY_SEED)
}

/// A file holding [`AUDIT_KEY_SEED`], written once per test process (every server and
/// command of the tests reads it: `--audit-signing-key-file`, `AUDIT_SIGNING_KEY_FILE`).
fn audit_key_file() -> &'static str {
    static FILE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    FILE.get_or_init(|| write_key_file("audit-key", &AUDIT_KEY_SEED))
}

/// Writes `key` in base64, as the server's key files hold it, to a file of this test
/// process; its path.
fn write_key_file(name: &str, key: &[u8; 32]) -> String {
    use base64::Engine as _;
    let path = std::env::temp_dir().join(format!("scim-portal-test-{name}-{}", std::process::id()));
    std::fs::write(&path, base64::engine::general_purpose::STANDARD.encode(key)).unwrap();
    path.to_string_lossy().into_owned()
}

/// The server binary as the tests run it (commands and whole processes), with the test
/// key files, so that nothing is written beside the sources and every process signs and
/// checks with the same keys as the in-process servers.
fn server_binary() -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_server"));
    command.env("AUDIT_SIGNING_KEY_FILE", audit_key_file()).env("SECRETS_KEY_FILE", secrets_key_file());
    command
}

/// A file holding the test databases' secrets key ([`store::testing::TEST_SECRETS_KEY`]).
fn secrets_key_file() -> &'static str {
    static FILE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    FILE.get_or_init(|| write_key_file("secrets-key", &store::testing::TEST_SECRETS_KEY))
}

const OPERATOR_EMAIL: &str = "ops@vendor.example";
const OPERATOR_PASSWORD: &str = "a long enough password";

impl TestServer {
    /// Starts the app on a random port, with one operator account.
    async fn start(db: &TestDatabase) -> Self {
        Self::start_with(db, &[]).await
    }

    /// Starts the app with further command-line options, e.g. `--webhooks-allow-internal-targets`.
    async fn start_with(db: &TestDatabase, options: &[&str]) -> Self {
        Self::start_with_clock(db, options, service::SystemClock::shared()).await
    }

    /// Starts the app reading the time from `clock`, so a test can move it (a token's
    /// expiry, a rotation's overlap) instead of waiting.
    async fn start_with_clock(db: &TestDatabase, options: &[&str], clock: service::SharedClock) -> Self {
        // The server's warnings and errors (a storage failure behind a 503, say) go to the
        // test's captured output, so a failing test shows why the server answered as it did.
        let _ = tracing_subscriber::fmt()
            .with_test_writer()
            .with_env_filter(tracing_subscriber::EnvFilter::new("warn,sqlx=error"))
            .try_init();
        let email = service::operators::OperatorEmail::parse(OPERATOR_EMAIL).unwrap();
        let now = chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 11, 25, 9, 0, 0).unwrap();
        service::operators::bootstrap_first_operator(
            &db.store,
            &email,
            OPERATOR_PASSWORD.into(),
            &service::Effects::stopped_at(now),
        )
        .await
        .unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        // The public URL is this server's own address, so links it makes (and the setup
        // wizard's self-test, which goes through the public URL) lead back to it.
        let public_url = format!("http://{address}");
        let arguments = [
            "server",
            "--database-url",
            db.url.as_str(),
            "--bind",
            "127.0.0.1:0",
            "--public-url",
            &public_url,
            "--audit-signing-key-file",
            audit_key_file(),
        ];
        let cli = Cli::try_parse_from(arguments.iter().chain(options)).unwrap();
        let app = App::with_clock(&cli.config, db.store.clone(), clock);
        let audit = app.audit_log();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(server::serve_until(
            listener,
            app,
            async move {
                let _ = stopped.await;
            },
            Duration::from_secs(5),
        ));
        Self { address, client: client(), stop: Some(stop), task, audit }
    }

    /// Calls a server function the way a form without JavaScript does.
    async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.client.post(self.url(path)).form(form).send().await.unwrap()
    }

    async fn sign_in(&self) -> reqwest::Response {
        self.post_form("/api/sign_in", &[("email", OPERATOR_EMAIL), ("password", OPERATOR_PASSWORD)]).await
    }

    /// Calls a server function the way the portal's own client does (JSON answer).
    async fn call(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.client.post(self.url(path)).header("accept", "application/json").form(form).send().await.unwrap()
    }

    /// Calls a server function and reads its JSON answer, which must be a success.
    async fn json_call(&self, path: &str, form: &[(&str, &str)]) -> Value {
        let response = self.call(path, form).await;
        let status = response.status();
        let text = response.text().await.unwrap();
        assert_eq!(status, 200, "{path}: {text}");
        serde_json::from_str(&text).unwrap()
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    /// Asks the server to shut down and waits until it has.
    async fn shut_down(mut self) -> anyhow::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        (&mut self.task).await.unwrap()
    }
}

/// Keeps cookies and asks for HTML like a browser, but shows redirects instead of following
/// them. (Leptos answers requests that do not accept HTML, its own client's, with a redirect
/// header for the client to follow instead of a 302.)
fn client() -> reqwest::Client {
    browser_like().cookie_store(true).build().unwrap()
}

fn browser_like() -> reqwest::ClientBuilder {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("accept", "text/html,application/xhtml+xml,*/*;q=0.8".parse().unwrap());
    reqwest::Client::builder().default_headers(headers).redirect(reqwest::redirect::Policy::none())
}

fn session_cookie(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|value| value.to_str().unwrap().to_owned())
        .find(|cookie| cookie.starts_with("portal_session="))
}

backend_tests!(
    signed_out_visitors_are_redirected_to_sign_in,
    signing_in_sets_a_protected_session_cookie_and_opens_the_portal,
    a_wrong_password_is_refused_without_a_session,
    each_sign_in_gets_a_new_session_id,
    signing_out_ends_the_session,
    sessions_survive_a_server_restart,
    a_session_ends_its_absolute_lifetime_after_sign_in_however_busy,
    a_session_is_stored_under_the_digest_of_its_id_only,
    admin_create_directory_prints_json_with_a_working_token,
    console_pages_and_functions_need_a_signed_in_operator,
    an_operator_creates_a_tenant_and_adds_a_directory_with_a_working_token,
    tenant_names_are_validated_and_unique,
    support_staff_can_look_but_not_change,
    liveness_answers_ok,
    readiness_follows_the_database,
    the_portal_page_is_rendered_on_the_server,
    the_status_server_function_reads_the_database,
    unknown_pages_are_404,
    shutdown_lets_an_open_request_finish,
);

impl TestServer {
    /// The address the server listens on.
    fn address(&self) -> SocketAddr {
        self.address
    }
}

async fn liveness_answers_ok(db: TestDatabase) {
    let server = TestServer::start(&db).await;

    let response = server.get("/healthz").await;

    assert_eq!(response.status(), 200);
    assert_eq!(response.json::<Value>().await.unwrap()["status"], "ok");
}

async fn readiness_follows_the_database(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let ready = server.get("/readyz").await;
    assert_eq!(ready.status(), 200);
    let body: Value = ready.json().await.unwrap();
    assert_eq!(body["database"], db.url.backend().name());

    db.store.close().await;
    let unready = server.get("/readyz").await;

    assert_eq!(unready.status(), 503);
    assert_eq!(unready.json::<Value>().await.unwrap()["status"], "unavailable");
}

async fn the_portal_page_is_rendered_on_the_server(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    server.sign_in().await;

    let response = server.get("/").await;

    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let html = response.text().await.unwrap();
    assert!(html.contains("Deployment status"), "{html}");
    assert!(html.contains("/pkg/portal.js"), "the hydration script is not linked: {html}");
}

async fn the_status_server_function_reads_the_database(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    server.sign_in().await;

    let response = server
        .client
        .post(server.url("/api/deployment_status"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "application/json")
        .body("")
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 200);
    let status: Value = response.json().await.unwrap();
    assert_eq!(status["database"], db.url.backend().name());
    assert_eq!(status["schema_version"], store::Store::latest_schema_version());
    assert_eq!(status["tenants"], 0);
}

async fn signed_out_visitors_are_redirected_to_sign_in(db: TestDatabase) {
    let server = TestServer::start(&db).await;

    let page = server.get("/").await;
    let status = server.call("/api/deployment_status", &[]).await;

    assert!(page.status().is_redirection(), "{}", page.status());
    assert_eq!(page.headers()["location"], "/sign-in");
    assert_eq!(status.status(), 401);
    assert!(status.text().await.unwrap().contains("Sign in again"));
    let sign_in_page = server.get("/sign-in").await;
    assert_eq!(sign_in_page.status(), 200);
    assert!(sign_in_page.text().await.unwrap().contains("autocomplete=\"current-password\""));
}

async fn signing_in_sets_a_protected_session_cookie_and_opens_the_portal(db: TestDatabase) {
    let server = TestServer::start(&db).await;

    let response = server.sign_in().await;

    assert!(response.status().is_redirection(), "{}", response.status());
    assert_eq!(response.headers()["location"], "/tenants", "operators land on their tenants");
    let cookie = session_cookie(&response).expect("a session cookie");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(!cookie.contains("Secure"), "plain-HTTP deployments cannot use Secure cookies: {cookie}");
    let page = server.get("/").await;
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains(OPERATOR_EMAIL));
}

async fn a_wrong_password_is_refused_without_a_session(db: TestDatabase) {
    let server = TestServer::start(&db).await;

    let form = [("email", OPERATOR_EMAIL), ("password", "not the password")];
    let refused = "The email or the password is not right.";

    // The hydrated page's own client: 401 and the reason.
    let response = server.call("/api/sign_in", &form).await;
    assert_eq!(response.status(), 401);
    assert_eq!(session_cookie(&response), None);
    assert!(response.text().await.unwrap().contains(refused));

    // A plain form post (the page's bundle has not arrived): back to the page with the
    // reason in its address, where the page says it.
    let sign_in_page = server.url("/sign-in");
    let response = server
        .client
        .post(server.url("/api/sign_in"))
        .header("referer", &sign_in_page)
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 302);
    assert_eq!(session_cookie(&response), None);
    let back = response.headers()["location"].to_str().unwrap().to_owned();
    // The page's own path, with the email typed (never the password) and the reason.
    assert!(back.starts_with("/sign-in?") && back.contains("__err="), "{back}");
    let page = server.get(&back).await;
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains(refused));
    assert!(server.get("/").await.status().is_redirection());
}

async fn each_sign_in_gets_a_new_session_id(db: TestDatabase) {
    let server = TestServer::start(&db).await;

    let first = session_cookie(&server.sign_in().await).unwrap();
    let second = session_cookie(&server.sign_in().await).unwrap();

    let id = |cookie: &str| cookie.split(';').next().unwrap().to_owned();
    assert_ne!(id(&first), id(&second), "the session id must change at sign-in");
}

async fn signing_out_ends_the_session(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let cookie = session_cookie(&server.sign_in().await).unwrap();

    let response = server.post_form("/api/sign_out", &[]).await;

    assert!(response.status().is_redirection(), "{}", response.status());
    assert_eq!(response.headers()["location"], "/sign-in");
    assert!(server.get("/").await.status().is_redirection());
    // The old cookie is worthless even if someone kept a copy.
    let replay = browser_like().build().unwrap();
    let replayed =
        replay.get(server.url("/")).header("cookie", cookie.split(';').next().unwrap()).send().await.unwrap();
    assert!(replayed.status().is_redirection(), "{}", replayed.status());
}

/// The session id is the cookie's value, a bearer credential: a copy of the database must
/// not sign anybody in, so only its digest is stored.
async fn a_session_is_stored_under_the_digest_of_its_id_only(db: TestDatabase) {
    use sha2::Digest as _;
    let server = TestServer::start(&db).await;
    let cookie = session_cookie(&server.sign_in().await).unwrap();
    let id = cookie.split(';').next().unwrap().trim_start_matches("portal_session=").to_owned();
    let digest: String = sha2::Sha256::digest(id.as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
    let touch = |key: &str| format!("UPDATE sessions SET expires_at = expires_at WHERE id = '{key}'");
    assert_eq!(TestDatabase::execute_raw(&db.store, &touch(&id)).await.unwrap(), 0, "the id itself is nowhere");
    assert_eq!(TestDatabase::execute_raw(&db.store, &touch(&digest)).await.unwrap(), 1);
    // A stolen row's key is no cookie.
    assert_eq!(server.call("/api/deployment_status", &[]).await.status(), 200, "the cookie itself signs in");
    let forged = reqwest::Client::new()
        .post(server.url("/api/deployment_status"))
        .header("accept", "application/json")
        .header("cookie", format!("portal_session={digest}"))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 401);
}

async fn a_session_ends_its_absolute_lifetime_after_sign_in_however_busy(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let cookie = session_cookie(&server.sign_in().await).unwrap();
    assert_eq!(server.get("/").await.status(), 200);

    // The record as it is a day after sign-in, with the idle timeout not reached
    // (every request renews it).
    #[allow(clippy::disallowed_methods)] // sessions expire on the wall clock
    let now = chrono::Utc::now().timestamp();
    let id = cookie.split(';').next().unwrap().trim_start_matches("portal_session=").to_owned();
    let mut row = db.store.load_session(&id, now).await.unwrap().expect("the session's record");
    let mut data: Value = serde_json::from_str(&row.data).unwrap();
    let signed_in_at = data["signed_in_at"].as_i64().expect("the sign-in time");
    assert!((now - signed_in_at).abs() < 60, "{signed_in_at}");
    data["signed_in_at"] = serde_json::json!(now - service::session::ABSOLUTE_LIFETIME_HOURS * 3_600);
    row.data = data.to_string();
    db.store.save_session(&row).await.unwrap();

    let page = server.get("/").await;
    assert!(page.status().is_redirection(), "{}", page.status());
    assert_eq!(page.headers()["location"], "/sign-in");
    let status = server.call("/api/deployment_status", &[]).await;
    assert_eq!(status.status(), 401);
    // Signing in again starts a new lifetime.
    server.sign_in().await;
    assert_eq!(server.get("/").await.status(), 200);
}

async fn sessions_survive_a_server_restart(db: TestDatabase) {
    let first = TestServer::start(&db).await;
    let cookie = session_cookie(&first.sign_in().await).unwrap();
    first.shut_down().await.unwrap();

    let second = TestServer::start(&db).await;
    let page =
        second.client.get(second.url("/")).header("cookie", cookie.split(';').next().unwrap()).send().await.unwrap();

    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains(OPERATOR_EMAIL));
}

async fn admin_create_directory_prints_json_with_a_working_token(db: TestDatabase) {
    let output = crate::server_binary()
        .args(["admin", "create-directory", "--tenant", "acme", "--idp", "okta", "--json"])
        .env("DATABASE_URL", db.url.as_str())
        .env("PUBLIC_URL", "https://scim.vendor.example/")
        .output()
        .unwrap();

    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let printed: Value = serde_json::from_slice(&output.stdout).expect("stdout is one JSON object");
    assert_eq!(printed["tenant"], "acme");
    assert_eq!(printed["idp"], "okta");
    let directory: store::DirectoryId = printed["directory"].as_str().unwrap().parse().unwrap();
    assert_eq!(printed["scim_base_url"], format!("https://scim.vendor.example/scim/v2/{directory}"));
    let now = chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2030, 1, 1, 0, 0, 0).unwrap();
    let token = printed["token"].as_str().unwrap();
    let caller = service::directories::authenticate(&db.store, directory, token, now).await.unwrap();
    assert_eq!(caller.directory, directory);
    assert!(!caller.read_only);

    let tenant = db.store.tenant_by_slug(&"acme".parse().unwrap()).await.unwrap().unwrap();
    assert_eq!(caller.tenant, tenant.id);
}

async fn console_pages_and_functions_need_a_signed_in_operator(db: TestDatabase) {
    let server = TestServer::start(&db).await;

    for page in ["/tenants", "/tenants/acme"] {
        let response = server.get(page).await;
        assert!(response.status().is_redirection(), "{page}: {}", response.status());
        assert_eq!(response.headers()["location"], "/sign-in", "{page}");
    }
    for (function, form) in [
        ("/api/list_tenants", vec![]),
        ("/api/create_tenant", vec![("slug", "acme"), ("display_name", "Acme")]),
        ("/api/tenant_detail", vec![("slug", "acme")]),
        ("/api/add_directory", vec![("slug", "acme"), ("idp", "okta")]),
    ] {
        assert_eq!(server.call(function, &form).await.status(), 401, "{function}");
    }
    assert_eq!(db.store.deployment_overview().await.unwrap().tenant_count, 0);
}

async fn an_operator_creates_a_tenant_and_adds_a_directory_with_a_working_token(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    server.sign_in().await;

    let created = server.post_form("/api/create_tenant", &[("slug", "acme"), ("display_name", "Acme Corp")]).await;
    assert!(created.status().is_redirection(), "{}", created.status());
    assert_eq!(created.headers()["location"], "/tenants/acme");
    let added = server.call("/api/add_directory", &[("slug", "acme"), ("idp", "entra")]).await;
    assert_eq!(added.status(), 200);
    let added: Value = added.json().await.unwrap();

    assert_eq!(added["idp"], "Microsoft Entra ID");
    let base_url = added["scim_base_url"].as_str().unwrap();
    let directory: store::DirectoryId = base_url.rsplit('/').next().unwrap().parse().unwrap();
    let now = chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2030, 1, 1, 0, 0, 0).unwrap();
    let caller =
        service::directories::authenticate(&db.store, directory, added["token"].as_str().unwrap(), now).await.unwrap();
    assert_eq!(caller.directory, directory);
    let detail: Value = server.call("/api/tenant_detail", &[("slug", "acme")]).await.json().await.unwrap();
    assert_eq!(detail["display_name"], "Acme Corp");
    assert_eq!(detail["directories"][0]["scim_base_url"], base_url);
    let token = added["token"].as_str().unwrap();
    assert!(!detail.to_string().contains(token), "the token leaked into the tenant page: {detail}");
    let listed: Value = server.call("/api/list_tenants", &[]).await.json().await.unwrap();
    assert_eq!(listed[0]["slug"], "acme");
    assert_eq!(listed[0]["directories"], 1);
    let page = server.get("/tenants/acme").await;
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("Acme Corp"));
}

async fn tenant_names_are_validated_and_unique(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    server.sign_in().await;
    server.call("/api/create_tenant", &[("slug", "acme"), ("display_name", "Acme")]).await;

    let taken = server.call("/api/create_tenant", &[("slug", "acme"), ("display_name", "Other")]).await;
    let invalid = server.call("/api/create_tenant", &[("slug", "Acme Corp"), ("display_name", "Acme")]).await;
    let unknown_idp = server.call("/api/add_directory", &[("slug", "acme"), ("idp", "azure")]).await;
    let unknown_tenant = server.call("/api/add_directory", &[("slug", "globex"), ("idp", "okta")]).await;

    assert_eq!(taken.status(), 422);
    let taken = taken.text().await.unwrap();
    assert!(taken.contains("A tenant named") && taken.contains("acme") && taken.contains("already exists."), "{taken}");
    assert_eq!(invalid.status(), 422);
    assert!(invalid.text().await.unwrap().contains("is not a valid tenant name"));
    assert_eq!(unknown_idp.status(), 422);
    assert_eq!(unknown_tenant.status(), 404);
    assert_eq!(db.store.deployment_overview().await.unwrap().tenant_count, 1);
}

async fn support_staff_can_look_but_not_change(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let operator = db.store.operator_by_email(OPERATOR_EMAIL).await.unwrap().unwrap();
    let support = store::Operator {
        id: store::OperatorId::fresh(),
        email: "support@vendor.example".into(),
        role: store::OperatorRole::Support,
        ..operator
    };
    db.store.insert_operator(&support).await.unwrap();
    server.post_form("/api/sign_in", &[("email", "support@vendor.example"), ("password", OPERATOR_PASSWORD)]).await;

    let listed = server.call("/api/list_tenants", &[]).await;
    let create = server.call("/api/create_tenant", &[("slug", "acme"), ("display_name", "Acme")]).await;

    assert_eq!(listed.status(), 200);
    assert_eq!(create.status(), 403);
    assert!(create.text().await.unwrap().contains("can look but not change"));
    assert_eq!(db.store.deployment_overview().await.unwrap().tenant_count, 0);
}

async fn unknown_pages_are_404(db: TestDatabase) {
    let server = TestServer::start(&db).await;

    let response = server.get("/no/such/page").await;

    assert_eq!(response.status(), 404);
    assert!(response.text().await.unwrap().contains("Page not found"));
}

async fn shutdown_lets_an_open_request_finish(db: TestDatabase) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let server = TestServer::start(&db).await;
    let address = server.address;
    // A request whose body is only half sent is in flight: the server has routed it and
    // waits for the rest of the body.
    let body = "padding=0123456789";
    let mut connection = tokio::net::TcpStream::connect(address).await.unwrap();
    let head = format!(
        "POST /api/current_operator HTTP/1.1\r\nHost: {address}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    connection.write_all(head.as_bytes()).await.unwrap();
    connection.write_all(&body.as_bytes()[..8]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;

    let stopping = tokio::spawn(server.shut_down());
    tokio::time::sleep(Duration::from_millis(200)).await;
    connection.write_all(&body.as_bytes()[8..]).await.unwrap();
    let mut response = String::new();
    connection.read_to_string(&mut response).await.unwrap();

    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    stopping.await.unwrap().unwrap();
    assert!(tokio::net::TcpStream::connect(address).await.is_err(), "the listener is still open");
}

/// A directory fed by `idp` in tenant `slug` (made if missing) and a token `request`ed for
/// it, made through the use cases `server admin create-directory` calls: what most tests
/// provision into.
pub(crate) async fn provisioned(
    db: &TestDatabase,
    slug: &str,
    idp: store::IdentityProvider,
    request: service::directories::TokenRequest,
    now: chrono::DateTime<chrono::Utc>,
) -> (store::Tenant, store::Directory, service::directories::IssuedToken) {
    use service::directories::{self, NewDirectory};
    let actor = service::Actor::Cli;
    let tenant =
        directories::ensure_tenant(&db.store, &slug.parse().unwrap(), &actor, &service::Effects::stopped_at(now))
            .await
            .unwrap();
    let new = NewDirectory { idp, settings: Default::default(), first_token: None };
    let (directory, _) =
        directories::add_directory(&db.store, tenant.id, new, None, &actor, &service::Effects::stopped_at(now))
            .await
            .unwrap();
    let token = directories::issue_token(
        &db.store,
        tenant.id,
        directory.id,
        request,
        &actor,
        &service::Effects::stopped_at(now),
    )
    .await
    .unwrap();
    (tenant, directory, token.unwrap())
}
