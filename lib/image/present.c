#include "image/present.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image/manifest.h"
#include "store/reference.h"
#include "util/strutil.h"

char *
nook_human_size (int64_t bytes)
{
  const char *units[] = { "B", "kB", "MB", "GB", "TB", "PB" };
  double v = (double) bytes;
  int u = 0;

  while (v >= 1000 && u < 5)
    {
      v /= 1000;
      u++;
    }
  /* podman: 3 significant digits, trailing zeros dropped ("7.61 MB", "5 B", "1.2 GB") */
  char buf[32];
  snprintf (buf, sizeof (buf), "%.3g", v);
  return xasprintf ("%s %s", buf, units[u]);
}

char *
nook_human_since (time_t then)
{
  long d = (long) (time (NULL) - then);
  long h = d / 3600;

  if (d < 1)
    return xstrdup ("Less than a second ago");
  if (d == 1)
    return xstrdup ("1 second ago");
  if (d < 60)
    return xasprintf ("%ld seconds ago", d);
  if (d / 60 == 1)
    return xstrdup ("About a minute ago");
  if (d < 3600)
    return xasprintf ("%ld minutes ago", d / 60);
  if (h == 1)
    return xstrdup ("About an hour ago");
  if (h < 48)
    return xasprintf ("%ld hours ago", h);
  if (h < 24 * 7 * 2)
    return xasprintf ("%ld days ago", h / 24);
  if (h < 24 * 30 * 2)
    return xasprintf ("%ld weeks ago", h / 24 / 7);
  if (h < 24 * 365 * 2)
    return xasprintf ("%ld months ago", h / 24 / 30);
  return xasprintf ("%ld years ago", h / 24 / 365);
}

time_t
nook_parse_rfc3339 (const char *s)
{
  struct tm tm = { 0 };
  const char *rest;

  if (s == NULL || *s == '\0')
    return 0;
  rest = strptime (s, "%Y-%m-%dT%H:%M:%S", &tm);
  if (rest == NULL)
    return 0;
  return timegm (&tm);
}

static json_t *
strv_json (char *const *v)
{
  json_t *a = json_array ();
  for (size_t i = 0; v && v[i]; i++)
    json_array_append_new (a, json_string (v[i]));
  return a;
}

/* RepoDigests: repo@manifest-digest for every repository the image is named in. */
static json_t *
repo_digests (const struct nook_image *img)
{
  json_t *a = json_array ();
  for (size_t i = 0; img->names && img->names[i]; i++)
    {
      struct nook_ref r = { 0 };
      nook_err ignored;
      if (nook_ref_parse (img->names[i], &r, &ignored) == 0)
        {
          char *repo = nook_ref_repo (&r);
          char *rd = xasprintf ("%s@%s", repo, img->digest);
          bool dup = false;
          for (size_t k = 0; k < json_array_size (a); k++)
            dup |= strcmp (json_string_value (json_array_get (a, k)), rd) == 0;
          if (!dup)
            json_array_append_new (a, json_string (rd));
          free (repo);
          free (rd);
        }
      nook_ref_free (&r);
    }
  return a;
}

static json_t *
repo_tags (const struct nook_image *img)
{
  json_t *a = json_array ();
  for (size_t i = 0; img->names && img->names[i]; i++)
    if (strchr (img->names[i], '@') == NULL)
      json_array_append_new (a, json_string (img->names[i]));
  return a;
}

json_t *
nook_image_inspect_json (struct nook_store *s, const struct nook_image *img, nook_err *err)
{
  char *cfg_digest = xasprintf ("sha256:%s", img->id);
  char *data = NULL;
  size_t len = 0;
  json_t *cfg = NULL, *o, *lower = json_array ();
  json_error_t jerr;

  if (nook_store_blob_read (s, cfg_digest, NOOK_MANIFEST_MAX, &data, &len, err) == 0)
    cfg = json_loadb (data, len, 0, &jerr);
  free (data);
  free (cfg_digest);
  for (size_t i = 0; img->layers && img->layers[i]; i++)
    {
      char *p = nook_store_layer_path (s, img->layers[i]);
      json_array_insert_new (lower, 0, json_string (p));
      free (p);
    }
  o = json_pack ("{s:s,s:s,s:o,s:o,s:s,s:s,s:s,s:o,s:s,s:s,s:s,s:s,s:I,s:I}", "Id", img->id, "Digest", img->digest,
                 "RepoTags", repo_tags (img), "RepoDigests", repo_digests (img), "Parent", "", "Comment", "",
                 "Created", img->created, "Config",
                 json_object_get (cfg, "config") ? json_incref (json_object_get (cfg, "config")) : json_object (),
                 "Version", "",
                 "Author", "", "Architecture", img->arch, "Os", img->os, "Size", (json_int_t) img->size,
                 "VirtualSize", (json_int_t) img->size);
  if (img->variant && *img->variant)
    json_object_set_new (o, "Variant", json_string (img->variant));
  json_object_set_new (o, "GraphDriver", json_pack ("{s:s,s:{s:o}}", "Name", "overlay", "Data", "LowerDir", lower));
  json_object_set_new (o, "RootFS", json_pack ("{s:s,s:o}", "Type", "layers", "Layers", strv_json (img->layers)));
  json_t *ccfg = json_object_get (cfg, "config");
  json_t *labels = json_object_get (ccfg, "Labels"), *user = json_object_get (ccfg, "User");
  json_t *history = json_object_get (cfg, "history");
  json_object_set_new (o, "Labels", labels ? json_incref (labels) : json_null ());
  json_object_set_new (o, "Annotations", json_object ());
  json_object_set_new (o, "ManifestType", json_string (img->manifest_type));
  json_object_set_new (o, "User", user ? json_incref (user) : json_string (""));
  json_object_set_new (o, "History", history ? json_incref (history) : json_array ());
  json_object_set_new (o, "NamesHistory", strv_json (img->names));
  json_decref (cfg);
  return o;
}

static json_t *
row (const struct nook_image *img, const char *repo, const char *tag)
{
  time_t created = nook_parse_rfc3339 (img->created);
  char *since = nook_human_since (created);
  char *size = nook_human_size (img->size);
  char id12[13];
  json_t *o;

  snprintf (id12, sizeof (id12), "%.12s", img->id);
  o = json_pack ("{s:s,s:s,s:s,s:s,s:s,s:I,s:s,s:s,s:s,s:I,s:o,s:b}", "Repository", repo, "Tag", tag, "ID", id12, "Id",
                 img->id, "Digest", img->digest, "Created", (json_int_t) created, "CreatedAt", img->created,
                 "CreatedSince", since, "Size", size, "VirtualSize", (json_int_t) img->size, "Names",
                 strv_json (img->names), "Dangling", img->names == NULL || img->names[0] == NULL);
  free (since);
  free (size);
  return o;
}

static bool
repo_listed (json_t *rows, size_t first, const char *repo)
{
  for (size_t i = first; i < json_array_size (rows); i++)
    if (strcmp (json_string_value (json_object_get (json_array_get (rows, i), "Repository")) ?: "", repo) == 0)
      return true;
  return false;
}

void
nook_image_rows (const struct nook_image *img, json_t *rows)
{
  size_t first = json_array_size (rows);

  /* Tagged names first; a name by digest only adds a "<none>" row for a repository no tag names (podman). */
  for (int pass = 0; pass < 2; pass++)
    for (size_t i = 0; img->names && img->names[i]; i++)
      {
        struct nook_ref r = { 0 };
        nook_err ignored;
        if (nook_ref_parse (img->names[i], &r, &ignored) == 0 && (pass == 0) == (r.tag != NULL))
          {
            char *repo = nook_ref_repo (&r);
            if (pass == 0 || !repo_listed (rows, first, repo))
              json_array_append_new (rows, row (img, repo, r.tag ? r.tag : "<none>"));
            free (repo);
          }
        nook_ref_free (&r);
      }
  if (json_array_size (rows) == first)
    json_array_append_new (rows, row (img, "<none>", "<none>"));
}
