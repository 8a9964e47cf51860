//! `/api/changes` (the change feed for real-time sync) and
//! `/api/tasks/{id}/history` (the audit trail of one task).

use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use http::StatusCode;
use serde_json::json;
use spindle_ports::{Db, Publisher};
use spindle_storage::outbox::{self, FeedError};
use spindle_storage::tasks as task_store;
use uuid::Uuid;

use crate::auth::UserId;
use crate::problem::ApiError;
use crate::respond::{json, only_params, query_pairs, QueryParams};
use crate::router::{Route, UserHandler};
use crate::{Ctx, Request, Response};

/// Every route of `changes-api`, each with its handler.
pub fn routes<D: Db, P: Publisher>() -> Vec<Route<UserHandler<D, P>>> {
    vec![
        Route::get("/api/changes", |ctx, req, user, _| changes(ctx, req, user)),
        Route::get("/api/tasks/{id}/history", |ctx, req, user, path| {
            history(ctx, req, user, crate::tasks::task_id(path)?)
        }),
    ]
}

const DEFAULT_LIMIT: u32 = 100;
const MAX_LIMIT: u32 = 500;
const MAX_WAIT_SECONDS: u64 = 25;

/// Cursors are opaque to clients; inside they are a position in the event log.
fn encode_position(seq: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("s{seq}"))
}

fn decode_position(parameter: &str, raw: &str) -> Result<i64, ApiError> {
    URL_SAFE_NO_PAD
        .decode(raw.trim())
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|s| s.strip_prefix('s').and_then(|n| n.parse::<i64>().ok()))
        .filter(|n| *n >= 0)
        .ok_or_else(|| {
            ApiError::bad_parameter(
                parameter,
                format!("{parameter} is not a cursor this API issued"),
            )
        })
}

/// The user's events after `after`, oldest first. `after=latest` starts from
/// now (a client that only wants what happens next); no `after` starts from
/// the beginning. `wait` (seconds) holds the request open until something
/// arrives. Keep `next_cursor` and send it back: nothing is missed or repeated.
fn changes<D: Db, P: Publisher>(
    ctx: &Ctx<'_, D, P>,
    req: &Request,
    user: &UserId,
) -> Result<Response, ApiError> {
    let pairs = query_pairs(req);
    only_params(&pairs, &["after", "limit", "wait"])?;
    let params = QueryParams(&pairs);
    let after = match params.single("after")? {
        None => 0,
        Some("latest") => outbox::latest_seq(ctx.db, user.as_str())?,
        Some(raw) => decode_position("after", raw)?,
    };
    let limit = params.limit(DEFAULT_LIMIT, MAX_LIMIT)?;
    let wait = match params.single("wait")? {
        None => 0,
        Some(raw) => raw
            .parse::<u64>()
            .ok()
            .filter(|n| *n <= MAX_WAIT_SECONDS)
            .ok_or_else(|| {
                ApiError::bad_parameter(
                    "wait",
                    format!("wait must be a whole number of seconds from 0 to {MAX_WAIT_SECONDS}"),
                )
            })?,
    };
    let events = match spindle_events::changes::wait_for(
        ctx.db,
        ctx.publisher,
        user.as_str(),
        after,
        limit,
        Duration::from_secs(wait),
        std::thread::sleep,
    ) {
        Ok(events) => events,
        Err(FeedError::Db(err)) => return Err(err.into()),
        Err(FeedError::Pruned { .. }) => return Err(cursor_expired(ctx, user)?),
    };
    let last = events.iter().filter_map(|e| e.seq()).max().unwrap_or(after);
    Ok(json(
        StatusCode::OK,
        &json!({ "items": events, "next_cursor": encode_position(last) }),
    ))
}

/// The 410 for a cursor behind what retention deleted: never a silent gap.
/// `resync_cursor` is the feed's position now, read before the client lists
/// its tasks again, so following from it misses nothing that happens after
/// the list (an event already reflected in the list may come again).
fn cursor_expired<D: Db, P: Publisher>(
    ctx: &Ctx<'_, D, P>,
    user: &UserId,
) -> Result<ApiError, ApiError> {
    let latest = outbox::latest_seq(ctx.db, user.as_str())?;
    Ok(ApiError::Gone {
        detail: "this cursor is older than the events the server keeps: some events after it \
                 were deleted. Resync: list the tasks again (GET /api/tasks), then follow the \
                 feed from resync_cursor (or from after=latest, read before the list)"
            .to_owned(),
        resync_cursor: encode_position(latest),
    })
}

/// Newest first. A deleted task keeps its history; a task that never existed
/// (or is another user's) is a 404.
fn history<D: Db, P: Publisher>(
    ctx: &Ctx<'_, D, P>,
    req: &Request,
    user: &UserId,
    id: Uuid,
) -> Result<Response, ApiError> {
    let pairs = query_pairs(req);
    only_params(&pairs, &["limit", "cursor"])?;
    let params = QueryParams(&pairs);
    let limit = params.limit(50, 100)?;
    let before = params
        .single("cursor")?
        .map(|c| decode_position("cursor", c))
        .transpose()?;
    let mut entries = spindle_events::audit::history(ctx.db, user.as_str(), id, before, limit + 1)?;
    if entries.is_empty()
        && before.is_none()
        && task_store::get(ctx.db, user.as_str(), id)?.is_none()
    {
        return Err(ApiError::NotFound(format!("there is no task {id}")));
    }
    let more = entries.len() > limit as usize;
    entries.truncate(limit as usize);
    let next = if more {
        entries.last().map(|e| encode_position(e.seq))
    } else {
        None
    };
    Ok(json(
        StatusCode::OK,
        &json!({ "items": entries, "next_cursor": next }),
    ))
}
