/* Removal of a container's anonymous volumes. */
#include "manager/ctr_volumes.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "runtime/userns.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/strutil.h"

struct vol_job
{
  struct nook_store *s;
  json_t *names;
};

static bool
anon_name (const char *n)
{
  if (n == NULL || strlen (n) != 64)
    return false;
  for (const char *p = n; *p; p++)
    if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
      return false;
  return true;
}

static int
rm_volumes (void *ud, nook_err *err)
{
  struct vol_job *j = ud;
  size_t i;
  json_t *v;

  json_array_foreach (j->names, i, v)
    {
      const char *n = json_string_value (v);
      if (!anon_name (n))
        continue;
      cleanup_free char *rel = xasprintf ("volumes/%s", n);
      if (nook_rm_rf_at (j->s->dirfd, rel, err) < 0)
        return nook_error_prefix (err, "remove volume %s", n);
    }
  return 0;
}

int
nook_ctr_remove_anon_volumes (struct nook_store *s, json_t *record, nook_err *err)
{
  struct vol_job j = { .s = s, .names = json_object_get (json_object_get (record, "Nook"), "anonymous_volumes") };
  struct nook_idmap u1[1], g1[1];
  const struct nook_idmap *u = s->uidmap, *g = s->gidmap;
  size_t nu = s->n_uidmap, ng = s->n_gidmap;

  if (json_array_size (j.names) == 0)
    return 0;
  if (rm_volumes (&j, err) == 0)
    return 0;
  if (!s->rootless || (err->code != EACCES && err->code != EPERM))
    return -1;
  if (nu == 0 || ng == 0)
    {
      u1[0] = (struct nook_idmap){ .container_id = 0, .host_id = geteuid (), .size = 1 };
      g1[0] = (struct nook_idmap){ .container_id = 0, .host_id = getegid (), .size = 1 };
      u = u1, nu = 1, g = g1, ng = 1;
    }
  nook_err_clear (err);
  return nook_userns_run (u, nu, g, ng, false, rm_volumes, &j, err);
}
