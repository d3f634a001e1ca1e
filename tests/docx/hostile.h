/*
 * hostile.h: hostile .docx files, built in memory at test time (no binary
 * fixtures in the tree).  Included by tests/unit/test_docx.c, which reads
 * each one from memory, and by tests/docx/mkhostile.c, which writes them
 * to a directory for tests/conformance/docx.sh (read from files) and for
 * the fuzzer's seed corpus.  Each entry names the code rl_docx_text must
 * return and why.
 *
 * Archives are written with lib/zipio's writer; the ones that lie in their
 * headers are then patched in place (local and central headers alike, so
 * the archive stays self-consistent and only the lie remains).
 */
#ifndef RL_TEST_HOSTILE_H
#define RL_TEST_HOSTILE_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "relais.h"
#include "zipio.h"

#define HOSTILE_W_NS \
	"http://schemas.openxmlformats.org/wordprocessingml/2006/main"
#define HOSTILE_DOC_HEAD \
	"<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n" \
	"<w:document xmlns:w=\"" HOSTILE_W_NS "\"><w:body>"
#define HOSTILE_DOC_TAIL	"</w:body></w:document>"

#define HOSTILE_CT \
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>" \
	"<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/" \
	"content-types\"><Default Extension=\"xml\" " \
	"ContentType=\"application/xml\"/></Types>"
#define HOSTILE_RELS \
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>" \
	"<Relationships xmlns=\"http://schemas.openxmlformats.org/package/" \
	"2006/relationships\"><Relationship Id=\"rId1\" " \
	"Type=\"http://schemas.openxmlformats.org/officeDocument/2006/" \
	"relationships/officeDocument\" Target=\"%s\"/></Relationships>"

/* Fields of a zip header we patch. */
enum hz_field { HZ_USIZE, HZ_ENCRYPTED, HZ_METHOD };

static uint32_t
hz_get(const unsigned char *p, int n)
{
	uint32_t	 v = 0;

	while (n-- > 0)
		v = (v << 8) | p[n];
	return v;
}

static void
hz_put(unsigned char *p, int n, uint32_t v)
{
	int	 i;

	for (i = 0; i < n; i++, v >>= 8)
		p[i] = (unsigned char)(v & 0xff);
}

/*
 * Patches one field of entry name in both its central directory record
 * and its local header.  -1 when the entry or the directory is not found.
 */
static int
hz_patch(unsigned char *z, size_t len, const char *name, enum hz_field f,
    uint32_t v)
{
	size_t		 eocd, cd, i, nlen, xlen, clen, loc;
	unsigned int	 n, k;

	if (len < 22)
		return -1;
	for (eocd = len - 22; eocd > 0 && hz_get(z + eocd, 4) != 0x06054b50;
	    eocd--)
		continue;
	if (hz_get(z + eocd, 4) != 0x06054b50)
		return -1;
	n = hz_get(z + eocd + 10, 2);
	cd = hz_get(z + eocd + 16, 4);
	for (i = cd, k = 0; k < n && i + 46 <= len; k++) {
		if (hz_get(z + i, 4) != 0x02014b50)
			return -1;
		nlen = hz_get(z + i + 28, 2);
		xlen = hz_get(z + i + 30, 2);
		clen = hz_get(z + i + 32, 2);
		loc = hz_get(z + i + 42, 4);
		if (nlen == strlen(name) && memcmp(z + i + 46, name, nlen) == 0 &&
		    loc + 30 <= len) {
			switch (f) {
			case HZ_USIZE:
				hz_put(z + i + 24, 4, v);
				hz_put(z + loc + 22, 4, v);
				break;
			case HZ_ENCRYPTED:
				hz_put(z + i + 8, 2, hz_get(z + i + 8, 2) | 1);
				hz_put(z + loc + 6, 2, hz_get(z + loc + 6, 2) | 1);
				break;
			case HZ_METHOD:
				hz_put(z + i + 10, 2, v);
				hz_put(z + loc + 8, 2, v);
				break;
			}
			return 0;
		}
		i += 46 + nlen + xlen + clen;
	}
	return -1;
}

/*
 * A package with [Content_Types].xml, _rels/.rels pointing at
 * word/document.xml, and the given document part (len bytes).
 */
static int
hz_pkg(const char *doc, size_t len, void **out, size_t *outlen)
{
	struct rl_zipw	*w;
	char		 rels[1024];

	(void)snprintf(rels, sizeof(rels), HOSTILE_RELS, "word/document.xml");
	if ((w = rl_zipw_new()) == NULL)
		return -1;
	if (rl_zipw_add(w, "[Content_Types].xml", HOSTILE_CT,
	    strlen(HOSTILE_CT), NULL) != RL_OK ||
	    rl_zipw_add(w, "_rels/.rels", rels, strlen(rels), NULL) != RL_OK ||
	    rl_zipw_add(w, "word/document.xml", doc, len, NULL) != RL_OK) {
		rl_zipw_free(w);
		return -1;
	}
	return rl_zipw_finish(w, out, outlen, NULL) == RL_OK ? 0 : -1;
}

/* A package whose document.xml is head + fill bytes of c + tail. */
static int
hz_filled(size_t fill, char c, void **out, size_t *outlen)
{
	size_t	 h = strlen(HOSTILE_DOC_HEAD), t = strlen(HOSTILE_DOC_TAIL);
	char	*doc;
	int	 rc;

	if ((doc = malloc(h + fill + t)) == NULL)
		return -1;
	memcpy(doc, HOSTILE_DOC_HEAD, h);
	memset(doc + h, c, fill);
	memcpy(doc + h + fill, HOSTILE_DOC_TAIL, t);
	rc = hz_pkg(doc, h + fill + t, out, outlen);
	free(doc);
	return rc;
}

static int
hz_str(const char *doc, void **out, size_t *outlen)
{

	return hz_pkg(doc, strlen(doc), out, outlen);
}

static int
hz_copy(const void *s, size_t n, void **out, size_t *outlen)
{

	if ((*out = malloc(n > 0 ? n : 1)) == NULL)
		return -1;
	if (n > 0)
		memcpy(*out, s, n);
	*outlen = n;
	return 0;
}

/* 40 MiB of spaces in document.xml: over RL_ZIP_ENTRY_MAX, ~40 KB zipped. */
static int
mk_zipbomb(void **out, size_t *outlen)
{

	return hz_filled((size_t)40 * 1024 * 1024, ' ', out, outlen);
}

/* 4 MiB of zeros: under the size cap, but a ~1000:1 ratio. */
static int
mk_ratio(void **out, size_t *outlen)
{

	return hz_filled((size_t)4 * 1024 * 1024, '0', out, outlen);
}

/* 10 MiB entry whose headers declare 1000 bytes (libzip believes it). */
static int
mk_sizelie(void **out, size_t *outlen)
{

	if (hz_filled((size_t)10 * 1024 * 1024, ' ', out, outlen) == -1)
		return -1;
	return hz_patch(*out, *outlen, "word/document.xml", HZ_USIZE, 1000);
}

/* The declared size is larger than what the entry inflates to. */
static int
mk_sizeshort(void **out, size_t *outlen)
{

	if (hz_filled(1000, ' ', out, outlen) == -1)
		return -1;
	return hz_patch(*out, *outlen, "word/document.xml", HZ_USIZE, 5000);
}

static int
mk_laughs(void **out, size_t *outlen)
{

	return hz_str("<?xml version=\"1.0\"?>\n"
	    "<!DOCTYPE lolz [\n"
	    "<!ENTITY lol \"lol\">\n"
	    "<!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
	    "<!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">\n"
	    "<!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">\n"
	    "<!ENTITY lol4 \"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">\n"
	    "<!ENTITY lol5 \"&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;\">\n"
	    "<!ENTITY lol6 \"&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;\">\n"
	    "<!ENTITY lol7 \"&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;\">\n"
	    "<!ENTITY lol8 \"&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;\">\n"
	    "<!ENTITY lol9 \"&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;\">\n"
	    "]>\n"
	    "<w:document xmlns:w=\"" HOSTILE_W_NS "\"><w:body><w:p><w:r>"
	    "<w:t>&lol9;</w:t></w:r></w:p></w:body></w:document>",
	    out, outlen);
}

static int
mk_xxe(void **out, size_t *outlen)
{

	return hz_str("<?xml version=\"1.0\"?>\n"
	    "<!DOCTYPE w:document [\n"
	    "<!ENTITY xxe SYSTEM \"file:///etc/passwd\">\n"
	    "]>\n"
	    "<w:document xmlns:w=\"" HOSTILE_W_NS "\"><w:body><w:p><w:r>"
	    "<w:t>&xxe;</w:t></w:r></w:p></w:body></w:document>",
	    out, outlen);
}

/* 5000 nested content controls: past RL_DOCX_XML_DEPTH. */
static int
mk_deep(void **out, size_t *outlen)
{
	static const char	 o[] = "<w:sdt><w:sdtContent>";
	static const char	 c[] = "</w:sdtContent></w:sdt>";
	size_t			 h = strlen(HOSTILE_DOC_HEAD), n = 5000, i, len;
	char			*doc, *p;
	int			 rc;

	len = h + n * (sizeof(o) - 1 + sizeof(c) - 1) +
	    strlen(HOSTILE_DOC_TAIL);
	if ((doc = malloc(len + 1)) == NULL)
		return -1;
	p = doc;
	memcpy(p, HOSTILE_DOC_HEAD, h);
	p += h;
	for (i = 0; i < n; i++, p += sizeof(o) - 1)
		memcpy(p, o, sizeof(o) - 1);
	for (i = 0; i < n; i++, p += sizeof(c) - 1)
		memcpy(p, c, sizeof(c) - 1);
	memcpy(p, HOSTILE_DOC_TAIL, strlen(HOSTILE_DOC_TAIL));
	rc = hz_pkg(doc, len, out, outlen);
	free(doc);
	return rc;
}

/* A valid document cut in the middle of its archive. */
static int
mk_truncated(void **out, size_t *outlen)
{

	if (hz_str(HOSTILE_DOC_HEAD "<w:p><w:r><w:t>Plan de cours</w:t></w:r>"
	    "</w:p>" HOSTILE_DOC_TAIL, out, outlen) == -1)
		return -1;
	*outlen /= 2;
	return 0;
}

/* 1001 entries, one more than RL_ZIP_MAX_ENTRIES. */
static int
mk_entries(void **out, size_t *outlen)
{
	struct rl_zipw	*w;
	char		 name[64];
	int		 i;

	if ((w = rl_zipw_new()) == NULL)
		return -1;
	for (i = 0; i < 1001; i++) {
		(void)snprintf(name, sizeof(name), "word/media/e%04d.xml", i);
		if (rl_zipw_add(w, name, "x", 1, NULL) != RL_OK) {
			rl_zipw_free(w);
			return -1;
		}
	}
	return rl_zipw_finish(w, out, outlen, NULL) == RL_OK ? 0 : -1;
}

static int
mk_notzip(void **out, size_t *outlen)
{
	static const char	 s[] = "%PDF-1.7\nThis is not a zip archive.\n";

	return hz_copy(s, sizeof(s) - 1, out, outlen);
}

static int
mk_empty(void **out, size_t *outlen)
{

	return hz_copy("", 0, out, outlen);
}

/* A zip without word/document.xml. */
static int
mk_nodoc(void **out, size_t *outlen)
{
	struct rl_zipw	*w;

	if ((w = rl_zipw_new()) == NULL)
		return -1;
	if (rl_zipw_add(w, "hello.txt", "hello\n", 6, NULL) != RL_OK) {
		rl_zipw_free(w);
		return -1;
	}
	return rl_zipw_finish(w, out, outlen, NULL) == RL_OK ? 0 : -1;
}

static int
mk_encrypted(void **out, size_t *outlen)
{

	if (hz_str(HOSTILE_DOC_HEAD HOSTILE_DOC_TAIL, out, outlen) == -1)
		return -1;
	return hz_patch(*out, *outlen, "word/document.xml", HZ_ENCRYPTED, 0);
}

/* Compression method 12 (bzip2): only store and deflate are read. */
static int
mk_method(void **out, size_t *outlen)
{

	if (hz_str(HOSTILE_DOC_HEAD HOSTILE_DOC_TAIL, out, outlen) == -1)
		return -1;
	return hz_patch(*out, *outlen, "word/document.xml", HZ_METHOD, 12);
}

/* The package relationship points outside the package. */
static int
mk_escape(void **out, size_t *outlen)
{
	struct rl_zipw	*w;
	char		 rels[1024];

	(void)snprintf(rels, sizeof(rels), HOSTILE_RELS,
	    "../../../etc/passwd");
	if ((w = rl_zipw_new()) == NULL)
		return -1;
	if (rl_zipw_add(w, "_rels/.rels", rels, strlen(rels), NULL) !=
	    RL_OK) {
		rl_zipw_free(w);
		return -1;
	}
	return rl_zipw_finish(w, out, outlen, NULL) == RL_OK ? 0 : -1;
}

static int
mk_encoding(void **out, size_t *outlen)
{

	return hz_str("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>"
	    "<w:document xmlns:w=\"" HOSTILE_W_NS "\"><w:body><w:p><w:r>"
	    "<w:t>caf\xe9</w:t></w:r></w:p></w:body></w:document>",
	    out, outlen);
}

static int
mk_malformed(void **out, size_t *outlen)
{

	return hz_str(HOSTILE_DOC_HEAD "<w:p><w:r><w:t>unclosed</w:r></w:p>"
	    HOSTILE_DOC_TAIL, out, outlen);
}

/* A table row of 65 cells: past RL_DOCX_MAX_COLS. */
static int
mk_wide(void **out, size_t *outlen)
{
	char	*doc, *p;
	size_t	 h = strlen(HOSTILE_DOC_HEAD), len;
	int	 i, rc;

	len = h + 64 + 65 * 64 + strlen(HOSTILE_DOC_TAIL);
	if ((doc = malloc(len)) == NULL)
		return -1;
	p = doc;
	p += snprintf(p, len - (size_t)(p - doc), "%s<w:tbl><w:tr>",
	    HOSTILE_DOC_HEAD);
	for (i = 0; i < 65; i++)
		p += snprintf(p, len - (size_t)(p - doc),
		    "<w:tc><w:p><w:r><w:t>%d</w:t></w:r></w:p></w:tc>", i);
	p += snprintf(p, len - (size_t)(p - doc), "</w:tr></w:tbl>%s",
	    HOSTILE_DOC_TAIL);
	rc = hz_pkg(doc, (size_t)(p - doc), out, outlen);
	free(doc);
	return rc;
}

/* 40 complex fields opened and never closed. */
static int
mk_fields(void **out, size_t *outlen)
{
	static const char	 f[] =
	    "<w:r><w:fldChar w:fldCharType=\"begin\"/></w:r>";
	char			*doc, *p;
	size_t			 h = strlen(HOSTILE_DOC_HEAD), len;
	int			 i, rc;

	len = h + 16 + 40 * (sizeof(f) - 1) + strlen(HOSTILE_DOC_TAIL) + 16;
	if ((doc = malloc(len)) == NULL)
		return -1;
	p = doc;
	p += snprintf(p, len, "%s<w:p>", HOSTILE_DOC_HEAD);
	for (i = 0; i < 40; i++)
		p += snprintf(p, len - (size_t)(p - doc), "%s", f);
	p += snprintf(p, len - (size_t)(p - doc), "</w:p>%s",
	    HOSTILE_DOC_TAIL);
	rc = hz_pkg(doc, (size_t)(p - doc), out, outlen);
	free(doc);
	return rc;
}

static const struct hostile {
	const char	*name;
	enum rl_err	 want;
	int		(*make)(void **, size_t *);
	const char	*why;
} hostiles[] = {
	{ "zipbomb", RL_ETOOBIG, mk_zipbomb,
	    "document.xml declares 40 MiB (cap 32 MiB)" },
	{ "ratio", RL_ETOOBIG, mk_ratio,
	    "4 MiB at ~1000:1 (cap 100:1 above 1 MiB)" },
	{ "size-lie", RL_EFORM, mk_sizelie,
	    "10 MiB entry whose headers declare 1000 bytes" },
	{ "size-short", RL_EFORM, mk_sizeshort,
	    "entry shorter than its headers declare" },
	{ "billion-laughs", RL_EFORM, mk_laughs, "DOCTYPE with entities" },
	{ "xxe", RL_EFORM, mk_xxe, "DOCTYPE with an external entity" },
	{ "deep-nesting", RL_ETOOBIG, mk_deep,
	    "10000 nested elements (cap 256)" },
	{ "truncated", RL_EFORM, mk_truncated, "archive cut in half" },
	{ "too-many-entries", RL_ETOOBIG, mk_entries,
	    "1001 entries (cap 1000)" },
	{ "not-zip", RL_EFORM, mk_notzip, "a PDF header, not a zip" },
	{ "empty", RL_EFORM, mk_empty, "zero bytes" },
	{ "no-document", RL_EFORM, mk_nodoc, "zip without word/document.xml" },
	{ "encrypted", RL_EFORM, mk_encrypted, "encrypted document.xml" },
	{ "bzip2", RL_EFORM, mk_method, "compression method 12" },
	{ "rels-escape", RL_EFORM, mk_escape,
	    "officeDocument target ../../../etc/passwd" },
	{ "latin1", RL_EFORM, mk_encoding, "encoding ISO-8859-1" },
	{ "malformed-xml", RL_EFORM, mk_malformed, "unclosed w:t" },
	{ "wide-table", RL_ETOOBIG, mk_wide, "65 cells in a row (cap 64)" },
	{ "deep-fields", RL_ETOOBIG, mk_fields,
	    "40 nested fields (cap 32)" },
};

#define NHOSTILE	(sizeof(hostiles) / sizeof(hostiles[0]))

#endif /* RL_TEST_HOSTILE_H */
