//! The server: configuration, start-up, the HTTP application and graceful shutdown.
//!
//! Routes are assembled in [`http::router`]; handlers are thin adapters over the `service`
//! crate. `main.rs` only parses the configuration and calls [`run`].

mod cli;
pub mod config;
pub mod http;
pub mod telemetry;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use store::{Store, StoreOptions};
use tokio::net::TcpListener;

use crate::config::{Cli, Command, Config};

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
            let result = cli::run(&cli.config, &store, service::Effects::system(), command).await;
            store.close().await;
            result
        }
    }
}

/// Opens the database and applies pending migrations.
pub async fn connect(config: &Config) -> anyhow::Result<Store> {
    let options = StoreOptions {
        secret_keys: Some(config.secret_keys(&service::Effects::system())?),
        max_connections: config.database_max_connections(),
        credential_cache_ttl: std::time::Duration::from_secs(config.credential_cache_seconds),
        statement_timeout: std::time::Duration::from_secs(config.database_statement_timeout_seconds),
        schema_owner: config.database_owner_url.clone(),
        ..StoreOptions::default()
    };
    if let Some(owner) = &config.database_owner_url {
        let both_postgres =
            owner.backend() == store::Backend::Postgres && config.database_url.backend() == store::Backend::Postgres;
        anyhow::ensure!(
            both_postgres,
            "DATABASE_OWNER_URL is for PostgreSQL, beside a PostgreSQL DATABASE_URL on the same database"
        );
    }
    Store::connect(&config.database_url, &options)
        .await
        .with_context(|| format!("opening the database {}", config.database_url))
}

/// Serves until SIGTERM or Ctrl-C, then lets in-flight requests finish.
pub async fn serve(config: &Config) -> anyhow::Result<()> {
    let store = connect(config).await?;
    let effects = service::Effects::system();
    // Before anything is served: a key file that cannot be read, or a trusted key that is
    // not one, stops the start rather than leaving the audit chains unsigned.
    let audit_signer = config.audit_signer(&effects)?;
    config.audit_trusted_keys()?;
    // Secrets written before sealing existed, or sealed with an earlier key.
    let resealed = store.reseal_secrets().await.context("sealing the stored secrets with the current key")?;
    if resealed > 0 {
        tracing::info!(resealed, "sealed stored secrets with the current secrets key");
    }
    bootstrap_first_operator(config, &store, &effects).await?;
    let listener = TcpListener::bind(config.bind).await.with_context(|| format!("listening on {}", config.bind))?;
    let app = http::App::with_effects(config, store.clone(), effects.clone());
    let audit = app.audit_log();
    let metrics = app.metrics();
    let demo =
        if config.demo { Some(start_demo(config, &store, &effects, listener.local_addr()?).await?) } else { None };
    let metrics_server = match app.separate_metrics() {
        Some((address, routes)) => {
            let listener =
                TcpListener::bind(address).await.with_context(|| format!("listening for /metrics on {address}"))?;
            tracing::info!(address = %format!("http://{address}/metrics"), "serving metrics");
            Some(tokio::spawn(async move {
                if let Err(error) = axum::serve(listener, routes).await {
                    tracing::error!(%error, "the metrics listener failed");
                }
            }))
        }
        None => None,
    };
    tracing::info!(
        address = %format!("http://{}", listener.local_addr()?),
        database = %store.backend(),
        "serving"
    );
    let effects = app.effects();
    let sweeper = http::spawn_expiry_sweeper(
        store.clone(),
        effects.clock().clone(),
        audit_signer,
        config.audit_retention_minimum_days,
        metrics.clone(),
    );
    let deliverer = spawn_webhook_deliveries(store.clone(), webhook_options(config), effects.clone(), metrics.clone())?;
    let expiry =
        spawn_nonhuman_expiry(store.clone(), config.public_base().to_owned(), effects.clock().clone(), metrics.clone());
    let republisher =
        spawn_republisher(store.clone(), config.public_base().to_owned(), effects.clone(), metrics.clone());
    let purge = spawn_directory_purge(
        store.clone(),
        config.deleted_directory_retention(),
        effects.clock().clone(),
        metrics.clone(),
    );
    let alerts = spawn_alerts(
        store.clone(),
        config.alert_settings(),
        config.alert_channels()?,
        std::time::Duration::from_secs(config.alert_check_seconds),
        effects.clone(),
        metrics,
    );
    let google = spawn_google_connector(
        store.clone(),
        config.google_options(),
        local_base(listener.local_addr()?),
        app.effects(),
        app.metrics(),
    )?;
    serve_until(listener, app, shutdown_signal(), Duration::from_secs(config.shutdown_grace_seconds)).await?;
    google.abort();
    sweeper.abort();
    deliverer.abort();
    expiry.abort();
    republisher.abort();
    purge.abort();
    alerts.abort();
    if let Some(metrics_server) = metrics_server {
        metrics_server.abort();
    }
    if let Some(demo) = demo {
        demo.abort();
    }
    // Requests recorded in the last moments are still queued.
    audit.flush().await;
    store.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// The delivery settings the configuration asks for (production defaults otherwise).
pub(crate) fn webhook_options(config: &Config) -> service::webhooks::WebhookOptions {
    let slots = config.webhook_database_slots.unwrap_or(config.database_max_connections() / 2).max(1);
    service::webhooks::WebhookOptions {
        allow_private_targets: config.webhooks_allow_internal_targets,
        database_slots: usize::try_from(slots).unwrap_or(1),
        ..service::webhooks::WebhookOptions::default()
    }
}

/// Delivers pending webhook events until the server stops: the tenants' endpoints each in
/// a task of their own (see `Deliverer::run`), the operator's every second.
pub fn spawn_webhook_deliveries(
    store: Store,
    options: service::webhooks::WebhookOptions,
    effects: service::Effects,
    metrics: http::PortalMetrics,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let deliverer = Arc::new(service::webhooks::Deliverer::new(store.clone(), options.clone(), effects.clone())?);
    let clock = effects.clock().clone();
    let operator_deliverer = service::directory_sync::OperatorDeliverer::new(store, options, effects)?;
    let operator = async move {
        let mut every = tokio::time::interval(Duration::from_secs(1));
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            let delivered = operator_deliverer.deliver_pending().await;
            metrics.job_run(http::BackgroundJob::OperatorWebhooks, delivered.is_ok(), clock.now());
            if let Err(error) = delivered {
                tracing::warn!(%error, "deliveries to the operator's webhook endpoints failed; retrying");
            }
        }
    };
    // One task, so that aborting it stops both (and the endpoint tasks `run` owns).
    Ok(tokio::spawn(async move {
        tokio::join!(deliverer.run(), operator);
    }))
}

/// Deactivates the non-human identities past their expiry, and applies each directory's
/// owner policy to those whose owner is deactivated or deleted, every minute until the
/// server stops (see `service::nonhuman::deactivate_expired` and `apply_owner_policies`;
/// safe with several server processes).
pub fn spawn_nonhuman_expiry(
    store: Store,
    public_base: String,
    clock: service::SharedClock,
    metrics: http::PortalMetrics,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(service::nonhuman::SWEEP_EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            let now = clock.now();
            let limit = service::nonhuman::SWEEP_LIMIT;
            let swept = service::nonhuman::deactivate_expired(&store, &public_base, now, limit).await;
            let owners = service::nonhuman::apply_owner_policies(&store, &public_base, now, limit).await;
            metrics.job_run(http::BackgroundJob::NonhumanExpiry, swept.is_ok() && owners.is_ok(), clock.now());
            match swept {
                Ok(expired) if expired.is_empty() => {}
                Ok(expired) => tracing::info!(deactivated = expired.len(), "deactivated expired non-human identities"),
                Err(error) => tracing::warn!(%error, "cannot deactivate expired non-human identities; retrying"),
            }
            match owners {
                Ok(applied) if applied.is_empty() => {}
                Ok(applied) => {
                    tracing::info!(changed = applied.len(), "applied owner policies to non-human identities");
                }
                Err(error) => tracing::warn!(%error, "cannot apply owner policies to non-human identities; retrying"),
            }
        }
    })
}

/// Re-derives users whose mapping, roles or role-granting groups changed (see
/// `service::republish`), checking every second and going on at once while work remains.
pub fn spawn_republisher(
    store: Store,
    public_base: String,
    effects: service::Effects,
    metrics: http::PortalMetrics,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(1));
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            let succeeded = loop {
                match service::republish::republish_pending(&store, &public_base, &effects).await {
                    Ok(0) => break true,
                    Ok(examined) => tracing::debug!(examined, "re-derived users"),
                    Err(error) => {
                        tracing::warn!(%error, "cannot re-derive users; retrying");
                        break false;
                    }
                }
            };
            metrics.job_run(http::BackgroundJob::Republisher, succeeded, effects.now());
        }
    })
}

/// Purges the data of deleted directories past their retention every minute until the
/// server stops (see `service::directory_lifecycle::purge_deleted_directories`; safe with
/// several server processes).
pub fn spawn_directory_purge(
    store: Store,
    retention: chrono::Duration,
    clock: service::SharedClock,
    metrics: http::PortalMetrics,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(service::directory_lifecycle::PURGE_EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            let now = clock.now();
            let purged = service::directory_lifecycle::purge_deleted_directories(&store, retention, now).await;
            metrics.job_run(http::BackgroundJob::DirectoryPurge, purged.is_ok(), clock.now());
            if let Err(error) = purged {
                tracing::warn!(%error, "cannot purge deleted directories; retrying");
            }
        }
    })
}

/// Checks the alert conditions every `every` until the server stops (see
/// `service::alerts::evaluate`; safe with several server processes).
pub fn spawn_alerts(
    store: Store,
    settings: service::alerts::AlertSettings,
    channels: service::alerts::AlertChannels,
    every: Duration,
    effects: service::Effects,
    metrics: http::PortalMetrics,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            let round = service::alerts::evaluate(&store, &settings, &channels, &effects).await;
            metrics.job_run(http::BackgroundJob::Alerts, round.is_ok(), effects.now());
            match round {
                Ok(round) if round == service::alerts::Round::default() => {}
                Ok(round) => tracing::info!(
                    opened = round.opened,
                    resolved = round.resolved,
                    notified = round.notified,
                    failed = round.failed,
                    "alert round"
                ),
                Err(error) => tracing::warn!(%error, "cannot check the alert conditions; retrying"),
            }
        }
    })
}

/// This server's own address as its background clients reach it (the listening address,
/// not the public one: no proxy in between).
fn local_base(listening: std::net::SocketAddr) -> String {
    let host = match listening.ip() {
        ip if ip.is_unspecified() => std::net::IpAddr::from([127, 0, 0, 1]),
        ip => ip,
    };
    format!("http://{}", std::net::SocketAddr::new(host, listening.port()))
}

/// Runs the Google Workspace connections that are due, checking every 10 seconds until the
/// server stops (see `service::google::connections::run_due`; safe with several server
/// processes: each connection is leased to one at a time).
pub fn spawn_google_connector(
    store: Store,
    options: service::google::GoogleOptions,
    local_base: String,
    effects: service::Effects,
    metrics: http::PortalMetrics,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let http = service::google::connections::http_client().context("making the Google connector's HTTP client")?;
    // Tells this process's leases apart from another's.
    let owner = format!("google-{}", effects.secret(8));
    Ok(tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(10));
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            let runs = service::google::connections::run_due(
                &store,
                &options,
                http.clone(),
                &local_base,
                &owner,
                &effects,
                service::google::connections::DUE_PER_ROUND,
            )
            .await;
            metrics.job_run(http::BackgroundJob::GoogleConnector, runs.is_ok(), effects.now());
            match runs {
                Ok(runs) => {
                    for run in runs {
                        tracing::info!(directory = %run.directory, succeeded = run.succeeded, "ran a Google Workspace sync");
                    }
                }
                Err(error) => tracing::warn!(%error, "cannot run the due Google Workspace syncs; retrying"),
            }
        }
    }))
}

/// Demo mode: makes the demo tenant, tells the person starting the server how to sign in
/// to it, and starts the simulated identity provider against this server's own SCIM
/// endpoint (on the address it listens on, not the public one: no proxy in between).
async fn start_demo(
    config: &Config,
    store: &Store,
    effects: &service::Effects,
    listening: std::net::SocketAddr,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let demo = service::demo::prepare(store, config.demo_admin_password.as_deref(), effects)
        .await
        .context("preparing demo mode")?;
    let sign_in_url = format!("{}/sign-in", config.public_base());
    let mut lines = vec![
        format!("Demo mode: tenant ‘{}’ is provisioned by a simulated Okta.", service::demo::TENANT_NAME),
        format!("Its admin signs in at {sign_in_url}"),
        format!("email:     {}", service::demo::ADMIN_EMAIL),
    ];
    match (&demo.new_admin_password, &config.demo_admin_password) {
        (Some(password), None) => lines.push(format!("password:  {password}   (shown only now)")),
        (Some(_), Some(_)) => lines.push("password:  the one in DEMO_ADMIN_PASSWORD".to_owned()),
        (None, _) => lines.push("password:  the one shown when demo mode first ran".to_owned()),
    }
    print_banner(&lines);
    let host = match listening.ip() {
        ip if ip.is_unspecified() => std::net::IpAddr::from([127, 0, 0, 1]),
        ip => ip,
    };
    let base = format!("http://{}/scim/v2/{}", std::net::SocketAddr::new(host, listening.port()), demo.directory);
    let every = Duration::from_secs(config.demo_request_seconds);
    let failing_every = (config.demo_failure_seconds / config.demo_request_seconds).max(1);
    tracing::info!(tenant = service::demo::TENANT, directory = %demo.directory, "demo mode: simulating an identity provider");
    let run = service::demo::run(store.clone(), demo, base, every, failing_every, effects.clone());
    Ok(tokio::spawn(run))
}

/// Creates the first operator of an empty deployment and tells the person starting the
/// server how to sign in. A generated password is printed to the terminal once, never logged.
async fn bootstrap_first_operator(config: &Config, store: &Store, effects: &service::Effects) -> anyhow::Result<()> {
    use service::operators::{self, OperatorEmail};
    let email = OperatorEmail::parse(&config.operator_email)
        .map_err(|error| anyhow::anyhow!("OPERATOR_EMAIL {:?}: {error}", config.operator_email))?;
    let (password, generated) = match &config.operator_password {
        Some(password) => (password.clone(), false),
        None => (operators::generate_password(effects), true),
    };
    let created = operators::bootstrap_first_operator(store, &email, password.clone(), effects)
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
    // The peer's address reaches the handlers (sign-in throttling is per address).
    let service = app.into_router().into_make_service_with_connect_info::<std::net::SocketAddr>();
    let server = axum::serve(listener, service).with_graceful_shutdown(async move {
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
