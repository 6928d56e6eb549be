/* linux.sysctl validation, exported for unit tests (nook_linux_setup in security.h uses it). */
#ifndef NOOK_RUNTIME_LINUX_H
#define NOOK_RUNTIME_LINUX_H

#include <stdbool.h>

#include "util/error.h"

/* Check one linux.sysctl entry: KEY made of [A-Za-z0-9._-] without "..", empty components or '/', and in
 * the set of namespaced sysctls (IPC ones need NEW_IPC, net.* needs NEW_NET, kernel.hostname/domainname
 * need NEW_UTS); VALUE without a newline.  0 when allowed; -1 with ERR naming the key and the reason. */
int nook_sysctl_check (const char *key, const char *value, bool new_uts, bool new_net, bool new_ipc, nook_err *err);

#endif
