/*
 * sseparse.c: the client side of text/event-stream, fed in pieces of any
 * size.  See sseparse.h for the rules and docs/internals/sseparse.md.
 *
 * State between two feeds is only what a frame needs: the unfinished line,
 * the data lines joined so far, the event type and id, whether the last
 * byte was a CR (a LF right after it belongs to the same line end) and how
 * much of a leading byte order mark has been seen.  So the frames are the
 * same whatever the split, which the unit test and the fuzzer check.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "relais.h"
#include "bounds.h"
#include "buf.h"
#include "sseparse.h"

/*
 * A line may hold a whole frame's data plus its field name ("data: "):
 * this much room on top of max keeps "data: " + max bytes acceptable.
 */
#define LINE_SLACK	16
struct rl_sseparse {
	size_t		 max;		/* data bytes of one frame */
	struct rl_buf	 line;		/* the line being read */
	struct rl_buf	 data;		/* data lines, joined with LF */
	struct rl_buf	 event;
	struct rl_buf	 id;
	int		 hasdata;	/* a data: line was seen */
	int		 fields;	/* a field line was seen */
	int		 cr;		/* last byte was CR */
	int		 bom;		/* BOM bytes matched; 3: settled */
	enum rl_err	 failed;	/* sticky error, RL_OK if none */
	char		 msg[RL_ERRMSG_MAX];
};

static const unsigned char bom[3] = { 0xef, 0xbb, 0xbf };

/* Replace a field's value; its buffer's maximum bounds it. */
static enum rl_err
buf_set(struct rl_buf *b, const char *s, size_t n)
{

	rl_buf_reset(b);
	return rl_buf_add(b, s, n);
}

struct rl_sseparse *
rl_sseparse_new(size_t max)
{
	struct rl_sseparse	*p;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	p->max = max > 0 ? max : RL_OA_FRAME_MAX;
	rl_buf_init(&p->line, p->max + LINE_SLACK);
	rl_buf_init(&p->data, p->max);
	rl_buf_init(&p->event, p->max);
	rl_buf_init(&p->id, p->max);
	return p;
}

void
rl_sseparse_free(struct rl_sseparse *p)
{

	if (p == NULL)
		return;
	rl_buf_free(&p->line);
	rl_buf_free(&p->data);
	rl_buf_free(&p->event);
	rl_buf_free(&p->id);
	free(p);
}

int
rl_sseparse_partial(const struct rl_sseparse *p)
{

	return rl_buf_len(&p->line) > 0 || p->fields;
}

/* Remember the first error: every later feed returns it again. */
static enum rl_err
fail(struct rl_sseparse *p, enum rl_err code, struct rl_error *e,
    const char *msg)
{

	p->failed = code;
	(void)snprintf(p->msg, sizeof(p->msg), "%s", msg);
	return rl_error_set(e, code, "%s", p->msg);
}

static enum rl_err
too_big(struct rl_sseparse *p, enum rl_err code, struct rl_error *e)
{
	char	 m[RL_ERRMSG_MAX];

	if (code == RL_ENOMEM)
		return fail(p, code, e, "out of memory");
	(void)snprintf(m, sizeof(m), "SSE frame exceeds %zu bytes", p->max);
	return fail(p, code, e, m);
}

/* A blank line: dispatch the frame if it had data, then start anew. */
static enum rl_err
dispatch(struct rl_sseparse *p, rl_sse_frame_cb cb, void *arg,
    struct rl_error *e)
{
	struct rl_sse_frame	 f;
	int			 stop = 0;

	if (p->hasdata) {
		f.event = rl_buf_str(&p->event);
		f.id = rl_buf_str(&p->id);
		f.data = rl_buf_str(&p->data);
		f.datalen = rl_buf_len(&p->data);
		stop = cb != NULL && cb(arg, &f) != 0;
	}
	rl_buf_reset(&p->data);
	rl_buf_reset(&p->event);
	rl_buf_reset(&p->id);
	p->hasdata = p->fields = 0;
	if (stop)
		return fail(p, RL_EGONE, e, "SSE consumer stopped the stream");
	return RL_OK;
}

static enum rl_err
line(struct rl_sseparse *p, const char *s, size_t n, rl_sse_frame_cb cb,
    void *arg, struct rl_error *e)
{
	const char	*colon, *v;
	size_t		 fn, vn;
	enum rl_err	 rc = RL_OK;

	if (n == 0)
		return dispatch(p, cb, arg, e);
	if (s[0] == ':')
		return RL_OK;
	p->fields = 1;
	if ((colon = memchr(s, ':', n)) != NULL) {
		fn = colon - s;
		v = colon + 1;
		vn = n - fn - 1;
		if (vn > 0 && v[0] == ' ') {
			v++;
			vn--;
		}
	} else {
		fn = n;
		v = s + n;
		vn = 0;
	}
	if (fn == 4 && memcmp(s, "data", 4) == 0) {
		if (p->hasdata)
			rc = rl_buf_add(&p->data, "\n", 1);
		if (rc == RL_OK)
			rc = rl_buf_add(&p->data, v, vn);
		p->hasdata = 1;
	} else if (fn == 5 && memcmp(s, "event", 5) == 0)
		rc = buf_set(&p->event, v, vn);
	else if (fn == 2 && memcmp(s, "id", 2) == 0 &&
	    memchr(v, '\0', vn) == NULL)
		/* WHATWG: an id with a NUL is ignored. */
		rc = buf_set(&p->id, v, vn);
	/* retry: and unknown fields are ignored. */
	if (rc != RL_OK)
		return too_big(p, rc, e);
	return RL_OK;
}

/*
 * A byte order mark may open the stream (WHATWG strips it).  Returns how
 * many input bytes it took; bytes that looked like a BOM but were not go
 * back to the line buffer.
 */
static size_t
skip_bom(struct rl_sseparse *p, const unsigned char *s, size_t n,
    enum rl_err *rc)
{
	size_t	 i = 0;

	while (p->bom < 3 && i < n) {
		if (s[i] == bom[p->bom]) {
			p->bom++;
			i++;
			continue;
		}
		*rc = rl_buf_add(&p->line, bom, p->bom);
		p->bom = 3;
	}
	return i;
}

enum rl_err
rl_sseparse_feed(struct rl_sseparse *p, const char *s, size_t n,
    rl_sse_frame_cb cb, void *arg, struct rl_error *e)
{
	size_t		 i, j;
	enum rl_err	 rc = RL_OK;

	if (p->failed != RL_OK)
		return rl_error_set(e, p->failed, "%s", p->msg);
	i = skip_bom(p, (const unsigned char *)s, n, &rc);
	if (rc != RL_OK)
		return too_big(p, rc, e);
	while (i < n) {
		if (p->cr) {
			p->cr = 0;
			if (s[i] == '\n') {
				i++;
				continue;
			}
		}
		for (j = i; j < n && s[j] != '\n' && s[j] != '\r'; j++)
			continue;
		if (j == n) {
			if ((rc = rl_buf_add(&p->line, s + i, n - i)) !=
			    RL_OK)
				return too_big(p, rc, e);
			break;
		}
		if (s[j] == '\r')
			p->cr = 1;
		if (rl_buf_len(&p->line) == 0) {
			/* The whole line is in this piece: no copy. */
			if (j - i > p->max + LINE_SLACK)
				return too_big(p, RL_ETOOBIG, e);
			rc = line(p, s + i, j - i, cb, arg, e);
		} else {
			if ((rc = rl_buf_add(&p->line, s + i, j - i)) !=
			    RL_OK)
				return too_big(p, rc, e);
			rc = line(p, rl_buf_str(&p->line),
			    rl_buf_len(&p->line), cb, arg, e);
			rl_buf_reset(&p->line);
		}
		if (rc != RL_OK)
			return rc;
		i = j + 1;
	}
	return RL_OK;
}
