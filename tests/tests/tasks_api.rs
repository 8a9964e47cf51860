//! The task endpoints, from request to rows: create, read, edit, delete,
//! complete, reopen, and the HTTP rules every one of them follows.

mod api_support;

use api_support::App;
use serde_json::json;
use spindle_ports::Db;

fn task_uri(task: &serde_json::Value) -> String {
    format!("/api/tasks/{}", task["id"].as_str().expect("a task id"))
}

#[test]
fn creating_a_task_returns_it_with_location_etag_and_defaults() {
    let app = App::new();
    let resp = app.post("alice", "/api/tasks", &json!({ "title": "  Buy milk  " }));
    assert_eq!(resp.status, 201);
    let task = &resp.body;
    assert_eq!(task["title"], "Buy milk");
    assert_eq!(task["priority"], "P4");
    assert_eq!(task["status"], "open");
    assert_eq!(task["timezone"], "UTC");
    assert_eq!(task["tags"], json!([]));
    assert_eq!(task["version"], 1);
    assert_eq!(task["created_at"], "2026-03-01T12:00:00Z");
    assert_eq!(resp.header("location"), Some(task_uri(task).as_str()));
    assert_eq!(resp.header("etag"), Some("\"1\""));
    let fetched = app.get("alice", &task_uri(task));
    assert_eq!(fetched.status, 200);
    assert_eq!(&fetched.body, task);
}

#[test]
fn tags_are_normalised_and_the_due_date_reads_in_the_task_time_zone() {
    let app = App::new();
    let task = app.create(
        "alice",
        json!({
            "title": "Call", "tags": [" Work", "work", "HOME"], "priority": "p1",
            "due_at": "2026-07-01T07:00:00Z", "timezone": "Europe/Paris",
        }),
    );
    assert_eq!(task["tags"], json!(["work", "home"]));
    assert_eq!(task["priority"], "P1");
    assert_eq!(task["due_at"], "2026-07-01T09:00:00+02:00");
}

#[test]
fn every_invalid_field_is_reported_at_once_and_nothing_is_written() {
    let app = App::new();
    let many_tags: Vec<String> = (0..21).map(|i| format!("t{i}")).collect();
    let resp = app.post(
        "alice",
        "/api/tasks",
        &json!({
            "title": "", "priority": "P5", "tags": many_tags, "due_at": "tomorrow",
            "timezone": "Mars/Olympus", "reminders": [{ "minutes_before": -5 }, { "at": "2026-01-01T00:00:00Z", "minutes_before": 1 }],
            "description": "x".repeat(10_001),
        }),
    );
    assert_eq!(resp.status, 422, "{:?}", resp.body);
    assert_eq!(
        resp.header("content-type"),
        Some("application/problem+json")
    );
    assert_eq!(resp.body["type"], "/problems/validation");
    let mut fields = resp.error_fields();
    fields.sort();
    assert_eq!(
        fields,
        vec![
            "description",
            "due_at",
            "priority",
            "reminders[0]",
            "reminders[1]",
            "tags[20]",
            "timezone",
            "title"
        ]
    );
    assert_eq!(app.count("SELECT count(*) AS n FROM tasks"), 0);
    assert_eq!(app.count("SELECT count(*) AS n FROM outbox"), 0);
}

#[test]
fn a_title_over_500_characters_is_rejected_and_500_accepted() {
    let app = App::new();
    assert_eq!(
        app.post("alice", "/api/tasks", &json!({ "title": "é".repeat(501) }))
            .status,
        422
    );
    assert_eq!(
        app.post("alice", "/api/tasks", &json!({ "title": "é".repeat(500) }))
            .status,
        201
    );
}

#[test]
fn unknown_and_read_only_fields_are_rejected_with_422() {
    let app = App::new();
    let unknown = app.post(
        "alice",
        "/api/tasks",
        &json!({ "title": "x", "colour": "red" }),
    );
    assert_eq!(unknown.status, 422);
    assert_eq!(unknown.error_fields(), vec!["colour"]);
    let read_only = app.post(
        "alice",
        "/api/tasks",
        &json!({ "title": "x", "status": "completed" }),
    );
    assert_eq!(read_only.status, 422);
    assert_eq!(read_only.error_fields(), vec!["status"]);
}

#[test]
fn a_body_that_is_not_json_is_415_malformed_json_400_and_too_large_413() {
    let app = App::new();
    let text = app
        .request("POST", "/api/tasks", Some("alice"), None)
        .header("content-type", "text/plain");
    assert_eq!(
        app.send(text.body(b"title=x".to_vec()).unwrap()).status,
        415
    );
    let broken = app.request("POST", "/api/tasks", Some("alice"), Some(&json!({})));
    let resp = app.send(broken.body(b"{\"title\": ".to_vec()).unwrap());
    assert_eq!(resp.status, 400);
    let array = app.request("POST", "/api/tasks", Some("alice"), Some(&json!({})));
    assert_eq!(app.send(array.body(b"[1,2]".to_vec()).unwrap()).status, 422);
    let huge = json!({ "title": "x", "description": "y".repeat(70 * 1024) });
    assert_eq!(app.post("alice", "/api/tasks", &huge).status, 413);
    assert_eq!(app.count("SELECT count(*) AS n FROM tasks"), 0);
}

#[test]
fn recurrence_accepts_presets_and_rrules_and_needs_a_due_date() {
    let app = App::new();
    let weekly = app.create(
        "alice",
        json!({ "title": "Standup", "due_at": "2026-03-02T09:00:00Z", "recurrence": "weekdays" }),
    );
    assert_eq!(weekly["recurrence"], "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR");
    assert_eq!(weekly["series_id"], weekly["id"]);
    let rule = app.create(
        "alice",
        json!({ "title": "Rent", "due_at": "2026-03-01T09:00:00Z", "recurrence": "RRULE:FREQ=MONTHLY;BYMONTHDAY=1" }),
    );
    assert_eq!(rule["recurrence"], "FREQ=MONTHLY;BYMONTHDAY=1");
    let no_due = app.post(
        "alice",
        "/api/tasks",
        &json!({ "title": "x", "recurrence": "daily" }),
    );
    assert_eq!(no_due.status, 422);
    assert_eq!(no_due.error_fields(), vec!["recurrence"]);
    let nonsense = app.post(
        "alice",
        "/api/tasks",
        &json!({ "title": "x", "due_at": "2026-03-01T09:00:00Z", "recurrence": "FREQ=SOMETIMES" }),
    );
    assert_eq!(nonsense.status, 422);
}

#[test]
fn reminders_get_a_fire_time_that_follows_the_due_date() {
    let app = App::new();
    let task = app.create(
        "alice",
        json!({
            "title": "Dentist", "due_at": "2026-03-10T10:00:00Z",
            "reminders": [{ "minutes_before": 60 }, { "at": "2026-03-09T18:00:00Z" }],
        }),
    );
    assert_eq!(task["reminders"][0]["fire_at"], "2026-03-10T09:00:00Z");
    assert_eq!(task["reminders"][1]["fire_at"], "2026-03-09T18:00:00Z");
    assert_eq!(task["reminders"][0]["state"], "pending");
    let moved = app.patch(
        "alice",
        &task_uri(&task),
        &json!({ "due_at": "2026-03-11T10:00:00Z" }),
    );
    assert_eq!(moved.status, 200);
    assert_eq!(
        moved.body["reminders"][0]["fire_at"],
        "2026-03-11T09:00:00Z"
    );
    // The absolute reminder did not change, so it keeps its identity.
    assert_eq!(moved.body["reminders"][1]["id"], task["reminders"][1]["id"]);
    assert_eq!(
        app.count("SELECT count(*) AS n FROM reminders WHERE fire_at = '2026-03-11T09:00:00Z'"),
        1
    );
    let eleven: Vec<_> = (0..11).map(|i| json!({ "minutes_before": i })).collect();
    assert_eq!(
        app.patch("alice", &task_uri(&task), &json!({ "reminders": eleven }))
            .status,
        422
    );
}

#[test]
fn patch_changes_only_the_fields_sent_and_bumps_the_version() {
    let app = App::new();
    let task = app.create(
        "alice",
        json!({ "title": "Draft", "description": "d", "tags": ["a"], "priority": "P2" }),
    );
    let resp = app.patch(
        "alice",
        &task_uri(&task),
        &json!({ "title": "Final", "due_at": null }),
    );
    assert_eq!(resp.status, 200);
    assert_eq!(resp.body["title"], "Final");
    assert_eq!(resp.body["description"], "d");
    assert_eq!(resp.body["tags"], json!(["a"]));
    assert_eq!(resp.body["priority"], "P2");
    assert_eq!(resp.body["version"], 2);
    assert_eq!(resp.header("etag"), Some("\"2\""));
    let same = app.patch("alice", &task_uri(&task), &json!({ "title": "Final" }));
    assert_eq!(
        same.body["version"], 2,
        "a patch that changes nothing is not a new version"
    );
    assert_eq!(
        app.events_of(task["id"].as_str().unwrap()),
        vec!["task.created", "task.updated"]
    );
}

#[test]
fn a_stale_if_match_is_412_and_changes_nothing() {
    let app = App::new();
    let task = app.create("alice", json!({ "title": "v1" }));
    let uri = task_uri(&task);
    assert_eq!(
        app.patch("alice", &uri, &json!({ "title": "v2" })).status,
        200
    );
    let stale = app
        .request("PATCH", &uri, Some("alice"), Some(&json!({})))
        .header("if-match", "\"1\"");
    let resp = app.send(stale.body(br#"{"title":"lost update"}"#.to_vec()).unwrap());
    assert_eq!(resp.status, 412);
    assert_eq!(app.get("alice", &uri).body["title"], "v2");
    let fresh = app
        .request("PATCH", &uri, Some("alice"), Some(&json!({})))
        .header("if-match", "\"2\"");
    assert_eq!(
        app.send(fresh.body(br#"{"title":"v3"}"#.to_vec()).unwrap())
            .status,
        200
    );
    let stale_delete = app
        .request("DELETE", &uri, Some("alice"), None)
        .header("if-match", "\"2\"");
    assert_eq!(app.send(stale_delete.body(Vec::new()).unwrap()).status, 412);
    assert_eq!(app.get("alice", &uri).status, 200);
}

#[test]
fn if_none_match_with_the_current_etag_is_304() {
    let app = App::new();
    let task = app.create("alice", json!({ "title": "x" }));
    let req = app
        .request("GET", &task_uri(&task), Some("alice"), None)
        .header("if-none-match", "\"1\"");
    assert_eq!(app.send(req.body(Vec::new()).unwrap()).status, 304);
}

#[test]
fn deleting_a_task_removes_it_and_its_reminders() {
    let app = App::new();
    let task = app.create(
        "alice",
        json!({ "title": "x", "reminders": [{ "at": "2026-03-02T00:00:00Z" }] }),
    );
    assert_eq!(app.delete("alice", &task_uri(&task)).status, 204);
    assert_eq!(app.get("alice", &task_uri(&task)).status, 404);
    assert_eq!(app.delete("alice", &task_uri(&task)).status, 404);
    assert_eq!(app.count("SELECT count(*) AS n FROM reminders"), 0);
    assert_eq!(
        app.events_of(task["id"].as_str().unwrap()),
        vec!["task.created", "task.deleted"]
    );
}

#[test]
fn completing_cancels_pending_reminders_and_reopening_rearms_them() {
    let app = App::new();
    let task = app.create(
        "alice",
        json!({ "title": "x", "due_at": "2026-03-05T10:00:00Z", "reminders": [{ "minutes_before": 10 }] }),
    );
    let done = app.post(
        "alice",
        &format!("{}/complete", task_uri(&task)),
        &json!({}),
    );
    assert_eq!(done.status, 200);
    assert_eq!(done.body["status"], "completed");
    assert_eq!(done.body["completed_at"], "2026-03-01T12:00:00Z");
    assert_eq!(done.body["reminders"][0]["state"], "cancelled");
    let again = app.post(
        "alice",
        &format!("{}/complete", task_uri(&task)),
        &json!({}),
    );
    assert_eq!(again.status, 200);
    assert_eq!(
        again.body["version"], done.body["version"],
        "completing twice is one change"
    );
    let reopened = app.post("alice", &format!("{}/reopen", task_uri(&task)), &json!({}));
    assert_eq!(reopened.body["status"], "open");
    assert_eq!(reopened.body["completed_at"], json!(null));
    assert_eq!(reopened.body["reminders"][0]["state"], "pending");
    assert_eq!(
        app.count("SELECT count(*) AS n FROM reminders WHERE state = 'pending'"),
        1
    );
    assert_eq!(
        app.events_of(task["id"].as_str().unwrap()),
        vec!["task.created", "task.completed", "task.reopened"]
    );
}

#[test]
fn another_users_task_is_404_on_every_endpoint() {
    let app = App::new();
    let task = app.create("alice", json!({ "title": "private", "tags": ["secret"] }));
    let uri = task_uri(&task);
    assert_eq!(app.get("mallory", &uri).status, 404);
    assert_eq!(
        app.patch("mallory", &uri, &json!({ "title": "mine" }))
            .status,
        404
    );
    assert_eq!(app.delete("mallory", &uri).status, 404);
    assert_eq!(
        app.post("mallory", &format!("{uri}/complete"), &json!({}))
            .status,
        404
    );
    assert_eq!(
        app.post("mallory", &format!("{uri}/reopen"), &json!({}))
            .status,
        404
    );
    assert_eq!(app.get("mallory", &format!("{uri}/history")).status, 404);
    assert_eq!(
        app.get("mallory", "/api/tasks?status=all").body["items"],
        json!([])
    );
    assert_eq!(
        app.get("mallory", "/api/tasks?q=private").body["items"],
        json!([])
    );
    assert_eq!(app.get("mallory", "/api/tags").body["items"], json!([]));
    assert_eq!(
        app.patch("mallory", "/api/tags/secret", &json!({ "name": "x" }))
            .status,
        404
    );
    assert_eq!(app.delete("mallory", "/api/tags/secret").status, 404);
    assert_eq!(app.get("mallory", "/api/changes").body["items"], json!([]));
    let untouched = app.get("alice", &uri).body;
    assert_eq!(untouched, task);
}

#[test]
fn a_malformed_task_id_is_404() {
    let app = App::new();
    assert_eq!(app.get("alice", "/api/tasks/not-a-uuid").status, 404);
}

#[test]
fn the_same_idempotency_key_and_body_replays_the_first_response() {
    let app = App::new();
    let post = |key: &str, title: &str| {
        let body = json!({ "title": title });
        let req = app
            .request("POST", "/api/tasks", Some("alice"), Some(&body))
            .header("idempotency-key", key);
        app.send(req.body(serde_json::to_vec(&body).unwrap()).unwrap())
    };
    let first = post("key-1", "Once");
    let second = post("key-1", "Once");
    assert_eq!(first.status, 201);
    assert_eq!(second.status, 201);
    assert_eq!(second.body, first.body);
    assert_eq!(second.header("location"), first.header("location"));
    assert_eq!(second.header("idempotent-replayed"), Some("true"));
    assert_eq!(app.count("SELECT count(*) AS n FROM tasks"), 1);
    assert_eq!(app.count("SELECT count(*) AS n FROM outbox"), 1);
    let other = post("key-1", "Something else");
    assert_eq!(other.status, 422);
    assert_eq!(other.body["type"], "/problems/idempotency-key-reused");
    assert_eq!(app.count("SELECT count(*) AS n FROM tasks"), 1);
}

#[test]
fn concurrent_requests_with_one_idempotency_key_create_one_task() {
    let app = App::new();
    let body = json!({ "title": "Race" });
    let results: Vec<api_support::Resp> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                scope.spawn(|| {
                    let conn = app.db.connect();
                    let req = app
                        .request("POST", "/api/tasks", Some("alice"), Some(&body))
                        .header("idempotency-key", "race");
                    app.send_on(&conn, req.body(serde_json::to_vec(&body).unwrap()).unwrap())
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a request thread"))
            .collect()
    });
    assert!(results.iter().all(|r| r.status == 201), "{results:?}");
    assert!(results
        .iter()
        .all(|r| r.body["id"] == results[0].body["id"]));
    assert_eq!(app.count("SELECT count(*) AS n FROM tasks"), 1);
}

#[test]
fn an_idempotency_key_belongs_to_its_user() {
    let app = App::new();
    let body = json!({ "title": "Mine" });
    for user in ["alice", "bob"] {
        let req = app
            .request("POST", "/api/tasks", Some(user), Some(&body))
            .header("idempotency-key", "shared");
        assert_eq!(
            app.send(req.body(serde_json::to_vec(&body).unwrap()).unwrap())
                .status,
            201
        );
    }
    assert_eq!(app.count("SELECT count(*) AS n FROM tasks"), 2);
}

#[test]
fn requests_without_a_valid_token_are_401_with_a_bearer_challenge() {
    let app = App::new();
    let anonymous = app.send(
        app.request("GET", "/api/tasks", None, None)
            .body(Vec::new())
            .unwrap(),
    );
    assert_eq!(anonymous.status, 401);
    assert!(anonymous
        .header("www-authenticate")
        .unwrap()
        .starts_with("Bearer"));
    let bad_tokens = [
        // alg: none, unsigned
        "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJhbGljZSIsImV4cCI6OTk5OTk5OTk5OX0."
            .to_owned(),
        // signed with another secret
        spindle_api::auth::sign(
            &spindle_api::auth::Claims {
                sub: "alice".into(),
                exp: Some(9_999_999_999),
                nbf: None,
                iat: None,
            },
            b"not-the-secret",
        ),
        // expired
        spindle_api::auth::sign(
            &spindle_api::auth::Claims {
                sub: "alice".into(),
                exp: Some(1_000),
                nbf: None,
                iat: None,
            },
            api_support::SECRET.as_bytes(),
        ),
        "garbage".to_owned(),
    ];
    for token in bad_tokens {
        let req =
            http::Request::get("/api/tasks").header("authorization", format!("Bearer {token}"));
        let resp = app.send(req.body(Vec::new()).unwrap());
        assert_eq!(resp.status, 401, "token {token} was accepted");
        assert!(resp
            .header("www-authenticate")
            .unwrap()
            .contains("invalid_token"));
    }
}

#[test]
fn a_wrong_method_is_405_with_allow() {
    let app = App::new();
    let resp = app.call("PUT", "/api/tasks", "alice", Some(&json!({})));
    assert_eq!(resp.status, 405);
    assert_eq!(resp.header("allow"), Some("GET, POST, OPTIONS"));
    let task = app.create("alice", json!({ "title": "x" }));
    let resp = app.call("POST", &task_uri(&task), "alice", Some(&json!({})));
    assert_eq!(resp.status, 405);
    assert_eq!(resp.header("allow"), Some("GET, PATCH, DELETE, OPTIONS"));
}

#[test]
fn cors_preflight_grants_allowed_origins_only() {
    let app = App::new();
    let preflight = |origin: &str| {
        let req = http::Request::builder()
            .method("OPTIONS")
            .uri("/api/tasks")
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization, content-type",
            );
        app.send(req.body(Vec::new()).unwrap())
    };
    let allowed = preflight(api_support::ORIGIN);
    assert_eq!(allowed.status, 204);
    assert_eq!(
        allowed.header("access-control-allow-origin"),
        Some(api_support::ORIGIN)
    );
    assert!(allowed
        .header("access-control-allow-methods")
        .unwrap()
        .contains("POST"));
    assert!(allowed
        .header("access-control-allow-headers")
        .unwrap()
        .contains("Authorization"));
    let denied = preflight("https://evil.example");
    assert_eq!(denied.header("access-control-allow-origin"), None);
    let real = app
        .request("GET", "/api/tasks", Some("alice"), None)
        .header("origin", api_support::ORIGIN);
    let resp = app.send(real.body(Vec::new()).unwrap());
    assert_eq!(
        resp.header("access-control-allow-origin"),
        Some(api_support::ORIGIN)
    );
    let exposed = resp.header("access-control-expose-headers").unwrap();
    // A page script can read the version to send back and the id to quote.
    assert!(exposed.contains("ETag"), "{exposed}");
    assert!(exposed.contains("X-Request-Id"), "{exposed}");
    assert!(resp.header("x-request-id").is_some());
}

#[test]
fn every_write_appends_a_complete_cloudevent_to_the_outbox_in_order() {
    let app = App::new();
    let task = app.create("alice", json!({ "title": "a" }));
    let id = task["id"].as_str().unwrap();
    app.patch(
        "alice",
        &format!("/api/tasks/{id}"),
        &json!({ "title": "b" }),
    );
    app.post("alice", &format!("/api/tasks/{id}/complete"), &json!({}));
    let rows = app
        .conn
        .query("SELECT seq, envelope FROM outbox ORDER BY seq", &[])
        .expect("reading the outbox");
    let envelopes: Vec<serde_json::Value> = rows
        .iter()
        .map(|r| serde_json::from_slice(&r.json("envelope").unwrap()).unwrap())
        .collect();
    assert_eq!(envelopes.len(), 3);
    for envelope in &envelopes {
        assert_eq!(envelope["specversion"], "1.0");
        assert_eq!(envelope["source"], "/spindle/tasks");
        assert_eq!(envelope["subject"], format!("tasks/{id}"));
        assert_eq!(envelope["userid"], "alice");
        assert_eq!(envelope["time"], "2026-03-01T12:00:00Z");
        assert_eq!(envelope["data"]["task"]["id"], id);
    }
    assert_eq!(envelopes[1]["type"], "task.updated");
    assert_eq!(
        envelopes[1]["data"]["changes"],
        json!({ "title": { "from": "a", "to": "b" } })
    );
    assert_eq!(envelopes[2]["type"], "task.completed");
    assert_eq!(
        envelopes[2]["data"]["changes"]["status"],
        json!({ "from": "open", "to": "completed" })
    );
    let seqs: Vec<i64> = rows.iter().map(|r| r.i64("seq").unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]));
}

#[test]
fn hostile_input_never_reaches_a_server_error() {
    let app = App::new();
    let task = app.create("alice", json!({ "title": "x" }));
    let bodies = [
        json!({ "title": "nul \u{0000} inside" }),
        json!({ "title": 5 }),
        json!({ "title": ["x"] }),
        json!({ "title": "x", "tags": [1, null] }),
        json!({ "title": "x", "due_at": "99999-01-01T00:00:00Z" }),
        json!({ "title": "x", "due_at": "0000-01-01T00:00:00Z" }),
        json!({ "title": "x", "reminders": [{ "minutes_before": 1e30 }] }),
        json!({ "title": "x", "reminders": "soon" }),
        json!({ "title": "x", "recurrence": "FREQ=DAILY;COUNT=0" }),
        json!({ "title": "x", "recurrence": "FREQ=SECONDLY;INTERVAL=1" }),
        json!({ "title": "x", "timezone": "" }),
        json!({ "title": "x", "description": "\u{0000}" }),
        json!(null),
    ];
    for body in &bodies {
        let created = app.post("alice", "/api/tasks", body);
        assert!(
            created.status < 500,
            "POST {body} gave {}: {:?}",
            created.status,
            created.body
        );
        let patched = app.patch("alice", &task_uri(&task), body);
        assert!(
            patched.status < 500,
            "PATCH {body} gave {}: {:?}",
            patched.status,
            patched.body
        );
    }
    let queries = [
        "q=%00",
        "q=%27%3B%20DROP%20TABLE%20tasks%3B--",
        "q=a%3A*%7C!b",
        "limit=1e9",
        "limit=-1",
        "sort=-",
        "due_before=x",
        "priority=P0",
        "tag=%00",
        "cursor=%%%",
        "cursor=eyJmIjoxfQ",
        "overdue=maybe",
        "status=open&status=all",
    ];
    for query in queries {
        let resp = app.get("alice", &format!("/api/tasks?{query}"));
        assert!(
            resp.status < 500,
            "GET ?{query} gave {}: {:?}",
            resp.status,
            resp.body
        );
    }
    // Every body above is invalid: only the first task exists, unchanged.
    assert_eq!(app.count("SELECT count(*) AS n FROM tasks"), 1);
    assert_eq!(app.get("alice", &task_uri(&task)).body, task);
}

#[test]
fn a_completed_task_was_updated_at_the_moment_it_was_completed() {
    let app = App::new();
    let task = app.create("alice", json!({ "title": "x" }));
    app.clock
        .advance(std::time::Duration::from_micros(1_234_567));
    let done = app.post(
        "alice",
        &format!("{}/complete", task_uri(&task)),
        &json!({}),
    );
    assert_eq!(done.body["completed_at"], done.body["updated_at"]);
    assert_eq!(done.body["completed_at"], "2026-03-01T12:00:01.234567Z");
}
