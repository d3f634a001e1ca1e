/*
 * log.c: structured logging.  Messages are JSON-escaped by hand rather than
 * through jansson because logging must work when allocation fails.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

#define LOG_LINE_MAX	4096

static enum rl_loglevel	 loglevel = RL_LOG_INFO;
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

/* Append s JSON-escaped to buf at *off, never past size - 2. */
static void
escape(char *buf, size_t size, size_t *off, const char *s)
{
	unsigned char	 c;
	size_t		 o = *off;

	for (; *s != '\0' && o + 8 < size; s++) {
		c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			buf[o++] = '\\';
			buf[o++] = (char)c;
		} else if (c < 0x20) {
			o += (size_t)snprintf(buf + o, size - o, "\\u%04x", c);
		} else
			buf[o++] = (char)c;
	}
	*off = o;
}

static void
append(char *buf, size_t size, size_t *off, const char *s)
{
	size_t	 n = strlen(s);

	if (*off + n + 2 >= size)
		n = size - *off - 2;
	memcpy(buf + *off, s, n);
	*off += n;
}

static void
stamp(char *buf, size_t size, size_t *off, enum rl_loglevel l)
{
	struct timespec	 ts;
	struct tm	 tm;
	char		 t[64];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(t, sizeof(t), "%Y-%m-%dT%H:%M:%S", &tm);
	*off += (size_t)snprintf(buf + *off, size - *off,
	    "{\"ts\":\"%s.%03ldZ\",\"level\":\"%s\"", t,
	    ts.tv_nsec / 1000000, levels[l]);
}

static void
emit(char *buf, size_t off)
{

	buf[off++] = '}';
	buf[off++] = '\n';
	(void)write(STDERR_FILENO, buf, off);
}

void
rl_log(enum rl_loglevel l, const char *fmt, ...)
{
	char	 buf[LOG_LINE_MAX], msg[LOG_LINE_MAX / 2];
	size_t	 off = 0;
	va_list	 ap;

	if (l > loglevel)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	stamp(buf, sizeof(buf), &off, l);
	append(buf, sizeof(buf), &off, ",\"msg\":\"");
	escape(buf, sizeof(buf), &off, msg);
	append(buf, sizeof(buf), &off, "\"");
	emit(buf, off);
}

void
rl_log_request(const char *id, const char *method, const char *path,
    const char *route, int status, long long us, const char *err)
{
	char	 buf[LOG_LINE_MAX];
	size_t	 off = 0;

	if (loglevel < RL_LOG_INFO && status < 500)
		return;
	stamp(buf, sizeof(buf), &off, status >= 500 ? RL_LOG_ERROR :
	    RL_LOG_INFO);
	append(buf, sizeof(buf), &off, ",\"req\":\"");
	escape(buf, sizeof(buf), &off, id);
	append(buf, sizeof(buf), &off, "\",\"method\":\"");
	escape(buf, sizeof(buf), &off, method);
	append(buf, sizeof(buf), &off, "\",\"path\":\"");
	escape(buf, sizeof(buf), &off, path);
	append(buf, sizeof(buf), &off, "\",\"route\":\"");
	escape(buf, sizeof(buf), &off, route != NULL ? route : "");
	off += (size_t)snprintf(buf + off, sizeof(buf) - off,
	    "\",\"status\":%d,\"us\":%lld", status, us);
	if (err != NULL) {
		append(buf, sizeof(buf), &off, ",\"error\":\"");
		escape(buf, sizeof(buf), &off, err);
		append(buf, sizeof(buf), &off, "\"");
	}
	emit(buf, off);
}
