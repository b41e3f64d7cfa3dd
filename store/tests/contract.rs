//! The storage contract, run on SQLite and on PostgreSQL. One test binary for the crate.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use store::testing::TestDatabase;
use store::{Backend, Store, StoreOptions, backend_tests};

backend_tests!(
    a_fresh_database_is_migrated_and_empty,
    connecting_again_to_a_migrated_database_changes_nothing,
    ping_answers_while_the_database_is_up,
);

async fn a_fresh_database_is_migrated_and_empty(db: TestDatabase) {
    let overview = db.store.deployment_overview().await.unwrap();

    assert_eq!(overview.backend, db.url.backend());
    assert_eq!(overview.schema_version, 1);
    assert_eq!(overview.tenant_count, 0);
}

async fn connecting_again_to_a_migrated_database_changes_nothing(db: TestDatabase) {
    let before = db.store.deployment_overview().await.unwrap();

    let again = Store::connect(&db.url, &StoreOptions::default())
        .await
        .unwrap();
    let after = again.deployment_overview().await.unwrap();

    assert_eq!(after, before);
    again.close().await;
}

async fn ping_answers_while_the_database_is_up(db: TestDatabase) {
    db.store.ping().await.unwrap();
    db.store.close().await;

    assert!(
        db.store.ping().await.is_err(),
        "a closed pool must not report ready"
    );
}

#[test]
fn backends_have_readable_names() {
    assert_eq!(Backend::Sqlite.to_string(), "SQLite");
    assert_eq!(Backend::Postgres.to_string(), "PostgreSQL");
}
