//! Admin Portal links (`POST /portal/generate_link`, WorkOS `adminPortal.generateLink`): the
//! vendor's product asks for a link, its customer's IT admin opens it once, within five
//! minutes, and lands signed in in the tenant's setup wizard with the way back to the
//! vendor. The unmodified SDK drives the same route in `end2end/`.

use reqwest::StatusCode;
use serde_json::{Value, json};
use store::testing::{FreshId as _, TestDatabase};

use crate::TestServer;
use crate::onboarding::Visitor;

store::backend_tests!(
    a_portal_link_signs_its_visitor_into_the_wizard_once_and_is_recorded,
    a_portal_link_lands_on_the_step_the_tenants_directory_reached,
    a_portal_link_expires_after_five_minutes,
    portal_link_requests_are_checked_and_refusals_record_nothing,
    an_unknown_portal_link_is_404,
);

const RETURN_URL: &str = "https://app.vendor.example/settings/scim";
const SUCCESS_URL: &str = "https://app.vendor.example/settings/scim?done=1";

fn now() -> chrono::DateTime<chrono::Utc> {
    #[allow(clippy::disallowed_methods)] // the server reads the real clock too
    chrono::Utc::now()
}

/// The vendor's product: an operator API key and the compatible API's address.
struct Vendor {
    base: String,
    key: String,
    key_id: store::ApiKeyId,
}

impl Vendor {
    async fn new(db: &TestDatabase, server: &TestServer) -> Self {
        let issued = service::api_keys::issue_api_key(
            &db.store,
            service::api_keys::ApiKeyRequest::full_access("product"),
            None,
            &service::Actor::Cli,
            &service::Effects::system(),
        )
        .await
        .unwrap();
        Self { base: format!("http://{}", server.address()), key: issued.secret, key_id: issued.id }
    }

    /// `POST /portal/generate_link` with this body and key; the answer must be JSON.
    async fn generate_with(&self, key: Option<&str>, body: &str) -> (StatusCode, Value) {
        let mut request = reqwest::Client::new()
            .post(format!("{}/portal/generate_link", self.base))
            .header("content-type", "application/json")
            .body(body.to_owned());
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let content_type = response.headers()["content-type"].to_str().unwrap().to_owned();
        assert!(content_type.starts_with("application/json"), "{content_type}");
        assert!(response.headers().contains_key("x-request-id"));
        (status, response.json().await.unwrap())
    }

    async fn generate(&self, body: Value) -> (StatusCode, Value) {
        self.generate_with(Some(&self.key), &body.to_string()).await
    }

    /// A link into `tenant`'s wizard, as the SDK asks for one.
    async fn link(&self, tenant: &store::Tenant) -> String {
        let (status, body) = self
            .generate(json!({
                "intent": "dsync",
                "organization": organization(tenant),
                "return_url": RETURN_URL,
                "success_url": SUCCESS_URL,
                "external_user_id": "user_42",
                "it_contact_emails": ["it@acme.example"],
            }))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let link = body["link"].as_str().unwrap().to_owned();
        assert!(link.starts_with(&format!("{}/portal-link/plink_", self.base)), "{link}");
        link
    }
}

fn organization(tenant: &store::Tenant) -> String {
    service::directory_sync::ids::organization_id(tenant.id)
}

async fn tenant(db: &TestDatabase, slug: &str) -> store::Tenant {
    service::tenants::create(&db.store, slug, "Acme Inc", &service::Actor::Cli, &service::Effects::system())
        .await
        .unwrap()
}

/// Opens `link` in `visitor`'s browser; returns where it was sent.
async fn open(visitor: &Visitor<'_>, link: &str) -> String {
    let path = link.split_once("/portal-link/").map(|(_, secret)| format!("/portal-link/{secret}")).unwrap();
    let response = visitor.get(&path).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "{path}");
    assert_eq!(response.headers()["referrer-policy"], "no-referrer");
    response.headers()["location"].to_str().unwrap().to_owned()
}

/// The refusal page a refused link goes to: its status and whether it says why.
async fn refusal_page(visitor: &Visitor<'_>, location: &str) -> (StatusCode, String) {
    let page = visitor.get(location).await;
    (page.status(), page.text().await.unwrap())
}

async fn trail(db: &TestDatabase, tenant: &store::Tenant) -> Vec<store::AuditRecord> {
    db.store.tenant(tenant.id).audit_records(0, 100).await.unwrap()
}

async fn a_portal_link_signs_its_visitor_into_the_wizard_once_and_is_recorded(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let acme = tenant(&db, "acme").await;
    let vendor = Vendor::new(&db, &server).await;
    let link = vendor.link(&acme).await;

    let admin = Visitor::new(&server);
    assert_eq!(open(&admin, &link).await, "/admin/connect", "a tenant without a directory starts at step 1");
    let home = admin.json("/api/admin_home", &[]).await;
    assert_eq!((home["tenant_name"].as_str(), home["email"].as_str()), (Some("Acme Inc"), Some("user_42")));
    // No account was made: the link is the identity, and there is no password to sign in with.
    assert_eq!(home["admins"], json!([]));
    let page = admin.get("/admin/connect").await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains(r#"id="return-to-vendor""#) && html.contains(RETURN_URL), "no way back to the vendor");
    assert!(html.contains("Back to app.vendor.example"));
    // What the visitor does is theirs, through the link.
    let started = admin.call("/api/start_setup", &[("idp", "okta")]).await;
    assert!(started.status().is_success() || started.status().is_redirection(), "{}", started.status());

    // Single use: the same link opens nothing for anyone, this browser included.
    for again in [Visitor::new(&server), admin] {
        let refused = open(&again, &link).await;
        assert_eq!(refused, "/portal-link-refused/used");
        let (status, html) = refusal_page(&again, &refused).await;
        assert_eq!(status, StatusCode::GONE);
        assert!(html.contains("used already"), "{html}");
    }

    let records = trail(&db, &acme).await;
    let actions: Vec<&str> = records.iter().map(|record| record.action.as_str()).collect();
    assert_eq!(actions, ["tenant.created", "portal_link.created", "portal_link.signed_in", "directory.created"]);
    let created: Value = serde_json::from_str(&records[1].detail).unwrap();
    assert_eq!(records[1].actor, format!("api-key:{}", vendor.key_id));
    let link_id = created["portal_link"].as_str().unwrap();
    assert_eq!(created["intent"], "dsync");
    assert_eq!(
        (created["return_url"].as_str(), created["success_url"].as_str()),
        (Some(RETURN_URL), Some(SUCCESS_URL))
    );
    assert_eq!(
        (created["external_user_id"].clone(), created["it_contact_emails"].clone()),
        (json!("user_42"), json!(["it@acme.example"]))
    );
    for record in &records[2..] {
        assert_eq!(record.actor, format!("portal-link:{link_id}"), "{}", record.action);
        let detail: Value = serde_json::from_str(&record.detail).unwrap();
        assert_eq!(detail["portal_link_user"], "user_42", "{}", record.action);
    }
    assert!(db.store.tenant(acme.id).tenant_admins().await.unwrap().is_empty());
}

async fn a_portal_link_lands_on_the_step_the_tenants_directory_reached(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    // A directory made outside the wizard has its provider chosen: its wizard is at step 2.
    let (acme, directory, _) = crate::provisioned(
        &db,
        "acme",
        store::IdentityProvider::Okta,
        service::directories::TokenRequest { label: "test".into(), read_only: false, expires_at: None },
        now(),
    )
    .await;
    let vendor = Vendor::new(&db, &server).await;
    // Only a success URL: the way back once setup is complete, and nothing to leave early to.
    let (status, body) = vendor
        .generate(json!({ "intent": "dsync", "organization": organization(&acme), "success_url": SUCCESS_URL }))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let admin = Visitor::new(&server);
    let landing = open(&admin, body["link"].as_str().unwrap()).await;
    assert_eq!(landing, format!("/admin/directories/{}/setup/endpoint", directory.id));
    let page = admin.get(&landing).await;
    assert_eq!(page.status(), StatusCode::OK);
    assert!(!page.text().await.unwrap().contains(r#"id="return-to-vendor""#), "a way back that was never given");
    // Neither an external user id nor contacts: the session says how the person came in.
    let home = admin.json("/api/admin_home", &[]).await;
    assert!(home["email"].as_str().unwrap().contains("signed in through"), "{home}");
}

async fn a_portal_link_expires_after_five_minutes(db: TestDatabase) {
    let clock = std::sync::Arc::new(service::clock::ManualClock::starting_at(now()));
    let server = TestServer::start_with_clock(&db, &[], clock.clone()).await;
    let acme = tenant(&db, "acme").await;
    let vendor = Vendor::new(&db, &server).await;
    let in_time = vendor.link(&acme).await;
    let too_late = vendor.link(&acme).await;

    clock.advance(chrono::Duration::minutes(5) - chrono::Duration::seconds(1));
    assert_eq!(open(&Visitor::new(&server), &in_time).await, "/admin/connect");
    clock.advance(chrono::Duration::seconds(1));
    let visitor = Visitor::new(&server);
    let refused = open(&visitor, &too_late).await;
    assert_eq!(refused, "/portal-link-refused/expired");
    let (status, html) = refusal_page(&visitor, &refused).await;
    assert_eq!(status, StatusCode::GONE);
    assert!(html.contains("expired"), "{html}");
    assert_eq!(visitor.call("/api/admin_home", &[]).await.status(), StatusCode::UNAUTHORIZED);
    let actions: Vec<String> = trail(&db, &acme).await.into_iter().map(|record| record.action).collect();
    assert_eq!(actions, ["tenant.created", "portal_link.created", "portal_link.created", "portal_link.signed_in"]);
}

async fn portal_link_requests_are_checked_and_refusals_record_nothing(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let acme = tenant(&db, "acme").await;
    let vendor = Vendor::new(&db, &server).await;
    let org = organization(&acme);
    let with = |changes: Value| {
        let mut body =
            json!({ "intent": "dsync", "organization": org, "return_url": RETURN_URL, "success_url": SUCCESS_URL });
        for (key, value) in changes.as_object().unwrap() {
            body[key] = value.clone();
        }
        body
    };

    for (body, field) in [
        (with(json!({ "intent": "sso" })), "intent"),
        (with(json!({ "intent": null })), "intent"),
        (with(json!({ "return_url": "/settings" })), "return_url"),
        (with(json!({ "return_url": "ftp://vendor.example/" })), "return_url"),
        (with(json!({ "success_url": "javascript:alert(1)" })), "success_url"),
        (with(json!({ "success_url": "https://user:secret@vendor.example/" })), "success_url"),
        (with(json!({ "it_contact_emails": ["not an email"] })), "it_contact_emails"),
        (with(json!({ "organization": null })), "organization"),
    ] {
        let (status, answer) = vendor.generate(body.clone()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {answer}");
        assert_eq!(answer["errors"][0]["field"], field, "{answer}");
        assert!(answer["message"].is_string() && answer["code"].is_string(), "{answer}");
    }
    let (_, sso) = vendor.generate(with(json!({ "intent": "sso" }))).await;
    let message = sso["message"].as_str().unwrap();
    assert!(
        message.contains("\"sso\"") && message.contains("dsync"),
        "names the intent it got and the one it takes: {message}"
    );
    let (status, answer) = vendor.generate_with(Some(&vendor.key), "{not json").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");

    let absent = service::directory_sync::ids::organization_id(store::TenantId::fresh());
    for unknown in [absent.as_str(), "org_nope", "acme"] {
        let (status, answer) = vendor.generate(with(json!({ "organization": unknown }))).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{unknown}: {answer}");
        assert_eq!(answer["code"], "entity_not_found");
        assert!(answer["message"].as_str().unwrap().contains(unknown), "{answer}");
    }

    let body = with(json!({})).to_string();
    for key in [None, Some("scimk_wrong"), Some("")] {
        let (status, answer) = vendor.generate_with(key, &body).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{key:?}");
        assert!(answer["message"].is_string(), "{answer}");
    }
    let actions: Vec<String> = trail(&db, &acme).await.into_iter().map(|record| record.action).collect();
    assert_eq!(actions, ["tenant.created"], "a refused request made a link");
}

async fn an_unknown_portal_link_is_404(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let visitor = Visitor::new(&server);
    for secret in ["plink_nope", "setup_abc", "x"] {
        let refused = open(&visitor, &format!("http://x/portal-link/{secret}")).await;
        assert_eq!(refused, "/portal-link-refused/unknown");
    }
    let (status, html) = refusal_page(&visitor, "/portal-link-refused/unknown").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(html.contains("This link cannot be used") && html.contains("not valid"), "{html}");
    assert_eq!(visitor.call("/api/admin_home", &[]).await.status(), StatusCode::UNAUTHORIZED);
}
