//! Configuration from command-line flags and environment variables (flags win), with
//! defaults that run the product on one machine with a SQLite file.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand, ValueEnum};
use service::audit_checkpoints::{AuditSigner, PublicKey};
use store::DatabaseUrl;

/// Self-hostable SCIM onboarding portal: the SCIM 2.0 service, the operator API and the
/// portal in one process.
#[derive(Debug, Parser)]
#[command(version, about)]
pub struct Cli {
    #[command(flatten)]
    pub config: Config,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// What to do; without a subcommand the server serves.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the portal, the SCIM endpoints and the API (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Operator tasks for scripts and the first minutes of a trial.
    #[command(subcommand)]
    Admin(AdminCommand),
}

/// `server admin …`
#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create a directory (and its tenant, if new) and issue its first bearer token.
    CreateDirectory {
        /// The tenant's URL name (lowercase letters, digits, hyphens); created if missing.
        #[arg(long)]
        tenant: store::TenantSlug,
        /// The identity provider that will provision into the directory.
        #[arg(long, value_parser = parse_idp)]
        idp: store::IdentityProvider,
        /// A label for the token, shown on the tokens page.
        #[arg(long, default_value = "Created from the command line")]
        token_label: String,
        /// Print one JSON object (tenant, directory, scim_base_url, token) instead of text.
        #[arg(long)]
        json: bool,
        /// Sustained SCIM requests per second before 429 (default 500; load tests raise it).
        #[arg(long)]
        rate_limit_per_second: Option<u32>,
        /// Attributes no schema defines: `preserve` (keep and report them, the default) or
        /// `strict` (reject the request with `invalidSyntax`).
        #[arg(long, value_parser = parse_unknown_attributes)]
        unknown_attributes: Option<bool>,
        /// The non-human identity extension (service accounts, agents): `on` (the default)
        /// or `off` (the endpoint offers RFC 7643's User and Group schemas only).
        #[arg(long, value_parser = parse_on_off)]
        nonhuman_extension: Option<bool>,
    },
    /// Change a directory's rate limit, unknown-attribute policy or non-human identity
    /// extension; running servers apply the change from the next request.
    ConfigureDirectory {
        /// The tenant that owns the directory.
        #[arg(long)]
        tenant: store::TenantSlug,
        /// The directory's id.
        #[arg(long)]
        directory: store::DirectoryId,
        /// Sustained SCIM requests per second before 429.
        #[arg(long)]
        rate_limit_per_second: Option<u32>,
        /// `preserve` or `strict` (see `create-directory`).
        #[arg(long, value_parser = parse_unknown_attributes)]
        unknown_attributes: Option<bool>,
        /// `on` or `off` (see `create-directory`). Off is refused while any user of the
        /// directory is a service account or agent; on makes identities of the users that
        /// already carry the extension's attributes.
        #[arg(long, value_parser = parse_on_off)]
        nonhuman_extension: Option<bool>,
    },
    /// Define a custom schema extension (RFC 7643 §7 JSON in a file) for a directory's users
    /// or groups; it is validated, stored, filtered, patched and listed under /Schemas.
    DefineExtension {
        /// The tenant that owns the directory.
        #[arg(long)]
        tenant: store::TenantSlug,
        /// The directory's id.
        #[arg(long)]
        directory: store::DirectoryId,
        /// `User` or `Group`.
        #[arg(long, default_value = "User", value_parser = parse_resource_type)]
        resource_type: store::ResourceKind,
        /// Resources must carry the extension.
        #[arg(long)]
        required: bool,
        /// The schema's JSON file (`id` a URN, `attributes` as in RFC 7643 §7).
        #[arg(long)]
        schema: std::path::PathBuf,
    },
    /// Register a webhook endpoint of a tenant: it receives the change events of all the
    /// tenant's directories, signed with the secret printed once.
    CreateWebhook {
        #[arg(long)]
        tenant: store::TenantSlug,
        /// Where to POST events (https://).
        #[arg(long)]
        url: String,
        /// Print one JSON object (id, secret) instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Show a webhook's newest delivery attempts, dead letters included.
    WebhookLog {
        #[arg(long)]
        tenant: store::TenantSlug,
        #[arg(long)]
        webhook: store::WebhookId,
        /// How many attempts to show.
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
    /// Send a dead-lettered event again (the id is a `dead` line of `webhook-log`).
    ReplayDeadLetter {
        #[arg(long)]
        tenant: store::TenantSlug,
        #[arg(long)]
        webhook: store::WebhookId,
        #[arg(long)]
        delivery: store::DeliveryId,
    },
    /// Check a tenant's audit trail: every record unchanged, none missing, none moved, and
    /// the chain still the one its signed checkpoints signed (a history rewritten with
    /// recomputed hashes fails here). Exits non-zero and names the first problem.
    VerifyAudit {
        #[arg(long)]
        tenant: store::TenantSlug,
        /// Check against an exported copy of the checkpoints (JSON Lines, from the portal's
        /// audit page or the operator API) instead of the ones kept in the database.
        #[arg(long)]
        checkpoints: Option<PathBuf>,
    },
    /// Print the public keys audit checkpoints are checked against (the signing key's first;
    /// its file is made if missing, as the server does).
    AuditPublicKey,
    /// Make a setup link for a tenant's admin: single-use, expiring; it is printed once.
    CreateSetupLink {
        /// The tenant the link invites to.
        #[arg(long)]
        tenant: store::TenantSlug,
        /// How many days the link stays valid (1 to 30).
        #[arg(long, default_value_t = 7)]
        valid_days: u32,
        /// Print one JSON object (id, url, expires_at) instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Issue a key of the operator API (`/api/v1`, e.g. the event feed) for the operator's
    /// own product; it is printed once.
    CreateApiKey {
        /// What the key is for, e.g. the service that will use it.
        #[arg(long, default_value = "Created from the command line")]
        label: String,
        /// An area the key reaches: tenants, directory-data, webhooks, audit, api-keys
        /// (repeat it, or separate by commas; none: every area).
        #[arg(long = "area", value_delimiter = ',')]
        areas: Vec<String>,
        /// The key only reads (GET requests).
        #[arg(long)]
        read_only: bool,
        /// Days until the key expires (1 to 3650; none: it does not expire).
        #[arg(long)]
        expires_in_days: Option<i64>,
        /// Print one JSON object (id, key, api_base_url, areas, read_only, expires_at)
        /// instead of text.
        #[arg(long)]
        json: bool,
    },
    /// List the operator API's keys with their reach, state and last use (never a secret).
    ListApiKeys {
        /// Print one JSON array instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Revoke an operator API key: its next request is refused.
    RevokeApiKey {
        /// The key's id (from `list-api-keys`).
        #[arg(long)]
        id: store::ApiKeyId,
    },
    /// Issue OAuth 2.0 client credentials for a directory, for identity providers that fetch
    /// short-lived tokens from `POST /oauth/token` (client-credentials grant).
    CreateOauthClient {
        /// The tenant that owns the directory.
        #[arg(long)]
        tenant: store::TenantSlug,
        /// The directory's id (from `create-directory`).
        #[arg(long)]
        directory: store::DirectoryId,
        /// A label for the client, shown in the portal.
        #[arg(long, default_value = "Created from the command line")]
        label: String,
        /// Print one JSON object (client_id, client_secret, token_url) instead of text.
        #[arg(long)]
        json: bool,
    },
    /// List a directory's OAuth clients with their last token request and live access
    /// tokens (never a secret).
    ListOauthClients {
        #[arg(long)]
        tenant: store::TenantSlug,
        #[arg(long)]
        directory: store::DirectoryId,
        /// Print one JSON array instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Give an OAuth client a new secret; the old one keeps working for the overlap.
    RotateOauthClient {
        #[arg(long)]
        tenant: store::TenantSlug,
        #[arg(long)]
        directory: store::DirectoryId,
        #[arg(long)]
        client_id: String,
        /// How long the old secret keeps working, in minutes (0 to 10080).
        #[arg(long, default_value_t = 1440)]
        overlap_minutes: i64,
        /// Print one JSON object (client_id, client_secret, old_secret_until) instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Revoke an OAuth client and every access token it fetched.
    RevokeOauthClient {
        #[arg(long)]
        tenant: store::TenantSlug,
        #[arg(long)]
        directory: store::DirectoryId,
        #[arg(long)]
        client_id: String,
    },
}

fn parse_resource_type(text: &str) -> Result<store::ResourceKind, String> {
    match text.to_ascii_lowercase().as_str() {
        "user" | "users" => Ok(store::ResourceKind::User),
        "group" | "groups" => Ok(store::ResourceKind::Group),
        other => Err(format!("{other:?} is not a resource type: User or Group")),
    }
}

/// `strict` is true, `preserve` false (`DirectorySettings::strict_attributes`).
fn parse_unknown_attributes(text: &str) -> Result<bool, String> {
    match text.to_ascii_lowercase().as_str() {
        "strict" => Ok(true),
        "preserve" => Ok(false),
        other => Err(format!("{other:?} is not a policy: strict or preserve")),
    }
}

/// `on` is true, `off` false.
fn parse_on_off(text: &str) -> Result<bool, String> {
    match text.to_ascii_lowercase().as_str() {
        "on" => Ok(true),
        "off" => Ok(false),
        other => Err(format!("{other:?} is neither on nor off")),
    }
}

fn parse_idp(text: &str) -> Result<store::IdentityProvider, String> {
    text.parse().map_err(|error: store::UnknownIdentityProvider| error.to_string())
}

/// Where `/metrics` is served (`METRICS_LISTEN`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricsListen {
    /// On the main listener, with everything else.
    Main,
    /// On a listener of its own, and not on the main one.
    Separate(SocketAddr),
    /// Not at all.
    Off,
}

impl std::str::FromStr for MetricsListen {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.trim().to_ascii_lowercase().as_str() {
            "main" => Ok(MetricsListen::Main),
            "off" => Ok(MetricsListen::Off),
            other => other.parse().map(MetricsListen::Separate).map_err(|_| {
                format!("{text:?} is not where to serve metrics: main, off, or an address such as 127.0.0.1:9464")
            }),
        }
    }
}

/// Settings shared by every subcommand.
#[derive(Clone, Args)]
pub struct Config {
    /// Where the data lives: `sqlite:<path>` (created if missing) or
    /// `postgres://user:password@host:port/database`.
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://data/portal.db", global = true)]
    pub database_url: DatabaseUrl,

    /// PostgreSQL: the role that owns the schema, on the same database
    /// (`postgres://owner:password@host:port/database`). Migrations run as it and it grants
    /// `DATABASE_URL`'s role reading and writing rows only, so the server cannot turn
    /// row-level security off. Unset: `DATABASE_URL`'s role migrates and owns the schema
    /// (start-up warns).
    #[arg(long, env = "DATABASE_OWNER_URL", hide_env_values = true, global = true)]
    pub database_owner_url: Option<DatabaseUrl>,

    /// Most database connections the server opens (default: on SQLite two per CPU core and
    /// two more, on PostgreSQL 16).
    #[arg(long, env = "DATABASE_MAX_CONNECTIONS", value_parser = clap::value_parser!(u32).range(1..), global = true)]
    pub database_max_connections: Option<u32>,

    /// Endpoints whose webhook deliveries use the database at once, over all tenants
    /// (default: half the connection pool), so that deliveries to many endpoints leave
    /// connections to the identity providers' requests. Sending needs none.
    #[arg(long, env = "WEBHOOK_DATABASE_SLOTS", value_parser = clap::value_parser!(u32).range(1..), global = true)]
    pub webhook_database_slots: Option<u32>,

    /// Where the Google Workspace connector gets its access tokens (Google's own address;
    /// tests point it at a stand-in).
    #[arg(long, env = "GOOGLE_TOKEN_URL", default_value = "https://oauth2.googleapis.com/token", global = true)]
    pub google_token_url: String,

    /// The Admin SDK Directory API the connector reads (Google's own address; tests point it
    /// at a stand-in).
    #[arg(long, env = "GOOGLE_API_BASE", default_value = "https://admin.googleapis.com", global = true)]
    pub google_api_base: String,

    /// Let outbound requests (webhook deliveries, tenants' OpenID Connect providers) reach
    /// private, loopback and link-local addresses too (on-premises receivers and
    /// providers, tests). Off by default: such targets are refused.
    #[arg(long, env = "WEBHOOKS_ALLOW_INTERNAL_TARGETS", global = true, alias = "allow-internal-targets")]
    pub webhooks_allow_internal_targets: bool,

    /// Seconds a verified SCIM token is trusted without reading the database again; 0
    /// turns the cache off. Revocation and new schema extensions reach every server
    /// process at once on PostgreSQL; on SQLite, other processes on the same file see
    /// them within this time.
    #[arg(long, env = "CREDENTIAL_CACHE_SECONDS", default_value_t = 5, global = true)]
    pub credential_cache_seconds: u64,

    /// Address and port to listen on. Use 0.0.0.0:3000 to accept connections from other hosts.
    #[arg(long, env = "BIND_ADDR", default_value = "127.0.0.1:3000", global = true)]
    pub bind: SocketAddr,

    /// The address people and identity providers use to reach this server (behind a proxy,
    /// the proxy's `https://` address). Links and sign-in cookies are derived from it:
    /// cookies are marked Secure when it starts with `https://`.
    #[arg(long, env = "PUBLIC_URL", default_value = "http://127.0.0.1:3000", global = true)]
    pub public_url: String,

    /// Email of the first operator account, created at the first start of an empty
    /// deployment (and ignored once any operator exists).
    #[arg(long, env = "OPERATOR_EMAIL", default_value = "operator@localhost", global = true)]
    pub operator_email: String,

    /// Password of the first operator account (at least 12 characters). When unset, a
    /// random one is generated and printed once at that first start.
    #[arg(long, env = "OPERATOR_PASSWORD", hide_env_values = true, global = true)]
    pub operator_password: Option<String>,

    /// The folder holding the built browser bundle (`pkg/portal.js`, `.wasm`, `.css`), as
    /// written by `cargo xtask build`.
    #[arg(long, env = "SITE_ROOT", default_value = "target/site", global = true)]
    pub site_root: PathBuf,

    /// Days a deleted directory's users, groups and events are kept before the purge job
    /// deletes them; 0 purges them at the job's next run (it runs every minute).
    #[arg(
        long,
        env = "DELETED_DIRECTORY_RETENTION_DAYS",
        default_value_t = service::directory_lifecycle::DEFAULT_RETENTION_DAYS,
        global = true
    )]
    pub deleted_directory_retention_days: u32,

    /// Minutes within which the vendor's product must confirm that it applied a user's
    /// deactivation or deletion; a revocation unconfirmed for longer shows as overdue on
    /// the tenant's Offboarding page, in the support console and the operator API.
    #[arg(
        long,
        env = "REVOCATION_SLA_MINUTES",
        default_value_t = service::receipts::DEFAULT_SLA_MINUTES,
        value_parser = clap::value_parser!(u32).range(1..),
        global = true
    )]
    pub revocation_sla_minutes: u32,

    /// Directories a tenant may have at most (deleted ones aside): a tenant's admins, the
    /// console and the operator API cannot add more; the CLI is not limited.
    #[arg(long, env = "MAX_DIRECTORIES_PER_TENANT", default_value_t = 25,
          value_parser = clap::value_parser!(u32).range(1..), global = true)]
    pub max_directories_per_tenant: u32,

    /// SCIM requests per second a tenant may make over all its directories (bursts of ten
    /// seconds' worth), beside each directory's own limit; past it, 429 with `Retry-After`.
    #[arg(long, env = "SCIM_TENANT_RATE_LIMIT_PER_SECOND", default_value_t = 2_000,
          value_parser = clap::value_parser!(u32).range(1..), global = true)]
    pub scim_tenant_rate_limit_per_second: u32,

    /// Seconds a PostgreSQL statement may run before it is cancelled (0: no limit), so that
    /// no request or job holds a connection and its locks for long. Migrations run without it.
    #[arg(long, env = "DATABASE_STATEMENT_TIMEOUT_SECONDS", default_value_t = 25, global = true)]
    pub database_statement_timeout_seconds: u64,

    /// Seconds between two reads of the session by a live request stream, which ends once
    /// its session is gone (tests shorten it).
    #[arg(long, env = "LIVE_SESSION_RECHECK_SECONDS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..), global = true, hide = true)]
    pub live_session_recheck_seconds: u64,

    /// Take the client's address from the last `X-Forwarded-For` entry (the one the proxy
    /// in front of the server appended) instead of the connection's peer. Set it only when
    /// every request comes through such a proxy: sign-in throttling is per address.
    #[arg(long, env = "TRUST_FORWARDED_FOR", global = true)]
    pub trust_forwarded_for: bool,

    /// The SMTP server alerts are emailed through: `smtp://host:25` (plain),
    /// `smtp://user:password@host:587?tls=required` (STARTTLS) or `smtps://…:465` (TLS).
    /// Unset: no email is sent (alerts still show in the portal and go to the alert webhook).
    #[arg(long, env = "SMTP_URL", hide_env_values = true, global = true)]
    pub smtp_url: Option<String>,

    /// The sender of the product's email: `Name <address>` or an address.
    #[arg(long, env = "MAIL_FROM", default_value = "SCIM Portal <noreply@localhost>", global = true)]
    pub mail_from: String,

    /// The operator's support address: it receives every tenant's alerts.
    #[arg(long, env = "SUPPORT_EMAIL", global = true)]
    pub support_email: Option<String>,

    /// Whether a tenant's alerts are emailed to its admins too.
    #[arg(long, env = "ALERT_EMAIL_ADMINS", default_value_t = true, action = clap::ArgAction::Set, global = true)]
    pub alert_email_admins: bool,

    /// An HTTPS endpoint of the operator that receives alerts as signed JSON
    /// (`alert.opened`, `alert.repeated`, `alert.resolved`; header `Alert-Signature`).
    #[arg(long, env = "ALERT_WEBHOOK_URL", global = true)]
    pub alert_webhook_url: Option<String>,

    /// The secret the alert webhook's signatures are made with (required with its URL).
    #[arg(long, env = "ALERT_WEBHOOK_SECRET", hide_env_values = true, global = true)]
    pub alert_webhook_secret: Option<String>,

    /// Minutes after which an alert that is still open is told again.
    #[arg(long, env = "ALERT_REPEAT_MINUTES", default_value_t = 240,
          value_parser = clap::value_parser!(u32).range(1..), global = true)]
    pub alert_repeat_minutes: u32,

    /// Percent of a directory's SCIM requests in 15 minutes that may fail (with at least
    /// 10 failures) before an alert.
    #[arg(long, env = "ALERT_ERROR_RATE_PERCENT", default_value_t = 20,
          value_parser = clap::value_parser!(u32).range(1..=100), global = true)]
    pub alert_error_rate_percent: u32,

    /// Seconds between two rounds of alert checks.
    #[arg(long, env = "ALERT_CHECK_SECONDS", default_value_t = 60,
          value_parser = clap::value_parser!(u64).range(1..), global = true)]
    pub alert_check_seconds: u64,

    /// The file holding the deployment's Ed25519 key that signs the audit chains'
    /// checkpoints: its 32-byte seed in base64. Created with a new key at the server's first
    /// start if missing. Keep it out of the database's reach (and its backups): whoever
    /// holds it can sign a rewritten history.
    #[arg(long, env = "AUDIT_SIGNING_KEY_FILE", default_value = "data/audit-signing.key", global = true)]
    pub audit_signing_key_file: PathBuf,

    /// The file holding the key webhook signing secrets and tenants' OpenID Connect client
    /// secrets are sealed with (32 bytes in base64); made at the first start if missing.
    /// Keep it apart from the database and its backups.
    #[arg(long, env = "SECRETS_KEY_FILE", default_value = "data/secrets.key", global = true)]
    pub secrets_key_file: PathBuf,

    /// Earlier secrets keys (base64, comma-separated) that still open what they sealed; the
    /// server seals everything with the current key at start, after which they can go.
    #[arg(long, env = "SECRETS_PREVIOUS_KEYS", value_delimiter = ',', hide_env_values = true, global = true)]
    pub secrets_previous_keys: Vec<String>,

    /// Public keys (base64, comma-separated) whose checkpoints are trusted besides the
    /// signing key's own: the keys used before a rotation.
    #[arg(long, env = "AUDIT_TRUSTED_PUBLIC_KEYS", value_delimiter = ',', global = true)]
    pub audit_trusted_public_keys: Vec<String>,

    /// The shortest audit retention a tenant's admin may set, in days; retention set
    /// shorter before is enforced as this.
    #[arg(long, env = "AUDIT_RETENTION_MINIMUM_DAYS",
          default_value_t = service::audit::DEFAULT_MINIMUM_RETENTION_DAYS,
          value_parser = clap::value_parser!(u32).range(1..=3650), global = true)]
    pub audit_retention_minimum_days: u32,

    /// Demo mode: a tenant `demo` whose Okta directory a simulated identity provider built
    /// into the server provisions (a company, then a trickle of changes and a failing
    /// request every minute), so the dashboard, audit trail, support console and event feed
    /// show life at once. Off by default; not for a deployment with real customers.
    #[arg(long, env = "DEMO", global = true)]
    pub demo: bool,

    /// The password of the demo tenant's admin (`admin@demo.example`) when demo mode makes
    /// the account; unset: generated and printed once.
    #[arg(long, env = "DEMO_ADMIN_PASSWORD", hide_env_values = true, global = true)]
    pub demo_admin_password: Option<String>,

    /// Seconds between two requests of the simulated identity provider (tests shorten it).
    #[arg(long, env = "DEMO_REQUEST_SECONDS", default_value_t = 3,
          value_parser = clap::value_parser!(u64).range(1..), global = true, hide = true)]
    pub demo_request_seconds: u64,

    /// Seconds between two of its failing requests (tests shorten it).
    #[arg(long, env = "DEMO_FAILURE_SECONDS", default_value_t = 60,
          value_parser = clap::value_parser!(u64).range(1..), global = true, hide = true)]
    pub demo_failure_seconds: u64,

    /// Where `/metrics` (Prometheus / OpenMetrics text) is served: `main` (on `BIND_ADDR`,
    /// beside everything else), an address of its own such as `127.0.0.1:9464` (keeps it
    /// off the public listener), or `off`.
    #[arg(long, env = "METRICS_LISTEN", default_value = "main", global = true)]
    pub metrics_listen: MetricsListen,

    /// Seconds to let in-flight requests finish after SIGTERM or Ctrl-C before exiting.
    #[arg(long, env = "SHUTDOWN_GRACE_SECONDS", default_value_t = 20, global = true)]
    pub shutdown_grace_seconds: u64,

    #[command(flatten)]
    pub log: LogConfig,
}

impl Config {
    /// How many database connections the server opens: `DATABASE_MAX_CONNECTIONS`, else a
    /// default for the backend. A SQLite connection runs its statements on a thread of its
    /// own, on this machine's cores, from its own page cache: connections beyond the cores
    /// add thread switches and colder caches, not parallelism (2 cores, 2,000 users, 64
    /// reads in flight: 6 connections served `userName eq` at 59-62% of the bare handler,
    /// 16 at 52-54%). A PostgreSQL connection waits on the network and the server's own
    /// processes, so more of them overlap.
    pub fn database_max_connections(&self) -> u32 {
        self.database_max_connections.unwrap_or_else(|| match self.database_url.backend() {
            store::Backend::Sqlite => {
                let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
                u32::try_from(2 * cores + 2).unwrap_or(u32::MAX)
            }
            store::Backend::Postgres => 16,
        })
    }

    /// Whether sign-in cookies must only travel over HTTPS.
    pub fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
    }

    /// How long a deleted directory's data is kept.
    pub fn deleted_directory_retention(&self) -> chrono::Duration {
        service::directory_lifecycle::retention_of_days(self.deleted_directory_retention_days)
    }

    /// The alert settings the configuration asks for.
    pub fn alert_settings(&self) -> service::alerts::AlertSettings {
        service::alerts::AlertSettings {
            revocation_sla: chrono::Duration::minutes(i64::from(self.revocation_sla_minutes)),
            repeat_every: chrono::Duration::minutes(i64::from(self.alert_repeat_minutes)),
            error_rate_percent: self.alert_error_rate_percent,
            email_admins: self.alert_email_admins,
        }
    }

    /// Where alerts go: refuses a mail or webhook setting that cannot work, at start-up
    /// rather than at the first alert.
    pub fn alert_channels(&self) -> anyhow::Result<service::alerts::AlertChannels> {
        service::alerts::AlertChannels::configure(&service::alerts::ChannelSettings {
            smtp_url: self.smtp_url.as_deref(),
            mail_from: &self.mail_from,
            support_email: self.support_email.as_deref(),
            webhook_url: self.alert_webhook_url.as_deref(),
            webhook_secret: self.alert_webhook_secret.as_deref(),
            public_base: self.public_base(),
        })
        .map_err(|error| anyhow::anyhow!("alert settings: {error}"))
    }

    /// The audit signing key from its file, made when the file does not exist.
    pub fn audit_signer(&self, effects: &service::Effects) -> anyhow::Result<AuditSigner> {
        let seed = key_from_file(&self.audit_signing_key_file, "audit signing key", effects)?;
        Ok(AuditSigner::from_seed(&seed))
    }

    /// The keys whose checkpoints are trusted: the signing key's (when its file exists; it
    /// is not made here) and the configured earlier ones.
    pub fn audit_trusted_keys(&self) -> anyhow::Result<Vec<PublicKey>> {
        let mut keys = Vec::new();
        if let Some(seed) = read_key_file(&self.audit_signing_key_file)? {
            keys.push(AuditSigner::from_seed(&seed).public_key());
        }
        for text in self.audit_trusted_public_keys.iter().filter(|text| !text.trim().is_empty()) {
            keys.push(PublicKey::parse(text)?);
        }
        Ok(keys)
    }

    /// The keys secrets are sealed with: the current one from its file (made when the file
    /// does not exist) and the configured earlier ones.
    pub fn secret_keys(&self, effects: &service::Effects) -> anyhow::Result<store::SecretKeys> {
        let current = key_from_file(&self.secrets_key_file, "secrets key", effects)?;
        let previous = self
            .secrets_previous_keys
            .iter()
            .filter(|text| !text.trim().is_empty())
            .map(|text| decode_key(text).context("SECRETS_PREVIOUS_KEYS"))
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok(store::SecretKeys::new(&current, &previous))
    }

    /// Where the Google Workspace connector talks to Google.
    pub fn google_options(&self) -> service::google::GoogleOptions {
        service::google::GoogleOptions {
            endpoints: service::google::GoogleEndpoints {
                token_url: self.google_token_url.clone(),
                api_base: self.google_api_base.trim_end_matches('/').to_owned(),
            },
            ..service::google::GoogleOptions::default()
        }
    }

    /// The public URL without a trailing slash, for building links.
    pub fn public_base(&self) -> &str {
        self.public_url.trim_end_matches('/')
    }
}

/// A 32-byte key in base64, as key files and settings hold it.
fn decode_key(text: &str) -> anyhow::Result<[u8; 32]> {
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .map_err(|_| anyhow::anyhow!("a key must be 32 bytes in base64 (e.g. `openssl rand -base64 32`)"))?;
    bytes.try_into().map_err(|_| anyhow::anyhow!("a key must be 32 bytes in base64 (e.g. `openssl rand -base64 32`)"))
}

/// The key in `path`; `None` when there is no such file.
fn read_key_file(path: &std::path::Path) -> anyhow::Result<Option<[u8; 32]>> {
    match std::fs::read_to_string(path) {
        Ok(text) => decode_key(&text).with_context(|| format!("reading {}", path.display())).map(Some),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(error).with_context(|| format!("reading {}", path.display())),
    }
}

/// The key in `path`, made from fresh random bytes (and the file written, readable by its
/// owner only) when there is no such file.
fn key_from_file(path: &std::path::Path, what: &str, effects: &service::Effects) -> anyhow::Result<[u8; 32]> {
    use base64::Engine as _;
    if let Some(key) = read_key_file(path)? {
        return Ok(key);
    }
    let mut key = [0_u8; 32];
    effects.fill(&mut key);
    if let Some(folder) = path.parent().filter(|folder| !folder.as_os_str().is_empty()) {
        std::fs::create_dir_all(folder).with_context(|| format!("creating {}", folder.display()))?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).with_context(|| format!("creating {}", path.display()))?;
    let text = format!("{}\n", base64::engine::general_purpose::STANDARD.encode(key));
    std::io::Write::write_all(&mut file, text.as_bytes()).with_context(|| format!("writing {}", path.display()))?;
    tracing::info!(file = %path.display(), "made a new {what}");
    Ok(key)
}

/// Written by hand so that the operator password never reaches a log line.
impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("database_url", &self.database_url)
            .field("database_owner_url", &self.database_owner_url)
            .field("database_max_connections", &self.database_max_connections)
            .field("credential_cache_seconds", &self.credential_cache_seconds)
            .field("webhooks_allow_internal_targets", &self.webhooks_allow_internal_targets)
            .field("google_token_url", &self.google_token_url)
            .field("google_api_base", &self.google_api_base)
            .field("webhook_database_slots", &self.webhook_database_slots)
            .field("bind", &self.bind)
            .field("public_url", &self.public_url)
            .field("operator_email", &self.operator_email)
            .field("operator_password", &self.operator_password.as_ref().map(|_| "***"))
            .field("site_root", &self.site_root)
            .field("shutdown_grace_seconds", &self.shutdown_grace_seconds)
            .field("metrics_listen", &self.metrics_listen)
            .field("demo", &self.demo)
            .field("demo_admin_password", &self.demo_admin_password.as_ref().map(|_| "***"))
            .field("deleted_directory_retention_days", &self.deleted_directory_retention_days)
            .field("revocation_sla_minutes", &self.revocation_sla_minutes)
            .field("database_statement_timeout_seconds", &self.database_statement_timeout_seconds)
            .field("scim_tenant_rate_limit_per_second", &self.scim_tenant_rate_limit_per_second)
            .field("max_directories_per_tenant", &self.max_directories_per_tenant)
            .field("trust_forwarded_for", &self.trust_forwarded_for)
            .field("live_session_recheck_seconds", &self.live_session_recheck_seconds)
            .field("smtp_url", &self.smtp_url.as_ref().map(|_| "***"))
            .field("mail_from", &self.mail_from)
            .field("support_email", &self.support_email)
            .field("alert_email_admins", &self.alert_email_admins)
            .field("alert_webhook_url", &self.alert_webhook_url)
            .field("alert_webhook_secret", &self.alert_webhook_secret.as_ref().map(|_| "***"))
            .field("alert_repeat_minutes", &self.alert_repeat_minutes)
            .field("alert_error_rate_percent", &self.alert_error_rate_percent)
            .field("alert_check_seconds", &self.alert_check_seconds)
            .field("audit_signing_key_file", &self.audit_signing_key_file)
            .field("secrets_key_file", &self.secrets_key_file)
            .field("secrets_previous_keys", &self.secrets_previous_keys.len())
            .field("audit_trusted_public_keys", &self.audit_trusted_public_keys)
            .field("audit_retention_minimum_days", &self.audit_retention_minimum_days)
            .field("log", &self.log)
            .finish()
    }
}

/// Logging. The filter uses `RUST_LOG` syntax (e.g. `info,server=debug`).
#[derive(Debug, Clone, Args)]
pub struct LogConfig {
    /// Which events to log, in `RUST_LOG` syntax.
    #[arg(long = "log-filter", env = "RUST_LOG", default_value = "info,sqlx=warn", global = true)]
    pub filter: String,
    /// `text` for people, `json` for log collectors.
    #[arg(long = "log-format", env = "LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub format: LogFormat,
}

/// The shape of log lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_32_bytes_in_base64_around_whitespace() {
        use base64::Engine as _;
        let encode = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
        assert!(decode_key("not base64!").is_err());
        assert!(decode_key(&encode(&[1_u8; 31])).is_err());
        assert_eq!(decode_key(&format!("  {}\n", encode(&[7_u8; 32]))).unwrap(), [7_u8; 32]);
    }

    #[test]
    fn the_defaults_run_on_a_local_sqlite_file() {
        let cli = Cli::try_parse_from(["server"]).unwrap();
        assert_eq!(cli.config.database_url.backend(), store::Backend::Sqlite);
        assert_eq!(cli.config.bind, "127.0.0.1:3000".parse::<SocketAddr>().unwrap());
        assert!(cli.command.is_none());
    }

    #[test]
    fn metrics_are_served_on_the_main_listener_an_address_of_their_own_or_not_at_all() {
        let listen = |value: &str| {
            Cli::try_parse_from(["server", "--metrics-listen", value]).map(|cli| cli.config.metrics_listen)
        };
        assert_eq!(Cli::try_parse_from(["server"]).unwrap().config.metrics_listen, MetricsListen::Main);
        assert_eq!(listen("OFF").unwrap(), MetricsListen::Off);
        assert_eq!(listen("127.0.0.1:9464").unwrap(), MetricsListen::Separate("127.0.0.1:9464".parse().unwrap()));
        let refused = listen("metrics.internal").unwrap_err().to_string();
        assert!(refused.contains("main, off, or an address"), "{refused}");
    }

    #[test]
    fn the_pool_follows_the_cores_on_sqlite_unless_set() {
        let pool = |args: &[&str]| {
            let cli = Cli::try_parse_from([&["server"], args].concat()).unwrap();
            cli.config.database_max_connections()
        };
        let cores = std::thread::available_parallelism().unwrap().get();
        assert_eq!(pool(&[]) as usize, 2 * cores + 2);
        assert_eq!(pool(&["--database-url", "postgres://app@db/portal"]), 16);
        assert_eq!(pool(&["--database-max-connections", "3"]), 3);
        assert!(Cli::try_parse_from(["server", "--database-max-connections", "0"]).is_err());
    }

    #[test]
    fn a_postgres_url_selects_postgres() {
        let cli = Cli::try_parse_from(["server", "--database-url", "postgres://app@db/portal", "migrate"]).unwrap();
        assert_eq!(cli.config.database_url.backend(), store::Backend::Postgres);
        assert!(matches!(cli.command, Some(Command::Migrate)));
    }

    #[test]
    fn cookies_are_secure_exactly_when_the_public_url_is_https() {
        let local = Cli::try_parse_from(["server"]).unwrap();
        let public = Cli::try_parse_from(["server", "--public-url", "https://scim.vendor.example/"]).unwrap();
        assert!(!local.config.secure_cookies());
        assert!(public.config.secure_cookies());
        assert_eq!(public.config.public_base(), "https://scim.vendor.example");
    }

    #[test]
    fn debug_output_hides_the_operator_password() {
        let cli = Cli::try_parse_from(["server", "--operator-password", "hunter2hunter2"]).unwrap();
        let shown = format!("{:?}", cli.config);
        assert!(!shown.contains("hunter2"), "{shown}");
    }

    #[test]
    fn create_directory_takes_a_tenant_slug_and_an_idp() {
        let cli = Cli::try_parse_from([
            "server",
            "admin",
            "create-directory",
            "--tenant",
            "acme",
            "--idp",
            "entra",
            "--json",
        ])
        .unwrap();
        let Some(Command::Admin(AdminCommand::CreateDirectory { tenant, idp, json, .. })) = cli.command else {
            panic!("parsed as {:?}", cli.command);
        };
        assert_eq!((tenant.as_str(), idp, json), ("acme", store::IdentityProvider::Entra, true));
    }

    #[test]
    fn create_directory_explains_a_bad_tenant_or_idp() {
        let slug = Cli::try_parse_from(["server", "admin", "create-directory", "--tenant", "Acme!", "--idp", "okta"]);
        let idp = Cli::try_parse_from(["server", "admin", "create-directory", "--tenant", "acme", "--idp", "azure"]);
        assert!(slug.unwrap_err().to_string().contains("not a valid tenant name"));
        assert!(idp.unwrap_err().to_string().contains("expected one of okta, entra"));
    }

    #[test]
    fn deleted_directories_are_kept_thirty_days_unless_the_operator_says_otherwise() {
        let default = Cli::try_parse_from(["server"]).unwrap();
        let at_once = Cli::try_parse_from(["server", "--deleted-directory-retention-days", "0"]).unwrap();
        assert_eq!(default.config.deleted_directory_retention(), chrono::Duration::days(30));
        assert_eq!(at_once.config.deleted_directory_retention(), chrono::Duration::zero());
        let negative = Cli::try_parse_from(["server", "--deleted-directory-retention-days", "-1"]);
        assert!(negative.is_err());
    }

    #[test]
    fn an_unknown_database_scheme_is_refused_at_parse_time() {
        let error = Cli::try_parse_from(["server", "--database-url", "mysql://x"]).unwrap_err();
        assert!(error.to_string().contains("unsupported database URL"), "{error}");
    }
}
