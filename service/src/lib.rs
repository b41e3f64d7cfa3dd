//! Use cases shared by the SCIM handlers, the operator API and the portal's server
//! functions. Each public function is one use case; callers pass the [`store::Store`] and
//! receive typed results, never database errors.

pub mod admins;
pub mod api_keys;
pub mod audit;
pub mod deployment;
pub mod directories;
pub mod events;
pub mod onboarding;
pub mod operators;
pub mod provisioning;
pub mod self_test;
pub mod sso;
pub mod support;
pub mod tenants;
pub mod webhooks;

pub use store::{DirectoryId, IdentityProvider, OperatorRole, ResourceKind, Store, TenantId, TenantSlug, TokenId};

/// Why a use case failed, in terms a caller can act on.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The database is unreachable or failed; the detail is logged, not shown.
    #[error("the database is unavailable")]
    Unavailable(#[source] store::StoreError),
    /// A bug or an unexpected condition; the detail is logged, not shown.
    #[error("an internal error occurred")]
    Internal(String),
}

impl From<store::StoreError> for ServiceError {
    fn from(error: store::StoreError) -> Self {
        tracing::error!(%error, "storage failure");
        ServiceError::Unavailable(error)
    }
}
