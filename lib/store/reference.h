/* Image references, normalized like podman/docker:
 *   alpine                      -> docker.io/library/alpine:latest
 *   user/app:1                  -> docker.io/user/app:1
 *   localhost:5000/app          -> localhost:5000/app:latest
 *   quay.io/a/b@sha256:<64 hex> -> digest reference (tag NULL)
 *   repo:tag@sha256:...         -> both kept (the digest wins when pulling)
 * A first component with '.' or ':' or equal to "localhost" is a registry host. */
#ifndef NOOK_IMAGE_REFERENCE_H
#define NOOK_IMAGE_REFERENCE_H

#include <stdbool.h>

#include "util/error.h"

struct nook_ref
{
  char *domain;  /* "docker.io", "127.0.0.1:5000" */
  char *path;    /* "library/alpine" (lowercase, components [a-z0-9]+([._-]|__)... ) */
  char *tag;     /* "latest" when neither tag nor digest given; NULL when only a digest */
  char *digest;  /* "sha256:<hex>" or NULL */
};

/* Errors: "invalid reference format: ..." naming what is wrong (podman's wording starts so). */
int nook_ref_parse (const char *s, struct nook_ref *out, nook_err *err);
void nook_ref_free (struct nook_ref *r);
/* "docker.io/library/alpine:latest", "host/p@sha256:...", "host/p:tag@sha256:...".  Allocated. */
char *nook_ref_string (const struct nook_ref *r);
/* "docker.io/library/alpine" (no tag/digest).  Allocated. */
char *nook_ref_repo (const struct nook_ref *r);
/* The tag or digest to ask the registry for (digest preferred). */
const char *nook_ref_target (const struct nook_ref *r);
/* True for "sha256:" + 64 lowercase hex. */
bool nook_digest_valid (const char *d);

#endif
