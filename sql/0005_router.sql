-- 0005_router.sql -- the router's completion (issue 6, seed 004): agents,
-- project documents searched with PostgreSQL full-text search, the
-- settings of its pricing and emission estimates, and which models it
-- offers.
--
-- Everything here is additive.  Tables are prefixed router_ because the
-- names the seed uses (agents, documents, settings) are too generic to
-- claim for the whole schema.


-- ===========================================================================
-- Agents: the system prompt profiles a completion names (agent V1, V2)
-- ===========================================================================
--
-- The seed's GET /agents shows type, name, description and available;
-- "type" is the key clients send as "agent".  available = false keeps an
-- agent listed but refused, so an admin can withdraw one without clients
-- seeing it vanish.  Exactly one agent is the default (the seed: "V2 ...
-- (default)"); the partial unique index enforces "at most one" and the
-- seed rows provide it.
CREATE TABLE router_agents (
	type		text PRIMARY KEY
			CHECK (type ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$'),
	name		text NOT NULL CHECK (btrim(name) <> ''),
	description	text NOT NULL,
	system_prompt	text NOT NULL CHECK (btrim(system_prompt) <> ''),
	available	boolean NOT NULL DEFAULT true,
	is_default	boolean NOT NULL DEFAULT false,
	position	integer NOT NULL DEFAULT 0,
	created_at	timestamptz NOT NULL DEFAULT now(),
	updated_at	timestamptz NOT NULL DEFAULT now(),
	CHECK (NOT is_default OR available)
);
CREATE UNIQUE INDEX router_agents_default_key ON router_agents (is_default)
	WHERE is_default;

INSERT INTO router_agents (type, name, description, position, is_default,
    system_prompt)
VALUES
('V1', 'V1', 'Current production orchestrated workflow', 1, false,
$$Tu es l'assistant IA d'un établissement d'enseignement collégial québécois. Réponds en français, de façon exacte et structurée, en t'appuyant sur les documents fournis lorsqu'il y en a. Si l'information manque, dis-le plutôt que de l'inventer.$$),
('V2', 'V2', 'Isolated V2 workflow (default)', 2, true,
$$Tu es un assistant IA rigoureux. Réponds dans la langue de la question, de façon concise et précise. Lorsque des extraits de documents sont fournis, fonde ta réponse uniquement sur eux et indique quand ils ne suffisent pas.$$);


-- ===========================================================================
-- Project documents and their passages
-- ===========================================================================
--
-- A completion with project_id (and optionally sources, document ids)
-- draws on these documents only.  Documents are split into passages by the
-- trigger below, so that full-text search ranks paragraphs, not whole
-- files, and only the relevant ones are sent upstream.  The ids are uuids
-- because that is what the seed's sources are.
--
-- owner_id NULL: a document of the institution, visible to every user;
-- otherwise only its owner's completions see it.  CASCADE: a user's
-- documents are that user's content.
CREATE TABLE router_documents (
	id		uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	project_id	text NOT NULL
			CHECK (project_id ~ '^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$'),
	owner_id	bigint REFERENCES users (id) ON DELETE CASCADE,
	title		text NOT NULL
			CHECK (btrim(title) <> '' AND length(title) <= 300),
	-- 2 million characters: a long report; bigger is an archive, which
	-- belongs in several documents.
	content		text NOT NULL CHECK (length(content) <= 2000000),
	created_at	timestamptz NOT NULL DEFAULT now(),
	updated_at	timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX router_documents_project_id_idx
	ON router_documents (project_id, owner_id);
CREATE INDEX router_documents_owner_id_idx ON router_documents (owner_id);

-- French stemming: the documents and questions are French (cégeps).  The
-- vector is generated, so it can never disagree with the text.
CREATE TABLE router_passages (
	document_id	uuid NOT NULL REFERENCES router_documents (id)
			ON DELETE CASCADE,
	ord		integer NOT NULL CHECK (ord >= 1),
	content		text NOT NULL CHECK (btrim(content) <> ''),
	tsv		tsvector GENERATED ALWAYS AS
			    (to_tsvector('french', content)) STORED,
	PRIMARY KEY (document_id, ord)
);
CREATE INDEX router_passages_tsv_idx ON router_passages USING gin (tsv);

-- Passages are paragraphs (text between blank lines), trimmed; a
-- paragraph longer than 1500 characters is cut into 1500-character pieces
-- so that one passage never crowds the others out of the context.  The
-- title is the first passage: a question naming the document finds it.
CREATE FUNCTION router_documents_split() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	DELETE FROM router_passages WHERE document_id = NEW.id;
	INSERT INTO router_passages (document_id, ord, content)
	SELECT NEW.id, row_number() OVER (ORDER BY k, piece), txt
	FROM (
		SELECT 0 AS k, 0 AS piece, btrim(NEW.title) AS txt
		UNION ALL
		SELECT p.k, s.piece, substr(p.para, 1 + s.piece * 1500, 1500)
		FROM regexp_split_to_table(NEW.content, '\n[ \t\r]*\n')
		    WITH ORDINALITY AS r (raw, k)
		CROSS JOIN LATERAL (SELECT btrim(r.raw, E' \t\r\n') AS para,
		    r.k) AS p
		CROSS JOIN LATERAL generate_series(0,
		    greatest((length(p.para) - 1) / 1500, 0)) AS s (piece)
		WHERE p.para <> ''
	) AS parts
	WHERE btrim(txt) <> '';
	RETURN NULL;
END
$$;
CREATE TRIGGER router_documents_split
	AFTER INSERT OR UPDATE OF title, content ON router_documents
	FOR EACH ROW EXECUTE FUNCTION router_documents_split();


-- ===========================================================================
-- Pricing and emission settings (singleton)
-- ===========================================================================
--
-- Prices are kept in USD (openai_models); the router answers in EUR at
-- this rate, which an admin keeps current (it is not fetched: an answer's
-- price must not depend on a third party being up).  The emission factors
-- are estimates; docs/emissions.md gives the method and the sources of
-- each default.
CREATE TABLE router_settings (
	id		integer PRIMARY KEY DEFAULT 1 CHECK (id = 1),
	currency	text NOT NULL DEFAULT 'EUR'
			CHECK (currency ~ '^[A-Z]{3}$'),
	-- Units of currency per USD.
	usd_rate	numeric(12,6) NOT NULL DEFAULT 0.86
			CHECK (usd_rate > 0),
	-- Carbon intensity of the electricity the provider's servers use.
	grid_kgco2_per_kwh numeric(10,6) NOT NULL DEFAULT 0.4
			CHECK (grid_kgco2_per_kwh >= 0),
	-- Water withdrawn per kWh: data-centre cooling plus generation.
	water_l_per_kwh	numeric(10,6) NOT NULL DEFAULT 3.7
			CHECK (water_l_per_kwh >= 0),
	car_kgco2_per_km numeric(10,6) NOT NULL DEFAULT 0.218
			CHECK (car_kgco2_per_km > 0),
	tgv_kgco2_per_km numeric(10,6) NOT NULL DEFAULT 0.00293
			CHECK (tgv_kgco2_per_km > 0),
	smartphone_kwh_per_charge numeric(10,6) NOT NULL DEFAULT 0.019
			CHECK (smartphone_kwh_per_charge > 0),
	updated_at	timestamptz NOT NULL DEFAULT now()
);
INSERT INTO router_settings (id) VALUES (1);

-- Energy of inference per 1,000 output tokens (reasoning tokens are
-- output tokens), by model name prefix, longest prefix first; the empty
-- prefix is the fallback for names without a row.  Three size classes,
-- whose values and sources are in docs/emissions.md.
CREATE TABLE router_energy (
	prefix		text PRIMARY KEY
			CHECK (prefix ~ '^[A-Za-z0-9._:-]{0,64}$'),
	size_class	text NOT NULL
			CHECK (size_class IN ('small', 'medium', 'large')),
	kwh_per_1k_output numeric(12,9) NOT NULL
			CHECK (kwh_per_1k_output >= 0)
);
INSERT INTO router_energy (prefix, size_class, kwh_per_1k_output) VALUES
	('',			'medium',	0.001),
	('gpt-5',		'large',	0.004),
	('gpt-5-mini',		'medium',	0.001),
	('gpt-5-nano',		'small',	0.0003),
	('gpt-4.1',		'medium',	0.001),
	('gpt-4.1-mini',	'small',	0.0003),
	('gpt-4.1-nano',	'small',	0.0003),
	('gpt-4o',		'medium',	0.001),
	('gpt-4o-mini',		'small',	0.0003),
	('gpt-4-turbo',		'large',	0.004),
	('gpt-3.5-turbo',	'small',	0.0003),
	('o1',			'large',	0.004),
	('o3',			'large',	0.004),
	('o3-mini',		'medium',	0.001),
	('o4-mini',		'medium',	0.001),
	('mistral-large',	'large',	0.004),
	('mistral-medium',	'medium',	0.001),
	('mistral-small',	'small',	0.0003);


-- ===========================================================================
-- Which models the router offers
-- ===========================================================================
--
-- GET /models lists the enabled rows and POST /completion refuses the
-- others; the row stays, so past ledger rows keep their prices and the
-- other features are not affected.
ALTER TABLE openai_models
	ADD COLUMN router_enabled boolean NOT NULL DEFAULT true;
