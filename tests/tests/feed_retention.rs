//! The change feed after retention: a cursor behind the deleted events gets
//! 410 Gone with a problem saying how to resync, never a silent gap; a fresh
//! cursor, `latest` and the resync cursor keep working.

mod api_support;

use api_support::App;
use serde_json::json;
use spindle_reminders::retention::{self, RetentionSettings};

const USER: &str = "alice";

/// Makes every event of `USER` delivered 8 days ago and runs retention.
fn age_and_prune(app: &App) {
    app.conn_execute(&format!(
        "UPDATE outbox SET delivered_at = now() - interval '8 days' WHERE user_id = '{USER}'"
    ));
    let report = retention::run(&app.conn, &RetentionSettings::default()).unwrap();
    assert!(report.outbox > 0, "{report:?}");
}

#[test]
fn a_cursor_behind_deleted_events_is_410_with_a_resync_cursor_that_works() {
    let app = App::new();
    app.create(USER, json!({ "title": "one" }));
    let first = app.get(USER, "/api/changes?limit=1");
    assert_eq!(first.status, 200, "{:?}", first.body);
    let old_cursor = first.body["next_cursor"].as_str().unwrap().to_owned();
    app.create(USER, json!({ "title": "two" }));
    let caught_up = app.get(USER, &format!("/api/changes?after={old_cursor}"));
    let fresh_cursor = caught_up.body["next_cursor"].as_str().unwrap().to_owned();

    age_and_prune(&app);

    for uri in [
        format!("/api/changes?after={old_cursor}"),
        format!("/api/changes?after={old_cursor}&wait=5"),
        "/api/changes".to_owned(),
    ] {
        let started = std::time::Instant::now();
        let gone = app.get(USER, &uri);
        assert_eq!(gone.status, 410, "{uri}: {:?}", gone.body);
        assert!(
            started.elapsed() < std::time::Duration::from_secs(2),
            "{uri}: a long-poll behind the horizon answers at once"
        );
        assert_eq!(
            gone.header("content-type"),
            Some("application/problem+json")
        );
        assert_eq!(gone.body["type"], "/problems/cursor-expired");
        assert_eq!(gone.body["status"], 410);
        let detail = gone.body["detail"].as_str().unwrap();
        assert!(
            detail.contains("GET /api/tasks") && detail.contains("resync_cursor"),
            "{detail}"
        );
        assert!(gone.body["resync_cursor"].is_string(), "{:?}", gone.body);
    }

    // The cursor the client already had after the last event still works.
    let fresh = app.get(USER, &format!("/api/changes?after={fresh_cursor}"));
    assert_eq!(fresh.status, 200, "{:?}", fresh.body);
    assert_eq!(fresh.body["items"], json!([]));
    // So does `latest`, though the user's events are all gone.
    let latest = app.get(USER, "/api/changes?after=latest");
    assert_eq!(latest.status, 200, "{:?}", latest.body);
    assert_eq!(latest.body["items"], json!([]));

    // Resync: take the cursor, list the tasks, follow the feed from the cursor.
    let resync_cursor = app
        .get(USER, &format!("/api/changes?after={old_cursor}"))
        .body["resync_cursor"]
        .as_str()
        .unwrap()
        .to_owned();
    let tasks = app.get(USER, "/api/tasks");
    assert_eq!(tasks.body["items"].as_array().unwrap().len(), 2);
    app.create(USER, json!({ "title": "three" }));
    let next = app.get(USER, &format!("/api/changes?after={resync_cursor}"));
    assert_eq!(next.status, 200, "{:?}", next.body);
    let items = next.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(items[0]["data"]["task"]["title"], "three");
}

#[test]
fn another_users_retention_does_not_expire_a_cursor() {
    let app = App::new();
    app.create("bob", json!({ "title": "bob's" }));
    app.create(USER, json!({ "title": "alice's" }));
    age_and_prune(&app);
    let bob = app.get("bob", "/api/changes");
    assert_eq!(bob.status, 200, "{:?}", bob.body);
    assert_eq!(bob.body["items"].as_array().unwrap().len(), 1);
}

fn internal_tick(app: &App) -> api_support::Resp {
    let req = http::Request::post("/internal/tick")
        .header("authorization", format!("Bearer {}", api_support::INTERNAL));
    app.send(req.body(Vec::new()).unwrap())
}

#[test]
fn internal_tick_reports_what_retention_deleted_once_per_interval() {
    let app = App::new();
    app.create(USER, json!({ "title": "old news" }));
    app.conn_execute(&format!(
        "UPDATE outbox SET delivered_at = now() - interval '8 days' WHERE user_id = '{USER}'"
    ));
    let first = internal_tick(&app);
    assert_eq!(first.status, 200, "{:?}", first.body);
    assert_eq!(first.body["retention"]["outbox"], 1, "{:?}", first.body);
    assert_eq!(first.body["retention"]["notifications"], 0);
    let second = internal_tick(&app);
    assert_eq!(second.status, 200);
    assert_eq!(
        second.body["retention"],
        serde_json::Value::Null,
        "not again within retention_interval_seconds"
    );
}

#[test]
fn internal_tick_refuses_bad_retention_variables_and_deletes_nothing() {
    let mut app = App::new();
    app.create(USER, json!({ "title": "old news" }));
    app.conn_execute(&format!(
        "UPDATE outbox SET delivered_at = now() - interval '8 days' WHERE user_id = '{USER}'"
    ));
    app.config = app.config.clone().with("retention_batch", "0");
    let refused = internal_tick(&app);
    assert_eq!(refused.status, 503, "{:?}", refused.body);
    let detail = refused.body["detail"].as_str().unwrap();
    assert!(detail.contains("retention_batch"), "{detail}");
    assert_eq!(
        app.count("SELECT count(*) AS n FROM outbox"),
        1,
        "nothing deleted"
    );
    assert_eq!(app.count("SELECT count(*) AS n FROM tick_heartbeat"), 0);
}
