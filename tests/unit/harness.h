/*
 * harness.h: the smallest test harness that speaks TAP.  A test program
 * calls ok() once per check and ends with "return done();".  The plan line
 * "1..N" comes last, which TAP allows, so checks need not be counted ahead.
 */
#ifndef RL_TEST_HARNESS_H
#define RL_TEST_HARNESS_H

#include <stdarg.h>
#include <stdio.h>

static int	harness_run __attribute__((unused));
static int	harness_failed __attribute__((unused));

static inline int __attribute__((format(printf, 4, 5)))
harness_ok(const char *file, int line, int cond, const char *fmt, ...)
{
	va_list	 ap;

	harness_run++;
	printf("%s %d - ", cond ? "ok" : "not ok", harness_run);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	if (!cond) {
		harness_failed++;
		printf("#   failed at %s:%d\n", file, line);
	}
	(void)fflush(stdout);
	return cond;
}

/* ok(cond, "what", ...): one check; returns cond, so callers can branch. */
#define ok(cond, ...) \
	harness_ok(__FILE__, __LINE__, !!(cond), __VA_ARGS__)

/* diag("..."): a TAP comment line, for detail a failed check needs. */
#define diag(...)	(printf("# "), printf(__VA_ARGS__), putchar('\n'))

/* Prints the plan; the program's exit status: 0 when nothing failed. */
static inline int
done(void)
{

	printf("1..%d\n", harness_run);
	return harness_failed == 0 ? 0 : 1;
}

#endif /* RL_TEST_HARNESS_H */
