/*
 * fuzz_schema.c: libFuzzer harness for the JSON-Schema validator
 * (lib/schema*.c).  Byte 0 picks the mode (lax, strict, plain draft 2020-12
 * with formats); byte 1 below 0x80 picks one of EDxo's schemas in
 * lib/schemas/ and the rest is the instance, else the input is
 * "schema\0instance", both fuzzed.  Properties beyond "no crash":
 * - the fast path (rl_schema_valid) and the full validator compiled with
 *   RL_SCHEMA_NOFAST agree on every instance;
 * - rl_schema_validate says RL_OK exactly when they say valid, and then
 *   its output (coerced, defaults filled) is valid again, unchanged
 *   (unless the schema has a "default": defaults are not validated);
 * - an error list always becomes FastAPI's 422 body;
 * - the OpenAI strict-mode linter and converter finish on any schema.
 *
 * Build (DIR holds an empty config.h for a hand build; run from the top
 * of the tree, or set RELAIS_SCHEMA_DIR):
 *   clang -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined -IDIR -Ilib \
 *     $(pkg-config --cflags --libs jansson) lib/schema.c lib/schema_fmt.c \
 *     lib/schema_lint.c lib/schema_re.c lib/buf.c lib/err.c \
 *     tests/fuzz/fuzz_schema.c
 */
#include "config.h"

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "relais.h"
#include "schema.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define NMODES	3
#define MAXEDXO	64

static const unsigned	 modes[NMODES] = { RL_SCHEMA_LAX, RL_SCHEMA_STRICT,
			    RL_SCHEMA_JSONSCHEMA | RL_SCHEMA_FORMATS };
static struct rl_schema	*edxo[NMODES][2][MAXEDXO];
static size_t		 nedxo;

/* EDxo's schemas, each compiled in every mode, with and without fast. */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char	*dir = getenv("RELAIS_SCHEMA_DIR");
	char		 path[4096];
	struct dirent	*d;
	DIR		*dp;
	size_t		 m, n;

	if (dir == NULL)
		dir = "lib/schemas";
	if ((dp = opendir(dir)) == NULL)
		return 0;
	while ((d = readdir(dp)) != NULL && nedxo < MAXEDXO) {
		n = strlen(d->d_name);
		if (n < 6 || strcmp(d->d_name + n - 5, ".json") != 0)
			continue;
		(void)snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
		for (m = 0; m < NMODES; m++) {
			edxo[m][0][nedxo] = rl_schema_load(path, modes[m],
			    NULL);
			edxo[m][1][nedxo] = rl_schema_load(path,
			    modes[m] | RL_SCHEMA_NOFAST, NULL);
		}
		if (edxo[0][0][nedxo] != NULL)
			nedxo++;
	}
	closedir(dp);
	return 0;
}

/*
 * again: the validated output must validate again, unchanged.  Not for a
 * schema with a "default": like Pydantic, defaults are not validated.
 */
static void
check(const struct rl_schema *fast, const struct rl_schema *full,
    const json_t *instance, int again_too)
{
	json_t		*copy, *out = NULL, *errors = NULL, *body = NULL;
	json_t		*again = NULL, *errs2 = NULL;
	struct rl_error	 e;
	int		 vf, vs;
	enum rl_err	 err;

	/* The validators may coerce in place: each gets its own copy. */
	copy = json_deep_copy(instance);
	vf = rl_schema_valid(fast, copy);
	json_decref(copy);
	copy = json_deep_copy(instance);
	vs = rl_schema_valid(full, copy);
	json_decref(copy);
	if (vf != vs)
		abort();
	copy = json_deep_copy(instance);
	rl_error_clear(&e);
	err = rl_schema_validate(full, copy, &out, &errors, &e);
	if ((err == RL_OK) != (vs == 1) && err != RL_ENOMEM)
		abort();
	if (err == RL_OK && again_too) {
		if (rl_schema_validate(full, out, &again, &errs2, &e) !=
		    RL_OK || !json_equal(out, again))
			abort();
	} else if (err == RL_EVALIDATION) {
		if (json_array_size(errors) == 0 ||
		    rl_schema_fastapi_422(errors, "body", &body) != RL_OK)
			abort();
	}
	json_decref(body);
	json_decref(again);
	json_decref(errs2);
	json_decref(out);
	json_decref(errors);
	json_decref(copy);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rl_schema	*fast, *full;
	json_t			*sj = NULL, *inst = NULL, *lint = NULL;
	json_t			*strict = NULL;
	const uint8_t		*nul;
	json_error_t		 je;
	size_t			 m, k;

	if (size < 2)
		return 0;
	m = data[0] % NMODES;
	if (data[1] < 0x80 && nedxo > 0) {
		k = data[1] % nedxo;
		if (edxo[m][0][k] == NULL || edxo[m][1][k] == NULL)
			return 0;
		inst = json_loadb((const char *)data + 2, size - 2,
		    JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &je);
		if (inst != NULL)
			check(edxo[m][0][k], edxo[m][1][k], inst, 1);
		json_decref(inst);
		return 0;
	}
	data += 2;
	size -= 2;
	if ((nul = memchr(data, '\0', size)) == NULL)
		return 0;
	sj = json_loadb((const char *)data, (size_t)(nul - data),
	    JSON_DECODE_ANY, &je);
	inst = json_loadb((const char *)nul + 1, size - (size_t)(nul - data) -
	    1, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &je);
	if (sj == NULL || inst == NULL)
		goto out;
	(void)rl_schema_lint(sj, &lint);
	(void)rl_schema_to_strict(sj, &strict, NULL);
	fast = rl_schema_compile(sj, modes[m], NULL);
	full = rl_schema_compile(sj, modes[m] | RL_SCHEMA_NOFAST, NULL);
	if ((fast == NULL) != (full == NULL))
		abort();
	if (fast != NULL)
		check(fast, full, inst, memmem(data, (size_t)(nul - data),
		    "\"default\"", 9) == NULL);
	rl_schema_free(fast);
	rl_schema_free(full);
out:
	json_decref(strict);
	json_decref(lint);
	json_decref(sj);
	json_decref(inst);
	return 0;
}
