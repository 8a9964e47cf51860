//! Reminders that arrive on time, once per channel.
//!
//! - [`tick`]: claims due reminders (batches, `FOR UPDATE SKIP LOCKED`), writes a
//!   `reminder.due` per reminder in the same transaction, publishes on `reminders`;
//!   announces webhook retries that fell due; runs the outbox relay; records the
//!   heartbeat and runs [`retention`] when it is due.
//! - [`notifier`]: the consumer of `reminders`: inbox entry and delivery rows once,
//!   then one claimed attempt per delivery.
//! - [`delivery`]: an attempt, whatever the channel's kind; [`webhook`] signs
//!   Standard Webhooks requests.
//! - [`push`]: Web Push messages for browser subscriptions.
//! - [`channels`]: what the channels API does beyond SQL (secrets, test pings).
//! - [`retention`]: what the tick deletes now and then, a bounded batch per table.
//! - [`runner`]: the command-triggered `tick` component's modes (loop, once, migrate).

pub mod channels;
pub mod delivery;
pub mod inbox;
pub mod notifier;
pub mod push;
pub mod retention;
pub mod runner;
pub mod settings;
pub mod tick;
pub mod views;
pub mod webhook;

pub use settings::Settings;
