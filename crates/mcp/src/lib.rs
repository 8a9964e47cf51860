//! The MCP endpoint (`POST /mcp`): the Model Context Protocol's Streamable HTTP
//! transport, stateless, with JSON responses, serving the task tools to AI agents
//! with the user's bearer token — and the OAuth protected-resource metadata (RFC 9728)
//! that tells an MCP client where that token comes from.
//!
//! Every tool call is turned into the API request it stands for and served by
//! [`spindle_api::serve_as`], the same handlers, validation, ETags, events and history
//! as the HTTP API ([`tools`]). The protocol itself is in [`protocol`].

mod jsonrpc;
mod openapi;
mod protocol;
mod tools;

use http::{header, HeaderValue, Method, StatusCode};
use serde_json::{json, Map, Value};
use spindle_api::settings::PUBLIC_BASE_URL;
use spindle_api::{request_id, tag_response, ApiError, Cors, Ctx, Request, Response, REQUEST_ID};
use spindle_auth::{AuthError, UserId, Verifier};
use spindle_ports::{Db, Publisher};

use crate::jsonrpc::RpcError;
use crate::protocol::Reply;
use crate::tools::Output;

/// The MCP endpoint's path.
pub const ENDPOINT: &str = "/mcp";
/// The RFC 9728 document, at the root and at the endpoint's path-inserted location.
pub const RESOURCE_METADATA: &str = "/.well-known/oauth-protected-resource";
pub const RESOURCE_METADATA_OF_ENDPOINT: &str = "/.well-known/oauth-protected-resource/mcp";

/// Every `(method, path)` this crate serves, for the OpenAPI check.
pub const ROUTES: &[(&str, &str)] = &[
    ("POST", ENDPOINT),
    ("GET", RESOURCE_METADATA),
    ("GET", RESOURCE_METADATA_OF_ENDPOINT),
];

/// Request headers an MCP client in a browser sends, for CORS preflights.
const MCP_REQUEST_HEADERS: &str = "Authorization, Content-Type, Accept, MCP-Protocol-Version, \
     Mcp-Method, Mcp-Name, Mcp-Session-Id, Last-Event-ID";

/// Serves `/mcp` and `/.well-known/oauth-protected-resource[/mcp]`.
pub fn serve<D: Db, P: Publisher>(
    ctx: &Ctx<'_, D, P>,
    verifier: &Verifier<'_>,
    req: Request,
) -> Response {
    let id = request_id(&req);
    let path = req.uri().path();
    let mut response = if path == RESOURCE_METADATA || path == RESOURCE_METADATA_OF_ENDPOINT {
        resource_metadata(ctx, verifier, &req, &id)
    } else if path != ENDPOINT {
        ApiError::NotFound(format!("there is nothing at {path}")).into_response(&id)
    } else {
        let cors = Cors::for_request(&req, ctx.config);
        if Cors::is_preflight(&req) {
            return cors.preflight_with_headers(&req, "POST, OPTIONS", MCP_REQUEST_HEADERS);
        }
        let mut response = endpoint(ctx, verifier, &cors, &req, &id);
        cors.decorate(&req, &mut response);
        response
    };
    tag_response(&mut response, &id);
    response
}

fn endpoint<D: Db, P: Publisher>(
    ctx: &Ctx<'_, D, P>,
    verifier: &Verifier<'_>,
    cors: &Cors,
    req: &Request,
    id: &str,
) -> Response {
    // The transport has no GET stream (2026-07-28) and no sessions to DELETE.
    if req.method() != Method::POST {
        return ApiError::MethodNotAllowed {
            method: req.method().to_string(),
            allow: "POST, OPTIONS".into(),
        }
        .into_response(id);
    }
    // DNS rebinding: a browser page from an origin not allowed must not drive the tools.
    if cors.refuses(req) {
        let err = RpcError::new(
            jsonrpc::INVALID_REQUEST,
            "the Origin of this request is not in cors_allowed_origins",
        );
        return json_response(StatusCode::FORBIDDEN, &jsonrpc::error(None, &err));
    }
    if let Err(err) = spindle_api::check_size(req) {
        return err.into_response(id);
    }
    let now_seconds = ctx.clock.now_micros().div_euclid(1_000_000);
    let authorization = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let user = match verifier.authenticate(authorization, now_seconds) {
        Ok(user) => user,
        Err(err) => return refused(ctx, req, err, id),
    };
    if let Err(err) = spindle_api::require_json(req) {
        return err.into_response(id);
    }
    let runner = Runner {
        ctx,
        user: &user,
        request_id: id,
    };
    match protocol::answer(req.body(), req.headers(), &runner) {
        Reply::Accepted => http::Response::builder()
            .status(StatusCode::ACCEPTED)
            .body(Vec::new())
            .unwrap_or_default(),
        Reply::Json(status, body) => json_response(status, &body),
    }
}

/// 401 with the challenge that points an MCP client at the resource metadata, or
/// 503 when the server cannot verify tokens at all.
fn refused<D: Db, P: Publisher>(
    ctx: &Ctx<'_, D, P>,
    req: &Request,
    err: AuthError,
    id: &str,
) -> Response {
    if err.is_unavailable() {
        return ApiError::Unavailable(err.to_string()).into_response(id);
    }
    let error = if matches!(err, AuthError::Missing) {
        String::new()
    } else {
        ", error=\"invalid_token\"".to_owned()
    };
    let challenge = format!(
        "Bearer realm=\"spindle\", resource_metadata=\"{}{RESOURCE_METADATA}\"{error}",
        base_url(ctx, req)
    );
    let mut response = ApiError::Unauthorized(err).into_response(id);
    if let Ok(value) = HeaderValue::from_str(&challenge) {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, value);
    }
    response
}

/// RFC 9728: this resource, and the authorization server whose tokens it accepts.
fn resource_metadata<D: Db, P: Publisher>(
    ctx: &Ctx<'_, D, P>,
    verifier: &Verifier<'_>,
    req: &Request,
    id: &str,
) -> Response {
    if req.method() != Method::GET {
        return ApiError::MethodNotAllowed {
            method: req.method().to_string(),
            allow: "GET".into(),
        }
        .into_response(id);
    }
    let mut document = json!({
        "resource": format!("{}{ENDPOINT}", base_url(ctx, req)),
        "bearer_methods_supported": ["header"],
        "resource_name": "Spindle tasks",
    });
    if let Some(issuer) = verifier.settings().issuer() {
        document["authorization_servers"] = json!([issuer]);
    }
    let mut response = json_response(StatusCode::OK, &document);
    response.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    response
}

/// Where clients reach this server: `public_base_url`, else what Spin says the
/// request's URL was, else its `Host`.
fn base_url<D: Db, P: Publisher>(ctx: &Ctx<'_, D, P>, req: &Request) -> String {
    if let Some(configured) = ctx.config.get(PUBLIC_BASE_URL) {
        return configured.trim_end_matches('/').to_owned();
    }
    let from_spin = req
        .headers()
        .get("spin-full-url")
        .and_then(|v| v.to_str().ok())
        .and_then(|url| url.parse::<http::Uri>().ok())
        .and_then(|uri| Some(format!("{}://{}", uri.scheme_str()?, uri.authority()?)));
    from_spin.unwrap_or_else(|| {
        let host = req
            .headers()
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("localhost");
        format!("http://{host}")
    })
}

fn json_response(status: StatusCode, body: &Value) -> Response {
    http::Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .body(serde_json::to_vec(body).unwrap_or_default())
        .unwrap_or_default()
}

/// Runs the tools for one authenticated user through the API's handlers.
struct Runner<'c, 'a, D, P> {
    ctx: &'c Ctx<'a, D, P>,
    user: &'c UserId,
    /// The MCP request's id, carried by the API requests its tools make.
    request_id: &'c str,
}

impl<D: Db, P: Publisher> Runner<'_, '_, D, P> {
    fn serve(&self, mut request: Request) -> Response {
        if let Ok(value) = HeaderValue::from_str(self.request_id) {
            request.headers_mut().insert(REQUEST_ID, value);
        }
        spindle_api::serve_as(self.ctx, self.user, request)
    }
}

impl<D: Db, P: Publisher> protocol::Tools for Runner<'_, '_, D, P> {
    fn list(&self) -> Vec<Value> {
        tools::definitions()
    }

    fn call(&self, name: &str, arguments: Map<String, Value>) -> Result<Value, RpcError> {
        let now = self.ctx.clock.now_micros();
        if name == tools::UPCOMING {
            let (request, zone, until) = match tools::upcoming_request(arguments, now) {
                Ok(built) => built,
                Err(problem) => return Ok(tool_error(problem)),
            };
            let response = self.serve(request);
            return Ok(match success(&response) {
                Some(page) => tool_success(tools::upcoming_result(page, zone, until, now)),
                None => tool_error(failure_text(&response, &|field| field.to_owned())),
            });
        }
        let Some(tool) = tools::find(name) else {
            return Err(RpcError::invalid_params(format!(
                "Unknown tool: {name:?}; call tools/list for the tools there are"
            )));
        };
        let deleted_id = arguments.get("id").cloned();
        let request = match tool.request(arguments) {
            Ok(request) => request,
            Err(problem) => return Ok(tool_error(problem)),
        };
        let response = self.serve(request);
        Ok(match (success(&response), tool.output) {
            (Some(_), Output::Deleted) => tool_success(json!({ "deleted": deleted_id })),
            (Some(body), Output::Schema(_)) => tool_success(body),
            (None, _) => tool_error(failure_text(&response, &|f| tool.argument_for(f))),
        })
    }
}

/// The JSON of a 2xx response (`null` when it has no body).
fn success(response: &Response) -> Option<Value> {
    response
        .status()
        .is_success()
        .then(|| serde_json::from_slice(response.body()).unwrap_or(Value::Null))
}

fn tool_success(structured: Value) -> Value {
    json!({
        "content": [{ "type": "text", "text": structured.to_string() }],
        "structuredContent": structured,
        "isError": false,
    })
}

fn tool_error(text: String) -> Value {
    json!({ "content": [{ "type": "text", "text": text }], "isError": true })
}

/// What went wrong, from the API's problem+json, in the tool's own argument names.
fn failure_text(response: &Response, argument: &dyn Fn(&str) -> String) -> String {
    let problem: Value = serde_json::from_slice(response.body()).unwrap_or(Value::Null);
    let mut text = problem["detail"]
        .as_str()
        .unwrap_or("the request failed")
        .to_owned();
    if let Some(parameter) = problem["parameter"].as_str() {
        text = format!("`{}`: {text}", argument(parameter));
    }
    for error in problem["errors"].as_array().into_iter().flatten() {
        let field = error["field"].as_str().unwrap_or("");
        let message = error["message"].as_str().unwrap_or("");
        text.push_str(&format!("\n- `{}` {message}", argument(field)));
    }
    text
}
