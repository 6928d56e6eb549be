/* Internal to lib/manager/lifecycle*.c. */
#ifndef NOOK_MANAGER_LIFECYCLE_INTERNAL_H
#define NOOK_MANAGER_LIFECYCLE_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>

#include "manager/lifecycle.h"
#include "runtime/container.h"

bool nook_ctr_is_running (json_t *record);
/* Attach to an already running container (start -a on a running one). */
int nook_ctr_attach_running (struct nook_mgr *m, const char *id, json_t *record, bool interactive, int *exit_code,
                             nook_err *err);
/* The pid of the container's monitor from its record (0: none). */
pid_t nook_ctr_monitor_pid (struct nook_mgr *m, const char *id);
/* Wait (at most MS milliseconds) for the monitor PID to finish its work (exit record, --rm removal). */
void nook_ctr_wait_monitor (pid_t pid, int ms);
/* The runtime context for the manager's containers. */
struct nook_runtime_ctx nook_mgr_runtime (const struct nook_mgr *m);

#endif
