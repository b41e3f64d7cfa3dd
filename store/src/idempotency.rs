//! Answers to POSTs by their `Idempotency-Key` (migration 0021): the first request with a
//! key reserves it, its answer is kept, and a retry with the same key gets that answer.

use chrono::{DateTime, Utc};

use crate::ids::ApiKeyId;
use crate::{Store, StoreError};

/// What a request with an idempotency key may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reservation {
    /// The key is new: answer the request, then [`Store::keep_idempotent_answer`] (or
    /// [`Store::release_idempotency_key`] when it failed).
    Reserved,
    /// The key answered this request before: send that answer again.
    Answered { status: u16, body: String },
    /// The first request with the key is still being answered.
    InProgress,
    /// The key was used for a different request.
    Mismatch,
}

impl Store {
    /// Reserves `key` of `api_key` for the request with `digest`, forgetting that key's
    /// answers older than `expired_before`.
    pub async fn reserve_idempotency_key(
        &self,
        api_key: ApiKeyId,
        key: &str,
        digest: &[u8; 32],
        now: DateTime<Utc>,
        expired_before: DateTime<Utc>,
    ) -> Result<Reservation, StoreError> {
        const FORGET: &str = "DELETE FROM idempotent_requests WHERE api_key_id = $1 AND created_at < $2";
        const RESERVE: &str = "INSERT INTO idempotent_requests (api_key_id, idempotency_key, request_digest, created_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (api_key_id, idempotency_key) DO NOTHING";
        const READ: &str = "SELECT request_digest, status, body FROM idempotent_requests \
             WHERE api_key_id = $1 AND idempotency_key = $2";
        let reserved = writing_on_pool!(self, pool => {
            sqlx::query(FORGET).bind(api_key).bind(expired_before).execute(pool).await?;
            sqlx::query(RESERVE).bind(api_key).bind(key).bind(&digest[..]).bind(now).execute(pool).await?.rows_affected()
        });
        if reserved == 1 {
            return Ok(Reservation::Reserved);
        }
        // A read of the committed row: outside the writer turn, on the readers' pool.
        let row: Option<(Vec<u8>, Option<i32>, Option<String>)> =
            on_pool!(&self.pool, pool => sqlx::query_as(READ).bind(api_key).bind(key).fetch_optional(pool).await?);
        Ok(match row {
            // Released between the insert and the read: the caller may try again.
            None => Reservation::InProgress,
            Some((stored, _, _)) if stored != digest[..] => Reservation::Mismatch,
            Some((_, Some(status), Some(body))) => {
                let status = u16::try_from(status).map_err(|_| StoreError::Corrupt(format!("status {status}")))?;
                Reservation::Answered { status, body }
            }
            Some(_) => Reservation::InProgress,
        })
    }

    /// Keeps the answer to the request that reserved `key`.
    pub async fn keep_idempotent_answer(
        &self,
        api_key: ApiKeyId,
        key: &str,
        status: u16,
        body: &str,
    ) -> Result<(), StoreError> {
        const QUERY: &str =
            "UPDATE idempotent_requests SET status = $3, body = $4 WHERE api_key_id = $1 AND idempotency_key = $2";
        writing_on_pool!(self, pool => sqlx::query(QUERY)
            .bind(api_key)
            .bind(key)
            .bind(i32::from(status))
            .bind(body)
            .execute(pool)
            .await
            .map(drop))?;
        Ok(())
    }

    /// Frees `key` after its request failed, so that a retry runs it again.
    pub async fn release_idempotency_key(&self, api_key: ApiKeyId, key: &str) -> Result<(), StoreError> {
        const QUERY: &str =
            "DELETE FROM idempotent_requests WHERE api_key_id = $1 AND idempotency_key = $2 AND status IS NULL";
        writing_on_pool!(self, pool => sqlx::query(QUERY).bind(api_key).bind(key).execute(pool).await.map(drop))?;
        Ok(())
    }
}
