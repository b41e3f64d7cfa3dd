//! Server functions for the deployment status view.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

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
pub async fn deployment_status() -> Result<StatusReport, ServerFnError> {
    // Contexts first: after an `.await`, a server-rendered resource may no longer see them.
    let store = expect_context::<service::Store>();
    crate::auth::require_operator().await?;
    match service::deployment::status(&store).await {
        Ok(status) => Ok(StatusReport {
            database: status.database,
            schema_version: status.schema_version,
            tenants: status.tenants,
            version: status.version,
        }),
        // The service logs the cause; the browser gets a readable message only.
        Err(_) => Err(ServerFnError::new("The database is unavailable. Check the server log.")),
    }
}
