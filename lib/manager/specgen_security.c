/* Security and isolation of the spec: --security-opt, namespaces, capabilities, rlimits, the stop
 * signal, and the "linux" object (namespaces, id maps, masked paths, seccomp, resources). */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include "manager/specgen_internal.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/strutil.h"

static const char *const default_caps[] = { "CAP_CHOWN",   "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID",
                                            "CAP_KILL",    "CAP_NET_BIND_SERVICE", "CAP_SETFCAP", "CAP_SETGID",
                                            "CAP_SETPCAP", "CAP_SETUID",       "CAP_SYS_CHROOT", NULL };

static const char *const masked_paths[] = { "/proc/acpi",        "/proc/kcore",       "/proc/keys",
                                            "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
                                            "/proc/sched_debug", "/proc/scsi",        "/sys/firmware",
                                            "/sys/devices/virtual/powercap", NULL };

static const char *const readonly_paths[] = { "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
                                              "/proc/sysrq-trigger", NULL };

/* Values above INT64_MAX (RLIM_INFINITY) in the tagged form nook's spec parser reads (see spec.c). */
json_t *
sg_u64_json (uint64_t v)
{
  char buf[40];
  int n;

  if (v <= INT64_MAX)
    return json_integer ((json_int_t) v);
  n = snprintf (buf, sizeof (buf), "%cu64:%llu", '\0', (unsigned long long) v);
  return json_stringn (buf, (size_t) n);
}

/* ---- --security-opt ---- */

static bool in_list (json_t *arr, const char *s);

static int
paths_into (json_t *arr, const char *list, const char *flag, nook_err *err)
{
  cleanup_free char *copy = xstrdup (list);
  char *save = NULL;

  for (char *p = strtok_r (copy, ":", &save); p != NULL; p = strtok_r (NULL, ":", &save))
    {
      if (p[0] != '/' && strcmp (p, "ALL") != 0)
        return nook_error_input (err, "--security-opt %s: `%s` is not an absolute path", flag, p);
      json_array_append_new (arr, json_string (p));
    }
  return 0;
}

/* label=type:T (and user:, role:, level:) -> "user:role:type:level". */
static int
label_opt (struct sg *g, const char *v, nook_err *err)
{
  const char *parts[4] = { "system_u", "system_r", "container_t", "s0" };
  static const char *const keys[4] = { "user:", "role:", "type:", "level:" };

  if (strcmp (v, "disable") == 0 || strcmp (v, "nested") == 0 || str_has_prefix (v, "filetype:"))
    return 0;
  for (int i = 0; i < 4; i++)
    if (str_has_prefix (v, keys[i]))
      {
        parts[i] = v + strlen (keys[i]);
        free (g->selinux_label);
        g->selinux_label = xasprintf ("%s:%s:%s:%s", parts[0], parts[1], parts[2], parts[3]);
        return 0;
      }
  return nook_error_input (err, "--security-opt: invalid label option `%s`", v);
}

static int
security_opt (struct sg *g, const char *opt, nook_err *err)
{
  cleanup_free char *k = xstrdup (opt);
  char *v = k + strcspn (k, "=:");

  if (*v != '\0')
    *v++ = '\0';
  if (strcmp (k, "no-new-privileges") == 0)
    g->nnp = *v == '\0' || strcmp (v, "true") == 0;
  else if (strcmp (k, "seccomp") == 0 && strcmp (v, "unconfined") == 0)
    g->seccomp_unconfined = true;
  else if (strcmp (k, "seccomp") == 0 && *v != '\0')
    g->seccomp_file = xstrdup (v);
  else if (strcmp (k, "apparmor") == 0 && *v != '\0')
    {
      free (g->apparmor);
      g->apparmor = strcmp (v, "unconfined") == 0 ? NULL : xstrdup (v);
    }
  else if (strcmp (k, "label") == 0)
    return label_opt (g, v, err);
  else if (strcmp (k, "unmask") == 0 && *v != '\0')
    return paths_into (g->unmask, v, "unmask", err);
  else if (strcmp (k, "mask") == 0 && *v != '\0')
    return paths_into (g->mask_extra, v, "mask", err);
  else if (strcmp (k, "systempaths") == 0 && strcmp (v, "unconfined") == 0)
    g->unmask_all = true;
  else if (strcmp (k, "proc-opts") == 0 || strcmp (k, "seccomp-policy") == 0)
    ;
  else
    return nook_error_input (err, "--security-opt: invalid option `%s`", opt);
  return 0;
}

int
sg_security_opts (struct sg *g, nook_err *err)
{
  g->privileged = g->o->privileged;
  for (size_t i = 0; g->o->security_opts != NULL && g->o->security_opts[i] != NULL; i++)
    if (security_opt (g, g->o->security_opts[i], err) < 0)
      return -1;
  if (in_list (g->unmask, "ALL"))
    g->unmask_all = true;
  return 0;
}

/* ---- namespaces ---- */

static int
ns_flag (const char *v, const char *flag, struct sg_ns *ns, nook_err *err)
{
  *ns = (struct sg_ns){ SG_NS_PRIVATE, NULL };
  if (v == NULL || v[0] == '\0' || strcmp (v, "private") == 0)
    return 0;
  if (strcmp (v, "host") == 0)
    ns->mode = SG_NS_HOST;
  else if (str_has_prefix (v, "ns:") && v[3] == '/')
    {
      ns->mode = SG_NS_PATH;
      ns->path = v + 3;
    }
  else if (str_has_prefix (v, "container:"))
    return nook_error_input (err, "%s %s: joining another container's namespace is not supported yet", flag, v);
  else
    return nook_error_input (err, "%s: invalid value `%s`", flag, v);
  return 0;
}

int
sg_namespaces (struct sg *g, nook_err *err)
{
  const struct nook_run_opts *o = g->o;

  if (ns_flag (o->pid, "--pid", &g->pid, err) < 0 || ns_flag (o->ipc, "--ipc", &g->ipc, err) < 0
      || ns_flag (o->uts, "--uts", &g->uts, err) < 0 || ns_flag (o->cgroupns, "--cgroupns", &g->cgroupns, err) < 0)
    return -1;
  return sg_network (g, err);
}

static void
ns_into (json_t *arr, const char *type, const struct sg_ns *ns)
{
  if (ns->mode == SG_NS_HOST)
    return;
  if (ns->mode == SG_NS_PATH)
    json_array_append_new (arr, json_pack ("{s:s,s:s}", "type", type, "path", ns->path));
  else
    json_array_append_new (arr, json_pack ("{s:s}", "type", type));
}

static json_t *
namespaces_json (const struct sg *g)
{
  json_t *arr = json_array ();
  const struct sg_ns private_ns = { SG_NS_PRIVATE, NULL };

  ns_into (arr, "pid", &g->pid);
  ns_into (arr, "network", &g->net);
  ns_into (arr, "ipc", &g->ipc);
  ns_into (arr, "uts", &g->uts);
  ns_into (arr, "mount", &private_ns);
  ns_into (arr, "cgroup", &g->cgroupns);
  if (g->userns)
    ns_into (arr, "user", &private_ns);
  return arr;
}

/* ---- capabilities ---- */

static int
cap_last (void)
{
  cleanup_free char *text = NULL;
  nook_err ignored;
  uint64_t v;

  if (nook_read_file_at (AT_FDCWD, "/proc/sys/kernel/cap_last_cap", &text, NULL, 64, &ignored) < 0)
    return 40;
  text[strcspn (text, "\n")] = '\0';
  return str_to_u64 (text, NOOK_CAP_MAX - 1, &v) ? (int) v : 40;
}

/* Every capability we can hand on.  In a user namespace of its own the container's bounding set starts
 * full (the kernel resets it), so: every capability the kernel has.  Without one, only what is in our own
 * bounding set (a root session may lack some, and asking for them would fail capset; like podman,
 * --privileged then means "all the caller has"). */
static uint64_t
all_caps (bool userns)
{
  int last = cap_last ();
  uint64_t all = last >= 63 ? UINT64_MAX : (1ULL << (last + 1)) - 1;
  for (int c = 0; !userns && c <= last && c < 64; c++)
    if (prctl (PR_CAPBSET_READ, c, 0, 0, 0) == 0)
      all &= ~(1ULL << c);
  return all;
}

/* "net_admin", "CAP_NET_ADMIN" -> number; names normalized to CAP_X for the record. */
static int
cap_parse (const char *name, const char *flag, int *cap, char **norm, nook_err *err)
{
  cleanup_free char *up = xstrdup (name);

  for (char *p = up; *p; p++)
    *p = (char) toupper ((unsigned char) *p);
  *norm = str_has_prefix (up, "CAP_") ? xstrdup (up) : xasprintf ("CAP_%s", up);
  *cap = nook_cap_from_name (*norm);
  if (*cap < 0 || *cap >= NOOK_CAP_MAX)
    {
      nook_error_input (err, "%s: unknown capability \"%s\"", flag, name);
      free (*norm);
      return -1;
    }
  return 0;
}

static bool
has_all (char *const *v)
{
  for (size_t i = 0; v != NULL && v[i] != NULL; i++)
    if (strcasecmp (v[i], "ALL") == 0 || strcasecmp (v[i], "CAP_ALL") == 0)
      return true;
  return false;
}

static int
cap_list (char *const *v, const char *flag, bool userns, uint64_t *mask, json_t *names, nook_err *err)
{
  *mask = 0;
  for (size_t i = 0; v != NULL && v[i] != NULL; i++)
    {
      char *norm;
      int cap;

      if (strcasecmp (v[i], "ALL") == 0 || strcasecmp (v[i], "CAP_ALL") == 0)
        {
          *mask |= all_caps (userns);
          json_array_append_new (names, json_string ("ALL"));
          continue;
        }
      if (cap_parse (v[i], flag, &cap, &norm, err) < 0)
        return -1;
      *mask |= 1ULL << cap;
      json_array_append_new (names, json_string (norm));
      free (norm);
    }
  return 0;
}

int
sg_caps (struct sg *g, nook_err *err)
{
  uint64_t base = 0, add, drop;

  g->cap_add = json_array ();
  g->cap_drop = json_array ();
  if (cap_list (g->o->cap_add, "--cap-add", g->userns, &add, g->cap_add, err) < 0
      || cap_list (g->o->cap_drop, "--cap-drop", g->userns, &drop, g->cap_drop, err) < 0)
    return -1;
  for (size_t i = 0; default_caps[i] != NULL; i++)
    base |= 1ULL << nook_cap_from_name (default_caps[i]);
  if (g->privileged)
    base = all_caps (g->userns);
  if (has_all (g->o->cap_drop))
    base = 0;
  g->bounding = ((base & ~drop) | add) & all_caps (g->userns);
  g->add_mask = add & all_caps (g->userns);
  return 0;
}

static json_t *
caps_names (uint64_t mask)
{
  json_t *a = json_array ();
  for (int i = 0; i < NOOK_CAP_MAX; i++)
    if ((mask & (1ULL << i)) && nook_cap_name (i) != NULL)
      json_array_append_new (a, json_string (nook_cap_name (i)));
  return a;
}

/* Root in the container: the set in bounding/effective/permitted.  Another user: only --cap-add'ed
 * capabilities stay effective (and ambient, so they survive the exec), as podman does. */
json_t *
sg_caps_json (const struct sg *g)
{
  uint64_t eff = g->uid == 0 ? g->bounding : g->add_mask & g->bounding;
  uint64_t amb = g->uid == 0 ? 0 : eff;

  return json_pack ("{s:o,s:o,s:o,s:o,s:o}", "bounding", caps_names (g->bounding), "effective", caps_names (eff),
                    "permitted", caps_names (eff), "inheritable", caps_names (amb), "ambient", caps_names (amb));
}

/* ---- rlimits ---- */

static const struct
{
  const char *name;
  int res;
} rlimit_names[] = {
  { "as", RLIMIT_AS },         { "core", RLIMIT_CORE },           { "cpu", RLIMIT_CPU },
  { "data", RLIMIT_DATA },     { "fsize", RLIMIT_FSIZE },         { "locks", RLIMIT_LOCKS },
  { "memlock", RLIMIT_MEMLOCK }, { "msgqueue", RLIMIT_MSGQUEUE }, { "nice", RLIMIT_NICE },
  { "nofile", RLIMIT_NOFILE }, { "nproc", RLIMIT_NPROC },         { "rss", RLIMIT_RSS },
  { "rtprio", RLIMIT_RTPRIO }, { "rttime", RLIMIT_RTTIME },       { "sigpending", RLIMIT_SIGPENDING },
  { "stack", RLIMIT_STACK },
};
#define N_RLIMITS (sizeof (rlimit_names) / sizeof (rlimit_names[0]))
#define CAP_SYS_RESOURCE_BIT 24

struct rl
{
  bool set;
  uint64_t soft, hard;
};

static void
rl_host (struct rl *r, int res)
{
  struct rlimit cur;

  if (getrlimit (res, &cur) < 0)
    return;
  *r = (struct rl){ true, cur.rlim_cur, cur.rlim_max };
}

/* "-1" and "unlimited" are RLIM_INFINITY. */
static bool
rl_value (const char *s, uint64_t *out)
{
  if (strcmp (s, "-1") == 0 || strcmp (s, "unlimited") == 0)
    {
      *out = RLIM_INFINITY;
      return true;
    }
  return str_to_u64 (s, UINT64_MAX, out);
}

static int
ulimit_flag (const char *u, struct rl *rls, nook_err *err)
{
  cleanup_free char *copy = xstrdup (u);
  char *val = strchr (copy, '='), *hard;

  if (strcmp (u, "host") == 0)
    {
      for (size_t i = 0; i < N_RLIMITS; i++)
        rl_host (&rls[i], rlimit_names[i].res);
      return 0;
    }
  if (val == NULL)
    return nook_error_input (err, "--ulimit: invalid `%s`: expected NAME=SOFT[:HARD]", u);
  *val++ = '\0';
  hard = strchr (val, ':');
  if (hard != NULL)
    *hard++ = '\0';
  for (size_t i = 0; i < N_RLIMITS; i++)
    if (strcmp (copy, rlimit_names[i].name) == 0 || (str_has_prefix (copy, "RLIMIT_") && strcasecmp (copy + 7, rlimit_names[i].name) == 0))
      {
        struct rl r = { true, 0, 0 };
        if (!rl_value (val, &r.soft) || !rl_value (hard ? hard : val, &r.hard))
          return nook_error_input (err, "--ulimit: invalid value in `%s`", u);
        if (r.soft > r.hard)
          return nook_error_input (err, "--ulimit %s: the soft limit is above the hard limit", u);
        rls[i] = r;
        return 0;
      }
  return nook_error_input (err, "--ulimit: unknown limit `%s`", copy);
}

static void
rl_emit (struct sg *g, const char *name, const struct rl *r)
{
  cleanup_free char *type = xasprintf ("RLIMIT_%s", name);

  for (char *p = type; *p; p++)
    *p = (char) toupper ((unsigned char) *p);
  json_array_append_new (g->rlimits, json_pack ("{s:s,s:o,s:o}", "type", type, "hard", sg_u64_json (r->hard), "soft",
                                                sg_u64_json (r->soft)));
  json_array_append_new (g->ulimits_rec,
                         json_pack ("{s:s,s:I,s:I}", "Name", type, "Soft",
                                    (json_int_t) (r->soft == RLIM_INFINITY ? -1 : (json_int_t) r->soft), "Hard",
                                    (json_int_t) (r->hard == RLIM_INFINITY ? -1 : (json_int_t) r->hard)));
}

/* Whether we may raise hard limits: CAP_SYS_RESOURCE in our effective set (/proc/self/status). */
static bool
can_raise_limits (void)
{
  cleanup_free char *text = NULL;
  nook_err ignored;
  const char *eff;
  unsigned long long caps;

  if (nook_read_file_at (AT_FDCWD, "/proc/self/status", &text, NULL, 1 << 16, &ignored) < 0)
    return false;
  eff = strstr (text, "\nCapEff:");
  return eff != NULL && sscanf (eff + 8, "%llx", &caps) == 1 && (caps & (1ULL << CAP_SYS_RESOURCE_BIT));
}

/* nofile and nproc: podman's values as root; without CAP_SYS_RESOURCE (rootless, or a confined root) the
 * hard limit cannot be raised, so the caller's hard limit when it is lower. */
static void
rl_defaults (struct sg *g, struct rl *rls)
{
  bool raise = !g->rootless && can_raise_limits ();

  for (size_t i = 0; i < N_RLIMITS; i++)
    {
      int res = rlimit_names[i].res;
      uint64_t want = res == RLIMIT_NOFILE ? 1048576 : 4194304;
      struct rl host = { false, want, want };

      if (res != RLIMIT_NOFILE && res != RLIMIT_NPROC)
        continue;
      rl_host (&host, res);
      if (g->rootless || (!raise && host.hard < want))
        want = host.hard;
      rls[i] = (struct rl){ true, want, want };
    }
}

int
sg_rlimits (struct sg *g, nook_err *err)
{
  struct rl rls[N_RLIMITS] = { { 0 } };

  g->rlimits = json_array ();
  g->ulimits_rec = json_array ();
  rl_defaults (g, rls);
  for (size_t i = 0; g->o->ulimits != NULL && g->o->ulimits[i] != NULL; i++)
    if (ulimit_flag (g->o->ulimits[i], rls, err) < 0)
      return -1;
  for (size_t i = 0; i < N_RLIMITS; i++)
    if (rls[i].set)
      rl_emit (g, rlimit_names[i].name, &rls[i]);
  return 0;
}

/* ---- stop signal ---- */

static int
signal_parse (const char *s)
{
  uint64_t v;

  if (str_to_u64 (s, 64, &v))
    return v > 0 ? (int) v : -1;
  if (strncasecmp (s, "SIG", 3) == 0)
    s += 3;
  for (int i = 1; i < NSIG; i++)
    {
      const char *abbrev = sigabbrev_np (i);
      if (abbrev != NULL && strcasecmp (abbrev, s) == 0)
        return i;
    }
  return -1;
}

int
sg_stop_signal (struct sg *g, nook_err *err)
{
  const char *s = g->o->stop_signal;
  const char *what = "--stop-signal";

  if (s == NULL || s[0] == '\0')
    {
      s = json_string_value (json_object_get (g->cfg, "StopSignal"));
      what = "image StopSignal";
    }
  if (s == NULL || s[0] == '\0')
    s = "SIGTERM";
  g->stop_signal = signal_parse (s);
  if (g->stop_signal < 0)
    return nook_error_input (err, "%s: invalid signal `%s`", what, s);
  g->stop_signal_name = sigabbrev_np (g->stop_signal) ? xasprintf ("SIG%s", sigabbrev_np (g->stop_signal))
                                                       : xasprintf ("%d", g->stop_signal);
  return 0;
}

/* ---- linux ---- */

static json_t *
idmaps_json (const struct nook_idmap *m, size_t n)
{
  json_t *a = json_array ();
  for (size_t i = 0; i < n; i++)
    json_array_append_new (a, json_pack ("{s:I,s:I,s:I}", "containerID", (json_int_t) m[i].container_id, "hostID",
                                         (json_int_t) m[i].host_id, "size", (json_int_t) m[i].size));
  return a;
}

static bool
in_list (json_t *arr, const char *s)
{
  size_t i;
  json_t *v;

  json_array_foreach (arr, i, v)
    if (strcmp (json_string_value (v), s) == 0)
      return true;
  return false;
}

static json_t *
paths_json (const struct sg *g, const char *const *list, json_t *extra)
{
  json_t *a = json_array ();
  size_t i;
  json_t *v;

  for (i = 0; !g->privileged && !g->unmask_all && list[i] != NULL; i++)
    if (!in_list (g->unmask, list[i]))
      json_array_append_new (a, json_string (list[i]));
  json_array_foreach (extra, i, v)
    json_array_append (a, v);
  return a;
}

static json_t *
seccomp_file (const struct sg *g, nook_err *err)
{
  json_error_t jerr;
  cleanup_free char *text = NULL;
  size_t len;
  json_t *doc, *out;

  if (nook_read_file_at (AT_FDCWD, g->seccomp_file, &text, &len, NOOK_ARG_FILE_MAX, err) < 0)
    {
      nook_error_prefix (err, "--security-opt seccomp");
      return NULL;
    }
  doc = json_loadb (text, len, 0, &jerr);
  if (doc == NULL)
    {
      nook_error_input (err, "--security-opt seccomp=%s: %s", g->seccomp_file, jerr.text);
      return NULL;
    }
  out = nook_seccomp_from_docker (doc, g->bounding, false, err);
  json_decref (doc);
  if (out == NULL)
    nook_error_prefix (err, "--security-opt seccomp=%s", g->seccomp_file);
  return out;
}

static json_t *
resources_json (const struct sg *g)
{
  const struct nook_run_opts *o = g->o;
  json_t *r = json_object ();

  if (o->memory > 0)
    json_object_set_new (r, "memory", json_pack ("{s:I}", "limit", (json_int_t) o->memory));
  if (o->pids_limit > 0)
    json_object_set_new (r, "pids", json_pack ("{s:I}", "limit", (json_int_t) o->pids_limit));
  if (o->cpus > 0)
    json_object_set_new (r, "cpu", json_pack ("{s:I,s:I}", "quota", (json_int_t) (o->cpus * 100000 + 0.5), "period",
                                              (json_int_t) 100000));
  return r;
}

json_t *
sg_linux_json (struct sg *g, nook_err *err)
{
  json_t *lx = json_object ();

  json_object_set_new (lx, "namespaces", namespaces_json (g));
  if (g->userns)
    {
      json_object_set_new (lx, "uidMappings", idmaps_json (g->umap, g->n_umap));
      json_object_set_new (lx, "gidMappings", idmaps_json (g->gmap, g->n_gmap));
    }
  json_object_set_new (lx, "maskedPaths", paths_json (g, masked_paths, g->mask_extra));
  json_object_set_new (lx, "readonlyPaths", paths_json (g, readonly_paths, NULL));
  json_object_set_new (lx, "resources", resources_json (g));
  if (g->seccomp_file != NULL && !g->privileged && !g->seccomp_unconfined)
    {
      json_t *sc = seccomp_file (g, err);
      if (sc == NULL)
        {
          json_decref (lx);
          return NULL;
        }
      json_object_set_new (lx, "seccomp", sc);
    }
  else if (!g->privileged && !g->seccomp_unconfined)
    json_object_set_new (lx, "seccomp", nook_seccomp_default_for (g->bounding));
  return lx;
}
