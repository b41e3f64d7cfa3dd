//! Storage for portal sign-in sessions. The HTTP layer owns the session format; this
//! module stores an opaque JSON document per session id with its expiry.
//!
//! A session id is a bearer credential (the cookie's value): only its SHA-256 digest is
//! stored, so a copy of the database or a backup signs nobody in. Callers pass and get the
//! id itself; the digest never leaves this module.

use sha2::{Digest, Sha256};

use crate::{Store, StoreError};

/// The key a session is stored under.
fn stored_id(id: &str) -> String {
    hex::encode(Sha256::digest(id.as_bytes()))
}

/// One stored session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    pub id: String,
    /// JSON object.
    pub data: String,
    /// Unix seconds.
    pub expires_at: i64,
    /// Whose it is: `operator:<id>` or `admin:<tenant>:<id>`; `None`: nobody signed in, or
    /// someone without an account.
    pub account: Option<String>,
}

impl Store {
    /// The session with this id, unless it has expired at `now` (unix seconds).
    pub async fn load_session(&self, id: &str, now: i64) -> Result<Option<SessionRow>, StoreError> {
        const QUERY: &str = "SELECT data, expires_at, account FROM sessions WHERE id = $1 AND expires_at > $2";
        let row: Option<(String, i64, Option<String>)> = on_pool!(&self.pool, pool =>
            sqlx::query_as(QUERY).bind(stored_id(id)).bind(now).fetch_optional(pool).await?);
        Ok(row.map(|(data, expires_at, account)| SessionRow { id: id.to_owned(), data, expires_at, account }))
    }

    /// Inserts or replaces a session.
    pub async fn save_session(&self, session: &SessionRow) -> Result<(), StoreError> {
        const QUERY: &str = "INSERT INTO sessions (id, data, expires_at, account) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (id) DO UPDATE SET data = excluded.data, expires_at = excluded.expires_at, \
             account = excluded.account";
        self.write_session(QUERY, session).await.map(drop)
    }

    /// Inserts a session only if its id is unused; returns whether it was inserted.
    pub async fn insert_new_session(&self, session: &SessionRow) -> Result<bool, StoreError> {
        const QUERY: &str =
            "INSERT INTO sessions (id, data, expires_at, account) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING";
        Ok(self.write_session(QUERY, session).await? == 1)
    }

    async fn write_session(&self, query: &'static str, session: &SessionRow) -> Result<u64, StoreError> {
        Ok(writing_on_pool!(self, pool => sqlx::query(query)
            .bind(stored_id(&session.id))
            .bind(&session.data)
            .bind(session.expires_at)
            .bind(&session.account)
            .execute(pool)
            .await?
            .rows_affected()))
    }

    /// Deletes every session of `account` but `keep` (the one asking, when it stays signed
    /// in); returns how many.
    pub async fn delete_account_sessions(&self, account: &str, keep: Option<&str>) -> Result<u64, StoreError> {
        const QUERY: &str = "DELETE FROM sessions WHERE account = $1 AND ($2 IS NULL OR id <> $2)";
        Ok(
            writing_on_pool!(self, pool => sqlx::query(QUERY).bind(account).bind(keep.map(stored_id)).execute(pool).await?.rows_affected()),
        )
    }

    pub async fn delete_session(&self, id: &str) -> Result<(), StoreError> {
        const QUERY: &str = "DELETE FROM sessions WHERE id = $1";
        writing_on_pool!(self, pool => sqlx::query(QUERY).bind(stored_id(id)).execute(pool).await.map(drop)?);
        Ok(())
    }

    /// Deletes the access tokens of the client-credentials grant that expired before
    /// `before`, in every tenant (a maintenance sweep, like the sessions'); returns how
    /// many. Tokens an admin issued are kept.
    pub async fn delete_expired_access_tokens(&self, before: chrono::DateTime<chrono::Utc>) -> Result<u64, StoreError> {
        const QUERY: &str = "DELETE FROM directory_tokens WHERE oauth_client_id IS NOT NULL AND expires_at < $1";
        Ok(
            writing_as_deployment!(self, conn => sqlx::query(QUERY).bind(before).execute(&mut *conn).await?.rows_affected()),
        )
    }

    /// Deletes sessions that expired before `now` (unix seconds); returns how many.
    pub async fn delete_expired_sessions(&self, now: i64) -> Result<u64, StoreError> {
        const QUERY: &str = "DELETE FROM sessions WHERE expires_at <= $1";
        Ok(writing_on_pool!(self, pool => sqlx::query(QUERY).bind(now).execute(pool).await?.rows_affected()))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Duration;

    use super::SessionRow;
    use crate::Store;
    use crate::testing::TestDatabase;

    crate::backend_tests!(limit_seconds = 30; a_session_is_written_while_other_writes_follow_each_other_without_pause);

    /// Writes that follow each other without a pause (a large Bulk load, a re-derivation)
    /// hold SQLite's write lock for all but microseconds. A write that waited on SQLite's
    /// busy handler (sleeps of up to 100 ms between tries, for 5 s) found the lock free at
    /// none of its tries and failed; in this process's writer turn it waits for one
    /// holder. Here each holder keeps the lock for 100 ms, so without the turn the
    /// session's write fails after 5 s.
    async fn a_session_is_written_while_other_writes_follow_each_other_without_pause(db: TestDatabase) {
        let store = db.store.clone();
        let stop = Arc::new(AtomicBool::new(false));
        let (holding, first_held) = tokio::sync::oneshot::channel();
        let writer = tokio::spawn(hold_the_writer_until(store, Arc::clone(&stop), holding));
        first_held.await.unwrap();

        let session = SessionRow { id: "s1".to_owned(), data: "{}".to_owned(), expires_at: 10, account: None };
        let written = db.store.save_session(&session).await;
        let swept = db.store.delete_expired_sessions(20).await;
        stop.store(true, Ordering::Relaxed);
        let transactions = writer.await.unwrap();
        written.unwrap();
        assert_eq!(swept.unwrap(), 1);
        assert!(transactions >= 1, "the other writer committed {transactions} transactions");
    }

    /// SQLite: a write takes its connection from the write pool, which only the holder of
    /// the writer turn uses, never from the readers' pool. When it waited in the readers'
    /// queue (64 `startIndex` pages of a million users in flight, seconds each) it did so
    /// holding the turn, and every other writer waited behind it. PostgreSQL has no turn:
    /// its writes share the pool with the reads.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite_writes_do_not_wait_for_a_connection_that_readers_hold() {
        let db = TestDatabase::create(crate::Backend::Sqlite).await.unwrap();
        crate::testing::within_seconds(30, async {
            let crate::Pool::Sqlite(readers) = &db.store.pool else { panic!("not SQLite") };
            let mut held = Vec::new();
            for _ in 0..readers.options().get_max_connections() {
                held.push(readers.acquire().await.unwrap());
            }
            assert!(readers.try_acquire().is_none(), "the readers' pool has a connection left");

            let session = SessionRow { id: "s1".to_owned(), data: "{}".to_owned(), expires_at: 10, account: None };
            let written = tokio::time::timeout(Duration::from_secs(2), db.store.save_session(&session)).await;
            let tenant = crate::TenantId::from(uuid::Uuid::nil());
            let action = tokio::time::timeout(Duration::from_secs(2), async {
                db.store.tenant(tenant).begin_action().await?.finish().await
            })
            .await;
            drop(held);
            written.expect("the session's write waited for a reader's connection").unwrap();
            action.expect("the action waited for a reader's connection").unwrap();
        })
        .await;
    }

    /// Commits transactions of 100 ms, each in the writer turn, one after the other until
    /// `stop`; tells `holding` when the first holds the lock. Returns how many committed.
    async fn hold_the_writer_until(
        store: Store,
        stop: Arc<AtomicBool>,
        holding: tokio::sync::oneshot::Sender<()>,
    ) -> usize {
        const WRITE: &str = "INSERT INTO sessions (id, data, expires_at) VALUES ($1, '{}', 1000)";
        let mut holding = Some(holding);
        let mut committed = 0;
        while !stop.load(Ordering::Relaxed) {
            writing_on_pool!(store, pool => {
                let mut transaction = pool.begin().await.unwrap();
                sqlx::query(WRITE).bind(format!("other-{committed}")).execute(&mut *transaction).await.unwrap();
                if let Some(holding) = holding.take() {
                    holding.send(()).unwrap();
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
                transaction.commit().await.unwrap();
            });
            committed += 1;
        }
        committed
    }
}
