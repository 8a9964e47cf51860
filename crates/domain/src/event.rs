//! The CloudEvents 1.0 envelope every change is recorded and published in.

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

/// The Redis channel task events are published on.
pub const TASK_EVENTS_CHANNEL: &str = "task-events";
/// Where events that exhausted their delivery attempts are announced.
pub const TASK_EVENTS_DLQ_CHANNEL: &str = "task-events.dlq";
/// The `source` attribute of every task event.
pub const TASK_EVENT_SOURCE: &str = "/spindle/tasks";
/// The Redis channel of `reminder.due` events and `delivery.due` announcements,
/// which the notifier subscribes to.
pub const REMINDERS_CHANNEL: &str = "reminders";
/// The outbox channel of `notification.created` events: they exist for the change
/// feed, and nobody needs to hear them on the bus.
pub const NOTIFICATIONS_CHANNEL: &str = "notifications";
/// The `source` of `reminder.due` and `delivery.due`.
pub const REMINDER_EVENT_SOURCE: &str = "/spindle/reminders";
/// The `source` of `notification.created`.
pub const NOTIFICATION_EVENT_SOURCE: &str = "/spindle/notifications";

/// What happened to a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EventType {
    #[serde(rename = "task.created")]
    TaskCreated,
    #[serde(rename = "task.updated")]
    TaskUpdated,
    #[serde(rename = "task.completed")]
    TaskCompleted,
    #[serde(rename = "task.reopened")]
    TaskReopened,
    #[serde(rename = "task.deleted")]
    TaskDeleted,
    #[serde(rename = "reminder.due")]
    ReminderDue,
    /// A new inbox entry (for the change feed).
    #[serde(rename = "notification.created")]
    NotificationCreated,
    /// A webhook delivery is due for another attempt (announced by the tick from the
    /// deliveries table; never stored in the outbox).
    #[serde(rename = "delivery.due")]
    DeliveryDue,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::TaskCreated => "task.created",
            EventType::TaskUpdated => "task.updated",
            EventType::TaskCompleted => "task.completed",
            EventType::TaskReopened => "task.reopened",
            EventType::TaskDeleted => "task.deleted",
            EventType::ReminderDue => "reminder.due",
            EventType::NotificationCreated => "notification.created",
            EventType::DeliveryDue => "delivery.due",
        }
    }
}

/// A CloudEvents 1.0 structured-mode event with Spindle's extensions.
///
/// `causationid` is the id of the event that caused this one, when another
/// event did (a series' next task is created because its previous task was
/// completed), so history can say "created because … was completed".
///
/// `sequence` is the event's position in the outbox, zero-padded so that the
/// CloudEvents rule "compare sequences as strings" orders them correctly. It is
/// absent until the event has been stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Envelope {
    pub specversion: String,
    pub id: String,
    pub source: String,
    #[serde(rename = "type")]
    pub kind: EventType,
    pub subject: String,
    pub time: String,
    pub datacontenttype: String,
    pub userid: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequence: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub causationid: Option<String>,
    pub data: Json,
}

impl Envelope {
    /// A new task event; `time` is RFC 3339.
    pub fn task(
        id: uuid::Uuid,
        kind: EventType,
        user_id: &str,
        task_id: uuid::Uuid,
        time: String,
        data: Json,
    ) -> Self {
        Envelope {
            specversion: "1.0".to_owned(),
            id: id.to_string(),
            source: TASK_EVENT_SOURCE.to_owned(),
            kind,
            subject: format!("tasks/{task_id}"),
            time,
            datacontenttype: "application/json".to_owned(),
            userid: user_id.to_owned(),
            sequence: None,
            causationid: None,
            data,
        }
    }

    /// A new event of any kind; `time` is RFC 3339.
    pub fn new(
        kind: EventType,
        source: &str,
        subject: String,
        user_id: &str,
        time: String,
        data: Json,
    ) -> Self {
        Envelope {
            specversion: "1.0".to_owned(),
            id: uuid::Uuid::new_v4().to_string(),
            source: source.to_owned(),
            kind,
            subject,
            time,
            datacontenttype: "application/json".to_owned(),
            userid: user_id.to_owned(),
            sequence: None,
            causationid: None,
            data,
        }
    }

    /// The outbox position carried in `sequence`, if stored.
    pub fn seq(&self) -> Option<i64> {
        self.sequence.as_deref().and_then(|s| s.parse().ok())
    }
}

/// Formats an outbox position as a CloudEvents `sequence` value.
pub fn format_sequence(seq: i64) -> String {
    format!("{seq:020}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequences_compare_as_strings_in_numeric_order() {
        assert!(format_sequence(9) < format_sequence(10));
        assert!(format_sequence(99_999) < format_sequence(100_000));
    }

    #[test]
    fn an_envelope_round_trips_with_its_type_name() {
        let env = Envelope::task(
            uuid::Uuid::nil(),
            EventType::TaskCompleted,
            "alice",
            uuid::Uuid::nil(),
            "2026-01-01T00:00:00Z".into(),
            serde_json::json!({}),
        );
        let json = serde_json::to_value(&env).unwrap();
        assert_eq!(json["type"], "task.completed");
        assert!(json.get("sequence").is_none());
        let back: Envelope = serde_json::from_value(json).unwrap();
        assert_eq!(back, env);
    }
}
