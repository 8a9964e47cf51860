//! `GET /metrics`: the figures of [`spindle_storage::metrics`] in Prometheus'
//! text exposition format (version 0.0.4). Every figure is a gauge read from
//! the database at scrape time: a Spin component keeps nothing between requests.

use std::fmt::Write;

use http::StatusCode;
use spindle_domain::event::{NOTIFICATIONS_CHANNEL, REMINDERS_CHANNEL, TASK_EVENTS_CHANNEL};
use spindle_ports::{Db, Publisher};
use spindle_storage::metrics::{self as figures, Figures};
use spindle_storage::migrations::{self, MigrationStatus};

use crate::problem::ApiError;
use crate::{Ctx, Response};

pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

pub fn serve<D: Db, P: Publisher>(ctx: &Ctx<'_, D, P>) -> Result<Response, ApiError> {
    let reminders = spindle_reminders::Settings::from_config(ctx.config)
        .map(|s| s.channel)
        .unwrap_or_else(|_| REMINDERS_CHANNEL.to_owned());
    let channels = [
        TASK_EVENTS_CHANNEL,
        reminders.as_str(),
        NOTIFICATIONS_CHANNEL,
    ];
    let body = match figures::figures(ctx.db, ctx.clock.now_micros(), &channels) {
        Ok(figures) => render(&figures),
        // A build ahead of its schema cannot read the new tables; what it can
        // still say is how many migrations are missing, which is the problem.
        Err(err) => match migrations::status(ctx.db) {
            Ok(MigrationStatus::Pending(names)) => render_pending_only(names.len()),
            _ => return Err(err.into()),
        },
    };
    http::Response::builder()
        .status(StatusCode::OK)
        .header(http::header::CONTENT_TYPE, CONTENT_TYPE)
        .body(body.into_bytes())
        .map_err(|e| ApiError::Internal(e.to_string()))
}

const MIGRATIONS_PENDING: (&str, &str) = (
    "spindle_migrations_pending",
    "Migrations and routines of the running build not applied to the database (POST /admin/migrate applies them).",
);

fn render(f: &Figures) -> String {
    let mut out = Exposition::default();
    out.family(
        "spindle_tasks",
        "Tasks by status.",
        [
            (vec![("status", "open")], f.tasks_open as f64),
            (vec![("status", "completed")], f.tasks_completed as f64),
        ],
    );
    out.family(
        "spindle_outbox_pending",
        "Events not yet processed by every consumer of their Redis channel.",
        f.outbox
            .iter()
            .map(|b| (vec![("channel", b.channel.as_str())], b.pending as f64)),
    );
    out.family(
        "spindle_outbox_oldest_pending_seconds",
        "Age of the oldest event not yet processed by every consumer of the channel (consumer lag); 0 when none.",
        f.outbox
            .iter()
            .map(|b| (vec![("channel", b.channel.as_str())], b.oldest_seconds)),
    );
    out.single(
        "spindle_dead_letters_open",
        "Dead-lettered events not replayed (GET /admin/dead-letters lists them).",
        f.dead_letters_open as f64,
    );
    out.single(
        "spindle_reminders_pending",
        "Reminders waiting to fire.",
        f.reminders_pending as f64,
    );
    out.single(
        "spindle_reminders_due_unclaimed",
        "Pending reminders whose time has come, not yet claimed by the tick.",
        f.reminders_due_unclaimed as f64,
    );
    out.single(
        "spindle_reminders_due_oldest_seconds",
        "How late the oldest unclaimed due reminder is; 0 when none.",
        f.reminders_due_oldest_seconds,
    );
    out.single(
        "spindle_reminders_missed_recent",
        "Reminders the tick marked missed (claimed later than reminder_max_late) in the last hour.",
        f.reminders_missed_recent as f64,
    );
    out.family(
        "spindle_deliveries_recent",
        "Reminder deliveries whose state changed in the last hour, by channel kind and state.",
        f.deliveries_recent.iter().map(|d| {
            (
                vec![("kind", d.kind.as_str()), ("state", d.state.as_str())],
                d.count as f64,
            )
        }),
    );
    out.family(
        "spindle_channels_disabled",
        "Notification channels disabled (by failures, an expired subscription or their user), by kind.",
        f.channels_disabled
            .iter()
            .map(|c| (vec![("kind", c.kind.as_str())], c.count as f64)),
    );
    // Absent until a tick has ever run: a made-up age would look like a real
    // one, and the SpindleTickNeverRan alert looks for the absence.
    out.family(
        "spindle_tick_age_seconds",
        "Seconds since the last tick (reminders, retries, outbox relay) finished.",
        f.tick_age_seconds.map(|age| (Vec::new(), age)),
    );
    out.single(
        MIGRATIONS_PENDING.0,
        MIGRATIONS_PENDING.1,
        f.migrations_pending as f64,
    );
    out.0
}

fn render_pending_only(pending: usize) -> String {
    let mut out = Exposition::default();
    out.single(MIGRATIONS_PENDING.0, MIGRATIONS_PENDING.1, pending as f64);
    out.0
}

/// Gauge families in the text format: `# HELP`, `# TYPE`, then the samples.
#[derive(Default)]
struct Exposition(String);

impl Exposition {
    fn single(&mut self, name: &str, help: &str, value: f64) {
        self.family(name, help, [(Vec::new(), value)]);
    }

    fn family<'a>(
        &mut self,
        name: &str,
        help: &str,
        samples: impl IntoIterator<Item = (Vec<(&'a str, &'a str)>, f64)>,
    ) {
        // Writing into a String cannot fail.
        let _ = writeln!(self.0, "# HELP {name} {help}");
        let _ = writeln!(self.0, "# TYPE {name} gauge");
        for (labels, value) in samples {
            self.0.push_str(name);
            if !labels.is_empty() {
                let pairs: Vec<String> = labels
                    .iter()
                    .map(|(label, v)| format!("{label}=\"{}\"", escape(v)))
                    .collect();
                let _ = write!(self.0, "{{{}}}", pairs.join(","));
            }
            let _ = writeln!(self.0, " {value}");
        }
    }
}

/// A label value as the format wants it: backslash, double quote and line feed escaped.
fn escape(value: &str) -> String {
    value
        .replace('\\', r"\\")
        .replace('"', "\\\"")
        .replace('\n', r"\n")
}
