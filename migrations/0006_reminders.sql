-- Reminders that fire: a `missed` state, where to deliver (channels), what was sent
-- (deliveries, one per reminder and channel), and the in-app inbox (notifications).

ALTER TABLE reminders DROP CONSTRAINT reminders_state_check;
ALTER TABLE reminders ADD CONSTRAINT reminders_state_check
    CHECK (state IN ('pending', 'fired', 'missed', 'delivered', 'failed', 'cancelled'));
-- When the tick claimed it.
ALTER TABLE reminders ADD COLUMN fired_at timestamptz;

CREATE TABLE channels (
    id                   uuid        PRIMARY KEY,
    user_id              text        NOT NULL,
    kind                 text        NOT NULL CHECK (kind IN ('webhook')),
    name                 text        NOT NULL,
    -- Where to deliver: a webhook URL (other kinds keep their target here too).
    target               text        NOT NULL,
    -- Standard Webhooks secret (`whsec_…`) and, for 24 h after a rotation, the old one.
    secret               text,
    previous_secret      text,
    previous_expires_at  timestamptz,
    enabled              boolean     NOT NULL DEFAULT true,
    disabled_reason      text,
    -- Deliveries that failed for good since the last success.
    consecutive_failures integer     NOT NULL DEFAULT 0,
    created_at           timestamptz NOT NULL,
    updated_at           timestamptz NOT NULL
);

CREATE INDEX channels_user ON channels (user_id, created_at, id);

CREATE TABLE deliveries (
    id               uuid        PRIMARY KEY,
    channel_id       uuid        NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    user_id          text        NOT NULL,
    -- NULL for a test ping.
    reminder_id      uuid        REFERENCES reminders (id) ON DELETE CASCADE,
    task_id          uuid,
    -- The JSON body, fixed at creation so every retry sends the same bytes.
    payload          jsonb       NOT NULL,
    state            text        NOT NULL DEFAULT 'pending'
                     CHECK (state IN ('pending', 'sending', 'delivered', 'failed', 'skipped')),
    attempts         integer     NOT NULL DEFAULT 0,
    -- pending: when to try next; sending: when the sender's lease ends.
    next_attempt_at  timestamptz NOT NULL,
    -- The tick has announced it on `reminders` until then (not again before).
    announced_until  timestamptz,
    last_status      integer,
    last_error       text,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    UNIQUE (reminder_id, channel_id)
);

CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE state IN ('pending', 'sending');
CREATE INDEX deliveries_channel ON deliveries (channel_id, created_at DESC, id DESC);

CREATE TABLE notifications (
    id           uuid        PRIMARY KEY,
    user_id      text        NOT NULL,
    kind         text        NOT NULL CHECK (kind IN ('reminder', 'missed_reminder', 'channel_disabled')),
    -- One entry per reminder, however often it is delivered.
    reminder_id  uuid        UNIQUE,
    task_id      uuid,
    channel_id   uuid,
    title        text        NOT NULL,
    due_at       timestamptz,
    fire_at      timestamptz,
    created_at   timestamptz NOT NULL,
    read_at      timestamptz
);

CREATE INDEX notifications_user ON notifications (user_id, created_at DESC, id DESC);
CREATE INDEX notifications_unread ON notifications (user_id) WHERE read_at IS NULL;
