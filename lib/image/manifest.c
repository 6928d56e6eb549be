/* Image manifests, indexes and configs (OCI image-spec and Docker schema2).  Pure parsing, no I/O.
 *
 * The document type comes from the HTTP Content-Type when that names one of the four manifest types, else
 * from the document's mediaType, else from its shape.  Anything that could be read two ways is refused:
 * duplicate keys, both "manifests" and "layers"/"config", a mediaType contradicting the Content-Type. */
#include "image/manifest.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "store/reference.h"
#include "util/cleanup.h"
#include "util/strutil.h"

#define MT_DOCKER_SCHEMA1 "application/vnd.docker.distribution.manifest.v1+json"
#define MT_DOCKER_SCHEMA1_SIGNED "application/vnd.docker.distribution.manifest.v1+prettyjws"
#define MT_OCI_ND_LAYER "application/vnd.oci.image.layer.nondistributable.v1.tar"
#define MT_OCI_ND_LAYER_GZIP "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
#define MT_OCI_ND_LAYER_ZSTD "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd"
#define PATHLEN 64

static const char *const manifest_types[] = {
  NOOK_MT_OCI_INDEX,
  NOOK_MT_OCI_MANIFEST,
  NOOK_MT_DOCKER_LIST,
  NOOK_MT_DOCKER_MANIFEST,
};

static const struct
{
  const char *media_type;
  enum nook_compression comp;
} layer_types[] = {
  { NOOK_MT_OCI_LAYER, NOOK_COMP_NONE },
  { NOOK_MT_OCI_LAYER_GZIP, NOOK_COMP_GZIP },
  { NOOK_MT_OCI_LAYER_ZSTD, NOOK_COMP_ZSTD },
  { NOOK_MT_DOCKER_LAYER_GZIP, NOOK_COMP_GZIP },
  { NOOK_MT_DOCKER_FOREIGN_LAYER, NOOK_COMP_GZIP },
  { MT_OCI_ND_LAYER, NOOK_COMP_NONE },
  { MT_OCI_ND_LAYER_GZIP, NOOK_COMP_GZIP },
  { MT_OCI_ND_LAYER_ZSTD, NOOK_COMP_ZSTD },
};

/* ---- small helpers ---- */

static int __attribute__ ((format (printf, 3, 4))) bad (nook_err *err, const char *what, const char *fmt, ...)
{
  char msg[NOOK_ERR_MSG_MAX];
  va_list ap;

  va_start (ap, fmt);
  vsnprintf (msg, sizeof msg, fmt, ap);
  va_end (ap);
  return nook_error_input (err, "%s: %s", what, msg);
}

static bool
is_manifest_type (const char *mt)
{
  for (size_t i = 0; i < sizeof manifest_types / sizeof manifest_types[0]; i++)
    if (strcmp (mt, manifest_types[i]) == 0)
      return true;
  return false;
}

static bool
is_index_type (const char *mt)
{
  return strcmp (mt, NOOK_MT_OCI_INDEX) == 0 || strcmp (mt, NOOK_MT_DOCKER_LIST) == 0;
}

static bool
is_schema1_type (const char *mt)
{
  return strcmp (mt, MT_DOCKER_SCHEMA1) == 0 || strcmp (mt, MT_DOCKER_SCHEMA1_SIGNED) == 0;
}

/* "Application/JSON; charset=utf-8" -> "application/json". */
static char *
content_type_base (const char *ct)
{
  size_t n;
  char *s;

  while (*ct == ' ' || *ct == '\t')
    ct++;
  n = strcspn (ct, ";");
  while (n > 0 && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
    n--;
  s = xasprintf ("%.*s", (int)n, ct);
  for (char *p = s; *p; p++)
    *p = tolower ((unsigned char)*p);
  return s;
}

/* OBJ[KEY] as a string: 0 and *OUT NULL when absent or null, -1 when not a string. */
static int
get_string (json_t *obj, const char *key, const char **out, const char *what, nook_err *err)
{
  json_t *v = json_object_get (obj, key);

  *out = NULL;
  if (v == NULL || json_is_null (v))
    return 0;
  if (!json_is_string (v) || strlen (json_string_value (v)) != json_string_length (v))
    return bad (err, what, "`%s` must be a string", key);
  *out = json_string_value (v);
  return 0;
}

static int
dup_string (json_t *obj, const char *key, char **out, const char *what, nook_err *err)
{
  const char *s;

  if (get_string (obj, key, &s, what, err) < 0)
    return -1;
  *out = xstrdup (s);
  return 0;
}

static json_t *
load_json (const char *data, size_t len, const char *what, nook_err *err)
{
  json_error_t jerr;
  json_t *root;

  if (len > NOOK_MANIFEST_MAX)
    {
      bad (err, what, "document is %zu bytes, more than the limit of %d", len, NOOK_MANIFEST_MAX);
      return NULL;
    }
  root = json_loadb (data, len, JSON_REJECT_DUPLICATES, &jerr);
  if (root == NULL)
    {
      bad (err, what, "invalid JSON: %s (line %d)", jerr.text, jerr.line);
      return NULL;
    }
  if (!json_is_object (root))
    {
      json_decref (root);
      bad (err, what, "expected a JSON object");
      return NULL;
    }
  return root;
}

/* ---- platforms ---- */

void
nook_platform_free (struct nook_platform *p)
{
  if (p == NULL)
    return;
  free (p->os);
  free (p->arch);
  free (p->variant);
  p->os = p->arch = p->variant = NULL;
}

char *
nook_platform_string (const struct nook_platform *p)
{
  return xasprintf ("%s/%s%s%s", p->os ? p->os : "", p->arch ? p->arch : "", p->variant ? "/" : "",
                    p->variant ? p->variant : "");
}

/* Architecture spellings of uname(2), Debian and Go -> GOARCH (+ default variant). */
static const struct
{
  const char *name;
  const char *arch;
  const char *variant;
} arch_aliases[] = {
  { "x86_64", "amd64", NULL },  { "x86-64", "amd64", NULL },      { "aarch64", "arm64", "v8" },
  { "arm64", "arm64", NULL },   { "armv8l", "arm", "v8" },        { "armv7l", "arm", "v7" },
  { "armv7", "arm", "v7" },     { "armhf", "arm", "v7" },         { "armv6l", "arm", "v6" },
  { "armel", "arm", "v6" },     { "armv5tel", "arm", "v5" },      { "armv5l", "arm", "v5" },
  { "i386", "386", NULL },      { "i486", "386", NULL },          { "i586", "386", NULL },
  { "i686", "386", NULL },      { "ppc64le", "ppc64le", NULL },   { "ppc64", "ppc64", NULL },
  { "s390x", "s390x", NULL },   { "riscv64", "riscv64", NULL },   { "loongarch64", "loong64", NULL },
  { "mips64", "mips64", NULL }, { "mips64el", "mips64le", NULL },
};

static void
set_arch (struct nook_platform *p, const char *name, bool default_variant)
{
  for (size_t i = 0; i < sizeof arch_aliases / sizeof arch_aliases[0]; i++)
    if (strcmp (name, arch_aliases[i].name) == 0)
      {
        p->arch = xstrdup (arch_aliases[i].arch);
        if (default_variant)
          p->variant = xstrdup (arch_aliases[i].variant);
        return;
      }
  p->arch = xstrdup (name);
}

void
nook_platform_host (struct nook_platform *out)
{
  struct utsname u;

  memset (out, 0, sizeof *out);
  out->os = xstrdup ("linux");
  if (uname (&u) < 0)
    {
      out->arch = xstrdup ("amd64");
      return;
    }
  set_arch (out, u.machine, true);
}

int
nook_platform_parse (const char *s, struct nook_platform *out, nook_err *err)
{
  cleanup_strv char **parts = NULL;
  size_t n = 0;
  const char *p = s;

  memset (out, 0, sizeof *out);
  for (;;)
    {
      const char *slash = strchr (p, '/');
      size_t len = slash ? (size_t)(slash - p) : strlen (p);

      if (len == 0 || n == 3)
        return nook_error_input (err, "invalid platform `%s`: expected os/arch[/variant]", s);
      parts = xrealloc (parts, (n + 2) * sizeof *parts);
      parts[n++] = xasprintf ("%.*s", (int)len, p);
      parts[n] = NULL;
      if (slash == NULL)
        break;
      p = slash + 1;
    }
  for (size_t i = 0; i < n; i++)
    for (char *c = parts[i]; *c; c++)
      *c = tolower ((unsigned char)*c);
  out->os = xstrdup (n == 1 ? "linux" : parts[0]);
  set_arch (out, parts[n == 1 ? 0 : 1], n < 3);
  if (n == 3)
    out->variant
        = strcmp (out->arch, "arm64") == 0 && strcmp (parts[2], "8") == 0 ? xstrdup ("v8") : xstrdup (parts[2]);
  return 0;
}

/* ---- descriptors ---- */

static void
descriptor_free (struct nook_descriptor *d)
{
  free (d->media_type);
  free (d->digest);
  nook_platform_free (&d->platform);
  strv_free (d->urls);
  memset (d, 0, sizeof *d);
}

static int
parse_digest (json_t *obj, char **out, const char *what, nook_err *err)
{
  const char *d;

  if (get_string (obj, "digest", &d, what, err) < 0)
    return -1;
  if (d == NULL)
    return bad (err, what, "missing `digest`");
  if (!nook_digest_valid (d))
    {
      if (strchr (d, ':') != NULL && strncmp (d, "sha256:", 7) != 0)
        return bad (err, what, "unsupported digest algorithm in `%s`", d);
      return bad (err, what, "invalid digest `%s`", d);
    }
  *out = xstrdup (d);
  return 0;
}

static int
parse_size (json_t *obj, int64_t *out, const char *what, nook_err *err)
{
  json_t *v = json_object_get (obj, "size");

  if (v == NULL)
    return bad (err, what, "missing `size`");
  if (!json_is_integer (v) || json_integer_value (v) < 0)
    return bad (err, what, "`size` must be a non-negative integer");
  *out = json_integer_value (v);
  return 0;
}

static int
parse_urls (json_t *obj, char ***out, const char *what, nook_err *err)
{
  json_t *v = json_object_get (obj, "urls"), *u;
  size_t i;

  if (v == NULL || json_is_null (v))
    return 0;
  if (!json_is_array (v))
    return bad (err, what, "`urls` must be an array");
  *out = xcalloc (json_array_size (v) + 1, sizeof **out);
  json_array_foreach (v, i, u)
  {
    const char *s = json_string_value (u);
    if (s == NULL || strlen (s) != json_string_length (u))
      return bad (err, what, "`urls` must be an array of strings");
    if (!str_has_prefix (s, "https://") && !str_has_prefix (s, "http://"))
      return bad (err, what, "url `%s` is not http or https", s);
    (*out)[i] = xstrdup (s);
  }
  return 0;
}

static int
parse_platform (json_t *obj, struct nook_platform *p, const char *what, nook_err *err)
{
  json_t *v = json_object_get (obj, "platform");

  if (v == NULL || json_is_null (v))
    return 0;
  if (!json_is_object (v))
    return bad (err, what, "`platform` must be an object");
  if (dup_string (v, "os", &p->os, what, err) < 0 || dup_string (v, "architecture", &p->arch, what, err) < 0
      || dup_string (v, "variant", &p->variant, what, err) < 0)
    return -1;
  if (p->os == NULL || p->arch == NULL)
    return bad (err, what, "`platform` needs `os` and `architecture`");
  return 0;
}

/* The fields common to every descriptor; mediaType is required. */
static int
parse_descriptor (json_t *obj, struct nook_descriptor *d, const char *what, nook_err *err)
{
  if (!json_is_object (obj))
    return bad (err, what, "expected an object");
  if (dup_string (obj, "mediaType", &d->media_type, what, err) < 0)
    return -1;
  if (d->media_type == NULL)
    return bad (err, what, "missing `mediaType`");
  if (parse_digest (obj, &d->digest, what, err) < 0 || parse_size (obj, &d->size, what, err) < 0)
    return -1;
  return parse_urls (obj, &d->urls, what, err);
}

/* ---- manifests ---- */

int
nook_layer_compression (const char *media_type, nook_err *err)
{
  for (size_t i = 0; i < sizeof layer_types / sizeof layer_types[0]; i++)
    if (media_type != NULL && strcmp (media_type, layer_types[i].media_type) == 0)
      return layer_types[i].comp;
  return nook_error_input (err, "unsupported layer media type %s", media_type ? media_type : "(none)");
}

static int
parse_array (json_t *root, const char *key, struct nook_descriptor **out, size_t *n, nook_err *err)
{
  json_t *arr = json_object_get (root, key), *v;
  size_t i;

  if (!json_is_array (arr))
    return bad (err, "manifest", "`%s` must be an array", key);
  *out = xcalloc (json_array_size (arr) + 1, sizeof **out);
  *n = json_array_size (arr);
  json_array_foreach (arr, i, v)
  {
    char what[PATHLEN];

    snprintf (what, sizeof what, "manifest: %s[%zu]", key, i);
    if (parse_descriptor (v, &(*out)[i], what, err) < 0)
      return -1;
    if (strcmp (key, "manifests") == 0 && parse_platform (v, &(*out)[i].platform, what, err) < 0)
      return -1;
    if (strcmp (key, "layers") == 0 && nook_layer_compression ((*out)[i].media_type, err) < 0)
      return nook_error_prefix (err, "%s", what);
  }
  return 0;
}

static int
parse_image_manifest (json_t *root, struct nook_manifest *m, nook_err *err)
{
  json_t *config = json_object_get (root, "config");
  const char *cmt;

  if (config == NULL)
    return bad (err, "manifest", "missing `config`");
  if (parse_descriptor (config, &m->config, "manifest: config", err) < 0)
    return -1;
  cmt = m->config.media_type;
  if (strcmp (cmt, NOOK_MT_OCI_CONFIG) != 0 && strcmp (cmt, NOOK_MT_DOCKER_CONFIG) != 0)
    return bad (err, "manifest", "unknown config media type %s", cmt);
  if (json_object_get (root, "layers") == NULL)
    return bad (err, "manifest", "missing `layers`");
  return parse_array (root, "layers", &m->layers, &m->n_layers, err);
}

static int
check_schema (json_t *root, nook_err *err)
{
  json_t *v = json_object_get (root, "schemaVersion");

  if (json_is_integer (v) && json_integer_value (v) == 1)
    return nook_error_input (err, "unsupported manifest schema 1");
  if (!json_is_integer (v) || json_integer_value (v) != 2)
    return bad (err, "manifest", "`schemaVersion` must be 2");
  return 0;
}

/* Content-Type, then mediaType, then shape.  *TYPE is allocated. */
static int
manifest_type (json_t *root, const char *content_type, char **type, nook_err *err)
{
  cleanup_free char *ct = content_type ? content_type_base (content_type) : NULL;
  bool has_index = json_object_get (root, "manifests") != NULL;
  bool has_image = json_object_get (root, "layers") != NULL || json_object_get (root, "config") != NULL;
  const char *mt;

  if (get_string (root, "mediaType", &mt, "manifest", err) < 0)
    return -1;
  if ((ct && is_schema1_type (ct)) || (mt && is_schema1_type (mt)))
    return nook_error_input (err, "unsupported manifest schema 1");
  if (has_index && has_image)
    return bad (err, "ambiguous manifest", "both `manifests` and `layers`/`config` present");
  if (ct && is_manifest_type (ct))
    {
      if (mt && strcmp (mt, ct) != 0)
        return bad (err, "manifest", "mediaType %s contradicts Content-Type %s", mt, ct);
      *type = steal_pointer (&ct);
    }
  else if (mt && is_manifest_type (mt))
    *type = xstrdup (mt);
  else if (mt)
    return bad (err, "manifest", "unsupported manifest media type %s", mt);
  else if (has_index || has_image)
    *type = xstrdup (has_index ? NOOK_MT_OCI_INDEX : NOOK_MT_OCI_MANIFEST);
  else
    return bad (err, "manifest", "neither `manifests` nor `layers` present");
  if (is_index_type (*type) ? has_image : has_index)
    return bad (err, "ambiguous manifest", "%s with `%s`", *type, has_image ? "layers/config" : "manifests");
  return 0;
}

static int
parse_annotations (json_t *root, struct nook_manifest *m, nook_err *err)
{
  json_t *a = json_object_get (root, "annotations");

  if (a == NULL || json_is_null (a))
    return 0;
  if (!json_is_object (a))
    return bad (err, "manifest", "`annotations` must be an object");
  m->annotations = json_incref (a);
  return 0;
}

static int
manifest_parse (json_t *root, const char *content_type, struct nook_manifest *m, nook_err *err)
{
  if (check_schema (root, err) < 0 || manifest_type (root, content_type, &m->media_type, err) < 0)
    return -1;
  m->is_index = is_index_type (m->media_type);
  if (parse_annotations (root, m, err) < 0)
    return -1;
  if (m->is_index)
    {
      if (json_object_get (root, "manifests") == NULL)
        return bad (err, "manifest", "missing `manifests`");
      return parse_array (root, "manifests", &m->manifests, &m->n_manifests, err);
    }
  return parse_image_manifest (root, m, err);
}

int
nook_manifest_parse (const char *data, size_t len, const char *content_type, struct nook_manifest **out, nook_err *err)
{
  json_t *root = load_json (data, len, "manifest", err);
  struct nook_manifest *m;

  if (root == NULL)
    return -1;
  m = xcalloc (1, sizeof *m);
  if (manifest_parse (root, content_type, m, err) < 0)
    {
      json_decref (root);
      nook_manifest_free (m);
      return -1;
    }
  json_decref (root);
  *out = m;
  return 0;
}

void
nook_manifest_free (struct nook_manifest *m)
{
  if (m == NULL)
    return;
  free (m->media_type);
  descriptor_free (&m->config);
  for (size_t i = 0; m->layers && i < m->n_layers; i++)
    descriptor_free (&m->layers[i]);
  for (size_t i = 0; m->manifests && i < m->n_manifests; i++)
    descriptor_free (&m->manifests[i]);
  free (m->layers);
  free (m->manifests);
  json_decref (m->annotations);
  free (m);
}

/* ---- selection ---- */

static bool
str_eq (const char *a, const char *b)
{
  return a != NULL && b != NULL && strcmp (a, b) == 0;
}

/* 2: exact (or equivalent) match, 1: compatible, 0: no match. */
static int
platform_score (const struct nook_platform *have, const struct nook_platform *want)
{
  bool arm64 = strcmp (want->arch, "arm64") == 0;
  const char *hv = have->variant && *have->variant ? have->variant : NULL;
  const char *wv = want->variant && *want->variant ? want->variant : NULL;

  if (!str_eq (have->os, want->os) || !str_eq (have->arch, want->arch))
    return 0;
  if (str_eq (hv, wv) || (hv == NULL && wv == NULL))
    return 2;
  if (arm64 && (hv == NULL || strcmp (hv, "v8") == 0) && (wv == NULL || strcmp (wv, "v8") == 0))
    return 2;
  if (strcmp (want->arch, "arm") == 0 && wv != NULL)
    return 0; /* a given arm variant must match */
  if (hv == NULL || wv == NULL)
    return 1;
  return 0;
}

static int
no_match (const struct nook_manifest *index, const struct nook_platform *want, nook_err *err)
{
  char avail[NOOK_ERR_MSG_MAX / 2] = "";
  size_t off = 0;

  for (size_t i = 0; i < index->n_manifests && off < sizeof avail; i++)
    {
      const struct nook_platform *p = &index->manifests[i].platform;
      cleanup_free char *s = p->os ? nook_platform_string (p) : xstrdup ("(no platform)");

      off += snprintf (avail + off, sizeof avail - off, "%s%s", off ? ", " : "", s);
    }
  return nook_error_input (err,
                           "no image found in manifest list for architecture %s, variant \"%s\", OS %s "
                           "(available: %s)",
                           want->arch, want->variant ? want->variant : "", want->os,
                           index->n_manifests ? avail : "none");
}

int
nook_manifest_select (const struct nook_manifest *index, const struct nook_platform *want,
                      const struct nook_descriptor **out, nook_err *err)
{
  int best = 0;

  if (!index->is_index)
    return nook_error_input (err, "manifest %s is not an image index", index->media_type);
  if (want->os == NULL || want->arch == NULL)
    return nook_error_input (err, "select manifest: platform needs an OS and an architecture");
  for (size_t i = 0; i < index->n_manifests; i++)
    {
      const struct nook_descriptor *d = &index->manifests[i];
      int score = d->platform.os ? platform_score (&d->platform, want) : 0;

      if (score > best)
        {
          best = score;
          *out = d;
        }
    }
  if (best == 0)
    return no_match (index, want, err);
  return 0;
}

/* ---- image config ---- */

static int
parse_diff_ids (json_t *root, struct nook_image_config *c, nook_err *err)
{
  json_t *rootfs = json_object_get (root, "rootfs"), *ids, *v;
  const char *type;
  size_t i;

  if (!json_is_object (rootfs))
    return bad (err, "image config", "missing `rootfs` object");
  if (get_string (rootfs, "type", &type, "image config: rootfs", err) < 0)
    return -1;
  if (type == NULL || strcmp (type, "layers") != 0)
    return bad (err, "image config", "rootfs.type must be \"layers\"");
  ids = json_object_get (rootfs, "diff_ids");
  if (!json_is_array (ids))
    return bad (err, "image config", "rootfs.diff_ids must be an array");
  c->diff_ids = xcalloc (json_array_size (ids) + 1, sizeof *c->diff_ids);
  json_array_foreach (ids, i, v)
  {
    const char *d = json_string_value (v);
    if (d == NULL || !nook_digest_valid (d))
      return bad (err, "image config", "rootfs.diff_ids[%zu]: invalid digest `%s`", i, d ? d : "(not a string)");
    c->diff_ids[i] = xstrdup (d);
    c->n_diff_ids = i + 1;
  }
  return 0;
}

static int
config_parse (json_t *root, struct nook_image_config *c, nook_err *err)
{
  const char *what = "image config";
  json_t *cfg = json_object_get (root, "config");

  if (parse_diff_ids (root, c, err) < 0)
    return -1;
  if (dup_string (root, "architecture", &c->platform.arch, what, err) < 0
      || dup_string (root, "os", &c->platform.os, what, err) < 0
      || dup_string (root, "variant", &c->platform.variant, what, err) < 0
      || dup_string (root, "created", &c->created, what, err) < 0)
    return -1;
  if (cfg != NULL && !json_is_null (cfg))
    {
      if (!json_is_object (cfg))
        return bad (err, what, "`config` must be an object");
      c->config = json_incref (cfg);
    }
  return 0;
}

int
nook_image_config_parse (const char *data, size_t len, struct nook_image_config **out, nook_err *err)
{
  json_t *root = load_json (data, len, "image config", err);
  struct nook_image_config *c;

  if (root == NULL)
    return -1;
  c = xcalloc (1, sizeof *c);
  c->raw = root;
  if (config_parse (root, c, err) < 0)
    {
      nook_image_config_free (c);
      return -1;
    }
  *out = c;
  return 0;
}

void
nook_image_config_free (struct nook_image_config *c)
{
  if (c == NULL)
    return;
  nook_platform_free (&c->platform);
  strv_free (c->diff_ids);
  free (c->created);
  json_decref (c->config);
  json_decref (c->raw);
  free (c);
}
