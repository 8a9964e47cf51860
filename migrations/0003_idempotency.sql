-- Replays of POST requests that carried an Idempotency-Key.

CREATE TABLE idempotency_keys (
    user_id        text        NOT NULL,
    key            text        NOT NULL,
    request_hash   text        NOT NULL,
    status         smallint,
    headers        jsonb,
    body           text,
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, key)
);

CREATE INDEX idempotency_keys_age ON idempotency_keys (created_at);
