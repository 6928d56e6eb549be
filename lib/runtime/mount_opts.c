/* config.json mount options -> mount(2) flags, propagation and the filesystem's data string. */
#include "runtime/rootfs.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>

#include "util/strutil.h"

#ifndef MS_NOSYMFOLLOW
#define MS_NOSYMFOLLOW 256
#endif
#ifndef MS_LAZYTIME
#define MS_LAZYTIME (1 << 25)
#endif

enum opt_kind
{
  OPT_SET,    /* set FLAG */
  OPT_CLEAR,  /* clear FLAG */
  OPT_PROP,   /* propagation */
  OPT_IGNORE, /* known, nothing for mount(2) to do */
};

struct opt
{
  const char *name;
  enum opt_kind kind;
  unsigned long flag;
};

/* The "r"-prefixed variants (runc's recursive attributes) set the same flags, and also mark them
 * recursive (see apply_opt): on an rbind they reach every submount, the plain ones only the top mount. */
static const struct opt opts_table[] = {
  { "defaults", OPT_IGNORE, 0 },
  { "ro", OPT_SET, MS_RDONLY },
  { "rro", OPT_SET, MS_RDONLY },
  { "rw", OPT_CLEAR, MS_RDONLY },
  { "rrw", OPT_CLEAR, MS_RDONLY },
  { "nosuid", OPT_SET, MS_NOSUID },
  { "rnosuid", OPT_SET, MS_NOSUID },
  { "suid", OPT_CLEAR, MS_NOSUID },
  { "rsuid", OPT_CLEAR, MS_NOSUID },
  { "nodev", OPT_SET, MS_NODEV },
  { "rnodev", OPT_SET, MS_NODEV },
  { "dev", OPT_CLEAR, MS_NODEV },
  { "rdev", OPT_CLEAR, MS_NODEV },
  { "noexec", OPT_SET, MS_NOEXEC },
  { "rnoexec", OPT_SET, MS_NOEXEC },
  { "exec", OPT_CLEAR, MS_NOEXEC },
  { "rexec", OPT_CLEAR, MS_NOEXEC },
  { "sync", OPT_SET, MS_SYNCHRONOUS },
  { "async", OPT_CLEAR, MS_SYNCHRONOUS },
  { "dirsync", OPT_SET, MS_DIRSYNC },
  { "remount", OPT_SET, MS_REMOUNT },
  { "mand", OPT_SET, MS_MANDLOCK },
  { "nomand", OPT_CLEAR, MS_MANDLOCK },
  { "noatime", OPT_SET, MS_NOATIME },
  { "rnoatime", OPT_SET, MS_NOATIME },
  { "atime", OPT_CLEAR, MS_NOATIME },
  { "ratime", OPT_CLEAR, MS_NOATIME },
  { "nodiratime", OPT_SET, MS_NODIRATIME },
  { "rnodiratime", OPT_SET, MS_NODIRATIME },
  { "diratime", OPT_CLEAR, MS_NODIRATIME },
  { "rdiratime", OPT_CLEAR, MS_NODIRATIME },
  { "relatime", OPT_SET, MS_RELATIME },
  { "rrelatime", OPT_SET, MS_RELATIME },
  { "norelatime", OPT_CLEAR, MS_RELATIME },
  { "rnorelatime", OPT_CLEAR, MS_RELATIME },
  { "strictatime", OPT_SET, MS_STRICTATIME },
  { "rstrictatime", OPT_SET, MS_STRICTATIME },
  { "nostrictatime", OPT_CLEAR, MS_STRICTATIME },
  { "rnostrictatime", OPT_CLEAR, MS_STRICTATIME },
  { "lazytime", OPT_SET, MS_LAZYTIME },
  { "nolazytime", OPT_CLEAR, MS_LAZYTIME },
  { "nosymfollow", OPT_SET, MS_NOSYMFOLLOW },
  { "rnosymfollow", OPT_SET, MS_NOSYMFOLLOW },
  { "symfollow", OPT_CLEAR, MS_NOSYMFOLLOW },
  { "rsymfollow", OPT_CLEAR, MS_NOSYMFOLLOW },
  { "silent", OPT_SET, MS_SILENT },
  { "loud", OPT_CLEAR, MS_SILENT },
  { "bind", OPT_SET, MS_BIND },
  { "rbind", OPT_SET, MS_BIND | MS_REC },
  { "private", OPT_PROP, MS_PRIVATE },
  { "rprivate", OPT_PROP, MS_PRIVATE | MS_REC },
  { "shared", OPT_PROP, MS_SHARED },
  { "rshared", OPT_PROP, MS_SHARED | MS_REC },
  { "slave", OPT_PROP, MS_SLAVE },
  { "rslave", OPT_PROP, MS_SLAVE | MS_REC },
  { "unbindable", OPT_PROP, MS_UNBINDABLE },
  { "runbindable", OPT_PROP, MS_UNBINDABLE | MS_REC },
  /* Extensions of podman/crun/runc that nook accepts and does not implement (tmpfs copy-up). */
  { "tmpcopyup", OPT_IGNORE, 0 },
  { "notmpcopyup", OPT_IGNORE, 0 },
  { "copy-symlink", OPT_IGNORE, 0 },
};

static const struct opt *
find_opt (const char *name)
{
  for (size_t i = 0; i < sizeof (opts_table) / sizeof (opts_table[0]); i++)
    if (strcmp (opts_table[i].name, name) == 0)
      return &opts_table[i];
  return NULL;
}

/* "idmap", "ridmap", "idmap=uids=...": the option's name, or NULL. */
static const char *
idmap_name (const char *o)
{
  static const char *const names[] = { "idmap", "ridmap" };
  for (size_t i = 0; i < 2; i++)
    {
      size_t n = strlen (names[i]);
      if (strncmp (o, names[i], n) == 0 && (o[n] == '\0' || o[n] == '='))
        return names[i];
    }
  return NULL;
}

static void
append_data (char **data, const char *o)
{
  if (*data == NULL)
    {
      *data = xstrdup (o);
      return;
    }
  char *joined = xasprintf ("%s,%s", *data, o);
  free (*data);
  *data = joined;
}

/* REC: the option is an "r"-prefixed attribute ("rro"), not "rbind" or a propagation. */
static void
apply_opt (const struct opt *t, bool rec, struct nook_mount_opts *out)
{
  switch (t->kind)
    {
    case OPT_SET:
      out->flags |= t->flag;
      out->clear &= ~t->flag;
      out->rec_clear &= ~t->flag;
      if (rec)
        out->rec_flags |= t->flag;
      break;
    case OPT_CLEAR:
      out->clear |= t->flag;
      out->flags &= ~t->flag;
      out->rec_flags &= ~t->flag;
      if (rec)
        out->rec_clear |= t->flag;
      break;
    case OPT_PROP:
      out->propagation = t->flag;
      break;
    case OPT_IGNORE:
      break;
    }
}

int
nook_mount_opts_parse (char *const *options, struct nook_mount_opts *out, nook_err *err)
{
  memset (out, 0, sizeof (*out));
  for (size_t i = 0; options != NULL && options[i] != NULL; i++)
    {
      const char *o = options[i];
      const struct opt *t;

      if (idmap_name (o) != NULL)
        {
          nook_mount_opts_free (out);
          return nook_error_input (err, "mount option `%s` is not supported", idmap_name (o));
        }
      if (str_has_prefix (o, "x-") || o[0] == '\0')
        continue;
      t = find_opt (o);
      if (t != NULL)
        apply_opt (t, o[0] == 'r' && t->kind != OPT_PROP && !(t->flag & MS_BIND) && find_opt (o + 1) != NULL, out);
      else
        append_data (&out->data, o);
    }
  return 0;
}

void
nook_mount_opts_free (struct nook_mount_opts *o)
{
  if (o == NULL)
    return;
  free (o->data);
  o->data = NULL;
}
