/*
 * arena.c: a bump allocator made of chunks.  Requests allocate many small
 * strings (headers, form fields, path parameters) whose lifetime is exactly
 * the request, so freeing them one by one would be both slow and a source of
 * leaks.
 */
#include "config.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "bounds.h"

struct chunk {
	struct chunk	*next;
	size_t		 size;	/* usable bytes after the header */
	size_t		 used;
	max_align_t	 data[];
};

struct rl_arena {
	struct chunk	*head;	/* current chunk first */
	size_t		 total;
};

#define ALIGN(n)	(((n) + _Alignof(max_align_t) - 1) & \
			    ~(_Alignof(max_align_t) - 1))

struct rl_arena *
rl_arena_new(void)
{

	return calloc(1, sizeof(struct rl_arena));
}

void
rl_arena_free(struct rl_arena *a)
{
	struct chunk	*c, *next;

	if (a == NULL)
		return;
	for (c = a->head; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	free(a);
}

void *
rl_arena_alloc(struct rl_arena *a, size_t n)
{
	struct chunk	*c;
	size_t		 size;
	void		*p;

	if (n == 0)
		n = 1;
	if (n > SIZE_MAX / 2)
		return NULL;
	n = ALIGN(n);
	c = a->head;
	if (c == NULL || c->size - c->used < n) {
		size = n > RL_ARENA_CHUNK ? n : RL_ARENA_CHUNK;
		if ((c = malloc(sizeof(*c) + size)) == NULL)
			return NULL;
		c->size = size;
		c->used = 0;
		/* A big one-off block goes behind the current chunk so the
		 * current chunk's free space stays usable. */
		if (n > RL_ARENA_CHUNK && a->head != NULL) {
			c->next = a->head->next;
			a->head->next = c;
		} else {
			c->next = a->head;
			a->head = c;
		}
	}
	p = (char *)c->data + c->used;
	c->used += n;
	a->total += n;
	return p;
}

void *
rl_arena_calloc(struct rl_arena *a, size_t nmemb, size_t size)
{
	void	*p;

	if (size != 0 && nmemb > SIZE_MAX / size)
		return NULL;
	if ((p = rl_arena_alloc(a, nmemb * size)) != NULL)
		memset(p, 0, nmemb * size);
	return p;
}

char *
rl_arena_strndup(struct rl_arena *a, const char *s, size_t len)
{
	char	*p;

	if ((p = rl_arena_alloc(a, len + 1)) == NULL)
		return NULL;
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

char *
rl_arena_strdup(struct rl_arena *a, const char *s)
{

	return rl_arena_strndup(a, s, strlen(s));
}

char *
rl_arena_printf(struct rl_arena *a, const char *fmt, ...)
{
	va_list	 ap;
	int	 len;
	char	*p;

	va_start(ap, fmt);
	len = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (len < 0 || (p = rl_arena_alloc(a, (size_t)len + 1)) == NULL)
		return NULL;
	va_start(ap, fmt);
	(void)vsnprintf(p, (size_t)len + 1, fmt, ap);
	va_end(ap);
	return p;
}

size_t
rl_arena_used(const struct rl_arena *a)
{

	return a->total;
}
