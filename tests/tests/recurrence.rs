//! Recurring tasks end to end: the task API completes a task, the recurrence
//! handler (the code the `recurrence-handler` component runs) creates the
//! next one in the real Postgres, once, whatever the deliveries.

mod api_support;

use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use api_support::*;
use serde_json::{json, Value};
use spindle_api::auth::{sign, Claims};
use spindle_events::handler::Outcome;
use spindle_events::recurrence::Recurrences;
use spindle_events::relay::{self, RelaySettings};
use spindle_native::testing::TestRedis;
use spindle_native::{PgDb, RedisPublisher};
use spindle_ports::{Db, Param};

const USER: &str = "alice";

/// Requests as `user` with a token valid for the whole test: the tests move
/// the clock by days and months.
fn request(user: &str, method: &str, uri: &str, body: Option<&Value>) -> http::Request<Vec<u8>> {
    let token = sign(
        &Claims {
            sub: user.to_owned(),
            exp: Some(4_102_444_800), // 2100-01-01
            nbf: None,
            iat: None,
        },
        SECRET.as_bytes(),
    );
    http::Request::builder()
        .method(method)
        .uri(uri)
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .body(body.map(|b| b.to_string().into_bytes()).unwrap_or_default())
        .expect("a test request")
}

fn call(app: &App, user: &str, method: &str, uri: &str, body: Option<&Value>) -> Resp {
    app.send(request(user, method, uri, body))
}

fn get(app: &App, uri: &str) -> Resp {
    call(app, USER, "GET", uri, None)
}

fn post(app: &App, uri: &str, body: &Value) -> Resp {
    call(app, USER, "POST", uri, Some(body))
}

fn patch(app: &App, uri: &str, body: &Value) -> Resp {
    call(app, USER, "PATCH", uri, Some(body))
}

fn create(app: &App, body: Value) -> Value {
    let resp = post(app, "/api/tasks", &body);
    assert_eq!(resp.status, 201, "creating {body} failed: {:?}", resp.body);
    resp.body
}

fn micros(rfc3339: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .expect("an RFC 3339 test time")
        .timestamp_micros()
}

fn handler<'a>(app: &'a App, db: &'a PgDb) -> Recurrences<'a, PgDb, RedisPublisher> {
    Recurrences {
        db,
        publisher: &app.publisher,
        clock: &app.clock,
        view: spindle_api::task_view,
    }
}

/// Completes `id` at `at` through the API and returns the `task.completed`
/// event as it is published.
fn complete(app: &App, id: &str, at: &str) -> Vec<u8> {
    app.clock.set(micros(at));
    let resp = post(app, &format!("/api/tasks/{id}/complete"), &json!({}));
    assert_eq!(resp.status, 200, "{:?}", resp.body);
    last_event(app, id, "task.completed")
}

/// The latest `kind` event of a task, as published (with its `sequence`).
fn last_event(app: &App, task_id: &str, kind: &str) -> Vec<u8> {
    let rows = app
        .conn
        .query(
            "SELECT envelope || jsonb_build_object('sequence', lpad(seq::text, 20, '0')) AS envelope
               FROM outbox WHERE task_id = $1 AND type = $2 ORDER BY seq DESC LIMIT 1",
            &[Param::Uuid(task_id.to_owned()), Param::Str(kind.to_owned())],
        )
        .expect("reading the outbox");
    rows.first()
        .unwrap_or_else(|| panic!("no {kind} event for {task_id}"))
        .json("envelope")
        .expect("an envelope")
}

/// The series' tasks as the API lists them, by occurrence.
fn series(app: &App, series_id: &str) -> Vec<Value> {
    let resp = get(
        app,
        &format!("/api/tasks?series_id={series_id}&status=all&sort=created_at"),
    );
    assert_eq!(resp.status, 200, "{:?}", resp.body);
    let mut tasks = resp.body["items"].as_array().cloned().unwrap_or_default();
    tasks.sort_by_key(|t| t["occurrence"].as_i64());
    tasks
}

fn task_body(rule: &str, due: &str, zone: &str) -> Value {
    json!({ "title": "Water the plants", "recurrence": rule, "due_at": due, "timezone": zone })
}

/// (zone, rule, mode, first due date, completion times, the due dates of the
/// tasks that follow, by hand).
type Case = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static [&'static str],
    &'static [&'static str],
);

#[test]
fn completing_each_task_of_a_series_gives_the_dates_a_person_expects() {
    let cases: &[Case] = &[
        // 09:00 in Berlin on both sides of spring forward (29 March).
        (
            "Europe/Berlin",
            "daily",
            "schedule",
            "2026-03-28T09:00:00+01:00",
            &["2026-03-28T09:05:00+01:00", "2026-03-29T09:05:00+02:00"],
            &["2026-03-29T09:00:00+02:00", "2026-03-30T09:00:00+02:00"],
        ),
        // 02:30 does not exist on 29 March: 03:30; the next day 02:30 again.
        (
            "Europe/Berlin",
            "daily",
            "schedule",
            "2026-03-28T02:30:00+01:00",
            &["2026-03-28T08:00:00+01:00", "2026-03-29T08:00:00+02:00"],
            &["2026-03-29T03:30:00+02:00", "2026-03-30T02:30:00+02:00"],
        ),
        // New York falls back on 1 November: 01:30 twice, the first one counts.
        (
            "America/New_York",
            "daily",
            "schedule",
            "2026-10-31T01:30:00-04:00",
            &["2026-10-31T08:00:00-04:00", "2026-11-01T08:00:00-05:00"],
            &["2026-11-01T01:30:00-04:00", "2026-11-02T01:30:00-05:00"],
        ),
        // Sydney springs forward on 4 October.
        (
            "Australia/Sydney",
            "FREQ=WEEKLY;BYDAY=SA",
            "schedule",
            "2026-09-26T09:00:00+10:00",
            &["2026-09-26T10:00:00+10:00", "2026-10-03T10:00:00+10:00"],
            &["2026-10-03T09:00:00+10:00", "2026-10-10T09:00:00+11:00"],
        ),
        // Lord Howe: a 30-minute gap on 4 October.
        (
            "Australia/Lord_Howe",
            "daily",
            "schedule",
            "2026-10-03T02:15:00+10:30",
            &["2026-10-03T09:00:00+10:30"],
            &["2026-10-04T02:45:00+11:00"],
        ),
        // The last weekday of the month.
        (
            "Europe/Berlin",
            "FREQ=MONTHLY;BYSETPOS=-1;BYDAY=MO,TU,WE,TH,FR",
            "schedule",
            "2026-01-30T17:00:00+01:00",
            &["2026-01-30T17:30:00+01:00", "2026-02-27T17:30:00+01:00"],
            &["2026-02-27T17:00:00+01:00", "2026-03-31T17:00:00+02:00"],
        ),
        // COUNT=3: the third completion creates nothing.
        (
            "UTC",
            "FREQ=DAILY;COUNT=3",
            "schedule",
            "2026-03-01T09:00:00Z",
            &[
                "2026-03-01T10:00:00Z",
                "2026-03-02T10:00:00Z",
                "2026-03-03T10:00:00Z",
            ],
            &["2026-03-02T09:00:00Z", "2026-03-03T09:00:00Z"],
        ),
        // Three weeks overdue: the next Monday after now, not three overdue tasks.
        (
            "Europe/Berlin",
            "FREQ=WEEKLY;BYDAY=MO",
            "schedule",
            "2026-01-05T09:00:00+01:00",
            &["2026-01-28T11:00:00+01:00"],
            &["2026-02-02T09:00:00+01:00"],
        ),
        // Every 3 days counted from the completion, at the usual time.
        (
            "Europe/Berlin",
            "FREQ=DAILY;INTERVAL=3",
            "from_completion",
            "2026-01-05T09:00:00+01:00",
            &["2026-01-10T15:00:00+01:00"],
            &["2026-01-13T09:00:00+01:00"],
        ),
    ];
    let app = App::new();
    for (zone, rule, mode, first, completions, expected) in cases {
        let mut body = task_body(rule, first, zone);
        body["recurrence_mode"] = json!(mode);
        let mut task = create(&app, body);
        let series_id = task["series_id"].as_str().expect("a series id").to_owned();
        for at in *completions {
            let event = complete(&app, task["id"].as_str().unwrap(), at);
            assert_eq!(
                handler(&app, &app.conn).handle(&event).unwrap(),
                Outcome::Processed
            );
            let tasks = series(&app, &series_id);
            if let Some(next) = tasks
                .iter()
                .find(|t| t["occurrence"] == task["occurrence"].as_i64().unwrap() + 1)
            {
                task = next.clone();
            }
        }
        let tasks = series(&app, &series_id);
        let dues: Vec<&str> = tasks[1..]
            .iter()
            .map(|t| t["due_at"].as_str().unwrap_or("none"))
            .collect();
        assert_eq!(&dues, expected, "{zone} {rule} {mode} from {first}");
    }
}

#[test]
fn the_next_task_copies_the_task_and_moves_its_reminders_and_says_why_it_exists() {
    let app = App::new();
    let mut body = task_body("daily", "2026-03-28T09:00:00+01:00", "Europe/Berlin");
    body["description"] = json!("the ones on the balcony");
    body["priority"] = json!("P2");
    body["tags"] = json!(["home", "garden"]);
    body["reminders"] = json!([{ "minutes_before": 30 }, { "at": "2026-03-28T07:45:00+01:00" }]);
    let first = create(&app, body);
    let id = first["id"].as_str().unwrap();
    let completed = complete(&app, id, "2026-03-28T09:10:00+01:00");

    assert_eq!(
        handler(&app, &app.conn).handle(&completed).unwrap(),
        Outcome::Processed
    );

    let tasks = series(&app, id);
    assert_eq!(tasks.len(), 2);
    let next = &tasks[1];
    assert_eq!(next["title"], "Water the plants");
    assert_eq!(next["description"], "the ones on the balcony");
    assert_eq!(next["priority"], "P2");
    assert_eq!(next["tags"], first["tags"]);
    assert_eq!(next["timezone"], "Europe/Berlin");
    assert_eq!(next["recurrence"], "FREQ=DAILY");
    assert_eq!(next["recurrence_mode"], "schedule");
    assert_eq!(next["series_id"], id);
    assert_eq!(next["occurrence"], 1);
    assert_eq!(next["status"], "open");
    assert_eq!(next["version"], 1);
    // The day after, across spring forward, at 09:00 local.
    assert_eq!(next["due_at"], "2026-03-29T09:00:00+02:00");
    // Relative: 30 minutes before the new due date. Absolute: one local day later, same local time.
    assert_eq!(next["reminders"][0]["minutes_before"], 30);
    assert_eq!(next["reminders"][0]["fire_at"], "2026-03-29T08:30:00+02:00");
    assert_eq!(next["reminders"][0]["state"], "pending");
    assert_eq!(next["reminders"][1]["at"], "2026-03-29T07:45:00+02:00");
    assert_eq!(next["reminders"][1]["fire_at"], "2026-03-29T07:45:00+02:00");

    let created: Value = serde_json::from_slice(&last_event(
        &app,
        next["id"].as_str().unwrap(),
        "task.created",
    ))
    .unwrap();
    let completed: Value = serde_json::from_slice(&completed).unwrap();
    assert_eq!(created["causationid"], completed["id"]);
    assert_eq!(
        created["data"]["task"]["due_at"],
        "2026-03-29T09:00:00+02:00"
    );
    assert_eq!(created["userid"], USER);
}

#[test]
fn the_same_completion_delivered_twice_in_a_row_creates_one_task() {
    let app = App::new();
    let first = create(&app, task_body("weekly", "2026-03-02T09:00:00Z", "UTC"));
    let id = first["id"].as_str().unwrap();
    let event = complete(&app, id, "2026-03-02T10:00:00Z");
    let recurrences = handler(&app, &app.conn);

    assert_eq!(recurrences.handle(&event).unwrap(), Outcome::Processed);
    assert_eq!(recurrences.handle(&event).unwrap(), Outcome::Duplicate);

    assert_eq!(series(&app, id).len(), 2);
    assert_eq!(
        app.count("SELECT count(*)::int8 AS n FROM outbox WHERE type = 'task.created'"),
        2
    );
}

#[test]
fn the_same_completion_delivered_to_two_replicas_at_once_creates_one_task() {
    let app = App::new();
    let first = create(&app, task_body("weekly", "2026-03-02T09:00:00Z", "UTC"));
    let id = first["id"].as_str().unwrap().to_owned();
    let event = complete(&app, &id, "2026-03-02T10:00:00Z");
    const REPLICAS: usize = 8;
    let barrier = Arc::new(Barrier::new(REPLICAS));
    let app = Arc::new(app);
    let outcomes: Vec<Outcome> = (0..REPLICAS)
        .map(|_| {
            let (app, barrier, event) = (app.clone(), barrier.clone(), event.clone());
            thread::spawn(move || {
                let conn = app.db.connect();
                barrier.wait();
                handler(&app, &conn).handle(&event).unwrap()
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|t| t.join().unwrap())
        .collect();

    assert_eq!(
        outcomes
            .iter()
            .filter(|o| **o == Outcome::Processed)
            .count(),
        1
    );
    assert_eq!(series(&app, &id).len(), 2);
}

#[test]
fn complete_reopen_complete_creates_one_next_task() {
    let app = App::new();
    let first = create(&app, task_body("daily", "2026-03-02T09:00:00Z", "UTC"));
    let id = first["id"].as_str().unwrap();
    let once = complete(&app, id, "2026-03-02T10:00:00Z");
    app.clock.set(micros("2026-03-02T10:01:00Z"));
    assert_eq!(
        post(&app, &format!("/api/tasks/{id}/reopen"), &json!({})).status,
        200
    );
    let twice = complete(&app, id, "2026-03-02T10:02:00Z");
    assert_ne!(once, twice);

    // In either order, and again.
    for event in [&twice, &once, &twice] {
        handler(&app, &app.conn).handle(event).unwrap();
    }

    let tasks = series(&app, id);
    assert_eq!(tasks.len(), 2, "{tasks:?}");
    assert_eq!(tasks[1]["due_at"], "2026-03-03T09:00:00Z");
}

#[test]
fn two_completions_racing_on_one_task_create_one_next_task() {
    let app = Arc::new(App::new());
    let first = create(&app, task_body("daily", "2026-03-02T09:00:00Z", "UTC"));
    let id = first["id"].as_str().unwrap().to_owned();
    app.clock.set(micros("2026-03-02T10:00:00Z"));
    let barrier = Arc::new(Barrier::new(2));
    let statuses: Vec<u16> = (0..2)
        .map(|_| {
            let (app, barrier, id) = (app.clone(), barrier.clone(), id.clone());
            thread::spawn(move || {
                let conn = app.db.connect();
                let req = request(USER, "POST", &format!("/api/tasks/{id}/complete"), None);
                barrier.wait();
                app.send_on(&conn, req).status
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|t| t.join().unwrap())
        .collect();
    assert_eq!(statuses, [200, 200]);

    let rows = app
        .conn
        .query(
            "SELECT envelope FROM outbox WHERE type = 'task.completed' ORDER BY seq",
            &[],
        )
        .unwrap();
    let events: Vec<Vec<u8>> = rows.iter().map(|r| r.json("envelope").unwrap()).collect();
    for event in events.iter().chain(&events) {
        handler(&app, &app.conn).handle(event).unwrap();
    }
    assert_eq!(series(&app, &id).len(), 2);
}

#[test]
fn a_completion_heard_on_redis_creates_the_next_task_and_its_event() {
    let app = Arc::new(App::new());
    let redis = TestRedis::new();
    let channel = redis.unique_channel("task-events");
    let subscription = redis.subscribe(&channel);
    let first = create(&app, task_body("daily", "2026-03-02T09:00:00Z", "UTC"));
    let id = first["id"].as_str().unwrap().to_owned();
    let event = complete(&app, &id, "2026-03-02T10:00:00Z");

    // The component's loop: every message heard goes to the handler.
    let listener = {
        let app = app.clone();
        thread::spawn(move || {
            let conn = app.db.connect();
            let message = subscription
                .recv_timeout(Duration::from_secs(10))
                .expect("the completion arrives on the channel");
            handler(&app, &conn).handle(&message).unwrap()
        })
    };
    spindle_ports::Publisher::publish(&app.publisher, &channel, &event).unwrap();
    assert_eq!(listener.join().unwrap(), Outcome::Processed);

    let deadline = Instant::now() + Duration::from_secs(5);
    let tasks = loop {
        let tasks = series(&app, &id);
        if tasks.len() == 2 || Instant::now() > deadline {
            break tasks;
        }
        thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(tasks.len(), 2);
    let next_id = tasks[1]["id"].as_str().unwrap();
    assert_eq!(app.events_of(next_id), ["task.created"]);
    // Published right after the commit, so the relay has nothing to do for it.
    assert_eq!(
        app.count(&format!(
            "SELECT count(*)::int8 AS n FROM outbox WHERE task_id = '{next_id}' AND published_at IS NOT NULL"
        )),
        1
    );
}

#[test]
fn events_that_are_not_completions_are_acknowledged_without_effect() {
    let app = App::new();
    let plain = create(
        &app,
        json!({ "title": "once", "due_at": "2026-03-02T09:00:00Z" }),
    );
    let id = plain["id"].as_str().unwrap();
    let created = last_event(&app, id, "task.created");
    let completed = complete(&app, id, "2026-03-02T10:00:00Z");

    assert_eq!(
        handler(&app, &app.conn).handle(&created).unwrap(),
        Outcome::Processed
    );
    assert_eq!(
        handler(&app, &app.conn).handle(&completed).unwrap(),
        Outcome::Processed
    );

    assert_eq!(app.count("SELECT count(*)::int8 AS n FROM tasks"), 1);
    assert_eq!(
        app.count("SELECT count(*)::int8 AS n FROM processed_events WHERE consumer = 'recurrence'"),
        2
    );
}

#[test]
fn recurrence_mode_is_set_shown_and_checked() {
    let app = App::new();
    let mut body = task_body("FREQ=DAILY;INTERVAL=3", "2026-03-02T09:00:00Z", "UTC");
    body["recurrence_mode"] = json!("from_completion");
    let task = create(&app, body);
    assert_eq!(task["recurrence_mode"], "from_completion");
    let id = task["id"].as_str().unwrap();

    let resp = patch(
        &app,
        &format!("/api/tasks/{id}"),
        &json!({ "recurrence_mode": "schedule" }),
    );
    assert_eq!(resp.status, 200, "{:?}", resp.body);
    assert_eq!(resp.body["recurrence_mode"], "schedule");
    assert_eq!(
        get(&app, "/api/tasks").body["items"][0]["recurrence_mode"],
        "schedule"
    );

    let plain = create(&app, json!({ "title": "no date" }));
    assert_eq!(plain["recurrence_mode"], "schedule");
}

#[test]
fn rules_that_cannot_make_a_series_are_refused_with_422_and_change_nothing() {
    let app = App::new();
    let due = "2026-03-02T09:00:00Z";
    for (body, field) in [
        (
            json!({ "title": "x", "due_at": due, "recurrence": "" }),
            "recurrence",
        ),
        (
            json!({ "title": "x", "due_at": due, "recurrence": "DTSTART:20260302T090000Z\nRRULE:FREQ=DAILY" }),
            "recurrence",
        ),
        (
            json!({ "title": "x", "due_at": due, "recurrence": "FREQ=DAILY;EXDATE=20260303T090000Z" }),
            "recurrence",
        ),
        (
            json!({ "title": "x", "due_at": due, "recurrence": "FREQ=HOURLY" }),
            "recurrence",
        ),
        (
            json!({ "title": "x", "due_at": due, "recurrence": "FREQ=MINUTELY" }),
            "recurrence",
        ),
        (
            json!({ "title": "x", "due_at": due, "recurrence": "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30" }),
            "recurrence",
        ),
        (
            json!({ "title": "x", "due_at": due, "recurrence": "FREQ=DAILY;UNTIL=20260101" }),
            "recurrence",
        ),
        (json!({ "title": "x", "recurrence": "daily" }), "recurrence"),
        (
            json!({ "title": "x", "recurrence_mode": "from_completion" }),
            "recurrence_mode",
        ),
        (
            json!({ "title": "x", "due_at": due, "recurrence": "daily", "recurrence_mode": "sometimes" }),
            "recurrence_mode",
        ),
    ] {
        let resp = post(&app, "/api/tasks", &body);
        assert_eq!(resp.status, 422, "{body}: {:?}", resp.body);
        assert_eq!(resp.error_fields(), [field], "{body}: {:?}", resp.body);
    }
    assert_eq!(app.count("SELECT count(*)::int8 AS n FROM tasks"), 0);

    let task = create(&app, json!({ "title": "x" }));
    let id = task["id"].as_str().unwrap();
    let resp = patch(
        &app,
        &format!("/api/tasks/{id}"),
        &json!({ "recurrence_mode": "from_completion" }),
    );
    assert_eq!(resp.status, 422, "{:?}", resp.body);
    assert_eq!(get(&app, &format!("/api/tasks/{id}")).body["version"], 1);
}

#[test]
fn editing_the_rule_of_the_latest_task_changes_the_dates_that_follow_and_null_ends_the_series() {
    let app = App::new();
    let first = create(&app, task_body("weekly", "2026-03-02T09:00:00Z", "UTC"));
    let id = first["id"].as_str().unwrap();
    let event = complete(&app, id, "2026-03-02T10:00:00Z");
    handler(&app, &app.conn).handle(&event).unwrap();
    let second = series(&app, id)[1].clone();
    let second_id = second["id"].as_str().unwrap();
    assert_eq!(second["due_at"], "2026-03-09T09:00:00Z");

    // From this one on, monthly on its own day.
    let resp = patch(
        &app,
        &format!("/api/tasks/{second_id}"),
        &json!({ "recurrence": "monthly" }),
    );
    assert_eq!(resp.status, 200, "{:?}", resp.body);
    let event = complete(&app, second_id, "2026-03-09T10:00:00Z");
    handler(&app, &app.conn).handle(&event).unwrap();
    let third = series(&app, id)[2].clone();
    assert_eq!(third["due_at"], "2026-04-09T09:00:00Z");

    let third_id = third["id"].as_str().unwrap();
    let resp = patch(
        &app,
        &format!("/api/tasks/{third_id}"),
        &json!({ "recurrence": null }),
    );
    assert_eq!(resp.status, 200, "{:?}", resp.body);
    let event = complete(&app, third_id, "2026-04-09T10:00:00Z");
    handler(&app, &app.conn).handle(&event).unwrap();
    assert_eq!(series(&app, id).len(), 3);
}

#[test]
fn the_series_id_filter_lists_one_series_only_and_refuses_a_non_uuid() {
    let app = App::new();
    let a = create(&app, task_body("daily", "2026-03-02T09:00:00Z", "UTC"));
    let _b = create(&app, task_body("daily", "2026-03-02T09:00:00Z", "UTC"));
    let a_id = a["id"].as_str().unwrap();
    let event = complete(&app, a_id, "2026-03-02T10:00:00Z");
    handler(&app, &app.conn).handle(&event).unwrap();

    let listed = series(&app, a_id);
    assert_eq!(listed.len(), 2);
    assert!(listed.iter().all(|t| t["series_id"] == a_id));
    // Another user's series is empty for them.
    let other = call(
        &app,
        "bob",
        "GET",
        &format!("/api/tasks?series_id={a_id}&status=all"),
        None,
    );
    assert_eq!(other.body["items"], json!([]));

    let resp = get(&app, "/api/tasks?series_id=nope");
    assert_eq!(resp.status, 400, "{:?}", resp.body);
}

#[test]
fn occurrences_show_the_series_so_far_and_the_dates_planned_after_it() {
    let app = App::new();
    let first = create(
        &app,
        task_body(
            "FREQ=DAILY;COUNT=4",
            "2026-03-28T02:30:00+01:00",
            "Europe/Berlin",
        ),
    );
    let id = first["id"].as_str().unwrap();
    let event = complete(&app, id, "2026-03-28T08:00:00+01:00");
    handler(&app, &app.conn).handle(&event).unwrap();

    let resp = get(&app, &format!("/api/tasks/{id}/occurrences?upcoming=10"));
    assert_eq!(resp.status, 200, "{:?}", resp.body);
    assert_eq!(resp.body["series_id"], id);
    let occurrences = resp.body["occurrences"].as_array().unwrap();
    assert_eq!(occurrences.len(), 2);
    assert_eq!(occurrences[0]["occurrence"], 0);
    assert_eq!(occurrences[1]["due_at"], "2026-03-29T03:30:00+02:00");
    // COUNT=4: two more after the second task, then the series ends.
    assert_eq!(
        resp.body["upcoming"],
        json!(["2026-03-30T02:30:00+02:00", "2026-03-31T02:30:00+02:00"])
    );
    // The same from any task of the series; five by default.
    let second = occurrences[1]["id"].as_str().unwrap();
    let resp = get(&app, &format!("/api/tasks/{second}/occurrences"));
    assert_eq!(resp.body["occurrences"].as_array().unwrap().len(), 2);

    let weekly = create(&app, task_body("weekly", "2026-03-02T09:00:00Z", "UTC"));
    let resp = get(
        &app,
        &format!("/api/tasks/{}/occurrences", weekly["id"].as_str().unwrap()),
    );
    assert_eq!(resp.body["upcoming"].as_array().unwrap().len(), 5);
    assert_eq!(resp.body["upcoming"][0], "2026-03-09T09:00:00Z");

    for bad in ["51", "-1", "many"] {
        let resp = get(&app, &format!("/api/tasks/{id}/occurrences?upcoming={bad}"));
        assert_eq!(resp.status, 400, "{bad}: {:?}", resp.body);
    }
    let resp = call(
        &app,
        "bob",
        "GET",
        &format!("/api/tasks/{id}/occurrences"),
        None,
    );
    assert_eq!(resp.status, 404);
}

#[test]
fn empty_strings_the_document_refuses_are_refused_by_the_api() {
    let app = App::new();
    for uri in [
        "/api/tasks?cursor=",
        "/api/tasks?q=",
        "/api/tasks?series_id=",
        "/api/tasks?status=",
    ] {
        assert_eq!(get(&app, uri).status, 400, "{uri}");
    }
    let due = "2026-03-02T09:00:00Z";
    for (field, value) in [
        ("title", " "),
        ("recurrence", ""),
        ("recurrence_mode", ""),
        ("timezone", ""),
    ] {
        let mut body = json!({ "title": "x", "due_at": due });
        body[field] = json!(value);
        let resp = post(&app, "/api/tasks", &body);
        assert_eq!(resp.status, 422, "{field}: {:?}", resp.body);
        assert_eq!(resp.error_fields(), [field]);
    }
}

#[test]
fn the_relay_redelivers_a_completion_until_the_recurrence_handler_has_processed_it() {
    let app = App::new();
    let redis = TestRedis::new();
    let first = create(&app, task_body("daily", "2026-03-02T09:00:00Z", "UTC"));
    let id = first["id"].as_str().unwrap();
    let completed = complete(&app, id, "2026-03-02T10:00:00Z");
    let completed_id = serde_json::from_slice::<Value>(&completed).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // The audit heard both events; the recurrence handler heard neither.
    for kind in ["task.created", "task.completed"] {
        spindle_events::audit::handle(&app.conn, &last_event(&app, id, kind)).unwrap();
    }
    let subscription = redis.subscribe(spindle_domain::event::TASK_EVENTS_CHANNEL);
    let settings = RelaySettings {
        base_delay: Duration::from_millis(1),
        max_backoff: Duration::from_millis(1),
        ..RelaySettings::default()
    };
    let tick = || {
        app.conn_execute("UPDATE outbox SET next_attempt_at = now() WHERE delivered_at IS NULL");
        relay::tick(&app.conn, &app.publisher, &settings).unwrap()
    };

    assert_eq!(tick().delivered, 0);
    // Published again on task-events (other tests publish there too: wait for ours).
    let deadline = Instant::now() + Duration::from_secs(10);
    let again = loop {
        let message = subscription
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("the relay publishes the completion again");
        let envelope: Value = serde_json::from_slice(&message).unwrap();
        if envelope["id"] == completed_id.as_str() {
            break message;
        }
    };
    assert_eq!(
        handler(&app, &app.conn).handle(&again).unwrap(),
        Outcome::Processed
    );
    assert_eq!(series(&app, id).len(), 2);

    // Both consumers have it now: delivered, not published again.
    tick();
    let delivered = app.count(&format!(
        "SELECT count(*)::int8 AS n FROM outbox
          WHERE event_id = '{completed_id}' AND delivered_at IS NOT NULL"
    ));
    assert_eq!(delivered, 1);
}
