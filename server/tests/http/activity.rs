//! The trail in words: the audit page, the dashboard's activity and chart, and a user's or
//! group's own page say what happened to whom and by whom ("Deactivated Bob Jones (bob@…)"
//! by "Microsoft Entra ID (token ‘…’)"), from Entra-shaped traffic.

use serde_json::{Value, json};
use store::testing::TestDatabase;

use crate::TestServer;
use crate::onboarding::{admin_of, start_directory};

store::backend_tests!(the_trail_the_dashboard_and_a_users_page_say_what_happened_in_words);

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const PATCH: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

fn summaries(rows: &Value) -> Vec<String> {
    rows.as_array().unwrap().iter().map(|row| row["summary"].as_str().unwrap().to_owned()).collect()
}

async fn the_trail_the_dashboard_and_a_users_page_say_what_happened_in_words(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let admin = admin_of(&server, "globex", "it-admin@globex.example").await;
    let directory = start_directory(&admin, "entra").await;
    let issued = admin.json("/api/issue_setup_token", &[("directory", &directory), ("valid_days", "0")]).await;
    let token = issued["token"].as_str().unwrap().to_owned();
    let scim = reqwest::Client::new();
    let url = |path: &str| server.url(&format!("/scim/v2/{directory}{path}"));
    let send = |request: reqwest::RequestBuilder| async {
        let response = request.bearer_auth(&token).send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json::<Value>().await.unwrap_or(Value::Null))
    };
    let user = |user_name: &str, display: &str| {
        json!({"schemas": [USER], "userName": user_name, "displayName": display, "active": true,
            "emails": [{"value": user_name, "type": "work", "primary": true}]})
    };
    let (status, alice) = send(scim.post(url("/Users")).json(&user("alice.smith@globex.example", "Alice Smith"))).await;
    assert_eq!(status, 201, "{alice}");
    let (status, bob) = send(scim.post(url("/Users")).json(&user("bob.jones@globex.example", "Bob Jones"))).await;
    assert_eq!(status, 201, "{bob}");
    let (alice, bob) = (alice["id"].as_str().unwrap().to_owned(), bob["id"].as_str().unwrap().to_owned());
    // Entra's dialect: a capitalised op and a string boolean.
    let deactivate = json!({"schemas": [PATCH], "Operations": [{"op": "Replace", "path": "active", "value": "False"}]});
    let (status, body) = send(scim.patch(url(&format!("/Users/{bob}"))).json(&deactivate)).await;
    assert_eq!(status, 200, "{body}");
    let group = json!({"schemas": [GROUP], "displayName": "Globex Engineering",
        "members": [{"value": alice}, {"value": bob}]});
    let (status, group) = send(scim.post(url("/Groups")).json(&group)).await;
    assert_eq!(status, 201, "{group}");
    let group = group["id"].as_str().unwrap().to_owned();
    let remove =
        json!({"schemas": [PATCH], "Operations": [{"op": "Remove", "path": format!("members[value eq \"{alice}\"]")}]});
    let (status, body) = send(scim.patch(url(&format!("/Groups/{group}"))).json(&remove)).await;
    assert!(status == 204 || status == 200, "{status} {body}");
    let (status, _) = send(scim.post(url("/Users")).json(&user("alice.smith@globex.example", "Alice Again"))).await;
    assert_eq!(status, 409);
    server.audit.flush().await;

    // The audit trail.
    let trail = admin.json("/api/audit_records", &[("filters[since]", "")]).await;
    let said = summaries(&trail["rows"]);
    for expected in [
        "Created user Alice Smith (alice.smith@globex.example)",
        "Deactivated Bob Jones (bob.jones@globex.example)",
        "Created group Globex Engineering with 2 members",
        "Removed alice.smith@globex.example from Globex Engineering",
    ] {
        assert!(said.iter().any(|line| line == expected), "no {expected:?} in {said:#?}");
    }
    assert!(
        said.iter().any(|line| line.starts_with("Could not create user alice.smith@globex.example (409")),
        "{said:#?}"
    );
    let rows = trail["rows"].as_array().unwrap();
    let deactivation = rows.iter().find(|row| row["summary"].as_str().unwrap().starts_with("Deactivated")).unwrap();
    assert_eq!(
        deactivation["by"], "Microsoft Entra ID (token ‘Issued by it-admin@globex.example in the setup wizard’)",
        "{deactivation}"
    );
    assert_eq!(deactivation["subject_href"], format!("/admin/directories/{directory}/users/{bob}"));
    assert!(deactivation["what"].as_str().unwrap().starts_with("PATCH /scim/v2/"), "the raw request is kept");
    let issued_row = rows.iter().find(|row| row["action"] == "token.issued").unwrap();
    assert_eq!(issued_row["by"], "it-admin@globex.example");
    assert_eq!(
        issued_row["summary"], "Token issued: ‘Issued by it-admin@globex.example in the setup wizard’",
        "{issued_row}"
    );

    // The dashboard's activity and chart.
    let activity = admin.json("/api/directory_activity", &[("directory", &directory)]).await;
    let lines = &activity["lines"];
    assert!(lines[0]["summary"].as_str().unwrap().starts_with("Could not create user"), "{activity}");
    assert_eq!(lines[0]["ok"], false);
    assert!(lines[0]["cause"].as_str().unwrap().starts_with("Uniqueness"), "{}", lines[0]);
    let total = |bars: &Value, field: &str| {
        bars.as_array().unwrap().iter().map(|bar| bar[field].as_i64().unwrap()).sum::<i64>()
    };
    assert_eq!(activity["hours"].as_array().unwrap().len(), 24);
    assert_eq!(activity["days"].as_array().unwrap().len(), 7);
    assert_eq!(total(&activity["hours"], "requests"), 6, "{}", activity["hours"]);
    assert_eq!(total(&activity["hours"], "failures"), 1);
    assert_eq!(total(&activity["days"], "requests"), 6);

    // Bob's page: as stored, as the product reads it, his group and his history.
    let page =
        admin.json("/api/directory_resource", &[("directory", &directory), ("kind", "users"), ("id", &bob)]).await;
    assert_eq!(page["name"], "bob.jones@globex.example");
    assert_eq!(page["active"], false);
    let normalized: Value = serde_json::from_str(page["normalized"].as_str().unwrap()).unwrap();
    assert_eq!(normalized["email"], "bob.jones@globex.example", "{normalized}");
    assert_eq!(normalized["state"], "inactive");
    assert!(normalized.get("raw_attributes").is_none());
    let stored: Value = serde_json::from_str(page["stored"].as_str().unwrap()).unwrap();
    assert_eq!(stored["displayName"], "Bob Jones");
    assert_eq!(
        page["related"],
        json!([[format!("/admin/directories/{directory}/groups/{group}"), "Globex Engineering"]])
    );
    let history: Vec<&str> =
        page["history"].as_array().unwrap().iter().map(|line| line["summary"].as_str().unwrap()).collect();
    assert_eq!(
        history,
        ["Deactivated Bob Jones (bob.jones@globex.example)", "Created user Bob Jones (bob.jones@globex.example)"],
        "newest first, only Bob's records"
    );
    let group_page =
        admin.json("/api/directory_resource", &[("directory", &directory), ("kind", "groups"), ("id", &group)]).await;
    assert_eq!(
        group_page["related"],
        json!([[format!("/admin/directories/{directory}/users/{bob}"), "bob.jones@globex.example"]])
    );

    // The operator's tenant page: where onboarding stands, at a glance.
    let tenant = server.json_call("/api/tenant_detail", &[("slug", "globex")]).await;
    let row = &tenant["directories"][0];
    assert_eq!(row["setup"], "In setup: step 2 of 6 (Endpoint)", "{tenant}");
    assert_eq!(row["completed"], false);
    assert_eq!(
        (row["active_users"].as_i64(), row["inactive_users"].as_i64(), row["groups"].as_i64()),
        (Some(1), Some(1), Some(1))
    );
    assert_eq!((row["requests_24h"].as_i64(), row["failures_24h"].as_i64()), (Some(6), Some(1)));
    // The dashboard, like the wizard's feed, completes setup once the identity provider
    // has provisioned with one of the admin's tokens; the operator sees it at once.
    let dashboard = admin.json("/api/directory_dashboard", &[("directory", &directory)]).await;
    assert_eq!(dashboard["completed"], true, "{dashboard}");
    let tenant = server.json_call("/api/tenant_detail", &[("slug", "globex")]).await;
    assert!(tenant["directories"][0]["setup"].as_str().unwrap().starts_with("Setup complete on "), "{tenant}");
    let links = server.json_call("/api/list_setup_links", &[("tenant", "globex")]).await;
    assert_eq!(links[0]["state"], "used", "{links}");
    assert_eq!(links[0]["used_by"], "it-admin@globex.example");

    // Vendor staff read the same from the tenant's page, and each read is in the trail.
    let staff_activity =
        server.json_call("/api/directory_activity", &[("directory", &directory), ("tenant", "globex")]).await;
    assert_eq!(
        staff_activity["lines"],
        activity["lines"]
            .clone()
            .as_array()
            .map(|lines| {
                lines
                    .iter()
                    .map(|line| {
                        let mut line = line.clone();
                        line["subject_href"] = line["subject_href"].as_str().map_or(Value::Null, |href| {
                            json!(href.replace("/admin/directories/", "/tenants/globex/directories/"))
                        });
                        line
                    })
                    .collect::<Vec<_>>()
            })
            .map(Value::from)
            .unwrap()
    );
    let staff_bob = server
        .json_call(
            "/api/directory_resource",
            &[("directory", &directory), ("kind", "users"), ("id", &bob), ("tenant", "globex")],
        )
        .await;
    assert_eq!(staff_bob["history"], page["history"]);
    assert_eq!(staff_bob["related"][0][0], format!("/tenants/globex/directories/{directory}/groups/{group}"));
    let staff_trail =
        server.json_call("/api/audit_records", &[("filters[operation]", "support"), ("tenant", "globex")]).await;
    let staff_reads: Vec<&str> =
        staff_trail["rows"].as_array().unwrap().iter().map(|row| row["action"].as_str().unwrap()).collect();
    assert!(staff_reads.contains(&"support.viewed_directory"), "{staff_reads:?}");
    assert!(
        staff_reads.contains(&"support.viewed_audit"),
        "the trail's own reading is recorded first: {staff_reads:?}"
    );
    let staff_row =
        staff_trail["rows"].as_array().unwrap().iter().find(|row| row["action"] == "support.viewed_directory").unwrap();
    assert_eq!(staff_row["by"], "ops@vendor.example (vendor operator)", "{staff_row}");
    // A tenant admin cannot name another tenant to read it.
    let sideways = other_tenant_call(&server, &directory).await;
    assert_eq!(sideways, 401);

    // Support investigating the conflict is pointed at the user it collided with.
    let conflict = rows.iter().find(|row| row["status"] == 409).unwrap();
    let tenant_id = db.store.tenant_by_slug(&"globex".parse().unwrap()).await.unwrap().unwrap().id.to_string();
    let seq = conflict["seq"].as_i64().unwrap().to_string();
    let failure = server.json_call("/api/support_failure", &[("tenant", &tenant_id), ("seq", &seq)]).await;
    assert_eq!(
        failure["existing"],
        json!([format!("/tenants/globex/directories/{directory}/users/{alice}"), "alice.smith@globex.example"]),
        "{failure}"
    );

    // Nobody else's, and nothing that is not stored.
    let missing =
        admin.call("/api/directory_resource", &[("directory", &directory), ("kind", "users"), ("id", "nobody")]).await;
    assert_eq!(missing.status(), 404);
    assert!(missing.text().await.unwrap().contains("no such user or group"));
    let other = admin_of(&server, "initech", "it@initech.example").await;
    let foreign =
        other.call("/api/directory_resource", &[("directory", &directory), ("kind", "users"), ("id", &bob)]).await;
    assert_eq!(foreign.status(), 404);
    let foreign = other.call("/api/directory_activity", &[("directory", &directory)]).await;
    assert_eq!(foreign.status(), 404);
}

/// What a tenant admin gets when naming another tenant's slug to read its directory.
async fn other_tenant_call(server: &TestServer, directory: &str) -> u16 {
    let outsider = admin_of(server, "hooli", "it@hooli.example").await;
    let answer = outsider.call("/api/directory_activity", &[("directory", directory), ("tenant", "globex")]).await;
    answer.status().as_u16()
}
