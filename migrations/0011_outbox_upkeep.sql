-- Keeping the outbox fast as it ages (bench-relay-aging).

-- The relay's write amplification. Claiming, publishing and delivering an event
-- each change a column of outbox_pending, so none is a HOT update: every index
-- of the outbox gets a new entry each time. outbox_task_seq is read by no query
-- (history reads audit_log), and its random task ids cost a leaf page per
-- update once the table outgrows the cache: gone.
DROP INDEX outbox_task_seq;

-- Rows the relay delivered leave dead entries in outbox_pending until a vacuum,
-- and every tick walks them (marking delivered, the first claim). Autovacuum's
-- default waits until 20 % of the table is dead, which on a large outbox is
-- hundreds of thousands of entries (measured: 1 000 000 of them made marking
-- delivered take 1.9 s per tick instead of 45 ms). Vacuum the outbox after 2 %.
ALTER TABLE outbox SET (autovacuum_vacuum_scale_factor = 0.02, autovacuum_vacuum_threshold = 1000);
