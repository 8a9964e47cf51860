//! Reminders of a task: relative to its due date or at a fixed instant.

use crate::time::Instant;

/// The most reminders one task may carry.
pub const MAX_REMINDERS: usize = 10;
/// A year, in minutes: the furthest ahead of a due date a reminder may be.
const MAX_MINUTES_BEFORE: i64 = 525_600;

/// When a reminder fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReminderSpec {
    /// `minutes` before the task's due date; fires only while the task has one.
    Before { minutes: i32 },
    /// At a fixed instant, whatever the due date.
    At(Instant),
}

impl ReminderSpec {
    pub fn before(minutes: i64) -> Result<Self, String> {
        if !(0..=MAX_MINUTES_BEFORE).contains(&minutes) {
            return Err(format!(
                "minutes_before must be between 0 and {MAX_MINUTES_BEFORE}"
            ));
        }
        // In range of i32 by the check above.
        Ok(ReminderSpec::Before {
            minutes: i32::try_from(minutes).map_err(|e| e.to_string())?,
        })
    }

    /// The instant this reminder fires for a task due at `due`.
    pub fn fire_at(&self, due: Option<Instant>) -> Option<Instant> {
        match *self {
            ReminderSpec::Before { minutes } => due.map(|d| d.minus_minutes(minutes)),
            ReminderSpec::At(at) => Some(at),
        }
    }
}

/// Where a reminder is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReminderState {
    Pending,
    Fired,
    /// Claimed later than `reminder_max_late` after its time: inbox only.
    Missed,
    Delivered,
    Failed,
    Cancelled,
}

impl ReminderState {
    pub fn as_str(self) -> &'static str {
        match self {
            ReminderState::Pending => "pending",
            ReminderState::Fired => "fired",
            ReminderState::Missed => "missed",
            ReminderState::Delivered => "delivered",
            ReminderState::Failed => "failed",
            ReminderState::Cancelled => "cancelled",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Some(match raw {
            "pending" => ReminderState::Pending,
            "fired" => ReminderState::Fired,
            "missed" => ReminderState::Missed,
            "delivered" => ReminderState::Delivered,
            "failed" => ReminderState::Failed,
            "cancelled" => ReminderState::Cancelled,
            _ => return None,
        })
    }
}

/// A stored reminder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reminder {
    pub id: uuid::Uuid,
    pub spec: ReminderSpec,
    pub fire_at: Option<Instant>,
    pub state: ReminderState,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_relative_reminder_fires_before_the_due_date() {
        let due = Instant::from_micros(3_600_000_000);
        let spec = ReminderSpec::before(15).unwrap();
        assert_eq!(
            spec.fire_at(Some(due)),
            Some(Instant::from_micros(2_700_000_000))
        );
    }

    #[test]
    fn a_relative_reminder_without_due_date_does_not_fire() {
        assert_eq!(ReminderSpec::before(15).unwrap().fire_at(None), None);
    }

    #[test]
    fn negative_minutes_are_rejected() {
        assert!(ReminderSpec::before(-1).is_err());
    }
}
