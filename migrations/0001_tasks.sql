-- Tasks and their reminders: the system of record.

-- Spin's Postgres interface can neither read nor bind timestamptz, so instants
-- cross the boundary as integer microseconds since the Unix epoch, converted
-- exactly (no floating point) by these two functions. They are STABLE, like the
-- timestamptz arithmetic inside them, so the planner inlines them.
CREATE FUNCTION ts_from_us(us bigint) RETURNS timestamptz
    LANGUAGE sql STABLE STRICT PARALLEL SAFE
    RETURN timestamptz 'epoch' + us * interval '1 microsecond';

CREATE FUNCTION us_from_ts(ts timestamptz) RETURNS bigint
    LANGUAGE sql STABLE STRICT PARALLEL SAFE
    RETURN (extract(epoch FROM ts) * 1000000)::bigint;

CREATE TABLE tasks (
    id            uuid        PRIMARY KEY,
    user_id       text        NOT NULL,
    title         text        NOT NULL CHECK (length(title) BETWEEN 1 AND 500),
    description   text        NOT NULL DEFAULT '' CHECK (length(description) <= 10000),
    priority      integer     NOT NULL DEFAULT 4 CHECK (priority BETWEEN 1 AND 4),
    tags          text[]      NOT NULL DEFAULT '{}',
    status        text        NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'completed')),
    completed_at  timestamptz,
    due_at        timestamptz,
    timezone      text        NOT NULL DEFAULT 'UTC',
    recurrence    text,
    series_id     uuid,
    occurrence    integer     NOT NULL DEFAULT 0,
    version       bigint      NOT NULL DEFAULT 1,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    -- 'simple' keeps words as typed (lower-cased, no stemming) so prefix search
    -- matches what the user sees; the title weighs more than the description.
    search        tsvector    GENERATED ALWAYS AS (
                      setweight(to_tsvector('simple', title), 'A')
                      || setweight(to_tsvector('simple', description), 'B')
                  ) STORED,
    CHECK ((status = 'completed') = (completed_at IS NOT NULL))
);

-- Keyset pagination: one index per sort order, each ending in id so that the
-- order is total. Tasks without a due date sort last in both directions.
CREATE INDEX tasks_user_due_asc   ON tasks (user_id, (coalesce(due_at, 'infinity'::timestamptz)), id);
CREATE INDEX tasks_user_due_desc  ON tasks (user_id, (coalesce(due_at, '-infinity'::timestamptz)), id);
CREATE INDEX tasks_user_created   ON tasks (user_id, created_at, id);
CREATE INDEX tasks_user_updated   ON tasks (user_id, updated_at, id);
CREATE INDEX tasks_user_priority  ON tasks (user_id, priority, id);
CREATE INDEX tasks_user_title     ON tasks (user_id, lower(title), id);
CREATE INDEX tasks_search         ON tasks USING gin (search);
CREATE INDEX tasks_tags           ON tasks USING gin (tags);

CREATE TABLE reminders (
    id              uuid        PRIMARY KEY,
    task_id         uuid        NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    user_id         text        NOT NULL,
    position        integer     NOT NULL,
    minutes_before  integer     CHECK (minutes_before BETWEEN 0 AND 525600),
    at              timestamptz,
    -- NULL while a relative reminder's task has no due date.
    fire_at         timestamptz,
    state           text        NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'fired', 'delivered', 'failed', 'cancelled')),
    created_at      timestamptz NOT NULL,
    CHECK ((minutes_before IS NULL) <> (at IS NULL))
);

CREATE INDEX reminders_task ON reminders (task_id, position);

CREATE INDEX reminders_due ON reminders (fire_at) WHERE state = 'pending';
