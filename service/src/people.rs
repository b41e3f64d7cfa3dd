//! People with a whole lifecycle: operators disable, enable or remove operator accounts and
//! tenant admins; tenant admins do the same for the other admins of their tenant; everyone
//! with a password changes their own. Each of these ends that person's sessions at once
//! (the session rows name their account), so a removed colleague's open browser is signed
//! out at its next request, not when its session would have expired.
//!
//! Nobody disables or removes themselves (an operator would lock the door behind them),
//! and the last enabled account of the `operator` role stays (checked in the statement
//! that changes it). Changes to admins are recorded in their tenant's trail; changes to
//! operator accounts, which belong to no tenant, are logged.

use chrono::{DateTime, Utc};
use serde_json::json;
use store::{OperatorId, Store, TenantAdminId, TenantId};

use crate::actor::Actor;
use crate::operators::{self, MIN_PASSWORD_LENGTH, OperatorError};
use crate::session::{SessionAccount, account_key_of_admin, account_key_of_operator};
use crate::{Effects, ServiceError};

/// Why a change to someone was refused.
#[derive(Debug, thiserror::Error)]
pub enum PeopleError {
    #[error("there is no such account")]
    NoSuchAccount,
    #[error("you cannot disable or remove your own account; ask a colleague")]
    Yourself,
    #[error("this is the last enabled operator account; add or enable another operator first")]
    LastOperator,
    #[error("the current password is not right")]
    WrongPassword,
    #[error("the new password must be at least {MIN_PASSWORD_LENGTH} characters long")]
    PasswordTooShort,
    #[error("this account signs in with single sign-on and has no password here")]
    NoPassword,
    #[error("too many attempts; wait a minute and try again")]
    Throttled,
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl From<store::StoreError> for PeopleError {
    fn from(error: store::StoreError) -> Self {
        Self::Service(error.into())
    }
}

impl From<OperatorError> for PeopleError {
    fn from(error: OperatorError) -> Self {
        match error {
            OperatorError::Throttled => Self::Throttled,
            OperatorError::Service(error) => Self::Service(error),
            other => Self::Service(ServiceError::Internal(other.to_string())),
        }
    }
}

/// What is done to an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Disable,
    Enable,
    Remove,
}

impl Change {
    fn verb(self) -> &'static str {
        match self {
            Change::Disable => "disabled",
            Change::Enable => "enabled",
            Change::Remove => "removed",
        }
    }
}

/// Disables, enables or removes an operator account (`by`: the operator doing it). Their
/// sessions end at once, unless they were enabled.
pub async fn change_operator(
    store: &Store,
    by: OperatorId,
    target: OperatorId,
    change: Change,
    now: DateTime<Utc>,
) -> Result<(), PeopleError> {
    if by == target && change != Change::Enable {
        return Err(PeopleError::Yourself);
    }
    let account = store.operator(target).await?.ok_or(PeopleError::NoSuchAccount)?;
    let changed = match change {
        Change::Disable => store.set_operator_disabled(target, Some(now)).await?,
        Change::Enable => store.set_operator_disabled(target, None).await?,
        Change::Remove => store.delete_operator(target).await?,
    };
    if !changed {
        // The account exists: only the last-operator rule refuses.
        return Err(PeopleError::LastOperator);
    }
    let ended = match change {
        Change::Enable => 0,
        Change::Disable | Change::Remove => {
            store.delete_account_sessions(&account_key_of_operator(target), None).await?
        }
    };
    tracing::info!(operator = %account.email, by = %by, sessions_ended = ended, "operator account {}", change.verb());
    Ok(())
}

/// Disables, enables or removes a tenant admin, recorded in the tenant's trail as
/// `admin.disabled`, `admin.enabled` or `admin.removed`. `by_admin`: the admin doing it,
/// when it is one (an admin does not change their own account). Their sessions end at
/// once, unless they were enabled.
pub async fn change_admin(
    store: &Store,
    actor: &Actor,
    by_admin: Option<TenantAdminId>,
    tenant: TenantId,
    target: TenantAdminId,
    change: Change,
    now: DateTime<Utc>,
) -> Result<(), PeopleError> {
    if by_admin == Some(target) && change != Change::Enable {
        return Err(PeopleError::Yourself);
    }
    let scope = store.tenant(tenant);
    let admin = scope.tenant_admin(target).await?.ok_or(PeopleError::NoSuchAccount)?;
    let mut action = scope.begin_action().await?;
    let changed = match change {
        Change::Disable => action.set_admin_disabled(target, Some(now)).await?,
        Change::Enable => action.set_admin_disabled(target, None).await?,
        Change::Remove => action.delete_admin(target).await?,
    };
    if !changed {
        return Err(PeopleError::NoSuchAccount);
    }
    let detail = json!({ "admin": target.to_string(), "email": admin.email });
    action.commit(actor.record(&format!("admin.{}", change.verb()), None, detail, now)).await?;
    if change != Change::Enable {
        store.delete_account_sessions(&account_key_of_admin(tenant, target), None).await?;
    }
    Ok(())
}

/// Changes the signed-in person's own password after checking the current one. Every
/// session of theirs ends, the one asking included: the caller gives that one a new id
/// (it stays signed in), so a session opened elsewhere with the old password does not.
/// Returns how many sessions ended. An admin's change is in their tenant's trail.
pub async fn change_own_password(
    store: &Store,
    throttle: &operators::SignInThrottle,
    address: std::net::IpAddr,
    account: &SessionAccount,
    current: String,
    new: String,
    effects: &Effects,
) -> Result<u64, PeopleError> {
    if new.chars().count() < MIN_PASSWORD_LENGTH {
        return Err(PeopleError::PasswordTooShort);
    }
    let now = effects.now();
    match account {
        SessionAccount::Operator(session) => {
            let operator = store.operator(session.id).await?.ok_or(PeopleError::NoSuchAccount)?;
            // Guesses of the current password count as sign-in attempts.
            throttle.check(&operator.email, address)?;
            if !operators::verify_password(current, operator.password_hash).await? {
                return Err(PeopleError::WrongPassword);
            }
            let hash = operators::hash_password(effects, new).await?;
            if !store.set_operator_password(session.id, &hash).await? {
                return Err(PeopleError::NoSuchAccount);
            }
            let ended = store.delete_account_sessions(&account_key_of_operator(session.id), None).await?;
            tracing::info!(operator = %operator.email, sessions_ended = ended, "operator changed their password");
            Ok(ended)
        }
        SessionAccount::Admin(session) => {
            let crate::session::AdminIdentity::Account(id) = session.identity else {
                return Err(PeopleError::NoPassword);
            };
            let scope = store.tenant(session.tenant);
            let admin = scope.tenant_admin(id).await?.ok_or(PeopleError::NoSuchAccount)?;
            let stored = admin.password_hash.ok_or(PeopleError::NoPassword)?;
            throttle.check(&admin.email, address)?;
            if !operators::verify_password(current, stored).await? {
                return Err(PeopleError::WrongPassword);
            }
            let hash = operators::hash_password(effects, new).await?;
            let mut action = scope.begin_action().await?;
            if !action.set_admin_password(id, &hash).await? {
                return Err(PeopleError::NoSuchAccount);
            }
            action.commit(session.actor().record("admin.password_changed", None, json!({}), now)).await?;
            Ok(store.delete_account_sessions(&account_key_of_admin(session.tenant, id), None).await?)
        }
    }
}
