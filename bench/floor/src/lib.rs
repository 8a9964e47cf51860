//! The floor Spindle's HTTP components are measured against under `spin up`:
//! what Spin itself costs for a request, with nothing of Spindle in it.
//!
//! - `/floor/hello`: no database;
//! - `/floor/select1`: `Connection::open` and `SELECT 1`;
//! - `/floor/page`: open and a minimal first page of a user's open tasks (ids
//!   by due date, then those 51 rows), the least any list can do;
//! - `/floor/page-every-column`: open and the first page as Spindle's list
//!   reads it (its `task_page_by_due` routine: every column of 51 tasks, their
//!   reminders folded in), rows counted and dropped: what the data of a page
//!   costs Postgres and Spin's host before any of Spindle's code runs;
//! - `/floor/get`: open and Spindle's `task_by_id` routine for an id nobody has.
//!
//! The last two read the routines Spindle's migrations install, so they need
//! a database migrated by `spindle-migrate`.

use spin_sdk::http::{IntoResponse, Request, Response};
use spin_sdk::pg4::ParameterValue;
use spin_sdk::{http_component, pg4, variables};

/// A parameter of a floor's statement.
enum Param {
    /// The user whose tasks the bench seeded (`floor_user`).
    User,
    /// A task id nobody has.
    MissingTaskId,
}

/// Each route's statement and its parameters.
const QUERIES: &[(&str, &str, &[Param])] = &[
    ("/floor/select1", "SELECT 1", &[]),
    (
        "/floor/page",
        "SELECT t.id::text, t.title, t.priority, t.tags
           FROM (SELECT id FROM tasks
                  WHERE user_id = $1 AND status = 'open'
                  ORDER BY coalesce(due_at, 'infinity'::timestamptz), id
                  LIMIT 51) page
           JOIN tasks t USING (id)",
        &[Param::User],
    ),
    (
        "/floor/page-every-column",
        "SELECT * FROM task_page_by_due($1, 'open', NULL, NULL, 51)",
        &[Param::User],
    ),
    (
        "/floor/get",
        "SELECT * FROM task_by_id($1, $2)",
        &[Param::MissingTaskId, Param::User],
    ),
];

#[http_component]
fn handle(req: Request) -> anyhow::Result<impl IntoResponse> {
    if req.path() == "/floor/hello" {
        return Ok(Response::new(200, "hello"));
    }
    let Some((_, sql, params)) = QUERIES.iter().find(|(path, _, _)| *path == req.path()) else {
        return Ok(Response::new(404, "no such floor"));
    };
    let params = params
        .iter()
        .map(|param| {
            Ok(match param {
                Param::User => ParameterValue::Str(variables::get("floor_user")?),
                Param::MissingTaskId => {
                    ParameterValue::Uuid("00000000-0000-4000-8000-000000000000".to_owned())
                }
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let db = pg4::Connection::open(&variables::get("db_url")?)?;
    let rows = db.query(sql, &params)?;
    Ok(Response::new(200, rows.rows.len().to_string()))
}
