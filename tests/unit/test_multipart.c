/*
 * test_multipart.c: lib/multipart.c.  The parser is checked through a
 * recorder that writes every callback into a log, so "fed one byte at a
 * time" and "fed at once" can be compared as two strings; the collector is
 * checked on a fresh temporary directory that must end up empty whenever
 * it fails.
 */
#include "config.h"

#include <sys/stat.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "relais.h"
#include "arena.h"
#include "kv.h"
#include "bounds.h"
#include "multipart.h"
#include "harness.h"

#define CT	"multipart/form-data; boundary=XyZ"
#define CRLF	"\r\n"
#define DISP(n)	"Content-Disposition: form-data; name=\"" n "\"" CRLF

/* Every callback, in order: "[name|filename|ctype]data$" per part. */
struct rec {
	char	 log[16384];
	size_t	 len;
	int	 overflow;
};

static void
put(struct rec *r, const void *p, size_t n)
{

	if (n > sizeof(r->log) - 1 - r->len) {
		r->overflow = 1;
		return;
	}
	memcpy(r->log + r->len, p, n);
	r->len += n;
	r->log[r->len] = '\0';
}

static void
puts_(struct rec *r, const char *s)
{

	put(r, s, strlen(s));
}

static enum rl_err
rec_begin(void *arg, const char *name, const char *filename,
    const char *ctype, struct rl_error *e)
{
	struct rec	*r = arg;

	puts_(r, "[");
	puts_(r, name);
	puts_(r, "|");
	puts_(r, filename != NULL ? filename : "-");
	puts_(r, "|");
	puts_(r, ctype);
	puts_(r, "]");
	return RL_OK;
}

static enum rl_err
rec_data(void *arg, const void *p, size_t n, struct rl_error *e)
{

	put(arg, p, n);
	return RL_OK;
}

static enum rl_err
rec_end(void *arg, struct rl_error *e)
{

	puts_(arg, "$");
	return RL_OK;
}

static const struct rl_mp_cb	 reccb = { rec_begin, rec_data, rec_end };

/*
 * Parses body fed in pieces of step bytes (0: all at once) and returns the
 * first error, or that of rl_mp_finish().
 */
static enum rl_err
run(const char *ct, const char *body, size_t len, size_t step,
    struct rec *r, struct rl_error *e)
{
	struct rl_mp	*mp;
	size_t		 off, n;
	enum rl_err	 rc = RL_OK;

	memset(r, 0, sizeof(*r));
	if ((mp = rl_mp_new(ct, &reccb, r, e)) == NULL)
		return e->code;
	for (off = 0; off < len && rc == RL_OK; off += n) {
		n = step == 0 || step > len - off ? len - off : step;
		rc = rl_mp_feed(mp, body + off, n, e);
	}
	if (rc == RL_OK)
		rc = rl_mp_finish(mp, e);
	rl_mp_free(mp);
	return rc;
}

/* Parses body whole and checks the log (when want is not NULL). */
static void
expect(const char *what, const char *ct, const char *body, size_t len,
    enum rl_err want_rc, const char *want)
{
	struct rec	 r;
	struct rl_error	 e;
	enum rl_err	 rc;

	memset(&e, 0, sizeof(e));
	rc = run(ct, body, len, 0, &r, &e);
	ok(rc == want_rc && (want == NULL || strcmp(r.log, want) == 0),
	    "%s (%s)", what, rc == RL_OK ? "ok" : e.msg);
	if (rc != want_rc)
		diag("got %s, want %s", rl_err_token(rc),
		    rl_err_token(want_rc));
	if (want != NULL && strcmp(r.log, want) != 0)
		diag("log \"%s\", want \"%s\"", r.log, want);
}

#define EXPECT(what, ct, body, rc, want) \
	expect(what, ct, body, sizeof(body) - 1, rc, want)

static const char	 simple[] =
	"--XyZ" CRLF
	DISP("a") CRLF
	"hello" CRLF
	"--XyZ--" CRLF;

static const char	 file[] =
	"--XyZ" CRLF
	"Content-Disposition: form-data; name=\"doc\"; filename=\"x.txt\""
	    CRLF
	"Content-Type: text/plain" CRLF
	CRLF
	"line 1" CRLF "line 2" CRLF CRLF
	CRLF "--XyZ--";

static const char	 several[] =
	"preamble to ignore" CRLF
	"--XyZ" CRLF
	DISP("a") CRLF
	"1" CRLF
	"--XyZ" CRLF
	DISP("b") CRLF
	CRLF
	"--XyZ" CRLF
	"content-disposition: FORM-DATA; filename=\"f.bin\"; name=c" CRLF
	"CONTENT-TYPE: application/octet-stream" CRLF
	"X-Other: ignored" CRLF
	CRLF
	"\x7f\x01\xff" CRLF
	"--XyZ" CRLF
	DISP("d") CRLF
	"last" CRLF
	"--XyZ--" CRLF
	"epilogue --XyZ garbage\r\n";

/* Body bytes that look like the start of a delimiter but are not one. */
static const char	 tricky[] =
	"--XyZ" CRLF
	DISP("t") CRLF
	"a\r\n--Xy b\r\n- c\r\n d\r e\r\r\n\r\n-\r\n--X\r\n--XyY"
	    "--XyZ \r" CRLF
	"--XyZ" CRLF
	DISP("u") CRLF
	CRLF "\r\n--XyZ--";

static void
test_parse(void)
{
	static const char	 quoted[] =
		"--a b:c" CRLF DISP("q") CRLF "v" CRLF "--a b:c--";
	static const char	 escaped[] =
		"--XyZ" CRLF
		"Content-Disposition: form-data; name=\"a\\\"b\\\\\"; "
		    "filename=\"C:\\dir\\q\\\"x\\\".txt\"" CRLF
		CRLF "v" CRLF "--XyZ--";
	static const char	 padded[] =
		"--XyZ \t" CRLF DISP("p") CRLF "v" CRLF "--XyZ  " CRLF
		DISP("p2") CRLF "w" CRLF "--XyZ--";
	static const char	 folded[] =
		"--XyZ" CRLF
		"Content-Disposition: form-data;" CRLF
		"\tname=\"f\"" CRLF
		CRLF "v" CRLF "--XyZ--";
	static const char	 nodash[] =
		"--XyZ" CRLF DISP("n") CRLF "a--XyZ b" CRLF "--XyZ--";
	static const char	 empty_form[] = "--XyZ--" CRLF;
	static const char	 cr_before[] =
		"--XyZ" CRLF DISP("c") CRLF "abc\r" CRLF "--XyZ--";
	static const char	 filename_star[] =
		"--XyZ" CRLF
		"Content-Disposition: form-data; name=\"s\"; "
		    "filename*=UTF-8''%C3%A9.txt; filename=\"e.txt\"" CRLF
		CRLF "v" CRLF "--XyZ--";

	EXPECT("simple field", CT, simple, RL_OK, "[a|-|]hello$");
	EXPECT("file part", CT, file, RL_OK,
	    "[doc|x.txt|text/plain]line 1\r\nline 2\r\n\r\n$");
	EXPECT("several parts, preamble and epilogue", CT, several, RL_OK,
	    "[a|-|]1$[b|-|]$[c|f.bin|application/octet-stream]"
	    "\x7f\x01\xff$[d|-|]last$");
	EXPECT("delimiter prefixes in data", CT, tricky, RL_OK,
	    "[t|-|]a\r\n--Xy b\r\n- c\r\n d\r e\r\r\n\r\n-\r\n--X\r\n--XyY"
	    "--XyZ \r$[u|-|]\r\n$");
	EXPECT("quoted boundary with space and colon",
	    "multipart/form-data; boundary=\"a b:c\"", quoted, RL_OK,
	    "[q|-|]v$");
	EXPECT("boundary parameter among others, any case",
	    "Multipart/Form-Data ; charset=utf-8;BOUNDARY=XyZ;", simple, RL_OK,
	    "[a|-|]hello$");
	EXPECT("escaped quotes in name and filename", CT, escaped, RL_OK,
	    "[a\"b\\|C:\\dir\\q\"x\".txt|]v$");
	EXPECT("transport padding after boundary", CT, padded, RL_OK,
	    "[p|-|]v$[p2|-|]w$");
	EXPECT("folded header line", CT, folded, RL_OK, "[f|-|]v$");
	EXPECT("boundary not after CRLF is data", CT, nodash, RL_OK,
	    "[n|-|]a--XyZ b$");
	EXPECT("form with no parts", CT, empty_form, RL_OK, "");
	EXPECT("CR just before the delimiter is data", CT, cr_before, RL_OK,
	    "[c|-|]abc\r$");
	EXPECT("filename* ignored", CT, filename_star, RL_OK,
	    "[s|e.txt|]v$");
}

static void
test_errors(void)
{
	static const char	 truncated[] =
		"--XyZ" CRLF DISP("a") CRLF "hello" CRLF "--XyZ";
	static const char	 truncated2[] =
		"--XyZ" CRLF DISP("a") CRLF "hello";
	static const char	 noname[] =
		"--XyZ" CRLF
		"Content-Disposition: form-data; filename=\"x\"" CRLF
		CRLF "v" CRLF "--XyZ--";
	static const char	 emptyname[] =
		"--XyZ" CRLF DISP("") CRLF "v" CRLF "--XyZ--";
	static const char	 nodisp[] =
		"--XyZ" CRLF "Content-Type: text/plain" CRLF
		CRLF "v" CRLF "--XyZ--";
	static const char	 noheaders[] =
		"--XyZ" CRLF CRLF "v" CRLF "--XyZ--";
	static const char	 notform[] =
		"--XyZ" CRLF "Content-Disposition: attachment; name=\"a\"" CRLF
		CRLF "v" CRLF "--XyZ--";
	static const char	 twonames[] =
		"--XyZ" CRLF
		"Content-Disposition: form-data; name=\"a\"; name=\"b\"" CRLF
		CRLF "v" CRLF "--XyZ--";
	static const char	 badline[] =
		"--XyZ" CRLF DISP("a") CRLF "v" CRLF "--XyZx" CRLF;
	static const char	 badheader[] =
		"--XyZ" CRLF "no colon here" CRLF CRLF "v" CRLF "--XyZ--";
	static const char	 lf_only[] =
		"--XyZ" CRLF DISP("a") "X: y\n" CRLF CRLF "v" CRLF "--XyZ--";
	static const char	 unterminated[] =
		"--XyZ" CRLF
		"Content-Disposition: form-data; name=\"a" CRLF
		CRLF "v" CRLF "--XyZ--";
	char			 body[RL_MULTIPART_HEADER_MAX + 256];
	char			 ct[128];
	struct rec		 r;
	struct rl_error		 e;
	size_t			 len;
	int			 i;
	enum rl_err		 rc;

	EXPECT("missing final boundary", CT, truncated, RL_EFORM, NULL);
	rc = run(CT, truncated2, sizeof(truncated2) - 1, 0, &r, &e);
	ok(rc == RL_EFORM && strcmp(e.msg, "truncated multipart body") == 0,
	    "truncated in data: \"%s\"", e.msg);
	EXPECT("empty body", CT, "", RL_EFORM, NULL);
	EXPECT("part without name", CT, noname, RL_EFORM, NULL);
	EXPECT("part with empty name", CT, emptyname, RL_EFORM, NULL);
	EXPECT("part without Content-Disposition", CT, nodisp, RL_EFORM, NULL);
	EXPECT("part without headers", CT, noheaders, RL_EFORM, NULL);
	EXPECT("disposition not form-data", CT, notform, RL_EFORM, NULL);
	EXPECT("two names", CT, twonames, RL_EFORM, NULL);
	EXPECT("garbage after boundary", CT, badline, RL_EFORM, NULL);
	EXPECT("header line without colon", CT, badheader, RL_EFORM, NULL);
	EXPECT("bare LF in headers", CT, lf_only, RL_EFORM, NULL);
	EXPECT("unterminated quoted string", CT, unterminated, RL_EFORM,
	    NULL);

	/* A header block of exactly the limit passes, one byte more fails. */
	len = (size_t)snprintf(body, sizeof(body), "--XyZ" CRLF DISP("a")
	    "X-Pad: ");
	i = RL_MULTIPART_HEADER_MAX - (int)(len - 7) - 4;
	memset(body + len, 'p', (size_t)i);
	len += (size_t)i;
	len += (size_t)snprintf(body + len, sizeof(body) - len,
	    CRLF CRLF "v" CRLF "--XyZ--");
	rc = run(CT, body, len, 0, &r, &e);
	ok(rc == RL_OK, "header block of exactly %d bytes accepted",
	    RL_MULTIPART_HEADER_MAX);
	/* One more byte of padding, inside the X-Pad value. */
	i = 7 + (int)strlen(DISP("a") "X-Pad: ");
	memmove(body + i + 1, body + i, len - (size_t)i);
	body[i] = 'p';
	rc = run(CT, body, len + 1, 0, &r, &e);
	ok(rc == RL_ETOOBIG, "header block over %d bytes: %s",
	    RL_MULTIPART_HEADER_MAX, e.msg);

	/* Exactly the maximum number of parts, then one more. */
	len = 0;
	for (i = 0; i < RL_MULTIPART_MAX_PARTS; i++)
		len += (size_t)snprintf(body + len, sizeof(body) - len,
		    "--XyZ" CRLF DISP("p") CRLF "%d" CRLF, i);
	len += (size_t)snprintf(body + len, sizeof(body) - len, "--XyZ--");
	rc = run(CT, body, len, 0, &r, &e);
	ok(rc == RL_OK, "%d parts accepted", RL_MULTIPART_MAX_PARTS);
	len -= strlen("--XyZ--");
	len += (size_t)snprintf(body + len, sizeof(body) - len,
	    "--XyZ" CRLF DISP("p") CRLF "x" CRLF "--XyZ--");
	rc = run(CT, body, len, 0, &r, &e);
	ok(rc == RL_ETOOBIG, "%d parts refused: %s",
	    RL_MULTIPART_MAX_PARTS + 1, e.msg);

	/* Content-Type. */
	EXPECT("no boundary", "multipart/form-data", simple, RL_EFORM, NULL);
	EXPECT("no boundary, other parameter",
	    "multipart/form-data; charset=utf-8", simple, RL_EFORM, NULL);
	EXPECT("empty quoted boundary", "multipart/form-data; boundary=\"\"",
	    simple, RL_EFORM, NULL);
	EXPECT("empty boundary", "multipart/form-data; boundary=", simple,
	    RL_EFORM, NULL);
	EXPECT("two boundaries",
	    "multipart/form-data; boundary=XyZ; boundary=XyZ", simple,
	    RL_EFORM, NULL);
	EXPECT("boundary with a CR", "multipart/form-data; boundary=\"a\rb\"",
	    simple, RL_EFORM, NULL);
	EXPECT("boundary ending in a space",
	    "multipart/form-data; boundary=\"XyZ \"", simple, RL_EFORM, NULL);
	EXPECT("not multipart", "application/json; boundary=XyZ", simple,
	    RL_EMEDIA, NULL);
	EXPECT("multipart/mixed", "multipart/mixed; boundary=XyZ", simple,
	    RL_EMEDIA, NULL);
	memset(&e, 0, sizeof(e));
	ok(rl_mp_new(NULL, &reccb, &r, &e) == NULL && e.code == RL_EMEDIA,
	    "no Content-Type at all");

	(void)snprintf(ct, sizeof(ct), "multipart/form-data; boundary=%.70s",
	    "0123456789012345678901234567890123456789"
	    "012345678901234567890123456789");
	len = (size_t)snprintf(body, sizeof(body), "--%s" CRLF DISP("l") CRLF
	    "v" CRLF "--%s--", ct + 30, ct + 30);
	rc = run(ct, body, len, 0, &r, &e);
	ok(rc == RL_OK && strcmp(r.log, "[l|-|]v$") == 0,
	    "70-character boundary accepted");
	(void)snprintf(ct, sizeof(ct), "multipart/form-data; boundary=\"%s\"",
	    "0123456789012345678901234567890123456789"
	    "0123456789012345678901234567890");
	rc = run(ct, body, len, 0, &r, &e);
	ok(rc == RL_EFORM, "71-character boundary refused: %s", e.msg);

	/* Errors are sticky. */
	{
		struct rl_mp	*mp;

		mp = rl_mp_new(CT, &reccb, &r, &e);
		rc = rl_mp_feed(mp, badline, sizeof(badline) - 1, &e);
		ok(rc == RL_EFORM && rl_mp_feed(mp, "x", 1, NULL) == RL_EFORM &&
		    rl_mp_finish(mp, &e) == RL_EFORM &&
		    strstr(e.msg, "boundary line") != NULL,
		    "an error is returned again, with its message");
		rl_mp_free(mp);
	}
}

/* Valid and invalid bodies: any split gives the same log and result. */
static const char	 noname_body[] =
	"--XyZ" CRLF "Content-Disposition: form-data" CRLF CRLF
	"x" CRLF "--XyZ--";

static void
test_pieces(void)
{
	static const struct {
		const char	*name;
		const char	*body;
		size_t		 len;
	} bodies[] = {
		{ "simple", simple, sizeof(simple) - 1 },
		{ "file", file, sizeof(file) - 1 },
		{ "several", several, sizeof(several) - 1 },
		{ "tricky", tricky, sizeof(tricky) - 1 },
		{ "truncated", simple, sizeof(simple) - 5 },
		{ "noname", noname_body, sizeof(noname_body) - 1 },
	};
	static const size_t	 steps[] = { 1, 2, 3, 5, 7, 13 };
	struct rec		*whole, *piece;
	struct rl_error		 e1, e2;
	enum rl_err		 rc1, rc2;
	size_t			 i, k;
	int			 same;

	whole = malloc(sizeof(*whole));
	piece = malloc(sizeof(*piece));
	if (whole == NULL || piece == NULL) {
		ok(0, "malloc");
		goto out;
	}
	for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		rc1 = run(CT, bodies[i].body, bodies[i].len, 0, whole, &e1);
		same = 1;
		for (k = 0; k < sizeof(steps) / sizeof(steps[0]); k++) {
			rc2 = run(CT, bodies[i].body, bodies[i].len, steps[k],
			    piece, &e2);
			if (rc1 != rc2 || whole->len != piece->len ||
			    memcmp(whole->log, piece->log, whole->len) != 0) {
				diag("step %zu differs", steps[k]);
				same = 0;
			}
		}
		ok(same, "%s: pieces of 1..13 bytes give the whole-body result "
		    "(%s)", bodies[i].name, rl_err_token(rc1));
	}
out:
	free(whole);
	free(piece);
}

/*
 * Data callbacks never receive a byte that turns out to be delimiter: a
 * recorder that fails on any data after the last real byte would notice,
 * but simpler, count data bytes delivered before the delimiter completes.
 */
static size_t	 seen;

static enum rl_err
count_data(void *arg, const void *p, size_t n, struct rl_error *e)
{

	seen += n;
	return RL_OK;
}

static void
test_withheld(void)
{
	static const char	 head[] = "--XyZ" CRLF DISP("w") CRLF "abc";
	static const char	 tail[] = "\r\n--Xy";
	struct rl_mp_cb		 cb = { NULL, count_data, NULL };
	struct rl_mp		*mp;

	seen = 0;
	mp = rl_mp_new(CT, &cb, NULL, NULL);
	(void)rl_mp_feed(mp, head, sizeof(head) - 1, NULL);
	(void)rl_mp_feed(mp, tail, sizeof(tail) - 1, NULL);
	ok(seen == 3, "possible delimiter start withheld (%zu bytes out)",
	    seen);
	(void)rl_mp_feed(mp, "Q", 1, NULL);
	ok(seen == 3 + 7, "released once it is not a delimiter (%zu)", seen);
	(void)rl_mp_feed(mp, "\r\n--XyZ--", 9, NULL);
	ok(seen == 10 && rl_mp_finish(mp, NULL) == RL_OK,
	    "delimiter itself never delivered");
	rl_mp_free(mp);
}

/*
 * The collector.
 */
struct reader {
	const char	*p;
	size_t		 len;
	size_t		 off;
	size_t		 max;	/* per read, to vary the chunking */
};

static ssize_t
rd(void *arg, void *buf, size_t n)
{
	struct reader	*r = arg;

	if (n > r->len - r->off)
		n = r->len - r->off;
	if (r->max != 0 && n > r->max)
		n = r->max;
	memcpy(buf, r->p + r->off, n);
	r->off += n;
	return (ssize_t)n;
}

static ssize_t
rd_fail(void *arg, void *buf, size_t n)
{

	return -1;
}

static int
dir_entries(const char *dir)
{
	DIR		*d;
	struct dirent	*de;
	int		 n = 0;

	if ((d = opendir(dir)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			n++;
	(void)closedir(d);
	return n;
}

/* Reads a whole small file into buf; returns its size or -1. */
static ssize_t
slurp(const char *path, char *buf, size_t size)
{
	ssize_t	 n;
	int	 fd;

	if ((fd = open(path, O_RDONLY)) == -1)
		return -1;
	n = read(fd, buf, size);
	(void)close(fd);
	return n;
}

static const char *
field(const struct rl_kv *kv, size_t n, const char *key)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (strcmp(kv[i].key, key) == 0)
			return kv[i].val;
	return NULL;
}

static enum rl_err
collect(const char *body, size_t len, size_t max, size_t upload_max,
    const char *dir, struct rl_arena *a, struct rl_kv **kv, size_t *nkv,
    struct rl_upload **up, size_t *nup, struct rl_error *e)
{
	struct reader	 r = { body, len, 0, max };

	return rl_multipart_collect(a, CT, rd, &r, upload_max, dir, kv, nkv,
	    up, nup, e);
}

static void
test_collect(const char *dir)
{
	static const char	 form[] =
		"--XyZ" CRLF DISP("title") CRLF "Plan de cours" CRLF
		"--XyZ" CRLF
		"Content-Disposition: form-data; name=\"doc\"; "
		    "filename=\"C:\\Users\\me\\report.pdf\"" CRLF
		"Content-Type: application/pdf" CRLF CRLF
		"%PDF\r\n\x00\x01\r\n--Xy\r\n" CRLF
		"--XyZ" CRLF
		"Content-Disposition: form-data; name=\"other\"; "
		    "filename=\"../../etc/passwd\"" CRLF CRLF
		"root" CRLF
		"--XyZ" CRLF
		"Content-Disposition: form-data; name=\"none\"; filename=\"\""
		    CRLF "Content-Type: application/octet-stream" CRLF CRLF
		CRLF
		"--XyZ" CRLF DISP("empty") CRLF CRLF
		"--XyZ--" CRLF;
	static const char	 pdf[] = "%PDF\r\n\x00\x01\r\n--Xy\r\n";
	static const char	 twofiles[] =
		"--XyZ" CRLF
		"Content-Disposition: form-data; name=\"a\"; filename=\"a\""
		    CRLF CRLF "0123456789" CRLF
		"--XyZ" CRLF
		"Content-Disposition: form-data; name=\"b\"; filename=\"b\""
		    CRLF CRLF "0123456789" CRLF
		"--XyZ--";
	static const char	 cut[] =
		"--XyZ" CRLF
		"Content-Disposition: form-data; name=\"a\"; filename=\"a\""
		    CRLF CRLF "0123456789";
	struct rl_arena		*a;
	struct rl_kv		*kv;
	struct rl_upload	*up;
	struct rl_error		 e;
	struct stat		 st;
	char			 buf[256], *big;
	size_t			 nkv, nup, len, hlen, i;
	size_t			 maxes[] = { 0, 1, 5 };
	ssize_t			 n;
	enum rl_err		 rc;
	int			 good;

	a = rl_arena_new();
	memset(&e, 0, sizeof(e));
	for (i = 0; i < sizeof(maxes) / sizeof(maxes[0]); i++) {
		rc = collect(form, sizeof(form) - 1, maxes[i], RL_UPLOAD_MAX,
		    dir, a, &kv, &nkv, &up, &nup, &e);
		good = rc == RL_OK && nkv == 2 && nup == 2;
		ok(good, "collect, reads of at most %zu bytes (0: any): %zu "
		    "fields, %zu uploads (%s)", maxes[i], nkv, nup,
		    rc == RL_OK ? "ok" : e.msg);
		if (!good)
			continue;
		ok(strcmp(field(kv, nkv, "title"), "Plan de cours") == 0 &&
		    kv[0].len == 13 && strcmp(field(kv, nkv, "empty"), "") == 0,
		    "fields in the arena");
		ok(strcmp(up[0].field, "doc") == 0 &&
		    strcmp(up[0].filename, "report.pdf") == 0 &&
		    strcmp(up[0].ctype, "application/pdf") == 0 &&
		    up[0].size == sizeof(pdf) - 1,
		    "upload: field, Windows path stripped, type, size");
		n = slurp(up[0].path, buf, sizeof(buf));
		ok(n == (ssize_t)sizeof(pdf) - 1 &&
		    memcmp(buf, pdf, sizeof(pdf) - 1) == 0,
		    "temporary file holds the exact bytes");
		ok(stat(up[0].path, &st) == 0 && (st.st_mode & 0777) == 0600 &&
		    strncmp(up[0].path, dir, strlen(dir)) == 0 &&
		    strstr(up[0].path, "/relais-upload-") != NULL,
		    "%s, mode 0600", up[0].path);
		ok(strcmp(up[1].filename, "passwd") == 0 &&
		    strcmp(up[1].ctype, "") == 0 && up[1].size == 4,
		    "Unix path stripped, no type gives \"\"");
		ok(dir_entries(dir) == 2,
		    "two files; the empty file input skipped");
		rl_multipart_unlink(up, nup);
		ok(dir_entries(dir) == 0 && up[0].path == NULL,
		    "unlink removes them");
		rl_multipart_unlink(up, nup);
	}

	rc = collect(twofiles, sizeof(twofiles) - 1, 3, 20, dir, a, &kv, &nkv,
	    &up, &nup, &e);
	ok(rc == RL_OK && nup == 2, "two files of 10 bytes under a cap of 20");
	if (rc == RL_OK)
		rl_multipart_unlink(up, nup);
	rc = collect(twofiles, sizeof(twofiles) - 1, 3, 19, dir, a, &kv, &nkv,
	    &up, &nup, &e);
	ok(rc == RL_ETOOBIG && strcmp(e.msg, "upload exceeds 19 bytes") == 0 &&
	    kv == NULL && up == NULL && nup == 0,
	    "cap of 19 exceeded: \"%s\"", e.msg);
	ok(dir_entries(dir) == 0, "no temporary file left behind");
	rc = collect(twofiles, sizeof(twofiles) - 1, 0, 0, dir, a, &kv, &nkv,
	    &up, &nup, NULL);
	ok(rc == RL_ETOOBIG && dir_entries(dir) == 0,
	    "cap of 0, no error record");

	rc = collect(cut, sizeof(cut) - 1, 0, RL_UPLOAD_MAX, dir, a, &kv, &nkv,
	    &up, &nup, &e);
	ok(rc == RL_EFORM && dir_entries(dir) == 0,
	    "truncated upload: %s; file removed", e.msg);
	{
		struct reader	 r = { form, sizeof(form) - 1, 0, 0 };

		rc = rl_multipart_collect(a, "text/plain", rd, &r,
		    RL_UPLOAD_MAX, dir, &kv, &nkv, &up, &nup, &e);
		ok(rc == RL_EMEDIA, "collect refuses a non-multipart type");
		rc = rl_multipart_collect(a, CT, rd_fail, NULL, RL_UPLOAD_MAX,
		    dir, &kv, &nkv, &up, &nup, &e);
		ok(rc == RL_EIO, "read error reported: %s", e.msg);
		r.off = 0;
		rc = rl_multipart_collect(a, CT, rd, &r, RL_UPLOAD_MAX,
		    "/nonexistent-relais-dir", &kv, &nkv, &up, &nup, &e);
		ok(rc == RL_EIO, "unusable tmpdir: %s", e.msg);
	}

	/* A field of exactly the limit, then one byte more. */
	big = malloc(RL_MULTIPART_FIELD_MAX + 256);
	hlen = len = (size_t)snprintf(big, 256, "--XyZ" CRLF DISP("big") CRLF);
	memset(big + len, 'x', RL_MULTIPART_FIELD_MAX);
	len += RL_MULTIPART_FIELD_MAX;
	len += (size_t)snprintf(big + len, 256, CRLF "--XyZ--");
	rc = collect(big, len, 0, RL_UPLOAD_MAX, dir, a, &kv, &nkv, &up, &nup,
	    &e);
	ok(rc == RL_OK && nkv == 1 && kv[0].len == RL_MULTIPART_FIELD_MAX,
	    "field of %d bytes accepted", RL_MULTIPART_FIELD_MAX);
	memmove(big + hlen + 1, big + hlen, len - hlen);
	big[hlen] = 'x';
	rc = collect(big, len + 1, 0, RL_UPLOAD_MAX, dir, a, &kv, &nkv, &up,
	    &nup, &e);
	ok(rc == RL_ETOOBIG && strstr(e.msg, "\"big\"") != NULL &&
	    strcmp(e.where, "big") == 0, "field over the limit: \"%s\"",
	    e.msg);
	free(big);
	rl_arena_free(a);
}

int
main(void)
{
	char	 dir[] = "/tmp/test_multipart.XXXXXX";

	test_parse();
	test_errors();
	test_pieces();
	test_withheld();
	if (mkdtemp(dir) == NULL) {
		ok(0, "mkdtemp");
		return done();
	}
	test_collect(dir);
	if (rmdir(dir) == -1)
		diag("could not remove %s", dir);
	return done();
}
