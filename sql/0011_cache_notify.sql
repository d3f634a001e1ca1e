-- Issue 17: what the programs cache, and how they hear that it changed.
--
-- Each program keeps the rows of these tables it has read (models and
-- prices, providers and keys, the router's agents and settings, prompt
-- and AI settings, a user's role) in its memory, so that a billed call
-- makes one round trip to PostgreSQL before its upstream request instead
-- of seven (lib/cache.c, docs/internals/cache.md).  A write to one of
-- them, by a program, an operator's psql or a migration, notifies
-- 'relais_cache' with the table's name; PostgreSQL delivers it at commit
-- to every program listening, on every host, and each drops what it read
-- from that table.  A rolled-back write notifies nobody.
--
-- One notification per statement for the small tables: a settings page
-- that rewrites ten rows costs one.  pg_notify folds identical payloads
-- within a transaction.
CREATE FUNCTION relais_cache_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_notify('relais_cache', TG_TABLE_NAME);
	RETURN NULL;
END;
$$;

CREATE TRIGGER openai_models_cache AFTER INSERT OR UPDATE OR DELETE OR
	TRUNCATE ON openai_models
	FOR EACH STATEMENT EXECUTE FUNCTION relais_cache_notify();
CREATE TRIGGER providers_cache AFTER INSERT OR UPDATE OR DELETE OR
	TRUNCATE ON providers
	FOR EACH STATEMENT EXECUTE FUNCTION relais_cache_notify();
CREATE TRIGGER router_agents_cache AFTER INSERT OR UPDATE OR DELETE OR
	TRUNCATE ON router_agents
	FOR EACH STATEMENT EXECUTE FUNCTION relais_cache_notify();
CREATE TRIGGER router_settings_cache AFTER INSERT OR UPDATE OR DELETE OR
	TRUNCATE ON router_settings
	FOR EACH STATEMENT EXECUTE FUNCTION relais_cache_notify();
CREATE TRIGGER router_energy_cache AFTER INSERT OR UPDATE OR DELETE OR
	TRUNCATE ON router_energy
	FOR EACH STATEMENT EXECUTE FUNCTION relais_cache_notify();
CREATE TRIGGER chat_model_config_cache AFTER INSERT OR UPDATE OR DELETE OR
	TRUNCATE ON chat_model_config
	FOR EACH STATEMENT EXECUTE FUNCTION relais_cache_notify();
CREATE TRIGGER section_ai_settings_cache AFTER INSERT OR UPDATE OR
	DELETE OR TRUNCATE ON section_ai_settings
	FOR EACH STATEMENT EXECUTE FUNCTION relais_cache_notify();
CREATE TRIGGER global_generation_settings_cache AFTER INSERT OR UPDATE OR
	DELETE OR TRUNCATE ON global_generation_settings
	FOR EACH STATEMENT EXECUTE FUNCTION relais_cache_notify();
CREATE TRIGGER analyse_plan_cours_prompt_cache AFTER INSERT OR UPDATE OR
	DELETE OR TRUNCATE ON analyse_plan_cours_prompt
	FOR EACH STATEMENT EXECUTE FUNCTION relais_cache_notify();
CREATE TRIGGER plan_de_cours_prompt_settings_cache AFTER INSERT OR
	UPDATE OR DELETE OR TRUNCATE ON plan_de_cours_prompt_settings
	FOR EACH STATEMENT EXECUTE FUNCTION relais_cache_notify();
CREATE TRIGGER grille_prompt_settings_cache AFTER INSERT OR UPDATE OR
	DELETE OR TRUNCATE ON grille_prompt_settings
	FOR EACH STATEMENT EXECUTE FUNCTION relais_cache_notify();
CREATE TRIGGER ocr_prompt_settings_cache AFTER INSERT OR UPDATE OR
	DELETE OR TRUNCATE ON ocr_prompt_settings
	FOR EACH STATEMENT EXECUTE FUNCTION relais_cache_notify();
CREATE TRIGGER plan_cadre_import_prompt_settings_cache AFTER INSERT OR
	UPDATE OR DELETE OR TRUNCATE ON plan_cadre_import_prompt_settings
	FOR EACH STATEMENT EXECUTE FUNCTION relais_cache_notify();

-- users is written on every billed call (credits, held): those writes
-- must not empty every program's cache.  Only what the cache keeps
-- counts — who the user is (role, names), how they sign in with a token,
-- their own provider key — and the row's id goes with the notification.
CREATE FUNCTION relais_cache_notify_user() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_notify('relais_cache', 'users:' ||
		CASE WHEN TG_OP = 'DELETE' THEN OLD.id ELSE NEW.id END);
	RETURN NULL;
END;
$$;

-- A new account is in no cache (ids are never reused), unless it comes
-- with an API token that a failed lookup may have cached as unknown.
CREATE TRIGGER users_cache_insert AFTER INSERT ON users
	FOR EACH ROW WHEN (NEW.api_token IS NOT NULL)
	EXECUTE FUNCTION relais_cache_notify_user();
CREATE TRIGGER users_cache_delete AFTER DELETE ON users
	FOR EACH ROW EXECUTE FUNCTION relais_cache_notify_user();
CREATE TRIGGER users_cache_update AFTER UPDATE ON users
	FOR EACH ROW WHEN (OLD.role IS DISTINCT FROM NEW.role OR
		OLD.username IS DISTINCT FROM NEW.username OR
		OLD.email IS DISTINCT FROM NEW.email OR
		OLD.api_token IS DISTINCT FROM NEW.api_token OR
		OLD.api_token_expires_at IS DISTINCT FROM
			NEW.api_token_expires_at OR
		OLD.openai_key_enc IS DISTINCT FROM NEW.openai_key_enc OR
		OLD.id IS DISTINCT FROM NEW.id)
	EXECUTE FUNCTION relais_cache_notify_user();
CREATE TRIGGER users_cache_truncate AFTER TRUNCATE ON users
	FOR EACH STATEMENT EXECUTE FUNCTION relais_cache_notify();
