//! Reminders from the tick to a real HTTP receiver on loopback: once per channel,
//! signed, retried, given up, never for a closed task, missed when far too late.

mod reminders_support;

use std::time::Duration;

use reminders_support::{signature_valid, Env, USER};
use spindle_domain::NetworkPolicy;
use spindle_native::testing::{Receiver, Reply};
use spindle_ports::Db;

#[test]
fn a_due_reminder_reaches_the_inbox_and_the_webhook_once_signed() {
    let env = Env::new();
    let receiver = Receiver::start();
    let (_, secret) = env.webhook(USER, &receiver.url("/hook"));
    let reminder = env.due_reminder();

    let report = env.tick();
    assert_eq!(report.fired, 1);
    let messages = env.messages(1);
    assert_eq!(messages.len(), 1);
    // The same event twice (a redelivery, a second replica): one send, one entry.
    env.notify(&messages[0]);
    env.notify(&messages[0]);

    let got = receiver.wait_for(1, Duration::from_secs(5));
    assert_eq!(got.len(), 1);
    assert!(signature_valid(&got[0], &secret));
    let body: serde_json::Value = serde_json::from_slice(&got[0].body).unwrap();
    assert_eq!(body["type"], "reminder.due");
    assert_eq!(body["data"]["reminder"]["id"], reminder.to_string());
    assert_eq!(body["data"]["task"]["priority"], "P2");
    assert_eq!(body["data"]["task"]["tags"], serde_json::json!(["home"]));
    assert_eq!(
        env.count("SELECT count(*)::int8 AS n FROM notifications"),
        1
    );
    assert_eq!(env.delivery_state().0, "delivered");
    // A second tick finds nothing more to fire.
    assert_eq!(env.tick().fired, 0);
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(receiver.received().len(), 1);
}

/// This test makes some 60 000 commits; on a shared machine waiting for each
/// one's WAL flush dominates. Not waiting changes durability after a crash of
/// the server, nothing a test can see.
fn fast_commits(conn: spindle_native::PgDb) -> spindle_native::PgDb {
    conn.execute("SET synchronous_commit TO off", &[])
        .expect("setting synchronous_commit");
    conn
}

#[test]
fn two_ticks_racing_over_10000_due_reminders_claim_and_deliver_each_once() {
    let env = Env::new();
    let receiver = Receiver::start();
    env.webhook(USER, &receiver.url("/hook"));
    env.tasks_with_reminders(USER, 10_000, env.now());

    let settings = env.tick_settings();
    let fired: Vec<usize> = std::thread::scope(|scope| {
        let racers: Vec<_> = (0..2)
            .map(|_| {
                scope.spawn(|| {
                    let conn = fast_commits(env.db.connect());
                    let mut fired = 0;
                    loop {
                        let report = spindle_reminders::tick::tick(
                            &conn,
                            &env.publisher,
                            &env.clock,
                            &settings,
                        )
                        .expect("a tick");
                        fired += report.fired;
                        if report.fired == 0 {
                            return fired;
                        }
                    }
                })
            })
            .collect();
        racers.into_iter().map(|r| r.join().unwrap()).collect()
    });
    assert_eq!(fired.iter().sum::<usize>(), 10_000, "{fired:?}");
    assert_eq!(
        env.count("SELECT count(*)::int8 AS n FROM reminders WHERE state = 'fired'"),
        10_000
    );
    assert_eq!(
        env.count("SELECT count(DISTINCT envelope->'data'->'reminder'->>'id')::int8 AS n FROM outbox WHERE type = 'reminder.due'"),
        10_000
    );
    assert_eq!(
        env.count("SELECT count(*)::int8 AS n FROM outbox WHERE type = 'reminder.due'"),
        10_000
    );

    // Two notifier replicas each hear every message. (The relay may have
    // republished events the notifier had not yet processed: that is its job.)
    let messages = env.messages(10_000);
    let events: std::collections::HashSet<String> = messages
        .iter()
        .map(|m| serde_json::from_slice::<serde_json::Value>(m).unwrap()["id"].to_string())
        .collect();
    assert_eq!(events.len(), 10_000);
    std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| {
                let conn = fast_commits(env.db.connect());
                for message in &messages {
                    spindle_reminders::notifier::handle(
                        &conn,
                        &env.http,
                        &env.clock,
                        &env.settings,
                        message,
                    )
                    .expect("the notifier handles the message");
                }
            });
        }
    });
    let got = receiver.wait_for(10_000, Duration::from_secs(30));
    std::thread::sleep(Duration::from_millis(300));
    let got_after = receiver.received();
    assert_eq!(got.len(), 10_000);
    assert_eq!(got_after.len(), 10_000);
    let ids: std::collections::HashSet<_> = got_after
        .iter()
        .map(|r| r.header("webhook-id").unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 10_000);
    assert_eq!(
        env.count("SELECT count(*)::int8 AS n FROM notifications"),
        10_000
    );
    assert_eq!(
        env.count("SELECT count(*)::int8 AS n FROM deliveries WHERE state = 'delivered'"),
        10_000
    );
}

#[test]
fn a_receiver_failing_twice_gets_the_same_webhook_id_and_a_valid_signature_every_time() {
    let env = Env::new();
    let receiver = Receiver::start();
    receiver.script([Reply::Status(500), Reply::Status(500), Reply::Status(200)]);
    let (_, secret) = env.webhook(USER, &receiver.url("/hook"));
    env.due_reminder();

    env.tick_and_notify();
    assert_eq!(env.delivery_state().0, "pending");
    // Not due again before the backoff ends.
    env.advance(Duration::from_secs(5));
    env.tick_and_notify();
    assert_eq!(receiver.received().len(), 1);
    env.advance(Duration::from_secs(5));
    env.tick_and_notify();
    assert_eq!(receiver.received().len(), 2);
    env.advance(Duration::from_secs(20));
    env.tick_and_notify();

    let got = receiver.wait_for(3, Duration::from_secs(5));
    assert_eq!(got.len(), 3);
    let id = got[0].header("webhook-id").unwrap();
    for request in &got {
        assert_eq!(request.header("webhook-id"), Some(id));
        assert!(signature_valid(request, &secret));
        assert_eq!(request.body, got[0].body);
    }
    let (state, attempts, _) = env.delivery_state();
    assert_eq!((state.as_str(), attempts), ("delivered", 3));
}

#[test]
fn a_receiver_that_never_answers_times_out_is_retried_then_failed() {
    let mut env = Env::new();
    env.settings.timeouts.total = Duration::from_millis(300);
    env.settings.max_delivery_attempts = 3;
    let receiver = Receiver::start();
    receiver.answer_always(Reply::Hang);
    env.webhook(USER, &receiver.url("/hook"));
    env.due_reminder();

    env.tick_and_notify();
    for _ in 0..2 {
        env.advance(Duration::from_secs(3600));
        env.tick_and_notify();
    }
    let (state, attempts, error) = env.delivery_state();
    assert_eq!((state.as_str(), attempts), ("failed", 3));
    assert!(error.unwrap().contains("timed out"));
    assert_eq!(receiver.received().len(), 3);
    // Failed for good: later ticks leave it alone.
    env.advance(Duration::from_secs(3600));
    env.tick_and_notify();
    assert_eq!(receiver.received().len(), 3);
}

#[test]
fn a_410_disables_the_channel_and_says_so_in_the_inbox() {
    let env = Env::new();
    let receiver = Receiver::start();
    receiver.answer_always(Reply::Status(410));
    let (channel, _) = env.webhook(USER, &receiver.url("/hook"));
    env.due_reminder();

    env.tick_and_notify();
    let stored = spindle_storage::channels::get(&env.conn, USER, channel.id)
        .unwrap()
        .unwrap();
    assert!(!stored.enabled);
    assert!(stored.disabled_reason.unwrap().contains("410"));
    assert_eq!(env.delivery_state().0, "failed");
    assert_eq!(
        env.count("SELECT count(*)::int8 AS n FROM notifications WHERE kind = 'channel_disabled'"),
        1
    );
    // The next reminder goes to the inbox only.
    env.due_reminder();
    env.tick_and_notify();
    assert_eq!(receiver.received().len(), 1);
}

#[test]
fn consecutive_failures_up_to_the_limit_disable_the_channel() {
    let mut env = Env::new();
    env.settings.channel_failure_limit = 2;
    let receiver = Receiver::start();
    receiver.answer_always(Reply::Status(400));
    let (channel, _) = env.webhook(USER, &receiver.url("/hook"));
    env.due_reminder();
    env.tick_and_notify();
    assert!(
        spindle_storage::channels::get(&env.conn, USER, channel.id)
            .unwrap()
            .unwrap()
            .enabled
    );
    env.due_reminder();
    env.tick_and_notify();
    let stored = spindle_storage::channels::get(&env.conn, USER, channel.id)
        .unwrap()
        .unwrap();
    assert!(!stored.enabled);
    assert!(stored
        .disabled_reason
        .unwrap()
        .contains("2 failed deliveries"));
    assert_eq!(receiver.received().len(), 2);
}

#[test]
fn during_a_rotation_both_secrets_sign_and_both_signatures_verify() {
    let env = Env::new();
    let receiver = Receiver::start();
    let (channel, old) = env.webhook(USER, &receiver.url("/hook"));
    let (_, new) =
        spindle_reminders::channels::rotate_secret(&env.conn, USER, channel.id, env.now())
            .unwrap()
            .unwrap();
    env.due_reminder();
    env.tick_and_notify();
    let got = receiver.wait_for(1, Duration::from_secs(5));
    let header = got[0].header("webhook-signature").unwrap();
    assert_eq!(header.split(' ').count(), 2, "{header}");
    assert!(signature_valid(&got[0], &old));
    assert!(signature_valid(&got[0], &new));

    // A day later only the new secret signs.
    env.advance(Duration::from_secs(24 * 3600 + 1));
    env.due_reminder();
    env.tick_and_notify();
    let got = receiver.wait_for(2, Duration::from_secs(5));
    assert_eq!(
        got[1]
            .header("webhook-signature")
            .unwrap()
            .split(' ')
            .count(),
        1
    );
    assert!(signature_valid(&got[1], &new));
    assert!(!signature_valid(&got[1], &old));
}

#[test]
fn a_task_completed_after_the_claim_is_not_sent() {
    let env = Env::new();
    let receiver = Receiver::start();
    env.webhook(USER, &receiver.url("/hook"));
    env.due_reminder();
    env.tick();
    env.conn
        .execute(
            "UPDATE tasks SET status = 'completed', completed_at = now()",
            &[],
        )
        .unwrap();
    for message in env.messages(1) {
        env.notify(&message);
    }
    std::thread::sleep(Duration::from_millis(200));
    assert!(receiver.received().is_empty());
    assert_eq!(
        env.count("SELECT count(*)::int8 AS n FROM notifications"),
        0
    );
}

#[test]
fn a_task_completed_between_two_attempts_is_not_sent_again() {
    let env = Env::new();
    let receiver = Receiver::start();
    receiver.script([Reply::Status(503)]);
    env.webhook(USER, &receiver.url("/hook"));
    env.due_reminder();
    env.tick_and_notify();
    env.conn
        .execute(
            "UPDATE tasks SET status = 'completed', completed_at = now()",
            &[],
        )
        .unwrap();
    env.advance(Duration::from_secs(60));
    env.tick_and_notify();
    assert_eq!(receiver.received().len(), 1);
    assert_eq!(env.delivery_state().0, "skipped");
}

#[test]
fn a_reminder_two_hours_late_is_missed_and_goes_to_the_inbox_only() {
    let env = Env::new();
    let receiver = Receiver::start();
    env.webhook(USER, &receiver.url("/hook"));
    let late = spindle_domain::Instant::from_micros(env.now().micros() - 2 * 3600 * 1_000_000);
    env.tasks_with_reminders(USER, 1, late);
    let report = env.tick();
    assert_eq!((report.fired, report.missed), (0, 1));
    for message in env.messages(1) {
        env.notify(&message);
    }
    assert_eq!(
        env.count("SELECT count(*)::int8 AS n FROM reminders WHERE state = 'missed'"),
        1
    );
    assert_eq!(
        env.count("SELECT count(*)::int8 AS n FROM notifications WHERE kind = 'missed_reminder'"),
        1
    );
    assert_eq!(env.count("SELECT count(*)::int8 AS n FROM deliveries"), 0);
    std::thread::sleep(Duration::from_millis(200));
    assert!(receiver.received().is_empty());
}

#[test]
fn a_private_url_registered_under_the_escape_hatch_is_refused_at_send_without_it() {
    let mut env = Env::new();
    let receiver = Receiver::start();
    env.webhook(USER, &receiver.url("/hook"));
    env.settings.network_policy = NetworkPolicy::PublicOnly;
    env.due_reminder();
    env.tick_and_notify();
    let (state, _, error) = env.delivery_state();
    assert_eq!(state, "failed");
    assert!(error.unwrap().contains("url must use https"));
    assert!(receiver.received().is_empty());
}

#[test]
fn a_notification_created_event_reaches_the_change_feed() {
    let env = Env::new();
    env.due_reminder();
    env.tick_and_notify();
    let feed = spindle_storage::outbox::feed(&env.conn, USER, 0, 100).unwrap();
    let kinds: Vec<&str> = feed.iter().map(|e| e.kind.as_str()).collect();
    assert!(kinds.contains(&"notification.created"), "{kinds:?}");
}
