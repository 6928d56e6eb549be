/* The per-container monitor (conmon's role).  It is the parent of the container's init, owns its stdio
 * (pipes, or the pty master), writes the log (STORE/containers/<id>/userdata/ctr.log, k8s-file format:
 * "2024-05-01T10:00:00.123456789Z stdout F text" per line, "P" for a partial line; no line-length limit
 * that could block the container), serves attach clients on RUNROOT/<id>/attach.sock (stdin in, output
 * out), records the exit code and time in the record (State) and in userdata/exit, and removes the
 * container for --rm.
 *
 * The monitor always runs in a detached background process: the CLI forks, the child detaches (setsid)
 * and runs the monitor; the CLI waits on READY_FD until the container is running (or an error comes back).
 * Attached (`run` without -d, `start -a`): the CLI then calls nook_monitor_attach (WAIT_ATTACH set), which
 * puts the local terminal in raw mode for -t, handles the detach keys and proxies signals.
 * ATTACH_LOCAL is ignored.  SIG_PROXY: signals the monitor itself receives (INT TERM HUP QUIT USR1 USR2)
 * are forwarded to the container.
 *
 * Attach protocol (RUNROOT/<id>/attach.sock, SOCK_STREAM), frames [1 byte type][4 bytes BE length][payload]:
 *   client -> monitor: 1 stdin data, 2 window size (rows, cols: 2 bytes BE each), 3 stdin closed,
 *                      4 signal (1 byte: the number) to forward to the container, 5 ready (initial frames
 *                      sent: WAIT_ATTACH starts the container now)
 *   monitor -> client: 1 stdout, 2 stderr, 3 exit (payload: the decimal exit code), 4 start failed
 *                      ("STATUS MESSAGE") */
#ifndef NOOK_MANAGER_MONITOR_H
#define NOOK_MANAGER_MONITOR_H

#include <jansson.h>
#include <stdbool.h>

#include "runtime/overlay.h"
#include "store/store.h"
#include "util/error.h"

struct nook_monitor_opts
{
  struct nook_store *store;
  const char *id;
  const char *runroot;         /* runtime state root (the runtime's --root) */
  const struct nook_overlay *overlay;
  json_t *net;                 /* the record's Nook.network ({"mode", "ports"}); NULL: nothing to set up */
  bool tty, interactive;       /* -t, -i */
  bool attach_local;           /* attached: our own stdin/stdout/stderr are a client */
  bool sig_proxy;
  const char *detach_keys;     /* "ctrl-p,ctrl-q" or "" (none) */
  bool rm;                     /* remove the container when it exits */
  int ready_fd;                /* "ok\n" once running (then closed), or "err STATUS MESSAGE\n"; -1: none */
  bool wait_attach;            /* `run`/`start -a`: create the container, then start it only once the
                                  first attach client is connected (so no early output is missed).  READY_FD
                                  then says "ok" after the create; a failed start reaches the client instead
                                  (nook_monitor_attach returns -1, err->status 126/127/125).  No client
                                  within 60 s: started anyway. */
};

/* Create and start the runtime container, pump I/O until it exits, record the exit.  *EXIT_CODE: the
 * process's status (code, or 128+signal).  Returns -1 when the container could not start. */
int nook_monitor_run (const struct nook_monitor_opts *o, int *exit_code, nook_err *err);

/* Attach to a running container's monitor (attach, start -a): copy our stdin to it and its output to
 * our stdout until the container exits or the detach keys are typed.  *EXIT_CODE as above (-1 detached). */
int nook_monitor_attach (const char *runroot, const char *id, bool tty, bool interactive, const char *detach_keys,
                         int *exit_code, nook_err *err);
/* The same with --sig-proxy (nook_monitor_attach proxies, podman's default): SIGINT TERM HUP QUIT USR1 USR2
 * received by the client are sent to the container.  The detach keys work with TTY only. */
int nook_monitor_attach_full (const char *runroot, const char *id, bool tty, bool interactive, bool sig_proxy,
                              const char *detach_keys, int *exit_code, nook_err *err);

/* `logs`: print the log with options. */
struct nook_logs_opts
{
  bool follow, timestamps;
  const char *since, *until;   /* RFC 3339 or durations like "10m" */
  long tail;                   /* -1: all */
};
int nook_logs_print (struct nook_store *s, const char *id, const char *runroot, const struct nook_logs_opts *o,
                     nook_err *err);

#endif
