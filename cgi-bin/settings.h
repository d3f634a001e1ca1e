/*
 * settings.h: the settings program's handlers, split over settings.c
 * (accounts, health), settings_pages.c (settings pages, models, usage) and
 * settings_users.c (users, keys, credits), and the few helpers the last two
 * share.  Program symbols, not library ones: no rl_ prefix.
 */
#ifndef SETTINGS_H
#define SETTINGS_H

#include <jansson.h>

#include "relais.h"

struct rl_req;

/* settings_pages.c: settings pages (one table drives them all). */
enum rl_err	 settings_get_page(struct rl_req *, struct rl_error *);
enum rl_err	 settings_post_page(struct rl_req *, struct rl_error *);
enum rl_err	 settings_get_pdc_prompts(struct rl_req *, struct rl_error *);
enum rl_err	 settings_post_pdc_prompt(struct rl_req *, struct rl_error *);
enum rl_err	 settings_test_prompt(struct rl_req *, struct rl_error *);
enum rl_err	 settings_get_ai(struct rl_req *, struct rl_error *);
enum rl_err	 settings_post_ai(struct rl_req *, struct rl_error *);
enum rl_err	 settings_get_ai_group(struct rl_req *, struct rl_error *);
enum rl_err	 settings_post_ai_group(struct rl_req *, struct rl_error *);
enum rl_err	 settings_get_sections(struct rl_req *, struct rl_error *);
enum rl_err	 settings_post_sections(struct rl_req *, struct rl_error *);
enum rl_err	 settings_get_models(struct rl_req *, struct rl_error *);
enum rl_err	 settings_post_model(struct rl_req *, struct rl_error *);
enum rl_err	 settings_delete_model(struct rl_req *, struct rl_error *);
enum rl_err	 settings_get_usage(struct rl_req *, struct rl_error *);

/* settings_providers.c: upstream providers and their models. */
enum rl_err	 settings_get_providers(struct rl_req *, struct rl_error *);
enum rl_err	 settings_post_provider(struct rl_req *, struct rl_error *);
enum rl_err	 settings_edit_provider(struct rl_req *, struct rl_error *);
enum rl_err	 settings_provider_model(struct rl_req *, struct rl_error *);
enum rl_err	 settings_test_provider(struct rl_req *, struct rl_error *);

/* settings_users.c: user administration. */
enum rl_err	 settings_get_users(struct rl_req *, struct rl_error *);
enum rl_err	 settings_post_user(struct rl_req *, struct rl_error *);
enum rl_err	 settings_get_user(struct rl_req *, struct rl_error *);
enum rl_err	 settings_edit_user(struct rl_req *, struct rl_error *);
enum rl_err	 settings_post_credits(struct rl_req *, struct rl_error *);

/* settings_ratelimit.c: each role's request limits. */
enum rl_err	 settings_get_rate_limits(struct rl_req *, struct rl_error *);
enum rl_err	 settings_post_rate_limits(struct rl_req *,
		    struct rl_error *);

/*
 * What a settings value needs beyond its route's request schema
 * (lib/schemas/requests/settings.*.json), which has already checked its
 * type, its enumeration and whether it may be null: only the checks the
 * admin page shows beside the field, and those that read the database.
 */
enum settings_check {
	SC_NONE,	/* the schema's check is all */
	SC_TEXT,	/* a string that is not empty */
	SC_MODEL,	/* a name in openai_models (null where allowed) */
	SC_EMAIL,	/* an '@' after the first character (or null) */
	SC_BLANK_NULL,	/* "" or blanks are null: EDxo's "data or None" */
	SC_MODEL_OR_DEFAULT, /* SC_MODEL, "" is null: "— par défaut —" */
	/*
	 * A str.format() prompt template (lib/tmpl.h), not empty, that
	 * renders with the names in vars: checked when it is saved, so that
	 * one that cannot render is a 400 naming the field and the line
	 * instead of a failed task later.
	 */
	SC_FORMAT
};

struct settings_field {
	const char		*name;
	enum settings_check	 check;
	const char		*contains;	/* what the text must hold */
	const char *const	*vars;		/* SC_FORMAT: its renderer's
						   names, NULL-terminated */
};

/*
 * One editable row kind.  The SQL is fixed per page: get_sql ($1 row id)
 * answers the page's JSON, seed_sql recreates a missing singleton,
 * lock_sql ($1 row id) returns the row as JSON under FOR UPDATE (the "old"
 * of the audit), update_sql ($1 the validated patch as jsonb, $2 row id)
 * merges the patch into the row with jsonb_populate_record and returns the
 * new row as JSON.
 */
struct settings_page {
	const char			*path;		/* route pattern */
	const char			*table;		/* audit table_name */
	const char			*get_sql;
	const char			*seed_sql;
	const char			*lock_sql;
	const char			*update_sql;
	const struct settings_field	*fields;
	size_t				 nfields;
	int				 chat;		/* tool_model follows
							   chat_model */
	const char			*conflict_field; /* unique column */
};

/*
 * An API key an admin may store (a user's OpenAI key, a provider's): the
 * upstream buffer (struct rl_upstream_buf) holds 511 characters.
 */
#define SETTINGS_KEY_MIN	8
#define SETTINGS_KEY_MAX	511

/* Shared helpers (settings_pages.c). */
enum rl_err	 settings_field_error(struct rl_error *, enum rl_err,
		    const char *, const char *, ...)
		    __attribute__((format(printf, 4, 5)));
enum rl_err	 settings_validate(const struct settings_page *, const char *,
		    json_t *, json_t **, struct rl_error *);
enum rl_err	 settings_apply(struct rl_req *, const struct settings_page *,
		    const char *, json_t *, struct rl_error *);
enum rl_err	 settings_audit(struct rl_req *, const char *, const char *,
		    const char *, const json_t *, const json_t *,
		    struct rl_error *);
enum rl_err	 settings_seal_key(const char *, const char *, char **,
		    struct rl_error *);
int		 settings_decimal(const json_t *, int, int, char *, size_t);
const char	*settings_id_string(struct rl_req *, long long);

#endif
