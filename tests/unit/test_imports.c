/*
 * test_imports: the pure part of lib/imports.c, the PDF page count on raw
 * bytes (docs/internals/imports.md says what it can and cannot see).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "imports.h"
#include "harness.h"

static int
pages(const char *s)
{

	return rl_import_pdf_pages(s, strlen(s));
}

int
main(void)
{
	char	*big;
	size_t	 i, n;

	ok(pages("") == 0, "nothing: no page");
	ok(pages("%PDF-1.4\n%%EOF\n") == 0, "a header alone: no page");
	ok(pages("%PDF-1.4 1 0 obj << /Type /Page >> endobj") == 1,
	    "one page object");
	ok(pages("<</Type/Page/Parent 2 0 R>>") == 1, "no space between names");
	ok(pages("<< /Type\r\n\t/Page >>") == 1, "any white space between");
	ok(pages("<< /Type % a comment\n/Page >>") == 1,
	    "a comment between /Type and /Page");
	ok(pages("<< /Type /Pages /Kids [3 0 R] /Count 1 >> "
	    "<< /Type /Page >>") == 1, "the /Pages node is not a page");
	ok(pages("<< /Type /PageLabel >> << /Type /Pagex >>") == 0,
	    "names that only begin with /Page are not pages");
	ok(pages("<< /Types /Page >>") == 0, "/Types is not /Type");
	ok(pages("<< /Count 500 /Type /Outlines >>") == 0,
	    "an outline's /Count is not a page count");
	ok(pages("<< /Type /Page >> << /Type /Page >> << /Type /Page>>") == 3,
	    "three pages, the last right before '>>'");
	ok(pages("x /Type /Page") == 1, "a page at the very end of the bytes");
	ok(pages("<< /Type /ObjStm /N 4 >> stream ... endstream") == -1,
	    "pages hidden in an object stream: unknown");
	ok(pages("<< /Type /ObjStm >> << /Type /Page >>") == 1,
	    "an object stream beside visible pages: those are counted");
	ok(pages("/Type") == 0 && pages("/Type /Pag") == 0,
	    "cut short: no page, no overread");

	/* Many pages: counted up to a cap far above the limit. */
	n = 20000;
	if ((big = malloc(n * 12 + 1)) == NULL)
		return 1;
	for (i = 0; i < n; i++)
		memcpy(big + i * 12, "/Type /Page ", 12);
	big[n * 12] = '\0';
	ok(rl_import_pdf_pages(big, n * 12) == RL_IMPORT_PDF_PAGES * 100,
	    "a hostile count stops at its cap (%d)", RL_IMPORT_PDF_PAGES * 100);
	ok(rl_import_pdf_pages(big, 12 * (RL_IMPORT_PDF_PAGES + 1)) ==
	    RL_IMPORT_PDF_PAGES + 1, "one page over the limit is seen");
	free(big);
	return done();
}
