//! The `channels` table: where each user is notified.

use spindle_domain::{ChannelKind, Instant};
use spindle_ports::{Db, DbError, Param, Row};
use uuid::Uuid;

use crate::uuid_column;

/// A stored channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Channel {
    pub id: Uuid,
    pub user_id: String,
    pub kind: ChannelKind,
    pub name: String,
    /// The webhook URL (for other kinds, their target).
    pub target: String,
    pub secret: Option<String>,
    /// A Web Push channel's subscription keys, `{"p256dh", "auth"}` as the browser gave them.
    pub push_keys: Option<serde_json::Value>,
    /// The secret before the last rotation, still signing until `previous_expires_at`.
    pub previous_secret: Option<String>,
    pub previous_expires_at: Option<Instant>,
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    pub consecutive_failures: i64,
    pub created_at: Instant,
    pub updated_at: Instant,
}

const COLUMNS: &str = "c.id, c.user_id, c.kind, c.name, c.target, c.secret, c.push_keys::text AS push_keys, c.previous_secret,
    us_from_ts(c.previous_expires_at) AS previous_expires_us, c.enabled, c.disabled_reason,
    c.consecutive_failures::int8 AS consecutive_failures,
    us_from_ts(c.created_at) AS created_us, us_from_ts(c.updated_at) AS updated_us";

fn from_row(row: Row<'_>) -> Result<Channel, DbError> {
    Ok(Channel {
        id: uuid_column(&row, "id")?,
        user_id: row.str("user_id")?,
        kind: ChannelKind::parse(&row.str("kind")?).map_err(DbError::Decode)?,
        name: row.str("name")?,
        target: row.str("target")?,
        secret: row.opt_str("secret")?,
        push_keys: push_keys(row.opt_str("push_keys")?)?,
        previous_secret: row.opt_str("previous_secret")?,
        previous_expires_at: row
            .opt_i64("previous_expires_us")?
            .map(Instant::from_micros),
        enabled: row.bool("enabled")?,
        disabled_reason: row.opt_str("disabled_reason")?,
        consecutive_failures: row.i64("consecutive_failures")?,
        created_at: Instant::from_micros(row.i64("created_us")?),
        updated_at: Instant::from_micros(row.i64("updated_us")?),
    })
}

fn one(rows: &spindle_ports::Rows) -> Result<Option<Channel>, DbError> {
    rows.first().map(from_row).transpose()
}

/// What a new channel is made of.
#[derive(Debug, Clone)]
pub struct NewChannel<'a> {
    pub id: Uuid,
    pub user_id: &'a str,
    pub kind: ChannelKind,
    pub name: &'a str,
    pub target: &'a str,
    pub secret: Option<&'a str>,
}

pub fn insert(db: &impl Db, new: &NewChannel<'_>, now: Instant) -> Result<Channel, DbError> {
    let rows = db.query(
        &format!(
            "WITH c AS (
                 INSERT INTO channels (id, user_id, kind, name, target, secret, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, ts_from_us($7), ts_from_us($7))
                 RETURNING *)
             SELECT {COLUMNS} FROM c"
        ),
        &[
            Param::Uuid(new.id.to_string()),
            Param::Str(new.user_id.to_owned()),
            Param::Str(new.kind.as_str().to_owned()),
            Param::Str(new.name.to_owned()),
            Param::Str(new.target.to_owned()),
            new.secret.map_or(Param::Null, |s| Param::Str(s.to_owned())),
            Param::Int64(now.micros()),
        ],
    )?;
    one(&rows)?.ok_or_else(|| DbError::Decode("the channel insert returned no row".into()))
}

/// Reads the `push_keys` column (selected as text).
pub(crate) fn push_keys(text: Option<String>) -> Result<Option<serde_json::Value>, DbError> {
    text.map(|t| serde_json::from_str(&t).map_err(|e| DbError::Decode(format!("push_keys: {e}"))))
        .transpose()
}

/// A new Web Push channel for the subscription at `endpoint` with `keys`, or — when the
/// user already registered that endpoint — that channel, with the keys given now.
/// `true` when it was created.
pub fn upsert_web_push(
    db: &impl Db,
    id: Uuid,
    user_id: &str,
    name: &str,
    endpoint: &str,
    keys: &serde_json::Value,
    now: Instant,
) -> Result<(Channel, bool), DbError> {
    let rows = db.query(
        &format!(
            "WITH c AS (
                 INSERT INTO channels (id, user_id, kind, name, target, push_keys, created_at, updated_at)
                 VALUES ($1, $2, 'web_push', $3, $4, $5, ts_from_us($6), ts_from_us($6))
                 ON CONFLICT (user_id, target) WHERE kind = 'web_push'
                 DO UPDATE SET push_keys = EXCLUDED.push_keys, updated_at = EXCLUDED.updated_at
                 RETURNING *, xmax = 0 AS created)
             SELECT {COLUMNS}, c.created FROM c"
        ),
        &[
            Param::Uuid(id.to_string()),
            Param::Str(user_id.to_owned()),
            Param::Str(name.to_owned()),
            Param::Str(endpoint.to_owned()),
            Param::Jsonb(keys.to_string().into_bytes()),
            Param::Int64(now.micros()),
        ],
    )?;
    let row = rows
        .first()
        .ok_or_else(|| DbError::Decode("the push channel upsert returned no row".into()))?;
    let created = row.bool("created")?;
    Ok((from_row(row)?, created))
}

/// The user's channels in creation order, after the keyset `(created_at, id)`.
pub fn list(
    db: &impl Db,
    user_id: &str,
    after: Option<(i64, Uuid)>,
    limit: u32,
) -> Result<Vec<Channel>, DbError> {
    let rows = db.query(
        &format!(
            "SELECT {COLUMNS} FROM channels c
              WHERE c.user_id = $1
                AND ($2::int8 IS NULL OR (c.created_at, c.id) > (ts_from_us($2), $3::uuid))
              ORDER BY c.created_at, c.id
              LIMIT $4::int8"
        ),
        &[
            Param::Str(user_id.to_owned()),
            after.map_or(Param::Null, |(us, _)| Param::Int64(us)),
            after.map_or(Param::Null, |(_, id)| Param::Uuid(id.to_string())),
            Param::Int64(i64::from(limit)),
        ],
    )?;
    rows.iter().map(from_row).collect()
}

pub fn get(db: &impl Db, user_id: &str, id: Uuid) -> Result<Option<Channel>, DbError> {
    let rows = db.query(
        &format!("SELECT {COLUMNS} FROM channels c WHERE c.id = $1 AND c.user_id = $2"),
        &[Param::Uuid(id.to_string()), Param::Str(user_id.to_owned())],
    )?;
    one(&rows)
}

/// The user's enabled channels.
pub fn enabled_for_user(db: &impl Db, user_id: &str) -> Result<Vec<Channel>, DbError> {
    let rows = db.query(
        &format!(
            "SELECT {COLUMNS} FROM channels c WHERE c.user_id = $1 AND c.enabled ORDER BY c.created_at, c.id"
        ),
        &[Param::Str(user_id.to_owned())],
    )?;
    rows.iter().map(from_row).collect()
}

/// Renames and/or enables or disables. Enabling clears `disabled_reason` and the
/// failure count.
pub fn update(
    db: &impl Db,
    user_id: &str,
    id: Uuid,
    name: Option<&str>,
    enabled: Option<bool>,
    now: Instant,
) -> Result<Option<Channel>, DbError> {
    let rows = db.query(
        &format!(
            "WITH c AS (
                 UPDATE channels SET
                     name = coalesce($3, name),
                     enabled = coalesce($4, enabled),
                     disabled_reason = CASE WHEN $4 THEN NULL
                                            WHEN NOT $4 AND enabled THEN 'disabled by the user'
                                            ELSE disabled_reason END,
                     consecutive_failures = CASE WHEN $4 THEN 0 ELSE consecutive_failures END,
                     updated_at = ts_from_us($5)
                  WHERE id = $1 AND user_id = $2
                 RETURNING *)
             SELECT {COLUMNS} FROM c"
        ),
        &[
            Param::Uuid(id.to_string()),
            Param::Str(user_id.to_owned()),
            name.map_or(Param::Null, |n| Param::Str(n.to_owned())),
            enabled.map_or(Param::Null, Param::Bool),
            Param::Int64(now.micros()),
        ],
    )?;
    one(&rows)
}

pub fn delete(db: &impl Db, user_id: &str, id: Uuid) -> Result<bool, DbError> {
    let n = db.execute(
        "DELETE FROM channels WHERE id = $1 AND user_id = $2",
        &[Param::Uuid(id.to_string()), Param::Str(user_id.to_owned())],
    )?;
    Ok(n > 0)
}

/// Makes `secret` the signing secret; the current one keeps signing beside it
/// until `previous_until`.
pub fn rotate_secret(
    db: &impl Db,
    user_id: &str,
    id: Uuid,
    secret: &str,
    previous_until: Instant,
    now: Instant,
) -> Result<Option<Channel>, DbError> {
    let rows = db.query(
        &format!(
            "WITH c AS (
                 UPDATE channels SET previous_secret = secret, secret = $3,
                                     previous_expires_at = ts_from_us($4), updated_at = ts_from_us($5)
                  WHERE id = $1 AND user_id = $2
                 RETURNING *)
             SELECT {COLUMNS} FROM c"
        ),
        &[
            Param::Uuid(id.to_string()),
            Param::Str(user_id.to_owned()),
            Param::Str(secret.to_owned()),
            Param::Int64(previous_until.micros()),
            Param::Int64(now.micros()),
        ],
    )?;
    one(&rows)
}

/// A delivery to the channel succeeded: its failure streak ends.
pub fn record_success(db: &impl Db, id: Uuid) -> Result<(), DbError> {
    db.execute(
        "UPDATE channels SET consecutive_failures = 0 WHERE id = $1 AND consecutive_failures <> 0",
        &[Param::Uuid(id.to_string())],
    )?;
    Ok(())
}

/// A delivery to the channel failed for good. When that makes `limit` failures in
/// a row, the channel is disabled with `reason`. Returns whether this call
/// disabled it.
pub fn record_failure(
    db: &impl Db,
    id: Uuid,
    limit: u32,
    reason: &str,
    now: Instant,
) -> Result<bool, DbError> {
    let rows = db.query(
        "WITH before AS (SELECT id, enabled FROM channels WHERE id = $1 FOR UPDATE)
         UPDATE channels c SET
             consecutive_failures = c.consecutive_failures + 1,
             enabled = c.enabled AND c.consecutive_failures + 1 < $2::int8,
             disabled_reason = CASE WHEN c.enabled AND c.consecutive_failures + 1 >= $2::int8
                                    THEN $3 ELSE c.disabled_reason END,
             updated_at = ts_from_us($4)
           FROM before
          WHERE c.id = before.id
         RETURNING before.enabled AND NOT c.enabled AS just_disabled",
        &[
            Param::Uuid(id.to_string()),
            Param::Int64(i64::from(limit)),
            Param::Str(reason.to_owned()),
            Param::Int64(now.micros()),
        ],
    )?;
    rows.first().map_or(Ok(false), |r| r.bool("just_disabled"))
}

/// Disables the channel at once (the receiver said it is gone). Returns whether
/// it was enabled until now.
pub fn disable(db: &impl Db, id: Uuid, reason: &str, now: Instant) -> Result<bool, DbError> {
    let n = db.execute(
        "UPDATE channels SET enabled = false, disabled_reason = $2, updated_at = ts_from_us($3)
          WHERE id = $1 AND enabled",
        &[
            Param::Uuid(id.to_string()),
            Param::Str(reason.to_owned()),
            Param::Int64(now.micros()),
        ],
    )?;
    Ok(n > 0)
}
