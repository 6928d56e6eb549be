/* Compiled seccomp programs cached by content.  Compiling a podman-sized profile with libseccomp takes
 * ~10 ms, more than the rest of a container start; the same profile is used again and again. The cache
 * is private to the caller (mode 0700): /var/cache/nook/seccomp for root, $XDG_CACHE_HOME/nook/seccomp
 * (~/.cache/nook/seccomp) for users.  An entry holds the key (a canonical text of everything that goes
 * into the program: the profile, libseccomp's version and the kernel's architecture) and the program; it
 * is named by a 128-bit FNV-1a hash of the key and used only when the stored key is the same text, so a
 * hash collision costs a compilation, never a wrong filter (and no cryptographic hash is needed on the
 * runtime path). */
#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "runtime/security.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/strutil.h"

#define MAX_PROG (1 << 20)
#define MAX_KEY (4 << 20)

struct key
{
  char *text;
  size_t len, cap;
};

/* Each value and its terminating NUL: the text cannot be ambiguous. */
static void
add (struct key *k, const char *s)
{
  size_t n = strlen (s ? s : "-") + 1;

  if (k->len + n > k->cap)
    {
      k->cap = (k->len + n) * 2;
      k->text = xrealloc (k->text, k->cap);
    }
  memcpy (k->text + k->len, s ? s : "-", n);
  k->len += n;
}

static void
add_strv (struct key *k, char *const *v)
{
  for (size_t i = 0; v && v[i]; i++)
    add (k, v[i]);
  add (k, "|");
}

static void
add_u64 (struct key *k, uint64_t v)
{
  char buf[32];
  snprintf (buf, sizeof (buf), "%llu", (unsigned long long) v);
  add (k, buf);
}

static void
key_of (const struct nook_seccomp *s, struct key *k)
{
  const struct scmp_version *v = seccomp_version ();
  struct utsname u;

  uname (&u);
  add (k, "program-format-3"); /* 3: the key stored in the entry */
  add (k, u.machine);
  add_u64 (k, v ? v->major * 10000u + v->minor * 100u + v->micro : 0);
  add (k, s->default_action);
  add_u64 (k, s->has_default_errno_ret ? s->default_errno_ret + 1ull : 0);
  add_strv (k, s->architectures);
  add_strv (k, s->flags);
  for (size_t i = 0; i < s->n_rules; i++)
    {
      const struct nook_seccomp_rule *r = &s->rules[i];
      add_strv (k, r->names);
      add (k, r->action);
      add_u64 (k, r->has_errno_ret ? r->errno_ret + 1ull : 0);
      for (size_t a = 0; a < r->n_args; a++)
        {
          add_u64 (k, r->args[a].index);
          add_u64 (k, r->args[a].value);
          add_u64 (k, r->args[a].value_two);
          add (k, r->args[a].op);
        }
      add (k, "/rule");
    }
}

/* The entry's name: FNV-1a 64 over the key, twice with different offset bases (32 hex digits). */
static void
key_name (const struct key *k, char out[33])
{
  uint64_t h[2] = { 0xcbf29ce484222325ull, 0x84222325cbf29ce4ull };

  for (int j = 0; j < 2; j++)
    for (size_t i = 0; i < k->len; i++)
      h[j] = (h[j] ^ (unsigned char) k->text[i]) * 0x100000001b3ull;
  snprintf (out, 33, "%016llx%016llx", (unsigned long long) h[0], (unsigned long long) h[1]);
}

/* The file: 4 bytes of flags, 4 bytes of key length, the key, then the filter. */
static int
load (int dirfd, const char *name, const struct key *k, struct nook_seccomp_prog *out)
{
  cleanup_free char *data = NULL;
  size_t len = 0, n;
  uint32_t klen;
  nook_err ignored;

  if (nook_read_file_at (dirfd, name, &data, &len, MAX_PROG + MAX_KEY, &ignored) < 0 || len < 8)
    return -1;
  memcpy (&klen, data + 4, 4);
  if (klen != k->len || len - 8 < klen || memcmp (data + 8, k->text, klen) != 0)
    return -1;
  n = len - 8 - klen;
  if (n < sizeof (struct sock_filter) || n % sizeof (struct sock_filter) != 0 || n / sizeof (struct sock_filter) > 0xffff)
    return -1;
  memcpy (&out->flags, data, 4);
  out->len = (unsigned short) (n / sizeof (struct sock_filter));
  out->filter = xmalloc (n);
  memcpy (out->filter, data + 8 + klen, n);
  return 0;
}

static void
store (int dirfd, const char *name, const struct key *k, const struct nook_seccomp_prog *p)
{
  size_t n = (size_t) p->len * sizeof (struct sock_filter);
  cleanup_free char *data = xmalloc (8 + k->len + n);
  uint32_t klen = (uint32_t) k->len;
  nook_err ignored;

  memcpy (data, &p->flags, 4);
  memcpy (data + 4, &klen, 4);
  memcpy (data + 8, k->text, k->len);
  memcpy (data + 8 + k->len, p->filter, n);
  nook_write_file_atomic (dirfd, name, data, 8 + k->len + n, 0600, false, &ignored);
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
  cleanup_free char *text = NULL;
  struct key k = { 0 };
  char name[33];
  int ret;

  if (dir == NULL || nook_mkdir_p (dir, 0700, &ignored) < 0)
    return nook_seccomp_compile (s, out, err);
  dirfd = open (dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  /* Only a cache that is ours and private: nobody else may plant a filter in it. */
  if (dirfd >= 0 && (fstat (dirfd, &st) < 0 || st.st_uid != geteuid () || (st.st_mode & 0077) != 0))
    {
      close (dirfd);
      dirfd = -1;
    }
  key_of (s, &k);
  text = k.text;
  if (k.len > MAX_KEY)
    return nook_seccomp_compile (s, out, err);
  key_name (&k, name);
  if (dirfd >= 0 && load (dirfd, name, &k, out) == 0)
    return 0;
  ret = nook_seccomp_compile (s, out, err);
  if (ret == 0 && dirfd >= 0)
    store (dirfd, name, &k, out);
  return ret;
}
