/*
 * docx.h: DOCX to Markdown-like text, the way EDxo feeds a course plan to
 * the model: headings as "#", lists as "- " or "1. ", tables between
 * "TABLE n:" and "ENDTABLE", blocks separated by blank lines.  The only
 * module that includes <expat.h>; the archive is read through zipio.
 */
#ifndef RL_DOCX_H
#define RL_DOCX_H

#include <stddef.h>

#include "relais.h"

struct rl_zip;

/*
 * Appended when the text reached RL_DOCX_TEXT_MAX and the rest of the
 * document was not read; callers may look for it at the end.
 */
#define RL_DOCX_TRUNCATED	"\n\n[... document truncated ...]\n"

enum rl_err	 rl_docx_text(const char *, char **, size_t *,
		    struct rl_error *);
enum rl_err	 rl_docx_text_mem(const void *, size_t, char **, size_t *,
		    struct rl_error *);
enum rl_err	 rl_docx_text_zip(struct rl_zip *, char **, size_t *,
		    struct rl_error *);

#endif /* RL_DOCX_H */
