/* dlopen with one error message and a once-only, thread-safe load (see util/dl.h). */
#include "util/dl.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

static void
load_locked (struct nook_dl *dl)
{
  void *h = dlopen (dl->soname, RTLD_NOW | RTLD_LOCAL);
  const char *e;

  if (h == NULL)
    {
      e = dlerror ();
      snprintf (dl->msg, sizeof dl->msg, "load %s (Debian package %s): %s", dl->soname, dl->package,
                e ? e : "dlopen failed");
      __atomic_store_n (&dl->state, -1, __ATOMIC_RELEASE);
      return;
    }
  for (size_t i = 0; i < dl->nsyms; i++)
    {
      void *p = dlsym (h, dl->syms[i].name);
      if (p == NULL)
        {
          snprintf (dl->msg, sizeof dl->msg, "load %s (Debian package %s): symbol `%s` missing (version too old?)",
                    dl->soname, dl->package, dl->syms[i].name);
          __atomic_store_n (&dl->state, -1, __ATOMIC_RELEASE);
          return; /* the handle stays open: harmless, and some symbols may already be in use elsewhere */
        }
      *dl->syms[i].slot = p;
    }
  __atomic_store_n (&dl->state, 1, __ATOMIC_RELEASE);
}

int
nook_dl_load (struct nook_dl *dl, nook_err *err)
{
  int state = __atomic_load_n (&dl->state, __ATOMIC_ACQUIRE);

  if (state == 0)
    {
      pthread_mutex_lock (&dl->lock);
      if (dl->state == 0)
        load_locked (dl);
      state = dl->state;
      pthread_mutex_unlock (&dl->lock);
    }
  if (state > 0)
    return 0;
  nook_error (err, 0, "%s", dl->msg);
  err->code = ENOENT;
  return -1;
}

void
nook_dl_require (struct nook_dl *dl)
{
  nook_err err = { 0 };

  if (nook_dl_load (dl, &err) == 0)
    return;
  fprintf (stderr, "nook: %s\n", err.msg);
  exit (NOOK_EXIT_ERROR);
}
