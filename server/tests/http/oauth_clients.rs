//! OAuth client credentials with a whole lifecycle: the admin lists a directory's clients,
//! rotates a secret with an overlap (both secrets work until it ends), ends the access
//! tokens a client fetched, and revokes a client, which revokes its access tokens at once;
//! the command line does the same; every change is in the tenant's trail.

use std::sync::Arc;

use serde_json::Value;
use service::clock::ManualClock;
use service::directories::TokenRequest;
use store::IdentityProvider;
use store::testing::TestDatabase;

use crate::TestServer;
use crate::onboarding::admin_of;

store::backend_tests!(
    an_oauth_client_is_rotated_with_an_overlap_and_revoked_with_its_access_tokens,
    the_command_line_lists_rotates_and_revokes_oauth_clients,
);

fn now() -> chrono::DateTime<chrono::Utc> {
    #[allow(clippy::disallowed_methods)] // the test's clock starts at the real time
    chrono::Utc::now()
}

/// Fetches an access token with the client's id and secret: `Ok(token)` or `Err(status)`.
pub(crate) async fn fetch_token(server: &TestServer, client_id: &str, secret: &str) -> Result<String, u16> {
    let response = reqwest::Client::new()
        .post(server.url("/oauth/token"))
        .basic_auth(client_id, Some(secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    if status != 200 {
        return Err(status);
    }
    Ok(response.json::<Value>().await.unwrap()["access_token"].as_str().unwrap().to_owned())
}

async fn scim_status(server: &TestServer, directory: store::DirectoryId, token: &str) -> u16 {
    let url = server.url(&format!("/scim/v2/{directory}/Users"));
    reqwest::Client::new().get(url).bearer_auth(token).send().await.unwrap().status().as_u16()
}

async fn an_oauth_client_is_rotated_with_an_overlap_and_revoked_with_its_access_tokens(db: TestDatabase) {
    let clock = Arc::new(ManualClock::starting_at(now()));
    let server = TestServer::start_with_clock(&db, &[], clock.clone()).await;
    let admin = admin_of(&server, "acme", "it@acme.example").await;
    let request = TokenRequest { label: "Okta prod".into(), read_only: false, expires_at: None };
    let (tenant, directory, _) = crate::provisioned(&db, "acme", IdentityProvider::Entra, request, now()).await;
    let client = service::directories::issue_oauth_client(
        &db.store,
        tenant.id,
        directory.id,
        "Entra provisioning".into(),
        &service::Actor::Cli,
        &service::Effects::new(clock.clone()),
    )
    .await
    .unwrap()
    .unwrap();
    let first = fetch_token(&server, &client.client_id, &client.secret).await.unwrap();
    assert_eq!(scim_status(&server, directory.id, &first).await, 200);
    let id = directory.id.to_string();

    // Listed with its last token request and live access tokens.
    let listed = admin.json("/api/list_oauth_clients", &[("directory", &id)]).await;
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(
        (listed[0]["client_id"].as_str(), listed[0]["status"].as_str(), listed[0]["live_tokens"].as_i64()),
        (Some(client.client_id.as_str()), Some("active"), Some(1))
    );
    assert_ne!(listed[0]["last_token"], "never");

    // Rotated with an hour's overlap: both secrets fetch tokens until it ends.
    let rotated = admin
        .json(
            "/api/rotate_oauth_client",
            &[("directory", &id), ("client_id", &client.client_id), ("overlap_minutes", "60")],
        )
        .await;
    let new_secret = rotated["secret"].as_str().unwrap().to_owned();
    assert!(rotated["old_secret_until"].is_string(), "{rotated}");
    assert!(fetch_token(&server, &client.client_id, &client.secret).await.is_ok(), "the old secret, in the overlap");
    let second = fetch_token(&server, &client.client_id, &new_secret).await.unwrap();

    // Ending its access tokens: every live one is refused at once; the secret still works.
    let ended =
        admin.json("/api/end_oauth_access_tokens", &[("directory", &id), ("client_id", &client.client_id)]).await;
    assert_eq!(ended, 3, "the first token, the old secret's and the new secret's");
    assert_eq!(scim_status(&server, directory.id, &first).await, 401);
    assert_eq!(scim_status(&server, directory.id, &second).await, 401);

    clock.advance(chrono::Duration::minutes(61));
    assert_eq!(fetch_token(&server, &client.client_id, &client.secret).await, Err(401), "the overlap ended");
    let third = fetch_token(&server, &client.client_id, &new_secret).await.unwrap();
    assert_eq!(scim_status(&server, directory.id, &third).await, 200);

    // Revoked: the client and its access token are refused at their next request.
    let revoked = admin.json("/api/revoke_oauth_client", &[("directory", &id), ("client_id", &client.client_id)]).await;
    assert_eq!(revoked, 1);
    assert_eq!(scim_status(&server, directory.id, &third).await, 401);
    assert_eq!(fetch_token(&server, &client.client_id, &new_secret).await, Err(401));
    let listed = admin.json("/api/list_oauth_clients", &[("directory", &id)]).await;
    assert_eq!((listed[0]["status"].as_str(), listed[0]["live_tokens"].as_i64()), (Some("revoked"), Some(0)));
    let again = admin
        .call(
            "/api/rotate_oauth_client",
            &[("directory", &id), ("client_id", &client.client_id), ("overlap_minutes", "0")],
        )
        .await;
    assert_eq!(again.status(), 409);
    assert!(again.text().await.unwrap().contains("revoked; issue a new one"));
    let unknown = admin.call("/api/revoke_oauth_client", &[("directory", &id), ("client_id", "scimc_nobody")]).await;
    assert_eq!(unknown.status(), 404);
    // Another tenant's admin reaches none of it.
    let other = admin_of(&server, "globex", "it@globex.example").await;
    assert_eq!(other.call("/api/list_oauth_clients", &[("directory", &id)]).await.status(), 404);
    let stolen = other.call("/api/revoke_oauth_client", &[("directory", &id), ("client_id", &client.client_id)]).await;
    assert_eq!(stolen.status(), 404);

    let trail: Vec<String> =
        db.store.tenant(tenant.id).audit_records(0, 1000).await.unwrap().into_iter().map(|r| r.action).collect();
    for action in ["oauth_client.rotated", "oauth_client.access_tokens_revoked", "oauth_client.revoked"] {
        assert_eq!(trail.iter().filter(|a| *a == action).count(), 1, "{action}: {trail:?}");
    }
}

async fn the_command_line_lists_rotates_and_revokes_oauth_clients(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let request = TokenRequest { label: "Okta prod".into(), read_only: false, expires_at: None };
    let (tenant, directory, _) = crate::provisioned(&db, "acme", IdentityProvider::Okta, request, now()).await;
    let client = service::directories::issue_oauth_client(
        &db.store,
        tenant.id,
        directory.id,
        "Okta".into(),
        &service::Actor::Cli,
        &service::Effects::system(),
    )
    .await
    .unwrap()
    .unwrap();
    let id = directory.id.to_string();
    let admin = |args: &[&str]| {
        let output = crate::server_binary()
            .arg("admin")
            .args(args)
            .args(["--tenant", "acme", "--directory", &id])
            .env("DATABASE_URL", db.url.as_str())
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let rotated: Value = serde_json::from_str(&admin(&[
        "rotate-oauth-client",
        "--client-id",
        &client.client_id,
        "--overlap-minutes",
        "0",
        "--json",
    ]))
    .unwrap();
    assert_eq!(rotated["old_secret_until"], Value::Null);
    let secret = rotated["client_secret"].as_str().unwrap();
    assert_eq!(fetch_token(&server, &client.client_id, &client.secret).await, Err(401), "no overlap");
    let token = fetch_token(&server, &client.client_id, secret).await.unwrap();

    let listed: Value = serde_json::from_str(&admin(&["list-oauth-clients", "--json"])).unwrap();
    assert_eq!((listed[0]["label"].as_str(), listed[0]["live_access_tokens"].as_i64()), (Some("Okta"), Some(1)));
    assert!(listed[0]["rotated_at"].is_string());

    let printed = admin(&["revoke-oauth-client", "--client-id", &client.client_id]);
    assert!(printed.contains("and 1 live access tokens"), "{printed}");
    assert_eq!(scim_status(&server, directory.id, &token).await, 401);
    assert!(admin(&["list-oauth-clients"]).contains("revoked"));
}
