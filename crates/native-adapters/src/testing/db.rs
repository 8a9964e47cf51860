//! [`TestDb`]: a fresh, randomly named, migrated database per test.

use spindle_ports::Db;

use crate::PgDb;

/// The maintenance database on the machine's Postgres, used to create and drop
/// test databases. Override with `SPINDLE_TEST_PG_ADMIN_URL`.
const DEFAULT_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable";

/// A database that exists for one test: created under a random name
/// (`spindle_test_<hex>`), migrated with Spindle's own migrations, and dropped when
/// the value is dropped, so tests run in parallel without seeing each other's rows.
///
/// Its helpers panic with a message saying what to fix, since a test cannot go on
/// without its database.
#[derive(Debug)]
pub struct TestDb {
    admin_url: String,
    name: String,
    url: String,
}

impl TestDb {
    /// A fresh database with every migration applied.
    pub fn new() -> TestDb {
        let db = TestDb::unmigrated();
        if let Err(err) = spindle_storage::migrations::migrate(&db.connect()) {
            panic!("migrating the test database {} failed: {err}", db.name);
        }
        db
    }

    /// A fresh, empty database: for testing the migrations themselves, or SQL that
    /// needs no schema.
    pub fn unmigrated() -> TestDb {
        let admin_url = std::env::var("SPINDLE_TEST_PG_ADMIN_URL")
            .ok()
            .filter(|url| !url.is_empty())
            .unwrap_or_else(|| DEFAULT_ADMIN_URL.to_owned());
        let name = format!("spindle_test_{}", super::random_suffix());
        let url = with_database(&admin_url, &name).unwrap_or_else(|reason| panic!("{reason}"));
        let admin = PgDb::connect(&admin_url).unwrap_or_else(|err| {
            panic!(
                "cannot reach the Postgres that tests use ({err}); start it, or point \
                 SPINDLE_TEST_PG_ADMIN_URL at one (a postgres:// URL ending in \
                 ?sslmode=disable, for a role allowed to create databases)"
            )
        });
        // The name is generated above from hex digits, so it is safe to splice in.
        if let Err(err) = admin.execute(&format!("CREATE DATABASE \"{name}\""), &[]) {
            panic!("cannot create the test database {name}: {err}");
        }
        TestDb {
            admin_url,
            name,
            url,
        }
    }

    /// The database's name (`spindle_test_<hex>`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The address of this database, ending in `?sslmode=disable` as Spin needs it.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// A new session on this database. Each call opens its own connection, so a test
    /// can run concurrent sessions (two transactions racing for the same row).
    pub fn connect(&self) -> PgDb {
        PgDb::connect(&self.url).unwrap_or_else(|err| {
            panic!("cannot connect to the test database {}: {err}", self.name)
        })
    }
}

impl Default for TestDb {
    fn default() -> Self {
        TestDb::new()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        // Best effort: a database left behind is harmless, and failing here would turn
        // one failed assertion into an abort. `FORCE` ends sessions the test left open.
        if let Ok(admin) = PgDb::connect(&self.admin_url) {
            let _ = admin.execute(
                &format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name),
                &[],
            );
        }
    }
}

/// `url` with its database (the URL path) replaced by `name`, keeping the query.
fn with_database(url: &str, name: &str) -> Result<String, String> {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_start = base.find("://").map(|i| i + 3).ok_or_else(|| {
        "SPINDLE_TEST_PG_ADMIN_URL must be a postgres:// URL (key=value strings are not \
         supported here)"
            .to_owned()
    })?;
    let server = match base[authority_start..].find('/') {
        Some(slash) => &base[..authority_start + slash],
        None => base,
    };
    Ok(match query {
        Some(query) => format!("{server}/{name}?{query}"),
        None => format!("{server}/{name}"),
    })
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn the_database_of_an_address_is_replaced_and_its_options_kept() {
        assert_eq!(
            with_database("postgres://u:p@h:5432/postgres?sslmode=disable", "t").as_deref(),
            Ok("postgres://u:p@h:5432/t?sslmode=disable")
        );
        assert_eq!(
            with_database("postgres://h", "t").as_deref(),
            Ok("postgres://h/t")
        );
        assert!(with_database("host=h dbname=postgres", "t").is_err());
    }
}
