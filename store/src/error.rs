//! The storage layer's error type. Database error text stays here and in the logs; callers
//! match on variants, never on `sqlx::Error`.

use std::path::PathBuf;

/// Why a storage operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// `DATABASE_URL` is not a `sqlite:` or `postgres://` URL.
    #[error("unsupported database URL {url:?}: expected sqlite:<path> or postgres://…")]
    UnsupportedUrl { url: String },
    /// The folder for the SQLite file could not be created.
    #[error("cannot create the database folder {path}: {source}")]
    CreateDirectory {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A migration failed or the database holds migrations this build does not know.
    #[error("database migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// The database could not be reached or answered with an error.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}
