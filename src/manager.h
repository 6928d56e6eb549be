/* nook's podman-compatible command line (the manager).  Each command parses its flags, calls one
 * library function, prints. */
#ifndef NOOK_SRC_MANAGER_H
#define NOOK_SRC_MANAGER_H

#include <getopt.h>
#include <jansson.h>
#include <stdbool.h>

#include "store/store.h"
#include "util/error.h"

struct mgr
{
  const char *root;     /* --root: the store */
  const char *runroot;  /* --runroot: runtime state */
  struct nook_store *store; /* opened on first use */
  const char *runroot_resolved; /* --runroot or the default */
  char **argv;              /* the whole command line (Config.CreateCommand) */
};

/* Print "Error: MSG" once; return the exit status (125 unless the error says otherwise). */
int mgr_fail (const nook_err *err);
int mgr_usage (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));
/* The store, opened on first use (NULL with ERR on failure). */
struct nook_store *mgr_store (struct mgr *m, nook_err *err);
/* getopt_long over a command's argv (flags before or after positional arguments, like podman); returns
 * the option or -1; unknown flags print "Error: unknown flag: --x" and return '?'. */
int mgr_getopt (int argc, char **argv, const char *shortopts, const struct option *longopts);
/* Parse a podman boolean flag value: NULL or "true" -> 1, "false" -> 0, else -1. */
int mgr_bool (const char *v);
/* Print rows (array of objects) with --format TMPL (Go template, "table" aware, "json" for the array), or
 * return 1 when TMPL is NULL so the caller prints its default table. */
int mgr_print_format (const char *tmpl, json_t *rows, nook_err *err);
/* `inspect` output: the array as indented JSON, or each element through --format TMPL. */
int mgr_print_inspect (const char *tmpl, json_t *all, nook_err *err);

int cmd_pull (struct mgr *m, int argc, char **argv);
int cmd_images (struct mgr *m, int argc, char **argv);
int cmd_rmi (struct mgr *m, int argc, char **argv);
int cmd_tag (struct mgr *m, int argc, char **argv);
int cmd_image_inspect (struct mgr *m, int argc, char **argv);
int cmd_image_exists (struct mgr *m, int argc, char **argv);
int cmd_image_prune (struct mgr *m, int argc, char **argv);
int cmd_save (struct mgr *m, int argc, char **argv);
int cmd_load (struct mgr *m, int argc, char **argv);
int cmd_import (struct mgr *m, int argc, char **argv);
int cmd_login (struct mgr *m, int argc, char **argv);
int cmd_logout (struct mgr *m, int argc, char **argv);

int cmd_run (struct mgr *m, int argc, char **argv);
int cmd_create (struct mgr *m, int argc, char **argv);
int cmd_start (struct mgr *m, int argc, char **argv);
int cmd_stop (struct mgr *m, int argc, char **argv);
int cmd_restart (struct mgr *m, int argc, char **argv);
int cmd_kill (struct mgr *m, int argc, char **argv);
int cmd_rm (struct mgr *m, int argc, char **argv);
int cmd_wait (struct mgr *m, int argc, char **argv);
int cmd_exec (struct mgr *m, int argc, char **argv);
int cmd_attach (struct mgr *m, int argc, char **argv);
int cmd_rename (struct mgr *m, int argc, char **argv);
int cmd_container_exists (struct mgr *m, int argc, char **argv);
int cmd_container_prune (struct mgr *m, int argc, char **argv);
int cmd_ps (struct mgr *m, int argc, char **argv);
int cmd_inspect (struct mgr *m, int argc, char **argv);
int cmd_logs (struct mgr *m, int argc, char **argv);
int cmd_top (struct mgr *m, int argc, char **argv);
int cmd_port (struct mgr *m, int argc, char **argv);
int cmd_cp (struct mgr *m, int argc, char **argv);

int manager_main (int argc, char **argv);

#endif
