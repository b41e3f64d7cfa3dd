//! People with a whole lifecycle: operators disable, enable and remove operator accounts
//! and tenant admins, admins remove other admins of their tenant, everyone changes their own
//! password; each of these ends that person's open sessions at once, and nobody locks
//! themselves (or the deployment's last operator) out.

use serde_json::{Value, json};
use service::people::{Change, PeopleError};
use store::testing::TestDatabase;

use crate::onboarding::{Visitor, admin_of, confirm_email_by_operator};
use crate::{OPERATOR_EMAIL, OPERATOR_PASSWORD, TestServer};

store::backend_tests!(
    disabling_or_removing_an_operator_signs_them_out_at_once,
    admins_are_disabled_and_removed_by_operators_and_each_other_and_signed_out,
    a_password_change_signs_out_every_other_session,
    setup_links_are_listed_with_their_maker_and_an_open_one_is_withdrawn,
);

async fn sign_in<'a>(server: &'a TestServer, email: &str, password: &str) -> (Visitor<'a>, u16) {
    let visitor = Visitor::new(server);
    let response = visitor.call("/api/sign_in", &[("email", email), ("password", password)]).await;
    let status = response.status().as_u16();
    (visitor, status)
}

async fn disabling_or_removing_an_operator_signs_them_out_at_once(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    server.sign_in().await;
    let added = server.json_call("/api/add_operator", &[("email", "sam@vendor.example"), ("role", "support")]).await;
    let password = added["password"].as_str().unwrap().to_owned();
    let (sam, status) = sign_in(&server, "sam@vendor.example", &password).await;
    assert!(status < 400, "{status}");
    let team = sam.json("/api/list_operators", &[]).await;
    let sam_id = team.as_array().unwrap().iter().find(|o| o["email"] == "sam@vendor.example").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // Support changes nobody.
    let refused = sam.call("/api/change_operator", &[("operator", &sam_id), ("change", "disable")]).await;
    assert_eq!(refused.status(), 403);

    // Disabled: the open session is over at its next request, and signing in is refused.
    server.json_call("/api/change_operator", &[("operator", &sam_id), ("change", "disable")]).await;
    assert_eq!(sam.call("/api/list_operators", &[]).await.status(), 401);
    assert_eq!(sign_in(&server, "sam@vendor.example", &password).await.1, 401);
    let team = server.json_call("/api/list_operators", &[]).await;
    let listed = team.as_array().unwrap().iter().find(|o| o["email"] == "sam@vendor.example").unwrap().clone();
    assert_eq!(listed["disabled"], true);

    // Enabled again: signing in works.
    server.json_call("/api/change_operator", &[("operator", &sam_id), ("change", "enable")]).await;
    let (sam, status) = sign_in(&server, "sam@vendor.example", &password).await;
    assert!(status < 400, "{status}");

    // Removed: signed out, gone from the list.
    server.json_call("/api/change_operator", &[("operator", &sam_id), ("change", "remove")]).await;
    assert_eq!(sam.call("/api/list_operators", &[]).await.status(), 401);
    let team = server.json_call("/api/list_operators", &[]).await;
    assert_eq!(team.as_array().unwrap().len(), 1);
    let me = team[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(team[0]["is_you"], true);

    // Nobody disables themselves, and the last enabled operator stays.
    let own = server.call("/api/change_operator", &[("operator", &me), ("change", "disable")]).await;
    assert_eq!(own.status(), 409);
    assert!(own.text().await.unwrap().contains("your own account"));
    let other = store::testing::FreshId::fresh();
    let me = me.parse().unwrap();
    #[allow(clippy::disallowed_methods)] // the server's clock is the real one
    let now = chrono::Utc::now();
    let last = service::people::change_operator(&db.store, other, me, Change::Disable, now).await;
    assert!(matches!(last, Err(PeopleError::LastOperator)), "{last:?}");
    let (_, status) = sign_in(&server, OPERATOR_EMAIL, OPERATOR_PASSWORD).await;
    assert!(status < 400, "the last operator still signs in: {status}");
}

async fn admins_are_disabled_and_removed_by_operators_and_each_other_and_signed_out(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let first = admin_of(&server, "acme", "it@acme.example").await;
    // A colleague, invited by the first admin.
    let invitation: String = first.json("/api/invite_admin", &[("valid_days", "7")]).await.as_str().unwrap().to_owned();
    let secret = invitation.rsplit('/').next().unwrap();
    let second = Visitor::new(&server);
    let accepted = second.accept_setup_link(secret, "ops@acme.example", "another long password").await;
    assert!(accepted.status().is_redirection(), "{}", accepted.status());
    let admins = first.json("/api/tenant_admins", &[("tenant", "")]).await;
    let id_of = |admins: &Value, email: &str| {
        admins.as_array().unwrap().iter().find(|a| a["email"] == email).unwrap()["id"].as_str().unwrap().to_owned()
    };
    let (first_id, second_id) = (id_of(&admins, "it@acme.example"), id_of(&admins, "ops@acme.example"));
    assert_eq!(admins.as_array().unwrap().iter().filter(|a| a["is_you"] == true).count(), 1);
    // Only an operator vouches for an address: an admin vouching for a colleague could
    // claim anyone's for their tenant.
    let vouched = first
        .call("/api/change_tenant_admin", &[("tenant", ""), ("admin", &second_id), ("change", "confirm-email")])
        .await;
    assert_eq!(vouched.status(), 403);
    assert!(admins.as_array().unwrap().iter().all(|a| a["email_confirmed"] == false));
    confirm_email_by_operator(&server, "acme", "ops@acme.example").await;

    // An admin changes nobody's account of their own, and no admin of another tenant.
    let own =
        first.call("/api/change_tenant_admin", &[("tenant", ""), ("admin", &first_id), ("change", "remove")]).await;
    assert_eq!(own.status(), 409);
    let stranger = admin_of(&server, "globex", "it@globex.example").await;
    let foreign = stranger
        .call("/api/change_tenant_admin", &[("tenant", ""), ("admin", &second_id), ("change", "disable")])
        .await;
    assert_eq!(foreign.status(), 404);
    assert!(second.call("/api/admin_home", &[]).await.status().is_success());

    // The operator disables the colleague from the tenant page: signed out, sign-in refused.
    server
        .json_call("/api/change_tenant_admin", &[("tenant", "acme"), ("admin", &second_id), ("change", "disable")])
        .await;
    assert_eq!(second.call("/api/admin_home", &[]).await.status(), 401);
    assert_eq!(sign_in(&server, "ops@acme.example", "another long password").await.1, 401);
    let listed = server.json_call("/api/tenant_admins", &[("tenant", "acme")]).await;
    assert_eq!(listed.as_array().unwrap().iter().find(|a| a["email"] == "ops@acme.example").unwrap()["disabled"], true);
    server
        .json_call("/api/change_tenant_admin", &[("tenant", "acme"), ("admin", &second_id), ("change", "enable")])
        .await;
    let (second, status) = sign_in(&server, "ops@acme.example", "another long password").await;
    assert!(status < 400, "{status}");

    // The first admin removes the colleague: signed out, gone.
    first.json("/api/change_tenant_admin", &[("tenant", ""), ("admin", &second_id), ("change", "remove")]).await;
    assert_eq!(second.call("/api/admin_home", &[]).await.status(), 401);
    assert_eq!(sign_in(&server, "ops@acme.example", "another long password").await.1, 401);
    let left = first.json("/api/tenant_admins", &[("tenant", "")]).await;
    assert_eq!(left.as_array().unwrap().len(), 1);

    let tenant = service::tenants::find(&db.store, &"acme".parse().unwrap()).await.unwrap().unwrap();
    let trail: Vec<String> =
        db.store.tenant(tenant.id).audit_records(0, 1000).await.unwrap().into_iter().map(|r| r.action).collect();
    for action in ["admin.disabled", "admin.enabled", "admin.removed"] {
        assert!(trail.iter().any(|a| a == action), "{action}: {trail:?}");
    }
}

async fn a_password_change_signs_out_every_other_session(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let admin = admin_of(&server, "acme", "it@acme.example").await;
    confirm_email_by_operator(&server, "acme", "it@acme.example").await;
    let (elsewhere, status) = sign_in(&server, "it@acme.example", "correct horse battery").await;
    assert!(status < 400, "{status}");

    // Wrong current password, a short one, a mismatch: refused in words, nothing changes.
    for (current, new, confirm, words) in [
        ("not my password", "a brand new password", "a brand new password", "current password is not right"),
        ("correct horse battery", "short", "short", "at least 12 characters"),
        ("correct horse battery", "a brand new password", "a different one!!", "confirmation differ"),
    ] {
        let refused =
            admin.call("/api/change_password", &[("current", current), ("new", new), ("confirm", confirm)]).await;
        assert_eq!(refused.status(), 422);
        assert!(refused.text().await.unwrap().contains(words), "{words}");
    }
    assert!(elsewhere.call("/api/admin_home", &[]).await.status().is_success());

    let changed = admin
        .json(
            "/api/change_password",
            &[
                ("current", "correct horse battery"),
                ("new", "a brand new password"),
                ("confirm", "a brand new password"),
            ],
        )
        .await;
    assert_eq!(changed, json!(1), "the other session was signed out");
    assert_eq!(elsewhere.call("/api/admin_home", &[]).await.status(), 401);
    assert!(admin.call("/api/admin_home", &[]).await.status().is_success(), "this session goes on");
    assert_eq!(sign_in(&server, "it@acme.example", "correct horse battery").await.1, 401);
    assert!(sign_in(&server, "it@acme.example", "a brand new password").await.1 < 400);

    // The operator too.
    server.sign_in().await;
    let changed = server
        .json_call(
            "/api/change_password",
            &[
                ("current", OPERATOR_PASSWORD),
                ("new", "the operator's new password"),
                ("confirm", "the operator's new password"),
            ],
        )
        .await;
    assert_eq!(changed, json!(0));
    assert!(server.call("/api/list_operators", &[]).await.status().is_success());
    assert_eq!(sign_in(&server, OPERATOR_EMAIL, OPERATOR_PASSWORD).await.1, 401);
    let tenant = service::tenants::find(&db.store, &"acme".parse().unwrap()).await.unwrap().unwrap();
    let trail = db.store.tenant(tenant.id).audit_records(0, 1000).await.unwrap();
    assert!(trail.iter().any(|r| r.action == "admin.password_changed"));
}

async fn setup_links_are_listed_with_their_maker_and_an_open_one_is_withdrawn(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let admin = admin_of(&server, "acme", "it@acme.example").await;
    let from_operator: String = server
        .json_call("/api/create_setup_link", &[("slug", "acme"), ("valid_days", "7")])
        .await
        .as_str()
        .unwrap()
        .to_owned();
    let from_admin: String = admin.json("/api/invite_admin", &[("valid_days", "7")]).await.as_str().unwrap().to_owned();
    let secret_of = |url: &str| url.rsplit('/').next().unwrap().to_owned();

    let listed = server.json_call("/api/list_setup_links", &[("tenant", "acme")]).await;
    let rows = listed.as_array().unwrap();
    assert_eq!(rows.len(), 3, "{listed}");
    let states: Vec<&str> = rows.iter().map(|r| r["state"].as_str().unwrap()).collect();
    assert_eq!(states, ["open", "open", "used"], "newest first");
    assert_eq!(rows[0]["made_by"], "it@acme.example");
    assert_eq!(rows[1]["made_by"], OPERATOR_EMAIL);
    let operator_link = rows[1]["id"].as_str().unwrap().to_owned();
    let used_link = rows[2]["id"].as_str().unwrap().to_owned();

    // The tenant's admin withdraws the operator's link: it opens nothing any more.
    admin.json("/api/revoke_setup_link", &[("tenant", ""), ("link", &operator_link)]).await;
    let visitor = Visitor::new(&server);
    let refused = visitor
        .call(
            "/api/accept_setup_link",
            &[
                ("secret", &secret_of(&from_operator)),
                ("email", "late@acme.example"),
                ("password", "a long enough password"),
                ("password_again", "a long enough password"),
            ],
        )
        .await;
    assert_eq!(refused.status(), 410);
    assert!(refused.text().await.unwrap().contains("withdrawn"));
    for (link, words) in [(&operator_link, "withdrawn"), (&used_link, "used already")] {
        let again = admin.call("/api/revoke_setup_link", &[("tenant", ""), ("link", link)]).await;
        assert_eq!(again.status(), 410);
        assert!(again.text().await.unwrap().contains(words), "{words}");
    }
    // Another tenant's admin reaches none of acme's links.
    let stranger = admin_of(&server, "globex", "it@globex.example").await;
    let admin_link =
        server.json_call("/api/list_setup_links", &[("tenant", "acme")]).await[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(stranger.call("/api/revoke_setup_link", &[("tenant", ""), ("link", &admin_link)]).await.status(), 404);

    // The operator API lists and withdraws them too.
    let key = crate::operator_api::api_key(&db).await;
    let http = reqwest::Client::new();
    let listed: Value = http
        .get(server.url("/api/v1/tenants/acme/setup-links"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed[1]["state"], "revoked");
    let delete = |id: String| {
        http.delete(server.url(&format!("/api/v1/tenants/acme/setup-links/{id}"))).bearer_auth(&key).send()
    };
    assert_eq!(delete(admin_link.clone()).await.unwrap().status(), 204);
    assert_eq!(delete(admin_link.clone()).await.unwrap().status(), 409);
    assert_eq!(delete("nonsense".to_owned()).await.unwrap().status(), 404);
    let opened = Visitor::new(&server)
        .call(
            "/api/accept_setup_link",
            &[
                ("secret", &secret_of(&from_admin)),
                ("email", "late@acme.example"),
                ("password", "a long enough password"),
                ("password_again", "a long enough password"),
            ],
        )
        .await;
    assert_eq!(opened.status(), 410);

    let tenant = service::tenants::find(&db.store, &"acme".parse().unwrap()).await.unwrap().unwrap();
    let trail = db.store.tenant(tenant.id).audit_records(0, 1000).await.unwrap();
    assert_eq!(trail.iter().filter(|r| r.action == "setup_link.revoked").count(), 2);
}
