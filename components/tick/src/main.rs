//! The `tick` component: a `[[trigger.command]]` component for clusters, where
//! SpinKube's shim has no cron trigger. A Kubernetes CronJob starts it every
//! minute and it ticks every second for most of that minute (`tick_mode=loop`),
//! ticks once (`once`), or applies the migrations for the migration Job
//! (`migrate`). Exits non-zero when nothing it was asked to do succeeded.

use std::process::ExitCode;

use spindle_api::settings;
use spindle_ports::SystemClock;
use spindle_reminders::runner;

fn main() -> ExitCode {
    let (db, publisher, config) = spindle_spin::platform(settings::DB_URL, settings::REDIS_URL);
    match runner::run(&db, &publisher, &SystemClock, &config, std::thread::sleep) {
        Ok(outcome) => {
            eprintln!("tick: {outcome}");
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("tick: {err}");
            ExitCode::FAILURE
        }
    }
}
