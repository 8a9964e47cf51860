//! A push message sent over real HTTP to a receiver on loopback: what arrives is what a
//! browser's push service expects, and only the subscription's keys open it.

mod push_support;

use std::time::Duration;

use push_support::{verify_vapid, Browser};
use serde_json::json;
use spindle_domain::{Instant, NetworkPolicy, Priority};
use spindle_native::testing::{Receiver, Reply};
use spindle_native::UreqHttp;
use spindle_ports::{HttpClient, HttpRequest, Method, Timeouts};
use spindle_webpush::{
    classify, push_request, PushOptions, PushOutcome, PushRequest, PushSubscription, Topic, Ttl,
    Urgency, Vapid, VapidKey, TOKEN_LIFETIME_SECONDS,
};
use uuid::Uuid;

/// 2026-03-01T12:00:00Z
const NOW_MICROS: i64 = 1_772_366_400_000_000;
const SUBJECT: &str = "mailto:ops@spindle.example";

fn vapid() -> Vapid {
    let key = VapidKey::generate().unwrap();
    Vapid::from_config(&key.private_base64url(), SUBJECT).unwrap()
}

fn send(request: &PushRequest) -> spindle_ports::HttpResponse {
    let timeouts = Timeouts {
        connect: Duration::from_secs(2),
        total: Duration::from_secs(5),
    };
    let outgoing = request.headers.iter().fold(
        HttpRequest::new(Method::Post, &request.url, timeouts).body(request.body.clone()),
        |req, (name, value)| req.header(*name, value),
    );
    UreqHttp::new()
        .send(&outgoing)
        .expect("the receiver answers")
}

#[test]
fn a_push_message_arrives_encrypted_for_the_subscription_with_a_valid_vapid_token() {
    let receiver = Receiver::start();
    receiver.script([Reply::Status(201)]);
    let browser = Browser::new();
    let subscription = PushSubscription::parse(
        &browser.subscription(&receiver.url("/wpush/v2/abc")),
        NetworkPolicy::AllowPrivate,
    )
    .unwrap();
    let vapid = vapid();
    let now = Instant::from_micros(NOW_MICROS);
    let reminder = Uuid::new_v4();
    let payload = json!({"title": "Dentist", "body": "in 1 hour"}).to_string();
    let options = PushOptions {
        ttl: Ttl::until(Some(Instant::from_micros(NOW_MICROS + 3_600_000_000)), now),
        urgency: Urgency::for_priority(Priority::P1),
        topic: Some(Topic::for_id(reminder)),
    };

    let request = push_request(&vapid, &subscription, payload.as_bytes(), &options, now).unwrap();
    let response = send(&request);
    assert_eq!(
        classify(response.status, response.header("retry-after"), now),
        PushOutcome::Delivered
    );

    let arrived = receiver.wait_for(1, Duration::from_secs(5)).remove(0);
    assert_eq!(arrived.method, "POST");
    assert_eq!(arrived.target, "/wpush/v2/abc");
    assert_eq!(arrived.header("content-encoding"), Some("aes128gcm"));
    assert_eq!(arrived.header("ttl"), Some("3600"));
    assert_eq!(arrived.header("urgency"), Some("high"));
    assert_eq!(
        arrived.header("topic"),
        Some(reminder.simple().to_string().as_str())
    );
    assert_eq!(browser.decrypt(&arrived.body), payload.as_bytes());

    let token = verify_vapid(
        arrived
            .header("authorization")
            .expect("an Authorization header"),
        vapid.key.public_key(),
    );
    assert_eq!(token.header["alg"], "ES256");
    assert_eq!(
        token.claims["aud"],
        receiver.url(""),
        "the endpoint's origin"
    );
    assert_eq!(token.claims["sub"], SUBJECT);
    assert_eq!(
        token.claims["exp"],
        NOW_MICROS / 1_000_000 + TOKEN_LIFETIME_SECONDS,
        "12 hours from now"
    );
}

#[test]
fn every_message_has_its_own_salt_and_key_and_only_its_subscription_opens_it() {
    let receiver = Receiver::start();
    let browser = Browser::new();
    let stranger = Browser::new();
    let subscription = PushSubscription::parse(
        &browser.subscription(&receiver.url("/p")),
        NetworkPolicy::AllowPrivate,
    )
    .unwrap();
    let options = PushOptions {
        ttl: Ttl::until(None, Instant::from_micros(NOW_MICROS)),
        urgency: Urgency::Normal,
        topic: None,
    };
    let vapid = vapid();
    let now = Instant::from_micros(NOW_MICROS);
    let first = push_request(&vapid, &subscription, b"same", &options, now).unwrap();
    let second = push_request(&vapid, &subscription, b"same", &options, now).unwrap();
    // salt (16 bytes) and the sender's ephemeral public key (65 bytes after rs and idlen).
    assert_ne!(first.body[..16], second.body[..16]);
    assert_ne!(first.body[21..86], second.body[21..86]);
    assert!(!first.headers.iter().any(|(name, _)| *name == "topic"));

    let tampered = {
        let mut body = first.body.clone();
        let last = body.len() - 1;
        body[last] ^= 1;
        body
    };
    for body in [&first.body, &second.body] {
        assert_eq!(browser.decrypt(body), b"same");
    }
    assert_eq!(stranger.try_decrypt(&first.body), None);
    assert_eq!(browser.try_decrypt(&tampered), None);
}
