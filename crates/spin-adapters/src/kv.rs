//! [`SpinKv`]: the [`KeyValue`] port over Spin's outbound Redis.

use std::cell::RefCell;
use std::time::Duration;

use crate::address::Address;
use spin_sdk::redis::{self, RedisParameter, RedisResult};
use spindle_ports::{ttl_seconds, KeyValue, KvError};

/// `GET` and `SET … EX [NX]` through Spin, on a connection opened on first use and
/// kept for the rest of the request (reopened after an error).
pub struct SpinKv {
    address: Address,
    connection: RefCell<Option<redis::Connection>>,
}

impl std::fmt::Debug for SpinKv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The address may carry a password.
        f.debug_struct("SpinKv").finish_non_exhaustive()
    }
}

impl SpinKv {
    /// A store at the `redis://host:port` held by the Spin variable `variable`
    /// (its host in the component's `allowed_outbound_hosts`); nothing is read or
    /// opened until first use.
    pub fn from_variable(variable: &'static str) -> SpinKv {
        SpinKv {
            address: Address::from_variable(variable),
            connection: RefCell::new(None),
        }
    }

    fn with<T>(
        &self,
        op: impl FnOnce(&redis::Connection) -> Result<T, redis::Error>,
    ) -> Result<T, KvError> {
        let mut slot = self.connection.borrow_mut();
        let result = match slot.as_ref() {
            Some(connection) => Ok(connection),
            None => redis::Connection::open(self.address.get()).map(|c| &*slot.insert(c)),
        }
        .and_then(op);
        result.map_err(|err| {
            *slot = None;
            KvError(crate::publisher::describe(&err))
        })
    }

    fn set_ex(
        &self,
        key: &str,
        value: &[u8],
        ttl: Duration,
        nx: bool,
    ) -> Result<Vec<RedisResult>, KvError> {
        let mut arguments = vec![
            RedisParameter::Binary(key.as_bytes().to_vec()),
            RedisParameter::Binary(value.to_vec()),
            RedisParameter::Binary(b"EX".to_vec()),
            RedisParameter::Int64(ttl_seconds(ttl)),
        ];
        if nx {
            arguments.push(RedisParameter::Binary(b"NX".to_vec()));
        }
        self.with(|c| c.execute("SET", &arguments))
    }
}

impl KeyValue for SpinKv {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, KvError> {
        self.with(|c| c.get(key))
    }

    fn set(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), KvError> {
        self.set_ex(key, value, ttl, false).map(drop)
    }

    fn set_if_absent(&self, key: &str, value: &[u8], ttl: Duration) -> Result<bool, KvError> {
        // `SET … NX` answers OK when it set the key, nil when the key existed.
        let reply = self.set_ex(key, value, ttl, true)?;
        Ok(reply.iter().any(|r| matches!(r, RedisResult::Status(_))))
    }
}
