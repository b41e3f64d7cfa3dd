//! `server admin …`: operator commands against the configured database. Each command is a
//! small function that parses nothing itself (clap did), calls one use case of `service` as
//! [`Actor::Cli`], and prints its answer for a person or, with `--json`, for a script.

mod access;
mod directories;
mod webhooks;

use anyhow::Context as _;
use service::{Actor, Effects, Store, TenantSlug};

use crate::config::{AdminCommand, Config};

/// What every command runs with.
pub(crate) struct Command<'a> {
    pub(crate) config: &'a Config,
    pub(crate) store: &'a Store,
    pub(crate) effects: Effects,
}

impl Command<'_> {
    /// Who the trail says did it.
    pub(crate) fn actor(&self) -> Actor {
        Actor::Cli
    }

    pub(crate) fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.effects.now()
    }

    /// The tenant named on the command line.
    pub(crate) async fn tenant(&self, slug: &TenantSlug) -> anyhow::Result<store::Tenant> {
        service::tenants::find(self.store, slug).await?.with_context(|| format!("there is no tenant {slug}"))
    }
}

/// Runs one operator command.
pub(crate) async fn run(config: &Config, store: &Store, effects: Effects, command: AdminCommand) -> anyhow::Result<()> {
    let cli = Command { config, store, effects };
    match command {
        AdminCommand::CreateDirectory {
            tenant,
            idp,
            token_label,
            json,
            rate_limit_per_second,
            unknown_attributes,
            nonhuman_extension,
        } => {
            let settings = directories::Settings {
                rate_limit_per_second,
                strict_attributes: unknown_attributes,
                nonhuman_extension,
            };
            directories::create(&cli, &tenant, idp, token_label, settings, json).await
        }
        AdminCommand::ConfigureDirectory {
            tenant,
            directory,
            rate_limit_per_second,
            unknown_attributes,
            nonhuman_extension,
        } => {
            let settings = directories::Settings {
                rate_limit_per_second,
                strict_attributes: unknown_attributes,
                nonhuman_extension,
            };
            directories::configure(&cli, &tenant, directory, settings).await
        }
        AdminCommand::DefineExtension { tenant, directory, resource_type, required, schema } => {
            directories::define_extension(&cli, &tenant, directory, resource_type, required, &schema).await
        }
        AdminCommand::CreateOauthClient { tenant, directory, label, json } => {
            directories::create_oauth_client(&cli, &tenant, directory, label, json).await
        }
        AdminCommand::ListOauthClients { tenant, directory, json } => {
            directories::list_oauth_clients(&cli, &tenant, directory, json).await
        }
        AdminCommand::RotateOauthClient { tenant, directory, client_id, overlap_minutes, json } => {
            directories::rotate_oauth_client(&cli, &tenant, directory, &client_id, overlap_minutes, json).await
        }
        AdminCommand::RevokeOauthClient { tenant, directory, client_id } => {
            directories::revoke_oauth_client(&cli, &tenant, directory, &client_id).await
        }
        AdminCommand::CreateWebhook { tenant, url, json } => webhooks::create(&cli, &tenant, &url, json).await,
        AdminCommand::WebhookLog { tenant, webhook, limit } => webhooks::log(&cli, &tenant, webhook, limit).await,
        AdminCommand::ReplayDeadLetter { tenant, webhook, delivery } => {
            webhooks::replay(&cli, &tenant, webhook, delivery).await
        }
        AdminCommand::CreateSetupLink { tenant, valid_days, json } => {
            access::create_setup_link(&cli, &tenant, valid_days, json).await
        }
        AdminCommand::CreateApiKey { label, areas, read_only, expires_in_days, json } => {
            let request = access::KeyRequest { label, areas, read_only, expires_in_days };
            access::create_api_key(&cli, request, json).await
        }
        AdminCommand::ListApiKeys { json } => access::list_api_keys(&cli, json).await,
        AdminCommand::RevokeApiKey { id } => access::revoke_api_key(&cli, id).await,
        AdminCommand::VerifyAudit { tenant, checkpoints } => {
            access::verify_audit(&cli, &tenant, checkpoints.as_deref()).await
        }
        AdminCommand::AuditPublicKey => access::audit_public_key(&cli),
    }
}

/// A time in a command's JSON answer: RFC 3339, UTC, to the second.
pub(crate) fn rfc3339(at: chrono::DateTime<chrono::Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// A command's answer goes to stdout (for scripts to read), not into the log stream.
#[allow(clippy::print_stdout)]
pub(crate) fn print_lines(lines: &[String]) {
    for line in lines {
        println!("{line}");
    }
}

/// One JSON object on one line, for `--json`.
pub(crate) fn print_json(value: &serde_json::Value) {
    print_lines(&[value.to_string()]);
}
