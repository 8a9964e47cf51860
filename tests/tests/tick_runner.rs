//! The command-triggered `tick` component's modes, through the library it
//! wires (`spindle_reminders::runner`): a loop that really ticks and fires a
//! due reminder, one tick, the migrations, and configuration it refuses.

mod reminders_support;

use std::time::Duration;

use reminders_support::{count, Env, USER};
use spindle_native::testing::TestDb;
use spindle_native::MapConfig;
use spindle_ports::Db;
use spindle_reminders::runner::{self, Outcome, RunError};
use spindle_storage::migrations::{self, MigrationStatus, MIGRATIONS};

/// The variables the component gets, on the test's own reminders channel.
fn config(env: &Env) -> MapConfig {
    MapConfig::new().with("reminders_channel", env.settings.channel.clone())
}

#[test]
fn a_short_loop_ticks_several_times_and_fires_a_due_reminder() {
    let env = Env::new();
    let reminder = env.due_reminder();
    let config = config(&env)
        .with("tick_interval_ms", "50")
        .with("tick_loop_seconds", "1");
    let outcome = runner::run(
        &env.conn,
        &env.publisher,
        &env.clock,
        &config,
        std::thread::sleep,
    )
    .expect("the loop succeeds");
    let Outcome::Ticked { succeeded, failed } = outcome else {
        panic!("a loop ticks: {outcome:?}");
    };
    assert!(succeeded >= 5, "{succeeded} ticks in a second at 50 ms");
    assert_eq!(failed, 0);
    let message = env
        .subscription
        .recv_timeout(Duration::from_secs(5))
        .expect("the loop published reminder.due");
    let event: serde_json::Value = serde_json::from_slice(&message).unwrap();
    assert_eq!(event["type"], "reminder.due");
    assert_eq!(event["data"]["reminder"]["id"], reminder.to_string());
    assert_eq!(
        count(
            &env.conn,
            &format!(
                "SELECT count(*) AS n FROM reminders WHERE id = '{reminder}' AND state = 'fired'"
            )
        ),
        1
    );
    assert_eq!(
        count(
            &env.conn,
            &format!("SELECT count(*) AS n FROM outbox WHERE type = 'reminder.due' AND user_id = '{USER}'")
        ),
        1,
        "fired once, however many ticks"
    );
}

#[test]
fn once_ticks_once() {
    let env = Env::new();
    env.due_reminder();
    let outcome = runner::run(
        &env.conn,
        &env.publisher,
        &env.clock,
        &config(&env).with("tick_mode", "once"),
        |_| panic!("once never sleeps"),
    )
    .unwrap();
    assert_eq!(
        outcome,
        Outcome::Ticked {
            succeeded: 1,
            failed: 0
        }
    );
    assert_eq!(
        count(
            &env.conn,
            "SELECT count(*) AS n FROM reminders WHERE state = 'fired'"
        ),
        1
    );
}

#[test]
fn a_loop_where_every_tick_fails_ends_in_an_error_naming_the_last_failure() {
    let env = Env::new();
    let unmigrated = TestDb::unmigrated();
    let conn = unmigrated.connect();
    let err = runner::run(
        &conn,
        &env.publisher,
        &env.clock,
        &config(&env)
            .with("tick_interval_ms", "100")
            .with("tick_loop_seconds", "1"),
        std::thread::sleep,
    )
    .expect_err("no tick can succeed without the tables");
    let RunError::NoTick { failed, .. } = &err else {
        panic!("{err}");
    };
    assert!(*failed >= 3, "the loop went on after failures: {failed}");
    assert!(err.to_string().contains("no tick succeeded"), "{err}");
}

#[test]
fn migrate_applies_the_migrations_once_and_refuses_an_edited_one() {
    let env = Env::new();
    let fresh = TestDb::unmigrated();
    let conn = fresh.connect();
    let migrate = || {
        runner::run(
            &conn,
            &env.publisher,
            &env.clock,
            &MapConfig::new().with("tick_mode", "migrate"),
            |_| panic!("migrate never sleeps"),
        )
    };
    let Outcome::Migrated { applied } = migrate().unwrap() else {
        panic!("migrate migrates");
    };
    assert_eq!(
        applied.len(),
        MIGRATIONS.len() + migrations::routines().len()
    );
    assert_eq!(migrations::status(&conn).unwrap(), MigrationStatus::Current);
    assert_eq!(migrate().unwrap(), Outcome::Migrated { applied: vec![] });

    conn.execute(
        "UPDATE schema_migrations SET checksum = 'edited' WHERE version = 1",
        &[],
    )
    .unwrap();
    let err = migrate().expect_err("an edited migration is refused");
    assert!(matches!(err, RunError::Migrate(_)), "{err}");
    assert!(err.to_string().contains("0001_tasks.sql"), "{err}");
}

#[test]
fn bad_retention_variables_are_refused_by_name_and_nothing_is_deleted_or_fired() {
    let env = Env::new();
    env.due_reminder();
    env.conn
        .execute(
            "INSERT INTO idempotency_keys (user_id, key, request_hash, created_at)
             VALUES ('alice', 'old', 'h', now() - interval '30 days')",
            &[],
        )
        .unwrap();
    for (name, value, says) in [
        ("retention_outbox_days", "0", "retention_outbox_days"),
        ("retention_batch", "-5", "retention_batch"),
        (
            "retention_idempotency_hours",
            "12",
            "retention_idempotency_hours",
        ),
        ("retention_outbox_days", "30", "retention_processed_days"),
        ("tick_mode", "sometimes", "tick_mode"),
    ] {
        let err = runner::run(
            &env.conn,
            &env.publisher,
            &env.clock,
            &config(&env).with("tick_mode", "once").with(name, value),
            |_| {},
        )
        .expect_err("a bad variable stops the run");
        let text = err.to_string();
        assert!(text.contains(says), "{name}={value}: {text}");
        assert!(text.contains("must be"), "{name}={value}: {text}");
    }
    assert_eq!(
        count(&env.conn, "SELECT count(*) AS n FROM idempotency_keys"),
        1
    );
    assert_eq!(
        count(
            &env.conn,
            "SELECT count(*) AS n FROM reminders WHERE state = 'pending'"
        ),
        1
    );
    assert_eq!(
        count(&env.conn, "SELECT count(*) AS n FROM tick_heartbeat"),
        0
    );
}
