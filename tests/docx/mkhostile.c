/*
 * mkhostile: writes the hostile documents of hostile.h to DIR as
 * NAME.docx, plus DIR/expected.tsv ("NAME.docx<TAB>code token<TAB>why"),
 * for tests/conformance/docx.sh and as seeds for tests/fuzz/fuzz_docx.c.
 *
 * usage: mkhostile DIR
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "relais.h"
#include "../docx/hostile.h"

static int
writefile(const char *path, const void *buf, size_t len)
{
	FILE	*fp;
	int	 rc = 0;

	if ((fp = fopen(path, "wb")) == NULL)
		return -1;
	if (len > 0 && fwrite(buf, 1, len, fp) != len)
		rc = -1;
	if (fclose(fp) == EOF)
		rc = -1;
	return rc;
}

int
main(int argc, char *argv[])
{
	char	 path[4096];
	FILE	*tsv;
	void	*buf;
	size_t	 len, i;
	int	 rc = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: mkhostile DIR\n");
		return 2;
	}
	(void)snprintf(path, sizeof(path), "%s/expected.tsv", argv[1]);
	if ((tsv = fopen(path, "w")) == NULL) {
		perror(path);
		return 1;
	}
	for (i = 0; i < NHOSTILE; i++) {
		if (hostiles[i].make(&buf, &len) == -1) {
			fprintf(stderr, "mkhostile: cannot build %s\n",
			    hostiles[i].name);
			rc = 1;
			continue;
		}
		(void)snprintf(path, sizeof(path), "%s/%s.docx", argv[1],
		    hostiles[i].name);
		if (writefile(path, buf, len) == -1) {
			perror(path);
			rc = 1;
		}
		fprintf(tsv, "%s.docx\t%s\t%s\n", hostiles[i].name,
		    rl_err_token(hostiles[i].want), hostiles[i].why);
		free(buf);
	}
	if (fclose(tsv) == EOF)
		rc = 1;
	return rc;
}
