//! [`PgDb`]: the [`Db`] port over the `postgres` crate, behaving like Spin's host.
//!
//! Spin 3.6 implements `spin:postgres/postgres@4.0.0` on tokio-postgres, the driver
//! underneath the `postgres` crate. This adapter reproduces its choices (which Rust type
//! each parameter binds as, which Rust type each column is read through, how errors are
//! reported, which addresses connect) so that SQL that fails in Spin fails in native tests.

mod errors;
mod params;
mod pool;
mod values;

pub use pool::{PgPool, PooledDb, SPIN_POOL_SIZE};

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use postgres::config::SslMode;
use postgres::types::ToSql;
use postgres::NoTls;
use spindle_ports::{Db, DbError, Param, Rows};

use errors::{describe, query_error};
use params::{to_sql_params, SqlParam};

/// How long [`PgDb::connect`] waits for the server when the address sets no
/// `connect_timeout`, so a test against a stopped Postgres fails instead of hanging.
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// One Postgres session, like one `spin_sdk::pg4::Connection`: statements run in
/// order on the same connection, so `BEGIN` … `COMMIT` across calls is one transaction.
///
/// The client sits behind a `Mutex` because [`Db`] methods take `&self`; it also makes
/// a `PgDb` shareable between threads (statements from different threads interleave on
/// the one session, so give each concurrent actor its own `PgDb`).
pub struct PgDb {
    client: Mutex<postgres::Client>,
}

impl std::fmt::Debug for PgDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgDb").finish_non_exhaustive()
    }
}

impl PgDb {
    /// Connects to `url` (a `postgres://` URL or a `key=value` string).
    ///
    /// Spin's host uses TLS, verifying the certificate, unless the address says
    /// `sslmode=disable`; a local Postgres address without it fails in Spin. This adapter
    /// never uses TLS, so it refuses such an address rather than let a test pass on an
    /// address that Spin would reject. The address is never echoed in errors, since it
    /// may hold a password.
    pub fn connect(url: &str) -> Result<PgDb, DbError> {
        let config = parse_address(url)?;
        Ok(PgDb {
            client: Mutex::new(open(&config)?),
        })
    }

    fn client(&self) -> MutexGuard<'_, postgres::Client> {
        // A panic while holding the lock leaves the session itself usable (or closed,
        // which the next statement reports), so poisoning carries no information.
        self.client.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Parses and checks an address as [`PgDb::connect`] describes.
fn parse_address(url: &str) -> Result<postgres::Config, DbError> {
    let mut config: postgres::Config = url.parse().map_err(|err: postgres::Error| {
        DbError::Connection(format!(
            "the Postgres address cannot be parsed ({}); expected \
                 postgres://user:password@host:port/dbname?sslmode=disable",
            describe(&err)
        ))
    })?;
    if config.get_ssl_mode() != SslMode::Disable {
        return Err(DbError::Connection(
            "the Postgres address does not say sslmode=disable: Spin would connect with \
                 TLS and verify the server certificate, which a local Postgres does not pass; \
                 add `?sslmode=disable` to a local address (the native adapter never uses TLS)"
                .to_owned(),
        ));
    }
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(DEFAULT_CONNECT_TIMEOUT);
    }
    Ok(config)
}

/// Opens one connection.
fn open(config: &postgres::Config) -> Result<postgres::Client, DbError> {
    config.connect(NoTls).map_err(|err| {
        DbError::Connection(format!(
            "{}; is Postgres running and does the address name an existing database?",
            describe(&err)
        ))
    })
}

fn as_refs(params: &[SqlParam]) -> Vec<&(dyn ToSql + Sync)> {
    params.iter().map(|p| p.as_ref()).collect()
}

impl Db for PgDb {
    fn query(&self, sql: &str, params: &[Param]) -> Result<Rows, DbError> {
        query(&mut self.client(), sql, params)
    }

    fn execute(&self, sql: &str, params: &[Param]) -> Result<u64, DbError> {
        execute(&mut self.client(), sql, params)
    }
}

/// Runs a query. As in Spin, the column names come from the first row, so a query
/// that returns no rows has no columns either.
fn query(client: &mut postgres::Client, sql: &str, params: &[Param]) -> Result<Rows, DbError> {
    // Spin reports a parameter it cannot convert as `bad-parameter` from `query`…
    let params = to_sql_params(params).map_err(DbError::BadParameter)?;
    let rows = client
        .query(sql, &as_refs(&params))
        .map_err(|err| query_error(&err))?;
    let columns = rows
        .first()
        .map(|row| row.columns().iter().map(|c| c.name().to_owned()).collect())
        .unwrap_or_default();
    let rows = rows
        .iter()
        .map(values::read_row)
        .collect::<Result<_, _>>()?;
    Ok(Rows { columns, rows })
}

fn execute(client: &mut postgres::Client, sql: &str, params: &[Param]) -> Result<u64, DbError> {
    // …and as `value-conversion-failed` from `execute`.
    let params = to_sql_params(params).map_err(DbError::Conversion)?;
    client
        .execute(sql, &as_refs(&params))
        .map_err(|err| query_error(&err))
}
