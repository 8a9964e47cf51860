//! `spindle-migrate <db_url>`: applies every pending migration under
//! `migrations/` to the database at `<db_url>` and prints what it did.
//!
//! The address must say `sslmode=disable` (as Spin needs for a local server),
//! e.g. `postgres://postgres@127.0.0.1:5432/spindle?sslmode=disable`.

use std::process::ExitCode;

use anyhow::{Context, Result};
use spindle_native::PgDb;
use spindle_storage::migrations;

const USAGE: &str = "usage: spindle-migrate <db_url>

Applies the pending migrations, e.g.
  spindle-migrate 'postgres://postgres@127.0.0.1:5432/spindle?sslmode=disable'";

fn run(url: &str) -> Result<()> {
    // The address may hold a password: it is never printed.
    let db = PgDb::connect(url).context("cannot connect to the database")?;
    let report = migrations::migrate(&db).context("migrating failed")?;
    for name in &report.applied {
        println!("applied {name}");
    }
    if report.applied.is_empty() {
        println!(
            "database is up to date ({} migrations already applied)",
            report.already_applied.len()
        );
    } else {
        println!(
            "{} applied, {} already applied",
            report.applied.len(),
            report.already_applied.len()
        );
    }
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let url = match args.as_slice() {
        [flag] if flag == "-h" || flag == "--help" => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        [url] => url.clone(),
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(&url) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("spindle-migrate: {err:#}");
            ExitCode::FAILURE
        }
    }
}
