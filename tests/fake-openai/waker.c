/*
 * fake-openai: the waker thread.  The daemon runs a small epoll thread
 * pool, so nothing may sleep in a callback.  A connection that must wait
 * (the delay before a delta, a delayed answer, the "timeout" fault) is
 * suspended and registered here; this thread resumes it when its time
 * comes, or, for held connections, as soon as the client hangs up.
 *
 * A connection is always suspended before it is registered, so the
 * resume can never overtake the suspend.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fake.h"

/* How often held connections are checked for a hang-up. */
#define WATCH_PERIOD_MS		100
/* Resumes done outside the lock per round; the rest wait for the next. */
#define WAKE_BATCH		256

struct wake {
	long long		 due;
	struct MHD_Connection	*conn;
};

struct watch {
	long long		 due;
	struct MHD_Connection	*conn;
	int			 fd;
};

static pthread_mutex_t	 wlock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	 wcond;
static pthread_t	 wthread;
static struct wake	*heap;		/* min-heap on due */
static size_t		 nheap, capheap;
static struct watch	*watches;
static size_t		 nwatch, capwatch;
static int		 wstopping;

long long
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
heap_push(long long due, struct MHD_Connection *conn)
{
	struct wake *nh, t;
	size_t i, p;

	if (nheap == capheap) {
		capheap = capheap ? capheap * 2 : 256;
		if ((nh = realloc(heap, capheap * sizeof(*nh))) == NULL)
			abort();
		heap = nh;
	}
	i = nheap++;
	heap[i].due = due;
	heap[i].conn = conn;
	while (i > 0) {
		p = (i - 1) / 2;
		if (heap[p].due <= heap[i].due)
			break;
		t = heap[p];
		heap[p] = heap[i];
		heap[i] = t;
		i = p;
	}
}

static struct MHD_Connection *
heap_pop(void)
{
	struct MHD_Connection *c;
	struct wake t;
	size_t i, l, m;

	c = heap[0].conn;
	heap[0] = heap[--nheap];
	for (i = 0;; i = m) {
		l = 2 * i + 1;
		m = i;
		if (l < nheap && heap[l].due < heap[m].due)
			m = l;
		if (l + 1 < nheap && heap[l + 1].due < heap[m].due)
			m = l + 1;
		if (m == i)
			break;
		t = heap[m];
		heap[m] = heap[i];
		heap[i] = t;
	}
	return c;
}

/*
 * Resume conn at due (CLOCK_MONOTONIC ms).  With fd >= 0 the connection
 * is also resumed early when the peer closes fd.  Call only after
 * MHD_suspend_connection(conn).
 */
void
waker_add(struct MHD_Connection *conn, long long due, int fd)
{
	struct watch *nw;

	pthread_mutex_lock(&wlock);
	if (wstopping) {
		pthread_mutex_unlock(&wlock);
		MHD_resume_connection(conn);
		return;
	}
	if (fd >= 0) {
		if (nwatch == capwatch) {
			capwatch = capwatch ? capwatch * 2 : 16;
			if ((nw = realloc(watches, capwatch *
			    sizeof(*nw))) == NULL)
				abort();
			watches = nw;
		}
		watches[nwatch].due = due;
		watches[nwatch].conn = conn;
		watches[nwatch].fd = fd;
		nwatch++;
	} else
		heap_push(due, conn);
	pthread_cond_signal(&wcond);
	pthread_mutex_unlock(&wlock);
}

/* Remove watches that are due or whose client left; collect them. */
static size_t
reap_watches(long long now, struct MHD_Connection **out, size_t max)
{
	struct pollfd pfd;
	size_t i, n = 0;

	for (i = 0; i < nwatch && n < max;) {
		pfd.fd = watches[i].fd;
		pfd.events = POLLRDHUP;
		pfd.revents = 0;
		if (watches[i].due <= now || (poll(&pfd, 1, 0) > 0 &&
		    (pfd.revents & (POLLRDHUP | POLLHUP | POLLERR)))) {
			out[n++] = watches[i].conn;
			watches[i] = watches[--nwatch];
		} else
			i++;
	}
	return n;
}

static void *
waker_main(void *arg)
{
	struct MHD_Connection *due[WAKE_BATCH];
	struct timespec ts;
	long long now, next;
	size_t n, i;

	(void)arg;
	pthread_mutex_lock(&wlock);
	while (!wstopping) {
		now = mono_ms();
		n = 0;
		while (nheap > 0 && heap[0].due <= now && n < WAKE_BATCH)
			due[n++] = heap_pop();
		if (nwatch > 0)
			n += reap_watches(now, due + n, WAKE_BATCH - n);
		if (n > 0) {
			/* MHD takes its own locks: never hold ours then. */
			pthread_mutex_unlock(&wlock);
			for (i = 0; i < n; i++)
				MHD_resume_connection(due[i]);
			pthread_mutex_lock(&wlock);
			continue;
		}
		next = nheap > 0 ? heap[0].due : now + 60000;
		if (nwatch > 0 && next > now + WATCH_PERIOD_MS)
			next = now + WATCH_PERIOD_MS;
		/* A watched silence ends on time, not at the next look. */
		for (i = 0; i < nwatch; i++)
			if (watches[i].due < next)
				next = watches[i].due;
		ts.tv_sec = (time_t)(next / 1000);
		ts.tv_nsec = (long)(next % 1000) * 1000000L;
		pthread_cond_timedwait(&wcond, &wlock, &ts);
	}
	pthread_mutex_unlock(&wlock);
	return NULL;
}

int
waker_start(void)
{
	pthread_condattr_t ca;

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&wcond, &ca);
	pthread_condattr_destroy(&ca);
	if ((errno = pthread_create(&wthread, NULL, waker_main, NULL)) != 0) {
		perror("fake-openai: waker thread");
		return -1;
	}
	return 0;
}

/*
 * Resume everything still waiting, and from now on resume at once: MHD
 * refuses to stop while connections are suspended.
 */
void
waker_stop(void)
{
	struct MHD_Connection *c;

	pthread_mutex_lock(&wlock);
	wstopping = 1;
	pthread_cond_signal(&wcond);
	pthread_mutex_unlock(&wlock);
	pthread_join(wthread, NULL);
	pthread_mutex_lock(&wlock);
	while (nheap > 0) {
		c = heap_pop();
		MHD_resume_connection(c);
	}
	while (nwatch > 0)
		MHD_resume_connection(watches[--nwatch].conn);
	free(heap);
	free(watches);
	heap = NULL;
	watches = NULL;
	nheap = capheap = nwatch = capwatch = 0;
	pthread_mutex_unlock(&wlock);
}
