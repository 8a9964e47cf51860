//! The native outbound HTTP adapter against a real server on loopback: it must behave
//! like Spin's host (statuses are responses, no redirects, timeouts, refused connections).

use std::net::TcpListener;
use std::time::{Duration, Instant};

use spindle_native::testing::{Receiver, Reply};
use spindle_native::UreqHttp;
use spindle_ports::{HttpClient, HttpError, HttpRequest, Method, Timeouts};

const QUICK: Timeouts = Timeouts {
    connect: Duration::from_secs(2),
    total: Duration::from_secs(2),
};

#[test]
fn a_post_arrives_with_its_headers_and_body() {
    let receiver = Receiver::start();
    let request = HttpRequest::new(Method::Post, receiver.url("/hook?x=1"), QUICK)
        .header("Content-Type", "application/json")
        .header("webhook-id", "abc")
        .body(br#"{"a":1}"#.to_vec());
    let response = UreqHttp::new().send(&request).expect("a response");
    assert_eq!(response.status, 200);
    let got = receiver.received();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].method, "POST");
    assert_eq!(got[0].target, "/hook?x=1");
    assert_eq!(got[0].header("webhook-id"), Some("abc"));
    assert_eq!(got[0].body, br#"{"a":1}"#);
}

#[test]
fn an_error_status_is_a_response_not_an_error() {
    let receiver = Receiver::start();
    receiver.script([Reply::Status(503), Reply::Status(410)]);
    let http = UreqHttp::new();
    let request = HttpRequest::new(Method::Post, receiver.url("/"), QUICK);
    assert_eq!(http.send(&request).map(|r| r.status), Ok(503));
    assert_eq!(http.send(&request).map(|r| r.status), Ok(410));
}

#[test]
fn a_redirect_is_returned_not_followed() {
    let receiver = Receiver::start();
    let elsewhere = Receiver::start();
    receiver.script([Reply::Redirect(302, elsewhere.url("/"))]);
    let request = HttpRequest::new(Method::Post, receiver.url("/"), QUICK);
    let response = UreqHttp::new().send(&request).expect("a response");
    assert_eq!(response.status, 302);
    assert_eq!(
        response.header("Location"),
        Some(elsewhere.url("/").as_str())
    );
    assert!(elsewhere.received().is_empty());
}

#[test]
fn a_receiver_that_never_answers_times_out_within_the_total_timeout() {
    let receiver = Receiver::start();
    receiver.answer_always(Reply::Hang);
    let timeouts = Timeouts {
        connect: Duration::from_secs(1),
        total: Duration::from_millis(500),
    };
    let started = Instant::now();
    let result = UreqHttp::new().send(&HttpRequest::new(Method::Post, receiver.url("/"), timeouts));
    assert!(matches!(result, Err(HttpError::Timeout(_))), "{result:?}");
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[test]
fn nothing_listening_is_a_refused_connection() {
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr").port()
    };
    let url = format!("http://127.0.0.1:{port}/");
    let result = UreqHttp::new().send(&HttpRequest::new(Method::Post, url, QUICK));
    assert_eq!(result, Err(HttpError::Refused));
    assert!(HttpError::Refused.is_transient());
}
