/* OCI distribution (Docker registry v2) client on libcurl.
 *
 * - HTTPS with the system CA store by default; plain HTTP or unverified TLS only when the caller says
 *   tls_verify = false (from --tls-verify=false or an insecure registries.conf entry).  With tls_verify
 *   false, "https" is tried first and "http" after a TLS/connection failure, like podman.
 * - Auth: on 401 parse WWW-Authenticate.  Bearer: GET realm?service=..&scope=.. (with basic credentials
 *   when we have them), cache the token for the session.  Basic: send credentials.
 * - Credentials and tokens are sent only to the registry host itself: never on redirects to another host
 *   (blob storage) and never to foreign layer URLs.
 * - Every blob is verified while streaming: sha256 and size must match the descriptor, or the data is
 *   discarded.  Transient failures (connection errors, 5xx, 429, short reads) are retried a bounded
 *   number of times with backoff; a partial download resumes with a Range request. */
#ifndef NOOK_IMAGE_REGISTRY_H
#define NOOK_IMAGE_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/reference.h"
#include "util/error.h"

struct nook_registry_opts
{
  bool tls_verify;          /* false: allow http and unverified https */
  const char *username;     /* NULL: anonymous (or from the auth files, looked up by the caller) */
  const char *password;
  const char *user_agent;   /* NULL: "nook/VERSION" */
  int max_retries;          /* 0: default (5) */
};

struct nook_registry;

/* A session with REF's registry and repository.  Does no I/O yet. */
int nook_registry_open (const struct nook_ref *ref, const struct nook_registry_opts *opts,
                        struct nook_registry **out, nook_err *err);
void nook_registry_close (struct nook_registry *r);

/* GET /v2/<repo>/manifests/<reference>.  At most NOOK_MANIFEST_MAX bytes.  *CONTENT_TYPE and *DIGEST
 * (Docker-Content-Digest header, or computed) are allocated.  When REFERENCE is a digest the data is
 * verified against it. */
int nook_registry_get_manifest (struct nook_registry *r, const char *reference, char **data, size_t *len,
                                char **content_type, char **digest, nook_err *err);

/* A small blob (config) into memory, verified, at most MAX bytes. */
int nook_registry_get_blob_mem (struct nook_registry *r, const char *digest, int64_t size, size_t max, char **data,
                                size_t *len, nook_err *err);

typedef void (*nook_progress_fn) (void *ud, size_t index, int64_t done, int64_t total, bool finished);

struct nook_blob_job
{
  const char *digest;       /* expected "sha256:<hex>" */
  int64_t size;             /* expected size */
  const char *const *urls;  /* foreign layer URLs or NULL (fetched without credentials) */
  int dirfd;                /* where to write */
  const char *partial;      /* file name in DIRFD for the download; appended to when it exists (resume) */
  nook_err err;             /* per-job failure */
  int result;               /* 0 ok, -1 failed (err filled) */
};

/* Download N blobs, up to PARALLEL at once (curl multi).  Each verified file stays at job->partial (the
 * caller renames it into place).  Returns -1 when any job failed (ERR = the first failure). */
int nook_registry_get_blobs (struct nook_registry *r, struct nook_blob_job *jobs, size_t n, int parallel,
                             nook_progress_fn progress, void *ud, nook_err *err);

/* Check credentials against DOMAIN (GET /v2/ with the auth dance).  "unauthorized" errors name it. */
int nook_registry_login_check (const char *domain, const struct nook_registry_opts *opts, nook_err *err);

#endif
