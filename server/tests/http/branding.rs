//! The operator's branding: set in the console, it is on every page (name, title, logo,
//! accent colour, support contact) and in every email (sender name, signature, read back
//! from a real SMTP server). An accent without AA contrast, a logo that is not a picture
//! or too large, and changes by support staff or signed-out visitors are refused and
//! change nothing.

use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use store::testing::TestDatabase;

use crate::TestServer;
use crate::alerts::SmtpSink;
use crate::onboarding::Visitor;
use crate::webhook_pages::support_visitor;

store::backend_tests!(
    the_operator_brands_every_page_and_email,
    a_logo_is_checked_and_served_at_its_digest,
    support_staff_and_strangers_cannot_change_the_branding,
);

const LOGO: &[u8] = include_bytes!("../fixtures/logo.png");
/// A real PNG of 8×8 pixels: too small to be sharp.
const TINY_LOGO: &[u8] = include_bytes!("../fixtures/logo-8px.png");

fn branding(name: &str, accent: &str) -> Vec<(&'static str, String)> {
    vec![
        ("product_name", name.to_owned()),
        ("accent", accent.to_owned()),
        ("support_email", "help@vendor.example".to_owned()),
        ("support_url", "https://help.vendor.example/scim".to_owned()),
    ]
}

/// The fields as a form posts them.
fn as_form<'a>(fields: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    fields.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

async fn save(server: &TestServer, form: &[(&'static str, String)]) -> reqwest::Response {
    server.call("/api/save_branding", &as_form(form)).await
}

/// Posts `file` as the Branding page's upload form does (multipart, field `logo`), and
/// returns where the server sends the browser next.
async fn upload(client: &reqwest::Client, server: &TestServer, file_name: &str, bytes: &[u8]) -> String {
    let boundary = "----branding-test-boundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"logo\"; filename=\"{file_name}\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let response = client
        .post(server.url("/branding/logo"))
        .header("content-type", format!("multipart/form-data; boundary={boundary}"))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303, "{:?}", response.text().await);
    response.headers()["location"].to_str().unwrap().to_owned()
}

async fn page(visitor: &Visitor<'_>, path: &str) -> String {
    let response = visitor.get(path).await;
    assert_eq!(response.status(), 200, "{path}");
    response.text().await.unwrap()
}

async fn the_operator_brands_every_page_and_email(db: TestDatabase) {
    let sink = SmtpSink::start();
    let server =
        TestServer::start_with(&db, &["--smtp-url", &sink.url(), "--mail-from", "Vendor <noreply@vendor.example>"])
            .await;
    let stranger = Visitor::new(&server);
    let before = page(&stranger, "/sign-in").await;
    assert!(before.contains("<title>SCIM Portal</title>"), "{before}");
    assert!(before.contains("--color-accent:#4f46e5"), "{before}");
    assert!(!before.contains("support-contact"), "no contact is set: {before}");

    server.sign_in().await;
    // A pale accent would make links and buttons unreadable: refused, with a shade that passes.
    let pale = save(&server, &branding("Acme Identity", "#FFCC00")).await;
    assert_eq!(pale.status(), 422);
    let message = pale.text().await.unwrap();
    assert!(message.contains("#ffcc00 has a contrast of 1."), "{message}");
    assert!(message.contains("WCAG AA"), "{message}");
    assert!(message.contains("nearest darker shade that passes"), "{message}");
    assert!(db.store.branding().await.unwrap().is_none(), "nothing is saved");
    let bad_url = save(
        &server,
        &[
            ("product_name", "Acme".to_owned()),
            ("accent", "#0f766e".to_owned()),
            ("support_url", "javascript:alert(1)".to_owned()),
            ("support_email", String::new()),
        ],
    )
    .await;
    assert_eq!(bad_url.status(), 422);

    let saved = save(&server, &branding("  Acme Identity ", "#0F766E")).await;
    assert_eq!(saved.status(), 200, "{:?}", saved.text().await);
    let settings = server.json_call("/api/branding_settings", &[]).await;
    assert_eq!(settings["product_name"], "Acme Identity");
    assert_eq!(settings["accent"], "#0f766e");
    assert!(settings["last_change"].as_str().unwrap().ends_with("by ops@vendor.example"), "{settings}");

    // Every page a stranger or an admin sees: the sign-in page, a setup link's page, a
    // page that is not there.
    for path in ["/sign-in", "/setup/setup_not_a_link", "/no/such/page"] {
        let html = stranger.get(path).await.text().await.unwrap();
        assert!(html.contains("<title>Acme Identity</title>"), "{path}: {html}");
        assert!(html.contains("--color-accent:#0f766e;--color-accent-strong:#0c5e58"), "{path}: {html}");
        assert!(html.contains("mailto:help@vendor.example"), "{path}: {html}");
        assert!(html.contains("https://help.vendor.example/scim"), "{path}: {html}");
        assert!(!html.contains("SCIM Portal"), "{path}: {html}");
    }
    // The console's own bar.
    let console = server.get("/").await.text().await.unwrap();
    assert!(console.contains("Acme Identity"), "{console}");

    // Every email: the setup link sent from the console, and the confirmation its admin gets.
    server.json_call("/api/create_tenant", &[("slug", "acme"), ("display_name", "Acme")]).await;
    server
        .json_call("/api/email_setup_link", &[("slug", "acme"), ("valid_days", "7"), ("email", "it@acme.example")])
        .await;
    let messages = sink.expect(1);
    let message = &messages[0];
    assert_eq!(message["header_from"], "Acme Identity <noreply@vendor.example>", "{message}");
    assert_eq!(message["from"], "noreply@vendor.example");
    // Lines end in CRLF on the wire.
    let body = message["body"].as_str().unwrap().replace("\r\n", "\n");
    assert!(body.contains("invited you to Acme Identity to connect Acme's identity provider"), "{body}");
    assert!(
        body.contains("-- \nAcme Identity\nQuestions? help@vendor.example or https://help.vendor.example/scim"),
        "{body}"
    );
    let link = body.split_whitespace().find(|word| word.contains("/setup/setup_")).unwrap();
    let admin = Visitor::new(&server);
    let secret = link.rsplit('/').next().unwrap();
    let setup_page = page(&admin, &format!("/setup/{secret}")).await;
    assert!(setup_page.contains("Acme Identity"), "{setup_page}");
    admin.accept_setup_link(secret, "it@acme.example", "correct horse battery").await;
    let messages = sink.expect(2);
    let confirmation = messages.iter().find(|m| m["subject"] == "Confirm your email for Acme").unwrap();
    let body = confirmation["body"].as_str().unwrap();
    assert!(body.contains("admin of Acme in Acme Identity"), "{body}");
    assert!(body.contains("Questions? help@vendor.example"), "{body}");
    assert_eq!(confirmation["header_from"], "Acme Identity <noreply@vendor.example>");
}

async fn a_logo_is_checked_and_served_at_its_digest(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    server.sign_in().await;
    let no_logo = server.json_call("/api/branding_settings", &[]).await;
    assert_eq!(no_logo["logo_path"], Value::Null);

    assert_eq!(upload(&server.client, &server, "logo.png", LOGO).await, "/branding?logo=saved");
    let digest: String = Sha256::digest(LOGO).iter().map(|byte| format!("{byte:02x}")).collect();
    let path = format!("/branding/logo/{digest}.png");
    let settings = server.json_call("/api/branding_settings", &[]).await;
    assert_eq!(settings["logo_path"], json!(path));
    assert_eq!(settings["product_name"], "SCIM Portal", "the defaults stay until they are changed");

    // Served to anyone, for good: a new logo gets a new address.
    let stranger = Visitor::new(&server);
    let served = stranger.get(&path).await;
    assert_eq!(served.status(), 200);
    assert_eq!(served.headers()["content-type"], "image/png");
    assert_eq!(served.headers()["cache-control"], "public, max-age=31536000, immutable");
    assert_eq!(served.bytes().await.unwrap().as_ref(), LOGO);
    let sign_in = page(&stranger, "/sign-in").await;
    assert!(sign_in.contains(&format!(r#"<img src="{path}""#)), "{sign_in}");

    // Refused, with the reason, and the logo stays: a script dressed as a picture, a
    // picture too large, one too small to be sharp.
    let svg = b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>";
    assert_eq!(upload(&server.client, &server, "logo.png", svg).await, "/branding?logo-error=not-a-picture");
    let mut large = LOGO.to_vec();
    large.resize(300 * 1024, 0);
    assert_eq!(upload(&server.client, &server, "big.png", &large).await, "/branding?logo-error=too-large");
    assert_eq!(upload(&server.client, &server, "tiny.png", TINY_LOGO).await, "/branding?logo-error=dimensions");
    assert_eq!(upload(&server.client, &server, "empty.png", b"").await, "/branding?logo-error=missing");
    let settings = server.json_call("/api/branding_settings", &[]).await;
    assert_eq!(settings["logo_path"], json!(path));
    let refusal = server.get("/branding?logo-error=too-large").await.text().await.unwrap();
    assert!(refusal.contains("larger than 256 KiB"), "{refusal}");

    // Another name for the same digest, an old digest, and garbage are not found.
    for other in [
        format!("/branding/logo/{digest}.jpg"),
        format!("/branding/logo/{}.png", "0".repeat(64)),
        "/branding/logo/..%2f..%2fetc".to_owned(),
    ] {
        assert_eq!(stranger.get(&other).await.status(), 404, "{other}");
    }

    // Removed: pages show the name alone, and the old address is gone.
    server.json_call("/api/remove_logo", &[]).await;
    assert_eq!(stranger.get(&path).await.status(), 404);
    assert!(!page(&stranger, "/sign-in").await.contains("/branding/logo/"));
}

async fn support_staff_and_strangers_cannot_change_the_branding(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    // Signed out: the upload sends the visitor to sign in, the function says 401.
    let stranger = Visitor::new(&server);
    assert_eq!(upload(stranger.client(), &server, "logo.png", LOGO).await, "/sign-in");
    let signed_out = save(&server, &branding("Mallory", "#0f766e")).await;
    assert_eq!(signed_out.status(), 401);

    let support = support_visitor(&db, &server).await;
    // Support staff see the page and the settings, and change nothing.
    assert_eq!(support.json("/api/branding_settings", &[]).await["product_name"], "SCIM Portal");
    let mallory = branding("Mallory", "#0f766e");
    assert_eq!(support.call("/api/save_branding", &as_form(&mallory)).await.status(), 403);
    assert_eq!(upload(support.client(), &server, "logo.png", LOGO).await, "/branding?logo-error=forbidden");
    assert_eq!(support.call("/api/remove_logo", &[]).await.status(), 403);
    assert!(db.store.branding().await.unwrap().is_none());
}
