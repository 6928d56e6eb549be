/* Global flags and verb dispatch for the runc-compatible command line. */
#include "runtime_cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/state.h"
#include "util/log.h"
#include "util/selfexe.h"

static const struct
{
  const char *name;
  int (*fn) (struct rt_global *, int, char **);
  bool spawns; /* creates or enters a container: runs from a sealed copy of the binary */
} verbs[] = {
  { "create", rt_create, true }, { "run", rt_run, true },     { "exec", rt_exec, true },
  { "start", rt_start, false },  { "kill", rt_kill, false },  { "delete", rt_delete, false },
  { "state", rt_state, false },  { "list", rt_list, false },  { "ps", rt_ps, false },
  { "spec", rt_spec, false },    { "features", rt_features, false }, { "pause", rt_pause, false },
  { "resume", rt_resume, false }, { "update", rt_update, false }, { "events", rt_events, false },
};

int
rt_fail (struct rt_global *g, const nook_err *err)
{
  nook_err_print (err, g->prog);
  return err->status ? err->status : NOOK_EXIT_ERROR;
}

int
rt_usage (struct rt_global *g, const char *fmt, ...)
{
  va_list ap;
  fprintf (stderr, "%s: ", g->prog);
  va_start (ap, fmt);
  vfprintf (stderr, fmt, ap);
  va_end (ap);
  fputc ('\n', stderr);
  return NOOK_EXIT_ERROR;
}

static int
help (void)
{
  fputs ("Usage: nook-runtime [GLOBAL OPTIONS] VERB [OPTIONS] ID\n"
         "Global: --root DIR, --log FILE, --log-format text|json, --debug, --systemd-cgroup, --rootless, --version\n"
         "Verbs: create start run state kill delete exec list ps pause resume update events spec features\n",
         stdout);
  return 0;
}

/* "--flag value" or "--flag=value". */
static const char *
flag_value (int argc, char **argv, int *i, const char *flag)
{
  size_t n = strlen (flag);
  if (strncmp (argv[*i], flag, n) == 0 && argv[*i][n] == '=')
    return argv[*i] + n + 1;
  if (strcmp (argv[*i], flag) == 0 && *i + 1 < argc)
    return argv[++*i];
  return NULL;
}

struct globals
{
  const char *root, *log, *log_format;
  bool debug;
};

/* Returns the index of the verb, or -1 after printing an error. */
static int
parse_globals (struct rt_global *g, struct globals *o, int argc, char **argv)
{
  int i;
  for (i = 1; i < argc && argv[i][0] == '-'; i++)
    {
      const char *v;
      if ((v = flag_value (argc, argv, &i, "--root")))
        o->root = v;
      else if ((v = flag_value (argc, argv, &i, "--log")))
        o->log = v;
      else if ((v = flag_value (argc, argv, &i, "--log-format")))
        o->log_format = v;
      else if ((v = flag_value (argc, argv, &i, "--rootless")) || strcmp (argv[i], "--rootless") == 0)
        {
          if (v == NULL || strcmp (v, "true") == 0)
            g->ctx.rootless = NOOK_ROOTLESS_YES;
          else if (strcmp (v, "false") == 0)
            g->ctx.rootless = NOOK_ROOTLESS_NO;
          else if (strcmp (v, "auto") == 0)
            g->ctx.rootless = NOOK_ROOTLESS_AUTO;
          else
            {
              rt_usage (g, "--rootless `%s`: expected true, false or auto", v);
              return -1;
            }
        }
      else if ((v = flag_value (argc, argv, &i, "--cgroup-manager")))
        ;
      else if (strcmp (argv[i], "--debug") == 0)
        o->debug = true;
      else if (strcmp (argv[i], "--systemd-cgroup") == 0)
        g->ctx.systemd_cgroup = true;
      else
        {
          rt_usage (g, "unknown global option `%s`", argv[i]);
          return -1;
        }
    }
  return i;
}

static int
setup_log (struct rt_global *g, const struct globals *o)
{
  struct nook_log_cfg cfg = { .fd = -1, .debug = o->debug };

  if (o->log_format && strcmp (o->log_format, "json") != 0 && strcmp (o->log_format, "text") != 0)
    return rt_usage (g, "--log-format `%s`: expected text or json", o->log_format);
  cfg.json = o->log_format && strcmp (o->log_format, "json") == 0;
  if (o->log)
    {
      cfg.fd = open (o->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
      if (cfg.fd < 0)
        {
          fprintf (stderr, "%s: open log file `%s`: %s\n", g->prog, o->log, strerror (errno));
          return NOOK_EXIT_ERROR;
        }
    }
  nook_log_setup (&cfg);
  return 0;
}

int
runtime_main (int argc, char **argv)
{
  struct rt_global g = { .prog = "nook-runtime" };
  struct globals o = { 0 };
  char *root_default = NULL;
  int i, ret;

  for (int k = 1; k < argc && argv[k][0] == '-'; k++)
    {
      if (strcmp (argv[k], "--version") == 0 || strcmp (argv[k], "-v") == 0)
        {
          printf ("nook-runtime version %s\nspec: 1.1.0\n", NOOK_VERSION);
          return 0;
        }
      if (strcmp (argv[k], "--help") == 0 || strcmp (argv[k], "-h") == 0)
        return help ();
    }
  i = parse_globals (&g, &o, argc, argv);
  if (i < 0)
    return NOOK_EXIT_ERROR;
  if (i >= argc)
    return rt_usage (&g, "no verb given (try --help)");
  if ((ret = setup_log (&g, &o)) != 0)
    return ret;
  g.ctx.root = o.root ? o.root : (root_default = nook_runtime_root_default (g.ctx.rootless));
  for (size_t k = 0; k < sizeof (verbs) / sizeof (verbs[0]); k++)
    {
      nook_err err = { 0 };
      if (strcmp (argv[i], verbs[k].name) != 0)
        continue;
      if (verbs[k].spawns && nook_reexec_sealed (argv, &err) < 0)
        return rt_fail (&g, &err);
      ret = verbs[k].fn (&g, argc - i, argv + i);
      free (root_default);
      return ret;
    }
  free (root_default);
  return rt_usage (&g, "unknown verb `%s`", argv[i]);
}
