//! The `deliveries` table: one row per (reminder, channel), claimed before every
//! attempt, so that replicas, redeliveries and retries never send twice at once.
//!
//! A row is `pending` (due at `next_attempt_at`), `sending` (claimed; the claim
//! lapses at `next_attempt_at`, so a sender that died is retried), `delivered`,
//! `failed` (for good) or `skipped` (not sent: the task was closed or the channel
//! disabled meanwhile).

use spindle_domain::{ChannelKind, Instant};
use spindle_ports::{Db, DbError, Param, Row};
use uuid::Uuid;

use crate::{opt_uuid_column, uuid_column};

/// Creates the deliveries of a reminder, one per enabled channel of its user, in
/// the caller's transaction; an existing (reminder, channel) row is left as it is.
/// They are due at once; the tick leaves them to the caller (who sends right
/// after committing) until `announce_after`. Returns the ids created now.
pub fn create_for_reminder(
    db: &impl Db,
    user_id: &str,
    reminder_id: Uuid,
    task_id: Uuid,
    payload: &serde_json::Value,
    now: Instant,
    announce_after: Instant,
) -> Result<Vec<Uuid>, DbError> {
    let body = serde_json::to_vec(payload).map_err(|e| DbError::Conversion(e.to_string()))?;
    let rows = db.query(
        "INSERT INTO deliveries (id, channel_id, user_id, reminder_id, task_id, payload, state,
                                 next_attempt_at, announced_until, created_at, updated_at)
         SELECT gen_random_uuid(), c.id, c.user_id, $2, $3, $4, 'pending',
                ts_from_us($5), ts_from_us($6), ts_from_us($5), ts_from_us($5)
           FROM channels c
          WHERE c.user_id = $1 AND c.enabled
         ON CONFLICT (reminder_id, channel_id) DO NOTHING
         RETURNING id",
        &[
            Param::Str(user_id.to_owned()),
            Param::Uuid(reminder_id.to_string()),
            Param::Uuid(task_id.to_string()),
            Param::Jsonb(body),
            Param::Int64(now.micros()),
            Param::Int64(announce_after.micros()),
        ],
    )?;
    rows.iter().map(|r| uuid_column(&r, "id")).collect()
}

/// Creates a test ping to `channel_id`, due now; the caller announces it, and the
/// tick leaves it alone until `announced_until`.
pub fn create_ping(
    db: &impl Db,
    user_id: &str,
    channel_id: Uuid,
    payload: &serde_json::Value,
    now: Instant,
    announced_until: Instant,
) -> Result<Uuid, DbError> {
    let id = Uuid::new_v4();
    let body = serde_json::to_vec(payload).map_err(|e| DbError::Conversion(e.to_string()))?;
    db.execute(
        "INSERT INTO deliveries (id, channel_id, user_id, payload, state, attempts,
                                 next_attempt_at, announced_until, created_at, updated_at)
         VALUES ($1, $2, $3, $4, 'pending', 0, ts_from_us($5), ts_from_us($6), ts_from_us($5),
                 ts_from_us($5))",
        &[
            Param::Uuid(id.to_string()),
            Param::Uuid(channel_id.to_string()),
            Param::Str(user_id.to_owned()),
            Param::Jsonb(body),
            Param::Int64(now.micros()),
            Param::Int64(announced_until.micros()),
        ],
    )?;
    Ok(id)
}

/// A delivery claimed for one attempt, with what is needed to make it.
#[derive(Debug, Clone, PartialEq)]
pub struct Claimed {
    pub id: Uuid,
    pub user_id: String,
    pub reminder_id: Option<Uuid>,
    pub task_id: Option<Uuid>,
    pub payload: Vec<u8>,
    /// Attempts including this one.
    pub attempts: i64,
    pub channel_id: Uuid,
    pub channel_kind: ChannelKind,
    pub channel_enabled: bool,
    pub target: String,
    pub secret: Option<String>,
    /// A Web Push channel's subscription keys.
    pub push_keys: Option<serde_json::Value>,
    pub previous_secret: Option<String>,
    pub previous_expires_at: Option<Instant>,
    /// The reminder's task is open (always true for a ping).
    pub task_open: bool,
}

/// Claims delivery `id` for an attempt if it is due (pending and due, or
/// `sending` with a lapsed claim): counts the attempt and holds the row in
/// `sending` until `lease_until`. `None` when another sender holds it, it is
/// not due, or it is finished.
pub fn claim(
    db: &impl Db,
    id: Uuid,
    now: Instant,
    lease_until: Instant,
) -> Result<Option<Claimed>, DbError> {
    let rows = db.query(
        "WITH d AS (
             SELECT id FROM deliveries
              WHERE id = $1 AND state IN ('pending', 'sending') AND next_attempt_at <= ts_from_us($2)
              FOR UPDATE SKIP LOCKED)
         UPDATE deliveries x
            SET state = 'sending', attempts = x.attempts + 1,
                next_attempt_at = ts_from_us($3), updated_at = ts_from_us($2)
           FROM d, channels c
          WHERE x.id = d.id AND c.id = x.channel_id
         RETURNING x.id, x.user_id, x.reminder_id, x.task_id, x.payload::text AS payload,
                   x.attempts::int8 AS attempts, c.id AS channel_id, c.kind, c.enabled, c.target,
                   c.secret, c.push_keys::text AS push_keys, c.previous_secret,
                   us_from_ts(c.previous_expires_at) AS previous_expires_us,
                   x.reminder_id IS NULL OR EXISTS (
                       SELECT 1 FROM reminders r JOIN tasks t ON t.id = r.task_id
                        WHERE r.id = x.reminder_id AND t.status = 'open') AS task_open",
        &[
            Param::Uuid(id.to_string()),
            Param::Int64(now.micros()),
            Param::Int64(lease_until.micros()),
        ],
    )?;
    rows.first().map(claimed_from).transpose()
}

fn claimed_from(row: Row<'_>) -> Result<Claimed, DbError> {
    Ok(Claimed {
        id: uuid_column(&row, "id")?,
        user_id: row.str("user_id")?,
        reminder_id: opt_uuid_column(&row, "reminder_id")?,
        task_id: opt_uuid_column(&row, "task_id")?,
        payload: row.str("payload")?.into_bytes(),
        attempts: row.i64("attempts")?,
        channel_id: uuid_column(&row, "channel_id")?,
        channel_kind: ChannelKind::parse(&row.str("kind")?).map_err(DbError::Decode)?,
        channel_enabled: row.bool("enabled")?,
        target: row.str("target")?,
        secret: row.opt_str("secret")?,
        push_keys: crate::channels::push_keys(row.opt_str("push_keys")?)?,
        previous_secret: row.opt_str("previous_secret")?,
        previous_expires_at: row
            .opt_i64("previous_expires_us")?
            .map(Instant::from_micros),
        task_open: row.bool("task_open")?,
    })
}

/// How an attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Delivered {
        status: u16,
    },
    /// Try again at `at`.
    Retry {
        status: Option<u16>,
        error: String,
        at: Instant,
    },
    Failed {
        status: Option<u16>,
        error: String,
    },
    /// Not sent, and never will be.
    Skipped {
        reason: String,
    },
}

/// Records the end of the attempt on a claimed delivery.
pub fn record(db: &impl Db, id: Uuid, outcome: &Outcome, now: Instant) -> Result<(), DbError> {
    let (state, status, error, next) = match outcome {
        Outcome::Delivered { status } => ("delivered", Some(*status), None, now),
        Outcome::Retry { status, error, at } => ("pending", *status, Some(error.as_str()), *at),
        Outcome::Failed { status, error } => ("failed", *status, Some(error.as_str()), now),
        Outcome::Skipped { reason } => ("skipped", None, Some(reason.as_str()), now),
    };
    db.execute(
        "UPDATE deliveries
            SET state = $2, last_status = $3, last_error = $4, next_attempt_at = ts_from_us($5),
                announced_until = NULL, updated_at = ts_from_us($6)
          WHERE id = $1",
        &[
            Param::Uuid(id.to_string()),
            Param::Str(state.to_owned()),
            status.map_or(Param::Null, |s| Param::Int32(i32::from(s))),
            error.map_or(Param::Null, |e| Param::Str(e.to_owned())),
            Param::Int64(next.micros()),
            Param::Int64(now.micros()),
        ],
    )?;
    Ok(())
}

/// Where a delivery stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub state: String,
    pub attempts: i64,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
}

impl Status {
    /// Delivered, failed or skipped: nothing more will happen to it.
    pub fn is_final(&self) -> bool {
        !matches!(self.state.as_str(), "pending" | "sending")
    }
}

pub fn status(db: &impl Db, id: Uuid) -> Result<Option<Status>, DbError> {
    let rows = db.query(
        "SELECT state, attempts::int8 AS attempts, last_status::int8 AS last_status, last_error
           FROM deliveries WHERE id = $1",
        &[Param::Uuid(id.to_string())],
    )?;
    rows.first()
        .map(|r| {
            Ok(Status {
                state: r.str("state")?,
                attempts: r.i64("attempts")?,
                last_status: r.opt_i64("last_status")?,
                last_error: r.opt_str("last_error")?,
            })
        })
        .transpose()
}

/// A delivery due for an attempt, to announce to the notifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Due {
    pub id: Uuid,
    pub user_id: String,
}

/// Takes up to `limit` deliveries due at `now` that are not announced yet (or
/// whose announcement lapsed) and marks them announced until `announced_until`,
/// so the next ticks leave them alone while the notifier works. Concurrent ticks
/// take disjoint rows.
pub fn take_due(
    db: &impl Db,
    now: Instant,
    announced_until: Instant,
    limit: u32,
) -> Result<Vec<Due>, DbError> {
    let rows = db.query(
        "WITH due AS (
             SELECT id FROM deliveries
              WHERE state IN ('pending', 'sending') AND next_attempt_at <= ts_from_us($1)
                AND (announced_until IS NULL OR announced_until <= ts_from_us($1))
              ORDER BY next_attempt_at
              LIMIT $3::int8
              FOR UPDATE SKIP LOCKED)
         UPDATE deliveries d SET announced_until = ts_from_us($2)
           FROM due WHERE d.id = due.id
         RETURNING d.id, d.user_id",
        &[
            Param::Int64(now.micros()),
            Param::Int64(announced_until.micros()),
            Param::Int64(i64::from(limit)),
        ],
    )?;
    rows.iter()
        .map(|r| {
            Ok(Due {
                id: uuid_column(&r, "id")?,
                user_id: r.str("user_id")?,
            })
        })
        .collect()
}

/// One line of a channel's delivery log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    pub id: Uuid,
    pub reminder_id: Option<Uuid>,
    pub task_id: Option<Uuid>,
    pub attempts: i64,
    pub state: String,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: Instant,
    pub updated_at: Instant,
}

/// A channel's deliveries, newest first, before the keyset `(created_at, id)`.
pub fn log(
    db: &impl Db,
    channel_id: Uuid,
    before: Option<(i64, Uuid)>,
    limit: u32,
) -> Result<Vec<LogEntry>, DbError> {
    let rows = db.query(
        "SELECT id, reminder_id, task_id, attempts::int8 AS attempts, state,
                last_status::int8 AS last_status, last_error,
                us_from_ts(created_at) AS created_us, us_from_ts(updated_at) AS updated_us
           FROM deliveries
          WHERE channel_id = $1
            AND ($2::int8 IS NULL OR (created_at, id) < (ts_from_us($2), $3::uuid))
          ORDER BY created_at DESC, id DESC
          LIMIT $4::int8",
        &[
            Param::Uuid(channel_id.to_string()),
            before.map_or(Param::Null, |(us, _)| Param::Int64(us)),
            before.map_or(Param::Null, |(_, id)| Param::Uuid(id.to_string())),
            Param::Int64(i64::from(limit)),
        ],
    )?;
    rows.iter()
        .map(|r| {
            Ok(LogEntry {
                id: uuid_column(&r, "id")?,
                reminder_id: opt_uuid_column(&r, "reminder_id")?,
                task_id: opt_uuid_column(&r, "task_id")?,
                attempts: r.i64("attempts")?,
                state: r.str("state")?,
                last_status: r.opt_i64("last_status")?,
                last_error: r.opt_str("last_error")?,
                created_at: Instant::from_micros(r.i64("created_us")?),
                updated_at: Instant::from_micros(r.i64("updated_us")?),
            })
        })
        .collect()
}

/// Deletes up to `limit` finished deliveries (delivered, failed or skipped)
/// last changed more than `older_than_seconds` ago, oldest first
/// (`deliveries_finished`). Pending and sending ones are never touched: they
/// are still to be sent.
pub fn prune_finished(db: &impl Db, older_than_seconds: i64, limit: u32) -> Result<u64, DbError> {
    db.execute(
        "DELETE FROM deliveries
          WHERE id IN (
                SELECT id FROM deliveries
                 WHERE state IN ('delivered', 'failed', 'skipped')
                   AND updated_at < now() - $1::int8 * interval '1 second'
                 ORDER BY updated_at
                 LIMIT $2::int8
                 FOR UPDATE SKIP LOCKED)",
        &[
            Param::Int64(older_than_seconds),
            Param::Int64(i64::from(limit)),
        ],
    )
}
