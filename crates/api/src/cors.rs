//! CORS for the origins listed in `cors_allowed_origins` (comma-separated;
//! `*` allows any origin), with preflight.

use http::{header, HeaderValue, Method, StatusCode};

use crate::respond::header;
use crate::{Request, Response};

const ALLOWED_HEADERS: &str =
    "Authorization, Content-Type, If-Match, If-None-Match, Idempotency-Key";
/// What a browser script may read: `X-Request-Id` is what a user quotes when
/// reporting a failed request.
const EXPOSED_HEADERS: &str = "ETag, Location, Retry-After, Idempotent-Replayed, X-Request-Id";
const MAX_AGE_SECONDS: &str = "600";

pub struct Cors {
    origins: Vec<String>,
}

impl Cors {
    /// The policy for `req`. The `cors_allowed_origins` variable is read only
    /// when the request names an origin (a browser page's): every decision here
    /// depends on that header, and under Spin each variable read costs about as
    /// much as a third of a bare request.
    pub fn for_request(req: &Request, config: &dyn spindle_ports::Config) -> Self {
        let setting = header(req.headers(), header::ORIGIN)
            .and_then(|_| config.get(crate::settings::CORS_ALLOWED_ORIGINS));
        Cors::new(setting.as_deref())
    }

    pub fn new(setting: Option<&str>) -> Self {
        let origins = setting
            .unwrap_or("")
            .split(',')
            .map(|o| o.trim().trim_end_matches('/').to_owned())
            .filter(|o| !o.is_empty())
            .collect();
        Cors { origins }
    }

    fn allowed<'r>(&self, req: &'r Request) -> Option<&'r str> {
        let origin = header(req.headers(), header::ORIGIN)?;
        self.origins
            .iter()
            .any(|allowed| allowed == "*" || allowed.eq_ignore_ascii_case(origin))
            .then_some(origin)
    }

    pub fn is_preflight(req: &Request) -> bool {
        req.method() == Method::OPTIONS
            && req
                .headers()
                .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
    }

    /// Whether the request comes from a browser page whose origin is not allowed.
    pub fn refuses(&self, req: &Request) -> bool {
        header(req.headers(), header::ORIGIN).is_some() && self.allowed(req).is_none()
    }

    /// Answers a preflight: 204 with the grants when the origin is allowed,
    /// 204 without them otherwise (the browser then blocks the real request).
    pub fn preflight(&self, req: &Request, allow: &str) -> Response {
        self.preflight_with_headers(req, allow, ALLOWED_HEADERS)
    }

    /// [`Cors::preflight`] for an endpoint whose clients send other request headers.
    pub fn preflight_with_headers(
        &self,
        req: &Request,
        allow: &str,
        request_headers: &'static str,
    ) -> Response {
        let mut response = http::Response::builder()
            .status(StatusCode::NO_CONTENT)
            .header(header::VARY, "Origin")
            .body(Vec::new())
            .unwrap_or_else(|_| http::Response::new(Vec::new()));
        if let Some(origin) = self
            .allowed(req)
            .and_then(|o| HeaderValue::from_str(o).ok())
        {
            let headers = response.headers_mut();
            headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
            headers.insert(
                header::ACCESS_CONTROL_ALLOW_METHODS,
                HeaderValue::from_str(allow).unwrap_or(HeaderValue::from_static("GET")),
            );
            headers.insert(
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                HeaderValue::from_static(request_headers),
            );
            headers.insert(
                header::ACCESS_CONTROL_MAX_AGE,
                HeaderValue::from_static(MAX_AGE_SECONDS),
            );
        }
        response
    }

    /// Adds the CORS headers of an actual response.
    pub fn decorate(&self, req: &Request, response: &mut Response) {
        let headers = response.headers_mut();
        headers.append(header::VARY, HeaderValue::from_static("Origin"));
        if let Some(origin) = self
            .allowed(req)
            .and_then(|o| HeaderValue::from_str(o).ok())
        {
            headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
            headers.insert(
                header::ACCESS_CONTROL_EXPOSE_HEADERS,
                HeaderValue::from_static(EXPOSED_HEADERS),
            );
        }
    }
}
