//! Spindle's domain: what a task is, and the rules every value must follow.
//!
//! Values are built only through `parse` functions ("parse, don't validate"), so the
//! storage and HTTP layers never see an empty title, an unknown priority or an
//! invalid recurrence rule. Nothing here knows about Spin, SQL or HTTP.

mod channel;
mod draft;
mod errors;
pub mod event;
mod recurrence;
mod reminder;
mod task;
mod text;
mod time;

pub use channel::{check_host, non_global, ChannelKind, ChannelName, NetworkPolicy, WebhookUrl};
pub use draft::{DraftFields, TaskDraft};
pub use errors::{FieldError, FieldErrors};
pub use recurrence::{next_reminders, Recurrence, RecurrenceMode, Series};
pub use reminder::{Reminder, ReminderSpec, ReminderState, MAX_REMINDERS};
pub use task::{NextOccurrence, Priority, Status, Task};
pub use text::{Description, Tag, Tags, Title, MAX_TAGS};
pub use time::{format_instant, parse_instant, Instant, TimeZone};
