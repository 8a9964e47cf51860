//! Ordering: a task's events carry increasing sequence numbers, and its history
//! comes out in that order whatever order the events arrive in.

mod events_support;

use std::time::Duration;

use events_support::*;
use spindle_domain::event::EventType;
use spindle_events::handler::Outcome;
use spindle_events::{audit, publish};
use spindle_native::testing::{TestDb, TestRedis};
use spindle_native::RedisPublisher;

#[test]
fn a_tasks_history_follows_its_sequence_numbers_even_when_events_arrive_in_reverse() {
    let test_db = TestDb::new();
    let db = test_db.connect();
    let redis = TestRedis::new();
    let channel = redis.unique_channel("task-events");
    let subscription = redis.subscribe(&channel);
    let publisher = RedisPublisher::new(redis.url());
    let task_id = uuid::Uuid::new_v4();
    let kinds = [
        EventType::TaskCreated,
        EventType::TaskUpdated,
        EventType::TaskCompleted,
        EventType::TaskReopened,
        EventType::TaskUpdated,
        EventType::TaskDeleted,
    ];

    let mut seqs = Vec::new();
    for (i, kind) in kinds.iter().enumerate() {
        let seq = append(
            &db,
            &channel,
            &task_event(USER, task_id, *kind, &format!("v{i}")),
        );
        assert!(publish::after_commit(&db, &publisher, &[seq]).all_published());
        seqs.push(seq);
    }
    assert!(
        seqs.windows(2).all(|w| w[0] < w[1]),
        "sequences increase: {seqs:?}"
    );

    let mut messages = receive(&subscription, kinds.len(), Duration::from_secs(5));
    let arrived: Vec<String> = messages
        .iter()
        .map(|m| envelope_of(m).sequence.unwrap())
        .collect();
    let mut sorted = arrived.clone();
    sorted.sort();
    assert_eq!(
        arrived, sorted,
        "published in order, and sequences sort as strings"
    );

    messages.reverse();
    for message in &messages {
        assert_eq!(audit::handle(&db, message).unwrap(), Outcome::Processed);
    }

    let history = audit::history(&db, USER, task_id, None, 50).unwrap();
    let newest_first: Vec<i64> = seqs.iter().rev().copied().collect();
    assert_eq!(
        history.iter().map(|e| e.seq).collect::<Vec<_>>(),
        newest_first
    );
    let types: Vec<&str> = history
        .iter()
        .rev()
        .map(|e| e.event_type.as_str())
        .collect();
    assert_eq!(types, kinds.iter().map(|k| k.as_str()).collect::<Vec<_>>());
}

#[test]
fn history_pages_backwards_by_sequence_without_gaps_or_repeats() {
    let test_db = TestDb::new();
    let db = test_db.connect();
    let task_id = uuid::Uuid::new_v4();
    let mut seqs = Vec::new();
    for i in 0..7 {
        let kind = if i == 0 {
            EventType::TaskCreated
        } else {
            EventType::TaskUpdated
        };
        let seq = append(
            &db,
            "unused",
            &task_event(USER, task_id, kind, &format!("v{i}")),
        );
        let message = spindle_storage::outbox::undelivered(&db, &[seq])
            .unwrap()
            .remove(0)
            .payload;
        audit::handle(&db, &message).unwrap();
        seqs.push(seq);
    }

    let mut paged = Vec::new();
    let mut before = None;
    loop {
        let page = audit::history(&db, USER, task_id, before, 3).unwrap();
        if page.is_empty() {
            break;
        }
        before = page.last().map(|entry| entry.seq);
        paged.extend(page.into_iter().map(|entry| entry.seq));
    }
    seqs.reverse();
    assert_eq!(paged, seqs);
}

#[test]
fn another_users_task_has_no_history() {
    let test_db = TestDb::new();
    let db = test_db.connect();
    let task_id = uuid::Uuid::new_v4();
    let seq = append(
        &db,
        "unused",
        &task_event(USER, task_id, EventType::TaskCreated, "mine"),
    );
    let message = spindle_storage::outbox::undelivered(&db, &[seq])
        .unwrap()
        .remove(0)
        .payload;
    audit::handle(&db, &message).unwrap();

    assert_eq!(
        audit::history(&db, USER, task_id, None, 10).unwrap().len(),
        1
    );
    assert!(audit::history(&db, "mallory", task_id, None, 10)
        .unwrap()
        .is_empty());
}

#[test]
fn a_creation_is_recorded_as_every_field_set_from_nothing_and_needs_no_task_row() {
    let test_db = TestDb::new();
    let db = test_db.connect();
    // No row in `tasks`: the task may be deleted by the time its events arrive.
    let task_id = uuid::Uuid::new_v4();
    let seq = append(
        &db,
        "unused",
        &task_event(USER, task_id, EventType::TaskCreated, "Buy milk"),
    );
    let message = spindle_storage::outbox::undelivered(&db, &[seq])
        .unwrap()
        .remove(0)
        .payload;
    audit::handle(&db, &message).unwrap();

    let entry = audit::history(&db, USER, task_id, None, 10)
        .unwrap()
        .remove(0);
    assert_eq!(
        entry.changes["title"],
        serde_json::json!({ "from": null, "to": "Buy milk" })
    );
    assert_eq!(entry.changes["priority"]["to"], "P2");
    assert!(
        entry.changes.get("version").is_none(),
        "bookkeeping fields are left out"
    );
}
