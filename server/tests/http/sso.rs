//! Single sign-on for tenant admins against a stand-in OpenID Connect provider on a random
//! port: discovery, the authorization redirect, the code exchange with PKCE (checked by
//! the provider) and ID tokens signed with a test RSA key (checked by the server).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use openidconnect::core::{
    CoreIdToken, CoreIdTokenClaims, CoreJsonWebKeySet, CoreJwsSigningAlgorithm, CoreRsaPrivateSigningKey,
};
use openidconnect::{
    Audience, EmptyAdditionalClaims, EndUserEmail, IssuerUrl, JsonWebKeyId, Nonce, PkceCodeChallenge, PkceCodeVerifier,
    PrivateSigningKey, StandardClaims, SubjectIdentifier,
};
use serde_json::{Value, json};
use store::testing::TestDatabase;

use crate::{TestServer, client};

store::backend_tests!(
    an_admin_made_with_single_sign_on_signs_in_again_with_it,
    single_sign_on_refuses_forged_state_bad_tokens_and_strangers,
    sso_settings_are_checked_and_need_the_operator_role,
    a_provider_at_an_internal_address_is_not_contacted_unless_the_operator_allows_it,
);

/// A throwaway 2048-bit RSA key for signing the stand-in provider's ID tokens.
const TEST_KEY: &str = "-----BEGIN RSA PRIVATE KEY-----
MIIEowIBAAKCAQEAsKvbGOLyPjPDVRcUC+mfuI5UdGQQ9/Y4wkEE8OT2pqWOwHGP
LhSwfJzwr5wo+cT3Hz1nfEcMeCNQINz4YKNhW3V4PzMeSSGB3YWdNg8BfmrrN8Uu
ln3MnoF/lj3wNfH0ckMLSrJdVZSVYF+z7ik4C/AlaVamyvXZjKDKKg1V0jRS7I8k
pJuR4/1PQaue7Ez0NuPjFefo2BmD9Q2jUN9jU2budPjvIrpROKVNMO++8Cd3hkab
aI/czXCvGe/gKPZpWHtAWH1j67S5G6o8fFgvUMlkqsraJXTUei1hB/1qxtsl+qBC
R9CqvmTYNxCpMulkj6JusqhjCpSmTMAejNccVQIDAQABAoIBABpCNNKmWpxxq6Dw
SO+7VdzDtNxGyjncrBN9P/uBAIME3OqQBliyRQgEeIaVZoa3JobLZN/1HG6Xyw9T
YIxWhEAofcqg8amrdAallxgDk3SDdjoIEfRWtszBUSIWyybtcyhvfBRqXdJ8PtZ/
6vmlQToPA7R8J1bHw0GyXVHyQPT4yBF8i66cS940IOYd4qojfuHX5QiVWCGEuqX9
uTl8iRskdX83KoPUCgsP1Z+F5k9Ydiwv2eAMMSD+CGy3H8fs3LPOfdYAnOWS8OhZ
hS3zynjAlM/0H7yodL+1zazkZFHtbCUhhY5msrJmPm/toipHg5s3eMJHfn+mDjAq
4IOn5xkCgYEA5CdudOR6lSB7i+tulIpd0M2QQz8AwkjHgY/6jjdcEeQW1n823xrT
sgHst4X60g/MoLotUds+aDRX9+u/PY6RwS2mZ2o6lCInZ2E5Mh1lDHRYZ6rcyKUK
XnYxtoUihoKGMbalbakPOS9p4289k2VBurkGOc5XQSzYY9vtpsRxCPkCgYEAxjve
0IGPY6e4lU4i5XhDMtsfyaP5D/LHeduCGi+nnDa1LK9QLfPLUalS9NYXJDSPSHJw
eVqX6uzJBQGQHzirOA2gtUECVvDXH9NU9vZ9Hy46PhdUHtGgcFI/XqvTbcM0inE7
XbSl29Z0N0z6JLNZYzAhA3GId4hzdTrpK5KXAT0CgYB6PvJ9KWrQ+p2YA+a1KkpI
NcyFa32RnANh1W5vwxPO9kKSXYleE3a4WzWlw+D3qsV+nSLpSCrxFJLJ4QQQDJLm
SfpuUMngU0h/qOVHh957xN8VdMRlsaCTqorKfB1aqxcSDgYncr0Ya+I1nYYFsux8
CuVeFcRExK2RG+cDQyA5qQKBgHa/AnfwRE6z95QonCrNYaOjM2V8fgOZsPhED6lU
BplDBEBiPCtqsM6YGYNkg7RCb9o8AzgOlpY5hSkkiIrLTXVkZHJvINGnr5X26ByQ
Bt+Yt3beTpuvguYFvsQdNae4mU6dCazWO8x2qGNAD0/Qx6js+bmwVskTyeXdhjN9
uksZAoGBALb1RMuV2Fp8qTa7SIlNdNvz/6CN0eO2unBfHkaxlZvx+Y/YFnm4F8rW
Bjf2wgRFijVM4vZUypSrR7Qv/e5pCSbHwVW2SthlXr+pWIeDbCFzfOkqHP/FJYfl
gOsNQs4pP+OefVbpEHDDct6QXcWACqgw6clrVNi6t98Jv6nY1f6s
-----END RSA PRIVATE KEY-----";

const CLIENT_ID: &str = "portal-client";
const CLIENT_SECRET: &str = "portal-secret";

/// Who the stand-in provider says signed in, and how it misbehaves.
#[derive(Clone)]
struct Person {
    subject: String,
    email: String,
    email_verified: bool,
    wrong_nonce: bool,
}

/// What an authorization code was issued for: (nonce, PKCE challenge, redirect URI).
type IssuedCode = (String, String, String);

#[derive(Clone)]
struct Provider {
    issuer: String,
    person: Arc<Mutex<Person>>,
    codes: Arc<Mutex<HashMap<String, IssuedCode>>>,
}

async fn start_provider() -> Provider {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address: SocketAddr = listener.local_addr().unwrap();
    let provider = Provider {
        issuer: format!("http://{address}"),
        person: Arc::new(Mutex::new(Person {
            subject: "00u-ada".into(),
            email: "ada@acme.example".into(),
            email_verified: true,
            wrong_nonce: false,
        })),
        codes: Arc::default(),
    };
    let app = Router::new()
        .route("/.well-known/openid-configuration", get(discovery))
        .route("/jwks", get(jwks))
        .route("/authorize", get(authorize))
        .route("/token", post(token))
        .with_state(provider.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    provider
}

async fn discovery(State(provider): State<Provider>) -> Json<Value> {
    let issuer = &provider.issuer;
    Json(json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "jwks_uri": format!("{issuer}/jwks"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic"]
    }))
}

fn signing_key() -> CoreRsaPrivateSigningKey {
    CoreRsaPrivateSigningKey::from_pem(TEST_KEY, Some(JsonWebKeyId::new("test-key".into()))).unwrap()
}

async fn jwks() -> Json<CoreJsonWebKeySet> {
    Json(CoreJsonWebKeySet::new(vec![signing_key().as_verification_key()]))
}

/// Signs the person in at once and sends them back with a code (no login form).
async fn authorize(State(provider): State<Provider>, Query(query): Query<HashMap<String, String>>) -> Response {
    assert_eq!(query["client_id"], CLIENT_ID);
    assert_eq!(query["response_type"], "code");
    assert_eq!(query["code_challenge_method"], "S256", "the server did not use PKCE");
    let code = format!("code-{}", provider.codes.lock().unwrap().len());
    let redirect = query["redirect_uri"].clone();
    provider
        .codes
        .lock()
        .unwrap()
        .insert(code.clone(), (query["nonce"].clone(), query["code_challenge"].clone(), redirect.clone()));
    Redirect::to(&format!("{redirect}?code={code}&state={}", query["state"])).into_response()
}

async fn token(
    State(provider): State<Provider>,
    headers: axum::http::HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    use base64::Engine as _;
    let expected = base64::engine::general_purpose::STANDARD.encode(format!("{CLIENT_ID}:{CLIENT_SECRET}"));
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(&format!("Basic {expected}")) {
        return (axum::http::StatusCode::UNAUTHORIZED, Json(json!({"error": "invalid_client"}))).into_response();
    }
    let Some((nonce, challenge, redirect)) = provider.codes.lock().unwrap().remove(&form["code"]) else {
        return (axum::http::StatusCode::BAD_REQUEST, Json(json!({"error": "invalid_grant"}))).into_response();
    };
    let verifier = PkceCodeVerifier::new(form.get("code_verifier").cloned().unwrap_or_default());
    if PkceCodeChallenge::from_code_verifier_sha256(&verifier).as_str() != challenge || form["redirect_uri"] != redirect
    {
        return (axum::http::StatusCode::BAD_REQUEST, Json(json!({"error": "invalid_grant"}))).into_response();
    }
    let person = provider.person.lock().unwrap().clone();
    #[allow(clippy::disallowed_methods)] // a stand-in provider reads the clock
    let now = chrono::Utc::now();
    let standard = StandardClaims::new(SubjectIdentifier::new(person.subject))
        .set_email(Some(EndUserEmail::new(person.email)))
        .set_email_verified(Some(person.email_verified));
    let nonce = if person.wrong_nonce { "another-nonce".to_owned() } else { nonce };
    let claims = CoreIdTokenClaims::new(
        IssuerUrl::new(provider.issuer).unwrap(),
        vec![Audience::new(CLIENT_ID.into())],
        now + chrono::Duration::minutes(5),
        now,
        standard,
        EmptyAdditionalClaims {},
    )
    .set_nonce(Some(Nonce::new(nonce)));
    let id_token =
        CoreIdToken::new(claims, &signing_key(), CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256, None, None).unwrap();
    Json(json!({"access_token": "at", "token_type": "Bearer", "expires_in": 300, "id_token": id_token.to_string()}))
        .into_response()
}

/// The operator makes tenant `acme`, points its single sign-on at `provider`, and makes a
/// setup link; returns the link's secret.
async fn acme_with_sso(server: &TestServer, provider: &Provider) -> String {
    server.sign_in().await;
    server.call("/api/create_tenant", &[("slug", "acme"), ("display_name", "Acme")]).await;
    let configured = server
        .call(
            "/api/configure_tenant_sso",
            &[
                ("slug", "acme"),
                ("issuer", &provider.issuer),
                ("client_id", CLIENT_ID),
                ("client_secret", CLIENT_SECRET),
                ("display_name", "Acme Okta"),
            ],
        )
        .await;
    assert_eq!(configured.status(), 200, "{}", configured.text().await.unwrap());
    let link: String =
        server.call("/api/create_setup_link", &[("slug", "acme"), ("valid_days", "7")]).await.json().await.unwrap();
    link.rsplit('/').next().unwrap().to_owned()
}

/// Runs a browser through `/sso/start` with `form`, the provider, and back; returns where
/// the server sent it in the end.
async fn sign_in_through(server: &TestServer, browser: &reqwest::Client, form: &[(&str, &str)]) -> String {
    let started = browser.post(server.url("/sso/start")).form(form).send().await.unwrap();
    assert!(started.status().is_redirection(), "{}", started.status());
    let to_provider = started.headers()["location"].to_str().unwrap().to_owned();
    if to_provider.starts_with("/sign-in") {
        return to_provider;
    }
    let back = browser.get(&to_provider).send().await.unwrap();
    let callback = back.headers()["location"].to_str().unwrap().to_owned();
    assert!(callback.starts_with(&server.url("/sso/callback?")), "{callback}");
    let finished = browser.get(&callback).send().await.unwrap();
    finished.headers()["location"].to_str().unwrap().to_owned()
}

async fn an_admin_made_with_single_sign_on_signs_in_again_with_it(db: TestDatabase) {
    let provider = start_provider().await;
    let server = TestServer::start_with(&db, &["--allow-internal-targets"]).await;
    let secret = acme_with_sso(&server, &provider).await;
    let browser = client();

    let page = browser.get(server.url(&format!("/setup/{secret}"))).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Continue with Acme Okta"), "the setup page offers no single sign-on");
    let landed = sign_in_through(&server, &browser, &[("setup", &secret)]).await;

    assert_eq!(landed, "/admin/connect", "no directory yet: the setup wizard");
    let home: Value = browser
        .post(server.url("/api/admin_home"))
        .header("accept", "application/json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(home["email"], "ada@acme.example");
    let tenant = db.store.tenant_by_slug(&"acme".parse().unwrap()).await.unwrap().unwrap();
    let admins = db.store.tenant(tenant.id).tenant_admins().await.unwrap();
    assert_eq!(admins.len(), 1);
    assert_eq!((admins[0].password_hash.as_deref(), admins[0].oidc_subject.as_deref()), (None, Some("00u-ada")));
    // The link is used; the admin comes back by naming the organisation.
    let again = client();
    assert_eq!(sign_in_through(&server, &again, &[("setup", &secret)]).await, "/sign-in?sso=link-used");
    assert_eq!(sign_in_through(&server, &again, &[("organisation", "Acme")]).await, "/admin/connect");
    // Without a password, the password form never lets them in.
    let by_password = client()
        .post(server.url("/api/sign_in"))
        .header("accept", "application/json")
        .form(&[("email", "ada@acme.example"), ("password", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(by_password.status(), 401);
    let actions: Vec<String> =
        db.store.tenant(tenant.id).audit_records(0, 100).await.unwrap().into_iter().map(|r| r.action).collect();
    assert_eq!(
        actions,
        ["tenant.created", "sso.configured", "setup_link.created", "admin.created", "admin.signed_in_sso"]
    );
}

async fn single_sign_on_refuses_forged_state_bad_tokens_and_strangers(db: TestDatabase) {
    let provider = start_provider().await;
    let server = TestServer::start_with(&db, &["--allow-internal-targets"]).await;
    let secret = acme_with_sso(&server, &provider).await;

    // A callback this browser did not start.
    let stranger = client();
    let forged = stranger.get(server.url("/sso/callback?code=code-0&state=x")).send().await.unwrap();
    assert_eq!(forged.headers()["location"], "/sign-in?sso=state");
    // A state that does not match the one this browser started with.
    let browser = client();
    let started = browser.post(server.url("/sso/start")).form(&[("setup", secret.as_str())]).send().await.unwrap();
    let to_provider = started.headers()["location"].to_str().unwrap().to_owned();
    let callback = browser.get(&to_provider).send().await.unwrap().headers()["location"].to_str().unwrap().to_owned();
    let tampered = callback.rsplit_once("state=").map(|(head, _)| format!("{head}state=tampered")).unwrap();
    assert_eq!(browser.get(&tampered).send().await.unwrap().headers()["location"], "/sign-in?sso=state");
    // An ID token for another sign-in (its nonce differs).
    provider.person.lock().unwrap().wrong_nonce = true;
    assert_eq!(sign_in_through(&server, &client(), &[("setup", &secret)]).await, "/sign-in?sso=token");
    provider.person.lock().unwrap().wrong_nonce = false;
    // No verified email.
    provider.person.lock().unwrap().email_verified = false;
    assert_eq!(sign_in_through(&server, &client(), &[("setup", &secret)]).await, "/sign-in?sso=email");
    provider.person.lock().unwrap().email_verified = true;
    // Someone the organisation never invited.
    assert_eq!(sign_in_through(&server, &client(), &[("organisation", "acme")]).await, "/sign-in?sso=no-account");
    // An organisation without single sign-on, or none at all.
    server.call("/api/create_tenant", &[("slug", "globex"), ("display_name", "Globex")]).await;
    assert_eq!(sign_in_through(&server, &client(), &[("organisation", "globex")]).await, "/sign-in?sso=not-configured");
    assert_eq!(sign_in_through(&server, &client(), &[("organisation", "nobody")]).await, "/sign-in?sso=not-configured");
    let tenant = db.store.tenant_by_slug(&"acme".parse().unwrap()).await.unwrap().unwrap();
    assert!(db.store.tenant(tenant.id).tenant_admins().await.unwrap().is_empty(), "a refused sign-in made an admin");
    // The refusal reads as a sentence on the sign-in page.
    let page = client().get(server.url("/sign-in?sso=no-account")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("There is no admin account for you in this organisation"));
}

async fn sso_settings_are_checked_and_need_the_operator_role(db: TestDatabase) {
    let server = TestServer::start_with(&db, &["--allow-internal-targets"]).await;
    let form = |issuer: &'static str| {
        [("slug", "acme"), ("issuer", issuer), ("client_id", "c"), ("client_secret", "s"), ("display_name", "Acme")]
    };
    assert_eq!(server.call("/api/configure_tenant_sso", &form("https://idp.example")).await.status(), 401);
    server.sign_in().await;
    server.call("/api/create_tenant", &[("slug", "acme"), ("display_name", "Acme")]).await;

    let plain_http = server.call("/api/configure_tenant_sso", &form("http://idp.example")).await;
    let not_a_url = server.call("/api/configure_tenant_sso", &form("idp")).await;
    let saved = server.call("/api/configure_tenant_sso", &form("https://idp.example/")).await;

    assert_eq!(plain_http.status(), 422);
    assert!(plain_http.text().await.unwrap().contains("must start with https://"));
    assert_eq!(not_a_url.status(), 422);
    assert_eq!(saved.status(), 200);
    let shown: Value = server.call("/api/tenant_sso", &[("slug", "acme")]).await.json().await.unwrap();
    assert_eq!(shown["issuer"], "https://idp.example");
    assert_eq!(shown["redirect_uri"], server.url("/sso/callback"));
    assert!(!shown.to_string().contains("\"s\""), "the client secret was shown: {shown}");
}

/// The stand-in provider listens on 127.0.0.1, where a tenant admin could point the
/// server to probe the operator's network: without the operator's leave, discovery is
/// refused before any request (the sign-in fails as a provider error).
async fn a_provider_at_an_internal_address_is_not_contacted_unless_the_operator_allows_it(db: TestDatabase) {
    let provider = start_provider().await;
    let server = TestServer::start(&db).await;
    let secret = acme_with_sso(&server, &provider).await;
    let browser = client();
    let started = browser.post(server.url("/sso/start")).form(&[("setup", secret.as_str())]).send().await.unwrap();
    assert_eq!(started.headers()["location"], "/sign-in?sso=provider");
    let tenant = db.store.tenant_by_slug(&"acme".parse().unwrap()).await.unwrap().unwrap();
    assert!(db.store.tenant(tenant.id).tenant_admins().await.unwrap().is_empty());
}
