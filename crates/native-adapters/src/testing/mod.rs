//! Test support: a fresh Postgres database per test, helpers to listen on Redis, an
//! HTTP receiver on loopback, a loopback HTTP server in front of a handler, and an
//! identity provider publishing its keys ([`provider`]).
//!
//! Both talk to the machine's real servers (the same ones `make dev` uses), so every
//! test exercises the SQL and the messages that run in Spin, end to end.

mod counting;
mod db;
mod loopback;
pub mod provider;
mod receiver;
mod redis;

pub use counting::CountingDb;
pub use db::TestDb;
pub use loopback::serve_http;
pub use receiver::{Received, Receiver, Reply};
pub use redis::{Subscription, TestRedis};

/// Sixteen random hex digits: enough that parallel tests never pick the same name.
fn random_suffix() -> String {
    format!("{:016x}", rand::random::<u64>())
}
