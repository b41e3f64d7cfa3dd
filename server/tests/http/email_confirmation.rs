//! Setup-link email squatting (issue 19): an admin of one tenant who redeems their own
//! setup link with another company's address neither learns whether that company is a
//! customer nor blocks its onboarding; the address becomes a sign-in name only for the
//! person who reads its mail (a real SMTP server, aiosmtpd, receives the links).

use serde_json::Value;
use store::testing::TestDatabase;

use crate::TestServer;
use crate::alerts::SmtpSink;
use crate::onboarding::{Visitor, admin_of};

store::backend_tests!(
    an_address_claimed_in_another_tenant_neither_blocks_nor_reveals_its_owner,
    the_confirmation_link_is_sent_again_and_each_works_once,
    a_link_confirmed_without_the_bundle_lands_on_sign_in_saying_so,
);

const PASSWORD: &str = "correct horse battery";

/// The confirmation link in a message (`…/confirm-email/confirm_…`), as its secret.
fn link_secret(message: &Value) -> String {
    let body = message["body"].as_str().unwrap();
    let start =
        body.find("/confirm-email/").expect("the message carries a confirmation link") + "/confirm-email/".len();
    body[start..].split_whitespace().next().unwrap().to_owned()
}

async fn sign_in_status(server: &TestServer, email: &str, password: &str) -> u16 {
    Visitor::new(server).call("/api/sign_in", &[("email", email), ("password", password)]).await.status().as_u16()
}

async fn an_address_claimed_in_another_tenant_neither_blocks_nor_reveals_its_owner(db: TestDatabase) {
    let mail = SmtpSink::start();
    let server = TestServer::start_with(&db, &["--smtp-url", &mail.url()]).await;

    // The squatter redeems their own tenant's link as Globex's IT admin: accepted like any
    // other address (before, the second of the two accounts was refused with 409, which
    // told whoever came first that the other existed).
    let squatter = admin_of(&server, "initech", "it@globex.example").await;
    assert!(squatter.call("/api/admin_home", &[]).await.status().is_success());
    // Globex's real admin redeems Globex's link with the same address: accepted too.
    let owner = admin_of(&server, "globex", "it@globex.example").await;
    assert!(owner.call("/api/admin_home", &[]).await.status().is_success());
    // Neither address is a sign-in name yet.
    assert_eq!(sign_in_status(&server, "it@globex.example", PASSWORD).await, 401);
    let state = owner.json("/api/email_confirmation", &[]).await;
    assert_eq!(state["confirmed"], false);
    assert_eq!(state["mail_enabled"], true);

    // Each account's link went to the address, that is to the owner's inbox.
    let messages = mail.expect(2);
    assert!(messages.iter().all(|m| m["to"][0] == "it@globex.example"));
    assert!(messages[0]["subject"].as_str().unwrap().contains("initech Inc"), "{messages:#?}");
    assert!(messages[1]["subject"].as_str().unwrap().contains("globex Inc"), "{messages:#?}");
    let (squatters_link, owners_link) = (link_secret(&messages[0]), link_secret(&messages[1]));

    // Opening the link changes nothing (mail scanners open links); the click confirms.
    let visitor = Visitor::new(&server);
    let page = visitor.get(&format!("/confirm-email/{owners_link}")).await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("Confirm it@globex.example as your sign-in address for globex Inc"), "{html}");
    assert_eq!(sign_in_status(&server, "it@globex.example", PASSWORD).await, 401);
    let confirmed = visitor.json("/api/confirm_email", &[("secret", &owners_link)]).await;
    assert_eq!(confirmed, "it@globex.example");

    // The owner signs in, into Globex.
    let signed_in = Visitor::new(&server);
    let answer = signed_in.call("/api/sign_in", &[("email", "it@globex.example"), ("password", PASSWORD)]).await;
    assert!(answer.status().is_success(), "{}", answer.status());
    let account = signed_in.json("/api/current_account", &[]).await;
    assert_eq!(account["Admin"]["tenant_name"], "globex Inc", "{account}");

    // The other account's link (had the squatter got it) cannot take the address now.
    let taken = visitor.call("/api/confirm_email", &[("secret", &squatters_link)]).await;
    assert_eq!(taken.status(), 409);
    assert!(taken.text().await.unwrap().contains("already the sign-in name of another account"));
    // A link works once; a made-up one opens nothing.
    assert_eq!(visitor.call("/api/confirm_email", &[("secret", &owners_link)]).await.status(), 410);
    assert_eq!(visitor.call("/api/confirm_email", &[("secret", "confirm_madeup")]).await.status(), 404);
    assert_eq!(visitor.get("/confirm-email/confirm_madeup").await.status(), 404);

    // The squatter's session goes on in their own tenant; the address signs in to Globex.
    let listed = squatter.json("/api/tenant_admins", &[("tenant", "")]).await;
    assert_eq!(listed[0]["email_confirmed"], false, "{listed}");
    let trail = |slug: &'static str| {
        let db = &db;
        async move {
            let tenant = db.store.tenant_by_slug(&slug.parse().unwrap()).await.unwrap().unwrap();
            let records = db.store.tenant(tenant.id).audit_records(0, 100).await.unwrap();
            records.into_iter().map(|r| r.action).collect::<Vec<_>>()
        }
    };
    assert!(trail("globex").await.contains(&"admin.email_confirmed".to_owned()));
    assert!(!trail("initech").await.contains(&"admin.email_confirmed".to_owned()));
}

async fn the_confirmation_link_is_sent_again_and_each_works_once(db: TestDatabase) {
    let mail = SmtpSink::start();
    let server = TestServer::start_with(&db, &["--smtp-url", &mail.url()]).await;
    let admin = admin_of(&server, "acme", "it@acme.example").await;
    mail.expect(1);
    admin.json("/api/send_email_confirmation", &[]).await;
    let messages = mail.expect(2);
    let (first, second) = (link_secret(&messages[0]), link_secret(&messages[1]));
    assert_ne!(first, second);
    // The account page says it is not confirmed, with the button to send it again.
    let page = admin.get("/account").await.text().await.unwrap();
    assert!(page.contains("is not confirmed yet"), "{page}");
    assert!(page.contains("confirm-email-reminder"), "the top bar reminds the admin");

    let visitor = Visitor::new(&server);
    assert_eq!(visitor.json("/api/confirm_email", &[("secret", &first)]).await, "it@acme.example");
    // Confirmed: the earlier or later link has nothing left to do, and none is sent.
    assert_eq!(visitor.call("/api/confirm_email", &[("secret", &second)]).await.status(), 410);
    assert_eq!(admin.call("/api/send_email_confirmation", &[]).await.status(), 409);
    assert!(sign_in_status(&server, "it@acme.example", PASSWORD).await < 300);
    let page = admin.get("/account").await.text().await.unwrap();
    assert!(page.contains("is confirmed: you sign in with it"), "{page}");
    assert!(!page.contains("confirm-email-reminder"));
}

/// The confirmation page's form posted as a plain HTML form (no bundle): the browser is
/// sent on to the sign-in page, which says the address is confirmed (the page sends no
/// `Referer`, so server_fn alone would have answered with the portal's home page); a used
/// link's refusal goes back to the link's page with the reason.
async fn a_link_confirmed_without_the_bundle_lands_on_sign_in_saying_so(db: TestDatabase) {
    let mail = SmtpSink::start();
    let server = TestServer::start_with(&db, &["--smtp-url", &mail.url()]).await;
    let _admin = admin_of(&server, "acme", "it@acme.example").await;
    let link = link_secret(&mail.expect(1)[0]);

    let visitor = Visitor::new(&server);
    let plain = visitor.get("/sign-in").await.text().await.unwrap();
    assert!(!plain.contains("Your email is confirmed"), "{plain}");
    let confirmed = visitor.post_form("/api/confirm_email", &[("secret", &link)]).await;
    assert!(confirmed.status().is_redirection(), "{}", confirmed.status());
    assert_eq!(confirmed.headers()["location"], "/sign-in?email=confirmed");
    let page = visitor.get("/sign-in?email=confirmed").await.text().await.unwrap();
    assert!(page.contains("Your email is confirmed: sign in with it from now on."), "{page}");
    assert!(sign_in_status(&server, "it@acme.example", PASSWORD).await < 300);

    let again = visitor.post_form("/api/confirm_email", &[("secret", &link)]).await;
    assert!(again.status().is_redirection(), "{}", again.status());
    let location = again.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with(&format!("/confirm-email/{link}?")), "{location}");
}
