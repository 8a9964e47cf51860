-- What /metrics reads, each figure from an index or a few rows, so that a
-- scrape stays cheap however many tasks there are.

-- Tasks by status, kept by a statement-level trigger like tag_counts. A single
-- row per status would make every write of every user wait on the same row
-- lock until its transaction commits; the counts are split into 64 shards by
-- user instead (a user's writes always land on the same shard, and two users
-- share one 1 time in 64), and a scrape sums the 128 rows.
CREATE TABLE task_counts (
    shard   smallint NOT NULL CHECK (shard BETWEEN 0 AND 63),
    status  text     NOT NULL,
    n       bigint   NOT NULL DEFAULT 0,
    PRIMARY KEY (shard, status)
);

-- Folds a statement's changed rows into the counts, upserting in key order so
-- that two statements never deadlock; an update that changes no status (most
-- of them) writes nothing.
CREATE FUNCTION task_counts_apply() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO task_counts AS c (shard, status, n)
        SELECT hashtext(n.user_id) & 63, n.status, count(*)
          FROM new_rows n
         GROUP BY 1, 2
         ORDER BY 1, 2
        ON CONFLICT (shard, status) DO UPDATE SET n = c.n + excluded.n;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO task_counts AS c (shard, status, n)
        SELECT hashtext(o.user_id) & 63, o.status, -count(*)
          FROM old_rows o
         GROUP BY 1, 2
         ORDER BY 1, 2
        ON CONFLICT (shard, status) DO UPDATE SET n = c.n + excluded.n;
    ELSE
        INSERT INTO task_counts AS c (shard, status, n)
        SELECT shard, status, sum(d)
          FROM (SELECT hashtext(n.user_id) & 63 AS shard, n.status, 1 AS d FROM new_rows n
                UNION ALL
                SELECT hashtext(o.user_id) & 63, o.status, -1 FROM old_rows o) changed
         GROUP BY shard, status
        HAVING sum(d) <> 0
         ORDER BY shard, status
        ON CONFLICT (shard, status) DO UPDATE SET n = c.n + excluded.n;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER tasks_task_counts_insert AFTER INSERT ON tasks
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION task_counts_apply();
CREATE TRIGGER tasks_task_counts_update AFTER UPDATE ON tasks
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION task_counts_apply();
CREATE TRIGGER tasks_task_counts_delete AFTER DELETE ON tasks
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION task_counts_apply();

INSERT INTO task_counts (shard, status, n)
SELECT hashtext(user_id) & 63, status, count(*)
  FROM tasks
 GROUP BY 1, 2;

-- Consumer lag per channel: the oldest undelivered event of each channel is
-- the first entry of its range.
CREATE INDEX outbox_pending_channel ON outbox (channel, created_at)
    WHERE delivered_at IS NULL AND dead_at IS NULL;

-- Reminders the tick marked missed, by when it did.
CREATE INDEX reminders_missed ON reminders (fired_at) WHERE state = 'missed';

-- Reminder deliveries by when they last changed state (the last hour's).
CREATE INDEX deliveries_recent ON deliveries (updated_at) WHERE reminder_id IS NOT NULL;

CREATE INDEX channels_disabled ON channels (kind) WHERE NOT enabled;
