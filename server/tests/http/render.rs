//! Every portal page renders whole, however many render at once, and a page that panics is
//! answered with an error page, logged with its request id and counted.
//!
//! These run the real `server` binary (its own multi-threaded runtime, as deployed) with its
//! log written to a file, because a panic in one of Leptos's spawned render tasks shows
//! nowhere but in the log: the concurrency test fails on any panic line in it.

use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::time::Duration;

use futures_util::StreamExt as _;
use store::backend_tests;
use store::testing::TestDatabase;

// 3,800 renders by a debug build take most of a minute when both backends' stories run at
// once on two cores (a fresh-clone CI run at a37bd14 went past 60 s on both): the limit is
// for a hang, not for the work.
backend_tests!(limit_seconds = 240; every_portal_page_renders_whole_when_many_render_at_once);
backend_tests!(a_page_that_panics_is_answered_500_logged_and_counted);

const OPERATOR_EMAIL: &str = "ops@vendor.example";
const OPERATOR_PASSWORD: &str = "a long enough password";
/// Renders in flight at once: well above the server's two worker threads.
const IN_FLIGHT: usize = 24;
/// Each page is rendered this many times.
const ROUNDS: usize = 40;
/// And the tenant page this many more. Before the fix, 4,000 renders of it logged the
/// panic in 8 of 20 runs, and every run of the whole list had pages that stopped at their
/// fallback.
const TENANT_PAGE_RENDERS: usize = 3000;

/// A `server` process on its own port whose log goes to a file; killed when dropped.
struct LoggedProcess {
    child: Child,
    base: String,
    log: PathBuf,
    _dir: TempDir,
}

impl Drop for LoggedProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl LoggedProcess {
    async fn start(db: &TestDatabase) -> Self {
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
        let dir = TempDir::new();
        let log = dir.0.join("server.log");
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = crate::server_binary()
            .env("DATABASE_URL", db.url.as_str())
            .env("BIND_ADDR", format!("127.0.0.1:{port}"))
            .env("PUBLIC_URL", format!("http://127.0.0.1:{port}"))
            // The default level, as deployed: errors and panics are what this reads.
            .env("RUST_LOG", "info,sqlx=warn")
            .env("LOG_FORMAT", "text")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let process = Self { child, base: format!("http://127.0.0.1:{port}"), log, _dir: dir };
        let probe = reqwest::Client::new();
        for _ in 0..400 {
            if probe.get(process.url("/readyz")).send().await.is_ok_and(|r| r.status() == 200) {
                return process;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the server process did not become ready:\n{}", process.log_text());
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The value of `portal_render_panics_total` on `/metrics`.
    async fn render_panics(&self) -> f64 {
        let text = reqwest::get(self.url("/metrics")).await.unwrap().text().await.unwrap();
        crate::metrics::value(&text, "portal_render_panics_total")
    }
}

/// A folder of its own, deleted when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        let path = std::env::temp_dir().join(format!("portal-render-{}", uuid_like()));
        std::fs::create_dir_all(&path).unwrap();
        Self(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn uuid_like() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!("{}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed))
}

/// A browser of its own: cookies kept, HTML asked for, redirects shown rather than followed.
fn browser() -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("accept", "text/html,application/xhtml+xml,*/*;q=0.8".parse().unwrap());
    reqwest::Client::builder()
        .default_headers(headers)
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

async fn form(
    client: &reqwest::Client,
    process: &LoggedProcess,
    path: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    client.post(process.url(path)).form(fields).send().await.unwrap()
}

async fn json(
    client: &reqwest::Client,
    process: &LoggedProcess,
    path: &str,
    fields: &[(&str, &str)],
) -> serde_json::Value {
    let response =
        client.post(process.url(path)).header("accept", "application/json").form(fields).send().await.unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    assert_eq!(status, 200, "{path}: {text}");
    serde_json::from_str(&text).unwrap_or(serde_json::Value::Null)
}

/// An operator signed in, tenant `wayne` with an Okta directory started by its admin (also
/// signed in), and a few SCIM requests in its trail; returns both browsers and the
/// directory's id.
async fn populated(process: &LoggedProcess) -> (reqwest::Client, reqwest::Client, String) {
    let operator = browser();
    let signed_in =
        form(&operator, process, "/api/sign_in", &[("email", OPERATOR_EMAIL), ("password", OPERATOR_PASSWORD)]).await;
    assert!(signed_in.status().is_redirection(), "{}", signed_in.status());
    json(&operator, process, "/api/create_tenant", &[("slug", "wayne"), ("display_name", "Wayne Enterprises")]).await;
    // A role, so the wizard has its roles step (without one it is a redirect to the test step).
    let role = [("slug", "member"), ("name", "Member"), ("description", "render test"), ("precedence", "1")];
    json(&operator, process, "/api/save_deployment_role", &role).await;
    let link = json(&operator, process, "/api/create_setup_link", &[("slug", "wayne"), ("valid_days", "7")]).await;
    let secret = link.as_str().unwrap().rsplit('/').next().unwrap().to_owned();

    let admin = browser();
    let accepted = form(
        &admin,
        process,
        "/api/accept_setup_link",
        &[
            ("secret", &secret),
            ("email", "it@wayne.example"),
            ("password", "correct horse battery"),
            ("password_again", "correct horse battery"),
        ],
    )
    .await;
    assert!(accepted.status().is_redirection(), "{}", accepted.status());
    let started = form(&admin, process, "/api/start_setup", &[("idp", "okta")]).await;
    let location = started.headers()["location"].to_str().unwrap().to_owned();
    let directory = location.strip_prefix("/admin/directories/").unwrap().strip_suffix("/setup/endpoint").unwrap();
    let issued =
        json(&admin, process, "/api/issue_setup_token", &[("directory", directory), ("valid_days", "0")]).await;
    let token = issued["token"].as_str().unwrap();
    let scim = reqwest::Client::new();
    for user in ["bruce", "alfred"] {
        let created = scim
            .post(process.url(&format!("/scim/v2/{directory}/Users")))
            .bearer_auth(token)
            .header("content-type", "application/scim+json")
            .body(
                serde_json::json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": user})
                    .to_string(),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(created.status(), 201);
    }
    // A failure for the support console and the dashboard.
    let refused =
        scim.get(process.url(&format!("/scim/v2/{directory}/Users"))).bearer_auth("not-a-token").send().await.unwrap();
    assert_eq!(refused.status(), 401);
    (operator, admin, directory.to_owned())
}

/// Whether a server-rendered page stops short: a whole one has its closing tags (with the
/// marker comments of type-erased views, `<!>`, between them), then the serialized data
/// for hydration, which Leptos ends with its incomplete-chunks script.
fn cut_off(html: &str) -> bool {
    let closed = html
        .find("</body>")
        .is_some_and(|body| html[body + "</body>".len()..].trim_start_matches("<!>").starts_with("</html>"));
    !(closed && html.contains("__INCOMPLETE_CHUNKS=") && html.trim_end().ends_with("</script>"))
}

async fn every_portal_page_renders_whole_when_many_render_at_once(db: TestDatabase) {
    let process = LoggedProcess::start(&db).await;
    let (operator, admin, directory) = populated(&process).await;
    // Each page with a mark of its server-rendered content: a page that stopped at a
    // fallback, or was cut off, lacks it.
    let operator_pages = [
        ("/".to_owned(), "Deployment status"),
        ("/tenants".to_owned(), r#"id="tenant-table""#),
        ("/tenants/wayne".to_owned(), r#"id="show-webhooks""#),
        ("/support".to_owned(), r#"id="causes-heading""#),
        ("/team".to_owned(), r#"id="team-table""#),
        ("/api-keys".to_owned(), r#"id="keys-heading""#),
        ("/account".to_owned(), r#"id="change-password""#),
    ];
    let mut admin_pages = vec![
        ("/admin".to_owned(), r#"id="signed-in-as""#),
        ("/admin/connect".to_owned(), r#"id="choose-idp""#),
        ("/admin/audit".to_owned(), r#"id="verify-chain""#),
        ("/admin/webhooks".to_owned(), r#"id="create-webhook""#),
        (format!("/admin/directories/{directory}"), r#"id="signed-in-as""#),
        (format!("/admin/directories/{directory}/tokens"), r#"id="create-token""#),
        ("/account".to_owned(), r#"id="change-password""#),
    ];
    for step in ["provider", "endpoint", "token", "mapping", "roles", "test"] {
        admin_pages.push((format!("/admin/directories/{directory}/setup/{step}"), r#"id="signed-in-as""#));
    }
    let renders: Vec<(reqwest::Client, String, &str)> = (0..ROUNDS)
        .flat_map(|_| {
            let operator_renders = operator_pages.iter().map(|(path, mark)| (operator.clone(), path.clone(), *mark));
            let admin_renders = admin_pages.iter().map(|(path, mark)| (admin.clone(), path.clone(), *mark));
            operator_renders.chain(admin_renders).collect::<Vec<_>>()
        })
        .collect();
    // The operator console's tenant page once more, many times: its boundary is the one
    // whose walk read disposed values (the intermittent panic this test was written for).
    let renders: Vec<_> = renders
        .into_iter()
        .chain(
            (0..TENANT_PAGE_RENDERS).map(|_| (operator.clone(), "/tenants/wayne".to_owned(), r#"id="show-webhooks""#)),
        )
        .collect();
    let total = renders.len();

    let problems: Vec<String> = futures_util::stream::iter(renders)
        .map(|(client, path, mark)| {
            let url = process.url(&path);
            async move {
                let response = match client.get(url).send().await {
                    Ok(response) => response,
                    Err(error) => return Some(format!("{path}: no answer ({error})")),
                };
                let status = response.status();
                let html = match response.text().await {
                    Ok(html) => html,
                    Err(error) => return Some(format!("{path}: {status}, body cut ({error})")),
                };
                if status != 200 {
                    Some(format!("{path}: status {status}"))
                } else if cut_off(&html) {
                    Some(format!("{path}: the document is cut off after {} bytes", html.len()))
                } else if !html.contains(mark) {
                    Some(format!("{path}: rendered without {mark}"))
                } else {
                    None
                }
            }
        })
        .buffer_unordered(IN_FLIGHT)
        .filter_map(std::future::ready)
        .collect()
        .await;

    let log = process.log_text();
    let panics: Vec<&str> = log.lines().filter(|line| line.contains("panicked")).collect();
    assert!(
        panics.is_empty(),
        "{} panic lines in the server log after {total} renders:\n{}",
        panics.len(),
        panics.join("\n")
    );
    assert!(problems.is_empty(), "{} of {total} renders failed:\n{}", problems.len(), problems.join("\n"));
    assert_eq!(process.render_panics().await, 0.0);
}

async fn a_page_that_panics_is_answered_500_logged_and_counted(db: TestDatabase) {
    let process = LoggedProcess::start(&db).await;
    let visitor = browser();

    let in_the_request = visitor
        .get(process.url("/_probe/render-panic"))
        .header("x-request-id", "probe-request-1")
        .send()
        .await
        .unwrap();
    let in_a_boundary = visitor
        .get(process.url("/_probe/boundary-panic"))
        .header("x-request-id", "probe-request-2")
        .send()
        .await
        .unwrap();
    let unknown_probe = visitor.get(process.url("/_probe/nothing")).send().await.unwrap();

    for (response, request_id) in [(in_the_request, "probe-request-1"), (in_a_boundary, "probe-request-2")] {
        assert_eq!(response.status(), 500);
        assert_eq!(response.headers()["x-request-id"], request_id);
        let html = response.text().await.unwrap();
        assert!(html.contains("Something went wrong on our side"), "{html}");
        assert!(html.contains(request_id), "the error page names its reference: {html}");
        assert!(html.trim_end().ends_with("</html>"), "{html}");
    }
    assert_eq!(unknown_probe.status(), 404);
    assert_eq!(process.render_panics().await, 2.0);
    let log = process.log_text();
    for (request_id, panic) in [
        ("probe-request-1", "probe: this page panics while it is built"),
        ("probe-request-2", "probe: this boundary panics after its resource loaded"),
    ] {
        assert!(
            log.lines().any(|line| line.contains("ERROR") && line.contains(request_id) && line.contains(panic)),
            "no error line with {request_id} and its panic in:\n{log}"
        );
    }
    // The process goes on serving.
    let after = visitor.get(process.url("/sign-in")).send().await.unwrap();
    assert_eq!(after.status(), 200);
}
