//! [`RedisKv`]: the [`KeyValue`] port over the `redis` crate.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use spindle_ports::{ttl_seconds, KeyValue, KvError};

/// Connecting, sending and waiting for a reply may each take this long: the values
/// kept here are caches, and a request should not hang on a dead Redis.
const TIMEOUT: Duration = Duration::from_secs(2);

/// `GET` and `SET … EX [NX]` on one kept connection, opened on first use and
/// dropped after any error (the next call reconnects), like [`crate::RedisPublisher`].
pub struct RedisKv {
    url: String,
    connection: Mutex<Option<redis::Connection>>,
}

impl std::fmt::Debug for RedisKv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The address may carry a password.
        f.debug_struct("RedisKv").finish_non_exhaustive()
    }
}

impl RedisKv {
    pub fn new(url: impl Into<String>) -> RedisKv {
        RedisKv {
            url: url.into(),
            connection: Mutex::new(None),
        }
    }

    fn run<T: redis::FromRedisValue>(&self, command: &redis::Cmd) -> Result<T, KvError> {
        let mut slot = self
            .connection
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let result = match slot.as_mut() {
            Some(connection) => Ok(connection),
            None => connect(&self.url).map(|connection| slot.insert(connection)),
        }
        .and_then(|connection| command.query::<T>(connection).map_err(|e| e.to_string()));
        result.map_err(|reason| {
            *slot = None;
            KvError(reason)
        })
    }
}

fn connect(url: &str) -> Result<redis::Connection, String> {
    let client = redis::Client::open(url)
        .map_err(|err| format!("the Redis address cannot be parsed ({err})"))?;
    let connection = client
        .get_connection_with_timeout(TIMEOUT)
        .map_err(|err| format!("cannot connect to Redis ({err})"))?;
    connection
        .set_read_timeout(Some(TIMEOUT))
        .and_then(|()| connection.set_write_timeout(Some(TIMEOUT)))
        .map_err(|err| format!("cannot set timeouts on the Redis connection: {err}"))?;
    Ok(connection)
}

impl KeyValue for RedisKv {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, KvError> {
        self.run(redis::cmd("GET").arg(key))
    }

    fn set(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), KvError> {
        self.run(
            redis::cmd("SET")
                .arg(key)
                .arg(value)
                .arg("EX")
                .arg(ttl_seconds(ttl)),
        )
    }

    fn set_if_absent(&self, key: &str, value: &[u8], ttl: Duration) -> Result<bool, KvError> {
        let reply: Option<String> = self.run(
            redis::cmd("SET")
                .arg(key)
                .arg(value)
                .arg("EX")
                .arg(ttl_seconds(ttl))
                .arg("NX"),
        )?;
        Ok(reply.is_some())
    }
}
