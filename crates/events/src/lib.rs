//! The event flow around the transactional outbox.
//!
//! - [`publish`]: right after a writer commits, publish its events and mark them published.
//! - [`relay`]: the periodic tick that republishes what was not published or not
//!   processed in time, with exponential backoff, and dead-letters what never succeeds.
//! - [`dead_letters`]: list and replay dead letters.
//! - [`handler`]: the effect-once frame every consumer runs in; [`audit`] and
//!   [`recurrence`] (the next task of a series) are consumers.
//! - [`changes`]: the change feed, with long polling.
//!
//! Delivery is at-least-once (Redis pub/sub forgets what nobody hears, so the
//! outbox keeps republishing until every required consumer has recorded the event
//! in `processed_events`); consumers are effect-once, so the system as a whole
//! applies every event exactly once.

pub mod audit;
pub mod changes;
pub mod dead_letters;
pub mod handler;
pub mod publish;
pub mod recurrence;
pub mod relay;

/// The consumer name the notifier (crate `spindle-reminders`) records in
/// `processed_events`; the relay waits for it on `reminders`.
pub const NOTIFIER_CONSUMER: &str = "notifier";

/// The channel on which events of `channel` that used up their delivery
/// attempts are announced, e.g. `task-events.dlq` for `task-events`.
pub fn dlq_channel(channel: &str) -> String {
    format!("{channel}.dlq")
}

#[cfg(test)]
mod tests {
    use spindle_domain::event::{TASK_EVENTS_CHANNEL, TASK_EVENTS_DLQ_CHANNEL};

    #[test]
    fn the_dead_letter_channel_of_task_events_is_the_documented_one() {
        assert_eq!(
            super::dlq_channel(TASK_EVENTS_CHANNEL),
            TASK_EVENTS_DLQ_CHANNEL
        );
    }
}
