/* Scope-bound ownership: __attribute__((cleanup)) helpers and the steal macros that move ownership out. */
#ifndef NOOK_UTIL_CLEANUP_H
#define NOOK_UTIL_CLEANUP_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>

#define _cleanup_(f) __attribute__ ((cleanup (f)))

void nook_freep (void *p);        /* free (*(void **) p) */
void nook_closep (int *fd);       /* close when >= 0 */
void nook_closedirp (DIR **d);
void nook_fclosep (FILE **f);
void nook_strvfreep (char ***v);  /* NULL-terminated string vector */
void nook_killpidp (pid_t *pid);  /* SIGKILL + waitpid when > 0: a child that must not outlive its scope */

#define cleanup_free _cleanup_ (nook_freep)
#define cleanup_close _cleanup_ (nook_closep)
#define cleanup_dir _cleanup_ (nook_closedirp)
#define cleanup_file _cleanup_ (nook_fclosep)
#define cleanup_strv _cleanup_ (nook_strvfreep)
#define cleanup_pid _cleanup_ (nook_killpidp)

/* Move ownership out of a cleanup variable. */
#define steal_pointer(pp)                                                                                 \
  ({                                                                                                      \
    __typeof__ (*(pp)) _stolen = *(pp);                                                                   \
    *(pp) = NULL;                                                                                         \
    _stolen;                                                                                              \
  })
#define steal_fd(fdp)                                                                                     \
  ({                                                                                                      \
    int _stolen_fd = *(fdp);                                                                              \
    *(fdp) = -1;                                                                                          \
    _stolen_fd;                                                                                           \
  })
#define steal_pid(pp)                                                                                     \
  ({                                                                                                      \
    pid_t _stolen_pid = *(pp);                                                                            \
    *(pp) = 0;                                                                                            \
    _stolen_pid;                                                                                          \
  })

#endif
