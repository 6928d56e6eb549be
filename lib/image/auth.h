/* Registry credentials files, containers-auth.json(5) format: {"auths": {"host": {"auth": base64(user:pass)}}}.
 * Lookup order: $REGISTRY_AUTH_FILE, $XDG_RUNTIME_DIR/containers/auth.json,
 * $XDG_CONFIG_HOME/containers/auth.json (~/.config/...), ~/.docker/config.json.
 * `login` writes to $REGISTRY_AUTH_FILE or $XDG_RUNTIME_DIR/containers/auth.json (else
 * ~/.config/containers/auth.json), atomically, mode 0600. */
#ifndef NOOK_IMAGE_AUTH_H
#define NOOK_IMAGE_AUTH_H

#include <stdbool.h>

#include "util/error.h"

/* Credentials for REGISTRY (host[:port]; "docker.io" also matches "https://index.docker.io/v1/").
 * Returns 1 and allocates *USER and *PASS when found, 0 when not, -1 on a broken file. */
int nook_auth_lookup (const char *registry, char **user, char **pass, nook_err *err);
/* AUTHFILE NULL: the default write location above. */
int nook_auth_store (const char *authfile, const char *registry, const char *user, const char *pass, nook_err *err);
/* Remove REGISTRY (or every entry when ALL).  Not logged in -> error "not logged into REGISTRY". */
int nook_auth_remove (const char *authfile, const char *registry, bool all, nook_err *err);
/* The file login/logout use. Allocated. */
char *nook_auth_default_file (void);

#endif
