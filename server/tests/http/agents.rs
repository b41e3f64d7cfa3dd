//! Agents and agentic applications (draft-abbey-scim-agent-extension-00) over HTTP: their
//! own endpoints with the RFC 7644 operations, unique names, change records for the
//! vendor's product (not Directory Sync events), their pages in the portal, and a
//! directory without non-human identities that does not serve them.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use service::nonhuman::{NonhumanExtensionError, set_nonhuman_extension};
use store::backend_tests;
use store::testing::TestDatabase;

use crate::TestServer;
use crate::nonhuman::Scim;
use crate::onboarding::admin_of;

const AGENT: &str = "urn:ietf:params:scim:schemas:core:2.0:Agent";
const APPLICATION: &str = "urn:ietf:params:scim:schemas:core:2.0:AgenticApplication";
const PATCH: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

backend_tests!(
    agents_and_applications_are_served_with_every_operation_and_unique_names,
    agent_changes_are_recorded_for_the_product_but_are_not_directory_sync_events,
    a_directory_without_non_human_identities_does_not_serve_agents,
    agents_are_not_group_members_and_have_pages_in_the_portal,
);

fn agent(name: &str) -> Value {
    json!({"schemas": [AGENT], "name": name, "displayName": format!("Agent {name}"), "active": true})
}

fn names(list: &Value) -> Vec<String> {
    let mut names: Vec<String> =
        list["Resources"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap_or("").to_owned()).collect();
    names.sort();
    names
}

async fn agents_and_applications_are_served_with_every_operation_and_unique_names(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let idp = Scim::new(&db, &server, "acme").await;

    // Discovery names them as scim-sanity looks for them.
    let types = idp.get("/ResourceTypes").await;
    let endpoints: Vec<(&str, &str)> = types["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["name"].as_str().unwrap(), t["endpoint"].as_str().unwrap()))
        .collect();
    assert_eq!(
        endpoints,
        [
            ("User", "/Users"),
            ("Group", "/Groups"),
            ("Agent", "/Agents"),
            ("AgenticApplication", "/AgenticApplications")
        ]
    );
    assert_eq!(idp.get(&format!("/Schemas/{AGENT}")).await["name"], "Agent");
    assert_eq!(idp.get("/ResourceTypes/AgenticApplication").await["schema"], APPLICATION);

    // Create: 201 with Location and ETag; read-only attributes a client sends are ignored.
    let mut body = agent("triage-bot");
    body["agentType"] = json!("Assistant");
    body["owners"] = json!([{"value": "someone"}]);
    let response = server_post(&idp, &server, "/Agents", &body).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let etag = response.headers()["etag"].to_str().unwrap().to_owned();
    let created: Value = response.json().await.unwrap();
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(location, created["meta"]["location"].as_str().unwrap());
    assert!(location.ends_with(&format!("/Agents/{id}")), "{location}");
    assert_eq!(created["meta"]["resourceType"], "Agent");
    assert_eq!(created["meta"]["version"].as_str().unwrap(), etag);
    assert_eq!((&created["name"], &created["agentType"]), (&json!("triage-bot"), &json!("Assistant")));
    assert!(created.get("owners").is_none(), "{created}");

    // Names are unique per type, ignoring case; an application may share an agent's name.
    let (status, refused) = idp.send(Method::POST, "/Agents", Some(&agent("TRIAGE-BOT"))).await;
    assert_eq!((status, &refused["scimType"]), (StatusCode::CONFLICT, &json!("uniqueness")), "{refused}");
    let app = json!({"schemas": [APPLICATION], "name": "triage-bot", "description": "Hosts the triage agents"});
    let (status, app) = idp.send(Method::POST, "/AgenticApplications", Some(&app)).await;
    assert_eq!(status, StatusCode::CREATED, "{app}");
    let (status, refused) = idp.send(Method::POST, "/Agents", Some(&json!({"schemas": [AGENT], "active": true}))).await;
    assert_eq!((status, &refused["scimType"]), (StatusCode::BAD_REQUEST, &json!("invalidValue")), "{refused}");

    // Read, replace, patch, filter, list: each type sees its own resources only.
    assert_eq!(idp.get(&format!("/Agents/{id}")).await["displayName"], "Agent triage-bot");
    let mut replaced = agent("triage-bot");
    replaced["displayName"] = json!("Triage");
    let (status, body) = idp.send(Method::PUT, &format!("/Agents/{id}"), Some(&replaced)).await;
    assert_eq!((status, &body["displayName"]), (StatusCode::OK, &json!("Triage")), "{body}");
    let deactivate = json!({"schemas": [PATCH], "Operations": [{"op": "replace", "path": "active", "value": false}]});
    let (status, body) = idp.send(Method::PATCH, &format!("/Agents/{id}"), Some(&deactivate)).await;
    assert_eq!((status, &body["active"]), (StatusCode::OK, &json!(false)), "{body}");
    assert_eq!(idp.get(&format!("/Agents/{id}")).await["active"], false);
    idp.send(Method::POST, "/Agents", Some(&agent("report-writer"))).await;
    assert_eq!(names(&idp.get("/Agents").await), ["report-writer", "triage-bot"]);
    assert_eq!(names(&idp.get("/Agents?filter=name%20eq%20%22Report-Writer%22").await), ["report-writer"]);
    assert_eq!(names(&idp.get("/Agents?filter=active%20eq%20false").await), ["triage-bot"]);
    assert_eq!(names(&idp.get("/AgenticApplications").await), ["triage-bot"]);
    assert_eq!(idp.get("/Users").await["totalResults"], 0);
    let sorted = idp.get("/Agents?sortBy=name&sortOrder=descending").await;
    assert_eq!(sorted["Resources"][0]["name"], "triage-bot");
    let everything = idp
        .send(
            Method::POST,
            "/.search",
            Some(&json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"]})),
        )
        .await
        .1;
    assert_eq!(everything["totalResults"], 3, "{everything}");

    // Bulk reaches them too.
    let bulk = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"], "Operations": [
        {"method": "POST", "path": "/Agents", "bulkId": "a", "data": agent("bulk-bot")},
        {"method": "DELETE", "path": "/Agents/bulkId:a"}
    ]});
    let (status, answered) = idp.send(Method::POST, "/Bulk", Some(&bulk)).await;
    assert_eq!(status, StatusCode::OK, "{answered}");
    let statuses: Vec<&str> =
        answered["Operations"].as_array().unwrap().iter().map(|op| op["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["201", "204"], "{answered}");

    // Delete, then it is gone; ten created and deleted in turn leave nothing behind.
    assert_eq!(idp.send(Method::DELETE, &format!("/Agents/{id}"), None).await.0, StatusCode::NO_CONTENT);
    let (status, gone) = idp.send(Method::GET, &format!("/Agents/{id}"), None).await;
    assert_eq!((status, &gone["status"]), (StatusCode::NOT_FOUND, &json!("404")), "{gone}");
    for n in 0..10 {
        let (status, created) = idp.send(Method::POST, "/Agents", Some(&agent(&format!("ephemeral-{n}")))).await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        let path = format!("/Agents/{}", created["id"].as_str().unwrap());
        assert_eq!(idp.send(Method::DELETE, &path, None).await.0, StatusCode::NO_CONTENT);
    }
    assert_eq!(names(&idp.get("/Agents").await), ["report-writer"]);
}

/// A POST whose headers the test reads.
async fn server_post(idp: &Scim, server: &TestServer, path: &str, body: &Value) -> reqwest::Response {
    reqwest::Client::new()
        .post(server.url(&format!("/scim/v2/{}{path}", idp.directory)))
        .bearer_auth(idp.token())
        .header("content-type", "application/scim+json")
        .body(body.to_string())
        .send()
        .await
        .unwrap()
}

async fn agent_changes_are_recorded_for_the_product_but_are_not_directory_sync_events(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let idp = Scim::new(&db, &server, "acme").await;
    let (_, created) = idp.send(Method::POST, "/Agents", Some(&agent("triage-bot"))).await;
    let id = created["id"].as_str().unwrap().to_owned();
    let deactivate = json!({"schemas": [PATCH], "Operations": [{"op": "replace", "path": "active", "value": false}]});
    idp.send(Method::PATCH, &format!("/Agents/{id}"), Some(&deactivate)).await;
    let app = json!({"schemas": [APPLICATION], "name": "console"});
    let (_, app) = idp.send(Method::POST, "/AgenticApplications", Some(&app)).await;
    idp.send(Method::DELETE, &format!("/Agents/{id}"), None).await;

    let data = db.store.tenant(idp.tenant).directory_data(idp.directory);
    let changes = data.changes_after(0, 100).await.unwrap();
    let kinds: Vec<&str> = changes.iter().map(|change| change.kind.as_str()).collect();
    assert_eq!(kinds, ["agent.created", "agent.deactivated", "agentic_application.created", "agent.deleted"]);
    let created = &changes[0];
    assert_eq!(created.resource_type, store::ChangeSubject::Resource(store::ResourceKind::Agent));
    let view = created.view.clone().unwrap();
    assert_eq!(
        view["normalized"],
        json!({"idp_id": id, "name": "triage-bot", "display_name": "Agent triage-bot", "state": "active"})
    );
    assert_eq!(changes[1].view.as_ref().unwrap()["previous_attributes"], json!({"state": "active"}));
    assert_eq!(changes[2].resource_id, app["id"].as_str().unwrap());

    // Directory Sync (the WorkOS-compatible API) has no agents: its feed skips them.
    let every_type = ["dsync.user.created", "dsync.user.updated", "dsync.user.deleted", "dsync.group.created"]
        .into_iter()
        .chain(["dsync.group.updated", "dsync.group.deleted", "dsync.group.user_added", "dsync.group.user_removed"])
        .map(str::to_owned)
        .collect();
    let query = service::directory_sync::EventQuery { events: every_type, limit: 100, ..Default::default() };
    let page = service::directory_sync::list_events(&db.store, &query).await.unwrap();
    assert!(page.data.is_empty(), "{:?}", page.data);
}

async fn a_directory_without_non_human_identities_does_not_serve_agents(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let idp = Scim::new(&db, &server, "acme").await;
    let (actor, now) = (service::Actor::Cli, "2026-12-06T09:00:00Z".parse().unwrap());

    // Not while an agent is left: it could no longer be reached.
    let (_, created) = idp
        .send(Method::POST, "/AgenticApplications", Some(&json!({"schemas": [APPLICATION], "name": "console"})))
        .await;
    let refused = set_nonhuman_extension(&db.store, idp.tenant, idp.directory, false, &actor, now).await;
    assert!(matches!(refused, Err(NonhumanExtensionError::InUse(1))), "{refused:?}");
    let path = format!("/AgenticApplications/{}", created["id"].as_str().unwrap());
    assert_eq!(idp.send(Method::DELETE, &path, None).await.0, StatusCode::NO_CONTENT);
    set_nonhuman_extension(&db.store, idp.tenant, idp.directory, false, &actor, now).await.unwrap();

    let types = idp.get("/ResourceTypes").await;
    let names: Vec<&str> = types["Resources"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["User", "Group"]);
    assert_eq!(idp.send(Method::GET, &format!("/Schemas/{AGENT}"), None).await.0, StatusCode::NOT_FOUND);
    for (method, path) in [(Method::GET, "/Agents"), (Method::POST, "/Agents"), (Method::GET, "/AgenticApplications/x")]
    {
        let body = (method == Method::POST).then(|| agent("triage-bot"));
        let (status, refused) = idp.send(method, path, body.as_ref()).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {refused}");
        assert!(refused["detail"].as_str().unwrap().contains("non-human identities setting is off"), "{refused}");
    }
    let bulk = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"], "Operations": [
        {"method": "POST", "path": "/Agents", "bulkId": "a", "data": agent("bulk-bot")}
    ]});
    let (status, answered) = idp.send(Method::POST, "/Bulk", Some(&bulk)).await;
    assert_eq!((status, &answered["Operations"][0]["status"]), (StatusCode::OK, &json!("404")), "{answered}");
    let data = db.store.tenant(idp.tenant).directory_data(idp.directory);
    let kinds: Vec<String> = data.changes_after(0, 100).await.unwrap().into_iter().map(|c| c.kind).collect();
    assert_eq!(kinds, ["agentic_application.created", "agentic_application.deleted"], "nothing else was written");
}

async fn agents_are_not_group_members_and_have_pages_in_the_portal(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let admin = admin_of(&server, "globex", "it-admin@globex.example").await;
    let idp = Scim::new(&db, &server, "globex").await;
    let directory = idp.directory.to_string();
    let (_, created) = idp.send(Method::POST, "/Agents", Some(&agent("triage-bot"))).await;
    let id = created["id"].as_str().unwrap().to_owned();

    let group = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Bots",
        "members": [{"value": id}]});
    let (status, refused) = idp.send(Method::POST, "/Groups", Some(&group)).await;
    assert_eq!((status, &refused["scimType"]), (StatusCode::BAD_REQUEST, &json!("invalidValue")), "{refused}");
    assert!(refused["detail"].as_str().unwrap().contains(&id), "{refused}");
    assert_eq!(idp.get("/Groups").await["totalResults"], 0, "nothing half-written");

    server.audit.flush().await;
    let page =
        admin.json("/api/directory_resource", &[("directory", &directory), ("kind", "agents"), ("id", &id)]).await;
    assert_eq!((&page["name"], &page["active"]), (&json!("triage-bot"), &json!(true)), "{page}");
    let normalized: Value = serde_json::from_str(page["normalized"].as_str().unwrap()).unwrap();
    assert_eq!(normalized["display_name"], "Agent triage-bot");
    let history: Vec<&str> =
        page["history"].as_array().unwrap().iter().map(|line| line["summary"].as_str().unwrap()).collect();
    assert_eq!(history.len(), 1, "{history:?}");
    assert!(history[0].starts_with("Created agent"), "{history:?}");
    let listed = admin
        .json(
            "/api/directory_resources",
            &[("directory", &directory), ("kind", "agents"), ("search", "tri"), ("start", "1")],
        )
        .await;
    assert_eq!(listed["total"], 1, "{listed}");
    assert_eq!(
        listed["rows"][0],
        json!({"id": id, "name": "triage-bot", "secondary": "Agent triage-bot", "active": true})
    );
    let applications =
        [("directory", directory.as_str()), ("kind", "agentic-applications"), ("search", ""), ("start", "1")];
    assert_eq!(admin.json("/api/directory_resources", &applications).await["total"], 0);
    let response = admin.get(&format!("/admin/directories/{directory}/agents/{id}")).await;
    assert_eq!(response.status(), StatusCode::OK);
    let html = response.text().await.unwrap();
    // The page's frame; its content loads in the browser, from the server function above.
    assert!(html.contains("← Dashboard") && !html.contains("Page not found"), "{html}");
}
