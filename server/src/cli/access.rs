//! Who gets in: setup links for a tenant's first admin, API keys for the vendor's product,
//! and the check that the audit trail of who did what is intact.

use serde_json::json;
use store::TenantSlug;

use super::{Command, print_json, print_lines};

/// `create-setup-link`: a one-time link for the tenant's IT admin.
pub(crate) async fn create_setup_link(
    cli: &Command<'_>,
    slug: &TenantSlug,
    valid_days: u32,
    json: bool,
) -> anyhow::Result<()> {
    let tenant = cli.tenant(slug).await?;
    let lifetime = chrono::Duration::days(i64::from(valid_days));
    let link = service::admins::create_setup_link(cli.store, tenant.id, &cli.actor(), lifetime, &cli.effects).await?;
    let url = link.url(cli.config.public_base());
    if json {
        let expires_at = link.expires_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        print_json(&json!({"id": link.id.to_string(), "url": url, "expires_at": expires_at}));
    } else {
        print_lines(&[
            format!("Setup link for {}: {url}", tenant.display_name),
            format!("It works once, until {} UTC.", link.expires_at.format("%Y-%m-%d %H:%M")),
        ]);
    }
    Ok(())
}

/// `create-api-key`: a key for the operator API.
pub(crate) async fn create_api_key(cli: &Command<'_>, label: String, json: bool) -> anyhow::Result<()> {
    let key = service::api_keys::issue_api_key(cli.store, label, &cli.effects).await?;
    let api_base_url = format!("{}/api/v1", cli.config.public_base());
    if json {
        print_json(&json!({"id": key.id.to_string(), "key": key.secret, "api_base_url": api_base_url}));
    } else {
        print_lines(&[
            format!("API key: {}", key.secret),
            format!("Base URL: {api_base_url} (OpenAPI: {}/api/openapi.json)", cli.config.public_base()),
            "The key is shown only now; only its digest is stored.".to_owned(),
        ]);
    }
    Ok(())
}

/// `verify-audit`: walks the tenant's hash chain; fails at the first break.
pub(crate) async fn verify_audit(cli: &Command<'_>, slug: &TenantSlug) -> anyhow::Result<()> {
    let tenant = cli.tenant(slug).await?;
    let report = service::audit::verify_chain(cli.store, tenant.id).await?;
    match report.first_break {
        None => {
            print_lines(&[format!("The audit trail of {slug} is intact: {} records.", report.checked)]);
            Ok(())
        }
        Some(broken) => anyhow::bail!(
            "the audit trail of {slug} is broken: {broken} ({} records before it are intact)",
            report.checked
        ),
    }
}
