/* Streaming sha256.  Two engines, the same results:
 *   - nook_sha256_new: nook's own FIPS 180-4 code, for small inputs (manifests, configs, the seccomp
 *     profile cache key on the runtime path): no library to load, so the runtime path stays on libc.
 *   - nook_sha256_new_bulk: OpenSSL libcrypto (SHA-NI/AVX2 code, several times faster), loaded with dlopen
 *     (image/crypto_lib.h) for blobs and layers; when libcrypto cannot be loaded it falls back to the
 *     built-in code (still correct, only slower). */
#ifndef NOOK_IMAGE_DIGEST_H
#define NOOK_IMAGE_DIGEST_H

#include <stddef.h>

#include "util/error.h"

struct nook_sha256;

struct nook_sha256 *nook_sha256_new (void);
struct nook_sha256 *nook_sha256_new_bulk (void);
void nook_sha256_update (struct nook_sha256 *h, const void *data, size_t len);
/* Writes "sha256:<64 hex>" (72 bytes incl. NUL) into OUT; the hasher can no longer be updated. */
void nook_sha256_final (struct nook_sha256 *h, char out[72]);
void nook_sha256_free (struct nook_sha256 *h);
/* One-shot (built-in engine). */
void nook_sha256_digest (const void *data, size_t len, char out[72]);

#endif
