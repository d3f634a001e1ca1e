/*
 * zipio.h: bounded zip reading and writing, the only module that talks to
 * libzip.  Reading never trusts a size an archive declares: every entry
 * read is counted as it inflates and stopped at its caps.
 */
#ifndef RL_ZIPIO_H
#define RL_ZIPIO_H

#include <stddef.h>

#include "relais.h"

/* An archive open for reading (opaque). */
struct rl_zip;

/* An archive being written in memory (opaque). */
struct rl_zipw;

/*
 * Caps applied to one archive.  rl_zip_limits_default() fills them from
 * lib/bounds.h; tests shrink them to exercise each refusal cheaply.
 */
struct rl_zip_limits {
	size_t	archive_max;	/* compressed bytes of the whole archive */
	size_t	entries_max;	/* entries in the central directory */
	size_t	entry_max;	/* inflated bytes of one entry read */
	size_t	total_max;	/* inflated bytes of all entries read */
	size_t	ratio_max;	/* declared size / compressed size ... */
	size_t	ratio_min;	/* ... checked for entries above this size */
};

void		 rl_zip_limits_default(struct rl_zip_limits *);

enum rl_err	 rl_zip_open_mem(const void *, size_t,
		    const struct rl_zip_limits *, struct rl_zip **,
		    struct rl_error *);
enum rl_err	 rl_zip_open_file(const char *, const struct rl_zip_limits *,
		    struct rl_zip **, struct rl_error *);
size_t		 rl_zip_entries(const struct rl_zip *);
enum rl_err	 rl_zip_read(struct rl_zip *, const char *, char **, size_t *,
		    struct rl_error *);
void		 rl_zip_close(struct rl_zip *);

struct rl_zipw	*rl_zipw_new(void);
enum rl_err	 rl_zipw_add(struct rl_zipw *, const char *, const void *,
		    size_t, struct rl_error *);
enum rl_err	 rl_zipw_finish(struct rl_zipw *, void **, size_t *,
		    struct rl_error *);
void		 rl_zipw_free(struct rl_zipw *);

#endif /* RL_ZIPIO_H */
