/* Container state under the runtime root: one directory per container, locked, written atomically.
 *
 *   ROOT/ID/state.json   what `state` reports, plus what later commands need (pid start time, cgroup)
 *   ROOT/ID/config.json  the spec the container was created with (exec starts from its process)
 *   ROOT/ID/start.sock   exists while the container is "created": its init waits on it for `start`
 *
 * A pid that is gone, or reused (start time differs), reads as stopped. */
#ifndef NOOK_RUNTIME_STATE_H
#define NOOK_RUNTIME_STATE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/error.h"

#define NOOK_ID_MAX 255

enum nook_status
{
  NOOK_STATUS_CREATING,
  NOOK_STATUS_CREATED,
  NOOK_STATUS_RUNNING,
  NOOK_STATUS_PAUSED,   /* running, its cgroup frozen */
  NOOK_STATUS_STOPPED,
};

/* Created, running or paused: the init lives. */
static inline bool
nook_status_alive (enum nook_status s)
{
  return s == NOOK_STATUS_CREATED || s == NOOK_STATUS_RUNNING || s == NOOK_STATUS_PAUSED;
}

struct nook_state
{
  char *id;
  char *bundle;
  char *rootfs;
  pid_t pid;
  uint64_t start_time;
  char *created;        /* RFC 3339 */
  char *owner;
  bool rootless;
  bool setgroups_allowed;
  json_t *annotations;  /* object */
  json_t *cgroup;       /* nook_cgroup_to_json(), or NULL */
  uint64_t mntns_dev, mntns_ino; /* the container's mount namespace: finds its processes without a cgroup,
                                    even after the init is gone (a shared pid namespace) */
  enum nook_status status; /* computed by nook_state_load */
};

enum nook_rootless
{
  NOOK_ROOTLESS_AUTO = 0,
  NOOK_ROOTLESS_YES,
  NOOK_ROOTLESS_NO,
};

/* "Am I unprivileged on the host?" (crun's and runc's question, not "is euid 0"): rootless podman runs
 * the runtime as root inside its own user namespace.  YES/NO force the answer (--rootless); AUTO: euid
 * other than 0, or podman's marker $_CONTAINERS_USERNS_CONFIGURED, or a user namespace whose uid_map is
 * not the full identity map "0 0 4294967295".  Decides the default state root, the cgroup handling and
 * the state's "rootless". */
bool nook_rootless (enum nook_rootless flag);
/* Runtime root: --root, else when rootless $XDG_RUNTIME_DIR/nook-runtime (unset or empty counts as unset;
 * then /tmp/nook-runtime-EUID), /run/nook-runtime for the host's root.  Returned string is allocated. */
char *nook_runtime_root_default (enum nook_rootless flag);
/* Open (creating, mode 0700) the runtime root; returns an O_DIRECTORY fd. */
int nook_root_open (const char *root, nook_err *err);
/* Container IDs: [A-Za-z0-9][A-Za-z0-9_.+-]*, at most NOOK_ID_MAX bytes. */
int nook_id_check (const char *id, nook_err *err);

/* Create ROOT/ID exclusively (error when the container exists) and lock it.  Returns the dir fd; the
 * lock lives as long as the fd. */
int nook_state_dir_create (int rootfd, const char *id, nook_err *err);
/* Open and lock ROOT/ID (EXCLUSIVE or shared).  Error "container `ID` does not exist". */
int nook_state_dir_open (int rootfd, const char *id, bool exclusive, nook_err *err);
int nook_state_save (int dirfd, const struct nook_state *st, nook_err *err);
int nook_state_load (int dirfd, const char *id, struct nook_state **out, nook_err *err);
void nook_state_free (struct nook_state *st);
const char *nook_status_name (enum nook_status s);
/* The OCI state document for `state` / `list -f json`. */
json_t *nook_state_to_oci (const struct nook_state *st);
/* Remove ROOT/ID completely. */
int nook_state_dir_remove (int rootfd, const char *id, nook_err *err);
/* Write PID to PATH (a host path: --pid-file) atomically. */
int nook_pid_file_write (const char *path, pid_t pid, nook_err *err);
/* RFC 3339 timestamp with nanoseconds, UTC.  Allocated. */
char *nook_now_rfc3339 (void);

#endif
