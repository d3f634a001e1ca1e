/*
 * start.h: the process start-up that rl_main (lib/fcgi.c) and the worker's
 * main (lib/worker.c) share once the configuration is loaded.  It sits
 * above the modules it starts (crypto, upstream client, database), so that
 * conf.c, which all of them read, depends on none of them.
 */
#ifndef RL_START_H
#define RL_START_H

int	rl_start(const char *, int);

#endif
