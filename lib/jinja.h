/*
 * jinja.h: the Jinja subset EDxo's plan-cadre section templates use
 * (global_generation_settings.text_content, rendered with the course
 * context of get_plan_cadre_data).  Supported:
 *
 *	{{ expr }}			output
 *	{% if e %}..{% elif e %}..{% else %}..{% endif %}
 *	{% for x in e %}..{% else %}..{% endfor %}, with loop.index,
 *	    loop.index0, loop.first, loop.last, loop.length
 *	{# comment #}, and "-" on either side of a tag to trim white space
 *	expressions: names, a.b, a[0], a["k"], string/number literals,
 *	    true/false/none, == != < > <= >= in, not in, and, or, not, ( )
 *	filters: length count join(sep) default(v) d(v) upper lower trim
 *	    first last capitalize string
 *
 * As Jinja does with its default Undefined, a name missing from the
 * context renders as the empty string and is false in a test; unlike
 * Jinja, an attribute of an undefined value is undefined too instead of
 * an error, so that an admin's template cannot fail a generation.  Lists
 * and objects print as compact JSON (Jinja would print Python's repr).
 * Anything else (set, macro, include, unknown filters) is a syntax
 * error: RL_EINVAL with the line in e->msg.
 */
#ifndef RL_JINJA_H
#define RL_JINJA_H

#include <jansson.h>

#include "relais.h"

/*
 * Limits, so that no template can pin a worker: the rendered text (a
 * section prompt is a paragraph; the largest context list, a programme's
 * compétences, printed whole stays under 256 KiB), loop iterations summed
 * over the whole render (contexts hold at most a few hundred items, and
 * a nested loop over two of them stays under this), and block nesting
 * (a readable template nests 3 or 4 deep).
 */
#define RL_JINJA_OUT_MAX	(256 * 1024)
#define RL_JINJA_MAX_ITER	100000
#define RL_JINJA_MAX_DEPTH	32
/* Template source, and the length of one name. */
#define RL_JINJA_SRC_MAX	(64 * 1024)
#define RL_JINJA_NAME_MAX	64

/* *out: malloc'd, NUL-terminated; free() it. */
enum rl_err	 rl_jinja_render(const char *tmpl, const json_t *ctx,
		    char **out, struct rl_error *);

#endif
