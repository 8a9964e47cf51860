//! The event flow seen from the API: a change made over HTTP travels through the
//! outbox and a real Redis subscription to the audit handler, and comes back as
//! history and as the change feed.

mod api_support;

use std::collections::HashSet;
use std::time::Duration;

use api_support::{App, INTERNAL};
use serde_json::{json, Value};
use spindle_native::testing::TestRedis;

/// A user no other test uses, so messages on the shared channel can be told apart.
fn unique_user() -> String {
    format!("user-{}", uuid::Uuid::new_v4())
}

#[test]
fn a_change_made_over_http_reaches_the_audit_handler_through_redis_and_shows_in_history() {
    let app = App::new();
    let redis = TestRedis::new();
    let subscription = redis.subscribe("task-events");
    let user = unique_user();
    let task = app.create(&user, json!({ "title": "Plan trip", "priority": "P3" }));
    let id = task["id"].as_str().unwrap().to_owned();
    let uri = format!("/api/tasks/{id}");
    app.patch(
        &user,
        &uri,
        &json!({ "title": "Plan the trip", "priority": "P1" }),
    );
    app.post(&user, &format!("{uri}/complete"), &json!({}));

    let mut mine = Vec::new();
    while mine.len() < 3 {
        let message = subscription
            .recv_timeout(Duration::from_secs(5))
            .expect("the API publishes every committed change to task-events");
        let envelope: Value = serde_json::from_slice(&message).unwrap();
        if envelope["userid"] == user.as_str() {
            mine.push(message);
        }
    }
    // Delivered twice, the second time in reverse order: still one effect each, in order.
    for message in mine.iter().chain(mine.iter().rev()) {
        spindle_events::audit::handle(&app.conn, message)
            .expect("the audit handler accepts the event");
    }
    let history = app.get(&user, &format!("{uri}/history"));
    assert_eq!(history.status, 200, "{:?}", history.body);
    let items = history.body["items"].as_array().unwrap();
    let types: Vec<&str> = items.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(
        types,
        vec!["task.completed", "task.updated", "task.created"]
    );
    assert_eq!(
        items[1]["changes"]["title"],
        json!({ "from": "Plan trip", "to": "Plan the trip" })
    );
    assert_eq!(
        items[1]["changes"]["priority"],
        json!({ "from": "P3", "to": "P1" })
    );
    assert_eq!(items[0]["actor"], user.as_str());
    assert_eq!(
        app.get("someone-else", &format!("{uri}/history")).status,
        404
    );

    // Deleted, the task keeps its history.
    assert_eq!(app.delete(&user, &uri).status, 204);
    assert_eq!(app.get(&user, &format!("{uri}/history")).status, 200);
}

#[test]
fn history_pages_newest_first_without_repeats() {
    let app = App::new();
    let task = app.create("alice", json!({ "title": "v0" }));
    let uri = format!("/api/tasks/{}", task["id"].as_str().unwrap());
    for i in 1..=6 {
        app.patch("alice", &uri, &json!({ "title": format!("v{i}") }));
    }
    let envelopes = spindle_storage::outbox::feed(&app.conn, "alice", 0, 100).unwrap();
    for envelope in &envelopes {
        let message = serde_json::to_vec(envelope).unwrap();
        spindle_events::audit::handle(&app.conn, &message).unwrap();
    }
    let mut seen = Vec::new();
    let mut next = format!("{uri}/history?limit=3");
    loop {
        let page = app.get("alice", &next);
        assert_eq!(page.status, 200, "{:?}", page.body);
        seen.extend(
            page.body["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["seq"].as_i64().unwrap()),
        );
        match page.body["next_cursor"].as_str() {
            Some(cursor) => next = format!("{uri}/history?limit=3&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), 7);
    assert!(
        seen.windows(2).all(|w| w[0] > w[1]),
        "newest first: {seen:?}"
    );
}

#[test]
fn with_redis_unreachable_writes_succeed_and_the_tick_endpoint_delivers_them_later() {
    let mut app = App::new();
    app.publisher = spindle_native::RedisPublisher::new("redis://127.0.0.1:1");
    let user = unique_user();
    let ids: Vec<String> = (0..5)
        .map(|i| {
            app.create(&user, json!({ "title": format!("offline {i}") }))["id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(
        app.count("SELECT count(*) AS n FROM outbox WHERE published_at IS NULL"),
        5
    );

    let redis = TestRedis::new();
    let subscription = redis.subscribe("task-events");
    app.publisher = spindle_native::RedisPublisher::new(redis.url());
    // The relay waits a grace period before republishing; make the events due now.
    app.conn_execute("UPDATE outbox SET next_attempt_at = now() - interval '1 second'");
    let tick =
        http::Request::post("/internal/tick").header("authorization", format!("Bearer {INTERNAL}"));
    let resp = app.send(tick.body(Vec::new()).unwrap());
    assert_eq!(resp.status, 200, "{:?}", resp.body);
    assert_eq!(resp.body["published"], 5);

    let mut delivered = HashSet::new();
    while delivered.len() < 5 {
        let message = subscription
            .recv_timeout(Duration::from_secs(5))
            .expect("the relay published every event");
        let envelope: Value = serde_json::from_slice(&message).unwrap();
        if envelope["userid"] == user.as_str() {
            delivered.insert(
                envelope["subject"]
                    .as_str()
                    .unwrap()
                    .trim_start_matches("tasks/")
                    .to_owned(),
            );
        }
    }
    assert_eq!(
        delivered,
        ids.into_iter().collect::<HashSet<_>>(),
        "zero lost"
    );

    let unauthorised = app.send(
        http::Request::post("/internal/tick")
            .body(Vec::new())
            .unwrap(),
    );
    assert_eq!(unauthorised.status, 401);
}

#[test]
fn the_change_feed_gives_a_reader_every_event_once_while_writers_run() {
    let app = App::new();
    let writers = 3;
    let per_writer = 15;
    let seen = std::thread::scope(|scope| {
        for w in 0..writers {
            let app = &app;
            scope.spawn(move || {
                let conn = app.db.connect();
                for i in 0..per_writer {
                    let body = json!({ "title": format!("w{w} t{i}") });
                    let req = app.request("POST", "/api/tasks", Some("alice"), Some(&body));
                    let resp =
                        app.send_on(&conn, req.body(serde_json::to_vec(&body).unwrap()).unwrap());
                    assert_eq!(resp.status, 201);
                }
            });
        }
        let conn = app.db.connect();
        let mut seen: Vec<i64> = Vec::new();
        let mut cursor: Option<String> = None;
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while seen.len() < writers * per_writer && std::time::Instant::now() < deadline {
            let uri = match &cursor {
                Some(c) => format!("/api/changes?after={c}&limit=4&wait=1"),
                None => "/api/changes?limit=4&wait=1".to_owned(),
            };
            let resp = app.send_on(
                &conn,
                app.request("GET", &uri, Some("alice"), None)
                    .body(Vec::new())
                    .unwrap(),
            );
            assert_eq!(resp.status, 200, "{:?}", resp.body);
            for event in resp.body["items"].as_array().unwrap() {
                seen.push(event["sequence"].as_str().unwrap().parse().unwrap());
            }
            cursor = resp.body["next_cursor"].as_str().map(String::from);
        }
        seen
    });
    assert_eq!(seen.len(), writers * per_writer, "every event arrives");
    assert!(
        seen.windows(2).all(|w| w[0] < w[1]),
        "in order, none twice: {seen:?}"
    );
    let bob = app.get("bob", "/api/changes");
    assert_eq!(
        bob.body["items"],
        json!([]),
        "another user's events stay theirs"
    );
}

#[test]
fn a_feed_started_at_latest_sees_only_what_happens_next() {
    let app = App::new();
    app.create("alice", json!({ "title": "old news" }));
    let start = app.get("alice", "/api/changes?after=latest");
    assert_eq!(start.body["items"], json!([]));
    let cursor = start.body["next_cursor"].as_str().unwrap().to_owned();
    app.create("alice", json!({ "title": "fresh" }));
    let next = app.get("alice", &format!("/api/changes?after={cursor}"));
    let items = next.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["data"]["task"]["title"], "fresh");
    for bad in ["after=xyz", "wait=26", "limit=0", "colour=1"] {
        assert_eq!(
            app.get("alice", &format!("/api/changes?{bad}")).status,
            400,
            "{bad}"
        );
    }
}

#[test]
fn dead_letters_are_listed_and_replayed_through_the_admin_api() {
    let app = App::new();
    let task = app.create("alice", json!({ "title": "poison me" }));
    // An event whose data no handler can use: the audit handler refuses it every time.
    app.conn_execute("UPDATE outbox SET envelope = jsonb_set(envelope, '{data}', '{}'::jsonb)");
    let message =
        serde_json::to_vec(&spindle_storage::outbox::feed(&app.conn, "alice", 0, 1).unwrap()[0])
            .unwrap();
    assert!(spindle_events::audit::handle(&app.conn, &message).is_err());

    let mut app = app;
    app.config = app.config.clone().with("max_delivery_attempts", "2");
    let tick = || {
        app.conn_execute("UPDATE outbox SET next_attempt_at = now() - interval '1 second'");
        let req = http::Request::post("/internal/tick")
            .header("authorization", format!("Bearer {INTERNAL}"));
        app.send(req.body(Vec::new()).unwrap())
    };
    for _ in 0..3 {
        assert_eq!(tick().status, 200);
    }
    let admin = |method: &str, uri: &str| {
        let req = http::Request::builder()
            .method(method)
            .uri(uri)
            .header("authorization", format!("Bearer {}", api_support::ADMIN));
        app.send(req.body(Vec::new()).unwrap())
    };
    let letters = admin("GET", "/admin/dead-letters");
    assert_eq!(letters.status, 200, "{:?}", letters.body);
    let items = letters.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["task_id"], task["id"]);
    let id = items[0]["id"].as_i64().unwrap();
    assert_eq!(
        admin("POST", &format!("/admin/dead-letters/{id}/replay")).status,
        200
    );
    assert_eq!(
        admin("POST", &format!("/admin/dead-letters/{id}/replay")).status,
        409
    );
    assert_eq!(
        admin("POST", "/admin/dead-letters/999999/replay").status,
        404
    );
    assert_eq!(
        app.send(
            http::Request::get("/admin/dead-letters")
                .body(Vec::new())
                .unwrap()
        )
        .status,
        401
    );
}
