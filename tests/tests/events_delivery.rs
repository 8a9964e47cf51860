//! Delivery end to end against the real Postgres and Redis: publish after
//! commit, the relay healing a Redis outage, and effect-once consumers under
//! duplicate and concurrent deliveries.

mod events_support;

use std::collections::HashMap;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use events_support::*;
use spindle_domain::event::{format_sequence, EventType};
use spindle_events::handler::{self, HandlerError, Outcome};
use spindle_events::{audit, publish, relay};
use spindle_native::testing::{TestDb, TestRedis};
use spindle_native::RedisPublisher;
use spindle_ports::{Db, Param};

const WAIT: Duration = Duration::from_secs(5);

#[test]
fn an_event_published_after_commit_reaches_a_subscriber_and_is_audited_once() {
    let test_db = TestDb::new();
    let db = test_db.connect();
    let redis = TestRedis::new();
    let channel = redis.unique_channel("task-events");
    let subscription = redis.subscribe(&channel);
    let publisher = RedisPublisher::new(redis.url());
    let task_id = uuid::Uuid::new_v4();
    let event = task_event(USER, task_id, EventType::TaskCreated, "Buy milk");

    let seq = append(&db, &channel, &event);
    let report = publish::after_commit(&db, &publisher, &[seq]);

    assert!(report.all_published(), "{report:?}");
    assert_eq!(report.published, vec![seq]);
    let message = receive(&subscription, 1, WAIT).remove(0);
    let received = envelope_of(&message);
    assert_eq!(received.id, event.id);
    assert_eq!(received.sequence, Some(format_sequence(seq)));
    assert_eq!(
        count(&db, "SELECT count(*)::int8 AS n FROM outbox WHERE published_at IS NOT NULL AND attempts = 1", &[]),
        1
    );

    assert_eq!(audit::handle(&db, &message).unwrap(), Outcome::Processed);
    assert_eq!(audit::handle(&db, &message).unwrap(), Outcome::Duplicate);

    let history = audit::history(&db, USER, task_id, None, 10).unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].seq, seq);
    assert_eq!(history[0].event_type, "task.created");
    assert_eq!(history[0].actor, USER);
    assert_eq!(history[0].occurred_at, "2026-03-01T09:00:00.123456Z");
    assert_eq!(history[0].changes["title"]["to"], "Buy milk");

    // The audit acknowledged it, so the relay counts it delivered and leaves it be.
    let tick = relay::tick(&db, &publisher, &relay_settings(&channel, 8)).unwrap();
    assert_eq!(tick.delivered, 1);
    make_everything_due(&db);
    let tick = relay::tick(&db, &publisher, &relay_settings(&channel, 8)).unwrap();
    assert_eq!((tick.claimed, tick.published), (0, 0));
    assert!(subscription
        .recv_timeout(Duration::from_millis(200))
        .is_none());
}

#[test]
fn events_written_while_redis_is_unreachable_are_all_delivered_by_the_relay() {
    let test_db = TestDb::new();
    let db = test_db.connect();
    let redis = TestRedis::new();
    let channel = redis.unique_channel("task-events");
    let dead_redis = RedisPublisher::new("redis://127.0.0.1:1");
    let settings = relay_settings(&channel, 3);
    const WRITES: usize = 40;

    let mut event_ids = Vec::new();
    for i in 0..WRITES {
        let event = task_event(
            USER,
            uuid::Uuid::new_v4(),
            EventType::TaskCreated,
            &format!("task {i}"),
        );
        let seq = append(&db, &channel, &event);
        let report = publish::after_commit(&db, &dead_redis, &[seq]);
        assert_eq!(report.left_for_relay, vec![seq]);
        assert!(
            matches!(report.problem, Some(publish::PublishProblem::Bus(_))),
            "{report:?}"
        );
        event_ids.push(event.id);
    }
    assert_eq!(
        count(
            &db,
            "SELECT count(*)::int8 AS n FROM outbox WHERE published_at IS NULL",
            &[]
        ),
        WRITES as i64
    );

    // A tick while Redis is still down publishes nothing and spends no attempt,
    // however often it runs: an outage never dead-letters events.
    for _ in 0..5 {
        make_everything_due(&db);
        let tick = relay::tick(&db, &dead_redis, &settings).unwrap();
        assert!(tick.publish_error.is_some());
        assert_eq!((tick.published, tick.dead_lettered), (0, 0));
    }
    assert_eq!(
        count(&db, "SELECT max(attempts)::int8 AS n FROM outbox", &[]),
        0
    );

    let subscription = redis.subscribe(&channel);
    make_everything_due(&db);
    let tick = relay::tick(&db, &RedisPublisher::new(redis.url()), &settings).unwrap();
    assert_eq!(tick.published, WRITES, "{tick:?}");
    assert!(tick.publish_error.is_none());

    let messages = receive(&subscription, WRITES, WAIT);
    for message in &messages {
        assert_eq!(audit::handle(&db, message).unwrap(), Outcome::Processed);
    }
    let mut received: Vec<String> = messages.iter().map(|m| envelope_of(m).id).collect();
    received.sort();
    event_ids.sort();
    assert_eq!(
        received, event_ids,
        "every event written during the outage arrives"
    );

    let tick = relay::tick(&db, &RedisPublisher::new(redis.url()), &settings).unwrap();
    assert_eq!(tick.delivered, WRITES as u64);
    assert_eq!(
        count(
            &db,
            "SELECT count(*)::int8 AS n FROM outbox WHERE delivered_at IS NOT NULL",
            &[]
        ),
        WRITES as i64
    );
    assert_eq!(
        count(&db, "SELECT count(*)::int8 AS n FROM audit_log", &[]),
        WRITES as i64
    );
}

#[test]
fn the_same_event_delivered_twice_in_a_row_is_audited_once() {
    let test_db = TestDb::new();
    let db = test_db.connect();
    let event = task_event(
        USER,
        uuid::Uuid::new_v4(),
        EventType::TaskUpdated,
        "renamed",
    );
    let seq = append(&db, "unused", &event);
    let message = stored_message(&db, seq);

    assert_eq!(audit::handle(&db, &message).unwrap(), Outcome::Processed);
    assert_eq!(audit::handle(&db, &message).unwrap(), Outcome::Duplicate);
    assert_eq!(
        count(&db, "SELECT count(*)::int8 AS n FROM audit_log", &[]),
        1
    );
}

#[test]
fn the_same_event_delivered_twice_at_once_on_two_connections_is_audited_once() {
    let test_db = TestDb::new();
    let setup = test_db.connect();
    for _ in 0..20 {
        let event = task_event(
            USER,
            uuid::Uuid::new_v4(),
            EventType::TaskUpdated,
            "renamed",
        );
        let message = stored_message(&setup, append(&setup, "unused", &event));
        let barrier = Arc::new(Barrier::new(2));
        let outcomes: Vec<Outcome> = std::thread::scope(|scope| {
            let runs: Vec<_> = (0..2)
                .map(|_| {
                    let (db, barrier, message) = (test_db.connect(), barrier.clone(), &message);
                    scope.spawn(move || {
                        barrier.wait();
                        audit::handle(&db, message).unwrap()
                    })
                })
                .collect();
            runs.into_iter().map(|run| run.join().unwrap()).collect()
        });
        let mut outcomes = outcomes;
        outcomes.sort_by_key(|o| *o == Outcome::Duplicate);
        assert_eq!(outcomes, vec![Outcome::Processed, Outcome::Duplicate]);
        assert_eq!(
            count(
                &setup,
                "SELECT count(*)::int8 AS n FROM audit_log WHERE event_id = $1",
                &[Param::Uuid(event.id.clone())]
            ),
            1
        );
    }
}

#[test]
fn a_concurrent_duplicate_waits_for_the_first_delivery_and_then_skips_its_effect() {
    let test_db = TestDb::new();
    let setup = test_db.connect();
    let event = task_event(
        USER,
        uuid::Uuid::new_v4(),
        EventType::TaskUpdated,
        "renamed",
    );
    let message = stored_message(&setup, append(&setup, "unused", &event));
    let effects = std::sync::atomic::AtomicUsize::new(0);

    let (first, second) = std::thread::scope(|scope| {
        let first = scope.spawn(|| {
            let db = test_db.connect();
            handler::run(&db, "slow", &message, |_, _| {
                effects.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(500));
                Ok::<(), std::io::Error>(())
            })
        });
        std::thread::sleep(Duration::from_millis(150));
        let second = scope.spawn(|| {
            let db = test_db.connect();
            let started = Instant::now();
            let outcome = handler::run(&db, "slow", &message, |_, _| {
                effects.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                Ok::<(), std::io::Error>(())
            });
            (outcome, started.elapsed())
        });
        (first.join().unwrap(), second.join().unwrap())
    });

    assert_eq!(first.unwrap(), Outcome::Processed);
    let (outcome, waited) = second;
    assert_eq!(outcome.unwrap(), Outcome::Duplicate);
    assert!(
        waited >= Duration::from_millis(250),
        "the duplicate waited only {waited:?}"
    );
    assert_eq!(effects.load(std::sync::atomic::Ordering::SeqCst), 1);
}

#[test]
fn when_the_first_delivery_fails_a_concurrent_duplicate_applies_the_effect_instead() {
    let test_db = TestDb::new();
    let setup = test_db.connect();
    let event = task_event(
        USER,
        uuid::Uuid::new_v4(),
        EventType::TaskUpdated,
        "renamed",
    );
    let message = stored_message(&setup, append(&setup, "unused", &event));

    let (first, second) = std::thread::scope(|scope| {
        let first = scope.spawn(|| {
            let db = test_db.connect();
            handler::run(&db, "flaky", &message, |_, _| {
                std::thread::sleep(Duration::from_millis(400));
                Err(std::io::Error::other("the webhook timed out"))
            })
        });
        std::thread::sleep(Duration::from_millis(150));
        let second = scope.spawn(|| {
            let db = test_db.connect();
            handler::run(&db, "flaky", &message, |_, _| Ok::<(), std::io::Error>(()))
        });
        (first.join().unwrap(), second.join().unwrap())
    });

    match first {
        Err(HandlerError::Effect { source, .. }) => {
            assert_eq!(source.to_string(), "the webhook timed out")
        }
        other => panic!("expected the effect's error, got {other:?}"),
    }
    assert_eq!(second.unwrap(), Outcome::Processed);
    let failure = spindle_storage::processed::failure(&setup, "flaky", event.id.parse().unwrap())
        .unwrap()
        .expect("the failure is remembered");
    assert_eq!(failure.last_error, "the webhook timed out");
}

#[test]
fn two_relay_ticks_at_once_publish_each_event_exactly_once() {
    let test_db = TestDb::new();
    let db = test_db.connect();
    let redis = TestRedis::new();
    let channel = redis.unique_channel("task-events");
    const EVENTS: usize = 3000;
    db.execute(
        "INSERT INTO outbox (event_id, type, channel, user_id, task_id, envelope, next_attempt_at)
         SELECT gen_random_uuid(), 'task.created', $1, 'alice', NULL, '{\"specversion\": \"1.0\"}', now()
         FROM generate_series(1, $2::int8)",
        &[Param::Str(channel.clone()), Param::Int64(EVENTS as i64)],
    )
    .unwrap();
    let subscription = redis.subscribe(&channel);
    let mut settings = relay_settings(&channel, 8);
    settings.batch_size = 100;
    settings.base_delay = Duration::from_secs(60);
    settings.max_backoff = Duration::from_secs(60);

    let barrier = Barrier::new(2);
    let reports: Vec<relay::TickReport> = std::thread::scope(|scope| {
        let ticks: Vec<_> = (0..2)
            .map(|_| {
                let (db, publisher, settings, barrier) = (
                    test_db.connect(),
                    RedisPublisher::new(redis.url()),
                    &settings,
                    &barrier,
                );
                scope.spawn(move || {
                    barrier.wait();
                    relay::tick(&db, &publisher, settings).unwrap()
                })
            })
            .collect();
        ticks.into_iter().map(|tick| tick.join().unwrap()).collect()
    });

    assert_eq!(
        reports.iter().map(|r| r.published).sum::<usize>(),
        EVENTS,
        "{reports:?}"
    );
    assert!(
        reports.iter().all(|r| r.published > 0),
        "both ticks took part: {reports:?}"
    );
    let messages = receive(&subscription, EVENTS, WAIT);
    assert!(
        subscription
            .recv_timeout(Duration::from_millis(300))
            .is_none(),
        "no event is published twice"
    );
    let mut per_seq: HashMap<String, usize> = HashMap::new();
    for message in &messages {
        let value: serde_json::Value = serde_json::from_slice(message).unwrap();
        *per_seq
            .entry(value["sequence"].as_str().unwrap().to_owned())
            .or_default() += 1;
    }
    assert_eq!(per_seq.len(), EVENTS);
    assert!(per_seq.values().all(|n| *n == 1));
}

/// The message the bus would carry for outbox row `seq`.
fn stored_message(db: &impl Db, seq: i64) -> Vec<u8> {
    spindle_storage::outbox::undelivered(db, &[seq])
        .unwrap()
        .remove(0)
        .payload
}

#[test]
fn redeliveries_back_off_exponentially_up_to_the_cap() {
    let test_db = TestDb::new();
    let db = test_db.connect();
    let redis = TestRedis::new();
    let channel = redis.unique_channel("task-events");
    let publisher = RedisPublisher::new(redis.url());
    let mut settings = relay_settings(&channel, 10);
    settings.base_delay = Duration::from_secs(10);
    settings.max_backoff = Duration::from_secs(40);
    let seq = append(
        &db,
        &channel,
        &task_event(USER, uuid::Uuid::new_v4(), EventType::TaskCreated, "a"),
    );

    let mut waits = Vec::new();
    for _ in 0..4 {
        make_everything_due(&db);
        assert_eq!(
            relay::tick(&db, &publisher, &settings).unwrap().published,
            1
        );
        let wait = count(
            &db,
            "SELECT round(extract(epoch from next_attempt_at - now()))::int8 AS n FROM outbox WHERE seq = $1",
            &[Param::Int64(seq)],
        );
        waits.push(wait);
    }
    assert_eq!(waits, vec![10, 20, 40, 40]);
}
