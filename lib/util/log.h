/* Runtime logging: --log FILE, --log-format text|json, --debug (runc's flags). */
#ifndef NOOK_UTIL_LOG_H
#define NOOK_UTIL_LOG_H

#include <stdbool.h>

struct nook_log_cfg
{
  int fd;        /* -1: stderr */
  bool json;     /* --log-format json */
  bool debug;    /* --debug */
};

/* The CLI configures logging once; library code only calls the functions below. */
void nook_log_setup (const struct nook_log_cfg *cfg);
void nook_warn (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));
void nook_debug (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));
/* Used by nook_err_print(): write one error line to the log (and stderr). */
void nook_log_error (const char *msg);

#endif
