//! Tags: counts per tag, rename (merging), delete — each change an event per task.

mod api_support;

use api_support::App;
use serde_json::json;

fn tags_of(app: &App, user: &str) -> Vec<(String, i64, i64)> {
    let resp = app.get(user, "/api/tags");
    assert_eq!(resp.status, 200);
    resp.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["name"].as_str().unwrap().to_owned(),
                t["open_tasks"].as_i64().unwrap(),
                t["total_tasks"].as_i64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn tags_are_listed_with_open_and_total_counts() {
    let app = App::new();
    app.create("alice", json!({ "title": "a", "tags": ["work", "urgent"] }));
    let done = app.create("alice", json!({ "title": "b", "tags": ["work"] }));
    app.post(
        "alice",
        &format!("/api/tasks/{}/complete", done["id"].as_str().unwrap()),
        &json!({}),
    );
    app.create("bob", json!({ "title": "c", "tags": ["work", "bobs"] }));
    assert_eq!(
        tags_of(&app, "alice"),
        vec![("urgent".to_owned(), 1, 1), ("work".to_owned(), 1, 2)]
    );
}

#[test]
fn renaming_a_tag_into_an_existing_one_merges_them() {
    let app = App::new();
    let both = app.create("alice", json!({ "title": "a", "tags": ["job", "work"] }));
    let only_job = app.create("alice", json!({ "title": "b", "tags": ["home", "job"] }));
    let bobs = app.create("bob", json!({ "title": "c", "tags": ["job"] }));
    let resp = app.patch("alice", "/api/tags/JOB", &json!({ "name": "Work" }));
    assert_eq!(resp.status, 200, "{:?}", resp.body);
    assert_eq!(resp.body["tasks_updated"], 2);
    let uri = |t: &serde_json::Value| format!("/api/tasks/{}", t["id"].as_str().unwrap());
    assert_eq!(app.get("alice", &uri(&both)).body["tags"], json!(["work"]));
    let moved = app.get("alice", &uri(&only_job)).body;
    assert_eq!(moved["tags"], json!(["home", "work"]));
    assert_eq!(moved["version"], 2);
    assert_eq!(
        app.get("bob", &uri(&bobs)).body["tags"],
        json!(["job"]),
        "another user's tag is untouched"
    );
    assert_eq!(
        app.events_of(only_job["id"].as_str().unwrap()),
        vec!["task.created", "task.updated"]
    );
}

#[test]
fn deleting_a_tag_removes_it_from_every_task() {
    let app = App::new();
    let task = app.create("alice", json!({ "title": "a", "tags": ["old", "keep"] }));
    assert_eq!(app.delete("alice", "/api/tags/old").status, 204);
    let after = app
        .get(
            "alice",
            &format!("/api/tasks/{}", task["id"].as_str().unwrap()),
        )
        .body;
    assert_eq!(after["tags"], json!(["keep"]));
    assert_eq!(app.delete("alice", "/api/tags/old").status, 404);
}

#[test]
fn a_bad_rename_is_422_and_changes_nothing() {
    let app = App::new();
    app.create("alice", json!({ "title": "a", "tags": ["x"] }));
    for body in [
        json!({}),
        json!({ "name": "" }),
        json!({ "name": "a,b" }),
        json!({ "name": 3 }),
        json!({ "name": "y", "colour": 1 }),
    ] {
        let resp = app.patch("alice", "/api/tags/x", &body);
        assert_eq!(resp.status, 422, "{body}: {:?}", resp.body);
    }
    assert_eq!(tags_of(&app, "alice"), vec![("x".to_owned(), 1, 1)]);
    assert_eq!(
        app.count("SELECT count(*) AS n FROM outbox WHERE type = 'task.updated'"),
        0
    );
}
