/*
 * completion.c: the router's completion (seed 004).  See docs/completion.md.
 *
 *	POST /completion	one answer, whole or as server-sent events
 *	GET  /agents		the system prompt profiles (router_agents)
 *	GET  /models		the models the router offers
 *
 * The completion itself (model and agent rules, context, upstream body,
 * the billed call, price and emissions) is lib/router.c, which the
 * realtime WebSocket shares; this file answers it over HTTP: one JSON
 * answer, or server-sent events.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chat.h"
#include "db.h"
#include "models.h"
#include "req.h"
#include "resp.h"
#include "router.h"
#include "sse.h"

/*
 * Stream frames print amounts (micro-units as doubles) with 15 significant
 * digits: any amount below 1e9 with its 6 decimals and nothing more
 * (jansson's default, 17, prints 0.000123 as 0.00012300000000000001, the
 * same double).  The plain answer goes through rl_resp_json, the one path
 * of JSON answers, and prints them the default way.
 */
#define DUMP_FLAGS		(JSON_COMPACT | JSON_REAL_PRECISION(15))

/* A streamed completion: where the frames go. */
struct stream {
	struct rl_req	*req;
	struct rl_sse	*sse;
	const char	*model;
	const char	*agent;
	enum rl_err	 err;		/* why the stream was stopped */
};

static enum rl_err
send_frame(struct rl_sse *sse, json_t *v)
{
	enum rl_err	 err;
	char		*s;

	if (v == NULL)
		return RL_ENOMEM;
	s = json_dumps(v, DUMP_FLAGS);
	json_decref(v);
	if (s == NULL)
		return RL_ENOMEM;
	err = rl_sse_send(sse, NULL, NULL, s);
	free(s);
	return err;
}

/*
 * The stream opens on the upstream's first event, so that everything that
 * fails before (credits, key, an upstream refusal) is still an ordinary
 * JSON error with its status.  Returning non-zero stops the transfer.
 */
static int
on_event(void *arg, const struct rl_oa_event *ev)
{
	struct stream	*s = arg;
	struct rl_error	 e;

	if (s->sse == NULL && (s->sse = rl_sse_open(s->req, &e)) == NULL) {
		s->err = RL_EGONE;
		return 1;
	}
	if (ev->kind == RL_OA_EV_TEXT && ev->index == 0 && ev->deltalen > 0 &&
	    (s->err = send_frame(s->sse, json_pack("{s:s%, s:b, s:{s:s, "
	    "s:s}}", "content", ev->delta, ev->deltalen, "done", 0,
	    "metadata", "model", s->model, "agent", s->agent))) != RL_OK)
		return 1;
	if (rl_sse_gone(s->sse)) {
		s->err = RL_EGONE;
		return 1;
	}
	return 0;
}

/* The last frame: done, with usage, price and estimates (and an error). */
static enum rl_err
stream_end(struct stream *s, const struct rl_router *r, enum rl_err err,
    const struct rl_error *ce)
{
	json_t		*meta, *frame;

	if ((meta = rl_router_done(r)) == NULL)
		return RL_ENOMEM;
	if ((frame = json_pack("{s:s, s:b, s:o}", "content", "", "done", 1,
	    "metadata", meta)) == NULL)
		return RL_ENOMEM;
	if (err != RL_OK)
		(void)json_object_set_new(frame, "error", json_pack(
		    "{s:s, s:s}", "code", rl_err_token(err), "message",
		    ce->msg[0] != '\0' ? ce->msg : rl_strerror(err)));
	return send_frame(s->sse, frame);
}

/* The plain answer, the seed's shape. */
static enum rl_err
answer(struct rl_req *req, const struct rl_router *r)
{
	const struct rl_usage *u = &r->ai.call.usage;
	const char	*text;
	json_t		*meta;

	text = rl_router_text(r);
	meta = json_pack("{s:I}", "message_count", (json_int_t)(2 +
	    json_array_size(r->in.history)));
	if (meta == NULL || json_object_update_new(meta,
	    rl_router_impact(r)) == -1) {
		json_decref(meta);
		return RL_ENOMEM;
	}
	return rl_resp_json_new(req, 200, json_pack("{s:s, s:s, s:s, "
	    "s:{s:I, s:I, s:I}, s:o}", "response", text != NULL ? text : "",
	    "model", r->in.model, "agent", r->agent,
	    "usage", "prompt_tokens", (json_int_t)u->input_tokens,
	    "completion_tokens", (json_int_t)u->output_tokens,
	    "total_tokens", (json_int_t)(u->input_tokens + u->output_tokens),
	    "metadata", meta));
}

enum rl_err
chat_completion(struct rl_req *req, struct rl_error *e)
{
	struct rl_router r;
	struct stream	 s;
	struct rl_error	 ce;
	const char	*text;
	enum rl_err	 err;

	memset(&r, 0, sizeof(r));
	memset(&s, 0, sizeof(s));
	r.start_us = req->start_us;
	if ((err = rl_router_parse(req->json, &r.in, e)) != RL_OK ||
	    (err = rl_router_prepare(&r, req->arena, req->user->id, req->id,
	    e)) != RL_OK)
		goto out;
	if (!r.in.stream) {
		if ((err = rl_router_call(&r, NULL, NULL, e)) == RL_OK)
			err = answer(req, &r);
		goto out;
	}

	/* Streamed: the money is held before anything is sent. */
	if ((err = rl_router_reserve(&r, e)) != RL_OK)
		goto out;
	s.req = req;
	s.model = r.in.model;
	s.agent = r.agent;
	rl_error_clear(&ce);
	err = rl_router_call(&r, on_event, &s, &ce);
	if (s.sse == NULL && err != RL_OK) {
		/* Nothing was streamed: an ordinary error answer. */
		*e = ce;
		goto out;
	}
	if (err == RL_EGONE || s.err == RL_EGONE) {
		err = rl_error_set(e, RL_EGONE, "client went away");
		goto out;
	}
	/*
	 * No event at all: an upstream that answered the streamed request
	 * with a whole JSON answer.  Its text becomes the one delta.
	 */
	if (s.sse == NULL) {
		if ((s.sse = rl_sse_open(req, e)) == NULL) {
			err = e->code;
			goto out;
		}
		if ((text = rl_router_text(&r)) != NULL && *text != '\0' &&
		    send_frame(s.sse, json_pack("{s:s, s:b, s:{s:s, s:s}}",
		    "content", text, "done", 0, "metadata", "model", s.model,
		    "agent", s.agent)) != RL_OK) {
			err = rl_error_set(e, RL_EGONE, "client went away");
			goto out;
		}
	}
	/* An upstream failure mid-stream ends it with an error frame. */
	if (stream_end(&s, &r, err, &ce) != RL_OK || err != RL_OK) {
		if (err == RL_OK)
			err = rl_error_set(e, RL_EGONE, "client went away");
		else
			*e = ce;
	}
	rl_sse_close(s.sse);
out:
	rl_router_free(&r);
	return err;
}

enum rl_err
chat_agents(struct rl_req *req, struct rl_error *e)
{
	json_t		*v = NULL;
	enum rl_err	 err;

	if ((err = rl_db_json("SELECT json_build_object('agents', "
	    "coalesce(json_agg(json_build_object('type', type, 'name', name, "
	    "'description', description, 'available', available) "
	    "ORDER BY position, type), '[]'), 'total', count(*)) "
	    "FROM router_agents", 0, NULL, &v, e)) != RL_OK)
		return err;
	return rl_resp_json_new(req, 200, v);
}

/*
 * Every model is called through Chat Completions, which streams for every
 * chat model of OpenAI and of the compatible providers: supports_streaming
 * is true for all.  A row without a context window gets its family's.
 * A disabled provider's models are not offered (a call to one is refused).
 */
enum rl_err
chat_models(struct rl_req *req, struct rl_error *e)
{
	struct rl_model	 m;
	json_t		*models = NULL, *row;
	size_t		 i;
	enum rl_err	 err;

	if ((err = rl_db_json("SELECT coalesce(json_agg(json_build_object("
	    "'name', name, 'provider', provider, 'description', "
	    "coalesce(description, display_name, name), "
	    "'supports_streaming', true, 'context_window', context_window) "
	    "ORDER BY provider, name), '[]') FROM openai_models "
	    "WHERE router_enabled AND provider IN (SELECT name FROM providers "
	    "WHERE enabled)", 0, NULL, &models, e)) != RL_OK)
		return err;
	json_array_foreach(models, i, row)
		if (json_is_null(json_object_get(row, "context_window"))) {
			rl_model_builtin(json_string_value(json_object_get(row,
			    "name")), &m);
			if (m.context_window > 0)
				(void)json_object_set_new(row,
				    "context_window",
				    json_integer(m.context_window));
		}
	return rl_resp_json_new(req, 200, json_pack("{s:o, s:I}", "models",
	    models, "total", (json_int_t)json_array_size(models)));
}
