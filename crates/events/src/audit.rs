//! The audit consumer: the user-visible history of every task.

use spindle_domain::event::{Envelope, EventType};
use spindle_domain::parse_instant;
use spindle_ports::{Db, DbError};
use spindle_storage::audit::{self, NewEntry};

pub use spindle_storage::audit::HistoryEntry;

use crate::handler::{self, HandlerError, Outcome};

/// The consumer name recorded in `processed_events`; the relay waits for it on
/// `task-events`.
pub const CONSUMER: &str = "audit";

/// Task fields shown as "set" in the history of a `task.created` event.
const CREATED_FIELDS: &[&str] = &[
    "title",
    "description",
    "priority",
    "tags",
    "status",
    "due_at",
    "timezone",
    "recurrence",
    "reminders",
];

/// Why a task event cannot be recorded. These are poison events: they fail on
/// every delivery and end in the dead letters, where an operator sees why.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("the {kind} event has no `task` object in its data, so its task cannot be identified; the producer must include the task")]
    MissingTask { kind: &'static str },
    #[error("the {kind} event's task has no UUID `id`; the producer must include the task's id")]
    MissingTaskId { kind: &'static str },
    #[error("the event has no valid `sequence`; only events published from the outbox can be placed in a history")]
    MissingSequence,
    #[error("the event id {0:?} is not a UUID")]
    BadEventId(String),
    #[error("the event `time` {0}")]
    BadTime(String),
    #[error("the history could not be written: {0}")]
    Database(#[from] DbError),
}

/// Handles one message from `task-events`: records it once in `audit_log`.
/// Events in any order are fine (history is ordered by `sequence`), and so are
/// events about tasks deleted since. Events that are not about a task (e.g.
/// `reminder.due`) are acknowledged without effect.
pub fn handle<D: Db>(db: &D, message: &[u8]) -> Result<Outcome, HandlerError<AuditError>> {
    handler::run(db, CONSUMER, message, record)
}

fn record<D: Db>(db: &D, envelope: &Envelope) -> Result<(), AuditError> {
    let kind = envelope.kind;
    if kind == EventType::ReminderDue {
        return Ok(());
    }
    let task = envelope
        .data
        .get("task")
        .and_then(|task| task.as_object())
        .ok_or(AuditError::MissingTask {
            kind: kind.as_str(),
        })?;
    let task_id = task
        .get("id")
        .and_then(|id| id.as_str())
        .and_then(|id| uuid::Uuid::parse_str(id).ok())
        .ok_or(AuditError::MissingTaskId {
            kind: kind.as_str(),
        })?;
    let seq = envelope.seq().ok_or(AuditError::MissingSequence)?;
    let occurred_at = parse_instant(&envelope.time).map_err(AuditError::BadTime)?;
    let event_id = uuid::Uuid::parse_str(&envelope.id)
        .map_err(|_| AuditError::BadEventId(envelope.id.clone()))?;
    let changes = changes_of(envelope, task);
    audit::insert(
        db,
        &NewEntry {
            event_id,
            seq,
            user_id: &envelope.userid,
            task_id,
            event_type: kind.as_str(),
            actor: &envelope.userid,
            changes: &changes,
            occurred_at,
        },
    )?;
    Ok(())
}

/// The event's `changes`; for a creation, which has none, every user-visible
/// field of the new task as a change from `null`.
fn changes_of(
    envelope: &Envelope,
    task: &serde_json::Map<String, serde_json::Value>,
) -> serde_json::Value {
    if let Some(changes) = envelope.data.get("changes").filter(|c| c.is_object()) {
        return changes.clone();
    }
    if envelope.kind != EventType::TaskCreated {
        return serde_json::json!({});
    }
    let fields: serde_json::Map<String, serde_json::Value> = CREATED_FIELDS
        .iter()
        .filter_map(|field| {
            let value = task.get(*field)?;
            Some((
                (*field).to_owned(),
                serde_json::json!({ "from": null, "to": value }),
            ))
        })
        .collect();
    serde_json::Value::Object(fields)
}

/// A task's history, newest first (read straight from the audit log).
pub use spindle_storage::audit::history;
