//! [`SpinPublisher`]: the [`Publisher`] port (PUBLISH, INCR, GET) over Spin's
//! outbound Redis.

use std::cell::RefCell;

use crate::address::Address;
use spin_sdk::redis;
use spindle_ports::{PublishError, Publisher};

/// Publishes to Redis through Spin, opening the connection on the first publish and
/// keeping it for the rest of the request (after an error it is reopened).
pub struct SpinPublisher {
    address: Address,
    connection: RefCell<Option<redis::Connection>>,
}

impl std::fmt::Debug for SpinPublisher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The address may carry a password.
        f.debug_struct("SpinPublisher").finish_non_exhaustive()
    }
}

impl SpinPublisher {
    /// A publisher for the `redis://host:port` held by the Spin variable
    /// `variable` (its host listed in the component's `allowed_outbound_hosts`);
    /// nothing is read or opened until the first command.
    pub fn from_variable(variable: &'static str) -> SpinPublisher {
        SpinPublisher {
            address: Address::from_variable(variable),
            connection: RefCell::new(None),
        }
    }
}

impl SpinPublisher {
    /// Runs `command` on the connection (opening it first if needed); after any
    /// error the connection is dropped, so the next call reopens it.
    fn run<T>(
        &self,
        target: &str,
        name: &str,
        command: impl FnOnce(&redis::Connection) -> Result<T, redis::Error>,
    ) -> Result<T, PublishError> {
        let mut slot = self.connection.borrow_mut();
        let result = match slot.as_ref() {
            Some(connection) => Ok(connection),
            None => redis::Connection::open(self.address.get())
                .map(|connection| &*slot.insert(connection))
                .map_err(|err| format!("cannot open the Redis connection: {}", describe(&err))),
        }
        .and_then(|connection| {
            command(connection).map_err(|err| format!("{name} failed: {}", describe(&err)))
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

impl Publisher for SpinPublisher {
    fn publish(&self, channel: &str, payload: &[u8]) -> Result<(), PublishError> {
        self.run(channel, "PUBLISH", |c| c.publish(channel, payload))
    }

    fn bump(&self, key: &str) -> Result<(), PublishError> {
        self.run(key, "INCR", |c| c.incr(key)).map(drop)
    }

    fn counter(&self, key: &str) -> Result<i64, PublishError> {
        let raw = self.run(key, "GET", |c| c.get(key))?;
        let Some(raw) = raw else { return Ok(0) };
        std::str::from_utf8(&raw)
            .ok()
            .and_then(|text| text.parse().ok())
            .ok_or_else(|| PublishError {
                channel: key.to_owned(),
                reason: "the counter does not hold a number".to_owned(),
            })
    }
}

/// A Spin Redis error as a sentence that says what to check.
pub(crate) fn describe(err: &redis::Error) -> String {
    match err {
        redis::Error::InvalidAddress => {
            "invalid address: expected redis://host:port, and the host must be in the \
             component's allowed_outbound_hosts"
                .to_owned()
        }
        redis::Error::TooManyConnections => {
            "too many open Redis connections in this instance".to_owned()
        }
        redis::Error::TypeError => "Redis replied with an unexpected type".to_owned(),
        redis::Error::Other(message) => message.clone(),
    }
}
