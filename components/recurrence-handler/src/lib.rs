//! The `recurrence-handler` component: on `task.completed` of a recurring task
//! in `task-events`, creates the next task of its series, once however often
//! the event is delivered.

use spin_sdk::redis_component;
use spindle_api::settings;
use spindle_events::recurrence::Recurrences;
use spindle_ports::SystemClock;

#[redis_component]
fn on_message(message: Vec<u8>) -> anyhow::Result<()> {
    let (db, publisher, _) = spindle_spin::platform(settings::DB_URL, settings::REDIS_URL);
    let recurrences = Recurrences {
        db: &db,
        publisher: &publisher,
        clock: &SystemClock,
        view: spindle_api::task_view,
    };
    // An error leaves the event unprocessed: Spin logs it and the relay redelivers it.
    recurrences.handle(&message)?;
    Ok(())
}
