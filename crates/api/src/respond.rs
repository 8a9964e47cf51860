//! Building responses and reading requests.

use http::{header, HeaderMap, StatusCode};
use serde::Serialize;

use crate::problem::{ApiError, MAX_BODY_BYTES};
use crate::{Request, Response};

/// A JSON response.
pub fn json(status: StatusCode, body: &impl Serialize) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    http::Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .body(bytes)
        .unwrap_or_else(|_| http::Response::new(Vec::new()))
}

/// `response` naming where the resource it describes lives.
pub fn with_location(mut response: Response, path: &str) -> Response {
    if let Ok(location) = header::HeaderValue::from_str(path) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}

pub fn no_content() -> Response {
    http::Response::builder()
        .status(StatusCode::NO_CONTENT)
        .body(Vec::new())
        .unwrap_or_else(|_| http::Response::new(Vec::new()))
}

/// The path split into non-empty segments, percent-decoded.
pub fn segments(req: &Request) -> Vec<String> {
    req.uri()
        .path()
        .split('/')
        .filter(|s| !s.is_empty())
        .map(percent_decode)
        .collect()
}

fn percent_decode(segment: &str) -> String {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap_or_else(|_| segment.to_owned())
}

pub fn header(headers: &HeaderMap, name: impl header::AsHeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Refuses bodies over the limit, whatever the declared length says.
pub fn check_size(req: &Request) -> Result<(), ApiError> {
    let declared =
        header(req.headers(), header::CONTENT_LENGTH).and_then(|v| v.parse::<usize>().ok());
    if req.body().len() > MAX_BODY_BYTES || declared.is_some_and(|n| n > MAX_BODY_BYTES) {
        return Err(ApiError::PayloadTooLarge);
    }
    Ok(())
}

/// 415 unless the body is declared JSON (`application/json` or `application/*+json`).
pub fn require_json(req: &Request) -> Result<(), ApiError> {
    let content_type = header(req.headers(), header::CONTENT_TYPE).unwrap_or("");
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let is_json = essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"));
    if is_json {
        Ok(())
    } else {
        Err(ApiError::UnsupportedMediaType)
    }
}

/// The body as a JSON object: 415 unless it is declared JSON, 400 when it does
/// not parse, 422 when it is not an object.
pub fn json_object(req: &Request) -> Result<serde_json::Map<String, serde_json::Value>, ApiError> {
    require_json(req)?;
    if req.body().iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::BadRequest(
            "the body is empty; send a JSON object".into(),
        ));
    }
    let value: serde_json::Value = serde_json::from_slice(req.body())
        .map_err(|e| ApiError::BadRequest(format!("the body is not valid JSON: {e}")))?;
    match value {
        serde_json::Value::Object(map) => Ok(map),
        _ => Err(ApiError::Validation(spindle_domain::FieldErrors::single(
            "",
            "the body must be a JSON object",
        ))),
    }
}

/// The query string as (name, value) pairs, percent-decoded.
pub fn query_pairs(req: &Request) -> Vec<(String, String)> {
    req.uri()
        .query()
        .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default()
}

/// Refuses query parameters a route does not know, so a typo is not silently ignored.
pub fn only_params(pairs: &[(String, String)], known: &[&str]) -> Result<(), ApiError> {
    match pairs
        .iter()
        .find(|(name, _)| !known.contains(&name.as_str()))
    {
        Some((name, _)) => Err(ApiError::bad_parameter(
            name,
            format!(
                "unknown query parameter {name:?}; accepted: {}",
                known.join(", ")
            ),
        )),
        None => Ok(()),
    }
}

/// Typed access to query parameters, each error naming its parameter.
pub struct QueryParams<'a>(pub &'a [(String, String)]);

impl<'a> QueryParams<'a> {
    pub fn single(&self, name: &str) -> Result<Option<&'a str>, ApiError> {
        let mut values = self
            .0
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str());
        let first = values.next();
        if values.next().is_some() {
            return Err(ApiError::bad_parameter(
                name,
                format!("{name} may be given only once"),
            ));
        }
        Ok(first)
    }

    /// Repeated and comma-separated values alike: `tag=a&tag=b` or `tag=a,b`.
    pub fn list(&self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(n, _)| n == name)
            .flat_map(|(_, v)| v.split(','))
            .map(str::trim)
            .filter(|v| !v.is_empty())
    }

    pub fn boolean(&self, name: &str) -> Result<Option<bool>, ApiError> {
        match self.single(name)? {
            None => Ok(None),
            Some("true") => Ok(Some(true)),
            Some("false") => Ok(Some(false)),
            Some(other) => Err(ApiError::bad_parameter(
                name,
                format!("{name} must be true or false, not {other:?}"),
            )),
        }
    }

    /// `limit`: a whole number from 1 to `max`, `default` when absent.
    pub fn limit(&self, default: u32, max: u32) -> Result<u32, ApiError> {
        self.whole_number("limit", default, 1..=max)
    }

    /// A whole number within `range`, `default` when absent.
    pub fn whole_number(
        &self,
        name: &str,
        default: u32,
        range: std::ops::RangeInclusive<u32>,
    ) -> Result<u32, ApiError> {
        match self.single(name)? {
            None => Ok(default),
            Some(raw) => raw
                .parse::<u32>()
                .ok()
                .filter(|n| range.contains(n))
                .ok_or_else(|| {
                    ApiError::bad_parameter(
                        name,
                        format!(
                            "{name} must be a whole number from {} to {}",
                            range.start(),
                            range.end()
                        ),
                    )
                }),
        }
    }
}
