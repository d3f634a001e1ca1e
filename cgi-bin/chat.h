/*
 * chat.h: the chat program's handlers, split over chat.c (EDxo's chat:
 * GET /chat, POST /chat/send, the route table and main), chat_tools.c (the
 * five function tools served from PostgreSQL) and completion.c (the
 * router's POST /completion, GET /agents, GET /models).  Program symbols,
 * not library ones: no rl_ prefix.
 */
#ifndef CHAT_H
#define CHAT_H

#include "relais.h"

struct rl_req;

/* completion.c: the router (seed 004). */
enum rl_err	 chat_completion(struct rl_req *, struct rl_error *);
enum rl_err	 chat_agents(struct rl_req *, struct rl_error *);
enum rl_err	 chat_models(struct rl_req *, struct rl_error *);

/* The completion's own limits live with it, in lib/router.c. */

/* chat.c and chat_tools.c: EDxo's chat. */

/*
 * Tool rounds per message: run the calls, send their outputs back.  EDxo
 * allows one; a question that needs a list and then a plan needs two, and
 * four covers comparisons without letting a looping model spend the
 * user's credits unbounded: the call after the last round is made with
 * tool_choice "none", so it has to answer.
 */
#define CHAT_TOOL_ROUNDS	4
/* Output cap of one call, EDxo's max_output_tokens. */
#define CHAT_MAX_OUTPUT		2048
/* History rows replayed when the thread has no previous response. */
#define CHAT_HISTORY_ROWS	10
/*
 * The longest response id a turn keeps for the next, in bytes (OpenAI's
 * are about 55; the upstream client keeps 95, struct rl_oa_call).
 */
#define CHAT_PREV_ID_MAX	95
/* A chat message, in bytes: a long paste, far below RL_BODY_MAX. */
#define CHAT_MESSAGE_MAX	(64 * 1024)
/* A tool's string argument: course codes and names are short. */
#define CHAT_TOOL_ARG_MAX	256
/* Codes of one get_multiple_plan_cadre call. */
#define CHAT_TOOL_CODES_MAX	50
/* Function calls of one response that are run; the rest get an error. */
#define CHAT_TOOL_CALLS_MAX	8
/* A call's arguments, in bytes, as the model streams them. */
#define CHAT_TOOL_ARGS_MAX	(16 * 1024)
/* The answer text kept for chat_history: a 2048-token answer fits. */
#define CHAT_TEXT_MAX		(256 * 1024)

struct rl_user;

char		*chat_tool_run(const struct rl_user *, const char *,
		    const char *, int *);
struct json_t	*chat_tools(void);

#endif
