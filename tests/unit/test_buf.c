/*
 * test_buf.c: the bounded growable buffer (lib/buf.c): adds, printf,
 * the hard maximum, the sticky failure, take, reset and free.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "harness.h"

int
main(void)
{
	struct rl_buf	 b;
	char		 big[1000], *s;
	size_t		 n, i;

	rl_buf_init(&b, 16);
	ok(rl_buf_len(&b) == 0 && strcmp(rl_buf_str(&b), "") == 0 &&
	    b.s == NULL, "a new buffer is empty and holds no memory");
	ok(rl_buf_addstr(&b, "abc") == RL_OK && rl_buf_add(&b, "de", 2) ==
	    RL_OK && strcmp(rl_buf_str(&b), "abcde") == 0 &&
	    rl_buf_len(&b) == 5, "bytes and strings add up");
	ok(rl_buf_addf(&b, "-%d-%s", 42, "x") == RL_OK &&
	    strcmp(rl_buf_str(&b), "abcde-42-x") == 0, "printf appends");
	ok(rl_buf_add(&b, "", 0) == RL_OK && rl_buf_len(&b) == 10,
	    "adding nothing is fine");
	ok(rl_buf_addstr(&b, "123456") == RL_OK && rl_buf_len(&b) == 16,
	    "exactly the maximum fits");
	ok(b.cap <= 17, "never more memory than the maximum can use");
	ok(rl_buf_add(&b, "z", 1) == RL_ETOOBIG, "one byte more is refused");
	ok(rl_buf_err(&b) == RL_ETOOBIG && rl_buf_addstr(&b, "") ==
	    RL_ETOOBIG && rl_buf_addf(&b, "%s", "") == RL_ETOOBIG,
	    "the failure is sticky, even for an empty add");
	ok(strcmp(rl_buf_str(&b), "abcde-42-x123456") == 0,
	    "what came before the failure is still readable");
	s = rl_buf_take(&b, &n);
	ok(s == NULL && n == 0, "a failed buffer cannot be taken");
	ok(b.s == NULL && rl_buf_err(&b) == RL_OK && b.max == 16,
	    "after take the buffer is empty again, same maximum");

	ok(rl_buf_addf(&b, "%s", "0123456789abcdefg") == RL_ETOOBIG &&
	    rl_buf_len(&b) == 0, "printf past the maximum adds nothing");
	rl_buf_reset(&b);
	ok(rl_buf_err(&b) == RL_OK && rl_buf_addstr(&b, "ok") == RL_OK &&
	    strcmp(rl_buf_str(&b), "ok") == 0, "reset clears the failure");
	s = rl_buf_take(&b, &n);
	ok(s != NULL && strcmp(s, "ok") == 0 && n == 2, "take steals the text");
	free(s);
	s = rl_buf_take(&b, NULL);
	ok(s != NULL && *s == '\0', "an empty buffer takes as \"\"");
	free(s);

	/* Growth across several reallocations, with NUL bytes inside. */
	rl_buf_init(&b, 100000);
	memset(big, 'a', sizeof(big));
	big[500] = '\0';
	for (i = 0; i < 100; i++)
		if (rl_buf_add(&b, big, sizeof(big)) != RL_OK)
			break;
	ok(i == 100 && rl_buf_len(&b) == 100000 &&
	    memcmp(b.s + 1000 * 99, big, sizeof(big)) == 0 &&
	    b.s[100000] == '\0', "grows to the maximum, bytes intact");
	ok(rl_buf_add(&b, "", 0) == RL_OK && rl_buf_add(&b, "x", 1) ==
	    RL_ETOOBIG, "full means full");
	rl_buf_free(&b);
	ok(b.s == NULL && b.len == 0 && rl_buf_err(&b) == RL_OK,
	    "free leaves it as after init");

	/* A maximum that cannot overflow len + 1. */
	rl_buf_init(&b, (size_t)-1);
	ok(rl_buf_addstr(&b, "unbounded") == RL_OK && strcmp(rl_buf_str(&b),
	    "unbounded") == 0, "SIZE_MAX as the maximum works");
	ok(rl_buf_add(&b, "x", (size_t)-1) == RL_ETOOBIG,
	    "a length that cannot fit is refused before any allocation");
	rl_buf_free(&b);
	return done();
}
