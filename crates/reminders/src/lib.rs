//! Reminders that arrive on time, once per channel.
//!
//! - [`tick`]: claims due reminders (batches, `FOR UPDATE SKIP LOCKED`), writes a
//!   `reminder.due` per reminder in the same transaction, publishes on `reminders`;
//!   announces webhook retries that fell due; runs the outbox relay.
//! - [`notifier`]: the consumer of `reminders`: inbox entry and delivery rows once,
//!   then one claimed attempt per delivery.
//! - [`delivery`]: an attempt, whatever the channel's kind; [`webhook`] signs
//!   Standard Webhooks requests.
//! - [`push`]: Web Push messages for browser subscriptions.
//! - [`channels`]: what the channels API does beyond SQL (secrets, test pings).

pub mod channels;
pub mod delivery;
pub mod inbox;
pub mod notifier;
pub mod push;
pub mod settings;
pub mod tick;
pub mod views;
pub mod webhook;

pub use settings::Settings;
