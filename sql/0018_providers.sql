-- 0018_providers.sql -- several providers at once (issue 20, "Providers").
--
-- 0003 made providers a table keyed by name, with a base URL and a sealed
-- key; this adds what an admin needs to run several of them: a surrogate
-- id for the admin routes (the name stays the key models and the ledger
-- use), the kind of API, a switch, and the last characters of the key so
-- that a page can tell keys apart without ever showing one.
--
-- kind says whose key a call may carry: a user's own key
-- (users.openai_key_enc) is an OpenAI key, so it is only ever sent to an
-- 'openai' provider; an 'openai_compatible' one (Mistral, a local server)
-- gets the institution's key only.
ALTER TABLE providers
	ADD COLUMN id bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
	ADD COLUMN kind text NOT NULL DEFAULT 'openai_compatible'
		CHECK (kind IN ('openai', 'openai_compatible')),
	-- A disabled provider's models are not listed by /models and every
	-- call to them is refused before anything is reserved or sent.
	ADD COLUMN enabled boolean NOT NULL DEFAULT true,
	-- Shown as "…abcd"; NULL when no key is stored, or when it was stored
	-- before this column (by psql or rekey).
	ADD COLUMN api_key_last4 text CHECK (api_key_last4 IS NULL OR
		(api_key_enc IS NOT NULL AND length(api_key_last4) <= 4));

UPDATE providers SET kind = 'openai' WHERE name = 'openai';

-- Mistral, as seed 004 names it ("provider": "mistralai"), shipped
-- disabled: it has no key until an admin sets one, and enabling it is the
-- admin's decision.  Its API speaks Chat Completions at /v1.
INSERT INTO providers (name, kind, base_url, enabled)
VALUES ('mistralai', 'openai_compatible', 'https://api.mistral.ai/v1', false);

-- Seed 004 calls mistral-large-latest; medium and small are Mistral's
-- other "-latest" names, so that a cheaper model is one switch away.
-- Mistral's published prices (2025), USD per 1M tokens, no cached-input
-- discount and no batch discount through relais (Mistral's batch API is
-- not OpenAI's).  The large model's description and 32 000-token window
-- are seed 004's, copied as written; the others are Mistral's.  Temperature
-- is accepted, there is no reasoning effort: the "legacy" request shape
-- (max_tokens, system role) is what Mistral's API takes.
INSERT INTO openai_models (name, input_price, output_price, family,
    supports_temperature, supports_reasoning, max_output_tokens, provider,
    display_name, description, context_window, recommended_for,
    batch_discount_pct)
VALUES
	('mistral-large-latest', 2, 6, 'mistral', true, false, 8192,
	    'mistralai', 'Mistral Large', 'Mistral Large - Top-tier reasoning',
	    32000, '{general,reasoning,complex_tasks}', 0),
	('mistral-medium-latest', 0.4, 2, 'mistral', true, false, 8192,
	    'mistralai', 'Mistral Medium', 'Mistral Medium - Balanced cost and '
	    'quality', 128000, '{general,cost_effective}', 0),
	('mistral-small-latest', 0.1, 0.3, 'mistral', true, false, 8192,
	    'mistralai', 'Mistral Small', 'Mistral Small - Fast and economical',
	    128000, '{simple_tasks,cost_optimization}', 0);
