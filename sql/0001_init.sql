-- 0001_init.sql -- relais: initial schema (PostgreSQL 15).
--
-- The data model EDxo's AI features read and write, plus what relais needs
-- that EDxo kept elsewhere (Redis task state, Flask sessions) or did not
-- keep at all (an exact money ledger).  relais-migrate runs this file in one
-- transaction and records it in schema_migrations, so there is no
-- BEGIN/COMMIT here and nothing is written defensively ("IF NOT EXISTS"):
-- a forward-only migration runs exactly once, and a second run failing
-- loudly is the desired behaviour.
--
-- Conventions, and why:
--  * Table names are snake_case forms of EDxo's declared names (PlanCadre ->
--    plan_cadre, PlanDeCoursCalendrier -> plan_de_cours_calendrier), so the
--    contract (docs/edxo-contract.md) can be read next to this file.  The
--    few exceptions are collections where EDxo's name is unusable or
--    awkward: users (USER is reserved), cegeps (ListeCegep), departments,
--    programmes, programmes_ministeriels, competences.  sql/README.md has
--    the full mapping.
--  * Surrogate keys are bigint identities GENERATED ALWAYS: the sequence is
--    then the only source of ids and an import that wants EDxo's ids must
--    say so (OVERRIDING SYSTEM VALUE) instead of silently desynchronising it.
--  * Every timestamp is timestamptz: EDxo stored naive UTC datetimes, which
--    is what timestamptz means once the session time zone is UTC.
--  * Money is numeric, never float: EDxo's Float credits drift by fractions
--    of a cent per call and cannot be audited.
--  * Every foreign key column has an index whose leading columns are the
--    key (tests/sql/check-schema.sh enforces it): deletes on the parent
--    otherwise scan the child, and nearly every route joins on these.
--  * ON DELETE CASCADE where EDxo cascades (ORM delete-orphan or an
--    ondelete rule), i.e. where the child is part of its parent; SET NULL
--    for optional references to people and institutions; RESTRICT (the
--    default) where losing rows silently would be wrong.


-- ===========================================================================
-- Institution
-- ===========================================================================

CREATE TABLE cegeps (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	nom		text NOT NULL CHECK (btrim(nom) <> ''),
	-- EDxo's defaults, kept so that an admin form sending only the name
	-- behaves as it did there.
	type		text NOT NULL DEFAULT 'Public',
	region		text NOT NULL DEFAULT 'Capitale-Nationale'
);

CREATE TABLE departments (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	nom		text NOT NULL CHECK (btrim(nom) <> ''),
	cegep_id	bigint REFERENCES cegeps (id) ON DELETE SET NULL
);
CREATE INDEX departments_cegep_id_idx ON departments (cegep_id);

-- The ministry's list of programmes (e.g. 243.G0); the code gives generated
-- course codes their prefix when a grille is applied.
CREATE TABLE programmes_ministeriels (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	nom		text NOT NULL CHECK (btrim(nom) <> ''),
	code		text NOT NULL CHECK (btrim(code) <> '')
);
CREATE UNIQUE INDEX programmes_ministeriels_code_key
	ON programmes_ministeriels (code);

CREATE TABLE programmes (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	nom		text NOT NULL CHECK (btrim(nom) <> ''),
	-- Required in EDxo; RESTRICT because deleting a department must not
	-- take whole programmes (and their plans) with it by accident.
	department_id	bigint NOT NULL REFERENCES departments (id),
	programme_ministeriel_id bigint
			REFERENCES programmes_ministeriels (id) ON DELETE SET NULL,
	cegep_id	bigint REFERENCES cegeps (id) ON DELETE SET NULL,
	variante	text
);
CREATE INDEX programmes_department_id_idx ON programmes (department_id);
CREATE INDEX programmes_programme_ministeriel_id_idx
	ON programmes (programme_ministeriel_id);
CREATE INDEX programmes_cegep_id_idx ON programmes (cegep_id);


-- ===========================================================================
-- Accounts, sessions, rate limiting
-- ===========================================================================

CREATE TABLE users (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	username	text NOT NULL UNIQUE CHECK (btrim(username) <> ''),
	-- Nullable as in EDxo (accounts are created by an admin with a
	-- username); uniqueness is case-insensitive, see the index below.
	email		text CHECK (email IS NULL OR position('@' IN email) > 1),
	-- libsodium crypto_pwhash_str output.  The prefix check stops a
	-- plaintext or foreign hash (EDxo's werkzeug scrypt strings) from being
	-- stored: such accounts must go through a password reset instead.
	password_hash	text NOT NULL CHECK (password_hash LIKE '$argon2%'),
	nom		text,
	prenom		text,
	image		text,
	role		text NOT NULL DEFAULT 'invite'
			CHECK (role IN ('admin', 'coordo', 'professeur', 'cp',
					'invite')),
	is_first_connexion boolean NOT NULL DEFAULT true,
	-- crypto_secretbox nonce (24 bytes) || MAC (16) || ciphertext: the key
	-- lives outside the database, so a dump alone does not leak the
	-- users' OpenAI keys.  The length check rejects a raw key by mistake.
	openai_key_enc	bytea CHECK (openai_key_enc IS NULL
				     OR octet_length(openai_key_enc) > 40),
	-- Prepaid balance in USD; see credit_reservations / usage_ledger.
	credits		numeric(14,6) NOT NULL DEFAULT 0 CHECK (credits >= 0),
	-- SHA-256 of the personal API token (X-API-Token).  Only the hash is
	-- kept so that the token, a bearer credential, is shown once and
	-- cannot be read back from the database.
	api_token	bytea UNIQUE CHECK (api_token IS NULL
				    OR octet_length(api_token) = 32),
	api_token_expires_at timestamptz,
	-- Chat thread state: OpenAI's previous_response_id.
	last_openai_response_id text,
	cegep_id	bigint REFERENCES cegeps (id) ON DELETE SET NULL,
	department_id	bigint REFERENCES departments (id) ON DELETE SET NULL,
	-- Bumped on password change/reset so that outstanding reset links
	-- stop working (EDxo's reset_version).
	reset_version	integer NOT NULL DEFAULT 0,
	last_login	timestamptz,
	created_at	timestamptz NOT NULL DEFAULT now(),
	-- A token that never expires would be a standing bearer credential.
	CHECK (api_token IS NULL OR api_token_expires_at IS NOT NULL)
);
-- lower() rather than citext: citext is an extension, and creating one needs
-- privileges the migrating role may not have.  Lookups must use lower(email).
CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email));
CREATE INDEX users_cegep_id_idx ON users (cegep_id);
CREATE INDEX users_department_id_idx ON users (department_id);

-- Which programmes a user works on: drives every "my courses / my plans"
-- listing and the coordo access checks.
CREATE TABLE user_programme (
	user_id		bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	programme_id	bigint NOT NULL REFERENCES programmes (id)
			ON DELETE CASCADE,
	PRIMARY KEY (user_id, programme_id)
);
CREATE INDEX user_programme_programme_id_idx ON user_programme (programme_id);

-- Server-side login sessions (EDxo used Flask-Session files).  The cookie
-- carries a random token; the row is keyed by its SHA-256 so that reading
-- this table does not let anyone hijack a session.
CREATE TABLE sessions (
	id		bytea PRIMARY KEY CHECK (octet_length(id) = 32),
	user_id		bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	-- At least 128 bits: 22 characters of base64url, 32 of hex.
	csrf_token	text NOT NULL CHECK (length(csrf_token) >= 22),
	created_at	timestamptz NOT NULL DEFAULT now(),
	last_seen_at	timestamptz NOT NULL DEFAULT now(),
	expires_at	timestamptz NOT NULL,
	-- text, not inet: REMOTE_ADDR may be "unix:" behind a local proxy and
	-- a failed cast must never block a login.
	ip		text,
	user_agent	text,
	CHECK (expires_at > created_at)
);
CREATE INDEX sessions_user_id_idx ON sessions (user_id);
-- For the purge of expired sessions.
CREATE INDEX sessions_expires_at_idx ON sessions (expires_at);

-- One row per login attempt; rate limiting counts recent failures per
-- account and per address.  Not tied to users by a foreign key on purpose:
-- attempts on unknown accounts must be counted too.
CREATE TABLE login_attempts (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	account		text NOT NULL,	-- as typed, lower-cased by the caller
	address		text,
	success		boolean NOT NULL DEFAULT false,
	at		timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_attempts_account_at_idx ON login_attempts (account, at);
CREATE INDEX login_attempts_address_at_idx ON login_attempts (address, at);
CREATE INDEX login_attempts_at_idx ON login_attempts (at);


-- ===========================================================================
-- Programme structure: courses, competences, prerequisites
-- ===========================================================================

CREATE TABLE fil_conducteur (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	programme_id	bigint NOT NULL REFERENCES programmes (id)
			ON DELETE CASCADE,
	description	text NOT NULL,
	-- The grille generator and the UI colour picker both emit #rrggbb.
	couleur		text CHECK (couleur IS NULL
				    OR couleur ~ '^#[0-9A-Fa-f]{6}$')
);
CREATE INDEX fil_conducteur_programme_id_idx ON fil_conducteur (programme_id);

CREATE TABLE cours (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	-- Not unique: general-education courses (601-101-MQ, 109-101-MQ...)
	-- carry the same code in every cégep, and one database may hold
	-- several cégeps.
	code		text NOT NULL CHECK (btrim(code) <> ''),
	nom		text NOT NULL CHECK (btrim(nom) <> ''),
	-- numeric: units are thirds ((T+L+M)/3) and are summed against a
	-- programme total, which float makes inexact.
	nombre_unites	numeric(6,2) NOT NULL DEFAULT 1 CHECK (nombre_unites >= 0),
	heures_theorie	integer NOT NULL DEFAULT 0 CHECK (heures_theorie >= 0),
	heures_laboratoire integer NOT NULL DEFAULT 0
			CHECK (heures_laboratoire >= 0),
	heures_travail_maison integer NOT NULL DEFAULT 0
			CHECK (heures_travail_maison >= 0),
	fil_conducteur_id bigint REFERENCES fil_conducteur (id)
			ON DELETE SET NULL
);
CREATE INDEX cours_code_idx ON cours (code);
CREATE INDEX cours_fil_conducteur_id_idx ON cours (fil_conducteur_id);

-- A course belongs to programmes through this table only (EDxo dropped
-- Cours.programme_id); session is the term number in that programme's
-- grille, 0 when not placed yet.
CREATE TABLE cours_programme (
	cours_id	bigint NOT NULL REFERENCES cours (id) ON DELETE CASCADE,
	programme_id	bigint NOT NULL REFERENCES programmes (id)
			ON DELETE CASCADE,
	session		integer NOT NULL DEFAULT 0 CHECK (session >= 0),
	PRIMARY KEY (cours_id, programme_id)
);
CREATE INDEX cours_programme_programme_id_idx
	ON cours_programme (programme_id, session);

CREATE TABLE competences (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	programme_id	bigint NOT NULL REFERENCES programmes (id)
			ON DELETE CASCADE,
	code		text NOT NULL CHECK (btrim(code) <> ''),
	nom		text NOT NULL,
	criteria_de_performance text,		-- HTML list, as EDxo stores it
	contexte_de_realisation text,		-- HTML list, as EDxo stores it
	-- The devis import upserts by (programme, code).
	UNIQUE (programme_id, code)
);
CREATE INDEX competences_code_idx ON competences (code);

-- EDxo's Competence_Programme: a competence shared by several programmes.
CREATE TABLE competence_programme (
	competence_id	bigint NOT NULL REFERENCES competences (id)
			ON DELETE CASCADE,
	programme_id	bigint NOT NULL REFERENCES programmes (id)
			ON DELETE CASCADE,
	PRIMARY KEY (competence_id, programme_id)
);
CREATE INDEX competence_programme_programme_id_idx
	ON competence_programme (programme_id);

CREATE TABLE element_competence (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	competence_id	bigint NOT NULL REFERENCES competences (id)
			ON DELETE CASCADE,
	nom		text NOT NULL
);
CREATE INDEX element_competence_competence_id_idx
	ON element_competence (competence_id);

CREATE TABLE element_competence_criteria (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	element_competence_id bigint NOT NULL REFERENCES element_competence (id)
			ON DELETE CASCADE,
	criteria	text NOT NULL
);
CREATE INDEX element_competence_criteria_element_idx
	ON element_competence_criteria (element_competence_id);

-- The logigramme: how far each course takes each element.  Unique per pair
-- because the generator "creates or updates" (upsert) a status per pair.
CREATE TABLE element_competence_par_cours (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	cours_id	bigint NOT NULL REFERENCES cours (id) ON DELETE CASCADE,
	element_competence_id bigint NOT NULL REFERENCES element_competence (id)
			ON DELETE CASCADE,
	-- The five values of EDxo's ElementCompetenceStatusForm; the AI
	-- features filter on 'Développé significativement' and 'Atteint'.
	status		text NOT NULL DEFAULT 'Non traité'
			CHECK (status IN ('Non traité',
					  'Traité superficiellement',
					  'Développé significativement',
					  'Atteint', 'Réinvesti')),
	UNIQUE (cours_id, element_competence_id)
);
CREATE INDEX element_competence_par_cours_element_idx
	ON element_competence_par_cours (element_competence_id);

CREATE TABLE competence_par_cours (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	cours_id	bigint NOT NULL REFERENCES cours (id) ON DELETE CASCADE,
	competence_developpee_id bigint NOT NULL REFERENCES competences (id)
			ON DELETE CASCADE,
	competence_atteinte_id bigint NOT NULL REFERENCES competences (id)
			ON DELETE CASCADE
);
CREATE INDEX competence_par_cours_cours_id_idx ON competence_par_cours (cours_id);
CREATE INDEX competence_par_cours_developpee_idx
	ON competence_par_cours (competence_developpee_id);
CREATE INDEX competence_par_cours_atteinte_idx
	ON competence_par_cours (competence_atteinte_id);

-- cours_prealable_id must be passed before cours_id, with note_necessaire
-- (a percentage) when the prerequisite is "relatif".
CREATE TABLE cours_prealable (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	cours_id	bigint NOT NULL REFERENCES cours (id) ON DELETE CASCADE,
	cours_prealable_id bigint NOT NULL REFERENCES cours (id)
			ON DELETE CASCADE,
	note_necessaire	integer CHECK (note_necessaire BETWEEN 0 AND 100),
	CHECK (cours_id <> cours_prealable_id),
	UNIQUE (cours_id, cours_prealable_id)
);
-- The plan-cadre generator asks the reverse question ("which courses need
-- this one?"), hence the second index.
CREATE INDEX cours_prealable_prealable_idx ON cours_prealable (cours_prealable_id);

CREATE TABLE cours_corequis (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	cours_id	bigint NOT NULL REFERENCES cours (id) ON DELETE CASCADE,
	cours_corequis_id bigint NOT NULL REFERENCES cours (id)
			ON DELETE CASCADE,
	CHECK (cours_id <> cours_corequis_id),
	UNIQUE (cours_id, cours_corequis_id)
);
CREATE INDEX cours_corequis_corequis_idx ON cours_corequis (cours_corequis_id);


-- ===========================================================================
-- Plan-cadre (one per course) and its lists
-- ===========================================================================

CREATE TABLE plan_cadre (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	-- One plan-cadre per course (EDxo: uselist=False); the unique index
	-- is also the lookup from the course page and the chat tool.
	cours_id	bigint NOT NULL UNIQUE REFERENCES cours (id)
			ON DELETE CASCADE,
	place_intro	text,
	objectif_terminal text,
	structure_intro	text,
	structure_activites_theoriques text,
	structure_activites_pratiques text,
	structure_activites_prevues text,
	eval_evaluation_sommative text,
	eval_nature_evaluations_sommatives text,
	eval_evaluation_de_la_langue text,
	eval_evaluation_sommatives_apprentissages text,
	additional_info	text,
	ai_model	text DEFAULT 'gpt-5',
	modified_by_id	bigint REFERENCES users (id) ON DELETE SET NULL,
	modified_at	timestamptz,
	created_at	timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX plan_cadre_modified_by_id_idx ON plan_cadre (modified_by_id);

CREATE TABLE plan_cadre_capacites (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	plan_cadre_id	bigint NOT NULL REFERENCES plan_cadre (id)
			ON DELETE CASCADE,
	capacite	text NOT NULL,
	description_capacite text,
	-- Percent of the final grade.  No min <= max check: imports and the
	-- AI often give only one bound (the other becomes 0) and EDxo keeps
	-- such rows; rejecting them would fail a whole apply.
	ponderation_min	integer NOT NULL DEFAULT 0
			CHECK (ponderation_min BETWEEN 0 AND 100),
	ponderation_max	integer NOT NULL DEFAULT 0
			CHECK (ponderation_max BETWEEN 0 AND 100)
);
CREATE INDEX plan_cadre_capacites_plan_cadre_id_idx
	ON plan_cadre_capacites (plan_cadre_id);

CREATE TABLE plan_cadre_capacite_savoirs_necessaires (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	capacite_id	bigint NOT NULL REFERENCES plan_cadre_capacites (id)
			ON DELETE CASCADE,
	texte		text NOT NULL
);
CREATE INDEX plan_cadre_capacite_savoirs_necessaires_capacite_idx
	ON plan_cadre_capacite_savoirs_necessaires (capacite_id);

-- cible is level 6 and seuil_reussite level 4 of the six-level grid.
CREATE TABLE plan_cadre_capacite_savoirs_faire (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	capacite_id	bigint NOT NULL REFERENCES plan_cadre_capacites (id)
			ON DELETE CASCADE,
	texte		text NOT NULL,
	cible		text,
	seuil_reussite	text
);
CREATE INDEX plan_cadre_capacite_savoirs_faire_capacite_idx
	ON plan_cadre_capacite_savoirs_faire (capacite_id);

CREATE TABLE plan_cadre_capacite_moyens_evaluation (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	capacite_id	bigint NOT NULL REFERENCES plan_cadre_capacites (id)
			ON DELETE CASCADE,
	texte		text NOT NULL
);
CREATE INDEX plan_cadre_capacite_moyens_evaluation_capacite_idx
	ON plan_cadre_capacite_moyens_evaluation (capacite_id);

CREATE TABLE plan_cadre_savoir_etre (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	plan_cadre_id	bigint NOT NULL REFERENCES plan_cadre (id)
			ON DELETE CASCADE,
	texte		text NOT NULL
);
CREATE INDEX plan_cadre_savoir_etre_plan_cadre_id_idx
	ON plan_cadre_savoir_etre (plan_cadre_id);

-- The six (texte, description) lists share one shape; they stay separate
-- tables, as in EDxo, because the API and the exports name them apart.
CREATE TABLE plan_cadre_objets_cibles (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	plan_cadre_id	bigint NOT NULL REFERENCES plan_cadre (id)
			ON DELETE CASCADE,
	texte		text NOT NULL,
	description	text
);
CREATE INDEX plan_cadre_objets_cibles_plan_cadre_id_idx
	ON plan_cadre_objets_cibles (plan_cadre_id);

CREATE TABLE plan_cadre_cours_relies (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	plan_cadre_id	bigint NOT NULL REFERENCES plan_cadre (id)
			ON DELETE CASCADE,
	texte		text NOT NULL,
	description	text
);
CREATE INDEX plan_cadre_cours_relies_plan_cadre_id_idx
	ON plan_cadre_cours_relies (plan_cadre_id);

CREATE TABLE plan_cadre_cours_prealables (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	plan_cadre_id	bigint NOT NULL REFERENCES plan_cadre (id)
			ON DELETE CASCADE,
	texte		text NOT NULL,
	description	text
);
CREATE INDEX plan_cadre_cours_prealables_plan_cadre_id_idx
	ON plan_cadre_cours_prealables (plan_cadre_id);

CREATE TABLE plan_cadre_cours_corequis (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	plan_cadre_id	bigint NOT NULL REFERENCES plan_cadre (id)
			ON DELETE CASCADE,
	texte		text NOT NULL,
	description	text
);
CREATE INDEX plan_cadre_cours_corequis_plan_cadre_id_idx
	ON plan_cadre_cours_corequis (plan_cadre_id);

CREATE TABLE plan_cadre_competences_certifiees (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	plan_cadre_id	bigint NOT NULL REFERENCES plan_cadre (id)
			ON DELETE CASCADE,
	texte		text NOT NULL,
	description	text
);
CREATE INDEX plan_cadre_competences_certifiees_plan_cadre_id_idx
	ON plan_cadre_competences_certifiees (plan_cadre_id);

CREATE TABLE plan_cadre_competences_developpees (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	plan_cadre_id	bigint NOT NULL REFERENCES plan_cadre (id)
			ON DELETE CASCADE,
	texte		text NOT NULL,
	description	text
);
CREATE INDEX plan_cadre_competences_developpees_plan_cadre_id_idx
	ON plan_cadre_competences_developpees (plan_cadre_id);


-- ===========================================================================
-- Plan de cours (one per course and session) and its lists
-- ===========================================================================

CREATE TABLE plan_de_cours (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	cours_id	bigint NOT NULL REFERENCES cours (id) ON DELETE CASCADE,
	department_id	bigint REFERENCES departments (id) ON DELETE SET NULL,
	-- A25 = automne 2025, H26 = hiver 2026, E26 = été 2026.  The value is
	-- part of URLs (/cours/<id>/plan_de_cours/<session>/), so one
	-- spelling per term keeps (cours_id, session) really unique.
	session		text NOT NULL CHECK (session ~ '^[AHE][0-9]{2}$'),
	campus		text,
	nom_enseignant	text,
	telephone_enseignant text,
	courriel_enseignant text,
	bureau_enseignant text,
	presentation_du_cours text,
	objectif_terminal_du_cours text,
	organisation_et_methodes text,
	accomodement	text,			-- sic, EDxo's spelling
	evaluation_formative_apprentissages text,
	evaluation_expression_francais text,
	seuil_reussite	text,
	place_et_role_du_cours text,
	materiel	text DEFAULT '',
	-- Written by the plan-de-cours verifier (analyse_plan_cours_prompt).
	compatibility_percentage numeric(5,2)
			CHECK (compatibility_percentage BETWEEN 0 AND 100),
	recommendation_ameliore text,
	recommendation_plan_cadre text,
	modified_by_id	bigint REFERENCES users (id) ON DELETE SET NULL,
	modified_at	timestamptz,
	created_at	timestamptz NOT NULL DEFAULT now(),
	UNIQUE (cours_id, session)
);
CREATE INDEX plan_de_cours_department_id_idx ON plan_de_cours (department_id);
CREATE INDEX plan_de_cours_modified_by_id_idx ON plan_de_cours (modified_by_id);
-- Programme-wide session exports (/export_session_plans/<prog>/<session>).
CREATE INDEX plan_de_cours_session_idx ON plan_de_cours (session);

CREATE TABLE plan_de_cours_calendrier (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	plan_de_cours_id bigint NOT NULL REFERENCES plan_de_cours (id)
			ON DELETE CASCADE,
	semaine		integer CHECK (semaine >= 0),
	sujet		text,
	activites	text,
	travaux_hors_classe text,
	evaluations	text
);
CREATE INDEX plan_de_cours_calendrier_plan_idx
	ON plan_de_cours_calendrier (plan_de_cours_id, semaine);

CREATE TABLE plan_de_cours_mediagraphie (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	plan_de_cours_id bigint NOT NULL REFERENCES plan_de_cours (id)
			ON DELETE CASCADE,
	reference_bibliographique text
);
CREATE INDEX plan_de_cours_mediagraphie_plan_idx
	ON plan_de_cours_mediagraphie (plan_de_cours_id);

CREATE TABLE plan_de_cours_disponibilite_enseignant (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	plan_de_cours_id bigint NOT NULL REFERENCES plan_de_cours (id)
			ON DELETE CASCADE,
	jour_semaine	text,
	plage_horaire	text,
	lieu		text
);
CREATE INDEX plan_de_cours_disponibilite_enseignant_plan_idx
	ON plan_de_cours_disponibilite_enseignant (plan_de_cours_id);

CREATE TABLE plan_de_cours_evaluations (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	plan_de_cours_id bigint NOT NULL REFERENCES plan_de_cours (id)
			ON DELETE CASCADE,
	titre_evaluation text,
	description	text,
	semaine		integer CHECK (semaine >= 0)
);
CREATE INDEX plan_de_cours_evaluations_plan_idx
	ON plan_de_cours_evaluations (plan_de_cours_id);

-- Which capacités an evaluation measures, with what weight.  capacite_id is
-- nullable because imported labels that match no capacité are kept
-- (EDxo's tasks store null), and SET NULL because replacing the capacités
-- of a plan-cadre must not erase the evaluations of every plan de cours.
CREATE TABLE plan_de_cours_evaluations_capacites (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	evaluation_id	bigint NOT NULL REFERENCES plan_de_cours_evaluations (id)
			ON DELETE CASCADE,
	capacite_id	bigint REFERENCES plan_cadre_capacites (id)
			ON DELETE SET NULL,
	ponderation	text			-- free text ("20 %"), as in EDxo
);
CREATE INDEX plan_de_cours_evaluations_capacites_evaluation_idx
	ON plan_de_cours_evaluations_capacites (evaluation_id);
CREATE INDEX plan_de_cours_evaluations_capacites_capacite_idx
	ON plan_de_cours_evaluations_capacites (capacite_id);

-- Six-level grid of an evaluation, one row per savoir-faire.  CASCADE on the
-- savoir-faire: EDxo never enforced these keys (SQLite), so replacing a
-- plan-cadre's capacités left dangling rows; here the grid rows of removed
-- savoirs-faire go with them instead of blocking the replacement.
-- The level texts are text, not EDxo's String(255): SQLite never enforced
-- the length, and generated descriptions routinely exceed it.
CREATE TABLE evaluation_savoirfaire (
	evaluation_id	bigint NOT NULL REFERENCES plan_de_cours_evaluations (id)
			ON DELETE CASCADE,
	savoir_faire_id	bigint NOT NULL
			REFERENCES plan_cadre_capacite_savoirs_faire (id)
			ON DELETE CASCADE,
	capacite_id	bigint REFERENCES plan_cadre_capacites (id)
			ON DELETE CASCADE,
	selected	boolean NOT NULL DEFAULT true,
	level1_description text,
	level2_description text,
	level3_description text,
	level4_description text,
	level5_description text,
	level6_description text,
	PRIMARY KEY (evaluation_id, savoir_faire_id)
);
CREATE INDEX evaluation_savoirfaire_savoir_faire_id_idx
	ON evaluation_savoirfaire (savoir_faire_id);
CREATE INDEX evaluation_savoirfaire_capacite_id_idx
	ON evaluation_savoirfaire (capacite_id);


-- ===========================================================================
-- Chat
-- ===========================================================================

CREATE TABLE chat_history (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	user_id		bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	role		text NOT NULL
			CHECK (role IN ('user', 'assistant', 'function',
					'system')),
	content		text,		-- JSON text for role 'function'
	name		text,		-- function name, role 'function'
	function_call_name text,	-- tool requested by role 'assistant'
	function_call_args text,	-- its JSON arguments, verbatim
	-- The client went away or the upstream stream broke before the end;
	-- such a row must not be replayed as if it were a complete answer.
	interrupted	boolean NOT NULL DEFAULT false,
	timestamp	timestamptz NOT NULL DEFAULT now()
);
-- "Last 10 messages of this user": the id tiebreak keeps the order stable
-- when several rows of one exchange share a timestamp (same transaction).
CREATE INDEX chat_history_user_timestamp_idx
	ON chat_history (user_id, timestamp DESC, id DESC);


-- ===========================================================================
-- Models and prices
-- ===========================================================================

-- Prices are USD per 1M tokens (EDxo's admin form says "par token"; the
-- arithmetic has always been per million).  A model without a row is not
-- callable: there is no built-in price table to drift out of date.
CREATE TABLE openai_models (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	name		text NOT NULL UNIQUE
			CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$'),
	input_price	numeric(12,6) NOT NULL CHECK (input_price >= 0),
	-- NULL: no cache discount, cached input tokens bill at input_price.
	cached_input_price numeric(12,6)
			CHECK (cached_input_price >= 0
			       AND cached_input_price <= input_price),
	output_price	numeric(12,6) NOT NULL CHECK (output_price >= 0),
	-- Capabilities drive request shaping (temperature vs reasoning
	-- effort, output cap).  NULL means unknown: send the conservative
	-- request and let the upstream error say what is wrong.
	family		text,
	supports_temperature boolean,
	supports_reasoning boolean,
	max_output_tokens integer CHECK (max_output_tokens > 0),
	created_at	timestamptz NOT NULL DEFAULT now(),
	updated_at	timestamptz NOT NULL DEFAULT now()
);

-- Standard-tier list prices, USD per 1M tokens, as published by OpenAI in
-- 2025.  Output caps are the documented maxima for each model.
INSERT INTO openai_models (name, input_price, cached_input_price, output_price,
    family, supports_temperature, supports_reasoning, max_output_tokens)
VALUES
	('gpt-5',	1.25,	0.125,	10,	'gpt-5',   false, true,  128000),
	('gpt-5-mini',	0.25,	0.025,	2,	'gpt-5',   false, true,  128000),
	('gpt-5-nano',	0.05,	0.005,	0.4,	'gpt-5',   false, true,  128000),
	('gpt-4.1',	2,	0.5,	8,	'gpt-4.1', true,  false, 32768),
	('gpt-4.1-mini', 0.4,	0.1,	1.6,	'gpt-4.1', true,  false, 32768),
	('gpt-4.1-nano', 0.1,	0.025,	0.4,	'gpt-4.1', true,  false, 32768),
	('gpt-4o',	2.5,	1.25,	10,	'gpt-4o',  true,  false, 16384),
	('gpt-4o-mini',	0.15,	0.075,	0.6,	'gpt-4o',  true,  false, 16384),
	('o3',		2,	0.5,	8,	'o3',      false, true,  100000),
	('o3-mini',	1.1,	0.55,	4.4,	'o3',      false, true,  100000),
	('o4-mini',	1.1,	0.275,	4.4,	'o4',      false, true,  100000);


-- ===========================================================================
-- AI settings (one table per admin page of contract section 5)
-- ===========================================================================
--
-- Singletons are "id integer PRIMARY KEY CHECK (id = 1)" and seeded here:
-- EDxo created them lazily in get_current(), which races when two workers
-- start together and leaves every reader handling "no row yet".
-- Model names are not foreign keys to openai_models: an admin may remove a
-- price row while a setting still names the model, and the call then fails
-- with a clear "unknown model" instead of the delete failing.
-- Prompt templates use Python str.format placeholders ({name}) because that
-- is what EDxo's admins wrote; a literal brace must be doubled.

CREATE TABLE chat_model_config (
	id		integer PRIMARY KEY DEFAULT 1 CHECK (id = 1),
	chat_model	text NOT NULL DEFAULT 'gpt-4.1-mini',
	tool_model	text NOT NULL DEFAULT 'gpt-4.1-mini',
	reasoning_effort text CHECK (reasoning_effort IN ('minimal', 'low',
						      'medium', 'high')),
	verbosity	text CHECK (verbosity IN ('low', 'medium', 'high')),
	updated_at	timestamptz NOT NULL DEFAULT now()
);
INSERT INTO chat_model_config (id) VALUES (1);

-- Plan-de-cours verifier.  Placeholders: {plan_cours_id}
-- {plan_cours_json} {plan_cadre_id} {plan_cadre_json} {schema_json}.
CREATE TABLE analyse_plan_cours_prompt (
	id		integer PRIMARY KEY DEFAULT 1 CHECK (id = 1),
	prompt_template	text NOT NULL,
	ai_model	text NOT NULL DEFAULT 'gpt-5',
	created_at	timestamptz NOT NULL DEFAULT now(),
	updated_at	timestamptz NOT NULL DEFAULT now()
);
INSERT INTO analyse_plan_cours_prompt (id, prompt_template) VALUES (1,
$$Tu es conseiller pédagogique dans un cégep québécois. Compare le plan de cours {plan_cours_id} au plan-cadre {plan_cadre_id} du même cours.

Plan de cours (JSON) :
{plan_cours_json}

Plan-cadre (JSON) :
{plan_cadre_json}

Vérifie que les capacités, les savoirs-faire, les évaluations et leurs pondérations du plan de cours respectent le plan-cadre. Donne un pourcentage de compatibilité (0 à 100), des recommandations pour améliorer le plan de cours et, s'il y a lieu, des recommandations pour le plan-cadre. Réponds en français, selon ce schéma :
{schema_json}$$);

-- One row per plan-de-cours field (plus 'calendrier', and 'all' for the
-- whole-plan generation, read when present but not seeded, as in EDxo).
-- context_variables documents which placeholders the template may use.
CREATE TABLE plan_de_cours_prompt_settings (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	field_name	text NOT NULL UNIQUE
			CHECK (field_name IN ('presentation_du_cours',
					      'objectif_terminal_du_cours',
					      'organisation_et_methodes',
					      'accomodement',
					      'evaluation_formative_apprentissages',
					      'evaluation_expression_francais',
					      'seuil_reussite', 'materiel',
					      'calendrier', 'all')),
	prompt_template	text NOT NULL,
	ai_model	text NOT NULL DEFAULT 'gpt-5',
	context_variables jsonb NOT NULL DEFAULT '[]'
			CHECK (jsonb_typeof(context_variables) = 'array'),
	created_at	timestamptz NOT NULL DEFAULT now(),
	updated_at	timestamptz NOT NULL DEFAULT now()
);
INSERT INTO plan_de_cours_prompt_settings
    (field_name, context_variables, prompt_template)
VALUES
('presentation_du_cours', '["current_value", "session"]',
$$Rédige la présentation du cours pour la session {session}, en français, dans un ton professionnel adapté au collégial. Explique la place du cours dans le programme et ce que la personne étudiante y apprendra. Améliore le texte actuel s'il existe :
{current_value}$$),
('objectif_terminal_du_cours', '["current_value", "cours_id"]',
$$Formule l'objectif terminal du cours {cours_id} : une seule phrase qui commence par un verbe d'action, observable et mesurable, réaliste au collégial. Texte actuel :
{current_value}$$),
('organisation_et_methodes', '["current_value", "cours_id", "session"]',
$$Décris l'organisation du cours {cours_id} pour la session {session} : déroulement des séances théoriques et de laboratoire, méthodes pédagogiques, activités d'apprentissage et ressources. Texte actuel :
{current_value}$$),
('accomodement', '["current_value", "cours_id"]',
$$Rédige la section sur les mesures d'accommodement du cours {cours_id} : types de mesures possibles, démarche auprès des services adaptés et invitation à communiquer ses besoins, dans un langage inclusif. Texte actuel :
{current_value}$$),
('evaluation_formative_apprentissages', '["current_value", "cours_id"]',
$$Décris l'évaluation formative du cours {cours_id} : moments, formes, rétroaction offerte et lien avec les évaluations sommatives. Texte actuel :
{current_value}$$),
('evaluation_expression_francais', '["current_value", "cours_id"]',
$$Rédige la politique d'évaluation de la langue française du cours {cours_id} : critères, pénalités éventuelles selon la PIEA et ressources d'aide (centre d'aide en français). Texte actuel :
{current_value}$$),
('seuil_reussite', '["current_value", "cours_id"]',
$$Énonce le seuil de réussite du cours {cours_id} : note de passage, conditions particulières (par exemple la réussite de l'épreuve finale) et leur justification. Texte actuel :
{current_value}$$),
('calendrier', '["session", "sections"]',
$$Propose le calendrier des 15 semaines de la session {session}. Pour chaque semaine, indique le sujet, les activités, les travaux hors classe et les évaluations, en couvrant toutes les capacités du plan-cadre dans un ordre progressif.

Plan-cadre du cours :
{sections}$$);

-- Six-level grid.  Placeholders: {savoir_faire} {capacite} {seuil} {cible},
-- optional {description_eval} {schema}.  The level texts are also the
-- descriptions of the response schema's fields.
CREATE TABLE grille_prompt_settings (
	id		integer PRIMARY KEY DEFAULT 1 CHECK (id = 1),
	prompt_template	text NOT NULL,
	level1_description text NOT NULL,
	level2_description text NOT NULL,
	level3_description text NOT NULL,
	level4_description text NOT NULL,
	level5_description text NOT NULL,
	level6_description text NOT NULL,
	updated_at	timestamptz NOT NULL DEFAULT now()
);
INSERT INTO grille_prompt_settings (id, prompt_template,
    level1_description, level2_description, level3_description,
    level4_description, level5_description, level6_description)
VALUES (1,
$$Tu es spécialiste de l'évaluation des apprentissages au collégial. Rédige une grille d'évaluation à six niveaux pour le savoir-faire « {savoir_faire} » de la capacité « {capacite} ».
Le niveau 4 correspond au seuil de réussite : {seuil}
Le niveau 6 correspond à la cible : {cible}
Contexte de l'évaluation : {description_eval}
Décris des comportements observables avec des verbes d'action et une progression nette d'un niveau à l'autre. Réponds selon ce schéma :
{schema}$$,
'Niveau 1 — Aucun travail réalisé : comportements observables montrant que la tâche n''a pas été entreprise.',
'Niveau 2 — Performance très insuffisante : comportements observables nettement en deçà du seuil de réussite.',
'Niveau 3 — Performance insuffisante : comportements observables sous le seuil, mais en progrès par rapport au niveau 2.',
'Niveau 4 — Seuil de réussite : comportements observables montrant l''atteinte minimale acceptable de la tâche.',
'Niveau 5 — Performance supérieure : comportements observables au-delà du seuil, sans atteindre entièrement la cible.',
'Niveau 6 — Cible atteinte : comportements observables montrant une tâche complète, réalisée avec autonomie.');

-- OCR of ministry "devis".  Only extraction_prompt/model_extraction are used;
-- the segmentation pair is kept because EDxo's page edits it.
CREATE TABLE ocr_prompt_settings (
	id		integer PRIMARY KEY DEFAULT 1 CHECK (id = 1),
	segmentation_prompt text,
	extraction_prompt text,
	model_section	text,
	model_extraction text DEFAULT 'gpt-5',
	updated_at	timestamptz NOT NULL DEFAULT now()
);
INSERT INTO ocr_prompt_settings (id, extraction_prompt) VALUES (1,
$$Tu reçois le devis ministériel d'un programme d'études collégiales (PDF). Extrais uniquement les compétences de la formation spécifique. Pour chacune : le code, l'énoncé (nom), le contexte de réalisation en respectant sa hiérarchie, les critères de performance pour l'ensemble de la compétence et les éléments de la compétence avec leurs critères. Recopie le texte tel quel, sans puces, en-têtes ni pieds de page, et n'invente rien.$$);

-- Plan-cadre DOCX import.  The template is formatted with the document text,
-- so a template without {doc_text} would send the model nothing to read.
CREATE TABLE plan_cadre_import_prompt_settings (
	id		integer PRIMARY KEY DEFAULT 1 CHECK (id = 1),
	prompt_template	text NOT NULL
			CHECK (position('{doc_text}' IN prompt_template) > 0),
	ai_model	text NOT NULL DEFAULT 'gpt-5',
	updated_at	timestamptz NOT NULL DEFAULT now()
);
INSERT INTO plan_cadre_import_prompt_settings (id, prompt_template) VALUES (1,
$$Voici le texte d'un plan-cadre de cours collégial. Extrais-en le contenu sans le reformuler :
- les dix sections de texte (place et introduction du cours, objectif terminal, introduction à la structure, activités théoriques, pratiques et prévues, évaluation sommative, nature des évaluations sommatives, évaluation de la langue, évaluation formative) ;
- les listes texte/description : compétences développées, compétences certifiées, cours corequis, cours préalables, cours reliés, objets cibles ;
- les savoirs-être ;
- les capacités avec leur description, leur pondération minimale et maximale, leurs savoirs nécessaires, leurs savoirs-faire (avec la cible et le seuil de réussite) et leurs moyens d'évaluation.
Laisse vide ce qui est absent du document.

Document :
{doc_text}$$);

-- Plan-cadre generation: one row per section of EDxo's SECTIONS list
-- (src/config/constants.py), in that order:
--   1 Intro et place du cours            -> plan_cadre.place_intro
--   2 Objectif terminal                  -> plan_cadre.objectif_terminal
--   3 Introduction Structure du Cours    -> plan_cadre.structure_intro
--   4 Activités Théoriques               -> .structure_activites_theoriques
--   5 Activités Pratiques                -> .structure_activites_pratiques
--   6 Activités Prévues                  -> .structure_activites_prevues
--   7 Évaluation Sommative des Apprentissages -> .eval_evaluation_sommative
--   8 Nature des Évaluations Sommatives  -> .eval_nature_evaluations_sommatives
--   9 Évaluation de la Langue            -> .eval_evaluation_de_la_langue
--  10 Évaluation formative des apprentissages
--                                -> .eval_evaluation_sommatives_apprentissages
--  11 Description des compétences développées -> plan_cadre_competences_developpees
--  12 Description des Compétences certifiées  -> plan_cadre_competences_certifiees
--  13 Description des cours corequis    -> plan_cadre_cours_corequis
--  14 Objets cibles                     -> plan_cadre_objets_cibles
--  15 Description des cours reliés      -> plan_cadre_cours_relies
--  16 Description des cours préalables  -> plan_cadre_cours_prealables
--  17 Savoir-être                       -> plan_cadre_savoir_etre
--  18 Capacité et pondération           -> plan_cadre_capacites
--  19 Savoirs nécessaires d'une capacité -> plan_cadre_capacite_savoirs_necessaires
--  20 Savoirs faire d'une capacité      -> plan_cadre_capacite_savoirs_faire
--  21 Moyen d'évaluation d'une capacité -> plan_cadre_capacite_moyens_evaluation
-- (Section 10 really lands in eval_evaluation_sommatives_apprentissages:
-- that is EDxo's mapping, odd name included.)  The section names are the
-- keys the generator matches on, accents and capitals included, so they are
-- pinned by the CHECK; target records the mapping above so that programs
-- need not hard-code it.  text_content is a Jinja template rendered with
-- the course context (cours.nom, cours.code, ...).  Seeded rows use the AI:
-- with use_ai false EDxo writes text_content verbatim into the plan-cadre,
-- which for a prompt would be wrong.
CREATE TABLE global_generation_settings (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	position	smallint NOT NULL UNIQUE CHECK (position BETWEEN 1 AND 21),
	section		text NOT NULL UNIQUE
			CHECK (section IN (
			    'Intro et place du cours',
			    'Objectif terminal',
			    'Introduction Structure du Cours',
			    'Activités Théoriques',
			    'Activités Pratiques',
			    'Activités Prévues',
			    'Évaluation Sommative des Apprentissages',
			    'Nature des Évaluations Sommatives',
			    'Évaluation de la Langue',
			    'Évaluation formative des apprentissages',
			    'Description des compétences développées',
			    'Description des Compétences certifiées',
			    'Description des cours corequis',
			    'Objets cibles',
			    'Description des cours reliés',
			    'Description des cours préalables',
			    'Savoir-être',
			    'Capacité et pondération',
			    'Savoirs nécessaires d''une capacité',
			    'Savoirs faire d''une capacité',
			    'Moyen d''évaluation d''une capacité')),
	target		text NOT NULL,
	use_ai		boolean NOT NULL DEFAULT false,
	text_content	text
);
INSERT INTO global_generation_settings (position, section, target, use_ai,
    text_content)
VALUES
(1, 'Intro et place du cours', 'plan_cadre.place_intro', true,
 $$Présente le cours {{ cours.code }} {{ cours.nom }} et sa place dans le programme : ce qu'il prépare, ce qu'il réinvestit et son lien avec la profession.$$),
(2, 'Objectif terminal', 'plan_cadre.objectif_terminal', true,
 $$Formule l'objectif terminal du cours {{ cours.nom }} en une phrase qui commence par « Au terme de ce cours, la personne étudiante sera en mesure de ».$$),
(3, 'Introduction Structure du Cours', 'plan_cadre.structure_intro', true,
 $$Résume en quelques phrases la structure du cours {{ cours.nom }} : répartition entre théorie, laboratoire et travail personnel.$$),
(4, 'Activités Théoriques', 'plan_cadre.structure_activites_theoriques', true,
 $$Décris les activités théoriques du cours {{ cours.nom }} et leur contribution aux capacités.$$),
(5, 'Activités Pratiques', 'plan_cadre.structure_activites_pratiques', true,
 $$Décris les activités pratiques et de laboratoire du cours {{ cours.nom }}.$$),
(6, 'Activités Prévues', 'plan_cadre.structure_activites_prevues', true,
 $$Énumère les principales activités d'apprentissage prévues dans le cours {{ cours.nom }}.$$),
(7, 'Évaluation Sommative des Apprentissages', 'plan_cadre.eval_evaluation_sommative', true,
 $$Décris l'évaluation sommative du cours {{ cours.nom }}, dont l'épreuve finale et ce qu'elle atteste.$$),
(8, 'Nature des Évaluations Sommatives', 'plan_cadre.eval_nature_evaluations_sommatives', true,
 $$Précise la nature des évaluations sommatives (examens, laboratoires, projets) et leur fréquence.$$),
(9, 'Évaluation de la Langue', 'plan_cadre.eval_evaluation_de_la_langue', true,
 $$Rédige la règle d'évaluation de la qualité de la langue française, conforme à la PIEA.$$),
(10, 'Évaluation formative des apprentissages', 'plan_cadre.eval_evaluation_sommatives_apprentissages', true,
 $$Décris l'évaluation formative : moments, moyens et rétroaction offerte à la personne étudiante.$$),
(11, 'Description des compétences développées', 'plan_cadre_competences_developpees', true,
 $$Pour chaque compétence développée dans ce cours, donne son énoncé et décris comment le cours y contribue.$$),
(12, 'Description des Compétences certifiées', 'plan_cadre_competences_certifiees', true,
 $$Pour chaque compétence atteinte (certifiée) dans ce cours, donne son énoncé et décris comment son atteinte est vérifiée.$$),
(13, 'Description des cours corequis', 'plan_cadre_cours_corequis', true,
 $$Pour chaque cours corequis, explique le lien avec le cours {{ cours.nom }}.$$),
(14, 'Objets cibles', 'plan_cadre_objets_cibles', true,
 $$Énumère les objets cibles du cours (ce sur quoi porte l'action de la personne étudiante), chacun avec une courte description.$$),
(15, 'Description des cours reliés', 'plan_cadre_cours_relies', true,
 $$Pour chaque cours relié, explique ce qu'il partage avec le cours {{ cours.nom }}.$$),
(16, 'Description des cours préalables', 'plan_cadre_cours_prealables', true,
 $$Pour chaque cours dont {{ cours.code }} est préalable, indique ce que ce cours doit lui apporter.$$),
(17, 'Savoir-être', 'plan_cadre_savoir_etre', true,
 $$Énumère de quatre à six savoirs-être attendus dans ce cours, chacun en une courte phrase.$$),
(18, 'Capacité et pondération', 'plan_cadre_capacites', true,
 $$Découpe le cours en deux à quatre capacités, chacune avec une description et une pondération minimale et maximale ; la somme des pondérations doit pouvoir faire 100 %.$$),
(19, 'Savoirs nécessaires d''une capacité', 'plan_cadre_capacite_savoirs_necessaires', true,
 $$Pour chaque capacité, énumère au moins cinq savoirs nécessaires.$$),
(20, 'Savoirs faire d''une capacité', 'plan_cadre_capacite_savoirs_faire', true,
 $$Pour chaque capacité, énumère au moins cinq savoirs-faire, chacun avec sa cible (niveau visé) et son seuil de réussite.$$),
(21, 'Moyen d''évaluation d''une capacité', 'plan_cadre_capacite_moyens_evaluation', true,
 $$Pour chaque capacité, propose au moins trois moyens d'évaluation.$$);

-- Per-feature model and system prompt (EDxo L/H).  NULL ai_model or
-- settings mean "use the feature's default" (chat_model_config, then gpt-5).
CREATE TABLE section_ai_settings (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	section		text NOT NULL UNIQUE
			CHECK (section IN ('plan_de_cours',
					   'plan_de_cours_improve',
					   'plan_de_cours_import',
					   'plan_cadre', 'plan_cadre_improve',
					   'plan_cadre_import', 'logigramme',
					   'grille', 'grille_import', 'ocr',
					   'chat', 'evaluation',
					   'analyse_plan_cours')),
	system_prompt	text,
	ai_model	text,
	reasoning_effort text CHECK (reasoning_effort IN ('minimal', 'low',
						      'medium', 'high')),
	verbosity	text CHECK (verbosity IN ('low', 'medium', 'high')),
	updated_at	timestamptz NOT NULL DEFAULT now()
);
INSERT INTO section_ai_settings (section, system_prompt) VALUES
('plan_de_cours',
 'Tu rédiges des plans de cours pour un cégep québécois, en français, à partir du plan-cadre du cours. Respecte les capacités et les pondérations du plan-cadre et n''invente aucun code de cours.'),
('plan_de_cours_improve',
 'Tu améliores un plan de cours existant d''un cégep québécois. Conserve ce qui est correct, corrige et complète le reste, en restant fidèle au plan-cadre.'),
('plan_de_cours_import',
 'Tu extrais fidèlement le contenu d''un plan de cours fourni en document, sans reformuler ni inventer.'),
('plan_cadre',
 'Tu rédiges des plans-cadres de cours collégiaux québécois. Utilise un langage neutre (« personne étudiante ») et les guillemets français « ».'),
('plan_cadre_improve',
 'Tu améliores un plan-cadre existant. Conserve ce qui est juste, précise ce qui est vague et garde la cohérence entre capacités, savoirs et moyens d''évaluation.'),
('plan_cadre_import',
 'Tu extrais fidèlement le contenu d''un plan-cadre fourni en document, sans reformuler ni inventer.'),
('logigramme',
 'Tu relies les cours d''un programme collégial aux compétences qu''ils développent, atteignent ou réinvestissent. Réponds uniquement en JSON.'),
('grille',
 'Tu conçois la grille de cours d''un programme collégial québécois : sessions, cours, heures et préalables. Réponds uniquement en JSON.'),
('grille_import',
 'Tu extrais la grille de cours (formation spécifique) d''un document de programme, sans rien inventer.'),
('ocr',
 'Tu extrais les compétences d''un devis ministériel, texte recopié tel quel.'),
('chat',
 'Tu es l''assistant d''EDxo, spécialisé dans les plans-cadres et les plans de cours des cégeps. Réponds en français québécois, de façon concise et professionnelle, et consulte les outils avant d''affirmer le contenu d''un plan.'),
('evaluation',
 'Tu rédiges des grilles d''évaluation à six niveaux avec des comportements observables et une progression claire.'),
('analyse_plan_cours',
 'Tu vérifies la conformité d''un plan de cours à son plan-cadre et tu formules des recommandations concrètes.');


-- ===========================================================================
-- Tasks: queue and state of the PostgreSQL-based worker
-- ===========================================================================
--
-- Replaces Celery + Redis.  A worker claims the oldest PENDING row with
-- SELECT ... FOR UPDATE SKIP LOCKED, sets STARTED, a lease and its name,
-- and renews the lease while it runs; a lease that lapses means the worker
-- died.  The state names are Celery's because the HTTP contract
-- (/tasks/status, /tasks/events) exposes them.
CREATE TABLE tasks (
	id		uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	name		text NOT NULL CHECK (btrim(name) <> ''),
	user_id		bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	payload		jsonb NOT NULL DEFAULT '{}'
			CHECK (jsonb_typeof(payload) = 'object'),
	state		text NOT NULL DEFAULT 'PENDING'
			CHECK (state IN ('PENDING', 'STARTED', 'PROGRESS',
					 'SUCCESS', 'FAILURE', 'REVOKED')),
	meta		jsonb NOT NULL DEFAULT '{}'
			CHECK (jsonb_typeof(meta) = 'object'),
	result		jsonb,
	-- Cooperative cancel flag (EDxo's edxo:cancel:<id> Redis key).
	cancel_requested boolean NOT NULL DEFAULT false,
	attempts	integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
	-- Default 1: a task that died mid-way may already have paid OpenAI,
	-- so re-running it is opt-in per task.
	max_attempts	integer NOT NULL DEFAULT 1 CHECK (max_attempts >= 1),
	lease_until	timestamptz,
	worker		text,
	-- Monotonic version of (state, meta, result), bumped by the trigger
	-- below; SSE clients resume with Last-Event-ID = seq and a poller
	-- compares one integer instead of two JSON documents.
	seq		bigint NOT NULL DEFAULT 0,
	created_at	timestamptz NOT NULL DEFAULT now(),
	started_at	timestamptz,
	finished_at	timestamptz
);
-- The worker's "next queued task", FIFO.  Partial, so it stays as small as
-- the backlog however long the history grows.
CREATE INDEX tasks_pending_idx ON tasks (created_at) WHERE state = 'PENDING';
CREATE INDEX tasks_user_id_created_at_idx ON tasks (user_id, created_at DESC);
-- The reaper's "running tasks whose lease lapsed".
CREATE INDEX tasks_running_lease_idx ON tasks (lease_until)
	WHERE state IN ('STARTED', 'PROGRESS');
-- Purge of finished tasks.
CREATE INDEX tasks_finished_at_idx ON tasks (finished_at)
	WHERE finished_at IS NOT NULL;

-- Keeps seq and the timestamps right whoever writes the row (worker, cancel
-- route, reaper), so that no code path can forget them.
CREATE FUNCTION tasks_before_update() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF NEW.state IS DISTINCT FROM OLD.state
	    OR NEW.meta IS DISTINCT FROM OLD.meta
	    OR NEW.result IS DISTINCT FROM OLD.result THEN
		NEW.seq := OLD.seq + 1;
	END IF;
	IF NEW.state IN ('STARTED', 'PROGRESS') AND NEW.started_at IS NULL THEN
		NEW.started_at := now();
	END IF;
	IF NEW.state IN ('SUCCESS', 'FAILURE', 'REVOKED')
	    AND NEW.finished_at IS NULL THEN
		NEW.finished_at := now();
	END IF;
	RETURN NEW;
END;
$$;
CREATE TRIGGER tasks_before_update BEFORE UPDATE ON tasks
	FOR EACH ROW EXECUTE FUNCTION tasks_before_update();

-- Wakes idle workers (LISTEN relais_tasks) instead of having them poll.
-- NOTIFY is delivered at commit, so a woken worker always sees the row;
-- the payload is only a hint, workers still claim with SKIP LOCKED.
CREATE FUNCTION tasks_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_notify('relais_tasks', NEW.id::text);
	RETURN NULL;
END;
$$;
CREATE TRIGGER tasks_notify_insert AFTER INSERT ON tasks
	FOR EACH ROW WHEN (NEW.state = 'PENDING')
	EXECUTE FUNCTION tasks_notify();
-- A task put back in the queue (retry after a lapsed lease) must wake a
-- worker too.
CREATE TRIGGER tasks_notify_requeue AFTER UPDATE OF state ON tasks
	FOR EACH ROW WHEN (NEW.state = 'PENDING'
			   AND OLD.state IS DISTINCT FROM 'PENDING')
	EXECUTE FUNCTION tasks_notify();


-- ===========================================================================
-- Money: reservations and the usage ledger
-- ===========================================================================
--
-- EDxo checked credits after the paid call and sometimes overdrew or never
-- charged.  relais reserves an estimate before calling OpenAI and settles
-- the actual cost afterwards:
--   reserve: lock the user row (SELECT ... FOR UPDATE), check
--            credits - sum(reserved amounts) >= estimate, insert a
--            'reserved' row; users.credits is not touched yet.
--   settle:  in one transaction lock the user row, debit the actual cost,
--            insert the usage_ledger row (reservation_id is unique, so a
--            retried settlement cannot charge twice), mark 'settled'.
--   release: the call never happened or failed before billing.
-- The user_id keys are RESTRICT: billing history is never deleted as a
-- side effect of deleting an account.

CREATE TABLE credit_reservations (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	user_id		bigint NOT NULL REFERENCES users (id),
	amount		numeric(14,6) NOT NULL CHECK (amount > 0),
	state		text NOT NULL DEFAULT 'reserved'
			CHECK (state IN ('reserved', 'settled', 'released')),
	request_id	text,
	model		text,
	task_id		uuid REFERENCES tasks (id) ON DELETE SET NULL,
	created_at	timestamptz NOT NULL DEFAULT now(),
	settled_at	timestamptz,	-- when settled or released
	CHECK ((state = 'reserved') = (settled_at IS NULL))
);
CREATE INDEX credit_reservations_user_id_idx
	ON credit_reservations (user_id, created_at);
-- "Sum of open holds" for the available balance, and the sweep of stale
-- holds left by a crashed worker.
CREATE INDEX credit_reservations_open_idx ON credit_reservations (user_id)
	WHERE state = 'reserved';
CREATE INDEX credit_reservations_open_created_idx
	ON credit_reservations (created_at) WHERE state = 'reserved';
CREATE INDEX credit_reservations_task_id_idx ON credit_reservations (task_id);

-- Append-only: one row per change of users.credits.  delta is the signed
-- change, balance_after the balance it produced, so the history of a
-- balance can be replayed and checked.  cost is what the upstream call was
-- worth at our prices; it differs from -delta only when a charge had to be
-- capped at the remaining balance (cost above the reservation and the
-- balance).
CREATE TABLE usage_ledger (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	user_id		bigint NOT NULL REFERENCES users (id),
	reservation_id	bigint UNIQUE REFERENCES credit_reservations (id),
	kind		text NOT NULL
			CHECK (kind IN ('openai_call', 'admin_credit',
					'admin_debit')),
	model		text,
	input_tokens	bigint NOT NULL DEFAULT 0 CHECK (input_tokens >= 0),
	-- OpenAI reports cached and reasoning tokens as subsets of input and
	-- output tokens; the checks catch double counting.
	cached_input_tokens bigint NOT NULL DEFAULT 0
			CHECK (cached_input_tokens >= 0
			       AND cached_input_tokens <= input_tokens),
	output_tokens	bigint NOT NULL DEFAULT 0 CHECK (output_tokens >= 0),
	reasoning_tokens bigint NOT NULL DEFAULT 0
			CHECK (reasoning_tokens >= 0
			       AND reasoning_tokens <= output_tokens),
	cost		numeric(14,6) CHECK (cost >= 0),
	delta		numeric(14,6) NOT NULL,
	balance_after	numeric(14,6) NOT NULL CHECK (balance_after >= 0),
	route		text,
	request_id	text,
	upstream_response_id text,
	task_id		uuid REFERENCES tasks (id) ON DELETE SET NULL,
	-- The admin who made an admin_credit/admin_debit.
	actor_id	bigint REFERENCES users (id) ON DELETE SET NULL,
	note		text,
	created_at	timestamptz NOT NULL DEFAULT now(),
	CHECK (kind <> 'openai_call'
	       OR (model IS NOT NULL AND cost IS NOT NULL AND delta <= 0)),
	CHECK (kind <> 'admin_credit' OR delta > 0),
	CHECK (kind <> 'admin_debit' OR delta < 0)
);
CREATE INDEX usage_ledger_user_id_created_at_idx
	ON usage_ledger (user_id, created_at);
CREATE INDEX usage_ledger_created_at_idx ON usage_ledger (created_at);
CREATE INDEX usage_ledger_task_id_idx ON usage_ledger (task_id);
CREATE INDEX usage_ledger_actor_id_idx ON usage_ledger (actor_id);
