/* What the runtime computes before it forks a container's init, and what the children run.
 * Internal to lib/runtime (container.c creates it, init.c runs in the children). */
#ifndef NOOK_RUNTIME_LAUNCH_H
#define NOOK_RUNTIME_LAUNCH_H

#include <stdbool.h>
#include <sys/types.h>

#include "runtime/container.h"
#include "runtime/security.h"
#include "runtime/spec.h"
#include "runtime/userns.h"

struct nook_launch
{
  const struct nook_create_opts *opts;
  struct nook_spec *spec;
  char *rootfs;                       /* absolute */
  const char *bundle;                 /* absolute */
  struct nook_seccomp_prog prog;
  bool has_prog;
  enum nook_idmap_method idmap;
  bool setgroups_allowed;
  bool rootless;              /* not the host's root (nook_rootless): a user namespace we did not create
                                 limits mounts and mknod as our own would */
  bool want_tty_fd;                   /* the init sends its pty master back */
  int ns_fds[NOOK_NS_COUNT];
  int sync_parent, sync_child;        /* SOCK_SEQPACKET pair */
  int listen_fd;                      /* start.sock: `start` connects here */
  int runtime_fds[2];                 /* the runtime's root and state dir fds: closed first thing in
                                         the child, so no runtime directory is reachable from inside */
};

/* Stage 1: runs in the first child; enters/creates the namespaces, forks the init (stage 2) as a child
 * of the runtime (CLONE_PARENT), reports its pid, exits. */
__attribute__ ((noreturn)) void nook_init_stage1 (struct nook_launch *l);

/* Where the init waits after "created": a START record on the sync socket (run) or on a connection
 * accepted from start.sock (start).  Returns the fd to report the exec outcome on. */
int nook_init_wait_start (int sync_fd, int listen_fd, nook_err *err);

#endif
