/* The user's mounts: -v/--volume, --mount, --tmpfs, and the image's Volumes (anonymous volumes).
 * Options follow podman's processing: the user's, then rw, rprivate, the source filesystem's
 * nosuid/nodev/noexec (a rootless remount must keep them), and rbind for binds. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "manager/specgen_internal.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/strutil.h"

json_t *
sg_mount (const char *dest, const char *type, const char *source, json_t *options)
{
  json_t *m = json_pack ("{s:s,s:s}", "destination", dest, "type", type);

  if (source != NULL)
    json_object_set_new (m, "source", json_string (source));
  json_object_set_new (m, "options", options ? options : json_array ());
  return m;
}

static bool
under (const char *path, const char *dir)
{
  size_t n = strlen (dir);

  if (strcmp (dir, "/") == 0)
    return false; /* the rootfs itself is no mount of the user's */
  return strncmp (path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

bool
sg_covered (json_t *mounts, const char *dest)
{
  size_t i;
  json_t *m;

  json_array_foreach (mounts, i, m)
    {
      const char *d = json_string_value (json_object_get (m, "destination"));
      if (d != NULL && under (dest, d))
        return true;
    }
  return false;
}

/* ---- options ---- */

struct vopts
{
  json_t *list;          /* options for the spec */
  bool ro, has_rw, has_prop, has_exec, has_suid, has_dev, has_bind;
  const char *prop;
};

static const char *const props[] = { "rprivate", "private", "rshared", "shared", "rslave", "slave",
                                     "runbindable", "unbindable", NULL };

static const char *
find_str (const char *const *v, const char *s)
{
  for (size_t i = 0; v[i] != NULL; i++)
    if (strcmp (v[i], s) == 0)
      return v[i];
  return NULL;
}

static bool
in_strs (const char *const *v, const char *s)
{
  return find_str (v, s) != NULL;
}

/* One option of -v or --mount. */
static int
vopt_add (struct vopts *v, const char *o, const char *flag, nook_err *err)
{
  if (strcmp (o, "z") == 0 || strcmp (o, "Z") == 0 || strcmp (o, "copy") == 0 || strcmp (o, "nocopy") == 0)
    return 0; /* no SELinux relabeling; no copy-up into volumes */
  if (strcmp (o, "U") == 0)
    {
      nook_warn ("%s: the U option (chown the source) is ignored", flag);
      return 0;
    }
  if (strcmp (o, "O") == 0)
    return nook_error_input (err, "%s: overlay volumes (O) are not supported", flag);
  if (strcmp (o, "ro") == 0 || strcmp (o, "rw") == 0)
    {
      v->has_rw = true;
      v->ro = o[1] == 'o';
    }
  else if (in_strs (props, o))
    {
      v->has_prop = true;
      v->prop = find_str (props, o);
    }
  else if (strcmp (o, "exec") == 0 || strcmp (o, "noexec") == 0)
    v->has_exec = true;
  else if (strcmp (o, "suid") == 0 || strcmp (o, "nosuid") == 0)
    v->has_suid = true;
  else if (strcmp (o, "dev") == 0 || strcmp (o, "nodev") == 0)
    v->has_dev = true;
  else if (strcmp (o, "bind") == 0 || strcmp (o, "rbind") == 0)
    v->has_bind = true;
  else if (strcmp (o, "noatime") != 0 && strcmp (o, "relatime") != 0 && strcmp (o, "strictatime") != 0)
    return nook_error_input (err, "%s: invalid option `%s`", flag, o);
  json_array_append_new (v->list, json_string (o));
  return 0;
}

static int
vopts_parse (struct vopts *v, const char *opts, const char *flag, nook_err *err)
{
  cleanup_free char *copy = xstrdup (opts ? opts : "");
  char *save = NULL;

  for (char *o = strtok_r (copy, ",", &save); o != NULL; o = strtok_r (NULL, ",", &save))
    if (vopt_add (v, o, flag, err) < 0)
      return -1;
  return 0;
}

/* Defaults after the user's options.  SOURCE: the host path whose mount flags a bind keeps. */
static void
vopts_finish (struct vopts *v, const char *source, bool tmpfs)
{
  struct statvfs sv;
  bool noexec = tmpfs, nosuid = tmpfs, nodev = tmpfs;

  if (!tmpfs && source != NULL && statvfs (source, &sv) == 0)
    {
      noexec = sv.f_flag & ST_NOEXEC;
      nosuid = sv.f_flag & ST_NOSUID;
      nodev = sv.f_flag & ST_NODEV;
    }
  if (!v->has_rw)
    json_array_append_new (v->list, json_string ("rw"));
  if (!v->has_prop && !tmpfs)
    {
      v->prop = "rprivate";
      json_array_append_new (v->list, json_string ("rprivate"));
    }
  if (!v->has_exec && noexec)
    json_array_append_new (v->list, json_string ("noexec"));
  if (!v->has_suid && nosuid)
    json_array_append_new (v->list, json_string ("nosuid"));
  if (!v->has_dev && nodev)
    json_array_append_new (v->list, json_string ("nodev"));
  if (!v->has_bind && !tmpfs)
    json_array_append_new (v->list, json_string ("rbind"));
  /* The runtime makes "ro" read-only only the top mount of an rbind (runc's meaning); a read-only volume
   * stays read-only in its submounts too. */
  if (v->ro && !tmpfs)
    json_array_append_new (v->list, json_string ("rro"));
}

static char *
opts_joined (json_t *list)
{
  char *s = xstrdup ("");
  size_t i;
  json_t *v;

  json_array_foreach (list, i, v)
    {
      char *n = xasprintf ("%s%s%s", s, i ? "," : "", json_string_value (v));
      free (s);
      s = n;
    }
  return s;
}

/* ---- volumes ---- */

static bool
volume_name_ok (const char *n)
{
  if (n[0] == '\0' || n[0] == '.' || n[0] == '-' || n[0] == '_' || strlen (n) > 128)
    return false;
  for (const char *p = n; *p; p++)
    if (!(*p >= 'a' && *p <= 'z') && !(*p >= 'A' && *p <= 'Z') && !(*p >= '0' && *p <= '9') && !strchr ("_.-", *p))
      return false;
  return true;
}

static char *
random_hex (void)
{
  unsigned char b[32];
  char *s = xmalloc (65);

  if (getrandom (b, sizeof (b), 0) != (ssize_t) sizeof (b))
    for (size_t i = 0; i < sizeof (b); i++)
      b[i] = (unsigned char) random ();
  for (size_t i = 0; i < sizeof (b); i++)
    sprintf (s + 2 * i, "%02x", b[i]);
  return s;
}

/* STORE/volumes/NAME/_data, created on demand.  NAME NULL: a new anonymous volume (*NAME_OUT). */
static char *
volume_dir (struct sg *g, const char *name, char **name_out, const char *flag, nook_err *err)
{
  cleanup_free char *anon = name ? NULL : random_hex ();
  char *path;

  if (g->in->store == NULL)
    {
      nook_error_input (err, "%s: volumes need a store", flag);
      return NULL;
    }
  if (name != NULL && !volume_name_ok (name))
    {
      nook_error_input (err, "%s: invalid volume name `%s`", flag, name);
      return NULL;
    }
  path = xasprintf ("%s/volumes/%s/_data", g->in->store->root, name ? name : anon);
  if (nook_mkdir_p (path, 0755, err) < 0)
    {
      free (path);
      nook_error_prefix (err, "%s: volume", flag);
      return NULL;
    }
  *name_out = xstrdup (name ? name : anon);
  return path;
}

/* The record's entry and the spec's mount. */
static void
add_user_mount (struct sg *g, json_t *user, const char *type, const char *name, const char *src, const char *dst,
                struct vopts *v)
{
  json_t *rec_opts = json_array ();
  size_t i;
  json_t *o;

  json_array_foreach (v->list, i, o)
    {
      const char *s = json_string_value (o);
      if (strcmp (s, "rw") != 0 && strcmp (s, "ro") != 0 && !in_strs (props, s))
        json_array_append (rec_opts, o);
    }
  json_t *rec = json_pack ("{s:s,s:s,s:s,s:s,s:s,s:o,s:b,s:s}", "Type", type, "Source", src, "Destination", dst,
                           "Driver", strcmp (type, "volume") == 0 ? "local" : "", "Mode", "", "Options", rec_opts,
                           "RW", !v->ro, "Propagation", v->prop ? v->prop : "");
  if (name != NULL)
    json_object_set_new (rec, "Name", json_string (name));
  json_array_append_new (g->rec_mounts, rec);
  json_array_append_new (user, sg_mount (dst, "bind", src, json_incref (v->list)));
}

/* DST must be absolute; it is cleaned in place as podman does ("/../../etc" is "/etc"); the container's
 * root itself cannot be a mount destination here. */
static int
check_dest (char *dst, const char *flag, const char *spec, nook_err *err)
{
  cleanup_free char *clean = NULL;

  if (dst == NULL || dst[0] != '/')
    return nook_error_input (err, "%s %s: destination `%s` is not an absolute path", flag, spec, dst ? dst : "");
  clean = str_path_clean (dst);
  if (strcmp (clean, "/") == 0)
    return nook_error_input (err, "%s %s: cannot mount over the container's root directory `/`", flag, spec);
  strcpy (dst, clean); /* never longer */
  return 0;
}

/* A bind (SRC is a host path) or a volume (SRC a name, NULL: anonymous). */
static int
volume_or_bind (struct sg *g, json_t *user, const char *src, const char *dst, struct vopts *v, const char *flag,
                nook_err *err)
{
  cleanup_free char *host = NULL, *name = NULL, *bind = NULL;
  bool is_bind = src != NULL && (src[0] == '/' || src[0] == '.');

  if (is_bind)
    {
      host = realpath (src, NULL);
      if (host == NULL)
        return nook_error (err, errno, "%s: statfs %s", flag, src);
    }
  else
    {
      cleanup_free char *existing = src ? xasprintf ("%s/volumes/%s/_data", g->in->store->root, src) : NULL;
      bool fresh = existing == NULL || access (existing, F_OK) < 0;
      if ((host = volume_dir (g, src, &name, flag, err)) == NULL)
        return -1;
      /* podman: a new volume starts with what the image has at its destination. */
      if (fresh)
        json_array_append_new (g->copy_up, json_pack ("{s:s,s:s}", "dst", dst, "path", host));
    }
  if (!is_bind && src == NULL)
    json_array_append_new (g->anon_volumes, json_string (name));
  vopts_finish (v, host, false);
  cleanup_free char *opts = opts_joined (v->list);
  bind = xasprintf ("%s:%s:%s", is_bind ? host : name, dst, opts);
  json_array_append_new (g->binds, json_string (bind));
  add_user_mount (g, user, is_bind ? "bind" : "volume", name, host, dst, v);
  return 0;
}

/* -v [SRC:]DST[:OPTS] */
int
sg_volume_flag (struct sg *g, const char *spec, json_t *user, nook_err *err)
{
  cleanup_free char *copy = xstrdup (spec);
  char *parts[4] = { NULL };
  size_t n = 0;
  struct vopts v = { .list = json_array () };
  const char *src = NULL, *opts = NULL;
  char *dst;
  int ret;

  for (char *rest = copy, *p; (p = strsep (&rest, ":")) != NULL;)
    if (n < 4)
      parts[n++] = p;
  if (n > 3 || parts[0][0] == '\0')
    ret = nook_error_input (err, "--volume %s: incorrect volume format, should be [host-dir:]ctr-dir[:option]", spec);
  else
    {
      if (n == 1 || (n == 2 && parts[1][0] != '/'))
        dst = parts[0], opts = n == 2 ? parts[1] : NULL;
      else
        src = parts[0], dst = parts[1], opts = n == 3 ? parts[2] : NULL;
      ret = check_dest (dst, "--volume", spec, err);
      if (ret == 0)
        ret = vopts_parse (&v, opts, "--volume", err);
      if (ret == 0)
        ret = volume_or_bind (g, user, src, dst, &v, "--volume", err);
    }
  json_decref (v.list);
  return ret;
}

/* ---- --mount ---- */

struct mspec
{
  char *type, *src, *dst;
  struct vopts v;
  char *tmpfs_size, *tmpfs_mode;
  json_t *extra;          /* devpts options */
};

static bool
is_true (const char *v)
{
  return v == NULL || strcmp (v, "true") == 0 || strcmp (v, "1") == 0;
}

static int
mount_kv (struct mspec *m, char *k, char *v, nook_err *err)
{
  char **slot = NULL;

  if (strcmp (k, "type") == 0)
    slot = &m->type;
  else if (strcmp (k, "source") == 0 || strcmp (k, "src") == 0)
    slot = &m->src;
  else if (strcmp (k, "target") == 0 || strcmp (k, "destination") == 0 || strcmp (k, "dst") == 0)
    slot = &m->dst;
  else if (strcmp (k, "tmpfs-size") == 0)
    slot = &m->tmpfs_size;
  else if (strcmp (k, "tmpfs-mode") == 0)
    slot = &m->tmpfs_mode;
  if (slot != NULL)
    {
      if (v == NULL)
        return nook_error_input (err, "--mount: `%s` needs a value", k);
      free (*slot);
      *slot = xstrdup (v);
      return 0;
    }
  if (strcmp (k, "ro") == 0 || strcmp (k, "readonly") == 0)
    return vopt_add (&m->v, is_true (v) ? "ro" : "rw", "--mount", err);
  if (strcmp (k, "bind-propagation") == 0 && v != NULL)
    return vopt_add (&m->v, v, "--mount", err);
  if (strcmp (k, "bind-nonrecursive") == 0)
    return is_true (v) ? vopt_add (&m->v, "bind", "--mount", err) : 0;
  if (strcmp (k, "uid") == 0 || strcmp (k, "gid") == 0 || strcmp (k, "mode") == 0 || strcmp (k, "max") == 0)
    {
      json_array_append_new (m->extra, json_sprintf ("%s=%s", k, v ? v : ""));
      return 0;
    }
  if (strcmp (k, "relabel") == 0 || strcmp (k, "volume-opt") == 0 || strcmp (k, "consistency") == 0
      || strcmp (k, "tmpcopyup") == 0 || strcmp (k, "notmpcopyup") == 0 || strcmp (k, "nocopy") == 0)
    return 0;
  if (v == NULL)
    return vopt_add (&m->v, k, "--mount", err);
  return nook_error_input (err, "--mount: unknown option `%s`", k);
}

static int
mount_tmpfs (struct sg *g, struct mspec *m, json_t *user, nook_err *err)
{
  if (m->tmpfs_size != NULL)
    {
      int64_t sz = nook_parse_size (m->tmpfs_size);
      if (sz < 0)
        return nook_error_input (err, "--mount: invalid tmpfs-size `%s`", m->tmpfs_size);
      json_array_append_new (m->v.list, json_sprintf ("size=%lld", (long long) sz));
    }
  if (m->tmpfs_mode != NULL)
    json_array_append_new (m->v.list, json_sprintf ("mode=%s", m->tmpfs_mode));
  vopts_finish (&m->v, NULL, true);
  json_array_append_new (user, sg_mount (m->dst, "tmpfs", "tmpfs", json_incref (m->v.list)));
  json_object_set_new (g->tmpfs_rec, m->dst, json_string_nocheck (""));
  return 0;
}

static int
mount_devpts (struct sg *g, struct mspec *m, json_t *user)
{
  json_t *o = json_pack ("[s,s,s,s,s]", "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620");
  bool has_gid = false;
  size_t i;
  json_t *e;

  json_array_foreach (m->extra, i, e)
    has_gid |= str_has_prefix (json_string_value (e), "gid=");
  if (!has_gid && sg_gid_mapped (g, 5))
    json_array_append_new (o, json_string ("gid=5"));
  json_array_extend (o, m->extra);
  json_array_append_new (user, sg_mount (m->dst, "devpts", "devpts", o));
  return 0;
}

static int
mount_dispatch (struct sg *g, struct mspec *m, const char *spec, json_t *user, nook_err *err)
{
  const char *t = m->type ? m->type : "volume";

  if (check_dest (m->dst, "--mount", spec, err) < 0)
    return -1;
  if (strcmp (t, "bind") == 0)
    {
      if (m->src == NULL || m->src[0] != '/')
        return nook_error_input (err, "--mount %s: a bind mount needs an absolute source", spec);
      return volume_or_bind (g, user, m->src, m->dst, &m->v, "--mount", err);
    }
  if (strcmp (t, "volume") == 0)
    {
      if (m->src != NULL && m->src[0] == '/')
        return nook_error_input (err, "--mount %s: a volume source must be a name", spec);
      return volume_or_bind (g, user, m->src, m->dst, &m->v, "--mount", err);
    }
  if (strcmp (t, "tmpfs") == 0)
    return mount_tmpfs (g, m, user, err);
  if (strcmp (t, "devpts") == 0)
    return mount_devpts (g, m, user);
  return nook_error_input (err, "--mount %s: unsupported mount type `%s`", spec, t);
}

int
sg_mount_flag (struct sg *g, const char *spec, json_t *user, nook_err *err)
{
  cleanup_free char *copy = xstrdup (spec);
  struct mspec m = { .v = { .list = json_array () }, .extra = json_array () };
  char *save = NULL;
  int ret = 0;

  for (char *kv = strtok_r (copy, ",", &save); kv != NULL && ret == 0; kv = strtok_r (NULL, ",", &save))
    {
      char *v = strchr (kv, '=');
      if (v != NULL)
        *v++ = '\0';
      ret = mount_kv (&m, kv, v, err);
    }
  if (ret == 0)
    ret = mount_dispatch (g, &m, spec, user, err);
  free (m.type);
  free (m.src);
  free (m.dst);
  free (m.tmpfs_size);
  free (m.tmpfs_mode);
  json_decref (m.v.list);
  json_decref (m.extra);
  return ret;
}

/* ---- --tmpfs DST[:OPTS] ---- */

static int
tmpfs_opt (struct vopts *v, const char *o, nook_err *err)
{
  if (strcmp (o, "ro") == 0 || strcmp (o, "rw") == 0)
    v->has_rw = true, v->ro = o[1] == 'o';
  else if (strcmp (o, "exec") == 0 || strcmp (o, "noexec") == 0)
    v->has_exec = true;
  else if (strcmp (o, "suid") == 0 || strcmp (o, "nosuid") == 0)
    v->has_suid = true;
  else if (strcmp (o, "dev") == 0 || strcmp (o, "nodev") == 0)
    v->has_dev = true;
  else if (strcmp (o, "tmpcopyup") == 0 || strcmp (o, "notmpcopyup") == 0 || strcmp (o, "z") == 0
           || strcmp (o, "Z") == 0)
    return 0;
  else if (strchr (o, '=') == NULL && !in_strs (props, o) && strcmp (o, "noatime") != 0
           && strcmp (o, "strictatime") != 0 && strcmp (o, "relatime") != 0)
    return nook_error_input (err, "--tmpfs: invalid option `%s`", o);
  json_array_append_new (v->list, json_string (o));
  return 0;
}

int
sg_tmpfs_flag (struct sg *g, const char *spec, json_t *user, nook_err *err)
{
  cleanup_free char *copy = xstrdup (spec);
  char *opts = strchr (copy, ':'), *save = NULL;
  struct vopts v = { .list = json_array () };
  cleanup_free char *list = NULL;
  int ret = 0;

  if (opts != NULL)
    *opts++ = '\0';
  list = xstrdup (opts ? opts : "");
  ret = check_dest (copy, "--tmpfs", spec, err);
  for (char *o = strtok_r (list, ",", &save); o != NULL && ret == 0; o = strtok_r (NULL, ",", &save))
    ret = tmpfs_opt (&v, o, err);
  if (ret == 0)
    {
      vopts_finish (&v, NULL, true);
      json_array_append_new (user, sg_mount (copy, "tmpfs", "tmpfs", json_incref (v.list)));
      json_object_set_new (g->tmpfs_rec, copy, json_string (opts ? opts : ""));
    }
  json_decref (v.list);
  return ret;
}

/* ---- the image's Volumes ---- */

int
sg_image_volumes (struct sg *g, json_t *user, nook_err *err)
{
  json_t *vols = json_object_get (g->cfg, "Volumes"), *v;
  const char *dst;

  json_object_foreach (vols, dst, v)
    {
      struct vopts o = { .list = json_array () };
      int ret = 0;

      json_object_set_new (g->volumes_cfg, dst, json_object ());
      if (dst[0] == '/' && !sg_covered (user, dst))
        ret = volume_or_bind (g, user, NULL, dst, &o, "image volume", err);
      json_decref (o.list);
      if (ret < 0)
        return -1;
    }
  return 0;
}
