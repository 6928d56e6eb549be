/* Image config + run options -> config.json and the container record: the process (args, env, cwd),
 * the hostname, and the assembly of the document.  User, namespaces, security, mounts and the userdata
 * files are in specgen_*.c. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "manager/specgen_internal.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/strutil.h"

json_t *
sg_strv_json (char *const *v)
{
  json_t *a = json_array ();
  for (size_t i = 0; v != NULL && v[i] != NULL; i++)
    json_array_append_new (a, json_string (v[i]));
  return a;
}

char *
sg_now_rfc3339 (void)
{
  struct timespec ts;
  struct tm tm;
  char buf[64];

  clock_gettime (CLOCK_REALTIME, &ts);
  gmtime_r (&ts.tv_sec, &tm);
  strftime (buf, sizeof (buf), "%Y-%m-%dT%H:%M:%S", &tm);
  return xasprintf ("%s.%09ldZ", buf, ts.tv_nsec);
}

/* ---- args ---- */

static json_t *
string_array_or_null (json_t *v)
{
  size_t i;
  json_t *e;

  if (!json_is_array (v))
    return NULL;
  json_array_foreach (v, i, e)
    if (!json_is_string (e))
      return NULL;
  return json_deep_copy (v);
}

/* --entrypoint: "" clears, a JSON array is a list, anything else is one word. */
static int
entrypoint_flag (const char *s, json_t **out, nook_err *err)
{
  json_error_t jerr;
  json_t *v;

  if (s[0] != '[')
    {
      *out = s[0] == '\0' ? json_array () : json_pack ("[s]", s);
      return 0;
    }
  v = json_loads (s, 0, &jerr);
  *out = string_array_or_null (v);
  json_decref (v);
  if (*out == NULL)
    return nook_error_input (err, "--entrypoint: `%s` is not a JSON array of strings", s);
  return 0;
}

static int
sg_args (struct sg *g, nook_err *err)
{
  const struct nook_run_opts *o = g->o;
  bool ep_given = o->entrypoint != NULL;

  if (ep_given)
    {
      if (entrypoint_flag (o->entrypoint, &g->entrypoint, err) < 0)
        return -1;
    }
  else
    g->entrypoint = string_array_or_null (json_object_get (g->cfg, "Entrypoint"));
  if (strv_len (o->command) > 0)
    g->cmd = sg_strv_json (o->command);
  else if (!ep_given)
    g->cmd = string_array_or_null (json_object_get (g->cfg, "Cmd"));
  g->args = json_array ();
  if (g->entrypoint != NULL)
    json_array_extend (g->args, g->entrypoint);
  if (g->cmd != NULL)
    json_array_extend (g->args, g->cmd);
  if (json_array_size (g->args) == 0)
    return nook_error_input (err, "no command or entrypoint provided, and no CMD or ENTRYPOINT from image");
  return 0;
}

/* ---- env ---- */

static size_t
key_len (const char *kv)
{
  return strcspn (kv, "=");
}

/* Set KV ("K=V") in ENV, replacing an entry with the same key. */
static void
env_set (json_t *env, const char *kv)
{
  size_t i, n = key_len (kv);
  json_t *e;

  json_array_foreach (env, i, e)
    {
      const char *s = json_string_value (e);
      if (s != NULL && key_len (s) == n && strncmp (s, kv, n) == 0)
        {
          json_array_set_new (env, i, json_string (kv));
          return;
        }
    }
  json_array_append_new (env, json_string (kv));
}

static bool
env_has (json_t *env, const char *key)
{
  size_t i, n = strlen (key);
  json_t *e;

  json_array_foreach (env, i, e)
    {
      const char *s = json_string_value (e);
      if (s != NULL && key_len (s) == n && strncmp (s, key, n) == 0)
        return true;
    }
  return false;
}

/* -e K=V sets; -e K takes the caller's value (skipped when unset), as podman does. */
static int
env_flag (json_t *env, const char *s, const char *flag, nook_err *err)
{
  if (s[0] == '=' || s[0] == '\0')
    return nook_error_input (err, "%s: invalid environment variable `%s`", flag, s);
  if (strchr (s, '=') != NULL)
    env_set (env, s);
  else if (getenv (s) != NULL)
    {
      cleanup_free char *kv = xasprintf ("%s=%s", s, getenv (s));
      env_set (env, kv);
    }
  return 0;
}

static int
env_file (json_t *env, const char *path, nook_err *err)
{
  cleanup_free char *text = NULL;
  char *save = NULL;

  if (nook_read_file_at (AT_FDCWD, path, &text, NULL, NOOK_ARG_FILE_MAX, err) < 0)
    return nook_error_prefix (err, "--env-file");
  for (char *line = strtok_r (text, "\n", &save); line != NULL; line = strtok_r (NULL, "\n", &save))
    {
      line[strcspn (line, "\r")] = '\0';
      while (*line == ' ' || *line == '\t')
        line++;
      if (*line == '\0' || *line == '#')
        continue;
      if (env_flag (env, line, "--env-file", err) < 0)
        return -1;
    }
  return 0;
}

static int
sg_env (struct sg *g, nook_err *err)
{
  const struct nook_run_opts *o = g->o;
  json_t *img = json_object_get (g->cfg, "Env"), *e;
  cleanup_free char *hn = xasprintf ("HOSTNAME=%s", g->hostname);
  size_t i;

  g->env = json_array ();
  env_set (g->env, SG_DEFAULT_PATH);
  json_array_foreach (img, i, e)
    if (json_is_string (e) && strchr (json_string_value (e), '=') != NULL)
      env_set (g->env, json_string_value (e));
  env_set (g->env, "container=nook");
  env_set (g->env, hn);
  if (o->tty)
    env_set (g->env, "TERM=xterm");
  if (!env_has (g->env, "HOME"))
    {
      cleanup_free char *home = xasprintf ("HOME=%s", g->home ? g->home : "/");
      env_set (g->env, home);
    }
  for (i = 0; o->env_files != NULL && o->env_files[i] != NULL; i++)
    if (env_file (g->env, o->env_files[i], err) < 0)
      return -1;
  for (i = 0; o->env != NULL && o->env[i] != NULL; i++)
    if (env_flag (g->env, o->env[i], "--env", err) < 0)
      return -1;
  return 0;
}

static int
sg_cwd (struct sg *g, nook_err *err)
{
  const char *w = g->o->workdir;

  if (w != NULL && w[0] != '\0')
    {
      if (w[0] != '/')
        return nook_error_input (err, "--workdir: `%s` is not an absolute path", w);
      g->cwd = xstrdup (w);
      return 0;
    }
  w = json_string_value (json_object_get (g->cfg, "WorkingDir"));
  g->cwd = xstrdup (w != NULL && w[0] == '/' ? w : "/");
  return 0;
}

/* --hostname, the host's name without a UTS namespace, else the first 12 characters of the id. */
static int
sg_hostname (struct sg *g, nook_err *err)
{
  const char *h = g->o->hostname;
  char buf[256] = "";

  if (h != NULL && h[0] != '\0')
    {
      if (g->uts.mode == SG_NS_HOST)
        return nook_error_input (err, "--hostname cannot be set with --uts host");
      if (strlen (h) > 64 || strchr (h, '/') != NULL || strchr (h, ' ') != NULL)
        return nook_error_input (err, "--hostname: invalid hostname `%s`", h);
      g->hostname = xstrdup (h);
    }
  else if (g->uts.mode == SG_NS_HOST)
    {
      if (gethostname (buf, sizeof (buf) - 1) < 0)
        return nook_error (err, errno, "gethostname");
      g->hostname = xstrdup (buf);
    }
  else
    g->hostname = xasprintf ("%.12s", g->in->id);
  return 0;
}

/* The image name as the user meant it: the image's name equal to, or ending in, what was typed. */
static void
sg_image_name (struct sg *g)
{
  const struct nook_image *img = g->in->image;
  const char *typed = g->o->image ? g->o->image : "";
  char *const *names = img ? img->names : NULL;

  for (size_t i = 0; names != NULL && names[i] != NULL; i++)
    {
      cleanup_free char *a = xasprintf ("/%s", typed), *b = xasprintf ("/%s:latest", typed);
      size_t n = strlen (names[i]);
      if (strcmp (names[i], typed) == 0 || (n > strlen (a) && strcmp (names[i] + n - strlen (a), a) == 0)
          || (n > strlen (b) && strcmp (names[i] + n - strlen (b), b) == 0))
        {
          g->image_name = xstrdup (names[i]);
          return;
        }
    }
  g->image_name = xstrdup (names != NULL && names[0] != NULL ? names[0] : typed);
}

/* ---- the document ---- */

static json_t *
process_json (struct sg *g)
{
  json_t *p = json_object ();
  json_t *user = json_pack ("{s:i,s:i,s:i}", "uid", (json_int_t) g->uid, "gid", (json_int_t) g->gid, "umask", 022);

  if (json_array_size (g->gids) > 0)
    json_object_set (user, "additionalGids", g->gids);
  json_object_set_new (p, "terminal", json_boolean (g->o->tty));
  json_object_set_new (p, "user", user);
  if (g->o->init)
    {
      json_t *args = json_pack ("[s,s]", SG_INIT_PATH, "--");
      json_array_extend (args, g->args);
      json_object_set_new (p, "args", args);
    }
  else
    json_object_set (p, "args", g->args);
  json_object_set (p, "env", g->env);
  json_object_set_new (p, "cwd", json_string (g->cwd));
  json_object_set_new (p, "capabilities", sg_caps_json (g));
  json_object_set (p, "rlimits", g->rlimits);
  json_object_set_new (p, "noNewPrivileges", json_boolean (g->nnp));
  if (g->apparmor != NULL)
    json_object_set_new (p, "apparmorProfile", json_string (g->apparmor));
  if (g->selinux_label != NULL)
    json_object_set_new (p, "selinuxLabel", json_string (g->selinux_label));
  return p;
}

static int
kv_into (json_t *obj, char *const *v, const char *flag, nook_err *err)
{
  for (size_t i = 0; v != NULL && v[i] != NULL; i++)
    {
      const char *eq = strchr (v[i], '=');
      cleanup_free char *k = xasprintf ("%.*s", (int) (eq ? (size_t) (eq - v[i]) : strlen (v[i])), v[i]);
      if (k[0] == '\0')
        return nook_error_input (err, "%s: invalid `%s`: expected KEY=VALUE", flag, v[i]);
      json_object_set_new (obj, k, json_string (eq ? eq + 1 : ""));
    }
  return 0;
}

static json_t *
spec_json (struct sg *g, nook_err *err)
{
  json_t *spec = json_object (), *lx, *ann = json_object ();

  json_object_set_new (spec, "ociVersion", json_string ("1.2.0"));
  json_object_set_new (spec, "process", process_json (g));
  json_object_set_new (spec, "root", json_pack ("{s:s++,s:b}", "path", g->in->ctr_dir, "/", "merged", "readonly",
                                                g->o->read_only));
  if (g->uts.mode != SG_NS_HOST)
    json_object_set_new (spec, "hostname", json_string (g->hostname));
  json_object_set (spec, "mounts", g->mounts);
  if (kv_into (ann, g->o->annotations, "--annotation", err) < 0)
    {
      json_decref (ann);
      json_decref (spec);
      return NULL;
    }
  json_object_set_new (ann, "io.container.manager", json_string ("nook"));
  json_object_set_new (spec, "annotations", ann);
  lx = sg_linux_json (g, err);
  if (lx == NULL)
    {
      json_decref (spec);
      return NULL;
    }
  json_object_set_new (spec, "linux", lx);
  return spec;
}

static void
sg_free (struct sg *g)
{
  json_t *js[] = { g->entrypoint, g->cmd, g->args, g->env, g->gids, g->mask_extra, g->unmask, g->cap_add,
                   g->cap_drop, g->rlimits, g->ulimits_rec, g->mounts, g->rec_mounts, g->binds, g->tmpfs_rec,
                   g->volumes_cfg, g->anon_volumes, g->copy_up, g->ports, g->exposed };
  for (size_t i = 0; i < sizeof (js) / sizeof (js[0]); i++)
    json_decref (js[i]);
  free (g->hostname);
  free (g->cwd);
  free (g->user);
  free (g->home);
  free (g->keepid_passwd);
  free (g->keepid_group);
  free (g->seccomp_file);
  free (g->apparmor);
  free (g->selinux_label);
  free (g->stop_signal_name);
  free (g->image_name);
}

static void
sg_init (struct sg *g, const struct nook_specgen_in *in)
{
  *g = (struct sg){ .in = in, .o = in->opts };
  g->cfg = json_object_get (in->image_config, "config");
  if (!json_is_object (g->cfg))
    g->cfg = NULL;
  g->rootless = in->store != NULL ? in->store->rootless : geteuid () != 0;
  g->own_uid = in->store != NULL && in->store->n_uidmap > 0 ? in->store->uidmap[0].host_id : geteuid ();
  g->own_gid = in->store != NULL && in->store->n_gidmap > 0 ? in->store->gidmap[0].host_id : getegid ();
  g->gids = json_array ();
  g->mask_extra = json_array ();
  g->unmask = json_array ();
  g->mounts = json_array ();
  g->rec_mounts = json_array ();
  g->binds = json_array ();
  g->tmpfs_rec = json_object ();
  g->volumes_cfg = json_object ();
  g->anon_volumes = json_array ();
  g->copy_up = json_array ();
}

static int
sg_run (struct sg *g, nook_err *err)
{
  sg_image_name (g);
  if (sg_security_opts (g, err) < 0 || sg_namespaces (g, err) < 0 || sg_hostname (g, err) < 0
      || sg_args (g, err) < 0 || sg_userns (g, err) < 0 || sg_user (g, err) < 0 || sg_env (g, err) < 0
      || sg_cwd (g, err) < 0 || sg_caps (g, err) < 0 || sg_rlimits (g, err) < 0 || sg_stop_signal (g, err) < 0
      || sg_mounts (g, err) < 0 || sg_userdata (g, err) < 0)
    return -1;
  return 0;
}

int
nook_specgen (const struct nook_specgen_in *in, json_t **spec, json_t **record, nook_err *err)
{
  struct sg g;
  int ret = -1;

  *spec = *record = NULL;
  if (in == NULL || in->opts == NULL || in->id == NULL || in->ctr_dir == NULL)
    return nook_error_input (err, "specgen: missing input");
  sg_init (&g, in);
  if (sg_run (&g, err) < 0)
    goto out;
  *spec = spec_json (&g, err);
  if (*spec == NULL)
    goto out;
  *record = sg_record (&g, *spec);
  ret = 0;
out:
  sg_free (&g);
  return ret;
}
