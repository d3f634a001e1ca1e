#!/bin/sh
# check-schema.sh -- apply every migration (sql/0*.sql, in order) and
# sql/demo/demo.sql to a throwaway PostgreSQL 15 cluster and check what the
# schema promises.
#
# Usage: tests/sql/check-schema.sh      (from anywhere; finds sql/ itself)
# Env:   PGBIN (default /usr/lib/postgresql/15/bin), TMPDIR, top_srcdir.
# Output is TAP-like ("ok N - ...", "not ok N - ..."); exit 0 when every
# check passed, 1 when one failed, 77 (automake SKIP) when no PostgreSQL
# server binaries are available.
#
# The cluster lives in a temporary directory, listens on a Unix socket in
# that directory only (no TCP), and is stopped and removed on exit.  initdb
# and postgres refuse to run as root, so as root they run as "postgres".

set -u

here=$(cd "$(dirname "$0")" && pwd)
if [ -n "${top_srcdir:-}" ]; then
	top=$(cd "$top_srcdir" && pwd)
else
	top=$(cd "$here/../.." && pwd)
fi
demo_sql=$top/sql/demo/demo.sql
# The glob sorts by name, and names start with the four-digit version.
migrations=$(ls "$top"/sql/[0-9][0-9][0-9][0-9]_*.sql 2>/dev/null)
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}

skip() {
	echo "1..0 # SKIP $*"
	exit 77
}

[ -x "$PGBIN/initdb" ] && [ -x "$PGBIN/pg_ctl" ] ||
	skip "no PostgreSQL server binaries in $PGBIN"
command -v psql >/dev/null 2>&1 || skip "psql not found"
[ -n "$migrations" ] && [ -r "$demo_sql" ] ||
	{ echo "Bail out! no migrations in $top/sql or cannot read $demo_sql"; exit 1; }

if [ "$(id -u)" -eq 0 ]; then
	id postgres >/dev/null 2>&1 || skip "running as root without a postgres user"
	as_pg() { runuser -u postgres -- "$@"; }
else
	as_pg() { "$@"; }
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/relais-schema.XXXXXX") ||
	{ echo "Bail out! mktemp failed"; exit 1; }
[ "$(id -u)" -eq 0 ] && chown postgres "$tmp"

cleanup() {
	if [ -f "$tmp/data/postmaster.pid" ]; then
		as_pg "$PGBIN/pg_ctl" -D "$tmp/data" -m immediate -w stop \
			>/dev/null 2>&1
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

bail() {
	echo "Bail out! $1"
	[ -f "$tmp/server.log" ] && sed 's/^/# /' "$tmp/server.log" | tail -n 20
	exit 1
}

# The Unix socket path ($tmp/.s.PGSQL.5432) must fit in sun_path (107 bytes).
[ ${#tmp} -le 90 ] || bail "temporary directory path too long for a socket: $tmp"

as_pg "$PGBIN/initdb" -D "$tmp/data" -U postgres --auth=trust \
	--no-locale -E UTF8 --no-sync >"$tmp/initdb.log" 2>&1 ||
	{ sed 's/^/# /' "$tmp/initdb.log"; bail "initdb failed"; }

# Durability is pointless for a throwaway cluster; fsync off makes it fast.
cat >>"$tmp/data/postgresql.conf" <<EOF
listen_addresses = ''
unix_socket_directories = '$tmp'
port = 5432
fsync = off
synchronous_commit = off
full_page_writes = off
EOF

as_pg "$PGBIN/pg_ctl" -D "$tmp/data" -l "$tmp/server.log" -w -t 60 start \
	>/dev/null 2>&1 || bail "pg_ctl start failed"

export PGHOST="$tmp" PGPORT=5432 PGUSER=postgres PGDATABASE=relais_check
unset PGPASSWORD PGSERVICE PGOPTIONS
psql -X -q -d postgres -c 'CREATE DATABASE relais_check' >/dev/null 2>&1 ||
	bail "CREATE DATABASE failed"

n=0
failed=0

ok() {
	n=$((n + 1))
	echo "ok $n - $1"
}

not_ok() {
	n=$((n + 1))
	failed=$((failed + 1))
	echo "not ok $n - $1"
}

# q SQL: run one statement, print unaligned tuples only.
q() {
	psql -X -q -At -v ON_ERROR_STOP=1 -c "$1" 2>&1
}

# expect DESCRIPTION SQL WANT: the query prints exactly WANT.
expect() {
	got=$(q "$2")
	if [ "$got" = "$3" ]; then
		ok "$1"
	else
		not_ok "$1"
		echo "#   want: $3"
		echo "#   got:  $got"
	fi
}

# rejects DESCRIPTION SQLSTATE SQL: the statement fails with SQLSTATE.
# The statement runs inside a PL/pgSQL exception block so that only its
# SQLSTATE is reported; a statement that wrongly succeeds reports 00000.
rejects() {
	got=$(psql -X -q -At -v ON_ERROR_STOP=1 -v stmt="$3" 2>&1 <<'EOF'
CREATE FUNCTION pg_temp.sqlstate_of(stmt text) RETURNS text
LANGUAGE plpgsql AS $f$
BEGIN
	EXECUTE stmt;
	RETURN '00000';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE;
END;
$f$;
SELECT pg_temp.sqlstate_of(:'stmt');
EOF
)
	if [ "$got" = "$2" ]; then
		ok "$1"
	else
		not_ok "$1"
		echo "#   want SQLSTATE $2, got: $got"
	fi
}

# --- applying the files ----------------------------------------------------

# Each file in its own transaction, as relais-migrate runs them.
last=0
for f in $migrations; do
	name=sql/${f##*/}
	if out=$(psql -X -q -v ON_ERROR_STOP=1 --single-transaction \
		-f "$f" 2>&1); then
		ok "$name applies with ON_ERROR_STOP in one transaction"
	else
		not_ok "$name applies with ON_ERROR_STOP in one transaction"
		echo "$out" | sed 's/^/#   /'
		bail "cannot continue without the schema"
	fi
	last=${name#sql/}
done

# Programs refuse a database older than RL_SCHEMA_VERSION: the newest
# migration must be the version the code asks for.
want=$(sed -n 's/^#define RL_SCHEMA_VERSION[[:space:]]*\([0-9]*\).*/\1/p' \
	"$top/lib/relais.h")
if [ -n "$want" ] && [ "$(printf '%04d' "$want")" = "${last%%_*}" ]; then
	ok "the newest migration ($last) is RL_SCHEMA_VERSION ($want)"
else
	not_ok "the newest migration ($last) is RL_SCHEMA_VERSION ($want)"
fi

if out=$(psql -X -q -v ON_ERROR_STOP=1 --single-transaction \
	-f "$demo_sql" 2>&1); then
	ok "sql/demo/demo.sql applies right after the migrations"
else
	not_ok "sql/demo/demo.sql applies right after the migrations"
	echo "$out" | sed 's/^/#   /'
	bail "cannot continue without the demo data"
fi

# --- demo data ---------------------------------------------------------------

expect "three demo accounts with their role, 10 USD and first-connexion false" \
	"SELECT string_agg(email || ':' || username || ':' || role || ':'
		|| credits || ':' || is_first_connexion, ' ' ORDER BY email)
	 FROM users WHERE email LIKE '%@demo.relais'" \
	"admin@demo.relais:admin:admin:10.000000:false coordo@demo.relais:coordo:coordo:10.000000:false prof@demo.relais:prof:professeur:10.000000:false"

expect "demo passwords are libsodium argon2id strings" \
	"SELECT count(*) FROM users
	 WHERE email LIKE '%@demo.relais'
	   AND password_hash ~ '^\\\$argon2id\\\$v=19\\\$m=[0-9]+,t=[0-9]+,p=[0-9]+\\\$[A-Za-z0-9+/]{16,}\\\$[A-Za-z0-9+/]{32,}\$'" \
	"3"

expect "demo accounts are linked to the programme" \
	"SELECT count(*) FROM user_programme up JOIN users u ON u.id = up.user_id
	 WHERE u.email LIKE '%@demo.relais'" \
	"3"

expect "the ledger replays to every balance" \
	"SELECT count(*) FROM users u
	 WHERE u.credits <> (SELECT coalesce(sum(delta), 0) FROM usage_ledger l
			     WHERE l.user_id = u.id)" \
	"0"

expect "three courses in the programme" \
	"SELECT string_agg(c.code || '@' || cp.session, ' ' ORDER BY c.code)
	 FROM cours c JOIN cours_programme cp ON cp.cours_id = c.id" \
	"243-1N5-LI@1 243-1P4-LI@1 243-2N5-LI@2"

expect "competences have elements with criteria" \
	"SELECT count(DISTINCT c.id) FROM competences c
	 JOIN element_competence e ON e.competence_id = c.id
	 JOIN element_competence_criteria k ON k.element_competence_id = e.id" \
	"3"

expect "plan-cadre: every text field is filled" \
	"SELECT count(*) FROM plan_cadre pc JOIN cours c ON c.id = pc.cours_id
	 WHERE c.code = '243-1N5-LI'
	   AND num_nulls(place_intro, objectif_terminal, structure_intro,
		structure_activites_theoriques, structure_activites_pratiques,
		structure_activites_prevues, eval_evaluation_sommative,
		eval_nature_evaluations_sommatives, eval_evaluation_de_la_langue,
		eval_evaluation_sommatives_apprentissages) = 0" \
	"1"

expect "plan-cadre: 2-3 capacités, each with savoirs nécessaires, savoirs-faire (cible, seuil) and moyens d'évaluation" \
	"SELECT count(*) BETWEEN 2 AND 3 AND bool_and(
		EXISTS (SELECT 1 FROM plan_cadre_capacite_savoirs_necessaires x
			WHERE x.capacite_id = cap.id)
		AND EXISTS (SELECT 1 FROM plan_cadre_capacite_moyens_evaluation x
			    WHERE x.capacite_id = cap.id)
		AND (SELECT count(*) FILTER (WHERE cible <> '' AND seuil_reussite <> '')
			= count(*) AND count(*) > 0
		     FROM plan_cadre_capacite_savoirs_faire x
		     WHERE x.capacite_id = cap.id))
	 FROM plan_cadre_capacites cap
	 JOIN plan_cadre pc ON pc.id = cap.plan_cadre_id
	 JOIN cours c ON c.id = pc.cours_id AND c.code = '243-1N5-LI'" \
	"t"

expect "plan-cadre: savoir-être, objets cibles, cours reliés/préalables/corequis, compétences développées/certifiées" \
	"SELECT (SELECT count(*) > 0 FROM plan_cadre_savoir_etre WHERE plan_cadre_id = pc.id)
	    AND (SELECT count(*) > 0 FROM plan_cadre_objets_cibles WHERE plan_cadre_id = pc.id)
	    AND (SELECT count(*) > 0 FROM plan_cadre_cours_relies WHERE plan_cadre_id = pc.id)
	    AND (SELECT count(*) > 0 FROM plan_cadre_cours_prealables WHERE plan_cadre_id = pc.id)
	    AND (SELECT count(*) > 0 FROM plan_cadre_cours_corequis WHERE plan_cadre_id = pc.id)
	    AND (SELECT count(*) > 0 FROM plan_cadre_competences_developpees WHERE plan_cadre_id = pc.id)
	    AND (SELECT count(*) > 0 FROM plan_cadre_competences_certifiees WHERE plan_cadre_id = pc.id)
	 FROM plan_cadre pc JOIN cours c ON c.id = pc.cours_id
	 WHERE c.code = '243-1N5-LI'" \
	"t"

expect "plan de cours A25: calendar weeks, médiagraphie, disponibilités, evaluations" \
	"SELECT (SELECT count(*) FROM plan_de_cours_calendrier WHERE plan_de_cours_id = p.id)
	    || ' ' || (SELECT count(*) FROM plan_de_cours_mediagraphie WHERE plan_de_cours_id = p.id)
	    || ' ' || (SELECT count(*) FROM plan_de_cours_disponibilite_enseignant WHERE plan_de_cours_id = p.id)
	    || ' ' || (SELECT count(*) FROM plan_de_cours_evaluations WHERE plan_de_cours_id = p.id)
	 FROM plan_de_cours p JOIN cours c ON c.id = p.cours_id
	 WHERE c.code = '243-1N5-LI' AND p.session = 'A25'" \
	"15 3 2 4"

expect "plan de cours A25: evaluation weights link to capacités of the course's plan-cadre and sum to 100 %" \
	"SELECT sum(replace(replace(evc.ponderation, '%', ''), ' ', '')::int)
	 FROM plan_de_cours_evaluations_capacites evc
	 JOIN plan_de_cours_evaluations ev ON ev.id = evc.evaluation_id
	 JOIN plan_de_cours p ON p.id = ev.plan_de_cours_id AND p.session = 'A25'
	 JOIN plan_cadre_capacites cap ON cap.id = evc.capacite_id
	 JOIN plan_cadre pc ON pc.id = cap.plan_cadre_id AND pc.cours_id = p.cours_id" \
	"100"

# --- seeded settings -----------------------------------------------------------

expect "openai_models seeded with 20 models (11 in 0001, 3 in 0003, 3 audio in 0015, 3 Mistral in 0018); gpt-5 priced 1.25/0.125/10 per 1M" \
	"SELECT (SELECT count(*) FROM openai_models) || ' '
	     || input_price || '/' || cached_input_price || '/' || output_price
	 FROM openai_models WHERE name = 'gpt-5'" \
	"20 1.250000/0.125000/10.000000"

expect "settings seeded: 21 generation sections, 13 AI sections, 8 plan-de-cours prompts, one row per singleton" \
	"SELECT (SELECT count(*) FROM global_generation_settings) || ' '
	     || (SELECT count(*) FROM section_ai_settings) || ' '
	     || (SELECT count(*) FROM plan_de_cours_prompt_settings) || ' '
	     || (SELECT count(*) FROM chat_model_config)
	     + (SELECT count(*) FROM analyse_plan_cours_prompt)
	     + (SELECT count(*) FROM grille_prompt_settings)
	     + (SELECT count(*) FROM ocr_prompt_settings)
	     + (SELECT count(*) FROM plan_cadre_import_prompt_settings)" \
	"21 13 8 5"

# --- constraints ------------------------------------------------------------------

rejects "foreign key rejects an orphan capacité" 23503 \
	"INSERT INTO plan_cadre_capacites (plan_cadre_id, capacite)
	 VALUES (-1, 'orpheline')"

rejects "foreign key rejects chat history of a missing user" 23503 \
	"INSERT INTO chat_history (user_id, role, content)
	 VALUES (-1, 'user', 'bonjour')"

rejects "role CHECK rejects 'hacker'" 23514 \
	"UPDATE users SET role = 'hacker' WHERE username = 'prof'"

rejects "credits CHECK rejects a negative balance" 23514 \
	"UPDATE users SET credits = -0.000001 WHERE username = 'prof'"

rejects "email uniqueness ignores case" 23505 \
	"INSERT INTO users (username, email, password_hash)
	 VALUES ('admin2', 'ADMIN@Demo.Relais', '\$argon2id\$x')"

rejects "password_hash CHECK rejects a non-argon2 string" 23514 \
	"INSERT INTO users (username, password_hash) VALUES ('plain', 'relais-demo')"

rejects "singleton settings refuse a second row" 23514 \
	"INSERT INTO chat_model_config (id) VALUES (2)"

rejects "plan-cadre import template must contain {doc_text}" 23514 \
	"UPDATE plan_cadre_import_prompt_settings SET prompt_template = 'Analyse ceci.'"

rejects "task state CHECK rejects an unknown state" 23514 \
	"INSERT INTO tasks (name, user_id, state)
	 SELECT 'x', id, 'RUNNING' FROM users WHERE username = 'prof'"

rejects "usage ledger records a reservation only once" 23505 \
	"WITH r AS (INSERT INTO credit_reservations (user_id, amount)
		    SELECT id, 0.01 FROM users WHERE username = 'prof'
		    RETURNING id, user_id)
	 INSERT INTO usage_ledger (user_id, reservation_id, kind, model, cost,
				   delta, balance_after)
	 SELECT user_id, id, 'openai_call', 'gpt-5-mini', 0.001, -0.001, 9.999
	 FROM r, generate_series(1, 2)"

# --- tasks: queue state and wake-up notification ------------------------------

# LISTEN and INSERT in one session: NOTIFY is delivered at commit, also to the
# notifying session, and psql prints it after the statement that caused it.
out=$(psql -X -q -At -v ON_ERROR_STOP=1 2>&1 <<'EOF'
LISTEN relais_tasks;
INSERT INTO tasks (name, user_id, payload)
SELECT 'check-schema', id, '{"plan_id": 1}' FROM users WHERE username = 'prof'
RETURNING id, state, seq;
EOF
)
task_id=$(echo "$out" | sed -n '1s/|.*//p')
if echo "$out" | head -n 1 | grep -q '^[0-9a-f-]\{36\}|PENDING|0$'; then
	ok "a new task is PENDING with seq 0"
else
	not_ok "a new task is PENDING with seq 0"
	echo "$out" | sed 's/^/#   /'
fi
if [ -n "$task_id" ] &&
    echo "$out" | grep -qF "notification \"relais_tasks\" with payload \"$task_id\""; then
	ok "inserting a task notifies relais_tasks with its id"
else
	not_ok "inserting a task notifies relais_tasks with its id"
	echo "$out" | sed 's/^/#   /'
fi

expect "meta and state updates bump seq and stamp started_at/finished_at" \
	"WITH a AS (UPDATE tasks SET state = 'STARTED', worker = 'check'
		    WHERE id = '$task_id' RETURNING 1)
	 SELECT count(*) FROM a;
	 UPDATE tasks SET state = 'PROGRESS', meta = '{\"message\": \"x\"}'
	 WHERE id = '$task_id';
	 UPDATE tasks SET cancel_requested = true WHERE id = '$task_id';
	 UPDATE tasks SET state = 'SUCCESS', result = '{\"status\": \"success\"}'
	 WHERE id = '$task_id';
	 SELECT seq || ' ' || (started_at IS NOT NULL) || ' '
		|| (finished_at IS NOT NULL)
	 FROM tasks WHERE id = '$task_id'" \
	"1
3 true true"

# Seq scans are disabled so that the tiny table does not hide a missing or
# unusable index.
out=$(q "SET enable_seqscan = off;
	 EXPLAIN (COSTS OFF) SELECT id FROM tasks WHERE state = 'PENDING'
	 ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED")
if echo "$out" | grep -q 'Index Scan using tasks_pending_idx on tasks'; then
	ok "the next-task query uses the partial PENDING index"
else
	not_ok "the next-task query uses the partial PENDING index"
	echo "$out" | sed 's/^/#   /'
fi

# --- 0003: providers, catalogue, ledger details, chat jobs ----------------------

expect "providers seeded with 'openai' (URL and key from the environment) and, in 0018, a disabled Mistral without a key" \
	"SELECT string_agg(name || ':' || kind || ':' || enabled || ':'
		|| coalesce(base_url, '-') || ':' || (api_key_enc IS NULL), ' '
		ORDER BY id) FROM providers" \
	"openai:openai:true:-:true mistralai:openai_compatible:false:https://api.mistral.ai/v1:true"

expect "0018: the Mistral models of seed 004, priced, on mistralai, offered once it is enabled" \
	"SELECT string_agg(name || ':' || provider || ':' || input_price || '/'
		|| output_price || ':' || router_enabled, ' ' ORDER BY name)
	 FROM openai_models WHERE name LIKE 'mistral-%'" \
	"mistral-large-latest:mistralai:2.000000/6.000000:true mistral-medium-latest:mistralai:0.400000/2.000000:true mistral-small-latest:mistralai:0.100000/0.300000:true"

expect "every model has a provider, catalogue text, a context window and a 50 % batch discount" \
	"SELECT count(*) FILTER (WHERE provider = 'openai'
		AND display_name IS NOT NULL AND description IS NOT NULL
		AND context_window > 0 AND cardinality(recommended_for) > 0
		AND batch_discount_pct = 50) || '/' || count(*)
	 FROM openai_models WHERE audio_minute_price IS NULL
		AND provider = 'openai'" \
	"14/14"

expect "the audio models (0015): priced per minute, out of the router" \
	"SELECT string_agg(name || ':' || audio_minute_price || ':'
		|| coalesce(audio_input_price::text, '-') || ':' || router_enabled,
		' ' ORDER BY name)
	 FROM openai_models WHERE audio_minute_price IS NOT NULL" \
	"gpt-4o-mini-transcribe:0.003000:3.000000:false gpt-4o-transcribe:0.006000:6.000000:false whisper-1:0.006000:-:false"

expect "seed 001's catalogue entries, as the seed writes them" \
	"SELECT string_agg(name || '|' || display_name || '|' || description
		|| '|' || context_window || '|' || array_to_string(recommended_for, ','),
		E'\n' ORDER BY name)
	 FROM openai_models WHERE name IN ('o3', 'o3-mini', 'gpt-4.1', 'gpt-4o')" \
	"gpt-4.1|GPT-4.1|GPT-4 enhanced|200000|creative,large_context
gpt-4o|GPT-4 Omni|Modèle multimodal équilibré|128000|general,multimodal,cost_effective
o3|O3|Modèle de raisonnement avancé|200000|analysis,reasoning,complex_tasks
o3-mini|O3 Mini|O3 optimisé coût/performance|200000|simple_reasoning,cost_optimization"

expect "o1, gpt-4-turbo and gpt-3.5-turbo at OpenAI's standard prices and families" \
	"SELECT string_agg(name || ' ' || input_price || '/'
		|| coalesce(cached_input_price::text, '-') || '/' || output_price
		|| ' ' || family || ' ' || supports_temperature || ' '
		|| supports_reasoning || ' ' || max_output_tokens, ', '
		ORDER BY name)
	 FROM openai_models WHERE name IN ('o1', 'gpt-4-turbo', 'gpt-3.5-turbo')" \
	"gpt-3.5-turbo 0.500000/-/1.500000 gpt-3.5 true false 4096, gpt-4-turbo 10.000000/-/30.000000 gpt-4 true false 4096, o1 15.000000/7.500000/60.000000 o1 false true 100000"

rejects "a model's provider must exist" 23503 \
	"UPDATE openai_models SET provider = 'nobody' WHERE name = 'gpt-4o'"

rejects "a provider with models cannot be deleted" 23503 \
	"DELETE FROM providers WHERE name = 'openai'"

rejects "batch discount is a percentage" 23514 \
	"UPDATE openai_models SET batch_discount_pct = 101 WHERE name = 'gpt-4o'"

rejects "provider names are short lower-case identifiers" 23514 \
	"INSERT INTO providers (name, base_url) VALUES ('Mistral AI', 'https://api.mistral.ai/v1')"

rejects "a provider other than openai needs a base URL" 23514 \
	"INSERT INTO providers (name) VALUES ('mistral')"

rejects "plain http to another host is refused (keys would travel in clear)" 23514 \
	"INSERT INTO providers (name, base_url) VALUES ('evil', 'http://example.com/v1')"

rejects "http://localhost.example.com is not local" 23514 \
	"INSERT INTO providers (name, base_url) VALUES ('evil', 'http://localhost.example.com/v1')"

rejects "http://127.evil.example is not loopback" 23514 \
	"INSERT INTO providers (name, base_url) VALUES ('evil', 'http://127.evil.example/v1')"

rejects "credentials in an https URL are refused" 23514 \
	"INSERT INTO providers (name, base_url) VALUES ('evil', 'https://user:pw@api.example.com/v1')"

expect "https anywhere and http to loopback are accepted" \
	"BEGIN;
	 INSERT INTO providers (name, base_url) VALUES
		('mistral', 'https://api.mistral.ai/v1'),
		('local4', 'http://127.0.0.1:11434/v1'),
		('local6', 'http://[::1]:8080/v1'),
		('localname', 'http://localhost/v1');
	 SELECT count(*) FROM providers WHERE name IN ('mistral', 'local4',
		'local6', 'localname');
	 ROLLBACK" \
	"4"

rejects "ledger status is ok, failed or partial" 23514 \
	"INSERT INTO usage_ledger (user_id, kind, model, cost, delta,
				   balance_after, status)
	 SELECT id, 'openai_call', 'gpt-4o', 0, 0, credits, 'maybe'
	 FROM users WHERE username = 'prof'"

rejects "ledger latency is not negative" 23514 \
	"INSERT INTO usage_ledger (user_id, kind, model, cost, delta,
				   balance_after, latency_ms)
	 SELECT id, 'openai_call', 'gpt-4o', 0, 0, credits, -1
	 FROM users WHERE username = 'prof'"

expect "a ledger row carries provider, feature, status, latency and the upstream request id" \
	"BEGIN;
	 INSERT INTO usage_ledger (user_id, kind, model, cost, delta,
		balance_after, provider, feature, status, latency_ms,
		upstream_request_id)
	 SELECT id, 'openai_call', 'gpt-4o', 0.000125, 0, credits, 'openai',
		'ai_openai.chat', 'partial', 1234, 'req_abc'
	 FROM users WHERE username = 'prof';
	 SELECT provider || ' ' || feature || ' ' || status || ' ' || latency_ms
		|| ' ' || upstream_request_id
	 FROM usage_ledger WHERE upstream_request_id = 'req_abc';
	 ROLLBACK" \
	"openai ai_openai.chat partial 1234 req_abc"

# job SQL: a minimal valid chat job of user prof, with overrides spliced in
# by the callers below (constant test text, never user input).
job() {
	echo "INSERT INTO openai_jobs (id, user_id, model, generation, messages,
		messages_format${1:-})
	 SELECT 'ai_job_0123456789abcdef', id, 'gpt-4o', 'legacy',
		'[{\"role\": \"user\", \"content\": \"x\"}]', 'legacy'${2:-}
	 FROM users WHERE username = 'prof'"
}

expect "a chat job defaults to pending, synchronous, no parameters" \
	"BEGIN;
	 $(job);
	 SELECT status || ' ' || is_async || ' ' || params || ' '
		|| (created_at IS NOT NULL) FROM openai_jobs;
	 ROLLBACK" \
	"pending false {} true"

rejects "job ids have the seed's ai_job_ form with 16 hex digits" 23514 \
	"INSERT INTO openai_jobs (id, user_id, model, generation, messages,
		messages_format)
	 SELECT 'job-1', id, 'gpt-4o', 'legacy', '[]', 'legacy'
	 FROM users WHERE username = 'prof'"

rejects "job generation is new or legacy" 23514 \
	"$(job); UPDATE openai_jobs SET generation = 'next'"

rejects "job messages are an array" 23514 \
	"$(job); UPDATE openai_jobs SET messages = '{\"role\": \"user\"}'"

rejects "job reasoning_effort is minimal, low, medium or high" 23514 \
	"$(job ', reasoning_effort' ", 'extreme'")"

rejects "job status is pending, running, completed or failed" 23514 \
	"$(job ', status' ", 'async'")"

rejects "job temperature is 0 to 2" 23514 \
	"$(job ', temperature' ', 2.5')"

rejects "job messages_format is legacy or structured" 23514 \
	"$(job); UPDATE openai_jobs SET messages_format = 'xml'"

expect "jobs go with their user; a purged task leaves the job with no task" \
	"BEGIN;
	 INSERT INTO users (username, password_hash) VALUES ('jobber', '\$argon2id\$x');
	 INSERT INTO tasks (name, user_id) SELECT 'openai.chat', id FROM users
	 WHERE username = 'prof';
	 INSERT INTO openai_jobs (id, user_id, model, generation, messages,
		messages_format, task_id)
	 SELECT 'ai_job_' || substr(md5(u.id || '-' || n), 1, 16), u.id, 'o3',
		'new', '[]',
		'structured', (SELECT id FROM tasks WHERE name = 'openai.chat')
	 FROM users u, generate_series(1, 2) n
	 WHERE u.username IN ('jobber', 'prof');
	 DELETE FROM tasks WHERE name = 'openai.chat';
	 SELECT count(*) || ' ' || count(task_id) FROM openai_jobs;
	 DELETE FROM users WHERE username = 'jobber';
	 SELECT count(*) FROM openai_jobs;
	 ROLLBACK" \
	"4 0
2"

# A job's row takes no lock on its user's row (0022): with the row held
# FOR UPDATE by another transaction (as a money statement holds it), the
# INSERT goes through at once.  With the foreign key of 0003 it waited
# for the lock (FOR KEY SHARE), here until lock_timeout.
q "BEGIN; SELECT 1 FROM users WHERE username = 'prof' FOR UPDATE;
   SELECT pg_sleep(5) /* holder */; COMMIT" >/dev/null &
holder=$!
for _ in $(seq 100); do
	[ "$(q "SELECT count(*) FROM pg_stat_activity
		WHERE query LIKE '%pg_sleep(5) /* holder */%'
		AND state = 'active' AND pid <> pg_backend_pid()")" = 1 ] && break
	sleep 0.05
done
expect "a job's row is written while its user's row is locked" \
	"SET lock_timeout = '1s';
	 BEGIN;
	 INSERT INTO openai_jobs (id, user_id, model, generation, messages,
		messages_format)
	 SELECT 'ai_job_00000000000000aa', id, 'o3', 'new', '[]', 'structured'
	 FROM users WHERE username = 'prof';
	 SELECT count(*) FROM openai_jobs WHERE id = 'ai_job_00000000000000aa';
	 ROLLBACK" \
	"1"
q "SELECT pg_cancel_backend(pid) FROM pg_stat_activity
   WHERE query LIKE '%pg_sleep(5) /* holder */%' AND pid <> pg_backend_pid()" \
   >/dev/null
wait "$holder" 2>/dev/null || true

out=$(q "SET enable_seqscan = off;
	 EXPLAIN (COSTS OFF) SELECT id FROM openai_jobs WHERE user_id = 1
	 ORDER BY created_at DESC LIMIT 20")
if echo "$out" | grep -q 'Index Scan using openai_jobs_user_id_created_at_idx'; then
	ok "a user's recent jobs come from the (user_id, created_at DESC) index"
else
	not_ok "a user's recent jobs come from the (user_id, created_at DESC) index"
	echo "$out" | sed 's/^/#   /'
fi

# --- cascades ------------------------------------------------------------------

expect "deleting a plan-cadre removes its tree and grid rows, keeps evaluations" \
	"BEGIN;
	 DELETE FROM plan_cadre;
	 SELECT (SELECT count(*) FROM plan_cadre_capacites) || ' '
	     || (SELECT count(*) FROM plan_cadre_capacite_savoirs_faire) || ' '
	     || (SELECT count(*) FROM evaluation_savoirfaire) || ' '
	     || (SELECT count(*) FROM plan_de_cours_evaluations) || ' '
	     || (SELECT count(*) FROM plan_de_cours_evaluations_capacites
		 WHERE capacite_id IS NULL);
	 ROLLBACK" \
	"0 0 0 4 6"

# --- indexes ------------------------------------------------------------------------

# A foreign key is covered when an index starts with exactly its columns
# (in any order) and is not partial, or, for a one-column key, only leaves
# out the rows where the column is NULL (the referential actions' lookup,
# "$1 = col", implies col IS NOT NULL, so a generic plan uses it too).
expect "every foreign key column has an index" \
	"WITH fk AS (
		SELECT c.conrelid::regclass::text AS tbl,
		       (SELECT string_agg(a.attname, ',' ORDER BY a.attnum)
			FROM pg_attribute a
			WHERE a.attrelid = c.conrelid
			  AND a.attnum = ANY (c.conkey)) AS cols,
		       EXISTS (
			SELECT 1 FROM pg_index i
			WHERE i.indrelid = c.conrelid
			  AND (i.indpred IS NULL OR
			       (cardinality(c.conkey) = 1 AND
				pg_get_expr(i.indpred, i.indrelid) =
				'(' || (SELECT quote_ident(a.attname)
					FROM pg_attribute a
					WHERE a.attrelid = c.conrelid
					  AND a.attnum = c.conkey[1]) ||
				' IS NOT NULL)'))
			  AND (i.indkey::int2[])[0:cardinality(c.conkey) - 1]
				@> c.conkey
			  AND c.conkey
				@> (i.indkey::int2[])[0:cardinality(c.conkey) - 1]
		       ) AS indexed
		FROM pg_constraint c
		WHERE c.contype = 'f'
		  AND c.connamespace NOT IN ('pg_catalog'::regnamespace,
					     'information_schema'::regnamespace))
	 SELECT (count(*) > 40) || ' '
	     || coalesce(string_agg(tbl || '(' || cols || ')', ' ')
			 FILTER (WHERE NOT indexed), 'none unindexed')
	 FROM fk" \
	"true none unindexed"

echo "1..$n"
echo "# $((n - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]
