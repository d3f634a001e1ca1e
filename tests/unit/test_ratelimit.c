/*
 * test_ratelimit.c: the shared counter table of lib/ratelimit.c: GCRA's
 * arithmetic on a fixed clock, buckets that do not share, give-back,
 * processes that create the table at the same moment, and exact counts
 * when several processes take from one bucket at once.
 */
#include "config.h"

#include <sys/mman.h>
#include <sys/wait.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bounds.h"
#include "harness.h"
#include "ratelimit.h"

#define SEC	1000000LL	/* microseconds */
#define NPROC	4

static long long	 t0 = 1800000000LL * SEC;	/* 2027 */

static int
take(const char *key, long n, long period, long long now,
    struct rl_ratelimit_state *st)
{

	rl_ratelimit_take(key, strlen(key), n, period, now, st);
	return st->allowed;
}

/* NPROC processes open path at once and take from "race" 250 times each. */
static int
race(const char *path, long limit, long *allowed)
{
	struct rl_ratelimit_state	 st;
	struct rl_error			 e;
	long				*counts;
	pid_t				 pid[NPROC];
	int				 i, j, status, bad = 0;

	counts = mmap(NULL, NPROC * sizeof(long), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (counts == MAP_FAILED)
		return -1;
	memset(counts, 0, NPROC * sizeof(long));
	rl_ratelimit_close();
	for (i = 0; i < NPROC; i++) {
		if ((pid[i] = fork()) == -1)
			return -1;
		if (pid[i] == 0) {
			if (rl_ratelimit_open(path, &e) != RL_OK)
				_exit(2);
			for (j = 0; j < 250; j++)
				if (take("race", limit, 3600, t0, &st))
					counts[i]++;
			_exit(0);
		}
	}
	for (i = 0; i < NPROC; i++)
		if (waitpid(pid[i], &status, 0) == -1 ||
		    !WIFEXITED(status) || WEXITSTATUS(status) != 0)
			bad = 1;
	*allowed = 0;
	for (i = 0; i < NPROC; i++)
		*allowed += counts[i];
	(void)munmap(counts, NPROC * sizeof(long));
	return bad ? -1 : 0;
}

int
main(void)
{
	struct rl_ratelimit_state	 st;
	struct rl_error			 e;
	char				 dir[] = "/tmp/rl-ratelimit.XXXXXX";
	char				 path[64], path2[64], key[32];
	long				 allowed;
	int				 i, shared = 0, alone = 1;

	if (mkdtemp(dir) == NULL)
		return 99;
	(void)snprintf(path, sizeof(path), "%s/t.shm", dir);
	(void)snprintf(path2, sizeof(path2), "%s/race.shm", dir);

	/* Before a table exists a bucket answers as a fresh one. */
	ok(take("u:1", 3, 60, t0, &st) && st.remaining == 2,
	    "no table: counted as a fresh bucket");

	rl_error_clear(&e);
	ok(rl_ratelimit_open(path, &e) == RL_OK, "table created: %s",
	    e.msg);

	/*
	 * 3 a minute: one every 20 s, a burst of 3.  (ok()'s arguments are
	 * evaluated in no set order: messages print no st field.)
	 */
	ok(take("u:1", 3, 60, t0, &st) && st.limit == 3 &&
	    st.remaining == 2 && st.reset == 20, "first: 2 left, full in "
	    "20 s");
	ok(take("u:1", 3, 60, t0, &st) && st.remaining == 1 &&
	    st.reset == 40, "second: 1 left, full in 40 s");
	ok(take("u:1", 3, 60, t0, &st) && st.remaining == 0 &&
	    st.reset == 60, "third: 0 left, full in 60 s");
	ok(!take("u:1", 3, 60, t0, &st) && st.remaining == 0 &&
	    st.retry_after == 20 && st.reset == 60,
	    "fourth refused, retry after 20 s, full in 60 s");
	ok(!take("u:1", 3, 60, t0 + 19 * SEC, &st) && st.retry_after == 1,
	    "refused a second early, retry after 1 s");
	ok(take("u:1", 3, 60, t0 + 20 * SEC, &st) && st.remaining == 0,
	    "one more after 20 s");
	ok(take("u:1", 3, 60, t0 + 200 * SEC, &st) && st.remaining == 2,
	    "a full bucket again once the window passed");

	/* Another key, another bucket. */
	ok(take("u:2", 3, 60, t0, &st) && st.remaining == 2,
	    "another user's bucket is its own");

	/* Give-back: a refused sibling returns what this bucket took. */
	ok(take("t:x", 1, 60, t0, &st) && !take("t:x", 1, 60, t0, &st),
	    "a bucket of one is empty after one");
	rl_ratelimit_give("t:x", 3, 1, 60, t0);
	ok(take("t:x", 1, 60, t0, &st), "given back: one allowed again");

	/* A lower limit applies to the bucket as it stands. */
	for (i = 0; i < 5; i++)
		(void)take("u:3", 100, 60, t0, &st);
	ok(take("u:3", 3, 60, t0, &st) && st.limit == 3 &&
	    st.remaining == 1, "5 taken at 100 a minute (3 s of the "
	    "window), then 3 a minute: 1 left");

	ok(take("u:4", 0, 60, t0, &st) && st.limit == 0,
	    "0: unlimited, no limit to show");

	/* 5,000 keys at once: none shares a bucket with another. */
	for (i = 0; i < 5000; i++) {
		(void)snprintf(key, sizeof(key), "k:%d", i);
		if (!take(key, 2, 60, t0, &st) || st.remaining != 1)
			shared++;
		if (!take(key, 2, 60, t0, &st) || take(key, 2, 60, t0, &st))
			alone = 0;
	}
	ok(shared == 0 && alone, "5,000 keys, 5,000 buckets");

	/* Processes that create one table at the same moment share it. */
	i = race(path2, 100000, &allowed);
	ok(i == 0 && allowed == NPROC * 250, "%d processes created one "
	    "table: all %d of their requests allowed", NPROC, NPROC * 250);
	diag("allowed: %ld", allowed);
	ok(rl_ratelimit_open(path2, &e) == RL_OK &&
	    take("race", 100000, 3600, t0, &st) &&
	    st.remaining == 100000 - NPROC * 250 - 1,
	    "the parent sees their %d requests", NPROC * 250);
	diag("left: %ld", st.remaining);
	/* And take exactly the limit from one bucket between them. */
	(void)unlink(path2);
	i = race(path2, 300, &allowed);
	ok(i == 0 && allowed == 300, "%d processes on a bucket of 300: "
	    "exactly 300 allowed", NPROC);
	diag("allowed: %ld", allowed);

	rl_ratelimit_close();
	(void)unlink(path);
	(void)unlink(path2);
	(void)rmdir(dir);
	return done();
}
