/*
 * settings: the settings and account program.  For now it answers the
 * service's health and version; authentication, users and the settings
 * pages join this table with issue #3.
 */
#include "config.h"

#include "conf.h"
#include "db.h"
#include "fcgi.h"
#include "req.h"
#include "resp.h"

/*
 * GET /api/health: no auth, so load balancers and scripts/run can poll it.
 * 503 while the database is down; the next call after PostgreSQL is back
 * reconnects and answers 200.
 */
static enum rl_err
health(struct rl_req *req, struct rl_error *e)
{
	struct rl_error	 dbe;
	int		 up;

	up = rl_db_ping(&dbe) == RL_OK;
	return rl_resp_json_new(req, up ? 200 : 503,
	    json_pack("{s:s, s:s, s:s, s:s}",
	    "status", up ? "ok" : "degraded",
	    "version", RL_VERSION,
	    "database", up ? "ok" : "down",
	    "upstream", rl_conf_upstream_name()));
}

/* GET /version, as EDxo's public route. */
static enum rl_err
version(struct rl_req *req, struct rl_error *e)
{

	return rl_resp_json_new(req, 200, json_pack("{s:s}", "version",
	    RL_VERSION));
}

static const struct rl_route routes[] = {
	{ "GET", "/api/health", health, NULL, 0, 0 },
	{ "GET", "/version", version, NULL, 0, 0 },
};

static const struct rl_program program = {
	"settings", routes, RL_NROUTES(routes), 0, 1, NULL
};

int
main(int argc, char *argv[])
{

	return rl_main(argc, argv, &program);
}
