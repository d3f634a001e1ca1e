/*
 * docxw.h: a small DOCX writer (title, headings, paragraphs, bullet and
 * numbered lists, tables) whose output opens in Word, LibreOffice and
 * pandoc and reads back through rl_docx_text.
 */
#ifndef RL_DOCXW_H
#define RL_DOCXW_H

#include <stddef.h>

#include "relais.h"

/* A document being built (opaque). */
struct rl_docxw;

struct rl_docxw	*rl_docxw_new(void);
enum rl_err	 rl_docxw_heading(struct rl_docxw *, int, const char *);
enum rl_err	 rl_docxw_para(struct rl_docxw *, const char *);
enum rl_err	 rl_docxw_list_item(struct rl_docxw *, int, int,
		    const char *);
enum rl_err	 rl_docxw_table(struct rl_docxw *, size_t, size_t,
		    const char *const *);
enum rl_err	 rl_docxw_mem(struct rl_docxw *, void **, size_t *,
		    struct rl_error *);
enum rl_err	 rl_docxw_save(struct rl_docxw *, const char *,
		    struct rl_error *);
void		 rl_docxw_free(struct rl_docxw *);

#endif /* RL_DOCXW_H */
