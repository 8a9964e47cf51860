//! The recurrence consumer: when a recurring task is completed, the next task
//! of its series appears, once.
//!
//! Once per event is the frame's job ([`crate::handler`]); once per
//! occurrence is the database's: the next task is inserted under the unique
//! (series_id, occurrence) constraint, so a complete → reopen → complete, two
//! replicas, or a redelivery after a crash all end with one next task. The
//! task, its reminders, its `task.created` event and the processed record
//! commit together; the event is published right after.

use serde_json::Value;
use spindle_domain::event::{format_sequence, Envelope, EventType, TASK_EVENTS_CHANNEL};
use spindle_domain::{format_instant, Instant, Task};
use spindle_ports::{Clock, Db, DbError, Publisher};
use spindle_storage::outbox::{self, OutboxMessage};
use spindle_storage::tasks;

use crate::handler::{self, HandlerError, Outcome};
use crate::publish;

/// The consumer name recorded in `processed_events`; the relay waits for it on
/// `task-events`.
pub const CONSUMER: &str = "recurrence";

/// How a task is shown in events (the API's view), so that the `task.created`
/// of a next task reads like one made through the API.
pub type TaskView = fn(&Task) -> Value;

/// What the handler needs from the platform.
pub struct Recurrences<'a, D, P> {
    pub db: &'a D,
    pub publisher: &'a P,
    pub clock: &'a dyn Clock,
    pub view: TaskView,
}

/// Why a completion could not be followed up. The event stays unprocessed and
/// is redelivered; a poison event ends in the dead letters with this reason.
#[derive(Debug, thiserror::Error)]
pub enum RecurrenceError {
    #[error("the task.completed event has no UUID at data.task.id, so its task cannot be found; the producer must include the task")]
    MissingTaskId,
    #[error("the next task could not be written: {0}")]
    Database(#[from] DbError),
    #[error("the next task's event could not be encoded: {0}")]
    Encoding(String),
}

impl<D: Db, P: Publisher> Recurrences<'_, D, P> {
    /// Handles one message from `task-events`: on `task.completed` of a
    /// recurring task, creates the next task of its series. Every other event
    /// is acknowledged without effect.
    pub fn handle(&self, message: &[u8]) -> Result<Outcome, HandlerError<RecurrenceError>> {
        let mut created = None;
        let outcome = handler::run(self.db, CONSUMER, message, |tx, envelope| {
            created = self.create_next(tx, envelope)?;
            Ok(())
        })?;
        if let Some(message) = created {
            // Never fails the handler: what is not published now, the relay publishes.
            let report = publish::send_marked(self.db, self.publisher, &[message]);
            if !report.all_published() {
                eprintln!("spindle: next task's event left for the relay: {report:?}");
            }
        }
        Ok(outcome)
    }

    /// In the handler's transaction: the next task and its event, marked for
    /// publishing, or nothing when there is none to create (not a completion,
    /// task deleted or reopened since, not recurring, series ended, or that
    /// occurrence already exists).
    fn create_next(
        &self,
        db: &D,
        envelope: &Envelope,
    ) -> Result<Option<OutboxMessage>, RecurrenceError> {
        if envelope.kind != EventType::TaskCompleted {
            return Ok(None);
        }
        let task_id = envelope
            .data
            .pointer("/task/id")
            .and_then(Value::as_str)
            .and_then(|id| uuid::Uuid::parse_str(id).ok())
            .ok_or(RecurrenceError::MissingTaskId)?;
        // The task as it is now, not as the event saw it: a rule edited or a
        // task reopened since the completion is what the user meant last.
        let Some(task) = tasks::get(db, &envelope.userid, task_id)? else {
            return Ok(None);
        };
        let Some(next) = task.next_occurrence() else {
            return Ok(None);
        };
        let now = Instant::from_micros(self.clock.now_micros());
        let Some(created) =
            tasks::insert_next(db, &task.user_id, uuid::Uuid::new_v4(), &next, now)?
        else {
            return Ok(None);
        };
        let mut event = Envelope::task(
            uuid::Uuid::new_v4(),
            EventType::TaskCreated,
            &created.user_id,
            created.id,
            format_instant(now, None),
            serde_json::json!({ "task": (self.view)(&created) }),
        );
        event.causationid = Some(envelope.id.clone());
        let seq = outbox::append(db, TASK_EVENTS_CHANNEL, &event, Some(created.id))?;
        publish::mark_for_publish(db, &[seq])?;
        event.sequence = Some(format_sequence(seq));
        let payload =
            serde_json::to_vec(&event).map_err(|e| RecurrenceError::Encoding(e.to_string()))?;
        Ok(Some(OutboxMessage {
            seq,
            user_id: created.user_id.clone(),
            channel: TASK_EVENTS_CHANNEL.to_owned(),
            payload,
        }))
    }
}
