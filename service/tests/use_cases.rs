//! Use cases against real databases, on SQLite and PostgreSQL. One test binary for the crate.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chrono::{TimeZone, Utc};
use service::directories::{self, AuthenticationError, Refusal, TokenRequest};
use service::operators::{self, OperatorEmail, OperatorError, SignInThrottle};
use store::backend_tests;
use store::testing::TestDatabase;
use store::{IdentityProvider, TenantSlug};

backend_tests!(
    the_first_operator_is_created_once,
    a_short_first_password_is_refused,
    an_operator_signs_in_with_the_right_password_only,
    repeated_wrong_passwords_are_throttled,
    one_address_guessing_many_accounts_and_many_addresses_guessing_one_are_throttled,
    the_status_reports_the_backend_and_schema,
    an_issued_token_authenticates_for_its_directory_only,
    expired_and_revoked_tokens_are_refused,
    ensuring_a_tenant_twice_returns_the_same_tenant,
    tenants_are_created_with_validated_names,
    grant_tokens_are_swept_a_day_after_expiry_and_admin_tokens_kept,
);

fn hour(hour: u32) -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 25, hour, 0, 0).unwrap()
}

// Set-up through the use cases, as the command line (the tests' actor) calls them.

async fn tenant_named(db: &TestDatabase, slug: &str, at: chrono::DateTime<Utc>) -> store::Tenant {
    let slug = TenantSlug::parse(slug).unwrap();
    directories::ensure_tenant(&db.store, &slug, &service::Actor::Cli, &service::Effects::stopped_at(at)).await.unwrap()
}

async fn directory_of(
    db: &TestDatabase,
    tenant: &store::Tenant,
    idp: IdentityProvider,
    at: chrono::DateTime<Utc>,
) -> store::Directory {
    let new = directories::NewDirectory { idp, settings: Default::default(), first_token: None };
    directories::add_directory(&db.store, tenant.id, new, None, &service::Actor::Cli, &service::Effects::stopped_at(at))
        .await
        .unwrap()
        .0
}

async fn issue(
    db: &TestDatabase,
    tenant: &store::Tenant,
    directory: &store::Directory,
    request: TokenRequest,
    at: chrono::DateTime<Utc>,
) -> directories::IssuedToken {
    let issued = directories::issue_token(
        &db.store,
        tenant.id,
        directory.id,
        request,
        &service::Actor::Cli,
        &service::Effects::stopped_at(at),
    )
    .await;
    issued.unwrap().unwrap()
}

async fn an_issued_token_authenticates_for_its_directory_only(db: TestDatabase) {
    let acme = tenant_named(&db, "acme", hour(8)).await;
    let okta = directory_of(&db, &acme, IdentityProvider::Okta, hour(8)).await;
    let other = directory_of(&db, &acme, IdentityProvider::Entra, hour(8)).await;
    let request = TokenRequest { label: "Okta".into(), read_only: true, expires_at: None };
    let issued = issue(&db, &acme, &okta, request, hour(9)).await;

    let caller = directories::authenticate(&db.store, okta.id, &issued.secret, hour(10)).await.unwrap();
    let elsewhere = directories::authenticate(&db.store, other.id, &issued.secret, hour(10)).await;
    let mangled = format!("{}x", issued.secret);
    let wrong = directories::authenticate(&db.store, okta.id, &mangled, hour(10)).await;

    assert!(issued.secret.starts_with("scim_") && issued.secret.len() == 5 + 43, "{}", issued.secret);
    assert_eq!((caller.tenant, caller.directory, caller.token, caller.read_only), (acme.id, okta.id, issued.id, true));
    assert!(matches!(elsewhere, Err(AuthenticationError::Unauthorized(Refusal::UnknownToken))), "{elsewhere:?}");
    assert!(matches!(wrong, Err(AuthenticationError::Unauthorized(Refusal::UnknownToken))), "{wrong:?}");
    let digest_only = db.store.tenant(acme.id).directory(okta.id).await.unwrap();
    assert!(digest_only.is_some());
}

async fn expired_and_revoked_tokens_are_refused(db: TestDatabase) {
    let acme = tenant_named(&db, "acme", hour(8)).await;
    let okta = directory_of(&db, &acme, IdentityProvider::Okta, hour(8)).await;
    let expiring = TokenRequest { label: "expiring".into(), read_only: false, expires_at: Some(hour(12)) };
    let expiring = issue(&db, &acme, &okta, expiring, hour(9)).await;
    let revoked = TokenRequest { label: "revoked".into(), read_only: false, expires_at: None };
    let revoked = issue(&db, &acme, &okta, revoked, hour(9)).await;

    assert!(directories::authenticate(&db.store, okta.id, &expiring.secret, hour(11)).await.is_ok());
    let after_expiry = directories::authenticate(&db.store, okta.id, &expiring.secret, hour(12)).await;
    assert!(matches!(after_expiry, Err(AuthenticationError::Unauthorized(Refusal::Expired))), "{after_expiry:?}");

    assert!(
        directories::revoke_token(&db.store, acme.id, okta.id, revoked.id, &service::Actor::Cli, hour(13))
            .await
            .unwrap()
    );
    assert!(directories::authenticate(&db.store, okta.id, &revoked.secret, hour(12)).await.is_ok());
    let after_revocation = directories::authenticate(&db.store, okta.id, &revoked.secret, hour(14)).await;
    assert!(
        matches!(after_revocation, Err(AuthenticationError::Unauthorized(Refusal::Revoked))),
        "{after_revocation:?}"
    );
}

async fn ensuring_a_tenant_twice_returns_the_same_tenant(db: TestDatabase) {
    let slug = TenantSlug::parse("initech").unwrap();

    let first =
        directories::ensure_tenant(&db.store, &slug, &service::Actor::Cli, &service::Effects::stopped_at(hour(8)))
            .await
            .unwrap();
    let second =
        directories::ensure_tenant(&db.store, &slug, &service::Actor::Cli, &service::Effects::stopped_at(hour(9)))
            .await
            .unwrap();

    assert_eq!(first, second);
}

const PASSWORD: &str = "correct horse battery staple";

fn an_instant() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 25, 9, 0, 0).unwrap()
}

/// Alice, with `PASSWORD`, as the deployment's first operator.
async fn alice_is_the_first_operator(db: &TestDatabase) {
    operators::bootstrap_first_operator(
        &db.store,
        &alice(),
        PASSWORD.into(),
        &service::Effects::stopped_at(an_instant()),
    )
    .await
    .unwrap();
}

fn alice() -> OperatorEmail {
    OperatorEmail::parse("Alice@Vendor.Example").unwrap()
}

async fn the_first_operator_is_created_once(db: TestDatabase) {
    let now = an_instant();

    let first =
        operators::bootstrap_first_operator(&db.store, &alice(), PASSWORD.into(), &service::Effects::stopped_at(now))
            .await
            .unwrap();
    let other = OperatorEmail::parse("mallory@vendor.example").unwrap();
    let second =
        operators::bootstrap_first_operator(&db.store, &other, PASSWORD.into(), &service::Effects::stopped_at(now))
            .await
            .unwrap();

    assert!(first);
    assert!(!second, "a deployment with an operator must not get another at start-up");
    assert_eq!(db.store.operator_count().await.unwrap(), 1);
    let stored = db.store.operator_by_email("alice@vendor.example").await.unwrap().unwrap();
    assert!(stored.password_hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{}", stored.password_hash);
    assert_eq!(stored.created_at, now);
}

async fn a_short_first_password_is_refused(db: TestDatabase) {
    let result = operators::bootstrap_first_operator(
        &db.store,
        &alice(),
        "short".into(),
        &service::Effects::stopped_at(an_instant()),
    )
    .await;

    assert!(matches!(result, Err(OperatorError::PasswordTooShort)), "{result:?}");
    assert_eq!(db.store.operator_count().await.unwrap(), 0);
}

async fn an_operator_signs_in_with_the_right_password_only(db: TestDatabase) {
    alice_is_the_first_operator(&db).await;
    let throttle = SignInThrottle::default();

    let signed_in =
        operators::sign_in(&db.store, &throttle, " ALICE@vendor.example", PASSWORD.into(), HOME).await.unwrap();
    let wrong = operators::sign_in(&db.store, &throttle, "alice@vendor.example", "not the password".into(), HOME).await;
    let unknown = operators::sign_in(&db.store, &throttle, "bob@vendor.example", PASSWORD.into(), HOME).await;

    assert_eq!(signed_in.email, "alice@vendor.example");
    assert_eq!(signed_in.role, store::OperatorRole::Operator);
    assert!(matches!(wrong, Err(OperatorError::InvalidCredentials)), "{wrong:?}");
    assert!(matches!(unknown, Err(OperatorError::InvalidCredentials)), "{unknown:?}");
}

/// The owner's address and an attacker's.
const HOME: std::net::IpAddr = std::net::IpAddr::V4(std::net::Ipv4Addr::new(198, 51, 100, 7));
const ATTACKER: std::net::IpAddr = std::net::IpAddr::V4(std::net::Ipv4Addr::new(203, 0, 113, 66));

async fn repeated_wrong_passwords_are_throttled(db: TestDatabase) {
    alice_is_the_first_operator(&db).await;
    let throttle = SignInThrottle::default();
    for _ in 0..5 {
        let attempt = operators::sign_in(&db.store, &throttle, "alice@vendor.example", "guess".into(), ATTACKER).await;
        assert!(matches!(attempt, Err(OperatorError::InvalidCredentials)), "{attempt:?}");
    }

    let sixth = operators::sign_in(&db.store, &throttle, "alice@vendor.example", PASSWORD.into(), ATTACKER).await;
    let other_account = operators::sign_in(&db.store, &throttle, "bob@vendor.example", "guess".into(), ATTACKER).await;
    // Five wrong guesses elsewhere do not lock the owner out.
    let owner = operators::sign_in(&db.store, &throttle, "alice@vendor.example", PASSWORD.into(), HOME).await;

    assert!(matches!(sixth, Err(OperatorError::Throttled)), "even the right password waits: {sixth:?}");
    assert!(matches!(other_account, Err(OperatorError::InvalidCredentials)), "{other_account:?}");
    assert!(owner.is_ok(), "{owner:?}");
}

async fn one_address_guessing_many_accounts_and_many_addresses_guessing_one_are_throttled(db: TestDatabase) {
    alice_is_the_first_operator(&db).await;
    let throttle = SignInThrottle::default();
    // One address, a different account each time: 30, then refused.
    for n in 0..30 {
        let attempt =
            operators::sign_in(&db.store, &throttle, &format!("user{n}@vendor.example"), "guess".into(), ATTACKER)
                .await;
        assert!(matches!(attempt, Err(OperatorError::InvalidCredentials)), "{n}: {attempt:?}");
    }
    let next = operators::sign_in(&db.store, &throttle, "user30@vendor.example", "guess".into(), ATTACKER).await;
    assert!(matches!(next, Err(OperatorError::Throttled)), "{next:?}");
    // Many addresses, one account: the slower fallback stops them after 30.
    for n in 0..30_u8 {
        let address = std::net::IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, n));
        let attempt = operators::sign_in(&db.store, &throttle, "alice@vendor.example", "guess".into(), address).await;
        assert!(matches!(attempt, Err(OperatorError::InvalidCredentials)), "{n}: {attempt:?}");
    }
    let spread = operators::sign_in(&db.store, &throttle, "alice@vendor.example", "guess".into(), HOME).await;
    assert!(matches!(spread, Err(OperatorError::Throttled)), "{spread:?}");
}

async fn the_status_reports_the_backend_and_schema(db: TestDatabase) {
    let status = service::deployment::status(&db.store).await.unwrap();

    assert_eq!(status.database, db.url.backend().name());
    assert_eq!(status.schema_version, store::Store::latest_schema_version());
    assert_eq!(status.tenants, 0);
}

async fn tenants_are_created_with_validated_names(db: TestDatabase) {
    use service::tenants::{self, TenantError};

    let acme = tenants::create(
        &db.store,
        " acme ",
        " Acme Corp ",
        &service::Actor::Cli,
        &service::Effects::stopped_at(hour(8)),
    )
    .await
    .unwrap();
    let taken = tenants::create(
        &db.store,
        "acme",
        "Another Acme",
        &service::Actor::Cli,
        &service::Effects::stopped_at(hour(9)),
    )
    .await;
    let bad_slug =
        tenants::create(&db.store, "Acme Corp", "Acme", &service::Actor::Cli, &service::Effects::stopped_at(hour(9)))
            .await;
    let no_name =
        tenants::create(&db.store, "globex", "   ", &service::Actor::Cli, &service::Effects::stopped_at(hour(9))).await;

    assert_eq!((acme.slug.as_str(), acme.display_name.as_str()), ("acme", "Acme Corp"));
    assert!(matches!(taken, Err(TenantError::SlugTaken(ref slug)) if slug == "acme"), "{taken:?}");
    assert!(matches!(bad_slug, Err(TenantError::InvalidSlug(_))), "{bad_slug:?}");
    assert!(matches!(no_name, Err(TenantError::InvalidDisplayName)), "{no_name:?}");
    let listed = tenants::list(&db.store).await.unwrap();
    assert_eq!(listed.len(), 1);
    let (tenant, directories) = tenants::detail(&db.store, &acme.slug).await.unwrap().unwrap();
    assert_eq!((tenant, directories.len()), (acme, 0));
}

async fn grant_tokens_are_swept_a_day_after_expiry_and_admin_tokens_kept(db: TestDatabase) {
    let acme = tenant_named(&db, "acme", hour(8)).await;
    let okta = directory_of(&db, &acme, IdentityProvider::Okta, hour(8)).await;
    let client = directories::issue_oauth_client(
        &db.store,
        acme.id,
        okta.id,
        "Okta".into(),
        &service::Actor::Cli,
        &service::Effects::stopped_at(hour(8)),
    )
    .await
    .unwrap()
    .unwrap();
    let granted = directories::exchange_client_credentials(
        &db.store,
        &client.client_id,
        &client.secret,
        &service::Effects::stopped_at(hour(9)),
    )
    .await
    .unwrap();
    let expiring = TokenRequest { label: "admin".into(), read_only: false, expires_at: Some(hour(10)) };
    let admin = issue(&db, &acme, &okta, expiring, hour(9)).await;
    let a_day_after_expiry = hour(10) + directories::EXPIRED_ACCESS_TOKEN_RETENTION;

    assert_eq!(directories::sweep_expired_access_tokens(&db.store, hour(11)).await.unwrap(), 0, "swept too early");
    assert_eq!(directories::sweep_expired_access_tokens(&db.store, a_day_after_expiry).await.unwrap(), 0);
    let later = a_day_after_expiry + chrono::Duration::seconds(1);
    assert_eq!(directories::sweep_expired_access_tokens(&db.store, later).await.unwrap(), 1);

    let scope = db.store.tenant(acme.id);
    assert!(scope.token_by_digest(okta.id, &sha256(&granted.token)).await.unwrap().is_none());
    assert!(scope.token_by_digest(okta.id, &sha256(&admin.secret)).await.unwrap().is_some());
}

fn sha256(secret: &str) -> [u8; 32] {
    use sha2::Digest as _;
    sha2::Sha256::digest(secret.as_bytes()).into()
}
