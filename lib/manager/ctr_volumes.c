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

  if (json_array_size (j.names) == 0)
    return 0;
  return nook_store_as_owner (s, rm_volumes, &j, err);
}
