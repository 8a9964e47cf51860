//! Matching a request to a route, and the steps every request goes through:
//! CORS and preflight, body size, authentication, method check, errors.

use spindle_ports::{Db, Publisher};

use crate::auth::{authenticate, UserId};
use crate::cors::Cors;
use crate::problem::ApiError;
use crate::respond::{check_size, header, segments};
use crate::{settings, Ctx, Request, Response};

/// A route: a method and a path template whose `{name}` segments match anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    pub method: &'static str,
    pub path: &'static str,
}

impl Route {
    fn matches_path(&self, segments: &[String]) -> bool {
        let template: Vec<&str> = self.path.split('/').filter(|s| !s.is_empty()).collect();
        template.len() == segments.len()
            && template
                .iter()
                .zip(segments)
                .all(|(t, s)| (t.starts_with('{') && t.ends_with('}')) || t == s)
    }
}

/// The matched route and the path's segments.
pub struct Matched<'r> {
    pub route: &'static Route,
    pub segments: &'r [String],
}

impl Matched<'_> {
    /// The error for a route listed in a table but missing from its dispatch.
    pub fn unhandled(&self) -> ApiError {
        ApiError::Internal(format!(
            "route {} {} has no handler",
            self.route.method, self.route.path
        ))
    }
}

/// Finds the route for the request, or says why there is none (404, 405).
fn find<'r>(
    routes: &'static [Route],
    req: &Request,
    segments: &'r [String],
) -> Result<Matched<'r>, ApiError> {
    let on_path: Vec<&'static Route> = routes.iter().filter(|r| r.matches_path(segments)).collect();
    if on_path.is_empty() {
        return Err(ApiError::NotFound(format!(
            "there is nothing at {}",
            req.uri().path()
        )));
    }
    match on_path.iter().find(|r| r.method == req.method().as_str()) {
        Some(route) => Ok(Matched { route, segments }),
        None => Err(ApiError::MethodNotAllowed {
            method: req.method().to_string(),
            allow: allow_header(&on_path),
        }),
    }
}

fn allow_header(on_path: &[&'static Route]) -> &'static str {
    // The few distinct combinations of methods Spindle's routes have; leaked
    // strings would be simpler but each request would leak one.
    let has = |m: &str| on_path.iter().any(|r| r.method == m);
    match (has("GET"), has("POST"), has("PATCH"), has("DELETE")) {
        (true, true, false, false) => "GET, POST, OPTIONS",
        (true, false, true, true) => "GET, PATCH, DELETE, OPTIONS",
        (true, false, false, true) => "GET, DELETE, OPTIONS",
        (false, false, true, true) => "PATCH, DELETE, OPTIONS",
        (false, true, false, false) => "POST, OPTIONS",
        (true, false, false, false) => "GET, OPTIONS",
        _ => "GET, POST, PATCH, DELETE, OPTIONS",
    }
}

type UserHandler<D, P> =
    fn(&Ctx<'_, D, P>, &Request, &UserId, Matched<'_>) -> Result<Response, ApiError>;
type OpsHandler<D, P> = fn(&Ctx<'_, D, P>, &Request, Matched<'_>) -> Result<Response, ApiError>;

/// A user-facing route: CORS, size limit, bearer JWT, then the handler.
pub fn serve_user<D: Db, P: Publisher>(
    ctx: &Ctx<'_, D, P>,
    req: &Request,
    routes: &'static [Route],
    handler: UserHandler<D, P>,
) -> Response {
    let cors = Cors::new(ctx.config.get(settings::CORS_ALLOWED_ORIGINS).as_deref());
    let segments = segments(req);
    if Cors::is_preflight(req) {
        return match find_any(routes, &segments) {
            Some(allow) => cors.preflight(req, allow),
            None => ApiError::NotFound(format!("there is nothing at {}", req.uri().path()))
                .into_response(),
        };
    }
    let result = find(routes, req, &segments).and_then(|matched| {
        check_size(req)?;
        let secret = ctx.config.get(settings::JWT_SECRET).ok_or_else(|| {
            ApiError::Unavailable(
                "the jwt_secret variable is not set; tokens cannot be checked".into(),
            )
        })?;
        let now_seconds = ctx.clock.now_micros().div_euclid(1_000_000);
        let user = authenticate(
            header(req.headers(), http::header::AUTHORIZATION),
            secret.as_bytes(),
            now_seconds,
        )
        .map_err(ApiError::Unauthorized)?;
        handler(ctx, req, &user, matched)
    });
    let mut response = result.unwrap_or_else(ApiError::into_response);
    cors.decorate(req, &mut response);
    response
}

/// An operations route: no CORS, size limit; each handler checks its own token.
pub fn serve_ops<D: Db, P: Publisher>(
    ctx: &Ctx<'_, D, P>,
    req: &Request,
    routes: &'static [Route],
    handler: OpsHandler<D, P>,
) -> Response {
    let segments = segments(req);
    find(routes, req, &segments)
        .and_then(|matched| {
            check_size(req)?;
            handler(ctx, req, matched)
        })
        .unwrap_or_else(ApiError::into_response)
}

fn find_any(routes: &'static [Route], segments: &[String]) -> Option<&'static str> {
    let on_path: Vec<&'static Route> = routes.iter().filter(|r| r.matches_path(segments)).collect();
    (!on_path.is_empty()).then(|| allow_header(&on_path))
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
