/* exec [-p process.json] [-t] [-d] [--cwd DIR] [-e K=V] [-u UID[:GID]] [--cap C] [--no-new-privs]
 *      [--pid-file F] [--console-socket S] [--preserve-fds N] ID [CMD...] */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "runtime_cli.h"
#include "util/strutil.h"

enum
{
  OPT_CWD = 1000,
  OPT_CAP,
  OPT_NNP,
  OPT_PID_FILE,
  OPT_CONSOLE_SOCKET,
  OPT_PRESERVE_FDS,
  OPT_ADDITIONAL_GIDS,
  OPT_CGROUP,
  OPT_IGNORED,
};

static const struct option exec_opts[] = {
  { "process", required_argument, NULL, 'p' },
  { "tty", no_argument, NULL, 't' },
  { "detach", no_argument, NULL, 'd' },
  { "cwd", required_argument, NULL, OPT_CWD },
  { "env", required_argument, NULL, 'e' },
  { "user", required_argument, NULL, 'u' },
  { "cap", required_argument, NULL, OPT_CAP },
  { "no-new-privs", no_argument, NULL, OPT_NNP },
  { "pid-file", required_argument, NULL, OPT_PID_FILE },
  { "console-socket", required_argument, NULL, OPT_CONSOLE_SOCKET },
  { "preserve-fds", required_argument, NULL, OPT_PRESERVE_FDS },
  { "additional-gids", required_argument, NULL, OPT_ADDITIONAL_GIDS },
  { "cgroup", required_argument, NULL, OPT_CGROUP },
  { "apparmor", required_argument, NULL, OPT_IGNORED },
  { "process-label", required_argument, NULL, OPT_IGNORED },
  { NULL, 0, NULL, 0 },
};

static void
push (char ***v, const char *s)
{
  size_t n = strv_len (*v);
  *v = xrealloc (*v, (n + 2) * sizeof (char *));
  (*v)[n] = (char *) s;
  (*v)[n + 1] = NULL;
}

static int
parse (struct rt_global *g, int argc, char **argv, struct nook_exec_opts *o)
{
  uint64_t n;
  int c;

  optind = 1;
  opterr = 0;
  while ((c = getopt_long (argc, argv, "+p:tde:u:", exec_opts, NULL)) != -1)
    {
      switch (c)
        {
        case 'p': o->process_file = optarg; break;
        case 't': o->tty = true; break;
        case 'd': o->detach = true; break;
        case 'e': push (&o->env, optarg); break;
        case 'u': o->user = optarg; break;
        case OPT_CWD: o->cwd = optarg; break;
        case OPT_CAP: push (&o->caps, optarg); break;
        case OPT_NNP: o->no_new_privs = true; break;
        case OPT_PID_FILE: o->pid_file = optarg; break;
        case OPT_CONSOLE_SOCKET: o->console_socket = optarg; break;
        case OPT_PRESERVE_FDS:
          if (!str_to_u64 (optarg, 1 << 20, &n))
            return rt_usage (g, "exec: --preserve-fds `%s`: expected a number", optarg);
          o->preserve_fds = (int) n;
          break;
        case OPT_ADDITIONAL_GIDS: push (&o->additional_gids, optarg); break;
        case OPT_CGROUP: push (&o->cgroups, optarg); break;
        case OPT_IGNORED: break;
        default:
          return rt_usage (g, "exec: unknown option `%s`", argv[optind - 1]);
        }
    }
  if (optind >= argc)
    return rt_usage (g, "exec: expected a container ID");
  o->id = argv[optind];
  o->args = argv + optind + 1;
  if (o->process_file == NULL && o->args[0] == NULL)
    return rt_usage (g, "exec: expected a command (or -p process.json)");
  return 0;
}

int
rt_exec (struct rt_global *g, int argc, char **argv)
{
  struct nook_exec_opts o = { 0 };
  nook_err err = { 0 };
  int status = 0, r;

  r = parse (g, argc, argv, &o);
  if (r == 0)
    {
      if (nook_container_exec (&g->ctx, &o, &status, &err) < 0)
        r = rt_fail (g, &err);
      else
        r = status;
    }
  free (o.env);
  free (o.caps);
  free (o.additional_gids);
  free (o.cgroups);
  return r;
}
