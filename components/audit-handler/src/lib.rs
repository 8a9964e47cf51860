//! The `audit-handler` component: on every message of `task-events`, writes the
//! task's user-visible history, once per event however often it is delivered.

use spin_sdk::redis_component;
use spindle_api::settings;

#[redis_component]
fn on_message(message: Vec<u8>) -> anyhow::Result<()> {
    let (db, _, _) = spindle_spin::platform(settings::DB_URL, settings::REDIS_URL);
    // An error leaves the event unprocessed: Spin logs it and the relay redelivers it.
    spindle_events::audit::handle(&db, &message)?;
    Ok(())
}
