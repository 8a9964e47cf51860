//! The maintained tag counts agree with the tasks after every kind of write.

mod api_support;

use api_support::*;
use serde_json::{json, Value};

/// The counts as GET /api/tags shows them, and as a full recount gives them.
fn shown_and_recounted(app: &App, user: &str) -> (Value, Value) {
    let shown = app.get(user, "/api/tags").body["items"].clone();
    let rows = app
        .conn_query_json(&format!(
            "SELECT coalesce(jsonb_agg(jsonb_build_object('name', tag, 'open_tasks', open, 'total_tasks', total) ORDER BY tag), '[]') AS j
               FROM (SELECT tag, count(*) FILTER (WHERE status = 'open') AS open, count(*) AS total
                       FROM tasks, unnest(tags) AS tag WHERE user_id = '{user}' GROUP BY tag) c"
        ));
    (shown, rows)
}

#[test]
fn tag_counts_follow_creates_edits_completions_renames_and_deletes() {
    let app = App::new();
    let a = app.create("alice", json!({ "title": "a", "tags": ["home", "work"] }));
    let b = app.create("alice", json!({ "title": "b", "tags": ["work"] }));
    app.create("alice", json!({ "title": "c", "tags": ["errands"] }));
    app.create("bob", json!({ "title": "bob's", "tags": ["work"] }));
    let id = |t: &Value| t["id"].as_str().unwrap().to_owned();

    app.patch(
        "alice",
        &format!("/api/tasks/{}", id(&a)),
        &json!({ "tags": ["home", "garden"] }),
    );
    app.post(
        "alice",
        &format!("/api/tasks/{}/complete", id(&b)),
        &json!({}),
    );
    app.patch("alice", "/api/tags/errands", &json!({ "name": "home" }));
    app.delete("alice", &format!("/api/tasks/{}", id(&a)));

    let (shown, recounted) = shown_and_recounted(&app, "alice");
    assert_eq!(shown, recounted);
    assert_eq!(
        shown,
        json!([
            { "name": "home", "open_tasks": 1, "total_tasks": 1 },
            { "name": "work", "open_tasks": 0, "total_tasks": 1 },
        ])
    );
    let (bob_shown, bob_recounted) = shown_and_recounted(&app, "bob");
    assert_eq!(bob_shown, bob_recounted);
}
