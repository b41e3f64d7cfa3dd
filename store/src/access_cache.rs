//! Verified directory credentials, kept in memory for a few seconds.
//!
//! Every SCIM request starts by looking up its bearer token, its directory and the
//! directory's extensions. Reading them from the database on every request doubled the
//! round trips of a `GET /Users/{id}`, so a found token is kept here for
//! [`StoreOptions::credential_cache_ttl`](crate::StoreOptions) and checked in memory
//! (expiry and revocation times are still compared with the request's clock by the caller).
//!
//! What keeps the cache honest:
//! - Every write to what it holds goes through the store, which evicts the directory here
//!   at once (revocation, new extensions) or updates the entry (last use).
//! - On PostgreSQL those writes also `NOTIFY` [`CHANNEL`] in the same statement, and every
//!   server process listens, so a token revoked by one process stops working on the others
//!   within a network round trip. While the listener is disconnected notifications may be
//!   lost, so the cache is emptied whenever it (re)connects.
//! - Entries expire after the TTL regardless, which bounds staleness where no notification
//!   can arrive (several processes on one SQLite file).
//! - Only tokens that exist are cached: unknown tokens always reach the database, so random
//!   guesses cannot grow the map.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use crate::ids::DirectoryId;
use crate::{DirectoryAccess, TokenId};

/// The PostgreSQL channel on which credential changes are announced; the payload is the
/// directory id.
pub(crate) const CHANNEL: &str = "scim_directory_access";

/// Above this many entries, expired ones are swept before another is added.
const SWEEP_ABOVE: usize = 4096;

type Key = (DirectoryId, [u8; 32]);

#[derive(Debug)]
pub(crate) struct AccessCache {
    ttl: Duration,
    entries: Mutex<HashMap<Key, Entry>>,
    /// Bumped by every eviction. A lookup that started before an eviction does not insert
    /// what it read, since that may be the state the eviction was about.
    generation: AtomicU64,
}

#[derive(Debug)]
struct Entry {
    access: DirectoryAccess,
    loaded_at: Instant,
}

impl AccessCache {
    pub(crate) fn new(ttl: Duration) -> Self {
        Self { ttl, entries: Mutex::default(), generation: AtomicU64::new(0) }
    }

    /// The generation to hand back to [`insert`](Self::insert) after reading the database.
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    pub(crate) fn get(&self, directory: DirectoryId, digest: &[u8; 32]) -> Option<DirectoryAccess> {
        if self.ttl.is_zero() {
            return None;
        }
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries
            .get(&(directory, *digest))
            .filter(|entry| entry.loaded_at.elapsed() < self.ttl)
            .map(|e| e.access.clone())
    }

    /// Keeps what a lookup read, unless something was evicted since it started.
    pub(crate) fn insert(&self, read_at_generation: u64, digest: &[u8; 32], access: &DirectoryAccess) {
        if self.ttl.is_zero() {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if self.generation.load(Ordering::Acquire) != read_at_generation {
            return;
        }
        if entries.len() >= SWEEP_ABOVE {
            entries.retain(|_, entry| entry.loaded_at.elapsed() < self.ttl);
        }
        entries.insert((access.directory.id, *digest), Entry { access: access.clone(), loaded_at: Instant::now() });
    }

    /// Forgets everything about one directory's credentials.
    pub(crate) fn evict_directory(&self, directory: DirectoryId) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        self.generation.fetch_add(1, Ordering::AcqRel);
        entries.retain(|(cached, _), _| *cached != directory);
    }

    pub(crate) fn clear(&self) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        self.generation.fetch_add(1, Ordering::AcqRel);
        entries.clear();
    }

    /// Keeps a cached token's last use in step with the database, so the caller's "write
    /// the last use at most once a minute" sees the write it just made.
    pub(crate) fn mark_used(&self, token: TokenId, at: DateTime<Utc>) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        for entry in entries.values_mut().filter(|entry| entry.access.token.id == token) {
            entry.access.token.last_used_at = Some(at);
        }
    }
}

/// Evicts what other processes announce on [`CHANNEL`], until the store is dropped or
/// closed. The listener has a connection of its own, outside the store's pool, so that it
/// takes nothing from the pool's capacity.
pub(crate) fn listen_for_changes(connect: sqlx::postgres::PgConnectOptions, cache: Weak<AccessCache>) -> ListenerTask {
    let pool = sqlx::postgres::PgPoolOptions::new().max_connections(1).connect_lazy_with(connect);
    ListenerTask(tokio::spawn(async move {
        loop {
            match listen_once(&pool, &cache).await {
                Ok(()) => return,
                Err(error) => {
                    tracing::warn!(%error, "lost the credential-change listener; the credential cache is bypassed until it is back");
                    if let Some(cache) = cache.upgrade() {
                        cache.clear();
                    }
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    }))
}

/// Listens until the cache is gone (`Ok`) or the connection fails (`Err`).
async fn listen_once(pool: &sqlx::PgPool, cache: &Weak<AccessCache>) -> Result<(), sqlx::Error> {
    let mut listener = sqlx::postgres::PgListener::connect_with(pool).await?;
    listener.listen(CHANNEL).await?;
    // Anything announced before LISTEN took effect was missed.
    match cache.upgrade() {
        Some(cache) => cache.clear(),
        None => return Ok(()),
    }
    loop {
        let notification = listener.try_recv().await?;
        let Some(cache) = cache.upgrade() else { return Ok(()) };
        match notification.map(|n| n.payload().parse::<DirectoryId>()) {
            Some(Ok(directory)) => cache.evict_directory(directory),
            // A payload we cannot read: forget everything rather than guess.
            Some(Err(_)) => cache.clear(),
            // The connection dropped and `try_recv` reconnects: we may have missed some.
            None => cache.clear(),
        }
    }
}

/// Stops the listener when the last handle of the store is dropped.
#[derive(Debug)]
pub(crate) struct ListenerTask(tokio::task::JoinHandle<()>);

impl ListenerTask {
    pub(crate) fn stop(&self) {
        self.0.abort();
    }
}

impl Drop for ListenerTask {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The listener's handle, shared by the store's clones.
pub(crate) type SharedListener = Option<Arc<ListenerTask>>;
