/*
 * transcription: the router's audio routes and health (seed 004).  See
 * docs/transcription.md.
 *
 *	POST /transcription			a recording's text (whisper-1)
 *	POST /transcription/meeting		the same, meeting model,
 *						    refused past a duration
 *	GET  /transcription/supported-formats	what is accepted
 *	GET  /health				the seed's health check
 *
 * An upload is checked before anything is paid or sent: its size, its
 * extension, its magic bytes (which must agree), and the duration its
 * container declares (lib/audio.c).  The call is billed like every other,
 * through rl_ai_call (lib/ai.c, kind RL_AI_AUDIO): reserved on that
 * duration, settled on what the upstream reports (seconds for a model
 * priced per minute, tokens for the gpt-4o transcribe family), so a lying
 * header costs its sender at most the difference the hold allows.  One
 * usage_ledger row per upstream call, as everywhere (lib/credits.c).
 */
#include "config.h"

#include <sys/mman.h>
#include <sys/stat.h>

#include <ctype.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ai.h"
#include "audio.h"
#include "bounds.h"
#include "cache.h"
#include "db.h"
#include "fcgi.h"
#include "models.h"
#include "req.h"
#include "resp.h"
#include "route.h"

/* The models when RELAIS_TRANSCRIPTION_MODEL / _MEETING_MODEL are unset. */
#define MODEL_DEFAULT		"whisper-1"
#define MEETING_MODEL_DEFAULT	"gpt-4o-transcribe"

/* /health's title and environment when RELAIS_TITLE / _ENVIRONMENT unset. */
#define TITLE_DEFAULT		"relais"
#define ENVIRONMENT_DEFAULT	"production"

#define FEATURE			"transcription"
#define FEATURE_MEETING		"transcription.meeting"

/*
 * The audio prices of 0015_audio_prices.sql, micro-USD: per minute of
 * recording (a duration-billed model's price, and every model's
 * reservation basis), per 1M audio input tokens.
 */
#define SQL_PRICES							\
	"SELECT audio_minute_price::text, audio_input_price::text "	\
	"FROM openai_models WHERE name = $1"

/* What the seed's supported-formats lists (OpenAI's names). */
static const char *const formats[] = {
	"mp3", "mp4", "mpeg", "mpga", "m4a", "wav", "webm"
};

/* OpenAI's verbose_json names a language in English; the seed's codes. */
static const struct {
	const char	*name;
	const char	*code;
} langs[] = {
	{ "arabic", "ar" }, { "chinese", "zh" }, { "dutch", "nl" },
	{ "english", "en" }, { "french", "fr" }, { "german", "de" },
	{ "greek", "el" }, { "hindi", "hi" }, { "italian", "it" },
	{ "japanese", "ja" }, { "korean", "ko" }, { "polish", "pl" },
	{ "portuguese", "pt" }, { "russian", "ru" }, { "spanish", "es" },
	{ "swedish", "sv" }, { "turkish", "tr" }, { "ukrainian", "uk" },
	{ "vietnamese", "vi" },
};

/* One transcription, from the checked upload to the answer. */
struct job {
	struct rl_req		*req;
	const char		*feature;
	struct rl_model		 model;
	struct rl_ai_audio	 audio;		/* prices, parsed duration */
	const struct rl_upload	*upload;
	const char		*language;	/* asked, or NULL */
};

static const char *
env_or(const char *name, const char *def)
{
	const char	*v;

	v = getenv(name);
	return v != NULL && *v != '\0' ? v : def;
}

/*
 * The model's prices: its openai_models row (lib/models.c, cached) and
 * the audio columns.  A model without an audio minute price is not a
 * transcription model: refused as a configuration error, never free.
 */
static enum rl_err
prices(struct job *j, const char *name, struct rl_error *e)
{
	struct rl_dbres	*r = NULL;
	const char	*p[1];
	enum rl_err	 err;

	if ((err = rl_model_lookup(name, &j->model, e)) != RL_OK)
		goto out;
	p[0] = name;
	/* openai_models rarely changes: cached, as its row just above. */
	if ((err = rl_cache_exec(RL_CACHE_T(RL_CACHE_MODELS), SQL_PRICES, 1,
	    p, &r, e)) != RL_OK)
		goto out;
	if (rl_dbres_rows(r) < 1 || rl_dbres_isnull(r, 0, 0) ||
	    rl_micro_parse(rl_dbres_get(r, 0, 0), &j->audio.minute_price) ==
	    -1) {
		err = rl_error_set(e, RL_EINTERNAL, "model %s has no audio "
		    "price (openai_models.audio_minute_price)", name);
		goto out;
	}
	j->audio.token_price = -1;
	if (!rl_dbres_isnull(r, 0, 1) && rl_micro_parse(rl_dbres_get(r, 0,
	    1), &j->audio.token_price) == -1)
		err = rl_error_set(e, RL_EINTERNAL, "model %s: bad audio "
		    "price", name);
out:
	rl_dbres_free(r);
	return err;
}

/* What the client gets for language: a code when we know the name. */
static json_t *
language(const struct job *j, const json_t *answer)
{
	const char	*l;
	size_t		 i;

	if (j->language != NULL)
		return json_string(j->language);
	if ((l = json_string_value(json_object_get(answer, "language"))) ==
	    NULL)
		return json_null();
	for (i = 0; i < sizeof(langs) / sizeof(langs[0]); i++)
		if (strcmp(l, langs[i].name) == 0)
			return json_string(langs[i].code);
	return json_string(l);
}

/*
 * One billed call (rl_ai_call): a call refused before it reached the
 * upstream releases its hold; any other is settled, failed ones
 * included, after the answer (later) as /completion's are.
 */
static enum rl_err
call(struct job *j, struct rl_error *e)
{
	struct rl_ai	 ai;
	json_t		*form, *dur;
	enum rl_err	 err;

	memset(&ai, 0, sizeof(ai));
	/* whisper-1 says its language and duration in verbose_json only. */
	form = json_pack("{s:s, s:s}", "model", j->model.name,
	    "response_format", j->audio.token_price < 0 ? "verbose_json" :
	    "json");
	if (form == NULL || (j->language != NULL && json_object_set_new(form,
	    "language", json_string(j->language)) == -1)) {
		err = rl_error_set(e, RL_ENOMEM, "transcription form");
		goto out;
	}
	ai.user_id = j->req->user->id;
	ai.feature = j->feature;
	ai.request_id = j->req->id;
	ai.model = &j->model;
	ai.later = 1;
	ai.kind = RL_AI_AUDIO;
	ai.audio = j->audio;
	ai.call.path = "/audio/transcriptions";
	ai.call.upload_path = j->upload->path;
	ai.call.upload_name = j->upload->filename;
	ai.call.form = form;
	if ((err = rl_ai_call(&ai, e)) != RL_OK)
		goto out;
	if (!json_is_string(json_object_get(ai.call.answer, "text"))) {
		err = rl_error_set(e, RL_EUPSTREAM, "transcription answer "
		    "without text");
		goto out;
	}
	/* The upstream's duration when it gives one, else the header's. */
	dur = json_object_get(ai.call.answer, "duration");
	err = rl_resp_json_new(j->req, 200, json_pack("{s:O, s:o, s:f, s:s}",
	    "text", json_object_get(ai.call.answer, "text"),
	    "language", language(j, ai.call.answer),
	    "duration", json_is_number(dur) ? json_number_value(dur) :
	    (double)j->audio.ms / 1000.0,
	    "model", j->model.name));
out:
	json_decref(form);
	rl_ai_free(&ai);
	return err;
}

/*
 * The upload's checks, in the order that costs least: present, size,
 * extension, magic bytes (mapped, never copied), duration.  415 for a
 * file that is not one of the formats (or lies about which), 422 for
 * one whose duration cannot be read.
 */
static enum rl_err
check(struct job *j, struct rl_error *e)
{
	const struct rl_upload	*u;
	enum rl_audio_fmt	 ext, fmt;
	unsigned char		*m = MAP_FAILED;
	struct stat		 st;
	struct rl_error		 ae;
	enum rl_err		 err = RL_OK;
	int			 fd = -1;

	if ((u = j->upload = rl_req_upload(j->req, "file")) == NULL)
		return rl_error_field(e, RL_EVALIDATION, "file", "Aucun "
		    "fichier audio fourni (champ file).");
	if (u->size > RL_AUDIO_FILE_MAX)
		return rl_error_field(e, RL_ETOOBIG, "file", "Fichier audio "
		    "de plus de %d Mo.", RL_AUDIO_FILE_MAX / (1024 * 1024));
	if ((ext = rl_audio_ext(u->filename)) == RL_AUDIO_NONE)
		return rl_error_field(e, RL_EMEDIA, "file", "Extension non "
		    "prise en charge (mp3, mp4, mpeg, mpga, m4a, wav, webm).");
	if (u->size == 0)
		return rl_error_field(e, RL_EVALIDATION, "file", "Fichier "
		    "audio vide.");
	if ((fd = open(u->path, O_RDONLY | O_CLOEXEC)) == -1 ||
	    fstat(fd, &st) == -1 || (size_t)st.st_size != u->size ||
	    (m = mmap(NULL, u->size, PROT_READ, MAP_PRIVATE, fd, 0)) ==
	    MAP_FAILED) {
		err = rl_error_set(e, RL_EIO, "upload %s unreadable", u->path);
		goto out;
	}
	if ((fmt = rl_audio_sniff(m, u->size)) != ext) {
		err = rl_error_field(e, RL_EMEDIA, "file", "Le contenu du "
		    "fichier n'est pas du %s (octets magiques : %s).",
		    rl_audio_name(ext), rl_audio_name(fmt));
		goto out;
	}
	if ((err = rl_audio_duration(fmt, m, u->size, &j->audio.ms,
	    &ae)) != RL_OK)
		err = rl_error_field(e, RL_EVALIDATION, "file", "Durée "
		    "illisible : %.200s", ae.msg);
out:
	if (m != MAP_FAILED)
		(void)munmap(m, u->size);
	if (fd != -1)
		(void)close(fd);
	return err;
}

/* ?language=: an ISO-639-1 code, two lowercase letters. */
static enum rl_err
lang_param(struct job *j, struct rl_error *e)
{
	const char	*l;

	if ((l = rl_req_query(j->req, "language")) == NULL || *l == '\0')
		return RL_OK;
	if (strlen(l) != 2 || !islower((unsigned char)l[0]) ||
	    !islower((unsigned char)l[1]))
		return rl_error_field(e, RL_EVALIDATION, "language", "Code "
		    "de langue ISO-639-1 attendu (ex. fr, en).");
	j->language = l;
	return RL_OK;
}

/* POST /transcription */
static enum rl_err
transcribe(struct rl_req *req, struct rl_error *e)
{
	struct job	 j;
	enum rl_err	 err;

	memset(&j, 0, sizeof(j));
	j.req = req;
	j.feature = FEATURE;
	if ((err = lang_param(&j, e)) != RL_OK ||
	    (err = check(&j, e)) != RL_OK ||
	    (err = prices(&j, env_or("RELAIS_TRANSCRIPTION_MODEL",
	    MODEL_DEFAULT), e)) != RL_OK)
		return err;
	return call(&j, e);
}

/*
 * POST /transcription/meeting: the meeting model, and a recording longer
 * than max_duration_seconds (request schema transcription.meeting) is
 * refused before any money is held or byte sent.
 */
static enum rl_err
meeting(struct rl_req *req, struct rl_error *e)
{
	struct job	 j;
	json_t		*v;
	long long	 max = RL_AUDIO_MEETING_SECONDS_DEFAULT;
	enum rl_err	 err;

	memset(&j, 0, sizeof(j));
	j.req = req;
	j.feature = FEATURE_MEETING;
	if ((v = json_object_get(req->json, "max_duration_seconds")) != NULL)
		max = json_integer_value(v);
	if ((err = lang_param(&j, e)) != RL_OK ||
	    (err = check(&j, e)) != RL_OK)
		return err;
	if (j.audio.ms > max * 1000)
		return rl_error_field(e, RL_EVALIDATION,
		    "max_duration_seconds", "Enregistrement de %.1f s, plus "
		    "long que max_duration_seconds (%lld s).",
		    (double)j.audio.ms / 1000.0, max);
	if ((err = prices(&j, env_or("RELAIS_MEETING_TRANSCRIPTION_MODEL",
	    MEETING_MODEL_DEFAULT), e)) != RL_OK)
		return err;
	return call(&j, e);
}

/* GET /transcription/supported-formats, the seed's body. */
static enum rl_err
supported(struct rl_req *req, struct rl_error *e)
{
	json_t	*a;
	size_t	 i;

	if ((a = json_array()) == NULL)
		return rl_error_set(e, RL_ENOMEM, "formats");
	for (i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
		(void)json_array_append_new(a, json_string(formats[i]));
	return rl_resp_json_new(req, 200, json_pack("{s:o, s:i, s:s, s:s}",
	    "supported_formats", a,
	    "max_file_size_mb", RL_AUDIO_FILE_MAX / (1024 * 1024),
	    "model", env_or("RELAIS_TRANSCRIPTION_MODEL", MODEL_DEFAULT),
	    "languages", "Auto-detection or specify ISO-639-1 code"));
}

/*
 * GET /health: seed 004's shape, no authentication.  The timestamp is
 * UTC in the seed's form (Python's naive isoformat, microseconds).  503
 * and "unhealthy" while PostgreSQL does not answer; /api/health
 * (settings.c) keeps its own body.
 */
static enum rl_err
health(struct rl_req *req, struct rl_error *e)
{
	struct rl_error	 dbe;
	struct timespec	 ts;
	struct tm	 tm;
	char		 when[64], day[32];
	int		 up;

	up = rl_db_ping(&dbe) == RL_OK;
	(void)clock_gettime(CLOCK_REALTIME, &ts);
	(void)gmtime_r(&ts.tv_sec, &tm);
	(void)strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm);
	(void)snprintf(when, sizeof(when), "%s.%06ld", day,
	    ts.tv_nsec / 1000);
	return rl_resp_json_new(req, up ? 200 : 503,
	    json_pack("{s:s, s:s, s:s, s:s, s:s}",
	    "status", up ? "healthy" : "unhealthy",
	    "version", RL_VERSION,
	    "title", env_or("RELAIS_TITLE", TITLE_DEFAULT),
	    "environment", env_or("RELAIS_ENVIRONMENT", ENVIRONMENT_DEFAULT),
	    "timestamp", when));
}

/*
 * Bearer (or session) authentication like /completion; the uploads'
 * routes take a multipart body up to RL_AUDIO_BODY_MAX.
 */
static const struct rl_route routes[] = {
	{ "POST", "/transcription", transcribe, NULL, RL_ROUTE_AUTH |
	    RL_ROUTE_MULTIPART, RL_AUDIO_BODY_MAX },
	{ "POST", "/transcription/meeting", meeting, "transcription.meeting",
	    RL_ROUTE_AUTH | RL_ROUTE_MULTIPART, RL_AUDIO_BODY_MAX },
	{ "GET", "/transcription/supported-formats", supported, NULL,
	    RL_ROUTE_AUTH, 0 },
	{ "GET", "/health", health, NULL, 0, 0 },
};

static const struct rl_program program = {
	"transcription", routes, RL_NROUTES(routes), 0, 1, NULL
};

int
main(int argc, char *argv[])
{

	return rl_main(argc, argv, &program);
}
