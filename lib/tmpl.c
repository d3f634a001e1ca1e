/*
 * tmpl.c: EDxo's str.format() prompt templates (tmpl.h).
 *
 * One pass over the template into a growing buffer.  The grammar is the
 * part of Python's format-string syntax EDxo's stored prompts use:
 * literal text, "{{" and "}}", and "{name}".  Everything else Python would
 * accept inside braces (conversions, format specs, attribute and index
 * access, positional fields) is refused with a message naming the field,
 * because a template that relies on it would render differently here than
 * in EDxo and the difference would only show in the model's answer.
 *
 * Nothing here recurses: a field cannot nest (attribute and index access
 * are refused, and a name is at most RL_TMPL_FIELD_MAX bytes), so a
 * template of any shape costs one pass and a fixed amount of stack.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bounds.h"
#include "buf.h"
#include "tmpl.h"

/* Append to the output (capped at RL_TMPL_MAX), the failure worded. */
static enum rl_err
put(struct rl_buf *b, const char *s, size_t n, struct rl_error *e)
{

	switch (rl_buf_add(b, s, n)) {
	case RL_OK:
		return RL_OK;
	case RL_ETOOBIG:
		return rl_error_set(e, RL_ETOOBIG, "le prompt dépasse %d "
		    "octets", RL_TMPL_MAX);
	default:
		return rl_error_set(e, RL_ENOMEM, "out of memory");
	}
}

/*
 * A real as Python's repr() prints it: the shortest %g that reads back
 * to the same double, with ".0" when it would otherwise look integral.
 */
static void
real_repr(double d, char *out, size_t outsz)
{
	size_t	 n;
	int	 prec;

	for (prec = 1; prec <= 17; prec++) {
		(void)snprintf(out, outsz, "%.*g", prec, d);
		if (strtod(out, NULL) == d)
			break;
	}
	n = strlen(out);
	if (strpbrk(out, ".eEn") == NULL && n + 3 <= outsz)	/* nan, inf */
		memcpy(out + n, ".0", 3);
}

/* An array whose every element is a string (EDxo's pre-joined lists). */
static int
all_strings(const json_t *v)
{
	const json_t	*x;
	size_t		 i;

	json_array_foreach(v, i, x)
		if (!json_is_string(x))
			return 0;
	return 1;
}

static enum rl_err
value(struct rl_buf *b, const json_t *v, struct rl_error *e)
{
	const json_t	*x;
	char		 num[64], *s;
	size_t		 i;
	enum rl_err	 err;

	switch (json_typeof(v)) {
	case JSON_STRING:
		return put(b, json_string_value(v), json_string_length(v), e);
	case JSON_INTEGER:
		(void)snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT,
		    json_integer_value(v));
		return put(b, num, strlen(num), e);
	case JSON_REAL:
		real_repr(json_real_value(v), num, sizeof(num));
		return put(b, num, strlen(num), e);
	case JSON_TRUE:
		return put(b, "True", 4, e);
	case JSON_FALSE:
		return put(b, "False", 5, e);
	case JSON_NULL:
		return put(b, "None", 4, e);
	case JSON_ARRAY:
		/* Strings only, so no call back into value(). */
		if (all_strings(v)) {
			json_array_foreach(v, i, x) {
				if (i > 0 && (err = put(b, ", ", 2, e)) !=
				    RL_OK)
					return err;
				if ((err = put(b, json_string_value(x),
				    json_string_length(x), e)) != RL_OK)
					return err;
			}
			return RL_OK;
		}
		break;
	default:
		break;
	}
	if ((s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY)) == NULL)
		return rl_error_set(e, RL_ENOMEM, "out of memory");
	err = put(b, s, strlen(s), e);
	free(s);
	return err;
}

/*
 * Where a field's name is looked up: the context (rendering), or the
 * list of names the renderer supplies (check only, nothing is output).
 */
struct vars {
	const json_t		*ctx;
	const char *const	*names;	/* check: NULL-terminated, NULL any */
	int			 check;
};

static int
known(const struct vars *vs, const char *name)
{
	const char *const	*n;

	if (vs->names == NULL)
		return 1;
	for (n = vs->names; *n != NULL; n++)
		if (strcmp(*n, name) == 0)
			return 1;
	return 0;
}

/*
 * The replacement field that starts after the '{' at *pp: its name, up
 * to the closing brace, then its value.  *pp ends after the '}'.
 */
static enum rl_err
field(struct rl_buf *b, const char **pp, const struct vars *vs,
    struct rl_error *e)
{
	const char	*p = *pp, *end;
	const json_t	*v = NULL;
	char		 name[RL_TMPL_FIELD_MAX];
	size_t		 n, rest;

	if ((end = strchr(p, '}')) == NULL)
		return rl_error_set(e, RL_EINVAL, "Template invalide : "
		    "accolade « { » non fermée");
	n = (size_t)(end - p);
	if (n >= sizeof(name))
		return rl_error_set(e, RL_EINVAL, "Template invalide : nom "
		    "de variable trop long (au plus %d octets)",
		    RL_TMPL_FIELD_MAX - 1);
	memcpy(name, p, n);
	name[n] = '\0';
	if (n == 0)
		return rl_error_set(e, RL_EINVAL, "Template invalide : "
		    "« {} » sans nom de variable");
	if (strchr(name, '{') != NULL)
		return rl_error_set(e, RL_EINVAL, "Template invalide : "
		    "accolade « { » non fermée");
	/*
	 * As Python does: the name (up to a conversion, format spec or
	 * accessor) is looked up first, so "{"cle": 1}" is the missing
	 * variable "cle" with its quotes, not a format error.
	 */
	rest = strcspn(name, "!:.[");
	name[rest] = '\0';
	if (vs->check ? !known(vs, name) :
	    (v = json_object_get(vs->ctx, name)) == NULL)
		return rl_error_field(e, RL_EINVAL, name, vs->check ?
		    "Variable inconnue : %s (pour écrire une accolade, "
		    "doublez-la)" : "Variable manquante dans le template: %s",
		    name);
	if (rest < n)
		return rl_error_field(e, RL_EINVAL, name, "Template invalide "
		    ": « {%s%c...} » (conversion, format ou accès à un "
		    "attribut non pris en charge)", name, p[rest]);
	*pp = end + 1;
	return vs->check ? RL_OK : value(b, v, e);
}

/*
 * One pass over tmpl.  In check mode nothing is output (b is unused);
 * *at is where the fault is: the brace that opens the field at fault, or
 * the single closing brace.
 */
static enum rl_err
walk(struct rl_buf *b, const char *tmpl, const struct vars *vs,
    const char **at, struct rl_error *e)
{
	const char	*p = tmpl, *q;
	enum rl_err	 err;

	*at = tmpl;
	while (*p != '\0') {
		q = p + strcspn(p, "{}");
		if (!vs->check && (err = put(b, p, (size_t)(q - p), e)) !=
		    RL_OK)
			return err;
		p = q;
		if (*p == '\0')
			break;
		*at = p;
		if (p[0] == p[1]) {		/* "{{" or "}}" */
			if (!vs->check && (err = put(b, p, 1, e)) != RL_OK)
				return err;
			p += 2;
		} else if (*p == '}') {
			return rl_error_set(e, RL_EINVAL, "Template invalide : "
			    "accolade « } » seule");
		} else {
			p++;
			if ((err = field(b, &p, vs, e)) != RL_OK)
				return err;
		}
	}
	return RL_OK;
}

enum rl_err
rl_tmpl_format(const char *tmpl, const json_t *ctx, char **out,
    struct rl_error *e)
{
	struct rl_buf	 b;
	struct vars	 vs;
	const char	*at;
	enum rl_err	 err = RL_OK;

	*out = NULL;
	rl_buf_init(&b, RL_TMPL_MAX);
	if (tmpl == NULL || !json_is_object(ctx)) {
		err = rl_error_set(e, RL_EINTERNAL, "rl_tmpl_format: no "
		    "template or no context");
		goto out;
	}
	memset(&vs, 0, sizeof(vs));
	vs.ctx = ctx;
	if ((err = put(&b, "", 0, e)) != RL_OK ||
	    (err = walk(&b, tmpl, &vs, &at, e)) != RL_OK)
		goto out;
	if ((*out = rl_buf_take(&b, NULL)) == NULL)
		err = rl_error_set(e, RL_ENOMEM, "out of memory");
out:
	rl_buf_free(&b);
	return err;
}

enum rl_err
rl_tmpl_check(const char *tmpl, const char *const *names, int *line,
    struct rl_error *e)
{
	struct vars	 vs;
	const char	*at, *p;
	char		 why[RL_ERRMSG_MAX - 24];	/* the line's room */
	int		 n = 1;
	enum rl_err	 err;

	if (line != NULL)
		*line = 0;
	if (tmpl == NULL)
		return RL_OK;
	memset(&vs, 0, sizeof(vs));
	vs.names = names;
	vs.check = 1;
	if ((err = walk(NULL, tmpl, &vs, &at, e)) == RL_OK)
		return RL_OK;
	for (p = tmpl; p < at; p++)
		if (*p == '\n')
			n++;
	if (line != NULL)
		*line = n;
	/* The message says the line too, as rl_jinja_check()'s do. */
	(void)snprintf(why, sizeof(why), "%.200s", e->msg);
	(void)snprintf(e->msg, sizeof(e->msg), "%s (ligne %d)", why, n);
	return err;
}
