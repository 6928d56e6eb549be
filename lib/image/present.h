/* How images look to users: podman's `images` rows, `image inspect` JSON, human sizes and ages. */
#ifndef NOOK_IMAGE_PRESENT_H
#define NOOK_IMAGE_PRESENT_H

#include <jansson.h>
#include <stdint.h>
#include <time.h>

#include "store/store.h"

/* podman's `image inspect` object for IMG (config read from the store). */
json_t *nook_image_inspect_json (struct nook_store *s, const struct nook_image *img, nook_err *err);
/* One `images` row per name (or one "<none>" row): objects with Repository, Tag, ID (12 hex), Id (64),
 * Digest, Created (seconds), CreatedAt, CreatedSince, Size (human), VirtualSize (bytes), Names, Dangling.
 * Appended to ROWS (an array). */
void nook_image_rows (const struct nook_image *img, json_t *rows);
/* "7.61 MB" (decimal units, like podman). */
char *nook_human_size (int64_t bytes);
/* "2 months ago", "About an hour ago", "5 seconds ago" (docker's units.HumanDuration). */
char *nook_human_since (time_t then);
/* RFC 3339 -> time_t (0 when unparseable). */
time_t nook_parse_rfc3339 (const char *s);

#endif
