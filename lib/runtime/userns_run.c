/* Sub-id ranges and running work inside a user namespace with the caller's full sub-id map. */
#include "runtime/userns.h"

#include <errno.h>
#include <pwd.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/sync.h"
#include "util/cleanup.h"
#include "util/proc.h"
#include "util/strutil.h"

int
nook_subid_lookup (const char *file, const char *user, uid_t uid, uint32_t *start, uint32_t *count, nook_err *err)
{
  cleanup_file FILE *f = fopen (file, "re");
  char line[512], uidstr[32];

  if (f == NULL)
    return errno == ENOENT ? 0 : nook_error (err, errno, "open `%s`", file);
  snprintf (uidstr, sizeof (uidstr), "%u", (unsigned) uid);
  while (fgets (line, sizeof (line), f))
    {
      char *name = strtok (line, ":\n"), *s = strtok (NULL, ":\n"), *c = strtok (NULL, ":\n");
      uint64_t vs, vc;
      if (name == NULL || s == NULL || c == NULL || name[0] == '#')
        continue;
      if (strcmp (name, uidstr) != 0 && (user == NULL || strcmp (name, user) != 0))
        continue;
      if (!str_to_u64 (s, UINT32_MAX, &vs) || !str_to_u64 (c, UINT32_MAX, &vc) || vc == 0)
        continue;
      *start = (uint32_t) vs;
      *count = (uint32_t) vc;
      return 1;
    }
  return 0;
}

size_t
nook_idmap_rootless (uint32_t id, uint32_t start, uint32_t count, struct nook_idmap out[2])
{
  out[0] = (struct nook_idmap){ .container_id = 0, .host_id = id, .size = 1 };
  if (count == 0)
    return 1;
  out[1] = (struct nook_idmap){ .container_id = 1, .host_id = start, .size = count };
  return 2;
}

int
nook_idmap_for_caller (struct nook_idmap u[2], size_t *nu, struct nook_idmap g[2], size_t *ng, nook_err *err)
{
  struct passwd *pw = getpwuid (geteuid ());
  const char *name = pw ? pw->pw_name : NULL;
  uint32_t s = 0, c = 0;
  int r;

  r = nook_subid_lookup ("/etc/subuid", name, geteuid (), &s, &c, err);
  if (r < 0)
    return -1;
  *nu = nook_idmap_rootless (geteuid (), s, r ? c : 0, u);
  s = c = 0;
  r = nook_subid_lookup ("/etc/subgid", name, geteuid (), &s, &c, err);
  if (r < 0)
    return -1;
  *ng = nook_idmap_rootless (getegid (), s, r ? c : 0, g);
  return 0;
}

struct userns_job
{
  int sock;
  bool new_mountns;
  int (*fn) (void *ud, nook_err *err);
  void *ud;
};

__attribute__ ((noreturn)) static void
userns_child (struct userns_job *j)
{
  nook_err err = { 0 };
  struct nook_sync_msg msg;
  int flags = CLONE_NEWUSER | (j->new_mountns ? CLONE_NEWNS : 0);

  if (unshare (flags) < 0)
    nook_error (&err, errno, "unshare user namespace");
  else if (nook_sync_send (j->sock, NOOK_SYNC_MAP_REQUEST, 0, &err) == 0
           && nook_sync_expect (j->sock, NOOK_SYNC_MAPPED, &msg, &err) == 0)
    {
      if (setresgid (0, 0, 0) < 0 || setresuid (0, 0, 0) < 0)
        nook_error (&err, errno, "become root in the user namespace");
      else if (j->fn (j->ud, &err) == 0)
        _exit (0);
    }
  nook_sync_send_error (j->sock, &err);
  _exit (NOOK_EXIT_ERROR);
}

int
nook_userns_run (const struct nook_idmap *u, size_t nu, const struct nook_idmap *g, size_t ng, bool new_mountns,
                 int (*fn) (void *ud, nook_err *err), void *ud, nook_err *err)
{
  struct userns_job j = { .new_mountns = new_mountns, .fn = fn, .ud = ud };
  struct nook_sync_msg msg;
  nook_err e = { 0 };
  int sv[2], status, ret = -1;
  pid_t pid;

  if (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
    return nook_error (err, errno, "socketpair");
  j.sock = sv[1];
  pid = fork ();
  if (pid < 0)
    {
      close (sv[0]);
      close (sv[1]);
      return nook_error (err, errno, "fork");
    }
  if (pid == 0)
    {
      prctl (PR_SET_PDEATHSIG, SIGKILL);
      close (sv[0]);
      userns_child (&j);
    }
  close (sv[1]);
  if (nook_sync_expect (sv[0], NOOK_SYNC_MAP_REQUEST, &msg, err) < 0
      || nook_idmap_write_maps (pid, u, nu, g, ng, nook_idmap_method_for (u, nu, g, ng, geteuid (), getegid ()), err) < 0
      || nook_sync_send (sv[0], NOOK_SYNC_MAPPED, 0, err) < 0)
    kill (pid, SIGKILL);
  else if (nook_sync_recv (sv[0], &msg, &e) < 0 && e.code != EPIPE)
    *err = e; /* the job's own failure */
  else
    ret = 0;
  close (sv[0]);
  while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
    ;
  if (ret == 0 && !(WIFEXITED (status) && WEXITSTATUS (status) == 0))
    ret = nook_error_input (err, "user namespace helper exited with status %d", nook_exit_status (status));
  return ret;
}
