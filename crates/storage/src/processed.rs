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

/// Deletes up to `limit` effect-once records older than `older_than_seconds`,
/// oldest first, whose event the relay can no longer republish: its outbox row
/// is delivered or gone. A record of an event still pending or dead-lettered
/// (a replay republishes it) is kept whatever its age, so no consumer ever
/// applies an event twice because its record was deleted.
pub fn prune_processed(db: &impl Db, older_than_seconds: i64, limit: u32) -> Result<u64, DbError> {
    prune_settled(
        db,
        "processed_events",
        "processed_at",
        older_than_seconds,
        limit,
    )
}

/// Deletes up to `limit` failure records last written more than
/// `older_than_seconds` ago, oldest first, of events no longer pending or
/// dead-lettered: a dead letter's reason is built from them, so they stay
/// while it may still be written or replayed.
pub fn prune_failures(db: &impl Db, older_than_seconds: i64, limit: u32) -> Result<u64, DbError> {
    prune_settled(
        db,
        "consumer_failures",
        "last_failed_at",
        older_than_seconds,
        limit,
    )
}

/// Deletes up to `limit` rows of `table` (keyed by consumer and event) whose
/// `written_at` column is older than `older_than_seconds`, oldest first, and
/// whose event is no longer pending in the outbox. `table` and `written_at`
/// are this module's constants, never input.
fn prune_settled(
    db: &impl Db,
    table: &str,
    written_at: &str,
    older_than_seconds: i64,
    limit: u32,
) -> Result<u64, DbError> {
    db.execute(
        &format!(
            "DELETE FROM {table}
              WHERE (consumer, event_id) IN (
                    SELECT r.consumer, r.event_id FROM {table} r
                     WHERE r.{written_at} < now() - $1::int8 * interval '1 second'
                       AND NOT EXISTS (SELECT 1 FROM outbox o
                                        WHERE o.event_id = r.event_id AND o.delivered_at IS NULL)
                     ORDER BY r.{written_at}
                     LIMIT $2::int8)"
        ),
        &[
            Param::Int64(older_than_seconds),
            Param::Int64(i64::from(limit)),
        ],
    )
}
