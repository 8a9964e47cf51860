-- The event log (transactional outbox) and what makes consumers effect-once.

CREATE TABLE outbox (
    seq              bigserial   PRIMARY KEY,
    event_id         uuid        NOT NULL UNIQUE,
    type             text        NOT NULL,
    channel          text        NOT NULL,
    user_id          text        NOT NULL,
    task_id          uuid,
    -- The CloudEvents envelope without `sequence`, which is derived from seq on read.
    envelope         jsonb       NOT NULL CHECK (jsonb_typeof(envelope) = 'object'),
    created_at       timestamptz NOT NULL DEFAULT now(),
    published_at     timestamptz,
    attempts         integer     NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now() + interval '5 seconds',
    delivered_at     timestamptz,
    dead_at          timestamptz
);

CREATE INDEX outbox_user_seq ON outbox (user_id, seq);
CREATE INDEX outbox_task_seq ON outbox (task_id, seq);
-- The relay claims due events in (next_attempt_at, seq) order, each claim of a tick
-- starting after the last (keyset), so it reads only due rows.
CREATE INDEX outbox_pending  ON outbox (next_attempt_at, seq) WHERE delivered_at IS NULL AND dead_at IS NULL;

CREATE TABLE processed_events (
    consumer      text        NOT NULL,
    event_id      uuid        NOT NULL,
    processed_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);

-- Why a consumer last failed on an event, written after its transaction rolled
-- back, so that a dead letter can say what went wrong.
CREATE TABLE consumer_failures (
    consumer        text        NOT NULL,
    event_id        uuid        NOT NULL,
    failures        integer     NOT NULL DEFAULT 1,
    last_error      text        NOT NULL,
    last_failed_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);

CREATE TABLE dead_letters (
    id           bigserial   PRIMARY KEY,
    seq          bigint      NOT NULL REFERENCES outbox (seq) ON DELETE CASCADE,
    event_id     uuid        NOT NULL,
    channel      text        NOT NULL,
    reason       text        NOT NULL,
    attempts     integer     NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    replayed_at  timestamptz
);

CREATE INDEX dead_letters_open ON dead_letters (id) WHERE replayed_at IS NULL;

CREATE TABLE audit_log (
    id           bigserial   PRIMARY KEY,
    event_id     uuid        NOT NULL UNIQUE,
    seq          bigint      NOT NULL,
    user_id      text        NOT NULL,
    task_id      uuid        NOT NULL,
    type         text        NOT NULL,
    actor        text        NOT NULL,
    changes      jsonb       NOT NULL DEFAULT '{}',
    occurred_at  timestamptz NOT NULL
);

CREATE INDEX audit_log_task ON audit_log (user_id, task_id, seq DESC);
