/* Manual/integration check of the registry client against a real registry (not built by make).
 *
 *   make build/libnook.a && cc -std=gnu17 -D_GNU_SOURCE -Ilib -o /tmp/registry_try tests/manual/registry_try.c \
 *      build/libnook.a $(pkg-config --libs jansson libseccomp libcurl libarchive libcrypto)
 *
 * Edge cases (Bearer tokens, cross-origin redirects, 503/429, cut transfers, ignored or wrong ranges, bad
 * digests, oversized manifests and blobs, foreign URLs) are served by tests/manual/registry_fake.py.
 *
 *   registry_try [--tls-verify=false] [--creds USER:PASS] [--parallel N] [--retries N]
 *                [--abort-after BYTES] [--debug] REF OUTDIR     fetch manifest, config and layers into OUTDIR
 *   registry_try [--tls-verify=false] [--creds USER:PASS] --login DOMAIN
 *
 * Layers are downloaded to OUTDIR/<hex>.partial and renamed to OUTDIR/<hex> once verified.  --abort-after
 * kills the process (_exit) once that many bytes arrived in total, leaving the partial files behind, to
 * test resuming.  Index manifests: the linux/amd64 entry is taken. */
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/reference.h"
#include "image/registry.h"
#include "util/log.h"

static long long abort_after = -1;
static long long *done_per_job;
static size_t n_jobs;

static void
progress (void *ud, size_t index, int64_t done, int64_t total, bool finished)
{
  long long sum = 0;
  done_per_job[index] = done;
  for (size_t i = 0; i < n_jobs; i++)
    sum += done_per_job[i];
  fprintf (stderr, "progress: job %zu %lld/%lld%s\n", index, (long long) done, (long long) total,
           finished ? " finished" : "");
  if (abort_after >= 0 && sum >= abort_after && !finished)
    {
      fprintf (stderr, "aborting after %lld bytes\n", sum);
      _exit (3);
    }
}

static int
fail (const char *what, nook_err *err)
{
  fprintf (stderr, "FAILED %s: %s (errno %d)\n", what, err->msg, err->code);
  return 1;
}

static const char *
pick_platform (json_t *idx)
{
  size_t i;
  json_t *m;
  json_array_foreach (json_object_get (idx, "manifests"), i, m)
  {
    json_t *p = json_object_get (m, "platform");
    const char *arch = json_string_value (json_object_get (p, "architecture"));
    if (p == NULL || (arch != NULL && strcmp (arch, "amd64") == 0))
      return json_string_value (json_object_get (m, "digest"));
  }
  return NULL;
}

static json_t *
get_manifest (struct nook_registry *r, const char *target, nook_err *err)
{
  char *data = NULL, *ct = NULL, *digest = NULL;
  size_t len;
  json_t *j;

  if (nook_registry_get_manifest (r, target, &data, &len, &ct, &digest, err) < 0)
    return NULL;
  printf ("manifest %s: %zu bytes, type %s, digest %s\n", target, len, ct ? ct : "(none)", digest);
  j = json_loadb (data, len, 0, NULL);
  free (data);
  free (ct);
  free (digest);
  if (j != NULL && json_object_get (j, "manifests") != NULL)
    {
      const char *d = pick_platform (j);
      json_t *m = d ? get_manifest (r, d, err) : NULL;
      json_decref (j);
      return m;
    }
  return j;
}

static int
fetch_config (struct nook_registry *r, json_t *man, nook_err *err)
{
  json_t *cfg = json_object_get (man, "config");
  char *data = NULL;
  size_t len;
  const char *d = json_string_value (json_object_get (cfg, "digest"));

  if (nook_registry_get_blob_mem (r, d, json_integer_value (json_object_get (cfg, "size")), 4 << 20, &data, &len, err)
      < 0)
    return -1;
  printf ("config %s: %zu bytes verified\n", d, len);
  free (data);
  return 0;
}

static int
fetch_layers (struct nook_registry *r, json_t *man, const char *outdir, int parallel, nook_err *err)
{
  json_t *layers = json_object_get (man, "layers"), *l;
  size_t i, n = json_array_size (layers);
  struct nook_blob_job *jobs = calloc (n, sizeof (*jobs));
  int dirfd = open (outdir, O_DIRECTORY | O_RDONLY | O_CLOEXEC), rc;

  n_jobs = n;
  done_per_job = calloc (n + 1, sizeof (long long));
  json_array_foreach (layers, i, l)
  {
    const char *d = json_string_value (json_object_get (l, "digest"));
    jobs[i].digest = d;
    jobs[i].size = json_integer_value (json_object_get (l, "size"));
    jobs[i].dirfd = dirfd;
    if (json_array_size (json_object_get (l, "urls")) > 0)
      {
        json_t *u = json_object_get (l, "urls"), *e;
        size_t k;
        const char **urls = calloc (json_array_size (u) + 1, sizeof (char *));
        json_array_foreach (u, k, e) urls[k] = json_string_value (e);
        jobs[i].urls = urls;
      }
    asprintf ((char **) &jobs[i].partial, "%s.partial", d + 7);
  }
  rc = nook_registry_get_blobs (r, jobs, n, parallel, progress, NULL, err);
  for (i = 0; i < n; i++)
    {
      printf ("layer %zu %s size %lld: %s\n", i, jobs[i].digest, (long long) jobs[i].size,
              jobs[i].result == 0 ? "verified" : jobs[i].err.msg);
      if (jobs[i].result == 0)
        renameat (dirfd, jobs[i].partial, dirfd, jobs[i].digest + 7);
    }
  close (dirfd);
  for (i = 0; i < n; i++)
    {
      free ((char *) jobs[i].partial);
      free ((void *) jobs[i].urls);
    }
  free (jobs);
  free (done_per_job);
  return rc;
}

int
main (int argc, char **argv)
{
  struct nook_registry_opts opts = { .tls_verify = true };
  struct nook_log_cfg log = { .fd = -1 };
  const char *login = NULL;
  int parallel = 3, i;
  nook_err err = { 0 };

  for (i = 1; i < argc && argv[i][0] == '-'; i++)
    {
      if (strcmp (argv[i], "--tls-verify=false") == 0)
        opts.tls_verify = false;
      else if (strcmp (argv[i], "--creds") == 0 && i + 1 < argc)
        {
          char *c = strdup (argv[++i]), *colon = strchr (c, ':');
          if (colon)
            *colon++ = '\0';
          opts.username = c;
          opts.password = colon;
        }
      else if (strcmp (argv[i], "--parallel") == 0 && i + 1 < argc)
        parallel = atoi (argv[++i]);
      else if (strcmp (argv[i], "--retries") == 0 && i + 1 < argc)
        opts.max_retries = atoi (argv[++i]);
      else if (strcmp (argv[i], "--abort-after") == 0 && i + 1 < argc)
        abort_after = atoll (argv[++i]);
      else if (strcmp (argv[i], "--login") == 0 && i + 1 < argc)
        login = argv[++i];
      else if (strcmp (argv[i], "--debug") == 0)
        log.debug = true;
      else
        {
          fprintf (stderr, "unknown option %s\n", argv[i]);
          return 2;
        }
    }
  nook_log_setup (&log);
  if (login != NULL)
    {
      int rc = nook_registry_login_check (login, &opts, &err) < 0 ? fail ("login", &err) : 0;
      if (rc == 0)
        printf ("login ok: %s\n", login);
      free ((char *) opts.username);
      return rc;
    }
  if (argc - i != 2)
    {
      fprintf (stderr, "usage: registry_try [options] REF OUTDIR | --login DOMAIN\n");
      return 2;
    }
  struct nook_ref ref;
  struct nook_registry *r;
  json_t *man;
  if (nook_ref_parse (argv[i], &ref, &err) < 0)
    return fail ("reference", &err);
  if (nook_registry_open (&ref, &opts, &r, &err) < 0)
    return fail ("open", &err);
  int rc = 0;
  man = get_manifest (r, nook_ref_target (&ref), &err);
  if (man == NULL)
    rc = fail ("manifest", &err);
  if (rc == 0 && fetch_config (r, man, &err) < 0)
    rc = fail ("config", &err);
  mkdir (argv[i + 1], 0755);
  if (rc == 0 && fetch_layers (r, man, argv[i + 1], parallel, &err) < 0)
    rc = fail ("layers", &err);
  if (rc == 0)
    printf ("all verified\n");
  json_decref (man);
  nook_registry_close (r);
  nook_ref_free (&ref);
  free ((char *) opts.username);
  return rc;
}
