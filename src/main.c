/* nook: one binary.  Invoked as `nook-runtime` (or `nook runtime ...`) it speaks runc's command line. */
#include <stdio.h>
#include <string.h>

#include "runtime_cli.h"

static int
usage (FILE *out)
{
  fputs ("Usage: nook COMMAND [OPTIONS]\n"
         "\n"
         "Commands:\n"
         "  runtime VERB ...   the OCI runtime (runc/crun command line); also installed as nook-runtime\n"
         "  version            print the version\n",
         out);
  return out == stderr ? 125 : 0;
}

int
main (int argc, char **argv)
{
  const char *base = strrchr (argv[0], '/');
  base = base ? base + 1 : argv[0];

  if (strcmp (base, "nook-runtime") == 0)
    return runtime_main (argc, argv);
  if (argc < 2)
    return usage (stderr);
  if (strcmp (argv[1], "runtime") == 0)
    {
      argv[1] = (char *) "nook-runtime";
      return runtime_main (argc - 1, argv + 1);
    }
  if (strcmp (argv[1], "version") == 0 || strcmp (argv[1], "--version") == 0)
    {
      printf ("nook version %s\n", NOOK_VERSION);
      return 0;
    }
  if (strcmp (argv[1], "help") == 0 || strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0)
    return usage (stdout);
  fprintf (stderr, "nook: unrecognized command `%s`\n", argv[1]);
  return usage (stderr);
}
