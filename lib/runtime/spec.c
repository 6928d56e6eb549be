/* config.json parsing: every known field is type-checked and named on error; unknown keys are ignored;
 * known keys nook cannot honour are refused (see `unsupported` below). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/spec.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/strutil.h"

#define SPEC_MAX_SIZE (4 * 1024 * 1024)
#define PATHLEN 512
#define ID_MAX 2147483647LL /* uids/gids of 2^31 and above are refused, as crun does */

/* Integers above INT64_MAX (RLIM_INFINITY as Go writes it, seccomp masks) are beyond jansson: before
 * parsing they are rewritten to strings with this prefix, which only the uint64 reader accepts. */
#define BIG_PREFIX "\\u0000u64:"
#define BIG_TAG "\0u64:"
#define BIG_TAG_LEN 5

struct pctx
{
  const char *what;
  nook_err *err;
};

/* Known keys nook cannot honour: an error when present and not empty (null, "", [], {} or an object of
 * empty values count as absent).  SECTION "process" entries are checked relative to the process object. */
static const struct
{
  const char *section;
  const char *path;
} unsupported[] = {
  { "", "hooks" },
  { "", "solaris" },
  { "", "windows" },
  { "", "vm" },
  { "", "linux.intelRdt" },
  { "", "linux.personality" },
  { "", "linux.memoryPolicy" },
  { "", "linux.netDevices" },
  { "", "linux.resources.hugepageLimits" },
  { "", "linux.resources.network" },
  { "", "linux.resources.rdma" },
  { "", "linux.resources.blockIO" },
  { "process", "ioPriority" },
  { "process", "scheduler" },
  { "process", "execCPUAffinity" },
};

static const char *const propagations[] = {
  "shared", "slave", "private", "unbindable", "rshared", "rslave", "rprivate", "runbindable",
};

/* ---- error and path helpers ---- */

static int __attribute__ ((format (printf, 3, 4))) bad (struct pctx *c, const char *path, const char *fmt, ...)
{
  char msg[NOOK_ERR_MSG_MAX];
  va_list ap;

  va_start (ap, fmt);
  vsnprintf (msg, sizeof msg, fmt, ap);
  va_end (ap);
  if (path == NULL || *path == '\0')
    return nook_error_input (c->err, "%s: %s", c->what, msg);
  return nook_error_input (c->err, "%s: %s: %s", c->what, path, msg);
}

static const char *
subpath (char *buf, const char *parent, const char *key)
{
  if (parent == NULL || *parent == '\0')
    snprintf (buf, PATHLEN, "%s", key);
  else
    snprintf (buf, PATHLEN, "%s.%s", parent, key);
  return buf;
}

static const char *
indexpath (char *buf, const char *parent, size_t i)
{
  snprintf (buf, PATHLEN, "%s[%zu]", parent, i);
  return buf;
}

/* OBJ[KEY], NULL when absent or null. */
static json_t *
member (json_t *obj, const char *key)
{
  json_t *v = json_object_get (obj, key);
  return json_is_null (v) ? NULL : v;
}

static bool
is_big_tag (json_t *v)
{
  return json_is_string (v) && json_string_length (v) > BIG_TAG_LEN
         && memcmp (json_string_value (v), BIG_TAG, BIG_TAG_LEN) == 0;
}

/* ---- value readers: V is the value, PATH its name ---- */

static int
val_string (struct pctx *c, json_t *v, const char *path, char **out)
{
  if (!json_is_string (v) || is_big_tag (v))
    return bad (c, path, "expected a string");
  if (strlen (json_string_value (v)) != json_string_length (v))
    return bad (c, path, "expected a string without NUL bytes");
  free (*out);
  *out = xstrdup (json_string_value (v));
  return 0;
}

static int
val_int (struct pctx *c, json_t *v, const char *path, int64_t min, int64_t max, int64_t *out)
{
  if (!json_is_integer (v) || json_integer_value (v) < min || json_integer_value (v) > max)
    return bad (c, path, "expected an integer in %" PRId64 "..%" PRId64, min, max);
  *out = json_integer_value (v);
  return 0;
}

static int
val_u64 (struct pctx *c, json_t *v, const char *path, uint64_t *out)
{
  if (json_is_integer (v) && json_integer_value (v) >= 0)
    {
      *out = (uint64_t)json_integer_value (v);
      return 0;
    }
  if (is_big_tag (v) && str_to_u64 (json_string_value (v) + BIG_TAG_LEN, UINT64_MAX, out))
    return 0;
  return bad (c, path, "expected an integer in 0..%" PRIu64, UINT64_MAX);
}

static int
val_strv (struct pctx *c, json_t *v, const char *path, char ***out)
{
  char p[PATHLEN];
  size_t i, n;

  if (!json_is_array (v))
    return bad (c, path, "expected an array of strings");
  n = json_array_size (v);
  strv_free (*out);
  *out = xcalloc (n + 1, sizeof (char *));
  for (i = 0; i < n; i++)
    if (val_string (c, json_array_get (v, i), indexpath (p, path, i), &(*out)[i]) < 0)
      return -1;
  return 0;
}

/* ---- member readers: return 1 when set, 0 when absent (error if REQUIRED), -1 on error ---- */

static int
absent (struct pctx *c, const char *path, bool required)
{
  return required ? bad (c, path, "required field missing") : 0;
}

static int
get_string (struct pctx *c, json_t *obj, const char *parent, const char *key, bool required, char **out)
{
  char p[PATHLEN];
  json_t *v = member (obj, key);

  subpath (p, parent, key);
  if (v == NULL)
    return absent (c, p, required);
  return val_string (c, v, p, out) < 0 ? -1 : 1;
}

/* A string where "" means "not set" (labels, profiles): *OUT stays NULL for it. */
static int
get_opt_string (struct pctx *c, json_t *obj, const char *parent, const char *key, char **out)
{
  int r = get_string (c, obj, parent, key, false, out);
  if (r > 0 && **out == '\0')
    {
      free (*out);
      *out = NULL;
      return 0;
    }
  return r;
}

static int
get_bool (struct pctx *c, json_t *obj, const char *parent, const char *key, bool *out)
{
  char p[PATHLEN];
  json_t *v = member (obj, key);

  if (v == NULL)
    return 0;
  if (!json_is_boolean (v))
    return bad (c, subpath (p, parent, key), "expected a boolean");
  *out = json_is_true (v);
  return 1;
}

static int
get_int (struct pctx *c, json_t *obj, const char *parent, const char *key, bool required, int64_t min, int64_t max,
         int64_t *out)
{
  char p[PATHLEN];
  json_t *v = member (obj, key);

  subpath (p, parent, key);
  if (v == NULL)
    return absent (c, p, required);
  return val_int (c, v, p, min, max, out) < 0 ? -1 : 1;
}

static int
get_u32 (struct pctx *c, json_t *obj, const char *parent, const char *key, bool required, int64_t min, uint32_t *out)
{
  int64_t v = 0;
  int r = get_int (c, obj, parent, key, required, min, UINT32_MAX, &v);
  if (r > 0)
    *out = (uint32_t)v;
  return r;
}

static int
get_id (struct pctx *c, json_t *obj, const char *parent, const char *key, uint32_t *out)
{
  int64_t v = 0;
  int r = get_int (c, obj, parent, key, false, 0, ID_MAX, &v);
  if (r > 0)
    *out = (uint32_t)v;
  return r;
}

static int
get_u64 (struct pctx *c, json_t *obj, const char *parent, const char *key, bool required, uint64_t *out)
{
  char p[PATHLEN];
  json_t *v = member (obj, key);

  subpath (p, parent, key);
  if (v == NULL)
    return absent (c, p, required);
  return val_u64 (c, v, p, out) < 0 ? -1 : 1;
}

/* Always leaves a (possibly empty) vector in *OUT. */
static int
get_strv (struct pctx *c, json_t *obj, const char *parent, const char *key, bool required, char ***out)
{
  char p[PATHLEN];
  json_t *v = member (obj, key);

  subpath (p, parent, key);
  if (*out == NULL)
    *out = xcalloc (1, sizeof (char *));
  if (v == NULL)
    return absent (c, p, required);
  return val_strv (c, v, p, out) < 0 ? -1 : 1;
}

static int
get_typed (struct pctx *c, json_t *obj, const char *parent, const char *key, bool required, json_type type,
           json_t **out)
{
  char p[PATHLEN];
  json_t *v = member (obj, key);

  *out = NULL;
  subpath (p, parent, key);
  if (v == NULL)
    return absent (c, p, required);
  if (json_typeof (v) != type)
    return bad (c, p, type == JSON_OBJECT ? "expected an object" : "expected an array");
  *out = v;
  return 1;
}

static int
get_object (struct pctx *c, json_t *obj, const char *parent, const char *key, bool required, json_t **out)
{
  return get_typed (c, obj, parent, key, required, JSON_OBJECT, out);
}

static int
get_array (struct pctx *c, json_t *obj, const char *parent, const char *key, bool required, json_t **out)
{
  return get_typed (c, obj, parent, key, required, JSON_ARRAY, out);
}

/* An object of strings -> key/value array. */
static int
get_kv (struct pctx *c, json_t *obj, const char *parent, const char *key, struct nook_kv **out, size_t *n)
{
  char p[PATHLEN], ep[PATHLEN];
  json_t *o, *v;
  const char *k;
  size_t klen;
  int r = get_object (c, obj, parent, key, false, &o);

  if (r <= 0)
    return r;
  subpath (p, parent, key);
  *out = xcalloc (json_object_size (o) + 1, sizeof **out);
  json_object_keylen_foreach (o, k, klen, v)
  {
    struct nook_kv *kv = &(*out)[*n];
    subpath (ep, p, k);
    if (strlen (k) != klen)
      return bad (c, p, "key with a NUL byte");
    (*n)++;
    kv->key = xstrdup (k);
    if (val_string (c, v, ep, &kv->value) < 0)
      return -1;
  }
  return 1;
}

/* ---- structural checks ---- */

static bool
json_empty (json_t *v)
{
  const char *k;
  json_t *m;

  if (v == NULL || json_is_null (v))
    return true;
  if (json_is_string (v))
    return json_string_length (v) == 0;
  if (json_is_array (v))
    return json_array_size (v) == 0;
  if (json_is_object (v))
    {
      json_object_foreach (v, k, m) if (!json_empty (m)) return false;
      return true;
    }
  return false;
}

static int
check_unsupported (struct pctx *c, json_t *obj, const char *section, const char *parent)
{
  char p[PATHLEN];

  for (size_t i = 0; i < sizeof unsupported / sizeof unsupported[0]; i++)
    {
      char comp[128];
      const char *s = unsupported[i].path;
      json_t *v = obj;

      if (strcmp (unsupported[i].section, section) != 0)
        continue;
      while (v != NULL && *s != '\0')
        {
          size_t n = strcspn (s, ".");
          snprintf (comp, sizeof comp, "%.*s", (int)n, s);
          v = json_is_object (v) ? json_object_get (v, comp) : NULL;
          s += n + (s[n] == '.');
        }
      if (json_empty (v))
        continue;
      subpath (p, parent, unsupported[i].path);
      if (json_is_object (v))
        {
          const char *k;
          json_t *m;
          json_object_foreach (v, k, m) if (!json_empty (m))
          {
            char q[PATHLEN];
            return bad (c, subpath (q, p, k), "not supported by nook");
          }
        }
      return bad (c, p, "not supported by nook");
    }
  return 0;
}

/* Absolute, no ".." component; "//", "/./" and a trailing "/" are removed.  NULL when invalid. */
static char *
clean_dest (const char *in)
{
  char *out, *o;
  const char *s = in;

  if (in[0] != '/')
    return NULL;
  out = o = xmalloc (strlen (in) + 2);
  while (*s != '\0')
    {
      size_t n;
      while (*s == '/')
        s++;
      n = strcspn (s, "/");
      if (n == 0 || (n == 1 && s[0] == '.'))
        {
          s += n;
          continue;
        }
      if (n == 2 && s[0] == '.' && s[1] == '.')
        {
          free (out);
          return NULL;
        }
      *o++ = '/';
      memcpy (o, s, n);
      o += n;
      s += n;
    }
  if (o == out)
    *o++ = '/';
  *o = '\0';
  return out;
}

static int
check_abs (struct pctx *c, const char *path, const char *value)
{
  if (value[0] != '/')
    return bad (c, path, "`%s` is not an absolute path", value);
  return 0;
}

static int
get_abs_strv (struct pctx *c, json_t *obj, const char *parent, const char *key, char ***out)
{
  char p[PATHLEN], q[PATHLEN];
  int r = get_strv (c, obj, parent, key, false, out);

  if (r <= 0)
    return r;
  subpath (p, parent, key);
  for (size_t i = 0; (*out)[i] != NULL; i++)
    if (check_abs (c, indexpath (q, p, i), (*out)[i]) < 0)
      return -1;
  return 1;
}

/* Allocate N+1 zeroed elements for the array ARR (or nothing when absent). */
#define ALLOC_FOR(arr, ptr) ((ptr) = xcalloc (json_array_size (arr) + 1, sizeof *(ptr)))

/* ---- process ---- */

static int
parse_user (struct pctx *c, json_t *proc, const char *parent, struct nook_user *u)
{
  char p[PATHLEN], gp[PATHLEN], q[PATHLEN];
  json_t *o, *gids;
  int64_t v;
  int r = get_object (c, proc, parent, "user", false, &o);

  if (r <= 0)
    return r;
  subpath (p, parent, "user");
  if (get_id (c, o, p, "uid", &u->uid) < 0 || get_id (c, o, p, "gid", &u->gid) < 0)
    return -1;
  r = get_int (c, o, p, "umask", false, 0, 0777, &v);
  if (r < 0)
    return -1;
  u->has_umask = r > 0;
  u->umask = r > 0 ? (mode_t)v : 0;
  r = get_array (c, o, p, "additionalGids", false, &gids);
  if (r <= 0)
    return r;
  subpath (gp, p, "additionalGids");
  ALLOC_FOR (gids, u->additional_gids);
  for (size_t i = 0; i < json_array_size (gids); i++)
    {
      if (val_int (c, json_array_get (gids, i), indexpath (q, gp, i), 0, ID_MAX, &v) < 0)
        return -1;
      u->additional_gids[u->n_additional_gids++] = (gid_t)v;
    }
  return 0;
}

static int
parse_console (struct pctx *c, json_t *proc, const char *parent, struct nook_process *pr)
{
  char p[PATHLEN];
  json_t *o;
  int64_t h, w;
  int r = get_object (c, proc, parent, "consoleSize", false, &o);

  if (r <= 0)
    return r;
  subpath (p, parent, "consoleSize");
  if (get_int (c, o, p, "height", true, 0, 65535, &h) < 0 || get_int (c, o, p, "width", true, 0, 65535, &w) < 0)
    return -1;
  pr->console_height = (unsigned int)h;
  pr->console_width = (unsigned int)w;
  return 0;
}

static int
parse_rlimit (struct pctx *c, json_t *o, const char *p, struct nook_process *pr)
{
  char q[PATHLEN];
  cleanup_free char *type = NULL;
  struct nook_rlimit *rl = &pr->rlimits[pr->n_rlimits];

  if (!json_is_object (o))
    return bad (c, p, "expected an object");
  if (get_string (c, o, p, "type", true, &type) < 0)
    return -1;
  rl->resource = nook_rlimit_from_name (type);
  if (rl->resource < 0)
    return bad (c, subpath (q, p, "type"), "unknown rlimit `%s`", type);
  for (size_t j = 0; j < pr->n_rlimits; j++)
    if (pr->rlimits[j].resource == rl->resource)
      return bad (c, subpath (q, p, "type"), "duplicate rlimit `%s`", type);
  if (get_u64 (c, o, p, "soft", true, &rl->soft) < 0 || get_u64 (c, o, p, "hard", true, &rl->hard) < 0)
    return -1;
  if (rl->soft > rl->hard)
    return bad (c, p, "%s: soft limit %" PRIu64 " is above the hard limit %" PRIu64, type, rl->soft, rl->hard);
  pr->n_rlimits++;
  return 0;
}

static int
parse_rlimits (struct pctx *c, json_t *proc, const char *parent, struct nook_process *pr)
{
  char p[PATHLEN], q[PATHLEN];
  json_t *arr;
  int r = get_array (c, proc, parent, "rlimits", false, &arr);

  if (r <= 0)
    return r;
  subpath (p, parent, "rlimits");
  ALLOC_FOR (arr, pr->rlimits);
  for (size_t i = 0; i < json_array_size (arr); i++)
    if (parse_rlimit (c, json_array_get (arr, i), indexpath (q, p, i), pr) < 0)
      return -1;
  return 0;
}

static int
cap_last_cap (void)
{
  cleanup_free char *text = NULL;
  nook_err ignored;
  uint64_t v;

  if (nook_read_file_at (AT_FDCWD, "/proc/sys/kernel/cap_last_cap", &text, NULL, 64, &ignored) < 0)
    return NOOK_CAP_MAX - 1;
  text[strcspn (text, "\n")] = '\0';
  if (!str_to_u64 (text, NOOK_CAP_MAX - 1, &v))
    return NOOK_CAP_MAX - 1;
  return (int)v;
}

static int
parse_capset (struct pctx *c, json_t *caps, const char *parent, const char *key, int last, uint64_t *mask)
{
  char p[PATHLEN], q[PATHLEN];
  cleanup_strv char **names = NULL;
  int r = get_strv (c, caps, parent, key, false, &names);

  if (r <= 0)
    return r;
  subpath (p, parent, key);
  for (size_t i = 0; names[i] != NULL; i++)
    {
      int cap = nook_cap_from_name (names[i]);
      if (cap < 0)
        return bad (c, indexpath (q, p, i), "unknown capability `%s`", names[i]);
      if (cap <= last) /* the running kernel lacks newer ones: dropped */
        *mask |= UINT64_C (1) << cap;
    }
  return 0;
}

static int
parse_caps (struct pctx *c, json_t *proc, const char *parent, struct nook_process *pr)
{
  char p[PATHLEN];
  json_t *o;
  int last;
  int r = get_object (c, proc, parent, "capabilities", false, &o);

  if (r <= 0)
    return r;
  pr->has_caps = true;
  last = cap_last_cap ();
  subpath (p, parent, "capabilities");
  if (parse_capset (c, o, p, "bounding", last, &pr->caps.bounding) < 0
      || parse_capset (c, o, p, "effective", last, &pr->caps.effective) < 0
      || parse_capset (c, o, p, "permitted", last, &pr->caps.permitted) < 0
      || parse_capset (c, o, p, "inheritable", last, &pr->caps.inheritable) < 0
      || parse_capset (c, o, p, "ambient", last, &pr->caps.ambient) < 0)
    return -1;
  return 0;
}

static int
parse_env (struct pctx *c, json_t *proc, const char *parent, struct nook_process *pr)
{
  char p[PATHLEN], q[PATHLEN];
  int r = get_strv (c, proc, parent, "env", false, &pr->env);

  if (r <= 0)
    return r;
  subpath (p, parent, "env");
  for (size_t i = 0; pr->env[i] != NULL; i++)
    if (strchr (pr->env[i], '=') == NULL || pr->env[i][0] == '=')
      return bad (c, indexpath (q, p, i), "expected NAME=VALUE, got `%s`", pr->env[i]);
  return 1;
}

static int
process_parse (struct pctx *c, json_t *obj, const char *parent, struct nook_process *pr)
{
  char p[PATHLEN];
  int64_t v;
  int r;

  if (!json_is_object (obj))
    return bad (c, parent, "expected an object");
  if (check_unsupported (c, obj, "process", parent) < 0)
    return -1;
  if (get_strv (c, obj, parent, "args", true, &pr->args) < 0)
    return -1;
  if (pr->args[0] == NULL)
    return bad (c, subpath (p, parent, "args"), "must not be empty");
  if (parse_env (c, obj, parent, pr) < 0)
    return -1;
  if (get_string (c, obj, parent, "cwd", true, &pr->cwd) < 0 || check_abs (c, subpath (p, parent, "cwd"), pr->cwd) < 0)
    return -1;
  if (parse_user (c, obj, parent, &pr->user) < 0 || get_bool (c, obj, parent, "terminal", &pr->terminal) < 0
      || parse_console (c, obj, parent, pr) < 0 || parse_rlimits (c, obj, parent, pr) < 0
      || get_bool (c, obj, parent, "noNewPrivileges", &pr->no_new_privileges) < 0
      || parse_caps (c, obj, parent, pr) < 0)
    return -1;
  r = get_int (c, obj, parent, "oomScoreAdj", false, -1000, 1000, &v);
  if (r < 0)
    return -1;
  pr->has_oom_score_adj = r > 0;
  pr->oom_score_adj = r > 0 ? (int)v : 0;
  if (get_opt_string (c, obj, parent, "apparmorProfile", &pr->apparmor_profile) < 0
      || get_opt_string (c, obj, parent, "selinuxLabel", &pr->selinux_label) < 0)
    return -1;
  return 0;
}

int
nook_process_parse (json_t *obj, const char *what, struct nook_process **out, nook_err *err)
{
  struct pctx c = { what, err };
  struct nook_process *pr = xcalloc (1, sizeof *pr);

  if (process_parse (&c, obj, "", pr) < 0)
    {
      nook_process_free (pr);
      return -1;
    }
  *out = pr;
  return 0;
}

/* ---- root, mounts, annotations ---- */

static int
parse_root (struct pctx *c, json_t *top, struct nook_spec *s)
{
  json_t *o;

  if (get_object (c, top, "", "root", true, &o) < 0 || get_string (c, o, "root", "path", true, &s->root_path) < 0)
    return -1;
  if (s->root_path[0] == '\0')
    return bad (c, "root.path", "must not be empty");
  return get_bool (c, o, "root", "readonly", &s->root_readonly) < 0 ? -1 : 0;
}

static int
parse_mount (struct pctx *c, json_t *o, const char *p, struct nook_mount *m)
{
  char q[PATHLEN];
  cleanup_free char *dest = NULL;

  if (!json_is_object (o))
    return bad (c, p, "expected an object");
  if (get_string (c, o, p, "destination", true, &dest) < 0)
    return -1;
  m->destination = clean_dest (dest);
  if (m->destination == NULL)
    return bad (c, subpath (q, p, "destination"), "relative or escaping mount destination `%s`", dest);
  if (get_string (c, o, p, "type", false, &m->type) < 0 || get_string (c, o, p, "source", false, &m->source) < 0
      || get_strv (c, o, p, "options", false, &m->options) < 0)
    return -1;
  return 0;
}

static int
parse_mounts (struct pctx *c, json_t *top, struct nook_spec *s)
{
  char p[PATHLEN];
  json_t *arr;
  int r = get_array (c, top, "", "mounts", false, &arr);

  if (r <= 0)
    return r;
  ALLOC_FOR (arr, s->mounts);
  for (size_t i = 0; i < json_array_size (arr); i++)
    {
      s->n_mounts = i + 1;
      if (parse_mount (c, json_array_get (arr, i), indexpath (p, "mounts", i), &s->mounts[i]) < 0)
        return -1;
    }
  return 0;
}

/* ---- linux ---- */

static int
parse_namespace (struct pctx *c, json_t *o, const char *p, struct nook_spec *s)
{
  char q[PATHLEN];
  cleanup_free char *type = NULL, *path = NULL;
  int ns;

  if (!json_is_object (o))
    return bad (c, p, "expected an object");
  if (get_string (c, o, p, "type", true, &type) < 0)
    return -1;
  ns = nook_ns_from_name (type);
  if (ns < 0)
    return bad (c, subpath (q, p, "type"), "unknown namespace type `%s`", type);
  if (s->namespaces[ns].enabled)
    return bad (c, subpath (q, p, "type"), "duplicate namespace type `%s`", type);
  if (get_string (c, o, p, "path", false, &path) < 0)
    return -1;
  if (path != NULL && path[0] != '\0' && check_abs (c, subpath (q, p, "path"), path) < 0)
    return -1;
  s->namespaces[ns].enabled = true;
  if (path != NULL && path[0] != '\0')
    s->namespaces[ns].path = steal_pointer (&path);
  return 0;
}

static int
parse_idmaps (struct pctx *c, json_t *lx, const char *key, struct nook_idmap **out, size_t *n)
{
  char p[PATHLEN], q[PATHLEN];
  json_t *arr;
  int r = get_array (c, lx, "linux", key, false, &arr);

  if (r <= 0)
    return r;
  subpath (p, "linux", key);
  ALLOC_FOR (arr, *out);
  for (size_t i = 0; i < json_array_size (arr); i++)
    {
      struct nook_idmap *m = &(*out)[i];
      json_t *o = json_array_get (arr, i);
      indexpath (q, p, i);
      if (!json_is_object (o))
        return bad (c, q, "expected an object");
      if (get_u32 (c, o, q, "containerID", true, 0, &m->container_id) < 0
          || get_u32 (c, o, q, "hostID", true, 0, &m->host_id) < 0 || get_u32 (c, o, q, "size", true, 1, &m->size) < 0)
        return -1;
      if ((uint64_t)m->container_id + m->size > UINT64_C (1) << 32
          || (uint64_t)m->host_id + m->size > UINT64_C (1) << 32)
        return bad (c, q, "id + size overflows 32 bits");
      *n = i + 1;
    }
  return 1;
}

static int
parse_namespaces (struct pctx *c, json_t *lx, struct nook_spec *s)
{
  char p[PATHLEN];
  json_t *arr;
  bool new_user;

  if (get_array (c, lx, "linux", "namespaces", false, &arr) < 0)
    return -1;
  for (size_t i = 0; arr != NULL && i < json_array_size (arr); i++)
    if (parse_namespace (c, json_array_get (arr, i), indexpath (p, "linux.namespaces", i), s) < 0)
      return -1;
  if (parse_idmaps (c, lx, "uidMappings", &s->uid_mappings, &s->n_uid_mappings) < 0
      || parse_idmaps (c, lx, "gidMappings", &s->gid_mappings, &s->n_gid_mappings) < 0)
    return -1;
  if (!s->namespaces[NOOK_NS_USER].enabled)
    {
      if (s->n_uid_mappings > 0)
        return bad (c, "linux.uidMappings", "set without a user namespace in linux.namespaces");
      if (s->n_gid_mappings > 0)
        return bad (c, "linux.gidMappings", "set without a user namespace in linux.namespaces");
      return 0;
    }
  new_user = s->namespaces[NOOK_NS_USER].path == NULL;
  if (new_user && s->n_uid_mappings == 0)
    return bad (c, "linux.uidMappings", "required with a new user namespace");
  if (new_user && s->n_gid_mappings == 0)
    return bad (c, "linux.gidMappings", "required with a new user namespace");
  return 0;
}

static int
parse_device (struct pctx *c, json_t *o, const char *p, struct nook_device *d)
{
  char q[PATHLEN];
  cleanup_free char *type = NULL;
  bool need_numbers;
  int64_t mode;
  int r;

  if (!json_is_object (o))
    return bad (c, p, "expected an object");
  if (get_string (c, o, p, "path", true, &d->path) < 0 || check_abs (c, subpath (q, p, "path"), d->path) < 0
      || get_string (c, o, p, "type", true, &type) < 0)
    return -1;
  if (strlen (type) != 1 || strchr ("cbup", type[0]) == NULL)
    return bad (c, subpath (q, p, "type"), "expected one of c, b, u, p, got `%s`", type);
  d->type = type[0];
  need_numbers = d->type != 'p';
  if (get_int (c, o, p, "major", need_numbers, INT64_MIN, INT64_MAX, &d->major) < 0
      || get_int (c, o, p, "minor", need_numbers, INT64_MIN, INT64_MAX, &d->minor) < 0)
    return -1;
  r = get_int (c, o, p, "fileMode", false, 0, 0177777, &mode);
  if (r < 0)
    return -1;
  d->has_mode = r > 0;
  d->mode = r > 0 ? (mode_t)mode & 07777 : 0;
  if ((r = get_id (c, o, p, "uid", &d->uid)) < 0)
    return -1;
  d->has_uid = r > 0;
  if ((r = get_id (c, o, p, "gid", &d->gid)) < 0)
    return -1;
  d->has_gid = r > 0;
  return 0;
}

static int
parse_devices (struct pctx *c, json_t *lx, struct nook_spec *s)
{
  char p[PATHLEN];
  json_t *arr;
  int r = get_array (c, lx, "linux", "devices", false, &arr);

  if (r <= 0)
    return r;
  ALLOC_FOR (arr, s->devices);
  for (size_t i = 0; i < json_array_size (arr); i++)
    {
      s->n_devices = i + 1;
      if (parse_device (c, json_array_get (arr, i), indexpath (p, "linux.devices", i), &s->devices[i]) < 0)
        return -1;
    }
  return 0;
}

static int
parse_seccomp_arg (struct pctx *c, json_t *o, const char *p, struct nook_seccomp_arg *a)
{
  int64_t index;

  if (!json_is_object (o))
    return bad (c, p, "expected an object");
  if (get_int (c, o, p, "index", true, 0, 5, &index) < 0 || get_u64 (c, o, p, "value", true, &a->value) < 0
      || get_u64 (c, o, p, "valueTwo", false, &a->value_two) < 0 || get_string (c, o, p, "op", true, &a->op) < 0)
    return -1;
  a->index = (unsigned int)index;
  return 0;
}

static int
parse_seccomp_rule (struct pctx *c, json_t *o, const char *p, struct nook_seccomp_rule *rule)
{
  char q[PATHLEN], ap[PATHLEN];
  json_t *args;
  int r;

  if (!json_is_object (o))
    return bad (c, p, "expected an object");
  if (get_strv (c, o, p, "names", true, &rule->names) < 0 || get_string (c, o, p, "action", true, &rule->action) < 0)
    return -1;
  if (rule->names[0] == NULL)
    return bad (c, subpath (q, p, "names"), "must not be empty");
  r = get_u32 (c, o, p, "errnoRet", false, 0, &rule->errno_ret);
  if (r < 0)
    return -1;
  rule->has_errno_ret = r > 0;
  if ((r = get_array (c, o, p, "args", false, &args)) <= 0)
    return r;
  subpath (ap, p, "args");
  ALLOC_FOR (args, rule->args);
  for (size_t i = 0; i < json_array_size (args); i++)
    {
      rule->n_args = i + 1;
      if (parse_seccomp_arg (c, json_array_get (args, i), indexpath (q, ap, i), &rule->args[i]) < 0)
        return -1;
    }
  return 0;
}

/* SCMP_ACT_NOTIFY needs an agent to hand the notify fd to; and never on write(2), which the runtime's
 * init itself uses after the filter is in place (runc's rule). */
static int
check_seccomp_notify (struct pctx *c, const struct nook_seccomp *sc)
{
  char q[PATHLEN];

  for (size_t i = 0; i < sc->n_rules; i++)
    {
      if (sc->rules[i].action == NULL || strcmp (sc->rules[i].action, "SCMP_ACT_NOTIFY") != 0)
        continue;
      if (sc->listener_path == NULL || sc->listener_path[0] == '\0')
        return bad (c, "linux.seccomp.listenerPath", "required by SCMP_ACT_NOTIFY in syscalls[%zu]", i);
      for (size_t k = 0; sc->rules[i].names[k]; k++)
        if (strcmp (sc->rules[i].names[k], "write") == 0)
          return bad (c, indexpath (q, "linux.seccomp.syscalls", i),
                      "SCMP_ACT_NOTIFY cannot be used for the write syscall");
    }
  if (sc->listener_path && sc->listener_path[0] != '\0' && sc->listener_path[0] != '/')
    return bad (c, "linux.seccomp.listenerPath", "`%s`: expected an absolute path", sc->listener_path);
  return 0;
}

static int
parse_seccomp (struct pctx *c, json_t *lx, struct nook_spec *s)
{
  const char *P = "linux.seccomp";
  char q[PATHLEN];
  struct nook_seccomp *sc;
  json_t *o, *rules;
  int r = get_object (c, lx, "linux", "seccomp", false, &o);

  if (r <= 0)
    return r;
  sc = s->seccomp = xcalloc (1, sizeof *sc);
  if (get_string (c, o, P, "defaultAction", true, &sc->default_action) < 0)
    return -1;
  if ((r = get_u32 (c, o, P, "defaultErrnoRet", false, 0, &sc->default_errno_ret)) < 0)
    return -1;
  sc->has_default_errno_ret = r > 0;
  if (get_strv (c, o, P, "architectures", false, &sc->architectures) < 0
      || get_strv (c, o, P, "flags", false, &sc->flags) < 0
      || get_string (c, o, P, "listenerPath", false, &sc->listener_path) < 0
      || get_string (c, o, P, "listenerMetadata", false, &sc->listener_metadata) < 0
      || (r = get_array (c, o, P, "syscalls", false, &rules)) < 0)
    return -1;
  if (r == 0)
    return check_seccomp_notify (c, sc);
  ALLOC_FOR (rules, sc->rules);
  for (size_t i = 0; i < json_array_size (rules); i++)
    {
      sc->n_rules = i + 1;
      if (parse_seccomp_rule (c, json_array_get (rules, i), indexpath (q, "linux.seccomp.syscalls", i), &sc->rules[i])
          < 0)
        return -1;
    }
  return check_seccomp_notify (c, sc);
}

static int
parse_device_rule (struct pctx *c, json_t *o, const char *p, struct nook_device_rule *d)
{
  char q[PATHLEN];
  cleanup_free char *type = NULL, *access = NULL;
  json_t *allow = member (o, "allow");

  if (!json_is_object (o))
    return bad (c, p, "expected an object");
  if (allow == NULL)
    return bad (c, subpath (q, p, "allow"), "required field missing");
  if (get_bool (c, o, p, "allow", &d->allow) < 0 || get_string (c, o, p, "type", false, &type) < 0)
    return -1;
  d->type = 'a';
  if (type != NULL && (strlen (type) != 1 || strchr ("acb", type[0]) == NULL))
    return bad (c, subpath (q, p, "type"), "expected one of a, c, b, got `%s`", type);
  if (type != NULL)
    d->type = type[0];
  d->major = d->minor = -1;
  if (get_int (c, o, p, "major", false, -1, INT64_MAX, &d->major) < 0
      || get_int (c, o, p, "minor", false, -1, INT64_MAX, &d->minor) < 0
      || get_string (c, o, p, "access", false, &access) < 0)
    return -1;
  if (access == NULL || access[0] == '\0')
    {
      strcpy (d->access, "rwm");
      return 0;
    }
  if (strlen (access) > 8 || strspn (access, "abcdefghijklmnopqrstuvwxyz") != strlen (access))
    return bad (c, subpath (q, p, "access"), "expected a subset of `rwm`, got `%s`", access);
  /* Other letters ("rwa") are ignored, as runc does; r, w, m are kept, each once, in that order.  Only
   * unknown letters leave an empty access: a rule that grants and denies nothing. */
  size_t n = 0;
  for (const char *k = "rwm"; *k; k++)
    if (strchr (access, *k))
      d->access[n++] = *k;
  d->access[n] = '\0';
  return 0;
}

static int
parse_res_memory_cpu_pids (struct pctx *c, json_t *res, struct nook_resources *r)
{
  json_t *mem, *cpu, *pids;
  int k;

  if (get_object (c, res, "linux.resources", "memory", false, &mem) < 0
      || get_object (c, res, "linux.resources", "cpu", false, &cpu) < 0
      || get_object (c, res, "linux.resources", "pids", false, &pids) < 0)
    return -1;
#define GET(obj, parent, key, min, field, has)                                                                         \
  do                                                                                                                   \
    {                                                                                                                  \
      if ((k = get_int (c, obj, parent, key, false, min, INT64_MAX, &r->field)) < 0)                                   \
        return -1;                                                                                                     \
      r->has = k > 0;                                                                                                  \
    }                                                                                                                  \
  while (0)
  if (mem != NULL)
    {
      GET (mem, "linux.resources.memory", "limit", -1, memory_limit, has_memory_limit);
      GET (mem, "linux.resources.memory", "reservation", -1, memory_reservation, has_memory_reservation);
      GET (mem, "linux.resources.memory", "swap", -1, memory_swap, has_memory_swap);
    }
  if (pids != NULL)
    GET (pids, "linux.resources.pids", "limit", INT64_MIN, pids_limit, has_pids_limit);
  if (cpu != NULL)
    {
      const char *P = "linux.resources.cpu";
      GET (cpu, P, "quota", INT64_MIN, cpu_quota, has_cpu_quota);
      if ((k = get_u64 (c, cpu, P, "shares", false, &r->cpu_shares)) < 0)
        return -1;
      r->has_cpu_shares = k > 0;
      if ((k = get_u64 (c, cpu, P, "period", false, &r->cpu_period)) < 0)
        return -1;
      r->has_cpu_period = k > 0;
      if (get_opt_string (c, cpu, P, "cpus", &r->cpu_cpus) < 0 || get_opt_string (c, cpu, P, "mems", &r->cpu_mems) < 0)
        return -1;
    }
#undef GET
  return 0;
}

static int
parse_resources (struct pctx *c, json_t *lx, struct nook_spec *s)
{
  char p[PATHLEN];
  struct nook_resources *r = &s->resources;
  json_t *res, *devs;
  int k = get_object (c, lx, "linux", "resources", false, &res);

  if (k <= 0)
    return k;
  if (parse_res_memory_cpu_pids (c, res, r) < 0
      || get_kv (c, res, "linux.resources", "unified", &r->unified, &r->n_unified) < 0
      || (k = get_array (c, res, "linux.resources", "devices", false, &devs)) < 0)
    return -1;
  if (k == 0)
    return 0;
  ALLOC_FOR (devs, r->devices);
  for (size_t i = 0; i < json_array_size (devs); i++)
    {
      if (parse_device_rule (c, json_array_get (devs, i), indexpath (p, "linux.resources.devices", i), &r->devices[i])
          < 0)
        return -1;
      r->n_devices = i + 1;
    }
  return 0;
}

/* linux.timeOffsets: {"monotonic": {"secs": S, "nanosecs": N}, "boottime": {...}} */
static int
parse_time_offsets (struct pctx *c, json_t *lx, struct nook_spec *s)
{
  static const char *const clocks[] = { "monotonic", "boottime" };
  json_t *to;
  int r = get_object (c, lx, "linux", "timeOffsets", false, &to);

  if (r <= 0)
    return r;
  for (int i = 0; i < 2; i++)
    {
      char path[64];
      json_t *o;
      int64_t secs = 0, ns = 0;

      snprintf (path, sizeof (path), "linux.timeOffsets");
      r = get_object (c, to, path, clocks[i], false, &o);
      if (r < 0)
        return -1;
      if (r == 0)
        continue;
      snprintf (path, sizeof (path), "linux.timeOffsets.%s", clocks[i]);
      if (get_int (c, o, path, "secs", false, INT64_MIN / 2, INT64_MAX / 2, &secs) < 0
          || get_int (c, o, path, "nanosecs", false, 0, 999999999, &ns) < 0)
        return -1;
      s->time_offsets[i].set = true;
      s->time_offsets[i].secs = secs;
      s->time_offsets[i].nanosecs = (uint32_t) ns;
    }
  return 0;
}

static int
parse_linux (struct pctx *c, json_t *top, struct nook_spec *s)
{
  json_t *lx;
  int r = get_object (c, top, "", "linux", false, &lx);

  s->masked_paths = xcalloc (1, sizeof (char *));
  s->readonly_paths = xcalloc (1, sizeof (char *));
  if (r <= 0)
    return r;
  if (parse_namespaces (c, lx, s) < 0 || get_abs_strv (c, lx, "linux", "maskedPaths", &s->masked_paths) < 0
      || get_abs_strv (c, lx, "linux", "readonlyPaths", &s->readonly_paths) < 0
      || get_kv (c, lx, "linux", "sysctl", &s->sysctl, &s->n_sysctl) < 0)
    return -1;
  r = get_string (c, lx, "linux", "rootfsPropagation", false, &s->rootfs_propagation);
  if (r < 0)
    return -1;
  if (r > 0)
    {
      size_t i, n = sizeof propagations / sizeof propagations[0];
      for (i = 0; i < n && strcmp (propagations[i], s->rootfs_propagation) != 0; i++)
        ;
      if (i == n)
        return bad (c, "linux.rootfsPropagation", "unknown propagation `%s`", s->rootfs_propagation);
    }
  if (parse_devices (c, lx, s) < 0 || parse_seccomp (c, lx, s) < 0
      || get_opt_string (c, lx, "linux", "cgroupsPath", &s->cgroups_path) < 0 || parse_resources (c, lx, s) < 0
      || get_opt_string (c, lx, "linux", "mountLabel", &s->mount_label) < 0 || parse_time_offsets (c, lx, s) < 0)
    return -1;
  if ((s->time_offsets[0].set || s->time_offsets[1].set) && !s->namespaces[NOOK_NS_TIME].enabled)
    return bad (c, "linux.timeOffsets", "set without a time namespace");
  if ((s->time_offsets[0].set || s->time_offsets[1].set) && s->namespaces[NOOK_NS_TIME].path != NULL)
    return bad (c, "linux.timeOffsets", "set for a time namespace that is joined (path), not created");
  return 0;
}

/* ---- top level ---- */

/* Rewrite integer literals above INT64_MAX (and within uint64) to BIG_PREFIX strings.  NULL when the
 * text has none (the common case: no copy). */
static char *
rewrite_big_ints (const char *text, size_t len, size_t *outlen)
{
  char *out = NULL;
  size_t o = 0, cap = 0, i = 0, copied = 0;
  bool in_str = false;

  while (i < len)
    {
      char ch = text[i];
      size_t start = i, n;

      if (in_str)
        {
          i += (ch == '\\') ? 2 : 1;
          in_str = ch != '"';
          continue;
        }
      if (ch == '"')
        {
          in_str = true;
          i++;
          continue;
        }
      if (!(ch >= '0' && ch <= '9') && ch != '-')
        {
          i++;
          continue;
        }
      while (i < len && strchr ("0123456789-+.eE", text[i]) != NULL && text[i] != '\0')
        i++;
      n = i - start;
      if (text[start] == '-' || strspn (text + start, "0123456789") < n || n < 19 || n > 20
          || (n == 19 && memcmp (text + start, "9223372036854775807", 19) <= 0)
          || (n == 20 && memcmp (text + start, "18446744073709551615", 20) > 0))
        continue;
      if (o + (start - copied) + n + 16 > cap)
        {
          cap = (cap + (start - copied) + n + 16) * 2;
          out = xrealloc (out, cap);
        }
      memcpy (out + o, text + copied, start - copied);
      o += start - copied;
      o += sprintf (out + o, "\"" BIG_PREFIX "%.*s\"", (int)n, text + start);
      copied = i;
    }
  if (out == NULL)
    return NULL;
  out = xrealloc (out, o + (len - copied) + 1);
  memcpy (out + o, text + copied, len - copied);
  o += len - copied;
  out[o] = '\0';
  *outlen = o;
  return out;
}

static int
spec_from_json (struct pctx *c, json_t *top, struct nook_spec *s)
{
  json_t *proc;

  if (!json_is_object (top))
    return bad (c, NULL, "expected a JSON object");
  if (check_unsupported (c, top, "", "") < 0)
    return -1;
  if (get_string (c, top, "", "ociVersion", false, &s->oci_version) < 0)
    return -1;
  proc = member (top, "process");
  if (proc != NULL)
    {
      s->process = xcalloc (1, sizeof *s->process);
      if (process_parse (c, proc, "process", s->process) < 0)
        return -1;
    }
  if (parse_root (c, top, s) < 0 || get_string (c, top, "", "hostname", false, &s->hostname) < 0
      || get_string (c, top, "", "domainname", false, &s->domainname) < 0 || parse_mounts (c, top, s) < 0
      || get_kv (c, top, "", "annotations", &s->annotations, &s->n_annotations) < 0 || parse_linux (c, top, s) < 0)
    return -1;
  return 0;
}

int
nook_spec_parse (const char *text, size_t len, const char *what, struct nook_spec **out, nook_err *err)
{
  struct pctx c = { what, err };
  cleanup_free char *rewritten = NULL;
  json_error_t jerr;
  json_t *top;
  struct nook_spec *s;
  size_t rlen = 0;
  int r;

  rewritten = rewrite_big_ints (text, len, &rlen);
  top = json_loadb (rewritten ? rewritten : text, rewritten ? rlen : len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL,
                    &jerr);
  if (top == NULL)
    return nook_error_input (err, "%s: line %d, column %d: %s", what, jerr.line, jerr.column, jerr.text);
  s = xcalloc (1, sizeof *s);
  r = spec_from_json (&c, top, s);
  json_decref (top);
  if (r < 0)
    {
      nook_spec_free (s);
      return -1;
    }
  *out = s;
  return 0;
}

int
nook_spec_load (const char *bundle, struct nook_spec **out, nook_err *err)
{
  cleanup_free char *path = xasprintf ("%s/config.json", bundle);
  cleanup_free char *text = NULL;
  size_t len = 0;

  if (nook_read_file_at (AT_FDCWD, path, &text, &len, SPEC_MAX_SIZE, err) < 0)
    return -1;
  return nook_spec_parse (text, len, path, out, err);
}

/* ---- freeing ---- */

static void
kv_free (struct nook_kv *kv, size_t n)
{
  for (size_t i = 0; kv != NULL && i < n; i++)
    {
      free (kv[i].key);
      free (kv[i].value);
    }
  free (kv);
}

void
nook_process_free (struct nook_process *p)
{
  if (p == NULL)
    return;
  strv_free (p->args);
  strv_free (p->env);
  free (p->cwd);
  free (p->user.additional_gids);
  free (p->rlimits);
  free (p->apparmor_profile);
  free (p->selinux_label);
  free (p);
}

static void
seccomp_free (struct nook_seccomp *sc)
{
  if (sc == NULL)
    return;
  free (sc->default_action);
  free (sc->listener_path);
  free (sc->listener_metadata);
  strv_free (sc->architectures);
  strv_free (sc->flags);
  for (size_t i = 0; i < sc->n_rules; i++)
    {
      strv_free (sc->rules[i].names);
      free (sc->rules[i].action);
      for (size_t j = 0; j < sc->rules[i].n_args; j++)
        free (sc->rules[i].args[j].op);
      free (sc->rules[i].args);
    }
  free (sc->rules);
  free (sc);
}

void
nook_spec_free (struct nook_spec *s)
{
  if (s == NULL)
    return;
  free (s->oci_version);
  nook_process_free (s->process);
  free (s->root_path);
  free (s->hostname);
  free (s->domainname);
  for (size_t i = 0; i < s->n_mounts; i++)
    {
      free (s->mounts[i].destination);
      free (s->mounts[i].type);
      free (s->mounts[i].source);
      strv_free (s->mounts[i].options);
    }
  free (s->mounts);
  for (int i = 0; i < NOOK_NS_COUNT; i++)
    free (s->namespaces[i].path);
  free (s->uid_mappings);
  free (s->gid_mappings);
  strv_free (s->masked_paths);
  strv_free (s->readonly_paths);
  kv_free (s->sysctl, s->n_sysctl);
  free (s->rootfs_propagation);
  for (size_t i = 0; i < s->n_devices; i++)
    free (s->devices[i].path);
  free (s->devices);
  seccomp_free (s->seccomp);
  free (s->cgroups_path);
  free (s->resources.cpu_cpus);
  free (s->resources.cpu_mems);
  free (s->resources.devices);
  kv_free (s->resources.unified, s->resources.n_unified);
  free (s->mount_label);
  kv_free (s->annotations, s->n_annotations);
  free (s);
}

int
nook_resources_parse (json_t *obj, const char *what, struct nook_resources *out, nook_err *err)
{
  struct pctx c = { what, err };
  struct nook_spec s = { 0 };
  json_t *lx = json_pack ("{s:O}", "resources", obj);
  int r = parse_resources (&c, lx, &s);

  json_decref (lx);
  *out = s.resources;
  if (r < 0)
    {
      nook_resources_free (out);
      return -1;
    }
  return 0;
}

void
nook_resources_free (struct nook_resources *r)
{
  free (r->cpu_cpus);
  free (r->cpu_mems);
  free (r->devices);
  kv_free (r->unified, r->n_unified);
  memset (r, 0, sizeof (*r));
}
