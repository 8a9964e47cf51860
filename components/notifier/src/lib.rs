//! The `notifier` component: on every message of `reminders`, writes the inbox
//! entry and delivers to the user's channels, once per (reminder, channel).
//!
//! It runs in its own Spin process with a runtime config that blocks private
//! networks, so it must never publish to Redis: what it announces goes to the
//! outbox, and the tick publishes it.

use spin_sdk::redis_component;
use spindle_api::settings;
use spindle_ports::SystemClock;
use spindle_reminders::{notifier, Settings};
use spindle_spin::{SpinConfig, SpinDb, SpinHttp};

#[redis_component]
fn on_message(message: Vec<u8>) -> anyhow::Result<()> {
    let config = SpinConfig;
    let db = SpinDb::from_variable(settings::DB_URL);
    let settings = Settings::from_config(&config)?;
    // An error leaves the event unprocessed: Spin logs it, and the relay (for a
    // reminder) or the tick (for a delivery) brings it back.
    notifier::handle(&db, &SpinHttp, &SystemClock, &settings, &message)?;
    Ok(())
}
