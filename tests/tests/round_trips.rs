//! How many statements a request sends: in Spin each one is a prepare and an
//! execute on a pooled connection that was recycled with one more round trip,
//! so they are what a request costs under load.

mod api_support;

use api_support::*;
use serde_json::json;
use spindle_native::testing::CountingDb;

fn statements_of(
    app: &App,
    method: &str,
    uri: &str,
    body: Option<&serde_json::Value>,
    key: Option<&str>,
) -> (u16, Vec<String>) {
    let counting = CountingDb::new(&app.conn);
    let ctx = app.ctx(&counting);
    let mut builder = app.request(method, uri, Some("alice"), body);
    if let Some(key) = key {
        builder = builder.header("idempotency-key", key);
    }
    let bytes = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
    let response = spindle_api::tasks_api(&ctx, &app.verifier(), builder.body(bytes).unwrap());
    (response.status().as_u16(), counting.take())
}

#[test]
fn creating_a_task_with_a_reminder_and_its_event_is_one_statement() {
    let app = App::new();
    let body = json!({
        "title": "Pay rent", "tags": ["home"], "due_at": "2026-03-05T09:00:00Z",
        "reminders": [{"minutes_before": 30}]
    });
    let (status, statements) = statements_of(&app, "POST", "/api/tasks", Some(&body), None);
    assert_eq!(status, 201);
    assert_eq!(statements.len(), 1, "{statements:#?}");
    // Everything is there, and the event is marked for the writer's publish.
    assert_eq!(app.count("SELECT count(*) AS n FROM reminders"), 1);
    assert_eq!(
        app.count("SELECT count(*) AS n FROM outbox WHERE type = 'task.created' AND published_at IS NOT NULL AND attempts = 1"),
        1
    );
}

#[test]
fn a_keyed_create_keeps_its_claim_and_record_in_one_transaction_and_replays() {
    let app = App::new();
    let body = json!({ "title": "Once only" });
    let (status, first) = statements_of(&app, "POST", "/api/tasks", Some(&body), Some("k-1"));
    assert_eq!(status, 201);
    assert_eq!(first.first().map(String::as_str), Some("BEGIN"));
    assert_eq!(first.last().map(String::as_str), Some("COMMIT"));
    assert_eq!(
        first.len(),
        5,
        "BEGIN, claim, write, record, COMMIT: {first:#?}"
    );
    let (status, _) = statements_of(&app, "POST", "/api/tasks", Some(&body), Some("k-1"));
    assert_eq!(status, 201);
    assert_eq!(app.count("SELECT count(*) AS n FROM tasks"), 1);
    assert_eq!(app.count("SELECT count(*) AS n FROM outbox"), 1);
}

#[test]
fn reading_a_task_or_a_page_is_one_statement() {
    let app = App::new();
    let id = app.create(
        "alice",
        json!({ "title": "Read me", "reminders": [{"at": "2026-03-09T10:00:00Z"}] }),
    )["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, statements) = statements_of(&app, "GET", &format!("/api/tasks/{id}"), None, None);
    assert_eq!((status, statements.len()), (200, 1), "{statements:#?}");
    let (status, statements) = statements_of(&app, "GET", "/api/tasks?limit=50", None, None);
    assert_eq!((status, statements.len()), (200, 1), "{statements:#?}");
}
