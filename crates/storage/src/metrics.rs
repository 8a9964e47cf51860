//! Gauges of the event flow, read for `/metrics`.

use spindle_ports::{Db, DbError};

/// What an operator watches: a growing backlog or any dead letter needs a look.
#[derive(Debug, Clone, PartialEq)]
pub struct Gauges {
    /// Events not yet marked delivered: the relay marks an event delivered on
    /// the first tick after every required consumer has processed it.
    pub outbox_pending: i64,
    /// Age of the oldest of those, in seconds (0 when there is none).
    pub outbox_oldest_pending_seconds: f64,
    /// Dead letters not replayed.
    pub dead_letters_open: i64,
    /// Reminders whose time has come but that are still pending.
    pub reminders_overdue: i64,
}

pub fn gauges(db: &impl Db) -> Result<Gauges, DbError> {
    let rows = db.query(
        "SELECT
            (SELECT count(*) FROM outbox WHERE delivered_at IS NULL AND dead_at IS NULL) AS outbox_pending,
            (SELECT coalesce(extract(epoch FROM now() - min(created_at)), 0)::float8
               FROM outbox WHERE delivered_at IS NULL AND dead_at IS NULL) AS oldest,
            (SELECT count(*) FROM dead_letters WHERE replayed_at IS NULL) AS dead_letters_open,
            (SELECT count(*) FROM reminders WHERE state = 'pending' AND fire_at < now()) AS reminders_overdue",
        &[],
    )?;
    let row = rows
        .first()
        .ok_or_else(|| DbError::Decode("the gauges query returned no row".into()))?;
    Ok(Gauges {
        outbox_pending: row.i64("outbox_pending")?,
        outbox_oldest_pending_seconds: row.f64("oldest")?,
        dead_letters_open: row.i64("dead_letters_open")?,
        reminders_overdue: row.i64("reminders_overdue")?,
    })
}
