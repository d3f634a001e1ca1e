-- Request limits per role (issue 20, lib/ratelimit.c).
--
-- Each program counts a user's requests, and each API token's besides,
-- in a table of shared memory on its host; how many a role may make in
-- period_sec comes from here.  A role without a row has the defaults of
-- the programs' environment (RELAIS_RATELIMIT_USER, _ADMIN), so the table
-- starts empty: an operator changes a default in one place, and a row
-- says an admin chose that role's numbers.  0 is unlimited.
--
-- The programs read this table on every authenticated request through
-- their cache (lib/cache.c): the trigger tells every program on every
-- host at commit, so an admin's change applies from the next request.
-- The bounds are lib/bounds.h's RL_RATELIMIT_REQUESTS_MAX and
-- RL_RATELIMIT_PERIOD_MAX.
CREATE TABLE rate_limits (
	role		text PRIMARY KEY
		CHECK (role IN ('invite', 'cp', 'professeur', 'coordo',
		    'admin')),
	requests	integer NOT NULL
		CHECK (requests BETWEEN 0 AND 100000),
	token_requests	integer NOT NULL
		CHECK (token_requests BETWEEN 0 AND 100000),
	period_sec	integer NOT NULL DEFAULT 60
		CHECK (period_sec BETWEEN 1 AND 86400),
	updated_at	timestamptz NOT NULL DEFAULT now()
);

CREATE TRIGGER rate_limits_cache AFTER INSERT OR UPDATE OR DELETE OR
	TRUNCATE ON rate_limits
	FOR EACH STATEMENT EXECUTE FUNCTION relais_cache_notify();
