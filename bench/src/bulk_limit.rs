//! What a SCIM service allows in one Bulk request, read as an identity provider reads it.
//! Shared by the load generator and the hostile client (`#[path]` there: it is a binary of
//! its own).

use anyhow::Context as _;
use serde_json::Value;

/// `bulk.maxOperations` of the SCIM service at `base`, from its ServiceProviderConfig.
pub(crate) async fn bulk_max_operations(client: &reqwest::Client, base: &str, token: &str) -> anyhow::Result<usize> {
    let config: Value =
        client.get(format!("{base}/ServiceProviderConfig")).bearer_auth(token).send().await?.json().await?;
    config["bulk"]["maxOperations"]
        .as_u64()
        .and_then(|n| usize::try_from(n).ok())
        .filter(|&n| n > 0)
        .with_context(|| format!("no bulk.maxOperations in the ServiceProviderConfig: {config}"))
}
