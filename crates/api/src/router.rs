//! Matching a request to a route, and the steps every request goes through:
//! CORS and preflight, body size, authentication, method check, errors.
//!
//! A route table is one list of `Route`s, each carrying the function that
//! serves it, so a route cannot be listed without a handler or handled
//! without being listed. Handlers are generic over the ports, so a table is
//! built by a generic function (a handful of function pointers per request).

use spindle_ports::{Db, Publisher};

use crate::cors::Cors;
use crate::problem::ApiError;
use crate::respond::{check_size, header, segments};
use crate::{Ctx, Request, Response};
use spindle_auth::{AuthError, UserId, Verifier};

/// A route: a method, a path template whose `{name}` segments match any one
/// segment, and the function that serves it.
pub struct Route<H> {
    pub method: &'static str,
    pub path: &'static str,
    pub handler: H,
}

impl<H> Route<H> {
    pub const fn get(path: &'static str, handler: H) -> Self {
        Route {
            method: "GET",
            path,
            handler,
        }
    }
    pub const fn post(path: &'static str, handler: H) -> Self {
        Route {
            method: "POST",
            path,
            handler,
        }
    }
    pub const fn patch(path: &'static str, handler: H) -> Self {
        Route {
            method: "PATCH",
            path,
            handler,
        }
    }
    pub const fn delete(path: &'static str, handler: H) -> Self {
        Route {
            method: "DELETE",
            path,
            handler,
        }
    }

    /// The values of the template's `{name}` segments, when the path fits it.
    fn bind(&self, segments: &[String]) -> Option<PathParams> {
        let template: Vec<&'static str> = self.path.split('/').filter(|s| !s.is_empty()).collect();
        if template.len() != segments.len() {
            return None;
        }
        let mut params = Vec::new();
        for (t, s) in template.into_iter().zip(segments) {
            match t.strip_prefix('{').and_then(|t| t.strip_suffix('}')) {
                Some(name) => params.push((name, s.clone())),
                None if t == s => {}
                None => return None,
            }
        }
        Some(PathParams(params))
    }
}

/// The `{name}` segments of the matched path, percent-decoded.
#[derive(Debug, Default)]
pub struct PathParams(Vec<(&'static str, String)>);

impl PathParams {
    /// The value of `{name}`; empty when the template has no such segment
    /// (a handler only asks for the names of its own template).
    pub fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    }
}

/// Serves a user-facing route once the caller is authenticated.
pub type UserHandler<D, P> =
    fn(&Ctx<'_, D, P>, &Request, &UserId, &PathParams) -> Result<Response, ApiError>;
/// Serves an operations route; it checks its own token where it needs one.
pub type OpsHandler<D, P> = fn(&Ctx<'_, D, P>, &Request, &PathParams) -> Result<Response, ApiError>;

/// Finds the route for the request, or says why there is none (404, 405).
fn find<'t, H>(
    routes: &'t [Route<H>],
    req: &Request,
    segments: &[String],
) -> Result<(&'t Route<H>, PathParams), ApiError> {
    let mut on_path = Vec::new();
    for route in routes {
        if let Some(params) = route.bind(segments) {
            if route.method == req.method().as_str() {
                return Ok((route, params));
            }
            on_path.push(route.method);
        }
    }
    if on_path.is_empty() {
        return Err(ApiError::NotFound(format!(
            "there is nothing at {}",
            req.uri().path()
        )));
    }
    Err(ApiError::MethodNotAllowed {
        method: req.method().to_string(),
        allow: allow_header(&on_path),
    })
}

/// The `Allow` value for the methods a path has, plus OPTIONS (preflight).
fn allow_header(methods: &[&str]) -> String {
    let mut allow: Vec<&str> = ["GET", "POST", "PATCH", "DELETE"]
        .into_iter()
        .filter(|m| methods.contains(m))
        .collect();
    allow.push("OPTIONS");
    allow.join(", ")
}

/// The methods routed at a path, for a preflight; `None` when nothing is.
fn methods_at<H>(routes: &[Route<H>], segments: &[String]) -> Option<String> {
    let on_path: Vec<&str> = routes
        .iter()
        .filter(|r| r.bind(segments).is_some())
        .map(|r| r.method)
        .collect();
    (!on_path.is_empty()).then(|| allow_header(&on_path))
}

/// A user-facing route: CORS, size limit, bearer JWT, then the handler.
pub fn serve_user<D: Db, P: Publisher>(
    ctx: &Ctx<'_, D, P>,
    verifier: &Verifier<'_>,
    req: &Request,
    routes: &[Route<UserHandler<D, P>>],
) -> Response {
    let cors = Cors::for_request(req, ctx.config);
    let segments = segments(req);
    let id = request_id(req);
    if Cors::is_preflight(req) {
        return match methods_at(routes, &segments) {
            Some(allow) => cors.preflight(req, &allow),
            None => ApiError::NotFound(format!("there is nothing at {}", req.uri().path()))
                .into_response(&id),
        };
    }
    let result = find(routes, req, &segments).and_then(|(route, params)| {
        check_size(req)?;
        let now_seconds = ctx.clock.now_micros().div_euclid(1_000_000);
        let user = verifier
            .authenticate(
                header(req.headers(), http::header::AUTHORIZATION),
                now_seconds,
            )
            .map_err(refused)?;
        (route.handler)(ctx, req, &user, &params)
    });
    let mut response = result.unwrap_or_else(|err| err.into_response(&id));
    cors.decorate(req, &mut response);
    tag_response(&mut response, &id);
    response
}

/// A refused token is the caller's to fix (401); a server that cannot verify tokens
/// at all is the operator's (503, and said in the log).
fn refused(err: AuthError) -> ApiError {
    if matches!(err, AuthError::NotConfigured) {
        eprintln!("spindle: {err}");
    }
    if err.is_unavailable() {
        ApiError::Unavailable(err.to_string())
    } else {
        ApiError::Unauthorized(err)
    }
}

/// A user-facing route for a caller already authenticated (the MCP tools): size
/// limit, route, handler; no CORS, no token.
pub fn serve_authenticated<D: Db, P: Publisher>(
    ctx: &Ctx<'_, D, P>,
    user: &UserId,
    req: &Request,
    routes: &[Route<UserHandler<D, P>>],
) -> Response {
    let segments = segments(req);
    let id = request_id(req);
    find(routes, req, &segments)
        .and_then(|(route, params)| {
            check_size(req)?;
            (route.handler)(ctx, req, user, &params)
        })
        .unwrap_or_else(|err| err.into_response(&id))
}

/// An operations route: no CORS, size limit; each handler checks its own token.
pub fn serve_ops<D: Db, P: Publisher>(
    ctx: &Ctx<'_, D, P>,
    req: &Request,
    routes: &[Route<OpsHandler<D, P>>],
) -> Response {
    let segments = segments(req);
    let id = request_id(req);
    let mut response = find(routes, req, &segments)
        .and_then(|(route, params)| {
            check_size(req)?;
            (route.handler)(ctx, req, &params)
        })
        .unwrap_or_else(|err| err.into_response(&id));
    tag_response(&mut response, &id);
    response
}

/// The response header that names the request, as the log lines about it do.
pub const REQUEST_ID: &str = "x-request-id";

/// The id of this request: the one a proxy in front already gave it (when it
/// looks like an id: 1–64 letters, digits, `-`, `_` or `.`), else a new one.
pub fn request_id(req: &Request) -> String {
    header(req.headers(), REQUEST_ID)
        .filter(|v| {
            (1..=64).contains(&v.len())
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        })
        .map_or_else(|| uuid::Uuid::new_v4().simple().to_string(), str::to_owned)
}

pub fn tag_response(response: &mut Response, id: &str) {
    if let Ok(value) = http::HeaderValue::from_str(id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
}

/// Checks a bearer token against a configured secret in constant time.
pub fn require_token(req: &Request, expected: Option<String>) -> Result<(), ApiError> {
    let Some(expected) = expected else {
        return Err(ApiError::Unavailable(
            "this endpoint's token variable is not set; it is disabled".into(),
        ));
    };
    let presented = header(req.headers(), http::header::AUTHORIZATION)
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    let same_length = presented.len() == expected.len();
    let difference = presented
        .bytes()
        .zip(expected.bytes())
        .fold(0u8, |acc, (a, b)| acc | (a ^ b));
    if same_length && difference == 0 {
        Ok(())
    } else {
        Err(ApiError::BadToken)
    }
}
