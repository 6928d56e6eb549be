/* libmnl.so.0 through dlopen (see net/mnl_lib.h, util/dl.h). */
#define NOOK_MNL_LIB_IMPL 1
#include "net/mnl_lib.h"

#include "util/dl.h"

static struct nook_mnl_fns fns;

static const struct nook_dl_sym syms[] = {
#define NOOK_MNL_SYM(f) { #f, (void **) &fns.f },
  NOOK_MNL_FUNCS (NOOK_MNL_SYM)
#undef NOOK_MNL_SYM
};

static struct nook_dl lib = NOOK_DL_INIT ("libmnl.so.0", "libmnl0", syms);

int
nook_mnl_load (nook_err *err)
{
  return nook_dl_load (&lib, err);
}

const struct nook_mnl_fns *
nook_mnl_fns (void)
{
  if (__atomic_load_n (&lib.state, __ATOMIC_ACQUIRE) != 1)
    nook_dl_require (&lib);
  return &fns;
}
