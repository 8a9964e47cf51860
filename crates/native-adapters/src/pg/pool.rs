//! [`PgPool`] and [`PooledDb`]: sessions that take a client from a bounded pool,
//! the way each `spin_sdk::pg4::Connection` takes one from Spin's host.
//!
//! Spin 3.6 keeps one deadpool-postgres pool of 64 clients per address per process
//! (`CONNECTION_POOL_SIZE` in `crates/factor-outbound-pg/src/client.rs`); a request
//! that opens a connection while all 64 are out waits, without a time limit, until
//! one comes back, and every client handed out again is first recycled with
//! deadpool's `Clean` statements, one round trip. This pool does the same, so a
//! test or benchmark sees what a busy Spin process sees: requests queueing behind
//! whatever holds the clients.

use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

use spindle_ports::{Db, DbError, Param, Rows};

/// How many clients Spin's host keeps per database address per process.
pub const SPIN_POOL_SIZE: usize = 64;

/// What deadpool-postgres runs on a client before handing it out again
/// (`RecyclingMethod::Clean`), as one simple-query round trip.
const CLEAN: &str = "CLOSE ALL; SET SESSION AUTHORIZATION DEFAULT; RESET ALL; UNLISTEN *; \
                     SELECT pg_advisory_unlock_all(); DISCARD TEMP; DISCARD SEQUENCES;";

/// At most `size` connections to one address, shared by the sessions made with
/// [`PgPool::session`].
pub struct PgPool {
    config: postgres::Config,
    size: usize,
    state: Mutex<State>,
    returned: Condvar,
}

struct State {
    idle: Vec<postgres::Client>,
    /// Clients that exist, idle or handed out.
    open: usize,
}

impl std::fmt::Debug for PgPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The address may carry a password.
        f.debug_struct("PgPool")
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

impl PgPool {
    /// A pool of at most `size` connections to `url` (checked as
    /// [`crate::PgDb::connect`] checks it). Nothing connects until a session runs
    /// a statement.
    pub fn new(url: &str, size: usize) -> Result<Arc<PgPool>, DbError> {
        Ok(Arc::new(PgPool {
            config: super::parse_address(url)?,
            size: size.max(1),
            state: Mutex::new(State {
                idle: Vec::new(),
                open: 0,
            }),
            returned: Condvar::new(),
        }))
    }

    /// A new session (one request's `Connection`): it takes a client on its first
    /// statement and gives it back when released or dropped.
    pub fn session(self: &Arc<Self>) -> PooledDb {
        PooledDb {
            pool: Arc::clone(self),
            client: Mutex::new(None),
        }
    }

    /// How many clients are handed out right now.
    pub fn in_use(&self) -> usize {
        let state = self.state();
        state.open - state.idle.len()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A client: an idle one (recycled first), a new one while under the limit,
    /// or else the next one given back, however long that takes.
    fn take(&self) -> Result<postgres::Client, DbError> {
        let mut state = self.state();
        loop {
            if let Some(mut client) = state.idle.pop() {
                drop(state);
                if client.batch_execute(CLEAN).is_ok() {
                    return Ok(client);
                }
                // A broken client is dropped, as deadpool does; try again.
                state = self.state();
                state.open -= 1;
                continue;
            }
            if state.open < self.size {
                state.open += 1;
                drop(state);
                return super::open(&self.config).inspect_err(|_| {
                    self.state().open -= 1;
                    self.returned.notify_one();
                });
            }
            state = self
                .returned
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    fn give_back(&self, client: postgres::Client) {
        let mut state = self.state();
        if client.is_closed() {
            state.open -= 1;
        } else {
            state.idle.push(client);
        }
        drop(state);
        self.returned.notify_one();
    }
}

/// One session on a [`PgPool`]: like [`crate::PgDb`], but its client comes from
/// the pool on the first statement and goes back on [`Db::release`] or drop.
pub struct PooledDb {
    pool: Arc<PgPool>,
    client: Mutex<Option<postgres::Client>>,
}

impl std::fmt::Debug for PooledDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PooledDb").finish_non_exhaustive()
    }
}

impl PooledDb {
    fn with_client<T>(
        &self,
        statement: impl FnOnce(&mut postgres::Client) -> Result<T, DbError>,
    ) -> Result<T, DbError> {
        let mut slot = self.client.lock().unwrap_or_else(PoisonError::into_inner);
        let client = match slot.as_mut() {
            Some(client) => client,
            None => slot.insert(self.pool.take()?),
        };
        statement(client)
    }
}

impl Db for PooledDb {
    fn query(&self, sql: &str, params: &[Param]) -> Result<Rows, DbError> {
        self.with_client(|client| super::query(client, sql, params))
    }

    fn execute(&self, sql: &str, params: &[Param]) -> Result<u64, DbError> {
        self.with_client(|client| super::execute(client, sql, params))
    }

    fn release(&self) {
        let taken = self
            .client
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(client) = taken {
            self.pool.give_back(client);
        }
    }
}

impl Drop for PooledDb {
    fn drop(&mut self) {
        self.release();
    }
}
