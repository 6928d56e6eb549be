/* Compiled seccomp programs cached by content.  Compiling a podman-sized profile with libseccomp takes
 * ~10 ms, more than the rest of a container start; the same profile is used again and again. The cache
 * is private to the caller (mode 0700): /var/cache/nook/seccomp for root, $XDG_CACHE_HOME/nook/seccomp
 * (~/.cache/nook/seccomp) for users; entries are keyed by the sha256 of everything that goes into the
 * program: the profile, libseccomp's version and the kernel's architecture. */
#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "image/digest.h"
#include "runtime/security.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/strutil.h"

#define MAX_PROG (1 << 20)

static void
add (struct nook_sha256 *h, const char *s)
{
  nook_sha256_update (h, s ? s : "-", strlen (s ? s : "-") + 1);
}

static void
add_strv (struct nook_sha256 *h, char *const *v)
{
  for (size_t i = 0; v && v[i]; i++)
    add (h, v[i]);
  add (h, "|");
}

static void
add_u64 (struct nook_sha256 *h, uint64_t v)
{
  char buf[32];
  snprintf (buf, sizeof (buf), "%llu", (unsigned long long) v);
  add (h, buf);
}

static void
key_of (const struct nook_seccomp *s, char out[72])
{
  struct nook_sha256 *h = nook_sha256_new ();
  const struct scmp_version *v = seccomp_version ();
  struct utsname u;

  uname (&u);
  add (h, "program-format-2"); /* 2: with the -ENOSYS stub (seccomp.c) */
  add (h, u.machine);
  add_u64 (h, v ? v->major * 10000u + v->minor * 100u + v->micro : 0);
  add (h, s->default_action);
  add_u64 (h, s->has_default_errno_ret ? s->default_errno_ret + 1ull : 0);
  add_strv (h, s->architectures);
  add_strv (h, s->flags);
  for (size_t i = 0; i < s->n_rules; i++)
    {
      const struct nook_seccomp_rule *r = &s->rules[i];
      add_strv (h, r->names);
      add (h, r->action);
      add_u64 (h, r->has_errno_ret ? r->errno_ret + 1ull : 0);
      for (size_t k = 0; k < r->n_args; k++)
        {
          add_u64 (h, r->args[k].index);
          add_u64 (h, r->args[k].value);
          add_u64 (h, r->args[k].value_two);
          add (h, r->args[k].op);
        }
      add (h, "/rule");
    }
  nook_sha256_final (h, out);
  nook_sha256_free (h);
}

/* The file: 4 bytes of flags, then the filter. */
static int
load (int dirfd, const char *name, struct nook_seccomp_prog *out)
{
  cleanup_free char *data = NULL;
  size_t len = 0;
  nook_err ignored;

  if (nook_read_file_at (dirfd, name, &data, &len, MAX_PROG, &ignored) < 0 || len < 4 + sizeof (struct sock_filter)
      || (len - 4) % sizeof (struct sock_filter) != 0 || (len - 4) / sizeof (struct sock_filter) > 0xffff)
    return -1;
  memcpy (&out->flags, data, 4);
  out->len = (unsigned short) ((len - 4) / sizeof (struct sock_filter));
  out->filter = xmalloc (len - 4);
  memcpy (out->filter, data + 4, len - 4);
  return 0;
}

static void
store (int dirfd, const char *name, const struct nook_seccomp_prog *p)
{
  size_t n = (size_t) p->len * sizeof (struct sock_filter);
  cleanup_free char *data = xmalloc (n + 4);
  nook_err ignored;

  memcpy (data, &p->flags, 4);
  memcpy (data + 4, p->filter, n);
  nook_write_file_atomic (dirfd, name, data, n + 4, 0600, false, &ignored);
}

static char *
cache_dir (void)
{
  const char *xdg = getenv ("XDG_CACHE_HOME"), *home = getenv ("HOME");

  if (geteuid () == 0)
    return xstrdup ("/var/cache/nook/seccomp");
  if (xdg && *xdg == '/')
    return xasprintf ("%s/nook/seccomp", xdg);
  if (home && *home == '/')
    return xasprintf ("%s/.cache/nook/seccomp", home);
  return NULL;
}

int
nook_seccomp_compile_cached (const struct nook_seccomp *s, struct nook_seccomp_prog *out, nook_err *err)
{
  cleanup_free char *dir = cache_dir ();
  cleanup_close int dirfd = -1;
  nook_err ignored;
  struct stat st;
  char key[72];

  if (dir == NULL || nook_mkdir_p (dir, 0700, &ignored) < 0)
    return nook_seccomp_compile (s, out, err);
  dirfd = open (dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  /* Only a cache that is ours and private: nobody else may plant a filter in it. */
  if (dirfd >= 0 && (fstat (dirfd, &st) < 0 || st.st_uid != geteuid () || (st.st_mode & 0077) != 0))
    {
      close (dirfd);
      dirfd = -1;
    }
  key_of (s, key);
  if (dirfd >= 0 && load (dirfd, key + 7, out) == 0)
    return 0;
  if (nook_seccomp_compile (s, out, err) < 0)
    return -1;
  if (dirfd >= 0)
    store (dirfd, key + 7, out);
  return 0;
}
