/*
 * tmpl.c: EDxo's str.format() prompt templates (tmpl.h).
 * STUB: the implementation is being written; every call fails cleanly.
 */
#include "config.h"

#include <stdlib.h>

#include "tmpl.h"

enum rl_err
rl_tmpl_format(const char *tmpl, const json_t *ctx, char **out,
    struct rl_error *e)
{

	(void)tmpl;
	(void)ctx;
	*out = NULL;
	return rl_error_set(e, RL_EINTERNAL, "rl_tmpl_format: not implemented");
}
