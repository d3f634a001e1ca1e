/*
 * fake-openai: identifiers, token counting, deterministic answer text.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fake.h"

/* A JSON text rendered by the fake never needs more than this depth. */
#define WALK_MAX_DEPTH	64

static atomic_ullong	id_counter;
static unsigned int	id_salt;
static pthread_once_t	id_once = PTHREAD_ONCE_INIT;

static void
id_init(void)
{
	id_salt = ((unsigned int)getpid() * 2654435761U) ^
	    (unsigned int)time(NULL);
}

/*
 * Ids only need to be unique within one process, but a salt keeps two
 * fakes started by the same test from handing out identical ids.
 */
void
make_id(char *buf, size_t sz, const char *prefix)
{
	unsigned long long n;

	pthread_once(&id_once, id_init);
	n = atomic_fetch_add(&id_counter, 1) + 1;
	snprintf(buf, sz, "%s%08x%016llx", prefix, id_salt, n);
}

long
now_unix(void)
{
	return (long)time(NULL);
}

long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

char *
xstrdup(const char *s)
{
	char *p;

	if ((p = strdup(s)) == NULL) {
		perror("strdup");
		abort();
	}
	return p;
}

char *
dump_compact(json_t *v)
{
	char *s;

	s = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER |
	    JSON_ENCODE_ANY);
	if (s == NULL)
		s = xstrdup("null");
	return s;
}

/* String member of an object, or NULL when absent or not a string. */
const char *
json_str(json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

/* Unicode code points in UTF-8 text: bytes that are not continuations. */
long
count_codepoints(const char *s)
{
	long n = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xC0) != 0x80)
			n++;
	return n;
}

static int
counted_key(const char *k)
{
	static const char *const keys[] = {
		"content", "text", "output", "arguments", "input",
		"instructions", NULL
	};
	int i;

	for (i = 0; keys[i] != NULL; i++)
		if (strcmp(k, keys[i]) == 0)
			return 1;
	return 0;
}

/*
 * Code points of the strings that carry conversation text: values of
 * the keys listed in counted_key(), and strings inside arrays held by
 * such keys.  Roles, types, ids and urls do not count.
 */
static long
walk_text(json_t *v, int counted, int depth)
{
	const char *k;
	json_t *c;
	size_t i;
	long n = 0;

	if (depth > WALK_MAX_DEPTH)
		return 0;
	if (json_is_string(v))
		return counted ? count_codepoints(json_string_value(v)) : 0;
	if (json_is_array(v)) {
		json_array_foreach(v, i, c)
			n += walk_text(c, counted, depth + 1);
		return n;
	}
	if (json_is_object(v)) {
		json_object_foreach(v, k, c)
			n += walk_text(c, counted_key(k), depth + 1);
	}
	return n;
}

/* The token rule: ceil(code points / 4) of the conversation text. */
long
count_input_tokens(json_t *v)
{
	long cp;

	cp = walk_text(v, 0, 0);
	return (cp + 3) / 4;
}

static const char *const words_greeting[] = {
	"Bonjour!", "Ceci", "est", "une", "réponse", "simulée", "de"
};
static const char *const words_tool[] = {
	"D'après", "l'outil,", "voici", "la", "réponse", "simulée", "de"
};
static const char *const words_reasoning[] = {
	"Je", "réfléchis", "à", "la", "question", "avant", "de"
};
#define WORDS_PER_CYCLE	8	/* the seven words above plus "MODEL." */

/*
 * n deltas: the sentence "Bonjour! Ceci est une réponse simulée de
 * MODEL." cut at word boundaries, repeated when n exceeds its length.
 */
json_t *
words_pieces(const char *model, long n, int variant)
{
	const char *const *w;
	char buf[512];
	json_t *a;
	long i;

	w = variant == 1 ? words_tool : variant == 2 ? words_reasoning :
	    words_greeting;
	a = json_array();
	for (i = 0; i < n; i++) {
		if (i % WORDS_PER_CYCLE == WORDS_PER_CYCLE - 1)
			snprintf(buf, sizeof(buf), "%s%.200s.",
			    i > 0 ? " " : "", model);
		else
			snprintf(buf, sizeof(buf), "%s%s", i > 0 ? " " : "",
			    w[i % WORDS_PER_CYCLE]);
		json_array_append_new(a, json_string(buf));
	}
	return a;
}

/*
 * At most n non-empty deltas of roughly equal byte length, cut only at
 * UTF-8 code point boundaries so each delta is valid text.
 */
json_t *
split_pieces(const char *text, long n)
{
	size_t len, start, end;
	json_t *a;
	long i;

	a = json_array();
	len = strlen(text);
	if (n < 1)
		n = 1;
	start = 0;
	for (i = 1; i <= n && start < len; i++) {
		end = i == n ? len : (size_t)((double)len * i / n);
		while (end < len && ((unsigned char)text[end] & 0xC0) == 0x80)
			end++;
		if (end <= start)
			continue;
		json_array_append_new(a, json_stringn(text + start,
		    end - start));
		start = end;
	}
	if (len == 0)
		json_array_append_new(a, json_string(""));
	return a;
}

char *
join_pieces(json_t *pieces)
{
	size_t i, len = 0, l;
	json_t *p;
	char *s;

	json_array_foreach(pieces, i, p)
		len += json_string_length(p);
	if ((s = malloc(len + 1)) == NULL)
		abort();
	len = 0;
	json_array_foreach(pieces, i, p) {
		l = json_string_length(p);
		memcpy(s + len, json_string_value(p), l);
		len += l;
	}
	s[len] = '\0';
	return s;
}

/*
 * The "invalid-json" fault: text that looks like the answer but does not
 * parse.  Dropping the closing bracket breaks objects and arrays; other
 * roots get an unmatched brace in front.
 */
char *
invalid_json_of(const char *valid)
{
	size_t len;
	char *s;

	len = strlen(valid);
	if (len > 1 && (valid[0] == '{' || valid[0] == '[')) {
		s = xstrdup(valid);
		s[len - 1] = '\0';
		return s;
	}
	if ((s = malloc(len + 2)) == NULL)
		abort();
	s[0] = '{';
	memcpy(s + 1, valid, len + 1);
	return s;
}

/* o1, o3, o4-mini, gpt-5...: the families that emit reasoning items. */
int
is_reasoning_model(const char *m)
{
	if (m == NULL)
		return 0;
	if (m[0] == 'o' && m[1] >= '1' && m[1] <= '9')
		return 1;
	return strncmp(m, "gpt-5", 5) == 0;
}

void
plan_free(struct plan *p)
{
	free(p->tool_name);
	free(p->text);
	free(p->reasoning);
	json_decref(p->pieces);
	json_decref(p->reasoning_pieces);
	memset(p, 0, sizeof(*p));
}

/*
 * Text answer.  variant 1 is the answer after a tool result.  A schema
 * gives a synthesised instance, json_object a fixed-shape object.
 */
/*
 * The "schema-invalid" fault: valid JSON that the schema refuses.  An
 * object loses its first required property; without one, its first
 * property gets a value of the wrong type (an array, which no scalar or
 * object schema takes, not even after Pydantic's lax coercions).  Other
 * instances are replaced by such an array, or by a string for an array.
 */
static void
break_instance(json_t *v, json_t *schema)
{
	json_t *req, *props;
	const char *name;
	void *it;

	req = json_object_get(schema, "required");
	if (json_is_object(v) && json_array_size(req) > 0 &&
	    (name = json_string_value(json_array_get(req, 0))) != NULL) {
		json_object_del(v, name);
		return;
	}
	props = json_object_get(schema, "properties");
	if (json_is_object(v) && (it = json_object_iter(props)) != NULL) {
		json_object_set_new(v, json_object_iter_key(it),
		    json_pack("[s]", "pas un champ valide"));
		return;
	}
	if (json_is_array(v)) {
		json_array_clear(v);
		json_array_append_new(v, json_pack("[[s]]", "invalide"));
	}
}

void
plan_text(struct plan *p, const char *model, int variant, json_t *schema,
    int json_object, const struct knobs *k)
{
	json_t *v, *w;
	char *t, tag[256];

	p->is_tool = 0;
	if (schema != NULL || json_object) {
		if (schema != NULL)
			v = synth_instance(schema);
		else {
			w = words_pieces(model, k->chunks, variant);
			t = join_pieces(w);
			v = json_pack("{s:s,s:s}", "reponse", t, "modele",
			    model);
			free(t);
			json_decref(w);
		}
		if (k->fault == FAULT_SCHEMA_INVALID)
			break_instance(v, schema);
		p->text = dump_compact(v);
		json_decref(v);
		if (k->fault == FAULT_INVALID_JSON) {
			t = invalid_json_of(p->text);
			free(p->text);
			p->text = t;
		}
		p->pieces = split_pieces(p->text, k->chunks);
		return;
	}
	p->pieces = words_pieces(model, k->chunks, variant);
	/* --name tags the answer, so a test sees which fake gave it. */
	if (fake_config.name != NULL) {
		snprintf(tag, sizeof(tag), "[%.200s] ", fake_config.name);
		json_array_insert_new(p->pieces, 0, json_string(tag));
	}
	p->text = join_pieces(p->pieces);
}

/* A call of the named tool with arguments synthesised from its schema. */
void
plan_tool(struct plan *p, const char *name, json_t *parameters,
    const struct knobs *k)
{
	json_t *v;
	char *t;

	p->is_tool = 1;
	p->tool_name = xstrdup(name);
	if (json_is_object(parameters))
		v = synth_instance(parameters);
	else
		v = json_object();
	if (!json_is_object(v)) {
		/* Function arguments are always a JSON object. */
		json_decref(v);
		v = json_object();
	}
	p->text = dump_compact(v);
	json_decref(v);
	if (k->fault == FAULT_INVALID_JSON) {
		t = invalid_json_of(p->text);
		free(p->text);
		p->text = t;
	}
	p->pieces = split_pieces(p->text, k->chunks);
}

void
plan_reasoning(struct plan *p)
{
	p->reasoning_pieces = words_pieces("répondre", REASONING_DELTAS, 2);
	p->reasoning = join_pieces(p->reasoning_pieces);
	p->reasoning_tokens = REASONING_DELTAS;
}
