/* Terminals, fd passing, and the attached run loop. */
#ifndef NOOK_RUNTIME_TERMINAL_H
#define NOOK_RUNTIME_TERMINAL_H

#include <stdbool.h>
#include <sys/types.h>

#include "util/error.h"

/* In the container's init, after pivot_root, with the container's devpts at /dev/pts: open /dev/ptmx,
 * unlock, open the peer, become session leader with it as controlling terminal, set ROWS x COLS when
 * non-zero, give it to OWNER (the process's uid), dup it onto 0, 1, 2.  Returns the master fd. */
int nook_terminal_setup_child (unsigned int rows, unsigned int cols, uid_t owner, nook_err *err);

/* SCM_RIGHTS over a unix socket (runc's console-socket protocol sends one fd with a name). */
int nook_send_fd (int sock, int fd, const char *name, nook_err *err);
int nook_recv_fd (int sock, nook_err *err);
/* Connect to the --console-socket PATH and send MASTER. */
int nook_console_socket_send (const char *path, int master, nook_err *err);

/* The attached `run`: wait for PID (our child) while forwarding every catchable signal to it (through
 * PIDFD) and, when MASTER >= 0, proxying stdin -> master and master -> stdout with the caller's terminal
 * in raw mode (restored on every path) and SIGWINCH copied to the pty.  Returns the shell-style status
 * (code, or 128+signal). */
int nook_attach_wait (pid_t pid, int pidfd, int master, nook_err *err);

#endif
