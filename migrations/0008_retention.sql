-- Running for a year: the tick's heartbeat, and what retention needs.

-- One row: when a tick last finished, so /metrics can tell the age of the last
-- tick and retention can run at its own, slower pace.
CREATE TABLE tick_heartbeat (
    id                boolean     PRIMARY KEY DEFAULT true CHECK (id),
    last_tick_at      timestamptz NOT NULL,
    last_retention_at timestamptz
);
