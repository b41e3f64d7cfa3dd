//! An admin's email becomes their sign-in name only once they prove they read its mail.
//!
//! Setup links let anyone who holds one choose an email. Were that email a sign-in name
//! at once (unique across the deployment), an admin of one tenant could redeem their own
//! tenant's link as `it@competitor.example`: the refusal would tell them whether that is a
//! customer already, and their account would pre-empt the competitor's onboarding. So an
//! account starts unconfirmed: it works in the session that made it, several tenants may
//! have an unconfirmed admin with the same email, and nothing tells one tenant about
//! another. A link mailed to the address (`/confirm-email/confirm_<256 random bits>`,
//! single-use, seven days, only its digest stored) makes the email the account's sign-in
//! name, unless an operator or another confirmed admin signs in with it already — which
//! the person at that inbox may be told. Deployments that send no mail have an operator
//! confirm the address instead.

use chrono::{DateTime, Duration, Utc};
use store::{NewEmailVerification, Store, StoreError, TenantAdmin, TenantAdminId, TenantId};

use crate::actor::Actor;
use crate::directories::digest;
use crate::mail::{Mailer, mailbox};
use crate::{Effects, ServiceError};

const LINK_PREFIX: &str = "confirm_";

/// How long a confirmation link stays valid.
pub const LINK_LIFETIME: Duration = Duration::days(7);

/// Why an email was not confirmed (or no confirmation link was sent).
#[derive(Debug, thiserror::Error)]
pub enum ConfirmationError {
    #[error("this confirmation link is not valid: check that it was copied whole")]
    Unknown,
    #[error("this confirmation link has been used already: sign in with your email and password")]
    Used,
    #[error("this confirmation link has expired: open the portal and ask for a new one")]
    Expired,
    #[error(
        "this address is already the sign-in name of another account: sign in with that account, \
         or ask your operator to remove it"
    )]
    Taken,
    #[error("the account's email changed, or the account was removed, since this link was sent")]
    Stale,
    #[error("the email is confirmed already")]
    AlreadyConfirmed,
    #[error("this deployment sends no email: ask your operator to confirm your address")]
    NoMail,
    #[error("the confirmation email could not be sent: {0}")]
    Mail(String),
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl From<StoreError> for ConfirmationError {
    fn from(error: StoreError) -> Self {
        ConfirmationError::Service(error.into())
    }
}

/// What a confirmation link confirms, for the page that asks to confirm it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingConfirmation {
    pub email: String,
    pub tenant_name: String,
}

/// An admin's email and whether it is their sign-in name yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfirmationState {
    pub email: String,
    pub confirmed: bool,
}

/// The admin's email and whether it is confirmed (`None`: the account is gone).
pub async fn state(
    store: &Store,
    tenant: TenantId,
    admin: TenantAdminId,
) -> Result<Option<ConfirmationState>, ServiceError> {
    let found = store.tenant(tenant).tenant_admin(admin).await?;
    Ok(found.map(|admin| ConfirmationState { confirmed: admin.email_verified_at.is_some(), email: admin.email }))
}

/// Mails the admin a link that confirms their email (`admin.confirmation_sent` in the
/// tenant's trail). An earlier link stays valid until it expires.
pub async fn send_link(
    store: &Store,
    mailer: Option<&Mailer>,
    public_base: &str,
    tenant: TenantId,
    admin: TenantAdminId,
    effects: &Effects,
) -> Result<(), ConfirmationError> {
    let mailer = mailer.ok_or(ConfirmationError::NoMail)?;
    let scope = store.tenant(tenant);
    let account = scope.tenant_admin(admin).await?.ok_or(ConfirmationError::Stale)?;
    if account.email_verified_at.is_some() {
        return Err(ConfirmationError::AlreadyConfirmed);
    }
    let recipient = mailbox(&account.email).map_err(|error| ConfirmationError::Mail(error.to_string()))?;
    let now = effects.now();
    let secret = format!("{LINK_PREFIX}{}", effects.secret(32));
    let link = NewEmailVerification {
        id: effects.id(),
        admin,
        email: account.email.clone(),
        digest: digest(&secret),
        created_at: now,
        expires_at: now + LINK_LIFETIME,
    };
    let mut action = scope.begin_action().await?;
    action.insert_email_verification(&link).await?;
    let detail = serde_json::json!({ "admin": admin.to_string(), "email": account.email });
    action.commit(actor_of(&account).record("admin.confirmation_sent", None, detail, now)).await?;

    let tenant_name = crate::tenants::name_of(store, tenant).await?.unwrap_or_default();
    let branding = crate::branding::current(store).await?;
    let url = format!("{}/confirm-email/{secret}", public_base.trim_end_matches('/'));
    let text = format!(
        "You became an admin of {tenant_name} in {product} with this address.\n\n\
         To sign in with it from now on, confirm it here (the link works once, for {} days):\n\n{url}\n\n\
         If this was not you, ignore this message: without the link, nobody can sign in with your address.\n",
        LINK_LIFETIME.num_days(),
        product = branding.product_name,
    );
    mailer
        .send(&branding, &[recipient], &format!("Confirm your email for {tenant_name}"), &text)
        .await
        .map_err(|error| ConfirmationError::Mail(error.to_string()))
}

/// Mails the confirmation link to an admin who just made their account, when the
/// deployment sends mail. A failure is logged, not returned: the account exists, and the
/// admin asks for the link again from their account page.
pub async fn send_first_link(
    store: &Store,
    mailer: Option<&Mailer>,
    public_base: &str,
    admin: &crate::admins::SignedInAdmin,
    effects: &Effects,
) {
    if mailer.is_none() {
        return;
    }
    if let Err(error) = send_link(store, mailer, public_base, admin.tenant, admin.id, effects).await {
        tracing::warn!(%error, admin = %admin.id, tenant = %admin.tenant, "the email confirmation link was not sent");
    }
}

/// What a confirmation link would confirm, if it can still be used.
pub async fn open_link(
    store: &Store,
    secret: &str,
    now: DateTime<Utc>,
) -> Result<PendingConfirmation, ConfirmationError> {
    let link = usable_link(store, secret, now).await?;
    let tenant_name = crate::tenants::name_of(store, link.tenant).await?.unwrap_or_default();
    Ok(PendingConfirmation { email: link.email, tenant_name })
}

/// Follows a confirmation link: the email becomes the account's sign-in name
/// (`admin.email_confirmed` in the tenant's trail). Returns the confirmed email.
pub async fn confirm_with_link(store: &Store, secret: &str, effects: &Effects) -> Result<String, ConfirmationError> {
    let now = effects.now();
    let link = usable_link(store, secret, now).await?;
    let account = store.tenant(link.tenant).tenant_admin(link.admin).await?.ok_or(ConfirmationError::Stale)?;
    if account.email != link.email {
        return Err(ConfirmationError::Stale);
    }
    if account.email_verified_at.is_some() {
        return Err(ConfirmationError::Used);
    }
    let actor = actor_of(&account);
    confirm(store, &account, Some(link.id), &actor, "link", now).await?;
    Ok(account.email)
}

/// An operator confirms an admin's email (deployments that send no mail, or an admin who
/// cannot receive it): the operator vouches for the address.
pub async fn confirm_by_operator(
    store: &Store,
    actor: &Actor,
    tenant: TenantId,
    admin: TenantAdminId,
    now: DateTime<Utc>,
) -> Result<(), ConfirmationError> {
    let account = store.tenant(tenant).tenant_admin(admin).await?.ok_or(ConfirmationError::Stale)?;
    if account.email_verified_at.is_some() {
        return Err(ConfirmationError::AlreadyConfirmed);
    }
    confirm(store, &account, None, actor, "operator", now).await
}

async fn confirm(
    store: &Store,
    account: &TenantAdmin,
    link: Option<store::EmailVerificationId>,
    actor: &Actor,
    by: &str,
    now: DateTime<Utc>,
) -> Result<(), ConfirmationError> {
    // One sign-in name, one account. Checked here for operators (another table); the
    // database's unique index decides a race between two admins.
    if store.operator_by_email(&account.email).await?.is_some()
        || store.tenant_admin_by_email(&account.email).await?.is_some()
    {
        return Err(ConfirmationError::Taken);
    }
    let mut action = store.tenant(account.tenant).begin_action().await?;
    match action.confirm_admin_email(account.id, &account.email, link, now).await {
        Ok(true) => {}
        Ok(false) => return Err(if link.is_some() { ConfirmationError::Used } else { ConfirmationError::Stale }),
        Err(StoreError::Conflict(_)) => return Err(ConfirmationError::Taken),
        Err(error) => return Err(error.into()),
    }
    let detail = serde_json::json!({ "admin": account.id.to_string(), "email": account.email, "by": by });
    action.commit(actor.record("admin.email_confirmed", None, detail, now)).await?;
    Ok(())
}

async fn usable_link(
    store: &Store,
    secret: &str,
    now: DateTime<Utc>,
) -> Result<store::EmailVerification, ConfirmationError> {
    let secret = secret.trim();
    if !secret.starts_with(LINK_PREFIX) || secret.len() > 100 {
        return Err(ConfirmationError::Unknown);
    }
    let link = store.email_verification_by_digest(&digest(secret)).await?.ok_or(ConfirmationError::Unknown)?;
    if link.used_at.is_some() {
        return Err(ConfirmationError::Used);
    }
    if link.expires_at <= now {
        return Err(ConfirmationError::Expired);
    }
    Ok(link)
}

fn actor_of(account: &TenantAdmin) -> Actor {
    Actor::Admin { id: account.id, email: account.email.clone() }
}
