//! The WorkOS-compatible Directory Sync API: what the official SDKs call, with its shapes,
//! paging and errors. The SDK itself drives the same routes in `end2end/`.

use reqwest::StatusCode;
use serde_json::{Value, json};
use store::testing::TestDatabase;

use crate::TestServer;
use crate::operator_api::{Directory, api_key, events};

store::backend_tests!(
    the_compatible_api_needs_an_api_key_and_answers_errors_as_json_objects,
    organizations_and_directories_are_tenants_and_their_directories,
    directory_users_carry_the_mapping_their_groups_and_their_state,
    lists_page_forwards_and_backwards_without_gaps_or_repeats,
    groups_list_by_directory_and_by_member,
    unknown_ids_and_bad_parameters_are_404_and_422,
    events_carry_the_tenant_and_the_normalized_resource_with_its_previous_attributes,
    the_self_test_never_reaches_the_vendors_product,
    the_deployments_events_page_in_order_across_tenants_with_one_event_per_member,
    event_queries_are_checked,
);

const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/// A client of the compatible API with an operator API key.
pub(crate) struct Api {
    pub(crate) base: String,
    pub(crate) key: String,
    pub(crate) client: reqwest::Client,
}

impl Api {
    pub(crate) async fn new(db: &TestDatabase, server: &TestServer) -> Self {
        Self { base: format!("http://{}", server.address()), key: api_key(db).await, client: reqwest::Client::new() }
    }

    pub(crate) async fn call(&self, path: &str) -> (StatusCode, Value) {
        let response = self.client.get(format!("{}{path}", self.base)).bearer_auth(&self.key).send().await.unwrap();
        let status = response.status();
        let content_type = response.headers()["content-type"].to_str().unwrap().to_owned();
        assert!(content_type.starts_with("application/json"), "{path}: {content_type}");
        assert!(response.headers().contains_key("x-request-id"), "{path}: no request id");
        (status, response.json().await.unwrap())
    }

    pub(crate) async fn get(&self, path: &str) -> Value {
        let (status, body) = self.call(path).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        body
    }
}

/// A user with enterprise and name attributes.
fn person(user_name: &str, given: &str, department: &str) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE],
        "userName": user_name,
        "externalId": format!("okta-{given}"),
        "name": { "givenName": given, "familyName": "Example" },
        "title": "Engineer",
        "emails": [{ "value": user_name, "type": "work", "primary": true }],
        "active": true,
        ENTERPRISE: { "department": department, "manager": { "value": "boss" } },
    })
}

pub(crate) async fn provision(directory: &Directory, user_name: &str, given: &str) -> String {
    let body = person(user_name, given, "R&D");
    directory.send(reqwest::Method::POST, "/Users", body).await["id"].as_str().unwrap().to_owned()
}

pub(crate) async fn group(directory: &Directory, name: &str, members: &[&str]) -> String {
    let members: Vec<Value> = members.iter().map(|id| json!({ "value": id })).collect();
    let body =
        json!({ "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": name, "members": members });
    directory.send(reqwest::Method::POST, "/Groups", body).await["id"].as_str().unwrap().to_owned()
}

/// The API id of the directory of `tenant`.
pub(crate) async fn directory_id(api: &Api, tenant: &str) -> String {
    let organization = api.get(&format!("/organizations/external_id/{tenant}")).await;
    let directories = api.get(&format!("/directories?organization_id={}", organization["id"].as_str().unwrap())).await;
    directories["data"][0]["id"].as_str().unwrap().to_owned()
}

async fn the_compatible_api_needs_an_api_key_and_answers_errors_as_json_objects(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let client = reqwest::Client::new();
    for key in [None, Some("scimk_wrong")] {
        let mut request = client.get(format!("http://{}/organizations", server.address()));
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        let body: Value = response.json().await.unwrap();
        assert!(body["message"].is_string() && body["code"].is_string(), "{body}");
    }
    let api = Api::new(&db, &server).await;
    let (status, body) = api.call("/directory_users/directory_user_nope").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["code"], "entity_not_found");
}

async fn organizations_and_directories_are_tenants_and_their_directories(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let acme = Directory::new(&db, &server, "acme").await;
    let _globex = Directory::new(&db, &server, "globex").await;
    provision(&acme, "ada@acme.example", "Ada").await;
    let api = Api::new(&db, &server).await;

    let organizations = api.get("/organizations?order=asc").await;
    let names: Vec<&str> =
        organizations["data"].as_array().unwrap().iter().map(|o| o["external_id"].as_str().unwrap()).collect();
    assert_eq!(names, ["acme", "globex"]);
    assert_eq!(organizations["list_metadata"], json!({ "before": null, "after": null }));
    let acme_org = &organizations["data"][0];
    assert_eq!((acme_org["object"].as_str(), acme_org["domains"].clone()), (Some("organization"), json!([])));
    assert_eq!(api.get(&format!("/organizations/{}", acme_org["id"].as_str().unwrap())).await, *acme_org);
    assert_eq!(api.get("/organizations/external_id/acme").await, *acme_org);
    assert_eq!(api.get("/organizations?domains=acme.example").await["data"], json!([]), "tenants have no domains");

    let all = api.get("/directories").await;
    assert_eq!(all["data"].as_array().unwrap().len(), 2);
    let of_acme = api.get(&format!("/directories?organization_id={}", acme_org["id"].as_str().unwrap())).await;
    let directory = &of_acme["data"][0];
    assert_eq!(of_acme["data"].as_array().unwrap().len(), 1);
    assert_eq!(directory["organization_id"], acme_org["id"]);
    assert_eq!(directory["type"], "okta scim v2.0");
    assert_eq!(directory["state"], "unlinked", "its setup is not complete");
    assert_eq!(directory["metadata"], json!({ "users": { "active": 1, "inactive": 0 }, "groups": 0 }));
    assert_eq!(api.get(&format!("/directories/{}", directory["id"].as_str().unwrap())).await, *directory);
    assert_eq!(api.get("/directories?search=OKTA").await["data"].as_array().unwrap().len(), 2);
    assert_eq!(api.get("/directories?search=entra").await["data"], json!([]));
    assert_eq!(api.get("/directories?organization_id=org_00000000000000000000000000000000").await["data"], json!([]));
}

async fn directory_users_carry_the_mapping_their_groups_and_their_state(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let acme = Directory::new(&db, &server, "acme").await;
    let ada = provision(&acme, "ada@acme.example", "Ada").await;
    let bob = provision(&acme, "bob@acme.example", "Bob").await;
    group(&acme, "Engineering", &[&ada]).await;
    acme.patch(&format!("/Users/{bob}"), json!([{ "op": "replace", "path": "active", "value": false }])).await;
    let api = Api::new(&db, &server).await;
    let directory = directory_id(&api, "acme").await;

    let users = api.get(&format!("/directory_users?directory={directory}&order=asc")).await;
    let (first, second) = (&users["data"][0], &users["data"][1]);
    assert_eq!(first["object"], "directory_user");
    assert_eq!(first["directory_id"], directory.as_str());
    assert_eq!(
        (&first["idp_id"], &first["email"], &first["first_name"], &first["last_name"], &first["state"]),
        (&json!("okta-Ada"), &json!("ada@acme.example"), &json!("Ada"), &json!("Example"), &json!("active"))
    );
    assert_eq!(
        first["custom_attributes"],
        json!({ "job_title": "Engineer", "department": "R&D", "manager_id": "boss" }),
        "the default Okta mapping's custom attributes"
    );
    assert_eq!(first["raw_attributes"]["userName"], "ada@acme.example");
    assert_eq!(first["groups"][0]["name"], "Engineering");
    assert_eq!(first["groups"][0]["object"], "directory_group");
    assert_eq!(second["state"], "inactive", "deactivated by the identity provider");
    assert_eq!(second["groups"], json!([]), "the flat route always carries groups");

    let scoped = api.get(&format!("/directories/{directory}/users?order=asc")).await;
    assert!(scoped["data"][0].get("groups").is_none(), "a directory's own route leaves groups out");
    let id = first["id"].as_str().unwrap();
    assert_eq!(api.get(&format!("/directory_users/{id}")).await, *first);
    assert_eq!(api.get(&format!("/directories/{directory}/users/{id}")).await, scoped["data"][0]);
    let by_email = api.get(&format!("/directories/{directory}/users?email=bob@acme.example")).await;
    assert_eq!(by_email["data"][0]["first_name"], "Bob");
    let by_idp_id = api.get(&format!("/directories/{directory}/users?idp_id=okta-Ada")).await;
    assert_eq!(by_idp_id["data"][0]["id"], first["id"]);
}

async fn lists_page_forwards_and_backwards_without_gaps_or_repeats(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let acme = Directory::new(&db, &server, "acme").await;
    let mut created = Vec::new();
    for n in 0..7 {
        created.push(provision(&acme, &format!("user{n}@acme.example"), &format!("User{n}")).await);
    }
    let api = Api::new(&db, &server).await;
    let directory = directory_id(&api, "acme").await;
    let names = |page: &Value| -> Vec<String> {
        page["data"].as_array().unwrap().iter().map(|u| u["first_name"].as_str().unwrap().to_owned()).collect()
    };

    // The SDKs' default order is newest first; walking `after` visits everyone once.
    let mut seen = Vec::new();
    let mut path = format!("/directories/{directory}/users?limit=3&order=desc");
    let mut pages = Vec::new();
    loop {
        let page = api.get(&path).await;
        seen.extend(names(&page));
        pages.push(page.clone());
        match page["list_metadata"]["after"].as_str() {
            Some(after) => path = format!("/directories/{directory}/users?limit=3&order=desc&after={after}"),
            None => break,
        }
    }
    let expected: Vec<String> = (0..7).rev().map(|n| format!("User{n}")).collect();
    assert_eq!(seen, expected);
    assert_eq!(pages.len(), 3);
    assert_eq!(pages[0]["list_metadata"]["before"], Value::Null, "nothing precedes the first page");

    // `before` of the last page reads the page preceding it.
    let before = pages[2]["list_metadata"]["before"].as_str().unwrap();
    let back = api.get(&format!("/directories/{directory}/users?limit=3&order=desc&before={before}")).await;
    assert_eq!(names(&back), names(&pages[1]));

    // A cursor of another list is refused.
    let other = Directory::new(&db, &server, "globex").await;
    provision(&other, "x@globex.example", "X").await;
    let foreign = api.get(&format!("/directory_users?directory={}", directory_id(&api, "globex").await)).await;
    let cursor = foreign["data"][0]["id"].as_str().unwrap();
    let (status, body) = api.call(&format!("/directories/{directory}/users?after={cursor}")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["errors"][0]["field"], "after");
}

async fn groups_list_by_directory_and_by_member(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let acme = Directory::new(&db, &server, "acme").await;
    let ada = provision(&acme, "ada@acme.example", "Ada").await;
    let bob = provision(&acme, "bob@acme.example", "Bob").await;
    group(&acme, "Engineering", &[&ada, &bob]).await;
    group(&acme, "Sales", &[&bob]).await;
    let api = Api::new(&db, &server).await;
    let directory = directory_id(&api, "acme").await;

    let groups = api.get(&format!("/directory_groups?directory={directory}&order=asc")).await;
    let names: Vec<&str> = groups["data"].as_array().unwrap().iter().map(|g| g["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Engineering", "Sales"]);
    let engineering = &groups["data"][0];
    assert_eq!(engineering["directory_id"], directory.as_str());
    assert_eq!(api.get(&format!("/directory_groups/{}", engineering["id"].as_str().unwrap())).await, *engineering);

    let users = api.get(&format!("/directories/{directory}/users?order=asc")).await;
    let ada_id = users["data"][0]["id"].as_str().unwrap();
    let of_ada = api.get(&format!("/directory_groups?user={ada_id}")).await;
    assert_eq!(of_ada["data"].as_array().unwrap().len(), 1);
    assert_eq!(of_ada["data"][0]["name"], "Engineering");
    let sales = &groups["data"][1]["id"];
    let in_sales = api.get(&format!("/directory_users?group={}", sales.as_str().unwrap())).await;
    assert_eq!(in_sales["data"].as_array().unwrap().len(), 1);
    assert_eq!(in_sales["data"][0]["first_name"], "Bob");
    let scoped = api.get(&format!("/directories/{directory}/groups?user={ada_id}")).await;
    assert_eq!(scoped["data"], of_ada["data"]);
}

async fn unknown_ids_and_bad_parameters_are_404_and_422(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let acme = Directory::new(&db, &server, "acme").await;
    provision(&acme, "ada@acme.example", "Ada").await;
    let api = Api::new(&db, &server).await;
    let directory = directory_id(&api, "acme").await;
    let unknown_directory = "directory_00000000000000000000000000000000";
    for path in [
        "/organizations/org_00000000000000000000000000000000".to_owned(),
        "/organizations/nonsense".to_owned(),
        "/organizations/external_id/nobody".to_owned(),
        format!("/directories/{unknown_directory}"),
        format!("/directories/{unknown_directory}/users"),
        format!("/directory_users?directory={unknown_directory}"),
        format!("/directory_users/directory_user_{}00000000000000000000000000000000", &directory[10..]),
        format!("/directory_groups/directory_group_{}00000000000000000000000000000000", &directory[10..]),
        format!("/directory_users?group=directory_group_{}00000000000000000000000000000000", &directory[10..]),
    ] {
        let (status, body) = api.call(&path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {body}");
        assert!(body["message"].is_string(), "{path}: {body}");
    }
    for (path, field) in [
        ("/directory_users".to_owned(), "directory"),
        ("/directory_groups".to_owned(), "directory"),
        (format!("/directories/{directory}/users?limit=0"), "limit"),
        (format!("/directories/{directory}/users?limit=101"), "limit"),
        (format!("/directories/{directory}/users?limit=ten"), "limit"),
        (format!("/directories/{directory}/users?order=sideways"), "order"),
        (format!("/directories/{directory}/users?after=x&before=y"), "before"),
        (format!("/directories/{directory}/users?after=garbage"), "after"),
        ("/organizations?before=garbage".to_owned(), "before"),
    ] {
        let (status, body) = api.call(&path).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{path}: {body}");
        assert_eq!(body["errors"][0]["field"], field, "{path}: {body}");
    }
}

async fn events_carry_the_tenant_and_the_normalized_resource_with_its_previous_attributes(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let acme = Directory::new(&db, &server, "acme").await;
    let ada = provision(&acme, "ada@acme.example", "Ada").await;
    let department = format!("{ENTERPRISE}:department");
    acme.patch(
        &format!("/Users/{ada}"),
        json!([
            { "op": "replace", "path": "active", "value": false },
            { "op": "replace", "path": department, "value": "Sales" },
        ]),
    )
    .await;
    let engineering = group(&acme, "Engineering", &[&ada]).await;
    acme.patch(&format!("/Groups/{engineering}"), json!([{ "op": "replace", "path": "displayName", "value": "Eng" }]))
        .await;
    let key = api_key(&db).await;
    let tenant = db.store.tenant_by_slug(&"acme".parse().unwrap()).await.unwrap().unwrap();

    let (status, page) = events(&server, &key, &acme.id.to_string(), "").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let all = page["events"].as_array().unwrap();
    let kinds: Vec<&str> = all.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["user.created", "user.deactivated", "group.created", "group.member_added", "group.updated"]);
    assert!(all.iter().all(|event| event["tenant"] == tenant.id.to_string().as_str()), "every event names its tenant");

    let (created, deactivated) = (&all[0], &all[1]);
    assert_eq!(created["normalized"]["custom_attributes"]["department"], "R&D");
    assert_eq!(created["normalized"]["idp_id"], "okta-Ada");
    assert!(created.get("previous_attributes").is_none(), "a creation changes nothing that was");
    assert_eq!(deactivated["normalized"]["state"], "inactive");
    assert_eq!(
        deactivated["previous_attributes"],
        json!({ "state": "active", "custom_attributes": { "department": "R&D" } }),
        "the old values of exactly what changed"
    );
    assert!(all[3].get("normalized").is_none(), "a membership event carries its group and members in data");
    assert_eq!(all[4]["normalized"], json!({ "idp_id": engineering, "name": "Eng" }));
    assert_eq!(all[4]["previous_attributes"], json!({ "name": "Engineering" }));
}

async fn the_self_test_never_reaches_the_vendors_product(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let acme = Directory::new(&db, &server, "acme").await;
    provision(&acme, "ada@acme.example", "Ada").await;
    let tenant = db.store.tenant_by_slug(&"acme".parse().unwrap()).await.unwrap().unwrap();

    let base = format!("http://{}", server.address());
    let effects = service::Effects::system();
    let report =
        service::self_test::run(&db.store, tenant.id, acme.id, &base, &service::Actor::Cli, &effects).await.unwrap();
    assert!(report.passed, "{report:?}");
    // It did provision through the SCIM endpoint: its requests are in the trail.
    let trail = db.store.tenant(tenant.id).audit_records(0, 1000).await.unwrap();
    let created = trail.iter().filter(|r| r.method.as_deref() == Some("POST") && r.status == Some(201)).count();
    assert!(created >= 3, "the self-test's creations are recorded as requests ({created})");

    let key = api_key(&db).await;
    let (_, page) = events(&server, &key, &acme.id.to_string(), "").await;
    let resources: Vec<&str> = page["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["resource_type"] != "Directory")
        .map(|e| e["resource_id"].as_str().unwrap())
        .collect();
    assert_eq!(resources.len(), 1, "only the identity provider's user reaches the feed: {page}");
    // The passing self-test completed the setup: that activation is real and reaches it.
    let directory_changes: Vec<&str> = page["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["resource_type"] == "Directory")
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(directory_changes, ["directory.activated"], "{page}");
    let api = Api::new(&db, &server).await;
    let directory = directory_id(&api, "acme").await;
    let users = api.get(&format!("/directory_users?directory={directory}")).await;
    assert_eq!(users["data"].as_array().unwrap().len(), 1);
    assert_eq!(api.get(&format!("/directories/{directory}")).await["metadata"]["groups"], 0);
    let deployment = api.events_when(&format!("{ALL_EVENTS}&limit=100"), 1).await;
    assert_eq!(deployment["data"].as_array().unwrap().len(), 1, "{deployment}");
}

impl Api {
    /// The events a query finds once `count` are there: on PostgreSQL an event is listed
    /// only after every older transaction of the cluster has ended (other tests' too).
    pub(crate) async fn events_when(&self, query: &str, count: usize) -> Value {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            let page = self.get(&format!("/events?{query}")).await;
            if page["data"].as_array().unwrap().len() >= count || std::time::Instant::now() > deadline {
                return page;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
}

const ALL_EVENTS: &str = "events=dsync.user.created,dsync.user.updated,dsync.user.deleted,dsync.group.created,\
dsync.group.updated,dsync.group.deleted,dsync.group.user_added,dsync.group.user_removed";

async fn the_deployments_events_page_in_order_across_tenants_with_one_event_per_member(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let acme = Directory::new(&db, &server, "acme").await;
    let globex = Directory::new(&db, &server, "globex").await;
    let ada = provision(&acme, "ada@acme.example", "Ada").await;
    let bob = provision(&acme, "bob@acme.example", "Bob").await;
    let cy = provision(&acme, "cy@acme.example", "Cy").await;
    provision(&globex, "gus@globex.example", "Gus").await;
    let team = group(&acme, "Team", &[&ada, &bob, &cy]).await;
    acme.patch(&format!("/Users/{bob}"), json!([{ "op": "replace", "path": "active", "value": false }])).await;
    acme.patch(&format!("/Groups/{team}"), json!([{ "op": "remove", "path": format!("members[value eq \"{cy}\"]") }]))
        .await;
    let api = Api::new(&db, &server).await;

    // 4 users, 1 group, 3 members added, 1 deactivation, 1 member removed.
    let everything = api.events_when(&format!("{ALL_EVENTS}&limit=100"), 10).await;
    let all: Vec<(String, String)> = everything["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["event"].as_str().unwrap().to_owned(), e["id"].as_str().unwrap().to_owned()))
        .collect();
    let types: Vec<&str> = all.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(
        types,
        [
            "dsync.user.created",
            "dsync.user.created",
            "dsync.user.created",
            "dsync.user.created",
            "dsync.group.created",
            "dsync.group.user_added",
            "dsync.group.user_added",
            "dsync.group.user_added",
            "dsync.user.updated",
            "dsync.group.user_removed",
        ]
    );
    let data = &everything["data"];
    assert_eq!(data[3]["data"]["email"], "gus@globex.example", "every tenant's events, in the order written");
    assert_eq!(data[5]["data"]["user"]["email"], "ada@acme.example");
    assert_eq!(data[5]["data"]["group"]["name"], "Team");
    assert_eq!(data[7]["data"]["user"]["email"], "cy@acme.example");
    assert_eq!(data[8]["data"]["state"], "inactive");
    assert_eq!(data[8]["data"]["previous_attributes"], json!({ "state": "active" }));
    assert_eq!(data[9]["data"]["user"]["email"], "cy@acme.example");
    assert_eq!(everything["list_metadata"]["after"], data[9]["id"]);

    // Paging by two, cutting through the membership change, yields the same events.
    let mut paged = Vec::new();
    let mut after = String::new();
    loop {
        let query = if after.is_empty() {
            format!("{ALL_EVENTS}&limit=2")
        } else {
            format!("{ALL_EVENTS}&limit=2&after={after}")
        };
        let page = api.get(&format!("/events?{query}")).await;
        let ids: Vec<String> =
            page["data"].as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap().to_owned()).collect();
        if ids.is_empty() {
            break;
        }
        after = ids.last().unwrap().clone();
        paged.extend(ids);
    }
    assert_eq!(paged, all.iter().map(|(_, id)| id.clone()).collect::<Vec<_>>());

    // Filters: types, organization, time range.
    let created = api.get("/events?events=dsync.user.created&limit=100").await;
    assert_eq!(created["data"].as_array().unwrap().len(), 4);
    let organization = api.get("/organizations/external_id/globex").await["id"].as_str().unwrap().to_owned();
    let of_globex = api.get(&format!("/events?{ALL_EVENTS}&organization_id={organization}")).await;
    assert_eq!(of_globex["data"].as_array().unwrap().len(), 1);
    let later = api.get(&format!("/events?{ALL_EVENTS}&range_start=2999-01-01T00:00:00Z")).await;
    assert_eq!(later["data"], json!([]));
    let earlier = api.get(&format!("/events?{ALL_EVENTS}&range_end=2000-01-01T00:00:00Z")).await;
    assert_eq!(earlier["data"], json!([]));
    let activated = api.get("/events?events=dsync.activated").await;
    assert_eq!(activated["data"], json!([]), "a known type with no events yet");
}

async fn event_queries_are_checked(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let api = Api::new(&db, &server).await;
    for (query, field) in [
        ("", "events"),
        ("events=user.created", "events"),
        ("events=dsync.user.created&after=event_nope", "after"),
        ("events=dsync.user.created&after=event_0193000000007000800000000000aa00000000000004d2", "after"),
        ("events=dsync.user.created&range_start=yesterday", "range_start"),
        ("events=dsync.user.created&limit=500", "limit"),
        ("events=dsync.user.created&organization_id=acme", "organization_id"),
    ] {
        let (status, body) = api.call(&format!("/events?{query}")).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{query}: {body}");
        assert_eq!(body["errors"][0]["field"], field, "{query}: {body}");
    }
}
