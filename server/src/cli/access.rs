//! Who gets in: setup links for a tenant's first admin, API keys for the vendor's product,
//! and the check that the audit trail of who did what is intact.

use anyhow::Context as _;
use serde_json::json;
use service::api_keys::{self, ApiArea, ApiKeyRequest, ApiKeyScopes};
use store::TenantSlug;

use super::{Command, print_json, print_lines, rfc3339};

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
        let expires_at = rfc3339(link.expires_at);
        print_json(&json!({"id": link.id.to_string(), "url": url, "expires_at": expires_at}));
    } else {
        print_lines(&[
            format!("Setup link for {}: {url}", tenant.display_name),
            format!("It works once, until {} UTC.", link.expires_at.format("%Y-%m-%d %H:%M")),
        ]);
    }
    Ok(())
}

/// What `create-api-key` was asked for.
pub(crate) struct KeyRequest {
    pub(crate) label: String,
    /// None: every area.
    pub(crate) areas: Vec<String>,
    pub(crate) read_only: bool,
    pub(crate) expires_in_days: Option<i64>,
}

/// `create-api-key`: a key for the operator API.
pub(crate) async fn create_api_key(cli: &Command<'_>, asked: KeyRequest, json: bool) -> anyhow::Result<()> {
    let areas = if asked.areas.is_empty() {
        ApiArea::ALL.to_vec()
    } else {
        api_keys::parse_areas(asked.areas.iter().map(String::as_str)).map_err(anyhow::Error::msg)?
    };
    let expires_at = api_keys::expiry_after_days(asked.expires_in_days, cli.now())?;
    let request = ApiKeyRequest { label: asked.label, scopes: ApiKeyScopes::new(areas, asked.read_only), expires_at };
    let issued = api_keys::issue_api_key(cli.store, request, None, &cli.actor(), &cli.effects).await?;
    let api_base_url = format!("{}/api/v1", cli.config.public_base());
    let key = &issued.key;
    if json {
        print_json(&json!({
            "id": issued.id.to_string(),
            "key": issued.secret,
            "api_base_url": api_base_url,
            "areas": key.scopes.areas,
            "read_only": key.scopes.read_only,
            "expires_at": key.expires_at.map(rfc3339),
        }));
    } else {
        print_lines(&[
            format!("API key: {}", issued.secret),
            format!("Reaches: {}; {}.", key.scopes.in_words(), expiry_words(key.expires_at)),
            format!("Base URL: {api_base_url} (OpenAPI: {}/api/openapi.json)", cli.config.public_base()),
            "The key is shown only now; only its digest is stored.".to_owned(),
        ]);
    }
    Ok(())
}

fn expiry_words(expires_at: Option<chrono::DateTime<chrono::Utc>>) -> String {
    expires_at.map_or_else(|| "does not expire".to_owned(), |at| format!("expires {}", at.format("%Y-%m-%d %H:%M UTC")))
}

/// `list-api-keys`: every key with its reach, state and last use.
pub(crate) async fn list_api_keys(cli: &Command<'_>, json: bool) -> anyhow::Result<()> {
    let keys = api_keys::list_api_keys(cli.store).await?;
    let now = cli.now();
    let time = |at: Option<chrono::DateTime<chrono::Utc>>| at.map(rfc3339);
    if json {
        let listed: Vec<serde_json::Value> = keys
            .iter()
            .map(|key| {
                json!({
                    "id": key.id.to_string(),
                    "label": key.label,
                    "areas": key.scopes.areas,
                    "read_only": key.scopes.read_only,
                    "state": key.state(now).as_str(),
                    "created_at": time(Some(key.created_at)),
                    "expires_at": time(key.expires_at),
                    "revoked_at": time(key.revoked_at),
                    "last_used_at": time(key.last_used_at),
                })
            })
            .collect();
        print_json(&serde_json::Value::Array(listed));
        return Ok(());
    }
    if keys.is_empty() {
        print_lines(&["No API keys; issue one with `server admin create-api-key`.".to_owned()]);
        return Ok(());
    }
    let lines: Vec<String> = keys
        .iter()
        .map(|key| {
            let used = key
                .last_used_at
                .map_or_else(|| "never used".to_owned(), |at| format!("last used {}", at.format("%Y-%m-%d %H:%M UTC")));
            format!(
                "{}  {:<7}  {}  [{}]  {}, {used}",
                key.id,
                key.state(now).as_str(),
                key.label,
                key.scopes.in_words(),
                expiry_words(key.expires_at),
            )
        })
        .collect();
    print_lines(&lines);
    Ok(())
}

/// `revoke-api-key`: the key's next request is refused.
pub(crate) async fn revoke_api_key(cli: &Command<'_>, id: store::ApiKeyId) -> anyhow::Result<()> {
    if api_keys::revoke_api_key(cli.store, id, &cli.actor(), cli.now()).await? {
        print_lines(&[format!("Revoked API key {id}: its next request is refused.")]);
    } else {
        print_lines(&[format!("API key {id} was already revoked.")]);
    }
    Ok(())
}

/// `verify-audit`: walks the tenant's hash chain and checks its signed checkpoints (kept
/// ones, or an exported file); fails at the first break.
pub(crate) async fn verify_audit(
    cli: &Command<'_>,
    slug: &TenantSlug,
    exported: Option<&std::path::Path>,
) -> anyhow::Result<()> {
    let tenant = cli.tenant(slug).await?;
    let report = service::audit::verify_chain(cli.store, tenant.id).await?;
    if let Some(broken) = report.first_break {
        anyhow::bail!(
            "the audit trail of {slug} is broken: {broken} ({} records before it are intact)",
            report.checked
        );
    }
    let trusted = cli.config.audit_trusted_keys()?;
    let signed = match exported {
        None => service::audit_checkpoints::verify_kept_checkpoints(cli.store, tenant.id, &trusted).await?,
        Some(path) => {
            let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
            let mut checkpoints = Vec::new();
            for (number, line) in text.lines().enumerate().filter(|(_, line)| !line.trim().is_empty()) {
                let value: serde_json::Value = serde_json::from_str(line)
                    .with_context(|| format!("{} line {}: not JSON", path.display(), number + 1))?;
                let checkpoint = service::audit_checkpoints::checkpoint_from_json(&value)
                    .map_err(|reason| anyhow::anyhow!("{} line {}: {reason}", path.display(), number + 1))?;
                checkpoints.push(checkpoint);
            }
            service::audit_checkpoints::verify_checkpoints(cli.store, tenant.id, &trusted, &checkpoints).await?
        }
    };
    if let Some(problem) = signed.problems.first() {
        anyhow::bail!(
            "the audit trail of {slug} does not match its signed checkpoints: {problem} ({} problems in all)",
            signed.problems.len()
        );
    }
    let checkpoints = match signed.latest {
        Some((seq, at)) => format!(
            "{} signed checkpoints match, the newest up to record {seq} ({})",
            signed.verified + signed.before_kept_start,
            rfc3339(at)
        ),
        None => "no signed checkpoint yet".to_owned(),
    };
    print_lines(&[format!("The audit trail of {slug} is intact: {} records; {checkpoints}.", report.checked)]);
    Ok(())
}

/// `audit-public-key`: the keys checkpoints are checked against, one a line.
pub(crate) fn audit_public_key(cli: &Command<'_>) -> anyhow::Result<()> {
    cli.config.audit_signer(&cli.effects)?;
    let lines: Vec<String> = cli
        .config
        .audit_trusted_keys()?
        .iter()
        .map(|key| format!("Ed25519 {} (key id {})", key.to_base64(), key.key_id()))
        .collect();
    print_lines(&lines);
    Ok(())
}
