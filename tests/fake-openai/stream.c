/*
 * fake-openai: streamed answers.  A stream is a list of frames built up
 * front, each with the delay to wait before it is sent.  MHD pulls the
 * bytes through stream_read(); when the next frame is not due yet the
 * connection is suspended and the waker thread resumes it on time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake.h"

/* Delays this long watch the client's hang-up while they last. */
#define WATCH_MIN_MS	500

struct frame {
	char	*data;
	size_t	 len;
	long	 delay_ms;
};

struct stream {
	struct frame		*f;
	size_t			 nf;
	size_t			 cap;
	size_t			 cur;	/* frame being sent */
	size_t			 off;	/* bytes of it already sent */
	int			 waited;	/* cur's delay is over */
	long long		 due;		/* when cur may go, or 0 */
	long			 cut_at;	/* frame where we cut, or -1 */
	int			 cut_after;	/* deltas before it, or -1 */
	int			 ndeltas;
	struct MHD_Connection	*conn;
	char			 ctype[64];
};

/* The connection's socket, or -1. */
static int
conn_fd(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci;

	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	return ci != NULL ? ci->connect_fd : -1;
}

struct stream *
stream_new(const char *ctype)
{
	struct stream *s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		abort();
	snprintf(s->ctype, sizeof(s->ctype), "%s", ctype);
	s->cut_at = -1;
	s->cut_after = -1;
	return s;
}

/*
 * Append a frame (takes ownership of data).  is_delta marks frames that
 * carry generated text, which is what "reset-mid-stream" counts.
 */
void
stream_add(struct stream *s, long delay_ms, int is_delta, char *data,
    size_t len)
{
	struct frame *nf;

	if (s->nf == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 16;
		if ((nf = realloc(s->f, s->cap * sizeof(*nf))) == NULL)
			abort();
		s->f = nf;
	}
	s->f[s->nf].data = data;
	s->f[s->nf].len = len;
	s->f[s->nf].delay_ms = delay_ms;
	s->nf++;
	if (is_delta) {
		s->ndeltas++;
		if (s->cut_after >= 0 && s->cut_at < 0 &&
		    s->ndeltas == s->cut_after)
			s->cut_at = (long)s->nf;
	}
}

void
stream_add_str(struct stream *s, long delay_ms, int is_delta, const char *str)
{
	stream_add(s, delay_ms, is_delta, xstrdup(str), strlen(str));
}

/*
 * One server-sent event.  The Responses API names each event with an
 * "event:" line; Chat Completions sends bare "data:" lines (event NULL).
 */
void
stream_add_sse(struct stream *s, long delay_ms, int is_delta,
    const char *event, json_t *obj)
{
	char *js, *buf;
	size_t len;
	int n;

	js = dump_compact(obj);
	json_decref(obj);
	len = strlen(js) + (event ? strlen(event) : 0) + 32;
	if ((buf = malloc(len)) == NULL)
		abort();
	if (event != NULL)
		n = snprintf(buf, len, "event: %s\ndata: %s\n\n", event, js);
	else
		n = snprintf(buf, len, "data: %s\n\n", js);
	free(js);
	stream_add(s, delay_ms, is_delta, buf, (size_t)n);
}

/* Cut the connection once this many delta frames have been sent. */
void
stream_cut_after_deltas(struct stream *s, int n)
{
	s->cut_after = n;
	if (s->ndeltas >= n)
		s->cut_at = (long)s->nf;
}

void
stream_attach(struct stream *s, struct MHD_Connection *conn)
{
	s->conn = conn;
}

const char *
stream_ctype(struct stream *s)
{
	return s->ctype;
}

void
stream_free(void *cls)
{
	struct stream *s = cls;
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->nf; i++)
		free(s->f[i].data);
	free(s->f);
	free(s);
}

/*
 * MHD content reader.  Bytes already gathered are handed back before any
 * wait or cut, so they reach the client first; frames without a delay
 * are coalesced into one write.  While waiting, the connection is
 * suspended and 0 returned, as MHD wants it.
 */
ssize_t
stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct stream *s = cls;
	struct frame *fr;
	size_t n = 0, take;

	(void)pos;
	for (;;) {
		/* The cut may come after the last frame: test it first. */
		if (s->cut_at >= 0 && s->cur == (size_t)s->cut_at) {
			if (n > 0)
				return (ssize_t)n;
			/* MHD then closes without the final chunk. */
			return MHD_CONTENT_READER_END_WITH_ERROR;
		}
		if (s->cur >= s->nf)
			return n > 0 ? (ssize_t)n :
			    MHD_CONTENT_READER_END_OF_STREAM;
		fr = &s->f[s->cur];
		if (!s->waited && fr->delay_ms > 0) {
			if (n > 0)
				return (ssize_t)n;
			if (fake_stopping())
				return MHD_CONTENT_READER_END_WITH_ERROR;
			/* The delay runs from when the previous frame left. */
			if (s->due == 0)
				s->due = mono_ms() + fr->delay_ms;
			if (mono_ms() < s->due) {
				if (fr->delay_ms < WATCH_MIN_MS) {
					MHD_suspend_connection(s->conn);
					waker_add(s->conn, s->due, -1);
					return 0;
				}
				/*
				 * A long silence (a thinking model) is
				 * watched: a client that hangs up during it
				 * is let go at once, and the answer counts
				 * as cut then, not when the silence ends.
				 */
				if (peer_hung_up(s->conn))
					return
					    MHD_CONTENT_READER_END_WITH_ERROR;
				MHD_suspend_connection(s->conn);
				waker_add(s->conn, s->due, conn_fd(s->conn));
				return 0;
			}
		}
		s->waited = 1;
		s->due = 0;
		take = fr->len - s->off;
		if (take > max - n)
			take = max - n;
		memcpy(buf + n, fr->data + s->off, take);
		n += take;
		s->off += take;
		if (s->off == fr->len) {
			s->cur++;
			s->off = 0;
			s->waited = 0;
		}
		if (n == max)
			return (ssize_t)n;
	}
}
