/*
 * docxw.c: the DOCX writer.  A document is built block by block into the
 * body of word/document.xml; rl_docxw_mem and rl_docxw_save wrap it with
 * the five other parts Word needs for styled output ([Content_Types].xml,
 * the two relationship parts, styles.xml, numbering.xml) and zip them
 * through zipio.
 *
 * Errors are sticky (libpq's PQExpBuffer): the first failure is kept,
 * later calls do nothing and return it, and saving reports it.  Callers
 * may check each call or only the save.
 *
 * The XML follows the rules Word is strict about (docx-and-pdf.md §4):
 * children of pPr/rPr/tblPr in schema order, xml:space="preserve" on every
 * w:t, tabs and line breaks as w:tab and w:br, characters XML 1.0 forbids
 * removed, invalid UTF-8 replaced by U+FFFD, every cell ending with a
 * paragraph, a paragraph between a final table and sectPr.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "relais.h"
#include "bounds.h"
#include "buf.h"
#include "docxw.h"
#include "zipio.h"

/* Word refuses tables wider than 63 columns. */
#define DOCXW_MAX_COLS		63

/* List levels Word knows (ilvl 0 to 8). */
#define DOCXW_LEVELS		9

/* Text width of a Letter page with 1-inch margins, in twips. */
#define DOCXW_TEXT_WIDTH	9360

/*
 * Room kept for the XML around the body, so that document.xml as a whole
 * stays readable by rl_docx_text (RL_ZIP_ENTRY_MAX per part).
 */
#define DOCXW_BODY_MAX		(RL_ZIP_ENTRY_MAX - 64 * 1024)

#define W_NS	"http://schemas.openxmlformats.org/wordprocessingml/2006/main"
#define XML_DECL \
	"<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"

enum last {
	LAST_NONE,
	LAST_PARA,	/* a heading or paragraph */
	LAST_BULLET,	/* an item of a bullet list */
	LAST_NUMBERED,	/* an item of a numbered list */
	LAST_TABLE
};

struct rl_docxw {
	struct rl_buf	 body;		/* inside w:body, DOCXW_BODY_MAX */
	enum rl_err	 rc;		/* sticky */
	char		 msg[RL_ERRMSG_MAX];
	enum last	 last;
	int		 nlists;	/* numbered lists started */
};

static const char content_types[] = XML_DECL
    "<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/"
    "content-types\">"
    "<Default Extension=\"rels\" ContentType=\"application/"
    "vnd.openxmlformats-package.relationships+xml\"/>"
    "<Default Extension=\"xml\" ContentType=\"application/xml\"/>"
    "<Override PartName=\"/word/document.xml\" ContentType=\"application/"
    "vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml\"/>"
    "<Override PartName=\"/word/styles.xml\" ContentType=\"application/"
    "vnd.openxmlformats-officedocument.wordprocessingml.styles+xml\"/>"
    "<Override PartName=\"/word/numbering.xml\" ContentType=\"application/"
    "vnd.openxmlformats-officedocument.wordprocessingml.numbering+xml\"/>"
    "</Types>";

static const char package_rels[] = XML_DECL
    "<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/"
    "relationships\">"
    "<Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/"
    "officeDocument/2006/relationships/officeDocument\" "
    "Target=\"word/document.xml\"/>"
    "</Relationships>";

static const char document_rels[] = XML_DECL
    "<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/"
    "relationships\">"
    "<Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/"
    "officeDocument/2006/relationships/styles\" Target=\"styles.xml\"/>"
    "<Relationship Id=\"rId2\" Type=\"http://schemas.openxmlformats.org/"
    "officeDocument/2006/relationships/numbering\" "
    "Target=\"numbering.xml\"/>"
    "</Relationships>";

/*
 * Heading styles keep Word's built-in lower-case names ("heading 1"):
 * readers, ours and pandoc's, find headings by that name.
 */
#define HEADING_STYLE(n, sz) \
    "<w:style w:type=\"paragraph\" w:styleId=\"Heading" #n "\">" \
    "<w:name w:val=\"heading " #n "\"/><w:basedOn w:val=\"Normal\"/>" \
    "<w:next w:val=\"Normal\"/><w:uiPriority w:val=\"9\"/><w:qFormat/>" \
    "<w:pPr><w:keepNext/><w:spacing w:before=\"240\" w:after=\"120\"/>" \
    "<w:outlineLvl w:val=\"" #n "\"/></w:pPr>" \
    "<w:rPr><w:b/><w:sz w:val=\"" #sz "\"/></w:rPr></w:style>"

#define BORDER(side) \
    "<w:" side " w:val=\"single\" w:sz=\"4\" w:space=\"0\" w:color=\"auto\"/>"

static const char styles[] = XML_DECL
    "<w:styles xmlns:w=\"" W_NS "\">"
    "<w:docDefaults><w:rPrDefault><w:rPr>"
    "<w:rFonts w:ascii=\"Calibri\" w:hAnsi=\"Calibri\" w:eastAsia=\"Calibri\""
    " w:cs=\"Calibri\"/><w:sz w:val=\"22\"/><w:szCs w:val=\"22\"/>"
    "<w:lang w:val=\"fr-CA\"/></w:rPr></w:rPrDefault>"
    "<w:pPrDefault><w:pPr><w:spacing w:after=\"160\" w:line=\"259\""
    " w:lineRule=\"auto\"/></w:pPr></w:pPrDefault></w:docDefaults>"
    "<w:style w:type=\"paragraph\" w:default=\"1\" w:styleId=\"Normal\">"
    "<w:name w:val=\"Normal\"/><w:qFormat/></w:style>"
    "<w:style w:type=\"paragraph\" w:styleId=\"Title\">"
    "<w:name w:val=\"Title\"/><w:basedOn w:val=\"Normal\"/>"
    "<w:next w:val=\"Normal\"/><w:uiPriority w:val=\"10\"/><w:qFormat/>"
    "<w:pPr><w:spacing w:after=\"240\"/></w:pPr>"
    "<w:rPr><w:sz w:val=\"52\"/></w:rPr></w:style>"
    HEADING_STYLE(1, 32) HEADING_STYLE(2, 28) HEADING_STYLE(3, 26)
    HEADING_STYLE(4, 24) HEADING_STYLE(5, 22) HEADING_STYLE(6, 22)
    "<w:style w:type=\"paragraph\" w:styleId=\"ListParagraph\">"
    "<w:name w:val=\"List Paragraph\"/><w:basedOn w:val=\"Normal\"/>"
    "<w:uiPriority w:val=\"34\"/><w:qFormat/>"
    "<w:pPr><w:ind w:left=\"720\"/><w:contextualSpacing/></w:pPr></w:style>"
    "<w:style w:type=\"table\" w:default=\"1\" w:styleId=\"TableNormal\">"
    "<w:name w:val=\"Normal Table\"/><w:uiPriority w:val=\"99\"/>"
    "<w:semiHidden/><w:unhideWhenUsed/><w:tblPr>"
    "<w:tblInd w:w=\"0\" w:type=\"dxa\"/><w:tblCellMar>"
    "<w:top w:w=\"0\" w:type=\"dxa\"/><w:left w:w=\"108\" w:type=\"dxa\"/>"
    "<w:bottom w:w=\"0\" w:type=\"dxa\"/>"
    "<w:right w:w=\"108\" w:type=\"dxa\"/>"
    "</w:tblCellMar></w:tblPr></w:style>"
    "<w:style w:type=\"table\" w:styleId=\"TableGrid\">"
    "<w:name w:val=\"Table Grid\"/><w:basedOn w:val=\"TableNormal\"/>"
    "<w:uiPriority w:val=\"39\"/>"
    "<w:pPr><w:spacing w:after=\"0\" w:line=\"240\" w:lineRule=\"auto\"/>"
    "</w:pPr><w:tblPr><w:tblBorders>"
    BORDER("top") BORDER("left") BORDER("bottom") BORDER("right")
    BORDER("insideH") BORDER("insideV")
    "</w:tblBorders></w:tblPr></w:style>"
    "</w:styles>";

static const char document_head[] = XML_DECL
    "<w:document xmlns:w=\"" W_NS "\" xmlns:r=\"http://schemas."
    "openxmlformats.org/officeDocument/2006/relationships\"><w:body>";

/* Letter, 1-inch margins: what Québec colleges print on. */
static const char document_tail[] =
    "<w:sectPr><w:pgSz w:w=\"12240\" w:h=\"15840\"/>"
    "<w:pgMar w:top=\"1440\" w:right=\"1440\" w:bottom=\"1440\""
    " w:left=\"1440\" w:header=\"720\" w:footer=\"720\" w:gutter=\"0\"/>"
    "</w:sectPr></w:body></w:document>";

static enum rl_err
setrc(struct rl_docxw *w, enum rl_err rc, const char *msg)
{

	if (w->rc == RL_OK) {
		w->rc = rc;
		(void)snprintf(w->msg, sizeof(w->msg), "docx writer: %s", msg);
	}
	return w->rc;
}

/* Body XML: bounded, so document.xml stays readable by rl_docx_text. */
static void
add(struct rl_docxw *w, const char *s, size_t n)
{

	if (w->rc != RL_OK)
		return;
	switch (rl_buf_add(&w->body, s, n)) {
	case RL_OK:
		break;
	case RL_ETOOBIG:
		(void)setrc(w, RL_ETOOBIG, "document over its size limit");
		break;
	default:
		(void)setrc(w, RL_ENOMEM, "out of memory");
		break;
	}
}

static void
adds(struct rl_docxw *w, const char *s)
{

	add(w, s, strlen(s));
}

/*
 * Length of the valid UTF-8 sequence at s (of n bytes), 0 when invalid:
 * overlong forms, surrogates and code points past U+10FFFF are invalid,
 * as are U+FFFE and U+FFFF, which XML 1.0 does not allow either.
 */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
	unsigned int	 cp;
	size_t		 len, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		cp = s[0] & 0x07;
	} else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) ||
	    cp == 0xfffe || cp == 0xffff)
		return 0;
	return len;
}

/*
 * One run holding text: w:t pieces, w:tab for tabs, w:br for line
 * breaks (LF, CR or CRLF); other control characters are dropped.
 */
static void
run(struct rl_docxw *w, const char *text, int bold)
{
	const unsigned char	*s = (const unsigned char *)text;
	size_t			 n, len;
	int			 open = 0;

	adds(w, bold ? "<w:r><w:rPr><w:b/></w:rPr>" : "<w:r>");
	n = strlen(text);
	while (n > 0) {
		if (*s == '\t' || *s == '\n' || *s == '\r') {
			if (open)
				adds(w, "</w:t>");
			open = 0;
			adds(w, *s == '\t' ? "<w:tab/>" : "<w:br/>");
			if (*s == '\r' && n > 1 && s[1] == '\n') {
				s++;
				n--;
			}
			s++;
			n--;
			continue;
		}
		if (*s < 0x20 || *s == 0x7f) {
			s++;
			n--;
			continue;
		}
		if (!open)
			adds(w, "<w:t xml:space=\"preserve\">");
		open = 1;
		if ((len = utf8_len(s, n)) == 0) {
			adds(w, "\xef\xbf\xbd");	/* U+FFFD */
			len = 1;
		} else if (*s == '&')
			adds(w, "&amp;");
		else if (*s == '<')
			adds(w, "&lt;");
		else if (*s == '>')
			adds(w, "&gt;");
		else
			add(w, (const char *)s, len);
		s += len;
		n -= len;
	}
	if (open)
		adds(w, "</w:t>");
	adds(w, "</w:r>");
}

static enum rl_err
para(struct rl_docxw *w, const char *style, int ilvl, int numid,
    const char *text, int bold)
{
	char	 num[128];

	adds(w, "<w:p>");
	if (style != NULL) {
		adds(w, "<w:pPr><w:pStyle w:val=\"");
		adds(w, style);
		adds(w, "\"/>");
		if (numid > 0) {
			(void)snprintf(num, sizeof(num), "<w:numPr>"
			    "<w:ilvl w:val=\"%d\"/><w:numId w:val=\"%d\"/>"
			    "</w:numPr>", ilvl, numid);
			adds(w, num);
		}
		adds(w, "</w:pPr>");
	}
	if (text[0] != '\0')
		run(w, text, bold);
	adds(w, "</w:p>");
	return w->rc;
}

/* A new document, or NULL when out of memory. */
struct rl_docxw *
rl_docxw_new(void)
{

	struct rl_docxw	*w;

	if ((w = calloc(1, sizeof(*w))) != NULL)
		rl_buf_init(&w->body, DOCXW_BODY_MAX);
	return w;
}

/*
 * A heading: level 1 to 6 (styles Heading1..Heading6, named "heading N"),
 * or 0 for the document title (style Title).
 */
enum rl_err
rl_docxw_heading(struct rl_docxw *w, int level, const char *text)
{
	char	 style[16];

	if (w->rc != RL_OK)
		return w->rc;
	if (text == NULL || level < 0 || level > 6)
		return setrc(w, RL_EINVAL, "heading level must be 0 to 6");
	if (level == 0)
		(void)snprintf(style, sizeof(style), "Title");
	else
		(void)snprintf(style, sizeof(style), "Heading%d", level);
	w->last = LAST_PARA;
	return para(w, style, 0, 0, text, 0);
}

/* A paragraph of body text; "\n" in it is a line break. */
enum rl_err
rl_docxw_para(struct rl_docxw *w, const char *text)
{

	if (w->rc != RL_OK)
		return w->rc;
	if (text == NULL)
		return setrc(w, RL_EINVAL, "paragraph text is NULL");
	w->last = LAST_PARA;
	return para(w, NULL, 0, 0, text, 0);
}

/*
 * A list item at level 0 to 8.  Bullet items share one list (numId 1).
 * Consecutive numbered items form one list; a numbered item after
 * anything else starts a new list numbered from 1 (a new w:num with
 * startOverride, as Word and pandoc do).
 */
enum rl_err
rl_docxw_list_item(struct rl_docxw *w, int level, int numbered,
    const char *text)
{
	int	 numid;

	if (w->rc != RL_OK)
		return w->rc;
	if (text == NULL || level < 0 || level >= DOCXW_LEVELS)
		return setrc(w, RL_EINVAL, "list level must be 0 to 8");
	if (!numbered) {
		numid = 1;
		w->last = LAST_BULLET;
	} else {
		if (w->last != LAST_NUMBERED) {
			if (w->nlists >= RL_DOCX_MAX_NUMS / 2)
				return setrc(w, RL_ETOOBIG,
				    "too many numbered lists");
			w->nlists++;
		}
		numid = 1 + w->nlists;
		w->last = LAST_NUMBERED;
	}
	return para(w, "ListParagraph", level, numid, text, 0);
}

/*
 * A table of rows x cols cells, row after row; a NULL cell is empty.  The
 * first row is the header: bold, repeated on each page.
 */
enum rl_err
rl_docxw_table(struct rl_docxw *w, size_t rows, size_t cols,
    const char *const *cells)
{
	char		 tmp[128];
	const char	*cell;
	size_t		 r, k, width;

	if (w->rc != RL_OK)
		return w->rc;
	if (rows == 0 || cols == 0 || cols > DOCXW_MAX_COLS || cells == NULL)
		return setrc(w, RL_EINVAL,
		    "a table needs 1 to 63 columns and a row");
	if (rows > DOCXW_BODY_MAX / cols)
		return setrc(w, RL_ETOOBIG, "table too large");
	width = DOCXW_TEXT_WIDTH / cols;
	adds(w, "<w:tbl><w:tblPr><w:tblStyle w:val=\"TableGrid\"/>"
	    "<w:tblW w:w=\"0\" w:type=\"auto\"/>"
	    "<w:tblLook w:val=\"04A0\" w:firstRow=\"1\" w:lastRow=\"0\""
	    " w:firstColumn=\"1\" w:lastColumn=\"0\" w:noHBand=\"0\""
	    " w:noVBand=\"1\"/></w:tblPr><w:tblGrid>");
	(void)snprintf(tmp, sizeof(tmp), "<w:gridCol w:w=\"%zu\"/>", width);
	for (k = 0; k < cols; k++)
		adds(w, tmp);
	adds(w, "</w:tblGrid>");
	for (r = 0; r < rows && w->rc == RL_OK; r++) {
		adds(w, r == 0 ? "<w:tr><w:trPr><w:tblHeader/></w:trPr>" :
		    "<w:tr>");
		for (k = 0; k < cols; k++) {
			(void)snprintf(tmp, sizeof(tmp), "<w:tc><w:tcPr>"
			    "<w:tcW w:w=\"%zu\" w:type=\"dxa\"/></w:tcPr>",
			    width);
			adds(w, tmp);
			cell = cells[r * cols + k];
			/* A cell must end with a paragraph, even empty. */
			(void)para(w, NULL, 0, 0, cell != NULL ? cell : "",
			    r == 0);
			adds(w, "</w:tc>");
		}
		adds(w, "</w:tr>");
	}
	adds(w, "</w:tbl>");
	w->last = LAST_TABLE;
	return w->rc;
}

/*
 * numbering.xml: abstractNum 0 for bullets (one glyph per level),
 * abstractNum 1 for numbers (1., a., i. by level); num 1 is the bullet
 * list and nums 2.. are the numbered lists, each restarting at 1.
 */
static void
numbering(struct rl_buf *b, int nlists)
{
	static const char *const bullets[] = { "\xe2\x80\xa2",
		"\xe2\x97\xa6", "\xe2\x96\xaa" };
	static const char *const fmts[] = { "decimal", "lowerLetter",
		"lowerRoman" };
	int	 a, k, i;

	(void)rl_buf_addstr(b, XML_DECL "<w:numbering xmlns:w=\"" W_NS "\">");
	for (a = 0; a < 2; a++) {
		(void)rl_buf_addf(b, "<w:abstractNum w:abstractNumId=\"%d\">"
		    "<w:multiLevelType w:val=\"hybridMultilevel\"/>", a);
		for (k = 0; k < DOCXW_LEVELS; k++) {
			(void)rl_buf_addf(b, "<w:lvl w:ilvl=\"%d\">"
			    "<w:start w:val=\"1\"/>", k);
			if (a == 0)
				(void)rl_buf_addf(b, "<w:numFmt "
				    "w:val=\"bullet\"/><w:lvlText "
				    "w:val=\"%s\"/>", bullets[k % 3]);
			else
				(void)rl_buf_addf(b, "<w:numFmt w:val=\"%s\"/>"
				    "<w:lvlText w:val=\"%%%d.\"/>", fmts[k % 3],
				    k + 1);
			(void)rl_buf_addf(b, "<w:lvlJc w:val=\"left\"/><w:pPr>"
			    "<w:ind w:left=\"%d\" w:hanging=\"360\"/></w:pPr>"
			    "</w:lvl>", 720 * (k + 1));
		}
		(void)rl_buf_addstr(b, "</w:abstractNum>");
	}
	(void)rl_buf_addstr(b, "<w:num w:numId=\"1\">"
	    "<w:abstractNumId w:val=\"0\"/></w:num>");
	for (i = 0; i < nlists; i++) {
		(void)rl_buf_addf(b, "<w:num w:numId=\"%d\">"
		    "<w:abstractNumId w:val=\"1\"/>", i + 2);
		for (k = 0; k < DOCXW_LEVELS; k++)
			(void)rl_buf_addf(b, "<w:lvlOverride w:ilvl=\"%d\">"
			    "<w:startOverride w:val=\"1\"/></w:lvlOverride>",
			    k);
		(void)rl_buf_addstr(b, "</w:num>");
	}
	(void)rl_buf_addstr(b, "</w:numbering>");
}

/*
 * The package: six parts, zipped.  *out is malloc'd; w is unchanged, so
 * a document can be saved twice or grown further.
 */
enum rl_err
rl_docxw_mem(struct rl_docxw *w, void **out, size_t *outlen,
    struct rl_error *e)
{
	struct rl_buf	 doc, num;
	struct rl_zipw	*z = NULL;
	enum rl_err	 rc;

	*out = NULL;
	*outlen = 0;
	/* A zip entry holds no more; the body leaves room for the rest. */
	rl_buf_init(&doc, RL_ZIP_ENTRY_MAX);
	rl_buf_init(&num, RL_ZIP_ENTRY_MAX);
	if (w->rc != RL_OK) {
		rc = rl_error_set(e, w->rc, "%s", w->msg);
		goto out;
	}
	(void)rl_buf_addstr(&doc, document_head);
	(void)rl_buf_add(&doc, rl_buf_str(&w->body), rl_buf_len(&w->body));
	/* Word wants a paragraph between a last table and sectPr. */
	if (w->last == LAST_TABLE)
		(void)rl_buf_addstr(&doc, "<w:p/>");
	(void)rl_buf_addstr(&doc, document_tail);
	numbering(&num, w->nlists);
	if (rl_buf_err(&doc) == RL_ETOOBIG || rl_buf_err(&num) == RL_ETOOBIG) {
		rc = rl_error_set(e, RL_ETOOBIG, "docx writer: document over "
		    "its size limit");
		goto out;
	}
	if (rl_buf_err(&doc) != RL_OK || rl_buf_err(&num) != RL_OK ||
	    (z = rl_zipw_new()) == NULL) {
		rc = rl_error_set(e, RL_ENOMEM, "docx writer: out of memory");
		goto out;
	}
	if ((rc = rl_zipw_add(z, "[Content_Types].xml", content_types,
	    sizeof(content_types) - 1, e)) != RL_OK ||
	    (rc = rl_zipw_add(z, "_rels/.rels", package_rels,
	    sizeof(package_rels) - 1, e)) != RL_OK ||
	    (rc = rl_zipw_add(z, "word/document.xml", rl_buf_str(&doc),
	    rl_buf_len(&doc), e)) != RL_OK ||
	    (rc = rl_zipw_add(z, "word/_rels/document.xml.rels",
	    document_rels, sizeof(document_rels) - 1, e)) != RL_OK ||
	    (rc = rl_zipw_add(z, "word/styles.xml", styles,
	    sizeof(styles) - 1, e)) != RL_OK ||
	    (rc = rl_zipw_add(z, "word/numbering.xml", rl_buf_str(&num),
	    rl_buf_len(&num), e)) != RL_OK)
		goto out;
	rc = rl_zipw_finish(z, out, outlen, e);
	z = NULL;
out:
	rl_zipw_free(z);
	rl_buf_free(&doc);
	rl_buf_free(&num);
	return rc;
}

/*
 * Writes the document to path: a temporary file beside it, synced, then
 * renamed over path, so path is either the old file or the whole new one.
 * The file is created with mode 0600 (course plans are not public).
 */
enum rl_err
rl_docxw_save(struct rl_docxw *w, const char *path, struct rl_error *e)
{
	char		 tmp[4096];
	void		*buf = NULL;
	size_t		 len, off = 0;
	ssize_t		 r;
	int		 fd = -1;
	enum rl_err	 rc;

	tmp[0] = '\0';
	if ((rc = rl_docxw_mem(w, &buf, &len, e)) != RL_OK)
		goto out;
	if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >=
	    (int)sizeof(tmp)) {
		tmp[0] = '\0';
		rc = rl_error_set(e, RL_EINVAL, "%s: path too long", path);
		goto out;
	}
	if ((fd = mkostemp(tmp, O_CLOEXEC)) == -1) {
		tmp[0] = '\0';
		rc = rl_error_set(e, RL_EIO, "%s: %s", path, strerror(errno));
		goto out;
	}
	while (off < len) {
		if ((r = write(fd, (char *)buf + off, len - off)) == -1) {
			if (errno == EINTR)
				continue;
			rc = rl_error_set(e, RL_EIO, "%s: %s", tmp,
			    strerror(errno));
			goto out;
		}
		off += (size_t)r;
	}
	if (fsync(fd) == -1 || close(fd) == -1) {
		fd = -1;
		rc = rl_error_set(e, RL_EIO, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) == -1) {
		rc = rl_error_set(e, RL_EIO, "%s: %s", path, strerror(errno));
		goto out;
	}
	tmp[0] = '\0';
	rc = RL_OK;
out:
	if (fd != -1)
		(void)close(fd);
	if (tmp[0] != '\0')
		(void)unlink(tmp);
	free(buf);
	return rc;
}

void
rl_docxw_free(struct rl_docxw *w)
{

	if (w == NULL)
		return;
	rl_buf_free(&w->body);
	free(w);
}
