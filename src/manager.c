/* Global flags and command dispatch for `nook COMMAND`. */
#include "manager.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "manager/lifecycle.h"
#include "runtime_cli.h"
#include "util/selfexe.h"
#include "util/cleanup.h"
#include "format/gotmpl.h"
#include "util/log.h"
#include "util/strutil.h"

int
mgr_fail (const nook_err *err)
{
  fprintf (stderr, "Error: %s\n", err->msg[0] ? err->msg : "unknown error");
  return err->status ? err->status : NOOK_EXIT_ERROR;
}

int
mgr_usage (const char *fmt, ...)
{
  va_list ap;
  fputs ("Error: ", stderr);
  va_start (ap, fmt);
  vfprintf (stderr, fmt, ap);
  va_end (ap);
  fputc ('\n', stderr);
  return NOOK_EXIT_ERROR;
}

struct nook_store *
mgr_store (struct mgr *m, nook_err *err)
{
  if (m->store == NULL && nook_store_open (m->root, &m->store, err) < 0)
    return NULL;
  return m->store;
}

int
mgr_getopt (int argc, char **argv, const char *shortopts, const struct option *longopts)
{
  int c;
  opterr = 0;
  c = getopt_long (argc, argv, shortopts, longopts, NULL);
  if (c == '?')
    {
      if (optopt)
        mgr_usage ("unknown shorthand flag: '%c' in -%c", optopt, optopt);
      else
        mgr_usage ("unknown flag: %s", argv[optind - 1]);
    }
  else if (c == ':')
    {
      mgr_usage ("flag needs an argument: %s", argv[optind - 1]);
      c = '?';
    }
  return c;
}

int
mgr_bool (const char *v)
{
  if (v == NULL || strcmp (v, "true") == 0)
    return 1;
  if (strcmp (v, "false") == 0)
    return 0;
  return -1;
}

int
mgr_print_format (const char *tmpl, json_t *rows, nook_err *err)
{
  const char *body = NULL;
  bool table;
  char *out = NULL;

  if (tmpl == NULL || strcmp (tmpl, "table") == 0)
    return 1;
  if (strcmp (tmpl, "json") == 0 || strcmp (tmpl, "{{json .}}") == 0)
    {
      char *s = json_dumps (rows, JSON_INDENT (4));
      puts (s);
      free (s);
      return 0;
    }
  cleanup_free char *norm = nook_tmpl_normalize (tmpl);
  static const char *const overrides[] = { "ID", "CONTAINER ID", "Names", "NAMES", NULL };
  table = nook_tmpl_is_table (norm, &body);
  if (!table)
    body = norm;
  if (table)
    {
      char *h = nook_tmpl_header_with (body, overrides);
      out = xasprintf ("%s\n", h ? h : "");
      free (h);
    }
  for (size_t i = 0; i < json_array_size (rows); i++)
    {
      char *line = NULL;
      if (nook_tmpl_render (body, json_array_get (rows, i), &line, err) < 0)
        {
          free (out);
          return -1;
        }
      char *next = xasprintf ("%s%s\n", out ? out : "", line ? line : "");
      free (out);
      free (line);
      out = next;
    }
  if (out)
    {
      char *aligned = table || strchr (out, '\t') ? nook_tmpl_tabulate (out) : xstrdup (out);
      fputs (aligned, stdout);
      free (aligned);
      free (out);
    }
  return 0;
}

int
mgr_print_inspect (const char *tmpl, json_t *all, nook_err *err)
{
  char *text;

  if (tmpl)
    return mgr_print_format (tmpl, all, err) < 0 ? -1 : 0;
  text = json_dumps (all, JSON_INDENT (4));
  puts (text);
  free (text);
  return 0;
}

static const struct
{
  const char *group, *name;
  int (*fn) (struct mgr *, int, char **);
} commands[] = {
  { NULL, "pull", cmd_pull },           { NULL, "images", cmd_images },         { NULL, "rmi", cmd_rmi },
  { NULL, "tag", cmd_tag },             { NULL, "save", cmd_save },             { NULL, "load", cmd_load },
  { NULL, "import", cmd_import },       { NULL, "login", cmd_login },           { NULL, "logout", cmd_logout },
  { "image", "pull", cmd_pull },        { "image", "ls", cmd_images },          { "image", "list", cmd_images },
  { "image", "rm", cmd_rmi },           { "image", "tag", cmd_tag },            { "image", "inspect", cmd_image_inspect },
  { "image", "exists", cmd_image_exists }, { "image", "prune", cmd_image_prune }, { "image", "save", cmd_save },
  { "image", "load", cmd_load },        { "image", "import", cmd_import },
  { NULL, "run", cmd_run },             { NULL, "create", cmd_create },         { NULL, "start", cmd_start },
  { NULL, "stop", cmd_stop },           { NULL, "restart", cmd_restart },       { NULL, "kill", cmd_kill },
  { NULL, "rm", cmd_rm },               { NULL, "wait", cmd_wait },             { NULL, "exec", cmd_exec },
  { NULL, "attach", cmd_attach },       { NULL, "rename", cmd_rename },         { NULL, "ps", cmd_ps },
  { NULL, "inspect", cmd_inspect },     { NULL, "logs", cmd_logs },             { NULL, "top", cmd_top },
  { NULL, "port", cmd_port },           { NULL, "cp", cmd_cp },                 { "container", "cp", cmd_cp },
  { "container", "run", cmd_run },      { "container", "create", cmd_create },  { "container", "start", cmd_start },
  { "container", "stop", cmd_stop },    { "container", "restart", cmd_restart }, { "container", "kill", cmd_kill },
  { "container", "rm", cmd_rm },        { "container", "wait", cmd_wait },      { "container", "exec", cmd_exec },
  { "container", "attach", cmd_attach }, { "container", "rename", cmd_rename }, { "container", "ps", cmd_ps },
  { "container", "ls", cmd_ps },        { "container", "list", cmd_ps },        { "container", "inspect", cmd_inspect },
  { "container", "logs", cmd_logs },    { "container", "top", cmd_top },        { "container", "port", cmd_port },
  { "container", "exists", cmd_container_exists }, { "container", "prune", cmd_container_prune },
};

/* Commands that create or enter containers run from a sealed copy of the binary (see util/selfexe.h). */
static bool
spawns (const char *cmd)
{
  static const char *const names[] = { "run", "create", "start", "restart", "exec", "attach", NULL };
  for (size_t i = 0; names[i]; i++)
    if (strcmp (cmd, names[i]) == 0)
      return true;
  return false;
}

static int
usage (FILE *out)
{
  fputs ("Usage: nook [--root DIR] COMMAND [OPTIONS]\n\n"
         "Containers: run create start stop restart kill rm wait exec attach rename ps inspect logs top port\n"
         "            container {exists,prune,...}\n"
         "Images: pull images rmi tag save load import login logout\n"
         "        image {ls,rm,tag,inspect,exists,prune,pull,save,load,import}\n"
         "Runtime: runtime VERB ... (the runc/crun command line; also installed as nook-runtime)\n"
         "Other: version\n",
         out);
  return out == stderr ? NOOK_EXIT_ERROR : 0;
}

/* Global flags before the command.  Returns the index of the command. */
static int
globals (struct mgr *m, int argc, char **argv)
{
  int i = 1;
  for (; i < argc && argv[i][0] == '-'; i++)
    {
      const char *a = argv[i];
      const char *eq = strchr (a, '=');
      size_t n = eq ? (size_t) (eq - a) : strlen (a);
      const char *val = eq ? eq + 1 : (i + 1 < argc ? argv[i + 1] : NULL);
      bool takes = true;

      if (strncmp (a, "--root", n) == 0 && n == 6)
        m->root = val;
      else if (strncmp (a, "--runroot", n) == 0 && n == 9)
        m->runroot = val;
      else if ((n == 11 && strncmp (a, "--log-level", n) == 0) || (n == 16 && strncmp (a, "--storage-driver", n) == 0)
               || (n == 16 && strncmp (a, "--cgroup-manager", n) == 0)
               || (n == 16 && strncmp (a, "--events-backend", n) == 0) || (n == 9 && strncmp (a, "--runtime", n) == 0)
               || (n == 12 && strncmp (a, "--tmpdir", n) == 0) || (n == 18 && strncmp (a, "--storage-opt", n) == 0))
        ;
      else if (strcmp (a, "--debug") == 0 || strcmp (a, "--syslog") == 0 || strcmp (a, "--remote") == 0)
        takes = false;
      else
        return -mgr_usage ("unknown flag: %s", a) - 1;
      if (takes && !eq)
        i++;
      if (takes && val == NULL)
        return -mgr_usage ("flag needs an argument: %s", a) - 1;
    }
  return i;
}

int
manager_main (int argc, char **argv)
{
  struct mgr m = { 0 };
  char *runroot = NULL;
  int i, ret;

  if (argc >= 2 && (strcmp (argv[1], "--version") == 0 || strcmp (argv[1], "version") == 0 || strcmp (argv[1], "-v") == 0))
    {
      printf ("nook version %s\n", NOOK_VERSION);
      return 0;
    }
  if (argc >= 2 && (strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0 || strcmp (argv[1], "help") == 0))
    return usage (stdout);
  i = globals (&m, argc, argv);
  if (i < 0)
    return NOOK_EXIT_ERROR;
  if (i >= argc)
    return usage (stderr);
  if (strcmp (argv[i], "runtime") == 0)
    {
      argv[i] = (char *) "nook-runtime";
      return runtime_main (argc - i, argv + i);
    }
  for (size_t k = 0; k < sizeof (commands) / sizeof (commands[0]); k++)
    {
      bool grouped = commands[k].group != NULL;
      if (grouped && (strcmp (argv[i], commands[k].group) != 0 || i + 1 >= argc || strcmp (argv[i + 1], commands[k].name) != 0))
        continue;
      if (!grouped && strcmp (argv[i], commands[k].name) != 0)
        continue;
      optind = 1;
      {
        nook_err err = { 0 };
        if (spawns (commands[k].name) && nook_reexec_sealed (argv, &err) < 0)
          return mgr_fail (&err);
      }
      m.argv = argv;
      m.runroot_resolved = m.runroot ? m.runroot : (runroot = nook_runroot_default ());
      ret = commands[k].fn (&m, argc - i - grouped, argv + i + grouped);
      free (runroot);
      nook_store_close (m.store);
      return ret;
    }
  return mgr_usage ("unrecognized command `nook %s`", argv[i]);
}
