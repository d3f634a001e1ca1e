/*
 * sparefile.c: see sparefile.h and docs/internals/sparefile.md.
 *
 * Why a shared mapping and not write(2) at each change: the holds change
 * on the path of a billed call (a draw), and a store to memory costs
 * nothing there, where a system call costs a context switch's worth on
 * this kind of machine.  The kernel owns the pages of a MAP_SHARED file
 * mapping, so a store survives the process that made it.  Not a power
 * cut or a kernel crash: the file on disk is then whatever was last
 * written back, and could still list a spare drawn since, whose call was
 * made.  So the head names the boot (the kernel's boot_id): a file of an
 * earlier boot is never handed over, and the sweep bills what it listed,
 * as it did before the file.
 */
#include "config.h"

#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bounds.h"
#include "log.h"
#include "sparefile.h"

#define SUFFIX		".spares"
#define MAGIC		"rlspare2"
#define BOOT_ID		"/proc/sys/kernel/random/boot_id"
#define BOOT_LEN	36	/* a UUID's text */
#define BOOT_SIZE	40	/* its room in the head */

/* The file's first bytes; the caller's bytes follow. */
struct head {
	char		 magic[8];
	uint64_t	 key;
	uint64_t	 size;
	char		 boot[BOOT_SIZE];	/* BOOT_LEN, NUL-padded */
};

/* This boot's id into boot (zeroed, then BOOT_LEN bytes); -1 if none. */
static int
boot_id(char boot[BOOT_SIZE])
{
	int	 fd;
	ssize_t	 n;

	memset(boot, 0, BOOT_SIZE);
	if ((fd = open(BOOT_ID, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, boot, BOOT_LEN);
	(void)close(fd);
	return n == BOOT_LEN ? 0 : -1;
}

static int		 own_fd = -1;
static char		 own_path[PATH_MAX];

void *
rl_sparefile_open(const char *dir, const char *prog, size_t size,
    uint64_t key, struct rl_error *e)
{
	char		 tmp[PATH_MAX], boot[BOOT_SIZE];
	struct head	*h;
	void		*map = MAP_FAILED;
	size_t		 len = sizeof(struct head) + size;
	int		 fd = -1, n, m, rc;

	if (boot_id(boot) == -1) {
		(void)rl_error_set(e, RL_EIO, "%s: cannot read the boot id",
		    BOOT_ID);
		return NULL;
	}
	if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
		(void)rl_error_set(e, RL_EIO, "%s: %s", dir, strerror(errno));
		return NULL;
	}
	/*
	 * Pid and start time: a pid comes back, and the file of a dead
	 * process may still be there (of another database: not ours to
	 * touch).  Made under another name and renamed once locked, so
	 * that a recovery never sees it unlocked.
	 */
	n = snprintf(own_path, sizeof(own_path), "%s/%s.%ld.%lld" SUFFIX,
	    dir, prog, (long)getpid(), (long long)time(NULL));
	m = snprintf(tmp, sizeof(tmp), "%s.new", own_path);
	if (n < 0 || (size_t)n >= sizeof(own_path) || m < 0 ||
	    (size_t)m >= sizeof(tmp)) {
		(void)rl_error_set(e, RL_EIO, "%s: path too long", dir);
		return NULL;
	}
	if ((fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) ==
	    -1 || flock(fd, LOCK_EX | LOCK_NB) == -1)
		goto fail;
	/*
	 * Blocks allocated now: a store into a hole of a full disk would
	 * be a SIGBUS later, on a billed call's path.
	 */
	if ((rc = posix_fallocate(fd, 0, (off_t)len)) != 0) {
		errno = rc;
		goto fail;
	}
	if ((map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
	    0)) == MAP_FAILED)
		goto fail;
	memset(map, 0, len);
	h = map;
	memcpy(h->magic, MAGIC, sizeof(h->magic));
	h->key = key;
	h->size = size;
	memcpy(h->boot, boot, sizeof(h->boot));
	if (rename(tmp, own_path) == -1)
		goto fail;
	own_fd = fd;
	return (char *)map + sizeof(struct head);
fail:
	(void)rl_error_set(e, RL_EIO, "%s: %s", tmp, strerror(errno));
	if (map != MAP_FAILED)
		(void)munmap(map, len);
	if (fd != -1) {
		(void)unlink(tmp);
		(void)close(fd);
	}
	own_path[0] = '\0';
	return NULL;
}

/*
 * Not unmapped, not unlocked: threads still running at exit may look at
 * the table (a closing one: they take nothing from it), and the process's
 * end releases both.
 */
void
rl_sparefile_exit(int drop)
{

	if (own_fd != -1 && drop)
		(void)unlink(own_path);
}

/*
 * One file of dir: handed to fn when its owner is dead and it is of our
 * kind.  1 when handed over and removed, 0 when left, -1 when fn failed
 * (e set).
 */
static int
recover_one(int dfd, const char *name, const char *boot, size_t size,
    uint64_t key, rl_sparefile_fn fn, void *arg, struct rl_error *e)
{
	struct head	 h;
	struct stat	 st;
	char		*buf = NULL;
	size_t		 len = sizeof(h) + size;
	int		 fd, rc = 0;

	if ((fd = openat(dfd, name, O_RDWR | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return 0;
	/* Locked: its process lives (or another start recovers it). */
	if (flock(fd, LOCK_EX | LOCK_NB) == -1 || fstat(fd, &st) == -1 ||
	    !S_ISREG(st.st_mode))
		goto out;
	/* Emptied by a recovery that has not removed it yet. */
	if (st.st_size == 0) {
		(void)unlinkat(dfd, name, 0);
		goto out;
	}
	if ((size_t)st.st_size != len ||
	    pread(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h) ||
	    memcmp(h.magic, MAGIC, sizeof(h.magic)) != 0 || h.key != key ||
	    h.size != size) {
		rl_log_warn("spare holds: %s is of another kind or database, "
		    "left alone", name);
		goto out;
	}
	/* Of an earlier boot: maybe stale, the sweep bills what it lists. */
	if (memcmp(h.boot, boot, sizeof(h.boot)) != 0) {
		rl_log_warn("spare holds: %s was written before this boot: "
		    "removed, the sweep bills its holds", name);
		(void)unlinkat(dfd, name, 0);
		goto out;
	}
	if ((buf = malloc(size)) == NULL ||
	    pread(fd, buf, size, sizeof(h)) != (ssize_t)size) {
		rl_log_warn("spare holds: %s cannot be read", name);
		goto out;
	}
	if (fn(buf, size, arg, e) != RL_OK) {
		rc = -1;
		goto out;
	}
	/*
	 * Emptied before removed: a start that opened it meanwhile and
	 * locks it after us finds nothing to give back twice.
	 */
	(void)ftruncate(fd, 0);
	(void)unlinkat(dfd, name, 0);
	rc = 1;
out:
	free(buf);
	(void)close(fd);
	return rc;
}

/* Does name (len bytes) end in suffix, after at least one byte? */
static int
ends_in(const char *name, size_t len, const char *suffix)
{
	size_t	 n = strlen(suffix);

	return len > n && strcmp(name + len - n, suffix) == 0;
}

/*
 * A file still under its ".new" name: its process was killed between
 * making it and renaming it, and it lists nothing (it is filled only once
 * renamed).  Removed when nobody holds it and it is older than
 * RL_SPAREFILE_ORPHAN_SEC: a process making its own right now holds it
 * within microseconds of creating it, and is not that slow.
 */
static void
orphan_one(int dfd, const char *name)
{
	struct stat	 st;
	int		 fd;

	if ((fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) ==
	    -1)
		return;
	if (flock(fd, LOCK_EX | LOCK_NB) == 0 && fstat(fd, &st) == 0 &&
	    S_ISREG(st.st_mode) &&
	    st.st_mtime < time(NULL) - RL_SPAREFILE_ORPHAN_SEC)
		(void)unlinkat(dfd, name, 0);
	(void)close(fd);
}

enum rl_err
rl_sparefile_recover(const char *dir, size_t size, uint64_t key,
    rl_sparefile_fn fn, void *arg, int *n, struct rl_error *e)
{
	DIR		*d;
	struct dirent	*de;
	char		 boot[BOOT_SIZE];
	size_t		 len;
	enum rl_err	 err = RL_OK;
	int		 rc;

	*n = 0;
	/* Without the boot id nothing can be trusted: the sweep bills. */
	if (boot_id(boot) == -1)
		return rl_error_set(e, RL_EIO, "%s: cannot read the boot id",
		    BOOT_ID);
	if ((d = opendir(dir)) == NULL)
		return errno == ENOENT ? RL_OK : rl_error_set(e, RL_EIO,
		    "%s: %s", dir, strerror(errno));
	while ((de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (ends_in(de->d_name, len, SUFFIX ".new")) {
			orphan_one(dirfd(d), de->d_name);
			continue;
		}
		if (!ends_in(de->d_name, len, SUFFIX))
			continue;
		rc = recover_one(dirfd(d), de->d_name, boot, size, key, fn,
		    arg, e);
		if (rc == 1)
			(*n)++;
		else if (rc == -1) {
			err = e->code;
			break;
		}
	}
	(void)closedir(d);
	return err;
}
