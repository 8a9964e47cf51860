//! [`UreqHttp`]: the [`HttpClient`] port over the blocking `ureq` client, behaving like
//! Spin's outbound HTTP.
//!
//! Spin's host (3.6) follows no redirect, uses no proxy from the environment, adds no
//! `User-Agent`/`Accept`, and bounds connecting by the connect timeout; the agent here is
//! configured the same way. Every HTTP status is a response, never an error.

use std::io::ErrorKind;

use spindle_ports::{HttpClient, HttpError, HttpRequest, HttpResponse, Method, MAX_RESPONSE_BYTES};
use ureq::config::{AutoHeaderValue, Config};
use ureq::{http, Agent};

/// A native HTTP client sharing one connection pool.
#[derive(Debug, Clone)]
pub struct UreqHttp {
    agent: Agent,
}

impl Default for UreqHttp {
    fn default() -> Self {
        UreqHttp::new()
    }
}

impl UreqHttp {
    pub fn new() -> UreqHttp {
        let config = Config::builder()
            .max_redirects(0)
            .max_redirects_will_error(false)
            .http_status_as_error(false)
            .proxy(None)
            .user_agent(AutoHeaderValue::None)
            .accept(AutoHeaderValue::None)
            .accept_encoding(AutoHeaderValue::None)
            .build();
        UreqHttp {
            agent: Agent::new_with_config(config),
        }
    }
}

impl HttpClient for UreqHttp {
    fn send(&self, request: &HttpRequest) -> Result<HttpResponse, HttpError> {
        let mut builder = http::Request::builder()
            .method(method(request.method))
            .uri(request.url.as_str());
        for (name, value) in &request.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        let built = builder
            .body(request.body.clone())
            .map_err(|err| HttpError::Other(format!("invalid request: {err}")))?;
        let connect = request.timeouts.connect.min(request.timeouts.total);
        let built = self
            .agent
            .configure_request(built)
            .timeout_global(Some(request.timeouts.total))
            .timeout_resolve(Some(connect))
            .timeout_connect(Some(connect))
            .build();
        let mut response = self.agent.run(built).map_err(from_ureq)?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(name, value)| {
                (
                    name.as_str().to_owned(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                )
            })
            .collect();
        let body = response
            .body_mut()
            .with_config()
            .limit(MAX_RESPONSE_BYTES as u64)
            .read_to_vec()
            .map_err(from_ureq)?;
        Ok(HttpResponse {
            status,
            headers,
            body,
        })
    }
}

fn method(method: Method) -> http::Method {
    match method {
        Method::Get => http::Method::GET,
        Method::Post => http::Method::POST,
        Method::Put => http::Method::PUT,
        Method::Patch => http::Method::PATCH,
        Method::Delete => http::Method::DELETE,
        Method::Head => http::Method::HEAD,
    }
}

fn from_ureq(err: ureq::Error) -> HttpError {
    match err {
        ureq::Error::Timeout(which) => HttpError::Timeout(format!("{which:?}")),
        ureq::Error::Io(io) => match io.kind() {
            ErrorKind::ConnectionRefused => HttpError::Refused,
            ErrorKind::TimedOut | ErrorKind::WouldBlock => HttpError::Timeout(io.to_string()),
            _ => HttpError::Other(io.to_string()),
        },
        ureq::Error::BodyExceedsLimit(_) => HttpError::Other(format!(
            "the response body is larger than {MAX_RESPONSE_BYTES} bytes"
        )),
        other => HttpError::Other(other.to_string()),
    }
}
