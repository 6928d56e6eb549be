/* The runc/crun-compatible command line (`nook-runtime VERB` / `nook runtime VERB`). */
#ifndef NOOK_SRC_RUNTIME_CLI_H
#define NOOK_SRC_RUNTIME_CLI_H

#include "runtime/container.h"
#include "util/error.h"

struct rt_global
{
  struct nook_runtime_ctx ctx;
  const char *prog; /* "nook-runtime" */
};

/* Each verb: parse its flags, call one library function, print. Returns the exit status. */
int rt_create (struct rt_global *g, int argc, char **argv);
int rt_run (struct rt_global *g, int argc, char **argv);
int rt_start (struct rt_global *g, int argc, char **argv);
int rt_kill (struct rt_global *g, int argc, char **argv);
int rt_delete (struct rt_global *g, int argc, char **argv);
int rt_state (struct rt_global *g, int argc, char **argv);
int rt_list (struct rt_global *g, int argc, char **argv);
int rt_ps (struct rt_global *g, int argc, char **argv);
int rt_exec (struct rt_global *g, int argc, char **argv);
int rt_spec (struct rt_global *g, int argc, char **argv);
int rt_features (struct rt_global *g, int argc, char **argv);
int rt_pause (struct rt_global *g, int argc, char **argv);
int rt_resume (struct rt_global *g, int argc, char **argv);
int rt_update (struct rt_global *g, int argc, char **argv);
int rt_events (struct rt_global *g, int argc, char **argv);

int runtime_main (int argc, char **argv);

/* Print ERR once and return its exit status. */
int rt_fail (struct rt_global *g, const nook_err *err);
/* Usage error: print and return 125. */
int rt_usage (struct rt_global *g, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

#define NOOK_VERSION "0.1.0"

#endif
