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
    CreateDirectory { path: PathBuf, source: std::io::Error },
    /// A migration failed or the database holds migrations this build does not know.
    #[error("database migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// A uniqueness constraint refused the write; the message says which.
    #[error("{0}")]
    Conflict(&'static str),
    /// The resource (or the directory it was looked up in) does not exist.
    #[error("no such resource")]
    NotFound,
    /// The resource has changed since the version the write was based on.
    #[error("the resource is at version {current}")]
    VersionMismatch { current: i64 },
    /// Group members that are not resources of the group's directory (or the group itself).
    #[error("unknown members: {}", .0.join(", "))]
    UnknownMembers(Vec<String>),
    /// A non-human identity's owner is not another user of its directory.
    #[error("unknown owner: {0}")]
    UnknownOwner(String),
    /// A stored value does not decode (a bug or a hand-edited database).
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// The database could not be reached or answered with an error.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

impl StoreError {
    /// Maps a unique-constraint violation to [`StoreError::Conflict`], anything else to
    /// [`StoreError::Database`]. Constraints are mapped here, where they arise, so callers
    /// never inspect database errors.
    pub(crate) fn on_unique_violation(error: sqlx::Error, conflict: &'static str) -> Self {
        match &error {
            sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict(conflict),
            _ => StoreError::Database(error),
        }
    }

    /// A foreign key refused the write (a reference to a row that does not exist):
    /// `Conflict` with `conflict`.
    pub(crate) fn on_foreign_key_violation(error: sqlx::Error, conflict: &'static str) -> Self {
        match &error {
            sqlx::Error::Database(db) if db.is_foreign_key_violation() => StoreError::Conflict(conflict),
            _ => StoreError::Database(error),
        }
    }
}
