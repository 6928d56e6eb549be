/* Addresses of the bridge network NOOK_BRIDGE_SUBNET, recorded in DIR/nook0.json (NOOK_NET_STATE_DIR):
 *   {"subnet": "10.87.0.0/16", "gateway": "10.87.0.1", "last": "10.87.0.7",
 *    "allocations": {"10.87.0.2": "<container id>", ...}}
 * Changes happen under flock(DIR/nook0.lock) and are written to a temp name, then renamed.
 * Allocation takes the first free address after "last" (wrapping to .0.2), so a released address is not
 * handed out again at once: on a fresh file that is the lowest free one.  The network address, the
 * gateway (.0.1) and the broadcast address are never handed out. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "net/net_internal.h"
#include "store/store.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/strutil.h"

#define IPAM_FILE NOOK_BRIDGE_NAME ".json"
#define IPAM_LOCK NOOK_BRIDGE_NAME ".lock"
#define IPAM_MAX_SIZE (16 << 20)

struct subnet
{
  uint32_t net;   /* host byte order */
  int prefix;
};

static int
subnet_parse (struct subnet *sn, nook_err *err)
{
  char buf[32];
  char *slash;
  struct in_addr a;

  snprintf (buf, sizeof (buf), "%s", NOOK_BRIDGE_SUBNET);
  slash = strchr (buf, '/');
  if (slash == NULL)
    return nook_error_input (err, "ipam: invalid subnet `%s`", NOOK_BRIDGE_SUBNET);
  *slash = '\0';
  sn->prefix = atoi (slash + 1);
  if (inet_pton (AF_INET, buf, &a) != 1 || sn->prefix < 8 || sn->prefix > 30)
    return nook_error_input (err, "ipam: invalid subnet `%s`", NOOK_BRIDGE_SUBNET);
  sn->net = ntohl (a.s_addr) & (0xffffffffu << (32 - sn->prefix));
  return 0;
}

static void
ip_format (uint32_t host_order, char out[46])
{
  struct in_addr a = { .s_addr = htonl (host_order) };
  inet_ntop (AF_INET, &a, out, 46);
}

/* Open (creating) DIR and lock nook0.lock in it; *DIRFD gets the directory. */
static int
ipam_lock (const char *dir, int *dirfd, nook_err *err)
{
  cleanup_close int dfd = -1;
  int fd;

  if (nook_mkdir_p (dir, 0700, err) < 0)
    return -1;
  dfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0)
    return nook_error (err, errno, "open `%s`", dir);
  fd = openat (dfd, IPAM_LOCK, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0)
    return nook_error (err, errno, "open `%s/" IPAM_LOCK "`", dir);
  while (flock (fd, LOCK_EX) < 0)
    if (errno != EINTR)
      {
        int e = errno;
        close (fd);
        return nook_error (err, e, "lock `%s/" IPAM_LOCK "`", dir);
      }
  *dirfd = steal_fd (&dfd);
  return fd;
}

static int
ipam_corrupt (const char *dir, const char *why, int line, nook_err *err)
{
  if (line > 0)
    return nook_error_input (err, "corrupt bridge address file `%s/" IPAM_FILE "`: %s (line %d)",
                             dir, why, line);
  return nook_error_input (err, "corrupt bridge address file `%s/" IPAM_FILE "`: %s", dir, why);
}

static int
ipam_check (const char *dir, json_t *doc, nook_err *err)
{
  json_t *alloc = json_object_get (doc, "allocations"), *last = json_object_get (doc, "last"), *v;
  const char *k;

  if (!json_is_object (alloc))
    return ipam_corrupt (dir, "\"allocations\" is not an object", 0, err);
  if (last && !json_is_string (last))
    return ipam_corrupt (dir, "\"last\" is not a string", 0, err);
  json_object_foreach (alloc, k, v)
    if (!json_is_string (v))
      return ipam_corrupt (dir, "an allocation is not a container id", 0, err);
  return 0;
}

/* The recorded state, or a fresh one when the file does not exist. */
static int
ipam_load (const char *dir, int dfd, json_t **out, nook_err *err)
{
  cleanup_free char *text = NULL;
  json_error_t jerr;
  json_t *doc;
  size_t len;

  if (nook_read_file_at (dfd, IPAM_FILE, &text, &len, IPAM_MAX_SIZE, err) < 0)
    {
      if (err->code != ENOENT)
        return nook_error_prefix (err, "ipam `%s`", dir);
      *out = json_pack ("{s:s, s:{}}", "subnet", NOOK_BRIDGE_SUBNET, "allocations");
      return 0;
    }
  doc = json_loadb (text, len, 0, &jerr);
  if (!json_is_object (doc))
    {
      json_decref (doc);
      return ipam_corrupt (dir, doc ? "not a JSON object" : jerr.text, doc ? 0 : jerr.line, err);
    }
  if (ipam_check (dir, doc, err) < 0)
    {
      json_decref (doc);
      return -1;
    }
  *out = doc;
  return 0;
}

static int
ipam_save (const char *dir, int dfd, json_t *doc, nook_err *err)
{
  cleanup_free char *text = json_dumps (doc, JSON_INDENT (2) | JSON_SORT_KEYS);

  if (text == NULL)
    return nook_error (err, ENOMEM, "ipam: serialize");
  if (nook_write_file_atomic (dfd, IPAM_FILE, text, strlen (text), 0600, false, err) < 0)
    return nook_error_prefix (err, "ipam `%s`", dir);
  return 0;
}

static const char *
ipam_find (json_t *alloc, const char *id)
{
  const char *k;
  json_t *v;

  json_object_foreach (alloc, k, v)
    if (strcmp (json_string_value (v), id) == 0)
      return k;
  return NULL;
}

/* The first free host address after LAST (wrapping), skipping network, gateway and broadcast. */
static int
ipam_pick (json_t *alloc, const struct subnet *sn, const char *last, char ip[46], nook_err *err)
{
  uint32_t first = sn->net + 2, n = (1u << (32 - sn->prefix)) - 3, start = 0;
  struct in_addr a;

  if (last && inet_pton (AF_INET, last, &a) == 1 && ntohl (a.s_addr) >= first
      && ntohl (a.s_addr) - first < n)
    start = ntohl (a.s_addr) - first + 1;
  for (uint32_t i = 0; i < n; i++)
    {
      ip_format (first + (start + i) % n, ip);
      if (json_object_get (alloc, ip) == NULL)
        return 0;
    }
  ip[0] = '\0';
  return nook_error (err, ENOSPC, "ipam: no free address in `%s`", NOOK_BRIDGE_SUBNET);
}

static int
ipam_allocate_locked (const char *dir, int dfd, const char *id, char ip[46], nook_err *err)
{
  json_auto_t *doc = NULL;
  struct subnet sn;
  const char *have;
  json_t *alloc, *last;
  char gw[46];

  if (subnet_parse (&sn, err) < 0 || ipam_load (dir, dfd, &doc, err) < 0)
    return -1;
  alloc = json_object_get (doc, "allocations");
  have = ipam_find (alloc, id);
  if (have)
    {
      snprintf (ip, 46, "%s", have);
      return 0;
    }
  last = json_object_get (doc, "last");
  if (ipam_pick (alloc, &sn, json_string_value (last), ip, err) < 0)
    return -1;
  json_object_set_new (alloc, ip, json_string (id));
  json_object_set_new (doc, "last", json_string (ip));
  json_object_set_new (doc, "subnet", json_string (NOOK_BRIDGE_SUBNET));
  ip_format (sn.net + 1, gw);
  json_object_set_new (doc, "gateway", json_string (gw));
  return ipam_save (dir, dfd, doc, err);
}

int
nook_ipam_allocate (const char *dir, const char *id, char ip[46], int *prefix, char gateway[46],
                    nook_err *err)
{
  cleanup_close int dfd = -1;
  cleanup_close int lock = -1;
  struct subnet sn;

  if (id == NULL || id[0] == '\0')
    return nook_error_input (err, "ipam: empty container id");
  if (subnet_parse (&sn, err) < 0)
    return -1;
  lock = ipam_lock (dir, &dfd, err);
  if (lock < 0 || ipam_allocate_locked (dir, dfd, id, ip, err) < 0)
    return -1;
  *prefix = sn.prefix;
  ip_format (sn.net + 1, gateway);
  return 0;
}

static int
ipam_release_locked (const char *dir, int dfd, const char *id, nook_err *err)
{
  json_auto_t *doc = NULL;
  json_t *alloc;
  const char *k;
  bool changed = false;

  if (faccessat (dfd, IPAM_FILE, F_OK, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT)
    return 0;
  if (ipam_load (dir, dfd, &doc, err) < 0)
    return -1;
  alloc = json_object_get (doc, "allocations");
  while ((k = ipam_find (alloc, id)) != NULL)
    {
      cleanup_free char *key = xstrdup (k);
      json_object_del (alloc, key);
      changed = true;
    }
  return changed ? ipam_save (dir, dfd, doc, err) : 0;
}

int
nook_ipam_release (const char *dir, const char *id, nook_err *err)
{
  cleanup_close int dfd = -1;
  cleanup_close int lock = -1;

  if (id == NULL || id[0] == '\0')
    return nook_error_input (err, "ipam: empty container id");
  lock = ipam_lock (dir, &dfd, err);
  if (lock < 0)
    return -1;
  return ipam_release_locked (dir, dfd, id, err);
}
