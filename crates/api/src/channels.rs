//! `/api/channels` (where a user is notified, and the delivery log) and
//! `/api/notifications` (the in-app inbox): the `channels-api` component.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use http::StatusCode;
use serde_json::{json, Map, Value};
use spindle_domain::event::EventType;
use spindle_domain::{ChannelKind, ChannelName, FieldErrors, Instant, Status, WebhookUrl};
use spindle_ports::{Db, Publisher};
use spindle_reminders::channels as service;
use spindle_reminders::{views as shapes, Settings};
use spindle_storage::deliveries;
use spindle_storage::{channels as store, notifications, tasks};
use spindle_webpush::PushSubscription;
use uuid::Uuid;

use crate::auth::UserId;
use crate::problem::ApiError;
use crate::respond::{
    json, json_object, no_content, only_params, query_pairs, with_location, QueryParams,
};
use crate::router::{PathParams, Route, UserHandler};
use crate::views;
use crate::write::write;
use crate::{Ctx, Request, Response};

/// Every route of `channels-api`, each with its handler.
pub fn routes<D: Db, P: Publisher>() -> Vec<Route<UserHandler<D, P>>> {
    vec![
        Route::post("/api/channels", |ctx, req, user, _| {
            only_params(&query_pairs(req), &[])?;
            create(ctx, req, user)
        }),
        Route::get("/api/channels", |ctx, req, user, _| list(ctx, req, user)),
        Route::get("/api/channels/{id}", |ctx, req, user, path| {
            only_params(&query_pairs(req), &[])?;
            let channel = owned(ctx, user, path)?;
            Ok(json(StatusCode::OK, &shapes::channel(&channel)))
        }),
        Route::patch("/api/channels/{id}", |ctx, req, user, path| {
            only_params(&query_pairs(req), &[])?;
            patch(ctx, req, user, owned(ctx, user, path)?.id)
        }),
        Route::delete("/api/channels/{id}", |ctx, req, user, path| {
            only_params(&query_pairs(req), &[])?;
            let id = owned(ctx, user, path)?.id;
            store::delete(ctx.db, user.as_str(), id)?;
            Ok(no_content())
        }),
        Route::post(
            "/api/channels/{id}/rotate-secret",
            |ctx, req, user, path| {
                only_params(&query_pairs(req), &[])?;
                let channel = owned(ctx, user, path)?;
                if channel.kind != ChannelKind::Webhook {
                    return Err(ApiError::Conflict(
                        "only a webhook channel has a signing secret; a web_push channel is \
                         encrypted for its browser's keys instead"
                            .into(),
                    ));
                }
                let id = channel.id;
                let (channel, secret) =
                    service::rotate_secret(ctx.db, user.as_str(), id, ctx.now())?
                        .ok_or_else(|| not_found("channel", path.get("id")))?;
                Ok(json(StatusCode::OK, &with_secret(&channel, &secret)))
            },
        ),
        Route::post("/api/channels/{id}/test", |ctx, req, user, path| {
            only_params(&query_pairs(req), &[])?;
            test(ctx, &owned(ctx, user, path)?)
        }),
        Route::get("/api/channels/{id}/deliveries", |ctx, req, user, path| {
            deliveries_log(ctx, req, &owned(ctx, user, path)?)
        }),
        Route::get("/api/push/vapid-public-key", |ctx, req, _, _| {
            only_params(&query_pairs(req), &[])?;
            crate::push::vapid_public_key(ctx)
        }),
        Route::get("/api/notifications", |ctx, req, user, _| {
            inbox(ctx, req, user)
        }),
        Route::post("/api/notifications/read-all", |ctx, req, user, _| {
            only_params(&query_pairs(req), &[])?;
            let marked = notifications::mark_all_read(ctx.db, user.as_str(), ctx.now())?;
            Ok(json(
                StatusCode::OK,
                &json!({ "marked": marked, "unread_count": 0 }),
            ))
        }),
        Route::post("/api/notifications/{id}/read", |ctx, req, user, path| {
            only_params(&query_pairs(req), &[])?;
            let id = parse_id("notification", path)?;
            let entry = notifications::mark_read(ctx.db, user.as_str(), id, ctx.now())?
                .ok_or_else(|| not_found("notification", path.get("id")))?;
            Ok(json(StatusCode::OK, &shapes::notification(&entry)))
        }),
        Route::post("/api/notifications/{id}/snooze", |ctx, req, user, path| {
            only_params(&query_pairs(req), &[])?;
            snooze(ctx, req, user, parse_id("notification", path)?)
        }),
    ]
}

fn settings<D: Db, P: Publisher>(ctx: &Ctx<'_, D, P>) -> Result<Settings, ApiError> {
    Settings::from_config(ctx.config).map_err(|e| ApiError::Unavailable(e.to_string()))
}

fn not_found(what: &str, raw: &str) -> ApiError {
    ApiError::NotFound(format!("there is no {what} {raw:?}"))
}

fn parse_id(what: &str, path: &PathParams) -> Result<Uuid, ApiError> {
    let raw = path.get("id");
    Uuid::parse_str(raw).map_err(|_| not_found(what, raw))
}

/// The user's channel `{id}`; another user's is a 404 like a missing one.
fn owned<D: Db, P: Publisher>(
    ctx: &Ctx<'_, D, P>,
    user: &UserId,
    path: &PathParams,
) -> Result<store::Channel, ApiError> {
    let id = parse_id("channel", path)?;
    store::get(ctx.db, user.as_str(), id)?.ok_or_else(|| not_found("channel", path.get("id")))
}

fn with_secret(channel: &store::Channel, secret: &str) -> Value {
    let mut body = shapes::channel(channel);
    if let Some(object) = body.as_object_mut() {
        object.insert("secret".into(), Value::String(secret.to_owned()));
    }
    body
}

/// Takes the string field `name` out of `body`.
fn take_string(
    body: &mut Map<String, Value>,
    errors: &mut FieldErrors,
    name: &str,
) -> Option<String> {
    match body.remove(name) {
        Some(Value::String(s)) => Some(s),
        Some(_) => {
            errors.add(name, "must be a string");
            None
        }
        None => None,
    }
}

fn reject_unknown(body: &Map<String, Value>, errors: &mut FieldErrors, known: &str) {
    for extra in body.keys() {
        errors.add(
            extra.as_str(),
            format!("is not a field here; send only {known}"),
        );
    }
}

fn create<D: Db, P: Publisher>(
    ctx: &Ctx<'_, D, P>,
    req: &Request,
    user: &UserId,
) -> Result<Response, ApiError> {
    let settings = settings(ctx)?;
    let mut body = json_object(req)?;
    let mut errors = FieldErrors::new();
    let kind = match take_string(&mut body, &mut errors, "type") {
        Some(raw) => errors.check("type", ChannelKind::parse(&raw)),
        None => {
            errors.add("type", "is required: \"webhook\" or \"web_push\"");
            None
        }
    };
    if kind == Some(ChannelKind::WebPush) {
        return create_web_push(ctx, user, &settings, body, errors);
    }
    let url = match take_string(&mut body, &mut errors, "url") {
        Some(raw) => errors.check("url", WebhookUrl::parse(&raw, settings.network_policy)),
        None => {
            errors.add("url", "is required: the https URL to POST reminders to");
            None
        }
    };
    let name = match take_string(&mut body, &mut errors, "name") {
        Some(raw) => errors.check("name", ChannelName::parse(&raw)),
        None => {
            errors.add("name", "is required");
            None
        }
    };
    reject_unknown(&body, &mut errors, "type, url and name");
    let (Some(ChannelKind::Webhook), Some(url), Some(name)) = (kind, url, name) else {
        return Err(ApiError::Validation(errors));
    };
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let (channel, secret) = service::create_webhook(ctx.db, user.as_str(), &name, &url, ctx.now())?;
    Ok(with_location(
        json(StatusCode::CREATED, &with_secret(&channel, &secret)),
        &format!("/api/channels/{}", channel.id),
    ))
}

/// `{"type": "web_push", "subscription": PushSubscription.toJSON(), "name"?}`: 201 with the
/// new channel, or 200 with the user's channel for that subscription when it exists.
fn create_web_push<D: Db, P: Publisher>(
    ctx: &Ctx<'_, D, P>,
    user: &UserId,
    settings: &Settings,
    mut body: Map<String, Value>,
    mut errors: FieldErrors,
) -> Result<Response, ApiError> {
    let subscription = match body.remove("subscription") {
        Some(value) => match PushSubscription::parse(&value, settings.network_policy) {
            Ok(subscription) => Some(subscription),
            Err(found) => {
                for e in found.errors() {
                    errors.add(e.field.clone(), e.message.clone());
                }
                None
            }
        },
        None => {
            errors.add(
                "subscription",
                "is required: the browser's PushSubscription.toJSON()",
            );
            None
        }
    };
    let name = match take_string(&mut body, &mut errors, "name") {
        Some(raw) => errors.check("name", ChannelName::parse(&raw)),
        None => ChannelName::parse("Browser").ok(),
    };
    reject_unknown(&body, &mut errors, "type, subscription and name");
    let (Some(subscription), Some(name)) = (subscription, name) else {
        return Err(ApiError::Validation(errors));
    };
    errors.into_result(|| ())?;
    let keys = &subscription.to_json()["keys"];
    let (channel, created) = store::upsert_web_push(
        ctx.db,
        Uuid::new_v4(),
        user.as_str(),
        name.as_str(),
        subscription.endpoint.as_str(),
        keys,
        ctx.now(),
    )?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(with_location(
        json(status, &shapes::channel(&channel)),
        &format!("/api/channels/{}", channel.id),
    ))
}

fn patch<D: Db, P: Publisher>(
    ctx: &Ctx<'_, D, P>,
    req: &Request,
    user: &UserId,
    id: Uuid,
) -> Result<Response, ApiError> {
    let mut body = json_object(req)?;
    let mut errors = FieldErrors::new();
    let name = take_string(&mut body, &mut errors, "name")
        .and_then(|raw| errors.check("name", ChannelName::parse(&raw)));
    let enabled = match body.remove("enabled") {
        Some(Value::Bool(b)) => Some(b),
        Some(_) => {
            errors.add("enabled", "must be true or false");
            None
        }
        None => None,
    };
    reject_unknown(&body, &mut errors, "name and enabled");
    errors.into_result(|| ())?;
    let channel = store::update(
        ctx.db,
        user.as_str(),
        id,
        name.as_ref().map(ChannelName::as_str),
        enabled,
        ctx.now(),
    )?
    .ok_or_else(|| not_found("channel", &id.to_string()))?;
    Ok(json(StatusCode::OK, &shapes::channel(&channel)))
}

/// Sends a `ping` through the notifier and answers with what the receiver said
/// (202 with state `pending` when the notifier did not answer in time).
fn test<D: Db, P: Publisher>(
    ctx: &Ctx<'_, D, P>,
    channel: &store::Channel,
) -> Result<Response, ApiError> {
    let settings = settings(ctx)?;
    let (id, status) = service::ping(
        ctx.db,
        ctx.publisher,
        ctx.clock,
        &settings,
        channel,
        std::thread::sleep,
    )?;
    Ok(match status {
        Some(s) => json(
            StatusCode::OK,
            &json!({ "delivery_id": id, "state": s.state, "status": s.last_status, "error": s.last_error }),
        ),
        None => json(
            StatusCode::ACCEPTED,
            &json!({ "delivery_id": id, "state": "pending", "status": null,
                     "error": "the notifier has not answered yet; see the channel's deliveries" }),
        ),
    })
}

/// A keyset cursor `(created_at, id)`, opaque to clients.
fn encode_cursor(created: Instant, id: Uuid) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}.{id}", created.micros()))
}

fn decode_cursor(raw: &str) -> Result<(i64, Uuid), ApiError> {
    let bad = || {
        ApiError::bad_parameter(
            "cursor",
            "cursor is not one this list handed out; start again without it",
        )
    };
    let text = URL_SAFE_NO_PAD
        .decode(raw)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(bad)?;
    let (micros, id) = text.split_once('.').ok_or_else(bad)?;
    Ok((
        micros.parse().map_err(|_| bad())?,
        Uuid::parse_str(id).map_err(|_| bad())?,
    ))
}

fn page_params(req: &Request, extra: &[&str]) -> Result<(u32, Option<(i64, Uuid)>), ApiError> {
    let pairs = query_pairs(req);
    let mut known = vec!["limit", "cursor"];
    known.extend_from_slice(extra);
    only_params(&pairs, &known)?;
    let params = QueryParams(&pairs);
    let limit = params.limit(50, 100)?;
    let cursor = params.single("cursor")?.map(decode_cursor).transpose()?;
    Ok((limit, cursor))
}

fn list<D: Db, P: Publisher>(
    ctx: &Ctx<'_, D, P>,
    req: &Request,
    user: &UserId,
) -> Result<Response, ApiError> {
    let (limit, after) = page_params(req, &[])?;
    let items = store::list(ctx.db, user.as_str(), after, limit)?;
    let next = (items.len() == limit as usize)
        .then(|| items.last().map(|c| encode_cursor(c.created_at, c.id)))
        .flatten();
    let items: Vec<Value> = items.iter().map(shapes::channel).collect();
    Ok(json(
        StatusCode::OK,
        &json!({ "items": items, "next_cursor": next }),
    ))
}

fn deliveries_log<D: Db, P: Publisher>(
    ctx: &Ctx<'_, D, P>,
    req: &Request,
    channel: &store::Channel,
) -> Result<Response, ApiError> {
    let (limit, before) = page_params(req, &[])?;
    let items = deliveries::log(ctx.db, channel.id, before, limit)?;
    let next = (items.len() == limit as usize)
        .then(|| items.last().map(|d| encode_cursor(d.created_at, d.id)))
        .flatten();
    let items: Vec<Value> = items.iter().map(shapes::delivery).collect();
    Ok(json(
        StatusCode::OK,
        &json!({ "items": items, "next_cursor": next }),
    ))
}

fn inbox<D: Db, P: Publisher>(
    ctx: &Ctx<'_, D, P>,
    req: &Request,
    user: &UserId,
) -> Result<Response, ApiError> {
    let (limit, before) = page_params(req, &["unread"])?;
    let pairs = query_pairs(req);
    let unread = QueryParams(&pairs).boolean("unread")?.unwrap_or(false);
    let items = notifications::list(ctx.db, user.as_str(), unread, before, limit)?;
    let unread_count = notifications::unread_count(ctx.db, user.as_str())?;
    let next = (items.len() == limit as usize)
        .then(|| items.last().map(|n| encode_cursor(n.created_at, n.id)))
        .flatten();
    let items: Vec<Value> = items.iter().map(shapes::notification).collect();
    Ok(json(
        StatusCode::OK,
        &json!({ "items": items, "unread_count": unread_count, "next_cursor": next }),
    ))
}

/// The longest snooze: 30 days.
const MAX_SNOOZE_MINUTES: i64 = 30 * 24 * 60;

/// `{"minutes": n}`: a one-off reminder on the entry's task at now + n, written
/// like any task change (a `task.updated` event with the new reminders).
fn snooze<D: Db, P: Publisher>(
    ctx: &Ctx<'_, D, P>,
    req: &Request,
    user: &UserId,
    id: Uuid,
) -> Result<Response, ApiError> {
    let mut body = json_object(req)?;
    let mut errors = FieldErrors::new();
    let minutes = match body.remove("minutes") {
        Some(Value::Number(n)) => errors.check(
            "minutes",
            n.as_i64()
                .filter(|m| (1..=MAX_SNOOZE_MINUTES).contains(m))
                .ok_or_else(|| format!("must be a whole number from 1 to {MAX_SNOOZE_MINUTES}")),
        ),
        Some(_) => {
            errors.add("minutes", "must be a whole number");
            None
        }
        None => {
            errors.add(
                "minutes",
                "is required: how many minutes from now to remind again",
            );
            None
        }
    };
    reject_unknown(&body, &mut errors, "minutes");
    let minutes = errors
        .into_result(|| minutes)?
        .ok_or_else(|| ApiError::Internal("minutes checked but absent".into()))?;
    let entry = notifications::get(ctx.db, user.as_str(), id)?
        .ok_or_else(|| not_found("notification", &id.to_string()))?;
    let task_id = entry.task_id.ok_or_else(|| {
        ApiError::Conflict(
            "this notification is not about a task, so there is nothing to snooze".into(),
        )
    })?;
    let now = ctx.now();
    let at = Instant::from_micros(now.micros() + minutes * 60_000_000);
    write(ctx, req, user, |db, written| {
        let before = tasks::get_for_update(db, user.as_str(), task_id)?.ok_or_else(|| {
            ApiError::Conflict("the task of this notification was deleted".into())
        })?;
        if !matches!(before.status, Status::Open) {
            return Err(ApiError::Conflict(
                "the task is completed; reopen it to be reminded again".into(),
            ));
        }
        let reminder =
            tasks::add_reminder_at(db, user.as_str(), task_id, at, now)?.ok_or_else(|| {
                ApiError::Conflict(format!(
                    "the task already has {} reminders, the most it may carry",
                    spindle_domain::MAX_REMINDERS
                ))
            })?;
        let after = tasks::get(db, user.as_str(), task_id)?
            .ok_or_else(|| ApiError::Internal("the snoozed task vanished".into()))?;
        let after_json = views::task(&after);
        let changes = views::changes(&views::task(&before), &after_json);
        written.task_event(
            ctx,
            db,
            EventType::TaskUpdated,
            &after,
            json!({ "task": after_json, "changes": changes }),
        )?;
        Ok(json(
            StatusCode::CREATED,
            &json!({
                "reminder_id": reminder,
                "task_id": task_id,
                "fire_at": spindle_domain::format_instant(at, None),
            }),
        ))
    })
}
