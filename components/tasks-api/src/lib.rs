//! The `tasks-api` component: /api/tasks/....

use spin_sdk::http::IncomingRequest;
use spin_sdk::http_component;
use spindle_api::Response;

#[http_component]
async fn handle(req: IncomingRequest) -> Response {
    spindle_spin_http::serve_user(req, spindle_api::tasks_api).await
}
