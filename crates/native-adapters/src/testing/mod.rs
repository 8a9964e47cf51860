//! Test support: a fresh Postgres database per test, helpers to listen on Redis, and an
//! HTTP receiver on loopback.
//!
//! Both talk to the machine's real servers (the same ones `make dev` uses), so every
//! test exercises the SQL and the messages that run in Spin, end to end.

mod counting;
mod db;
mod receiver;
mod redis;

pub use counting::CountingDb;
pub use db::TestDb;
pub use receiver::{Received, Receiver, Reply};
pub use redis::{Subscription, TestRedis};

/// Sixteen random hex digits: enough that parallel tests never pick the same name.
fn random_suffix() -> String {
    format!("{:016x}", rand::random::<u64>())
}
