#include "runtime/state.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "runtime/cgroup.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/proc.h"
#include "util/strutil.h"

#define STATE_MAX (4 << 20)

/* The current user namespace maps every id to itself: the initial one (or one just like it). */
static bool
identity_uid_map (void)
{
  cleanup_free char *text = NULL;
  unsigned long long a, b, c;
  nook_err err;
  int n = 0;

  if (nook_read_file_at (AT_FDCWD, "/proc/self/uid_map", &text, NULL, 1 << 16, &err) < 0)
    return err.code == ENOENT; /* no user namespaces in this kernel */
  if (sscanf (text, " %llu %llu %llu %n", &a, &b, &c, &n) < 3)
    return false;
  return a == 0 && b == 0 && c == 4294967295ULL && text[n] == '\0';
}

bool
nook_rootless (enum nook_rootless flag)
{
  const char *podman = getenv ("_CONTAINERS_USERNS_CONFIGURED");

  if (flag != NOOK_ROOTLESS_AUTO)
    return flag == NOOK_ROOTLESS_YES;
  if (geteuid () != 0)
    return true;
  if (podman != NULL && podman[0] != '\0')
    return true;
  return !identity_uid_map ();
}

char *
nook_runtime_root_default (enum nook_rootless flag)
{
  const char *xdg = getenv ("XDG_RUNTIME_DIR");

  if (!nook_rootless (flag))
    return xstrdup ("/run/nook-runtime");
  if (xdg && *xdg)
    return xasprintf ("%s/nook-runtime", xdg);
  return xasprintf ("/tmp/nook-runtime-%d", (int) geteuid ());
}

int
nook_root_open (const char *root, nook_err *err)
{
  int fd;
  if (nook_mkdir_p (root, 0700, err) < 0)
    return nook_error_prefix (err, "runtime root");
  fd = open (root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return nook_error (err, errno, "open runtime root `%s`", root);
  return fd;
}

int
nook_id_check (const char *id, nook_err *err)
{
  size_t len = id ? strlen (id) : 0;

  if (len == 0)
    return nook_error_input (err, "invalid container ID: empty");
  if (len > NOOK_ID_MAX)
    return nook_error_input (err, "invalid container ID: longer than %d characters", NOOK_ID_MAX);
  for (size_t i = 0; i < len; i++)
    {
      char c = id[i];
      bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
      if (!ok && (i == 0 || (c != '_' && c != '.' && c != '+' && c != '-')))
        return nook_error_input (err, "invalid container ID `%s`: use letters, digits and _.+- (not first)", id);
    }
  return 0;
}

static int
lock_dir (int fd, const char *id, bool exclusive, nook_err *err)
{
  while (flock (fd, exclusive ? LOCK_EX : LOCK_SH) < 0)
    if (errno != EINTR)
      return nook_error (err, errno, "lock container `%s`", id);
  return 0;
}

int
nook_state_dir_create (int rootfd, const char *id, nook_err *err)
{
  cleanup_close int fd = -1;

  if (nook_id_check (id, err) < 0)
    return -1;
  if (mkdirat (rootfd, id, 0700) < 0)
    {
      if (errno == EEXIST)
        return nook_error_input (err, "container `%s` already exists", id);
      return nook_error (err, errno, "mkdir state directory `%s`", id);
    }
  fd = openat (rootfd, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return nook_error (err, errno, "open state directory `%s`", id);
  if (lock_dir (fd, id, true, err) < 0)
    return -1;
  return steal_fd (&fd);
}

int
nook_state_dir_open (int rootfd, const char *id, bool exclusive, nook_err *err)
{
  cleanup_close int fd = -1;

  if (nook_id_check (id, err) < 0)
    return -1;
  fd = openat (rootfd, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT)
    {
      nook_error_input (err, "container `%s` does not exist", id);
      err->code = ENOENT;
      return -1;
    }
  if (fd < 0)
    return nook_error (err, errno, "open state directory `%s`", id);
  if (lock_dir (fd, id, exclusive, err) < 0)
    return -1;
  return steal_fd (&fd);
}

char *
nook_now_rfc3339 (void)
{
  struct timespec ts;
  struct tm tm;
  char buf[64];

  clock_gettime (CLOCK_REALTIME, &ts);
  gmtime_r (&ts.tv_sec, &tm);
  strftime (buf, sizeof (buf), "%Y-%m-%dT%H:%M:%S", &tm);
  return xasprintf ("%s.%09ldZ", buf, ts.tv_nsec);
}

int
nook_state_save (int dirfd, const struct nook_state *st, nook_err *err)
{
  json_t *o = json_object ();
  cleanup_free char *text = NULL;

  json_object_set_new (o, "id", json_string (st->id));
  json_object_set_new (o, "bundle", json_string (st->bundle));
  json_object_set_new (o, "rootfs", json_string (st->rootfs));
  json_object_set_new (o, "pid", json_integer (st->pid));
  json_object_set_new (o, "start_time", json_integer ((json_int_t) st->start_time));
  json_object_set_new (o, "created", json_string (st->created));
  json_object_set_new (o, "owner", json_string (st->owner ? st->owner : ""));
  json_object_set_new (o, "rootless", json_boolean (st->rootless));
  json_object_set_new (o, "setgroups_allowed", json_boolean (st->setgroups_allowed));
  json_object_set_new (o, "mntns", json_pack ("[I,I]", (json_int_t) st->mntns_dev, (json_int_t) st->mntns_ino));
  json_object_set (o, "annotations", st->annotations ? st->annotations : json_object ());
  if (st->cgroup)
    json_object_set (o, "cgroup", st->cgroup);
  text = json_dumps (o, JSON_COMPACT);
  json_decref (o);
  return nook_write_file_atomic (dirfd, "state.json", text, strlen (text), 0600, false, err);
}

static char *
dup_str (json_t *o, const char *key)
{
  const char *s = json_string_value (json_object_get (o, key));
  return xstrdup (s ? s : "");
}

static enum nook_status
compute_status (int dirfd, const struct nook_state *st)
{
  if (st->pid <= 0)
    return NOOK_STATUS_CREATING;
  if (!nook_proc_alive (st->pid, st->start_time))
    return NOOK_STATUS_STOPPED;
  if (faccessat (dirfd, "start.sock", F_OK, AT_SYMLINK_NOFOLLOW) == 0)
    return NOOK_STATUS_CREATED;
  if (st->cgroup != NULL)
    {
      struct nook_cgroup *cg = NULL;
      nook_err err;
      bool frozen = nook_cgroup_from_json (st->cgroup, &cg, &err) == 0 && nook_cgroup_is_frozen (cg);
      nook_cgroup_free (cg);
      if (frozen)
        return NOOK_STATUS_PAUSED;
    }
  return NOOK_STATUS_RUNNING;
}

int
nook_state_load (int dirfd, const char *id, struct nook_state **out, nook_err *err)
{
  cleanup_free char *text = NULL;
  json_error_t jerr;
  json_t *o;
  struct nook_state *st;

  if (nook_read_file_at (dirfd, "state.json", &text, NULL, STATE_MAX, err) < 0)
    {
      if (err->code == ENOENT)
        {
          /* A create that never finished (it was killed): report it as stopped with no pid. */
          st = xcalloc (1, sizeof (*st));
          st->id = xstrdup (id);
          st->bundle = xstrdup ("");
          st->rootfs = xstrdup ("");
          st->created = xstrdup ("");
          st->annotations = json_object ();
          st->status = NOOK_STATUS_STOPPED;
          *out = st;
          return 0;
        }
      return nook_error_prefix (err, "container `%s`", id);
    }
  o = json_loads (text, 0, &jerr);
  if (o == NULL || !json_is_object (o))
    {
      json_decref (o);
      return nook_error_input (err, "container `%s`: corrupt state.json: %s", id, jerr.text);
    }
  st = xcalloc (1, sizeof (*st));
  st->id = dup_str (o, "id");
  st->bundle = dup_str (o, "bundle");
  st->rootfs = dup_str (o, "rootfs");
  st->created = dup_str (o, "created");
  st->owner = dup_str (o, "owner");
  st->pid = (pid_t) json_integer_value (json_object_get (o, "pid"));
  st->start_time = (uint64_t) json_integer_value (json_object_get (o, "start_time"));
  st->rootless = json_is_true (json_object_get (o, "rootless"));
  st->setgroups_allowed = json_is_true (json_object_get (o, "setgroups_allowed"));
  st->mntns_dev = (uint64_t) json_integer_value (json_array_get (json_object_get (o, "mntns"), 0));
  st->mntns_ino = (uint64_t) json_integer_value (json_array_get (json_object_get (o, "mntns"), 1));
  st->annotations = json_incref (json_object_get (o, "annotations"));
  if (st->annotations == NULL)
    st->annotations = json_object ();
  st->cgroup = json_incref (json_object_get (o, "cgroup"));
  if (st->cgroup != NULL && json_is_null (st->cgroup))
    {
      json_decref (st->cgroup);
      st->cgroup = NULL;
    }
  json_decref (o);
  st->status = compute_status (dirfd, st);
  *out = st;
  return 0;
}

void
nook_state_free (struct nook_state *st)
{
  if (st == NULL)
    return;
  free (st->id);
  free (st->bundle);
  free (st->rootfs);
  free (st->created);
  free (st->owner);
  json_decref (st->annotations);
  json_decref (st->cgroup);
  free (st);
}

const char *
nook_status_name (enum nook_status s)
{
  switch (s)
    {
    case NOOK_STATUS_CREATING:
      return "creating";
    case NOOK_STATUS_CREATED:
      return "created";
    case NOOK_STATUS_RUNNING:
      return "running";
    case NOOK_STATUS_PAUSED:
      return "paused";
    default:
      return "stopped";
    }
}

json_t *
nook_state_to_oci (const struct nook_state *st)
{
  bool alive = nook_status_alive (st->status);
  return json_pack ("{s:s,s:s,s:s,s:I,s:s,s:s,s:s,s:s,s:O}", "ociVersion", "1.0.2", "id", st->id, "status",
                    nook_status_name (st->status), "pid", (json_int_t) (alive ? st->pid : 0), "bundle", st->bundle,
                    "rootfs", st->rootfs, "created", st->created, "owner", st->owner ? st->owner : "",
                    "annotations", st->annotations);
}

int
nook_state_dir_remove (int rootfd, const char *id, nook_err *err)
{
  return nook_rm_rf_at (rootfd, id, err);
}

int
nook_pid_file_write (const char *path, pid_t pid, nook_err *err)
{
  cleanup_free char *dir = xstrdup (path);
  char *slash = strrchr (dir, '/');
  const char *base = slash ? slash + 1 : path;
  char text[32];
  cleanup_close int dfd = -1;

  if (slash)
    *slash = '\0';
  dfd = open (slash ? (dir[0] ? dir : "/") : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0)
    return nook_error (err, errno, "pid file `%s`", path);
  snprintf (text, sizeof (text), "%d", (int) pid);
  return nook_write_file_atomic (dfd, base, text, strlen (text), 0644, false, err);
}

