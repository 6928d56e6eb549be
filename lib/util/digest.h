/* Streaming sha256 (OpenSSL libcrypto's EVP, loaded with dlopen by the verbs that hash: util/crypto_lib.h).
 * The runtime path hashes nothing: its seccomp cache is keyed without a cryptographic hash. */
#ifndef NOOK_IMAGE_DIGEST_H
#define NOOK_IMAGE_DIGEST_H

#include <stddef.h>

#include "util/error.h"

struct nook_sha256;

struct nook_sha256 *nook_sha256_new (void);
void nook_sha256_update (struct nook_sha256 *h, const void *data, size_t len);
/* Writes "sha256:<64 hex>" (72 bytes incl. NUL) into OUT; the hasher can no longer be updated. */
void nook_sha256_final (struct nook_sha256 *h, char out[72]);
void nook_sha256_free (struct nook_sha256 *h);
/* One-shot. */
void nook_sha256_digest (const void *data, size_t len, char out[72]);

#endif
