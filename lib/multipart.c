/*
 * multipart.c: a streaming multipart/form-data parser (RFC 7578 over RFC
 * 2046) and the collector built on it.
 *
 * The parser is a state machine over bytes that holds at most one part's
 * header block; body bytes go straight to the callbacks.  It never needs to
 * keep a copy of the bytes it withholds while they might be the start of a
 * delimiter: those bytes are, by construction, a prefix of the delimiter
 * itself, so the delimiter string is their copy.  docs/internals/multipart.md
 * describes the states and the collector's file handling.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "relais.h"
#include "arena.h"
#include "kv.h"
#include "bounds.h"
#include "buf.h"
#include "multipart.h"

#ifndef RL_MULTIPART_READ_CHUNK
/*
 * How much body rl_multipart_collect() reads at a time.  64 KiB matches the
 * FastCGI record size and nginx's default buffer, so one read usually
 * drains what is waiting; it is malloc'd, never on a worker's small stack.
 */
#define RL_MULTIPART_READ_CHUNK	(64 * 1024)
#endif

/* RFC 2046 §5.1.1: a boundary is 1 to 70 characters. */
#define BOUNDARY_MAX	70
/* The delimiter is CRLF "--" boundary. */
#define DELIM_MAX	(4 + BOUNDARY_MAX)
/* Parameters in one Content-Type or Content-Disposition value. */
#define PARAMS_MAX	8
/* Fields and uploads kept by the collector: every part could be either. */
#define COLLECT_MAX	(RL_MULTIPART_MAX_PARTS < RL_FORM_MAX_FIELDS ? \
			    RL_MULTIPART_MAX_PARTS : RL_FORM_MAX_FIELDS)

enum state {
	S_PREAMBLE,	/* before the first delimiter; bytes ignored */
	S_AFTER,	/* just after a delimiter: "--", padding or CRLF */
	S_PAD,		/* transport padding after a delimiter */
	S_LF,		/* CR seen after a delimiter, LF expected */
	S_CLOSE,	/* one '-' seen after a delimiter, another expected */
	S_HEADERS,	/* inside a part's header block */
	S_DATA,		/* inside a part's body */
	S_EPILOGUE,	/* after the close delimiter; bytes ignored */
	S_FAILED	/* an error was returned; it is returned again */
};

struct rl_mp {
	struct rl_mp_cb	 cb;
	void		*arg;
	enum state	 state;
	/* CRLF "--" boundary, and its length. */
	char		 delim[DELIM_MAX + 1];
	size_t		 dlen;
	/* Delimiter bytes matched so far, withheld from part_data. */
	size_t		 mi;
	size_t		 nparts;
	/* The current part's header block. */
	size_t		 hlen;
	char		 hbuf[RL_MULTIPART_HEADER_MAX + 1];
	/* The first error, returned again by every later call. */
	enum rl_err	 rc;
	struct rl_error	 err;
};

/* A parameter of a header value, as offsets into that value. */
struct param {
	size_t		 name;
	size_t		 namelen;
	size_t		 val;		/* quotes excluded */
	size_t		 vallen;
	int		 quoted;
};

static int
isws(int c)
{

	return c == ' ' || c == '\t';
}

/* RFC 7230 tchar: what a header or parameter name is made of. */
static int
istchar(int c)
{

	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return 1;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* RFC 2046 bchars; space is allowed but not as the last character. */
static int
isbchar(int c)
{

	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return 1;
	return c != '\0' && strchr("'()+_,-./:=? ", c) != NULL;
}

static size_t
skipws(const char *s, size_t i)
{

	while (isws((unsigned char)s[i]))
		i++;
	return i;
}

/*
 * Splits a header value "type *(";" name "=" value)" where a value is a
 * token or a quoted-string.  Offsets rather than pointers, so the same code
 * reads the caller's const Content-Type and our own header buffer.
 * Returns 0, or -1 on a syntax error or more than PARAMS_MAX parameters.
 */
static int
split_params(const char *s, size_t *typelen, struct param *pv, size_t *np)
{
	size_t	 i, n = 0;

	for (i = 0; s[i] != '\0' && s[i] != ';' && !isws((unsigned char)s[i]);
	    i++)
		continue;
	*typelen = i;
	for (;;) {
		i = skipws(s, i);
		if (s[i] == '\0')
			break;
		if (s[i] != ';')
			return -1;
		i = skipws(s, i + 1);
		if (s[i] == '\0')
			break;		/* a trailing ';' is harmless */
		if (n == PARAMS_MAX)
			return -1;
		pv[n].name = i;
		while (istchar((unsigned char)s[i]))
			i++;
		if ((pv[n].namelen = i - pv[n].name) == 0)
			return -1;
		i = skipws(s, i);
		if (s[i] != '=')
			return -1;
		i = skipws(s, i + 1);
		if (s[i] == '"') {
			pv[n].quoted = 1;
			pv[n].val = ++i;
			for (; s[i] != '"'; i++) {
				if (s[i] == '\0')
					return -1;
				if (s[i] == '\\' &&
				    (s[i + 1] == '"' || s[i + 1] == '\\'))
					i++;
			}
			pv[n].vallen = i - pv[n].val;
			i++;
		} else {
			pv[n].quoted = 0;
			pv[n].val = i;
			while (s[i] != '\0' && s[i] != ';' && s[i] != '"' &&
			    !isws((unsigned char)s[i]))
				i++;
			if ((pv[n].vallen = i - pv[n].val) == 0)
				return -1;
		}
		n++;
	}
	*np = n;
	return 0;
}

static int
parameq(const char *s, const struct param *p, const char *name)
{

	return p->namelen == strlen(name) &&
	    strncasecmp(s + p->name, name, p->namelen) == 0;
}

/*
 * Copies a parameter value into dst (which may be the value itself: the
 * result is never longer), undoing quoted-pair escapes.  Only \" and \\
 * are escapes: a lone backslash stays, so an old browser's unescaped
 * "C:\dir\file" survives for strip_dir().  Returns the length, or -1 when
 * dst (dstsize bytes, NUL included) is too small.
 */
static ssize_t
unquote(const char *src, size_t len, int quoted, char *dst, size_t dstsize)
{
	size_t	 i, j = 0;

	for (i = 0; i < len; i++) {
		if (quoted && src[i] == '\\' && i + 1 < len &&
		    (src[i + 1] == '"' || src[i + 1] == '\\'))
			i++;
		if (j + 1 >= dstsize)
			return -1;
		dst[j++] = src[i];
	}
	dst[j] = '\0';
	return (ssize_t)j;
}

/*
 * Finds the boundary in a Content-Type value and builds the delimiter.
 * Anything but multipart/form-data is a media type we do not take.
 */
static enum rl_err
parse_ctype(struct rl_mp *mp, const char *ct, struct rl_error *e)
{
	struct param	 pv[PARAMS_MAX];
	char		 b[BOUNDARY_MAX + 1];
	size_t		 typelen, np, k, i;
	ssize_t		 blen = -1;
	int		 found = 0;

	if (ct == NULL)
		return rl_error_set(e, RL_EMEDIA, "no Content-Type for a "
		    "multipart body");
	ct += skipws(ct, 0);
	if (split_params(ct, &typelen, pv, &np) == -1)
		return rl_error_set(e, RL_EFORM,
		    "malformed multipart Content-Type");
	if (typelen != strlen("multipart/form-data") ||
	    strncasecmp(ct, "multipart/form-data", typelen) != 0)
		return rl_error_set(e, RL_EMEDIA,
		    "Content-Type is not multipart/form-data");
	for (k = 0; k < np; k++) {
		if (!parameq(ct, &pv[k], "boundary"))
			continue;
		if (found++)
			return rl_error_set(e, RL_EFORM,
			    "multipart Content-Type has two boundaries");
		blen = unquote(ct + pv[k].val, pv[k].vallen, pv[k].quoted,
		    b, sizeof(b));
		if (blen == -1)
			return rl_error_set(e, RL_EFORM, "multipart boundary "
			    "longer than %d characters", BOUNDARY_MAX);
	}
	if (!found)
		return rl_error_set(e, RL_EFORM,
		    "multipart Content-Type has no boundary");
	if (blen == 0)
		return rl_error_set(e, RL_EFORM, "empty multipart boundary");
	/* bchars keep CR, LF and quotes out of the delimiter. */
	for (i = 0; i < (size_t)blen; i++)
		if (!isbchar((unsigned char)b[i]))
			return rl_error_set(e, RL_EFORM, "invalid character "
			    "in multipart boundary");
	if (b[blen - 1] == ' ')
		return rl_error_set(e, RL_EFORM,
		    "multipart boundary ends with a space");
	mp->dlen = (size_t)snprintf(mp->delim, sizeof(mp->delim), "\r\n--%s",
	    b);
	return RL_OK;
}

struct rl_mp *
rl_mp_new(const char *content_type, const struct rl_mp_cb *cb, void *arg,
    struct rl_error *e)
{
	struct rl_mp	*mp;

	if ((mp = calloc(1, sizeof(*mp))) == NULL) {
		(void)rl_error_set(e, RL_ENOMEM, "multipart: out of memory");
		return NULL;
	}
	if (parse_ctype(mp, content_type, e) != RL_OK) {
		free(mp);
		return NULL;
	}
	if (cb != NULL)
		mp->cb = *cb;
	mp->arg = arg;
	mp->state = S_PREAMBLE;
	/* The first delimiter may open the body, with no CRLF before it:
	 * start as if that CRLF had been seen. */
	mp->mi = 2;
	return mp;
}

void
rl_mp_free(struct rl_mp *mp)
{

	free(mp);
}

/* A callback that failed without saying why still leaves a message. */
static enum rl_err
cbresult(struct rl_mp *mp, enum rl_err rc)
{

	if (rc != RL_OK && mp->err.code != rc)
		(void)rl_error_set(&mp->err, rc, "%s", rl_strerror(rc));
	return rc;
}

static enum rl_err
emit(struct rl_mp *mp, const void *p, size_t n)
{

	if (n == 0 || mp->cb.part_data == NULL)
		return RL_OK;
	rl_error_clear(&mp->err);
	return cbresult(mp, mp->cb.part_data(mp->arg, p, n, &mp->err));
}

/*
 * Looks for the delimiter in p, withholding the bytes that may start one.
 * In S_DATA the other bytes are handed to part_data; in S_PREAMBLE they are
 * dropped.  Stops after a whole delimiter (state becomes S_AFTER) or at the
 * end of the input; *used says how far it got.
 */
static enum rl_err
scan(struct rl_mp *mp, const unsigned char *p, size_t len, size_t *used)
{
	const unsigned char	*cr;
	size_t			 i = 0, run;
	enum rl_err		 rc;
	int			 data = mp->state == S_DATA;

	*used = len;
	while (i < len) {
		if (mp->mi == 0) {
			/* Nothing withheld: pass everything up to a CR. */
			cr = memchr(p + i, '\r', len - i);
			run = (cr == NULL ? len : (size_t)(cr - p)) - i;
			if (data && (rc = emit(mp, p + i, run)) != RL_OK)
				return rc;
			i += run;
			if (cr == NULL)
				break;
			mp->mi = 1;
			i++;
			continue;
		}
		if (p[i] == (unsigned char)mp->delim[mp->mi]) {
			i++;
			if (++mp->mi < mp->dlen)
				continue;
			mp->mi = 0;
			*used = i;
			if (data && mp->cb.part_end != NULL) {
				rl_error_clear(&mp->err);
				rc = mp->cb.part_end(mp->arg, &mp->err);
				if (cbresult(mp, rc) != RL_OK)
					return rc;
			}
			mp->state = S_AFTER;
			return RL_OK;
		}
		/*
		 * The withheld bytes were body after all.  CR occurs in the
		 * delimiter only as its first byte, so the only byte that
		 * may start a new match is this one, when it is a CR.
		 */
		if (data && (rc = emit(mp, mp->delim, mp->mi)) != RL_OK)
			return rc;
		mp->mi = 0;
		if (p[i] == '\r') {
			mp->mi = 1;
			i++;
		}
	}
	return RL_OK;
}

/*
 * Checks a complete header block (it ends with an empty line) for bytes a
 * header may not hold, then unfolds continuation lines in place.
 */
static enum rl_err
check_headers(struct rl_mp *mp)
{
	char		*h = mp->hbuf;
	size_t		 i;
	unsigned char	 c;

	for (i = 0; i < mp->hlen; i++) {
		c = (unsigned char)h[i];
		if (c == '\r' && i + 1 < mp->hlen && h[i + 1] == '\n') {
			i++;
			continue;
		}
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return rl_error_set(&mp->err, RL_EFORM,
			    "control character in a multipart part header");
	}
	for (i = 0; i + 2 < mp->hlen; i++)
		if (h[i] == '\r' && h[i + 1] == '\n' && isws(h[i + 2]))
			h[i] = h[i + 1] = ' ';
	return RL_OK;
}

/*
 * Parses the part's Content-Disposition value in place: name and filename
 * end up NUL-terminated and unescaped inside it.
 */
static enum rl_err
parse_disposition(struct rl_mp *mp, char *v, char **name, char **filename)
{
	struct param	 pv[PARAMS_MAX];
	size_t		 typelen, np, k;
	ssize_t		 ni = -1, fi = -1;

	if (split_params(v, &typelen, pv, &np) == -1)
		return rl_error_set(&mp->err, RL_EFORM,
		    "malformed Content-Disposition in a multipart part");
	if (typelen != strlen("form-data") ||
	    strncasecmp(v, "form-data", typelen) != 0)
		return rl_error_set(&mp->err, RL_EFORM,
		    "multipart part is not form-data");
	/* filename* (RFC 5987) is ignored: RFC 7578 §4.2 says not to send
	 * it, and browsers do not. */
	for (k = 0; k < np; k++) {
		if (parameq(v, &pv[k], "name")) {
			if (ni != -1)
				return rl_error_set(&mp->err, RL_EFORM,
				    "multipart part has two names");
			ni = (ssize_t)k;
		} else if (parameq(v, &pv[k], "filename")) {
			if (fi != -1)
				return rl_error_set(&mp->err, RL_EFORM,
				    "multipart part has two file names");
			fi = (ssize_t)k;
		}
	}
	/* Only now, once the walk is over, may values be rewritten. */
	if (ni != -1) {
		*name = v + pv[ni].val;
		(void)unquote(*name, pv[ni].vallen, pv[ni].quoted, *name,
		    pv[ni].vallen + 1);
	}
	if (fi != -1) {
		*filename = v + pv[fi].val;
		(void)unquote(*filename, pv[fi].vallen, pv[fi].quoted,
		    *filename, pv[fi].vallen + 1);
	}
	return RL_OK;
}

/* The header block is complete: parse it and announce the part. */
static enum rl_err
begin_part(struct rl_mp *mp)
{
	char		*line, *end, *next, *colon, *v, *p;
	char		*disp = NULL, *ctype = NULL;
	char		*name = NULL, *filename = NULL;
	enum rl_err	 rc;

	mp->hbuf[mp->hlen] = '\0';
	if ((rc = check_headers(mp)) != RL_OK)
		return rc;
	for (line = mp->hbuf; ; line = next) {
		/* check_headers() left every CR followed by LF. */
		end = strstr(line, "\r\n");
		*end = '\0';
		next = end + 2;
		if (*line == '\0')
			break;	/* the empty line ending the block */
		for (p = line; istchar((unsigned char)*p); p++)
			continue;
		colon = p;
		if (*colon != ':' || colon == line)
			return rl_error_set(&mp->err, RL_EFORM,
			    "malformed multipart part header");
		*colon = '\0';
		for (v = colon + 1; isws((unsigned char)*v); v++)
			continue;
		for (p = end; p > v && isws((unsigned char)p[-1]); p--)
			continue;
		*p = '\0';
		if (strcasecmp(line, "Content-Disposition") == 0) {
			if (disp != NULL)
				return rl_error_set(&mp->err, RL_EFORM,
				    "multipart part has two "
				    "Content-Disposition headers");
			disp = v;
		} else if (strcasecmp(line, "Content-Type") == 0) {
			if (ctype != NULL)
				return rl_error_set(&mp->err, RL_EFORM,
				    "multipart part has two Content-Type "
				    "headers");
			ctype = v;
		}
		/* Other headers (Content-Transfer-Encoding...) are ignored,
		 * as RFC 7578 §4.7 allows. */
	}
	if (disp != NULL &&
	    (rc = parse_disposition(mp, disp, &name, &filename)) != RL_OK)
		return rc;
	if (name == NULL || *name == '\0')
		return rl_error_set(&mp->err, RL_EFORM,
		    "multipart part has no name");
	if (mp->cb.part_begin == NULL)
		return RL_OK;
	rl_error_clear(&mp->err);
	return cbresult(mp, mp->cb.part_begin(mp->arg, name, filename,
	    ctype != NULL ? ctype : "", &mp->err));
}

/* Appends header bytes until the empty line; *used as in scan(). */
static enum rl_err
headers(struct rl_mp *mp, const unsigned char *p, size_t len, size_t *used)
{
	size_t	 i;
	char	*h = mp->hbuf;

	*used = len;
	for (i = 0; i < len; ) {
		if (mp->hlen == RL_MULTIPART_HEADER_MAX)
			return rl_error_set(&mp->err, RL_ETOOBIG, "multipart "
			    "part headers exceed %d bytes",
			    RL_MULTIPART_HEADER_MAX);
		h[mp->hlen++] = (char)p[i++];
		if (mp->hlen < 2 || h[mp->hlen - 2] != '\r' ||
		    h[mp->hlen - 1] != '\n')
			continue;
		if (mp->hlen == 2 || (mp->hlen >= 4 &&
		    h[mp->hlen - 4] == '\r' && h[mp->hlen - 3] == '\n')) {
			*used = i;
			mp->state = S_DATA;
			mp->mi = 0;
			return begin_part(mp);
		}
	}
	return RL_OK;
}

/* Records the first failure; every later call returns it again. */
static enum rl_err
fail(struct rl_mp *mp, enum rl_err rc, struct rl_error *e)
{

	if (mp->state != S_FAILED) {
		if (mp->err.code != rc)
			(void)rl_error_set(&mp->err, rc, "%s", rl_strerror(rc));
		mp->rc = rc;
		mp->state = S_FAILED;
	}
	if (e != NULL)
		*e = mp->err;
	return mp->rc;
}

enum rl_err
rl_mp_feed(struct rl_mp *mp, const void *buf, size_t len,
    struct rl_error *e)
{
	const unsigned char	*p = buf;
	size_t			 i = 0, used;
	enum rl_err		 rc = RL_OK;
	unsigned char		 c;

	if (mp->state == S_FAILED)
		return fail(mp, mp->rc, e);
	while (i < len && rc == RL_OK) {
		switch (mp->state) {
		case S_PREAMBLE:
		case S_DATA:
			rc = scan(mp, p + i, len - i, &used);
			i += used;
			break;
		case S_HEADERS:
			rc = headers(mp, p + i, len - i, &used);
			i += used;
			break;
		case S_AFTER:
		case S_PAD:
			c = p[i++];
			if (c == '-' && mp->state == S_AFTER)
				mp->state = S_CLOSE;
			else if (isws(c))
				mp->state = S_PAD;
			else if (c == '\r')
				mp->state = S_LF;
			else
				rc = rl_error_set(&mp->err, RL_EFORM,
				    "malformed multipart boundary line");
			break;
		case S_CLOSE:
			if (p[i++] == '-')
				mp->state = S_EPILOGUE;
			else
				rc = rl_error_set(&mp->err, RL_EFORM,
				    "malformed multipart boundary line");
			break;
		case S_LF:
			if (p[i++] != '\n') {
				rc = rl_error_set(&mp->err, RL_EFORM,
				    "malformed multipart boundary line");
				break;
			}
			if (++mp->nparts > RL_MULTIPART_MAX_PARTS) {
				rc = rl_error_set(&mp->err, RL_ETOOBIG,
				    "multipart body has more than %d parts",
				    RL_MULTIPART_MAX_PARTS);
				break;
			}
			mp->hlen = 0;
			mp->state = S_HEADERS;
			break;
		case S_EPILOGUE:
			i = len;	/* RFC 2046: to be ignored */
			break;
		case S_FAILED:
			rc = mp->rc;
			break;
		}
	}
	if (rc != RL_OK)
		return fail(mp, rc, e);
	return RL_OK;
}

enum rl_err
rl_mp_finish(struct rl_mp *mp, struct rl_error *e)
{

	if (mp->state == S_FAILED)
		return fail(mp, mp->rc, e);
	if (mp->state != S_EPILOGUE) {
		(void)rl_error_set(&mp->err, RL_EFORM,
		    "truncated multipart body");
		return fail(mp, RL_EFORM, e);
	}
	return RL_OK;
}

/*
 * The collector: fields into the arena, files into temporary files.
 */
enum pkind {
	P_FIELD,	/* plain field, value held in memory */
	P_FILE,		/* upload, streamed to a temporary file */
	P_SKIP		/* file input left empty: nothing to keep */
};

struct collect {
	struct rl_arena		*a;
	const char		*tmpdir;
	size_t			 upload_max;
	size_t			 total;	/* file bytes written */
	struct rl_kv		*fields;
	size_t			 nfields;
	struct rl_upload	*ups;
	size_t			 nups;
	/* The current part: its kind, name (in the arena), the field
	 * value read so far and the open upload file. */
	enum pkind		 kind;
	const char		*name;
	struct rl_buf		 val;	/* RL_MULTIPART_FIELD_MAX */
	int			 fd;
};

/* The client's file name without any directory, in either convention. */
static const char *
strip_dir(const char *s)
{
	const char	*p, *base = s;

	for (p = s; *p != '\0'; p++)
		if (*p == '/' || *p == '\\')
			base = p + 1;
	return base;
}

static enum rl_err
collect_begin(void *arg, const char *name, const char *filename,
    const char *ctype, struct rl_error *e)
{
	struct collect		*c = arg;
	struct rl_upload	*u;
	const char		*base;
	char			*path;

	if (filename == NULL) {
		if (c->nfields == COLLECT_MAX)
			return rl_error_set(e, RL_ETOOBIG,
			    "more than %d form fields", COLLECT_MAX);
		if ((c->name = rl_arena_strdup(c->a, name)) == NULL)
			return rl_error_set(e, RL_ENOMEM, "out of memory");
		c->kind = P_FIELD;
		rl_buf_reset(&c->val);
		return RL_OK;
	}
	/* An empty file input: browsers send filename="" and no data. */
	if (*filename == '\0') {
		c->kind = P_SKIP;
		return RL_OK;
	}
	base = strip_dir(filename);
	if (*base == '\0' || strcmp(base, ".") == 0 ||
	    strcmp(base, "..") == 0) {
		(void)rl_error_set(e, RL_EFORM,
		    "upload \"%s\" has an invalid file name", name);
		rl_error_where(e, name);
		return RL_EFORM;
	}
	if (c->nups == COLLECT_MAX)
		return rl_error_set(e, RL_ETOOBIG, "more than %d uploads",
		    COLLECT_MAX);
	u = &c->ups[c->nups];
	memset(u, 0, sizeof(*u));
	if ((u->field = rl_arena_strdup(c->a, name)) == NULL ||
	    (u->filename = rl_arena_strdup(c->a, base)) == NULL ||
	    (u->ctype = rl_arena_strdup(c->a, ctype)) == NULL ||
	    (path = rl_arena_printf(c->a, "%s/relais-upload-XXXXXX",
	    c->tmpdir)) == NULL)
		return rl_error_set(e, RL_ENOMEM, "out of memory");
	/* mkostemp creates the file 0600 and refuses an existing name. */
	if ((c->fd = mkostemp(path, O_CLOEXEC)) == -1)
		return rl_error_set(e, RL_EIO, "cannot create an upload file "
		    "in %s: %s", c->tmpdir, strerror(errno));
	u->path = path;
	c->nups++;	/* from here on, an error unlinks it */
	c->name = u->field;
	c->kind = P_FILE;
	return RL_OK;
}

static enum rl_err
write_all(int fd, const void *buf, size_t n)
{
	const char	*p = buf;
	ssize_t		 w;

	while (n > 0) {
		if ((w = write(fd, p, n)) == -1) {
			if (errno == EINTR)
				continue;
			return RL_EIO;
		}
		if (w == 0) {
			errno = EIO;
			return RL_EIO;
		}
		p += w;
		n -= (size_t)w;
	}
	return RL_OK;
}

static enum rl_err
collect_data(void *arg, const void *p, size_t n, struct rl_error *e)
{
	struct collect	*c = arg;
	enum rl_err	 err;

	switch (c->kind) {
	case P_FIELD:
		if ((err = rl_buf_add(&c->val, p, n)) == RL_ETOOBIG) {
			(void)rl_error_set(e, err, "field \"%s\" exceeds %d "
			    "bytes", c->name, RL_MULTIPART_FIELD_MAX);
			rl_error_where(e, c->name);
			return err;
		}
		if (err != RL_OK)
			return rl_error_set(e, err, "out of memory");
		break;
	case P_FILE:
		/* Counted before writing, so the cap is never exceeded on
		 * disk. */
		if (n > c->upload_max - c->total) {
			(void)rl_error_set(e, RL_ETOOBIG,
			    "upload exceeds %zu bytes", c->upload_max);
			rl_error_where(e, c->name);
			return RL_ETOOBIG;
		}
		if (write_all(c->fd, p, n) != RL_OK)
			return rl_error_set(e, RL_EIO, "cannot write upload "
			    "file %s: %s", c->ups[c->nups - 1].path,
			    strerror(errno));
		c->total += n;
		c->ups[c->nups - 1].size += n;
		break;
	case P_SKIP:
		break;
	}
	return RL_OK;
}

static enum rl_err
collect_end(void *arg, struct rl_error *e)
{
	struct collect	*c = arg;
	struct rl_kv	*kv;
	int		 fd;

	switch (c->kind) {
	case P_FIELD:
		kv = &c->fields[c->nfields];
		kv->key = c->name;
		kv->len = rl_buf_len(&c->val);
		if ((kv->val = rl_arena_strndup(c->a, rl_buf_str(&c->val),
		    kv->len)) == NULL)
			return rl_error_set(e, RL_ENOMEM, "out of memory");
		c->nfields++;
		break;
	case P_FILE:
		fd = c->fd;
		c->fd = -1;
		/* close(2) is where a full disk may finally show up. */
		if (close(fd) == -1)
			return rl_error_set(e, RL_EIO, "cannot write upload "
			    "file %s: %s", c->ups[c->nups - 1].path,
			    strerror(errno));
		break;
	case P_SKIP:
		break;
	}
	c->kind = P_SKIP;
	return RL_OK;
}

enum rl_err
rl_multipart_collect(struct rl_arena *a, const char *ctype, rl_read_fn rd,
    void *rctx, size_t upload_max, const char *tmpdir,
    struct rl_kv **fieldsp, size_t *nfieldsp, struct rl_upload **upsp,
    size_t *nupsp, struct rl_error *e)
{
	static const struct rl_mp_cb	 cb = {
		collect_begin, collect_data, collect_end
	};
	struct rl_error			 local;
	struct collect			 c;
	struct rl_mp			*mp = NULL;
	unsigned char			*buf = NULL;
	ssize_t				 n;
	enum rl_err			 rc;

	/* The code is needed even when the caller wants no detail. */
	if (e == NULL)
		e = &local;
	rl_error_clear(e);
	*fieldsp = NULL;
	*nfieldsp = 0;
	*upsp = NULL;
	*nupsp = 0;
	memset(&c, 0, sizeof(c));
	c.a = a;
	c.tmpdir = tmpdir;
	c.upload_max = upload_max;
	c.kind = P_SKIP;
	c.fd = -1;
	rl_buf_init(&c.val, RL_MULTIPART_FIELD_MAX);

	c.fields = rl_arena_calloc(a, COLLECT_MAX, sizeof(*c.fields));
	c.ups = rl_arena_calloc(a, COLLECT_MAX, sizeof(*c.ups));
	if (c.fields == NULL || c.ups == NULL) {
		rc = rl_error_set(e, RL_ENOMEM, "out of memory");
		goto out;
	}
	if ((mp = rl_mp_new(ctype, &cb, &c, e)) == NULL) {
		rc = e->code;
		goto out;
	}
	if ((buf = malloc(RL_MULTIPART_READ_CHUNK)) == NULL) {
		rc = rl_error_set(e, RL_ENOMEM, "out of memory");
		goto out;
	}
	for (;;) {
		n = rd(rctx, buf, RL_MULTIPART_READ_CHUNK);
		if (n == 0)
			break;
		if (n < 0 || n > RL_MULTIPART_READ_CHUNK) {
			rc = rl_error_set(e, RL_EIO,
			    "cannot read the multipart body");
			goto out;
		}
		if ((rc = rl_mp_feed(mp, buf, (size_t)n, e)) != RL_OK)
			goto out;
	}
	if ((rc = rl_mp_finish(mp, e)) != RL_OK)
		goto out;

	*fieldsp = c.fields;
	*nfieldsp = c.nfields;
	*upsp = c.ups;
	*nupsp = c.nups;
	rc = RL_OK;
out:
	if (rc != RL_OK) {
		if (c.fd != -1)
			(void)close(c.fd);
		if (c.ups != NULL)
			rl_multipart_unlink(c.ups, c.nups);
	}
	rl_buf_free(&c.val);
	free(buf);
	rl_mp_free(mp);
	return rc;
}

/* Idempotent: an unlinked entry loses its path. */
void
rl_multipart_unlink(struct rl_upload *ups, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		if (ups[i].path == NULL)
			continue;
		(void)unlink(ups[i].path);
		ups[i].path = NULL;
	}
}
