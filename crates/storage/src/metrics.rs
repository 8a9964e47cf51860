//! The figures `/metrics` reports, read in one statement whose every part is an
//! index range or a few rows (migrations 0009 and 0012): totals come from
//! counts kept by triggers, the rest reads what is in flight or recent, so a
//! scrape costs about the same at a thousand tasks as at a million.

use serde::Deserialize;
use spindle_ports::{Db, DbError, Param};

use crate::migrations::{routines_pending, MIGRATIONS};

/// How far back "recent" deliveries and missed reminders reach.
pub const RECENT_SECONDS: i64 = 3600;

/// Channel kinds and delivery states, as the tables' CHECK constraints allow
/// them: every combination is reported, zero included, so that a ratio or an
/// alert never meets a missing series.
pub const CHANNEL_KINDS: &[&str] = &["webhook", "web_push"];
pub const DELIVERY_STATES: &[&str] = &["pending", "sending", "delivered", "failed", "skipped"];

/// What an operator watches, at one instant.
#[derive(Debug, Clone, PartialEq)]
pub struct Figures {
    pub tasks_open: i64,
    pub tasks_completed: i64,
    /// Per channel: the channels asked for, and any other with pending events.
    pub outbox: Vec<ChannelBacklog>,
    /// Dead letters not replayed.
    pub dead_letters_open: i64,
    /// Reminders waiting for their time (or for the tick, once it has come).
    pub reminders_pending: i64,
    /// Pending reminders whose time has come: the tick has not claimed them yet.
    pub reminders_due_unclaimed: i64,
    /// How late the oldest of those is (0 when there is none).
    pub reminders_due_oldest_seconds: f64,
    /// Reminders the tick marked missed (claimed too late) in the last hour.
    pub reminders_missed_recent: i64,
    /// Reminder deliveries whose state changed in the last hour, by channel
    /// kind and state (test pings left out).
    pub deliveries_recent: Vec<DeliveryCount>,
    /// Channels switched off (by failures, an expired subscription or the user), by kind.
    pub channels_disabled: Vec<KindCount>,
    /// Seconds since the last tick finished; `None` when no tick ever ran.
    pub tick_age_seconds: Option<f64>,
    /// Migrations of this build the database does not carry yet.
    pub migrations_pending: usize,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ChannelBacklog {
    pub channel: String,
    /// Events not yet processed by every consumer of the channel (the relay
    /// marks an event delivered on the first tick after that).
    pub pending: i64,
    /// Age of the oldest of those, 0 when there is none.
    pub oldest_seconds: f64,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct DeliveryCount {
    pub kind: String,
    pub state: String,
    pub count: i64,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct KindCount {
    pub kind: String,
    pub count: i64,
}

/// Reads every figure at `now_micros` (the clock reminders and deliveries are
/// stamped by), reporting the outbox of `channels` even when they have nothing
/// pending. It fails when the schema lacks a table it
/// reads (migrations pending): ask [`crate::migrations::status`] then.
pub fn figures(db: &impl Db, now_micros: i64, channels: &[&str]) -> Result<Figures, DbError> {
    let rows = db.query(
        "WITH clock AS (SELECT ts_from_us($1) AS now)
         SELECT
            (SELECT coalesce(sum(n), 0)::int8 FROM task_counts WHERE status = 'open') AS tasks_open,
            (SELECT coalesce(sum(n), 0)::int8 FROM task_counts WHERE status = 'completed') AS tasks_completed,
            -- Outbox rows are stamped by the database's clock (created_at
            -- DEFAULT now()), so their age is measured by it too.
            (SELECT coalesce(jsonb_agg(jsonb_build_object(
                        'channel', c.channel, 'pending', coalesce(b.pending, 0),
                        'oldest_seconds', coalesce(extract(epoch FROM now() - b.oldest), 0))
                        ORDER BY c.channel), '[]')
               FROM (SELECT unnest($2::text[]) AS channel
                     UNION
                     SELECT DISTINCT channel FROM outbox WHERE delivered_at IS NULL AND dead_at IS NULL) c
               LEFT JOIN (SELECT channel, count(*) AS pending, min(created_at) AS oldest FROM outbox
                           WHERE delivered_at IS NULL AND dead_at IS NULL
                           GROUP BY channel) b ON b.channel = c.channel) AS outbox,
            (SELECT count(*) FROM dead_letters WHERE replayed_at IS NULL) AS dead_letters_open,
            (SELECT coalesce(sum(pending), 0)::int8 FROM reminder_counts) AS reminders_pending,
            (SELECT count(*) FROM reminders WHERE state = 'pending' AND fire_at <= clock.now) AS reminders_due_unclaimed,
            (SELECT coalesce(extract(epoch FROM clock.now - min(fire_at)), 0)::float8
               FROM reminders WHERE state = 'pending' AND fire_at <= clock.now) AS reminders_due_oldest_seconds,
            (SELECT count(*) FROM reminders
              WHERE state = 'missed' AND fired_at > ts_from_us($1 - $3::int8)) AS reminders_missed_recent,
            (SELECT coalesce(jsonb_agg(jsonb_build_object('kind', k.kind, 'state', s.state, 'count', coalesce(d.count, 0))
                        ORDER BY k.kind, s.state), '[]')
               FROM unnest($4::text[]) AS k(kind)
               CROSS JOIN unnest($5::text[]) AS s(state)
               LEFT JOIN (SELECT c.kind, d.state, count(*) AS count
                            FROM deliveries d JOIN channels c ON c.id = d.channel_id
                           WHERE d.reminder_id IS NOT NULL AND d.updated_at > ts_from_us($1 - $3::int8)
                           GROUP BY c.kind, d.state) d ON d.kind = k.kind AND d.state = s.state) AS deliveries_recent,
            (SELECT coalesce(jsonb_agg(jsonb_build_object('kind', k.kind, 'count',
                        (SELECT count(*) FROM channels c WHERE NOT c.enabled AND c.kind = k.kind))
                        ORDER BY k.kind), '[]')
               FROM unnest($4::text[]) AS k(kind)) AS channels_disabled,
            -- The tick stamps its heartbeat with the database's clock too.
            (SELECT extract(epoch FROM now() - last_tick_at)::float8 FROM tick_heartbeat) AS tick_age_seconds,
            (SELECT coalesce(jsonb_agg(version), '[]') FROM schema_migrations) AS migrations_applied,
            (SELECT coalesce(jsonb_agg(jsonb_build_array(name, checksum)), '[]')
               FROM schema_routines) AS routines_installed
           FROM clock",
        &[
            Param::Int64(now_micros),
            text_array(channels),
            Param::Int64(RECENT_SECONDS * 1_000_000),
            text_array(CHANNEL_KINDS),
            text_array(DELIVERY_STATES),
        ],
    )?;
    let row = rows
        .first()
        .ok_or_else(|| DbError::Decode("the metrics query returned no row".into()))?;
    let applied: Vec<i32> = parse_json(&row.json("migrations_applied")?, "migrations_applied")?;
    let routines: Vec<(String, String)> =
        parse_json(&row.json("routines_installed")?, "routines_installed")?;
    Ok(Figures {
        tasks_open: row.i64("tasks_open")?,
        tasks_completed: row.i64("tasks_completed")?,
        outbox: parse_json(&row.json("outbox")?, "outbox")?,
        dead_letters_open: row.i64("dead_letters_open")?,
        reminders_pending: row.i64("reminders_pending")?,
        reminders_due_unclaimed: row.i64("reminders_due_unclaimed")?,
        reminders_due_oldest_seconds: row.f64("reminders_due_oldest_seconds")?,
        reminders_missed_recent: row.i64("reminders_missed_recent")?,
        deliveries_recent: parse_json(&row.json("deliveries_recent")?, "deliveries_recent")?,
        channels_disabled: parse_json(&row.json("channels_disabled")?, "channels_disabled")?,
        tick_age_seconds: if row.is_null("tick_age_seconds")? {
            None
        } else {
            Some(row.f64("tick_age_seconds")?)
        },
        migrations_pending: MIGRATIONS
            .iter()
            .filter(|m| !applied.contains(&m.version))
            .count()
            + routines_pending(&routines).len(),
    })
}

fn text_array(items: &[&str]) -> Param {
    Param::ArrayStr(items.iter().map(|s| Some((*s).to_owned())).collect())
}

fn parse_json<T: for<'de> Deserialize<'de>>(bytes: &[u8], column: &str) -> Result<T, DbError> {
    serde_json::from_slice(bytes).map_err(|e| DbError::Decode(format!("column {column:?}: {e}")))
}
