//! `tick_heartbeat`: the one row saying when a tick last finished (read by
//! `/metrics`) and when retention last started.

use spindle_ports::{Db, DbError, Param};

/// Records that a tick finished now and, in the same statement, claims the
/// retention run when the last one started at least `retention_every_seconds`
/// ago (or never). Returns whether this tick claimed it.
///
/// The row lock of the upsert serialises concurrent ticks: the second one sees
/// the first one's `last_retention_at`, so two ticks at once never both run
/// retention.
pub fn beat(db: &impl Db, retention_every_seconds: i64) -> Result<bool, DbError> {
    let rows = db.query(
        "INSERT INTO tick_heartbeat AS h (id, last_tick_at, last_retention_at)
         VALUES (true, now(), now())
         ON CONFLICT (id) DO UPDATE
         SET last_tick_at = greatest(h.last_tick_at, now()),
             last_retention_at = CASE
                 WHEN h.last_retention_at IS NULL
                   OR h.last_retention_at <= now() - $1::int8 * interval '1 second'
                 THEN now()
                 ELSE h.last_retention_at
             END
         RETURNING h.last_retention_at = now() AS retention_claimed",
        &[Param::Int64(retention_every_seconds)],
    )?;
    rows.first()
        .ok_or_else(|| DbError::Decode("the heartbeat upsert returned no row".into()))?
        .bool("retention_claimed")
}
