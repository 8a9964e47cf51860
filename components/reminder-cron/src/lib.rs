//! The `reminder-cron` component: on every cron tick (spin-trigger-cron), runs
//! the outbox relay. On Kubernetes, where there is no cron trigger, a CronJob
//! calls the same relay through `POST /internal/tick` on `ops`.

use spindle_api::settings;
use spindle_events::relay::{self, RelaySettings};

wit_bindgen::generate!({
    world: "spin-cron",
    path: "../../wit",
});

struct Cron;

impl Guest for Cron {
    fn handle_cron_event(_metadata: Metadata) -> Result<(), Error> {
        let (db, publisher, config) = spindle_spin::platform(settings::DB_URL, settings::REDIS_URL);
        let settings =
            RelaySettings::from_config(&config).map_err(|e| Error::Other(e.to_string()))?;
        let report =
            relay::tick(&db, &publisher, &settings).map_err(|e| Error::Other(e.to_string()))?;
        if report.published > 0 || report.dead_lettered > 0 {
            eprintln!("reminder-cron: relay {report:?}");
        }
        Ok(())
    }
}

export!(Cron);
