//! `audit_log`: the user-visible history of each task, one row per event.
//!
//! There is no foreign key to `tasks`: history outlives a deleted task, and an
//! event may be recorded before or after the task row it describes changes.

use spindle_domain::{format_instant, Instant};
use spindle_ports::{Db, DbError, Param};

/// One event to record.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEntry<'a> {
    pub event_id: uuid::Uuid,
    pub seq: i64,
    pub user_id: &'a str,
    pub task_id: uuid::Uuid,
    pub event_type: &'a str,
    pub actor: &'a str,
    pub changes: &'a serde_json::Value,
    pub occurred_at: Instant,
}

/// Records an entry; returns `false` if this event was already recorded.
pub fn insert(db: &impl Db, entry: &NewEntry<'_>) -> Result<bool, DbError> {
    let changes =
        serde_json::to_vec(entry.changes).map_err(|e| DbError::Conversion(e.to_string()))?;
    let inserted = db.execute(
        "INSERT INTO audit_log (event_id, seq, user_id, task_id, type, actor, changes, occurred_at)
         VALUES ($1, $2::int8, $3, $4, $5, $6, $7, ($8::text)::timestamptz)
         ON CONFLICT (event_id) DO NOTHING",
        &[
            Param::Uuid(entry.event_id.to_string()),
            Param::Int64(entry.seq),
            Param::Str(entry.user_id.to_owned()),
            Param::Uuid(entry.task_id.to_string()),
            Param::Str(entry.event_type.to_owned()),
            Param::Str(entry.actor.to_owned()),
            Param::Jsonb(changes),
            Param::Str(entry.occurred_at.to_rfc3339()),
        ],
    )?;
    Ok(inserted == 1)
}

/// One step of a task's history.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct HistoryEntry {
    /// The event's position in the log; history is ordered by it, newest first.
    pub seq: i64,
    pub event_id: String,
    #[serde(rename = "type")]
    pub event_type: String,
    pub actor: String,
    /// `{"field": {"from": old, "to": new}, ...}`.
    pub changes: serde_json::Value,
    /// RFC 3339, UTC.
    pub occurred_at: String,
}

/// A task's history, newest first, strictly before `before_seq` when given
/// (keyset pagination: pass the last `seq` of the previous page). Scoped by
/// user: another user's task has no history.
pub fn history(
    db: &impl Db,
    user_id: &str,
    task_id: uuid::Uuid,
    before_seq: Option<i64>,
    limit: u32,
) -> Result<Vec<HistoryEntry>, DbError> {
    let rows = db.query(
        "SELECT seq, event_id, type, actor, changes,
                (extract(epoch from occurred_at) * 1000000)::int8 AS occurred_at_us
         FROM audit_log
         WHERE user_id = $1 AND task_id = $2 AND ($3::int8 IS NULL OR seq < $3::int8)
         ORDER BY seq DESC
         LIMIT $4::int8",
        &[
            Param::Str(user_id.to_owned()),
            Param::Uuid(task_id.to_string()),
            before_seq.map_or(Param::Null, Param::Int64),
            Param::Int64(i64::from(limit)),
        ],
    )?;
    rows.iter()
        .map(|row| {
            Ok(HistoryEntry {
                seq: row.i64("seq")?,
                event_id: row.str("event_id")?,
                event_type: row.str("type")?,
                actor: row.str("actor")?,
                changes: serde_json::from_slice(&row.json("changes")?)
                    .map_err(|e| DbError::Decode(e.to_string()))?,
                occurred_at: format_instant(Instant::from_micros(row.i64("occurred_at_us")?), None),
            })
        })
        .collect()
}
