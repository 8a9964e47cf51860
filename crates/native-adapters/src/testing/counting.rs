//! [`CountingDb`]: how many statements a request sends.

use std::cell::RefCell;

use spindle_ports::{Db, DbError, Param, Rows};

/// Passes every statement through to `inner` and records its SQL, so a test or
/// benchmark can say how many round trips a request costs (in Spin, each
/// statement is one more prepare and execute on a pooled connection).
pub struct CountingDb<'a, D> {
    inner: &'a D,
    statements: RefCell<Vec<String>>,
}

impl<'a, D: Db> CountingDb<'a, D> {
    pub fn new(inner: &'a D) -> Self {
        CountingDb {
            inner,
            statements: RefCell::new(Vec::new()),
        }
    }

    /// The statements sent so far, oldest first, and forgets them.
    pub fn take(&self) -> Vec<String> {
        self.statements.take()
    }

    fn record(&self, sql: &str) {
        self.statements.borrow_mut().push(sql.to_owned());
    }
}

impl<D: Db> Db for CountingDb<'_, D> {
    fn query(&self, sql: &str, params: &[Param]) -> Result<Rows, DbError> {
        self.record(sql);
        self.inner.query(sql, params)
    }

    fn execute(&self, sql: &str, params: &[Param]) -> Result<u64, DbError> {
        self.record(sql);
        self.inner.execute(sql, params)
    }

    fn release(&self) {
        self.inner.release();
    }
}
