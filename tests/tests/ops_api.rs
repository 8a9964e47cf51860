//! Health, readiness and migrations through the `ops` routes.

mod api_support;

use api_support::{App, ADMIN};
use spindle_native::testing::TestDb;
use spindle_ports::{Db, Param};
use spindle_storage::migrations::{migrate, routines, MigrationError, MIGRATIONS};

fn admin_post(app: &App, conn: &spindle_native::PgDb, uri: &str, token: &str) -> api_support::Resp {
    let req = http::Request::post(uri).header("authorization", format!("Bearer {token}"));
    app.send_on(conn, req.body(Vec::new()).unwrap())
}

fn get(app: &App, conn: &spindle_native::PgDb, uri: &str) -> api_support::Resp {
    app.send_on(conn, http::Request::get(uri).body(Vec::new()).unwrap())
}

#[test]
fn healthz_answers_and_readyz_is_ready_on_a_migrated_database() {
    let app = App::new();
    assert_eq!(get(&app, &app.conn, "/healthz").status, 200);
    assert_eq!(get(&app, &app.conn, "/readyz").status, 200);
}

#[test]
fn readyz_is_503_with_the_reason_until_migrations_are_applied() {
    let app = App::new();
    let fresh = TestDb::unmigrated();
    let conn = fresh.connect();
    let resp = get(&app, &conn, "/readyz");
    assert_eq!(resp.status, 503);
    assert!(
        resp.body["detail"]
            .as_str()
            .unwrap()
            .contains("0001_tasks.sql"),
        "{:?}",
        resp.body
    );

    assert_eq!(
        admin_post(&app, &conn, "/admin/migrate", "wrong").status,
        401
    );
    let migrated = admin_post(&app, &conn, "/admin/migrate", ADMIN);
    assert_eq!(migrated.status, 200, "{:?}", migrated.body);
    assert_eq!(
        migrated.body["applied"].as_array().unwrap().len(),
        MIGRATIONS.len() + routines().len()
    );
    assert_eq!(get(&app, &conn, "/readyz").status, 200);
    let again = admin_post(&app, &conn, "/admin/migrate", ADMIN);
    assert_eq!(again.body["applied"], serde_json::json!([]));
}

#[test]
fn readyz_is_503_when_the_database_is_unreachable() {
    let app = App::new();
    let gone = TestDb::unmigrated();
    let conn = gone.connect();
    drop(gone);
    assert_eq!(get(&app, &conn, "/readyz").status, 503);
}

#[test]
fn two_concurrent_migrations_apply_each_file_once() {
    let fresh = TestDb::unmigrated();
    let reports: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..3)
            .map(|_| scope.spawn(|| migrate(&fresh.connect())))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a migration thread"))
            .collect()
    });
    let applied: usize = reports
        .iter()
        .map(|r| r.as_ref().expect("a migration").applied.len())
        .sum();
    assert_eq!(applied, MIGRATIONS.len() + routines().len());
}

#[test]
fn a_changed_applied_migration_is_refused_with_a_clear_error() {
    let app = App::new();
    app.conn
        .execute(
            "UPDATE schema_migrations SET checksum = 'edited' WHERE version = $1",
            &[Param::Int32(1)],
        )
        .unwrap();
    match migrate(&app.conn) {
        Err(MigrationError::Changed { name, .. }) => assert_eq!(name, "0001_tasks.sql"),
        other => panic!("expected a refusal, got {other:?}"),
    }
    let resp = admin_post(&app, &app.conn, "/admin/migrate", ADMIN);
    assert_eq!(resp.status, 409);
    assert!(resp.body["detail"]
        .as_str()
        .unwrap()
        .contains("0001_tasks.sql"));
    assert_eq!(get(&app, &app.conn, "/readyz").status, 503);
}

#[test]
fn a_routine_of_another_build_makes_readyz_wait_and_migrate_recreates_it() {
    let app = App::new();
    let task = app.create("alice", serde_json::json!({ "title": "Water plants" }));
    // As an older build left it: gone, or recorded with other text.
    app.conn_execute("DROP FUNCTION task_by_id");
    app.conn_execute("UPDATE schema_routines SET checksum = 'older' WHERE name = 'task_by_id'");
    let ready = get(&app, &app.conn, "/readyz");
    assert_eq!(ready.status, 503);
    assert!(
        ready.body["detail"]
            .as_str()
            .unwrap()
            .contains("routine task_by_id"),
        "{:?}",
        ready.body
    );

    let migrated = admin_post(&app, &app.conn, "/admin/migrate", ADMIN);
    assert_eq!(migrated.status, 200, "{:?}", migrated.body);
    assert_eq!(
        migrated.body["applied"],
        serde_json::json!(["routine task_by_id"])
    );
    assert_eq!(get(&app, &app.conn, "/readyz").status, 200);
    let id = task["id"].as_str().unwrap();
    let read = app.get("alice", &format!("/api/tasks/{id}"));
    assert_eq!(read.status, 200);
    assert_eq!(read.body["title"], "Water plants");
}

#[test]
fn every_file_in_migrations_is_embedded() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../migrations");
    let mut files: Vec<String> = std::fs::read_dir(dir)
        .expect("the migrations folder")
        .map(|e| {
            e.expect("an entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|name| name.ends_with(".sql"))
        .collect();
    files.sort();
    let embedded: Vec<&str> = MIGRATIONS.iter().map(|m| m.name).collect();
    assert_eq!(
        files, embedded,
        "add new migration files to MIGRATIONS in crates/storage/src/migrations.rs"
    );
}

#[test]
fn the_openapi_document_is_served_without_a_token() {
    let app = App::new();
    let resp = get(&app, &app.conn, "/api/openapi.json");
    assert_eq!(resp.status, 200);
    assert!(resp.body["openapi"].as_str().unwrap().starts_with("3.1"));
}
