/*
 * db.h: PostgreSQL access (db.c is the only file that includes
 * <libpq-fe.h>).  Each thread has its own connection, opened on first use
 * and reopened after PostgreSQL restarts.  Statements are always
 * parameterised ($1, $2...): SQL text is a constant, values travel apart.
 */
#ifndef RL_DB_H
#define RL_DB_H

#include <pthread.h>
#include <stddef.h>

#include <jansson.h>

#include "bounds.h"
#include "buf.h"
#include "relais.h"

struct rl_dbres;

enum rl_err	 rl_db_exec(const char *sql, int nparams,
		    const char *const *params, struct rl_dbres **,
		    struct rl_error *);
int		 rl_dbres_rows(const struct rl_dbres *);
int		 rl_dbres_cols(const struct rl_dbres *);
const char	*rl_dbres_get(const struct rl_dbres *, int, int);
int		 rl_dbres_isnull(const struct rl_dbres *, int, int);
long long	 rl_dbres_affected(const struct rl_dbres *);
void		 rl_dbres_free(struct rl_dbres *);
struct rl_dbres	*rl_dbres_ref(struct rl_dbres *);
void		 rl_db_stats(int *, long long *);
void		 rl_db_stats_reset(void);

enum rl_err	 rl_db_json(const char *sql, int nparams,
		    const char *const *params, json_t **, struct rl_error *);
enum rl_err	 rl_dbres_json(struct rl_dbres *, json_t **, struct rl_error *);
enum rl_err	 rl_db_begin(struct rl_error *);
enum rl_err	 rl_db_commit(struct rl_error *);
void		 rl_db_rollback(void);

enum rl_err	 rl_db_ping(struct rl_error *);
enum rl_err	 rl_db_schema_version(int *, struct rl_error *);
enum rl_err	 rl_db_check_schema(int, struct rl_error *);

enum rl_err	 rl_db_listen(const char *, struct rl_error *);
enum rl_err	 rl_db_wait_notify(int, char **, char **, struct rl_error *);

enum rl_err	 rl_db_exec_script(const char *, struct rl_error *);
void		 rl_db_request_end(void);
void		 rl_db_disconnect(void);
/* This thread keeps a connection of its own, outside the pool. */
void		 rl_db_own(void);
/* This thread has a transaction open (rl_db_begin, not yet ended). */
int		 rl_db_in_transaction(void);
/*
 * Count a round trip another thread made for this one (a reservation
 * written in a group, credits.c) in this thread's Server-Timing figures.
 */
void		 rl_db_stats_add(long long us);

/*
 * A PostgreSQL array literal, one element at a time, for a statement that
 * takes many rows as one parameter ($1::bigint[] with unnest): begin
 * writes "{", add one element (NULL for SQL NULL; any text, quoted), end
 * "}".  Errors stay in the buffer (rl_buf_err).
 */
void		 rl_db_array_begin(struct rl_buf *);
void		 rl_db_array_add(struct rl_buf *, const char *);
void		 rl_db_array_end(struct rl_buf *);

/*
 * A group statement's parameters: one array literal per column (at most
 * RL_DB_ARRAYS_MAX, each at most max bytes), filled a row at a time
 * (v holds a value or NULL per column), then run with the arrays as
 * $1..$ncol (the statement's rows go in through unnest); exec frees the
 * arrays either way, and a column past max is an error, nothing sent.
 */
struct rl_db_arrays {
	struct rl_buf	 a[RL_DB_ARRAYS_MAX];
	int		 ncol;
};
void		 rl_db_arrays_init(struct rl_db_arrays *, int ncol,
		    size_t max);
void		 rl_db_arrays_row(struct rl_db_arrays *, const char *const *);
enum rl_err	 rl_db_arrays_exec(struct rl_db_arrays *, const char *,
		    struct rl_dbres **, struct rl_error *);

/*
 * Like writes from many threads, one statement at a time (the group
 * commit of databases' own logs).  rl_db_batch_do(b, arg) returns once
 * arg is written: alone by one(arg) when none of b's statements is in
 * flight, or else, once the one in flight returns, by the first thread
 * waiting, for all those waiting (at most max, RL_DB_BATCH_MAX) with
 * many(args, n).  Each leaves its answer in its args.  A waiter's wait is
 * counted as its database time.
 */
struct rl_db_batch_item;
struct rl_db_batch {
	pthread_mutex_t		 mu;
	struct rl_db_batch_item	*head, *tail;
	int			 busy;	/* a statement in flight */
	int			 max;
	void			(*one)(void *);
	void			(*many)(void **, int);
};
#define RL_DB_BATCH_INIT(max, one, many)				\
	{ PTHREAD_MUTEX_INITIALIZER, NULL, NULL, 0, (max), (one), (many) }
void		 rl_db_batch_do(struct rl_db_batch *, void *);

#endif
