/*
 * route.h: a program is a table of routes.  The runtime looks the request up
 * in it and applies everything the row declares (auth, roles, body limit,
 * body type, schema) before the handler runs, so handlers never repeat it.
 */
#ifndef RL_ROUTE_H
#define RL_ROUTE_H

#include <stddef.h>

#include "relais.h"

struct rl_req;

/* Route flags. */
#define RL_ROUTE_AUTH		0x0001	/* any authenticated user */
#define RL_ROUTE_ADMIN		0x0002	/* role admin (implies AUTH) */
#define RL_ROUTE_COORDO		0x0004	/* admin or coordo (implies AUTH) */
#define RL_ROUTE_STREAM		0x0008	/* answers with SSE */
#define RL_ROUTE_JSON		0x0010	/* accepts an application/json body */
#define RL_ROUTE_FORM		0x0020	/* accepts x-www-form-urlencoded */
#define RL_ROUTE_MULTIPART	0x0040	/* accepts multipart/form-data */
/*
 * Errors in EDxo's own shape, for routes the EDxo front-end calls: body
 * {"error": message, "code": token, "field"?} (the page reads
 * data.error), statuses as Flask gives them (rl_err_status_edxo), and a
 * body failing the route's schema is that 400 rather than FastAPI's 422.
 */
#define RL_ROUTE_EDXO		0x0080
/*
 * EDxo's older views answer failures as {success: false, message} (the
 * pages of save_grid, get_description and generate_all_start read those
 * two): the EDxo statuses and that body, for every error of the route,
 * the runtime's own included.  Implies RL_ROUTE_EDXO.
 */
#define RL_ROUTE_LEGACY		(0x0100 | RL_ROUTE_EDXO)
#define RL_ROUTE_BODY		(RL_ROUTE_JSON | RL_ROUTE_FORM | \
				    RL_ROUTE_MULTIPART)
/*
 * EDxo serves an HTML page on this GET path, relais JSON for fetch()
 * callers.  Beside the application (nginx/application.conf passes
 * RELAIS_BESIDE_APPLICATION), a browser's navigation there (Accept
 * naming text/html) is handed over as a method relais does not serve
 * is: the runtime's 405, which nginx sends to the application.  On its
 * own, relais answers as usual.  Either way the answer varies on Accept.
 */
#define RL_ROUTE_APP_PAGE	0x0200
/*
 * The combinations EDxo's routes use, named once: a signed-in user's
 * call from an EDxo page, and the same with a body, which those pages
 * send as fetch() JSON, a urlencoded form or FormData (multipart) as the
 * view happens to, so all three are accepted.
 */
#define RL_ROUTE_EDXO_AUTH	(RL_ROUTE_AUTH | RL_ROUTE_EDXO)
#define RL_ROUTE_EDXO_BODY	(RL_ROUTE_EDXO_AUTH | RL_ROUTE_BODY)
/*
 * Clients written against OpenAI's API (cgi-bin/completions.c): HTTP
 * Basic (e-mail and password) and a personal API token sent as a Bearer
 * token are accepted too.  Errors in seed 003's {success: false, error}
 * (RL_ROUTE_SUCCESS) or OpenAI's {error: {message, type, param, code}}
 * (RL_ROUTE_OPENAI), with relais' statuses, a refused body a 400.
 */
#define RL_ROUTE_KEYS		0x1000
#define RL_ROUTE_SUCCESS	0x2000
#define RL_ROUTE_OPENAI		0x4000

/* Path parameters a pattern may capture. */
#define RL_ROUTE_MAX_PARAMS	8

/*
 * A handler answers through rl_resp_*() or rl_sse_*() and returns RL_OK, or
 * returns an error without having answered: the runtime then writes the one
 * error body that error maps to.
 */
typedef enum rl_err	(*rl_handler)(struct rl_req *, struct rl_error *);

struct rl_route {
	const char	*method;	/* "GET", "POST", ... */
	const char	*pattern;	/* "/tasks/status/<id>", "<int:id>" */
	rl_handler	 handler;
	const char	*schema;	/* request schema id, or NULL */
	unsigned int	 flags;		/* RL_ROUTE_* */
	size_t		 body_max;	/* 0: RL_BODY_MAX (RL_UPLOAD_MAX for
					   a multipart body) */
};

/* A matched path parameter, borrowed from the path being matched. */
struct rl_param {
	const char	*name;
	size_t		 namelen;
	const char	*val;
	size_t		 len;
};

enum rl_err	 rl_route_match(const struct rl_route *, size_t,
		    const char *method, const char *path,
		    const struct rl_route **, struct rl_param *, size_t *);
int		 rl_route_pattern_valid(const char *);

#endif
