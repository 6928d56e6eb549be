#include "util/selfexe.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/cleanup.h"

#define SEALED_ENV "_NOOK_SEALED"

extern char **environ;

static bool
already_sealed (void)
{
  cleanup_close int fd = open ("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  int seals;

  if (fd < 0)
    return false;
  seals = fcntl (fd, F_GET_SEALS);
  return seals >= 0 && (seals & F_SEAL_WRITE);
}

int
nook_reexec_sealed (char **argv, nook_err *err)
{
  cleanup_close int src = -1, mfd = -1;
  struct stat st;
  off_t off = 0;

  if (getenv (SEALED_ENV))
    {
      unsetenv (SEALED_ENV);
      if (already_sealed ())
        return 0;
    }
  if (geteuid () != 0 && access ("/proc/self/exe", W_OK) < 0)
    return 0; /* not writable by us: nothing a container could do with it either */
  src = open ("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  if (src < 0 || fstat (src, &st) < 0)
    return nook_error (err, errno, "open /proc/self/exe");
  mfd = memfd_create ("nook", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (mfd < 0)
    return nook_error (err, errno, "memfd_create");
  while (off < st.st_size)
    {
      ssize_t n = sendfile (mfd, src, NULL, (size_t) (st.st_size - off));
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return nook_error (err, n < 0 ? errno : EIO, "copy /proc/self/exe to memfd");
      off += n;
    }
  if (fcntl (mfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0)
    return nook_error (err, errno, "seal memfd");
  setenv (SEALED_ENV, "1", 1);
  fexecve (mfd, argv, environ);
  unsetenv (SEALED_ENV);
  return nook_error (err, errno, "fexecve sealed copy of the runtime");
}
