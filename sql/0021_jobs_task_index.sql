-- Issue 17: one index entry less per synchronous AI job.
--
-- A synchronous /ai/openai/chat/ job's row is written before its answer
-- (the answer carries its id) and has no task; only an async job names
-- one.  openai_jobs_task_id_idx (0003) indexed every NULL, for the ON
-- DELETE SET NULL of its foreign key; it now indexes the rows that name
-- a task, as 0020 did for the holds and the ledger ("$1 = task_id"
-- implies task_id IS NOT NULL: the referential action and a lookup by
-- task use it in a generic plan too).
DROP INDEX openai_jobs_task_id_idx;
CREATE INDEX openai_jobs_task_id_idx ON openai_jobs (task_id)
	WHERE task_id IS NOT NULL;
