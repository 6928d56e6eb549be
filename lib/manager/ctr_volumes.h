/* A container's anonymous volumes: created by the spec generator (64-hex random names under
 * STORE/volumes, listed in the record's Nook.anonymous_volumes), removed with the container by
 * `rm -v` and `--rm`.  Named volumes are never removed here. */
#ifndef NOOK_MANAGER_CTR_VOLUMES_H
#define NOOK_MANAGER_CTR_VOLUMES_H

#include <jansson.h>

#include "store/store.h"
#include "util/error.h"

/* Remove STORE/volumes/<name> for every name in RECORD's Nook.anonymous_volumes (rootless: in the user
 * namespace with the store's maps, as the files may belong to sub-ids).  Missing volumes are fine. */
int nook_ctr_remove_anon_volumes (struct nook_store *s, json_t *record, nook_err *err);

#endif
