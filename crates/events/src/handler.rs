//! The effect-once frame every consumer runs in.
//!
//! Every replica of a Redis-triggered component receives every message, and the
//! relay republishes until consumers acknowledge, so a consumer sees the same
//! event several times, sometimes at the same moment. Recording
//! (consumer, event id) in the same transaction as the effect makes the effect
//! happen once: a later or concurrent duplicate finds the record (the second
//! insert waits on the unique key until the first transaction ends) and does
//! nothing.

use spindle_domain::event::Envelope;
use spindle_ports::{Db, DbError};
use spindle_storage::processed;

/// What became of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The effect ran and was committed with the processed record.
    Processed,
    /// This consumer had already processed the event; nothing was done.
    Duplicate,
}

/// Why a message was not processed. Every variant leaves the event unprocessed,
/// so the relay delivers it again, and dead-letters it when it keeps failing.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError<E: std::error::Error + 'static> {
    #[error("the message is not a valid event envelope: {0}; it was not processed and will be dead-lettered after its delivery attempts")]
    Malformed(String),
    #[error("consumer {consumer:?} could not record event {event_id}: {source}; nothing was changed and the event will be redelivered")]
    Database {
        consumer: String,
        event_id: String,
        #[source]
        source: DbError,
    },
    #[error("consumer {consumer:?} failed on event {event_id}: {source}; nothing was changed and the event will be redelivered")]
    Effect {
        consumer: String,
        event_id: String,
        #[source]
        source: E,
    },
}

enum Failed<E> {
    Database(DbError),
    Effect(E),
}

impl<E> From<DbError> for Failed<E> {
    fn from(err: DbError) -> Self {
        Failed::Database(err)
    }
}

/// Parses `message` and, in one transaction, records that `consumer` processed
/// it and runs `effect` with the transaction's connection. A duplicate commits
/// nothing new and skips the effect; a failing effect rolls everything back,
/// its error is remembered in `consumer_failures` (for the dead letter's
/// reason), and the error is returned so the runtime logs it.
pub fn run<D, E>(
    db: &D,
    consumer: &str,
    message: &[u8],
    effect: impl FnOnce(&D, &Envelope) -> Result<(), E>,
) -> Result<Outcome, HandlerError<E>>
where
    D: Db,
    E: std::error::Error + 'static,
{
    let envelope: Envelope =
        serde_json::from_slice(message).map_err(|e| HandlerError::Malformed(e.to_string()))?;
    let event_id = uuid::Uuid::parse_str(&envelope.id)
        .map_err(|_| HandlerError::Malformed(format!("its id {:?} is not a UUID", envelope.id)))?;
    let result = db.transaction(|tx| {
        if !processed::claim(tx, consumer, event_id)? {
            return Ok(Outcome::Duplicate);
        }
        effect(tx, &envelope).map_err(Failed::Effect)?;
        Ok(Outcome::Processed)
    });
    match result {
        Ok(outcome) => Ok(outcome),
        Err(Failed::Database(source)) => Err(HandlerError::Database {
            consumer: consumer.to_owned(),
            event_id: envelope.id,
            source,
        }),
        Err(Failed::Effect(source)) => {
            // Best effort: the error is returned (and logged) either way.
            let _ = processed::record_failure(db, consumer, event_id, &source.to_string());
            Err(HandlerError::Effect {
                consumer: consumer.to_owned(),
                event_id: envelope.id,
                source,
            })
        }
    }
}
