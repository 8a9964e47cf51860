//! [`FixedClock`]: a [`Clock`] that tests move by hand.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use spindle_ports::Clock;

/// A clock that stands still until told otherwise, so due dates, "overdue" and
/// reminder firing are deterministic in tests. Shared by reference, it lets a test
/// advance time between two calls into the same handler.
#[derive(Debug, Default)]
pub struct FixedClock {
    micros: AtomicI64,
}

impl FixedClock {
    /// A clock showing `micros` microseconds since the Unix epoch.
    pub fn new(micros: i64) -> FixedClock {
        FixedClock {
            micros: AtomicI64::new(micros),
        }
    }

    /// Moves the clock to `micros` (forwards or backwards).
    pub fn set(&self, micros: i64) {
        self.micros.store(micros, Ordering::SeqCst);
    }

    /// Moves the clock forwards by `by` (saturating at the end of time).
    pub fn advance(&self, by: Duration) {
        let step = i64::try_from(by.as_micros()).unwrap_or(i64::MAX);
        // `fetch_update` cannot fail when the closure always returns `Some`.
        let _ = self
            .micros
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |now| {
                Some(now.saturating_add(step))
            });
    }
}

impl Clock for FixedClock {
    fn now_micros(&self) -> i64 {
        self.micros.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fixed_clock_only_moves_when_told() {
        let clock = FixedClock::new(1_000);
        assert_eq!(clock.now_micros(), 1_000);
        clock.advance(Duration::from_millis(2));
        assert_eq!(clock.now_micros(), 3_000);
        clock.set(-5);
        assert_eq!(clock.now_micros(), -5);
    }

    #[test]
    fn advancing_past_the_end_of_time_saturates() {
        let clock = FixedClock::new(i64::MAX - 1);
        clock.advance(Duration::from_secs(1));
        assert_eq!(clock.now_micros(), i64::MAX);
    }
}
