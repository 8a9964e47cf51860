//! [`SpinHttp`]: the [`HttpClient`] port over Spin's `wasi:http/outgoing-handler@0.2.0`.
//!
//! `spin_sdk::http::send` passes no request options, so the host's default timeouts
//! (600 s) would apply; this adapter calls the outgoing handler itself with
//! `connect-timeout`, `first-byte-timeout` and `between-bytes-timeout`, and waits on the
//! response, and on each body chunk, together with a monotonic-clock deadline, so the
//! whole call ends within the total timeout however the receiver dribbles its answer.
//! It blocks the instance while waiting (`wasi:io/poll`), which is what a handler that
//! does one thing at a time wants, and needs no async executor.
//!
//! Spin's host follows no redirects, removes any `Host` header, and reports a refused
//! connection, a timeout and a `block_networks` refusal as distinct error codes, which
//! map onto [`HttpError`]'s kinds.

use spin_sdk::wit::wasi::http0_2_0::outgoing_handler;
use spin_sdk::wit::wasi::http0_2_0::types::{
    ErrorCode, Fields, FutureIncomingResponse, IncomingResponse, Method as WasiMethod,
    OutgoingBody, OutgoingRequest, RequestOptions, Scheme,
};
use spindle_ports::{HttpClient, HttpError, HttpRequest, HttpResponse, Method, MAX_RESPONSE_BYTES};
use wasi::clocks::monotonic_clock;
use wasi::io::poll::{self, Pollable};
use wasi::io::streams::{InputStream, OutputStream, StreamError};

/// Sends requests through Spin's outbound HTTP (the URL's host must be in the
/// component's `allowed_outbound_hosts`).
#[derive(Debug, Clone, Copy, Default)]
pub struct SpinHttp;

impl HttpClient for SpinHttp {
    fn send(&self, request: &HttpRequest) -> Result<HttpResponse, HttpError> {
        let deadline = Deadline::after(request.timeouts.total);
        let outgoing = build(request)?;
        let body = outgoing
            .body()
            .map_err(|()| HttpError::Other("the request body was already taken".into()))?;
        let options = options(request)?;
        let future = outgoing_handler::handle(outgoing, Some(options)).map_err(from_code)?;
        write_body(body, &request.body, &deadline)?;
        let response = wait_for_response(&future, &deadline)?;
        read_response(response, &deadline)
    }
}

/// The instant by which the whole call must be over, as a pollable that becomes
/// ready then.
struct Deadline {
    at: monotonic_clock::Instant,
}

impl Deadline {
    fn after(total: std::time::Duration) -> Deadline {
        let nanos = u64::try_from(total.as_nanos()).unwrap_or(u64::MAX);
        Deadline {
            at: monotonic_clock::now().saturating_add(nanos),
        }
    }

    /// Blocks until `ready` can make progress; `Err` when the deadline comes first.
    fn wait(&self, ready: &Pollable) -> Result<(), HttpError> {
        let timer = monotonic_clock::subscribe_instant(self.at);
        let woken = poll::poll(&[ready, &timer]);
        if woken.contains(&0) {
            Ok(())
        } else {
            Err(HttpError::Timeout(
                "no complete response within the total timeout".into(),
            ))
        }
    }
}

fn build(request: &HttpRequest) -> Result<OutgoingRequest, HttpError> {
    let uri: http::Uri = request
        .url
        .parse()
        .map_err(|err| HttpError::Other(format!("invalid URL {:?}: {err}", request.url)))?;
    let scheme = match uri.scheme_str() {
        Some("https") => Scheme::Https,
        Some("http") => Scheme::Http,
        _ => {
            return Err(HttpError::Other(
                "the URL must start with http:// or https://".into(),
            ))
        }
    };
    let authority = uri
        .authority()
        .ok_or_else(|| HttpError::Other("the URL has no host".into()))?;
    let mut entries: Vec<(String, Vec<u8>)> = request
        .headers
        .iter()
        .map(|(name, value)| (name.to_ascii_lowercase(), value.clone().into_bytes()))
        .collect();
    // Without a length Spin sends the body chunked, and receivers that read
    // only `Content-Length` see an empty body; the whole body is in hand.
    if !request.body.is_empty() && !entries.iter().any(|(name, _)| name == "content-length") {
        entries.push((
            "content-length".to_owned(),
            request.body.len().to_string().into_bytes(),
        ));
    }
    let headers = Fields::from_list(&entries)
        .map_err(|err| HttpError::Other(format!("a request header is not allowed: {err:?}")))?;
    let outgoing = OutgoingRequest::new(headers);
    let refused = |what: &str| HttpError::Other(format!("the host refused the request {what}"));
    outgoing
        .set_method(&method(request.method))
        .map_err(|()| refused("method"))?;
    outgoing
        .set_scheme(Some(&scheme))
        .map_err(|()| refused("scheme"))?;
    outgoing
        .set_authority(Some(authority.as_str()))
        .map_err(|()| refused("authority"))?;
    let path = uri.path_and_query().map_or("/", |pq| pq.as_str());
    outgoing
        .set_path_with_query(Some(path))
        .map_err(|()| refused("path"))?;
    Ok(outgoing)
}

fn method(method: Method) -> WasiMethod {
    match method {
        Method::Get => WasiMethod::Get,
        Method::Post => WasiMethod::Post,
        Method::Put => WasiMethod::Put,
        Method::Patch => WasiMethod::Patch,
        Method::Delete => WasiMethod::Delete,
        Method::Head => WasiMethod::Head,
    }
}

/// The connect timeout as given; first byte and between bytes bounded by the total,
/// which [`Deadline`] enforces exactly.
fn options(request: &HttpRequest) -> Result<RequestOptions, HttpError> {
    let nanos = |d: std::time::Duration| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
    let options = RequestOptions::new();
    let connect = nanos(request.timeouts.connect.min(request.timeouts.total));
    let total = nanos(request.timeouts.total);
    options
        .set_connect_timeout(Some(connect))
        .and_then(|()| options.set_first_byte_timeout(Some(total)))
        .and_then(|()| options.set_between_bytes_timeout(Some(total)))
        .map_err(|()| HttpError::Other("the host does not accept request timeouts".into()))?;
    Ok(options)
}

fn write_body(body: OutgoingBody, bytes: &[u8], deadline: &Deadline) -> Result<(), HttpError> {
    let stream = body
        .write()
        .map_err(|()| HttpError::Other("the request body cannot be written".into()))?;
    write_all(&stream, bytes, deadline)?;
    drop(stream);
    OutgoingBody::finish(body, None).map_err(from_code)
}

fn write_all(
    stream: &OutputStream,
    mut bytes: &[u8],
    deadline: &Deadline,
) -> Result<(), HttpError> {
    let broken = |err: StreamError| HttpError::Other(format!("sending the body failed: {err:?}"));
    while !bytes.is_empty() {
        let room = stream.check_write().map_err(broken)?;
        if room == 0 {
            deadline.wait(&stream.subscribe())?;
            continue;
        }
        let n = usize::try_from(room).unwrap_or(usize::MAX).min(bytes.len());
        stream.write(&bytes[..n]).map_err(broken)?;
        bytes = &bytes[n..];
    }
    stream.flush().map_err(broken)?;
    // `flush` completes when `check-write` reports room again.
    loop {
        match stream.check_write() {
            Ok(0) => deadline.wait(&stream.subscribe())?,
            Ok(_) => return Ok(()),
            Err(err) => return Err(broken(err)),
        }
    }
}

fn wait_for_response(
    future: &FutureIncomingResponse,
    deadline: &Deadline,
) -> Result<IncomingResponse, HttpError> {
    loop {
        match future.get() {
            Some(Ok(Ok(response))) => return Ok(response),
            Some(Ok(Err(code))) => return Err(from_code(code)),
            Some(Err(())) => return Err(HttpError::Other("the response was already taken".into())),
            None => deadline.wait(&future.subscribe())?,
        }
    }
}

fn read_response(
    response: IncomingResponse,
    deadline: &Deadline,
) -> Result<HttpResponse, HttpError> {
    let status = response.status();
    let headers = response
        .headers()
        .entries()
        .into_iter()
        .map(|(name, value)| (name, String::from_utf8_lossy(&value).into_owned()))
        .collect();
    let body = response
        .consume()
        .map_err(|()| HttpError::Other("the response body was already taken".into()))?;
    let stream = body
        .stream()
        .map_err(|()| HttpError::Other("the response body cannot be read".into()))?;
    let bytes = read_all(&stream, deadline)?;
    drop(stream);
    drop(body);
    Ok(HttpResponse {
        status,
        headers,
        body: bytes,
    })
}

fn read_all(stream: &InputStream, deadline: &Deadline) -> Result<Vec<u8>, HttpError> {
    let mut bytes = Vec::new();
    loop {
        match stream.read(64 * 1024) {
            Ok(chunk) if chunk.is_empty() => deadline.wait(&stream.subscribe())?,
            Ok(chunk) => {
                bytes.extend_from_slice(&chunk);
                if bytes.len() > MAX_RESPONSE_BYTES {
                    return Err(HttpError::Other(format!(
                        "the response body is larger than {MAX_RESPONSE_BYTES} bytes"
                    )));
                }
            }
            Err(StreamError::Closed) => return Ok(bytes),
            Err(StreamError::LastOperationFailed(err)) => {
                return Err(match wasi_http_error(&err) {
                    Some(code) => from_code(code),
                    None => HttpError::Other(format!(
                        "reading the response failed: {}",
                        err.to_debug_string()
                    )),
                })
            }
        }
    }
}

/// The wasi-http error code behind a stream error, when the host attached one.
fn wasi_http_error(err: &wasi::io::error::Error) -> Option<ErrorCode> {
    spin_sdk::wit::wasi::http0_2_0::types::http_error_code(err)
}

fn from_code(code: ErrorCode) -> HttpError {
    match code {
        ErrorCode::ConnectionRefused => HttpError::Refused,
        ErrorCode::ConnectionTimeout
        | ErrorCode::ConnectionReadTimeout
        | ErrorCode::ConnectionWriteTimeout
        | ErrorCode::HttpResponseTimeout
        | ErrorCode::DnsTimeout => HttpError::Timeout(format!("{code:?}")),
        ErrorCode::DestinationIpProhibited | ErrorCode::HttpRequestDenied => {
            HttpError::Prohibited(format!("{code:?}"))
        }
        other => HttpError::Other(format!("{other:?}")),
    }
}
