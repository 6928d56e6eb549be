/* registries.conf (v2 TOML subset): $XDG_CONFIG_HOME/containers/registries.conf (~/.config/...) when it
 * exists, else /etc/containers/registries.conf.  Understood: [[registry]] tables with location, insecure,
 * blocked, prefix; the v1 form [registries.insecure] registries = [...] and [registries.block];
 * unqualified-search-registries (kept, unused: short names resolve to docker.io like docker). */
#ifndef NOOK_IMAGE_REGCONF_H
#define NOOK_IMAGE_REGCONF_H

#include <stdbool.h>

#include "util/error.h"

struct nook_regconf_entry
{
  char *prefix;     /* "host[:port][/path]" matched against "domain/path" */
  char *location;
  bool insecure;
  bool blocked;
};

struct nook_regconf
{
  struct nook_regconf_entry *entries;
  size_t n;
  char **search;    /* unqualified-search-registries */
};

/* PATH NULL: the default search above.  A missing file is an empty config. */
int nook_regconf_load (const char *path, struct nook_regconf **out, nook_err *err);
/* Parse TEXT (for tests). */
int nook_regconf_parse (const char *text, struct nook_regconf **out, nook_err *err);
void nook_regconf_free (struct nook_regconf *c);
/* The longest-prefix entry for DOMAIN/PATH, or NULL. */
const struct nook_regconf_entry *nook_regconf_find (const struct nook_regconf *c, const char *domain,
                                                    const char *path);

#endif
