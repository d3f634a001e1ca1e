/* sseparse.c: being written (issue 4). */
#include "config.h"

#include "sseparse.h"

extern int rl_sseparse_stub_;
