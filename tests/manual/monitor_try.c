/* Manual check of the container monitor, attach and logs against a real container (not built by make).
 *
 *   make build/libnook.a && cc -std=gnu17 -D_GNU_SOURCE -Ilib -o /tmp/monitor_try tests/manual/monitor_try.c \
 *      build/libnook.a $(pkg-config --libs jansson libseccomp libcurl libarchive libcrypto)
 *
 *   monitor_try run STORE RUNROOT ROOTFS [-t] [-i] [-d] [--rm] [--keys K] -- CMD...
 *        a container from the extracted ROOTFS (no image, no overlay): the record, config.json, then the
 *        monitor in the background (its stderr in STORE/monitor.err) and, without -d, attach to it
 *   monitor_try attach STORE RUNROOT ID [-t] [-i] [--keys K]
 *   monitor_try logs STORE RUNROOT ID [-f] [-t] [--tail N] [--since T] [--until T]
 *   monitor_try inspect STORE ID
 * The exit code of run/attach is the container's ("detached" printed on a detach). */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "manager/ctrstore.h"
#include "manager/monitor.h"
#include "runtime/spec.h"
#include "store/store.h"
#include "util/fs.h"
#include "util/strutil.h"

struct args
{
  bool tty, interactive, detach, rm, follow, timestamps;
  const char *keys, *since, *until;
  long tail;
  char **rest;
};

static void
die (const nook_err *e)
{
  fprintf (stderr, "Error: %s\n", e->msg);
  exit (e->status ? e->status : 125);
}

static void
parse_args (int argc, char **argv, int first, struct args *a)
{
  int i;

  memset (a, 0, sizeof (*a));
  a->tail = -1;
  for (i = first; i < argc; i++)
    {
      const char *s = argv[i];
      if (strcmp (s, "--") == 0)
        {
          i++;
          break;
        }
      if (strcmp (s, "-t") == 0)
        a->tty = a->timestamps = true;
      else if (strcmp (s, "-i") == 0)
        a->interactive = true;
      else if (strcmp (s, "-d") == 0)
        a->detach = true;
      else if (strcmp (s, "-f") == 0)
        a->follow = true;
      else if (strcmp (s, "--rm") == 0)
        a->rm = true;
      else if (strcmp (s, "--keys") == 0 && i + 1 < argc)
        a->keys = argv[++i];
      else if (strcmp (s, "--since") == 0 && i + 1 < argc)
        a->since = argv[++i];
      else if (strcmp (s, "--until") == 0 && i + 1 < argc)
        a->until = argv[++i];
      else if (strcmp (s, "--tail") == 0 && i + 1 < argc)
        a->tail = atol (argv[++i]);
      else
        break;
    }
  a->rest = argv + i;
}

static int
write_config (struct nook_store *s, const char *id, const char *rootfs, const struct args *a, nook_err *err)
{
  char *text = nook_spec_default (geteuid () != 0, geteuid (), getegid ());
  json_t *spec = json_loads (text, 0, NULL), *args = json_array ();
  char *dir = nook_ctr_dir (s, id), *out;
  int dirfd, ret;

  free (text);
  for (char **p = a->rest; *p; p++)
    json_array_append_new (args, json_string (*p));
  json_object_set_new (json_object_get (spec, "process"), "args", args);
  json_object_set_new (json_object_get (spec, "process"), "terminal", json_boolean (a->tty));
  json_object_set_new (json_object_get (spec, "root"), "path", json_string (rootfs));
  json_object_set_new (json_object_get (spec, "root"), "readonly", json_false ());
  out = json_dumps (spec, JSON_INDENT (2));
  dirfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ret = nook_write_file_atomic (dirfd, "config.json", out, strlen (out), 0600, false, err);
  close (dirfd);
  free (out);
  free (dir);
  json_decref (spec);
  return ret;
}

static int
write_record (struct nook_store *s, const char *id, const char *name, const struct args *a, nook_err *err)
{
  json_t *rec = json_pack ("{s:s, s:s, s:{s:s, s:b, s:i}, s:{s:b, s:b, s:b}}", "Id", id, "Name", name, "State",
                           "Status", "created", "Running", 0, "Pid", 0, "Nook", "tty", a->tty, "interactive",
                           a->interactive, "rm", a->rm);
  int ret = nook_ctr_write (s, id, rec, err);
  json_decref (rec);
  return ret;
}

/* The background monitor, as the CLI starts it. */
static pid_t
spawn_monitor (struct nook_store *s, const struct nook_monitor_opts *mo)
{
  pid_t pid = fork ();
  if (pid != 0)
    return pid;
  setsid ();
  if (fork () != 0)
    _exit (0);
  char *errpath = xasprintf ("%s/monitor.err", s->root);
  int null = open ("/dev/null", O_RDWR | O_CLOEXEC), log = open (errpath, O_WRONLY | O_CREAT | O_APPEND, 0600);
  dup2 (null, 0);
  dup2 (null, 1);
  dup2 (log, 2);
  free (errpath);
  nook_err e = { 0 };
  int code = 0;
  _exit (nook_monitor_run (mo, &code, &e) < 0 ? 1 : 0);
}

static int
read_ready (int fd, nook_err *err)
{
  char buf[NOOK_ERR_MSG_MAX + 32];
  int n = nook_read_all (fd, buf, sizeof (buf) - 1), status = 0, off = 0;

  buf[n > 0 ? n : 0] = '\0';
  buf[strcspn (buf, "\n")] = '\0';
  if (strcmp (buf, "ok") == 0)
    return 0;
  if (sscanf (buf, "err %d %n", &status, &off) >= 1 && off > 0)
    {
      nook_error_input (err, "%s", buf + off);
      err->status = status;
      return -1;
    }
  return nook_error_input (err, "monitor: bad ready line `%s`", buf);
}

static int
report (int ret, int code, const nook_err *e)
{
  if (ret < 0)
    die (e);
  if (code < 0)
    {
      fprintf (stderr, "detached\n");
      return 0;
    }
  return code;
}

static int
cmd_run (struct nook_store *s, const char *runroot, const char *rootfs, const struct args *a)
{
  char *id, *name, *const no_layers[] = { NULL };
  nook_err e = { 0 };
  int fds[2], code = 0;

  if (nook_ctr_new (s, NULL, "none", no_layers, &id, &name, &e) < 0 || write_config (s, id, rootfs, a, &e) < 0
      || write_record (s, id, name, a, &e) < 0)
    die (&e);
  printf ("%s\n", id);
  fflush (stdout);
  struct nook_monitor_opts mo = { .store = s, .id = id, .runroot = runroot, .tty = a->tty,
                                  .interactive = a->interactive, .sig_proxy = true, .detach_keys = a->keys,
                                  .rm = a->rm, .wait_attach = !a->detach };
  pipe2 (fds, O_CLOEXEC);
  mo.ready_fd = fds[1];
  pid_t pid = spawn_monitor (s, &mo);
  close (fds[1]);
  waitpid (pid, NULL, 0);
  if (read_ready (fds[0], &e) < 0)
    die (&e);
  int ret = a->detach ? 0 : nook_monitor_attach (runroot, id, a->tty, a->interactive, a->keys, &code, &e);
  free (id);
  free (name);
  return report (ret, code, &e);
}

int
main (int argc, char **argv)
{
  struct nook_store *s;
  struct args a;
  nook_err e = { 0 };
  int code = 0;

  if (argc < 4)
    {
      fprintf (stderr, "usage: see the comment at the top of tests/manual/monitor_try.c\n");
      return 2;
    }
  if (nook_store_open (argv[2], &s, &e) < 0)
    die (&e);
  if (strcmp (argv[1], "inspect") == 0)
    {
      json_t *rec;
      if (nook_ctr_read (s, argv[3], &rec, &e) < 0)
        die (&e);
      json_dumpf (rec, stdout, JSON_INDENT (2));
      printf ("\n");
      return 0;
    }
  if (argc < 5)
    return 2;
  if (strcmp (argv[1], "run") == 0)
    {
      parse_args (argc, argv, 5, &a);
      code = cmd_run (s, argv[3], argv[4], &a);
      nook_store_close (s);
      return code;
    }
  parse_args (argc, argv, 5, &a);
  if (strcmp (argv[1], "attach") == 0)
    {
      int ret = nook_monitor_attach (argv[3], argv[4], a.tty, a.interactive, a.keys, &code, &e);
      nook_store_close (s);
      return report (ret, code, &e);
    }
  if (strcmp (argv[1], "logs") == 0)
    {
      struct nook_logs_opts lo = { .follow = a.follow, .timestamps = a.timestamps, .since = a.since,
                                   .until = a.until, .tail = a.tail };
      if (nook_logs_print (s, argv[4], argv[3], &lo, &e) < 0)
        die (&e);
      nook_store_close (s);
      return 0;
    }
  return 2;
}
