/* `nook run` / `nook create` flags (see manager/runopts.h).  One table describes every flag; getopt_long
 * (with a leading '+': parsing stops at IMAGE) walks argv and each value goes to its field, through a
 * validating handler where the flag needs one.  Messages follow podman's (pflag's) wording. */
#include "manager/runopts.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fcntl.h>

#include "util/cleanup.h"
#include "util/fs.h"
#include "util/strutil.h"

extern char **environ;

#define DEFAULT_SHM_SIZE (64LL * 1024 * 1024)
#define DEFAULT_DETACH_KEYS "ctrl-p,ctrl-q"
#define OPT_BASE 256

/* What the parse collects besides the struct: env and labels from files go before the flags' own. */
struct ctx
{
  char **file_env, **file_labels;
  bool env_host, http_proxy;
};

struct flag;
typedef int (*flag_fn) (struct nook_run_opts *o, struct ctx *c, const struct flag *f, const char *v, nook_err *err);

enum kind
{
  K_BOOL,   /* bool field; "--flag", "--flag=true|false" */
  K_STR,    /* char * field; the last one wins */
  K_LIST,   /* char ** field; repeatable */
  K_FN,     /* handler with a value */
  K_FN_BOOL, /* handler for a boolean flag (value NULL, "true" or "false") */
  K_IGNORE, /* accepted for podman compatibility, value dropped */
  K_IGNORE_BOOL,
};

struct flag
{
  const char *name;
  char shortopt;
  enum kind kind;
  size_t off;
  flag_fn fn;
};

/* ---- small helpers ---- */

/* *V = A + *V (A is consumed). */
static void
strv_prepend (char ***v, char **a)
{
  size_t na = strv_len (a), nv = strv_len (*v);
  char **r;

  if (na == 0)
    {
      free (a);
      return;
    }
  r = xcalloc (na + nv + 1, sizeof (char *));
  memcpy (r, a, na * sizeof (char *));
  if (nv)
    memcpy (r + na, *v, nv * sizeof (char *));
  free (a);
  free (*v);
  *v = r;
}

static void
strv_ensure (char ***v)
{
  if (*v == NULL)
    *v = xcalloc (1, sizeof (char *));
}

static void
set_str (char **field, const char *v)
{
  free (*field);
  *field = xstrdup (v ? v : "");
}

static int
bad_arg (nook_err *err, const char *flag, const char *v, const char *why)
{
  return nook_error_input (err, "invalid argument \"%s\" for \"--%s\" flag%s%s", v, flag, why ? ": " : "",
                           why ? why : "");
}

/* Go's strconv.ParseBool; NULL (a bare flag) is true. */
static int
parse_bool (const char *flag, const char *v, bool *out, nook_err *err)
{
  static const char *const yes[] = { "1", "t", "T", "TRUE", "true", "True" };
  static const char *const no[] = { "0", "f", "F", "FALSE", "false", "False" };

  if (v == NULL)
    return *out = true, 0;
  for (size_t i = 0; i < 6; i++)
    {
      if (strcmp (v, yes[i]) == 0)
        return *out = true, 0;
      if (strcmp (v, no[i]) == 0)
        return *out = false, 0;
    }
  nook_error_input (err, "invalid argument \"%s\" for \"--%s\" flag: strconv.ParseBool: parsing \"%s\": invalid syntax",
                    v, flag, v);
  return -1;
}

static bool
parse_i64 (const char *s, int64_t *out)
{
  char *end;
  long long v;

  if (s == NULL || *s == '\0' || isspace ((unsigned char) *s))
    return false;
  errno = 0;
  v = strtoll (s, &end, 10);
  if (errno != 0 || *end != '\0')
    return false;
  *out = v;
  return true;
}

/* ---- sizes ---- */

static int64_t
unit_mult (char u)
{
  switch (tolower ((unsigned char) u))
    {
    case 'k':
      return 1LL << 10;
    case 'm':
      return 1LL << 20;
    case 'g':
      return 1LL << 30;
    case 't':
      return 1LL << 40;
    case 'p':
      return 1LL << 50;
    default:
      return 0;
    }
}

/* go-units RAMInBytes: "<number>[ ][kmgtp][i][b]", binary multiples, fractions allowed ("1.5g"). */
int64_t
nook_parse_size (const char *s)
{
  long double v = 0, scale = 1;
  int64_t mult = 1;
  const char *p = s;

  if (s == NULL || !isdigit ((unsigned char) *p))
    return -1;
  for (; isdigit ((unsigned char) *p); p++)
    v = v * 10 + (*p - '0');
  if (*p == '.')
    {
      if (!isdigit ((unsigned char) *++p))
        return -1;
      for (; isdigit ((unsigned char) *p); p++)
        v += (*p - '0') * (scale /= 10);
    }
  if (*p == ' ')
    p++;
  if (*p && unit_mult (*p))
    {
      mult = unit_mult (*p++);
      if (*p == 'i' || *p == 'I')
        p++;
    }
  if (*p == 'b' || *p == 'B')
    p++;
  if (*p != '\0' || v * mult >= (long double) INT64_MAX)
    return -1;
  return (int64_t) (v * mult);
}

static int
fn_size (struct nook_run_opts *o, struct ctx *c, const struct flag *f, const char *v, nook_err *err)
{
  int64_t n = nook_parse_size (v);

  if (n < 0)
    return nook_error_input (err, "invalid size: %s", v);
  *(int64_t *) ((char *) o + f->off) = n;
  return 0;
}

/* ---- numbers ---- */

static int
fn_cpus (struct nook_run_opts *o, struct ctx *c, const struct flag *f, const char *v, nook_err *err)
{
  char *end;
  double d;

  if (!isdigit ((unsigned char) v[0]) && v[0] != '.')
    return bad_arg (err, f->name, v, "must be a positive number");
  errno = 0;
  d = strtod (v, &end);
  if (errno || *end || !isfinite (d) || d <= 0)
    return bad_arg (err, f->name, v, "must be a positive number");
  o->cpus = d;
  return 0;
}

static int
fn_pids (struct nook_run_opts *o, struct ctx *c, const struct flag *f, const char *v, nook_err *err)
{
  int64_t n;

  if (!parse_i64 (v, &n))
    return bad_arg (err, f->name, v, "must be an integer");
  o->pids_limit = n <= 0 ? -1 : n; /* podman: 0 and -1 mean unlimited */
  return 0;
}

static int
fn_stop_timeout (struct nook_run_opts *o, struct ctx *c, const struct flag *f, const char *v, nook_err *err)
{
  int64_t n;

  if (!parse_i64 (v, &n) || n < 0 || n > INT_MAX)
    return bad_arg (err, f->name, v, "must be a non-negative integer");
  o->stop_timeout = (int) n;
  return 0;
}

static int
fn_tls (struct nook_run_opts *o, struct ctx *c, const struct flag *f, const char *v, nook_err *err)
{
  bool b;

  if (parse_bool (f->name, v, &b, err) < 0)
    return -1;
  o->tls_verify = b ? 1 : 0;
  return 0;
}

static int
fn_ctx_bool (struct nook_run_opts *o, struct ctx *c, const struct flag *f, const char *v, nook_err *err)
{
  return parse_bool (f->name, v, strcmp (f->name, "env-host") == 0 ? &c->env_host : &c->http_proxy, err);
}

/* ---- policies and namespaces ---- */

static int
fn_pull (struct nook_run_opts *o, struct ctx *c, const struct flag *f, const char *v, nook_err *err)
{
  static const char *const map[][2] = {
    { "always", "always" },   { "true", "always" },     { "missing", "missing" }, { "ifmissing", "missing" },
    { "ifnotpresent", "missing" }, { "never", "never" }, { "false", "never" },    { "newer", "newer" },
    { "ifnewer", "newer" },
  };

  for (size_t i = 0; i < sizeof (map) / sizeof (map[0]); i++)
    if (strcasecmp (v, map[i][0]) == 0)
      {
        set_str (&o->pull, map[i][1]);
        return 0;
      }
  return nook_error_input (err, "unsupported pull policy \"%s\"", v);
}

static bool
opt_uint (const char *opt, const char *key)
{
  size_t n = strlen (key);
  uint64_t u;

  return strncmp (opt, key, n) == 0 && opt[n] == '=' && str_to_u64 (opt + n + 1, UINT32_MAX, &u);
}

static bool
opt_nonempty (const char *opt, const char *key)
{
  size_t n = strlen (key);
  return strncmp (opt, key, n) == 0 && opt[n] == '=' && opt[n + 1] != '\0';
}

/* keep-id:uid=N,gid=N,size=N  auto:size=N,uidmapping=...,gidmapping=... */
static int
check_userns_opts (const char *mode, const char *opts, nook_err *err)
{
  cleanup_free char *copy = xstrdup (opts);
  bool keep = strcmp (mode, "keep-id") == 0;
  char *save = NULL;

  for (char *o = strtok_r (copy, ",", &save); o; o = strtok_r (NULL, ",", &save))
    {
      bool ok = keep ? (opt_uint (o, "uid") || opt_uint (o, "gid") || opt_uint (o, "size"))
                     : (opt_uint (o, "size") || opt_nonempty (o, "uidmapping") || opt_nonempty (o, "gidmapping"));
      if (!ok)
        return nook_error_input (err, "invalid option \"%s\" for --userns %s", o, mode);
    }
  return 0;
}

static bool
ns_ref (const char *v)
{
  return (str_has_prefix (v, "container:") && v[10]) || (str_has_prefix (v, "ns:") && v[3]);
}

static int
fn_userns (struct nook_run_opts *o, struct ctx *c, const struct flag *f, const char *v, nook_err *err)
{
  static const char *const plain[] = { "", "host", "private", "nomap", "auto", "keep-id" };
  bool ok = ns_ref (v);

  for (size_t i = 0; !ok && i < sizeof (plain) / sizeof (plain[0]); i++)
    ok = strcmp (v, plain[i]) == 0;
  if (!ok && (str_has_prefix (v, "keep-id:") || str_has_prefix (v, "auto:")))
    {
      const char *colon = strchr (v, ':');
      cleanup_free char *mode = xasprintf ("%.*s", (int) (colon - v), v);
      if (check_userns_opts (mode, colon + 1, err) < 0)
        return -1;
      ok = true;
    }
  if (!ok)
    return nook_error_input (err, "unrecognized namespace mode %s passed", v);
  set_str (&o->userns, v);
  return 0;
}

/* --pid --ipc --uts --cgroupns: host | private | container:X | ns:PATH (ipc also shareable, none). */
static int
fn_ns (struct nook_run_opts *o, struct ctx *c, const struct flag *f, const char *v, nook_err *err)
{
  bool ok = strcmp (v, "host") == 0 || strcmp (v, "private") == 0 || ns_ref (v);

  if (strcmp (f->name, "ipc") == 0)
    ok = ok || strcmp (v, "shareable") == 0 || strcmp (v, "none") == 0 || strcmp (v, "container") == 0;
  if (!ok)
    return nook_error_input (err, "unrecognized namespace mode %s passed", v);
  set_str ((char **) ((char *) o + f->off), v);
  return 0;
}

/* ---- ulimits ---- */

static bool
ulimit_name_known (const char *name, size_t n)
{
  static const char *const names[] = { "as",    "core",   "cpu",    "data",   "fsize",      "locks",
                                       "memlock", "msgqueue", "nice", "nofile", "nproc",      "rss",
                                       "rtprio", "rttime", "sigpending", "stack" };

  for (size_t i = 0; i < sizeof (names) / sizeof (names[0]); i++)
    if (strlen (names[i]) == n && strncmp (name, names[i], n) == 0)
      return true;
  return false;
}

static bool
ulimit_value (const char *s, size_t n, int64_t *out)
{
  cleanup_free char *v = xasprintf ("%.*s", (int) n, s);

  if (strcmp (v, "unlimited") == 0)
    return *out = -1, true;
  return parse_i64 (v, out) && *out >= -1;
}

/* "name=soft[:hard]" (go-units' ParseUlimit) or "host". */
static int
check_ulimit (const char *v, nook_err *err)
{
  const char *eq = strchr (v, '='), *colon;
  int64_t soft, hard;

  if (strcmp (v, "host") == 0)
    return 0;
  if (eq == NULL)
    return nook_error_input (err, "invalid ulimit argument: %s", v);
  if (!ulimit_name_known (v, eq - v))
    return nook_error_input (err, "invalid ulimit type: %.*s", (int) (eq - v), v);
  colon = strchr (eq + 1, ':');
  if (colon && strchr (colon + 1, ':'))
    return nook_error_input (err, "too many limit value arguments - %s, can only have up to two, `soft[:hard]`",
                             eq + 1);
  if (!ulimit_value (eq + 1, colon ? (size_t) (colon - eq - 1) : strlen (eq + 1), &soft)
      || (colon && !ulimit_value (colon + 1, strlen (colon + 1), &hard)))
    return nook_error_input (err, "invalid ulimit value in --ulimit %s", v);
  if (colon && soft != -1 && hard != -1 && soft > hard)
    return nook_error_input (err, "ulimit soft limit must be less than or equal to hard limit: %lld > %lld",
                             (long long) soft, (long long) hard);
  return 0;
}

static int
fn_ulimit (struct nook_run_opts *o, struct ctx *c, const struct flag *f, const char *v, nook_err *err)
{
  if (check_ulimit (v, err) < 0)
    return -1;
  strv_add (&o->ulimits, v);
  return 0;
}

/* ---- environment and labels ---- */

/* "KEY=VAL" as is; "KEY" takes our value (skipped when unset); "PREFIX*" takes every match. */
static int
add_env (char ***env, const char *v, nook_err *err)
{
  const char *eq = strchr (v, '=');
  size_t klen = eq ? (size_t) (eq - v) : strlen (v);

  if (klen == 0)
    return nook_error_input (err, "invalid environment variable: \"%s\": the name is empty", v);
  for (size_t i = 0; i < klen; i++)
    if (isspace ((unsigned char) v[i]))
      return nook_error_input (err, "name \"%.*s\" has white spaces, poorly formatted name", (int) klen, v);
  if (eq)
    strv_add (env, v);
  else if (v[klen - 1] == '*')
    {
      for (char **e = environ; e && *e; e++)
        if (strncmp (*e, v, klen - 1) == 0 && strchr (*e, '='))
          strv_add (env, *e);
    }
  else if (getenv (v))
    {
      cleanup_free char *kv = xasprintf ("%s=%s", v, getenv (v));
      strv_add (env, kv);
    }
  return 0;
}

static int
fn_env (struct nook_run_opts *o, struct ctx *c, const struct flag *f, const char *v, nook_err *err)
{
  return add_env (&o->env, v, err);
}

/* Lines of an env or label file: comments and blank lines skipped, leading blanks trimmed.  Bounded: a
 * --env-file /dev/zero is an error, not gigabytes. */
static int
read_lines (const char *path, int (*each) (char ***out, const char *line, nook_err *err), char ***out, nook_err *err)
{
  cleanup_free char *text = NULL;
  char *save = NULL;

  if (nook_read_file_at (AT_FDCWD, path, &text, NULL, NOOK_ARG_FILE_MAX, err) < 0)
    return -1;
  for (char *l = strtok_r (text, "\n", &save); l != NULL; l = strtok_r (NULL, "\n", &save))
    {
      size_t n = strlen (l);
      while (n > 0 && l[n - 1] == '\r')
        l[--n] = '\0';
      while (isspace ((unsigned char) *l))
        l++;
      if (*l == '\0' || *l == '#')
        continue;
      if (each (out, l, err) < 0)
        return nook_error_prefix (err, "`%s`", path);
    }
  return 0;
}

static int
add_label (char ***labels, const char *line, nook_err *err)
{
  if (line[0] == '=')
    return nook_error_input (err, "invalid label \"%s\": the name is empty", line);
  strv_add (labels, line);
  return 0;
}

static int
fn_env_file (struct nook_run_opts *o, struct ctx *c, const struct flag *f, const char *v, nook_err *err)
{
  strv_add (&o->env_files, v);
  if (read_lines (v, add_env, &c->file_env, err) < 0)
    return nook_error_prefix (err, "--env-file");
  return 0;
}

static int
fn_label_file (struct nook_run_opts *o, struct ctx *c, const struct flag *f, const char *v, nook_err *err)
{
  if (read_lines (v, add_label, &c->file_labels, err) < 0)
    return nook_error_prefix (err, "--label-file");
  return 0;
}

static int
fn_label (struct nook_run_opts *o, struct ctx *c, const struct flag *f, const char *v, nook_err *err)
{
  return add_label (&o->labels, v, err);
}

/* ---- detach keys ---- */

static bool
detach_key_ok (const char *k)
{
  if (str_has_prefix (k, "ctrl-"))
    return strlen (k) == 6 && (islower ((unsigned char) k[5]) || strchr ("@[\\]^_", k[5]));
  return strlen (k) == 1;
}

static int
fn_detach_keys (struct nook_run_opts *o, struct ctx *c, const struct flag *f, const char *v, nook_err *err)
{
  cleanup_free char *copy = xstrdup (v);
  char *save = NULL;

  if (v[0] != '\0')
    for (char *k = strtok_r (copy, ",", &save); k; k = strtok_r (NULL, ",", &save))
      if (!detach_key_ok (k))
        return nook_error_input (err, "invalid detach keys \"%s\": unknown key \"%s\"", v, k);
  if (v[0] && (v[strlen (v) - 1] == ',' || v[0] == ',' || strstr (v, ",,")))
    return nook_error_input (err, "invalid detach keys \"%s\"", v);
  set_str (&o->detach_keys, v);
  return 0;
}

/* ---- the table ---- */

#define OFF(field) offsetof (struct nook_run_opts, field)
#define BOOL(n, s, field) { n, s, K_BOOL, OFF (field), NULL }
#define STR(n, s, field) { n, s, K_STR, OFF (field), NULL }
#define LIST(n, s, field) { n, s, K_LIST, OFF (field), NULL }
#define FN(n, s, field, fn) { n, s, K_FN, OFF (field), fn }
#define FNB(n, fn) { n, 0, K_FN_BOOL, 0, fn }
#define IGN(n, s) { n, s, K_IGNORE, 0, NULL }
#define IGNB(n) { n, 0, K_IGNORE_BOOL, 0, NULL }

static const struct flag flags[] = {
  BOOL ("rm", 0, rm),
  BOOL ("detach", 'd', detach),
  BOOL ("interactive", 'i', interactive),
  BOOL ("tty", 't', tty),
  BOOL ("privileged", 0, privileged),
  BOOL ("read-only", 0, read_only),
  BOOL ("init", 0, init),
  BOOL ("sig-proxy", 0, sig_proxy),
  BOOL ("publish-all", 'P', publish_all),
  BOOL ("no-hosts", 0, no_hosts),
  BOOL ("replace", 0, replace),
  BOOL ("quiet", 'q', quiet),
  BOOL ("help", 0, help),
  STR ("name", 0, name),
  STR ("hostname", 'h', hostname),
  STR ("workdir", 'w', workdir),
  STR ("user", 'u', user),
  STR ("entrypoint", 0, entrypoint),
  STR ("platform", 0, platform),
  STR ("arch", 0, arch),
  STR ("os", 0, os),
  STR ("variant", 0, variant),
  STR ("stop-signal", 0, stop_signal),
  STR ("network", 0, network),
  STR ("net", 0, network),
  STR ("cidfile", 0, cidfile),
  LIST ("volume", 'v', volumes),
  LIST ("mount", 0, mounts),
  LIST ("tmpfs", 0, tmpfs),
  LIST ("annotation", 0, annotations),
  LIST ("cap-add", 0, cap_add),
  LIST ("cap-drop", 0, cap_drop),
  LIST ("security-opt", 0, security_opts),
  LIST ("group-add", 0, group_add),
  LIST ("dns", 0, dns),
  LIST ("dns-search", 0, dns_search),
  LIST ("dns-option", 0, dns_opts),
  LIST ("add-host", 0, add_host),
  LIST ("publish", 'p', publish),
  LIST ("expose", 0, expose),
  LIST ("device", 0, devices),
  FN ("env", 'e', env, fn_env),
  FN ("env-file", 0, env_files, fn_env_file),
  FN ("label", 'l', labels, fn_label),
  FN ("label-file", 0, labels, fn_label_file),
  FN ("pull", 0, pull, fn_pull),
  FN ("memory", 'm', memory, fn_size),
  FN ("shm-size", 0, shm_size, fn_size),
  FN ("cpus", 0, cpus, fn_cpus),
  FN ("pids-limit", 0, pids_limit, fn_pids),
  FN ("stop-timeout", 0, stop_timeout, fn_stop_timeout),
  FN ("userns", 0, userns, fn_userns),
  FN ("pid", 0, pid, fn_ns),
  FN ("ipc", 0, ipc, fn_ns),
  FN ("uts", 0, uts, fn_ns),
  FN ("cgroupns", 0, cgroupns, fn_ns),
  FN ("ulimit", 0, ulimits, fn_ulimit),
  FN ("detach-keys", 0, detach_keys, fn_detach_keys),
  FNB ("tls-verify", fn_tls),
  FNB ("env-host", fn_ctx_bool),
  FNB ("http-proxy", fn_ctx_bool),
  IGN ("log-driver", 0),
  IGN ("log-opt", 0),
  IGN ("systemd", 0),
  IGN ("restart", 0),
  IGN ("attach", 'a'),
  IGN ("health-cmd", 0),
  IGN ("health-interval", 0),
  IGN ("health-retries", 0),
  IGN ("health-start-period", 0),
  IGN ("health-timeout", 0),
  IGN ("health-on-failure", 0),
  IGN ("health-startup-cmd", 0),
  IGN ("health-startup-interval", 0),
  IGN ("health-startup-retries", 0),
  IGN ("health-startup-success", 0),
  IGN ("health-startup-timeout", 0),
  IGNB ("no-healthcheck"),
};

#define N_FLAGS (sizeof (flags) / sizeof (flags[0]))

static bool
takes_value (const struct flag *f)
{
  return f->kind == K_STR || f->kind == K_LIST || f->kind == K_FN || f->kind == K_IGNORE;
}

/* The getopt tables, built from FLAGS. */
static void
build_getopt (struct option *longopts, char *shortopts)
{
  char *s = shortopts;

  *s++ = '+';
  *s++ = ':';
  for (size_t i = 0; i < N_FLAGS; i++)
    {
      longopts[i] = (struct option){ flags[i].name, takes_value (&flags[i]) ? required_argument : optional_argument,
                                     NULL, OPT_BASE + (int) i };
      if (flags[i].shortopt)
        {
          *s++ = flags[i].shortopt;
          if (takes_value (&flags[i]))
            *s++ = ':';
        }
    }
  longopts[N_FLAGS] = (struct option){ 0 };
  *s = '\0';
}

void
nook_run_opts_usage (FILE *out, const char *verb)
{
  size_t col = 0;

  fprintf (out, "Usage: nook %s [options] IMAGE [COMMAND [ARG...]]\n\nOptions:\n", verb);
  for (size_t i = 0; i < N_FLAGS; i++)
    {
      char item[64];
      int n = flags[i].shortopt ? snprintf (item, sizeof (item), "-%c, --%s%s", flags[i].shortopt, flags[i].name,
                                            takes_value (&flags[i]) ? " VALUE" : "")
                                : snprintf (item, sizeof (item), "--%s%s", flags[i].name,
                                            takes_value (&flags[i]) ? " VALUE" : "");
      if (col > 0 && col + (size_t) n + 2 > 110)
        {
          fputc ('\n', out);
          col = 0;
        }
      fprintf (out, "%s%s", col == 0 ? "  " : "  ", item);
      col += (size_t) n + 2;
    }
  fputc ('\n', out);
}

static const struct flag *
flag_for (int c)
{
  if (c >= OPT_BASE && c < OPT_BASE + (int) N_FLAGS)
    return &flags[c - OPT_BASE];
  for (size_t i = 0; i < N_FLAGS; i++)
    if (flags[i].shortopt == c)
      return &flags[i];
  return NULL;
}

static int
apply (struct nook_run_opts *o, struct ctx *c, const struct flag *f, const char *v, nook_err *err)
{
  void *field = (char *) o + f->off;

  switch (f->kind)
    {
    case K_BOOL:
      return parse_bool (f->name, v, (bool *) field, err);
    case K_STR:
      set_str ((char **) field, v);
      return 0;
    case K_LIST:
      strv_add ((char ***) field, v);
      return 0;
    case K_FN:
    case K_FN_BOOL:
      return f->fn (o, c, f, v, err);
    case K_IGNORE:
      return 0;
    case K_IGNORE_BOOL:
      {
        bool ignored;
        return parse_bool (f->name, v, &ignored, err);
      }
    }
  return 0;
}

/* ---- the walk ---- */

/* pflag's messages for what getopt refused; TOKEN is the argv element being parsed. */
static int
getopt_error (int c, const char *token, nook_err *err)
{
  size_t n = strcspn (token, "=");

  if (c == ':' && str_has_prefix (token, "--"))
    return nook_error_input (err, "flag needs an argument: %.*s", (int) n, token);
  if (c == ':')
    return nook_error_input (err, "flag needs an argument: '%c' in -%c", optopt, optopt);
  if (optopt && !str_has_prefix (token, "--"))
    return nook_error_input (err, "unknown shorthand flag: '%c' in %s", optopt, token);
  return nook_error_input (err, "unknown flag: %.*s", (int) n, token);
}

/* getopt_long accepts unique abbreviations ("--hostn"); podman does not. */
static bool
long_exact (const char *token, const char *name)
{
  size_t n = strlen (name);
  return str_has_prefix (token, "--") && strncmp (token + 2, name, n) == 0 && (token[2 + n] == '\0' || token[2 + n] == '=');
}

static int
walk (int argc, char **argv, struct nook_run_opts *o, struct ctx *cx, nook_err *err)
{
  struct option longopts[N_FLAGS + 1];
  char shortopts[2 * N_FLAGS + 3];

  build_getopt (longopts, shortopts);
  opterr = 0;
  optind = 0;
  for (;;)
    {
      int at = optind ? optind : 1, longindex = -1, c;
      const struct flag *f;

      optopt = 0;
      c = getopt_long (argc, argv, shortopts, longopts, &longindex);
      if (c == -1)
        return 0;
      if (c == '?' || c == ':')
        return getopt_error (c, argv[at], err);
      f = flag_for (c);
      if (f == NULL || (longindex >= 0 && !long_exact (argv[at], f->name)))
        return getopt_error ('?', argv[at], err);
      if (apply (o, cx, f, optarg, err) < 0)
        return -1;
      if (o->help)
        return 0;
    }
}

static void
add_host_env (struct ctx *cx, char ***front)
{
  static const char *const proxy[] = { "http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY",
                                       "ftp_proxy",  "FTP_PROXY",  "no_proxy",    "NO_PROXY" };

  if (cx->http_proxy)
    for (size_t i = 0; i < sizeof (proxy) / sizeof (proxy[0]); i++)
      if (getenv (proxy[i]))
        {
          cleanup_free char *kv = xasprintf ("%s=%s", proxy[i], getenv (proxy[i]));
          strv_add (front, kv);
        }
  if (cx->env_host)
    for (char **e = environ; e && *e; e++)
      if (strchr (*e, '=') && **e != '=')
        strv_add (front, *e);
}

/* Later entries win: proxy vars, host env, env files, then -e; label files, then -l. */
static void
finish (int argc, char **argv, struct nook_run_opts *o, struct ctx *cx)
{
  char **front = NULL;
  char ***lists[] = { &o->env, &o->env_files, &o->volumes, &o->mounts, &o->tmpfs, &o->labels, &o->annotations,
                      &o->ulimits, &o->cap_add, &o->cap_drop, &o->security_opts, &o->group_add, &o->dns,
                      &o->dns_search, &o->dns_opts, &o->add_host, &o->publish, &o->expose, &o->devices };

  add_host_env (cx, &front);
  for (size_t i = 0; cx->file_env && cx->file_env[i]; i++)
    strv_add (&front, cx->file_env[i]);
  strv_prepend (&o->env, front);
  strv_prepend (&o->labels, steal_pointer (&cx->file_labels));
  for (size_t i = 0; i < sizeof (lists) / sizeof (lists[0]); i++)
    strv_ensure (lists[i]);
  if (optind < argc)
    o->image = xstrdup (argv[optind]);
  strv_free (o->command);
  o->command = xcalloc (argc - optind + 1, sizeof (char *));
  for (int i = optind + 1, k = 0; i < argc; i++)
    o->command[k++] = xstrdup (argv[i]);
}

int
nook_run_opts_parse (int argc, char **argv, struct nook_run_opts *o, nook_err *err)
{
  struct ctx cx = { .http_proxy = true };
  int ret = walk (argc, argv, o, &cx, err);

  if (ret == 0)
    finish (argc, argv, o, &cx);
  strv_free (cx.file_env);
  strv_free (cx.file_labels);
  if (ret < 0 || o->help)
    return ret;
  if (o->image == NULL)
    return nook_error_input (err, "requires at least 1 arg(s), only received 0");
  return 0;
}

void
nook_run_opts_init (struct nook_run_opts *o)
{
  memset (o, 0, sizeof (*o));
  o->sig_proxy = true;
  o->pull = xstrdup ("missing");
  o->stop_timeout = -1;
  o->detach_keys = xstrdup (DEFAULT_DETACH_KEYS);
  o->shm_size = DEFAULT_SHM_SIZE;
  o->tls_verify = -1;
}

void
nook_run_opts_free (struct nook_run_opts *o)
{
  char **strs[] = { &o->image, &o->name, &o->hostname, &o->workdir, &o->user, &o->entrypoint, &o->pull,
                    &o->platform, &o->arch, &o->os, &o->variant, &o->stop_signal, &o->userns, &o->pid,
                    &o->ipc, &o->uts, &o->cgroupns, &o->network, &o->detach_keys, &o->cidfile };
  char ***lists[] = { &o->command, &o->env, &o->env_files, &o->volumes, &o->mounts, &o->tmpfs, &o->labels,
                      &o->annotations, &o->ulimits, &o->cap_add, &o->cap_drop, &o->security_opts, &o->group_add,
                      &o->dns, &o->dns_search, &o->dns_opts, &o->add_host, &o->publish, &o->expose, &o->devices };

  for (size_t i = 0; i < sizeof (strs) / sizeof (strs[0]); i++)
    free (*strs[i]), *strs[i] = NULL;
  for (size_t i = 0; i < sizeof (lists) / sizeof (lists[0]); i++)
    strv_free (*lists[i]), *lists[i] = NULL;
}
