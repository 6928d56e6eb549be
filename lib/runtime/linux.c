/* In the container's init, once its namespaces exist: hostname, domainname and linux.sysctl. */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/linux.h"
#include "runtime/security.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/strutil.h"

/* IPC sysctls that belong to the IPC namespace (besides fs.mqueue.*). */
static const char *const ipc_sysctls[] = {
  "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem", "kernel.shmall",
  "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced", NULL,
};

static bool
key_char_ok (char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_'
         || c == '-';
}

static int
check_key_syntax (const char *key, nook_err *err)
{
  size_t len = strlen (key);

  if (len == 0)
    return nook_error_input (err, "linux.sysctl: empty key");
  for (const char *p = key; *p != '\0'; p++)
    if (!key_char_ok (*p))
      {
        if (*p == '/')
          return nook_error_input (err, "linux.sysctl `%s`: the key must not contain `/`", key);
        return nook_error_input (err, "linux.sysctl `%s`: invalid character %#x in the key", key,
                                 (unsigned char) *p);
      }
  if (strstr (key, "..") != NULL || key[0] == '.' || key[len - 1] == '.')
    return nook_error_input (err, "linux.sysctl `%s`: the key has an empty component or `..`", key);
  return 0;
}

static bool
is_ipc_sysctl (const char *key)
{
  for (size_t i = 0; ipc_sysctls[i] != NULL; i++)
    if (strcmp (key, ipc_sysctls[i]) == 0)
      return true;
  return str_has_prefix (key, "fs.mqueue.");
}

static int
check_key_namespace (const char *key, bool new_uts, bool new_net, bool new_ipc, nook_err *err)
{
  if (is_ipc_sysctl (key))
    {
      if (!new_ipc)
        return nook_error_input (err, "linux.sysctl `%s`: requires a new IPC namespace", key);
      return 0;
    }
  if (str_has_prefix (key, "net."))
    {
      if (!new_net)
        return nook_error_input (err, "linux.sysctl `%s`: requires the container's own network namespace", key);
      return 0;
    }
  if (strcmp (key, "kernel.hostname") == 0 || strcmp (key, "kernel.domainname") == 0)
    {
      if (!new_uts)
        return nook_error_input (err, "linux.sysctl `%s`: requires a new UTS namespace", key);
      return 0;
    }
  return nook_error_input (err, "linux.sysctl `%s`: not a namespaced sysctl", key);
}

int
nook_sysctl_check (const char *key, const char *value, bool new_uts, bool new_net, bool new_ipc, nook_err *err)
{
  if (key == NULL || value == NULL)
    return nook_error_input (err, "linux.sysctl: missing key or value");
  if (check_key_syntax (key, err) < 0)
    return -1;
  if (check_key_namespace (key, new_uts, new_net, new_ipc, err) < 0)
    return -1;
  /* procfs may parse a second value after a newline */
  if (strchr (value, '\n') != NULL)
    return nook_error_input (err, "linux.sysctl `%s`: the value must not contain a newline", key);
  return 0;
}

static int
write_sysctl (int procsys, const char *key, const char *value, nook_err *err)
{
  cleanup_free char *path = xstrdup (key);

  for (char *p = path; *p != '\0'; p++)
    if (*p == '.')
      *p = '/';
  if (nook_write_file_at (procsys, path, value, strlen (value), err) < 0)
    return nook_error_prefix (err, "linux.sysctl `%s`", key);
  return 0;
}

static int
set_sysctls (const struct nook_spec *spec, bool new_uts, bool new_net, bool new_ipc, nook_err *err)
{
  cleanup_close int procsys = -1;

  if (spec->n_sysctl == 0)
    return 0;
  for (size_t i = 0; i < spec->n_sysctl; i++)
    if (nook_sysctl_check (spec->sysctl[i].key, spec->sysctl[i].value, new_uts, new_net, new_ipc, err) < 0)
      return -1;
  procsys = open ("/proc/sys", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (procsys < 0)
    return nook_error (err, errno, "open `/proc/sys`");
  for (size_t i = 0; i < spec->n_sysctl; i++)
    if (write_sysctl (procsys, spec->sysctl[i].key, spec->sysctl[i].value, err) < 0)
      return -1;
  return 0;
}

static int
set_names (const struct nook_spec *spec, bool new_uts, nook_err *err)
{
  if ((spec->hostname != NULL || spec->domainname != NULL) && !new_uts)
    return nook_error_input (err, "%s: cannot be set without a private UTS namespace",
                             spec->hostname != NULL ? "hostname" : "domainname");
  if (spec->hostname != NULL && sethostname (spec->hostname, strlen (spec->hostname)) < 0)
    return nook_error (err, errno, "sethostname `%s`", spec->hostname);
  if (spec->domainname != NULL && setdomainname (spec->domainname, strlen (spec->domainname)) < 0)
    return nook_error (err, errno, "setdomainname `%s`", spec->domainname);
  return 0;
}

/* A new network namespace starts with lo down; containers expect it up (as crun and runc do). */
static int
loopback_up (nook_err *err)
{
  struct ifreq ifr = { 0 };
  cleanup_close int fd = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

  if (fd < 0)
    return nook_error (err, errno, "socket for the loopback interface");
  strcpy (ifr.ifr_name, "lo");
  if (ioctl (fd, SIOCGIFFLAGS, &ifr) < 0)
    return nook_error (err, errno, "get the flags of `lo`");
  if (ifr.ifr_flags & IFF_UP)
    return 0;
  ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
  if (ioctl (fd, SIOCSIFFLAGS, &ifr) < 0)
    return nook_error (err, errno, "bring `lo` up");
  return 0;
}

int
nook_linux_setup (const struct nook_spec *spec, bool new_uts, bool new_net, bool new_ipc, nook_err *err)
{
  if (set_names (spec, new_uts, err) < 0)
    return -1;
  /* Only a network namespace we created: a joined one is someone else's to configure. */
  if (new_net && spec->namespaces[NOOK_NS_NET].path == NULL && loopback_up (err) < 0)
    return -1;
  return set_sysctls (spec, new_uts, new_net, new_ipc, err);
}
