//! The request sequences Okta and Microsoft Entra ID send when they provision, update,
//! deactivate, push groups and deprovision, written from their public documentation (Okta:
//! "SCIM 2.0 protocol reference"; Entra: "Tutorial: Develop and plan provisioning for a
//! SCIM endpoint"), with the final stored state checked attribute by attribute.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use service::directories::TokenRequest;
use store::testing::TestDatabase;
use store::{IdentityProvider, backend_tests};

use super::TestServer;

const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

struct Idp {
    base: String,
    token: String,
    client: reqwest::Client,
}

impl Idp {
    async fn new(db: &TestDatabase, server: &TestServer, idp: IdentityProvider) -> Self {
        let now = chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 11, 25, 9, 0, 0).unwrap();
        let (_, directory, token) = crate::provisioned(
            db,
            "customer",
            idp,
            TokenRequest { label: idp.as_str().into(), read_only: false, expires_at: None },
            now,
        )
        .await;
        Self {
            base: format!("http://{}/scim/v2/{}", server.address(), directory.id),
            token: token.secret,
            client: reqwest::Client::new(),
        }
    }

    /// Sends a request and returns (status, body); asserts the expected status.
    async fn call(&self, method: Method, path: &str, body: Option<Value>, expected: u16) -> Value {
        let mut request = self.client.request(method.clone(), format!("{}{path}", self.base)).bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.header("content-type", "application/scim+json; charset=utf-8").body(body.to_string());
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        assert_eq!(status, StatusCode::from_u16(expected).unwrap(), "{method} {path}: {text}");
        if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap() }
    }
}

fn patch(operations: Value) -> Option<Value> {
    Some(json!({"schemas": [PATCH_OP], "Operations": operations}))
}

backend_tests!(okta_provisions_updates_pushes_groups_and_deactivates, entra_provisions_updates_and_deprovisions);

async fn okta_provisions_updates_pushes_groups_and_deactivates(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let okta = Idp::new(&db, &server, IdentityProvider::Okta).await;

    // Okta checks whether the user exists, then creates it.
    let probe = okta
        .call(
            Method::GET,
            "/Users?filter=userName%20eq%20%22test.user%40okta.local%22&startIndex=1&count=100",
            None,
            200,
        )
        .await;
    assert_eq!(probe["totalResults"], 0);
    let created = okta
        .call(
            Method::POST,
            "/Users",
            Some(json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                "userName": "test.user@okta.local",
                "name": {"givenName": "Test", "familyName": "User"},
                "emails": [{"primary": true, "value": "test.user@okta.local", "type": "work"}],
                "displayName": "Test User",
                "locale": "en-US",
                "externalId": "00ujl29u0le5T6Aj10h7",
                "groups": [],
                "password": "1mz050nq",
                "active": true
            })),
            201,
        )
        .await;
    let id = created["id"].as_str().unwrap().to_owned();
    let user_path = format!("/Users/{id}");
    // A retry of the create (Okta retries on timeouts) is a conflict, not a second user.
    let retry = okta
        .client
        .post(format!("{}/Users", okta.base))
        .bearer_auth(&okta.token)
        .header("content-type", "application/scim+json")
        .body(
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "test.user@okta.local"})
                .to_string(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(retry.status(), 409);

    // Profile updates come as a PUT of the whole user.
    okta.call(Method::GET, &user_path, None, 200).await;
    okta.call(
        Method::PUT,
        &user_path,
        Some(json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "id": id,
            "userName": "test.user@okta.local",
            "name": {"givenName": "Another", "familyName": "User"},
            "emails": [{"primary": true, "value": "test.user@okta.local", "type": "work"}],
            "displayName": "Another User",
            "locale": "en-US",
            "externalId": "00ujl29u0le5T6Aj10h7",
            "groups": [],
            "active": true
        })),
        200,
    )
    .await;

    // Group push: create, rename (with the id in the value), add and remove members.
    let group = okta
        .call(
            Method::POST,
            "/Groups",
            Some(json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Test SCIMv2", "members": []})),
            201,
        )
        .await;
    let group_id = group["id"].as_str().unwrap().to_owned();
    let group_path = format!("/Groups/{group_id}");
    okta.call(
        Method::PATCH,
        &group_path,
        patch(json!([{"op": "replace", "value": {"id": group_id, "displayName": "Test SCIMv2 Renamed"}}])),
        200,
    )
    .await;
    okta.call(
        Method::PATCH,
        &group_path,
        patch(json!([{"op": "add", "path": "members", "value": [{"value": id, "display": "test.user@okta.local"}]}])),
        204,
    )
    .await;
    let with_member = okta.call(Method::GET, &group_path, None, 200).await;
    assert_eq!(with_member["members"].as_array().unwrap().len(), 1);
    assert_eq!(with_member["members"][0]["value"], id.as_str());
    assert_eq!(with_member["members"][0]["type"], "User");
    assert!(with_member["members"][0]["$ref"].as_str().unwrap().ends_with(&format!("/Users/{id}")));
    okta.call(
        Method::PATCH,
        &group_path,
        patch(json!([{"op": "remove", "path": format!("members[value eq \"{id}\"]")}])),
        204,
    )
    .await;

    // Deactivation is a PATCH of active, not a DELETE.
    okta.call(Method::PATCH, &user_path, patch(json!([{"op": "replace", "value": {"active": false}}])), 200).await;

    let user = okta.call(Method::GET, &user_path, None, 200).await;
    assert_eq!(user["userName"], "test.user@okta.local");
    assert_eq!(user["name"], json!({"givenName": "Another", "familyName": "User"}));
    assert_eq!(user["displayName"], "Another User");
    assert_eq!(user["emails"], json!([{"primary": true, "value": "test.user@okta.local", "type": "work"}]));
    assert_eq!(user["locale"], "en-US");
    assert_eq!(user["externalId"], "00ujl29u0le5T6Aj10h7");
    assert_eq!(user["active"], false);
    assert!(user.get("password").is_none() && user.get("groups").is_none());
    let group = okta.call(Method::GET, &group_path, None, 200).await;
    assert_eq!(group["displayName"], "Test SCIMv2 Renamed");
    assert!(group.get("members").is_none());
    okta.call(Method::DELETE, &group_path, None, 204).await;
}

async fn entra_provisions_updates_and_deprovisions(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let entra = Idp::new(&db, &server, IdentityProvider::Entra).await;
    let user_name = "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1";

    // Entra queries by userName, then creates.
    let query = format!("/Users?filter=userName+eq+%22{user_name}%22");
    assert_eq!(entra.call(Method::GET, &query, None, 200).await["totalResults"], 0);
    let created = entra
        .call(
            Method::POST,
            "/Users",
            Some(json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE],
                "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
                "userName": user_name,
                "active": true,
                "emails": [{"primary": true, "type": "work", "value": "Test_User_fd0ea19b-0777-472c-9f96-4f70d2226f2e@testuser.com"}],
                "meta": {"resourceType": "User"},
                "name": {"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"},
                "roles": []
            })),
            201,
        )
        .await;
    let id = created["id"].as_str().unwrap().to_owned();
    let user_path = format!("/Users/{id}");
    assert_eq!(entra.call(Method::GET, &query, None, 200).await["totalResults"], 1);
    let manager = entra
        .call(
            Method::POST,
            "/Users",
            Some(
                json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "manager@testuser.com"}),
            ),
            201,
        )
        .await;
    let manager_id = manager["id"].as_str().unwrap().to_owned();

    // Attribute updates: filtered paths, a sub-attribute, the manager as an id string.
    entra
        .call(
            Method::PATCH,
            &user_path,
            patch(json!([
                {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "updatedEmail@microsoft.com"},
                {"op": "Replace", "path": "name.familyName", "value": "updatedFamilyName"},
                {"op": "Add", "path": "addresses[type eq \"work\"].locality", "value": "Redmond"},
                {"op": "Add", "path": "phoneNumbers[type eq \"mobile\"].value", "value": "+1 425 555 0100"},
                {"op": "Add", "path": format!("{ENTERPRISE}:manager"), "value": manager_id},
                {"op": "Replace", "value": {"displayName": "Updated Name", format!("{ENTERPRISE}:department"): "Sales", "title": "Engineer"}}
            ])),
            200,
        )
        .await;

    // Groups: created without members, members added and removed by value list.
    let group = entra
        .call(
            Method::POST,
            "/Groups",
            Some(json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159", "displayName": "displayName",
                "meta": {"resourceType": "Group"}})),
            201,
        )
        .await;
    let group_id = group["id"].as_str().unwrap().to_owned();
    let group_path = format!("/Groups/{group_id}");
    let probe = format!("/Groups?excludedAttributes=members&filter=id%20eq%20%22{group_id}%22");
    assert_eq!(entra.call(Method::GET, &probe, None, 200).await["totalResults"], 1);
    entra
        .call(Method::PATCH, &group_path, patch(json!([{"op": "Add", "path": "members", "value": [{"$ref": null, "value": id}, {"$ref": null, "value": manager_id}]}])), 204)
        .await;
    entra
        .call(
            Method::PATCH,
            &group_path,
            patch(json!([{"op": "Remove", "path": "members", "value": [{"$ref": null, "value": manager_id}]}])),
            204,
        )
        .await;
    let by_name = entra
        .call(Method::GET, "/Groups?filter=displayName%20eq%20%22displayName%22&excludedAttributes=members", None, 200)
        .await;
    assert_eq!(by_name["totalResults"], 1);
    assert!(by_name["Resources"][0].get("members").is_none());

    // Disabling sends the boolean as a string.
    entra
        .call(Method::PATCH, &user_path, patch(json!([{"op": "Replace", "path": "active", "value": "False"}])), 200)
        .await;

    let user = entra.call(Method::GET, &user_path, None, 200).await;
    assert_eq!(user["userName"], user_name);
    assert_eq!(user["externalId"], "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef");
    assert_eq!(user["active"], false);
    assert_eq!(user["displayName"], "Updated Name");
    assert_eq!(user["title"], "Engineer");
    assert_eq!(
        user["name"],
        json!({"formatted": "givenName familyName", "familyName": "updatedFamilyName", "givenName": "givenName"})
    );
    assert_eq!(user["emails"], json!([{"primary": true, "type": "work", "value": "updatedEmail@microsoft.com"}]));
    assert_eq!(user["addresses"], json!([{"type": "work", "locality": "Redmond"}]));
    assert_eq!(user["phoneNumbers"], json!([{"type": "mobile", "value": "+1 425 555 0100"}]));
    assert_eq!(user[ENTERPRISE]["manager"]["value"], manager_id.as_str());
    assert_eq!(user[ENTERPRISE]["department"], "Sales");
    assert_eq!(user["groups"][0]["value"], group_id.as_str());
    let group = entra.call(Method::GET, &group_path, None, 200).await;
    assert_eq!(group["members"].as_array().unwrap().len(), 1);
    assert_eq!(group["members"][0]["value"], id.as_str());

    // Deprovisioning deletes; the user leaves its group.
    entra.call(Method::DELETE, &user_path, None, 204).await;
    entra.call(Method::GET, &user_path, None, 404).await;
    let group = entra.call(Method::GET, &group_path, None, 200).await;
    assert!(group.get("members").is_none());
    entra.call(Method::DELETE, &group_path, None, 204).await;
    entra.call(Method::GET, &group_path, None, 404).await;
}
