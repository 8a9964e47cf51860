//! The change feed: a user's events in order, for real-time sync.

use std::time::{Duration, Instant};

use spindle_domain::event::Envelope;
use spindle_ports::{Db, DbError};
use spindle_storage::outbox;

pub use spindle_storage::outbox::{feed, latest_seq};

/// How often [`wait_for`] looks again.
pub const POLL_INTERVAL: Duration = Duration::from_millis(200);

/// A user's events after `after_seq` (oldest first, at most `limit`), waiting
/// up to `wait` for the first one to arrive (long polling).
///
/// Spin keeps no process between requests and Postgres `LISTEN` is not
/// available through Spin's interface, so this polls every [`POLL_INTERVAL`].
/// `sleep` is `std::thread::sleep` in a component (it works under WASI) and a
/// recording stub in tests. The wait ends when either the sleeps add up to
/// `wait` or that much wall time has passed, whichever comes first.
pub fn wait_for(
    db: &impl Db,
    user_id: &str,
    after_seq: i64,
    limit: u32,
    wait: Duration,
    sleep: impl Fn(Duration),
) -> Result<Vec<Envelope>, DbError> {
    let started = Instant::now();
    let mut slept = Duration::ZERO;
    loop {
        let events = outbox::feed(db, user_id, after_seq, limit)?;
        let waited = slept.max(started.elapsed());
        if !events.is_empty() || waited >= wait {
            return Ok(events);
        }
        let nap = POLL_INTERVAL.min(wait - waited);
        sleep(nap);
        slept += nap;
    }
}
