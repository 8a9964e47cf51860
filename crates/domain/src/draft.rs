//! The editable part of a task, and the rules that tie its fields together.

use crate::errors::FieldErrors;
use crate::recurrence::Recurrence;
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
        let recurrence = resolve_recurrence(
            fields.recurrence.flatten(),
            None,
            due_at,
            timezone,
            &mut errors,
        );
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
            reminders: task.reminders.iter().map(|r| r.spec).collect(),
        }
    }

    /// This draft with `fields` applied; the recurrence rule is checked again
    /// whenever the due date or time zone it depends on changes.
    pub fn patch(
        self,
        fields: DraftFields,
        mut errors: FieldErrors,
    ) -> Result<TaskDraft, FieldErrors> {
        let due_at = fields.due_at.unwrap_or(self.due_at);
        let timezone = fields.timezone.unwrap_or(self.timezone);
        let recurrence = match fields.recurrence {
            Some(raw) => resolve_recurrence(raw, None, due_at, timezone, &mut errors),
            None => {
                let kept = self.recurrence.as_ref().map(|r| r.as_str().to_owned());
                resolve_recurrence(kept, Some("due_at"), due_at, timezone, &mut errors)
            }
        };
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
            reminders,
        })
    }
}

/// Checks `raw` against the first occurrence. `blame` names the field the error
/// belongs to when the rule itself was not sent (the due date that broke it).
fn resolve_recurrence(
    raw: Option<String>,
    blame: Option<&str>,
    due_at: Option<Instant>,
    timezone: TimeZone,
    errors: &mut FieldErrors,
) -> Option<Recurrence> {
    let raw = raw?;
    let field = blame.unwrap_or("recurrence");
    let Some(start) = due_at else {
        errors.add(
            field,
            "a recurring task needs a due_at: its first occurrence is the due date (clear recurrence to remove the due date)",
        );
        return None;
    };
    errors.check(
        field,
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
