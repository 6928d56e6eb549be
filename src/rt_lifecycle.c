/* create, run, start, kill, delete. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime_cli.h"
#include "util/proc.h"
#include "util/strutil.h"

enum
{
  OPT_PID_FILE = 1000,
  OPT_CONSOLE_SOCKET,
  OPT_PRESERVE_FDS,
  OPT_NO_PIVOT,
  OPT_NO_NEW_KEYRING,
  OPT_NO_SUBREAPER,
  OPT_KEEP,
};

static const struct option create_opts[] = {
  { "bundle", required_argument, NULL, 'b' },
  { "pid-file", required_argument, NULL, OPT_PID_FILE },
  { "console-socket", required_argument, NULL, OPT_CONSOLE_SOCKET },
  { "preserve-fds", required_argument, NULL, OPT_PRESERVE_FDS },
  { "no-pivot", no_argument, NULL, OPT_NO_PIVOT },
  { "no-new-keyring", no_argument, NULL, OPT_NO_NEW_KEYRING },
  { "no-subreaper", no_argument, NULL, OPT_NO_SUBREAPER },
  { "keep", no_argument, NULL, OPT_KEEP },
  { "detach", no_argument, NULL, 'd' },
  { NULL, 0, NULL, 0 },
};

/* systemd socket activation meant for us (LISTEN_PID is our pid): the number of fds from 3 on. */
static int
listen_fds (void)
{
  const char *fds = getenv ("LISTEN_FDS"), *pid = getenv ("LISTEN_PID");
  uint64_t n, p;

  if (fds == NULL || pid == NULL || !str_to_u64 (fds, 1 << 16, &n) || !str_to_u64 (pid, INT32_MAX, &p)
      || (pid_t) p != getpid ())
    return 0;
  return (int) n;
}

/* Shared by create and run; RUN allows -d. Returns 0, or an exit status after printing. */
static int
parse_create (struct rt_global *g, int argc, char **argv, bool run, struct nook_create_opts *o)
{
  int c;
  uint64_t n;

  optind = 1;
  opterr = 0;
  while ((c = getopt_long (argc, argv, run ? "+b:d" : "+b:", create_opts, NULL)) != -1)
    {
      switch (c)
        {
        case 'b':
          o->bundle = optarg;
          break;
        case 'd':
          o->detach = true;
          break;
        case OPT_PID_FILE:
          o->pid_file = optarg;
          break;
        case OPT_CONSOLE_SOCKET:
          o->console_socket = optarg;
          break;
        case OPT_PRESERVE_FDS:
          if (!str_to_u64 (optarg, 1 << 20, &n))
            return rt_usage (g, "--preserve-fds `%s`: expected a number", optarg);
          o->preserve_fds = (int) n;
          break;
        case OPT_NO_PIVOT:
          o->no_pivot = true;
          break;
        case OPT_NO_NEW_KEYRING:
          o->no_new_keyring = true;
          break;
        case OPT_KEEP:
          o->keep = run;
          break;
        case OPT_NO_SUBREAPER:
          break;
        default:
          return rt_usage (g, "%s: unknown option `%s`", argv[0], argv[optind - 1]);
        }
    }
  if (optind != argc - 1)
    return rt_usage (g, "%s: expected exactly one container ID", argv[0]);
  o->id = argv[optind];
  o->listen_fds = listen_fds ();
  o->preserve_fds += o->listen_fds;
  return 0;
}

int
rt_create (struct rt_global *g, int argc, char **argv)
{
  struct nook_create_opts o = { 0 };
  nook_err err = { 0 };
  int r = parse_create (g, argc, argv, false, &o);

  if (r != 0)
    return r;
  if (nook_container_create (&g->ctx, &o, &err) < 0)
    return rt_fail (g, &err);
  return 0;
}

int
rt_run (struct rt_global *g, int argc, char **argv)
{
  struct nook_create_opts o = { 0 };
  nook_err err = { 0 };
  int status = 0;
  int r = parse_create (g, argc, argv, true, &o);

  if (r != 0)
    return r;
  if (nook_container_run (&g->ctx, &o, &status, &err) < 0)
    return rt_fail (g, &err);
  return status;
}

/* Verbs taking just an ID, with simple flags handled by the caller. */
static const char *
only_id (struct rt_global *g, int argc, char **argv, int first)
{
  if (first != argc - 1)
    {
      rt_usage (g, "%s: expected exactly one container ID", argv[0]);
      return NULL;
    }
  return argv[first];
}

int
rt_start (struct rt_global *g, int argc, char **argv)
{
  nook_err err = { 0 };
  const char *id = only_id (g, argc, argv, 1);

  if (id == NULL)
    return NOOK_EXIT_ERROR;
  if (nook_container_start (&g->ctx, id, &err) < 0)
    return rt_fail (g, &err);
  return 0;
}

int
rt_kill (struct rt_global *g, int argc, char **argv)
{
  nook_err err = { 0 };
  bool all = false;
  int i = 1, sig = 15;

  for (; i < argc && argv[i][0] == '-'; i++)
    {
      if (strcmp (argv[i], "--all") == 0 || strcmp (argv[i], "-a") == 0)
        all = true;
      else
        return rt_usage (g, "kill: unknown option `%s`", argv[i]);
    }
  if (i >= argc || argc - i > 2)
    return rt_usage (g, "kill: usage: kill [--all] ID [SIGNAL]");
  /* Signal 0 (runc and crun accept it): only checks that the container's init exists. */
  if (argc - i == 2 && strcmp (argv[i + 1], "0") == 0)
    sig = 0;
  else if (argc - i == 2 && (sig = nook_parse_signal (argv[i + 1])) < 0)
    return rt_usage (g, "kill: unknown signal `%s`", argv[i + 1]);
  if (nook_container_kill (&g->ctx, argv[i], sig, all, &err) < 0)
    return rt_fail (g, &err);
  return 0;
}

int
rt_delete (struct rt_global *g, int argc, char **argv)
{
  nook_err err = { 0 };
  bool force = false;
  int i = 1;

  for (; i < argc && argv[i][0] == '-'; i++)
    {
      if (strcmp (argv[i], "--force") == 0 || strcmp (argv[i], "-f") == 0)
        force = true;
      else
        return rt_usage (g, "delete: unknown option `%s`", argv[i]);
    }
  if (i != argc - 1)
    return rt_usage (g, "delete: expected exactly one container ID");
  if (nook_container_delete (&g->ctx, argv[i], force, &err) < 0)
    {
      if (force && err.code == ENOENT)
        return 0; /* runc and crun: nothing to force away; podman's cleanup relies on it */
      return rt_fail (g, &err);
    }
  return 0;
}
