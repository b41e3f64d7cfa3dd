//! Request rate limits (answered with 429 and `Retry-After`): each directory has its own
//! limit from its settings, and each tenant a budget over all its directories (a
//! deployment setting), so neither one busy directory nor a tenant with many directories
//! starves the others.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use store::{DirectoryId, TenantId};

/// How many seconds' worth of requests may come at once.
const BURST_SECONDS: NonZeroU32 = match NonZeroU32::new(10) {
    Some(seconds) => seconds,
    None => NonZeroU32::MIN,
};

/// `per_second` sustained, with bursts of [`BURST_SECONDS`]' worth.
fn quota(per_second: u32) -> Quota {
    let rate = NonZeroU32::new(per_second).unwrap_or(NonZeroU32::MIN);
    Quota::per_second(rate).allow_burst(rate.saturating_mul(BURST_SECONDS))
}

/// A directory's limiter and the limit it was made for (rebuilt when the setting changes).
type Limiter = (u32, Arc<DefaultDirectRateLimiter>);

/// The limiters of the directories seen by this process.
#[derive(Debug, Clone, Default)]
pub(crate) struct DirectoryRateLimits {
    limiters: Arc<Mutex<HashMap<DirectoryId, Limiter>>>,
}

impl DirectoryRateLimits {
    /// Takes one request from the directory's allowance of `per_second` sustained requests
    /// (with bursts of ten seconds' worth: a sync job starting up, a conformance run);
    /// `Err` holds how long until the next is allowed.
    pub(crate) fn check(&self, directory: DirectoryId, per_second: u32) -> Result<(), Duration> {
        let limiter = self.limiter(directory, per_second);
        limiter.check().map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
    }

    fn limiter(&self, directory: DirectoryId, per_second: u32) -> Arc<DefaultDirectRateLimiter> {
        // A poisoned lock only means another request panicked while holding it; the map is
        // still usable.
        let mut limiters = self.limiters.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        match limiters.get(&directory) {
            Some((limit, limiter)) if *limit == per_second => Arc::clone(limiter),
            _ => {
                let limiter = Arc::new(RateLimiter::direct(quota(per_second)));
                limiters.insert(directory, (per_second, Arc::clone(&limiter)));
                limiter
            }
        }
    }
}

/// Each tenant's budget over all its directories: `per_second` sustained, bursts of ten
/// seconds' worth. Idle tenants are forgotten once many are held.
#[derive(Debug, Clone)]
pub(crate) struct TenantRateLimits {
    limiter: Arc<governor::DefaultKeyedRateLimiter<TenantId>>,
}

impl TenantRateLimits {
    pub(crate) fn new(per_second: u32) -> Self {
        Self { limiter: Arc::new(RateLimiter::keyed(quota(per_second))) }
    }

    /// Takes one request from the tenant's budget; `Err` holds how long until the next.
    pub(crate) fn check(&self, tenant: TenantId) -> Result<(), Duration> {
        if self.limiter.len() > 10_000 {
            self.limiter.retain_recent();
        }
        self.limiter.check_key(&tenant).map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
    }
}

#[cfg(test)]
mod tests {
    use store::testing::FreshId as _;

    use super::*;

    #[test]
    fn a_directory_gets_a_burst_of_ten_seconds_then_waits() {
        let limits = DirectoryRateLimits::default();
        let directory = DirectoryId::fresh();
        for _ in 0..50 {
            assert!(limits.check(directory, 5).is_ok());
        }
        let wait = limits.check(directory, 5).err();
        assert!(wait.is_some_and(|w| w <= Duration::from_millis(200)), "{wait:?}");
        // Another directory has its own allowance.
        assert!(limits.check(DirectoryId::fresh(), 5).is_ok());
    }

    #[test]
    fn a_tenant_gets_a_burst_of_ten_seconds_over_all_its_directories() {
        let limits = TenantRateLimits::new(2);
        let tenant = TenantId::fresh();
        for _ in 0..20 {
            assert!(limits.check(tenant).is_ok());
        }
        assert!(limits.check(tenant).is_err());
        assert!(limits.check(TenantId::fresh()).is_ok(), "another tenant has its own budget");
    }
}
