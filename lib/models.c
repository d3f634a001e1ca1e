/* models.c: being written (issue 4). */
#include "config.h"

#include "models.h"

extern int rl_models_stub_;
