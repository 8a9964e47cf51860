//! The `reminder-cron` component: on every cron tick (spin-trigger-cron, every
//! second locally), fires due reminders, announces due webhook retries, runs
//! the outbox relay, records the heartbeat and now and then runs retention. On Kubernetes, where there is no cron trigger, the same tick
//! runs from a CronJob (`POST /internal/tick` on `ops`, or the `tick` component).

use spindle_api::settings;
use spindle_ports::SystemClock;
use spindle_reminders::tick::{self, TickSettings};

wit_bindgen::generate!({
    world: "spin-cron",
    path: "../../wit",
});

struct Cron;

impl Guest for Cron {
    fn handle_cron_event(_metadata: Metadata) -> Result<(), Error> {
        let (db, publisher, config) = spindle_spin::platform(settings::DB_URL, settings::REDIS_URL);
        let fail = |e: &dyn std::fmt::Display| Error::Other(e.to_string());
        let settings = TickSettings::from_config(&config).map_err(|e| fail(&e))?;
        let report = tick::tick(&db, &publisher, &SystemClock, &settings).map_err(|e| fail(&e))?;
        if report.did_work() {
            eprintln!("reminder-cron: {report}");
        }
        Ok(())
    }
}

export!(Cron);
