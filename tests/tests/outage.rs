//! When the database is unreachable or refuses more clients, a request is told
//! to retry later, with a request id, and nothing about the database itself.

mod api_support;

use api_support::*;
use serde_json::Value;
use spindle_native::{PgPool, PooledDb};

/// Sends `GET uri` as alice on a session of `pool`.
fn get_on(app: &App, pool: &std::sync::Arc<PgPool>, uri: &str) -> Resp {
    let session: PooledDb = pool.session();
    let ctx = app.ctx(&session);
    let req = app
        .request("GET", uri, Some("alice"), None)
        .body(Vec::new())
        .unwrap();
    let verifier = app.verifier();
    let response = if uri.starts_with("/api/changes") {
        spindle_api::changes_api(&ctx, &verifier, req)
    } else {
        spindle_api::tasks_api(&ctx, &verifier, req)
    };
    Resp {
        status: response.status().as_u16(),
        headers: response.headers().clone(),
        body: serde_json::from_slice(response.body()).unwrap_or(Value::Null),
    }
}

fn assert_retry_later(resp: &Resp, must_not_say: &[&str]) {
    assert_eq!(resp.status, 503, "{:?}", resp.body);
    assert_eq!(
        resp.header("content-type"),
        Some("application/problem+json")
    );
    assert_eq!(resp.header("retry-after"), Some("1"));
    let id = resp.header("x-request-id").expect("a request id header");
    assert_eq!(
        resp.body["request_id"], id,
        "the body names the same request"
    );
    let detail = resp.body["detail"].as_str().unwrap();
    assert!(detail.contains("retry"), "{detail}");
    for secret in must_not_say {
        assert!(
            !resp.body.to_string().contains(secret),
            "the response gives away {secret:?}: {}",
            resp.body
        );
    }
}

#[test]
fn an_unreachable_database_is_a_503_with_retry_after_and_no_driver_text() {
    let app = App::new();
    // Nothing listens on port 1.
    let pool = PgPool::new(
        "postgres://spindle:hunter2@127.0.0.1:1/spindle?sslmode=disable&connect_timeout=2",
        4,
    )
    .unwrap();
    for uri in ["/api/tasks?limit=5", "/api/changes?wait=1"] {
        let resp = get_on(&app, &pool, uri);
        assert_retry_later(&resp, &["127.0.0.1", "hunter2", "refused", "connect"]);
    }
}

#[test]
fn a_database_with_no_client_slots_left_is_a_503_with_retry_after_not_a_500() {
    let app = App::new();
    // A role that may open no connection at all meets exactly the refusal a full
    // server gives ("too many connections", SQLSTATE 53300).
    let role = format!("spindle_full_{}", uuid::Uuid::new_v4().simple());
    app.conn_execute(&format!("CREATE ROLE {role} LOGIN CONNECTION LIMIT 0"));
    let url = format!(
        "postgres://{role}@127.0.0.1:5432/{}?sslmode=disable",
        app.db.name()
    );
    let pool = PgPool::new(&url, 4).unwrap();
    let resp = get_on(&app, &pool, "/api/tasks?limit=5");
    app.conn_execute(&format!("DROP ROLE {role}"));
    assert_retry_later(&resp, &["too many", &role, "53300"]);
}

#[test]
fn every_response_names_its_request_and_keeps_a_sane_id_from_the_proxy() {
    let app = App::new();
    let fresh = app.get("alice", "/api/tasks");
    let id = fresh.header("x-request-id").expect("a request id");
    assert!(id.len() >= 16, "{id}");

    let forwarded = app.send(
        app.request("GET", "/api/tasks", Some("alice"), None)
            .header("x-request-id", "edge-4f1c.7")
            .body(Vec::new())
            .unwrap(),
    );
    assert_eq!(forwarded.header("x-request-id"), Some("edge-4f1c.7"));

    let hostile = app.send(
        app.request("GET", "/api/tasks", Some("alice"), None)
            .header("x-request-id", "a b<script>")
            .body(Vec::new())
            .unwrap(),
    );
    assert_ne!(hostile.header("x-request-id"), Some("a b<script>"));
    // A client error says what to fix and needs no request id in its body.
    let bad = app.get("alice", "/api/tasks?limit=0");
    assert_eq!(bad.status, 400);
    assert!(bad.body.get("request_id").is_none());
}
