//! Mapping driver errors to [`DbError`] the way Spin's host reports them
//! (`query_failed` in Spin 3.6 `crates/factor-outbound-pg/src/client.rs`).

use std::error::Error as _;

use spindle_ports::DbError;

/// A refused statement carries its SQLSTATE; a dead connection is a
/// [`DbError::Connection`]; anything else (a parameter of the wrong type, a column
/// that cannot be decoded) is a query failure without a code, as in Spin.
pub(crate) fn query_error(err: &postgres::Error) -> DbError {
    if let Some(db) = err.as_db_error() {
        return DbError::Query {
            code: db.code().code().to_owned(),
            message: db.message().to_owned(),
        };
    }
    if is_connection_failure(err) {
        return DbError::Connection(format!(
            "{}; the session is lost (and any open transaction with it): open a new connection",
            describe(err)
        ));
    }
    DbError::Query {
        code: String::new(),
        message: describe(err),
    }
}

fn is_connection_failure(err: &postgres::Error) -> bool {
    err.is_closed()
        || err
            .source()
            .is_some_and(|source| source.downcast_ref::<std::io::Error>().is_some())
}

/// The error and its causes on one line: the driver's own `Display` says only
/// "error serializing parameter 0" and keeps the useful part in the source.
pub(crate) fn describe(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
