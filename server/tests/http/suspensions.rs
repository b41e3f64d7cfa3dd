//! Local suspension: the tenant admin suspends a user on its page while the identity
//! provider cannot be reached. The product (change records, the read API) sees the user
//! `suspended` whatever the identity provider writes until the admin lifts it; the SCIM
//! representation the identity provider reads is left as it wrote it.

use reqwest::StatusCode;
use serde_json::{Value, json};
use service::directory_sync::{self, ids};
use service::suspensions::{LIFTED, SUSPENDED};
use store::backend_tests;
use store::testing::TestDatabase;

use crate::TestServer;
use crate::onboarding::{Visitor, admin_of};
use crate::stale_users::acme;

backend_tests!(
    a_suspension_overrides_the_identity_provider_until_the_admin_lifts_it,
    a_suspension_needs_a_reason_a_user_of_the_directory_and_the_tenant_admin,
    re_deriving_a_suspended_user_keeps_it_suspended_and_publishes_nothing_spurious,
);

fn user(user_name: &str) -> Value {
    json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": user_name, "active": true})
}

async fn suspend(admin: &Visitor<'_>, directory: &str, id: &str, reason: &str) -> reqwest::Response {
    admin.call("/api/set_user_suspension", &[("directory", directory), ("id", id), ("reason", reason)]).await
}

async fn lift(admin: &Visitor<'_>, directory: &str, id: &str) -> reqwest::Response {
    admin.call("/api/set_user_suspension", &[("directory", directory), ("id", id), ("lift", "yes")]).await
}

/// The directory's change records after `seq`: (kind, state the product sees, previous
/// attributes, actor).
async fn changes_after(
    db: &TestDatabase,
    tenant: store::TenantId,
    directory: &str,
    seq: i64,
) -> Vec<(String, Value, Value, String)> {
    let data = db.store.tenant(tenant).directory_data(directory.parse().unwrap());
    data.changes_after(seq, 1000)
        .await
        .unwrap()
        .into_iter()
        .map(|change| {
            let view = change.view.unwrap_or(Value::Null);
            (change.kind, view["normalized"]["state"].clone(), view["previous_attributes"].clone(), change.actor)
        })
        .collect()
}

async fn last_seq(db: &TestDatabase, tenant: store::TenantId, directory: &str) -> i64 {
    let data = db.store.tenant(tenant).directory_data(directory.parse().unwrap());
    data.changes_after(0, 10_000).await.unwrap().last().map_or(0, |change| change.seq)
}

/// The user as the read API (WorkOS Directory Sync) answers it.
async fn read_api_user(db: &TestDatabase, directory: &str, id: &str) -> Value {
    let user_id = ids::user_id(directory.parse().unwrap(), id);
    serde_json::to_value(directory_sync::user(&db.store, &user_id, None).await.unwrap()).unwrap()
}

async fn a_suspension_overrides_the_identity_provider_until_the_admin_lifts_it(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let (admin, directory, tenant, idp) = acme(&db, &server).await;
    let ada = idp.create(&user("ada")).await;
    let before = idp.get(&format!("/Users/{ada}")).await;
    let seq = last_seq(&db, tenant, &directory).await;

    let suspended = suspend(&admin, &directory, &ada, "Laptop stolen; Okta is down").await;

    assert_eq!(suspended.status(), 200, "{}", suspended.text().await.unwrap());
    let changes = changes_after(&db, tenant, &directory, seq).await;
    assert_eq!(changes.len(), 1);
    let (kind, state, previous, actor) = &changes[0];
    assert_eq!(
        (kind.as_str(), state, previous),
        ("user.deactivated", &json!("suspended"), &json!({"state": "active"}))
    );
    assert!(actor.starts_with("admin:"), "{actor}");
    let read = read_api_user(&db, &directory, &ada).await;
    assert_eq!(
        (&read["state"], &read["suspension"]["reason"]),
        (&json!("suspended"), &json!("Laptop stolen; Okta is down"))
    );
    // The identity provider reads what it wrote, at the same version.
    assert_eq!(idp.get(&format!("/Users/{ada}")).await, before);
    let page =
        admin.json("/api/directory_resource", &[("directory", &directory), ("kind", "users"), ("id", &ada)]).await;
    assert_eq!(page["suspension"]["reason"], "Laptop stolen; Okta is down");
    assert_eq!(page["suspension"]["by"], "it@acme.example");
    assert!(page["normalized"].as_str().unwrap().contains("\"suspended\""), "{}", page["normalized"]);

    // The identity provider's later writes do not undo it: its reactivation or
    // deactivation is an update the product sees as still suspended.
    let seq = last_seq(&db, tenant, &directory).await;
    for operations in [
        json!([{"op": "replace", "path": "title", "value": "Analyst"}]),
        json!([{"op": "replace", "path": "active", "value": false}]),
        json!([{"op": "replace", "path": "active", "value": true}]),
    ] {
        let (status, patched) = idp.patch(&ada, operations).await;
        assert_eq!(status, StatusCode::OK, "{patched}");
    }
    let changes = changes_after(&db, tenant, &directory, seq).await;
    let seen: Vec<(&str, &Value)> = changes.iter().map(|(kind, state, _, _)| (kind.as_str(), state)).collect();
    let suspended_state = json!("suspended");
    assert_eq!(seen, [("user.updated", &suspended_state); 3]);
    assert_eq!(changes[0].2["job_title"], Value::Null);
    assert!(changes[0].2.get("job_title").is_some() && changes[0].2.get("state").is_none(), "{}", changes[0].2);
    assert_eq!(changes[1].2, json!({}), "the product's state did not change");
    assert_eq!(read_api_user(&db, &directory, &ada).await["state"], "suspended");
    let again = suspend(&admin, &directory, &ada, "twice").await;
    assert_eq!(again.status(), 422);
    assert!(again.text().await.unwrap().contains("already suspended"));

    // Lifted: the product sees the user as the identity provider left it, active.
    let seq = last_seq(&db, tenant, &directory).await;
    let lifted = lift(&admin, &directory, &ada).await;

    assert_eq!(lifted.status(), 200, "{}", lifted.text().await.unwrap());
    let changes = changes_after(&db, tenant, &directory, seq).await;
    let (kind, state, previous, _) = &changes[0];
    assert_eq!((kind.as_str(), state), ("user.reactivated", &json!("active")));
    assert_eq!(previous["state"], "suspended");
    assert_eq!(previous["suspension"]["reason"], "Laptop stolen; Okta is down");
    let read = read_api_user(&db, &directory, &ada).await;
    assert_eq!((&read["state"], read.get("suspension")), (&json!("active"), None));
    let again = lift(&admin, &directory, &ada).await;
    assert_eq!(again.status(), 422);
    assert!(again.text().await.unwrap().contains("not suspended"));
    // Both recorded in the tenant's trail, about ada, in an unbroken chain.
    let records = db.store.tenant(tenant).audit_records(0, 1000).await.unwrap();
    let ours: Vec<(&str, Option<&str>)> = records
        .iter()
        .filter(|record| record.action == SUSPENDED || record.action == LIFTED)
        .map(|record| (record.action.as_str(), record.resource_id.as_deref()))
        .collect();
    assert_eq!(ours, [(SUSPENDED, Some(ada.as_str())), (LIFTED, Some(ada.as_str()))]);
    assert_eq!(db.store.tenant(tenant).verify_audit_chain().await.unwrap().first_break, None);
}

async fn a_suspension_needs_a_reason_a_user_of_the_directory_and_the_tenant_admin(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let (admin, directory, tenant, idp) = acme(&db, &server).await;
    let ada = idp.create(&user("ada")).await;
    let seq = last_seq(&db, tenant, &directory).await;

    let blank = suspend(&admin, &directory, &ada, "   ").await;
    assert_eq!(blank.status(), 422);
    assert!(blank.text().await.unwrap().contains("Say why the user is suspended"));
    let long = suspend(&admin, &directory, &ada, &"x".repeat(501)).await;
    assert_eq!(long.status(), 422);
    assert_eq!(suspend(&admin, &directory, "nobody", "gone").await.status(), 404);
    let stranger = admin_of(&server, "globex", "it@globex.example").await;
    assert_eq!(suspend(&stranger, &directory, &ada, "not mine").await.status(), 404);
    let support = crate::webhook_pages::support_visitor(&db, &server).await;
    assert!(suspend(&support, &directory, &ada, "staff").await.status().is_client_error());

    assert_eq!(changes_after(&db, tenant, &directory, seq).await, vec![]);
    assert_eq!(read_api_user(&db, &directory, &ada).await["state"], "active");
}

/// A role for every user makes the re-derivation worker publish each user's new roles; a
/// suspended user's update keeps `suspended` (and does not list the state as changed), and
/// a second pass with nothing new publishes nothing for anyone.
async fn re_deriving_a_suspended_user_keeps_it_suspended_and_publishes_nothing_spurious(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let (admin, directory, tenant, idp) = acme(&db, &server).await;
    let ada = idp.create(&user("ada")).await;
    idp.create(&user("bob")).await;
    assert_eq!(suspend(&admin, &directory, &ada, "Okta is down").await.status(), 200);
    let now: chrono::DateTime<chrono::Utc> = "2026-12-01T09:00:00Z".parse().unwrap();
    let role = store::Role {
        slug: "member".into(),
        name: "Member".into(),
        description: String::new(),
        precedence: 1,
        is_default: true,
        created_at: now,
        updated_at: now,
    };
    let seq = last_seq(&db, tenant, &directory).await;
    db.store.save_role(&role, false, now).await.unwrap();
    republish(&db, &server).await;

    let changes = changes_after(&db, tenant, &directory, seq).await;
    let states: Vec<(&str, &Value)> = changes.iter().map(|(kind, state, _, _)| (kind.as_str(), state)).collect();
    let (suspended, active) = (json!("suspended"), json!("active"));
    let mut sorted = states.clone();
    sorted.sort_by_key(|(_, state)| state.to_string());
    assert_eq!(sorted, [("user.updated", &active), ("user.updated", &suspended)], "{changes:?}");
    for (_, _, previous, _) in &changes {
        assert!(previous.get("state").is_none(), "{previous}");
        assert!(previous.get("roles").is_some(), "{previous}");
    }
    assert_eq!(read_api_user(&db, &directory, &ada).await["state"], "suspended");

    let seq = last_seq(&db, tenant, &directory).await;
    db.store.save_role(&role, true, now).await.unwrap();
    republish(&db, &server).await;
    assert_eq!(changes_after(&db, tenant, &directory, seq).await, vec![]);
}

async fn republish(db: &TestDatabase, server: &TestServer) {
    let effects = service::Effects::system();
    while service::republish::republish_pending(&db.store, &server.url(""), &effects).await.unwrap() > 0 {}
}
