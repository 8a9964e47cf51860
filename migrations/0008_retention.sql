-- Running for a year: the tick's heartbeat, and what retention needs.

-- One row: when a tick last finished, so /metrics can tell the age of the last
-- tick and retention can run at its own, slower pace.
CREATE TABLE tick_heartbeat (
    id                boolean     PRIMARY KEY DEFAULT true CHECK (id),
    last_tick_at      timestamptz NOT NULL,
    last_retention_at timestamptz
);

-- Retention deletes what is old and finished in bounded batches, oldest first;
-- each batch reads one of these partial indexes, which hold only rows that can
-- ever be deleted, so a run costs what it deletes, not the size of the table.
CREATE INDEX outbox_delivered ON outbox (delivered_at) WHERE delivered_at IS NOT NULL;
CREATE INDEX processed_events_age ON processed_events (processed_at);
CREATE INDEX consumer_failures_age ON consumer_failures (last_failed_at);
CREATE INDEX deliveries_finished ON deliveries (updated_at)
    WHERE state IN ('delivered', 'failed', 'skipped');
CREATE INDEX notifications_read_age ON notifications (created_at) WHERE read_at IS NOT NULL;
-- (idempotency_keys already has idempotency_keys_age on created_at.)
-- Deleting an outbox row cascades to its dead letters: without this index every
-- deleted row would scan dead_letters.
CREATE INDEX dead_letters_seq ON dead_letters (seq);

-- Per user, the highest outbox seq retention has deleted: a change-feed cursor
-- below it may have missed events that are gone, so the feed answers 410 Gone
-- and the client resyncs instead of silently skipping them.
CREATE TABLE feed_horizon (
    user_id     text   PRIMARY KEY,
    pruned_seq  bigint NOT NULL
);
