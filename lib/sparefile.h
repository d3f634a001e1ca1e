/*
 * sparefile.h: a process's standing holds in a shared file mapping, so
 * that what a process held ahead and had not used outlives a SIGKILL.
 * Only the file's mechanics live here (create, map, lock, find the files
 * of dead processes); credits.c decides what the bytes mean and what to
 * do with them.  docs/internals/sparefile.md.
 */
#ifndef RL_SPAREFILE_H
#define RL_SPAREFILE_H

#include <stddef.h>
#include <stdint.h>

#include "relais.h"

/*
 * This process's file, dir/prog.pid.time.spares, size bytes of zeroes mapped
 * shared: a store to it is in the kernel's page cache at once, so a
 * process killed right after still leaves it in the file.  The file is
 * locked (flock) for the life of the process: the lock is how another
 * process tells a dead owner from a live one.  key names the layout and
 * the database the bytes are about; a file with another key is never
 * handed to a recovery.  NULL on failure (e says why).
 */
void		*rl_sparefile_open(const char *dir, const char *prog,
		    size_t size, uint64_t key, struct rl_error *);
/*
 * At exit: the file goes when drop (everything it listed was closed);
 * otherwise it stays, unlocked at the process's end, for the next start.
 */
void		 rl_sparefile_exit(int drop);

/*
 * For each file in dir whose owner is dead (its lock free) and whose key
 * and size are key and size: fn(map, size, arg, e).  When fn answers
 * RL_OK the file is emptied and removed; otherwise it stays for the next
 * start.  *n: the files handed over.  Files of live processes, of another
 * key, or that cannot be read are left alone.
 */
typedef enum rl_err (*rl_sparefile_fn)(const void *, size_t, void *,
		    struct rl_error *);
enum rl_err	 rl_sparefile_recover(const char *dir, size_t size,
		    uint64_t key, rl_sparefile_fn fn, void *arg, int *n,
		    struct rl_error *);

#endif /* RL_SPAREFILE_H */
