/* Capabilities with the raw capget/capset syscalls (no libcap), and prctl for bounding and ambient. */
#include <errno.h>
#include <linux/capability.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>

#include "runtime/caps.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/strutil.h"
#include "util/syscalls.h"

struct cap_sets
{
  uint64_t effective, permitted, inheritable;
};

static const char *
cap_label (int cap, char *buf, size_t len)
{
  const char *name = nook_cap_name (cap);

  if (name != NULL)
    return name;
  snprintf (buf, len, "capability %d", cap);
  return buf;
}

static int
probe_last_cap (void)
{
  int cap = 0;

  while (cap < NOOK_CAP_MAX - 1 && prctl (PR_CAPBSET_READ, cap + 1, 0, 0, 0) >= 0)
    cap++;
  return cap;
}

int
nook_cap_last_cap (void)
{
  cleanup_free char *text = NULL;
  nook_err ignored;
  uint64_t value;
  size_t len;

  if (nook_read_file_at (AT_FDCWD, "/proc/sys/kernel/cap_last_cap", &text, &len, 64, &ignored) == 0)
    {
      if (len > 0 && text[len - 1] == '\n')
        text[len - 1] = '\0';
      if (str_to_u64 (text, NOOK_CAP_MAX - 1, &value))
        return (int) value;
    }
  return probe_last_cap ();
}

static int
caps_get (struct cap_sets *out, nook_err *err)
{
  struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
  struct __user_cap_data_struct data[2] = { 0 };

  if (sys_capget (&hdr, data) < 0)
    return nook_error (err, errno, "capget");
  out->effective = data[0].effective | ((uint64_t) data[1].effective << 32);
  out->permitted = data[0].permitted | ((uint64_t) data[1].permitted << 32);
  out->inheritable = data[0].inheritable | ((uint64_t) data[1].inheritable << 32);
  return 0;
}

static int
caps_set (const struct cap_sets *s, nook_err *err)
{
  struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
  struct __user_cap_data_struct data[2] = {
    { (uint32_t) s->effective, (uint32_t) s->permitted, (uint32_t) s->inheritable },
    { (uint32_t) (s->effective >> 32), (uint32_t) (s->permitted >> 32), (uint32_t) (s->inheritable >> 32) },
  };

  if (sys_capset (&hdr, data) < 0)
    return nook_error (err, errno, "capset (effective %#llx, permitted %#llx, inheritable %#llx)",
                       (unsigned long long) s->effective, (unsigned long long) s->permitted,
                       (unsigned long long) s->inheritable);
  return 0;
}

static int
drop_bounding (uint64_t keep, int last_cap, nook_err *err)
{
  char buf[32];

  for (int cap = 0; cap <= last_cap; cap++)
    {
      if (keep & (1ULL << cap))
        continue;
      int r = prctl (PR_CAPBSET_READ, cap, 0, 0, 0);
      if (r == 0 || (r < 0 && errno == EINVAL))
        continue; /* already dropped, or unknown to this kernel */
      if (prctl (PR_CAPBSET_DROP, cap, 0, 0, 0) < 0)
        return nook_error (err, errno, "prctl PR_CAPBSET_DROP %s", cap_label (cap, buf, sizeof (buf)));
    }
  return 0;
}

static int
set_ambient (uint64_t ambient, int last_cap, nook_err *err)
{
  char buf[32];

  if (prctl (PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
    {
      if (errno == EINVAL && ambient == 0)
        return 0; /* kernel without ambient capabilities */
      return nook_error (err, errno, "prctl PR_CAP_AMBIENT_CLEAR_ALL");
    }
  for (int cap = 0; cap <= last_cap; cap++)
    if ((ambient & (1ULL << cap)) && prctl (PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0)
      return nook_error (err, errno, "prctl PR_CAP_AMBIENT_RAISE %s", cap_label (cap, buf, sizeof (buf)));
  return 0;
}

int
nook_caps_apply (const struct nook_caps *caps, nook_err *err)
{
  static const struct nook_caps none = { 0 };
  int last_cap = nook_cap_last_cap ();
  uint64_t known = last_cap >= 63 ? ~0ULL : (1ULL << (last_cap + 1)) - 1;
  struct cap_sets cur = { 0 }, want;

  if (caps == NULL)
    caps = &none;
  if (caps_get (&cur, err) < 0)
    return -1;
  /* After setresuid() with KEEPCAPS the effective set is empty: raise it to what we hold so the
   * bounding drop below has CAP_SETPCAP (when we hold it at all). */
  if (cur.effective != cur.permitted)
    {
      cur.effective = cur.permitted;
      if (caps_set (&cur, err) < 0)
        return -1;
    }
  if (drop_bounding (caps->bounding, last_cap, err) < 0)
    return -1;
  want = (struct cap_sets){ .effective = caps->effective & known,
                            .permitted = caps->permitted & known,
                            .inheritable = caps->inheritable & known };
  if (caps_set (&want, err) < 0)
    return -1;
  /* The kernel only raises ambient caps that are permitted and inheritable; like crun, skip the others
   * instead of failing (crun's own `spec --rootless` lists ambient caps that are not inheritable). */
  return set_ambient (caps->ambient & want.inheritable & want.permitted, last_cap, err);
}
