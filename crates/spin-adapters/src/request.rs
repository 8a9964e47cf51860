//! Reading an incoming request without trusting its size.

use futures::StreamExt;
use spin_sdk::http::IncomingRequest;

/// The request as an `http::Request`, its body read up to `limit + 1` bytes:
/// enough for the handler to see that it is too large (and answer 413) without
/// buffering an arbitrarily large upload.
pub async fn read_request(req: IncomingRequest, limit: usize) -> http::Request<Vec<u8>> {
    let mut builder = http::Request::builder()
        .method(http::Method::from(req.method()))
        .uri(req.uri());
    for (name, value) in req.headers().entries() {
        builder = builder.header(name, value);
    }
    let mut body = Vec::new();
    let mut stream = req.into_body_stream();
    while let Some(chunk) = stream.next().await {
        match chunk {
            Ok(bytes) => body.extend_from_slice(&bytes),
            // A broken upload is treated as what arrived; JSON parsing rejects it.
            Err(_) => break,
        }
        if body.len() > limit {
            break;
        }
    }
    builder
        .body(body)
        .unwrap_or_else(|_| http::Request::new(Vec::new()))
}
