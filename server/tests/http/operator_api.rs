//! The operator API: API keys, the event feed (order, replay, paging, long-polling) and the
//! OpenAPI document.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};
use service::directories::TokenRequest;
use store::IdentityProvider;
use store::testing::{FreshId as _, TestDatabase};

use crate::TestServer;

store::backend_tests!(
    the_operator_api_needs_a_valid_api_key,
    the_event_feed_replays_a_directorys_changes_in_order,
    a_waiting_read_returns_as_soon_as_a_change_is_committed,
    the_openapi_document_describes_the_event_feed,
    the_openapi_document_describes_the_audit_export,
    the_operator_api_manages_tenants_directories_and_setup_links,
    the_operator_api_reads_a_directorys_users_and_groups,
);

fn now() -> chrono::DateTime<chrono::Utc> {
    #[allow(clippy::disallowed_methods)] // the server reads the real clock too
    chrono::Utc::now()
}

/// A directory with a token, and a client that provisions into it.
pub(crate) struct Directory {
    pub(crate) id: store::DirectoryId,
    scim: String,
    token: String,
    client: reqwest::Client,
}

impl Directory {
    pub(crate) async fn new(db: &TestDatabase, server: &TestServer, tenant: &str) -> Self {
        let (_, directory, token) = crate::provisioned(
            db,
            tenant,
            IdentityProvider::Okta,
            TokenRequest { label: "test".into(), read_only: false, expires_at: None },
            now(),
        )
        .await;
        let scim = format!("http://{}/scim/v2/{}", server.address(), directory.id);
        Self { id: directory.id, scim, token: token.secret, client: reqwest::Client::new() }
    }

    pub(crate) async fn send(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let response = self
            .client
            .request(method, format!("{}{path}", self.scim))
            .bearer_auth(&self.token)
            .header("content-type", "application/scim+json")
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success(), "{path}: {}", response.status());
        response.json().await.unwrap_or(Value::Null)
    }

    pub(crate) fn scim_base(&self) -> &str {
        &self.scim
    }

    pub(crate) fn token(&self) -> &str {
        &self.token
    }

    /// POSTs a body and returns the status, whatever it is.
    pub(crate) async fn post_raw(&self, path: &str, body: &Value) -> u16 {
        let url = format!("{}{path}", self.scim);
        let request = self.client.post(url).bearer_auth(&self.token).header("content-type", "application/scim+json");
        request.body(body.to_string()).send().await.unwrap().status().as_u16()
    }

    pub(crate) async fn get_raw(&self, path: &str) -> u16 {
        let request = self.client.get(format!("{}{path}", self.scim)).bearer_auth(&self.token);
        request.send().await.unwrap().status().as_u16()
    }

    pub(crate) async fn create_user(&self, user_name: &str) -> String {
        let body =
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": user_name, "active": true});
        self.send(reqwest::Method::POST, "/Users", body).await["id"].as_str().unwrap().to_owned()
    }

    pub(crate) async fn patch(&self, path: &str, operations: Value) {
        let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": operations});
        self.send(reqwest::Method::PATCH, path, body).await;
    }
}

pub(crate) async fn api_key(db: &TestDatabase) -> String {
    service::api_keys::issue_api_key(
        &db.store,
        service::api_keys::ApiKeyRequest::full_access("test"),
        None,
        &service::Actor::Cli,
        &service::Effects::system(),
    )
    .await
    .unwrap()
    .secret
}

pub(crate) async fn events(server: &TestServer, key: &str, directory: &str, query: &str) -> (StatusCode, Value) {
    let url = format!("http://{}/api/v1/directories/{directory}/events{query}", server.address());
    let response = reqwest::Client::new().get(url).bearer_auth(key).send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap())
}

async fn the_operator_api_needs_a_valid_api_key(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let directory = Directory::new(&db, &server, "acme").await;
    let issued = service::api_keys::issue_api_key(
        &db.store,
        service::api_keys::ApiKeyRequest::full_access("product"),
        None,
        &service::Actor::Cli,
        &service::Effects::system(),
    )
    .await
    .unwrap();
    let id = directory.id.to_string();
    let url = format!("http://{}/api/v1/directories/{id}/events", server.address());

    let anonymous = reqwest::get(&url).await.unwrap();
    assert_eq!(anonymous.status(), 401);
    assert_eq!(anonymous.headers()["content-type"], "application/problem+json");
    assert_eq!(anonymous.headers()["www-authenticate"], "Bearer realm=\"operator-api\"");
    let problem: Value = anonymous.json().await.unwrap();
    assert_eq!((problem["status"].as_u64(), problem["type"].as_str()), (Some(401), Some("about:blank")));
    for wrong in [format!("{}x", issued.secret), directory.token.clone(), "scimk_".to_owned()] {
        assert_eq!(events(&server, &wrong, &id, "").await.0, 401, "{wrong}");
    }
    assert_eq!(events(&server, &issued.secret, &id, "").await.0, 200);

    assert!(service::api_keys::revoke_api_key(&db.store, issued.id, &service::Actor::Cli, now()).await.unwrap());
    assert_eq!(events(&server, &issued.secret, &id, "").await.0, 401, "a revoked key still works");
}

async fn the_event_feed_replays_a_directorys_changes_in_order(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let key = api_key(&db).await;
    let acme = Directory::new(&db, &server, "acme").await;
    let globex = Directory::new(&db, &server, "globex").await;
    globex.create_user("someone-else").await;

    let user = acme.create_user("bjensen").await;
    acme.patch(&format!("/Users/{user}"), json!([{"op": "replace", "path": "active", "value": false}])).await;
    acme.patch(&format!("/Users/{user}"), json!([{"op": "replace", "path": "active", "value": true}])).await;
    acme.patch(&format!("/Users/{user}"), json!([{"op": "replace", "path": "title", "value": "Boss"}])).await;
    let group = acme
        .send(
            reqwest::Method::POST,
            "/Groups",
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Admins", "members": [{"value": user}]}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    acme.patch(&format!("/Groups/{group}"), json!([{"op": "remove", "path": format!("members[value eq \"{user}\"]")}]))
        .await;
    acme.client.delete(format!("{}/Users/{user}", acme.scim)).bearer_auth(&acme.token).send().await.unwrap();

    // Read it all in pages of two.
    let id = acme.id.to_string();
    let mut all = Vec::new();
    let mut cursor = String::new();
    loop {
        let (status, page) = events(&server, &key, &id, &format!("?after={cursor}&limit=2")).await;
        assert_eq!(status, 200, "{page}");
        let batch = page["events"].as_array().unwrap().clone();
        assert!(batch.len() <= 2);
        cursor = page["next_cursor"].as_str().unwrap().to_owned();
        all.extend(batch);
        if !page["has_more"].as_bool().unwrap() {
            break;
        }
    }
    let types: Vec<&str> = all.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(
        types,
        [
            "user.created",
            "user.deactivated",
            "user.reactivated",
            "user.updated",
            "group.created",
            "group.member_added",
            "group.member_removed",
            "user.deleted"
        ]
    );
    assert!(all.iter().all(|e| e["directory"] == id.as_str()), "another directory's events leaked in");
    assert_eq!(all[0]["resource_id"], user.as_str());
    assert_eq!(all[0]["resource_type"], "User");
    assert_eq!(all[3]["data"]["title"], "Boss", "an event carries the resource after the change");
    assert_eq!(all[5]["data"]["members"], json!([user]));
    let cursors: Vec<i64> = all.iter().map(|e| e["cursor"].as_str().unwrap().parse().unwrap()).collect();
    assert!(cursors.windows(2).all(|pair| pair[0] < pair[1]), "{cursors:?}");
    let ids: std::collections::HashSet<&str> = all.iter().map(|e| e["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), all.len(), "event ids repeat");

    // Replay from the middle gives the same events again; the end gives nothing new.
    let middle = all[3]["cursor"].as_str().unwrap();
    let (_, replay) = events(&server, &key, &id, &format!("?after={middle}")).await;
    assert_eq!(replay["events"].as_array().unwrap(), &all[4..].to_vec());
    let (_, end) = events(&server, &key, &id, &format!("?after={cursor}")).await;
    assert_eq!((end["events"].as_array().unwrap().len(), end["next_cursor"].as_str()), (0, Some(cursor.as_str())));

    // Bad requests get problem documents.
    for query in ["?after=abc", "?after=-1", "?limit=0", "?limit=1001", "?limit=x", "?wait=26", "?wait=-1"] {
        let (status, problem) = events(&server, &key, &id, query).await;
        assert_eq!((status, problem["status"].as_u64()), (StatusCode::BAD_REQUEST, Some(400)), "{query}: {problem}");
    }
    for unknown in [store::DirectoryId::fresh().to_string(), "not-a-directory".to_owned()] {
        assert_eq!(events(&server, &key, &unknown, "").await.0, 404);
    }
}

async fn a_waiting_read_returns_as_soon_as_a_change_is_committed(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let key = api_key(&db).await;
    let acme = Directory::new(&db, &server, "acme").await;
    let id = acme.id.to_string();

    // Nothing happens: the read waits the time asked, then answers with no events.
    let started = Instant::now();
    let (status, idle) = events(&server, &key, &id, "?wait=1").await;
    assert_eq!((status, idle["events"].as_array().unwrap().len()), (StatusCode::OK, 0));
    assert!(started.elapsed() >= Duration::from_millis(900), "returned after {:?}", started.elapsed());

    // A change during the wait ends it at once.
    let cursor = idle["next_cursor"].as_str().unwrap().to_owned();
    let waiting = {
        let (address, key, id) = (server.address(), key.clone(), id.clone());
        tokio::spawn(async move {
            let url = format!("http://{address}/api/v1/directories/{id}/events?after={cursor}&wait=20");
            let started = Instant::now();
            let page: Value =
                reqwest::Client::new().get(url).bearer_auth(key).send().await.unwrap().json().await.unwrap();
            (page, started.elapsed())
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    acme.create_user("late").await;
    let (page, waited) = waiting.await.unwrap();
    assert_eq!(page["events"][0]["type"], "user.created");
    assert!(waited < Duration::from_secs(5), "the read waited {waited:?} after the change");
}

async fn the_openapi_document_describes_the_event_feed(db: TestDatabase) {
    let server = TestServer::start(&db).await;

    let document: Value =
        reqwest::get(format!("http://{}/api/openapi.json", server.address())).await.unwrap().json().await.unwrap();

    assert!(document["openapi"].as_str().unwrap().starts_with("3."), "{document}");
    let feed = &document["paths"]["/api/v1/directories/{directory}/events"]["get"];
    let parameters: Vec<&str> =
        feed["parameters"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(parameters, ["directory", "after", "limit", "wait"]);
    assert!(feed["responses"]["200"].is_object() && feed["responses"]["401"].is_object());
    assert_eq!(document["components"]["securitySchemes"]["api_key"]["scheme"], "bearer");
    assert!(document["components"]["schemas"]["Event"]["properties"]["cursor"].is_object());
}

async fn the_openapi_document_describes_the_audit_export(db: TestDatabase) {
    let server = TestServer::start(&db).await;

    let document: Value = reqwest::get(server.url("/api/openapi.json")).await.unwrap().json().await.unwrap();

    let export = &document["paths"]["/api/v1/tenants/{slug}/audit"]["get"];
    let parameters: Vec<&str> =
        export["parameters"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(parameters, ["slug", "format", "since", "until", "outcome", "operation", "resource", "directory"]);
    let content_types: Vec<&String> = export["responses"]["200"]["content"].as_object().unwrap().keys().collect();
    assert_eq!(content_types, ["application/x-ndjson", "text/csv"]);
    assert_eq!(
        export["responses"]["400"]["content"]["application/problem+json"]["schema"]["$ref"],
        "#/components/schemas/Problem"
    );
}

async fn the_operator_api_manages_tenants_directories_and_setup_links(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let key = api_key(&db).await;
    let api = reqwest::Client::new();
    let post = |path: &str, body: Value| api.post(server.url(path)).bearer_auth(&key).json(&body).send();

    let created = post("/api/v1/tenants", serde_json::json!({"slug": "acme", "display_name": "Acme"})).await.unwrap();
    let taken = post("/api/v1/tenants", serde_json::json!({"slug": "acme", "display_name": "Again"})).await.unwrap();
    let invalid =
        post("/api/v1/tenants", serde_json::json!({"slug": "Not A Slug", "display_name": "x"})).await.unwrap();
    let malformed = api
        .post(server.url("/api/v1/tenants"))
        .bearer_auth(&key)
        .body("{")
        .header("content-type", "application/json")
        .send()
        .await
        .unwrap();
    let directory = post("/api/v1/tenants/acme/directories", serde_json::json!({"idp": "entra"})).await.unwrap();
    let unknown_idp = post("/api/v1/tenants/acme/directories", serde_json::json!({"idp": "azure"})).await.unwrap();
    let link = post("/api/v1/tenants/acme/setup-links", serde_json::json!({"valid_days": 3})).await.unwrap();
    let too_long = post("/api/v1/tenants/acme/setup-links", serde_json::json!({"valid_days": 90})).await.unwrap();
    let no_tenant = post("/api/v1/tenants/globex/setup-links", serde_json::json!({})).await.unwrap();
    let without_key = reqwest::Client::new().get(server.url("/api/v1/tenants")).send().await.unwrap();

    assert_eq!(created.status(), 201);
    assert_eq!(taken.status(), 409);
    assert_eq!(invalid.status(), 400);
    assert_eq!(malformed.status(), 400);
    assert_eq!(malformed.headers()["content-type"], "application/problem+json");
    assert_eq!(directory.status(), 201);
    let directory: Value = directory.json().await.unwrap();
    let id: store::DirectoryId = directory["directory"]["id"].as_str().unwrap().parse().unwrap();
    assert!(
        service::directories::authenticate(&db.store, id, directory["token"].as_str().unwrap(), now()).await.is_ok()
    );
    assert_eq!(unknown_idp.status(), 400);
    assert_eq!(link.status(), 201);
    let link: Value = link.json().await.unwrap();
    let url = link["url"].as_str().unwrap();
    assert!(url.starts_with(&server.url("/setup/setup_")), "{url}");
    let page = reqwest::Client::new().get(url).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Connect Acme"), "the API's setup link does not open the portal");
    assert_eq!(too_long.status(), 400);
    assert_eq!(no_tenant.status(), 404);
    assert_eq!(without_key.status(), 401);
    let listed: Value =
        api.get(server.url("/api/v1/tenants")).bearer_auth(&key).send().await.unwrap().json().await.unwrap();
    assert_eq!((listed[0]["slug"].as_str(), listed[0]["directory_count"].as_i64()), (Some("acme"), Some(1)));
    let detail: Value =
        api.get(server.url("/api/v1/tenants/acme")).bearer_auth(&key).send().await.unwrap().json().await.unwrap();
    assert_eq!(detail["directories"][0]["idp"], "entra");
    assert_eq!(detail["directories"][0]["setup_completed"], false);
    let document: Value = reqwest::get(server.url("/api/openapi.json")).await.unwrap().json().await.unwrap();
    for path in [
        "/api/v1/tenants",
        "/api/v1/tenants/{slug}",
        "/api/v1/tenants/{slug}/directories",
        "/api/v1/tenants/{slug}/setup-links",
    ] {
        assert!(document["paths"][path].is_object(), "{path} is not in the OpenAPI document");
    }
    let tenant = db.store.tenant_by_slug(&"acme".parse().unwrap()).await.unwrap().unwrap();
    let actors: Vec<String> =
        db.store.tenant(tenant.id).audit_records(0, 10).await.unwrap().into_iter().map(|r| r.actor).collect();
    assert!(actors.iter().all(|actor| actor.starts_with("api-key:")), "{actors:?}");
}

async fn the_operator_api_reads_a_directorys_users_and_groups(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let key = api_key(&db).await;
    let acme = Directory::new(&db, &server, "acme").await;
    let globex = Directory::new(&db, &server, "globex").await;
    let ada = acme.create_user("ada@acme.example").await;
    let grace = acme.create_user("grace@acme.example").await;
    globex.create_user("ada@globex.example").await;
    let group = acme
        .send(
            reqwest::Method::POST,
            "/Groups",
            serde_json::json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Staff",
                               "members": [{"value": ada}]}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let api = reqwest::Client::new();
    let get = |path: String| api.get(server.url(&path)).bearer_auth(&key).send();
    let directory = acme.id;

    let all: Value = get(format!("/api/v1/directories/{directory}/users")).await.unwrap().json().await.unwrap();
    assert_eq!(all["totalResults"], 2, "{all}");
    let filtered =
        get(format!("/api/v1/directories/{directory}/users?filter=userName%20eq%20%22GRACE@acme.example%22"))
            .await
            .unwrap();
    let filtered: Value = filtered.json().await.unwrap();
    assert_eq!(
        (filtered["totalResults"].as_i64(), filtered["Resources"][0]["id"].as_str()),
        (Some(1), Some(grace.as_str()))
    );
    let one: Value = get(format!("/api/v1/directories/{directory}/users/{ada}")).await.unwrap().json().await.unwrap();
    assert_eq!(
        (one["userName"].as_str(), one["groups"][0]["value"].as_str()),
        (Some("ada@acme.example"), Some(group.as_str()))
    );
    let groups: Value = get(format!("/api/v1/directories/{directory}/groups?excludedAttributes=members"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(groups["Resources"][0]["displayName"], "Staff");
    assert!(groups["Resources"][0].get("members").is_none(), "{groups}");
    let staff: Value =
        get(format!("/api/v1/directories/{directory}/groups/{group}")).await.unwrap().json().await.unwrap();
    assert_eq!(staff["members"][0]["value"].as_str(), Some(ada.as_str()));

    // Problems: a bad filter, an unknown user, another directory's user, no directory, no key.
    let bad = get(format!("/api/v1/directories/{directory}/users?filter=userName%20zz%20%22x%22")).await.unwrap();
    assert_eq!(bad.status(), 400);
    assert_eq!(bad.headers()["content-type"], "application/problem+json");
    let elsewhere: Value = get(format!("/api/v1/directories/{}/users", globex.id)).await.unwrap().json().await.unwrap();
    let theirs = elsewhere["Resources"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(get(format!("/api/v1/directories/{directory}/users/{theirs}")).await.unwrap().status(), 404);
    assert_eq!(get(format!("/api/v1/directories/{directory}/users/nobody")).await.unwrap().status(), 404);
    assert_eq!(get(format!("/api/v1/directories/{}/users", store::DirectoryId::fresh())).await.unwrap().status(), 404);
    assert_eq!(get("/api/v1/directories/not-an-id/groups".to_owned()).await.unwrap().status(), 404);
    let without_key = api.get(server.url(&format!("/api/v1/directories/{directory}/users"))).send().await.unwrap();
    assert_eq!(without_key.status(), 401);

    let document: Value = reqwest::get(server.url("/api/openapi.json")).await.unwrap().json().await.unwrap();
    for path in [
        "/api/v1/directories/{directory}/users",
        "/api/v1/directories/{directory}/users/{id}",
        "/api/v1/directories/{directory}/groups",
        "/api/v1/directories/{directory}/groups/{id}",
    ] {
        assert!(document["paths"][path]["get"].is_object(), "{path} is not in the OpenAPI document");
    }
    let listing = &document["paths"]["/api/v1/directories/{directory}/users"]["get"]["parameters"];
    let names: Vec<&str> = listing.as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert!(
        names.contains(&"filter") && names.contains(&"startIndex") && names.contains(&"excludedAttributes"),
        "{names:?}"
    );
}
