//! The key-value port: a few bytes kept across requests, with an expiry.
//!
//! Spin keeps nothing in memory between requests, so whatever must outlive one (an
//! identity provider's signing keys, a "tried a moment ago" marker) lives in Redis.
//! The operations are the Redis commands `GET`, `SET … EX` and `SET … NX EX`.

use std::time::Duration;

/// Keeps values across requests and replicas (Redis).
pub trait KeyValue {
    /// The value at `key`, or `None` when there is none (or it expired).
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, KvError>;

    /// Stores `value` at `key` for `ttl`, replacing any earlier value.
    fn set(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), KvError>;

    /// Stores `value` at `key` for `ttl` only when `key` holds nothing; `true` when
    /// this call stored it. Of several replicas racing, exactly one gets `true`.
    fn set_if_absent(&self, key: &str, value: &[u8], ttl: Duration) -> Result<bool, KvError>;
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the key-value store failed: {0}")]
pub struct KvError(pub String);

/// A `ttl` as whole seconds for `EX`: at least one, since Redis refuses `EX 0`.
pub fn ttl_seconds(ttl: Duration) -> i64 {
    i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX).max(1)
}
