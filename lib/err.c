/*
 * err.c: the error table.  Each rl_err has one stable token, one HTTP status
 * and one default text; resp.c reads this table and nothing else decides a
 * status for an error.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "relais.h"

/*
 * edxo is the status an EDxo route (RL_ROUTE_EDXO) answers instead, where
 * Flask's differs from ours: a bad body is 400 (no FastAPI 422 there) and
 * "Crédits insuffisants" is 403 (EDxo has no 402); 0 means the same.
 * verifier and vtext are how EDxo's plan-de-cours verifier
 * (update_verifier_plan_cours) answers instead: its Flask view refuses
 * credits with 400 and words both refusals its own way; 0 and NULL mean
 * the EDxo route's status and the error's own message.  fr is what a
 * French page shows a user for the error (a failed task's result.message,
 * which EDxo's task client prints); NULL: the generic internal text.
 */
static const struct {
	const char	*token;
	int		 status;
	const char	*text;
	int		 edxo;
	int		 verifier;
	const char	*vtext;
	const char	*fr;
} errs[RL_ERR__MAX] = {
	[RL_OK] = { "ok", 200, "success", 0, 0, NULL, "Terminé." },
	[RL_ENOMEM] = { "out_of_memory", 500, "out of memory", 0, 0, NULL,
	    "Le serveur manque de mémoire ; réessayez plus tard." },
	[RL_EINVAL] = { "bad_request", 400, "malformed request", 0, 0, NULL,
	    "Requête invalide." },
	[RL_EJSON] = { "invalid_json", 400, "request body is not valid JSON", 0,
	    0, NULL, "Le corps de la requête n'est pas du JSON valide." },
	[RL_EFORM] = { "invalid_form", 400, "malformed form data", 0, 0, NULL,
	    "Formulaire invalide." },
	[RL_EAUTH] = { "unauthorized", 401, "authentication required", 0, 0,
	    NULL, "Authentification requise." },
	[RL_EFORBIDDEN] = { "forbidden", 403, "not allowed", 0, 0, NULL,
	    "Action non autorisée." },
	[RL_ECSRF] = { "csrf_failed", 403, "CSRF token missing or wrong", 0, 0,
	    NULL, "Jeton CSRF manquant ou invalide." },
	[RL_ENOTFOUND] = { "not_found", 404, "not found", 0, 0, NULL,
	    "Élément introuvable." },
	[RL_EMETHOD] = { "method_not_allowed", 405, "method not allowed", 0, 0,
	    NULL, "Méthode non permise." },
	[RL_ECONFLICT] = { "conflict", 409, "conflict", 0, 0, NULL,
	    "L'élément a changé entre-temps." },
	[RL_ETOOBIG] = { "payload_too_large", 413, "payload too large", 0, 0,
	    NULL, "Contenu trop volumineux." },
	[RL_EMEDIA] = { "unsupported_media_type", 415,
	    "unsupported content type", 0, 0, NULL,
	    "Type de contenu non pris en charge." },
	[RL_EVALIDATION] = { "validation_error", 422, "validation failed", 400,
	    0, NULL, "Données invalides." },
	[RL_ERATELIMIT] = { "rate_limited", 429, "too many requests", 0, 0,
	    NULL, "Trop de requêtes ; réessayez dans un instant." },
	[RL_ECREDITS] = { "insufficient_credits", 402, "insufficient credits",
	    403, 400, "Crédits insuffisants pour cet appel.",
	    "Crédits insuffisants pour cet appel." },
	[RL_ENOKEY] = { "no_api_key", 400, "no API key configured", 0, 0,
	    "Aucune clé OpenAI dans votre profil.",
	    "Aucune clé OpenAI dans votre profil." },
	[RL_EDBDOWN] = { "db_unavailable", 503, "database unavailable", 0, 0,
	    NULL, "Base de données indisponible ; réessayez plus tard." },
	[RL_EDB] = { "db_error", 500, "database error", 0, 0, NULL,
	    "Erreur de base de données." },
	[RL_EUPSTREAM] = { "upstream_error", 502, "upstream error", 0, 0, NULL,
	    "Le service d'IA a renvoyé une erreur." },
	[RL_ETIMEOUT] = { "timeout", 504, "timed out", 0, 0, NULL,
	    "Le service d'IA n'a pas répondu à temps." },
	[RL_EUNAVAIL] = { "unavailable", 503, "temporarily unavailable", 0, 0,
	    NULL,
	    "Service temporairement indisponible ; réessayez plus tard." },
	[RL_EIO] = { "io_error", 500, "input/output error", 0, 0, NULL,
	    "Erreur d'entrée-sortie sur le serveur." },
	[RL_EGONE] = { "client_gone", 499, "client closed the connection", 0, 0,
	    NULL, "La connexion a été fermée." },
	[RL_EINTERNAL] = { "internal_error", 500, "internal error", 0, 0, NULL,
	    "Erreur interne." },
};

static int
valid(enum rl_err e)
{

	return (int)e >= 0 && e < RL_ERR__MAX;
}

const char *
rl_strerror(enum rl_err e)
{

	return valid(e) ? errs[e].text : "unknown error";
}

/* The French text for a user (never a fault's detail). */
const char *
rl_err_text_fr(enum rl_err e)
{

	return valid(e) && errs[e].fr != NULL ? errs[e].fr : "Erreur interne.";
}

const char *
rl_err_token(enum rl_err e)
{

	return valid(e) ? errs[e].token : "internal_error";
}

int
rl_err_status(enum rl_err e)
{

	return valid(e) ? errs[e].status : 500;
}

int
rl_err_status_edxo(enum rl_err e)
{

	return valid(e) && errs[e].edxo != 0 ? errs[e].edxo : rl_err_status(e);
}

/*
 * The status on a route for API clients (seed 003, OpenAI's /v1): a
 * refused body is 400 as OpenAI answers it, everything else as ours.
 */
int
rl_err_status_api(enum rl_err e)
{

	return e == RL_EVALIDATION ? 400 : rl_err_status(e);
}

/*
 * OpenAI's error "type" for an error, which its SDKs show; the status
 * (rl_err_status_api) is what they raise their typed errors by.
 */
const char *
rl_err_type_openai(enum rl_err e)
{

	switch (rl_err_status_api(e)) {
	case 401:
		return "authentication_error";
	case 402:
		return "insufficient_quota";
	case 403:
		return "permission_error";
	case 404:
		return "not_found_error";
	case 429:
		return "rate_limit_error";
	default:
		return rl_err_status_api(e) < 500 ? "invalid_request_error" :
		    "api_error";
	}
}

/* The verifier's status, and in *text its wording (NULL: the message). */
int
rl_err_status_verifier(enum rl_err e, const char **text)
{

	*text = valid(e) ? errs[e].vtext : NULL;
	return valid(e) && errs[e].verifier != 0 ? errs[e].verifier :
	    rl_err_status_edxo(e);
}

/* The inverse, for statuses an upstream or a test hands us. */
enum rl_err
rl_err_from_status(int status)
{
	int	 i;

	for (i = 1; i < RL_ERR__MAX; i++)
		if (errs[i].status == status)
			return (enum rl_err)i;
	return status >= 500 ? RL_EINTERNAL : RL_EINVAL;
}

/*
 * Cut s after its last complete UTF-8 character: vsnprintf truncates at a
 * byte count, and half a character would make the JSON error body
 * impossible to encode.
 */
static void
utf8_trim(char *s)
{
	size_t	 n = strlen(s), i, need;

	for (i = n; i > 0 && n - i < 4; i--) {
		unsigned char c = (unsigned char)s[i - 1];

		if ((c & 0xc0) == 0x80)
			continue;
		need = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 :
		    c >= 0xc0 ? 2 : 1;
		if (n - (i - 1) < need)
			s[i - 1] = '\0';
		return;
	}
}

/*
 * The message is formatted into a local buffer first: callers may pass
 * e->msg (or e->where) itself as an argument, "prefix: %s" around an
 * error a callee set, and vsnprintf into the buffer it reads is undefined
 * (it showed an earlier request's text in a DOCX refusal).
 */
enum rl_err
rl_error_setv(struct rl_error *e, enum rl_err code, const char *fmt,
    va_list ap)
{
	char	 msg[RL_ERRMSG_MAX];

	if (e == NULL)
		return code;
	if (fmt == NULL)
		(void)snprintf(msg, sizeof(msg), "%s", rl_strerror(code));
	else
		(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	utf8_trim(msg);
	e->code = code;
	e->where[0] = '\0';
	e->sqlstate[0] = '\0';
	memcpy(e->msg, msg, sizeof(msg));
	return code;
}

/* Fill e (when not NULL) and return code, so callers can write
 * "return rl_error_set(e, RL_EINVAL, ...)". */
enum rl_err
rl_error_set(struct rl_error *e, enum rl_err code, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	code = rl_error_setv(e, code, fmt, ap);
	va_end(ap);
	return code;
}

/*
 * An error about one field of a request: the field goes to where (the
 * "field" of the error body) and the message is formatted as usual.
 */
enum rl_err
rl_error_field(struct rl_error *e, enum rl_err code, const char *where,
    const char *fmt, ...)
{
	va_list	 ap;
	char	 w[sizeof(e->where)];

	/* where may be e->where, which rl_error_setv clears. */
	(void)snprintf(w, sizeof(w), "%s", where);
	va_start(ap, fmt);
	code = rl_error_setv(e, code, fmt, ap);
	va_end(ap);
	rl_error_where(e, w);
	return code;
}

void
rl_error_where(struct rl_error *e, const char *where)
{

	char	 w[sizeof(e->where)];

	if (e == NULL)
		return;
	(void)snprintf(w, sizeof(w), "%s", where);
	utf8_trim(w);
	memcpy(e->where, w, sizeof(w));
}

void
rl_error_clear(struct rl_error *e)
{

	if (e == NULL)
		return;
	e->code = RL_OK;
	e->msg[0] = '\0';
	e->where[0] = '\0';
	e->sqlstate[0] = '\0';
}
