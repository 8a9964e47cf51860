//! The `channels-api` component: /api/channels/... and /api/notifications/....

use spin_sdk::http::IncomingRequest;
use spin_sdk::http_component;
use spindle_api::{settings, Ctx, Response, MAX_BODY_BYTES};
use spindle_ports::SystemClock;

#[http_component]
async fn handle(req: IncomingRequest) -> Response {
    let req = spindle_spin::read_request(req, MAX_BODY_BYTES).await;
    let (db, publisher, config) = spindle_spin::platform(settings::DB_URL, settings::REDIS_URL);
    let ctx = Ctx {
        db: &db,
        publisher: &publisher,
        clock: &SystemClock,
        config: &config,
        http: &spindle_spin::SpinHttp,
    };
    spindle_api::channels_api(&ctx, req)
}
