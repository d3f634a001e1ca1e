/*
 * bounds.h: every limit relais enforces, in one place, each with the reason
 * for its value.  nginx/relais.conf mirrors the body sizes and timeouts;
 * tests/check-limits.sh fails when the two disagree.
 */
#ifndef RL_BOUNDS_H
#define RL_BOUNDS_H

/*
 * Default cap on a request body.  EDxo's largest JSON bodies (a whole plan
 * de cours sent back for review) stay well under 256 KiB; 1 MiB leaves room
 * without letting one client pin much memory per thread.
 */
#define RL_BODY_MAX		(1024 * 1024)

/*
 * Uploads (DOCX, PDF) are streamed to a temporary file, never held in
 * memory.  20 MiB covers scanned ministry PDFs; OpenAI's per-file limit for
 * inputs is larger but our users send course documents, not books.
 */
#define RL_UPLOAD_MAX		(20 * 1024 * 1024)
/*
 * RL_PAGE_MAX: one HTML page relais serves itself (pages/: a review page,
 * the task tracker); they are small shells whose script reads the JSON
 * routes, so a bigger file is a packaging mistake, refused as such.
 */
#define RL_PAGE_MAX		(256 * 1024)

/*
 * A recording to transcribe (cgi-bin/transcription.c): OpenAI's own cap on
 * /v1/audio/transcriptions is 25 MB, so a bigger file could only fail
 * upstream after being paid for in time and bandwidth.  The route's body
 * cap adds RL_AUDIO_FORM_SLACK for the multipart framing and the small
 * fields beside the file (project_id, max_duration_seconds).
 */
#define RL_AUDIO_FILE_MAX	(25 * 1024 * 1024)
#define RL_AUDIO_FORM_SLACK	(64 * 1024)
#define RL_AUDIO_BODY_MAX	(RL_AUDIO_FILE_MAX + RL_AUDIO_FORM_SLACK)
/*
 * Bytes of an MP3 searched for its first frame after the ID3 tag: encoders
 * put the first frame right there; a file that needs more is not MP3.
 */
#define RL_AUDIO_SYNC_SCAN	(64 * 1024)
/*
 * The longest duration lib/audio.c accepts from a header (one day): 25 MB
 * of 8 kbit/s speech is about seven hours, so anything past a day is a
 * lying header, refused rather than reserved for.
 */
#define RL_AUDIO_SECONDS_MAX	86400
/*
 * A token-billed transcription model (gpt-4o-transcribe) is held for the
 * most tokens its recording can make: OpenAI's estimate of $0.006 a
 * minute at $6 per 1M audio tokens is about 17 audio tokens a second, so
 * 25 bounds it; speech is at most about 5 words (7 tokens) a second, so
 * 15 output tokens a second bounds the text.
 */
#define RL_AUDIO_TOKENS_PER_SEC	25
#define RL_AUDIO_TEXT_TOKENS_PER_SEC 15
/* A short clip's text still has a sentence or two of tokens. */
#define RL_AUDIO_TEXT_TOKENS_MIN	64
/* POST /transcription/meeting without max_duration_seconds: the seed's. */
#define RL_AUDIO_MEETING_SECONDS_DEFAULT 3600

/*
 * The nginx client_max_body_size must be at least the largest of these
 * (RL_UPLOAD_MAX, RL_AUDIO_BODY_MAX), so that a body over a route's cap is
 * refused by relais, with its JSON 413, and not by nginx.
 */
#define RL_NGINX_BODY_MAX_MB	32

/*
 * JSON nesting depth.  Our deepest legitimate body (a plan-cadre with
 * capacités and savoirs-faire) nests 6 levels; 64 is generous and keeps a
 * hostile "[[[[..." from reaching jansson's recursive parser.
 */
#define RL_JSON_MAX_DEPTH	64

/* Number of form fields, query parameters or cookies kept per request. */
#define RL_FORM_MAX_FIELDS	256

/* Size of one non-file multipart field held in memory. */
#define RL_MULTIPART_FIELD_MAX	(64 * 1024)

/* Number of parts in one multipart body. */
#define RL_MULTIPART_MAX_PARTS	64

/* Header lines of one multipart part (Content-Disposition, -Type...). */
#define RL_MULTIPART_HEADER_MAX	4096

/*
 * Per-request arena chunk.  Most requests fit in one chunk; big strings get
 * a chunk of their own.
 */
#define RL_ARENA_CHUNK		(16 * 1024)

/*
 * Worker threads.  A streaming request holds its thread for the whole
 * stream, and one program must hold 1,000 concurrent streams, so threads are
 * cheap: a small stack each.  256 KiB covers libpq, jansson and libcurl
 * frames with a wide margin; sanitizer builds use bigger frames.
 */
#define RL_THREADS_DEFAULT	64
#define RL_THREADS_MAX		4096
/*
 * Threads blocked in accept(2) at once; the other idle ones wait their
 * turn, the last to go idle first (fcgi.md).  Two: one takes the next
 * connection while the other is being woken to replace it.
 */
#define RL_ACCEPTORS		2
#if !defined(__has_feature)
#define RL_HAS_FEATURE(x)	0
#else
#define RL_HAS_FEATURE(x)	__has_feature(x)
#endif
/* gcc says __SANITIZE_ADDRESS__, clang only __has_feature. */
#if defined(__SANITIZE_ADDRESS__) || RL_HAS_FEATURE(address_sanitizer)
#define RL_THREAD_STACK		(1024 * 1024)
#else
#define RL_THREAD_STACK		(256 * 1024)
#endif

/*
 * Memory given back to the system (glibc, lib/conf.c): a block of
 * RL_MALLOC_MMAP_THRESHOLD or more is its own mapping, unmapped when
 * freed (a document's text, an upstream answer), and an arena whose free
 * top passes RL_MALLOC_TRIM_THRESHOLD shrinks.  Without them glibc's
 * sliding thresholds let each thread arena keep ~35 MiB after one large
 * import.
 */
#define RL_MALLOC_MMAP_THRESHOLD	(256 * 1024)
#define RL_MALLOC_TRIM_THRESHOLD	(1024 * 1024)

/* Listen backlog of a program's unix socket. */
#define RL_LISTEN_BACKLOG	1024

/*
 * SSE: a comment line after this many seconds of silence keeps proxies and
 * browsers from closing an idle stream and tells us whether the client is
 * still there.
 */
#define RL_SSE_HEARTBEAT_SEC	15

/*
 * Database connections a program keeps (RELAIS_DB_POOL).  Threads borrow
 * one per statement, so a few serve hundreds of threads that mostly wait
 * on clients or the upstream.  The default is RL_DB_POOL_PER_CPU per CPU,
 * at least RL_DB_POOL_MIN: more backends than cores only queue in the
 * kernel (measured on 2 cores: /api/health p99 18 ms with 4 connections,
 * 430 ms with 16, 580 ms and connect time-outs with 32).  A thread waits at
 * most RL_DB_ACQUIRE_TIMEOUT_MS for a free connection before answering 503.
 */
#define RL_DB_POOL_PER_CPU	2
#define RL_DB_POOL_MIN		4
#define RL_DB_POOL_MAX		256
#define RL_DB_ACQUIRE_TIMEOUT_MS	5000

/* How long a program waits for PostgreSQL when (re)connecting. */
#define RL_DB_CONNECT_TIMEOUT_SEC	5

/*
 * Statement timeout for request-path queries: a request must never hang on a
 * lock for longer than nginx waits for it.
 */
#define RL_DB_STATEMENT_TIMEOUT_MS	30000

/*
 * How long nginx waits for a program's answer (fastcgi_read_timeout).
 * Synchronous AI routes (a whole plan de cours) take minutes; streams send
 * a heartbeat well within it.
 */
#define RL_REQUEST_TIMEOUT_SEC	300

/*
 * Sessions: EDxo logs a user out after 30 days without activity; a session
 * also ends 90 days after login whatever happens, so a stolen cookie does
 * not live forever.  last_seen_at is written at most every
 * RL_SESSION_TOUCH_SEC, not on every request.
 */
#define RL_SESSION_IDLE_SEC	(30 * 24 * 3600)
#define RL_SESSION_MAX_SEC	(90 * 24 * 3600)
#define RL_SESSION_TOUCH_SEC	300

/* Access tokens from /auth/token live an hour, as the router's do. */
#define RL_JWT_TTL_SEC		3600
/* Longer "tokens" are not ours: refuse before decoding. */
#define RL_JWT_MAX		2048
/*
 * Access tokens verified once, kept by their keyed hash (auth.c): slots,
 * and the longest subject a slot holds (a token with a longer one is
 * verified every time).
 */
#define RL_JWT_CACHE_SLOTS	256
#define RL_JWT_CACHE_SUB_MAX	128

/* Personal API tokens: 30 days unless asked, at most a year. */
#define RL_API_TOKEN_TTL_SEC		(30 * 24 * 3600)
#define RL_API_TOKEN_TTL_MAX_SEC	(365 * 24 * 3600)

/*
 * Failed logins: after 5 failures on one account, or 20 from one address,
 * within 15 minutes, further attempts get 429 until the window passes.
 * argon2id already costs ~50 ms per guess; this bounds online guessing to
 * 480 per account per day.
 */
#define RL_LOGIN_WINDOW_SEC	900
#define RL_LOGIN_MAX_ACCOUNT	5
#define RL_LOGIN_MAX_ADDRESS	20

/*
 * EDxo's werkzeug password hashes (lib/flask.c), checked at an imported
 * user's first login and then replaced by argon2id.  A stored hash names
 * its own cost, so the cost is bounded: scrypt's work area (128 * N * r
 * bytes) at argon2id's 64 MiB, scrypt's p at 16, PBKDF2 at 2,000,000
 * rounds (twice werkzeug 3.1's default, about a second here).  A hash
 * above them is refused as unreadable: its user resets the password.
 */
#define RL_SCRYPT_MEM_MAX	(64 * 1024 * 1024)
#define RL_SCRYPT_P_MAX		16
#define RL_PBKDF2_ITER_MAX	2000000

/*
 * EDxo's browser session (lib/flask.c).  The lifetimes are EDxo's own:
 * PERMANENT_SESSION_LIFETIME (30 days) for its signed session cookie,
 * WTF_CSRF_TIME_LIMIT (3600 s) for its CSRF tokens.  Browsers keep a
 * cookie to 4096 bytes; a signed session inflates to at most 64 KiB (a
 * real one is under 1 KiB, the cap stops a zlib bomb); EDxo's SECRET_KEY
 * file holds at most 4 KiB.
 */
#define RL_EDXO_SESSION_LIFETIME_SEC	(30 * 24 * 3600)
#define RL_EDXO_CSRF_MAX_AGE_SEC	3600
#define RL_EDXO_COOKIE_MAX		4096
#define RL_EDXO_SESSION_JSON_MAX	(64 * 1024)
#define RL_EDXO_SECRET_MAX		4096

/*
 * HTTP Basic (lib/auth.c, RL_ROUTE_KEYS routes).  A verified header is
 * remembered 60 s, so a client sending its password with every call pays
 * one argon2id check a minute, and a password change or a deleted
 * account is seen at once (the stamp), a revoked one within a minute.
 * 256 slots: more concurrent Basic clients than one program serves; a
 * client pushed out is checked again, never refused.  A header longer
 * than 1 KiB of base64 cannot hold a login that fits the account limits.
 */
#define RL_BASIC_CACHE_SEC	60
#define RL_BASIC_CACHE_SLOTS	256
#define RL_BASIC_MAX		1024

/*
 * Stored chat completions (cgi-bin/completions.c, seed 003 and /v1),
 * OpenAI's own limits: a list page of 1 to 100 (20 by default), metadata
 * of at most 16 keys of at most 64 characters, values of at most 512.
 * At most 256 messages in a request (seed 001's job limit), n at most 16
 * choices, whose streamed text is kept up to RL_COMPL_TEXT_MAX bytes
 * each for the stored answer.
 */
#define RL_COMPL_LIST_DEFAULT	20
#define RL_COMPL_LIST_MAX	100
#define RL_COMPL_META_KEYS	16
#define RL_COMPL_META_KEY_MAX	64
#define RL_COMPL_META_VALUE_MAX	512
#define RL_COMPL_MESSAGES_MAX	256
#define RL_COMPL_N_MAX		16
#define RL_COMPL_TEXT_MAX	(1024 * 1024)

/*
 * What an account may hold (rl_auth_check_account_fields), checked on
 * every route that stores an account and at login before anything is
 * hashed: a 1 MB password would otherwise cost an argon2id run on each
 * attempt, and a 10 KB name would sit in every list of users.
 * Characters (code points) are the limit a person sees; bytes bound
 * storage and work whatever the script (4 bytes per character at most),
 * except for e-mail, where SMTP counts octets (RFC 5321: 254 in a path).
 * Usernames: 150 characters, Django's and most admin tools' length, so
 * that an address used as a username still fits.  Names (nom, prenom):
 * 100 characters covers compound names.  Passwords: at least 8
 * characters (NIST SP 800-63B), at most 256, four times the 64 NIST asks
 * verifiers to accept: room for any passphrase, and a login with more is
 * refused before argon2id runs.  At login the account typed is held to
 * the larger of the username and e-mail limits.
 */
#define RL_ACCOUNT_USERNAME_MAX_CHARS	150
#define RL_ACCOUNT_USERNAME_MAX_BYTES	600
#define RL_ACCOUNT_EMAIL_MAX_CHARS	254
#define RL_ACCOUNT_EMAIL_MAX_BYTES	254
#define RL_ACCOUNT_NAME_MAX_CHARS	100
#define RL_ACCOUNT_NAME_MAX_BYTES	400
#define RL_ACCOUNT_PASSWORD_MIN_CHARS	8
#define RL_ACCOUNT_PASSWORD_MAX_CHARS	256
#define RL_ACCOUNT_PASSWORD_MAX_BYTES	1024

/* Longest header value, path or query string we accept. */
#define RL_URI_MAX		8192

/*
 * Log lines (lib/log.c): one line is built on the stack and written with
 * one write(2), which pipes keep whole up to PIPE_BUF (4 KiB).  A value is
 * cut (marked "…") past its share: a request id or method past
 * RL_LOG_ID_MAX bytes, a path or route past RL_LOG_PATH_MAX (a path may be
 * RL_URI_MAX long; its first kilobyte says what was asked), so one line
 * always has room for the status and the error.
 */
#define RL_LOG_LINE_MAX		4096
#define RL_LOG_ID_MAX		128
#define RL_LOG_PATH_MAX		1024

/*
 * Upstream calls (lib/openai.c).  Connecting to OpenAI takes well under a
 * second; 10 s covers a slow DNS or TLS handshake without holding a thread
 * for long on a dead host.  A reasoning model may think for minutes before
 * its first byte, so the idle limit (no byte received) is generous, and the
 * total stays under nginx's RL_REQUEST_TIMEOUT_SEC so that a synchronous
 * route can still answer with its own error.
 */
#define RL_OA_CONNECT_TIMEOUT_SEC	10
#define RL_OA_IDLE_TIMEOUT_SEC		120
#define RL_OA_TOTAL_TIMEOUT_SEC		280

/*
 * Kept-alive upstream connections: each thread keeps its own, and one
 * idle for RL_OA_IDLE_CONN_SEC is closed (the reaper looks every
 * RL_OA_REAP_SEC), so a quiet program holds no sockets half-closed by the
 * upstream.  OpenAI's load balancers drop idle connections after about
 * 60 s themselves; closing ours first never races their close.
 */
#define RL_OA_IDLE_CONN_SEC		55
#define RL_OA_REAP_SEC			5

/*
 * Retries: on connect errors, 429, 500, 502 and 503, never once a stream
 * has delivered an event.  Backoff doubles from RL_OA_BACKOFF_MS with full
 * jitter, capped at RL_OA_BACKOFF_MAX_MS; a Retry-After above
 * RL_OA_RETRY_AFTER_MAX_SEC is not waited for (the error is returned).
 */
#define RL_OA_MAX_ATTEMPTS		4
#define RL_OA_BACKOFF_MS		250
#define RL_OA_BACKOFF_MAX_MS		8000
#define RL_OA_RETRY_AFTER_MAX_SEC	30

/*
 * Largest upstream answer kept in memory (a whole plan de cours in JSON is
 * under 200 KiB; file downloads for batches are bigger), and largest SSE
 * frame.  Past them the call fails with RL_ETOOBIG instead of growing.
 */
#define RL_OA_ANSWER_MAX		(32 * 1024 * 1024)

/*
 * The evaluation wizard's grid fragment (POST /evaluation/get_grid).  A
 * real grid is a few dozen savoirs-faire of six short texts (tens of KB);
 * the cap only bounds what texts stored without limit could make one
 * answer hold.
 */
#define RL_GRID_HTML_MAX		(16 * 1024 * 1024)
#define RL_OA_FRAME_MAX			(4 * 1024 * 1024)

/*
 * Money.  A reservation still open after RL_CREDITS_HOLD_MAX_SEC belongs to
 * a process that died mid-call (no call lasts longer than
 * RL_OA_TOTAL_TIMEOUT_SEC times the attempts); the sweep releases it.
 */
#define RL_CREDITS_HOLD_MAX_SEC		3600
/*
 * A hold of a task that ended is released this long after the end (the
 * sweep): its settlement, if one is still queued in a live process, lands
 * well within it, and lands anyway on the released hold if not.
 */
#define RL_CREDITS_TASK_GRACE_SEC	60
/*
 * The retry queue of money writes that failed with the database away
 * (lib/credits.c): the first retry after RL_CREDITS_RETRY_MIN_MS, doubling
 * to RL_CREDITS_RETRY_MAX_MS, so a restarted PostgreSQL sees the backlog
 * within seconds without being hammered while down.  At most
 * RL_CREDITS_RETRY_QUEUE_MAX writes wait per process (a few hundred bytes
 * each; past it the sweep releases the holds, under-charging).  At exit
 * the queue gets RL_CREDITS_DRAIN_SEC to land, within nginx's and the
 * scripts' stop timeouts.
 */
#define RL_CREDITS_RETRY_MIN_MS		200
#define RL_CREDITS_RETRY_MAX_MS		5000
#define RL_CREDITS_RETRY_QUEUE_MAX	100000
#define RL_CREDITS_DRAIN_SEC		10
/*
 * Settlements the background thread writes in one statement (credits.c).
 * Each holds its user's row until the statement commits, so a bigger
 * group would make reservations of the same user wait longer; 64 turns
 * 64 commits (64 WAL flushes) into one, and with 16 the queue fell behind
 * at 64 concurrent calls: a tenth of the chat program's CPU went to
 * requests settling their own calls in line (perf; 2,400 -> 3,000 billed
 * calls/s at c=64 with 64).  Beyond RL_CREDITS_LATER_MAX deferred
 * settlements waiting, a request settles its own call again: the queue's
 * one thread shares the CPU with every request thread, and under a load it
 * cannot follow a backlog would keep more and more money held.  Four
 * groups absorb a burst of answers.
 */
#define RL_CREDITS_GROUP_MAX		64
#define RL_CREDITS_LATER_MAX		(4 * RL_CREDITS_GROUP_MAX)
/*
 * How long a deferred settlement waits for others to share its group
 * commit (credits.c, linger): at low concurrency, one wake-up and one
 * commit per RL_CREDITS_GROUP_LINGER_US of calls instead of per call.
 * The hold stays counted in held meanwhile.  Each group statement costs
 * its backend 0.3-1 ms of CPU that the next calls share the cores with:
 * one call at a time (800/s), 10 ms instead of 3 (groups of about eight,
 * not three) took 0.04-0.15 ms off the added p50, side by side on one
 * bench stack.  Under load groups fill before the linger ends; a crash
 * loses the queue either way (RL_CREDITS_LATER_MAX bounds it).
 */
#define RL_CREDITS_GROUP_LINGER_US	10000
/*
 * The longest array literal of a group's settlements (credits.c, one per
 * column): RL_CREDITS_GROUP_MAX elements of at most a few hundred bytes
 * (ids, model, upstream ids).  A group past it is written one by one.
 */
#define RL_CREDITS_GROUP_SQL_MAX	(64 * 1024)
/*
 * Reservations one statement writes together (credits.c): those that
 * waited while the statement before was in flight.  Each of their users'
 * rows is locked until it commits, a few hundred microseconds.
 */
#define RL_CREDITS_RESERVE_GROUP_MAX	32
/*
 * Rows of a batch of like writes (db.c, rl_db_batch_do): the most any
 * batch may take at once, and what a synchronous AI job's record takes
 * (aijob.c: its row is written before its answer, which carries its id).
 */
#define RL_DB_BATCH_MAX			64
/* Columns of a group statement's array parameters (db.h, rl_db_arrays). */
#define RL_DB_ARRAYS_MAX		18
#define RL_AIJOB_RECORD_GROUP_MAX	32
/* A batch of records whose columns take more is written a row at a time. */
#define RL_AIJOB_RECORD_BATCH_BYTES	(1024 * 1024)
/*
 * Standing holds (credits.c, "spares"): holds the background thread takes
 * ahead for a user who is calling, so that the next call draws one in
 * memory instead of a reservation round trip before its upstream request.
 * At most RL_CREDITS_SPARES_MAX per user and process, for at most
 * RL_CREDITS_SPARE_USERS users at a time, each RL_CREDITS_SPARE_PCT % of
 * the largest bound the user asked lately; given back after
 * RL_CREDITS_SPARE_IDLE_MS without a call.  Taken only while the user
 * keeps RL_CREDITS_SPARE_MARGIN more calls of that size free beyond them,
 * so a user near the end of a balance reserves call by call as before.
 * The table is a shared file mapping (sparefile.c): after a SIGKILL the
 * next start gives back the spares it lists; only a power cut or a
 * kernel crash (a table of an earlier boot is not trusted) leaves them to
 * the sweep, which bills each at its amount (money.md): the limits bound
 * that exposure.
 */
#define RL_CREDITS_SPARES_MAX		8
/*
 * RELAIS_CREDITS_SPARES unset: on, since a SIGKILL no longer bills them,
 * and at the most: a refill takes half as many statements per call as at
 * 4 (one call at a time, bench/README: 4,900 calls/s against 3,500).
 */
#define RL_CREDITS_SPARES_DEFAULT	RL_CREDITS_SPARES_MAX
#define RL_CREDITS_SPARE_USERS		128
#define RL_CREDITS_SPARE_PCT		125
#define RL_CREDITS_SPARE_IDLE_MS	1000
#define RL_CREDITS_SPARE_MARGIN		8
/*
 * A spare file is made under a ".new" name and renamed once locked, a
 * few microseconds; one still there, unlocked, this long after it was
 * written is a process's killed in between: removed by the next start.
 */
#define RL_SPAREFILE_ORPHAN_SEC		60

/*
 * Distinct statement texts a program prepares (db.c's registry; a
 * multiple of 64, one bit per statement and connection).  Programs have a
 * few dozen constant statements; a text beyond the room runs unnamed,
 * parsed each time: the bound costs speed, never correctness.
 */
#define RL_DB_PREP_MAX			512

/*
 * Query results the in-process cache keeps (cache.c): a model, a
 * provider, an agent, a user's role — a few hundred rows in use, one per
 * API token or user seen.  Past the bound the cache is emptied and refills
 * from the next requests, so it costs speed, never correctness.
 * RL_CACHE_RELISTEN_MS: the listener's pause before it tries LISTEN again;
 * the cache is off (every read goes to PostgreSQL) meanwhile.
 */
#define RL_CACHE_ENTRIES		4096
#define RL_CACHE_RELISTEN_MS		1000

/*
 * /metrics (metrics.c): the routes a program's histograms keep apart (more
 * share the last row), and the exposition text's size: three histograms
 * of 16 buckets per route, about 2 KB a route, 512 KB for 256 routes.
 */
#define RL_METRICS_ROUTES_MAX		256
#define RL_METRICS_TEXT_MAX		(1024 * 1024)

/*
 * Worker: tasks run at once per worker process, and the lease a running
 * task holds; the worker renews it every RL_TASK_LEASE_SEC / 3, so a task
 * whose worker died is taken again after at most RL_TASK_LEASE_SEC.
 */
#define RL_WORKER_THREADS_DEFAULT	8
#define RL_WORKER_THREADS_MAX		256
#define RL_TASK_LEASE_SEC		60
/*
 * Runs of a task queued by a program (rl_task_enqueue): a worker that dies
 * must not lose the work (EDxo purged its queue on restart), and running
 * it once more is safe because every AI task ends in a preview or an
 * idempotent write, and rl_gen_run gives back the holds of the dead run.
 * Two, not more: a task that kills its worker twice is a bug, not bad luck.
 */
#define RL_TASK_ATTEMPTS		2

/*
 * Chat jobs (seed 001): messages per request (a long conversation replayed
 * by EDxo's front-end is a few dozen), description length, and the
 * estimated completion an async answer announces.
 */
#define RL_AIJOB_MAX_MESSAGES		256
#define RL_AIJOB_DESCRIPTION_MAX	1000
#define RL_AIJOB_ETA_SEC		30
#define RL_AIJOB_ETA_REASONING_SEC	120

/*
 * DOCX import (lib/zipio.c, lib/docx.c).  A .docx is a zip of XML parts
 * and libzip trusts the sizes its headers declare, so every limit below
 * is enforced on bytes actually seen.  Calibration: the 123 pandoc test
 * documents have at most 38 entries, at most 0.95 MiB inflated per file,
 * a median XML ratio of 3:1 and a worst one of 28:1.
 *
 * RL_DOCX_FILE_MAX: the archive itself (compressed bytes); it arrives as
 * an upload, so it is the upload cap.
 * RL_ZIP_MAX_ENTRIES: a Word document with a few hundred images stays
 * well under 1000 entries; a million tiny entries would only cost time.
 * RL_ZIP_ENTRY_MAX: bytes one entry may inflate to, counted while reading
 * (a 300-page course plan's document.xml is about 5 MiB).
 * RL_ZIP_TOTAL_MAX: bytes inflated from one archive, all entries read
 * together (document, styles, numbering, notes, relationships).
 * RL_ZIP_MAX_RATIO, RL_ZIP_RATIO_MIN: an entry larger than 1 MiB that
 * claims to inflate more than 100 times its compressed size is refused
 * before it is inflated: real XML stays under 30:1, a zip bomb is ~1000:1.
 */
#define RL_DOCX_FILE_MAX	RL_UPLOAD_MAX
#define RL_ZIP_MAX_ENTRIES	1000
#define RL_ZIP_ENTRY_MAX	(32 * 1024 * 1024)
#define RL_ZIP_TOTAL_MAX	(64 * 1024 * 1024)
#define RL_ZIP_MAX_RATIO	100
#define RL_ZIP_RATIO_MIN	(1024 * 1024)

/*
 * RL_DOCX_XML_DEPTH: element nesting in one XML part.  The pandoc
 * documents nest at most 45 deep (drawings in tables); 256 leaves room
 * for tables in text boxes in tables and stops a "<a><a><a>..." part.
 * RL_DOCX_TEXT_MAX: text produced from one document, past which it is
 * cut with a marker.  EDxo sends at most 120,000 characters of it to the
 * model; 2 MiB is a whole book and bounds the memory a hostile document
 * can make us hold.
 * RL_DOCX_MAX_STYLES, RL_DOCX_MAX_NUMS: entries of styles.xml and
 * numbering.xml kept in memory.  Word's own style limit is about 4,000;
 * numbering grows with edits but stays in the hundreds.
 * RL_DOCX_STYLE_CHAIN: basedOn hops followed (Word nests a few; a cycle
 * must end).
 * RL_DOCX_MAX_COLS: Word tables have at most 63 columns.
 * RL_DOCX_FIELD_DEPTH: nested complex fields (a REF inside an IF inside
 * a TOC is 3).
 * RL_DOCX_MAX_NSDECL: namespace declarations in scope at once; Word puts
 * about 40 on the root element and a few on drawings.
 */
#define RL_DOCX_XML_DEPTH	256
#define RL_DOCX_TEXT_MAX	(2 * 1024 * 1024)
#define RL_DOCX_MAX_STYLES	10000
#define RL_DOCX_MAX_NUMS	10000
#define RL_DOCX_STYLE_CHAIN	20
#define RL_DOCX_MAX_COLS	64
#define RL_DOCX_FIELD_DEPTH	32
#define RL_DOCX_MAX_NSDECL	1024

/*
 * Templates (lib/jinja.c: plan-cadre section texts; lib/tmpl.c: prompts).
 * The Jinja parser and evaluator recurse once per level of nesting, on a
 * FastCGI thread's small stack (RL_THREAD_STACK) when a coordo saves a
 * section and on a worker's runner when a task renders it, so nesting is
 * counted while parsing: a template that parses renders within these
 * depths, and one that does not is refused when it is saved.
 * Calibration: the 21 section texts seeded by sql/0001_init.sql and
 * EDxo's sample data use expressions 2 levels deep ({{ cours.nom }}) and
 * no block; the richest templates of tests/unit/test_jinja.c nest 5
 * blocks and expressions 4 levels deep.
 *
 * RL_TMPL_EXPR_DEPTH: levels of one expression.  A name or literal is one
 * level; each attribute or index hop, filter, "not", comparison, "and" or
 * "or" operand, parenthesis and subscript adds one ("cours.nom | upper"
 * is 3), eight times the deepest real one.
 * RL_TMPL_BLOCK_DEPTH: {% if %} and {% for %} nested in one another; a
 * readable template nests 3 or 4.
 * Stack at both limits at once (the deepest expression of each kind in
 * the deepest blocks, parsed and rendered): 40 KiB in an optimised
 * build, 160 KiB unoptimised under clang's ASan, within the 256 KiB of
 * RL_THREAD_STACK.  A parenthesis costs the parser six C frames, which is
 * why the expression limit is not higher.
 * RL_TMPL_FIELD_MAX: a str.format() field name with its NUL; EDxo's
 * longest is 17 bytes ({champ_description}).  Fields do not nest.
 */
#define RL_TMPL_EXPR_DEPTH	32
#define RL_TMPL_BLOCK_DEPTH	32
#define RL_TMPL_FIELD_MAX	128

/*
 * Request limits (lib/ratelimit.c, docs/internals/ratelimit.md).
 * RL_RATELIMIT_SLOTS: buckets in the shared table of a host, 8 bytes
 * each (512 KiB): a bucket lives only while it is not full again, so this
 * is the users and API tokens active within one period, with room for
 * open addressing to stay short.  A power of two.
 * RL_RATELIMIT_PROBE: slots looked at for one key; a window holding that
 * many live buckets of other keys lets the request through uncounted.
 * RL_RATELIMIT_CAS_TRIES: compare-and-swap attempts on one bucket before
 * giving up the same way (a lost race means another request counted).
 * RL_RATELIMIT_USER_DEFAULT, _ADMIN_DEFAULT: requests per period for a
 * role without a rate_limits row (RELAIS_RATELIMIT_USER, _ADMIN): two a
 * second on average, a minute's burst, is more than a person in the
 * application makes; an admin's pages load more at once.
 * RL_RATELIMIT_PERIOD_SEC: the default window; _PERIOD_MAX one day.
 * RL_RATELIMIT_REQUESTS_MAX: per period, what an admin may set; the
 * table counts in milliseconds, so a bucket never passes 1,000 requests
 * a second whatever it is set to (100,000 a minute counts as 60,000).
 */
#define RL_RATELIMIT_SLOTS		65536
#define RL_RATELIMIT_PROBE		16
#define RL_RATELIMIT_CAS_TRIES		64
#define RL_RATELIMIT_USER_DEFAULT	120
#define RL_RATELIMIT_ADMIN_DEFAULT	600
#define RL_RATELIMIT_PERIOD_SEC		60
#define RL_RATELIMIT_PERIOD_MAX		86400
#define RL_RATELIMIT_REQUESTS_MAX	100000

/*
 * The realtime WebSocket (bin/realtime.c, /realtime/ws).
 * RL_REALTIME_MSG_MAX: one client message, fragments joined.  The
 * largest legitimate one is an SDP offer (a browser's is 3-6 KiB, one
 * with many candidates under 16 KiB) or a question as long as
 * /completion's message; past it the connection is closed with 1009.
 * RL_REALTIME_SDP_MAX: the offer inside it.
 * RL_REALTIME_RATE: messages per second and connection; a client that
 * pings every 30 s and asks a question now and then sends far fewer.
 * Past it a message gets an error event and is not run.
 * RL_REALTIME_IDLE_SEC: no message for this long closes the connection
 * (1000, "idle timeout"); the seed's client pings every 30 s.  nginx's
 * proxy_read_timeout (scripts/mknginx) is longer, so relais decides.
 * RELAIS_REALTIME_IDLE_SEC may lower it (the tests).
 * RL_REALTIME_AUTH_SEC: an upgrade without a Bearer token must send its
 * auth message within this; else closed with 1008.
 * RL_REALTIME_CONN_MAX: connections held by one process; each idle one
 * costs a file descriptor and about 1 KiB.
 * RL_REALTIME_JOBS_MAX: messages and offers running at once (a thread
 * and a database connection each); past it a message gets "busy".
 * RL_REALTIME_QUEUE_MAX: bytes of events waiting for a slow client;
 * past it the running answer is stopped, as for a client gone.
 */
#define RL_REALTIME_MSG_MAX	(64 * 1024)
#define RL_REALTIME_SDP_MAX	(32 * 1024)
#define RL_REALTIME_RATE	10
#define RL_REALTIME_IDLE_SEC	300
#define RL_REALTIME_AUTH_SEC	10
#define RL_REALTIME_CONN_MAX	1024
#define RL_REALTIME_JOBS_MAX	16
#define RL_REALTIME_QUEUE_MAX	(1024 * 1024)

/*
 * Batch generation (lib/batch.c, issue 21).
 * RL_BATCH_ITEMS_MAX: lines of one batch.  Each line is a task and a
 * credit hold written in the launch's one transaction; a programme
 * session has a few dozen plans of ten sections, and OpenAI's own cap
 * (50 000 lines) is far above what one transaction should hold.
 * RL_BATCH_PLANS_MAX: plans one launch may name.
 * RL_BATCH_FILE_MAX: an output or error file read back at collect; a
 * line is one answer (RL_GEN_MAX_OUTPUT tokens, about 64 KiB of JSON).
 * RL_BATCH_POLL_MS: the worker's refresh of open batches; OpenAI's batches
 * take minutes to hours, so twice a minute follows them closely enough
 * and costs one GET per open batch.  RELAIS_BATCH_POLL_MS may change it
 * (the tests).
 * RL_BATCH_POLL_MAX: batches one poll pass refreshes.
 * RL_BATCH_COLLECT_STALE_SEC: a collect that started this long ago and
 * never finished (its process died) may be taken over.
 */
#define RL_BATCH_ITEMS_MAX		2000
#define RL_BATCH_PLANS_MAX		500
#define RL_BATCH_FILE_MAX		(256 * 1024 * 1024)
#define RL_BATCH_POLL_MS		30000
#define RL_BATCH_POLL_MAX		100
#define RL_BATCH_COLLECT_STALE_SEC	600
/* GET /batch without limit (its request schema caps limit at 200). */
#define RL_BATCH_LIST_DEFAULT		50
/*
 * Exports and clean-up of batches (cgi-bin/batch_export.c).
 * RL_BATCH_CLEANUP_DAYS: POST /batch/cleanup without days: finished
 * batches older than a month leave the history (the seed's "anciens
 * processus"); the request schema caps days at ten years.
 * RL_BATCH_CLEANUP_MAX: batches one clean-up takes.  Each costs up to
 * three DELETE calls to OpenAI inside one request, which must end within
 * RL_REQUEST_TIMEOUT_SEC; the rest go with the next clean-up.
 * RL_BATCH_EXPORT_ROWS, RL_BATCH_EXPORT_MAX: batches and bytes of one
 * history export (a user launches a few batches a week; a row is under
 * 1 KiB).
 * RL_BATCH_RESULTS_MAX: a Markdown results file, the same as what one
 * Word document's body may hold (RL_ZIP_ENTRY_MAX, rl_docxw's cap).
 * RL_BATCH_TABLE_COLS_MAX: a list of objects wider than this is shown
 * object by object rather than as a table (a calendar has five columns).
 */
#define RL_BATCH_CLEANUP_DAYS		30
#define RL_BATCH_CLEANUP_MAX		50
#define RL_BATCH_EXPORT_ROWS		10000
#define RL_BATCH_EXPORT_MAX		(16 * 1024 * 1024)
#define RL_BATCH_RESULTS_MAX		(32 * 1024 * 1024)
#define RL_BATCH_TABLE_COLS_MAX		12

#endif /* RL_BOUNDS_H */
