/* worker.c: being written (issue 4). */
#include "config.h"

#include "worker.h"

extern int rl_worker_stub_;
