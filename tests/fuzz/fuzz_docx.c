/*
 * fuzz_docx.c: libFuzzer harness for the DOCX reader (lib/docx.c over
 * lib/zipio.c).
 *
 * Byte 0 picks the target.  Even: the rest is a whole .docx (the zip layer:
 * directory, sizes, ratio, inflation).  Odd: the rest is word/document.xml,
 * zipped here into a minimal package, so mutations reach the XML mapping
 * instead of dying on a CRC; bit 1 adds a fixed styles.xml and
 * numbering.xml so headings and lists are exercised too.
 *
 * Properties checked beyond "no crash, no leak": a success gives text that
 * is NUL-terminated at len, valid UTF-8, at most RL_DOCX_TEXT_MAX plus the
 * truncation marker; a failure gives no text, a filled error and one of
 * the codes the reader documents (RL_EFORM, RL_ETOOBIG, RL_ENOMEM).
 *
 * Build (DIR holds an empty config.h for a hand build):
 *   clang -fsanitize=fuzzer,address,undefined -IDIR -Ilib \
 *     lib/docx.c lib/buf.c lib/zipio.c lib/err.c tests/fuzz/fuzz_docx.c \
 *     $(pkg-config --cflags --libs libzip expat)
 * Seeds: tests/docx/mkhostile DIR writes hostile ones; the pandoc fixtures
 * in ../shared/conformance/docx/pandoc are good whole-file seeds.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "relais.h"
#include "bounds.h"
#include "docx.h"
#include "zipio.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define W_NS	"http://schemas.openxmlformats.org/wordprocessingml/2006/main"

static const char rels[] =
    "<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/"
    "relationships\"><Relationship Id=\"1\" Type=\"http://schemas."
    "openxmlformats.org/officeDocument/2006/relationships/officeDocument\" "
    "Target=\"word/document.xml\"/></Relationships>";

static const char styles[] = "<w:styles xmlns:w=\"" W_NS "\">"
    "<w:style w:styleId=\"H1\"><w:name w:val=\"heading 1\"/></w:style>"
    "<w:style w:styleId=\"H2\"><w:name w:val=\"heading 2\"/>"
    "<w:basedOn w:val=\"H1\"/></w:style>"
    "<w:style w:styleId=\"L\"><w:pPr><w:numPr><w:numId w:val=\"1\"/>"
    "</w:numPr></w:pPr></w:style></w:styles>";

static const char numbering[] = "<w:numbering xmlns:w=\"" W_NS "\">"
    "<w:abstractNum w:abstractNumId=\"0\"><w:lvl w:ilvl=\"0\">"
    "<w:numFmt w:val=\"bullet\"/></w:lvl><w:lvl w:ilvl=\"1\">"
    "<w:numFmt w:val=\"lowerRoman\"/><w:lvlText w:val=\"%1.%2)\"/>"
    "</w:lvl></w:abstractNum><w:num w:numId=\"1\"><w:abstractNumId "
    "w:val=\"0\"/></w:num><w:num w:numId=\"2\"><w:abstractNumId "
    "w:val=\"0\"/><w:lvlOverride w:ilvl=\"1\"><w:startOverride "
    "w:val=\"5\"/></w:lvlOverride></w:num></w:numbering>";

static const char docrels[] =
    "<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/"
    "relationships\"><Relationship Id=\"1\" Type=\"http://schemas."
    "openxmlformats.org/officeDocument/2006/relationships/styles\" "
    "Target=\"styles.xml\"/><Relationship Id=\"2\" Type=\"http://schemas."
    "openxmlformats.org/officeDocument/2006/relationships/numbering\" "
    "Target=\"numbering.xml\"/></Relationships>";

static int
utf8_valid(const unsigned char *s, size_t n)
{
	size_t	 i = 0, k, len;

	while (i < n) {
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		len = s[i] >= 0xf0 ? 4 : s[i] >= 0xe0 ? 3 : s[i] >= 0xc0 ? 2 :
		    0;
		if (len == 0 || i + len > n)
			return 0;
		for (k = 1; k < len; k++)
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
		i += len;
	}
	return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rl_zipw	*w;
	struct rl_error	 e;
	void		*pkg = NULL;
	size_t		 plen, len;
	char		*text;
	enum rl_err	 rc;

	if (size < 1)
		return 0;
	if (data[0] & 1) {
		if ((w = rl_zipw_new()) == NULL)
			abort();
		if (rl_zipw_add(w, "_rels/.rels", rels, sizeof(rels) - 1,
		    NULL) != RL_OK ||
		    rl_zipw_add(w, "word/document.xml", data + 1, size - 1,
		    NULL) != RL_OK)
			abort();
		if ((data[0] & 2) &&
		    (rl_zipw_add(w, "word/_rels/document.xml.rels", docrels,
		    sizeof(docrels) - 1, NULL) != RL_OK ||
		    rl_zipw_add(w, "word/styles.xml", styles,
		    sizeof(styles) - 1, NULL) != RL_OK ||
		    rl_zipw_add(w, "word/numbering.xml", numbering,
		    sizeof(numbering) - 1, NULL) != RL_OK))
			abort();
		if (rl_zipw_finish(w, &pkg, &plen, NULL) != RL_OK)
			abort();
		rc = rl_docx_text_mem(pkg, plen, &text, &len, &e);
	} else
		rc = rl_docx_text_mem(data + 1, size - 1, &text, &len, &e);
	if (rc == RL_OK) {
		if (text == NULL || strlen(text) != len ||
		    len > RL_DOCX_TEXT_MAX + strlen(RL_DOCX_TRUNCATED) ||
		    !utf8_valid((const unsigned char *)text, len))
			abort();
		free(text);
	} else if (text != NULL || e.code != rc || e.msg[0] == '\0' ||
	    (rc != RL_EFORM && rc != RL_ETOOBIG && rc != RL_ENOMEM))
		abort();
	free(pkg);
	return 0;
}
