//! The operator's view of the deployment as a whole.

use serde::{Deserialize, Serialize};
use store::Store;

use crate::ServiceError;

/// What the status page reports about the running deployment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeploymentStatus {
    /// "SQLite" or "PostgreSQL".
    pub database: String,
    /// The newest database migration applied.
    pub schema_version: i64,
    /// How many tenants (the operator's customers) exist.
    pub tenants: i64,
    /// The version of this build.
    pub version: String,
}

/// Reads the deployment's status from the database.
pub async fn status(store: &Store) -> Result<DeploymentStatus, ServiceError> {
    let overview = store.deployment_overview().await?;
    Ok(DeploymentStatus {
        database: overview.backend.name().to_owned(),
        schema_version: overview.schema_version,
        tenants: overview.tenant_count,
        version: env!("CARGO_PKG_VERSION").to_owned(),
    })
}
