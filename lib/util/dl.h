/* Lazily loaded shared libraries.  The runtime path (every `nook-runtime` verb, the monitor, the CLI, `exec`)
 * links only libc, libseccomp and jansson; libcurl, libarchive, libcrypto and libmnl are opened with dlopen
 * by the few verbs that use them (pull/push/login, load/save/import/cp, bulk hashing, the root bridge).
 *
 * Each library has one module in the layer that uses it (image/curl_lib.h, store/archive_lib.h,
 * util/crypto_lib.h, net/mnl_lib.h).  The module declares a struct of function pointers typed with
 * __typeof__ of the library's own prototypes, and maps the library's function names onto that table, so
 * call sites read as ordinary library calls and the compiler checks every argument.
 *
 *   - The verb's entry point calls the module's `nook_X_load (err)`: a missing library is an ordinary
 *     error naming the file and the Debian package.
 *   - A call through the table without a load loads on first use; if that fails the process stops with
 *     the same message (like xmalloc on out-of-memory): an installation fault, not a run-time condition.
 *
 * Libraries are never closed (a library's handles may outlive any scope; ASan needs them to symbolise). */
#ifndef NOOK_UTIL_DL_H
#define NOOK_UTIL_DL_H

#include <pthread.h>
#include <stddef.h>

#include "util/error.h"

struct nook_dl_sym
{
  const char *name;
  void **slot;
};

struct nook_dl
{
  const char *soname;  /* "libcurl.so.4" */
  const char *package; /* the Debian package that ships it: "libcurl4" */
  const struct nook_dl_sym *syms;
  size_t nsyms;
  pthread_mutex_t lock;
  int state; /* 0 not tried, 1 loaded, -1 failed (msg says why) */
  char msg[512];
};

#define NOOK_DL_INIT(so, pkg, syms)                                                                          \
  { (so), (pkg), (syms), sizeof (syms) / sizeof ((syms)[0]), PTHREAD_MUTEX_INITIALIZER, 0, "" }

/* Load (once per process, thread-safe) and resolve every symbol.  Returns 0, or -1 with ERR naming the
 * library and its package. */
int nook_dl_load (struct nook_dl *dl, nook_err *err);
/* The lazy path: load or stop the process with the same message. */
void nook_dl_require (struct nook_dl *dl);

#endif
