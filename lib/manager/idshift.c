/* Re-own a rootless container's rootfs for id maps other than the store's (see idshift.h). */
#include "manager/idshift.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <search.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/userns.h"
#include "util/cleanup.h"
#include "util/strutil.h"

#define SHIFT_MAX_MAPS 16

struct shift_maps
{
  struct nook_idmap m[SHIFT_MAX_MAPS];
  size_t n;
};

struct shift_job
{
  const struct nook_overlay *ov;
  const char *merged;
  const struct nook_idmap *su, *sg; /* the store's maps (the ids we see in its namespace) */
  size_t nsu, nsg;
  struct shift_maps cu, cg; /* the container's */
  void *links;              /* tsearch tree of hard-linked inodes already shifted */
};

/* A hard-linked inode: its owner before and after (copy-up may or may not break the link). */
struct shift_link
{
  dev_t dev;
  ino_t ino;
  uid_t old_uid, new_uid;
  gid_t old_gid, new_gid;
};

static int
link_cmp (const void *a, const void *b)
{
  const struct shift_link *x = a, *y = b;
  if (x->dev != y->dev)
    return x->dev < y->dev ? -1 : 1;
  return x->ino < y->ino ? -1 : x->ino > y->ino;
}

static bool
to_host (const struct nook_idmap *m, size_t n, uint32_t id, uint32_t *host)
{
  for (size_t i = 0; i < n; i++)
    if (id >= m[i].container_id && id - m[i].container_id < m[i].size)
      {
        *host = m[i].host_id + (id - m[i].container_id);
        return true;
      }
  return false;
}

static bool
from_host (const struct nook_idmap *m, size_t n, uint32_t host, uint32_t *id)
{
  for (size_t i = 0; i < n; i++)
    if (host >= m[i].host_id && host - m[i].host_id < m[i].size)
      {
        *id = m[i].container_id + (host - m[i].host_id);
        return true;
      }
  return false;
}

/* The store-namespace id that the container sees as ID (ID unchanged when it cannot be expressed). */
static uint32_t
shift_id (const struct nook_idmap *store, size_t ns, const struct shift_maps *ctr, uint32_t id)
{
  uint32_t host, out;
  if (to_host (ctr->m, ctr->n, id, &host) && from_host (store, ns, host, &out))
    return out;
  return id;
}

static bool
maps_equal (const struct nook_idmap *a, size_t na, const struct shift_maps *b)
{
  if (na != b->n)
    return false;
  for (size_t i = 0; i < na; i++)
    if (a[i].container_id != b->m[i].container_id || a[i].host_id != b->m[i].host_id || a[i].size != b->m[i].size)
      return false;
  return true;
}

static int
maps_from_spec (json_t *arr, struct shift_maps *out, const char *what, nook_err *err)
{
  size_t i;
  json_t *e;

  out->n = 0;
  json_array_foreach (arr, i, e)
    {
      if (out->n == SHIFT_MAX_MAPS)
        return nook_error_input (err, "linux.%s: more than %d ranges", what, SHIFT_MAX_MAPS);
      out->m[out->n++] = (struct nook_idmap){
        .container_id = (uint32_t) json_integer_value (json_object_get (e, "containerID")),
        .host_id = (uint32_t) json_integer_value (json_object_get (e, "hostID")),
        .size = (uint32_t) json_integer_value (json_object_get (e, "size")),
      };
    }
  return 0;
}

/* Hard links: skip an inode whose owner we already changed (when copy-up kept the link). */
static bool
already_shifted (struct shift_job *j, const struct stat *st, uid_t nu, gid_t ng)
{
  struct shift_link key = { .dev = st->st_dev, .ino = st->st_ino };
  struct shift_link **found, *l;

  if (S_ISDIR (st->st_mode) || st->st_nlink < 2)
    return false;
  found = tfind (&key, &j->links, link_cmp);
  if (found != NULL)
    return (*found)->new_uid == st->st_uid && (*found)->new_gid == st->st_gid
           && ((*found)->old_uid != st->st_uid || (*found)->old_gid != st->st_gid);
  l = xcalloc (1, sizeof (*l));
  *l = (struct shift_link){ st->st_dev, st->st_ino, st->st_uid, nu, st->st_gid, ng };
  if (tsearch (l, &j->links, link_cmp) == NULL)
    free (l);
  return false;
}

/* Chown NAME in DFD ("" with AT_EMPTY_PATH: DFD itself) to its shifted owner, keeping setuid/setgid. */
static int
shift_one (struct shift_job *j, int dfd, const char *name, const char *path, nook_err *err)
{
  int flags = AT_SYMLINK_NOFOLLOW | (name[0] == '\0' ? AT_EMPTY_PATH : 0);
  struct stat st;
  uid_t nu;
  gid_t ng;

  if (fstatat (dfd, name, &st, flags) < 0)
    return nook_error (err, errno, "stat `%s`", path);
  nu = shift_id (j->su, j->nsu, &j->cu, st.st_uid);
  ng = shift_id (j->sg, j->nsg, &j->cg, st.st_gid);
  if ((nu == st.st_uid && ng == st.st_gid) || already_shifted (j, &st, nu, ng))
    return 0;
  if (fchownat (dfd, name, nu, ng, flags) < 0)
    return nook_error (err, errno, "chown `%s`", path);
  if (!S_ISLNK (st.st_mode) && !S_ISDIR (st.st_mode) && (st.st_mode & (S_ISUID | S_ISGID))
      && fchmodat (dfd, name, st.st_mode & 07777, 0) < 0)
    return nook_error (err, errno, "chmod `%s`", path);
  return 0;
}

/* Shift every entry below the directory DFD (PATH names it in errors). */
static int
shift_tree (struct shift_job *j, int dfd, const char *path, nook_err *err)
{
  int dup_fd = dup (dfd);
  cleanup_dir DIR *d = dup_fd >= 0 ? fdopendir (dup_fd) : NULL;
  struct dirent *de;

  if (d == NULL)
    {
      if (dup_fd >= 0)
        close (dup_fd);
      return nook_error (err, errno, "opendir `%s`", path);
    }
  while ((errno = 0, de = readdir (d)) != NULL)
    {
      if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      cleanup_free char *sub = xasprintf ("%s/%s", path, de->d_name);
      if (shift_one (j, dfd, de->d_name, sub, err) < 0)
        return -1;
      if (de->d_type != DT_DIR)
        continue;
      cleanup_close int cfd = openat (dfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (cfd < 0)
        return nook_error (err, errno, "open `%s`", sub);
      if (shift_tree (j, cfd, sub, err) < 0)
        return -1;
    }
  if (errno != 0)
    return nook_error (err, errno, "readdir `%s`", path);
  return 0;
}

/* In the store's user namespace and a private mount namespace. */
static int
shift_in_userns (void *ud, nook_err *err)
{
  struct shift_job *j = ud;
  cleanup_close int root = -1;

  if (mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
    return nook_error (err, errno, "make / private");
  if (nook_overlay_mount (j->ov, j->merged, err) < 0)
    return -1;
  root = open (j->merged, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (root < 0)
    return nook_error (err, errno, "open `%s`", j->merged);
  if (shift_one (j, root, "", "/", err) < 0 || shift_tree (j, root, "", err) < 0)
    return nook_error_prefix (err, "re-own the rootfs for the container's id maps");
  if (syncfs (root) < 0)
    return nook_error (err, errno, "syncfs `%s`", j->merged);
  return 0;
}

int
nook_ctr_idshift (struct nook_store *s, const struct nook_overlay *ov, const char *merged, json_t *spec,
                  nook_err *err)
{
  json_t *lx = json_object_get (spec, "linux");
  struct shift_job j = { .ov = ov, .merged = merged, .su = s->uidmap, .sg = s->gidmap, .nsu = s->n_uidmap,
                         .nsg = s->n_gidmap };
  int ret;

  if (!s->rootless || s->n_uidmap == 0 || s->n_gidmap == 0)
    return 0;
  if (maps_from_spec (json_object_get (lx, "uidMappings"), &j.cu, "uidMappings", err) < 0
      || maps_from_spec (json_object_get (lx, "gidMappings"), &j.cg, "gidMappings", err) < 0)
    return -1;
  if (j.cu.n == 0 || j.cg.n == 0
      || (maps_equal (s->uidmap, s->n_uidmap, &j.cu) && maps_equal (s->gidmap, s->n_gidmap, &j.cg)))
    return 0;
  ret = nook_userns_run (s->uidmap, s->n_uidmap, s->gidmap, s->n_gidmap, true, shift_in_userns, &j, err);
  tdestroy (j.links, free);
  return ret;
}
