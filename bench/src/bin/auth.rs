//! `bench-auth`: what authentication and the MCP endpoint cost per request.
//!
//! ```text
//! cargo run --release -p spindle-bench --bin bench-auth
//! ```
//!
//! 1. Token verification with a warm cache: `Verifier::verify` for RS256, ES256 and
//!    EdDSA tokens from an identity provider on loopback (keys read from Redis, parsed,
//!    signature checked), beside HS256 with the shared secret and beside the bare Redis
//!    `GET` of the cached key set, in the same run.
//! 2. `tools/call list_tasks` through `POST /mcp` beside the same `GET /api/tasks`
//!    through `tasks-api`, on a user with 1 000 tasks, 50 per page.
//!
//! Native build (the release profile); needs the local Postgres and Redis.

use std::time::{Duration, Instant};

use anyhow::{ensure, Result};
use serde_json::{json, Value};
use spindle_api::auth::{sign, AuthSettings, Claims, Verifier};
use spindle_api::{settings, Ctx, Request};
use spindle_native::testing::provider::{claims, Key, Provider, AUDIENCE, ISSUER};
use spindle_native::testing::TestDb;
use spindle_native::{FixedClock, MapConfig, RedisKv, RedisPublisher, UreqHttp};

const REDIS_URL: &str = "redis://127.0.0.1:6379";
const SECRET: &str = "bench-secret";
/// 2026-03-01T12:00:00Z.
const NOW: i64 = 1_772_366_400;
const WARMUP: usize = 200;
const SAMPLES: usize = 2_000;
const TASKS: usize = 1_000;
const PAGE: usize = 50;
const HTTP_SAMPLES: usize = 300;

struct Stats {
    p50: Duration,
    p99: Duration,
    mean: Duration,
}

fn measure(samples: usize, mut run: impl FnMut() -> Result<()>) -> Result<Stats> {
    for _ in 0..WARMUP.min(samples) {
        run()?;
    }
    let mut times = Vec::with_capacity(samples);
    for _ in 0..samples {
        let start = Instant::now();
        run()?;
        times.push(start.elapsed());
    }
    times.sort();
    let mean = times.iter().sum::<Duration>() / samples as u32;
    let at = |p: f64| times[((samples as f64 * p) as usize).min(samples - 1)];
    Ok(Stats {
        p50: at(0.50),
        p99: at(0.99),
        mean,
    })
}

fn row(name: &str, stats: &Stats) {
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    println!(
        "| {name:<44} | {:>9.1} | {:>9.1} | {:>9.1} |",
        us(stats.p50),
        us(stats.p99),
        us(stats.mean)
    );
}

fn header(title: &str) {
    println!("\n{title}\n");
    println!(
        "| {:<44} | {:>9} | {:>9} | {:>9} |",
        "what", "p50 µs", "p99 µs", "mean µs"
    );
    println!(
        "|{}|{}|{}|{}|",
        "-".repeat(46),
        "-".repeat(11),
        "-".repeat(11),
        "-".repeat(11)
    );
}

fn main() -> Result<()> {
    verification()?;
    mcp_beside_api()
}

fn verification() -> Result<()> {
    let (rsa, ec, ed) = (Key::rs256("rsa", 0), Key::es256("ec"), Key::eddsa("ed"));
    let provider = Provider::start(&[&rsa, &ec, &ed]);
    let (http, kv) = (UreqHttp::new(), RedisKv::new(REDIS_URL));
    let settings = AuthSettings {
        secret: Some(SECRET.into()),
        jwks_url: Some(provider.url()),
        issuer: Some(ISSUER.into()),
        audiences: vec![AUDIENCE.into()],
    };
    let verifier = Verifier::new(settings, &http, &kv);
    header("Token verification per request, warm key cache (native, release)");

    let hs = sign(
        &Claims {
            sub: "alice".into(),
            exp: Some(NOW + 3600),
            nbf: None,
            iat: Some(NOW),
        },
        SECRET.as_bytes(),
    );
    row(
        "HS256, shared secret (baseline)",
        &measure(SAMPLES, || Ok(verifier.verify(&hs, NOW).map(drop)?))?,
    );
    let mut redis = redis::Client::open(REDIS_URL)?.get_connection()?;
    let cached_key = redis::cmd("KEYS")
        .arg("spindle:jwks:*")
        .query::<Vec<String>>(&mut redis)?;
    for key in [&rsa, &ec, &ed] {
        let token = key.token(&claims("alice", NOW));
        // The first verification fetches the key set; every later one reads Redis.
        ensure!(
            verifier.verify(&token, NOW).is_ok(),
            "{} token refused",
            key.alg
        );
        row(
            &format!("{}, provider key from the Redis cache", key.alg),
            &measure(SAMPLES, || Ok(verifier.verify(&token, NOW).map(drop)?))?,
        );
    }
    ensure!(
        provider.fetches() == 1,
        "the key set was fetched {} times",
        provider.fetches()
    );
    if let Some(name) = cached_key.iter().find(|k| !k.contains(":refetch:")) {
        row(
            "bare Redis GET of a cached key set (baseline)",
            &measure(SAMPLES, || {
                redis::cmd("GET").arg(name).query::<Vec<u8>>(&mut redis)?;
                Ok(())
            })?,
        );
    }
    Ok(())
}

fn mcp_beside_api() -> Result<()> {
    let db = TestDb::new();
    let conn = db.connect();
    let publisher = RedisPublisher::new(REDIS_URL);
    let clock = FixedClock::new(NOW * 1_000_000);
    let config = MapConfig::new().with(settings::JWT_SECRET, SECRET);
    let (http, kv) = (UreqHttp::new(), RedisKv::new(REDIS_URL));
    let ctx = Ctx {
        db: &conn,
        publisher: &publisher,
        clock: &clock,
        config: &config,
        http: &http,
    };
    let verifier = Verifier::new(settings::auth(&config), &http, &kv);
    let token = sign(
        &Claims {
            sub: "bench-user".into(),
            exp: Some(NOW + 3600),
            nbf: None,
            iat: Some(NOW),
        },
        SECRET.as_bytes(),
    );
    let bearer = format!("Bearer {token}");
    for i in 0..TASKS {
        let body = json!({ "title": format!("Task {i}"), "priority": format!("P{}", 1 + i % 4),
            "due_at": format!("2026-03-{:02}T09:00:00Z", 1 + i % 28) });
        let req = http::Request::post("/api/tasks")
            .header("authorization", &bearer)
            .header("content-type", "application/json")
            .body(body.to_string().into_bytes())?;
        let resp = spindle_api::tasks_api(&ctx, &verifier, req);
        ensure!(resp.status() == 201, "seeding failed: {}", resp.status());
    }

    let api_request = || -> Result<Request> {
        Ok(http::Request::get(format!("/api/tasks?limit={PAGE}"))
            .header("authorization", &bearer)
            .body(Vec::new())?)
    };
    let mcp_body = json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/call",
        "params": { "name": "list_tasks", "arguments": { "limit": PAGE },
            "_meta": { "io.modelcontextprotocol/protocolVersion": "2026-07-28",
                       "io.modelcontextprotocol/clientCapabilities": {} } } })
    .to_string()
    .into_bytes();
    let mcp_request = || -> Result<Request> {
        Ok(http::Request::post("/mcp")
            .header("authorization", &bearer)
            .header("content-type", "application/json")
            .header("mcp-protocol-version", "2026-07-28")
            .header("mcp-method", "tools/call")
            .header("mcp-name", "list_tasks")
            .body(mcp_body.clone())?)
    };
    // Both answer the same page.
    let api_page: Value =
        serde_json::from_slice(spindle_api::tasks_api(&ctx, &verifier, api_request()?).body())?;
    let mcp_reply: Value =
        serde_json::from_slice(spindle_mcp::serve(&ctx, &verifier, mcp_request()?).body())?;
    ensure!(
        mcp_reply["result"]["structuredContent"] == api_page,
        "MCP and the API disagree: {mcp_reply}"
    );

    header(&format!(
        "One page of {PAGE} tasks (user with {TASKS}), in process, HS256 token (native, release)"
    ));
    row(
        "GET /api/tasks (baseline)",
        &measure(HTTP_SAMPLES, || {
            let resp = spindle_api::tasks_api(&ctx, &verifier, api_request()?);
            ensure!(resp.status() == 200);
            Ok(())
        })?,
    );
    row(
        "POST /mcp tools/call list_tasks",
        &measure(HTTP_SAMPLES, || {
            let resp = spindle_mcp::serve(&ctx, &verifier, mcp_request()?);
            ensure!(resp.status() == 200);
            Ok(())
        })?,
    );
    row(
        "POST /mcp tools/list (schemas from OpenAPI)",
        &measure(HTTP_SAMPLES, || {
            let body = json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/list",
                "params": { "_meta": { "io.modelcontextprotocol/protocolVersion": "2026-07-28",
                    "io.modelcontextprotocol/clientCapabilities": {} } } });
            let req = http::Request::post("/mcp")
                .header("authorization", &bearer)
                .header("content-type", "application/json")
                .header("mcp-protocol-version", "2026-07-28")
                .header("mcp-method", "tools/list")
                .body(body.to_string().into_bytes())?;
            let resp = spindle_mcp::serve(&ctx, &verifier, req);
            ensure!(resp.status() == 200);
            Ok(())
        })?,
    );
    Ok(())
}
