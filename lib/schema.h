/*
 * schema.h: JSON Schema (the draft 2020-12 keywords of the OpenAI strict
 * subset and a few more) compiled once into a node tree and validated with
 * Pydantic v2's coercions and error list.  docs/internals/schema.md.
 */
#ifndef RL_SCHEMA_H
#define RL_SCHEMA_H

#include <jansson.h>

#include "relais.h"

/*
 * Validation modes, chosen per schema at compile time.  Lax is Pydantic's
 * default (JSON-input coercions: "12" -> 12, 2.0 -> 2, "yes" -> true);
 * strict is Pydantic strict mode; JSONSCHEMA is plain draft 2020-12
 * semantics (1.0 is an integer, no coercion, format is an annotation unless
 * RL_SCHEMA_FORMATS is also given), for the conformance suite.
 */
#define RL_SCHEMA_LAX		0x00
#define RL_SCHEMA_STRICT	0x01
#define RL_SCHEMA_JSONSCHEMA	0x02
#define RL_SCHEMA_FORMATS	0x04	/* assert format in JSONSCHEMA mode */

/*
 * Every value through the full validator, never the fast path that
 * answers alone for values valid as they are: tests compare the two.
 */
#define RL_SCHEMA_NOFAST	0x08

/*
 * Limits.  A compiled schema validates values nested at most
 * RL_SCHEMA_MAX_DEPTH levels (JSON bodies are capped at RL_JSON_MAX_DEPTH
 * already; $ref recursion without progress hits this too).  A pattern
 * compiles to at most RL_SCHEMA_RE_MAX_INSNS instructions and one match
 * runs at most RL_SCHEMA_RE_MAX_STEPS thread steps, so no pattern can pin
 * a thread.
 */
#define RL_SCHEMA_MAX_DEPTH	128
#define RL_SCHEMA_RE_MAX_INSNS	8192
#define RL_SCHEMA_RE_MAX_STEPS	(16 * 1024 * 1024)

/*
 * OpenAI strict-mode limits (structured outputs guide, "Supported
 * schemas"), checked by rl_schema_lint().
 */
#define RL_OPENAI_MAX_PROPERTIES	5000
#define RL_OPENAI_MAX_NESTING		10
#define RL_OPENAI_MAX_NAME_CHARS	120000
#define RL_OPENAI_MAX_ENUM_VALUES	1000
#define RL_OPENAI_BIG_ENUM		250
#define RL_OPENAI_BIG_ENUM_CHARS	15000

struct rl_schema;
struct rl_schema_re;

struct rl_schema	*rl_schema_compile(const json_t *, unsigned,
			    struct rl_error *);
struct rl_schema	*rl_schema_load(const char *, unsigned,
			    struct rl_error *);
void			 rl_schema_free(struct rl_schema *);
const json_t		*rl_schema_json(const struct rl_schema *);
enum rl_err		 rl_schema_validate(const struct rl_schema *,
			    json_t *, json_t **, json_t **, struct rl_error *);
int			 rl_schema_valid(const struct rl_schema *, json_t *);

/* The registry: lib/schemas/ loaded once at start-up, then read-only. */
enum rl_err		 rl_schema_registry_load(const char *,
			    struct rl_error *);
const struct rl_schema	*rl_schema_get(const char *);
void			 rl_schema_registry_free(void);

enum rl_err		 rl_schema_fastapi_422(json_t *, const char *,
			    json_t **);

/* OpenAI strict mode: a report of violations, and the SDK's converter. */
enum rl_err		 rl_schema_lint(const json_t *, json_t **);
enum rl_err		 rl_schema_to_strict(const json_t *, json_t **,
			    struct rl_error *);

/* schema_re.c: the ECMA-262 subset of "pattern". */
struct rl_schema_re	*rl_schema_re_compile(const char *, char *, size_t);
int			 rl_schema_re_search(const struct rl_schema_re *,
			    const char *, size_t);
void			 rl_schema_re_free(struct rl_schema_re *);

/* schema_fmt.c: the nine OpenAI formats. */
int			 rl_schema_format_id(const char *);
int			 rl_schema_format_check(int, const char *);
const char		*rl_schema_format_name(int);

/* Code points in UTF-8 text (jansson strings are valid UTF-8). */
size_t			 rl_schema_utf8_len(const char *, size_t);

#endif /* RL_SCHEMA_H */
