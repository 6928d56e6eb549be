/* cp: copy files between the host and a container (podman's `cp [options] SRC DST`). */
#include <stdio.h>
#include <string.h>

#include "manager.h"
#include "manager/cp.h"
#include "manager/lifecycle.h"

enum
{
  OPT_OVERWRITE = 1000,
  OPT_PAUSE,
};

int
cmd_cp (struct mgr *m, int argc, char **argv)
{
  static const struct option opts[] = {
    { "archive", optional_argument, NULL, 'a' },
    { "overwrite", no_argument, NULL, OPT_OVERWRITE },
    { "pause", optional_argument, NULL, OPT_PAUSE },
    { NULL, 0, NULL, 0 },
  };
  struct nook_cp_opts o = { 0 };
  struct nook_mgr nm;
  nook_err err = { 0 };
  int c, b;

  while ((c = mgr_getopt (argc, argv, "a", opts)) != -1)
    switch (c)
      {
      case 'a':
        if ((b = mgr_bool (optarg)) < 0)
          return mgr_usage ("--archive: invalid value `%s`", optarg);
        o.archive = b;
        break;
      case OPT_OVERWRITE: o.overwrite = true; break;
      case OPT_PAUSE: break;
      default: return NOOK_EXIT_ERROR;
      }
  if (argc - optind != 2)
    return mgr_usage ("accepts 2 arg(s), received %d", argc - optind);
  nm.store = mgr_store (m, &err);
  nm.runroot = m->runroot_resolved;
  if (nm.store == NULL || nook_ctr_cp (&nm, argv[optind], argv[optind + 1], &o, &err) < 0)
    return mgr_fail (&err);
  return 0;
}
