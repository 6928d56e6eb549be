/* `exec --user NAME[:GROUP]`: the runtime takes numeric ids, the names are looked up in the running
 * container's own /etc/passwd and /etc/group (as runc's GetExecUser: a numeric user need not exist; a
 * user without a group gets its passwd group, else 0). */
#ifndef NOOK_MANAGER_EXEC_USER_H
#define NOOK_MANAGER_EXEC_USER_H

#include <sys/types.h>

#include "util/error.h"

/* USER for the container whose init is PID -> "UID:GID" (allocated) in *OUT. */
int nook_exec_user_resolve (pid_t pid, const char *user, char **out, nook_err *err);

#endif
