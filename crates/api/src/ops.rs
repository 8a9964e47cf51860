//! Operations: health, readiness, migrations, the relay tick, dead letters,
//! and the OpenAPI document.

use http::StatusCode;
use serde_json::{json, Value};
use spindle_auth::AuthSource as _;
use spindle_events::dead_letters::ReplayError;
use spindle_ports::{Db, Publisher};
use spindle_storage::migrations::{self, MigrationError, MigrationStatus};

use crate::problem::ApiError;
use crate::respond::{json, only_params, query_pairs, QueryParams};
use crate::router::{require_token, OpsHandler, Route};
use crate::{openapi, settings, Ctx, Request, Response};

/// Every route of `ops`, each with its handler.
pub fn routes<D: Db, P: Publisher>() -> Vec<Route<OpsHandler<D, P>>> {
    vec![
        Route::get("/healthz", |_, _, _| {
            Ok(json(StatusCode::OK, &json!({ "status": "ok" })))
        }),
        Route::get("/readyz", |ctx, _, _| ready(ctx)),
        Route::get("/metrics", |ctx, _, _| crate::metrics::serve(ctx)),
        Route::get("/api/openapi.json", |_, _, _| {
            Ok(json(StatusCode::OK, &openapi::document()))
        }),
        Route::post("/admin/migrate", |ctx, req, _| {
            admin(ctx, req)?;
            only_params(&query_pairs(req), &[])?;
            migrate(ctx)
        }),
        Route::get("/admin/dead-letters", |ctx, req, _| {
            admin(ctx, req)?;
            let pairs = query_pairs(req);
            only_params(&pairs, &["after", "limit"])?;
            dead_letters(ctx, &pairs)
        }),
        Route::post("/admin/dead-letters/{id}/replay", |ctx, req, path| {
            admin(ctx, req)?;
            only_params(&query_pairs(req), &[])?;
            let raw = path.get("id");
            let id = raw
                .parse::<i64>()
                .map_err(|_| ApiError::NotFound(format!("there is no dead letter {raw:?}")))?;
            replay(ctx, id)
        }),
        Route::post("/internal/tick", |ctx, req, _| {
            require_token(req, ctx.config.get(settings::INTERNAL_TOKEN))?;
            only_params(&query_pairs(req), &[])?;
            tick(ctx)
        }),
    ]
}

fn admin<D: Db, P: Publisher>(ctx: &Ctx<'_, D, P>, req: &Request) -> Result<(), ApiError> {
    require_token(req, ctx.config.get(settings::ADMIN_TOKEN))
}

/// Ready when the database answers and carries every migration of this build.
fn ready<D: Db, P: Publisher>(ctx: &Ctx<'_, D, P>) -> Result<Response, ApiError> {
    if !settings::auth(ctx.config).is_configured() {
        return Err(ApiError::Unavailable(spindle_auth::NOT_CONFIGURED.into()));
    }
    let reason = match migrations::status(ctx.db) {
        Ok(MigrationStatus::Current) => {
            return Ok(json(StatusCode::OK, &json!({ "status": "ready" })))
        }
        Ok(MigrationStatus::Pending(names)) => {
            format!(
                "migrations not applied yet: {}; run POST /admin/migrate",
                names.join(", ")
            )
        }
        Ok(MigrationStatus::Changed(name)) => {
            format!("migration {name} differs from the one applied")
        }
        Err(err) => format!("the database is unreachable: {err}"),
    };
    Err(ApiError::Unavailable(reason))
}

fn migrate<D: Db, P: Publisher>(ctx: &Ctx<'_, D, P>) -> Result<Response, ApiError> {
    match migrations::migrate(ctx.db) {
        Ok(report) => Ok(json(
            StatusCode::OK,
            &json!({ "applied": report.applied, "already_applied": report.already_applied }),
        )),
        Err(err @ MigrationError::Changed { .. }) => Err(ApiError::Conflict(err.to_string())),
        Err(MigrationError::Db(err)) => Err(err.into()),
        Err(err @ MigrationError::Failed { .. }) => Err(ApiError::Internal(err.to_string())),
    }
}

/// The tick a CronJob calls: fire due reminders, announce due webhook retries,
/// relay the outbox, record the heartbeat, run retention when due (the same
/// function as the `reminder-cron` and `tick` components).
fn tick<D: Db, P: Publisher>(ctx: &Ctx<'_, D, P>) -> Result<Response, ApiError> {
    let settings = spindle_reminders::tick::TickSettings::from_config(ctx.config)
        .map_err(|e| ApiError::Unavailable(e.to_string()))?;
    let tick = spindle_reminders::tick::tick(ctx.db, ctx.publisher, ctx.clock, &settings)
        .map_err(|e| ApiError::Unavailable(e.to_string()))?;
    let report = &tick.relay;
    Ok(json(
        StatusCode::OK,
        &json!({
            "reminders_fired": tick.fired,
            "reminders_missed": tick.missed,
            "deliveries_announced": tick.announced,
            "delivered": report.delivered,
            "claimed": report.claimed,
            "published": report.published,
            "dead_lettered": report.dead_lettered,
            "released": report.released,
            "budget_spent": report.budget_spent || tick.budget_spent,
            "publish_error": report.publish_error.as_ref().map(|e| e.to_string()),
            "retention": tick.retention,
            "elapsed_ms": tick.elapsed.as_millis(),
        }),
    ))
}

fn dead_letters<D: Db, P: Publisher>(
    ctx: &Ctx<'_, D, P>,
    pairs: &[(String, String)],
) -> Result<Response, ApiError> {
    let params = QueryParams(pairs);
    let after = match params.single("after")? {
        None => 0,
        Some(raw) => raw.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| {
            ApiError::bad_parameter("after", "after must be a dead letter id (a whole number)")
        })?,
    };
    let limit = params.limit(50, 500)?;
    let letters = spindle_storage::dead_letters::list(ctx.db, after, limit)?;
    let items: Vec<Value> = letters
        .iter()
        .map(|d| {
            json!({
                "id": d.id, "seq": d.seq, "event_id": d.event_id, "type": d.event_type, "channel": d.channel,
                "user_id": d.user_id, "task_id": d.task_id, "reason": d.reason, "attempts": d.attempts,
                "dead_at": d.dead_at, "event": d.envelope,
            })
        })
        .collect();
    let next = (letters.len() == limit as usize)
        .then(|| letters.last().map(|d| d.id))
        .flatten();
    Ok(json(
        StatusCode::OK,
        &json!({ "items": items, "next_after": next }),
    ))
}

fn replay<D: Db, P: Publisher>(ctx: &Ctx<'_, D, P>, id: i64) -> Result<Response, ApiError> {
    match spindle_events::dead_letters::replay(ctx.db, ctx.publisher, id) {
        Ok(done) => Ok(json(
            StatusCode::OK,
            &json!({ "dead_letter_id": done.dead_letter_id, "seq": done.seq, "published": done.published }),
        )),
        Err(err @ ReplayError::NotFound { .. }) => Err(ApiError::NotFound(err.to_string())),
        Err(err @ ReplayError::AlreadyReplayed { .. }) => Err(ApiError::Conflict(err.to_string())),
        Err(ReplayError::Database { source, .. }) => Err(source.into()),
    }
}
