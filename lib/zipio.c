/*
 * zipio.c: bounded zip reading and writing over libzip, the only file that
 * includes <zip.h>.
 *
 * libzip trusts what an archive says about itself: an entry whose headers
 * declare 1000 bytes may inflate to gigabytes, and zip_fread hands them
 * over without complaint (observed with libzip 1.7.3, ZIP_CHECKCONS set).
 * So sizes declared in headers only let us refuse early; what protects
 * memory is the count of bytes actually inflated, taken while reading and
 * never allowed past the declared size, the per-entry cap or the
 * per-archive total.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <zip.h>

#include "relais.h"
#include "bounds.h"
#include "zipio.h"

/*
 * Modification time written for every entry, so that the same content
 * always gives the same bytes (tests compare archives; caches can too).
 */
#define ZIPW_MTIME	((time_t)1577836800)	/* 2020-01-01 */

struct rl_zip {
	zip_t			*za;
	struct rl_zip_limits	 lim;
	size_t			 nentries;
	size_t			 total;		/* bytes inflated so far */
};

struct rl_zipw {
	zip_source_t	*src;	/* the growing archive, kept past zip_close */
	zip_t		*za;
};

void
rl_zip_limits_default(struct rl_zip_limits *lim)
{

	lim->archive_max = RL_DOCX_FILE_MAX;
	lim->entries_max = RL_ZIP_MAX_ENTRIES;
	lim->entry_max = RL_ZIP_ENTRY_MAX;
	lim->total_max = RL_ZIP_TOTAL_MAX;
	lim->ratio_max = RL_ZIP_MAX_RATIO;
	lim->ratio_min = RL_ZIP_RATIO_MIN;
}

/*
 * Our code for a libzip error: out of memory is RL_ENOMEM, anything else
 * is dflt.  Reading, that is RL_EFORM: a damaged archive makes libzip
 * report seek and read errors too (an offset past the end), and the file
 * itself was opened and measured before libzip saw it.
 */
static enum rl_err
zerr_set(struct rl_error *e, zip_error_t *ze, enum rl_err dflt,
    const char *what)
{

	if (zip_error_code_zip(ze) == ZIP_ER_MEMORY)
		return rl_error_set(e, RL_ENOMEM, "%s: out of memory", what);
	if (zip_error_code_zip(ze) == ZIP_ER_NOZIP)
		return rl_error_set(e, dflt, "%s: not a zip archive", what);
	return rl_error_set(e, dflt, "%s: %s", what, zip_error_strerror(ze));
}

/* Takes src in every case: it belongs to the archive or is freed. */
static enum rl_err
open_source(zip_source_t *src, const struct rl_zip_limits *lim,
    struct rl_zip **zp, struct rl_error *e)
{
	struct rl_zip	*z = NULL;
	zip_error_t	 ze;
	zip_int64_t	 n;
	enum rl_err	 rc;

	zip_error_init(&ze);
	if ((z = calloc(1, sizeof(*z))) == NULL) {
		zip_source_free(src);
		rc = rl_error_set(e, RL_ENOMEM, "zip: out of memory");
		goto out;
	}
	if (lim != NULL)
		z->lim = *lim;
	else
		rl_zip_limits_default(&z->lim);
	/*
	 * No ZIP_CHECKCONS: Word-compatible writers leave harmless
	 * differences between local and central headers (pandoc's
	 * alternate_document_path.docx fails it), and it guards nothing
	 * that the counted reads below do not.
	 */
	if ((z->za = zip_open_from_source(src, ZIP_RDONLY, &ze)) == NULL) {
		zip_source_free(src);
		rc = zerr_set(e, &ze, RL_EFORM, "zip");
		goto out;
	}
	if ((n = zip_get_num_entries(z->za, 0)) < 0) {
		rc = rl_error_set(e, RL_EFORM, "zip: unreadable directory");
		goto out;
	}
	if ((zip_uint64_t)n > z->lim.entries_max) {
		rc = rl_error_set(e, RL_ETOOBIG,
		    "zip: %lld entries (at most %zu)", (long long)n,
		    z->lim.entries_max);
		goto out;
	}
	z->nentries = (size_t)n;
	*zp = z;
	z = NULL;
	rc = RL_OK;
out:
	rl_zip_close(z);
	zip_error_fini(&ze);
	return rc;
}

/*
 * Opens an archive held in memory.  The bytes are borrowed: they must
 * stay unchanged until rl_zip_close.  NULL limits mean the defaults.
 */
enum rl_err
rl_zip_open_mem(const void *buf, size_t len, const struct rl_zip_limits *lim,
    struct rl_zip **zp, struct rl_error *e)
{
	struct rl_zip_limits	 def;
	zip_source_t		*src;
	zip_error_t		 ze;
	enum rl_err		 rc;

	*zp = NULL;
	zip_error_init(&ze);
	if (lim == NULL) {
		rl_zip_limits_default(&def);
		lim = &def;
	}
	if (len > lim->archive_max) {
		rc = rl_error_set(e, RL_ETOOBIG,
		    "zip: archive of %zu bytes (at most %zu)", len,
		    lim->archive_max);
		goto out;
	}
	if ((src = zip_source_buffer_create(len > 0 ? buf : "", len, 0,
	    &ze)) == NULL) {
		rc = zerr_set(e, &ze, RL_EFORM, "zip");
		goto out;
	}
	rc = open_source(src, lim, zp, e);
out:
	zip_error_fini(&ze);
	return rc;
}

/*
 * Opens an archive file.  Its size is taken from the open descriptor, so
 * the file checked is the file read.
 */
enum rl_err
rl_zip_open_file(const char *path, const struct rl_zip_limits *lim,
    struct rl_zip **zp, struct rl_error *e)
{
	struct rl_zip_limits	 def;
	struct stat		 sb;
	zip_source_t		*src;
	zip_error_t		 ze;
	FILE			*fp;
	enum rl_err		 rc;

	*zp = NULL;
	zip_error_init(&ze);
	if (lim == NULL) {
		rl_zip_limits_default(&def);
		lim = &def;
	}
	if ((fp = fopen(path, "rbe")) == NULL) {
		rc = rl_error_set(e, errno == ENOENT ? RL_ENOTFOUND : RL_EIO,
		    "%s: %s", path, strerror(errno));
		goto out;
	}
	if (fstat(fileno(fp), &sb) == -1 || !S_ISREG(sb.st_mode)) {
		(void)fclose(fp);
		rc = rl_error_set(e, RL_EIO, "%s: not a regular file", path);
		goto out;
	}
	if ((unsigned long long)sb.st_size > lim->archive_max) {
		(void)fclose(fp);
		rc = rl_error_set(e, RL_ETOOBIG,
		    "zip: archive of %lld bytes (at most %zu)",
		    (long long)sb.st_size, lim->archive_max);
		goto out;
	}
	/* The source owns fp from here, on success. */
	if ((src = zip_source_filep_create(fp, 0, -1, &ze)) == NULL) {
		(void)fclose(fp);
		rc = zerr_set(e, &ze, RL_EFORM, "zip");
		goto out;
	}
	rc = open_source(src, lim, zp, e);
out:
	zip_error_fini(&ze);
	return rc;
}

size_t
rl_zip_entries(const struct rl_zip *z)
{

	return z->nentries;
}

/*
 * Reads one entry, found by name in any case (OPC part names are
 * case-insensitive), into a new NUL-terminated buffer the caller frees.
 * RL_ENOTFOUND when there is no such entry; RL_ETOOBIG when a cap is hit;
 * RL_EFORM when the entry is encrypted, uses another compression than
 * store or deflate, is damaged, or inflates to a size other than the one
 * its header declares.
 */
enum rl_err
rl_zip_read(struct rl_zip *z, const char *name, char **data, size_t *len,
    struct rl_error *e)
{
	zip_stat_t	 st;
	zip_file_t	*zf = NULL;
	zip_int64_t	 idx, r = 0;
	size_t		 cap, want, got = 0;
	char		*buf = NULL;
	enum rl_err	 rc;

	*data = NULL;
	*len = 0;
	if ((idx = zip_name_locate(z->za, name, ZIP_FL_NOCASE)) < 0) {
		rc = rl_error_set(e, RL_ENOTFOUND, "zip: no entry %s", name);
		goto out;
	}
	zip_stat_init(&st);
	if (zip_stat_index(z->za, (zip_uint64_t)idx, 0, &st) == -1 ||
	    (st.valid & (ZIP_STAT_SIZE | ZIP_STAT_COMP_SIZE |
	    ZIP_STAT_COMP_METHOD)) != (ZIP_STAT_SIZE | ZIP_STAT_COMP_SIZE |
	    ZIP_STAT_COMP_METHOD)) {
		rc = rl_error_set(e, RL_EFORM, "zip: %s: unreadable header",
		    name);
		goto out;
	}
	if ((st.valid & ZIP_STAT_ENCRYPTION_METHOD) &&
	    st.encryption_method != ZIP_EM_NONE) {
		rc = rl_error_set(e, RL_EFORM, "zip: %s is encrypted", name);
		goto out;
	}
	if (st.comp_method != ZIP_CM_STORE &&
	    st.comp_method != ZIP_CM_DEFLATE) {
		rc = rl_error_set(e, RL_EFORM,
		    "zip: %s uses compression method %d", name,
		    (int)st.comp_method);
		goto out;
	}
	cap = z->lim.entry_max;
	if (z->lim.total_max - z->total < cap)
		cap = z->lim.total_max - z->total;
	if (st.size > cap) {
		rc = rl_error_set(e, RL_ETOOBIG,
		    "zip: %s declares %llu bytes (at most %zu here)", name,
		    (unsigned long long)st.size, cap);
		goto out;
	}
	if (st.size > z->lim.ratio_min && (st.comp_size == 0 ||
	    st.size / st.comp_size > z->lim.ratio_max)) {
		rc = rl_error_set(e, RL_ETOOBIG,
		    "zip: %s: compression ratio over %zu:1", name,
		    z->lim.ratio_max);
		goto out;
	}
	/*
	 * The declared size is within the caps, so the buffer is bounded; we
	 * ask for one byte more than declared to catch a header that lies.
	 */
	want = (size_t)st.size + 1;
	if ((buf = malloc(want)) == NULL) {
		rc = rl_error_set(e, RL_ENOMEM, "zip: out of memory");
		goto out;
	}
	if ((zf = zip_fopen_index(z->za, (zip_uint64_t)idx, 0)) == NULL) {
		rc = zerr_set(e, zip_get_error(z->za), RL_EFORM, name);
		goto out;
	}
	while (got < want &&
	    (r = zip_fread(zf, buf + got, want - got)) > 0)
		got += (size_t)r;
	if (got < want && r < 0) {
		rc = zerr_set(e, zip_file_get_error(zf), RL_EFORM, name);
		goto out;
	}
	z->total += got;
	if (got > (size_t)st.size) {
		rc = rl_error_set(e, RL_EFORM,
		    "zip: %s inflates past the %llu bytes its header "
		    "declares", name, (unsigned long long)st.size);
		goto out;
	}
	if (got < (size_t)st.size) {
		rc = rl_error_set(e, RL_EFORM,
		    "zip: %s is shorter than its header declares", name);
		goto out;
	}
	buf[got] = '\0';
	*data = buf;
	*len = got;
	buf = NULL;
	rc = RL_OK;
out:
	if (zf != NULL)
		(void)zip_fclose(zf);
	free(buf);
	if (rc != RL_OK)
		rl_error_where(e, name);
	return rc;
}

void
rl_zip_close(struct rl_zip *z)
{

	if (z == NULL)
		return;
	if (z->za != NULL)
		zip_discard(z->za);
	free(z);
}

/* A new empty archive in memory, or NULL when out of memory. */
struct rl_zipw *
rl_zipw_new(void)
{
	struct rl_zipw	*w;
	zip_error_t	 ze;

	zip_error_init(&ze);
	if ((w = calloc(1, sizeof(*w))) == NULL)
		goto out;
	if ((w->src = zip_source_buffer_create(NULL, 0, 0, &ze)) == NULL)
		goto fail;
	if ((w->za = zip_open_from_source(w->src, ZIP_TRUNCATE, &ze)) ==
	    NULL) {
		zip_source_free(w->src);
		goto fail;
	}
	/* One reference for us, so the bytes outlive zip_close. */
	zip_source_keep(w->src);
	goto out;
fail:
	free(w);
	w = NULL;
out:
	zip_error_fini(&ze);
	return w;
}

/* Adds an entry (deflated) with a copy of len bytes. */
enum rl_err
rl_zipw_add(struct rl_zipw *w, const char *name, const void *data,
    size_t len, struct rl_error *e)
{
	zip_source_t	*s;
	zip_int64_t	 idx;
	void		*copy;
	enum rl_err	 rc;

	copy = NULL;
	if (len > 0 && (copy = malloc(len)) == NULL) {
		rc = rl_error_set(e, RL_ENOMEM, "zip: out of memory");
		goto out;
	}
	if (len > 0)
		memcpy(copy, data, len);
	/* freep: libzip frees the copy with the source. */
	if ((s = zip_source_buffer(w->za, copy, len, copy != NULL)) == NULL) {
		free(copy);
		rc = zerr_set(e, zip_get_error(w->za), RL_EINTERNAL,
		    name);
		goto out;
	}
	if ((idx = zip_file_add(w->za, name, s, ZIP_FL_ENC_UTF_8)) < 0) {
		zip_source_free(s);
		rc = zerr_set(e, zip_get_error(w->za), RL_EINTERNAL,
		    name);
		if (zip_error_code_zip(zip_get_error(w->za)) == ZIP_ER_EXISTS)
			rc = rl_error_set(e, RL_EINVAL,
			    "zip: %s added twice", name);
		goto out;
	}
	if (zip_set_file_compression(w->za, (zip_uint64_t)idx,
	    ZIP_CM_DEFLATE, 0) == -1 ||
	    zip_file_set_mtime(w->za, (zip_uint64_t)idx, ZIPW_MTIME, 0) ==
	    -1) {
		rc = zerr_set(e, zip_get_error(w->za), RL_EINTERNAL,
		    name);
		goto out;
	}
	rc = RL_OK;
out:
	return rc;
}

/*
 * Writes the archive and hands its bytes to the caller (malloc'd, freed
 * with free).  Frees w whatever happens.
 */
enum rl_err
rl_zipw_finish(struct rl_zipw *w, void **out, size_t *outlen,
    struct rl_error *e)
{
	zip_stat_t	 st;
	zip_int64_t	 r = 0;
	size_t		 got = 0;
	char		*buf = NULL;
	int		 opened = 0;
	enum rl_err	 rc;

	*out = NULL;
	*outlen = 0;
	if (zip_close(w->za) == -1) {
		rc = zerr_set(e, zip_get_error(w->za), RL_EINTERNAL,
		    "zip");
		goto out;
	}
	w->za = NULL;
	if (zip_source_open(w->src) == -1) {
		rc = zerr_set(e, zip_source_error(w->src),
		    RL_EINTERNAL, "zip");
		goto out;
	}
	opened = 1;
	zip_stat_init(&st);
	if (zip_source_stat(w->src, &st) == -1 ||
	    !(st.valid & ZIP_STAT_SIZE)) {
		rc = zerr_set(e, zip_source_error(w->src),
		    RL_EINTERNAL, "zip");
		goto out;
	}
	if ((buf = malloc(st.size > 0 ? st.size : 1)) == NULL) {
		rc = rl_error_set(e, RL_ENOMEM, "zip: out of memory");
		goto out;
	}
	while (got < st.size &&
	    (r = zip_source_read(w->src, buf + got, st.size - got)) > 0)
		got += (size_t)r;
	if (got != st.size) {
		rc = rl_error_set(e, RL_EINTERNAL,
		    "zip: archive read back short");
		goto out;
	}
	*out = buf;
	*outlen = got;
	buf = NULL;
	rc = RL_OK;
out:
	if (opened)
		(void)zip_source_close(w->src);
	free(buf);
	rl_zipw_free(w);
	return rc;
}

/* Discards an archive being written.  NULL is allowed. */
void
rl_zipw_free(struct rl_zipw *w)
{

	if (w == NULL)
		return;
	if (w->za != NULL)
		zip_discard(w->za);
	zip_source_free(w->src);
	free(w);
}
