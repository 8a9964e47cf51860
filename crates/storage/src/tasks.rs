//! The `tasks` and `reminders` tables.

use spindle_domain::{
    Description, Instant, NextOccurrence, Priority, Recurrence, RecurrenceMode, Reminder,
    ReminderSpec, ReminderState, Status, Tag, Tags, Task, TaskDraft, TimeZone, Title,
};
use spindle_ports::{Db, DbError, Param, Row, Rows};
use uuid::Uuid;

use crate::migrations::Routine;
use crate::outbox::{self, NewEvent};

/// Every column of a task, its reminders folded in as JSON. Instants are read as
/// `timestamp` in UTC (Spin cannot read `timestamptz`): for Postgres that is a
/// cheap conversion, where epoch microseconds (`us_from_ts`) cost `numeric`
/// arithmetic and an inlined function to plan per column, about half of a page's
/// statement. The reminders subquery runs only for a task that has some
/// (`reminder_count`, written with them), and returns JSON as text: cheaper for
/// Postgres to build than `jsonb`, and Spin's host passes text through where it
/// would parse and re-serialise a `jsonb` value.
const COLUMNS: &str = "t.id, t.user_id, t.title, t.description, t.priority, t.tags, t.status,
    t.completed_at AT TIME ZONE 'UTC' AS completed_at, t.due_at AT TIME ZONE 'UTC' AS due_at,
    t.timezone, t.recurrence, t.recurrence_mode, t.series_id,
    t.series_start AT TIME ZONE 'UTC' AS series_start, t.occurrence, t.version,
    t.created_at AT TIME ZONE 'UTC' AS created_at, t.updated_at AT TIME ZONE 'UTC' AS updated_at,
    CASE WHEN t.reminder_count = 0 THEN '[]' ELSE
    (SELECT json_agg(json_build_object(
                'id', r.id, 'minutes_before', r.minutes_before, 'at', r.at AT TIME ZONE 'UTC',
                'fire_at', r.fire_at AT TIME ZONE 'UTC', 'state', r.state) ORDER BY r.position)::text
       FROM reminders r WHERE r.task_id = t.id) END AS reminders";

/// The types of [`COLUMNS`], for a routine that returns them.
const COLUMN_TYPES: &str = "id uuid, user_id text, title text, description text, priority int4,
    tags text[], status text, completed_at timestamp, due_at timestamp, timezone text,
    recurrence text, recurrence_mode text, series_id uuid, series_start timestamp,
    occurrence int4, version int8, created_at timestamp, updated_at timestamp, reminders text";

/// The statements every client sends most, kept as functions so that Postgres
/// plans them once per connection (see [`Routine`]): reading a task, the
/// default list (by due date, any status), and creating a task with its event.
pub(crate) fn routines() -> Vec<Routine> {
    vec![
        Routine {
            name: "task_by_id",
            args: "uuid, text".to_owned(),
            returns: format!("TABLE ({COLUMN_TYPES})"),
            writes: false,
            body: format!("SELECT {COLUMNS} {BY_ID}"),
        },
        Routine {
            name: "task_page_by_due",
            args: "text, text, int8, uuid, int8".to_owned(),
            returns: format!("TABLE ({COLUMN_TYPES})"),
            writes: false,
            body: format!("SELECT {COLUMNS} FROM tasks t {PAGE_BY_DUE}"),
        },
        Routine {
            name: "task_create",
            args: format!("{WRITE_ARGS}, {}", outbox::EVENT_ARGS),
            returns: "TABLE (seq int8)".to_owned(),
            writes: true,
            body: insert_sql(true),
        },
    ]
}

/// The user's ($2) task $1.
const BY_ID: &str = "FROM tasks t WHERE t.id = $1 AND t.user_id = $2";

/// A page of the user's tasks ($1) by due date (no date last), then id, whose
/// status is $2 (any when null), after the task $4 due at $3 (epoch
/// microseconds; null: no date) or from the start when $4 is null, $5 of them.
/// The cursor is one row comparison that the `(user_id, due, id)` index
/// starts from, first page included, so one plan serves every page.
const PAGE_BY_DUE: &str = "
    WHERE t.user_id = $1 AND ($2::text IS NULL OR t.status = $2)
      AND (coalesce(t.due_at, 'infinity'::timestamptz), t.id)
        > (CASE WHEN $4::uuid IS NULL THEN '-infinity'::timestamptz
                ELSE coalesce(ts_from_us($3), 'infinity'::timestamptz) END,
           coalesce($4, '00000000-0000-0000-0000-000000000000'::uuid))
    ORDER BY coalesce(t.due_at, 'infinity'::timestamptz), t.id
    LIMIT $5";

/// Writes the reminder rows of a task from a JSON array (when `$3` is true):
/// rows not in the array go, new ones are inserted, kept ones (same id) move to
/// their new position. Part of the same statement as the task write, so the
/// two cannot diverge.
const REPLACE_REMINDERS: &str = "
    wanted AS (
        SELECT * FROM jsonb_to_recordset($5::jsonb)
            AS x(id uuid, position int, minutes_before int, at_us bigint, fire_at_us bigint, state text)),
    gone AS (
        DELETE FROM reminders
         WHERE task_id = $1 AND $3::bool AND id <> ALL (SELECT id FROM wanted)),
    written AS (
        INSERT INTO reminders (id, task_id, user_id, position, minutes_before, at, fire_at, state, created_at)
        SELECT w.id, $1, $2, w.position, w.minutes_before, ts_from_us(w.at_us), ts_from_us(w.fire_at_us),
               w.state, ts_from_us($4)
          FROM wanted w
         WHERE $3::bool AND EXISTS (SELECT 1 FROM task)
        ON CONFLICT (id) DO UPDATE SET position = excluded.position)";

/// Creates a task from a validated draft; its reminders get fresh ids.
pub fn insert(
    db: &impl Db,
    user_id: &str,
    id: Uuid,
    draft: &TaskDraft,
    now: Instant,
) -> Result<Task, DbError> {
    let task = new_task(user_id, id, draft, now);
    insert_row(db, &task, now, None)?;
    Ok(task)
}

/// The task a draft becomes when created now, before it is written.
pub fn new_task(user_id: &str, id: Uuid, draft: &TaskDraft, now: Instant) -> Task {
    Task {
        id,
        user_id: user_id.to_owned(),
        title: draft.title.clone(),
        description: draft.description.clone(),
        priority: draft.priority,
        tags: draft.tags.clone(),
        status: Status::Open,
        due_at: draft.due_at,
        timezone: draft.timezone,
        recurrence: draft.recurrence.clone(),
        recurrence_mode: draft.recurrence_mode,
        series_id: draft.recurrence.as_ref().map(|_| id),
        series_start: draft.series_start(None),
        occurrence: 0,
        reminders: fresh_reminders(&draft.reminders, draft.due_at, &[], Status::Open),
        version: 1,
        created_at: now,
        updated_at: now,
    }
}

/// Writes a task made by [`new_task`], its reminders and its event in ONE
/// statement, atomic without `BEGIN`/`COMMIT`: the user's outbox lock first
/// (so the user's events commit in sequence order), then the rows, the event
/// already marked published for the caller to publish after. Returns the
/// event's sequence number.
pub fn insert_with_event(
    db: &impl Db,
    task: &Task,
    now: Instant,
    event: &NewEvent<'_>,
) -> Result<i64, DbError> {
    let rows = insert_row(db, task, now, Some(event))?;
    rows.first()
        .ok_or_else(|| DbError::Decode("the task insert appended no event".into()))?
        .i64("seq")
}

/// Creates the next task of a series, or nothing when the series already has
/// a task with that occurrence index: the unique (series_id, occurrence)
/// constraint, not a prior check, makes it one task however many completions
/// or deliveries race. Returns the task when it was created.
pub fn insert_next(
    db: &impl Db,
    user_id: &str,
    id: Uuid,
    next: &NextOccurrence,
    now: Instant,
) -> Result<Option<Task>, DbError> {
    let task = Task {
        series_id: Some(next.series_id),
        series_start: Some(next.series_start),
        occurrence: next.occurrence,
        ..new_task(user_id, id, &next.draft, now)
    };
    let created = !insert_row(db, &task, now, None)?.is_empty();
    Ok(created.then_some(task))
}

/// Inserts `task` with its reminders (and `event`, when given) in one
/// statement. No row when its (series_id, occurrence) is taken; with an event,
/// the row carries the event's `seq`.
fn insert_row(
    db: &impl Db,
    task: &Task,
    now: Instant,
    event: Option<&NewEvent<'_>>,
) -> Result<Rows, DbError> {
    let mut params = write_params(task, !task.reminders.is_empty(), now);
    match event {
        Some(event) => {
            params.extend(outbox::event_params(event)?);
            let args: Vec<String> = (1..=params.len()).map(|n| format!("${n}")).collect();
            db.query(
                &format!("SELECT seq FROM task_create({})", args.join(", ")),
                &params,
            )
        }
        None => db.query(&insert_sql(false), &params),
    }
}

/// The statement of [`insert_row`]: [`write_params`], then, with an event, the
/// outbox lock before anything is written and [`outbox::event_params`].
fn insert_sql(with_event: bool) -> String {
    let (lock, from, appended, result) = if with_event {
        let first = WRITE_ARGS.split(',').count() + 1;
        (
            format!("{},", outbox::lock_cte("$2")),
            "FROM serialise",
            format!(", {}", outbox::append_cte("task", "$2", first)),
            "SELECT seq FROM appended",
        )
    } else {
        (
            String::new(),
            "",
            String::new(),
            "SELECT 1 AS created FROM task",
        )
    };
    format!(
        "WITH {lock}
         task AS (
            INSERT INTO tasks (id, user_id, title, description, priority, tags, status, due_at, timezone,
                               recurrence, series_id, recurrence_mode, series_start, occurrence, version,
                               reminder_count, created_at, updated_at)
            SELECT $1, $2, $6, $7, $8, $9, 'open', ts_from_us($10), $11, $12, $13, $14, ts_from_us($15),
                   $16, 1, jsonb_array_length($5::jsonb), ts_from_us($4), ts_from_us($4)
            {from}
            ON CONFLICT (series_id, occurrence) DO NOTHING
            RETURNING id),
         {REPLACE_REMINDERS}
         {appended}
         {result}"
    )
}

/// The user's task, or `None` when it does not exist or belongs to someone else.
pub fn get(db: &impl Db, user_id: &str, id: Uuid) -> Result<Option<Task>, DbError> {
    one_by_id(db, "SELECT * FROM task_by_id($1, $2)", user_id, id)
}

/// Like [`get`], and locks the row until the transaction ends, so concurrent
/// writers of one task take turns and its versions and events stay in order.
pub fn get_for_update(db: &impl Db, user_id: &str, id: Uuid) -> Result<Option<Task>, DbError> {
    let sql = format!("SELECT {COLUMNS} {BY_ID} FOR UPDATE OF t");
    one_by_id(db, &sql, user_id, id)
}

/// The task `sql` reads, given the task id as $1 and the user as $2.
fn one_by_id(db: &impl Db, sql: &str, user_id: &str, id: Uuid) -> Result<Option<Task>, DbError> {
    let rows = db.query(
        sql,
        &[Param::Uuid(id.to_string()), Param::Str(user_id.to_owned())],
    )?;
    rows.first().map(|row| task_from_row(&row)).transpose()
}

/// Writes `draft` over `current` (which the caller locked), bumping the version.
/// Reminders whose schedule did not change keep their id and state.
pub fn update(
    db: &impl Db,
    current: &Task,
    draft: &TaskDraft,
    now: Instant,
) -> Result<Task, DbError> {
    let reminders = fresh_reminders(
        &draft.reminders,
        draft.due_at,
        &current.reminders,
        current.status,
    );
    let reminders_changed = reminders != current.reminders;
    let task = Task {
        title: draft.title.clone(),
        description: draft.description.clone(),
        priority: draft.priority,
        tags: draft.tags.clone(),
        due_at: draft.due_at,
        timezone: draft.timezone,
        recurrence: draft.recurrence.clone(),
        recurrence_mode: draft.recurrence_mode,
        series_id: current
            .series_id
            .or(draft.recurrence.as_ref().map(|_| current.id)),
        series_start: draft.series_start(Some(current)),
        reminders,
        version: current.version + 1,
        updated_at: now,
        ..current.clone()
    };
    db.execute(
        &format!(
            "WITH task AS (
                UPDATE tasks SET title = $6, description = $7, priority = $8, tags = $9, due_at = ts_from_us($10),
                                 timezone = $11, recurrence = $12, series_id = $13, recurrence_mode = $14,
                                 series_start = ts_from_us($15), occurrence = $16, version = version + 1,
                                 reminder_count = jsonb_array_length($5::jsonb), updated_at = ts_from_us($4)
                 WHERE id = $1 AND user_id = $2
                RETURNING id),
             {REPLACE_REMINDERS}
             SELECT 1 FROM task"
        ),
        &write_params(&task, reminders_changed, now),
    )?;
    Ok(task)
}

/// Completes or reopens `current` (locked by the caller). Completing cancels
/// the reminders still pending; reopening re-arms them.
pub fn set_status(
    db: &impl Db,
    current: &Task,
    status: Status,
    now: Instant,
) -> Result<Task, DbError> {
    let (from, to) = match status {
        Status::Completed(_) => (ReminderState::Pending, ReminderState::Cancelled),
        Status::Open => (ReminderState::Cancelled, ReminderState::Pending),
    };
    db.execute(
        "WITH task AS (
            UPDATE tasks SET status = $3, completed_at = ts_from_us($4), version = version + 1,
                             updated_at = ts_from_us($5)
             WHERE id = $1 AND user_id = $2
            RETURNING id)
         UPDATE reminders SET state = $7
          WHERE task_id = (SELECT id FROM task) AND state = $6 AND fire_at IS NOT NULL",
        &[
            Param::Uuid(current.id.to_string()),
            Param::Str(current.user_id.clone()),
            Param::Str(status.as_str().to_owned()),
            status
                .completed_at()
                .map_or(Param::Null, |at| Param::Int64(at.micros())),
            Param::Int64(now.micros()),
            Param::Str(from.as_str().to_owned()),
            Param::Str(to.as_str().to_owned()),
        ],
    )?;
    let reminders = current
        .reminders
        .iter()
        .map(|r| Reminder {
            state: if r.state == from && r.fire_at.is_some() {
                to
            } else {
                r.state
            },
            ..r.clone()
        })
        .collect();
    Ok(Task {
        status,
        reminders,
        version: current.version + 1,
        updated_at: now,
        ..current.clone()
    })
}

/// Deletes the task (its reminders go with it).
pub fn delete(db: &impl Db, user_id: &str, id: Uuid) -> Result<bool, DbError> {
    let deleted = db.execute(
        "DELETE FROM tasks WHERE id = $1 AND user_id = $2",
        &[Param::Uuid(id.to_string()), Param::Str(user_id.to_owned())],
    )?;
    Ok(deleted > 0)
}

/// The types of [`write_params`], in order.
const WRITE_ARGS: &str =
    "uuid, text, bool, int8, jsonb, text, text, int4, text[], int8, text, text, uuid, text, int8, int4";

/// The parameters of a task write, numbered as `insert` and `update` use them:
/// $1 id, $2 user, $3 whether to rewrite reminders, $4 now, $5 reminders, then
/// the editable fields and the series ($13 id, $15 start, $16 occurrence).
fn write_params(task: &Task, rewrite_reminders: bool, now: Instant) -> Vec<Param> {
    vec![
        Param::Uuid(task.id.to_string()),
        Param::Str(task.user_id.clone()),
        Param::Bool(rewrite_reminders),
        Param::Int64(now.micros()),
        Param::Jsonb(reminders_json(&task.reminders)),
        Param::Str(task.title.as_str().to_owned()),
        Param::Str(task.description.as_str().to_owned()),
        Param::Int32(task.priority.rank()),
        Param::ArrayStr(task.tags.to_strings().into_iter().map(Some).collect()),
        task.due_at
            .map_or(Param::Null, |d| Param::Int64(d.micros())),
        Param::Str(task.timezone.name().to_owned()),
        task.recurrence
            .as_ref()
            .map_or(Param::Null, |r| Param::Str(r.as_str().to_owned())),
        task.series_id
            .map_or(Param::Null, |s| Param::Uuid(s.to_string())),
        Param::Str(task.recurrence_mode.as_str().to_owned()),
        task.series_start
            .map_or(Param::Null, |s| Param::Int64(s.micros())),
        Param::Int32(task.occurrence),
    ]
}

/// Reminders for `specs`, reusing the id and state of an existing reminder with
/// the same schedule, so an edit that does not touch a reminder does not re-send it.
fn fresh_reminders(
    specs: &[ReminderSpec],
    due: Option<Instant>,
    existing: &[Reminder],
    status: Status,
) -> Vec<Reminder> {
    let mut unused: Vec<&Reminder> = existing.iter().collect();
    specs
        .iter()
        .map(|spec| {
            let fire_at = spec.fire_at(due);
            if let Some(pos) = unused
                .iter()
                .position(|r| r.spec == *spec && r.fire_at == fire_at)
            {
                return unused.remove(pos).clone();
            }
            let state = match status {
                Status::Open => ReminderState::Pending,
                Status::Completed(_) => ReminderState::Cancelled,
            };
            Reminder {
                id: Uuid::new_v4(),
                spec: *spec,
                fire_at,
                state,
            }
        })
        .collect()
}

fn reminders_json(reminders: &[Reminder]) -> Vec<u8> {
    let items: Vec<serde_json::Value> = reminders
        .iter()
        .enumerate()
        .map(|(position, r)| {
            let (minutes_before, at_us) = match r.spec {
                ReminderSpec::Before { minutes } => (Some(minutes), None),
                ReminderSpec::At(at) => (None, Some(at.micros())),
            };
            serde_json::json!({
                "id": r.id,
                "position": position,
                "minutes_before": minutes_before,
                "at_us": at_us,
                "fire_at_us": r.fire_at.map(Instant::micros),
                "state": r.state.as_str(),
            })
        })
        .collect();
    serde_json::to_vec(&items).unwrap_or_else(|_| b"[]".to_vec())
}

#[derive(serde::Deserialize)]
struct StoredReminder {
    id: Uuid,
    minutes_before: Option<i32>,
    /// `timestamp` in UTC, which JSON carries as ISO 8601 text.
    at: Option<chrono::NaiveDateTime>,
    fire_at: Option<chrono::NaiveDateTime>,
    state: String,
}

fn utc_instant(at: chrono::NaiveDateTime) -> Instant {
    Instant::from_micros(at.and_utc().timestamp_micros())
}

fn task_from_row(row: &Row<'_>) -> Result<Task, DbError> {
    let bad = |what: &str| DbError::Decode(format!("stored task has an invalid {what}"));
    let id = parse_uuid(&row.str("id")?)?;
    let priority = Priority::from_rank(row.i64("priority")?).ok_or_else(|| bad("priority"))?;
    let status = match (row.str("status")?.as_str(), row.opt_micros("completed_at")?) {
        ("open", _) => Status::Open,
        ("completed", Some(at)) => Status::Completed(Instant::from_micros(at)),
        _ => return Err(bad("status")),
    };
    let timezone = TimeZone::parse(&row.str("timezone")?).map_err(|_| bad("timezone"))?;
    let stored: Vec<StoredReminder> =
        serde_json::from_str(&row.str("reminders")?).map_err(|e| DbError::Decode(e.to_string()))?;
    let reminders = stored
        .into_iter()
        .map(|r| {
            let spec = match (r.minutes_before, r.at) {
                (Some(minutes), None) => ReminderSpec::Before { minutes },
                (None, Some(at)) => ReminderSpec::At(utc_instant(at)),
                _ => return Err(bad("reminder")),
            };
            Ok(Reminder {
                id: r.id,
                spec,
                fire_at: r.fire_at.map(utc_instant),
                state: ReminderState::parse(&r.state).ok_or_else(|| bad("reminder state"))?,
            })
        })
        .collect::<Result<_, DbError>>()?;
    Ok(Task {
        id,
        user_id: row.str("user_id")?,
        title: Title::from_stored(row.str("title")?),
        description: Description::from_stored(row.str("description")?),
        priority,
        tags: Tags::from_stored(row.str_array("tags")?),
        status,
        due_at: row.opt_micros("due_at")?.map(Instant::from_micros),
        timezone,
        recurrence: row.opt_str("recurrence")?.map(Recurrence::from_stored),
        recurrence_mode: RecurrenceMode::parse(&row.str("recurrence_mode")?)
            .map_err(|_| bad("recurrence mode"))?,
        series_id: row
            .opt_str("series_id")?
            .map(|s| parse_uuid(&s))
            .transpose()?,
        series_start: row.opt_micros("series_start")?.map(Instant::from_micros),
        occurrence: i32::try_from(row.i64("occurrence")?).map_err(|_| bad("occurrence"))?,
        reminders,
        version: row.i64("version")?,
        created_at: Instant::from_micros(row.micros("created_at")?),
        updated_at: Instant::from_micros(row.micros("updated_at")?),
    })
}

fn parse_uuid(raw: &str) -> Result<Uuid, DbError> {
    Uuid::parse_str(raw).map_err(|e| DbError::Decode(format!("invalid uuid {raw:?}: {e}")))
}

// ---------------------------------------------------------------------------
// Listing
// ---------------------------------------------------------------------------

/// Which tasks by status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StatusFilter {
    #[default]
    Open,
    Completed,
    All,
}

/// The order of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortField {
    DueAt,
    Priority,
    CreatedAt,
    UpdatedAt,
    Title,
    /// Search rank, best first; only with a search.
    Relevance,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sort {
    pub field: SortField,
    pub descending: bool,
}

/// Where the previous page ended: the last task's sort key and id.
#[derive(Debug, Clone, PartialEq)]
pub enum After {
    /// A due date; `None` is "no due date", which sorts last either way.
    Due(Option<i64>, Uuid),
    Int(i64, Uuid),
    Text(String, Uuid),
    Rank(f32, Uuid),
}

impl After {
    /// Where a page by due date that ends with `task` ends.
    fn due_of(task: &Task) -> After {
        After::Due(task.due_at.map(Instant::micros), task.id)
    }
}

/// A list request, already validated.
#[derive(Debug, Clone)]
pub struct ListQuery {
    /// Words to match as prefixes, all of them (letters and digits only).
    pub words: Vec<String>,
    pub status: StatusFilter,
    pub priorities: Vec<Priority>,
    pub all_tags: Vec<Tag>,
    pub any_tags: Vec<Tag>,
    pub due_before: Option<Instant>,
    pub due_after: Option<Instant>,
    pub overdue: Option<bool>,
    pub has_due: Option<bool>,
    pub recurring: Option<bool>,
    pub series_id: Option<Uuid>,
    pub sort: Sort,
    pub limit: usize,
    pub after: Option<After>,
    pub now: Instant,
}

impl ListQuery {
    /// The cursor of a query that filters by status only and sorts by due date
    /// ascending (`Some(None)` for a first page), or `None` for any other.
    fn plain_by_due(&self) -> Option<Option<(Option<i64>, Uuid)>> {
        // Every field named, so that a new filter cannot slip past this check.
        let ListQuery {
            words,
            status: _,
            priorities,
            all_tags,
            any_tags,
            due_before,
            due_after,
            overdue,
            has_due,
            recurring,
            series_id,
            sort,
            limit: _,
            after,
            now: _,
        } = self;
        let unfiltered = words.is_empty()
            && priorities.is_empty()
            && all_tags.is_empty()
            && any_tags.is_empty()
            && due_before.is_none()
            && due_after.is_none()
            && overdue.is_none()
            && has_due.is_none()
            && recurring.is_none()
            && series_id.is_none();
        let by_due = *sort
            == Sort {
                field: SortField::DueAt,
                descending: false,
            };
        match after {
            _ if !(unfiltered && by_due) => None,
            None => Some(None),
            Some(After::Due(due, id)) => Some(Some((*due, *id))),
            Some(_) => None,
        }
    }
}

/// One page of tasks and where the next one starts.
#[derive(Debug, Clone)]
pub struct Page {
    pub tasks: Vec<Task>,
    pub next: Option<After>,
}

struct Params(Vec<Param>);

impl Params {
    fn push(&mut self, p: Param) -> String {
        self.0.push(p);
        format!("${}", self.0.len())
    }
}

fn tags_param(tags: &[Tag]) -> Param {
    Param::ArrayStr(tags.iter().map(|t| Some(t.as_str().to_owned())).collect())
}

/// How many matches of a search are ranked by relevance: the most recently
/// updated ones. Any other sort pages through every match.
pub const RANKED_CANDIDATES: usize = 500;

/// Lists the user's tasks with keyset pagination: each page continues strictly
/// after the last row of the previous one in a total order (sort key, id), so
/// tasks added or removed meanwhile never shift a page, and no rows are skipped
/// over with OFFSET.
pub fn list(db: &impl Db, user_id: &str, q: &ListQuery) -> Result<Page, DbError> {
    if let Some(after) = q.plain_by_due() {
        return page_by_due(db, user_id, q, after);
    }
    let mut p = Params(Vec::new());
    let user = p.push(Param::Str(user_id.to_owned()));
    let mut filters = vec![format!("t.user_id = {user}")];
    let mut from = "tasks t".to_owned();
    let mut rank = "0::real".to_owned();
    if !q.words.is_empty() {
        // `w | w:*` matches exactly what `w:*` does, but the exact term lets the
        // planner estimate from the column's statistics (it guesses 2 % for any
        // prefix): a word in most tasks is then found by walking an index in
        // order, not by fetching every match.
        let tsquery: Vec<String> = q.words.iter().map(|w| format!("({w} | {w}:*)")).collect();
        let query = p.push(Param::Str(tsquery.join(" & ")));
        from = format!("tasks t, to_tsquery('simple', {query}) query");
        filters.push("t.search @@ query".to_owned());
        rank = "ts_rank(t.search, query)".to_owned();
    }
    match q.status {
        StatusFilter::Open => filters.push("t.status = 'open'".to_owned()),
        StatusFilter::Completed => filters.push("t.status = 'completed'".to_owned()),
        StatusFilter::All => {}
    }
    if !q.priorities.is_empty() {
        let ranks: Vec<Option<String>> = q
            .priorities
            .iter()
            .map(|p| Some(p.rank().to_string()))
            .collect();
        let list = p.push(Param::ArrayStr(ranks));
        filters.push(format!("t.priority = ANY(({list}::text[])::int[])"));
        // The same condition as a range, which a btree can use as an index
        // condition while returning rows in priority order (an `= ANY` on a
        // second index column cannot be, before Postgres 17). Ranks are 1–4,
        // from the enum, so inlining them is safe.
        let lowest = q.priorities.iter().map(|p| p.rank()).min().unwrap_or(1);
        let highest = q.priorities.iter().map(|p| p.rank()).max().unwrap_or(4);
        filters.push(format!("t.priority BETWEEN {lowest} AND {highest}"));
    }
    if !q.all_tags.is_empty() {
        let tags = p.push(tags_param(&q.all_tags));
        filters.push(format!("t.tags @> {tags}::text[]"));
    }
    if !q.any_tags.is_empty() {
        let tags = p.push(tags_param(&q.any_tags));
        filters.push(format!("t.tags && {tags}::text[]"));
    }
    if let Some(before) = q.due_before {
        let at = p.push(Param::Int64(before.micros()));
        filters.push(format!("t.due_at < ts_from_us({at})"));
    }
    if let Some(after) = q.due_after {
        let at = p.push(Param::Int64(after.micros()));
        filters.push(format!("t.due_at >= ts_from_us({at})"));
    }
    if let Some(overdue) = q.overdue {
        let now = p.push(Param::Int64(q.now.micros()));
        let is_overdue = format!("(t.status = 'open' AND t.due_at < ts_from_us({now}))");
        filters.push(if overdue {
            is_overdue
        } else {
            format!("NOT coalesce({is_overdue}, false)")
        });
    }
    if let Some(has_due) = q.has_due {
        filters.push(format!(
            "t.due_at IS {}NULL",
            if has_due { "NOT " } else { "" }
        ));
    }
    if let Some(recurring) = q.recurring {
        filters.push(format!(
            "t.recurrence IS {}NULL",
            if recurring { "NOT " } else { "" }
        ));
    }

    if let Some(series_id) = q.series_id {
        let series = p.push(Param::Uuid(series_id.to_string()));
        filters.push(format!("t.series_id = {series}"));
    }

    let desc = q.sort.descending;
    let (key, cursor_column) = match q.sort.field {
        SortField::DueAt if desc => (
            "coalesce(t.due_at, '-infinity'::timestamptz)".to_owned(),
            "due_at",
        ),
        SortField::DueAt => (
            "coalesce(t.due_at, 'infinity'::timestamptz)".to_owned(),
            "due_at",
        ),
        SortField::Priority => ("t.priority".to_owned(), "priority"),
        SortField::CreatedAt => ("t.created_at".to_owned(), "created_at"),
        SortField::UpdatedAt => ("t.updated_at".to_owned(), "updated_at"),
        SortField::Title => ("lower(t.title)".to_owned(), "sort_title"),
        SortField::Relevance => (rank.clone(), "rank"),
    };
    if q.sort.field == SortField::Relevance {
        // Ranking needs every candidate's rank, so candidates are bounded: the
        // most recently updated matches. The same expressions (`t.search`,
        // `query`, `t.id`) then read the candidates instead of the table.
        from = format!(
            "(SELECT t.id, t.search, query FROM {from}
               WHERE {}
               ORDER BY t.updated_at DESC, t.id DESC
               LIMIT {RANKED_CANDIDATES}) t",
            filters.join(" AND ")
        );
        filters = vec!["true".to_owned()];
    }
    if let Some(after) = &q.after {
        let (value, id) = match after {
            After::Due(due, id) => {
                let none = if desc {
                    "'-infinity'::timestamptz"
                } else {
                    "'infinity'::timestamptz"
                };
                let at = p.push(due.map_or(Param::Null, Param::Int64));
                (format!("coalesce(ts_from_us({at}), {none})"), id)
            }
            After::Int(v, id)
                if matches!(q.sort.field, SortField::CreatedAt | SortField::UpdatedAt) =>
            {
                (format!("ts_from_us({})", p.push(Param::Int64(*v))), id)
            }
            After::Int(v, id) => (format!("{}::int8", p.push(Param::Int64(*v))), id),
            After::Text(v, id) => (p.push(Param::Str(v.clone())), id),
            After::Rank(v, id) => (
                format!("{}::float8::real", p.push(Param::Float64(f64::from(*v)))),
                id,
            ),
        };
        let id = p.push(Param::Uuid(id.to_string()));
        let op = if desc { "<" } else { ">" };
        filters.push(format!("({key}, t.id) {op} ({value}, {id})"));
    }
    let dir = if desc { "DESC" } else { "ASC" };
    let limit = p.push(Param::Int64(i64::try_from(q.limit).unwrap_or(100) + 1));
    let filters = filters.join(" AND ");
    let sql = if q.sort.field == SortField::Relevance {
        // Two phases: the page's ids are chosen by rank from the candidates'
        // narrow rows, then only those rows are read whole.
        format!(
            "SELECT {COLUMNS}, lower(t.title) AS sort_title, page.rank
               FROM (SELECT t.id, {key} AS sort_key, {rank} AS rank
                       FROM {from}
                      WHERE {filters}
                      ORDER BY {key} {dir}, t.id {dir}
                      LIMIT {limit}) page
               JOIN tasks t ON t.id = page.id
              ORDER BY page.sort_key {dir}, t.id {dir}"
        )
    } else {
        // One phase: the rows come in index order and stop at the limit, and
        // Postgres evaluates the reminders subquery only for the rows kept
        // (after any sort). Planned afresh on every request under Spin, this
        // shape costs about a third less than a join back to `tasks`.
        format!(
            "SELECT {COLUMNS}, lower(t.title) AS sort_title
               FROM {from}
              WHERE {filters}
              ORDER BY {key} {dir}, t.id {dir}
              LIMIT {limit}"
        )
    };
    let rows = db.query(&sql, &p.0)?;
    let mut tasks = Vec::with_capacity(rows.len());
    let mut last_key = None;
    for row in rows.iter().take(q.limit) {
        let task = task_from_row(&row)?;
        last_key = Some(match cursor_column {
            "due_at" => After::due_of(&task),
            "sort_title" => After::Text(row.str("sort_title")?, task.id),
            "rank" => After::Rank(row.f64("rank")? as f32, task.id),
            "created_at" => After::Int(task.created_at.micros(), task.id),
            "updated_at" => After::Int(task.updated_at.micros(), task.id),
            column => After::Int(row.i64(column)?, task.id),
        });
        tasks.push(task);
    }
    let next = if rows.len() > q.limit { last_key } else { None };
    Ok(Page { tasks, next })
}

/// [`list`] of a query with no filter but the status, by due date ascending:
/// what a client shows first, run by the `task_page_by_due` routine.
fn page_by_due(
    db: &impl Db,
    user_id: &str,
    q: &ListQuery,
    after: Option<(Option<i64>, Uuid)>,
) -> Result<Page, DbError> {
    let status = match q.status {
        StatusFilter::Open => Param::Str("open".to_owned()),
        StatusFilter::Completed => Param::Str("completed".to_owned()),
        StatusFilter::All => Param::Null,
    };
    let (due, id) = after.map_or((Param::Null, Param::Null), |(due, id)| {
        (
            due.map_or(Param::Null, Param::Int64),
            Param::Uuid(id.to_string()),
        )
    });
    let limit = Param::Int64(i64::try_from(q.limit).unwrap_or(100) + 1);
    let rows = db.query(
        "SELECT * FROM task_page_by_due($1, $2, $3, $4, $5)",
        &[Param::Str(user_id.to_owned()), status, due, id, limit],
    )?;
    let tasks = rows
        .iter()
        .take(q.limit)
        .map(|row| task_from_row(&row))
        .collect::<Result<Vec<_>, _>>()?;
    let next = (rows.len() > q.limit)
        .then(|| tasks.last().map(After::due_of))
        .flatten();
    Ok(Page { tasks, next })
}

/// Every task of the user's series `series_id`, by occurrence index.
pub fn series(db: &impl Db, user_id: &str, series_id: Uuid) -> Result<Vec<Task>, DbError> {
    let rows = db.query(
        &format!(
            "SELECT {COLUMNS} FROM tasks t
              WHERE t.series_id = $1 AND t.user_id = $2
              ORDER BY t.occurrence"
        ),
        &[
            Param::Uuid(series_id.to_string()),
            Param::Str(user_id.to_owned()),
        ],
    )?;
    rows.iter().map(|row| task_from_row(&row)).collect()
}

/// The user's tasks carrying `tag`, locked for the rest of the transaction.
pub fn with_tag_for_update(db: &impl Db, user_id: &str, tag: &Tag) -> Result<Vec<Task>, DbError> {
    let rows = db.query(
        &format!(
            "SELECT {COLUMNS} FROM tasks t
              WHERE t.user_id = $1 AND t.tags @> ARRAY[$2::text]
              ORDER BY t.id
                FOR UPDATE OF t"
        ),
        &[
            Param::Str(user_id.to_owned()),
            Param::Str(tag.as_str().to_owned()),
        ],
    )?;
    rows.iter().map(|row| task_from_row(&row)).collect()
}

/// Gives each task in `changed` its new tags in one statement, bumping versions.
/// Returns the tasks as stored.
pub fn retag(db: &impl Db, changed: Vec<(Task, Tags)>, now: Instant) -> Result<Vec<Task>, DbError> {
    let Some((first, _)) = changed.first() else {
        return Ok(Vec::new());
    };
    let user_id = first.user_id.clone();
    let items: Vec<serde_json::Value> = changed
        .iter()
        .map(|(task, tags)| serde_json::json!({ "id": task.id, "tags": tags.to_strings() }))
        .collect();
    let body = serde_json::to_vec(&items).map_err(|e| DbError::Conversion(e.to_string()))?;
    db.execute(
        "UPDATE tasks t
            SET tags = ARRAY(SELECT jsonb_array_elements_text(x.tags)), version = t.version + 1,
                updated_at = ts_from_us($3)
           FROM jsonb_to_recordset($2::jsonb) AS x(id uuid, tags jsonb)
          WHERE t.id = x.id AND t.user_id = $1",
        &[
            Param::Str(user_id),
            Param::Jsonb(body),
            Param::Int64(now.micros()),
        ],
    )?;
    Ok(changed
        .into_iter()
        .map(|(task, tags)| Task {
            tags,
            version: task.version + 1,
            updated_at: now,
            ..task
        })
        .collect())
}

// ---------------------------------------------------------------------------
// Firing reminders.
// ---------------------------------------------------------------------------

/// A reminder the tick has just claimed, with its task as it was at the claim.
#[derive(Debug, Clone, PartialEq)]
pub struct FiredReminder {
    pub id: Uuid,
    pub user_id: String,
    /// `minutes_before` for a relative reminder, `None` for one at a fixed instant.
    pub minutes_before: Option<i64>,
    pub fire_at: Instant,
    /// Claimed more than the allowed lateness after `fire_at`.
    pub missed: bool,
    pub task_id: Uuid,
    pub title: String,
    /// `P1`..`P4`.
    pub priority: String,
    pub due_at: Option<Instant>,
    pub timezone: String,
    pub tags: Vec<String>,
}

/// Claims up to `limit` due reminders (pending, `fire_at <= now`, task open) and
/// marks them `fired`, or `missed` when `fire_at` is more than `max_late_micros`
/// before `now`. Run it inside the transaction that writes their events: `FOR
/// UPDATE SKIP LOCKED` makes concurrent ticks claim disjoint reminders, and a
/// rollback gives them back.
pub fn claim_due_reminders(
    db: &impl Db,
    now: Instant,
    max_late_micros: i64,
    limit: u32,
) -> Result<Vec<FiredReminder>, DbError> {
    let rows = db.query(
        "WITH due AS (
             SELECT r.id FROM reminders r JOIN tasks t ON t.id = r.task_id
              WHERE r.state = 'pending' AND r.fire_at <= ts_from_us($1) AND t.status = 'open'
              ORDER BY r.fire_at
              LIMIT $3::int8
              FOR UPDATE OF r SKIP LOCKED)
         UPDATE reminders r
            SET state = CASE WHEN r.fire_at < ts_from_us($1 - $2::int8) THEN 'missed' ELSE 'fired' END,
                fired_at = ts_from_us($1)
           FROM due, tasks t
          WHERE r.id = due.id AND t.id = r.task_id
         RETURNING r.id, r.user_id, r.minutes_before::int8 AS minutes_before,
                   us_from_ts(r.fire_at) AS fire_at_us, r.state = 'missed' AS missed,
                   t.id AS task_id, t.title, 'P' || t.priority AS priority,
                   us_from_ts(t.due_at) AS due_at_us, t.timezone, t.tags",
        &[
            Param::Int64(now.micros()),
            Param::Int64(max_late_micros.max(0)),
            Param::Int64(i64::from(limit)),
        ],
    )?;
    rows.iter()
        .map(|row| {
            Ok(FiredReminder {
                id: parse_uuid(&row.str("id")?)?,
                user_id: row.str("user_id")?,
                minutes_before: row.opt_i64("minutes_before")?,
                fire_at: Instant::from_micros(row.i64("fire_at_us")?),
                missed: row.bool("missed")?,
                task_id: parse_uuid(&row.str("task_id")?)?,
                title: row.str("title")?,
                priority: row.str("priority")?,
                due_at: row.opt_i64("due_at_us")?.map(Instant::from_micros),
                timezone: row.str("timezone")?,
                tags: row.str_array("tags")?,
            })
        })
        .collect()
}

/// Whether the reminder's task is still open (a reminder of a task completed or
/// deleted since it fired is not delivered).
pub fn reminder_task_is_open(db: &impl Db, reminder_id: Uuid) -> Result<bool, DbError> {
    let rows = db.query(
        "SELECT 1 AS one FROM reminders r JOIN tasks t ON t.id = r.task_id
          WHERE r.id = $1 AND t.status = 'open'",
        &[Param::Uuid(reminder_id.to_string())],
    )?;
    Ok(!rows.is_empty())
}

/// Adds a one-off reminder at `at` to the user's open task (a snooze), bumping
/// the task's version. `None` when the task is not the user's, is completed, or
/// already carries the most reminders allowed.
pub fn add_reminder_at(
    db: &impl Db,
    user_id: &str,
    task_id: Uuid,
    at: Instant,
    now: Instant,
) -> Result<Option<Uuid>, DbError> {
    let id = Uuid::new_v4();
    let rows = db.query(
        "WITH task AS (
             UPDATE tasks SET version = version + 1, updated_at = ts_from_us($5),
                              reminder_count = reminder_count + 1
              WHERE id = $2 AND user_id = $3 AND status = 'open' AND reminder_count < $6::int8
             RETURNING id)
         INSERT INTO reminders (id, task_id, user_id, position, at, fire_at, state, created_at)
         SELECT $1, task.id, $3,
                coalesce((SELECT max(position) + 1 FROM reminders WHERE task_id = $2), 0),
                ts_from_us($4), ts_from_us($4), 'pending', ts_from_us($5)
           FROM task
         RETURNING id",
        &[
            Param::Uuid(id.to_string()),
            Param::Uuid(task_id.to_string()),
            Param::Str(user_id.to_owned()),
            Param::Int64(at.micros()),
            Param::Int64(now.micros()),
            Param::Int64(spindle_domain::MAX_REMINDERS as i64),
        ],
    )?;
    Ok((!rows.is_empty()).then_some(id))
}
