/* Pull progress: per-blob bars with size and speed on a terminal, one line per blob otherwise. */
#ifndef NOOK_IMAGE_PROGRESS_H
#define NOOK_IMAGE_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct nook_progress;

/* OUT NULL: a silent progress (every call is a no-op). */
struct nook_progress *nook_progress_new (FILE *out, size_t n, const char *const *digests, const int64_t *sizes);
/* The registry client's nook_progress_fn. */
void nook_progress_update (void *ud, size_t index, int64_t done, int64_t total, bool finished);
void nook_progress_line (struct nook_progress *p, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));
void nook_progress_free (struct nook_progress *p);

#endif
