/* state, list, ps, spec, features. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/spec.h"
#include "runtime/state.h"
#include "runtime_cli.h"
#include "util/fs.h"
#include "util/strutil.h"

static int
print_json (json_t *o)
{
  char *s = json_dumps (o, JSON_INDENT (2));
  if (s)
    puts (s);
  free (s);
  return 0;
}

int
rt_state (struct rt_global *g, int argc, char **argv)
{
  nook_err err = { 0 };
  json_t *o = NULL;

  if (argc != 2)
    return rt_usage (g, "state: expected exactly one container ID");
  if (nook_container_state (&g->ctx, argv[1], &o, &err) < 0)
    return rt_fail (g, &err);
  print_json (o);
  json_decref (o);
  return 0;
}

static void
print_list_table (struct nook_state **v, size_t n)
{
  printf ("%-12s %-8s %-10s %-40s %-30s %s\n", "ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER");
  for (size_t i = 0; i < n; i++)
    {
      bool alive = nook_status_alive (v[i]->status);
      printf ("%-12s %-8d %-10s %-40s %-30s %s\n", v[i]->id, alive ? (int) v[i]->pid : 0,
              nook_status_name (v[i]->status), v[i]->bundle, v[i]->created, v[i]->owner ? v[i]->owner : "");
    }
}

/* runc's `list --format json` entry: its field order (pid before status, annotations only when set). */
static json_t *
list_entry (const struct nook_state *st)
{
  static const char *const keys[] = { "ociVersion", "id", "pid", "status", "bundle", "rootfs", "created" };
  json_t *oci = nook_state_to_oci (st), *o = json_object (), *ann = json_object_get (oci, "annotations");

  for (size_t i = 0; i < sizeof (keys) / sizeof (keys[0]); i++)
    if (json_object_get (oci, keys[i]))
      json_object_set (o, keys[i], json_object_get (oci, keys[i]));
  if (json_is_object (ann) && json_object_size (ann) > 0)
    json_object_set (o, "annotations", ann);
  json_object_set_new (o, "owner", json_string (st->owner ? st->owner : ""));
  json_decref (oci);
  return o;
}

int
rt_list (struct rt_global *g, int argc, char **argv)
{
  nook_err err = { 0 };
  struct nook_state **v = NULL;
  size_t n = 0;
  bool quiet = false, json = false;

  for (int i = 1; i < argc; i++)
    {
      if (strcmp (argv[i], "-q") == 0 || strcmp (argv[i], "--quiet") == 0)
        quiet = true;
      else if ((strcmp (argv[i], "-f") == 0 || strcmp (argv[i], "--format") == 0) && i + 1 < argc)
        json = strcmp (argv[++i], "json") == 0;
      else if (strcmp (argv[i], "--format=json") == 0)
        json = true;
      else if (strcmp (argv[i], "--format=table") != 0)
        return rt_usage (g, "list: unknown option `%s`", argv[i]);
    }
  if (nook_container_list (&g->ctx, &v, &n, &err) < 0)
    return rt_fail (g, &err);
  if (json)
    {
      json_t *a = json_array ();
      char *s;
      for (size_t i = 0; i < n; i++)
        json_array_append_new (a, list_entry (v[i]));
      s = json_dumps (a, JSON_COMPACT | JSON_PRESERVE_ORDER); /* one line, as runc prints it */
      if (s)
        puts (s);
      free (s);
      json_decref (a);
    }
  else if (quiet)
    for (size_t i = 0; i < n; i++)
      puts (v[i]->id);
  else
    print_list_table (v, n);
  for (size_t i = 0; i < n; i++)
    nook_state_free (v[i]);
  free (v);
  return 0;
}

/* `ps ID [ps options]`: like runc, run ps(1) and keep the container's processes (-f json: pid array). */
static int
run_ps (pid_t *pids, size_t n, int argc, char **argv)
{
  char **args = xcalloc ((size_t) argc + 4, sizeof (char *));
  char *list = xstrdup ("");
  pid_t child;
  int st;

  for (size_t i = 0; i < n; i++)
    {
      char *next = xasprintf ("%s%s%d", list, i ? "," : "", (int) pids[i]);
      free (list);
      list = next;
    }
  args[0] = (char *) "ps";
  int k = 1;
  if (argc == 0)
    args[k++] = (char *) "-f";
  for (int i = 0; i < argc; i++)
    args[k++] = argv[i];
  args[k++] = (char *) "-p";
  args[k++] = n ? list : (char *) "0";
  child = fork ();
  if (child == 0)
    {
      execvp ("ps", args);
      _exit (127);
    }
  while (child > 0 && waitpid (child, &st, 0) < 0 && errno == EINTR)
    ;
  free (list);
  free (args);
  return 0;
}

int
rt_ps (struct rt_global *g, int argc, char **argv)
{
  nook_err err = { 0 };
  pid_t *pids = NULL;
  size_t n = 0;
  bool json = false;
  int i = 1;

  for (; i < argc && argv[i][0] == '-'; i++)
    {
      if ((strcmp (argv[i], "-f") == 0 || strcmp (argv[i], "--format") == 0) && i + 1 < argc)
        json = strcmp (argv[++i], "json") == 0;
      else if (strcmp (argv[i], "--format=json") == 0)
        json = true;
      else
        return rt_usage (g, "ps: unknown option `%s`", argv[i]);
    }
  if (i >= argc)
    return rt_usage (g, "ps: expected a container ID");
  if (nook_container_pids (&g->ctx, argv[i], &pids, &n, &err) < 0)
    return rt_fail (g, &err);
  if (json)
    {
      json_t *a = json_array ();
      for (size_t k = 0; k < n; k++)
        json_array_append_new (a, json_integer (pids[k]));
      char *s = json_dumps (a, JSON_COMPACT);
      puts (s);
      free (s);
      json_decref (a);
    }
  else
    run_ps (pids, n, argc - i - 1, argv + i + 1);
  free (pids);
  return 0;
}

int
rt_spec (struct rt_global *g, int argc, char **argv)
{
  nook_err err = { 0 };
  const char *bundle = ".";
  bool rootless = false;
  char *text;
  int dfd, ret = 0;

  for (int i = 1; i < argc; i++)
    {
      if (strcmp (argv[i], "--rootless") == 0)
        rootless = true;
      else if ((strcmp (argv[i], "-b") == 0 || strcmp (argv[i], "--bundle") == 0) && i + 1 < argc)
        bundle = argv[++i];
      else
        return rt_usage (g, "spec: unknown option `%s`", argv[i]);
    }
  dfd = open (bundle, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0)
    {
      nook_error (&err, errno, "open bundle `%s`", bundle);
      return rt_fail (g, &err);
    }
  if (faccessat (dfd, "config.json", F_OK, AT_SYMLINK_NOFOLLOW) == 0)
    {
      close (dfd);
      nook_error_input (&err, "File %s/config.json exists. Remove it first", bundle);
      return rt_fail (g, &err);
    }
  text = nook_spec_default (rootless, geteuid (), getegid ());
  if (nook_write_file_atomic (dfd, "config.json", text, strlen (text), 0644, false, &err) < 0)
    ret = rt_fail (g, &err);
  free (text);
  close (dfd);
  return ret;
}

int
rt_features (struct rt_global *g, int argc, char **argv)
{
  char *text = nook_features_json ();
  puts (text);
  free (text);
  return 0;
}
