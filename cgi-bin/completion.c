/*
 * completion.c: the router's /completion, /agents and /models (seed 004).
 * STUB: being written.
 */
#include "config.h"

#include "chat.h"

enum rl_err
chat_completion(struct rl_req *req, struct rl_error *e)
{

	(void)req;
	return rl_error_set(e, RL_EUNAVAIL, "not implemented yet");
}

enum rl_err
chat_agents(struct rl_req *req, struct rl_error *e)
{

	(void)req;
	return rl_error_set(e, RL_EUNAVAIL, "not implemented yet");
}

enum rl_err
chat_models(struct rl_req *req, struct rl_error *e)
{

	(void)req;
	return rl_error_set(e, RL_EUNAVAIL, "not implemented yet");
}
