/* Streaming sha256: built-in FIPS 180-4 code, or libcrypto's EVP for bulk data (see image/digest.h). */
#include "image/digest.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "image/crypto_lib.h"
#include "util/log.h"
#include "util/strutil.h"

struct nook_sha256
{
  EVP_MD_CTX *ctx; /* libcrypto engine; NULL: the built-in one below */
  uint32_t st[8];
  uint64_t len; /* bytes hashed so far */
  unsigned char buf[64];
  size_t nbuf;
};

static const uint32_t K[64] = {
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static inline uint32_t
ror (uint32_t x, int n)
{
  return (x >> n) | (x << (32 - n));
}

static void
block (uint32_t st[8], const unsigned char *p)
{
  uint32_t w[64], a = st[0], b = st[1], c = st[2], d = st[3], e = st[4], f = st[5], g = st[6], h = st[7];

  for (int i = 0; i < 16; i++)
    w[i] = (uint32_t) p[4 * i] << 24 | (uint32_t) p[4 * i + 1] << 16 | (uint32_t) p[4 * i + 2] << 8
           | (uint32_t) p[4 * i + 3];
  for (int i = 16; i < 64; i++)
    {
      uint32_t s0 = ror (w[i - 15], 7) ^ ror (w[i - 15], 18) ^ (w[i - 15] >> 3);
      uint32_t s1 = ror (w[i - 2], 17) ^ ror (w[i - 2], 19) ^ (w[i - 2] >> 10);
      w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
  for (int i = 0; i < 64; i++)
    {
      uint32_t t1 = h + (ror (e, 6) ^ ror (e, 11) ^ ror (e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i];
      uint32_t t2 = (ror (a, 2) ^ ror (a, 13) ^ ror (a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
      h = g;
      g = f;
      f = e;
      e = d + t1;
      d = c;
      c = b;
      b = a;
      a = t1 + t2;
    }
  st[0] += a;
  st[1] += b;
  st[2] += c;
  st[3] += d;
  st[4] += e;
  st[5] += f;
  st[6] += g;
  st[7] += h;
}

static void
own_update (struct nook_sha256 *h, const unsigned char *p, size_t len)
{
  h->len += len;
  if (h->nbuf > 0)
    {
      size_t n = 64 - h->nbuf < len ? 64 - h->nbuf : len;
      memcpy (h->buf + h->nbuf, p, n);
      h->nbuf += n;
      p += n;
      len -= n;
      if (h->nbuf < 64)
        return;
      block (h->st, h->buf);
      h->nbuf = 0;
    }
  for (; len >= 64; p += 64, len -= 64)
    block (h->st, p);
  memcpy (h->buf, p, len);
  h->nbuf = len;
}

static void
own_final (struct nook_sha256 *h, unsigned char md[32])
{
  uint64_t bits = h->len * 8;
  unsigned char pad[72] = { 0x80 };
  size_t n = (h->nbuf < 56 ? 56 : 120) - h->nbuf;

  for (int i = 0; i < 8; i++)
    pad[n + i] = (unsigned char) (bits >> (56 - 8 * i));
  own_update (h, pad, n + 8);
  for (int i = 0; i < 8; i++)
    {
      md[4 * i] = (unsigned char) (h->st[i] >> 24);
      md[4 * i + 1] = (unsigned char) (h->st[i] >> 16);
      md[4 * i + 2] = (unsigned char) (h->st[i] >> 8);
      md[4 * i + 3] = (unsigned char) h->st[i];
    }
}

/* libcrypto only fails here on out-of-memory or a broken installation: like xmalloc, do not limp on. */
static void __attribute__ ((noreturn)) evp_fail (const char *what)
{
  nook_warn ("sha256: %s failed", what);
  abort ();
}

struct nook_sha256 *
nook_sha256_new (void)
{
  static const uint32_t iv[8] = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                  0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 };
  struct nook_sha256 *h = xcalloc (1, sizeof *h);

  memcpy (h->st, iv, sizeof iv);
  return h;
}

struct nook_sha256 *
nook_sha256_new_bulk (void)
{
  nook_err err = { 0 };
  struct nook_sha256 *h;

  if (nook_crypto_load (&err) < 0)
    return nook_sha256_new (); /* the built-in engine gives the same digest */
  h = xcalloc (1, sizeof *h);
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
  if (len == 0)
    return;
  if (h->ctx == NULL)
    own_update (h, data, len);
  else if (EVP_DigestUpdate (h->ctx, data, len) != 1)
    evp_fail ("EVP_DigestUpdate");
}

void
nook_sha256_final (struct nook_sha256 *h, char out[72])
{
  static const char hex[] = "0123456789abcdef";
  unsigned char md[32];
  unsigned int n = 32;
  char *p = out;

  if (h->ctx == NULL)
    own_final (h, md);
  else if (EVP_DigestFinal_ex (h->ctx, md, &n) != 1 || n != 32)
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
  if (h->ctx)
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
