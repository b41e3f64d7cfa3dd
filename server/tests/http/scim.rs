//! The SCIM endpoints over HTTP, as an identity provider calls them.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use service::directories::{self, TokenRequest};
use store::testing::{FreshId as _, TestDatabase};
use store::{IdentityProvider, ResourceKind, TenantSlug, backend_tests};

use super::TestServer;

const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 11, 25, 9, 0, 0).unwrap()
}

/// A directory of a tenant and a client holding one of its tokens.
struct Idp {
    base: String,
    token: String,
    client: reqwest::Client,
    tenant: store::TenantId,
    directory: store::DirectoryId,
}

impl Idp {
    async fn new(db: &TestDatabase, server: &TestServer, tenant: &str) -> Self {
        Self::with_token(db, server, tenant, false).await
    }

    async fn with_token(db: &TestDatabase, server: &TestServer, tenant: &str, read_only: bool) -> Self {
        let slug: TenantSlug = tenant.parse().unwrap();
        let (tenant, directory, token) = crate::provisioned(
            db,
            slug.as_str(),
            IdentityProvider::Okta,
            TokenRequest { label: "test".into(), read_only, expires_at: None },
            now(),
        )
        .await;
        Self {
            base: format!("http://{}/scim/v2/{}", server.address(), directory.id),
            token: token.secret,
            client: reqwest::Client::new(),
            tenant: tenant.id,
            directory: directory.id,
        }
    }

    async fn send(&self, method: Method, path: &str, body: Option<&Value>, headers: &[(&str, &str)]) -> Reply {
        let mut request = self.client.request(method, format!("{}{path}", self.base)).bearer_auth(&self.token);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = request.header("content-type", "application/scim+json").body(body.to_string());
        }
        Reply::from(request.send().await.unwrap()).await
    }

    async fn get(&self, path: &str) -> Reply {
        self.send(Method::GET, path, None, &[]).await
    }

    async fn post(&self, path: &str, body: &Value) -> Reply {
        self.send(Method::POST, path, Some(body), &[]).await
    }

    async fn put(&self, path: &str, body: &Value) -> Reply {
        self.send(Method::PUT, path, Some(body), &[]).await
    }

    async fn delete(&self, path: &str) -> Reply {
        self.send(Method::DELETE, path, None, &[]).await
    }

    async fn create_user(&self, user_name: &str) -> Value {
        let reply = self.post("/Users", &user(user_name)).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        reply.body
    }

    fn data<'a>(&self, db: &'a TestDatabase) -> store::DirectoryData<'a> {
        db.store.tenant(self.tenant).directory_data(self.directory)
    }
}

/// A response, read whole.
struct Reply {
    status: StatusCode,
    headers: reqwest::header::HeaderMap,
    body: Value,
}

impl Reply {
    async fn from(response: reqwest::Response) -> Self {
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap();
        let body = if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap() };
        Self { status, headers, body }
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }

    /// Asserts a SCIM error with this status and scimType.
    fn assert_error(&self, status: u16, scim_type: Option<&str>) {
        assert_eq!(self.status.as_u16(), status, "{}", self.body);
        assert_eq!(self.body["schemas"], json!(["urn:ietf:params:scim:api:messages:2.0:Error"]), "{}", self.body);
        assert_eq!(self.body["status"], status.to_string());
        assert_eq!(self.body["scimType"].as_str(), scim_type, "{}", self.body);
        assert!(self.body["detail"].as_str().is_some_and(|d| !d.is_empty()));
    }

    fn ids(&self) -> Vec<String> {
        self.body["Resources"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap().to_owned()).collect()
    }
}

fn user(user_name: &str) -> Value {
    json!({
        "schemas": [USER_SCHEMA],
        "userName": user_name,
        "name": {"givenName": "Barbara", "familyName": "Jensen"},
        "emails": [{"value": format!("{user_name}@example.com"), "type": "work", "primary": true}],
        "active": true,
    })
}

backend_tests!(
    discovery_endpoints_describe_the_service,
    every_authentication_failure_gets_the_same_401,
    a_read_only_token_cannot_write,
    a_user_is_created_read_replaced_and_deleted,
    a_repeated_create_is_a_uniqueness_conflict_ignoring_case,
    versions_are_etags_and_if_match_is_enforced,
    filters_find_users_by_the_probes_idps_send,
    listing_pages_with_start_index_and_with_cursors,
    listing_sorts_by_any_attribute,
    groups_hold_members_of_their_own_directory_only,
    deleting_a_user_removes_it_from_its_groups,
    bad_requests_get_scim_errors,
    every_write_records_a_change_in_order,
    a_directory_never_sees_another_directorys_resources,
    patch_updates_users_in_one_transaction,
    group_membership_changes_by_patch_without_loading_members,
    root_search_covers_users_and_groups,
    a_directory_over_its_rate_limit_gets_429_with_retry_after,
    a_tenant_over_its_budget_across_directories_gets_429,
    entra_and_okta_dialects_are_normalised_per_directory,
    bulk_requests_resolve_bulk_ids_and_stop_on_errors,
    oauth_client_credentials_give_a_short_lived_directory_token,
    custom_extensions_are_first_class_per_directory,
);

async fn discovery_endpoints_describe_the_service(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let idp = Idp::new(&db, &server, "acme").await;

    let config = idp.get("/ServiceProviderConfig").await;
    assert_eq!(config.status, 200);
    assert_eq!(config.header("content-type"), Some("application/scim+json"));
    assert_eq!(config.body["patch"]["supported"], true);
    // SQLite's one writer serves every tenant: a smaller Bulk request holds it for less.
    let bulk_limit = if db.url.as_str().starts_with("postgres") { 1000 } else { 250 };
    assert_eq!(config.body["bulk"]["maxOperations"], bulk_limit);
    assert_eq!(config.body["filter"]["maxResults"], 1000);
    assert_eq!(config.body["etag"]["supported"], true);

    let types = idp.get("/ResourceTypes").await;
    assert_eq!(types.body["totalResults"], 4, "users, groups, agents and agentic applications");
    let user_type = idp.get("/ResourceTypes/User").await;
    assert_eq!(user_type.body["endpoint"], "/Users");
    assert_eq!(user_type.body["schemaExtensions"][0]["schema"], ENTERPRISE);

    let schemas = idp.get("/Schemas").await;
    let ids: Vec<&str> =
        schemas.body["Resources"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap()).collect();
    assert!(ids.contains(&USER_SCHEMA) && ids.contains(&GROUP_SCHEMA) && ids.contains(&ENTERPRISE), "{ids:?}");
    let schema = idp.get(&format!("/Schemas/{USER_SCHEMA}")).await;
    assert_eq!(schema.body["id"], USER_SCHEMA);
    idp.get("/Schemas/urn:nope").await.assert_error(404, None);
    idp.get("/Me").await.assert_error(501, None);
    idp.get("/Nothing/Here").await.assert_error(404, None);
}

async fn every_authentication_failure_gets_the_same_401(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let acme = Idp::new(&db, &server, "acme").await;
    let globex = Idp::new(&db, &server, "globex").await;
    let client = reqwest::Client::new();
    let unknown_directory = format!("http://{}/scim/v2/{}", server.address(), store::DirectoryId::fresh());
    let cases: Vec<(String, Option<String>)> = vec![
        (format!("{}/Users", acme.base), None),
        (format!("{}/Users", acme.base), Some("scim_not-a-real-token".into())),
        (format!("{}/Users", acme.base), Some(globex.token.clone())),
        (format!("{unknown_directory}/Users"), Some(acme.token.clone())),
        (format!("http://{}/scim/v2/not-a-uuid/Users", server.address()), Some(acme.token.clone())),
        (format!("{}/Nothing", acme.base), None),
    ];
    let mut bodies = Vec::new();
    for (url, token) in cases {
        let mut request = client.get(&url);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let reply = Reply::from(request.send().await.unwrap()).await;
        reply.assert_error(401, None);
        assert_eq!(reply.header("www-authenticate"), Some("Bearer realm=\"scim\""));
        bodies.push(reply.body);
    }
    assert!(bodies.windows(2).all(|pair| pair[0] == pair[1]), "{bodies:?}");

    // A revoked token stops working at once.
    let request = TokenRequest { label: "rotating".into(), read_only: false, expires_at: None };
    let issued = directories::issue_token(
        &db.store,
        acme.tenant,
        acme.directory,
        request,
        &service::Actor::Cli,
        &service::Effects::system(),
    )
    .await
    .unwrap()
    .unwrap();
    let with = |token: &str| client.get(format!("{}/Users", acme.base)).bearer_auth(token.to_owned()).send();
    assert_eq!(with(&issued.secret).await.unwrap().status(), 200);
    // Revocation takes effect at the time given; the server reads the real clock.
    #[allow(clippy::disallowed_methods)]
    let revoked_at = chrono::Utc::now();
    directories::revoke_token(&db.store, acme.tenant, acme.directory, issued.id, &service::Actor::Cli, revoked_at)
        .await
        .unwrap();
    assert_eq!(with(&issued.secret).await.unwrap().status(), 401);
    // The directory's other token still works.
    assert_eq!(with(&acme.token).await.unwrap().status(), 200);
}

async fn a_read_only_token_cannot_write(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let reader = Idp::with_token(&db, &server, "acme", true).await;

    assert_eq!(reader.get("/Users").await.status, 200);
    reader.post("/Users", &user("bjensen")).await.assert_error(403, None);
}

async fn a_user_is_created_read_replaced_and_deleted(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let idp = Idp::new(&db, &server, "acme").await;

    let mut body = user("bjensen");
    body["externalId"] = json!("00u1");
    body["schemas"] = json!([USER_SCHEMA, ENTERPRISE]);
    body[ENTERPRISE] = json!({"employeeNumber": "701984", "manager": {"value": "boss"}});
    body["password"] = json!("t1meMa$heen");
    let created = idp.post("/Users", &body).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = created.body["id"].as_str().unwrap().to_owned();
    let location = created.body["meta"]["location"].as_str().unwrap().to_owned();
    assert!(location.ends_with(&format!("/Users/{id}")), "{location}");
    assert_eq!(created.header("location"), Some(location.as_str()));
    assert_eq!(created.header("etag"), created.body["meta"]["version"].as_str());
    assert_eq!(created.body["meta"]["resourceType"], "User");
    assert_eq!(created.body["meta"]["created"], created.body["meta"]["lastModified"]);
    assert_eq!(created.body[ENTERPRISE]["employeeNumber"], "701984");
    assert_eq!(created.body["externalId"], "00u1");
    assert!(created.body.get("password").is_none(), "password is never returned");

    let read = idp.get(&format!("/Users/{id}")).await;
    assert_eq!(read.status, 200);
    assert_eq!(read.body, created.body);
    let projected = idp.get(&format!("/Users/{id}?attributes=userName")).await;
    assert_eq!(projected.body["userName"], "bjensen");
    assert!(projected.body.get("name").is_none() && projected.body.get("id").is_some());

    // PUT replaces: attributes left out are gone; a userName change keeps the same user.
    let mut replacement = user("barbara.jensen");
    replacement["active"] = json!(false);
    let replaced = idp.put(&format!("/Users/{id}"), &replacement).await;
    assert_eq!(replaced.status, 200, "{}", replaced.body);
    assert_eq!(replaced.body["id"], id.as_str());
    assert_eq!(replaced.body["userName"], "barbara.jensen");
    assert_eq!(replaced.body["active"], false);
    assert!(replaced.body.get("externalId").is_none() && replaced.body.get(ENTERPRISE).is_none());
    assert_ne!(replaced.body["meta"]["version"], created.body["meta"]["version"]);
    assert_eq!(replaced.body["meta"]["created"], created.body["meta"]["created"]);

    let deleted = idp.delete(&format!("/Users/{id}")).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    idp.get(&format!("/Users/{id}")).await.assert_error(404, None);
    idp.delete(&format!("/Users/{id}")).await.assert_error(404, None);
    idp.put(&format!("/Users/{id}"), &user("x")).await.assert_error(404, None);
}

async fn a_repeated_create_is_a_uniqueness_conflict_ignoring_case(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let idp = Idp::new(&db, &server, "acme").await;
    let other = Idp::new(&db, &server, "globex").await;

    idp.create_user("Ünal.Bjensen").await;
    idp.post("/Users", &user("Ünal.Bjensen")).await.assert_error(409, Some("uniqueness"));
    idp.post("/Users", &user("ünal.BJENSEN")).await.assert_error(409, Some("uniqueness"));
    // The same userName in another directory is another user.
    other.create_user("Ünal.Bjensen").await;
    // Renaming onto a taken userName is a conflict too.
    let second = idp.create_user("second").await;
    let id = second["id"].as_str().unwrap();
    idp.put(&format!("/Users/{id}"), &user("ÜNAL.bjensen")).await.assert_error(409, Some("uniqueness"));
}

async fn versions_are_etags_and_if_match_is_enforced(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let idp = Idp::new(&db, &server, "acme").await;
    let created = idp.create_user("bjensen").await;
    let id = created["id"].as_str().unwrap();
    let etag = created["meta"]["version"].as_str().unwrap().to_owned();
    let path = format!("/Users/{id}");

    let not_modified = idp.send(Method::GET, &path, None, &[("if-none-match", &etag)]).await;
    assert_eq!(not_modified.status, StatusCode::NOT_MODIFIED);

    let stale = idp.send(Method::PUT, &path, Some(&user("b2")), &[("if-match", "\"999\"")]).await;
    stale.assert_error(412, None);
    let fresh = idp.send(Method::PUT, &path, Some(&user("b2")), &[("if-match", &etag)]).await;
    assert_eq!(fresh.status, 200, "{}", fresh.body);
    // The old version no longer matches: a second writer with it loses.
    let loser = idp.send(Method::PUT, &path, Some(&user("b3")), &[("if-match", &etag)]).await;
    loser.assert_error(412, None);
    let wildcard = idp.send(Method::PUT, &path, Some(&user("b4")), &[("if-match", "*")]).await;
    assert_eq!(wildcard.status, 200);
    let gone = idp.send(Method::DELETE, &path, None, &[("if-match", &etag)]).await;
    gone.assert_error(412, None);
    // Replaying the same PUT changes nothing, not even the version.
    let again = idp.put(&path, &user("b4")).await;
    assert_eq!(again.body["meta"]["version"], wildcard.body["meta"]["version"]);
}

async fn filters_find_users_by_the_probes_idps_send(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let idp = Idp::new(&db, &server, "acme").await;
    let mut alice = user("alice");
    alice["externalId"] = json!("ext-ALICE");
    alice["emails"] =
        json!([{"value": "Alice@Corp.example", "type": "work"}, {"value": "a@home.example", "type": "home"}]);
    let alice = idp.post("/Users", &alice).await.body;
    let bob = idp.create_user("bob").await;
    let mut carol = user("Çarol");
    carol["active"] = json!(false);
    carol["title"] = json!("Engineer");
    let carol = idp.post("/Users", &carol).await.body;
    let id = |v: &Value| v["id"].as_str().unwrap().to_owned();

    let search = |filter: &str| {
        let filter = filter.to_owned();
        let idp = &idp;
        async move {
            let url = format!("/Users?filter={}", urlencode(&filter));
            let reply = idp.get(&url).await;
            assert_eq!(reply.status, 200, "{filter}: {}", reply.body);
            let mut ids = reply.ids();
            ids.sort();
            ids
        }
    };
    let sorted = |mut ids: Vec<String>| {
        ids.sort();
        ids
    };
    assert_eq!(search("userName eq \"ALICE\"").await, vec![id(&alice)]);
    assert_eq!(search("userName eq \"çarol\"").await, vec![id(&carol)]);
    assert_eq!(search("externalId eq \"ext-ALICE\"").await, vec![id(&alice)]);
    assert_eq!(search("externalId eq \"ext-alice\"").await, Vec::<String>::new(), "externalId is caseExact");
    assert_eq!(search("emails[type eq \"work\" and value co \"@corp.example\"]").await, vec![id(&alice)]);
    assert_eq!(search("emails.value eq \"a@home.example\"").await, vec![id(&alice)]);
    assert_eq!(search("emails[value eq \"ALICE@CORP.EXAMPLE\"]").await, vec![id(&alice)]);
    assert_eq!(search("emails[type eq \"home\" and value eq \"alice@corp.example\"]").await, Vec::<String>::new());
    assert_eq!(search("not (emails.value eq \"a@home.example\")").await, sorted(vec![id(&bob), id(&carol)]));
    assert_eq!(search("active eq false").await, vec![id(&carol)]);
    assert_eq!(search("not (active eq false)").await, sorted(vec![id(&alice), id(&bob)]));
    assert_eq!(search("title pr").await, vec![id(&carol)]);
    assert_eq!(search("userName sw \"a\" or userName ew \"ob\"").await, sorted(vec![id(&alice), id(&bob)]));
    let created = carol["meta"]["created"].as_str().unwrap();
    assert_eq!(search(&format!("meta.lastModified ge \"{created}\"")).await, vec![id(&carol)]);
    assert_eq!(search("meta.lastModified gt \"2000-01-01T00:00:00Z\"").await.len(), 3);
    assert_eq!(search(&format!("id eq \"{}\"", id(&bob))).await, vec![id(&bob)]);
    assert_eq!(search("name.familyName eq \"jensen\"").await.len(), 3);

    // Bad filters are 400 invalidFilter, naming what is wrong.
    for bad in ["userName eqq \"x\"", "nope eq 1", "userName eq", "(userName eq \"a\""] {
        let reply = idp.get(&format!("/Users?filter={}", urlencode(bad))).await;
        reply.assert_error(400, Some("invalidFilter"));
    }
    let long = format!("userName eq \"{}\"", "x".repeat(5000));
    idp.get(&format!("/Users?filter={}", urlencode(&long))).await.assert_error(400, Some("invalidFilter"));
    // A filter that would cost a large query: past 50 comparisons or 5 value filters.
    let wide: Vec<String> = (0..51).map(|n| format!("userName eq \"u{n}\"")).collect();
    let reply = idp.get(&format!("/Users?filter={}", urlencode(&wide.join(" or ")))).await;
    reply.assert_error(400, Some("invalidFilter"));
    assert!(reply.body["detail"].as_str().unwrap().contains("more than 50 comparisons"), "{}", reply.body);
    assert_eq!(search(&wide[..50].join(" or ")).await.len(), 0, "fifty are fine");
    let paths: Vec<&str> = vec!["emails[type eq \"work\"]"; 6];
    let reply = idp.get(&format!("/Users?filter={}", urlencode(&paths.join(" or ")))).await;
    reply.assert_error(400, Some("invalidFilter"));

    // POST .search takes the same parameters in the body.
    let searched = idp
        .post(
            "/Users/.search",
            &json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
            "filter": "userName eq \"bob\"", "attributes": ["userName"]}),
        )
        .await;
    assert_eq!(searched.status, 200, "{}", searched.body);
    assert_eq!(searched.ids(), vec![id(&bob)]);
    assert!(searched.body["Resources"][0].get("emails").is_none());
}

async fn listing_pages_with_start_index_and_with_cursors(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let idp = Idp::new(&db, &server, "acme").await;
    let mut all = Vec::new();
    for n in 0..7 {
        all.push(idp.create_user(&format!("user{n}")).await["id"].as_str().unwrap().to_owned());
    }

    let page = idp.get("/Users?startIndex=3&count=2").await;
    assert_eq!(page.body["totalResults"], 7);
    assert_eq!(page.body["startIndex"], 3);
    assert_eq!(page.body["itemsPerPage"], 2);
    assert_eq!(page.ids(), all[2..4].to_vec());
    let tail = idp.get("/Users?startIndex=6&count=10").await;
    assert_eq!(tail.ids(), all[5..].to_vec());
    let only_total = idp.get("/Users?count=0").await;
    assert_eq!(only_total.body["totalResults"], 7);
    assert_eq!(only_total.ids().len(), 0);
    let clamped = idp.get("/Users?startIndex=-4&count=100000").await;
    assert_eq!(clamped.body["startIndex"], 1);
    assert_eq!(clamped.ids(), all);

    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let reply = idp.get(&format!("/Users?count=3&cursor={cursor}")).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert_eq!(reply.body["totalResults"], 7);
        seen.extend(reply.ids());
        match reply.body["nextCursor"].as_str() {
            Some(next) => cursor = next.to_owned(),
            None => break,
        }
    }
    assert_eq!(seen, all);
    idp.get("/Users?cursor=garbage").await.assert_error(400, Some("invalidCursor"));
    idp.get("/Users?count=x").await.assert_error(400, Some("invalidValue"));
}

async fn listing_sorts_by_any_attribute(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let idp = Idp::new(&db, &server, "acme").await;
    let mut names = Vec::new();
    // Emails whose primary is not the first: a multi-valued attribute sorts by its primary
    // value, else its first (RFC 7644 §3.4.2.3).
    let emails = [
        json!([{"value": "z@x.example", "type": "home"}, {"value": "m@x.example", "primary": true}]),
        json!([{"value": "a@x.example"}, {"value": "y@x.example"}]),
        json!([{"value": "b@x.example", "primary": false}, {"value": "q@x.example", "primary": true}]),
        json!([]),
    ];
    for ((user_name, family), emails) in
        [("b", Some("Zeta")), ("A", Some("alpha")), ("c", None), ("D", Some("Beta"))].into_iter().zip(emails)
    {
        let mut body = user(user_name);
        body["emails"] = emails;
        match family {
            Some(family) => body["name"]["familyName"] = json!(family),
            None => {
                body.as_object_mut().unwrap().remove("name");
            }
        }
        names.push(idp.post("/Users", &body).await.body["userName"].as_str().unwrap().to_owned());
    }
    let order = |path: &str| {
        let idp = &idp;
        let path = path.to_owned();
        async move {
            let reply = idp.get(&path).await;
            assert_eq!(reply.status, 200, "{}", reply.body);
            reply.body["Resources"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["userName"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(order("/Users?sortBy=userName").await, ["A", "b", "c", "D"]);
    assert_eq!(order("/Users?sortBy=userName&sortOrder=descending").await, ["D", "c", "b", "A"]);
    // Missing values sort last in both directions.
    assert_eq!(order("/Users?sortBy=name.familyName").await, ["A", "D", "b", "c"]);
    assert_eq!(order("/Users?sortBy=name.familyName&sortOrder=descending").await, ["b", "D", "A", "c"]);
    assert_eq!(order("/Users?sortBy=emails.value").await, ["A", "b", "c", "D"]);
    assert_eq!(order("/Users?sortBy=emails").await, ["A", "b", "c", "D"]);
    assert_eq!(order("/Users?sortBy=emails.value&sortOrder=descending").await, ["c", "b", "A", "D"]);
    idp.get("/Users?sortBy=nope").await.assert_error(400, Some("invalidValue"));
    idp.get("/Users?sortBy=userName&sortOrder=sideways").await.assert_error(400, Some("invalidValue"));
}

async fn groups_hold_members_of_their_own_directory_only(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let idp = Idp::new(&db, &server, "acme").await;
    let other = Idp::new(&db, &server, "globex").await;
    let alice = idp.create_user("alice").await["id"].as_str().unwrap().to_owned();
    let bob = idp.create_user("bob").await["id"].as_str().unwrap().to_owned();
    let stranger = other.create_user("mallory").await["id"].as_str().unwrap().to_owned();

    let group = json!({"schemas": [GROUP_SCHEMA], "displayName": "Engineering", "externalId": "g-1",
        "members": [{"value": alice}, {"value": bob}]});
    let created = idp.post("/Groups", &group).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let group_id = created.body["id"].as_str().unwrap().to_owned();
    let mut members: Vec<&str> =
        created.body["members"].as_array().unwrap().iter().map(|m| m["value"].as_str().unwrap()).collect();
    members.sort_unstable();
    let mut expected = vec![alice.as_str(), bob.as_str()];
    expected.sort_unstable();
    assert_eq!(members, expected);
    assert_eq!(created.body["members"][0]["type"], "User");

    // The user shows its group.
    let read = idp.get(&format!("/Users/{alice}")).await;
    assert_eq!(read.body["groups"][0]["value"], group_id.as_str());
    assert_eq!(read.body["groups"][0]["display"], "Engineering");

    // Members from another directory (or unknown ids) are refused; nothing is written.
    let foreign = json!({"schemas": [GROUP_SCHEMA], "displayName": "Spies", "members": [{"value": stranger}]});
    idp.post("/Groups", &foreign).await.assert_error(400, Some("invalidValue"));
    let listed = idp.get("/Groups?filter=displayName%20eq%20%22spies%22").await;
    assert_eq!(listed.body["totalResults"], 0);

    // Filters on members and displayName; excluding members does not load them.
    let by_member = idp.get(&format!("/Groups?filter={}", urlencode(&format!("members[value eq \"{bob}\"]")))).await;
    assert_eq!(by_member.ids(), vec![group_id.clone()]);
    let by_name = idp.get("/Groups?filter=displayName%20eq%20%22ENGINEERING%22&excludedAttributes=members").await;
    assert_eq!(by_name.ids(), vec![group_id.clone()]);
    assert!(by_name.body["Resources"][0].get("members").is_none());

    // PUT replaces the member list.
    let replaced = idp
        .put(
            &format!("/Groups/{group_id}"),
            &json!({"schemas": [GROUP_SCHEMA], "displayName": "Eng", "members": [{"value": bob}]}),
        )
        .await;
    assert_eq!(replaced.status, 200, "{}", replaced.body);
    assert_eq!(replaced.body["members"].as_array().unwrap().len(), 1);
    let alice_now = idp.get(&format!("/Users/{alice}")).await;
    assert!(alice_now.body.get("groups").is_none(), "{}", alice_now.body);
}

async fn deleting_a_user_removes_it_from_its_groups(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let idp = Idp::new(&db, &server, "acme").await;
    let alice = idp.create_user("alice").await["id"].as_str().unwrap().to_owned();
    let group = idp
        .post("/Groups", &json!({"schemas": [GROUP_SCHEMA], "displayName": "All", "members": [{"value": alice}]}))
        .await
        .body;
    let group_id = group["id"].as_str().unwrap();

    assert_eq!(idp.delete(&format!("/Users/{alice}")).await.status, 204);

    let after = idp.get(&format!("/Groups/{group_id}")).await;
    assert!(after.body.get("members").is_none(), "{}", after.body);
    assert_ne!(after.body["meta"]["version"], group["meta"]["version"], "the group changed");
    // A deactivated user, unlike a deleted one, is still there.
    let bob = idp.create_user("bob").await["id"].as_str().unwrap().to_owned();
    let mut inactive = user("bob");
    inactive["active"] = json!(false);
    idp.put(&format!("/Users/{bob}"), &inactive).await;
    assert_eq!(idp.get(&format!("/Users/{bob}")).await.body["active"], false);
}

async fn bad_requests_get_scim_errors(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let idp = Idp::new(&db, &server, "acme").await;
    let client = reqwest::Client::new();
    let post_raw = |body: &'static str, content_type: &'static str| {
        client
            .post(format!("{}/Users", idp.base))
            .bearer_auth(&idp.token)
            .header("content-type", content_type)
            .body(body)
            .send()
    };

    Reply::from(post_raw("{not json", "application/scim+json").await.unwrap())
        .await
        .assert_error(400, Some("invalidSyntax"));
    Reply::from(post_raw("userName=x", "application/x-www-form-urlencoded").await.unwrap())
        .await
        .assert_error(400, Some("invalidSyntax"));
    // application/json is accepted as well as application/scim+json.
    let plain = Reply::from(
        post_raw(
            r#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"plain"}"#,
            "application/json",
        )
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(plain.status, 201, "{}", plain.body);

    idp.post("/Users", &json!({"schemas": [USER_SCHEMA]})).await.assert_error(400, Some("invalidValue"));
    idp.post("/Users", &json!({"userName": "x"})).await.assert_error(400, Some("invalidSyntax"));
    idp.post("/Users", &json!({"schemas": [USER_SCHEMA], "userName": 7})).await.assert_error(400, Some("invalidValue"));
    idp.post("/Users", &json!({"schemas": [USER_SCHEMA], "userName": "  "}))
        .await
        .assert_error(400, Some("invalidValue"));
    idp.post("/Users", &json!([1, 2])).await.assert_error(400, Some("invalidSyntax"));
    let huge = json!({"schemas": [USER_SCHEMA], "userName": "x".repeat(2 * 1024 * 1024)});
    idp.post("/Users", &huge).await.assert_error(413, None);
    idp.get("/Users?attributes=userName&excludedAttributes=emails").await.assert_error(400, Some("invalidValue"));
    idp.get("/Users/does-not-exist").await.assert_error(404, None);
    idp.post("/Groups", &json!({"schemas": [GROUP_SCHEMA], "displayName": "G", "members": [{"display": "no id"}]}))
        .await
        .assert_error(400, Some("invalidValue"));
}

async fn every_write_records_a_change_in_order(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let idp = Idp::new(&db, &server, "acme").await;
    let id = idp.create_user("bjensen").await["id"].as_str().unwrap().to_owned();
    let mut inactive = user("bjensen");
    inactive["active"] = json!(false);
    idp.put(&format!("/Users/{id}"), &inactive).await;
    idp.put(&format!("/Users/{id}"), &inactive).await; // a retry: no change, no event
    idp.put(&format!("/Users/{id}"), &user("bjensen")).await;
    let group = idp
        .post("/Groups", &json!({"schemas": [GROUP_SCHEMA], "displayName": "G", "members": [{"value": id}]}))
        .await
        .body;
    idp.delete(&format!("/Users/{id}")).await;

    let changes = idp.data(&db).changes_after(0, 100).await.unwrap();
    let kinds: Vec<&str> = changes.iter().map(|c| c.kind.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "user.created",
            "user.deactivated",
            "user.reactivated",
            "group.created",
            "group.member_added",
            "group.member_removed",
            "user.deleted"
        ]
    );
    let seqs: Vec<i64> = changes.iter().map(|c| c.seq).collect();
    assert_eq!(seqs, (1..=7).collect::<Vec<_>>());
    assert_eq!(changes[0].data["userName"], "bjensen");
    assert_eq!(changes[1].data["active"], false);
    assert_eq!(changes[5].resource_id, group["id"].as_str().unwrap());
    assert!(changes.iter().all(|c| c.actor.starts_with("token:")));
    assert_eq!(changes[0].resource_type, store::ChangeSubject::Resource(ResourceKind::User));
}

async fn a_directory_never_sees_another_directorys_resources(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let idps = [
        Idp::new(&db, &server, "acme").await,
        Idp::new(&db, &server, "acme").await,
        Idp::new(&db, &server, "globex").await,
    ];
    // A deterministic pseudo-random schedule of writes and cross-directory probes.
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut owned: Vec<Vec<String>> = vec![Vec::new(); idps.len()];
    for step in 0..60 {
        let actor = (next() % 3) as usize;
        let victim = (next() % 3) as usize;
        match next() % 4 {
            0 | 1 => {
                // Same userName in several directories is allowed.
                let created = idps[actor].create_user(&format!("user{step}")).await;
                owned[actor].push(created["id"].as_str().unwrap().to_owned());
            }
            _ if victim != actor && !owned[victim].is_empty() => {
                let target = &owned[victim][(next() as usize) % owned[victim].len()];
                let path = format!("/Users/{target}");
                idps[actor].get(&path).await.assert_error(404, None);
                idps[actor].put(&path, &user("stolen")).await.assert_error(404, None);
                idps[actor].delete(&path).await.assert_error(404, None);
                let filter = format!("/Users?filter={}", urlencode(&format!("id eq \"{target}\"")));
                assert_eq!(idps[actor].get(&filter).await.body["totalResults"], 0);
                let group = json!({"schemas": [GROUP_SCHEMA], "displayName": "x", "members": [{"value": target}]});
                idps[actor].post("/Groups", &group).await.assert_error(400, Some("invalidValue"));
            }
            _ => {}
        }
    }
    for (n, idp) in idps.iter().enumerate() {
        let mut listed = idp.get("/Users?count=1000").await.ids();
        listed.sort();
        let mut expected = owned[n].clone();
        expected.sort();
        assert_eq!(listed, expected, "directory {n} lists exactly its own users");
    }
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn patch(idp: &Idp, path: &str, operations: Value) -> Reply {
    let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": operations});
    idp.send(Method::PATCH, path, Some(&body), &[]).await
}

async fn patch_updates_users_in_one_transaction(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let idp = Idp::new(&db, &server, "acme").await;
    let created = idp.create_user("bjensen").await;
    let id = created["id"].as_str().unwrap();
    let path = format!("/Users/{id}");

    let patched = patch(
        &idp,
        &path,
        json!([
            {"op": "Replace", "path": "name.givenName", "value": "Babs"},
            {"op": "add", "path": "emails[type eq \"home\"].value", "value": "babs@home.example"},
            {"op": "replace", "path": format!("{ENTERPRISE}:department"), "value": "Sales"},
            {"op": "replace", "path": "active", "value": false}
        ]),
    )
    .await;
    assert_eq!(patched.status, 200, "{}", patched.body);
    assert_eq!(patched.body["name"]["givenName"], "Babs");
    assert_eq!(patched.body["emails"][1], json!({"type": "home", "value": "babs@home.example"}));
    assert_eq!(patched.body[ENTERPRISE]["department"], "Sales");
    assert_eq!(patched.body["active"], false);
    assert_eq!(patched.header("etag"), patched.body["meta"]["version"].as_str());

    // One bad operation and nothing is applied.
    let failed = patch(
        &idp,
        &path,
        json!([{"op": "replace", "path": "nickName", "value": "B"}, {"op": "replace", "path": "userName", "value": 5}]),
    )
    .await;
    failed.assert_error(400, Some("invalidValue"));
    let unchanged = idp.get(&path).await;
    assert!(unchanged.body.get("nickName").is_none());
    assert_eq!(unchanged.body["meta"]["version"], patched.body["meta"]["version"]);

    patch(&idp, &path, json!([{"op": "remove"}])).await.assert_error(400, Some("noTarget"));
    patch(&idp, &path, json!([{"op": "replace", "path": "emails[type eq \"fax\"]", "value": {"value": "x"}}]))
        .await
        .assert_error(400, Some("noTarget"));
    patch(&idp, &path, json!([{"op": "replace", "path": "id", "value": "mine"}]))
        .await
        .assert_error(400, Some("mutability"));
    patch(&idp, &path, json!([{"op": "add", "path": "nope", "value": 1}])).await.assert_error(400, Some("invalidPath"));
    patch(&idp, &path, json!([{"op": "remove", "path": "emails[type eq]"}]))
        .await
        .assert_error(400, Some("invalidPath"));
    patch(&idp, "/Users/missing", json!([{"op": "replace", "path": "active", "value": true}]))
        .await
        .assert_error(404, None);
    let stale = idp
        .send(
            Method::PATCH,
            &path,
            Some(&json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [{"op": "replace", "path": "active", "value": true}]})),
            &[("if-match", created["meta"]["version"].as_str().unwrap())],
        )
        .await;
    stale.assert_error(412, None);

    // The same PATCH twice leaves the same state and the same version.
    let once = patch(&idp, &path, json!([{"op": "replace", "path": "title", "value": "CEO"}])).await;
    let twice = patch(&idp, &path, json!([{"op": "replace", "path": "title", "value": "CEO"}])).await;
    assert_eq!(once.body, twice.body);
    // Email lookups follow the change.
    let by_email = |email: &str| {
        let path = format!("/Users?filter={}", urlencode(&format!("emails[value eq \"{email}\"]")));
        let idp = &idp;
        async move { idp.get(&path).await.body["totalResults"].clone() }
    };
    assert_eq!(by_email("babs@home.example").await, 1);
    patch(&idp, &path, json!([{"op": "replace", "path": "emails[type eq \"home\"].value", "value": "b@new.example"}]))
        .await;
    assert_eq!(by_email("babs@home.example").await, 0);
    assert_eq!(by_email("B@NEW.example").await, 1);
    // A userName change is an update of the same user.
    let renamed = patch(&idp, &path, json!([{"op": "replace", "value": {"userName": "barbara"}}])).await;
    assert_eq!(renamed.body["id"], id);
    assert_eq!(renamed.body["userName"], "barbara");
}

async fn group_membership_changes_by_patch_without_loading_members(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let idp = Idp::new(&db, &server, "acme").await;
    let other = Idp::new(&db, &server, "globex").await;
    let mut users = Vec::new();
    for n in 0..4 {
        users.push(idp.create_user(&format!("u{n}")).await["id"].as_str().unwrap().to_owned());
    }
    let stranger = other.create_user("mallory").await["id"].as_str().unwrap().to_owned();
    let group = idp.post("/Groups", &json!({"schemas": [GROUP_SCHEMA], "displayName": "Eng"})).await.body;
    let path = format!("/Groups/{}", group["id"].as_str().unwrap());
    let members = |reply: &Reply| {
        let mut ids: Vec<String> = reply.body["members"]
            .as_array()
            .map(|m| m.iter().map(|m| m["value"].as_str().unwrap().to_owned()).collect())
            .unwrap_or_default();
        ids.sort();
        ids
    };
    let sorted = |ids: &[&String]| {
        let mut ids: Vec<String> = ids.iter().map(|s| (*s).clone()).collect();
        ids.sort();
        ids
    };

    // Okta: add members by value list; the answer is 204 (no member list is built).
    let added = patch(
        &idp,
        &path,
        json!([{"op": "add", "path": "members",
        "value": [{"value": users[0]}, {"value": users[1]}, {"value": users[2]}]}]),
    )
    .await;
    assert_eq!(added.status, StatusCode::NO_CONTENT);
    assert_eq!(members(&idp.get(&path).await), sorted(&[&users[0], &users[1], &users[2]]));
    // Okta: remove one by filter. Entra: remove by value list.
    patch(&idp, &path, json!([{"op": "remove", "path": format!("members[value eq \"{}\"]", users[0])}])).await;
    patch(&idp, &path, json!([{"op": "Remove", "path": "members", "value": [{"value": users[1]}]}])).await;
    assert_eq!(members(&idp.get(&path).await), sorted(&[&users[2]]));
    // Removing a member that is not there changes nothing.
    let noop =
        patch(&idp, &path, json!([{"op": "remove", "path": format!("members[value eq \"{}\"]", users[0])}])).await;
    assert_eq!(noop.status, StatusCode::NO_CONTENT);
    // A rename and a member change in one request, with a projection: 200 and the group.
    let both = idp
        .send(
            Method::PATCH,
            &format!("{path}?attributes=displayName,members"),
            Some(&json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [
                {"op": "replace", "value": {"displayName": "Engineering"}},
                {"op": "add", "path": "members", "value": [{"value": users[3]}]}
            ]})),
            &[],
        )
        .await;
    assert_eq!(both.status, 200, "{}", both.body);
    assert_eq!(both.body["displayName"], "Engineering");
    assert_eq!(members(&both), sorted(&[&users[2], &users[3]]));
    // Foreign and unknown members are refused and nothing changes.
    patch(
        &idp,
        &path,
        json!([{"op": "replace", "path": "displayName", "value": "X"},
        {"op": "add", "path": "members", "value": [{"value": stranger}]}]),
    )
    .await
    .assert_error(400, Some("invalidValue"));
    let after = idp.get(&path).await;
    assert_eq!(after.body["displayName"], "Engineering");
    // Replace the whole list, then remove all.
    patch(&idp, &path, json!([{"op": "replace", "path": "members", "value": [{"value": users[0]}]}])).await;
    assert_eq!(members(&idp.get(&path).await), sorted(&[&users[0]]));
    patch(&idp, &path, json!([{"op": "remove", "path": "members"}])).await;
    assert!(members(&idp.get(&path).await).is_empty());
    patch(&idp, &path, json!([{"op": "remove", "path": "members[display eq \"x\"]"}]))
        .await
        .assert_error(400, Some("invalidFilter"));

    let kinds: Vec<String> = idp.data(&db).changes_after(0, 100).await.unwrap().into_iter().map(|c| c.kind).collect();
    assert_eq!(kinds.iter().filter(|k| *k == "group.member_added").count(), 3, "{kinds:?}");
    assert_eq!(kinds.iter().filter(|k| *k == "group.member_removed").count(), 4, "{kinds:?}");
}

async fn root_search_covers_users_and_groups(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let idp = Idp::new(&db, &server, "acme").await;
    idp.create_user("alice").await;
    idp.create_user("bob").await;
    idp.post("/Groups", &json!({"schemas": [GROUP_SCHEMA], "displayName": "Eng"})).await;
    let search = |body: Value| {
        let idp = &idp;
        async move { idp.post("/.search", &body).await }
    };

    let all = search(json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"]})).await;
    assert_eq!(all.status, 200, "{}", all.body);
    assert_eq!(all.body["totalResults"], 3);
    let page = search(json!({"startIndex": 2, "count": 2})).await;
    assert_eq!(page.body["totalResults"], 3);
    let types: Vec<&str> = page.body["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["meta"]["resourceType"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["User", "Group"]);
    // userName exists only on users: groups are simply not matched.
    let named = search(json!({"filter": "userName eq \"bob\""})).await;
    assert_eq!(named.body["totalResults"], 1);
    search(json!({"filter": "nope eq 1"})).await.assert_error(400, Some("invalidFilter"));
    search(json!({"sortBy": "userName"})).await.assert_error(400, Some("invalidValue"));
}

async fn a_directory_over_its_rate_limit_gets_429_with_retry_after(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let tenant = directories::ensure_tenant(
        &db.store,
        &"acme".parse().unwrap(),
        &service::Actor::Cli,
        &service::Effects::system(),
    )
    .await
    .unwrap();
    let slow = directories::NewDirectory {
        idp: IdentityProvider::Generic,
        settings: store::DirectorySettings { rate_limit_per_second: 1, ..store::DirectorySettings::default() },
        first_token: None,
    };
    let (directory, _) =
        directories::add_directory(&db.store, tenant.id, slow, None, &service::Actor::Cli, &service::Effects::system())
            .await
            .unwrap();
    let request = TokenRequest { label: "t".into(), read_only: false, expires_at: None };
    let token = directories::issue_token(
        &db.store,
        tenant.id,
        directory.id,
        request,
        &service::Actor::Cli,
        &service::Effects::system(),
    )
    .await
    .unwrap()
    .unwrap();
    let neighbour = Idp::new(&db, &server, "globex").await;
    let client = reqwest::Client::new();
    let url = format!("http://{}/scim/v2/{}/Users", server.address(), directory.id);

    let mut limited = None;
    for _ in 0..15 {
        let reply = Reply::from(client.get(&url).bearer_auth(&token.secret).send().await.unwrap()).await;
        if reply.status == StatusCode::TOO_MANY_REQUESTS {
            limited = Some(reply);
            break;
        }
        assert_eq!(reply.status, 200);
    }
    let limited = limited.expect("the burst of ten requests is exhausted within fifteen");
    limited.assert_error(429, None);
    assert!(limited.header("retry-after").is_some_and(|s| s.parse::<u64>().is_ok_and(|s| s >= 1)));
    // Another directory is not affected.
    assert_eq!(neighbour.get("/Users").await.status, 200);
    // Raising the limit takes effect on the next request, cached credentials or not.
    let raised = directories::SettingsChange { rate_limit_per_second: Some(100), ..Default::default() };
    let configured =
        directories::configure_directory(&db.store, tenant.id, directory.id, raised, &service::Actor::Cli, now());
    assert_eq!(configured.await.unwrap().map(|settings| settings.rate_limit_per_second), Some(100));
    assert_eq!(client.get(&url).bearer_auth(&token.secret).send().await.unwrap().status(), 200);
    // Another tenant cannot change it.
    let other = neighbour.tenant;
    let refused = directories::configure_directory(&db.store, other, directory.id, raised, &service::Actor::Cli, now());
    assert_eq!(refused.await.unwrap(), None);
}

/// A tenant's budget counts all its directories together: two directories well under their
/// own limits are refused once the tenant's budget (2 a second here, bursts of 20) is
/// spent; another tenant's directory goes on.
async fn a_tenant_over_its_budget_across_directories_gets_429(db: TestDatabase) {
    let server = TestServer::start_with(&db, &["--scim-tenant-rate-limit-per-second", "2"]).await;
    let first = Idp::new(&db, &server, "acme").await;
    let second = Idp::new(&db, &server, "acme").await;
    let neighbour = Idp::new(&db, &server, "globex").await;
    assert_eq!(first.tenant, second.tenant);
    // Twenty at once pass (the burst); past that, most of the next forty are refused (two
    // a second come back: forty requests would have to take twenty seconds to all pass).
    let mut replies = Vec::new();
    for _ in 0..30 {
        replies.push(first.get("/Users").await);
        replies.push(second.get("/Users").await);
    }
    let statuses: Vec<StatusCode> = replies.iter().map(|reply| reply.status).collect();
    assert!(statuses[..20].iter().all(|status| *status == StatusCode::OK), "{statuses:?}");
    let limited = replies.iter().find(|reply| reply.status == StatusCode::TOO_MANY_REQUESTS);
    let limited = limited.unwrap_or_else(|| panic!("no request was refused: {statuses:?}"));
    limited.assert_error(429, None);
    assert!(limited.header("retry-after").is_some_and(|s| s.parse::<u64>().is_ok_and(|s| s >= 1)));
    for _ in 0..15 {
        assert_eq!(neighbour.get("/Users").await.status, 200, "another tenant has its own budget");
    }
}

async fn entra_and_okta_dialects_are_normalised_per_directory(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let okta = Idp::new(&db, &server, "acme").await;
    // An Entra ID directory: the same requests as Entra sends them.
    let (tenant, directory, token) = crate::provisioned(
        &db,
        "globex",
        IdentityProvider::Entra,
        TokenRequest { label: "entra".into(), read_only: false, expires_at: None },
        now(),
    )
    .await;
    let entra = Idp {
        base: format!("http://{}/scim/v2/{}", server.address(), directory.id),
        token: token.secret,
        client: reqwest::Client::new(),
        tenant: tenant.id,
        directory: directory.id,
    };
    let body = json!({"schemas": [USER_SCHEMA, ENTERPRISE], "externalId": "0a21f0f2", "userName": "Test_User_ab6490ee@testuser.com",
        "active": "True", "emails": "Test_User_ab6490ee@testuser.com", "displayName": "Test User",
        "name": {"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"},
        ENTERPRISE: {"manager": "boss-id", "department": "Ops"}});
    let created = entra.post("/Users", &body).await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.body["active"], true);
    assert_eq!(created.body["emails"], json!([{"value": "Test_User_ab6490ee@testuser.com"}]));
    assert_eq!(created.body[ENTERPRISE]["manager"]["value"], "boss-id");
    let id = created.body["id"].as_str().unwrap();
    let patched = patch(
        &entra,
        &format!("/Users/{id}"),
        json!([{"op": "Replace", "value": {"name.givenName": "Babs", format!("{ENTERPRISE}:department"): "Sales", "active": "False"}}]),
    )
    .await;
    assert_eq!(patched.status, 200, "{}", patched.body);
    assert_eq!(patched.body["name"]["givenName"], "Babs");
    assert_eq!(patched.body["name"]["familyName"], "familyName");
    assert_eq!(patched.body[ENTERPRISE]["department"], "Sales");
    assert_eq!(patched.body["active"], false);

    // The Okta directory does not take Entra's string booleans: the RFC says booleans.
    let mut stringly = user("x");
    stringly["active"] = json!("True");
    okta.post("/Users", &stringly).await.assert_error(400, Some("invalidValue"));
}

const BULK: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";

async fn bulk_requests_resolve_bulk_ids_and_stop_on_errors(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let idp = Idp::new(&db, &server, "acme").await;

    // RFC 7644 §3.7.2: a group whose member is created later in the same request.
    let reply = idp
        .post(
            "/Bulk",
            &json!({"schemas": [BULK], "Operations": [
                {"method": "POST", "path": "/Groups", "bulkId": "ytrewq", "data": {"schemas": [GROUP_SCHEMA],
                    "displayName": "Tour Guides", "members": [{"type": "User", "value": "bulkId:qwerty"}]}},
                {"method": "POST", "path": "/Users", "bulkId": "qwerty", "data": user("alice")},
                {"method": "PATCH", "path": "/Users/bulkId:qwerty", "data": {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                    "Operations": [{"op": "replace", "path": "title", "value": "Guide"}]}},
                {"method": "POST", "path": "/Users", "bulkId": "dup", "data": user("alice")},
                {"method": "DELETE", "path": "/Users/unknown-id"}
            ]}),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["schemas"], json!(["urn:ietf:params:scim:api:messages:2.0:BulkResponse"]));
    let results = reply.body["Operations"].as_array().unwrap();
    let statuses: Vec<&str> = results.iter().map(|r| r["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["201", "201", "200", "409", "404"]);
    assert_eq!(results[3]["response"]["scimType"], "uniqueness");
    let group_location = results[0]["location"].as_str().unwrap();
    let group_id = group_location.rsplit('/').next().unwrap();
    let user_id = results[1]["location"].as_str().unwrap().rsplit('/').next().unwrap();
    let group = idp.get(&format!("/Groups/{group_id}")).await;
    assert_eq!(group.body["members"][0]["value"], user_id);
    assert_eq!(idp.get(&format!("/Users/{user_id}")).await.body["title"], "Guide");
    assert_eq!(results[0]["version"], group.body["meta"]["version"]);

    // failOnErrors: processing stops after that many errors.
    let stopped = idp
        .post(
            "/Bulk",
            &json!({"schemas": [BULK], "failOnErrors": 1, "Operations": [
                {"method": "POST", "path": "/Users", "bulkId": "a", "data": user("alice")},
                {"method": "POST", "path": "/Users", "bulkId": "b", "data": user("bob")}
            ]}),
        )
        .await;
    assert_eq!(stopped.body["Operations"].as_array().unwrap().len(), 1);
    assert_eq!(idp.get("/Users?filter=userName%20eq%20%22bob%22").await.body["totalResults"], 0);

    // Creations are validated before the request's transaction: one that fails
    // validation answers in its turn, the others are stored, and the answer's location
    // and version are the stored resource's.
    let prepared = idp
        .post(
            "/Bulk",
            &json!({"schemas": [BULK], "Operations": [
                {"method": "POST", "path": "/Users", "bulkId": "c", "data": user("carol")},
                {"method": "POST", "path": "/Users", "bulkId": "n", "data": {"schemas": [USER_SCHEMA], "displayName": "No name"}},
                {"method": "POST", "path": "/Users", "bulkId": "d", "data": user("dave")},
                {"method": "POST", "path": "/Users", "bulkId": "e", "data": user("erin")},
                {"method": "POST", "path": "/Groups", "bulkId": "f", "data": {"schemas": [GROUP_SCHEMA], "displayName": "Finance"}}
            ]}),
        )
        .await;
    let results = prepared.body["Operations"].as_array().unwrap();
    let statuses: Vec<&str> = results.iter().map(|r| r["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["201", "400", "201", "201", "201"], "{}", prepared.body);
    assert_eq!(results[1]["response"]["scimType"], "invalidValue");
    let finance = idp.get(&results[4]["location"].as_str().unwrap()[idp.base.len()..]).await;
    assert_eq!(
        (&finance.body["displayName"], &finance.body["meta"]["version"]),
        (&json!("Finance"), &results[4]["version"])
    );
    // Dave, erin and the group were stored together (one statement for their rows): each
    // is found by its lookup values too.
    assert_eq!(
        idp.get("/Users?filter=emails%5Bvalue%20eq%20%22ERIN%40example.com%22%5D").await.body["totalResults"],
        1
    );
    for (result, name) in [(&results[0], "carol"), (&results[2], "dave"), (&results[3], "erin")] {
        let location = result["location"].as_str().unwrap();
        let stored = idp.get(&location[idp.base.len()..]).await;
        assert_eq!(stored.status, 200, "{location}");
        assert_eq!(stored.body["userName"], name);
        assert_eq!(
            (&stored.body["meta"]["location"], &stored.body["meta"]["version"]),
            (&result["location"], &result["version"])
        );
    }

    // Creations stored together are refused together when one of them must be answered
    // with its own error (a taken userName, one taken earlier in the same request): they
    // are then stored one by one, and `failOnErrors` stops at the right one.
    let refused = idp
        .post(
            "/Bulk",
            &json!({"schemas": [BULK], "failOnErrors": 2, "Operations": [
                {"method": "POST", "path": "/Users", "bulkId": "g", "data": user("gina")},
                {"method": "POST", "path": "/Users", "bulkId": "h", "data": user("hank")},
                {"method": "POST", "path": "/Users", "bulkId": "a", "data": user("ALICE")},
                {"method": "POST", "path": "/Users", "bulkId": "i", "data": user("ivy")},
                {"method": "POST", "path": "/Users", "bulkId": "i2", "data": user("Ivy")},
                {"method": "POST", "path": "/Users", "bulkId": "j", "data": user("jack")}
            ]}),
        )
        .await;
    let results = refused.body["Operations"].as_array().unwrap();
    let statuses: Vec<&str> = results.iter().map(|r| r["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["201", "201", "409", "201", "409"], "{}", refused.body);
    assert_eq!(
        (&results[2]["response"]["scimType"], &results[4]["response"]["scimType"]),
        (&json!("uniqueness"), &json!("uniqueness"))
    );
    for (name, stored) in [("gina", 1), ("hank", 1), ("ivy", 1), ("jack", 0)] {
        let found = idp.get(&format!("/Users?filter=userName%20eq%20%22{name}%22")).await;
        assert_eq!(found.body["totalResults"], stored, "{name}");
    }

    // Circular and unknown references fail; limits are enforced.
    let circular = idp
        .post(
            "/Bulk",
            &json!({"schemas": [BULK], "Operations": [
                {"method": "POST", "path": "/Groups", "bulkId": "g1", "data": {"schemas": [GROUP_SCHEMA], "displayName": "A", "members": [{"value": "bulkId:g2"}]}},
                {"method": "POST", "path": "/Groups", "bulkId": "g2", "data": {"schemas": [GROUP_SCHEMA], "displayName": "B", "members": [{"value": "bulkId:g1"}]}},
                {"method": "DELETE", "path": "/Users/bulkId:nowhere"}
            ]}),
        )
        .await;
    let statuses: Vec<&str> =
        circular.body["Operations"].as_array().unwrap().iter().map(|r| r["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["409", "409", "400"]);
    // The limit the service advertises is the one it enforces.
    let limit = idp.get("/ServiceProviderConfig").await.body["bulk"]["maxOperations"].as_u64().unwrap() as usize;
    let deletions = |n| -> Vec<Value> { (0..n).map(|_| json!({"method": "DELETE", "path": "/Users/x"})).collect() };
    let at_the_limit = idp.post("/Bulk", &json!({"schemas": [BULK], "Operations": deletions(limit)})).await;
    assert_eq!(at_the_limit.status, 200);
    assert_eq!(at_the_limit.body["Operations"].as_array().unwrap().len(), limit);
    let too_many = idp.post("/Bulk", &json!({"schemas": [BULK], "Operations": deletions(limit + 1)})).await;
    too_many.assert_error(413, None);
    assert!(
        too_many.body["detail"].as_str().unwrap().contains(&format!("at most {limit} operations")),
        "{:?}",
        too_many.body
    );
    idp.post("/Bulk", &json!({"Operations": []})).await.assert_error(400, Some("invalidSyntax"));
}

async fn oauth_client_credentials_give_a_short_lived_directory_token(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let idp = Idp::new(&db, &server, "acme").await;
    let other = Idp::new(&db, &server, "globex").await;
    let client = directories::issue_oauth_client(
        &db.store,
        idp.tenant,
        idp.directory,
        "Entra".into(),
        &service::Actor::Cli,
        &service::Effects::system(),
    )
    .await
    .unwrap()
    .unwrap();
    let http = reqwest::Client::new();
    let token_url = format!("http://{}/oauth/token", server.address());

    // HTTP Basic client authentication.
    let response = http
        .post(&token_url)
        .basic_auth(&client.client_id, Some(&client.secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let grant: Value = response.json().await.unwrap();
    assert_eq!(grant["token_type"], "Bearer");
    assert_eq!(grant["expires_in"], 3600);
    let access = grant["access_token"].as_str().unwrap().to_owned();
    let bearer = |base: &str, token: &str| http.get(format!("{base}/Users")).bearer_auth(token.to_owned()).send();
    assert_eq!(bearer(&idp.base, &access).await.unwrap().status(), 200);
    // Bound to its directory only.
    assert_eq!(bearer(&other.base, &access).await.unwrap().status(), 401);

    // Credentials in the form body work too.
    let form = http
        .post(&token_url)
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", &client.client_id),
            ("client_secret", &client.secret),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), 200);

    // RFC 6749 §5.2 errors.
    let wrong = http
        .post(&token_url)
        .basic_auth(&client.client_id, Some("scims_wrong"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    assert!(wrong.headers().contains_key("www-authenticate"));
    assert_eq!(wrong.json::<Value>().await.unwrap()["error"], "invalid_client");
    let unknown = http
        .post(&token_url)
        .basic_auth("scimc_nobody", Some(&client.secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 401);
    let password = http
        .post(&token_url)
        .basic_auth(&client.client_id, Some(&client.secret))
        .form(&[("grant_type", "password")])
        .send()
        .await
        .unwrap();
    assert_eq!(password.status(), 400);
    assert_eq!(password.json::<Value>().await.unwrap()["error"], "unsupported_grant_type");
    let missing = http.post(&token_url).form(&[("scope", "x")]).send().await.unwrap();
    assert_eq!(missing.json::<Value>().await.unwrap()["error"], "invalid_request");

    // The access token expires an hour after it was issued.
    let directory = db.store.tenant(idp.tenant).directory_data(idp.directory).directory_id();
    #[allow(clippy::disallowed_methods)] // the server issued it at the real time
    let in_two_hours = chrono::Utc::now() + chrono::Duration::hours(2);
    let later = service::directories::authenticate(&db.store, directory, &access, in_two_hours).await;
    assert!(matches!(
        later,
        Err(service::directories::AuthenticationError::Unauthorized(service::directories::Refusal::Expired))
    ));
}

const ACME: &str = "urn:acme:params:scim:schemas:extension:2.0:User";

async fn custom_extensions_are_first_class_per_directory(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let idp = Idp::new(&db, &server, "acme").await;
    let other = Idp::new(&db, &server, "globex").await;
    let definition = json!({
        "id": ACME, "name": "AcmeUser", "description": "Acme's own attributes",
        "attributes": [
            {"name": "costCenter", "type": "string", "multiValued": false, "required": false, "caseExact": false,
             "mutability": "readWrite", "returned": "default", "uniqueness": "none"},
            {"name": "clearanceLevel", "type": "integer", "multiValued": false, "required": false}
        ]
    });
    let extension = service::provisioning::ExtensionDefinition {
        resource_type: ResourceKind::User,
        required: false,
        schema: definition.clone(),
    };
    let urn = service::provisioning::define_extension(
        &db.store,
        idp.tenant,
        idp.directory,
        extension.clone(),
        &service::Actor::Cli,
        now(),
    )
    .await
    .unwrap();
    assert_eq!(urn, ACME);
    // Defined twice, or clashing with a core attribute: refused.
    let again = service::provisioning::define_extension(
        &db.store,
        idp.tenant,
        idp.directory,
        extension,
        &service::Actor::Cli,
        now(),
    )
    .await;
    assert!(matches!(
        again,
        Err(service::provisioning::ProvisioningError::Protocol(scim::error::ScimError::Uniqueness(_)))
    ));

    // Discovery shows it for this directory only.
    let schemas = idp.get(&format!("/Schemas/{ACME}")).await;
    assert_eq!(schemas.status, 200);
    assert_eq!(schemas.body["attributes"][0]["name"], "costCenter");
    let user_type = idp.get("/ResourceTypes/User").await;
    assert!(user_type.body["schemaExtensions"].as_array().unwrap().iter().any(|e| e["schema"] == ACME));
    other.get(&format!("/Schemas/{ACME}")).await.assert_error(404, None);

    // Validated, stored, filtered, patched and projected like core attributes.
    let mut body = user("bjensen");
    body["schemas"] = json!([USER_SCHEMA, ACME]);
    body[ACME] = json!({"costCenter": "CC-42", "clearanceLevel": 3});
    let created = idp.post("/Users", &body).await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.body[ACME]["clearanceLevel"], 3);
    let id = created.body["id"].as_str().unwrap().to_owned();
    let mut wrong = user("typed");
    wrong["schemas"] = json!([USER_SCHEMA, ACME]);
    wrong[ACME] = json!({"clearanceLevel": "high"});
    idp.post("/Users", &wrong).await.assert_error(400, Some("invalidValue"));
    let found = idp
        .get(&format!(
            "/Users?filter={}",
            urlencode(&format!("{ACME}:costCenter eq \"cc-42\" and {ACME}:clearanceLevel ge 2"))
        ))
        .await;
    assert_eq!(found.ids(), vec![id.clone()]);
    let patched = patch(
        &idp,
        &format!("/Users/{id}"),
        json!([{"op": "replace", "path": format!("{ACME}:clearanceLevel"), "value": 5}]),
    )
    .await;
    assert_eq!(patched.body[ACME], json!({"costCenter": "CC-42", "clearanceLevel": 5}));
    let projected = idp.get(&format!("/Users/{id}?attributes={ACME}:costCenter")).await;
    assert_eq!(projected.body[ACME], json!({"costCenter": "CC-42"}));
    assert!(projected.body.get("emails").is_none());
    // Another directory does not know the schema.
    let mut stranger = user("stranger");
    stranger["schemas"] = json!([USER_SCHEMA, ACME]);
    stranger[ACME] = json!({"costCenter": "x"});
    other.post("/Users", &stranger).await.assert_error(400, Some("invalidSyntax"));
}
