//! Reading a task from a JSON body: every field checked, every problem
//! reported with its path, unknown and read-only fields refused.

use serde_json::{Map, Value};
use spindle_domain::{
    parse_instant, Description, DraftFields, FieldErrors, Priority, RecurrenceMode, ReminderSpec,
    Tags, TimeZone, Title, MAX_REMINDERS,
};

const EDITABLE: &str =
    "title, description, priority, tags, due_at, timezone, recurrence, recurrence_mode, reminders";
const READ_ONLY: &[&str] = &[
    "id",
    "status",
    "completed_at",
    "version",
    "created_at",
    "updated_at",
    "series_id",
    "occurrence",
];

/// The fields of a create or patch body, each parsed on its own, and what was wrong.
pub fn draft_fields(body: Map<String, Value>) -> (DraftFields, FieldErrors) {
    let mut errors = FieldErrors::new();
    let mut fields = DraftFields::default();
    for (key, value) in body {
        match key.as_str() {
            "title" => fields.title = errors.check("title", string(&value).and_then(Title::parse)),
            "description" => {
                let text = if value.is_null() { Ok("") } else { string(&value) };
                fields.description = errors.check("description", text.and_then(Description::parse));
            }
            "priority" => fields.priority = errors.check("priority", string(&value).and_then(Priority::parse)),
            "tags" => fields.tags = tags(&value, &mut errors),
            "due_at" => {
                fields.due_at = match value {
                    Value::Null => Some(None),
                    other => errors.check("due_at", string(&other).and_then(parse_instant)).map(Some),
                }
            }
            "timezone" => {
                let zone = if value.is_null() { Ok(TimeZone::UTC) } else { string(&value).and_then(TimeZone::parse) };
                fields.timezone = errors.check("timezone", zone);
            }
            "recurrence" => {
                fields.recurrence = match value {
                    Value::Null => Some(None),
                    other => errors.check("recurrence", string(&other).map(|s| Some(s.to_owned()))),
                }
            }
            "recurrence_mode" => {
                fields.recurrence_mode = errors.check("recurrence_mode", string(&value).and_then(RecurrenceMode::parse));
            }
            "reminders" => fields.reminders = reminders(&value, &mut errors),
            other if READ_ONLY.contains(&other) => errors.add(
                other,
                "is read-only; complete or reopen a task with POST /api/tasks/{id}/complete or /reopen",
            ),
            other => errors.add(other, format!("is not a task field; the editable fields are {EDITABLE}")),
        }
    }
    (fields, errors)
}

fn string(value: &Value) -> Result<&str, String> {
    value
        .as_str()
        .ok_or_else(|| format!("must be a string, not {}", kind(value)))
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn tags(value: &Value, errors: &mut FieldErrors) -> Option<Tags> {
    let items = match value {
        Value::Null => return Some(Tags::default()),
        Value::Array(items) => items,
        other => {
            errors.add(
                "tags",
                format!("must be an array of strings, not {}", kind(other)),
            );
            return None;
        }
    };
    let mut raw = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        match string(item) {
            Ok(s) => raw.push(s),
            Err(message) => errors.add(format!("tags[{i}]"), message),
        }
    }
    if raw.len() != items.len() {
        return None;
    }
    match Tags::parse(&raw) {
        Ok(tags) => Some(tags),
        Err(problems) => {
            for (i, message) in problems {
                errors.add(format!("tags[{i}]"), message);
            }
            None
        }
    }
}

fn reminders(value: &Value, errors: &mut FieldErrors) -> Option<Vec<ReminderSpec>> {
    let items = match value {
        Value::Null => return Some(Vec::new()),
        Value::Array(items) => items,
        other => {
            errors.add(
                "reminders",
                format!("must be an array, not {}", kind(other)),
            );
            return None;
        }
    };
    if items.len() > MAX_REMINDERS {
        errors.add(
            "reminders",
            format!(
                "a task may have at most {MAX_REMINDERS} reminders (got {})",
                items.len()
            ),
        );
        return None;
    }
    let before = errors.errors().len();
    let specs: Vec<ReminderSpec> = items
        .iter()
        .enumerate()
        .filter_map(|(i, item)| errors.check(&format!("reminders[{i}]"), reminder(item)))
        .collect();
    (errors.errors().len() == before).then_some(specs)
}

fn reminder(item: &Value) -> Result<ReminderSpec, String> {
    const SHAPE: &str = "must be {\"minutes_before\": <minutes>} or {\"at\": \"<RFC 3339 time>\"}";
    let Value::Object(fields) = item else {
        return Err(SHAPE.to_owned());
    };
    if let Some(extra) = fields
        .keys()
        .find(|k| !matches!(k.as_str(), "minutes_before" | "at"))
    {
        return Err(format!(
            "has an unknown field {extra:?}; a reminder {SHAPE}"
        ));
    }
    match (fields.get("minutes_before"), fields.get("at")) {
        (Some(minutes), None) => {
            let minutes = minutes
                .as_i64()
                .ok_or_else(|| "minutes_before must be a whole number".to_owned())?;
            ReminderSpec::before(minutes)
        }
        (None, Some(at)) => Ok(ReminderSpec::At(parse_instant(string(at)?)?)),
        _ => Err(SHAPE.to_owned()),
    }
}
