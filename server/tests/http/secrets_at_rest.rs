//! Secrets at rest: webhook signing secrets and tenants' OpenID Connect client secrets are
//! sealed with the configured key (a copy of the database does not give them away), opened
//! only for their own row, sealed again with a new key at start, and session ids are kept
//! as digests (`main.rs`).

use service::webhooks::register_webhook;
use store::testing::{TEST_SECRETS_KEY, TestDatabase};
use store::{SecretKeys, StoreOptions, TenantSlug};

use crate::TestServer;
use crate::operator_api::Directory;
use crate::webhooks::fast_retries;

store::backend_tests!(
    webhook_and_sign_in_secrets_are_sealed_and_open_only_in_their_own_row,
    secrets_from_before_and_under_an_earlier_key_are_sealed_again_at_start,
);

fn now() -> chrono::DateTime<chrono::Utc> {
    #[allow(clippy::disallowed_methods)] // records carry the real time
    chrono::Utc::now()
}

/// How many rows of `table` match `condition` (through an UPDATE that changes nothing, the
/// only raw access the test database offers).
async fn rows(db: &TestDatabase, tenant: store::TenantId, table: &str, condition: &str) -> u64 {
    let column = if table == "tenant_oidc_providers" { "client_secret" } else { "secret" };
    let sql = format!("UPDATE {table} SET {column} = {column} WHERE {condition}");
    db.execute_as_tenant(tenant, &sql).await.unwrap()
}

async fn webhook_and_sign_in_secrets_are_sealed_and_open_only_in_their_own_row(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    Directory::new(&db, &server, "acme").await;
    Directory::new(&db, &server, "globex").await;
    let tenant_of = |slug: &'static str| {
        let store = db.store.clone();
        async move { store.tenant_by_slug(&TenantSlug::parse(slug).unwrap()).await.unwrap().unwrap().id }
    };
    let (acme, globex) = (tenant_of("acme").await, tenant_of("globex").await);
    let (options, actor, effects) = (fast_retries(), service::Actor::Cli, service::Effects::system());
    let issued =
        register_webhook(&db.store, acme, "http://127.0.0.1:9/acme", &options, &actor, &effects).await.unwrap();
    let other =
        register_webhook(&db.store, globex, "http://127.0.0.1:9/globex", &options, &actor, &effects).await.unwrap();
    let settings = service::sso::ProviderSettings {
        issuer: "https://login.acme.example".into(),
        client_id: "portal".into(),
        client_secret: "oidc-client-secret-of-acme".into(),
        display_name: "Acme login".into(),
    };
    service::sso::configure(&db.store, acme, &settings, &actor, now()).await.unwrap();

    // Stored sealed: neither secret is in the database.
    let plain = format!("secret = '{}'", issued.secret);
    assert_eq!(rows(&db, acme, "webhook_endpoints", &plain).await, 0);
    let sealed = format!("tenant_id = '{acme}' AND secret LIKE 'sealed:v1:%'");
    assert_eq!(rows(&db, acme, "webhook_endpoints", &sealed).await, 1);
    let sealed_client = format!(
        "tenant_id = '{acme}' AND client_secret LIKE 'sealed:v1:%' AND client_secret NOT LIKE '%oidc-client-secret%'"
    );
    assert_eq!(rows(&db, acme, "tenant_oidc_providers", &sealed_client).await, 1);
    // …and read back as they were.
    let webhooks = db.store.tenant(acme).webhooks().await.unwrap();
    assert_eq!(webhooks[0].secret, issued.secret);
    let provider = db.store.tenant(acme).oidc_provider().await.unwrap().unwrap();
    assert_eq!(provider.client_secret, "oidc-client-secret-of-acme");

    // A sealed secret copied into another tenant's row does not open there.
    let copy = format!(
        "UPDATE webhook_endpoints SET secret = (SELECT secret FROM webhook_endpoints WHERE id = '{}') WHERE id = '{}'",
        issued.id, other.id
    );
    assert_eq!(db.execute_deployment_wide(&copy).await.unwrap(), 1);
    let moved = db.store.tenant(globex).webhooks().await;
    assert!(matches!(moved, Err(store::StoreError::Corrupt(ref why)) if why.contains("does not open")), "{moved:?}");
}

async fn secrets_from_before_and_under_an_earlier_key_are_sealed_again_at_start(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    Directory::new(&db, &server, "acme").await;
    let acme = db.store.tenant_by_slug(&TenantSlug::parse("acme").unwrap()).await.unwrap().unwrap().id;
    let (options, actor, effects) = (fast_retries(), service::Actor::Cli, service::Effects::system());
    let first = register_webhook(&db.store, acme, "http://127.0.0.1:9/a", &options, &actor, &effects).await.unwrap();
    let second = register_webhook(&db.store, acme, "http://127.0.0.1:9/b", &options, &actor, &effects).await.unwrap();
    // A row written before sealing existed.
    let before = format!("UPDATE webhook_endpoints SET secret = 'whsec_from_before' WHERE id = '{}'", first.id);
    assert_eq!(db.execute_as_tenant(acme, &before).await.unwrap(), 1);
    assert_eq!(db.store.tenant(acme).webhooks().await.unwrap()[0].secret, "whsec_from_before");

    // A new key, the test key kept as an earlier one: everything is sealed with the new key.
    let new_key = [11_u8; 32];
    let rotated =
        StoreOptions { secret_keys: Some(SecretKeys::new(&new_key, &[TEST_SECRETS_KEY])), ..StoreOptions::default() };
    let restarted = store::Store::connect(&db.url, &rotated).await.unwrap();
    assert_eq!(restarted.reseal_secrets().await.unwrap(), 2);
    assert_eq!(restarted.reseal_secrets().await.unwrap(), 0, "nothing left to seal");
    let secrets: Vec<String> =
        restarted.tenant(acme).webhooks().await.unwrap().into_iter().map(|webhook| webhook.secret).collect();
    assert_eq!(secrets, ["whsec_from_before".to_owned(), second.secret.clone()]);
    // The earlier key alone opens nothing any more: it can be dropped from the settings.
    let only_old = db.store.tenant(acme).webhooks().await;
    assert!(
        matches!(only_old, Err(store::StoreError::Corrupt(ref why)) if why.contains("not configured")),
        "{only_old:?}"
    );
    restarted.close().await;
}
