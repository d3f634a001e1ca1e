/*
 * route.c: path patterns.  A pattern is a path whose segments may be
 * "<name>" (one non-empty segment), "<int:name>" (digits, fits in a long
 * long), "<uuid:name>" (8-4-4-4-12 hexadecimal digits) or "<path:name>"
 * (the rest of the path).  A segment that is not of its type does not
 * match: a 404, before any handler or query sees it.  Matching is a pure
 * function over strings, so it is tested and fuzzed without a server.
 */
#include "config.h"

#include <string.h>

#include "req.h"
#include "route.h"

/* Digits of the largest value an <int:> parameter may take (< 2^63). */
#define INT_PARAM_DIGITS	18

enum kind { K_STR, K_INT, K_UUID, K_PATH };

/*
 * Parse the placeholder starting at p ("<...>"); on success set its kind,
 * name and the position after '>'.
 */
static int
placeholder(const char *p, enum kind *k, const char **name, size_t *namelen,
    const char **after)
{
	const char	*end;

	if (*p != '<' || (end = strchr(p, '>')) == NULL)
		return -1;
	p++;
	*k = K_STR;
	if (strncmp(p, "int:", 4) == 0) {
		*k = K_INT;
		p += 4;
	} else if (strncmp(p, "uuid:", 5) == 0) {
		*k = K_UUID;
		p += 5;
	} else if (strncmp(p, "path:", 5) == 0) {
		*k = K_PATH;
		p += 5;
	} else if (strncmp(p, "string:", 7) == 0)
		p += 7;
	if (p == end || memchr(p, '/', (size_t)(end - p)) != NULL)
		return -1;
	*name = p;
	*namelen = (size_t)(end - p);
	*after = end + 1;
	return 0;
}

/* The 36 bytes at seg (followed by '/' or the end) are a uuid. */
static int
uuid_seg(const char *seg)
{
	char	 tmp[37];

	memcpy(tmp, seg, 36);
	tmp[36] = '\0';
	return rl_uuid_valid(tmp);
}

/* Match one pattern; return 1 and fill params on success. */
static int
match(const char *pat, const char *path, struct rl_param *params,
    size_t *np)
{
	enum kind	 k;
	const char	*name, *after, *seg;
	size_t		 namelen, len, n = 0;

	while (*pat != '\0') {
		if (*pat != '<') {
			if (*pat != *path)
				return 0;
			pat++;
			path++;
			continue;
		}
		if (placeholder(pat, &k, &name, &namelen, &after) == -1)
			return 0;
		seg = path;
		len = k == K_PATH ? strlen(path) : strcspn(path, "/");
		if (len == 0 || n == RL_ROUTE_MAX_PARAMS)
			return 0;
		if (k == K_INT && (len > INT_PARAM_DIGITS ||
		    strspn(seg, "0123456789") < len))
			return 0;
		if (k == K_UUID && (len != 36 || !uuid_seg(seg)))
			return 0;
		params[n].name = name;
		params[n].namelen = namelen;
		params[n].val = seg;
		params[n].len = len;
		n++;
		path += len;
		pat = after;
	}
	if (*path != '\0')
		return 0;
	*np = n;
	return 1;
}

/*
 * Find the route for method and path.  RL_ENOTFOUND when no pattern matches
 * the path, RL_EMETHOD when one does but not with this method.  HEAD is
 * served by GET routes.
 */
enum rl_err
rl_route_match(const struct rl_route *routes, size_t nroutes,
    const char *method, const char *path, const struct rl_route **out,
    struct rl_param *params, size_t *np)
{
	size_t	 i;
	int	 pathmatch = 0;

	*out = NULL;
	*np = 0;
	for (i = 0; i < nroutes; i++) {
		if (!match(routes[i].pattern, path, params, np))
			continue;
		pathmatch = 1;
		if (strcmp(routes[i].method, method) == 0 ||
		    (strcmp(method, "HEAD") == 0 &&
		    strcmp(routes[i].method, "GET") == 0)) {
			*out = &routes[i];
			return RL_OK;
		}
	}
	*np = 0;
	return pathmatch ? RL_EMETHOD : RL_ENOTFOUND;
}

/* Checked once at start-up for every row of a program's table. */
int
rl_route_pattern_valid(const char *pat)
{
	enum kind	 k;
	const char	*name, *after;
	size_t		 namelen;

	if (*pat != '/')
		return 0;
	while (*pat != '\0') {
		if (*pat == '>')
			return 0;
		if (*pat != '<') {
			pat++;
			continue;
		}
		if (placeholder(pat, &k, &name, &namelen, &after) == -1)
			return 0;
		if (k == K_PATH && *after != '\0')
			return 0;
		pat = after;
	}
	return 1;
}
