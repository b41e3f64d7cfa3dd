//! The background worker that re-derives users (see `provisioning`'s republish): after the
//! operator changes a role, a tenant's admin changes a directory's attribute mapping or
//! group roles, or a group that grants roles gains or loses members. Work is found across
//! tenants; each batch is one transaction with the directory locked, so several server
//! processes may run the worker at once without publishing a change twice, and a pass
//! interrupted by a restart goes on from its cursor.

use store::Store;

use crate::ServiceError;
use crate::effects::Effects;
use crate::provisioning::portal_endpoint;

/// Users per transaction: large enough that 100,000 users take seconds, small enough that
/// SCIM writes to the directory wait at most one batch.
pub const BATCH: usize = 500;

/// Batches per directory per call, so that one large directory does not hold up the others.
const BATCHES_PER_DIRECTORY: usize = 20;

const DOING: &str = "re-deriving users";

/// Re-derives pending users of every directory with work, up to a budget per directory;
/// answers how many users it examined (0: nothing was pending).
pub async fn republish_pending(store: &Store, public_base: &str, effects: &Effects) -> Result<usize, ServiceError> {
    let mut examined = 0;
    for (tenant, directory) in store.republish_work(100).await? {
        let base_url = format!("{public_base}/scim/v2/{directory}");
        // A fresh endpoint per directory reads the mapping and roles in force now.
        let endpoint = portal_endpoint(store, tenant, directory, base_url).await;
        let Some(endpoint) = endpoint.map_err(|error| error.into_service_error(DOING))? else {
            continue;
        };
        for _ in 0..BATCHES_PER_DIRECTORY {
            let outcome = endpoint
                .republish_batch(effects.now(), BATCH)
                .await
                .map_err(|error| error.into_service_error(DOING))?;
            examined += outcome.examined;
            if !outcome.more {
                break;
            }
        }
    }
    Ok(examined)
}
