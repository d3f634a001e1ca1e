/*
 * models.c: the model registry.  See models.h and docs/internals/models.md.
 *
 * Three sources, in this order of authority: the model's row in
 * openai_models (prices, provider, caps, and capabilities where the row
 * says), the built-in family table (request shape by name prefix, seed
 * 001), and EDxo's pricing fallbacks for names without a row (contract
 * section 3.2).  Money never touches floating point: prices are parsed
 * from numeric text into integer micro-dollars and costs are computed in
 * 128-bit integers.
 */
#include "config.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "conf.h"
#include "crypto.h"
#include "db.h"
#include "models.h"

/* Prices are per 1M tokens; amounts are micro-dollars. */
#define TOKENS_PER_PRICE	1000000
/*
 * The largest price openai_models can hold (numeric(12,6)), in micro-USD.
 * A hand-filled struct with a bigger price is clamped to it, which keeps
 * every product in rl_cost_micro below 2^113: no overflow of 128 bits.
 */
#define PRICE_MAX		999999999999LL

/*
 * Seed 001 leaves gpt-5 out (it predates it).  Its reasoning spends a
 * good part of the o-series' 1000-token default before it writes a word,
 * so gpt-5 defaults to 4096: about 0.04 USD held at gpt-5's price.
 */
#define GPT5_DEFAULT_MAX	4096

/* EDxo's message, shown to the user as is. */
#define MSG_NO_KEY		"Clé OpenAI non configurée."

/* Legacy models whose output cap we do not know: OpenAI's old default. */
#define UNKNOWN_MAX_OUTPUT	4096

__extension__ typedef unsigned __int128	u128;

/*
 * The built-in table, by name prefix, first match wins.  The same table
 * reads the family column of openai_models ("o3", "gpt-4.1"...), so an
 * admin's new model takes the shape of the family it names.  Output caps
 * and context windows are OpenAI's published ones; a row overrides them.
 */
static const struct family {
	const char	*prefix;
	enum rl_family	 family;
	long long	 default_max;	/* seed 001's default output cap */
	long long	 max_output;
	long long	 context_window;
} families[] = {
	{ "o1", RL_FAMILY_REASONING, 1000, 100000, 200000 },
	{ "o3", RL_FAMILY_REASONING, 1000, 100000, 200000 },
	{ "o4", RL_FAMILY_REASONING, 1000, 100000, 200000 },
	{ "gpt-5", RL_FAMILY_REASONING, GPT5_DEFAULT_MAX, 128000, 400000 },
	{ "gpt-4.1", RL_FAMILY_GPT41, 10000, 32768, 1047576 },
	{ "gpt-4o", RL_FAMILY_LEGACY, 1000, 16384, 128000 },
	{ "gpt-4-turbo", RL_FAMILY_LEGACY, 1000, 4096, 128000 },
	{ "gpt-3.5-turbo", RL_FAMILY_LEGACY, 1000, 4096, 16385 },
	{ "", RL_FAMILY_LEGACY, 1000, UNKNOWN_MAX_OUTPUT, 0 }
};

/*
 * EDxo's get_model_pricing fallbacks for a name without a row: "-mini"
 * names cost what gpt-4o-mini costs, "gpt-5..." names what gpt-5 costs
 * (OpenAI's list prices, the values 0001 seeds).  Anything else is an
 * unknown model.  Micro-USD per 1M tokens: input, cached input, output.
 */
static const long long	 mini_price[3] = { 150000, 75000, 600000 };
static const long long	 gpt5_price[3] = { 1250000, 125000, 10000000 };

/* Default temperatures of seed 001; reasoning models take none. */
static const double	 temp_gpt41 = 1.0;
static const double	 temp_legacy = 0.7;

static const char *const efforts[] = { "minimal", "low", "medium", "high" };

static const struct family *
family_of(const char *name)
{
	size_t	 i;

	for (i = 0; i < sizeof(families) / sizeof(families[0]) - 1; i++)
		if (strncmp(name, families[i].prefix,
		    strlen(families[i].prefix)) == 0)
			return &families[i];
	return &families[i];
}

/* The request shape of a family (seed 001's three generations). */
static void
shape(const struct family *f, struct rl_model *m)
{

	m->family = f->family;
	m->default_max = f->default_max;
	m->max_output = f->max_output;
	m->context_window = f->context_window;
	switch (f->family) {
	case RL_FAMILY_REASONING:
		m->generation_new = 1;
		m->temperature = 0;
		m->reasoning = 1;
		m->completion_tokens = 1;
		m->developer_role = 1;
		m->structured = 1;
		break;
	case RL_FAMILY_GPT41:
		m->generation_new = 1;
		m->temperature = 1;
		m->reasoning = 0;
		m->completion_tokens = 1;
		m->developer_role = 0;
		m->structured = 1;
		break;
	default:
		m->generation_new = 0;
		m->temperature = 1;
		m->reasoning = 0;
		m->completion_tokens = 0;
		m->developer_role = 0;
		m->structured = 0;
		break;
	}
}

static int
ends_with(const char *s, const char *suffix)
{
	size_t	 n = strlen(s), k = strlen(suffix);

	return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* The contract's fallback prices; -1 when the name has none. */
static int
builtin_price(const char *name, struct rl_model *m)
{
	const long long	*p;

	if (ends_with(name, "-mini"))
		p = mini_price;
	else if (strncmp(name, "gpt-5", 5) == 0)
		p = gpt5_price;
	else
		return -1;
	m->price_in = p[0];
	m->price_cached_in = p[1];
	m->price_out = p[2];
	return 0;
}

void
rl_model_builtin(const char *name, struct rl_model *m)
{

	memset(m, 0, sizeof(*m));
	if (name == NULL)
		name = "";
	(void)snprintf(m->name, sizeof(m->name), "%s", name);
	(void)snprintf(m->provider, sizeof(m->provider), "openai");
	shape(family_of(name), m);
	(void)builtin_price(name, m);
	m->batch_discount_pct = 50;
	m->known = 0;
}

/* A bigint or integer column, or -1 when it does not parse. */
static long long
col_ll(const struct rl_dbres *r, int c)
{
	const char	*s = rl_dbres_get(r, 0, c);
	char		*end;
	long long	 v;

	v = strtoll(s, &end, 10);
	return *s == '\0' || *end != '\0' ? -1 : v;
}

/*
 * One query; the row's columns win over the built-in values wherever
 * they are not NULL.  known is 1 exactly when the row exists.
 */
enum rl_err
rl_model_lookup(const char *name, struct rl_model *m, struct rl_error *e)
{
	struct rl_dbres	*r = NULL;
	const char	*p[1];
	long long	 v;
	enum rl_err	 err;

	if (name == NULL || *name == '\0' || strlen(name) >= sizeof(m->name))
		return rl_error_set(e, RL_EINVAL, "Modèle inconnu: %.64s",
		    name == NULL ? "" : name);
	rl_model_builtin(name, m);
	p[0] = name;
	if ((err = rl_cache_exec(RL_CACHE_T(RL_CACHE_MODELS),
	    "SELECT input_price::text, "
	    "cached_input_price::text, output_price::text, family, "
	    "supports_temperature, supports_reasoning, max_output_tokens, "
	    "context_window, provider, batch_discount_pct "
	    "FROM openai_models WHERE name = $1", 1, p, &r, e)) != RL_OK)
		goto out;
	if (rl_dbres_rows(r) == 0) {
		if (builtin_price(name, m) == -1)
			err = rl_error_set(e, RL_EINVAL, "Modèle inconnu: %s",
			    name);
		goto out;
	}
	if (!rl_dbres_isnull(r, 0, 3))
		shape(family_of(rl_dbres_get(r, 0, 3)), m);
	if (rl_micro_parse(rl_dbres_get(r, 0, 0), &m->price_in) == -1 ||
	    rl_micro_parse(rl_dbres_get(r, 0, 2), &m->price_out) == -1 ||
	    (!rl_dbres_isnull(r, 0, 1) && rl_micro_parse(rl_dbres_get(r, 0,
	    1), &m->price_cached_in) == -1)) {
		err = rl_error_set(e, RL_EDB, "openai_models %s: bad price",
		    name);
		goto out;
	}
	/* No cached price: cached tokens bill as any input token. */
	if (rl_dbres_isnull(r, 0, 1))
		m->price_cached_in = m->price_in;
	if (!rl_dbres_isnull(r, 0, 4))
		m->temperature = rl_dbres_get(r, 0, 4)[0] == 't';
	if (!rl_dbres_isnull(r, 0, 5))
		m->reasoning = rl_dbres_get(r, 0, 5)[0] == 't';
	if (!rl_dbres_isnull(r, 0, 6) && (v = col_ll(r, 6)) > 0)
		m->max_output = v;
	if (!rl_dbres_isnull(r, 0, 7) && (v = col_ll(r, 7)) > 0)
		m->context_window = v;
	if (strlen(rl_dbres_get(r, 0, 8)) >= sizeof(m->provider)) {
		err = rl_error_set(e, RL_EDB, "openai_models %s: provider "
		    "name too long", name);
		goto out;
	}
	(void)snprintf(m->provider, sizeof(m->provider), "%s",
	    rl_dbres_get(r, 0, 8));
	if ((v = col_ll(r, 9)) >= 0 && v <= 100)
		m->batch_discount_pct = (int)v;
	m->known = 1;
out:
	rl_dbres_free(r);
	return err;
}

static long long
clamp_price(long long p)
{

	return p < 0 ? 0 : p > PRICE_MAX ? PRICE_MAX : p;
}

static long long
nonneg(long long v)
{

	return v < 0 ? 0 : v;
}

/* ceil(n / d), saturated to LLONG_MAX. */
static long long
ceil_div(u128 n, u128 d)
{
	u128	 q = n / d + (n % d != 0);

	return q > (u128)LLONG_MAX ? LLONG_MAX : (long long)q;
}

/*
 * tokens (< 2^63) times prices (< 2^40) summed three times and multiplied
 * by at most 100 stays below 2^113, so 128 bits hold every intermediate.
 */
long long
rl_cost_micro(const struct rl_model *m, const struct rl_usage *u, int batch)
{
	long long	 in, cached, out;
	u128		 n;
	int		 pct = 100;

	in = nonneg(u->input_tokens);
	cached = nonneg(u->cached_tokens);
	if (cached > in)
		cached = in;
	out = nonneg(u->output_tokens);
	n = (u128)(in - cached) * (u128)clamp_price(m->price_in) +
	    (u128)cached * (u128)clamp_price(m->price_cached_in) +
	    (u128)out * (u128)clamp_price(m->price_out);
	if (batch && m->batch_discount_pct > 0)
		pct = m->batch_discount_pct >= 100 ? 0 :
		    100 - m->batch_discount_pct;
	return ceil_div(n * (u128)pct, (u128)TOKENS_PER_PRICE * 100);
}

long long
rl_cost_bound(const struct rl_model *m, long long input_tokens,
    long long max_output)
{
	u128	 n;

	n = (u128)nonneg(input_tokens) * (u128)clamp_price(m->price_in) +
	    (u128)nonneg(max_output) * (u128)clamp_price(m->price_out);
	return ceil_div(n, TOKENS_PER_PRICE);
}

const char *
rl_micro_fmt(long long v, char *buf, size_t size)
{
	unsigned long long	 a;

	/* Unsigned negation: -LLONG_MIN does not fit a long long. */
	a = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
	(void)snprintf(buf, size, "%s%llu.%06llu", v < 0 ? "-" : "",
	    a / 1000000, a % 1000000);
	return buf;
}

/*
 * "[-]digits[.1 to 6 digits]", exactly: numeric text as PostgreSQL
 * prints it.  Anything else (spaces, exponents, a 7th decimal, a value
 * outside a long long) is refused rather than rounded.
 */
int
rl_micro_parse(const char *s, long long *out)
{
	unsigned long long	 ip = 0, frac = 0, total, limit;
	int			 neg = 0, n = 0;

	if (s == NULL)
		return -1;
	if (*s == '-') {
		neg = 1;
		s++;
	}
	if (*s < '0' || *s > '9')
		return -1;
	for (; *s >= '0' && *s <= '9'; s++) {
		ip = ip * 10 + (unsigned long long)(*s - '0');
		if (ip > (unsigned long long)LLONG_MAX / 1000000 + 1)
			return -1;
	}
	if (*s == '.') {
		for (s++; *s >= '0' && *s <= '9'; s++) {
			if (++n > 6)
				return -1;
			frac = frac * 10 + (unsigned long long)(*s - '0');
		}
		if (n == 0)
			return -1;
		for (; n < 6; n++)
			frac *= 10;
	}
	if (*s != '\0')
		return -1;
	total = ip * 1000000 + frac;
	limit = neg ? (unsigned long long)LLONG_MAX + 1 :
	    (unsigned long long)LLONG_MAX;
	if (total > limit)
		return -1;
	*out = neg ? (long long)(0ULL - total) : (long long)total;
	return 0;
}

/*
 * Auto-configuration.  What is refused depends on what the model takes
 * (m->temperature, m->reasoning), so a row that says otherwise than the
 * family is obeyed; the wording follows seed 001.
 */

struct invalid {
	json_t	*params;	/* invalid_params */
	char	 msg[RL_ERRMSG_MAX];
};

static int
refuse(struct invalid *iv, const char *param, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
refuse(struct invalid *iv, const char *param, const char *fmt, ...)
{
	va_list	 ap;
	size_t	 len = strlen(iv->msg);

	if (json_array_append_new(iv->params, json_string(param)) == -1)
		return -1;
	if (len > 0 && len < sizeof(iv->msg))
		len += (size_t)snprintf(iv->msg + len, sizeof(iv->msg) - len,
		    "; ");
	if (len < sizeof(iv->msg)) {
		va_start(ap, fmt);
		(void)vsnprintf(iv->msg + len, sizeof(iv->msg) - len, fmt, ap);
		va_end(ap);
	}
	return 0;
}

/* The seed's 400 body. */
static json_t *
seed_error(const struct rl_model *m, struct invalid *iv)
{
	json_t	*sug;

	if ((sug = json_array()) == NULL)
		return NULL;
	if (m->reasoning)
		(void)json_array_append_new(sug, json_string(
		    "reasoning_effort"));
	if (m->temperature)
		(void)json_array_append_new(sug, json_string("temperature"));
	(void)json_array_append_new(sug, json_string(m->completion_tokens ?
	    "max_completion_tokens" : "max_tokens"));
	return json_pack("{s:s, s:s, s:s, s:O, s:o}", "error", iv->msg,
	    "error_code", "INVALID_PARAMETER_FOR_MODEL", "model", m->name,
	    "invalid_params", iv->params, "suggested_params", sug);
}

static int
is_effort(const json_t *v)
{
	size_t	 i;

	if (!json_is_string(v))
		return 0;
	for (i = 0; i < sizeof(efforts) / sizeof(efforts[0]); i++)
		if (strcmp(json_string_value(v), efforts[i]) == 0)
			return 1;
	return 0;
}

/* JSON null means "not given" (the seed's serializer). */
static json_t *
given(json_t *p, const char *key)
{
	json_t	*v = json_object_get(p, key);

	return json_is_null(v) ? NULL : v;
}

static enum rl_err
range(json_t *p, const char *key, double lo, double hi, struct rl_error *e)
{
	json_t	*v = given(p, key);

	if (v == NULL || (json_is_number(v) && json_number_value(v) >= lo &&
	    json_number_value(v) <= hi))
		return RL_OK;
	(void)rl_error_set(e, RL_EINVAL, "%s: a number from %g to %g is "
	    "required", key, lo, hi);
	rl_error_where(e, key);
	return RL_EINVAL;
}

static enum rl_err
count(json_t *p, const char *key, struct rl_error *e)
{
	json_t	*v = given(p, key);

	if (v == NULL || (json_is_integer(v) && json_integer_value(v) > 0))
		return RL_OK;
	(void)rl_error_set(e, RL_EINVAL, "%s: a positive whole number is "
	    "required", key);
	rl_error_where(e, key);
	return RL_EINVAL;
}

/* Keys configure decides itself; everything else passes through. */
static int
own_key(const char *k)
{

	return strcmp(k, "temperature") == 0 ||
	    strcmp(k, "reasoning_effort") == 0 ||
	    strcmp(k, "max_tokens") == 0 ||
	    strcmp(k, "max_completion_tokens") == 0 ||
	    strcmp(k, "model") == 0 || strcmp(k, "messages") == 0;
}

enum rl_err
rl_model_configure(const struct rl_model *m, const json_t *params,
    json_t **out, json_t **errbody, struct rl_error *e)
{
	struct invalid	 iv;
	json_t		*p = NULL, *o = NULL, *v, *cap;
	const char	*k, *capkey, *otherkey;
	long long	 max;
	enum rl_err	 err = RL_ENOMEM;

	*out = NULL;
	*errbody = NULL;
	memset(&iv, 0, sizeof(iv));
	if (!json_is_object(params))
		return rl_error_set(e, RL_EINVAL, "parameters must be a JSON "
		    "object");
	/* A private copy: jansson iterates non-const objects only. */
	if ((p = json_deep_copy(params)) == NULL ||
	    (iv.params = json_array()) == NULL)
		goto out;

	/* Parameters the model refuses: the seed's body, all of them. */
	if (given(p, "temperature") != NULL && !m->temperature &&
	    refuse(&iv, "temperature", strncmp(m->name, "o3", 2) == 0 ?
	    "O3 models don't support temperature parameter" :
	    "Model %s doesn't support temperature parameter", m->name) == -1)
		goto out;
	v = given(p, "reasoning_effort");
	if (v != NULL && !m->reasoning) {
		if (refuse(&iv, "reasoning_effort", "Model %s doesn't support "
		    "reasoning_effort parameter", m->name) == -1)
			goto out;
	} else if (v != NULL && !is_effort(v) && refuse(&iv,
	    "reasoning_effort", "reasoning_effort must be one of minimal, "
	    "low, medium or high") == -1)
		goto out;
	if (json_array_size(iv.params) > 0) {
		if ((*errbody = seed_error(m, &iv)) == NULL)
			goto out;
		err = rl_error_set(e, RL_EINVAL, "%s", iv.msg);
		rl_error_where(e, json_string_value(json_array_get(iv.params,
		    0)));
		goto out;
	}

	/* Values out of range: an ordinary 400 naming the field. */
	if ((err = range(p, "temperature", 0, 2, e)) != RL_OK ||
	    (err = range(p, "top_p", 0, 1, e)) != RL_OK ||
	    (err = range(p, "frequency_penalty", -2, 2, e)) != RL_OK ||
	    (err = range(p, "presence_penalty", -2, 2, e)) != RL_OK ||
	    (err = count(p, "max_tokens", e)) != RL_OK ||
	    (err = count(p, "max_completion_tokens", e)) != RL_OK)
		goto out;

	err = RL_ENOMEM;
	if ((o = json_object()) == NULL)
		goto out;
	if (m->reasoning && ((v = given(p, "reasoning_effort")) != NULL ?
	    json_object_set(o, "reasoning_effort", v) :
	    json_object_set_new(o, "reasoning_effort",
	    json_string("medium"))) == -1)
		goto out;
	/*
	 * An explicit temperature is kept as sent, 0 included: the seed's
	 * "temperature or 1.0" would silently turn 0 into 1.0.
	 */
	if (m->temperature && (v = given(p, "temperature")) != NULL) {
		if (json_object_set(o, "temperature", v) == -1)
			goto out;
	} else if (m->temperature && m->family != RL_FAMILY_REASONING &&
	    json_object_set_new(o, "temperature", json_real(m->family ==
	    RL_FAMILY_GPT41 ? temp_gpt41 : temp_legacy)) == -1)
		goto out;

	/* One output cap, under the name the model takes, never above max. */
	capkey = m->completion_tokens ? "max_completion_tokens" : "max_tokens";
	otherkey = m->completion_tokens ? "max_tokens" :
	    "max_completion_tokens";
	if ((cap = given(p, capkey)) == NULL)
		cap = given(p, otherkey);
	max = cap != NULL ? (long long)json_integer_value(cap) :
	    m->default_max;
	if (m->max_output > 0 && max > m->max_output)
		max = m->max_output;
	if (max < 1)
		max = 1;
	if (json_object_set_new(o, capkey, json_integer(max)) == -1)
		goto out;

	json_object_foreach(p, k, v)
		if (!own_key(k) && !json_is_null(v) &&
		    json_object_set(o, k, v) == -1)
			goto out;
	*out = o;
	o = NULL;
	err = RL_OK;
out:
	/* Every allocation failure above leaves err at RL_ENOMEM. */
	if (err == RL_ENOMEM)
		(void)rl_error_set(e, RL_ENOMEM, "out of memory");
	json_decref(o);
	json_decref(p);
	json_decref(iv.params);
	return err;
}

json_t *
rl_model_messages(const struct rl_model *m, const json_t *msgs)
{
	json_t		*arr, *res = NULL, *msg, *copy, *v;
	const char	*k;
	size_t		 i;
	int		 rc;

	if (!json_is_array(msgs) || (arr = json_array()) == NULL)
		return NULL;
	json_array_foreach(msgs, i, msg) {
		if (!json_is_object(msg)) {
			if (json_array_append(arr, msg) == -1)
				goto out;
			continue;
		}
		if ((copy = json_object()) == NULL)
			goto out;
		json_object_foreach(msg, k, v) {
			if (strcmp(k, "role") == 0 && m->developer_role &&
			    json_is_string(v) &&
			    strcmp(json_string_value(v), "system") == 0)
				rc = json_object_set_new(copy, k,
				    json_string("developer"));
			else if (strcmp(k, "content") == 0 && m->structured &&
			    json_is_string(v))
				rc = json_object_set_new(copy, k, json_pack(
				    "[{s:s, s:O}]", "type", "text", "text", v));
			else
				rc = json_object_set(copy, k, v);
			if (rc == -1) {
				json_decref(copy);
				goto out;
			}
		}
		if (json_array_append_new(arr, copy) == -1)
			goto out;
	}
	res = arr;
	arr = NULL;
out:
	json_decref(arr);
	return res;
}

/*
 * Plain http is for this machine only (the test upstream, a local
 * OpenAI-compatible server), which may need no key.
 */
static int
loopback(const char *url)
{
	const char	*h;
	size_t		 n;

	if (strncmp(url, "http://", 7) != 0)
		return 0;
	h = url + 7;
	if (strncmp(h, "127.", 4) == 0)
		n = 4 + strspn(h + 4, "0123456789.");
	else if (strncmp(h, "localhost", 9) == 0)
		n = 9;
	else if (strncmp(h, "[::1]", 5) == 0)
		n = 5;
	else
		return 0;
	return h[n] == '\0' || h[n] == ':' || h[n] == '/';
}

/* Open a sealed key (bytea as hex) into buf. */
static enum rl_err
unseal(const char *hex, char *buf, size_t size, struct rl_error *e)
{
	char		*plain = NULL;
	size_t		 len = 0;
	enum rl_err	 err;

	/*
	 * A box that does not open (the master key changed) is an error, not
	 * "no key": falling through to the institution's key would bill
	 * someone else without anyone noticing.
	 */
	if ((err = rl_secretbox_open_hex(hex, &plain, &len, e)) != RL_OK) {
		(void)rl_error_set(e, RL_EINTERNAL, "a stored API key cannot "
		    "be decrypted with the current master key");
		goto out;
	}
	if (len >= size || memchr(plain, '\0', len) != NULL) {
		err = rl_error_set(e, RL_EINTERNAL, "a stored API key is "
		    "longer than %zu bytes", size - 1);
		goto out;
	}
	memcpy(buf, plain, len + 1);
out:
	if (plain != NULL) {
		rl_wipe(plain, len);
		free(plain);
	}
	return err;
}

/*
 * The upstream of provider name: model is the model a call is for (NULL:
 * an admin's test, which may reach a disabled provider), user_id the user
 * whose own key counts (0: none).
 */
static enum rl_err
resolve(const char *name, const struct rl_model *m, long long user_id,
    struct rl_upstream_buf *ub, struct rl_error *e)
{
	struct rl_dbres	*r = NULL;
	char		 uid[32];
	const char	*p[2], *url;
	int		 openai;
	enum rl_err	 err;

	memset(ub, 0, sizeof(*ub));
	ub->up.name = ub->name;
	ub->up.base_url = ub->base_url;
	ub->up.api_key = ub->api_key;
	if (strlen(name) >= sizeof(ub->name))
		return rl_error_set(e, RL_EINVAL, "Fournisseur inconnu: %.32s",
		    name);
	(void)snprintf(ub->name, sizeof(ub->name), "%s", name);
	openai = strcmp(ub->name, "openai") == 0;
	(void)snprintf(uid, sizeof(uid), "%lld", user_id);
	p[0] = ub->name;
	p[1] = uid;
	/*
	 * The user's own key counts for an OpenAI provider only: it is an
	 * OpenAI key.  Through the cache, so that choosing the provider adds
	 * no round trip, and an admin's change (a NOTIFY) holds from the
	 * next call on.
	 */
	if ((err = rl_cache_exec(RL_CACHE_T(RL_CACHE_PROVIDERS) |
	    RL_CACHE_T(RL_CACHE_USERS), "SELECT p.base_url, "
	    "encode(p.api_key_enc, "
	    "'hex'), CASE WHEN p.kind = 'openai' THEN (SELECT "
	    "encode(u.openai_key_enc, 'hex') FROM users u WHERE u.id = "
	    "$2::bigint) END, p.enabled FROM providers p WHERE p.name = $1",
	    2, p, &r, e)) != RL_OK)
		goto out;
	if (rl_dbres_rows(r) == 0) {
		err = rl_error_set(e, RL_EINVAL, "Fournisseur inconnu: %s",
		    ub->name);
		goto out;
	}
	/* Refused before anything is reserved or sent. */
	if (m != NULL && rl_dbres_get(r, 0, 3)[0] != 't') {
		err = rl_error_field(e, RL_EINVAL, "model", "model %s is not "
		    "available: its provider %s is disabled", m->name,
		    ub->name);
		goto out;
	}
	if (!rl_dbres_isnull(r, 0, 0))
		url = rl_dbres_get(r, 0, 0);
	else if (openai && rl_conf->openai_base_url != NULL)
		url = rl_conf->openai_base_url;
	else {
		err = rl_error_set(e, RL_EINVAL, "Fournisseur %s sans URL",
		    ub->name);
		goto out;
	}
	if (strlen(url) >= sizeof(ub->base_url)) {
		err = rl_error_set(e, RL_EINVAL, "base URL of %s too long",
		    ub->name);
		goto out;
	}
	(void)snprintf(ub->base_url, sizeof(ub->base_url), "%s", url);

	if (!rl_dbres_isnull(r, 0, 2)) {
		if ((err = unseal(rl_dbres_get(r, 0, 2), ub->api_key,
		    sizeof(ub->api_key), e)) != RL_OK)
			goto out;
		ub->user_key = 1;
	} else if (!rl_dbres_isnull(r, 0, 1)) {
		if ((err = unseal(rl_dbres_get(r, 0, 1), ub->api_key,
		    sizeof(ub->api_key), e)) != RL_OK)
			goto out;
	} else if (openai && rl_conf->openai_api_key != NULL &&
	    rl_conf->openai_api_key[0] != '\0') {
		if (strlen(rl_conf->openai_api_key) >= sizeof(ub->api_key)) {
			err = rl_error_set(e, RL_EINVAL,
			    "RELAIS_OPENAI_API_KEY too long");
			goto out;
		}
		(void)snprintf(ub->api_key, sizeof(ub->api_key), "%s",
		    rl_conf->openai_api_key);
	} else if (!loopback(ub->base_url))
		err = rl_error_set(e, RL_ENOKEY, MSG_NO_KEY);
out:
	rl_dbres_free(r);
	if (err != RL_OK)
		rl_wipe(ub->api_key, sizeof(ub->api_key));
	return err;
}

enum rl_err
rl_model_upstream(const struct rl_model *m, long long user_id,
    struct rl_upstream_buf *ub, struct rl_error *e)
{

	return resolve(m->provider[0] != '\0' ? m->provider : "openai", m,
	    user_id, ub, e);
}

enum rl_err
rl_provider_upstream(const char *name, struct rl_upstream_buf *ub,
    struct rl_error *e)
{

	return resolve(name, NULL, 0, ub, e);
}
