//! The outbox: the durable, ordered log of every change.

use spindle_domain::event::Envelope;
use spindle_ports::{Db, DbError, Param};

/// Appends `envelope` to the outbox inside the caller's transaction and returns
/// its sequence number.
///
/// A transaction-scoped advisory lock per user makes a user's sequence numbers
/// commit in the order they were taken, so a reader of the change feed that has
/// seen `seq = n` can never later find a smaller one appear. Writes of different
/// users do not wait for each other.
pub fn append(
    db: &impl Db,
    channel: &str,
    envelope: &Envelope,
    task_id: Option<uuid::Uuid>,
) -> Result<i64, DbError> {
    let body = serde_json::to_vec(envelope).map_err(|e| DbError::Conversion(e.to_string()))?;
    let rows = db.query(
        "WITH serialise AS (SELECT pg_advisory_xact_lock(hashtextextended('outbox:' || $1, 0)))
         INSERT INTO outbox (event_id, type, channel, user_id, task_id, envelope)
         SELECT $2, $3, $4, $1, $5, $6 FROM serialise
         RETURNING seq",
        &[
            Param::Str(envelope.userid.clone()),
            Param::Uuid(envelope.id.clone()),
            Param::Str(envelope.kind.as_str().to_owned()),
            Param::Str(channel.to_owned()),
            task_id.map_or(Param::Null, |id| Param::Uuid(id.to_string())),
            Param::Jsonb(body),
        ],
    )?;
    rows.first()
        .ok_or_else(|| DbError::Decode("the outbox insert returned no sequence".into()))?
        .i64("seq")
}

/// An event to append in the same statement as the change it describes.
#[derive(Debug, Clone)]
pub struct NewEvent<'a> {
    pub channel: &'a str,
    pub envelope: &'a Envelope,
    /// How long the relay leaves it to the writer, which publishes it right
    /// after the commit (see `record_first_publish`).
    pub redelivery_after_micros: i64,
}

/// SQL of the CTE that takes the user's outbox lock (see [`append`]); name it
/// `serialise` and select from it before anything else the statement writes.
/// `user` is the placeholder of the user id.
pub(crate) fn lock_cte(user: &str) -> String {
    format!("serialise AS (SELECT pg_advisory_xact_lock(hashtextextended('outbox:' || {user}, 0)))")
}

/// SQL of the CTE `appended` that appends the event of [`event_params`]
/// (placeholders from `$first`) for each row of `source` (which has `id`, the
/// task), already marked published, and returns its `seq`.
pub(crate) fn append_cte(source: &str, user: &str, first: usize) -> String {
    let p = |n: usize| format!("${}", first + n);
    format!(
        "appended AS (
            INSERT INTO outbox (event_id, type, channel, user_id, task_id, envelope,
                                published_at, attempts, next_attempt_at)
            SELECT {}, {}, {}, {user}, {source}.id, {}, now(), 1,
                   now() + ({}::int8 * interval '1 microsecond')
              FROM {source}
            RETURNING seq)",
        p(0),
        p(1),
        p(2),
        p(3),
        p(4)
    )
}

/// The types of [`event_params`], in order.
pub(crate) const EVENT_ARGS: &str = "uuid, text, text, jsonb, int8";

/// The parameters of [`append_cte`], in order.
pub(crate) fn event_params(event: &NewEvent<'_>) -> Result<Vec<Param>, DbError> {
    let body =
        serde_json::to_vec(event.envelope).map_err(|e| DbError::Conversion(e.to_string()))?;
    Ok(vec![
        Param::Uuid(event.envelope.id.clone()),
        Param::Str(event.envelope.kind.as_str().to_owned()),
        Param::Str(event.channel.to_owned()),
        Param::Jsonb(body),
        micros_param(event.redelivery_after_micros),
    ])
}

/// Appends several events of one user at once (a tag rename touching many
/// tasks), in the given order, under the same per-user lock as [`append`].
pub fn append_many(
    db: &impl Db,
    channel: &str,
    events: &[(Envelope, Option<uuid::Uuid>)],
) -> Result<Vec<i64>, DbError> {
    let Some((first, _)) = events.first() else {
        return Ok(Vec::new());
    };
    let items: Vec<serde_json::Value> = events
        .iter()
        .map(|(envelope, task_id)| {
            serde_json::json!({
                "event_id": envelope.id,
                "type": envelope.kind.as_str(),
                "task_id": task_id,
                "envelope": envelope,
            })
        })
        .collect();
    let body = serde_json::to_vec(&items).map_err(|e| DbError::Conversion(e.to_string()))?;
    let rows = db.query(
        "WITH serialise AS (SELECT pg_advisory_xact_lock(hashtextextended('outbox:' || $1, 0)))
         INSERT INTO outbox (event_id, type, channel, user_id, task_id, envelope)
         SELECT x.event_id, x.type, $2, $1, x.task_id, x.envelope
           FROM serialise,
                ROWS FROM (jsonb_to_recordset($3::jsonb)
                               AS (event_id uuid, type text, task_id uuid, envelope jsonb))
                    WITH ORDINALITY AS x(event_id, type, task_id, envelope, n)
          ORDER BY x.n
         RETURNING seq",
        &[
            Param::Str(first.userid.clone()),
            Param::Str(channel.to_owned()),
            Param::Jsonb(body),
        ],
    )?;
    let mut seqs = rows
        .iter()
        .map(|row| row.i64("seq"))
        .collect::<Result<Vec<_>, _>>()?;
    seqs.sort_unstable();
    Ok(seqs)
}

/// Appends events of many users at once (the reminder tick's batch), inside the
/// caller's transaction, and returns them ready to publish, in `seq` order.
///
/// It takes the per-user lock of [`append`] for every user of the batch, in a
/// fixed order, so a user's events still commit in `seq` order and two batches
/// sharing users cannot deadlock.
pub fn append_batch(
    db: &impl Db,
    channel: &str,
    events: &[(Envelope, Option<uuid::Uuid>)],
) -> Result<Vec<OutboxMessage>, DbError> {
    if events.is_empty() {
        return Ok(Vec::new());
    }
    let items: Vec<serde_json::Value> = events
        .iter()
        .map(|(envelope, task_id)| {
            serde_json::json!({
                "event_id": envelope.id,
                "type": envelope.kind.as_str(),
                "user_id": envelope.userid,
                "task_id": task_id,
                "envelope": envelope,
            })
        })
        .collect();
    let body = serde_json::to_vec(&items).map_err(|e| DbError::Conversion(e.to_string()))?;
    db.query(
        "SELECT count(pg_advisory_xact_lock(hashtextextended('outbox:' || u, 0))) AS locked
           FROM (SELECT DISTINCT x.user_id AS u
                   FROM jsonb_to_recordset($1::jsonb) AS x(user_id text)
                  ORDER BY 1) users",
        &[Param::Jsonb(body.clone())],
    )?;
    let rows = db.query(
        concat!(
            "WITH inserted AS (
                 INSERT INTO outbox (event_id, type, channel, user_id, task_id, envelope)
                 SELECT x.event_id, x.type, $2, x.user_id, x.task_id, x.envelope
                   FROM ROWS FROM (jsonb_to_recordset($1::jsonb)
                            AS (event_id uuid, type text, user_id text, task_id uuid, envelope jsonb))
                        WITH ORDINALITY AS x(event_id, type, user_id, task_id, envelope, n)
                  ORDER BY x.n
                 RETURNING seq, user_id, channel, envelope)
             SELECT o.seq, o.user_id, o.channel, ",
            published_envelope!("o"),
            " AS payload FROM inserted o ORDER BY o.seq"
        ),
        &[Param::Jsonb(body), Param::Str(channel.to_owned())],
    )?;
    rows.iter().map(message_from).collect()
}

// ---------------------------------------------------------------------------
// Publishing and relaying. Everything below reads or moves outbox rows after the
// writer's transaction has committed.
// ---------------------------------------------------------------------------

/// A stored event ready to go on the bus: its channel and its envelope as JSON,
/// with `sequence` filled in from the outbox position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxMessage {
    pub seq: i64,
    /// Whose event it is: publishing it also signals that user's change feed.
    pub user_id: String,
    pub channel: String,
    pub payload: Vec<u8>,
}

/// Binds a list of sequence numbers. The ports carry no `int8[]`, so the list
/// travels as `text[]` and the SQL casts it: `$1::text[]::int8[]`.
fn seq_list(seqs: &[i64]) -> Param {
    Param::ArrayStr(seqs.iter().map(|seq| Some(seq.to_string())).collect())
}

/// Converts a duration in microseconds to a parameter for
/// `($n::int8 * interval '1 microsecond')`.
fn micros_param(micros: i64) -> Param {
    Param::Int64(micros.max(0))
}

/// SQL for the envelope of outbox row `alias` as published and served: the
/// stored envelope (kept without `sequence`) with `sequence` added, as JSON
/// text. Built in SQL so that neither Spin's component nor the adapter parses
/// and re-serialises every event the relay moves; `lpad(seq, 20, '0')` is
/// [`spindle_domain::event::format_sequence`].
macro_rules! published_envelope {
    ($alias:literal) => {
        concat!(
            "(",
            $alias,
            ".envelope || jsonb_build_object('sequence', lpad(",
            $alias,
            ".seq::text, 20, '0')))::text"
        )
    };
}
pub(crate) use published_envelope;

fn message_from(row: spindle_ports::Row<'_>) -> Result<OutboxMessage, DbError> {
    Ok(OutboxMessage {
        seq: row.i64("seq")?,
        user_id: row.str("user_id")?,
        channel: row.str("channel")?,
        payload: row.str("payload")?.into_bytes(),
    })
}

/// The events among `seqs` that still need delivering, in sequence order.
/// Events already delivered or dead-lettered are left out.
pub fn undelivered(db: &impl Db, seqs: &[i64]) -> Result<Vec<OutboxMessage>, DbError> {
    if seqs.is_empty() {
        return Ok(Vec::new());
    }
    let rows = db.query(
        concat!(
            "SELECT o.seq, o.user_id, o.channel, ",
            published_envelope!("o"),
            " AS payload FROM outbox o
             WHERE o.seq = ANY($1::text[]::int8[]) AND o.delivered_at IS NULL AND o.dead_at IS NULL
             ORDER BY o.seq"
        ),
        &[seq_list(seqs)],
    )?;
    rows.iter().map(message_from).collect()
}

/// Records a publish made right after the writer's commit: one more attempt,
/// and the relay leaves the event alone for `redelivery_after_micros` while
/// its consumers process it.
pub fn record_first_publish(
    db: &impl Db,
    seqs: &[i64],
    redelivery_after_micros: i64,
) -> Result<u64, DbError> {
    if seqs.is_empty() {
        return Ok(0);
    }
    db.execute(
        "UPDATE outbox
         SET published_at = now(),
             attempts = attempts + 1,
             next_attempt_at = now() + ($2::int8 * interval '1 microsecond')
         WHERE seq = ANY($1::text[]::int8[])",
        &[seq_list(seqs), micros_param(redelivery_after_micros)],
    )
}

/// Records that the relay published claimed events (the claim already counted
/// the attempt and set the next one).
pub fn mark_published(db: &impl Db, seqs: &[i64]) -> Result<u64, DbError> {
    if seqs.is_empty() {
        return Ok(0);
    }
    db.execute(
        "UPDATE outbox SET published_at = now() WHERE seq = ANY($1::text[]::int8[])",
        &[seq_list(seqs)],
    )
}

/// Undoes [`record_first_publish`] for events the writer marked inside its
/// transaction but could not publish after the commit: they count as never
/// published, with no attempt spent, and are due for the relay at once.
pub fn unpublish(db: &impl Db, seqs: &[i64]) -> Result<u64, DbError> {
    if seqs.is_empty() {
        return Ok(0);
    }
    db.execute(
        "UPDATE outbox
         SET published_at = NULL,
             attempts = greatest(attempts - 1, 0),
             next_attempt_at = now()
         WHERE seq = ANY($1::text[]::int8[]) AND delivered_at IS NULL AND dead_at IS NULL",
        &[seq_list(seqs)],
    )
}

/// Gives back claimed events the relay could not publish (the bus refused):
/// the attempt is not counted, so an outage of the bus never dead-letters
/// events, and they are due again after `retry_after_micros`.
pub fn release(db: &impl Db, seqs: &[i64], retry_after_micros: i64) -> Result<u64, DbError> {
    if seqs.is_empty() {
        return Ok(0);
    }
    db.execute(
        "UPDATE outbox
         SET attempts = greatest(attempts - 1, 0),
             next_attempt_at = now() + ($2::int8 * interval '1 microsecond')
         WHERE seq = ANY($1::text[]::int8[])",
        &[seq_list(seqs), micros_param(retry_after_micros)],
    )
}

/// The consumers that must process each channel's events before they count
/// as delivered, as the JSON object `{"channel": ["consumer", ...]}` the relay
/// statements read. A channel absent from the map needs no acknowledgement:
/// its events are delivered once published.
pub fn required_consumers_json(required: &[(String, Vec<String>)]) -> Result<Vec<u8>, DbError> {
    let map: serde_json::Map<String, serde_json::Value> = required
        .iter()
        .map(|(channel, consumers)| (channel.clone(), serde_json::json!(consumers)))
        .collect();
    serde_json::to_vec(&map).map_err(|e| DbError::Conversion(e.to_string()))
}

/// Marks delivered every published, pending event that all the consumers its
/// channel requires have processed (`processed_events`). Returns how many.
///
/// Rows another relay holds are skipped (`SKIP LOCKED`) rather than waited
/// for, so concurrent ticks never deadlock; the next tick marks them.
pub fn mark_acknowledged(
    db: &impl Db,
    required_consumers: &[(String, Vec<String>)],
) -> Result<u64, DbError> {
    db.execute(
        "UPDATE outbox SET delivered_at = now()
         WHERE seq IN (
             SELECT o.seq FROM outbox o
             WHERE o.delivered_at IS NULL AND o.dead_at IS NULL AND o.published_at IS NOT NULL
               AND NOT EXISTS (
                   SELECT 1
                   FROM jsonb_array_elements_text(coalesce($1::jsonb -> o.channel, '[]'::jsonb)) AS r(consumer)
                   WHERE NOT EXISTS (
                       SELECT 1 FROM processed_events p
                       WHERE p.consumer = r.consumer AND p.event_id = o.event_id))
             FOR UPDATE OF o SKIP LOCKED)",
        &[Param::Jsonb(required_consumers_json(required_consumers)?)],
    )
}

/// The database's clock, in epoch microseconds: the relay's notion of "now",
/// so that the instants it compares come from one clock.
pub fn database_now_micros(db: &impl Db) -> Result<i64, DbError> {
    db.query(
        "SELECT (extract(epoch from now()) * 1000000)::int8 AS now_us",
        &[],
    )?
    .first()
    .ok_or_else(|| DbError::Decode("now() returned no row".into()))?
    .i64("now_us")
}

/// What the relay asks of one claim.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimRequest<'a> {
    /// At most this many events per claim.
    pub limit: u32,
    /// An event already published this many times is dead-lettered instead.
    pub max_attempts: u32,
    /// The wait before the first redelivery; it doubles with each attempt.
    pub base_delay_micros: i64,
    /// The longest wait between two attempts.
    pub max_backoff_micros: i64,
    /// Who must process each channel's events; used to explain dead letters.
    pub required_consumers: &'a [(String, Vec<String>)],
    /// Only events due at this instant (epoch microseconds, database clock)
    /// are taken: a relay passes the instant its tick started, so an event it
    /// claimed, whose next attempt falls after that, is not claimed again in
    /// the same tick however short the backoff.
    pub due_at_micros: i64,
    /// Only events after this point of the due order are taken: a relay
    /// passes the last point of its previous claim, so each claim of a tick
    /// starts where the last stopped instead of stepping again over the index
    /// entries of the rows it just claimed (old versions linger until vacuum).
    pub after: ClaimCursor,
}

/// A point in the order the relay claims in: (when due, seq).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct ClaimCursor {
    /// When the event was due, in epoch microseconds.
    pub due_at_micros: i64,
    pub seq: i64,
}

/// One event taken by a claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claimed {
    /// Publish it: the attempt is already counted and the next one scheduled.
    Publish {
        message: OutboxMessage,
        attempts: i64,
        cursor: ClaimCursor,
    },
    /// It had used up its attempts and is now in `dead_letters`.
    DeadLettered {
        message: OutboxMessage,
        dead_letter_id: i64,
        attempts: i64,
        reason: String,
        cursor: ClaimCursor,
    },
}

impl Claimed {
    /// Where the event stood in the claim order.
    pub fn cursor(&self) -> ClaimCursor {
        match self {
            Claimed::Publish { cursor, .. } | Claimed::DeadLettered { cursor, .. } => *cursor,
        }
    }
}

/// Claims up to `limit` due events in ONE statement.
///
/// `FOR UPDATE SKIP LOCKED` makes concurrent relays take disjoint events, and
/// the same statement pushes each claimed event's `next_attempt_at` out with
/// exponential backoff (`base * 2^attempts`, capped), so the claim is not a
/// lock held while publishing: a relay that crashes after claiming simply lets
/// the events fall due again. Due events that already reached `max_attempts`
/// are moved to `dead_letters` in the same statement, with a reason naming the
/// consumers that never processed them and their last error.
pub fn claim_due(db: &impl Db, request: &ClaimRequest<'_>) -> Result<Vec<Claimed>, DbError> {
    let rows = db.query(
        concat!(
            "WITH due AS (
                 SELECT seq, attempts, next_attempt_at FROM outbox
                 WHERE delivered_at IS NULL AND dead_at IS NULL
                   AND next_attempt_at <= least(now(), 'epoch'::timestamptz + $6::int8 * interval '1 microsecond')
                   AND (next_attempt_at, seq) > ('epoch'::timestamptz + $7::int8 * interval '1 microsecond', $8::int8)
                 ORDER BY next_attempt_at, seq
                 LIMIT $1::int8
                 FOR UPDATE SKIP LOCKED
             ),
             claimed AS (
                 UPDATE outbox o
                 SET attempts = o.attempts + 1,
                     next_attempt_at = now() + least(
                         ($3::int8)::float8 * power(2::float8, least(o.attempts, 40)),
                         ($4::int8)::float8) * interval '1 microsecond'
                 FROM due
                 WHERE o.seq = due.seq AND due.attempts < $2::int8
                 RETURNING o.seq, o.user_id, o.channel, ",
            published_envelope!("o"),
            " AS payload, o.attempts, due.next_attempt_at AS was_due_at
             ),
             dying AS (
                 UPDATE outbox o SET dead_at = now()
                 FROM due
                 WHERE o.seq = due.seq AND due.attempts >= $2::int8
                 RETURNING o.seq, o.user_id, o.event_id, o.channel, ",
            published_envelope!("o"),
            " AS payload, o.attempts, o.published_at IS NOT NULL AS was_published,
                           due.next_attempt_at AS was_due_at
             ),
             buried AS (
                 INSERT INTO dead_letters (seq, event_id, channel, reason, attempts)
                 SELECT d.seq, d.event_id, d.channel,
                        CASE WHEN NOT d.was_published
                             THEN format('never published in %s attempts: the message bus refused every time', d.attempts)
                             ELSE format('not processed after %s deliveries by %s', d.attempts, coalesce((
                                 SELECT string_agg(format('%s (%s)', r.consumer,
                                            coalesce('last error: ' || f.last_error, 'no error recorded')), ', ')
                                 FROM jsonb_array_elements_text(coalesce($5::jsonb -> d.channel, '[]'::jsonb)) AS r(consumer)
                                 LEFT JOIN consumer_failures f ON f.consumer = r.consumer AND f.event_id = d.event_id
                                 WHERE NOT EXISTS (SELECT 1 FROM processed_events p
                                                   WHERE p.consumer = r.consumer AND p.event_id = d.event_id)),
                                 'any consumer'))
                        END,
                        d.attempts
                 FROM dying d
                 RETURNING id, seq, reason
             )
             SELECT c.seq, c.user_id, c.channel, c.payload, c.attempts::int8 AS attempts,
                    NULL::int8 AS dead_letter_id, NULL::text AS reason,
                    (extract(epoch from c.was_due_at) * 1000000)::int8 AS was_due_us
             FROM claimed c
             UNION ALL
             SELECT d.seq, d.user_id, d.channel, d.payload, d.attempts::int8, b.id, b.reason,
                    (extract(epoch from d.was_due_at) * 1000000)::int8
             FROM dying d JOIN buried b ON b.seq = d.seq
             ORDER BY seq"
        ),
        &[
            Param::Int64(i64::from(request.limit)),
            Param::Int64(i64::from(request.max_attempts)),
            micros_param(request.base_delay_micros),
            micros_param(request.max_backoff_micros),
            Param::Jsonb(required_consumers_json(request.required_consumers)?),
            Param::Int64(request.due_at_micros),
            Param::Int64(request.after.due_at_micros),
            Param::Int64(request.after.seq),
        ],
    )?;
    rows.iter()
        .map(|row| {
            let message = message_from(row)?;
            let attempts = row.i64("attempts")?;
            let cursor = ClaimCursor {
                due_at_micros: row.i64("was_due_us")?,
                seq: message.seq,
            };
            Ok(match row.opt_i64("dead_letter_id")? {
                None => Claimed::Publish {
                    message,
                    attempts,
                    cursor,
                },
                Some(dead_letter_id) => Claimed::DeadLettered {
                    message,
                    dead_letter_id,
                    attempts,
                    reason: row.str("reason")?,
                    cursor,
                },
            })
        })
        .collect()
}

// ---------------------------------------------------------------------------
// Reading the log: the change feed.
// ---------------------------------------------------------------------------

/// The change feed cannot answer from a cursor: retention deleted events after it.
#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    /// Events after `after` are gone (retention deleted this user's events up
    /// to `pruned_seq`); the client must resync.
    #[error("events after position {after} are no longer kept: retention deleted this user's events up to position {pruned_seq}")]
    Pruned { after: i64, pruned_seq: i64 },
    #[error(transparent)]
    Db(#[from] DbError),
}

/// A user's events after `after_seq`, oldest first, with `sequence` set; or
/// [`FeedError::Pruned`] when retention deleted events after `after_seq`.
///
/// Safe to page with `after_seq` cursors while writers append: `append` makes
/// a user's sequence numbers commit in order, so nothing can appear later
/// behind a cursor already handed out. The horizon and the events are read in
/// one statement (one snapshot), so a retention run between two reads cannot
/// open a gap that goes unnoticed.
pub fn feed(
    db: &impl Db,
    user_id: &str,
    after_seq: i64,
    limit: u32,
) -> Result<Vec<Envelope>, FeedError> {
    let rows = db.query(
        "SELECT h.pruned_seq, e.seq, e.envelope
           FROM (SELECT coalesce(max(pruned_seq), 0)::int8 AS pruned_seq
                   FROM feed_horizon WHERE user_id = $1) h
           LEFT JOIN LATERAL (
                SELECT seq, envelope FROM outbox
                 WHERE user_id = $1 AND seq > $2::int8
                 ORDER BY seq
                 LIMIT $3::int8) e ON true
          ORDER BY e.seq",
        &[
            Param::Str(user_id.to_owned()),
            Param::Int64(after_seq),
            Param::Int64(i64::from(limit)),
        ],
    )?;
    // A cursor at the last deleted event has seen it, and nothing after it
    // was deleted: only a cursor strictly below the horizon may have a gap.
    let pruned_seq = match rows.first() {
        Some(row) => row.i64("pruned_seq")?,
        None => 0,
    };
    if after_seq < pruned_seq {
        return Err(FeedError::Pruned {
            after: after_seq,
            pruned_seq,
        });
    }
    let mut events = Vec::with_capacity(rows.len());
    for row in rows.iter() {
        if row.is_null("seq")? {
            continue;
        }
        let seq = row.i64("seq")?;
        let mut envelope: Envelope =
            serde_json::from_slice(&row.json("envelope")?).map_err(|e| {
                DbError::Decode(format!(
                    "outbox row {seq} does not hold a valid event envelope: {e}"
                ))
            })?;
        envelope.sequence = Some(spindle_domain::event::format_sequence(seq));
        events.push(envelope);
    }
    Ok(events)
}

/// The newest position of a user's feed, 0 when there is none: the cursor a
/// client starts from to hear only what happens next. Never below what
/// retention deleted, so `latest` stays a valid cursor after a user's old
/// events are gone.
pub fn latest_seq(db: &impl Db, user_id: &str) -> Result<i64, DbError> {
    let rows = db.query(
        "SELECT greatest(
                    (SELECT coalesce(max(seq), 0) FROM outbox WHERE user_id = $1),
                    (SELECT coalesce(max(pruned_seq), 0) FROM feed_horizon WHERE user_id = $1)
                )::int8 AS seq",
        &[Param::Str(user_id.to_owned())],
    )?;
    rows.first()
        .ok_or_else(|| DbError::Decode("max(seq) returned no row".into()))?
        .i64("seq")
}

// ---------------------------------------------------------------------------
// Retention.
// ---------------------------------------------------------------------------

/// Deletes up to `limit` events delivered more than `older_than_seconds` ago,
/// oldest delivery first, and raises each affected user's feed horizon
/// (`feed_horizon`) to the highest seq deleted, in the same statement, so the
/// change feed never serves a gap. Returns how many were deleted.
///
/// Only delivered events go: an event still pending may be republished, and
/// a dead-lettered one stays until an operator replays it (then it is
/// delivered and ages like any other), so an open dead letter never vanishes
/// on its own. Replayed dead letters go with their event (`ON DELETE CASCADE`).
pub fn prune_delivered(db: &impl Db, older_than_seconds: i64, limit: u32) -> Result<u64, DbError> {
    let rows = db.query(
        "WITH doomed AS (
             SELECT seq FROM outbox
              WHERE delivered_at IS NOT NULL
                AND delivered_at < now() - $1::int8 * interval '1 second'
              ORDER BY delivered_at
              LIMIT $2::int8
              FOR UPDATE SKIP LOCKED),
         gone AS (
             DELETE FROM outbox o USING doomed WHERE o.seq = doomed.seq
             RETURNING o.user_id, o.seq),
         horizon AS (
             INSERT INTO feed_horizon (user_id, pruned_seq)
             SELECT user_id, max(seq) FROM gone GROUP BY user_id
             ON CONFLICT (user_id) DO UPDATE
             SET pruned_seq = greatest(feed_horizon.pruned_seq, excluded.pruned_seq))
         SELECT count(*)::int8 AS deleted FROM gone",
        &[
            Param::Int64(older_than_seconds),
            Param::Int64(i64::from(limit)),
        ],
    )?;
    deleted_count(&rows)
}

/// The `deleted` count of a retention statement.
fn deleted_count(rows: &spindle_ports::Rows) -> Result<u64, DbError> {
    let n = rows
        .first()
        .ok_or_else(|| DbError::Decode("a retention delete returned no count".into()))?
        .i64("deleted")?;
    Ok(u64::try_from(n).unwrap_or(0))
}
