/* The runtime <-> container-init conversation: fixed-size records over a SOCK_SEQPACKET socketpair. */
#ifndef NOOK_RUNTIME_SYNC_H
#define NOOK_RUNTIME_SYNC_H

#include <sys/types.h>

#include "util/error.h"

enum nook_sync_type
{
  NOOK_SYNC_MAP_REQUEST = 1, /* child -> runtime: user namespace created, write my id maps */
  NOOK_SYNC_MAPPED,          /* runtime -> child */
  NOOK_SYNC_PID,             /* stage 1 -> runtime: the init's pid (value) */
  NOOK_SYNC_CGROUP_DONE,     /* runtime -> init: placed in its cgroup, go on */
  NOOK_SYNC_TTY,             /* init -> runtime: a pty master follows (SCM_RIGHTS) */
  NOOK_SYNC_NS_FDS,          /* init -> runtime: its network, then user namespace follow (SCM_RIGHTS) */
  NOOK_SYNC_CREATED,         /* init -> runtime: rootfs ready, waiting for start */
  NOOK_SYNC_START,           /* runtime -> init */
  NOOK_SYNC_ERROR,           /* either way: err is filled; the sender exits */
  NOOK_SYNC_SECCOMP_FD,      /* init/exec process -> runtime: a seccomp notify fd follows (SCM_RIGHTS) */
};

struct nook_sync_msg
{
  int type;
  int value;
  nook_err err;
};

int nook_sync_send (int fd, int type, int value, nook_err *err);
/* Send an error record (best effort: used on the way out). */
void nook_sync_send_error (int fd, const nook_err *failure);
/* Receive one record.  EOF is an error with err->code EPIPE ("container init exited before ..."). A received ERROR record is
 * copied into ERR and returns -1. */
int nook_sync_recv (int fd, struct nook_sync_msg *msg, nook_err *err);
/* Receive and require TYPE. */
int nook_sync_expect (int fd, int type, struct nook_sync_msg *msg, nook_err *err);

#endif
