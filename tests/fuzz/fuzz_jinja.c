/*
 * fuzz_jinja.c: libFuzzer harness for the plan-cadre template renderer
 * (lib/jinja.c).  The input is the template (up to its first NUL); it is
 * checked with rl_jinja_check() and rendered with rl_jinja_render()
 * against a small fixed context shaped like get_plan_cadre_data()'s
 * (strings, numbers, lists of objects, objects nested a few deep).
 *
 * The check and the render run on one long-lived thread with
 * RL_THREAD_STACK, the stack of the FastCGI thread that checks a template
 * when a coordo saves it: 256 KiB here, since clang does not define the
 * __SANITIZE_ADDRESS__ that gives gcc's sanitizer builds 1 MiB, so the
 * unoptimised ASan build below is the most stack-hungry case there is.  A
 * walk that recursed past the RL_TMPL_* depths overflows it and ASan
 * reports the crash (the code before issue 14 does on "{{ a.a.a... }}";
 * the first run of this harness found 54 nested parentheses overflowing
 * it, when RL_TMPL_EXPR_DEPTH was 64).  Properties checked beyond "no
 * crash": the check and the render agree (a template the check refuses,
 * the render refuses with the same code and message; one it accepts never
 * fails to render with RL_EINVAL, since the shape was all checked); a
 * refusal sets a message and leaves no output; an output stays within
 * RL_JINJA_OUT_MAX.  Any disagreement aborts.
 *
 * Build (DIR holds an empty config.h for a hand build):
 *   clang -fsanitize=fuzzer,address,undefined -IDIR -Ilib \
 *     $(pkg-config --cflags --libs jansson) lib/jinja.c lib/buf.c \
 *     lib/err.c tests/fuzz/fuzz_jinja.c -lpthread
 * Run on a copy of the seeds (inputs up to RL_JINJA_SRC_MAX):
 *   cp -r tests/fuzz/corpus/jinja /tmp/corpus
 *   ./a.out -max_len=65536 -max_total_time=180 /tmp/corpus
 */
#include "config.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "relais.h"
#include "bounds.h"
#include "jinja.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static json_t	*ctx;

static const char ctxtext[] = "{"
    "\"cours\": {\"nom\": \"Réseaux I\", \"code\": \"243-1A1-LI\","
    " \"session\": 1, \"heures_theorie\": 2, \"heures_laboratoire\": 3,"
    " \"heures_maison\": 2.5},"
    "\"programme\": \"Technologie du génie électrique\","
    "\"fil_conducteur\": null,"
    "\"competences_developpees\": [{\"competence_nom\": \"Installer\","
    " \"competence_id\": \"0A1\"}, {\"competence_nom\": \"Diagnostiquer\","
    " \"competence_id\": \"0A2\"}],"
    "\"competences_atteintes\": [],"
    "\"cours_prealables\": [{\"code\": \"243-1B1\", \"nom\": \"Bases\"}],"
    "\"mots\": [\"a\", \"b\", \"c\"], \"vrai\": true, \"faux\": false,"
    "\"l\": [[[[\"fond\"]]], 1, -2, 3.5],"
    "\"n\": {\"a\": {\"a\": {\"a\": {\"a\": \"fond\"}}}}"
    "}";

/* One input, handed to the runner thread and back. */
struct job {
	const char	*tmpl;
	enum rl_err	 cerr, rerr;
	struct rl_error	 ce, re;
	char		*out;
};

static pthread_mutex_t	 mtx = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	 cv = PTHREAD_COND_INITIALIZER;
static struct job	*pending;	/* set by the fuzzer, cleared when done */
static int		 busy;

static void *
runner(void *arg)
{
	struct job	*j;

	(void)arg;
	for (;;) {
		pthread_mutex_lock(&mtx);
		while (!busy)
			pthread_cond_wait(&cv, &mtx);
		j = pending;
		pthread_mutex_unlock(&mtx);
		j->cerr = rl_jinja_check(j->tmpl, &j->ce);
		j->rerr = rl_jinja_render(j->tmpl, ctx, &j->out, &j->re);
		pthread_mutex_lock(&mtx);
		busy = 0;
		pthread_cond_broadcast(&cv);
		pthread_mutex_unlock(&mtx);
	}
	return NULL;
}

/* Run j on the runner thread, started on first use. */
static void
run(struct job *j)
{
	static int	 started;
	pthread_attr_t	 attr;
	pthread_t	 tid;

	if (!started) {
		if ((ctx = json_loads(ctxtext, 0, NULL)) == NULL)
			abort();
		pthread_attr_init(&attr);
		pthread_attr_setstacksize(&attr, RL_THREAD_STACK);
		if (pthread_create(&tid, &attr, runner, NULL) != 0)
			abort();
		pthread_attr_destroy(&attr);
		started = 1;
	}
	pthread_mutex_lock(&mtx);
	pending = j;
	busy = 1;
	pthread_cond_broadcast(&cv);
	while (busy)
		pthread_cond_wait(&cv, &mtx);
	pthread_mutex_unlock(&mtx);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct job	 j;
	char		*t;

	if ((t = malloc(size + 1)) == NULL)
		return 0;
	memcpy(t, data, size);
	t[size] = '\0';
	memset(&j, 0, sizeof(j));
	j.tmpl = t;
	run(&j);

	if (j.cerr != RL_OK) {
		/* Refused by the check: refused the same way by the render. */
		if (j.rerr != j.cerr || strcmp(j.ce.msg, j.re.msg) != 0 ||
		    j.ce.msg[0] == '\0')
			abort();
	} else if (j.rerr == RL_EINVAL)
		abort();
	if (j.rerr == RL_OK) {
		if (j.out == NULL || strlen(j.out) > RL_JINJA_OUT_MAX)
			abort();
	} else if (j.out != NULL || j.re.msg[0] == '\0')
		abort();
	free(j.out);
	free(t);
	return 0;
}
