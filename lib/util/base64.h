/* RFC 4648 base64 (registry credentials), by libcrypto (util/crypto_lib.h). */
#ifndef NOOK_UTIL_BASE64_H
#define NOOK_UTIL_BASE64_H

#include <stddef.h>

/* IN[0..N) encoded, padded, NUL-terminated (malloc'd). */
char *nook_base64_encode (const void *in, size_t n);
/* IN decoded (padding optional, no whitespace inside); NULL when IN is not base64.  The result is
 * NUL-terminated after its *LEN bytes (malloc'd). */
char *nook_base64_decode (const char *in, size_t *len);

#endif
