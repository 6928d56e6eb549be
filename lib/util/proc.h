/* Process helpers. */
#ifndef NOOK_UTIL_PROC_H
#define NOOK_UTIL_PROC_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/error.h"

/* Field 22 of /proc/PID/stat (start time in clock ticks since boot).  -1 with ERR if PID is gone. */
int nook_proc_start_time (pid_t pid, uint64_t *out, nook_err *err);
/* True when PID exists, is not a zombie, and (when START_TIME != 0) still has that start time. */
bool nook_proc_alive (pid_t pid, uint64_t start_time);
/* waitpid() retrying on EINTR; returns the shell-style exit status (code, or 128+signal). */
int nook_wait_status (pid_t pid, nook_err *err);
/* Convert a waitpid() status to a shell-style status. */
int nook_exit_status (int wstatus);
/* Signal names: "KILL", "SIGKILL", "9" -> 9.  -1 when unknown. */
int nook_parse_signal (const char *s);
const char *nook_signal_name (int sig); /* "SIGKILL"; NULL when unknown */

#endif
