//! The task itself.

use crate::draft::TaskDraft;
use crate::recurrence::{next_reminders, Recurrence, RecurrenceMode, Series};
use crate::reminder::Reminder;
use crate::text::{Description, Tags, Title};
use crate::time::{Instant, TimeZone};

/// P1 is the most urgent, P4 (the default) the least.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Priority {
    P1,
    P2,
    P3,
    #[default]
    P4,
}

impl Priority {
    pub fn parse(raw: &str) -> Result<Self, String> {
        match raw.trim().to_ascii_uppercase().as_str() {
            "P1" => Ok(Priority::P1),
            "P2" => Ok(Priority::P2),
            "P3" => Ok(Priority::P3),
            "P4" => Ok(Priority::P4),
            _ => Err(format!(
                "{raw:?} is not a priority; use P1 (highest), P2, P3 or P4"
            )),
        }
    }

    /// The stored rank: 1 for P1 … 4 for P4, so ascending order is most urgent first.
    pub fn rank(self) -> i32 {
        match self {
            Priority::P1 => 1,
            Priority::P2 => 2,
            Priority::P3 => 3,
            Priority::P4 => 4,
        }
    }

    pub fn from_rank(rank: i64) -> Option<Self> {
        Some(match rank {
            1 => Priority::P1,
            2 => Priority::P2,
            3 => Priority::P3,
            4 => Priority::P4,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Priority::P1 => "P1",
            Priority::P2 => "P2",
            Priority::P3 => "P3",
            Priority::P4 => "P4",
        }
    }
}

/// Whether a task is still to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    Open,
    /// Completed at the given instant.
    Completed(Instant),
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Open => "open",
            Status::Completed(_) => "completed",
        }
    }

    pub fn completed_at(self) -> Option<Instant> {
        match self {
            Status::Open => None,
            Status::Completed(at) => Some(at),
        }
    }
}

/// A stored task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task {
    pub id: uuid::Uuid,
    pub user_id: String,
    pub title: Title,
    pub description: Description,
    pub priority: Priority,
    pub tags: Tags,
    pub status: Status,
    pub due_at: Option<Instant>,
    pub timezone: TimeZone,
    pub recurrence: Option<Recurrence>,
    pub recurrence_mode: RecurrenceMode,
    pub series_id: Option<uuid::Uuid>,
    /// The series' first due date (DTSTART), which the rule is expanded from.
    pub series_start: Option<Instant>,
    pub occurrence: i32,
    pub reminders: Vec<Reminder>,
    pub version: i64,
    pub created_at: Instant,
    pub updated_at: Instant,
}

/// The task that follows a completed one in its series.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NextOccurrence {
    pub draft: TaskDraft,
    pub series_id: uuid::Uuid,
    pub occurrence: i32,
    pub series_start: Instant,
}

impl Task {
    /// The task's series, when it recurs.
    pub fn series(&self) -> Option<Series<'_>> {
        Some(Series {
            rule: self.recurrence.as_ref()?,
            mode: self.recurrence_mode,
            start: self.series_start.or(self.due_at)?,
            zone: self.timezone,
        })
    }

    /// What comes after this task once completed: the same task with the next
    /// due date, its reminders moved along, the next occurrence index. `None`
    /// when it is not completed, does not recur, or its series has ended.
    pub fn next_occurrence(&self) -> Option<NextOccurrence> {
        let completed_at = self.status.completed_at()?;
        let due = self.due_at?;
        let series = self.series()?;
        let next_due = series.next_due(due, completed_at, self.occurrence)?;
        let specs: Vec<_> = self.reminders.iter().map(|r| r.spec).collect();
        Some(NextOccurrence {
            draft: TaskDraft {
                due_at: Some(next_due),
                reminders: next_reminders(&specs, due, next_due, self.timezone),
                ..TaskDraft::of(self)
            },
            series_id: self.series_id.unwrap_or(self.id),
            occurrence: self.occurrence.checked_add(1)?,
            series_start: series.start,
        })
    }
}
