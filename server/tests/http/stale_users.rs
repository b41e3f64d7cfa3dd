//! The stale-user report on the admin's dashboard: the active users the identity provider
//! has not written for a number of days while it kept writing others, and the audited
//! one-click deactivation of one of them.

use std::sync::Arc;

use reqwest::StatusCode;
use serde_json::{Value, json};
use service::clock::{Clock as _, ManualClock};
use service::stale_users::STALE_DEACTIVATED;
use store::testing::TestDatabase;
use store::{TenantSlug, backend_tests};

use crate::TestServer;
use crate::nonhuman::Scim;
use crate::onboarding::{Visitor, admin_of, start_directory};

backend_tests!(
    the_report_lists_the_users_the_identity_provider_stopped_writing_and_deactivates_one,
    a_silent_identity_provider_has_no_stale_users_and_strangers_see_nothing,
    support_staff_read_the_report_on_the_record_and_cannot_deactivate,
);

fn at(text: &str) -> chrono::DateTime<chrono::Utc> {
    text.parse().unwrap()
}

/// A user as the identity provider sends it.
fn user(user_name: &str, active: bool) -> Value {
    json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": user_name, "active": active})
}

async fn retitle(idp: &Scim, id: &str, title: &str) {
    let (status, patched) = idp.patch(id, json!([{"op": "replace", "path": "title", "value": title}])).await;
    assert_eq!(status, StatusCode::OK, "{patched}");
}

async fn is_active(idp: &Scim, id: &str) -> bool {
    idp.get(&format!("/Users/{id}")).await["active"].as_bool().unwrap()
}

/// A server on a clock the test moves.
pub(crate) async fn start(db: &TestDatabase) -> (Arc<ManualClock>, TestServer) {
    let clock = Arc::new(ManualClock::starting_at(at("2026-10-01T09:00:00Z")));
    let server = TestServer::start_with_clock(db, &[], clock.clone()).await;
    (clock, server)
}

/// acme's admin, its Okta directory's id, its tenant, and the identity provider's token.
pub(crate) async fn acme<'a>(
    db: &TestDatabase,
    server: &'a TestServer,
) -> (Visitor<'a>, String, store::TenantId, Scim) {
    let admin = admin_of(server, "acme", "it@acme.example").await;
    let directory = start_directory(&admin, "okta").await;
    let tenant = db.store.tenant_by_slug(&TenantSlug::parse("acme").unwrap()).await.unwrap().unwrap().id;
    let idp = Scim::for_directory(db, server, tenant, directory.parse().unwrap()).await;
    (admin, directory, tenant, idp)
}

fn user_names(report: &Value) -> Vec<&str> {
    report["users"].as_array().unwrap().iter().map(|user| user["user_name"].as_str().unwrap()).collect()
}

async fn the_report_lists_the_users_the_identity_provider_stopped_writing_and_deactivates_one(db: TestDatabase) {
    let (clock, server) = start(&db).await;
    let (admin, directory, tenant, idp) = acme(&db, &server).await;
    let ada = idp.create(&user("ada", true)).await;
    let bob = idp.create(&user("bob", true)).await;
    let carol = idp.create(&user("carol", true)).await;
    let dave = idp.create(&user("dave", false)).await;
    let nhi = "urn:ietf:params:scim:schemas:extension:nonhuman:2.0:User";
    let ci = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", nhi], "userName": "ci",
        nhi: {"kind": "serviceAccount", "owner": {"value": dave}}});
    idp.create(&ci).await;
    clock.advance(chrono::Duration::days(40));
    retitle(&idp, &bob, "Engineer").await;
    // The system's writes are not the identity provider's: the owner policy giving `ci`
    // (whose owner is deactivated) to bob leaves it on the report.
    let policy = [("directory", directory.as_str()), ("policy", "reassign"), ("fallback_user_name", "bob")];
    assert_eq!(admin.call("/api/set_owner_policy", &policy).await.status(), 200);
    let swept = service::nonhuman::apply_owner_policies(&db.store, &server.url(""), clock.now(), 100).await;
    assert_eq!(swept.unwrap().len(), 1);
    let report_of = |days: &'static str| {
        let form = [("directory", directory.clone()), ("days", days.to_owned())];
        let admin = &admin;
        async move {
            let form: Vec<(&str, &str)> = form.iter().map(|(name, value)| (*name, value.as_str())).collect();
            admin.json("/api/stale_users", &form).await
        }
    };

    let report = report_of("30").await;

    assert_eq!(user_names(&report), ["ada", "carol", "ci"], "{report}");
    assert_eq!((&report["total"], &report["silent"], &report["days"]), (&json!(3), &json!(false), &json!(30)));
    assert_eq!(report["last_write"], "2026-11-10 09:00 UTC");
    assert_eq!(report["users"][0]["touched"], "2026-10-01 09:00 UTC");
    assert_eq!(user_names(&report_of("41").await), Vec::<&str>::new());

    // Deactivating carol: the write a PATCH active=false makes, by the admin, audited.
    let carol_version = report["users"][1]["version"].to_string();
    let form = [("directory", directory.as_str()), ("id", &carol), ("version", &carol_version), ("days", "30")];
    let deactivated = admin.call("/api/deactivate_stale_user", &form).await;

    assert_eq!(deactivated.status(), 200, "{}", deactivated.text().await.unwrap());
    assert!(!is_active(&idp, &carol).await);
    assert!(is_active(&idp, &ada).await);
    let data = db.store.tenant(tenant).directory_data(directory.parse().unwrap());
    let changes = data.changes_after(0, 1000).await.unwrap();
    let last = changes.last().unwrap();
    assert_eq!((last.kind.as_str(), last.resource_id.as_str()), ("user.deactivated", carol.as_str()));
    assert!(last.actor.starts_with("admin:"), "{}", last.actor);
    let records = db.store.tenant(tenant).audit_records(0, 1000).await.unwrap();
    let stale: Vec<&store::AuditRecord> = records.iter().filter(|record| record.action == STALE_DEACTIVATED).collect();
    assert_eq!(stale.len(), 1);
    assert_eq!(stale[0].resource_id.as_deref(), Some(carol.as_str()));
    let detail: Value = serde_json::from_str(&stale[0].detail).unwrap();
    assert_eq!(
        detail,
        json!({"userName": "carol", "last_written_by_identity_provider": "2026-10-01T09:00:00.000Z", "days": 30})
    );
    assert_eq!(db.store.tenant(tenant).verify_audit_chain().await.unwrap().first_break, None);
    assert_eq!(user_names(&report_of("30").await), ["ada", "ci"]);

    // Written by the identity provider after the report: not deactivated.
    let ada_version = report["users"][0]["version"].to_string();
    retitle(&idp, &ada, "Analyst").await;
    let form = [("directory", directory.as_str()), ("id", &ada), ("version", &ada_version), ("days", "30")];
    let refused = admin.call("/api/deactivate_stale_user", &form).await;
    assert_eq!(refused.status(), 422);
    assert!(refused.text().await.unwrap().contains("not on the report any more"));
    assert!(is_active(&idp, &ada).await);
    // A user the report does not list (bob, written 0 days ago) is refused the same way.
    let form = [("directory", directory.as_str()), ("id", &bob), ("version", "2"), ("days", "30")];
    assert_eq!(admin.call("/api/deactivate_stale_user", &form).await.status(), 422);
    assert!(is_active(&idp, &bob).await);
    let records_after = db.store.tenant(tenant).audit_records(0, 1000).await.unwrap();
    assert_eq!(records_after.iter().filter(|record| record.action == STALE_DEACTIVATED).count(), 1);
}

async fn a_silent_identity_provider_has_no_stale_users_and_strangers_see_nothing(db: TestDatabase) {
    let (clock, server) = start(&db).await;
    let (admin, directory, _, idp) = acme(&db, &server).await;
    let ada = idp.create(&user("ada", true)).await;
    clock.advance(chrono::Duration::days(31));

    let report = admin.json("/api/stale_users", &[("directory", &directory), ("days", "30")]).await;

    assert_eq!((&report["silent"], &report["total"]), (&json!(true), &json!(0)), "{report}");
    assert_eq!(user_names(&report), Vec::<&str>::new());
    let form = [("directory", directory.as_str()), ("id", &ada), ("version", "1"), ("days", "30")];
    let refused = admin.call("/api/deactivate_stale_user", &form).await;
    assert_eq!(refused.status(), 422);
    assert!(refused.text().await.unwrap().contains("its connection is"));
    assert!(is_active(&idp, &ada).await);
    // Periods outside 1 to 3650 days are refused with the range.
    for days in ["0", "3651", "-5"] {
        let refused = admin.call("/api/stale_users", &[("directory", &directory), ("days", days)]).await;
        assert_eq!(refused.status(), 422, "{days}");
        assert!(refused.text().await.unwrap().contains("from 1 to 3650 days"), "{days}");
    }
    // Another tenant's admin reaches neither the report nor the deactivation.
    let stranger = admin_of(&server, "globex", "it@globex.example").await;
    let asked = stranger.call("/api/stale_users", &[("directory", &directory), ("days", "30")]).await;
    assert_eq!(asked.status(), 404);
    assert_eq!(stranger.call("/api/deactivate_stale_user", &form).await.status(), 404);
    assert!(is_active(&idp, &ada).await);
}

/// Vendor support reads a tenant's report from the console (recorded in the tenant's trail
/// as every staff read is), and cannot deactivate: that is the tenant admin's call.
async fn support_staff_read_the_report_on_the_record_and_cannot_deactivate(db: TestDatabase) {
    let (clock, server) = start(&db).await;
    let (_admin, directory, tenant, idp) = acme(&db, &server).await;
    let ada = idp.create(&user("ada", true)).await;
    let bob = idp.create(&user("bob", true)).await;
    clock.advance(chrono::Duration::days(40));
    retitle(&idp, &bob, "Engineer").await;
    let support = crate::webhook_pages::support_visitor(&db, &server).await;

    let report =
        support.json("/api/stale_users", &[("directory", &directory), ("days", "30"), ("tenant", "acme")]).await;

    assert_eq!(user_names(&report), ["ada"], "{report}");
    let records = db.store.tenant(tenant).audit_records(0, 1000).await.unwrap();
    let viewed = records.iter().rev().find(|record| record.action == "support.viewed_directory").unwrap();
    assert!(viewed.detail.contains("stale users"), "{}", viewed.detail);
    assert_eq!(viewed.directory.map(|id| id.to_string()), Some(directory.clone()), "named in its own field");
    let form = [("directory", directory.as_str()), ("id", &ada), ("version", "1"), ("days", "30")];
    let refused = support.call("/api/deactivate_stale_user", &form).await;
    assert!(refused.status().is_client_error(), "{}", refused.status());
    assert!(is_active(&idp, &ada).await);
    let elsewhere = [("directory", directory.as_str()), ("days", "30"), ("tenant", "globex")];
    assert_eq!(support.call("/api/stale_users", &elsewhere).await.status(), 404);
}
