//! Roles in the portal over HTTP: the operator's roles page, the admin's grants with their
//! preview and the re-derivation's progress, the wizard's roles step, and the mapping
//! step's preview on the directory's stored users.

use serde_json::{Value, json};
use store::testing::TestDatabase;

use crate::TestServer;
use crate::onboarding::{Visitor, admin_of, start_directory};

store::backend_tests!(
    an_operator_adds_changes_and_deletes_roles_with_readable_refusals,
    an_admin_grants_a_role_to_a_group_previews_saves_and_sees_the_users_re_derived,
    the_wizard_goes_through_the_roles_step_only_when_roles_exist,
    the_mapping_preview_reads_stored_users_and_names_those_lacking_a_required_attribute,
    the_roles_page_previews_and_saves_grants_as_plain_forms,
);

fn now() -> chrono::DateTime<chrono::Utc> {
    #[allow(clippy::disallowed_methods)] // the server reads the real clock too
    chrono::Utc::now()
}

/// Calls a server function that takes JSON, as the portal's grant editor does.
async fn json_call(visitor: &Visitor<'_>, path: &str, body: Value) -> reqwest::Response {
    visitor.json_request(path).json(&body).send().await.unwrap()
}

async fn add_role(
    server: &TestServer,
    slug: &str,
    name: &str,
    precedence: &str,
    is_default: bool,
) -> reqwest::Response {
    let mut form = vec![("slug", slug), ("name", name), ("description", "for tests"), ("precedence", precedence)];
    if is_default {
        form.push(("is_default", "true"));
    }
    server.call("/api/save_deployment_role", &form).await
}

/// A directory of a new tenant `slug` with a token; returns (admin, directory, token).
async fn directory_with_token<'a>(server: &'a TestServer, slug: &str) -> (Visitor<'a>, String, String) {
    let admin = admin_of(server, slug, &format!("it@{slug}.example")).await;
    let directory = start_directory(&admin, "okta").await;
    let issued = admin.json("/api/issue_setup_token", &[("directory", &directory), ("valid_days", "0")]).await;
    let token = issued["token"].as_str().unwrap().to_owned();
    (admin, directory, token)
}

async fn scim_post(server: &TestServer, directory: &str, token: &str, kind: &str, body: Value) -> Value {
    let response = reqwest::Client::new()
        .post(server.url(&format!("/scim/v2/{directory}/{kind}")))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    response.json().await.unwrap()
}

async fn user(server: &TestServer, directory: &str, token: &str, user_name: &str, extra: Value) -> String {
    let mut body =
        json!({ "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": user_name, "active": true });
    if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        body.extend(extra.clone());
    }
    scim_post(server, directory, token, "Users", body).await["id"].as_str().unwrap().to_owned()
}

async fn an_operator_adds_changes_and_deletes_roles_with_readable_refusals(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    server.sign_in().await;
    assert_eq!(add_role(&server, "admin", "Admin", "1", false).await.status(), 200);
    assert_eq!(add_role(&server, "viewer", "Viewer", "2", true).await.status(), 200);

    let bad_slug = add_role(&server, "Not A Slug", "Bad", "3", false).await;
    assert_eq!(bad_slug.status(), 422);
    assert!(bad_slug.text().await.unwrap().contains("The slug must be 1 to 64 lower-case letters"));
    let bad_precedence = add_role(&server, "later", "Later", "first", false).await;
    assert_eq!(bad_precedence.status(), 422);
    assert!(bad_precedence.text().await.unwrap().contains("The precedence must be a whole number"));
    let taken = add_role(&server, "admin", "Admin again", "3", false).await;
    assert_eq!(taken.status(), 409, "{}", taken.text().await.unwrap());

    // Changed: the name, never the slug.
    let form =
        [("slug", "admin"), ("name", "Administrator"), ("description", ""), ("precedence", "1"), ("existing", "admin")];
    let changed = server.json_call("/api/save_deployment_role", &form).await;
    assert_eq!(changed["name"], "Administrator");
    let form = [("slug", "root"), ("name", "Root"), ("description", ""), ("precedence", "1"), ("existing", "admin")];
    let renamed = server.call("/api/save_deployment_role", &form).await;
    assert_eq!(renamed.status(), 422);
    assert!(renamed.text().await.unwrap().contains("slug cannot change"));

    let roles = server.json_call("/api/deployment_roles", &[]).await;
    let listed: Vec<(&str, &str, bool)> = roles
        .as_array()
        .unwrap()
        .iter()
        .map(|role| {
            (role["slug"].as_str().unwrap(), role["name"].as_str().unwrap(), role["is_default"].as_bool().unwrap())
        })
        .collect();
    assert_eq!(listed, [("admin", "Administrator", false), ("viewer", "Viewer", true)]);

    assert_eq!(server.call("/api/delete_deployment_role", &[("slug", "viewer")]).await.status(), 200);
    assert_eq!(server.call("/api/delete_deployment_role", &[("slug", "viewer")]).await.status(), 404);
    assert_eq!(server.json_call("/api/deployment_roles", &[]).await.as_array().unwrap().len(), 1);
    let page = server.get("/roles").await;
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("Administrator"));

    // A tenant admin is no operator.
    let admin = admin_of(&server, "acme", "it@acme.example").await;
    assert_eq!(admin.call("/api/delete_deployment_role", &[("slug", "admin")]).await.status(), 401);
}

async fn an_admin_grants_a_role_to_a_group_previews_saves_and_sees_the_users_re_derived(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    server.sign_in().await;
    add_role(&server, "admin", "Admin", "1", false).await;
    add_role(&server, "viewer", "Viewer", "2", true).await;
    let (admin, directory, token) = directory_with_token(&server, "acme").await;
    let ada = user(&server, &directory, &token, "ada@acme.example", json!({})).await;
    user(&server, &directory, &token, "bob@acme.example", json!({})).await;
    let group = scim_post(
        &server,
        &directory,
        &token,
        "Groups",
        json!({ "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Engineering", "members": [{ "value": ada }] }),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let page = admin.json("/api/group_roles", &[("directory", &directory)]).await;
    assert_eq!(page["groups"], json!([{ "id": group, "name": "Engineering", "members": 1, "roles": [] }]));
    assert_eq!(page["preview"], json!([["admin", "Admin", 0], ["viewer", "Viewer", 2]]));
    assert_eq!(page["progress"], Value::Null);

    // The editor's boxes send `role/group id`, at the index of the box.
    let grant = format!("admin/{group}");
    let grants = [("directory", directory.as_str()), ("grants[3]", grant.as_str())];
    let preview = admin.call("/api/preview_group_roles", &grants).await;
    assert_eq!(preview.status(), 200);
    let preview: Value = preview.json().await.unwrap();
    assert_eq!(preview["preview"], json!([["admin", "Admin", 1], ["viewer", "Viewer", 1]]));
    assert_eq!(preview["without_role"], 0);
    // Previewing saved nothing.
    let page = admin.json("/api/group_roles", &[("directory", &directory)]).await;
    assert_eq!(page["groups"][0]["roles"], json!([]));

    let unknown = format!("owner/{group}");
    let refused = admin
        .call("/api/save_group_roles", &[("directory", directory.as_str()), ("grants[0]", unknown.as_str())])
        .await;
    assert_eq!(refused.status(), 422);
    assert!(refused.text().await.unwrap().contains("There is no role owner"));
    let malformed =
        admin.call("/api/save_group_roles", &[("directory", directory.as_str()), ("grants[0]", "admin")]).await;
    assert_eq!(malformed.status(), 422);
    assert!(malformed.text().await.unwrap().contains("is not a grant"));
    assert_eq!(admin.call("/api/save_group_roles", &grants).await.status(), 200);
    let page = admin.json("/api/group_roles", &[("directory", &directory)]).await;
    assert_eq!(page["groups"][0]["roles"], json!(["admin"]));
    let progress = admin.json("/api/republish_progress", &[("directory", &directory)]).await;
    assert_eq!(progress["finished"], false, "{progress}");

    // The server's worker runs the pass; here the test does, until nothing is left.
    let effects = service::Effects::system();
    while service::republish::republish_pending(&db.store, &server.url(""), &effects).await.unwrap() > 0 {}
    let progress = admin.json("/api/republish_progress", &[("directory", &directory)]).await;
    assert_eq!((progress["finished"].as_bool(), progress["done"].as_i64()), (Some(true), Some(2)), "{progress}");
    assert_eq!(progress["changed"], 1, "ada became an admin; bob stays a viewer");

    // Another tenant's admin reaches none of it.
    let (other, _, _) = directory_with_token(&server, "globex").await;
    assert_eq!(other.call("/api/group_roles", &[("directory", &directory)]).await.status(), 404);
    assert_eq!(other.call("/api/republish_progress", &[("directory", &directory)]).await.status(), 404);
}

async fn the_wizard_goes_through_the_roles_step_only_when_roles_exist(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let (admin, directory, _) = directory_with_token(&server, "acme").await;
    let state = admin.json("/api/wizard_state", &[("directory", &directory), ("step", "mapping")]).await;
    assert_eq!(state["after_mapping"], "test", "no roles: the roles step is skipped");
    // Reached anyway (an old bookmark), the server sends the browser on to the test step.
    let skipped = admin.get(&format!("/admin/directories/{directory}/setup/roles")).await;
    assert!(skipped.status().is_redirection(), "{}", skipped.status());
    assert_eq!(skipped.headers()["location"], format!("/admin/directories/{directory}/setup/test").as_str());

    server.sign_in().await;
    add_role(&server, "member", "Member", "1", true).await;
    let mapping = admin.json("/api/load_mapping", &[("directory", &directory)]).await;
    let mut form: Vec<(String, String)> = vec![("directory".into(), directory.clone())];
    for (index, row) in mapping["rows"].as_array().unwrap().iter().enumerate() {
        form.push((format!("attributes[{index}]"), row["attribute"].as_str().unwrap().to_owned()));
        form.push((format!("sources[{index}]"), row["source"].as_str().unwrap().to_owned()));
    }
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    admin.json("/api/save_mapping", &pairs).await;
    let state = admin.json("/api/wizard_state", &[("directory", &directory), ("step", "roles")]).await;
    assert_eq!((state["after_mapping"].as_str(), state["reached"].as_u64()), (Some("roles"), Some(5)));
    // No groups yet: the grant editor has nothing to show but the roles.
    let page = admin.json("/api/group_roles", &[("directory", &directory)]).await;
    assert_eq!((page["roles"].as_array().unwrap().len(), page["groups"].as_array().unwrap().len()), (1, 0));
    let state = admin.json("/api/wizard_state", &[("directory", &directory), ("step", "test")]).await;
    assert_eq!(state["reached"], 6);
    let rendered = admin.get(&format!("/admin/directories/{directory}/setup/roles")).await;
    assert_eq!(rendered.status(), 200);
}

async fn the_mapping_preview_reads_stored_users_and_names_those_lacking_a_required_attribute(db: TestDatabase) {
    const BADGES: &str = "urn:acme:params:scim:schemas:extension:badges:2.0:User";
    let server = TestServer::start(&db).await;
    let (admin, directory, token) = directory_with_token(&server, "acme").await;
    let rows = |badge_source: &str| {
        json!([
            { "attribute": "userName", "label": "", "required": false, "source": "user.login" },
            { "attribute": "title", "label": "", "required": false, "source": "user.title" },
            { "attribute": format!("{BADGES}:badge"), "label": "", "required": false, "source": badge_source },
        ])
    };
    let empty =
        json_call(&admin, "/api/preview_stored_users", json!({ "directory": directory, "rows": rows("") })).await;
    let empty: Value = empty.json().await.unwrap();
    assert_eq!((empty["total_users"].as_u64(), empty["users"].as_array().map(Vec::len)), (Some(0), Some(0)));

    user(&server, &directory, &token, "ada@acme.example", json!({ "title": "Analyst" })).await;
    // The tenant then requires a badge of every user: ada, stored before, has none.
    let slug = service::TenantSlug::parse("acme").unwrap();
    let (tenant, _) = service::tenants::detail(&db.store, &slug).await.unwrap().unwrap();
    let schema = json!({ "id": BADGES, "name": "Badges", "attributes": [
        { "name": "badge", "type": "string", "multiValued": false, "required": true, "caseExact": false,
          "mutability": "readWrite", "returned": "default", "uniqueness": "none" }
    ] });
    let extension =
        service::provisioning::ExtensionDefinition { resource_type: store::ResourceKind::User, required: true, schema };
    service::provisioning::define_extension(
        &db.store,
        tenant.id,
        directory.parse().unwrap(),
        extension,
        &service::Actor::Cli,
        now(),
    )
    .await
    .unwrap();
    user(
        &server,
        &directory,
        &token,
        "bob@acme.example",
        json!({ "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", BADGES], BADGES: { "badge": "B-7" } }),
    )
    .await;

    let preview =
        json_call(&admin, "/api/preview_stored_users", json!({ "directory": directory, "rows": rows("badge") })).await;
    assert_eq!(preview.status(), 200);
    let preview: Value = preview.json().await.unwrap();
    assert_eq!(preview["total_users"], 2);
    let users = preview["users"].as_array().unwrap();
    assert_eq!(
        users.iter().map(|user| user[0].as_str().unwrap()).collect::<Vec<_>>(),
        ["bob@acme.example", "ada@acme.example"]
    );
    let bob: Value = serde_json::from_str(users[0][1].as_str().unwrap()).unwrap();
    assert_eq!(bob["custom_attributes"], json!({ "badge": "B-7" }));
    let ada: Value = serde_json::from_str(users[1][1].as_str().unwrap()).unwrap();
    assert_eq!(ada["custom_attributes"], json!({ "job_title": "Analyst" }), "{ada}");
    // The required flag is the app's, whatever the form said.
    assert_eq!(preview["lacking_count"], 1);
    assert_eq!(preview["lacking"], json!([["ada@acme.example", ["badge"]]]));
}

/// The Roles page without the bundle: Preview asks for the page again with the boxes as
/// ticked (a GET), which counts the users per role under them and saves nothing; Save posts
/// them and comes back saying so, with the re-derivation's progress.
async fn the_roles_page_previews_and_saves_grants_as_plain_forms(db: TestDatabase) {
    use crate::plain_forms::{location, post_from};
    let server = TestServer::start(&db).await;
    server.sign_in().await;
    add_role(&server, "admin", "Admin", "1", false).await;
    add_role(&server, "viewer", "Viewer", "2", true).await;
    let (admin, directory, token) = directory_with_token(&server, "acme").await;
    let ada = user(&server, &directory, &token, "ada@acme.example", json!({})).await;
    user(&server, &directory, &token, "bob@acme.example", json!({})).await;
    let group = json!({ "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Engineering", "members": [{ "value": ada }] });
    let group = scim_post(&server, &directory, &token, "Groups", group).await["id"].as_str().unwrap().to_owned();
    let page = format!("/admin/directories/{directory}/roles");
    let grant = format!("admin/{group}");

    let html = admin.get(&page).await.text().await.unwrap();
    assert!(html.contains(&format!("value=\"{grant}\"")), "a box per group and role: {html}");
    assert!(html.contains(">Users per role<"), "{html}");
    let preview = format!("{page}?directory={directory}&grants%5B1%5D={}&preview=1", grant.replace('/', "%2F"));
    let html = admin.get(&preview).await.text().await.unwrap();
    assert!(html.contains("not saved yet"), "{html}");
    assert!(html.contains("data-role=\"admin\" class=\"rounded-lg bg-slate-50 p-3\"><dt class=\"text-slate-500\">Admin<!></dt><dd class=\"mt-1 font-semibold\">1 user<"), "{html}");
    let page_data = admin.json("/api/group_roles", &[("directory", &directory)]).await;
    assert_eq!(page_data["groups"][0]["roles"], json!([]), "previewing saved nothing");

    let form = [("directory", directory.as_str()), ("grants[1]", grant.as_str())];
    let saved = location(&post_from(admin.client(), &server, &preview, "/api/save_group_roles", &form).await);
    assert_eq!(saved, format!("{page}?group_roles=saved"));
    let html = admin.get(&saved).await.text().await.unwrap();
    assert!(html.contains("id=\"group-roles-saved\""), "{html}");
    assert!(html.contains("id=\"republish-progress\""), "{html}");
    crate::plain_forms::assert_progress_followed_until_finished(&html);
    let page_data = admin.json("/api/group_roles", &[("directory", &directory)]).await;
    assert_eq!(page_data["groups"][0]["roles"], json!(["admin"]));
}
