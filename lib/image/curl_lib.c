/* libcurl.so.4 through dlopen (see image/curl_lib.h, util/dl.h). */
#define NOOK_CURL_LIB_IMPL 1
#include "image/curl_lib.h"

#include "util/dl.h"

static struct nook_curl_fns fns;

static const struct nook_dl_sym syms[] = {
#define NOOK_CURL_SYM(f) { #f, (void **) &fns.f },
  NOOK_CURL_FUNCS (NOOK_CURL_SYM)
#undef NOOK_CURL_SYM
};

static struct nook_dl lib = NOOK_DL_INIT ("libcurl.so.4", "libcurl4", syms);

int
nook_curl_load (nook_err *err)
{
  return nook_dl_load (&lib, err);
}

const struct nook_curl_fns *
nook_curl_fns (void)
{
  if (__atomic_load_n (&lib.state, __ATOMIC_ACQUIRE) != 1)
    nook_dl_require (&lib);
  return &fns;
}
