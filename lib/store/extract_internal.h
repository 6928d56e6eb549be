/* Shared between extract.c (the streams, the entry loop, directory times) and extract_entry.c (one entry
 * written into the layer).  Not a contract for other modules. */
#ifndef NOOK_STORE_EXTRACT_INTERNAL_H
#define NOOK_STORE_EXTRACT_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "store/archive_lib.h"
#include "store/extract.h"
#include "util/error.h"

struct nook_sha256;

/* A directory whose times are applied after every entry (later entries change them). */
struct nook_xt_dirtime
{
  char *path;             /* normalized, relative to the layer */
  struct timespec ts[2];  /* atime, mtime */
  size_t seq;             /* entry order: the last entry for a path wins */
};

struct nook_xt
{
  int rootfd;                         /* the layer directory */
  const struct nook_extract_opts *opts;
  struct nook_extract_result *res;

  int fd;                             /* the layer stream */
  char *inbuf;                        /* fd -> A */
  unsigned char magic[6];             /* the stream's first bytes: names the compression in errors */
  size_t nmagic;
  struct archive *in;                 /* reader A: decompression only (format raw) */
  struct archive *tar;                /* reader B: tar, fed from A through callbacks */
  struct nook_sha256 *hash;           /* over everything A produces */
  uint64_t total, max;
  char *buf;                          /* A -> B transfer buffer */
  bool stream_failed;                 /* the bound or the decompressor failed: STREAM_ERR says why */
  nook_err stream_err;

  struct nook_xt_dirtime *dirs;
  size_t ndirs, capdirs;
};

/* Normalize an entry path: drop "." components, empty components and a leading "./"; "" means the
 * layer root.  Returns -1 for absolute paths and any ".." component. */
int nook_xt_normalize (const char *in, char **out);
/* Split normalized PATH at its last '/': *PARENT ("" for the root) and *NAME are allocated. */
void nook_xt_split (const char *path, char **parent, char **name);
/* Open the directory PARENT (normalized) inside the layer, O_PATH; CREATE makes missing ones (0755). */
int nook_xt_open_dir (struct nook_xt *x, const char *parent, bool create, nook_err *err);
/* Fill ERR after reader B failed at entry PATH (AFTER: reading the header that follows it; PATH NULL:
 * before the first entry).  A failure of the stream itself wins. */
int nook_xt_read_error (struct nook_xt *x, const char *path, bool after, nook_err *err);
/* Write one entry into the layer. */
int nook_xt_entry (struct nook_xt *x, struct archive_entry *e, nook_err *err);
/* Remember directory PATH's times for the end. */
void nook_xt_defer_dir_times (struct nook_xt *x, const char *path, const struct timespec ts[2]);

#endif
