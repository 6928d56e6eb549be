/* `nook logs`: print STORE/containers/<id>/userdata/ctr.log (k8s-file) with --timestamps, --tail,
 * --since/--until and --follow. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "manager/ctrstore.h"
#include "manager/logs_internal.h"
#include "manager/monitor.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/strutil.h"

#define FOLLOW_POLL_MS 100
#define OUT_FLUSH_AT 65536

struct printer
{
  bool timestamps;
  int stream;            /* of what OUT holds */
  struct nook_buf out;
  bool failed;
};

static void
printer_flush (struct printer *p)
{
  if (p->out.len && !p->failed
      && nook_write_all (p->stream == NOOK_LOG_STDERR ? STDERR_FILENO : STDOUT_FILENO, p->out.data, p->out.len) < 0)
    p->failed = true; /* a closed pipe: nothing more to say */
  p->out.len = 0;
}

static void
print_entry (void *ctx, const struct nook_log_entry *e)
{
  struct printer *p = ctx;

  if (p->stream != e->stream || p->out.len > OUT_FLUSH_AT)
    printer_flush (p);
  p->stream = e->stream;
  if (p->timestamps)
    {
      nook_buf_add (&p->out, e->ts, strlen (e->ts));
      nook_buf_addc (&p->out, ' ');
    }
  nook_buf_add (&p->out, e->text, e->len);
  if (e->newline)
    nook_buf_addc (&p->out, '\n');
}

/* Feed everything from FD's current offset to EOF.  Returns bytes read, -1 on error. */
static ssize_t
feed_fd (int fd, struct nook_log_reader *r, nook_err *err)
{
  char buf[65536];
  ssize_t n, total = 0;

  while ((n = read (fd, buf, sizeof (buf))) != 0)
    {
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return nook_error (err, errno, "read ctr.log");
      nook_log_reader_feed (r, buf, (size_t) n);
      total += n;
    }
  return total;
}

/* Is the container done producing output?  Its monitor writes userdata/exit last; without one, a record
 * that is not running (or is gone) or whose monitor died means nothing more will come. */
static bool
finished (struct nook_store *s, const char *id, int userdata_fd)
{
  json_t *rec = NULL, *st;
  nook_err ignored;
  const char *status;
  json_int_t mon;
  bool done;

  if (faccessat (userdata_fd, "exit", F_OK, 0) == 0)
    return true;
  if (nook_ctr_read (s, id, &rec, &ignored) < 0)
    return true;
  st = json_object_get (rec, "State");
  status = json_string_value (json_object_get (st, "Status"));
  mon = json_integer_value (json_object_get (st, "ConmonPid"));
  done = status == NULL || (strcmp (status, "running") != 0 && strcmp (status, "paused") != 0)
         || (mon > 0 && kill ((pid_t) mon, 0) < 0 && errno == ESRCH);
  json_decref (rec);
  return done;
}

static int
follow (struct nook_store *s, const char *id, int userdata_fd, int *fd, struct nook_log_reader *r,
        struct printer *p, nook_err *err)
{
  struct timespec pause = { .tv_nsec = FOLLOW_POLL_MS * 1000000L };

  for (;;)
    {
      bool done = finished (s, id, userdata_fd);
      ssize_t n = *fd >= 0 ? feed_fd (*fd, r, err) : 0;

      if (n < 0)
        return -1;
      printer_flush (p);
      if (done || p->failed)
        return 0;
      if (n == 0)
        nanosleep (&pause, NULL);
      if (*fd < 0)
        *fd = openat (userdata_fd, "ctr.log", O_RDONLY | O_CLOEXEC);
    }
}

static int
parse_bounds (const struct nook_logs_opts *o, struct nook_log_reader *r, nook_err *err)
{
  int64_t now = nook_log_now_ns ();

  if (o->since && *o->since && nook_log_parse_time (o->since, now, &r->since_ns, err) < 0)
    return nook_error_prefix (err, "--since");
  if (o->until && *o->until && nook_log_parse_time (o->until, now, &r->until_ns, err) < 0)
    return nook_error_prefix (err, "--until");
  return 0;
}

/* The existing log, with --tail applied. */
static int
print_existing (int fd, const struct nook_logs_opts *o, struct nook_log_reader *r, struct printer *p, nook_err *err)
{
  struct nook_log_tail tail;
  int ret = 0;

  if (o->tail < 0)
    return feed_fd (fd, r, err) < 0 ? -1 : 0;
  nook_log_tail_init (&tail, (size_t) o->tail);
  r->emit = nook_log_tail_push;
  r->ctx = &tail;
  if (feed_fd (fd, r, err) < 0)
    ret = -1;
  if (!o->follow)
    nook_log_reader_flush (r);
  for (size_t i = 0; ret == 0 && i < tail.count; i++)
    print_entry (p, nook_log_tail_get (&tail, i));
  r->emit = print_entry;
  r->ctx = p;
  nook_log_tail_free (&tail);
  return ret;
}

int
nook_logs_print (struct nook_store *s, const char *id, const char *runroot, const struct nook_logs_opts *o,
                 nook_err *err)
{
  cleanup_free char *dir = nook_ctr_dir (s, id);
  cleanup_free char *ud = xasprintf ("%s/userdata", dir);
  cleanup_close int userdata_fd = -1, fd = -1;
  struct printer p = { .timestamps = o->timestamps, .stream = NOOK_LOG_STDOUT };
  struct nook_log_reader r;
  int ret = -1;

  nook_log_reader_init (&r, print_entry, &p);
  if (parse_bounds (o, &r, err) < 0)
    goto out;
  userdata_fd = open (ud, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (userdata_fd < 0)
    {
      nook_error (err, errno, "open `%s`", ud);
      goto out;
    }
  fd = openat (userdata_fd, "ctr.log", O_RDONLY | O_CLOEXEC);
  if (fd < 0 && errno != ENOENT)
    {
      nook_error (err, errno, "open `%s/ctr.log`", ud);
      goto out;
    }
  if (fd >= 0 && print_existing (fd, o, &r, &p, err) < 0)
    goto out;
  if (o->follow && follow (s, id, userdata_fd, &fd, &r, &p, err) < 0)
    goto out;
  nook_log_reader_flush (&r);
  ret = 0;
out:
  printer_flush (&p);
  nook_buf_free (&p.out);
  nook_log_reader_free (&r);
  return ret;
}
