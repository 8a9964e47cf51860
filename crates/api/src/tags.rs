//! `/api/tags`: the user's tags with counts; rename (merging) and delete.

use http::StatusCode;
use serde_json::{json, Value};
use spindle_domain::event::EventType;
use spindle_domain::{FieldErrors, Tag, Tags, Task};
use spindle_ports::{Db, Publisher};
use spindle_storage::{tags as tag_store, tasks as task_store};

use crate::auth::UserId;
use crate::problem::ApiError;
use crate::respond::{json, json_object, no_content, only_params, query_pairs};
use crate::router::{PathParams, Route, UserHandler};
use crate::views;
use crate::write::write;
use crate::{Ctx, Request, Response};

/// Every route of `tags-api`, each with its handler.
pub fn routes<D: Db, P: Publisher>() -> Vec<Route<UserHandler<D, P>>> {
    vec![
        Route::get("/api/tags", |ctx, req, user, _| {
            only_params(&query_pairs(req), &[])?;
            list(ctx, user)
        }),
        Route::patch("/api/tags/{name}", |ctx, req, user, path| {
            only_params(&query_pairs(req), &[])?;
            rename(ctx, req, user, tag(path)?)
        }),
        Route::delete("/api/tags/{name}", |ctx, req, user, path| {
            only_params(&query_pairs(req), &[])?;
            delete(ctx, req, user, tag(path)?)
        }),
    ]
}

/// The `{name}` of the path; a name that cannot be a tag names none.
fn tag(path: &PathParams) -> Result<Tag, ApiError> {
    let raw = path.get("name");
    Tag::parse(raw).map_err(|_| ApiError::NotFound(format!("there is no tag {raw:?}")))
}

fn list<D: Db, P: Publisher>(ctx: &Ctx<'_, D, P>, user: &UserId) -> Result<Response, ApiError> {
    let counts = tag_store::counts(ctx.db, user.as_str())?;
    let items: Vec<Value> = counts
        .iter()
        .map(|c| json!({ "name": c.name, "open_tasks": c.open, "total_tasks": c.total }))
        .collect();
    Ok(json(StatusCode::OK, &json!({ "items": items })))
}

/// `{"name": "new"}`: every task tagged `from` is tagged `new` instead; a task
/// that already had `new` keeps it once (the two tags merge).
fn rename<D: Db, P: Publisher>(
    ctx: &Ctx<'_, D, P>,
    req: &Request,
    user: &UserId,
    from: Tag,
) -> Result<Response, ApiError> {
    let mut body = json_object(req)?;
    let mut errors = FieldErrors::new();
    let to = match body.remove("name") {
        Some(Value::String(name)) => errors.check("name", Tag::parse(&name)),
        Some(_) => errors.check("name", Err("must be a string".to_owned())),
        None => errors.check(
            "name",
            Err("is required: the new name of the tag".to_owned()),
        ),
    };
    for extra in body.keys() {
        errors.add(
            extra.as_str(),
            "is not a field of a tag rename; send only {\"name\": \"<new name>\"}",
        );
    }
    let to = errors
        .into_result(|| to)?
        .ok_or_else(|| ApiError::Internal("tag checked but absent".into()))?;
    retag(
        ctx,
        req,
        user,
        &from,
        |tags| tags.renamed(&from, &to),
        StatusCode::OK,
    )
}

fn delete<D: Db, P: Publisher>(
    ctx: &Ctx<'_, D, P>,
    req: &Request,
    user: &UserId,
    tag: Tag,
) -> Result<Response, ApiError> {
    retag(
        ctx,
        req,
        user,
        &tag,
        |tags| tags.without(&tag),
        StatusCode::NO_CONTENT,
    )
}

/// Applies `change` to the tags of every task carrying `tag`, with one
/// `task.updated` event per task, all in one transaction.
fn retag<D: Db, P: Publisher>(
    ctx: &Ctx<'_, D, P>,
    req: &Request,
    user: &UserId,
    tag: &Tag,
    change: impl Fn(&Tags) -> Tags,
    success: StatusCode,
) -> Result<Response, ApiError> {
    write(ctx, req, user, |db, written| {
        let tasks = task_store::with_tag_for_update(db, user.as_str(), tag)?;
        if tasks.is_empty() {
            return Err(ApiError::NotFound(format!(
                "no task is tagged {:?}",
                tag.as_str()
            )));
        }
        let changed: Vec<(Task, Tags)> = tasks
            .into_iter()
            .filter_map(|task| {
                let tags = change(&task.tags);
                (tags != task.tags).then_some((task, tags))
            })
            .collect();
        let before: Vec<Value> = changed.iter().map(|(task, _)| views::task(task)).collect();
        let after = task_store::retag(db, changed, ctx.now())?;
        let events = after
            .iter()
            .zip(&before)
            .map(|(task, before)| {
                let task_json = views::task(task);
                let changes = views::changes(before, &task_json);
                (
                    EventType::TaskUpdated,
                    task,
                    json!({ "task": task_json, "changes": changes }),
                )
            })
            .collect();
        written.task_events(ctx, db, events)?;
        Ok(if success == StatusCode::NO_CONTENT {
            no_content()
        } else {
            json(success, &json!({ "tasks_updated": after.len() }))
        })
    })
}
