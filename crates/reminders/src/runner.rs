//! What the command-triggered `tick` component runs, chosen by `tick_mode`.
//!
//! SpinKube's shim has no cron trigger and a Kubernetes CronJob starts at most
//! once a minute, so on a cluster a CronJob starts the `tick` component every
//! minute and it ticks in a loop for most of that minute (`loop`, the default):
//! reminders go out about a second late, as with the cron trigger locally.
//! `once` ticks once; `migrate` applies the migrations, so the migration Job runs
//! the same artifact.

use std::time::{Duration, Instant};

use spindle_ports::{Clock, Config, Db, Publisher};
use spindle_storage::migrations::{self, MigrationError};

use crate::settings::SettingsError;
use crate::tick::{self, TickError, TickReport, TickSettings};

/// Variable: `loop` (default), `once` or `migrate`.
pub const TICK_MODE: &str = "tick_mode";
/// Variable: milliseconds from the start of one tick to the start of the next in
/// `loop` mode (default 1000).
pub const TICK_INTERVAL_MS: &str = "tick_interval_ms";
/// Variable: seconds a `loop` run keeps ticking before it exits (default 55,
/// so a run started every minute ends before the next one starts).
pub const TICK_LOOP_SECONDS: &str = "tick_loop_seconds";

/// What a run does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Tick every `interval` until `duration` has passed.
    Loop {
        interval: Duration,
        duration: Duration,
    },
    Once,
    Migrate,
}

impl Mode {
    pub fn from_config(config: &(impl Config + ?Sized)) -> Result<Mode, SettingsError> {
        let bad = |name, value, expected| SettingsError {
            name,
            value,
            expected,
        };
        match config.get(TICK_MODE).as_deref().map(str::trim) {
            None | Some("loop") => {}
            Some("once") => return Ok(Mode::Once),
            Some("migrate") => return Ok(Mode::Migrate),
            Some(other) => {
                return Err(bad(TICK_MODE, other.to_owned(), "loop, once or migrate"));
            }
        }
        let mut interval = Duration::from_millis(1000);
        let mut duration = Duration::from_secs(55);
        if let Some(value) = config.get(TICK_INTERVAL_MS) {
            interval = match value.trim().parse::<u64>() {
                Ok(n) if (10..=600_000).contains(&n) => Duration::from_millis(n),
                _ => {
                    return Err(bad(
                        TICK_INTERVAL_MS,
                        value,
                        "a whole number of milliseconds from 10 to 600000",
                    ))
                }
            };
        }
        if let Some(value) = config.get(TICK_LOOP_SECONDS) {
            duration = match value.trim().parse::<u64>() {
                Ok(n) if (1..=86_400).contains(&n) => Duration::from_secs(n),
                _ => {
                    return Err(bad(
                        TICK_LOOP_SECONDS,
                        value,
                        "a whole number of seconds from 1 to 86400",
                    ))
                }
            };
        }
        Ok(Mode::Loop { interval, duration })
    }
}

/// What a successful run did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Ticked { succeeded: usize, failed: usize },
    Migrated { applied: Vec<String> },
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Outcome::Ticked { succeeded, failed } => {
                write!(f, "{succeeded} ticks succeeded, {failed} failed")
            }
            Outcome::Migrated { applied } if applied.is_empty() => {
                write!(f, "migrations: every one was already applied")
            }
            Outcome::Migrated { applied } => {
                write!(f, "migrations applied: {}", applied.join(", "))
            }
        }
    }
}

/// Why a run ends in failure (the component exits non-zero).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("{0}")]
    Config(#[from] SettingsError),
    #[error("no tick succeeded ({failed} failed); the last error: {last}")]
    NoTick { failed: usize, last: TickError },
    #[error("migrating the database failed: {0}")]
    Migrate(#[from] MigrationError),
}

/// Runs what `tick_mode` says. `sleep` is `std::thread::sleep` in the component
/// (under WASI it waits in the host) and in tests.
pub fn run(
    db: &impl Db,
    publisher: &impl Publisher,
    clock: &(impl Clock + ?Sized),
    config: &(impl Config + ?Sized),
    sleep: impl Fn(Duration),
) -> Result<Outcome, RunError> {
    let mode = Mode::from_config(config)?;
    if mode == Mode::Migrate {
        let report = migrations::migrate(db)?;
        return Ok(Outcome::Migrated {
            applied: report.applied,
        });
    }
    let settings = TickSettings::from_config(config)?;
    let (interval, duration) = match mode {
        Mode::Loop { interval, duration } => (interval, duration),
        _ => (Duration::ZERO, Duration::ZERO),
    };
    let started = Instant::now();
    let (mut succeeded, mut failed, mut last_error) = (0, 0, None);
    loop {
        let tick_started = Instant::now();
        match tick::tick(db, publisher, clock, &settings) {
            Ok(report) => {
                succeeded += 1;
                log(&report);
            }
            Err(err) => {
                failed += 1;
                eprintln!("tick: {err}");
                last_error = Some(err);
            }
        }
        // Each tick's transactions are over; hand the connection back while
        // waiting, as a long-poll does.
        db.release();
        let elapsed = started.elapsed();
        if elapsed >= duration {
            break;
        }
        sleep(
            interval
                .saturating_sub(tick_started.elapsed())
                .min(duration - elapsed),
        );
    }
    match (succeeded, last_error) {
        (0, Some(last)) => Err(RunError::NoTick { failed, last }),
        _ => Ok(Outcome::Ticked { succeeded, failed }),
    }
}

/// One line on stderr for a tick that did something.
fn log(report: &TickReport) {
    if report.did_work() {
        eprintln!("tick: {report}");
    }
}
