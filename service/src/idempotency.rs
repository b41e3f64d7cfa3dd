//! Idempotent POSTs of the WorkOS-compatible API: the official SDKs send an
//! `Idempotency-Key` with every POST and the same key again with each retry, so a retry
//! after a lost answer gets the first answer instead of a second link or endpoint. The
//! answer is kept for [`KEEP_ANSWERS_FOR`]; the same key with a different request is
//! refused.

use chrono::{DateTime, Duration, Utc};
use sha2::{Digest, Sha256};
use store::{ApiKeyId, Reservation, Store};

use crate::ServiceError;

/// How long an answer is given again.
pub const KEEP_ANSWERS_FOR: Duration = Duration::hours(24);
/// The longest key accepted.
pub const MAX_KEY_LENGTH: usize = 255;

/// What identifies a request besides its key: method, path with query, and body.
pub fn request_digest(method: &str, path_and_query: &str, body: &[u8]) -> [u8; 32] {
    let mut hash = Sha256::new();
    for part in [method.as_bytes(), b"\n", path_and_query.as_bytes(), b"\n", body] {
        hash.update(part);
    }
    hash.finalize().into()
}

/// Reserves `key` of `api_key` for the request with `digest`.
pub async fn reserve(
    store: &Store,
    api_key: ApiKeyId,
    key: &str,
    digest: &[u8; 32],
    now: DateTime<Utc>,
) -> Result<Reservation, ServiceError> {
    Ok(store.reserve_idempotency_key(api_key, key, digest, now, now - KEEP_ANSWERS_FOR).await?)
}

/// Keeps the answer to the request that reserved `key`.
pub async fn keep(store: &Store, api_key: ApiKeyId, key: &str, status: u16, body: &str) -> Result<(), ServiceError> {
    Ok(store.keep_idempotent_answer(api_key, key, status, body).await?)
}

/// Frees `key` after its request failed.
pub async fn release(store: &Store, api_key: ApiKeyId, key: &str) -> Result<(), ServiceError> {
    Ok(store.release_idempotency_key(api_key, key).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_digest_tells_requests_apart_by_method_path_and_body() {
        let digest = request_digest("POST", "/portal/generate_link", b"{}");
        assert_eq!(digest, request_digest("POST", "/portal/generate_link", b"{}"));
        assert_ne!(digest, request_digest("POST", "/portal/generate_link", b"{ }"));
        assert_ne!(digest, request_digest("POST", "/webhook_endpoints", b"{}"));
        assert_ne!(digest, request_digest("PATCH", "/portal/generate_link", b"{}"));
    }
}
