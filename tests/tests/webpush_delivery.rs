//! Reminders as Web Push messages, from the tick through the notifier to a push service on
//! loopback: encrypted for each browser, one delivery per channel, expired subscriptions
//! disabled, throttling honoured.

mod push_support;
mod reminders_support;

use std::time::Duration;

use push_support::{verify_vapid, Browser};
use reminders_support::{signature_valid, Env, USER};
use serde_json::Value;
use spindle_domain::NetworkPolicy;
use spindle_native::testing::{Received, Receiver, Reply};
use spindle_ports::Db;
use spindle_storage::channels::{self, Channel};
use spindle_webpush::{PushSubscription, Vapid, VapidKey, EXPIRED_REASON};

const SUBJECT: &str = "mailto:ops@spindle.example";

/// An `Env` whose notifier has a VAPID key pair.
fn push_env() -> Env {
    let mut env = Env::new();
    let key = VapidKey::generate().unwrap();
    env.settings.vapid = Some(Vapid::from_config(&key.private_base64url(), SUBJECT).unwrap());
    env
}

/// Registers `browser`'s subscription at `endpoint` as a channel of `user`.
fn push_channel(env: &Env, user: &str, browser: &Browser, endpoint: &str) -> Channel {
    let subscription =
        PushSubscription::parse(&browser.subscription(endpoint), NetworkPolicy::AllowPrivate)
            .unwrap();
    let (channel, created) = channels::upsert_web_push(
        &env.conn,
        uuid::Uuid::new_v4(),
        user,
        "Browser",
        subscription.endpoint.as_str(),
        &subscription.to_json()["keys"],
        env.now(),
    )
    .unwrap();
    assert!(created);
    channel
}

fn public_key(env: &Env) -> String {
    env.settings
        .vapid
        .as_ref()
        .unwrap()
        .key
        .public_key()
        .to_owned()
}

fn arrived_at<'r>(received: &'r [Received], path: &str) -> &'r Received {
    received
        .iter()
        .find(|r| r.target == path)
        .unwrap_or_else(|| panic!("nothing arrived at {path}"))
}

#[test]
fn one_reminder_for_a_webhook_and_two_browsers_is_three_deliveries_and_one_inbox_entry() {
    let env = push_env();
    let receiver = Receiver::start();
    receiver.answer_always(Reply::Status(201));
    let (_, secret) = env.webhook(USER, &receiver.url("/hook"));
    let (laptop, phone) = (Browser::new(), Browser::new());
    push_channel(&env, USER, &laptop, &receiver.url("/push/laptop"));
    push_channel(&env, USER, &phone, &receiver.url("/push/phone"));
    let reminder = env.due_reminder();

    let messages = {
        env.tick();
        env.messages(1)
    };
    // Delivered twice (a redelivery, a second replica): still one send per channel.
    for message in messages.iter().chain(messages.iter()) {
        env.notify(message);
    }
    let received = receiver.wait_for(3, Duration::from_secs(5));
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(receiver.received().len(), 3);
    assert!(signature_valid(arrived_at(&received, "/hook"), &secret));

    let inbox_id: String = env
        .conn
        .query("SELECT id::text AS id FROM notifications", &[])
        .unwrap()
        .first()
        .unwrap()
        .str("id")
        .unwrap();
    for (browser, path) in [(&laptop, "/push/laptop"), (&phone, "/push/phone")] {
        let push = arrived_at(&received, path);
        assert_eq!(push.header("content-encoding"), Some("aes128gcm"));
        // The task is due an hour after the reminder fires.
        assert_eq!(push.header("ttl"), Some("3600"));
        assert_eq!(push.header("urgency"), Some("normal"));
        assert_eq!(
            push.header("topic"),
            Some(reminder.simple().to_string().as_str())
        );
        let token = verify_vapid(push.header("authorization").unwrap(), &public_key(&env));
        assert_eq!(token.claims["aud"], receiver.url(""));
        assert_eq!(token.claims["sub"], SUBJECT);

        let message: Value = serde_json::from_slice(&browser.decrypt(&push.body)).unwrap();
        assert_eq!(message["notification_id"], inbox_id.as_str());
        assert_eq!(message["title"], "Task 1");
        let task_id = message["task_id"].as_str().unwrap();
        assert_eq!(message["url"], format!("/tasks/{task_id}"));
        assert!(message["body"].as_str().unwrap().starts_with("Due "));
        assert!(message["due_at"].as_str().is_some());
        // Only its own browser can read it.
        let other = if path == "/push/laptop" {
            &phone
        } else {
            &laptop
        };
        assert_eq!(other.try_decrypt(&push.body), None);
    }
    assert_eq!(
        env.count("SELECT count(*)::int8 AS n FROM deliveries WHERE state = 'delivered'"),
        3
    );
    assert_eq!(
        env.count("SELECT count(*)::int8 AS n FROM notifications"),
        1
    );
}

#[test]
fn a_push_service_answering_410_disables_the_channel_as_expired() {
    let env = push_env();
    let receiver = Receiver::start();
    receiver.answer_always(Reply::Status(410));
    let channel = push_channel(&env, USER, &Browser::new(), &receiver.url("/push/gone"));
    env.due_reminder();

    env.tick_and_notify();
    let stored = channels::get(&env.conn, USER, channel.id).unwrap().unwrap();
    assert!(!stored.enabled);
    assert!(
        stored
            .disabled_reason
            .as_deref()
            .unwrap()
            .contains(EXPIRED_REASON),
        "{:?}",
        stored.disabled_reason
    );
    assert_eq!(env.delivery_state().0, "failed");
    assert_eq!(
        env.count("SELECT count(*)::int8 AS n FROM notifications WHERE kind = 'channel_disabled'"),
        1
    );
    // The next reminder is not sent to it.
    env.due_reminder();
    env.tick_and_notify();
    assert_eq!(receiver.received().len(), 1);
}

#[test]
fn a_429_with_retry_after_is_retried_no_sooner_than_it_says() {
    let env = push_env();
    let receiver = Receiver::start();
    receiver.script([Reply::RetryAfter(429, "600".into())]);
    receiver.answer_always(Reply::Status(201));
    push_channel(&env, USER, &Browser::new(), &receiver.url("/push/busy"));
    env.due_reminder();

    env.tick_and_notify();
    let (state, attempts, error) = env.delivery_state();
    assert_eq!((state.as_str(), attempts), ("pending", 1), "{error:?}");
    let next_attempt_us = env.count(
        "SELECT us_from_ts(next_attempt_at) AS n FROM deliveries WHERE reminder_id IS NOT NULL",
    );
    assert_eq!(next_attempt_us, env.now().micros() + 600_000_000);

    // The usual backoff (seconds) has long passed, Retry-After has not.
    env.advance(Duration::from_secs(599));
    env.tick_and_notify();
    assert_eq!(receiver.received().len(), 1);
    assert_eq!(env.delivery_state().0, "pending");

    env.advance(Duration::from_secs(2));
    env.tick_and_notify();
    receiver.wait_for(2, Duration::from_secs(5));
    assert_eq!(env.delivery_state().0, "delivered");
    assert_eq!(receiver.received().len(), 2);
}
