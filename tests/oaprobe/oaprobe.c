/*
 * oaprobe: one upstream call per invocation through lib/openai.c, for the
 * integration tests and the benchmark.  It prints one JSON line:
 *
 *	{"rc":"ok","status":200,"attempts":1,"usage":{...,"reported":1},
 *	 "request_id":..,"response_id":..,"finish":..,"events":{"text":8,..},
 *	 "text":"..","reasoning":"..","args":"..","started":1,"stopped":0,
 *	 "latency_ms":..,"ttft_ms":..,"raw_len":0,"raw":..,"answer":{..},
 *	 "error":".."}
 *
 * With --repeat N it makes the same call N times on one thread (one
 * kept-alive connection) and prints {"calls","failed","us_per_call"}
 * instead.  Exit status: 0 when the (last) call returned RL_OK, 1 when it
 * failed, 2 on a usage error.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "relais.h"
#include "openai.h"

#define MAX_HEADERS	32
/* Raw answers longer than this are counted, not printed. */
#define RAW_PRINT_MAX	(1024 * 1024)

struct text {
	char	*p;
	size_t	 len;
};

struct probe {
	long	 stop_after;
	long	 events;
	long	 n[RL_OA_EV_ERROR + 1];
	struct text text;
	struct text reasoning;
	struct text args;
};

static void
usage(void)
{

	fprintf(stderr, "usage: oaprobe --base URL --path PATH [--key K] "
	    "[--body JSON|@FILE]\n"
	    "\t[--stream] [--stop-after N] [--upload FILE] [--upload-name N]"
	    "\n\t[--form K=V]... [--method M] [--header 'N: V']...\n"
	    "\t[--connect-ms N] [--idle-ms N] [--total-ms N] [--attempts N]"
	    "\n\t[--answer-max N] [--repeat N]\n");
	exit(2);
}

static void
text_add(struct text *t, const char *s, size_t n)
{
	char	*p;

	if ((p = realloc(t->p, t->len + n + 1)) == NULL) {
		perror("oaprobe");
		exit(2);
	}
	memcpy(p + t->len, s, n);
	t->len += n;
	p[t->len] = '\0';
	t->p = p;
}

static int
on_event(void *arg, const struct rl_oa_event *ev)
{
	struct probe	*p = arg;

	p->n[ev->kind]++;
	if (ev->delta != NULL) {
		if (ev->kind == RL_OA_EV_TEXT)
			text_add(&p->text, ev->delta, ev->deltalen);
		else if (ev->kind == RL_OA_EV_REASONING)
			text_add(&p->reasoning, ev->delta, ev->deltalen);
		else if (ev->kind == RL_OA_EV_TOOL_ARGS)
			text_add(&p->args, ev->delta, ev->deltalen);
	}
	p->events++;
	return p->stop_after > 0 && p->events >= p->stop_after;
}

static long
number(const char *s)
{
	char	*end;
	long	 v;

	v = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || v < 0)
		usage();
	return v;
}

static json_t *
load_body(const char *arg)
{
	json_error_t	 je;
	json_t		*j;

	if (arg[0] == '@')
		j = json_load_file(arg + 1, 0, &je);
	else
		j = json_loads(arg, 0, &je);
	if (j == NULL) {
		fprintf(stderr, "oaprobe: --body: %s\n", je.text);
		exit(2);
	}
	return j;
}

static json_t *
text_json(const struct text *t)
{

	return t->p != NULL ? json_stringn(t->p, t->len) : json_string("");
}

static void
print(const struct rl_oa_call *c, const struct probe *p, enum rl_err rc,
    const struct rl_error *e)
{
	json_t	*o, *raw = NULL;
	char	*s;

	if (c->raw != NULL && c->rawlen <= RAW_PRINT_MAX)
		raw = json_stringn(c->raw, c->rawlen);
	o = json_pack("{s:s, s:i, s:i, s:{s:I, s:I, s:I, s:I, s:i}, "
	    "s:s, s:s, s:s, s:{s:i, s:i, s:i, s:i, s:i, s:i, s:i}, "
	    "s:o, s:o, s:o, s:i, s:i, s:I, s:I, s:I, s:o, s:O?, s:s?}",
	    "rc", rl_err_token(rc), "status", c->status,
	    "attempts", c->attempts,
	    "usage", "input_tokens", (json_int_t)c->usage.input_tokens,
	    "cached_tokens", (json_int_t)c->usage.cached_tokens,
	    "output_tokens", (json_int_t)c->usage.output_tokens,
	    "reasoning_tokens", (json_int_t)c->usage.reasoning_tokens,
	    "reported", c->usage.reported,
	    "request_id", c->request_id, "response_id", c->response_id,
	    "finish", c->finish,
	    "events", "text", (int)p->n[RL_OA_EV_TEXT],
	    "reasoning", (int)p->n[RL_OA_EV_REASONING],
	    "tool_args", (int)p->n[RL_OA_EV_TOOL_ARGS],
	    "item_done", (int)p->n[RL_OA_EV_ITEM_DONE],
	    "done", (int)p->n[RL_OA_EV_DONE],
	    "error", (int)p->n[RL_OA_EV_ERROR],
	    "other", (int)p->n[RL_OA_EV_OTHER],
	    "text", text_json(&p->text),
	    "reasoning", text_json(&p->reasoning),
	    "args", text_json(&p->args),
	    "started", c->started, "stopped", c->stopped,
	    "latency_ms", (json_int_t)c->latency_ms,
	    "ttft_ms", (json_int_t)c->ttft_ms,
	    "raw_len", (json_int_t)c->rawlen,
	    "raw", raw != NULL ? raw : json_null(),
	    "answer", c->answer,
	    "error", rc != RL_OK ? e->msg : NULL);
	if (o == NULL || (s = json_dumps(o, JSON_COMPACT)) == NULL) {
		fprintf(stderr, "oaprobe: cannot print the result\n");
		exit(2);
	}
	puts(s);
	free(s);
	json_decref(o);
}

static long long
now_us(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int
main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "base", required_argument, NULL, 'b' },
		{ "key", required_argument, NULL, 'k' },
		{ "path", required_argument, NULL, 'p' },
		{ "body", required_argument, NULL, 'd' },
		{ "stream", no_argument, NULL, 's' },
		{ "stop-after", required_argument, NULL, 'S' },
		{ "upload", required_argument, NULL, 'u' },
		{ "upload-name", required_argument, NULL, 'U' },
		{ "form", required_argument, NULL, 'f' },
		{ "method", required_argument, NULL, 'm' },
		{ "header", required_argument, NULL, 'H' },
		{ "connect-ms", required_argument, NULL, 'c' },
		{ "idle-ms", required_argument, NULL, 'i' },
		{ "total-ms", required_argument, NULL, 't' },
		{ "attempts", required_argument, NULL, 'a' },
		{ "answer-max", required_argument, NULL, 'x' },
		{ "repeat", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 }
	};
	struct rl_upstream	 up;
	struct rl_oa_call	 c;
	struct rl_error		 e;
	struct probe		 p;
	const char		*headers[MAX_HEADERS + 1];
	json_t			*body = NULL, *form = NULL;
	char			*eq;
	long			 repeat = 0, i, failed = 0;
	long long		 t0;
	int			 ch, nh = 0, stream = 0;
	enum rl_err		 rc = RL_OK;

	memset(&up, 0, sizeof(up));
	memset(&c, 0, sizeof(c));
	memset(&p, 0, sizeof(p));
	up.name = "oaprobe";
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'b':
			up.base_url = optarg;
			break;
		case 'k':
			up.api_key = optarg;
			break;
		case 'p':
			c.path = optarg;
			break;
		case 'd':
			json_decref(body);
			body = load_body(optarg);
			break;
		case 's':
			stream = 1;
			break;
		case 'S':
			p.stop_after = number(optarg);
			break;
		case 'u':
			c.upload_path = optarg;
			break;
		case 'U':
			c.upload_name = optarg;
			break;
		case 'f':
			if ((eq = strchr(optarg, '=')) == NULL)
				usage();
			*eq = '\0';
			if (form == NULL)
				form = json_object();
			json_object_set_new(form, optarg, json_string(eq + 1));
			break;
		case 'm':
			c.method = optarg;
			break;
		case 'H':
			if (nh == MAX_HEADERS)
				usage();
			headers[nh++] = optarg;
			break;
		case 'c':
			c.connect_timeout_ms = number(optarg);
			break;
		case 'i':
			c.idle_timeout_ms = number(optarg);
			break;
		case 't':
			c.total_timeout_ms = number(optarg);
			break;
		case 'a':
			c.max_attempts = (int)number(optarg);
			break;
		case 'x':
			c.answer_max = (size_t)number(optarg);
			break;
		case 'r':
			repeat = number(optarg);
			break;
		default:
			usage();
		}
	}
	if (up.base_url == NULL || c.path == NULL || optind != argc)
		usage();
	headers[nh] = NULL;
	c.headers = nh > 0 ? headers : NULL;
	c.body = body;
	c.form = form;
	if (stream) {
		c.on_event = on_event;
		c.arg = &p;
	}
	if (rl_oa_init(&e) != RL_OK) {
		fprintf(stderr, "oaprobe: %s\n", e.msg);
		return 2;
	}
	if (repeat > 0) {
		t0 = now_us();
		for (i = 0; i < repeat; i++)
			if ((rc = rl_oa_call(&up, &c, &e)) != RL_OK)
				failed++;
		printf("{\"calls\":%ld,\"failed\":%ld,\"us_per_call\":%.1f}\n",
		    repeat, failed, (double)(now_us() - t0) / (double)repeat);
	} else {
		rc = rl_oa_call(&up, &c, &e);
		print(&c, &p, rc, &e);
	}
	rl_oa_call_free(&c);
	rl_oa_thread_end();
	json_decref(body);
	json_decref(form);
	free(p.text.p);
	free(p.reasoning.p);
	free(p.args.p);
	return rc == RL_OK ? 0 : 1;
}
