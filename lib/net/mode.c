/* --network VALUE -> a mode.  The default ("", "private", "bridge") is the bridge as root and a user-mode
 * helper rootless (pasta, else slirp4netns). */
#include <string.h>

#include "net/net_internal.h"
#include "util/strutil.h"

static const struct
{
  const char *prog, *package;
  enum nook_net_mode mode;
} helpers[] = {
  { "pasta", "passt", NOOK_NET_PASTA },
  { "slirp4netns", "slirp4netns", NOOK_NET_SLIRP },
};

int
nook_net_pick_helper (enum nook_net_mode *mode, nook_err *err)
{
  for (size_t i = 0; i < sizeof (helpers) / sizeof (helpers[0]); i++)
    if (nook_net_on_path (helpers[i].prog))
      {
        *mode = helpers[i].mode;
        return 0;
      }
  return nook_error_input (err, "no user-mode network helper: install the package passt (pasta) or slirp4netns, "
                                "or use --network none");
}

/* An explicit helper: it must be installed. */
static int
parse_helper (const char *value, enum nook_net_mode *mode, nook_err *err)
{
  for (size_t i = 0; i < sizeof (helpers) / sizeof (helpers[0]); i++)
    {
      size_t len = strlen (helpers[i].prog);
      if (strncmp (value, helpers[i].prog, len) != 0 || (value[len] != '\0' && value[len] != ':'))
        continue;
      if (value[len] == ':')
        return nook_error_input (err, "--network %s: options for %s are not supported (use --network %s)", value,
                                 helpers[i].prog, helpers[i].prog);
      if (!nook_net_on_path (helpers[i].prog))
        return nook_error_input (err, "--network %s: `%s` is not installed (install the package %s)", value,
                                 helpers[i].prog, helpers[i].package);
      *mode = helpers[i].mode;
      return 1;
    }
  return 0;
}

int
nook_net_mode_parse (const char *value, bool rootless, enum nook_net_mode *mode, const char **path,
                     nook_err *err)
{
  int rc;

  if (path)
    *path = NULL;
  if (value == NULL || *value == '\0' || strcmp (value, "private") == 0 || strcmp (value, "bridge") == 0)
    {
      if (!rootless)
        {
          *mode = NOOK_NET_BRIDGE;
          return 0;
        }
      return nook_net_pick_helper (mode, err);
    }
  if (strcmp (value, "none") == 0)
    *mode = NOOK_NET_NONE;
  else if (strcmp (value, "host") == 0)
    *mode = NOOK_NET_HOST;
  else if (str_has_prefix (value, "ns:"))
    {
      if (value[3] == '\0')
        return nook_error_input (err, "--network ns: needs a path (ns:/proc/PID/ns/net)");
      *mode = NOOK_NET_PATH;
      if (path)
        *path = value + 3;
    }
  else if ((rc = parse_helper (value, mode, err)) != 0)
    return rc < 0 ? -1 : 0;
  else if (str_has_prefix (value, "container:"))
    return nook_error_input (err, "--network %s: joining the network of another container is not supported yet",
                             value);
  else
    return nook_error_input (err, "invalid network mode `%s`", value);
  return 0;
}

const char *
nook_net_mode_name (enum nook_net_mode mode)
{
  switch (mode)
    {
    case NOOK_NET_NONE:
      return "none";
    case NOOK_NET_HOST:
      return "host";
    case NOOK_NET_PASTA:
      return "pasta";
    case NOOK_NET_SLIRP:
      return "slirp4netns";
    case NOOK_NET_BRIDGE:
      return "bridge";
    case NOOK_NET_PATH:
      return "ns";
    }
  return "unknown";
}
