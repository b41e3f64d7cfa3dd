//! Roles from groups and the re-derivation of users: the operator's roles API, a directory's
//! group grants, `role`/`roles` on directory users, and `dsync.user.updated` with the
//! previous values when a grant, a membership or the attribute mapping changes. The
//! background worker is run here by calling it, so each step is observed exactly.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use store::testing::TestDatabase;

use crate::TestServer;
use crate::operator_api::{Directory, api_key};

store::backend_tests!(
    the_operator_manages_roles_through_the_api,
    users_get_the_roles_their_groups_grant_and_every_change_publishes_the_previous_roles,
    a_mapping_change_re_derives_every_user_and_publishes_only_the_changed_ones,
    grants_are_checked_and_recorded_in_the_tenants_trail,
    a_deleted_directorys_users_are_not_re_derived,
);

/// A client of the operator API and the WorkOS-compatible API with one key.
struct Vendor {
    base: String,
    key: String,
    client: reqwest::Client,
}

impl Vendor {
    async fn new(db: &TestDatabase, server: &TestServer) -> Self {
        Self { base: format!("http://{}", server.address()), key: api_key(db).await, client: reqwest::Client::new() }
    }

    async fn send(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut request = self.client.request(method, format!("{}{path}", self.base)).bearer_auth(&self.key);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        (status, if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap() })
    }

    async fn ok(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        let (status, body) = self.send(method, path, body).await;
        assert!(status.is_success(), "{path}: {status} {body}");
        body
    }

    /// The directory's users through the compatible API, by first name: (role, roles).
    async fn roles(&self, directory: &Directory) -> Vec<(String, Value, Vec<String>)> {
        let path = format!("/directory_users?directory={}&order=asc", workos_directory(directory));
        let users = self.ok(Method::GET, &path, None).await;
        users["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|user| {
                let roles = user["roles"].as_array().unwrap().iter().map(|r| r["slug"].as_str().unwrap().to_owned());
                (user["raw_attributes"]["userName"].as_str().unwrap().to_owned(), user["role"].clone(), roles.collect())
            })
            .collect()
    }

    /// The `dsync.user.updated` events after `after` (an event id), oldest first, once
    /// `expected` of them are listed: on PostgreSQL an event is listed only after every
    /// older transaction of the cluster has ended (other tests' too). A batch's events
    /// commit together, so none of them lags behind the others.
    async fn updates(&self, after: Option<&str>, expected: usize) -> Vec<Value> {
        let mut path = "/events?events=dsync.user.updated&limit=100".to_owned();
        if let Some(after) = after {
            path.push_str(&format!("&after={after}"));
        }
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            let page = self.ok(Method::GET, &path, None).await["data"].as_array().unwrap().clone();
            if page.len() >= expected || std::time::Instant::now() > deadline {
                return page;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
}

fn workos_directory(directory: &Directory) -> String {
    service::directory_sync::ids::directory_id(directory.id)
}

/// Runs the background worker until nothing is pending; answers the users it examined.
async fn republish(db: &TestDatabase, server: &TestServer) -> usize {
    let public_base = format!("http://{}", server.address());
    let effects = service::Effects::system();
    let mut examined = 0;
    loop {
        match service::republish::republish_pending(&db.store, &public_base, &effects).await.unwrap() {
            0 => return examined,
            n => examined += n,
        }
    }
}

fn role(slug: &str, precedence: i64, is_default: bool) -> Value {
    json!({ "slug": slug, "name": slug.to_uppercase(), "precedence": precedence, "is_default": is_default })
}

async fn group(directory: &Directory, name: &str, members: &[&str]) -> String {
    let members: Vec<Value> = members.iter().map(|id| json!({ "value": id })).collect();
    let body =
        json!({ "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": name, "members": members });
    directory.send(Method::POST, "/Groups", body).await["id"].as_str().unwrap().to_owned()
}

async fn the_operator_manages_roles_through_the_api(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let vendor = Vendor::new(&db, &server).await;
    let (status, _) = reqwest::Client::new()
        .get(format!("{}/api/v1/roles", vendor.base))
        .send()
        .await
        .map(|r| (r.status(), ()))
        .unwrap();
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let created = vendor.ok(Method::POST, "/api/v1/roles", Some(role("member", 2, true))).await;
    assert_eq!((created["slug"].as_str(), created["is_default"].as_bool()), (Some("member"), Some(true)));
    vendor.ok(Method::POST, "/api/v1/roles", Some(role("admin", 1, false))).await;
    let (status, problem) = vendor.send(Method::POST, "/api/v1/roles", Some(role("admin", 3, false))).await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    for (bad, field) in [(role("Not A Slug", 1, false), "slug"), (role("x", 0, false), "precedence")] {
        let (status, problem) = vendor.send(Method::POST, "/api/v1/roles", Some(bad)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(problem["detail"].as_str().unwrap().contains(field), "{problem}");
    }
    let listed = vendor.ok(Method::GET, "/api/v1/roles", None).await;
    let slugs: Vec<&str> = listed.as_array().unwrap().iter().map(|r| r["slug"].as_str().unwrap()).collect();
    assert_eq!(slugs, ["admin", "member"], "in precedence order");

    // A new default replaces the previous one.
    let changed = vendor.ok(Method::PUT, "/api/v1/roles/admin", Some(role("admin", 5, true))).await;
    assert_eq!(changed["precedence"], 5);
    let listed = vendor.ok(Method::GET, "/api/v1/roles", None).await;
    let defaults: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["is_default"] == true)
        .map(|r| r["slug"].as_str().unwrap())
        .collect();
    assert_eq!(defaults, ["admin"]);
    let (status, _) = vendor.send(Method::PUT, "/api/v1/roles/admin", Some(role("renamed", 5, false))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "a slug cannot change");
    let (status, _) = vendor.send(Method::PUT, "/api/v1/roles/nobody", Some(role("nobody", 1, false))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (status, _) = vendor.send(Method::DELETE, "/api/v1/roles/admin", None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = vendor.send(Method::DELETE, "/api/v1/roles/admin", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let listed = vendor.ok(Method::GET, "/api/v1/roles", None).await;
    assert_eq!(listed.as_array().unwrap().len(), 1);
}

async fn users_get_the_roles_their_groups_grant_and_every_change_publishes_the_previous_roles(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let vendor = Vendor::new(&db, &server).await;
    vendor.ok(Method::POST, "/api/v1/roles", Some(role("admin", 1, false))).await;
    vendor.ok(Method::POST, "/api/v1/roles", Some(role("member", 2, true))).await;
    let acme = Directory::new(&db, &server, "acme").await;
    republish(&db, &server).await;
    let ada = acme.create_user("ada@acme.example").await;
    let bob = acme.create_user("bob@acme.example").await;
    let admins = group(&acme, "Admins", &[&ada]).await;
    let member = json!({ "slug": "member" });
    let admin = json!({ "slug": "admin" });
    assert_eq!(
        vendor.roles(&acme).await,
        [
            ("ada@acme.example".to_owned(), member.clone(), vec!["member".to_owned()]),
            ("bob@acme.example".to_owned(), member.clone(), vec!["member".to_owned()]),
        ],
        "no group grants anything yet: the default role"
    );
    // Creations only so far: no update to start after.
    assert!(vendor.updates(None, 0).await.is_empty());

    // The admin grants `admin` to Admins: Ada's roles change, Bob's do not.
    let path = format!("/api/v1/directories/{}/group-roles", acme.id);
    let saved = vendor.ok(Method::PUT, &path, Some(json!({ "grants": [{ "group": admins, "role": "admin" }] }))).await;
    assert_eq!(saved["users_per_role"], json!({ "admin": 1, "member": 1 }));
    assert_eq!(saved["republish"]["finished"], false, "re-derived in the background");
    assert_eq!(republish(&db, &server).await, 2, "one pass over both users");
    let roles = vendor.roles(&acme).await;
    assert_eq!(roles[0], ("ada@acme.example".to_owned(), admin.clone(), vec!["admin".to_owned()]));
    assert_eq!(roles[1].1, member);
    let updates = vendor.updates(None, 1).await;
    assert_eq!(updates.len(), 1, "only Ada's view changed: {updates:?}");
    let data = &updates[0]["data"];
    assert_eq!(data["raw_attributes"]["userName"], "ada@acme.example");
    assert_eq!(data["role"], admin);
    assert_eq!(data["previous_attributes"], json!({ "role": { "slug": "member" }, "roles": [{ "slug": "member" }] }));
    let progress = vendor.ok(Method::GET, &path, None).await["republish"].clone();
    assert_eq!((progress["total"].as_i64(), progress["done"].as_i64()), (Some(2), Some(2)));
    assert_eq!((progress["changed"].as_i64(), progress["finished"].as_bool()), (Some(1), Some(true)));

    // Bob joins Admins: the membership change queues him; he gains `admin`.
    let last = updates.last().map(|e| e["id"].as_str().unwrap().to_owned());
    acme.patch(&format!("/Groups/{admins}"), json!([{ "op": "add", "path": "members", "value": [{ "value": bob }] }]))
        .await;
    assert_eq!(republish(&db, &server).await, 1, "only the new member is re-derived");
    let updates = vendor.updates(last.as_deref(), 1).await;
    assert_eq!(updates.len(), 1);
    assert_eq!(updates[0]["data"]["raw_attributes"]["userName"], "bob@acme.example");
    assert_eq!(updates[0]["data"]["previous_attributes"]["role"], member);

    // Ada leaves, then the group goes: both fall back to the default role.
    let last = updates.last().map(|e| e["id"].as_str().unwrap().to_owned());
    acme.patch(
        &format!("/Groups/{admins}"),
        json!([{ "op": "remove", "path": format!("members[value eq \"{ada}\"]") }]),
    )
    .await;
    acme.send(Method::DELETE, &format!("/Groups/{admins}"), Value::Null).await;
    republish(&db, &server).await;
    let updates = vendor.updates(last.as_deref(), 2).await;
    let names: Vec<&str> = updates.iter().map(|e| e["data"]["raw_attributes"]["userName"].as_str().unwrap()).collect();
    assert_eq!(names, ["ada@acme.example", "bob@acme.example"]);
    assert!(updates.iter().all(|e| e["data"]["previous_attributes"]["role"] == admin), "{updates:?}");
    let roles = vendor.roles(&acme).await;
    assert!(roles.iter().all(|(_, role, _)| *role == member), "{roles:?}");
    assert_eq!(republish(&db, &server).await, 0, "nothing left to do");
}

async fn a_mapping_change_re_derives_every_user_and_publishes_only_the_changed_ones(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let vendor = Vendor::new(&db, &server).await;
    let acme = Directory::new(&db, &server, "acme").await;
    let enterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
    for name in ["ada", "bob"] {
        let body = json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", enterprise],
            "userName": format!("{name}@acme.example"),
            enterprise: { "department": "R&D" },
        });
        acme.send(Method::POST, "/Users", body).await;
    }
    acme.create_user("cyd@acme.example").await;
    republish(&db, &server).await;
    assert!(vendor.updates(None, 0).await.is_empty(), "creations only so far");

    // The admin unmaps the department.
    let tenant = db.store.directory_owner(acme.id).await.unwrap().unwrap();
    let (mut rows, _) = service::onboarding::mapping(&db.store, tenant, acme.id).await.unwrap();
    let department = rows.iter_mut().find(|row| row.attribute.ends_with(":department")).unwrap();
    department.source.clear();
    let now = service::Effects::system().now();
    service::onboarding::save_mapping(&db.store, tenant, acme.id, rows, &service::Actor::Cli, now).await.unwrap();

    // A worker that stops after one user (a restart) leaves the pass to go on from there.
    let context = store::WriteContext { actor: service::provisioning::REPUBLISH_ACTOR.into(), at: now };
    let data = db.store.tenant(tenant).directory_data(acme.id);
    let first = data.republish_batch(1, &context, |_| store::Republished::Unchanged).await.unwrap();
    assert_eq!((first.examined, first.more), (1, true));
    let job = db.store.tenant(tenant).republish_job(acme.id).await.unwrap().unwrap();
    assert_eq!((job.reason.as_str(), job.total, job.done, job.finished_at), ("attribute mapping", Some(3), 1, None));
    assert_eq!(republish(&db, &server).await, 2, "the rest of the pass");
    let job = db.store.tenant(tenant).republish_job(acme.id).await.unwrap().unwrap();
    assert_eq!((job.done, job.changed), (3, 1));
    assert!(job.finished_at.is_some());

    // The user the interrupted batch skipped (the first in id order) was passed over there
    // (its compute said "unchanged"); the other user with a department is published.
    let updates = vendor.updates(None, 1).await;
    assert_eq!(updates.len(), 1, "{updates:?}");
    assert_eq!(updates[0]["data"]["custom_attributes"], json!({}));
    assert_eq!(updates[0]["data"]["previous_attributes"], json!({ "custom_attributes": { "department": "R&D" } }));

    // Asking again re-derives everyone and publishes what is still unpublished, once.
    let mut action = db.store.tenant(tenant).begin_action().await.unwrap();
    action.request_republish(acme.id, "attribute mapping", now).await.unwrap();
    action.commit_without_audit_for_tests().await.unwrap();
    assert_eq!(republish(&db, &server).await, 3);
    let updates = vendor.updates(None, 2).await;
    assert_eq!(updates.len(), 2, "the skipped user now, no repeat of the other: {updates:?}");
    assert_eq!(republish(&db, &server).await, 0);
}

async fn grants_are_checked_and_recorded_in_the_tenants_trail(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let vendor = Vendor::new(&db, &server).await;
    vendor.ok(Method::POST, "/api/v1/roles", Some(role("admin", 1, false))).await;
    let acme = Directory::new(&db, &server, "acme").await;
    let ada = acme.create_user("ada@acme.example").await;
    let admins = group(&acme, "Admins", &[&ada]).await;
    let path = format!("/api/v1/directories/{}/group-roles", acme.id);
    for (grants, what) in [
        (json!([{ "group": "no-such-group", "role": "admin" }]), "group"),
        (json!([{ "group": admins, "role": "no-such-role" }]), "role"),
    ] {
        let (status, problem) = vendor.send(Method::PUT, &path, Some(json!({ "grants": grants }))).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{problem}");
        assert!(problem["detail"].as_str().unwrap().contains(what), "{problem}");
    }
    let (status, _) =
        vendor.send(Method::PUT, "/api/v1/directories/nope/group-roles", Some(json!({ "grants": [] }))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let saved = vendor.ok(Method::PUT, &path, Some(json!({ "grants": [{ "group": admins, "role": "admin" }] }))).await;
    assert_eq!(saved["grants"], json!([{ "group": admins, "role": "admin" }]));
    assert_eq!(saved["users_without_role"], 0);

    let tenant = db.store.directory_owner(acme.id).await.unwrap().unwrap();
    let trail = db.store.tenant(tenant).audit_records(0, 1000).await.unwrap();
    let saved = trail.iter().find(|record| record.action == "directory.group_roles_saved").expect("recorded");
    let detail: Value = serde_json::from_str(&saved.detail).unwrap();
    assert_eq!(detail["grants"], json!([{ "group": admins, "role": "admin" }]));
    assert!(saved.actor.starts_with("api-key:"), "{}", saved.actor);
}

async fn a_deleted_directorys_users_are_not_re_derived(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let vendor = Vendor::new(&db, &server).await;
    let acme = Directory::new(&db, &server, "acme").await;
    acme.create_user("ada@acme.example").await;
    let path = format!("/api/v1/directories/{}/group-roles", acme.id);
    vendor.ok(Method::PUT, &path, Some(json!({ "grants": [] }))).await;
    let tenant = db.store.directory_owner(acme.id).await.unwrap().unwrap();
    vendor.ok(Method::DELETE, &format!("/api/v1/tenants/acme/directories/{}", acme.id), None).await;
    assert_eq!(republish(&db, &server).await, 0, "its pending pass waits for the purge");
    // A role change asks every directory in use for a pass, not the deleted one.
    vendor.ok(Method::POST, "/api/v1/roles", Some(role("viewer", 1, true))).await;
    assert_eq!(republish(&db, &server).await, 0);
    let job = db.store.tenant(tenant).republish_job(acme.id).await.unwrap().unwrap();
    assert_eq!((job.reason.as_str(), job.done), ("group roles", 0), "not restarted by the role change");
}
