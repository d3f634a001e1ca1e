/*
 * fake-openai: a local stand-in for the OpenAI HTTP API, used by the
 * relais test suites and benchmarks.  Shared declarations.
 */
#ifndef FAKE_H
#define FAKE_H

#include <stddef.h>
#include <sys/types.h>

#include <jansson.h>
#include <microhttpd.h>

/* Largest request body kept in memory; big enough for batch input files. */
#define MAX_BODY_BYTES		(100L * 1024 * 1024)
/* Upper bound on any artificial delay, so no thread sleeps for ever. */
#define MAX_DELAY_MS		300000L
/* Upper bound on text deltas per answer, to bound frame memory. */
#define MAX_CHUNKS		10000L
/* Upper bound on `n` choices; OpenAI allows 128, tests need few. */
#define MAX_CHOICES		16L
/* The "timeout" fault holds a connection at most this long. */
#define TIMEOUT_FAULT_CAP_MS	300000L
/* Reasoning summary deltas emitted for reasoning models. */
#define REASONING_DELTAS	8L
/* Text deltas streamed before "reset-mid-stream" cuts the connection. */
#define RESET_AFTER_DELTAS	2

enum fault {
	FAULT_NONE = 0,
	FAULT_429,
	FAULT_500,
	FAULT_503,
	FAULT_TIMEOUT,
	FAULT_RESET,
	FAULT_GARBAGE,
	FAULT_INVALID_JSON,
	FAULT_SCHEMA_INVALID,
	FAULT_REFUSAL,
	FAULT_INCOMPLETE
};

/* In-body directive "[[X-Fake-...]]": its length and one value's. */
#define DIRECTIVE_MAX		1024
#define DIRECTIVE_VALUE_MAX	256

/* Process-wide defaults, set from the command line. */
struct config {
	long	ttft_ms;
	long	chunk_ms;
	long	chunks;
	long	batch_step_ms;
	/* --api-key: the one key accepted on /v1/ (NULL: any). */
	const char *api_key;
	/* --name: "[name] " opens every generated text answer. */
	const char *name;
};

/* Per-request knobs: defaults overridden by X-Fake-* headers. */
struct knobs {
	long		ttft_ms;
	long		chunk_ms;
	long		chunks;
	long		batch_step_ms;
	long		cached_tokens;
	int		tools_off;	/* answer text though tools are offered */
	enum fault	fault;
};

struct req {
	struct MHD_Connection	*conn;
	char			*body;
	size_t			 len;
	size_t			 cap;
	int			 too_large;
	int			 held;		/* "timeout": never answer */
	long			 delay_ms;	/* wait before replying */
	struct MHD_Response	*pending;	/* reply sent after the wait */
	unsigned int		 pending_status;
	struct knobs		 k;
	char			 request_id[48];
	json_t			*directives;	/* in-body X-Fake-* knobs */
	int			 directives_read;
	/*
	 * Counters (GET /_fake/stats): a POST to a generation route, the
	 * id of the answer it got (set only for a normal answer, which
	 * carries usage), and X-Fake-Tag, the counter it adds to.
	 */
	int			 billable;
	int			 peer_gone;	/* hung up before the reply */
	char			 answer_id[64];
	char			 tag[DIRECTIVE_VALUE_MAX];
};

/*
 * What an answer contains, computed once and rendered either as one
 * JSON object or as a sequence of stream frames.
 */
struct plan {
	int	 is_tool;	/* a function/tool call instead of text */
	char	*tool_name;
	char	*text;		/* full output text, or the call arguments */
	json_t	*pieces;	/* strings whose concatenation is text */
	char	*reasoning;	/* reasoning summary text, NULL if none */
	json_t	*reasoning_pieces;
	long	 prompt_tokens;
	long	 cached_tokens;
	long	 reasoning_tokens;
	int	 refusal;	/* text is a refusal (fault refusal) */
	int	 incomplete;	/* cut at max_output_tokens (fault) */
};

struct stream;

extern struct config	 fake_config;

/* fake-openai.c */
int		 fake_stopping(void);
enum MHD_Result	 reply_json(struct req *, unsigned int, json_t *);
enum MHD_Result	 reply_error(struct req *, unsigned int, const char *,
		    const char *, const char *, const char *);
enum MHD_Result	 reply_raw(struct req *, unsigned int, const char *, char *,
		    size_t);
enum MHD_Result	 reply_stream(struct req *, struct stream *);
enum MHD_Result	 reply_garbage(struct req *, int);
enum MHD_Result	 reply_truncated(struct req *, char *);
const char	*req_header(struct req *, const char *);
const char	*req_query(struct req *, const char *);

/* stream.c */
struct stream	*stream_new(const char *);
void		 stream_add(struct stream *, long, int, char *, size_t);
void		 stream_add_str(struct stream *, long, int, const char *);
void		 stream_add_sse(struct stream *, long, int, const char *,
		    json_t *);
void		 stream_cut_after_deltas(struct stream *, int);
void		 stream_free(void *);
void		 stream_attach(struct stream *, struct MHD_Connection *);
ssize_t		 stream_read(void *, uint64_t, char *, size_t);
const char	*stream_ctype(struct stream *);

/* waker.c */
long long	 mono_ms(void);
int		 peer_hung_up(struct MHD_Connection *);
void		 waker_add(struct MHD_Connection *, long long, int);
int		 waker_start(void);
void		 waker_stop(void);

/* util.c */
void		 make_id(char *, size_t, const char *);
long		 count_codepoints(const char *);
long		 count_input_tokens(json_t *);
long		 now_unix(void);
long long	 now_ms(void);
json_t		*words_pieces(const char *, long, int);
json_t		*split_pieces(const char *, long);
char		*join_pieces(json_t *);
char		*invalid_json_of(const char *);
int		 is_reasoning_model(const char *);
char		*xstrdup(const char *);
char		*dump_compact(json_t *);
const char	*json_str(json_t *, const char *);
void		 plan_free(struct plan *);
void		 plan_text(struct plan *, const char *, int, json_t *, int,
		    const struct knobs *);
void		 plan_tool(struct plan *, const char *, json_t *,
		    const struct knobs *);
void		 plan_reasoning(struct plan *);

/* synth.c */
json_t		*synth_instance(json_t *);

/* chat.c */
enum MHD_Result	 handle_chat(struct req *, json_t *);
json_t		*chat_answer(json_t *, const struct knobs *, json_t **);

/* responses.c */
enum MHD_Result	 handle_responses_create(struct req *, json_t *);
enum MHD_Result	 handle_responses_get(struct req *, const char *);
enum MHD_Result	 handle_responses_delete(struct req *, const char *);
json_t		*responses_answer(json_t *, const struct knobs *, json_t **);
void		 responses_store_free(void);

/* files.c */
enum MHD_Result	 handle_files_upload(struct req *);
enum MHD_Result	 handle_files_list(struct req *);
enum MHD_Result	 handle_files_get(struct req *, const char *);
enum MHD_Result	 handle_files_content(struct req *, const char *);
enum MHD_Result	 handle_files_delete(struct req *, const char *);
enum MHD_Result	 handle_transcription(struct req *);
enum MHD_Result	 handle_realtime_call(struct req *);
enum MHD_Result	 handle_audio_stats(struct req *);
int		 files_get_copy(const char *, char **, size_t *);
json_t		*files_put(const char *, const char *, const char *, size_t);
void		 files_store_free(void);

/* batches.c */
enum MHD_Result	 handle_batches_create(struct req *, json_t *);
enum MHD_Result	 handle_batches_list(struct req *);
enum MHD_Result	 handle_batches_get(struct req *, const char *);
enum MHD_Result	 handle_batches_cancel(struct req *, const char *);
void		 batches_store_free(void);

/* list pagination shared by files and batches */
json_t		*paginate(json_t *, struct req *, long, int);

#endif /* FAKE_H */
