/* test_arena.c: the per-request allocator (lib/arena.c). */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "arena.h"
#include "harness.h"
#include "bounds.h"

int
main(void)
{
	struct rl_arena	*a;
	char		*s, *big, *after;
	void		*p[1000];
	int		 i, aligned = 1, distinct = 1;

	a = rl_arena_new();
	ok(a != NULL, "arena created");
	for (i = 0; i < 1000; i++) {
		p[i] = rl_arena_alloc(a, (size_t)(i % 37) + 1);
		if ((uintptr_t)p[i] % _Alignof(max_align_t) != 0)
			aligned = 0;
		memset(p[i], i & 0xff, (size_t)(i % 37) + 1);
	}
	for (i = 1; i < 1000; i++)
		if (*(unsigned char *)p[i - 1] != ((i - 1) & 0xff))
			distinct = 0;
	ok(aligned, "allocations are max_align_t aligned");
	ok(distinct, "allocations do not overlap");
	s = rl_arena_strdup(a, "bonjour");
	ok(s != NULL && strcmp(s, "bonjour") == 0, "strdup");
	s = rl_arena_strndup(a, "bonjour", 3);
	ok(s != NULL && strcmp(s, "bon") == 0, "strndup cuts");
	s = rl_arena_printf(a, "%s-%d", "plan", 42);
	ok(s != NULL && strcmp(s, "plan-42") == 0, "printf");
	big = rl_arena_alloc(a, RL_ARENA_CHUNK * 3);
	ok(big != NULL, "allocation larger than a chunk");
	memset(big, 'x', RL_ARENA_CHUNK * 3);
	after = rl_arena_strdup(a, "after");
	ok(after != NULL && strcmp(after, "after") == 0 &&
	    (after < big || after >= big + RL_ARENA_CHUNK * 3),
	    "small allocation after a big one is outside it");
	ok(rl_arena_calloc(a, SIZE_MAX / 2, 4) == NULL,
	    "calloc overflow refused");
	ok(rl_arena_alloc(a, SIZE_MAX - 8) == NULL, "huge alloc refused");
	ok(rl_arena_used(a) >= RL_ARENA_CHUNK * 3, "usage counted");
	rl_arena_free(a);
	rl_arena_free(NULL);
	ok(1, "free (ASan checks for leaks)");
	return done();
}
