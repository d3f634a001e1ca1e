/*
 * bench/schema.sh helper: ns per validation of a parsed document with the
 * schema module.  usage: bench schema doc n
 * Prints two numbers: the fast path (rl_schema_valid) and the full one
 * (rl_schema_validate with the validated value and an error list).
 * Times are this process's CPU time, so that a busy machine's other work
 * does not count; the best of five rounds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <jansson.h>

#include "relais.h"
#include "schema.h"

static long long
now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int
main(int argc, char *argv[])
{
	struct rl_schema	*s;
	struct rl_error		 e;
	json_t			*doc, *out, *errs;
	long			 n, i;
	int			 r;
	double			 dt, best1 = 1e30, best2 = 1e30;
	long long		 t0;

	if (argc != 4)
		return 2;
	if ((s = rl_schema_load(argv[1], RL_SCHEMA_LAX, &e)) == NULL ||
	    (doc = json_load_file(argv[2], 0, NULL)) == NULL)
		return 2;
	n = strtol(argv[3], NULL, 10);
	if (!rl_schema_valid(s, doc))
		return 1;
	for (r = 0; r < 5; r++) {
		t0 = now();
		for (i = 0; i < n; i++)
			if (!rl_schema_valid(s, doc))
				return 1;
		dt = (double)(now() - t0) / (double)n;
		best1 = dt < best1 ? dt : best1;
		t0 = now();
		for (i = 0; i < n; i++) {
			out = errs = NULL;
			if (rl_schema_validate(s, doc, &out, &errs, &e) != RL_OK)
				return 1;
			json_decref(out);
		}
		dt = (double)(now() - t0) / (double)n;
		best2 = dt < best2 ? dt : best2;
	}
	printf("%.0f %.0f\n", best1, best2);
	json_decref(doc);
	rl_schema_free(s);
	return 0;
}
