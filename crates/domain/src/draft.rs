//! The editable part of a task, and the rules that tie its fields together.

use crate::errors::FieldErrors;
use crate::recurrence::{Recurrence, RecurrenceMode};
use crate::reminder::{ReminderSpec, MAX_REMINDERS};
use crate::task::{Priority, Task};
use crate::text::{Description, Tags, Title};
use crate::time::{Instant, TimeZone};

/// What a client sent, each field already parsed on its own. `None` means "not
/// sent"; `Some(None)` means "cleared" for the fields that may be null.
#[derive(Debug, Clone, Default)]
pub struct DraftFields {
    pub title: Option<Title>,
    pub description: Option<Description>,
    pub priority: Option<Priority>,
    pub tags: Option<Tags>,
    pub due_at: Option<Option<Instant>>,
    pub timezone: Option<TimeZone>,
    /// Kept raw: a rule can only be checked against the final due date and zone.
    pub recurrence: Option<Option<String>>,
    pub recurrence_mode: Option<RecurrenceMode>,
    pub reminders: Option<Vec<ReminderSpec>>,
}

/// Every editable field of a task, consistent with each other.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskDraft {
    pub title: Title,
    pub description: Description,
    pub priority: Priority,
    pub tags: Tags,
    pub due_at: Option<Instant>,
    pub timezone: TimeZone,
    pub recurrence: Option<Recurrence>,
    pub recurrence_mode: RecurrenceMode,
    pub reminders: Vec<ReminderSpec>,
}

impl TaskDraft {
    /// A new task. `errors` holds what went wrong parsing the single fields, so
    /// that the client hears about everything at once.
    pub fn create(fields: DraftFields, mut errors: FieldErrors) -> Result<TaskDraft, FieldErrors> {
        if fields.title.is_none() && !errors.errors().iter().any(|e| e.field == "title") {
            errors.add("title", "is required");
        }
        let due_at = fields.due_at.flatten();
        let timezone = fields.timezone.unwrap_or(TimeZone::UTC);
        let recurrence =
            resolve_recurrence(fields.recurrence.flatten(), due_at, timezone, &mut errors);
        let recurrence_mode = fields.recurrence_mode.unwrap_or_default();
        check_mode(recurrence_mode, due_at, "recurrence_mode", &mut errors);
        let reminders = fields.reminders.unwrap_or_default();
        check_reminders(&reminders, &mut errors);
        let (Some(title), true) = (fields.title, errors.is_empty()) else {
            return Err(errors);
        };
        Ok(TaskDraft {
            title,
            description: fields.description.unwrap_or_default(),
            priority: fields.priority.unwrap_or_default(),
            tags: fields.tags.unwrap_or_default(),
            due_at,
            timezone,
            recurrence,
            recurrence_mode,
            reminders,
        })
    }

    /// The editable fields of a stored task.
    pub fn of(task: &Task) -> TaskDraft {
        TaskDraft {
            title: task.title.clone(),
            description: task.description.clone(),
            priority: task.priority,
            tags: task.tags.clone(),
            due_at: task.due_at,
            timezone: task.timezone,
            recurrence: task.recurrence.clone(),
            recurrence_mode: task.recurrence_mode,
            reminders: task.reminders.iter().map(|r| r.spec).collect(),
        }
    }

    /// This draft with `fields` applied. A rule that is sent is checked against
    /// the (new) due date; a kept rule is not checked again (moving the due date
    /// past UNTIL simply makes this the last task), but still needs a due date.
    pub fn patch(
        self,
        fields: DraftFields,
        mut errors: FieldErrors,
    ) -> Result<TaskDraft, FieldErrors> {
        let due_at = fields.due_at.unwrap_or(self.due_at);
        let timezone = fields.timezone.unwrap_or(self.timezone);
        let recurrence = match fields.recurrence {
            Some(raw) => resolve_recurrence(raw, due_at, timezone, &mut errors),
            None if self.recurrence.is_some() && due_at.is_none() => {
                errors.add("due_at", NEEDS_DUE);
                None
            }
            None => self.recurrence,
        };
        let mode_sent = fields.recurrence_mode.is_some();
        let recurrence_mode = fields.recurrence_mode.unwrap_or(self.recurrence_mode);
        let blame = if mode_sent {
            "recurrence_mode"
        } else {
            "due_at"
        };
        check_mode(recurrence_mode, due_at, blame, &mut errors);
        let reminders = fields.reminders.unwrap_or(self.reminders);
        check_reminders(&reminders, &mut errors);
        errors.into_result(|| TaskDraft {
            title: fields.title.unwrap_or(self.title),
            description: fields.description.unwrap_or(self.description),
            priority: fields.priority.unwrap_or(self.priority),
            tags: fields.tags.unwrap_or(self.tags),
            due_at,
            timezone,
            recurrence,
            recurrence_mode,
            reminders,
        })
    }

    /// The first due date (DTSTART) of the series this draft belongs to, once
    /// written over `current` (`None` for a new task). It follows the due date
    /// of a series' first task, and moves to this task's due date when the
    /// rule, the mode or the time zone changes: "this and the following
    /// occurrences" follow the new rule from here. Otherwise it is kept, so
    /// moving one occurrence does not move the others.
    pub fn series_start(&self, current: Option<&Task>) -> Option<Instant> {
        self.recurrence.as_ref()?;
        let Some(current) = current else {
            return self.due_at;
        };
        let same_series = current.recurrence == self.recurrence
            && current.recurrence_mode == self.recurrence_mode
            && current.timezone == self.timezone
            && !(current.occurrence == 0 && current.due_at != self.due_at);
        match current.series_start {
            Some(start) if same_series => Some(start),
            _ => self.due_at,
        }
    }
}

const NEEDS_DUE: &str = "a recurring task needs a due_at: its first occurrence is the due date (clear recurrence to remove the due date)";

/// `from_completion` keeps the due date's time of day, so it needs one.
fn check_mode(
    mode: RecurrenceMode,
    due_at: Option<Instant>,
    field: &str,
    errors: &mut FieldErrors,
) {
    if mode == RecurrenceMode::FromCompletion && due_at.is_none() {
        errors.add(
            field,
            "recurrence_mode from_completion needs a due_at: the next task keeps its time of day (set due_at, or use recurrence_mode schedule)",
        );
    }
}

/// Checks a rule the client sent against the due date, its first occurrence.
fn resolve_recurrence(
    raw: Option<String>,
    due_at: Option<Instant>,
    timezone: TimeZone,
    errors: &mut FieldErrors,
) -> Option<Recurrence> {
    let raw = raw?;
    let Some(start) = due_at else {
        errors.add("recurrence", NEEDS_DUE);
        return None;
    };
    errors.check(
        "recurrence",
        Recurrence::parse(&raw, start, timezone).map_err(|e| format!("recurrence {e}")),
    )
}

fn check_reminders(reminders: &[ReminderSpec], errors: &mut FieldErrors) {
    if reminders.len() > MAX_REMINDERS {
        errors.add(
            "reminders",
            format!(
                "a task may have at most {MAX_REMINDERS} reminders (got {})",
                reminders.len()
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::parse_instant;

    fn fields(title: &str) -> DraftFields {
        DraftFields {
            title: Some(Title::parse(title).unwrap()),
            ..DraftFields::default()
        }
    }

    #[test]
    fn a_task_without_title_is_rejected() {
        let err = TaskDraft::create(DraftFields::default(), FieldErrors::new()).unwrap_err();
        assert_eq!(err.errors()[0].field, "title");
    }

    #[test]
    fn defaults_are_p4_utc_and_no_tags() {
        let draft = TaskDraft::create(fields("x"), FieldErrors::new()).unwrap();
        assert_eq!(draft.priority, Priority::P4);
        assert_eq!(draft.timezone, TimeZone::UTC);
        assert!(draft.tags.to_strings().is_empty());
    }

    #[test]
    fn a_recurring_task_needs_a_due_date() {
        let mut f = fields("x");
        f.recurrence = Some(Some("daily".into()));
        let err = TaskDraft::create(f, FieldErrors::new()).unwrap_err();
        assert_eq!(err.errors()[0].field, "recurrence");
    }

    #[test]
    fn clearing_the_due_date_of_a_recurring_task_is_rejected_on_due_at() {
        let mut f = fields("x");
        f.due_at = Some(Some(parse_instant("2026-01-01T09:00:00Z").unwrap()));
        f.recurrence = Some(Some("daily".into()));
        let draft = TaskDraft::create(f, FieldErrors::new()).unwrap();
        let clear = DraftFields {
            due_at: Some(None),
            ..DraftFields::default()
        };
        let err = draft.patch(clear, FieldErrors::new()).unwrap_err();
        assert_eq!(err.errors()[0].field, "due_at");
    }
}
