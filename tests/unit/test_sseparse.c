/*
 * test_sseparse.c: lib/sseparse.c.  Every frame the parser dispatches is
 * written into a log ("event|id|data" per frame), so a stream fed whole,
 * byte by byte, or cut in two or three pieces at every possible place can
 * be compared with the frames the stream is known to hold.  Each stream is
 * checked with LF, CRLF and CR line ends.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "relais.h"
#include "bounds.h"
#include "sseparse.h"
#include "harness.h"

struct rec {
	char	 log[8192];
	size_t	 len;
	int	 overflow;
	int	 frames;
	int	 stop_at;	/* stop when this many frames were seen */
};

static void
put(struct rec *r, const char *s, size_t n)
{

	if (n > sizeof(r->log) - 1 - r->len) {
		r->overflow = 1;
		return;
	}
	memcpy(r->log + r->len, s, n);
	r->len += n;
	r->log[r->len] = '\0';
}

static int
rec_frame(void *arg, const struct rl_sse_frame *f)
{
	struct rec	*r = arg;

	put(r, f->event, strlen(f->event));
	put(r, "|", 1);
	put(r, f->id, strlen(f->id));
	put(r, "|", 1);
	put(r, f->data, f->datalen);
	put(r, "\n", 1);
	/* The data is NUL-terminated at datalen, as promised. */
	if (f->data[f->datalen] != '\0')
		put(r, "<no NUL>", 8);
	r->frames++;
	return r->stop_at > 0 && r->frames >= r->stop_at;
}

/*
 * Parse s in pieces cut at the given offsets (sorted, ncut of them) and
 * return the result of the first failing feed or RL_OK; *partial gets
 * rl_sseparse_partial() at the end.
 */
static enum rl_err
parse_cut(const char *s, size_t n, const size_t *cut, int ncut,
    size_t max, struct rec *r, int *partial)
{
	struct rl_sseparse	*p;
	struct rl_error		 e;
	size_t			 from = 0, to;
	enum rl_err		 rc = RL_OK;
	int			 i;

	memset(r, 0, sizeof(*r));
	if ((p = rl_sseparse_new(max)) == NULL)
		return RL_ENOMEM;
	for (i = 0; i <= ncut && rc == RL_OK; i++) {
		to = i < ncut ? cut[i] : n;
		rc = rl_sseparse_feed(p, s + from, to - from, rec_frame, r, &e);
		from = to;
	}
	*partial = rl_sseparse_partial(p);
	rl_sseparse_free(p);
	return rc;
}

static enum rl_err
parse_whole(const char *s, size_t max, struct rec *r, int *partial)
{

	return parse_cut(s, strlen(s), NULL, 0, max, r, partial);
}

/* Byte by byte. */
static enum rl_err
parse_bytes(const char *s, size_t max, struct rec *r, int *partial)
{
	struct rl_sseparse	*p;
	struct rl_error		 e;
	size_t			 i, n = strlen(s);
	enum rl_err		 rc = RL_OK;

	memset(r, 0, sizeof(*r));
	if ((p = rl_sseparse_new(max)) == NULL)
		return RL_ENOMEM;
	for (i = 0; i < n && rc == RL_OK; i++)
		rc = rl_sseparse_feed(p, s + i, 1, rec_frame, r, &e);
	*partial = rl_sseparse_partial(p);
	rl_sseparse_free(p);
	return rc;
}

/* "\n" in the template becomes eol; returns a new string. */
static char *
with_eol(const char *t, const char *eol)
{
	size_t	 n = 0, el = strlen(eol);
	char	*s, *o;
	const char *p;

	for (p = t; *p != '\0'; p++)
		n += *p == '\n' ? el : 1;
	if ((s = malloc(n + 1)) == NULL)
		abort();
	for (o = s, p = t; *p != '\0'; p++) {
		if (*p == '\n') {
			memcpy(o, eol, el);
			o += el;
		} else
			*o++ = *p;
	}
	*o = '\0';
	return s;
}

/*
 * The four ways of feeding one stream must all give the expected frames,
 * the expected result and the expected partial flag.
 */
static void
check_stream(const char *name, const char *s, const char *want,
    int want_partial)
{
	struct rec	 r;
	size_t		 n = strlen(s), cut[2];
	size_t		 i, j, bad2 = 0, bad3 = 0;
	int		 partial;
	enum rl_err	 rc;

	rc = parse_whole(s, 0, &r, &partial);
	ok(rc == RL_OK && strcmp(r.log, want) == 0 && !r.overflow,
	    "%s: whole", name);
	if (strcmp(r.log, want) != 0)
		diag("got:\n%s\nwant:\n%s", r.log, want);
	ok(partial == want_partial, "%s: partial is %d", name, want_partial);

	rc = parse_bytes(s, 0, &r, &partial);
	ok(rc == RL_OK && strcmp(r.log, want) == 0 &&
	    partial == want_partial, "%s: byte by byte", name);

	for (i = 0; i <= n; i++) {
		cut[0] = i;
		rc = parse_cut(s, n, cut, 1, 0, &r, &partial);
		if (rc != RL_OK || strcmp(r.log, want) != 0 ||
		    partial != want_partial) {
			if (bad2++ == 0)
				diag("two pieces cut at %zu differ", i);
		}
	}
	ok(bad2 == 0, "%s: two pieces, %zu cuts", name, n + 1);

	for (i = 0; i <= n; i++)
		for (j = i; j <= n; j++) {
			cut[0] = i;
			cut[1] = j;
			rc = parse_cut(s, n, cut, 2, 0, &r, &partial);
			if (rc != RL_OK || strcmp(r.log, want) != 0 ||
			    partial != want_partial) {
				if (bad3++ == 0)
					diag("three pieces %zu/%zu differ",
					    i, j);
			}
		}
	ok(bad3 == 0, "%s: three pieces, every pair of cuts", name);
}

/* A Responses stream as OpenAI sends it, with a comment and an id. */
static const char responses_stream[] =
    "event: response.created\n"
    "data: {\"type\":\"response.created\",\"response\":{\"id\":\"resp_1\"}}\n"
    "\n"
    ": keep-alive\n"
    "\n"
    "event: response.output_text.delta\n"
    "data: {\"type\":\"response.output_text.delta\",\"delta\":\"Bon\"}\n"
    "\n"
    "event: response.output_text.delta\n"
    "data: {\"type\":\"response.output_text.delta\",\"delta\":\"jour é\"}\n"
    "\n"
    "id: 7\n"
    "event: response.completed\n"
    "data: {\"type\":\"response.completed\",\n"
    "data: \"response\":{\"id\":\"resp_1\"}}\n"
    "\n";

static const char responses_frames[] =
    "response.created||{\"type\":\"response.created\",\"response\":"
    "{\"id\":\"resp_1\"}}\n"
    "response.output_text.delta||{\"type\":\"response.output_text.delta\","
    "\"delta\":\"Bon\"}\n"
    "response.output_text.delta||{\"type\":\"response.output_text.delta\","
    "\"delta\":\"jour é\"}\n"
    "response.completed|7|{\"type\":\"response.completed\",\n"
    "\"response\":{\"id\":\"resp_1\"}}\n";

/*
 * A chat stream with the field forms the rules name: no space after the
 * colon, two spaces (one is kept), a bare "data" line, unknown fields,
 * retry:, an event: without data (never dispatched) and [DONE].
 */
static const char chat_stream[] =
    "data: {\"choices\":[{\"delta\":{\"content\":\"Hi\"}}]}\n"
    "\n"
    "data:{\"no\":\"space\"}\n"
    "\n"
    "data:  two spaces\n"
    "\n"
    "data\n"
    "\n"
    "retry: 100\n"
    "foo: bar\n"
    "data: x\n"
    "data:\n"
    "\n"
    "event: lonely\n"
    "\n"
    "data: [DONE]\n"
    "\n";

static const char chat_frames[] =
    "||{\"choices\":[{\"delta\":{\"content\":\"Hi\"}}]}\n"
    "||{\"no\":\"space\"}\n"
    "|| two spaces\n"
    "||\n"
    "||x\n\n"
    "||[DONE]\n";

static void
test_streams(void)
{
	static const struct {
		const char	*name;
		const char	*eol;
	} eols[] = {
		{ "LF", "\n" }, { "CRLF", "\r\n" }, { "CR", "\r" },
	};
	char		 name[64];
	char		*s;
	size_t		 i;

	for (i = 0; i < sizeof(eols) / sizeof(eols[0]); i++) {
		s = with_eol(responses_stream, eols[i].eol);
		(void)snprintf(name, sizeof(name), "responses %s",
		    eols[i].name);
		check_stream(name, s, responses_frames, 0);
		free(s);
		s = with_eol(chat_stream, eols[i].eol);
		(void)snprintf(name, sizeof(name), "chat %s", eols[i].name);
		check_stream(name, s, chat_frames, 0);
		free(s);
	}
	/* Line ends mixed in one stream. */
	check_stream("mixed line ends",
	    "event: a\r\ndata: 1\rdata: 2\n\r\n"
	    "data: 3\r\r"
	    "data: 4\n\n",
	    "a||1\n2\n||3\n||4\n", 0);
}

static void
test_unfinished(void)
{
	struct rec	 r;
	int		 partial;

	check_stream("trailing data line", "data: a\n\ndata: b\n",
	    "||a\n", 1);
	check_stream("trailing half line", "data: a\n\ndat", "||a\n", 1);
	check_stream("trailing event line", "data: a\n\nevent: x\n",
	    "||a\n", 1);
	check_stream("trailing comment", "data: a\n\n: ping\n", "||a\n", 0);
	check_stream("nothing pending", "data: a\n\n", "||a\n", 0);
	/* A CR then end of input: the line ended, no blank line yet. */
	ok(parse_whole("data: a\r", 0, &r, &partial) == RL_OK &&
	    r.frames == 0 && partial == 1, "CR-ended line is not a frame");
	ok(parse_whole("", 0, &r, &partial) == RL_OK && r.frames == 0 &&
	    partial == 0, "empty input");
}

static void
test_fields(void)
{
	static const char nulid[] = "id: a\0b\ndata: x\n\nid: c\ndata: y\n\n";
	struct rec	 r;
	size_t		 cut[1];
	int		 partial;

	check_stream("event and id last one frame",
	    "event: e\nid: 1\ndata: a\n\ndata: b\n\n", "e|1|a\n||b\n", 0);
	check_stream("later event and id win",
	    "event: e\nevent: f\nid: 1\nid: 2\ndata: a\n\n", "f|2|a\n", 0);
	check_stream("byte order mark", "\xef\xbb\xbf" "data: a\n\n",
	    "||a\n", 0);
	/* Not a BOM: the bytes stay in the field name, which is unknown. */
	check_stream("half a byte order mark", "\xef\xbb" "data: a\n\n"
	    "data: b\n\n", "||b\n", 0);
	check_stream("BOM only at the start", "data: a\n\n\xef\xbb\xbf"
	    "data: b\n\n", "||a\n", 0);
	check_stream("empty event and id", "event:\nid:\ndata: a\n\n",
	    "||a\n", 0);
	check_stream("colon in value", "data: a: b\n\n", "||a: b\n", 0);
	check_stream("one space is removed", "data: \n\n", "||\n", 0);
	/* An id holding a NUL is ignored (WHATWG). */
	cut[0] = 3;
	ok(parse_cut(nulid, sizeof(nulid) - 1, cut, 1, 0, &r, &partial) ==
	    RL_OK && strcmp(r.log, "||x\n|c|y\n") == 0,
	    "id with a NUL is ignored");
}

static void
test_limits(void)
{
	struct rl_sseparse	*p;
	struct rl_error		 e;
	struct rec		 r;
	char			 big[200];
	char			*huge;
	size_t			 n;
	int			 partial;
	enum rl_err		 rc;

	ok(parse_whole("data: 0123456789abcdef\n\n", 16, &r, &partial) ==
	    RL_OK && strcmp(r.log, "||0123456789abcdef\n") == 0,
	    "frame of exactly max bytes");
	ok(parse_whole("data: 0123456789abcdefg\n\n", 16, &r, &partial) ==
	    RL_ETOOBIG && r.frames == 0, "one byte over max: RL_ETOOBIG");
	ok(parse_bytes("data: 0123456789abcdefg\n\n", 16, &r, &partial) ==
	    RL_ETOOBIG, "one byte over max, byte by byte: RL_ETOOBIG");
	ok(parse_whole("data: 12345678\ndata: 1234567\n\n", 16, &r,
	    &partial) == RL_OK && r.frames == 1,
	    "joined lines of exactly max bytes");
	ok(parse_whole("data: 12345678\ndata: 12345678\n\n", 16, &r,
	    &partial) == RL_ETOOBIG, "joined lines over max: RL_ETOOBIG");

	/* A line that never ends is refused before it eats memory. */
	memset(big, 'a', sizeof(big));
	memset(&r, 0, sizeof(r));
	if ((p = rl_sseparse_new(16)) == NULL)
		abort();
	rc = rl_sseparse_feed(p, "data: ", 6, rec_frame, &r, &e);
	for (n = 0; rc == RL_OK && n < sizeof(big); n += 10)
		rc = rl_sseparse_feed(p, big + n, 10, rec_frame, &r, &e);
	ok(rc == RL_ETOOBIG && e.code == RL_ETOOBIG && n <= 40,
	    "endless line: RL_ETOOBIG after %zu bytes (%s)", n + 6, e.msg);
	ok(rl_sseparse_feed(p, "\n\n", 2, rec_frame, &r, &e) == RL_ETOOBIG,
	    "the error is sticky");
	rl_sseparse_free(p);

	/* The default cap is RL_OA_FRAME_MAX. */
	if ((p = rl_sseparse_new(0)) == NULL)
		abort();
	memset(&r, 0, sizeof(r));
	rc = rl_sseparse_feed(p, "data: ", 6, rec_frame, &r, &e);
	if ((huge = malloc(RL_OA_FRAME_MAX + 1)) == NULL)
		abort();
	memset(huge, 'b', RL_OA_FRAME_MAX + 1);
	if (rc == RL_OK)
		rc = rl_sseparse_feed(p, huge, RL_OA_FRAME_MAX, rec_frame, &r,
		    &e);
	ok(rc == RL_OK, "max 0: RL_OA_FRAME_MAX bytes accepted");
	rc = rl_sseparse_feed(p, huge, 1, rec_frame, &r, &e);
	if (rc == RL_OK)
		rc = rl_sseparse_feed(p, "\n\n", 2, rec_frame, &r, &e);
	ok(rc == RL_ETOOBIG && r.frames == 0,
	    "max 0: one byte more is RL_ETOOBIG");
	free(huge);
	rl_sseparse_free(p);
}

static void
test_stop(void)
{
	struct rl_sseparse	*p;
	struct rl_error		 e;
	struct rec		 r;
	enum rl_err		 rc;

	if ((p = rl_sseparse_new(0)) == NULL)
		abort();
	memset(&r, 0, sizeof(r));
	r.stop_at = 2;
	rc = rl_sseparse_feed(p, "data: 1\n\ndata: 2\n\ndata: 3\n\n", 27,
	    rec_frame, &r, &e);
	ok(rc == RL_EGONE && e.code == RL_EGONE, "callback stop: RL_EGONE");
	ok(r.frames == 2 && strcmp(r.log, "||1\n||2\n") == 0,
	    "no frame after the stop");
	rc = rl_sseparse_feed(p, "data: 4\n\n", 9, rec_frame, &r, &e);
	ok(rc == RL_EGONE && r.frames == 2, "a stopped parser stays stopped");
	rl_sseparse_free(p);
	rl_sseparse_free(NULL);
	ok(1, "rl_sseparse_free(NULL) is harmless");
}

int
main(void)
{

	test_streams();
	test_unfinished();
	test_fields();
	test_limits();
	test_stop();
	return done();
}
