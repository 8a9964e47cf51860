//! Shared by the `events_*` tests: building task events, appending them the way
//! the task API does (inside a transaction), and draining subscriptions.
#![allow(dead_code)]

use std::time::{Duration, Instant};

use serde_json::json;
use spindle_domain::event::{Envelope, EventType};
use spindle_events::relay::RelaySettings;
use spindle_native::testing::Subscription;
use spindle_native::PgDb;
use spindle_ports::{Db, DbError, Param};
use spindle_storage::outbox;

pub const USER: &str = "alice";

/// A task event as the task API writes it: `data.task` is the task after the
/// change, `data.changes` what changed.
pub fn task_event(user: &str, task_id: uuid::Uuid, kind: EventType, title: &str) -> Envelope {
    let task = json!({
        "id": task_id.to_string(),
        "title": title,
        "description": "",
        "priority": "P2",
        "tags": ["home"],
        "status": if kind == EventType::TaskCompleted { "completed" } else { "open" },
        "completed_at": null,
        "due_at": null,
        "timezone": "UTC",
        "recurrence": null,
        "reminders": [],
        "version": 1,
        "created_at": "2026-03-01T09:00:00Z",
        "updated_at": "2026-03-01T09:00:00Z",
    });
    let data = match kind {
        EventType::TaskCreated | EventType::TaskDeleted => json!({ "task": task }),
        _ => json!({ "task": task, "changes": { "title": { "from": "before", "to": title } } }),
    };
    Envelope::task(
        uuid::Uuid::new_v4(),
        kind,
        user,
        task_id,
        "2026-03-01T09:00:00.123456Z".to_owned(),
        data,
    )
}

/// A task event whose data lacks `task`: every consumer must refuse it.
pub fn poison_event(user: &str, task_id: uuid::Uuid) -> Envelope {
    Envelope::task(
        uuid::Uuid::new_v4(),
        EventType::TaskUpdated,
        user,
        task_id,
        "2026-03-01T09:00:00Z".to_owned(),
        json!({ "changes": { "title": { "from": "a", "to": "b" } } }),
    )
}

/// Appends `envelope` on `channel` in its own transaction, as a write of the
/// task API would, and returns its sequence number.
pub fn append(db: &PgDb, channel: &str, envelope: &Envelope) -> i64 {
    let task_id = envelope
        .subject
        .strip_prefix("tasks/")
        .and_then(|id| uuid::Uuid::parse_str(id).ok());
    db.transaction(|tx| outbox::append(tx, channel, envelope, task_id))
        .expect("appending to the outbox")
}

/// Relay settings for a test's private channel: the audit must process its
/// events, retries come quickly.
pub fn relay_settings(channel: &str, max_attempts: u32) -> RelaySettings {
    RelaySettings {
        max_attempts,
        batch_size: 500,
        base_delay: Duration::from_millis(1),
        max_backoff: Duration::from_millis(1),
        time_budget: Duration::from_secs(30),
        required_consumers: Vec::new(),
    }
    .requiring(channel, &[spindle_events::audit::CONSUMER])
}

/// Lets time pass for the relay: every pending event is due now.
pub fn make_everything_due(db: &PgDb) {
    db.execute(
        "UPDATE outbox SET next_attempt_at = now() WHERE delivered_at IS NULL AND dead_at IS NULL",
        &[],
    )
    .expect("making events due");
}

/// Every message received until none arrives for `quiet`.
pub fn drain(subscription: &Subscription, quiet: Duration) -> Vec<Vec<u8>> {
    let mut messages = Vec::new();
    while let Some(message) = subscription.recv_timeout(quiet) {
        messages.push(message);
    }
    messages
}

/// Exactly `count` messages, failing if they take longer than `within`.
pub fn receive(subscription: &Subscription, count: usize, within: Duration) -> Vec<Vec<u8>> {
    let deadline = Instant::now() + within;
    let mut messages = Vec::with_capacity(count);
    while messages.len() < count {
        let left = deadline.saturating_duration_since(Instant::now());
        match subscription.recv_timeout(left) {
            Some(message) => messages.push(message),
            None => panic!(
                "received {} of {count} messages within {within:?}",
                messages.len()
            ),
        }
    }
    messages
}

pub fn envelope_of(message: &[u8]) -> Envelope {
    serde_json::from_slice(message).expect("a published message is an envelope")
}

pub fn count(db: &PgDb, sql: &str, params: &[Param]) -> i64 {
    let rows: Result<_, DbError> = db.query(sql, params);
    rows.expect("counting")
        .first()
        .expect("a count row")
        .i64("n")
        .expect("an integer count")
}
