//! The outbound HTTP port: one request out, one response back, with timeouts.
//!
//! Modelled on what Spin's host does for `wasi:http/outgoing-handler` (Spin 3.6): no
//! redirect is followed (a 3xx comes back as the response), no `Host` header is sent by
//! the caller, the connect timeout covers DNS and TCP, and every failure is one of a few
//! kinds a caller can act on (retry a timeout or a refused connection, give up on the
//! rest). Both adapters read at most [`MAX_RESPONSE_BYTES`] of a response body.

use std::time::Duration;

/// The largest response body an adapter reads; a longer one is an [`HttpError::Other`].
/// Webhook receivers and key servers answer with a few kilobytes at most.
pub const MAX_RESPONSE_BYTES: usize = 1024 * 1024;

/// The request methods Spindle sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Put,
    Patch,
    Delete,
    Head,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
            Method::Head => "HEAD",
        }
    }
}

/// How long a request may take: `connect` bounds name resolution plus the TCP (and TLS)
/// connection; `total` bounds everything from the start of the call to the last byte
/// of the response body, so a receiver that accepts and never answers, or answers a
/// byte a minute, costs at most `total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    pub connect: Duration,
    pub total: Duration,
}

/// One outgoing request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequest {
    pub method: Method,
    /// An absolute `http://` or `https://` URL.
    pub url: String,
    /// Header names and values, in order; a name may repeat.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub timeouts: Timeouts,
}

impl HttpRequest {
    /// A request without headers or body.
    pub fn new(method: Method, url: impl Into<String>, timeouts: Timeouts) -> HttpRequest {
        HttpRequest {
            method,
            url: url.into(),
            headers: Vec::new(),
            body: Vec::new(),
            timeouts,
        }
    }

    #[must_use]
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> HttpRequest {
        self.headers.push((name.into(), value.into()));
        self
    }

    #[must_use]
    pub fn body(mut self, body: Vec<u8>) -> HttpRequest {
        self.body = body;
        self
    }
}

/// The answer: any status, redirects included, is a response, not an error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    pub status: u16,
    /// Header names in lower case, with their values, in the order received.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Why no response came back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HttpError {
    /// The connect or the total timeout ran out.
    #[error("the request timed out: {0}")]
    Timeout(String),
    /// Nothing listens at the address (TCP connection refused).
    #[error("the connection was refused")]
    Refused,
    /// The platform refused to connect to the address (Spin's `block_networks`, or a
    /// host missing from `allowed_outbound_hosts`).
    #[error("the destination is not allowed: {0}")]
    Prohibited(String),
    /// Anything else: a bad URL, DNS failure, TLS failure, a broken response.
    #[error("the request failed: {0}")]
    Other(String),
}

impl HttpError {
    /// Whether trying again later may succeed (the receiver was slow or down).
    pub fn is_transient(&self) -> bool {
        matches!(self, HttpError::Timeout(_) | HttpError::Refused)
    }
}

/// Sends HTTP requests (Spin's `wasi:http/outgoing-handler`, or a native client).
pub trait HttpClient {
    fn send(&self, request: &HttpRequest) -> Result<HttpResponse, HttpError>;
}
