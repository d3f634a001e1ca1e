-- Issue 14: login attempts counted per account, not per name typed.
--
-- An account can be reached by its username or by its e-mail, and both
-- must exhaust one allowance: lib/auth.c now counts failures by the id of
-- the account the name resolves to, and by the name as typed only when no
-- account has it (so that guessing names costs the same as guessing
-- passwords).  Rows written before this migration have no id and keep
-- counting against the name typed until the window (RL_LOGIN_WINDOW_SEC)
-- forgets them.
--
-- No foreign key, as for the rest of the table: an attempt is a log line,
-- ids are never reused (identity), and a login that races an account's
-- deletion must not fail on a constraint.
ALTER TABLE login_attempts ADD COLUMN user_id bigint;

-- The limiter's count for a known account: recent failures of one id.
CREATE INDEX login_attempts_user_id_at_idx ON login_attempts (user_id, at);
