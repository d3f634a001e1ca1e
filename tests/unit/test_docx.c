/*
 * test_docx.c: lib/zipio.c, lib/docx.c and lib/docxw.c.
 *
 * Every document is built here, in memory, with zipio's writer and raw
 * WordprocessingML, one text rule per check; the hostile ones come from
 * tests/docx/hostile.h.  The writer's output is read back by the reader.
 */
#include "config.h"

#include <sys/stat.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "relais.h"
#include "bounds.h"
#include "docx.h"
#include "docxw.h"
#include "zipio.h"
#include "../docx/hostile.h"

#define NS_DECLS \
	" xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/" \
	"2006/main\"" \
	" xmlns:mc=\"http://schemas.openxmlformats.org/markup-compatibility/" \
	"2006\"" \
	" xmlns:wps=\"http://schemas.microsoft.com/office/word/2010/" \
	"wordprocessingShape\"" \
	" xmlns:wp=\"http://schemas.openxmlformats.org/drawingml/2006/" \
	"wordprocessingDrawing\"" \
	" xmlns:v=\"urn:schemas-microsoft-com:vml\"" \
	" xmlns:m=\"http://schemas.openxmlformats.org/officeDocument/2006/" \
	"math\"" \
	" xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/" \
	"relationships\""

#define DOC(body) \
	"<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n" \
	"<w:document" NS_DECLS "><w:body>" body \
	"<w:sectPr><w:pgSz w:w=\"12240\" w:h=\"15840\"/></w:sectPr>" \
	"</w:body></w:document>"

#define STYLES(s) \
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>" \
	"<w:styles" NS_DECLS ">" s "</w:styles>"

#define NUMBERING(s) \
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>" \
	"<w:numbering" NS_DECLS ">" s "</w:numbering>"

#define P(text)		"<w:p><w:r><w:t>" text "</w:t></w:r></w:p>"
#define PS(st, text) \
	"<w:p><w:pPr><w:pStyle w:val=\"" st "\"/></w:pPr>" \
	"<w:r><w:t>" text "</w:t></w:r></w:p>"
#define PN(num, lvl, text) \
	"<w:p><w:pPr><w:numPr><w:ilvl w:val=\"" #lvl "\"/>" \
	"<w:numId w:val=\"" #num "\"/></w:numPr></w:pPr>" \
	"<w:r><w:t>" text "</w:t></w:r></w:p>"
#define TC(text)	"<w:tc>" P(text) "</w:tc>"

#define REL_NS	"http://schemas.openxmlformats.org/officeDocument/2006/" \
	"relationships/"

/* The parts of a test package besides document.xml. */
struct pkg {
	const char	*styles;
	const char	*numbering;
	const char	*footnotes;
	const char	*endnotes;
};

static int
add_str(struct rl_zipw *w, const char *name, const char *s)
{

	return rl_zipw_add(w, name, s, strlen(s), NULL) == RL_OK ? 0 : -1;
}

/* A package: content types, relationships, document and given parts. */
static int
mkpkg(const char *doc, size_t doclen, const struct pkg *pk, void **out,
    size_t *outlen)
{
	struct rl_zipw	*w;
	char		 rels[4096];
	size_t		 n;

	if ((w = rl_zipw_new()) == NULL)
		return -1;
	n = (size_t)snprintf(rels, sizeof(rels), "<?xml version=\"1.0\"?>"
	    "<Relationships xmlns=\"http://schemas.openxmlformats.org/"
	    "package/2006/relationships\">");
	if (pk != NULL && pk->styles != NULL)
		n += (size_t)snprintf(rels + n, sizeof(rels) - n,
		    "<Relationship Id=\"r1\" Type=\"" REL_NS "styles\" "
		    "Target=\"styles.xml\"/>");
	if (pk != NULL && pk->numbering != NULL)
		n += (size_t)snprintf(rels + n, sizeof(rels) - n,
		    "<Relationship Id=\"r2\" Type=\"" REL_NS "numbering\" "
		    "Target=\"/word/numbering.xml\"/>");
	if (pk != NULL && pk->footnotes != NULL)
		n += (size_t)snprintf(rels + n, sizeof(rels) - n,
		    "<Relationship Id=\"r3\" Type=\"" REL_NS "footnotes\" "
		    "Target=\"./footnotes.xml\"/>");
	if (pk != NULL && pk->endnotes != NULL)
		n += (size_t)snprintf(rels + n, sizeof(rels) - n,
		    "<Relationship Id=\"r4\" Type=\"" REL_NS "endnotes\" "
		    "Target=\"endnotes.xml\"/>");
	(void)snprintf(rels + n, sizeof(rels) - n, "<Relationship Id=\"r9\" "
	    "Type=\"" REL_NS "hyperlink\" Target=\"https://example.org/\" "
	    "TargetMode=\"External\"/></Relationships>");
	if (add_str(w, "[Content_Types].xml", HOSTILE_CT) == -1 ||
	    add_str(w, "_rels/.rels", "<?xml version=\"1.0\"?>"
	    "<Relationships xmlns=\"http://schemas.openxmlformats.org/package/"
	    "2006/relationships\"><Relationship Id=\"rId1\" Type=\"" REL_NS
	    "officeDocument\" Target=\"/word/document.xml\"/>"
	    "</Relationships>") == -1 ||
	    rl_zipw_add(w, "word/document.xml", doc, doclen, NULL) != RL_OK ||
	    add_str(w, "word/_rels/document.xml.rels", rels) == -1 ||
	    (pk != NULL && pk->styles != NULL &&
	    add_str(w, "word/styles.xml", pk->styles) == -1) ||
	    (pk != NULL && pk->numbering != NULL &&
	    add_str(w, "word/numbering.xml", pk->numbering) == -1) ||
	    (pk != NULL && pk->footnotes != NULL &&
	    add_str(w, "word/footnotes.xml", pk->footnotes) == -1) ||
	    (pk != NULL && pk->endnotes != NULL &&
	    add_str(w, "word/endnotes.xml", pk->endnotes) == -1)) {
		rl_zipw_free(w);
		return -1;
	}
	return rl_zipw_finish(w, out, outlen, NULL) == RL_OK ? 0 : -1;
}

/* The text of a document built from doc and pk, or NULL with *rc set. */
static char *
text_pkg(const char *doc, size_t doclen, const struct pkg *pk,
    enum rl_err *rc, struct rl_error *e)
{
	void	*z;
	size_t	 zlen, len;
	char	*text = NULL;

	if (mkpkg(doc, doclen, pk, &z, &zlen) == -1) {
		*rc = RL_EINTERNAL;
		return NULL;
	}
	*rc = rl_docx_text_mem(z, zlen, &text, &len, e);
	free(z);
	if (*rc == RL_OK && strlen(text) != len) {
		*rc = RL_EINTERNAL;
		free(text);
		return NULL;
	}
	return text;
}

/* One rule: the document's text must be exactly want. */
static void
check(const char *what, const char *doc, const struct pkg *pk,
    const char *want)
{
	struct rl_error	 e;
	enum rl_err	 rc;
	char		*got;

	got = text_pkg(doc, strlen(doc), pk, &rc, &e);
	if (!ok(rc == RL_OK && got != NULL && strcmp(got, want) == 0,
	    "%s", what)) {
		if (rc != RL_OK)
			diag("error %s: %s", rl_err_token(rc), e.msg);
		else {
			diag("want: \"%s\"", want);
			diag("got:  \"%s\"", got);
		}
	}
	free(got);
}

static void
check_err(const char *what, const char *doc, const struct pkg *pk,
    enum rl_err want)
{
	struct rl_error	 e;
	enum rl_err	 rc;
	char		*got;

	memset(&e, 0, sizeof(e));
	got = text_pkg(doc, strlen(doc), pk, &rc, &e);
	if (!ok(rc == want && got == NULL && e.code == want &&
	    e.msg[0] != '\0', "%s: %s", what, rl_err_token(want)))
		diag("got %s: %s", rl_err_token(rc), e.msg);
	free(got);
}

/* zipio */

static void
test_zipio(void)
{
	struct rl_zip_limits	 lim;
	struct rl_zipw		*w;
	struct rl_zip		*z;
	struct rl_error		 e;
	void			*a, *b;
	size_t			 alen, blen, len;
	char			*data, *big;
	enum rl_err		 rc;

	w = rl_zipw_new();
	ok(w != NULL && rl_zipw_add(w, "One.txt", "first", 5, &e) == RL_OK &&
	    rl_zipw_add(w, "dir/two.xml", "<a/>", 4, &e) == RL_OK &&
	    rl_zipw_add(w, "empty", "", 0, &e) == RL_OK,
	    "zipw: three entries added");
	ok(rl_zipw_add(w, "One.txt", "again", 5, &e) == RL_EINVAL,
	    "zipw: a name added twice is RL_EINVAL");
	ok(rl_zipw_finish(w, &a, &alen, &e) == RL_OK && alen > 0,
	    "zipw: finished (%zu bytes)", alen);
	w = rl_zipw_new();
	(void)rl_zipw_add(w, "One.txt", "first", 5, &e);
	(void)rl_zipw_add(w, "dir/two.xml", "<a/>", 4, &e);
	(void)rl_zipw_add(w, "empty", "", 0, &e);
	ok(rl_zipw_finish(w, &b, &blen, &e) == RL_OK && blen == alen &&
	    memcmp(a, b, alen) == 0, "zipw: same entries, same bytes");
	free(b);
	rl_zipw_free(rl_zipw_new());

	rc = rl_zip_open_mem(a, alen, NULL, &z, &e);
	ok(rc == RL_OK && rl_zip_entries(z) == 3, "zip: open, 3 entries");
	ok(rl_zip_read(z, "one.TXT", &data, &len, &e) == RL_OK && len == 5 &&
	    strcmp(data, "first") == 0, "zip: names match in any case");
	free(data);
	ok(rl_zip_read(z, "empty", &data, &len, &e) == RL_OK && len == 0 &&
	    data[0] == '\0', "zip: empty entry");
	free(data);
	ok(rl_zip_read(z, "nope", &data, &len, &e) == RL_ENOTFOUND &&
	    data == NULL, "zip: missing entry is RL_ENOTFOUND");
	rl_zip_close(z);

	rl_zip_limits_default(&lim);
	lim.entries_max = 2;
	ok(rl_zip_open_mem(a, alen, &lim, &z, &e) == RL_ETOOBIG && z == NULL,
	    "zip: more entries than entries_max: RL_ETOOBIG");
	rl_zip_limits_default(&lim);
	lim.archive_max = alen - 1;
	ok(rl_zip_open_mem(a, alen, &lim, &z, &e) == RL_ETOOBIG,
	    "zip: archive over archive_max: RL_ETOOBIG");
	rl_zip_limits_default(&lim);
	lim.entry_max = 4;
	(void)rl_zip_open_mem(a, alen, &lim, &z, &e);
	ok(rl_zip_read(z, "dir/two.xml", &data, &len, &e) == RL_OK,
	    "zip: entry at entry_max is read");
	free(data);
	ok(rl_zip_read(z, "One.txt", &data, &len, &e) == RL_ETOOBIG &&
	    strcmp(e.where, "One.txt") == 0,
	    "zip: entry over entry_max: RL_ETOOBIG, where names it");
	rl_zip_close(z);
	rl_zip_limits_default(&lim);
	lim.total_max = 8;
	(void)rl_zip_open_mem(a, alen, &lim, &z, &e);
	ok(rl_zip_read(z, "One.txt", &data, &len, &e) == RL_OK,
	    "zip: 5 of 8 total bytes");
	free(data);
	ok(rl_zip_read(z, "dir/two.xml", &data, &len, &e) == RL_ETOOBIG,
	    "zip: 4 more would pass total_max: RL_ETOOBIG");
	rl_zip_close(z);
	free(a);

	/* Ratio: 2 MiB of one byte. */
	big = malloc(2 * 1024 * 1024);
	memset(big, 'x', 2 * 1024 * 1024);
	w = rl_zipw_new();
	(void)rl_zipw_add(w, "big", big, 2 * 1024 * 1024, &e);
	(void)rl_zipw_finish(w, &a, &alen, &e);
	(void)rl_zip_open_mem(a, alen, NULL, &z, &e);
	ok(rl_zip_read(z, "big", &data, &len, &e) == RL_ETOOBIG,
	    "zip: 2 MiB at %zu:1 is over the ratio cap", (size_t)(2 << 20) /
	    alen);
	rl_zip_close(z);
	rl_zip_limits_default(&lim);
	lim.ratio_max = 100000;
	(void)rl_zip_open_mem(a, alen, &lim, &z, &e);
	ok(rl_zip_read(z, "big", &data, &len, &e) == RL_OK &&
	    len == 2 * 1024 * 1024 && memcmp(data, big, len) == 0,
	    "zip: same entry read whole with a higher ratio cap");
	free(data);
	rl_zip_close(z);
	free(a);
	free(big);

	/* Headers that lie, both ways. */
	ok(hz_filled(100000, ' ', &a, &alen) == 0 &&
	    hz_patch(a, alen, "word/document.xml", HZ_USIZE, 1000) == 0,
	    "zip: patched a 100 kB entry to declare 1000 bytes");
	(void)rl_zip_open_mem(a, alen, NULL, &z, &e);
	ok(rl_zip_read(z, "word/document.xml", &data, &len, &e) == RL_EFORM &&
	    data == NULL && strstr(e.msg, "declares") != NULL,
	    "zip: inflating past the declared size is RL_EFORM (%s)", e.msg);
	rl_zip_close(z);
	free(a);
	(void)mk_sizeshort(&a, &alen);
	(void)rl_zip_open_mem(a, alen, NULL, &z, &e);
	ok(rl_zip_read(z, "word/document.xml", &data, &len, &e) == RL_EFORM,
	    "zip: an entry shorter than declared is RL_EFORM");
	rl_zip_close(z);
	free(a);

	ok(rl_zip_open_mem("PK\003\004junk", 10, NULL, &z, &e) == RL_EFORM,
	    "zip: garbage after a local header magic is RL_EFORM");
	ok(rl_zip_open_file("/nonexistent/x.docx", NULL, &z, &e) ==
	    RL_ENOTFOUND, "zip: missing file is RL_ENOTFOUND");
	ok(rl_zip_open_file("/", NULL, &z, &e) == RL_EIO,
	    "zip: a directory is RL_EIO");
}

/* Text rules, one document each. */

static const char styles[] = STYLES(
    "<w:style w:type=\"paragraph\" w:default=\"1\" w:styleId=\"Normal\">"
    "<w:name w:val=\"Normal\"/></w:style>"
    "<w:style w:type=\"paragraph\" w:styleId=\"Titre1\">"
    "<w:name w:val=\"heading 1\"/><w:basedOn w:val=\"Normal\"/></w:style>"
    "<w:style w:type=\"paragraph\" w:styleId=\"Titre2\">"
    "<w:name w:val=\"Heading 2\"/><w:basedOn w:val=\"Normal\"/></w:style>"
    "<w:style w:type=\"paragraph\" w:styleId=\"MonTitre\">"
    "<w:name w:val=\"Mon titre\"/><w:basedOn w:val=\"Titre2\"/></w:style>"
    "<w:style w:type=\"paragraph\" w:styleId=\"Plan\">"
    "<w:name w:val=\"Plan\"/><w:pPr><w:outlineLvl w:val=\"2\"/></w:pPr>"
    "</w:style>"
    "<w:style w:type=\"paragraph\" w:styleId=\"Title\">"
    "<w:name w:val=\"Title\"/></w:style>"
    "<w:style w:type=\"paragraph\" w:styleId=\"Subtitle\">"
    "<w:name w:val=\"Subtitle\"/><w:basedOn w:val=\"Title\"/></w:style>"
    "<w:style w:type=\"paragraph\" w:styleId=\"H9\">"
    "<w:name w:val=\"heading 9\"/></w:style>"
    "<w:style w:type=\"paragraph\" w:styleId=\"Loop1\">"
    "<w:name w:val=\"Loop 1\"/><w:basedOn w:val=\"Loop2\"/></w:style>"
    "<w:style w:type=\"paragraph\" w:styleId=\"Loop2\">"
    "<w:name w:val=\"Loop 2\"/><w:basedOn w:val=\"Loop1\"/></w:style>"
    "<w:style w:type=\"paragraph\" w:styleId=\"Puce\">"
    "<w:name w:val=\"Puce\"/><w:pPr><w:numPr><w:numId w:val=\"1\"/>"
    "</w:numPr></w:pPr></w:style>"
    "<w:style w:type=\"numbering\" w:styleId=\"ListeLiee\">"
    "<w:name w:val=\"Liste liee\"/><w:pPr><w:numPr><w:numId w:val=\"5\"/>"
    "</w:numPr></w:pPr></w:style>");

#define LVL(i, fmt, text, start) \
	"<w:lvl w:ilvl=\"" #i "\"><w:start w:val=\"" #start "\"/>" \
	"<w:numFmt w:val=\"" fmt "\"/><w:lvlText w:val=\"" text "\"/></w:lvl>"

static const char numbering[] = NUMBERING(
    "<w:abstractNum w:abstractNumId=\"10\">"
    LVL(0, "bullet", "\xef\x82\xb7", 1) LVL(1, "bullet", "o", 1)
    "</w:abstractNum>"
    "<w:abstractNum w:abstractNumId=\"11\">"
    LVL(0, "decimal", "%1.", 1) LVL(1, "lowerLetter", "%2)", 1)
    LVL(2, "lowerRoman", "(%3)", 1) "</w:abstractNum>"
    "<w:abstractNum w:abstractNumId=\"12\">"
    LVL(0, "upperRoman", "%1.", 1) LVL(1, "decimal", "%1.%2.", 1)
    "</w:abstractNum>"
    "<w:abstractNum w:abstractNumId=\"13\">"
    LVL(0, "upperLetter", "%1-", 3) "</w:abstractNum>"
    "<w:abstractNum w:abstractNumId=\"14\"><w:numStyleLink "
    "w:val=\"ListeLiee\"/></w:abstractNum>"
    "<w:abstractNum w:abstractNumId=\"15\"><w:styleLink "
    "w:val=\"ListeLiee\"/>" LVL(0, "decimal", "Etape %1 :", 1)
    "</w:abstractNum>"
    "<w:num w:numId=\"1\"><w:abstractNumId w:val=\"10\"/></w:num>"
    "<w:num w:numId=\"2\"><w:abstractNumId w:val=\"11\"/></w:num>"
    "<w:num w:numId=\"3\"><w:abstractNumId w:val=\"11\"/>"
    "<w:lvlOverride w:ilvl=\"0\"><w:startOverride w:val=\"1\"/>"
    "</w:lvlOverride></w:num>"
    "<w:num w:numId=\"4\"><w:abstractNumId w:val=\"12\"/></w:num>"
    "<w:num w:numId=\"5\"><w:abstractNumId w:val=\"15\"/></w:num>"
    "<w:num w:numId=\"6\"><w:abstractNumId w:val=\"14\"/></w:num>"
    "<w:num w:numId=\"7\"><w:abstractNumId w:val=\"13\"/></w:num>");

static const char footnotes[] =
    "<?xml version=\"1.0\"?><w:footnotes" NS_DECLS ">"
    "<w:footnote w:type=\"separator\" w:id=\"-1\"><w:p><w:r><w:separator/>"
    "<w:t>SEPARATOR</w:t></w:r></w:p></w:footnote>"
    "<w:footnote w:type=\"continuationSeparator\" w:id=\"0\"><w:p><w:r>"
    "<w:t>CONTINUATION</w:t></w:r></w:p></w:footnote>"
    "<w:footnote w:id=\"1\"><w:p><w:r><w:footnoteRef/></w:r><w:r>"
    "<w:t xml:space=\"preserve\"> Source : MEES.</w:t></w:r></w:p>"
    "<w:p><w:r><w:t>Second line.</w:t></w:r></w:p></w:footnote>"
    "<w:footnote w:id=\"2\"><w:p><w:r><w:t>Two</w:t></w:r></w:p>"
    "</w:footnote></w:footnotes>";

static const char endnotes[] =
    "<?xml version=\"1.0\"?><w:endnotes" NS_DECLS ">"
    "<w:endnote w:id=\"1\"><w:p><w:r><w:t>End note.</w:t></w:r></w:p>"
    "</w:endnote></w:endnotes>";

static void
test_paragraphs(void)
{
	static const struct pkg	 st = { styles, NULL, NULL, NULL };

	check("paragraphs are separated by a blank line",
	    DOC(P("Hello") P("World")), NULL, "Hello\n\nWorld\n");
	check("empty paragraphs are left out",
	    DOC(P("A") "<w:p/><w:p><w:r><w:t>  </w:t></w:r></w:p>" P("B")),
	    NULL, "A\n\nB\n");
	check("an empty document is empty text", DOC(""), NULL, "");
	check("runs are joined; unpreserved w:t is trimmed",
	    DOC("<w:p><w:r><w:t xml:space=\"preserve\">Plan </w:t></w:r>"
	    "<w:r><w:t> de </w:t></w:r><w:r><w:t xml:space=\"preserve\">"
	    " cours</w:t></w:r></w:p>"), NULL, "Plan de cours\n");
	check("entities and UTF-8 pass through",
	    DOC(P("&lt;C&amp;D&gt; \xc3\xa9t\xc3\xa9 \xe2\x82\xac")), NULL,
	    "<C&D> \xc3\xa9t\xc3\xa9 \xe2\x82\xac\n");
	check("tab, break, carriage return, hyphens",
	    DOC("<w:p><w:r><w:t>a</w:t><w:tab/><w:t>b</w:t><w:br/>"
	    "<w:t>c</w:t><w:cr/><w:t>d</w:t><w:noBreakHyphen/><w:t>e"
	    "</w:t><w:softHyphen/><w:t>f</w:t><w:br w:type=\"page\"/>"
	    "<w:t>g</w:t></w:r></w:p>"), NULL, "a\tb\nc\nd-ef\ng\n");
	check("hyperlink text is kept",
	    DOC("<w:p><w:r><w:t xml:space=\"preserve\">Voir </w:t></w:r>"
	    "<w:hyperlink r:id=\"r9\"><w:r><w:t>le site</w:t></w:r>"
	    "</w:hyperlink></w:p>"), NULL, "Voir le site\n");
	check("heading by style name, id localised (Titre1)",
	    DOC(PS("Titre1", "Introduction") P("Texte")), &st,
	    "# Introduction\n\nTexte\n");
	check("heading name in any case; basedOn followed",
	    DOC(PS("Titre2", "A") PS("MonTitre", "B")), &st,
	    "## A\n\n## B\n");
	check("outlineLvl makes a heading; Title is level 1",
	    DOC(PS("Title", "Plan de cours") PS("Plan", "C")), &st,
	    "# Plan de cours\n\n### C\n");
	check("Subtitle based on Title is not a heading",
	    DOC(PS("Subtitle", "Automne")), &st, "Automne\n");
	check("heading 9 is written with six #",
	    DOC(PS("H9", "Deep")), &st, "###### Deep\n");
	check("a basedOn cycle ends; unknown style is Normal",
	    DOC(PS("Loop1", "L") PS("Nope", "N")), &st, "L\n\nN\n");
	check("a heading keeps its breaks and tabs as spaces",
	    DOC("<w:p><w:pPr><w:pStyle w:val=\"Titre1\"/></w:pPr><w:r>"
	    "<w:t>A</w:t><w:br/><w:t>B</w:t><w:tab/><w:t>C</w:t></w:r>"
	    "</w:p>"), &st, "# A B C\n");
	check("no styles.xml: Heading1 by style id",
	    DOC(PS("Heading1", "Intro")), NULL, "# Intro\n");
}

static void
test_lists(void)
{
	static const struct pkg	 pk = { styles, numbering, NULL, NULL };

	check("bullets and nested bullets",
	    DOC(PN(1, 0, "un") PN(1, 1, "sous") PN(1, 0, "deux")), &pk,
	    "- un\n  - sous\n- deux\n");
	check("numbered, nested a), deeper (i), counters reset",
	    DOC(PN(2, 0, "un") PN(2, 1, "a") PN(2, 1, "b") PN(2, 2, "i")
	    PN(2, 0, "deux") PN(2, 1, "c")), &pk,
	    "1. un\n  a) a\n  b) b\n    (i) i\n2. deux\n  a) c\n");
	check("a list continues after a paragraph; startOverride restarts",
	    DOC(PN(2, 0, "un") P("texte") PN(2, 0, "deux") PN(3, 0, "re")),
	    &pk, "1. un\n\ntexte\n\n2. deux\n\n1. re\n");
	check("numId 0 is no list", DOC(PN(0, 0, "plain")), &pk,
	    "plain\n");
	check("unknown numId is no list", DOC(PN(99, 0, "plain")), &pk,
	    "plain\n");
	check("%1.%2. pattern: each level in its own format, as Word shows",
	    DOC(PN(4, 0, "one") PN(4, 1, "sub") PN(4, 0, "two")
	    PN(4, 1, "sub")), &pk,
	    "I. one\n  I.1. sub\nII. two\n  II.1. sub\n");
	check("start 3, upper letter",
	    DOC(PN(7, 0, "x") PN(7, 0, "y")), &pk, "C- x\nD- y\n");
	check("numbering from the paragraph style",
	    DOC(PS("Puce", "styled")), &pk, "- styled\n");
	check("numStyleLink follows the numbering style",
	    DOC(PN(6, 0, "a") PN(6, 0, "b")), &pk,
	    "Etape 1 : a\nEtape 2 : b\n");
	check("two lists in a row are separated",
	    DOC(PN(1, 0, "puce") PN(2, 0, "un")), &pk, "- puce\n\n1. un\n");
	check("a list item's line break is indented",
	    DOC("<w:p><w:pPr><w:numPr><w:ilvl w:val=\"1\"/><w:numId "
	    "w:val=\"1\"/></w:numPr></w:pPr><w:r><w:t>a</w:t><w:br/>"
	    "<w:t>b</w:t></w:r></w:p>"), &pk, "  - a\n    b\n");
	check("a numbered heading stays a heading, with its number",
	    DOC("<w:p><w:pPr><w:pStyle w:val=\"Titre1\"/><w:numPr><w:ilvl "
	    "w:val=\"0\"/><w:numId w:val=\"2\"/></w:numPr></w:pPr><w:r>"
	    "<w:t>Intro</w:t></w:r></w:p>"), &pk, "# 1. Intro\n");
	check("no numbering.xml: numbered paragraphs are plain",
	    DOC(PN(2, 0, "x")), NULL, "x\n");
}

static void
test_tables(void)
{

	check("a table: TABLE n, header rule, rows, ENDTABLE",
	    DOC(P("Avant") "<w:tbl><w:tblPr><w:tblW w:w=\"0\"/></w:tblPr>"
	    "<w:tblGrid><w:gridCol/></w:tblGrid>"
	    "<w:tr>" TC("Semaine") TC("Sujet") "</w:tr>"
	    "<w:tr>" TC("1") TC("Intro") "</w:tr></w:tbl>" P("Apr\xc3\xa8s")),
	    NULL, "Avant\n\nTABLE 1:\n| Semaine | Sujet |\n| --- | --- |\n"
	    "| 1 | Intro |\nENDTABLE\n\nApr\xc3\xa8s\n");
	check("gridSpan, vMerge, gridBefore, gridAfter, padding",
	    DOC("<w:tbl>"
	    "<w:tr><w:tc><w:tcPr><w:gridSpan w:val=\"2\"/></w:tcPr>"
	    P("AB") "</w:tc>" TC("C") "</w:tr>"
	    "<w:tr><w:tc><w:tcPr><w:vMerge w:val=\"restart\"/></w:tcPr>"
	    P("M") "</w:tc>" TC("x") TC("y") "</w:tr>"
	    "<w:tr><w:tc><w:tcPr><w:vMerge/></w:tcPr><w:p/></w:tc>"
	    TC("z") TC("w") "</w:tr>"
	    "<w:tr><w:trPr><w:gridBefore w:val=\"1\"/><w:gridAfter "
	    "w:val=\"1\"/></w:trPr>" TC("mid") "</w:tr>"
	    "<w:tr>" TC("short") "</w:tr></w:tbl>"), NULL,
	    "TABLE 1:\n| AB |  | C |\n| --- | --- | --- |\n| M | x | y |\n"
	    "| M | z | w |\n|  | mid |  |\n| short |  |  |\nENDTABLE\n");
	check("cells: paragraphs joined with <br>, | escaped, empty rows out",
	    DOC("<w:tbl><w:tr><w:tc>" P("a|b") P("c") "</w:tc>"
	    "<w:tc><w:p><w:r><w:t>t</w:t><w:tab/><w:t>u</w:t></w:r></w:p>"
	    "</w:tc></w:tr><w:tr><w:tc><w:p/></w:tc><w:tc><w:p/></w:tc>"
	    "</w:tr></w:tbl>"), NULL,
	    "TABLE 1:\n| a\\|b<br>c | t u |\n| --- | --- |\nENDTABLE\n");
	check("tables are numbered; an empty table is left out",
	    DOC("<w:tbl><w:tr>" TC("one") "</w:tr></w:tbl>"
	    "<w:tbl><w:tr><w:tc><w:p/></w:tc></w:tr></w:tbl>"
	    "<w:tbl><w:tr>" TC("two") "</w:tr></w:tbl>"), NULL,
	    "TABLE 1:\n| one |\n| --- |\nENDTABLE\n\n"
	    "TABLE 2:\n| two |\n| --- |\nENDTABLE\n");
	check("a nested table is flattened into its cell",
	    DOC("<w:tbl><w:tr>" TC("out") "<w:tc><w:tbl><w:tr>" TC("a")
	    TC("b") "</w:tr><w:tr>" TC("c") TC("d") "</w:tr></w:tbl><w:p/>"
	    "</w:tc></w:tr></w:tbl>"), NULL,
	    "TABLE 1:\n| out | a; b<br>c; d |\n| --- | --- |\nENDTABLE\n");
	check("content controls around rows and cells are transparent",
	    DOC("<w:tbl><w:sdt><w:sdtContent><w:tr><w:sdt><w:sdtPr><w:alias "
	    "w:val=\"x\"/></w:sdtPr><w:sdtContent>" TC("in") "</w:sdtContent>"
	    "</w:sdt></w:tr></w:sdtContent></w:sdt></w:tbl>"), NULL,
	    "TABLE 1:\n| in |\n| --- |\nENDTABLE\n");
}

static void
test_inline(void)
{
	static const struct pkg	 notes = { NULL, NULL, footnotes, endnotes };

	check("complex field: instruction dropped, result kept",
	    DOC("<w:p><w:r><w:t xml:space=\"preserve\">Voir </w:t></w:r>"
	    "<w:r><w:fldChar w:fldCharType=\"begin\"/></w:r><w:r><w:instrText>"
	    " HYPERLINK \"https://x\" </w:instrText></w:r><w:r><w:fldChar "
	    "w:fldCharType=\"separate\"/></w:r><w:r><w:t>le lien</w:t></w:r>"
	    "<w:r><w:fldChar w:fldCharType=\"end\"/></w:r></w:p>"), NULL,
	    "Voir le lien\n");
	check("nested fields; text in an instruction is dropped",
	    DOC("<w:p><w:r><w:fldChar w:fldCharType=\"begin\"/></w:r>"
	    "<w:r><w:t>IF </w:t></w:r><w:r><w:fldChar "
	    "w:fldCharType=\"begin\"/></w:r><w:r><w:instrText>DATE"
	    "</w:instrText></w:r><w:r><w:fldChar w:fldCharType=\"separate\"/>"
	    "</w:r><w:r><w:t>hidden</w:t></w:r><w:r><w:fldChar "
	    "w:fldCharType=\"end\"/></w:r><w:r><w:fldChar "
	    "w:fldCharType=\"separate\"/></w:r><w:r><w:t>shown</w:t></w:r>"
	    "<w:r><w:fldChar w:fldCharType=\"end\"/></w:r></w:p>"), NULL,
	    "shown\n");
	check("fldSimple keeps its result",
	    DOC("<w:p><w:r><w:t xml:space=\"preserve\">Page </w:t></w:r>"
	    "<w:fldSimple w:instr=\"PAGE\"><w:r><w:t>3</w:t></w:r>"
	    "</w:fldSimple></w:p>"), NULL, "Page 3\n");
	check("content controls: block and inline kept, sdtPr dropped",
	    DOC("<w:sdt><w:sdtPr><w:placeholder><w:docPart w:val=\"x\"/>"
	    "</w:placeholder><w:text/></w:sdtPr><w:sdtContent>" P("Bloc")
	    "</w:sdtContent></w:sdt><w:p><w:sdt><w:sdtPr><w:alias "
	    "w:val=\"Nom\"/></w:sdtPr><w:sdtContent><w:r><w:t>Inline</w:t>"
	    "</w:r></w:sdtContent></w:sdt></w:p>"), NULL, "Bloc\n\nInline\n");
	check("smart tags and custom XML are transparent",
	    DOC("<w:p><w:smartTag w:element=\"place\"><w:smartTagPr/><w:r>"
	    "<w:t>Montr\xc3\xa9" "al</w:t></w:r></w:smartTag><w:customXml "
	    "w:element=\"x\"><w:r><w:t xml:space=\"preserve\"> QC</w:t>"
	    "</w:r></w:customXml></w:p>"), NULL, "Montr\xc3\xa9" "al QC\n");
	check("tracked changes: insertions kept, deletions dropped",
	    DOC("<w:p><w:r><w:t xml:space=\"preserve\">Le </w:t></w:r>"
	    "<w:ins w:id=\"1\"><w:r><w:t xml:space=\"preserve\">nouveau "
	    "</w:t></w:r></w:ins><w:del w:id=\"2\"><w:r><w:delText>ancien "
	    "</w:delText></w:r></w:del><w:r><w:t>texte</w:t></w:r></w:p>"
	    "<w:p><w:moveFrom><w:r><w:t>parti</w:t></w:r></w:moveFrom>"
	    "<w:moveTo><w:r><w:t>arriv\xc3\xa9</w:t></w:r></w:moveTo></w:p>"),
	    NULL, "Le nouveau texte\n\narriv\xc3\xa9\n");
	check("a deleted paragraph mark merges two paragraphs",
	    DOC("<w:p><w:pPr><w:rPr><w:del w:id=\"1\"/></w:rPr></w:pPr><w:r>"
	    "<w:t>Un</w:t></w:r></w:p>" P("deux") P("trois")), NULL,
	    "Un deux\n\ntrois\n");
	check("a drop cap joins the next paragraph without a space",
	    DOC("<w:p><w:pPr><w:framePr w:dropCap=\"drop\" w:lines=\"3\"/>"
	    "</w:pPr><w:r><w:t>L</w:t></w:r></w:p>" P("e cours")), NULL,
	    "Le cours\n");
	check("hidden runs are left out; vanish off is shown",
	    DOC("<w:p><w:r><w:rPr><w:vanish/></w:rPr><w:t>secret</w:t></w:r>"
	    "<w:r><w:rPr><w:vanish w:val=\"0\"/></w:rPr><w:t>vu</w:t></w:r>"
	    "<w:r><w:t xml:space=\"preserve\"> ici</w:t></w:r></w:p>"), NULL,
	    "vu ici\n");
	check("w:sym: Symbol font mapped, Wingdings dropped, others kept",
	    DOC("<w:p><w:r><w:sym w:font=\"Symbol\" w:char=\"F061\"/>"
	    "<w:sym w:font=\"Wingdings\" w:char=\"F0E0\"/>"
	    "<w:sym w:font=\"Arial\" w:char=\"00E9\"/></w:r>"
	    "<w:r><w:rPr><w:rFonts w:ascii=\"Symbol\" w:hAnsi=\"Symbol\"/>"
	    "</w:rPr><w:t>b\xef\x81\xa7</w:t></w:r></w:p>"), NULL,
	    "\xce\xb1\xc3\xa9\xce\xb2\xce\xb3\n");
	check("picture alt text",
	    DOC("<w:p><w:r><w:t xml:space=\"preserve\">Voir </w:t></w:r>"
	    "<w:r><w:drawing><wp:inline><wp:docPr id=\"1\" name=\"P\" "
	    "descr=\"Logo du c\xc3\xa9gep\"/></wp:inline></w:drawing></w:r>"
	    "</w:p>"), NULL, "Voir [image: Logo du c\xc3\xa9gep]\n");
	check("math text is kept",
	    DOC("<w:p><w:r><w:t xml:space=\"preserve\">Aire : </w:t></w:r>"
	    "<m:oMath><m:r><m:t>A=\xcf\x80r</m:t></m:r></m:oMath></w:p>"),
	    NULL, "Aire : A=\xcf\x80r\n");
	check("text box after its paragraph, one mc branch only",
	    DOC("<w:p><w:r><w:t>H\xc3\xb4te</w:t></w:r><w:r>"
	    "<mc:AlternateContent><mc:Choice Requires=\"wps\"><w:drawing>"
	    "<wp:anchor><wp:docPr id=\"2\" name=\"Zone\"/><wps:wsp><wps:txbx>"
	    "<w:txbxContent>" P("Encadr\xc3\xa9") "</w:txbxContent></wps:txbx>"
	    "</wps:wsp></wp:anchor></w:drawing></mc:Choice><mc:Fallback>"
	    "<w:pict><v:shape><v:textbox><w:txbxContent>" P("Encadr\xc3\xa9")
	    "</w:txbxContent></v:textbox></v:shape></w:pict></mc:Fallback>"
	    "</mc:AlternateContent></w:r><w:r><w:t xml:space=\"preserve\">"
	    " suite</w:t></w:r></w:p>" P("Fin")), NULL,
	    "H\xc3\xb4te suite\n\nEncadr\xc3\xa9\n\nFin\n");
	check("mc: a Choice we do not understand falls back",
	    DOC("<w:p><w:r><mc:AlternateContent><mc:Choice Requires=\"w99\">"
	    "<w:t>choice</w:t></mc:Choice><mc:Fallback><w:t>fallback</w:t>"
	    "</mc:Fallback></mc:AlternateContent></w:r></w:p>"), NULL,
	    "fallback\n");
	check("footnotes and endnotes after their paragraph",
	    DOC("<w:p><w:r><w:t>Texte</w:t></w:r><w:r><w:footnoteReference "
	    "w:id=\"1\"/></w:r><w:r><w:t xml:space=\"preserve\"> et fin"
	    "</w:t></w:r><w:r><w:endnoteReference w:id=\"1\"/></w:r></w:p>"
	    "<w:p><w:r><w:t>Deux</w:t></w:r><w:r><w:footnoteReference "
	    "w:id=\"2\"/><w:footnoteReference w:id=\"77\"/></w:r></w:p>"),
	    &notes, "Texte[^1] et fin[^2]\n\n[^1]: Source : MEES. Second "
	    "line.\n\n[^2]: End note.\n\nDeux[^3]\n\n[^3]: Two\n");
}

static void
test_package(void)
{
	struct rl_zipw	*w;
	struct rl_error	 e;
	void		*z;
	size_t		 zlen, len, i, j;
	unsigned int	 seed = 1;
	enum rl_err	 rc;
	char		*text, *doc;
	static const char strict[] = "<?xml version=\"1.0\"?><w:document "
	    "xmlns:w=\"http://purl.oclc.org/ooxml/wordprocessingml/main\">"
	    "<w:body>" P("Strict") "</w:body></w:document>";
	static const char ns0[] = "<?xml version=\"1.0\"?><ns0:document "
	    "xmlns:ns0=\"http://schemas.openxmlformats.org/wordprocessingml/"
	    "2006/main\"><ns0:body><ns0:p><ns0:r><ns0:t>Prefix</ns0:t>"
	    "</ns0:r></ns0:p></ns0:body></ns0:document>";
	static const char utf16[] = "<?xml version=\"1.0\" encoding="
	    "\"UTF-16\"?><w:document xmlns:w=\"http://schemas."
	    "openxmlformats.org/wordprocessingml/2006/main\"><w:body><w:p>"
	    "<w:r><w:t>\xc3\xa9t\xc3\xa9</w:t></w:r></w:p></w:body>"
	    "</w:document>";
	char		 u16[sizeof(utf16) * 2 + 2];
	const char	*p;
	size_t		 k;

	check("strict namespace", strict, NULL, "Strict\n");
	check("any prefix for the WordprocessingML namespace", ns0, NULL,
	    "Prefix\n");
	check("the default namespace, and a prefix declared on an inner "
	    "element", "<?xml version=\"1.0\"?><document xmlns=\"http://"
	    "schemas.openxmlformats.org/wordprocessingml/2006/main\"><body>"
	    "<p><r><t>Default</t></r></p><x:p xmlns:x=\"http://schemas."
	    "openxmlformats.org/wordprocessingml/2006/main\"><x:r><x:t>Inner"
	    "</x:t></x:r></x:p></body></document>", NULL,
	    "Default\n\nInner\n");
	check("a w: prefix bound elsewhere is not WordprocessingML",
	    DOC(P("Kept") "<w:p xmlns:w=\"urn:other\"><w:r><w:t>Other</w:t>"
	    "</w:r></w:p>" P("Also kept")), NULL, "Kept\n\nAlso kept\n");
	/* UTF-16LE with a BOM (ASCII and two e-acute). */
	k = 0;
	u16[k++] = (char)0xff;
	u16[k++] = (char)0xfe;
	for (p = utf16; *p != '\0'; p++) {
		if ((unsigned char)*p == 0xc3) {
			u16[k++] = (char)0xe9;
			u16[k++] = 0;
			p++;
			continue;
		}
		u16[k++] = *p;
		u16[k++] = 0;
	}
	ok((text = text_pkg(u16, k, NULL, &(enum rl_err){0}, &e)) != NULL &&
	    strcmp(text, "\xc3\xa9t\xc3\xa9\n") == 0,
	    "a UTF-16 part is read");
	free(text);

	/* The main part found through _rels/.rels, not by its usual name. */
	w = rl_zipw_new();
	(void)add_str(w, "_rels/.rels", "<Relationships xmlns=\"http://"
	    "schemas.openxmlformats.org/package/2006/relationships\">"
	    "<Relationship Id=\"a\" Type=\"http://purl.oclc.org/ooxml/"
	    "officeDocument/relationships/officeDocument\" "
	    "Target=\"body/main.xml\"/></Relationships>");
	(void)add_str(w, "body/main.xml", DOC(PS("Chap", "Ici")));
	(void)add_str(w, "body/_rels/main.xml.rels", "<Relationships xmlns="
	    "\"http://schemas.openxmlformats.org/package/2006/relationships\">"
	    "<Relationship Id=\"s\" Type=\"" REL_NS "styles\" "
	    "Target=\"../meta/st.xml\"/></Relationships>");
	(void)add_str(w, "meta/st.xml", STYLES("<w:style w:styleId=\"Chap\">"
	    "<w:name w:val=\"heading 3\"/></w:style>"));
	(void)add_str(w, "word/document.xml", DOC(P("decoy")));
	ok(rl_zipw_finish(w, &z, &zlen, NULL) == RL_OK &&
	    rl_docx_text_mem(z, zlen, &text, &len, &e) == RL_OK &&
	    strcmp(text, "### Ici\n") == 0,
	    "main part and styles found through relationships");
	free(text);
	free(z);

	check_err("an unknown encoding is refused",
	    "<?xml version=\"1.0\" encoding=\"windows-1252\"?><w:document "
	    "xmlns:w=\"x\"/>", NULL, RL_EFORM);
	check_err("a DOCTYPE is refused even without entities",
	    "<?xml version=\"1.0\"?><!DOCTYPE w:document><w:document "
	    "xmlns:w=\"x\"/>", NULL, RL_EFORM);
	check_err("an undefined entity is refused",
	    DOC(P("&nbsp;")), NULL, RL_EFORM);
	/* Namespace declarations in scope: past RL_DOCX_MAX_NSDECL. */
	doc = malloc(RL_DOCX_MAX_NSDECL * 24 + 1024);
	k = (size_t)snprintf(doc, 1024, "<?xml version=\"1.0\"?><w:document "
	    "xmlns:w=\"" HOSTILE_W_NS "\"");
	for (i = 0; i < RL_DOCX_MAX_NSDECL; i++)
		k += (size_t)snprintf(doc + k, 24, " xmlns:p%zu=\"u\"", i);
	k += (size_t)snprintf(doc + k, 1024, "><w:body/></w:document>");
	text = text_pkg(doc, k, NULL, &rc, &e);
	ok(text == NULL && rc == RL_ETOOBIG, "%d namespace declarations: "
	    "RL_ETOOBIG", RL_DOCX_MAX_NSDECL + 1);
	free(doc);

	/* The text budget: past it, the text is cut with a marker. */
	len = 2 * RL_DOCX_TEXT_MAX / 100 + 10;
	doc = malloc(len * 140 + 1024);
	k = (size_t)snprintf(doc, 1024, "%s", HOSTILE_DOC_HEAD);
	for (i = 0; i < len; i++) {
		memcpy(doc + k, "<w:p><w:r><w:t>", 15);
		k += 15;
		/* Letters from an LCG: text that does not compress 100:1. */
		for (j = 0; j < 98; j++) {
			seed = seed * 1103515245u + 12345u;
			doc[k++] = (char)('a' + (seed >> 16) % 26);
		}
		memcpy(doc + k, "</w:t></w:r></w:p>", 18);
		k += 18;
	}
	k += (size_t)snprintf(doc + k, 1024, "%s", HOSTILE_DOC_TAIL);
	text = text_pkg(doc, k, NULL, &(enum rl_err){0}, &e);
	ok(text != NULL && strlen(text) <= RL_DOCX_TEXT_MAX +
	    strlen(RL_DOCX_TRUNCATED) && strlen(text) > RL_DOCX_TEXT_MAX / 2 &&
	    strcmp(text + strlen(text) - strlen(RL_DOCX_TRUNCATED),
	    RL_DOCX_TRUNCATED) == 0,
	    "a text over RL_DOCX_TEXT_MAX is cut with the marker (%zu bytes)",
	    text != NULL ? strlen(text) : 0);
	free(text);
	free(doc);
}

static void
test_hostile(void)
{
	struct rl_error	 e;
	void		*buf;
	size_t		 len, i, tlen;
	char		*text;
	enum rl_err	 rc;

	for (i = 0; i < NHOSTILE; i++) {
		if (!ok(hostiles[i].make(&buf, &len) == 0, "built %s",
		    hostiles[i].name))
			continue;
		memset(&e, 0, sizeof(e));
		rc = rl_docx_text_mem(buf, len, &text, &tlen, &e);
		if (!ok(rc == hostiles[i].want && e.code == rc &&
		    text == NULL && e.msg[0] != '\0',
		    "hostile %s (%s): %s", hostiles[i].name, hostiles[i].why,
		    rl_err_token(hostiles[i].want)))
			diag("got %s: %s", rl_err_token(rc), e.msg);
		else
			diag("%s", e.msg);
		if (rc == RL_OK)
			free(text);
		free(buf);
	}
}

/* The writer, read back. */

static void
test_writer(void)
{
	static const char *const cells[] = {
		"Semaine", "Sujet",
		"1", "Intro | base",
		"2", NULL,
	};
	static const char want[] =
	    "# Plan de cours\n\n"
	    "## 1. Pr\xc3\xa9sentation\n\n"
	    "Texte & <balises> \"cit\xc3\xa9\x65s\"\nligne 2\ttab\n\n"
	    "- puce 1\n  - sous-puce\n- puce 2\n\n"
	    "1. un\n2. deux\n  a. deux-a\n3. trois\n\n"
	    "Paragraphe\n\n"
	    "1. encore\n\n"
	    "TABLE 1:\n| Semaine | Sujet |\n| --- | --- |\n"
	    "| 1 | Intro \\| base |\n| 2 |  |\nENDTABLE\n\n"
	    "###### Six\n";
	struct rl_docxw	*w;
	struct rl_error	 e;
	struct rl_zip	*z;
	void		*buf, *buf2;
	size_t		 len, len2, tlen;
	char		*text, dir[] = "/tmp/test_docx.XXXXXX", path[256];
	struct dirent	*de;
	DIR		*d;
	int		 n;

	w = rl_docxw_new();
	ok(w != NULL, "docxw: new");
	ok(rl_docxw_heading(w, 0, "Plan de cours") == RL_OK &&
	    rl_docxw_heading(w, 2, "1. Pr\xc3\xa9sentation") == RL_OK &&
	    rl_docxw_para(w, "Texte & <balises> \"cit\xc3\xa9\x65s\"\n"
	    "ligne 2\ttab\x01") == RL_OK &&
	    rl_docxw_list_item(w, 0, 0, "puce 1") == RL_OK &&
	    rl_docxw_list_item(w, 1, 0, "sous-puce") == RL_OK &&
	    rl_docxw_list_item(w, 0, 0, "puce 2") == RL_OK &&
	    rl_docxw_list_item(w, 0, 1, "un") == RL_OK &&
	    rl_docxw_list_item(w, 0, 1, "deux") == RL_OK &&
	    rl_docxw_list_item(w, 1, 1, "deux-a") == RL_OK &&
	    rl_docxw_list_item(w, 0, 1, "trois") == RL_OK &&
	    rl_docxw_para(w, "Paragraphe") == RL_OK &&
	    rl_docxw_list_item(w, 0, 1, "encore") == RL_OK &&
	    rl_docxw_table(w, 3, 2, cells) == RL_OK &&
	    rl_docxw_heading(w, 6, "Six") == RL_OK,
	    "docxw: every kind of block added");
	ok(rl_docxw_mem(w, &buf, &len, &e) == RL_OK && len > 0,
	    "docxw: to memory (%zu bytes)", len);
	ok(rl_zip_open_mem(buf, len, NULL, &z, &e) == RL_OK &&
	    rl_zip_entries(z) == 6, "docxw: six parts");
	rl_zip_close(z);
	if (!ok(rl_docx_text_mem(buf, len, &text, &tlen, &e) == RL_OK &&
	    strcmp(text, want) == 0, "docxw: read back exactly"))
		diag("got \"%s\"", text != NULL ? text : e.msg);
	free(text);
	ok(rl_docxw_mem(w, &buf2, &len2, &e) == RL_OK && len2 == len &&
	    memcmp(buf, buf2, len) == 0, "docxw: same document, same bytes");
	free(buf2);

	ok(mkdtemp(dir) != NULL, "temporary directory");
	(void)snprintf(path, sizeof(path), "%s/plan.docx", dir);
	ok(rl_docxw_save(w, path, &e) == RL_OK &&
	    rl_docx_text(path, &text, &tlen, &e) == RL_OK &&
	    strcmp(text, want) == 0, "docxw: saved to a file, read back");
	free(text);
	ok(rl_docxw_save(w, path, &e) == RL_OK, "docxw: saved over it");
	n = 0;
	if ((d = opendir(dir)) != NULL) {
		while ((de = readdir(d)) != NULL)
			n += de->d_name[0] != '.';
		(void)closedir(d);
	}
	ok(n == 1, "docxw: no temporary file left (%d entries)", n);
	(void)unlink(path);
	(void)rmdir(dir);
	ok(rl_docxw_save(w, "/nonexistent/dir/x.docx", &e) == RL_EIO,
	    "docxw: unwritable path is RL_EIO");
	free(buf);
	rl_docxw_free(w);

	/* Bad text is cleaned, bad calls are sticky errors. */
	w = rl_docxw_new();
	(void)rl_docxw_para(w, "a\xff" "b\xc3(c\xed\xa0\x80" "d\x7f" "e");
	ok(rl_docxw_mem(w, &buf, &len, &e) == RL_OK &&
	    rl_docx_text_mem(buf, len, &text, &tlen, &e) == RL_OK &&
	    strcmp(text, "a\xef\xbf\xbd" "b\xef\xbf\xbd(c\xef\xbf\xbd\xef\xbf"
	    "\xbd\xef\xbf\xbd" "de\n") == 0,
	    "docxw: invalid UTF-8 becomes U+FFFD, DEL is dropped");
	free(text);
	free(buf);
	ok(rl_docxw_heading(w, 7, "x") == RL_EINVAL, "docxw: level 7 refused");
	ok(rl_docxw_para(w, "later") == RL_EINVAL &&
	    rl_docxw_list_item(w, 0, 0, "x") == RL_EINVAL,
	    "docxw: the error is sticky");
	ok(rl_docxw_mem(w, &buf, &len, &e) == RL_EINVAL && buf == NULL &&
	    strstr(e.msg, "heading level") != NULL,
	    "docxw: saving reports it (%s)", e.msg);
	rl_docxw_free(w);
	w = rl_docxw_new();
	ok(rl_docxw_list_item(w, 9, 0, "x") == RL_EINVAL, "docxw: list "
	    "level 9 refused");
	rl_docxw_free(w);
	w = rl_docxw_new();
	ok(rl_docxw_table(w, 1, 64, cells) == RL_EINVAL &&
	    rl_docxw_table(w, 0, 1, cells) == RL_EINVAL,
	    "docxw: 64 columns or no row refused");
	rl_docxw_free(w);
	w = rl_docxw_new();
	ok(rl_docxw_mem(w, &buf, &len, &e) == RL_OK &&
	    rl_docx_text_mem(buf, len, &text, &tlen, &e) == RL_OK &&
	    tlen == 0, "docxw: an empty document reads as empty text");
	free(text);
	free(buf);
	rl_docxw_free(w);
	rl_docxw_free(NULL);
}

int
main(void)
{

	test_zipio();
	test_paragraphs();
	test_lists();
	test_tables();
	test_inline();
	test_package();
	test_hostile();
	test_writer();
	return done();
}
