/* libcrypto.so.3 through dlopen (see util/crypto_lib.h, util/dl.h). */
#define NOOK_CRYPTO_LIB_IMPL 1
#include "util/crypto_lib.h"

#include "util/dl.h"

static struct nook_crypto_fns fns;

static const struct nook_dl_sym syms[] = {
#define NOOK_CRYPTO_SYM(f) { #f, (void **) &fns.f },
  NOOK_CRYPTO_FUNCS (NOOK_CRYPTO_SYM)
#undef NOOK_CRYPTO_SYM
};

static struct nook_dl lib = NOOK_DL_INIT ("libcrypto.so.3", "libssl3", syms);

int
nook_crypto_load (nook_err *err)
{
  return nook_dl_load (&lib, err);
}

const struct nook_crypto_fns *
nook_crypto_fns (void)
{
  if (__atomic_load_n (&lib.state, __ATOMIC_ACQUIRE) != 1)
    nook_dl_require (&lib);
  return &fns;
}
