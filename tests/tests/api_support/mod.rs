//! Drives Spindle's HTTP handlers the way Spin would: an `http::Request` in, an
//! `http::Response` out, against a fresh database, the real Redis and a fixed clock.

#![allow(dead_code)] // Each test file uses a different part of this harness.

use serde_json::Value;
use spindle_api::auth::Verifier;
use spindle_api::auth::{sign, Claims};
use spindle_api::{settings, Ctx};
use spindle_native::testing::TestDb;
use spindle_native::{FixedClock, MapConfig, PgDb, RedisKv, RedisPublisher, UreqHttp};
use spindle_ports::Db;

pub const SECRET: &str = "test-jwt-secret";
pub const ADMIN: &str = "test-admin-token";
pub const INTERNAL: &str = "test-internal-token";
pub const ORIGIN: &str = "https://app.example";
/// 2026-03-01T12:00:00Z, the fixed "now" of every test.
pub const NOW_MICROS: i64 = 1_772_366_400_000_000;

/// One test's running app: its own database and a session on it.
pub struct App {
    pub db: TestDb,
    pub conn: PgDb,
    pub publisher: RedisPublisher,
    pub clock: FixedClock,
    pub config: MapConfig,
    /// Where the identity provider's keys are fetched from and cached.
    pub http: UreqHttp,
    pub kv: RedisKv,
}

/// A response, with its body parsed when it is JSON.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: Value,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The `field`s of a validation problem.
    pub fn error_fields(&self) -> Vec<String> {
        self.body["errors"]
            .as_array()
            .map(|errors| {
                errors
                    .iter()
                    .filter_map(|e| e["field"].as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl App {
    pub fn new() -> App {
        let db = TestDb::new();
        let conn = db.connect();
        App {
            db,
            conn,
            publisher: RedisPublisher::new("redis://127.0.0.1:6379"),
            clock: FixedClock::new(NOW_MICROS),
            config: MapConfig::new()
                .with(settings::JWT_SECRET, SECRET)
                .with(settings::ADMIN_TOKEN, ADMIN)
                .with(settings::INTERNAL_TOKEN, INTERNAL)
                .with(settings::CORS_ALLOWED_ORIGINS, ORIGIN),
            http: UreqHttp::new(),
            kv: RedisKv::new("redis://127.0.0.1:6379"),
        }
    }

    pub fn token(&self, user: &str) -> String {
        let now = NOW_MICROS / 1_000_000;
        sign(
            &Claims {
                sub: user.to_owned(),
                exp: Some(now + 3600),
                nbf: None,
                iat: Some(now),
            },
            SECRET.as_bytes(),
        )
    }

    /// The token verifier of this app's configuration, as a component builds it.
    pub fn verifier(&self) -> Verifier<'_> {
        Verifier::new(settings::auth(&self.config), &self.http, &self.kv)
    }

    pub fn ctx<'a, D: Db>(&'a self, db: &'a D) -> Ctx<'a, D, RedisPublisher> {
        Ctx {
            db,
            publisher: &self.publisher,
            clock: &self.clock,
            config: &self.config,
            http: &self.http,
        }
    }

    /// The response of the component Spin would route `req` to, on `conn`.
    pub fn handle_on(&self, conn: &PgDb, req: http::Request<Vec<u8>>) -> http::Response<Vec<u8>> {
        let ctx = self.ctx(conn);
        let verifier = self.verifier();
        let path = req.uri().path().to_owned();
        if path.starts_with("/api/changes")
            || (path.starts_with("/api/tasks/") && path.ends_with("/history"))
        {
            spindle_api::changes_api(&ctx, &verifier, req)
        } else if path.starts_with("/api/tasks") {
            spindle_api::tasks_api(&ctx, &verifier, req)
        } else if path.starts_with("/api/tags") {
            spindle_api::tags_api(&ctx, &verifier, req)
        } else if path.starts_with("/api/channels")
            || path.starts_with("/api/notifications")
            || path.starts_with("/api/push")
        {
            spindle_api::channels_api(&ctx, &verifier, req)
        } else if path == spindle_mcp::ENDPOINT || path.starts_with(spindle_mcp::RESOURCE_METADATA)
        {
            spindle_mcp::serve(&ctx, &verifier, req)
        } else {
            spindle_api::ops(&ctx, req)
        }
    }

    /// Sends a request through the component Spin would route it to, on `conn`.
    pub fn send_on(&self, conn: &PgDb, req: http::Request<Vec<u8>>) -> Resp {
        let response = self.handle_on(conn, req);
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = serde_json::from_slice(response.body()).unwrap_or(Value::Null);
        Resp {
            status,
            headers,
            body,
        }
    }

    pub fn send(&self, req: http::Request<Vec<u8>>) -> Resp {
        self.send_on(&self.conn, req)
    }

    /// A request as `user` (or anonymous), with a JSON body when given.
    pub fn request(
        &self,
        method: &str,
        uri: &str,
        user: Option<&str>,
        body: Option<&Value>,
    ) -> http::request::Builder {
        let mut builder = http::Request::builder().method(method).uri(uri);
        if let Some(user) = user {
            builder = builder.header("authorization", format!("Bearer {}", self.token(user)));
        }
        if body.is_some() {
            builder = builder.header("content-type", "application/json");
        }
        builder
    }

    pub fn call(&self, method: &str, uri: &str, user: &str, body: Option<&Value>) -> Resp {
        let bytes = body
            .map(|b| serde_json::to_vec(b).expect("serialising a test body"))
            .unwrap_or_default();
        let req = self
            .request(method, uri, Some(user), body)
            .body(bytes)
            .expect("building a test request");
        self.send(req)
    }

    pub fn get(&self, user: &str, uri: &str) -> Resp {
        self.call("GET", uri, user, None)
    }

    pub fn post(&self, user: &str, uri: &str, body: &Value) -> Resp {
        self.call("POST", uri, user, Some(body))
    }

    pub fn patch(&self, user: &str, uri: &str, body: &Value) -> Resp {
        self.call("PATCH", uri, user, Some(body))
    }

    pub fn delete(&self, user: &str, uri: &str) -> Resp {
        self.call("DELETE", uri, user, None)
    }

    /// Creates a task and returns its JSON, failing the test if that does not work.
    pub fn create(&self, user: &str, body: Value) -> Value {
        let resp = self.post(user, "/api/tasks", &body);
        assert_eq!(resp.status, 201, "creating {body} failed: {:?}", resp.body);
        resp.body
    }

    /// A single number from SQL, for checking what was (not) written.
    pub fn count(&self, sql: &str) -> i64 {
        let rows = self.conn.query(sql, &[]).expect("counting rows");
        rows.first()
            .expect("a count row")
            .i64("n")
            .expect("an integer n")
    }

    /// The JSON column `j` of a one-row query.
    pub fn conn_query_json(&self, sql: &str) -> Value {
        let rows = self
            .conn
            .query(sql, &[])
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        let bytes = rows
            .first()
            .expect("a row")
            .json("j")
            .expect("a jsonb column j");
        serde_json::from_slice(&bytes).expect("JSON")
    }

    /// Runs a statement that sets up a situation (e.g. makes events due now).
    pub fn conn_execute(&self, sql: &str) {
        self.conn
            .execute(sql, &[])
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    /// The types of the outbox events of `task_id`, in sequence order.
    pub fn events_of(&self, task_id: &str) -> Vec<String> {
        let rows = self
            .conn
            .query(
                "SELECT type FROM outbox WHERE task_id = $1 ORDER BY seq",
                &[spindle_ports::Param::Uuid(task_id.to_owned())],
            )
            .expect("reading the outbox");
        rows.iter()
            .map(|r| r.str("type").expect("a type"))
            .collect()
    }
}

/// Percent-encodes a query value.
pub fn enc(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}
