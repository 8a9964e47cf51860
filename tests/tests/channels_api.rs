//! `/api/channels` and `/api/notifications` through the HTTP handlers, against a
//! real database, Redis, a notifier thread and a receiver on loopback.

mod api_support;

use std::time::Duration;

use api_support::{App, NOW_MICROS};
use serde_json::{json, Value};
use spindle_domain::Instant;
use spindle_native::testing::{Receiver, Reply, TestRedis};
use spindle_ports::Db;
use spindle_reminders::settings::{ALLOW_PRIVATE_WEBHOOKS, REMINDERS_CHANNEL_VARIABLE};
use spindle_storage::notifications::{Kind, NewNotification};

fn app_allowing_private() -> App {
    let mut app = App::new();
    app.config = app.config.clone().with(ALLOW_PRIVATE_WEBHOOKS, "true");
    app
}

fn create(app: &App, user: &str, url: &str) -> api_support::Resp {
    app.post(
        user,
        "/api/channels",
        &json!({ "type": "webhook", "url": url, "name": "My phone" }),
    )
}

#[test]
fn a_webhook_channel_is_created_with_a_secret_shown_once() {
    let app = app_allowing_private();
    let resp = create(&app, "alice", "https://hooks.example.com/x");
    assert_eq!(resp.status, 201, "{:?}", resp.body);
    let secret = resp.body["secret"].as_str().unwrap();
    assert!(secret.starts_with("whsec_"));
    assert_eq!(resp.body["enabled"], true);
    let id = resp.body["id"].as_str().unwrap().to_owned();
    assert_eq!(
        resp.header("location"),
        Some(format!("/api/channels/{id}").as_str())
    );

    let one = app.get("alice", &format!("/api/channels/{id}"));
    assert_eq!(one.status, 200);
    assert!(one.body.get("secret").is_none());
    let list = app.get("alice", "/api/channels");
    assert_eq!(list.body["items"].as_array().unwrap().len(), 1);
    assert!(list.body["items"][0].get("secret").is_none());
    // Another user sees nothing of it.
    assert_eq!(app.get("bob", &format!("/api/channels/{id}")).status, 404);
    assert_eq!(
        app.delete("bob", &format!("/api/channels/{id}")).status,
        404
    );
    assert_eq!(app.get("bob", "/api/channels").body["items"], json!([]));
}

#[test]
fn internal_and_non_https_urls_are_refused_and_allowed_only_with_the_escape_hatch() {
    let strict = App::new();
    let lenient = app_allowing_private();
    for url in [
        "http://hooks.example.com/",
        "https://127.0.0.1/",
        "https://[::1]/",
        "https://10.0.0.8/",
        "https://172.20.1.1/",
        "https://192.168.0.10/",
        "https://[fd00::1]/",
        "https://169.254.169.254/latest/meta-data/",
        "https://[fe80::1]/",
        "https://100.64.1.1/",
        "https://239.1.1.1/",
        "https://0.0.0.0/",
        "https://localhost/",
        "https://nas.local/",
        "https://metadata.google.internal/",
    ] {
        let resp = create(&strict, "alice", url);
        assert_eq!(resp.status, 422, "{url}: {:?}", resp.body);
        assert_eq!(resp.error_fields(), vec!["url".to_owned()], "{url}");
        assert_eq!(create(&lenient, "alice", url).status, 201, "{url}");
    }
    assert_eq!(
        strict.get("alice", "/api/channels").body["items"],
        json!([])
    );
}

#[test]
fn bad_channel_bodies_are_refused_with_every_field_named() {
    let app = App::new();
    let resp = app.post(
        "alice",
        "/api/channels",
        &json!({ "type": "sms", "name": "", "colour": "red" }),
    );
    assert_eq!(resp.status, 422);
    let mut fields = resp.error_fields();
    fields.sort();
    assert_eq!(fields, vec!["colour", "name", "type", "url"]);
}

#[test]
fn a_channel_is_renamed_disabled_reenabled_and_deleted() {
    let app = app_allowing_private();
    let id = create(&app, "alice", "https://hooks.example.com/x").body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let uri = format!("/api/channels/{id}");
    let renamed = app.patch("alice", &uri, &json!({ "name": "Work" }));
    assert_eq!(
        (renamed.status, renamed.body["name"].clone()),
        (200, json!("Work"))
    );

    let channel_id = uuid::Uuid::parse_str(&id).unwrap();
    spindle_storage::channels::disable(
        &app.conn,
        channel_id,
        "disabled: the receiver answered 410 Gone",
        Instant::from_micros(NOW_MICROS),
    )
    .unwrap();
    let off = app.get("alice", &uri);
    assert_eq!(off.body["enabled"], false);
    assert!(off.body["disabled_reason"]
        .as_str()
        .unwrap()
        .contains("410"));
    let on = app.patch("alice", &uri, &json!({ "enabled": true }));
    assert_eq!(on.body["enabled"], true);
    assert_eq!(on.body["disabled_reason"], Value::Null);

    assert_eq!(
        app.patch("alice", &uri, &json!({ "enabled": "yes" }))
            .status,
        422
    );
    assert_eq!(app.delete("alice", &uri).status, 204);
    assert_eq!(app.get("alice", &uri).status, 404);
}

#[test]
fn rotating_the_secret_returns_a_new_one_and_keeps_the_old_for_a_day() {
    let app = app_allowing_private();
    let created = create(&app, "alice", "https://hooks.example.com/x");
    let id = created.body["id"].as_str().unwrap();
    let rotated = app.call(
        "POST",
        &format!("/api/channels/{id}/rotate-secret"),
        "alice",
        None,
    );
    assert_eq!(rotated.status, 200);
    assert_ne!(rotated.body["secret"], created.body["secret"]);
    assert_eq!(
        rotated.body["previous_secret_expires_at"],
        "2026-03-02T12:00:00Z"
    );
}

#[test]
fn a_test_ping_is_sent_by_the_notifier_and_answered_with_the_receivers_status() {
    let redis = TestRedis::new();
    let channel = redis.unique_channel("reminders");
    let mut app = app_allowing_private();
    app.config = app
        .config
        .clone()
        .with(REMINDERS_CHANNEL_VARIABLE, channel.as_str());
    let receiver = Receiver::start();
    receiver.script([Reply::Status(200), Reply::Status(503)]);
    let id = create(&app, "alice", &receiver.url("/hook")).body["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // The notifier, in its own thread, on the app's channel.
    let subscription = redis.subscribe(&channel);
    let notifier_db = app.db.connect();
    let settings = spindle_reminders::Settings::from_config(&app.config).unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stopper = stop.clone();
    let notifier = std::thread::spawn(move || {
        let http = spindle_native::UreqHttp::new();
        let clock = spindle_ports::SystemClock;
        while !stopper.load(std::sync::atomic::Ordering::SeqCst) {
            if let Some(message) = subscription.recv_timeout(Duration::from_millis(50)) {
                spindle_reminders::notifier::handle(
                    &notifier_db,
                    &http,
                    &clock,
                    &settings,
                    &message,
                )
                .expect("the notifier handles the ping");
            }
        }
    });

    let ping = app.call("POST", &format!("/api/channels/{id}/test"), "alice", None);
    assert_eq!(ping.status, 200, "{:?}", ping.body);
    assert_eq!(
        (ping.body["state"].clone(), ping.body["status"].clone()),
        (json!("delivered"), json!(200))
    );
    app.clock.advance(Duration::from_secs(1));
    let failed = app.call("POST", &format!("/api/channels/{id}/test"), "alice", None);
    assert_eq!(
        (failed.body["state"].clone(), failed.body["status"].clone()),
        (json!("failed"), json!(503))
    );
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    notifier.join().unwrap();

    let got = receiver.received();
    assert_eq!(got.len(), 2);
    let body: Value = serde_json::from_slice(&got[0].body).unwrap();
    assert_eq!(body["type"], "ping");

    // The log, newest first, one page at a time.
    let page = app.get("alice", &format!("/api/channels/{id}/deliveries?limit=1"));
    assert_eq!(page.status, 200);
    assert_eq!(page.body["items"][0]["state"], "failed");
    assert_eq!(page.body["items"][0]["last_status"], 503);
    let cursor = page.body["next_cursor"].as_str().unwrap();
    let next = app.get(
        "alice",
        &format!("/api/channels/{id}/deliveries?limit=1&cursor={cursor}"),
    );
    assert_eq!(next.body["items"][0]["state"], "delivered");
    assert_eq!(next.body["items"][0]["kind"], "ping");
    assert_eq!(
        app.get(
            "alice",
            &format!("/api/channels/{id}/deliveries?cursor=nonsense")
        )
        .status,
        400
    );
}

/// Adds `n` inbox entries about `task`, one a second apart.
fn entries(app: &App, user: &str, task: Option<uuid::Uuid>, n: usize) -> Vec<uuid::Uuid> {
    (0..n)
        .map(|i| {
            let now = Instant::from_micros(NOW_MICROS + i as i64 * 1_000_000);
            app.conn
                .transaction(|tx| {
                    spindle_reminders::inbox::add(
                        tx,
                        &NewNotification {
                            id: uuid::Uuid::new_v4(),
                            user_id: user,
                            kind: Kind::Reminder,
                            reminder_id: Some(uuid::Uuid::new_v4()),
                            task_id: task,
                            channel_id: None,
                            title: &format!("Entry {i}"),
                            due_at: None,
                            fire_at: Some(now),
                        },
                        now,
                    )
                })
                .unwrap()
                .unwrap()
                .id
        })
        .collect()
}

#[test]
fn the_inbox_pages_newest_first_counts_unread_and_marks_read() {
    let app = App::new();
    let ids = entries(&app, "alice", None, 5);
    entries(&app, "bob", None, 1);

    let first = app.get("alice", "/api/notifications?limit=2");
    assert_eq!(first.status, 200);
    assert_eq!(first.body["unread_count"], 5);
    let titles: Vec<&str> = first.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, vec!["Entry 4", "Entry 3"]);
    let cursor = first.body["next_cursor"].as_str().unwrap();
    let second = app.get(
        "alice",
        &format!("/api/notifications?limit=2&cursor={cursor}"),
    );
    assert_eq!(second.body["items"][0]["title"], "Entry 2");

    let read = app.call(
        "POST",
        &format!("/api/notifications/{}/read", ids[4]),
        "alice",
        None,
    );
    assert_eq!(read.status, 200);
    assert_eq!(read.body["read_at"], "2026-03-01T12:00:00Z");
    let unread = app.get("alice", "/api/notifications?unread=true");
    assert_eq!(unread.body["unread_count"], 4);
    assert_eq!(unread.body["items"].as_array().unwrap().len(), 4);
    assert_eq!(
        app.call(
            "POST",
            &format!("/api/notifications/{}/read", ids[0]),
            "bob",
            None
        )
        .status,
        404
    );

    let all = app.call("POST", "/api/notifications/read-all", "alice", None);
    assert_eq!(all.body["marked"], 4);
    assert_eq!(
        app.get("alice", "/api/notifications").body["unread_count"],
        0
    );
    assert_eq!(app.get("bob", "/api/notifications").body["unread_count"], 1);
    assert_eq!(
        app.get("alice", "/api/notifications?unread=maybe").status,
        400
    );
}

#[test]
fn snoozing_adds_a_reminder_that_fires_after_the_snooze() {
    let app = App::new();
    let task = app.post(
        "alice",
        "/api/tasks",
        &json!({ "title": "Call the plumber" }),
    );
    let task_id = uuid::Uuid::parse_str(task.body["id"].as_str().unwrap()).unwrap();
    let entry = entries(&app, "alice", Some(task_id), 1)[0];

    let snoozed = app.post(
        "alice",
        &format!("/api/notifications/{entry}/snooze"),
        &json!({ "minutes": 15 }),
    );
    assert_eq!(snoozed.status, 201, "{:?}", snoozed.body);
    assert_eq!(snoozed.body["fire_at"], "2026-03-01T12:15:00Z");
    let task = app.get("alice", &format!("/api/tasks/{task_id}"));
    assert_eq!(task.body["reminders"].as_array().unwrap().len(), 1);
    assert_eq!(task.body["version"], 2);
    assert_eq!(
        app.post(
            "alice",
            &format!("/api/notifications/{entry}/snooze"),
            &json!({ "minutes": 0 })
        )
        .status,
        422
    );

    let redis = TestRedis::new();
    let settings = spindle_reminders::tick::TickSettings {
        reminders: spindle_reminders::Settings {
            channel: redis.unique_channel("reminders"),
            ..Default::default()
        },
        ..Default::default()
    };
    let tick = |app: &App| {
        spindle_reminders::tick::tick(&app.conn, &app.publisher, &app.clock, &settings).unwrap()
    };
    app.clock.advance(Duration::from_secs(14 * 60));
    assert_eq!(tick(&app).fired, 0);
    app.clock.advance(Duration::from_secs(60));
    assert_eq!(tick(&app).fired, 1);
}
