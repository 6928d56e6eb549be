/* ps, inspect, logs, top, port. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "image/present.h"
#include "manager.h"
#include "manager/ctr_network.h"
#include "manager/ctrstore.h"
#include "manager/lifecycle.h"
#include "manager/monitor.h"
#include "runtime/container.h"
#include "util/strutil.h"

static int
get_mgr (struct mgr *m, struct nook_mgr *nm, nook_err *err)
{
  nm->store = mgr_store (m, err);
  nm->runroot = m->runroot_resolved;
  return nm->store ? 0 : -1;
}

static void
print_ps_table (json_t *rows, bool notrunc)
{
  printf ("%-14s %-34s %-22s %-16s %-26s %-10s %s\n", "CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS",
          "NAMES");
  for (size_t i = 0; i < json_array_size (rows); i++)
    {
      json_t *r = json_array_get (rows, i);
      const char *id = json_string_value (json_object_get (r, "ID"));
      const char *cmd = json_string_value (json_object_get (r, "Command"));
      printf ("%-14.*s %-34s %-22.*s %-16s %-26s %-10s %s\n", notrunc ? 64 : 12, id,
              json_string_value (json_object_get (r, "Image")), notrunc ? 200 : 20, cmd,
              json_string_value (json_object_get (r, "CreatedHuman")), json_string_value (json_object_get (r, "Status")),
              json_string_value (json_object_get (r, "Ports")), json_string_value (json_object_get (r, "Names")));
    }
}

/* --filter name=|label=|status=|id= */
static bool
matches (json_t *r, char **filters)
{
  for (size_t i = 0; filters && filters[i]; i++)
    {
      const char *f = filters[i], *eq = strchr (f, '=');
      const char *v = eq ? eq + 1 : "";
      size_t klen = eq ? (size_t) (eq - f) : strlen (f);
      if (strncmp (f, "name", klen) == 0 && klen == 4)
        {
          if (strstr (json_string_value (json_object_get (r, "Names")), v) == NULL)
            return false;
        }
      else if (strncmp (f, "id", klen) == 0 && klen == 2)
        {
          if (strncmp (json_string_value (json_object_get (r, "ID")), v, strlen (v)) != 0)
            return false;
        }
      else if (strncmp (f, "status", klen) == 0 && klen == 6)
        {
          if (strcmp (json_string_value (json_object_get (r, "State")), v) != 0)
            return false;
        }
      else if (strncmp (f, "label", klen) == 0 && klen == 5)
        {
          const char *leq = strchr (v, '=');
          char *key = leq ? strndup (v, (size_t) (leq - v)) : xstrdup (v);
          json_t *lv = json_object_get (json_object_get (r, "Labels"), key);
          free (key);
          if (lv == NULL || (leq && strcmp (json_string_value (lv) ?: "", leq + 1) != 0))
            return false;
        }
    }
  return true;
}

/* podman's `ps --format json` has Names and Command as arrays (templates see the strings). */
static void
json_ps_arrays (json_t *rows)
{
  for (size_t i = 0; i < json_array_size (rows); i++)
    {
      json_t *r = json_array_get (rows, i), *names = json_array (), *cmd = json_array ();
      json_array_append (names, json_object_get (r, "Names"));
      json_t *argsv = json_object_get (r, "CommandArgs");
      if (json_is_array (argsv))
        json_array_extend (cmd, argsv);
      else
        json_array_append (cmd, json_object_get (r, "Command"));
      json_object_set_new (r, "Names", names);
      json_object_set_new (r, "Command", cmd);
      json_object_del (r, "CommandArgs");
    }
}

int
cmd_ps (struct mgr *m, int argc, char **argv)
{
  static const struct option opts[] = {
    { "all", no_argument, NULL, 'a' },          { "quiet", no_argument, NULL, 'q' },
    { "no-trunc", no_argument, NULL, 'N' },     { "format", required_argument, NULL, 'f' },
    { "filter", required_argument, NULL, 'F' }, { "size", no_argument, NULL, 's' },
    { "latest", no_argument, NULL, 'l' },       { "noheading", no_argument, NULL, 'n' },
    { "sort", required_argument, NULL, 'S' },   { "external", no_argument, NULL, 'x' },
    { "pod", no_argument, NULL, 'p' },          { "namespace", no_argument, NULL, 'X' },
    { NULL, 0, NULL, 0 },
  };
  bool all = false, quiet = false, notrunc = false;
  const char *format = NULL;
  char **filters = xcalloc (1, sizeof (char *));
  size_t nf = 0;
  struct nook_mgr nm;
  nook_err err = { 0 };
  json_t *rows = NULL, *keep;
  int c, ret = 0;

  while ((c = mgr_getopt (argc, argv, "aqf:slnpx", opts)) != -1)
    switch (c)
      {
      case 'a': all = true; break;
      case 'q': quiet = true; break;
      case 'N': notrunc = true; break;
      case 'f': format = optarg; break;
      case 'F':
        filters = xrealloc (filters, (nf + 2) * sizeof (char *));
        filters[nf++] = optarg;
        filters[nf] = NULL;
        break;
      case 's': case 'l': case 'n': case 'S': case 'x': case 'p': case 'X': break;
      default: free (filters); return NOOK_EXIT_ERROR;
      }
  if (get_mgr (m, &nm, &err) < 0 || nook_ctr_ps (&nm, all || nf > 0, &rows, &err) < 0)
    {
      free (filters);
      return mgr_fail (&err);
    }
  keep = json_array ();
  for (size_t i = 0; i < json_array_size (rows); i++)
    {
      json_t *r = json_array_get (rows, i);
      if (!all && strcmp (json_string_value (json_object_get (r, "State")), "running") != 0 && nf == 0)
        continue;
      if (matches (r, filters))
        json_array_append (keep, r);
    }
  if (format && (strcmp (format, "json") == 0 || strcmp (format, "{{json .}}") == 0))
    json_ps_arrays (keep);
  else if (format && !notrunc) /* templates see podman's 12-digit .ID */
    for (size_t i = 0; i < json_array_size (keep); i++)
      {
        json_t *r = json_array_get (keep, i);
        char id12[13];
        snprintf (id12, sizeof (id12), "%s", json_string_value (json_object_get (r, "ID")) ?: "");
        json_object_set_new (r, "ID", json_string (id12));
      }
  if (quiet)
    for (size_t i = 0; i < json_array_size (keep); i++)
      printf ("%.*s\n", notrunc ? 64 : 12, json_string_value (json_object_get (json_array_get (keep, i), "ID")));
  else
    {
      int r = mgr_print_format (format, keep, &err);
      if (r < 0)
        ret = mgr_fail (&err);
      else if (r == 1)
        print_ps_table (keep, notrunc);
    }
  json_decref (keep);
  json_decref (rows);
  free (filters);
  return ret;
}

int
cmd_inspect (struct mgr *m, int argc, char **argv)
{
  static const struct option opts[] = {
    { "format", required_argument, NULL, 'f' }, { "type", required_argument, NULL, 't' },
    { "size", no_argument, NULL, 's' },         { "latest", no_argument, NULL, 'l' }, { NULL, 0, NULL, 0 },
  };
  const char *format = NULL, *type = "all";
  struct nook_mgr nm;
  nook_err err = { 0 };
  json_t *all;
  int c, ret = 0;

  while ((c = mgr_getopt (argc, argv, "f:t:sl", opts)) != -1)
    switch (c)
      {
      case 'f': format = optarg; break;
      case 't': type = optarg; break;
      case 's': case 'l': break;
      default: return NOOK_EXIT_ERROR;
      }
  if (optind >= argc)
    return mgr_usage ("inspect requires at least 1 argument");
  if (strcmp (type, "image") == 0)
    {
      /* `image inspect` [--format F] and the names (getopt moved them to the end) */
      char **sub = xcalloc ((size_t) (argc - optind) + 4, sizeof (char *));
      int n = 0;
      sub[n++] = (char *) "inspect";
      if (format)
        sub[n++] = (char *) "--format", sub[n++] = (char *) format;
      for (int i = optind; i < argc; i++)
        sub[n++] = argv[i];
      optind = 1;
      ret = cmd_image_inspect (m, n, sub);
      free (sub);
      return ret;
    }
  if (get_mgr (m, &nm, &err) < 0)
    return mgr_fail (&err);
  all = json_array ();
  for (int i = optind; i < argc; i++)
    {
      char *id = NULL;
      json_t *rec = NULL;
      if (nook_ctr_find (nm.store, argv[i], &id, &err) == 0 && nook_ctr_inspect (&nm, id, &rec, &err) == 0)
        json_array_append_new (all, rec);
      else if (strcmp (type, "container") != 0)
        {
          struct nook_image *img = NULL;
          nook_err e2 = { 0 };
          json_t *o;
          if (nook_store_image_find (nm.store, argv[i], &img, &e2) == 0 && (o = nook_image_inspect_json (nm.store, img, &e2)))
            json_array_append_new (all, o);
          else
            {
              fprintf (stderr, "Error: no such object: \"%s\"\n", argv[i]);
              ret = NOOK_EXIT_ERROR;
            }
          nook_image_free (img);
        }
      else
        ret = mgr_fail (&err);
      free (id);
    }
  if (mgr_print_inspect (format, all, &err) < 0)
    ret = mgr_fail (&err);
  json_decref (all);
  return ret;
}

int
cmd_logs (struct mgr *m, int argc, char **argv)
{
  static const struct option opts[] = {
    { "follow", no_argument, NULL, 'f' },      { "timestamps", no_argument, NULL, 't' },
    { "since", required_argument, NULL, 's' }, { "until", required_argument, NULL, 'u' },
    { "tail", required_argument, NULL, 'n' },  { "latest", no_argument, NULL, 'l' },
    { "names", no_argument, NULL, 'N' },       { NULL, 0, NULL, 0 },
  };
  struct nook_logs_opts o = { .tail = -1 };
  struct nook_mgr nm;
  nook_err err = { 0 };
  char *id = NULL;
  int c, ret = 0;

  while ((c = mgr_getopt (argc, argv, "ftln:", opts)) != -1)
    switch (c)
      {
      case 'f': o.follow = true; break;
      case 't': o.timestamps = true; break;
      case 's': o.since = optarg; break;
      case 'u': o.until = optarg; break;
      case 'n': o.tail = strtol (optarg, NULL, 10); break;
      case 'l': case 'N': break;
      default: return NOOK_EXIT_ERROR;
      }
  if (optind != argc - 1)
    return mgr_usage ("logs requires exactly 1 container");
  if (get_mgr (m, &nm, &err) < 0 || nook_ctr_find (nm.store, argv[optind], &id, &err) < 0
      || nook_logs_print (nm.store, id, nm.runroot, &o, &err) < 0)
    ret = mgr_fail (&err);
  free (id);
  return ret;
}

int
cmd_top (struct mgr *m, int argc, char **argv)
{
  struct nook_mgr nm;
  struct nook_runtime_ctx ctx;
  nook_err err = { 0 };
  char *id = NULL;
  pid_t *pids = NULL;
  size_t n = 0;
  int ret = 0;

  if (argc < 2)
    return mgr_usage ("top requires a container");
  if (get_mgr (m, &nm, &err) < 0 || nook_ctr_find (nm.store, argv[1], &id, &err) < 0)
    return mgr_fail (&err);
  ctx = (struct nook_runtime_ctx){ .root = nm.runroot };
  if (nook_container_pids (&ctx, id, &pids, &n, &err) < 0)
    ret = mgr_fail (&err);
  else
    {
      char *list = xstrdup ("");
      for (size_t i = 0; i < n; i++)
        {
          char *next = xasprintf ("%s%s%d", list, i ? "," : "", (int) pids[i]);
          free (list);
          list = next;
        }
      fflush (stdout);
      pid_t child = fork ();
      if (child == 0)
        {
          execlp ("ps", "ps", "-o", "user,pid,ppid,pcpu,etime,tty,time,args", "-p", n ? list : "0", (char *) NULL);
          _exit (127);
        }
      waitpid (child, NULL, 0);
      free (list);
    }
  free (pids);
  free (id);
  return ret;
}

int
cmd_port (struct mgr *m, int argc, char **argv)
{
  struct nook_mgr nm;
  nook_err err = { 0 };
  char *id = NULL;
  json_t *rec = NULL, *ports;
  const char *key;
  json_t *val;

  if (argc < 2)
    return mgr_usage ("port requires a container");
  if (get_mgr (m, &nm, &err) < 0 || nook_ctr_find (nm.store, argv[1], &id, &err) < 0
      || nook_ctr_inspect (&nm, id, &rec, &err) < 0)
    {
      free (id);
      return mgr_fail (&err);
    }
  /* `port NAME [PRIVATE[/PROTO]]`: podman's output. */
  ports = nook_ctr_ports_of (rec);
  json_object_foreach (ports, key, val)
    {
      bool only = argc >= 3;
      if (only && strcmp (key, argv[2]) != 0 && !(strchr (argv[2], '/') == NULL && str_has_prefix (key, argv[2])
                                                  && strcmp (key + strlen (argv[2]), "/tcp") == 0))
        continue;
      for (size_t i = 0; i < json_array_size (val); i++)
        {
          json_t *b = json_array_get (val, i);
          const char *ip = json_string_value (json_object_get (b, "HostIp"));
          const char *hp = json_string_value (json_object_get (b, "HostPort"));
          if (only)
            printf ("%s:%s\n", ip && *ip ? ip : "0.0.0.0", hp ? hp : "");
          else
            printf ("%s -> %s:%s\n", key, ip && *ip ? ip : "0.0.0.0", hp ? hp : "");
        }
    }
  json_decref (rec);
  free (id);
  return 0;
}
