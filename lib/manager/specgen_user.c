/* The process user (-u, image User, --group-add; names looked up in the image's /etc/passwd and
 * /etc/group, read from the layers top first) and the user namespace (--userns). */
#include <errno.h>
#include <pwd.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "manager/specgen_internal.h"
#include "runtime/userns.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/strutil.h"

#define ETC_FILE_MAX (4 << 20)

/* ---- files from the image layers ---- */

static bool
is_whiteout (const struct stat *st)
{
  return S_ISCHR (st->st_mode) && st->st_rdev == 0;
}

static bool
is_opaque (int fd)
{
  char path[32], v[4];
  ssize_t n;

  nook_fd_path (fd, path, sizeof (path));
  n = getxattr (path, "trusted.overlay.opaque", v, sizeof (v));
  if (n < 0)
    n = getxattr (path, "user.overlay.opaque", v, sizeof (v));
  return n == 1 && v[0] == 'y';
}

enum probe
{
  PROBE_HIDDEN,  /* whited out (or not a file): lower layers do not count */
  PROBE_FOUND,
  PROBE_ABSENT,  /* look in the next layer down */
};

/* DIR ("etc") hides lower layers when it is a whiteout or an opaque directory. */
static enum probe
probe_dir (int layerfd, const char *dir)
{
  nook_err ignored;
  cleanup_close int fd = nook_open_in_root (layerfd, dir, O_PATH, 0, &ignored);
  struct stat st;

  if (fd < 0 || fstat (fd, &st) < 0)
    return PROBE_ABSENT;
  if (is_whiteout (&st) || !S_ISDIR (st.st_mode) || is_opaque (fd))
    return PROBE_HIDDEN;
  return PROBE_ABSENT;
}

static enum probe
probe_layer (int layerfd, const char *dir, const char *path, char **out, nook_err *err)
{
  nook_err e;
  cleanup_close int fd = nook_open_in_root (layerfd, path, O_PATH, 0, &e);
  struct stat st;
  size_t len;

  if (fd < 0)
    return probe_dir (layerfd, dir);
  if (fstat (fd, &st) < 0 || is_whiteout (&st) || !S_ISREG (st.st_mode))
    return PROBE_HIDDEN;
  if (nook_read_regular_fd (fd, out, &len, ETC_FILE_MAX, &e) < 0)
    {
      nook_warn ("cannot read /%s of the image: %s", path, e.msg);
      return PROBE_HIDDEN;
    }
  /* a NUL byte must not hide the entries after it: DEL matches no name */
  for (char *p = memchr (*out, '\0', len); p != NULL; p = memchr (p, '\0', len - (size_t) (p - *out)))
    *p = '\x7f';
  return PROBE_FOUND;
}

/* The image's DIR/NAME ("etc", "passwd"): allocated text, or NULL when the image has none. */
static char *
image_file (struct sg *g, const char *dir, const char *name)
{
  const struct nook_image *img = g->in->image;
  cleanup_free char *path = xasprintf ("%s/%s", dir, name);
  size_t n = img != NULL && g->in->store != NULL ? strv_len (img->layers) : 0;

  while (n-- > 0)
    {
      cleanup_free char *lp = nook_store_layer_path (g->in->store, img->layers[n]);
      cleanup_close int fd = lp ? open (lp, O_PATH | O_DIRECTORY | O_CLOEXEC) : -1;
      char *out = NULL;
      nook_err e;

      if (fd < 0)
        continue;
      switch (probe_layer (fd, dir, path, &out, &e))
        {
        case PROBE_FOUND:
          return out;
        case PROBE_HIDDEN:
          return NULL;
        case PROBE_ABSENT:
          break;
        }
    }
  return NULL;
}

/* ---- passwd / group ---- */

struct ent
{
  char *f[7];   /* the colon-separated fields */
  size_t n;
};

/* Split LINE (modified in place) into fields. */
static void
ent_split (char *line, struct ent *e)
{
  e->n = 0;
  for (char *p = line; e->n < 7; p++)
    {
      e->f[e->n++] = p;
      p = strchr (p, ':');
      if (p == NULL)
        break;
      *p = '\0';
    }
}

static bool
numeric (const char *s, uint32_t *out)
{
  uint64_t v;
  if (!str_to_u64 (s, UINT32_MAX - 1, &v))
    return false;
  *out = (uint32_t) v;
  return true;
}

/* Find the entry of TEXT (passwd or group) whose field 0 is NAME (when NAME) or field 2 is ID.  Calls FN
 * for it; returns true when found. */
static bool
ent_find (const char *text, const char *name, uint32_t id, void (*fn) (struct ent *, void *), void *ud)
{
  cleanup_free char *copy = xstrdup (text ? text : "");
  char *save = NULL;

  for (char *line = strtok_r (copy, "\n", &save); line != NULL; line = strtok_r (NULL, "\n", &save))
    {
      struct ent e;
      uint32_t v;

      if (line[0] == '#' || line[0] == '+' || line[0] == '-')
        continue;
      ent_split (line, &e);
      if (e.n < 3 || !numeric (e.f[2], &v))
        continue;
      if (name != NULL ? strcmp (e.f[0], name) == 0 : v == id)
        {
          if (fn)
            fn (&e, ud);
          return true;
        }
    }
  return false;
}

struct pw
{
  char *name, *home;
  uint32_t uid, gid;
  bool has_gid;
};

static void
pw_take (struct ent *e, void *ud)
{
  struct pw *p = ud;
  uint32_t v;

  free (p->name);
  p->name = xstrdup (e->f[0]);
  numeric (e->f[2], &p->uid);
  if (e->n > 3 && numeric (e->f[3], &v))
    {
      p->gid = v;
      p->has_gid = true;
    }
  free (p->home);
  p->home = e->n > 5 ? xstrdup (e->f[5]) : NULL;
}

static void
gid_take (struct ent *e, void *ud)
{
  numeric (e->f[2], (uint32_t *) ud);
}

static void
add_gid (json_t *gids, uint32_t gid)
{
  size_t i;
  json_t *v;

  json_array_foreach (gids, i, v)
    if (json_integer_value (v) == (json_int_t) gid)
      return;
  json_array_append_new (gids, json_integer (gid));
}

/* Every group of TEXT listing USER as a member. */
static void
member_groups (const char *text, const char *user, json_t *gids)
{
  cleanup_free char *copy = xstrdup (text ? text : "");
  char *save = NULL;

  for (char *line = strtok_r (copy, "\n", &save); line != NULL; line = strtok_r (NULL, "\n", &save))
    {
      struct ent e;
      char *msave = NULL;
      uint32_t gid;

      ent_split (line, &e);
      if (line[0] == '#' || e.n < 4 || !numeric (e.f[2], &gid))
        continue;
      for (char *m = strtok_r (e.f[3], ",", &msave); m != NULL; m = strtok_r (NULL, ",", &msave))
        if (strcmp (m, user) == 0)
          add_gid (gids, gid);
    }
}

static int
group_lookup (const char *group_text, const char *name, uint32_t *gid, nook_err *err)
{
  if (numeric (name, gid))
    return 0;
  if (!ent_find (group_text, name, 0, gid_take, gid))
    return nook_error_input (err, "unable to find group %s: no matching entries in group file", name);
  return 0;
}

/* USER[:GROUP] -> ids, as runc's GetExecUser: a numeric user need not exist; supplementary groups come
 * from /etc/group only when no group is given. */
static int
resolve_user (struct sg *g, const char *spec, const char *passwd, const char *group, nook_err *err)
{
  cleanup_free char *u = xstrdup (spec);
  char *grp = strchr (u, ':');
  struct pw pw = { 0 };
  bool found;

  if (grp != NULL)
    *grp++ = '\0';
  if (u[0] == '\0' || numeric (u, &pw.uid))
    found = ent_find (passwd, NULL, pw.uid, pw_take, &pw);
  else if (!(found = ent_find (passwd, u, 0, pw_take, &pw)))
    return nook_error_input (err, "unable to find user %s: no matching entries in passwd file", u);
  g->uid = pw.uid;
  g->gid = pw.has_gid ? pw.gid : 0;
  g->home = pw.home;
  if (grp != NULL && grp[0] != '\0')
    {
      if (group_lookup (group, grp, &g->gid, err) < 0)
        {
          free (pw.name);
          return -1;
        }
    }
  else if (found)
    {
      /* Like podman: the user's primary group is among its supplementary groups too. */
      if (pw.has_gid && !numeric (u, &(uint32_t){ 0 }))
        add_gid (g->gids, pw.gid);
      member_groups (group, pw.name, g->gids);
    }
  free (pw.name);
  return 0;
}

/* --userns keep-id: like podman, the caller gets a passwd (and group) entry when the image has none for
 * its ids, so `id -un`, `whoami` and $HOME work. */
static void
keepid_entries (struct sg *g, const char *passwd, const char *group)
{
  struct passwd *pw = getpwuid (getuid ());
  struct pw probe = { 0 };
  const char *name = pw ? pw->pw_name : "user";

  if (!ent_find (passwd ? passwd : "", NULL, g->uid, pw_take, &probe))
    g->keepid_passwd = xasprintf ("%s%s%s:*:%u:%u:%s:%s:/bin/sh\n", passwd ? passwd : "",
                                  passwd && *passwd && passwd[strlen (passwd) - 1] != '\n' ? "\n" : "", name, g->uid,
                                  g->gid, name, pw && pw->pw_dir ? pw->pw_dir : "/");
  free (probe.name);
  uint32_t gid;
  if (!ent_find (group ? group : "", NULL, g->gid, gid_take, &gid))
    g->keepid_group = xasprintf ("%s%s%s:x:%u:\n", group ? group : "",
                                 group && *group && group[strlen (group) - 1] != '\n' ? "\n" : "", name, g->gid);
}

int
sg_user (struct sg *g, nook_err *err)
{
  const struct nook_run_opts *o = g->o;
  const char *img_user = json_string_value (json_object_get (g->cfg, "User"));
  cleanup_free char *passwd = image_file (g, "etc", "passwd");
  cleanup_free char *group = image_file (g, "etc", "group");

  if (o->user != NULL && o->user[0] != '\0')
    g->user = xstrdup (o->user);
  else if (g->keep_id)
    g->user = xasprintf ("%u:%u", g->uid, g->gid);
  else
    g->user = xstrdup (img_user ? img_user : "");
  if (g->keep_id && (o->user == NULL || o->user[0] == '\0'))
    keepid_entries (g, passwd, group);
  if (resolve_user (g, g->user, g->keepid_passwd ? g->keepid_passwd : passwd, g->keepid_group ? g->keepid_group : group,
                    err)
      < 0)
    return nook_error_prefix (err, o->user && o->user[0] ? "--user" : "image user");
  for (size_t i = 0; o->group_add != NULL && o->group_add[i] != NULL; i++)
    {
      uint32_t gid;
      if (strcmp (o->group_add[i], "keep-groups") == 0)
        continue;
      if (group_lookup (group, o->group_add[i], &gid, err) < 0)
        return nook_error_prefix (err, "--group-add");
      add_gid (g->gids, gid);
    }
  return 0;
}

/* ---- the user namespace ---- */

bool
sg_gid_mapped (const struct sg *g, uint32_t gid)
{
  if (!g->userns)
    return true;
  for (size_t i = 0; i < g->n_gmap; i++)
    if (gid >= g->gmap[i].container_id && gid - g->gmap[i].container_id < g->gmap[i].size)
      return true;
  return false;
}

/* podman's keep-id layout: CID is OWN, the sub-ids fill the rest around it. */
static size_t
keepid_map (uint32_t cid, uint32_t own, uint32_t start, uint32_t count, struct nook_idmap *m)
{
  size_t n = 0;

  if (count == 0)
    {
      m[0] = (struct nook_idmap){ cid, own, 1 };
      return 1;
    }
  if (cid > 0)
    m[n++] = (struct nook_idmap){ 0, start, cid < count ? cid : count };
  m[n++] = (struct nook_idmap){ cid, own, 1 };
  if (count > cid)
    m[n++] = (struct nook_idmap){ cid + 1, start + cid, count - cid };
  return n;
}

static int
keepid_opts (const char *opts, uint32_t *uid, uint32_t *gid, uint32_t *size, nook_err *err)
{
  cleanup_free char *copy = xstrdup (opts);
  char *save = NULL;

  for (char *o = strtok_r (copy, ",", &save); o != NULL; o = strtok_r (NULL, ",", &save))
    {
      uint32_t *dst = str_has_prefix (o, "uid=") ? uid : str_has_prefix (o, "gid=") ? gid
                      : str_has_prefix (o, "size=")                               ? size
                                                                                   : NULL;
      if (dst == NULL || !numeric (strchr (o, '=') + 1, dst))
        return nook_error_input (err, "--userns: invalid keep-id option `%s`", o);
    }
  return 0;
}

/* The caller's full maps: from the store, else /etc/subuid and /etc/subgid. */
static int
caller_maps (struct sg *g, struct nook_idmap u[2], size_t *nu, struct nook_idmap gm[2], size_t *ng, nook_err *err)
{
  struct nook_store *s = g->in->store;

  if (s == NULL)
    return nook_idmap_for_caller (u, nu, gm, ng, err);
  *nu = s->n_uidmap;
  *ng = s->n_gidmap;
  memcpy (u, s->uidmap, sizeof (s->uidmap));
  memcpy (gm, s->gidmap, sizeof (s->gidmap));
  if (*nu == 0 || *ng == 0)
    {
      *nu = *ng = 1;
      u[0] = (struct nook_idmap){ 0, g->own_uid, 1 };
      gm[0] = (struct nook_idmap){ 0, g->own_gid, 1 };
    }
  return 0;
}

static int
keep_id (struct sg *g, const char *opts, struct nook_idmap u[2], size_t nu, struct nook_idmap gm[2], size_t ng,
         nook_err *err)
{
  uint32_t uid = g->own_uid, gid = g->own_gid, size = 0;
  uint32_t ucount = nu > 1 ? u[1].size : 0, gcount = ng > 1 ? gm[1].size : 0;

  if (keepid_opts (opts, &uid, &gid, &size, err) < 0)
    return -1;
  if (size > 0)
    {
      ucount = ucount < size - 1 ? ucount : size - 1;
      gcount = gcount < size - 1 ? gcount : size - 1;
    }
  g->n_umap = keepid_map (uid, g->own_uid, nu > 1 ? u[1].host_id : 0, ucount, g->umap);
  g->n_gmap = keepid_map (gid, g->own_gid, ng > 1 ? gm[1].host_id : 0, gcount, g->gmap);
  g->keep_id = true;
  g->uid = uid;
  g->gid = gid;
  return 0;
}

static int
rootless_userns (struct sg *g, const char *mode, nook_err *err)
{
  struct nook_idmap u[2], gm[2];
  size_t nu = 0, ng = 0;

  if (caller_maps (g, u, &nu, gm, &ng, err) < 0)
    return -1;
  g->userns = true;
  if (mode[0] == '\0' || strcmp (mode, "private") == 0 || strcmp (mode, "auto") == 0)
    {
      memcpy (g->umap, u, nu * sizeof (u[0]));
      memcpy (g->gmap, gm, ng * sizeof (gm[0]));
      g->n_umap = nu;
      g->n_gmap = ng;
      return 0;
    }
  if (strcmp (mode, "keep-id") == 0 || str_has_prefix (mode, "keep-id:"))
    return keep_id (g, mode[7] == ':' ? mode + 8 : "", u, nu, gm, ng, err);
  if (strcmp (mode, "nomap") == 0)
    {
      if (nu < 2 || ng < 2)
        return nook_error_input (err, "--userns nomap: the user has no sub-id range in /etc/subuid, /etc/subgid");
      g->umap[0] = (struct nook_idmap){ 0, u[1].host_id, u[1].size };
      g->gmap[0] = (struct nook_idmap){ 0, gm[1].host_id, gm[1].size };
      g->n_umap = g->n_gmap = 1;
      return 0;
    }
  if (strcmp (mode, "host") == 0)
    return nook_error_input (err, "--userns host: a rootless container always has a user namespace");
  return nook_error_input (err, "--userns: unsupported mode `%s`", mode);
}

int
sg_userns (struct sg *g, nook_err *err)
{
  const char *mode = g->o->userns ? g->o->userns : "";

  if (g->rootless)
    return rootless_userns (g, mode, err);
  if (mode[0] == '\0' || strcmp (mode, "host") == 0)
    return 0;
  return nook_error_input (err, "--userns %s: only supported for rootless containers", mode);
}
