/*
 * relais-schema: validate a JSON document against a schema the way the
 * runtime does (Pydantic-style error list), lint a schema for OpenAI
 * strict mode, or print its strict form.  relais-schema(8).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "relais.h"
#include "bounds.h"
#include "schema.h"

static void
usage(void)
{

	fprintf(stderr, "usage: relais-schema validate [-jsv] schema file\n"
	    "       relais-schema lint schema\n"
	    "       relais-schema strict schema\n");
}

static json_t *
load_json(const char *path, json_error_t *je)
{

	if (strcmp(path, "-") == 0)
		return json_loadf(stdin, JSON_DECODE_ANY, je);
	return json_load_file(path, JSON_DECODE_ANY, je);
}

static int
print(json_t *v)
{

	if (json_dumpf(v, stdout, JSON_INDENT(2) | JSON_ENCODE_ANY |
	    JSON_REAL_PRECISION(17)) == -1)
		return -1;
	putchar('\n');
	return 0;
}

/*
 * A document that does not parse is a Pydantic json_invalid error
 * (loc []), not a usage error: the runtime answers it the same way.
 */
static int
json_invalid(const char *path, const json_error_t *je)
{
	char	 msg[300];
	json_t	*errs;

	(void)snprintf(msg, sizeof(msg), "Invalid JSON: %s at line %d "
	    "column %d", je->text, je->line, je->column);
	errs = json_pack("[{s:s, s:[], s:s, s:s, s:{s:s}}]", "type",
	    "json_invalid", "loc", "msg", msg, "input", path, "ctx", "error",
	    je->text);
	if (errs == NULL)
		return 2;
	print(errs);
	json_decref(errs);
	return 1;
}

static int
cmd_validate(int argc, char *argv[])
{
	struct rl_schema	*s;
	struct rl_error		 e;
	json_error_t		 je;
	json_t			*doc, *errs = NULL, *out = NULL;
	unsigned		 flags = RL_SCHEMA_LAX;
	int			 ch, verbose = 0, rc;
	enum rl_err		 r;

	optind = 1;
	while ((ch = getopt(argc, argv, "jsv")) != -1) {
		switch (ch) {
		case 'j':
			flags = RL_SCHEMA_JSONSCHEMA | RL_SCHEMA_FORMATS;
			break;
		case 's':
			flags = RL_SCHEMA_STRICT;
			break;
		case 'v':
			verbose = 1;
			break;
		default:
			usage();
			return 2;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 2) {
		usage();
		return 2;
	}
	if ((s = rl_schema_load(argv[0], flags, &e)) == NULL) {
		fprintf(stderr, "relais-schema: %s: %s (at %s)\n", argv[0],
		    e.msg, e.where[0] != '\0' ? e.where : "#");
		return 2;
	}
	if ((doc = load_json(argv[1], &je)) == NULL) {
		rl_schema_free(s);
		if (je.line == -1) {
			fprintf(stderr, "relais-schema: %s: %s\n", argv[1],
			    je.text);
			return 2;
		}
		return json_invalid(argv[1], &je);
	}
	r = rl_schema_validate(s, doc, verbose ? &out : NULL, &errs, &e);
	if (r == RL_OK) {
		rc = 0;
		if (verbose)
			print(out);
		else
			printf("[]\n");
	} else if (r == RL_EVALIDATION) {
		rc = 1;
		print(errs);
	} else {
		fprintf(stderr, "relais-schema: %s\n", e.msg);
		rc = 2;
	}
	json_decref(out);
	json_decref(errs);
	json_decref(doc);
	rl_schema_free(s);
	return rc;
}

static int
cmd_lint(int argc, char *argv[], int strict)
{
	json_error_t	 je;
	json_t		*js, *out = NULL;
	struct rl_error	 e;
	int		 rc;

	if (argc != 2) {
		usage();
		return 2;
	}
	if ((js = load_json(argv[1], &je)) == NULL) {
		fprintf(stderr, "relais-schema: %s:%d: %s\n", argv[1],
		    je.line, je.text);
		return 2;
	}
	if (strict) {
		rl_error_clear(&e);
		if (rl_schema_to_strict(js, &out, &e) != RL_OK) {
			fprintf(stderr, "relais-schema: %s\n", e.msg);
			json_decref(js);
			return 2;
		}
		rc = 0;
	} else {
		if (rl_schema_lint(js, &out) != RL_OK) {
			fprintf(stderr, "relais-schema: out of memory\n");
			json_decref(js);
			return 2;
		}
		rc = json_array_size(out) > 0 ? 1 : 0;
	}
	print(out);
	json_decref(out);
	json_decref(js);
	return rc;
}

int
main(int argc, char *argv[])
{

	if (argc < 2) {
		usage();
		return 2;
	}
	if (strcmp(argv[1], "validate") == 0)
		return cmd_validate(argc - 1, argv + 1);
	if (strcmp(argv[1], "lint") == 0)
		return cmd_lint(argc - 1, argv + 1, 0);
	if (strcmp(argv[1], "strict") == 0)
		return cmd_lint(argc - 1, argv + 1, 1);
	usage();
	return 2;
}
