/* nook: one binary.  Invoked as `nook-runtime` (or `nook runtime ...`) it speaks runc's command line;
 * otherwise podman's. */
#include <stdio.h>
#include <string.h>

#include "manager.h"
#include "runtime_cli.h"

int
main (int argc, char **argv)
{
  const char *base = strrchr (argv[0], '/');
  base = base ? base + 1 : argv[0];

  if (strcmp (base, "nook-runtime") == 0)
    return runtime_main (argc, argv);
  return manager_main (argc, argv);
}
