-- Per-user tag counts, kept current by the statements that write tasks: a
-- statement-level trigger folds each statement's changed rows into the counts,
-- inside that statement, so GET /api/tags reads a user's few count rows
-- instead of unnesting the tags of every task (100 ms at 100 000 tasks).

CREATE TABLE tag_counts (
    user_id  text   NOT NULL,
    tag      text   NOT NULL,
    open     bigint NOT NULL DEFAULT 0,
    total    bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, tag)
);

-- Adds the rows a statement inserted (or the new side of an update) and
-- subtracts those it deleted (or the old side). Counts are upserted in key
-- order, so two statements touching the same tags never deadlock; a statement
-- that changes no tag and no status writes nothing. A tag whose total falls to
-- zero keeps its row at zero, which readers skip.
CREATE FUNCTION tag_counts_apply() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO tag_counts AS c (user_id, tag, open, total)
        SELECT n.user_id, tag, count(*) FILTER (WHERE n.status = 'open'), count(*)
          FROM new_rows n, unnest(n.tags) AS tag
         GROUP BY n.user_id, tag
         ORDER BY n.user_id, tag
        ON CONFLICT (user_id, tag)
        DO UPDATE SET open = c.open + excluded.open, total = c.total + excluded.total;
    ELSIF TG_OP = 'DELETE' THEN
        UPDATE tag_counts c SET open = c.open - d.open, total = c.total - d.total
          FROM (SELECT o.user_id, tag, count(*) FILTER (WHERE o.status = 'open') AS open, count(*) AS total
                  FROM old_rows o, unnest(o.tags) AS tag
                 GROUP BY o.user_id, tag) d
         WHERE c.user_id = d.user_id AND c.tag = d.tag;
    ELSE
        INSERT INTO tag_counts AS c (user_id, tag, open, total)
        SELECT user_id, tag, sum(open), sum(total)
          FROM (SELECT n.user_id, tag, (n.status = 'open')::int AS open, 1 AS total
                  FROM new_rows n, unnest(n.tags) AS tag
                UNION ALL
                SELECT o.user_id, tag, -(o.status = 'open')::int, -1
                  FROM old_rows o, unnest(o.tags) AS tag) d
         GROUP BY user_id, tag
        HAVING sum(open) <> 0 OR sum(total) <> 0
         ORDER BY user_id, tag
        ON CONFLICT (user_id, tag)
        DO UPDATE SET open = c.open + excluded.open, total = c.total + excluded.total;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER tasks_tag_counts_insert AFTER INSERT ON tasks
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION tag_counts_apply();
CREATE TRIGGER tasks_tag_counts_update AFTER UPDATE ON tasks
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION tag_counts_apply();
CREATE TRIGGER tasks_tag_counts_delete AFTER DELETE ON tasks
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION tag_counts_apply();

INSERT INTO tag_counts (user_id, tag, open, total)
SELECT t.user_id, tag, count(*) FILTER (WHERE t.status = 'open'), count(*)
  FROM tasks t, unnest(t.tags) AS tag
 GROUP BY t.user_id, tag;
