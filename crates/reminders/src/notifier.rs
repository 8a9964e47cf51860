//! The notifier: the consumer of `reminders`.
//!
//! For a `reminder.due`, in one effect-once transaction: the inbox entry (and its
//! `notification.created` event) and one delivery row per enabled channel; then,
//! after the commit, one attempt at each of those deliveries. For a `delivery.due`
//! (a retry the tick announced): one attempt at that delivery. The delivery rows
//! decide what is sent: an attempt claims its row first, so redeliveries, replicas
//! and the relay's retries never send twice at once.
//!
//! It never publishes to Redis: what it announces goes to the outbox.

use spindle_domain::event::{Envelope, EventType};
use spindle_domain::{parse_instant, Instant};
use spindle_events::handler::{self, HandlerError, Outcome};
use spindle_ports::{Clock, Db, DbError, HttpClient};
use spindle_storage::deliveries;
use spindle_storage::notifications::{Kind, NewNotification};
use spindle_storage::tasks;

use crate::delivery::{self, Attempted, Senders};
use crate::inbox;
use crate::settings::{micros, Settings};

pub use spindle_events::NOTIFIER_CONSUMER as CONSUMER;

/// What the notifier did with one message.
#[derive(Debug, Default)]
pub struct Handled {
    /// The reminder event was new (not a duplicate delivery of it).
    pub processed: bool,
    pub inbox_entry: bool,
    /// Deliveries attempted now, with their result.
    pub attempts: Vec<(uuid::Uuid, Attempted)>,
}

#[derive(Debug, thiserror::Error)]
pub enum NotifierError {
    #[error("the message is not a valid event: {0}")]
    Malformed(String),
    #[error(transparent)]
    Handler(#[from] HandlerError<ReminderError>),
    #[error("a delivery could not be read or recorded: {0}; the tick announces it again")]
    Database(#[from] DbError),
}

/// Why a `reminder.due` could not be taken in.
#[derive(Debug, thiserror::Error)]
pub enum ReminderError {
    #[error(
        "the reminder.due event lacks {0}; the tick writes it, so this event was not made by it"
    )]
    Missing(&'static str),
    #[error(transparent)]
    Database(#[from] DbError),
}

/// Handles one message of `reminders`.
pub fn handle<D: Db, H: HttpClient + ?Sized>(
    db: &D,
    http: &H,
    clock: &(impl Clock + ?Sized),
    settings: &Settings,
    message: &[u8],
) -> Result<Handled, NotifierError> {
    let envelope: Envelope =
        serde_json::from_slice(message).map_err(|e| NotifierError::Malformed(e.to_string()))?;
    let senders = Senders::new(http, settings);
    let mut handled = Handled::default();
    let ids = match envelope.kind {
        EventType::ReminderDue => {
            let mut created = Vec::new();
            let mut inbox_entry = false;
            let outcome = handler::run(db, CONSUMER, message, |tx, envelope| {
                take_in(
                    tx,
                    clock,
                    settings,
                    envelope,
                    &mut created,
                    &mut inbox_entry,
                )
            })?;
            handled.processed = outcome == Outcome::Processed;
            handled.inbox_entry = inbox_entry;
            created
        }
        EventType::DeliveryDue => {
            let id = envelope
                .data
                .get("delivery_id")
                .and_then(|v| v.as_str())
                .and_then(|v| uuid::Uuid::parse_str(v).ok())
                .ok_or_else(|| {
                    NotifierError::Malformed("delivery.due without delivery_id".into())
                })?;
            vec![id]
        }
        // Nothing else is published on `reminders`.
        _ => Vec::new(),
    };
    for id in ids {
        let attempted = delivery::attempt(db, &senders, clock, settings, id)?;
        handled.attempts.push((id, attempted));
    }
    Ok(handled)
}

/// The transactional part of a `reminder.due`: inbox entry, delivery rows.
fn take_in<D: Db>(
    tx: &D,
    clock: &(impl Clock + ?Sized),
    settings: &Settings,
    envelope: &Envelope,
    created: &mut Vec<uuid::Uuid>,
    inbox_entry: &mut bool,
) -> Result<(), ReminderError> {
    let data = &envelope.data;
    let reminder = data
        .get("reminder")
        .ok_or(ReminderError::Missing("data.reminder"))?;
    let task = data
        .get("task")
        .ok_or(ReminderError::Missing("data.task"))?;
    let uuid_at = |v: &serde_json::Value, what| {
        v.get("id")
            .and_then(|id| id.as_str())
            .and_then(|id| uuid::Uuid::parse_str(id).ok())
            .ok_or(ReminderError::Missing(what))
    };
    let reminder_id = uuid_at(reminder, "data.reminder.id")?;
    let task_id = uuid_at(task, "data.task.id")?;
    // Completed or deleted since the tick claimed it: nothing to say any more.
    if !tasks::reminder_task_is_open(tx, reminder_id)? {
        return Ok(());
    }
    let missed = reminder
        .get("missed")
        .and_then(|m| m.as_bool())
        .unwrap_or(false);
    let instant = |v: Option<&serde_json::Value>| {
        v.and_then(|v| v.as_str())
            .and_then(|s| parse_instant(s).ok())
    };
    let now = Instant::from_micros(clock.now_micros());
    let title = task
        .get("title")
        .and_then(|t| t.as_str())
        .unwrap_or_default();
    let notification_id = uuid::Uuid::new_v4();
    *inbox_entry = inbox::add(
        tx,
        &NewNotification {
            id: notification_id,
            user_id: &envelope.userid,
            kind: if missed {
                Kind::MissedReminder
            } else {
                Kind::Reminder
            },
            reminder_id: Some(reminder_id),
            task_id: Some(task_id),
            channel_id: None,
            title,
            due_at: instant(task.get("due_at")),
            fire_at: instant(reminder.get("fire_at")),
        },
        now,
    )?
    .is_some();
    if missed {
        return Ok(());
    }
    // The inbox entry's id lets a receiver (a browser's service worker) mark it read.
    let body = serde_json::json!({
        "type": "reminder.due",
        "timestamp": envelope.time,
        "notification_id": inbox_entry.then_some(notification_id),
        "data": envelope.data,
    });
    let leave_until = Instant::from_micros(now.micros() + micros(settings.announce_lease));
    *created = deliveries::create_for_reminder(
        tx,
        &envelope.userid,
        reminder_id,
        task_id,
        &body,
        now,
        leave_until,
    )?;
    Ok(())
}
