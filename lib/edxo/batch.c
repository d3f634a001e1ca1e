/*
 * batch.c: generation through OpenAI's Batch API (batch.h,
 * docs/internals/batch.md).
 *
 * One line per (plan, section), its body exactly the synchronous
 * request (rl_pdc_gen_for / rl_plancadre_gen_for fill the same struct
 * rl_gen, rl_gen_batch_body drops only "stream").  Each line has a
 * preview task, created at launch in PROGRESS without a lease (the worker
 * never claims it, the reaper never takes it), and a credit hold
 * attached to that task (the sweep leaves holds of running tasks
 * alone).  Collect finishes each task with the synchronous result shape,
 * so the review and apply routes take it as they take the worker's.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "batch.h"
#include "bounds.h"
#include "conf.h"
#include "credits.h"
#include "db.h"
#include "gen.h"
#include "log.h"
#include "models.h"
#include "openai.h"
#include "pdc.h"
#include "plancadre.h"
#include "worker.h"

/* The statuses after which OpenAI does nothing more with a batch. */
#define SQL_ENDED	"('completed', 'failed', 'expired', 'cancelled')"

/* B of the contract, for the batch row "b". */
#define SQL_B								\
	"json_build_object('id', b.id, 'kind', b.kind, 'model', b.model, " \
	"'status', b.status, 'openai_batch_id', b.openai_batch_id, "	\
	"'total', b.total, 'completed', b.completed, 'failed', b.failed, " \
	"'progress_pct', CASE WHEN b.status IN ('completed', "		\
	"'collected') THEN 100 WHEN b.total = 0 THEN 0 ELSE "		\
	"round(100.0 * (b.completed + b.failed) / b.total, 1) END, "	\
	"'eta_seconds', CASE WHEN b.status IN ('validating', "		\
	"'in_progress', 'finalizing') AND b.started_at IS NOT NULL "	\
	"AND b.completed + b.failed > 0 AND b.total > b.completed + "	\
	"b.failed THEN ceil(extract(epoch FROM now() - b.started_at) * " \
	"(b.total - b.completed - b.failed) / (b.completed + "		\
	"b.failed))::bigint END, "					\
	"'parent_id', b.parent_id, 'reserved_micro', b.reserved_micro, " \
	"'settled_micro', b.settled_micro, 'created_at', b.created_at, " \
	"'updated_at', b.updated_at, 'completed_at', b.completed_at, "	\
	"'sections', coalesce((SELECT json_agg(DISTINCT s.section) "	\
	"FROM gen_batch_items s WHERE s.batch_id = b.id), '[]'))"

/* A plan de cours' two generated lists, after its fields. */
static const char *const pdc_lists[] = { "calendriers", "evaluations" };
#define NPDC_LISTS	(sizeof(pdc_lists) / sizeof(pdc_lists[0]))

/* One line being launched. */
struct line {
	long long	 plan_id;
	const char	*section;
	char		 custom_id[128];
	const char	*task_name;
	json_t		*payload;	/* the preview task's */
	char		 model[64];
	long long	 bound;		/* at the batch price */
	char		 task_id[37];
};

/*
 * The plan the lines before loaded: a plan's sections come one after the
 * other, and each would read the same plan again (a query per section).
 */
struct plan_memo {
	int		 loaded;
	long long	 plan_id;
	struct rl_pdc	 p;
};

/* Everything one line's generation needs, either kind. */
struct one {
	int			 pc;
	struct rl_plancadre_gen	 pg;
	struct rl_pdc		 p;
	struct rl_pdc_prompt	 pp;
	struct rl_gen		 g;
	enum rl_pdc_kind	 k;
	const char		*field;
};

static const char *
str(const json_t *o, const char *key)
{

	return json_string_value(json_object_get(o, key));
}

int
rl_batch_kind_ok(const char *kind)
{

	return kind != NULL && (strcmp(kind, RL_BATCH_KIND_PC) == 0 ||
	    strcmp(kind, RL_BATCH_KIND_PDC) == 0);
}

const char *
rl_batch_section(const char *kind, size_t i)
{

	if (strcmp(kind, RL_BATCH_KIND_PC) == 0)
		return rl_plancadre_target(i);
	if (i < rl_pdc_nfields)
		return rl_pdc_fields[i];
	i -= rl_pdc_nfields;
	return i < NPDC_LISTS ? pdc_lists[i] : NULL;
}

int
rl_batch_section_ok(const char *kind, const char *section)
{
	size_t	 i;

	if (!rl_batch_kind_ok(kind) || section == NULL)
		return 0;
	if (strcmp(kind, RL_BATCH_KIND_PC) == 0)
		return rl_plancadre_target_valid(section);
	if (rl_pdc_field_ok(section))
		return 1;
	for (i = 0; i < NPDC_LISTS; i++)
		if (strcmp(section, pdc_lists[i]) == 0)
			return 1;
	return 0;
}

static struct rl_gen *
one_gen(struct one *o)
{

	return o->pc ? &o->pg.g : &o->g;
}

static void
one_free(struct one *o)
{

	if (o->pc)
		rl_plancadre_gen_free(&o->pg);
	else {
		rl_gen_free(&o->g);
		rl_pdc_prompt_free(&o->pp);
		rl_pdc_free(&o->p);
	}
	memset(o, 0, sizeof(*o));
}

/* The plan-de-cours kind of a section, and its field (or NULL). */
static enum rl_pdc_kind
pdc_kind(const char *section, const char **field)
{

	*field = NULL;
	if (strcmp(section, "calendriers") == 0)
		return RL_PDC_CALENDAR;
	if (strcmp(section, "evaluations") == 0)
		return RL_PDC_EVALUATIONS;
	*field = section;
	return RL_PDC_FIELD;
}

/*
 * Fill o for the preview task payload (the shape the synchronous task
 * takes), as the task would: the plan-de-cours prompt comes rendered in
 * the payload, the plan-cadre one is rendered from it.
 */
static enum rl_err
one_from_payload(struct one *o, int pc, long long user_id,
    const json_t *payload, const char *section, struct rl_error *e)
{
	long long	 plan_id;
	enum rl_err	 err;

	memset(o, 0, sizeof(*o));
	o->pc = pc;
	plan_id = json_integer_value(json_object_get(payload, "plan_id"));
	if (pc)
		return rl_plancadre_gen_for(user_id, plan_id, payload, &o->pg,
		    e);
	o->k = pdc_kind(section, &o->field);
	if ((err = rl_pdc_prompt_from(json_object_get(payload, "prompt"),
	    &o->pp, e)) != RL_OK)
		return err;
	return rl_pdc_gen_for(o->k, 0, &o->pp, user_id, NULL, NULL, &o->g, e);
}

/* The synchronous payload of one line: what its task would be given. */
static enum rl_err
payload_of(const char *kind, long long user_id, long long plan_id,
    const char *section, const json_t *opt, struct plan_memo *pm,
    struct line *l, struct rl_error *e)
{
	struct rl_pdc_input	 in;
	struct rl_pdc_prompt	 pp;
	const char		*field, *v;
	enum rl_err		 err;

	if (strcmp(kind, RL_BATCH_KIND_PC) == 0) {
		v = str(opt, "mode");
		l->task_name = RL_TASK_PLAN_CADRE;
		l->payload = json_pack("{s:I, s:s, s:[s]}", "plan_id",
		    (json_int_t)plan_id, "mode", v != NULL ? v : "generate",
		    "target_columns", section);
		if (l->payload == NULL)
			return rl_error_set(e, RL_ENOMEM, "out of memory");
		if ((v = str(opt, "additional_info")) != NULL)
			(void)json_object_set_new(l->payload,
			    "additional_info", json_string(v));
		if ((v = str(opt, "model")) != NULL)
			(void)json_object_set_new(l->payload, "model",
			    json_string(v));
		if ((v = str(opt, "reasoning_effort")) != NULL)
			(void)json_object_set_new(l->payload,
			    "reasoning_effort", json_string(v));
		if ((v = str(opt, "verbosity")) != NULL)
			(void)json_object_set_new(l->payload, "verbosity",
			    json_string(v));
		return RL_OK;
	}
	memset(&in, 0, sizeof(in));
	in.kind = pdc_kind(section, &field);
	in.field = field;
	in.additional_info = str(opt, "additional_info");
	in.ai_model = str(opt, "model");
	in.effort = str(opt, "reasoning_effort");
	in.verbosity = str(opt, "verbosity");
	if (!pm->loaded || pm->plan_id != plan_id) {
		if (pm->loaded)
			rl_pdc_free(&pm->p);
		pm->loaded = 0;
		if ((err = rl_pdc_load(user_id, 1, plan_id, 0, NULL, &pm->p,
		    e)) != RL_OK)
			return err;
		pm->loaded = 1;
		pm->plan_id = plan_id;
	}
	if ((err = rl_pdc_prompt(&pm->p, &in, &pp, e)) == RL_OK &&
	    in.ai_model != NULL && in.ai_model[0] != '\0') {
		/*
		 * A field's prompt row names its model and the synchronous
		 * path keeps it; a batch has one model for every line, so
		 * the launch's choice wins.
		 */
		free(pp.model);
		if ((pp.model = strdup(in.ai_model)) == NULL) {
			rl_pdc_prompt_free(&pp);
			err = rl_error_set(e, RL_ENOMEM, "out of memory");
		}
	}
	if (err == RL_OK) {
		l->task_name = rl_pdc_task_name(in.kind);
		l->payload = json_pack("{s:I, s:o}", "plan_id",
		    (json_int_t)plan_id, "prompt", rl_pdc_prompt_json(&pp));
		if (l->payload == NULL)
			err = rl_error_set(e, RL_ENOMEM, "out of memory");
		else if (field != NULL)
			(void)json_object_set_new(l->payload, "field_name",
			    json_string(field));
		rl_pdc_prompt_free(&pp);
	}
	return err;
}

/* The model a generation uses, as rl_gen_run resolves it. */
static enum rl_err
model_of(const struct rl_gen *g, struct rl_model *m, struct rl_error *e)
{

	return rl_model_lookup(g->model != NULL && *g->model != '\0' ?
	    g->model : RL_GEN_DEFAULT_MODEL, m, e);
}

/*
 * The highest cost of a line at the batch price: the synchronous bound
 * (rl_ai_bound's rule: input bound plus the output cap) with the
 * model's batch discount, rounded up as rl_cost_micro rounds.
 */
static long long
batch_bound(const struct rl_model *m, const json_t *body)
{
	long long	 b, pct;

	b = rl_cost_bound(m, rl_oa_tokens_bound(body), json_integer_value(
	    json_object_get(body, "max_output_tokens")));
	pct = 100 - (m->batch_discount_pct > 0 ? (m->batch_discount_pct >=
	    100 ? 100 : m->batch_discount_pct) : 0);
	b = (b * pct + 99) / 100;
	return b < 1 ? 1 : b;
}

/* Render line l into f; its model and bound. */
static enum rl_err
render(const char *kind, long long user_id, struct line *l, FILE *f,
    struct rl_error *e)
{
	struct one	 o;
	struct rl_model	 m;
	json_t		*body = NULL, *jl = NULL;
	enum rl_err	 err;

	if ((err = one_from_payload(&o, strcmp(kind, RL_BATCH_KIND_PC) == 0,
	    user_id, l->payload, l->section, e)) != RL_OK)
		goto out;
	if ((err = model_of(one_gen(&o), &m, e)) != RL_OK)
		goto out;
	if ((body = rl_gen_batch_body(one_gen(&o), &m)) == NULL ||
	    (jl = json_pack("{s:s, s:s, s:s, s:O}", "custom_id",
	    l->custom_id, "method", "POST", "url", RL_BATCH_ENDPOINT,
	    "body", body)) == NULL) {
		err = rl_error_set(e, RL_ENOMEM, "out of memory");
		goto out;
	}
	(void)snprintf(l->model, sizeof(l->model), "%s", m.name);
	l->bound = batch_bound(&m, body);
	if (json_dumpf(jl, f, JSON_COMPACT) == -1 || fputc('\n', f) == EOF)
		err = rl_error_set(e, RL_EIO, "cannot write the batch file");
out:
	json_decref(body);
	json_decref(jl);
	one_free(&o);
	return err;
}

/* The upstream (URL, key) of a user's calls to model. */
static enum rl_err
upstream(const char *model, long long user_id, struct rl_upstream_buf *ub,
    struct rl_error *e)
{
	struct rl_model	 m;
	enum rl_err	 err;

	if ((err = rl_model_lookup(model, &m, e)) != RL_OK)
		return err;
	return rl_model_upstream(&m, user_id, ub, e);
}

/*
 * The launch's one transaction: the batch row, a PROGRESS task, a hold
 * and an item per line.  RL_ECREDITS when a hold does not fit.
 */
static enum rl_err
hold_all(long long user_id, const char *kind, const json_t *opt,
    long long parent_id, struct line *ls, size_t n, long long *id,
    struct rl_error *e)
{
	struct rl_dbres	*r = NULL;
	const char	*p[8];
	char		 uid[32], bid[32], par[32], amt[32], hid[32];
	char		*os = NULL;
	long long	 hold, total = 0;
	size_t		 i;
	enum rl_err	 err;

	(void)snprintf(uid, sizeof(uid), "%lld", user_id);
	(void)snprintf(par, sizeof(par), "%lld", parent_id);
	if ((os = json_dumps(opt, JSON_COMPACT)) == NULL)
		return rl_error_set(e, RL_ENOMEM, "out of memory");
	if ((err = rl_db_begin(e)) != RL_OK)
		goto out;
	p[0] = uid;
	p[1] = kind;
	p[2] = ls[0].model;
	p[3] = parent_id > 0 ? par : NULL;
	p[4] = os;
	if ((err = rl_db_exec("INSERT INTO gen_batches (user_id, kind, "
	    "model, endpoint, parent_id, options, total) VALUES ($1::bigint, "
	    "$2, $3, '" RL_BATCH_ENDPOINT "', $4::bigint, $5::jsonb, 0) "
	    "RETURNING id", 5, p, &r, e)) != RL_OK)
		goto fail;
	*id = strtoll(rl_dbres_get(r, 0, 0), NULL, 10);
	(void)snprintf(bid, sizeof(bid), "%lld", *id);
	rl_dbres_free(r);
	r = NULL;
	for (i = 0; i < n; i++) {
		(void)json_object_set_new(ls[i].payload, "batch_id",
		    json_integer(*id));
		if ((err = rl_task_start_outside(ls[i].task_name, user_id,
		    ls[i].payload, "Lot OpenAI en cours.", ls[i].task_id,
		    e)) != RL_OK)
			goto fail;
		if ((err = rl_credits_reserve(user_id, ls[i].bound,
		    ls[i].model, NULL, ls[i].task_id, &hold, e)) != RL_OK)
			goto fail;
		total += ls[i].bound;
		(void)snprintf(amt, sizeof(amt), "%lld", ls[i].bound);
		(void)snprintf(hid, sizeof(hid), "%lld", hold);
		(void)snprintf(par, sizeof(par), "%lld", ls[i].plan_id);
		p[0] = bid;
		p[1] = ls[i].custom_id;
		p[2] = par;
		p[3] = ls[i].section;
		p[4] = hid;
		p[5] = ls[i].task_id;
		p[6] = ls[i].model;
		if ((err = rl_db_exec("INSERT INTO gen_batch_items (batch_id, "
		    "custom_id, plan_id, section, hold_id, task_id, model) "
		    "VALUES ($1::bigint, $2, $3::bigint, $4, $5::bigint, "
		    "$6::uuid, $7)", 7, p, NULL, e)) != RL_OK)
			goto fail;
	}
	(void)snprintf(amt, sizeof(amt), "%lld", total);
	(void)snprintf(hid, sizeof(hid), "%zu", n);
	p[0] = bid;
	p[1] = amt;
	p[2] = hid;
	if ((err = rl_db_exec("UPDATE gen_batches SET reserved_micro = "
	    "$2::bigint, total = $3::integer WHERE id = $1::bigint", 3, p,
	    NULL, e)) != RL_OK)
		goto fail;
	err = rl_db_commit(e);
	goto out;
fail:
	rl_db_rollback();
out:
	rl_dbres_free(r);
	free(os);
	return err;
}

/*
 * OpenAI refused the launch after the holds were taken: the batch stays
 * in the history as failed, every line failed with the reason, its hold
 * released, its task failed.
 */
static void
launch_failed(long long id, const struct rl_error *why)
{
	struct rl_dbres	*r = NULL;
	struct rl_error	 e;
	const char	*p[2];
	char		 bid[32];
	int		 i;

	(void)snprintf(bid, sizeof(bid), "%lld", id);
	p[0] = bid;
	p[1] = why->msg;
	rl_error_clear(&e);
	if (rl_db_exec("UPDATE gen_batch_items SET status = 'failed', "
	    "error = $2 WHERE batch_id = $1::bigint RETURNING hold_id, "
	    "task_id", 2, p, &r, &e) == RL_OK)
		for (i = 0; i < rl_dbres_rows(r); i++) {
			rl_credits_release_sure(strtoll(rl_dbres_get(r, i, 0),
			    NULL, 10));
			if (rl_task_end_outside(rl_dbres_get(r, i, 1), NULL,
			    why->code, why->msg, &e) != RL_OK)
				rl_log_warn("batch %lld: task %s: %s", id,
				    rl_dbres_get(r, i, 1), e.msg);
		}
	rl_dbres_free(r);
	if (rl_db_exec("UPDATE gen_batches SET status = 'failed', "
	    "failed = total, raw = jsonb_build_object('error', $2::text), "
	    "updated_at = now(), completed_at = now(), collected_at = now() "
	    "WHERE id = $1::bigint", 2, p, NULL, &e) != RL_OK)
		rl_log_error("batch %lld: recording the failed launch: %s",
		    id, e.msg);
}

/* Store what OpenAI says of batch id (the batch object o). */
static enum rl_err
store(long long id, const json_t *o, struct rl_error *e)
{
	const json_t	*rc = json_object_get(o, "request_counts");
	const char	*p[10];
	char		 bid[32], ok[32], ko[32], ip[32];
	char		*raw;
	enum rl_err	 err;

	if (str(o, "status") == NULL)
		return rl_error_set(e, RL_EUPSTREAM, "batch object without "
		    "status");
	if ((raw = json_dumps(o, JSON_COMPACT)) == NULL)
		return rl_error_set(e, RL_ENOMEM, "out of memory");
	(void)snprintf(bid, sizeof(bid), "%lld", id);
	(void)snprintf(ok, sizeof(ok), "%lld", (long long)
	    json_integer_value(json_object_get(rc, "completed")));
	(void)snprintf(ko, sizeof(ko), "%lld", (long long)
	    json_integer_value(json_object_get(rc, "failed")));
	(void)snprintf(ip, sizeof(ip), "%lld", (long long)
	    json_integer_value(json_object_get(o, "in_progress_at")));
	p[0] = bid;
	p[1] = str(o, "status");
	p[2] = str(o, "id");
	p[3] = str(o, "input_file_id");
	p[4] = str(o, "output_file_id");
	p[5] = str(o, "error_file_id");
	p[6] = raw;
	p[7] = ok;
	p[8] = ko;
	p[9] = json_is_integer(json_object_get(o, "in_progress_at")) ? ip :
	    NULL;
	/*
	 * A collected batch keeps 'collected'; the counts are OpenAI's
	 * until collect replaces them with what was stored.
	 */
	err = rl_db_exec("UPDATE gen_batches SET status = CASE WHEN "
	    "collected_at IS NULL THEN $2 ELSE status END, "
	    "openai_batch_id = coalesce($3, openai_batch_id), "
	    "input_file_id = coalesce($4, input_file_id), "
	    "output_file_id = coalesce($5, output_file_id), "
	    "error_file_id = coalesce($6, error_file_id), raw = $7::jsonb, "
	    "completed = CASE WHEN collected_at IS NULL THEN $8::integer "
	    "ELSE completed END, failed = CASE WHEN collected_at IS NULL "
	    "THEN $9::integer ELSE failed END, "
	    "started_at = coalesce(started_at, to_timestamp($10::bigint)), "
	    "completed_at = CASE WHEN $2 IN " SQL_ENDED " THEN "
	    "coalesce(completed_at, now()) ELSE completed_at END, "
	    "updated_at = now() WHERE id = $1::bigint", 10, p, NULL, e);
	free(raw);
	return err;
}

/* One call to OpenAI for batch work; c->answer on success. */
static enum rl_err
oa(const char *model, long long user_id, struct rl_oa_call *c,
    struct rl_error *e)
{
	struct rl_upstream_buf	 ub;
	enum rl_err		 err;

	if ((err = upstream(model, user_id, &ub, e)) != RL_OK)
		return err;
	return rl_oa_call(&ub.up, c, e);
}

/* Upload the file and create the batch; store what OpenAI answered. */
static enum rl_err
send_batch(long long id, long long user_id, const char *model,
    const char *path, struct rl_error *e)
{
	struct rl_oa_call	 c;
	json_t			*form = NULL, *body = NULL;
	const char		*fid;
	char			 meta[32];
	enum rl_err		 err;

	memset(&c, 0, sizeof(c));
	if ((form = json_pack("{s:s}", "purpose", "batch")) == NULL)
		return rl_error_set(e, RL_ENOMEM, "out of memory");
	c.path = "/files";
	c.upload_path = path;
	c.upload_name = "relais-batch.jsonl";
	c.form = form;
	if ((err = oa(model, user_id, &c, e)) != RL_OK)
		goto out;
	if ((fid = str(c.answer, "id")) == NULL) {
		err = rl_error_set(e, RL_EUPSTREAM, "file upload: no id");
		goto out;
	}
	(void)snprintf(meta, sizeof(meta), "%lld", id);
	if ((body = json_pack("{s:s, s:s, s:s, s:{s:s}}", "input_file_id",
	    fid, "endpoint", RL_BATCH_ENDPOINT, "completion_window",
	    RL_BATCH_WINDOW, "metadata", "relais_batch", meta)) == NULL) {
		err = rl_error_set(e, RL_ENOMEM, "out of memory");
		goto out;
	}
	c.upload_path = NULL;
	c.upload_name = NULL;
	c.form = NULL;
	c.path = "/batches";
	c.body = body;
	if ((err = oa(model, user_id, &c, e)) != RL_OK)
		goto out;
	err = store(id, c.answer, e);
out:
	rl_oa_call_free(&c);
	json_decref(form);
	json_decref(body);
	return err;
}

enum rl_err
rl_batch_launch(long long user_id, const char *kind, const json_t *items,
    const json_t *options, int explicit, long long parent_id, long long *id,
    struct rl_error *e)
{
	struct plan_memo pm;
	struct line	*ls = NULL;
	const json_t	*it;
	FILE		*f = NULL;
	char		 path[1024];
	size_t		 i, n = 0, nitems;
	int		 fd = -1;
	enum rl_err	 err;

	*id = 0;
	path[0] = '\0';
	memset(&pm, 0, sizeof(pm));
	nitems = json_array_size(items);
	if (nitems == 0)
		return rl_error_field(e, RL_EINVAL, "plan_ids", "Sélection "
		    "vide : aucune section à générer.");
	if (nitems > RL_BATCH_ITEMS_MAX)
		return rl_error_field(e, RL_EINVAL, "plan_ids", "Trop de "
		    "sections pour un lot (%d au plus).", RL_BATCH_ITEMS_MAX);
	if ((ls = calloc(nitems, sizeof(*ls))) == NULL)
		return rl_error_set(e, RL_ENOMEM, "out of memory");
	if ((size_t)snprintf(path, sizeof(path), "%s/relais-batch-XXXXXX",
	    rl_conf->tmpdir) >= sizeof(path) || (fd = mkstemp(path)) == -1 ||
	    (f = fdopen(fd, "w")) == NULL) {
		if (fd != -1)
			(void)close(fd);
		if (fd == -1)
			path[0] = '\0';
		err = rl_error_set(e, RL_EIO, "cannot create the batch file");
		goto out;
	}
	/* Every prompt first: nothing is held or sent if one fails. */
	json_array_foreach(items, i, it) {
		struct line	*l = &ls[n];

		l->plan_id = json_integer_value(json_object_get(it,
		    "plan_id"));
		l->section = str(it, "section");
		(void)snprintf(l->custom_id, sizeof(l->custom_id), "%s-%lld-%s",
		    strcmp(kind, RL_BATCH_KIND_PC) == 0 ? "pc" : "pdc",
		    l->plan_id, l->section);
		if ((err = payload_of(kind, user_id, l->plan_id, l->section,
		    options, &pm, l, e)) == RL_OK)
			err = render(kind, user_id, l, f, e);
		if (err == RL_EINVAL && !explicit &&
		    strcmp(kind, RL_BATCH_KIND_PC) == 0) {
			/* A section whose generation setting is off. */
			json_decref(l->payload);
			memset(l, 0, sizeof(*l));
			continue;
		}
		if (err != RL_OK) {
			char	 why[RL_ERRMSG_MAX];

			(void)snprintf(why, sizeof(why), "%s", e->msg);
			(void)rl_error_set(e, err, "Plan %lld, section %s : "
			    "%s", l->plan_id, l->section, why);
			n++;
			goto out;
		}
		n++;
	}
	if (fclose(f) != 0) {
		f = NULL;
		err = rl_error_set(e, RL_EIO, "cannot write the batch file");
		goto out;
	}
	f = NULL;
	if (n == 0) {
		err = rl_error_field(e, RL_EINVAL, "sections", "Aucune section "
		    "à générer : activez l'IA pour au moins une section "
		    "demandée.");
		goto out;
	}
	/* One batch file, one model: OpenAI refuses a mix at validation. */
	for (i = 1; i < n; i++)
		if (strcmp(ls[i].model, ls[0].model) != 0) {
			err = rl_error_field(e, RL_EINVAL, "model", "Les "
			    "sections demandées utilisent des modèles "
			    "différents (%s pour %s, %s pour %s) ; un lot "
			    "n'en prend qu'un : précisez « model » ou "
			    "lancez-les séparément.", ls[0].model,
			    ls[0].section, ls[i].model, ls[i].section);
			goto out;
		}
	if ((err = hold_all(user_id, kind, options, parent_id, ls, n, id,
	    e)) != RL_OK) {
		*id = 0;
		goto out;
	}
	if ((err = send_batch(*id, user_id, ls[0].model, path, e)) != RL_OK) {
		rl_log_warn("batch %lld: launch refused: %s", *id, e->msg);
		launch_failed(*id, e);
	}
out:
	if (f != NULL)
		(void)fclose(f);
	if (path[0] != '\0')
		(void)unlink(path);
	for (i = 0; i < n; i++)
		json_decref(ls[i].payload);
	free(ls);
	if (pm.loaded)
		rl_pdc_free(&pm.p);
	return err;
}

/* The row fields refresh and collect read. */
struct brow {
	long long	 id;
	long long	 user_id;
	char		 kind[32];
	char		 model[64];
	char		 status[32];
	char		 oid[128];
	char		 out_file[128];
	char		 err_file[128];
	int		 collected;
};

static enum rl_err
brow_load(long long id, struct brow *b, struct rl_error *e)
{
	struct rl_dbres	*r = NULL;
	const char	*p[1];
	char		 bid[32];
	enum rl_err	 err;

	memset(b, 0, sizeof(*b));
	(void)snprintf(bid, sizeof(bid), "%lld", id);
	p[0] = bid;
	if ((err = rl_db_exec("SELECT user_id, kind, model, status, "
	    "coalesce(openai_batch_id, ''), coalesce(output_file_id, ''), "
	    "coalesce(error_file_id, ''), collected_at IS NOT NULL "
	    "FROM gen_batches WHERE id = $1::bigint", 1, p, &r, e)) != RL_OK)
		return err;
	if (rl_dbres_rows(r) != 1)
		err = rl_error_set(e, RL_ENOTFOUND, "Lot introuvable.");
	else {
		b->id = id;
		b->user_id = strtoll(rl_dbres_get(r, 0, 0), NULL, 10);
		(void)snprintf(b->kind, sizeof(b->kind), "%s",
		    rl_dbres_get(r, 0, 1));
		(void)snprintf(b->model, sizeof(b->model), "%s",
		    rl_dbres_get(r, 0, 2));
		(void)snprintf(b->status, sizeof(b->status), "%s",
		    rl_dbres_get(r, 0, 3));
		(void)snprintf(b->oid, sizeof(b->oid), "%s",
		    rl_dbres_get(r, 0, 4));
		(void)snprintf(b->out_file, sizeof(b->out_file), "%s",
		    rl_dbres_get(r, 0, 5));
		(void)snprintf(b->err_file, sizeof(b->err_file), "%s",
		    rl_dbres_get(r, 0, 6));
		b->collected = rl_dbres_get(r, 0, 7)[0] == 't';
	}
	rl_dbres_free(r);
	return err;
}

enum rl_err
rl_batch_refresh(long long id, struct rl_error *e)
{
	struct rl_oa_call	 c;
	struct brow		 b;
	char			 path[192];
	enum rl_err		 err;

	if ((err = brow_load(id, &b, e)) != RL_OK)
		return err;
	if (b.collected || b.oid[0] == '\0')
		return RL_OK;
	memset(&c, 0, sizeof(c));
	(void)snprintf(path, sizeof(path), "/batches/%s", b.oid);
	c.method = "GET";
	c.path = path;
	if ((err = oa(b.model, b.user_id, &c, e)) == RL_OK)
		err = store(id, c.answer, e);
	rl_oa_call_free(&c);
	if (err != RL_OK)
		return err;
	return rl_batch_collect(id, e);
}

enum rl_err
rl_batch_cancel(long long id, struct rl_error *e)
{
	struct rl_oa_call	 c;
	struct brow		 b;
	json_t			*body;
	char			 path[192];
	enum rl_err		 err;

	if ((err = brow_load(id, &b, e)) != RL_OK)
		return err;
	if (b.collected || b.oid[0] == '\0' || strcmp(b.status,
	    "completed") == 0 || strcmp(b.status, "failed") == 0 ||
	    strcmp(b.status, "expired") == 0 || strcmp(b.status,
	    "cancelled") == 0)
		return rl_error_set(e, RL_ECONFLICT, "Ce lot est terminé "
		    "(%s) : il ne peut plus être annulé.", b.status);
	if ((body = json_object()) == NULL)
		return rl_error_set(e, RL_ENOMEM, "out of memory");
	memset(&c, 0, sizeof(c));
	(void)snprintf(path, sizeof(path), "/batches/%s/cancel", b.oid);
	c.path = path;
	c.body = body;
	if ((err = oa(b.model, b.user_id, &c, e)) == RL_OK)
		err = store(id, c.answer, e);
	rl_oa_call_free(&c);
	json_decref(body);
	return err;
}

/* Read file fid's JSONL into map {custom_id: line}. */
static enum rl_err
read_file(const struct brow *b, const char *fid, json_t *map,
    struct rl_error *e)
{
	struct rl_oa_call	 c;
	json_t			*line;
	const char		*s, *nl, *end, *cid;
	char			 path[192];
	char			*dumped = NULL;
	size_t			 len;
	enum rl_err		 err;

	if (*fid == '\0')
		return RL_OK;
	memset(&c, 0, sizeof(c));
	(void)snprintf(path, sizeof(path), "/files/%s/content", fid);
	c.method = "GET";
	c.path = path;
	c.answer_max = RL_BATCH_FILE_MAX;
	if ((err = oa(b->model, b->user_id, &c, e)) != RL_OK)
		goto out;
	/* One line served as application/json comes back parsed. */
	if (c.raw == NULL && c.answer != NULL) {
		if ((dumped = json_dumps(c.answer, JSON_COMPACT)) == NULL) {
			err = rl_error_set(e, RL_ENOMEM, "out of memory");
			goto out;
		}
		s = dumped;
		len = strlen(dumped);
	} else {
		s = c.raw != NULL ? c.raw : "";
		len = c.rawlen;
	}
	for (end = s + len; s < end; s = nl + 1) {
		if ((nl = memchr(s, '\n', (size_t)(end - s))) == NULL)
			nl = end;
		if (nl == s)
			continue;
		line = json_loadb(s, (size_t)(nl - s), 0, NULL);
		if ((cid = str(line, "custom_id")) != NULL)
			(void)json_object_set(map, cid, line);
		else
			rl_log_warn("batch %lld: file %s: a line without "
			    "custom_id", b->id, fid);
		json_decref(line);
	}
out:
	free(dumped);
	rl_oa_call_free(&c);
	return err;
}

/* The reasoning summary of a Responses object, or NULL (malloc'd). */
static char *
reasoning_of(const json_t *resp)
{
	const json_t	*it, *s;
	json_t		*parts;
	char		*out = NULL, *t;
	size_t		 i, j;

	json_array_foreach(json_object_get(resp, "output"), i, it) {
		if (str(it, "type") == NULL || strcmp(str(it, "type"),
		    "reasoning") != 0)
			continue;
		parts = json_object_get(it, "summary");
		json_array_foreach(parts, j, s) {
			if (str(s, "text") == NULL)
				continue;
			if (asprintf(&t, "%s%s%s", out != NULL ? out : "",
			    out != NULL ? "\n\n" : "", str(s, "text")) == -1)
				continue;
			free(out);
			out = t;
		}
	}
	return out;
}

/* Store an item's outcome. */
static enum rl_err
item_end(long long id, const char *cid, const char *status,
    const json_t *result, const char *msg, long long cost,
    struct rl_error *e)
{
	const char	*p[6];
	char		 bid[32], c[32];
	char		*res = NULL;
	enum rl_err	 err;

	if (result != NULL && (res = json_dumps(result, JSON_COMPACT |
	    JSON_ENCODE_ANY)) == NULL)
		return rl_error_set(e, RL_ENOMEM, "out of memory");
	(void)snprintf(bid, sizeof(bid), "%lld", id);
	(void)snprintf(c, sizeof(c), "%lld", cost);
	p[0] = bid;
	p[1] = cid;
	p[2] = status;
	p[3] = res;
	p[4] = msg;
	p[5] = c;
	err = rl_db_exec("UPDATE gen_batch_items SET status = $3, result = "
	    "$4::jsonb, error = $5, cost_micro = $6::bigint WHERE "
	    "batch_id = $1::bigint AND custom_id = $2 AND status = 'pending'",
	    6, p, NULL, e);
	free(res);
	return err;
}

/*
 * One line that came back with an answer: settle its hold at the batch
 * price (one ledger row; a hold already closed means it was done),
 * then check the answer as the synchronous path does and store the
 * preview or the refusal.
 */
static enum rl_err
collect_answer(const struct brow *b, const char *cid, const char *section,
    const char *model, const char *tid, long long hold,
    const json_t *payload, const json_t *line, struct rl_error *e)
{
	const json_t		*resp = json_object_get(line, "response");
	const json_t		*body = json_object_get(resp, "body");
	struct rl_charge	 ch;
	struct rl_model		 m;
	struct rl_usage		 u;
	struct rl_error		 ve;
	struct rl_gen		*g;
	struct one		 o;
	json_t			*preview = NULL;
	long long		 cost, charged = 0;
	enum rl_err		 err, verr;

	memset(&o, 0, sizeof(o));
	memset(&u, 0, sizeof(u));
	/* The model the line was reserved for: its price list. */
	if ((err = rl_model_lookup(model, &m, e)) != RL_OK)
		return err;
	(void)rl_oa_usage_parse(body, &u);
	cost = rl_cost_micro(&m, &u, 1);
	memset(&ch, 0, sizeof(ch));
	ch.model = m.name;
	ch.provider = m.provider;
	ch.feature = strcmp(b->kind, RL_BATCH_KIND_PC) == 0 ?
	    "batch.plan_cadre" : "batch.plan_de_cours";
	ch.upstream_request_id = str(resp, "request_id");
	ch.upstream_response_id = str(body, "id");
	ch.task_id = tid;
	ch.status = "ok";
	ch.usage = u;
	ch.cost_micro = cost;
	err = rl_credits_settle(hold, b->user_id, &ch, &charged, e);
	if (err == RL_ECONFLICT)
		err = RL_OK;	/* settled by an earlier collect */
	if (err != RL_OK)
		return err;

	rl_error_clear(&ve);
	if ((verr = one_from_payload(&o, strcmp(b->kind, RL_BATCH_KIND_PC) ==
	    0, b->user_id, payload, section, &ve)) == RL_OK) {
		g = one_gen(&o);
		verr = rl_gen_answer(g, body, &ve);
		if (verr == RL_OK && !o.pc)
			verr = rl_pdc_answer_check(o.k, g->result, &ve);
		g->usage = u;
		g->cost_micro = cost;
		g->calls = 1;
		(void)snprintf(g->model_name, sizeof(g->model_name), "%s",
		    m.name);
		(void)snprintf(g->response_id, sizeof(g->response_id), "%s",
		    str(body, "id") != NULL ? str(body, "id") : "");
		g->reasoning = reasoning_of(body);
	}
	if (verr == RL_OK && o.pc)
		preview = rl_plancadre_preview(&o.pg, tid);
	else if (verr == RL_OK) {
		if ((verr = rl_pdc_load(b->user_id, 1, json_integer_value(
		    json_object_get(payload, "plan_id")), 0, NULL, &o.p,
		    &ve)) == RL_OK)
			preview = rl_pdc_preview(&o.p, o.k, o.field,
			    o.g.result, &o.g, tid);
	}
	if (verr == RL_OK && preview == NULL)
		verr = rl_error_set(&ve, RL_ENOMEM, "out of memory");
	if (verr == RL_OK) {
		if ((err = rl_task_end_outside(tid, preview, RL_OK, NULL,
		    e)) == RL_OK)
			err = item_end(b->id, cid, "ok", one_gen(&o)->result,
			    NULL, cost, e);
	} else {
		/* An answer the synchronous path would refuse too. */
		if (verr == RL_EVALIDATION)
			verr = RL_EUPSTREAM;
		if ((err = rl_task_end_outside(tid, NULL, verr, ve.msg,
		    e)) == RL_OK)
			err = item_end(b->id, cid, "invalid", NULL, ve.msg,
			    cost, e);
	}
	json_decref(preview);
	one_free(&o);
	return err;
}

/* A line with no answer: nothing billed, its hold released. */
static enum rl_err
collect_none(const struct brow *b, const char *cid, const char *tid,
    long long hold, const json_t *eline, struct rl_error *e)
{
	const json_t	*er;
	const char	*status, *msg;
	enum rl_err	 err;

	er = json_object_get(eline, "error");
	if (!json_is_object(er))
		er = json_object_get(json_object_get(json_object_get(eline,
		    "response"), "body"), "error");
	msg = str(er, "message");
	if (strcmp(b->status, "expired") == 0 || (str(er, "code") != NULL &&
	    strcmp(str(er, "code"), "batch_expired") == 0)) {
		status = "expired";
		if (msg == NULL)
			msg = "Le lot a expiré avant cette section.";
	} else if (strcmp(b->status, "cancelled") == 0 && eline == NULL) {
		status = "cancelled";
		msg = "Le lot a été annulé avant cette section.";
	} else {
		status = "failed";
		if (msg == NULL)
			msg = eline == NULL ? "Aucune réponse d'OpenAI pour "
			    "cette section." : "Échec de la requête.";
	}
	rl_credits_release_sure(hold);
	if ((err = rl_task_end_outside(tid, NULL, RL_EUPSTREAM, msg,
	    e)) != RL_OK)
		return err;
	return item_end(b->id, cid, status, NULL, msg, 0, e);
}

enum rl_err
rl_batch_collect(long long id, struct rl_error *e)
{
	struct rl_dbres	*r = NULL;
	struct brow	 b;
	json_t		*out = NULL, *errs = NULL, *payload, *line;
	const char	*p[2], *cid;
	char		 bid[32], stale[16];
	long long	 hold;
	int		 i, left = 0;
	enum rl_err	 err, ierr;
	struct rl_error	 ie;

	(void)snprintf(bid, sizeof(bid), "%lld", id);
	(void)snprintf(stale, sizeof(stale), "%d",
	    RL_BATCH_COLLECT_STALE_SEC);
	p[0] = bid;
	p[1] = stale;
	/* The claim: one collector at a time, the poller or a button. */
	if ((err = rl_db_exec("UPDATE gen_batches SET collecting_at = now() "
	    "WHERE id = $1::bigint AND collected_at IS NULL AND status IN "
	    SQL_ENDED " AND (collecting_at IS NULL OR collecting_at < now() - "
	    "make_interval(secs => $2::integer)) RETURNING id", 2, p, &r,
	    e)) != RL_OK)
		return err;
	i = rl_dbres_rows(r);
	rl_dbres_free(r);
	r = NULL;
	if (i != 1)
		return RL_OK;
	if ((err = brow_load(id, &b, e)) != RL_OK)
		goto release;
	if ((out = json_object()) == NULL || (errs = json_object()) == NULL) {
		err = rl_error_set(e, RL_ENOMEM, "out of memory");
		goto release;
	}
	if ((err = read_file(&b, b.out_file, out, e)) != RL_OK ||
	    (err = read_file(&b, b.err_file, errs, e)) != RL_OK)
		goto release;
	if ((err = rl_db_exec("SELECT i.custom_id, i.section, i.task_id, "
	    "i.hold_id, t.payload, i.model FROM gen_batch_items i JOIN tasks t "
	    "ON "
	    "t.id = i.task_id WHERE i.batch_id = $1::bigint AND i.status = "
	    "'pending' ORDER BY i.custom_id", 1, p, &r, e)) != RL_OK)
		goto release;
	for (i = 0; i < rl_dbres_rows(r); i++) {
		cid = rl_dbres_get(r, i, 0);
		hold = strtoll(rl_dbres_get(r, i, 3), NULL, 10);
		payload = json_loads(rl_dbres_get(r, i, 4), 0, NULL);
		line = json_object_get(out, cid);
		rl_error_clear(&ie);
		if (line != NULL && json_integer_value(json_object_get(
		    json_object_get(line, "response"), "status_code")) == 200)
			ierr = collect_answer(&b, cid, rl_dbres_get(r, i, 1),
			    rl_dbres_get(r, i, 5), rl_dbres_get(r, i, 2), hold,
			    payload, line, &ie);
		else
			ierr = collect_none(&b, cid, rl_dbres_get(r, i, 2),
			    hold, line != NULL ? line : json_object_get(errs,
			    cid), &ie);
		json_decref(payload);
		if (ierr != RL_OK) {
			/* Left pending: the next collect takes it again. */
			rl_log_error("batch %lld: line %s: %s", id, cid,
			    ie.msg);
			left++;
		}
	}
	if (left > 0) {
		err = rl_error_set(e, RL_EDB, "%d lignes non traitées", left);
		goto release;
	}
	err = rl_db_exec("UPDATE gen_batches b SET status = 'collected', "
	    "collected_at = now(), collecting_at = NULL, updated_at = now(), "
	    "completed = (SELECT count(*) FROM gen_batch_items i WHERE "
	    "i.batch_id = b.id AND i.status = 'ok'), failed = (SELECT "
	    "count(*) FROM gen_batch_items i WHERE i.batch_id = b.id AND "
	    "i.status <> 'ok'), settled_micro = (SELECT coalesce(sum("
	    "i.cost_micro), 0) FROM gen_batch_items i WHERE i.batch_id = "
	    "b.id) WHERE id = $1::bigint", 1, p, NULL, e);
	goto out;
release:
	(void)rl_db_exec("UPDATE gen_batches SET collecting_at = NULL "
	    "WHERE id = $1::bigint", 1, p, NULL, &ie);
out:
	rl_dbres_free(r);
	json_decref(out);
	json_decref(errs);
	return err;
}

enum rl_err
rl_batch_poll(int *n, struct rl_error *e)
{
	struct rl_dbres	*r = NULL;
	struct rl_error	 be;
	const char	*p[1];
	char		 max[16];
	long long	 id;
	int		 i;
	enum rl_err	 err;

	*n = 0;
	(void)snprintf(max, sizeof(max), "%d", RL_BATCH_POLL_MAX);
	p[0] = max;
	/* Deleted ones too: their holds still wait for the collect. */
	if ((err = rl_db_exec("SELECT id FROM gen_batches WHERE collected_at "
	    "IS NULL AND openai_batch_id IS NOT NULL ORDER BY updated_at "
	    "LIMIT $1::integer", 1, p, &r, e)) != RL_OK)
		return err;
	for (i = 0; i < rl_dbres_rows(r); i++) {
		id = strtoll(rl_dbres_get(r, i, 0), NULL, 10);
		rl_error_clear(&be);
		if (rl_batch_refresh(id, &be) != RL_OK)
			rl_log_warn("batch %lld: poll: %s", id, be.msg);
		(*n)++;
	}
	rl_dbres_free(r);
	return RL_OK;
}

enum rl_err
rl_batch_get(long long id, long long user_id, int admin, int with_items,
    json_t **out, struct rl_error *e)
{
	const char	*p[3];
	char		 bid[32], uid[32];

	(void)snprintf(bid, sizeof(bid), "%lld", id);
	(void)snprintf(uid, sizeof(uid), "%lld", user_id);
	p[0] = bid;
	p[1] = uid;
	p[2] = admin ? "t" : "f";
	if (!with_items)
		return rl_db_json("SELECT " SQL_B " FROM gen_batches b WHERE "
		    "b.id = $1::bigint AND b.deleted_at IS NULL AND "
		    "($3::boolean OR b.user_id = $2::bigint)", 3, p, out, e);
	return rl_db_json("SELECT json_build_object('batch', " SQL_B ", "
	    "'items', coalesce((SELECT json_agg(json_build_object("
	    "'custom_id', i.custom_id, 'plan_id', i.plan_id, 'section', "
	    "i.section, 'status', i.status, 'error', i.error, 'task_id', "
	    "i.task_id) ORDER BY i.custom_id) FROM gen_batch_items i WHERE "
	    "i.batch_id = b.id), '[]'), 'raw', coalesce(b.raw, '{}')) "
	    "FROM gen_batches b WHERE b.id = $1::bigint AND b.deleted_at IS "
	    "NULL AND ($3::boolean OR b.user_id = $2::bigint)", 3, p, out, e);
}

enum rl_err
rl_batch_resumable(long long id, json_t **items, json_t **options,
    struct rl_error *e)
{
	json_t		*v = NULL;
	const char	*p[1];
	char		 bid[32];
	enum rl_err	 err;

	*items = *options = NULL;
	(void)snprintf(bid, sizeof(bid), "%lld", id);
	p[0] = bid;
	if ((err = rl_db_json("SELECT json_build_object('collected', "
	    "b.collected_at IS NOT NULL, 'options', b.options, 'items', "
	    "coalesce((SELECT json_agg(json_build_object('plan_id', "
	    "i.plan_id, 'section', i.section) ORDER BY i.custom_id) FROM "
	    "gen_batch_items i WHERE i.batch_id = b.id AND i.status IN "
	    "('failed', 'expired', 'invalid')), '[]')) FROM gen_batches b "
	    "WHERE b.id = $1::bigint", 1, p, &v, e)) != RL_OK)
		return err;
	if (!json_is_true(json_object_get(v, "collected")))
		err = rl_error_set(e, RL_ECONFLICT, "Ce lot n'est pas encore "
		    "terminé et traité.");
	else {
		*items = json_incref(json_object_get(v, "items"));
		*options = json_incref(json_object_get(v, "options"));
	}
	json_decref(v);
	return err;
}

enum rl_err
rl_batch_kind(long long id, char *kind, size_t size, struct rl_error *e)
{
	struct brow	 b;
	enum rl_err	 err;

	if ((err = brow_load(id, &b, e)) == RL_OK)
		(void)snprintf(kind, size, "%s", b.kind);
	return err;
}

enum rl_err
rl_batch_list(long long user_id, int admin, const char *status, int limit,
    json_t **out, struct rl_error *e)
{
	const char	*p[4];
	char		 uid[32], lim[16];

	(void)snprintf(uid, sizeof(uid), "%lld", user_id);
	(void)snprintf(lim, sizeof(lim), "%d", limit);
	p[0] = uid;
	p[1] = admin ? "t" : "f";
	p[2] = status;
	p[3] = lim;
	return rl_db_json("SELECT coalesce(json_agg(x.b ORDER BY x.id DESC), "
	    "'[]') FROM (SELECT b.id, " SQL_B " AS b FROM gen_batches b "
	    "WHERE b.deleted_at IS NULL AND ($2::boolean OR b.user_id = "
	    "$1::bigint) AND ($3::text IS NULL OR b.status = $3) "
	    "ORDER BY b.id DESC LIMIT $4::integer) x", 4, p, out, e);
}

enum rl_err
rl_batch_delete(long long id, struct rl_error *e)
{
	struct rl_error	 ce;
	const char	*p[1];
	char		 bid[32];
	enum rl_err	 err;

	/* A running batch is cancelled first; its collect still comes. */
	rl_error_clear(&ce);
	if ((err = rl_batch_cancel(id, &ce)) != RL_OK && err != RL_ECONFLICT)
		rl_log_warn("batch %lld: cancel before delete: %s", id,
		    ce.msg);
	(void)snprintf(bid, sizeof(bid), "%lld", id);
	p[0] = bid;
	return rl_db_exec("UPDATE gen_batches SET deleted_at = now(), "
	    "updated_at = now() WHERE id = $1::bigint AND deleted_at IS NULL",
	    1, p, NULL, e);
}

enum rl_err
rl_batch_open(long long user_id, json_t **ids, struct rl_error *e)
{
	const char	*p[1];
	char		 uid[32];

	(void)snprintf(uid, sizeof(uid), "%lld", user_id);
	p[0] = uid;
	return rl_db_json("SELECT coalesce(json_agg(id ORDER BY id), '[]') "
	    "FROM gen_batches WHERE user_id = $1::bigint AND deleted_at IS "
	    "NULL AND collected_at IS NULL AND openai_batch_id IS NOT NULL",
	    1, p, ids, e);
}
