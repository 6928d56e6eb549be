/* The layer half of a pull: blobs in parallel, then extraction in parallel. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "image/pull_internal.h"
#include "store/store.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/strutil.h"

#define PARALLEL_DOWNLOADS 6

/* blobs downloaded (and locked) at once */
#define DOWNLOAD_BATCH 64

struct downloads
{
  struct nook_blob_job *jobs;
  int *locks;
  char **partials;
  size_t n;
  int tmpfd;
};

static void
downloads_free (struct downloads *d)
{
  for (size_t i = 0; i < d->n; i++)
    {
      if (d->locks[i] >= 0)
        {
          cleanup_free char *lock = xasprintf ("%s.lock", d->jobs[i].digest + strlen ("sha256:"));
          unlinkat (d->tmpfd, lock, 0);
          close (d->locks[i]);
        }
      free (d->partials[i]);
    }
  free (d->jobs);
  free (d->locks);
  free (d->partials);
  if (d->tmpfd >= 0)
    close (d->tmpfd);
}

static bool
queued (const struct downloads *d, const char *digest)
{
  for (size_t i = 0; i < d->n; i++)
    if (strcmp (d->jobs[i].digest, digest) == 0)
      return true;
  return false;
}

/* Take the per-blob lock (another pull of the same blob finishes first); false when, by then, the blob is
 * in the store. */
static int
lock_blob (struct pull *p, struct downloads *d, const char *hex, int *lockfd, nook_err *err)
{
  cleanup_free char *name = xasprintf ("%s.lock", hex);
  int fd = openat (d->tmpfd, name, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

  if (fd < 0)
    return nook_error (err, errno, "create `%s`", name);
  while (flock (fd, LOCK_EX) < 0)
    if (errno != EINTR)
      {
        close (fd);
        return nook_error (err, errno, "lock `%s`", name);
      }
  *lockfd = fd;
  return 0;
}

static int
queue (struct pull *p, struct downloads *d, const struct nook_descriptor *desc, nook_err *err)
{
  const char *hex = desc->digest + strlen ("sha256:");
  int lockfd = -1;

  if (lock_blob (p, d, hex, &lockfd, err) < 0)
    return -1;
  if (nook_store_blob_exists (p->s, desc->digest))
    {
      close (lockfd);
      return 0;
    }
  d->jobs = xrealloc (d->jobs, (d->n + 1) * sizeof (*d->jobs));
  d->locks = xrealloc (d->locks, (d->n + 1) * sizeof (int));
  d->partials = xrealloc (d->partials, (d->n + 1) * sizeof (char *));
  memset (&d->jobs[d->n], 0, sizeof (d->jobs[d->n]));
  d->partials[d->n] = xasprintf ("%s.partial", hex);
  d->jobs[d->n].digest = desc->digest;
  d->jobs[d->n].size = desc->size;
  d->jobs[d->n].urls = (const char *const *) desc->urls;
  d->jobs[d->n].dirfd = d->tmpfd;
  d->jobs[d->n].partial = d->partials[d->n];
  d->locks[d->n] = lockfd;
  d->n++;
  return 0;
}

/* Queue the next missing blobs from layer *NEXT on, at most DOWNLOAD_BATCH of them: each holds its lock
 * (an open fd) until committed, so an image of thousands of layers never holds thousands of fds. */
static int
plan (struct pull *p, struct downloads *d, size_t *next, nook_err *err)
{
  for (; *next < p->manifest->n_layers && d->n < DOWNLOAD_BATCH; (*next)++)
    {
      const struct nook_descriptor *desc = &p->manifest->layers[*next];
      if (nook_layer_compression (desc->media_type, err) < 0)
        return nook_error_prefix (err, "layer %s", desc->digest);
      if (nook_store_layer_exists (p->s, p->config->diff_ids[*next]) || nook_store_blob_exists (p->s, desc->digest))
        {
          nook_progress_line (p->progress, "Copying blob %.19s skipped: already exists", desc->digest);
          continue;
        }
      if (!queued (d, desc->digest) && queue (p, d, desc, err) < 0)
        return -1;
    }
  return 0;
}

static int
run_downloads (struct pull *p, struct downloads *d, nook_err *err)
{
  const char **digests = xcalloc (d->n + 1, sizeof (char *));
  int64_t *sizes = xcalloc (d->n + 1, sizeof (int64_t));
  struct nook_progress *bars;
  int ret;

  for (size_t i = 0; i < d->n; i++)
    {
      digests[i] = d->jobs[i].digest;
      sizes[i] = d->jobs[i].size;
    }
  bars = nook_progress_new (p->o->quiet ? NULL : p->o->progress, d->n, digests, sizes);
  ret = nook_registry_get_blobs (p->reg, d->jobs, d->n, PARALLEL_DOWNLOADS, nook_progress_update, bars, err);
  nook_progress_free (bars);
  free (digests);
  free (sizes);
  return ret;
}

static int
fetch_batch (struct pull *p, size_t *next, nook_err *err)
{
  struct downloads d = { .tmpfd = nook_store_tmp_dir (p->s, err) };
  int ret = -1;

  if (d.tmpfd < 0)
    return -1;
  if (plan (p, &d, next, err) < 0)
    goto out;
  if (d.n > 0 && run_downloads (p, &d, err) < 0)
    goto out;
  for (size_t i = 0; i < d.n; i++)
    {
      cleanup_free char *lock = xasprintf ("%s.lock", d.jobs[i].digest + strlen ("sha256:"));
      if (nook_store_blob_commit (p->s, d.tmpfd, d.partials[i], d.jobs[i].digest, err) < 0)
        goto out;
      unlinkat (d.tmpfd, lock, 0);
    }
  ret = 0;
out:
  downloads_free (&d);
  return ret;
}

int
nook_pull_fetch_layers (struct pull *p, nook_err *err)
{
  size_t next = 0;

  do
    if (fetch_batch (p, &next, err) < 0)
      return -1;
  while (next < p->manifest->n_layers);
  return 0;
}

/* ---- extraction ---- */

struct extraction
{
  pid_t pid;
  int errfd;
  size_t layer;
};

static int
finish_child (struct extraction *x, nook_err *err)
{
  nook_err child = { 0 };
  int status, got;

  while (waitpid (x->pid, &status, 0) < 0 && errno == EINTR)
    ;
  got = nook_read_all (x->errfd, &child, sizeof (child));
  close (x->errfd);
  if (WIFEXITED (status) && WEXITSTATUS (status) == 0)
    return 0;
  if (got == (int) sizeof (child))
    {
      child.msg[sizeof (child.msg) - 1] = '\0';
      *err = child;
      return -1;
    }
  return nook_error_input (err, "layer extraction process failed (status %d)", status);
}

static int
spawn (struct pull *p, size_t i, struct extraction *x, nook_err *err)
{
  int fds[2];

  if (pipe2 (fds, O_CLOEXEC) < 0)
    return nook_error (err, errno, "pipe");
  x->pid = fork ();
  if (x->pid < 0)
    {
      close (fds[0]);
      close (fds[1]);
      return nook_error (err, errno, "fork");
    }
  if (x->pid == 0)
    {
      nook_err e = { 0 };
      /* An extraction must not outlive the pull that started it (a killed pull leaves nothing running). */
      prctl (PR_SET_PDEATHSIG, SIGKILL);
      close (fds[0]);
      if (nook_store_layer_create (p->s, p->manifest->layers[i].digest, p->config->diff_ids[i], &e) == 0)
        _exit (0);
      nook_write_all (fds[1], &e, sizeof (e));
      _exit (1);
    }
  close (fds[1]);
  x->errfd = fds[0];
  x->layer = i;
  return 0;
}

static bool
extracting (const struct pull *p, const size_t *pending, size_t n, const char *diff_id)
{
  for (size_t k = 0; k < n; k++)
    if (strcmp (p->config->diff_ids[pending[k]], diff_id) == 0)
      return true;
  return false;
}

int
nook_pull_extract_layers (struct pull *p, nook_err *err)
{
  size_t n = p->manifest->n_layers, npending = 0, running = 0, next = 0;
  cleanup_free size_t *pending = xcalloc (n + 1, sizeof (size_t));
  long cpus = sysconf (_SC_NPROCESSORS_ONLN);
  size_t max = cpus > 0 ? (size_t) cpus : 1;
  cleanup_free struct extraction *xs = xcalloc (max, sizeof (*xs));
  int ret = 0;

  for (size_t i = 0; i < n; i++)
    if (!nook_store_layer_exists (p->s, p->config->diff_ids[i]) && !extracting (p, pending, npending, p->config->diff_ids[i]))
      pending[npending++] = i;
  if (npending == 1)
    return nook_store_layer_create (p->s, p->manifest->layers[pending[0]].digest, p->config->diff_ids[pending[0]], err);
  while (next < npending || running > 0)
    {
      if (ret == 0 && next < npending && running < max)
        {
          if (spawn (p, pending[next++], &xs[running], err) < 0)
            ret = -1;
          else
            running++;
          continue;
        }
      if (running == 0)
        break;
      /* Wait for the oldest; keep the first failure. */
      nook_err e = { 0 };
      if (finish_child (&xs[0], &e) < 0 && ret == 0)
        {
          *err = e;
          ret = -1;
        }
      memmove (&xs[0], &xs[1], (running - 1) * sizeof (*xs));
      running--;
      if (ret < 0)
        next = npending;
    }
  return ret;
}
