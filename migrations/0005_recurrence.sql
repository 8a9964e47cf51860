-- Recurring tasks: how the next due date is found, where the series starts,
-- and exactly one task per occurrence of a series.

ALTER TABLE tasks
    ADD COLUMN recurrence_mode text NOT NULL DEFAULT 'schedule'
        CHECK (recurrence_mode IN ('schedule', 'from_completion')),
    -- The series' first due date (RFC 5545 DTSTART): the rule is expanded from
    -- it, in the task's time zone.
    ADD COLUMN series_start timestamptz;

UPDATE tasks SET series_start = due_at WHERE recurrence IS NOT NULL;

-- The last word on "one next task per completed occurrence": a duplicate or
-- concurrent creation conflicts here, whatever the code did before. Tasks
-- outside any series have a NULL series_id and never conflict. It also serves
-- listing a series by occurrence.
ALTER TABLE tasks ADD CONSTRAINT tasks_series_occurrence UNIQUE (series_id, occurrence);
