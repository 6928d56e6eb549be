/* nook: one binary.  Invoked as `nook` (or any name starting with "nook" other than `nook-runtime`), or as
 * `podman` / `docker` (a link users and tools such as distrobox put on PATH), it speaks podman's command
 * line; as `nook-runtime`, `nook runtime ...`, or under any other name it speaks runc's: engines copy or
 * link their runtime under names of their own (podman's tests copy it to a random name, a containerd
 * runtime class may call it `runc`). */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "manager.h"
#include "runtime_cli.h"

int
main (int argc, char **argv)
{
  const char *base = strrchr (argv[0], '/');
  base = base ? base + 1 : argv[0];

  bool manager = strcmp (base, "podman") == 0 || strcmp (base, "docker") == 0
                 || (strncmp (base, "nook", 4) == 0 && strcmp (base, "nook-runtime") != 0);

  return manager ? manager_main (argc, argv) : runtime_main (argc, argv);
}
