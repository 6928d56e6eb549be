/* run, create, start, stop, kill, restart, rm, wait, exec, attach, rename, container exists/prune. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "manager.h"
#include "manager/ctrstore.h"
#include "manager/lifecycle.h"
#include "manager/runopts.h"
#include "util/proc.h"
#include "util/strutil.h"

/* Resolve a name/id argument; prints the error. */
static char *
resolve (struct mgr *m, const char *arg, nook_err *err)
{
  struct nook_store *s = mgr_store (m, err);
  char *id = NULL;
  if (s == NULL || nook_ctr_find (s, arg, &id, err) < 0)
    return NULL;
  return id;
}

static int
with_mgr (struct mgr *m, struct nook_mgr *nm, nook_err *err)
{
  nm->store = mgr_store (m, err);
  nm->runroot = m->runroot_resolved;
  return nm->store ? 0 : -1;
}

static int
create_or_run (struct mgr *m, int argc, char **argv, bool run)
{
  struct nook_run_opts o;
  struct nook_mgr nm;
  nook_err err = { 0 };
  char *id = NULL;
  int code = 0, ret;

  nook_run_opts_init (&o);
  if (nook_run_opts_parse (argc, argv, &o, &err) < 0)
    {
      nook_run_opts_free (&o);
      return mgr_fail (&err);
    }
  if (o.help)
    {
      nook_run_opts_usage (stdout, run ? "run" : "create");
      nook_run_opts_free (&o);
      return 0;
    }
  if (with_mgr (m, &nm, &err) < 0)
    ret = mgr_fail (&err);
  else if (run ? nook_ctr_run (&nm, &o, m->argv, &id, &code, &err) < 0
               : nook_ctr_create (&nm, &o, m->argv, &id, &err) < 0)
    ret = mgr_fail (&err);
  else
    {
      if (!run || o.detach)
        printf ("%s\n", id);
      ret = run && !o.detach ? (code < 0 ? 0 : code) : 0;
    }
  free (id);
  nook_run_opts_free (&o);
  return ret;
}

int
cmd_run (struct mgr *m, int argc, char **argv)
{
  return create_or_run (m, argc, argv, true);
}

int
cmd_create (struct mgr *m, int argc, char **argv)
{
  return create_or_run (m, argc, argv, false);
}

int
cmd_start (struct mgr *m, int argc, char **argv)
{
  static const struct option opts[] = {
    { "attach", no_argument, NULL, 'a' }, { "interactive", no_argument, NULL, 'i' }, { NULL, 0, NULL, 0 },
  };
  bool attach = false, interactive = false;
  struct nook_mgr nm;
  nook_err err = { 0 };
  int c, ret = 0, code = 0;

  while ((c = mgr_getopt (argc, argv, "ai", opts)) != -1)
    switch (c)
      {
      case 'a': attach = true; break;
      case 'i': interactive = true; break;
      default: return NOOK_EXIT_ERROR;
      }
  if (optind >= argc)
    return mgr_usage ("start requires at least 1 argument");
  if (with_mgr (m, &nm, &err) < 0)
    return mgr_fail (&err);
  for (int i = optind; i < argc; i++)
    {
      char *id = resolve (m, argv[i], &err);
      if (id == NULL || nook_ctr_start (&nm, id, attach, interactive, &code, &err) < 0)
        ret = mgr_fail (&err);
      else if (attach)
        ret = code < 0 ? 0 : code;
      else
        printf ("%s\n", argv[i]);
      free (id);
    }
  return ret;
}

/* stop / kill / rm / wait share: flags, then names (or --all / --latest). */
static int
each_container (struct mgr *m, int argc, int first, char **argv, bool all, int (*fn) (struct nook_mgr *, const char *, const char *, void *),
                void *ud)
{
  struct nook_mgr nm;
  nook_err err = { 0 };
  char **ids = NULL;
  int ret = 0;

  if (with_mgr (m, &nm, &err) < 0)
    return mgr_fail (&err);
  if (all)
    {
      if (nook_ctr_list (nm.store, &ids, &err) < 0)
        return mgr_fail (&err);
      for (size_t i = 0; ids[i]; i++)
        if (fn (&nm, ids[i], ids[i], ud) != 0)
          ret = NOOK_EXIT_ERROR;
      strv_free (ids);
      return ret;
    }
  if (first >= argc)
    return mgr_usage ("%s requires at least 1 argument", argv[0]);
  for (int i = first; i < argc; i++)
    {
      char *id = resolve (m, argv[i], &err);
      int r = id ? fn (&nm, id, argv[i], ud) : (mgr_fail (&err), err.code == ENOENT ? 1 : NOOK_EXIT_ERROR);
      if (r != 0)
        ret = r == 1 ? (ret ? ret : 1) : NOOK_EXIT_ERROR;
      free (id);
    }
  return ret;
}

static int
do_stop (struct nook_mgr *nm, const char *id, const char *arg, void *ud)
{
  nook_err err = { 0 };
  if (nook_ctr_stop (nm, id, *(int *) ud, &err) < 0)
    return mgr_fail (&err), NOOK_EXIT_ERROR;
  printf ("%s\n", arg);
  return 0;
}

/* stop and restart: [-t N] [-a] [-i] NAMES...  Runs FN on each with the timeout. */
static int
stop_like (struct mgr *m, int argc, char **argv, int (*fn) (struct nook_mgr *, const char *, const char *, void *))
{
  static const struct option opts[] = {
    { "time", required_argument, NULL, 't' }, { "timeout", required_argument, NULL, 't' },
    { "all", no_argument, NULL, 'a' },         { "ignore", no_argument, NULL, 'i' }, { NULL, 0, NULL, 0 },
  };
  int c, timeout = -1;
  bool all = false;
  uint64_t t;

  while ((c = mgr_getopt (argc, argv, "t:ai", opts)) != -1)
    switch (c)
      {
      case 't':
        if (!str_to_u64 (optarg, 1u << 30, &t))
          return mgr_usage ("invalid argument \"%s\" for \"-t, --time\" flag", optarg);
        timeout = (int) t;
        break;
      case 'a': all = true; break;
      case 'i': break;
      default: return NOOK_EXIT_ERROR;
      }
  return each_container (m, argc, optind, argv, all, fn, &timeout);
}

int
cmd_stop (struct mgr *m, int argc, char **argv)
{
  return stop_like (m, argc, argv, do_stop);
}

static int
do_restart (struct nook_mgr *nm, const char *id, const char *arg, void *ud)
{
  nook_err err = { 0 };
  int code;
  if (nook_ctr_stop (nm, id, *(int *) ud, &err) < 0 || nook_ctr_start (nm, id, false, false, &code, &err) < 0)
    return mgr_fail (&err), NOOK_EXIT_ERROR;
  printf ("%s\n", arg);
  return 0;
}

int
cmd_restart (struct mgr *m, int argc, char **argv)
{
  return stop_like (m, argc, argv, do_restart);
}

static int
do_kill (struct nook_mgr *nm, const char *id, const char *arg, void *ud)
{
  nook_err err = { 0 };
  if (nook_ctr_kill (nm, id, *(int *) ud, &err) < 0)
    return mgr_fail (&err), NOOK_EXIT_ERROR;
  printf ("%s\n", arg);
  return 0;
}

int
cmd_kill (struct mgr *m, int argc, char **argv)
{
  static const struct option opts[] = {
    { "signal", required_argument, NULL, 's' }, { "all", no_argument, NULL, 'a' }, { NULL, 0, NULL, 0 },
  };
  int c, sig = 9;
  bool all = false;

  while ((c = mgr_getopt (argc, argv, "s:a", opts)) != -1)
    switch (c)
      {
      case 's':
        if ((sig = nook_parse_signal (optarg)) < 0)
          return mgr_usage ("invalid signal: %s", optarg);
        break;
      case 'a': all = true; break;
      default: return NOOK_EXIT_ERROR;
      }
  return each_container (m, argc, optind, argv, all, do_kill, &sig);
}

struct rm_opts
{
  bool force, volumes;
};

static int
do_rm (struct nook_mgr *nm, const char *id, const char *arg, void *ud)
{
  struct rm_opts *o = ud;
  nook_err err = { 0 };
  if (nook_ctr_remove (nm, id, o->force, o->volumes, &err) < 0)
    return mgr_fail (&err), NOOK_EXIT_ERROR;
  printf ("%s\n", arg);
  return 0;
}

int
cmd_rm (struct mgr *m, int argc, char **argv)
{
  static const struct option opts[] = {
    { "force", no_argument, NULL, 'f' }, { "all", no_argument, NULL, 'a' }, { "volumes", no_argument, NULL, 'v' },
    { "ignore", no_argument, NULL, 'i' }, { "time", required_argument, NULL, 't' }, { NULL, 0, NULL, 0 },
  };
  struct rm_opts o = { 0 };
  bool all = false, ignore = false;
  int c, r;

  while ((c = mgr_getopt (argc, argv, "favit:", opts)) != -1)
    switch (c)
      {
      case 'f': o.force = true; break;
      case 'a': all = true; break;
      case 'v': o.volumes = true; break;
      case 'i': ignore = true; break;
      case 't': break;
      default: return NOOK_EXIT_ERROR;
      }
  r = each_container (m, argc, optind, argv, all, do_rm, &o);
  return ignore && r == 1 ? 0 : r;
}

static int
do_wait (struct nook_mgr *nm, const char *id, const char *arg, void *ud)
{
  nook_err err = { 0 };
  int code = 0;
  if (nook_ctr_wait (nm, id, &code, &err) < 0)
    return mgr_fail (&err), NOOK_EXIT_ERROR;
  printf ("%d\n", code);
  return 0;
}

int
cmd_wait (struct mgr *m, int argc, char **argv)
{
  static const struct option opts[] = {
    { "condition", required_argument, NULL, 'c' }, { "interval", required_argument, NULL, 'i' }, { NULL, 0, NULL, 0 },
  };
  int c;
  while ((c = mgr_getopt (argc, argv, "i:", opts)) != -1)
    if (c != 'c' && c != 'i')
      return NOOK_EXIT_ERROR;
  return each_container (m, argc, optind, argv, false, do_wait, NULL);
}

int
cmd_exec (struct mgr *m, int argc, char **argv)
{
  static const struct option opts[] = {
    { "interactive", no_argument, NULL, 'i' }, { "tty", no_argument, NULL, 't' },
    { "detach", no_argument, NULL, 'd' },      { "user", required_argument, NULL, 'u' },
    { "workdir", required_argument, NULL, 'w' }, { "env", required_argument, NULL, 'e' },
    { "env-file", required_argument, NULL, 'E' }, { "privileged", no_argument, NULL, 'P' },
    { "detach-keys", required_argument, NULL, 'k' }, { NULL, 0, NULL, 0 },
  };
  struct nook_ctr_exec_opts o = { 0 };
  struct nook_mgr nm;
  nook_err err = { 0 };
  char **env = xcalloc (1, sizeof (char *));
  size_t nenv = 0;
  char *id = NULL;
  int c, code = 0, ret;

  while ((c = mgr_getopt (argc, argv, "+itdu:w:e:", opts)) != -1)
    {
      switch (c)
        {
        case 'i': o.interactive = true; break;
        case 't': o.tty = true; break;
        case 'd': o.detach = true; break;
        case 'u': o.user = optarg; break;
        case 'w': o.workdir = optarg; break;
        case 'P': o.privileged = true; break;
        case 'k': case 'E': break;
        case 'e':
          env = xrealloc (env, (nenv + 2) * sizeof (char *));
          env[nenv++] = strchr (optarg, '=') ? xstrdup (optarg) : xasprintf ("%s=%s", optarg, getenv (optarg) ?: "");
          env[nenv] = NULL;
          break;
        default: strv_free (env); return NOOK_EXIT_ERROR;
        }
    }
  o.env = env;
  if (argc - optind < 2)
    ret = mgr_usage ("exec requires at least 2 arguments (CONTAINER COMMAND)");
  else if ((id = resolve (m, argv[optind], &err)) == NULL || with_mgr (m, &nm, &err) < 0)
    ret = mgr_fail (&err);
  else
    {
      char session[65] = "";
      o.command = argv + optind + 1;
      o.session_id = session;
      ret = nook_ctr_exec (&nm, id, &o, &code, &err) < 0 ? mgr_fail (&err) : code;
      if (ret == 0 && o.detach)
        printf ("%s\n", session);
    }
  free (id);
  strv_free (env);
  return ret;
}

int
cmd_attach (struct mgr *m, int argc, char **argv)
{
  static const struct option opts[] = {
    { "no-stdin", no_argument, NULL, 'n' }, { "detach-keys", required_argument, NULL, 'k' },
    { "sig-proxy", optional_argument, NULL, 's' }, { NULL, 0, NULL, 0 },
  };
  bool stdin_too = true;
  struct nook_mgr nm;
  nook_err err = { 0 };
  char *id = NULL;
  int c, code = 0, ret;

  while ((c = mgr_getopt (argc, argv, "", opts)) != -1)
    {
      if (c == 'n')
        stdin_too = false;
      else if (c != 'k' && c != 's')
        return NOOK_EXIT_ERROR;
    }
  if (optind != argc - 1)
    return mgr_usage ("attach requires exactly 1 argument");
  if ((id = resolve (m, argv[optind], &err)) == NULL || with_mgr (m, &nm, &err) < 0
      || nook_ctr_start (&nm, id, true, stdin_too, &code, &err) < 0)
    ret = mgr_fail (&err);
  else
    ret = code < 0 ? 0 : code;
  free (id);
  return ret;
}

int
cmd_rename (struct mgr *m, int argc, char **argv)
{
  nook_err err = { 0 };
  char *id;
  int ret = 0;

  if (argc != 3)
    return mgr_usage ("rename requires exactly 2 arguments");
  if ((id = resolve (m, argv[1], &err)) == NULL || nook_ctr_rename (m->store, id, argv[2], &err) < 0)
    ret = mgr_fail (&err);
  free (id);
  return ret;
}

int
cmd_container_exists (struct mgr *m, int argc, char **argv)
{
  nook_err err = { 0 };
  char *id;
  if (argc != 2)
    return mgr_usage ("requires exactly 1 arg (CONTAINER)");
  id = resolve (m, argv[1], &err);
  if (id == NULL)
    return err.code == ENOENT ? 1 : mgr_fail (&err);
  free (id);
  return 0;
}

int
cmd_container_prune (struct mgr *m, int argc, char **argv)
{
  struct nook_mgr nm;
  nook_err err = { 0 };
  json_t *rows = NULL;
  int ret = 0;

  if (with_mgr (m, &nm, &err) < 0 || nook_ctr_ps (&nm, true, &rows, &err) < 0)
    return mgr_fail (&err);
  for (size_t i = 0; i < json_array_size (rows); i++)
    {
      json_t *r = json_array_get (rows, i);
      const char *state = json_string_value (json_object_get (r, "State"));
      const char *id = json_string_value (json_object_get (r, "ID"));
      if (state && strcmp (state, "running") == 0)
        continue;
      if (nook_ctr_remove (&nm, id, false, true, &err) < 0)
        ret = mgr_fail (&err);
      else
        printf ("%s\n", id);
    }
  json_decref (rows);
  return ret;
}
