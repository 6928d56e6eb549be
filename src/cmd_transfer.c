/* save, load, import. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "image/archive.h"
#include "manager.h"
#include "util/strutil.h"

int
cmd_save (struct mgr *m, int argc, char **argv)
{
  static const struct option opts[] = {
    { "output", required_argument, NULL, 'o' }, { "format", required_argument, NULL, 'f' },
    { "quiet", no_argument, NULL, 'q' },         { NULL, 0, NULL, 0 },
  };
  const char *output = NULL, *format = "docker-archive";
  enum nook_archive_format fmt;
  nook_err err = { 0 };
  struct nook_store *s;
  int c;

  while ((c = mgr_getopt (argc, argv, "o:q", opts)) != -1)
    switch (c)
      {
      case 'o': output = optarg; break;
      case 'f': format = optarg; break;
      case 'q': break;
      default: return NOOK_EXIT_ERROR;
      }
  if (optind != argc - 1)
    return mgr_usage ("save requires exactly 1 image (multi-image archives are not supported)");
  if ((output == NULL || strcmp (output, "-") == 0) && isatty (STDOUT_FILENO))
    return mgr_usage ("refusing to save to terminal. Use -o flag or redirect");
  if (strcmp (format, "oci-archive") == 0)
    fmt = NOOK_ARCHIVE_OCI;
  else if (strcmp (format, "docker-archive") == 0)
    fmt = NOOK_ARCHIVE_DOCKER;
  else
    return mgr_usage ("unsupported format %s: use oci-archive or docker-archive", format);
  if ((s = mgr_store (m, &err)) == NULL || nook_image_save (s, argv[optind], output, fmt, &err) < 0)
    return mgr_fail (&err);
  return 0;
}

int
cmd_load (struct mgr *m, int argc, char **argv)
{
  static const struct option opts[] = {
    { "input", required_argument, NULL, 'i' }, { "quiet", no_argument, NULL, 'q' }, { NULL, 0, NULL, 0 },
  };
  const char *input = NULL;
  nook_err err = { 0 };
  struct nook_store *s;
  char **names = NULL;
  int c;

  while ((c = mgr_getopt (argc, argv, "i:q", opts)) != -1)
    {
      if (c == 'i')
        input = optarg;
      else if (c != 'q')
        return NOOK_EXIT_ERROR;
    }
  if (optind != argc)
    return mgr_usage ("load accepts no arguments (use -i FILE)");
  if ((input == NULL || strcmp (input, "-") == 0) && isatty (STDIN_FILENO))
    return mgr_usage ("cannot read from terminal, use command-line redirection or the --input flag");
  if ((s = mgr_store (m, &err)) == NULL || nook_image_load (s, input, &names, &err) < 0)
    return mgr_fail (&err);
  for (size_t i = 0; names && names[i]; i++)
    printf ("Loaded image: %s\n", names[i]);
  strv_free (names);
  return 0;
}

int
cmd_import (struct mgr *m, int argc, char **argv)
{
  static const struct option opts[] = {
    { "quiet", no_argument, NULL, 'q' }, { "message", required_argument, NULL, 'm' }, { NULL, 0, NULL, 0 },
  };
  nook_err err = { 0 };
  struct nook_store *s;
  char *id = NULL;
  int c;

  while ((c = mgr_getopt (argc, argv, "qm:", opts)) != -1)
    if (c != 'q' && c != 'm')
      return NOOK_EXIT_ERROR;
  if (argc - optind < 1 || argc - optind > 2)
    return mgr_usage ("import requires a tarball and an optional image name");
  if ((s = mgr_store (m, &err)) == NULL
      || nook_image_import (s, argv[optind], argc - optind == 2 ? argv[optind + 1] : NULL, &id, &err) < 0)
    return mgr_fail (&err);
  printf ("%s\n", id);
  free (id);
  return 0;
}
