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
 * error: RL_EINVAL with the line in e->msg.  So is nesting past
 * RL_TMPL_EXPR_DEPTH levels in one expression or RL_TMPL_BLOCK_DEPTH
 * blocks (bounds.h): the parser counts it, so a template that parses
 * renders within those depths.
 */
#ifndef RL_JINJA_H
#define RL_JINJA_H

#include <jansson.h>

#include "relais.h"
#include "bounds.h"

/*
 * Limits, so that no template can pin a worker: the rendered text (a
 * section prompt is a paragraph; the largest context list, a programme's
 * compétences, printed whole stays under 256 KiB), loop iterations summed
 * over the whole render (contexts hold at most a few hundred items, and
 * a nested loop over two of them stays under this), and expressions
 * evaluated over the whole render (a hundred per iteration at the
 * iteration cap; a 64 KiB body of expressions looped 90,000 times took
 * 44 s of CPU before this cap and now stops within 0.3 s).
 * Nesting limits are RL_TMPL_EXPR_DEPTH and RL_TMPL_BLOCK_DEPTH in
 * bounds.h.
 */
#define RL_JINJA_OUT_MAX	(256 * 1024)
#define RL_JINJA_MAX_ITER	100000
#define RL_JINJA_MAX_STEPS	(100 * RL_JINJA_MAX_ITER)
/* Template source, and the length of one name. */
#define RL_JINJA_SRC_MAX	(64 * 1024)
#define RL_JINJA_NAME_MAX	64

/* *out: malloc'd, NUL-terminated; free() it. */
enum rl_err	 rl_jinja_render(const char *tmpl, const json_t *ctx,
		    char **out, struct rl_error *);
/*
 * Parse only, as rl_jinja_render() would, with the same errors: what a
 * page that saves a template calls, so that a template that would fail
 * to parse (or nest too deep) is refused before it is stored.
 */
enum rl_err	 rl_jinja_check(const char *tmpl, struct rl_error *);

#endif
