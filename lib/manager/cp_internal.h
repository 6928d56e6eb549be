/* Internal to lib/manager/cp*.c. */
#ifndef NOOK_MANAGER_CP_INTERNAL_H
#define NOOK_MANAGER_CP_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "manager/cp.h"
#include "runtime/spec.h"

#define CP_MAX_MAPS 8

struct cp_job
{
  struct nook_store *s;
  const struct nook_cp_opts *o;
  const char *name;             /* the container as the user named it */
  char *id;
  json_t *record;
  const char *src, *dst;        /* the paths (container paths without "CTR:") */
  bool to_ctr;                  /* host -> container */
  bool stream;                  /* the host side is "-": a tar stream */
  bool running;
  pid_t pid;
  int rootfd;                   /* the container's root directory */
  char *merged;                 /* stopped: where its overlay is mounted */
  struct nook_overlay ov;
  bool userns;                  /* rootless: the copy runs as root of a user namespace with the maps below */
  struct nook_idmap umap[CP_MAX_MAPS], gmap[CP_MAX_MAPS]; /* the container's (root: to translate ids) */
  size_t nu, ng;
};

/* PATH on the container's side (resolved inside its root) or the host's. */
int cp_open (struct cp_job *j, bool ctr_side, const char *path, int flags, nook_err *err);
/* The open flags for a copy's source PATH (a trailing symlink is not followed unless "LINK/"). */
int cp_src_flags (const char *path);

/* cp_tree.c: copy the entry SFD (an O_PATH fd, ST its stat) as DDIR/DNAME, recursively. */
int cp_tree_node (struct cp_job *j, int sfd, const struct stat *st, int ddir, const char *dname, nook_err *err);
/* Copy every entry of directory SDIR into DDIR. */
int cp_tree_children (struct cp_job *j, int sdir, int ddir, nook_err *err);
/* The owner a new entry gets from the source's UID/GID (-1: leave as created). */
void cp_owner (const struct cp_job *j, uid_t uid, gid_t gid, uid_t *ou, gid_t *og);
/* Make room for an entry of type MODE at DDIR/NAME (an existing directory stays for a directory). */
int cp_make_room (struct cp_job *j, int ddir, const char *name, mode_t mode, nook_err *err);

/* cp_tar.c: "-" streams. */
int cp_tar_create (struct cp_job *j, int outfd, nook_err *err);
int cp_tar_extract (struct cp_job *j, int infd, nook_err *err);

#endif
