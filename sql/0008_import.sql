-- Issue 8: uploaded PDFs waiting for their import task.
--
-- A PDF import answers at once with a task id; relais-worker sends the file
-- to the Files API later, maybe from another host, so the bytes must
-- outlive the request somewhere both can read.  PostgreSQL is that place:
-- the row commits in the same transaction as its task (no task without its
-- file, no file without its task), the task deletes it when it ends
-- (success, failure or cancel), and a task that never ran takes its row
-- with it when the task is purged (CASCADE).  The size check mirrors
-- RL_UPLOAD_MAX (20 MiB): nothing bigger ever reaches this table.
CREATE TABLE import_uploads (
	task_id		uuid PRIMARY KEY REFERENCES tasks (id) ON DELETE CASCADE,
	filename	text NOT NULL CHECK (btrim(filename) <> ''),
	data		bytea NOT NULL
			CHECK (octet_length(data) BETWEEN 1 AND 20971520),
	created_at	timestamptz NOT NULL DEFAULT now()
);

-- The task removes its row when it ends, but a task can also end without
-- running (cancelled while queued) or be finished by someone else (the
-- reaper, an operator): whichever code path ends it, the bytes go.
CREATE FUNCTION import_uploads_drop() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	DELETE FROM import_uploads WHERE task_id = NEW.id;
	RETURN NULL;
END;
$$;
CREATE TRIGGER tasks_import_uploads_drop AFTER UPDATE OF state ON tasks
	FOR EACH ROW WHEN (NEW.state IN ('SUCCESS', 'FAILURE', 'REVOKED')
			   AND OLD.state IS DISTINCT FROM NEW.state)
	EXECUTE FUNCTION import_uploads_drop();
