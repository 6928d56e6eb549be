/* Small string helpers. */
#ifndef NOOK_UTIL_STRUTIL_H
#define NOOK_UTIL_STRUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Allocation that aborts on out-of-memory (nook does not try to limp on without memory). */
void *xmalloc (size_t n);
void *xcalloc (size_t n, size_t m);
void *xrealloc (void *p, size_t n);
char *xstrdup (const char *s);
char *xasprintf (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));

/* NULL-terminated string vectors. */
size_t strv_len (char *const *v);
void strv_free (char **v);
char **strv_dup (char *const *v);
/* Append S to the NULL-terminated vector *V: strv_push takes ownership of S, strv_add appends a copy. */
void strv_push (char ***v, char *s);
void strv_add (char ***v, const char *s);

bool str_has_prefix (const char *s, const char *prefix);
/* Parse a whole decimal unsigned integer; false on junk, sign, overflow past MAX. */
/* Go's path.Clean of an absolute or relative PATH, allocated: "//a/./b/../c/" -> "/a/c", "/../x" -> "/x". */
char *str_path_clean (const char *path);
bool str_to_u64 (const char *s, uint64_t max, uint64_t *out);

#endif
