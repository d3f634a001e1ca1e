/*
 * batch_export.h: the batch program's read-outs, in batch_export.c: the
 * history as a download, a collected batch's sections as Markdown or
 * Word, and the clean-up of old finished batches.  The route rows are in
 * batch.c; the tables are those of sql/0016_batches.sql.
 */
#ifndef BATCH_EXPORT_H
#define BATCH_EXPORT_H

#include "relais.h"

struct rl_req;

/* GET /batch/export?format=csv|json */
enum rl_err	 rl_batch_export_history(struct rl_req *, struct rl_error *);
/* GET /batch/<id>/results?format=md|docx */
enum rl_err	 rl_batch_results(struct rl_req *, struct rl_error *);
/* POST /batch/cleanup {days} */
enum rl_err	 rl_batch_cleanup(struct rl_req *, struct rl_error *);

#endif
