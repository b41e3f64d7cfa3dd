//! The server: configuration, start-up, the HTTP application and graceful shutdown.
//!
//! Routes are assembled in [`http::router`]; handlers are thin adapters over the `service`
//! crate. `main.rs` only parses the configuration and calls [`run`].

pub mod config;
pub mod http;
pub mod telemetry;

use std::time::Duration;

use anyhow::Context as _;
use store::{Store, StoreOptions};
use tokio::net::TcpListener;

use crate::config::{AdminCommand, Cli, Command, Config};

/// Runs the command the CLI asked for.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(&cli.config).await,
        Command::Migrate => {
            let store = connect(&cli.config).await?;
            let overview = store.deployment_overview().await.context("reading the schema version")?;
            tracing::info!(database = %cli.config.database_url, schema_version = overview.schema_version, "migrations applied");
            store.close().await;
            Ok(())
        }
        Command::Admin(command) => {
            let store = connect(&cli.config).await?;
            let result = admin(&cli.config, &store, command).await;
            store.close().await;
            result
        }
    }
}

/// Runs an operator command against the configured database.
async fn admin(config: &Config, store: &Store, command: AdminCommand) -> anyhow::Result<()> {
    use service::directories::{self, TokenRequest};
    match command {
        AdminCommand::CreateDirectory { tenant, idp, token_label, json, rate_limit_per_second, unknown_attributes } => {
            #[allow(clippy::disallowed_methods)] // the clock is read at the edge
            let now = chrono::Utc::now();
            let tenant = directories::ensure_tenant(store, &tenant, now).await?;
            let mut settings = store::DirectorySettings::default();
            if let Some(limit) = rate_limit_per_second {
                settings.rate_limit_per_second = limit.max(1);
            }
            if let Some(strict) = unknown_attributes {
                settings.strict_attributes = strict;
            }
            let directory = directories::create_directory_with(store, tenant.id, idp, settings, now).await?;
            let request = TokenRequest { label: token_label, read_only: false, expires_at: None };
            let token = directories::issue_token(store, tenant.id, directory.id, request, now).await?;
            let detail = serde_json::json!({"idp": idp.as_str(), "token": token.id.to_string()});
            audit_command(store, tenant.id, "directory.created", Some(directory.id), detail).await?;
            let scim_base_url = format!("{}/scim/v2/{}", config.public_base(), directory.id);
            let lines = if json {
                vec![
                    serde_json::json!({
                        "tenant": tenant.slug.as_str(),
                        "tenant_id": tenant.id.to_string(),
                        "directory": directory.id.to_string(),
                        "idp": idp.as_str(),
                        "scim_base_url": scim_base_url,
                        "token": token.secret,
                    })
                    .to_string(),
                ]
            } else {
                vec![
                    format!("Created a {} directory for tenant {}.", idp.display_name(), tenant.slug),
                    format!("SCIM base URL: {scim_base_url}"),
                    format!("Bearer token:  {}", token.secret),
                    "The token is shown only now; only its digest is stored.".to_owned(),
                ]
            };
            print_lines(&lines);
            Ok(())
        }
        AdminCommand::CreateWebhook { tenant, url, json } => {
            #[allow(clippy::disallowed_methods)] // the clock is read at the edge
            let now = chrono::Utc::now();
            let owner = store.tenant_by_slug(&tenant).await?.with_context(|| format!("there is no tenant {tenant}"))?;
            let options = webhook_options(config);
            let actor = service::webhooks::Actor::named("cli");
            let issued = service::webhooks::create_endpoint(store, owner.id, &url, &options, &actor, now).await?;
            let lines = if json {
                vec![serde_json::json!({"id": issued.id.to_string(), "secret": issued.secret}).to_string()]
            } else {
                vec![
                    format!("Webhook {} of tenant {tenant} -> {url}", issued.id),
                    format!("Signing secret: {}", issued.secret),
                    "The secret is shown only now; verify the Scim-Signature header with it.".to_owned(),
                ]
            };
            print_lines(&lines);
            Ok(())
        }
        AdminCommand::WebhookLog { tenant, webhook, limit } => {
            let owner = store.tenant_by_slug(&tenant).await?.with_context(|| format!("there is no tenant {tenant}"))?;
            let attempts = store.tenant(owner.id).webhook_deliveries(webhook, None, limit.max(1)).await?;
            let lines: Vec<String> = attempts
                .iter()
                .map(|a| {
                    format!(
                        "{} {} {} event {} (#{}) attempt {} {}{}",
                        a.attempted_at.to_rfc3339(),
                        a.id,
                        a.outcome.as_str(),
                        a.event,
                        a.seq,
                        a.attempt,
                        a.status_code.map(|s| format!("HTTP {s}")).unwrap_or_default(),
                        a.error.as_deref().map(|e| format!(" {e}")).unwrap_or_default()
                    )
                })
                .collect();
            print_lines(&lines);
            Ok(())
        }
        AdminCommand::ReplayDeadLetter { tenant, webhook, delivery } => {
            #[allow(clippy::disallowed_methods)] // the clock is read at the edge
            let now = chrono::Utc::now();
            let owner = store.tenant_by_slug(&tenant).await?.with_context(|| format!("there is no tenant {tenant}"))?;
            let actor = service::webhooks::Actor::named("cli");
            let options = webhook_options(config);
            let delivered =
                service::webhooks::replay(store, &options, owner.id, webhook, delivery, &actor, now).await?;
            print_lines(&[if delivered {
                "Delivered.".to_owned()
            } else {
                "Not delivered; see webhook-log.".to_owned()
            }]);
            Ok(())
        }
        AdminCommand::VerifyAudit { tenant } => {
            let owner = store.tenant_by_slug(&tenant).await?.with_context(|| format!("there is no tenant {tenant}"))?;
            let report = service::audit::verify_chain(store, owner.id).await?;
            match report.first_break {
                None => {
                    print_lines(&[format!("The audit trail of {tenant} is intact: {} records.", report.checked)]);
                    Ok(())
                }
                Some(broken) => anyhow::bail!(
                    "the audit trail of {tenant} is broken: {broken} ({} records before it are intact)",
                    report.checked
                ),
            }
        }
        AdminCommand::CreateSetupLink { tenant, valid_days, json } => {
            #[allow(clippy::disallowed_methods)] // the clock is read at the edge
            let now = chrono::Utc::now();
            let owner = store.tenant_by_slug(&tenant).await?.with_context(|| format!("there is no tenant {tenant}"))?;
            let lifetime = chrono::Duration::days(i64::from(valid_days));
            let link = service::admins::create_setup_link(store, owner.id, "cli", lifetime, now).await?;
            let url = link.url(config.public_base());
            let lines = if json {
                let expires_at = link.expires_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
                vec![serde_json::json!({"id": link.id.to_string(), "url": url, "expires_at": expires_at}).to_string()]
            } else {
                vec![
                    format!("Setup link for {}: {url}", owner.display_name),
                    format!("It works once, until {} UTC.", link.expires_at.format("%Y-%m-%d %H:%M")),
                ]
            };
            print_lines(&lines);
            Ok(())
        }
        AdminCommand::CreateApiKey { label, json } => {
            #[allow(clippy::disallowed_methods)] // the clock is read at the edge
            let now = chrono::Utc::now();
            let key = service::api_keys::issue_api_key(store, label, now).await?;
            let api_base_url = format!("{}/api/v1", config.public_base());
            let lines = if json {
                vec![
                    serde_json::json!({"id": key.id.to_string(), "key": key.secret, "api_base_url": api_base_url})
                        .to_string(),
                ]
            } else {
                vec![
                    format!("API key: {}", key.secret),
                    format!("Base URL: {api_base_url} (OpenAPI: {}/api/openapi.json)", config.public_base()),
                    "The key is shown only now; only its digest is stored.".to_owned(),
                ]
            };
            print_lines(&lines);
            Ok(())
        }
        AdminCommand::ConfigureDirectory { tenant, directory, rate_limit_per_second, unknown_attributes } => {
            let owner = store.tenant_by_slug(&tenant).await?.with_context(|| format!("there is no tenant {tenant}"))?;
            let current = store
                .tenant(owner.id)
                .directory(directory)
                .await?
                .with_context(|| format!("tenant {tenant} has no directory {directory}"))?;
            let mut settings = current.settings;
            if let Some(limit) = rate_limit_per_second {
                settings.rate_limit_per_second = limit;
            }
            if let Some(strict) = unknown_attributes {
                settings.strict_attributes = strict;
            }
            directories::configure_directory(store, owner.id, directory, settings).await?;
            let detail = serde_json::json!({
                "rate_limit_per_second": settings.rate_limit_per_second.max(1),
                "unknown_attributes": if settings.strict_attributes { "strict" } else { "preserve" },
            });
            audit_command(store, owner.id, "directory.configured", Some(directory), detail).await?;
            let policy = if settings.strict_attributes { "strict" } else { "preserve" };
            print_lines(&[format!(
                "Directory {directory}: {} requests per second, unknown attributes {policy}.",
                settings.rate_limit_per_second.max(1)
            )]);
            Ok(())
        }
        AdminCommand::DefineExtension { tenant, directory, resource_type, required, schema } => {
            #[allow(clippy::disallowed_methods)] // the clock is read at the edge
            let now = chrono::Utc::now();
            let owner = store.tenant_by_slug(&tenant).await?.with_context(|| format!("there is no tenant {tenant}"))?;
            let text = std::fs::read_to_string(&schema).with_context(|| format!("reading {}", schema.display()))?;
            let definition: serde_json::Value =
                serde_json::from_str(&text).with_context(|| format!("{} is not JSON", schema.display()))?;
            let urn = service::provisioning::define_extension(
                store,
                owner.id,
                directory,
                resource_type,
                required,
                definition,
                now,
            )
            .await
            .map_err(|error| match error {
                service::provisioning::ProvisioningError::Protocol(error) => anyhow::anyhow!("{}", error.detail()),
                service::provisioning::ProvisioningError::Service(error) => anyhow::anyhow!(error),
            })?;
            let detail =
                serde_json::json!({"schema": urn, "resource_type": resource_type.as_str(), "required": required});
            audit_command(store, owner.id, "schema_extension.defined", Some(directory), detail).await?;
            print_lines(&[format!("Defined {urn} for the {} of directory {directory}.", resource_type.as_str())]);
            Ok(())
        }
        AdminCommand::CreateOauthClient { tenant, directory, label, json } => {
            #[allow(clippy::disallowed_methods)] // the clock is read at the edge
            let now = chrono::Utc::now();
            let owner = store.tenant_by_slug(&tenant).await?.with_context(|| format!("there is no tenant {tenant}"))?;
            if store.tenant(owner.id).directory(directory).await?.is_none() {
                anyhow::bail!("tenant {tenant} has no directory {directory}");
            }
            let client = directories::issue_oauth_client(store, owner.id, directory, label, now).await?;
            let detail = serde_json::json!({"client_id": client.client_id});
            audit_command(store, owner.id, "oauth_client.created", Some(directory), detail).await?;
            let token_url = format!("{}/oauth/token", config.public_base());
            let lines = if json {
                vec![
                    serde_json::json!({
                        "client_id": client.client_id,
                        "client_secret": client.secret,
                        "token_url": token_url,
                        "scim_base_url": format!("{}/scim/v2/{directory}", config.public_base()),
                    })
                    .to_string(),
                ]
            } else {
                vec![
                    format!("Client id:     {}", client.client_id),
                    format!("Client secret: {}", client.secret),
                    format!("Token URL:     {token_url} (grant_type=client_credentials)"),
                    "The secret is shown only now; only its digest is stored.".to_owned(),
                ]
            };
            print_lines(&lines);
            Ok(())
        }
    }
}

/// A command's answer goes to stdout (for scripts to read), not into the log stream.
#[allow(clippy::print_stdout)]
fn print_lines(lines: &[String]) {
    for line in lines {
        println!("{line}");
    }
}

/// Opens the database and applies pending migrations.
pub async fn connect(config: &Config) -> anyhow::Result<Store> {
    let options = StoreOptions {
        max_connections: config.database_max_connections,
        credential_cache_ttl: std::time::Duration::from_secs(config.credential_cache_seconds),
        ..StoreOptions::default()
    };
    Store::connect(&config.database_url, &options)
        .await
        .with_context(|| format!("opening the database {}", config.database_url))
}

/// Serves until SIGTERM or Ctrl-C, then lets in-flight requests finish.
pub async fn serve(config: &Config) -> anyhow::Result<()> {
    let store = connect(config).await?;
    bootstrap_first_operator(config, &store).await?;
    let listener = TcpListener::bind(config.bind).await.with_context(|| format!("listening on {}", config.bind))?;
    let app = http::App::new(config, store.clone());
    let audit = app.audit_log();
    tracing::info!(
        address = %format!("http://{}", listener.local_addr()?),
        database = %store.backend(),
        "serving"
    );
    let sweeper = http::spawn_expiry_sweeper(store.clone());
    let deliverer = spawn_webhook_deliveries(store.clone(), webhook_options(config))?;
    let expiry = spawn_nonhuman_expiry(store.clone(), config.public_base().to_owned());
    serve_until(listener, app, shutdown_signal(), Duration::from_secs(config.shutdown_grace_seconds)).await?;
    sweeper.abort();
    deliverer.abort();
    expiry.abort();
    // Requests recorded in the last moments are still queued.
    audit.flush().await;
    store.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// Records an operator's command in the tenant's audit trail.
async fn audit_command(
    store: &Store,
    tenant: store::TenantId,
    action: &str,
    directory: Option<store::DirectoryId>,
    detail: serde_json::Value,
) -> anyhow::Result<()> {
    #[allow(clippy::disallowed_methods)] // the clock is read at the edge
    let occurred_at = chrono::Utc::now();
    let record = store::NewAuditRecord {
        occurred_at,
        actor: "cli".to_owned(),
        action: action.to_owned(),
        directory,
        method: None,
        path: None,
        status: None,
        latency_ms: None,
        resource_id: None,
        outcome: store::AuditOutcome::Success,
        detail,
    };
    Ok(service::audit::record_now(store, tenant, record).await?)
}

/// The delivery settings the configuration asks for (production defaults otherwise).
pub(crate) fn webhook_options(config: &Config) -> service::webhooks::WebhookOptions {
    service::webhooks::WebhookOptions {
        allow_private_targets: config.webhooks_allow_internal_targets,
        ..service::webhooks::WebhookOptions::default()
    }
}

/// Delivers pending webhook events every second until the server stops.
pub fn spawn_webhook_deliveries(
    store: Store,
    options: service::webhooks::WebhookOptions,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let deliverer = service::webhooks::Deliverer::new(store, options)?;
    #[allow(clippy::disallowed_methods)] // the clock is read at the edge
    let clock = || chrono::Utc::now();
    Ok(tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(1));
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            if let Err(error) = deliverer.deliver_pending(&clock).await {
                tracing::warn!(%error, "webhook deliveries failed; retrying");
            }
        }
    }))
}

/// Deactivates the non-human identities past their expiry every minute until the server
/// stops (see `service::nonhuman::deactivate_expired`; safe with several server processes).
pub fn spawn_nonhuman_expiry(store: Store, public_base: String) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(service::nonhuman::SWEEP_EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            #[allow(clippy::disallowed_methods)] // the clock is read at the edge
            let now = chrono::Utc::now();
            let limit = service::nonhuman::SWEEP_LIMIT;
            match service::nonhuman::deactivate_expired(&store, &public_base, now, limit).await {
                Ok(expired) if expired.is_empty() => {}
                Ok(expired) => tracing::info!(deactivated = expired.len(), "deactivated expired non-human identities"),
                Err(error) => tracing::warn!(%error, "cannot deactivate expired non-human identities; retrying"),
            }
        }
    })
}

/// Creates the first operator of an empty deployment and tells the person starting the
/// server how to sign in. A generated password is printed to the terminal once, never logged.
async fn bootstrap_first_operator(config: &Config, store: &Store) -> anyhow::Result<()> {
    use service::operators::{self, OperatorEmail};
    let email = OperatorEmail::parse(&config.operator_email)
        .map_err(|error| anyhow::anyhow!("OPERATOR_EMAIL {:?}: {error}", config.operator_email))?;
    let (password, generated) = match &config.operator_password {
        Some(password) => (password.clone(), false),
        None => (operators::generate_password(), true),
    };
    // The clock is read here, at the edge; the service takes the time as a parameter.
    #[allow(clippy::disallowed_methods)]
    let now = chrono::Utc::now();
    let created = operators::bootstrap_first_operator(store, &email, password.clone(), now)
        .await
        .map_err(|error| anyhow::anyhow!("creating the first operator: {error}"))?;
    let sign_in_url = format!("{}/sign-in", config.public_base());
    if created {
        let password_line = if generated {
            format!("password:  {password}   (shown only now; set OPERATOR_PASSWORD to choose one)")
        } else {
            "password:  the one in OPERATOR_PASSWORD".to_owned()
        };
        print_banner(&[
            "The first operator account was created.".to_owned(),
            format!("Sign in at {sign_in_url}"),
            format!("email:     {}", email.as_str()),
            password_line,
        ]);
        tracing::info!(email = email.as_str(), "created the first operator account");
    } else {
        tracing::info!(%sign_in_url, "operators sign in here");
    }
    Ok(())
}

/// Credentials go to the terminal, not into the structured log stream.
#[allow(clippy::print_stdout)]
fn print_banner(lines: &[String]) {
    let width = lines.iter().map(|line| line.chars().count()).max().unwrap_or(0);
    println!();
    println!("  {}", "=".repeat(width));
    for line in lines {
        println!("  {line}");
    }
    println!("  {}", "=".repeat(width));
    println!();
}

/// Serves `app` on `listener` until `stop` completes; then stops accepting connections
/// and gives open requests `grace` to finish.
pub async fn serve_until(
    listener: TcpListener,
    app: http::App,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
    grace: Duration,
) -> anyhow::Result<()> {
    let (stopping_tx, stopping_rx) = tokio::sync::oneshot::channel::<()>();
    let server = axum::serve(listener, app.into_router()).with_graceful_shutdown(async move {
        stop.await;
        let _ = stopping_tx.send(());
    });
    let server = tokio::spawn(server.into_future());
    let mut server = std::pin::pin!(server);
    tokio::select! {
        finished = &mut server => return Ok(finished.context("the server task failed")??),
        _ = stopping_rx => tracing::info!(grace_seconds = grace.as_secs(), "shutting down: finishing open requests"),
    }
    match tokio::time::timeout(grace, server).await {
        Ok(finished) => Ok(finished.context("the server task failed")??),
        Err(_) => {
            tracing::warn!("open requests did not finish within the grace period; exiting anyway");
            Ok(())
        }
    }
}

/// Completes on SIGTERM (how process managers and orchestrators stop services) or Ctrl-C.
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => tracing::info!("received Ctrl-C"),
        () = terminate => tracing::info!("received SIGTERM"),
    }
}
