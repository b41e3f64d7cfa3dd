//! The storage contract, run on SQLite and on PostgreSQL. One test binary for the crate.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chrono::{TimeZone, Utc};
use store::testing::TestDatabase;
use store::{
    Backend, Directory, DirectoryId, DirectorySettings, IdentityProvider, NewToken, Operator, OperatorRole, SessionRow,
    Store, StoreError, StoreOptions, Tenant, TenantId, TenantSlug, TokenId, backend_tests,
};

backend_tests!(
    a_fresh_database_is_migrated_and_empty,
    connecting_again_to_a_migrated_database_changes_nothing,
    ping_answers_while_the_database_is_up,
    an_operator_is_found_by_email_after_insert,
    a_second_operator_with_the_same_email_is_a_conflict,
    sessions_load_until_they_expire_and_then_are_swept,
    a_new_session_never_overwrites_an_existing_id,
    tenant_slugs_are_unique,
    a_directory_is_routed_to_its_tenant,
    one_tenant_cannot_reach_another_tenants_directory_or_tokens,
    revoking_a_token_keeps_the_first_revocation_time,
    tenant_summaries_count_each_tenants_directories_newest_first,
);

fn at(hour: u32) -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 25, hour, 0, 0).unwrap()
}

async fn tenant(store: &Store, slug: &str) -> Tenant {
    let tenant = Tenant {
        id: TenantId::generate(),
        slug: TenantSlug::parse(slug).unwrap(),
        display_name: slug.to_uppercase(),
        created_at: at(8),
    };
    store.create_tenant(&tenant).await.unwrap();
    tenant
}

async fn directory(store: &Store, tenant: &Tenant, idp: IdentityProvider) -> Directory {
    let directory = Directory {
        id: DirectoryId::generate(),
        idp,
        display_name: idp.display_name().into(),
        created_at: at(9),
        settings: DirectorySettings::default(),
    };
    store.tenant(tenant.id).create_directory(&directory).await.unwrap();
    directory
}

fn token(directory: &Directory, digest_byte: u8) -> NewToken {
    NewToken {
        id: TokenId::generate(),
        directory: directory.id,
        digest: [digest_byte; 32],
        label: "Okta provisioning".into(),
        read_only: false,
        created_at: at(10),
        expires_at: Some(at(20)),
    }
}

async fn tenant_slugs_are_unique(db: TestDatabase) {
    let acme = tenant(&db.store, "acme").await;

    let again = Tenant { id: TenantId::generate(), ..acme.clone() };
    let error = db.store.create_tenant(&again).await.unwrap_err();

    assert!(matches!(error, StoreError::Conflict(_)), "{error:?}");
    assert_eq!(db.store.tenant_by_slug(&acme.slug).await.unwrap(), Some(acme));
    assert_eq!(db.store.deployment_overview().await.unwrap().tenant_count, 1);
}

async fn a_directory_is_routed_to_its_tenant(db: TestDatabase) {
    let acme = tenant(&db.store, "acme").await;
    let okta = directory(&db.store, &acme, IdentityProvider::Okta).await;

    assert_eq!(db.store.directory_owner(okta.id).await.unwrap(), Some(acme.id));
    assert_eq!(db.store.directory_owner(DirectoryId::generate()).await.unwrap(), None);
    assert_eq!(db.store.tenant(acme.id).directory(okta.id).await.unwrap(), Some(okta));
}

async fn one_tenant_cannot_reach_another_tenants_directory_or_tokens(db: TestDatabase) {
    let acme = tenant(&db.store, "acme").await;
    let globex = tenant(&db.store, "globex").await;
    let acme_dir = directory(&db.store, &acme, IdentityProvider::Okta).await;
    let globex_dir = directory(&db.store, &globex, IdentityProvider::Entra).await;
    let acme_token = token(&acme_dir, 1);
    db.store.tenant(acme.id).insert_token(&acme_token).await.unwrap();

    let as_globex = db.store.tenant(globex.id);

    assert_eq!(as_globex.directory(acme_dir.id).await.unwrap(), None);
    assert_eq!(as_globex.token_by_digest(acme_dir.id, &[1; 32]).await.unwrap(), None);
    assert!(!as_globex.revoke_token(acme_token.id, at(11)).await.unwrap(), "revoked another tenant's token");
    let foreign = token(&acme_dir, 2);
    assert!(as_globex.insert_token(&foreign).await.is_err(), "stored a token for another tenant's directory");
    let still = db.store.tenant(acme.id).token_by_digest(acme_dir.id, &[1; 32]).await.unwrap().unwrap();
    assert_eq!(still.revoked_at, None);
    assert_eq!(db.store.tenant(acme.id).token_by_digest(globex_dir.id, &[1; 32]).await.unwrap(), None);
}

async fn revoking_a_token_keeps_the_first_revocation_time(db: TestDatabase) {
    let acme = tenant(&db.store, "acme").await;
    let okta = directory(&db.store, &acme, IdentityProvider::Okta).await;
    let issued = token(&okta, 7);
    let scope = db.store.tenant(acme.id);
    scope.insert_token(&issued).await.unwrap();

    scope.mark_token_used(issued.id, at(11)).await.unwrap();
    assert!(scope.revoke_token(issued.id, at(12)).await.unwrap());
    assert!(scope.revoke_token(issued.id, at(13)).await.unwrap());

    let stored = scope.token_by_digest(okta.id, &[7; 32]).await.unwrap().unwrap();
    assert_eq!(stored.revoked_at, Some(at(12)));
    assert_eq!(stored.last_used_at, Some(at(11)));
    assert_eq!(stored.expires_at, Some(at(20)));
    assert_eq!((stored.label.as_str(), stored.read_only), ("Okta provisioning", false));
}

fn operator(email: &str) -> Operator {
    Operator {
        id: store::OperatorId::generate(),
        email: email.to_owned(),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".to_owned(),
        role: OperatorRole::Operator,
        created_at: Utc.with_ymd_and_hms(2026, 11, 25, 9, 30, 0).unwrap(),
    }
}

async fn an_operator_is_found_by_email_after_insert(db: TestDatabase) {
    let alice = operator("alice@vendor.example");

    db.store.insert_operator(&alice).await.unwrap();

    assert_eq!(db.store.operator_count().await.unwrap(), 1);
    assert_eq!(db.store.operator_by_email("alice@vendor.example").await.unwrap(), Some(alice));
    assert_eq!(db.store.operator_by_email("bob@vendor.example").await.unwrap(), None);
}

async fn a_second_operator_with_the_same_email_is_a_conflict(db: TestDatabase) {
    db.store.insert_operator(&operator("alice@vendor.example")).await.unwrap();

    let error = db.store.insert_operator(&operator("alice@vendor.example")).await.unwrap_err();

    assert!(matches!(error, StoreError::Conflict(_)), "{error:?}");
    assert_eq!(db.store.operator_count().await.unwrap(), 1);
}

async fn sessions_load_until_they_expire_and_then_are_swept(db: TestDatabase) {
    let session = SessionRow { id: "s1".into(), data: r#"{"operator":"x"}"#.into(), expires_at: 1_000 };
    db.store.save_session(&session).await.unwrap();

    assert_eq!(db.store.load_session("s1", 999).await.unwrap(), Some(session.clone()));
    assert_eq!(db.store.load_session("s1", 1_000).await.unwrap(), None, "expired at its expiry second");

    let renewed = SessionRow { expires_at: 2_000, ..session };
    db.store.save_session(&renewed).await.unwrap();
    assert_eq!(db.store.load_session("s1", 1_500).await.unwrap(), Some(renewed));

    assert_eq!(db.store.delete_expired_sessions(2_000).await.unwrap(), 1);
    assert_eq!(db.store.load_session("s1", 0).await.unwrap(), None);
}

async fn a_new_session_never_overwrites_an_existing_id(db: TestDatabase) {
    let first = SessionRow { id: "same".into(), data: "{}".into(), expires_at: 10 };
    let second = SessionRow { id: "same".into(), data: r#"{"a":1}"#.into(), expires_at: 20 };

    assert!(db.store.insert_new_session(&first).await.unwrap());
    assert!(!db.store.insert_new_session(&second).await.unwrap());

    assert_eq!(db.store.load_session("same", 0).await.unwrap(), Some(first));
    db.store.delete_session("same").await.unwrap();
    assert_eq!(db.store.load_session("same", 0).await.unwrap(), None);
}

async fn a_fresh_database_is_migrated_and_empty(db: TestDatabase) {
    let overview = db.store.deployment_overview().await.unwrap();

    assert_eq!(overview.backend, db.url.backend());
    assert_eq!(overview.schema_version, Store::latest_schema_version());
    assert_eq!(Store::latest_schema_version(), 8);
    assert_eq!(overview.tenant_count, 0);
}

async fn connecting_again_to_a_migrated_database_changes_nothing(db: TestDatabase) {
    let before = db.store.deployment_overview().await.unwrap();

    let again = Store::connect(&db.url, &StoreOptions::default()).await.unwrap();
    let after = again.deployment_overview().await.unwrap();

    assert_eq!(after, before);
    again.close().await;
}

async fn ping_answers_while_the_database_is_up(db: TestDatabase) {
    db.store.ping().await.unwrap();
    db.store.close().await;

    assert!(db.store.ping().await.is_err(), "a closed pool must not report ready");
}

#[test]
fn backends_have_readable_names() {
    assert_eq!(Backend::Sqlite.to_string(), "SQLite");
    assert_eq!(Backend::Postgres.to_string(), "PostgreSQL");
}

async fn tenant_summaries_count_each_tenants_directories_newest_first(db: TestDatabase) {
    let acme = tenant(&db.store, "acme").await;
    let globex = Tenant { created_at: at(9), ..tenant_fields("globex") };
    db.store.create_tenant(&globex).await.unwrap();
    let okta = directory(&db.store, &acme, IdentityProvider::Okta).await;
    let entra = directory(&db.store, &acme, IdentityProvider::Entra).await;

    let summaries = db.store.tenant_summaries().await.unwrap();

    let listed: Vec<(&str, i64)> = summaries.iter().map(|s| (s.tenant.slug.as_str(), s.directory_count)).collect();
    assert_eq!(listed, [("globex", 0), ("acme", 2)]);
    assert_eq!(db.store.tenant(acme.id).directories().await.unwrap().len(), 2);
    assert!(db.store.tenant(globex.id).directories().await.unwrap().is_empty());
    let ids: Vec<DirectoryId> = db.store.tenant(acme.id).directories().await.unwrap().iter().map(|d| d.id).collect();
    assert!(ids.contains(&okta.id) && ids.contains(&entra.id));
}

fn tenant_fields(slug: &str) -> Tenant {
    Tenant {
        id: TenantId::generate(),
        slug: TenantSlug::parse(slug).unwrap(),
        display_name: slug.to_uppercase(),
        created_at: at(8),
    }
}

/// PostgreSQL's row-level security (migration 0006) holds even for SQL that forgets the
/// tenant: without `app.tenant_id` no SCIM row is visible, with it only that tenant's, and
/// no row of another tenant can be written. (The test role is not a superuser, as the
/// server's should not be.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn row_level_security_is_a_second_wall_on_postgres() {
    use sqlx::Connection;
    store::testing::within_time_limit(async {
        let db = TestDatabase::create(Backend::Postgres).await.unwrap_or_else(|e| panic!("{e}"));
        let context = store::WriteContext { actor: "test".into(), at: at(11) };
        let mut tenants = Vec::new();
        for (slug, users) in [("acme", 2), ("globex", 3)] {
            let tenant = tenant(&db.store, slug).await;
            let directory = directory(&db.store, &tenant, IdentityProvider::Okta).await;
            let data = db.store.tenant(tenant.id).directory_data(directory.id);
            for n in 0..users {
                let id = format!("{slug}-{n}");
                let state = store::ResourceState {
                    name: id.clone(),
                    external_id: None,
                    doc: serde_json::json!({"userName": id}),
                };
                let change = store::Change {
                    kind: store::ChangeKind::UserCreated,
                    resource_id: id.clone(),
                    data: serde_json::json!({}),
                };
                data.create(store::ResourceKind::User, &id, &state, &[], &change, &context).await.unwrap();
            }
            tenants.push((tenant, directory));
        }

        let mut raw = sqlx::PgConnection::connect(db.url.as_str()).await.unwrap();
        let count = |sql: &'static str| sqlx::query_scalar::<_, i64>(sql);
        assert_eq!(count("SELECT count(*) FROM scim_resources").fetch_one(&mut raw).await.unwrap(), 0);
        assert_eq!(count("SELECT count(*) FROM directory_changes").fetch_one(&mut raw).await.unwrap(), 0);
        let (acme, acme_directory) = &tenants[0];
        let (globex, globex_directory) = &tenants[1];
        sqlx::query("SELECT set_config('app.tenant_id', $1, false)")
            .bind(acme.id.to_string())
            .execute(&mut raw)
            .await
            .unwrap();
        assert_eq!(count("SELECT count(*) FROM scim_resources").fetch_one(&mut raw).await.unwrap(), 2);
        let forged = sqlx::query(
            "INSERT INTO scim_resources (tenant_id, directory_id, resource_type, id, name, name_folded, doc, \
             doc_folded, version, created_at, last_modified) \
             VALUES ($1, $2, 'User', 'forged', 'x', 'x', '{}', '{}', 1, now(), now())",
        )
        .bind(globex.id.as_uuid())
        .bind(globex_directory.id.as_uuid())
        .execute(&mut raw)
        .await;
        assert!(forged.is_err(), "a row of another tenant cannot be written");
        let updated = sqlx::query("UPDATE scim_resources SET version = version + 1 WHERE directory_id = $1")
            .bind(globex_directory.id.as_uuid())
            .execute(&mut raw)
            .await
            .unwrap();
        assert_eq!(updated.rows_affected(), 0, "another tenant's rows cannot be changed");
        // The store itself keeps working for both tenants.
        let listed = db
            .store
            .tenant(globex.id)
            .directory_data(globex_directory.id)
            .list(
                store::ResourceKind::User,
                &store::ListSpec { filter: None, sort: None, page: store::PageSpec::Offset { skip: 0, take: 10 } },
            )
            .await
            .unwrap();
        assert_eq!(listed.total, 3);
        assert_eq!(acme_directory.id, tenants[0].1.id);
    })
    .await;
}
