/* The one error convention of nook (see DEVELOPERS.md):
 *
 *   - A function that can fail returns int (or a pointer), < 0 (or NULL) on failure, and fills the
 *     caller's `nook_err` with errno and a message naming the operation and the object:
 *         return nook_error (err, errno, "open `%s`", path);
 *     The message gets ": <strerror(errno)>" appended when errnum != 0, so podman-style matching on the
 *     strerror text keeps working.
 *   - Callers add context with nook_error_prefix() and pass the failure up; nobody prints on the way.
 *   - Only the CLI prints it, once: nook_err_print().
 *   - err->status is the process exit code the CLI should use (125 by default, podman's). */
#ifndef NOOK_UTIL_ERROR_H
#define NOOK_UTIL_ERROR_H

#include <stddef.h>

#define NOOK_ERR_MSG_MAX 1024
#define NOOK_EXIT_ERROR 125

typedef struct nook_err
{
  int code;     /* errno value; EINVAL for invalid input without a syscall behind it */
  int status;   /* exit status for the CLI (125 unless set otherwise) */
  char msg[NOOK_ERR_MSG_MAX];
} nook_err;

/* Fill ERR; append ": strerror(errnum)" when errnum != 0.  Always returns -1. */
int nook_error (nook_err *err, int errnum, const char *fmt, ...) __attribute__ ((format (printf, 3, 4)));
/* Same, with errno EINVAL and no strerror text: for bad input (configs, arguments, references). */
int nook_error_input (nook_err *err, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));
/* Prepend "prefix: " to an already filled error.  Returns -1. */
int nook_error_prefix (nook_err *err, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));
/* Escape, in place in BUF (SIZE bytes, truncating), what a terminal would act on: control bytes (\n as
 * "\\n", others as "\\xNN"; a tab stays) and UTF-8 C1 controls.  Every message and warning goes through
 * it: input files and registries must not drive the user's terminal. */
void nook_escape_ctl (char *buf, size_t size);
/* Reset to "no error". */
void nook_err_clear (nook_err *err);
/* Print "PROG: MESSAGE\n" on stderr (or a JSON line when log-format is json, see util/log.h). */
void nook_err_print (const nook_err *err, const char *prog);

#endif
