-- How many reminders a task has, written in the same statement as the reminders
-- themselves: a list reads a task's reminders only when it has some, instead of
-- probing the reminders table once for every row of the page.

ALTER TABLE tasks ADD COLUMN reminder_count smallint NOT NULL DEFAULT 0
    CHECK (reminder_count >= 0);

UPDATE tasks t
   SET reminder_count = r.n
  FROM (SELECT task_id, count(*) AS n FROM reminders GROUP BY task_id) r
 WHERE r.task_id = t.id;
