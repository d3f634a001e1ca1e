/*
 * money-stress: drive lib/credits.c and lib/models.c against a real
 * database (RELAIS_DATABASE_URL) and print what happened as one JSON
 * object, for tests/integration/money.test.mjs to check against the
 * tables.  Not a test by itself: it asserts nothing, it reports.
 *
 *	money-stress stress [-t threads] [-n iterations] [-b balance]
 *	    [-m max_hold] [-l later_pct]
 *		A fresh user with balance USD; every thread loops: reserve a
 *		random hold of at most max_hold USD, then release it, or
 *		settle a random cost (sometimes above the hold, sometimes a
 *		second time).  later_pct of the settlements are deferred
 *		(rl_credits_settle_later: the background queue's group
 *		commits, racing the other threads' reservations); what they
 *		charged is read back from the ledger once the queue drained.
 *	money-stress edges
 *		Each refusal and boundary of reserve/settle/release/sweep once.
 *	money-stress lookup NAME...
 *		rl_model_lookup and the default parameters of each name.
 *	money-stress upstream MODEL USER_ID
 *		rl_model_upstream (the key itself is never printed).
 *	money-stress sweep
 *		rl_credits_sweep as the worker's keeper runs it.
 */
#include "config.h"

#include <sys/stat.h>

#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "relais.h"
#include "bounds.h"
#include "conf.h"
#include "credits.h"
#include "crypto.h"
#include "db.h"
#include "models.h"

#define STRESS_THREADS		64
#define STRESS_THREADS_MAX	256
#define STRESS_ITERATIONS	20
/* How long deferred settlements may take to land, in ms. */
#define STRESS_DRAIN_MS		120000
/* The request id of deferred settlements, to find their rows. */
#define STRESS_LATER_ID		"money-stress-later"
/*
 * A deferred settlement's upstream id, with what an array literal must
 * quote (a group's settlements travel as arrays, credits.c): the ledger
 * must keep it byte for byte.
 */
#define STRESS_LATER_RESP	"resp_\"q\\,{x} NULL"

struct worker {
	pthread_t	 t;
	unsigned int	 seed;
	long long	 uid;
	int		 iterations;
	long long	 max_hold;
	int		 later_pct;
	/* What happened, as this thread saw it. */
	long long	 reserved, refused, settled, released, capped;
	long long	 over_hold, double_settle, double_release, errors;
	long long	 later_queued;
	long long	 cost, charged, cap_loss;
	char		 error[RL_ERRMSG_MAX + 32];
};

static long long
rnd(struct worker *w, long long n)
{
	unsigned long long	 r;

	r = (unsigned long long)rand_r(&w->seed) << 31 |
	    (unsigned long long)rand_r(&w->seed);
	return n <= 0 ? 0 : (long long)(r % (unsigned long long)n);
}

static void
fail(struct worker *w, const char *what, const struct rl_error *e)
{

	if (w->errors++ == 0)
		(void)snprintf(w->error, sizeof(w->error), "%s: %s", what,
		    e->msg);
}

static void
one(struct worker *w)
{
	struct rl_charge	 ch;
	struct rl_error		 e;
	static const char *const statuses[] = { "ok", "partial" };
	long long		 hold, bound, cost, charged, again;
	enum rl_err		 err;
	int			 queued;

	bound = 1 + rnd(w, w->max_hold);
	err = rl_credits_reserve(w->uid, bound, "gpt-4o", "money-stress",
	    NULL, &hold, &e);
	if (err == RL_ECREDITS) {
		if (strcmp(e.msg, "Crédits insuffisants pour cette "
		    "opération.") != 0)
			fail(w, "refusal message", &e);
		w->refused++;
		return;
	}
	if (err != RL_OK) {
		fail(w, "reserve", &e);
		return;
	}
	w->reserved++;
	if (rnd(w, 10) < 2) {
		if (rl_credits_release(hold, &e) != RL_OK) {
			fail(w, "release", &e);
			return;
		}
		w->released++;
		if (rnd(w, 2) == 0) {
			if (rl_credits_release(hold, &e) != RL_ECONFLICT)
				fail(w, "second release not refused", &e);
			else
				w->double_release++;
		}
		return;
	}

	memset(&ch, 0, sizeof(ch));
	ch.model = "gpt-4o";
	ch.provider = "openai";
	ch.feature = "money-stress";
	ch.request_id = "money-stress";
	ch.usage.input_tokens = rnd(w, 5000);
	ch.usage.cached_tokens = rnd(w, ch.usage.input_tokens + 1);
	ch.usage.output_tokens = rnd(w, 2000);
	ch.usage.reasoning_tokens = rnd(w, ch.usage.output_tokens + 1);
	ch.usage.reported = 1;
	ch.latency_ms = rnd(w, 1000);
	switch (rnd(w, 10)) {
	case 0:
		/* Above the hold: the upstream billed more than we bound. */
		cost = bound + 1 + rnd(w, w->max_hold);
		ch.status = "ok";
		w->over_hold++;
		break;
	case 1:
		cost = 0;
		ch.status = "failed";
		break;
	default:
		cost = rnd(w, bound + 1);
		ch.status = statuses[rnd(w, 2)];
		break;
	}
	ch.cost_micro = cost;
	if (rnd(w, 100) < w->later_pct) {
		/*
		 * Queued, or settled at once when the queue is behind; its
		 * charge is read back from the ledger either way (stress()).
		 */
		ch.request_id = STRESS_LATER_ID;
		ch.upstream_response_id = STRESS_LATER_RESP;
		if (rl_credits_settle_later(hold, w->uid, &ch, &charged,
		    &queued, &e) != RL_OK)
			fail(w, "deferred settlement", &e);
		else if (queued)
			w->later_queued++;
		w->settled++;
		w->cost += cost;
		return;
	}
	if (rl_credits_settle(hold, w->uid, &ch, &charged, &e) != RL_OK) {
		fail(w, "settle", &e);
		return;
	}
	w->settled++;
	w->cost += cost;
	w->charged += charged;
	if (charged > cost || charged < 0)
		fail(w, "charged more than the cost", &e);
	if (charged < cost) {
		w->capped++;
		w->cap_loss += cost - charged;
	}
	if (rnd(w, 10) == 0) {
		again = -1;
		if (rl_credits_settle(hold, w->uid, &ch, &again, &e) !=
		    RL_ECONFLICT || again != 0)
			fail(w, "second settlement not refused", &e);
		else
			w->double_settle++;
	}
}

static void *
run(void *arg)
{
	struct worker	*w = arg;
	int		 i;

	for (i = 0; i < w->iterations; i++)
		one(w);
	return NULL;
}

static char *
micro(long long v, char *buf, size_t size)
{

	rl_micro_fmt(v, buf, size);
	return buf;
}

static void
print(json_t *j)
{

	if (j == NULL) {
		printf("{\"fatal\": \"out of memory\"}\n");
		return;
	}
	(void)json_dumpf(j, stdout, JSON_COMPACT);
	putchar('\n');
	json_decref(j);
}

/*
 * A user with its initial balance credited through the ledger, as an admin
 * credit is, so that the ledger replays to the balance from the start.
 */
static enum rl_err
new_user(long long balance, long long *uid, struct rl_error *e)
{
	struct rl_dbres	*r = NULL;
	char		 name[32], hex[17], bal[32], id[32];
	const char	*p[2];
	enum rl_err	 err;

	rl_random_hex(hex, 8);
	(void)snprintf(name, sizeof(name), "money-%s", hex);
	micro(balance, bal, sizeof(bal));
	if ((err = rl_db_begin(e)) != RL_OK)
		return err;
	p[0] = name;
	p[1] = bal;
	if ((err = rl_db_exec("INSERT INTO users (username, password_hash, "
	    "credits) VALUES ($1, '$argon2id$money-stress', $2::numeric) "
	    "RETURNING id", 2, p, &r, e)) != RL_OK)
		goto out;
	*uid = strtoll(rl_dbres_get(r, 0, 0), NULL, 10);
	(void)snprintf(id, sizeof(id), "%lld", *uid);
	p[0] = id;
	if (balance > 0 && (err = rl_db_exec("INSERT INTO usage_ledger "
	    "(user_id, kind, delta, balance_after, note) VALUES ($1::bigint, "
	    "'admin_credit', $2::numeric, $2::numeric, 'money-stress')", 2, p,
	    NULL, e)) != RL_OK)
		goto out;
	err = rl_db_commit(e);
out:
	if (err != RL_OK)
		rl_db_rollback();
	rl_dbres_free(r);
	return err;
}

static int
stress(int argc, char *argv[])
{
	struct worker	*w;
	struct rl_error	 e;
	json_t		*db = NULL, *out;
	char		 uid[32], b1[32], b2[32], b3[32], b4[32];
	const char	*p[1], *first = NULL;
	long long	 balance = 50000, max_hold = 2000, user = 0;
	struct rl_credits_stats	 st;
	long long	 sum[14], v;
	int		 c, i, threads = STRESS_THREADS, later_pct = 0;
	int		 iterations = STRESS_ITERATIONS;

	while ((c = getopt(argc, argv, "b:l:m:n:t:")) != -1)
		switch (c) {
		case 'l':
			later_pct = (int)strtol(optarg, NULL, 10);
			if (later_pct < 0 || later_pct > 100)
				return 2;
			break;
		case 'b':
			if (rl_micro_parse(optarg, &balance) == -1 ||
			    balance < 0)
				return 2;
			break;
		case 'm':
			if (rl_micro_parse(optarg, &max_hold) == -1 ||
			    max_hold < 1)
				return 2;
			break;
		case 'n':
			iterations = (int)strtol(optarg, NULL, 10);
			break;
		case 't':
			threads = (int)strtol(optarg, NULL, 10);
			break;
		default:
			return 2;
		}
	if (threads < 1 || threads > STRESS_THREADS_MAX || iterations < 1)
		return 2;
	if (new_user(balance, &user, &e) != RL_OK) {
		fprintf(stderr, "money-stress: %s\n", e.msg);
		return 1;
	}
	if ((w = calloc((size_t)threads, sizeof(*w))) == NULL)
		return 1;
	for (i = 0; i < threads; i++) {
		w[i].seed = (unsigned int)(user * 7919 + i);
		w[i].uid = user;
		w[i].iterations = iterations;
		w[i].max_hold = max_hold;
		w[i].later_pct = later_pct;
	}
	for (i = 0; i < threads; i++)
		if (pthread_create(&w[i].t, NULL, run, &w[i]) != 0) {
			fprintf(stderr, "money-stress: pthread_create\n");
			return 1;
		}
	memset(sum, 0, sizeof(sum));
	for (i = 0; i < threads; i++) {
		pthread_join(w[i].t, NULL);
		sum[0] += w[i].reserved;
		sum[1] += w[i].refused;
		sum[2] += w[i].settled;
		sum[3] += w[i].released;
		sum[4] += w[i].capped;
		sum[5] += w[i].over_hold;
		sum[6] += w[i].double_settle;
		sum[7] += w[i].double_release;
		sum[8] += w[i].errors;
		sum[9] += w[i].cost;
		sum[10] += w[i].charged;
		sum[11] += w[i].cap_loss;
		sum[13] += w[i].later_queued;
		if (first == NULL && w[i].errors > 0)
			first = w[i].error;
	}

	(void)snprintf(uid, sizeof(uid), "%lld", user);
	p[0] = uid;
	/* The deferred settlements: landed, and what they charged. */
	if (rl_credits_drain(STRESS_DRAIN_MS) != 0) {
		fprintf(stderr, "money-stress: %zu deferred settlements not "
		    "landed\n", rl_credits_pending());
		return 1;
	}
	if (later_pct > 0) {
		if (rl_db_json("SELECT json_build_array(coalesce(sum(-delta) * "
		    "1000000, 0)::bigint, count(*) FILTER (WHERE -delta < "
		    "cost), coalesce(sum(cost + delta) FILTER (WHERE -delta < "
		    "cost) * 1000000, 0)::bigint) FROM usage_ledger WHERE "
		    "user_id = $1::bigint AND request_id = '" STRESS_LATER_ID
		    "'", 1, p, &db, &e) != RL_OK) {
			fprintf(stderr, "money-stress: %s\n", e.msg);
			return 1;
		}
		v = json_integer_value(json_array_get(db, 0));
		sum[10] += v;
		sum[12] = v;
		sum[4] += json_integer_value(json_array_get(db, 1));
		sum[11] += json_integer_value(json_array_get(db, 2));
		json_decref(db);
		db = NULL;
	}
	if (rl_db_json("SELECT json_build_object("
	    "'final', (SELECT credits::text FROM users WHERE id = $1::bigint),"
	    " 'ledger_rows', count(*) FILTER (WHERE kind = 'openai_call'), "
	    "'sum_cost', coalesce(sum(cost) FILTER (WHERE kind = "
	    "'openai_call'), 0)::numeric(20,6)::text, "
	    "'sum_delta', coalesce(sum(delta) FILTER (WHERE kind = "
	    "'openai_call'), 0)::numeric(20,6)::text, "
	    "'open_holds', (SELECT count(*) FROM credit_reservations WHERE "
	    "user_id = $1::bigint AND state = 'reserved'), "
	    "'db_settled', (SELECT count(*) FROM credit_reservations WHERE "
	    "user_id = $1::bigint AND state = 'settled'), "
	    "'db_released', (SELECT count(*) FROM credit_reservations WHERE "
	    "user_id = $1::bigint AND state = 'released')) "
	    "FROM usage_ledger WHERE user_id = $1::bigint", 1, p, &db, &e) !=
	    RL_OK) {
		fprintf(stderr, "money-stress: %s\n", e.msg);
		return 1;
	}
	out = json_pack("{s:I, s:i, s:i, s:s, s:I, s:I, s:I, s:I, s:I, s:I, "
	    "s:I, s:I, s:I, s:s, s:s, s:s, s:s?}", "user_id", (json_int_t)user,
	    "threads", threads, "iterations", iterations, "initial",
	    micro(balance, b1, sizeof(b1)), "reserved", (json_int_t)sum[0],
	    "refused", (json_int_t)sum[1], "settled", (json_int_t)sum[2],
	    "released", (json_int_t)sum[3], "capped", (json_int_t)sum[4],
	    "over_hold", (json_int_t)sum[5], "double_settle_refused",
	    (json_int_t)sum[6], "double_release_refused", (json_int_t)sum[7],
	    "errors", (json_int_t)sum[8], "cost", micro(sum[9], b2,
	    sizeof(b2)), "charged", micro(sum[10], b3, sizeof(b3)),
	    "cap_loss", micro(sum[11], b4, sizeof(b4)), "first_error", first);
	rl_credits_stats(&st);
	if (out != NULL && (json_object_set_new(out, "later_charged",
	    json_integer((json_int_t)sum[12])) == -1 ||
	    json_object_set_new(out, "later_queued",
	    json_integer((json_int_t)sum[13])) == -1 ||
	    json_object_set_new(out, "reserve_grouped",
	    json_integer((json_int_t)st.reserved_grouped)) == -1 ||
	    json_object_set_new(out, "settle_grouped",
	    json_integer((json_int_t)st.settled_grouped)) == -1)) {
		json_decref(out);
		out = NULL;
	}
	if (out != NULL && json_object_update(out, db) == -1) {
		json_decref(out);
		out = NULL;
	}
	print(out);
	json_decref(db);
	free(w);
	return 0;
}

/* One step of the edge cases: its error token, message and numbers. */
static json_t *
step(enum rl_err err, const struct rl_error *e, long long hold,
    long long charged)
{
	char	 b[32];

	return json_pack("{s:s, s:s, s:I, s:s}", "err", rl_err_token(err),
	    "msg", err == RL_OK ? "" : e->msg, "hold", (json_int_t)hold,
	    "charged", micro(charged, b, sizeof(b)));
}

static struct rl_charge *
charge(struct rl_charge *ch, long long cost, const char *status)
{

	memset(ch, 0, sizeof(*ch));
	ch->model = "gpt-4o-mini";
	ch->provider = "openai";
	ch->feature = "money-edges";
	ch->status = status;
	ch->cost_micro = cost;
	ch->usage.input_tokens = 100;
	ch->usage.cached_tokens = 20;
	ch->usage.output_tokens = 50;
	ch->usage.reasoning_tokens = 10;
	ch->latency_ms = 42;
	ch->upstream_request_id = "req_edges";
	ch->upstream_response_id = "chatcmpl-edges";
	return ch;
}

/*
 * A task of a user, already finished, so that no worker of the stack ever
 * picks it up.
 */
static enum rl_err
task(const char *uid, char *buf, size_t size, struct rl_error *e)
{
	struct rl_dbres	*r;
	const char	*p[1];
	enum rl_err	 err;

	p[0] = uid;
	if ((err = rl_db_exec("INSERT INTO tasks (name, user_id, state) "
	    "VALUES ('money-stress', $1::bigint, 'SUCCESS') RETURNING id", 1,
	    p, &r, e)) !=
	    RL_OK)
		return err;
	(void)snprintf(buf, size, "%s", rl_dbres_get(r, 0, 0));
	rl_dbres_free(r);
	return RL_OK;
}

#define STEP(name, call) do {						\
	rl_error_clear(&e);						\
	hold = 0;							\
	charged = 0;							\
	err = (call);							\
	if (json_object_set_new(out, (name), step(err, &e, hold,	\
	    charged)) == -1)						\
		goto nomem;						\
} while (0)

static int
edges(void)
{
	struct rl_error		 e;
	struct rl_charge	 ch;
	json_t			*out;
	char			 id[32], tid[40], gone[40];
	const char		*p[1];
	long long		 u = 0, u2 = 0, hold, charged, n = 0;
	long long		 h1 = 0, h2 = 0, h3 = 0, h4 = 0, h5 = 0, h6 = 0;
	long long		 h7 = 0, h8 = 0;
	enum rl_err		 err;

	if ((out = json_object()) == NULL)
		return 1;
	if (new_user(1000, &u, &e) != RL_OK ||
	    new_user(1000, &u2, &e) != RL_OK) {
		fprintf(stderr, "money-stress: %s\n", e.msg);
		json_decref(out);
		return 1;
	}
	(void)json_object_set_new(out, "user", json_integer(u));
	(void)json_object_set_new(out, "user2", json_integer(u2));

	STEP("reserve_missing_user", rl_credits_reserve(LLONG_MAX, 10,
	    "gpt-4o", NULL, NULL, &hold, &e));
	STEP("reserve_zero", rl_credits_reserve(u, 0, "gpt-4o", NULL, NULL,
	    &hold, &e));
	STEP("reserve_600", rl_credits_reserve(u, 600, "gpt-4o", "req-1",
	    NULL, &hold, &e));
	h1 = hold;
	STEP("reserve_500_over", rl_credits_reserve(u, 500, "gpt-4o", NULL,
	    NULL, &hold, &e));
	STEP("reserve_400_exact", rl_credits_reserve(u, 400, "gpt-4o", NULL,
	    NULL, &hold, &e));
	h2 = hold;
	STEP("reserve_1_none_left", rl_credits_reserve(u, 1, "gpt-4o", NULL,
	    NULL, &hold, &e));
	STEP("release_400", rl_credits_release(h2, &e));
	STEP("release_400_again", rl_credits_release(h2, &e));
	STEP("settle_250", rl_credits_settle(h1, u, charge(&ch, 250, "ok"),
	    &charged, &e));
	STEP("settle_250_again", rl_credits_settle(h1, u, charge(&ch, 250,
	    "ok"), &charged, &e));
	STEP("release_settled", rl_credits_release(h1, &e));
	STEP("reserve_750_rest", rl_credits_reserve(u, 750, "gpt-4o", NULL,
	    NULL, &hold, &e));
	h3 = hold;
	STEP("settle_5000_capped", rl_credits_settle(h3, u, charge(&ch, 5000,
	    "partial"), &charged, &e));
	STEP("reserve_after_empty", rl_credits_reserve(u, 1, "gpt-4o", NULL,
	    NULL, &hold, &e));
	STEP("reserve_u2_100", rl_credits_reserve(u2, 100, "o3", NULL, NULL,
	    &hold, &e));
	h4 = hold;
	STEP("settle_wrong_user", rl_credits_settle(h4, u, charge(&ch, 10,
	    "ok"), &charged, &e));
	STEP("settle_bad_status", rl_credits_settle(h4, u2, charge(&ch, 10,
	    "maybe"), &charged, &e));
	STEP("settle_negative_cost", rl_credits_settle(h4, u2, charge(&ch, -1,
	    "ok"), &charged, &e));
	/* A failed call: no model in the charge, the hold's is recorded. */
	charge(&ch, 0, "failed");
	ch.model = NULL;
	STEP("settle_failed_zero", rl_credits_settle(h4, u2, &ch, &charged,
	    &e));
	STEP("settle_missing_hold", rl_credits_settle(LLONG_MAX, u2,
	    charge(&ch, 1, "ok"), &charged, &e));
	STEP("release_missing_hold", rl_credits_release(LLONG_MAX, &e));
	STEP("reserve_old", rl_credits_reserve(u2, 100, "gpt-4o", NULL, NULL,
	    &hold, &e));
	h5 = hold;
	STEP("reserve_fresh", rl_credits_reserve(u2, 100, "gpt-4o", NULL,
	    NULL, &hold, &e));
	h6 = hold;
	/* A hold two hours old: a process that died mid-call. */
	(void)snprintf(id, sizeof(id), "%lld", h5);
	p[0] = id;
	if (rl_db_exec("UPDATE credit_reservations SET created_at = now() - "
	    "interval '2 hours' WHERE id = $1::bigint", 1, p, NULL, &e) !=
	    RL_OK) {
		fprintf(stderr, "money-stress: %s\n", e.msg);
		json_decref(out);
		return 1;
	}
	STEP("sweep", rl_credits_sweep(3600, &n, &e));
	(void)json_object_set_new(out, "swept", json_integer(n));
	STEP("sweep_negative", rl_credits_sweep(-1, &n, &e));
	STEP("release_fresh", rl_credits_release(h6, &e));

	/* Task ids: the hold's when the charge has none; a purged one. */
	(void)snprintf(id, sizeof(id), "%lld", u2);
	if (task(id, tid, sizeof(tid), &e) != RL_OK ||
	    task(id, gone, sizeof(gone), &e) != RL_OK) {
		fprintf(stderr, "money-stress: %s\n", e.msg);
		json_decref(out);
		return 1;
	}
	STEP("reserve_task", rl_credits_reserve(u2, 50, "gpt-4o", NULL, tid,
	    &hold, &e));
	h7 = hold;
	STEP("settle_task_of_hold", rl_credits_settle(h7, u2, charge(&ch, 5,
	    "ok"), &charged, &e));
	STEP("reserve_task_gone", rl_credits_reserve(u2, 50, "gpt-4o", NULL,
	    NULL, &hold, &e));
	h8 = hold;
	p[0] = gone;
	if (rl_db_exec("DELETE FROM tasks WHERE id = $1::uuid", 1, p, NULL,
	    &e) != RL_OK) {
		fprintf(stderr, "money-stress: %s\n", e.msg);
		json_decref(out);
		return 1;
	}
	charge(&ch, 5, "ok");
	ch.task_id = gone;
	STEP("settle_task_gone", rl_credits_settle(h8, u2, &ch, &charged, &e));
	(void)json_object_set_new(out, "task", json_string(tid));
	(void)json_object_set_new(out, "holds", json_pack("[I, I, I, I, I, I, "
	    "I, I]", (json_int_t)h1, (json_int_t)h2, (json_int_t)h3,
	    (json_int_t)h4, (json_int_t)h5, (json_int_t)h6, (json_int_t)h7,
	    (json_int_t)h8));
	print(out);
	return 0;
nomem:
	json_decref(out);
	return 1;
}

static const char *
family_name(enum rl_family f)
{

	switch (f) {
	case RL_FAMILY_REASONING:
		return "reasoning";
	case RL_FAMILY_GPT41:
		return "gpt-4.1";
	default:
		return "legacy";
	}
}

static int
lookup(int argc, char *argv[])
{
	struct rl_model	 m;
	struct rl_error	 e;
	json_t		*all, *one, *none, *def, *eb;
	char		 b1[32], b2[32], b3[32];
	int		 i;

	if ((all = json_object()) == NULL || (none = json_object()) == NULL)
		return 1;
	for (i = 0; i < argc; i++) {
		rl_error_clear(&e);
		if (rl_model_lookup(argv[i], &m, &e) != RL_OK) {
			one = json_pack("{s:s, s:s}", "err",
			    rl_err_token(e.code), "msg", e.msg);
			(void)json_object_set_new(all, argv[i], one);
			continue;
		}
		def = eb = NULL;
		if (rl_model_configure(&m, none, &def, &eb, &e) != RL_OK)
			def = json_null();
		json_decref(eb);
		one = json_pack("{s:s, s:s, s:s, s:s, s:b, s:b, s:b, s:b, s:b, "
		    "s:I, s:I, s:I, s:s, s:s, s:s, s:i, s:b, s:s, s:o}",
		    "err", "ok", "name", m.name, "family",
		    family_name(m.family), "generation", m.generation_new ?
		    "new" : "legacy", "temperature", m.temperature,
		    "reasoning", m.reasoning, "completion_tokens",
		    m.completion_tokens, "developer_role", m.developer_role,
		    "structured", m.structured, "default_max",
		    (json_int_t)m.default_max, "max_output",
		    (json_int_t)m.max_output, "context_window",
		    (json_int_t)m.context_window, "price_in", micro(m.price_in,
		    b1, sizeof(b1)), "price_cached_in",
		    micro(m.price_cached_in, b2, sizeof(b2)), "price_out",
		    micro(m.price_out, b3, sizeof(b3)), "batch_discount_pct",
		    m.batch_discount_pct, "known", m.known, "provider",
		    m.provider, "default_params", def);
		(void)json_object_set_new(all, argv[i], one);
	}
	json_decref(none);
	print(all);
	return 0;
}

static int
upstream(const char *model, const char *user)
{
	struct rl_model		 m;
	struct rl_upstream_buf	 ub;
	struct rl_error		 e;
	size_t			 n;
	enum rl_err		 err;

	rl_error_clear(&e);
	if ((err = rl_model_lookup(model, &m, &e)) == RL_OK)
		err = rl_model_upstream(&m, strtoll(user, NULL, 10), &ub, &e);
	if (err != RL_OK) {
		print(json_pack("{s:s, s:s}", "err", rl_err_token(err), "msg",
		    e.msg));
		return 0;
	}
	n = strlen(ub.api_key);
	print(json_pack("{s:s, s:s, s:s, s:s, s:i, s:s, s:b}", "err", "ok",
	    "name", ub.up.name, "base_url", ub.up.base_url, "model", m.name,
	    "key_len", (int)n, "key_tail", n >= 4 ? ub.api_key + n - 4 : "",
	    "user_key", ub.user_key));
	rl_wipe(ub.api_key, sizeof(ub.api_key));
	return 0;
}

/* The keeper's sweep, for a test that made holds look dead. */
static int
sweep(void)
{
	struct rl_error	 e;
	long long	 n = 0;
	enum rl_err	 err;

	rl_error_clear(&e);
	err = rl_credits_sweep(RL_CREDITS_HOLD_MAX_SEC, &n, &e);
	print(json_pack("{s:s, s:s, s:I}", "err", rl_err_token(err), "msg",
	    err == RL_OK ? "" : e.msg, "closed", (json_int_t)n));
	return 0;
}

static int
usage(void)
{

	fprintf(stderr, "usage: money-stress stress [-t threads] "
	    "[-n iterations] [-b balance] [-m max_hold] [-l later_pct]\n"
	    "       money-stress edges\n"
	    "       money-stress lookup name...\n"
	    "       money-stress upstream model user_id\n"
	    "       money-stress sweep\n");
	return 2;
}

int
main(int argc, char *argv[])
{
	struct rl_error	 e;
	struct stat	 st;
	char		 pool[16];
	int		 rc;

	if (argc < 2)
		return usage();
	/*
	 * A connection per thread, so that the threads really contend for
	 * the user row inside PostgreSQL rather than for the pool.
	 */
	(void)snprintf(pool, sizeof(pool), "%d", STRESS_THREADS_MAX);
	(void)setenv("RELAIS_DB_POOL", pool, 0);
	if (rl_conf_load(STRESS_THREADS_MAX, &e) != RL_OK ||
	    rl_crypto_init(&e) != RL_OK) {
		fprintf(stderr, "money-stress: %s\n", e.msg);
		return 1;
	}
	if (stat(rl_conf->secret_key_file, &st) == 0 &&
	    rl_crypto_load_key(rl_conf->secret_key_file, &e) != RL_OK) {
		fprintf(stderr, "money-stress: %s\n", e.msg);
		return 1;
	}
	if (strcmp(argv[1], "stress") == 0)
		rc = stress(argc - 1, argv + 1);
	else if (strcmp(argv[1], "edges") == 0 && argc == 2)
		rc = edges();
	else if (strcmp(argv[1], "lookup") == 0)
		rc = lookup(argc - 2, argv + 2);
	else if (strcmp(argv[1], "upstream") == 0 && argc == 4)
		rc = upstream(argv[2], argv[3]);
	else if (strcmp(argv[1], "sweep") == 0 && argc == 2)
		rc = sweep();
	else
		rc = 2;
	if (rc == 2)
		(void)usage();
	rl_db_disconnect();
	return rc;
}
