//! `TestDb` gives each test its own migrated database and removes it afterwards.

use spindle_native::testing::TestDb;
use spindle_native::PgDb;
use spindle_ports::{Db, Param};
use spindle_storage::migrations::{status, MigrationStatus};

fn database_exists(name: &str) -> bool {
    let admin_url = std::env::var("SPINDLE_TEST_PG_ADMIN_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable".into());
    let admin = PgDb::connect(&admin_url).expect("admin connection");
    let rows = admin
        .query(
            "SELECT 1 AS present FROM pg_database WHERE datname = $1",
            &[Param::from(name)],
        )
        .expect("look up database");
    !rows.is_empty()
}

#[test]
fn a_test_database_is_migrated_and_dropped_afterwards() {
    let test_db = TestDb::new();
    let name = test_db.name().to_owned();
    assert!(name.starts_with("spindle_test_"), "{name}");
    assert!(test_db.url().ends_with(&format!("/{name}?sslmode=disable")));

    let session = test_db.connect();
    assert_eq!(status(&session), Ok(MigrationStatus::Current));
    assert!(database_exists(&name));

    // Dropping works even with a session still open (`WITH (FORCE)`).
    drop(test_db);
    assert!(!database_exists(&name));
    drop(session);
}

#[test]
fn an_unmigrated_test_database_is_empty() {
    let test_db = TestDb::unmigrated();

    let status = status(&test_db.connect());

    assert!(
        matches!(status, Ok(MigrationStatus::Pending(_))),
        "{status:?}"
    );
}

#[test]
fn two_test_databases_do_not_share_rows() {
    let (a, b) = (TestDb::unmigrated(), TestDb::unmigrated());
    assert_ne!(a.name(), b.name());
    a.connect()
        .execute("CREATE TABLE t (n int4)", &[])
        .expect("create in a");

    let in_b = b
        .connect()
        .query("SELECT to_regclass('t') IS NULL AS absent", &[]);

    assert_eq!(
        in_b.expect("query b").first().map(|row| row.bool("absent")),
        Some(Ok(true))
    );
}
