-- Issue 18: importing an EDxo database (bin/relais-import-edxo).
--
-- EDxo's users keep their passwords: werkzeug's hashes are stored as they
-- are and re-hashed to argon2id at the first successful login.  The check
-- of 0001 only let argon2 strings in; it now also lets in the werkzeug
-- formats (METHOD$SALT$HEX: pbkdf2:HASH[:ITER], scrypt:N:r:p, and the
-- legacy salted HMAC HASH$SALT$HEX of werkzeug < 2.3), and '!', which no
-- verifier accepts: an account whose EDxo hash was empty or unreadable,
-- that must have its password reset.  A clear text ("plain$$...") never
-- matches: the importer hashes such a password instead of storing it.
ALTER TABLE users
	DROP CONSTRAINT users_password_hash_check,
	ADD CONSTRAINT users_password_hash_check
		CHECK (password_hash LIKE '$argon2%' OR password_hash = '!'
		    OR password_hash ~ ('^(pbkdf2:[a-z0-9]+(:[0-9]+)?'
			'|scrypt:[0-9]+:[0-9]+:[0-9]+'
			'|sha1|sha224|sha256|sha384|sha512|md5)'
			'\$[^$]*\$[0-9a-f]+$'));

-- One row per import that committed.  Its presence is what lets a second
-- run update the institution an earlier run created, where a database
-- holding another institution (the demo, or one typed into relais) is
-- refused.  counts is the report's table of counts.
CREATE TABLE edxo_imports (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	source		text NOT NULL,
	alembic_version	text,
	counts		jsonb NOT NULL CHECK (jsonb_typeof(counts) = 'object'),
	imported_at	timestamptz NOT NULL DEFAULT now()
);

-- EDxo's value where the import had to change a number (float money
-- rounded to the micro-dollar, a negative balance, units rounded to the
-- hundredth...): the original stays readable next to what relais keeps.
-- Keyed by the value, so a second import rewrites the row instead of
-- adding one.  Never holds a secret: only numeric columns are recorded.
CREATE TABLE edxo_import_conversions (
	table_name	text NOT NULL,
	row_key		text NOT NULL,
	column_name	text NOT NULL,
	edxo_value	text,
	relais_value	text,
	rule		text NOT NULL,
	PRIMARY KEY (table_name, row_key, column_name)
);

-- Moves an identity sequence past the ids an import wrote (EDxo's ids are
-- kept with OVERRIDING SYSTEM VALUE, which leaves the sequence behind).
-- Forward only: a sequence is never moved back, so ids relais gave out
-- and deleted are not given out again.  The table is a regclass, checked
-- by the cast; the column is always id.
CREATE FUNCTION edxo_import_sync_sequence(tbl regclass) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
	seq	text := pg_get_serial_sequence(tbl::text, 'id');
	top	bigint;
	last	bigint;
	called	boolean;
BEGIN
	IF seq IS NULL THEN
		RETURN NULL;
	END IF;
	EXECUTE format('SELECT max(id) FROM %s', tbl) INTO top;
	EXECUTE format('SELECT last_value, is_called FROM %s', seq)
		INTO last, called;
	-- Read, not nextval(): a run that moves nothing leaves no gap.
	IF called THEN
		last := last + 1;
	END IF;
	IF top IS NOT NULL AND top >= last THEN
		PERFORM setval(seq, top);
	END IF;
	RETURN top;
END;
$$;
