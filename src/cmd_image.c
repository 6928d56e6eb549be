/* pull, images, rmi, tag, image inspect/exists/prune. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "image/present.h"
#include "image/pull.h"
#include "manager.h"
#include "manager/ctr_images.h"
#include "manager/lifecycle.h"
#include "util/cleanup.h"
#include "util/strutil.h"

enum
{
  OPT_TLS = 1000,
  OPT_PLATFORM,
  OPT_ARCH,
  OPT_OS,
  OPT_VARIANT,
  OPT_CREDS,
  OPT_AUTHFILE,
  OPT_DIGESTS,
  OPT_NOTRUNC,
  OPT_FORMAT,
  OPT_IGNORED_ARG,
};

int
cmd_pull (struct mgr *m, int argc, char **argv)
{
  static const struct option opts[] = {
    { "quiet", no_argument, NULL, 'q' },
    { "tls-verify", optional_argument, NULL, OPT_TLS },
    { "platform", required_argument, NULL, OPT_PLATFORM },
    { "arch", required_argument, NULL, OPT_ARCH },
    { "os", required_argument, NULL, OPT_OS },
    { "variant", required_argument, NULL, OPT_VARIANT },
    { "creds", required_argument, NULL, OPT_CREDS },
    { "authfile", required_argument, NULL, OPT_AUTHFILE },
    { "all-tags", no_argument, NULL, 'a' },
    { "retry", required_argument, NULL, OPT_IGNORED_ARG },
    { "cert-dir", required_argument, NULL, OPT_IGNORED_ARG },
    { NULL, 0, NULL, 0 },
  };
  struct nook_pull_opts o = { .tls_verify = -1, .progress = stderr };
  nook_err err = { 0 };
  struct nook_store *s;
  char *id = NULL;
  int c;

  while ((c = mgr_getopt (argc, argv, "qa", opts)) != -1)
    switch (c)
      {
      case 'q': o.quiet = true; break;
      case OPT_TLS:
        if ((o.tls_verify = mgr_bool (optarg)) < 0)
          return mgr_usage ("--tls-verify: invalid value `%s`", optarg);
        break;
      case OPT_PLATFORM: o.platform = optarg; break;
      case OPT_ARCH: o.arch = optarg; break;
      case OPT_OS: o.os = optarg; break;
      case OPT_VARIANT: o.variant = optarg; break;
      case OPT_CREDS: o.creds = optarg; break;
      case OPT_AUTHFILE: o.authfile = optarg; break;
      case 'a': return mgr_usage ("--all-tags is not supported");
      case OPT_IGNORED_ARG: break;
      default: return NOOK_EXIT_ERROR;
      }
  if (optind != argc - 1)
    return mgr_usage ("requires exactly 1 arg (IMAGE)");
  if ((s = mgr_store (m, &err)) == NULL || nook_image_pull (s, argv[optind], &o, &id, &err) < 0)
    return mgr_fail (&err);
  printf ("%s\n", id);
  free (id);
  return 0;
}

static void
print_images_table (json_t *rows, bool digests, bool notrunc)
{
  printf ("%-40s %-12s %s%-14s %-16s %s\n", "REPOSITORY", "TAG", digests ? "DIGEST                                                                   " : "",
          "IMAGE ID", "CREATED", "SIZE");
  for (size_t i = 0; i < json_array_size (rows); i++)
    {
      json_t *r = json_array_get (rows, i);
      const char *id = json_string_value (json_object_get (r, notrunc ? "Id" : "ID"));
      printf ("%-40s %-12s ", json_string_value (json_object_get (r, "Repository")),
              json_string_value (json_object_get (r, "Tag")));
      if (digests)
        printf ("%-73s ", json_string_value (json_object_get (r, "Digest")));
      printf ("%s%-14s %-16s %s\n", notrunc ? "sha256:" : "", id, json_string_value (json_object_get (r, "CreatedSince")),
              json_string_value (json_object_get (r, "Size")));
    }
}

int
cmd_images (struct mgr *m, int argc, char **argv)
{
  static const struct option opts[] = {
    { "quiet", no_argument, NULL, 'q' },     { "all", no_argument, NULL, 'a' },
    { "digests", no_argument, NULL, OPT_DIGESTS }, { "no-trunc", no_argument, NULL, OPT_NOTRUNC },
    { "format", required_argument, NULL, OPT_FORMAT }, { "noheading", no_argument, NULL, 'n' },
    { NULL, 0, NULL, 0 },
  };
  bool quiet = false, digests = false, notrunc = false;
  const char *format = NULL;
  nook_err err = { 0 };
  struct nook_store *s;
  struct nook_image **v = NULL;
  size_t n = 0;
  json_t *rows;
  int c, ret = 0;

  while ((c = mgr_getopt (argc, argv, "qan", opts)) != -1)
    switch (c)
      {
      case 'q': quiet = true; break;
      case 'a': case 'n': break;
      case OPT_DIGESTS: digests = true; break;
      case OPT_NOTRUNC: notrunc = true; break;
      case OPT_FORMAT: format = optarg; break;
      default: return NOOK_EXIT_ERROR;
      }
  if ((s = mgr_store (m, &err)) == NULL || nook_store_images (s, &v, &n, &err) < 0)
    return mgr_fail (&err);
  rows = json_array ();
  for (size_t i = 0; i < n; i++)
    {
      if (optind < argc)
        {
          struct nook_image *found = NULL;
          nook_err e2;
          bool match = nook_image_matches_reference (v[i], argv[optind])
                       || (nook_store_image_find (s, argv[optind], &found, &e2) == 0
                           && strcmp (found->id, v[i]->id) == 0);
          nook_image_free (found);
          if (!match)
            continue;
        }
      if (quiet)
        printf ("%s%.*s\n", notrunc ? "sha256:" : "", notrunc ? 64 : 12, v[i]->id);
      else
        nook_image_rows (v[i], rows);
    }
  if (!quiet)
    {
      int r = mgr_print_format (format, rows, &err);
      if (r < 0)
        ret = mgr_fail (&err);
      else if (r == 1)
        print_images_table (rows, digests, notrunc);
    }
  json_decref (rows);
  nook_images_free (v, n);
  return ret;
}

/* Containers created from IMG: without FORCE an error (podman's), with FORCE they are removed first. */
static int
guard_in_use (struct mgr *m, struct nook_store *s, const struct nook_image *img, bool force, nook_err *err)
{
  struct nook_mgr nm = { .store = s, .runroot = m->runroot_resolved };
  cleanup_strv char **users = NULL;

  if (nook_ctr_users_of_image (s, img->id, &users, err) < 0)
    return -1;
  if (users[0] != NULL && !force)
    return nook_err_image_in_use (err, users[0]);
  for (size_t i = 0; users[i] != NULL; i++)
    if (nook_ctr_remove (&nm, users[i], true, false, err) < 0)
      return nook_error_prefix (err, "remove container %s using image %.12s", users[i], img->id);
  return 0;
}

/* FORCE_TAGS: remove by ID an image with several names; FORCE_CTRS: remove the containers using it. */
static int
remove_one (struct mgr *m, struct nook_store *s, const char *name, bool force_tags, bool force_ctrs, nook_err *err)
{
  struct nook_image *img = NULL;
  bool removed = false, by_id;
  char *id = NULL;

  if (nook_store_image_find (s, name, &img, err) < 0)
    return -1;
  by_id = str_has_prefix (img->id, strncmp (name, "sha256:", 7) == 0 ? name + 7 : name);
  if (by_id && strv_len (img->names) > 1 && !force_tags)
    {
      nook_error_input (err, "unable to delete image \"%s\" by ID with more than one tag (%zu): please force removal",
                        img->id, strv_len (img->names));
      nook_image_free (img);
      return -1;
    }
  /* only a removal that deletes the image (not one of several names) is guarded */
  if ((by_id || strv_len (img->names) <= 1) && guard_in_use (m, s, img, force_ctrs, err) < 0)
    {
      nook_image_free (img);
      return -1;
    }
  nook_image_free (img);
  if (nook_store_image_untag_or_remove (s, name, &removed, &id, err) < 0)
    return -1;
  if (!by_id)
    printf ("Untagged: %s\n", name);
  if (removed)
    printf ("Deleted: %s\n", id);
  free (id);
  return 0;
}

int
cmd_rmi (struct mgr *m, int argc, char **argv)
{
  static const struct option opts[] = {
    { "force", no_argument, NULL, 'f' }, { "all", no_argument, NULL, 'a' }, { "ignore", no_argument, NULL, 'i' },
    { NULL, 0, NULL, 0 },
  };
  bool force = false, all = false, ignore = false;
  nook_err err = { 0 };
  struct nook_store *s;
  int c, ret = 0;

  while ((c = mgr_getopt (argc, argv, "fai", opts)) != -1)
    switch (c)
      {
      case 'f': force = true; break;
      case 'a': all = true; break;
      case 'i': ignore = true; break;
      default: return NOOK_EXIT_ERROR;
      }
  if (optind >= argc && !all)
    return mgr_usage ("image name or ID must be specified");
  if ((s = mgr_store (m, &err)) == NULL)
    return mgr_fail (&err);
  if (all)
    {
      struct nook_image **v = NULL;
      size_t n = 0;
      if (nook_store_images (s, &v, &n, &err) < 0)
        return mgr_fail (&err);
      for (size_t i = 0; i < n; i++)
        if (remove_one (m, s, v[i]->id, true, force, &err) < 0)
          {
            mgr_fail (&err);
            ret = err.code == EBUSY ? 2 : NOOK_EXIT_ERROR;
          }
      nook_images_free (v, n);
    }
  for (int i = optind; i < argc; i++)
    if (remove_one (m, s, argv[i], force, force, &err) < 0)
      {
        if (ignore && err.code == ENOENT)
          continue;
        ret = err.code == ENOENT ? 1 : err.code == EBUSY ? 2 : NOOK_EXIT_ERROR;
        mgr_fail (&err);
      }
  if (nook_store_gc_containers (s, &err) < 0)
    ret = mgr_fail (&err);
  return ret;
}

int
cmd_tag (struct mgr *m, int argc, char **argv)
{
  static const struct option opts[] = { { NULL, 0, NULL, 0 } };
  nook_err err = { 0 };
  struct nook_store *s;
  int c;

  while ((c = mgr_getopt (argc, argv, "", opts)) != -1)
    return NOOK_EXIT_ERROR;
  if (argc - optind < 2)
    return mgr_usage ("requires at least 2 args (IMAGE TARGET_NAME...)");
  if ((s = mgr_store (m, &err)) == NULL)
    return mgr_fail (&err);
  for (int i = optind + 1; i < argc; i++)
    if (nook_store_image_tag (s, argv[optind], argv[i], &err) < 0)
      return mgr_fail (&err);
  return 0;
}

int
cmd_image_inspect (struct mgr *m, int argc, char **argv)
{
  static const struct option opts[] = { { "format", required_argument, NULL, 'f' }, { NULL, 0, NULL, 0 } };
  const char *format = NULL;
  nook_err err = { 0 };
  struct nook_store *s;
  json_t *all;
  int c, ret = 0;

  while ((c = mgr_getopt (argc, argv, "f:", opts)) != -1)
    {
      if (c != 'f')
        return NOOK_EXIT_ERROR;
      format = optarg;
    }
  if (optind >= argc)
    return mgr_usage ("inspect requires at least 1 argument");
  if ((s = mgr_store (m, &err)) == NULL)
    return mgr_fail (&err);
  all = json_array ();
  for (int i = optind; i < argc; i++)
    {
      struct nook_image *img = NULL;
      json_t *o;
      if (nook_store_image_find (s, argv[i], &img, &err) < 0)
        {
          ret = mgr_fail (&err);
          continue;
        }
      o = nook_image_inspect_json (s, img, &err);
      nook_image_free (img);
      if (o)
        json_array_append_new (all, o);
    }
  if (mgr_print_inspect (format, all, &err) < 0)
    ret = mgr_fail (&err);
  json_decref (all);
  return ret;
}

int
cmd_image_exists (struct mgr *m, int argc, char **argv)
{
  nook_err err = { 0 };
  struct nook_store *s;
  struct nook_image *img = NULL;

  if (argc != 2)
    return mgr_usage ("requires exactly 1 arg (IMAGE)");
  if ((s = mgr_store (m, &err)) == NULL)
    return mgr_fail (&err);
  if (nook_store_image_find (s, argv[1], &img, &err) < 0)
    return err.code == ENOENT ? 1 : mgr_fail (&err);
  nook_image_free (img);
  return 0;
}

int
cmd_image_prune (struct mgr *m, int argc, char **argv)
{
  static const struct option opts[] = {
    { "all", no_argument, NULL, 'a' }, { "force", no_argument, NULL, 'f' }, { NULL, 0, NULL, 0 },
  };
  bool all = false;
  nook_err err = { 0 };
  struct nook_store *s;
  struct nook_image **v = NULL;
  size_t n = 0;
  int c;

  while ((c = mgr_getopt (argc, argv, "af", opts)) != -1)
    {
      if (c == 'a')
        all = true;
      else if (c != 'f')
        return NOOK_EXIT_ERROR;
    }
  if ((s = mgr_store (m, &err)) == NULL || nook_store_images (s, &v, &n, &err) < 0)
    return mgr_fail (&err);
  for (size_t i = 0; i < n; i++)
    {
      bool removed = false;
      char *id = NULL;
      if ((!all && v[i]->names && v[i]->names[0]) || nook_image_in_use (s, v[i]->id))
        continue;
      if (nook_store_image_untag_or_remove (s, v[i]->id, &removed, &id, &err) < 0)
        return mgr_fail (&err);
      if (removed)
        printf ("%s\n", id);
      free (id);
    }
  nook_images_free (v, n);
  if (nook_store_gc_containers (s, &err) < 0)
    return mgr_fail (&err);
  return 0;
}
