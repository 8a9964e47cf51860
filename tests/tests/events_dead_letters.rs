//! Poison events: retried with backoff, dead-lettered after their attempts
//! without holding up the events behind them, announced, listed and replayed.

mod events_support;

use std::time::Duration;

use events_support::*;
use spindle_domain::event::EventType;
use spindle_events::dead_letters::{self, ReplayError};
use spindle_events::handler::{HandlerError, Outcome};
use spindle_events::relay::{self, DeadLetterNotice};
use spindle_events::{audit, dlq_channel};
use spindle_native::testing::{TestDb, TestRedis};
use spindle_native::RedisPublisher;
use spindle_ports::Param;

const QUIET: Duration = Duration::from_millis(300);

#[test]
fn a_poison_event_is_dead_lettered_after_its_attempts_while_the_events_behind_it_are_processed() {
    let test_db = TestDb::new();
    let db = test_db.connect();
    let redis = TestRedis::new();
    let channel = redis.unique_channel("task-events");
    let events = redis.subscribe(&channel);
    let dlq = redis.subscribe(&dlq_channel(&channel));
    let publisher = RedisPublisher::new(redis.url());
    const MAX_ATTEMPTS: u32 = 3;
    let settings = relay_settings(&channel, MAX_ATTEMPTS);

    let task_id = uuid::Uuid::new_v4();
    let before = append(
        &db,
        &channel,
        &task_event(USER, task_id, EventType::TaskCreated, "a"),
    );
    let poison = append(&db, &channel, &poison_event(USER, task_id));
    let after: Vec<i64> = (0..3)
        .map(|i| {
            append(
                &db,
                &channel,
                &task_event(USER, task_id, EventType::TaskUpdated, &format!("b{i}")),
            )
        })
        .collect();

    let mut poison_deliveries = 0;
    let mut dead_lettered = 0;
    for _ in 0..(MAX_ATTEMPTS + 3) {
        make_everything_due(&db);
        let tick = relay::tick(&db, &publisher, &settings).unwrap();
        dead_lettered += tick.dead_lettered;
        for message in drain(&events, QUIET) {
            let seq = envelope_of(&message).seq().unwrap();
            match audit::handle(&db, &message) {
                Ok(Outcome::Processed | Outcome::Duplicate) => assert_ne!(seq, poison),
                Err(HandlerError::Effect {
                    source: audit::AuditError::MissingTask { .. },
                    ..
                }) => {
                    assert_eq!(seq, poison);
                    poison_deliveries += 1;
                }
                Err(other) => panic!("unexpected failure: {other}"),
            }
        }
    }

    assert_eq!(
        poison_deliveries, MAX_ATTEMPTS,
        "the poison event is delivered max_attempts times"
    );
    assert_eq!(dead_lettered, 1);
    let history = audit::history(&db, USER, task_id, None, 10).unwrap();
    let recorded: Vec<i64> = history.iter().rev().map(|entry| entry.seq).collect();
    assert_eq!(
        recorded,
        [vec![before], after.clone()].concat(),
        "the events around the poison flowed"
    );
    assert_eq!(
        count(
            &db,
            "SELECT count(*)::int8 AS n FROM outbox WHERE delivered_at IS NOT NULL",
            &[]
        ),
        4
    );

    let letters = dead_letters::list(&db, 0, 10).unwrap();
    assert_eq!(letters.len(), 1);
    let letter = &letters[0];
    assert_eq!(letter.seq, poison);
    assert_eq!(letter.attempts, i64::from(MAX_ATTEMPTS));
    assert_eq!(letter.channel, channel);
    assert_eq!(letter.event_type, "task.updated");
    assert!(letter.reason.contains("audit"), "{}", letter.reason);
    assert!(
        letter.reason.contains("no `task`"),
        "the reason quotes the consumer's error: {}",
        letter.reason
    );
    assert_eq!(
        letter.envelope["sequence"],
        spindle_domain::event::format_sequence(poison)
    );

    let notice: DeadLetterNotice =
        serde_json::from_slice(&receive(&dlq, 1, QUIET * 10).remove(0)).unwrap();
    assert_eq!((notice.dead_letter_id, notice.seq), (letter.id, poison));
    assert_eq!(notice.reason, letter.reason);
    assert_eq!(notice.event["id"], letter.envelope["id"]);

    // Dead means left alone: more ticks do not publish it again.
    make_everything_due(&db);
    relay::tick(&db, &publisher, &settings).unwrap();
    assert!(drain(&events, QUIET).is_empty());
}

#[test]
fn replaying_a_dead_letter_publishes_its_event_again_with_fresh_attempts_once() {
    let test_db = TestDb::new();
    let db = test_db.connect();
    let redis = TestRedis::new();
    let channel = redis.unique_channel("task-events");
    let events = redis.subscribe(&channel);
    let publisher = RedisPublisher::new(redis.url());
    let settings = relay_settings(&channel, 1);
    let poison = append(&db, &channel, &poison_event(USER, uuid::Uuid::new_v4()));

    for _ in 0..2 {
        make_everything_due(&db);
        relay::tick(&db, &publisher, &settings).unwrap();
    }
    assert_eq!(drain(&events, QUIET).len(), 1);
    let letter = dead_letters::list(&db, 0, 10).unwrap().remove(0);

    let replayed = dead_letters::replay(&db, &publisher, letter.id).unwrap();
    assert!(replayed.published, "{replayed:?}");
    assert_eq!(replayed.seq, poison);
    let message = receive(&events, 1, QUIET * 10).remove(0);
    assert_eq!(envelope_of(&message).seq(), Some(poison));
    assert_eq!(
        count(
            &db,
            "SELECT count(*)::int8 AS n FROM outbox WHERE seq = $1 AND dead_at IS NULL AND attempts = 1",
            &[Param::Int64(poison)]
        ),
        1
    );
    assert!(
        dead_letters::list(&db, 0, 10).unwrap().is_empty(),
        "a replayed letter is no longer open"
    );

    match dead_letters::replay(&db, &publisher, letter.id) {
        Err(ReplayError::AlreadyReplayed { id, .. }) => assert_eq!(id, letter.id),
        other => panic!("a second replay must be refused, got {other:?}"),
    }
    assert!(
        drain(&events, QUIET).is_empty(),
        "the refused replay published nothing"
    );
    match dead_letters::replay(&db, &publisher, letter.id + 1000) {
        Err(ReplayError::NotFound { .. }) => {}
        other => panic!("an unknown id must be NotFound, got {other:?}"),
    }

    // Still poison: it fails again and gets a new dead letter.
    make_everything_due(&db);
    relay::tick(&db, &publisher, &settings).unwrap();
    let letters = dead_letters::list(&db, letter.id, 10).unwrap();
    assert_eq!(letters.len(), 1);
    assert!(letters[0].id > letter.id);
}

#[test]
fn dead_letters_are_listed_in_pages_oldest_first() {
    let test_db = TestDb::new();
    let db = test_db.connect();
    let redis = TestRedis::new();
    let channel = redis.unique_channel("task-events");
    let publisher = RedisPublisher::new(redis.url());
    let settings = relay_settings(&channel, 1);
    let seqs: Vec<i64> = (0..5)
        .map(|_| append(&db, &channel, &poison_event(USER, uuid::Uuid::new_v4())))
        .collect();
    for _ in 0..2 {
        make_everything_due(&db);
        relay::tick(&db, &publisher, &settings).unwrap();
    }

    let first = dead_letters::list(&db, 0, 3).unwrap();
    let rest = dead_letters::list(&db, first.last().unwrap().id, 3).unwrap();
    let listed: Vec<i64> = first.iter().chain(&rest).map(|letter| letter.seq).collect();
    assert_eq!(listed, seqs);
    assert!(
        first
            .iter()
            .all(|letter| letter.reason.contains("no error recorded")),
        "no consumer ran, so no error is quoted: {:?}",
        first[0].reason
    );
}

#[test]
fn a_message_that_is_not_an_envelope_is_refused_as_malformed_and_left_unprocessed() {
    let test_db = TestDb::new();
    let db = test_db.connect();
    for message in [&b"not json"[..], br#"{"id": "x"}"#, br#"[1, 2]"#] {
        match audit::handle(&db, message) {
            Err(HandlerError::Malformed(_)) => {}
            other => panic!("expected Malformed, got {other:?}"),
        }
    }
    assert_eq!(
        count(&db, "SELECT count(*)::int8 AS n FROM processed_events", &[]),
        0
    );
}

#[test]
fn a_reminder_due_event_is_acknowledged_without_touching_the_history() {
    let test_db = TestDb::new();
    let db = test_db.connect();
    let mut event = task_event(USER, uuid::Uuid::new_v4(), EventType::ReminderDue, "x");
    event.data = serde_json::json!({ "reminder": { "id": uuid::Uuid::new_v4().to_string() } });
    let seq = append(&db, "unused", &event);
    let message = spindle_storage::outbox::undelivered(&db, &[seq])
        .unwrap()
        .remove(0)
        .payload;

    assert_eq!(audit::handle(&db, &message).unwrap(), Outcome::Processed);
    assert_eq!(
        count(&db, "SELECT count(*)::int8 AS n FROM audit_log", &[]),
        0
    );
    assert_eq!(
        count(&db, "SELECT count(*)::int8 AS n FROM processed_events", &[]),
        1
    );
}
