/*
 * relais-import-edxo: copy an EDxo SQLite database into relais'
 * PostgreSQL tables, keeping EDxo's ids, in one transaction.
 *
 * SQLite lets EDxo store what PostgreSQL refuses or reads differently
 * (any value in any column, NUL bytes, invalid UTF-8, float money, naive
 * datetimes, orphans, duplicates where the application assumes
 * uniqueness), so every value is read by its storage class, converted
 * by the rule of its relais column, and every conversion that is not
 * routine is printed with the row it came from.  A row that cannot be
 * imported is printed with its reason and left out; the rest of the
 * import goes on.  docs/import-edxo.md lists the rules.
 *
 * This file is the only one that includes <sqlite3.h>.
 */
#include "config.h"

#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sqlite3.h>

#include "conf.h"
#include "credits.h"
#include "crypto.h"
#include "db.h"
#include "models.h"

/* The migration that lets werkzeug hashes in and records imports. */
#define IMPORT_SCHEMA		14
/* How long to wait for a live EDxo's write lock before reading. */
#define IMPORT_BUSY_MS		5000
/* Two imports never interleave ("relaisie"). */
#define IMPORT_LOCK		"7237893470582156645"
/* Columns of the widest table we import (PlanDeCours: 23). */
#define MAXF			24
/* An upsert built by upsert(): PlanDeCours' (23 columns) needs 2.9 KB. */
#define UPSERT_MAX		4096
/* Routine conversions summarised per table (column, rule). */
#define MAXSUMS			48
/* Numeric conversions of one row kept in edxo_import_conversions. */
#define MAXKEEP			4
/* EDxo's credits column: numeric(14,6) holds less than 10^8 USD. */
#define CREDITS_MAX		1e8
/* Prices: numeric(12,6), below 10^6 USD per 1M tokens. */
#define PRICE_MAX		1e6
/* Cours.nombre_unites: numeric(6,2). */
#define UNITS_MAX		9999.99

enum tid {
	T_CEGEP, T_DEPT, T_PMIN, T_PROG, T_USER, T_UPROG, T_FIL, T_COURS,
	T_CPROG, T_PREA, T_COREQ, T_COMP, T_COMPPROG, T_ELEM, T_CRIT, T_ECPC,
	T_CPC, T_PC, T_PCCAP, T_PCSN, T_PCSF, T_PCME, T_PCSE, T_PCOC, T_PCCR,
	T_PCCP, T_PCCC, T_PCCERT, T_PCDEV, T_PDC, T_PDCCAL, T_PDCMED,
	T_PDCDISP, T_PDCEVAL, T_PDCEVCAP, T_ESF, T_CHAT, T_MODELS, T_CHATCFG,
	T_ANALYSE, T_PDCPS, T_GRILLE, T_OCR, T_PCIMP, T_GGS, T__MAX
};

/* How a table's rows land in relais. */
enum mode {
	M_ID,		/* upsert on EDxo's id, kept */
	M_LINK,		/* association table: upsert on its composite key */
	M_KEY,		/* matched on a natural key; relais' ids kept */
	M_ONE,		/* relais' singleton (id 1) updated from EDxo's row */
	M_SECTION	/* a seeded row per plan-cadre section, updated */
};

/* The rule that turns one SQLite value into one PostgreSQL parameter. */
enum kind {
	K_ID,		/* positive integer, or the row is skipped */
	K_REF,		/* required reference: an orphan row is skipped */
	K_OREF,		/* optional reference: an orphan becomes NULL */
	K_INT,		/* integer >= 0; def for NULL or refused */
	K_PCT,		/* integer 0..100; def for NULL or refused */
	K_TEXT,		/* text or NULL */
	K_TEXTNN,	/* text; NULL is def or the row is skipped */
	K_NAME,		/* text that is not blank, or the row is skipped */
	K_QTEXT,	/* text whose quoted server default loses its quotes */
	K_ENUM,		/* one of allowed, else def (or skipped: F_SKIPBAD) */
	K_BOOL,		/* 0/1 to false/true; NULL is def */
	K_TS,		/* naive UTC datetime to timestamptz */
	K_MONEY,	/* float USD to numeric, micro-dollars, >= 0 */
	K_CREDITS,	/* a balance: through lib/credits.c, not a parameter */
	K_UNITS,	/* float to numeric(6,2) >= 0 */
	K_PERCENT,	/* float to numeric(5,2) within 0..100, else NULL */
	K_JSONARR,	/* JSON text to a jsonb array */
	K_SESSION,	/* term label A25/H26/E26, or the row is skipped */
	K_COLOR,	/* #rrggbb, else NULL */
	K_EMAIL,	/* an address, unique ignoring case, else NULL */
	K_PASSWORD,	/* werkzeug hash kept, clear text hashed, else "!" */
	K_TOKEN,	/* EDxo's clear API token to its SHA-256 */
	K_SECRET,	/* OpenAI key, sealed under the master key */
	K_DOCTPL,	/* template holding {doc_text}, or the row is skipped */
	K_MODEL		/* model name relais accepts, or the row is skipped */
};

#define F_UNIQUE	0x01	/* part of the table's unique key */
#define F_NOPARAM	0x02	/* read and checked, not a parameter */
#define F_SKIPBAD	0x04	/* K_ENUM: a value outside the list skips */
#define F_NOTSELF	0x08	/* must differ from field 1 (self-reference) */

struct fld {
	const char		*col;	/* EDxo's column */
	enum kind		 kind;
	int			 ref;	/* enum tid of the parent, or -1 */
	const char		*def;	/* for NULL or refused values */
	const char *const	*allowed; /* K_ENUM's values, NULL-ended */
	int			 flags;
};

struct tbl {
	const char	*edxo;
	const char	*relais;
	enum mode	 mode;
	const char	*select;	/* SQLite, constant */
	const char	*sql;		/* PostgreSQL; $n: n-th sent field;
					 * NULL: built by upsert() */
	struct fld	 f[MAXF];
};

static const char *const roles[] = { "admin", "coordo", "professeur", "cp",
	"invite", NULL };
static const char *const statuses[] = { "Non traité",
	"Traité superficiellement", "Développé significativement", "Atteint",
	"Réinvesti", NULL };
static const char *const chat_roles[] = { "user", "assistant", "function",
	"system", NULL };
static const char *const efforts[] = { "minimal", "low", "medium", "high",
	NULL };
static const char *const verbosities[] = { "low", "medium", "high", NULL };
static const char *const pdc_fields[] = { "presentation_du_cours",
	"objectif_terminal_du_cours", "organisation_et_methodes",
	"accomodement", "evaluation_formative_apprentissages",
	"evaluation_expression_francais", "seuil_reussite", "materiel",
	"calendrier", "all", NULL };
static const char *const sections[] = { "Intro et place du cours",
	"Objectif terminal", "Introduction Structure du Cours",
	"Activités Théoriques", "Activités Pratiques", "Activités Prévues",
	"Évaluation Sommative des Apprentissages",
	"Nature des Évaluations Sommatives", "Évaluation de la Langue",
	"Évaluation formative des apprentissages",
	"Description des compétences développées",
	"Description des Compétences certifiées",
	"Description des cours corequis", "Objets cibles",
	"Description des cours reliés", "Description des cours préalables",
	"Savoir-être", "Capacité et pondération",
	"Savoirs nécessaires d'une capacité",
	"Savoirs faire d'une capacité",
	"Moyen d'évaluation d'une capacité", NULL };

/*
 * EDxo tables relais has no use for, and why.  Their rows are counted and
 * reported, never read.
 */
static const struct {
	const char	*edxo;
	const char	*why;
} unused[] = {
	{ "DBChange", "EDxo's change log holds password hashes, API tokens "
	    "and OpenAI keys in clear: never imported (relais keeps its own "
	    "audit_log)" },
	{ "DepartmentRegles", "no relais feature reads department rules" },
	{ "DepartmentPIEA", "no relais feature reads the PIEA articles" },
	{ "mailgun_config", "relais sends no mail (holds a Mailgun key)" },
	{ "backup_config", "relais has no backup scheduler" },
	{ "oauth_client", "relais has no OAuth server (holds secrets)" },
	{ "oauth_token", "relais has no OAuth server (holds tokens)" },
	{ "oauth_authorization_code", "relais has no OAuth server" },
	{ "alembic_version", "EDxo's schema version, reported above" },
};

/* Tables without which a file is not an EDxo database. */
static const char *const required[] = { "User", "ListeCegep", "Department",
	"Programme", "Cours", NULL };

static const struct tbl tables[T__MAX] = {
[T_CEGEP] = {
	"ListeCegep", "cegeps", M_ID,
	    "SELECT * FROM \"ListeCegep\" ORDER BY rowid",
	    NULL,
	{
		{ "id", K_ID, -1, NULL, NULL, 0 },
		{ "nom", K_NAME, -1, NULL, NULL, 0 },
		{ "type", K_QTEXT, -1, "Public", NULL, 0 },
		{ "region", K_QTEXT, -1, "Capitale-Nationale", NULL, 0 },
	} },
[T_DEPT] = {
	"Department", "departments", M_ID,
	    "SELECT * FROM \"Department\" ORDER BY rowid",
	    NULL,
	{
		{ "id", K_ID, -1, NULL, NULL, 0 },
		{ "nom", K_NAME, -1, NULL, NULL, 0 },
		{ "cegep_id", K_OREF, T_CEGEP, NULL, NULL, 0 },
	} },
[T_PMIN] = {
	"ListeProgrammeMinisteriel", "programmes_ministeriels", M_ID,
	    "SELECT * FROM \"ListeProgrammeMinisteriel\" ORDER BY rowid",
	    NULL,
	{
		{ "id", K_ID, -1, NULL, NULL, 0 },
		{ "nom", K_NAME, -1, NULL, NULL, 0 },
		{ "code", K_NAME, -1, NULL, NULL, F_UNIQUE },
	} },
[T_PROG] = {
	"Programme", "programmes", M_ID,
	    "SELECT * FROM \"Programme\" ORDER BY rowid",
	    NULL,
	{
		{ "id", K_ID, -1, NULL, NULL, 0 },
		{ "nom", K_NAME, -1, NULL, NULL, 0 },
		{ "department_id", K_REF, T_DEPT, NULL, NULL, 0 },
		{ "liste_programme_ministeriel_id", K_OREF, T_PMIN,
		    NULL, NULL, 0 },
		{ "cegep_id", K_OREF, T_CEGEP, NULL, NULL, 0 },
		{ "variante", K_TEXT, -1, NULL, NULL, 0 },
	} },
[T_USER] = {
	"User", "users", M_ID,
	    "SELECT * FROM \"User\" ORDER BY rowid",
	    NULL,
	{
		{ "id", K_ID, -1, NULL, NULL, 0 },
		{ "username", K_NAME, -1, NULL, NULL, F_UNIQUE },
		{ "password", K_PASSWORD, -1, NULL, NULL, 0 },
		{ "email", K_EMAIL, -1, NULL, NULL, 0 },
		{ "nom", K_TEXT, -1, NULL, NULL, 0 },
		{ "prenom", K_TEXT, -1, NULL, NULL, 0 },
		{ "image", K_TEXT, -1, NULL, NULL, 0 },
		{ "role", K_ENUM, -1, "invite", roles, 0 },
		{ "is_first_connexion", K_BOOL, -1, "t", NULL, 0 },
		{ "openai_key", K_SECRET, -1, NULL, NULL, 0 },
		{ "api_token", K_TOKEN, -1, NULL, NULL, 0 },
		{ "api_token_expires_at", K_TS, -1, NULL, NULL, 0 },
		{ "last_openai_response_id", K_TEXT, -1, NULL, NULL, 0 },
		{ "cegep_id", K_OREF, T_CEGEP, NULL, NULL, 0 },
		{ "department_id", K_OREF, T_DEPT, NULL, NULL, 0 },
		{ "reset_version", K_INT, -1, "0", NULL, 0 },
		{ "last_login", K_TS, -1, NULL, NULL, 0 },
		{ "credits", K_CREDITS, -1, NULL, NULL, F_NOPARAM },
	} },
[T_UPROG] = {
	"User_Programme", "user_programme", M_LINK,
	    "SELECT * FROM \"User_Programme\" ORDER BY rowid",
	    "INSERT INTO user_programme (user_id, programme_id) "
	    "VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING true",
	{
		{ "user_id", K_REF, T_USER, NULL, NULL, 0 },
		{ "programme_id", K_REF, T_PROG, NULL, NULL, 0 },
	} },
[T_FIL] = {
	"FilConducteur", "fil_conducteur", M_ID,
	    "SELECT * FROM \"FilConducteur\" ORDER BY rowid",
	    NULL,
	{
		{ "id", K_ID, -1, NULL, NULL, 0 },
		{ "programme_id", K_REF, T_PROG, NULL, NULL, 0 },
		{ "description", K_TEXTNN, -1, NULL, NULL, 0 },
		{ "couleur", K_COLOR, -1, NULL, NULL, 0 },
	} },
[T_COURS] = {
	"Cours", "cours", M_ID,
	    "SELECT * FROM \"Cours\" ORDER BY rowid",
	    NULL,
	{
		{ "id", K_ID, -1, NULL, NULL, 0 },
		{ "code", K_NAME, -1, NULL, NULL, 0 },
		{ "nom", K_NAME, -1, NULL, NULL, 0 },
		{ "nombre_unites", K_UNITS, -1, "1", NULL, 0 },
		{ "heures_theorie", K_INT, -1, "0", NULL, 0 },
		{ "heures_laboratoire", K_INT, -1, "0", NULL, 0 },
		{ "heures_travail_maison", K_INT, -1, "0", NULL, 0 },
		{ "fil_conducteur_id", K_OREF, T_FIL, NULL, NULL, 0 },
	} },
[T_CPROG] = {
	"Cours_Programme", "cours_programme", M_LINK,
	    "SELECT * FROM \"Cours_Programme\" ORDER BY rowid",
	    "INSERT INTO cours_programme AS t (cours_id, programme_id, "
	    "session) VALUES ($1, $2, $3) ON CONFLICT (cours_id, "
	    "programme_id) DO UPDATE SET (session) = "
	    "ROW(EXCLUDED.session) WHERE (t.session) IS DISTINCT FROM "
	    "(EXCLUDED.session) RETURNING xmax = 0",
	{
		{ "cours_id", K_REF, T_COURS, NULL, NULL, 0 },
		{ "programme_id", K_REF, T_PROG, NULL, NULL, 0 },
		{ "session", K_INT, -1, "0", NULL, 0 },
	} },
[T_PREA] = {
	"CoursPrealable", "cours_prealable", M_ID,
	    "SELECT * FROM \"CoursPrealable\" ORDER BY rowid",
	    NULL,
	{
		{ "id", K_ID, -1, NULL, NULL, 0 },
		{ "cours_id", K_REF, T_COURS, NULL, NULL, F_UNIQUE },
		{ "cours_prealable_id", K_REF, T_COURS,
		    NULL, NULL, F_UNIQUE | F_NOTSELF },
		{ "note_necessaire", K_PCT, -1, NULL, NULL, 0 },
	} },
[T_COREQ] = {
	"CoursCorequis", "cours_corequis", M_ID,
	    "SELECT * FROM \"CoursCorequis\" ORDER BY rowid",
	    NULL,
	{
		{ "id", K_ID, -1, NULL, NULL, 0 },
		{ "cours_id", K_REF, T_COURS, NULL, NULL, F_UNIQUE },
		{ "cours_corequis_id", K_REF, T_COURS,
		    NULL, NULL, F_UNIQUE | F_NOTSELF },
	} },
[T_COMP] = {
	"Competence", "competences", M_ID,
	    "SELECT * FROM \"Competence\" ORDER BY rowid",
	    NULL,
	{
		{ "id", K_ID, -1, NULL, NULL, 0 },
		{ "programme_id", K_REF, T_PROG, NULL, NULL, F_UNIQUE },
		{ "code", K_NAME, -1, NULL, NULL, F_UNIQUE },
		{ "nom", K_TEXTNN, -1, NULL, NULL, 0 },
		{ "criteria_de_performance", K_TEXT, -1, NULL, NULL, 0 },
		{ "contexte_de_realisation", K_TEXT, -1, NULL, NULL, 0 },
	} },
[T_COMPPROG] = {
	"Competence_Programme", "competence_programme", M_LINK,
	    "SELECT * FROM \"Competence_Programme\" ORDER BY rowid",
	    "INSERT INTO competence_programme (competence_id, "
	    "programme_id) VALUES ($1, $2) ON CONFLICT DO NOTHING "
	    "RETURNING true",
	{
		{ "competence_id", K_REF, T_COMP, NULL, NULL, 0 },
		{ "programme_id", K_REF, T_PROG, NULL, NULL, 0 },
	} },
[T_ELEM] = {
	"ElementCompetence", "element_competence", M_ID,
	    "SELECT * FROM \"ElementCompetence\" ORDER BY rowid",
	    NULL,
	{
		{ "id", K_ID, -1, NULL, NULL, 0 },
		{ "competence_id", K_REF, T_COMP, NULL, NULL, 0 },
		{ "nom", K_TEXTNN, -1, NULL, NULL, 0 },
	} },
[T_CRIT] = {
	"ElementCompetenceCriteria", "element_competence_criteria", M_ID,
	    "SELECT * FROM \"ElementCompetenceCriteria\" ORDER BY rowid",
	    NULL,
	{
		{ "id", K_ID, -1, NULL, NULL, 0 },
		{ "element_competence_id", K_REF, T_ELEM, NULL, NULL, 0 },
		{ "criteria", K_TEXTNN, -1, NULL, NULL, 0 },
	} },
[T_ECPC] = {
	"ElementCompetenceParCours", "element_competence_par_cours", M_ID,
	    "SELECT * FROM \"ElementCompetenceParCours\" ORDER BY rowid",
	    NULL,
	{
		{ "id", K_ID, -1, NULL, NULL, 0 },
		{ "cours_id", K_REF, T_COURS, NULL, NULL, F_UNIQUE },
		{ "element_competence_id", K_REF, T_ELEM,
		    NULL, NULL, F_UNIQUE },
		{ "status", K_ENUM, -1, "Non traité", statuses, 0 },
	} },
[T_CPC] = {
	"CompetenceParCours", "competence_par_cours", M_ID,
	    "SELECT * FROM \"CompetenceParCours\" ORDER BY rowid",
	    NULL,
	{
		{ "id", K_ID, -1, NULL, NULL, 0 },
		{ "cours_id", K_REF, T_COURS, NULL, NULL, 0 },
		{ "competence_developpee_id", K_REF, T_COMP, NULL, NULL, 0 },
		{ "competence_atteinte_id", K_REF, T_COMP, NULL, NULL, 0 },
	} },
[T_PC] = {
	"PlanCadre", "plan_cadre", M_ID,
	    "SELECT * FROM \"PlanCadre\" ORDER BY rowid",
	    NULL,
	{
		{ "id", K_ID, -1, NULL, NULL, 0 },
		{ "cours_id", K_REF, T_COURS, NULL, NULL, F_UNIQUE },
		{ "place_intro", K_TEXT, -1, NULL, NULL, 0 },
		{ "objectif_terminal", K_TEXT, -1, NULL, NULL, 0 },
		{ "structure_intro", K_TEXT, -1, NULL, NULL, 0 },
		{ "structure_activites_theoriques", K_TEXT, -1, NULL, NULL, 0 },
		{ "structure_activites_pratiques", K_TEXT, -1, NULL, NULL, 0 },
		{ "structure_activites_prevues", K_TEXT, -1, NULL, NULL, 0 },
		{ "eval_evaluation_sommative", K_TEXT, -1, NULL, NULL, 0 },
		{ "eval_nature_evaluations_sommatives", K_TEXT, -1,
		    NULL, NULL, 0 },
		{ "eval_evaluation_de_la_langue", K_TEXT, -1, NULL, NULL, 0 },
		{ "eval_evaluation_sommatives_apprentissages", K_TEXT, -1,
		    NULL, NULL, 0 },
		{ "additional_info", K_TEXT, -1, NULL, NULL, 0 },
		{ "ai_model", K_TEXT, -1, NULL, NULL, 0 },
		{ "modified_by_id", K_OREF, T_USER, NULL, NULL, 0 },
		{ "modified_at", K_TS, -1, NULL, NULL, 0 },
	} },
[T_PCCAP] = {
	"PlanCadreCapacites", "plan_cadre_capacites", M_ID,
	    "SELECT * FROM \"PlanCadreCapacites\" ORDER BY rowid",
	    NULL,
	{
		{ "id", K_ID, -1, NULL, NULL, 0 },
		{ "plan_cadre_id", K_REF, T_PC, NULL, NULL, 0 },
		{ "capacite", K_TEXTNN, -1, NULL, NULL, 0 },
		{ "description_capacite", K_TEXT, -1, NULL, NULL, 0 },
		{ "ponderation_min", K_PCT, -1, "0", NULL, 0 },
		{ "ponderation_max", K_PCT, -1, "0", NULL, 0 },
	} },
[T_PCSN] = {
	"PlanCadreCapaciteSavoirsNecessaires",
	    "plan_cadre_capacite_savoirs_necessaires", M_ID,
	    "SELECT * FROM \"PlanCadreCapaciteSavoirsNecessaires\""
	    " ORDER BY rowid",
	    NULL,
	{
		{ "id", K_ID, -1, NULL, NULL, 0 },
		{ "capacite_id", K_REF, T_PCCAP, NULL, NULL, 0 },
		{ "texte", K_TEXTNN, -1, NULL, NULL, 0 },
	} },
[T_PCSF] = {
	"PlanCadreCapaciteSavoirsFaire",
	    "plan_cadre_capacite_savoirs_faire", M_ID,
	    "SELECT * FROM \"PlanCadreCapaciteSavoirsFaire\" ORDER BY rowid",
	    NULL,
	{
		{ "id", K_ID, -1, NULL, NULL, 0 },
		{ "capacite_id", K_REF, T_PCCAP, NULL, NULL, 0 },
		{ "texte", K_TEXTNN, -1, NULL, NULL, 0 },
		{ "cible", K_TEXT, -1, NULL, NULL, 0 },
		{ "seuil_reussite", K_TEXT, -1, NULL, NULL, 0 },
	} },
[T_PCME] = {
	"PlanCadreCapaciteMoyensEvaluation",
	    "plan_cadre_capacite_moyens_evaluation", M_ID,
	    "SELECT * FROM \"PlanCadreCapaciteMoyensEvaluation\""
	    " ORDER BY rowid",
	    NULL,
	{
		{ "id", K_ID, -1, NULL, NULL, 0 },
		{ "capacite_id", K_REF, T_PCCAP, NULL, NULL, 0 },
		{ "texte", K_TEXTNN, -1, NULL, NULL, 0 },
	} },
[T_PCSE] = {
	"PlanCadreSavoirEtre", "plan_cadre_savoir_etre", M_ID,
	    "SELECT * FROM \"PlanCadreSavoirEtre\" ORDER BY rowid",
	    NULL,
	{
		{ "id", K_ID, -1, NULL, NULL, 0 },
		{ "plan_cadre_id", K_REF, T_PC, NULL, NULL, 0 },
		{ "texte", K_TEXTNN, -1, NULL, NULL, 0 },
	} },
[T_PCOC] = {
	"PlanCadreObjetsCibles", "plan_cadre_objets_cibles", M_ID,
	    "SELECT * FROM \"PlanCadreObjetsCibles\" ORDER BY rowid",
	    NULL,
	{
		{ "id", K_ID, -1, NULL, NULL, 0 },
		{ "plan_cadre_id", K_REF, T_PC, NULL, NULL, 0 },
		{ "texte", K_TEXTNN, -1, NULL, NULL, 0 },
		{ "description", K_TEXT, -1, NULL, NULL, 0 },
	} },
[T_PCCR] = {
	"PlanCadreCoursRelies", "plan_cadre_cours_relies", M_ID,
	    "SELECT * FROM \"PlanCadreCoursRelies\" ORDER BY rowid",
	    NULL,
	{
		{ "id", K_ID, -1, NULL, NULL, 0 },
		{ "plan_cadre_id", K_REF, T_PC, NULL, NULL, 0 },
		{ "texte", K_TEXTNN, -1, NULL, NULL, 0 },
		{ "description", K_TEXT, -1, NULL, NULL, 0 },
	} },
[T_PCCP] = {
	"PlanCadreCoursPrealables", "plan_cadre_cours_prealables", M_ID,
	    "SELECT * FROM \"PlanCadreCoursPrealables\" ORDER BY rowid",
	    NULL,
	{
		{ "id", K_ID, -1, NULL, NULL, 0 },
		{ "plan_cadre_id", K_REF, T_PC, NULL, NULL, 0 },
		{ "texte", K_TEXTNN, -1, NULL, NULL, 0 },
		{ "description", K_TEXT, -1, NULL, NULL, 0 },
	} },
[T_PCCC] = {
	"PlanCadreCoursCorequis", "plan_cadre_cours_corequis", M_ID,
	    "SELECT * FROM \"PlanCadreCoursCorequis\" ORDER BY rowid",
	    NULL,
	{
		{ "id", K_ID, -1, NULL, NULL, 0 },
		{ "plan_cadre_id", K_REF, T_PC, NULL, NULL, 0 },
		{ "texte", K_TEXTNN, -1, NULL, NULL, 0 },
		{ "description", K_TEXT, -1, NULL, NULL, 0 },
	} },
[T_PCCERT] = {
	"PlanCadreCompetencesCertifiees",
	    "plan_cadre_competences_certifiees", M_ID,
	    "SELECT * FROM \"PlanCadreCompetencesCertifiees\" ORDER BY rowid",
	    NULL,
	{
		{ "id", K_ID, -1, NULL, NULL, 0 },
		{ "plan_cadre_id", K_REF, T_PC, NULL, NULL, 0 },
		{ "texte", K_TEXTNN, -1, NULL, NULL, 0 },
		{ "description", K_TEXT, -1, NULL, NULL, 0 },
	} },
[T_PCDEV] = {
	"PlanCadreCompetencesDeveloppees",
	    "plan_cadre_competences_developpees", M_ID,
	    "SELECT * FROM \"PlanCadreCompetencesDeveloppees\" ORDER BY rowid",
	    NULL,
	{
		{ "id", K_ID, -1, NULL, NULL, 0 },
		{ "plan_cadre_id", K_REF, T_PC, NULL, NULL, 0 },
		{ "texte", K_TEXTNN, -1, NULL, NULL, 0 },
		{ "description", K_TEXT, -1, NULL, NULL, 0 },
	} },
[T_PDC] = {
	"PlanDeCours", "plan_de_cours", M_ID,
	    "SELECT * FROM \"PlanDeCours\" ORDER BY rowid",
	    NULL,
	{
		{ "id", K_ID, -1, NULL, NULL, 0 },
		{ "cours_id", K_REF, T_COURS, NULL, NULL, F_UNIQUE },
		{ "department_id", K_OREF, T_DEPT, NULL, NULL, 0 },
		{ "session", K_SESSION, -1, NULL, NULL, F_UNIQUE },
		{ "campus", K_TEXT, -1, NULL, NULL, 0 },
		{ "nom_enseignant", K_TEXT, -1, NULL, NULL, 0 },
		{ "telephone_enseignant", K_TEXT, -1, NULL, NULL, 0 },
		{ "courriel_enseignant", K_TEXT, -1, NULL, NULL, 0 },
		{ "bureau_enseignant", K_TEXT, -1, NULL, NULL, 0 },
		{ "presentation_du_cours", K_TEXT, -1, NULL, NULL, 0 },
		{ "objectif_terminal_du_cours", K_TEXT, -1, NULL, NULL, 0 },
		{ "organisation_et_methodes", K_TEXT, -1, NULL, NULL, 0 },
		{ "accomodement", K_TEXT, -1, NULL, NULL, 0 },
		{ "evaluation_formative_apprentissages", K_TEXT, -1,
		    NULL, NULL, 0 },
		{ "evaluation_expression_francais", K_TEXT, -1, NULL, NULL, 0 },
		{ "seuil_reussite", K_TEXT, -1, NULL, NULL, 0 },
		{ "place_et_role_du_cours", K_TEXT, -1, NULL, NULL, 0 },
		{ "materiel", K_QTEXT, -1, NULL, NULL, 0 },
		{ "compatibility_percentage", K_PERCENT, -1, NULL, NULL, 0 },
		{ "recommendation_ameliore", K_TEXT, -1, NULL, NULL, 0 },
		{ "recommendation_plan_cadre", K_TEXT, -1, NULL, NULL, 0 },
		{ "modified_by_id", K_OREF, T_USER, NULL, NULL, 0 },
		{ "modified_at", K_TS, -1, NULL, NULL, 0 },
	} },
[T_PDCCAL] = {
	"PlanDeCoursCalendrier", "plan_de_cours_calendrier", M_ID,
	    "SELECT * FROM \"PlanDeCoursCalendrier\" ORDER BY rowid",
	    NULL,
	{
		{ "id", K_ID, -1, NULL, NULL, 0 },
		{ "plan_de_cours_id", K_REF, T_PDC, NULL, NULL, 0 },
		{ "semaine", K_INT, -1, NULL, NULL, 0 },
		{ "sujet", K_TEXT, -1, NULL, NULL, 0 },
		{ "activites", K_TEXT, -1, NULL, NULL, 0 },
		{ "travaux_hors_classe", K_TEXT, -1, NULL, NULL, 0 },
		{ "evaluations", K_TEXT, -1, NULL, NULL, 0 },
	} },
[T_PDCMED] = {
	"PlanDeCoursMediagraphie", "plan_de_cours_mediagraphie", M_ID,
	    "SELECT * FROM \"PlanDeCoursMediagraphie\" ORDER BY rowid",
	    NULL,
	{
		{ "id", K_ID, -1, NULL, NULL, 0 },
		{ "plan_de_cours_id", K_REF, T_PDC, NULL, NULL, 0 },
		{ "reference_bibliographique", K_TEXT, -1, NULL, NULL, 0 },
	} },
[T_PDCDISP] = {
	"PlanDeCoursDisponibiliteEnseignant",
	    "plan_de_cours_disponibilite_enseignant", M_ID,
	    "SELECT * FROM \"PlanDeCoursDisponibiliteEnseignant\""
	    " ORDER BY rowid",
	    NULL,
	{
		{ "id", K_ID, -1, NULL, NULL, 0 },
		{ "plan_de_cours_id", K_REF, T_PDC, NULL, NULL, 0 },
		{ "jour_semaine", K_TEXT, -1, NULL, NULL, 0 },
		{ "plage_horaire", K_TEXT, -1, NULL, NULL, 0 },
		{ "lieu", K_TEXT, -1, NULL, NULL, 0 },
	} },
[T_PDCEVAL] = {
	"PlanDeCoursEvaluations", "plan_de_cours_evaluations", M_ID,
	    "SELECT * FROM \"PlanDeCoursEvaluations\" ORDER BY rowid",
	    NULL,
	{
		{ "id", K_ID, -1, NULL, NULL, 0 },
		{ "plan_de_cours_id", K_REF, T_PDC, NULL, NULL, 0 },
		{ "titre_evaluation", K_TEXT, -1, NULL, NULL, 0 },
		{ "description", K_TEXT, -1, NULL, NULL, 0 },
		{ "semaine", K_INT, -1, NULL, NULL, 0 },
	} },
[T_PDCEVCAP] = {
	"PlanDeCoursEvaluationsCapacites",
	    "plan_de_cours_evaluations_capacites", M_ID,
	    "SELECT * FROM \"PlanDeCoursEvaluationsCapacites\" ORDER BY rowid",
	    NULL,
	{
		{ "id", K_ID, -1, NULL, NULL, 0 },
		{ "evaluation_id", K_REF, T_PDCEVAL, NULL, NULL, 0 },
		{ "capacite_id", K_OREF, T_PCCAP, NULL, NULL, 0 },
		{ "ponderation", K_TEXT, -1, NULL, NULL, 0 },
	} },
[T_ESF] = {
	"evaluation_savoirfaire", "evaluation_savoirfaire", M_LINK,
	    "SELECT * FROM \"evaluation_savoirfaire\" ORDER BY rowid",
	    "INSERT INTO evaluation_savoirfaire AS t (evaluation_id, "
	    "savoir_faire_id, capacite_id, selected, "
	    "level1_description, level2_description, "
	    "level3_description, level4_description, "
	    "level5_description, level6_description) VALUES ($1, $2, "
	    "$3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT "
	    "(evaluation_id, savoir_faire_id) DO UPDATE SET "
	    "(capacite_id, selected, level1_description, "
	    "level2_description, level3_description, "
	    "level4_description, level5_description, "
	    "level6_description) = ROW(EXCLUDED.capacite_id, "
	    "EXCLUDED.selected, EXCLUDED.level1_description, "
	    "EXCLUDED.level2_description, EXCLUDED.level3_description, "
	    "EXCLUDED.level4_description, EXCLUDED.level5_description, "
	    "EXCLUDED.level6_description) WHERE (t.capacite_id, "
	    "t.selected, t.level1_description, t.level2_description, "
	    "t.level3_description, t.level4_description, "
	    "t.level5_description, t.level6_description) IS DISTINCT "
	    "FROM (EXCLUDED.capacite_id, EXCLUDED.selected, "
	    "EXCLUDED.level1_description, EXCLUDED.level2_description, "
	    "EXCLUDED.level3_description, EXCLUDED.level4_description, "
	    "EXCLUDED.level5_description, EXCLUDED.level6_description) "
	    "RETURNING xmax = 0",
	{
		{ "evaluation_id", K_REF, T_PDCEVAL, NULL, NULL, 0 },
		{ "savoir_faire_id", K_REF, T_PCSF, NULL, NULL, 0 },
		{ "capacite_id", K_OREF, T_PCCAP, NULL, NULL, 0 },
		{ "selected", K_BOOL, -1, "t", NULL, 0 },
		{ "level1_description", K_TEXT, -1, NULL, NULL, 0 },
		{ "level2_description", K_TEXT, -1, NULL, NULL, 0 },
		{ "level3_description", K_TEXT, -1, NULL, NULL, 0 },
		{ "level4_description", K_TEXT, -1, NULL, NULL, 0 },
		{ "level5_description", K_TEXT, -1, NULL, NULL, 0 },
		{ "level6_description", K_TEXT, -1, NULL, NULL, 0 },
	} },
[T_CHAT] = {
	"chat_history", "chat_history", M_ID,
	    "SELECT * FROM \"chat_history\" ORDER BY rowid",
	    "INSERT INTO chat_history AS t (id, user_id, role, content, "
	    "name, function_call_name, function_call_args, timestamp) "
	    "OVERRIDING SYSTEM VALUE VALUES ($1, $2, $3, $4, $5, $6, "
	    "$7, COALESCE($8::timestamptz, now())) ON CONFLICT (id) DO "
	    "UPDATE SET (user_id, role, content, name, "
	    "function_call_name, function_call_args, timestamp) = "
	    "ROW(EXCLUDED.user_id, EXCLUDED.role, EXCLUDED.content, "
	    "EXCLUDED.name, EXCLUDED.function_call_name, "
	    "EXCLUDED.function_call_args, COALESCE($8::timestamptz, "
	    "t.timestamp)) WHERE (t.user_id, t.role, t.content, t.name, "
	    "t.function_call_name, t.function_call_args, t.timestamp) "
	    "IS DISTINCT FROM (EXCLUDED.user_id, EXCLUDED.role, "
	    "EXCLUDED.content, EXCLUDED.name, "
	    "EXCLUDED.function_call_name, EXCLUDED.function_call_args, "
	    "COALESCE($8::timestamptz, t.timestamp)) RETURNING xmax = 0",
	{
		{ "id", K_ID, -1, NULL, NULL, 0 },
		{ "user_id", K_REF, T_USER, NULL, NULL, 0 },
		{ "role", K_ENUM, -1, NULL, chat_roles, F_SKIPBAD },
		{ "content", K_TEXT, -1, NULL, NULL, 0 },
		{ "name", K_TEXT, -1, NULL, NULL, 0 },
		{ "function_call_name", K_TEXT, -1, NULL, NULL, 0 },
		{ "function_call_args", K_TEXT, -1, NULL, NULL, 0 },
		{ "timestamp", K_TS, -1, NULL, NULL, 0 },
	} },
[T_MODELS] = {
	"openai_models", "openai_models", M_KEY,
	    "SELECT * FROM \"openai_models\" ORDER BY rowid",
	    "INSERT INTO openai_models AS t (name, input_price, "
	    "output_price) VALUES ($1, $2, $3) ON CONFLICT (name) DO "
	    "UPDATE SET (input_price, output_price) = "
	    "ROW(EXCLUDED.input_price, EXCLUDED.output_price), "
	    "cached_input_price = LEAST(t.cached_input_price, "
	    "EXCLUDED.input_price), updated_at = now() WHERE "
	    "(t.input_price, t.output_price) IS DISTINCT FROM "
	    "(EXCLUDED.input_price, EXCLUDED.output_price) RETURNING "
	    "xmax = 0",
	{
		{ "id", K_ID, -1, NULL, NULL, F_NOPARAM },
		{ "name", K_MODEL, -1, NULL, NULL, 0 },
		{ "input_price", K_MONEY, -1, NULL, NULL, 0 },
		{ "output_price", K_MONEY, -1, NULL, NULL, 0 },
	} },
[T_CHATCFG] = {
	"chat_model_config", "chat_model_config", M_ONE,
	    "SELECT * FROM \"chat_model_config\" ORDER BY rowid",
	    "UPDATE chat_model_config AS t SET (chat_model, tool_model, "
	    "reasoning_effort, verbosity, updated_at) = ROW($1::text, "
	    "$2::text, $3::text, $4::text, COALESCE($5::timestamptz, "
	    "t.updated_at)) WHERE t.id = 1 AND (t.chat_model, "
	    "t.tool_model, t.reasoning_effort, t.verbosity, "
	    "t.updated_at) IS DISTINCT FROM ($1::text, $2::text, "
	    "$3::text, $4::text, COALESCE($5::timestamptz, "
	    "t.updated_at)) RETURNING false",
	{
		{ "id", K_ID, -1, NULL, NULL, F_NOPARAM },
		{ "chat_model", K_TEXTNN, -1, "gpt-4.1-mini", NULL, 0 },
		{ "tool_model", K_TEXTNN, -1, "gpt-4.1-mini", NULL, 0 },
		{ "reasoning_effort", K_ENUM, -1, NULL, efforts, 0 },
		{ "verbosity", K_ENUM, -1, NULL, verbosities, 0 },
		{ "updated_at", K_TS, -1, NULL, NULL, 0 },
	} },
[T_ANALYSE] = {
	"analyse_plan_cours_prompt", "analyse_plan_cours_prompt", M_ONE,
	    "SELECT * FROM \"analyse_plan_cours_prompt\" ORDER BY rowid",
	    "UPDATE analyse_plan_cours_prompt AS t SET "
	    "(prompt_template, ai_model, created_at, updated_at) = "
	    "ROW($1::text, $2::text, COALESCE($3::timestamptz, "
	    "t.created_at), COALESCE($4::timestamptz, t.updated_at)) "
	    "WHERE t.id = 1 AND (t.prompt_template, t.ai_model, "
	    "t.created_at, t.updated_at) IS DISTINCT FROM ($1::text, "
	    "$2::text, COALESCE($3::timestamptz, t.created_at), "
	    "COALESCE($4::timestamptz, t.updated_at)) RETURNING false",
	{
		{ "id", K_ID, -1, NULL, NULL, F_NOPARAM },
		{ "prompt_template", K_NAME, -1, NULL, NULL, 0 },
		{ "ai_model", K_TEXTNN, -1, "gpt-5", NULL, 0 },
		{ "created_at", K_TS, -1, NULL, NULL, 0 },
		{ "updated_at", K_TS, -1, NULL, NULL, 0 },
	} },
[T_PDCPS] = {
	"plan_de_cours_prompt_settings", "plan_de_cours_prompt_settings", M_KEY,
	    "SELECT * FROM \"plan_de_cours_prompt_settings\" ORDER BY rowid",
	    "INSERT INTO plan_de_cours_prompt_settings AS t "
	    "(field_name, prompt_template, ai_model, context_variables, "
	    "created_at, updated_at) VALUES ($1, $2, $3, $4, "
	    "COALESCE($5::timestamptz, now()), "
	    "COALESCE($6::timestamptz, now())) ON CONFLICT (field_name) "
	    "DO UPDATE SET (prompt_template, ai_model, "
	    "context_variables, created_at, updated_at) = "
	    "ROW(EXCLUDED.prompt_template, EXCLUDED.ai_model, "
	    "EXCLUDED.context_variables, COALESCE($5::timestamptz, "
	    "t.created_at), COALESCE($6::timestamptz, t.updated_at)) "
	    "WHERE (t.prompt_template, t.ai_model, t.context_variables, "
	    "t.created_at, t.updated_at) IS DISTINCT FROM "
	    "(EXCLUDED.prompt_template, EXCLUDED.ai_model, "
	    "EXCLUDED.context_variables, COALESCE($5::timestamptz, "
	    "t.created_at), COALESCE($6::timestamptz, t.updated_at)) "
	    "RETURNING xmax = 0",
	{
		{ "id", K_ID, -1, NULL, NULL, F_NOPARAM },
		{ "field_name", K_ENUM, -1, NULL, pdc_fields, F_SKIPBAD },
		{ "prompt_template", K_NAME, -1, NULL, NULL, 0 },
		{ "ai_model", K_TEXTNN, -1, "gpt-5", NULL, 0 },
		{ "context_variables", K_JSONARR, -1, NULL, NULL, 0 },
		{ "created_at", K_TS, -1, NULL, NULL, 0 },
		{ "updated_at", K_TS, -1, NULL, NULL, 0 },
	} },
[T_GRILLE] = {
	"grille_prompt_settings", "grille_prompt_settings", M_ONE,
	    "SELECT * FROM \"grille_prompt_settings\" ORDER BY rowid",
	    "UPDATE grille_prompt_settings AS t SET (prompt_template, "
	    "level1_description, level2_description, "
	    "level3_description, level4_description, "
	    "level5_description, level6_description, updated_at) = "
	    "ROW($1::text, $2::text, $3::text, $4::text, $5::text, "
	    "$6::text, $7::text, COALESCE($8::timestamptz, "
	    "t.updated_at)) WHERE t.id = 1 AND (t.prompt_template, "
	    "t.level1_description, t.level2_description, "
	    "t.level3_description, t.level4_description, "
	    "t.level5_description, t.level6_description, t.updated_at) "
	    "IS DISTINCT FROM ($1::text, $2::text, $3::text, $4::text, "
	    "$5::text, $6::text, $7::text, COALESCE($8::timestamptz, "
	    "t.updated_at)) RETURNING false",
	{
		{ "id", K_ID, -1, NULL, NULL, F_NOPARAM },
		{ "prompt_template", K_NAME, -1, NULL, NULL, 0 },
		{ "level1_description", K_NAME, -1, NULL, NULL, 0 },
		{ "level2_description", K_NAME, -1, NULL, NULL, 0 },
		{ "level3_description", K_NAME, -1, NULL, NULL, 0 },
		{ "level4_description", K_NAME, -1, NULL, NULL, 0 },
		{ "level5_description", K_NAME, -1, NULL, NULL, 0 },
		{ "level6_description", K_NAME, -1, NULL, NULL, 0 },
		{ "updated_at", K_TS, -1, NULL, NULL, 0 },
	} },
[T_OCR] = {
	"ocr_prompt_settings", "ocr_prompt_settings", M_ONE,
	    "SELECT * FROM \"ocr_prompt_settings\" ORDER BY rowid",
	    "UPDATE ocr_prompt_settings AS t SET (segmentation_prompt, "
	    "extraction_prompt, model_section, model_extraction, "
	    "updated_at) = ROW($1::text, $2::text, $3::text, $4::text, "
	    "COALESCE($5::timestamptz, t.updated_at)) WHERE t.id = 1 "
	    "AND (t.segmentation_prompt, t.extraction_prompt, "
	    "t.model_section, t.model_extraction, t.updated_at) IS "
	    "DISTINCT FROM ($1::text, $2::text, $3::text, $4::text, "
	    "COALESCE($5::timestamptz, t.updated_at)) RETURNING false",
	{
		{ "id", K_ID, -1, NULL, NULL, F_NOPARAM },
		{ "segmentation_prompt", K_TEXT, -1, NULL, NULL, 0 },
		{ "extraction_prompt", K_TEXT, -1, NULL, NULL, 0 },
		{ "model_section", K_TEXT, -1, NULL, NULL, 0 },
		{ "model_extraction", K_TEXT, -1, NULL, NULL, 0 },
		{ "updated_at", K_TS, -1, NULL, NULL, 0 },
	} },
[T_PCIMP] = {
	"plan_cadre_import_prompt_settings",
	    "plan_cadre_import_prompt_settings", M_ONE,
	    "SELECT * FROM \"plan_cadre_import_prompt_settings\""
	    " ORDER BY rowid",
	    "UPDATE plan_cadre_import_prompt_settings AS t SET "
	    "(prompt_template, ai_model, updated_at) = ROW($1::text, "
	    "$2::text, COALESCE($3::timestamptz, t.updated_at)) WHERE "
	    "t.id = 1 AND (t.prompt_template, t.ai_model, t.updated_at) "
	    "IS DISTINCT FROM ($1::text, $2::text, "
	    "COALESCE($3::timestamptz, t.updated_at)) RETURNING false",
	{
		{ "id", K_ID, -1, NULL, NULL, F_NOPARAM },
		{ "prompt_template", K_DOCTPL, -1, NULL, NULL, 0 },
		{ "ai_model", K_TEXTNN, -1, "gpt-5", NULL, 0 },
		{ "updated_at", K_TS, -1, NULL, NULL, 0 },
	} },
[T_GGS] = {
	"GlobalGenerationSettings", "global_generation_settings", M_SECTION,
	    "SELECT * FROM \"GlobalGenerationSettings\" ORDER BY rowid",
	    "UPDATE global_generation_settings AS t SET (use_ai, "
	    "text_content) = ROW($2::boolean, $3::text) WHERE t.section "
	    "= $1 AND (t.use_ai, t.text_content) IS DISTINCT FROM "
	    "($2::boolean, $3::text) RETURNING false",
	{
		{ "id", K_ID, -1, NULL, NULL, F_NOPARAM },
		{ "section", K_ENUM, -1, NULL, sections, F_SKIPBAD },
		{ "use_ai", K_BOOL, -1, "f", NULL, 0 },
		{ "text_content", K_TEXT, -1, NULL, NULL, 0 },
	} },
};

/*
 * Columns relais names differently from EDxo; every other sent field
 * keeps EDxo's name.
 */
static const struct {
	enum tid	 tid;
	const char	*edxo;
	const char	*relais;
} renamed[] = {
	{ T_PROG, "liste_programme_ministeriel_id",
	    "programme_ministeriel_id" },
	{ T_USER, "password", "password_hash" },
	{ T_USER, "openai_key", "openai_key_enc" },
};

/*
 * The statement each table's rows are written with: tables[].sql, or the
 * upsert built from the table's fields when that is NULL.  Hand-written
 * statements remain where the shape differs: User_Programme and
 * Competence_Programme (ON CONFLICT DO NOTHING), Cours_Programme and
 * evaluation_savoirfaire (composite conflict target, no identity column),
 * chat_history and plan_de_cours_prompt_settings (COALESCE on a
 * timestamp), openai_models (extra SET expressions), and the singleton
 * settings and global_generation_settings (UPDATE with casts).
 */
static const char	*stmt[T__MAX];
static char		 upserts[T__MAX][UPSERT_MAX];

static const char *
relais_col(enum tid tid, const char *col)
{
	size_t	 i;

	for (i = 0; i < sizeof(renamed) / sizeof(renamed[0]); i++)
		if (renamed[i].tid == tid && strcmp(renamed[i].edxo, col) == 0)
			return renamed[i].relais;
	return col;
}

/* Appends pre and s to buf at *off; 0 when buf is too small. */
static int
put(char *buf, size_t len, size_t *off, const char *pre, const char *s)
{
	int	 n;

	n = snprintf(buf + *off, len - *off, "%s%s", pre, s);
	if (n < 0 || (size_t)n >= len - *off)
		return 0;
	*off += n;
	return 1;
}

/*
 * The sent fields' relais columns, comma-separated, each after pre; from
 * the second on (the id) when rest; as $1, $2... when pre is NULL.
 */
static int
put_cols(char *buf, size_t len, size_t *off, enum tid tid, const char *pre,
    int rest)
{
	const struct fld	*f;
	char			 num[16];
	int			 i, n = 0;

	for (i = rest; i < MAXF && tables[tid].f[i].col != NULL; i++) {
		f = &tables[tid].f[i];
		if (f->flags & F_NOPARAM)
			continue;
		n++;
		if (n > 1 && !put(buf, len, off, "", ", "))
			return 0;
		if (pre == NULL) {
			snprintf(num, sizeof(num), "$%d", n);
			if (!put(buf, len, off, "", num))
				return 0;
		} else if (!put(buf, len, off, pre, relais_col(tid, f->col)))
			return 0;
	}
	return 1;
}

/*
 * The upsert of an M_ID table: insert with EDxo's id, or update the row
 * with that id when a column differs; true when inserted.  Identifiers
 * come only from the compile-time tables above, never from the SQLite
 * file, so splicing them keeps the rule that values are only ever sent
 * as parameters.  0 when the table does not fit the shape (a bug).
 */
static int
upsert(enum tid tid, char *buf, size_t len)
{
	const struct tbl	*t = &tables[tid];
	size_t			 off = 0;

	if (t->mode != M_ID || strcmp(t->f[0].col, "id") != 0 ||
	    (t->f[0].flags & F_NOPARAM))
		return 0;
	return put(buf, len, &off, "INSERT INTO ", t->relais) &&
	    put(buf, len, &off, "", " AS t (") &&
	    put_cols(buf, len, &off, tid, "", 0) &&
	    put(buf, len, &off, "", ") OVERRIDING SYSTEM VALUE VALUES (") &&
	    put_cols(buf, len, &off, tid, NULL, 0) &&
	    put(buf, len, &off, "", ") ON CONFLICT (id) DO UPDATE SET (") &&
	    put_cols(buf, len, &off, tid, "", 1) &&
	    put(buf, len, &off, "", ") = ROW(") &&
	    put_cols(buf, len, &off, tid, "EXCLUDED.", 1) &&
	    put(buf, len, &off, "", ") WHERE (") &&
	    put_cols(buf, len, &off, tid, "t.", 1) &&
	    put(buf, len, &off, "", ") IS DISTINCT FROM (") &&
	    put_cols(buf, len, &off, tid, "EXCLUDED.", 1) &&
	    put(buf, len, &off, "", ") RETURNING xmax = 0");
}

/* A set of ids (a parent table's imported rows), sorted when complete. */
struct idset {
	long long	*v;
	size_t		 n, cap;
	int		 sorted;
};

/* Strings to strings: unique keys seen, and the row that had each. */
struct strmap {
	char		**k;
	char		**v;
	size_t		 n, cap;	/* cap a power of two */
};

struct sum {
	const char	*col;
	const char	*rule;
	long		 n;
};

struct tstate {
	int		 present;	/* the table exists in the file */
	long		 read, inserted, updated, unchanged, skipped, notes;
	struct idset	 ids;
	struct strmap	 keys;
	struct sum	 sums[MAXSUMS];
	size_t		 nsums;
};

/* A number the import changed, kept with EDxo's value. */
struct keep {
	const char	*col;
	char		 edxo[128];
	char		 relais[128];
	const char	*rule;
};

/* A balance to set once the user row exists. */
struct credit {
	long long	 id;
	long long	 micro;
	char		 edxo[64];
	int		 inserted;
};

struct imp {
	sqlite3		*db;
	const char	*path;
	int		 dry;
	int		 havekey;	/* master key loaded: OpenAI keys */
	char		 alembic[64];
	struct tstate	 ts[T__MAX];
	struct strmap	 tables;	/* every table of the file */
	struct strmap	 emails, tokens;
	struct credit	*credits;
	size_t		 ncredits, capcredits;
	/* The row being converted. */
	enum tid	 tid;
	const char	*key;
	struct keep	 keep[MAXKEEP];
	size_t		 nkeep;
	long		 skipped, refused;
};

/* A conversion worth reading, for the row being converted. */
static void
note(struct imp *c, const char *col, const char *fmt, ...)
{
	va_list	 ap;

	c->ts[c->tid].notes++;
	printf("convert\t%s\t%s\t%s\t", tables[c->tid].edxo, c->key, col);
	va_start(ap, fmt);
	(void)vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

/* A routine conversion, counted and summarised once per column. */
static void
sum(struct imp *c, const char *col, const char *rule)
{
	struct tstate	*t = &c->ts[c->tid];
	size_t		 i;

	for (i = 0; i < t->nsums; i++)
		if (t->sums[i].col == col && t->sums[i].rule == rule) {
			t->sums[i].n++;
			return;
		}
	if (t->nsums < MAXSUMS) {
		t->sums[t->nsums].col = col;
		t->sums[t->nsums].rule = rule;
		t->sums[t->nsums++].n = 1;
	}
}

static void
keep(struct imp *c, const char *col, const char *edxo, const char *relais,
    const char *rule)
{
	struct keep	*k;

	if (c->nkeep == MAXKEEP)
		return;
	k = &c->keep[c->nkeep++];
	k->col = col;
	(void)snprintf(k->edxo, sizeof(k->edxo), "%s", edxo);
	(void)snprintf(k->relais, sizeof(k->relais), "%s",
	    relais != NULL ? relais : "");
	k->rule = rule;
}

static int
idset_add(struct idset *s, long long v)
{
	long long	*p;
	size_t		 cap;

	if (s->n == s->cap) {
		cap = s->cap != 0 ? 2 * s->cap : 64;
		if ((p = reallocarray(s->v, cap, sizeof(*p))) == NULL)
			return -1;
		s->v = p;
		s->cap = cap;
	}
	if (s->n > 0 && s->v[s->n - 1] >= v)
		s->sorted = 0;
	else if (s->n == 0)
		s->sorted = 1;
	s->v[s->n++] = v;
	return 0;
}

static int
cmpll(const void *a, const void *b)
{
	const long long	*x = a, *y = b;

	return (*x > *y) - (*x < *y);
}

static int
idset_has(struct idset *s, long long v)
{
	if (!s->sorted) {
		qsort(s->v, s->n, sizeof(*s->v), cmpll);
		s->sorted = 1;
	}
	return s->n > 0 &&
	    bsearch(&v, s->v, s->n, sizeof(*s->v), cmpll) != NULL;
}

static size_t
fnv(const char *s)
{
	size_t	 h = 2166136261u;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

/* The value stored under k, or NULL. */
static const char *
strmap_get(const struct strmap *m, const char *k)
{
	size_t	 i;

	if (m->cap == 0)
		return NULL;
	for (i = fnv(k) & (m->cap - 1); m->k[i] != NULL;
	    i = (i + 1) & (m->cap - 1))
		if (strcmp(m->k[i], k) == 0)
			return m->v[i];
	return NULL;
}

static int
strmap_put(struct strmap *m, const char *k, const char *v)
{
	struct strmap	 n;
	size_t		 i;

	if (2 * (m->n + 1) > m->cap) {
		memset(&n, 0, sizeof(n));
		n.cap = m->cap != 0 ? 2 * m->cap : 64;
		if ((n.k = calloc(n.cap, sizeof(*n.k))) == NULL ||
		    (n.v = calloc(n.cap, sizeof(*n.v))) == NULL) {
			free(n.k);
			return -1;
		}
		for (i = 0; i < m->cap; i++) {
			size_t	 j;

			if (m->k[i] == NULL)
				continue;
			for (j = fnv(m->k[i]) & (n.cap - 1); n.k[j] != NULL;
			    j = (j + 1) & (n.cap - 1))
				;
			n.k[j] = m->k[i];
			n.v[j] = m->v[i];
		}
		free(m->k);
		free(m->v);
		n.n = m->n;
		*m = n;
	}
	for (i = fnv(k) & (m->cap - 1); m->k[i] != NULL;
	    i = (i + 1) & (m->cap - 1))
		;
	if ((m->k[i] = strdup(k)) == NULL ||
	    (m->v[i] = strdup(v)) == NULL) {
		free(m->k[i]);
		m->k[i] = NULL;
		return -1;
	}
	m->n++;
	return 0;
}

static void
strmap_free(struct strmap *m)
{
	size_t	 i;

	for (i = 0; i < m->cap; i++) {
		free(m->k[i]);
		free(m->v[i]);
	}
	free(m->k);
	free(m->v);
	memset(m, 0, sizeof(*m));
}

/* Length of the valid UTF-8 sequence at s (n bytes left), 0 if none. */
static size_t
utf8_seq(const unsigned char *s, size_t n)
{
	unsigned int	 cp;
	size_t		 len, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return len;
}

/*
 * The text of a value, as PostgreSQL's text accepts it: NUL bytes
 * removed, invalid UTF-8 replaced by U+FFFD, each reported.  Numbers in a
 * text column keep their SQLite text.  *out NULL for SQL NULL.
 */
static int
text_of(struct imp *c, const struct fld *f, sqlite3_stmt *st, int col,
    char **out)
{
	const unsigned char	*s;
	const char		*decl, *p;
	size_t			 n, i, k, chars, nul = 0, bad = 0;
	char			*t;
	int			 type;
	long			 declared;

	*out = NULL;
	type = col < 0 ? SQLITE_NULL : sqlite3_column_type(st, col);
	if (type == SQLITE_NULL)
		return 0;
	if (type == SQLITE_INTEGER || type == SQLITE_FLOAT) {
		s = sqlite3_column_text(st, col);
		note(c, f->col, "a number (%s) in a text column: kept as text",
		    s);
		return (*out = strdup((const char *)s)) == NULL ? -1 : 0;
	}
	if (type == SQLITE_BLOB) {
		s = sqlite3_column_blob(st, col);
		note(c, f->col, "a BLOB in a text column: read as text");
	} else
		s = sqlite3_column_text(st, col);
	n = (size_t)sqlite3_column_bytes(st, col);
	/* Each bad byte may become 3 (U+FFFD). */
	if ((t = malloc(3 * n + 1)) == NULL)
		return -1;
	for (i = k = chars = 0; i < n; chars++) {
		size_t	 len;

		if (s[i] == '\0') {
			nul++;
			i++;
			chars--;
			continue;
		}
		if ((len = utf8_seq(s + i, n - i)) == 0) {
			bad++;
			memcpy(t + k, "\xef\xbf\xbd", 3);
			k += 3;
			i++;
			continue;
		}
		memcpy(t + k, s + i, len);
		k += len;
		i += len;
	}
	t[k] = '\0';
	if (nul > 0)
		note(c, f->col, "%zu NUL byte(s) removed (PostgreSQL text "
		    "cannot hold them)", nul);
	if (bad > 0)
		note(c, f->col, "%zu invalid UTF-8 byte(s) replaced by U+FFFD",
		    bad);
	decl = sqlite3_column_decltype(st, col);
	if (decl != NULL && (p = strchr(decl, '(')) != NULL &&
	    (declared = strtol(p + 1, NULL, 10)) > 0 &&
	    chars > (size_t)declared)
		note(c, f->col, "%zu characters, over EDxo's declared %s "
		    "(SQLite never enforced it): kept whole, relais' column "
		    "is text", chars, decl);
	*out = t;
	return 0;
}

/* An integer from any storage class that holds one exactly. */
static int
int_of(struct imp *c, const struct fld *f, sqlite3_stmt *st, int col,
    long long *v)
{
	const char	*s;
	char		*end;
	double		 d;

	switch (sqlite3_column_type(st, col)) {
	case SQLITE_INTEGER:
		*v = sqlite3_column_int64(st, col);
		return 0;
	case SQLITE_FLOAT:
		d = sqlite3_column_double(st, col);
		if (d != floor(d) || d < -9e15 || d > 9e15)
			return -1;
		*v = (long long)d;
		note(c, f->col, "float %.17g read as the integer %lld", d, *v);
		return 0;
	case SQLITE_TEXT:
		s = (const char *)sqlite3_column_text(st, col);
		errno = 0;
		*v = strtoll(s, &end, 10);
		while (isspace((unsigned char)*end))
			end++;
		if (end == s || *end != '\0' || errno != 0)
			return -1;
		note(c, f->col, "text '%s' read as the integer %lld", s, *v);
		return 0;
	default:
		return -1;
	}
}

static int
double_of(struct imp *c, const struct fld *f, sqlite3_stmt *st, int col,
    double *v)
{
	const char	*s;
	char		*end;

	switch (sqlite3_column_type(st, col)) {
	case SQLITE_INTEGER:
	case SQLITE_FLOAT:
		*v = sqlite3_column_double(st, col);
		return isfinite(*v) ? 0 : -1;
	case SQLITE_TEXT:
		s = (const char *)sqlite3_column_text(st, col);
		errno = 0;
		*v = strtod(s, &end);
		while (isspace((unsigned char)*end))
			end++;
		if (end == s || *end != '\0' || errno != 0 || !isfinite(*v))
			return -1;
		note(c, f->col, "text '%s' read as a number", s);
		return 0;
	default:
		return -1;
	}
}

/* The raw value of a column, for messages (SQLite's text form). */
static const char *
raw(sqlite3_stmt *st, int col)
{
	if (col < 0 || sqlite3_column_type(st, col) == SQLITE_NULL)
		return "NULL";
	if (sqlite3_column_type(st, col) == SQLITE_BLOB)
		return "(BLOB)";
	return (const char *)sqlite3_column_text(st, col);
}

/*
 * A float rounded to `places` decimals, printed exactly (glibc rounds the
 * double's exact binary value to nearest, ties to even).  Returns whether
 * the printed number differs from the double.
 */
static int
rounded(double d, int places, char *buf, size_t len)
{
	(void)snprintf(buf, len, "%.*f", places, d);
	return strtod(buf, NULL) != d;
}

static int
is_werkzeug(const char *h)
{
	static const char *const legacy[] = { "sha1$", "sha224$", "sha256$",
		"sha384$", "sha512$", "md5$", NULL };
	const char	*p, *q;
	size_t		 i;

	if (strncmp(h, "pbkdf2:", 7) == 0) {
		for (p = h + 7; islower((unsigned char)*p) ||
		    isdigit((unsigned char)*p); p++)
			;
		if (p == h + 7)
			return 0;
		/* An iteration count, when there is one, has digits. */
		if (*p == ':') {
			for (q = ++p; isdigit((unsigned char)*p); p++)
				;
			if (p == q)
				return 0;
		}
	} else if (strncmp(h, "scrypt:", 7) == 0) {
		p = h + 7;
		for (i = 0; i < 3; i++) {
			if (!isdigit((unsigned char)*p))
				return 0;
			while (isdigit((unsigned char)*p))
				p++;
			if (i < 2 && *p++ != ':')
				return 0;
		}
	} else {
		for (i = 0; legacy[i] != NULL; i++)
			if (strncmp(h, legacy[i], strlen(legacy[i])) == 0)
				break;
		if (legacy[i] == NULL)
			return 0;
		p = h + strlen(legacy[i]) - 1;
	}
	if (*p++ != '$' || (q = strchr(p, '$')) == NULL || q[1] == '\0')
		return 0;
	for (q++; *q != '\0'; q++)
		if (!isdigit((unsigned char)*q) && (*q < 'a' || *q > 'f'))
			return 0;
	return 1;
}

static char *
hexdup(const unsigned char *b, size_t n)
{
	char	*s;
	size_t	 i;

	if ((s = malloc(2 * n + 3)) == NULL)
		return NULL;
	s[0] = '\\';
	s[1] = 'x';
	for (i = 0; i < n; i++)
		(void)snprintf(s + 2 + 2 * i, 3, "%02x", b[i]);
	return s;
}

static int
in_list(const char *const *l, const char *s)
{
	for (; *l != NULL; l++)
		if (strcmp(*l, s) == 0)
			return 1;
	return 0;
}

/* A datetime as EDxo's SQLAlchemy wrote it, to timestamptz text. */
static int
ts_of(const char *s, char *buf, size_t len, int *odd)
{
	int		 y, mo, d, h = 0, mi = 0, se = 0, n = 0, k, oh, om;
	long		 us = 0;
	const char	*p, *zone = "+00";
	char		 z[32];

	*odd = 0;
	if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3)
		return -1;
	p = s + n;
	if (*p == ' ' || *p == 'T') {
		if (*p == 'T')
			*odd = 1;
		if (sscanf(p + 1, "%2d:%2d:%2d%n", &h, &mi, &se, &n) != 3)
			return -1;
		p += 1 + n;
		if (*p == '.') {
			for (p++, k = 0; isdigit((unsigned char)*p); p++, k++)
				if (k < 6)
					us = us * 10 + (*p - '0');
				else
					*odd = 1;
			if (k == 0)
				return -1;
			for (; k < 6; k++)
				us *= 10;
		}
	} else
		*odd = 1;
	if (*p == 'Z' && p[1] == '\0')
		*odd = 1;
	else if ((*p == '+' || *p == '-') &&
	    sscanf(p + 1, "%2d:%2d%n", &oh, &om, &n) == 2 &&
	    p[1 + n] == '\0' && oh < 15 && om < 60) {
		(void)snprintf(z, sizeof(z), "%c%02d:%02d", *p, oh, om);
		zone = z;
		if (oh != 0 || om != 0)
			*odd = 1;
	} else if (*p != '\0')
		return -1;
	if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 ||
	    mi > 59 || se > 60)
		return -1;
	(void)snprintf(buf, len, "%04d-%02d-%02d %02d:%02d:%02d.%06ld%s",
	    y, mo, d, h, mi, se, us, zone);
	return 0;
}

/*
 * The user's key as a second import finds it: sealing again would give
 * new bytes (a new nonce) for the same key, and the row would count as
 * changed.  1 with *v the stored value when it opens to key, 0 when it
 * does not (or there is none), -1 on allocation failure.
 */
static int
same_key(struct imp *c, const char *key, char **v)
{
	struct rl_dbres	*r = NULL;
	struct rl_error	 e;
	const char	*p[1];
	char		*plain = NULL;
	size_t		 len = 0;
	int		 rc = 0;

	p[0] = c->key + 3;	/* "id=N" */
	rl_error_clear(&e);
	if (rl_db_exec("SELECT encode(openai_key_enc, 'hex') FROM users "
	    "WHERE id = $1 AND openai_key_enc IS NOT NULL", 1, p, &r,
	    &e) != RL_OK || rl_dbres_rows(r) != 1)
		goto out;
	if (rl_secretbox_open_hex(rl_dbres_get(r, 0, 0), &plain, &len,
	    &e) == RL_OK && len == strlen(key) &&
	    memcmp(plain, key, len) == 0) {
		rc = 1;
		if ((*v = malloc(strlen(rl_dbres_get(r, 0, 0)) + 3)) == NULL)
			rc = -1;
		else
			(void)snprintf(*v, strlen(rl_dbres_get(r, 0, 0)) + 3,
			    "\\x%s", rl_dbres_get(r, 0, 0));
	}
	if (plain != NULL) {
		rl_wipe(plain, len);
		free(plain);
	}
out:
	rl_dbres_free(r);
	return rc;
}

/*
 * Convert field f of the current row.  0 with *v set (NULL for SQL
 * NULL), 1 when the row must be skipped (reason printed), -1 on
 * allocation failure.  For K_CREDITS *v is the balance in micro-USD.
 */
static int
convert(struct imp *c, const struct fld *f, sqlite3_stmt *st, int col,
    char **v)
{
	char		 buf[128], num[64], *s = NULL;
	const char	*def = f->def, *rs;
	long long	 i;
	double		 d;
	int		 type, odd, rc = 0;

	*v = NULL;
	type = col < 0 ? SQLITE_NULL : sqlite3_column_type(st, col);
	switch (f->kind) {
	case K_ID:
		if (type == SQLITE_NULL || int_of(c, f, st, col, &i) == -1 ||
		    i <= 0)
			goto skip_bad;
		break;
	case K_REF:
	case K_OREF:
		if (type == SQLITE_NULL) {
			if (f->kind == K_REF)
				goto skip_null;
			return 0;
		}
		if (int_of(c, f, st, col, &i) == -1) {
			if (f->kind == K_REF)
				goto skip_bad;
			note(c, f->col, "'%s' is not an id: NULL",
			    raw(st, col));
			return 0;
		}
		if (!idset_has(&c->ts[f->ref].ids, i)) {
			if (f->kind == K_REF) {
				printf("skip\t%s\t%s\torphan: %s %lld is not "
				    "an imported %s row\n", tables[c->tid].edxo,
				    c->key, f->col, i, tables[f->ref].edxo);
				return 1;
			}
			note(c, f->col, "orphan: %lld is not an imported %s "
			    "row: NULL", i, tables[f->ref].edxo);
			return 0;
		}
		break;
	case K_INT:
	case K_PCT:
		if (type == SQLITE_NULL) {
			if (def != NULL)
				note(c, f->col, "NULL: %s (relais' default)",
				    def);
			goto dflt;
		}
		if (int_of(c, f, st, col, &i) == -1 || i < 0 ||
		    (f->kind == K_PCT && i > 100) || i > INT_MAX) {
			note(c, f->col, "'%s' is not %s: %s", raw(st, col),
			    f->kind == K_PCT ? "a percentage (0 to 100)" :
			    "a count (0 or more)", def != NULL ? def : "NULL");
			goto dflt;
		}
		break;
	case K_TEXT:
	case K_TEXTNN:
	case K_NAME:
	case K_QTEXT:
	case K_DOCTPL:
		if (text_of(c, f, st, col, &s) == -1)
			return -1;
		if (s == NULL && def != NULL) {
			note(c, f->col, "NULL: '%s' (EDxo's default)", def);
			goto dflt;
		}
		if (s == NULL && f->kind != K_TEXT && f->kind != K_QTEXT)
			goto skip_null;
		if (s == NULL)
			return 0;
		if ((f->kind == K_NAME || f->kind == K_DOCTPL) &&
		    s[strspn(s, " \t\r\n")] == '\0') {
			free(s);
			goto skip_blank;
		}
		if (f->kind == K_DOCTPL && strstr(s, "{doc_text}") == NULL) {
			free(s);
			printf("skip\t%s\t%s\t%s has no {doc_text}: relais "
			    "would send the model no document; relais' "
			    "template kept\n", tables[c->tid].edxo, c->key,
			    f->col);
			return 1;
		}
		if (f->kind == K_QTEXT && strlen(s) >= 2 && s[0] == '\'' &&
		    s[strlen(s) - 1] == '\'') {
			note(c, f->col, "quoted server default %s stored with "
			    "its quotes: quotes removed", s);
			memmove(s, s + 1, strlen(s) - 2);
			s[strlen(s) - 2] = '\0';
		}
		*v = s;
		return 0;
	case K_ENUM:
	case K_SESSION:
	case K_COLOR:
	case K_MODEL:
		if (text_of(c, f, st, col, &s) == -1)
			return -1;
		if (s == NULL) {
			if (f->kind == K_SESSION || f->kind == K_MODEL ||
			    (f->flags & F_SKIPBAD))
				goto skip_null;
			if (def != NULL)
				note(c, f->col, "NULL: %s", def);
			goto dflt;
		}
		if (f->kind == K_SESSION) {
			char	*p;

			for (p = s; *p != '\0'; p++)
				*p = toupper((unsigned char)*p);
			if (strlen(s) != 3 || strchr("AHE", s[0]) == NULL ||
			    !isdigit((unsigned char)s[1]) ||
			    !isdigit((unsigned char)s[2])) {
				printf("skip\t%s\t%s\tsession '%s' is not a "
				    "term label (A, H or E and two digits)\n",
				    tables[c->tid].edxo, c->key, s);
				free(s);
				return 1;
			}
			if (strcmp(s, raw(st, col)) != 0)
				note(c, f->col, "'%s' written %s",
				    raw(st, col), s);
		} else if (f->kind == K_COLOR) {
			size_t	 h = s[0] == '#';

			if (strlen(s) != 6 + h ||
			    strspn(s + h, "0123456789abcdefABCDEF") != 6) {
				note(c, f->col, "'%s' is not a #rrggbb colour: "
				    "NULL", s);
				free(s);
				return 0;
			}
			if (!h) {
				(void)snprintf(buf, sizeof(buf), "#%s", s);
				note(c, f->col, "'%s' written %s", s, buf);
				free(s);
				return (*v = strdup(buf)) == NULL ? -1 : 0;
			}
		} else if (f->kind == K_MODEL) {
			size_t	 len = strlen(s);

			if (len == 0 || len > 64 ||
			    !isalnum((unsigned char)s[0]) || strspn(s,
			    "abcdefghijklmnopqrstuvwxyz"
			    "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
			    "0123456789._:-") != len) {
				printf("skip\t%s\t%s\tmodel name '%s' is not "
				    "one relais accepts (letters, digits, ._:- "
				    "up to 64)\n", tables[c->tid].edxo, c->key,
				    s);
				free(s);
				return 1;
			}
		} else if (!in_list(f->allowed, s)) {
			if (f->flags & F_SKIPBAD) {
				printf("skip\t%s\t%s\t%s '%s' is not a value "
				    "relais knows\n", tables[c->tid].edxo,
				    c->key, f->col, s);
				free(s);
				return 1;
			}
			note(c, f->col, "'%s' is not a value relais knows: %s",
			    s, def != NULL ? def : "NULL");
			free(s);
			goto dflt;
		}
		*v = s;
		return 0;
	case K_BOOL:
		if (type == SQLITE_NULL) {
			if (def != NULL)
				note(c, f->col, "NULL: %s (relais' column is "
				    "NOT NULL)", def[0] == 't' ? "true" :
				    "false");
			goto dflt;
		}
		if (type == SQLITE_INTEGER &&
		    (i = sqlite3_column_int64(st, col)) >= 0 && i <= 1) {
			sum(c, f->col, "0/1 to boolean");
			def = i ? "t" : "f";
			goto dflt;
		}
		rs = raw(st, col);
		if (strcmp(rs, "1") == 0 || strcasecmp(rs, "true") == 0 ||
		    strcasecmp(rs, "t") == 0)
			def = "t";
		else if (strcmp(rs, "0") == 0 ||
		    strcasecmp(rs, "false") == 0 || strcasecmp(rs, "f") == 0)
			def = "f";
		else if (type == SQLITE_INTEGER || type == SQLITE_FLOAT)
			def = sqlite3_column_double(st, col) != 0 ? "t" : "f";
		note(c, f->col, "'%s' read as %s", rs, def == NULL ? "NULL" :
		    def[0] == 't' ? "true" : "false");
		goto dflt;
	case K_TS:
		if (type == SQLITE_NULL)
			return 0;
		if (type != SQLITE_TEXT ||
		    ts_of(raw(st, col), buf, sizeof(buf), &odd) == -1) {
			note(c, f->col, "'%s' is not a datetime: NULL",
			    raw(st, col));
			return 0;
		}
		if (odd)
			note(c, f->col, "'%s' read as %s", raw(st, col), buf);
		else
			sum(c, f->col, "naive datetime read as UTC "
			    "(timestamptz)");
		return (*v = strdup(buf)) == NULL ? -1 : 0;
	case K_MONEY:
	case K_CREDITS:
		if (type == SQLITE_NULL || double_of(c, f, st, col, &d) == -1) {
			if (f->kind == K_CREDITS) {
				note(c, f->col, "'%s' is not an amount: 0",
				    raw(st, col));
				keep(c, f->col, raw(st, col), "0.000000",
				    "not an amount");
				return (*v = strdup("0")) == NULL ? -1 : 0;
			}
			goto skip_bad;
		}
		(void)snprintf(num, sizeof(num), "%.17g", d);
		if (d < 0) {
			note(c, f->col, "negative amount %s (EDxo charges "
			    "after the call): 0, EDxo's value kept in "
			    "edxo_import_conversions", num);
			keep(c, f->col, num, "0.000000", "negative: 0");
			d = 0;
		} else if (d >= (f->kind == K_CREDITS ? CREDITS_MAX :
		    PRICE_MAX))
			goto skip_bad;
		if (rounded(d, 6, buf, sizeof(buf))) {
			note(c, f->col, "float %s rounded to %s (nearest "
			    "micro-dollar, ties to even on the exact binary "
			    "value)", num, buf);
			keep(c, f->col, num, buf, "rounded to 6 decimals");
		} else
			sum(c, f->col, "float to numeric, exact");
		if (f->kind == K_CREDITS) {
			if (rl_micro_parse(buf, &i) == -1)
				goto skip_bad;
			(void)snprintf(buf, sizeof(buf), "%lld", i);
		}
		return (*v = strdup(buf)) == NULL ? -1 : 0;
	case K_UNITS:
	case K_PERCENT:
		if (type == SQLITE_NULL) {
			if (def != NULL)
				note(c, f->col, "NULL: %s", def);
			goto dflt;
		}
		if (double_of(c, f, st, col, &d) == -1 || d < 0 ||
		    d > (f->kind == K_UNITS ? UNITS_MAX : 100)) {
			note(c, f->col, "'%s' is out of range: %s",
			    raw(st, col), def != NULL ? def : "NULL");
			goto dflt;
		}
		(void)snprintf(num, sizeof(num), "%.17g", d);
		if (rounded(d, 2, buf, sizeof(buf))) {
			note(c, f->col, "float %s rounded to %s (nearest "
			    "hundredth)", num, buf);
			keep(c, f->col, num, buf, "rounded to 2 decimals");
		} else
			sum(c, f->col, "float to numeric, exact");
		return (*v = strdup(buf)) == NULL ? -1 : 0;
	case K_JSONARR: {
		json_t		*j;
		json_error_t	 je;

		if (text_of(c, f, st, col, &s) == -1)
			return -1;
		if (s == NULL) {
			note(c, f->col, "NULL: [] (relais' column is NOT "
			    "NULL)");
			def = "[]";
			goto dflt;
		}
		j = json_loads(s, JSON_DECODE_ANY, &je);
		if (j == NULL || !json_is_array(j)) {
			note(c, f->col, "%s: []", j == NULL ? "not JSON" :
			    json_is_null(j) ? "JSON null (Python None stored "
			    "as the text null)" : "JSON but not an array");
			json_decref(j);
			free(s);
			def = "[]";
			goto dflt;
		}
		free(s);
		sum(c, f->col, "JSON text to jsonb");
		s = json_dumps(j, JSON_COMPACT);
		json_decref(j);
		return (*v = s) == NULL ? -1 : 0;
	}
	case K_EMAIL: {
		const char	*first;
		char		*low, *p;
		size_t		 k;

		if (text_of(c, f, st, col, &s) == -1)
			return -1;
		if (s == NULL)
			return 0;
		k = strspn(s, " \t");
		memmove(s, s + k, strlen(s + k) + 1);
		for (k = strlen(s); k > 0 && isspace((unsigned char)s[k - 1]);)
			s[--k] = '\0';
		if (s[0] == '\0' || (p = strchr(s, '@')) == NULL || p == s) {
			if (s[0] != '\0')
				note(c, f->col, "'%s' is not an address: NULL",
				    s);
			free(s);
			return 0;
		}
		if ((low = strdup(s)) == NULL) {
			free(s);
			return -1;
		}
		for (p = low; *p != '\0'; p++)
			*p = tolower((unsigned char)*p);
		if ((first = strmap_get(&c->emails, low)) != NULL) {
			note(c, f->col, "'%s' is also the address of %s "
			    "(relais ignores case): NULL", s, first);
			free(low);
			free(s);
			return 0;
		}
		rc = strmap_put(&c->emails, low, c->key);
		free(low);
		if (rc == -1) {
			free(s);
			return -1;
		}
		*v = s;
		return 0;
	}
	case K_PASSWORD: {
		char	 h[RL_PWHASH_MAX];
		struct rl_error	 e;

		if (text_of(c, f, st, col, &s) == -1)
			return -1;
		if (s != NULL && (is_werkzeug(s) ||
		    strncmp(s, "$argon2", 7) == 0)) {
			if (strncmp(s, "pbkdf2:", 7) == 0 ||
			    strncmp(s, "scrypt:", 7) == 0 ||
			    strncmp(s, "$argon2", 7) == 0)
				sum(c, f->col, "password hash kept as it is");
			else
				note(c, f->col, "legacy werkzeug salted HMAC "
				    "(%.*s$...): kept; EDxo on werkzeug 3 "
				    "cannot check it either: a reset may be "
				    "needed", (int)strcspn(s, "$"), s);
			*v = s;
			return 0;
		}
		if (s != NULL && strncmp(s, "plain$$", 7) == 0 &&
		    s[7] != '\0') {
			rl_error_clear(&e);
			rc = rl_password_hash(s + 7, h, &e) == RL_OK ? 0 : -1;
			rl_wipe(s, strlen(s));
			free(s);
			if (rc == -1)
				return -1;
			note(c, f->col, "clear-text password (plain$$): "
			    "hashed with argon2id, never stored in clear");
			return (*v = strdup(h)) == NULL ? -1 : 0;
		}
		note(c, f->col, "no usable password hash (%s): '!', the "
		    "user must have the password reset", s == NULL ? "NULL" :
		    s[0] == '\0' ? "empty" : "unknown format");
		free(s);
		return (*v = strdup("!")) == NULL ? -1 : 0;
	}
	case K_TOKEN:
	case K_SECRET: {
		unsigned char	 h[RL_SHA256_BYTES], *box = NULL;
		size_t		 boxlen;
		struct rl_error	 e;

		if (text_of(c, f, st, col, &s) == -1)
			return -1;
		if (s == NULL || s[0] == '\0') {
			free(s);
			return 0;
		}
		if (f->kind == K_TOKEN) {
			rl_sha256(s, strlen(s), h);
			rl_wipe(s, strlen(s));
			free(s);
			if ((*v = hexdup(h, sizeof(h))) == NULL)
				return -1;
			if (strmap_get(&c->tokens, *v) != NULL) {
				note(c, f->col, "the same API token as another "
				    "user: not imported");
				free(*v);
				*v = NULL;
				return 0;
			}
			sum(c, f->col, "API token stored as its SHA-256");
			return strmap_put(&c->tokens, *v, c->key);
		}
		if (!c->havekey) {
			note(c, f->col, "an OpenAI key, not imported: no "
			    "master key (RELAIS_SECRET_KEY_FILE) to encrypt "
			    "it with");
			rl_wipe(s, strlen(s));
			free(s);
			return 0;
		}
		if ((rc = same_key(c, s, v)) != 0) {
			rl_wipe(s, strlen(s));
			free(s);
			return rc == 1 ? 0 : -1;
		}
		rl_error_clear(&e);
		rc = rl_secretbox_seal(s, strlen(s), &box, &boxlen, &e) ==
		    RL_OK ? 0 : -1;
		rl_wipe(s, strlen(s));
		free(s);
		if (rc == -1)
			return -1;
		*v = hexdup(box, boxlen);
		free(box);
		sum(c, f->col, "OpenAI key encrypted under the master key");
		return *v == NULL ? -1 : 0;
	}
	}
	(void)snprintf(buf, sizeof(buf), "%lld", i);
	return (*v = strdup(buf)) == NULL ? -1 : 0;
dflt:
	return def == NULL ? 0 : (*v = strdup(def)) == NULL ? -1 : 0;
skip_null:
	printf("skip\t%s\t%s\t%s is NULL, relais requires a value\n",
	    tables[c->tid].edxo, c->key, f->col);
	return 1;
skip_blank:
	printf("skip\t%s\t%s\t%s is empty, relais requires a value\n",
	    tables[c->tid].edxo, c->key, f->col);
	return 1;
skip_bad:
	printf("skip\t%s\t%s\t%s: '%s' is not a value relais can keep (wrong "
	    "type or out of range)\n", tables[c->tid].edxo, c->key, f->col,
	    raw(st, col));
	return 1;
}

/* Write the numbers this row changed, next to EDxo's values. */
static enum rl_err
write_keeps(struct imp *c, struct rl_error *e)
{
	const char	*p[6];
	size_t		 i;
	enum rl_err	 err = RL_OK;

	for (i = 0; i < c->nkeep && err == RL_OK; i++) {
		p[0] = tables[c->tid].relais;
		p[1] = c->key;
		p[2] = c->keep[i].col;
		p[3] = c->keep[i].edxo;
		p[4] = c->keep[i].relais;
		p[5] = c->keep[i].rule;
		err = rl_db_exec("INSERT INTO edxo_import_conversions "
		    "AS t (table_name, row_key, column_name, edxo_value, "
		    "relais_value, rule) VALUES ($1, $2, $3, $4, $5, $6) "
		    "ON CONFLICT (table_name, row_key, column_name) DO UPDATE "
		    "SET (edxo_value, relais_value, rule) = "
		    "ROW(EXCLUDED.edxo_value, EXCLUDED.relais_value, "
		    "EXCLUDED.rule) WHERE (t.edxo_value, t.relais_value, "
		    "t.rule) IS DISTINCT FROM (EXCLUDED.edxo_value, "
		    "EXCLUDED.relais_value, EXCLUDED.rule)", 6, p, NULL, e);
	}
	return err;
}

/* The SQLSTATEs a row can meet, for the report. */
static const char *
sqlstate_text(const char *state)
{
	static const struct {
		const char	*state;
		const char	*text;
	} m[] = {
		{ "23505", "a unique value already taken in relais" },
		{ "23503", "a reference to a row relais does not have" },
		{ "23514", "a value relais' check constraint refuses" },
		{ "23502", "a required value missing" },
		{ "22001", "a value too long for its column" },
		{ "22P02", "a value of the wrong type" },
		{ "22003", "a number out of range" },
		{ "22007", "an invalid datetime" },
		{ "22008", "a datetime out of range" },
	};
	size_t	 i;

	for (i = 0; i < sizeof(m) / sizeof(m[0]); i++)
		if (strcmp(m[i].state, state) == 0)
			return m[i].text;
	return "see the server's message";
}

/*
 * One row in its own savepoint, so that a row PostgreSQL refuses for a
 * reason the checks above did not foresee is reported and left out
 * without aborting the transaction.  1 inserted, 2 updated, 3 unchanged,
 * 4 refused, -1 on an error that ends the import.
 */
static int
write_row(struct imp *c, const char *const *p, int np, struct rl_error *e)
{
	struct rl_dbres	*r = NULL;
	struct rl_error	 re;
	int		 rc;

	if (rl_db_exec("SAVEPOINT edxo_row", 0, NULL, NULL, e) != RL_OK)
		return -1;
	rl_error_clear(&re);
	if (rl_db_exec(stmt[c->tid], np, p, &r, &re) != RL_OK ||
	    write_keeps(c, &re) != RL_OK) {
		rl_dbres_free(r);
		if (re.code != RL_EDB)
			goto fatal;
		printf("skip\t%s\t%s\trefused by PostgreSQL: SQLSTATE %s "
		    "(%s; the server's message is on stderr)\n",
		    tables[c->tid].edxo, c->key, re.sqlstate,
		    sqlstate_text(re.sqlstate));
		if (rl_db_exec("ROLLBACK TO SAVEPOINT edxo_row", 0, NULL,
		    NULL, e) != RL_OK)
			return -1;
		return 4;
	}
	if (rl_dbres_rows(r) == 0)
		rc = 3;
	else
		rc = strcmp(rl_dbres_get(r, 0, 0), "t") == 0 ? 1 : 2;
	rl_dbres_free(r);
	if (rl_db_exec("RELEASE SAVEPOINT edxo_row", 0, NULL, NULL, e) !=
	    RL_OK)
		return -1;
	return rc;
fatal:
	*e = re;
	return -1;
}

/* Column index of each field in the row, -1 when the file lacks it. */
static void
map_columns(const struct tbl *t, sqlite3_stmt *st, int *colof)
{
	int	 i, j, n = sqlite3_column_count(st), used;

	for (i = 0; i < MAXF && t->f[i].col != NULL; i++) {
		colof[i] = -1;
		for (j = 0; j < n; j++)
			if (strcasecmp(sqlite3_column_name(st, j),
			    t->f[i].col) == 0)
				colof[i] = j;
		if (colof[i] == -1)
			printf("column\t%s\t%s\tmissing from this file: "
			    "every row gets relais' default\n", t->edxo,
			    t->f[i].col);
	}
	for (j = 0; j < n; j++) {
		for (used = 0, i = 0; i < MAXF && t->f[i].col != NULL; i++)
			used |= colof[i] == j;
		if (!used)
			printf("column\t%s\t%s\tnot imported: %s\n", t->edxo,
			    sqlite3_column_name(st, j),
			    "no relais column (older or hand-made schema)");
	}
}

static enum rl_err
credit_add(struct imp *c, long long id, const char *micro,
    const char *edxo, int inserted, struct rl_error *e)
{
	struct credit	*p;
	size_t		 cap;

	if (c->ncredits == c->capcredits) {
		cap = c->capcredits != 0 ? 2 * c->capcredits : 16;
		if ((p = reallocarray(c->credits, cap, sizeof(*p))) == NULL)
			return rl_error_set(e, RL_ENOMEM, NULL);
		c->credits = p;
		c->capcredits = cap;
	}
	p = &c->credits[c->ncredits++];
	p->id = id;
	p->micro = strtoll(micro, NULL, 10);
	p->inserted = inserted;
	(void)snprintf(p->edxo, sizeof(p->edxo), "%s", edxo);
	return RL_OK;
}

static enum rl_err
import_table(struct imp *c, enum tid tid, struct rl_error *e)
{
	const struct tbl	*t = &tables[tid];
	struct tstate		*ts = &c->ts[tid];
	sqlite3_stmt		*st = NULL;
	const char		*p[MAXF];
	char			*v[MAXF], key[256], ukey[1024], num[64];
	const char		*first;
	int			 colof[MAXF], nf, np, i, rc, sc, credits = -1;
	size_t			 ul;
	long long		 id;
	enum rl_err		 err = RL_OK;

	c->tid = tid;
	if (!ts->present) {
		printf("table\t%s\tabsent from this file: nothing imported\n",
		    t->edxo);
		return RL_OK;
	}
	if (sqlite3_prepare_v2(c->db, t->select, -1, &st, NULL) !=
	    SQLITE_OK)
		return rl_error_set(e, RL_EIO, "%s: %s", t->edxo,
		    sqlite3_errmsg(c->db));
	map_columns(t, st, colof);
	for (nf = 0; nf < MAXF && t->f[nf].col != NULL; nf++)
		if (t->f[nf].kind == K_CREDITS)
			credits = nf;
	memset(v, 0, sizeof(v));
	while ((sc = sqlite3_step(st)) == SQLITE_ROW) {
		ts->read++;
		c->nkeep = 0;
		if (t->mode == M_LINK)
			(void)snprintf(key, sizeof(key), "%s=%s,%s=%s",
			    t->f[0].col, raw(st, colof[0]), t->f[1].col,
			    raw(st, colof[1]));
		else
			(void)snprintf(key, sizeof(key), "id=%s",
			    raw(st, colof[0]));
		c->key = key;
		if (t->mode == M_ONE && ts->read > 1) {
			printf("skip\t%s\t%s\trelais keeps one row of these "
			    "settings: the first was imported\n", t->edxo,
			    key);
			ts->skipped++;
			continue;
		}
		for (i = 0, rc = 0; i < nf && rc == 0; i++)
			rc = convert(c, &t->f[i], st, colof[i], &v[i]);
		/* Fields 10 and 11 of User: api_token and its expiry. */
		if (rc == 0 && tid == T_USER && v[10] != NULL &&
		    v[11] == NULL) {
			/* relais refuses a token that never expires. */
			note(c, "api_token", "no expiry date: not imported "
			    "(a token that never expires is refused)");
			free(v[10]);
			v[10] = NULL;
		}
		for (i = 0, ul = 0, ukey[0] = '\0'; rc == 0 && i < nf; i++) {
			if ((t->f[i].flags & F_NOTSELF) && v[i] != NULL &&
			    v[1] != NULL && strcmp(v[i], v[1]) == 0) {
				printf("skip\t%s\t%s\t%s is the course "
				    "itself\n", t->edxo, key, t->f[i].col);
				rc = 1;
			}
			if ((t->f[i].flags & F_UNIQUE) && ul < sizeof(ukey))
				ul += (size_t)snprintf(ukey + ul,
				    sizeof(ukey) - ul, "%s\x1f",
				    v[i] != NULL ? v[i] : "");
		}
		if (rc == 0 && ukey[0] != '\0') {
			if ((first = strmap_get(&ts->keys, ukey)) != NULL) {
				printf("skip\t%s\t%s\tduplicate of %s (",
				    t->edxo, key, first);
				for (i = 0, np = 0; i < nf; i++)
					if (t->f[i].flags & F_UNIQUE)
						printf("%s%s", np++ ? ", " :
						    "", t->f[i].col);
				printf(" must be unique; EDxo reads the first "
				    "one)\n");
				rc = 1;
			} else if (strmap_put(&ts->keys, ukey, key) == -1)
				rc = -1;
		}
		if (rc == 0) {
			for (i = 0, np = 0; i < nf; i++)
				if (!(t->f[i].flags & F_NOPARAM))
					p[np++] = v[i];
			rc = write_row(c, p, np, e);
			if (rc == -1) {
				err = e->code;
				goto out;
			}
			if (rc == 4)
				c->refused++;
			else if (t->mode == M_ID && idset_add(&ts->ids,
			    strtoll(v[0], NULL, 10)) == -1)
				rc = -1;
			if (rc == 1)
				ts->inserted++;
			else if (rc == 2)
				ts->updated++;
			else if (rc == 3)
				ts->unchanged++;
			if (credits >= 0 && rc >= 1 && rc <= 3) {
				id = strtoll(v[0], NULL, 10);
				(void)snprintf(num, sizeof(num), "%s",
				    raw(st, colof[credits]));
				if ((err = credit_add(c, id, v[credits], num,
				    rc == 1, e)) != RL_OK)
					goto out;
			}
			rc = rc == 4;
		}
		if (rc == -1) {
			err = rl_error_set(e, RL_ENOMEM, NULL);
			goto out;
		}
		if (rc == 1) {
			ts->skipped++;
			c->skipped++;
		}
		for (i = 0; i < nf; i++) {
			free(v[i]);
			v[i] = NULL;
		}
	}
	if (sc != SQLITE_DONE)
		err = rl_error_set(e, RL_EIO, "%s: %s", t->edxo,
		    sqlite3_errmsg(c->db));
out:
	for (i = 0; i < MAXF; i++)
		free(v[i]);
	sqlite3_finalize(st);
	return err;
}

/*
 * Balances go through lib/credits.c (one admin_credit ledger row each),
 * so that a user's ledger still sums to the balance.  Only for users this
 * run created: once imported, a balance is relais' (it moves with every
 * call), and a later import reports a difference instead of undoing it.
 */
static enum rl_err
import_credits(struct imp *c, struct rl_error *e)
{
	struct rl_dbres	*r;
	const char	*p[1];
	char		 id[32], key[48], have[32];
	long long	 before, after, cur;
	size_t		 i;
	enum rl_err	 err;

	c->tid = T_USER;
	for (i = 0; i < c->ncredits; i++) {
		struct credit	*k = &c->credits[i];

		(void)snprintf(id, sizeof(id), "%lld", k->id);
		p[0] = id;
		if ((err = rl_db_exec("SELECT credits::text FROM users WHERE "
		    "id = $1", 1, p, &r, e)) != RL_OK)
			return err;
		if (rl_dbres_rows(r) != 1 ||
		    rl_micro_parse(rl_dbres_get(r, 0, 0), &cur) == -1)
			err = rl_error_set(e, RL_EDB, "users %s: no balance",
			    id);
		rl_dbres_free(r);
		if (err != RL_OK)
			return err;
		if (cur == k->micro)
			continue;
		(void)rl_micro_fmt(cur, have, sizeof(have));
		(void)snprintf(key, sizeof(key), "id=%lld", k->id);
		c->key = key;
		if (!k->inserted) {
			note(c, "credits", "relais' balance %s kept (EDxo "
			    "has %s): balances are relais' after the first "
			    "import", have, k->edxo);
			continue;
		}
		if ((err = rl_credits_adjust(k->id, k->micro - cur, k->id,
		    "edxo-import", &before, &after, e)) != RL_OK)
			return err;
	}
	return RL_OK;
}

/* Ids relais gives out next must follow EDxo's. */
static enum rl_err
sync_sequences(struct rl_error *e)
{
	const char	*p[1];
	enum rl_err	 err;
	int		 i;

	for (i = 0; i < T__MAX; i++) {
		if (tables[i].mode != M_ID)
			continue;
		p[0] = tables[i].relais;
		if ((err = rl_db_exec("SELECT edxo_import_sync_sequence("
		    "$1::regclass)", 1, p, NULL, e)) != RL_OK)
			return err;
	}
	return RL_OK;
}

/*
 * Open read-only through SQLite, so that a live database's WAL is read as
 * SQLite itself reads it, and check the whole file before anything else.
 */
static enum rl_err
open_edxo(struct imp *c, struct rl_error *e)
{
	struct stat	 sb;
	sqlite3_stmt	*st = NULL;
	char		 wal[PATH_MAX];
	const char	*s;
	int		 rc, havewal = 0, i;
	enum rl_err	 err = RL_OK;

	if (stat(c->path, &sb) == -1)
		return rl_error_set(e, RL_EIO, "%s: %s", c->path,
		    strerror(errno));
	if (!S_ISREG(sb.st_mode))
		return rl_error_set(e, RL_EINVAL, "%s: not a regular file",
		    c->path);
	(void)snprintf(wal, sizeof(wal), "%s-wal", c->path);
	if (stat(wal, &sb) == 0 && sb.st_size > 0) {
		havewal = 1;
		printf("note\t%s holds %lld bytes not yet in the main file "
		    "(a live EDxo in WAL mode): read through SQLite, WAL "
		    "included, in one read transaction\n", wal,
		    (long long)sb.st_size);
	}
	if ((rc = sqlite3_open_v2(c->path, &c->db, SQLITE_OPEN_READONLY,
	    NULL)) != SQLITE_OK) {
		err = rl_error_set(e, RL_EIO, "%s: %s", c->path,
		    c->db != NULL ? sqlite3_errmsg(c->db) :
		    sqlite3_errstr(rc));
		goto out;
	}
	(void)sqlite3_busy_timeout(c->db, IMPORT_BUSY_MS);
	if (sqlite3_exec(c->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(c->db, "PRAGMA quick_check", -1, &st,
	    NULL) != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW ||
	    strcmp((const char *)sqlite3_column_text(st, 0), "ok") != 0) {
		s = st != NULL && sqlite3_data_count(st) > 0 ?
		    (const char *)sqlite3_column_text(st, 0) :
		    sqlite3_errmsg(c->db);
		err = rl_error_set(e, RL_EINVAL, "%s: not a readable SQLite "
		    "database (%s)%s", c->path, s, havewal ? "; with a WAL "
		    "file beside it, import a copy made with: sqlite3 FILE "
		    "\".backup copy.db\"" : "");
		goto out;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (sqlite3_prepare_v2(c->db, "SELECT name FROM sqlite_master "
	    "WHERE type = 'table'", -1, &st, NULL) != SQLITE_OK) {
		err = rl_error_set(e, RL_EIO, "%s: %s", c->path,
		    sqlite3_errmsg(c->db));
		goto out;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if (strmap_put(&c->tables,
		    (const char *)sqlite3_column_text(st, 0), "") == -1) {
			err = rl_error_set(e, RL_ENOMEM, NULL);
			goto out;
		}
	for (i = 0; required[i] != NULL; i++)
		if (strmap_get(&c->tables, required[i]) == NULL) {
			err = rl_error_set(e, RL_EINVAL, "%s: not an EDxo "
			    "database (no table \"%s\")", c->path,
			    required[i]);
			goto out;
		}
	for (i = 0; i < T__MAX; i++)
		c->ts[i].present =
		    strmap_get(&c->tables, tables[i].edxo) != NULL;
	sqlite3_finalize(st);
	st = NULL;
	if (strmap_get(&c->tables, "alembic_version") != NULL &&
	    sqlite3_prepare_v2(c->db, "SELECT version_num FROM "
	    "alembic_version", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		(void)snprintf(c->alembic, sizeof(c->alembic), "%s",
		    (const char *)sqlite3_column_text(st, 0));
out:
	sqlite3_finalize(st);
	return err;
}

/* Rows of a table, for the tables that are reported but not read. */
static long
count_rows(struct imp *c, const char *table)
{
	sqlite3_stmt	*st;
	char		*sql;
	long		 n = -1;

	/* A table name cannot be a parameter; this one is ours, quoted. */
	if ((sql = sqlite3_mprintf("SELECT count(*) FROM \"%w\"",
	    table)) == NULL)
		return -1;
	if (sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		n = (long)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_free(sql);
	return n;
}

static void
report_other_tables(struct imp *c)
{
	size_t	 i, j;
	int	 known;

	for (j = 0; j < sizeof(unused) / sizeof(unused[0]); j++)
		if (strmap_get(&c->tables, unused[j].edxo) != NULL)
			printf("table\t%s\t%ld rows not imported: %s\n",
			    unused[j].edxo, count_rows(c, unused[j].edxo),
			    unused[j].why);
	for (i = 0; i < c->tables.cap; i++) {
		if (c->tables.k[i] == NULL ||
		    strncmp(c->tables.k[i], "sqlite_", 7) == 0)
			continue;
		known = 0;
		for (j = 0; j < T__MAX; j++)
			known |= strcmp(tables[j].edxo, c->tables.k[i]) == 0;
		for (j = 0; j < sizeof(unused) / sizeof(unused[0]); j++)
			known |= strcmp(unused[j].edxo, c->tables.k[i]) == 0;
		if (!known)
			printf("table\t%s\t%ld rows not imported: not an EDxo "
			    "table relais knows\n", c->tables.k[i],
			    count_rows(c, c->tables.k[i]));
	}
}

/*
 * An import goes into a database without an institution, or into the
 * one an earlier import made (a second run updates it).  The demo
 * institution counts as one: import into a fresh database.
 */
static enum rl_err
check_target(struct rl_error *e)
{
	struct rl_dbres	*r;
	enum rl_err	 err;
	long long	 users, inst, imports;

	if ((err = rl_db_exec("SELECT pg_advisory_xact_lock(" IMPORT_LOCK
	    ")", 0, NULL, NULL, e)) != RL_OK ||
	    (err = rl_db_exec("SELECT (SELECT count(*) FROM users), "
	    "(SELECT count(*) FROM cegeps) + (SELECT count(*) FROM "
	    "departments) + (SELECT count(*) FROM programmes) + (SELECT "
	    "count(*) FROM cours), (SELECT count(*) FROM edxo_imports)", 0,
	    NULL, &r, e)) != RL_OK)
		return err;
	users = strtoll(rl_dbres_get(r, 0, 0), NULL, 10);
	inst = strtoll(rl_dbres_get(r, 0, 1), NULL, 10);
	imports = strtoll(rl_dbres_get(r, 0, 2), NULL, 10);
	rl_dbres_free(r);
	if ((users > 0 || inst > 0) && imports == 0)
		return rl_error_set(e, RL_ECONFLICT, "this relais database "
		    "already holds an institution that no EDxo import made "
		    "(%lld users, %lld cegeps, departments, programmes and "
		    "courses; the demo data counts): import into a new "
		    "database (createdb, relais-migrate)", users, inst);
	if (imports > 0)
		printf("note\tthe database holds %lld earlier import(s): "
		    "rows are updated, none duplicated\n", imports);
	return RL_OK;
}

/* The counts, printed and kept in edxo_imports. */
static enum rl_err
finish(struct imp *c, struct rl_error *e)
{
	json_t		*counts, *o;
	const char	*p[3];
	char		*js;
	struct tstate	*t;
	size_t		 k;
	int		 i;
	enum rl_err	 err;

	if ((counts = json_object()) == NULL)
		return rl_error_set(e, RL_ENOMEM, NULL);
	printf("# table\trelais\tread\tinserted\tupdated\tunchanged\t"
	    "skipped\n");
	for (i = 0; i < T__MAX; i++) {
		t = &c->ts[i];
		c->tid = i;
		for (k = 0; k < t->nsums; k++)
			printf("convert\t%s\t*\t%s\t%s (%ld values)\n",
			    tables[i].edxo, t->sums[k].col, t->sums[k].rule,
			    t->sums[k].n);
		if (!t->present)
			continue;
		printf("count\t%s\t%s\t%ld\t%ld\t%ld\t%ld\t%ld\n",
		    tables[i].edxo, tables[i].relais, t->read, t->inserted,
		    t->updated, t->unchanged, t->skipped);
		o = json_pack("{sIsIsIsIsI}", "read", (json_int_t)t->read,
		    "inserted", (json_int_t)t->inserted, "updated",
		    (json_int_t)t->updated, "unchanged",
		    (json_int_t)t->unchanged, "skipped",
		    (json_int_t)t->skipped);
		if (o == NULL || json_object_set_new(counts, tables[i].edxo,
		    o) == -1) {
			json_decref(counts);
			return rl_error_set(e, RL_ENOMEM, NULL);
		}
	}
	js = json_dumps(counts, JSON_COMPACT);
	json_decref(counts);
	if (js == NULL)
		return rl_error_set(e, RL_ENOMEM, NULL);
	p[0] = c->path;
	p[1] = c->alembic[0] != '\0' ? c->alembic : NULL;
	p[2] = js;
	err = rl_db_exec("INSERT INTO edxo_imports (source, alembic_version, "
	    "counts) VALUES ($1, $2, $3)", 3, p, NULL, e);
	free(js);
	return err;
}

static int
usage(void)
{

	fprintf(stderr, "usage: relais-import-edxo [-n] file.sqlite\n");
	return 2;
}

int
main(int argc, char *argv[])
{
	static const struct option	 longopts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 }
	};
	static struct imp	 c;
	struct rl_error		 e, ke;
	char			 real[PATH_MAX];
	int			 ch, i, began = 0, rc = 1;

	while ((ch = getopt_long(argc, argv, "n", longopts, NULL)) != -1)
		switch (ch) {
		case 'n':
			c.dry = 1;
			break;
		default:
			return usage();
		}
	if (argc - optind != 1)
		return usage();
	for (i = 0; i < T__MAX; i++)
		if (tables[i].edxo == NULL || tables[i].f[0].col == NULL) {
			fprintf(stderr, "relais-import-edxo: table %d has no "
			    "description (a bug)\n", i);
			return 1;
		}
	for (i = 0; i < T__MAX; i++) {
		if (tables[i].sql != NULL) {
			stmt[i] = tables[i].sql;
			continue;
		}
		if (!upsert(i, upserts[i], sizeof(upserts[i]))) {
			fprintf(stderr, "relais-import-edxo: %s: no upsert "
			    "(a bug)\n", tables[i].edxo);
			return 1;
		}
		stmt[i] = upserts[i];
	}
	c.path = realpath(argv[optind], real) != NULL ? real : argv[optind];
	rl_error_clear(&e);
	if (open_edxo(&c, &e) != RL_OK)
		goto out;
	if (rl_conf_load(1, &e) != RL_OK || rl_crypto_init(&e) != RL_OK)
		goto out;
	rl_error_clear(&ke);
	c.havekey = rl_conf->secret_key_file != NULL &&
	    rl_crypto_load_key(rl_conf->secret_key_file, &ke) == RL_OK;
	if (rl_db_check_schema(IMPORT_SCHEMA, &e) != RL_OK)
		goto out;
	printf("source\t%s\tSQLite %s\talembic %s%s\n", c.path,
	    sqlite3_libversion(), c.alembic[0] != '\0' ? c.alembic : "none",
	    strcmp(c.alembic, "09fb8fece955") == 0 || c.alembic[0] == '\0' ?
	    "" : " (not the baseline this importer knows: columns are "
	    "matched by name)");
	if (rl_db_begin(&e) != RL_OK)
		goto out;
	began = 1;
	if (check_target(&e) != RL_OK)
		goto out;
	report_other_tables(&c);
	for (i = 0; i < T__MAX; i++) {
		if (import_table(&c, i, &e) != RL_OK)
			goto out;
		if (i == T_USER && import_credits(&c, &e) != RL_OK)
			goto out;
	}
	/* setval() outlives a rollback: a dry run leaves sequences alone. */
	if ((!c.dry && sync_sequences(&e) != RL_OK) ||
	    finish(&c, &e) != RL_OK)
		goto out;
	if (c.dry) {
		rl_db_rollback();
		began = 0;
		printf("done\tdry run: %ld rows skipped, transaction rolled "
		    "back, nothing written\n", c.skipped);
	} else {
		began = 0;
		if (rl_db_commit(&e) != RL_OK)
			goto out;
		printf("done\t%ld rows skipped (%ld refused by PostgreSQL), "
		    "the rest committed\n", c.skipped, c.refused);
	}
	rc = 0;
out:
	if (began)
		rl_db_rollback();
	if (rc != 0)
		fprintf(stderr, "relais-import-edxo: %s\n"
		    "relais-import-edxo: nothing written\n", e.msg);
	for (i = 0; i < T__MAX; i++) {
		free(c.ts[i].ids.v);
		strmap_free(&c.ts[i].keys);
	}
	strmap_free(&c.tables);
	strmap_free(&c.emails);
	strmap_free(&c.tokens);
	free(c.credits);
	if (c.db != NULL) {
		(void)sqlite3_exec(c.db, "ROLLBACK", NULL, NULL, NULL);
		sqlite3_close(c.db);
	}
	rl_db_disconnect();
	return rc;
}
