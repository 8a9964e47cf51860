//! The task tools. Each is one API route: its arguments become the route's path
//! segments, query parameters, headers and JSON body, the request goes through the
//! very handler the HTTP API uses (so validation, ETags, events and history are the
//! same), and the response becomes the tool result. The schemas come from the OpenAPI
//! document ([`crate::openapi`]).

use chrono::{Duration, TimeZone, Utc};
use serde_json::{json, Map, Value};

use crate::openapi;

/// What a tool does to the user's data, as MCP annotations say it.
#[derive(Clone, Copy)]
pub struct Hints {
    pub read_only: bool,
    pub destructive: bool,
    pub idempotent: bool,
}

const READ: Hints = Hints {
    read_only: true,
    destructive: false,
    idempotent: true,
};

/// An argument that travels as a request header.
#[derive(Clone, Copy)]
pub enum HeaderArg {
    /// `expected_version` → `If-Match: "<version>"`.
    ExpectedVersion,
    /// `idempotency_key` → `Idempotency-Key`.
    IdempotencyKey,
}

impl HeaderArg {
    fn name(self) -> &'static str {
        match self {
            HeaderArg::ExpectedVersion => "expected_version",
            HeaderArg::IdempotencyKey => "idempotency_key",
        }
    }
}

/// What a successful call returns as `structuredContent`.
#[derive(Clone, Copy)]
pub enum Output {
    /// The route's JSON body, described by this OpenAPI schema.
    Schema(&'static str),
    /// Nothing (204): `{"deleted": <id>}`.
    Deleted,
}

pub struct Tool {
    pub name: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    pub hints: Hints,
    /// The route: lower-case method and OpenAPI path.
    pub method: &'static str,
    pub path: &'static str,
    /// Path parameters: (argument, `{parameter}` in `path`).
    pub path_args: &'static [(&'static str, &'static str)],
    pub headers: &'static [HeaderArg],
    /// Body fields under another argument name: (argument, field).
    pub renamed: &'static [(&'static str, &'static str)],
    pub output: Output,
}

const ID: &[(&str, &str)] = &[("id", "id")];

pub const TOOLS: &[Tool] = &[
    Tool {
        name: "create_task",
        title: "Create a task",
        description: "Creates a task for the user and returns it. Only `title` is required. \
            `due_at` is RFC 3339 with an offset; give `timezone` (IANA, e.g. Europe/Paris) so \
            recurrences and reminders follow the user's clock. `recurrence` is daily, weekdays, \
            weekly, monthly, yearly or an RRULE, and needs `due_at`. Pass an `idempotency_key` \
            (e.g. a UUID) to make a retried call create the task only once.",
        hints: Hints {
            read_only: false,
            destructive: false,
            idempotent: false,
        },
        method: "post",
        path: "/api/tasks",
        path_args: &[],
        headers: &[HeaderArg::IdempotencyKey],
        renamed: &[],
        output: Output::Schema("Task"),
    },
    Tool {
        name: "get_task",
        title: "Get a task",
        description: "Returns one task by id, with its reminders and `version`.",
        hints: READ,
        method: "get",
        path: "/api/tasks/{id}",
        path_args: ID,
        headers: &[],
        renamed: &[],
        output: Output::Schema("Task"),
    },
    Tool {
        name: "list_tasks",
        title: "List and search tasks",
        description: "Lists the user's tasks, open ones by default, sorted by due date (undated \
            last). Search with `q` (word prefixes in title and description); filter by status, \
            priority, tags (`tag`: all of them, `any_tag`: any of them), due range, overdue, \
            has_due, recurring; sort by due_at, priority, created_at, updated_at, title or \
            relevance (with `q`), `-` for descending. At most `limit` tasks (≤ 100) come back; \
            when `next_cursor` is not null, call again with the same arguments plus `cursor` \
            for the next page.",
        hints: READ,
        method: "get",
        path: "/api/tasks",
        path_args: &[],
        headers: &[],
        renamed: &[],
        output: Output::Schema("TaskPage"),
    },
    Tool {
        name: "update_task",
        title: "Update a task",
        description: "Changes the given fields of a task and returns it; fields left out keep \
            their value, null clears description, tags, due_at, timezone, recurrence or \
            reminders. Pass the `version` you last read as `expected_version` to change the \
            task only if nobody else has changed it since (otherwise re-read and retry).",
        hints: Hints {
            read_only: false,
            destructive: true,
            idempotent: true,
        },
        method: "patch",
        path: "/api/tasks/{id}",
        path_args: ID,
        headers: &[HeaderArg::ExpectedVersion],
        renamed: &[],
        output: Output::Schema("Task"),
    },
    Tool {
        name: "complete_task",
        title: "Complete a task",
        description: "Marks a task completed and returns it; completing a completed task \
            changes nothing. Completing a recurring task schedules its next occurrence as a \
            new task shortly after.",
        hints: Hints {
            read_only: false,
            destructive: false,
            idempotent: true,
        },
        method: "post",
        path: "/api/tasks/{id}/complete",
        path_args: ID,
        headers: &[HeaderArg::ExpectedVersion],
        renamed: &[],
        output: Output::Schema("Task"),
    },
    Tool {
        name: "reopen_task",
        title: "Reopen a task",
        description: "Marks a completed task open again (its reminders re-arm) and returns it; \
            reopening an open task changes nothing.",
        hints: Hints {
            read_only: false,
            destructive: false,
            idempotent: true,
        },
        method: "post",
        path: "/api/tasks/{id}/reopen",
        path_args: ID,
        headers: &[HeaderArg::ExpectedVersion],
        renamed: &[],
        output: Output::Schema("Task"),
    },
    Tool {
        name: "delete_task",
        title: "Delete a task",
        description: "Deletes a task for good (its history stays readable). Confirm with the \
            user first. `expected_version` deletes only if the task is unchanged since read.",
        hints: Hints {
            read_only: false,
            destructive: true,
            idempotent: true,
        },
        method: "delete",
        path: "/api/tasks/{id}",
        path_args: ID,
        headers: &[HeaderArg::ExpectedVersion],
        renamed: &[],
        output: Output::Deleted,
    },
    Tool {
        name: "list_tags",
        title: "List tags",
        description:
            "Lists the user's tags with how many open and how many tasks in all carry each.",
        hints: READ,
        method: "get",
        path: "/api/tags",
        path_args: &[],
        headers: &[],
        renamed: &[],
        output: Output::Schema("TagList"),
    },
    Tool {
        name: "rename_tag",
        title: "Rename a tag",
        description: "Renames tag `tag` to `new_name` on every task carrying it; when `new_name` \
            already exists the two tags merge (this cannot be undone). Returns how many tasks \
            changed.",
        hints: Hints {
            read_only: false,
            destructive: true,
            idempotent: true,
        },
        method: "patch",
        path: "/api/tags/{name}",
        path_args: &[("tag", "name")],
        headers: &[],
        renamed: &[("new_name", "name")],
        output: Output::Schema("TagRenameResult"),
    },
    Tool {
        name: "list_occurrences",
        title: "A recurring task's series",
        description: "For a task of a recurring series: every task of the series so far \
            (completed and open, by occurrence) and the next `upcoming` due dates planned \
            after the latest one. A task that never recurred is a series of one.",
        hints: READ,
        method: "get",
        path: "/api/tasks/{id}/occurrences",
        path_args: ID,
        headers: &[],
        renamed: &[],
        output: Output::Schema("Occurrences"),
    },
];

/// `upcoming` is `list_tasks` with a computed due range, split at now.
pub const UPCOMING: &str = "upcoming";
const UPCOMING_DESCRIPTION: &str = "The user's open tasks that are overdue or due within the next \
    `days` days (default 7; 0 is the rest of today), counted in the user's time zone \
    `timezone` (IANA, default UTC: pass the user's zone), soonest first, split into `overdue` \
    and `due_soon`. Page with `cursor` like list_tasks.";

pub fn find(name: &str) -> Option<&'static Tool> {
    TOOLS.iter().find(|t| t.name == name)
}

/// The `tools/list` entries, in a fixed order.
pub fn definitions() -> Vec<Value> {
    let mut list: Vec<Value> = TOOLS.iter().map(Tool::definition).collect();
    list.push(json!({
        "name": UPCOMING,
        "title": "Upcoming and overdue tasks",
        "description": UPCOMING_DESCRIPTION,
        "inputSchema": upcoming_input_schema(),
        "outputSchema": upcoming_output_schema(),
        "annotations": annotations("Upcoming and overdue tasks", READ),
    }));
    list
}

fn annotations(title: &str, hints: Hints) -> Value {
    json!({
        "title": title,
        "readOnlyHint": hints.read_only,
        "destructiveHint": hints.destructive,
        "idempotentHint": hints.idempotent,
        "openWorldHint": false,
    })
}

impl Tool {
    fn definition(&self) -> Value {
        json!({
            "name": self.name,
            "title": self.title,
            "description": self.description,
            "inputSchema": self.input_schema(),
            "outputSchema": match self.output {
                Output::Schema(name) => openapi::schema(name),
                Output::Deleted => json!({
                    "type": "object",
                    "required": ["deleted"],
                    "properties": { "deleted": { "type": "string", "format": "uuid",
                        "description": "The id of the task deleted." } },
                }),
            },
            "annotations": annotations(self.title, self.hints),
        })
    }

    fn operation(&self) -> &'static Value {
        openapi::operation(self.method, self.path)
    }

    pub fn input_schema(&self) -> Value {
        let operation = self.operation();
        let mut properties = Map::new();
        let mut required: Vec<Value> = Vec::new();
        let path_params = openapi::parameters(self.method, self.path, "path");
        for (arg, param) in self.path_args {
            let schema = path_params
                .iter()
                .find(|(name, _)| name == param)
                .map(|(_, s)| s.clone())
                .unwrap_or_else(|| json!({ "type": "string" }));
            properties.insert((*arg).into(), schema);
            required.push(json!(arg));
        }
        for header in self.headers {
            properties.insert(header.name().into(), header_schema(*header));
        }
        for (name, schema) in openapi::parameters(self.method, self.path, "query") {
            properties.insert(name, schema);
        }
        if let Some(body) = openapi::body(operation) {
            let as_arg = |field: &str| {
                self.renamed
                    .iter()
                    .find(|(_, f)| *f == field)
                    .map_or(field.to_owned(), |(arg, _)| (*arg).to_owned())
            };
            if let Some(fields) = body["properties"].as_object() {
                for (field, schema) in fields {
                    properties.insert(as_arg(field), schema.clone());
                }
            }
            for field in body["required"].as_array().into_iter().flatten() {
                if let Some(field) = field.as_str() {
                    required.push(json!(as_arg(field)));
                }
            }
        }
        json!({
            "type": "object",
            "properties": properties,
            "required": required,
            "additionalProperties": false,
        })
    }

    /// The API request for `args`, or what is wrong with them.
    pub fn request(&self, mut args: Map<String, Value>) -> Result<http::Request<Vec<u8>>, String> {
        let mut path = self.path.to_owned();
        for (arg, param) in self.path_args {
            let value = match args.remove(*arg) {
                Some(Value::String(v)) if !v.trim().is_empty() => v,
                Some(_) => return Err(format!("`{arg}` must be a non-empty string")),
                None => return Err(format!("`{arg}` is required")),
            };
            path = path.replace(&format!("{{{param}}}"), &encode_segment(&value));
        }
        let mut builder =
            http::Request::builder().method(self.method.to_ascii_uppercase().as_str());
        for header in self.headers {
            match (header, args.remove(header.name())) {
                (_, None | Some(Value::Null)) => {}
                (HeaderArg::ExpectedVersion, Some(v)) => {
                    let version = v.as_i64().filter(|n| *n >= 1).ok_or(
                        "`expected_version` must be the task's `version`, a whole number from 1",
                    )?;
                    builder = builder.header(http::header::IF_MATCH, format!("\"{version}\""));
                }
                (HeaderArg::IdempotencyKey, Some(Value::String(key))) => {
                    builder = builder.header("idempotency-key", key);
                }
                (HeaderArg::IdempotencyKey, Some(_)) => {
                    return Err("`idempotency_key` must be a string, e.g. a UUID".into())
                }
            }
        }
        let mut query = form_urlencoded::Serializer::new(String::new());
        for (name, _) in openapi::parameters(self.method, self.path, "query") {
            if let Some(value) = args.remove(&name) {
                if let Some(text) = query_value(&name, value)? {
                    query.append_pair(&name, &text);
                }
            }
        }
        let query = query.finish();
        if !query.is_empty() {
            path = format!("{path}?{query}");
        }
        let body = if openapi::body(self.operation()).is_some() {
            let body: Map<String, Value> = args
                .into_iter()
                .map(|(arg, value)| {
                    let field = self
                        .renamed
                        .iter()
                        .find(|(a, _)| *a == arg)
                        .map_or(arg, |(_, field)| (*field).to_owned());
                    (field, value)
                })
                .collect();
            builder = builder.header(http::header::CONTENT_TYPE, "application/json");
            serde_json::to_vec(&body).unwrap_or_default()
        } else if let Some(extra) = args.keys().next() {
            return Err(format!(
                "`{extra}` is not an argument of {}; accepted: {}",
                self.name,
                self.accepted().join(", ")
            ));
        } else {
            Vec::new()
        };
        builder
            .uri(path)
            .body(body)
            .map_err(|e| format!("the arguments do not make a valid request: {e}"))
    }

    fn accepted(&self) -> Vec<String> {
        self.input_schema()["properties"]
            .as_object()
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// The argument an API error's field or parameter name stands for.
    pub fn argument_for(&self, field: &str) -> String {
        self.renamed
            .iter()
            .find(|(_, f)| *f == field)
            .map_or(field.to_owned(), |(arg, _)| (*arg).to_owned())
    }
}

fn header_schema(header: HeaderArg) -> Value {
    match header {
        HeaderArg::ExpectedVersion => json!({
            "type": "integer",
            "minimum": 1,
            "description": "The task's `version` as you last read it. When given and the task \
                has changed since, nothing is changed and the call fails saying so: read the \
                task again and retry. Leave it out to act unconditionally.",
        }),
        HeaderArg::IdempotencyKey => json!({
            "type": "string",
            "minLength": 1,
            "maxLength": 255,
            "description": "Any unique string (e.g. a UUID). Repeating a call with the same key \
                returns the first result instead of acting twice.",
        }),
    }
}

/// A tool argument as a query parameter value; arrays become comma-separated lists.
fn query_value(name: &str, value: Value) -> Result<Option<String>, String> {
    let scalar = |v: &Value| match v {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    match value {
        Value::Null => Ok(None),
        Value::Array(items) => items
            .iter()
            .map(|item| {
                scalar(item)
                    .filter(|s| !s.contains(','))
                    .ok_or_else(|| format!("`{name}` must be a list of strings without commas"))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(|items| Some(items.join(","))),
        other => scalar(&other)
            .map(Some)
            .ok_or_else(|| format!("`{name}` must be a string, a number or true/false")),
    }
}

/// A path segment with everything but unreserved characters percent-encoded.
fn encode_segment(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

// ---------------------------------------------------------------------------
// upcoming
// ---------------------------------------------------------------------------

const MAX_DAYS: i64 = 366;

fn upcoming_input_schema() -> Value {
    let query = openapi::parameters("get", "/api/tasks", "query");
    let param = |name: &str| {
        query
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, s)| s.clone())
            .unwrap_or_else(|| json!({ "type": "string" }))
    };
    json!({
        "type": "object",
        "properties": {
            "days": { "type": "integer", "minimum": 0, "maximum": MAX_DAYS, "default": 7,
                "description": "How many days ahead, after today, count as due soon (0: the rest of today)." },
            "timezone": { "type": "string", "default": "UTC", "examples": ["Europe/Paris"],
                "description": "The user's IANA time zone: \"today\" and the days ahead are the user's days." },
            "limit": param("limit"),
            "cursor": param("cursor"),
        },
        "additionalProperties": false,
    })
}

fn upcoming_output_schema() -> Value {
    let task = openapi::schema("Task");
    json!({
        "type": "object",
        "required": ["timezone", "until", "overdue", "due_soon", "next_cursor"],
        "properties": {
            "timezone": { "type": "string" },
            "until": { "type": "string", "format": "date-time",
                "description": "Tasks due before this instant (the user's midnight after the last day) are listed." },
            "overdue": { "type": "array", "items": task.clone(), "description": "Open tasks due before now." },
            "due_soon": { "type": "array", "items": task, "description": "Open tasks due from now until `until`." },
            "next_cursor": { "type": ["string", "null"],
                "description": "Pass as `cursor` (with the same days and timezone) for more." },
        },
    })
}

/// The `GET /api/tasks` request of an `upcoming` call at `now_micros`, and the
/// range it covers: `(request, timezone, until)`.
pub fn upcoming_request(
    mut args: Map<String, Value>,
    now_micros: i64,
) -> Result<(http::Request<Vec<u8>>, String, String), String> {
    let days = match args.remove("days") {
        None | Some(Value::Null) => 7,
        Some(v) => v
            .as_i64()
            .filter(|d| (0..=MAX_DAYS).contains(d))
            .ok_or(format!(
                "`days` must be a whole number from 0 to {MAX_DAYS}"
            ))?,
    };
    let zone_name = match args.remove("timezone") {
        None | Some(Value::Null) => "UTC".to_owned(),
        Some(Value::String(name)) => name,
        Some(_) => return Err("`timezone` must be an IANA zone name such as Europe/Paris".into()),
    };
    let zone: chrono_tz::Tz = zone_name.parse().map_err(|_| {
        format!("`timezone` {zone_name:?} is not an IANA time zone; use a name such as Europe/Paris or UTC")
    })?;
    let now = Utc
        .timestamp_micros(now_micros)
        .single()
        .ok_or("the server clock is out of range")?;
    let last_day = now.with_timezone(&zone).date_naive() + Duration::days(days + 1);
    let midnight = last_day
        .and_hms_opt(0, 0, 0)
        .and_then(|t| zone.from_local_datetime(&t).earliest())
        .ok_or("that range cannot be expressed in this time zone")?;
    let until = midnight.to_rfc3339();
    let mut query = form_urlencoded::Serializer::new(String::new());
    query
        .append_pair("status", "open")
        .append_pair("due_before", &until)
        .append_pair("sort", "due_at");
    for name in ["limit", "cursor"] {
        if let Some(value) = args.remove(name) {
            if let Some(text) = query_value(name, value)? {
                query.append_pair(name, &text);
            }
        }
    }
    if let Some(extra) = args.keys().next() {
        return Err(format!(
            "`{extra}` is not an argument of upcoming; accepted: days, timezone, limit, cursor"
        ));
    }
    let request = http::Request::builder()
        .method("GET")
        .uri(format!("/api/tasks?{}", query.finish()))
        .body(Vec::new())
        .map_err(|e| e.to_string())?;
    Ok((request, zone_name, until))
}

/// The `upcoming` result from the list page: overdue and due-soon tasks, split at now.
pub fn upcoming_result(page: Value, timezone: String, until: String, now_micros: i64) -> Value {
    let due_micros = |task: &Value| {
        task["due_at"]
            .as_str()
            .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
            .map(|t| t.timestamp_micros())
    };
    let (overdue, due_soon): (Vec<Value>, Vec<Value>) = page["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .partition(|task| due_micros(task).is_some_and(|due| due < now_micros));
    json!({
        "timezone": timezone,
        "until": until,
        "overdue": overdue,
        "due_soon": due_soon,
        "next_cursor": page["next_cursor"],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap()
    }

    #[test]
    fn every_tool_has_an_object_input_schema_and_an_output_schema() {
        for tool in definitions() {
            assert_eq!(tool["inputSchema"]["type"], "object", "{}", tool["name"]);
            assert_eq!(tool["outputSchema"]["type"], "object", "{}", tool["name"]);
            assert!(tool["annotations"]["readOnlyHint"].is_boolean());
        }
        let create = find("create_task").unwrap().input_schema();
        assert_eq!(create["required"], json!(["title"]));
        assert!(create["properties"]["idempotency_key"].is_object());
        let list = find("list_tasks").unwrap().input_schema();
        for name in ["q", "status", "priority", "tag", "sort", "limit", "cursor"] {
            assert!(
                list["properties"][name].is_object(),
                "list_tasks lacks {name}"
            );
        }
        let rename = find("rename_tag").unwrap().input_schema();
        assert_eq!(rename["required"], json!(["tag", "new_name"]));
    }

    #[test]
    fn arguments_become_path_query_headers_and_body() {
        let update = find("update_task").unwrap();
        let req = update
            .request(args(
                json!({"id": "abc", "expected_version": 3, "title": "New"}),
            ))
            .unwrap();
        assert_eq!(req.method(), "PATCH");
        assert_eq!(req.uri(), "/api/tasks/abc");
        assert_eq!(req.headers()["if-match"], "\"3\"");
        assert_eq!(
            serde_json::from_slice::<Value>(req.body()).unwrap(),
            json!({"title": "New"})
        );

        let list = find("list_tasks").unwrap();
        let req = list
            .request(args(
                json!({"priority": ["P1", "P2"], "overdue": true, "limit": 5}),
            ))
            .unwrap();
        assert_eq!(
            req.uri(),
            "/api/tasks?priority=P1%2CP2&overdue=true&limit=5"
        );
        assert!(list
            .request(args(json!({"colour": "red"})))
            .unwrap_err()
            .contains("colour"));

        let rename = find("rename_tag").unwrap();
        let req = rename
            .request(args(json!({"tag": "a b/c", "new_name": "x"})))
            .unwrap();
        assert_eq!(req.uri(), "/api/tags/a%20b%2Fc");
        assert_eq!(
            serde_json::from_slice::<Value>(req.body()).unwrap(),
            json!({"name": "x"})
        );
    }

    #[test]
    fn upcoming_counts_days_in_the_users_zone() {
        // 2026-03-01T23:30:00Z is already March 2nd in Paris.
        let now = 1_772_407_800_000_000;
        let (req, zone, until) =
            upcoming_request(args(json!({"days": 0, "timezone": "Europe/Paris"})), now).unwrap();
        assert_eq!(zone, "Europe/Paris");
        assert_eq!(until, "2026-03-03T00:00:00+01:00");
        assert!(req.uri().to_string().contains("status=open"));
        assert!(upcoming_request(args(json!({"timezone": "Mars/Olympus"})), now).is_err());
    }
}
