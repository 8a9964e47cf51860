-- Pending reminders for /metrics, kept like task_counts (migration 0009): 64
-- shards by user, folded in by a statement-level trigger inside every statement
-- that writes reminders, so a scrape sums 64 rows instead of counting every
-- pending reminder (23-43 ms at 233 000 of them, bench-metrics). Only `pending` is counted: the
-- later states (fired, delivered, ...) change without touching a count row.

CREATE TABLE reminder_counts (
    shard    smallint PRIMARY KEY CHECK (shard BETWEEN 0 AND 63),
    pending  bigint   NOT NULL DEFAULT 0
);

-- Rows are upserted in shard order, so two statements never deadlock; a
-- statement that leaves the number of pending reminders of every shard as it
-- was writes nothing.
CREATE FUNCTION reminder_counts_apply() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO reminder_counts AS c (shard, pending)
        SELECT hashtext(n.user_id) & 63, count(*)
          FROM new_rows n
         WHERE n.state = 'pending'
         GROUP BY 1
         ORDER BY 1
        ON CONFLICT (shard) DO UPDATE SET pending = c.pending + excluded.pending;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO reminder_counts AS c (shard, pending)
        SELECT hashtext(o.user_id) & 63, -count(*)
          FROM old_rows o
         WHERE o.state = 'pending'
         GROUP BY 1
         ORDER BY 1
        ON CONFLICT (shard) DO UPDATE SET pending = c.pending + excluded.pending;
    ELSE
        INSERT INTO reminder_counts AS c (shard, pending)
        SELECT shard, sum(d)
          FROM (SELECT hashtext(n.user_id) & 63 AS shard, 1 AS d FROM new_rows n WHERE n.state = 'pending'
                UNION ALL
                SELECT hashtext(o.user_id) & 63, -1 FROM old_rows o WHERE o.state = 'pending') changed
         GROUP BY shard
        HAVING sum(d) <> 0
         ORDER BY shard
        ON CONFLICT (shard) DO UPDATE SET pending = c.pending + excluded.pending;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER reminders_reminder_counts_insert AFTER INSERT ON reminders
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION reminder_counts_apply();
CREATE TRIGGER reminders_reminder_counts_update AFTER UPDATE ON reminders
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION reminder_counts_apply();
CREATE TRIGGER reminders_reminder_counts_delete AFTER DELETE ON reminders
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION reminder_counts_apply();

INSERT INTO reminder_counts (shard, pending)
SELECT hashtext(user_id) & 63, count(*)
  FROM reminders
 WHERE state = 'pending'
 GROUP BY 1;
