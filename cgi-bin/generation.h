/*
 * generation.h: the generation program's handlers, split over
 * generation.c (route table, shared helpers), generation_programme.c
 * (logigramme, grille de cours) and generation_plancadre.c (plan-cadre
 * generate, review, apply).  Program symbols, not library ones: no rl_
 * prefix.
 */
#ifndef GENERATION_H
#define GENERATION_H

#include <jansson.h>

#include "relais.h"

struct rl_req;

/* generation_programme.c */
enum rl_err	 gen_logigramme(struct rl_req *, struct rl_error *);
enum rl_err	 gen_links(struct rl_req *, struct rl_error *);
enum rl_err	 gen_grille(struct rl_req *, struct rl_error *);
enum rl_err	 gen_grille_review(struct rl_req *, struct rl_error *);
enum rl_err	 gen_grille_apply(struct rl_req *, struct rl_error *);
enum rl_err	 gen_logigramme_review(struct rl_req *, struct rl_error *);

/* generation_plancadre.c */
enum rl_err	 gen_pc_content(struct rl_req *, struct rl_error *);
enum rl_err	 gen_pc_review(struct rl_req *, struct rl_error *);
enum rl_err	 gen_pc_apply(struct rl_req *, struct rl_error *);
enum rl_err	 gen_pc_api_generate(struct rl_req *, struct rl_error *);
enum rl_err	 gen_pc_api_improve(struct rl_req *, struct rl_error *);
enum rl_err	 gen_pc_api_section(struct rl_req *, struct rl_error *);

/*
 * generation.c: helpers.  The request's fields are req->json, validated
 * by the route's request schema before the handler runs.  A review
 * route tells a browser's navigation (its page) from a script (its JSON)
 * with rl_resp_wants_html and rl_resp_form_navigation (lib/resp.h).
 */
/* 404 unless the user may see programme id / plan-cadre id. */
enum rl_err	 gen_see_programme(struct rl_req *, long long,
		    struct rl_error *);
enum rl_err	 gen_see_plan(struct rl_req *, long long, long long *cours_id,
		    struct rl_error *);
/*
 * The user's model choices of the body (ai_model or model,
 * reasoning_effort, verbosity, additional_info; blank is none) copied
 * into payload, additional_info's byte limit checked, the model resolved
 * for section and prechecked (key, credits).
 */
enum rl_err	 gen_options(struct rl_req *, const char *section,
		    json_t *payload, struct rl_error *);
/* Queue kind with payload; 202 {task_id} when answer is set. */
enum rl_err	 gen_enqueue(struct rl_req *, const char *kind,
		    const json_t *payload, char id[37], struct rl_error *);
/*
 * The task id of the user (or any, for an admin): *row {name, state,
 * payload, result}, RL_ENOTFOUND when there is none.
 */
enum rl_err	 gen_task(struct rl_req *, const char *task_id, json_t **row,
		    struct rl_error *);

#endif
