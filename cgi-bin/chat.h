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

#endif
