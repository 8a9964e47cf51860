//! The shape of every write: one transaction holding the change, its events and
//! (for a keyed POST) the idempotency record; publication after commit.

use http::{header, HeaderValue, Method};
use serde_json::Value;
use sha2::{Digest, Sha256};
use spindle_domain::event::{format_sequence, Envelope, EventType, TASK_EVENTS_CHANNEL};
use spindle_domain::{format_instant, Task};
use spindle_events::publish::DEFAULT_REDELIVERY_DELAY;
use spindle_ports::{Db, Publisher};
use spindle_storage::idempotency::{self, Claim, StoredResponse};
use spindle_storage::outbox::{self, NewEvent, OutboxMessage};
use spindle_storage::tasks as task_store;

use crate::auth::UserId;
use crate::problem::ApiError;
use crate::respond::header;
use crate::{Ctx, Request, Response};

const MAX_KEY_LEN: usize = 255;
/// Response headers worth replaying with a stored response.
const REPLAYED_HEADERS: &[header::HeaderName] =
    &[header::CONTENT_TYPE, header::LOCATION, header::ETAG];

/// Events written by a change, to publish once it commits.
#[derive(Default)]
pub struct Written {
    messages: Vec<OutboxMessage>,
    /// Events the statement that appended them already marked published.
    marked: Vec<i64>,
}

impl Written {
    /// Appends a task event to the outbox, in the caller's transaction.
    pub fn task_event<D: Db, P: Publisher>(
        &mut self,
        ctx: &Ctx<'_, D, P>,
        db: &D,
        kind: EventType,
        task: &Task,
        data: Value,
    ) -> Result<(), ApiError> {
        let envelope = task_envelope(ctx, kind, task, data);
        let seq = outbox::append(db, TASK_EVENTS_CHANNEL, &envelope, Some(task.id))?;
        self.keep(seq, envelope)
    }

    /// Creates `task` (made by `store::new_task`) with its reminders and its
    /// `task.created` event in one statement.
    pub fn created_task<D: Db, P: Publisher>(
        &mut self,
        ctx: &Ctx<'_, D, P>,
        db: &D,
        task: &Task,
        data: Value,
    ) -> Result<(), ApiError> {
        let envelope = task_envelope(ctx, EventType::TaskCreated, task, data);
        let event = NewEvent {
            channel: TASK_EVENTS_CHANNEL,
            envelope: &envelope,
            redelivery_after_micros: i64::try_from(DEFAULT_REDELIVERY_DELAY.as_micros())
                .unwrap_or(i64::MAX),
        };
        let seq = task_store::insert_with_event(db, task, task.created_at, &event)?;
        self.marked.push(seq);
        self.keep(seq, envelope)
    }

    /// Appends many task events at once (for changes that touch many tasks).
    pub fn task_events<D: Db, P: Publisher>(
        &mut self,
        ctx: &Ctx<'_, D, P>,
        db: &D,
        events: Vec<(EventType, &Task, Value)>,
    ) -> Result<(), ApiError> {
        let envelopes: Vec<(Envelope, Option<uuid::Uuid>)> = events
            .into_iter()
            .map(|(kind, task, data)| (task_envelope(ctx, kind, task, data), Some(task.id)))
            .collect();
        let seqs = outbox::append_many(db, TASK_EVENTS_CHANNEL, &envelopes)?;
        for (seq, (envelope, _)) in seqs.into_iter().zip(envelopes) {
            self.keep(seq, envelope)?;
        }
        Ok(())
    }

    /// Keeps the event as it will be published, `sequence` filled in.
    fn keep(&mut self, seq: i64, mut envelope: Envelope) -> Result<(), ApiError> {
        envelope.sequence = Some(format_sequence(seq));
        let payload =
            serde_json::to_vec(&envelope).map_err(|e| ApiError::Internal(e.to_string()))?;
        self.messages.push(OutboxMessage {
            seq,
            user_id: envelope.userid.clone(),
            channel: TASK_EVENTS_CHANNEL.to_owned(),
            payload,
        });
        Ok(())
    }

    /// The events still to mark for publishing.
    fn unmarked(&self) -> Vec<i64> {
        self.messages
            .iter()
            .map(|m| m.seq)
            .filter(|seq| !self.marked.contains(seq))
            .collect()
    }
}

fn task_envelope<D: Db, P: Publisher>(
    ctx: &Ctx<'_, D, P>,
    kind: EventType,
    task: &Task,
    data: Value,
) -> Envelope {
    Envelope::task(
        uuid::Uuid::new_v4(),
        kind,
        &task.user_id,
        task.id,
        format_instant(ctx.now(), None),
        data,
    )
}

/// Runs `work` in a transaction; on success commits, then publishes its events.
/// A POST with an `Idempotency-Key` replays the first response for the same
/// request, and refuses the key for a different one.
pub fn write<D: Db, P: Publisher>(
    ctx: &Ctx<'_, D, P>,
    req: &Request,
    user: &UserId,
    work: impl FnOnce(&D, &mut Written) -> Result<Response, ApiError>,
) -> Result<Response, ApiError> {
    let key = idempotency_key(req)?;
    let mut written = Written::default();
    let response = ctx.db.transaction(|db| {
        if let Some(key) = &key {
            match idempotency::claim(db, user.as_str(), key, &request_hash(req))? {
                Claim::Replay(stored) => return Ok(replay(stored)),
                Claim::Mismatch => return Err(ApiError::IdempotencyMismatch),
                Claim::New => {}
            }
        }
        let response = work(db, &mut written)?;
        spindle_events::publish::mark_for_publish(db, &written.unmarked())?;
        if let Some(key) = &key {
            idempotency::store(db, user.as_str(), key, &to_stored(&response))?;
        }
        Ok::<_, ApiError>(response)
    })?;
    send(ctx, &written);
    Ok(response)
}

/// [`write`] for `work` that is a single statement, atomic on its own: without
/// an `Idempotency-Key` it runs without `BEGIN`/`COMMIT`, one round trip
/// instead of three. (With one, the key's claim and record need the transaction.)
pub fn write_single<D: Db, P: Publisher>(
    ctx: &Ctx<'_, D, P>,
    req: &Request,
    user: &UserId,
    work: impl FnOnce(&D, &mut Written) -> Result<Response, ApiError>,
) -> Result<Response, ApiError> {
    if idempotency_key(req)?.is_some() {
        return write(ctx, req, user, work);
    }
    let mut written = Written::default();
    let response = work(ctx.db, &mut written)?;
    // Committed already: marking now only sets when the relay steps in.
    spindle_events::publish::mark_for_publish(ctx.db, &written.unmarked())?;
    send(ctx, &written);
    Ok(response)
}

/// Publishes what a committed write appended. Never fails the request: what is
/// not published now, the relay publishes.
fn send<D: Db, P: Publisher>(ctx: &Ctx<'_, D, P>, written: &Written) {
    if written.messages.is_empty() {
        return;
    }
    let report = spindle_events::publish::send_marked(ctx.db, ctx.publisher, &written.messages);
    if !report.all_published() {
        eprintln!("spindle: events left for the relay: {report:?}");
    }
}

fn idempotency_key(req: &Request) -> Result<Option<String>, ApiError> {
    if req.method() != Method::POST {
        return Ok(None);
    }
    let Some(raw) = req.headers().get("idempotency-key") else {
        return Ok(None);
    };
    let key = raw.to_str().unwrap_or("").trim();
    if key.is_empty() || key.len() > MAX_KEY_LEN || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ApiError::BadRequest(format!(
            "the Idempotency-Key header must be 1 to {MAX_KEY_LEN} visible ASCII characters, e.g. a UUID"
        )));
    }
    Ok(Some(key.to_owned()))
}

/// The same request means the same method, path and JSON body (key order and
/// white space aside).
fn request_hash(req: &Request) -> String {
    let body = serde_json::from_slice::<Value>(req.body())
        .map(|v| v.to_string())
        .unwrap_or_else(|_| String::from_utf8_lossy(req.body()).into_owned());
    let mut hasher = Sha256::new();
    hasher.update(req.method().as_str());
    hasher.update(b" ");
    hasher.update(req.uri().path());
    hasher.update(b"\n");
    hasher.update(body);
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn to_stored(response: &Response) -> StoredResponse {
    StoredResponse {
        status: response.status().as_u16(),
        headers: REPLAYED_HEADERS
            .iter()
            .filter_map(|name| {
                header(response.headers(), name).map(|v| (name.to_string(), v.to_owned()))
            })
            .collect(),
        body: String::from_utf8_lossy(response.body()).into_owned(),
    }
}

fn replay(stored: StoredResponse) -> Response {
    let mut builder = http::Response::builder()
        .status(stored.status)
        .header("idempotent-replayed", HeaderValue::from_static("true"));
    for (name, value) in &stored.headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    builder
        .body(stored.body.into_bytes())
        .unwrap_or_else(|_| http::Response::new(Vec::new()))
}
