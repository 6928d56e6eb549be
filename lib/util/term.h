/* Terminal helpers. */
#ifndef NOOK_UTIL_TERM_H
#define NOOK_UTIL_TERM_H

#include <termios.h>

#include "util/error.h"

/* Put FD (a terminal) in raw mode, saving its settings in *SAVED for tcsetattr on the way out.
 * Returns 1 when raw mode was set, 0 when FD is not a terminal, -1 with ERR. */
int nook_term_raw (int fd, struct termios *saved, nook_err *err);

#endif
