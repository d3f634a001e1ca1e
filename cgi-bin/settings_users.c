/*
 * settings_users.c: user administration for admins: accounts and roles,
 * each user's OpenAI key (sealed with the master key, shown only masked)
 * and the prepaid credits, every change audited.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "auth.h"
#include "credits.h"
#include "crypto.h"
#include "db.h"
#include "models.h"
#include "req.h"
#include "resp.h"
#include "settings.h"

/*
 * What an admin sees of a user.  The sealed key travels as hex to be
 * replaced by its mask in C (mask()): only this program holds the master
 * key that opens it.
 */
#define USER_JSON							\
	"json_build_object('id', id, 'username', username, 'email', "	\
	    "email, 'nom', nom, 'prenom', prenom, 'role', role, "	\
	    "'credits', to_char(credits, 'FM999999999990.00'), "	\
	    "'openai_key_enc', encode(openai_key_enc, 'hex'))"

/* Request schema settings.edit_user: what the form may change. */
static const struct settings_field edit_fields[] = {
	{ "role", SC_NONE, NULL, NULL },
	{ "email", SC_EMAIL, NULL, NULL },
	{ "nom", SC_NONE, NULL, NULL },
	{ "prenom", SC_NONE, NULL, NULL },
	{ "openai_key", SC_NONE, NULL, NULL },
	{ "password", SC_TEXT, NULL, NULL },
};

static const struct settings_page edit_page = {
	"/edit_user/<int:id>", "users", NULL, NULL,
	"SELECT to_jsonb(r) FROM users r WHERE id = $1 FOR UPDATE",
	"UPDATE users r SET (role, email, nom, prenom) = (SELECT n.role, "
	"n.email, n.nom, n.prenom FROM jsonb_populate_record(r, $1::jsonb) n) "
	"WHERE r.id = $2 RETURNING to_jsonb(r)",
	edit_fields, sizeof(edit_fields) / sizeof(edit_fields[0]), 0,
	"email"
};

/* Request schema settings.manage_users: username and password given. */
static const struct settings_field create_fields[] = {
	{ "username", SC_TEXT, NULL, NULL },
	{ "password", SC_TEXT, NULL, NULL },
	{ "email", SC_EMAIL, NULL, NULL },
	{ "role", SC_NONE, NULL, NULL },
	{ "nom", SC_NONE, NULL, NULL },
	{ "prenom", SC_NONE, NULL, NULL },
};

/* Validation only: creation is one INSERT below. */
static const struct settings_page create_page = {
	"/manage_users", "users", NULL, NULL, NULL, NULL, create_fields,
	sizeof(create_fields) / sizeof(create_fields[0]), 0, NULL
};

/*
 * Replace openai_key_enc by openai_key: "sk-…" and the key's last four
 * characters, enough to tell keys apart and nothing to use.  A box the
 * master key cannot open (the key file was replaced) shows as "sk-…????"
 * rather than as no key at all.
 */
static enum rl_err
mask(json_t *u, struct rl_error *e)
{
	const char	*hex;
	char		*plain = NULL, shown[32];
	size_t		 len = 0;
	struct rl_error	 oe;

	if ((hex = json_string_value(json_object_get(u, "openai_key_enc"))) ==
	    NULL) {
		(void)json_object_del(u, "openai_key_enc");
		return json_object_set_new(u, "openai_key", json_null()) == -1 ?
		    rl_error_set(e, RL_ENOMEM, NULL) : RL_OK;
	}
	if (rl_secretbox_open_hex(hex, &plain, &len, &oe) == RL_OK &&
	    len >= 4)
		(void)snprintf(shown, sizeof(shown), "sk-\xe2\x80\xa6%s",
		    plain + len - 4);
	else
		(void)snprintf(shown, sizeof(shown), "sk-\xe2\x80\xa6????");
	if (plain != NULL) {
		rl_wipe(plain, len);
		free(plain);
	}
	(void)json_object_del(u, "openai_key_enc");
	return json_object_set_new(u, "openai_key", json_string(shown)) ==
	    -1 ? rl_error_set(e, RL_ENOMEM, NULL) : RL_OK;
}

/* One user as admins see it, or RL_ENOTFOUND. */
static enum rl_err
user_get(const char *id, json_t **out, struct rl_error *e)
{
	const char	*p[1];
	enum rl_err	 err;

	p[0] = id;
	if ((err = rl_db_json("SELECT " USER_JSON " FROM users WHERE id = $1",
	    1, p, out, e)) != RL_OK)
		return err;
	if (json_is_null(*out)) {
		json_decref(*out);
		*out = NULL;
		return rl_error_set(e, RL_ENOTFOUND, "no user %s", id);
	}
	if ((err = mask(*out, e)) != RL_OK) {
		json_decref(*out);
		*out = NULL;
	}
	return err;
}

static enum rl_err
user_answer(struct rl_req *req, int status, const char *id,
    struct rl_error *e)
{
	json_t		*u;
	enum rl_err	 err;

	if ((err = user_get(id, &u, e)) != RL_OK)
		return err;
	return rl_resp_json_new(req, status, u);
}

/* GET /manage_users */
enum rl_err
settings_get_users(struct rl_req *req, struct rl_error *e)
{
	json_t		*v, *list, *u;
	size_t		 i;
	enum rl_err	 err;

	if ((err = rl_db_json("SELECT json_build_object('users', "
	    "coalesce(json_agg(" USER_JSON " ORDER BY id), '[]')) FROM users",
	    0, NULL, &v, e)) != RL_OK)
		return err;
	list = json_object_get(v, "users");
	json_array_foreach(list, i, u)
		if ((err = mask(u, e)) != RL_OK) {
			json_decref(v);
			return err;
		}
	return rl_resp_json_new(req, 200, v);
}

/* The account fields of a validated patch; absent and null are NULL. */
static void
account_fields(json_t *patch, struct rl_account_fields *f)
{

	f->username = json_string_value(json_object_get(patch, "username"));
	f->email = json_string_value(json_object_get(patch, "email"));
	f->nom = json_string_value(json_object_get(patch, "nom"));
	f->prenom = json_string_value(json_object_get(patch, "prenom"));
	f->password = json_string_value(json_object_get(patch, "password"));
}

/*
 * POST /manage_users {username, email?, password, role?} (201), request
 * schema settings.manage_users.
 */
enum rl_err
settings_post_user(struct rl_req *req, struct rl_error *e)
{
	struct rl_account_fields	 f;
	struct rl_dbres			*r = NULL;
	const char			*p[6], *id;
	char				 hash[RL_PWHASH_MAX];
	json_t				*patch = NULL, *u = NULL;
	enum rl_err			 err;

	if ((err = settings_validate(&create_page, "", req->json, &patch,
	    e)) != RL_OK)
		return err;
	/* Before the uniqueness query and argon2id: a 1 MB password is
	 * refused here, not hashed. */
	account_fields(patch, &f);
	if ((err = rl_auth_check_account_fields(&f, RL_ACCOUNT_STORE, e)) !=
	    RL_OK)
		goto out;
	p[0] = f.username;
	p[1] = f.email;
	if ((err = rl_db_exec("SELECT CASE WHEN username = $1 THEN "
	    "'username' ELSE 'email' END FROM users WHERE username = $1 OR "
	    "lower(email) = lower($2) LIMIT 1", 2, p, &r, e)) != RL_OK)
		goto out;
	if (rl_dbres_rows(r) > 0) {
		err = settings_field_error(e, RL_ECONFLICT,
		    rl_dbres_get(r, 0, 0), "%s is already in use",
		    rl_dbres_get(r, 0, 0));
		goto out;
	}
	rl_dbres_free(r);
	r = NULL;
	if ((err = rl_password_hash(f.password, hash, e)) != RL_OK)
		goto out;
	p[2] = hash;
	p[3] = json_string_value(json_object_get(patch, "role"));
	p[4] = json_string_value(json_object_get(patch, "nom"));
	p[5] = json_string_value(json_object_get(patch, "prenom"));
	if ((err = rl_db_begin(e)) != RL_OK)
		goto out;
	if ((err = rl_db_exec("INSERT INTO users (username, email, "
	    "password_hash, role, nom, prenom) VALUES ($1, $2, $3, "
	    "coalesce($4, 'invite'), $5, $6) ON CONFLICT DO NOTHING "
	    "RETURNING id", 6, p, &r, e)) != RL_OK)
		goto fail;
	if (rl_dbres_rows(r) == 0) {
		err = settings_field_error(e, RL_ECONFLICT, "username",
		    "username or email is already in use");
		goto fail;
	}
	if ((id = rl_arena_strdup(req->arena, rl_dbres_get(r, 0, 0))) ==
	    NULL) {
		err = rl_error_set(e, RL_ENOMEM, NULL);
		goto fail;
	}
	if ((err = user_get(id, &u, e)) != RL_OK ||
	    (err = settings_audit(req, "users", id, NULL, NULL, u, e)) !=
	    RL_OK || (err = rl_db_commit(e)) != RL_OK)
		goto fail;
	err = rl_resp_json_new(req, 201, u);
	u = NULL;
	goto out;
fail:
	rl_db_rollback();
out:
	rl_wipe(hash, sizeof(hash));
	rl_dbres_free(r);
	json_decref(u);
	json_decref(patch);
	return err;
}

static enum rl_err
path_id(struct rl_req *req, const char **id, struct rl_error *e)
{
	long long	 n;
	enum rl_err	 err;

	if ((err = rl_req_param_int(req, "id", &n, e)) != RL_OK)
		return err;
	if ((*id = settings_id_string(req, n)) == NULL)
		return rl_error_set(e, RL_ENOMEM, NULL);
	return RL_OK;
}

/* GET /edit_user/<int:id> */
enum rl_err
settings_get_user(struct rl_req *req, struct rl_error *e)
{
	const char	*id;
	enum rl_err	 err;

	if ((err = path_id(req, &id, e)) != RL_OK)
		return err;
	return user_answer(req, 200, id, e);
}

/*
 * The key itself never reaches the audit log: only whether one was there
 * before and whether it is now set or cleared.
 */
static enum rl_err
store_key(struct rl_req *req, const char *id, const char *hex,
    struct rl_error *e)
{
	struct rl_dbres	*r;
	const char	*p[2];
	json_t		*o, *n;
	int		 had;
	enum rl_err	 err;

	p[0] = id;
	if ((err = rl_db_exec("SELECT openai_key_enc IS NOT NULL FROM users "
	    "WHERE id = $1", 1, p, &r, e)) != RL_OK)
		return err;
	had = rl_dbres_rows(r) > 0 && strcmp(rl_dbres_get(r, 0, 0), "t") == 0;
	rl_dbres_free(r);
	p[0] = hex;
	p[1] = id;
	if ((err = rl_db_exec("UPDATE users SET openai_key_enc = "
	    "decode($1, 'hex') WHERE id = $2", 2, p, NULL, e)) != RL_OK)
		return err;
	o = had ? json_string("set") : json_null();
	n = json_string(hex != NULL ? "set" : "cleared");
	err = settings_audit(req, "users", id, "openai_key", o, n, e);
	json_decref(o);
	json_decref(n);
	return err;
}

/*
 * A new password set by an administrator: the way out for an account
 * whose stored hash no verifier reads (an imported EDxo hash of a format
 * werkzeug itself dropped, or the importer's "!" marker).  The audit row
 * says it changed, never what it is.
 */
static enum rl_err
store_password(struct rl_req *req, const char *id, const char *hash,
    struct rl_error *e)
{
	const char	*p[2];
	json_t		*n;
	enum rl_err	 err;

	p[0] = hash;
	p[1] = id;
	if ((err = rl_db_exec("UPDATE users SET password_hash = $1 WHERE "
	    "id = $2", 2, p, NULL, e)) != RL_OK)
		return err;
	n = json_string("set");
	err = settings_audit(req, "users", id, "password", NULL, n, e);
	json_decref(n);
	return err;
}

/*
 * POST /edit_user/<int:id> {role?, email?, nom?, prenom?, openai_key?,
 * password?}, request schema settings.edit_user.
 */
enum rl_err
settings_edit_user(struct rl_req *req, struct rl_error *e)
{
	struct rl_account_fields	 f;
	const char			*id, *key = NULL;
	char				*hex = NULL;
	char				 hash[RL_PWHASH_MAX];
	json_t				*patch = NULL, *k;
	int				 setkey = 0, setpw = 0;
	enum rl_err			 err;

	hash[0] = '\0';
	if ((err = path_id(req, &id, e)) != RL_OK ||
	    (err = settings_validate(&edit_page, "", req->json, &patch, e)) !=
	    RL_OK)
		return err;
	account_fields(patch, &f);
	if ((err = rl_auth_check_account_fields(&f, RL_ACCOUNT_STORE, e)) !=
	    RL_OK)
		goto out;
	if (f.password != NULL) {
		if ((err = rl_password_hash(f.password, hash, e)) != RL_OK)
			goto out;
		setpw = 1;
		(void)json_object_del(patch, "password");
	}
	if ((k = json_object_get(patch, "openai_key")) != NULL) {
		setkey = 1;
		key = json_string_value(k);
		if (key != NULL && *key != '\0' &&
		    (err = settings_seal_key("openai_key", key, &hex, e)) !=
		    RL_OK)
			goto out;
		(void)json_object_del(patch, "openai_key");
	}
	if ((err = rl_db_begin(e)) != RL_OK)
		goto out;
	if ((err = settings_apply(req, &edit_page, id, patch, e)) != RL_OK ||
	    (setkey && (err = store_key(req, id, hex, e)) != RL_OK) ||
	    (setpw && (err = store_password(req, id, hash, e)) != RL_OK) ||
	    (err = rl_db_commit(e)) != RL_OK) {
		rl_db_rollback();
		goto out;
	}
	err = user_answer(req, 200, id, e);
out:
	rl_wipe(hash, sizeof(hash));
	free(hex);
	json_decref(patch);
	return err;
}

/* At least 0.01, read from the digits: no float ever holds money. */
static int
at_least_a_cent(const char *s)
{
	const char	*dot;

	for (; *s != '\0' && *s != '.'; s++)
		if (*s != '0')
			return 1;
	if ((dot = strchr(s, '.')) == NULL)
		return 0;
	return (dot[1] != '\0' && dot[1] != '0') ||
	    (dot[1] != '\0' && dot[2] != '\0' && dot[2] != '0');
}

/*
 * POST /edit_user/<int:id>/credits {amount: "5.00", operation}; request
 * schema settings.credits: both given, operation add or remove.
 */
enum rl_err
settings_post_credits(struct rl_req *req, struct rl_error *e)
{
	const char	*id, *op;
	char		 amount[40], buf[32];
	json_t		*o = NULL, *n = NULL;
	long long	 delta, before, after;
	enum rl_err	 err;

	if ((err = path_id(req, &id, e)) != RL_OK)
		return err;
	op = json_string_value(json_object_get(req->json, "operation"));
	/* numeric(14,6): eight digits before the point, six after. */
	if (settings_decimal(json_object_get(req->json, "amount"), 8, 6,
	    amount, sizeof(amount)) == -1 ||
	    !at_least_a_cent(amount) || rl_micro_parse(amount, &delta) == -1)
		return settings_field_error(e, RL_EINVAL, "amount",
		    "amount: want a decimal of at least 0.01 USD");
	if (op != NULL && strcmp(op, "remove") == 0)
		delta = -delta;

	/* credits.c moves the money; the audit row commits with it. */
	if ((err = rl_db_begin(e)) != RL_OK)
		return err;
	if ((err = rl_credits_adjust(strtoll(id, NULL, 10), delta,
	    req->user->id, req->id, &before, &after, e)) != RL_OK) {
		if (err == RL_ECREDITS)
			err = settings_field_error(e, RL_ECONFLICT, "amount",
			    "Solde insuffisant : le solde ne peut pas devenir "
			    "négatif.");
		goto fail;
	}
	if ((o = json_string(rl_micro_fmt(before, buf, sizeof(buf)))) ==
	    NULL || (n = json_string(rl_micro_fmt(after, buf,
	    sizeof(buf)))) == NULL) {
		err = rl_error_set(e, RL_ENOMEM, NULL);
		goto fail;
	}
	if ((err = settings_audit(req, "users", id, "credits", o, n, e)) !=
	    RL_OK || (err = rl_db_commit(e)) != RL_OK)
		goto fail;
	err = user_answer(req, 200, id, e);
	goto out;
fail:
	rl_db_rollback();
out:
	json_decref(o);
	json_decref(n);
	return err;
}
