-- 0002_audit.sql -- who changed which setting, user, key or balance, and
-- from what to what.
--
-- EDxo's DBChange logged row changes generically; relais writes one row per
-- changed field from the settings program, in the same transaction as the
-- change, so an audit row exists exactly when the change does.
--
--  * actor_id is SET NULL on delete: removing an account must not erase
--    (or be blocked by) the history of what it did.
--  * row_id is text: the audited tables key on integers, bigints and, for
--    models, the name an admin recognises.
--  * old_value/new_value are jsonb so a value keeps its type (null, text,
--    boolean, a whole row for creations and deletions).  Secrets are never
--    written here: an OpenAI key change is recorded as "set"/"cleared".
--  * field is NULL when a whole row was created or deleted.
CREATE TABLE audit_log (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	actor_id	bigint REFERENCES users (id) ON DELETE SET NULL,
	at		timestamptz NOT NULL DEFAULT now(),
	table_name	text NOT NULL CHECK (table_name <> ''),
	row_id		text,
	field		text,
	old_value	jsonb,
	new_value	jsonb,
	request_id	text
);
-- The foreign key's index (deleting a user scans this otherwise), the
-- "recent changes" listing, and the history of one row.
CREATE INDEX audit_log_actor_id_idx ON audit_log (actor_id);
CREATE INDEX audit_log_at_idx ON audit_log (at);
CREATE INDEX audit_log_table_row_idx ON audit_log (table_name, row_id, at);
