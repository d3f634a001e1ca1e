-- 0003_openai.sql -- providers, the model catalogue of seed 001, ledger
-- details, and chat jobs.
--
-- Why a migration and not an edit of 0001: 0001 is applied (rule 4 of
-- sql/README.md).  Everything here is additive, so a database at version 2
-- keeps every row it has.


-- ===========================================================================
-- Providers: where a model's calls go
-- ===========================================================================
--
-- issue 4: "OpenAI, Mistral or any OpenAI-compatible server".  A model row
-- names its provider; the provider gives the base URL and the institution's
-- key.  The 'openai' row keeps both NULL so that the environment
-- (RELAIS_OPENAI_BASE_URL, RELAIS_OPENAI_API_KEY) stays the way to configure
-- the common case, and a test stack can point it at the fake upstream
-- without touching the database.
CREATE TABLE providers (
	-- Short, lower-case and safe in logs and the ledger; 31 characters
	-- fit the provider buffer of struct rl_model (lib/models.h).
	name		text PRIMARY KEY
			CHECK (name ~ '^[a-z0-9][a-z0-9_-]{0,30}$'),
	-- Keys travel in clear over http, so plain http is only accepted to
	-- this machine (a local OpenAI-compatible server, the test upstream).
	-- The host must end where the pattern does: "http://localhost.evil"
	-- is not local.  511 bytes fit lib/models.h's buffer with its NUL.
	-- No user:password@ either: credentials belong in api_key_enc.
	base_url	text CHECK (base_url IS NULL OR (length(base_url) < 512
			  AND base_url ~ ('^(https://[^/?#@[:space:]]+'
			    '|http://(127\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}'
			    '|localhost|\[::1\])(:[0-9]{1,5})?)'
			    '(/[^[:space:]]*)?$'))),
	-- crypto_secretbox nonce || MAC || ciphertext, as users.openai_key_enc:
	-- the master key lives outside the database.
	api_key_enc	bytea CHECK (api_key_enc IS NULL
				     OR octet_length(api_key_enc) > 40),
	created_at	timestamptz NOT NULL DEFAULT now(),
	updated_at	timestamptz NOT NULL DEFAULT now(),
	-- Only 'openai' has an environment fallback for its URL.
	CHECK (name = 'openai' OR base_url IS NOT NULL)
);
INSERT INTO providers (name) VALUES ('openai');


-- ===========================================================================
-- The model catalogue (seed 001's GET /ai/openai/chat/)
-- ===========================================================================

-- RESTRICT on provider: removing a provider that still has models would
-- leave calls with nowhere to go; the admin removes the models first.
-- recommended_for is an array rather than a side table because it is only
-- ever read whole, with its row.  The batch discount is per model because
-- OpenAI's Batch API halves most prices but not every model's.
ALTER TABLE openai_models
	ADD COLUMN provider text NOT NULL DEFAULT 'openai'
		REFERENCES providers (name),
	ADD COLUMN display_name text,
	ADD COLUMN description text,
	ADD COLUMN context_window integer CHECK (context_window > 0),
	ADD COLUMN recommended_for text[] NOT NULL DEFAULT '{}',
	ADD COLUMN batch_discount_pct integer NOT NULL DEFAULT 50
		CHECK (batch_discount_pct BETWEEN 0 AND 100);
CREATE INDEX openai_models_provider_idx ON openai_models (provider);

-- Older models the seed's "legacy" generation names, at OpenAI's published
-- standard prices (USD per 1M tokens).  gpt-4-turbo and gpt-3.5-turbo have
-- no cached-input price: cached tokens bill at the input price.
INSERT INTO openai_models (name, input_price, cached_input_price, output_price,
    family, supports_temperature, supports_reasoning, max_output_tokens)
VALUES
	('o1',		15,	7.5,	60,	'o1',      false, true,  100000),
	('gpt-4-turbo',	10,	NULL,	30,	'gpt-4',   true,  false, 4096),
	('gpt-3.5-turbo', 0.5,	NULL,	1.5,	'gpt-3.5', true,  false, 4096);

-- Catalogue text.  Where seed 001 shows a model (o3, o3-mini, gpt-4.1,
-- gpt-4o) its name, description, context window and recommendations are
-- copied as written, including its 200 000-token window for gpt-4.1; the
-- other windows are OpenAI's published ones.
UPDATE openai_models m SET display_name = v.display_name,
	description = v.description, context_window = v.context_window,
	recommended_for = v.recommended_for
FROM (VALUES
	('o3', 'O3', 'Modèle de raisonnement avancé', 200000,
	 '{analysis,reasoning,complex_tasks}'::text[]),
	('o3-mini', 'O3 Mini', 'O3 optimisé coût/performance', 200000,
	 '{simple_reasoning,cost_optimization}'),
	('gpt-4.1', 'GPT-4.1', 'GPT-4 enhanced', 200000,
	 '{creative,large_context}'),
	('gpt-4o', 'GPT-4 Omni', 'Modèle multimodal équilibré', 128000,
	 '{general,multimodal,cost_effective}'),
	('gpt-5', 'GPT-5', 'Modèle de raisonnement le plus capable', 400000,
	 '{analysis,reasoning,complex_tasks,creative}'),
	('gpt-5-mini', 'GPT-5 Mini', 'GPT-5 optimisé coût/performance',
	 400000, '{reasoning,general,cost_optimization}'),
	('gpt-5-nano', 'GPT-5 Nano', 'GPT-5 le plus rapide et le plus économique',
	 400000, '{classification,summarization,cost_optimization}'),
	('gpt-4.1-mini', 'GPT-4.1 Mini', 'GPT-4.1 optimisé coût/performance',
	 1047576, '{general,large_context,cost_optimization}'),
	('gpt-4.1-nano', 'GPT-4.1 Nano',
	 'GPT-4.1 le plus rapide et le plus économique', 1047576,
	 '{classification,autocomplete,cost_optimization}'),
	('gpt-4o-mini', 'GPT-4o Mini', 'GPT-4o économique pour les tâches courantes',
	 128000, '{general,cost_effective}'),
	('o4-mini', 'O4 Mini', 'Raisonnement rapide et économique', 200000,
	 '{simple_reasoning,coding,cost_optimization}'),
	('o1', 'O1', 'Modèle de raisonnement de première génération', 200000,
	 '{reasoning,complex_tasks}'),
	('gpt-4-turbo', 'GPT-4 Turbo', 'GPT-4 rapide, génération précédente',
	 128000, '{general,proven_stability}'),
	('gpt-3.5-turbo', 'GPT-3.5 Turbo', 'Modèle historique économique',
	 16385, '{simple_tasks,cost_effective}')
) AS v (name, display_name, description, context_window, recommended_for)
WHERE m.name = v.name;


-- ===========================================================================
-- Ledger details
-- ===========================================================================

-- One row per upstream call already exists (0001); these say which
-- provider and feature paid for it, whether it succeeded (failed and
-- partial calls are billed for what they used, often nothing, and still
-- leave a row), how long it took, and the upstream's own request id, which
-- is what OpenAI support asks for.  provider is text, not a foreign key:
-- billing history outlives a provider row.
ALTER TABLE usage_ledger
	ADD COLUMN provider text,
	ADD COLUMN feature text,
	ADD COLUMN status text CHECK (status IN ('ok', 'failed', 'partial')),
	ADD COLUMN latency_ms integer CHECK (latency_ms >= 0),
	ADD COLUMN upstream_request_id text;


-- ===========================================================================
-- Chat jobs (seed 001's OpenAIJob)
-- ===========================================================================
--
-- One row per POST /ai/openai/chat/, written before the upstream is called
-- and completed after, so that a job read back (GET /ai/openai/jobs/<id>)
-- or run later by the worker is the row, not a memory of the request.  The
-- seed's columns (temperature, max_tokens, max_completion_tokens,
-- reasoning_effort, messages_format, tools, response_format) are kept as
-- columns for the admin views; params is the whole effective request after
-- auto-configuration, which is what is sent.  The id is the seed's
-- "ai_job_..." form with 64 random bits.  CASCADE on the user: a job is the
-- user's content, unlike the ledger, which keeps the money.
CREATE TABLE openai_jobs (
	id		text PRIMARY KEY CHECK (id ~ '^ai_job_[0-9a-f]{16}$'),
	user_id		bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	description	text,
	model		text NOT NULL,
	generation	text NOT NULL CHECK (generation IN ('new', 'legacy')),
	messages	jsonb NOT NULL CHECK (jsonb_typeof(messages) = 'array'),
	-- NULL when the model takes none (reasoning models).
	temperature	numeric(4,3) CHECK (temperature BETWEEN 0 AND 2),
	max_tokens	integer CHECK (max_tokens > 0),
	max_completion_tokens integer CHECK (max_completion_tokens > 0),
	reasoning_effort text CHECK (reasoning_effort IN ('minimal', 'low',
						      'medium', 'high')),
	messages_format	text NOT NULL
			CHECK (messages_format IN ('legacy', 'structured')),
	tools		jsonb,
	response_format	jsonb,
	params		jsonb NOT NULL DEFAULT '{}'
			CHECK (jsonb_typeof(params) = 'object'),
	is_async	boolean NOT NULL DEFAULT false,
	status		text NOT NULL DEFAULT 'pending'
			CHECK (status IN ('pending', 'running', 'completed',
					  'failed')),
	-- The worker's task for an async job; SET NULL because finished
	-- tasks are purged while the job stays readable.
	task_id		uuid REFERENCES tasks (id) ON DELETE SET NULL,
	result		jsonb,
	openai_id	text,
	prompt_tokens	bigint CHECK (prompt_tokens >= 0),
	completion_tokens bigint CHECK (completion_tokens >= 0),
	total_tokens	bigint CHECK (total_tokens >= 0),
	reasoning_tokens bigint CHECK (reasoning_tokens >= 0),
	cost		numeric(14,6) CHECK (cost >= 0),
	execution_time_ms integer CHECK (execution_time_ms >= 0),
	error		text,
	error_code	text,
	created_at	timestamptz NOT NULL DEFAULT now(),
	started_at	timestamptz,
	finished_at	timestamptz
);
-- "My recent jobs", and the foreign key's index.
CREATE INDEX openai_jobs_user_id_created_at_idx
	ON openai_jobs (user_id, created_at DESC);
CREATE INDEX openai_jobs_task_id_idx ON openai_jobs (task_id);
