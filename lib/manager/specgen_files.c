/* CTR_DIR/userdata/{hosts,hostname,resolv.conf,.containerenv}: generated per container, bind-mounted into
 * it, mode 0644 so a rootless container's users can read them. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "manager/specgen_internal.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/strutil.h"

#define NOOK_ENGINE "nook-0.1.0"
#define HOST_FILE_MAX (1 << 20)

/* Growing text buffer. */
struct buf
{
  char *s;
};

static void
put (struct buf *b, const char *fmt, const char *a, const char *c)
{
  char *add = xasprintf (fmt, a ? a : "", c ? c : "");
  char *n = xasprintf ("%s%s", b->s ? b->s : "", add);

  free (add);
  free (b->s);
  b->s = n;
}

static char *
host_file (const char *path)
{
  char *text = NULL;
  nook_err ignored;

  if (nook_read_file_at (AT_FDCWD, path, &text, NULL, HOST_FILE_MAX, &ignored) < 0)
    return NULL;
  return text;
}

static int
write_file (int dfd, const char *name, const char *text, nook_err *err)
{
  if (nook_write_file_atomic (dfd, name, text, strlen (text), 0644, false, err) < 0)
    return nook_error_prefix (err, "userdata");
  if (fchmodat (dfd, name, 0644, 0) < 0)
    return nook_error (err, errno, "chmod userdata/%s", name);
  return 0;
}

/* ---- hosts ---- */

/* --add-host HOST:IP (or HOST=IP; IPv6 may be bracketed; "a;b" names several hosts). */
static int
add_host (struct buf *b, const char *spec, nook_err *err)
{
  cleanup_free char *copy = xstrdup (spec);
  char *sep = copy + strcspn (copy, ":="), *ip;
  size_t n;

  if (*sep == '\0' || sep == copy || sep[1] == '\0')
    return nook_error_input (err, "--add-host: invalid `%s`: expected HOST:IP", spec);
  *sep = '\0';
  ip = sep + 1;
  n = strlen (ip);
  if (ip[0] == '[' && ip[n - 1] == ']')
    {
      ip[n - 1] = '\0';
      ip++;
    }
  /* host-gateway stays a word here: the monitor puts the host's address in once the network is up */
  for (char *p = copy; *p; p++)
    if (*p == ';')
      *p = ' ';
  put (b, "%s %s\n", ip, copy);
  return 0;
}

static int
hosts_text (struct sg *g, char **out, nook_err *err)
{
  struct buf b = { NULL };
  cleanup_free char *host = g->net.mode == SG_NS_HOST ? host_file ("/etc/hosts") : NULL;

  if (host != NULL)
    put (&b, "%s%s", host, host[0] && host[strlen (host) - 1] != '\n' ? "\n" : "");
  else
    put (&b, "127.0.0.1 localhost\n::1 localhost ip6-localhost\n%s%s", "", "");
  if (g->uts.mode != SG_NS_HOST)
    {
      cleanup_free char *line = xasprintf ("127.0.1.1 %s %s\n", g->hostname, g->in->name ? g->in->name : "");
      put (&b, "%s%s", line, "");
    }
  for (size_t i = 0; g->o->add_host != NULL && g->o->add_host[i] != NULL; i++)
    if (add_host (&b, g->o->add_host[i], err) < 0)
      {
        free (b.s);
        return -1;
      }
  *out = b.s;
  return 0;
}

/* ---- resolv.conf ---- */

struct resolv
{
  json_t *ns;       /* nameservers */
  char *search, *options;
};

static void
resolv_parse (const char *text, bool own_netns, struct resolv *r)
{
  cleanup_free char *copy = xstrdup (text ? text : "");
  char *save = NULL;

  for (char *l = strtok_r (copy, "\n", &save); l != NULL; l = strtok_r (NULL, "\n", &save))
    {
      char *v = l + strcspn (l, " \t");

      v += strspn (v, " \t");
      if (str_has_prefix (l, "nameserver") && *v)
        {
          v[strcspn (v, " \t#")] = '\0';
          if (!own_netns || !(str_has_prefix (v, "127.") || strcmp (v, "::1") == 0))
            json_array_append_new (r->ns, json_string (v));
        }
      else if ((str_has_prefix (l, "search") || str_has_prefix (l, "domain")) && *v)
        {
          free (r->search);
          r->search = xstrdup (v);
        }
      else if (str_has_prefix (l, "options") && *v)
        {
          free (r->options);
          r->options = xstrdup (v);
        }
    }
}

static char *
joined (char *const *v, const char *sep)
{
  char *s = xstrdup ("");
  for (size_t i = 0; v != NULL && v[i] != NULL; i++)
    {
      char *n = xasprintf ("%s%s%s", s, i ? sep : "", v[i]);
      free (s);
      s = n;
    }
  return s;
}

/* The host's file (systemd-resolved's upstream list when the host's only points at its local stub),
 * without loopback nameservers for a container with its own network; --dns* replace their parts. */
static void
resolv_flags (const struct nook_run_opts *o, struct resolv *r)
{
  if (strv_len (o->dns) > 0)
    {
      json_array_clear (r->ns);
      for (size_t i = 0; o->dns[i] != NULL; i++)
        json_array_append_new (r->ns, json_string (o->dns[i]));
    }
  if (strv_len (o->dns_search) > 0)
    {
      free (r->search);
      r->search = strcmp (o->dns_search[0], ".") == 0 ? NULL : joined (o->dns_search, " ");
    }
  if (strv_len (o->dns_opts) > 0)
    {
      free (r->options);
      r->options = joined (o->dns_opts, " ");
    }
}

static char *
resolv_text (struct sg *g)
{
  bool own = g->net.mode != SG_NS_HOST;
  struct resolv r = { json_array (), NULL, NULL };
  cleanup_free char *host = host_file ("/etc/resolv.conf");
  struct buf b = { xstrdup ("") };
  size_t i;
  json_t *v;

  resolv_parse (host, own, &r);
  if (own && json_array_size (r.ns) == 0)
    {
      cleanup_free char *sd = host_file ("/run/systemd/resolve/resolv.conf");
      resolv_parse (sd, own, &r);
    }
  if (own && json_array_size (r.ns) == 0)
    {
      json_array_append_new (r.ns, json_string ("8.8.8.8"));
      json_array_append_new (r.ns, json_string ("8.8.4.4"));
    }
  if (g->net_mode == NOOK_NET_SLIRP)
    {
      /* slirp4netns's DNS forwarder (it follows the host's resolv.conf, loopback servers included) */
      json_array_clear (r.ns);
      json_array_append_new (r.ns, json_string (NOOK_SLIRP_DNS));
    }
  resolv_flags (g->o, &r);
  if (r.search != NULL)
    put (&b, "search %s\n%s", r.search, "");
  json_array_foreach (r.ns, i, v)
    put (&b, "nameserver %s\n%s", json_string_value (v), "");
  if (r.options != NULL)
    put (&b, "options %s\n%s", r.options, "");
  json_decref (r.ns);
  free (r.search);
  free (r.options);
  return b.s;
}

/* ---- .containerenv ---- */

static char *
containerenv_text (struct sg *g)
{
  const struct nook_image *img = g->in->image;

  return xasprintf ("engine=\"%s\"\nname=\"%s\"\nid=\"%s\"\nimage=\"%s\"\nimageid=\"%s\"\nrootless=%d\n",
                    NOOK_ENGINE, g->in->name ? g->in->name : "", g->in->id, g->image_name,
                    img && img->id ? img->id : "", g->rootless ? 1 : 0);
}

int
sg_userdata (struct sg *g, nook_err *err)
{
  cleanup_free char *dir = xasprintf ("%s/userdata", g->in->ctr_dir);
  cleanup_free char *hosts = NULL, *resolv = NULL, *env = NULL, *hn = NULL;
  cleanup_close int dfd = -1;

  if (nook_mkdir_p (dir, 0755, err) < 0)
    return -1;
  dfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0)
    return nook_error (err, errno, "open `%s`", dir);
  if (hosts_text (g, &hosts, err) < 0)
    return -1;
  resolv = resolv_text (g);
  env = containerenv_text (g);
  hn = xasprintf ("%s\n", g->hostname);
  if (write_file (dfd, "hosts", hosts, err) < 0 || write_file (dfd, "hostname", hn, err) < 0
      || write_file (dfd, "resolv.conf", resolv, err) < 0 || write_file (dfd, ".containerenv", env, err) < 0)
    return -1;
  if ((g->keepid_passwd && write_file (dfd, "passwd", g->keepid_passwd, err) < 0)
      || (g->keepid_group && write_file (dfd, "group", g->keepid_group, err) < 0))
    return -1;
  return 0;
}
