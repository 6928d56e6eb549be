/* The manager's container verbs: what `nook run/create/start/stop/kill/rm/wait/exec/inspect/ps` do.
 * A container = a record in the store (ctrstore.h) + a runtime container under the runroot while it
 * runs, driven by its monitor (monitor.h). */
#ifndef NOOK_MANAGER_LIFECYCLE_H
#define NOOK_MANAGER_LIFECYCLE_H

#include <jansson.h>
#include <stdbool.h>

#include "manager/runopts.h"
#include "store/store.h"
#include "util/error.h"

struct nook_mgr
{
  struct nook_store *store;
  const char *runroot;   /* runtime state: /run/nook (root) or $XDG_RUNTIME_DIR/nook */
};

/* /run/nook for root; $XDG_RUNTIME_DIR/nook (set and non-empty), else /tmp/nook-run-UID.  Allocated. */
char *nook_runroot_default (void);

/* Resolve (pulling per --pull) the image, reserve the container, generate its spec and record.
 * ARGV is the command line, kept as Config.CreateCommand. */
int nook_ctr_create (struct nook_mgr *m, const struct nook_run_opts *o, char *const *argv, char **id, nook_err *err);
/* Start in the background (a detached monitor); returns once the container runs.  ATTACH: then attach
 * to it (stdin when INTERACTIVE) until it exits; *EXIT_CODE gets its status (-1 after a detach). */
int nook_ctr_start (struct nook_mgr *m, const char *id, bool attach, bool interactive, int *exit_code,
                    nook_err *err);
/* create + start; attached unless o->detach. */
int nook_ctr_run (struct nook_mgr *m, const struct nook_run_opts *o, char *const *argv, char **id, int *exit_code,
                  nook_err *err);
/* The record with its State brought up to date (a container that died without its monitor reads as
 * exited).  *RECORD is the podman-inspect object. */
int nook_ctr_inspect (struct nook_mgr *m, const char *id, json_t **record, nook_err *err);
/* Stop: the stop signal, TIMEOUT seconds (-1: the container's own), then SIGKILL. */
int nook_ctr_stop (struct nook_mgr *m, const char *id, int timeout, nook_err *err);
int nook_ctr_kill (struct nook_mgr *m, const char *id, int sig, nook_err *err);
/* Remove; FORCE stops a running container first (else error "... is running or paused"). */
int nook_ctr_remove (struct nook_mgr *m, const char *id, bool force, bool volumes, nook_err *err);
/* Wait until it exits; *EXIT_CODE. */
int nook_ctr_wait (struct nook_mgr *m, const char *id, int *exit_code, nook_err *err);

struct nook_ctr_exec_opts
{
  char **command;
  char **env;
  const char *user, *workdir;
  bool interactive, tty, detach, privileged;
  char *session_id;           /* with detach: 65 bytes that get the exec session's id (podman prints it) */
};
int nook_ctr_exec (struct nook_mgr *m, const char *id, const struct nook_ctr_exec_opts *o, int *exit_code,
                   nook_err *err);

/* `ps` rows (podman's fields: ID, Image, ImageID, Command, Created, CreatedAt, CreatedHuman, RunningFor,
 * Status, State, Ports, Names, Labels, Mounts, Pid, ExitCode, Exited, ExitedAt, StartedAt, AutoRemove,
 * Networks, IsInfra, Pod ...). ALL: include stopped ones. */
int nook_ctr_ps (struct nook_mgr *m, bool all, json_t **rows, nook_err *err);

#endif
