/*
 * completions: Chat Completions for API clients, with relais' keys,
 * prices, credits and ledger in between.  Two surfaces over one core:
 *
 *	seed 003 (answers {success, ...}, errors {success: false, error})
 *	POST   /api/ai/chat/completions		create (stream: SSE chunks)
 *	GET    /api/ai/chat/completions		stored completions, a page
 *	GET    /api/ai/chat/completions/<id>	one
 *	POST   /api/ai/chat/completions/<id>	its metadata replaced
 *	DELETE /api/ai/chat/completions/<id>
 *	GET    /api/ai/chat/completions/<id>/messages
 *
 *	OpenAI's own (the official SDKs with baseURL http://host/v1)
 *	the same six under /v1/chat/completions, GET /v1/models[/<id>],
 *	POST /v1/responses
 *
 * A create goes through the model registry's auto-configuration (a
 * parameter the model refuses is /ai/openai/chat/'s 400) and lib/ai.c
 * (reserve, call, settle: one ledger row per upstream call); store: true
 * keeps it in stored_completions, whatever the provider does with its own
 * store.  Every stored completion is its owner's: another user's id is a
 * 404 like a missing one.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ai.h"
#include "bounds.h"
#include "buf.h"
#include "crypto.h"
#include "db.h"
#include "fcgi.h"
#include "models.h"
#include "req.h"
#include "resp.h"
#include "sse.h"

/* Seed 003's default model when the request names none. */
#define DEFAULT_MODEL	"gpt-4o"
/* The ledger's feature of these calls. */
#define FEATURE_CHAT	"api.chat.completions"
#define FEATURE_RESP	"api.responses"
/* Marks a streamed chunk already forwarded (one frame, several events). */
#define SENT_MARK	"\x01relais-sent"
/* A stored completion's id: "chatcmpl-" + 24 hex digits, NUL. */
#define ID_LEN		(9 + 24 + 1)

/* Which surface a route is: its answers' shape. */
enum surface {
	SEED,		/* seed 003 */
	OPENAI		/* /v1 */
};

/* Keys of a create request that are relais', never sent upstream. */
static const char *const local_keys[] = {
	"messages", "model", "stream", "store", "metadata", "stream_options"
};

/* Characters (code points) of a UTF-8 string. */
static size_t
chars(const char *s)
{
	size_t	 n = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

static enum surface
surface_of(const struct rl_req *req)
{

	return (req->route->flags & RL_ROUTE_OPENAI) ? OPENAI : SEED;
}

/* Answer v (stolen), with success: true on the seed's routes. */
static enum rl_err
answer(struct rl_req *req, int status, json_t *v)
{

	if (v == NULL)
		return RL_ENOMEM;
	if (surface_of(req) == SEED &&
	    json_object_set_new(v, "success", json_true()) == -1) {
		json_decref(v);
		return RL_ENOMEM;
	}
	return rl_resp_json_new(req, status, v);
}

/*
 * OpenAI's metadata: at most RL_COMPL_META_KEYS string values, keys of at
 * most RL_COMPL_META_KEY_MAX characters, values of at most
 * RL_COMPL_META_VALUE_MAX.  A 400 naming the key.
 */
static enum rl_err
metadata_check(json_t *md, struct rl_error *e)
{
	const char	*k;
	json_t		*v;
	char		 where[RL_ERRWHERE_MAX];

	if (md == NULL || json_is_null(md))
		return RL_OK;
	if (!json_is_object(md))
		return rl_error_field(e, RL_EINVAL, "metadata", "metadata: an "
		    "object of strings is required");
	if (json_object_size(md) > RL_COMPL_META_KEYS)
		return rl_error_field(e, RL_EINVAL, "metadata", "metadata: at "
		    "most %d keys (%zu given)", RL_COMPL_META_KEYS,
		    json_object_size(md));
	json_object_foreach(md, k, v) {
		(void)snprintf(where, sizeof(where), "metadata.%.64s", k);
		if (chars(k) > RL_COMPL_META_KEY_MAX)
			return rl_error_field(e, RL_EINVAL, where, "metadata: "
			    "key \"%.64s...\" is longer than %d characters",
			    k, RL_COMPL_META_KEY_MAX);
		if (!json_is_string(v))
			return rl_error_field(e, RL_EINVAL, where, "metadata: "
			    "the value of \"%.64s\" must be a string", k);
		if (chars(json_string_value(v)) >
		    RL_COMPL_META_VALUE_MAX)
			return rl_error_field(e, RL_EINVAL, where, "metadata: "
			    "the value of \"%.64s\" is longer than %d "
			    "characters", k, RL_COMPL_META_VALUE_MAX);
	}
	return RL_OK;
}

/* OpenAI's usage object from ours. */
static json_t *
usage_json(const struct rl_usage *u)
{

	return json_pack("{s:I, s:I, s:I, s:{s:I}, s:{s:I}}",
	    "prompt_tokens", (json_int_t)u->input_tokens,
	    "completion_tokens", (json_int_t)u->output_tokens,
	    "total_tokens", (json_int_t)(u->input_tokens + u->output_tokens),
	    "prompt_tokens_details", "cached_tokens",
	    (json_int_t)u->cached_tokens,
	    "completion_tokens_details", "reasoning_tokens",
	    (json_int_t)u->reasoning_tokens);
}

/*
 * What a create needs besides the body: the model, the upstream body
 * (auto-configured) and its output cap.
 */
struct create {
	struct rl_model	 m;
	json_t		*ubody;
	long long	 max;
	int		 stream;
	int		 store;
	int		 include_usage;
	char		 id[ID_LEN];
	long long	 created;
};

/*
 * The registry's refusal of a parameter, answered: seed 001's body with
 * success: false on the seed's route, OpenAI's error on /v1.
 */
static enum rl_err
refused(struct rl_req *req, json_t *errbody)
{
	json_t	*o;

	if (surface_of(req) == SEED) {
		if (json_object_set_new(errbody, "success", json_false()) ==
		    -1) {
			json_decref(errbody);
			return RL_ENOMEM;
		}
		return rl_resp_json_new(req, 400, errbody);
	}
	o = json_pack("{s:{s:O?, s:s, s:O?, s:s}}", "error", "message",
	    json_object_get(errbody, "error"), "type",
	    "invalid_request_error", "param", json_array_get(
	    json_object_get(errbody, "invalid_params"), 0), "code",
	    "INVALID_PARAMETER_FOR_MODEL");
	json_decref(errbody);
	return rl_resp_json_new(req, 400, o);
}

/* The output cap the effective parameters send (max_* after configure). */
static long long
max_output(const json_t *eff)
{
	json_t	*v;

	if ((v = json_object_get(eff, "max_completion_tokens")) == NULL)
		v = json_object_get(eff, "max_tokens");
	return json_is_integer(v) ? json_integer_value(v) : 0;
}

/*
 * The request checked and shaped: model looked up, parameters through
 * rl_model_configure (*errbody: the refusal to answer), upstream body.
 */
static enum rl_err
prepare(const json_t *body, struct create *c, json_t **errbody,
    struct rl_error *e)
{
	const char	*model;
	json_t		*params = NULL, *eff = NULL, *msgs, *v;
	size_t		 i;
	enum rl_err	 err;

	msgs = json_object_get(body, "messages");
	if (json_array_size(msgs) > RL_COMPL_MESSAGES_MAX)
		return rl_error_field(e, RL_EINVAL, "messages", "messages: at "
		    "most %d messages", RL_COMPL_MESSAGES_MAX);
	if ((v = json_object_get(body, "n")) != NULL && json_is_integer(v) &&
	    (json_integer_value(v) < 1 || json_integer_value(v) >
	    RL_COMPL_N_MAX))
		return rl_error_field(e, RL_EINVAL, "n", "n: from 1 to %d",
		    RL_COMPL_N_MAX);
	if ((err = metadata_check(json_object_get(body, "metadata"), e)) !=
	    RL_OK)
		return err;
	c->stream = json_is_true(json_object_get(body, "stream"));
	c->store = json_is_true(json_object_get(body, "store"));
	c->include_usage = json_is_true(json_object_get(json_object_get(body,
	    "stream_options"), "include_usage"));
	if ((model = json_string_value(json_object_get(body, "model"))) ==
	    NULL)
		model = DEFAULT_MODEL;
	if ((err = rl_model_lookup(model, &c->m, e)) != RL_OK) {
		if (err == RL_EINVAL)
			rl_error_where(e, "model");
		return err;
	}
	if ((params = json_deep_copy(body)) == NULL)
		return rl_error_set(e, RL_ENOMEM, "out of memory");
	for (i = 0; i < sizeof(local_keys) / sizeof(local_keys[0]); i++)
		(void)json_object_del(params, local_keys[i]);
	if ((err = rl_model_configure(&c->m, params, &eff, errbody, e)) !=
	    RL_OK)
		goto out;
	c->max = max_output(eff);
	if ((v = rl_model_messages(&c->m, msgs)) == NULL ||
	    json_object_set_new(eff, "messages", v) == -1 ||
	    json_object_set_new(eff, "model", json_string(c->m.name)) == -1) {
		err = rl_error_set(e, RL_ENOMEM, "out of memory");
		goto out;
	}
	c->ubody = eff;
	eff = NULL;
	rl_random_hex(c->id + 9, 12);
	memcpy(c->id, "chatcmpl-", 9);
	c->created = (long long)time(NULL);
out:
	json_decref(params);
	json_decref(eff);
	return err;
}

/* The upstream's rate limit is the client's 429, not our 503. */
static enum rl_err
call_error(const struct rl_ai *ai, enum rl_err err, struct rl_error *e)
{

	if (err == RL_EUNAVAIL && ai->call.status == 429)
		return rl_error_set(e, RL_ERATELIMIT, "the provider's rate "
		    "limit was reached; retry later");
	return err;
}

/* Keep a completion (store: true); its owner reads it back. */
static enum rl_err
store(long long uid, const struct create *c, const json_t *body,
    const json_t *choices, const json_t *usage, struct rl_error *e)
{
	const json_t	*md;
	char		 ids[32], created[32];
	char		*msgs = NULL, *ch = NULL, *us = NULL, *mds = NULL;
	char		*rq = NULL;
	json_t		*req = NULL;
	const char	*p[9];
	enum rl_err	 err;

	md = json_object_get(body, "metadata");
	if ((req = json_deep_copy(c->ubody)) != NULL)
		(void)json_object_del(req, "messages");
	msgs = json_dumps(json_object_get(body, "messages"), JSON_COMPACT);
	ch = json_dumps(choices, JSON_COMPACT);
	us = json_dumps(usage, JSON_COMPACT);
	mds = json_is_object(md) ? json_dumps(md, JSON_COMPACT) :
	    strdup("{}");
	rq = req != NULL ? json_dumps(req, JSON_COMPACT) : NULL;
	if (msgs == NULL || ch == NULL || us == NULL || mds == NULL ||
	    rq == NULL) {
		err = rl_error_set(e, RL_ENOMEM, "out of memory");
		goto out;
	}
	(void)snprintf(ids, sizeof(ids), "%lld", uid);
	(void)snprintf(created, sizeof(created), "%lld", c->created);
	p[0] = c->id;
	p[1] = ids;
	p[2] = c->m.name;
	p[3] = msgs;
	p[4] = ch;
	p[5] = us;
	p[6] = mds;
	p[7] = rq;
	p[8] = created;
	err = rl_db_exec("INSERT INTO stored_completions (id, user_id, model, "
	    "messages, choices, usage, metadata, request, created) VALUES "
	    "($1, $2::bigint, $3, $4::jsonb, $5::jsonb, $6::jsonb, $7::jsonb, "
	    "$8::jsonb, $9::bigint)", 9, p, NULL, e);
out:
	free(msgs);
	free(ch);
	free(us);
	free(mds);
	free(rq);
	json_decref(req);
	return err;
}

/* The answer of a plain create: OpenAI's chat.completion, our id. */
static enum rl_err
create_plain(struct rl_req *req, struct create *c, struct rl_error *e)
{
	struct rl_ai	 ai;
	json_t		*a, *choices, *usage = NULL, *v;
	enum rl_err	 err;

	memset(&ai, 0, sizeof(ai));
	ai.user_id = req->user->id;
	ai.feature = FEATURE_CHAT;
	ai.request_id = req->id;
	ai.model = &c->m;
	ai.max_output = c->max;
	ai.later = 1;	/* the ledger row is written after the answer */
	ai.call.path = "/chat/completions";
	ai.call.body = c->ubody;
	if ((err = rl_ai_call(&ai, e)) != RL_OK) {
		err = call_error(&ai, err, e);
		goto out;
	}
	choices = json_object_get(ai.call.answer, "choices");
	if (!json_is_array(choices)) {
		err = rl_error_set(e, RL_EUPSTREAM, "the provider's answer has "
		    "no choices");
		goto out;
	}
	if ((usage = usage_json(&ai.call.usage)) == NULL) {
		err = rl_error_set(e, RL_ENOMEM, "out of memory");
		goto out;
	}
	if (c->store && (err = store(req->user->id, c, req->json, choices,
	    usage, e)) != RL_OK)
		goto out;
	a = json_pack("{s:s, s:s, s:I, s:s, s:O, s:O}", "id", c->id,
	    "object", "chat.completion", "created", (json_int_t)c->created,
	    "model", c->m.name, "choices", choices, "usage", usage);
	if (a != NULL && (v = json_object_get(ai.call.answer,
	    "system_fingerprint")) != NULL && json_is_string(v))
		(void)json_object_set(a, "system_fingerprint", v);
	err = answer(req, 200, a);
out:
	json_decref(usage);
	rl_ai_free(&ai);
	return err;
}

/* A stream in flight: the client's side and what is kept to store. */
struct stream {
	struct rl_req	*req;
	struct rl_sse	*sse;
	struct create	*c;
	enum rl_err	 err;
	struct rl_buf	 text[RL_COMPL_N_MAX];
	char		 finish[RL_COMPL_N_MAX][32];
	int		 nchoices;
};

/* Keep what a chunk adds to each choice, for the stored answer. */
static void
keep(struct stream *s, const json_t *chunk)
{
	json_t		*ch, *v;
	size_t		 i;
	json_int_t	 idx;

	json_array_foreach(json_object_get(chunk, "choices"), i, ch) {
		idx = json_integer_value(json_object_get(ch, "index"));
		if (idx < 0 || idx >= RL_COMPL_N_MAX)
			continue;
		if (idx + 1 > s->nchoices)
			s->nchoices = (int)idx + 1;
		v = json_object_get(json_object_get(ch, "delta"), "content");
		if (json_is_string(v))
			(void)rl_buf_add(&s->text[idx], json_string_value(v),
			    json_string_length(v));
		if (json_is_string(v = json_object_get(ch, "finish_reason")))
			(void)snprintf(s->finish[idx], sizeof(s->finish[idx]),
			    "%s", json_string_value(v));
	}
}

/*
 * What both streamed routes do with an upstream event: open the stream
 * at the first one (so that everything failing before is an ordinary
 * error with its status), send data (NULL: nothing) under event, and
 * stop when the client has gone.  1 stops the call, s->err saying why.
 */
static int
forward(struct stream *s, const char *event, const char *data)
{
	struct rl_error	 e;

	if (s->sse == NULL && (s->sse = rl_sse_open(s->req, &e)) == NULL) {
		s->err = RL_EGONE;
		return 1;
	}
	if (data != NULL &&
	    (s->err = rl_sse_send(s->sse, event, NULL, data)) != RL_OK)
		return 1;
	if (rl_sse_gone(s->sse)) {
		s->err = RL_EGONE;
		return 1;
	}
	return 0;
}

/*
 * Forward each upstream chunk once (a chunk of several choices comes as
 * several events), under our id; the usage chunk only when the client
 * asked for it (stream_options.include_usage).
 */
static int
on_event(void *arg, const struct rl_oa_event *ev)
{
	struct stream	*s = arg;
	json_t		*d = ev->data;
	char		*out = NULL;
	int		 usage_only, rc;

	if (!json_is_object(d) || ev->type == NULL ||
	    strcmp(ev->type, "chunk") != 0 ||
	    json_object_get(d, SENT_MARK) != NULL)
		return forward(s, NULL, NULL);
	keep(s, d);
	usage_only = json_array_size(json_object_get(d, "choices")) == 0 &&
	    json_object_get(d, "usage") != NULL;
	(void)json_object_set_new(d, "id", json_string(s->c->id));
	(void)json_object_set_new(d, "model", json_string(s->c->m.name));
	(void)json_object_set_new(d, "created", json_integer(s->c->created));
	if (!s->c->include_usage)
		(void)json_object_del(d, "usage");
	if ((!usage_only || s->c->include_usage) &&
	    (out = json_dumps(d, JSON_COMPACT)) == NULL) {
		s->err = RL_ENOMEM;
		return 1;
	}
	rc = forward(s, NULL, out);
	free(out);
	(void)json_object_set_new(d, SENT_MARK, json_true());
	return rc;
}

/* The answer a stream leaves to store: its choices as one message each. */
static json_t *
stream_choices(struct stream *s)
{
	json_t	*a, *c;
	int	 i;

	if ((a = json_array()) == NULL)
		return NULL;
	for (i = 0; i < s->nchoices; i++) {
		c = json_pack("{s:i, s:{s:s, s:s%}, s:s}", "index", i,
		    "message", "role", "assistant", "content",
		    rl_buf_str(&s->text[i]) != NULL ?
		    rl_buf_str(&s->text[i]) : "", rl_buf_len(&s->text[i]),
		    "finish_reason", s->finish[i][0] != '\0' ? s->finish[i] :
		    "stop");
		if (c == NULL || json_array_append_new(a, c) == -1) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

/*
 * A streamed call (ai->call.on_event set, s its argument) and what its
 * start decides, the same for both streamed routes.  *streaming = 0:
 * nothing more is to be sent and the result is the answer (an ordinary
 * error when no frame went out, the provider's 429 as ours; RL_EGONE when
 * the client left; or the stream that could not open).  *streaming = 1:
 * the stream is open and the caller ends it; the result is the call's
 * own, and ce its error for the caller's error frame.
 */
static enum rl_err
stream_call(struct rl_ai *ai, struct stream *s, struct rl_error *ce,
    int *streaming, struct rl_error *e)
{
	enum rl_err	 err;

	*streaming = 0;
	rl_error_clear(ce);
	err = rl_ai_call(ai, ce);
	if (s->sse == NULL && err != RL_OK) {
		*e = *ce;
		return call_error(ai, err, e);
	}
	if (err == RL_EGONE || s->err == RL_EGONE)
		return rl_error_set(e, RL_EGONE, "client went away");
	if (s->sse == NULL && (s->sse = rl_sse_open(s->req, e)) == NULL)
		return e->code;
	*streaming = 1;
	return err;
}

/*
 * stream: true.  The money is held first, so that a user without
 * credits hears 402 rather than a stream that ends at once; a stream the
 * client cuts is billed for what was used (rl_ai_call, "partial").  A
 * failure after the first chunk ends the stream with an error frame, as
 * OpenAI does, then [DONE].
 */
static enum rl_err
create_stream(struct rl_req *req, struct create *c, struct rl_error *e)
{
	struct rl_ai	 ai;
	struct stream	 s;
	struct rl_error	 ce;
	json_t		*choices = NULL, *usage = NULL, *frame;
	long long	 hold = 0;
	char		*out;
	enum rl_err	 err;
	int		 i, streaming;

	memset(&ai, 0, sizeof(ai));
	memset(&s, 0, sizeof(s));
	for (i = 0; i < RL_COMPL_N_MAX; i++)
		rl_buf_init(&s.text[i], RL_COMPL_TEXT_MAX);
	if ((err = rl_ai_reserve(req->user->id, &c->m, rl_ai_bound(&c->m,
	    c->ubody, c->max), req->id, NULL, &hold, e)) != RL_OK)
		goto out;
	ai.user_id = req->user->id;
	ai.feature = FEATURE_CHAT;
	ai.request_id = req->id;
	ai.model = &c->m;
	ai.max_output = c->max;
	ai.hold_id = hold;	/* rl_ai_call consumes it, whatever happens */
	ai.later = 1;
	ai.call.path = "/chat/completions";
	ai.call.body = c->ubody;
	ai.call.on_event = on_event;
	ai.call.arg = &s;
	s.req = req;
	s.c = c;
	err = stream_call(&ai, &s, &ce, &streaming, e);
	if (!streaming)
		goto out;
	if (err != RL_OK) {
		frame = json_pack("{s:{s:s, s:s, s:n, s:s}}", "error",
		    "message", ce.msg[0] != '\0' ? ce.msg : rl_strerror(err),
		    "type", rl_err_type_openai(err), "param", "code",
		    rl_err_token(err));
		out = frame != NULL ? json_dumps(frame, JSON_COMPACT) : NULL;
		json_decref(frame);
		if (out != NULL)
			(void)rl_sse_send(s.sse, NULL, NULL, out);
		free(out);
		*e = ce;
	} else if (c->store) {
		if ((choices = stream_choices(&s)) == NULL ||
		    (usage = usage_json(&ai.call.usage)) == NULL)
			err = rl_error_set(e, RL_ENOMEM, "out of memory");
		else
			err = store(req->user->id, c, req->json, choices,
			    usage, e);
		if (err != RL_OK)
			(void)rl_sse_send(s.sse, NULL, NULL, "{\"error\":{"
			    "\"message\":\"the completion could not be "
			    "stored\",\"type\":\"api_error\",\"param\":null,"
			    "\"code\":\"db_error\"}}");
	}
	(void)rl_sse_send(s.sse, NULL, NULL, "[DONE]");
	rl_sse_close(s.sse);
	/* The stream was answered; an error now is only for the log. */
	if (err != RL_OK && e->code == RL_OK)
		(void)rl_error_set(e, err, NULL);
out:
	for (i = 0; i < RL_COMPL_N_MAX; i++)
		rl_buf_free(&s.text[i]);
	json_decref(choices);
	json_decref(usage);
	rl_ai_free(&ai);
	return err;
}

/* POST /api/ai/chat/completions, POST /v1/chat/completions. */
static enum rl_err
create(struct rl_req *req, struct rl_error *e)
{
	struct create	 c;
	json_t		*errbody = NULL;
	enum rl_err	 err;

	memset(&c, 0, sizeof(c));
	err = prepare(req->json, &c, &errbody, e);
	if (errbody != NULL)
		return refused(req, errbody);
	if (err == RL_OK)
		err = c.stream ? create_stream(req, &c, e) :
		    create_plain(req, &c, e);
	json_decref(c.ubody);
	return err;
}

/* A stored completion as OpenAI's object, in SQL over row s. */
#define OBJECT								\
	"json_build_object('id', s.id, 'object', 'chat.completion', "	\
	"'created', s.created, 'model', s.model, 'choices', s.choices, " \
	"'usage', s.usage, 'metadata', s.metadata)"
/* The seed's list entry. */
#define ENTRY								\
	"json_build_object('id', s.id, 'model', s.model, "		\
	"'created', s.created, 'usage', s.usage)"

/*
 * One page of a user's stored completions: $1 user, $2 model or NULL,
 * $3 metadata filter (every pair must match), $4 cursor id or NULL, $5
 * asc|desc, $6 limit + 1 (the extra row says has_more).
 */
#define CURSOR							\
	"(SELECT c.seq FROM stored_completions c WHERE c.id = $4 "	\
	"AND c.user_id = $1::bigint)"
#define LIST(what)							\
	"SELECT coalesce(json_agg(" what " ORDER BY "			\
	"CASE WHEN $5 = 'asc' THEN s.seq END, s.seq DESC), '[]') FROM (" \
	"SELECT * FROM stored_completions s WHERE s.user_id = $1::bigint " \
	"AND ($2::text IS NULL OR s.model = $2) "			\
	"AND s.metadata @> $3::jsonb AND ($4::text IS NULL OR "		\
	"CASE WHEN $5 = 'asc' THEN s.seq > " CURSOR " ELSE s.seq < "	\
	CURSOR " END) "							\
	"ORDER BY CASE WHEN $5 = 'asc' THEN s.seq END, s.seq DESC "	\
	"LIMIT $6::integer) s"

/* The metadata filter of a list: every metadata[key]=value of the query. */
static enum rl_err
metadata_filter(const struct rl_req *req, char **out, struct rl_error *e)
{
	json_t		*f;
	const char	*k;
	size_t		 i, len;
	char		 key[RL_COMPL_META_KEY_MAX * 4 + 1];

	if ((f = json_object()) == NULL)
		return rl_error_set(e, RL_ENOMEM, "out of memory");
	for (i = 0; i < req->nquery; i++) {
		k = req->queryv[i].key;
		len = strlen(k);
		if (strncmp(k, "metadata[", 9) != 0 || len < 11 ||
		    k[len - 1] != ']')
			continue;
		if (len - 10 >= sizeof(key)) {
			json_decref(f);
			return rl_error_field(e, RL_EINVAL, "metadata",
			    "metadata: a key is longer than %d characters",
			    RL_COMPL_META_KEY_MAX);
		}
		memcpy(key, k + 9, len - 10);
		key[len - 10] = '\0';
		if (json_object_set_new(f, key,
		    json_string(req->queryv[i].val)) == -1) {
			json_decref(f);
			return rl_error_field(e, RL_EINVAL, "metadata",
			    "metadata filter: not valid UTF-8");
		}
	}
	*out = json_dumps(f, JSON_COMPACT);
	json_decref(f);
	return *out == NULL ? rl_error_set(e, RL_ENOMEM, "out of memory") :
	    RL_OK;
}

/* Does the cursor name one of the user's completions?  404 if not. */
static enum rl_err
cursor_check(const char *uid, const char *after, struct rl_error *e)
{
	json_t		*v = NULL;
	const char	*p[2];
	enum rl_err	 err;

	if (after == NULL)
		return RL_OK;
	p[0] = after;
	p[1] = uid;
	if ((err = rl_db_json("SELECT count(*) FROM stored_completions "
	    "WHERE id = $1 AND user_id = $2::bigint", 2, p, &v, e)) != RL_OK)
		return err;
	if (json_integer_value(v) != 1)
		err = rl_error_field(e, RL_ENOTFOUND, "after", "no stored "
		    "completion %.64s", after);
	json_decref(v);
	return err;
}

/* The page's common answer members: has_more, first_id, last_id. */
static json_t *
page(json_t *rows, long long limit, int seed)
{
	json_t	*first, *last;

	if ((long long)json_array_size(rows) > limit)
		(void)json_array_remove(rows, json_array_size(rows) - 1);
	first = json_object_get(json_array_get(rows, 0), "id");
	last = json_object_get(json_array_get(rows, json_array_size(rows) -
	    1), "id");
	return json_pack("{s:o, s:o?, s:o?}", seed ? "completions" : "data",
	    rows, "first_id", first != NULL ? json_incref(first) : json_null(),
	    "last_id", last != NULL ? json_incref(last) : json_null());
}

/* GET /api/ai/chat/completions, GET /v1/chat/completions. */
static enum rl_err
list(struct rl_req *req, struct rl_error *e)
{
	json_t		*rows = NULL, *a;
	const char	*p[6], *order;
	char		 uid[32], lim[32], *md = NULL;
	long long	 limit;
	int		 more, seed = surface_of(req) == SEED;
	enum rl_err	 err;

	limit = json_is_integer(json_object_get(req->json, "limit")) ?
	    json_integer_value(json_object_get(req->json, "limit")) :
	    RL_COMPL_LIST_DEFAULT;
	if ((order = json_string_value(json_object_get(req->json,
	    "order"))) == NULL)
		order = "asc";
	(void)snprintf(uid, sizeof(uid), "%lld", req->user->id);
	(void)snprintf(lim, sizeof(lim), "%lld", limit + 1);
	p[0] = uid;
	p[1] = json_string_value(json_object_get(req->json, "model"));
	p[3] = json_string_value(json_object_get(req->json, "after"));
	p[4] = order;
	p[5] = lim;
	if ((err = metadata_filter(req, &md, e)) != RL_OK ||
	    (err = cursor_check(uid, p[3], e)) != RL_OK)
		goto out;
	p[2] = md;
	if ((err = rl_db_json(seed ? LIST(ENTRY) : LIST(OBJECT), 6, p, &rows,
	    e)) != RL_OK)
		goto out;
	more = (long long)json_array_size(rows) > limit;
	a = page(rows, limit, seed);
	rows = NULL;
	if (a != NULL && (json_object_set_new(a, "has_more",
	    json_boolean(more)) == -1 || (!seed && json_object_set_new(a,
	    "object", json_string("list")) == -1))) {
		json_decref(a);
		a = NULL;
	}
	err = answer(req, 200, a);
out:
	free(md);
	json_decref(rows);
	return err;
}

/* The user's stored completion <id> as OpenAI's object; 404 if none. */
static enum rl_err
get_one(struct rl_req *req, json_t **out, struct rl_error *e)
{
	const char	*p[2];
	char		 uid[32];
	enum rl_err	 err;

	(void)snprintf(uid, sizeof(uid), "%lld", req->user->id);
	p[0] = rl_req_param(req, "id");
	p[1] = uid;
	if ((err = rl_db_json("SELECT " OBJECT " FROM stored_completions s "
	    "WHERE s.id = $1 AND s.user_id = $2::bigint", 2, p, out, e)) !=
	    RL_OK)
		return err;
	if (!json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		return rl_error_set(e, RL_ENOTFOUND, "no stored completion "
		    "%.64s", p[0]);
	}
	return RL_OK;
}

static enum rl_err
retrieve(struct rl_req *req, struct rl_error *e)
{
	json_t		*v = NULL;
	enum rl_err	 err;

	if ((err = get_one(req, &v, e)) != RL_OK)
		return err;
	return answer(req, 200, v);
}

/* POST .../<id>: the metadata replaced, as OpenAI's update does. */
static enum rl_err
update(struct rl_req *req, struct rl_error *e)
{
	json_t		*md = json_object_get(req->json, "metadata"), *v = NULL;
	const char	*p[3];
	char		 uid[32], *mds;
	enum rl_err	 err;

	if ((err = metadata_check(md, e)) != RL_OK)
		return err;
	if ((mds = json_is_object(md) ? json_dumps(md, JSON_COMPACT) :
	    strdup("{}")) == NULL)
		return rl_error_set(e, RL_ENOMEM, "out of memory");
	(void)snprintf(uid, sizeof(uid), "%lld", req->user->id);
	p[0] = rl_req_param(req, "id");
	p[1] = uid;
	p[2] = mds;
	err = rl_db_json("UPDATE stored_completions s SET metadata = "
	    "$3::jsonb WHERE s.id = $1 AND s.user_id = $2::bigint "
	    "RETURNING " OBJECT, 3, p, &v, e);
	free(mds);
	if (err != RL_OK)
		return err;
	if (!json_is_object(v)) {
		json_decref(v);
		return rl_error_set(e, RL_ENOTFOUND, "no stored completion "
		    "%.64s", p[0]);
	}
	return answer(req, 200, v);
}

static enum rl_err
delete(struct rl_req *req, struct rl_error *e)
{
	struct rl_dbres	*r = NULL;
	const char	*p[2];
	char		 uid[32];
	enum rl_err	 err;

	(void)snprintf(uid, sizeof(uid), "%lld", req->user->id);
	p[0] = rl_req_param(req, "id");
	p[1] = uid;
	if ((err = rl_db_exec("DELETE FROM stored_completions WHERE id = $1 "
	    "AND user_id = $2::bigint", 2, p, &r, e)) != RL_OK)
		return err;
	if (rl_dbres_affected(r) != 1)
		err = rl_error_set(e, RL_ENOTFOUND, "no stored completion "
		    "%.64s", p[0]);
	rl_dbres_free(r);
	if (err != RL_OK)
		return err;
	return answer(req, 200, json_pack("{s:s, s:s, s:b}", "object",
	    "chat.completion.deleted", "id", p[0], "deleted", 1));
}

/*
 * The request messages of a stored completion, each with an id
 * "<completion id>-<index>" that "after" takes: $1 id, $2 user, $3 index
 * after which (-1: from the start), $4 asc|desc, $5 limit + 1.  NULL when
 * the completion is not the user's.
 */
#define MESSAGES							\
	"SELECT json_build_object('data', coalesce((SELECT json_agg("	\
	"m.value || jsonb_build_object('id', s.id || '-' || (m.n - 1)) " \
	"ORDER BY CASE WHEN $4 = 'asc' THEN m.n END, m.n DESC) FROM ("	\
	"SELECT * FROM jsonb_array_elements(s.messages) WITH ORDINALITY " \
	"x(value, n) WHERE $3::integer < 0 OR CASE WHEN $4 = 'asc' "	\
	"THEN x.n - 1 > $3::integer ELSE x.n - 1 < $3::integer END "	\
	"ORDER BY CASE WHEN $4 = 'asc' THEN x.n END, x.n DESC "		\
	"LIMIT $5::integer) m), '[]')) FROM stored_completions s "	\
	"WHERE s.id = $1 AND s.user_id = $2::bigint"

/* The index of a message id "<id>-<n>" of completion id; -1 if not. */
static long long
message_index(const char *id, const char *mid)
{
	size_t		 n = strlen(id);
	char		*end;
	long long	 i;

	if (strncmp(mid, id, n) != 0 || mid[n] != '-' || mid[n + 1] < '0' ||
	    mid[n + 1] > '9')
		return -1;
	i = strtoll(mid + n + 1, &end, 10);
	return *end == '\0' && i < RL_COMPL_MESSAGES_MAX ? i : -1;
}

static enum rl_err
messages(struct rl_req *req, struct rl_error *e)
{
	json_t		*v = NULL, *rows, *a;
	const char	*p[5], *after, *order;
	char		 uid[32], idx[32], lim[32];
	long long	 limit, i = -1;
	int		 more, seed = surface_of(req) == SEED;
	enum rl_err	 err;

	limit = json_is_integer(json_object_get(req->json, "limit")) ?
	    json_integer_value(json_object_get(req->json, "limit")) :
	    RL_COMPL_LIST_DEFAULT;
	if ((order = json_string_value(json_object_get(req->json,
	    "order"))) == NULL)
		order = "asc";
	p[0] = rl_req_param(req, "id");
	after = json_string_value(json_object_get(req->json, "after"));
	if (after != NULL && (i = message_index(p[0], after)) < 0)
		return rl_error_field(e, RL_ENOTFOUND, "after", "no message "
		    "%.64s in this completion", after);
	(void)snprintf(uid, sizeof(uid), "%lld", req->user->id);
	(void)snprintf(idx, sizeof(idx), "%lld", i);
	(void)snprintf(lim, sizeof(lim), "%lld", limit + 1);
	p[1] = uid;
	p[2] = idx;
	p[3] = order;
	p[4] = lim;
	if ((err = rl_db_json(MESSAGES, 5, p, &v, e)) != RL_OK)
		return err;
	if (!json_is_object(v)) {
		json_decref(v);
		return rl_error_set(e, RL_ENOTFOUND, "no stored completion "
		    "%.64s", p[0]);
	}
	rows = json_incref(json_object_get(v, "data"));
	json_decref(v);
	more = (long long)json_array_size(rows) > limit;
	if ((a = page(rows, limit, 0)) != NULL && seed) {
		/* The seed reads result['messages']. */
		(void)json_object_set(a, "messages", json_object_get(a,
		    "data"));
		(void)json_object_del(a, "data");
	}
	if (a != NULL && (json_object_set_new(a, "has_more",
	    json_boolean(more)) == -1 || (!seed && json_object_set_new(a,
	    "object", json_string("list")) == -1))) {
		json_decref(a);
		a = NULL;
	}
	return answer(req, 200, a);
}

/*
 * GET /v1/models: the registry's models, every one callable here (the
 * rows of openai_models; a name without a row is refused by create).
 */
#define MODEL								\
	"json_build_object('id', name, 'object', 'model', 'created', "	\
	"extract(epoch FROM created_at)::bigint, 'owned_by', provider)"

static enum rl_err
models(struct rl_req *req, struct rl_error *e)
{
	json_t		*v = NULL;
	enum rl_err	 err;

	if ((err = rl_db_json("SELECT json_build_object('object', 'list', "
	    "'data', coalesce(json_agg(" MODEL " ORDER BY name), '[]')) "
	    "FROM openai_models", 0, NULL, &v, e)) != RL_OK)
		return err;
	return rl_resp_json_new(req, 200, v);
}

static enum rl_err
model(struct rl_req *req, struct rl_error *e)
{
	json_t		*v = NULL;
	const char	*p[1];
	enum rl_err	 err;

	p[0] = rl_req_param(req, "id");
	if ((err = rl_db_json("SELECT " MODEL " FROM openai_models "
	    "WHERE name = $1", 1, p, &v, e)) != RL_OK)
		return err;
	if (!json_is_object(v)) {
		json_decref(v);
		return rl_error_field(e, RL_ENOTFOUND, "model", "The model "
		    "'%.64s' does not exist", p[0]);
	}
	return rl_resp_json_new(req, 200, v);
}

/*
 * Forward each Responses event as it came, its bytes under "event:
 * <type>": the client gets the upstream's frame, nothing parsed and
 * written again (the response's copies are not even parsed, openai.h).
 */
static int
on_response_event(void *arg, const struct rl_oa_event *ev)
{
	struct stream	*s = arg;

	return forward(s, ev->type, ev->type != NULL &&
	    strcmp(ev->type, "[DONE]") != 0 ? ev->raw : NULL);
}

/*
 * POST /v1/responses: the request goes to the provider's Responses API
 * as it came, with an output cap (max_output_tokens, the model's default
 * when not given, never above its maximum) so that the hold is bounded;
 * plain or streamed, billed as every call.
 */
static enum rl_err
responses(struct rl_req *req, struct rl_error *e)
{
	struct rl_model	 m;
	struct rl_ai	 ai;
	struct stream	 s;
	struct rl_error	 ce;
	json_t		*body = NULL, *v;
	const char	*name;
	long long	 max, hold = 0;
	enum rl_err	 err;
	int		 streaming;

	memset(&ai, 0, sizeof(ai));
	memset(&s, 0, sizeof(s));
	if ((name = json_string_value(json_object_get(req->json, "model"))) ==
	    NULL)
		name = DEFAULT_MODEL;
	if ((err = rl_model_lookup(name, &m, e)) != RL_OK) {
		if (err == RL_EINVAL)
			rl_error_where(e, "model");
		return err;
	}
	if ((err = metadata_check(json_object_get(req->json, "metadata"),
	    e)) != RL_OK)
		return err;
	v = json_object_get(req->json, "max_output_tokens");
	max = json_is_integer(v) ? json_integer_value(v) : m.default_max;
	if (m.max_output > 0 && max > m.max_output)
		max = m.max_output;
	if (max < 1)
		return rl_error_field(e, RL_EINVAL, "max_output_tokens",
		    "max_output_tokens: at least 1");
	if ((body = json_deep_copy(req->json)) == NULL ||
	    json_object_set_new(body, "model", json_string(m.name)) == -1 ||
	    json_object_set_new(body, "max_output_tokens",
	    json_integer(max)) == -1) {
		err = rl_error_set(e, RL_ENOMEM, "out of memory");
		goto out;
	}
	(void)json_object_del(body, "stream");
	(void)json_object_del(body, "stream_options");
	ai.user_id = req->user->id;
	ai.feature = FEATURE_RESP;
	ai.request_id = req->id;
	ai.model = &m;
	ai.max_output = max;
	ai.later = 1;
	ai.call.path = "/responses";
	ai.call.body = body;
	if (!json_is_true(json_object_get(req->json, "stream"))) {
		if ((err = rl_ai_call(&ai, e)) != RL_OK)
			err = call_error(&ai, err, e);
		else
			err = rl_resp_json(req, 200, ai.call.answer);
		goto out;
	}
	if ((err = rl_ai_reserve(ai.user_id, &m, rl_ai_bound(&m, body, max),
	    req->id, NULL, &hold, e)) != RL_OK)
		goto out;
	ai.hold_id = hold;
	ai.call.on_event = on_response_event;
	ai.call.arg = &s;
	s.req = req;
	err = stream_call(&ai, &s, &ce, &streaming, e);
	if (!streaming)
		goto out;
	if (err != RL_OK) {
		(void)rl_sse_send(s.sse, "error", NULL, "{\"type\":\"error\","
		    "\"code\":\"upstream_error\",\"message\":\"the provider "
		    "failed mid-stream\",\"param\":null}");
		*e = ce;
	}
	rl_sse_close(s.sse);
out:
	rl_ai_free(&ai);
	json_decref(body);
	return err;
}

/*
 * Every route takes Basic, Bearer (JWT or API token), X-API-Token and the
 * session; each body or query is its request schema.
 */
#define SEED_AUTH	(RL_ROUTE_AUTH | RL_ROUTE_KEYS | RL_ROUTE_SUCCESS)
#define V1_AUTH		(RL_ROUTE_AUTH | RL_ROUTE_KEYS | RL_ROUTE_OPENAI)

static const struct rl_route routes[] = {
	{ "POST", "/api/ai/chat/completions", create, "completions.create",
	    SEED_AUTH | RL_ROUTE_JSON | RL_ROUTE_STREAM, 0 },
	{ "GET", "/api/ai/chat/completions", list, "completions.list",
	    SEED_AUTH, 0 },
	{ "GET", "/api/ai/chat/completions/<id>", retrieve, NULL, SEED_AUTH,
	    0 },
	{ "POST", "/api/ai/chat/completions/<id>", update,
	    "completions.update", SEED_AUTH | RL_ROUTE_JSON, 0 },
	{ "DELETE", "/api/ai/chat/completions/<id>", delete, NULL, SEED_AUTH,
	    0 },
	{ "GET", "/api/ai/chat/completions/<id>/messages", messages,
	    "completions.messages", SEED_AUTH, 0 },

	{ "POST", "/v1/chat/completions", create, "completions.create",
	    V1_AUTH | RL_ROUTE_JSON | RL_ROUTE_STREAM, 0 },
	{ "GET", "/v1/chat/completions", list, "completions.list", V1_AUTH,
	    0 },
	{ "GET", "/v1/chat/completions/<id>", retrieve, NULL, V1_AUTH, 0 },
	{ "POST", "/v1/chat/completions/<id>", update, "completions.update",
	    V1_AUTH | RL_ROUTE_JSON, 0 },
	{ "DELETE", "/v1/chat/completions/<id>", delete, NULL, V1_AUTH, 0 },
	{ "GET", "/v1/chat/completions/<id>/messages", messages,
	    "completions.messages", V1_AUTH, 0 },
	{ "GET", "/v1/models", models, NULL, V1_AUTH, 0 },
	{ "GET", "/v1/models/<id>", model, NULL, V1_AUTH, 0 },
	{ "POST", "/v1/responses", responses, "completions.responses",
	    V1_AUTH | RL_ROUTE_JSON | RL_ROUTE_STREAM, 0 },
};

static const struct rl_program program = {
	"completions", routes, RL_NROUTES(routes), 0, 1, NULL
};

int
main(int argc, char *argv[])
{

	return rl_main(argc, argv, &program);
}
