// relais-import-edxo (issue 18) on ../shared/edxo/edxo-sample.sqlite: each
// import goes into a scratch database of the test cluster, migrated by
// relais-migrate, so the stack's own database (with the demo) is only used
// to check the refusal of a database that already holds an institution.
// Counts are compared with SQLite's own, values are sampled, a second run
// must change nothing, --dry-run must write nothing, broken files must fail
// with nothing written, and a dirty copy of the sample (every case of
// ../shared/edxo/README.md's importer section) must be imported with each
// case reported.
import test from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { BUILD, PGHOST, STATE, TOP, psql, uniq } from './lib.mjs';

const SAMPLE = path.join(TOP, '..', 'shared', 'edxo', 'edxo-sample.sqlite');
const IMPORTER = path.join(BUILD, 'bin', 'relais-import-edxo');
const MIGRATE = path.join(BUILD, 'bin', 'relais-migrate');
const TMP = fs.mkdtempSync(path.join(STATE, 'tmp', 'edxo-'));

const url = (db) => `host=${PGHOST} port=5432 user=relais dbname=${db}`;

// A new database at the current schema.
function scratch() {
	const db = `edxo_${uniq()}`;
	psql(`CREATE DATABASE ${db}`, 'postgres');
	execFileSync(MIGRATE, ['-d', path.join(TOP, 'sql')],
	    { env: { ...process.env, RELAIS_DATABASE_URL: url(db) } });
	return db;
}

function run(db, ...args) {
	const r = spawnSync(IMPORTER, args, { encoding: 'utf8',
	    env: { ...process.env, RELAIS_DATABASE_URL: url(db) } });
	return { status: r.status, out: r.stdout, err: r.stderr };
}

const sqlite = (file, sql) => execFileSync('sqlite3', [file, sql],
    { encoding: 'utf8' }).trim();

// The report's count lines: EDxo table -> numbers.
function counts(out) {
	const m = {};
	for (const l of out.split('\n')) {
		const f = l.split('\t');
		if (f[0] === 'count')
			m[f[1]] = { relais: f[2], read: +f[3], inserted: +f[4],
			    updated: +f[5], unchanged: +f[6], skipped: +f[7] };
	}
	return m;
}

// EDxo's tables whose rows all become rows of one relais table.
const ROWS = {
	ListeCegep: 'cegeps', Department: 'departments',
	ListeProgrammeMinisteriel: 'programmes_ministeriels',
	Programme: 'programmes', User: 'users', User_Programme: 'user_programme',
	FilConducteur: 'fil_conducteur', Cours: 'cours',
	Cours_Programme: 'cours_programme', CoursPrealable: 'cours_prealable',
	CoursCorequis: 'cours_corequis', Competence: 'competences',
	Competence_Programme: 'competence_programme',
	ElementCompetence: 'element_competence',
	ElementCompetenceCriteria: 'element_competence_criteria',
	ElementCompetenceParCours: 'element_competence_par_cours',
	CompetenceParCours: 'competence_par_cours', PlanCadre: 'plan_cadre',
	PlanCadreCapacites: 'plan_cadre_capacites',
	PlanCadreCapaciteSavoirsNecessaires: 'plan_cadre_capacite_savoirs_necessaires',
	PlanCadreCapaciteSavoirsFaire: 'plan_cadre_capacite_savoirs_faire',
	PlanCadreCapaciteMoyensEvaluation: 'plan_cadre_capacite_moyens_evaluation',
	PlanCadreSavoirEtre: 'plan_cadre_savoir_etre',
	PlanCadreObjetsCibles: 'plan_cadre_objets_cibles',
	PlanCadreCoursRelies: 'plan_cadre_cours_relies',
	PlanCadreCoursPrealables: 'plan_cadre_cours_prealables',
	PlanCadreCoursCorequis: 'plan_cadre_cours_corequis',
	PlanCadreCompetencesCertifiees: 'plan_cadre_competences_certifiees',
	PlanCadreCompetencesDeveloppees: 'plan_cadre_competences_developpees',
	PlanDeCours: 'plan_de_cours',
	PlanDeCoursCalendrier: 'plan_de_cours_calendrier',
	PlanDeCoursMediagraphie: 'plan_de_cours_mediagraphie',
	PlanDeCoursDisponibiliteEnseignant: 'plan_de_cours_disponibilite_enseignant',
	PlanDeCoursEvaluations: 'plan_de_cours_evaluations',
	PlanDeCoursEvaluationsCapacites: 'plan_de_cours_evaluations_capacites',
	evaluation_savoirfaire: 'evaluation_savoirfaire',
	chat_history: 'chat_history',
};
// Tables whose whole content a second run must leave as it is.
const SNAPSHOT = [...Object.values(ROWS), 'openai_models',
	'chat_model_config', 'analyse_plan_cours_prompt',
	'plan_de_cours_prompt_settings', 'grille_prompt_settings',
	'ocr_prompt_settings', 'plan_cadre_import_prompt_settings',
	'global_generation_settings', 'usage_ledger', 'edxo_import_conversions'];

// Count and digest of each table, in one query.
const snapshot = (db) => psql(SNAPSHOT.map((t) => `SELECT '${t}', count(*) || ':' || ` +
	`coalesce(md5(string_agg(x::text, '|' ORDER BY x::text)), '') FROM ${t} x`).join(' UNION ALL '), db);

// Tables whose identity sequence is behind their highest id.
const LINKS = ['user_programme', 'cours_programme', 'competence_programme',
	'evaluation_savoirfaire'];
const sequencesBehind = (db) => psql(Object.values(ROWS).filter((t) => !LINKS.includes(t)).map((t) =>
	`SELECT '${t}' FROM ${t} x HAVING max(x.id) > (SELECT coalesce(last_value, 0) FROM pg_sequences ` +
	`WHERE schemaname = 'public' AND sequencename = '${t}_id_seq')`).join(' UNION ALL '), db);

// Nothing of EDxo in a database (the checks after a refusal).
function assertEmpty(db) {
	for (const t of ['users', 'cegeps', 'cours', 'plan_cadre',
	    'chat_history', 'edxo_imports', 'edxo_import_conversions'])
		assert.equal(psql(`SELECT count(*) FROM ${t}`, db), '0', t);
}

test('broken files: a clear error and nothing written', () => {
	const db = scratch();
	const notSqlite = path.join(TMP, 'notes.sqlite');
	fs.writeFileSync(notSqlite, 'Ceci n\'est pas une base de données.\n'.repeat(200));
	const truncated = path.join(TMP, 'truncated.sqlite');
	fs.writeFileSync(truncated, fs.readFileSync(SAMPLE).subarray(0, 100000));
	const other = path.join(TMP, 'other.sqlite');
	sqlite(other, 'CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT); INSERT INTO notes VALUES (1, \'x\');');
	for (const [file, why] of [[notSqlite, /not a readable SQLite database/],
	    [truncated, /not a readable SQLite database/],
	    [other, /not an EDxo database \(no table "User"\)/],
	    [path.join(TMP, 'absent.sqlite'), /No such file/]]) {
		const r = run(db, file);
		assert.equal(r.status, 1, `${file}: ${r.err}`);
		assert.match(r.err, why);
		assert.match(r.err, /nothing written/);
		assert.doesNotMatch(r.out, /^count/m);
		assertEmpty(db);
	}
	assert.equal(run(db).status, 2);
	assert.equal(run(db, '--bogus', SAMPLE).status, 2);
});

test('a database that holds another institution is refused', () => {
	// The stack's database holds the demo institution.
	const before = psql('SELECT count(*) FROM users');
	const r = run('relais', SAMPLE);
	assert.equal(r.status, 1, r.out);
	assert.match(r.err, /already holds an institution that no EDxo import made/);
	assert.equal(psql('SELECT count(*) FROM users'), before);
	assert.equal(psql('SELECT count(*) FROM edxo_imports'), '0');
});

test('import, second run, dry run', async (t) => {
	const db = scratch();

	await t.test('--dry-run reports everything and writes nothing', () => {
		const empty = snapshot(db);
		const r = run(db, '--dry-run', SAMPLE);
		assert.equal(r.status, 0, r.err);
		assert.match(r.out, /^done\tdry run: 0 rows skipped, transaction rolled back/m);
		const c = counts(r.out);
		assert.equal(c.Cours.inserted, 12);
		assert.deepEqual(snapshot(db), empty);
		assertEmpty(db);
	});

	let first;
	await t.test('counts equal SQLite\'s', () => {
		const r = run(db, SAMPLE);
		assert.equal(r.status, 0, r.err);
		first = r.out;
		const c = counts(r.out);
		for (const [edxo, relais] of Object.entries(ROWS)) {
			const n = +sqlite(SAMPLE, `SELECT count(*) FROM "${edxo}"`);
			assert.ok(n > 0, edxo);
			assert.equal(+psql(`SELECT count(*) FROM ${relais}`, db), n, edxo);
			assert.deepEqual([c[edxo].read, c[edxo].inserted, c[edxo].skipped],
			    [n, n, 0], edxo);
		}
		assert.match(r.out, /^done\t0 rows skipped \(0 refused by PostgreSQL\)/m);
		// Settings: EDxo's rows land on relais' seeded ones.
		assert.equal(c.GlobalGenerationSettings.read, 21);
		assert.equal(c.plan_de_cours_prompt_settings.read, 9);
		assert.equal(psql('SELECT count(*) FROM edxo_imports', db), '1');
	});

	await t.test('tables relais does not use are reported, DBChange never read', () => {
		assert.match(first, /^table\tDBChange\t336 rows not imported: EDxo's change log holds password hashes/m);
		for (const name of ['DepartmentRegles', 'DepartmentPIEA', 'mailgun_config',
		    'backup_config', 'oauth_client', 'oauth_token', 'oauth_authorization_code'])
			assert.match(first, new RegExp(`^table\\t${name}\\t\\d+ rows not imported: `, 'm'));
		// No secret of the file anywhere in the database.
		const dump = execFileSync(path.join(process.env.RL_PGBIN || '/usr/lib/postgresql/15/bin', 'pg_dump'),
		    ['-h', PGHOST, '-U', 'relais', '-d', db], { encoding: 'utf8', maxBuffer: 64 << 20 });
		const secrets = [sqlite(SAMPLE, 'SELECT api_token FROM User WHERE id = 1'),
			sqlite(SAMPLE, 'SELECT openai_key FROM User WHERE id = 3'),
			sqlite(SAMPLE, 'SELECT mailgun_api_key FROM mailgun_config'),
			sqlite(SAMPLE, 'SELECT token FROM oauth_token'),
			sqlite(SAMPLE, 'SELECT client_secret FROM oauth_client')];
		for (const s of secrets) {
			assert.ok(s.length >= 16, s);
			assert.ok(!dump.includes(s), `secret ${s.slice(0, 8)}… in the database`);
		}
	});

	await t.test('sampled values', () => {
		for (const id of [1, 2, 3, 4, 5])
			assert.equal(psql(`SELECT password_hash FROM users WHERE id = ${id}`, db),
			    sqlite(SAMPLE, `SELECT password FROM User WHERE id = ${id}`));
		assert.equal(psql('SELECT username || \' \' || role || \' \' || email || \' \' || is_first_connexion FROM users WHERE id = 2', db),
		    'mgagnon coordo marie.gagnon@cegep-fictif.qc.ca false');
		assert.equal(psql('SELECT is_first_connexion FROM users WHERE id = 5', db), 't');
		assert.equal(psql('SELECT string_agg(credits::text, \' \' ORDER BY id) FROM users', db),
		    '25.000000 12.500000 4.975355 0.300000 0.000000');
		// Each balance came with its ledger row, and the ledger sums to it.
		assert.equal(psql('SELECT count(*) FROM users u WHERE credits <> (SELECT coalesce(sum(delta), 0) FROM usage_ledger l WHERE l.user_id = u.id)', db), '0');
		assert.equal(psql('SELECT count(*) FROM usage_ledger WHERE kind = \'admin_credit\' AND request_id = \'edxo-import\'', db), '4');
		assert.equal(psql('SELECT to_char(last_login AT TIME ZONE \'UTC\', \'YYYY-MM-DD HH24:MI:SS.US\') FROM users WHERE id = 1', db),
		    sqlite(SAMPLE, 'SELECT last_login FROM User WHERE id = 1'));
		const token = sqlite(SAMPLE, 'SELECT api_token FROM User WHERE id = 1');
		assert.equal(psql('SELECT encode(api_token, \'hex\') FROM users WHERE id = 1', db),
		    crypto.createHash('sha256').update(token).digest('hex'));
		assert.equal(psql('SELECT octet_length(openai_key_enc) > 40 FROM users WHERE id = 3', db), 't');
		assert.equal(psql('SELECT string_agg(user_id || \':\' || programme_id, \' \' ORDER BY user_id, programme_id) FROM user_programme', db),
		    sqlite(SAMPLE, 'SELECT group_concat(user_id || \':\' || programme_id, \' \') FROM (SELECT * FROM User_Programme ORDER BY user_id, programme_id)'));
		assert.equal(psql('SELECT string_agg(nombre_unites::text, \' \' ORDER BY id) FROM cours', db),
		    sqlite(SAMPLE, 'SELECT group_concat(printf(\'%.2f\', nombre_unites), \' \') FROM (SELECT * FROM Cours ORDER BY id)'));
		assert.equal(psql('SELECT string_agg(cours_id || \'/\' || session, \' \' ORDER BY id) FROM plan_de_cours', db),
		    sqlite(SAMPLE, 'SELECT group_concat(cours_id || \'/\' || session, \' \') FROM (SELECT * FROM PlanDeCours ORDER BY id)'));
		assert.equal(psql('SELECT md5(presentation_du_cours) FROM plan_de_cours WHERE id = 2', db),
		    crypto.createHash('md5').update(sqlite(SAMPLE, 'SELECT presentation_du_cours FROM PlanDeCours WHERE id = 2')).digest('hex'));
		assert.equal(psql('SELECT string_agg(status, \'|\' ORDER BY id) FROM element_competence_par_cours', db),
		    sqlite(SAMPLE, 'SELECT group_concat(status, \'|\') FROM (SELECT * FROM ElementCompetenceParCours ORDER BY id)'));
		assert.equal(psql('SELECT string_agg(selected::text, \' \' ORDER BY evaluation_id, savoir_faire_id) FROM evaluation_savoirfaire', db),
		    sqlite(SAMPLE, 'SELECT group_concat(CASE selected WHEN 1 THEN \'true\' ELSE \'false\' END, \' \') FROM (SELECT * FROM evaluation_savoirfaire ORDER BY evaluation_id, savoir_faire_id)'));
		assert.equal(psql('SELECT string_agg(ponderation, \' \' ORDER BY id) FROM plan_de_cours_evaluations_capacites', db),
		    sqlite(SAMPLE, 'SELECT group_concat(ponderation, \' \') FROM (SELECT * FROM PlanDeCoursEvaluationsCapacites ORDER BY id)'));
		assert.equal(psql('SELECT string_agg(role || \'@\' || to_char(timestamp AT TIME ZONE \'UTC\', \'YYYY-MM-DD HH24:MI:SS.US\'), \' \' ORDER BY id) FROM chat_history', db),
		    sqlite(SAMPLE, 'SELECT group_concat(role || \'@\' || timestamp, \' \') FROM (SELECT * FROM chat_history ORDER BY id)'));
		// Settings.
		for (const [name, inp, outp] of sqlite(SAMPLE, 'SELECT name, input_price, output_price FROM openai_models').split('\n').map((l) => l.split('|')))
			assert.equal(psql(`SELECT input_price = ${inp} AND output_price = ${outp} FROM openai_models WHERE name = '${name}'`, db), 't', name);
		assert.equal(psql('SELECT context_variables::text FROM plan_de_cours_prompt_settings WHERE field_name = \'all\'', db),
		    '["session", "cours_code", "cours_nom", "sections"]');
		assert.equal(psql('SELECT chat_model || \' \' || tool_model || \' \' || reasoning_effort || \' \' || verbosity FROM chat_model_config', db),
		    sqlite(SAMPLE, 'SELECT chat_model || \' \' || tool_model || \' \' || reasoning_effort || \' \' || verbosity FROM chat_model_config'));
		assert.equal(psql('SELECT string_agg(use_ai::text, \' \' ORDER BY section) FROM global_generation_settings', db),
		    sqlite(SAMPLE, 'SELECT group_concat(CASE use_ai WHEN 1 THEN \'true\' ELSE \'false\' END, \' \') FROM (SELECT * FROM GlobalGenerationSettings ORDER BY section COLLATE BINARY)'));
		// The next ids relais gives out follow EDxo's.
		assert.equal(sequencesBehind(db), '');
		const next = psql('INSERT INTO cours (code, nom) VALUES (\'X-1\', \'après\') RETURNING id', db);
		assert.ok(+next > 12, next);
		psql(`DELETE FROM cours WHERE id = ${next}`, db);
	});

	await t.test('a second run changes nothing', () => {
		const before = snapshot(db);
		const r = run(db, SAMPLE);
		assert.equal(r.status, 0, r.err);
		assert.match(r.out, /^note\tthe database holds 1 earlier import/m);
		for (const [edxo, c] of Object.entries(counts(r.out)))
			assert.deepEqual([c.inserted, c.updated, c.skipped], [0, 0, 0], edxo);
		assert.deepEqual(snapshot(db), before);
		assert.equal(psql('SELECT count(*) FROM edxo_imports', db), '2');
	});

	await t.test('a second run updates what changed in EDxo', () => {
		const copy = path.join(TMP, 'changed.sqlite');
		fs.copyFileSync(SAMPLE, copy);
		sqlite(copy, 'UPDATE Cours SET nom = \'Nom changé dans EDxo\' WHERE id = 3; UPDATE User SET credits = 99 WHERE id = 2;');
		const r = run(db, copy);
		assert.equal(r.status, 0, r.err);
		const c = counts(r.out);
		assert.deepEqual([c.Cours.updated, c.Cours.inserted, c.Cours.unchanged], [1, 0, 11]);
		assert.equal(psql('SELECT nom FROM cours WHERE id = 3', db), 'Nom changé dans EDxo');
		// A balance is relais' once imported: reported, not undone.
		assert.equal(psql('SELECT credits FROM users WHERE id = 2', db), '12.500000');
		assert.match(r.out, /^convert\tUser\tid=2\tcredits\trelais' balance 12\.500000 kept \(EDxo has 99/m);
	});
});

test('a dirty EDxo: every case reported, the rest imported', () => {
	const db = scratch();
	const dirty = path.join(TMP, 'dirty.sqlite');
	fs.copyFileSync(SAMPLE, dirty);
	sqlite(dirty, [
		'UPDATE User SET credits = -1.25 WHERE id = 5',
		'UPDATE User SET credits = 0.1 + 0.2 WHERE id = 4',
		'UPDATE User SET email = \'ADMIN@cegep-fictif.qc.ca\' WHERE id = 2',
		'UPDATE ListeCegep SET type = \'\'\'Public\'\'\', region = \'\'\'Capitale-Nationale\'\'\'',
		'UPDATE PlanDeCours SET materiel = \'\'\'\'\'\' WHERE id = 4',
		'UPDATE Competence SET nom = CAST(X\'C3A9746520C328\' AS TEXT) WHERE id = 1',
		'INSERT INTO Cours (id, code, nom, nombre_unites, heures_theorie, heures_laboratoire, heures_travail_maison) ' +
		    'VALUES (50, \'X-50\', CAST(X\'4E756C00427974\' AS TEXT), 2.666, \'trois\', \'2\', 1)',
		'INSERT INTO CoursPrealable VALUES (100, 1, 999, 50)',
		'INSERT INTO CoursPrealable VALUES (101, 2, 2, 50)',
		'INSERT INTO PlanDeCours (id, cours_id, session) VALUES (60, 1, \'A25\')',
		'INSERT INTO PlanDeCours (id, cours_id, session) VALUES (61, 3, \'Automne 2025\')',
		'INSERT INTO PlanDeCoursCalendrier (id, plan_de_cours_id, semaine, sujet) VALUES (900, 60, 1, \'orphelin\')',
		'UPDATE plan_de_cours_prompt_settings SET context_variables = \'null\' WHERE field_name = \'all\'',
		'UPDATE evaluation_savoirfaire SET level1_description = hex(zeroblob(200)) WHERE evaluation_id = 4 AND savoir_faire_id = 1',
		'INSERT INTO "User" (id, username, password, credits, is_first_connexion, role) VALUES (9, \'plainuser\', \'plain$$secret-123\', 1.0, 1, \'superhero\')',
		'INSERT INTO "User" (id, username, password, credits, is_first_connexion, role) VALUES (10, \'nohash\', \'\', 0.0, 1, \'invite\')',
		'INSERT INTO "User" (id, username, password, credits, is_first_connexion, role) VALUES (11, \'admin\', \'\', 0.0, 1, \'invite\')',
		'INSERT INTO "User" (id, username, password, credits, is_first_connexion, role) VALUES (12, \'bcrypt\', \'$2b$12$abcdefghijklmnopqrstuv\', 0.0, 1, \'invite\')',
		'INSERT INTO "User" (id, username, password, credits, is_first_connexion, role) VALUES (13, \'noiter\', \'pbkdf2:sha256:$salt$00ff\', 0.0, 1, \'invite\')',
		'INSERT INTO chat_history (id, user_id, role, content) VALUES (50, 77, \'user\', \'orphelin\')',
		'ALTER TABLE Cours ADD COLUMN session INTEGER',
		'CREATE TABLE notes_maison (x TEXT)',
	].join('; ') + ';');
	const r = run(db, dirty);
	assert.equal(r.status, 0, r.err);
	const o = r.out;
	const has = (re) => assert.match(o, re);
	has(/^convert\tUser\tid=5\tcredits\tnegative amount -1\.25 \(EDxo charges after the call\): 0/m);
	has(/^convert\tUser\tid=4\tcredits\tfloat 0\.30000000000000004 rounded to 0\.300000 \(nearest micro-dollar/m);
	has(/^convert\tUser\tid=2\temail\t'ADMIN@cegep-fictif\.qc\.ca' is also the address of id=1 \(relais ignores case\): NULL/m);
	has(/^convert\tListeCegep\tid=1\ttype\tquoted server default 'Public' stored with its quotes: quotes removed/m);
	has(/^convert\tPlanDeCours\tid=4\tmateriel\tquoted server default '' stored with its quotes/m);
	has(/^convert\tCompetence\tid=1\tnom\t1 invalid UTF-8 byte\(s\) replaced by U\+FFFD/m);
	has(/^convert\tCours\tid=50\tnom\t1 NUL byte\(s\) removed/m);
	has(/^convert\tCours\tid=50\tnombre_unites\tfloat 2\.6659999999999999 rounded to 2\.67 \(nearest hundredth\)/m);
	has(/^convert\tCours\tid=50\theures_theorie\t'trois' is not a count \(0 or more\): 0/m);
	has(/^skip\tCoursPrealable\tid=100\torphan: cours_prealable_id 999 is not an imported Cours row/m);
	has(/^skip\tCoursPrealable\tid=101\tcours_prealable_id is the course itself/m);
	has(/^skip\tPlanDeCours\tid=60\tduplicate of id=2 \(cours_id, session must be unique; EDxo reads the first one\)/m);
	has(/^skip\tPlanDeCours\tid=61\tsession 'AUTOMNE 2025' is not a term label/m);
	has(/^skip\tPlanDeCoursCalendrier\tid=900\torphan: plan_de_cours_id 60 is not an imported PlanDeCours row/m);
	has(/^convert\tplan_de_cours_prompt_settings\tid=9\tcontext_variables\tJSON null \(Python None stored as the text null\): \[\]/m);
	has(/^convert\tevaluation_savoirfaire\tevaluation_id=4,savoir_faire_id=1\tlevel1_description\t400 characters, over EDxo's declared VARCHAR\(255\)/m);
	has(/^convert\tUser\tid=9\tpassword\tclear-text password \(plain\$\$\): hashed with argon2id/m);
	has(/^convert\tUser\tid=9\trole\t'superhero' is not a value relais knows: invite/m);
	has(/^convert\tUser\tid=10\tpassword\tno usable password hash \(empty\): '!'/m);
	has(/^skip\tUser\tid=11\tduplicate of id=1 \(username must be unique/m);
	has(/^convert\tUser\tid=12\tpassword\tno usable password hash \(unknown format\): '!'/m);
	has(/^convert\tUser\tid=13\tpassword\tno usable password hash \(unknown format\): '!'/m);
	has(/^skip\tchat_history\tid=50\torphan: user_id 77 is not an imported User row/m);
	has(/^convert\tUser\tid=5\tpassword\tlegacy werkzeug salted HMAC \(sha256\$\.\.\.\)/m);
	has(/^column\tCours\tsession\tnot imported: no relais column/m);
	has(/^table\tnotes_maison\t0 rows not imported: not an EDxo table relais knows/m);
	has(/^done\t7 rows skipped \(0 refused by PostgreSQL\)/m);
	// And the database holds what the report says.
	assert.equal(psql('SELECT string_agg(credits::text, \' \' ORDER BY id) FROM users', db),
	    '25.000000 12.500000 4.975355 0.300000 0.000000 1.000000 0.000000 0.000000 0.000000');
	assert.equal(psql('SELECT edxo_value || \' \' || relais_value FROM edxo_import_conversions WHERE table_name = \'users\' AND row_key = \'id=5\' AND column_name = \'credits\'', db),
	    '-1.25 0.000000');
	assert.equal(psql('SELECT edxo_value FROM edxo_import_conversions WHERE table_name = \'users\' AND row_key = \'id=4\'', db),
	    '0.30000000000000004');
	assert.equal(psql('SELECT email IS NULL FROM users WHERE id = 2', db), 't');
	assert.equal(psql('SELECT type || \'/\' || region FROM cegeps', db), 'Public/Capitale-Nationale');
	assert.equal(psql('SELECT materiel FROM plan_de_cours WHERE id = 4', db), '');
	assert.equal(psql('SELECT nom FROM competences WHERE id = 1', db), 'éte \uFFFD(');
	assert.equal(psql('SELECT nom || \' \' || nombre_unites || \' \' || heures_theorie || \' \' || heures_laboratoire FROM cours WHERE id = 50', db),
	    'NulByt 2.67 0 2');
	assert.equal(psql('SELECT count(*) FROM cours_prealable WHERE id IN (100, 101)', db), '0');
	assert.equal(psql('SELECT count(*) FROM plan_de_cours WHERE id IN (60, 61)', db), '0');
	assert.equal(psql('SELECT context_variables::text FROM plan_de_cours_prompt_settings WHERE field_name = \'all\'', db), '[]');
	assert.equal(psql('SELECT length(level1_description) FROM evaluation_savoirfaire WHERE evaluation_id = 4 AND savoir_faire_id = 1', db), '400');
	assert.match(psql('SELECT password_hash || \' \' || role FROM users WHERE id = 9', db), /^\$argon2id\$\S+ invite$/);
	assert.equal(psql('SELECT string_agg(password_hash, \' \' ORDER BY id) FROM users WHERE id IN (10, 12, 13)', db), '! ! !');
	assert.equal(psql('SELECT count(*) FROM users WHERE id = 11', db), '0');
	assert.equal(psql('SELECT count(*) FROM chat_history WHERE id = 50', db), '0');
	assert.equal(psql('SELECT credits FROM users WHERE id = 5', db), '0.000000');
});

test('a live database in WAL mode is read with its WAL', async () => {
	const db = scratch();
	const live = path.join(TMP, 'live.sqlite');
	fs.copyFileSync(SAMPLE, live);
	// An EDxo still running: its last write sits in live.sqlite-wal.
	const edxo = spawn('sqlite3', [live], { stdio: ['pipe', 'pipe', 'pipe'] });
	try {
		edxo.stdin.write('PRAGMA journal_mode=WAL;\n' +
		    'INSERT INTO ListeCegep (id, nom, type, region) VALUES (2, \'Cégep du WAL\', \'Public\', \'Estrie\');\n' +
		    'SELECT \'written\';\n');
		await new Promise((resolve, reject) => {
			let got = '';
			edxo.stdout.on('data', (d) => { got += d; if (got.includes('written')) resolve(); });
			edxo.on('exit', () => reject(new Error('sqlite3 exited')));
		});
		assert.ok(fs.statSync(`${live}-wal`).size > 0);
		const r = run(db, live);
		assert.equal(r.status, 0, r.err);
		assert.match(r.out, /^note\t.*live\.sqlite-wal holds \d+ bytes not yet in the main file/m);
		assert.equal(counts(r.out).ListeCegep.inserted, 2);
		assert.equal(psql('SELECT nom FROM cegeps WHERE id = 2', db), 'Cégep du WAL');
	} finally {
		edxo.stdin.end();
		edxo.kill();
	}
});
