-- Issue 19: chat completions kept with store: true (seed 003's
-- /api/ai/chat/completions and OpenAI's /v1/chat/completions), whatever
-- the provider does with its own store: relais answers the list, read,
-- update, delete and messages calls from this table alone.
--
-- id is relais' own ("chatcmpl-" and 24 hex digits), the one the create
-- answer gave, unique across users: the provider's ids are the provider's
-- business, and two upstreams may reuse one.  seq orders and pages the
-- list (OpenAI pages by id with "after"; the cursor's seq is looked up),
-- so two completions of one second keep their order.  created is Unix
-- seconds, as OpenAI's objects carry it.  The request's messages and the
-- answer's choices are kept as sent and received; metadata is OpenAI's
-- 16 string keys and values (checked by cgi-bin/completions.c, see
-- lib/bounds.h RL_COMPL_META_*).
CREATE TABLE stored_completions (
	id		text PRIMARY KEY CHECK (id ~ '^chatcmpl-[0-9a-f]{24}$'),
	seq		bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
	user_id		bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	model		text NOT NULL,
	messages	jsonb NOT NULL CHECK (jsonb_typeof(messages) = 'array'),
	choices		jsonb NOT NULL CHECK (jsonb_typeof(choices) = 'array'),
	usage		jsonb NOT NULL CHECK (jsonb_typeof(usage) = 'object'),
	metadata	jsonb NOT NULL DEFAULT '{}'
			    CHECK (jsonb_typeof(metadata) = 'object'),
	request		jsonb NOT NULL DEFAULT '{}',
	created		bigint NOT NULL
);

-- The list: one user's completions in order, optionally of one model.
CREATE INDEX stored_completions_user_id_seq_idx
    ON stored_completions (user_id, seq);
CREATE INDEX stored_completions_user_id_model_seq_idx
    ON stored_completions (user_id, model, seq);
-- metadata filters (metadata @> '{"k": "v"}').
CREATE INDEX stored_completions_metadata_idx
    ON stored_completions USING gin (metadata jsonb_path_ops);
