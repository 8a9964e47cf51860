//! The JSON a client sees.

use serde_json::{json, Map, Value};
use spindle_domain::{format_instant, Reminder, ReminderSpec, Task};

/// A task as sent to clients and carried in events. Its due date reads in the
/// task's own time zone; the other instants in UTC.
pub fn task(task: &Task) -> Value {
    json!({
        "id": task.id,
        "title": task.title,
        "description": task.description,
        "priority": task.priority.as_str(),
        "tags": task.tags,
        "status": task.status.as_str(),
        "completed_at": task.status.completed_at().map(|at| format_instant(at, None)),
        "due_at": task.due_at.map(|at| format_instant(at, Some(&task.timezone))),
        "timezone": task.timezone.name(),
        "recurrence": task.recurrence.as_ref().map(|r| r.as_str()),
        "recurrence_mode": task.recurrence_mode.as_str(),
        "series_id": task.series_id,
        "occurrence": task.occurrence,
        "reminders": task.reminders.iter().map(|r| reminder(task, r)).collect::<Vec<_>>(),
        "version": task.version,
        "created_at": format_instant(task.created_at, None),
        "updated_at": format_instant(task.updated_at, None),
    })
}

fn reminder(task: &Task, reminder: &Reminder) -> Value {
    let mut out = json!({
        "id": reminder.id,
        "fire_at": reminder.fire_at.map(|at| format_instant(at, Some(&task.timezone))),
        "state": reminder.state.as_str(),
    });
    match reminder.spec {
        ReminderSpec::Before { minutes } => out["minutes_before"] = json!(minutes),
        ReminderSpec::At(at) => out["at"] = json!(format_instant(at, Some(&task.timezone))),
    }
    out
}

/// Fields whose change is worth telling about (not the bookkeeping ones).
const TRACKED: &[&str] = &[
    "title",
    "description",
    "priority",
    "tags",
    "status",
    "completed_at",
    "due_at",
    "timezone",
    "recurrence",
    "recurrence_mode",
    "reminders",
];

/// `{field: {from, to}}` for every tracked field that differs.
pub fn changes(before: &Value, after: &Value) -> Map<String, Value> {
    TRACKED
        .iter()
        .filter(|field| before.get(**field) != after.get(**field))
        .map(|field| {
            let change = json!({ "from": before.get(*field), "to": after.get(*field) });
            ((*field).to_owned(), change)
        })
        .collect()
}

/// The strong entity tag of a task version.
pub fn etag(task: &Task) -> String {
    format!("\"{}\"", task.version)
}
