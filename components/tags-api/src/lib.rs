//! The `tags-api` component: /api/tags/....

use spin_sdk::http::IncomingRequest;
use spin_sdk::http_component;
use spindle_api::Response;

#[http_component]
async fn handle(req: IncomingRequest) -> Response {
    spindle_spin_http::serve_user(req, spindle_api::tags_api).await
}
