//! Ports: the narrow interfaces between Spindle's logic and the platform.
//!
//! Every type here mirrors what Spin's `spin:postgres/postgres@4.0.0` interface can carry,
//! so code written against these traits behaves the same under Spin's host and under the
//! native adapters used by tests.

mod config;
mod db;
mod http;
mod kv;

pub use config::MapConfig;
pub use db::{Db, DbError, Param, Row, Rows, Value};
pub use http::{
    HttpClient, HttpError, HttpRequest, HttpResponse, Method, Timeouts, MAX_RESPONSE_BYTES,
};
pub use kv::{ttl_seconds, KeyValue, KvError};

/// Publishes a message on a pub/sub channel (Redis `PUBLISH`).
///
/// It also keeps counters on the same server (Redis `INCR` / `GET`): small
/// signals that something changed, which a waiting request can watch without
/// holding a database connection (see the change feed's long-poll).
pub trait Publisher {
    fn publish(&self, channel: &str, payload: &[u8]) -> Result<(), PublishError>;

    /// Adds one to the counter `key` (created at 0).
    fn bump(&self, key: &str) -> Result<(), PublishError>;

    /// The counter `key`; 0 when it was never bumped.
    fn counter(&self, key: &str) -> Result<i64, PublishError>;
}

/// What went wrong publishing to a channel or touching a counter (`channel`
/// then names the counter's key).
#[derive(Debug, thiserror::Error)]
#[error("publishing to channel {channel:?} failed: {reason}")]
pub struct PublishError {
    pub channel: String,
    pub reason: String,
}

/// Wall-clock time, in microseconds since the Unix epoch.
///
/// Components read the system clock; tests pin it to make due dates and
/// "overdue" deterministic.
pub trait Clock {
    fn now_micros(&self) -> i64;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_micros(&self) -> i64 {
        let since_epoch = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        i64::try_from(since_epoch.as_micros()).unwrap_or(i64::MAX)
    }
}

/// Named configuration values (Spin variables).
pub trait Config {
    /// The value of `name`, or `None` when it is not set or empty.
    fn get(&self, name: &str) -> Option<String>;
}
