//! Time, injected: envelope expiry, clock skew and log timestamps all read a [`Clock`], so tests
//! can move it (STYLE.md practice 13; janus `core/src/time.rs`).

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch, UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UnixMillis(pub i64);

impl UnixMillis {
    /// The UTC calendar date of this instant.
    pub fn date(self) -> crate::aggregate::IsoDate {
        crate::aggregate::IsoDate::from_day_number(self.0.div_euclid(86_400_000))
    }

    /// This instant moved by `ms` milliseconds (saturating).
    pub fn plus_ms(self, ms: i64) -> Self {
        Self(self.0.saturating_add(ms))
    }
}

/// A source of the current time.
pub trait Clock: Send + Sync + 'static {
    /// The current time.
    fn now(&self) -> UnixMillis;
}

/// The system clock, optionally shifted by a fixed offset.
///
/// The offset exists for tests that need a node whose clock is wrong (a node clock moved back
/// must still refuse replays, design-review.md F13). A node sets it only from the
/// `danger_clock_offset_s` config key, and says so loudly at start-up.
#[derive(Debug, Clone, Default)]
pub struct SystemClock {
    offset_ms: i64,
}

impl SystemClock {
    /// The system clock as it is.
    pub fn new() -> Self {
        Self { offset_ms: 0 }
    }

    /// The system clock shifted by `offset_s` seconds.
    pub fn danger_with_offset_s(offset_s: i64) -> Self {
        Self { offset_ms: offset_s.saturating_mul(1000) }
    }
}

impl Clock for SystemClock {
    fn now(&self) -> UnixMillis {
        let ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
            .unwrap_or(0);
        UnixMillis(ms.saturating_add(self.offset_ms))
    }
}

/// A clock tests set and advance by hand.
#[derive(Debug, Clone)]
pub struct MockClock(Arc<AtomicI64>);

impl MockClock {
    /// A clock stopped at `start`.
    pub fn new(start: UnixMillis) -> Self {
        Self(Arc::new(AtomicI64::new(start.0)))
    }

    /// Sets the time.
    pub fn set(&self, t: UnixMillis) {
        self.0.store(t.0, Ordering::SeqCst);
    }

    /// Moves the time by `ms` (negative moves it back).
    pub fn advance_ms(&self, ms: i64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }
}

impl Clock for MockClock {
    fn now(&self) -> UnixMillis {
        UnixMillis(self.0.load(Ordering::SeqCst))
    }
}
