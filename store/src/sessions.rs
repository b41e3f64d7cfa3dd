//! Storage for portal sign-in sessions. The HTTP layer owns the session format; this
//! module stores an opaque JSON document per session id with its expiry.

use crate::{Store, StoreError};

/// One stored session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    pub id: String,
    /// JSON object.
    pub data: String,
    /// Unix seconds.
    pub expires_at: i64,
}

impl Store {
    /// The session with this id, unless it has expired at `now` (unix seconds).
    pub async fn load_session(&self, id: &str, now: i64) -> Result<Option<SessionRow>, StoreError> {
        const QUERY: &str = "SELECT id, data, expires_at FROM sessions WHERE id = $1 AND expires_at > $2";
        let row: Option<(String, String, i64)> =
            on_pool!(&self.pool, pool => sqlx::query_as(QUERY).bind(id).bind(now).fetch_optional(pool).await?);
        Ok(row.map(|(id, data, expires_at)| SessionRow { id, data, expires_at }))
    }

    /// Inserts or replaces a session.
    pub async fn save_session(&self, session: &SessionRow) -> Result<(), StoreError> {
        const QUERY: &str = "INSERT INTO sessions (id, data, expires_at) VALUES ($1, $2, $3) \
             ON CONFLICT (id) DO UPDATE SET data = excluded.data, expires_at = excluded.expires_at";
        self.write_session(QUERY, session).await.map(drop)
    }

    /// Inserts a session only if its id is unused; returns whether it was inserted.
    pub async fn insert_new_session(&self, session: &SessionRow) -> Result<bool, StoreError> {
        const QUERY: &str =
            "INSERT INTO sessions (id, data, expires_at) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING";
        Ok(self.write_session(QUERY, session).await? == 1)
    }

    async fn write_session(&self, query: &'static str, session: &SessionRow) -> Result<u64, StoreError> {
        Ok(on_pool!(&self.pool, pool => sqlx::query(query)
            .bind(&session.id)
            .bind(&session.data)
            .bind(session.expires_at)
            .execute(pool)
            .await?
            .rows_affected()))
    }

    pub async fn delete_session(&self, id: &str) -> Result<(), StoreError> {
        const QUERY: &str = "DELETE FROM sessions WHERE id = $1";
        on_pool!(&self.pool, pool => sqlx::query(QUERY).bind(id).execute(pool).await.map(drop)?);
        Ok(())
    }

    /// Deletes the access tokens of the client-credentials grant that expired before
    /// `before`, in every tenant (a maintenance sweep, like the sessions'); returns how
    /// many. Tokens an admin issued are kept.
    pub async fn delete_expired_access_tokens(&self, before: chrono::DateTime<chrono::Utc>) -> Result<u64, StoreError> {
        const QUERY: &str = "DELETE FROM directory_tokens WHERE oauth_client_id IS NOT NULL AND expires_at < $1";
        Ok(on_pool!(&self.pool, pool => sqlx::query(QUERY).bind(before).execute(pool).await?.rows_affected()))
    }

    /// Deletes sessions that expired before `now` (unix seconds); returns how many.
    pub async fn delete_expired_sessions(&self, now: i64) -> Result<u64, StoreError> {
        const QUERY: &str = "DELETE FROM sessions WHERE expires_at <= $1";
        Ok(on_pool!(&self.pool, pool => sqlx::query(QUERY).bind(now).execute(pool).await?.rows_affected()))
    }
}
