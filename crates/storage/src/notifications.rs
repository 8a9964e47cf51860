//! The `notifications` table: the user's in-app inbox.

use spindle_domain::Instant;
use spindle_ports::{Db, DbError, Param, Row};
use uuid::Uuid;

use crate::{opt_uuid_column, uuid_column};

/// What an inbox entry is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Reminder,
    MissedReminder,
    ChannelDisabled,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Reminder => "reminder",
            Kind::MissedReminder => "missed_reminder",
            Kind::ChannelDisabled => "channel_disabled",
        }
    }

    fn parse(raw: &str) -> Result<Self, DbError> {
        Ok(match raw {
            "reminder" => Kind::Reminder,
            "missed_reminder" => Kind::MissedReminder,
            "channel_disabled" => Kind::ChannelDisabled,
            other => {
                return Err(DbError::Decode(format!(
                    "unknown notification kind {other:?}"
                )))
            }
        })
    }
}

/// An inbox entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    pub id: Uuid,
    pub user_id: String,
    pub kind: Kind,
    pub reminder_id: Option<Uuid>,
    pub task_id: Option<Uuid>,
    pub channel_id: Option<Uuid>,
    pub title: String,
    pub due_at: Option<Instant>,
    pub fire_at: Option<Instant>,
    pub created_at: Instant,
    pub read_at: Option<Instant>,
}

/// A new entry (its id and time come from the caller).
#[derive(Debug, Clone)]
pub struct NewNotification<'a> {
    pub id: Uuid,
    pub user_id: &'a str,
    pub kind: Kind,
    pub reminder_id: Option<Uuid>,
    pub task_id: Option<Uuid>,
    pub channel_id: Option<Uuid>,
    pub title: &'a str,
    pub due_at: Option<Instant>,
    pub fire_at: Option<Instant>,
}

const COLUMNS: &str = "n.id, n.user_id, n.kind, n.reminder_id, n.task_id, n.channel_id, n.title,
    us_from_ts(n.due_at) AS due_us, us_from_ts(n.fire_at) AS fire_us,
    us_from_ts(n.created_at) AS created_us, us_from_ts(n.read_at) AS read_us";

fn from_row(row: Row<'_>) -> Result<Notification, DbError> {
    Ok(Notification {
        id: uuid_column(&row, "id")?,
        user_id: row.str("user_id")?,
        kind: Kind::parse(&row.str("kind")?)?,
        reminder_id: opt_uuid_column(&row, "reminder_id")?,
        task_id: opt_uuid_column(&row, "task_id")?,
        channel_id: opt_uuid_column(&row, "channel_id")?,
        title: row.str("title")?,
        due_at: row.opt_i64("due_us")?.map(Instant::from_micros),
        fire_at: row.opt_i64("fire_us")?.map(Instant::from_micros),
        created_at: Instant::from_micros(row.i64("created_us")?),
        read_at: row.opt_i64("read_us")?.map(Instant::from_micros),
    })
}

/// Adds an entry; `None` when the reminder already has one (it is added once).
pub fn insert(
    db: &impl Db,
    new: &NewNotification<'_>,
    now: Instant,
) -> Result<Option<Notification>, DbError> {
    let rows = db.query(
        &format!(
            "WITH n AS (
                 INSERT INTO notifications (id, user_id, kind, reminder_id, task_id, channel_id,
                                            title, due_at, fire_at, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, ts_from_us($8), ts_from_us($9), ts_from_us($10))
                 ON CONFLICT (reminder_id) DO NOTHING
                 RETURNING *)
             SELECT {COLUMNS} FROM n"
        ),
        &[
            Param::Uuid(new.id.to_string()),
            Param::Str(new.user_id.to_owned()),
            Param::Str(new.kind.as_str().to_owned()),
            uuid_param(new.reminder_id),
            uuid_param(new.task_id),
            uuid_param(new.channel_id),
            Param::Str(new.title.to_owned()),
            new.due_at.map_or(Param::Null, |t| Param::Int64(t.micros())),
            new.fire_at.map_or(Param::Null, |t| Param::Int64(t.micros())),
            Param::Int64(now.micros()),
        ],
    )?;
    rows.first().map(from_row).transpose()
}

fn uuid_param(id: Option<Uuid>) -> Param {
    id.map_or(Param::Null, |id| Param::Uuid(id.to_string()))
}

/// The user's entries, newest first, before the keyset `(created_at, id)`;
/// only unread ones when `unread_only`.
pub fn list(
    db: &impl Db,
    user_id: &str,
    unread_only: bool,
    before: Option<(i64, Uuid)>,
    limit: u32,
) -> Result<Vec<Notification>, DbError> {
    let rows = db.query(
        &format!(
            "SELECT {COLUMNS} FROM notifications n
              WHERE n.user_id = $1 AND (NOT $2 OR n.read_at IS NULL)
                AND ($3::int8 IS NULL OR (n.created_at, n.id) < (ts_from_us($3), $4::uuid))
              ORDER BY n.created_at DESC, n.id DESC
              LIMIT $5::int8"
        ),
        &[
            Param::Str(user_id.to_owned()),
            Param::Bool(unread_only),
            before.map_or(Param::Null, |(us, _)| Param::Int64(us)),
            before.map_or(Param::Null, |(_, id)| Param::Uuid(id.to_string())),
            Param::Int64(i64::from(limit)),
        ],
    )?;
    rows.iter().map(from_row).collect()
}

pub fn unread_count(db: &impl Db, user_id: &str) -> Result<i64, DbError> {
    db.query(
        "SELECT count(*)::int8 AS n FROM notifications WHERE user_id = $1 AND read_at IS NULL",
        &[Param::Str(user_id.to_owned())],
    )?
    .first()
    .ok_or_else(|| DbError::Decode("count returned no row".into()))?
    .i64("n")
}

pub fn get(db: &impl Db, user_id: &str, id: Uuid) -> Result<Option<Notification>, DbError> {
    let rows = db.query(
        &format!("SELECT {COLUMNS} FROM notifications n WHERE n.id = $1 AND n.user_id = $2"),
        &[Param::Uuid(id.to_string()), Param::Str(user_id.to_owned())],
    )?;
    rows.first().map(from_row).transpose()
}

/// Marks the entry read (keeping the first read time); `None` when it is not
/// the user's.
pub fn mark_read(
    db: &impl Db,
    user_id: &str,
    id: Uuid,
    now: Instant,
) -> Result<Option<Notification>, DbError> {
    let rows = db.query(
        &format!(
            "WITH n AS (
                 UPDATE notifications SET read_at = coalesce(read_at, ts_from_us($3))
                  WHERE id = $1 AND user_id = $2
                 RETURNING *)
             SELECT {COLUMNS} FROM n"
        ),
        &[
            Param::Uuid(id.to_string()),
            Param::Str(user_id.to_owned()),
            Param::Int64(now.micros()),
        ],
    )?;
    rows.first().map(from_row).transpose()
}

/// Marks every unread entry of the user read; returns how many.
pub fn mark_all_read(db: &impl Db, user_id: &str, now: Instant) -> Result<u64, DbError> {
    db.execute(
        "UPDATE notifications SET read_at = ts_from_us($2) WHERE user_id = $1 AND read_at IS NULL",
        &[Param::Str(user_id.to_owned()), Param::Int64(now.micros())],
    )
}

/// Deletes up to `limit` read inbox entries created more than
/// `older_than_seconds` ago, oldest first (`notifications_read_age`). Unread
/// entries stay whatever their age: they are what the user has not seen yet,
/// and deleting them would lower `unread_count` without the user reading
/// anything; their number grows only as fast as the reminders a person sets.
pub fn prune_read(db: &impl Db, older_than_seconds: i64, limit: u32) -> Result<u64, DbError> {
    db.execute(
        "DELETE FROM notifications
          WHERE id IN (
                SELECT id FROM notifications
                 WHERE read_at IS NOT NULL
                   AND created_at < now() - $1::int8 * interval '1 second'
                 ORDER BY created_at
                 LIMIT $2::int8
                 FOR UPDATE SKIP LOCKED)",
        &[
            Param::Int64(older_than_seconds),
            Param::Int64(i64::from(limit)),
        ],
    )
}
