/*
 * docx-text: the DOCX reader from the command line, and its conformance
 * run against pandoc's fixtures.
 *
 *   docx-text FILE...            print each document's text
 *   docx-text -e FILE            print the error token ("ok" on success)
 *   docx-text -c DIR [-o REPORT] compare with DIR's pandoc references
 *   docx-text -w FILE            write a sample document with the writer
 *   docx-text -t N FILE...       seconds per pass over the files, N passes
 *
 * The comparison (-c) reads every .docx in DIR and DIR/golden with
 * rl_docx_text and compares its words with FILE.docx.pandoc-plain.txt
 * (pandoc 2.17 -t plain, stored beside it; pandoc itself is not needed).
 * Markup differs on purpose (our "#", "TABLE n:", "| --- |", "<br>",
 * "[image: ...]" and "[^n]" against pandoc's underlines, grids, "[...]"
 * and "[n]"), so both texts are
 * reduced to words: maximal runs of letters and digits (any non-ASCII
 * code point outside the punctuation and symbol blocks counts as a
 * letter), ASCII case folded; our markup lines and <br> are dropped first.
 * The words are compared as multisets:
 *
 *   recall    = shared words / words of pandoc's text
 *   precision = shared words / words of ours
 *
 * A file passes when recall >= RECALL_MIN and precision >= PRECISION_MIN.
 * "order" is the longest common subsequence of the two word sequences
 * over pandoc's word count, reported to show document order is kept.
 * Documented deviations (pandoc 2.17 leaving out text we keep: the title
 * block, text boxes, fldSimple) are listed in the table deviations[] with
 * their reason and a lower floor; they are reported as such, not skipped.
 * Every file must be read without error.  A file without a reference
 * (pandoc 2.17 cannot read ns0-reference.docx) must still be read.
 */
#include "config.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "relais.h"
#include "docx.h"
#include "docxw.h"

#define RECALL_MIN	0.95
#define PRECISION_MIN	0.90

/* Above this many cells the order figure is not computed. */
#define LCS_MAX		(64L * 1024 * 1024)

static const struct deviation {
	const char	*file;
	double		 recall_min;
	double		 precision_min;
	const char	*why;
} deviations[] = {
	{ "enumerated_headings.docx", 1.0, 0.5,
	    "we keep the heading numbers Word shows (1, 1.1, 1.1.1)" },
	{ "numbered_header.docx", 1.0, 0.7,
	    "we keep the heading number Word shows (1.)" },
	{ "lists_sublist_reset.docx", 1.0, 0.8,
	    "lvlText \"1.%2\" printed as Word shows it (1.1, not 1.)" },
	{ "lists_restart_8367.docx", 0.9, 0.9,
	    "pandoc 2.17 numbers the restarted list 1, 4, 5, 6 (its bug "
	    "#8367); we restart at 1 as pandoc 3's expected AST does" },
	{ "golden/lists_multiple_initial.docx", 0.85, 0.9,
	    "pandoc prints a number for list levels that have no item" },
	{ "metadata.docx", 1.0, 0.1,
	    "pandoc moves Title, Author, Date, Abstract to metadata and "
	    "leaves them out of plain text; we keep them" },
	{ "metadata_after_normal.docx", 1.0, 0.5,
	    "same: title block kept" },
	{ "golden/document-properties.docx", 1.0, 0.5,
	    "same: title block kept" },
	{ "golden/document-properties-short-desc.docx", 1.0, 0.3,
	    "same: title block kept" },
	{ "text_in_shape_format.docx", 1.0, 0.0,
	    "text in text boxes, which pandoc 2.17 leaves out" },
	{ "image_with_textbox_caption.docx", 1.0, 0.0,
	    "same: text box kept" },
	{ NULL, 0, 0, NULL }
};

struct words {
	char	**w;
	size_t	  n;
	size_t	  cap;
};

struct result {
	char	 name[256];
	size_t	 nref, nours, shared;
	double	 recall, precision, order;
	int	 hasref, ok;
	char	 note[512];
};

static int
word_add(struct words *ws, const char *s, size_t n)
{
	char	**p;
	size_t	  cap;

	if (ws->n == ws->cap) {
		cap = ws->cap > 0 ? ws->cap * 2 : 256;
		if ((p = realloc(ws->w, cap * sizeof(*p))) == NULL)
			return -1;
		ws->w = p;
		ws->cap = cap;
	}
	if ((ws->w[ws->n] = strndup(s, n)) == NULL)
		return -1;
	ws->n++;
	return 0;
}

static void
words_free(struct words *ws)
{
	size_t	 i;

	for (i = 0; i < ws->n; i++)
		free(ws->w[i]);
	free(ws->w);
	memset(ws, 0, sizeof(*ws));
}

/* Decodes one UTF-8 sequence; returns its length (1 for a stray byte). */
static size_t
utf8_next(const unsigned char *s, size_t n, unsigned long *cp)
{
	size_t	 len, i;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	len = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc0 ? 2 : 1;
	if (len > n || len == 1) {
		*cp = 0xfffd;
		return 1;
	}
	*cp = s[0] & (0x7f >> len);
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80) {
			*cp = 0xfffd;
			return 1;
		}
		*cp = (*cp << 6) | (s[i] & 0x3f);
	}
	return len;
}

/* Punctuation, symbols, spaces: everything that separates words. */
static int
is_sep(unsigned long cp)
{

	if (cp < 0x80)
		return !((cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z') ||
		    (cp >= 'A' && cp <= 'Z'));
	return (cp >= 0x80 && cp <= 0xbf) || cp == 0xd7 || cp == 0xf7 ||
	    (cp >= 0x2000 && cp <= 0x2bff) || (cp >= 0x3000 && cp <= 0x303f) ||
	    (cp >= 0xe000 && cp <= 0xf8ff) || cp == 0xfeff || cp == 0xfffd;
}

/* Our own markup, which pandoc has no counterpart for. */
static int
markup_line(const char *s, size_t n)
{

	if (n >= 8 && strncmp(s, "ENDTABLE", 8) == 0 && n == 8)
		return 1;
	if (n > 7 && strncmp(s, "TABLE ", 6) == 0 && s[n - 1] == ':')
		return 1;
	if (n >= 5 && strncmp(s, "| ---", 5) == 0)
		return 1;
	return 0;
}

static int
tokenize(const char *text, size_t len, int ours, struct words *ws)
{
	const unsigned char	*s = (const unsigned char *)text;
	char			 w[1024];
	size_t			 i = 0, k, wl = 0, eol;
	unsigned long		 cp;

	while (i < len) {
		if (ours && (i == 0 || s[i - 1] == '\n')) {
			for (eol = i; eol < len && s[eol] != '\n'; eol++)
				continue;
			if (markup_line(text + i, eol - i)) {
				i = eol;
				continue;
			}
		}
		if (ours && len - i >= 8 && memcmp(s + i, "[image: ", 8) == 0) {
			cp = ' ';
			k = 8;
		} else if (ours && len - i >= 4 &&
		    memcmp(s + i, "<br>", 4) == 0) {
			cp = ' ';
			k = 4;
		} else
			k = utf8_next(s + i, len - i, &cp);
		if (cp == 0xb9 || cp == 0xb2 || cp == 0xb3 ||
		    (cp >= 0x2070 && cp <= 0x2079) ||
		    (cp >= 0x2080 && cp <= 0x2089)) {
			/* NFKC: pandoc writes sub- and superscript digits. */
			cp = cp == 0xb9 ? '1' : cp == 0xb2 ? '2' :
			    cp == 0xb3 ? '3' : '0' + (cp & 0xf);
			if (!is_sep(cp) && wl + 1 < sizeof(w))
				w[wl++] = (char)cp;
			i += k;
			continue;
		}
		if (is_sep(cp)) {
			if (wl > 0 && word_add(ws, w, wl) == -1)
				return -1;
			wl = 0;
		} else if (wl + k < sizeof(w)) {
			memcpy(w + wl, s + i, k);
			if (k == 1 && w[wl] >= 'A' && w[wl] <= 'Z')
				w[wl] = (char)(w[wl] - 'A' + 'a');
			wl += k;
		}
		i += k;
	}
	if (wl > 0 && word_add(ws, w, wl) == -1)
		return -1;
	return 0;
}

static int
pstrcmp(const void *a, const void *b)
{

	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Size of the multiset intersection. */
static size_t
shared(const struct words *a, const struct words *b)
{
	char	**x, **y;
	size_t	  i = 0, j = 0, n = 0;
	int	  c;

	if (a->n == 0 || b->n == 0)
		return 0;
	x = malloc(a->n * sizeof(*x));
	y = malloc(b->n * sizeof(*y));
	if (x == NULL || y == NULL) {
		free(x);
		free(y);
		return 0;
	}
	memcpy(x, a->w, a->n * sizeof(*x));
	memcpy(y, b->w, b->n * sizeof(*y));
	qsort(x, a->n, sizeof(*x), pstrcmp);
	qsort(y, b->n, sizeof(*y), pstrcmp);
	while (i < a->n && j < b->n) {
		c = strcmp(x[i], y[j]);
		if (c == 0) {
			n++;
			i++;
			j++;
		} else if (c < 0)
			i++;
		else
			j++;
	}
	free(x);
	free(y);
	return n;
}

/* Longest common subsequence length, or -1 when too large. */
static long
lcs(const struct words *a, const struct words *b)
{
	unsigned int	*prev, *cur, *t;
	size_t		 i, j;
	long		 r;

	if ((long)a->n * (long)(b->n + 1) > LCS_MAX)
		return -1;
	prev = calloc(b->n + 1, sizeof(*prev));
	cur = calloc(b->n + 1, sizeof(*cur));
	if (prev == NULL || cur == NULL) {
		free(prev);
		free(cur);
		return -1;
	}
	for (i = 1; i <= a->n; i++) {
		for (j = 1; j <= b->n; j++)
			cur[j] = strcmp(a->w[i - 1], b->w[j - 1]) == 0 ?
			    prev[j - 1] + 1 : prev[j] > cur[j - 1] ?
			    prev[j] : cur[j - 1];
		t = prev;
		prev = cur;
		cur = t;
	}
	r = (long)prev[b->n];
	free(prev);
	free(cur);
	return r;
}

static char *
slurp(const char *path, size_t *len)
{
	FILE	*fp;
	char	*buf = NULL, *p;
	size_t	 cap = 0, n;

	*len = 0;
	if ((fp = fopen(path, "rb")) == NULL)
		return NULL;
	for (;;) {
		if (*len + 4096 + 1 > cap) {
			cap = cap > 0 ? cap * 2 : 65536;
			if ((p = realloc(buf, cap)) == NULL) {
				free(buf);
				(void)fclose(fp);
				return NULL;
			}
			buf = p;
		}
		if ((n = fread(buf + *len, 1, 4096, fp)) == 0)
			break;
		*len += n;
	}
	(void)fclose(fp);
	buf[*len] = '\0';
	return buf;
}

static const struct deviation *
deviation(const char *name)
{
	size_t	 i;

	for (i = 0; deviations[i].file != NULL; i++)
		if (strcmp(deviations[i].file, name) == 0)
			return &deviations[i];
	return NULL;
}

static void
compare(const char *dir, const char *name, struct result *r)
{
	const struct deviation	*dv;
	struct words		 ref, ours;
	struct rl_error		 e;
	char			 path[4096], *text = NULL, *rtext;
	size_t			 len, rlen;
	long			 l;
	double			 rmin = RECALL_MIN, pmin = PRECISION_MIN;

	memset(&ref, 0, sizeof(ref));
	memset(&ours, 0, sizeof(ours));
	memset(r, 0, sizeof(*r));
	(void)snprintf(r->name, sizeof(r->name), "%s", name);
	(void)snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (rl_docx_text(path, &text, &len, &e) != RL_OK) {
		(void)snprintf(r->note, sizeof(r->note), "read error %s: %s",
		    rl_err_token(e.code), e.msg);
		return;
	}
	(void)snprintf(path, sizeof(path), "%s/%s.pandoc-plain.txt", dir,
	    name);
	if ((rtext = slurp(path, &rlen)) == NULL) {
		r->ok = 1;
		(void)snprintf(r->note, sizeof(r->note),
		    "no pandoc reference (pandoc 2.17 cannot read it); "
		    "read without error, %zu bytes", len);
		free(text);
		return;
	}
	r->hasref = 1;
	if (tokenize(rtext, rlen, 0, &ref) == -1 ||
	    tokenize(text, len, 1, &ours) == -1) {
		(void)snprintf(r->note, sizeof(r->note), "out of memory");
		goto out;
	}
	r->nref = ref.n;
	r->nours = ours.n;
	r->shared = shared(&ref, &ours);
	r->recall = ref.n > 0 ? (double)r->shared / ref.n : 1.0;
	r->precision = ours.n > 0 ? (double)r->shared / ours.n :
	    ref.n == 0 ? 1.0 : 0.0;
	l = lcs(&ref, &ours);
	r->order = l < 0 ? -1.0 : ref.n > 0 ? (double)l / ref.n : 1.0;
	if ((dv = deviation(name)) != NULL) {
		rmin = dv->recall_min;
		pmin = dv->precision_min;
		(void)snprintf(r->note, sizeof(r->note), "deviation: %s",
		    dv->why);
	}
	r->ok = r->recall >= rmin && r->precision >= pmin;
out:
	words_free(&ref);
	words_free(&ours);
	free(rtext);
	free(text);
}

static int
namecmp(const void *a, const void *b)
{

	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The .docx names in dir (prefixed with sub/ when sub is given). */
static size_t
list(const char *dir, const char *sub, char ***names, size_t n)
{
	char		 path[4096], **p;
	struct dirent	*de;
	DIR		*d;
	size_t		 l;

	(void)snprintf(path, sizeof(path), "%s%s%s", dir, sub ? "/" : "",
	    sub ? sub : "");
	if ((d = opendir(path)) == NULL)
		return n;
	while ((de = readdir(d)) != NULL) {
		l = strlen(de->d_name);
		if (l < 6 || strcmp(de->d_name + l - 5, ".docx") != 0)
			continue;
		if ((p = realloc(*names, (n + 1) * sizeof(*p))) == NULL)
			break;
		*names = p;
		(void)snprintf(path, sizeof(path), "%s%s%s", sub ? sub : "",
		    sub ? "/" : "", de->d_name);
		if (((*names)[n] = strdup(path)) == NULL)
			break;
		n++;
	}
	(void)closedir(d);
	return n;
}

static int
conformance(const char *dir, const char *report)
{
	struct result	*res;
	char		**names = NULL;
	size_t		  n, i, pass = 0, dev = 0, noref = 0;
	FILE		 *fp = NULL;

	n = list(dir, NULL, &names, 0);
	n = list(dir, "golden", &names, n);
	if (n == 0) {
		printf("not ok 1 - no .docx in %s\n1..1\n", dir);
		return 1;
	}
	qsort(names, n, sizeof(*names), namecmp);
	if ((res = calloc(n, sizeof(*res))) == NULL)
		return 1;
	for (i = 0; i < n; i++) {
		compare(dir, names[i], &res[i]);
		pass += res[i].ok;
		noref += !res[i].hasref && res[i].ok;
		dev += res[i].hasref && deviation(names[i]) != NULL;
		if (res[i].hasref)
			printf("%s %zu - %s recall %.3f precision %.3f "
			    "order %.3f (%zu/%zu words)%s%s\n",
			    res[i].ok ? "ok" : "not ok", i + 1, names[i],
			    res[i].recall, res[i].precision, res[i].order,
			    res[i].nours, res[i].nref,
			    res[i].note[0] ? " # " : "", res[i].note);
		else
			printf("%s %zu - %s # %s\n", res[i].ok ? "ok" :
			    "not ok", i + 1, names[i], res[i].note);
	}
	printf("1..%zu\n", n);
	if (report != NULL && (fp = fopen(report, "w")) != NULL) {
		fprintf(fp, "**Total: %zu of %zu documents pass "
		    "(recall >= %.2f and precision >= %.2f", pass, n,
		    RECALL_MIN, PRECISION_MIN);
		fprintf(fp, "); %zu with a documented deviation, %zu without "
		    "a reference.**\n\n", dev, noref);
		fprintf(fp, "| file | pandoc words | our words | recall | "
		    "precision | order | result | note |\n");
		fprintf(fp, "|---|---|---|---|---|---|---|---|\n");
		for (i = 0; i < n; i++) {
			if (res[i].hasref)
				fprintf(fp, "| %s | %zu | %zu | %.3f | %.3f | "
				    "%.3f | %s | %s |\n", res[i].name,
				    res[i].nref, res[i].nours, res[i].recall,
				    res[i].precision, res[i].order,
				    res[i].ok ? "pass" : "FAIL", res[i].note);
			else
				fprintf(fp, "| %s | - | - | - | - | - | %s | "
				    "%s |\n", res[i].name,
				    res[i].ok ? "pass" : "FAIL", res[i].note);
		}
		(void)fclose(fp);
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	free(res);
	return pass == n ? 0 : 1;
}

/* A course-plan-like document through every call of the writer. */
static int
sample(const char *path)
{
	static const char *const cells[] = {
		"Semaine", "Sujet", "\xc3\x89valuation",
		"1", "Introduction", NULL,
		"2", "Lois de Newton", "Quiz 1 (10 %)",
	};
	struct rl_docxw	*w;
	struct rl_error	 e;

	if ((w = rl_docxw_new()) == NULL)
		return 1;
	(void)rl_docxw_heading(w, 0, "Plan de cours");
	(void)rl_docxw_heading(w, 1, "Pr\xc3\xa9sentation du cours");
	(void)rl_docxw_para(w, "Ce cours pr\xc3\xa9sente la m\xc3\xa9"
	    "canique.\nDeuxi\xc3\xa8me ligne.");
	(void)rl_docxw_heading(w, 2, "Objectifs");
	(void)rl_docxw_list_item(w, 0, 0, "Comprendre");
	(void)rl_docxw_list_item(w, 1, 0, "les forces");
	(void)rl_docxw_list_item(w, 0, 0, "Appliquer");
	(void)rl_docxw_heading(w, 2, "\xc3\x89tapes");
	(void)rl_docxw_list_item(w, 0, 1, "Lire");
	(void)rl_docxw_list_item(w, 1, 1, "le chapitre 1");
	(void)rl_docxw_list_item(w, 0, 1, "R\xc3\xa9soudre");
	(void)rl_docxw_heading(w, 1, "Calendrier");
	(void)rl_docxw_table(w, 3, 3, cells);
	if (rl_docxw_save(w, path, &e) != RL_OK) {
		fprintf(stderr, "%s: %s\n", path, e.msg);
		rl_docxw_free(w);
		return 1;
	}
	rl_docxw_free(w);
	return 0;
}

/* Time spent in rl_docx_text alone, as a resident program spends it. */
static int
timing(int rounds, int nfiles, char *files[])
{
	struct timespec	 t0, t1;
	struct rl_error	 e;
	char		*text;
	size_t		 len;
	int		 r, i;

	if (rounds < 1 || nfiles < 1)
		return 2;
	(void)clock_gettime(CLOCK_MONOTONIC, &t0);
	for (r = 0; r < rounds; r++)
		for (i = 0; i < nfiles; i++)
			if (rl_docx_text(files[i], &text, &len, &e) == RL_OK)
				free(text);
	(void)clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("%.4f\n", ((double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9) / rounds);
	return 0;
}

int
main(int argc, char *argv[])
{
	struct rl_error	 e;
	char		*text;
	size_t		 len;
	int		 i, rc = 0;

	if (argc >= 3 && strcmp(argv[1], "-c") == 0)
		return conformance(argv[2], argc == 5 &&
		    strcmp(argv[3], "-o") == 0 ? argv[4] : NULL);
	if (argc == 3 && strcmp(argv[1], "-w") == 0)
		return sample(argv[2]);
	if (argc >= 4 && strcmp(argv[1], "-t") == 0)
		return timing((int)strtol(argv[2], NULL, 10), argc - 3,
		    argv + 3);
	if (argc == 3 && strcmp(argv[1], "-e") == 0) {
		if (rl_docx_text(argv[2], &text, &len, &e) == RL_OK) {
			puts("ok");
			free(text);
		} else
			printf("%s\t%s\n", rl_err_token(e.code), e.msg);
		return 0;
	}
	if (argc < 2) {
		fprintf(stderr, "usage: docx-text FILE... | -e FILE | "
		    "-w FILE | -t N FILE... | -c DIR [-o REPORT]\n");
		return 2;
	}
	for (i = 1; i < argc; i++) {
		if (rl_docx_text(argv[i], &text, &len, &e) != RL_OK) {
			fprintf(stderr, "%s: %s: %s\n", argv[i],
			    rl_err_token(e.code), e.msg);
			rc = 1;
			continue;
		}
		if (len > 0 && fwrite(text, 1, len, stdout) != len)
			rc = 1;
		free(text);
	}
	return rc;
}
