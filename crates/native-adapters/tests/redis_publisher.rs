//! `RedisPublisher` against the machine's Redis.

use std::time::{Duration, Instant};

use spindle_native::testing::TestRedis;
use spindle_native::RedisPublisher;
use spindle_ports::Publisher;

#[test]
fn a_published_message_arrives_on_a_subscription() {
    let redis = TestRedis::new();
    let channel = redis.unique_channel("task-events");
    let subscription = redis.subscribe(&channel);
    let publisher = RedisPublisher::new(redis.url());

    publisher.publish(&channel, b"first").expect("publish");
    publisher
        .publish(&channel, b"second")
        .expect("publish again");

    let timeout = Duration::from_secs(5);
    assert_eq!(
        subscription.recv_timeout(timeout).as_deref(),
        Some(&b"first"[..])
    );
    assert_eq!(
        subscription.recv_timeout(timeout).as_deref(),
        Some(&b"second"[..])
    );
}

#[test]
fn a_subscription_does_not_hear_other_channels() {
    let redis = TestRedis::new();
    let mine = redis.unique_channel("reminders");
    let other = redis.unique_channel("reminders");
    let subscription = redis.subscribe(&mine);

    RedisPublisher::new(redis.url())
        .publish(&other, b"not for me")
        .expect("publish");

    assert_eq!(subscription.recv_timeout(Duration::from_millis(300)), None);
}

#[test]
fn a_publisher_on_a_dead_port_fails_quickly() {
    let publisher = RedisPublisher::new("redis://127.0.0.1:1");
    let started = Instant::now();

    let err = publisher
        .publish("task-events", b"lost")
        .expect_err("nothing listens on port 1");

    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(err.channel, "task-events");
    assert!(err.reason.contains("cannot connect"), "{}", err.reason);
    // The failed connection is not kept: the next publish tries again, and fails again.
    assert!(publisher.publish("task-events", b"lost").is_err());
}

#[test]
fn a_malformed_address_fails_at_publish_with_the_expected_form() {
    let publisher = RedisPublisher::new("not a url");

    let err = publisher
        .publish("task-events", b"x")
        .expect_err("bad address");

    assert!(err.reason.contains("redis://host:port"), "{}", err.reason);
}
