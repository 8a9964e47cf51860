//! `processed_events` and `consumer_failures`: what makes a consumer effect-once,
//! and what it last failed on.

use spindle_ports::{Db, DbError, Param};

/// Records that `consumer` processes `event_id`, inside the consumer's
/// transaction. Returns `false` when it was already recorded: the event is a
/// duplicate and its effect must not run again.
///
/// The primary key (consumer, event_id) makes a concurrent duplicate delivery
/// wait for the first transaction: if that one commits, this insert conflicts
/// and returns `false`; if it rolls back, this one proceeds.
pub fn claim(db: &impl Db, consumer: &str, event_id: uuid::Uuid) -> Result<bool, DbError> {
    let inserted = db.execute(
        "INSERT INTO processed_events (consumer, event_id) VALUES ($1, $2)
         ON CONFLICT (consumer, event_id) DO NOTHING",
        &[
            Param::Str(consumer.to_owned()),
            Param::Uuid(event_id.to_string()),
        ],
    )?;
    Ok(inserted == 1)
}

/// Whether `consumer` has processed `event_id`.
pub fn is_processed(db: &impl Db, consumer: &str, event_id: uuid::Uuid) -> Result<bool, DbError> {
    let rows = db.query(
        "SELECT 1 AS one FROM processed_events WHERE consumer = $1 AND event_id = $2",
        &[
            Param::Str(consumer.to_owned()),
            Param::Uuid(event_id.to_string()),
        ],
    )?;
    Ok(!rows.is_empty())
}

/// Remembers why `consumer` failed on `event_id`, outside the failed (rolled
/// back) transaction, so that a dead letter can say what went wrong.
pub fn record_failure(
    db: &impl Db,
    consumer: &str,
    event_id: uuid::Uuid,
    error: &str,
) -> Result<(), DbError> {
    db.execute(
        "INSERT INTO consumer_failures (consumer, event_id, last_error) VALUES ($1, $2, $3)
         ON CONFLICT (consumer, event_id) DO UPDATE
         SET failures = consumer_failures.failures + 1,
             last_error = excluded.last_error,
             last_failed_at = now()",
        &[
            Param::Str(consumer.to_owned()),
            Param::Uuid(event_id.to_string()),
            Param::Str(error.chars().take(2000).collect()),
        ],
    )?;
    Ok(())
}

/// A consumer's recorded failures on one event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub failures: i64,
    pub last_error: String,
}

/// What `consumer` last failed with on `event_id`, if it ever failed.
pub fn failure(
    db: &impl Db,
    consumer: &str,
    event_id: uuid::Uuid,
) -> Result<Option<Failure>, DbError> {
    let rows = db.query(
        "SELECT failures::int8 AS failures, last_error FROM consumer_failures
         WHERE consumer = $1 AND event_id = $2",
        &[
            Param::Str(consumer.to_owned()),
            Param::Uuid(event_id.to_string()),
        ],
    )?;
    rows.first()
        .map(|row| {
            Ok(Failure {
                failures: row.i64("failures")?,
                last_error: row.str("last_error")?,
            })
        })
        .transpose()
}
