/* `nook pull`: reference -> registry -> verified blobs -> shared layers -> image record. */
#ifndef NOOK_IMAGE_PULL_H
#define NOOK_IMAGE_PULL_H

#include <stdbool.h>
#include <stdio.h>

#include "store/store.h"
#include "util/error.h"

struct nook_pull_opts
{
  int tls_verify;          /* -1: registries.conf decides (default verify); 0 / 1: --tls-verify */
  const char *platform;    /* "os/arch[/variant]" or NULL */
  const char *arch, *os, *variant; /* --arch/--os/--variant overrides */
  const char *creds;       /* "user[:pass]" or NULL */
  const char *authfile;    /* NULL: the default lookup (auth.h) */
  const char *regconf;     /* registries.conf path or NULL (default lookup) */
  bool quiet;              /* -q: no progress */
  FILE *progress;          /* where progress goes (stderr); NULL: none */
};

/* Pull NAME into S.  *ID gets the image ID (64 hex, allocated). */
int nook_image_pull (struct nook_store *s, const char *name, const struct nook_pull_opts *o, char **id,
                     nook_err *err);

#endif
