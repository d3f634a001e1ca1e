/*
 * fake-openai: /v1/files kept in memory, multipart/form-data parsing,
 * list pagination and POST /v1/audio/transcriptions.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fake.h"

/* All file contents together; uploads past this are refused. */
#define MAX_FILES_BYTES		(256L * 1024 * 1024)
/* Number of files kept; a list over this would be paginated anyway. */
#define MAX_FILES		10000
/* Form fields we look at in one upload. */
#define MAX_PARTS		16
/* The default page size of GET /v1/files, as OpenAI's. */
#define FILES_PAGE_DEFAULT	10000
/* Audio bytes per "second" when inventing a duration (16 kHz mono s16). */
#define AUDIO_BYTES_PER_S	32000

struct file {
	char	 id[64];
	char	*data;
	size_t	 len;
	json_t	*meta;
};

struct part {
	char		 name[128];
	char		 filename[256];
	char		 ctype[128];
	const char	*data;
	size_t		 len;
};

static pthread_mutex_t	 files_lock = PTHREAD_MUTEX_INITIALIZER;
static struct file	*files;
static size_t		 nfiles;
static size_t		 files_bytes;

/* Copy the value of a header parameter such as name="file". */
static void
header_param(const char *h, size_t hl, const char *key, char *out,
    size_t outsz)
{
	const char *p, *end = h + hl, *v;
	size_t kl = strlen(key), n;

	out[0] = '\0';
	for (p = h; p + kl + 1 < end; p++) {
		if ((p == h || p[-1] == ' ' || p[-1] == ';') &&
		    strncasecmp(p, key, kl) == 0 && p[kl] == '=')
			break;
	}
	if (p + kl + 1 >= end)
		return;
	v = p + kl + 1;
	if (*v == '"') {
		v++;
		for (n = 0; v + n < end && v[n] != '"'; n++)
			;
	} else
		for (n = 0; v + n < end && v[n] != ';' && v[n] != '\r'; n++)
			;
	if (n >= outsz)
		n = outsz - 1;
	memcpy(out, v, n);
	out[n] = '\0';
}

/*
 * Split a multipart/form-data body into parts.  The data pointers point
 * into body.  Returns the number of parts, or -1 when malformed.
 */
static int
multipart_parse(const char *ctype, const char *body, size_t len,
    struct part *parts, int maxparts)
{
	char boundary[256], delim[260];
	const char *p, *end = body + len, *hend, *line, *next, *le;
	size_t dl;
	int n = 0;

	if (ctype == NULL || strncasecmp(ctype, "multipart/form-data", 19))
		return -1;
	header_param(ctype, strlen(ctype), "boundary", boundary,
	    sizeof(boundary));
	if (boundary[0] == '\0')
		return -1;
	dl = (size_t)snprintf(delim, sizeof(delim), "--%s", boundary);
	if ((p = memmem(body, len, delim, dl)) == NULL)
		return -1;
	for (;;) {
		p += dl;
		if (end - p >= 2 && p[0] == '-' && p[1] == '-')
			return n;
		if (end - p < 2 || p[0] != '\r' || p[1] != '\n')
			return -1;
		p += 2;
		hend = memmem(p, (size_t)(end - p), "\r\n\r\n", 4);
		if (hend == NULL)
			return -1;
		if (n < maxparts)
			memset(&parts[n], 0, sizeof(parts[n]));
		for (line = p; line < hend; line = le + 2) {
			le = memmem(line, (size_t)(hend + 2 - line), "\r\n", 2);
			if (le == NULL)
				le = hend;
			if (n >= maxparts)
				continue;
			if (strncasecmp(line, "Content-Disposition:",
			    20) == 0) {
				header_param(line, (size_t)(le - line), "name",
				    parts[n].name, sizeof(parts[n].name));
				header_param(line, (size_t)(le - line),
				    "filename", parts[n].filename,
				    sizeof(parts[n].filename));
			} else if (strncasecmp(line, "Content-Type:", 13) ==
			    0) {
				line += 13;
				while (line < le && *line == ' ')
					line++;
				snprintf(parts[n].ctype,
				    sizeof(parts[n].ctype), "%.*s",
				    (int)(le - line), line);
			}
		}
		p = hend + 4;
		/* The next delimiter, which always follows a CRLF. */
		for (next = p; (next = memmem(next, (size_t)(end - next),
		    delim, dl)) != NULL; next++)
			if (next - p >= 2 && next[-2] == '\r' &&
			    next[-1] == '\n')
				break;
		if (next == NULL)
			return -1;
		if (n < maxparts) {
			parts[n].data = p;
			parts[n].len = (size_t)(next - 2 - p);
			n++;
		}
		p = next;
	}
}

static struct part *
find_part(struct part *parts, int n, const char *name)
{
	int i;

	for (i = 0; i < n; i++)
		if (strcmp(parts[i].name, name) == 0)
			return &parts[i];
	return NULL;
}

/* A text field's value as a C string, or NULL. */
static char *
part_text(struct part *p)
{
	char *s;

	if (p == NULL)
		return NULL;
	if ((s = malloc(p->len + 1)) == NULL)
		abort();
	memcpy(s, p->data, p->len);
	s[p->len] = '\0';
	return s;
}

static json_t *
file_meta(const char *id, const char *filename, const char *purpose,
    size_t len)
{
	return json_pack("{s:s,s:s,s:I,s:I,s:n,s:s,s:s,s:s,s:n}", "id", id,
	    "object", "file", "bytes", (json_int_t)len,
	    "created_at", (json_int_t)now_unix(), "expires_at",
	    "filename", filename, "purpose", purpose, "status", "processed",
	    "status_details");
}

/*
 * Store a copy of data.  Returns a new reference to the file object, or
 * NULL when the store is full.
 */
json_t *
files_put(const char *filename, const char *purpose, const char *data,
    size_t len)
{
	struct file *f, *nf;
	json_t *meta = NULL;

	pthread_mutex_lock(&files_lock);
	if (nfiles >= MAX_FILES || files_bytes + len > (size_t)MAX_FILES_BYTES)
		goto out;
	if ((nf = realloc(files, (nfiles + 1) * sizeof(*nf))) == NULL)
		abort();
	files = nf;
	f = &files[nfiles];
	make_id(f->id, sizeof(f->id), "file-");
	if ((f->data = malloc(len > 0 ? len : 1)) == NULL)
		abort();
	memcpy(f->data, data, len);
	f->len = len;
	f->meta = file_meta(f->id, filename, purpose, len);
	meta = json_deep_copy(f->meta);
	files_bytes += len;
	nfiles++;
out:
	pthread_mutex_unlock(&files_lock);
	return meta;
}

static struct file *
find_file(const char *id)
{
	size_t i;

	for (i = 0; i < nfiles; i++)
		if (strcmp(files[i].id, id) == 0)
			return &files[i];
	return NULL;
}

/* Copy out a file's bytes (NUL-terminated for convenience). */
int
files_get_copy(const char *id, char **data, size_t *len)
{
	struct file *f;
	int ret = -1;

	pthread_mutex_lock(&files_lock);
	if ((f = find_file(id)) != NULL) {
		if ((*data = malloc(f->len + 1)) == NULL)
			abort();
		memcpy(*data, f->data, f->len);
		(*data)[f->len] = '\0';
		*len = f->len;
		ret = 0;
	}
	pthread_mutex_unlock(&files_lock);
	return ret;
}

void
files_store_free(void)
{
	size_t i;

	pthread_mutex_lock(&files_lock);
	for (i = 0; i < nfiles; i++) {
		free(files[i].data);
		json_decref(files[i].meta);
	}
	free(files);
	files = NULL;
	nfiles = files_bytes = 0;
	pthread_mutex_unlock(&files_lock);
}

static enum MHD_Result
missing(struct req *r, const char *param)
{
	char msg[128];

	snprintf(msg, sizeof(msg), "Missing required parameter: '%s'.",
	    param);
	return reply_error(r, MHD_HTTP_BAD_REQUEST, "invalid_request_error",
	    msg, param, "missing_required_parameter");
}

static enum MHD_Result
no_such_file(struct req *r, const char *id)
{
	char msg[256];

	snprintf(msg, sizeof(msg), "No such File object: %.100s", id);
	return reply_error(r, MHD_HTTP_NOT_FOUND, "invalid_request_error",
	    msg, "id", NULL);
}

static int
parse_form(struct req *r, struct part *parts)
{
	return multipart_parse(req_header(r, MHD_HTTP_HEADER_CONTENT_TYPE),
	    r->body ? r->body : "", r->len, parts, MAX_PARTS);
}

enum MHD_Result
handle_files_upload(struct req *r)
{
	struct part parts[MAX_PARTS];
	struct part *file;
	char *purpose;
	json_t *meta;
	int n;

	if ((n = parse_form(r, parts)) < 0)
		return reply_error(r, MHD_HTTP_BAD_REQUEST,
		    "invalid_request_error", "Expected a multipart/form-data "
		    "body.", NULL, NULL);
	if ((file = find_part(parts, n, "file")) == NULL)
		return missing(r, "file");
	if ((purpose = part_text(find_part(parts, n, "purpose"))) == NULL)
		return missing(r, "purpose");
	meta = files_put(file->filename[0] ? file->filename : "upload",
	    purpose, file->data, file->len);
	free(purpose);
	if (meta == NULL)
		return reply_error(r, MHD_HTTP_BAD_REQUEST,
		    "invalid_request_error", "fake-openai file storage is "
		    "full.", "file", NULL);
	return reply_json(r, MHD_HTTP_OK, meta);
}

/*
 * Cursor pagination as OpenAI lists do it: items (oldest first, owned)
 * are ordered, cut after ?after= and to ?limit=.
 */
json_t *
paginate(json_t *items, struct req *r, long def_limit, int desc_default)
{
	json_t *data, *it;
	const char *after, *order, *ls;
	size_t i, n, start = 0;
	long limit;
	int desc;

	ls = req_query(r, "limit");
	limit = ls ? strtol(ls, NULL, 10) : def_limit;
	if (limit < 1)
		limit = def_limit;
	order = req_query(r, "order");
	desc = order ? strcmp(order, "desc") == 0 : desc_default;
	n = json_array_size(items);
	if (desc) {
		for (i = 0; i < n / 2; i++) {
			it = json_incref(json_array_get(items, i));
			json_array_set(items, i,
			    json_array_get(items, n - 1 - i));
			json_array_set_new(items, n - 1 - i, it);
		}
	}
	if ((after = req_query(r, "after")) != NULL) {
		json_array_foreach(items, i, it)
			if (strcmp(json_str(it, "id"), after) == 0) {
				start = i + 1;
				break;
			}
	}
	data = json_array();
	for (i = start; i < n && (long)(i - start) < limit; i++)
		json_array_append(data, json_array_get(items, i));
	json_decref(items);
	return json_pack("{s:s,s:o,s:O,s:O,s:b}", "object", "list",
	    "data", data,
	    "first_id", json_array_size(data) ?
	    json_object_get(json_array_get(data, 0), "id") : json_null(),
	    "last_id", json_array_size(data) ? json_object_get(
	    json_array_get(data, json_array_size(data) - 1), "id") :
	    json_null(),
	    "has_more", i < n);
}

enum MHD_Result
handle_files_list(struct req *r)
{
	json_t *items;
	const char *purpose, *fp;
	size_t i;

	purpose = req_query(r, "purpose");
	items = json_array();
	pthread_mutex_lock(&files_lock);
	for (i = 0; i < nfiles; i++) {
		fp = json_str(files[i].meta, "purpose");
		if (purpose == NULL || strcmp(purpose, fp) == 0)
			json_array_append_new(items,
			    json_deep_copy(files[i].meta));
	}
	pthread_mutex_unlock(&files_lock);
	return reply_json(r, MHD_HTTP_OK, paginate(items, r,
	    FILES_PAGE_DEFAULT, 1));
}

enum MHD_Result
handle_files_get(struct req *r, const char *id)
{
	struct file *f;
	json_t *meta = NULL;

	pthread_mutex_lock(&files_lock);
	if ((f = find_file(id)) != NULL)
		meta = json_deep_copy(f->meta);
	pthread_mutex_unlock(&files_lock);
	if (meta == NULL)
		return no_such_file(r, id);
	return reply_json(r, MHD_HTTP_OK, meta);
}

enum MHD_Result
handle_files_content(struct req *r, const char *id)
{
	char *data;
	size_t len;

	if (files_get_copy(id, &data, &len) != 0)
		return no_such_file(r, id);
	return reply_raw(r, MHD_HTTP_OK, "application/octet-stream", data,
	    len);
}

enum MHD_Result
handle_files_delete(struct req *r, const char *id)
{
	struct file *f;
	int found = 0;

	pthread_mutex_lock(&files_lock);
	if ((f = find_file(id)) != NULL) {
		files_bytes -= f->len;
		free(f->data);
		json_decref(f->meta);
		memmove(f, f + 1, (size_t)(files + nfiles - (f + 1)) *
		    sizeof(*f));
		nfiles--;
		found = 1;
	}
	pthread_mutex_unlock(&files_lock);
	if (!found)
		return no_such_file(r, id);
	return reply_json(r, MHD_HTTP_OK, json_pack("{s:s,s:s,s:b}", "id", id,
	    "object", "file", "deleted", 1));
}

/*
 * What the transcriptions route received, for tests that must see that
 * nothing was sent (GET /_fake/audio): how many requests, and the last
 * one's model, file name, size and language.
 */
static pthread_mutex_t	 audio_lock = PTHREAD_MUTEX_INITIALIZER;
static long		 audio_requests;
static char		 audio_last_model[64], audio_last_name[256];
static char		 audio_last_lang[16];
static size_t		 audio_last_bytes;

enum MHD_Result
handle_audio_stats(struct req *r)
{
	json_t *v;

	pthread_mutex_lock(&audio_lock);
	v = json_pack("{s:I,s:s,s:s,s:I,s:s}", "requests",
	    (json_int_t)audio_requests, "model", audio_last_model,
	    "filename", audio_last_name, "bytes",
	    (json_int_t)audio_last_bytes, "language", audio_last_lang);
	pthread_mutex_unlock(&audio_lock);
	return reply_json(r, MHD_HTTP_OK, v);
}

static uint32_t
le32(const unsigned char *p)
{

	return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[1] << 8 | p[0];
}

/*
 * The recording's length as the real service would hear it: a WAV's
 * data chunk over its byte rate; anything else is guessed from its size
 * (AUDIO_BYTES_PER_S), as the fake decodes nothing.
 */
static double
audio_seconds(const struct part *f)
{
	const unsigned char *b = (const unsigned char *)f->data;
	size_t off = 12, csz;
	uint32_t rate = 0;

	if (f->len >= 12 && memcmp(b, "RIFF", 4) == 0 &&
	    memcmp(b + 8, "WAVE", 4) == 0)
		while (off + 8 <= f->len) {
			csz = le32(b + off + 4);
			if (memcmp(b + off, "fmt ", 4) == 0 &&
			    off + 8 + 12 <= f->len)
				rate = le32(b + off + 16);
			else if (memcmp(b + off, "data", 4) == 0 && rate > 0) {
				if (csz > f->len - off - 8)
					csz = f->len - off - 8;
				return (double)csz / rate;
			}
			if (csz > f->len - off - 8)
				break;
			off += 8 + csz + (csz & 1);
		}
	return f->len / AUDIO_BYTES_PER_S > 0 ?
	    (double)(f->len / AUDIO_BYTES_PER_S) : 1.0;
}

enum MHD_Result
handle_transcription(struct req *r)
{
	struct part parts[MAX_PARTS];
	struct part *file;
	char *model, *fmt, *text, *out, *lang, *prompt;
	json_t *usage, *v;
	double dsecs;
	long secs, atok, ttok, otok;
	size_t tl;
	int n, tokens;

	if ((n = parse_form(r, parts)) < 0)
		return reply_error(r, MHD_HTTP_BAD_REQUEST,
		    "invalid_request_error", "Expected a multipart/form-data "
		    "body.", NULL, NULL);
	if ((file = find_part(parts, n, "file")) == NULL)
		return missing(r, "file");
	if ((model = part_text(find_part(parts, n, "model"))) == NULL)
		return missing(r, "model");
	fmt = part_text(find_part(parts, n, "response_format"));
	lang = part_text(find_part(parts, n, "language"));
	prompt = part_text(find_part(parts, n, "prompt"));
	pthread_mutex_lock(&audio_lock);
	audio_requests++;
	snprintf(audio_last_model, sizeof(audio_last_model), "%s", model);
	snprintf(audio_last_name, sizeof(audio_last_name), "%s",
	    file->filename);
	snprintf(audio_last_lang, sizeof(audio_last_lang), "%s",
	    lang != NULL ? lang : "");
	audio_last_bytes = file->len;
	pthread_mutex_unlock(&audio_lock);
	/* The gpt-4o transcribe family answers json or text only. */
	tokens = strncmp(model, "gpt-4o", 6) == 0;
	if (tokens && fmt != NULL && strcmp(fmt, "json") != 0 &&
	    strcmp(fmt, "text") != 0) {
		free(model);
		free(fmt);
		free(lang);
		free(prompt);
		return reply_error(r, MHD_HTTP_BAD_REQUEST,
		    "invalid_request_error", "response_format must be json "
		    "or text for this model.", "response_format",
		    "unsupported_value");
	}
	dsecs = audio_seconds(file);
	secs = (long)dsecs;
	if (secs < dsecs)
		secs++;
	if (secs < 1)
		secs = 1;
	tl = strlen(file->filename) + 128;
	if ((text = malloc(tl)) == NULL)
		abort();
	snprintf(text, tl, "Bonjour! Ceci est une transcription simulée de "
	    "%s (%zu octets).", file->filename[0] ? file->filename : "audio",
	    file->len);
	free(model);
	if (fmt != NULL && (strcmp(fmt, "text") == 0 ||
	    strcmp(fmt, "srt") == 0 || strcmp(fmt, "vtt") == 0)) {
		tl = strlen(text) + 128;
		if ((out = malloc(tl)) == NULL)
			abort();
		if (strcmp(fmt, "srt") == 0)
			snprintf(out, tl, "1\n00:00:00,000 --> 00:00:%02ld,000"
			    "\n%s\n\n", secs % 60, text);
		else if (strcmp(fmt, "vtt") == 0)
			snprintf(out, tl, "WEBVTT\n\n00:00:00.000 --> "
			    "00:00:%02ld.000\n%s\n\n", secs % 60, text);
		else
			snprintf(out, tl, "%s\n", text);
		free(text);
		free(fmt);
		return reply_raw(r, MHD_HTTP_OK, "text/plain; charset=utf-8",
		    out, strlen(out));
	}
	/*
	 * OpenAI's usage: whisper-1 bills seconds (whole ones); the gpt-4o
	 * transcribe family tokens, audio ones about 1000 a minute, text
	 * ones for a prompt, output about one per 4 bytes of text.
	 */
	if (tokens) {
		atok = (long)(dsecs * 1000 / 60) + 1;
		ttok = prompt != NULL ? (long)(strlen(prompt) + 3) / 4 : 0;
		otok = (long)(strlen(text) + 3) / 4;
		usage = json_pack("{s:s,s:I,s:I,s:I,s:{s:I,s:I}}", "type",
		    "tokens", "input_tokens", (json_int_t)(atok + ttok),
		    "output_tokens", (json_int_t)otok, "total_tokens",
		    (json_int_t)(atok + ttok + otok), "input_token_details",
		    "audio_tokens", (json_int_t)atok, "text_tokens",
		    (json_int_t)ttok);
	} else
		usage = json_pack("{s:s,s:I}", "type", "duration", "seconds",
		    (json_int_t)secs);
	free(lang);
	free(prompt);
	if (fmt != NULL && strcmp(fmt, "verbose_json") == 0)
		v = json_pack("{s:s,s:s,s:f,s:s,s:[{s:i,s:i,s:f,s:f,s:s,"
		    "s:[],s:f,s:f,s:f,s:f}],s:o}", "task", "transcribe",
		    "language", "french", "duration", dsecs, "text",
		    text, "segments", "id", 0, "seek", 0, "start", 0.0,
		    "end", dsecs, "text", text, "tokens",
		    "temperature", 0.0, "avg_logprob", -0.25,
		    "compression_ratio", 1.0, "no_speech_prob", 0.0,
		    "usage", usage);
	else
		v = json_pack("{s:s,s:o}", "text", text, "usage", usage);
	free(text);
	free(fmt);
	return reply_json(r, MHD_HTTP_OK, v);
}

/*
 * POST /v1/realtime/calls: OpenAI's WebRTC SDP exchange (multipart: the
 * caller's offer in "sdp", the session as JSON in "session").  The answer
 * is an SDP document (201, application/sdp) whose session line names the
 * offer's, so a test sees that its own offer went through; a body that is
 * not an offer is the 400 OpenAI gives.
 */
enum MHD_Result
handle_realtime_call(struct req *r)
{
	struct part parts[MAX_PARTS];
	char *sdp, *session, *out, *o, *eol;
	json_t *sj;
	size_t cap;
	int n;

	if ((n = parse_form(r, parts)) < 0)
		return reply_error(r, MHD_HTTP_BAD_REQUEST,
		    "invalid_request_error", "Expected a multipart/form-data "
		    "body.", NULL, NULL);
	if ((sdp = part_text(find_part(parts, n, "sdp"))) == NULL)
		return missing(r, "sdp");
	if (strncmp(sdp, "v=0", 3) != 0) {
		free(sdp);
		return reply_error(r, MHD_HTTP_BAD_REQUEST,
		    "invalid_request_error", "Invalid SDP offer.", "sdp",
		    "invalid_offer");
	}
	session = part_text(find_part(parts, n, "session"));
	sj = session != NULL ? json_loads(session, 0, NULL) : NULL;
	free(session);
	if (session != NULL && !json_is_object(sj)) {
		json_decref(sj);
		free(sdp);
		return reply_error(r, MHD_HTTP_BAD_REQUEST,
		    "invalid_request_error", "session must be a JSON object.",
		    "session", NULL);
	}
	/* The offer's origin line, echoed: o=- ... of the caller. */
	o = strstr(sdp, "\no=");
	if (o != NULL && (eol = strpbrk(o + 1, "\r\n")) != NULL)
		*eol = '\0';
	cap = 512 + (o != NULL ? strlen(o) : 0);
	out = malloc(cap);
	if (out == NULL) {
		json_decref(sj);
		free(sdp);
		return MHD_NO;
	}
	snprintf(out, cap, "v=0\r\no=- 4227147428 1719357865 IN IP4 "
	    "127.0.0.1\r\ns=fake-openai %s\r\na=x-offer:%s\r\nt=0 0\r\n"
	    "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=setup:active\r\n"
	    "a=rtpmap:111 opus/48000/2\r\n", json_str(sj, "model") != NULL ?
	    json_str(sj, "model") : "gpt-realtime", o != NULL ? o + 3 : "-");
	json_decref(sj);
	free(sdp);
	return reply_raw(r, 201, "application/sdp", out, strlen(out));
}
