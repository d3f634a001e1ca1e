/*
 * programme.c: the logigramme and the grille de cours of a programme
 * (programme.h), and the model settings shared by the issue-9 features.
 *
 * EDxo asked the model for free-text JSON and parsed what came back; here
 * both features send a strict schema (the links schema with the
 * programme's own codes as enums, so the model cannot invent one; the
 * grille schema), gen.c validates the answer and asks once more when it
 * does not validate, and the task only reports.  Writing is the apply
 * call's job, in one transaction; rl_grille_write is the one grille
 * writer, which the PDF import's confirm (imports.c) calls too.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "gen.h"
#include "models.h"
#include "programme.h"
#include "schema.h"
#include "worker.h"

/* The compétences of programme $1: its own, and those shared with it. */
#define SQL_PROGRAMME_COMPETENCES(k)					\
	"(" k ".programme_id = $1::bigint OR " k ".id IN "		\
	"(SELECT cp2.competence_id FROM competence_programme cp2 "	\
	"WHERE cp2.programme_id = $1::bigint))"

/* EDxo's ten-colour palette for fils conducteurs without a valid one. */
static const char *const palette[] = {
	"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
	"#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
};
#define NPALETTE	(sizeof(palette) / sizeof(palette[0]))

/* Link types and the element status each one writes. */
static const struct {
	const char	*type;
	const char	*status;
} linktypes[] = {
	{ "developpe", "Développé significativement" },
	{ "atteint", "Atteint" },
	{ "reinvesti", "Réinvesti" },
};
#define NLINKTYPES	(sizeof(linktypes) / sizeof(linktypes[0]))

#define LOGIGRAMME_INSTRUCTIONS						\
	"Associe les cours du programme ci-dessous aux compétences "	\
	"qu'ils développent, atteignent ou réinvestissent.\n"		\
	"Règles :\n"							\
	"- au plus 3 compétences par cours, dont au plus 2 liens "	\
	"« reinvesti » ;\n"						\
	"- une compétence est liée à au plus 3 cours ;\n"		\
	"- chaque compétence est « atteint » dans au moins un cours ;\n" \
	"- aucun « developpe » dans une session postérieure à celle où " \
	"la compétence est « atteint » ;\n"				\
	"- utilise uniquement les codes de cours et de compétences "	\
	"fournis, sans en inventer.\n"					\
	"Réponds en JSON : {\"links\": [{\"cours_code\", "		\
	"\"competence_code\", \"type\"}]} où type vaut developpe, "	\
	"atteint ou reinvesti.\n\nDonnées du programme (JSON) :\n"

#define GRILLE_INSTRUCTIONS						\
	"Conçois la grille de cours de la formation spécifique du "	\
	"programme ci-dessous.\n"					\
	"Règles :\n"							\
	"- exactement nb_sessions sessions, numérotées à partir de 1 ;\n" \
	"- pour chaque cours : nom (sans code), heures_theorie et "	\
	"heures_laboratoire par semaine (4 au plus chacune), "		\
	"heures_travail_maison, nombre_unites = (T + L + M) / 3 ;\n"	\
	"- la somme de (T + L) x 15 sur tous les cours vaut exactement " \
	"total_hours, et la somme des unités vaut total_units s'il est " \
	"donné ;\n"							\
	"- prealables : au plus 2 noms de cours de sessions "		\
	"antérieures ; corequis : noms de cours de la même session ;\n" \
	"- de 3 à 6 fils_conducteurs {description, couleur #RRGGBB, "	\
	"cours (noms)} ;\n"						\
	"- couvre toutes les compétences du programme.\n\n"		\
	"Données (JSON) :\n"

/* A positive integer member of the payload. */
static enum rl_err
payload_id(const json_t *p, const char *k, long long *id,
    struct rl_error *e)
{
	const json_t	*v = json_object_get(p, k);

	if (!json_is_integer(v) || json_integer_value(v) <= 0)
		return rl_error_set(e, RL_EINVAL, "payload: %s manquant", k);
	*id = json_integer_value(v);
	return RL_OK;
}

/* The first n code points of s, as a new JSON string. */
static json_t *
cut_chars(const char *s, size_t n)
{
	size_t	 i, cps = 0;

	for (i = 0; s[i] != '\0'; i++) {
		if (((unsigned char)s[i] & 0xc0) != 0x80 && cps++ == n)
			break;
	}
	return json_stringn(s, i);
}

/*
 * usage as EDxo's programme tasks report it ({prompt_tokens,
 * completion_tokens, cost}) next to gen.h's names.
 */
static json_t *
usage_json(const struct rl_gen *g)
{
	json_t	*u;

	if ((u = rl_gen_usage_json(g)) == NULL)
		return NULL;
	(void)json_object_set_new(u, "prompt_tokens",
	    json_integer(g->usage.input_tokens));
	(void)json_object_set_new(u, "completion_tokens",
	    json_integer(g->usage.output_tokens));
	return u;
}

/* The prompt: instructions, data as indented JSON, additional info. */
static char *
build_prompt(const char *instructions, const json_t *data,
    const char *additional)
{
	char	*d, *p = NULL;

	if ((d = json_dumps(data, JSON_INDENT(1) | JSON_PRESERVE_ORDER)) ==
	    NULL)
		return NULL;
	if (asprintf(&p, "%s%s%s%s", instructions, d,
	    additional != NULL && *additional != '\0' ?
	    "\n\nInformations complémentaires : " : "",
	    additional != NULL ? additional : "") == -1)
		p = NULL;
	free(d);
	return p;
}

/* The id of the first item of list whose "code" is code, or 0. */
static long long
code_id(const json_t *list, const char *code)
{
	const json_t	*v;
	size_t		 i;

	json_array_foreach(list, i, v)
		if (strcmp(json_string_value(json_object_get(v, "code")),
		    code) == 0)
			return json_integer_value(json_object_get(v, "id"));
	return 0;
}

/* The index of the first item of list with the code of item. */
static size_t
first_of(const json_t *list, const json_t *item)
{
	const char	*code;
	const json_t	*v;
	size_t		 i;

	code = json_string_value(json_object_get(item, "code"));
	json_array_foreach(list, i, v)
		if (strcmp(json_string_value(json_object_get(v, "code")),
		    code) == 0)
			return i;
	return 0;
}

/*
 * The links schema with the programme's codes as enums (a strict
 * schema's enum is a hard constraint of the decoder), unless there are too
 * many for strict mode.
 */
static json_t *
links_schema(const json_t *courses, const json_t *comps)
{
	const struct rl_schema	*base;
	json_t			*s, *props, *ce, *ke, *v;
	size_t			 i;

	if ((base = rl_schema_get("logigramme_links")) == NULL ||
	    (s = json_deep_copy(rl_schema_json(base))) == NULL)
		return NULL;
	props = json_object_get(json_object_get(json_object_get(s, "$defs"),
	    "LogigrammeLink"), "properties");
	if (props == NULL || json_array_size(courses) > RL_PROGRAMME_ENUM_MAX
	    || json_array_size(comps) > RL_PROGRAMME_ENUM_MAX)
		return s;
	/* Once each: a shared compétence may repeat a code. */
	ce = json_array();
	ke = json_array();
	json_array_foreach(courses, i, v)
		if (i == first_of(courses, v))
			(void)json_array_append(ce, json_object_get(v, "code"));
	json_array_foreach(comps, i, v)
		if (i == first_of(comps, v))
			(void)json_array_append(ke, json_object_get(v, "code"));
	(void)json_object_set_new(json_object_get(props, "cours_code"), "enum",
	    ce);
	(void)json_object_set_new(json_object_get(props, "competence_code"),
	    "enum", ke);
	return s;
}

/* A copy of list without the "id" members (the model needs codes). */
static json_t *
without_ids(const json_t *list)
{
	json_t	*c, *v;
	size_t	 i;

	if ((c = json_deep_copy(list)) == NULL)
		return NULL;
	json_array_foreach(c, i, v)
		(void)json_object_del(v, "id");
	return c;
}

enum rl_err
rl_logigramme_task(struct rl_task *t, json_t **result, struct rl_error *e)
{
	struct rl_gen		 g;
	struct rl_schema	*schema = NULL;
	json_t			*ctx = NULL, *settings = NULL, *sj = NULL;
	json_t			*data = NULL, *links = NULL, *unknown = NULL;
	json_t			*seen = NULL, *l;
	const json_t		*courses, *comps;
	const char		*p[1], *cc, *kc, *ty, *reason;
	char			 pid[32], key[256], *prompt = NULL;
	char			 url[96], vurl[128];
	long long		 programme_id, cid, kid;
	size_t			 i;
	enum rl_err		 err;

	memset(&g, 0, sizeof(g));
	*result = NULL;
	if ((err = payload_id(t->payload, "programme_id", &programme_id, e)) !=
	    RL_OK)
		goto out;
	(void)snprintf(pid, sizeof(pid), "%lld", programme_id);
	p[0] = pid;
	if ((err = rl_db_json("SELECT json_build_object("
	    "'programme', json_build_object('id', p.id, 'nom', p.nom), "
	    "'courses', coalesce((SELECT json_agg(json_build_object("
	    "'id', c.id, 'code', c.code, 'nom', c.nom, "
	    "'session', cp.session, 'heures_theorie', c.heures_theorie, "
	    "'heures_laboratoire', c.heures_laboratoire, "
	    "'heures_travail_maison', c.heures_travail_maison) "
	    "ORDER BY cp.session, c.code, c.id) FROM cours c "
	    "JOIN cours_programme cp ON cp.cours_id = c.id "
	    "WHERE cp.programme_id = p.id), '[]'), "
	    "'competences', coalesce((SELECT json_agg(json_build_object("
	    "'id', k.id, 'code', k.code, 'nom', k.nom, "
	    "'criteres', k.criteria_de_performance, "
	    "'contexte', k.contexte_de_realisation, "
	    "'elements', coalesce((SELECT json_agg(json_build_object("
	    "'nom', el.nom, 'criteres', coalesce((SELECT json_agg("
	    "cr.criteria ORDER BY cr.id) FROM element_competence_criteria cr "
	    "WHERE cr.element_competence_id = el.id), '[]')) ORDER BY el.id) "
	    "FROM element_competence el WHERE el.competence_id = k.id), "
	    "'[]')) ORDER BY k.code, k.id) FROM competences k WHERE "
	    SQL_PROGRAMME_COMPETENCES("k") "), '[]')) "
	    "FROM programmes p WHERE p.id = $1::bigint", 1, p, &ctx, e)) !=
	    RL_OK)
		goto out;
	if (json_is_null(ctx)) {
		err = rl_error_set(e, RL_ENOTFOUND, "Programme introuvable.");
		goto out;
	}
	courses = json_object_get(ctx, "courses");
	comps = json_object_get(ctx, "competences");
	if (json_array_size(courses) == 0 || json_array_size(comps) == 0) {
		err = rl_error_set(e, RL_EINVAL, "Le programme doit avoir au "
		    "moins un cours et une compétence pour générer le "
		    "logigramme.");
		goto out;
	}
	if ((err = rl_generation_settings("logigramme", t->payload,
	    &settings, e)) != RL_OK)
		goto out;
	if ((sj = links_schema(courses, comps)) == NULL ||
	    (data = json_pack("{s:O, s:o, s:o}", "programme",
	    json_object_get(ctx, "programme"), "courses",
	    without_ids(courses), "competences", without_ids(comps))) ==
	    NULL ||
	    (prompt = build_prompt(LOGIGRAMME_INSTRUCTIONS, data,
	    json_string_value(json_object_get(t->payload,
	    "additional_info")))) == NULL) {
		err = rl_error_set(e, RL_ENOMEM, "out of memory");
		goto out;
	}
	g.user_id = t->user_id;
	g.feature = "generate_programme_logigramme";
	g.task = t;
	g.message = "Génération du logigramme en cours...";
	rl_gen_settings(&g, settings);
	g.prompt = prompt;
	if ((err = rl_gen_run_schema(&g, sj, "LogigrammeResponse", &schema,
	    e)) != RL_OK)
		goto out;

	/* Keep the links whose codes exist, once per pair; report others. */
	links = json_array();
	unknown = json_array();
	seen = json_object();
	if (links == NULL || unknown == NULL || seen == NULL) {
		err = rl_error_set(e, RL_ENOMEM, "out of memory");
		goto out;
	}
	json_array_foreach(json_object_get(g.result, "links"), i, l) {
		cc = json_string_value(json_object_get(l, "cours_code"));
		kc = json_string_value(json_object_get(l, "competence_code"));
		ty = json_string_value(json_object_get(l, "type"));
		cid = code_id(courses, cc);
		kid = code_id(comps, kc);
		reason = cid == 0 ? "cours inconnu" : kid == 0 ?
		    "compétence inconnue" : NULL;
		(void)snprintf(key, sizeof(key), "%lld/%lld", cid, kid);
		if (reason == NULL && json_object_get(seen, key) != NULL)
			reason = "lien en double";
		if (reason != NULL) {
			(void)json_array_append_new(unknown, json_pack(
			    "{s:s, s:s, s:s, s:s}", "cours_code", cc,
			    "competence_code", kc, "type", ty, "reason",
			    reason));
			continue;
		}
		(void)json_object_set_new(seen, key, json_true());
		(void)json_array_append_new(links, json_pack(
		    "{s:s, s:s, s:s, s:I, s:I}", "cours_code", cc,
		    "competence_code", kc, "type", ty, "cours_id",
		    (json_int_t)cid, "competence_id", (json_int_t)kid));
	}
	if (json_array_size(links) == 0) {
		err = rl_error_set(e, RL_EUPSTREAM, "Aucun lien valide dans la "
		    "réponse du modèle (%zu lien(s) rejeté(s)).",
		    json_array_size(unknown));
		goto out;
	}
	/*
	 * EDxo's task had written the links, so its validation_url was the
	 * logigramme itself; here it is the preview page that confirms them,
	 * and the logigramme is where one goes afterwards.
	 */
	(void)snprintf(url, sizeof(url), "/programme/%lld/competences/"
	    "logigramme", programme_id);
	(void)snprintf(vurl, sizeof(vurl), "/programme/%lld/logigramme/"
	    "review/%s", programme_id, t->id);
	if ((*result = json_pack("{s:s, s:{s:O, s:O, s:s?, s:i, s:s, s:s}, "
	    "s:o, s:s, s:I, s:b}", "status", "success",
	    "result", "links", links, "unknown", unknown,
	    "reasoning_summary", g.reasoning, "applied_pairs", 0,
	    "message", "Logigramme proposé : rien n'est enregistré avant "
	    "la confirmation.", "logigramme_url", url,
	    "usage", usage_json(&g), "validation_url", vurl,
	    "programme_id", (json_int_t)programme_id, "preview", 1)) == NULL)
		err = rl_error_set(e, RL_ENOMEM, "out of memory");
out:
	rl_gen_free(&g);
	rl_schema_free(schema);
	free(prompt);
	json_decref(ctx);
	json_decref(settings);
	json_decref(sj);
	json_decref(data);
	json_decref(links);
	json_decref(unknown);
	json_decref(seen);
	return err;
}

json_t *
rl_grille_schema_json(void)
{
	const struct rl_schema	*base;
	json_t			*s, *c;

	if ((base = rl_schema_get("grille_cours")) == NULL ||
	    (s = json_deep_copy(rl_schema_json(base))) == NULL)
		return NULL;
	/*
	 * EDxo replaced a bad colour with one of its palette instead of
	 * refusing the whole grille; so do we (normalise()), and the pattern
	 * would only make a good answer fail over a colour.
	 */
	c = json_object_get(json_object_get(json_object_get(json_object_get(
	    s, "$defs"), "FilConducteur"), "properties"), "couleur");
	(void)json_object_del(c, "pattern");
	return s;
}

static int
is_colour(const char *s)
{
	size_t	 i;

	if (s == NULL || s[0] != '#' || strlen(s) != 7)
		return 0;
	for (i = 1; i < 7; i++)
		if (strchr("0123456789abcdefABCDEF", s[i]) == NULL)
			return 0;
	return 1;
}

/* Append the strings of src that names holds, once, up to max. */
static json_t *
names_filter(const json_t *src, const json_t *names, const json_t *not,
    size_t max)
{
	json_t		*out, *v;
	size_t		 i;
	const char	*s;

	if ((out = json_array()) == NULL)
		return NULL;
	json_array_foreach(src, i, v) {
		s = json_string_value(v);
		if (json_array_size(out) >= max || s == NULL ||
		    json_object_get(names, s) == NULL)
			continue;
		if (not != NULL && json_equal(v, not))
			continue;
		if (json_array_size(out) > 0) {
			size_t	 j;
			json_t	*w;
			int	 dup = 0;

			json_array_foreach(out, j, w)
				if (json_equal(v, w))
					dup = 1;
			if (dup)
				continue;
		}
		(void)json_array_append(out, v);
	}
	return out;
}

/*
 * EDxo's normalisation of a generated grille, in place: names cut,
 * units defaulted, préalables from earlier sessions (2 at most) and
 * corequis from the same session, fils kept when they name generated
 * courses, colours fixed.  *checks: the hours, units and sessions
 * against what was asked.
 */
static enum rl_err
normalise(json_t *grid, long long total_hours, long long nb_sessions,
    const json_t *total_units, json_t **checks, struct rl_error *e)
{
	json_t		*sessions = json_object_get(grid, "sessions");
	json_t		*fils = json_object_get(grid, "fils_conducteurs");
	json_t		*all = NULL, *colours = NULL;
	json_t		*s, *c, *f, *v, *earlier, *same, *kept;
	long long	 hours = 0, ncourses = 0, sess;
	double		 units = 0, u;
	size_t		 i, j, k;
	char		 key[32];
	const char	*col;
	enum rl_err	 err = RL_OK;

	all = json_object();
	colours = json_object();
	if (all == NULL || colours == NULL) {
		err = rl_error_set(e, RL_ENOMEM, "out of memory");
		goto out;
	}
	/* Names first: every course, by session. */
	json_array_foreach(sessions, i, s) {
		sess = json_integer_value(json_object_get(s, "session"));
		json_array_foreach(json_object_get(s, "courses"), j, c) {
			if (++ncourses > RL_GRILLE_MAX_COURSES) {
				err = rl_error_set(e, RL_EUPSTREAM, "Grille "
				    "trop grande (plus de %d cours).",
				    RL_GRILLE_MAX_COURSES);
				goto out;
			}
			v = cut_chars(json_string_value(json_object_get(c,
			    "nom")), RL_GRILLE_NAME_MAX);
			(void)json_object_set_new(c, "nom", v);
			(void)json_object_set_new(all, json_string_value(v),
			    json_integer(sess));
		}
	}
	if (json_array_size(sessions) > RL_GRILLE_MAX_SESSIONS) {
		err = rl_error_set(e, RL_EUPSTREAM, "Grille trop grande (plus "
		    "de %d sessions).", RL_GRILLE_MAX_SESSIONS);
		goto out;
	}
	json_array_foreach(sessions, i, s) {
		sess = json_integer_value(json_object_get(s, "session"));
		earlier = json_object();
		same = json_object();
		json_object_foreach(all, col, v) {
			if (json_integer_value(v) < sess)
				(void)json_object_set_new(earlier, col,
				    json_true());
			else if (json_integer_value(v) == sess)
				(void)json_object_set_new(same, col,
				    json_true());
		}
		json_array_foreach(json_object_get(s, "courses"), j, c) {
			u = json_number_value(json_object_get(c,
			    "nombre_unites"));
			if (u <= 0) {
				u = (double)(json_integer_value(
				    json_object_get(c, "heures_theorie")) +
				    json_integer_value(json_object_get(c,
				    "heures_laboratoire")) +
				    json_integer_value(json_object_get(c,
				    "heures_travail_maison"))) / 3.0;
				(void)json_object_set_new(c, "nombre_unites",
				    json_real(u));
			}
			units += u;
			hours += 15 * (json_integer_value(json_object_get(c,
			    "heures_theorie")) + json_integer_value(
			    json_object_get(c, "heures_laboratoire")));
			(void)json_object_set_new(c, "prealables",
			    names_filter(json_object_get(c, "prealables"),
			    earlier, NULL, RL_GRILLE_MAX_PREALABLES));
			(void)json_object_set_new(c, "corequis",
			    names_filter(json_object_get(c, "corequis"), same,
			    json_object_get(c, "nom"), RL_GRILLE_MAX_COURSES));
		}
		json_decref(earlier);
		json_decref(same);
	}
	/* Fils: courses that exist, a valid colour used once. */
	for (i = 0; i < json_array_size(fils); ) {
		f = json_array_get(fils, i);
		kept = names_filter(json_object_get(f, "cours"), all, NULL,
		    RL_GRILLE_MAX_COURSES);
		if (json_array_size(kept) == 0 || i >= RL_GRILLE_MAX_FILS) {
			json_decref(kept);
			(void)json_array_remove(fils, i);
			continue;
		}
		(void)json_object_set_new(f, "cours", kept);
		(void)json_object_set_new(f, "description", cut_chars(
		    json_string_value(json_object_get(f, "description")),
		    RL_GRILLE_FIL_MAX));
		col = json_string_value(json_object_get(f, "couleur"));
		if (!is_colour(col) || json_object_get(colours, col) != NULL) {
			for (k = 0; k < NPALETTE; k++)
				if (json_object_get(colours, palette[k]) ==
				    NULL)
					break;
			(void)json_object_set_new(f, "couleur", json_string(
			    palette[k < NPALETTE ? k : i % NPALETTE]));
			col = json_string_value(json_object_get(f,
			    "couleur"));
		}
		(void)json_object_set_new(colours, col, json_true());
		i++;
	}
	(void)snprintf(key, sizeof(key), "%.2f", units);
	*checks = json_pack("{s:I, s:I, s:b, s:I, s:I, s:b, s:f, s:O, s:b}",
	    "total_hours_expected", (json_int_t)total_hours,
	    "total_hours", (json_int_t)hours, "hours_ok", hours == total_hours,
	    "nb_sessions_expected", (json_int_t)nb_sessions,
	    "nb_sessions", (json_int_t)json_array_size(sessions),
	    "sessions_ok", (long long)json_array_size(sessions) == nb_sessions,
	    "total_units", strtod(key, NULL),
	    "total_units_expected", total_units != NULL ? total_units :
	    json_null(),
	    "units_ok", total_units == NULL || json_is_null(total_units) ||
	    (units - json_number_value(total_units) < 0.01 &&
	    json_number_value(total_units) - units < 0.01));
	if (*checks == NULL)
		err = rl_error_set(e, RL_ENOMEM, "out of memory");
out:
	json_decref(all);
	json_decref(colours);
	return err;
}

enum rl_err
rl_grille_task(struct rl_task *t, json_t **result, struct rl_error *e)
{
	struct rl_gen		 g;
	struct rl_schema	*schema = NULL;
	json_t			*ctx = NULL, *settings = NULL, *sj = NULL;
	json_t			*data = NULL, *checks = NULL, *grid;
	const json_t		*units;
	const char		*p[1];
	char			 pid[32], *prompt = NULL, url[128];
	long long		 programme_id, hours, nsess;
	enum rl_err		 err;

	memset(&g, 0, sizeof(g));
	*result = NULL;
	if ((err = payload_id(t->payload, "programme_id", &programme_id, e)) !=
	    RL_OK)
		goto out;
	hours = json_integer_value(json_object_get(t->payload, "total_hours"));
	nsess = json_integer_value(json_object_get(t->payload, "nb_sessions"));
	units = json_object_get(t->payload, "total_units");
	if (hours <= 0 || nsess <= 0) {
		err = rl_error_set(e, RL_EINVAL, "Le nombre d'heures et le "
		    "nombre de sessions doivent être positifs.");
		goto out;
	}
	(void)snprintf(pid, sizeof(pid), "%lld", programme_id);
	p[0] = pid;
	if ((err = rl_db_json("SELECT json_build_object("
	    "'programme', json_build_object('id', p.id, 'nom', p.nom), "
	    "'competences', coalesce((SELECT json_agg(json_build_object("
	    "'code', k.code, 'nom', k.nom) ORDER BY k.code, k.id) "
	    "FROM competences k WHERE " SQL_PROGRAMME_COMPETENCES("k")
	    "), '[]')) FROM programmes p WHERE p.id = $1::bigint", 1, p, &ctx,
	    e)) != RL_OK)
		goto out;
	if (json_is_null(ctx)) {
		err = rl_error_set(e, RL_ENOTFOUND, "Programme introuvable.");
		goto out;
	}
	if ((err = rl_generation_settings("grille", t->payload, &settings,
	    e)) != RL_OK)
		goto out;
	if ((sj = rl_grille_schema_json()) == NULL ||
	    (data = json_pack("{s:O, s:I, s:O, s:I, s:s, s:O}", "programme",
	    json_object_get(ctx, "programme"), "total_hours",
	    (json_int_t)hours, "total_units", units != NULL ? units :
	    json_null(), "nb_sessions", (json_int_t)nsess, "additional_info",
	    json_string_value(json_object_get(t->payload,
	    "additional_info")) != NULL ? json_string_value(json_object_get(
	    t->payload, "additional_info")) : "", "competences",
	    json_object_get(ctx, "competences"))) == NULL ||
	    (prompt = build_prompt(GRILLE_INSTRUCTIONS, data, NULL)) == NULL) {
		err = rl_error_set(e, RL_ENOMEM, "out of memory");
		goto out;
	}
	g.user_id = t->user_id;
	g.feature = "generate_programme_grille";
	g.task = t;
	g.message = "Génération de la grille de cours en cours...";
	rl_gen_settings(&g, settings);
	g.prompt = prompt;
	if ((err = rl_gen_run_schema(&g, sj, "GrilleResponse", &schema,
	    e)) != RL_OK)
		goto out;
	grid = g.result;
	if ((err = normalise(grid, hours, nsess, units, &checks, e)) != RL_OK)
		goto out;
	(void)snprintf(url, sizeof(url), "/programme/%lld/grille/review/%s",
	    programme_id, t->id);
	if (g.reasoning != NULL)
		(void)json_object_set_new(grid, "reasoning_summary",
		    json_string(g.reasoning));
	(void)json_object_set(grid, "checks", checks);
	if ((*result = json_pack("{s:s, s:O, s:o, s:s, s:I, s:b}",
	    "status", "success", "result", grid, "usage", usage_json(&g),
	    "validation_url", url, "programme_id", (json_int_t)programme_id,
	    "preview", 1)) == NULL)
		err = rl_error_set(e, RL_ENOMEM, "out of memory");
out:
	rl_gen_free(&g);
	rl_schema_free(schema);
	free(prompt);
	json_decref(ctx);
	json_decref(settings);
	json_decref(sj);
	json_decref(data);
	json_decref(checks);
	return err;
}

/* An id member given as an integer or a string of digits. */
static long long
int_member(const json_t *o, const char *k)
{
	const json_t	*v = json_object_get(o, k);
	const char	*s;
	char		*end;
	long long	 n;

	if (json_is_integer(v))
		return json_integer_value(v);
	if ((s = json_string_value(v)) == NULL || *s == '\0')
		return 0;
	n = strtoll(s, &end, 10);
	return *end == '\0' ? n : 0;
}

enum rl_err
rl_links_apply(long long programme_id, const json_t *links, json_t **answer,
    struct rl_error *e)
{
	struct rl_dbres	*res = NULL;
	json_t		*clean = NULL, *l;
	const char	*p[2], *ty;
	char		 pid[32], *lj = NULL, field[64];
	long long	 cid, kid, bad;
	size_t		 i, j;
	enum rl_err	 err;
	int		 began = 0;

	*answer = NULL;
	if (!json_is_array(links))
		return rl_error_field(e, RL_EINVAL, "links", "Une liste de "
		    "liens {cours_id, competence_id, type} est attendue.");
	if (json_array_size(links) > RL_LINKS_MAX)
		return rl_error_field(e, RL_EINVAL, "links", "Au plus %d "
		    "liens.", RL_LINKS_MAX);
	if ((clean = json_array()) == NULL)
		return rl_error_set(e, RL_ENOMEM, "out of memory");
	json_array_foreach(links, i, l) {
		cid = int_member(l, "cours_id");
		kid = int_member(l, "competence_id");
		ty = json_string_value(json_object_get(l, "type"));
		for (j = 0; ty != NULL && j < NLINKTYPES; j++)
			if (strcmp(ty, linktypes[j].type) == 0)
				break;
		(void)snprintf(field, sizeof(field), "links[%zu].%s", i,
		    cid <= 0 ? "cours_id" : kid <= 0 ? "competence_id" :
		    "type");
		if (cid <= 0 || kid <= 0 || ty == NULL || j == NLINKTYPES) {
			err = rl_error_field(e, RL_EINVAL, field, "Lien "
			    "invalide : cours_id, competence_id (entiers) et "
			    "type (developpe, atteint ou reinvesti) sont "
			    "requis.");
			goto out;
		}
		(void)json_array_append_new(clean, json_pack("{s:I, s:I, s:s}",
		    "c", (json_int_t)cid, "k", (json_int_t)kid, "s",
		    linktypes[j].status));
	}
	(void)snprintf(pid, sizeof(pid), "%lld", programme_id);
	if ((lj = json_dumps(clean, JSON_COMPACT)) == NULL) {
		err = rl_error_set(e, RL_ENOMEM, "out of memory");
		goto out;
	}
	p[0] = pid;
	p[1] = lj;
	/* The first link whose course or compétence is not the programme's. */
	if ((err = rl_db_exec("SELECT coalesce(min(x.i), 0) FROM "
	    "json_array_elements($2::json) WITH ORDINALITY AS x(v, i) "
	    "WHERE (x.v->>'c')::bigint NOT IN (SELECT cp.cours_id "
	    "FROM cours_programme cp WHERE cp.programme_id = $1::bigint) "
	    "OR (x.v->>'k')::bigint NOT IN (SELECT k.id FROM competences k "
	    "WHERE " SQL_PROGRAMME_COMPETENCES("k") ")", 2, p, &res, e)) !=
	    RL_OK)
		goto out;
	bad = strtoll(rl_dbres_get(res, 0, 0), NULL, 10);
	rl_dbres_free(res);
	res = NULL;
	if (bad > 0) {
		(void)snprintf(field, sizeof(field), "links[%lld]", bad - 1);
		err = rl_error_field(e, RL_EINVAL, field, "Ce cours ou cette "
		    "compétence n'appartient pas au programme.");
		goto out;
	}
	if ((err = rl_db_begin(e)) != RL_OK)
		goto out;
	began = 1;
	/*
	 * EDxo's overwrite: statuses of pairs no longer linked go, then each
	 * linked pair's elements get the link's status (the last link of a
	 * pair wins, as EDxo's loop had it).
	 */
	if ((err = rl_db_exec("DELETE FROM element_competence_par_cours e "
	    "USING element_competence el WHERE "
	    "e.element_competence_id = el.id AND e.cours_id IN "
	    "(SELECT cp.cours_id FROM cours_programme cp "
	    "WHERE cp.programme_id = $1::bigint) AND el.competence_id IN "
	    "(SELECT k.id FROM competences k WHERE "
	    SQL_PROGRAMME_COMPETENCES("k") ") AND (e.cours_id, "
	    "el.competence_id) NOT IN (SELECT (x->>'c')::bigint, "
	    "(x->>'k')::bigint FROM json_array_elements($2::json) x)", 2, p,
	    &res, e)) != RL_OK)
		goto out;
	rl_dbres_free(res);
	res = NULL;
	if ((err = rl_db_exec("INSERT INTO element_competence_par_cours "
	    "(cours_id, element_competence_id, status) "
	    "SELECT DISTINCT ON (l.c, el.id) l.c, el.id, l.s FROM "
	    "(SELECT (x.v->>'c')::bigint AS c, (x.v->>'k')::bigint AS k, "
	    "x.v->>'s' AS s, x.i FROM json_array_elements($2::json) "
	    "WITH ORDINALITY AS x(v, i)) l "
	    "JOIN element_competence el ON el.competence_id = l.k "
	    "WHERE $1::bigint IS NOT NULL "
	    "ORDER BY l.c, el.id, l.i DESC "
	    "ON CONFLICT (cours_id, element_competence_id) "
	    "DO UPDATE SET status = EXCLUDED.status", 2, p, &res, e)) !=
	    RL_OK)
		goto out;
	if ((err = rl_db_commit(e)) != RL_OK)
		goto out;
	began = 0;
	if ((*answer = json_pack("{s:b, s:I, s:I, s:s}", "ok", 1, "updated",
	    (json_int_t)rl_dbres_affected(res), "pairs",
	    (json_int_t)json_array_size(clean), "message",
	    "Logigramme enregistré.")) == NULL)
		err = rl_error_set(e, RL_ENOMEM, "out of memory");
out:
	if (began)
		rl_db_rollback();
	rl_dbres_free(res);
	free(lj);
	json_decref(clean);
	return err;
}

/* One statement returning one value, copied to buf. */
static enum rl_err
exec1(const char *sql, int n, const char *const *p, char *buf,
    size_t bufsz, struct rl_error *e)
{
	struct rl_dbres	*res = NULL;
	enum rl_err	 err;

	if ((err = rl_db_exec(sql, n, p, &res, e)) != RL_OK)
		return err;
	if (rl_dbres_rows(res) < 1)
		err = rl_error_set(e, RL_EDB, "no row returned");
	else
		(void)snprintf(buf, bufsz, "%s", rl_dbres_get(res, 0, 0));
	rl_dbres_free(res);
	return err;
}

/* Validate grid against the grille schema; the first error names where. */
static enum rl_err
grid_valid(const json_t *grid, json_t **valid, struct rl_error *e)
{
	struct rl_schema	*s = NULL;
	json_t			*sj, *errs = NULL, *first;
	char			*loc = NULL;
	enum rl_err		 err;

	if ((sj = rl_grille_schema_json()) == NULL)
		return rl_error_set(e, RL_EINTERNAL, "grille schema missing");
	if ((s = rl_schema_compile(sj, RL_SCHEMA_LAX, e)) == NULL) {
		json_decref(sj);
		return e->code;
	}
	err = rl_schema_validate(s, (json_t *)(uintptr_t)grid, valid, &errs,
	    e);
	if (err == RL_EVALIDATION && (first = json_array_get(errs, 0)) !=
	    NULL) {
		loc = json_dumps(json_object_get(first, "loc"), JSON_COMPACT);
		(void)rl_error_field(e, RL_EVALIDATION, "grid", "Grille "
		    "invalide : %s à %s",
		    json_string_value(json_object_get(first, "msg")),
		    loc != NULL ? loc : "?");
	}
	free(loc);
	json_decref(errs);
	rl_schema_free(s);
	json_decref(sj);
	return err;
}

/*
 * The one grille writer (rl_grille_write): a generated grid and an
 * imported one are the same rows, so they are written by the same code.
 * A course's key, the name the grid's préalables, corequis and fils use
 * for it, is its code when it has one (an imported grille names courses
 * by code), else its name (a generated one names them by name).
 */
static const char *
course_key(const json_t *c)
{
	const char	*k;

	if ((k = json_string_value(json_object_get(c, "code"))) == NULL &&
	    (k = json_string_value(json_object_get(c, "nom"))) == NULL)
		k = "";
	return k;
}

/* The id a query returns, or 0 when it returns no row. */
static enum rl_err
find_id(const char *sql, int n, const char *const *p, long long *id,
    struct rl_error *e)
{
	struct rl_dbres	*res = NULL;
	enum rl_err	 err;

	*id = 0;
	if ((err = rl_db_exec(sql, n, p, &res, e)) == RL_OK &&
	    rl_dbres_rows(res) > 0 && !rl_dbres_isnull(res, 0, 0))
		*id = strtoll(rl_dbres_get(res, 0, 0), NULL, 10);
	rl_dbres_free(res);
	return err;
}

/*
 * One course: with a code, the programme's course of that code (or the
 * one this grid already wrote) is updated, else created; without, it is
 * created under the next generated code.  Then it is placed in its
 * session, and recorded in keys (the first course of a key is the one
 * named) and in out.
 */
static enum rl_err
write_course(const char *pid, const char *prefix, long long *next,
    long long session, const json_t *c, json_t *keys, json_t *out,
    struct rl_error *e)
{
	const char	*code = json_string_value(json_object_get(c, "code"));
	const char	*nom = json_string_value(json_object_get(c, "nom"));
	const char	*p[6];
	char		 gen[160], id[32], sess[24], units[32];
	char		 ht[24], hl[24], hm[24];
	long long	 found = 0;
	int		 created;
	enum rl_err	 err;

	(void)snprintf(ht, sizeof(ht), "%lld", (long long)json_integer_value(
	    json_object_get(c, "heures_theorie")));
	(void)snprintf(hl, sizeof(hl), "%lld", (long long)json_integer_value(
	    json_object_get(c, "heures_laboratoire")));
	(void)snprintf(hm, sizeof(hm), "%lld", (long long)json_integer_value(
	    json_object_get(c, "heures_travail_maison")));
	(void)snprintf(units, sizeof(units), "%.2f", json_number_value(
	    json_object_get(c, "nombre_unites")));
	(void)snprintf(sess, sizeof(sess), "%lld", session);
	if (code != NULL) {
		p[0] = pid;
		p[1] = code;
		if ((found = int_member(json_object_get(keys, code), "id")) ==
		    0 && (err = find_id("SELECT c.id FROM cours c JOIN "
		    "cours_programme cp ON cp.cours_id = c.id WHERE "
		    "cp.programme_id = $1::bigint AND c.code = $2 ORDER BY "
		    "c.id LIMIT 1", 2, p, &found, e)) != RL_OK)
			return err;
	} else {
		(void)snprintf(gen, sizeof(gen), "%s-%03lld", prefix,
		    ++*next);
		code = gen;
	}
	p[1] = nom;
	p[2] = ht;
	p[3] = hl;
	p[4] = hm;
	p[5] = units;
	if ((created = found == 0)) {
		p[0] = code;
		err = exec1("INSERT INTO cours (code, nom, heures_theorie, "
		    "heures_laboratoire, heures_travail_maison, "
		    "nombre_unites) VALUES ($1, $2, $3::integer, $4::integer, "
		    "$5::integer, $6::numeric) RETURNING id", 6, p, id,
		    sizeof(id), e);
	} else {
		(void)snprintf(id, sizeof(id), "%lld", found);
		p[0] = id;
		err = rl_db_exec("UPDATE cours SET nom = $2, heures_theorie = "
		    "$3::integer, heures_laboratoire = $4::integer, "
		    "heures_travail_maison = $5::integer, nombre_unites = "
		    "$6::numeric WHERE id = $1::bigint", 6, p, NULL, e);
	}
	if (err != RL_OK)
		return err;
	p[0] = id;
	p[1] = pid;
	p[2] = sess;
	if ((err = rl_db_exec("INSERT INTO cours_programme (cours_id, "
	    "programme_id, session) VALUES ($1::bigint, $2::bigint, "
	    "$3::integer) ON CONFLICT (cours_id, programme_id) DO UPDATE "
	    "SET session = EXCLUDED.session", 3, p, NULL, e)) != RL_OK)
		return err;
	if ((json_object_get(keys, course_key(c)) == NULL &&
	    json_object_set_new(keys, course_key(c), json_pack("{s:I, s:I}",
	    "id", (json_int_t)strtoll(id, NULL, 10), "session",
	    (json_int_t)session)) == -1) ||
	    json_array_append_new(out, json_pack("{s:I, s:s, s:s, s:I, s:b}",
	    "id", (json_int_t)strtoll(id, NULL, 10), "code", code, "nom", nom,
	    "session", (json_int_t)session, "created", created)) == -1)
		return rl_error_set(e, RL_ENOMEM, "out of memory");
	return RL_OK;
}

/*
 * Préalables and corequis of one course, between courses of the grid (a
 * key outside it, or the course itself, is skipped).  RL_GRILLE_ORDERED
 * keeps EDxo's validated order for generated grids: at most
 * RL_GRILLE_MAX_PREALABLES préalables, each from an earlier session, and
 * corequis from the same one; an imported grille is the programme's
 * document and is taken as written.  A préalable {cours, note} carries
 * its minimum grade.
 */
static enum rl_err
write_links(const json_t *c, long long session, const json_t *keys,
    unsigned int flags, long long *npre, long long *ncor,
    struct rl_error *e)
{
	const json_t	*me, *other, *v, *ref;
	const char	*p[3], *k;
	char		 a[32], b[32], note[32];
	size_t		 i;
	int		 ordered = (flags & RL_GRILLE_ORDERED) != 0;
	enum rl_err	 err;

	me = json_object_get(keys, course_key(c));
	(void)snprintf(a, sizeof(a), "%lld", int_member(me, "id"));
	p[0] = a;
	p[1] = b;
	json_array_foreach(json_object_get(c, "prealables"), i, v) {
		if (ordered && i >= RL_GRILLE_MAX_PREALABLES)
			break;
		ref = json_is_object(v) ? json_object_get(v, "cours") : v;
		k = json_string_value(ref);
		other = json_object_get(keys, k != NULL ? k : "");
		if (other == NULL || other == me || (ordered &&
		    int_member(other, "session") >= session))
			continue;
		(void)snprintf(b, sizeof(b), "%lld", int_member(other, "id"));
		(void)snprintf(note, sizeof(note), "%lld", (long long)
		    json_integer_value(json_object_get(v, "note")));
		p[2] = json_is_integer(json_object_get(v, "note")) ? note :
		    NULL;
		if ((err = rl_db_exec("INSERT INTO cours_prealable (cours_id, "
		    "cours_prealable_id, note_necessaire) VALUES ($1::bigint, "
		    "$2::bigint, $3::integer) ON CONFLICT (cours_id, "
		    "cours_prealable_id) DO UPDATE SET note_necessaire = "
		    "EXCLUDED.note_necessaire", 3, p, NULL, e)) != RL_OK)
			return err;
		(*npre)++;
	}
	json_array_foreach(json_object_get(c, "corequis"), i, v) {
		k = json_string_value(v);
		other = json_object_get(keys, k != NULL ? k : "");
		if (other == NULL || other == me || (ordered &&
		    int_member(other, "session") != session))
			continue;
		(void)snprintf(b, sizeof(b), "%lld", int_member(other, "id"));
		if ((err = rl_db_exec("INSERT INTO cours_corequis (cours_id, "
		    "cours_corequis_id) VALUES ($1::bigint, $2::bigint) "
		    "ON CONFLICT (cours_id, cours_corequis_id) DO NOTHING", 2,
		    p, NULL, e)) != RL_OK)
			return err;
		(*ncor)++;
	}
	return RL_OK;
}

/* Fils conducteurs of the programme, and their courses. */
static enum rl_err
write_fils(const char *pid, const json_t *grid, const json_t *keys,
    struct rl_error *e)
{
	const json_t	*f, *v, *c;
	const char	*p[3], *col;
	char		 fid[32], cid[32];
	size_t		 i, j, n = 0;
	enum rl_err	 err;

	json_array_foreach(json_object_get(grid, "fils_conducteurs"), i, f) {
		col = json_string_value(json_object_get(f, "couleur"));
		p[0] = pid;
		p[1] = json_string_value(json_object_get(f, "description"));
		p[2] = is_colour(col) ? col : palette[n % NPALETTE];
		n++;
		if ((err = exec1("INSERT INTO fil_conducteur (programme_id, "
		    "description, couleur) VALUES ($1::bigint, $2, $3) "
		    "RETURNING id", 3, p, fid, sizeof(fid), e)) != RL_OK)
			return err;
		json_array_foreach(json_object_get(f, "cours"), j, v) {
			if (json_string_value(v) == NULL || (c =
			    json_object_get(keys, json_string_value(v))) ==
			    NULL)
				continue;
			(void)snprintf(cid, sizeof(cid), "%lld",
			    int_member(c, "id"));
			p[0] = fid;
			p[1] = cid;
			if ((err = rl_db_exec("UPDATE cours SET "
			    "fil_conducteur_id = $1::bigint WHERE id = "
			    "$2::bigint", 2, p, NULL, e)) != RL_OK)
				return err;
		}
	}
	return RL_OK;
}

enum rl_err
rl_grille_write(long long programme_id, unsigned int flags,
    const json_t *grid, json_t **written, struct rl_error *e)
{
	const json_t	*s, *c;
	json_t		*keys = NULL, *out = NULL;
	const char	*p[2];
	char		 pid[32], prefix[128], next[32], *list = NULL;
	long long	 n = 0, npre = 0, ncor = 0;
	size_t		 i, j;
	int		 began = 0, gen = 0;
	enum rl_err	 err;

	*written = NULL;
	json_array_foreach(json_object_get(grid, "sessions"), i, s)
		json_array_foreach(json_object_get(s, "courses"), j, c)
			gen |= json_object_get(c, "code") == NULL;
	if ((keys = json_object()) == NULL || (out = json_array()) == NULL) {
		err = rl_error_set(e, RL_ENOMEM, "out of memory");
		goto out;
	}
	(void)snprintf(pid, sizeof(pid), "%lld", programme_id);
	p[0] = pid;
	/* Generated codes: the ministry code, else P<id>, then -NNN. */
	if ((err = exec1("SELECT coalesce(pm.code, 'P' || p.id) "
	    "FROM programmes p LEFT JOIN programmes_ministeriels pm "
	    "ON pm.id = p.programme_ministeriel_id WHERE p.id = $1::bigint",
	    1, p, prefix, sizeof(prefix), e)) != RL_OK) {
		if (err == RL_EDB)
			err = rl_error_set(e, RL_ENOTFOUND,
			    "Programme introuvable.");
		goto out;
	}
	if ((err = rl_db_begin(e)) != RL_OK)
		goto out;
	began = 1;
	p[0] = prefix;
	(void)snprintf(next, sizeof(next), "0");
	/* Two writes with one prefix must not hand out the same codes. */
	if (gen && ((err = rl_db_exec("SELECT pg_advisory_xact_lock(hashtext("
	    "'relais.grille:' || $1::text))", 1, p, NULL, e)) != RL_OK ||
	    (err = exec1("SELECT coalesce(max(substring(code FROM "
	    "length($1::text) + 2)::bigint), 0) FROM cours WHERE "
	    "left(code, length($1::text) + 1) = $1::text || '-' AND "
	    "substring(code FROM length($1::text) + 2) ~ '^[0-9]{1,9}$'",
	    1, p, next, sizeof(next), e)) != RL_OK))
		goto out;
	n = strtoll(next, NULL, 10);
	json_array_foreach(json_object_get(grid, "sessions"), i, s)
		json_array_foreach(json_object_get(s, "courses"), j, c)
			if ((err = write_course(pid, prefix, &n,
			    json_integer_value(json_object_get(s, "session")),
			    c, keys, out, e)) != RL_OK)
				goto out;
	/* The programme's courses are now those the grid just placed. */
	if (flags & RL_GRILLE_OVERWRITE) {
		if ((list = json_dumps(out, JSON_COMPACT)) == NULL) {
			err = rl_error_set(e, RL_ENOMEM, "out of memory");
			goto out;
		}
		p[0] = pid;
		p[1] = list;
		if ((err = rl_db_exec("DELETE FROM cours_programme WHERE "
		    "programme_id = $1::bigint AND cours_id NOT IN (SELECT "
		    "(x->>'id')::bigint FROM json_array_elements($2::json) x)",
		    2, p, NULL, e)) != RL_OK)
			goto out;
	}
	json_array_foreach(json_object_get(grid, "sessions"), i, s)
		json_array_foreach(json_object_get(s, "courses"), j, c)
			if ((err = write_links(c, json_integer_value(
			    json_object_get(s, "session")), keys, flags, &npre,
			    &ncor, e)) != RL_OK)
				goto out;
	if ((err = write_fils(pid, grid, keys, e)) != RL_OK ||
	    (err = rl_db_commit(e)) != RL_OK)
		goto out;
	began = 0;
	if ((*written = json_pack("{s:O, s:I, s:I}", "cours", out,
	    "prealables", (json_int_t)npre, "corequis", (json_int_t)ncor)) ==
	    NULL)
		err = rl_error_set(e, RL_ENOMEM, "out of memory");
out:
	if (began)
		rl_db_rollback();
	free(list);
	json_decref(keys);
	json_decref(out);
	return err;
}

/*
 * What the schema cannot say but the tables require: a course has a
 * name, and hours and units a course can have.
 */
static enum rl_err
courses_sane(const json_t *s, size_t si, struct rl_error *e)
{
	static const char *const hk[] = {
		"heures_theorie", "heures_laboratoire", "heures_travail_maison",
		"nombre_unites"
	};
	const json_t	*c;
	const char	*nom;
	char		 where[96];
	size_t		 j, k;

	json_array_foreach(json_object_get(s, "courses"), j, c) {
		nom = json_string_value(json_object_get(c, "nom"));
		(void)snprintf(where, sizeof(where),
		    "grid.sessions[%zu].courses[%zu]", si, j);
		if (nom == NULL || nom[strspn(nom, " \t\n")] == '\0')
			return rl_error_field(e, RL_EINVAL, where, "Un cours "
			    "sans nom ne peut pas être créé.");
		for (k = 0; k < sizeof(hk) / sizeof(hk[0]); k++)
			if (json_number_value(json_object_get(c, hk[k])) >
			    RL_GRILLE_WEEK_HOURS_MAX)
				return rl_error_field(e, RL_EINVAL, where,
				    "%s : au plus %d.", hk[k],
				    RL_GRILLE_WEEK_HOURS_MAX);
	}
	return RL_OK;
}

/*
 * The generation's front to the writer: the mode, the grid checked
 * against the grille schema and the bounds, EDxo's validated order; the
 * answer lists the courses, every one of them created.
 */
enum rl_err
rl_grille_apply(long long programme_id, const char *mode, const json_t *grid,
    json_t **answer, struct rl_error *e)
{
	json_t		*valid = NULL, *written = NULL, *s, *c;
	json_t		*only;
	size_t		 i, n = 0;
	enum rl_err	 err;
	unsigned int	 flags = RL_GRILLE_ORDERED;

	*answer = NULL;
	if (mode == NULL)
		mode = "append";
	if (strcmp(mode, "append") != 0 && strcmp(mode, "overwrite") != 0)
		return rl_error_field(e, RL_EINVAL, "mode", "mode : append ou "
		    "overwrite.");
	if (strcmp(mode, "overwrite") == 0)
		flags |= RL_GRILLE_OVERWRITE;
	if (!json_is_object(grid))
		return rl_error_field(e, RL_EINVAL, "grid", "grid {sessions, "
		    "fils_conducteurs} est requis.");
	/*
	 * A task's grid carries reasoning_summary and checks next to the
	 * two members the schema knows: only those two are applied.
	 */
	if ((only = json_pack("{s:O?, s:O?}", "sessions", json_object_get(grid,
	    "sessions"), "fils_conducteurs", json_object_get(grid,
	    "fils_conducteurs"))) == NULL)
		return rl_error_set(e, RL_ENOMEM, "out of memory");
	err = grid_valid(only, &valid, e);
	json_decref(only);
	if (err != RL_OK)
		return err;
	json_array_foreach(json_object_get(valid, "sessions"), i, s) {
		n += json_array_size(json_object_get(s, "courses"));
		if ((err = courses_sane(s, i, e)) != RL_OK)
			goto out;
	}
	if (n > RL_GRILLE_MAX_COURSES || json_array_size(json_object_get(valid,
	    "sessions")) > RL_GRILLE_MAX_SESSIONS ||
	    json_array_size(json_object_get(valid, "fils_conducteurs")) >
	    RL_GRILLE_MAX_FILS) {
		err = rl_error_field(e, RL_EINVAL, "grid", "Grille trop "
		    "grande : au plus %d sessions, %d cours et %d fils "
		    "conducteurs.", RL_GRILLE_MAX_SESSIONS,
		    RL_GRILLE_MAX_COURSES, RL_GRILLE_MAX_FILS);
		goto out;
	}
	if ((err = rl_grille_write(programme_id, flags, valid, &written, e)) !=
	    RL_OK)
		goto out;
	json_array_foreach(json_object_get(written, "cours"), i, c)
		(void)json_object_del(c, "created");
	if ((*answer = json_pack("{s:b, s:O, s:s}", "ok", 1, "created",
	    json_object_get(written, "cours"), "mode", mode)) == NULL)
		err = rl_error_set(e, RL_ENOMEM, "out of memory");
out:
	json_decref(valid);
	json_decref(written);
	return err;
}
