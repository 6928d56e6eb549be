#include "util/term.h"

#include <errno.h>
#include <unistd.h>

int
nook_term_raw (int fd, struct termios *saved, nook_err *err)
{
  struct termios raw;

  if (!isatty (fd))
    return 0;
  if (tcgetattr (fd, saved) < 0)
    return nook_error (err, errno, "tcgetattr fd %d", fd);
  raw = *saved;
  cfmakeraw (&raw);
  if (tcsetattr (fd, TCSADRAIN, &raw) < 0)
    return nook_error (err, errno, "tcsetattr fd %d", fd);
  return 1;
}
