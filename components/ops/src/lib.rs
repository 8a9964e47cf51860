//! The `ops` component: /healthz, /readyz, /metrics, /admin/..., /internal/tick and /api/openapi.json.

use spin_sdk::http::IncomingRequest;
use spin_sdk::http_component;
use spindle_api::Response;

#[http_component]
async fn handle(req: IncomingRequest) -> Response {
    spindle_spin_http::serve(req, spindle_api::ops).await
}
