/*
 * chat: EDxo's streaming chat (issue 6) and the router (seed 004).
 *
 *	GET  /chat		reset the thread; the chat model and empty id
 *	POST /chat/send		one chat turn as server-sent events
 *	POST /completion	the router's completion (completion.c)
 *	GET  /agents		the router's agents (completion.c)
 *	GET  /models		the router's models (completion.c)
 *
 * A turn (contract 4.1) is one Responses stream, plus one follow-up stream
 * per round of function calls (CHAT_TOOL_ROUNDS at most), each paid
 * through rl_ai_call: one hold and one ledger row per upstream call.  The
 * page's frames are untyped "data: {type, content}" lines.  Whatever
 * happens to the stream, what was produced is saved in chat_history, in
 * one statement at the end, marked interrupted when the stream did not
 * finish.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ai.h"
#include "buf.h"
#include "cache.h"
#include "chat.h"
#include "credits.h"
#include "crypto.h"
#include "db.h"
#include "fcgi.h"
#include "log.h"
#include "models.h"
#include "req.h"
#include "resp.h"
#include "route.h"
#include "sse.h"

/* A constant's digits, for a LIMIT in SQL text. */
#define STR(x)		#x
#define XSTR(x)		STR(x)

/*
 * The last CHAT_HISTORY_ROWS rows of user $1, oldest first, as Responses
 * input items the way EDxo replays them: assistant rows that only
 * requested a tool are skipped, tool results become assistant text.  An
 * interrupted answer says so, so that the model does not take it for a
 * complete one.
 */
#define HISTORY								\
	"(SELECT coalesce(json_agg(CASE h.role "			\
	"WHEN 'user' THEN json_build_object('role', 'user', 'content', " \
	"json_build_array(json_build_object('type', 'input_text', "	\
	"'text', coalesce(h.content, '')))) "				\
	"ELSE json_build_object('role', 'assistant', 'content', "	\
	"json_build_array(json_build_object('type', 'output_text', "	\
	"'text', CASE WHEN h.role = 'function' THEN "			\
	"'[Résultat de la fonction ' || coalesce(h.name, '') || ']:' "	\
	"|| chr(10) || coalesce(h.content, '') "			\
	"WHEN h.interrupted THEN coalesce(h.content, '') || chr(10) || " \
	"'[Réponse interrompue]' ELSE coalesce(h.content, '') END))) "	\
	"END ORDER BY h.timestamp, h.id) "				\
	"FILTER (WHERE h.role IN ('user', 'function') OR (h.role = "	\
	"'assistant' AND h.function_call_name IS NULL)), '[]') "	\
	"FROM (SELECT * FROM chat_history WHERE user_id = $1::bigint "	\
	"ORDER BY timestamp DESC, id DESC "				\
	"LIMIT " XSTR(CHAT_HISTORY_ROWS) ") h)"

/*
 * The chat settings, section_ai_settings('chat') overriding the
 * chat_model_config singleton (contract 4.1, L/H; an empty text is no
 * setting), from the in-process cache (cache.md): they change a few times
 * a year and an admin's change is seen by the next turn.
 */
#define SQL_SETTINGS							\
	"SELECT coalesce(nullif(btrim(s.ai_model), ''), c.chat_model), " \
	"nullif(btrim(s.system_prompt), ''), "				\
	"coalesce(s.reasoning_effort, c.reasoning_effort), "		\
	"coalesce(s.verbosity, c.verbosity) "				\
	"FROM chat_model_config c LEFT JOIN section_ai_settings s "	\
	"ON s.section = 'chat' WHERE c.id = 1"

/*
 * The thread, read by the first hold's statement (rl_credits_reserve_read:
 * the one round trip before the first call): [the previous response, the
 * history to replay when there is none].
 */
#define SQL_THREAD							\
	"SELECT json_build_array(t.prev, CASE WHEN t.prev IS NULL THEN " \
	HISTORY " END) FROM (SELECT (SELECT "				\
	"nullif(u.last_openai_response_id, '') FROM users u "		\
	"WHERE u.id = $1::bigint) AS prev) t"

/*
 * The turn's rows in order, and the thread's new state, in one statement
 * (PostgreSQL runs a data-modifying WITH whether or not it is read): a
 * turn is saved completely or not at all.  A stream that did not finish
 * forgets the previous response (the upstream thread may end on a call
 * without its output), so the next message replays the history instead.
 */
#define SQL_SAVE							\
	"WITH ins AS (INSERT INTO chat_history (user_id, role, content, " \
	"name, function_call_name, function_call_args, interrupted) "	\
	"SELECT $1::bigint, r.v->>'role', r.v->>'content', "		\
	"r.v->>'name', r.v->>'function_call_name', "			\
	"r.v->>'function_call_args', "					\
	"coalesce((r.v->>'interrupted')::boolean, false) "		\
	"FROM json_array_elements($2::json) WITH ORDINALITY r(v, n) "	\
	"ORDER BY r.n RETURNING 1) "					\
	"UPDATE users SET last_openai_response_id = $3 "		\
	"WHERE id = $1::bigint"

#define SQL_RESET							\
	"UPDATE users SET last_openai_response_id = NULL "		\
	"WHERE id = $1::bigint"

#define SQL_MODEL							\
	"SELECT coalesce(nullif(btrim(s.ai_model), ''), c.chat_model) "	\
	"FROM chat_model_config c LEFT JOIN section_ai_settings s "	\
	"ON s.section = 'chat' WHERE c.id = 1"

#define MSG_INTERNAL	"Erreur interne du clavardage."

/* One turn of the conversation. */
struct turn {
	struct rl_req		*req;
	struct rl_sse		*sse;
	struct rl_model		 model;
	const char		*effort;
	const char		*verbosity;
	struct rl_buf		 text;		/* the answer, all calls */
	struct rl_buf		 reasoning;	/* cumulative summary */
	int			 newpart;	/* next summary part */
	json_t			*rows;		/* chat_history rows */
	json_t			*outputs;	/* this round's tool outputs */
	int			 ncalls;	/* this round's calls */
	int			 gone;		/* the client left */
	int			 broken;	/* a frame could not be built,
						   or text could not be kept */
};

/*
 * Keep a delta, capped: a stream can be longer than what is kept, so what
 * goes past CHAT_TEXT_MAX is dropped on purpose.  Out of memory is not a
 * cap: the turn is broken and ends in an error (-1), never a shorter text.
 */
static int
keep(struct turn *t, struct rl_buf *b, const char *s, size_t n)
{

	if (n > CHAT_TEXT_MAX - rl_buf_len(b))
		n = CHAT_TEXT_MAX - rl_buf_len(b);
	if (rl_buf_add(b, s, n) == RL_OK)
		return 0;
	t->broken = 1;
	return -1;
}

/* A string member, or "" when absent or not a string. */
static const char *
str(const json_t *o, const char *key)
{
	const char	*v = json_string_value(json_object_get(o, key));

	return v != NULL ? v : "";
}

/* Send one {type, content} frame; content NULL: none. */
static int
frame(struct turn *t, const char *type, const char *content, size_t len)
{
	json_t	*j;
	int	 rc = 0;

	if (t->gone)
		return -1;
	j = content != NULL ? json_pack("{s:s, s:s%}", "type", type,
	    "content", content, len) : json_pack("{s:s}", "type", type);
	if (j == NULL) {
		t->broken = 1;
		return -1;
	}
	if (rl_sse_send_json(t->sse, NULL, NULL, j) != RL_OK) {
		t->gone = 1;
		rc = -1;
	}
	json_decref(j);
	return rc;
}

/* The cumulative summary without its surrounding white space. */
static int
reasoning_frame(struct turn *t)
{
	const char	*s = rl_buf_str(&t->reasoning);
	size_t		 n = rl_buf_len(&t->reasoning);

	while (n > 0 && isspace((unsigned char)*s)) {
		s++;
		n--;
	}
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		n--;
	return frame(t, "reasoning_summary", s, n);
}

/* A function_call item is complete: run it, keep rows and output. */
static void
tool_done(struct turn *t, const json_t *item)
{
	const char	*name, *args, *call_id;
	char		*out = NULL;
	int		 failed = 1;

	name = json_string_value(json_object_get(item, "name"));
	args = json_string_value(json_object_get(item, "arguments"));
	call_id = json_string_value(json_object_get(item, "call_id"));
	if (name == NULL || call_id == NULL)
		return;
	if (args == NULL)
		args = "";
	if (++t->ncalls > CHAT_TOOL_CALLS_MAX)
		out = strdup("{\"error\":\"trop d'appels d'outils dans une "
		    "même réponse\"}");
	else if (strlen(args) > CHAT_TOOL_ARGS_MAX)
		out = strdup("{\"error\":\"arguments trop longs\"}");
	else
		out = chat_tool_run(t->req->user, name, args, &failed);
	if (out == NULL)
		out = strdup("{\"error\":\"outil indisponible\"}");
	if (out == NULL) {
		t->broken = 1;
		return;
	}
	if (json_array_append_new(t->rows, json_pack("{s:s, s:s, s:s}",
	    "role", "assistant", "function_call_name", name,
	    "function_call_args", args)) == -1 ||
	    json_array_append_new(t->rows, json_pack("{s:s, s:s, s:s}",
	    "role", "function", "name", name, "content", out)) == -1 ||
	    json_array_append_new(t->outputs, json_pack("{s:s, s:s, s:s}",
	    "type", "function_call_output", "call_id", call_id, "output",
	    out)) == -1)
		t->broken = 1;
	free(out);
}

/*
 * Every upstream event passes here.  The client's hang-up is checked on
 * each one (a poll, no I/O): returning non-zero stops the transfer and
 * closes the upstream connection at once, and what was used is billed.
 */
static int
on_event(void *arg, const struct rl_oa_event *ev)
{
	struct turn	*t = arg;
	json_t		*item;

	if (t->gone || rl_sse_gone(t->sse)) {
		t->gone = 1;
		return 1;
	}
	switch (ev->kind) {
	case RL_OA_EV_TEXT:
		if (keep(t, &t->text, ev->delta, ev->deltalen) == -1)
			return 1;
		return frame(t, "content", ev->delta, ev->deltalen) == -1 &&
		    t->gone;
	case RL_OA_EV_REASONING:
		if (t->newpart && rl_buf_len(&t->reasoning) > 0 &&
		    keep(t, &t->reasoning, "\n\n", 2) == -1)
			return 1;
		t->newpart = 0;
		if (keep(t, &t->reasoning, ev->delta, ev->deltalen) == -1)
			return 1;
		return reasoning_frame(t) == -1 && t->gone;
	case RL_OA_EV_ITEM_DONE:
		item = json_object_get(ev->data, "item");
		if (strcmp(str(item, "type"), "function_call") == 0)
			tool_done(t, item);
		return 0;
	case RL_OA_EV_OTHER:
		if (strcmp(ev->type, "response.reasoning_summary_part.added")
		    == 0)
			t->newpart = 1;
		else if (strcmp(ev->type, "response.output_item.added") == 0) {
			item = json_object_get(ev->data, "item");
			if (strcmp(str(item, "type"), "function_call") == 0)
				return frame(t, "function_call", str(item,
				    "name"), strlen(str(item, "name"))) ==
				    -1 && t->gone;
		}
		return 0;
	default:
		return 0;
	}
}

/* What the page shows for an error, in French; details go to the log. */
static const char *
french(const struct rl_error *e)
{

	switch (e->code) {
	case RL_ECREDITS:
		return "Crédits insuffisants pour cette opération.";
	case RL_ENOKEY:			/* "Clé OpenAI non configurée." */
	case RL_EINVAL:
	case RL_EFORBIDDEN:
		return e->msg;
	case RL_ETIMEOUT:
		return "Le modèle n'a pas répondu à temps.";
	case RL_EUNAVAIL:
		return "Le service du modèle est surchargé; réessayez dans "
		    "un instant.";
	case RL_EUPSTREAM:
	case RL_ETOOBIG:
		return "Erreur API OpenAI : la réponse du modèle a été "
		    "interrompue.";
	default:
		return MSG_INTERNAL;
	}
}

/* The request body of one call; input is stolen. */
static json_t *
body_new(const struct turn *t, json_t *input, const char *prev,
    const char *tool_choice)
{
	json_t	*b, *text;

	b = json_pack("{s:s, s:o, s:o, s:s, s:{s:{s:s}}, s:I, s:b}",
	    "model", t->model.name, "input", input, "tools", chat_tools(),
	    "tool_choice", tool_choice, "text", "format", "type", "text",
	    "max_output_tokens", (json_int_t)CHAT_MAX_OUTPUT, "stream", 1);
	if (b == NULL)
		return NULL;
	text = json_object_get(b, "text");
	/* text.verbosity is a GPT-5 parameter; older models refuse it. */
	if (t->verbosity != NULL && strncmp(t->model.name, "gpt-5", 5) == 0)
		(void)json_object_set_new(text, "verbosity",
		    json_string(t->verbosity));
	/* EDxo sends temperature 1; reasoning models refuse the field. */
	if (t->model.temperature)
		(void)json_object_set_new(b, "temperature", json_real(1.0));
	if (t->effort != NULL && t->model.reasoning)
		(void)json_object_set_new(b, "reasoning", json_pack("{s:s, "
		    "s:s}", "effort", t->effort, "summary", "auto"));
	if (prev != NULL)
		(void)json_object_set_new(b, "previous_response_id",
		    json_string(prev));
	return b;
}

/* One input message of text, as EDxo sends it; NULL: out of memory. */
static json_t *
input_item(const char *role, const char *text)
{

	return json_pack("{s:s, s:[{s:s, s:s}]}", "role", role, "content",
	    "type", "input_text", "text", text);
}

/*
 * The first call's body for a new thread without history: the system
 * prompt, then the message.
 */
static json_t *
first_body(struct turn *t, const char *system, const char *message)
{
	json_t	*input;

	if ((input = json_array()) == NULL || (system != NULL &&
	    json_array_append_new(input, input_item("system", system)) ==
	    -1) || json_array_append_new(input, input_item("user",
	    message)) == -1) {
		json_decref(input);
		return NULL;
	}
	return body_new(t, input, NULL, "auto");
}

/*
 * The first hold and the thread in one statement.  The hold is sized on
 * the body of a new thread without history, built once: a thread that
 * goes on needs no more (it drops the system prompt, which the thread
 * holds, and adds a previous response id, which bills nothing), so that
 * body only changes.  A new thread with a past replays its history before
 * the message; when that needs more, the hold is given back and taken
 * again at the body's size: two more round trips, once per new thread
 * with a past.
 */
static enum rl_err
first_hold(struct turn *t, const char *system, const char *message,
    json_t **body, long long *hold, struct rl_error *e)
{
	json_t		*thread = NULL, *b = NULL, *input, *history, *item;
	json_error_t	 je;
	char		*value = NULL;
	const char	*prev;
	long long	 need, bound;
	size_t		 i, at;
	enum rl_err	 err;

	*body = NULL;
	*hold = 0;
	if ((b = first_body(t, system, message)) == NULL) {
		err = rl_error_set(e, RL_ENOMEM, NULL);
		goto out;
	}
	bound = rl_ai_bound(&t->model, b, CHAT_MAX_OUTPUT);
	if ((err = rl_credits_reserve_read(t->req->user->id, bound,
	    t->model.name, t->req->id, SQL_THREAD, hold, &value, e)) !=
	    RL_OK)
		goto out;
	if (value == NULL || (thread = json_loads(value, 0, &je)) == NULL ||
	    !json_is_array(thread)) {
		err = rl_error_set(e, RL_EDB, "thread: %s", value == NULL ?
		    "null" : je.text);
		goto out;
	}
	input = json_object_get(b, "input");
	prev = json_string_value(json_array_get(thread, 0));
	history = json_array_get(thread, 1);
	if (prev != NULL) {
		if ((system != NULL && json_array_remove(input, 0) == -1) ||
		    json_object_set_new(b, "previous_response_id",
		    json_string(prev)) == -1) {
			err = rl_error_set(e, RL_ENOMEM, NULL);
			goto out;
		}
	} else if (!json_is_array(history)) {
		err = rl_error_set(e, RL_EDB, "history: not an array");
		goto out;
	} else if (json_array_size(history) > 0) {
		at = system != NULL ? 1 : 0;
		json_array_foreach(history, i, item)
			if (json_array_insert(input, at + i, item) == -1) {
				err = rl_error_set(e, RL_ENOMEM, NULL);
				goto out;
			}
		if ((need = rl_ai_bound(&t->model, b, CHAT_MAX_OUTPUT)) >
		    bound) {
			rl_credits_release_sure(*hold);
			*hold = 0;
			if ((err = rl_ai_reserve(t->req->user->id, &t->model,
			    need, t->req->id, NULL, hold, e)) != RL_OK)
				goto out;
		}
	}
	*body = b;
	b = NULL;
out:
	if (err != RL_OK && *hold != 0) {
		rl_credits_release_sure(*hold);
		*hold = 0;
	}
	json_decref(b);
	json_decref(thread);
	free(value);
	return err;
}

/* Save the turn's rows and the thread's state; the client may be gone. */
static void
save(struct turn *t, const char *message, const char *last_id,
    int interrupted)
{
	struct rl_error	 e;
	json_t		*user;
	char		 uid[32], *rows;
	const char	*p[3];

	user = json_pack("{s:s, s:s}", "role", "user", "content", message);
	if (user == NULL || json_array_insert_new(t->rows, 0, user) == -1 ||
	    json_array_append_new(t->rows, json_pack("{s:s, s:s, s:b}",
	    "role", "assistant", "content", rl_buf_str(&t->text),
	    "interrupted", interrupted)) == -1 ||
	    (rows = json_dumps(t->rows, JSON_COMPACT)) == NULL) {
		rl_log_error("chat: user %lld: turn not saved: out of memory",
		    t->req->user->id);
		return;
	}
	(void)snprintf(uid, sizeof(uid), "%lld", t->req->user->id);
	p[0] = uid;
	p[1] = rows;
	p[2] = interrupted || last_id == NULL || *last_id == '\0' ? NULL :
	    last_id;
	if (rl_db_exec(SQL_SAVE, 3, p, NULL, &e) != RL_OK)
		rl_log_error("chat: user %lld: turn not saved: %s",
		    t->req->user->id, e.msg);
	free(rows);
}

/*
 * The calls of one turn.  The first call's hold was taken before the
 * stream opened; each follow-up reserves its own.  Returns 1 when the
 * turn finished, 0 when it was cut (client gone, upstream error), and
 * leaves the last response id in last_id.
 */
static int
calls(struct turn *t, json_t *body, long long hold, char *last_id,
    size_t last_idsz)
{
	struct rl_ai	 ai;
	struct rl_error	 e;
	json_t		*next;
	enum rl_err	 err;
	int		 round, ok = 0;

	for (round = 0; ; round++) {
		memset(&ai, 0, sizeof(ai));
		memset(&e, 0, sizeof(e));
		ai.user_id = t->req->user->id;
		ai.feature = "chat";
		ai.request_id = t->req->id;
		ai.model = &t->model;
		ai.max_output = CHAT_MAX_OUTPUT;
		ai.later = 1;	/* ledger row written after the frames */
		ai.hold_id = hold;
		ai.call.path = "/responses";
		ai.call.body = body;
		ai.call.on_event = on_event;
		ai.call.arg = t;
		/* The first call's hold was taken; the others take theirs. */
		hold = 0;
		t->ncalls = 0;
		json_decref(t->outputs);
		t->outputs = json_array();
		err = rl_ai_call(&ai, &e);
		if (ai.call.response_id[0] != '\0')
			(void)snprintf(last_id, last_idsz, "%s",
			    ai.call.response_id);
		rl_ai_free(&ai);
		/*
		 * A broken turn is out of memory; when that stopped the
		 * transfer, say so rather than "the caller stopped".
		 */
		if (err != RL_OK && t->broken)
			err = rl_error_set(&e, RL_ENOMEM, "answer not kept: "
			    "out of memory");
		if (err != RL_OK) {
			if (!t->gone) {
				rl_log_warn("chat: user %lld: %s",
				    t->req->user->id, e.msg);
				(void)frame(t, "error", french(&e),
				    strlen(french(&e)));
			}
			break;
		}
		if (t->broken || t->outputs == NULL) {
			(void)frame(t, "error", MSG_INTERNAL,
			    strlen(MSG_INTERNAL));
			break;
		}
		if (t->ncalls == 0) {
			ok = 1;
			break;
		}
		if (round == CHAT_TOOL_ROUNDS) {
			/* Cannot happen with tool_choice "none"; be safe. */
			ok = 1;
			break;
		}
		/* Nobody to answer: no follow-up call to pay for. */
		if (rl_sse_gone(t->sse)) {
			t->gone = 1;
			break;
		}
		/* The follow-up: the outputs, on top of this response. */
		next = body_new(t, json_incref(t->outputs), last_id,
		    round + 1 == CHAT_TOOL_ROUNDS ? "none" : "auto");
		json_decref(body);
		body = next;
		if (body == NULL) {
			(void)frame(t, "error", MSG_INTERNAL,
			    strlen(MSG_INTERNAL));
			break;
		}
	}
	json_decref(body);
	return ok && !t->gone;
}

static enum rl_err
chat_send(struct rl_req *req, struct rl_error *e)
{
	struct turn		 t;
	struct rl_dbres		*r = NULL;
	struct rl_upstream_buf	 ub;
	const char		*message, *system;
	json_t			*body = NULL, *done;
	char			 last_id[CHAT_PREV_ID_MAX + 1];
	long long		 hold = 0;
	enum rl_err		 err;
	int			 ok;

	memset(&t, 0, sizeof(t));
	rl_buf_init(&t.text, CHAT_TEXT_MAX);
	rl_buf_init(&t.reasoning, CHAT_TEXT_MAX);
	memset(&ub, 0, sizeof(ub));
	t.req = req;
	/* A string with a non-blank character (chat.send): EDxo's wording. */
	message = json_string_value(json_object_get(req->json, "message"));
	if (strlen(message) > CHAT_MESSAGE_MAX) {
		err = rl_error_field(e, RL_ETOOBIG, "message", "message: "
		    "%d bytes at most", CHAT_MESSAGE_MAX);
		goto out;
	}

	if ((err = rl_cache_exec(RL_CACHE_T(RL_CACHE_SETTINGS), SQL_SETTINGS,
	    0, NULL, &r, e)) != RL_OK)
		goto out;
	if (rl_dbres_rows(r) != 1) {
		err = rl_error_set(e, RL_EINTERNAL, "no chat_model_config");
		goto out;
	}
	system = rl_dbres_isnull(r, 0, 1) ? NULL : rl_dbres_get(r, 0, 1);
	t.effort = rl_dbres_isnull(r, 0, 2) ? NULL : rl_dbres_get(r, 0, 2);
	t.verbosity = rl_dbres_isnull(r, 0, 3) ? NULL : rl_dbres_get(r, 0, 3);
	if ((err = rl_model_lookup(rl_dbres_get(r, 0, 0), &t.model, e)) !=
	    RL_OK)
		goto out;
	/* No key: EDxo's "Clé OpenAI non configurée.", before the stream. */
	if ((err = rl_model_upstream(&t.model, req->user->id, &ub, e)) !=
	    RL_OK)
		goto out;
	rl_wipe(ub.api_key, sizeof(ub.api_key));
	if ((t.rows = json_array()) == NULL) {
		err = rl_error_set(e, RL_ENOMEM, NULL);
		goto out;
	}
	/*
	 * The first hold is taken before the stream opens, so that a user
	 * without credits gets a plain error answer, not a stream.
	 */
	if ((err = first_hold(&t, system, message, &body, &hold, e)) != RL_OK)
		goto out;
	if ((t.sse = rl_sse_open(req, e)) == NULL) {
		err = e->code;
		goto out;
	}
	(void)frame(&t, "processing", NULL, 0);

	last_id[0] = '\0';
	ok = calls(&t, body, hold, last_id, sizeof(last_id));
	body = NULL;
	hold = 0;
	save(&t, message, last_id, !ok);
	if (ok) {
		done = json_pack("{s:s, s:s, s:s}", "type", "done", "model",
		    t.model.name, "prev_id", last_id);
		if (done != NULL)
			(void)rl_sse_send_json(t.sse, NULL, NULL, done);
		json_decref(done);
	}
	err = RL_OK;
out:
	/*
	 * A hold that no call consumed (the stream never opened); released
	 * later when the database is away now (credits.h).
	 */
	if (hold != 0)
		rl_credits_release_sure(hold);
	rl_dbres_free(r);
	json_decref(body);
	json_decref(t.rows);
	json_decref(t.outputs);
	rl_buf_free(&t.text);
	rl_buf_free(&t.reasoning);
	return err;
}

/*
 * POST /chat/reset: a fresh thread.  EDxo clears the user's thread when
 * its chat page (GET /chat, the application's) loads; relais serves no
 * page there, so its own pages, or a deployment without EDxo, ask for the
 * reset here.  A reset the application writes itself (the user's stored
 * previous response id set to NULL) is read by the next /chat/send.
 */
static enum rl_err
chat_reset(struct rl_req *req, struct rl_error *e)
{
	json_t		*model = NULL;
	char		 uid[32];
	const char	*p[1];
	enum rl_err	 err;

	(void)snprintf(uid, sizeof(uid), "%lld", req->user->id);
	p[0] = uid;
	if ((err = rl_db_exec(SQL_RESET, 1, p, NULL, e)) != RL_OK ||
	    (err = rl_db_json("SELECT to_json((" SQL_MODEL "))", 0, NULL,
	    &model, e)) != RL_OK)
		return err;
	return rl_resp_json_new(req, 200, json_pack("{s:o, s:n}",
	    "chat_model_name", model, "previous_response_id"));
}

/*
 * The routes EDxo's chat page calls answer errors in EDxo's shape; the
 * router's are seed 004's JSON API.  The fields of each body are its
 * request schema (lib/schemas/requests/chat.*.json).
 */
static const struct rl_route routes[] = {
	{ "POST", "/chat/reset", chat_reset, NULL, RL_ROUTE_EDXO_AUTH, 0 },
	{ "POST", "/chat/send", chat_send, "chat.send", RL_ROUTE_EDXO_BODY |
	    RL_ROUTE_STREAM, 0 },
	{ "POST", "/completion", chat_completion, "chat.completion",
	    RL_ROUTE_AUTH | RL_ROUTE_JSON | RL_ROUTE_STREAM, 0 },
	{ "GET", "/agents", chat_agents, NULL, RL_ROUTE_AUTH, 0 },
	{ "GET", "/models", chat_models, NULL, RL_ROUTE_AUTH, 0 },
};

static const struct rl_program program = {
	"chat", routes, RL_NROUTES(routes), 0, 1, NULL
};

int
main(int argc, char *argv[])
{

	return rl_main(argc, argv, &program);
}
