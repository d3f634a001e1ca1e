-- Issue 17: relais' own statements keep users.held themselves.
--
-- The trigger of 0010 kept held equal to the sum of the open holds for
-- whoever opened or closed one.  For relais' money statements
-- (lib/credits.c) that cost a PL/pgSQL call and a second update of the
-- user row per reservation and per settlement: a sixth of PostgreSQL's
-- time on a billed call, and one more row version of the hottest row.
-- Those statements now change held in the same UPDATE that checks or
-- debits the balance, and every relais connection says so at start-up
-- (lib/db.c: -c relais.keeps_held=on).  The trigger stays for everyone
-- else: an operator or a test with psql opening or closing a hold still
-- gets held kept.
--
-- A relais connection must therefore never open or close a hold outside
-- lib/credits.c (tests/check-owners.sh refuses it in the code), and a
-- future migration that changes holds must adjust held itself.
CREATE OR REPLACE TRIGGER credit_reservations_held_insert
	AFTER INSERT ON credit_reservations
	FOR EACH ROW WHEN (current_setting('relais.keeps_held', true)
		IS DISTINCT FROM 'on')
	EXECUTE FUNCTION credit_reservations_held();
CREATE OR REPLACE TRIGGER credit_reservations_held_update
	AFTER UPDATE OF state, amount, user_id ON credit_reservations
	FOR EACH ROW WHEN (current_setting('relais.keeps_held', true)
		IS DISTINCT FROM 'on' AND
		(OLD.state IS DISTINCT FROM NEW.state OR
		OLD.amount IS DISTINCT FROM NEW.amount OR
		OLD.user_id IS DISTINCT FROM NEW.user_id))
	EXECUTE FUNCTION credit_reservations_held();
