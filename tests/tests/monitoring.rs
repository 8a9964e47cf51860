//! `/metrics` as an operator sees it: valid Prometheus text (checked by promtool),
//! figures that follow what users do, one statement per scrape.

mod api_support;
mod reminders_support;
mod tools_support;

use std::collections::BTreeMap;
use std::time::Duration;

use api_support::App;
use reminders_support::{Env, USER};
use serde::Deserialize;
use serde_json::json;
use spindle_api::Ctx;
use spindle_domain::Instant;
use spindle_native::testing::{CountingDb, Receiver, Reply, TestDb};
use spindle_native::{MapConfig, PgDb, RedisPublisher};
use spindle_ports::{Db, Param};
use spindle_reminders::settings::REMINDERS_CHANNEL_VARIABLE;
use spindle_storage::migrations::{routines, MIGRATIONS};

/// One scrape: the text, and each sample by its series as written
/// (`spindle_tasks{status="open"}`).
pub struct Scrape {
    pub text: String,
    pub samples: BTreeMap<String, f64>,
}

impl Scrape {
    pub fn value(&self, series: &str) -> f64 {
        *self
            .samples
            .get(series)
            .unwrap_or_else(|| panic!("no {series} in\n{}", self.text))
    }

    pub fn has(&self, series: &str) -> bool {
        self.samples.contains_key(series)
    }
}

/// `GET /metrics` through the `ops` component.
pub fn scrape(ctx: &Ctx<'_, impl Db, RedisPublisher>) -> Scrape {
    let resp = spindle_api::ops(
        ctx,
        http::Request::get("/metrics").body(Vec::new()).unwrap(),
    );
    let text = String::from_utf8(resp.body().clone()).expect("metrics are UTF-8");
    assert_eq!(resp.status(), 200, "{text}");
    assert_eq!(
        resp.headers()[http::header::CONTENT_TYPE],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let samples = text
        .lines()
        .filter(|line| !line.starts_with('#') && !line.is_empty())
        .map(|line| {
            let (series, value) = line.rsplit_once(' ').expect("a sample line");
            (series.to_owned(), value.parse().expect("a numeric value"))
        })
        .collect();
    Scrape { text, samples }
}

fn scrape_app(app: &App) -> Scrape {
    scrape(&app.ctx(&app.conn))
}

/// The scrape of the reminder environment, whose reminders go out on its own channel.
fn scrape_env(env: &Env) -> Scrape {
    let config = MapConfig::new().with(REMINDERS_CHANNEL_VARIABLE, env.settings.channel.as_str());
    scrape(&Ctx {
        db: &env.conn,
        publisher: &env.publisher,
        clock: &env.clock,
        config: &config,
        http: &env.http,
    })
}

#[test]
fn metrics_pass_promtool_and_report_every_figure_on_a_fresh_database() {
    let app = App::new();
    let scrape = scrape_app(&app);
    tools_support::promtool_check_metrics(&scrape.text);
    for series in [
        r#"spindle_tasks{status="open"}"#,
        r#"spindle_tasks{status="completed"}"#,
        r#"spindle_outbox_pending{channel="task-events"}"#,
        r#"spindle_outbox_pending{channel="reminders"}"#,
        r#"spindle_outbox_oldest_pending_seconds{channel="task-events"}"#,
        "spindle_dead_letters_open",
        "spindle_reminders_pending",
        "spindle_reminders_due_unclaimed",
        "spindle_reminders_due_oldest_seconds",
        "spindle_reminders_missed_recent",
        r#"spindle_deliveries_recent{kind="webhook",state="failed"}"#,
        r#"spindle_deliveries_recent{kind="web_push",state="delivered"}"#,
        r#"spindle_channels_disabled{kind="webhook"}"#,
        r#"spindle_channels_disabled{kind="web_push"}"#,
        "spindle_migrations_pending",
    ] {
        assert_eq!(scrape.value(series), 0.0, "{series}");
    }
    // No tick has ever run: no made-up age (the SpindleTickNeverRan alert).
    assert!(!scrape.has("spindle_tick_age_seconds"), "{}", scrape.text);
}

#[test]
fn a_scrape_is_one_statement() {
    let app = App::new();
    let counting = CountingDb::new(&app.conn);
    let ctx = app.ctx(&counting);
    scrape(&ctx);
    assert_eq!(counting.take().len(), 1);
}

#[test]
fn task_counts_follow_creates_completions_reopenings_and_deletes() {
    let app = App::new();
    let ids: Vec<String> = (0..3)
        .map(|i| app.create("alice", json!({ "title": format!("task {i}") }))["id"].to_string())
        .map(|id| id.trim_matches('"').to_owned())
        .collect();
    app.create("bob", json!({ "title": "bob's" }));
    assert_eq!(
        app.post(
            "alice",
            &format!("/api/tasks/{}/complete", ids[0]),
            &json!({})
        )
        .status,
        200
    );
    assert_eq!(
        app.delete("alice", &format!("/api/tasks/{}", ids[1]))
            .status,
        204
    );
    let s = scrape_app(&app);
    assert_eq!(s.value(r#"spindle_tasks{status="open"}"#), 2.0);
    assert_eq!(s.value(r#"spindle_tasks{status="completed"}"#), 1.0);

    app.post(
        "alice",
        &format!("/api/tasks/{}/reopen", ids[0]),
        &json!({}),
    );
    // An edit that does not change the status changes no count.
    app.patch(
        "alice",
        &format!("/api/tasks/{}", ids[2]),
        &json!({ "title": "renamed" }),
    );
    let s = scrape_app(&app);
    assert_eq!(s.value(r#"spindle_tasks{status="open"}"#), 3.0);
    assert_eq!(s.value(r#"spindle_tasks{status="completed"}"#), 0.0);
}

#[test]
fn task_counts_stay_exact_under_concurrent_writers() {
    let app = App::new();
    std::thread::scope(|scope| {
        for worker in 0..4 {
            let app = &app;
            scope.spawn(move || {
                let conn = app.db.connect();
                let user = format!("user-{worker}");
                for i in 0..20 {
                    let body = serde_json::to_vec(&json!({ "title": format!("t{i}") })).unwrap();
                    let req = app
                        .request("POST", "/api/tasks", Some(&user), Some(&json!({})))
                        .body(body)
                        .unwrap();
                    let created = app.send_on(&conn, req);
                    assert_eq!(created.status, 201, "{:?}", created.body);
                    if i % 3 == 0 {
                        let id = created.body["id"].as_str().unwrap();
                        let req = app
                            .request(
                                "POST",
                                &format!("/api/tasks/{id}/complete"),
                                Some(&user),
                                None,
                            )
                            .body(Vec::new())
                            .unwrap();
                        assert_eq!(app.send_on(&conn, req).status, 200);
                    }
                }
            });
        }
    });
    let truth = app
        .conn
        .query(
            "SELECT count(*) FILTER (WHERE status = 'open') AS open,
                    count(*) FILTER (WHERE status = 'completed') AS completed FROM tasks",
            &[],
        )
        .unwrap();
    let row = truth.first().unwrap();
    let s = scrape_app(&app);
    assert_eq!(
        s.value(r#"spindle_tasks{status="open"}"#),
        row.i64("open").unwrap() as f64
    );
    assert_eq!(
        s.value(r#"spindle_tasks{status="completed"}"#),
        row.i64("completed").unwrap() as f64
    );
    assert_eq!(row.i64("completed").unwrap(), 4 * 7);
}

#[test]
fn pending_reminders_follow_what_users_do_to_their_tasks() {
    let app = App::new();
    let pending = |app: &App| {
        let truth = app
            .conn
            .query(
                "SELECT count(*) AS n FROM reminders WHERE state = 'pending'",
                &[],
            )
            .unwrap()
            .first()
            .unwrap()
            .i64("n")
            .unwrap();
        let reported = scrape_app(app).value("spindle_reminders_pending");
        assert_eq!(reported, truth as f64);
        truth
    };
    let with_reminders = |user: &str, title: &str| {
        app.create(
            user,
            json!({
                "title": title, "due_at": "2026-03-05T09:00:00Z",
                "reminders": [{ "minutes_before": 30 }, { "minutes_before": 60 }],
            }),
        )["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let first = with_reminders("alice", "one");
    let second = with_reminders("alice", "two");
    with_reminders("bob", "three");
    assert_eq!(pending(&app), 6);

    // Completing cancels a task's reminders, reopening re-arms them.
    app.post("alice", &format!("/api/tasks/{first}/complete"), &json!({}));
    assert_eq!(pending(&app), 4);
    app.post("alice", &format!("/api/tasks/{first}/reopen"), &json!({}));
    assert_eq!(pending(&app), 6);
    // Replacing the reminders, then deleting the task.
    app.patch(
        "alice",
        &format!("/api/tasks/{second}"),
        &json!({ "reminders": [{ "minutes_before": 5 }] }),
    );
    assert_eq!(pending(&app), 5);
    app.delete("alice", &format!("/api/tasks/{second}"));
    assert_eq!(pending(&app), 4);
}

#[test]
fn an_event_no_consumer_processed_yet_shows_as_lag_on_its_channel() {
    let app = App::new();
    app.create("alice", json!({ "title": "unprocessed" }));
    let s = scrape_app(&app);
    assert_eq!(
        s.value(r#"spindle_outbox_pending{channel="task-events"}"#),
        1.0
    );
    assert_eq!(
        s.value(r#"spindle_outbox_pending{channel="reminders"}"#),
        0.0
    );
    assert_eq!(
        s.value(r#"spindle_outbox_pending{channel="notifications"}"#),
        0.0
    );
    // Measured by the database's clock, like the event's created_at.
    app.conn
        .execute(
            "UPDATE outbox SET created_at = created_at - interval '10 minutes'",
            &[],
        )
        .unwrap();
    let age =
        scrape_app(&app).value(r#"spindle_outbox_oldest_pending_seconds{channel="task-events"}"#);
    assert!((600.0..610.0).contains(&age), "{age}");
}

#[test]
fn due_reminders_show_as_unclaimed_until_the_tick_claims_them() {
    let env = Env::new();
    let in_ten_minutes = Instant::from_micros(env.now().micros() + 600_000_000);
    env.tasks_with_reminders(USER, 2, in_ten_minutes);
    let s = scrape_env(&env);
    assert_eq!(s.value("spindle_reminders_pending"), 2.0);
    assert_eq!(s.value("spindle_reminders_due_unclaimed"), 0.0);
    assert_eq!(s.value("spindle_reminders_due_oldest_seconds"), 0.0);

    env.advance(Duration::from_secs(15 * 60));
    let s = scrape_env(&env);
    assert_eq!(s.value("spindle_reminders_due_unclaimed"), 2.0);
    assert_eq!(s.value("spindle_reminders_due_oldest_seconds"), 300.0);

    env.tick();
    let s = scrape_env(&env);
    assert_eq!(s.value("spindle_reminders_pending"), 0.0);
    assert_eq!(s.value("spindle_reminders_due_unclaimed"), 0.0);
    assert_eq!(s.value("spindle_reminders_missed_recent"), 0.0);
    // Their events wait for the notifier on the reminders channel.
    assert_eq!(
        s.value(&format!(
            "spindle_outbox_pending{{channel=\"{}\"}}",
            env.settings.channel
        )),
        2.0
    );
}

#[test]
fn a_reminder_claimed_too_late_counts_as_missed_for_an_hour() {
    let env = Env::new();
    let two_hours_ago = Instant::from_micros(env.now().micros() - 2 * 3_600_000_000);
    env.tasks_with_reminders(USER, 1, two_hours_ago);
    assert_eq!(
        scrape_env(&env).value("spindle_reminders_due_oldest_seconds"),
        7200.0
    );
    assert_eq!(env.tick().missed, 1);
    assert_eq!(
        scrape_env(&env).value("spindle_reminders_missed_recent"),
        1.0
    );
    env.advance(Duration::from_secs(3601));
    assert_eq!(
        scrape_env(&env).value("spindle_reminders_missed_recent"),
        0.0
    );
}

#[test]
fn failed_and_delivered_webhooks_are_counted_and_a_disabled_channel_shows() {
    let mut env = Env::new();
    env.settings.channel_failure_limit = 2;
    let failing = Receiver::start();
    failing.answer_always(Reply::Status(400));
    env.webhook(USER, &failing.url("/hook"));
    let working = Receiver::start();
    env.webhook("bob", &working.url("/hook"));

    env.due_reminder();
    env.tasks_with_reminders("bob", 1, env.now());
    env.tick_and_notify();
    let s = scrape_env(&env);
    assert_eq!(
        s.value(r#"spindle_deliveries_recent{kind="webhook",state="failed"}"#),
        1.0
    );
    assert_eq!(
        s.value(r#"spindle_deliveries_recent{kind="webhook",state="delivered"}"#),
        1.0
    );
    assert_eq!(s.value(r#"spindle_channels_disabled{kind="webhook"}"#), 0.0);

    env.advance(Duration::from_secs(60));
    env.due_reminder();
    env.tick_and_notify();
    let s = scrape_env(&env);
    assert_eq!(
        s.value(r#"spindle_deliveries_recent{kind="webhook",state="failed"}"#),
        2.0
    );
    assert_eq!(s.value(r#"spindle_channels_disabled{kind="webhook"}"#), 1.0);
    assert_eq!(
        s.value(r#"spindle_channels_disabled{kind="web_push"}"#),
        0.0
    );
    tools_support::promtool_check_metrics(&s.text);

    // An hour later they are no longer recent.
    env.advance(Duration::from_secs(3601));
    let s = scrape_env(&env);
    assert_eq!(
        s.value(r#"spindle_deliveries_recent{kind="webhook",state="failed"}"#),
        0.0
    );
}

#[test]
fn the_tick_age_counts_from_the_last_tick() {
    let env = Env::new();
    assert!(!scrape_env(&env).has("spindle_tick_age_seconds"));
    env.tick();
    let age = scrape_env(&env).value("spindle_tick_age_seconds");
    assert!((0.0..5.0).contains(&age), "{age}");
    // Ninety seconds later: the heartbeat is stamped by the database's clock.
    env.conn
        .execute(
            "UPDATE tick_heartbeat SET last_tick_at = last_tick_at - interval '90 seconds'",
            &[],
        )
        .unwrap();
    let age = scrape_env(&env).value("spindle_tick_age_seconds");
    assert!((90.0..100.0).contains(&age), "{age}");
}

#[test]
fn a_database_behind_the_build_reports_its_pending_migrations() {
    let app = App::new();
    let fresh = TestDb::unmigrated();
    let conn: PgDb = fresh.connect();
    let s = scrape(&app.ctx(&conn));
    tools_support::promtool_check_metrics(&s.text);
    assert_eq!(
        s.value("spindle_migrations_pending"),
        (MIGRATIONS.len() + routines().len()) as f64
    );

    app.conn
        .execute(
            "DELETE FROM schema_migrations WHERE version = $1",
            &[Param::Int32(MIGRATIONS.last().unwrap().version)],
        )
        .unwrap();
    let s = scrape_app(&app);
    assert_eq!(s.value("spindle_migrations_pending"), 1.0);
    assert_eq!(s.value(r#"spindle_tasks{status="open"}"#), 0.0);

    app.conn_execute("UPDATE schema_routines SET checksum = 'older' WHERE name = 'task_create'");
    assert_eq!(scrape_app(&app).value("spindle_migrations_pending"), 2.0);
}

// The manifests in monitoring/: alert rules, their unit tests, the dashboard.

fn read_repo_file(path: &str) -> String {
    let full = tools_support::repo().join(path);
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("reading {}: {e}", full.display()))
}

/// The rule groups of monitoring/prometheusrule.yaml (its `spec`).
fn rule_groups() -> serde_json::Value {
    let rule: serde_json::Value =
        serde_norway::from_str(&read_repo_file("monitoring/prometheusrule.yaml"))
            .expect("prometheusrule.yaml is YAML");
    assert_eq!(rule["kind"], "PrometheusRule");
    rule["spec"].clone()
}

fn rules(groups: &serde_json::Value) -> Vec<serde_json::Value> {
    groups["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .flat_map(|g| g["rules"].as_array().expect("rules").clone())
        .collect()
}

/// A fresh directory under the system's temporary one.
fn scratch_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "spindle-{name}-{}-{:x}",
        std::process::id(),
        rand_suffix()
    ));
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    dir
}

fn rand_suffix() -> u64 {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).expect("random bytes");
    u64::from_le_bytes(bytes)
}

/// The anchors GitHub gives the headings of a Markdown file.
fn anchors(markdown: &str) -> Vec<String> {
    markdown
        .lines()
        .filter(|line| line.starts_with('#'))
        .map(|line| {
            line.trim_start_matches('#')
                .trim()
                .to_lowercase()
                .chars()
                .filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '-' || *c == '_')
                .map(|c| if c == ' ' { '-' } else { c })
                .collect()
        })
        .collect()
}

#[test]
fn every_alert_says_what_happened_and_links_its_runbook_section() {
    let groups = rule_groups();
    let runbook = anchors(&read_repo_file("docs/runbook.md"));
    let alerts: Vec<_> = rules(&groups)
        .into_iter()
        .filter(|r| r.get("alert").is_some())
        .collect();
    assert!(alerts.len() >= 10, "{alerts:?}");
    for alert in alerts {
        let name = alert["alert"].as_str().unwrap();
        for key in ["summary", "description", "runbook_url"] {
            assert!(
                alert["annotations"][key]
                    .as_str()
                    .is_some_and(|v| !v.is_empty()),
                "{name} has no {key}"
            );
        }
        let url = alert["annotations"]["runbook_url"].as_str().unwrap();
        let (page, anchor) = url.split_once('#').expect("a runbook_url with an anchor");
        assert!(page.ends_with("/docs/runbook.md"), "{name}: {url}");
        assert_eq!(anchor, name.to_lowercase(), "{name}: {url}");
        assert!(
            runbook.iter().any(|a| a == anchor),
            "docs/runbook.md has no section #{anchor} for {name}"
        );
    }
}

#[test]
fn the_alert_rules_pass_promtool_and_each_alert_fires_in_its_unit_test() {
    let groups = rule_groups();
    let dir = scratch_dir("rules");
    // The rules as Prometheus loads them, annotations (templates) included.
    let full = dir.join("full.rules.yaml");
    std::fs::write(&full, serde_norway::to_string(&groups).unwrap()).unwrap();
    tools_support::run_ok(
        std::process::Command::new(tools_support::promtool())
            .args(["check", "rules"])
            .arg(&full),
        b"",
    );

    // The unit tests compare labels; annotations are checked above.
    let mut bare = groups.clone();
    for group in bare["groups"].as_array_mut().unwrap() {
        for rule in group["rules"].as_array_mut().unwrap() {
            rule.as_object_mut().unwrap().remove("annotations");
        }
    }
    std::fs::write(
        dir.join("spindle.rules.yaml"),
        serde_norway::to_string(&bare).unwrap(),
    )
    .unwrap();
    let tests_text = read_repo_file("monitoring/rules.test.yaml");
    std::fs::write(dir.join("rules.test.yaml"), &tests_text).unwrap();
    tools_support::run_ok(
        std::process::Command::new(tools_support::promtool())
            .current_dir(&dir)
            .args(["test", "rules", "rules.test.yaml"]),
        b"",
    );
    std::fs::remove_dir_all(&dir).ok();

    // Every alert has a test in which it fires.
    let tests: serde_json::Value = serde_norway::from_str(&tests_text).unwrap();
    let fired: Vec<&str> = tests["tests"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|t| t["alert_rule_test"].as_array().unwrap())
        .filter(|a| a["exp_alerts"].as_array().is_some_and(|e| !e.is_empty()))
        .map(|a| a["alertname"].as_str().unwrap())
        .collect();
    for rule in rules(&groups) {
        if let Some(name) = rule["alert"].as_str() {
            assert!(
                fired.contains(&name),
                "{name} never fires in rules.test.yaml"
            );
        }
    }
}

/// Every `spindle_*` name in a PromQL expression.
fn spindle_names(expr: &str) -> Vec<String> {
    let re = regex::Regex::new(r"\bspindle_[a-z_]+").unwrap();
    re.find_iter(expr).map(|m| m.as_str().to_owned()).collect()
}

#[test]
fn the_dashboard_and_the_alerts_use_only_figures_that_metrics_reports() {
    let dashboard: serde_json::Value =
        serde_json::from_str(&read_repo_file("monitoring/dashboard.json"))
            .expect("dashboard.json is JSON");
    assert_eq!(dashboard["uid"], "spindle");
    let mut exprs: Vec<String> = dashboard["panels"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["targets"].as_array().cloned().unwrap_or_default())
        .map(|t| {
            t["expr"]
                .as_str()
                .expect("a target with an expr")
                .to_owned()
        })
        .collect();
    assert!(exprs.len() >= 10, "{exprs:?}");
    exprs.extend(
        rules(&rule_groups())
            .iter()
            .map(|r| r["expr"].as_str().unwrap().to_owned()),
    );

    // A scrape with a tick behind it, so that every family is there.
    let app = App::new();
    app.conn
        .execute(
            "INSERT INTO tick_heartbeat (last_tick_at) VALUES (now())",
            &[],
        )
        .unwrap();
    let scraped = scrape_app(&app);
    let families: Vec<&str> = scraped
        .text
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split(' ').next())
        .collect();
    let mut used: Vec<String> = exprs.iter().flat_map(|e| spindle_names(e)).collect();
    used.sort();
    used.dedup();
    assert!(used.len() >= 10, "{used:?}");
    for name in &used {
        assert!(
            families.contains(&name.as_str()),
            "{name} is used by monitoring/ but /metrics does not report it:\n{}",
            scraped.text
        );
    }
    // And the dashboard shows every figure.
    let dashboard_text = read_repo_file("monitoring/dashboard.json");
    for family in families {
        assert!(
            dashboard_text.contains(family),
            "the dashboard does not show {family}"
        );
    }
}

/// `kubectl kustomize <dir>`, as YAML documents.
fn kustomize(dir: &str) -> Vec<serde_json::Value> {
    let kubectl = tools_support::tool("kubectl", "kube.sh");
    let output = tools_support::run_ok(
        std::process::Command::new(kubectl)
            .current_dir(tools_support::repo())
            .args(["kustomize", dir]),
        b"",
    );
    let text = String::from_utf8(output.stdout).expect("UTF-8 manifests");
    serde_norway::Deserializer::from_str(&text)
        .map(|doc| serde_json::Value::deserialize(doc).expect("a YAML document"))
        .filter(|doc| !doc.is_null())
        .collect()
}

#[test]
fn the_service_monitor_scrapes_the_ops_metrics_service_and_grafana_gets_the_dashboard() {
    let monitoring = kustomize("monitoring");
    let find = |kind: &str| {
        monitoring
            .iter()
            .find(|d| d["kind"] == kind)
            .unwrap_or_else(|| panic!("no {kind} in monitoring/"))
    };
    let monitor = find("ServiceMonitor");
    assert_eq!(find("PrometheusRule")["metadata"]["namespace"], "spindle");

    // The dashboard ConfigMap carries the sidecar's label and the file as is.
    let dashboard = find("ConfigMap");
    assert_eq!(dashboard["metadata"]["labels"]["grafana_dashboard"], "1");
    let shipped: serde_json::Value =
        serde_json::from_str(dashboard["data"]["spindle.json"].as_str().unwrap()).unwrap();
    let file: serde_json::Value =
        serde_json::from_str(&read_repo_file("monitoring/dashboard.json")).unwrap();
    assert_eq!(shipped, file);

    // Exactly one Service of the production deploy matches, and it has the port.
    let selector = monitor["spec"]["selector"]["matchLabels"]
        .as_object()
        .expect("matchLabels");
    let namespaces = &monitor["spec"]["namespaceSelector"]["matchNames"];
    let production = kustomize("spinkube/overlays/production");
    let matching: Vec<_> = production
        .iter()
        .filter(|d| d["kind"] == "Service")
        .filter(|s| {
            selector
                .iter()
                .all(|(k, v)| &s["metadata"]["labels"][k] == v)
        })
        .collect();
    assert_eq!(matching.len(), 1, "{matching:?}");
    let service = matching[0];
    assert_eq!(service["metadata"]["name"], "spindle-ops-metrics");
    assert!(namespaces
        .as_array()
        .unwrap()
        .contains(&service["metadata"]["namespace"]));
    let port = monitor["spec"]["endpoints"][0]["port"].as_str().unwrap();
    assert!(
        service["spec"]["ports"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == port),
        "{service}"
    );
    assert_eq!(monitor["spec"]["endpoints"][0]["path"], "/metrics");
    // SpindleMetricsDown names the job Prometheus gives the Service's targets.
    assert!(
        read_repo_file("monitoring/prometheusrule.yaml").contains(&format!(
            "job=\"{}\"",
            service["metadata"]["name"].as_str().unwrap()
        ))
    );
}
