//! `/api/tasks`: create, read, edit, delete, complete, reopen, list and search.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use http::{header, StatusCode};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use spindle_domain::event::EventType;
use spindle_domain::{format_instant, parse_instant, Priority, Status, Tag, Task, TaskDraft};
use spindle_ports::{Db, Publisher};
use spindle_storage::tasks::{self as store, After, ListQuery, Sort, SortField, StatusFilter};
use uuid::Uuid;

use crate::auth::UserId;
use crate::input::draft_fields;
use crate::problem::ApiError;
use crate::respond::{
    header, json, json_object, no_content, only_params, query_pairs, with_location, QueryParams,
};
use crate::router::{PathParams, Route, UserHandler};
use crate::views;
use crate::write::{write, write_single, Written};
use crate::{Ctx, Request, Response};

/// Every route of `tasks-api`, each with its handler.
pub fn routes<D: Db, P: Publisher>() -> Vec<Route<UserHandler<D, P>>> {
    vec![
        Route::get("/api/tasks", |ctx, req, user, _| list(ctx, req, user)),
        Route::post("/api/tasks", |ctx, req, user, _| create(ctx, req, user)),
        Route::get("/api/tasks/{id}", |ctx, req, user, path| {
            get(ctx, req, user, task_id(path)?)
        }),
        Route::patch("/api/tasks/{id}", |ctx, req, user, path| {
            patch(ctx, req, user, task_id(path)?)
        }),
        Route::delete("/api/tasks/{id}", |ctx, req, user, path| {
            delete(ctx, req, user, task_id(path)?)
        }),
        Route::post("/api/tasks/{id}/complete", |ctx, req, user, path| {
            set_status(ctx, req, user, task_id(path)?, true)
        }),
        Route::post("/api/tasks/{id}/reopen", |ctx, req, user, path| {
            set_status(ctx, req, user, task_id(path)?, false)
        }),
        Route::get("/api/tasks/{id}/occurrences", |ctx, req, user, path| {
            occurrences(ctx, req, user, task_id(path)?)
        }),
    ]
}

/// The `{id}` of the path. A malformed id cannot name a task: the same 404
/// as a missing one.
pub(crate) fn task_id(path: &PathParams) -> Result<Uuid, ApiError> {
    let raw = path.get("id");
    Uuid::parse_str(raw).map_err(|_| not_found(raw))
}

fn not_found(id: impl std::fmt::Display) -> ApiError {
    ApiError::NotFound(format!("there is no task {id}"))
}

fn task_response(status: StatusCode, task: &Task) -> Response {
    let mut response = json(status, &views::TaskView::new(task));
    if let Ok(etag) = header::HeaderValue::from_str(&views::etag(task)) {
        response.headers_mut().insert(header::ETAG, etag);
    }
    if status == StatusCode::CREATED {
        response = with_location(response, &format!("/api/tasks/{}", task.id));
    }
    response
}

/// `If-Match`: `*` or a list of strong tags; a stale one is refused.
fn check_if_match(req: &Request, task: &Task) -> Result<(), ApiError> {
    let Some(value) = header(req.headers(), header::IF_MATCH) else {
        return Ok(());
    };
    let current = views::etag(task);
    let matches = value
        .split(',')
        .map(str::trim)
        .any(|tag| tag == "*" || tag == current);
    if matches {
        Ok(())
    } else {
        Err(ApiError::PreconditionFailed {
            current: task.version,
        })
    }
}

fn get<D: Db, P: Publisher>(
    ctx: &Ctx<'_, D, P>,
    req: &Request,
    user: &UserId,
    id: Uuid,
) -> Result<Response, ApiError> {
    only_params(&query_pairs(req), &[])?;
    let task = store::get(ctx.db, user.as_str(), id)?.ok_or_else(|| not_found(id))?;
    let unchanged = header(req.headers(), header::IF_NONE_MATCH).is_some_and(|v| {
        v.split(',')
            .map(str::trim)
            .any(|t| t == "*" || t.trim_start_matches("W/") == views::etag(&task))
    });
    if unchanged {
        let mut response = http::Response::new(Vec::new());
        *response.status_mut() = StatusCode::NOT_MODIFIED;
        if let Ok(etag) = header::HeaderValue::from_str(&views::etag(&task)) {
            response.headers_mut().insert(header::ETAG, etag);
        }
        return Ok(response);
    }
    Ok(task_response(StatusCode::OK, &task))
}

fn create<D: Db, P: Publisher>(
    ctx: &Ctx<'_, D, P>,
    req: &Request,
    user: &UserId,
) -> Result<Response, ApiError> {
    only_params(&query_pairs(req), &[])?;
    let (fields, errors) = draft_fields(json_object(req)?);
    let draft = TaskDraft::create(fields, errors)?;
    let task = store::new_task(user.as_str(), Uuid::new_v4(), &draft, ctx.now());
    write_single(ctx, req, user, |db, written| {
        written.created_task(ctx, db, &task, json!({ "task": views::task(&task) }))?;
        Ok(task_response(StatusCode::CREATED, &task))
    })
}

fn patch<D: Db, P: Publisher>(
    ctx: &Ctx<'_, D, P>,
    req: &Request,
    user: &UserId,
    id: Uuid,
) -> Result<Response, ApiError> {
    only_params(&query_pairs(req), &[])?;
    let (fields, errors) = draft_fields(json_object(req)?);
    write(ctx, req, user, |db, written| {
        let current = store::get_for_update(db, user.as_str(), id)?.ok_or_else(|| not_found(id))?;
        check_if_match(req, &current)?;
        let draft = TaskDraft::of(&current).patch(fields, errors)?;
        if draft == TaskDraft::of(&current) {
            return Ok(task_response(StatusCode::OK, &current));
        }
        let task = store::update(db, &current, &draft, ctx.now())?;
        record_change(ctx, db, written, EventType::TaskUpdated, &current, &task)?;
        Ok(task_response(StatusCode::OK, &task))
    })
}

fn record_change<D: Db, P: Publisher>(
    ctx: &Ctx<'_, D, P>,
    db: &D,
    written: &mut Written,
    kind: EventType,
    before: &Task,
    after: &Task,
) -> Result<(), ApiError> {
    let after_json = views::task(after);
    let changes = views::changes(&views::task(before), &after_json);
    written.task_event(
        ctx,
        db,
        kind,
        after,
        json!({ "task": after_json, "changes": changes }),
    )
}

fn delete<D: Db, P: Publisher>(
    ctx: &Ctx<'_, D, P>,
    req: &Request,
    user: &UserId,
    id: Uuid,
) -> Result<Response, ApiError> {
    only_params(&query_pairs(req), &[])?;
    write(ctx, req, user, |db, written| {
        let current = store::get_for_update(db, user.as_str(), id)?.ok_or_else(|| not_found(id))?;
        check_if_match(req, &current)?;
        store::delete(db, user.as_str(), id)?;
        written.task_event(
            ctx,
            db,
            EventType::TaskDeleted,
            &current,
            json!({ "task": views::task(&current) }),
        )?;
        Ok(no_content())
    })
}

/// Completing a completed task (or reopening an open one) changes nothing and
/// says so with the task as it is, so a retried click is harmless.
fn set_status<D: Db, P: Publisher>(
    ctx: &Ctx<'_, D, P>,
    req: &Request,
    user: &UserId,
    id: Uuid,
    complete: bool,
) -> Result<Response, ApiError> {
    only_params(&query_pairs(req), &[])?;
    write(ctx, req, user, |db, written| {
        let current = store::get_for_update(db, user.as_str(), id)?.ok_or_else(|| not_found(id))?;
        check_if_match(req, &current)?;
        // One reading of the clock, so completed_at and updated_at agree.
        let now = ctx.now();
        let (status, kind) = match (complete, current.status) {
            (true, Status::Open) => (Status::Completed(now), EventType::TaskCompleted),
            (false, Status::Completed(_)) => (Status::Open, EventType::TaskReopened),
            _ => return Ok(task_response(StatusCode::OK, &current)),
        };
        let task = store::set_status(db, &current, status, now)?;
        record_change(ctx, db, written, kind, &current, &task)?;
        Ok(task_response(StatusCode::OK, &task))
    })
}

const DEFAULT_UPCOMING: u32 = 5;
const MAX_UPCOMING: u32 = 50;

/// The series of a task: its tasks so far, by occurrence index, and the next
/// due dates planned after the latest one (as if each were completed on
/// time), in the zone's offset. A task outside any series is a series of one.
fn occurrences<D: Db, P: Publisher>(
    ctx: &Ctx<'_, D, P>,
    req: &Request,
    user: &UserId,
    id: Uuid,
) -> Result<Response, ApiError> {
    let pairs = query_pairs(req);
    only_params(&pairs, &["upcoming"])?;
    let upcoming =
        QueryParams(&pairs).whole_number("upcoming", DEFAULT_UPCOMING, 0..=MAX_UPCOMING)? as usize;
    let task = store::get(ctx.db, user.as_str(), id)?.ok_or_else(|| not_found(id))?;
    let tasks = match task.series_id {
        Some(series_id) => store::series(ctx.db, user.as_str(), series_id)?,
        None => vec![task.clone()],
    };
    let planned: Vec<String> = tasks
        .last()
        .and_then(|latest| {
            let dates = latest
                .series()?
                .upcoming(latest.due_at?, latest.occurrence, upcoming);
            Some(
                dates
                    .into_iter()
                    .map(|d| format_instant(d, Some(&latest.timezone)))
                    .collect(),
            )
        })
        .unwrap_or_default();
    let items: Vec<Value> = tasks.iter().map(views::task).collect();
    Ok(json(
        StatusCode::OK,
        &json!({ "series_id": task.series_id, "occurrences": items, "upcoming": planned }),
    ))
}

// ---------------------------------------------------------------------------
// Listing
// ---------------------------------------------------------------------------

const LIST_PARAMS: &[&str] = &[
    "q",
    "status",
    "priority",
    "tag",
    "any_tag",
    "due_before",
    "due_after",
    "overdue",
    "has_due",
    "recurring",
    "series_id",
    "sort",
    "limit",
    "cursor",
];
const DEFAULT_LIMIT: u32 = 50;
const MAX_LIMIT: u32 = 100;
const MAX_QUERY_CHARS: usize = 200;
const MAX_QUERY_WORDS: usize = 16;
const MIN_RANKED_PREFIX: usize = 3;

fn list<D: Db, P: Publisher>(
    ctx: &Ctx<'_, D, P>,
    req: &Request,
    user: &UserId,
) -> Result<Response, ApiError> {
    let pairs = query_pairs(req);
    only_params(&pairs, LIST_PARAMS)?;
    let params = QueryParams(&pairs);
    let words = match params.single("q")? {
        Some(q) => search_words(q)?,
        None => Vec::new(),
    };
    let status = match params.single("status")? {
        None | Some("open") => StatusFilter::Open,
        Some("completed") => StatusFilter::Completed,
        Some("all") => StatusFilter::All,
        Some(other) => {
            return Err(ApiError::bad_parameter(
                "status",
                format!("{other:?} is not a status; use open, completed or all"),
            ))
        }
    };
    let priorities = params
        .list("priority")
        .map(|p| Priority::parse(p).map_err(|e| ApiError::bad_parameter("priority", e)))
        .collect::<Result<Vec<_>, _>>()?;
    let tags = |name: &str| {
        params
            .list(name)
            .map(|t| Tag::parse(t).map_err(|e| ApiError::bad_parameter(name, e)))
            .collect::<Result<Vec<_>, _>>()
    };
    let instant = |name: &str| {
        params
            .single(name)?
            .map(|v| parse_instant(v).map_err(|e| ApiError::bad_parameter(name, e)))
            .transpose()
    };
    let sort = sort(params.single("sort")?, &words)?;
    let limit = params.limit(DEFAULT_LIMIT, MAX_LIMIT)? as usize;
    let fingerprint = fingerprint(&pairs);
    let after = params
        .single("cursor")?
        .map(|c| decode_cursor(c, sort, &fingerprint))
        .transpose()?;
    let query = ListQuery {
        words,
        status,
        priorities,
        all_tags: tags("tag")?,
        any_tags: tags("any_tag")?,
        due_before: instant("due_before")?,
        due_after: instant("due_after")?,
        overdue: params.boolean("overdue")?,
        has_due: params.boolean("has_due")?,
        recurring: params.boolean("recurring")?,
        series_id: params
            .single("series_id")?
            .map(|raw| {
                Uuid::parse_str(raw.trim()).map_err(|_| {
                    ApiError::bad_parameter(
                        "series_id",
                        format!("{raw:?} is not a series id (a UUID, the series_id of a task)"),
                    )
                })
            })
            .transpose()?,
        sort,
        limit,
        after,
        now: ctx.now(),
    };
    let page = store::list(ctx.db, user.as_str(), &query)?;
    #[derive(serde::Serialize)]
    struct PageView<'a> {
        items: Vec<views::TaskView<'a>>,
        next_cursor: Option<String>,
    }
    let body = PageView {
        items: page.tasks.iter().map(views::TaskView::new).collect(),
        next_cursor: page
            .next
            .map(|after| encode_cursor(&after, sort, &fingerprint)),
    };
    Ok(json(StatusCode::OK, &body))
}

/// The words of a search, each matched as a prefix. Only letters and digits
/// are kept, so nothing the user types can change the shape of the tsquery.
fn search_words(q: &str) -> Result<Vec<String>, ApiError> {
    if q.chars().count() > MAX_QUERY_CHARS {
        return Err(ApiError::bad_parameter(
            "q",
            format!("q must be at most {MAX_QUERY_CHARS} characters"),
        ));
    }
    let words: Vec<String> = q
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .take(MAX_QUERY_WORDS)
        .collect();
    if words.is_empty() {
        return Err(ApiError::bad_parameter(
            "q",
            "q must contain at least one letter or digit",
        ));
    }
    Ok(words)
}

/// Without an explicit sort, a search is ordered by relevance, unless one of
/// its words is shorter than [`MIN_RANKED_PREFIX`]: such a prefix matches a
/// large share of all tasks, and ranking every match is too slow to be worth it,
/// so those results come in due-date order.
fn sort(raw: Option<&str>, words: &[String]) -> Result<Sort, ApiError> {
    let searching = !words.is_empty();
    let Some(raw) = raw else {
        let rank = searching && words.iter().all(|w| w.chars().count() >= MIN_RANKED_PREFIX);
        let field = if rank {
            SortField::Relevance
        } else {
            SortField::DueAt
        };
        return Ok(Sort {
            field,
            descending: rank,
        });
    };
    let (descending, name) = match raw.strip_prefix('-') {
        Some(name) => (true, name),
        None => (false, raw),
    };
    let field = match name {
        "due_at" => SortField::DueAt,
        "priority" => SortField::Priority,
        "created_at" => SortField::CreatedAt,
        "updated_at" => SortField::UpdatedAt,
        "title" => SortField::Title,
        "relevance" if searching => return Ok(Sort { field: SortField::Relevance, descending: true }),
        "relevance" => return Err(ApiError::bad_parameter("sort", "sort=relevance needs a search (q)")),
        _ => {
            return Err(ApiError::bad_parameter(
                "sort",
                format!("{raw:?} is not a sort; use due_at, priority, created_at, updated_at or title, with - for descending"),
            ))
        }
    };
    Ok(Sort { field, descending })
}

/// Identifies the filters and sort of a list, so that a cursor is only used
/// with the query that produced it.
fn fingerprint(pairs: &[(String, String)]) -> String {
    let mut relevant: Vec<&(String, String)> = pairs
        .iter()
        .filter(|(n, _)| n != "cursor" && n != "limit")
        .collect();
    relevant.sort();
    let mut hasher = Sha256::new();
    for (name, value) in relevant {
        hasher.update(name.as_bytes());
        hasher.update(b"=");
        hasher.update(value.as_bytes());
        hasher.update(b"&");
    }
    URL_SAFE_NO_PAD.encode(&hasher.finalize()[..9])
}

fn encode_cursor(after: &After, sort: Sort, fingerprint: &str) -> String {
    let (key, id) = match after {
        After::Due(due, id) => (json!(due), id),
        After::Int(v, id) => (json!(v), id),
        After::Text(v, id) => (json!(v), id),
        After::Rank(v, id) => (json!(v), id),
    };
    let body = json!({ "f": fingerprint, "d": sort.descending, "k": key, "i": id });
    URL_SAFE_NO_PAD.encode(body.to_string())
}

fn decode_cursor(raw: &str, sort: Sort, fingerprint: &str) -> Result<After, ApiError> {
    let invalid = || {
        ApiError::bad_parameter(
            "cursor",
            "cursor is not one this API issued; start again without it",
        )
    };
    let bytes = URL_SAFE_NO_PAD.decode(raw.trim()).map_err(|_| invalid())?;
    let body: Value = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
    if body["f"].as_str() != Some(fingerprint) || body["d"].as_bool() != Some(sort.descending) {
        return Err(ApiError::bad_parameter(
            "cursor",
            "cursor belongs to a list with other filters or sort; keep them unchanged while paging",
        ));
    }
    let id = body["i"]
        .as_str()
        .and_then(|s| Uuid::parse_str(s).ok())
        .ok_or_else(invalid)?;
    let key = &body["k"];
    let after = match sort.field {
        SortField::DueAt if key.is_null() => After::Due(None, id),
        SortField::DueAt => After::Due(Some(key.as_i64().ok_or_else(invalid)?), id),
        SortField::Priority | SortField::CreatedAt | SortField::UpdatedAt => {
            After::Int(key.as_i64().ok_or_else(invalid)?, id)
        }
        SortField::Title => After::Text(key.as_str().ok_or_else(invalid)?.to_owned(), id),
        SortField::Relevance => After::Rank(key.as_f64().ok_or_else(invalid)? as f32, id),
    };
    Ok(after)
}
