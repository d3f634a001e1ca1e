/*
 * gen.c: one model generation for an EDxo feature (gen.h,
 * docs/internals/gen.md).
 *
 * Every call streams, task or not: one code path reads the answer, and a
 * task sees its text grow.  A call is:
 *
 *	body      rl_gen_body(): model, instructions, input, text.format,
 *	          reasoning, verbosity, max_output_tokens, stream
 *	pay+call  rl_ai_call(): reserve, stream, settle one ledger row (a
 *	          call stopped on cancel is settled as "partial")
 *	events    append text and reasoning deltas; a task publishes them
 *	          (throttled) and is asked whether it was cancelled; a
 *	          cancel also stops a silent transfer at once (worker.c)
 *	read      refusal, incomplete, not JSON, not valid: the first two
 *	          end the run, the last two ask once more with the errors
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ai.h"
#include "bounds.h"
#include "buf.h"
#include "cache.h"
#include "credits.h"
#include "db.h"
#include "extern.h"
#include "gen.h"
#include "log.h"
#include "models.h"
#include "schema.h"
#include "worker.h"

#define MSG_RUNNING	"Appel au modèle IA en cours..."
#define MSG_CANCELLED	"Tâche annulée."
#define MSG_EMPTY	"Aucune donnée reçue du modèle."

/*
 * The answer and the reasoning summary so far, and the error text of a
 * retry: none can be longer than the answer the client takes.
 */
#define TEXT_MAX	RL_OA_ANSWER_MAX

/* What the event callback keeps between events. */
struct run {
	struct rl_gen	*g;
	struct rl_buf	 text;
	struct rl_buf	 reasoning;
	int		 call;		/* meta.stream_call of this call */
	int		 calls0;	/* stream_call before this run */
	int		 summary;	/* index of the summary part */
	long long	 published_us;	/* last rl_task_progress */
	int		 dirty;		/* buffers grew since then */
	int		 cancelled;	/* the task was cancelled or lost */
};

/* The length of s cut to at most max bytes on a UTF-8 boundary. */
static size_t
utf8_cut(const char *s, size_t max)
{
	size_t	 n;

	if ((n = strlen(s)) <= max)
		return n;
	n = max;
	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	return n;
}

/* Settings store "" for "not set": the same as NULL here. */
static const char *
opt(const char *s)
{

	return s != NULL && *s != '\0' ? s : NULL;
}

/* gpt-5 models take text.verbosity; the others refuse it. */
static int
takes_verbosity(const struct rl_model *m)
{

	return m->family == RL_FAMILY_REASONING &&
	    strncmp(m->name, "gpt-5", 5) == 0;
}

/* The output cap sent: the caller's, else RL_GEN_MAX_OUTPUT; the model's
   hard cap wins. */
static long long
output_cap(const struct rl_gen *g, const struct rl_model *m)
{
	long long	 n;

	n = g->max_output > 0 ? g->max_output : RL_GEN_MAX_OUTPUT;
	if (m->max_output > 0 && n > m->max_output)
		n = m->max_output;
	return n;
}

/* text.format.name: the caller's, else the schema's title, else ours. */
static const char *
format_name(const struct rl_gen *g, const json_t *schema)
{
	const char	*t;

	if (opt(g->name) != NULL)
		return g->name;
	if ((t = json_string_value(json_object_get(schema, "title"))) !=
	    NULL && *t != '\0' && strlen(t) <= 64 &&
	    strspn(t, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789_-") == strlen(t))
		return t;
	return "reponse";
}

/* The first user message: the prompt, after the file when there is one. */
json_t *
rl_gen_input(const struct rl_gen *g)
{
	const char	*p = g->prompt != NULL ? g->prompt : "";

	if (g->file_id != NULL || g->file_url != NULL)
		return json_pack("[{s:s, s:[{s:s, s:s}, {s:s, s:s}]}]",
		    "role", "user", "content", "type", "input_file",
		    g->file_id != NULL ? "file_id" : "file_url",
		    g->file_id != NULL ? g->file_id : g->file_url,
		    "type", "input_text", "text", p);
	return json_pack("[{s:s, s:s}]", "role", "user", "content", p);
}

json_t *
rl_gen_body(const struct rl_gen *g, const struct rl_model *m,
    const json_t *input)
{
	const json_t	*schema;
	json_t		*b, *v;

	b = json_pack("{s:s, s:O, s:I, s:b, s:b}", "model", m->name,
	    "input", input, "max_output_tokens",
	    (json_int_t)output_cap(g, m), "stream", 1, "store", 0);
	if (b == NULL)
		return NULL;
	if (opt(g->system) != NULL && json_object_set_new(b, "instructions",
	    json_string(g->system)) == -1)
		goto fail;
	schema = g->schema_json;
	if (schema == NULL && g->schema != NULL)
		schema = rl_schema_json(g->schema);
	v = NULL;
	if (schema != NULL)
		v = json_pack("{s:s, s:s, s:O, s:b}", "type", "json_schema",
		    "name", format_name(g, schema), "schema", schema,
		    "strict", g->strict);
	else if (opt(g->verbosity) != NULL && takes_verbosity(m))
		v = json_object();
	if (v != NULL) {
		if (opt(g->verbosity) != NULL && takes_verbosity(m))
			(void)json_object_set_new(v, "verbosity",
			    json_string(g->verbosity));
		if (json_object_set_new(b, "text", schema != NULL ?
		    json_pack("{s:o}", "format", v) : v) == -1)
			goto fail;
		/* verbosity sits beside format, not in it. */
		if (schema != NULL && opt(g->verbosity) != NULL &&
		    takes_verbosity(m)) {
			(void)json_object_del(v, "verbosity");
			(void)json_object_set_new(json_object_get(b, "text"),
			    "verbosity", json_string(g->verbosity));
		}
	}
	if (m->reasoning) {
		v = json_pack("{s:s}", "summary", "auto");
		if (v != NULL && opt(g->effort) != NULL)
			(void)json_object_set_new(v, "effort",
			    json_string(g->effort));
		if (v == NULL || json_object_set_new(b, "reasoning", v) == -1)
			goto fail;
	}
	return b;
fail:
	json_decref(b);
	return NULL;
}

/*
 * Pydantic's ValidationError text, as EDxo's retry attached it:
 *
 *	2 validation errors for NAME
 *	champ.0.x
 *	  Field required [type=missing, input_value={...}, input_type=dict]
 */
char *
rl_gen_errors_text(const json_t *errors, const char *name)
{
	struct rl_buf	 b;
	const json_t	*it, *loc, *l;
	char		 line[RL_GEN_ERRLINE_MAX];
	char		*in;
	size_t		 i, j, n;
	int		 k;

	rl_buf_init(&b, TEXT_MAX);
	n = json_array_size(errors);
	k = snprintf(line, sizeof(line), "%zu validation error%s for %s\n",
	    n, n == 1 ? "" : "s", name != NULL ? name : "reponse");
	if (rl_buf_add(&b, line, (size_t)k) != RL_OK)
		goto fail;
	json_array_foreach(errors, i, it) {
		if (i == RL_GEN_ERRORS_MAX) {
			k = snprintf(line, sizeof(line), "(%zu more)\n",
			    n - i);
			if (rl_buf_add(&b, line, (size_t)k) != RL_OK)
				goto fail;
			break;
		}
		loc = json_object_get(it, "loc");
		json_array_foreach(loc, j, l) {
			if (j > 0 && rl_buf_add(&b, ".", 1) != RL_OK)
				goto fail;
			if (json_is_integer(l))
				k = snprintf(line, sizeof(line), "%lld",
				    (long long)json_integer_value(l));
			else
				k = snprintf(line, sizeof(line), "%s",
				    json_string_value(l) != NULL ?
				    json_string_value(l) : "?");
			if (k >= (int)sizeof(line))
				k = (int)utf8_cut(line, sizeof(line) - 1);
			if (rl_buf_add(&b, line, (size_t)k) != RL_OK)
				goto fail;
		}
		in = json_dumps(json_object_get(it, "input"), JSON_COMPACT |
		    JSON_ENCODE_ANY);
		k = snprintf(line, sizeof(line), "%s  %s [type=%s, "
		    "input_value=%.*s]\n", json_array_size(loc) > 0 ? "\n" :
		    "", json_string_value(json_object_get(it, "msg")) != NULL ?
		    json_string_value(json_object_get(it, "msg")) : "",
		    json_string_value(json_object_get(it, "type")) != NULL ?
		    json_string_value(json_object_get(it, "type")) : "error",
		    (int)utf8_cut(in != NULL ? in : "null", RL_GEN_INPUT_SHOWN),
		    in != NULL ? in : "null");
		free(in);
		if (k >= (int)sizeof(line))
			k = (int)utf8_cut(line, sizeof(line) - 1);
		if (rl_buf_add(&b, line, (size_t)k) != RL_OK)
			goto fail;
	}
	return rl_buf_take(&b, NULL);
fail:
	rl_buf_free(&b);
	return NULL;
}

/* Publish meta (message, stream_buffer, reasoning_summary); 0 or -1. */
static int
publish(struct run *r)
{
	struct rl_error	 e;
	json_t		*meta;
	enum rl_err	 err;

	r->published_us = rl_now_us();
	r->dirty = 0;
	meta = json_pack("{s:s, s:s, s:s, s:i}", "message",
	    r->g->message != NULL ? r->g->message : MSG_RUNNING,
	    "stream_buffer", rl_buf_str(&r->text), "reasoning_summary",
	    rl_buf_str(&r->reasoning), "stream_call", r->call);
	if (meta == NULL)
		return 0;	/* progress is a nicety; the answer is not */
	rl_error_clear(&e);
	err = rl_task_progress(r->g->task, meta, &e);
	json_decref(meta);
	if (err == RL_ECONFLICT)
		return -1;	/* taken away from us: stop */
	if (err != RL_OK)
		rl_log_debug("task %s: progress: %s", r->g->task->id, e.msg);
	return 0;
}

/* Stream events: collect deltas; a task publishes and checks cancel. */
static int
on_event(void *arg, const struct rl_oa_event *ev)
{
	struct run	*r = arg;
	int		 idx;

	if (ev->kind == RL_OA_EV_TEXT && ev->deltalen > 0) {
		if (rl_buf_add(&r->text, ev->delta, ev->deltalen) != RL_OK)
			return 1;
		r->dirty = 1;
	} else if (ev->kind == RL_OA_EV_REASONING && ev->deltalen > 0) {
		/* Summary parts are paragraphs, as EDxo joins them. */
		idx = (int)json_integer_value(json_object_get(ev->data,
		    "summary_index"));
		if (rl_buf_len(&r->reasoning) > 0 && idx != r->summary &&
		    rl_buf_add(&r->reasoning, "\n\n", 2) != RL_OK)
			return 1;
		r->summary = idx;
		if (rl_buf_add(&r->reasoning, ev->delta, ev->deltalen) !=
		    RL_OK)
			return 1;
		r->dirty = 1;
	}
	if (r->g->task == NULL)
		return 0;
	if (rl_task_cancelled(r->g->task)) {
		r->cancelled = 1;
		return 1;
	}
	if (r->dirty && rl_now_us() - r->published_us >=
	    RL_GEN_PUBLISH_MS * 1000LL && publish(r) == -1) {
		r->cancelled = 1;
		return 1;
	}
	return 0;
}

/*
 * The final response object: its output text and refusal.  Text parts
 * are joined; the stream's own text is the fallback (a response.completed
 * without output, as some compatible servers send).  Out of memory is an
 * error, never a shorter answer.
 */
static enum rl_err
read_output(const json_t *resp, struct rl_buf *text, struct rl_buf *refusal)
{
	const json_t	*out, *it, *parts, *p;
	const char	*type, *s;
	struct rl_buf	 t;
	size_t		 i, j;

	rl_buf_init(&t, TEXT_MAX);
	out = json_object_get(resp, "output");
	json_array_foreach(out, i, it) {
		type = json_string_value(json_object_get(it, "type"));
		if (type == NULL || strcmp(type, "message") != 0)
			continue;
		parts = json_object_get(it, "content");
		json_array_foreach(parts, j, p) {
			type = json_string_value(json_object_get(p, "type"));
			if (type == NULL)
				continue;
			if (strcmp(type, "output_text") == 0 &&
			    (s = json_string_value(json_object_get(p,
			    "text"))) != NULL)
				(void)rl_buf_addstr(&t, s);
			else if (strcmp(type, "refusal") == 0 &&
			    (s = json_string_value(json_object_get(p,
			    "refusal"))) != NULL)
				(void)rl_buf_addstr(refusal, s);
		}
	}
	if (rl_buf_err(&t) != RL_OK || rl_buf_err(refusal) != RL_OK) {
		rl_buf_free(&t);
		return RL_ENOMEM;
	}
	if (rl_buf_len(&t) > 0) {
		rl_buf_free(text);
		*text = t;
	} else
		rl_buf_free(&t);
	return RL_OK;
}

/* Why a response is incomplete, or NULL when it is not. */
static const char *
incomplete(const json_t *resp, const char *finish)
{
	const char	*st, *why;

	st = json_string_value(json_object_get(resp, "status"));
	if (st == NULL)
		st = finish;
	if (st == NULL || strcmp(st, "incomplete") != 0)
		return NULL;
	why = json_string_value(json_object_get(json_object_get(resp,
	    "incomplete_details"), "reason"));
	return why != NULL ? why : "unknown";
}

/* The Pydantic error of a text that is not JSON (model_validate_json). */
static json_t *
json_invalid(const char *text, const json_error_t *je)
{
	char	 msg[RL_GEN_ERRLINE_MAX];
	size_t	 n;

	(void)snprintf(msg, sizeof(msg), "Invalid JSON: %s at line %d "
	    "column %d", je->text, je->line, je->column);
	msg[utf8_cut(msg, sizeof(msg) - 1)] = '\0';
	n = utf8_cut(text, RL_GEN_INPUT_KEPT);
	return json_pack("[{s:s, s:[], s:s, s:s%}]", "type", "json_invalid",
	    "loc", "msg", msg, "input", text, n);
}

/*
 * Read one answer.  RL_OK: g->result (schema) or g->text is the answer.
 * RL_EVALIDATION: not JSON or not valid, g->errors says why (the caller
 * may ask again).  Anything else is final.
 */
static enum rl_err
take_answer(struct rl_gen *g, struct run *r, const struct rl_oa_call *c,
    struct rl_error *e)
{
	struct rl_buf	 refusal;
	json_error_t	 je;
	json_t		*v = NULL, *errs = NULL, *ok = NULL;
	const char	*why;
	enum rl_err	 err;

	rl_buf_init(&refusal, TEXT_MAX);
	if (read_output(c->answer, &r->text, &refusal) != RL_OK) {
		err = rl_error_set(e, RL_ENOMEM, "out of memory");
		goto out;
	}
	if (rl_buf_len(&refusal) > 0) {
		err = rl_error_set(e, RL_EUPSTREAM, "Le modèle a refusé de "
		    "répondre : %s", rl_buf_str(&refusal));
		goto out;
	}
	if ((why = incomplete(c->answer, c->finish)) != NULL) {
		err = rl_error_set(e, RL_EUPSTREAM, "Réponse du modèle "
		    "incomplète (%s) : la limite de jetons a été atteinte "
		    "avant la fin de la réponse.", why);
		goto out;
	}
	free(g->text);
	if ((g->text = strdup(rl_buf_str(&r->text))) == NULL) {
		err = rl_error_set(e, RL_ENOMEM, "out of memory");
		goto out;
	}
	if (g->schema == NULL) {
		err = rl_buf_len(&r->text) > 0 ? RL_OK : rl_error_set(e,
		    RL_EUPSTREAM,
		    MSG_EMPTY);
		goto out;
	}
	json_decref(g->errors);
	g->errors = NULL;
	if ((v = json_loads(g->text, JSON_DECODE_ANY, &je)) == NULL) {
		if (rl_buf_len(&r->text) == 0) {
			err = rl_error_set(e, RL_EUPSTREAM, MSG_EMPTY);
			goto out;
		}
		g->errors = json_invalid(g->text, &je);
		err = rl_error_set(e, RL_EVALIDATION, "La réponse du modèle "
		    "n'est pas un JSON valide.");
		goto out;
	}
	err = rl_schema_validate(g->schema, v, &ok, &errs, e);
	if (err == RL_EVALIDATION) {
		g->errors = errs;
		errs = NULL;
		err = rl_error_set(e, RL_EVALIDATION, "La réponse du modèle "
		    "ne respecte pas le schéma attendu (%zu erreur%s).",
		    json_array_size(g->errors),
		    json_array_size(g->errors) > 1 ? "s" : "");
		goto out;
	}
	if (err != RL_OK)
		goto out;
	json_decref(g->result);
	g->result = ok;
	ok = NULL;
out:
	rl_buf_free(&refusal);
	json_decref(v);
	json_decref(errs);
	json_decref(ok);
	return err;
}

/* The input of the second call: the exchange so far and the errors. */
static json_t *
retry_input(const struct rl_gen *g, const json_t *first)
{
	json_t	*in;
	char	*errs, *msg = NULL;
	size_t	 len;

	if ((errs = rl_gen_errors_text(g->errors, opt(g->name))) == NULL)
		return NULL;
	len = strlen(errs) + sizeof(RL_GEN_RETRY_PROMPT) + 1;
	if ((msg = malloc(len)) != NULL)
		(void)snprintf(msg, len, "%s\n%s", RL_GEN_RETRY_PROMPT, errs);
	free(errs);
	if (msg == NULL || (in = json_deep_copy(first)) == NULL) {
		free(msg);
		return NULL;
	}
	if (json_array_append_new(in, json_pack("{s:s, s:s}", "role",
	    "assistant", "content", g->text != NULL ? g->text : "")) == -1 ||
	    json_array_append_new(in, json_pack("{s:s, s:s}", "role", "user",
	    "content", msg)) == -1) {
		json_decref(in);
		in = NULL;
	}
	free(msg);
	return in;
}

/* One paid call; its usage and cost are added to g. */
static enum rl_err
call_once(struct rl_gen *g, const struct rl_model *m, const json_t *input,
    struct run *r, struct rl_error *e)
{
	struct rl_ai	 ai;
	json_t		*body;
	enum rl_err	 err;

	memset(&ai, 0, sizeof(ai));
	rl_buf_reset(&r->text);
	rl_buf_reset(&r->reasoning);
	r->summary = 0;
	r->dirty = 0;
	r->call = r->calls0 + g->calls + 1;
	if ((body = rl_gen_body(g, m, input)) == NULL)
		return rl_error_set(e, RL_ENOMEM, "out of memory");
	/* A new call starts a new text: readers see stream_call move. */
	if (g->task != NULL && publish(r) == -1) {
		json_decref(body);
		return rl_error_set(e, RL_EGONE, MSG_CANCELLED);
	}
	ai.user_id = g->user_id;
	ai.feature = g->feature != NULL ? g->feature : "relais.generate";
	ai.request_id = g->request_id;
	ai.task_id = g->task != NULL ? g->task->id : NULL;
	ai.model = m;
	ai.max_output = output_cap(g, m);
	ai.call.path = "/responses";
	ai.call.body = body;
	ai.call.on_event = on_event;
	ai.call.arg = r;
	err = rl_ai_call(&ai, e);
	g->calls++;
	/*
	 * A cancel stops the transfer from outside (the worker's listener,
	 * openai.h) with no event to tell on_event: the call's RL_EGONE is
	 * the task's cancel, said as such.
	 */
	if (g->task != NULL && err == RL_EGONE && !r->cancelled &&
	    rl_task_cancelled(g->task))
		r->cancelled = 1;
	if (ai.settled) {
		g->usage.input_tokens += ai.call.usage.input_tokens;
		g->usage.cached_tokens += ai.call.usage.cached_tokens;
		g->usage.output_tokens += ai.call.usage.output_tokens;
		g->usage.reasoning_tokens += ai.call.usage.reasoning_tokens;
		g->usage.reported = ai.call.usage.reported;
		g->cost_micro += ai.cost_micro;
	}
	if (ai.call.response_id[0] != '\0')
		(void)snprintf(g->response_id, sizeof(g->response_id), "%s",
		    ai.call.response_id);
	free(g->reasoning);
	g->reasoning = rl_buf_len(&r->reasoning) > 0 ?
	    strdup(rl_buf_str(&r->reasoning)) : NULL;
	if (g->task != NULL && !r->cancelled && publish(r) == -1)
		r->cancelled = 1;
	if (r->cancelled)
		err = rl_error_set(e, RL_EGONE, MSG_CANCELLED);
	else if (err == RL_OK)
		err = take_answer(g, r, &ai.call, e);
	rl_ai_free(&ai);
	json_decref(body);
	return err;
}

/*
 * A task run again after its worker died: the dead attempt's upstream
 * call never settled, so its hold is still open.  Nobody else will settle
 * it (the task is ours now), and its call may have reached the upstream,
 * which bills what it produced: it is settled at its reserved amount
 * ('lost', money.md), as the sweep would an hour later, and that frees
 * the rest of the user's credits for this run now.  A call of the earlier
 * attempt that did settle keeps its one ledger row: only open holds are
 * taken.  A settlement still queued in a live earlier worker (its lease
 * lapsed while the database was away) then finds the hold settled and
 * writes nothing: billed once, at the bound.
 */
static void
settle_stale_holds(const struct rl_task *t)
{
	struct rl_error	 e;
	int		 n;

	rl_error_clear(&e);
	/* Left open when the database is away: the sweep settles them. */
	if (rl_credits_settle_task(t->id, &n, &e) != RL_OK)
		rl_log_warn("task %s: stale holds: %s", t->id, e.msg);
	else if (n > 0)
		rl_log_info("task %s attempt %d: settled %d hold(s) of an "
		    "earlier attempt at their reserved amount", t->id,
		    t->attempt, n);
}

/*
 * The task's last stream_call: a task may run several generations (two
 * passes, a field then the calendar), and each call must get a new
 * number so that a reader never takes a new text for the old one grown.
 */
static int
last_call(const struct rl_task *t)
{
	struct rl_dbres	*r = NULL;
	struct rl_error	 e;
	const char	*p[1];
	int		 n = 0;

	p[0] = t->id;
	rl_error_clear(&e);
	if (rl_db_exec("SELECT CASE WHEN jsonb_typeof(meta->'stream_call') = "
	    "'number' THEN trunc((meta->>'stream_call')::numeric) ELSE 0 END "
	    "FROM tasks WHERE id = $1::uuid", 1, p, &r, &e) == RL_OK &&
	    rl_dbres_rows(r) == 1)
		n = (int)strtol(rl_dbres_get(r, 0, 0), NULL, 10);
	rl_dbres_free(r);
	return n;
}

enum rl_err
rl_gen_run(struct rl_gen *g, struct rl_error *e)
{
	struct rl_model	 m;
	struct run	 r;
	json_t		*first = NULL, *input = NULL;
	enum rl_err	 err;

	memset(&r, 0, sizeof(r));
	rl_buf_init(&r.text, TEXT_MAX);
	rl_buf_init(&r.reasoning, TEXT_MAX);
	r.g = g;
	g->calls = 0;
	g->cost_micro = 0;
	memset(&g->usage, 0, sizeof(g->usage));
	g->response_id[0] = '\0';
	g->model_name[0] = '\0';
	if (g->prompt == NULL) {
		err = rl_error_set(e, RL_EINVAL, "rl_gen_run: no prompt");
		goto out;
	}
	if ((err = rl_model_lookup(opt(g->model) != NULL ? g->model :
	    RL_GEN_DEFAULT_MODEL, &m, e)) != RL_OK)
		goto out;
	(void)snprintf(g->model_name, sizeof(g->model_name), "%s", m.name);
	if (g->task != NULL && g->task->attempt > 1)
		settle_stale_holds(g->task);
	if (g->task != NULL)
		r.calls0 = last_call(g->task);
	if ((first = rl_gen_input(g)) == NULL) {
		err = rl_error_set(e, RL_ENOMEM, "out of memory");
		goto out;
	}
	err = call_once(g, &m, first, &r, e);
	while (err == RL_EVALIDATION && g->calls < RL_GEN_MAX_CALLS) {
		rl_log_info("generation %s: %s; asking again with the errors",
		    g->feature != NULL ? g->feature : "", e->msg);
		json_decref(input);
		if ((input = retry_input(g, first)) == NULL) {
			err = rl_error_set(e, RL_ENOMEM, "out of memory");
			goto out;
		}
		err = call_once(g, &m, input, &r, e);
	}
	/* The caller sees an invalid answer as the upstream's fault. */
	if (err == RL_EVALIDATION)
		err = RL_EUPSTREAM;
	if (err != RL_OK) {
		e->code = err;
		goto out;
	}
	json_decref(g->errors);
	g->errors = NULL;
out:
	rl_buf_free(&r.text);
	rl_buf_free(&r.reasoning);
	json_decref(first);
	json_decref(input);
	return err;
}

/*
 * A batch line's body: the synchronous path's request (rl_gen_body of
 * the first input), minus "stream", which the Batch API refuses.
 */
json_t *
rl_gen_batch_body(const struct rl_gen *g, const struct rl_model *m)
{
	json_t	*input, *b;

	if ((input = rl_gen_input(g)) == NULL)
		return NULL;
	b = rl_gen_body(g, m, input);
	json_decref(input);
	if (b != NULL)
		(void)json_object_del(b, "stream");
	return b;
}

/*
 * Check a Responses object obtained elsewhere (a batch's output line) as
 * a call's answer is checked: the same take_answer, so a batch result
 * is held to exactly what a synchronous one is.
 */
enum rl_err
rl_gen_answer(struct rl_gen *g, const json_t *response, struct rl_error *e)
{
	struct rl_oa_call	 c;
	struct run		 r;
	enum rl_err		 err;

	memset(&c, 0, sizeof(c));
	memset(&r, 0, sizeof(r));
	rl_buf_init(&r.text, TEXT_MAX);
	rl_buf_init(&r.reasoning, TEXT_MAX);
	r.g = g;
	c.answer = (json_t *)(uintptr_t)response;
	err = take_answer(g, &r, &c, e);
	rl_buf_free(&r.text);
	rl_buf_free(&r.reasoning);
	return err;
}

void
rl_gen_free(struct rl_gen *g)
{

	json_decref(g->result);
	json_decref(g->errors);
	free(g->text);
	free(g->reasoning);
	g->result = g->errors = NULL;
	g->text = g->reasoning = NULL;
}

/*
 * Compile sj, then run g strictly against it under name.  The compiled
 * schema is *schema (NULL if it did not compile), for the caller to free.
 */
enum rl_err
rl_gen_run_schema(struct rl_gen *g, const json_t *sj, const char *name,
    struct rl_schema **schema, struct rl_error *e)
{

	if ((*schema = rl_schema_compile(sj, RL_SCHEMA_LAX, e)) == NULL)
		return e->code;
	g->schema = *schema;
	g->schema_json = sj;
	g->name = name;
	g->strict = 1;
	return rl_gen_run(g, e);
}

/* Point g at a settings object (borrowed strings). */
void
rl_gen_settings(struct rl_gen *g, const json_t *s)
{

	g->model = json_string_value(json_object_get(s, "model"));
	g->effort = json_string_value(json_object_get(s, "effort"));
	g->verbosity = json_string_value(json_object_get(s, "verbosity"));
	g->system = json_string_value(json_object_get(s, "system"));
}

json_t *
rl_gen_usage_json(const struct rl_gen *g)
{
	char	 cost[32];
	json_t	*c;

	/*
	 * The cost in USD as a number: the double nearest its exact 6-decimal
	 * text, the value EDxo's round(cost, 6) gives a client.
	 */
	(void)rl_micro_fmt(g->cost_micro, cost, sizeof(cost));
	if ((c = json_loads(cost, JSON_DECODE_ANY, NULL)) == NULL)
		return NULL;
	return json_pack("{s:I, s:I, s:o, s:s}", "input_tokens",
	    (json_int_t)g->usage.input_tokens, "output_tokens",
	    (json_int_t)g->usage.output_tokens, "cost", c, "model",
	    g->model_name[0] != '\0' ? g->model_name : opt(g->model) != NULL ?
	    g->model : RL_GEN_DEFAULT_MODEL);
}

/*
 * relais.generate: one generation from the task's payload, for smoke
 * tests and operators.  Payload {model?, prompt, system?, effort?,
 * verbosity?, max_output?, schema? (a registry name or an inline JSON
 * Schema), name?, strict?, feature?}.  Result {status: "success", result
 * or text, reasoning_summary, usage, calls}; a failure is the worker's
 * {error, code}.
 */
enum rl_err
rl_gen_task(struct rl_task *t, json_t **result, struct rl_error *e)
{
	struct rl_gen		 g;
	struct rl_schema	*own = NULL;
	const json_t		*p = t->payload, *s;
	enum rl_err		 err;

	memset(&g, 0, sizeof(g));
	*result = NULL;
	g.user_id = t->user_id;
	g.task = t;
	g.feature = json_string_value(json_object_get(p, "feature"));
	g.model = json_string_value(json_object_get(p, "model"));
	g.prompt = json_string_value(json_object_get(p, "prompt"));
	g.system = json_string_value(json_object_get(p, "system"));
	g.effort = json_string_value(json_object_get(p, "effort"));
	g.verbosity = json_string_value(json_object_get(p, "verbosity"));
	g.name = json_string_value(json_object_get(p, "name"));
	g.strict = !json_is_false(json_object_get(p, "strict"));
	g.max_output = json_integer_value(json_object_get(p, "max_output"));
	if (g.prompt == NULL) {
		err = rl_error_set(e, RL_EINVAL, "payload: prompt (a string) "
		    "is required");
		goto out;
	}
	s = json_object_get(p, "schema");
	if (json_is_string(s)) {
		if ((g.schema = rl_schema_get(json_string_value(s))) ==
		    NULL) {
			err = rl_error_set(e, RL_EINVAL, "payload: no schema "
			    "%s", json_string_value(s));
			goto out;
		}
		if (g.name == NULL)
			g.name = json_string_value(s);
	} else if (json_is_object(s)) {
		if ((own = rl_schema_compile(s, RL_SCHEMA_LAX, e)) == NULL) {
			err = e->code;
			goto out;
		}
		g.schema = own;
	} else if (s != NULL && !json_is_null(s)) {
		err = rl_error_set(e, RL_EINVAL, "payload: schema must be a "
		    "name or an object");
		goto out;
	}
	if ((err = rl_gen_run(&g, e)) != RL_OK)
		goto out;
	*result = json_pack("{s:s, s:o, s:s?, s:o, s:i}", "status", "success",
	    g.schema != NULL ? "result" : "text", g.schema != NULL ?
	    json_incref(g.result) : json_string(g.text),
	    "reasoning_summary", g.reasoning, "usage", rl_gen_usage_json(&g),
	    "calls", g.calls);
	if (*result == NULL)
		err = rl_error_set(e, RL_ENOMEM, "out of memory");
out:
	rl_gen_free(&g);
	rl_schema_free(own);
	return err;
}

enum rl_err
rl_generation_settings(const char *section, const json_t *overrides,
    json_t **out, struct rl_error *e)
{
	const char	*p[4];

	p[0] = section;
	p[1] = json_string_value(json_object_get(overrides, "model"));
	p[2] = json_string_value(json_object_get(overrides,
	    "reasoning_effort"));
	p[3] = json_string_value(json_object_get(overrides, "verbosity"));
	return rl_cache_json(RL_CACHE_T(RL_CACHE_SETTINGS),
	    "SELECT json_build_object("
	    "'model', coalesce(nullif($2::text, ''), s.ai_model, "
	    "c.chat_model, '" RL_GEN_DEFAULT_MODEL "'), "
	    "'effort', coalesce(nullif($3::text, ''), s.reasoning_effort, "
	    "c.reasoning_effort), "
	    "'verbosity', coalesce(nullif($4::text, ''), s.verbosity, "
	    "c.verbosity), "
	    "'system', s.system_prompt) "
	    "FROM chat_model_config c LEFT JOIN section_ai_settings s "
	    "ON s.section = $1::text WHERE c.id = 1", 4, p, out, e);
}

enum rl_err
rl_generation_precheck(long long user_id, const char *model,
    struct rl_error *e)
{
	struct rl_model		 m;
	struct rl_upstream_buf	 up;
	struct rl_dbres		*res = NULL;
	const char		*p[1];
	char			 uid[32];
	enum rl_err		 err;

	if ((err = rl_model_lookup(model, &m, e)) != RL_OK) {
		if (err == RL_EINVAL || err == RL_ENOTFOUND)
			err = rl_error_field(e, RL_EINVAL, "ai_model",
			    "Modèle inconnu : %s", model);
		return err;
	}
	if ((err = rl_model_upstream(&m, user_id, &up, e)) != RL_OK)
		return err;
	(void)snprintf(uid, sizeof(uid), "%lld", user_id);
	p[0] = uid;
	if ((err = rl_db_exec("SELECT credits > 0 FROM users "
	    "WHERE id = $1::bigint", 1, p, &res, e)) != RL_OK)
		return err;
	if (rl_dbres_rows(res) != 1 || strcmp(rl_dbres_get(res, 0, 0),
	    "t") != 0)
		err = rl_error_set(e, RL_ECREDITS,
		    "Crédits insuffisants pour cette opération.");
	rl_dbres_free(res);
	return err;
}
