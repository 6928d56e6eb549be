/* Resolve `exec --user` names inside the running container (see exec_user.h). */
#include "manager/exec_user.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/fs.h"
#include "util/strutil.h"

#define ENT_FILE_MAX (4 << 20)

static bool
numeric_id (const char *s, uint32_t *out)
{
  uint64_t v;
  if (!str_to_u64 (s, UINT32_MAX - 1, &v))
    return false;
  *out = (uint32_t) v;
  return true;
}

/* The text of FILE inside the root ROOTFD; NULL (no error) when it does not exist or cannot be read. */
static char *
root_file (int rootfd, const char *file)
{
  nook_err ignored = { 0 };
  cleanup_close int fd = nook_open_in_root (rootfd, file, O_RDONLY, 0, &ignored);
  char *text = NULL;
  size_t len;

  if (fd < 0 || nook_read_fd (fd, &text, &len, ENT_FILE_MAX, &ignored) < 0)
    return NULL;
  return text;
}

/* In passwd/group TEXT, the entry whose name is NAME (or whose id is ID when NAME is NULL): its id (field
 * 3) and, for passwd, its group (field 4).  Returns true when found. */
static bool
ent_lookup (const char *text, const char *name, uint32_t id, uint32_t *id_out, uint32_t *gid_out, bool *has_gid)
{
  cleanup_free char *copy = xstrdup (text ? text : "");
  char *save = NULL;

  for (char *line = strtok_r (copy, "\n", &save); line != NULL; line = strtok_r (NULL, "\n", &save))
    {
      char *f[4] = { NULL }, *p = line;
      uint32_t v;
      size_t n = 0;

      for (; n < 4 && p != NULL; n++)
        {
          f[n] = p;
          p = strchr (p, ':');
          if (p)
            *p++ = '\0';
        }
      if (n < 3 || line[0] == '#' || !numeric_id (f[2], &v))
        continue;
      if (name != NULL ? strcmp (f[0], name) != 0 : v != id)
        continue;
      *id_out = v;
      if (gid_out && n > 3 && numeric_id (f[3], gid_out))
        *has_gid = true;
      return true;
    }
  return false;
}

int
nook_exec_user_resolve (pid_t pid, const char *user, char **out, nook_err *err)
{
  cleanup_free char *u = xstrdup (user);
  cleanup_free char *root = xasprintf ("/proc/%d/root", (int) pid);
  cleanup_free char *passwd = NULL, *group = NULL;
  cleanup_close int rootfd = -1;
  char *grp = strchr (u, ':');
  uint32_t uid = 0, gid = 0, pw_gid = 0;
  bool has_gid = false;

  if (grp)
    *grp++ = '\0';
  rootfd = open (root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0)
    return nook_error (err, errno, "open `%s`", root);
  passwd = root_file (rootfd, "/etc/passwd");
  if (numeric_id (u, &uid))
    ent_lookup (passwd, NULL, uid, &uid, &pw_gid, &has_gid);
  else if (!ent_lookup (passwd, u, 0, &uid, &pw_gid, &has_gid))
    return nook_error_input (err, "unable to find user %s: no matching entries in passwd file", u);
  if (has_gid)
    gid = pw_gid;
  if (grp && *grp && !numeric_id (grp, &gid))
    {
      group = root_file (rootfd, "/etc/group");
      if (!ent_lookup (group, grp, 0, &gid, NULL, NULL))
        return nook_error_input (err, "unable to find group %s: no matching entries in group file", grp);
    }
  *out = xasprintf ("%u:%u", uid, gid);
  return 0;
}
