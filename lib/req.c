/*
 * req.c: request accessors and the pure parsers behind them (query strings,
 * urlencoded forms, cookies, JSON bodies).  Nothing here does I/O.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "arena.h"
#include "extern.h"
#include "bounds.h"
#include "req.h"

const char *
rl_kv_get(const struct rl_kv *kv, size_t n, const char *key)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (strcmp(kv[i].key, key) == 0)
			return kv[i].val;
	return NULL;
}

const char *
rl_req_env(const struct rl_req *req, const char *name)
{
	size_t	 len = strlen(name);
	char	**e;

	if (req->env == NULL)
		return NULL;
	for (e = req->env; *e != NULL; e++)
		if (strncmp(*e, name, len) == 0 && (*e)[len] == '=')
			return *e + len + 1;
	return NULL;
}

/*
 * A header by its HTTP name ("Content-Type", "X-API-Token"): CGI passes it as
 * HTTP_CONTENT_TYPE, except Content-Type and Content-Length which have their
 * own variables.
 */
const char *
rl_req_header(const struct rl_req *req, const char *name)
{
	char	 var[128];
	size_t	 i, o;

	if (strcasecmp(name, "Content-Type") == 0)
		return rl_req_env(req, "CONTENT_TYPE");
	if (strcasecmp(name, "Content-Length") == 0)
		return rl_req_env(req, "CONTENT_LENGTH");
	memcpy(var, "HTTP_", 5);
	for (i = 0, o = 5; name[i] != '\0' && o < sizeof(var) - 1; i++, o++)
		var[o] = name[i] == '-' ? '_' :
		    (char)toupper((unsigned char)name[i]);
	var[o] = '\0';
	return rl_req_env(req, var);
}

const char *
rl_req_param(const struct rl_req *req, const char *name)
{

	return rl_kv_get(req->params, req->nparams, name);
}

enum rl_err
rl_req_param_int(const struct rl_req *req, const char *name, long long *out,
    struct rl_error *e)
{
	const char	*v;
	char		*end;

	if ((v = rl_req_param(req, name)) == NULL)
		return rl_error_set(e, RL_EINTERNAL, "no path parameter %s",
		    name);
	errno = 0;
	*out = strtoll(v, &end, 10);
	if (errno != 0 || *end != '\0' || end == v)
		return rl_error_set(e, RL_EINVAL, "%s: not an integer", name);
	return RL_OK;
}

const char *
rl_req_query(const struct rl_req *req, const char *name)
{

	return rl_kv_get(req->queryv, req->nquery, name);
}

const char *
rl_req_form(const struct rl_req *req, const char *name)
{

	return rl_kv_get(req->formv, req->nform, name);
}

const char *
rl_req_cookie(const struct rl_req *req, const char *name)
{

	return rl_kv_get(req->cookiev, req->ncookie, name);
}

const struct rl_upload *
rl_req_upload(const struct rl_req *req, const char *field)
{
	size_t	 i;

	for (i = 0; i < req->nupload; i++)
		if (strcmp(req->uploads[i].field, field) == 0)
			return &req->uploads[i];
	return NULL;
}

int
rl_req_client_gone(const struct rl_req *req)
{

	return req->io != NULL && req->io->gone != NULL &&
	    req->io->gone(req->io->ctx);
}

/* Percent-decode s[0..len) into the arena; '+' is a space in forms. */
static char *
decode(struct rl_arena *a, const char *s, size_t len, size_t *outlen)
{
	char	*out;
	size_t	 i, o = 0;
	int	 hi, lo;

	if ((out = rl_arena_alloc(a, len + 1)) == NULL)
		return NULL;
	for (i = 0; i < len; i++) {
		if (s[i] == '+')
			out[o++] = ' ';
		else if (s[i] == '%' && i + 2 < len &&
		    (hi = rl_hexval((unsigned char)s[i + 1])) >= 0 &&
		    (lo = rl_hexval((unsigned char)s[i + 2])) >= 0) {
			out[o++] = (char)(hi * 16 + lo);
			i += 2;
		} else
			out[o++] = s[i];
	}
	out[o] = '\0';
	*outlen = o;
	return out;
}

/*
 * A task, job or document id reaches a "::uuid" cast only when it is one:
 * anything else would be PostgreSQL's 500, not the 404 it is.  Counting
 * the characters of "0123456789abcdef-" is not enough (36 dashes pass).
 */
int
rl_uuid_valid(const char *s)
{
	size_t	 i;

	if (s == NULL || strlen(s) != 36)
		return 0;
	for (i = 0; i < 36; i++)
		if (i == 8 || i == 13 || i == 18 || i == 23 ? s[i] != '-' :
		    !isxdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

/*
 * Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing past
 * U+10FFFF.  Values end up in JSON and in PostgreSQL, which both refuse
 * anything else, so it is refused at the door with a clear error.
 */
int
rl_utf8_valid(const char *str, size_t len)
{
	const unsigned char	*s = (const unsigned char *)str;
	size_t			 i = 0, n, k;
	unsigned int		 c;

	while (i < len) {
		c = s[i];
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			n = 1;
		else if (c >= 0xe0 && c <= 0xef)
			n = 2;
		else if (c >= 0xf0 && c <= 0xf4)
			n = 3;
		else
			return 0;
		if (len - i <= n)
			return 0;
		c &= 0x3f >> n;
		for (k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			c = (c << 6) | (s[i + k] & 0x3f);
		}
		if ((n == 2 && (c < 0x800 || (c >= 0xd800 && c <= 0xdfff))) ||
		    (n == 3 && (c < 0x10000 || c > 0x10ffff)))
			return 0;
		i += n + 1;
	}
	return 1;
}

/*
 * Parse "a=1&b=2" (sep '&') into kv pairs.  Keys and values are
 * percent-decoded; a NUL byte decoded from %00 is refused, because every
 * consumer treats values as C strings.
 */
enum rl_err
rl_urlencoded_parse(struct rl_arena *a, const char *s, size_t len, char sep,
    struct rl_kv **out, size_t *nout, struct rl_error *e)
{
	struct rl_kv	*kv;
	const char	*p, *end = s + len, *amp, *eq;
	size_t		 n = 0, klen;

	*out = NULL;
	*nout = 0;
	if ((kv = rl_arena_calloc(a, RL_FORM_MAX_FIELDS, sizeof(*kv))) == NULL)
		return rl_error_set(e, RL_ENOMEM, NULL);
	for (p = s; p < end; p = amp + 1) {
		if ((amp = memchr(p, sep, (size_t)(end - p))) == NULL)
			amp = end;
		if (amp == p)
			continue;
		if (n == RL_FORM_MAX_FIELDS)
			return rl_error_set(e, RL_ETOOBIG,
			    "more than %d fields", RL_FORM_MAX_FIELDS);
		if ((eq = memchr(p, '=', (size_t)(amp - p))) == NULL)
			eq = amp;
		kv[n].key = decode(a, p, (size_t)(eq - p), &klen);
		kv[n].val = eq < amp ? decode(a, eq + 1,
		    (size_t)(amp - eq - 1), &kv[n].len) :
		    rl_arena_strdup(a, "");
		if (kv[n].key == NULL || kv[n].val == NULL)
			return rl_error_set(e, RL_ENOMEM, NULL);
		if (strlen(kv[n].key) != klen ||
		    strlen(kv[n].val) != kv[n].len)
			return rl_error_set(e, RL_EFORM,
			    "NUL byte in a form field");
		if (!rl_utf8_valid(kv[n].key, klen) ||
		    !rl_utf8_valid(kv[n].val, kv[n].len))
			return rl_error_set(e, RL_EFORM,
			    "form field is not valid UTF-8");
		n++;
		if (amp == end)
			break;
	}
	*out = kv;
	*nout = n;
	return RL_OK;
}

/* "a=1; b=2" (RFC 6265: no percent-decoding, optional quotes). */
enum rl_err
rl_cookies_parse(struct rl_arena *a, const char *s, struct rl_kv **out,
    size_t *nout, struct rl_error *e)
{
	struct rl_kv	*kv;
	const char	*p = s, *end, *eq, *v;
	size_t		 n = 0, klen, vlen;

	*out = NULL;
	*nout = 0;
	if ((kv = rl_arena_calloc(a, RL_FORM_MAX_FIELDS, sizeof(*kv))) == NULL)
		return rl_error_set(e, RL_ENOMEM, NULL);
	while (*p != '\0' && n < RL_FORM_MAX_FIELDS) {
		while (*p == ' ' || *p == ';')
			p++;
		if (*p == '\0')
			break;
		end = p + strcspn(p, ";");
		if ((eq = memchr(p, '=', (size_t)(end - p))) != NULL) {
			klen = (size_t)(eq - p);
			while (klen > 0 && p[klen - 1] == ' ')
				klen--;
			v = eq + 1;
			vlen = (size_t)(end - v);
			while (vlen > 0 && v[vlen - 1] == ' ')
				vlen--;
			if (vlen >= 2 && v[0] == '"' && v[vlen - 1] == '"') {
				v++;
				vlen -= 2;
			}
			kv[n].key = rl_arena_strndup(a, p, klen);
			kv[n].val = rl_arena_strndup(a, v, vlen);
			kv[n].len = vlen;
			if (kv[n].key == NULL || kv[n].val == NULL)
				return rl_error_set(e, RL_ENOMEM, NULL);
			n++;
		}
		p = end;
	}
	*out = kv;
	*nout = n;
	return RL_OK;
}

/*
 * Check that JSON text nests at most max levels, before jansson (a
 * recursive parser) sees it.  Brackets inside strings do not count.
 */
int
rl_json_depth_ok(const char *s, size_t len, int max)
{
	size_t	 i;
	int	 depth = 0, instr = 0;

	for (i = 0; i < len; i++) {
		if (instr) {
			if (s[i] == '\\')
				i++;
			else if (s[i] == '"')
				instr = 0;
			continue;
		}
		switch (s[i]) {
		case '"':
			instr = 1;
			break;
		case '[':
		case '{':
			if (++depth > max)
				return 0;
			break;
		case ']':
		case '}':
			depth--;
			break;
		default:
			break;
		}
	}
	return 1;
}

/*
 * Parse a request body: depth-capped, duplicate keys rejected (a JSON object
 * with two "role" keys means different things to different parsers), no
 * NUL escapes in strings.
 */
enum rl_err
rl_json_parse(const char *s, size_t len, json_t **out, struct rl_error *e)
{
	json_error_t	 je;
	char		 pos[32];

	*out = NULL;
	if (!rl_json_depth_ok(s, len, RL_JSON_MAX_DEPTH))
		return rl_error_set(e, RL_EJSON, "JSON nests deeper than %d "
		    "levels", RL_JSON_MAX_DEPTH);

	*out = json_loadb(s, len, JSON_REJECT_DUPLICATES, &je);
	if (*out == NULL) {
		rl_error_set(e, RL_EJSON, "invalid JSON at line %d, column %d: "
		    "%s", je.line, je.column, je.text);
		/* The byte offset, for FastAPI's json_invalid location. */
		(void)snprintf(pos, sizeof(pos), "%d", je.position);
		rl_error_where(e, pos);
		return RL_EJSON;
	}
	return RL_OK;
}
