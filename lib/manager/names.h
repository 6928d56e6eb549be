/* Podman/docker-style random container names "adjective_surname" (used by ctrstore.c). */
#ifndef NOOK_MANAGER_NAMES_H
#define NOOK_MANAGER_NAMES_H

/* A random name.  ATTEMPT counts earlier collisions: from the 10th on a random digit is appended
 * ("adjective_surname3"), as docker does, so a crowded store still finds a free name.  Allocated. */
char *nook_ctr_name_random (unsigned attempt);
/* Number of distinct names without a suffix (for tests). */
unsigned nook_ctr_name_space (void);

#endif
