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

/* The text of FILE inside the root ROOTFD; NULL (no error) when it does not exist, is not a regular file
 * (a FIFO must not hang us) or cannot be read.  A NUL byte does not end the text: it becomes DEL, which no
 * name matches, so the entries after it still count. */
static char *
root_file (int rootfd, const char *file)
{
  nook_err ignored = { 0 };
  char *text = NULL;
  size_t len;

  if (nook_read_in_root (rootfd, file, &text, &len, ENT_FILE_MAX, &ignored) < 0)
    return NULL;
  for (char *p = memchr (text, '\0', len); p != NULL; p = memchr (p, '\0', len - (size_t) (p - text)))
    *p = '\x7f';
  return text;
}

/* Split LINE (modified) at ':' into at most N fields; returns the count. */
static size_t
split_fields (char *line, char **f, size_t n)
{
  size_t i = 0;
  for (char *p = line; i < n && p != NULL; i++)
    {
      f[i] = p;
      p = strchr (p, ':');
      if (p)
        *p++ = '\0';
    }
  return i;
}

/* In passwd/group TEXT, the entry whose name is NAME (or whose id is ID when NAME is NULL): its id (field
 * 3), for passwd its group (field 4) and name (allocated in *NAME_OUT).  Returns true when found. */
static bool
ent_lookup (const char *text, const char *name, uint32_t id, uint32_t *id_out, uint32_t *gid_out, bool *has_gid,
            char **name_out)
{
  cleanup_free char *copy = xstrdup (text ? text : "");
  char *save = NULL;

  for (char *line = strtok_r (copy, "\n", &save); line != NULL; line = strtok_r (NULL, "\n", &save))
    {
      char *f[4] = { NULL };
      uint32_t v;
      size_t n = split_fields (line, f, 4);

      if (n < 3 || line[0] == '#' || !numeric_id (f[2], &v))
        continue;
      if (name != NULL ? strcmp (f[0], name) != 0 : v != id)
        continue;
      *id_out = v;
      if (gid_out && n > 3 && numeric_id (f[3], gid_out))
        *has_gid = true;
      if (name_out)
        *name_out = xstrdup (f[0]);
      return true;
    }
  return false;
}

static void
gids_add (struct nook_exec_user *u, uint32_t gid)
{
  for (size_t i = 0; i < u->n_gids; i++)
    if (u->gids[i] == (gid_t) gid)
      return;
  u->gids = xrealloc (u->gids, (u->n_gids + 1) * sizeof (gid_t));
  u->gids[u->n_gids++] = (gid_t) gid;
}

/* Every group of TEXT whose member list names USER. */
static void
member_groups (const char *text, const char *user, struct nook_exec_user *u)
{
  cleanup_free char *copy = xstrdup (text ? text : "");
  char *save = NULL;

  for (char *line = strtok_r (copy, "\n", &save); line != NULL; line = strtok_r (NULL, "\n", &save))
    {
      char *f[4] = { NULL }, *msave = NULL;
      uint32_t gid;

      if (line[0] == '#' || split_fields (line, f, 4) < 4 || !numeric_id (f[2], &gid))
        continue;
      for (char *m = strtok_r (f[3], ",", &msave); m != NULL; m = strtok_r (NULL, ",", &msave))
        if (strcmp (m, user) == 0)
          gids_add (u, gid);
    }
}

static int
cmp_gid (const void *a, const void *b)
{
  gid_t x = *(const gid_t *) a, y = *(const gid_t *) b;
  return x < y ? -1 : x > y;
}

static int
group_id (const char *group, const char *name, uint32_t *gid, nook_err *err)
{
  if (numeric_id (name, gid) || ent_lookup (group, name, 0, gid, NULL, NULL, NULL))
    return 0;
  return nook_error_input (err, "unable to find group %s: no matching entries in group file", name);
}

static int
resolve (int rootfd, char *u, char *const *group_add, struct nook_exec_user *out, nook_err *err)
{
  cleanup_free char *passwd = root_file (rootfd, "/etc/passwd");
  cleanup_free char *group = root_file (rootfd, "/etc/group");
  cleanup_free char *name = NULL;
  char *grp = strchr (u, ':');
  uint32_t pw_gid = 0;
  bool has_gid = false;

  if (grp)
    *grp++ = '\0';
  if (numeric_id (u, &out->uid))
    ent_lookup (passwd, NULL, out->uid, &out->uid, &pw_gid, &has_gid, &name);
  else if (!ent_lookup (passwd, u, 0, &out->uid, &pw_gid, &has_gid, &name))
    return nook_error_input (err, "unable to find user %s: no matching entries in passwd file", u);
  out->gid = has_gid ? pw_gid : 0;
  if (grp && *grp && group_id (group, grp, &out->gid, err) < 0)
    return -1;
  gids_add (out, out->gid);
  if ((grp == NULL || *grp == '\0') && name != NULL)
    member_groups (group, name, out);
  for (size_t i = 0; group_add != NULL && group_add[i] != NULL; i++)
    {
      uint32_t gid;
      if (strcmp (group_add[i], "keep-groups") == 0)
        continue;
      if (group_id (group, group_add[i], &gid, err) < 0)
        return nook_error_prefix (err, "--group-add");
      gids_add (out, gid);
    }
  qsort (out->gids, out->n_gids, sizeof (gid_t), cmp_gid);
  return 0;
}

int
nook_exec_user_resolve (pid_t pid, const char *user, char *const *group_add, struct nook_exec_user *out,
                        nook_err *err)
{
  cleanup_free char *u = xstrdup (user);
  cleanup_free char *root = xasprintf ("/proc/%d/root", (int) pid);
  cleanup_close int rootfd = -1;

  *out = (struct nook_exec_user){ 0 };
  rootfd = open (root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0)
    return nook_error (err, errno, "open `%s`", root);
  if (resolve (rootfd, u, group_add, out, err) < 0)
    {
      free (out->gids);
      *out = (struct nook_exec_user){ 0 };
      return -1;
    }
  return 0;
}
