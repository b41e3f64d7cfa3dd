//! Portal sign-in sessions: tower-sessions records kept in the database (so they survive
//! restarts and are shared by several server processes), and the cookie settings.

use async_trait::async_trait;
use service::session::{PageAccount, PortalSession};
use store::{SessionRow, Store};
use time::OffsetDateTime;
use tower_sessions::cookie::SameSite;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};
use tower_sessions::{Expiry, SessionManagerLayer};

/// A signed-in session ends after this much inactivity.
const IDLE_TIMEOUT: time::Duration = time::Duration::hours(12);

/// The session layer for the whole application. `secure` marks the cookie HTTPS-only; it is
/// on whenever the public URL is `https://`.
pub(crate) fn layer(store: Store, secure: bool) -> SessionManagerLayer<DatabaseSessionStore> {
    SessionManagerLayer::new(DatabaseSessionStore { store })
        .with_name("portal_session")
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(secure)
        .with_expiry(Expiry::OnInactivity(IDLE_TIMEOUT))
}

/// Stores session records in the `sessions` table.
#[derive(Debug, Clone)]
pub(crate) struct DatabaseSessionStore {
    store: Store,
}

impl DatabaseSessionStore {
    fn row(record: &Record) -> session_store::Result<SessionRow> {
        let data = serde_json::to_string(&record.data).map_err(|e| session_store::Error::Encode(e.to_string()))?;
        Ok(SessionRow {
            id: record.id.to_string(),
            data,
            expires_at: record.expiry_date.unix_timestamp(),
            account: service::session::account_key(&record.data),
        })
    }
}

fn backend(error: store::StoreError) -> session_store::Error {
    tracing::error!(%error, "session storage failed");
    session_store::Error::Backend("session storage is unavailable".into())
}

#[async_trait]
impl SessionStore for DatabaseSessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        // Ids are 128 random bits; a collision is practically impossible, but a new
        // session must never take over an existing one, so retry until the insert is new.
        loop {
            if self.store.insert_new_session(&Self::row(record)?).await.map_err(backend)? {
                return Ok(());
            }
            record.id = Id::default();
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        self.store.save_session(&Self::row(record)?).await.map_err(backend)
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let now = OffsetDateTime::now_utc().unix_timestamp();
        let Some(row) = self.store.load_session(&id.to_string(), now).await.map_err(backend)? else {
            return Ok(None);
        };
        let data = serde_json::from_str(&row.data).map_err(|e| session_store::Error::Decode(e.to_string()))?;
        let expiry_date = OffsetDateTime::from_unix_timestamp(row.expires_at)
            .map_err(|e| session_store::Error::Decode(e.to_string()))?;
        Ok(Some(Record { id: *id, data, expiry_date }))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.store.delete_session(&id.to_string()).await.map_err(backend)
    }
}

/// Every ten minutes until the server stops: deletes expired sessions, and the grant's
/// access tokens a day after they expire; enforces audit retention; signs a checkpoint of
/// every audit chain that moved.
pub(crate) fn spawn_expiry_sweeper(
    store: Store,
    clock: service::SharedClock,
    audit_signer: service::audit_checkpoints::AuditSigner,
    audit_retention_minimum_days: u32,
    metrics: super::PortalMetrics,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(600));
        loop {
            every.tick().await;
            let mut succeeded = true;
            let now = OffsetDateTime::now_utc().unix_timestamp();
            match store.delete_expired_sessions(now).await {
                Ok(0) => {}
                Ok(deleted) => tracing::debug!(deleted, "deleted expired sessions"),
                Err(error) => {
                    succeeded = false;
                    tracing::warn!(%error, "cannot delete expired sessions");
                }
            }
            let now = clock.now();
            match service::directories::sweep_expired_access_tokens(&store, now).await {
                Ok(0) => {}
                Ok(deleted) => tracing::debug!(deleted, "deleted expired OAuth access tokens"),
                Err(error) => {
                    succeeded = false;
                    tracing::warn!(%error, "cannot delete expired OAuth access tokens");
                }
            }
            // Audit retention: each tenant's records past its retention period (audited).
            let minimum = audit_retention_minimum_days;
            if let Err(error) = service::audit::enforce_retention(&store, &audit_signer, minimum, now).await {
                succeeded = false;
                tracing::warn!(%error, "cannot enforce audit retention");
            }
            match service::audit_checkpoints::checkpoint_all(&store, &audit_signer, now).await {
                Ok(0) => {}
                Ok(signed) => tracing::debug!(signed, "signed audit checkpoints"),
                Err(error) => {
                    succeeded = false;
                    tracing::warn!(%error, "cannot sign audit checkpoints");
                }
            }
            metrics.job_run(super::BackgroundJob::Sweeper, succeeded, clock.now());
        }
    })
}

/// Who is signed in, resolved for a portal page request before the page renders (pages
/// read it synchronously: [`PageAccount`]). Other requests (server functions,
/// bundle files, streams) read the session themselves when they need it.
pub(super) async fn resolve_page_account(
    mut request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let session = request.extensions().get::<tower_sessions::Session>().cloned();
    if let Some(session) = session.filter(|_| is_page_request(&request)) {
        match PortalSession::new(session).account().await {
            Ok(account) => {
                request.extensions_mut().insert(PageAccount(account));
            }
            Err(error) => {
                tracing::error!(%error, "reading the session of a page request failed");
                return super::render_guard::error_page(axum::http::StatusCode::SERVICE_UNAVAILABLE, None);
            }
        }
    }
    next.run(request).await
}

pub(super) fn is_page_request(request: &axum::extract::Request) -> bool {
    let path = request.uri().path();
    matches!(*request.method(), axum::http::Method::GET | axum::http::Method::HEAD)
        && !path.starts_with("/api/")
        && !path.starts_with("/pkg/")
}
