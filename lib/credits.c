/* credits.c: being written (issue 4). */
#include "config.h"

#include "credits.h"

extern int rl_credits_stub_;
