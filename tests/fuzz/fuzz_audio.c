/*
 * fuzz_audio.c: libFuzzer harness for the recording reader (lib/audio.c).
 *
 * Input layout: byte 0 picks the format to read as (0: the one sniffed,
 * else 1 + byte 0 % RL_AUDIO__MAX), the rest is the file, copied to its
 * own allocation so that ASan sees a read past its end.  The reader must
 * return a positive duration within RL_AUDIO_SECONDS_MAX or
 * RL_EVALIDATION, nothing else; the sniffed format and the duration of a
 * file must not depend on the bytes after it.  Any other outcome aborts.
 *
 * Build (DIR holds an empty config.h for a hand build):
 *   clang -fsanitize=fuzzer,address,undefined -IDIR -Ilib \
 *     lib/audio.c lib/err.c tests/fuzz/fuzz_audio.c
 * Run:
 *   mkdir -p /tmp/corpus && ./a.out -max_total_time=60 /tmp/corpus
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "relais.h"
#include "bounds.h"
#include "audio.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rl_error		 e;
	enum rl_audio_fmt	 f;
	enum rl_err		 err;
	unsigned char		*b;
	long long		 ms;
	size_t			 n;

	if (size < 1)
		return 0;
	n = size - 1;
	if ((b = malloc(n > 0 ? n : 1)) == NULL)
		abort();
	memcpy(b, data + 1, n);
	f = data[0] == 0 ? rl_audio_sniff(b, n) :
	    (enum rl_audio_fmt)(1 + data[0] % (RL_AUDIO__MAX - 1));
	err = rl_audio_duration(f, b, n, &ms, &e);
	if (err == RL_OK && (ms <= 0 || ms / 1000 > RL_AUDIO_SECONDS_MAX))
		abort();
	if (err != RL_OK && err != RL_EVALIDATION)
		abort();
	free(b);
	return 0;
}
