//! The migration runner: numbered SQL files embedded at build time, applied in
//! order inside one transaction under an advisory lock, each recorded with a
//! checksum so an edited, already-applied file is refused. Then the routines:
//! hot statements kept in the database as functions (see [`Routine`]), written
//! next to the rest of their table's SQL and (re)created whenever their text
//! changes.

use sha2::{Digest, Sha256};
use spindle_ports::{Db, DbError, Param};

/// One migration file.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    pub version: i32,
    pub name: &'static str,
    pub sql: &'static str,
}

impl Migration {
    pub fn checksum(&self) -> String {
        hex_digest(self.sql)
    }
}

fn hex_digest(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Every migration, in order. Adding a file means adding a line here.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "0001_tasks.sql",
        sql: include_str!("../../../migrations/0001_tasks.sql"),
    },
    Migration {
        version: 2,
        name: "0002_events.sql",
        sql: include_str!("../../../migrations/0002_events.sql"),
    },
    Migration {
        version: 3,
        name: "0003_idempotency.sql",
        sql: include_str!("../../../migrations/0003_idempotency.sql"),
    },
    Migration {
        version: 4,
        name: "0004_tag_counts.sql",
        sql: include_str!("../../../migrations/0004_tag_counts.sql"),
    },
    Migration {
        version: 5,
        name: "0005_recurrence.sql",
        sql: include_str!("../../../migrations/0005_recurrence.sql"),
    },
    Migration {
        version: 6,
        name: "0006_reminders.sql",
        sql: include_str!("../../../migrations/0006_reminders.sql"),
    },
    Migration {
        version: 7,
        name: "0007_web_push.sql",
        sql: include_str!("../../../migrations/0007_web_push.sql"),
    },
    Migration {
        version: 8,
        name: "0008_retention.sql",
        sql: include_str!("../../../migrations/0008_retention.sql"),
    },
    Migration {
        version: 9,
        name: "0009_metrics.sql",
        sql: include_str!("../../../migrations/0009_metrics.sql"),
    },
    Migration {
        version: 10,
        name: "0010_reminder_count.sql",
        sql: include_str!("../../../migrations/0010_reminder_count.sql"),
    },
    Migration {
        version: 11,
        name: "0011_outbox_upkeep.sql",
        sql: include_str!("../../../migrations/0011_outbox_upkeep.sql"),
    },
    Migration {
        version: 12,
        name: "0012_reminder_counts.sql",
        sql: include_str!("../../../migrations/0012_reminder_counts.sql"),
    },
];

/// A statement kept in the database as a PL/pgSQL function. Spin's host
/// prepares every statement afresh, so Postgres parses and plans it on every
/// request (more than half of a get-by-id's time in Postgres); the statement a
/// function runs is planned once per connection, and Spin's pool keeps its
/// connections (its recycle does not discard plans). Plans are generic, so the
/// body must be one whose plan does not depend on the values (no `LIKE $1`),
/// and a parameter such as a `LIMIT` does not push Postgres back to planning
/// every call.
#[derive(Debug, Clone)]
pub struct Routine {
    pub name: &'static str,
    /// The argument types, in the order of the body's `$n`: `uuid, text`.
    pub args: String,
    /// What `RETURN QUERY` returns: `TABLE (seq int8)`.
    pub returns: String,
    /// Whether the body writes; a reading routine is `STABLE`.
    pub writes: bool,
    /// One statement that returns rows, its arguments as `$1`, `$2`, ….
    pub body: String,
}

impl Routine {
    /// The `CREATE FUNCTION` statement. Column names in the body win over the
    /// names of the `RETURNS TABLE` columns (`use_column`), so the body reads
    /// exactly as it would as a plain statement.
    pub fn definition(&self) -> String {
        let volatility = if self.writes { "VOLATILE" } else { "STABLE" };
        format!(
            "CREATE FUNCTION {name}({args}) RETURNS {returns}
                LANGUAGE plpgsql {volatility}
                SET plan_cache_mode = force_generic_plan
             AS $routine$
             #variable_conflict use_column
             BEGIN
                RETURN QUERY {body};
             END
             $routine$",
            name = self.name,
            args = self.args,
            returns = self.returns,
            body = self.body,
        )
    }

    fn checksum(&self) -> String {
        hex_digest(&self.definition())
    }

    /// Whether `installed` (name and checksum, as in `schema_routines`) holds
    /// this routine as this build defines it.
    fn is_in(&self, installed: &[(String, String)]) -> bool {
        let checksum = self.checksum();
        installed
            .iter()
            .any(|(name, stored)| name == self.name && *stored == checksum)
    }
}

/// Every routine of this build.
pub fn routines() -> Vec<Routine> {
    crate::tasks::routines()
}

/// Any number, as long as it stays the same: every caller of `migrate` waits on it.
const LOCK_KEY: i64 = 0x0053_5049_4e44_4c45; // "SPINDLE"

#[derive(Debug, thiserror::Error)]
pub enum MigrationError {
    #[error("migration {name} was changed after it was applied (checksum {applied} in the database, {embedded} in this build); restore the file and add a new migration instead")]
    Changed {
        name: String,
        applied: String,
        embedded: String,
    },
    #[error("migration {name} failed: {source}; nothing was applied")]
    Failed { name: String, source: DbError },
    #[error(transparent)]
    Db(#[from] DbError),
}

/// What `migrate` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationReport {
    pub applied: Vec<String>,
    pub already_applied: Vec<String>,
}

/// Where the database stands against this build's migrations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MigrationStatus {
    Current,
    Pending(Vec<String>),
    Changed(String),
}

const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (
    version     integer     PRIMARY KEY,
    name        text        NOT NULL,
    checksum    text        NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now()
)";

const CREATE_ROUTINES_TABLE: &str = "CREATE TABLE IF NOT EXISTS schema_routines (
    name        text        PRIMARY KEY,
    checksum    text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
)";

/// Applies every pending migration. Safe to call from several replicas at once:
/// the second waits for the first, then finds nothing to do.
pub fn migrate(db: &impl Db) -> Result<MigrationReport, MigrationError> {
    db.transaction(|db| {
        db.execute(
            "SELECT pg_advisory_xact_lock($1)",
            &[Param::Int64(LOCK_KEY)],
        )?;
        db.execute(CREATE_TABLE, &[])?;
        let applied = applied(db)?;
        let mut report = MigrationReport {
            applied: Vec::new(),
            already_applied: Vec::new(),
        };
        for migration in MIGRATIONS {
            if let Some((_, checksum)) = applied.iter().find(|(v, _)| *v == migration.version) {
                verify(migration, checksum)?;
                report.already_applied.push(migration.name.to_owned());
                continue;
            }
            for statement in split_statements(migration.sql) {
                db.execute(statement, &[])
                    .map_err(|source| MigrationError::Failed {
                        name: migration.name.to_owned(),
                        source,
                    })?;
            }
            db.execute(
                "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                &[
                    Param::Int32(migration.version),
                    Param::Str(migration.name.to_owned()),
                    Param::Str(migration.checksum()),
                ],
            )?;
            report.applied.push(migration.name.to_owned());
        }
        db.execute(CREATE_ROUTINES_TABLE, &[])?;
        let installed = installed_routines(db)?;
        for routine in routines() {
            let name = format!("routine {}", routine.name);
            if routine.is_in(&installed) {
                report.already_applied.push(name);
                continue;
            }
            // Dropped first: CREATE OR REPLACE cannot change what a function
            // returns, and with other argument types it would add an overload.
            let drop = format!("DROP FUNCTION IF EXISTS {}", routine.name);
            for statement in [drop, routine.definition()] {
                db.execute(&statement, &[])
                    .map_err(|source| MigrationError::Failed {
                        name: name.clone(),
                        source,
                    })?;
            }
            db.execute(
                "INSERT INTO schema_routines (name, checksum) VALUES ($1, $2)
                 ON CONFLICT (name) DO UPDATE SET checksum = excluded.checksum, created_at = now()",
                &[
                    Param::Str(routine.name.to_owned()),
                    Param::Str(routine.checksum()),
                ],
            )?;
            report.applied.push(name);
        }
        Ok(report)
    })
}

/// The routines of this build that are missing from `installed` (name and
/// checksum, as in `schema_routines`) or differ from it, as `routine <name>`.
pub(crate) fn routines_pending(installed: &[(String, String)]) -> Vec<String> {
    routines()
        .into_iter()
        .filter(|r| !r.is_in(installed))
        .map(|r| format!("routine {}", r.name))
        .collect()
}

fn installed_routines(db: &impl Db) -> Result<Vec<(String, String)>, DbError> {
    let rows = db.query("SELECT name, checksum FROM schema_routines", &[])?;
    rows.iter()
        .map(|row| Ok((row.str("name")?, row.str("checksum")?)))
        .collect()
}

/// Compares the database with this build without changing anything.
pub fn status(db: &impl Db) -> Result<MigrationStatus, DbError> {
    let exists = db.query(
        "SELECT to_regclass('schema_migrations') IS NOT NULL AS migrations,
                to_regclass('schema_routines') IS NOT NULL AS routines",
        &[],
    )?;
    let present = |table: &str| -> Result<bool, DbError> {
        Ok(exists
            .first()
            .map(|r| r.bool(table))
            .transpose()?
            .unwrap_or(false))
    };
    let applied = if present("migrations")? {
        applied(db)?
    } else {
        Vec::new()
    };
    let installed = if present("routines")? {
        installed_routines(db)?
    } else {
        Vec::new()
    };
    let mut pending = Vec::new();
    for migration in MIGRATIONS {
        match applied.iter().find(|(v, _)| *v == migration.version) {
            Some((_, checksum)) if *checksum != migration.checksum() => {
                return Ok(MigrationStatus::Changed(migration.name.to_owned()))
            }
            Some(_) => {}
            None => pending.push(migration.name.to_owned()),
        }
    }
    pending.extend(routines_pending(&installed));
    Ok(if pending.is_empty() {
        MigrationStatus::Current
    } else {
        MigrationStatus::Pending(pending)
    })
}

fn applied(db: &impl Db) -> Result<Vec<(i32, String)>, DbError> {
    let rows = db.query(
        "SELECT version, checksum FROM schema_migrations ORDER BY version",
        &[],
    )?;
    rows.iter()
        .map(|row| {
            let version =
                i32::try_from(row.i64("version")?).map_err(|e| DbError::Decode(e.to_string()))?;
            Ok((version, row.str("checksum")?))
        })
        .collect()
}

fn verify(migration: &Migration, applied: &str) -> Result<(), MigrationError> {
    let embedded = migration.checksum();
    if applied == embedded {
        Ok(())
    } else {
        Err(MigrationError::Changed {
            name: migration.name.to_owned(),
            applied: applied.to_owned(),
            embedded,
        })
    }
}

/// Splits a SQL file into statements at top-level semicolons. Both Spin's host
/// and the native driver prepare each statement, and Postgres refuses to
/// prepare several at once. Quotes, dollar-quoted bodies and comments are
/// skipped so a semicolon inside them does not split.
pub fn split_statements(sql: &str) -> Vec<&str> {
    let bytes = sql.as_bytes();
    let mut statements = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\'' | b'"' => {
                let quote = bytes[i];
                i += 1;
                while i < bytes.len() && bytes[i] != quote {
                    i += 1;
                }
            }
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i + 1 < bytes.len() && !(bytes[i] == b'*' && bytes[i + 1] == b'/') {
                    i += 1;
                }
                i += 1;
            }
            b'$' => {
                if let Some(len) = sql[i + 1..].find('$') {
                    let tag = &sql[i..i + len + 2];
                    let is_tag = tag[1..tag.len() - 1]
                        .chars()
                        .all(|c| c.is_alphanumeric() || c == '_');
                    if is_tag {
                        if let Some(end) = sql[i + tag.len()..].find(tag) {
                            i += tag.len() + end + tag.len() - 1;
                        }
                    }
                }
            }
            b';' => {
                push_statement(&mut statements, &sql[start..i]);
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    push_statement(&mut statements, &sql[start..]);
    statements
}

fn push_statement<'a>(statements: &mut Vec<&'a str>, candidate: &'a str) {
    let meaningful = candidate
        .lines()
        .map(|line| line.split("--").next().unwrap_or("").trim())
        .any(|line| !line.is_empty());
    if meaningful {
        statements.push(candidate.trim());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_split_at_top_level_semicolons_only() {
        let sql = "CREATE TABLE a (x text DEFAULT ';'); -- a comment; here\n\
                   CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql;\n\
                   /* block; */ SELECT 2;\n-- trailing comment only\n";
        let statements = split_statements(sql);
        assert_eq!(statements.len(), 3, "{statements:?}");
        assert!(statements[1].contains("SELECT 1;"));
    }

    #[test]
    fn migrations_are_numbered_in_increasing_order() {
        // Numbers are reserved per piece of work, so one may land before a
        // smaller one; they never repeat or go backwards.
        for pair in MIGRATIONS.windows(2) {
            assert!(pair[0].version < pair[1].version, "{pair:?}");
        }
        for m in MIGRATIONS {
            assert!(m.name.starts_with(&format!("{:04}_", m.version)));
        }
    }
}
