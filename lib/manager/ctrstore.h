/* Containers in the store (the manager's records; the runtime keeps its own state under the runroot).
 *
 *   STORE/containers.json            index: [{"id","name","image","layers":[diff_ids]}], changed under the
 *                                    store lock; names are unique
 *   STORE/containers/<id>/record.json  the container as `nook inspect` shows it (podman's shape: Id, Name,
 *                                    Created, Image, ImageName, Config, HostConfig, Mounts, State, ...),
 *                                    plus a "Nook" object for the manager's own fields; replaced atomically
 *                                    under the container's lock
 *   STORE/containers/<id>/config.json  the OCI runtime spec
 *   STORE/containers/<id>/{upper,work,merged}/  the overlay rootfs (upper owned by the container's root)
 *   STORE/containers/<id>/userdata/  hosts, hostname, resolv.conf, .containerenv, ctr.log, exit
 * IDs are 64 random hex digits; names default to podman-style "adjective_surname". */
#ifndef NOOK_MANAGER_CTRSTORE_H
#define NOOK_MANAGER_CTRSTORE_H

#include <jansson.h>

#include "store/store.h"
#include "util/error.h"

/* Reserve a new container: id, name (NAME or generated; a taken name is an error podman-worded:
 * "the container name \"x\" is already in use by ID. You have to remove that container to be able to
 * reuse that name: that name is already in use"), the directory tree.  LAYERS: the image's diff_ids. */
int nook_ctr_new (struct nook_store *s, const char *name, const char *image_id, char *const *layers, char **id,
                  char **name_out, nook_err *err);
/* Name, full id or unique id prefix -> id.  Missing: ENOENT "no container with name or ID \"X\" found: no
 * such container". */
/* 64 random hex digits (container and exec session ids) into OUT[65]. */
int nook_ctr_random_id (char out[65], nook_err *err);
int nook_ctr_find (struct nook_store *s, const char *name_or_id, char **id, nook_err *err);
int nook_ctr_read (struct nook_store *s, const char *id, json_t **record, nook_err *err);
int nook_ctr_write (struct nook_store *s, const char *id, json_t *record, nook_err *err);
/* Exclusive lock of one container (closing the fd unlocks). */
int nook_ctr_lock (struct nook_store *s, const char *id, nook_err *err);
/* Remove the directory (in the user namespace when rootless) and the index entry. */
int nook_ctr_delete (struct nook_store *s, const char *id, nook_err *err);
/* All ids, oldest first. */
int nook_ctr_list (struct nook_store *s, char ***ids, nook_err *err);
int nook_ctr_rename (struct nook_store *s, const char *id, const char *new_name, nook_err *err);
/* "STORE/containers/<id>" (allocated). */
char *nook_ctr_dir (struct nook_store *s, const char *id);
/* diff_ids and image ids that containers use (for rmi and gc). */
int nook_ctr_in_use (struct nook_store *s, char ***layers, char ***images, nook_err *err);

#endif
