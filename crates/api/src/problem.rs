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
    #[error("{0}")]
    Unavailable(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<DbError> for ApiError {
    fn from(err: DbError) -> Self {
        match err {
            DbError::Connection(reason) => ApiError::Unavailable(format!(
                "the database is unreachable ({reason}); retry shortly"
            )),
            // Serialization failures and deadlocks are transient by definition.
            DbError::Query { ref code, .. } if code == "40001" || code == "40P01" => {
                ApiError::Unavailable("the request collided with a concurrent one; retry it".into())
            }
            other => ApiError::Internal(other.to_string()),
        }
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
            Unavailable(_) => (
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

    /// The `problem+json` response. Internal details are logged, not sent.
    pub fn into_response(self) -> Response {
        let (status, slug, title) = self.parts();
        let detail = match &self {
            ApiError::Internal(cause) => {
                eprintln!("spindle: internal error: {cause}");
                "something went wrong on our side; the request changed nothing, and retrying may help".to_owned()
            }
            other => other.to_string(),
        };
        let mut body = json!({
            "type": format!("/problems/{slug}"),
            "title": title,
            "status": status.as_u16(),
            "detail": detail,
        });
        match &self {
            ApiError::Validation(errors) => body["errors"] = json!(errors.errors()),
            ApiError::BadParameter { parameter, .. } => body["parameter"] = json!(parameter),
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
            ApiError::Unavailable(_) => builder = builder.header(header::RETRY_AFTER, "1"),
            _ => {}
        }
        builder
            .body(serde_json::to_vec(&body).unwrap_or_default())
            .unwrap_or_else(|_| http::Response::new(Vec::new()))
    }
}
