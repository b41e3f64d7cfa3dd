//! What a use case needs from outside besides the store: the time, fresh ids and fresh
//! secrets. The edges (HTTP handlers, server functions, the CLI, background jobs) hold one
//! [`Effects`] and pass it in; service and store reach for none of these themselves
//! (`clippy.toml` forbids `Utc::now`, `Uuid::now_v7` and `OsRng` elsewhere). A test that sets
//! the time with a [`ManualClock`](crate::clock::ManualClock) gets ids that sort by that time.

use std::sync::{Arc, Mutex};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use uuid::timestamp::context::ContextV7;
use uuid::{Timestamp, Uuid};

use crate::clock::{ManualClock, SharedClock, SystemClock};

/// The time and a source of fresh ids and secrets, shared by the parts of one process
/// (cloning shares them).
#[derive(Debug, Clone)]
pub struct Effects {
    clock: SharedClock,
    /// Keeps ids made within one millisecond in the order they were made (RFC 9562 §6.2,
    /// method 1: a counter reseeded every millisecond).
    sequence: Arc<Mutex<ContextV7>>,
}

impl Effects {
    /// Effects reading the time from `clock`.
    pub fn new(clock: SharedClock) -> Self {
        Self { clock, sequence: Arc::new(Mutex::new(ContextV7::new())) }
    }

    /// The operating system's clock and randomness: what a deployment runs on.
    pub fn system() -> Self {
        Self::new(SystemClock::shared())
    }

    /// Effects whose clock stands still at `at` (see [`ManualClock`]): for tests, and for
    /// work done on behalf of a recorded moment.
    pub fn stopped_at(at: DateTime<Utc>) -> Self {
        Self::new(Arc::new(ManualClock::starting_at(at)))
    }

    /// The clock these effects read.
    pub fn clock(&self) -> &SharedClock {
        &self.clock
    }

    /// The time now.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// A new id: a UUIDv7 (RFC 9562 §5.7) carrying the clock's time, so ids sort by when
    /// they were made, also within one millisecond.
    pub fn id<K>(&self) -> store::Id<K> {
        store::Id::from(self.uuid())
    }

    /// A new UUIDv7, as [`Effects::id`], for what has no id type of its own.
    pub fn uuid(&self) -> Uuid {
        let now = self.now();
        let seconds = u64::try_from(now.timestamp()).unwrap_or(0);
        let timestamp = Timestamp::from_unix(&*self.sequence, seconds, now.timestamp_subsec_nanos());
        Uuid::new_v7(timestamp)
    }

    /// `bytes` random bytes from the operating system, in base64url: the body of a token,
    /// a setup link or another secret.
    pub fn secret(&self, bytes: usize) -> String {
        let mut random = vec![0_u8; bytes];
        self.fill(&mut random);
        URL_SAFE_NO_PAD.encode(random)
    }

    /// Fills `bytes` with random bytes from the operating system.
    pub fn fill(&self, bytes: &mut [u8]) {
        #[allow(clippy::disallowed_types)] // the one place randomness is drawn
        use argon2::password_hash::rand_core::{OsRng, RngCore};
        OsRng.fill_bytes(bytes);
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;

    fn effects_at(start: DateTime<Utc>) -> (Arc<ManualClock>, Effects) {
        let clock = Arc::new(ManualClock::starting_at(start));
        (clock.clone(), Effects::new(clock))
    }

    #[test]
    fn ids_carry_the_clocks_time() {
        let start = DateTime::from_timestamp_millis(1_764_000_000_123).unwrap();
        let (_, effects) = effects_at(start);
        let id: store::DirectoryId = effects.id();
        let (seconds, nanos) = id.as_uuid().get_timestamp().unwrap().to_unix();
        assert_eq!((seconds, nanos / 1_000_000), (1_764_000_000, 123));
        assert_eq!(id.as_uuid().get_version_num(), 7);
    }

    #[test]
    fn ids_made_one_after_another_sort_in_that_order_even_when_the_clock_stands_still() {
        let (clock, effects) = effects_at(DateTime::from_timestamp_millis(1_764_000_000_000).unwrap());
        let mut ids: Vec<store::TokenId> = (0..1000).map(|_| effects.id()).collect();
        clock.advance(Duration::milliseconds(1));
        ids.extend((0..10).map(|_| effects.id()));
        assert!(ids.windows(2).all(|pair| pair[0].as_uuid() < pair[1].as_uuid()));
    }

    #[test]
    fn secrets_have_the_asked_length_and_differ() {
        let effects = Effects::system();
        let (a, b) = (effects.secret(32), effects.secret(32));
        assert_eq!(a.len(), 43);
        assert_ne!(a, b);
    }
}
