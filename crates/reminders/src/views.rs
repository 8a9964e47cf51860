//! The JSON shapes of channels, deliveries and inbox entries, shared by the API,
//! the change feed and webhook bodies.

use serde_json::{json, Value};
use spindle_domain::{format_instant, Instant};
use spindle_storage::channels::Channel;
use spindle_storage::deliveries::LogEntry;
use spindle_storage::notifications::Notification;

fn time(instant: Instant) -> String {
    format_instant(instant, None)
}

fn opt_time(instant: Option<Instant>) -> Value {
    instant.map_or(Value::Null, |i| Value::String(time(i)))
}

/// A channel without its secrets.
pub fn channel(c: &Channel) -> Value {
    json!({
        "id": c.id,
        "type": c.kind.as_str(),
        "name": c.name,
        "url": c.target,
        "enabled": c.enabled,
        "disabled_reason": c.disabled_reason,
        "previous_secret_expires_at": opt_time(c.previous_expires_at),
        "created_at": time(c.created_at),
        "updated_at": time(c.updated_at),
    })
}

pub fn delivery(d: &LogEntry) -> Value {
    json!({
        "id": d.id,
        "reminder_id": d.reminder_id,
        "task_id": d.task_id,
        "kind": if d.reminder_id.is_some() { "reminder" } else { "ping" },
        "attempts": d.attempts,
        "state": d.state,
        "last_status": d.last_status,
        "last_error": d.last_error,
        "created_at": time(d.created_at),
        "updated_at": time(d.updated_at),
    })
}

pub fn notification(n: &Notification) -> Value {
    json!({
        "id": n.id,
        "kind": n.kind.as_str(),
        "task_id": n.task_id,
        "channel_id": n.channel_id,
        "reminder_id": n.reminder_id,
        "title": n.title,
        "due_at": opt_time(n.due_at),
        "fire_at": opt_time(n.fire_at),
        "created_at": time(n.created_at),
        "read_at": opt_time(n.read_at),
    })
}
