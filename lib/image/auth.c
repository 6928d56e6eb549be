/* Registry credentials: containers-auth.json(5) and ~/.docker/config.json.
 *
 * An entry's key may be "host[:port]", a URL "https://host[:port]/anything" or "host/v1/" (docker's old
 * style); "index.docker.io" and "registry-1.docker.io" mean docker.io.  Keys naming a repository namespace
 * ("quay.io/org") are not used for a registry-wide lookup.  Entries without an "auth" field or
 * "username"/"password" (docker's credsStore/credHelpers keep the secret elsewhere) count as absent. */
#include "image/auth.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <libgen.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/base64.h"
#include "util/fs.h"
#include "util/strutil.h"

#define AUTH_FILE_MAX (4 << 20)

/* ---- paths ---- */

static char *
home_dir (void)
{
  const char *h = getenv ("HOME");
  struct passwd *pw;

  if (h != NULL && *h != '\0')
    return xstrdup (h);
  pw = getpwuid (getuid ());
  return xstrdup (pw && pw->pw_dir ? pw->pw_dir : "/");
}

static const char *
env_nonempty (const char *name)
{
  const char *v = getenv (name);
  return v != NULL && *v != '\0' ? v : NULL;
}

static char *
config_home_file (void)
{
  const char *xdg = env_nonempty ("XDG_CONFIG_HOME");
  cleanup_free char *home = NULL;

  if (xdg != NULL)
    return xasprintf ("%s/containers/auth.json", xdg);
  home = home_dir ();
  return xasprintf ("%s/.config/containers/auth.json", home);
}

char *
nook_auth_default_file (void)
{
  const char *v;

  if ((v = env_nonempty ("REGISTRY_AUTH_FILE")) != NULL)
    return xstrdup (v);
  if ((v = env_nonempty ("XDG_RUNTIME_DIR")) != NULL)
    return xasprintf ("%s/containers/auth.json", v);
  return config_home_file ();
}

/* The lookup order, NULL-terminated. */
static char **
lookup_files (void)
{
  char **v = xcalloc (5, sizeof *v);
  size_t n = 0;
  const char *e;
  cleanup_free char *home = home_dir ();

  if ((e = env_nonempty ("REGISTRY_AUTH_FILE")) != NULL)
    v[n++] = xstrdup (e);
  if ((e = env_nonempty ("XDG_RUNTIME_DIR")) != NULL)
    v[n++] = xasprintf ("%s/containers/auth.json", e);
  v[n++] = config_home_file ();
  if ((e = env_nonempty ("DOCKER_CONFIG")) != NULL)
    v[n++] = xasprintf ("%s/config.json", e);
  else
    v[n++] = xasprintf ("%s/.docker/config.json", home);
  return v;
}

/* ---- keys ---- */

static bool
is_docker_hub (const char *host, size_t n)
{
  static const char *const names[] = { "docker.io", "index.docker.io", "registry-1.docker.io" };

  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (strlen (names[i]) == n && strncmp (host, names[i], n) == 0)
      return true;
  return false;
}

/* "", "/", "/v1", "/v1/", "/v2", "/v2/": the path of a registry-wide key. */
static bool
registry_path (const char *path)
{
  static const char *const ok[] = { "", "/", "/v1", "/v1/", "/v2", "/v2/" };

  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
    if (strcmp (path, ok[i]) == 0)
      return true;
  return false;
}

/* Does auth file KEY name REGISTRY as a whole? */
static bool
key_matches (const char *key, const char *registry)
{
  const char *host = key;
  bool url = false;
  size_t n;

  if (str_has_prefix (key, "https://") || str_has_prefix (key, "http://"))
    {
      host = strstr (key, "://") + 3;
      url = true;
    }
  n = strcspn (host, "/");
  if (!url && !registry_path (host + n))
    return false; /* a namespace such as "quay.io/org" */
  if (strlen (registry) == n && strncmp (host, registry, n) == 0)
    return true;
  return is_docker_hub (host, n) && is_docker_hub (registry, strlen (registry));
}

/* ---- reading ---- */

/* Load PATH: 1 and *OUT, 0 when the file does not exist, -1 on error. */
static int
load_file (const char *path, json_t **out, nook_err *err)
{
  cleanup_free char *data = NULL;
  json_error_t jerr;
  size_t len;

  if (nook_read_file_at (AT_FDCWD, path, &data, &len, AUTH_FILE_MAX, err) < 0)
    {
      if (err->code == ENOENT)
        return 0;
      return nook_error_prefix (err, "read auth file");
    }
  *out = json_loadb (data, len, 0, &jerr);
  if (*out == NULL)
    return nook_error_input (err, "parse auth file `%s`: %s (line %d)", path, jerr.text, jerr.line);
  if (!json_is_object (*out))
    {
      json_decref (*out);
      return nook_error_input (err, "auth file `%s`: expected a JSON object", path);
    }
  return 1;
}

static int
auths_of (json_t *root, const char *path, json_t **auths, nook_err *err)
{
  *auths = json_object_get (root, "auths");
  if (*auths == NULL || json_is_null (*auths))
    *auths = NULL;
  else if (!json_is_object (*auths))
    return nook_error_input (err, "auth file `%s`: `auths` must be an object", path);
  return 0;
}

/* Credentials of ENTRY: 1 when found, 0 when the entry carries none, -1 when malformed. */
static int
entry_credentials (json_t *entry, const char *path, const char *key, char **user, char **pass, nook_err *err)
{
  const char *auth = json_string_value (json_object_get (entry, "auth"));
  const char *u = json_string_value (json_object_get (entry, "username"));
  const char *p = json_string_value (json_object_get (entry, "password"));
  cleanup_free char *dec = NULL;
  size_t len;
  char *colon;

  if (auth == NULL || *auth == '\0')
    {
      if (u == NULL || *u == '\0' || p == NULL)
        return 0;
      *user = xstrdup (u);
      *pass = xstrdup (p);
      return 1;
    }
  dec = nook_base64_decode (auth, &len);
  if (dec == NULL || strlen (dec) != len || (colon = strchr (dec, ':')) == NULL)
    return nook_error_input (err, "auth file `%s`: invalid `auth` for `%s`: expected base64 of user:password", path,
                             key);
  *colon = '\0';
  *user = xstrdup (dec);
  *pass = xstrdup (colon + 1);
  return 1;
}

static int
lookup_key (json_t *auths, const char *path, const char *key, json_t *entry, char **user, char **pass, nook_err *err)
{
  if (!json_is_object (entry))
    return nook_error_input (err, "auth file `%s`: entry `%s` must be an object", path, key);
  return entry_credentials (entry, path, key, user, pass, err);
}

/* The exact key first, then every other spelling of the same registry. */
static int
lookup_in (json_t *auths, const char *path, const char *registry, char **user, char **pass, nook_err *err)
{
  json_t *entry = json_object_get (auths, registry);
  const char *key;
  int r;

  if (entry != NULL && (r = lookup_key (auths, path, registry, entry, user, pass, err)) != 0)
    return r;
  json_object_foreach (auths, key, entry)
  {
    if (strcmp (key, registry) == 0 || !key_matches (key, registry))
      continue;
    if ((r = lookup_key (auths, path, key, entry, user, pass, err)) != 0)
      return r;
  }
  return 0;
}

int
nook_auth_lookup (const char *registry, char **user, char **pass, nook_err *err)
{
  cleanup_strv char **files = lookup_files ();

  *user = *pass = NULL;
  if (registry == NULL || *registry == '\0')
    return 0;
  for (size_t i = 0; files[i]; i++)
    {
      json_t *root = NULL, *auths;
      int r = load_file (files[i], &root, err);

      if (r <= 0)
        {
          if (r < 0)
            return -1;
          continue;
        }
      r = auths_of (root, files[i], &auths, err);
      if (r == 0 && auths != NULL)
        r = lookup_in (auths, files[i], registry, user, pass, err);
      json_decref (root);
      if (r != 0)
        return r;
    }
  return 0;
}

/* ---- writing ---- */

/* Read-modify-write AUTHFILE under an exclusive lock on its directory. */
struct auth_edit
{
  char *path;
  char *dir;
  char *base;
  int dirfd;
  json_t *root;
  json_t *auths;
};

static void
edit_release (struct auth_edit *e)
{
  if (e->dirfd >= 0)
    close (e->dirfd); /* drops the lock */
  json_decref (e->root);
  free (e->path);
  free (e->dir);
  free (e->base);
}

static int
edit_begin (struct auth_edit *e, const char *authfile, bool create, nook_err *err)
{
  cleanup_free char *d = NULL, *b = NULL;
  int r;

  e->path = authfile ? xstrdup (authfile) : nook_auth_default_file ();
  d = xstrdup (e->path);
  b = xstrdup (e->path);
  e->dir = xstrdup (dirname (d));
  e->base = xstrdup (basename (b));
  if (create && nook_mkdir_p (e->dir, 0700, err) < 0)
    return nook_error_prefix (err, "auth file `%s`", e->path);
  e->dirfd = open (e->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (e->dirfd < 0)
    return nook_error (err, errno, "open `%s`", e->dir);
  if (flock (e->dirfd, LOCK_EX) < 0)
    return nook_error (err, errno, "lock `%s`", e->dir);
  r = load_file (e->path, &e->root, err);
  if (r < 0)
    return -1;
  if (r == 0)
    e->root = json_object ();
  if (auths_of (e->root, e->path, &e->auths, err) < 0)
    return -1;
  if (e->auths == NULL)
    {
      e->auths = json_object ();
      json_object_set_new (e->root, "auths", e->auths);
    }
  return 0;
}

static int
edit_commit (struct auth_edit *e, nook_err *err)
{
  cleanup_free char *data = json_dumps (e->root, JSON_INDENT (1) | JSON_SORT_KEYS);

  if (data == NULL)
    return nook_error (err, ENOMEM, "serialize auth file `%s`", e->path);
  if (nook_write_file_atomic (e->dirfd, e->base, data, strlen (data), 0600, true, err) < 0)
    return nook_error_prefix (err, "auth file `%s`", e->path);
  return 0;
}

int
nook_auth_store (const char *authfile, const char *registry, const char *user, const char *pass, nook_err *err)
{
  struct auth_edit e = { .dirfd = -1 };
  cleanup_free char *plain = NULL, *enc = NULL;
  int r;

  if (registry == NULL || *registry == '\0')
    return nook_error_input (err, "login: registry name is empty");
  if (user == NULL || *user == '\0' || strchr (user, ':') != NULL)
    return nook_error_input (err, "login: username must be non-empty and must not contain ':'");
  plain = xasprintf ("%s:%s", user, pass ? pass : "");
  enc = nook_base64_encode (plain, strlen (plain));
  r = edit_begin (&e, authfile, true, err);
  if (r == 0)
    {
      json_object_set_new (e.auths, registry, json_pack ("{s:s}", "auth", enc));
      r = edit_commit (&e, err);
    }
  edit_release (&e);
  return r;
}

/* Drop the entries for REGISTRY (every entry when ALL); the number removed. */
static size_t
remove_entries (json_t *auths, const char *registry, bool all)
{
  const char *key;
  json_t *entry;
  void *tmp;
  size_t n = 0;

  json_object_foreach_safe (auths, tmp, key, entry)
  {
    if (all || key_matches (key, registry) || strcmp (key, registry) == 0)
      {
        json_object_del (auths, key);
        n++;
      }
  }
  return n;
}

int
nook_auth_remove (const char *authfile, const char *registry, bool all, nook_err *err)
{
  struct auth_edit e = { .dirfd = -1 };
  cleanup_free char *path = authfile ? xstrdup (authfile) : nook_auth_default_file ();
  int r;

  if (!all && (registry == NULL || *registry == '\0'))
    return nook_error_input (err, "logout: registry name is empty");
  if (access (path, F_OK) < 0 && errno == ENOENT)
    return all ? 0 : nook_error_input (err, "not logged into %s", registry);
  r = edit_begin (&e, path, false, err);
  if (r == 0 && remove_entries (e.auths, registry, all) == 0 && !all)
    r = nook_error_input (err, "not logged into %s", registry);
  else if (r == 0)
    r = edit_commit (&e, err);
  edit_release (&e);
  return r;
}
