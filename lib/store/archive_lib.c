/* libarchive.so.13 through dlopen (see store/archive_lib.h, util/dl.h). */
#define NOOK_ARCHIVE_LIB_IMPL 1
#include "store/archive_lib.h"

#include "util/dl.h"

static struct nook_archive_fns fns;

static const struct nook_dl_sym syms[] = {
#define NOOK_ARCHIVE_SYM(f) { #f, (void **) &fns.f },
  NOOK_ARCHIVE_FUNCS (NOOK_ARCHIVE_SYM)
#undef NOOK_ARCHIVE_SYM
};

static struct nook_dl lib = NOOK_DL_INIT ("libarchive.so.13", "libarchive13", syms);

int
nook_archive_load (nook_err *err)
{
  return nook_dl_load (&lib, err);
}

const struct nook_archive_fns *
nook_archive_fns (void)
{
  if (__atomic_load_n (&lib.state, __ATOMIC_ACQUIRE) != 1)
    nook_dl_require (&lib);
  return &fns;
}
