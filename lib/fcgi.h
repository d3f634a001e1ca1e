/*
 * fcgi.h: the program runtime.  A program is a name and a route table; its
 * main() is one call to rl_main().  The runtime is the only file that knows
 * about FastCGI (<fcgiapp.h>); the same binary serves plain CGI when it is
 * not started under FastCGI.
 */
#ifndef RL_FCGI_H
#define RL_FCGI_H

#include <stddef.h>

#include "relais.h"
#include "route.h"

struct rl_program {
	const char		*name;		/* for logs and usage */
	const struct rl_route	*routes;
	size_t			 nroutes;
	int			 threads;	/* RELAIS_THREADS wins */
	int			 needs_db;	/* check schema at start-up */
	/* Optional start-up hook, run before the accept loop. */
	enum rl_err		(*init)(struct rl_error *);
};

#define RL_NROUTES(r)	(sizeof(r) / sizeof((r)[0]))

int	rl_main(int, char *[], const struct rl_program *);

#endif
