/*
 * run-jsts: runs JSON-Schema-Test-Suite files (draft2020-12) against the
 * schema module in JSON Schema mode.  Every case whose schema compiles is
 * run; a case whose schema uses a keyword the module refuses is skipped
 * with the loader's reason.  Prints TAP, one line per file, and writes a
 * Markdown table of pass counts with -o.  Exit 1 when an applicable test
 * fails.
 *
 * Every test's instance is also validated in the three modes (JSON
 * Schema, lax, strict) with and without RL_SCHEMA_NOFAST: the fast path
 * must give the same answer, validated value and error list as the full
 * validator, or the run fails.
 *
 * usage: run-jsts [-o report.md] dir
 * dir is .../tests/draft2020-12; optional/ and optional/format/ are run
 * too (formats asserted there, annotation only in the core format.json).
 */
#include "config.h"

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "relais.h"
#include "schema.h"

/*
 * Cases skipped on purpose: A-label checks need the IDNA2008 tables
 * (RFC 5891/5892), which a format for OpenAI output does not justify.
 */
static const struct {
	const char	*file, *cased, *why;
} skiplist[] = {
	{ "optional/format/hostname.json",
	    "validation of A-label (punycode) host names",
	    "A-label (punycode) checks need the IDNA2008 tables" },
	{ NULL, NULL, NULL }
};

struct reason {
	char	 msg[160];
	int	 n;
};

struct fres {
	char		 name[256];
	int		 cases, tests, run, pass, fail, skipped;
	struct reason	 why[16];
	int		 nwhy;
	char		 note[512];
};

static struct fres	*res;
static size_t		 nres;
static int		 tapn;
static int		 nagree, ndisagree;

/* Two results are the same: both NULL or equal JSON (1 and 1.0 differ). */
static int
same(const json_t *a, const json_t *b)
{

	if (a == NULL || b == NULL)
		return a == b;
	return json_equal(a, b);
}

/*
 * The fast path (fast) and the full validator (full, compiled with
 * RL_SCHEMA_NOFAST) agree on data: rl_schema_valid, and
 * rl_schema_validate's code, validated value and errors.
 */
static int
agree(const struct rl_schema *fast, const struct rl_schema *full,
    json_t *data)
{
	struct rl_error	 e;
	json_t		*o1 = NULL, *o2 = NULL, *e1 = NULL, *e2 = NULL;
	enum rl_err	 r1, r2;
	int		 ok;

	r1 = rl_schema_validate(fast, data, &o1, &e1, &e);
	r2 = rl_schema_validate(full, data, &o2, &e2, &e);
	ok = r1 == r2 && same(o1, o2) && same(e1, e2) &&
	    rl_schema_valid(fast, data) == rl_schema_valid(full, data);
	json_decref(o1);
	json_decref(o2);
	json_decref(e1);
	json_decref(e2);
	return ok;
}

/* agree() in each mode for every test of one case. */
static void
agree_case(const char *name, const json_t *c, unsigned flags)
{
	static const unsigned	 modes[] = { 0, RL_SCHEMA_LAX,
	    RL_SCHEMA_STRICT };
	struct rl_schema	*fast, *full;
	struct rl_error		 e;
	json_t			*t;
	size_t			 i, j;
	unsigned		 m;

	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		m = i == 0 ? flags : modes[i];
		fast = rl_schema_compile(json_object_get(c, "schema"), m, &e);
		full = rl_schema_compile(json_object_get(c, "schema"),
		    m | RL_SCHEMA_NOFAST, &e);
		if (fast != NULL && full != NULL)
			json_array_foreach(json_object_get(c, "tests"), j, t) {
				nagree++;
				if (agree(fast, full, json_object_get(t,
				    "data")))
					continue;
				ndisagree++;
				printf("# fast path disagrees: %s / %s / %s, "
				    "flags %#x\n", name, json_string_value(
				    json_object_get(c, "description")),
				    json_string_value(json_object_get(t,
				    "description")), m);
			}
		rl_schema_free(fast);
		rl_schema_free(full);
	}
}

static void
add_reason(struct fres *f, const char *msg, int ntests)
{
	int	 i;

	for (i = 0; i < f->nwhy; i++)
		if (strcmp(f->why[i].msg, msg) == 0) {
			f->why[i].n += ntests;
			return;
		}
	if (f->nwhy < 16) {
		(void)snprintf(f->why[f->nwhy].msg, sizeof(f->why[0].msg),
		    "%s", msg);
		f->why[f->nwhy++].n = ntests;
	}
}

/* A "format" the module does not assert would make invalid tests pass. */
static const char *
unknown_format(const json_t *js)
{
	const char	*k, *r;
	json_t		*v;
	size_t		 i;

	if (json_is_array(js)) {
		json_array_foreach(js, i, v)
			if ((r = unknown_format(v)) != NULL)
				return r;
		return NULL;
	}
	if (!json_is_object(js))
		return NULL;
	json_object_foreach((json_t *)(uintptr_t)js, k, v) {
		if (strcmp(k, "format") == 0 && json_is_string(v) &&
		    rl_schema_format_id(json_string_value(v)) == 0)
			return json_string_value(v);
		if ((r = unknown_format(v)) != NULL)
			return r;
	}
	return NULL;
}

static void
run_file(const char *path, const char *name, unsigned flags)
{
	struct fres		*f;
	json_error_t		 je;
	json_t			*cases, *c, *tests, *t;
	struct rl_schema	*s;
	struct rl_error		 e;
	char			 msg[400];
	const char		*fmt;
	size_t			 i, j, k;
	int			 valid, want;

	if ((f = realloc(res, (nres + 1) * sizeof(*res))) == NULL)
		exit(2);
	res = f;
	f = &res[nres++];
	memset(f, 0, sizeof(*f));
	(void)snprintf(f->name, sizeof(f->name), "%s", name);
	if ((cases = json_load_file(path, JSON_ALLOW_NUL, &je)) == NULL) {
		(void)snprintf(f->note, sizeof(f->note), "file not loaded: "
		    "%s (jansson holds integers in 64 bits)", je.text);
		printf("ok %d - %s # SKIP %s\n", ++tapn, name, f->note);
		return;
	}
	json_array_foreach(cases, i, c) {
		tests = json_object_get(c, "tests");
		f->cases++;
		f->tests += (int)json_array_size(tests);
		for (k = 0; skiplist[k].file != NULL; k++)
			if (strcmp(skiplist[k].file, name) == 0 &&
			    strcmp(skiplist[k].cased, json_string_value(
			    json_object_get(c, "description"))) == 0)
				break;
		if (skiplist[k].file != NULL) {
			add_reason(f, skiplist[k].why,
			    (int)json_array_size(tests));
			f->skipped += (int)json_array_size(tests);
			continue;
		}
		if ((flags & RL_SCHEMA_FORMATS) &&
		    (fmt = unknown_format(json_object_get(c, "schema"))) !=
		    NULL) {
			(void)snprintf(msg, sizeof(msg), "format '%s' is not "
			    "one of the nine OpenAI formats (annotation)", fmt);
			add_reason(f, msg, (int)json_array_size(tests));
			f->skipped += (int)json_array_size(tests);
			continue;
		}
		s = rl_schema_compile(json_object_get(c, "schema"), flags, &e);
		if (s == NULL) {
			add_reason(f, e.msg, (int)json_array_size(tests));
			f->skipped += (int)json_array_size(tests);
			continue;
		}
		json_array_foreach(tests, j, t) {
			want = json_is_true(json_object_get(t, "valid"));
			valid = rl_schema_valid(s, json_object_get(t, "data"));
			f->run++;
			if (valid == want) {
				f->pass++;
				continue;
			}
			f->fail++;
			printf("# %s: %s / %s: expected %s\n", name,
			    json_string_value(json_object_get(c,
			    "description")),
			    json_string_value(json_object_get(t,
			    "description")), want ? "valid" : "invalid");
		}
		rl_schema_free(s);
		agree_case(name, c, flags);
	}
	json_decref(cases);
	printf("%s %d - %s: %d/%d passed, %d skipped\n", f->fail ? "not ok" :
	    "ok", ++tapn, name, f->pass, f->run, f->skipped);
}

static int
namecmp(const void *a, const void *b)
{

	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
run_dir(const char *dir, const char *prefix, unsigned flags)
{
	DIR		*d;
	struct dirent	*de;
	char		**names = NULL, path[4096], name[256];
	size_t		 n = 0, i, len;

	if ((d = opendir(dir)) == NULL) {
		printf("not ok %d - cannot open %s\n", ++tapn, dir);
		exit(1);
	}
	while ((de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (len < 6 || strcmp(de->d_name + len - 5, ".json") != 0)
			continue;
		if ((names = realloc(names, (n + 1) * sizeof(*names))) ==
		    NULL || (names[n++] = strdup(de->d_name)) == NULL)
			exit(2);
	}
	closedir(d);
	qsort(names, n, sizeof(*names), namecmp);
	for (i = 0; i < n; i++) {
		(void)snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		(void)snprintf(name, sizeof(name), "%s%s", prefix, names[i]);
		run_file(path, name, flags);
		free(names[i]);
	}
	free(names);
}

static void
report(FILE *fp, const char *dir)
{
	size_t	 i;
	int	 j, run = 0, pass = 0, skip = 0, tests = 0;

	for (i = 0; i < nres; i++) {
		run += res[i].run;
		pass += res[i].pass;
		skip += res[i].skipped;
		tests += res[i].tests;
	}
	fprintf(fp, "# JSON-Schema-Test-Suite conformance\n\n"
	    "Generated by `tests/conformance/run-jsts -o docs/conformance.md`"
	    " (run by\n`make check` through `tests/conformance/jsts.sh`) "
	    "over\n`../shared/conformance/json-schema-test-suite/tests/"
	    "draft2020-12/`, read in\nplace.  Mode: `RL_SCHEMA_JSONSCHEMA` "
	    "(draft 2020-12 semantics); formats are\nasserted under "
	    "`optional/format/` only.  A case is skipped when its schema\n"
	    "uses something the loader refuses (the reason is the loader's "
	    "message);\nevery other test must pass.\n\n"
	    "**Total: %d of %d applicable tests pass; %d of %d tests skipped."
	    "**\n\n"
	    "The fast path (`rl_schema_valid`, and `rl_schema_validate` for "
	    "values valid\nas they are) agrees with the full "
	    "validator (`RL_SCHEMA_NOFAST`) on\n%d of %d instance and mode "
	    "pairs (the instances of the applicable tests\nin JSON Schema, "
	    "lax and strict modes).\n\n"
	    "| file | cases | tests | run | passed | skipped | skip reasons "
	    "|\n|---|---|---|---|---|---|---|\n", pass, run, skip, tests,
	    nagree - ndisagree, nagree);
	for (i = 0; i < nres; i++) {
		fprintf(fp, "| %s | %d | %d | %d | %d | %d | ", res[i].name,
		    res[i].cases, res[i].tests, res[i].run, res[i].pass,
		    res[i].skipped);
		if (res[i].note[0] != '\0')
			fprintf(fp, "%s", res[i].note);
		for (j = 0; j < res[i].nwhy; j++)
			fprintf(fp, "%s%s (%d)", j > 0 || res[i].note[0] ?
			    "; " : "", res[i].why[j].msg, res[i].why[j].n);
		fprintf(fp, " |\n");
	}
	(void)dir;
}

int
main(int argc, char *argv[])
{
	const char	*out = NULL;
	char		 sub[4096];
	FILE		*fp;
	size_t		 i;
	int		 ch, failed = 0;

	while ((ch = getopt(argc, argv, "o:")) != -1) {
		if (ch == 'o')
			out = optarg;
		else {
			fprintf(stderr, "usage: run-jsts [-o md] dir\n");
			return 2;
		}
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "usage: run-jsts [-o md] dir\n");
		return 2;
	}
	run_dir(argv[optind], "", RL_SCHEMA_JSONSCHEMA);
	(void)snprintf(sub, sizeof(sub), "%s/optional", argv[optind]);
	run_dir(sub, "optional/", RL_SCHEMA_JSONSCHEMA);
	(void)snprintf(sub, sizeof(sub), "%s/optional/format", argv[optind]);
	run_dir(sub, "optional/format/", RL_SCHEMA_JSONSCHEMA |
	    RL_SCHEMA_FORMATS);
	for (i = 0; i < nres; i++)
		failed += res[i].fail;
	printf("%s %d - fast path agrees with the full validator on %d of %d "
	    "instance and mode pairs\n", ndisagree ? "not ok" : "ok", ++tapn,
	    nagree - ndisagree, nagree);
	failed += ndisagree;
	if (out != NULL) {
		if ((fp = fopen(out, "w")) == NULL) {
			perror(out);
			return 2;
		}
		report(fp, argv[optind]);
		fclose(fp);
	}
	printf("1..%d\n", tapn);
	free(res);
	return failed ? 1 : 0;
}
