//! The storage contract, run on SQLite and on PostgreSQL. One test binary for the crate.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chrono::{TimeZone, Utc};
use store::testing::TestDatabase;
use store::{Backend, Operator, OperatorRole, SessionRow, Store, StoreError, StoreOptions, backend_tests};

backend_tests!(
    a_fresh_database_is_migrated_and_empty,
    connecting_again_to_a_migrated_database_changes_nothing,
    ping_answers_while_the_database_is_up,
    an_operator_is_found_by_email_after_insert,
    a_second_operator_with_the_same_email_is_a_conflict,
    sessions_load_until_they_expire_and_then_are_swept,
    a_new_session_never_overwrites_an_existing_id,
);

fn operator(email: &str) -> Operator {
    Operator {
        id: uuid::Uuid::now_v7(),
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
    assert_eq!(overview.schema_version, 2);
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
