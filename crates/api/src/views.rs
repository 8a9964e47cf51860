//! The JSON a client sees.

use serde::Serialize;
use serde_json::{json, Map, Value};
use spindle_domain::{format_instant, Description, Reminder, ReminderSpec, Tags, Task, Title};
use uuid::Uuid;

/// A task as sent to clients and carried in events. Its due date reads in the
/// task's own time zone; the other instants in UTC. Serialised straight from the
/// task (no `Value` tree in between): a page of 50 is most of a list's own work.
#[derive(Serialize)]
pub struct TaskView<'a> {
    id: Uuid,
    title: &'a Title,
    description: &'a Description,
    priority: &'static str,
    tags: &'a Tags,
    status: &'static str,
    completed_at: Option<String>,
    due_at: Option<String>,
    timezone: &'static str,
    recurrence: Option<&'a str>,
    recurrence_mode: &'static str,
    series_id: Option<Uuid>,
    occurrence: i32,
    reminders: Vec<ReminderView>,
    version: i64,
    created_at: String,
    updated_at: String,
}

impl<'a> TaskView<'a> {
    pub fn new(task: &'a Task) -> Self {
        TaskView {
            id: task.id,
            title: &task.title,
            description: &task.description,
            priority: task.priority.as_str(),
            tags: &task.tags,
            status: task.status.as_str(),
            completed_at: task
                .status
                .completed_at()
                .map(|at| format_instant(at, None)),
            due_at: task
                .due_at
                .map(|at| format_instant(at, Some(&task.timezone))),
            timezone: task.timezone.name(),
            recurrence: task.recurrence.as_ref().map(|r| r.as_str()),
            recurrence_mode: task.recurrence_mode.as_str(),
            series_id: task.series_id,
            occurrence: task.occurrence,
            reminders: task
                .reminders
                .iter()
                .map(|r| ReminderView::new(task, r))
                .collect(),
            version: task.version,
            created_at: format_instant(task.created_at, None),
            updated_at: format_instant(task.updated_at, None),
        }
    }
}

/// A reminder: `minutes_before` its task is due, or `at` a fixed time.
#[derive(Serialize)]
struct ReminderView {
    id: Uuid,
    fire_at: Option<String>,
    state: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    minutes_before: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    at: Option<String>,
}

impl ReminderView {
    fn new(task: &Task, reminder: &Reminder) -> Self {
        let (minutes_before, at) = match reminder.spec {
            ReminderSpec::Before { minutes } => (Some(minutes), None),
            ReminderSpec::At(at) => (None, Some(format_instant(at, Some(&task.timezone)))),
        };
        ReminderView {
            id: reminder.id,
            fire_at: reminder
                .fire_at
                .map(|at| format_instant(at, Some(&task.timezone))),
            state: reminder.state.as_str(),
            minutes_before,
            at,
        }
    }
}

/// A task as a JSON value, for events and for comparing two versions.
pub fn task(task: &Task) -> Value {
    // Serialising a view cannot fail: every key is a string.
    serde_json::to_value(TaskView::new(task)).unwrap_or_default()
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
