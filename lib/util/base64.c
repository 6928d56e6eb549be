#include "util/base64.h"

#include <string.h>

#include "util/cleanup.h"
#include "util/crypto_lib.h"
#include "util/strutil.h"

char *
nook_base64_encode (const void *in, size_t n)
{
  char *out = xmalloc (4 * ((n + 2) / 3) + 1);

  EVP_EncodeBlock ((unsigned char *) out, in, (int) n);
  return out;
}

char *
nook_base64_decode (const char *in, size_t *len)
{
  size_t n = strlen (in), pad = 0;
  cleanup_free char *padded = NULL;
  cleanup_free char *out = NULL;
  int r;

  while (n > 0 && in[n - 1] == '=')
    n--, pad++;
  /* EVP_DecodeBlock trims surrounding whitespace and wants whole quads: refuse the one, pad the other. */
  if (pad > 2 || n % 4 == 1 || n > (size_t) 1 << 30 || strspn (in, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/") != n)
    return NULL;
  pad = (4 - n % 4) % 4;
  padded = xmalloc (n + pad + 1);
  memcpy (padded, in, n);
  memset (padded + n, '=', pad);
  padded[n + pad] = '\0';
  out = xmalloc ((n + pad) / 4 * 3 + 1);
  r = EVP_DecodeBlock ((unsigned char *) out, (const unsigned char *) padded, (int) (n + pad));
  if (r < 0 || (size_t) r < pad)
    return NULL;
  *len = (size_t) r - pad;
  out[*len] = '\0';
  return steal_pointer (&out);
}
