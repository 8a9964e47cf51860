//! The change feed: a user's events in order, for real-time sync, and the
//! long-poll that waits for the next one without holding a database connection.
//!
//! Spin gives each process 64 Postgres connections, and every open browser tab
//! long-polls. So a waiting request hands its connection back and watches a
//! per-user counter in Redis instead (`spindle:feed:<user>`), which every
//! publisher of a user's events bumps after the commit ([`signal`]). The feed
//! itself is read from the outbox only when the counter moves. When Redis cannot
//! be read, the wait falls back to reading the outbox every
//! [`FALLBACK_POLL_INTERVAL`], still releasing the connection in between.

use std::time::{Duration, Instant};

use spindle_domain::event::Envelope;
use spindle_ports::{Db, PublishError, Publisher};
use spindle_storage::outbox;

pub use spindle_storage::outbox::{feed, latest_seq, FeedError};

/// How often a waiting request reads the user's counter in Redis: the delay
/// between a committed event and the long-poll answering, at most.
pub const SIGNAL_POLL_INTERVAL: Duration = Duration::from_millis(200);

/// How often a waiting request reads the outbox when Redis cannot be read.
pub const FALLBACK_POLL_INTERVAL: Duration = Duration::from_secs(1);

/// The Redis key of `user_id`'s feed counter.
pub fn signal_key(user_id: &str) -> String {
    format!("spindle:feed:{user_id}")
}

/// Tells `user_id`'s waiting long-polls that the feed moved. Call it after the
/// events are committed; a failure only delays waiters until their fallback poll.
pub fn signal(publisher: &impl Publisher, user_id: &str) -> Result<(), PublishError> {
    publisher.bump(&signal_key(user_id))
}

/// [`signal`]s each user once, for events just published; best effort.
pub(crate) fn signal_users<'a>(
    publisher: &impl Publisher,
    users: impl IntoIterator<Item = &'a str>,
) {
    let mut users: Vec<&str> = users.into_iter().collect();
    users.sort_unstable();
    users.dedup();
    for user in users {
        if let Err(err) = signal(publisher, user) {
            eprintln!("spindle: change feed signal not sent, waiters fall back to polling: {err}");
            return;
        }
    }
}

/// A user's events after `after_seq` (oldest first, at most `limit`), waiting
/// up to `wait` for the first one to arrive (long polling).
///
/// The counter is read before the outbox, so an event committed between the
/// two reads is either in the read or moves the counter after it: nothing is
/// slept through. The database connection is released before every sleep.
/// `sleep` is `std::thread::sleep` in a component (under WASI it yields to the
/// host) and a recording stub in tests. The wait ends when either the sleeps
/// add up to `wait` or that much wall time has passed, whichever comes first.
/// A cursor behind what retention deleted is [`FeedError::Pruned`] at once,
/// and so is one that falls behind while it waits.
pub fn wait_for(
    db: &impl Db,
    publisher: &impl Publisher,
    user_id: &str,
    after_seq: i64,
    limit: u32,
    wait: Duration,
    sleep: impl Fn(Duration),
) -> Result<Vec<Envelope>, FeedError> {
    let key = signal_key(user_id);
    let started = Instant::now();
    let mut slept = Duration::ZERO;
    let mut seen = publisher.counter(&key).ok();
    loop {
        let events = outbox::feed(db, user_id, after_seq, limit)?;
        db.release();
        if !events.is_empty() {
            return Ok(events);
        }
        let mut since_read = Duration::ZERO;
        loop {
            let waited = slept.max(started.elapsed());
            if waited >= wait {
                return Ok(events);
            }
            let nap = SIGNAL_POLL_INTERVAL.min(wait - waited);
            sleep(nap);
            slept += nap;
            since_read += nap;
            let now = publisher.counter(&key).ok();
            let moved = now.is_some() && now != seen;
            let blind = now.is_none() && since_read >= FALLBACK_POLL_INTERVAL;
            if moved || blind {
                seen = now;
                break;
            }
        }
    }
}
