//! `DATABASE_URL` parsing: the URL's scheme picks the backend.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use crate::StoreError;

/// The two supported databases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// The product name, for status pages and logs.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A database URL whose scheme names a supported backend:
/// `sqlite:data/portal.db`, `sqlite://data/portal.db`, `postgres://user@host/db`.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl {
    url: String,
    backend: Backend,
}

impl DatabaseUrl {
    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn as_str(&self) -> &str {
        &self.url
    }

    /// The folder that must exist before SQLite can create the file, if any.
    pub(crate) fn sqlite_parent_dir(&self) -> Option<PathBuf> {
        if self.backend != Backend::Sqlite {
            return None;
        }
        let rest = self.url.strip_prefix("sqlite:")?;
        let rest = rest.strip_prefix("//").unwrap_or(rest);
        let path = rest.split('?').next().unwrap_or(rest);
        if path.is_empty() || path == ":memory:" {
            return None;
        }
        let parent = PathBuf::from(path).parent()?.to_path_buf();
        (!parent.as_os_str().is_empty()).then_some(parent)
    }
}

impl FromStr for DatabaseUrl {
    type Err = StoreError;

    fn from_str(url: &str) -> Result<Self, Self::Err> {
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            return Err(StoreError::UnsupportedUrl { url: redact(url) });
        };
        Ok(Self { url: url.to_owned(), backend })
    }
}

/// Debug output must not print a password embedded in the URL.
impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("DatabaseUrl").field(&redact(&self.url)).finish()
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&redact(&self.url))
    }
}

/// Replaces the password of `scheme://user:password@host` with `***`.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let Some((credentials, host)) = rest.split_once('@') else {
        return url.to_owned();
    };
    match credentials.split_once(':') {
        Some((user, _password)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_and_postgres_schemes_select_their_backend() {
        let sqlite: DatabaseUrl = "sqlite:data/portal.db".parse().unwrap();
        let postgres: DatabaseUrl = "postgresql://app@db/portal".parse().unwrap();
        assert_eq!(sqlite.backend(), Backend::Sqlite);
        assert_eq!(postgres.backend(), Backend::Postgres);
    }

    #[test]
    fn other_schemes_are_rejected_without_echoing_the_password() {
        let error = "mysql://root:hunter2@db/x".parse::<DatabaseUrl>().unwrap_err();
        let message = error.to_string();
        assert!(message.contains("mysql://root:***@db/x"), "{message}");
        assert!(!message.contains("hunter2"), "{message}");
    }

    #[test]
    fn display_hides_the_postgres_password() {
        let url: DatabaseUrl = "postgres://app:s3cret@127.0.0.1:5432/portal".parse().unwrap();
        assert_eq!(url.to_string(), "postgres://app:***@127.0.0.1:5432/portal");
    }

    #[test]
    fn sqlite_parent_dir_is_the_folder_of_the_file() {
        let url: DatabaseUrl = "sqlite://data/sub/portal.db?mode=rwc".parse().unwrap();
        assert_eq!(url.sqlite_parent_dir(), Some(PathBuf::from("data/sub")));
        let bare: DatabaseUrl = "sqlite:portal.db".parse().unwrap();
        assert_eq!(bare.sqlite_parent_dir(), None);
        let memory: DatabaseUrl = "sqlite::memory:".parse().unwrap();
        assert_eq!(memory.sqlite_parent_dir(), None);
    }
}
