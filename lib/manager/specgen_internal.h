/* Internals of the spec generator (specgen*.c, seccomp_default.c). */
#ifndef NOOK_MANAGER_SPECGEN_INTERNAL_H
#define NOOK_MANAGER_SPECGEN_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "manager/specgen.h"
#include "net/net.h"
#include "runtime/spec.h"

#define SG_DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define SG_DEFAULT_SHM (64 * 1024 * 1024)
#define SG_MAX_IDMAP 3
#define SG_INIT_PATH "/run/nook-init" /* --init: the init binary, parent of the entrypoint */

/* Namespace modes of --pid/--ipc/--uts/--cgroupns/--network. */
enum sg_ns_mode
{
  SG_NS_PRIVATE,
  SG_NS_HOST,
  SG_NS_PATH,
};

struct sg_ns
{
  enum sg_ns_mode mode;
  const char *path;             /* SG_NS_PATH */
};

struct sg
{
  const struct nook_specgen_in *in;
  const struct nook_run_opts *o;
  json_t *cfg;                  /* the image config's "config" object (borrowed) or NULL */
  bool rootless;
  uid_t own_uid;                /* the caller's ids on the host */
  gid_t own_gid;

  /* namespaces */
  struct sg_ns pid, ipc, uts, cgroupns, net;
  const char *network_mode;     /* the record's NetworkMode */
  enum nook_net_mode net_mode;
  json_t *ports;                /* published ports (Nook.network.ports, see ctr_network.h) */
  json_t *exposed;              /* Config.ExposedPorts */
  char *hostname;               /* the container's hostname */

  /* process */
  json_t *entrypoint, *cmd;     /* what was used (arrays; NULL when none) */
  json_t *args;                 /* entrypoint + cmd */
  json_t *env;                  /* array of "K=V" */
  char *cwd;

  /* user */
  char *user;                   /* the user spec used ("" = default root) */
  uint32_t uid, gid;
  char *home;                   /* from passwd; NULL when unknown */
  json_t *gids;                 /* additionalGids (array of integers) */
  bool keep_id;
  char *keepid_passwd, *keepid_group; /* --userns keep-id: the image's files plus the caller (bind-mounted) */

  /* user namespace */
  bool userns;
  struct nook_idmap umap[SG_MAX_IDMAP], gmap[SG_MAX_IDMAP];
  size_t n_umap, n_gmap;

  /* security */
  bool privileged, nnp, unmask_all, seccomp_unconfined;
  char *seccomp_file, *apparmor, *selinux_label;
  json_t *mask_extra, *unmask;  /* --security-opt mask=/unmask= paths */
  uint64_t bounding, add_mask;
  json_t *cap_add, *cap_drop;   /* normalized names for the record */
  json_t *rlimits;              /* spec rlimits */
  json_t *ulimits_rec;          /* record Ulimits */
  int stop_signal;
  char *stop_signal_name;

  /* mounts */
  json_t *mounts;               /* spec mounts (defaults, then the user's) */
  json_t *rec_mounts;           /* record Mounts */
  json_t *binds;                /* HostConfig.Binds */
  json_t *tmpfs_rec;            /* HostConfig.Tmpfs */
  json_t *volumes_cfg;          /* Config.Volumes */
  json_t *copy_up;              /* [{"dst","path"}]: new volumes that get the image's content (Nook.copy_up) */
  json_t *anon_volumes;         /* names of the anonymous volumes created (record Nook.anonymous_volumes) */
  char *image_name;
};

/* specgen_user.c */
int sg_userns (struct sg *g, nook_err *err);
int sg_user (struct sg *g, nook_err *err);
bool sg_gid_mapped (const struct sg *g, uint32_t gid);

/* specgen_security.c */
int sg_security_opts (struct sg *g, nook_err *err);
int sg_namespaces (struct sg *g, nook_err *err);
int sg_caps (struct sg *g, nook_err *err);
int sg_rlimits (struct sg *g, nook_err *err);
int sg_stop_signal (struct sg *g, nook_err *err);
json_t *sg_caps_json (const struct sg *g);
json_t *sg_linux_json (struct sg *g, nook_err *err);
json_t *sg_u64_json (uint64_t v);

/* specgen_mounts.c */
int sg_mounts (struct sg *g, nook_err *err);
/* specgen_volumes.c */
int sg_volume_flag (struct sg *g, const char *spec, json_t *user, nook_err *err);
int sg_mount_flag (struct sg *g, const char *spec, json_t *user, nook_err *err);
int sg_tmpfs_flag (struct sg *g, const char *spec, json_t *user, nook_err *err);
int sg_image_volumes (struct sg *g, json_t *user, nook_err *err);
json_t *sg_mount (const char *dest, const char *type, const char *source, json_t *options);
bool sg_covered (json_t *mounts, const char *dest);

/* specgen_network.c */
int sg_network (struct sg *g, nook_err *err);
json_t *sg_network_record (struct sg *g);
json_t *sg_port_bindings (struct sg *g);

/* specgen_files.c */
int sg_userdata (struct sg *g, nook_err *err);

/* specgen_record.c */
json_t *sg_record (struct sg *g, json_t *spec);

/* specgen.c */
json_t *sg_strv_json (char *const *v);
char *sg_now_rfc3339 (void);

/* seccomp_default.c: a Docker/moby-format profile -> linux.seccomp for a process with capability set
 * CAPS (bit i = capability i): includes/excludes (caps, arches, minKernel) resolved, archMap reduced to
 * this machine.  ERRNO_FILL: add one EPERM rule with the known dangerous syscalls nothing allowed. */
json_t *nook_seccomp_from_docker (json_t *profile, uint64_t caps, bool errno_fill, nook_err *err);
json_t *nook_seccomp_default_for (uint64_t caps);

#endif
