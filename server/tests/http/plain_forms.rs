//! Pages whose forms are plain HTML forms (the portal's move to islands, issue 21): a post
//! reloads the page with its outcome, so the page works the same with or without the
//! bundle. Here every post is made the way a browser without the bundle makes it (the
//! form's fields, `Accept: text/html`, the page's address as `Referer`), and what the
//! browser is sent back to is read as the page it renders.

use store::IdentityProvider;
use store::testing::TestDatabase;

use crate::TestServer;
use crate::onboarding::{admin_of, start_directory};

store::backend_tests!(
    the_tokens_page_issues_rotates_and_revokes_as_plain_forms_and_shows_a_secret_once,
    an_oauth_client_is_rotated_ended_and_revoked_as_plain_forms,
    the_api_keys_page_issues_and_revokes_as_plain_forms_and_shows_a_key_once,
    the_admin_home_invites_withdraws_disables_and_removes_as_plain_forms,
    the_team_page_adds_disables_and_removes_operators_as_plain_forms,
    the_roles_page_adds_changes_and_deletes_roles_as_plain_forms,
    a_refused_branding_comes_back_with_what_was_typed,
    the_console_tenant_pages_work_as_plain_forms,
    an_admin_deletes_a_directory_as_a_plain_form_and_lands_on_their_home,
    webhooks_are_registered_and_their_logs_read_as_plain_pages,
    a_refused_sign_in_comes_back_with_the_email_and_never_the_password,
    the_account_and_status_pages_work_as_plain_forms,
    the_dashboard_pages_searches_and_saves_its_settings_as_plain_forms,
    a_user_is_suspended_and_lifted_as_plain_forms,
    the_safety_brake_is_set_and_a_held_batch_released_as_plain_forms,
    the_offboarding_page_is_filtered_by_its_address,
    the_audit_page_pages_verifies_and_keeps_as_plain_forms,
    the_support_console_investigates_by_address_and_records_each_visit_once,
    the_wizard_works_as_plain_forms_and_shows_its_secrets_once,
);

fn now() -> chrono::DateTime<chrono::Utc> {
    #[allow(clippy::disallowed_methods)] // the server reads the real clock too
    chrono::Utc::now()
}

/// Posts `form` to server function `path` from the page at `page`, as a plain form, with
/// the cookies of `browser`.
pub(crate) async fn post_from(
    browser: &reqwest::Client,
    server: &TestServer,
    page: &str,
    path: &str,
    form: &[(&str, &str)],
) -> reqwest::Response {
    browser.post(server.url(path)).header("referer", server.url(page)).form(form).send().await.unwrap()
}

/// The page a redirect sends the browser to, as a path on this server (server_fn's own
/// redirect back to the referring page carries its absolute address).
fn location_path(server: &TestServer, response: &reqwest::Response) -> String {
    let location = location(response);
    location.strip_prefix(&server.url("")).map(str::to_owned).unwrap_or(location)
}

pub(crate) fn location(response: &reqwest::Response) -> String {
    assert!(response.status().is_redirection(), "{}", response.status());
    response.headers()["location"].to_str().unwrap().to_owned()
}

/// The value of the input with `id` in `page`, if there is one.
fn input_value(page: &str, id: &str) -> Option<String> {
    let input = &page[page.find(&format!("id=\"{id}\""))?..];
    let input = &input[..input.find('>')?];
    let value = &input[input.find("value=\"")? + "value=\"".len()..];
    Some(value[..value.find('"')?].to_owned())
}

/// The page at `path` as `visitor` reads it once it contains `needle`, or after five
/// seconds as it is then: a SCIM request's audit record, which pages such as the support
/// console and the wizard's token step read, is written by the audit writer's next batch,
/// just after the request's answer.
async fn page_once_it_shows(visitor: &crate::onboarding::Visitor<'_>, path: &str, needle: &str) -> String {
    let mut html = String::new();
    for _ in 0..50 {
        html = visitor.get(path).await.text().await.unwrap();
        if html.contains(needle) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    html
}

/// The opening tag of the element with `id` in `page`.
fn tag<'a>(page: &'a str, id: &str) -> &'a str {
    let start = page.find(&format!("id=\"{id}\"")).unwrap_or_else(|| panic!("no #{id} in {page}"));
    let tag = &page[page[..start].rfind('<').unwrap()..];
    &tag[..tag.find('>').unwrap()]
}

/// The id of the token row labelled `label` (`data-token` on its row).
/// A re-derivation's progress on a page: while it runs it is marked unsettled and an
/// island reads it again; once finished, nothing does.
pub(crate) fn assert_progress_followed_until_finished(page: &str) {
    let regions = island_regions(page, "LiveRegions");
    if page.contains("data-finished=\"false\"") {
        assert!(page.contains("data-unsettled"), "{page}");
        assert!(regions.iter().any(|region| region == "republish-panel"), "{page}");
    } else {
        assert!(page.contains("data-finished=\"true\""), "{page}");
        assert!(regions.iter().all(|region| region != "republish-panel"), "{page}");
    }
}

/// The regions the page's `island` (`LiveRegions`, `FollowsTyping`) keeps up to date,
/// from its serialized props, each checked to be on the page: an island naming an id the
/// page lacks would follow nothing.
pub(crate) fn island_regions(page: &str, island: &str) -> Vec<String> {
    let mut regions = Vec::new();
    for (at, _) in page.match_indices(&format!("data-component=\"{island}_")) {
        let props = page[at..]
            .split("data-props=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap_or_else(|| panic!("{island} without props: {page}"));
        let props: serde_json::Value =
            serde_json::from_str(&props.replace("&quot;", "\"").replace("&amp;", "&")).unwrap();
        for region in props["regions"].as_array().unwrap() {
            let id = region.as_str().unwrap();
            assert!(page.contains(&format!("id=\"{id}\"")), "{island} follows #{id}, which is not on the page: {page}");
            regions.push(id.to_owned());
        }
    }
    regions
}

fn token_row(page: &str, label: &str) -> Option<String> {
    let before = &page[..page.find(&format!(">{label}<"))?];
    let row = &before[before.rfind("data-token=\"")? + "data-token=\"".len()..];
    Some(row[..row.find('"')?].to_owned())
}

async fn the_tokens_page_issues_rotates_and_revokes_as_plain_forms_and_shows_a_secret_once(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let admin = admin_of(&server, "acme", "it@acme.example").await;
    let directory = start_directory(&admin, "okta").await;
    let page = format!("/admin/directories/{directory}/tokens");
    let works = |secret: String| {
        let users = server.url(&format!("/scim/v2/{directory}/Users"));
        async move { reqwest::Client::new().get(users).bearer_auth(secret).send().await.unwrap().status().as_u16() }
    };

    // A new token: the browser is sent back to the page with a key in its address, and the
    // page shows the token, which works.
    let form = [("directory", directory.as_str()), ("label", "Okta production"), ("valid_days", "90")];
    let created = post_from(admin.client(), &server, &page, "/api/create_directory_token", &form).await;
    let shown = location(&created);
    assert!(shown.starts_with(&format!("{page}?new_token=")), "{shown}");
    // Neither the address nor the session store holds the secret meanwhile.
    let sessions = db.texts_as_owner("SELECT data FROM sessions").await.unwrap();
    assert!(sessions.iter().any(|data| data.contains("shown_once")), "{sessions:?}");
    let html = admin.get(&shown).await.text().await.unwrap();
    let secret = input_value(&html, "issued-token").expect("the page shows the new token");
    assert!(secret.starts_with("scim_"), "{secret}");
    assert!(!shown.contains(&secret));
    assert!(sessions.iter().all(|data| !data.contains(&secret)), "the session store holds the token in clear");
    assert_eq!(works(secret.clone()).await, 200);
    assert!(html.contains("Okta production"), "the list, rendered on the server, has the new token");
    let sessions = db.texts_as_owner("SELECT data FROM sessions").await.unwrap();
    assert!(sessions.iter().all(|data| !data.contains("shown_once")), "taken when shown: {sessions:?}");

    // Shown once: the same address again, or another session with it, shows no token.
    let again = admin.get(&shown).await.text().await.unwrap();
    assert_eq!(input_value(&again, "issued-token"), None);
    assert!(again.contains("That token was shown once"), "{again}");
    let other = admin_of(&server, "globex", "it@globex.example").await;
    let theirs = start_directory(&other, "okta").await;
    let forged = shown.replace(&directory, &theirs);
    assert_eq!(input_value(&other.get(&forged).await.text().await.unwrap(), "issued-token"), None);

    // A refusal comes back on the page, in words, and issues nothing.
    let long = "x".repeat(101);
    let refused = post_from(
        admin.client(),
        &server,
        &page,
        "/api/create_directory_token",
        &[("directory", &directory), ("label", &long), ("valid_days", "0")],
    )
    .await;
    let back = location(&refused);
    assert!(back.contains("__err="), "{back}");
    let back = back.strip_prefix(&server.url("")).unwrap_or(&back).to_owned();
    let html = admin.get(&back).await.text().await.unwrap();
    assert!(html.contains("Give the token a name of 1 to 100 characters"), "{html}");
    assert_eq!(input_value(&html, "issued-token"), None);

    // Rotation shows the new token and how long the old one lasts.
    let html = admin.get(&page).await.text().await.unwrap();
    let id = token_row(&html, "Okta production").expect("the token's row");
    let form = [("directory", directory.as_str()), ("token", id.as_str()), ("overlap_minutes", "60")];
    let rotated =
        admin.get(&location(&post_from(admin.client(), &server, &page, "/api/rotate_token", &form).await)).await;
    let html = rotated.text().await.unwrap();
    let new_secret = input_value(&html, "issued-token").expect("the page shows the rotated token");
    assert_ne!(new_secret, secret);
    assert!(html.contains("id=\"old-token-until\""), "{html}");
    assert_eq!((works(secret.clone()).await, works(new_secret.clone()).await), (200, 200));

    // Revoking asks first: the confirmation is the page at `?revoke=<id>`, rendered by the
    // server, naming the token; the post revokes it and goes back to the list.
    let asking = admin.get(&format!("{page}?revoke={id}")).await.text().await.unwrap();
    assert!(asking.contains("id=\"revoke-confirmation\""), "{asking}");
    assert!(asking.contains("Revoke ‘Okta production’?"), "{asking}");
    assert!(!admin.get(&page).await.text().await.unwrap().contains("id=\"revoke-confirmation\""));
    let form = [("directory", directory.as_str()), ("token", id.as_str())];
    let revoked =
        post_from(admin.client(), &server, &format!("{page}?revoke={id}"), "/api/revoke_directory_token", &form).await;
    assert_eq!(location(&revoked), page);
    assert_eq!(works(secret).await, 401);
    assert_eq!(works(new_secret).await, 200);
    // A revoked token is not offered for revocation again.
    let asking = admin.get(&format!("{page}?revoke={id}")).await.text().await.unwrap();
    assert!(!asking.contains("id=\"revoke-confirmation\""), "{asking}");
}

/// The OAuth clients section of the tokens page, the same way: a rotated secret is shown
/// once, ending access tokens and revoking say how many ended, revoking asks first.
async fn an_oauth_client_is_rotated_ended_and_revoked_as_plain_forms(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let admin = admin_of(&server, "acme", "it@acme.example").await;
    let request = service::directories::TokenRequest { label: "Okta prod".into(), read_only: false, expires_at: None };
    let (tenant, directory, _) = crate::provisioned(&db, "acme", IdentityProvider::Entra, request, now()).await;
    let client = service::directories::issue_oauth_client(
        &db.store,
        tenant.id,
        directory.id,
        "Entra provisioning".into(),
        &service::Actor::Cli,
        &service::Effects::system(),
    )
    .await
    .unwrap()
    .unwrap();
    let client_id = client.client_id.as_str();
    let fetched = crate::oauth_clients::fetch_token(&server, client_id, &client.secret).await;
    assert!(fetched.is_ok(), "{fetched:?}");
    let id = directory.id.to_string();
    let page = format!("/admin/directories/{id}/tokens");
    let html = admin.get(&page).await.text().await.unwrap();
    assert!(html.contains(&format!("data-oauth-client=\"{client_id}\"")), "the list is rendered on the server");

    let form = [("directory", id.as_str()), ("client_id", client_id), ("overlap_minutes", "0")];
    let shown = location(&post_from(admin.client(), &server, &page, "/api/rotate_oauth_client", &form).await);
    assert!(shown.starts_with(&format!("{page}?new_client_secret=")), "{shown}");
    let html = admin.get(&shown).await.text().await.unwrap();
    let secret = input_value(&html, "rotated-client-secret").expect("the page shows the new secret");
    assert!(html.contains("the old secret no longer works"), "{html}");
    assert!(crate::oauth_clients::fetch_token(&server, client_id, &secret).await.is_ok());
    assert_eq!(crate::oauth_clients::fetch_token(&server, client_id, &client.secret).await, Err(401));
    let again = admin.get(&shown).await.text().await.unwrap();
    assert_eq!(input_value(&again, "rotated-client-secret"), None, "shown once");

    let form = [("directory", id.as_str()), ("client_id", client_id)];
    let ended = location(&post_from(admin.client(), &server, &page, "/api/end_oauth_access_tokens", &form).await);
    assert_eq!(ended, format!("{page}?client_tokens_ended=2"));
    let html = admin.get(&ended).await.text().await.unwrap();
    assert!(html.contains("Ended 2 access tokens; the identity provider fetches a new one"), "{html}");

    let asking = format!("{page}?revoke_client={client_id}");
    let html = admin.get(&asking).await.text().await.unwrap();
    assert!(html.contains("Revoke ‘Entra provisioning’?"), "{html}");
    let revoked = location(&post_from(admin.client(), &server, &asking, "/api/revoke_oauth_client", &form).await);
    assert_eq!(revoked, format!("{page}?client_revoked_with=0"));
    let html = admin.get(&revoked).await.text().await.unwrap();
    assert!(html.contains("Revoked, with 0 access tokens."), "{html}");
    assert!(!html.contains("id=\"revoke-client-confirmation\""));
    assert_eq!(crate::oauth_clients::fetch_token(&server, client_id, &secret).await, Err(401));

    // A refusal (the client is revoked) comes back on the page in words.
    let form = [("directory", id.as_str()), ("client_id", client_id), ("overlap_minutes", "0")];
    let back = location(&post_from(admin.client(), &server, &page, "/api/rotate_oauth_client", &form).await);
    let back = back.strip_prefix(&server.url("")).unwrap_or(&back).to_owned();
    let html = admin.get(&back).await.text().await.unwrap();
    assert!(html.contains("This OAuth client is revoked; issue a new one"), "{html}");
}

/// The operator's API keys page, the same way.
async fn the_api_keys_page_issues_and_revokes_as_plain_forms_and_shows_a_key_once(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    server.sign_in().await;
    let operator = &server.client;
    let page = "/api-keys";
    let html = server.get(page).await.text().await.unwrap();
    assert!(html.contains("id=\"no-api-keys\""), "the list is rendered on the server");
    let tenants = |key: String| {
        let url = server.url("/api/v1/tenants");
        async move { reqwest::Client::new().get(url).bearer_auth(key).send().await.unwrap().status().as_u16() }
    };

    let form = [("label", "Product: tenants"), ("tenants", "on"), ("read_only", "on"), ("valid_days", "90")];
    let shown = location(&post_from(operator, &server, page, "/api/issue_api_key", &form).await);
    assert!(shown.starts_with("/api-keys?new_api_key="), "{shown}");
    let html = server.get(&shown).await.text().await.unwrap();
    let key = input_value(&html, "issued-key").expect("the page shows the new key");
    assert!(html.contains("reaches: Tenants, directories and setup links (read-only)."), "{html}");
    assert!(!shown.contains(&key));
    assert_eq!(tenants(key.clone()).await, 200);
    assert_eq!(input_value(&server.get(&shown).await.text().await.unwrap(), "issued-key"), None, "shown once");

    // A key that reaches nothing is refused, in words.
    let form = [("label", "nothing"), ("valid_days", "0")];
    let back = location(&post_from(operator, &server, page, "/api/issue_api_key", &form).await);
    let back = back.strip_prefix(&server.url("")).unwrap_or(&back).to_owned();
    let html = server.get(&back).await.text().await.unwrap();
    assert!(html.contains("id=\"issue-key-error\""), "{html}");

    let id = {
        let html = server.get(page).await.text().await.unwrap();
        let row = &html[html.find("data-api-key=\"").unwrap() + "data-api-key=\"".len()..];
        row[..row.find('"').unwrap()].to_owned()
    };
    let asking = format!("{page}?revoke={id}");
    let html = server.get(&asking).await.text().await.unwrap();
    assert!(html.contains("Revoke ‘Product: tenants’?"), "{html}");
    let revoked = post_from(operator, &server, &asking, "/api/revoke_api_key", &[("key", &id)]).await;
    assert_eq!(location(&revoked), page);
    assert_eq!(tenants(key).await, 401);
    let html = server.get(&asking).await.text().await.unwrap();
    assert!(!html.contains("id=\"revoke-key-confirmation\""), "a revoked key is not offered again");
}

/// The admin's home: its directories, admins and setup links rendered on the server; an
/// invitation shown once; a setup link withdrawn and a colleague disabled and removed, each
/// removal asked first, all as plain forms, each post coming back to the home.
async fn the_admin_home_invites_withdraws_disables_and_removes_as_plain_forms(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let admin = admin_of(&server, "acme", "it@acme.example").await;
    let browser = admin.client();
    let page = "/admin";
    let html = admin.get(page).await.text().await.unwrap();
    assert!(html.contains("id=\"no-directories\""), "the directories are rendered on the server");
    assert!(html.contains("data-admin=\"it@acme.example\""), "the admins are rendered on the server");

    // An invitation, shown once; a colleague accepts it.
    let shown = location(&post_from(browser, &server, page, "/api/invite_admin", &[("valid_days", "7")]).await);
    assert!(shown.starts_with("/admin?new_invitation="), "{shown}");
    let html = admin.get(&shown).await.text().await.unwrap();
    let invitation = input_value(&html, "invite-link").expect("the page shows the invitation");
    assert!(!shown.contains(&invitation));
    assert_eq!(input_value(&admin.get(&shown).await.text().await.unwrap(), "invite-link"), None, "shown once");
    let secret = invitation.rsplit('/').next().unwrap();
    let colleague = crate::onboarding::Visitor::new(&server);
    let accepted = colleague.accept_setup_link(secret, "ops@acme.example", "correct horse battery").await;
    assert!(accepted.status().is_redirection(), "{}", accepted.status());

    // A second invitation, withdrawn after the question.
    location(&post_from(browser, &server, page, "/api/invite_admin", &[("valid_days", "1")]).await);
    let links = admin.json("/api/list_setup_links", &[("tenant", "")]).await;
    let open = links.as_array().unwrap().iter().find(|link| link["state"] == "open").unwrap()["id"].as_str().unwrap();
    let open = open.to_owned();
    let asking = format!("{page}?withdraw_link={open}");
    let html = admin.get(&asking).await.text().await.unwrap();
    assert!(html.contains("Whoever has it can no longer use it."), "{html}");
    let form = [("tenant", ""), ("link", open.as_str())];
    let withdrawn = post_from(browser, &server, &asking, "/api/revoke_setup_link", &form).await;
    assert_eq!(location(&withdrawn), page);
    let html = admin.get(page).await.text().await.unwrap();
    assert!(html.contains("withdrawn"), "{html}");
    assert!(!html.contains("id=\"revoke-setup-link-confirmation\""));

    // The colleague disabled, then removed after the question.
    let id = admin
        .json("/api/tenant_admins", &[("tenant", "")])
        .await
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["email"] == "ops@acme.example")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let form = [("tenant", ""), ("admin", id.as_str()), ("change", "disable")];
    assert_eq!(location(&post_from(browser, &server, page, "/api/change_tenant_admin", &form).await), page);
    let html = admin.get(page).await.text().await.unwrap();
    assert!(html.contains(">Enable<"), "disabled: {html}");
    let asking = format!("{page}?remove_admin={id}");
    let html = admin.get(&asking).await.text().await.unwrap();
    assert!(html.contains("Remove ops@acme.example? They are signed out at once"), "{html}");
    let form = [("tenant", ""), ("admin", id.as_str()), ("change", "remove")];
    assert_eq!(location(&post_from(browser, &server, &asking, "/api/change_tenant_admin", &form).await), page);
    let html = admin.get(page).await.text().await.unwrap();
    assert!(!html.contains("data-admin=\"ops@acme.example\""), "removed: {html}");

    // A refusal (an admin may not confirm a colleague's email) comes back on the page.
    let me = admin.json("/api/tenant_admins", &[("tenant", "")]).await[0]["id"].as_str().unwrap().to_owned();
    let form = [("tenant", ""), ("admin", me.as_str()), ("change", "confirm-email")];
    let back = location(&post_from(browser, &server, page, "/api/change_tenant_admin", &form).await);
    let back = back.strip_prefix(&server.url("")).unwrap_or(&back).to_owned();
    let html = admin.get(&back).await.text().await.unwrap();
    assert!(html.contains("Only an operator confirms an admin"), "{html}");
}

/// The operator's team page: a colleague added (their password shown once, and it signs
/// them in), disabled, then removed after the question.
async fn the_team_page_adds_disables_and_removes_operators_as_plain_forms(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    server.sign_in().await;
    let operator = &server.client;
    let page = "/team";
    let form = [("email", "sam@vendor.example"), ("role", "support")];
    let shown = location(&post_from(operator, &server, page, "/api/add_operator", &form).await);
    assert!(shown.starts_with("/team?new_operator="), "{shown}");
    let html = server.get(&shown).await.text().await.unwrap();
    let password = input_value(&html, "new-operator-password").expect("the page shows the password");
    assert!(html.contains("sam@vendor.example can sign in as support."), "{html}");
    assert_eq!(input_value(&server.get(&shown).await.text().await.unwrap(), "new-operator-password"), None);
    let colleague = crate::onboarding::Visitor::new(&server);
    let signed_in =
        colleague.post_form("/api/sign_in", &[("email", "sam@vendor.example"), ("password", &password)]).await;
    assert!(signed_in.status().is_redirection(), "{}", signed_in.status());

    let refused =
        post_from(operator, &server, page, "/api/add_operator", &[("email", "x@vendor.example"), ("role", "root")]);
    let back = location(&refused.await);
    let back = back.strip_prefix(&server.url("")).unwrap_or(&back).to_owned();
    assert!(server.get(&back).await.text().await.unwrap().contains("Choose the operator or the support role."));

    let html = server.get(page).await.text().await.unwrap();
    let row = &html[html.find("data-operator=\"sam@vendor.example\"").unwrap()..];
    let id = {
        let at = &row[row.find("name=\"operator\" value=\"").unwrap() + "name=\"operator\" value=\"".len()..];
        at[..at.find('"').unwrap()].to_owned()
    };
    let form = [("operator", id.as_str()), ("change", "disable")];
    assert_eq!(location(&post_from(operator, &server, page, "/api/change_operator", &form).await), page);
    assert!(colleague.get("/support").await.status().is_redirection(), "a disabled colleague is signed out");
    let asking = format!("{page}?remove={id}");
    let html = server.get(&asking).await.text().await.unwrap();
    assert!(html.contains("Remove sam@vendor.example? They are signed out at once"), "{html}");
    let form = [("operator", id.as_str()), ("change", "remove")];
    assert_eq!(location(&post_from(operator, &server, &asking, "/api/change_operator", &form).await), page);
    assert!(!server.get(page).await.text().await.unwrap().contains("sam@vendor.example"));
}

/// The operator's roles page: a role added (a refusal first), changed at `?edit=`, deleted
/// after the question at `?delete=`.
async fn the_roles_page_adds_changes_and_deletes_roles_as_plain_forms(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    server.sign_in().await;
    let operator = &server.client;
    let page = "/roles";
    let role = |slug: &'static str, name: &'static str, existing: &'static str| {
        [("slug", slug), ("name", name), ("description", ""), ("precedence", "1"), ("existing", existing)]
    };
    let refused =
        location(&post_from(operator, &server, page, "/api/save_deployment_role", &role("Not A Slug", "x", "")).await);
    let refused = refused.strip_prefix(&server.url("")).unwrap_or(&refused).to_owned();
    let html = server.get(&refused).await.text().await.unwrap();
    assert!(html.contains("id=\"role-error\""), "{html}");
    assert!(html.contains("The slug must be 1 to 64 lower-case letters"), "{html}");

    let saved = location(
        &post_from(operator, &server, page, "/api/save_deployment_role", &role("admin", "Administrator", "")).await,
    );
    assert_eq!(saved, "/roles?saved=admin");
    let html = server.get(&saved).await.text().await.unwrap();
    assert!(html.contains("Saved role admin."), "{html}");
    assert!(html.contains("data-role=\"admin\""), "{html}");

    let editing = server.get("/roles?edit=admin").await.text().await.unwrap();
    assert!(editing.contains("Change role admin"), "{editing}");
    let form = role("admin", "Administrators", "admin");
    let saved = location(&post_from(operator, &server, "/roles?edit=admin", "/api/save_deployment_role", &form).await);
    assert!(server.get(&saved).await.text().await.unwrap().contains(">Administrators<"));

    let asking = server.get("/roles?delete=admin").await.text().await.unwrap();
    assert!(asking.contains("Delete admin? Its grants go too"), "{asking}");
    let deleted =
        post_from(operator, &server, "/roles?delete=admin", "/api/delete_deployment_role", &[("slug", "admin")]);
    assert_eq!(location(&deleted.await), page);
    assert!(server.get(page).await.text().await.unwrap().contains("id=\"no-roles\""));
}

/// The branding form refused (a pale accent): the page comes back with the reason and with
/// what was typed, not the stored values; the suggested shade is then saved.
async fn a_refused_branding_comes_back_with_what_was_typed(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    server.sign_in().await;
    let operator = &server.client;
    let page = "/branding";
    let typed = |accent: &'static str| {
        [
            ("product_name", "Wonka Identity"),
            ("accent", accent),
            ("support_email", "help@wonka.example"),
            ("support_url", "https://help.wonka.example/scim?a=1&b=2"),
        ]
    };
    let back = location(&post_from(operator, &server, page, "/api/save_branding", &typed("#ffcc00")).await);
    assert!(back.starts_with("/branding?") && back.contains("__err="), "{back}");
    let html = server.get(&back).await.text().await.unwrap();
    assert!(html.contains("WCAG AA"), "{html}");
    assert_eq!(input_value(&html, "brand-name").as_deref(), Some("Wonka Identity"));
    assert_eq!(input_value(&html, "brand-accent-colour").as_deref(), Some("#ffcc00"));
    assert_eq!(input_value(&html, "brand-support-url").as_deref(), Some("https://help.wonka.example/scim?a=1&amp;b=2"));
    let suggestion = {
        let at = html.find(" is the nearest darker shade that passes").expect("a suggested shade");
        html[at - 7..at].to_owned()
    };
    let saved = location(&post_from(operator, &server, &back, "/api/save_branding", &typed("#000000")).await);
    assert_eq!(saved, "/branding?saved=1");
    let html = server.get(&saved).await.text().await.unwrap();
    assert!(html.contains("id=\"branding-saved\""), "{html}");
    assert_eq!(input_value(&html, "brand-name").as_deref(), Some("Wonka Identity"));
    assert!(suggestion.starts_with('#'), "{suggestion}");
}

/// The operator console's tenant pages: a tenant created with its name in addresses made
/// from the display name, a directory added (its token shown once), a setup link made
/// (shown once) and emailed-less refusal, single sign-on saved, a directory deleted after
/// typing its name (a wrong name refused first).
async fn the_console_tenant_pages_work_as_plain_forms(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    server.sign_in().await;
    let operator = &server.client;
    let created =
        post_from(operator, &server, "/tenants", "/api/create_tenant", &[("display_name", "Acme Corp."), ("slug", "")]);
    assert_eq!(location(&created.await), "/tenants/acme-corp");
    let taken = post_from(
        operator,
        &server,
        "/tenants",
        "/api/create_tenant",
        &[("display_name", "Acme again"), ("slug", "acme-corp")],
    );
    let back = location(&taken.await);
    let back = back.strip_prefix(&server.url("")).unwrap_or(&back).to_owned();
    let html = server.get(&back).await.text().await.unwrap();
    assert!(html.contains("id=\"create-tenant-error\""), "{html}");
    assert_eq!(input_value(&html, "tenant-display-name").as_deref(), Some("Acme again"), "what was typed comes back");
    assert!(server.get("/tenants").await.text().await.unwrap().contains("Acme Corp."), "listed on the server");

    let page = "/tenants/acme-corp";
    let shown = location(
        &post_from(operator, &server, page, "/api/add_directory", &[("slug", "acme-corp"), ("idp", "okta")]).await,
    );
    assert!(shown.starts_with("/tenants/acme-corp?new_directory="), "{shown}");
    let html = server.get(&shown).await.text().await.unwrap();
    let token = input_value(&html, "new-token").expect("the page shows the token");
    let base = input_value(&html, "new-scim-base-url").expect("and the endpoint");
    let users = reqwest::Client::new().get(format!("{base}/Users")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(users.status(), 200);
    assert_eq!(input_value(&server.get(&shown).await.text().await.unwrap(), "new-token"), None, "shown once");

    let form = [("slug", "acme-corp"), ("valid_days", "1")];
    let shown = location(&post_from(operator, &server, page, "/api/create_setup_link", &form).await);
    let html = server.get(&shown).await.text().await.unwrap();
    let link = input_value(&html, "setup-link").expect("the page shows the link");
    assert!(link.contains("/setup/setup_"), "{link}");
    assert!(html.contains("It works once, for 1 day."), "{html}");
    assert!(html.contains("id=\"setup-link-list\""), "the links panel is rendered on the server");
    // This deployment sends no mail: emailing is refused in words.
    let form = [("slug", "acme-corp"), ("valid_days", "7"), ("email", "it@acme.example")];
    let back = location(&post_from(operator, &server, page, "/api/email_setup_link", &form).await);
    assert!(back.contains("__err="), "{back}");

    let form = [
        ("slug", "acme-corp"),
        ("display_name", "Acme Okta"),
        ("issuer", "https://acme.okta.example"),
        ("client_id", "portal"),
        ("client_secret", "s3cret"),
    ];
    let saved = location(&post_from(operator, &server, page, "/api/configure_tenant_sso", &form).await);
    assert_eq!(saved, "/tenants/acme-corp?sso=saved");
    let html = server.get(&saved).await.text().await.unwrap();
    assert!(html.contains("Configured: Acme Okta (https://acme.okta.example)."), "{html}");

    let directory = base.rsplit('/').next().unwrap().to_owned();
    let wrong = [("slug", "acme-corp"), ("directory", directory.as_str()), ("confirmation", "Entra")];
    let back = location(&post_from(operator, &server, page, "/api/console_delete_directory", &wrong).await);
    let back = back.strip_prefix(&server.url("")).unwrap_or(&back).to_owned();
    let html = server.get(&back).await.text().await.unwrap();
    assert!(
        html.contains("Type the directory&#x27;s name, Okta, to confirm its deletion.")
            || html.contains("Type the directory's name, Okta, to confirm its deletion."),
        "{html}"
    );
    let form = [("slug", "acme-corp"), ("directory", directory.as_str()), ("confirmation", "okta")];
    let shown = location(&post_from(operator, &server, page, "/api/console_delete_directory", &form).await);
    assert!(shown.starts_with("/tenants/acme-corp?directory_deleted="), "{shown}");
    let html = server.get(&shown).await.text().await.unwrap();
    assert!(html.contains("The Okta directory was deleted at"), "{html}");
    let users = reqwest::Client::new().get(format!("{base}/Users")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(users.status(), 401);
}

/// An admin deletes a directory from its dashboard with a plain form: a wrong name is
/// refused on the dashboard; the deletion lands on the admin's home, which says so.
async fn an_admin_deletes_a_directory_as_a_plain_form_and_lands_on_their_home(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let admin = admin_of(&server, "acme", "it@acme.example").await;
    let directory = start_directory(&admin, "okta").await;
    let dashboard = format!("/admin/directories/{directory}");
    let wrong = [("directory", directory.as_str()), ("confirmation", "Entra")];
    let back = location(&post_from(admin.client(), &server, &dashboard, "/api/delete_directory", &wrong).await);
    assert!(back.contains("__err="), "{back}");
    let form = [("directory", directory.as_str()), ("confirmation", "Okta")];
    let shown = location(&post_from(admin.client(), &server, &dashboard, "/api/delete_directory", &form).await);
    assert!(shown.starts_with("/admin?directory_deleted="), "{shown}");
    let html = admin.get(&shown).await.text().await.unwrap();
    assert!(html.contains("The Okta directory was deleted at"), "{html}");
    assert!(html.contains("id=\"no-directories\""), "{html}");
}

/// The admin's webhooks page and the console's webhooks section: a refused endpoint comes
/// back with what was typed, a registered one shows its secret once, a delivery log is a
/// page of its own; the operator's look at `?webhooks=shown` is recorded in the trail.
async fn webhooks_are_registered_and_their_logs_read_as_plain_pages(db: TestDatabase) {
    let server = TestServer::start_with(&db, &["--webhooks-allow-internal-targets"]).await;
    let admin = admin_of(&server, "acme", "it@acme.example").await;
    let page = "/admin/webhooks";
    let refused = post_from(admin.client(), &server, page, "/api/create_webhook", &[("url", "ftp://example.com/hook")]);
    let back = location(&refused.await);
    let back = back.strip_prefix(&server.url("")).unwrap_or(&back).to_owned();
    let html = admin.get(&back).await.text().await.unwrap();
    assert!(html.contains("id=\"webhook-error\""), "{html}");
    assert_eq!(input_value(&html, "webhook-url").as_deref(), Some("ftp://example.com/hook"));

    let form = [("url", "http://127.0.0.1:9/hook")];
    let shown = location(&post_from(admin.client(), &server, page, "/api/create_webhook", &form).await);
    assert!(shown.starts_with("/admin/webhooks?new_webhook="), "{shown}");
    let html = admin.get(&shown).await.text().await.unwrap();
    assert!(input_value(&html, "webhook-secret").is_some_and(|secret| secret.starts_with("whsec_")), "{html}");
    assert_eq!(input_value(&admin.get(&shown).await.text().await.unwrap(), "webhook-secret"), None, "shown once");
    let id = {
        let html = admin.get(page).await.text().await.unwrap();
        let row = &html[html.find("data-webhook=\"").expect("listed on the server") + "data-webhook=\"".len()..];
        row[..row.find('"').unwrap()].to_owned()
    };
    let log = admin.get(&format!("{page}?log={id}")).await.text().await.unwrap();
    assert!(log.contains("id=\"delivery-log\"") && log.contains("id=\"dead-letters\""), "{log}");

    server.sign_in().await;
    let console = server.get("/tenants/acme").await.text().await.unwrap();
    assert!(console.contains("id=\"show-webhooks\"") && !console.contains("data-webhook="), "not loaded unasked");
    let shown = server.get("/tenants/acme?webhooks=shown").await.text().await.unwrap();
    assert!(shown.contains(&format!("data-webhook=\"{id}\"")), "{shown}");
    let log = server.get(&format!("/tenants/acme?webhooks=shown&log={id}")).await.text().await.unwrap();
    assert!(log.contains("id=\"delivery-log\"") && !log.contains("class=\"replay"), "staff cannot replay");
    let seen = admin.json("/api/audit_records", &[("filters[operation]", "support.viewed_webhooks")]).await;
    assert!(seen.to_string().contains("support.viewed_webhooks"), "{seen}");
}

/// The sign-in form refused: back on the page with the reason and the email typed; the
/// password is in neither the address nor the page.
async fn a_refused_sign_in_comes_back_with_the_email_and_never_the_password(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let visitor = crate::onboarding::Visitor::new(&server);
    let form = [("email", "ops@vendor.example"), ("password", "not the password at all")];
    let refused = post_from(visitor.client(), &server, "/sign-in", "/api/sign_in", &form).await;
    let back = location(&refused);
    assert!(back.contains("__err=") && !back.contains("not+the+password") && !back.contains("not%20the"), "{back}");
    let back = back.strip_prefix(&server.url("")).unwrap_or(&back).to_owned();
    let html = visitor.get(&back).await.text().await.unwrap();
    assert!(html.contains("The email or the password is not right."), "{html}");
    assert_eq!(input_value(&html, "email").as_deref(), Some("ops@vendor.example"));
    assert!(!html.contains("not the password at all"));
}

/// The account page's password change (refused, then done) and the status page's check
/// (a GET of `?check=database`), without the bundle.
async fn the_account_and_status_pages_work_as_plain_forms(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let admin = admin_of(&server, "acme", "it@acme.example").await;
    let form =
        [("current", "not the password"), ("new", "a brand new passphrase"), ("confirm", "a brand new passphrase")];
    let back = location(&post_from(admin.client(), &server, "/account", "/api/change_password", &form).await);
    let back = back.strip_prefix(&server.url("")).unwrap_or(&back).to_owned();
    let html = admin.get(&back).await.text().await.unwrap();
    assert!(html.contains("id=\"password-error\""), "{html}");
    let form = [
        ("current", "correct horse battery"),
        ("new", "a brand new passphrase"),
        ("confirm", "a brand new passphrase"),
    ];
    let changed = location(&post_from(admin.client(), &server, "/account", "/api/change_password", &form).await);
    assert_eq!(changed, "/account?password=changed&others=0");
    let html = admin.get(&changed).await.text().await.unwrap();
    assert!(html.contains("Your password is changed."), "{html}");

    server.sign_in().await;
    let html = server.get("/").await.text().await.unwrap();
    assert!(html.contains("Not checked yet.") && !html.contains("id=\"schema-version\""), "{html}");
    let html = server.get("/?check=database").await.text().await.unwrap();
    assert!(html.contains("id=\"schema-version\""), "{html}");
    assert!(html.contains("id=\"tenant-count\" class=\"mt-1 font-semibold\">1<"), "{html}");
}

/// A SCIM user named `user_name`.
fn scim_user(user_name: &str) -> serde_json::Value {
    serde_json::json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": user_name, "active": true})
}

/// The dashboard without the bundle: its tables are searched and paged and its chart's
/// period chosen by addresses that keep each other's state; the owner policy, the
/// extension and a stale user's deactivation are plain forms, and a refused policy comes
/// back with what was chosen and typed.
async fn the_dashboard_pages_searches_and_saves_its_settings_as_plain_forms(db: TestDatabase) {
    let (clock, server) = crate::stale_users::start(&db).await;
    let (admin, directory, _, idp) = crate::stale_users::acme(&db, &server).await;
    let mut users = Vec::new();
    for n in 0..21 {
        users.push(idp.create(&scim_user(&format!("u{n:02}"))).await);
    }
    let dashboard = format!("/admin/directories/{directory}");

    let html = admin.get(&dashboard).await.text().await.unwrap();
    assert!(html.contains("id=\"users-count\">1–20 of 21<"), "{html}");
    // While the bundle runs, the health, activity and tables follow the requests.
    assert_eq!(
        island_regions(&html, "LiveRegions"),
        [
            "sync-health-panel",
            "activity-lines",
            "users-rows",
            "groups-rows",
            "agents-rows",
            "agentic-applications-rows"
        ]
    );
    assert!(html.contains(&format!("href=\"{dashboard}?users_start=21\"")), "{html}");
    assert!(html.contains("over the last 24 hours"), "{html}");
    let html = admin.get(&format!("{dashboard}?chart=week&users_start=21")).await.text().await.unwrap();
    assert!(html.contains("id=\"users-count\">21–21 of 21<"), "{html}");
    assert!(html.contains("over the last 7 days"), "{html}");
    // Paging back keeps the chart's period; choosing the period keeps the page.
    assert!(html.contains(&format!("href=\"{dashboard}?chart=week&amp;users_start=1\"")), "{html}");
    assert!(html.contains(&format!("href=\"{dashboard}?users_start=21\"")), "{html}");
    let html = admin.get(&format!("{dashboard}?users_search=u2&chart=week")).await.text().await.unwrap();
    assert!(html.contains("id=\"users-count\">1–1 of 1<"), "{html}");
    assert_eq!(input_value(&html, "users-search").as_deref(), Some("u2"));
    assert!(html.contains("name=\"chart\" value=\"week\""), "the search form keeps the chart's period: {html}");

    // The owner policy: refused with what was typed, then saved.
    let refused =
        [("directory", directory.as_str()), ("policy", "reassign"), ("fallback_user_name", "nobody@acme.example")];
    let back = location(&post_from(admin.client(), &server, &dashboard, "/api/set_owner_policy", &refused).await);
    assert!(back.starts_with(&format!("{dashboard}?")) && back.contains("__err="), "{back}");
    let html = admin.get(&back).await.text().await.unwrap();
    assert!(html.contains("No user of this directory"), "{html}");
    assert_eq!(input_value(&html, "owner-policy-fallback").as_deref(), Some("nobody@acme.example"));
    assert!(html.contains("<option value=\"reassign\" selected"), "{html}");
    let saved = [("directory", directory.as_str()), ("policy", "reassign"), ("fallback_user_name", "u00")];
    assert_eq!(
        location(&post_from(admin.client(), &server, &dashboard, "/api/set_owner_policy", &saved).await),
        dashboard
    );
    let html = admin.get(&dashboard).await.text().await.unwrap();
    assert!(html.contains("given to u00 within a minute"), "{html}");

    // The extension: a wrong choice is refused in words; turned off and on again.
    let wrong = [("directory", directory.as_str()), ("offered", "maybe")];
    let back = location_path(
        &server,
        &post_from(admin.client(), &server, &dashboard, "/api/set_nonhuman_extension", &wrong).await,
    );
    assert!(admin.get(&back).await.text().await.unwrap().contains("Choose on or off"), "{back}");
    let off = [("directory", directory.as_str()), ("offered", "off")];
    assert_eq!(
        location(&post_from(admin.client(), &server, &dashboard, "/api/set_nonhuman_extension", &off).await),
        dashboard
    );
    let html = admin.get(&dashboard).await.text().await.unwrap();
    assert!(html.contains("does not offer the non-human identity extension"), "{html}");

    // The silence alert: refused with what was typed, then saved.
    let refused = [("directory", directory.as_str()), ("hours", "soon")];
    let back = location(&post_from(admin.client(), &server, &dashboard, "/api/set_silence_alert", &refused).await);
    assert!(back.starts_with(&format!("{dashboard}?")) && back.contains("silence_hours=soon"), "{back}");
    let html = admin.get(&back).await.text().await.unwrap();
    assert!(html.contains("id=\"silence-error\""), "{html}");
    assert_eq!(input_value(&html, "silence-hours").as_deref(), Some("soon"));
    let saved = [("directory", directory.as_str()), ("hours", "24")];
    assert_eq!(
        location(&post_from(admin.client(), &server, &dashboard, "/api/set_silence_alert", &saved).await),
        dashboard
    );
    let html = admin.get(&dashboard).await.text().await.unwrap();
    assert!(html.contains("An alert after 24 hours without a request from Okta."), "{html}");

    // A stale user deactivated from the report, which comes back at its number of days.
    clock.advance(chrono::Duration::days(40));
    let (status, _) =
        idp.patch(&users[0], serde_json::json!([{"op": "replace", "path": "title", "value": "Lead"}])).await;
    assert_eq!(status, 200);
    let html = admin.get(&format!("{dashboard}?stale_days=30")).await.text().await.unwrap();
    assert_eq!(input_value(&html, "stale-days").as_deref(), Some("30"));
    assert!(html.contains(&format!("data-stale-user=\"{}\"", users[1])), "{html}");
    let report = admin.json("/api/stale_users", &[("directory", directory.as_str()), ("days", "30")]).await;
    let row = report["users"].as_array().unwrap().iter().find(|row| row["id"] == users[1].as_str()).unwrap();
    let version = row["version"].to_string();
    let form = [("directory", directory.as_str()), ("id", users[1].as_str()), ("version", &version), ("days", "30")];
    let back = location(&post_from(admin.client(), &server, &dashboard, "/api/deactivate_stale_user", &form).await);
    assert_eq!(back, format!("{dashboard}?stale_days=30"));
    let html = admin.get(&back).await.text().await.unwrap();
    assert!(!html.contains(&format!("data-stale-user=\"{}\"", users[1])), "{html}");
    let again = location_path(
        &server,
        &post_from(admin.client(), &server, &dashboard, "/api/deactivate_stale_user", &form).await,
    );
    assert!(again.contains("__err="), "a second deactivation of the same version is refused: {again}");
    let html = admin.get(&again).await.text().await.unwrap();
    let outcome = &html[html.find("id=\"stale-outcome\"").unwrap()..];
    assert!(outcome[..outcome.find("</div>").unwrap()].contains("role=\"alert\""), "{html}");
}

/// A user's page without the bundle: suspending without a reason is refused in words on
/// the page; suspending and lifting come back to the page, which shows the new state.
async fn a_user_is_suspended_and_lifted_as_plain_forms(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let (admin, directory, _, idp) = crate::stale_users::acme(&db, &server).await;
    let user = idp.create(&scim_user("sol")).await;
    let page = format!("/admin/directories/{directory}/users/{user}");
    let no_reason = [("directory", directory.as_str()), ("id", user.as_str()), ("reason", "")];
    let back = location_path(
        &server,
        &post_from(admin.client(), &server, &page, "/api/set_user_suspension", &no_reason).await,
    );
    assert!(back.starts_with(&format!("{page}?")) && back.contains("__err="), "{back}");
    assert!(admin.get(&back).await.text().await.unwrap().contains("Say why the user is suspended"));
    let form = [("directory", directory.as_str()), ("id", user.as_str()), ("reason", "Laptop stolen")];
    assert_eq!(location(&post_from(admin.client(), &server, &page, "/api/set_user_suspension", &form).await), page);
    let html = admin.get(&page).await.text().await.unwrap();
    assert!(html.contains("Suspended since") && html.contains("Laptop stolen"), "{html}");
    assert!(html.contains("id=\"lift-suspension\""), "{html}");
    let lift = [("directory", directory.as_str()), ("id", user.as_str()), ("lift", "yes")];
    assert_eq!(location(&post_from(admin.client(), &server, &page, "/api/set_user_suspension", &lift).await), page);
    let html = admin.get(&page).await.text().await.unwrap();
    assert!(html.contains("id=\"suspend-user\"") && !html.contains("Suspended since"), "{html}");
}

/// The safety brake without the bundle: a refused threshold comes back with what was
/// typed, saving says so, a group is marked privileged by its own form, and releasing held
/// changes asks first at `?decide=release` and comes back saying what was released.
async fn the_safety_brake_is_set_and_a_held_batch_released_as_plain_forms(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let admin = admin_of(&server, "fabrikam", "it@fabrikam.example").await;
    let entra = crate::brake::Entra::new(&db, &server, "fabrikam").await;
    let directory = entra.directory.clone();
    let users = entra.create_users(1..=10).await;
    let admins = entra.create_group("Admins", &[&users[0]]).await;
    let page = format!("/admin/directories/{directory}/brake");
    let html = admin.get(&page).await.text().await.unwrap();
    assert!(html.contains("id=\"nothing-held\""), "{html}");

    // No `enabled` field: the box was left unticked.
    let wrong = [("directory", directory.as_str()), ("percent", "0"), ("minimum", "3")];
    let back = location(&post_from(admin.client(), &server, &page, "/api/save_brake", &wrong).await);
    assert!(back.starts_with(&format!("{page}?")) && back.contains("__err="), "{back}");
    let html = admin.get(&back).await.text().await.unwrap();
    assert!(html.contains("The percentage is a whole number from 1 to 100"), "{html}");
    assert_eq!(input_value(&html, "brake-percent").as_deref(), Some("0"));
    assert!(!tag(&html, "brake-enabled").contains("checked"), "the box comes back unticked: {html}");
    let form = [("directory", directory.as_str()), ("enabled", "true"), ("percent", "10"), ("minimum", "3")];
    let saved = location(&post_from(admin.client(), &server, &page, "/api/save_brake", &form).await);
    assert_eq!(saved, format!("{page}?saved=threshold"));
    let html = admin.get(&saved).await.text().await.unwrap();
    assert!(html.contains("id=\"brake-saved\""), "{html}");
    assert_eq!(input_value(&html, "brake-minimum").as_deref(), Some("3"));
    assert!(tag(&html, "brake-enabled").contains("checked"), "{html}");

    let mark = [("directory", directory.as_str()), ("group", admins.as_str()), ("privileged", "true")];
    let marked = location(&post_from(admin.client(), &server, &page, "/api/set_privileged_group", &mark).await);
    assert_eq!(marked, format!("{page}?saved=privileged"));
    let html = admin.get(&marked).await.text().await.unwrap();
    assert!(html.contains("data-group=\"Admins\" data-privileged=\"true\""), "{html}");
    assert!(html.contains("id=\"privileged-saved\""), "{html}");

    // The third deactivation crosses the threshold (3 of 10) and is held.
    for user in &users[1..4] {
        entra.deactivate(user).await;
    }
    let dashboard = admin.get(&format!("/admin/directories/{directory}")).await.text().await.unwrap();
    assert!(dashboard.contains("1 change is held for your review."), "{dashboard}");
    let html = admin.get(&page).await.text().await.unwrap();
    assert!(!html.contains("id=\"confirm-decision\""), "{html}");
    let html = admin.get(&format!("{page}?decide=release")).await.text().await.unwrap();
    assert!(html.contains("Release all 1 changes?"), "{html}");
    assert!(html.contains("name=\"number\" value=\"1\""), "{html}");
    let release = [("directory", directory.as_str()), ("number", "1"), ("decision", "release")];
    let released = location(
        &post_from(admin.client(), &server, &format!("{page}?decide=release"), "/api/decide_held", &release).await,
    );
    assert_eq!(released, format!("{page}?released=1"));
    let html = admin.get(&released).await.text().await.unwrap();
    assert!(html.contains("Released: 1 change was sent to the product"), "{html}");
    assert!(html.contains("id=\"nothing-held\""), "{html}");
    // Deciding again (the confirmation's page, reloaded) is refused in words on the page.
    let again = location_path(
        &server,
        &post_from(admin.client(), &server, &format!("{page}?decide=release"), "/api/decide_held", &release).await,
    );
    assert!(admin.get(&again).await.text().await.unwrap().contains("already released or discarded"), "{again}");
}

/// The offboarding page without the bundle: rendered on the server, filtered by a GET form
/// whose fields come back as they were chosen.
async fn the_offboarding_page_is_filtered_by_its_address(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let (admin, _, _, idp) = crate::stale_users::acme(&db, &server).await;
    let sol = idp.create(&scim_user("sol")).await;
    let (status, _) = idp.patch(&sol, serde_json::json!([{"op": "replace", "path": "active", "value": false}])).await;
    assert_eq!(status, 200);
    let html = admin.get("/admin/offboarding").await.text().await.unwrap();
    assert!(html.contains("data-user=\"sol\""), "{html}");
    assert!(html.contains("Confirmations are due within"), "{html}");
    let html = admin.get("/admin/offboarding?user=zed&status=overdue").await.text().await.unwrap();
    assert!(html.contains("No leavers match these filters."), "{html}");
    assert_eq!(input_value(&html, "offboarding-user").as_deref(), Some("zed"));
    assert!(html.contains("<option value=\"overdue\" selected"), "{html}");
    assert!(html.contains("href=\"/admin/offboarding/export?status=overdue&amp;user=zed\""), "{html}");
}

/// The href of the link with `id` in `page`.
fn href_of(page: &str, id: &str) -> Option<String> {
    let tag = tag(page, id);
    let href = &tag[tag.find("href=\"")? + "href=\"".len()..];
    Some(href[..href.find('"')?].replace("&amp;", "&"))
}

/// The audit page without the bundle: filtered by a GET form, paged by links in both
/// directions, the chain verified by a plain form whose answer is said once, and the
/// retention period refused with what was typed or saved.
async fn the_audit_page_pages_verifies_and_keeps_as_plain_forms(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let (admin, _, _, idp) = crate::stale_users::acme(&db, &server).await;
    for n in 0..55 {
        idp.create(&scim_user(&format!("u{n:02}"))).await;
    }
    let html = admin.get("/admin/audit?outcome=success").await.text().await.unwrap();
    assert!(html.contains("<option value=\"success\" selected"), "{html}");
    assert_eq!(island_regions(&html, "FollowsTyping"), ["audit-exports", "audit-records"]);
    let older = href_of(&html, "audit-older").expect("an older page");
    assert!(older.starts_with("/admin/audit?outcome=success&before=") && older.ends_with("&back=top"), "{older}");
    assert!(href_of(&html, "audit-newer").is_none(), "the newest page has nothing newer");
    let html = admin.get(&older).await.text().await.unwrap();
    assert!(html.contains("id=\"audit-table\""), "{html}");
    assert_eq!(href_of(&html, "audit-newer").as_deref(), Some("/admin/audit?outcome=success"));
    let html = admin.get("/admin/audit?operation=nothing.like.this").await.text().await.unwrap();
    assert!(html.contains("No records match these filters."), "{html}");
    assert_eq!(input_value(&html, "audit-operation").as_deref(), Some("nothing.like.this"));

    let verified = location(&post_from(admin.client(), &server, "/admin/audit", "/api/verify_audit_trail", &[]).await);
    assert!(verified.starts_with("/admin/audit?verified="), "{verified}");
    let html = admin.get(&verified).await.text().await.unwrap();
    assert!(html.contains("Intact: all"), "{html}");
    assert!(!admin.get(&verified).await.text().await.unwrap().contains("Intact: all"), "said once");

    let refused = [("days", "a fortnight")];
    let back =
        location(&post_from(admin.client(), &server, "/admin/audit", "/api/set_audit_retention", &refused).await);
    assert!(back.starts_with("/admin/audit?") && back.contains("__err="), "{back}");
    let html = admin.get(&back).await.text().await.unwrap();
    assert!(html.contains("Enter a number of days from"), "{html}");
    assert_eq!(input_value(&html, "retention-days").as_deref(), Some("a fortnight"));
    let forever = [("days", "")];
    assert_eq!(
        location(&post_from(admin.client(), &server, "/admin/audit", "/api/set_audit_retention", &forever).await),
        "/admin/audit"
    );
    let html = admin.get("/admin/audit").await.text().await.unwrap();
    assert!(html.contains("Records are kept forever."), "{html}");
}

/// The support console without the bundle: a cause and a failure are links, the opened
/// failure is rendered on the server, and each visit of its address is recorded once in
/// the tenant's trail.
async fn the_support_console_investigates_by_address_and_records_each_visit_once(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let (_, _, tenant, idp) = crate::stale_users::acme(&db, &server).await;
    idp.create(&scim_user("tony")).await;
    let (status, _) = idp.send(reqwest::Method::POST, "/Users", Some(&scim_user("tony"))).await;
    assert_eq!(status, 409);
    let support = crate::webhook_pages::support_visitor(&db, &server).await;
    let cause = "/support?cause=uniqueness_conflict";
    let html = page_once_it_shows(&support, "/support", &format!("href=\"{cause}\"")).await;
    assert!(html.contains(&format!("href=\"{cause}\"")), "{html}");
    let html = support.get(cause).await.text().await.unwrap();
    let at = html.find("class=\"investigate").expect("a failure to investigate");
    let link = &html[html[..at].rfind("href=\"").unwrap() + "href=\"".len()..];
    let failure = link[..link.find('"').unwrap()].replace("&amp;", "&");
    assert!(failure.starts_with("/support?cause=uniqueness_conflict&failure="), "{failure}");
    let viewed = || async {
        let records = db.store.tenant(tenant).audit_records(0, 1000).await.unwrap();
        records.iter().filter(|record| record.action == "support.viewed_request").count()
    };
    assert_eq!(viewed().await, 0, "listing failures opens none");
    let html = support.get(&failure).await.text().await.unwrap();
    assert!(html.contains("id=\"failure-detail\"") && html.contains("Uniqueness conflict"), "{html}");
    assert_eq!(viewed().await, 1);
    support.get(&failure).await.text().await.unwrap();
    assert_eq!(viewed().await, 2, "each visit of the address is recorded once");
}

/// The setup wizard without the bundle: step 1 starts the directory; the token step seals
/// a new token and client credentials for the one page that shows them; the mapping is
/// previewed as typed (a GET), refused with what was typed and saved; the self-test's report
/// is shown once on the test step.
async fn the_wizard_works_as_plain_forms_and_shows_its_secrets_once(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let admin = admin_of(&server, "acme", "it@acme.example").await;
    let started =
        location(&post_from(admin.client(), &server, "/admin/connect", "/api/start_setup", &[("idp", "okta")]).await);
    let directory =
        started.strip_prefix("/admin/directories/").unwrap().strip_suffix("/setup/endpoint").unwrap().to_owned();
    let step = |name: &str| format!("/admin/directories/{directory}/setup/{name}");
    let html = admin.get(&started).await.text().await.unwrap();
    assert!(input_value(&html, "scim-base-url").unwrap().ends_with(&format!("/scim/v2/{directory}")), "{html}");

    // A token, shown once on the token step, and working.
    let form = [("directory", directory.as_str()), ("valid_days", "0")];
    let shown = location(&post_from(admin.client(), &server, &step("token"), "/api/issue_setup_token", &form).await);
    assert!(shown.starts_with(&format!("{}?new_token=", step("token"))), "{shown}");
    let html = admin.get(&shown).await.text().await.unwrap();
    let token = input_value(&html, "new-token").expect("the token, shown once");
    assert!(html.contains("id=\"waiting\""), "no request yet: {html}");
    assert_eq!(island_regions(&html, "LiveRegions"), ["first-request"], "the banner follows the requests");
    let users = reqwest::Client::new()
        .get(server.url(&format!("/scim/v2/{directory}/Users")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(users.status(), 200);
    let html = admin.get(&shown).await.text().await.unwrap();
    assert!(input_value(&html, "new-token").is_none(), "shown once: {html}");
    let html = page_once_it_shows(&admin, &step("token"), "id=\"connected\"").await;
    assert!(html.contains("id=\"connected\""), "the token step says the identity provider connected: {html}");
    let form = [("directory", directory.as_str())];
    let shown = location(&post_from(admin.client(), &server, &step("token"), "/api/issue_setup_client", &form).await);
    assert!(shown.starts_with(&format!("{}?new_client=", step("token"))), "{shown}");
    let html = admin.get(&shown).await.text().await.unwrap();
    assert!(input_value(&html, "client-secret").is_some(), "{html}");

    // The mapping: previewed as typed, refused with what was typed, saved.
    let html =
        admin.get(&format!("{}?sources%5B2%5D=user.nickname&preview=", step("mapping"))).await.text().await.unwrap();
    assert_eq!(input_value(&html, "source-2").as_deref(), Some("user.nickname"));
    assert!(html.contains("id=\"mapping-edited\""), "{html}");
    let mapping = admin.json("/api/load_mapping", &[("directory", &directory)]).await;
    let mut form = vec![("directory".to_owned(), directory.clone())];
    for (index, row) in mapping["rows"].as_array().unwrap().iter().enumerate() {
        form.push((format!("attributes[{index}]"), row["attribute"].as_str().unwrap().to_owned()));
        let source = if index == 0 { String::new() } else { row["source"].as_str().unwrap().to_owned() };
        form.push((format!("sources[{index}]"), source));
    }
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let back = location(&post_from(admin.client(), &server, &step("mapping"), "/api/save_mapping", &pairs).await);
    assert!(back.starts_with(&format!("{}?", step("mapping"))) && back.contains("__err="), "{back}");
    let html = admin.get(&back).await.text().await.unwrap();
    assert!(html.contains("User name is required"), "{html}");
    assert_eq!(input_value(&html, "source-0").as_deref(), Some(""), "the emptied source comes back empty");
    form[2].1 = "user.email".to_owned();
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let saved = location(&post_from(admin.client(), &server, &step("mapping"), "/api/save_mapping", &pairs).await);
    assert_eq!(saved, format!("{}?mapping=saved", step("mapping")));
    let html = admin.get(&saved).await.text().await.unwrap();
    assert!(html.contains("id=\"mapping-saved\"") && html.contains("id=\"republish-progress\""), "{html}");
    assert_progress_followed_until_finished(&html);
    assert_eq!(input_value(&html, "source-0").as_deref(), Some("user.email"));

    // The self-test's report, on the test step, once.
    let form = [("directory", directory.as_str())];
    let shown = location(&post_from(admin.client(), &server, &step("test"), "/api/run_self_test", &form).await);
    assert!(shown.starts_with(&format!("{}?self_test=", step("test"))), "{shown}");
    let html = admin.get(&shown).await.text().await.unwrap();
    assert!(html.contains("id=\"self-test-steps\"") && !html.contains(">Failed<"), "{html}");
    assert!(html.contains("id=\"setup-complete\""), "{html}");
    assert_eq!(island_regions(&html, "LiveRegions"), ["live-requests"], "the requests appear as they arrive");
    assert!(!admin.get(&shown).await.text().await.unwrap().contains("id=\"self-test-steps\""), "shown once");
}
