-- 0012_edxo_views.sql -- EDxo's tables, as views over relais' own (issue 18).
--
-- An EDxo configured with this database and search_path "edxo" reads and
-- writes the rows relais reads and writes: what a user applies from a
-- relais review page shows on EDxo's pages, and what they edit in EDxo is
-- what relais' next generation reads.  One copy of the data, so nothing to
-- synchronise and nothing to drift.
--
-- Every table of EDxo's schema (../shared/edxo/schema.sql, EDxo's models at
-- the baseline commit) has a relation of the same name here, with the same
-- column names, in EDxo's order, and types SQLAlchemy reads as EDxo's
-- models declare them.  docs/internals/edxo-views.md lists every decision;
-- tests/edxo-views/ compares the schema column by column and writes
-- through it.  In short:
--  * A view over relais' table where relais has one.  A view whose columns
--    are plain references is updatable by PostgreSQL itself; a view with a
--    converted column gets INSTEAD OF INSERT and UPDATE triggers (DELETE
--    stays automatic: a single-table view deletes whatever it shows).
--  * Conversions: timestamptz is shown as naive UTC "timestamp" (EDxo's
--    DateTime columns are naive and its code compares them with naive
--    values), numeric as double precision (EDxo's Float columns); writes
--    convert back.  Ids stay bigint: the same integer affinity.
--  * users.credits is read-only here: the ledger (lib/credits.c, the
--    admin credit route) is the only writer of money.  A write that would
--    change it is refused (SQLSTATE 42501), one that leaves it as it was
--    passes.
--  * Tables relais never reads (mail, backups, OAuth, EDxo's change log,
--    department rules, alembic_version) are real tables in this schema,
--    EDxo's alone.
--  * Trigger functions are SECURITY DEFINER with a fixed search_path, and
--    views check base tables with their owner's rights, so EDxo's
--    database role needs rights on this schema only: it never reaches the
--    ledger, sessions or keys directly (docs/deploy-with-edxo.md).
--  * Explicit ids on insert are refused (SQLSTATE 428C9), as they are for
--    relais' identity columns: EDxo lets the database choose them.

CREATE SCHEMA edxo;
COMMENT ON SCHEMA edxo IS
	'EDxo''s tables as views over relais'' own: sql/0012_edxo_views.sql';


-- ===========================================================================
-- Plain views: same columns, updatable by PostgreSQL
-- ===========================================================================

CREATE VIEW edxo."ListeCegep" AS
	SELECT id, nom, type, region FROM public.cegeps;
CREATE VIEW edxo."Department" AS
	SELECT id, nom, cegep_id FROM public.departments;
CREATE VIEW edxo."ListeProgrammeMinisteriel" AS
	SELECT id, nom, code FROM public.programmes_ministeriels;
CREATE VIEW edxo."Programme" AS
	SELECT id, nom, department_id,
	    programme_ministeriel_id AS liste_programme_ministeriel_id,
	    cegep_id, variante
	FROM public.programmes;
CREATE VIEW edxo."User_Programme" AS
	SELECT user_id, programme_id FROM public.user_programme;

CREATE VIEW edxo."FilConducteur" AS
	SELECT id, programme_id, description, couleur
	FROM public.fil_conducteur;
CREATE VIEW edxo."Cours_Programme" AS
	SELECT cours_id, programme_id, session FROM public.cours_programme;
CREATE VIEW edxo."CoursPrealable" AS
	SELECT id, cours_id, cours_prealable_id, note_necessaire
	FROM public.cours_prealable;
CREATE VIEW edxo."CoursCorequis" AS
	SELECT id, cours_id, cours_corequis_id FROM public.cours_corequis;
CREATE VIEW edxo."Competence" AS
	SELECT id, programme_id, code, nom, criteria_de_performance,
	    contexte_de_realisation
	FROM public.competences;
CREATE VIEW edxo."Competence_Programme" AS
	SELECT competence_id, programme_id FROM public.competence_programme;
CREATE VIEW edxo."ElementCompetence" AS
	SELECT id, competence_id, nom FROM public.element_competence;
CREATE VIEW edxo."ElementCompetenceCriteria" AS
	SELECT id, element_competence_id, criteria
	FROM public.element_competence_criteria;
CREATE VIEW edxo."ElementCompetenceParCours" AS
	SELECT id, cours_id, element_competence_id, status
	FROM public.element_competence_par_cours;
CREATE VIEW edxo."CompetenceParCours" AS
	SELECT id, cours_id, competence_developpee_id, competence_atteinte_id
	FROM public.competence_par_cours;

CREATE VIEW edxo."PlanCadreCapacites" AS
	SELECT id, plan_cadre_id, capacite, description_capacite,
	    ponderation_min, ponderation_max
	FROM public.plan_cadre_capacites;
CREATE VIEW edxo."PlanCadreCapaciteSavoirsNecessaires" AS
	SELECT id, capacite_id, texte
	FROM public.plan_cadre_capacite_savoirs_necessaires;
CREATE VIEW edxo."PlanCadreCapaciteSavoirsFaire" AS
	SELECT id, capacite_id, texte, cible, seuil_reussite
	FROM public.plan_cadre_capacite_savoirs_faire;
CREATE VIEW edxo."PlanCadreCapaciteMoyensEvaluation" AS
	SELECT id, capacite_id, texte
	FROM public.plan_cadre_capacite_moyens_evaluation;
CREATE VIEW edxo."PlanCadreSavoirEtre" AS
	SELECT id, plan_cadre_id, texte FROM public.plan_cadre_savoir_etre;
CREATE VIEW edxo."PlanCadreObjetsCibles" AS
	SELECT id, plan_cadre_id, texte, description
	FROM public.plan_cadre_objets_cibles;
CREATE VIEW edxo."PlanCadreCoursRelies" AS
	SELECT id, plan_cadre_id, texte, description
	FROM public.plan_cadre_cours_relies;
CREATE VIEW edxo."PlanCadreCoursPrealables" AS
	SELECT id, plan_cadre_id, texte, description
	FROM public.plan_cadre_cours_prealables;
CREATE VIEW edxo."PlanCadreCoursCorequis" AS
	SELECT id, plan_cadre_id, texte, description
	FROM public.plan_cadre_cours_corequis;
CREATE VIEW edxo."PlanCadreCompetencesCertifiees" AS
	SELECT id, plan_cadre_id, texte, description
	FROM public.plan_cadre_competences_certifiees;
CREATE VIEW edxo."PlanCadreCompetencesDeveloppees" AS
	SELECT id, plan_cadre_id, texte, description
	FROM public.plan_cadre_competences_developpees;

CREATE VIEW edxo."PlanDeCoursCalendrier" AS
	SELECT id, plan_de_cours_id, semaine, sujet, activites,
	    travaux_hors_classe, evaluations
	FROM public.plan_de_cours_calendrier;
CREATE VIEW edxo."PlanDeCoursMediagraphie" AS
	SELECT id, plan_de_cours_id, reference_bibliographique
	FROM public.plan_de_cours_mediagraphie;
CREATE VIEW edxo."PlanDeCoursDisponibiliteEnseignant" AS
	SELECT id, plan_de_cours_id, jour_semaine, plage_horaire, lieu
	FROM public.plan_de_cours_disponibilite_enseignant;
CREATE VIEW edxo."PlanDeCoursEvaluations" AS
	SELECT id, plan_de_cours_id, titre_evaluation, description, semaine
	FROM public.plan_de_cours_evaluations;
CREATE VIEW edxo."PlanDeCoursEvaluationsCapacites" AS
	SELECT id, evaluation_id, capacite_id, ponderation
	FROM public.plan_de_cours_evaluations_capacites;
-- selected is NOT NULL in relais (an unset check box is false): EDxo's
-- model gives it a Python default, so an insert always carries a value.
CREATE VIEW edxo.evaluation_savoirfaire AS
	SELECT evaluation_id, savoir_faire_id, capacite_id, selected,
	    level1_description, level2_description, level3_description,
	    level4_description, level5_description, level6_description
	FROM public.evaluation_savoirfaire;

-- relais seeds the 21 sections and pins their names (CHECK), with their
-- position and target, which EDxo does not know: an insert could only
-- duplicate a seeded row, and fails on position as it would on the name.
CREATE VIEW edxo."GlobalGenerationSettings" AS
	SELECT id, section, use_ai, text_content
	FROM public.global_generation_settings;


-- ===========================================================================
-- Converted views: INSTEAD OF INSERT and UPDATE triggers
-- ===========================================================================
--
-- Shared by every trigger below: EDxo never chooses ids, and an id it
-- chose would desynchronise the identity (0001's rule for imports).
CREATE FUNCTION edxo.refuse_id(id bigint) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	IF id IS NOT NULL THEN
		RAISE EXCEPTION 'ids are chosen by the database'
		    USING ERRCODE = '428C9';
	END IF;
END;
$$;

-- "User": password is relais' password_hash, whatever its format (relais
-- verifies EDxo's werkzeug hashes and re-hashes them at login).  openai_key
-- is stored encrypted with a key outside the database, which SQL cannot
-- read or write: it reads NULL and a write is ignored (relais' settings
-- page sets it).  api_token: relais keeps its SHA-256 only; the view shows
-- that hash in hex (no credential, but "a token exists" reads true), and a
-- token EDxo writes is stored hashed, so it works on relais' routes.
CREATE VIEW edxo."User" AS
	SELECT id, username, password_hash AS password,
	    last_openai_response_id, image, nom, prenom, is_first_connexion,
	    role, NULL::text AS openai_key, cegep_id, department_id,
	    credits::double precision AS credits, email,
	    last_login AT TIME ZONE 'UTC' AS last_login,
	    encode(api_token, 'hex') AS api_token,
	    api_token_expires_at AT TIME ZONE 'UTC' AS api_token_expires_at,
	    reset_version
	FROM public.users;
ALTER VIEW edxo."User" ALTER COLUMN role SET DEFAULT 'invite';
ALTER VIEW edxo."User" ALTER COLUMN is_first_connexion SET DEFAULT true;
ALTER VIEW edxo."User" ALTER COLUMN credits SET DEFAULT 0;

CREATE FUNCTION edxo.user_write() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public
AS $$
DECLARE
	tok	bytea;
BEGIN
	IF TG_OP = 'INSERT' THEN
		PERFORM edxo.refuse_id(NEW.id);
		IF coalesce(NEW.credits, 0) <> 0 THEN
			RAISE EXCEPTION 'credits: written by the ledger only'
			    USING ERRCODE = '42501';
		END IF;
		IF NEW.api_token IS NOT NULL THEN
			tok := sha256(convert_to(NEW.api_token, 'UTF8'));
		END IF;
		INSERT INTO users (username, password_hash,
		    last_openai_response_id, image, nom, prenom,
		    is_first_connexion, role, cegep_id, department_id, email,
		    last_login, api_token, api_token_expires_at,
		    reset_version)
		VALUES (NEW.username, NEW.password,
		    NEW.last_openai_response_id, NEW.image, NEW.nom,
		    NEW.prenom, coalesce(NEW.is_first_connexion, true),
		    coalesce(NEW.role, 'invite'), NEW.cegep_id,
		    NEW.department_id, NEW.email,
		    NEW.last_login AT TIME ZONE 'UTC', tok,
		    NEW.api_token_expires_at AT TIME ZONE 'UTC',
		    coalesce(NEW.reset_version, 0))
		RETURNING id, encode(api_token, 'hex')
		INTO NEW.id, NEW.api_token;
		NEW.openai_key := NULL;
		NEW.credits := 0;
		RETURN NEW;
	END IF;
	IF NEW.credits IS DISTINCT FROM OLD.credits THEN
		RAISE EXCEPTION 'credits: written by the ledger only'
		    USING ERRCODE = '42501';
	END IF;
	UPDATE users u SET username = NEW.username,
	    password_hash = NEW.password,
	    last_openai_response_id = NEW.last_openai_response_id,
	    image = NEW.image, nom = NEW.nom, prenom = NEW.prenom,
	    is_first_connexion = coalesce(NEW.is_first_connexion, true),
	    role = NEW.role, cegep_id = NEW.cegep_id,
	    department_id = NEW.department_id, email = NEW.email,
	    last_login = NEW.last_login AT TIME ZONE 'UTC',
	    api_token = CASE WHEN NEW.api_token IS NOT DISTINCT FROM
		    OLD.api_token THEN u.api_token
		WHEN NEW.api_token IS NULL THEN NULL
		ELSE sha256(convert_to(NEW.api_token, 'UTF8')) END,
	    api_token_expires_at = NEW.api_token_expires_at AT TIME ZONE 'UTC',
	    reset_version = coalesce(NEW.reset_version, 0)
	WHERE u.id = OLD.id
	RETURNING encode(u.api_token, 'hex') INTO NEW.api_token;
	IF NOT FOUND THEN
		RETURN NULL;
	END IF;
	NEW.id := OLD.id;
	NEW.openai_key := NULL;
	RETURN NEW;
END;
$$;
CREATE TRIGGER user_write INSTEAD OF INSERT OR UPDATE ON edxo."User"
	FOR EACH ROW EXECUTE FUNCTION edxo.user_write();

-- "Cours": units are numeric(6,2) in relais (thirds summed against a
-- programme total), a Float in EDxo.  Written back only when changed, so
-- that an unrelated update does not round the stored value through binary.
CREATE VIEW edxo."Cours" AS
	SELECT id, code, nom, nombre_unites::double precision AS nombre_unites,
	    heures_theorie, heures_laboratoire, heures_travail_maison,
	    fil_conducteur_id
	FROM public.cours;

CREATE FUNCTION edxo.cours_write() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public
AS $$
BEGIN
	IF TG_OP = 'INSERT' THEN
		PERFORM edxo.refuse_id(NEW.id);
		INSERT INTO cours (code, nom, nombre_unites, heures_theorie,
		    heures_laboratoire, heures_travail_maison,
		    fil_conducteur_id)
		VALUES (NEW.code, NEW.nom, NEW.nombre_unites,
		    NEW.heures_theorie, NEW.heures_laboratoire,
		    NEW.heures_travail_maison, NEW.fil_conducteur_id)
		RETURNING id, nombre_unites INTO NEW.id, NEW.nombre_unites;
		RETURN NEW;
	END IF;
	UPDATE cours c SET code = NEW.code, nom = NEW.nom,
	    nombre_unites = CASE WHEN NEW.nombre_unites IS NOT DISTINCT FROM
		OLD.nombre_unites THEN c.nombre_unites
		ELSE NEW.nombre_unites::numeric END,
	    heures_theorie = NEW.heures_theorie,
	    heures_laboratoire = NEW.heures_laboratoire,
	    heures_travail_maison = NEW.heures_travail_maison,
	    fil_conducteur_id = NEW.fil_conducteur_id
	WHERE c.id = OLD.id
	RETURNING c.nombre_unites INTO NEW.nombre_unites;
	IF NOT FOUND THEN
		RETURN NULL;
	END IF;
	NEW.id := OLD.id;
	RETURN NEW;
END;
$$;
CREATE TRIGGER cours_write INSTEAD OF INSERT OR UPDATE ON edxo."Cours"
	FOR EACH ROW EXECUTE FUNCTION edxo.cours_write();

CREATE VIEW edxo."PlanCadre" AS
	SELECT id, cours_id, place_intro, objectif_terminal, structure_intro,
	    structure_activites_theoriques, structure_activites_pratiques,
	    structure_activites_prevues, eval_evaluation_sommative,
	    eval_nature_evaluations_sommatives, eval_evaluation_de_la_langue,
	    eval_evaluation_sommatives_apprentissages, additional_info,
	    ai_model, modified_by_id,
	    modified_at AT TIME ZONE 'UTC' AS modified_at
	FROM public.plan_cadre;
ALTER VIEW edxo."PlanCadre" ALTER COLUMN ai_model SET DEFAULT 'gpt-5';

CREATE FUNCTION edxo.plan_cadre_write() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public
AS $$
BEGIN
	IF TG_OP = 'INSERT' THEN
		PERFORM edxo.refuse_id(NEW.id);
		INSERT INTO plan_cadre (cours_id, place_intro,
		    objectif_terminal, structure_intro,
		    structure_activites_theoriques,
		    structure_activites_pratiques,
		    structure_activites_prevues, eval_evaluation_sommative,
		    eval_nature_evaluations_sommatives,
		    eval_evaluation_de_la_langue,
		    eval_evaluation_sommatives_apprentissages,
		    additional_info, ai_model, modified_by_id, modified_at)
		VALUES (NEW.cours_id, NEW.place_intro, NEW.objectif_terminal,
		    NEW.structure_intro, NEW.structure_activites_theoriques,
		    NEW.structure_activites_pratiques,
		    NEW.structure_activites_prevues,
		    NEW.eval_evaluation_sommative,
		    NEW.eval_nature_evaluations_sommatives,
		    NEW.eval_evaluation_de_la_langue,
		    NEW.eval_evaluation_sommatives_apprentissages,
		    NEW.additional_info, NEW.ai_model, NEW.modified_by_id,
		    NEW.modified_at AT TIME ZONE 'UTC')
		RETURNING id INTO NEW.id;
		RETURN NEW;
	END IF;
	UPDATE plan_cadre SET cours_id = NEW.cours_id,
	    place_intro = NEW.place_intro,
	    objectif_terminal = NEW.objectif_terminal,
	    structure_intro = NEW.structure_intro,
	    structure_activites_theoriques =
		NEW.structure_activites_theoriques,
	    structure_activites_pratiques = NEW.structure_activites_pratiques,
	    structure_activites_prevues = NEW.structure_activites_prevues,
	    eval_evaluation_sommative = NEW.eval_evaluation_sommative,
	    eval_nature_evaluations_sommatives =
		NEW.eval_nature_evaluations_sommatives,
	    eval_evaluation_de_la_langue = NEW.eval_evaluation_de_la_langue,
	    eval_evaluation_sommatives_apprentissages =
		NEW.eval_evaluation_sommatives_apprentissages,
	    additional_info = NEW.additional_info, ai_model = NEW.ai_model,
	    modified_by_id = NEW.modified_by_id,
	    modified_at = NEW.modified_at AT TIME ZONE 'UTC'
	WHERE id = OLD.id;
	IF NOT FOUND THEN
		RETURN NULL;
	END IF;
	NEW.id := OLD.id;
	RETURN NEW;
END;
$$;
CREATE TRIGGER plan_cadre_write INSTEAD OF INSERT OR UPDATE
	ON edxo."PlanCadre"
	FOR EACH ROW EXECUTE FUNCTION edxo.plan_cadre_write();

-- compatibility_percentage is numeric(5,2) in relais, a Float in EDxo.
-- materiel: relais' default is the empty text; EDxo's SQLite default was
-- the two characters '' (a quoting slip, ../shared/edxo/README.md).
CREATE VIEW edxo."PlanDeCours" AS
	SELECT id, cours_id, department_id, session, campus, nom_enseignant,
	    telephone_enseignant, courriel_enseignant, bureau_enseignant,
	    presentation_du_cours, objectif_terminal_du_cours,
	    organisation_et_methodes, accomodement,
	    evaluation_formative_apprentissages,
	    evaluation_expression_francais, seuil_reussite,
	    place_et_role_du_cours, materiel,
	    compatibility_percentage::double precision
		AS compatibility_percentage,
	    recommendation_ameliore, recommendation_plan_cadre,
	    modified_by_id, modified_at AT TIME ZONE 'UTC' AS modified_at
	FROM public.plan_de_cours;
ALTER VIEW edxo."PlanDeCours" ALTER COLUMN materiel SET DEFAULT '';

CREATE FUNCTION edxo.plan_de_cours_write() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public
AS $$
BEGIN
	IF TG_OP = 'INSERT' THEN
		PERFORM edxo.refuse_id(NEW.id);
		INSERT INTO plan_de_cours (cours_id, department_id, session,
		    campus, nom_enseignant, telephone_enseignant,
		    courriel_enseignant, bureau_enseignant,
		    presentation_du_cours, objectif_terminal_du_cours,
		    organisation_et_methodes, accomodement,
		    evaluation_formative_apprentissages,
		    evaluation_expression_francais, seuil_reussite,
		    place_et_role_du_cours, materiel,
		    compatibility_percentage, recommendation_ameliore,
		    recommendation_plan_cadre, modified_by_id, modified_at)
		VALUES (NEW.cours_id, NEW.department_id, NEW.session,
		    NEW.campus, NEW.nom_enseignant, NEW.telephone_enseignant,
		    NEW.courriel_enseignant, NEW.bureau_enseignant,
		    NEW.presentation_du_cours, NEW.objectif_terminal_du_cours,
		    NEW.organisation_et_methodes, NEW.accomodement,
		    NEW.evaluation_formative_apprentissages,
		    NEW.evaluation_expression_francais, NEW.seuil_reussite,
		    NEW.place_et_role_du_cours, NEW.materiel,
		    NEW.compatibility_percentage, NEW.recommendation_ameliore,
		    NEW.recommendation_plan_cadre, NEW.modified_by_id,
		    NEW.modified_at AT TIME ZONE 'UTC')
		RETURNING id, compatibility_percentage
		INTO NEW.id, NEW.compatibility_percentage;
		RETURN NEW;
	END IF;
	UPDATE plan_de_cours d SET cours_id = NEW.cours_id,
	    department_id = NEW.department_id, session = NEW.session,
	    campus = NEW.campus, nom_enseignant = NEW.nom_enseignant,
	    telephone_enseignant = NEW.telephone_enseignant,
	    courriel_enseignant = NEW.courriel_enseignant,
	    bureau_enseignant = NEW.bureau_enseignant,
	    presentation_du_cours = NEW.presentation_du_cours,
	    objectif_terminal_du_cours = NEW.objectif_terminal_du_cours,
	    organisation_et_methodes = NEW.organisation_et_methodes,
	    accomodement = NEW.accomodement,
	    evaluation_formative_apprentissages =
		NEW.evaluation_formative_apprentissages,
	    evaluation_expression_francais =
		NEW.evaluation_expression_francais,
	    seuil_reussite = NEW.seuil_reussite,
	    place_et_role_du_cours = NEW.place_et_role_du_cours,
	    materiel = NEW.materiel,
	    compatibility_percentage = CASE WHEN NEW.compatibility_percentage
		IS NOT DISTINCT FROM OLD.compatibility_percentage
		THEN d.compatibility_percentage
		ELSE NEW.compatibility_percentage::numeric END,
	    recommendation_ameliore = NEW.recommendation_ameliore,
	    recommendation_plan_cadre = NEW.recommendation_plan_cadre,
	    modified_by_id = NEW.modified_by_id,
	    modified_at = NEW.modified_at AT TIME ZONE 'UTC'
	WHERE d.id = OLD.id
	RETURNING d.compatibility_percentage INTO NEW.compatibility_percentage;
	IF NOT FOUND THEN
		RETURN NULL;
	END IF;
	NEW.id := OLD.id;
	RETURN NEW;
END;
$$;
CREATE TRIGGER plan_de_cours_write INSTEAD OF INSERT OR UPDATE
	ON edxo."PlanDeCours"
	FOR EACH ROW EXECUTE FUNCTION edxo.plan_de_cours_write();

-- chat_history: relais' interrupted flag is not EDxo's; a row EDxo writes
-- is a complete one.
CREATE VIEW edxo.chat_history AS
	SELECT id, user_id, role, content, name, function_call_name,
	    function_call_args, h.timestamp AT TIME ZONE 'UTC' AS timestamp
	FROM public.chat_history h;

CREATE FUNCTION edxo.chat_history_write() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public
AS $$
BEGIN
	IF TG_OP = 'INSERT' THEN
		PERFORM edxo.refuse_id(NEW.id);
		INSERT INTO chat_history AS h (user_id, role, content, name,
		    function_call_name, function_call_args, timestamp)
		VALUES (NEW.user_id, NEW.role, NEW.content, NEW.name,
		    NEW.function_call_name, NEW.function_call_args,
		    coalesce(NEW.timestamp AT TIME ZONE 'UTC', now()))
		RETURNING h.id, h.timestamp AT TIME ZONE 'UTC'
		INTO NEW.id, NEW.timestamp;
		RETURN NEW;
	END IF;
	UPDATE chat_history SET user_id = NEW.user_id, role = NEW.role,
	    content = NEW.content, name = NEW.name,
	    function_call_name = NEW.function_call_name,
	    function_call_args = NEW.function_call_args,
	    timestamp = coalesce(NEW.timestamp AT TIME ZONE 'UTC', now())
	WHERE id = OLD.id;
	IF NOT FOUND THEN
		RETURN NULL;
	END IF;
	NEW.id := OLD.id;
	RETURN NEW;
END;
$$;
CREATE TRIGGER chat_history_write INSTEAD OF INSERT OR UPDATE
	ON edxo.chat_history
	FOR EACH ROW EXECUTE FUNCTION edxo.chat_history_write();

-- openai_models: the same unit (USD per 1M tokens) on both sides; prices
-- are numeric(12,6) in relais, so EDxo's binary noise (0.30000000000000004)
-- rounds to six decimals.  relais' other columns (provider, capabilities,
-- catalogue text) keep their defaults on insert.
CREATE VIEW edxo.openai_models AS
	SELECT id, name, input_price::double precision AS input_price,
	    output_price::double precision AS output_price
	FROM public.openai_models;

CREATE FUNCTION edxo.openai_models_write() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public
AS $$
BEGIN
	IF TG_OP = 'INSERT' THEN
		PERFORM edxo.refuse_id(NEW.id);
		INSERT INTO openai_models (name, input_price, output_price)
		VALUES (NEW.name, NEW.input_price, NEW.output_price)
		RETURNING id, input_price, output_price
		INTO NEW.id, NEW.input_price, NEW.output_price;
		RETURN NEW;
	END IF;
	UPDATE openai_models m SET name = NEW.name,
	    input_price = CASE WHEN NEW.input_price IS NOT DISTINCT FROM
		OLD.input_price THEN m.input_price
		ELSE NEW.input_price::numeric END,
	    output_price = CASE WHEN NEW.output_price IS NOT DISTINCT FROM
		OLD.output_price THEN m.output_price
		ELSE NEW.output_price::numeric END,
	    updated_at = now()
	WHERE m.id = OLD.id
	RETURNING m.input_price, m.output_price
	INTO NEW.input_price, NEW.output_price;
	IF NOT FOUND THEN
		RETURN NULL;
	END IF;
	NEW.id := OLD.id;
	RETURN NEW;
END;
$$;
CREATE TRIGGER openai_models_write INSTEAD OF INSERT OR UPDATE
	ON edxo.openai_models
	FOR EACH ROW EXECUTE FUNCTION edxo.openai_models_write();


-- ---------------------------------------------------------------------------
-- Settings.  relais' singletons (id = 1, seeded) are updated, never
-- inserted: EDxo creates its row lazily only when none exists, which here
-- never happens, and an insert fails on the primary key as it should.
-- updated_at is NOT NULL in relais: a NULL from EDxo means "now".
-- ---------------------------------------------------------------------------

CREATE VIEW edxo.chat_model_config AS
	SELECT id, chat_model, tool_model, reasoning_effort, verbosity,
	    updated_at AT TIME ZONE 'UTC' AS updated_at
	FROM public.chat_model_config;

CREATE FUNCTION edxo.chat_model_config_write() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public
AS $$
BEGIN
	IF TG_OP = 'INSERT' THEN
		INSERT INTO chat_model_config (id, chat_model, tool_model,
		    reasoning_effort, verbosity, updated_at)
		VALUES (coalesce(NEW.id, 1), NEW.chat_model, NEW.tool_model,
		    NEW.reasoning_effort, NEW.verbosity,
		    coalesce(NEW.updated_at AT TIME ZONE 'UTC', now()))
		RETURNING id INTO NEW.id;
		RETURN NEW;
	END IF;
	UPDATE chat_model_config SET chat_model = NEW.chat_model,
	    tool_model = NEW.tool_model,
	    reasoning_effort = NEW.reasoning_effort,
	    verbosity = NEW.verbosity,
	    updated_at = coalesce(NEW.updated_at AT TIME ZONE 'UTC', now())
	WHERE id = OLD.id;
	IF NOT FOUND THEN
		RETURN NULL;
	END IF;
	RETURN NEW;
END;
$$;
CREATE TRIGGER chat_model_config_write INSTEAD OF INSERT OR UPDATE
	ON edxo.chat_model_config
	FOR EACH ROW EXECUTE FUNCTION edxo.chat_model_config_write();

CREATE VIEW edxo.analyse_plan_cours_prompt AS
	SELECT id, prompt_template, ai_model,
	    created_at AT TIME ZONE 'UTC' AS created_at,
	    updated_at AT TIME ZONE 'UTC' AS updated_at
	FROM public.analyse_plan_cours_prompt;
ALTER VIEW edxo.analyse_plan_cours_prompt
	ALTER COLUMN ai_model SET DEFAULT 'gpt-5';

CREATE FUNCTION edxo.analyse_plan_cours_prompt_write() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public
AS $$
BEGIN
	IF TG_OP = 'INSERT' THEN
		INSERT INTO analyse_plan_cours_prompt (id, prompt_template,
		    ai_model, created_at, updated_at)
		VALUES (coalesce(NEW.id, 1), NEW.prompt_template, NEW.ai_model,
		    coalesce(NEW.created_at AT TIME ZONE 'UTC', now()),
		    coalesce(NEW.updated_at AT TIME ZONE 'UTC', now()))
		RETURNING id INTO NEW.id;
		RETURN NEW;
	END IF;
	UPDATE analyse_plan_cours_prompt SET
	    prompt_template = NEW.prompt_template, ai_model = NEW.ai_model,
	    created_at = coalesce(NEW.created_at AT TIME ZONE 'UTC', now()),
	    updated_at = coalesce(NEW.updated_at AT TIME ZONE 'UTC', now())
	WHERE id = OLD.id;
	IF NOT FOUND THEN
		RETURN NULL;
	END IF;
	RETURN NEW;
END;
$$;
CREATE TRIGGER analyse_plan_cours_prompt_write INSTEAD OF INSERT OR UPDATE
	ON edxo.analyse_plan_cours_prompt
	FOR EACH ROW EXECUTE FUNCTION edxo.analyse_plan_cours_prompt_write();

-- context_variables: jsonb array in relais.  EDxo's JSON column writes
-- Python None as the JSON text null: both mean "no variables".
CREATE VIEW edxo.plan_de_cours_prompt_settings AS
	SELECT id, field_name, prompt_template, ai_model, context_variables,
	    created_at AT TIME ZONE 'UTC' AS created_at,
	    updated_at AT TIME ZONE 'UTC' AS updated_at
	FROM public.plan_de_cours_prompt_settings;
ALTER VIEW edxo.plan_de_cours_prompt_settings
	ALTER COLUMN ai_model SET DEFAULT 'gpt-5';

CREATE FUNCTION edxo.plan_de_cours_prompt_settings_write() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public
AS $$
DECLARE
	vars	jsonb := NEW.context_variables;
BEGIN
	IF vars IS NULL OR jsonb_typeof(vars) = 'null' THEN
		vars := '[]';
	END IF;
	IF TG_OP = 'INSERT' THEN
		PERFORM edxo.refuse_id(NEW.id);
		INSERT INTO plan_de_cours_prompt_settings (field_name,
		    prompt_template, ai_model, context_variables,
		    created_at, updated_at)
		VALUES (NEW.field_name, NEW.prompt_template, NEW.ai_model, vars,
		    coalesce(NEW.created_at AT TIME ZONE 'UTC', now()),
		    coalesce(NEW.updated_at AT TIME ZONE 'UTC', now()))
		RETURNING id INTO NEW.id;
		NEW.context_variables := vars;
		RETURN NEW;
	END IF;
	UPDATE plan_de_cours_prompt_settings SET field_name = NEW.field_name,
	    prompt_template = NEW.prompt_template, ai_model = NEW.ai_model,
	    context_variables = vars,
	    created_at = coalesce(NEW.created_at AT TIME ZONE 'UTC', now()),
	    updated_at = coalesce(NEW.updated_at AT TIME ZONE 'UTC', now())
	WHERE id = OLD.id;
	IF NOT FOUND THEN
		RETURN NULL;
	END IF;
	NEW.id := OLD.id;
	NEW.context_variables := vars;
	RETURN NEW;
END;
$$;
CREATE TRIGGER plan_de_cours_prompt_settings_write
	INSTEAD OF INSERT OR UPDATE ON edxo.plan_de_cours_prompt_settings
	FOR EACH ROW
	EXECUTE FUNCTION edxo.plan_de_cours_prompt_settings_write();

CREATE VIEW edxo.grille_prompt_settings AS
	SELECT id, prompt_template, level1_description, level2_description,
	    level3_description, level4_description, level5_description,
	    level6_description, updated_at AT TIME ZONE 'UTC' AS updated_at
	FROM public.grille_prompt_settings;

CREATE FUNCTION edxo.grille_prompt_settings_write() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public
AS $$
BEGIN
	IF TG_OP = 'INSERT' THEN
		INSERT INTO grille_prompt_settings (id, prompt_template,
		    level1_description, level2_description,
		    level3_description, level4_description,
		    level5_description, level6_description, updated_at)
		VALUES (coalesce(NEW.id, 1), NEW.prompt_template,
		    NEW.level1_description, NEW.level2_description,
		    NEW.level3_description, NEW.level4_description,
		    NEW.level5_description, NEW.level6_description,
		    coalesce(NEW.updated_at AT TIME ZONE 'UTC', now()))
		RETURNING id INTO NEW.id;
		RETURN NEW;
	END IF;
	UPDATE grille_prompt_settings SET
	    prompt_template = NEW.prompt_template,
	    level1_description = NEW.level1_description,
	    level2_description = NEW.level2_description,
	    level3_description = NEW.level3_description,
	    level4_description = NEW.level4_description,
	    level5_description = NEW.level5_description,
	    level6_description = NEW.level6_description,
	    updated_at = coalesce(NEW.updated_at AT TIME ZONE 'UTC', now())
	WHERE id = OLD.id;
	IF NOT FOUND THEN
		RETURN NULL;
	END IF;
	RETURN NEW;
END;
$$;
CREATE TRIGGER grille_prompt_settings_write INSTEAD OF INSERT OR UPDATE
	ON edxo.grille_prompt_settings
	FOR EACH ROW EXECUTE FUNCTION edxo.grille_prompt_settings_write();

CREATE VIEW edxo.ocr_prompt_settings AS
	SELECT id, segmentation_prompt, extraction_prompt, model_section,
	    model_extraction, updated_at AT TIME ZONE 'UTC' AS updated_at
	FROM public.ocr_prompt_settings;

CREATE FUNCTION edxo.ocr_prompt_settings_write() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public
AS $$
BEGIN
	IF TG_OP = 'INSERT' THEN
		INSERT INTO ocr_prompt_settings (id, segmentation_prompt,
		    extraction_prompt, model_section, model_extraction,
		    updated_at)
		VALUES (coalesce(NEW.id, 1), NEW.segmentation_prompt,
		    NEW.extraction_prompt, NEW.model_section,
		    NEW.model_extraction,
		    coalesce(NEW.updated_at AT TIME ZONE 'UTC', now()))
		RETURNING id INTO NEW.id;
		RETURN NEW;
	END IF;
	UPDATE ocr_prompt_settings SET
	    segmentation_prompt = NEW.segmentation_prompt,
	    extraction_prompt = NEW.extraction_prompt,
	    model_section = NEW.model_section,
	    model_extraction = NEW.model_extraction,
	    updated_at = coalesce(NEW.updated_at AT TIME ZONE 'UTC', now())
	WHERE id = OLD.id;
	IF NOT FOUND THEN
		RETURN NULL;
	END IF;
	RETURN NEW;
END;
$$;
CREATE TRIGGER ocr_prompt_settings_write INSTEAD OF INSERT OR UPDATE
	ON edxo.ocr_prompt_settings
	FOR EACH ROW EXECUTE FUNCTION edxo.ocr_prompt_settings_write();

CREATE VIEW edxo.plan_cadre_import_prompt_settings AS
	SELECT id, prompt_template, ai_model,
	    updated_at AT TIME ZONE 'UTC' AS updated_at
	FROM public.plan_cadre_import_prompt_settings;
ALTER VIEW edxo.plan_cadre_import_prompt_settings
	ALTER COLUMN ai_model SET DEFAULT 'gpt-5';

CREATE FUNCTION edxo.plan_cadre_import_prompt_settings_write()
RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public
AS $$
BEGIN
	IF TG_OP = 'INSERT' THEN
		INSERT INTO plan_cadre_import_prompt_settings (id,
		    prompt_template, ai_model, updated_at)
		VALUES (coalesce(NEW.id, 1), NEW.prompt_template, NEW.ai_model,
		    coalesce(NEW.updated_at AT TIME ZONE 'UTC', now()))
		RETURNING id INTO NEW.id;
		RETURN NEW;
	END IF;
	UPDATE plan_cadre_import_prompt_settings SET
	    prompt_template = NEW.prompt_template, ai_model = NEW.ai_model,
	    updated_at = coalesce(NEW.updated_at AT TIME ZONE 'UTC', now())
	WHERE id = OLD.id;
	IF NOT FOUND THEN
		RETURN NULL;
	END IF;
	RETURN NEW;
END;
$$;
CREATE TRIGGER plan_cadre_import_prompt_settings_write
	INSTEAD OF INSERT OR UPDATE ON edxo.plan_cadre_import_prompt_settings
	FOR EACH ROW
	EXECUTE FUNCTION edxo.plan_cadre_import_prompt_settings_write();


-- ===========================================================================
-- EDxo's own tables: relais never reads them
-- ===========================================================================
--
-- In EDxo's shape (DATETIME as naive UTC timestamp, as EDxo writes it).
-- References to people and departments point at relais' tables, so that
-- deleting an account or a department takes EDxo's rows along as it did
-- in EDxo (or keeps the change log, SET NULL).

CREATE TABLE edxo."DepartmentRegles" (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	department_id	bigint NOT NULL REFERENCES public.departments (id)
			ON DELETE CASCADE,
	regle		text NOT NULL,
	contenu		text NOT NULL
);
CREATE INDEX "DepartmentRegles_department_id_idx"
	ON edxo."DepartmentRegles" (department_id);

CREATE TABLE edxo."DepartmentPIEA" (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	department_id	bigint NOT NULL REFERENCES public.departments (id)
			ON DELETE CASCADE,
	article		text NOT NULL,
	contenu		text NOT NULL
);
CREATE INDEX "DepartmentPIEA_department_id_idx"
	ON edxo."DepartmentPIEA" (department_id);

-- EDxo's change tracker writes a row per flush; its changes hold password
-- hashes, API tokens and OpenAI keys in clear (docs/deploy-with-edxo.md:
-- purge it).  relais' own history is audit_log.
CREATE TABLE edxo."DBChange" (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	timestamp	timestamp,
	user_id		bigint REFERENCES public.users (id) ON DELETE SET NULL,
	operation	text,
	table_name	text,
	record_id	bigint,
	changes		json
);
CREATE INDEX "DBChange_user_id_idx" ON edxo."DBChange" (user_id);
CREATE INDEX "DBChange_timestamp_idx" ON edxo."DBChange" (timestamp);

CREATE TABLE edxo.mailgun_config (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	mailgun_domain	text NOT NULL,
	mailgun_api_key	text NOT NULL
);

CREATE TABLE edxo.backup_config (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	email		text NOT NULL,
	frequency	text NOT NULL,
	backup_time	text NOT NULL,
	enabled		boolean
);

CREATE TABLE edxo.oauth_client (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	client_id	text NOT NULL UNIQUE,
	client_secret	text NOT NULL,
	name		text,
	redirect_uri	text,
	created_at	timestamp
);

CREATE TABLE edxo.oauth_token (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	token		text NOT NULL UNIQUE,
	client_id	text NOT NULL,
	user_id		bigint REFERENCES public.users (id) ON DELETE CASCADE,
	expires_at	timestamp NOT NULL
);
CREATE INDEX oauth_token_user_id_idx ON edxo.oauth_token (user_id);

CREATE TABLE edxo.oauth_authorization_code (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	code		text NOT NULL UNIQUE,
	client_id	text NOT NULL,
	user_id		bigint NOT NULL REFERENCES public.users (id)
			ON DELETE CASCADE,
	code_challenge	text NOT NULL,
	expires_at	timestamp NOT NULL
);
CREATE INDEX oauth_authorization_code_user_id_idx
	ON edxo.oauth_authorization_code (user_id);

-- EDxo's migration head at the baseline commit: an EDxo that runs
-- "flask db upgrade" at start finds its schema current and does nothing
-- (it must never create its tables here: they are these views).
CREATE TABLE edxo.alembic_version (
	version_num	text NOT NULL PRIMARY KEY
);
INSERT INTO edxo.alembic_version (version_num) VALUES ('09fb8fece955');
