/* login, logout. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "image/auth.h"
#include "image/registry.h"
#include "manager.h"
#include "util/strutil.h"

enum
{
  OPT_TLS = 1000,
  OPT_AUTHFILE,
  OPT_STDIN,
  OPT_IGNORED_ARG,
};

static char *
read_line (FILE *in, bool secret)
{
  struct termios old, quiet;
  char buf[4096];
  bool tty = secret && isatty (fileno (in)) && tcgetattr (fileno (in), &old) == 0;

  if (tty)
    {
      quiet = old;
      quiet.c_lflag &= ~(tcflag_t) ECHO;
      tcsetattr (fileno (in), TCSANOW, &quiet);
    }
  char *r = fgets (buf, sizeof (buf), in);
  if (tty)
    {
      tcsetattr (fileno (in), TCSANOW, &old);
      fputc ('\n', stderr);
    }
  if (r == NULL)
    return NULL;
  buf[strcspn (buf, "\r\n")] = '\0';
  return xstrdup (buf);
}

int
cmd_login (struct mgr *m, int argc, char **argv)
{
  static const struct option opts[] = {
    { "username", required_argument, NULL, 'u' },   { "password", required_argument, NULL, 'p' },
    { "password-stdin", no_argument, NULL, OPT_STDIN }, { "tls-verify", optional_argument, NULL, OPT_TLS },
    { "authfile", required_argument, NULL, OPT_AUTHFILE }, { "cert-dir", required_argument, NULL, OPT_IGNORED_ARG },
    { NULL, 0, NULL, 0 },
  };
  struct nook_registry_opts ro = { .tls_verify = true };
  const char *authfile = NULL;
  char *user = NULL, *pass = NULL;
  bool from_stdin = false;
  nook_err err = { 0 };
  int c, tls, ret = 0;

  while ((c = mgr_getopt (argc, argv, "u:p:", opts)) != -1)
    switch (c)
      {
      case 'u': user = xstrdup (optarg); break;
      case 'p': pass = xstrdup (optarg); break;
      case OPT_STDIN: from_stdin = true; break;
      case OPT_TLS:
        if ((tls = mgr_bool (optarg)) < 0)
          return mgr_usage ("--tls-verify: invalid value `%s`", optarg);
        ro.tls_verify = tls;
        break;
      case OPT_AUTHFILE: authfile = optarg; break;
      case OPT_IGNORED_ARG: break;
      default: return NOOK_EXIT_ERROR;
      }
  if (optind != argc - 1)
    return mgr_usage ("login requires exactly one registry");
  if (user == NULL)
    {
      fputs ("Username: ", stderr);
      user = read_line (stdin, false);
    }
  if (pass == NULL)
    {
      if (!from_stdin)
        fputs ("Password: ", stderr);
      pass = read_line (stdin, true);
    }
  if (user == NULL || pass == NULL || *user == '\0')
    ret = mgr_usage ("username and password are required");
  else
    {
      ro.username = user;
      ro.password = pass;
      if (nook_registry_login_check (argv[optind], &ro, &err) < 0
          || nook_auth_store (authfile, argv[optind], user, pass, &err) < 0)
        ret = mgr_fail (&err);
      else
        puts ("Login Succeeded!");
    }
  free (user);
  free (pass);
  return ret;
}

int
cmd_logout (struct mgr *m, int argc, char **argv)
{
  static const struct option opts[] = {
    { "all", no_argument, NULL, 'a' }, { "authfile", required_argument, NULL, OPT_AUTHFILE }, { NULL, 0, NULL, 0 },
  };
  const char *authfile = NULL;
  bool all = false;
  nook_err err = { 0 };
  int c;

  while ((c = mgr_getopt (argc, argv, "a", opts)) != -1)
    switch (c)
      {
      case 'a': all = true; break;
      case OPT_AUTHFILE: authfile = optarg; break;
      default: return NOOK_EXIT_ERROR;
      }
  if (!all && optind != argc - 1)
    return mgr_usage ("logout requires a registry (or --all)");
  if (nook_auth_remove (authfile, all ? NULL : argv[optind], all, &err) < 0)
    return mgr_fail (&err);
  if (all)
    puts ("Removed login credentials for all registries");
  else
    printf ("Removed login credentials for %s\n", argv[optind]);
  return 0;
}
