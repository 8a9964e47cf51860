//! The floor Spindle's HTTP components are measured against under `spin up`:
//! what Spin itself costs for a request, with nothing of Spindle in it.
//!
//! - `/floor/hello`: no database;
//! - `/floor/select1`: `Connection::open` and `SELECT 1`;
//! - `/floor/page`: open and a minimal first page of a user's open tasks (ids
//!   by due date, then those 51 rows), the least any list can do.

use spin_sdk::http::{IntoResponse, Request, Response};
use spin_sdk::{http_component, pg4, variables};

#[http_component]
fn handle(req: Request) -> anyhow::Result<impl IntoResponse> {
    let body = match req.path() {
        "/floor/hello" => "hello".to_owned(),
        "/floor/select1" => {
            let db = pg4::Connection::open(&variables::get("db_url")?)?;
            let rows = db.query("SELECT 1", &[])?;
            format!("{}", rows.rows.len())
        }
        "/floor/page" => {
            let db = pg4::Connection::open(&variables::get("db_url")?)?;
            let rows = db.query(
                "SELECT t.id::text, t.title, t.priority, t.tags
                   FROM (SELECT id FROM tasks
                          WHERE user_id = $1 AND status = 'open'
                          ORDER BY coalesce(due_at, 'infinity'::timestamptz), id
                          LIMIT 51) page
                   JOIN tasks t USING (id)",
                &[pg4::ParameterValue::Str(variables::get("floor_user")?)],
            )?;
            format!("{}", rows.rows.len())
        }
        _ => return Ok(Response::new(404, "no such floor")),
    };
    Ok(Response::new(200, body))
}
