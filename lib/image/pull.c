/* nook pull: resolve, fetch the manifest (and the platform's manifest from an index), the config, the
 * missing layer blobs in parallel, extract the missing layers in parallel, record the image. */
#include "image/pull.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include "image/auth.h"
#include "image/manifest.h"
#include "image/progress.h"
#include "image/pull_internal.h"
#include "store/reference.h"
#include "image/regconf.h"
#include "image/registry.h"
#include "runtime/state.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/strutil.h"

static void
pull_free (struct pull *p)
{
  nook_registry_close (p->reg);
  nook_ref_free (&p->ref);
  nook_progress_free (p->progress);
  free (p->user);
  free (p->pass);
  free (p->manifest_data);
  free (p->manifest_type);
  free (p->manifest_digest);
  nook_manifest_free (p->manifest);
  nook_image_config_free (p->config);
  free (p->config_data);
}

static int
credentials (struct pull *p, nook_err *err)
{
  const struct nook_pull_opts *o = p->o;
  if (o->creds)
    {
      const char *colon = strchr (o->creds, ':');
      if (colon == NULL || colon == o->creds)
        return nook_error_input (err, "--creds `%s`: expected USERNAME:PASSWORD", o->creds);
      p->user = strndup (o->creds, (size_t) (colon - o->creds));
      p->pass = xstrdup (colon + 1);
      return 0;
    }
  if (o->authfile)
    setenv ("REGISTRY_AUTH_FILE", o->authfile, 1);
  return nook_auth_lookup (p->ref.domain, &p->user, &p->pass, err) < 0 ? -1 : 0;
}

static int
connect_registry (struct pull *p, nook_err *err)
{
  struct nook_regconf *conf = NULL;
  const struct nook_regconf_entry *e;
  struct nook_registry_opts ro = { 0 };
  int ret;

  if (nook_regconf_load (p->o->regconf, &conf, err) < 0)
    return -1;
  e = nook_regconf_find (conf, p->ref.domain, p->ref.path);
  if (e && e->blocked)
    {
      nook_regconf_free (conf);
      return nook_error_input (err, "registry %s is blocked in registries.conf", p->ref.domain);
    }
  ro.tls_verify = p->o->tls_verify >= 0 ? p->o->tls_verify != 0 : !(e && e->insecure);
  nook_regconf_free (conf);
  if (credentials (p, err) < 0)
    return -1;
  ro.username = p->user;
  ro.password = p->pass;
  ret = nook_registry_open (&p->ref, &ro, &p->reg, err);
  return ret;
}

static int
wanted_platform (const struct nook_pull_opts *o, struct nook_platform *want, nook_err *err)
{
  if (o->platform)
    {
      if (nook_platform_parse (o->platform, want, err) < 0)
        return nook_error_prefix (err, "--platform");
    }
  else
    nook_platform_host (want);
  if (o->arch)
    {
      free (want->arch);
      want->arch = xstrdup (o->arch);
      free (want->variant);
      want->variant = o->variant ? xstrdup (o->variant) : NULL;
    }
  if (o->os)
    {
      free (want->os);
      want->os = xstrdup (o->os);
    }
  return 0;
}

static int
fetch_manifest (struct pull *p, const char *target, nook_err *err)
{
  free (p->manifest_data);
  free (p->manifest_type);
  free (p->manifest_digest);
  nook_manifest_free (p->manifest);
  p->manifest_data = p->manifest_type = p->manifest_digest = NULL;
  p->manifest = NULL;
  if (nook_registry_get_manifest (p->reg, target, &p->manifest_data, &p->manifest_len, &p->manifest_type,
                                  &p->manifest_digest, err)
      < 0)
    return -1;
  return nook_manifest_parse (p->manifest_data, p->manifest_len, p->manifest_type, &p->manifest, err);
}

/* The image manifest for our platform (through an index when there is one). */
static int
resolve_manifest (struct pull *p, nook_err *err)
{
  struct nook_platform want = { 0 };
  const struct nook_descriptor *d;
  cleanup_free char *digest = NULL;
  int ret = -1;

  if (fetch_manifest (p, nook_ref_target (&p->ref), err) < 0)
    return -1;
  if (!p->manifest->is_index)
    return 0;
  if (wanted_platform (p->o, &want, err) < 0)
    goto out;
  if (nook_manifest_select (p->manifest, &want, &d, err) < 0)
    goto out;
  digest = xstrdup (d->digest);
  if (fetch_manifest (p, digest, err) < 0)
    goto out;
  if (p->manifest->is_index)
    {
      nook_error_input (err, "manifest %s: an index inside an index is not supported", digest);
      goto out;
    }
  ret = 0;
out:
  nook_platform_free (&want);
  return ret;
}

static int
fetch_config (struct pull *p, nook_err *err)
{
  const struct nook_descriptor *c = &p->manifest->config;

  if (nook_store_blob_exists (p->s, c->digest))
    {
      if (nook_store_blob_read (p->s, c->digest, NOOK_MANIFEST_MAX, &p->config_data, &p->config_len, err) < 0)
        return -1;
    }
  else
    {
      nook_progress_line (p->progress, "Copying config %.19s", c->digest);
      if (nook_registry_get_blob_mem (p->reg, c->digest, c->size, NOOK_MANIFEST_MAX, &p->config_data, &p->config_len,
                                      err)
          < 0)
        return -1;
    }
  if (nook_image_config_parse (p->config_data, p->config_len, &p->config, err) < 0)
    return nook_error_prefix (err, "image config %s", c->digest);
  if (p->config->n_diff_ids != p->manifest->n_layers)
    return nook_error_input (err, "image config %s lists %zu layers, the manifest %zu", c->digest,
                             p->config->n_diff_ids, p->manifest->n_layers);
  return 0;
}


static struct nook_image *
image_record (struct pull *p)
{
  struct nook_image *img = xcalloc (1, sizeof (*img));
  size_t n = p->manifest->n_layers;
  const struct nook_platform *pl = &p->config->platform;

  img->id = xstrdup (p->manifest->config.digest + strlen ("sha256:"));
  img->digest = xstrdup (p->manifest_digest);
  img->manifest_type = xstrdup (p->manifest->media_type);
  img->names = xcalloc (2, sizeof (char *));
  {
    /* name:tag@digest is pulled by digest and named by it, as podman does: the tag said nothing more. */
    struct nook_ref r = p->ref;
    if (r.digest)
      r.tag = NULL;
    img->names[0] = nook_ref_string (&r);
  }
  img->layers = xcalloc (n + 1, sizeof (char *));
  img->blobs = xcalloc (n + 1, sizeof (char *));
  for (size_t i = 0; i < n; i++)
    {
      img->layers[i] = xstrdup (p->config->diff_ids[i]);
      img->blobs[i] = xstrdup (p->manifest->layers[i].digest);
      img->size += nook_store_layer_size (p->s, img->layers[i]);
    }
  img->created = xstrdup (p->config->created ? p->config->created : "");
  img->pulled = nook_now_rfc3339 ();
  img->arch = xstrdup (pl->arch ? pl->arch : "");
  img->os = xstrdup (pl->os ? pl->os : "");
  img->variant = xstrdup (pl->variant ? pl->variant : "");
  return img;
}

static int
record (struct pull *p, char **id, nook_err *err)
{
  struct nook_image *img;
  int ret;

  if (nook_store_blob_put (p->s, p->manifest->config.digest, p->config_data, p->config_len, err) < 0
      || nook_store_blob_put (p->s, p->manifest_digest, p->manifest_data, p->manifest_len, err) < 0)
    return -1;
  nook_progress_line (p->progress, "Writing manifest to image destination");
  img = image_record (p);
  ret = nook_store_image_put (p->s, img, err);
  if (ret == 0)
    *id = xstrdup (img->id);
  nook_image_free (img);
  return ret;
}

static void
check_platform (struct pull *p)
{
  struct nook_platform want = { 0 };
  nook_err ignored;
  const struct nook_platform *got = &p->config->platform;

  if (wanted_platform (p->o, &want, &ignored) < 0)
    return;
  if (got->arch && want.arch && strcmp (got->arch, want.arch) != 0)
    nook_warn ("image platform (%s/%s) does not match the expected platform (%s/%s)", got->os ? got->os : "?",
               got->arch, want.os, want.arch);
  nook_platform_free (&want);
}

int
nook_image_pull (struct nook_store *s, const char *name, const struct nook_pull_opts *o, char **id, nook_err *err)
{
  struct pull p = { .s = s, .o = o };
  cleanup_close int writer = -1;
  int ret = -1;

  if (nook_ref_parse (name, &p.ref, err) < 0)
    return -1;
  writer = nook_store_writer_lock (s, false, err);
  if (writer < 0)
    {
      nook_ref_free (&p.ref);
      return -1;
    }
  /* leftovers of earlier work: a failure to remove them never blocks this pull */
  if (nook_store_tmp_clean (s, err) < 0)
    {
      nook_warn ("cleaning the store's temp area: %s", err->msg);
      nook_err_clear (err);
    }
  p.progress = nook_progress_new (o->quiet ? NULL : o->progress, 0, NULL, NULL);
  {
    cleanup_free char *full = nook_ref_string (&p.ref);
    nook_progress_line (p.progress, "Trying to pull %s...", full);
  }
  if (connect_registry (&p, err) < 0 || resolve_manifest (&p, err) < 0)
    goto out;
  nook_progress_line (p.progress, "Getting image source signatures");
  if (fetch_config (&p, err) < 0)
    goto out;
  check_platform (&p);
  if (nook_pull_fetch_layers (&p, err) < 0 || nook_pull_extract_layers (&p, err) < 0)
    goto out;
  ret = record (&p, id, err);
out:
  if (ret < 0)
    {
      cleanup_free char *full = p.ref.domain ? nook_ref_string (&p.ref) : xstrdup (name);
      nook_error_prefix (err, "pulling %s", full);
    }
  pull_free (&p);
  return ret;
}
