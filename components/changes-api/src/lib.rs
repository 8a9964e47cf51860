//! The `changes-api` component: /api/changes and /api/tasks/:id/history.

use spin_sdk::http::IncomingRequest;
use spin_sdk::http_component;
use spindle_api::Response;

#[http_component]
async fn handle(req: IncomingRequest) -> Response {
    spindle_spin_http::serve_user(req, spindle_api::changes_api).await
}
