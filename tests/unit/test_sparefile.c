/*
 * test_sparefile.c: the file that keeps a process's standing holds
 * (lib/sparefile.c).  A file is handed to a recovery only once its
 * owner is dead (a child killed with SIGKILL here), with what the owner
 * stored before it died; never while the owner lives, never when its key
 * or size is not the caller's, and it is gone once recovered.
 */
#include "config.h"

#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bounds.h"
#include "harness.h"
#include "sparefile.h"

#define SIZE	64
#define KEY	0x5eedULL

static char	 dir[] = "/tmp/test_sparefile.XXXXXX";
static char	 seen[SIZE];
static int	 calls;
static int	 refuse;	/* the callback fails */

static enum rl_err
take(const void *map, size_t size, void *arg, struct rl_error *e)
{

	(void)arg;
	calls++;
	if (size == SIZE)
		memcpy(seen, map, SIZE);
	if (refuse)
		return rl_error_set(e, RL_EDBDOWN, "database away");
	return RL_OK;
}

/* The files of dir whose name ends in suffix. */
static int
files(const char *suffix)
{
	DIR		*d;
	struct dirent	*de;
	size_t		 n = strlen(suffix), len;
	int		 c = 0;

	if ((d = opendir(dir)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (len > n && strcmp(de->d_name + len - n, suffix) == 0)
			c++;
	}
	(void)closedir(d);
	return c;
}

/*
 * A child that makes its file with key, stores text in it, says so on
 * the pipe and waits to be killed: its pid, or -1.
 */
static pid_t
owner(uint64_t key, const char *text)
{
	struct rl_error	 e;
	char		*map, c;
	int		 fd[2];
	pid_t		 pid;

	if (pipe(fd) == -1 || (pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		close(fd[0]);
		if ((map = rl_sparefile_open(dir, "t", SIZE, key, &e)) ==
		    NULL)
			_exit(1);
		memcpy(map, text, strlen(text) + 1);
		(void)write(fd[1], "x", 1);
		for (;;)
			pause();
	}
	close(fd[1]);
	if (read(fd[0], &c, 1) != 1) {
		close(fd[0]);
		return -1;
	}
	close(fd[0]);
	return pid;
}

static void
kill_owner(pid_t pid)
{

	(void)kill(pid, SIGKILL);
	(void)waitpid(pid, NULL, 0);
}

static int
recover(uint64_t key, size_t size)
{
	struct rl_error	 e;
	int		 n = -1;

	rl_error_clear(&e);
	calls = 0;
	memset(seen, 0, sizeof(seen));
	if (rl_sparefile_recover(dir, size, key, take, NULL, &n, &e) !=
	    RL_OK && !refuse)
		diag("recover: %s", e.msg);
	return n;
}

int
main(void)
{
	struct rl_error	 e;
	DIR		*d;
	struct dirent	*de;
	struct timespec	 old, times[2];
	char		 path[sizeof(dir) + 256];
	pid_t		 pid;
	int		 fd, held;

	if (mkdtemp(dir) == NULL) {
		ok(0, "mkdtemp");
		return done();
	}
	ok(recover(KEY, SIZE) == 0 && calls == 0, "an empty directory");

	ok((pid = owner(KEY, "hold 42")) > 0, "an owner made its file");
	ok(files(".spares") == 1 && files(".new") == 0,
	    "one file, under its final name");
	ok(recover(KEY, SIZE) == 0 && calls == 0,
	    "not handed over while its owner lives");
	kill_owner(pid);
	ok(recover(KEY, SIZE) == 1 && calls == 1 &&
	    strcmp(seen, "hold 42") == 0,
	    "handed over once its owner is dead, with what it stored");
	ok(files(".spares") == 0, "and removed");

	ok((pid = owner(KEY, "hold 43")) > 0, "another owner");
	kill_owner(pid);
	ok(recover(KEY + 1, SIZE) == 0 && calls == 0,
	    "a file of another key is not handed over");
	ok(recover(KEY, SIZE + 8) == 0 && calls == 0,
	    "nor one of another size");
	ok(files(".spares") == 1, "and stays");
	refuse = 1;
	ok(recover(KEY, SIZE) == 0 && calls == 1,
	    "a recovery that fails ...");
	ok(files(".spares") == 1, "... leaves the file for the next start");
	refuse = 0;
	ok(recover(KEY, SIZE) == 1 && strcmp(seen, "hold 43") == 0 &&
	    files(".spares") == 0, "which hands it over");

	/*
	 * A file of an earlier boot (a power cut, a kernel crash): what
	 * was written back may be stale, so it is never handed over.  The
	 * boot id is the head's fourth field, at byte 24.
	 */
	ok((pid = owner(KEY, "hold 44")) > 0, "an owner of an earlier boot");
	kill_owner(pid);
	(void)snprintf(path, sizeof(path), "%s", dir);
	if ((d = opendir(dir)) != NULL) {
		while ((de = readdir(d)) != NULL)
			if (strstr(de->d_name, ".spares") != NULL)
				(void)snprintf(path, sizeof(path), "%s/%s",
				    dir, de->d_name);
		(void)closedir(d);
	}
	fd = open(path, O_WRONLY);
	ok(fd != -1 && pwrite(fd, "00000000", 8, 24) == 8 && close(fd) == 0,
	    "its boot id changed");
	ok(recover(KEY, SIZE) == 0 && calls == 0 && files(".spares") == 0,
	    "is not handed over, and removed");

	/* This process's own file is locked by this process. */
	ok(rl_sparefile_open(dir, "self", SIZE, KEY, &e) != NULL,
	    "this process's own file");
	ok(recover(KEY, SIZE) == 0 && calls == 0 && files(".spares") == 1,
	    "is not handed over to this process either");
	rl_sparefile_exit(1);
	ok(files(".spares") == 0, "a clean exit that gave all back removes it");

	/* An emptied file nobody holds: a recovery that did not finish. */
	(void)snprintf(path, sizeof(path), "%s/t.1.2.spares", dir);
	fd = open(path, O_WRONLY | O_CREAT, 0600);
	ok(fd != -1 && close(fd) == 0, "an empty file");
	ok(recover(KEY, SIZE) == 0 && calls == 0 && files(".spares") == 0,
	    "is removed, not handed over");

	/*
	 * Files left under their ".new" name (a process killed between
	 * making its file and renaming it): an old one nobody holds goes;
	 * a young one (a process making its own now) or one held stays.
	 */
	old.tv_sec = time(NULL) - RL_SPAREFILE_ORPHAN_SEC - 5;
	old.tv_nsec = 0;
	times[0] = times[1] = old;
	(void)snprintf(path, sizeof(path), "%s/t.1.3.spares.new", dir);
	fd = open(path, O_WRONLY | O_CREAT, 0600);
	ok(fd != -1 && futimens(fd, times) == 0 && close(fd) == 0,
	    "an old .new file nobody holds");
	(void)snprintf(path, sizeof(path), "%s/t.1.4.spares.new", dir);
	fd = open(path, O_WRONLY | O_CREAT, 0600);
	ok(fd != -1 && close(fd) == 0, "a young one");
	(void)snprintf(path, sizeof(path), "%s/t.1.5.spares.new", dir);
	held = open(path, O_WRONLY | O_CREAT, 0600);
	ok(held != -1 && futimens(held, times) == 0 &&
	    flock(held, LOCK_EX | LOCK_NB) == 0, "an old one held");
	ok(recover(KEY, SIZE) == 0 && calls == 0 &&
	    files(".spares.new") == 2, "the old one nobody holds is removed");
	(void)snprintf(path, sizeof(path), "%s/t.1.3.spares.new", dir);
	ok(access(path, F_OK) == -1, "that one");
	(void)close(held);
	(void)snprintf(path, sizeof(path), "%s/t.1.4.spares.new", dir);
	(void)unlink(path);
	(void)snprintf(path, sizeof(path), "%s/t.1.5.spares.new", dir);
	(void)unlink(path);
	(void)rmdir(dir);
	return done();
}
