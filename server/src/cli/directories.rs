//! Directories: create, configure, extend, and give OAuth clients.

use std::path::Path;

use anyhow::Context as _;
use serde_json::json;
use service::directories::{NewDirectory, SettingsChange};
use store::{DirectoryId, IdentityProvider, ResourceKind, TenantSlug};

use super::{Command, print_json, print_lines, rfc3339};

/// The settings a command line gives; what it leaves out keeps its value (or default).
pub(crate) struct Settings {
    pub(crate) rate_limit_per_second: Option<u32>,
    pub(crate) strict_attributes: Option<bool>,
    pub(crate) nonhuman_extension: Option<bool>,
}

impl From<Settings> for SettingsChange {
    fn from(settings: Settings) -> Self {
        SettingsChange {
            rate_limit_per_second: settings.rate_limit_per_second,
            strict_attributes: settings.strict_attributes,
            nonhuman_extension: settings.nonhuman_extension,
        }
    }
}

/// `create-directory`: the tenant (created if missing), the directory and its first token.
pub(crate) async fn create(
    cli: &Command<'_>,
    slug: &TenantSlug,
    idp: IdentityProvider,
    token_label: String,
    settings: Settings,
    json: bool,
) -> anyhow::Result<()> {
    let tenant = service::directories::ensure_tenant(cli.store, slug, &cli.actor(), &cli.effects).await?;
    let settings = SettingsChange::from(settings).applied_to(store::DirectorySettings::default());
    let new = NewDirectory { idp, settings, first_token: Some(token_label) };
    let (directory, token) =
        service::directories::add_directory(cli.store, tenant.id, new, None, &cli.actor(), &cli.effects).await?;
    let token = token.context("the directory was created without its token")?;
    let scim_base_url = format!("{}/scim/v2/{}", cli.config.public_base(), directory.id);
    if json {
        print_json(&json!({
            "tenant": tenant.slug.as_str(),
            "tenant_id": tenant.id.to_string(),
            "directory": directory.id.to_string(),
            "idp": idp.as_str(),
            "scim_base_url": scim_base_url,
            "token": token.secret,
        }));
    } else {
        print_lines(&[
            format!("Created a {} directory for tenant {}.", idp.display_name(), tenant.slug),
            format!("SCIM base URL: {scim_base_url}"),
            format!("Bearer token:  {}", token.secret),
            "The token is shown only now; only its digest is stored.".to_owned(),
        ]);
    }
    Ok(())
}

/// `configure-directory`: rate limit, unknown-attribute policy, non-human identity extension.
pub(crate) async fn configure(
    cli: &Command<'_>,
    slug: &TenantSlug,
    directory: DirectoryId,
    settings: Settings,
) -> anyhow::Result<()> {
    let tenant = cli.tenant(slug).await?;
    let change = SettingsChange::from(settings);
    let settings =
        service::directories::configure_directory(cli.store, tenant.id, directory, change, &cli.actor(), cli.now())
            .await?
            .with_context(|| format!("tenant {slug} has no directory {directory}"))?;
    let policy = if settings.strict_attributes { "strict" } else { "preserve" };
    let extension = if settings.nonhuman_extension { "on" } else { "off" };
    print_lines(&[format!(
        "Directory {directory}: {} requests per second, unknown attributes {policy}, \
         non-human identity extension {extension}.",
        settings.rate_limit_per_second
    )]);
    Ok(())
}

/// `define-extension`: a custom schema extension from an RFC 7643 §7 JSON file.
pub(crate) async fn define_extension(
    cli: &Command<'_>,
    slug: &TenantSlug,
    directory: DirectoryId,
    resource_type: ResourceKind,
    required: bool,
    schema: &Path,
) -> anyhow::Result<()> {
    let tenant = cli.tenant(slug).await?;
    let text = std::fs::read_to_string(schema).with_context(|| format!("reading {}", schema.display()))?;
    let definition: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("{} is not JSON", schema.display()))?;
    let (actor, now) = (cli.actor(), cli.now());
    let extension = service::provisioning::ExtensionDefinition { resource_type, required, schema: definition };
    let urn = service::provisioning::define_extension(cli.store, tenant.id, directory, extension, &actor, now)
        .await
        .map_err(|error| match error {
            service::provisioning::ProvisioningError::Protocol(error) => anyhow::anyhow!("{}", error.detail()),
            service::provisioning::ProvisioningError::Service(error) => anyhow::anyhow!(error),
        })?;
    print_lines(&[format!("Defined {urn} for the {} of directory {directory}.", resource_type.as_str())]);
    Ok(())
}

/// `create-oauth-client`: client credentials for identity providers that fetch tokens.
pub(crate) async fn create_oauth_client(
    cli: &Command<'_>,
    slug: &TenantSlug,
    directory: DirectoryId,
    label: String,
    json: bool,
) -> anyhow::Result<()> {
    let tenant = cli.tenant(slug).await?;
    let client =
        service::directories::issue_oauth_client(cli.store, tenant.id, directory, label, &cli.actor(), &cli.effects)
            .await?
            .with_context(|| format!("tenant {slug} has no directory {directory}"))?;
    let token_url = format!("{}/oauth/token", cli.config.public_base());
    if json {
        print_json(&json!({
            "client_id": client.client_id,
            "client_secret": client.secret,
            "token_url": token_url,
            "scim_base_url": format!("{}/scim/v2/{directory}", cli.config.public_base()),
        }));
    } else {
        print_lines(&[
            format!("Client id:     {}", client.client_id),
            format!("Client secret: {}", client.secret),
            format!("Token URL:     {token_url} (grant_type=client_credentials)"),
            "The secret is shown only now; only its digest is stored.".to_owned(),
        ]);
    }
    Ok(())
}

/// `list-oauth-clients`: a directory's clients, never a secret.
pub(crate) async fn list_oauth_clients(
    cli: &Command<'_>,
    slug: &TenantSlug,
    directory: DirectoryId,
    json: bool,
) -> anyhow::Result<()> {
    let tenant = cli.tenant(slug).await?;
    let clients = service::oauth_clients::list(cli.store, tenant.id, directory, &cli.effects)
        .await?
        .with_context(|| format!("tenant {slug} has no directory {directory}"))?;
    let time = |at: Option<chrono::DateTime<chrono::Utc>>| at.map(rfc3339);
    if json {
        let listed: Vec<serde_json::Value> = clients
            .iter()
            .map(|client| {
                json!({
                    "client_id": client.client_id,
                    "label": client.label,
                    "created_at": time(Some(client.created_at)),
                    "revoked_at": time(client.revoked_at),
                    "rotated_at": time(client.rotated_at),
                    "old_secret_until": time(client.previous_secret_until.filter(|until| *until > cli.now())),
                    "last_token_at": time(client.last_token_at),
                    "live_access_tokens": client.live_tokens,
                })
            })
            .collect();
        print_json(&serde_json::Value::Array(listed));
        return Ok(());
    }
    if clients.is_empty() {
        print_lines(&[format!("Directory {directory} has no OAuth client.")]);
        return Ok(());
    }
    let lines: Vec<String> = clients
        .iter()
        .map(|client| {
            let state = if client.revoked_at.is_some() { "revoked" } else { "active" };
            let fetched = client.last_token_at.map_or_else(
                || "never fetched a token".to_owned(),
                |at| format!("last token {}", at.format("%Y-%m-%d %H:%M UTC")),
            );
            format!(
                "{}  {state:<7}  {}  {fetched}, {} live access tokens",
                client.client_id, client.label, client.live_tokens
            )
        })
        .collect();
    print_lines(&lines);
    Ok(())
}

/// `rotate-oauth-client`: a new secret, the old one working for the overlap.
pub(crate) async fn rotate_oauth_client(
    cli: &Command<'_>,
    slug: &TenantSlug,
    directory: DirectoryId,
    client_id: &str,
    overlap_minutes: i64,
    json: bool,
) -> anyhow::Result<()> {
    let tenant = cli.tenant(slug).await?;
    let overlap = chrono::Duration::minutes(overlap_minutes.clamp(0, 7 * 24 * 60));
    let rotated = service::oauth_clients::rotate_secret(
        cli.store,
        tenant.id,
        directory,
        client_id,
        overlap,
        &cli.actor(),
        &cli.effects,
    )
    .await?;
    let until = rotated.old_until.map(rfc3339);
    if json {
        print_json(
            &json!({ "client_id": rotated.client_id, "client_secret": rotated.secret, "old_secret_until": until }),
        );
    } else {
        print_lines(&[
            format!("Client secret: {}", rotated.secret),
            match until {
                Some(until) => format!("The old secret keeps working until {until}."),
                None => "The old secret no longer works.".to_owned(),
            },
            "The secret is shown only now; only its digest is stored.".to_owned(),
        ]);
    }
    Ok(())
}

/// `revoke-oauth-client`: the client and its access tokens stop working at once.
pub(crate) async fn revoke_oauth_client(
    cli: &Command<'_>,
    slug: &TenantSlug,
    directory: DirectoryId,
    client_id: &str,
) -> anyhow::Result<()> {
    let tenant = cli.tenant(slug).await?;
    let ended =
        service::oauth_clients::revoke(cli.store, tenant.id, directory, client_id, &cli.actor(), &cli.effects).await?;
    print_lines(&[format!("Revoked OAuth client {client_id} and {ended} live access tokens.")]);
    Ok(())
}
