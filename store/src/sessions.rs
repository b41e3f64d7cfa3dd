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
        Ok(on_pool!(&self.pool, pool => sqlx::query(query)
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
            on_pool!(&self.pool, pool => sqlx::query(QUERY).bind(account).bind(keep.map(stored_id)).execute(pool).await?.rows_affected()),
        )
    }

    pub async fn delete_session(&self, id: &str) -> Result<(), StoreError> {
        const QUERY: &str = "DELETE FROM sessions WHERE id = $1";
        on_pool!(&self.pool, pool => sqlx::query(QUERY).bind(stored_id(id)).execute(pool).await.map(drop)?);
        Ok(())
    }

    /// Deletes the access tokens of the client-credentials grant that expired before
    /// `before`, in every tenant (a maintenance sweep, like the sessions'); returns how
    /// many. Tokens an admin issued are kept.
    pub async fn delete_expired_access_tokens(&self, before: chrono::DateTime<chrono::Utc>) -> Result<u64, StoreError> {
        const QUERY: &str = "DELETE FROM directory_tokens WHERE oauth_client_id IS NOT NULL AND expires_at < $1";
        Ok(as_deployment!(self, conn => sqlx::query(QUERY).bind(before).execute(&mut *conn).await?.rows_affected()))
    }

    /// Deletes sessions that expired before `now` (unix seconds); returns how many.
    pub async fn delete_expired_sessions(&self, now: i64) -> Result<u64, StoreError> {
        const QUERY: &str = "DELETE FROM sessions WHERE expires_at <= $1";
        Ok(on_pool!(&self.pool, pool => sqlx::query(QUERY).bind(now).execute(pool).await?.rows_affected()))
    }
}
