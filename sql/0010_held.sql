-- Issue 17: a reservation in one statement.
--
-- Reserving used to lock the user row, sum the user's open holds and
-- insert the new hold: a transaction of four round trips before every
-- upstream call.  held is that sum kept on the user row, so that a
-- reservation is one statement: lock the row where credits - held covers
-- the amount, insert the hold.  Concurrent reservations queue on the row
-- lock, and READ COMMITTED re-checks the condition on the row as the one
-- before left it, so no two spend the same money.
--
-- A trigger keeps held, not the programs: whoever opens or closes a hold
-- (lib/credits.c in the programs, but also an operator or a test with
-- psql) keeps it equal to the sum of the user's 'reserved' amounts.  It
-- runs AFTER the statement's rows, so a statement that changes the user
-- row itself (a settlement's debit) has done so before.
--
-- held may exceed credits: an admin's withdrawal ignores open holds,
-- whose settlements are capped at the balance.  It is never negative.
ALTER TABLE users
	ADD COLUMN held numeric(14,6) NOT NULL DEFAULT 0 CHECK (held >= 0);

UPDATE users u SET held = o.amount
FROM (SELECT user_id, sum(amount) AS amount FROM credit_reservations
      WHERE state = 'reserved' GROUP BY user_id) o
WHERE u.id = o.user_id;

CREATE FUNCTION credit_reservations_held() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP <> 'INSERT' AND OLD.state = 'reserved' THEN
		UPDATE users SET held = held - OLD.amount
		WHERE id = OLD.user_id;
	END IF;
	IF TG_OP <> 'DELETE' AND NEW.state = 'reserved' THEN
		UPDATE users SET held = held + NEW.amount
		WHERE id = NEW.user_id;
	END IF;
	RETURN NULL;
END;
$$;

CREATE TRIGGER credit_reservations_held_insert
	AFTER INSERT ON credit_reservations
	FOR EACH ROW EXECUTE FUNCTION credit_reservations_held();
-- Only a change of what counts: attaching a task or ageing a hold does
-- not touch the user row.
CREATE TRIGGER credit_reservations_held_update
	AFTER UPDATE OF state, amount, user_id ON credit_reservations
	FOR EACH ROW WHEN (OLD.state IS DISTINCT FROM NEW.state OR
		OLD.amount IS DISTINCT FROM NEW.amount OR
		OLD.user_id IS DISTINCT FROM NEW.user_id)
	EXECUTE FUNCTION credit_reservations_held();
CREATE TRIGGER credit_reservations_held_delete
	AFTER DELETE ON credit_reservations
	FOR EACH ROW EXECUTE FUNCTION credit_reservations_held();

-- A hold left open by a process that died (the sweep finds it after
-- RL_CREDITS_HOLD_MAX_SEC) is billed at its reserved amount instead of
-- being given back: its call may well have reached the upstream, which
-- bills what it produced, and the outcome died with the process.  Such
-- ledger rows say 'lost'.
ALTER TABLE usage_ledger
	DROP CONSTRAINT usage_ledger_status_check,
	ADD CONSTRAINT usage_ledger_status_check
		CHECK (status IN ('ok', 'failed', 'partial', 'lost'));
