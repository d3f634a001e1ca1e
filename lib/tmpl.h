/*
 * tmpl.h: EDxo's prompt templates.  Prompts stored in the settings tables
 * are Python str.format() templates: "{name}" is replaced by the context
 * value of that name (a string as is; a number, boolean or null as Python
 * would print it; an array of strings joined with ", " as EDxo's callers
 * pass them pre-joined; another value as compact JSON), "{{" and "}}" are
 * literal braces, "{name!r}", "{name:fmt}" and attribute access are not
 * supported and refused.  A name missing from the context is RL_EINVAL
 * with e->where = the name and e->msg "Variable manquante dans le
 * template: name", so that a route answers 400 naming it and writes
 * nothing.
 */
#ifndef RL_TMPL_H
#define RL_TMPL_H

#include <jansson.h>

#include "relais.h"

/* A rendered prompt is at most this long (bytes). */
#define RL_TMPL_MAX	(1024 * 1024)

/* *out: malloc'd, NUL-terminated; free() it. */
enum rl_err	 rl_tmpl_format(const char *tmpl, const json_t *ctx,
		    char **out, struct rl_error *);
/*
 * Check only, for a page that saves a template, so that one that could
 * never render is refused before it is stored: tmpl is read as
 * rl_tmpl_format() reads it, each field's name looked up in names (the
 * variables its renderer supplies, NULL-terminated; NULL takes any
 * name).  A fault is RL_EINVAL with e->msg ending in "(ligne N)", *line
 * (may be NULL) that line, 1-based, and e->where the variable at fault,
 * if one is: an unknown one is "Variable inconnue : name".
 */
enum rl_err	 rl_tmpl_check(const char *tmpl, const char *const *names,
		    int *line, struct rl_error *);

#endif
