//! The customer admin's side of the portal over HTTP: setup links, the wizard's server
//! functions, the dashboard and tokens, and that an admin reaches only their own tenant.

use serde_json::Value;
use store::testing::TestDatabase;

use crate::{TestServer, client};

store::backend_tests!(
    a_setup_link_makes_one_admin_who_lands_on_their_home,
    expired_unknown_and_used_setup_links_are_refused,
    an_admin_connects_an_okta_directory_through_every_wizard_step,
    the_self_test_provisions_the_way_entra_does_and_completes_setup,
    token_rotation_keeps_the_old_token_working_until_the_overlap_ends,
    an_admin_reaches_only_their_own_tenant,
    the_cli_prints_a_setup_link_that_opens_the_portal,
    an_operator_grants_the_support_role_which_can_look_but_not_change,
    the_request_stream_pushes_each_scim_request_to_the_admin_only,
    the_audit_page_filters_pages_exports_and_retains_the_admins_trail,
    the_token_step_shows_connected_only_after_an_authenticated_success,
    a_page_renders_whole_while_another_app_of_the_process_is_being_built,
    a_cross_site_post_is_refused_and_changes_nothing,
    five_wrong_guesses_from_one_address_do_not_lock_the_owner_out,
    a_live_stream_ends_with_its_session_and_an_admin_holds_four_at_most,
    a_tenant_gets_no_more_directories_than_the_deployment_allows,
    every_answer_carries_the_browser_security_headers,
    a_pages_scripts_run_only_with_its_own_nonce,
);

fn now() -> chrono::DateTime<chrono::Utc> {
    #[allow(clippy::disallowed_methods)] // the server reads the real clock too
    chrono::Utc::now()
}

/// A browser of its own (its own cookies) on the test server.
pub(crate) struct Visitor<'a> {
    server: &'a TestServer,
    client: reqwest::Client,
}

impl<'a> Visitor<'a> {
    pub(crate) fn new(server: &'a TestServer) -> Self {
        Self { server, client: client() }
    }

    /// This visitor's browser, for requests the helpers here do not make.
    pub(crate) fn client(&self) -> &reqwest::Client {
        &self.client
    }

    pub(crate) async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.client.post(self.server.url(path)).form(form).send().await.unwrap()
    }

    pub(crate) async fn call(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.client.post(self.server.url(path)).header("accept", "application/json").form(form).send().await.unwrap()
    }

    pub(crate) async fn json(&self, path: &str, form: &[(&str, &str)]) -> Value {
        let response = self.call(path, form).await;
        let status = response.status();
        let text = response.text().await.unwrap();
        assert_eq!(status, 200, "{path}: {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    /// A POST with this visitor's cookies that asks for a JSON answer, for a server
    /// function that takes JSON.
    pub(crate) fn json_request(&self, path: &str) -> reqwest::RequestBuilder {
        self.client.post(self.server.url(path)).header("accept", "application/json")
    }

    pub(crate) async fn get(&self, path: &str) -> reqwest::Response {
        self.get_request(path).send().await.unwrap()
    }

    /// Accepts a setup link with the form a browser without JavaScript posts (the same
    /// password twice); the answer redirects where the new admin lands.
    pub(crate) async fn accept_setup_link(&self, secret: &str, email: &str, password: &str) -> reqwest::Response {
        self.post_form(
            "/api/accept_setup_link",
            &[("secret", secret), ("email", email), ("password", password), ("password_again", password)],
        )
        .await
    }

    /// A GET with this visitor's cookies, for a test to add headers to.
    pub(crate) fn get_request(&self, path: &str) -> reqwest::RequestBuilder {
        self.client.get(self.server.url(path))
    }
}

/// The operator makes tenant `slug` and a setup link for it; returns the link's secret.
async fn tenant_with_setup_link(server: &TestServer, slug: &str) -> String {
    server.sign_in().await;
    server.call("/api/create_tenant", &[("slug", slug), ("display_name", &format!("{slug} Inc"))]).await;
    let link = server.call("/api/create_setup_link", &[("slug", slug), ("valid_days", "7")]).await;
    assert_eq!(link.status(), 200);
    let url: String = link.json().await.unwrap();
    assert!(url.starts_with(&server.url("/setup/setup_")), "{url}");
    url.rsplit('/').next().unwrap().to_owned()
}

/// A visitor who accepted a setup link of a new tenant `slug` as `email`.
pub(crate) async fn admin_of<'a>(server: &'a TestServer, slug: &str, email: &str) -> Visitor<'a> {
    let secret = tenant_with_setup_link(server, slug).await;
    let admin = Visitor::new(server);
    let accepted = admin.accept_setup_link(&secret, email, "correct horse battery").await;
    assert!(accepted.status().is_redirection(), "{}", accepted.status());
    // A new tenant has no directory yet: the admin lands in the setup wizard the link promised.
    assert_eq!(accepted.headers()["location"], "/admin/connect");
    admin
}

/// The operator confirms an admin's email (these deployments send no mail), which makes it
/// the admin's sign-in name.
pub(crate) async fn confirm_email_by_operator(server: &TestServer, slug: &str, email: &str) {
    let admins = server.json_call("/api/tenant_admins", &[("tenant", slug)]).await;
    let id =
        admins.as_array().unwrap().iter().find(|a| a["email"] == email).unwrap()["id"].as_str().unwrap().to_owned();
    let confirmed =
        server.call("/api/change_tenant_admin", &[("tenant", slug), ("admin", &id), ("change", "confirm-email")]).await;
    assert!(confirmed.status().is_success(), "{}", confirmed.status());
}

/// The admin starts the wizard for `idp`; returns the new directory's id.
pub(crate) async fn start_directory(admin: &Visitor<'_>, idp: &str) -> String {
    let started = admin.post_form("/api/start_setup", &[("idp", idp)]).await;
    assert!(started.status().is_redirection(), "{}", started.status());
    let location = started.headers()["location"].to_str().unwrap().to_owned();
    let directory = location.strip_prefix("/admin/directories/").unwrap().strip_suffix("/setup/endpoint").unwrap();
    directory.to_owned()
}

async fn a_setup_link_makes_one_admin_who_lands_on_their_home(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let secret = tenant_with_setup_link(&server, "acme").await;
    let visitor = Visitor::new(&server);

    let page = visitor.get(&format!("/setup/{secret}")).await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("Connect acme Inc"), "{html}");
    assert!(html.contains(r#"name="referrer" content="no-referrer""#), "the secret could leak as a referrer");
    let mismatch = visitor
        .call(
            "/api/accept_setup_link",
            &[
                ("secret", &secret),
                ("email", "it@acme.example"),
                ("password", "correct horse battery"),
                ("password_again", "correct horse batterY"),
            ],
        )
        .await;
    assert_eq!(mismatch.status(), 422);
    let short = visitor
        .call(
            "/api/accept_setup_link",
            &[("secret", &secret), ("email", "it@acme.example"), ("password", "short"), ("password_again", "short")],
        )
        .await;
    assert_eq!(short.status(), 422);
    // The same refusal to a plain form post (the page's bundle has not arrived; the page
    // sends no Referer): back to the link's page, which says why.
    let plain = visitor
        .post_form(
            "/api/accept_setup_link",
            &[("secret", &secret), ("email", "it@acme.example"), ("password", "short"), ("password_again", "short")],
        )
        .await;
    assert_eq!(plain.status(), 302);
    let back = plain.headers()["location"].to_str().unwrap().to_owned();
    assert!(back.starts_with(&format!("/setup/{secret}?__path=")) && back.contains("&__err="), "{back}");
    let page = visitor.get(&back).await.text().await.unwrap();
    assert!(page.contains("must be at least 12 characters"), "{page}");
    let accepted = visitor.accept_setup_link(&secret, "IT@acme.example", "correct horse battery").await;
    assert!(accepted.status().is_redirection());
    assert_eq!(accepted.headers()["location"], "/admin/connect");

    let home = visitor.json("/api/admin_home", &[]).await;
    assert_eq!(home["tenant_name"], "acme Inc");
    assert_eq!(home["email"], "it@acme.example");
    assert_eq!(home["admins"], serde_json::json!(["it@acme.example"]));
    assert_eq!(visitor.get("/admin").await.status(), 200);
    let operator_page = visitor.get("/tenants").await;
    assert!(operator_page.status().is_redirection(), "an admin opened the operator console");
    // Used up: a second visit is refused, whoever makes it.
    let again = Visitor::new(&server)
        .call(
            "/api/accept_setup_link",
            &[
                ("secret", &secret),
                ("email", "other@acme.example"),
                ("password", "correct horse battery"),
                ("password_again", "correct horse battery"),
            ],
        )
        .await;
    assert_eq!(again.status(), 410);
    assert!(again.text().await.unwrap().contains("used already"));
    // The email is not a sign-in name until it is confirmed; this deployment sends no
    // mail, so the operator confirms it. Then the admin signs in with the operators' form.
    let later = Visitor::new(&server);
    let credentials = [("email", "it@acme.example"), ("password", "correct horse battery")];
    assert_eq!(later.call("/api/sign_in", &credentials).await.status(), 401);
    confirm_email_by_operator(&server, "acme", "it@acme.example").await;
    let signed_in = later.post_form("/api/sign_in", &credentials).await;
    // Still no directory: back into the wizard.
    assert_eq!(signed_in.headers()["location"], "/admin/connect");
    let tenant = db.store.tenant_by_slug(&"acme".parse().unwrap()).await.unwrap().unwrap();
    let actions: Vec<String> =
        db.store.tenant(tenant.id).audit_records(0, 100).await.unwrap().into_iter().map(|r| r.action).collect();
    assert_eq!(actions, ["tenant.created", "setup_link.created", "admin.created", "admin.email_confirmed"]);
}

async fn expired_unknown_and_used_setup_links_are_refused(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    server.sign_in().await;
    server.call("/api/create_tenant", &[("slug", "acme"), ("display_name", "Acme")]).await;
    let tenant = db.store.tenant_by_slug(&"acme".parse().unwrap()).await.unwrap().unwrap();
    let long_ago = now() - chrono::Duration::days(8);
    let expired = service::admins::create_setup_link(
        &db.store,
        tenant.id,
        &service::Actor::Cli,
        chrono::Duration::days(7),
        &service::Effects::stopped_at(long_ago),
    )
    .await
    .unwrap();
    let visitor = Visitor::new(&server);
    let form = |secret: &str| {
        [
            ("secret", secret.to_owned()),
            ("email", "it@acme.example".to_owned()),
            ("password", "correct horse battery".to_owned()),
            ("password_again", "correct horse battery".to_owned()),
        ]
    };

    let refused =
        visitor.call("/api/accept_setup_link", &form(&expired.secret).each_ref().map(|(k, v)| (*k, v.as_str()))).await;
    assert_eq!(refused.status(), 410);
    assert!(refused.text().await.unwrap().contains("expired"));
    let unknown =
        visitor.call("/api/accept_setup_link", &form("setup_nope").each_ref().map(|(k, v)| (*k, v.as_str()))).await;
    assert_eq!(unknown.status(), 404);
    let page = visitor.get(&format!("/setup/{}", expired.secret)).await;
    let (status, html) = (page.status(), page.text().await.unwrap());
    assert_eq!(status, 410, "the page answers with its server function's status: {html}");
    assert!(html.contains("This link cannot be used"));
    assert_eq!(visitor.get("/setup/setup_nope").await.status(), 404);
    assert!(db.store.tenant(tenant.id).tenant_admins().await.unwrap().is_empty());
    let too_long = server.call("/api/create_setup_link", &[("slug", "acme"), ("valid_days", "90")]).await;
    assert_eq!(too_long.status(), 422);
    // An operator's email cannot become an admin's sign-in name: the account is made (its
    // maker learns nothing about who has the address) but cannot be confirmed.
    let fresh = server.call("/api/create_setup_link", &[("slug", "acme"), ("valid_days", "1")]).await;
    let url: String = fresh.json().await.unwrap();
    let secret = url.rsplit('/').next().unwrap();
    let taken = visitor
        .call(
            "/api/accept_setup_link",
            &[
                ("secret", secret),
                ("email", crate::OPERATOR_EMAIL),
                ("password", "correct horse battery"),
                ("password_again", "correct horse battery"),
            ],
        )
        .await;
    assert!(taken.status().is_success(), "{}", taken.status());
    let admins = server.json_call("/api/tenant_admins", &[("tenant", "acme")]).await;
    let id = admins[0]["id"].as_str().unwrap();
    let confirm = [("tenant", "acme"), ("admin", id), ("change", "confirm-email")];
    let refused = server.call("/api/change_tenant_admin", &confirm).await;
    assert_eq!(refused.status(), 409);
    assert!(refused.text().await.unwrap().contains("already the sign-in name of another account"));
    let operator = Visitor::new(&server);
    let signed_in = operator
        .post_form("/api/sign_in", &[("email", crate::OPERATOR_EMAIL), ("password", crate::OPERATOR_PASSWORD)])
        .await;
    assert_eq!(signed_in.headers()["location"], "/tenants", "the address still signs the operator in");
}

async fn an_admin_connects_an_okta_directory_through_every_wizard_step(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let admin = admin_of(&server, "acme", "it@acme.example").await;

    let directory = start_directory(&admin, "okta").await;
    let state = admin.json("/api/wizard_state", &[("directory", &directory), ("step", "endpoint")]).await;
    assert_eq!(state["idp"], "okta");
    assert_eq!(state["scim_base_url"], server.url(&format!("/scim/v2/{directory}")));
    let issued = admin.json("/api/issue_setup_token", &[("directory", &directory), ("valid_days", "90")]).await;
    let token = issued["token"].as_str().unwrap().to_owned();
    let feed = admin.json("/api/sync_feed", &[("directory", &directory), ("after", "0")]).await;
    assert_eq!(feed["requests"], serde_json::json!([]));
    assert_eq!(feed["completed"], false);

    // Okta, with the token shown in the page, creates a user with an attribute no schema defines.
    let scim = reqwest::Client::new();
    let created = scim
        .post(server.url(&format!("/scim/v2/{directory}/Users")))
        .bearer_auth(&token)
        .json(&serde_json::json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "ada@acme.example",
            "name": {"givenName": "Ada", "familyName": "Lovelace"}, "active": true, "costCenter": "R&D"
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let conflict = scim
        .post(server.url(&format!("/scim/v2/{directory}/Users")))
        .bearer_auth(&token)
        .json(&serde_json::json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "ADA@acme.example"}))
        .send()
        .await
        .unwrap();
    assert_eq!(conflict.status(), 409);
    server.audit.flush().await;

    let feed = admin.json("/api/sync_feed", &[("directory", &directory), ("after", "0")]).await;
    let requests = feed["requests"].as_array().unwrap();
    assert_eq!(requests.len(), 2, "{feed}");
    assert_eq!((requests[0]["status"].as_i64(), requests[0]["ok"].as_bool()), (Some(409), Some(false)));
    assert!(requests[0]["cause"].as_str().unwrap().starts_with("Uniqueness conflict"), "{feed}");
    assert_eq!((requests[1]["method"].as_str(), requests[1]["status"].as_i64()), (Some("POST"), Some(201)));
    assert_eq!(feed["completed"], true, "the IdP's first provisioning completes setup");

    let mapping = admin.json("/api/load_mapping", &[("directory", &directory)]).await;
    assert_eq!(mapping["rows"][0]["source"], "user.login");
    assert_eq!(mapping["unmapped"], serde_json::json!(["costCenter"]));
    assert!(mapping["preview"].as_str().unwrap().contains("ada.lovelace@example.com"));
    let rows = mapping["rows"].as_array().unwrap();
    let mut form: Vec<(String, String)> = vec![("directory".into(), directory.clone())];
    for (index, row) in rows.iter().enumerate() {
        form.push((format!("attributes[{index}]"), row["attribute"].as_str().unwrap().to_owned()));
        let source = if index == 0 { String::new() } else { row["source"].as_str().unwrap().to_owned() };
        form.push((format!("sources[{index}]"), source));
    }
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let missing = admin.call("/api/save_mapping", &pairs).await;
    assert_eq!(missing.status(), 422);
    assert!(missing.text().await.unwrap().contains("User name is required"));
    form[2].1 = "user.email".to_owned();
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    admin.json("/api/save_mapping", &pairs).await;
    let mapping = admin.json("/api/load_mapping", &[("directory", &directory)]).await;
    assert_eq!(
        (mapping["confirmed"].as_bool(), mapping["rows"][0]["source"].as_str()),
        (Some(true), Some("user.email"))
    );

    let report = admin.json("/api/run_self_test", &[("directory", &directory)]).await;
    assert_eq!(report["passed"], true, "{report:#}");
    let names: Vec<&str> = report["steps"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names.len(), 10, "{names:?}");

    let users = admin
        .json(
            "/api/directory_resources",
            &[("directory", &directory), ("kind", "users"), ("search", "ada"), ("start", "1")],
        )
        .await;
    assert_eq!(users["total"], 1);
    assert_eq!(users["rows"][0]["name"], "ada@acme.example");
    assert_eq!(users["rows"][0]["secondary"], "");
    let dashboard = admin.json("/api/directory_dashboard", &[("directory", &directory)]).await;
    assert_eq!(dashboard["completed"], true);
    assert!(dashboard["requests_24h"].as_i64().unwrap() >= 2);
    assert!(dashboard["failures_24h"].as_i64().unwrap() >= 1);
    let tokens = admin.json("/api/list_tokens", &[("directory", &directory)]).await;
    let labels: Vec<&str> = tokens.as_array().unwrap().iter().map(|t| t["label"].as_str().unwrap()).collect();
    assert!(labels.contains(&"Setup self-test"), "{labels:?}");
    let self_test = tokens.as_array().unwrap().iter().find(|t| t["label"] == "Setup self-test").unwrap();
    assert_eq!(self_test["status"], "revoked", "the self-test's token outlived it");
    let home = admin.json("/api/admin_home", &[]).await;
    assert_eq!(home["directories"][0]["completed"], true);
    // The page itself loads its data in the browser (see app/src/wizard.rs); the server
    // answers the signed-in admin with the page, and anyone else with a redirect.
    let page = admin.get(&format!("/admin/directories/{directory}/setup/token")).await;
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("/pkg/portal.js"));
    let stranger = Visitor::new(&server).get(&format!("/admin/directories/{directory}/setup/token")).await;
    assert_eq!(stranger.headers()["location"], "/sign-in");
}

async fn the_self_test_provisions_the_way_entra_does_and_completes_setup(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let admin = admin_of(&server, "globex", "it@globex.example").await;
    let directory = start_directory(&admin, "entra").await;

    let report = admin.json("/api/run_self_test", &[("directory", &directory)]).await;

    assert_eq!(report["passed"], true, "{report:#}");
    let requests: Vec<&str> =
        report["steps"].as_array().unwrap().iter().map(|s| s["request"].as_str().unwrap()).collect();
    let expected = [
        "POST /Users",
        "GET /Users",
        "PATCH /Users/",
        "POST /Groups",
        "PATCH /Groups/",
        "GET /Groups/",
        "PATCH /Users/",
        "DELETE /Groups/",
        "DELETE /Users/",
        "GET /Users/",
    ];
    assert_eq!(requests.len(), expected.len(), "{requests:?}");
    for (request, prefix) in requests.iter().zip(expected) {
        assert!(request.starts_with(prefix), "{request} is not {prefix}…");
    }
    let state = admin.json("/api/wizard_state", &[("directory", &directory), ("step", "test")]).await;
    assert_eq!(state["completed"], true);
    // What it made is gone again.
    let users = admin
        .json(
            "/api/directory_resources",
            &[("directory", &directory), ("kind", "users"), ("search", ""), ("start", "1")],
        )
        .await;
    assert_eq!(users["total"], 0);
}

async fn token_rotation_keeps_the_old_token_working_until_the_overlap_ends(db: TestDatabase) {
    let clock = std::sync::Arc::new(service::clock::ManualClock::starting_at(now()));
    let server = TestServer::start_with_clock(&db, &[], clock.clone()).await;
    let admin = admin_of(&server, "acme", "it@acme.example").await;
    let directory = start_directory(&admin, "okta").await;
    let created = admin
        .json(
            "/api/create_directory_token",
            &[("directory", &directory), ("label", "Okta production"), ("valid_days", "0")],
        )
        .await;
    let old_secret = created["token"].as_str().unwrap().to_owned();
    let tokens = admin.json("/api/list_tokens", &[("directory", &directory)]).await;
    let old_id = tokens[0]["id"].as_str().unwrap().to_owned();

    let rotated = admin
        .json("/api/rotate_token", &[("directory", &directory), ("token", &old_id), ("overlap_minutes", "60")])
        .await;

    let new_secret = rotated["token"].as_str().unwrap();
    assert!(rotated["old_token_until"].as_str().unwrap().ends_with("UTC"));
    let listed = admin.json("/api/list_tokens", &[("directory", &directory)]).await;
    let renamed = listed.as_array().unwrap().iter().find(|t| t["id"] != old_id.as_str()).unwrap()["label"].clone();
    let day = service::Clock::now(&*clock).format("%-d %b").to_string();
    assert_eq!(renamed, format!("Rotated from ‘Okta production’ on {day}").as_str(), "the rotated token's name");
    // What the identity provider sees, with the server's clock moved on instead of waited for.
    let users = server.url(&format!("/scim/v2/{directory}/Users"));
    let works = |secret: String| {
        let users = users.clone();
        async move { reqwest::Client::new().get(users).bearer_auth(secret).send().await.unwrap().status() == 200 }
    };
    let old_status = || async {
        let tokens = admin.json("/api/list_tokens", &[("directory", &directory)]).await;
        let old = tokens.as_array().unwrap().iter().find(|t| t["id"] == old_id.as_str()).unwrap().clone();
        (old["status"].as_str().unwrap().to_owned(), tokens)
    };
    assert!(works(old_secret.clone()).await, "the old token stopped at once");
    assert_eq!(old_status().await.0, "expiring");
    clock.advance(chrono::Duration::minutes(59));
    assert!(works(old_secret.clone()).await, "the old token stopped inside the overlap");
    clock.advance(chrono::Duration::minutes(2));
    assert!(!works(old_secret.clone()).await, "the old token outlived the overlap");
    assert!(works(new_secret.to_owned()).await);
    let (status, tokens) = old_status().await;
    assert_eq!(status, "expired");
    // Revoking ends a token at once.
    let new_id = tokens.as_array().unwrap().iter().find(|t| t["id"] != old_id.as_str()).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    admin.json("/api/revoke_directory_token", &[("directory", &directory), ("token", &new_id)]).await;
    assert!(!works(new_secret.to_owned()).await);
}

async fn an_admin_reaches_only_their_own_tenant(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let acme = admin_of(&server, "acme", "it@acme.example").await;
    let globex = admin_of(&server, "globex", "it@globex.example").await;
    let theirs = start_directory(&globex, "okta").await;
    let created = globex
        .json("/api/create_directory_token", &[("directory", &theirs), ("label", "Okta"), ("valid_days", "0")])
        .await;
    assert!(created["token"].is_string());
    let token = globex.json("/api/list_tokens", &[("directory", &theirs)]).await[0]["id"].as_str().unwrap().to_owned();
    let signed_out = Visitor::new(&server);

    let calls: Vec<(&str, Vec<(&str, &str)>)> = vec![
        ("/api/wizard_state", vec![("directory", &theirs), ("step", "endpoint")]),
        ("/api/change_provider", vec![("directory", &theirs), ("idp", "entra")]),
        ("/api/issue_setup_token", vec![("directory", &theirs), ("valid_days", "0")]),
        ("/api/issue_setup_client", vec![("directory", &theirs)]),
        ("/api/sync_feed", vec![("directory", &theirs), ("after", "0")]),
        ("/api/load_mapping", vec![("directory", &theirs)]),
        ("/api/save_mapping", vec![("directory", &theirs), ("attributes[0]", "userName"), ("sources[0]", "login")]),
        ("/api/run_self_test", vec![("directory", &theirs)]),
        ("/api/directory_dashboard", vec![("directory", &theirs)]),
        ("/api/directory_resources", vec![("directory", &theirs), ("kind", "users"), ("search", ""), ("start", "1")]),
        ("/api/list_tokens", vec![("directory", &theirs)]),
        ("/api/create_directory_token", vec![("directory", &theirs), ("label", "x"), ("valid_days", "0")]),
        ("/api/rotate_token", vec![("directory", &theirs), ("token", &token), ("overlap_minutes", "0")]),
        ("/api/revoke_directory_token", vec![("directory", &theirs), ("token", &token)]),
    ];
    for (function, form) in &calls {
        let response = acme.call(function, form).await;
        assert_eq!(response.status(), 404, "{function} reached another tenant's directory");
        let operator = server.call(function, form).await;
        assert_eq!(operator.status(), 401, "{function} answered an operator");
        assert_eq!(signed_out.call(function, form).await.status(), 401, "{function} answered a stranger");
    }
    for (function, form) in [
        ("/api/admin_home", vec![]),
        ("/api/invite_admin", vec![("valid_days", "7")]),
        ("/api/start_setup", vec![("idp", "okta")]),
        ("/api/audit_records", vec![("filters[since]", "")]),
        ("/api/verify_audit_trail", vec![]),
        ("/api/audit_retention", vec![]),
        ("/api/set_audit_retention", vec![("days", "1")]),
    ] {
        assert_eq!(signed_out.call(function, &form).await.status(), 401, "{function}");
        assert_eq!(server.call(function, &form).await.status(), 401, "{function} answered an operator");
    }
    for (function, form) in
        [("/api/list_tenants", vec![]), ("/api/create_tenant", vec![("slug", "evil"), ("display_name", "Evil")])]
    {
        assert_eq!(acme.call(function, &form).await.status(), 401, "{function} answered a tenant admin");
    }

    // Nothing of theirs changed: still one token, still Okta, still not set up.
    let tokens = globex.json("/api/list_tokens", &[("directory", &theirs)]).await;
    assert_eq!(tokens.as_array().unwrap().len(), 1);
    assert_eq!(tokens[0]["status"], "active");
    let state = globex.json("/api/wizard_state", &[("directory", &theirs), ("step", "endpoint")]).await;
    assert_eq!((state["idp"].as_str(), state["completed"].as_bool()), (Some("okta"), Some(false)));
    let home = acme.json("/api/admin_home", &[]).await;
    assert_eq!(home["directories"], serde_json::json!([]));
}

async fn the_cli_prints_a_setup_link_that_opens_the_portal(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    server.sign_in().await;
    server.call("/api/create_tenant", &[("slug", "acme"), ("display_name", "Acme")]).await;

    let output = crate::server_binary()
        .args(["admin", "create-setup-link", "--tenant", "acme", "--valid-days", "2", "--json"])
        .env("DATABASE_URL", db.url.as_str())
        .env("PUBLIC_URL", server.url(""))
        .output()
        .unwrap();

    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let printed: Value = serde_json::from_slice(&output.stdout).expect("stdout is one JSON object");
    let url = printed["url"].as_str().unwrap();
    assert!(url.starts_with(&server.url("/setup/setup_")), "{url}");
    let page = Visitor::new(&server).get(url.strip_prefix(&server.url("")).unwrap()).await;
    assert!(page.text().await.unwrap().contains("Connect Acme"));
    let unknown = crate::server_binary()
        .args(["admin", "create-setup-link", "--tenant", "globex"])
        .env("DATABASE_URL", db.url.as_str())
        .output()
        .unwrap();
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("there is no tenant globex"));
}

async fn an_operator_grants_the_support_role_which_can_look_but_not_change(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    server.sign_in().await;

    let added = server.json_call("/api/add_operator", &[("email", "Help@Vendor.example"), ("role", "support")]).await;
    let again = server.call("/api/add_operator", &[("email", "help@vendor.example"), ("role", "operator")]).await;
    let bad_role = server.call("/api/add_operator", &[("email", "x@vendor.example"), ("role", "admin")]).await;

    assert_eq!((added["email"].as_str(), added["role"].as_str()), (Some("help@vendor.example"), Some("support")));
    assert_eq!(again.status(), 409);
    assert_eq!(bad_role.status(), 422);
    let password = added["password"].as_str().unwrap();
    let support = Visitor::new(&server);
    let signed_in =
        support.post_form("/api/sign_in", &[("email", "help@vendor.example"), ("password", password)]).await;
    assert_eq!(signed_in.headers()["location"], "/tenants");
    assert_eq!(support.call("/api/list_tenants", &[]).await.status(), 200);
    assert_eq!(support.call("/api/list_operators", &[]).await.status(), 200);
    assert_eq!(support.call("/api/create_tenant", &[("slug", "acme"), ("display_name", "Acme")]).await.status(), 403);
    assert_eq!(
        support.call("/api/add_operator", &[("email", "y@vendor.example"), ("role", "operator")]).await.status(),
        403
    );
    assert_eq!(support.call("/api/create_setup_link", &[("slug", "acme"), ("valid_days", "7")]).await.status(), 403);
    let team = server.json_call("/api/list_operators", &[]).await;
    let roles: Vec<&str> = team.as_array().unwrap().iter().map(|row| row["role"].as_str().unwrap()).collect();
    assert_eq!(roles, ["operator", "support"]);
    // Tenant admins are not operators.
    let admin = admin_of(&server, "acme", "it@acme.example").await;
    assert_eq!(admin.call("/api/list_operators", &[]).await.status(), 401);
    // A confirmed admin's sign-in name is not an operator's too.
    confirm_email_by_operator(&server, "acme", "it@acme.example").await;
    assert_eq!(
        server.call("/api/add_operator", &[("email", "it@acme.example"), ("role", "support")]).await.status(),
        409
    );
}

async fn the_request_stream_pushes_each_scim_request_to_the_admin_only(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let admin = admin_of(&server, "acme", "it@acme.example").await;
    let directory = start_directory(&admin, "okta").await;
    let issued = admin.json("/api/issue_setup_token", &[("directory", &directory), ("valid_days", "0")]).await;
    let path = format!("/admin/directories/{directory}/requests/stream");

    let mut stream = admin.client.get(server.url(&path)).send().await.unwrap();
    assert_eq!(stream.status(), 200);
    assert_eq!(stream.headers()["content-type"], "text/event-stream");
    let created = reqwest::Client::new()
        .post(server.url(&format!("/scim/v2/{directory}/Users")))
        .bearer_auth(issued["token"].as_str().unwrap())
        .json(&serde_json::json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "ada"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let mut received = String::new();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    while !received.contains("\n\n") || !received.contains("event: request") {
        let chunk = tokio::time::timeout_at(deadline, stream.chunk()).await.expect("no event within 10 s").unwrap();
        received.push_str(&String::from_utf8_lossy(&chunk.expect("the stream ended")));
    }
    let data = received.lines().find_map(|line| line.strip_prefix("data: ")).unwrap();
    let request: Value = serde_json::from_str(data).unwrap();
    assert_eq!((request["method"].as_str(), request["status"].as_i64()), (Some("POST"), Some(201)));
    assert!(request["path"].as_str().unwrap().ends_with("/Users"));

    // Nobody else reads it: not a stranger, not another tenant's admin, not an operator.
    let stranger = Visitor::new(&server).get(&path).await;
    assert_eq!(stranger.status(), 401);
    let other = admin_of(&server, "globex", "it@globex.example").await;
    assert_eq!(other.get(&path).await.status(), 404);
    assert_eq!(server.get(&path).await.status(), 401);
}

async fn the_audit_page_filters_pages_exports_and_retains_the_admins_trail(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let admin = admin_of(&server, "acme", "it@acme.example").await;
    let directory = start_directory(&admin, "okta").await;
    let issued = admin.json("/api/issue_setup_token", &[("directory", &directory), ("valid_days", "0")]).await;
    let token = issued["token"].as_str().unwrap().to_owned();
    let scim = reqwest::Client::new();
    let users = server.url(&format!("/scim/v2/{directory}/Users"));
    let user = serde_json::json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "ada"});
    assert_eq!(scim.post(&users).bearer_auth(&token).json(&user).send().await.unwrap().status(), 201);
    assert_eq!(scim.post(&users).bearer_auth(&token).json(&user).send().await.unwrap().status(), 409);
    for _ in 0..55 {
        scim.get(&users).bearer_auth(&token).send().await.unwrap();
    }
    server.audit.flush().await;
    let tenant = db.store.tenant_by_slug(&"acme".parse().unwrap()).await.unwrap().unwrap();
    let stored = db.store.tenant(tenant.id).audit_records(0, 1000).await.unwrap().len();

    let failures = admin.json("/api/audit_records", &[("filters[outcome]", "failure")]).await;
    let first = admin.json("/api/audit_records", &[("filters[since]", "")]).await;
    let before = first["next_before"].as_i64().expect("more than one page");
    let second = admin.json("/api/audit_records", &[("filters[since]", ""), ("before", &before.to_string())]).await;
    let bad = admin.call("/api/audit_records", &[("filters[since]", "yesterday")]).await;

    assert_eq!(failures["rows"].as_array().unwrap().len(), 1, "{failures}");
    assert_eq!(failures["rows"][0]["status"], 409);
    assert!(failures["rows"][0]["detail"].as_str().unwrap().contains("uniqueness"));
    assert_eq!(first["rows"].as_array().unwrap().len(), 50);
    let seqs =
        |page: &Value| page["rows"].as_array().unwrap().iter().map(|r| r["seq"].as_i64().unwrap()).collect::<Vec<_>>();
    assert!(seqs(&first).windows(2).all(|pair| pair[0] > pair[1]), "not newest first");
    assert_eq!(seqs(&second)[0], before - 1, "the next page does not continue where the first ended");
    assert_eq!(seqs(&first).len() + seqs(&second).len(), stored);
    assert_eq!(bad.status(), 422);

    // An operation matches by its start; a user is found by userName as well as by id.
    let tokens = admin.json("/api/audit_records", &[("filters[operation]", "token")]).await;
    let actions: Vec<&str> = tokens["rows"].as_array().unwrap().iter().map(|r| r["what"].as_str().unwrap()).collect();
    assert!(!actions.is_empty() && actions.iter().all(|a| a.starts_with("token.")), "{actions:?}");
    let no_wildcards = admin.json("/api/audit_records", &[("filters[operation]", "t_ken")]).await;
    assert!(no_wildcards["rows"].as_array().unwrap().is_empty(), "an underscore is no wildcard");
    let by_name = admin.json("/api/audit_records", &[("filters[resource]", "ADA")]).await;
    let about_ada: Vec<&Value> = by_name["rows"].as_array().unwrap().iter().collect();
    assert!(!about_ada.is_empty(), "{by_name}");
    let ada_id = about_ada[0]["resource_id"].as_str().unwrap().to_owned();
    assert!(about_ada.iter().all(|r| r["resource_id"] == ada_id.as_str()));
    let by_id = admin.json("/api/audit_records", &[("filters[resource]", &ada_id)]).await;
    assert_eq!(by_id["rows"], by_name["rows"]);

    let csv = admin.get("/admin/audit/export?format=csv&outcome=failure").await;
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    let csv = csv.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 2, "{csv}");
    assert!(lines[0].starts_with("seq,occurred_at,actor,action"));
    assert!(lines[1].contains(",409,"));
    let jsonl = admin.get("/admin/audit/export").await.text().await.unwrap();
    assert_eq!(jsonl.lines().count(), stored);
    let newest: Value = serde_json::from_str(jsonl.lines().next().unwrap()).unwrap();
    assert_eq!(newest["seq"].as_i64(), Some(stored as i64));
    assert_eq!(admin.get("/admin/audit/export?format=xml").await.status(), 400);
    assert_eq!(Visitor::new(&server).get("/admin/audit/export").await.status(), 401);
    let key = crate::operator_api::api_key(&db).await;
    let api = reqwest::Client::new().get(server.url("/api/v1/tenants/acme/audit?format=jsonl&operation=POST"));
    let api = api.bearer_auth(&key).send().await.unwrap().text().await.unwrap();
    assert_eq!(api.lines().count(), 2, "{api}");
    assert_eq!(reqwest::get(server.url("/api/v1/tenants/acme/audit")).await.unwrap().status(), 401);

    // Retention: an admin cannot keep less than the deployment's minimum (90 days by
    // default), so the trail of what they did cannot be erased the next day. They keep 90;
    // 91 days later the job deletes everything older, records that it did, signs the chain
    // before and after, and the rest of the chain still verifies.
    for refused in ["0", "1", "89"] {
        let answer = admin.call("/api/set_audit_retention", &[("days", refused)]).await;
        assert_eq!(answer.status(), 422, "{refused}");
        let said = answer.text().await.unwrap();
        assert!(said.contains("at least 90 days (the deployment's minimum)"), "{said}");
    }
    assert_eq!(admin.json("/api/audit_retention", &[]).await, serde_json::json!({"days": null, "minimum": 90}));
    admin.json("/api/set_audit_retention", &[("days", "90")]).await;
    assert_eq!(admin.json("/api/audit_retention", &[]).await, serde_json::json!({"days": 90, "minimum": 90}));
    let signer = crate::audit_signer();
    let later = now() + chrono::Duration::days(91);
    let pruned = service::audit::enforce_retention(&db.store, &signer, 90, later).await.unwrap();
    assert_eq!(pruned, [(tenant.id, stored as u64 + 1)]);
    let left = admin.json("/api/audit_records", &[("filters[since]", "")]).await;
    let actions: Vec<&str> = left["rows"].as_array().unwrap().iter().map(|r| r["what"].as_str().unwrap()).collect();
    assert_eq!(actions, ["audit.retention_pruned"]);
    let verified = admin.json("/api/verify_audit_trail", &[]).await;
    let verified = verified.as_str().unwrap();
    assert!(verified.starts_with("Intact"), "{verified}");
    assert!(verified.contains("2 signed checkpoints match; the newest signed the chain up to record"), "{verified}");
}

async fn the_token_step_shows_connected_only_after_an_authenticated_success(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let admin = admin_of(&server, "globex", "it@globex.example").await;
    let first = start_directory(&admin, "okta").await;
    let first_token = admin.json("/api/issue_setup_token", &[("directory", &first), ("valid_days", "0")]).await;
    // A second directory, before any token of its own exists.
    let directory = start_directory(&admin, "entra").await;
    let users = server.url(&format!("/scim/v2/{directory}/Users"));
    let scim = reqwest::Client::new();
    let connection = || connection_shown(&server, &admin, &directory);
    assert_eq!(connection().await["state"], "waiting");

    // The other directory's token pasted here: refused, and the banner says why.
    let wrong = scim.get(&users).bearer_auth(first_token["token"].as_str().unwrap()).send().await.unwrap();
    assert_eq!(wrong.status(), 401);
    let refused = connection().await;
    assert_eq!(refused["state"], "refused", "{refused}");
    assert_eq!(
        (refused["request"]["method"].as_str(), refused["request"]["status"].as_i64()),
        (Some("GET"), Some(401))
    );
    assert_eq!(
        refused["reason"],
        "A request arrived but its token was wrong, missing, expired or revoked — paste the token shown here."
    );
    assert!(refused["detail"].as_str().unwrap().contains("does not belong to this directory"), "{refused}");
    // No token at all: refused as well, for its own reason.
    assert_eq!(scim.get(&users).send().await.unwrap().status(), 401);
    let missing = connection().await;
    assert_eq!(missing["state"], "refused", "{missing}");
    assert!(missing["detail"].as_str().unwrap().contains("no bearer token"), "{missing}");

    // The token shown on this step: accepted, and only now connected.
    let issued = admin.json("/api/issue_setup_token", &[("directory", &directory), ("valid_days", "0")]).await;
    let token = issued["token"].as_str().unwrap().to_owned();
    assert_eq!(scim.get(&users).bearer_auth(&token).send().await.unwrap().status(), 200);
    let connected = connection().await;
    assert_eq!(connected["state"], "connected", "{connected}");
    assert_eq!(
        (connected["request"]["method"].as_str(), connected["request"]["status"].as_i64()),
        (Some("GET"), Some(200))
    );
    // A request the token was good for but that failed says nothing against the connection.
    assert_eq!(scim.get(format!("{users}/no-such-user")).bearer_auth(&token).send().await.unwrap().status(), 404);
    assert_eq!(connection().await["state"], "connected");
    // A refused request after that turns it red again: the newest word on the token counts.
    assert_eq!(scim.get(&users).bearer_auth("scim_not-a-token-of-ours").send().await.unwrap().status(), 401);
    assert_eq!(connection().await["state"], "refused");
}

/// What the token step's banner shows for `directory`, once every request so far is recorded.
async fn connection_shown(server: &TestServer, admin: &Visitor<'_>, directory: &str) -> Value {
    server.audit.flush().await;
    admin.json("/api/sync_feed", &[("directory", directory), ("after", "0")]).await["connection"].clone()
}

/// Building an application lists its portal routes by running the portal once with every
/// resource load suppressed, and Leptos keeps that switch in one process-wide flag: a
/// resource first polled by another request at that moment waited forever (the page
/// timed out after 30 s, now and then, when tests started servers side by side). The list
/// is made once per process now, so building more applications freezes nothing.
async fn a_page_renders_whole_while_another_app_of_the_process_is_being_built(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let secret = tenant_with_setup_link(&server, "initech").await;
    let building = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let builder = std::thread::spawn({
        let (building, store, url) = (building.clone(), db.store.clone(), db.url.as_str().to_owned());
        move || {
            let cli =
                <server::config::Cli as clap::Parser>::try_parse_from(["server", "--database-url", &url]).unwrap();
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            let mut built = 0_u32;
            while building.load(std::sync::atomic::Ordering::Relaxed) {
                let _guard = runtime.enter();
                drop(server::http::App::new(&cli.config, store.clone()).into_router());
                built += 1;
            }
            built
        }
    });

    let visitor = Visitor::new(&server);
    for _ in 0..60 {
        let page = visitor.get_request(&format!("/setup/{secret}")).timeout(std::time::Duration::from_secs(10));
        let page = page.send().await.expect("the setup page is answered within 10 s");
        assert_eq!(page.status(), 200);
        assert!(page.text().await.unwrap().contains("Connect initech Inc"));
    }
    building.store(false, std::sync::atomic::Ordering::Relaxed);
    assert!(builder.join().unwrap() > 0, "no application was built while the pages rendered");
}

/// A page on another site posts to the portal: a sign-in (login CSRF: the victim would work
/// in the attacker's account) and an action with the victim's session. Both are refused;
/// the same requests from the portal's own pages, and from clients that are no browser,
/// pass.
async fn a_cross_site_post_is_refused_and_changes_nothing(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let credentials = [("email", crate::OPERATOR_EMAIL), ("password", crate::OPERATOR_PASSWORD)];
    let forged = [
        ("origin", "https://evil.example"),
        ("sec-fetch-site", "cross-site"),
        ("sec-fetch-site", "same-site"),
        ("origin", "null"),
    ];
    for (header, value) in forged {
        let visitor = Visitor::new(&server);
        let answer = visitor.client.post(server.url("/api/sign_in")).header(header, value).form(&credentials);
        let answer = answer.send().await.unwrap();
        assert_eq!(answer.status(), 403, "{header}: {value}");
        assert!(answer.headers().get("set-cookie").is_none(), "{header}: {value}");
        assert!(answer.text().await.unwrap().contains("came from another site"));
        assert_eq!(visitor.call("/api/list_tenants", &[]).await.status(), 401, "not signed in by {header}: {value}");
    }
    // From the portal's own page: signed in.
    let own = Visitor::new(&server);
    let signed_in = own
        .client
        .post(server.url("/api/sign_in"))
        .header("origin", server.url(""))
        .header("sec-fetch-site", "same-origin")
        .form(&credentials)
        .send()
        .await
        .unwrap();
    assert!(signed_in.status().is_redirection(), "{}", signed_in.status());
    // With that session, a forged action changes nothing.
    let forged = own
        .client
        .post(server.url("/api/create_tenant"))
        .header("accept", "application/json")
        .header("sec-fetch-site", "cross-site")
        .form(&[("slug", "evil"), ("display_name", "Evil")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    let tenants = own.json("/api/list_tenants", &[]).await;
    assert_eq!(tenants, serde_json::json!([]), "no tenant was created");
    // Reading stays open to links from elsewhere (a bookmarked or emailed link).
    let page = own.client.get(server.url("/tenants")).header("sec-fetch-site", "cross-site").send().await.unwrap();
    assert_eq!(page.status(), 200);
}

/// Sign-in throttling is per account and client address: five wrong guesses from an
/// attacker's address lock that address out of the account, not the owner elsewhere.
/// Behind a trusted proxy the address is its `X-Forwarded-For` entry; without the setting
/// the header is the client's own word and ignored (the peer address counts).
async fn five_wrong_guesses_from_one_address_do_not_lock_the_owner_out(db: TestDatabase) {
    let behind_proxy = TestServer::start_with(&db, &["--trust-forwarded-for"]).await;
    let direct = TestServer::start(&db).await;
    for server in [&behind_proxy, &direct] {
        let attempt = |password: &'static str, from: &'static str| {
            let visitor = Visitor::new(server);
            async move {
                let form = [("email", crate::OPERATOR_EMAIL), ("password", password)];
                let request = visitor.client.post(server.url("/api/sign_in")).header("accept", "application/json");
                let answer = request.header("x-forwarded-for", from).form(&form).send().await.unwrap();
                answer.status().as_u16()
            }
        };
        for _ in 0..5 {
            assert_eq!(attempt("a wrong guess", "10.9.9.9, 203.0.113.66").await, 401);
        }
        assert_eq!(attempt(crate::OPERATOR_PASSWORD, "203.0.113.66").await, 429, "the attacker's address waits");
        let owner = attempt(crate::OPERATOR_PASSWORD, "198.51.100.7").await;
        if std::ptr::eq(server, &behind_proxy) {
            assert_eq!(owner, 200, "the owner, elsewhere, signs in");
        } else {
            assert_eq!(owner, 429, "without a trusted proxy every request comes from one peer");
        }
    }
}

/// A live request stream reads its session again (every second here) and ends once the
/// session is gone; one admin holds at most four streams at once.
async fn a_live_stream_ends_with_its_session_and_an_admin_holds_four_at_most(db: TestDatabase) {
    let server = TestServer::start_with(&db, &["--live-session-recheck-seconds", "1"]).await;
    let admin = admin_of(&server, "acme", "it@acme.example").await;
    let directory = start_directory(&admin, "okta").await;
    let path = format!("/admin/directories/{directory}/requests/stream");
    let mut streams = Vec::new();
    for _ in 0..4 {
        let stream = admin.get(&path).await;
        assert_eq!(stream.status(), 200);
        streams.push(stream);
    }
    let fifth = admin.get(&path).await;
    assert_eq!(fifth.status(), 429);
    assert!(fifth.text().await.unwrap().contains("4 live views open already"));

    // Signed out (the session is deleted): every stream ends.
    assert!(admin.post_form("/api/sign_out", &[]).await.status().is_redirection());
    for mut stream in streams {
        let ended = tokio::time::timeout(std::time::Duration::from_secs(10), async {
            while let Some(_chunk) = stream.chunk().await.unwrap_or(None) {}
        })
        .await;
        assert!(ended.is_ok(), "a stream outlived its session");
    }
    // Signed in again, the places are free.
    confirm_email_by_operator(&server, "acme", "it@acme.example").await;
    let form = [("email", "it@acme.example"), ("password", "correct horse battery")];
    assert!(admin.post_form("/api/sign_in", &form).await.status().is_redirection());
    assert_eq!(admin.get(&path).await.status(), 200);
}

async fn a_tenant_gets_no_more_directories_than_the_deployment_allows(db: TestDatabase) {
    let server = TestServer::start_with(&db, &["--max-directories-per-tenant", "2"]).await;
    let admin = admin_of(&server, "acme", "it@acme.example").await;
    start_directory(&admin, "okta").await;
    start_directory(&admin, "entra").await;

    // The third, from the wizard: refused in words.
    let refused = admin.call("/api/start_setup", &[("idp", "okta")]).await;
    assert_eq!(refused.status(), 409);
    let text = refused.text().await.unwrap();
    assert!(text.contains("This organization already has 2 directories, the most this deployment allows"), "{text}");

    // From the operator API and the console too.
    let key = crate::operator_api::api_key(&db).await;
    let response = client()
        .post(server.url("/api/v1/tenants/acme/directories"))
        .bearer_auth(&key)
        .header("content-type", "application/json")
        .body(serde_json::json!({"idp": "okta"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 409);
    let problem: Value = response.json().await.unwrap();
    assert!(problem["detail"].as_str().unwrap().contains("already has 2 directories"), "{problem}");
    server.sign_in().await;
    let console = server.call("/api/add_directory", &[("slug", "acme"), ("idp", "okta")]).await;
    assert_eq!(console.status(), 409);

    // Nothing was half made: two directories, two records.
    let tenant = db.store.tenant_by_slug(&"acme".parse().unwrap()).await.unwrap().unwrap();
    assert_eq!(db.store.tenant(tenant.id).directories().await.unwrap().len(), 2);
    let trail = db.store.tenant(tenant.id).audit_records(0, 1000).await.unwrap();
    assert_eq!(trail.iter().filter(|r| r.action == "directory.created").count(), 2);
}

/// Pages, server functions, bundle files, SCIM and API answers all tell the browser not to
/// be framed, not to sniff, and not to send addresses (a setup link's is its secret) to
/// other sites; HSTS only behind https (see the unit test of `SecurityHeaders`).
async fn every_answer_carries_the_browser_security_headers(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let visitor = Visitor::new(&server);
    let answers = [
        visitor.get("/sign-in").await,
        visitor.get("/setup/setup_unknown").await,
        visitor.call("/api/current_account", &[]).await,
        visitor.get("/scim/v2/00000000-0000-0000-0000-000000000000/Users").await,
        visitor.get("/api/v1/tenants").await,
        visitor.get("/healthz").await,
    ];
    for answer in answers {
        let headers = answer.headers();
        let what = answer.url().path().to_owned();
        assert_eq!(headers["x-frame-options"], "DENY", "{what}");
        assert_eq!(headers["x-content-type-options"], "nosniff", "{what}");
        assert_eq!(headers["referrer-policy"], "same-origin", "{what}");
        let policy = headers["content-security-policy"].to_str().unwrap();
        assert!(policy.contains("frame-ancestors 'none'"), "{what}: {policy}");
        assert!(!headers.contains_key("strict-transport-security"), "{what}: no HSTS over http");
    }
}

/// A portal page runs only the scripts it wrote itself: its policy allows inline scripts
/// with this answer's nonce (and the bundle from the portal's origin), every inline script
/// Leptos wrote carries that nonce, and each answer has a nonce of its own. (The browser
/// tests fail on any console error, so a violation in Chromium fails them too.)
async fn a_pages_scripts_run_only_with_its_own_nonce(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let visitor = Visitor::new(&server);
    let mut nonces = Vec::new();
    for path in ["/sign-in", "/sign-in", "/no-such-page"] {
        let answer = visitor.get(path).await;
        let policy = answer.headers()["content-security-policy"].to_str().unwrap().to_owned();
        let nonce = policy
            .split("'nonce-")
            .nth(1)
            .and_then(|rest| rest.split('\'').next())
            .unwrap_or_else(|| panic!("{path}: no nonce in {policy}"))
            .to_owned();
        assert!(policy.contains("script-src 'self' 'nonce-"), "{path}: {policy}");
        let script_src = policy.split(';').find(|d| d.trim().starts_with("script-src")).unwrap();
        assert!(
            !script_src.contains("'unsafe-inline'") && !script_src.contains("'unsafe-eval'"),
            "{path}: {script_src}"
        );
        assert!(policy.contains("frame-ancestors 'none'"), "{path}: {policy}");
        let page = answer.text().await.unwrap();
        let scripts: Vec<&str> = page.split("<script").skip(1).collect();
        assert!(!scripts.is_empty(), "{path}: the page has its hydration script");
        for script in scripts {
            let tag = &script[..script.find('>').unwrap()];
            assert!(tag.contains(&format!("nonce=\"{nonce}\"")), "{path}: a script without the nonce: <script{tag}>");
        }
        nonces.push(nonce);
    }
    nonces.sort();
    nonces.dedup();
    assert_eq!(nonces.len(), 3, "every answer has a nonce of its own");
    // Answers that are not pages run no script at all.
    let json = visitor.call("/api/current_account", &[]).await;
    assert!(json.headers()["content-security-policy"].to_str().unwrap().contains("script-src 'none'"));
}
