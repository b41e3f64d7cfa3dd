//! Server functions for the deployment status view.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::PortalError;

/// The deployment status as the page shows it (its own type, so that the browser bundle
/// does not depend on the server-only crates).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusReport {
    /// "SQLite" or "PostgreSQL".
    pub database: String,
    pub schema_version: i64,
    pub tenants: i64,
    pub version: String,
}

/// Reads the deployment status from the database.
#[server(endpoint = "deployment_status")]
pub async fn deployment_status() -> Result<StatusReport, PortalError> {
    let operator = crate::portal::Operator::require().await?;
    let status = service::deployment::status(operator.store())
        .await
        // The service logs the cause; the browser gets a readable message only.
        .map_err(|_| PortalError::Unavailable("The database is unavailable. Check the server log.".to_owned()))?;
    Ok(StatusReport {
        database: status.database,
        schema_version: status.schema_version,
        tenants: status.tenants,
        version: status.version,
    })
}
