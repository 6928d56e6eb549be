/* Parallel blob downloads on a curl multi handle.
 *
 * Each job streams into job->partial (in job->dirfd) while its sha256 is updated; what is already on disk
 * is hashed first and asked for again with "Range: bytes=N-" only from N on.  Redirects are followed by
 * hand (the Authorization header goes to the registry's origin only), foreign URLs never get credentials,
 * transient failures are retried with exponential backoff, resuming from what is on disk. */
#include "image/registry_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/digest.h"
#include "store/reference.h"
#include "util/cleanup.h"
#include "util/log.h"
#include "util/strutil.h"

#define PROGRESS_STEP (256 << 10)
#define DEFAULT_PARALLEL 3

enum xfer_state
{
  X_PENDING, /* not started */
  X_ACTIVE,  /* in the multi handle */
  X_WAIT,    /* backing off before a retry */
  X_DONE,
};

enum xfer_body
{
  BODY_UNKNOWN, /* no body byte seen yet in this response */
  BODY_FILE,    /* blob data */
  BODY_MEM,     /* an error or redirect body, kept for the message */
  BODY_DROP,    /* a response we will not use */
};

struct xfer
{
  struct nook_registry *r;
  struct nook_blob_job *job;
  size_t index;
  nook_progress_fn progress;
  void *ud;
  CURL *h;
  struct curl_slist *hdrs;
  struct nook_reg_resp resp; /* headers and the non-blob body of the current response */
  enum xfer_state state;
  enum xfer_body body;
  int fd;
  struct nook_sha256 *hash; /* covers exactly the HAVE bytes on disk */
  int64_t have;
  int64_t start;    /* offset asked for by the current attempt */
  int64_t reported; /* last progress value passed to the callback */
  char *url;        /* current URL (NULL: start from the source) */
  size_t source;    /* index into job->urls; == n_urls: the registry */
  size_t n_urls;
  bool auth; /* the current URL may get r->authz */
  bool tried_auth;
  bool restart; /* a 206 for another range: truncate and try again */
  bool fatal;   /* the write callback stopped for good (job->err filled) */
  bool stale;   /* bytes from an earlier run are on disk: a digest mismatch restarts once from 0 */
  unsigned authz_gen;
  int attempts;
  int redirects;
  long long not_before; /* monotonic ms */
  char errbuf[CURL_ERROR_SIZE];
};

static long long
now_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
job_fail (struct xfer *x, int code, const char *fmt, ...)
{
  char buf[NOOK_ERR_MSG_MAX];
  va_list ap;

  va_start (ap, fmt);
  vsnprintf (buf, sizeof (buf), fmt, ap);
  va_end (ap);
  nook_error (&x->job->err, 0, "%s", buf);
  x->job->err.code = code;
  return -1;
}

/* ---- the partial file ---- */

static int
pwrite_all (int fd, const char *buf, size_t len, off_t off)
{
  while (len > 0)
    {
      ssize_t n = pwrite (fd, buf, len, off);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return -1;
      buf += n;
      len -= n;
      off += n;
    }
  return 0;
}

static void
hash_reset (struct xfer *x)
{
  nook_sha256_free (x->hash);
  x->hash = nook_sha256_new ();
  x->have = 0;
}

static int
truncate_partial (struct xfer *x)
{
  hash_reset (x);
  x->reported = 0;
  if (ftruncate (x->fd, 0) < 0)
    return nook_error (&x->job->err, errno, "truncate `%s`", x->job->partial);
  return 0;
}

/* Hash the first SIZE bytes on disk (a resumed download). */
static int
rehash (struct xfer *x, int64_t size)
{
  char buf[65536];

  hash_reset (x);
  while (x->have < size)
    {
      size_t want = size - x->have < (int64_t) sizeof (buf) ? (size_t) (size - x->have) : sizeof (buf);
      ssize_t n = pread (x->fd, buf, want, x->have);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return nook_error (&x->job->err, n < 0 ? errno : EIO, "read `%s`", x->job->partial);
      nook_sha256_update (x->hash, buf, n);
      x->have += n;
    }
  return 0;
}

/* Open the partial file and bring the hash up to what it holds.  1 when it already holds the whole blob. */
static int
prepare_partial (struct xfer *x)
{
  struct stat st;

  if (x->fd < 0)
    {
      x->fd = openat (x->job->dirfd, x->job->partial, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
      if (x->fd < 0)
        return nook_error (&x->job->err, errno, "open `%s`", x->job->partial);
    }
  if (fstat (x->fd, &st) < 0)
    return nook_error (&x->job->err, errno, "fstat `%s`", x->job->partial);
  if (!S_ISREG (st.st_mode))
    return nook_error_input (&x->job->err, "`%s`: not a regular file", x->job->partial);
  if (st.st_size > x->job->size)
    {
      if (truncate_partial (x) < 0)
        return -1;
      st.st_size = 0;
    }
  if (x->hash == NULL || st.st_size != x->have)
    {
      if (rehash (x, st.st_size) < 0)
        return -1;
      x->stale = x->stale || (x->have > 0 && x->state == X_PENDING);
      if (x->have > 0)
        nook_debug ("registry: blob %s: resuming at %lld bytes", x->job->digest, (long long) x->have);
    }
  return x->have == x->job->size ? 1 : 0;
}

static void
report (struct xfer *x, bool finished)
{
  if (x->progress == NULL)
    return;
  x->reported = x->have;
  x->progress (x->ud, x->index, x->have, x->job->size, finished);
}

/* ---- body ---- */

static void
decide_body (struct xfer *x)
{
  long status = 0;

  curl_easy_getinfo (x->h, CURLINFO_RESPONSE_CODE, &status);
  switch (nook_reg_resume_action (status, x->start, x->job->size, x->resp.content_range))
    {
    case NOOK_RESUME_APPEND:
      x->body = BODY_FILE;
      break;
    case NOOK_RESUME_RESTART:
      if (x->start > 0)
        nook_debug ("registry: blob %s: range not honoured, starting over", x->job->digest);
      x->body = BODY_FILE;
      if (x->have > 0 && truncate_partial (x) < 0)
        {
          x->fatal = true;
          x->body = BODY_DROP;
        }
      break;
    case NOOK_RESUME_BAD:
      x->restart = true;
      x->body = BODY_DROP;
      break;
    case NOOK_RESUME_NONE:
      x->body = BODY_MEM;
      break;
    }
}

static size_t
write_mem (struct xfer *x, const char *buf, size_t len)
{
  struct nook_reg_resp *resp = &x->resp;
  size_t keep = resp->len + len > NOOK_REG_ERRBODY_MAX ? NOOK_REG_ERRBODY_MAX - resp->len : len;

  resp->body = xrealloc (resp->body, resp->len + keep + 1);
  memcpy (resp->body + resp->len, buf, keep);
  resp->len += keep;
  resp->body[resp->len] = '\0';
  return len;
}

static size_t
blob_write_cb (char *buf, size_t size, size_t n, void *userdata)
{
  struct xfer *x = userdata;
  size_t len = size * n;

  if (x->body == BODY_UNKNOWN)
    decide_body (x);
  if (x->body == BODY_MEM)
    return write_mem (x, buf, len);
  if (x->body == BODY_DROP)
    return 0;
  if (x->have + (int64_t) len > x->job->size)
    {
      x->fatal = true;
      job_fail (x, EIO, "size mismatch for blob %s: more than the expected %lld bytes", x->job->digest,
                (long long) x->job->size);
      return 0;
    }
  if (pwrite_all (x->fd, buf, len, x->have) < 0)
    {
      x->fatal = true;
      nook_error (&x->job->err, errno, "write `%s`", x->job->partial);
      return 0;
    }
  nook_sha256_update (x->hash, buf, len);
  x->have += len;
  if (x->have - x->reported >= PROGRESS_STEP || x->have == x->job->size)
    report (x, false);
  return len;
}

/* ---- attempts ---- */

static void
pick_source (struct xfer *x)
{
  while (x->source < x->n_urls && !nook_reg_url_is_http (x->job->urls[x->source]))
    x->source++;
  free (x->url);
  if (x->source < x->n_urls)
    {
      x->url = xstrdup (x->job->urls[x->source]);
      x->auth = false;
    }
  else
    {
      x->url = nook_reg_api_url (x->r->scheme, x->r->host, x->r->path, "blobs", x->job->digest);
      x->auth = true;
    }
  x->redirects = 0;
}

static void
finish (struct xfer *x, int result)
{
  x->state = X_DONE;
  x->job->result = result;
  if (result == 0)
    nook_err_clear (&x->job->err);
  if (x->fd >= 0)
    close (x->fd);
  x->fd = -1;
  report (x, true);
}

static void
drop_partial (struct xfer *x)
{
  if (unlinkat (x->job->dirfd, x->job->partial, 0) < 0 && errno != ENOENT)
    nook_warn ("unlink `%s`: %s", x->job->partial, strerror (errno));
  hash_reset (x);
}

static void
verify (struct xfer *x)
{
  char got[72];

  nook_sha256_final (x->hash, got);
  nook_sha256_free (x->hash);
  x->hash = NULL;
  if (strcmp (got, x->job->digest) != 0 && x->stale)
    {
      /* what an earlier run left may be bad: one fresh download before giving up */
      nook_debug ("registry: blob %s: digest mismatch after resuming, downloading again", x->job->digest);
      x->stale = false;
      drop_partial (x);
      if (x->fd >= 0)
        close (x->fd);
      x->fd = -1;
      x->state = X_WAIT;
      x->not_before = now_ms ();
      free (x->url);
      x->url = NULL;
      return;
    }
  if (strcmp (got, x->job->digest) != 0)
    {
      drop_partial (x);
      job_fail (x, EIO, "digest mismatch for blob %s: got %s", x->job->digest, got);
      finish (x, -1);
      return;
    }
  finish (x, 0);
}

/* Start (or restart) the transfer of X.  The job may finish right here (already on disk, or a failure). */
static void
begin (struct xfer *x, CURLM *m)
{
  char range[64];
  int rc = prepare_partial (x);

  if (rc < 0)
    return finish (x, -1);
  if (rc == 1)
    return verify (x);
  if (x->url == NULL)
    pick_source (x);
  if (x->have != x->reported)
    report (x, false);
  snprintf (range, sizeof (range), "bytes=%lld-", (long long) x->have);
  curl_easy_reset (x->h);
  curl_slist_free_all (x->hdrs);
  nook_reg_resp_reset (&x->resp);
  x->resp.h = x->h;
  nook_reg_easy_setup (x->r, x->h, x->url, NULL, x->auth, x->have > 0 ? range : NULL, &x->hdrs, x->errbuf);
  curl_easy_setopt (x->h, CURLOPT_HEADERDATA, &x->resp);
  curl_easy_setopt (x->h, CURLOPT_WRITEFUNCTION, blob_write_cb);
  curl_easy_setopt (x->h, CURLOPT_WRITEDATA, x);
  curl_easy_setopt (x->h, CURLOPT_PRIVATE, x);
  /* an overall deadline: a registry dribbling bytes just above the stall limit still ends */
  curl_easy_setopt (x->h, CURLOPT_TIMEOUT,
                    (long) (NOOK_REG_DEADLINE_BASE + (x->job->size - x->have) / x->r->min_rate));
  x->start = x->have;
  x->body = BODY_UNKNOWN;
  x->restart = false;
  x->authz_gen = x->r->authz_gen;
  nook_debug ("registry: GET %s%s (from byte %lld)", x->url, x->auth && x->r->authz ? " (authorized)" : "",
              (long long) x->have);
  if (curl_multi_add_handle (m, x->h) != CURLM_OK)
    {
      job_fail (x, EIO, "blob %s: curl_multi_add_handle failed", x->job->digest);
      return finish (x, -1);
    }
  x->state = X_ACTIVE;
}

/* A foreign URL failed for good: the next one, or the registry itself. */
static void
next_source (struct xfer *x)
{
  nook_debug ("registry: %s; trying the next source", x->job->err.msg);
  x->source++;
  x->attempts = 0;
  x->state = X_WAIT;
  x->not_before = now_ms ();
  free (x->url);
  x->url = NULL;
  x->tried_auth = false;
}

/* A failed attempt (job->err says why): back off and retry, move to the next source, or give up. */
static void
retry_or_fail (struct xfer *x)
{
  if (++x->attempts <= x->r->max_retries)
    {
      x->state = X_WAIT;
      x->not_before = now_ms () + nook_reg_backoff_ms (x->attempts);
      nook_debug ("registry: %s; retrying (%d/%d)", x->job->err.msg, x->attempts, x->r->max_retries);
    }
  else if (x->source < x->n_urls)
    return next_source (x);
  else
    return finish (x, -1);
  free (x->url);
  x->url = NULL; /* start again from the source, not from a (maybe expired) redirect target */
  x->tried_auth = false;
}

static char *
redirect_of (struct xfer *x, long status)
{
  char *loc = NULL;
  if (status < 300 || status >= 400 || status == 304)
    return NULL;
  if (curl_easy_getinfo (x->h, CURLINFO_REDIRECT_URL, &loc) != CURLE_OK || loc == NULL)
    return NULL;
  return xstrdup (loc);
}

/* 3xx: follow by hand.  Credentials stay behind when the origin changes. */
static void
follow (struct xfer *x, char *next, CURLM *m)
{
  if (++x->redirects > NOOK_REG_MAX_REDIRECTS || !nook_reg_url_is_http (next))
    {
      free (next);
      job_fail (x, EIO, "blob %s: GET %s: too many redirects or a redirect to a non-HTTP URL", x->job->digest, x->url);
      return finish (x, -1);
    }
  if (!nook_reg_same_origin (x->url, next))
    x->auth = false;
  free (x->url);
  x->url = next;
  begin (x, m);
}

/* A 401 from the registry: answer it once (unless another job already renewed the credentials). */
static void
unauthorized (struct xfer *x, CURLM *m)
{
  int rc = 0;

  x->tried_auth = true;
  if (x->authz_gen == x->r->authz_gen)
    rc = nook_reg_authenticate (x->r, x->resp.www_auth, &x->job->err);
  if (rc < 0)
    nook_error_prefix (&x->job->err, "blob %s", x->job->digest);
  else if (rc > 0)
    {
      cleanup_free char *what = xasprintf ("blob %s", x->job->digest);
      nook_reg_unauthorized (&x->job->err, what, x->resp.body, x->resp.len);
    }
  if (rc != 0)
    return finish (x, -1);
  begin (x, m);
}

static void
http_done (struct xfer *x, long status, CURLM *m)
{
  char *next = redirect_of (x, status);

  if (next != NULL)
    return follow (x, next, m);
  if (status == 401 && x->auth && !x->tried_auth)
    return unauthorized (x, m);
  if (status >= 200 && status < 300)
    {
      if (x->have == x->job->size)
        return verify (x);
      job_fail (x, EIO, "blob %s: transfer ended early at %lld of %lld bytes", x->job->digest, (long long) x->have,
                (long long) x->job->size);
      return retry_or_fail (x);
    }
  if (status == 416 && x->start > 0)
    {
      job_fail (x, EIO, "blob %s: range %lld- not satisfiable", x->job->digest, (long long) x->start);
      if (truncate_partial (x) < 0)
        return finish (x, -1);
      return retry_or_fail (x);
    }
  if (status == 404)
    job_fail (x, ENOENT, "blob %s not found", x->job->digest);
  else
    {
      cleanup_free char *what = xasprintf ("blob %s", x->job->digest);
      nook_reg_status_error (&x->job->err, what, x->url, status, x->resp.body, x->resp.len);
    }
  if (nook_reg_retryable (CURLE_OK, status))
    return retry_or_fail (x);
  if (x->source < x->n_urls)
    return next_source (x);
  finish (x, -1);
}

static void
transfer_done (struct xfer *x, CURLcode cc, CURLM *m)
{
  long status = 0;

  curl_easy_getinfo (x->h, CURLINFO_RESPONSE_CODE, &status);
  curl_multi_remove_handle (m, x->h);
  if (x->fatal)
    {
      /* EIO: the server sent more than the blob: what is on disk is suspect; a full disk: give the
         space back, or every later pull fails too */
      if (x->job->err.code == EIO || x->job->err.code == ENOSPC || x->job->err.code == EDQUOT)
        drop_partial (x);
      return finish (x, -1);
    }
  if (x->restart)
    {
      job_fail (x, EIO, "blob %s: unexpected Content-Range `%s`", x->job->digest,
                x->resp.content_range ? x->resp.content_range : "");
      if (truncate_partial (x) < 0)
        return finish (x, -1);
      return retry_or_fail (x);
    }
  if (cc != CURLE_OK)
    {
      nook_reg_curl_error (&x->job->err, x->url, cc, x->errbuf);
      nook_error_prefix (&x->job->err, "blob %s", x->job->digest);
      if (nook_reg_retryable (cc, 0))
        return retry_or_fail (x);
      if (x->source < x->n_urls)
        return next_source (x);
      return finish (x, -1);
    }
  http_done (x, status, m);
}

/* ---- the loop ---- */

static void
start_ready (struct xfer *xs, size_t n, int parallel, CURLM *m)
{
  long long now = now_ms ();
  int busy = 0;

  for (size_t i = 0; i < n; i++)
    busy += xs[i].state == X_ACTIVE || xs[i].state == X_WAIT;
  for (size_t i = 0; i < n; i++)
    {
      if (xs[i].state == X_WAIT && now >= xs[i].not_before)
        begin (&xs[i], m);
      else if (xs[i].state == X_PENDING && busy < parallel)
        {
          busy++;
          begin (&xs[i], m);
        }
    }
}

/* Milliseconds to wait in curl_multi_poll: until the next retry is due, at most 1 s.  -1 when all done. */
static int
next_wait (struct xfer *xs, size_t n)
{
  long long now = now_ms (), wait = 1000;
  bool any = false;

  for (size_t i = 0; i < n; i++)
    {
      if (xs[i].state == X_DONE)
        continue;
      any = true;
      if (xs[i].state == X_WAIT)
        wait = xs[i].not_before - now < wait ? xs[i].not_before - now : wait;
    }
  return any ? (int) (wait < 0 ? 0 : wait) : -1;
}

static int
read_messages (CURLM *m)
{
  CURLMsg *msg;
  int left, done = 0;

  while ((msg = curl_multi_info_read (m, &left)) != NULL)
    {
      struct xfer *x = NULL;
      if (msg->msg != CURLMSG_DONE)
        continue;
      curl_easy_getinfo (msg->easy_handle, CURLINFO_PRIVATE, (char **) &x);
      transfer_done (x, msg->data.result, m);
      done++;
    }
  return done;
}

static int
run_multi (struct xfer *xs, size_t n, int parallel, nook_err *err)
{
  CURLM *m = curl_multi_init ();
  int running, wait;

  if (m == NULL)
    return nook_error (err, ENOMEM, "curl_multi_init");
  for (;;)
    {
      start_ready (xs, n, parallel, m);
      curl_multi_perform (m, &running);
      if (read_messages (m) > 0)
        continue; /* a slot may be free: start the next job before waiting */
      wait = next_wait (xs, n);
      if (wait < 0)
        break;
      curl_multi_poll (m, NULL, 0, wait, NULL);
    }
  curl_multi_cleanup (m);
  return 0;
}

static void
xfer_init (struct xfer *x, struct nook_registry *r, struct nook_blob_job *job, size_t i, nook_progress_fn progress,
           void *ud)
{
  memset (x, 0, sizeof (*x));
  x->r = r;
  x->job = job;
  x->index = i;
  x->progress = progress;
  x->ud = ud;
  x->fd = -1;
  x->state = X_PENDING;
  x->h = curl_easy_init ();
  while (job->urls != NULL && job->urls[x->n_urls] != NULL)
    x->n_urls++;
  nook_err_clear (&job->err);
  job->result = 0;
  if (x->h == NULL)
    {
      nook_error (&job->err, ENOMEM, "curl_easy_init");
      finish (x, -1);
    }
  else if (!nook_digest_valid (job->digest) || job->size < 0 || job->partial == NULL)
    {
      nook_error_input (&job->err, "blob job %zu: invalid digest, size or file name", i);
      finish (x, -1);
    }
}

static void
xfer_cleanup (struct xfer *x)
{
  if (x->h != NULL)
    curl_easy_cleanup (x->h);
  curl_slist_free_all (x->hdrs);
  nook_reg_resp_reset (&x->resp);
  nook_sha256_free (x->hash);
  free (x->url);
  if (x->fd >= 0)
    close (x->fd);
}

int
nook_registry_get_blobs (struct nook_registry *r, struct nook_blob_job *jobs, size_t n, int parallel,
                         nook_progress_fn progress, void *ud, nook_err *err)
{
  cleanup_free struct xfer *xs = NULL;
  int ret = 0;

  if (n == 0)
    return 0;
  if (!r->scheme_decided && nook_reg_ping (r, err) < 0)
    return -1;
  xs = xcalloc (n, sizeof (*xs));
  for (size_t i = 0; i < n; i++)
    xfer_init (&xs[i], r, &jobs[i], i, progress, ud);
  if (run_multi (xs, n, parallel > 0 ? parallel : DEFAULT_PARALLEL, err) < 0)
    ret = -1;
  for (size_t i = 0; i < n; i++)
    {
      if (ret == 0 && jobs[i].result < 0)
        {
          *err = jobs[i].err;
          ret = -1;
        }
      xfer_cleanup (&xs[i]);
    }
  return ret;
}
