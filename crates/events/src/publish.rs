//! Publishing right after the writer's commit.
//!
//! The writer's transaction has already made the events durable in the outbox,
//! so publishing here is only the fast path: whatever fails is left for the
//! relay, and nothing here ever fails the caller's request.

use std::time::Duration;

use spindle_ports::{Db, DbError, PublishError, Publisher};
use spindle_storage::outbox::{self, OutboxMessage};

/// How long the relay leaves a published event to its consumers before it
/// publishes it again. Consumers answer in milliseconds; the delay only needs
/// to outlast a busy moment, and it doubles with each redelivery.
pub const DEFAULT_REDELIVERY_DELAY: Duration = Duration::from_secs(10);

/// What [`after_commit`] did. It never fails: events it could not publish stay
/// in the outbox, where the relay finds them.
#[derive(Debug, Default)]
pub struct PublishReport {
    /// Published now and marked published.
    pub published: Vec<i64>,
    /// Not published now; the relay will publish them.
    pub left_for_relay: Vec<i64>,
    /// Why some events were left for the relay, to be logged by the caller.
    pub problem: Option<PublishProblem>,
}

impl PublishReport {
    pub fn all_published(&self) -> bool {
        self.left_for_relay.is_empty() && self.problem.is_none()
    }
}

/// Why [`after_commit`] left events to the relay.
#[derive(Debug, thiserror::Error)]
pub enum PublishProblem {
    #[error("the message bus refused an event ({0}); it stays in the outbox and the relay will publish it once the bus is back")]
    Bus(#[from] PublishError),
    #[error("the outbox could not be read or updated ({0}); the events are committed and the relay will (re)publish them")]
    Database(#[from] DbError),
}

/// Publishes the events `seqs` (just committed by the caller) to their
/// channels, in order, and marks the published ones in one statement.
///
/// On the first refusal of the bus it stops: the bus is most likely down, and
/// the rest would fail the same way, slowly.
pub fn after_commit(db: &impl Db, publisher: &impl Publisher, seqs: &[i64]) -> PublishReport {
    publish_now(db, publisher, seqs, DEFAULT_REDELIVERY_DELAY)
}

/// [`after_commit`] with a chosen redelivery delay.
pub fn publish_now(
    db: &impl Db,
    publisher: &impl Publisher,
    seqs: &[i64],
    redelivery_delay: Duration,
) -> PublishReport {
    let messages = match outbox::undelivered(db, seqs) {
        Ok(messages) => messages,
        Err(err) => {
            return PublishReport {
                left_for_relay: seqs.to_vec(),
                problem: Some(err.into()),
                ..PublishReport::default()
            };
        }
    };
    let mut report = publish_in_order(publisher, &messages);
    if let Err(err) = outbox::record_first_publish(db, &report.published, micros(redelivery_delay))
    {
        // Published but not marked: the relay will publish them again, which
        // effect-once consumers absorb.
        report.problem.get_or_insert(err.into());
    }
    report
}

/// Marks the events a writer is about to publish, inside the writer's own
/// transaction, so that the happy path costs no database work after the
/// commit. Call [`send_marked`] once the transaction has committed.
///
/// Should the process die between the commit and the publish, the events are
/// marked published but nobody heard them; the relay republishes every event a
/// required consumer has not processed once the redelivery delay has passed.
pub fn mark_for_publish(db: &impl Db, seqs: &[i64]) -> Result<(), DbError> {
    outbox::record_first_publish(db, seqs, micros(DEFAULT_REDELIVERY_DELAY)).map(|_| ())
}

/// Publishes events marked by [`mark_for_publish`] and now committed, from the
/// writer's memory (no database read). On the first refusal of the bus, the
/// rest are unmarked and left to the relay. It never fails the caller.
pub fn send_marked(
    db: &impl Db,
    publisher: &impl Publisher,
    messages: &[OutboxMessage],
) -> PublishReport {
    let mut report = publish_in_order(publisher, messages);
    if let Err(err) = outbox::unpublish(db, &report.left_for_relay) {
        // Still marked: the relay publishes them after the redelivery delay.
        report.problem.get_or_insert(err.into());
    }
    report
}

/// Publishes `messages` in order, stopping at the first refusal of the bus:
/// it is most likely down, and the rest would fail the same way, slowly.
fn publish_in_order(publisher: &impl Publisher, messages: &[OutboxMessage]) -> PublishReport {
    let mut report = PublishReport::default();
    for message in messages {
        if report.problem.is_some() {
            report.left_for_relay.push(message.seq);
            continue;
        }
        match publisher.publish(&message.channel, &message.payload) {
            Ok(()) => report.published.push(message.seq),
            Err(err) => {
                report.left_for_relay.push(message.seq);
                report.problem = Some(err.into());
            }
        }
    }
    crate::changes::signal_users(
        publisher,
        messages
            .iter()
            .filter(|m| report.published.contains(&m.seq))
            .map(|m| m.user_id.as_str()),
    );
    report
}

pub(crate) fn micros(duration: Duration) -> i64 {
    i64::try_from(duration.as_micros()).unwrap_or(i64::MAX)
}
