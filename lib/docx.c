/*
 * docx.c: DOCX to Markdown-like text, the only file that includes
 * <expat.h>.  The archive comes through zipio (bounded inflation); each
 * XML part goes through one expat parser with a DOCTYPE handler that
 * refuses the part, so no entity is ever declared, let alone expanded or
 * fetched (OPC forbids DTDs anyway, ECMA-376 Part 2 §8.1.4).
 *
 * The mapping follows ../shared/docs/docx-and-pdf.md §2.3 and the text EDxo
 * builds from a course plan (_read_docx_text): blocks separated by a blank
 * line, "#" headings found by style name through basedOn, "- " and "1. "
 * list items through numbering.xml, tables between "TABLE n:" and
 * "ENDTABLE" as Markdown rows.  docs/internals/docx.md lists every rule.
 *
 * One streaming pass per part and a stack of frames: containers (the body,
 * a table cell, a text box, a note) collect finished blocks; a paragraph
 * collects its inline text and the blocks that follow it (text boxes and
 * notes anchored in it); a table collects cells.  Every byte of text is
 * charged to one budget, RL_DOCX_TEXT_MAX, so memory stays bounded
 * whatever the document does.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <expat.h>

#include "relais.h"
#include "bounds.h"
#include "buf.h"
#include "docx.h"
#include "zipio.h"

/*
 * Bytes of a namespace prefix we keep; a longer prefix is never bound
 * (its elements read as unknown, so they are transparent).
 */
#define PREFIX_MAX	32

/* Levels of a list definition (ilvl 0 to 8). */
#define NLVL		9

/* Bytes of a numbering pattern (lvlText) kept; Word's are a few. */
#define LVLTEXT_MAX	32

/* Bytes of a style id, style name or numbering link kept. */
#define NAME_MAX_DOCX	128

/* Longest part name we build from a relationship target. */
#define PART_MAX	512

/* Heading level we give the Title style. */
#define LEVEL_TITLE	1

/* Namespaces: transitional (ECMA-376) and strict (ISO 29500) URIs. */
#define OOXML		"http://schemas.openxmlformats.org/"
#define STRICT		"http://purl.oclc.org/ooxml/"
#define NS_W_TRANS	OOXML "wordprocessingml/2006/main"
#define NS_W_STRICT	STRICT "wordprocessingml/main"
#define NS_MC_URI	OOXML "markup-compatibility/2006"
#define NS_M_TRANS	OOXML "officeDocument/2006/math"
#define NS_M_STRICT	STRICT "officeDocument/math"
#define NS_XML_URI	"http://www.w3.org/XML/1998/namespace"
#define NS_WP_TRANS	OOXML "drawingml/2006/wordprocessingDrawing"
#define NS_WP_STRICT	STRICT "drawingml/wordprocessingDrawing"
#define REL_TRANS	OOXML "officeDocument/2006/relationships/"
#define REL_STRICT	STRICT "officeDocument/relationships/"

enum ns {
	NS_NONE,	/* no namespace (relationship attributes) */
	NS_W,		/* WordprocessingML, transitional or strict */
	NS_MC,		/* markup compatibility */
	NS_M,		/* Office math */
	NS_XML,		/* xml:space */
	NS_WP,		/* DrawingML placement (wp:docPr) */
	NS_OTHER
};

/* The WordprocessingML elements we act on; anything else is transparent. */
enum el {
	E_OTHER = 0,
	E_ABSTRACTNUM, E_ABSTRACTNUMID, E_BASEDON, E_BR, E_CR, E_CUSTOMXMLPR,
	E_DEL, E_DELINSTRTEXT, E_DELTEXT, E_ENDNOTE, E_ENDNOTEREFERENCE,
	E_FLDCHAR, E_FLDDATA, E_FOOTNOTE, E_FOOTNOTEREFERENCE, E_FRAMEPR,
	E_GRIDAFTER,
	E_GRIDBEFORE, E_GRIDSPAN, E_ILVL, E_INS, E_INSTRTEXT, E_LVL,
	E_LVLOVERRIDE, E_LVLTEXT, E_MOVEFROM, E_NAME, E_NOBREAKHYPHEN, E_NUM,
	E_NUMFMT, E_NUMID, E_NUMPR, E_NUMSTYLELINK, E_OUTLINELVL, E_P, E_PPR,
	E_PSTYLE, E_PTAB, E_R, E_RFONTS, E_RPR, E_SDTENDPR, E_SDTPR, E_SECTPR,
	E_SMARTTAGPR, E_SOFTHYPHEN, E_START, E_STARTOVERRIDE, E_STYLE,
	E_STYLELINK, E_SYM, E_T, E_TAB, E_TBL, E_TBLGRID, E_TBLPR, E_TC,
	E_TCPR, E_TR, E_TRPR, E_TXBXCONTENT, E_VMERGE, E_VANISH
};

/* Sorted by strcmp (upper case before lower case) for bsearch. */
static const struct elname {
	const char	*name;
	enum el		 el;
} elnames[] = {
	{ "abstractNum", E_ABSTRACTNUM },
	{ "abstractNumId", E_ABSTRACTNUMID },
	{ "basedOn", E_BASEDON },
	{ "br", E_BR },
	{ "cr", E_CR },
	{ "customXmlPr", E_CUSTOMXMLPR },
	{ "del", E_DEL },
	{ "delInstrText", E_DELINSTRTEXT },
	{ "delText", E_DELTEXT },
	{ "endnote", E_ENDNOTE },
	{ "endnoteReference", E_ENDNOTEREFERENCE },
	{ "fldChar", E_FLDCHAR },
	{ "fldData", E_FLDDATA },
	{ "footnote", E_FOOTNOTE },
	{ "footnoteReference", E_FOOTNOTEREFERENCE },
	{ "framePr", E_FRAMEPR },
	{ "gridAfter", E_GRIDAFTER },
	{ "gridBefore", E_GRIDBEFORE },
	{ "gridSpan", E_GRIDSPAN },
	{ "ilvl", E_ILVL },
	{ "ins", E_INS },
	{ "instrText", E_INSTRTEXT },
	{ "lvl", E_LVL },
	{ "lvlOverride", E_LVLOVERRIDE },
	{ "lvlText", E_LVLTEXT },
	{ "moveFrom", E_MOVEFROM },
	{ "name", E_NAME },
	{ "noBreakHyphen", E_NOBREAKHYPHEN },
	{ "num", E_NUM },
	{ "numFmt", E_NUMFMT },
	{ "numId", E_NUMID },
	{ "numPr", E_NUMPR },
	{ "numStyleLink", E_NUMSTYLELINK },
	{ "outlineLvl", E_OUTLINELVL },
	{ "p", E_P },
	{ "pPr", E_PPR },
	{ "pStyle", E_PSTYLE },
	{ "ptab", E_PTAB },
	{ "r", E_R },
	{ "rFonts", E_RFONTS },
	{ "rPr", E_RPR },
	{ "sdtEndPr", E_SDTENDPR },
	{ "sdtPr", E_SDTPR },
	{ "sectPr", E_SECTPR },
	{ "smartTagPr", E_SMARTTAGPR },
	{ "softHyphen", E_SOFTHYPHEN },
	{ "start", E_START },
	{ "startOverride", E_STARTOVERRIDE },
	{ "style", E_STYLE },
	{ "styleLink", E_STYLELINK },
	{ "sym", E_SYM },
	{ "t", E_T },
	{ "tab", E_TAB },
	{ "tbl", E_TBL },
	{ "tblGrid", E_TBLGRID },
	{ "tblPr", E_TBLPR },
	{ "tc", E_TC },
	{ "tcPr", E_TCPR },
	{ "tr", E_TR },
	{ "trPr", E_TRPR },
	{ "txbxContent", E_TXBXCONTENT },
	{ "vMerge", E_VMERGE },
	{ "vanish", E_VANISH },
};

/*
 * mc:Choice branches we take when their Requires prefixes are all among
 * these (Word's conventional prefixes for shapes, groups, canvases and
 * Word 2010 markup): their text sits in w:txbxContent or w:sdt, which we
 * read.  Anything else (math, ink) falls back to mc:Fallback.
 */
static const char *const mc_known[] = { "wps", "wpg", "wpc", "w14", "wp14" };

/*
 * The Symbol font's glyphs 0x20-0xFF as Unicode (Adobe's Symbol encoding,
 * as Tcl ships it), 0 where there is no character.  Word stores a symbol
 * inserted from that font as w:sym (or text in a run set in Symbol) with
 * the glyph's position, plain or in U+F020-U+F0FF: without this table an
 * "alpha" would come out as "a".
 */
static const unsigned short symbol_font[224] = {
	0x0020, 0x0021, 0x2200, 0x0023, 0x2203, 0x0025, 0x0026, 0x220d,
	0x0028, 0x0029, 0x2217, 0x002b, 0x002c, 0x2212, 0x002e, 0x002f,
	0x0030, 0x0031, 0x0032, 0x0033, 0x0034, 0x0035, 0x0036, 0x0037,
	0x0038, 0x0039, 0x003a, 0x003b, 0x003c, 0x003d, 0x003e, 0x003f,
	0x2245, 0x0391, 0x0392, 0x03a7, 0x0394, 0x0395, 0x03a6, 0x0393,
	0x0397, 0x0399, 0x03d1, 0x039a, 0x039b, 0x039c, 0x039d, 0x039f,
	0x03a0, 0x0398, 0x03a1, 0x03a3, 0x03a4, 0x03a5, 0x03c2, 0x03a9,
	0x039e, 0x03a8, 0x0396, 0x005b, 0x2234, 0x005d, 0x22a5, 0x005f,
	0x0000, 0x03b1, 0x03b2, 0x03c7, 0x03b4, 0x03b5, 0x03c6, 0x03b3,
	0x03b7, 0x03b9, 0x03d5, 0x03ba, 0x03bb, 0x03bc, 0x03bd, 0x03bf,
	0x03c0, 0x03b8, 0x03c1, 0x03c3, 0x03c4, 0x03c5, 0x03d6, 0x03c9,
	0x03be, 0x03c8, 0x03b6, 0x007b, 0x007c, 0x007d, 0x223c, 0x007f,
	0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000,
	0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000,
	0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000,
	0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000,
	0x0000, 0x03d2, 0x2032, 0x2264, 0x2044, 0x221e, 0x0192, 0x2663,
	0x2666, 0x2665, 0x2660, 0x2194, 0x2190, 0x2191, 0x2192, 0x2193,
	0x00b0, 0x00b1, 0x2033, 0x2265, 0x00d7, 0x221d, 0x2202, 0x2022,
	0x00f7, 0x2260, 0x2261, 0x2248, 0x2026, 0x0000, 0x0000, 0x21b5,
	0x2135, 0x2111, 0x211c, 0x2118, 0x2297, 0x2295, 0x2205, 0x2229,
	0x222a, 0x2283, 0x2287, 0x2284, 0x2282, 0x2286, 0x2208, 0x2209,
	0x2220, 0x2207, 0x00ae, 0x00a9, 0x2122, 0x220f, 0x221a, 0x22c5,
	0x00ac, 0x2227, 0x2228, 0x21d4, 0x21d0, 0x21d1, 0x21d2, 0x21d3,
	0x22c4, 0x2329, 0x0000, 0x0000, 0x0000, 0x2211, 0x0000, 0x0000,
	0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000,
	0x0000, 0x232a, 0x222b, 0x2320, 0x0000, 0x2321, 0x0000, 0x0000,
	0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000,
};

enum mode { M_RELS, M_STYLES, M_NUMBERING, M_NOTES, M_DOC };

/* Relationships we follow, from the package and from the main part. */
enum rel { REL_DOC, REL_STYLES, REL_NUMBERING, REL_FOOTNOTES, REL_ENDNOTES,
	REL__MAX };
static const char *const relnames[REL__MAX] = {
	"officeDocument", "styles", "numbering", "footnotes", "endnotes"
};

enum fmt { FMT_DECIMAL, FMT_DECIMAL_ZERO, FMT_LOWER_LETTER,
	FMT_UPPER_LETTER, FMT_LOWER_ROMAN, FMT_UPPER_ROMAN, FMT_BULLET,
	FMT_NONE };

/* One w:style of styles.xml. */
struct style {
	char	*id;
	char	*name;
	char	*based;		/* basedOn styleId */
	int	 outline;	/* pPr/outlineLvl, -1 when absent */
	int	 numid;		/* pPr/numPr/numId, -1 when absent */
	int	 ilvl;		/* pPr/numPr/ilvl, -1 when absent */
	int	 ispara;	/* w:type="paragraph" (the default) */
	int	 isdefault;	/* w:default="1" */
	int	 done;		/* the three below are resolved */
	int	 level;		/* heading level through basedOn, 0 if none */
	int	 rnumid;	/* numId through basedOn, -1 if none */
	int	 rilvl;		/* ilvl through basedOn, -1 if none */
};

/* One w:lvl: how an item of this level is labelled. */
struct lvl {
	int	 set;		/* defined here */
	int	 fmt;		/* enum fmt */
	int	 start;
	char	 text[LVLTEXT_MAX];	/* lvlText, "%1." */
};

/* One w:abstractNum, with the counters of the lists that share it. */
struct absnum {
	int		 id;
	char		*numstylelink;
	char		*stylelink;
	struct lvl	 lvl[NLVL];
	int		 cnt[NLVL];
	unsigned char	 started[NLVL];
};

/* One w:num: an abstractNum plus overrides. */
struct num {
	int		 id;
	int		 absid;
	int		 over[NLVL];	/* startOverride, -1 when absent */
	unsigned char	 applied[NLVL];	/* that override was used once */
	struct lvl	 lvl[NLVL];	/* lvlOverride/lvl */
	int		 resolved;
	struct absnum	*abs;
};

/* One footnote or endnote body, flattened to a line. */
struct note {
	int	 kind;		/* 0 footnote, 1 endnote */
	long	 id;
	char	*text;
	size_t	 len;
};

/* A table being read: cells row after row on one grid. */
struct table {
	struct rl_buf	*cell;
	size_t		 ncell;
	size_t		 capcell;
	size_t		*row;		/* index of each row's first cell */
	size_t		 nrow;
	size_t		 caprow;
	size_t		 col;		/* grid column in the current row */
	size_t		 after;		/* gridAfter of the current row */
	long		 vm[RL_DOCX_MAX_COLS];	/* cell holding the text a
						   vMerge continues */
};

enum fkind {
	F_ROOT,		/* container: the body, or a notes part */
	F_CELL,		/* container: w:tc */
	F_TXBX,		/* container: w:txbxContent */
	F_NOTE,		/* container: w:footnote, w:endnote */
	F_P,		/* w:p */
	F_TBL		/* w:tbl */
};

struct frame {
	enum fkind	 kind;
	int		 depth;		/* of the element that opened it */
	struct rl_buf	 out;		/* blocks, or a paragraph's text */
	struct rl_buf	 after;		/* F_P: blocks that follow it */
	struct rl_buf	 carry;		/* container: text of a paragraph
					   whose mark was deleted */
	int		 lastnum;	/* container: numId of the last
					   block, 0 unless a list item */
	int		 carrynosp;	/* container: carry joins with no
					   space */
	struct style	*style;		/* F_P: pStyle */
	int		 idlevel;	/* F_P: level of an unknown pStyle */
	int		 numid;		/* F_P: -1 unless given */
	int		 ilvl;		/* F_P: -1 unless given */
	int		 markdel;	/* F_P: mark deleted 1, drop cap 2 */
	int		 joinsp;	/* F_P: starts with carried text */
	int		 span;		/* F_CELL: gridSpan */
	int		 vmerge;	/* F_CELL: 0, 1 restart, 2 continue */
	struct table	*tbl;		/* F_TBL */
	int		 notekind;	/* F_NOTE */
	long		 noteid;	/* F_NOTE */
};

struct ctx {
	struct rl_error	*e;
	enum rl_err	 rc;
	XML_Parser	 xp;
	const char	*part;
	enum mode	 mode;
	int		 stopped;	/* no more events wanted */
	int		 truncated;	/* the text budget ran out */
	size_t		 left;		/* text budget */
	int		 depth;
	int		 skip;		/* depth of the element skipped */
	unsigned char	 ac[RL_DOCX_XML_DEPTH + 2]; /* mc:AlternateContent:
						      1 open, 2 branch taken */

	char		*rel[REL__MAX];

	struct style	*sty;
	size_t		 nsty;
	size_t		 capsty;
	struct style	*defsty;
	long		 cur;		/* style or numbering entry read */
	int		 curdepth;
	int		 inppr;		/* styles: depth of pPr, numPr */
	int		 innumpr;

	struct absnum	*abs;
	size_t		 nabs;
	size_t		 capabs;
	struct num	*num;
	size_t		 nnum;
	size_t		 capnum;
	int		 curisnum;
	struct lvl	*curlvl;
	int		 lvldepth;
	int		 ovilvl;
	int		 ovdepth;

	struct note	*note;
	size_t		 nnote;
	size_t		 capnote;
	int		 notes_sorted;
	int		 nnoteref;

	struct frame	*fr;
	int		 nfr;
	int		 props;		/* depth of pPr, rPr, trPr, tcPr */
	enum el		 propkind;
	int		 hidden;	/* in a w:vanish run */
	int		 symfont;	/* in a run set in the Symbol font */
	int		 intext;	/* depth of the w:t (or m:t) read */
	int		 preserve;	/* its xml:space="preserve" */
	struct rl_buf	 tb;		/* its text */
	unsigned char	 fld[RL_DOCX_FIELD_DEPTH]; /* 1 instruction, 0 result */
	int		 nfld;
	int		 fldhide;	/* fields still in their instruction */
	int		 ntables;

	/*
	 * Namespace declarations in scope.  expat runs without its
	 * namespace processing, which halves its time on OOXML (dozens of
	 * declarations, attributes on every element); prefixes are resolved
	 * here instead, with a one-entry cache since nearly every name is
	 * "w:".
	 */
	struct nsbind {
		char		 pfx[PREFIX_MAX];
		size_t		 len;		/* SIZE_MAX: too long */
		enum ns		 ns;
		int		 depth;
	}		*nsb;
	int		 nnsb;
	char		 cpfx[PREFIX_MAX];	/* the cache */
	size_t		 clen;
	enum ns		 cns;
	int		 cvalid;
};

static void	frame_pop(struct ctx *);

/*
 * Text buffers are lib/buf.c's.  What bounds them is the text budget:
 * every byte is charged (charge) before it is added, so no buffer gets
 * near RL_DOCX_TEXT_MAX plus the markup around the text; the maximum
 * only backs that up.
 */
#define TEXT_BUF_MAX	(2 * (size_t)RL_DOCX_TEXT_MAX)

static void
tbuf(struct rl_buf *b)
{

	rl_buf_init(b, TEXT_BUF_MAX);
}

/* Errors and the budget. */

static void
fail(struct ctx *c, enum rl_err code, const char *fmt, ...)
{
	char	 msg[RL_ERRMSG_MAX];
	va_list	 ap;

	if (c->rc == RL_OK) {
		va_start(ap, fmt);
		(void)vsnprintf(msg, sizeof(msg), fmt, ap);
		va_end(ap);
		(void)rl_error_set(c->e, code, "%s: %s", c->part, msg);
		rl_error_where(c->e, c->part);
		c->rc = code;
	}
	c->stopped = 1;
	if (c->xp != NULL)
		(void)XML_StopParser(c->xp, XML_FALSE);
}

static void
oom(struct ctx *c)
{

	fail(c, RL_ENOMEM, "out of memory");
}

/*
 * Every byte of text produced is charged here.  When the budget runs out
 * the parse stops and the blocks finished so far are the result, cut
 * with RL_DOCX_TRUNCATED: a long document still gives its first 2 MiB.
 */
static int
charge(struct ctx *c, size_t n)
{

	if (c->stopped)
		return -1;
	if (n <= c->left) {
		c->left -= n;
		return 0;
	}
	c->left = 0;
	c->truncated = 1;
	c->stopped = 1;
	if (c->xp != NULL)
		(void)XML_StopParser(c->xp, XML_FALSE);
	return -1;
}

/*
 * Appends text already charged (moved from another buffer).  A buffer
 * cannot pass its maximum while the budget holds (tbuf), so RL_ETOOBIG
 * here would be a charging bug, said as such rather than as memory.
 */
static int
putu(struct ctx *c, struct rl_buf *b, const char *s, size_t n)
{
	enum rl_err	 err;

	if ((err = rl_buf_add(b, s, n)) == RL_OK)
		return 0;
	if (err == RL_ETOOBIG)
		fail(c, err, "text past %zu bytes", (size_t)TEXT_BUF_MAX);
	else
		oom(c);
	return -1;
}

/* Appends new text: charged. */
static int
put(struct ctx *c, struct rl_buf *b, const char *s, size_t n)
{

	if (charge(c, n) == -1)
		return -1;
	return putu(c, b, s, n);
}

/* Names and attributes. */

static int
urieq(const char *s, size_t n, const char *uri)
{

	return strlen(uri) == n && memcmp(s, uri, n) == 0;
}

static enum ns
uri_ns(const char *uri)
{
	size_t	 n = strlen(uri);

	if (urieq(uri, n, NS_W_TRANS) || urieq(uri, n, NS_W_STRICT))
		return NS_W;
	if (urieq(uri, n, NS_MC_URI))
		return NS_MC;
	if (urieq(uri, n, NS_M_TRANS) || urieq(uri, n, NS_M_STRICT))
		return NS_M;
	if (urieq(uri, n, NS_XML_URI))
		return NS_XML;
	if (urieq(uri, n, NS_WP_TRANS) || urieq(uri, n, NS_WP_STRICT))
		return NS_WP;
	return n == 0 ? NS_NONE : NS_OTHER;
}

/* The namespace a prefix ("" for the default one) is bound to. */
static enum ns
prefix_ns(struct ctx *c, const char *p, size_t n)
{
	enum ns	 ns;
	int	 i;

	if (n == 3 && memcmp(p, "xml", 3) == 0)
		return NS_XML;
	if (c->cvalid && c->clen == n && memcmp(c->cpfx, p, n) == 0)
		return c->cns;
	ns = n == 0 ? NS_NONE : NS_OTHER;	/* undeclared */
	for (i = c->nnsb - 1; i >= 0; i--)
		if (c->nsb[i].len == n && memcmp(c->nsb[i].pfx, p, n) == 0) {
			ns = c->nsb[i].ns;
			break;
		}
	if (n < sizeof(c->cpfx)) {
		memcpy(c->cpfx, p, n);
		c->clen = n;
		c->cns = ns;
		c->cvalid = 1;
	}
	return ns;
}

/*
 * The namespace and local part of an element or attribute name.  An
 * unprefixed attribute is in no namespace; an unprefixed element is in
 * the default namespace.
 */
static enum ns
split(struct ctx *c, const char *name, int isattr, const char **local)
{
	const char	*colon;

	if ((colon = strchr(name, ':')) == NULL) {
		*local = name;
		return isattr ? NS_NONE : prefix_ns(c, "", 0);
	}
	*local = colon + 1;
	return prefix_ns(c, name, (size_t)(colon - name));
}

/* The xmlns and xmlns:p attributes of an element come into scope. */
static void
ns_declare(struct ctx *c, const char **a)
{
	struct nsbind	*b;
	const char	*p;
	size_t		 n;

	for (; a[0] != NULL; a += 2) {
		if (a[0][0] != 'x' || strncmp(a[0], "xmlns", 5) != 0 ||
		    (a[0][5] != '\0' && a[0][5] != ':'))
			continue;
		if (c->nnsb >= RL_DOCX_MAX_NSDECL) {
			fail(c, RL_ETOOBIG, "more than %d namespace "
			    "declarations in scope", RL_DOCX_MAX_NSDECL);
			return;
		}
		p = a[0][5] == ':' ? a[0] + 6 : "";
		n = strlen(p);
		b = &c->nsb[c->nnsb++];
		b->len = n < sizeof(b->pfx) ? n : SIZE_MAX;
		if (n < sizeof(b->pfx))
			memcpy(b->pfx, p, n);
		b->ns = uri_ns(a[1]);
		b->depth = c->depth;
		c->cvalid = 0;
	}
}

/* Declarations made by the element ending go out of scope. */
static void
ns_end(struct ctx *c)
{

	while (c->nnsb > 0 && c->nsb[c->nnsb - 1].depth >= c->depth) {
		c->nnsb--;
		c->cvalid = 0;
	}
}

static int
elcmp(const void *key, const void *ent)
{

	return strcmp(key, ((const struct elname *)ent)->name);
}

static enum el
element(const char *local)
{
	const struct elname	*n;

	n = bsearch(local, elnames, sizeof(elnames) / sizeof(elnames[0]),
	    sizeof(elnames[0]), elcmp);
	return n != NULL ? n->el : E_OTHER;
}

/* A WordprocessingML attribute (w:val), or an unqualified one. */
static const char *
attr(struct ctx *c, const char **a, const char *want)
{
	const char	*local;
	enum ns		 ns;

	for (; a[0] != NULL; a += 2) {
		ns = split(c, a[0], 1, &local);
		if ((ns == NS_W || ns == NS_NONE) && strcmp(local, want) == 0)
			return a[1];
	}
	return NULL;
}

static int
xml_preserve(struct ctx *c, const char **a)
{
	const char	*local;

	for (; a[0] != NULL; a += 2)
		if (split(c, a[0], 1, &local) == NS_XML &&
		    strcmp(local, "space") == 0)
			return strcmp(a[1], "preserve") == 0;
	return 0;
}

static long
tonum(const char *s, long lo, long hi, long dflt)
{
	char	*end;
	long	 v;

	if (s == NULL)
		return dflt;
	errno = 0;
	v = strtol(s, &end, 10);
	if (end == s || errno == ERANGE)
		return dflt;
	if (v < lo)
		return lo;
	if (v > hi)
		return hi;
	return v;
}

/* ST_OnOff: absent value means on. */
static int
onoff(const char *v)
{

	if (v == NULL)
		return 1;
	return !(strcmp(v, "0") == 0 || strcmp(v, "false") == 0 ||
	    strcmp(v, "off") == 0);
}

/* Length of s cut to at most max bytes on a UTF-8 boundary. */
static size_t
utf8_cut(const char *s, size_t len, size_t max)
{

	if (len <= max)
		return len;
	while (max > 0 && ((unsigned char)s[max] & 0xc0) == 0x80)
		max--;
	return max;
}

static char *
dupname(struct ctx *c, const char *s)
{
	char	*d;

	if (s == NULL)
		return NULL;
	if ((d = strndup(s, utf8_cut(s, strlen(s), NAME_MAX_DOCX))) == NULL)
		oom(c);
	return d;
}

static int
isws(char ch)
{

	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

static void
trim(const char **s, size_t *n)
{

	while (*n > 0 && isws(**s)) {
		(*s)++;
		(*n)--;
	}
	while (*n > 0 && isws((*s)[*n - 1]))
		(*n)--;
}

/* Grows an array of n elements of size sz to hold one more. */
static int
grow(void **arr, size_t *cap, size_t n, size_t sz)
{
	size_t	 ncap;
	void	*p;

	if (n < *cap)
		return 0;
	ncap = *cap > 0 ? *cap * 2 : 16;
	if ((p = reallocarray(*arr, ncap, sz)) == NULL)
		return -1;
	*arr = p;
	*cap = ncap;
	return 0;
}

/* Relationships (_rels/.rels, word/_rels/document.xml.rels). */

static void
rels_start(struct ctx *c, const char *local, const char **a)
{
	const char	*type, *target, *mode, *suffix;
	int		 i;

	if (strcmp(local, "Relationship") != 0)
		return;
	type = attr(c, a, "Type");
	target = attr(c, a, "Target");
	mode = attr(c, a, "TargetMode");
	if (type == NULL || target == NULL ||
	    (mode != NULL && strcmp(mode, "External") == 0))
		return;
	if (strncmp(type, REL_TRANS, strlen(REL_TRANS)) == 0)
		suffix = type + strlen(REL_TRANS);
	else if (strncmp(type, REL_STRICT, strlen(REL_STRICT)) == 0)
		suffix = type + strlen(REL_STRICT);
	else
		return;
	for (i = 0; i < REL__MAX; i++)
		if (strcmp(suffix, relnames[i]) == 0 && c->rel[i] == NULL) {
			if ((c->rel[i] = strdup(target)) == NULL)
				oom(c);
			return;
		}
}

static void
rels_clear(struct ctx *c)
{
	int	 i;

	for (i = 0; i < REL__MAX; i++) {
		free(c->rel[i]);
		c->rel[i] = NULL;
	}
}

/*
 * Resolves a relationship target against the directory of its source
 * part.  -1 when the result would leave the package ("..") or is too
 * long.
 */
static int
resolve(const char *dir, const char *target, char *out, size_t outsz)
{
	char		 tmp[PART_MAX];
	const char	*seg, *end;
	size_t		 len = 0, n;
	int		 r;

	if (target[0] == '/')
		r = snprintf(tmp, sizeof(tmp), "%s", target + 1);
	else if (dir[0] == '\0')
		r = snprintf(tmp, sizeof(tmp), "%s", target);
	else
		r = snprintf(tmp, sizeof(tmp), "%s/%s", dir, target);
	if (r < 0 || (size_t)r >= sizeof(tmp))
		return -1;
	out[0] = '\0';
	for (seg = tmp; *seg != '\0'; seg = *end != '\0' ? end + 1 : end) {
		if ((end = strchr(seg, '/')) == NULL)
			end = seg + strlen(seg);
		n = (size_t)(end - seg);
		if (n == 0 || (n == 1 && seg[0] == '.'))
			continue;
		if (n == 2 && seg[0] == '.' && seg[1] == '.') {
			if (len == 0)
				return -1;
			while (len > 0 && out[len - 1] != '/')
				len--;
			if (len > 0)
				len--;
			out[len] = '\0';
			continue;
		}
		if (len + (len > 0) + n + 1 > outsz)
			return -1;
		if (len > 0)
			out[len++] = '/';
		memcpy(out + len, seg, n);
		len += n;
		out[len] = '\0';
	}
	return len > 0 ? 0 : -1;
}

/* styles.xml */

static int
stycmp(const void *a, const void *b)
{
	const struct style	*x = a, *y = b;

	return strcmp(x->id != NULL ? x->id : "", y->id != NULL ? y->id : "");
}

static struct style *
style_find(struct ctx *c, const char *id)
{
	struct style	 key;

	if (id == NULL || c->nsty == 0)
		return NULL;
	memset(&key, 0, sizeof(key));
	key.id = (char *)(uintptr_t)id;
	return bsearch(&key, c->sty, c->nsty, sizeof(*c->sty), stycmp);
}

static void
styles_start(struct ctx *c, const char *local, const char **a)
{
	struct style	*s;
	const char	*type;
	int		 d;

	if (c->cur < 0) {
		if (strcmp(local, "style") != 0)
			return;
		if (c->nsty >= RL_DOCX_MAX_STYLES) {
			fail(c, RL_ETOOBIG, "more than %d styles",
			    RL_DOCX_MAX_STYLES);
			return;
		}
		if (grow((void **)&c->sty, &c->capsty, c->nsty,
		    sizeof(*c->sty)) == -1) {
			oom(c);
			return;
		}
		s = &c->sty[c->nsty++];
		memset(s, 0, sizeof(*s));
		s->outline = s->numid = s->ilvl = -1;
		type = attr(c, a, "type");
		s->ispara = type == NULL || strcmp(type, "paragraph") == 0;
		s->isdefault = attr(c, a, "default") != NULL &&
		    onoff(attr(c, a, "default"));
		s->id = dupname(c, attr(c, a, "styleId"));
		c->cur = (long)c->nsty - 1;
		c->curdepth = c->depth;
		c->inppr = c->innumpr = 0;
		return;
	}
	s = &c->sty[c->cur];
	d = c->depth - c->curdepth;
	if (d == 1 && strcmp(local, "name") == 0 && s->name == NULL)
		s->name = dupname(c, attr(c, a, "val"));
	else if (d == 1 && strcmp(local, "basedOn") == 0 && s->based == NULL)
		s->based = dupname(c, attr(c, a, "val"));
	else if (d == 1 && strcmp(local, "pPr") == 0)
		c->inppr = c->depth;
	else if (c->inppr && d == 2 && strcmp(local, "outlineLvl") == 0)
		s->outline = (int)tonum(attr(c, a, "val"), 0, 9, -1);
	else if (c->inppr && d == 2 && strcmp(local, "numPr") == 0)
		c->innumpr = c->depth;
	else if (c->innumpr && d == 3 && strcmp(local, "numId") == 0)
		s->numid = (int)tonum(attr(c, a, "val"), 0, INT_MAX, -1);
	else if (c->innumpr && d == 3 && strcmp(local, "ilvl") == 0)
		s->ilvl = (int)tonum(attr(c, a, "val"), 0, NLVL - 1, 0);
}

static void
styles_end(struct ctx *c)
{

	if (c->cur < 0)
		return;
	if (c->depth == c->curdepth)
		c->cur = -1;
	else if (c->depth == c->inppr)
		c->inppr = 0;
	else if (c->depth == c->innumpr)
		c->innumpr = 0;
}

static void
styles_done(struct ctx *c)
{
	size_t	 i;

	if (c->nsty > 0)
		qsort(c->sty, c->nsty, sizeof(*c->sty), stycmp);
	for (i = 0; i < c->nsty; i++)
		if (c->sty[i].ispara && c->sty[i].isdefault) {
			c->defsty = &c->sty[i];
			break;
		}
}

/*
 * Level a built-in style id gives (Heading1-Heading9, Title), 0 if none:
 * used when styles.xml does not name the style.
 */
static int
id_level(const char *id)
{

	if (id == NULL)
		return 0;
	if (strncmp(id, "Heading", 7) == 0 && id[7] >= '1' && id[7] <= '9' &&
	    id[8] == '\0')
		return id[7] - '0';
	if (strcmp(id, "Title") == 0)
		return LEVEL_TITLE;
	return 0;
}

/*
 * Heading level one style gives by itself, 0 when none.  Title counts
 * only as the paragraph's own style: Subtitle, Author and Date are based
 * on Title in pandoc's and Word's templates and are not headings.
 */
static int
style_level(const struct style *s, int own)
{
	const char	*n;
	int		 lv;

	if ((n = s->name) != NULL) {
		if (strncasecmp(n, "heading ", 8) == 0 &&
		    n[8] >= '1' && n[8] <= '9' && n[9] == '\0')
			return n[8] - '0';
		if (own && strcasecmp(n, "title") == 0)
			return LEVEL_TITLE;
	}
	if ((lv = id_level(s->id)) > 0 && (own || lv != LEVEL_TITLE ||
	    strcmp(s->id, "Title") != 0))
		return lv;
	if (s->outline >= 0 && s->outline <= 8)
		return s->outline + 1;
	return 0;
}

/*
 * Heading level and list membership through the basedOn chain: the first
 * style of the chain that says wins.  The chain is cut after
 * RL_DOCX_STYLE_CHAIN hops, which also ends a cycle.
 */
static void
style_resolve(struct ctx *c, struct style *s)
{
	struct style	*t;
	int		 hops, level = 0, numid = -1, ilvl = -1;

	if (s->done)
		return;
	for (t = s, hops = 0; t != NULL && hops < RL_DOCX_STYLE_CHAIN;
	    hops++) {
		if (level == 0)
			level = style_level(t, hops == 0);
		if (numid < 0 && t->numid >= 0)
			numid = t->numid;
		if (ilvl < 0 && t->ilvl >= 0)
			ilvl = t->ilvl;
		if (t->based == NULL)
			break;
		t = style_find(c, t->based);
	}
	s->level = level;
	s->rnumid = numid;
	s->rilvl = ilvl;
	s->done = 1;
}

/* numbering.xml */

static int
fmt_of(const char *v)
{
	static const struct {
		const char	*name;
		int		 fmt;
	} fmts[] = {
		{ "bullet", FMT_BULLET },
		{ "decimal", FMT_DECIMAL },
		{ "decimalZero", FMT_DECIMAL_ZERO },
		{ "lowerLetter", FMT_LOWER_LETTER },
		{ "upperLetter", FMT_UPPER_LETTER },
		{ "lowerRoman", FMT_LOWER_ROMAN },
		{ "upperRoman", FMT_UPPER_ROMAN },
		{ "none", FMT_NONE },
	};
	size_t	 i;

	if (v != NULL)
		for (i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++)
			if (strcmp(v, fmts[i].name) == 0)
				return fmts[i].fmt;
	/* ordinal, cardinalText, chineseCounting...: numbers will do. */
	return FMT_DECIMAL;
}

static void
lvl_open(struct ctx *c, struct lvl *l)
{

	memset(l, 0, sizeof(*l));
	l->set = 1;
	l->fmt = FMT_DECIMAL;
	l->start = 1;
	c->curlvl = l;
	c->lvldepth = c->depth;
}

static void
lvl_child(struct ctx *c, enum el el, const char **a)
{
	const char	*v = attr(c, a, "val");
	size_t		 n;

	switch (el) {
	case E_START:
		c->curlvl->start = (int)tonum(v, 0, 1000000, 1);
		break;
	case E_NUMFMT:
		c->curlvl->fmt = fmt_of(v);
		break;
	case E_LVLTEXT:
		if (v == NULL)
			break;
		n = utf8_cut(v, strlen(v), sizeof(c->curlvl->text) - 1);
		memcpy(c->curlvl->text, v, n);
		c->curlvl->text[n] = '\0';
		break;
	default:
		break;
	}
}

static void
numbering_start(struct ctx *c, enum el el, const char **a)
{
	struct absnum	*an;
	struct num	*nm;
	long		 ilvl;
	int		 d, i;

	if (c->cur < 0) {
		if (el != E_ABSTRACTNUM && el != E_NUM)
			return;
		if (c->nabs + c->nnum >= RL_DOCX_MAX_NUMS) {
			fail(c, RL_ETOOBIG, "more than %d list definitions",
			    RL_DOCX_MAX_NUMS);
			return;
		}
		if (el == E_ABSTRACTNUM) {
			if (grow((void **)&c->abs, &c->capabs, c->nabs,
			    sizeof(*c->abs)) == -1) {
				oom(c);
				return;
			}
			an = &c->abs[c->nabs++];
			memset(an, 0, sizeof(*an));
			an->id = (int)tonum(attr(c, a, "abstractNumId"),
			    INT_MIN, INT_MAX, -1);
			c->cur = (long)c->nabs - 1;
			c->curisnum = 0;
		} else {
			if (grow((void **)&c->num, &c->capnum, c->nnum,
			    sizeof(*c->num)) == -1) {
				oom(c);
				return;
			}
			nm = &c->num[c->nnum++];
			memset(nm, 0, sizeof(*nm));
			nm->id = (int)tonum(attr(c, a, "numId"), INT_MIN,
			    INT_MAX, -1);
			nm->absid = -1;
			for (i = 0; i < NLVL; i++)
				nm->over[i] = -1;
			c->cur = (long)c->nnum - 1;
			c->curisnum = 1;
		}
		c->curdepth = c->depth;
		c->curlvl = NULL;
		c->ovilvl = -1;
		return;
	}
	d = c->depth - c->curdepth;
	if (c->curlvl != NULL && c->depth == c->lvldepth + 1) {
		lvl_child(c, el, a);
		return;
	}
	if (!c->curisnum) {
		an = &c->abs[c->cur];
		if (d != 1)
			return;
		if (el == E_NUMSTYLELINK && an->numstylelink == NULL)
			an->numstylelink = dupname(c, attr(c, a, "val"));
		else if (el == E_STYLELINK && an->stylelink == NULL)
			an->stylelink = dupname(c, attr(c, a, "val"));
		else if (el == E_LVL) {
			ilvl = tonum(attr(c, a, "ilvl"), -1, NLVL, -1);
			if (ilvl >= 0 && ilvl < NLVL)
				lvl_open(c, &an->lvl[ilvl]);
		}
		return;
	}
	nm = &c->num[c->cur];
	if (d == 1 && el == E_ABSTRACTNUMID)
		nm->absid = (int)tonum(attr(c, a, "val"), INT_MIN, INT_MAX, -1);
	else if (d == 1 && el == E_LVLOVERRIDE) {
		ilvl = tonum(attr(c, a, "ilvl"), -1, NLVL, -1);
		c->ovilvl = ilvl >= 0 && ilvl < NLVL ? (int)ilvl : -1;
		c->ovdepth = c->depth;
	} else if (d == 2 && c->ovilvl >= 0 && el == E_STARTOVERRIDE)
		nm->over[c->ovilvl] = (int)tonum(attr(c, a, "val"), 0, 1000000,
		    1);
	else if (d == 2 && c->ovilvl >= 0 && el == E_LVL)
		lvl_open(c, &nm->lvl[c->ovilvl]);
}

static void
numbering_end(struct ctx *c)
{

	if (c->cur < 0)
		return;
	if (c->depth == c->curdepth) {
		c->cur = -1;
		c->curlvl = NULL;
		c->ovilvl = -1;
	} else if (c->curlvl != NULL && c->depth == c->lvldepth)
		c->curlvl = NULL;
	else if (c->ovilvl >= 0 && c->depth == c->ovdepth)
		c->ovilvl = -1;
}

static int
abscmp(const void *a, const void *b)
{
	const struct absnum	*x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

static int
numcmp(const void *a, const void *b)
{
	const struct num	*x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

static void
numbering_done(struct ctx *c)
{

	if (c->nabs > 0)
		qsort(c->abs, c->nabs, sizeof(*c->abs), abscmp);
	if (c->nnum > 0)
		qsort(c->num, c->nnum, sizeof(*c->num), numcmp);
}

static struct absnum *
abs_find(struct ctx *c, int id)
{
	struct absnum	 key;

	if (c->nabs == 0)
		return NULL;
	key.id = id;
	return bsearch(&key, c->abs, c->nabs, sizeof(*c->abs), abscmp);
}

static struct num *
num_find(struct ctx *c, int id)
{
	struct num	 key;

	if (c->nnum == 0)
		return NULL;
	key.id = id;
	return bsearch(&key, c->num, c->nnum, sizeof(*c->num), numcmp);
}

/*
 * The abstractNum a num counts in.  An abstractNum that only says
 * numStyleLink="X" takes its levels from the list the numbering style X
 * points to (style X, its numId, that num's abstractNum).
 */
static struct absnum *
num_abs(struct ctx *c, struct num *n)
{
	struct absnum	*a;
	struct style	*s;
	struct num	*n2;
	int		 hops;

	if (n->resolved)
		return n->abs;
	n->resolved = 1;
	a = abs_find(c, n->absid);
	for (hops = 0; a != NULL && a->numstylelink != NULL && hops < 4;
	    hops++) {
		if ((s = style_find(c, a->numstylelink)) == NULL ||
		    s->numid <= 0 || (n2 = num_find(c, s->numid)) == NULL ||
		    n2 == n)
			break;
		a = abs_find(c, n2->absid);
	}
	n->abs = a;
	return a;
}

static const struct lvl *
lvl_of(const struct num *n, const struct absnum *a, int ilvl)
{
	static const struct lvl	 dflt = { 1, FMT_DECIMAL, 1, "" };

	if (n->lvl[ilvl].set)
		return &n->lvl[ilvl];
	if (a != NULL && a->lvl[ilvl].set)
		return &a->lvl[ilvl];
	return &dflt;
}

static void
fmt_number(char *out, size_t sz, int fmt, int v)
{
	static const char *const rm[] = { "m", "cm", "d", "cd", "c", "xc",
		"l", "xl", "x", "ix", "v", "iv", "i" };
	static const int	 rv[] = { 1000, 900, 500, 400, 100, 90, 50,
		40, 10, 9, 5, 4, 1 };
	size_t			 len = 0, i, k, reps;
	char			 ch;

	out[0] = '\0';
	switch (fmt) {
	case FMT_LOWER_LETTER:
	case FMT_UPPER_LETTER:
		/* Word's a..z, aa..zz, aaa...; numbers past that. */
		if (v < 1 || v > 26 * 8)
			break;
		ch = (char)((fmt == FMT_LOWER_LETTER ? 'a' : 'A') +
		    (v - 1) % 26);
		reps = (size_t)(v - 1) / 26 + 1;
		for (k = 0; k < reps && len + 1 < sz; k++)
			out[len++] = ch;
		out[len] = '\0';
		return;
	case FMT_LOWER_ROMAN:
	case FMT_UPPER_ROMAN:
		if (v < 1 || v > 3999)
			break;
		for (i = 0; i < sizeof(rv) / sizeof(rv[0]); i++)
			while (v >= rv[i]) {
				for (k = 0; rm[i][k] != '\0' && len + 1 < sz;
				    k++)
					out[len++] = fmt == FMT_LOWER_ROMAN ?
					    rm[i][k] : (char)(rm[i][k] - 32);
				v -= rv[i];
			}
		out[len] = '\0';
		return;
	case FMT_DECIMAL_ZERO:
		(void)snprintf(out, sz, "%02d", v);
		return;
	default:
		break;
	}
	(void)snprintf(out, sz, "%d", v);
}

/*
 * Counts one item of list n at level ilvl and writes its label: "-" for
 * bullets, otherwise the lvlText pattern with each %k replaced by the
 * counter of level k-1 ("%1." gives "3.", "%1.%2" gives "2.1").  Counters
 * live in the abstractNum, so nums that share one continue each other
 * unless a startOverride restarts them the first time they are used.
 */
static void
list_label(struct ctx *c, struct num *n, int ilvl, char *out, size_t sz)
{
	struct absnum		*a;
	const struct lvl	*l, *lk;
	const char		*p;
	char			 nb[32];
	size_t			 len = 0, k;
	int			 lv, cnt;

	out[0] = '\0';
	a = num_abs(c, n);
	l = lvl_of(n, a, ilvl);
	if (a != NULL) {
		if (n->over[ilvl] >= 0 && !n->applied[ilvl]) {
			n->applied[ilvl] = 1;
			a->cnt[ilvl] = n->over[ilvl] - 1;
			a->started[ilvl] = 1;
		} else if (!a->started[ilvl]) {
			a->cnt[ilvl] = l->start - 1;
			a->started[ilvl] = 1;
		}
		if (a->cnt[ilvl] < INT_MAX)
			a->cnt[ilvl]++;
		for (lv = ilvl + 1; lv < NLVL; lv++)
			a->started[lv] = 0;
	}
	if (l->fmt == FMT_BULLET || a == NULL) {
		(void)snprintf(out, sz, "-");
		return;
	}
	p = l->text[0] != '\0' || l->fmt == FMT_NONE ? l->text : NULL;
	if (p == NULL) {
		(void)snprintf(nb, sizeof(nb), "%%%d.", ilvl + 1);
		p = nb;
	}
	for (; *p != '\0' && len + 1 < sz; p++) {
		if (p[0] != '%' || p[1] < '1' || p[1] > '9') {
			out[len++] = *p;
			continue;
		}
		lv = p[1] - '1';
		p++;
		lk = lvl_of(n, a, lv);
		cnt = a->started[lv] || lv == ilvl ? a->cnt[lv] : lk->start;
		fmt_number(nb, sizeof(nb), lk->fmt == FMT_BULLET ||
		    lk->fmt == FMT_NONE ? FMT_DECIMAL : lk->fmt, cnt);
		for (k = 0; nb[k] != '\0' && len + 1 < sz; k++)
			out[len++] = nb[k];
	}
	out[len] = '\0';
	if (len == 0)
		(void)snprintf(out, sz, "-");
}

/* Notes (footnotes.xml, endnotes.xml). */

static int
notecmp(const void *a, const void *b)
{
	const struct note	*x = a, *y = b;

	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

static const struct note *
note_find(struct ctx *c, int kind, long id)
{
	struct note	 key;

	if (c->nnote == 0)
		return NULL;
	if (!c->notes_sorted) {
		qsort(c->note, c->nnote, sizeof(*c->note), notecmp);
		c->notes_sorted = 1;
	}
	key.kind = kind;
	key.id = id;
	return bsearch(&key, c->note, c->nnote, sizeof(*c->note), notecmp);
}

/* Frames. */

static struct frame *
frame_push(struct ctx *c, enum fkind kind)
{
	struct frame	*f;

	if (c->nfr >= RL_DOCX_XML_DEPTH + 1) {
		fail(c, RL_ETOOBIG, "structure nested too deep");
		return NULL;
	}
	f = &c->fr[c->nfr++];
	memset(f, 0, sizeof(*f));
	tbuf(&f->out);
	tbuf(&f->after);
	tbuf(&f->carry);
	f->kind = kind;
	f->depth = c->depth;
	f->numid = f->ilvl = -1;
	f->span = 1;
	return f;
}

static struct frame *
top(struct ctx *c)
{

	return c->nfr > 0 ? &c->fr[c->nfr - 1] : NULL;
}

/* The nearest container at or below index i. */
static struct frame *
container(struct ctx *c, int i)
{

	for (; i >= 0; i--)
		if (c->fr[i].kind != F_P && c->fr[i].kind != F_TBL)
			return &c->fr[i];
	return NULL;
}

static void
table_free(struct table *t)
{
	size_t	 i;

	if (t == NULL)
		return;
	for (i = 0; i < t->ncell; i++)
		rl_buf_free(&t->cell[i]);
	free(t->cell);
	free(t->row);
	free(t);
}

static void
frame_pop(struct ctx *c)
{
	struct frame	*f;

	if (c->nfr == 0)
		return;
	f = &c->fr[--c->nfr];
	rl_buf_free(&f->out);
	rl_buf_free(&f->after);
	rl_buf_free(&f->carry);
	table_free(f->tbl);
	f->tbl = NULL;
}

/*
 * Adds a finished block to a container: a blank line before it, or a
 * single newline between items of one list, which makes a tight Markdown
 * list.  numid is the block's list (0 for a block that is not a list
 * item); an item follows the previous one tightly when both are in the
 * same list or when it is nested (ilvl > 0): Word often gives sublists a
 * numId of their own.
 */
static void
block_add_list(struct ctx *c, struct frame *to, const char *s, size_t n,
    int numid, int ilvl)
{
	int	 tight;

	if (n == 0 || to == NULL)
		return;
	tight = numid > 0 && to->lastnum > 0 &&
	    (to->lastnum == numid || ilvl > 0);
	if (to->out.len > 0 && put(c, &to->out, "\n\n", tight ? 1 : 2) == -1)
		return;
	if (putu(c, &to->out, s, n) == -1)
		return;
	to->lastnum = numid;
}

/* A block that is not a list item. */
static void
block_add(struct ctx *c, struct frame *to, const char *s, size_t n)
{

	block_add_list(c, to, s, n, 0, 0);
}

/* A paragraph whose mark was deleted carried over, as a plain block. */
static void
carry_flush(struct ctx *c, struct frame *f)
{

	if (f->carry.len > 0)
		block_add(c, f, f->carry.s, f->carry.len);
	rl_buf_free(&f->carry);
}

/* Text into the paragraph being read (already charged). */
static void
emit(struct ctx *c, const char *s, size_t n)
{
	struct frame	*p;

	if (n == 0 || c->hidden || c->fldhide > 0)
		return;
	if ((p = top(c)) == NULL || p->kind != F_P)
		return;
	/* Merged paragraphs keep a space between them, as pandoc does. */
	if (p->joinsp) {
		p->joinsp = 0;
		if (p->out.len > 0 && !isws(p->out.s[p->out.len - 1]) &&
		    !isws(s[0]) && put(c, &p->out, " ", 1) == -1)
			return;
	}
	(void)putu(c, &p->out, s, n);
}

/* New text (a tab, a break, a symbol): charged, then emitted. */
static void
emit_new(struct ctx *c, const char *s, size_t n)
{

	if (c->hidden || c->fldhide > 0)
		return;
	if (charge(c, n) == 0)
		emit(c, s, n);
}

static void
after_add(struct ctx *c, struct frame *p, const char *s, size_t n)
{

	if (n == 0)
		return;
	if (p->after.len > 0 && put(c, &p->after, "\n\n", 2) == -1)
		return;
	(void)putu(c, &p->after, s, n);
}

static void
p_start(struct ctx *c)
{
	struct frame	*cont, *p;

	cont = container(c, c->nfr - 1);
	if ((p = frame_push(c, F_P)) == NULL)
		return;
	if (cont != NULL && cont->carry.len > 0) {
		p->out = cont->carry;
		tbuf(&cont->carry);
		p->joinsp = !cont->carrynosp;
	}
	if (cont != NULL)
		cont->carrynosp = 0;
}

/*
 * Renders a finished paragraph: "#" heading, indented list item or plain
 * text, then the text boxes and notes anchored in it.
 */
static void
p_end(struct ctx *c)
{
	struct frame	*p = top(c), *cont;
	struct style	*st;
	struct num	*nm = NULL;
	struct rl_buf	 line;
	const char	*s;
	char		 label[128];
	size_t		 n, i, before;
	int		 level = 0, numid, ilvl, islist = 0, k;

	tbuf(&line);
	cont = container(c, c->nfr - 2);
	s = rl_buf_str(&p->out);
	n = p->out.len;
	trim(&s, &n);
	if (p->markdel && cont != NULL) {
		/*
		 * Its text joins the next paragraph of the container: a
		 * deleted paragraph mark merges two paragraphs, a drop cap
		 * is the first letter of the next one.
		 */
		if (cont->carry.len > 0 && n > 0 && !cont->carrynosp)
			(void)put(c, &cont->carry, " ", 1);
		(void)putu(c, &cont->carry, s, n);
		cont->carrynosp = p->markdel == 2;
		block_add(c, cont, p->after.s, p->after.len);
		frame_pop(c);
		return;
	}
	st = p->style != NULL ? p->style : c->defsty;
	if (st != NULL)
		style_resolve(c, st);
	numid = p->numid >= 0 ? p->numid : st != NULL ? st->rnumid : -1;
	ilvl = p->ilvl >= 0 ? p->ilvl : st != NULL && st->rilvl >= 0 ?
	    st->rilvl : 0;
	level = p->style != NULL || p->idlevel == 0 ?
	    (st != NULL ? st->level : 0) : p->idlevel;
	label[0] = '\0';
	if (numid > 0 && (nm = num_find(c, numid)) != NULL) {
		list_label(c, nm, ilvl, label, sizeof(label));
		islist = level == 0;
	}
	if (n > 0) {
		before = n;
		if (level > 0) {
			for (k = 0; k < level && k < 6; k++)
				(void)putu(c, &line, "#", 1);
			(void)putu(c, &line, " ", 1);
			if (nm != NULL && strcmp(label, "-") != 0) {
				(void)putu(c, &line, label, strlen(label));
				(void)putu(c, &line, " ", 1);
			}
			for (i = 0; i < n; i++)
				(void)putu(c, &line, s[i] == '\n' ||
				    s[i] == '\t' ? " " : s + i, 1);
		} else if (islist) {
			for (k = 0; k < ilvl; k++)
				(void)putu(c, &line, "  ", 2);
			(void)putu(c, &line, label, strlen(label));
			(void)putu(c, &line, " ", 1);
			for (i = 0; i < n; i++) {
				(void)putu(c, &line, s + i, 1);
				if (s[i] != '\n')
					continue;
				for (k = 0; k <= ilvl; k++)
					(void)putu(c, &line, "  ", 2);
			}
		} else
			(void)putu(c, &line, s, n);
		if (c->rc == RL_OK && charge(c, line.len - before) == 0)
			block_add_list(c, cont, line.s, line.len,
			    islist ? numid : 0, ilvl);
	}
	if (p->after.len > 0)
		block_add(c, cont, p->after.s, p->after.len);
	rl_buf_free(&line);
	frame_pop(c);
}

/*
 * A cell's blocks on one line for a Markdown row: line breaks become
 * <br>, tabs spaces, and | is escaped.
 */
static int
cell_flatten(struct ctx *c, struct rl_buf *in, struct rl_buf *out)
{
	const char	*s;
	size_t		 n, i, before;
	int		 br = 0;

	tbuf(out);
	s = rl_buf_str(in);
	n = in->len;
	trim(&s, &n);
	before = n;
	for (i = 0; i < n; i++) {
		if (s[i] == '\n' || s[i] == '\r') {
			if (!br && putu(c, out, "<br>", 4) == -1)
				return -1;
			br = 1;
			continue;
		}
		br = 0;
		if (s[i] == '|') {
			if (putu(c, out, "\\|", 2) == -1)
				return -1;
		} else if (putu(c, out, s[i] == '\t' ? " " : s + i, 1) == -1)
			return -1;
	}
	return out->len > before ? charge(c, out->len - before) : 0;
}

static int
cell_push(struct ctx *c, struct table *t, struct rl_buf *b)
{

	if (t->col >= RL_DOCX_MAX_COLS) {
		fail(c, RL_ETOOBIG, "table row wider than %d columns",
		    RL_DOCX_MAX_COLS);
		return -1;
	}
	/* Each cell costs its "|  |" when rendered, even empty. */
	if (charge(c, 4) == -1)
		return -1;
	if (grow((void **)&t->cell, &t->capcell, t->ncell,
	    sizeof(*t->cell)) == -1) {
		oom(c);
		return -1;
	}
	t->cell[t->ncell] = *b;
	tbuf(b);
	t->ncell++;
	t->col++;
	return 0;
}

static void
cells_empty(struct ctx *c, struct table *t, long n)
{
	struct rl_buf	 b;

	tbuf(&b);
	for (; n > 0; n--) {
		if (t->col < RL_DOCX_MAX_COLS)
			t->vm[t->col] = -1;
		if (cell_push(c, t, &b) == -1)
			return;
	}
}

static void
tr_start(struct ctx *c, struct table *t)
{

	if (charge(c, 2) == -1)
		return;
	if (grow((void **)&t->row, &t->caprow, t->nrow,
	    sizeof(*t->row)) == -1) {
		oom(c);
		return;
	}
	t->row[t->nrow++] = t->ncell;
	t->col = 0;
	t->after = 0;
}

/* A finished w:tc: its text, spread over gridSpan columns. */
static void
tc_end(struct ctx *c)
{
	struct frame	*f = top(c);
	struct table	*t;
	struct rl_buf	 text;
	size_t		 col;
	long		 src;
	int		 span, vmerge;

	tbuf(&text);
	carry_flush(c, f);
	t = c->fr[c->nfr - 2].tbl;
	span = f->span;
	vmerge = f->vmerge;
	if (c->rc != RL_OK || cell_flatten(c, &f->out, &text) == -1) {
		rl_buf_free(&text);
		frame_pop(c);
		return;
	}
	frame_pop(c);
	col = t->col;
	if (col < RL_DOCX_MAX_COLS && vmerge == 2) {
		/* A continued vertical merge repeats the text above. */
		rl_buf_free(&text);
		if ((src = t->vm[col]) >= 0 && t->cell[src].len > 0 &&
		    put(c, &text, t->cell[src].s, t->cell[src].len) == -1)
			return;
	}
	if (col < RL_DOCX_MAX_COLS && vmerge != 2)
		t->vm[col] = (long)t->ncell;
	if (cell_push(c, t, &text) == -1) {
		rl_buf_free(&text);
		return;
	}
	cells_empty(c, t, span - 1);
}

static int
row_used(const struct table *t, size_t r, size_t *first, size_t *end)
{
	size_t	 i;

	*first = t->row[r];
	*end = r + 1 < t->nrow ? t->row[r + 1] : t->ncell;
	for (i = *first; i < *end; i++)
		if (t->cell[i].len > 0)
			return 1;
	return 0;
}

/*
 * A finished table: "TABLE n:", the first row used as the header, a
 * "| --- |" rule, the other rows, "ENDTABLE".  Rows without text are
 * left out (EDxo does the same); short rows are padded.  A table inside
 * a cell cannot be a Markdown table there: its rows become lines of
 * "a; b" text in that cell.
 */
static void
tbl_end(struct ctx *c)
{
	struct frame	*f = top(c), *cont;
	struct table	*t = f->tbl;
	struct rl_buf	 out;
	char		 head[32];
	size_t		 r, i, first, end, width = 0, w;
	int		 header = 1, sep;

	tbuf(&out);
	cont = container(c, c->nfr - 2);
	for (r = 0; r < t->nrow; r++)
		if (row_used(t, r, &first, &end) && end - first > width)
			width = end - first;
	if (width == 0 || cont == NULL || c->rc != RL_OK)
		goto out;
	if (cont->kind == F_CELL) {
		for (r = 0; r < t->nrow; r++) {
			if (!row_used(t, r, &first, &end))
				continue;
			rl_buf_reset(&out);
			for (i = first, sep = 0; i < end; i++) {
				if (t->cell[i].len == 0)
					continue;
				if (sep && put(c, &out, "; ", 2) == -1)
					goto out;
				if (putu(c, &out, t->cell[i].s,
				    t->cell[i].len) == -1)
					goto out;
				sep = 1;
			}
			block_add(c, cont, out.s, out.len);
		}
		goto out;
	}
	c->ntables++;
	(void)snprintf(head, sizeof(head), "TABLE %d:\n", c->ntables);
	(void)putu(c, &out, head, strlen(head));
	for (r = 0; r < t->nrow; r++) {
		if (!row_used(t, r, &first, &end))
			continue;
		(void)putu(c, &out, "|", 1);
		for (w = 0, i = first; w < width; w++, i++) {
			(void)putu(c, &out, " ", 1);
			if (i < end)
				(void)putu(c, &out, rl_buf_str(&t->cell[i]),
				    t->cell[i].len);
			(void)putu(c, &out, " |", 2);
		}
		(void)putu(c, &out, "\n", 1);
		if (header) {
			(void)putu(c, &out, "|", 1);
			for (w = 0; w < width; w++)
				(void)putu(c, &out, " --- |", 6);
			(void)putu(c, &out, "\n", 1);
			header = 0;
		}
	}
	(void)putu(c, &out, "ENDTABLE", 8);
	/* Cells paid for their text and pipes; the rules and head are new. */
	if (c->rc == RL_OK && charge(c, 32 + 6 * width) == 0)
		block_add(c, cont, out.s, out.len);
out:
	rl_buf_free(&out);
	frame_pop(c);
}

/* The document and notes parts. */

static int
mc_understood(const char *req)
{
	const char	*p, *end;
	size_t		 n, i;
	int		 ok;

	if (req == NULL)
		return 0;
	for (p = req; *p != '\0'; p = end) {
		while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
			p++;
		if (*p == '\0')
			break;
		for (end = p; *end != '\0' && !isws(*end); end++)
			continue;
		n = (size_t)(end - p);
		for (ok = 0, i = 0; i < sizeof(mc_known) / sizeof(mc_known[0]);
		    i++)
			if (strlen(mc_known[i]) == n &&
			    memcmp(mc_known[i], p, n) == 0)
				ok = 1;
		if (!ok)
			return 0;
	}
	return 1;
}

/* mc:AlternateContent: exactly one branch, the first we understand. */
static void
mc_start(struct ctx *c, const char *local, const char **a)
{
	unsigned char	*parent = &c->ac[c->depth - 1];

	if (strcmp(local, "AlternateContent") == 0) {
		c->ac[c->depth] = 1;
		return;
	}
	if (*parent == 0)
		return;		/* a stray branch: read it */
	if (strcmp(local, "Choice") == 0) {
		if (*parent == 1 && mc_understood(attr(c, a, "Requires")))
			*parent = 2;
		else
			c->skip = c->depth;
	} else if (strcmp(local, "Fallback") == 0) {
		if (*parent == 1)
			*parent = 2;
		else
			c->skip = c->depth;
	}
}

/* Inside pPr, rPr, trPr or tcPr: only a few children matter. */
static void
props_start(struct ctx *c, enum el el, const char **a)
{
	struct frame	*f = top(c);
	const char	*v;
	int		 d = c->depth - c->props;

	switch (c->propkind) {
	case E_PPR:
		if (f == NULL || f->kind != F_P)
			break;
		if (d == 1 && el == E_PSTYLE &&
		    (f->style = style_find(c, attr(c, a, "val"))) == NULL)
			f->idlevel = id_level(attr(c, a, "val"));
		else if (d == 2 && el == E_NUMID)
			f->numid = (int)tonum(attr(c, a, "val"), 0, INT_MAX, 0);
		else if (d == 2 && el == E_ILVL)
			f->ilvl = (int)tonum(attr(c, a, "val"), 0, NLVL - 1, 0);
		else if (d == 2 && (el == E_DEL || el == E_MOVEFROM))
			f->markdel = 1;		/* pPr/rPr/del */
		else if (d == 1 && el == E_FRAMEPR &&
		    (v = attr(c, a, "dropCap")) != NULL &&
		    strcmp(v, "none") != 0)
			f->markdel = 2;		/* its letter starts the next */
		break;
	case E_RPR:
		if (d == 1 && el == E_VANISH)
			c->hidden = onoff(attr(c, a, "val"));
		else if (d == 1 && el == E_RFONTS)
			c->symfont = ((v = attr(c, a, "ascii")) != NULL &&
			    strcasecmp(v, "Symbol") == 0) ||
			    ((v = attr(c, a, "hAnsi")) != NULL &&
			    strcasecmp(v, "Symbol") == 0);
		break;
	case E_TRPR:
		if (f == NULL || f->kind != F_TBL || d != 1)
			break;
		if (el == E_GRIDBEFORE)
			cells_empty(c, f->tbl, tonum(attr(c, a, "val"), 0,
			    RL_DOCX_MAX_COLS + 1, 0));
		else if (el == E_GRIDAFTER)
			f->tbl->after = (size_t)tonum(attr(c, a, "val"), 0,
			    RL_DOCX_MAX_COLS + 1, 0);
		break;
	case E_TCPR:
		if (f == NULL || f->kind != F_CELL || d != 1)
			break;
		if (el == E_GRIDSPAN)
			f->span = (int)tonum(attr(c, a, "val"), 1,
			    RL_DOCX_MAX_COLS + 1, 1);
		else if (el == E_VMERGE) {
			v = attr(c, a, "val");
			f->vmerge = v != NULL && strcmp(v, "restart") == 0 ?
			    1 : 2;
		}
		break;
	default:
		break;
	}
}

/* UTF-8 of a BMP code point; returns its length. */
static size_t
utf8_put(char *u, unsigned long cp)
{

	if (cp < 0x80) {
		u[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		u[0] = (char)(0xc0 | (cp >> 6));
		u[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	u[0] = (char)(0xe0 | (cp >> 12));
	u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
	u[2] = (char)(0x80 | (cp & 0x3f));
	return 3;
}

/* A Symbol-font position (0x20-0xFF or U+F020-U+F0FF) as Unicode. */
static unsigned long
symbol_char(unsigned long cp)
{

	if (cp >= 0xf020 && cp <= 0xf0ff)
		cp -= 0xf000;
	if (cp < 0x20 || cp > 0xff)
		return 0;
	return symbol_font[cp - 0x20];
}

/*
 * w:sym: a character by number.  From the Symbol font it is a glyph
 * position, mapped through its table; from other symbol fonts (Wingdings)
 * U+F000 and up are pictures with no text to keep.
 */
static void
sym(struct ctx *c, const char **a)
{
	char		 u[4];
	unsigned long	 cp;
	const char	*v, *font;
	char		*end;

	if ((v = attr(c, a, "char")) == NULL)
		return;
	cp = strtoul(v, &end, 16);
	if (end == v)
		return;
	if ((font = attr(c, a, "font")) != NULL &&
	    strcasecmp(font, "Symbol") == 0)
		cp = symbol_char(cp);
	if (cp < 0x20 || cp >= 0xf000 || (cp >= 0xd800 && cp < 0xe000))
		return;
	emit_new(c, u, utf8_put(u, cp));
}

/* Complex fields: only the result of each field is text. */
static void
fldchar(struct ctx *c, const char **a)
{
	const char	*type = attr(c, a, "fldCharType");

	if (type == NULL)
		return;
	if (strcmp(type, "begin") == 0) {
		if (c->nfld >= RL_DOCX_FIELD_DEPTH) {
			fail(c, RL_ETOOBIG, "fields nested deeper than %d",
			    RL_DOCX_FIELD_DEPTH);
			return;
		}
		c->fld[c->nfld++] = 1;
		c->fldhide++;
	} else if (strcmp(type, "separate") == 0) {
		if (c->nfld > 0 && c->fld[c->nfld - 1] == 1) {
			c->fld[c->nfld - 1] = 0;
			c->fldhide--;
		}
	} else if (strcmp(type, "end") == 0) {
		if (c->nfld > 0) {
			if (c->fld[c->nfld - 1] == 1)
				c->fldhide--;
			c->nfld--;
		}
	}
}

/* A footnote or endnote reference: "[^n]" here, its text after. */
static void
noteref(struct ctx *c, int kind, const char **a)
{
	const struct note	*nt;
	struct frame		*p = top(c);
	struct rl_buf		 b;
	char			 mark[32];
	int			 n;

	if (c->mode != M_DOC || c->hidden || c->fldhide > 0 || p == NULL ||
	    p->kind != F_P)
		return;
	if ((nt = note_find(c, kind, tonum(attr(c, a, "id"), LONG_MIN,
	    LONG_MAX, -1))) == NULL)
		return;
	n = snprintf(mark, sizeof(mark), "[^%d]", ++c->nnoteref);
	emit_new(c, mark, (size_t)n);
	tbuf(&b);
	(void)snprintf(mark, sizeof(mark), "[^%d]: ", c->nnoteref);
	if (put(c, &b, mark, strlen(mark)) == 0 &&
	    put(c, &b, nt->text, nt->len) == 0)
		after_add(c, p, b.s, b.len);
	rl_buf_free(&b);
}

/* A picture's description (its alt text): "[image: ...]" in the text. */
static void
image_descr(struct ctx *c, const char *descr)
{
	struct frame	*p = top(c);
	size_t		 n;

	if (descr == NULL || p == NULL || p->kind != F_P || c->hidden ||
	    c->fldhide > 0)
		return;
	n = strlen(descr);
	trim(&descr, &n);
	if (n == 0)
		return;
	emit_new(c, "[image: ", 8);
	emit_new(c, descr, n);
	emit_new(c, "]", 1);
}

static void
doc_start(struct ctx *c, enum ns ns, const char *local, const char **a)
{
	struct frame	*f;
	const char	*type;
	enum el		 el;

	if (ns == NS_MC) {
		mc_start(c, local, a);
		return;
	}
	if (ns == NS_WP && strcmp(local, "docPr") == 0) {
		image_descr(c, attr(c, a, "descr"));
		return;
	}
	if (ns == NS_M && strcmp(local, "t") == 0 && c->intext == 0) {
		c->intext = c->depth;
		c->preserve = 1;
		rl_buf_reset(&c->tb);
		return;
	}
	if (ns != NS_W)
		return;
	el = element(local);
	if (c->props > 0) {
		props_start(c, el, a);
		return;
	}
	f = top(c);
	switch (el) {
	case E_P:
		p_start(c);
		break;
	case E_PPR:
	case E_TRPR:
	case E_TCPR:
		c->props = c->depth;
		c->propkind = el;
		break;
	case E_RPR:
		c->props = c->depth;
		c->propkind = E_RPR;
		break;
	case E_R:
		c->hidden = c->symfont = 0;
		break;
	case E_T:
		c->intext = c->depth;
		c->preserve = xml_preserve(c, a);
		rl_buf_reset(&c->tb);
		break;
	case E_TAB:
	case E_PTAB:
		emit_new(c, "\t", 1);
		break;
	case E_BR:
	case E_CR:
		emit_new(c, "\n", 1);
		break;
	case E_NOBREAKHYPHEN:
		emit_new(c, "-", 1);
		break;
	case E_SYM:
		sym(c, a);
		break;
	case E_FLDCHAR:
		fldchar(c, a);
		break;
	case E_FOOTNOTEREFERENCE:
		noteref(c, 0, a);
		break;
	case E_ENDNOTEREFERENCE:
		noteref(c, 1, a);
		break;
	case E_DEL:
	case E_MOVEFROM:
	case E_DELTEXT:
	case E_DELINSTRTEXT:
	case E_INSTRTEXT:
	case E_SDTPR:
	case E_SDTENDPR:
	case E_SECTPR:
	case E_TBLPR:
	case E_TBLGRID:
	case E_CUSTOMXMLPR:
	case E_SMARTTAGPR:
	case E_FLDDATA:
		c->skip = c->depth;
		break;
	case E_TBL:
		if ((f = frame_push(c, F_TBL)) == NULL)
			break;
		if ((f->tbl = calloc(1, sizeof(*f->tbl))) == NULL) {
			oom(c);
			break;
		}
		memset(f->tbl->vm, 0xff, sizeof(f->tbl->vm));
		break;
	case E_TR:
		if (f != NULL && f->kind == F_TBL)
			tr_start(c, f->tbl);
		break;
	case E_TC:
		if (f != NULL && f->kind == F_TBL && f->tbl->nrow > 0)
			(void)frame_push(c, F_CELL);
		break;
	case E_TXBXCONTENT:
		(void)frame_push(c, F_TXBX);
		break;
	case E_FOOTNOTE:
	case E_ENDNOTE:
		if (c->mode != M_NOTES)
			break;
		type = attr(c, a, "type");
		if (type != NULL && strcmp(type, "normal") != 0) {
			/* separator, continuationSeparator, ... */
			c->skip = c->depth;
			break;
		}
		if ((f = frame_push(c, F_NOTE)) == NULL)
			break;
		f->notekind = el == E_ENDNOTE;
		f->noteid = tonum(attr(c, a, "id"), LONG_MIN, LONG_MAX, -1);
		break;
	default:
		break;
	}
}

/* Text of a run set in the Symbol font: glyph positions to Unicode. */
static void
symbol_text(struct ctx *c, const char *s, size_t n)
{
	struct rl_buf	 b;
	char		 u[4];
	unsigned long	 cp;
	size_t		 i, k;

	tbuf(&b);
	for (i = 0; i < n; i += k) {
		cp = (unsigned char)s[i];
		k = 1;
		if (cp == 0xef && i + 2 < n) {
			/* U+F020-U+F0FF: EF 80 A0 to EF 83 BF. */
			cp = ((cp & 0x0f) << 12) |
			    (((unsigned char)s[i + 1] & 0x3f) << 6) |
			    ((unsigned char)s[i + 2] & 0x3f);
			k = 3;
			if (cp < 0xf020 || cp > 0xf0ff) {
				if (putu(c, &b, s + i, 1) == -1)
					goto out;
				k = 1;
				continue;
			}
		} else if (cp >= 0x80) {
			if (putu(c, &b, s + i, 1) == -1)
				goto out;
			continue;
		}
		if ((cp = symbol_char(cp)) != 0 &&
		    putu(c, &b, u, utf8_put(u, cp)) == -1)
			goto out;
	}
	if (b.len <= n || charge(c, b.len - n) == 0)
		emit(c, rl_buf_str(&b), b.len);
out:
	rl_buf_free(&b);
}

static void
text_end(struct ctx *c)
{
	const char	*s = rl_buf_str(&c->tb);
	size_t		 n = c->tb.len;

	c->intext = 0;
	if (!c->preserve) {
		/* Word and LibreOffice trim unpreserved text. */
		trim(&s, &n);
	}
	if (c->symfont)
		symbol_text(c, s, n);
	else
		emit(c, s, n);
}

static void
txbx_end(struct ctx *c)
{
	struct frame	*f = top(c), *below;
	struct rl_buf	 b;

	carry_flush(c, f);
	b = f->out;
	tbuf(&f->out);
	frame_pop(c);
	/* Text boxes come after the paragraph that anchors them. */
	below = top(c);
	if (below != NULL && below->kind == F_P)
		after_add(c, below, b.s, b.len);
	else
		block_add(c, container(c, c->nfr - 1), b.s, b.len);
	rl_buf_free(&b);
}

static void
note_end(struct ctx *c)
{
	struct frame	*f = top(c);
	struct note	*nt;
	const char	*s;
	char		*d;
	size_t		 n, i, k;

	carry_flush(c, f);
	if (c->rc != RL_OK || grow((void **)&c->note, &c->capnote, c->nnote,
	    sizeof(*c->note)) == -1) {
		if (c->rc == RL_OK)
			oom(c);
		frame_pop(c);
		return;
	}
	s = rl_buf_str(&f->out);
	n = f->out.len;
	trim(&s, &n);
	if ((d = malloc(n + 1)) == NULL) {
		oom(c);
		frame_pop(c);
		return;
	}
	/* One line: the note follows its paragraph as "[^n]: text". */
	for (i = k = 0; i < n; i++) {
		if (s[i] == '\n') {
			if (k > 0 && d[k - 1] != ' ')
				d[k++] = ' ';
			continue;
		}
		d[k++] = s[i];
	}
	d[k] = '\0';
	nt = &c->note[c->nnote++];
	nt->kind = f->notekind;
	nt->id = f->noteid;
	nt->text = d;
	nt->len = k;
	c->notes_sorted = 0;
	frame_pop(c);
}

static void
doc_end(struct ctx *c, enum ns ns, const char *local)
{
	struct frame	*f = top(c);

	if (c->intext == c->depth && c->intext > 0) {
		text_end(c);
		return;
	}
	if (c->props == c->depth) {
		c->props = 0;
		return;
	}
	if (ns != NS_W)
		return;
	if (strcmp(local, "r") == 0) {
		c->hidden = c->symfont = 0;
		return;
	}
	if (strcmp(local, "tr") == 0) {
		if (f != NULL && f->kind == F_TBL && f->tbl->nrow > 0)
			cells_empty(c, f->tbl, (long)f->tbl->after);
		return;
	}
	if (f == NULL || f->depth != c->depth)
		return;
	switch (f->kind) {
	case F_P:
		p_end(c);
		break;
	case F_TBL:
		tbl_end(c);
		break;
	case F_CELL:
		tc_end(c);
		break;
	case F_TXBX:
		txbx_end(c);
		break;
	case F_NOTE:
		note_end(c);
		break;
	default:
		break;
	}
}

/* expat callbacks, shared by every part. */

static void XMLCALL
on_start(void *arg, const XML_Char *name, const XML_Char **atts)
{
	struct ctx	*c = arg;
	const char	*local;
	enum ns		 ns;

	if (c->stopped)
		return;
	if (++c->depth > RL_DOCX_XML_DEPTH) {
		fail(c, RL_ETOOBIG, "elements nested deeper than %d",
		    RL_DOCX_XML_DEPTH);
		return;
	}
	c->ac[c->depth] = 0;
	if (c->skip > 0)
		return;
	if (atts[0] != NULL)
		ns_declare(c, atts);
	ns = split(c, name, 0, &local);
	switch (c->mode) {
	case M_RELS:
		rels_start(c, local, atts);
		break;
	case M_STYLES:
		if (ns == NS_W)
			styles_start(c, local, atts);
		break;
	case M_NUMBERING:
		if (ns == NS_W)
			numbering_start(c, element(local), atts);
		break;
	default:
		doc_start(c, ns, local, atts);
		break;
	}
}

static void XMLCALL
on_end(void *arg, const XML_Char *name)
{
	struct ctx	*c = arg;
	const char	*local;
	enum ns		 ns;

	if (c->stopped)
		return;
	if (c->skip > 0) {
		if (c->skip == c->depth) {
			c->skip = 0;
			ns_end(c);
		}
		c->depth--;
		return;
	}
	ns = split(c, name, 0, &local);
	switch (c->mode) {
	case M_RELS:
		break;
	case M_STYLES:
		styles_end(c);
		break;
	case M_NUMBERING:
		numbering_end(c);
		break;
	default:
		doc_end(c, ns, local);
		break;
	}
	ns_end(c);
	c->depth--;
}

static void XMLCALL
on_text(void *arg, const XML_Char *s, int len)
{
	struct ctx	*c = arg;

	if (c->stopped || c->skip > 0 || c->intext == 0 || len <= 0)
		return;
	(void)put(c, &c->tb, s, (size_t)len);
}

/* OPC forbids DTDs; refusing them here leaves no entity to expand. */
static void XMLCALL
on_doctype(void *arg, const XML_Char *name, const XML_Char *sysid,
    const XML_Char *pubid, int has_internal_subset)
{
	struct ctx	*c = arg;

	fail(c, RL_EFORM, "DOCTYPE is not allowed in a package part");
}

static void XMLCALL
on_xmldecl(void *arg, const XML_Char *version, const XML_Char *encoding,
    int standalone)
{
	struct ctx	*c = arg;

	if (encoding != NULL && strcasecmp(encoding, "UTF-8") != 0 &&
	    strcasecmp(encoding, "UTF-16") != 0)
		fail(c, RL_EFORM, "encoding %s is not UTF-8 or UTF-16",
		    encoding);
}

static enum rl_err
parse(struct ctx *c, enum mode mode, const char *part, const char *buf,
    size_t len)
{
	XML_Parser	 p;

	c->mode = mode;
	c->part = part;
	c->depth = c->skip = 0;
	c->cur = -1;
	c->curlvl = NULL;
	c->ovilvl = -1;
	c->props = 0;
	c->hidden = c->intext = 0;
	c->nfld = c->fldhide = 0;
	c->nnsb = 0;
	c->cvalid = 0;
	if (len > INT_MAX) {
		fail(c, RL_ETOOBIG, "part too large");
		return c->rc;
	}
	if ((p = XML_ParserCreate(NULL)) == NULL) {
		oom(c);
		return c->rc;
	}
	c->xp = p;
	XML_SetUserData(p, c);
	XML_SetElementHandler(p, on_start, on_end);
	XML_SetCharacterDataHandler(p, on_text);
	XML_SetStartDoctypeDeclHandler(p, on_doctype);
	XML_SetXmlDeclHandler(p, on_xmldecl);
	(void)XML_SetParamEntityParsing(p, XML_PARAM_ENTITY_PARSING_NEVER);
	if (XML_Parse(p, buf, (int)len, XML_TRUE) == XML_STATUS_ERROR &&
	    c->rc == RL_OK && !c->truncated) {
		(void)rl_error_set(c->e, RL_EFORM, "%s: line %lu: %s", part,
		    (unsigned long)XML_GetCurrentLineNumber(p),
		    XML_ErrorString(XML_GetErrorCode(p)));
		rl_error_where(c->e, part);
		c->rc = RL_EFORM;
	}
	XML_ParserFree(p);
	c->xp = NULL;
	return c->rc;
}

/*
 * Reads one part.  RL_ENOTFOUND (nothing set in c) when the part is
 * absent and optional; any other failure is the document's.
 */
static enum rl_err
part_read(struct ctx *c, struct rl_zip *z, const char *name, int required,
    char **buf, size_t *len)
{
	struct rl_error	 e;
	enum rl_err	 rc;

	rc = rl_zip_read(z, name, buf, len, &e);
	if (rc == RL_ENOTFOUND && !required)
		return rc;
	if (rc == RL_ENOTFOUND) {
		(void)rl_error_set(c->e, RL_EFORM,
		    "no main document part (%s)", name);
		rl_error_where(c->e, name);
		return c->rc = RL_EFORM;
	}
	if (rc != RL_OK) {
		if (c->e != NULL)
			*c->e = e;
		c->rc = rc;
	}
	return rc;
}

/* Reads and parses an optional part; absent is fine. */
static enum rl_err
part_parse(struct ctx *c, struct rl_zip *z, enum mode mode,
    const char *name)
{
	char		*buf;
	size_t		 len;
	enum rl_err	 rc;

	rc = part_read(c, z, name, 0, &buf, &len);
	if (rc == RL_ENOTFOUND)
		return RL_OK;
	if (rc != RL_OK)
		return rc;
	rc = parse(c, mode, name, buf, len);
	free(buf);
	return rc;
}

static void
ctx_free(struct ctx *c)
{
	size_t	 i;

	while (c->nfr > 0)
		frame_pop(c);
	free(c->fr);
	free(c->nsb);
	rels_clear(c);
	for (i = 0; i < c->nsty; i++) {
		free(c->sty[i].id);
		free(c->sty[i].name);
		free(c->sty[i].based);
	}
	free(c->sty);
	for (i = 0; i < c->nabs; i++) {
		free(c->abs[i].numstylelink);
		free(c->abs[i].stylelink);
	}
	free(c->abs);
	free(c->num);
	for (i = 0; i < c->nnote; i++)
		free(c->note[i].text);
	free(c->note);
	rl_buf_free(&c->tb);
	free(c);
}

/* The part a relationship of the main part names, or "" if none. */
static enum rl_err
rel_part(struct ctx *c, enum rel r, const char *dir, const char *dflt,
    int haverels, char *out, size_t outsz)
{

	out[0] = '\0';
	if (c->rel[r] != NULL) {
		if (resolve(dir, c->rel[r], out, outsz) == -1) {
			(void)rl_error_set(c->e, RL_EFORM,
			    "relationship target %s leaves the package",
			    c->rel[r]);
			rl_error_where(c->e, c->part);
			return c->rc = RL_EFORM;
		}
	} else if (!haverels)
		(void)resolve(dir, dflt, out, outsz);
	return RL_OK;
}

/*
 * The text of a document already open.  *text is malloc'd and
 * NUL-terminated; the caller frees it.  See docs/internals/docx.md.
 */
enum rl_err
rl_docx_text_zip(struct rl_zip *z, char **text, size_t *len,
    struct rl_error *e)
{
	static const struct {
		enum rel	 rel;
		enum mode	 mode;
		const char	*dflt;
	} parts[] = {
		{ REL_STYLES, M_STYLES, "styles.xml" },
		{ REL_NUMBERING, M_NUMBERING, "numbering.xml" },
		{ REL_FOOTNOTES, M_NOTES, "footnotes.xml" },
		{ REL_ENDNOTES, M_NOTES, "endnotes.xml" },
	};
	struct ctx	*c;
	struct frame	*root;
	char		 mainp[PART_MAX], rels[PART_MAX], dir[PART_MAX];
	char		 name[PART_MAX], *buf = NULL, *slash;
	size_t		 n, i;
	int		 haverels;
	enum rl_err	 rc;

	*text = NULL;
	*len = 0;
	/* Not zeroed: entries are written as they are pushed. */
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->fr = reallocarray(NULL, RL_DOCX_XML_DEPTH + 1,
	    sizeof(*c->fr))) == NULL ||
	    (c->nsb = reallocarray(NULL, RL_DOCX_MAX_NSDECL,
	    sizeof(*c->nsb))) == NULL) {
		if (c != NULL)
			free(c->fr);
		free(c);
		return rl_error_set(e, RL_ENOMEM, "docx: out of memory");
	}
	tbuf(&c->tb);
	c->e = e;
	c->left = RL_DOCX_TEXT_MAX;
	c->part = "_rels/.rels";

	/* The main part, from the package relationships. */
	if ((rc = part_parse(c, z, M_RELS, "_rels/.rels")) != RL_OK)
		goto out;
	if (resolve("", c->rel[REL_DOC] != NULL ? c->rel[REL_DOC] :
	    "word/document.xml", mainp, sizeof(mainp)) == -1) {
		rc = rl_error_set(e, RL_EFORM,
		    "main document target %s leaves the package",
		    c->rel[REL_DOC]);
		rl_error_where(e, "_rels/.rels");
		goto out;
	}
	rels_clear(c);
	(void)snprintf(dir, sizeof(dir), "%s", mainp);
	if ((slash = strrchr(dir, '/')) != NULL)
		*slash = '\0';
	else
		dir[0] = '\0';
	n = strlen(dir);
	if (snprintf(rels, sizeof(rels), "%s%s_rels/%s.rels", dir,
	    n > 0 ? "/" : "", mainp + (n > 0 ? n + 1 : 0)) >=
	    (int)sizeof(rels)) {
		rc = rl_error_set(e, RL_EFORM, "part name too long");
		goto out;
	}

	/* Its own relationships: styles, numbering, notes. */
	rc = part_read(c, z, rels, 0, &buf, &n);
	haverels = rc == RL_OK;
	if (rc == RL_OK) {
		rc = parse(c, M_RELS, rels, buf, n);
		free(buf);
		buf = NULL;
	}
	if (rc != RL_OK && rc != RL_ENOTFOUND)
		goto out;
	for (i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		if ((rc = rel_part(c, parts[i].rel, dir, parts[i].dflt,
		    haverels, name, sizeof(name))) != RL_OK)
			goto out;
		if (name[0] != '\0' &&
		    (rc = part_parse(c, z, parts[i].mode, name)) != RL_OK)
			goto out;
		if (parts[i].mode == M_STYLES)
			styles_done(c);
		else if (parts[i].mode == M_NUMBERING)
			numbering_done(c);
		else
			while (c->nfr > 0)
				frame_pop(c);
		if (c->truncated)
			break;
	}

	/* The document itself. */
	c->part = mainp;
	if (frame_push(c, F_ROOT) == NULL) {
		rc = c->rc;
		goto out;
	}
	if (!c->truncated) {
		if ((rc = part_read(c, z, mainp, 1, &buf, &n)) != RL_OK)
			goto out;
		rc = parse(c, M_DOC, mainp, buf, n);
		free(buf);
		buf = NULL;
		if (rc != RL_OK)
			goto out;
	}
	root = &c->fr[0];
	if (!c->truncated) {
		while (c->nfr > 1)
			frame_pop(c);
		carry_flush(c, root);
	}
	if (c->rc != RL_OK) {
		rc = c->rc;
		goto out;
	}
	/* A final newline, or the marker, which begins with its own. */
	if ((c->truncated ? rl_buf_add(&root->out, RL_DOCX_TRUNCATED,
	    strlen(RL_DOCX_TRUNCATED)) : root->out.len > 0 ?
	    rl_buf_add(&root->out, "\n", 1) : RL_OK) != RL_OK ||
	    (*text = rl_buf_take(&root->out, len)) == NULL) {
		rc = rl_error_set(e, RL_ENOMEM, "docx: out of memory");
		goto out;
	}
	rc = RL_OK;
out:
	if (rc == RL_OK && c->rc != RL_OK)
		rc = c->rc;
	if (rc != RL_OK && e != NULL && e->code != rc)
		(void)rl_error_set(e, rc, NULL);
	ctx_free(c);
	return rc;
}

/* The text of a .docx held in memory (borrowed). */
enum rl_err
rl_docx_text_mem(const void *buf, size_t size, char **text, size_t *len,
    struct rl_error *e)
{
	struct rl_zip	*z;
	enum rl_err	 rc;

	*text = NULL;
	*len = 0;
	if ((rc = rl_zip_open_mem(buf, size, NULL, &z, e)) != RL_OK)
		return rc;
	rc = rl_docx_text_zip(z, text, len, e);
	rl_zip_close(z);
	return rc;
}

/* The text of a .docx file. */
enum rl_err
rl_docx_text(const char *path, char **text, size_t *len,
    struct rl_error *e)
{
	struct rl_zip	*z;
	enum rl_err	 rc;

	*text = NULL;
	*len = 0;
	if ((rc = rl_zip_open_file(path, NULL, &z, e)) != RL_OK)
		return rc;
	rc = rl_docx_text_zip(z, text, len, e);
	rl_zip_close(z);
	return rc;
}
