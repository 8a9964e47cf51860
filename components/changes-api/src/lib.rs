//! The `changes-api` component: /api/changes and /api/tasks/:id/history.

use spin_sdk::http_component;
use spindle_api::{settings, Ctx, Request, Response};
use spindle_ports::SystemClock;

#[http_component]
fn handle(req: Request) -> Response {
    let (db, publisher, config) = spindle_spin::platform(settings::DB_URL, settings::REDIS_URL);
    let ctx = Ctx { db: &db, publisher: &publisher, clock: &SystemClock, config: &config };
    spindle_api::changes_api(&ctx, req)
}
