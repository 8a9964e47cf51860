//! The task itself.

use crate::recurrence::Recurrence;
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
    pub series_id: Option<uuid::Uuid>,
    pub occurrence: i32,
    pub reminders: Vec<Reminder>,
    pub version: i64,
    pub created_at: Instant,
    pub updated_at: Instant,
}
