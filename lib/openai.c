/* openai.c: being written (issue 4). */
#include "config.h"

#include "openai.h"

extern int rl_openai_stub_;
