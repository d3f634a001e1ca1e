-- Issue 17: a synchronous AI job's row no longer locks its user's row.
--
-- openai_jobs.user_id referenced users (0003): inserting a job took FOR
-- KEY SHARE on the user's row to check it, while the same user's money
-- statements (reservations, settlements) held FOR NO KEY UPDATE on it.
-- Two such locks on one row make a MultiXact: at 64 concurrent
-- /ai/openai/chat/ calls of one user, ~27,000 MultiXact page reads in
-- 4 s, and 4,320-4,480 calls/s against 4,580-5,080 without the check.
--
-- The check added nothing: a job is written for the authenticated user
-- of the request.  What the reference also did, delete a user's jobs
-- with the user, is now this trigger, whoever deletes (relais, EDxo, an
-- operator).  A user with billed calls keeps ledger rows, which restrict
-- the deletion as before (README: money history is not deleted as a side
-- effect).
ALTER TABLE openai_jobs DROP CONSTRAINT openai_jobs_user_id_fkey;

CREATE FUNCTION relais_openai_jobs_user_gone() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	DELETE FROM openai_jobs WHERE user_id = OLD.id;
	RETURN OLD;
END
$$;

CREATE TRIGGER relais_openai_jobs_user_gone AFTER DELETE ON users
	FOR EACH ROW EXECUTE FUNCTION relais_openai_jobs_user_gone();
