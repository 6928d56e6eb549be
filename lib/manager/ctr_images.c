/* Images and layers in use by containers. */
#include "manager/ctr_images.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "manager/ctrstore.h"
#include "util/cleanup.h"
#include "util/strutil.h"

int
nook_ctr_users_of_image (struct nook_store *s, const char *image_id, char ***ctr_ids, nook_err *err)
{
  cleanup_strv char **ids = NULL;
  char **out;
  size_t n = 0;

  if (nook_ctr_list (s, &ids, err) < 0)
    return -1;
  out = xcalloc (strv_len (ids) + 1, sizeof (char *));
  for (size_t i = 0; ids[i] != NULL; i++)
    {
      json_t *r = NULL;
      nook_err ignored;
      if (nook_ctr_read (s, ids[i], &r, &ignored) < 0)
        continue;
      const char *img = json_string_value (json_object_get (r, "Image"));
      if (img != NULL && strcmp (img, image_id) == 0)
        out[n++] = xstrdup (ids[i]);
      json_decref (r);
    }
  *ctr_ids = out;
  return 0;
}

bool
nook_image_in_use (struct nook_store *s, const char *image_id)
{
  cleanup_strv char **layers = NULL, **images = NULL;
  nook_err ignored;

  if (nook_ctr_in_use (s, &layers, &images, &ignored) < 0)
    return true;
  for (size_t i = 0; images[i] != NULL; i++)
    if (strcmp (images[i], image_id) == 0)
      return true;
  return false;
}

int
nook_err_image_in_use (nook_err *err, const char *ctr_id)
{
  nook_error_input (err,
                    "image used by %s: image is in use by a container: consider listing external containers and "
                    "force-removing image",
                    ctr_id);
  err->code = EBUSY;
  err->status = 2;
  return -1;
}

int
nook_store_gc_containers (struct nook_store *s, nook_err *err)
{
  cleanup_strv char **layers = NULL, **images = NULL;

  if (nook_ctr_in_use (s, &layers, &images, err) < 0)
    return -1;
  return nook_store_gc (s, layers, err);
}
