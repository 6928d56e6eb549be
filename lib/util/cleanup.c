#include "util/cleanup.h"

#include <errno.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/strutil.h"

void
nook_freep (void *p)
{
  free (*(void **) p);
}

void
nook_closep (int *fd)
{
  if (*fd >= 0)
    {
      int saved = errno;
      close (*fd);
      errno = saved;
      *fd = -1;
    }
}

void
nook_closedirp (DIR **d)
{
  if (*d)
    closedir (*d);
}

void
nook_fclosep (FILE **f)
{
  if (*f)
    fclose (*f);
}

void
nook_strvfreep (char ***v)
{
  strv_free (*v);
}

void
nook_killpidp (pid_t *pid)
{
  if (*pid > 0)
    {
      int saved = errno;
      kill (*pid, SIGKILL);
      while (waitpid (*pid, NULL, 0) < 0 && errno == EINTR)
        ;
      errno = saved;
      *pid = 0;
    }
}
