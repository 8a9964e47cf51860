//! The `mcp` component: POST /mcp (the task tools for AI agents) and the OAuth
//! protected-resource metadata at /.well-known/oauth-protected-resource.

use spin_sdk::http::IncomingRequest;
use spin_sdk::http_component;
use spindle_api::Response;

#[http_component]
async fn handle(req: IncomingRequest) -> Response {
    spindle_spin_http::serve_user(req, spindle_mcp::serve).await
}
