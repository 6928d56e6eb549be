/* Image config + run options -> the OCI runtime spec and the container record, with podman's rootless
 * defaults: a user namespace with the caller's full sub-id range (root in the container = the user;
 * --userns keep-id maps the user to itself), private pid/ipc/uts/mount/cgroup namespaces, a private
 * network namespace with only lo (networking comes later: --network none|host|private), the default
 * capability set (CHOWN DAC_OVERRIDE FOWNER FSETID KILL NET_BIND_SERVICE SETFCAP SETGID SETPCAP SETUID
 * SYS_CHROOT), podman's masked and read-only paths, the default seccomp profile (dangerous calls EPERM,
 * unknown syscalls ENOSYS), /dev/shm (64 MiB), /etc/hosts, /etc/hostname and /etc/resolv.conf generated
 * per container, /run/.containerenv, container=nook in the environment.  --privileged lifts caps, seccomp
 * and the masks.  The image config is fully honoured: Entrypoint, Cmd, Env, WorkingDir, User (names looked
 * up in the image's /etc/passwd and /etc/group), StopSignal, Volumes (anonymous volumes). */
#ifndef NOOK_MANAGER_SPECGEN_H
#define NOOK_MANAGER_SPECGEN_H

#include <jansson.h>

#include "manager/runopts.h"
#include "store/store.h"
#include "util/error.h"

struct nook_specgen_in
{
  struct nook_store *store;
  const struct nook_image *image;
  json_t *image_config;        /* the image's config document (with "config": {Env, Cmd, ...}) */
  const struct nook_run_opts *opts;
  const char *id, *name;
  const char *ctr_dir;         /* STORE/containers/<id> */
};

/* *SPEC: the OCI config.json (root.path = CTR_DIR/merged).  *RECORD: the podman-inspect-shaped record
 * (State.Status "created").  Also writes CTR_DIR/userdata/{hosts,hostname,resolv.conf,.containerenv} and
 * creates anonymous volumes.  Errors name the flag that is wrong. */
int nook_specgen (const struct nook_specgen_in *in, json_t **spec, json_t **record, nook_err *err);

/* The default seccomp profile as a linux.seccomp JSON object (defaultAction SCMP_ACT_ERRNO with
 * defaultErrnoRet ENOSYS for syscalls the profile does not know; the allowed list; the dangerous calls EPERM). */
json_t *nook_seccomp_default (void);

#endif
