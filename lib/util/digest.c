/* Streaming sha256 on OpenSSL libcrypto's EVP, loaded with dlopen on first use (util/crypto_lib.h). */
#include "util/digest.h"

#include <stdlib.h>
#include <string.h>

#include "util/crypto_lib.h"
#include "util/log.h"
#include "util/strutil.h"

struct nook_sha256
{
  EVP_MD_CTX *ctx;
};

/* libcrypto only fails here on out-of-memory or a broken installation: like xmalloc, do not limp on. */
static void __attribute__ ((noreturn)) evp_fail (const char *what)
{
  nook_warn ("sha256: %s failed", what);
  abort ();
}

struct nook_sha256 *
nook_sha256_new (void)
{
  struct nook_sha256 *h = xcalloc (1, sizeof *h);

  /* nook_crypto_fns () (behind these names) stops the process naming libcrypto's package if it is missing. */
  h->ctx = EVP_MD_CTX_new ();
  if (h->ctx == NULL)
    evp_fail ("EVP_MD_CTX_new");
  if (EVP_DigestInit_ex (h->ctx, EVP_sha256 (), NULL) != 1)
    evp_fail ("EVP_DigestInit_ex");
  return h;
}

void
nook_sha256_update (struct nook_sha256 *h, const void *data, size_t len)
{
  if (len > 0 && EVP_DigestUpdate (h->ctx, data, len) != 1)
    evp_fail ("EVP_DigestUpdate");
}

void
nook_sha256_final (struct nook_sha256 *h, char out[72])
{
  static const char hex[] = "0123456789abcdef";
  unsigned char md[32];
  unsigned int n = 32;
  char *p = out;

  if (EVP_DigestFinal_ex (h->ctx, md, &n) != 1 || n != 32)
    evp_fail ("EVP_DigestFinal_ex");
  memcpy (p, "sha256:", 7);
  p += 7;
  for (unsigned int i = 0; i < 32; i++)
    {
      *p++ = hex[md[i] >> 4];
      *p++ = hex[md[i] & 0xf];
    }
  *p = '\0';
}

void
nook_sha256_free (struct nook_sha256 *h)
{
  if (h == NULL)
    return;
  EVP_MD_CTX_free (h->ctx);
  free (h);
}

void
nook_sha256_digest (const void *data, size_t len, char out[72])
{
  struct nook_sha256 *h = nook_sha256_new ();

  nook_sha256_update (h, data, len);
  nook_sha256_final (h, out);
  nook_sha256_free (h);
}
