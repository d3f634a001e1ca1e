/*
 * log.c: structured logging.  Messages are JSON-escaped by hand rather than
 * through jansson because logging must work when allocation fails.
 *
 * A line is built in a fixed buffer by put() and putstr() only, and
 * neither ever writes past it: fixed text that would not fit is dropped
 * whole, and a string value is cut at a character boundary (marked "…")
 * early enough to leave LOG_RESERVE bytes for whatever fixed text still
 * follows.  Every line is therefore complete JSON whatever a client puts
 * in its path (tests/fuzz/fuzz_log.c checks exactly that).
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "bounds.h"
#include "log.h"

/*
 * Room kept after a string value for the fixed text that may follow it
 * (closing quote, status and duration, the next key, "}\n"): the longest
 * such run is under 80 bytes.
 */
#define LOG_RESERVE	128

/* A cut value ends with this (U+2026, three bytes in UTF-8). */
static const char	 ellipsis[] = "\xe2\x80\xa6";

struct line {
	char	 buf[RL_LOG_LINE_MAX];
	size_t	 len;
};

static enum rl_loglevel	 loglevel = RL_LOG_INFO;
static __thread const char *curreq;
static __thread struct rl_log_ctx curctx;
static const char *const levels[RL_LOG__MAX] = {
	"error", "warn", "info", "debug"
};

void
rl_log_setlevel(enum rl_loglevel l)
{

	loglevel = l;
}

int
rl_log_parselevel(const char *s, enum rl_loglevel *out)
{
	int	 i;

	for (i = 0; i < RL_LOG__MAX; i++)
		if (strcasecmp(s, levels[i]) == 0) {
			*out = (enum rl_loglevel)i;
			return 0;
		}
	return -1;
}

void
rl_log_set_request(const char *id)
{

	curreq = id;
	memset(&curctx, 0, sizeof(curctx));
}

void
rl_log_set_user(long long id)
{

	curctx.user_id = id;
}

/* One upstream call of the request this thread serves, added up. */
void
rl_log_upstream(const char *model, int status, int failed, long long us,
    long long tokens_in, long long tokens_out, long long cost_micro)
{

	curctx.calls++;
	curctx.failed += failed != 0;
	curctx.upstream_status = status;
	curctx.upstream_us += us;
	curctx.tokens_in += tokens_in;
	curctx.tokens_out += tokens_out;
	curctx.cost_micro += cost_micro;
	if (model != NULL)
		(void)snprintf(curctx.model, sizeof(curctx.model), "%s",
		    model);
}

/* Append n bytes, or nothing when they would not leave room for "}\n". */
static void
put(struct line *l, const char *s, size_t n)
{

	if (n > sizeof(l->buf) - 2 - l->len)
		return;
	memcpy(l->buf + l->len, s, n);
	l->len += n;
}

static void __attribute__((format(printf, 2, 3)))
putf(struct line *l, const char *fmt, ...)
{
	char	 tmp[LOG_RESERVE / 2];
	va_list	 ap;
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n > 0 && (size_t)n < sizeof(tmp))
		put(l, tmp, (size_t)n);
}

/*
 * Length of the well-formed UTF-8 sequence at s (1 to 4), or 0 when the
 * byte there does not start one (overlongs, surrogates and values past
 * U+10FFFF included).
 */
static size_t
utf8len(const unsigned char *s)
{
	size_t	 n, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	for (i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] > 0x9f) ||
	    (s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] > 0x8f))
		return 0;
	return n;
}

/*
 * Append s as a JSON string: quotes and backslashes escaped, controls as
 * \u00XX, a byte that is not UTF-8 as \ufffd.  At most cap bytes of
 * output for the value, and never into the last LOG_RESERVE bytes.
 */
static void
putstr(struct line *l, const char *s, size_t cap)
{
	const unsigned char	*p = (const unsigned char *)s;
	char			 esc[8];
	const char		*piece;
	size_t			 n, plen, used = 0, limit;

	limit = sizeof(l->buf) - l->len;
	limit = limit > LOG_RESERVE + 2 ? limit - LOG_RESERVE - 2 : 0;
	if (cap < limit)
		limit = cap;
	put(l, "\"", 1);
	for (; *p != '\0'; p += n) {
		/* A piece: the n source bytes, or the escape made for them. */
		piece = (const char *)p;
		if (*p == '"' || *p == '\\') {
			esc[0] = '\\';
			esc[1] = (char)*p;
			esc[2] = '\0';
			piece = esc;
			n = 1;
		} else if (*p < 0x20 || *p == 0x7f) {
			(void)snprintf(esc, sizeof(esc), "\\u%04x", *p);
			piece = esc;
			n = 1;
		} else if ((n = utf8len(p)) == 0) {
			piece = "\\ufffd";
			n = 1;
		}
		plen = piece == (const char *)p ? n : strlen(piece);
		if (used + plen + sizeof(ellipsis) - 1 > limit)
			break;
		put(l, piece, plen);
		used += plen;
	}
	if (*p != '\0')
		put(l, ellipsis, sizeof(ellipsis) - 1);
	put(l, "\"", 1);
}

static void
stamp(struct line *l, enum rl_loglevel lv)
{
	struct timespec	 ts;
	struct tm	 tm;
	char		 t[32];

	l->len = 0;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	if (strftime(t, sizeof(t), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
		t[0] = '\0';
	putf(l, "{\"ts\":\"%s.%03ldZ\",\"level\":\"%s\"", t,
	    ts.tv_nsec / 1000000, levels[lv]);
}

/* Close the object; put() always left room for these two bytes. */
static size_t
finish(struct line *l, char *out)
{

	l->buf[l->len++] = '}';
	l->buf[l->len++] = '\n';
	memcpy(out, l->buf, l->len);
	return l->len;
}

size_t
rl_log_format(char out[RL_LOG_LINE_MAX], enum rl_loglevel lv,
    const char *req, const char *msg)
{
	struct line	 l;

	stamp(&l, lv);
	if (req != NULL) {
		put(&l, ",\"req\":", 7);
		putstr(&l, req, RL_LOG_ID_MAX);
	}
	put(&l, ",\"msg\":", 7);
	putstr(&l, msg, sizeof(l.buf));
	return finish(&l, out);
}

/*
 * What a request line and a task line end with alike: the user, the
 * upstream figures of the calls made for it, and the error.
 */
static void
putctx(struct line *l, const struct rl_log_ctx *ctx, const char *err)
{

	/* null rather than absent: jq's group_by sees anonymous calls. */
	if (ctx != NULL && ctx->user_id != 0)
		putf(l, ",\"user\":%lld", ctx->user_id);
	else
		put(l, ",\"user\":null", 12);
	/* Only a line whose calls reached the upstream has these. */
	if (ctx != NULL && ctx->calls > 0) {
		/* One field a putf: each fits its 64-byte buffer. */
		putf(l, ",\"upstream_calls\":%d", ctx->calls);
		putf(l, ",\"upstream_failed\":%d", ctx->failed);
		putf(l, ",\"upstream_status\":%d", ctx->upstream_status);
		putf(l, ",\"upstream_us\":%lld", ctx->upstream_us);
		putf(l, ",\"tokens_in\":%lld", ctx->tokens_in);
		putf(l, ",\"tokens_out\":%lld", ctx->tokens_out);
		putf(l, ",\"cost_micro\":%lld", ctx->cost_micro);
		put(l, ",\"model\":", 9);
		putstr(l, ctx->model, RL_LOG_ID_MAX);
	}
	if (err != NULL) {
		put(l, ",\"error\":", 9);
		putstr(l, err, sizeof(l->buf));
	}
}

size_t
rl_log_format_request(char out[RL_LOG_LINE_MAX], const char *id,
    const char *method, const char *path, const char *route, int status,
    long long us, const char *err, const struct rl_log_ctx *ctx)
{
	struct line	 l;

	stamp(&l, status >= 500 ? RL_LOG_ERROR : RL_LOG_INFO);
	put(&l, ",\"req\":", 7);
	putstr(&l, id, RL_LOG_ID_MAX);
	put(&l, ",\"method\":", 10);
	putstr(&l, method, RL_LOG_ID_MAX);
	put(&l, ",\"path\":", 8);
	putstr(&l, path, RL_LOG_PATH_MAX);
	put(&l, ",\"route\":", 9);
	putstr(&l, route != NULL ? route : "", RL_LOG_PATH_MAX);
	putf(&l, ",\"status\":%d,\"us\":%lld", status, us);
	putctx(&l, ctx, err);
	return finish(&l, out);
}

size_t
rl_log_format_task(char out[RL_LOG_LINE_MAX], const char *id,
    const char *name, int attempt, const char *state, long long us,
    const char *err, const struct rl_log_ctx *ctx)
{
	struct line	 l;

	/* No state: the outcome could not be written (worker.c says why). */
	stamp(&l, state != NULL ? RL_LOG_INFO : RL_LOG_WARN);
	put(&l, ",\"req\":", 7);
	putstr(&l, id, RL_LOG_ID_MAX);
	put(&l, ",\"task\":", 8);
	putstr(&l, name, RL_LOG_PATH_MAX);
	putf(&l, ",\"attempt\":%d", attempt);
	if (state != NULL) {
		put(&l, ",\"state\":", 9);
		putstr(&l, state, RL_LOG_ID_MAX);
	} else
		put(&l, ",\"state\":null", 13);
	putf(&l, ",\"us\":%lld", us);
	putctx(&l, ctx, err);
	return finish(&l, out);
}

void
rl_log(enum rl_loglevel l, const char *fmt, ...)
{
	char	 buf[RL_LOG_LINE_MAX], msg[RL_LOG_LINE_MAX];
	size_t	 n;
	va_list	 ap;

	if (l > loglevel)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	n = rl_log_format(buf, l, curreq, msg);
	(void)write(STDERR_FILENO, buf, n);
}

void
rl_log_request(const char *id, const char *method, const char *path,
    const char *route, int status, long long us, const char *err)
{
	char	 buf[RL_LOG_LINE_MAX];
	size_t	 n;

	if (loglevel < RL_LOG_INFO && status < 500)
		return;
	n = rl_log_format_request(buf, id, method, path, route, status, us,
	    err, &curctx);
	(void)write(STDERR_FILENO, buf, n);
}

/*
 * The worker's line for a task it ran, with what rl_log_set_request(id)
 * and rl_log_set_user() started and rl_ai_call() added up on this thread.
 */
void
rl_log_task(const char *id, const char *name, int attempt,
    const char *state, long long us, const char *err)
{
	char	 buf[RL_LOG_LINE_MAX];
	size_t	 n;

	if (loglevel < RL_LOG_INFO && state != NULL)
		return;
	n = rl_log_format_task(buf, id, name, attempt, state, us, err,
	    &curctx);
	(void)write(STDERR_FILENO, buf, n);
}
