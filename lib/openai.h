/*
 * openai.h: the upstream client.  openai.c is the only file that includes
 * <curl/curl.h>.  One mechanism serves every call: rl_oa_call() sends a
 * request described by a struct rl_oa_call to an upstream (OpenAI, Mistral
 * or any OpenAI-compatible server) and fills the same struct with what came
 * back: status, JSON answer, usage, ids, timings.  Streams deliver typed
 * events to a callback as they arrive; the callback can stop the transfer
 * and the upstream connection is closed at once.
 */
#ifndef RL_OPENAI_H
#define RL_OPENAI_H

#include <stddef.h>

#include <jansson.h>

#include "relais.h"

/* Where a call goes.  https only, except to a loopback address. */
struct rl_upstream {
	const char	*name;		/* provider, for logs and the ledger */
	const char	*base_url;	/* "https://api.openai.com/v1" */
	const char	*api_key;	/* "" or NULL: no Authorization */
};

/*
 * Tokens of one call.  cached_tokens is part of input_tokens and
 * reasoning_tokens part of output_tokens, as OpenAI reports them.
 * reported is 1 when the upstream said so; 0 when the numbers were counted
 * by us (a stream cut short: input estimated from the request, output one
 * token per delta received).
 */
struct rl_usage {
	long long	 input_tokens;
	long long	 cached_tokens;
	long long	 output_tokens;
	long long	 reasoning_tokens;
	int		 reported;
};

/* What a streamed event is about, whichever API sent it. */
enum rl_oa_ev {
	RL_OA_EV_OTHER = 0,	/* anything else (created, in_progress...) */
	RL_OA_EV_TEXT,		/* output text delta */
	RL_OA_EV_REASONING,	/* reasoning summary text delta */
	RL_OA_EV_TOOL_ARGS,	/* function call arguments delta */
	RL_OA_EV_ITEM_DONE,	/* Responses: an output item is complete */
	RL_OA_EV_DONE,		/* the final response / last chunk */
	RL_OA_EV_ERROR		/* the upstream reported an error in-stream */
};

struct rl_oa_event {
	enum rl_oa_ev	 kind;
	const char	*type;		/* Responses "type"; chat: "chunk" */
	const char	*delta;		/* text of a delta, else NULL */
	size_t		 deltalen;
	int		 index;		/* chat: choice; else output_index */
	json_t		*data;		/* the whole frame, borrowed; NULL
					   for a copy not parsed (below) */
	const char	*raw;		/* the frame's data as it came, NUL-
					   terminated; NULL for [DONE] */
	size_t		 rawlen;
};

/*
 * response.created, .in_progress and .queued carry a copy of the whole
 * response (instructions, tools: kilobytes) and say nothing the stream
 * does not say again but its id, so they are not parsed: the id is read
 * off the bytes, data is NULL, and a callback that wants the frame calls
 * rl_oa_event_json (a new reference; NULL when it is not JSON).
 */
json_t		*rl_oa_event_json(const struct rl_oa_event *);

/* Return 0 to go on, non-zero to stop the transfer (client gone). */
typedef int	(*rl_oa_event_cb)(void *, const struct rl_oa_event *);

/*
 * Stopping a call from outside, whatever the upstream is doing (a
 * reasoning model may send nothing for a minute): a transfer tests its
 * stops after every wait on its sockets, and a wait lasts at most
 * RL_OA_STOP_POLL_MS.  A struct rl_oa_stop is a flag that any thread may
 * raise; raising it also wakes the transfer waiting on it, so it ends at
 * once.  A check function is polled instead (a client's hang-up is found
 * by a poll on its socket): it must be cheap and never block.
 */
#define RL_OA_STOP_POLL_MS	100

struct rl_oa_stop;
typedef int	(*rl_oa_check_cb)(void *);

struct rl_oa_stop *rl_oa_stop_new(void);
void		 rl_oa_stop_free(struct rl_oa_stop *);
/* Any thread: raise the flag and wake the transfer using it. */
void		 rl_oa_stop_raise(struct rl_oa_stop *);
void		 rl_oa_stop_reset(struct rl_oa_stop *);
int		 rl_oa_stop_raised(struct rl_oa_stop *);
/*
 * The stop and check of every call this thread makes from now on, on top
 * of each call's own; NULLs clear them.  A worker's runner sets its task's
 * (lib/worker.c), an event stream its client's (lib/sse.c), so every
 * upstream call made under them stops without its caller's help.
 */
void		 rl_oa_thread_stop(struct rl_oa_stop *, rl_oa_check_cb,
		    void *);

struct rl_oa_call {
	/* Request. */
	const char	*method;	/* NULL: POST with a body, else GET */
	const char	*path;		/* "/responses", "/files/file-1" */
	const json_t	*body;		/* JSON body, or NULL */
	/* multipart/form-data instead of JSON (Files, audio). */
	const char	*upload_path;	/* file to send as field "file" */
	const char	*upload_name;	/* its file name; NULL: basename */
	const json_t	*form;		/* other fields: object of strings */
	/* Streaming: set body "stream": true and a callback. */
	rl_oa_event_cb	 on_event;
	void		*arg;
	/* Stops of this call (with the thread's); NULL: none. */
	struct rl_oa_stop *stop;
	rl_oa_check_cb	 check;
	void		*check_arg;
	/* Extra request headers ("Name: value"), NULL-terminated, or NULL. */
	const char *const *headers;
	/* Answer cap in bytes; 0: RL_OA_ANSWER_MAX. */
	size_t		 answer_max;
	/*
	 * Per-call limits; 0: the RL_OA_* defaults of bounds.h.  The total
	 * covers the whole call, retries and their waits included; idle is
	 * the longest silence (no byte either way) once connected.
	 */
	long		 connect_timeout_ms;
	long		 idle_timeout_ms;
	long		 total_timeout_ms;
	int		 max_attempts;	/* 1: no retry */

	/* Answer, filled by rl_oa_call; release with rl_oa_call_free. */
	int		 status;	/* last HTTP status, 0 if none */
	json_t		*answer;	/* JSON answer; for a stream, the final
					   response object (Responses) or the
					   last chunk (chat), when received */
	char		*raw;		/* non-JSON answer (file content) */
	size_t		 rawlen;
	struct rl_usage	 usage;
	char		 request_id[96];	/* x-request-id */
	char		 response_id[96];	/* resp_..., chatcmpl-... */
	char		 finish[32];	/* finish_reason / status */
	int		 attempts;	/* 1 + retries */
	int		 started;	/* events were delivered */
	int		 stopped;	/* the callback or a stop ended it */
	long long	 latency_ms;	/* whole call, retries included */
	long long	 latency_us;	/* the same in microseconds (logs) */
	long long	 ttft_ms;	/* first delta (text, reasoning or
					   tool arguments), streams */
};

/*
 * Zero the struct before its first call; a later call on the same struct
 * releases the previous answer first.  Retries (connect errors, 429, 500,
 * 502, 503; never once an event was delivered) happen inside.  Errors:
 * RL_EINVAL (refused before connecting: URL, scheme, headers, body),
 * RL_EIO (upload file), RL_ETIMEOUT, RL_EUNAVAIL (429 after the retries),
 * RL_EUPSTREAM (any other HTTP error, with the upstream's error.message in
 * e->msg and its body in answer; a non-JSON answer; a cut stream),
 * RL_ETOOBIG (answer or frame cap), RL_EGONE (the callback, a stop or a
 * check ended it; stopped is set).  A call ended that way after its
 * request was sent reports the usage seen (reported by the upstream, or
 * counted: see struct rl_usage), so the caller bills it; one stopped
 * before its first attempt returns with attempts 0 and nothing to bill.
 */
enum rl_err	 rl_oa_call(const struct rl_upstream *, struct rl_oa_call *,
		    struct rl_error *);
/* Releases answer and raw; the struct can be used again. */
void		 rl_oa_call_free(struct rl_oa_call *);

/*
 * Usage from a Responses or Chat Completions answer (or a final chunk, or
 * a usage object itself): 0 and reported = 1, or -1 and zeros if none.
 */
int		 rl_oa_usage_parse(const json_t *, struct rl_usage *);
/* Rough token count of a request's text: ceil(code points / 4). */
long long	 rl_oa_tokens_estimate(const json_t *);
/* Upper bound on a request's input tokens: UTF-8 bytes of its text. */
long long	 rl_oa_tokens_bound(const json_t *);

/* Process start-up (curl_global_init) and per-thread connection cleanup. */
enum rl_err	 rl_oa_init(struct rl_error *);
void		 rl_oa_thread_end(void);
/* Seconds an idle kept-alive connection lives (RL_OA_IDLE_CONN_SEC). */
void		 rl_oa_set_idle(int);

#endif
