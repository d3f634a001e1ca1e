/*
 * fake-openai: POST /v1/chat/completions, plain and streamed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake.h"

#define SYSTEM_FINGERPRINT	"fp_fake0penai"

static json_t *
param_error(const char *msg, const char *param, const char *code)
{
	return json_pack("{s:{s:s,s:s,s:s?,s:s?}}", "error", "message", msg,
	    "type", "invalid_request_error", "param", param, "code", code);
}

/* The function tool to call, or NULL when the answer is text. */
static json_t *
pick_tool(json_t *body)
{
	json_t *tools, *tc, *t, *fn;
	const char *want = NULL, *name;
	size_t i;

	tools = json_object_get(body, "tools");
	if (!json_is_array(tools) || json_array_size(tools) == 0)
		return NULL;
	tc = json_object_get(body, "tool_choice");
	if (json_is_string(tc) && strcmp(json_string_value(tc), "none") == 0)
		return NULL;
	if (json_is_object(tc))
		want = json_str(json_object_get(tc, "function"), "name");
	json_array_foreach(tools, i, t) {
		fn = json_object_get(t, "function");
		name = json_str(fn, "name");
		if (!json_is_object(fn) || name == NULL)
			continue;
		if (want == NULL || strcmp(want, name) == 0)
			return fn;
	}
	return NULL;
}

/*
 * Decide the answer.  A tool call when tools are offered and the last
 * message is the user's; text otherwise ("variant" 1 after a tool
 * result).  Returns an OpenAI error object on bad input.
 */
static json_t *
chat_plan(json_t *body, const struct knobs *k, struct plan *p, long *n)
{
	json_t *msgs, *last, *fn, *rf, *js, *schema = NULL;
	const char *model, *role, *rft;
	int json_object = 0;

	memset(p, 0, sizeof(*p));
	if ((model = json_str(body, "model")) == NULL)
		return param_error("Missing required parameter: 'model'.",
		    "model", "missing_required_parameter");
	msgs = json_object_get(body, "messages");
	if (!json_is_array(msgs) || json_array_size(msgs) == 0)
		return param_error("Missing required parameter: 'messages'.",
		    "messages", "missing_required_parameter");
	last = json_array_get(msgs, json_array_size(msgs) - 1);
	if ((role = json_str(last, "role")) == NULL)
		return param_error("Invalid value for 'messages': every "
		    "message needs a 'role'.", "messages", "invalid_value");
	*n = json_is_integer(json_object_get(body, "n")) ?
	    (long)json_integer_value(json_object_get(body, "n")) : 1;
	if (*n < 1 || *n > MAX_CHOICES)
		return param_error("Invalid value for 'n': out of range for "
		    "fake-openai.", "n", "invalid_value");

	rf = json_object_get(body, "response_format");
	rft = json_str(rf, "type");
	if (rft != NULL && strcmp(rft, "json_schema") == 0) {
		js = json_object_get(rf, "json_schema");
		schema = json_object_get(js, "schema");
		if (!json_is_object(schema))
			return param_error("Missing required parameter: "
			    "'response_format.json_schema.schema'.",
			    "response_format.json_schema",
			    "missing_required_parameter");
	} else if (rft != NULL && strcmp(rft, "json_object") == 0)
		json_object = 1;

	if (strcmp(role, "user") == 0 && !k->tools_off &&
	    (fn = pick_tool(body)) != NULL)
		plan_tool(p, json_str(fn, "name"),
		    json_object_get(fn, "parameters"), k);
	else
		plan_text(p, model, strcmp(role, "tool") == 0 ? 1 : 0, schema,
		    json_object, k);
	if (is_reasoning_model(model) ||
	    json_object_get(body, "reasoning_effort") != NULL)
		plan_reasoning(p);
	p->prompt_tokens = count_input_tokens(msgs);
	p->cached_tokens = k->cached_tokens < p->prompt_tokens ?
	    k->cached_tokens : p->prompt_tokens;
	return NULL;
}

static json_t *
chat_usage(const struct plan *p, long n)
{
	long out, reasoning;

	reasoning = n * p->reasoning_tokens;
	out = n * (long)json_array_size(p->pieces) + reasoning;
	return json_pack("{s:I,s:I,s:I,s:{s:I,s:I},s:{s:I,s:I,s:I,s:I}}",
	    "prompt_tokens", (json_int_t)p->prompt_tokens,
	    "completion_tokens", (json_int_t)out,
	    "total_tokens", (json_int_t)(p->prompt_tokens + out),
	    "prompt_tokens_details",
	    "cached_tokens", (json_int_t)p->cached_tokens,
	    "audio_tokens", (json_int_t)0,
	    "completion_tokens_details",
	    "reasoning_tokens", (json_int_t)reasoning,
	    "audio_tokens", (json_int_t)0,
	    "accepted_prediction_tokens", (json_int_t)0,
	    "rejected_prediction_tokens", (json_int_t)0);
}

static json_t *
tool_call(const struct plan *p, const char *call_id, const char *args)
{
	return json_pack("{s:s,s:s,s:{s:s,s:s}}", "id", call_id,
	    "type", "function", "function", "name", p->tool_name,
	    "arguments", args);
}

static json_t *
build_completion(json_t *body, const struct plan *p, long n)
{
	json_t *choices, *msg;
	char id[64], call_id[64];
	long i;

	make_id(id, sizeof(id), "chatcmpl-");
	choices = json_array();
	for (i = 0; i < n; i++) {
		msg = json_pack("{s:s,s:o,s:n,s:[]}", "role", "assistant",
		    "content", p->is_tool ? json_null() :
		    json_string(p->text), "refusal", "annotations");
		if (p->is_tool) {
			make_id(call_id, sizeof(call_id), "call_");
			json_object_set_new(msg, "tool_calls", json_pack("[o]",
			    tool_call(p, call_id, p->text)));
		}
		json_array_append_new(choices, json_pack("{s:I,s:o,s:n,s:s}",
		    "index", (json_int_t)i, "message", msg, "logprobs",
		    "finish_reason", p->is_tool ? "tool_calls" : "stop"));
	}
	return json_pack("{s:s,s:s,s:I,s:s,s:o,s:o,s:s,s:s}", "id", id,
	    "object", "chat.completion", "created", (json_int_t)now_unix(),
	    "model", json_str(body, "model"), "choices", choices,
	    "usage", chat_usage(p, n), "service_tier", "default",
	    "system_fingerprint", SYSTEM_FINGERPRINT);
}

/* Used by batches: the completion, or NULL and *err set. */
json_t *
chat_answer(json_t *body, const struct knobs *k, json_t **err)
{
	struct plan p;
	json_t *c;
	long n = 1;

	if ((*err = chat_plan(body, k, &p, &n)) != NULL)
		return NULL;
	c = build_completion(body, &p, n);
	plan_free(&p);
	return c;
}

static json_t *
chunk_base(const char *id, long created, const char *model, int with_usage)
{
	json_t *c;

	c = json_pack("{s:s,s:s,s:I,s:s,s:s,s:s,s:[]}", "id", id,
	    "object", "chat.completion.chunk", "created", (json_int_t)created,
	    "model", model, "service_tier", "default",
	    "system_fingerprint", SYSTEM_FINGERPRINT, "choices");
	if (with_usage)
		json_object_set_new(c, "usage", json_null());
	return c;
}

static json_t *
chunk_choice(long index, json_t *delta, const char *finish)
{
	return json_pack("{s:I,s:o,s:n,s:o}", "index", (json_int_t)index,
	    "delta", delta, "logprobs", "finish_reason",
	    finish ? json_string(finish) : json_null());
}

static void
add_chunk(struct stream *s, long delay, int is_delta, json_t *base,
    json_t *choice)
{
	json_t *c;

	c = json_deep_copy(base);
	json_array_append_new(json_object_get(c, "choices"), choice);
	stream_add_sse(s, delay, is_delta, NULL, c);
}

/*
 * chat.completion.chunk frames: a role chunk per choice, the deltas
 * interleaved across choices, a finish chunk per choice, the usage chunk
 * when asked for, then "data: [DONE]".
 */
static struct stream *
build_stream(json_t *body, const struct plan *p, long n,
    const struct knobs *k, char *idout, size_t idoutsz)
{
	struct stream *s;
	json_t *base, *delta, *so, *pc;
	const char *model;
	char id[64];
	char call_ids[MAX_CHOICES][64];
	size_t j, npieces;
	long i, delay;
	int usage;

	model = json_str(body, "model");
	so = json_object_get(body, "stream_options");
	usage = json_is_true(json_object_get(so, "include_usage"));
	make_id(id, sizeof(id), "chatcmpl-");
	snprintf(idout, idoutsz, "%s", id);
	base = chunk_base(id, now_unix(), model, usage);
	s = stream_new("text/event-stream; charset=utf-8");
	if (k->fault == FAULT_RESET)
		stream_cut_after_deltas(s, RESET_AFTER_DELTAS);

	for (i = 0; i < n; i++) {
		if (p->is_tool) {
			make_id(call_ids[i], sizeof(call_ids[i]), "call_");
			delta = json_pack("{s:s,s:n,s:n,s:[{s:i,s:s,s:s,"
			    "s:{s:s,s:s}}]}", "role", "assistant", "content",
			    "refusal", "tool_calls", "index", 0, "id",
			    call_ids[i], "type", "function", "function",
			    "name", p->tool_name, "arguments", "");
		} else
			delta = json_pack("{s:s,s:s,s:n}", "role", "assistant",
			    "content", "", "refusal");
		add_chunk(s, 0, 0, base, chunk_choice(i, delta, NULL));
	}
	/* Reasoning happens before the first visible token. */
	delay = k->ttft_ms + p->reasoning_tokens * k->chunk_ms;
	npieces = json_array_size(p->pieces);
	for (j = 0; j < npieces; j++) {
		pc = json_array_get(p->pieces, j);
		for (i = 0; i < n; i++) {
			if (p->is_tool)
				delta = json_pack("{s:[{s:i,s:{s:O}}]}",
				    "tool_calls", "index", 0, "function",
				    "arguments", pc);
			else
				delta = json_pack("{s:O}", "content", pc);
			add_chunk(s, i == 0 ? delay : 0, 1, base,
			    chunk_choice(i, delta, NULL));
		}
		delay = k->chunk_ms;
	}
	for (i = 0; i < n; i++)
		add_chunk(s, 0, 0, base, chunk_choice(i, json_object(),
		    p->is_tool ? "tool_calls" : "stop"));
	if (usage) {
		json_object_set_new(base, "usage", chat_usage(p, n));
		stream_add_sse(s, 0, 0, NULL, json_incref(base));
	}
	stream_add_str(s, 0, 0, "data: [DONE]\n\n");
	json_decref(base);
	return s;
}

enum MHD_Result
handle_chat(struct req *r, json_t *body)
{
	struct plan p;
	json_t *err, *c;
	struct stream *s;
	long n = 1;
	char *js;

	if ((err = chat_plan(body, &r->k, &p, &n)) != NULL) {
		plan_free(&p);
		return reply_json(r, MHD_HTTP_BAD_REQUEST, err);
	}
	if (json_is_true(json_object_get(body, "stream"))) {
		s = build_stream(body, &p, n, &r->k, r->answer_id,
		    sizeof(r->answer_id));
		plan_free(&p);
		return reply_stream(r, s);
	}
	/* Without streaming the client waits for the whole generation. */
	r->delay_ms = r->k.ttft_ms + (p.reasoning_tokens +
	    (long)json_array_size(p.pieces) - 1) * r->k.chunk_ms;
	c = build_completion(body, &p, n);
	plan_free(&p);
	snprintf(r->answer_id, sizeof(r->answer_id), "%s",
	    json_str(c, "id") != NULL ? json_str(c, "id") : "");
	if (r->k.fault == FAULT_RESET) {
		js = dump_compact(c);
		json_decref(c);
		return reply_truncated(r, js);
	}
	return reply_json(r, MHD_HTTP_OK, c);
}
