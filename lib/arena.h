/*
 * arena.h: the per-request allocator.  Everything a handler allocates through
 * it is released in one go when the request ends.
 */
#ifndef RL_ARENA_H
#define RL_ARENA_H

#include <stddef.h>

struct rl_arena;

struct rl_arena	*rl_arena_new(void);
void		 rl_arena_free(struct rl_arena *);
void		*rl_arena_alloc(struct rl_arena *, size_t);
void		*rl_arena_calloc(struct rl_arena *, size_t, size_t);
char		*rl_arena_strdup(struct rl_arena *, const char *);
char		*rl_arena_strndup(struct rl_arena *, const char *, size_t);
char		*rl_arena_printf(struct rl_arena *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
size_t		 rl_arena_used(const struct rl_arena *);

#endif
