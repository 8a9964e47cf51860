//! [`RedisPublisher`]: the [`Publisher`] port over the `redis` crate.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use spindle_ports::{PublishError, Publisher};

/// How long connecting, sending and waiting for the reply may each take. Publishing
/// happens after a commit, on a request path; the outbox relay retries whatever fails,
/// so a dead Redis must cost a request two seconds, not a hang.
const TIMEOUT: Duration = Duration::from_secs(2);

/// Publishes with `PUBLISH channel payload`, and keeps counters with `INCR` and
/// `GET`, on one kept connection.
///
/// It connects on the first publish (constructing one never touches the network) and
/// keeps the connection; after any error it drops it, so the next publish reconnects
/// instead of reusing a socket in an unknown state.
pub struct RedisPublisher {
    url: String,
    connection: Mutex<Option<redis::Connection>>,
}

impl std::fmt::Debug for RedisPublisher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The address may carry a password.
        f.debug_struct("RedisPublisher").finish_non_exhaustive()
    }
}

impl RedisPublisher {
    /// A publisher for `url` (`redis://host:port`); nothing is checked until the first
    /// publish, as with Spin's lazily opened connection.
    pub fn new(url: impl Into<String>) -> RedisPublisher {
        RedisPublisher {
            url: url.into(),
            connection: Mutex::new(None),
        }
    }

    fn connect(&self) -> Result<redis::Connection, String> {
        let client = redis::Client::open(self.url.as_str()).map_err(|err| {
            format!("the Redis address cannot be parsed ({err}); expected redis://host:port")
        })?;
        let connection = client
            .get_connection_with_timeout(TIMEOUT)
            .map_err(|err| format!("cannot connect to Redis ({err}); is it running?"))?;
        connection
            .set_read_timeout(Some(TIMEOUT))
            .and_then(|()| connection.set_write_timeout(Some(TIMEOUT)))
            .map_err(|err| format!("cannot set timeouts on the Redis connection: {err}"))?;
        Ok(connection)
    }
}

impl RedisPublisher {
    /// Runs `command` on the kept connection (connecting first if needed); after
    /// any error the connection is dropped, so the next call reconnects.
    fn run<T: redis::FromRedisValue>(
        &self,
        target: &str,
        command: &redis::Cmd,
        name: &str,
    ) -> Result<T, PublishError> {
        let mut slot = self
            .connection
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let result = match slot.as_mut() {
            Some(connection) => Ok(connection),
            None => self.connect().map(|connection| slot.insert(connection)),
        }
        .and_then(|connection| {
            command
                .query::<T>(connection)
                .map_err(|err| format!("{name} failed: {err}"))
        });
        result.map_err(|reason| {
            *slot = None;
            PublishError {
                channel: target.to_owned(),
                reason,
            }
        })
    }
}

impl Publisher for RedisPublisher {
    fn publish(&self, channel: &str, payload: &[u8]) -> Result<(), PublishError> {
        self.run::<i64>(
            channel,
            redis::cmd("PUBLISH").arg(channel).arg(payload),
            "PUBLISH",
        )
        .map(drop)
    }

    fn bump(&self, key: &str) -> Result<(), PublishError> {
        self.run::<i64>(key, redis::cmd("INCR").arg(key), "INCR")
            .map(drop)
    }

    fn counter(&self, key: &str) -> Result<i64, PublishError> {
        self.run::<Option<i64>>(key, redis::cmd("GET").arg(key), "GET")
            .map(Option::unwrap_or_default)
    }
}
