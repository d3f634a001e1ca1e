/*
 * resp.h: writing an answer.  A response is sent once: status and headers
 * first (CGI "Status:" convention, which FastCGI shares), then the body.
 */
#ifndef RL_RESP_H
#define RL_RESP_H

#include <stddef.h>

#include <jansson.h>

#include "relais.h"

struct rl_req;

enum rl_err	 rl_resp_header(struct rl_req *, const char *, const char *);
/*
 * A browser's navigation: Accept names text/html (fetch() sends * / *).
 * Adds "Vary: Accept" to the answer, which then depends on it.
 */
int		 rl_resp_wants_html(struct rl_req *);
/* The same, for a form a browser posted (urlencoded or multipart). */
int		 rl_resp_form_navigation(struct rl_req *);
enum rl_err	 rl_resp_page(struct rl_req *, const char *,
		    struct rl_error *);
enum rl_err	 rl_resp_send(struct rl_req *, int, const char *,
		    const void *, size_t);
enum rl_err	 rl_resp_json(struct rl_req *, int, const json_t *);
enum rl_err	 rl_resp_json_new(struct rl_req *, int, json_t *);
enum rl_err	 rl_resp_error(struct rl_req *, const struct rl_error *);
/* EDxo's bodies a handler sends itself; statuses from err.c's table. */
enum rl_err	 rl_resp_edxo_error(struct rl_req *, const struct rl_error *,
		    int verifier);
enum rl_err	 rl_resp_legacy_error(struct rl_req *,
		    const struct rl_error *);
enum rl_err	 rl_resp_begin(struct rl_req *, int, const char *);
enum rl_err	 rl_resp_write(struct rl_req *, const void *, size_t);
enum rl_err	 rl_resp_flush(struct rl_req *);
int		 rl_resp_sent(const struct rl_req *);

#endif
