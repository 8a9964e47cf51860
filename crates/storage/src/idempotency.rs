//! Idempotency keys: the first response to a keyed POST, kept for replay.
//!
//! A key is claimed inside the request's own transaction. A concurrent request
//! with the same key blocks on the unique index until the first commits (then
//! replays its response) or rolls back (then proceeds as the first).

use spindle_ports::{Db, DbError, Param};

/// How long a key is replayed; retention may delete it after that (and keeps
/// it at least this long).
pub const REPLAY_HOURS: u64 = 24;

/// A stored response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

/// What a claim found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The key is new: handle the request, then [`store`] its response.
    New,
    /// Seen with the same request: send this again.
    Replay(StoredResponse),
    /// Seen with a different request.
    Mismatch,
}

/// Claims `key` for a request whose canonical hash is `request_hash`.
pub fn claim(db: &impl Db, user_id: &str, key: &str, request_hash: &str) -> Result<Claim, DbError> {
    let params = [
        Param::Str(user_id.to_owned()),
        Param::Str(key.to_owned()),
        Param::Str(request_hash.to_owned()),
    ];
    let claimed = db.query(
        &format!(
            "WITH expired AS (
                DELETE FROM idempotency_keys
                 WHERE user_id = $1 AND key = $2 AND created_at < now() - interval '{REPLAY_HOURS} hours')
             INSERT INTO idempotency_keys (user_id, key, request_hash) VALUES ($1, $2, $3)
             ON CONFLICT (user_id, key) DO NOTHING
             RETURNING 1 AS claimed"
        ),
        &params,
    )?;
    if !claimed.is_empty() {
        return Ok(Claim::New);
    }
    let rows = db.query(
        "SELECT request_hash, status::int4 AS status, headers, body FROM idempotency_keys WHERE user_id = $1 AND key = $2",
        &params[..2],
    )?;
    let Some(row) = rows.first() else {
        // Removed between the two statements (expired by another request): as new.
        return Ok(Claim::New);
    };
    if row.str("request_hash")? != request_hash {
        return Ok(Claim::Mismatch);
    }
    let headers: Vec<(String, String)> = match row.opt_json("headers")? {
        Some(json) => serde_json::from_slice(&json).map_err(|e| DbError::Decode(e.to_string()))?,
        None => Vec::new(),
    };
    let status = row
        .opt_i64("status")?
        .and_then(|s| u16::try_from(s).ok())
        .ok_or_else(|| DbError::Decode("idempotency key without a stored response".into()))?;
    Ok(Claim::Replay(StoredResponse {
        status,
        headers,
        body: row.opt_str("body")?.unwrap_or_default(),
    }))
}

/// Records the response to the claimed key, in the same transaction as the claim.
pub fn store(
    db: &impl Db,
    user_id: &str,
    key: &str,
    response: &StoredResponse,
) -> Result<(), DbError> {
    let headers =
        serde_json::to_vec(&response.headers).map_err(|e| DbError::Conversion(e.to_string()))?;
    db.execute(
        "UPDATE idempotency_keys SET status = $3::int4, headers = $4, body = $5 WHERE user_id = $1 AND key = $2",
        &[
            Param::Str(user_id.to_owned()),
            Param::Str(key.to_owned()),
            Param::Int32(i32::from(response.status)),
            Param::Jsonb(headers),
            Param::Str(response.body.clone()),
        ],
    )?;
    Ok(())
}

/// Deletes up to `limit` keys created more than `older_than_seconds` ago,
/// oldest first (`idempotency_keys_age`). Keys in use by a request still in
/// flight are locked and skipped.
pub fn prune(db: &impl Db, older_than_seconds: i64, limit: u32) -> Result<u64, DbError> {
    db.execute(
        "DELETE FROM idempotency_keys
          WHERE (user_id, key) IN (
                SELECT user_id, key FROM idempotency_keys
                 WHERE created_at < now() - $1::int8 * interval '1 second'
                 ORDER BY created_at
                 LIMIT $2::int8
                 FOR UPDATE SKIP LOCKED)",
        &[
            Param::Int64(older_than_seconds),
            Param::Int64(i64::from(limit)),
        ],
    )
}
