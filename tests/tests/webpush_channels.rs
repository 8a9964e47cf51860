//! Web Push channels through `/api/channels` and the key a browser subscribes with, through
//! the HTTP handlers against a real database, Redis, a notifier thread and a push service
//! on loopback.

mod api_support;
mod push_support;

use std::time::Duration;

use api_support::{App, NOW_MICROS};
use push_support::{verify_vapid, Browser};
use serde_json::{json, Value};
use spindle_api::settings;
use spindle_domain::{Instant, NetworkPolicy};
use spindle_native::testing::{Receiver, Reply, TestRedis};
use spindle_webpush::{
    push_request, PushOptions, PushSubscription, Ttl, Urgency, Vapid, VapidKey,
    TOKEN_LIFETIME_SECONDS,
};

const SUBJECT: &str = "mailto:ops@spindle.example";

fn app_with_vapid() -> (App, VapidKey) {
    let key = VapidKey::generate().unwrap();
    let mut app = App::new();
    app.config = app
        .config
        .clone()
        .with(settings::VAPID_PRIVATE_KEY, key.private_base64url())
        .with(settings::VAPID_SUBJECT, SUBJECT);
    (app, key)
}

fn register(app: &App, user: &str, subscription: Value) -> api_support::Resp {
    app.post(
        user,
        "/api/channels",
        &json!({ "type": "web_push", "subscription": subscription }),
    )
}

#[test]
fn a_malformed_subscription_is_a_422_naming_the_field() {
    let (app, _) = app_with_vapid();
    let good = Browser::new().subscription("https://push.example.net/wpush/v2/abc");
    let with = |pointer: &str, value: Value| {
        let mut s = good.clone();
        *s.pointer_mut(pointer).unwrap() = value;
        s
    };
    let mut off_curve = good["keys"]["p256dh"].as_str().unwrap().to_owned();
    off_curve.replace_range(
        80..,
        if off_curve.ends_with('A') {
            "BBBBBBB"
        } else {
            "AAAAAAA"
        },
    );
    for (case, subscription, field) in [
        (
            "a point off the curve",
            with("/keys/p256dh", json!(off_curve)),
            "subscription.keys.p256dh",
        ),
        (
            "a short auth secret",
            with("/keys/auth", json!("c2hvcnQ")),
            "subscription.keys.auth",
        ),
        (
            "an http endpoint",
            with("/endpoint", json!("http://push.example.net/x")),
            "subscription.endpoint",
        ),
        (
            "a private host",
            with("/endpoint", json!("https://10.0.0.7/push")),
            "subscription.endpoint",
        ),
        (
            "localhost",
            with("/endpoint", json!("https://localhost/push")),
            "subscription.endpoint",
        ),
        (
            "no keys",
            json!({"endpoint": "https://push.example.net/x"}),
            "subscription.keys",
        ),
    ] {
        let resp = register(&app, "alice", subscription);
        assert_eq!(resp.status, 422, "{case}: {:?}", resp.body);
        assert_eq!(resp.error_fields(), [field], "{case}: {:?}", resp.body);
    }
    let missing = app.post("alice", "/api/channels", &json!({ "type": "web_push" }));
    assert_eq!(missing.error_fields(), ["subscription"]);
    assert_eq!(app.get("alice", "/api/channels").body["items"], json!([]));
}

#[test]
fn the_same_subscription_twice_is_one_channel_managed_like_a_webhook() {
    let (app, _) = app_with_vapid();
    let subscription = Browser::new().subscription("https://push.example.net/wpush/v2/abc");
    let first = register(&app, "alice", subscription.clone());
    assert_eq!(first.status, 201, "{:?}", first.body);
    assert_eq!(first.body["type"], "web_push");
    assert_eq!(first.body["url"], "https://push.example.net/wpush/v2/abc");
    assert!(first.body.get("secret").is_none());
    let id = first.body["id"].as_str().unwrap().to_owned();

    let again = register(&app, "alice", subscription.clone());
    assert_eq!(again.status, 200);
    assert_eq!(again.body["id"], id.as_str());
    assert_eq!(
        app.get("alice", "/api/channels").body["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // Another user's browser is another channel, and theirs alone.
    assert_eq!(register(&app, "bob", subscription).status, 201);
    assert_eq!(app.get("bob", &format!("/api/channels/{id}")).status, 404);

    let rotate = app.call(
        "POST",
        &format!("/api/channels/{id}/rotate-secret"),
        "alice",
        None,
    );
    assert_eq!(rotate.status, 409);
    let disabled = app.call(
        "PATCH",
        &format!("/api/channels/{id}"),
        "alice",
        Some(&json!({ "enabled": false })),
    );
    assert_eq!(disabled.body["enabled"], false);
    assert_eq!(
        app.call("DELETE", &format!("/api/channels/{id}"), "alice", None)
            .status,
        204
    );
    assert_eq!(app.get("alice", "/api/channels").body["items"], json!([]));
}

#[test]
fn a_test_ping_reaches_the_browser_encrypted_and_shows_in_the_delivery_log() {
    let redis = TestRedis::new();
    let channel = redis.unique_channel("reminders");
    let (mut app, key) = app_with_vapid();
    app.config = app
        .config
        .clone()
        .with(settings::ALLOW_PRIVATE_WEBHOOKS, "true")
        .with(settings::REMINDERS_CHANNEL, channel.as_str());
    let receiver = Receiver::start();
    receiver.answer_always(Reply::Status(201));
    let browser = Browser::new();
    let id = register(
        &app,
        "alice",
        browser.subscription(&receiver.url("/push/ping")),
    )
    .body["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let subscription = redis.subscribe(&channel);
    let notifier_db = app.db.connect();
    let notifier_settings = spindle_reminders::Settings::from_config(&app.config).unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stopper = stop.clone();
    let notifier = std::thread::spawn(move || {
        let http = spindle_native::UreqHttp::new();
        while !stopper.load(std::sync::atomic::Ordering::SeqCst) {
            if let Some(message) = subscription.recv_timeout(Duration::from_millis(50)) {
                spindle_reminders::notifier::handle(
                    &notifier_db,
                    &http,
                    &spindle_ports::SystemClock,
                    &notifier_settings,
                    &message,
                )
                .expect("the notifier handles the ping");
            }
        }
    });
    let ping = app.call("POST", &format!("/api/channels/{id}/test"), "alice", None);
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    notifier.join().unwrap();
    assert_eq!(ping.status, 200, "{:?}", ping.body);
    assert_eq!(ping.body["state"], "delivered");
    assert_eq!(ping.body["status"], 201);

    let got = receiver.received();
    assert_eq!(got.len(), 1);
    verify_vapid(got[0].header("authorization").unwrap(), key.public_key());
    let message: Value = serde_json::from_slice(&browser.decrypt(&got[0].body)).unwrap();
    assert_eq!(message["title"], "Spindle test notification");
    let log = app.get("alice", &format!("/api/channels/{id}/deliveries"));
    assert_eq!(log.body["items"][0]["kind"], "ping");
    assert_eq!(log.body["items"][0]["last_status"], 201);
}

#[test]
fn the_served_public_key_verifies_the_vapid_token_of_a_push_message() {
    let (app, key) = app_with_vapid();
    let resp = app.get("alice", "/api/push/vapid-public-key");
    assert_eq!(resp.status, 200, "{:?}", resp.body);
    let served = resp.body["public_key"]
        .as_str()
        .expect("a public_key string");
    assert_eq!(
        served.len(),
        87,
        "65 bytes of uncompressed point in base64url"
    );

    let endpoint = "https://push.example.net:8443/wpush/v2/abc";
    let subscription = PushSubscription::parse(
        &Browser::new().subscription(endpoint),
        NetworkPolicy::PublicOnly,
    )
    .unwrap();
    let vapid = Vapid::from_config(&key.private_base64url(), SUBJECT).unwrap();
    let now = Instant::from_micros(NOW_MICROS);
    let options = PushOptions {
        ttl: Ttl::until(None, now),
        urgency: Urgency::Normal,
        topic: None,
    };
    let request = push_request(&vapid, &subscription, b"{}", &options, now).unwrap();
    let authorization = request
        .headers
        .iter()
        .find(|(name, _)| *name == "authorization")
        .map(|(_, value)| value.as_str())
        .expect("an authorization header");

    let token = verify_vapid(authorization, served);
    assert_eq!(token.header["typ"], "JWT");
    assert_eq!(token.header["alg"], "ES256");
    assert_eq!(token.claims["aud"], "https://push.example.net:8443");
    assert_eq!(token.claims["sub"], SUBJECT);
    let exp = token.claims["exp"].as_i64().expect("a numeric exp");
    let now_seconds = NOW_MICROS / 1_000_000;
    assert!(exp > now_seconds && exp <= now_seconds + 12 * 3600);
    assert_eq!(exp, now_seconds + TOKEN_LIFETIME_SECONDS);
}

#[test]
fn the_public_key_needs_a_signed_in_user_and_a_configured_key() {
    let (app, _) = app_with_vapid();
    let anonymous = app.send(
        app.request("GET", "/api/push/vapid-public-key", None, None)
            .body(Vec::new())
            .unwrap(),
    );
    assert_eq!(anonymous.status, 401);

    let unconfigured = App::new().get("alice", "/api/push/vapid-public-key");
    assert_eq!(unconfigured.status, 503);
    assert!(
        unconfigured.body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("vapid_private_key")),
        "{:?}",
        unconfigured.body
    );
}
