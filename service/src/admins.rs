//! Tenant admins and the setup links that make them.
//!
//! A setup link is `{public base}/setup/setup_<256 random bits, base64url>`: single-use,
//! expiring, bound to one tenant. Operators make them for a customer's first admin; admins
//! make them to invite colleagues. Only the SHA-256 digest of the secret is stored. The
//! visitor chooses an email and a password (argon2id, as for operators), and the link is
//! used up in the same transaction that makes the account.

use chrono::{DateTime, Duration, Utc};
use store::{NewSetupLink, SetupLinkId, Store, StoreError, Tenant, TenantAdmin, TenantAdminId, TenantId};

use crate::actor::Actor;
use crate::directories::digest;
use crate::mail::{Mailer, mailbox};
use crate::operators::{self, MIN_PASSWORD_LENGTH, OperatorEmail, OperatorError, SignInThrottle, SignedInOperator};
use crate::{Effects, ServiceError};

const SETUP_LINK_PREFIX: &str = "setup_";

/// How long a setup link stays valid unless its maker says otherwise.
pub const DEFAULT_SETUP_LINK_LIFETIME: Duration = Duration::days(7);

/// The longest lifetime a setup link may have.
pub const MAX_SETUP_LINK_LIFETIME: Duration = Duration::days(30);

/// A setup link just made: the secret is here once and never stored.
#[derive(Debug, Clone)]
pub struct IssuedSetupLink {
    pub id: SetupLinkId,
    pub secret: String,
    pub expires_at: DateTime<Utc>,
}

impl IssuedSetupLink {
    /// The address to hand to the customer.
    pub fn url(&self, public_base: &str) -> String {
        format!("{}/setup/{}", public_base.trim_end_matches('/'), self.secret)
    }
}

/// Why a setup link opens nothing. The portal tells the visitor which, so that they know
/// to ask for a new one; none of them says whether the tenant exists.
#[derive(Debug, thiserror::Error)]
pub enum SetupLinkError {
    #[error("this setup link is not valid: check that it was copied whole")]
    Unknown,
    #[error("this setup link has been used already: ask for a new one, or sign in")]
    Used,
    #[error("this setup link has expired: ask for a new one")]
    Expired,
    #[error("this setup link was withdrawn: ask for a new one")]
    Revoked,
    #[error("there is no such setup link")]
    NoSuchLink,
    #[error("a setup link lives between one hour and {} days", MAX_SETUP_LINK_LIFETIME.num_days())]
    InvalidLifetime,
    #[error("enter an email address like name@example.com")]
    InvalidEmail,
    #[error("the password must be at least {MIN_PASSWORD_LENGTH} characters long")]
    PasswordTooShort,
    #[error("an admin of this organisation has this email already: sign in with it instead")]
    EmailTaken,
    #[error("this deployment sends no email (SMTP_URL is not set): create the link and pass it on yourself")]
    NoMail,
    #[error("{0:?} is not an email address to send the link to")]
    InvalidRecipient(String),
    #[error(
        "the setup link could not be emailed ({0}); it was withdrawn, so no link is left open: try again, or create one to pass on yourself"
    )]
    NotSent(String),
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl From<StoreError> for SetupLinkError {
    fn from(error: StoreError) -> Self {
        SetupLinkError::Service(error.into())
    }
}

/// A signed-in tenant admin, as sessions remember them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedInAdmin {
    pub id: TenantAdminId,
    pub email: String,
    pub tenant: TenantId,
}

/// Where a tenant admin lands after signing in or accepting a setup link: the setup
/// wizard's first step while the tenant has no directory (what the setup link promised),
/// else the tenant's directories.
pub async fn landing_page(store: &Store, tenant: TenantId) -> Result<&'static str, ServiceError> {
    let directories = store.tenant(tenant).directories().await?;
    Ok(if directories.is_empty() { "/admin/connect" } else { "/admin" })
}

/// Who signed in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignedInAccount {
    Operator(SignedInOperator),
    Admin(SignedInAdmin),
}

/// Makes a setup link for `tenant`, valid for `lifetime`; the link names its maker, and
/// `setup_link.created` is recorded with it.
pub async fn create_setup_link(
    store: &Store,
    tenant: TenantId,
    actor: &Actor,
    lifetime: Duration,
    effects: &Effects,
) -> Result<IssuedSetupLink, SetupLinkError> {
    issue_setup_link(store, tenant, actor, lifetime, None, effects).await
}

/// A setup link emailed to the customer's IT admin: where it went and until when it works.
/// Its address is in the email only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailedSetupLink {
    pub id: SetupLinkId,
    pub sent_to: String,
    pub expires_at: DateTime<Utc>,
}

/// Makes a setup link for `tenant` and emails it to `recipient` (`setup_link.created`
/// names the address). The link is stored before the email goes out; if the SMTP server
/// refuses it, the link is withdrawn (`setup_link.revoked`, with why), so no link is left
/// open that nobody received.
#[allow(clippy::too_many_arguments)] // the mail's parts: who, to whom, from where, until when
pub async fn email_setup_link(
    store: &Store,
    mailer: Option<&Mailer>,
    public_base: &str,
    tenant: TenantId,
    actor: &Actor,
    lifetime: Duration,
    recipient: &str,
    effects: &Effects,
) -> Result<EmailedSetupLink, SetupLinkError> {
    let mailer = mailer.ok_or(SetupLinkError::NoMail)?;
    let address =
        OperatorEmail::parse(recipient).map_err(|_| SetupLinkError::InvalidRecipient(recipient.to_owned()))?;
    let mailbox = mailbox(address.as_str()).map_err(|_| SetupLinkError::InvalidRecipient(recipient.to_owned()))?;
    let link = issue_setup_link(store, tenant, actor, lifetime, Some(address.as_str()), effects).await?;
    let tenant_name = crate::tenants::name_of(store, tenant).await?.unwrap_or_default();
    let branding = crate::branding::current(store).await?;
    let inviter = match actor {
        Actor::Operator { email, .. } | Actor::Admin { email, .. } => format!("{email} has invited you"),
        _ => "You are invited".to_owned(),
    };
    let text = format!(
        "Hello,\n\n{inviter} to {product} to connect {tenant_name}'s identity provider (Okta, Microsoft Entra ID, \
         OneLogin, JumpCloud or any other SCIM 2.0 client), so that your users and groups \
         are provisioned automatically.\n\n\
         Open this link to create your admin account; a step-by-step guide for your identity provider \
         follows:\n\n{url}\n\n\
         The link works once, until {until} (UTC). If you did not expect this message, ignore it: \
         nothing happens unless the link is opened.\n",
        product = branding.product_name,
        url = link.url(public_base),
        until = link.expires_at.format("%-d %B %Y, %H:%M"),
    );
    let subject = format!("Set up directory sync for {tenant_name}");
    if let Err(error) = mailer.send(&branding, &[mailbox], &subject, &text).await {
        let reason = format!("the email to {} could not be sent: {error}", address.as_str());
        withdraw(store, actor, tenant, link.id, Some(reason), effects.now()).await?;
        return Err(SetupLinkError::NotSent(error.to_string()));
    }
    Ok(EmailedSetupLink { id: link.id, sent_to: address.as_str().to_owned(), expires_at: link.expires_at })
}

async fn issue_setup_link(
    store: &Store,
    tenant: TenantId,
    actor: &Actor,
    lifetime: Duration,
    sent_to: Option<&str>,
    effects: &Effects,
) -> Result<IssuedSetupLink, SetupLinkError> {
    let now = effects.now();
    if lifetime < Duration::hours(1) || lifetime > MAX_SETUP_LINK_LIFETIME {
        return Err(SetupLinkError::InvalidLifetime);
    }
    let secret = format!("{SETUP_LINK_PREFIX}{}", effects.secret(32));
    let link = NewSetupLink {
        id: effects.id(),
        digest: digest(&secret),
        created_by: actor.audit_name(),
        created_at: now,
        expires_at: now + lifetime,
        sent_to: sent_to.map(str::to_owned),
    };
    let mut action = store.tenant(tenant).begin_action().await?;
    action.insert_setup_link(&link).await?;
    let mut detail = serde_json::json!({ "setup_link": link.id.to_string(), "expires_at": link.expires_at });
    if let Some(address) = sent_to {
        detail["sent_to"] = address.into();
    }
    action.commit(actor.record("setup_link.created", None, detail, now)).await?;
    Ok(IssuedSetupLink { id: link.id, secret, expires_at: link.expires_at })
}

/// Where a setup link is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetupLinkState {
    /// Can still be used.
    Open,
    Used,
    Expired,
    Revoked,
}

impl SetupLinkState {
    pub fn as_str(self) -> &'static str {
        match self {
            SetupLinkState::Open => "open",
            SetupLinkState::Used => "used",
            SetupLinkState::Expired => "expired",
            SetupLinkState::Revoked => "revoked",
        }
    }
}

/// A setup link as the lists show it (never its secret, which is not stored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetupLinkOverview {
    pub id: SetupLinkId,
    /// Who made it, in words: an email, an API key's label, "the command line".
    pub made_by: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
    /// The email of the admin who made their account with it.
    pub used_by: Option<String>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// The address it was emailed to (`None`: handed to its maker).
    pub sent_to: Option<String>,
    pub state: SetupLinkState,
}

/// The tenant's setup links, newest first, with who made each and where it is in its life.
pub async fn setup_links(
    store: &Store,
    tenant: TenantId,
    now: DateTime<Utc>,
) -> Result<Vec<SetupLinkOverview>, ServiceError> {
    let scope = store.tenant(tenant);
    let links = scope.setup_links().await?;
    let admins = scope.tenant_admins().await?;
    let operators = store.operators().await?;
    let keys = store.api_keys().await?;
    let made_by = |actor: &str| -> String {
        let (kind, id) = actor.split_once(':').unwrap_or((actor, ""));
        let found = match kind {
            "admin" => admins.iter().find(|a| a.id.to_string() == id).map(|a| a.email.clone()),
            "operator" => operators.iter().find(|o| o.id.to_string() == id).map(|o| o.email.clone()),
            "api-key" => keys.iter().find(|k| k.id.to_string() == id).map(|k| format!("API key ‘{}’", k.label)),
            "cli" => Some("the command line".to_owned()),
            _ => None,
        };
        found.unwrap_or_else(|| match kind {
            "admin" => "a removed admin".to_owned(),
            "operator" => "a removed operator".to_owned(),
            _ => actor.to_owned(),
        })
    };
    Ok(links
        .into_iter()
        .map(|link| {
            let state = if link.used_at.is_some() {
                SetupLinkState::Used
            } else if link.revoked_at.is_some() {
                SetupLinkState::Revoked
            } else if link.expires_at <= now {
                SetupLinkState::Expired
            } else {
                SetupLinkState::Open
            };
            SetupLinkOverview {
                id: link.id,
                made_by: made_by(&link.created_by),
                created_at: link.created_at,
                expires_at: link.expires_at,
                used_at: link.used_at,
                used_by: link.used_by.map(|id| {
                    admins
                        .iter()
                        .find(|admin| admin.id == id)
                        .map_or_else(|| "a removed admin".to_owned(), |admin| admin.email.clone())
                }),
                revoked_at: link.revoked_at,
                sent_to: link.sent_to,
                state,
            }
        })
        .collect())
}

/// Withdraws an open setup link of the tenant (`setup_link.revoked` in its trail); one
/// used, expired or withdrawn already is refused with its state.
pub async fn revoke_setup_link(
    store: &Store,
    actor: &Actor,
    tenant: TenantId,
    link: SetupLinkId,
    now: DateTime<Utc>,
) -> Result<(), SetupLinkError> {
    let links = setup_links(store, tenant, now).await?;
    let found = links.iter().find(|l| l.id == link).ok_or(SetupLinkError::NoSuchLink)?;
    match found.state {
        SetupLinkState::Used => return Err(SetupLinkError::Used),
        SetupLinkState::Expired => return Err(SetupLinkError::Expired),
        SetupLinkState::Revoked => return Err(SetupLinkError::Revoked),
        SetupLinkState::Open => {}
    }
    withdraw(store, actor, tenant, link, None, now).await
}

/// Withdraws an open link and records `setup_link.revoked` (with why, when the server
/// withdrew it itself) in the same transaction.
async fn withdraw(
    store: &Store,
    actor: &Actor,
    tenant: TenantId,
    link: SetupLinkId,
    reason: Option<String>,
    now: DateTime<Utc>,
) -> Result<(), SetupLinkError> {
    let mut action = store.tenant(tenant).begin_action().await?;
    if !action.revoke_setup_link(link, now).await? {
        // Used at this very moment.
        return Err(SetupLinkError::Used);
    }
    let mut detail = serde_json::json!({ "setup_link": link.to_string() });
    if let Some(reason) = reason {
        detail["reason"] = reason.into();
    }
    action.commit(actor.record("setup_link.revoked", None, detail, now)).await?;
    Ok(())
}

/// What a usable setup link invites to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetupInvitation {
    pub tenant: Tenant,
    /// The address the link was emailed to: the page offers it as the admin's email.
    pub sent_to: Option<String>,
}

/// The tenant a setup link invites to, if the link can still be used.
pub async fn open_setup_link(
    store: &Store,
    secret: &str,
    now: DateTime<Utc>,
) -> Result<SetupInvitation, SetupLinkError> {
    let link = usable_link(store, secret, now).await?;
    let tenant = store.tenant_by_id(link.tenant).await?.ok_or(SetupLinkError::Unknown)?;
    Ok(SetupInvitation { tenant, sent_to: link.sent_to })
}

async fn usable_link(store: &Store, secret: &str, now: DateTime<Utc>) -> Result<store::SetupLink, SetupLinkError> {
    let secret = secret.trim();
    if !secret.starts_with(SETUP_LINK_PREFIX) || secret.len() > 100 {
        return Err(SetupLinkError::Unknown);
    }
    let link = store.setup_link_by_digest(&digest(secret)).await?.ok_or(SetupLinkError::Unknown)?;
    if link.used_at.is_some() {
        return Err(SetupLinkError::Used);
    }
    if link.revoked_at.is_some() {
        return Err(SetupLinkError::Revoked);
    }
    if link.expires_at <= now {
        return Err(SetupLinkError::Expired);
    }
    Ok(link)
}

/// Uses a setup link to make a tenant admin with this email and password. Two visits
/// racing with the same link make one account; the other gets [`SetupLinkError::Used`].
pub async fn redeem_setup_link(
    store: &Store,
    secret: &str,
    email: &str,
    password: String,
    effects: &Effects,
) -> Result<SignedInAdmin, SetupLinkError> {
    let now = effects.now();
    let link = usable_link(store, secret, now).await?;
    let email = OperatorEmail::parse(email).map_err(|_| SetupLinkError::InvalidEmail)?;
    if password.chars().count() < MIN_PASSWORD_LENGTH {
        return Err(SetupLinkError::PasswordTooShort);
    }
    // Whether another tenant (or an operator) has this email is not checked, and not told:
    // the account starts unconfirmed, and the email becomes its sign-in name only once its
    // owner follows the confirmation link mailed to it (see `confirm_email`).
    let password_hash = operators::hash_password(effects, password).await.map_err(|error| match error {
        OperatorError::Service(error) => SetupLinkError::Service(error),
        other => SetupLinkError::Service(ServiceError::Internal(other.to_string())),
    })?;
    let admin = TenantAdmin {
        tenant: link.tenant,
        id: effects.id(),
        email: email.as_str().to_owned(),
        password_hash: Some(password_hash),
        oidc_subject: None,
        created_at: now,
        disabled_at: None,
        email_verified_at: None,
    };
    make_admin(store, &link, admin, now).await
}

/// Uses a setup link to make a tenant admin who signs in with the tenant's OpenID Connect
/// provider: `email` and `subject` come from a verified ID token (see `sso`).
pub(crate) async fn redeem_setup_link_with_identity(
    store: &Store,
    secret: &str,
    email: &str,
    subject: &str,
    effects: &Effects,
) -> Result<SignedInAdmin, SetupLinkError> {
    let now = effects.now();
    let link = usable_link(store, secret, now).await?;
    let email = OperatorEmail::parse(email).map_err(|_| SetupLinkError::InvalidEmail)?;
    // The tenant's own provider vouches for the email, which proves nothing to other
    // tenants: the account signs in through that provider, and its email is unconfirmed.
    let admin = TenantAdmin {
        tenant: link.tenant,
        id: effects.id(),
        email: email.as_str().to_owned(),
        password_hash: None,
        oidc_subject: Some(subject.to_owned()),
        created_at: now,
        disabled_at: None,
        email_verified_at: None,
    };
    make_admin(store, &link, admin, now).await
}

/// The tenant a usable setup link belongs to (for starting single sign-on from it).
pub(crate) async fn setup_link_tenant(
    store: &Store,
    secret: &str,
    now: DateTime<Utc>,
) -> Result<TenantId, SetupLinkError> {
    Ok(usable_link(store, secret, now).await?.tenant)
}

async fn make_admin(
    store: &Store,
    link: &store::SetupLink,
    admin: TenantAdmin,
    now: DateTime<Utc>,
) -> Result<SignedInAdmin, SetupLinkError> {
    let mut action = store.tenant(link.tenant).begin_action().await?;
    match action.redeem_setup_link(link.id, &admin).await {
        Ok(true) => {}
        Ok(false) => return Err(SetupLinkError::Used),
        Err(StoreError::Conflict(_)) => return Err(SetupLinkError::EmailTaken),
        Err(error) => return Err(error.into()),
    }
    let detail = serde_json::json!({ "setup_link": link.id.to_string(), "email": admin.email });
    let actor = Actor::Admin { id: admin.id, email: admin.email.clone() };
    action.commit(actor.record("admin.created", None, detail, now)).await?;
    Ok(SignedInAdmin { id: admin.id, email: admin.email, tenant: admin.tenant })
}

/// Checks an email and password against operators and tenant admins. Exactly one
/// password verification runs whatever the outcome, so timing does not tell whether, or
/// what kind of, account an email has.
pub async fn sign_in(
    store: &Store,
    throttle: &SignInThrottle,
    email: &str,
    password: String,
    address: std::net::IpAddr,
) -> Result<SignedInAccount, OperatorError> {
    let email = OperatorEmail::parse(email).map_err(|_| OperatorError::InvalidCredentials)?;
    throttle.check(email.as_str(), address)?;
    if let Some(operator) = store.operator_by_email(email.as_str()).await? {
        let matches = operators::verify_password(password, operator.password_hash.clone()).await?;
        // A disabled account is refused like a wrong password.
        return if matches && operator.disabled_at.is_none() {
            Ok(SignedInAccount::Operator(SignedInOperator {
                id: operator.id,
                email: operator.email,
                role: operator.role,
            }))
        } else {
            Err(OperatorError::InvalidCredentials)
        };
    }
    let admin = store.tenant_admin_by_email(email.as_str()).await?;
    // An admin without a password (single sign-on only) never matches, at the same cost.
    let stored_hash = admin
        .as_ref()
        .and_then(|a| a.password_hash.clone())
        .unwrap_or_else(|| operators::UNKNOWN_ACCOUNT_HASH.to_owned());
    let matches = operators::verify_password(password, stored_hash).await?;
    match admin {
        Some(admin) if matches && admin.password_hash.is_some() && admin.disabled_at.is_none() => {
            Ok(SignedInAccount::Admin(SignedInAdmin { id: admin.id, email: admin.email, tenant: admin.tenant }))
        }
        _ => Err(OperatorError::InvalidCredentials),
    }
}

/// The admin with this id in this tenant, if they still exist (sessions outlive accounts).
pub async fn admin(store: &Store, tenant: TenantId, id: TenantAdminId) -> Result<Option<TenantAdmin>, ServiceError> {
    Ok(store.tenant(tenant).tenant_admin(id).await?)
}

/// The tenant's admins, oldest first.
pub async fn admins(store: &Store, tenant: TenantId) -> Result<Vec<TenantAdmin>, ServiceError> {
    Ok(store.tenant(tenant).tenant_admins().await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_setup_link_url_ends_with_its_secret() {
        let link = IssuedSetupLink {
            id: SetupLinkId::from(uuid::Uuid::nil()),
            secret: "setup_abc".to_owned(),
            expires_at: DateTime::<Utc>::MIN_UTC,
        };
        assert_eq!(link.url("https://scim.example/"), "https://scim.example/setup/setup_abc");
    }
}
