//! Operator accounts: the first operator at start-up, and signing in.
//!
//! Passwords are hashed with argon2id using OWASP's recommended parameters (19 MiB of
//! memory, 2 iterations, 1 lane). Hashing takes tens of milliseconds of CPU, so it runs on
//! tokio's blocking pool, never on the async workers.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use store::{Operator, OperatorRole, Store, StoreError};

use crate::{Effects, ServiceError};

/// Passwords shorter than this are refused (OWASP ASVS 2.1.1 asks for at least 12).
pub const MIN_PASSWORD_LENGTH: usize = 12;

/// An email address as operators sign in with it: trimmed, lowercased, with one `@`
/// between a non-empty local part and a domain.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OperatorEmail(String);

impl OperatorEmail {
    pub fn parse(raw: &str) -> Result<Self, OperatorError> {
        let email = raw.trim().to_lowercase();
        let valid = match email.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty() && !domain.is_empty() && !domain.contains('@') && !email.contains(char::is_whitespace)
            }
            None => false,
        };
        if valid { Ok(Self(email)) } else { Err(OperatorError::InvalidEmail) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Why an operator use case failed.
#[derive(Debug, thiserror::Error)]
pub enum OperatorError {
    #[error("enter an email address like name@example.com")]
    InvalidEmail,
    #[error("the password must be at least {MIN_PASSWORD_LENGTH} characters long")]
    PasswordTooShort,
    /// Wrong email or wrong password: deliberately the same answer for both.
    #[error("the email or the password is not right")]
    InvalidCredentials,
    #[error("too many sign-in attempts for this account; wait a minute and try again")]
    Throttled,
    #[error("an account with this email exists already")]
    EmailTaken,
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl From<StoreError> for OperatorError {
    fn from(error: StoreError) -> Self {
        OperatorError::Service(error.into())
    }
}

/// The signed-in operator, as sessions remember it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedInOperator {
    pub id: store::OperatorId,
    pub email: String,
    pub role: OperatorRole,
}

/// A password for the first operator when the configuration gives none: 20 characters from
/// an alphabet without look-alikes (about 115 bits), from the operating system's generator.
pub fn generate_password(effects: &Effects) -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut password = String::with_capacity(20);
    while password.len() < 20 {
        // Rejection sampling keeps every character equally likely.
        let mut byte = [0_u8];
        effects.fill(&mut byte);
        let byte = usize::from(byte[0]);
        if byte < 256 - 256 % ALPHABET.len() {
            password.push(char::from(ALPHABET[byte % ALPHABET.len()]));
        }
    }
    password
}

/// Creates the first operator if the deployment has none; returns whether it did.
/// Later start-ups change nothing, so the call is safe on every start.
pub async fn bootstrap_first_operator(
    store: &Store,
    email: &OperatorEmail,
    password: String,
    effects: &Effects,
) -> Result<bool, OperatorError> {
    let now = effects.now();
    if store.operator_count().await? > 0 {
        return Ok(false);
    }
    if password.chars().count() < MIN_PASSWORD_LENGTH {
        return Err(OperatorError::PasswordTooShort);
    }
    let password_hash = hash_password(effects, password).await?;
    let operator = Operator {
        id: effects.id(),
        email: email.as_str().to_owned(),
        password_hash,
        role: OperatorRole::Operator,
        created_at: now,
        disabled_at: None,
    };
    match store.insert_operator(&operator).await {
        Ok(()) => Ok(true),
        // Another server process bootstrapped the same account at the same moment.
        Err(StoreError::Conflict(_)) => Ok(false),
        Err(error) => Err(error.into()),
    }
}

/// An operator account just made, with its first password (shown once).
#[derive(Debug, Clone)]
pub struct NewOperator {
    pub operator: SignedInOperator,
    pub password: String,
}

/// Makes an operator account (role `operator`, or `support`: read-only across tenants)
/// with a generated password of 20 characters from the operating system's generator,
/// shown once to the operator who made it, to hand over.
pub async fn add_operator(
    store: &Store,
    email: &str,
    role: OperatorRole,
    effects: &Effects,
) -> Result<NewOperator, OperatorError> {
    let now = effects.now();
    let email = OperatorEmail::parse(email)?;
    if store.tenant_admin_by_email(email.as_str()).await?.is_some() {
        return Err(OperatorError::EmailTaken);
    }
    let password = generate_password(effects);
    let password_hash = hash_password(effects, password.clone()).await?;
    let operator = Operator {
        id: effects.id(),
        email: email.as_str().to_owned(),
        password_hash,
        role,
        created_at: now,
        disabled_at: None,
    };
    match store.insert_operator(&operator).await {
        Ok(()) => {}
        Err(StoreError::Conflict(_)) => return Err(OperatorError::EmailTaken),
        Err(error) => return Err(error.into()),
    }
    tracing::info!(email = %operator.email, role = role.as_str(), "operator account added");
    Ok(NewOperator {
        operator: SignedInOperator { id: operator.id, email: operator.email, role: operator.role },
        password,
    })
}

/// Every operator account, oldest first.
pub async fn list(store: &Store) -> Result<Vec<Operator>, ServiceError> {
    Ok(store.operators().await?)
}

/// Limits password guessing, so that no one guesses fast and no one locks others out:
/// - per account and client address: a burst of 5 attempts, then one every 12 s (five wrong
///   guesses from one address do not lock the account for its owner elsewhere);
/// - per client address over all accounts: 30, then one every 2 s (one address trying
///   many accounts);
/// - per account over all addresses, the slower fallback: 30, then one a minute (guessing
///   spread over many addresses);
/// - everyone together: 100, then 20 a second (password hashing is the costly part).
///
/// Idle keys are forgotten once a limiter holds many (governor's `retain_recent`).
#[derive(Debug, Clone)]
pub struct SignInThrottle {
    pair: Arc<DefaultKeyedRateLimiter<(String, IpAddr)>>,
    address: Arc<DefaultKeyedRateLimiter<IpAddr>>,
    account: Arc<DefaultKeyedRateLimiter<String>>,
    everyone: Arc<governor::DefaultDirectRateLimiter>,
}

/// A limiter holding more keys than this forgets those whose quota is full again.
const PRUNE_ABOVE: usize = 10_000;

fn quota(burst: u32, per_minute: u32) -> Quota {
    let burst = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
    Quota::per_minute(NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN)).allow_burst(burst)
}

impl Default for SignInThrottle {
    fn default() -> Self {
        Self {
            pair: Arc::new(RateLimiter::keyed(quota(5, 5))),
            address: Arc::new(RateLimiter::keyed(quota(30, 30))),
            account: Arc::new(RateLimiter::keyed(quota(30, 1))),
            everyone: Arc::new(RateLimiter::direct(quota(100, 1_200))),
        }
    }
}

impl SignInThrottle {
    /// Counts an attempt for this (normalised) email from `address`; `Throttled` past any
    /// of the quotas.
    pub(crate) fn check(&self, email: &str, address: IpAddr) -> Result<(), OperatorError> {
        if self.pair.len() > PRUNE_ABOVE {
            self.pair.retain_recent();
        }
        if self.address.len() > PRUNE_ABOVE {
            self.address.retain_recent();
        }
        if self.account.len() > PRUNE_ABOVE {
            self.account.retain_recent();
        }
        let refused = self.everyone.check().is_err()
            || self.address.check_key(&address).is_err()
            || self.pair.check_key(&(email.to_owned(), address)).is_err()
            || self.account.check_key(&email.to_owned()).is_err();
        if refused { Err(OperatorError::Throttled) } else { Ok(()) }
    }
}

/// Password hashes computed at once: each takes 19 MiB and a core for tens of
/// milliseconds, so a flood of sign-ins queues here instead of filling the blocking pool.
const HASHING_AT_ONCE: usize = 4;
static HASHING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(HASHING_AT_ONCE);
/// How long a sign-in waits for its turn to hash before it is turned away.
const HASHING_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// Runs a password hash computation when its turn comes.
async fn hashing<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T, OperatorError> {
    let Ok(Ok(_turn)) = tokio::time::timeout(HASHING_WAIT, HASHING.acquire()).await else {
        return Err(OperatorError::Throttled);
    };
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|error| ServiceError::Internal(format!("the hashing task failed: {error}")).into())
}

/// Checks an operator's email and password.
pub async fn sign_in(
    store: &Store,
    throttle: &SignInThrottle,
    email: &str,
    password: String,
    address: IpAddr,
) -> Result<SignedInOperator, OperatorError> {
    let email = OperatorEmail::parse(email).map_err(|_| OperatorError::InvalidCredentials)?;
    throttle.check(email.as_str(), address)?;
    let operator = store.operator_by_email(email.as_str()).await?;
    // Verify against a real hash even for unknown accounts, so the response time does
    // not tell which emails have accounts.
    let stored_hash = operator.as_ref().map_or_else(|| UNKNOWN_ACCOUNT_HASH.to_owned(), |o| o.password_hash.clone());
    let matches = verify_password(password, stored_hash).await?;
    match operator {
        Some(operator) if matches && operator.disabled_at.is_none() => {
            Ok(SignedInOperator { id: operator.id, email: operator.email, role: operator.role })
        }
        _ => Err(OperatorError::InvalidCredentials),
    }
}

/// A well-formed hash that no known password matches, with the same parameters as real
/// hashes, so verifying against it costs the same as verifying a real one.
pub(crate) const UNKNOWN_ACCOUNT_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$dW5rbm93bi1hY2NvdW50$0N6yqpNQDOdqSgKzIzMfbqRu1VH3SOnjH7Ivwk1LOnQ";

fn argon2() -> Argon2<'static> {
    // OWASP Password Storage Cheat Sheet: argon2id, m=19456 KiB, t=2, p=1.
    let params = Params::new(19_456, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

pub(crate) async fn hash_password(effects: &Effects, password: String) -> Result<String, OperatorError> {
    let mut salt = [0_u8; 16];
    effects.fill(&mut salt);
    let hashed = hashing(move || {
        let salt = SaltString::encode_b64(&salt)?;
        argon2().hash_password(password.as_bytes(), &salt).map(|hash| hash.to_string())
    })
    .await?;
    hashed.map_err(|error| ServiceError::Internal(format!("hashing a password: {error}")).into())
}

pub(crate) async fn verify_password(password: String, stored_hash: String) -> Result<bool, OperatorError> {
    let verified = hashing(move || match PasswordHash::new(&stored_hash) {
        Ok(hash) => Ok(argon2().verify_password(password.as_bytes(), &hash).is_ok()),
        Err(error) => Err(format!("a stored password hash does not parse: {error}")),
    })
    .await?;
    verified.map_err(|message| ServiceError::Internal(message).into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_passwords_are_long_enough_and_differ() {
        let effects = crate::Effects::system();
        let (first, second) = (generate_password(&effects), generate_password(&effects));
        assert_eq!(first.chars().count(), 20);
        assert!(first.chars().count() >= MIN_PASSWORD_LENGTH);
        assert_ne!(first, second);
        assert!(first.chars().all(|c| c.is_ascii_alphanumeric() && !"0O1lI".contains(c)), "{first}");
    }

    #[test]
    fn emails_are_trimmed_and_lowercased() {
        assert_eq!(OperatorEmail::parse("  Alice@Vendor.Example ").unwrap().as_str(), "alice@vendor.example");
    }

    #[test]
    fn malformed_emails_are_refused() {
        for raw in ["", "alice", "@vendor.example", "alice@", "a@b@c", "al ice@vendor.example"] {
            assert!(OperatorEmail::parse(raw).is_err(), "{raw:?} was accepted");
        }
    }

    #[test]
    fn the_unknown_account_hash_parses_with_the_production_parameters() {
        let hash = PasswordHash::new(UNKNOWN_ACCOUNT_HASH).unwrap();
        assert_eq!(hash.algorithm.as_str(), "argon2id");
        let (stored, production) = (Params::try_from(&hash).unwrap(), argon2().params().clone());
        assert_eq!(
            (stored.m_cost(), stored.t_cost(), stored.p_cost()),
            (production.m_cost(), production.t_cost(), production.p_cost())
        );
    }
}
