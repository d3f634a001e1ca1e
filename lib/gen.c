/*
 * gen.c: one model generation for an EDxo feature (gen.h).
 * STUB: the implementation is being written; every call fails cleanly.
 */
#include "config.h"

#include <stdlib.h>

#include "gen.h"

enum rl_err
rl_gen_run(struct rl_gen *g, struct rl_error *e)
{

	(void)g;
	return rl_error_set(e, RL_EINTERNAL, "rl_gen_run: not implemented");
}

void
rl_gen_free(struct rl_gen *g)
{

	json_decref(g->result);
	json_decref(g->errors);
	free(g->text);
	free(g->reasoning);
	g->result = g->errors = NULL;
	g->text = g->reasoning = NULL;
}

json_t *
rl_gen_usage_json(const struct rl_gen *g)
{

	(void)g;
	return json_object();
}
