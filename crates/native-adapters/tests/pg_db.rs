//! `PgDb` behaves like Spin's Postgres host: same accepted parameter types, same
//! readable column types, same errors. Each test runs on its own fresh database.

use spindle_native::testing::TestDb;
use spindle_native::PgDb;
use spindle_ports::{Db, DbError, Param, Value};

/// A fresh database with one scratch table, for tests that need no schema.
fn scratch(table_sql: &str) -> (TestDb, PgDb) {
    let test_db = TestDb::unmigrated();
    let db = test_db.connect();
    db.execute(table_sql, &[]).expect("create scratch table");
    (test_db, db)
}

fn single(db: &PgDb, sql: &str, params: &[Param]) -> Result<Value, DbError> {
    let rows = db.query(sql, params)?;
    Ok(rows.rows[0][0].clone())
}

#[test]
fn binding_an_int64_to_an_int4_column_fails_as_it_does_in_spin() {
    let (_test_db, db) = scratch("CREATE TABLE t (n int4)");

    let err = db
        .execute("INSERT INTO t (n) VALUES ($1)", &[Param::Int64(1)])
        .expect_err("an i64 must not bind to int4");

    match &err {
        DbError::Query { code, message } => {
            assert_eq!(code, "", "a client-side type error has no SQLSTATE");
            assert!(
                message.contains("i64") && message.contains("int4"),
                "{message}"
            );
        }
        other => panic!("expected a query error, got {other:?}"),
    }
    assert_eq!(
        db.execute("INSERT INTO t (n) VALUES ($1)", &[Param::Int32(1)]),
        Ok(1)
    );
}

#[test]
fn a_string_does_not_bind_to_a_uuid_parameter() {
    let test_db = TestDb::unmigrated();
    let db = test_db.connect();
    let id = "0b9e4c1e-5d2a-4f7a-9c39-1f2d3e4a5b6c";

    let err = single(&db, "SELECT $1::uuid", &[Param::Str(id.into())]);

    assert!(matches!(err, Err(DbError::Query { .. })), "{err:?}");
    assert_eq!(
        single(&db, "SELECT ($1::text)::uuid", &[Param::Str(id.into())]),
        Ok(Value::Uuid(id.into()))
    );
}

#[test]
fn selecting_now_fails_with_advice_to_select_epoch_microseconds() {
    let test_db = TestDb::unmigrated();
    let db = test_db.connect();

    let err = db
        .query("SELECT now()", &[])
        .expect_err("timestamptz is unreadable");

    match &err {
        DbError::Conversion(message) => {
            assert!(message.contains("timestamptz"), "{message}");
            assert!(message.contains("(extract(epoch from"), "{message}");
            assert!(message.contains("::text"), "{message}");
        }
        other => panic!("expected a conversion error, got {other:?}"),
    }
    let now_us = single(&db, "SELECT (extract(epoch from now())*1000000)::int8", &[]);
    let Ok(Value::Int64(now_us)) = now_us else {
        panic!("expected int8 microseconds, got {now_us:?}");
    };
    let system_us = spindle_ports::Clock::now_micros(&spindle_ports::SystemClock);
    assert!(
        (now_us - system_us).abs() < 60_000_000,
        "{now_us} vs {system_us}"
    );
}

#[test]
fn even_a_null_timestamptz_cannot_be_read() {
    let test_db = TestDb::unmigrated();
    let db = test_db.connect();

    let err = db.query("SELECT NULL::timestamptz AS due_at", &[]);

    assert!(matches!(err, Err(DbError::Conversion(_))), "{err:?}");
}

#[test]
fn a_timestamp_in_utc_reads_as_epoch_microseconds() {
    let test_db = TestDb::unmigrated();
    let db = test_db.connect();

    assert_eq!(
        single(
            &db,
            "SELECT timestamptz '2026-03-01T09:00:00.123456+01:00' AT TIME ZONE 'UTC'",
            &[]
        ),
        Ok(Value::Datetime(1_772_352_000_123_456))
    );
}

#[test]
fn text_arrays_round_trip_as_array_str() {
    let (_test_db, db) = scratch("CREATE TABLE t (tags text[])");
    let tags = vec![Some("home".to_owned()), None, Some("urgent".to_owned())];

    db.execute(
        "INSERT INTO t (tags) VALUES ($1)",
        &[Param::ArrayStr(tags.clone())],
    )
    .expect("insert text[]");

    assert_eq!(
        single(&db, "SELECT tags FROM t", &[]),
        Ok(Value::ArrayStr(tags))
    );
}

#[test]
fn a_tsvector_reads_as_unsupported_and_as_text_when_cast() {
    let test_db = TestDb::unmigrated();
    let db = test_db.connect();

    assert_eq!(
        single(&db, "SELECT to_tsvector('simple', 'buy milk')", &[]),
        Ok(Value::Unsupported)
    );
    assert_eq!(
        single(&db, "SELECT to_tsvector('simple', 'buy milk')::text", &[]),
        Ok(Value::Str("'buy':1 'milk':2".into()))
    );
}

#[test]
fn uuids_and_json_round_trip() {
    let test_db = TestDb::unmigrated();
    let db = test_db.connect();
    let id = "0b9e4c1e-5d2a-4f7a-9c39-1f2d3e4a5b6c";

    let rows = db
        .query(
            "SELECT $1::uuid AS id, $2::jsonb AS doc",
            &[
                Param::Uuid(id.into()),
                Param::Jsonb(br#"{"b": [1, 2], "a": null}"#.to_vec()),
            ],
        )
        .expect("query");
    let row = rows.first().expect("one row");

    assert_eq!(row.str("id").as_deref(), Ok(id));
    let doc: serde_json::Value =
        serde_json::from_slice(&row.json("doc").expect("jsonb")).expect("valid JSON");
    assert_eq!(doc, serde_json::json!({"a": null, "b": [1, 2]}));
}

#[test]
fn a_null_binds_to_a_parameter_of_any_type() {
    let (_test_db, db) = scratch("CREATE TABLE t (id uuid, n int8, s text, doc jsonb)");

    let inserted = db.execute(
        "INSERT INTO t (id, n, s, doc) VALUES ($1, $2, $3, $4)",
        &[Param::Null, Param::Null, Param::Null, Param::Null],
    );

    assert_eq!(inserted, Ok(1));
    let rows = db
        .query("SELECT id, n, s, doc FROM t", &[])
        .expect("select");
    assert_eq!(rows.rows[0], vec![Value::Null; 4]);
}

#[test]
fn a_malformed_uuid_is_refused_like_spin_refuses_it() {
    let (_test_db, db) = scratch("CREATE TABLE t (id uuid)");
    let bad = [Param::Uuid("not-a-uuid".into())];

    // Spin's host reports the same conversion failure differently per call.
    let from_query = db.query("SELECT $1::uuid", &bad);
    let from_execute = db.execute("INSERT INTO t (id) VALUES ($1)", &bad);

    assert!(
        matches!(from_query, Err(DbError::BadParameter(_))),
        "{from_query:?}"
    );
    assert!(
        matches!(from_execute, Err(DbError::Conversion(_))),
        "{from_execute:?}"
    );
}

#[test]
fn a_unique_violation_reports_sqlstate_23505() {
    let (_test_db, db) = scratch("CREATE TABLE t (name text UNIQUE)");
    let insert = "INSERT INTO t (name) VALUES ($1)";
    db.execute(insert, &[Param::from("inbox")])
        .expect("first insert");

    let err = db
        .execute(insert, &[Param::from("inbox")])
        .expect_err("duplicate");

    assert!(err.is_unique_violation(), "{err:?}");
}

#[test]
fn begin_and_commit_on_one_pgdb_form_one_transaction() {
    let test_db = TestDb::unmigrated();
    let db = test_db.connect();
    let txid = |db: &PgDb| single(db, "SELECT txid_current()", &[]).expect("txid");

    db.execute("BEGIN", &[]).expect("begin");
    let first = txid(&db);
    let second = txid(&db);
    db.execute("COMMIT", &[]).expect("commit");

    assert!(matches!(first, Value::Int64(_)), "{first:?}");
    assert_eq!(first, second);
    assert_ne!(
        txid(&db),
        txid(&db),
        "outside BEGIN each statement commits alone"
    );
}

#[test]
fn a_failed_transaction_is_rolled_back_by_the_transaction_helper() {
    let (_test_db, db) = scratch("CREATE TABLE t (name text UNIQUE)");

    let result: Result<(), DbError> = db.transaction(|db| {
        db.execute("INSERT INTO t (name) VALUES ('a')", &[])?;
        db.execute("INSERT INTO t (name) VALUES ('a')", &[])?;
        Ok(())
    });

    assert!(result.is_err());
    assert_eq!(
        single(&db, "SELECT count(*) FROM t", &[]),
        Ok(Value::Int64(0))
    );
}

#[test]
fn execute_returns_the_number_of_rows_affected() {
    let (_test_db, db) = scratch("CREATE TABLE t (n int4)");

    let inserted = db.execute("INSERT INTO t (n) SELECT generate_series(1, 3)", &[]);
    let deleted = db.execute("DELETE FROM t WHERE n > $1", &[Param::Int32(1)]);

    assert_eq!((inserted, deleted), (Ok(3), Ok(2)));
}

#[test]
fn a_query_without_rows_has_no_columns_as_in_spin() {
    let test_db = TestDb::unmigrated();
    let db = test_db.connect();

    let rows = db.query("SELECT 1 AS one WHERE false", &[]).expect("query");

    assert!(rows.is_empty());
    assert!(rows.columns.is_empty(), "{:?}", rows.columns);
}

#[test]
fn several_statements_in_one_call_are_refused() {
    let test_db = TestDb::unmigrated();
    let db = test_db.connect();

    let err = db.execute("SELECT 1; SELECT 2", &[]);

    assert!(
        matches!(&err, Err(DbError::Query { code, .. }) if code == "42601"),
        "{err:?}"
    );
}

#[test]
fn an_address_without_sslmode_disable_is_refused() {
    let test_db = TestDb::unmigrated();
    let url = test_db.url().replace("?sslmode=disable", "");

    let err = PgDb::connect(&url).expect_err("Spin would try TLS");

    match err {
        DbError::Connection(message) => assert!(message.contains("?sslmode=disable"), "{message}"),
        other => panic!("expected a connection error, got {other:?}"),
    }
}

#[test]
fn a_session_ended_by_the_server_reports_a_connection_error() {
    let test_db = TestDb::unmigrated();
    let victim = test_db.connect();
    let pid = single(&victim, "SELECT pg_backend_pid()", &[]).expect("pid");
    let Value::Int32(pid) = pid else {
        panic!("pg_backend_pid is int4, got {pid:?}")
    };

    test_db
        .connect()
        .query("SELECT pg_terminate_backend($1)", &[Param::Int32(pid)])
        .expect("terminate");
    let err = victim.query("SELECT 1", &[]);

    assert!(matches!(err, Err(DbError::Connection(_))), "{err:?}");
}
