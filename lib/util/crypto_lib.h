/* libcrypto: SHA-256 of bulk data (blobs and layers), see util/digest.h; base64, see util/base64.h.
 * Loaded with dlopen on first use (see util/dl.h); the function names below are mapped onto the table. */
#ifndef NOOK_UTIL_CRYPTO_LIB_H
#define NOOK_UTIL_CRYPTO_LIB_H

#include <openssl/evp.h>

#include "util/error.h"

#define NOOK_CRYPTO_FUNCS(X) \
  X (EVP_DecodeBlock) \
  X (EVP_DigestFinal_ex) \
  X (EVP_DigestInit_ex) \
  X (EVP_DigestUpdate) \
  X (EVP_MD_CTX_free) \
  X (EVP_EncodeBlock) \
  X (EVP_MD_CTX_new) \
  X (EVP_sha256)

struct nook_crypto_fns
{
#define NOOK_CRYPTO_SLOT(f) __typeof__ (f) *f;
  NOOK_CRYPTO_FUNCS (NOOK_CRYPTO_SLOT)
#undef NOOK_CRYPTO_SLOT
};

/* Load libcrypto.so.3: 0, or -1 with ERR naming it and its Debian package (libssl3). */
int nook_crypto_load (nook_err *err);
/* The table; loads on first use, stops the process if the library is missing. */
const struct nook_crypto_fns *nook_crypto_fns (void);

#ifndef NOOK_CRYPTO_LIB_IMPL
#define EVP_DecodeBlock (nook_crypto_fns ()->EVP_DecodeBlock)
#define EVP_EncodeBlock (nook_crypto_fns ()->EVP_EncodeBlock)
#define EVP_DigestFinal_ex (nook_crypto_fns ()->EVP_DigestFinal_ex)
#define EVP_DigestInit_ex (nook_crypto_fns ()->EVP_DigestInit_ex)
#define EVP_DigestUpdate (nook_crypto_fns ()->EVP_DigestUpdate)
#define EVP_MD_CTX_free (nook_crypto_fns ()->EVP_MD_CTX_free)
#define EVP_MD_CTX_new (nook_crypto_fns ()->EVP_MD_CTX_new)
#define EVP_sha256 (nook_crypto_fns ()->EVP_sha256)
#endif

#endif
