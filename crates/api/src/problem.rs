//! Every error the API can answer with, and its RFC 9457 `problem+json` form.
//! The `type` URIs are stable: clients may branch on them.

use http::{header, StatusCode};
use serde_json::json;
use spindle_domain::FieldErrors;
use spindle_ports::DbError;

use crate::auth::AuthError;
use crate::Response;

/// The longest body accepted, in bytes.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// What a 503 asks the client to wait before retrying, in seconds.
const RETRY_AFTER_SECONDS: &str = "1";

/// The text with the password of any `scheme://user:password@host` address in
/// it masked, since drivers sometimes echo the address they failed to reach.
fn redact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("://") {
        let (head, tail) = rest.split_at(start + 3);
        out.push_str(head);
        let authority_end = tail
            .find(|c: char| c == '/' || c == '?' || c.is_whitespace() || c == '"')
            .unwrap_or(tail.len());
        let authority = &tail[..authority_end];
        match (authority.rfind('@'), authority.find(':')) {
            (Some(at), Some(colon)) if colon < at => {
                out.push_str(&authority[..colon]);
                out.push_str(":***");
                out.push_str(&authority[at..]);
            }
            _ => out.push_str(authority),
        }
        rest = &tail[authority_end..];
    }
    out.push_str(rest);
    out
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    Unauthorized(AuthError),
    #[error("the admin or internal token is missing or wrong")]
    BadToken,
    #[error("{0}")]
    NotFound(String),
    #[error("{method} is not allowed here")]
    MethodNotAllowed { method: String, allow: String },
    #[error("{0}")]
    Validation(FieldErrors),
    #[error("{detail}")]
    BadParameter { parameter: String, detail: String },
    #[error("{0}")]
    BadRequest(String),
    #[error("the body must be JSON: send `Content-Type: application/json`")]
    UnsupportedMediaType,
    #[error("the body is larger than {MAX_BODY_BYTES} bytes")]
    PayloadTooLarge,
    #[error("the task has changed since you read it (it is now at version {current}); fetch it again and retry")]
    PreconditionFailed { current: i64 },
    #[error("this Idempotency-Key was already used with a different request; use a new key for a new request")]
    IdempotencyMismatch,
    #[error("{0}")]
    Conflict(String),
    /// A change-feed cursor behind what retention deleted; `resync_cursor` is
    /// where to follow the feed from after listing the tasks again.
    #[error("{detail}")]
    Gone {
        detail: String,
        resync_cursor: String,
    },
    #[error("{0}")]
    Unavailable(String),
    /// The database (or another host service) failed or is saturated. `cause` is
    /// the driver's text: logged with the request id, never sent.
    #[error("the service is temporarily unavailable: {cause}")]
    Outage { cause: String },
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<DbError> for ApiError {
    fn from(err: DbError) -> Self {
        if is_transient(&err) {
            ApiError::Outage {
                cause: err.to_string(),
            }
        } else {
            ApiError::Internal(err.to_string())
        }
    }
}

/// Whether a retry after a short pause can succeed: the database is
/// unreachable or refuses new clients, or the statement lost a race.
fn is_transient(err: &DbError) -> bool {
    match err {
        DbError::Connection(_) => true,
        DbError::Query { code, message } => {
            // 40001 serialization failure, 40P01 deadlock; class 08 connection
            // exceptions; class 53 insufficient resources (53300 "sorry, too many
            // clients already"); 57P01–57P03 shutting down or not yet accepting.
            matches!(code.as_str(), "40001" | "40P01" | "57P01" | "57P02" | "57P03")
                || code.starts_with("08")
                || code.starts_with("53")
                // Spin reports some of these as untyped text, without a SQLSTATE.
                || (code.is_empty() && {
                    let text = message.to_ascii_lowercase();
                    text.contains("too many clients")
                        || text.contains("too many connections")
                        || text.contains("connection refused")
                        || text.contains("connection closed")
                        || text.contains("timed out")
                })
        }
        _ => false,
    }
}

impl From<FieldErrors> for ApiError {
    fn from(errors: FieldErrors) -> Self {
        ApiError::Validation(errors)
    }
}

impl ApiError {
    pub fn bad_parameter(parameter: &str, detail: impl Into<String>) -> Self {
        ApiError::BadParameter {
            parameter: parameter.to_owned(),
            detail: detail.into(),
        }
    }

    fn parts(&self) -> (StatusCode, &'static str, &'static str) {
        use ApiError::*;
        match self {
            Unauthorized(_) => (
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "Authentication required",
            ),
            BadToken => (
                StatusCode::UNAUTHORIZED,
                "bad-token",
                "Authentication required",
            ),
            NotFound(_) => (StatusCode::NOT_FOUND, "not-found", "Not found"),
            MethodNotAllowed { .. } => (
                StatusCode::METHOD_NOT_ALLOWED,
                "method-not-allowed",
                "Method not allowed",
            ),
            Validation(_) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation",
                "The request has invalid fields",
            ),
            BadParameter { .. } => (
                StatusCode::BAD_REQUEST,
                "bad-parameter",
                "A query parameter is invalid",
            ),
            BadRequest(_) => (
                StatusCode::BAD_REQUEST,
                "bad-request",
                "The request is malformed",
            ),
            UnsupportedMediaType => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "Unsupported media type",
            ),
            PayloadTooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload-too-large",
                "The body is too large",
            ),
            PreconditionFailed { .. } => (
                StatusCode::PRECONDITION_FAILED,
                "precondition-failed",
                "The task has changed",
            ),
            IdempotencyMismatch => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency-key-reused",
                "Idempotency-Key reused",
            ),
            Conflict(_) => (StatusCode::CONFLICT, "conflict", "Conflict"),
            Gone { .. } => (
                StatusCode::GONE,
                "cursor-expired",
                "The cursor is older than the kept events",
            ),
            Unavailable(_) | Outage { .. } => (
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "Temporarily unavailable",
            ),
            Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Internal error",
            ),
        }
    }

    /// The `problem+json` response of request `request_id`, which it carries
    /// (as `request_id`) when the fault is ours. What the driver or host said is
    /// logged on stderr with that id, never sent.
    pub fn into_response(self, request_id: &str) -> Response {
        let (status, slug, title) = self.parts();
        let detail = match &self {
            ApiError::Internal(cause) => {
                eprintln!(
                    "spindle: request {request_id}: internal error: {}",
                    redact(cause)
                );
                "something went wrong on our side; the request changed nothing, and retrying may help".to_owned()
            }
            ApiError::Outage { cause } => {
                eprintln!(
                    "spindle: request {request_id}: service unavailable: {}",
                    redact(cause)
                );
                format!(
                    "the service is busy or a service it depends on is unreachable; the request \
                     changed nothing: retry after {RETRY_AFTER_SECONDS} s (quote request {request_id} \
                     if this lasts)"
                )
            }
            other => other.to_string(),
        };
        let mut body = json!({
            "type": format!("/problems/{slug}"),
            "title": title,
            "status": status.as_u16(),
            "detail": detail,
        });
        if status.is_server_error() {
            body["request_id"] = json!(request_id);
        }
        match &self {
            ApiError::Validation(errors) => body["errors"] = json!(errors.errors()),
            ApiError::BadParameter { parameter, .. } => body["parameter"] = json!(parameter),
            ApiError::Gone { resync_cursor, .. } => body["resync_cursor"] = json!(resync_cursor),
            _ => {}
        }
        let mut builder = http::Response::builder()
            .status(status)
            .header(header::CONTENT_TYPE, "application/problem+json");
        match &self {
            ApiError::Unauthorized(err) => {
                let error = if matches!(err, AuthError::Missing) {
                    ""
                } else {
                    ", error=\"invalid_token\""
                };
                builder = builder.header(
                    header::WWW_AUTHENTICATE,
                    format!("Bearer realm=\"spindle\"{error}"),
                );
            }
            ApiError::BadToken => {
                builder = builder.header(header::WWW_AUTHENTICATE, "Bearer realm=\"spindle-admin\"")
            }
            ApiError::MethodNotAllowed { allow, .. } => {
                builder = builder.header(header::ALLOW, allow.as_str())
            }
            ApiError::Unavailable(_) | ApiError::Outage { .. } => {
                builder = builder.header(header::RETRY_AFTER, RETRY_AFTER_SECONDS)
            }
            _ => {}
        }
        builder
            .body(serde_json::to_vec(&body).unwrap_or_default())
            .unwrap_or_else(|_| http::Response::new(Vec::new()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_in_addresses_are_masked_in_logs() {
        assert_eq!(
            redact("error connecting to postgres://app:s3cret@db:5432/spindle?sslmode=disable: refused"),
            "error connecting to postgres://app:***@db:5432/spindle?sslmode=disable: refused"
        );
        assert_eq!(redact("redis://db:6379 down"), "redis://db:6379 down");
    }

    #[test]
    fn a_saturated_or_unreachable_database_is_transient_and_a_bad_statement_is_not() {
        let query = |code: &str, message: &str| DbError::Query {
            code: code.into(),
            message: message.into(),
        };
        assert!(is_transient(&query(
            "53300",
            "sorry, too many clients already"
        )));
        assert!(is_transient(&query(
            "",
            "db error: FATAL: sorry, too many clients already"
        )));
        assert!(is_transient(&query(
            "57P03",
            "the database system is starting up"
        )));
        assert!(is_transient(&DbError::Connection("refused".into())));
        assert!(!is_transient(&query("42601", "syntax error")));
        assert!(!is_transient(&DbError::Decode("bad column".into())));
    }
}
