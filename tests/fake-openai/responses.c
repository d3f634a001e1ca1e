/*
 * fake-openai: the Responses API.  POST /v1/responses (plain and
 * streamed), GET and DELETE /v1/responses/{id}, and the in-memory store
 * that previous_response_id refers to.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake.h"

/* Responses remembered for previous_response_id and GET; oldest go. */
#define MAX_STORED_RESPONSES	10000
/* What the model says under the "refusal" fault. */
#define REFUSAL_TEXT	"Je suis désolé, mais je ne peux pas aider avec " \
	"cette demande."

static pthread_mutex_t	 store_lock = PTHREAD_MUTEX_INITIALIZER;
static json_t		*store;		/* id -> response object */
static char		*ring[MAX_STORED_RESPONSES];
static size_t		 ring_pos;

static void
store_put(const char *id, json_t *resp)
{
	pthread_mutex_lock(&store_lock);
	if (store == NULL)
		store = json_object();
	if (ring[ring_pos] != NULL) {
		json_object_del(store, ring[ring_pos]);
		free(ring[ring_pos]);
	}
	ring[ring_pos] = xstrdup(id);
	ring_pos = (ring_pos + 1) % MAX_STORED_RESPONSES;
	json_object_set_new(store, id, json_deep_copy(resp));
	pthread_mutex_unlock(&store_lock);
}

/* A private copy of a stored response, or NULL. */
static json_t *
store_get(const char *id)
{
	json_t *v;

	pthread_mutex_lock(&store_lock);
	v = json_deep_copy(json_object_get(store, id));
	pthread_mutex_unlock(&store_lock);
	return v;
}

static int
store_del(const char *id)
{
	int found;

	pthread_mutex_lock(&store_lock);
	found = json_object_del(store, id) == 0;
	pthread_mutex_unlock(&store_lock);
	return found;
}

void
responses_store_free(void)
{
	size_t i;

	pthread_mutex_lock(&store_lock);
	json_decref(store);
	store = NULL;
	for (i = 0; i < MAX_STORED_RESPONSES; i++) {
		free(ring[i]);
		ring[i] = NULL;
	}
	pthread_mutex_unlock(&store_lock);
}

static json_t *
param_error(const char *msg, const char *param, const char *code)
{
	return json_pack("{s:{s:s,s:s,s:s?,s:s?}}", "error", "message", msg,
	    "type", "invalid_request_error", "param", param, "code", code);
}

static int
is_user_message(json_t *item)
{
	const char *type, *role;

	type = json_str(item, "type");
	role = json_str(item, "role");
	return (type == NULL || strcmp(type, "message") == 0) &&
	    role != NULL && strcmp(role, "user") == 0;
}

static int
has_item_type(json_t *input, const char *t)
{
	json_t *it;
	const char *type;
	size_t i;

	json_array_foreach(input, i, it)
		if ((type = json_str(it, "type")) != NULL &&
		    strcmp(type, t) == 0)
			return 1;
	return 0;
}

static json_t *
pick_function(json_t *body)
{
	json_t *tools, *tc, *t;
	const char *want = NULL, *type, *name;
	size_t i;

	tools = json_object_get(body, "tools");
	if (!json_is_array(tools))
		return NULL;
	tc = json_object_get(body, "tool_choice");
	if (json_is_string(tc) && strcmp(json_string_value(tc), "none") == 0)
		return NULL;
	if (json_is_object(tc))
		want = json_str(tc, "name");
	json_array_foreach(tools, i, t) {
		type = json_str(t, "type");
		name = json_str(t, "name");
		if (type == NULL || strcmp(type, "function") != 0 ||
		    name == NULL)
			continue;
		if (want == NULL || strcmp(want, name) == 0)
			return t;
	}
	return NULL;
}

static int
wants_reasoning(json_t *body)
{
	json_t *rs;

	rs = json_object_get(body, "reasoning");
	if (is_reasoning_model(json_str(body, "model")))
		return 1;
	return json_is_object(rs) &&
	    (json_str(rs, "summary") != NULL ||
	    json_str(rs, "generate_summary") != NULL);
}

/* The "refusal" fault: a refusal content part instead of the text. */
static void
plan_refusal(struct plan *p, const struct knobs *k)
{
	free(p->text);
	json_decref(p->pieces);
	p->text = xstrdup(REFUSAL_TEXT);
	p->pieces = split_pieces(p->text, k->chunks);
	p->refusal = 1;
}

/*
 * The "incomplete" fault: the answer stops halfway, as when
 * max_output_tokens is reached: status incomplete, reason
 * max_output_tokens, the first half of the deltas.
 */
static void
plan_incomplete(struct plan *p)
{
	size_t n, keep;

	n = json_array_size(p->pieces);
	keep = n > 1 ? n / 2 : n;
	while (json_array_size(p->pieces) > keep)
		json_array_remove(p->pieces, json_array_size(p->pieces) - 1);
	free(p->text);
	p->text = join_pieces(p->pieces);
	p->incomplete = 1;
}

/*
 * Decide the answer.  *prev_tokens receives the total tokens of the
 * response named by previous_response_id: that context is re-read as
 * input, as OpenAI bills it.
 */
static json_t *
resp_plan(json_t *body, const struct knobs *k, struct plan *p)
{
	json_t *input, *last, *fn, *fmt, *schema = NULL, *prev, *count;
	const char *model, *prev_id, *ft;
	char msg[512];
	int json_object = 0, variant = 0;
	long prev_tokens = 0;

	memset(p, 0, sizeof(*p));
	if ((model = json_str(body, "model")) == NULL)
		return param_error("Missing required parameter: 'model'.",
		    "model", "missing_required_parameter");
	input = json_object_get(body, "input");
	if (input != NULL && !json_is_string(input) && !json_is_array(input))
		return param_error("Invalid type for 'input': expected a "
		    "string or an array.", "input", "invalid_type");
	if ((prev_id = json_str(body, "previous_response_id")) != NULL) {
		if ((prev = store_get(prev_id)) == NULL) {
			snprintf(msg, sizeof(msg), "Previous response with "
			    "id '%.200s' not found.", prev_id);
			return param_error(msg, "previous_response_id",
			    "previous_response_not_found");
		}
		prev_tokens = (long)json_integer_value(json_object_get(
		    json_object_get(prev, "usage"), "total_tokens"));
		json_decref(prev);
	}

	fmt = json_object_get(json_object_get(body, "text"), "format");
	if ((ft = json_str(fmt, "type")) != NULL &&
	    strcmp(ft, "json_schema") == 0) {
		if (!json_is_object(schema = json_object_get(fmt, "schema")))
			return param_error("Missing required parameter: "
			    "'text.format.schema'.", "text.format.schema",
			    "missing_required_parameter");
	} else if (ft != NULL && strcmp(ft, "json_object") == 0)
		json_object = 1;

	if (json_is_array(input) && has_item_type(input,
	    "function_call_output"))
		variant = 1;
	last = json_is_array(input) ?
	    json_array_get(input, json_array_size(input) - 1) : NULL;
	if (variant == 0 && !k->tools_off &&
	    (json_is_string(input) || is_user_message(last)) &&
	    (fn = pick_function(body)) != NULL)
		plan_tool(p, json_str(fn, "name"),
		    json_object_get(fn, "parameters"), k);
	else {
		plan_text(p, model, variant, schema, json_object, k);
		if (k->fault == FAULT_REFUSAL)
			plan_refusal(p, k);
	}
	if (k->fault == FAULT_INCOMPLETE)
		plan_incomplete(p);
	if (wants_reasoning(body))
		plan_reasoning(p);
	count = json_pack("{s:O?,s:O?}", "instructions",
	    json_object_get(body, "instructions"), "input", input);
	p->prompt_tokens = count_input_tokens(count) + prev_tokens;
	json_decref(count);
	p->cached_tokens = k->cached_tokens < p->prompt_tokens ?
	    k->cached_tokens : p->prompt_tokens;
	return NULL;
}

static json_t *
resp_usage(const struct plan *p)
{
	long out;

	out = (long)json_array_size(p->pieces) + p->reasoning_tokens;
	return json_pack("{s:I,s:{s:I},s:I,s:{s:I},s:I}",
	    "input_tokens", (json_int_t)p->prompt_tokens,
	    "input_tokens_details",
	    "cached_tokens", (json_int_t)p->cached_tokens,
	    "output_tokens", (json_int_t)out,
	    "output_tokens_details",
	    "reasoning_tokens", (json_int_t)p->reasoning_tokens,
	    "total_tokens", (json_int_t)(p->prompt_tokens + out));
}

/* A request field echoed back, or a default when absent. */
static json_t *
echo(json_t *body, const char *key, json_t *def)
{
	json_t *v;

	if ((v = json_object_get(body, key)) != NULL && !json_is_null(v)) {
		json_decref(def);
		return json_incref(v);
	}
	return def;
}

static json_t *
response_object(json_t *body, const char *id, long created,
    const char *status, json_t *output, json_t *usage)
{
	json_t *rs, *reasoning, *o;

	rs = json_object_get(body, "reasoning");
	reasoning = json_pack("{s:O,s:O}",
	    "effort", json_object_get(rs, "effort") ?
	    json_object_get(rs, "effort") : json_null(),
	    "summary", json_object_get(rs, "summary") ?
	    json_object_get(rs, "summary") : json_null());
	o = json_pack("{s:s,s:s,s:I,s:s,s:b,s:n,s:n,s:o,s:o,s:s,s:o,"
	    "s:o,s:o,s:o,s:s,s:o,s:o,s:o,s:o,s:o,s:o,s:s,s:o,s:n,s:o}",
	    "id", id, "object", "response", "created_at", (json_int_t)created,
	    "status", status, "background", 0, "error", "incomplete_details",
	    "instructions", echo(body, "instructions", json_null()),
	    "max_output_tokens", echo(body, "max_output_tokens", json_null()),
	    "model", json_str(body, "model"),
	    "output", output,
	    "parallel_tool_calls", echo(body, "parallel_tool_calls",
	    json_true()),
	    "previous_response_id", echo(body, "previous_response_id",
	    json_null()),
	    "reasoning", reasoning,
	    "service_tier", "default",
	    "store", echo(body, "store", json_true()),
	    "temperature", echo(body, "temperature", json_real(1.0)),
	    "text", echo(body, "text", json_pack("{s:{s:s},s:s}", "format",
	    "type", "text", "verbosity", "medium")),
	    "tool_choice", echo(body, "tool_choice", json_string("auto")),
	    "tools", echo(body, "tools", json_array()),
	    "top_p", echo(body, "top_p", json_real(1.0)),
	    "truncation", "disabled",
	    "usage", usage ? usage : json_null(),
	    "user",
	    "metadata", echo(body, "metadata", json_object()));
	if (o != NULL && strcmp(status, "incomplete") == 0)
		json_object_set_new(o, "incomplete_details",
		    json_pack("{s:s}", "reason", "max_output_tokens"));
	return o;
}

/* The final status a plan gives its response. */
static const char *
final_status(const struct plan *p)
{
	return p->incomplete ? "incomplete" : "completed";
}

struct ids {
	char	resp[64];
	char	rs[64];
	char	item[64];
	char	call[64];
};

static json_t *
reasoning_item(const struct ids *ids, const char *text, int done)
{
	if (!done)
		return json_pack("{s:s,s:s,s:[]}", "id", ids->rs,
		    "type", "reasoning", "summary");
	return json_pack("{s:s,s:s,s:[{s:s,s:s}]}", "id", ids->rs,
	    "type", "reasoning", "summary", "type", "summary_text",
	    "text", text);
}

static json_t *
text_part(const char *text)
{
	return json_pack("{s:s,s:[],s:[],s:s}", "type", "output_text",
	    "annotations", "logprobs", "text", text);
}

static json_t *
refusal_part(const char *text)
{
	return json_pack("{s:s,s:s}", "type", "refusal", "refusal", text);
}

static json_t *
message_item(const struct ids *ids, const struct plan *p, const char *text,
    int done)
{
	return json_pack("{s:s,s:s,s:s,s:o,s:s}", "id", ids->item,
	    "type", "message", "status", !done ? "in_progress" :
	    p->incomplete ? "incomplete" : "completed",
	    "content", done ? json_pack("[o]", p->refusal ?
	    refusal_part(text) : text_part(text)) : json_array(),
	    "role", "assistant");
}

static json_t *
call_item(const struct ids *ids, const struct plan *p, const char *args,
    int done)
{
	return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "id", ids->item,
	    "type", "function_call", "status", done ? "completed" :
	    "in_progress", "arguments", args, "call_id", ids->call,
	    "name", p->tool_name);
}

static json_t *
final_output(const struct ids *ids, const struct plan *p)
{
	json_t *out;

	out = json_array();
	if (p->reasoning != NULL)
		json_array_append_new(out, reasoning_item(ids, p->reasoning,
		    1));
	if (p->is_tool)
		json_array_append_new(out, call_item(ids, p, p->text, 1));
	else
		json_array_append_new(out, message_item(ids, p, p->text, 1));
	return out;
}

static void
new_ids(struct ids *ids, const struct plan *p)
{
	make_id(ids->resp, sizeof(ids->resp), "resp_");
	make_id(ids->rs, sizeof(ids->rs), "rs_");
	make_id(ids->item, sizeof(ids->item), p->is_tool ? "fc_" : "msg_");
	make_id(ids->call, sizeof(ids->call), "call_");
}

/* Used by batches: the response object, or NULL and *err set. */
json_t *
responses_answer(json_t *body, const struct knobs *k, json_t **err)
{
	struct plan p;
	struct ids ids;
	json_t *resp;

	if ((*err = resp_plan(body, k, &p)) != NULL) {
		plan_free(&p);
		return NULL;
	}
	new_ids(&ids, &p);
	resp = response_object(body, ids.resp, now_unix(), final_status(&p),
	    final_output(&ids, &p), resp_usage(&p));
	plan_free(&p);
	return resp;
}

struct emitter {
	struct stream	*s;
	long		 seq;
	long		 next_delay;	/* before the next delta */
	long		 chunk_ms;
};

/* Add sequence_number and type, then frame it as "event: type". */
static void
emit(struct emitter *e, long delay, int is_delta, const char *type,
    json_t *ev)
{
	json_t *o;

	/* OpenAI puts "type" first and "sequence_number" last. */
	o = json_pack("{s:s}", "type", type);
	json_object_update(o, ev);
	json_decref(ev);
	json_object_set_new(o, "sequence_number", json_integer(e->seq++));
	stream_add_sse(e->s, delay, is_delta, type, o);
}

static void
emit_delta(struct emitter *e, const char *type, json_t *ev)
{
	emit(e, e->next_delay, 1, type, ev);
	e->next_delay = e->chunk_ms;
}

static void
stream_reasoning(struct emitter *e, const struct ids *ids,
    const struct plan *p, int oi)
{
	json_t *pc;
	size_t j;

	emit(e, 0, 0, "response.output_item.added", json_pack("{s:i,s:o}",
	    "output_index", oi, "item", reasoning_item(ids, NULL, 0)));
	emit(e, 0, 0, "response.reasoning_summary_part.added",
	    json_pack("{s:s,s:i,s:i,s:{s:s,s:s}}", "item_id", ids->rs,
	    "output_index", oi, "summary_index", 0, "part", "type",
	    "summary_text", "text", ""));
	json_array_foreach(p->reasoning_pieces, j, pc)
		emit_delta(e, "response.reasoning_summary_text.delta",
		    json_pack("{s:s,s:i,s:i,s:O}", "item_id", ids->rs,
		    "output_index", oi, "summary_index", 0, "delta", pc));
	emit(e, 0, 0, "response.reasoning_summary_text.done",
	    json_pack("{s:s,s:i,s:i,s:s}", "item_id", ids->rs,
	    "output_index", oi, "summary_index", 0, "text", p->reasoning));
	emit(e, 0, 0, "response.reasoning_summary_part.done",
	    json_pack("{s:s,s:i,s:i,s:{s:s,s:s}}", "item_id", ids->rs,
	    "output_index", oi, "summary_index", 0, "part", "type",
	    "summary_text", "text", p->reasoning));
	emit(e, 0, 0, "response.output_item.done", json_pack("{s:i,s:o}",
	    "output_index", oi, "item", reasoning_item(ids, p->reasoning,
	    1)));
}

static void
stream_message(struct emitter *e, const struct ids *ids,
    const struct plan *p, int oi)
{
	json_t *pc;
	size_t j;

	emit(e, 0, 0, "response.output_item.added", json_pack("{s:i,s:o}",
	    "output_index", oi, "item", message_item(ids, p, NULL, 0)));
	emit(e, 0, 0, "response.content_part.added",
	    json_pack("{s:s,s:i,s:i,s:o}", "item_id", ids->item,
	    "output_index", oi, "content_index", 0, "part", p->refusal ?
	    refusal_part("") : text_part("")));
	if (p->refusal) {
		json_array_foreach(p->pieces, j, pc)
			emit_delta(e, "response.refusal.delta",
			    json_pack("{s:s,s:i,s:i,s:O}", "item_id",
			    ids->item, "output_index", oi, "content_index", 0,
			    "delta", pc));
		emit(e, 0, 0, "response.refusal.done",
		    json_pack("{s:s,s:i,s:i,s:s}", "item_id", ids->item,
		    "output_index", oi, "content_index", 0, "refusal",
		    p->text));
	} else {
		json_array_foreach(p->pieces, j, pc)
			emit_delta(e, "response.output_text.delta",
			    json_pack("{s:s,s:i,s:i,s:O,s:[]}", "item_id",
			    ids->item, "output_index", oi, "content_index", 0,
			    "delta", pc, "logprobs"));
		emit(e, 0, 0, "response.output_text.done",
		    json_pack("{s:s,s:i,s:i,s:s,s:[]}", "item_id", ids->item,
		    "output_index", oi, "content_index", 0, "text", p->text,
		    "logprobs"));
	}
	emit(e, 0, 0, "response.content_part.done",
	    json_pack("{s:s,s:i,s:i,s:o}", "item_id", ids->item,
	    "output_index", oi, "content_index", 0, "part", p->refusal ?
	    refusal_part(p->text) : text_part(p->text)));
	emit(e, 0, 0, "response.output_item.done", json_pack("{s:i,s:o}",
	    "output_index", oi, "item", message_item(ids, p, p->text, 1)));
}

static void
stream_call(struct emitter *e, const struct ids *ids, const struct plan *p,
    int oi)
{
	json_t *pc;
	size_t j;

	emit(e, 0, 0, "response.output_item.added", json_pack("{s:i,s:o}",
	    "output_index", oi, "item", call_item(ids, p, "", 0)));
	json_array_foreach(p->pieces, j, pc)
		emit_delta(e, "response.function_call_arguments.delta",
		    json_pack("{s:s,s:i,s:O}", "item_id", ids->item,
		    "output_index", oi, "delta", pc));
	emit(e, 0, 0, "response.function_call_arguments.done",
	    json_pack("{s:s,s:i,s:s,s:s}", "item_id", ids->item,
	    "output_index", oi, "name", p->tool_name, "arguments", p->text));
	emit(e, 0, 0, "response.output_item.done", json_pack("{s:i,s:o}",
	    "output_index", oi, "item", call_item(ids, p, p->text, 1)));
}

static struct stream *
build_stream(json_t *body, const struct ids *ids, const struct plan *p,
    json_t *final, const struct knobs *k)
{
	struct emitter e;
	json_t *early;
	int oi = 0;

	memset(&e, 0, sizeof(e));
	e.s = stream_new("text/event-stream; charset=utf-8");
	e.next_delay = k->ttft_ms;
	e.chunk_ms = k->chunk_ms;
	if (k->fault == FAULT_RESET)
		stream_cut_after_deltas(e.s, RESET_AFTER_DELTAS);
	early = response_object(body, ids->resp,
	    (long)json_integer_value(json_object_get(final, "created_at")),
	    "in_progress", json_array(), NULL);
	emit(&e, 0, 0, "response.created", json_pack("{s:O}", "response",
	    early));
	emit(&e, 0, 0, "response.in_progress", json_pack("{s:O}",
	    "response", early));
	json_decref(early);
	if (p->reasoning != NULL)
		stream_reasoning(&e, ids, p, oi++);
	if (p->is_tool)
		stream_call(&e, ids, p, oi);
	else
		stream_message(&e, ids, p, oi);
	emit(&e, 0, 0, p->incomplete ? "response.incomplete" :
	    "response.completed", json_pack("{s:O}", "response", final));
	return e.s;
}

enum MHD_Result
handle_responses_create(struct req *r, json_t *body)
{
	struct plan p;
	struct ids ids;
	struct stream *s;
	json_t *err, *resp;
	char *js;

	if ((err = resp_plan(body, &r->k, &p)) != NULL) {
		plan_free(&p);
		return reply_json(r, MHD_HTTP_BAD_REQUEST, err);
	}
	new_ids(&ids, &p);
	snprintf(r->answer_id, sizeof(r->answer_id), "%s", ids.resp);
	resp = response_object(body, ids.resp, now_unix(), final_status(&p),
	    final_output(&ids, &p), resp_usage(&p));
	if (!json_is_false(json_object_get(body, "store")))
		store_put(ids.resp, resp);
	if (json_is_true(json_object_get(body, "stream"))) {
		s = build_stream(body, &ids, &p, resp, &r->k);
		plan_free(&p);
		json_decref(resp);
		return reply_stream(r, s);
	}
	/* Without streaming the client waits for the whole generation. */
	r->delay_ms = r->k.ttft_ms + (p.reasoning_tokens +
	    (long)json_array_size(p.pieces) - 1) * r->k.chunk_ms;
	plan_free(&p);
	if (r->k.fault == FAULT_RESET) {
		js = dump_compact(resp);
		json_decref(resp);
		return reply_truncated(r, js);
	}
	return reply_json(r, MHD_HTTP_OK, resp);
}

static enum MHD_Result
no_such_response(struct req *r, const char *id)
{
	char msg[512];

	snprintf(msg, sizeof(msg), "Response with id '%.200s' not found.", id);
	return reply_error(r, MHD_HTTP_NOT_FOUND, "invalid_request_error", msg,
	    NULL, NULL);
}

enum MHD_Result
handle_responses_get(struct req *r, const char *id)
{
	json_t *v;

	if ((v = store_get(id)) == NULL)
		return no_such_response(r, id);
	return reply_json(r, MHD_HTTP_OK, v);
}

enum MHD_Result
handle_responses_delete(struct req *r, const char *id)
{
	if (!store_del(id))
		return no_such_response(r, id);
	return reply_json(r, MHD_HTTP_OK, json_pack("{s:s,s:s,s:b}", "id", id,
	    "object", "response", "deleted", 1));
}
