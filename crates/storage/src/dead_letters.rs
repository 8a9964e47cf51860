//! `dead_letters`: events that used up their delivery attempts, kept for an
//! operator to inspect and replay. Rows are written by the relay's claim
//! (`outbox::claim_due`), in the same statement that marks the event dead.

use spindle_domain::{format_instant, Instant};
use spindle_ports::{Db, DbError, Param};

use crate::outbox::published_envelope;

/// A dead letter not yet replayed.
#[derive(Debug, Clone, PartialEq)]
pub struct DeadLetter {
    pub id: i64,
    pub seq: i64,
    pub event_id: String,
    pub event_type: String,
    pub channel: String,
    pub user_id: String,
    pub task_id: Option<String>,
    /// Why it was given up on, e.g. which consumer kept failing and with what.
    pub reason: String,
    pub attempts: i64,
    /// RFC 3339, UTC.
    pub dead_at: String,
    /// The envelope as it was published (with `sequence`).
    pub envelope: serde_json::Value,
}

/// Open (not replayed) dead letters with `id > after_id`, oldest first.
pub fn list(db: &impl Db, after_id: i64, limit: u32) -> Result<Vec<DeadLetter>, DbError> {
    let rows = db.query(
        concat!(
            "SELECT d.id, d.seq, d.event_id, o.type, d.channel, o.user_id, o.task_id, d.reason,
                    d.attempts::int8 AS attempts,
                    (extract(epoch from d.created_at) * 1000000)::int8 AS dead_at_us, ",
            published_envelope!("o"),
            " AS payload
             FROM dead_letters d JOIN outbox o ON o.seq = d.seq
             WHERE d.replayed_at IS NULL AND d.id > $1::int8
             ORDER BY d.id
             LIMIT $2::int8"
        ),
        &[Param::Int64(after_id), Param::Int64(i64::from(limit))],
    )?;
    rows.iter()
        .map(|row| {
            Ok(DeadLetter {
                id: row.i64("id")?,
                seq: row.i64("seq")?,
                event_id: row.str("event_id")?,
                event_type: row.str("type")?,
                channel: row.str("channel")?,
                user_id: row.str("user_id")?,
                task_id: row.opt_str("task_id")?,
                reason: row.str("reason")?,
                attempts: row.i64("attempts")?,
                dead_at: format_instant(Instant::from_micros(row.i64("dead_at_us")?), None),
                envelope: serde_json::from_str(&row.str("payload")?)
                    .map_err(|e| DbError::Decode(e.to_string()))?,
            })
        })
        .collect()
}

/// What [`reopen`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reopened {
    /// The dead letter is marked replayed and its event is due again now, with
    /// a fresh set of attempts.
    Reopened {
        seq: i64,
    },
    /// It was replayed before, at this instant (RFC 3339).
    AlreadyReplayed {
        replayed_at: String,
    },
    NotFound,
}

/// Marks dead letter `id` replayed and puts its outbox event back in line
/// (`dead_at` cleared, `attempts` 0, due now), in one statement, so two
/// operators replaying the same letter at once reopen the event once.
pub fn reopen(db: &impl Db, id: i64) -> Result<Reopened, DbError> {
    let rows = db.query(
        "WITH letter AS (
             UPDATE dead_letters SET replayed_at = now()
             WHERE id = $1::int8 AND replayed_at IS NULL
             RETURNING seq
         )
         UPDATE outbox o
         SET dead_at = NULL, attempts = 0, next_attempt_at = now(), delivered_at = NULL
         FROM letter WHERE o.seq = letter.seq
         RETURNING o.seq",
        &[Param::Int64(id)],
    )?;
    if let Some(row) = rows.first() {
        return Ok(Reopened::Reopened {
            seq: row.i64("seq")?,
        });
    }
    let rows = db.query(
        "SELECT (extract(epoch from replayed_at) * 1000000)::int8 AS replayed_at_us
         FROM dead_letters WHERE id = $1::int8",
        &[Param::Int64(id)],
    )?;
    match rows.first() {
        None => Ok(Reopened::NotFound),
        Some(row) => Ok(Reopened::AlreadyReplayed {
            replayed_at: row
                .opt_i64("replayed_at_us")?
                .map(|us| format_instant(Instant::from_micros(us), None))
                .unwrap_or_default(),
        }),
    }
}
