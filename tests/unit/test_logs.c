/* The container log format (writer, parser, reader with joins, tail, time bounds), the attach frames and
 * the detach keys. */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "manager/logs_internal.h"

#define TS "2024-05-01T10:00:00.123456789Z"

static void
test_format_lines (void)
{
  struct nook_buf b = { 0 };

  nook_log_format (&b, TS, NOOK_LOG_STDOUT, "a\nbc\n", 5);
  CHECK_STR (b.data, TS " stdout F a\n" TS " stdout F bc\n");
  b.len = 0;
  nook_log_format (&b, TS, NOOK_LOG_STDERR, "x\npart", 6);
  CHECK_STR (b.data, TS " stderr F x\n" TS " stderr P part\n");
  b.len = 0;
  nook_log_format (&b, TS, NOOK_LOG_STDOUT, "\n\n", 2);
  CHECK_STR (b.data, TS " stdout F \n" TS " stdout F \n");
  b.len = 0;
  nook_log_format (&b, TS, NOOK_LOG_STDOUT, "", 0);
  CHECK (b.len == 0);
  nook_buf_free (&b);
}

static void
test_parse_line (void)
{
  struct nook_log_line l;
  nook_err err;
  const char *ok = TS " stderr P hello world";
  const char *empty = TS " stdout F";

  CHECK (nook_log_parse_line (ok, strlen (ok), &l, &err) == 0);
  CHECK (l.stream == NOOK_LOG_STDERR && l.partial && l.len == 11 && memcmp (l.text, "hello world", 11) == 0);
  CHECK (l.ns == 1714557600123456789LL);
  CHECK (nook_log_parse_line (empty, strlen (empty), &l, &err) == 0);
  CHECK (l.stream == NOOK_LOG_STDOUT && !l.partial && l.len == 0);
  CHECK (nook_log_parse_line ("garbage", 7, &l, &err) < 0);
  CHECK (nook_log_parse_line ("nottime stdout F x", 18, &l, &err) < 0);
  CHECK (strstr (err.msg, "timestamp") != NULL);
  CHECK (nook_log_parse_line (TS " stdin F x", strlen (TS) + 10, &l, &err) < 0);
  CHECK (strstr (err.msg, "stream") != NULL);
  CHECK (nook_log_parse_line (TS " stdout X x", strlen (TS) + 11, &l, &err) < 0);
  CHECK (strstr (err.msg, "tag") != NULL);
  CHECK (nook_log_parse_line (TS " stdout Fx", strlen (TS) + 10, &l, &err) < 0);
}

struct collect
{
  struct nook_buf text;
  int n;
};

static void
collect (void *ctx, const struct nook_log_entry *e)
{
  struct collect *c = ctx;
  nook_buf_addc (&c->text, e->stream == NOOK_LOG_STDERR ? 'E' : 'O');
  nook_buf_addc (&c->text, ':');
  nook_buf_add (&c->text, e->text, e->len);
  nook_buf_add (&c->text, e->newline ? "|\n" : "|", e->newline ? 2 : 1);
  c->n++;
}

static void
test_reader_joins (void)
{
  struct collect c = { 0 };
  struct nook_log_reader r;
  const char *log = TS " stdout P ab\n" TS " stderr F err\n" TS " stdout P cd\n" TS " stdout F ef\n"
                    "junk line\n" TS " stdout F last\n" TS " stderr P tail";

  nook_log_reader_init (&r, collect, &c);
  /* fed in awkward pieces */
  for (size_t i = 0; i < strlen (log); i += 7)
    nook_log_reader_feed (&r, log + i, strlen (log) - i < 7 ? strlen (log) - i : 7);
  CHECK_STR (c.text.data, "E:err|\nO:abcdef|\nO:last|\n");
  /* the last line has no '\n' yet: not seen until more comes */
  nook_log_reader_feed (&r, "\n", 1);
  nook_log_reader_flush (&r);
  CHECK_STR (c.text.data, "E:err|\nO:abcdef|\nO:last|\nE:tail|");
  CHECK (r.bad == 1);
  nook_log_reader_free (&r);
  nook_buf_free (&c.text);
}

static void
test_round_trip (void)
{
  struct nook_buf log = { 0 };
  struct collect c = { 0 };
  struct nook_log_reader r;

  nook_log_format (&log, TS, NOOK_LOG_STDOUT, "hel", 3);
  nook_log_format (&log, TS, NOOK_LOG_STDOUT, "lo\nwor", 6);
  nook_log_format (&log, TS, NOOK_LOG_STDOUT, "ld\n", 3);
  nook_log_reader_init (&r, collect, &c);
  nook_log_reader_feed (&r, log.data, log.len);
  nook_log_reader_flush (&r);
  CHECK_STR (c.text.data, "O:hello|\nO:world|\n");
  nook_log_reader_free (&r);
  nook_buf_free (&c.text);
  nook_buf_free (&log);
}

static void
test_tail (void)
{
  struct nook_log_tail t;
  struct nook_log_reader r;
  struct nook_buf log = { 0 };
  char line[16];

  for (int i = 0; i < 10; i++)
    {
      snprintf (line, sizeof (line), "%d\n", i);
      nook_log_format (&log, TS, NOOK_LOG_STDOUT, line, strlen (line));
    }
  nook_log_tail_init (&t, 3);
  nook_log_reader_init (&r, nook_log_tail_push, &t);
  nook_log_reader_feed (&r, log.data, log.len);
  CHECK (t.count == 3);
  CHECK (nook_log_tail_get (&t, 0)->len == 1 && nook_log_tail_get (&t, 0)->text[0] == '7');
  CHECK (nook_log_tail_get (&t, 2)->text[0] == '9');
  CHECK_STR (nook_log_tail_get (&t, 2)->ts, TS);
  nook_log_tail_free (&t);
  nook_log_reader_free (&r);
  /* tail 0: nothing */
  nook_log_tail_init (&t, 0);
  nook_log_reader_init (&r, nook_log_tail_push, &t);
  nook_log_reader_feed (&r, log.data, log.len);
  CHECK (t.count == 0);
  nook_log_tail_free (&t);
  nook_log_reader_free (&r);
  nook_buf_free (&log);
}

static void
test_since_until_filter (void)
{
  struct collect c = { 0 };
  struct nook_log_reader r;
  const char *log = "2024-05-01T10:00:00Z stdout F a\n2024-05-01T10:00:05Z stdout F b\n"
                    "2024-05-01T10:00:10Z stdout F c\n";
  nook_err err;

  nook_log_reader_init (&r, collect, &c);
  CHECK (nook_log_parse_time ("2024-05-01T10:00:05Z", 0, &r.since_ns, &err) == 0);
  CHECK (nook_log_parse_time ("2024-05-01T12:00:07+02:00", 0, &r.until_ns, &err) == 0);
  nook_log_reader_feed (&r, log, strlen (log));
  CHECK_STR (c.text.data, "O:b|\n");
  nook_log_reader_free (&r);
  nook_buf_free (&c.text);
}

static void
test_time_parsing (void)
{
  int64_t ns, now = 1000LL * 1000000000LL;
  nook_err err;

  CHECK (nook_log_parse_rfc3339 ("1970-01-01T00:00:01Z", &ns) && ns == 1000000000LL);
  CHECK (nook_log_parse_rfc3339 ("1970-01-01T00:00:01.5Z", &ns) && ns == 1500000000LL);
  CHECK (nook_log_parse_rfc3339 ("1970-01-01T01:00:00+01:00", &ns) && ns == 0);
  CHECK (nook_log_parse_rfc3339 ("1970-01-02", &ns) && ns == 86400LL * 1000000000LL);
  CHECK (!nook_log_parse_rfc3339 ("1970-13-01T00:00:00Z", &ns));
  setenv ("TZ", "UTC", 1);
  CHECK (nook_log_parse_rfc3339 ("1970-01-01T00:00:02", &ns) && ns == 2000000000LL); /* local time */
  CHECK (!nook_log_parse_rfc3339 ("1970-01-01T00:00:00X", &ns));
  CHECK (!nook_log_parse_rfc3339 ("yesterday", &ns));
  CHECK (nook_log_parse_duration ("10s", &ns) && ns == 10000000000LL);
  CHECK (nook_log_parse_duration ("5m", &ns) && ns == 300000000000LL);
  CHECK (nook_log_parse_duration ("1h30m", &ns) && ns == 5400000000000LL);
  CHECK (nook_log_parse_duration ("1.5h", &ns) && ns == 5400000000000LL);
  CHECK (nook_log_parse_duration ("300ms", &ns) && ns == 300000000LL);
  CHECK (!nook_log_parse_duration ("10", &ns));
  CHECK (!nook_log_parse_duration ("10x", &ns));
  CHECK (!nook_log_parse_duration ("", &ns));
  CHECK (nook_log_parse_time ("10s", now, &ns, &err) == 0 && ns == now - 10000000000LL);
  CHECK (nook_log_parse_time ("1700000000", now, &ns, &err) == 0 && ns == 1700000000LL * 1000000000LL);
  CHECK (nook_log_parse_time ("1700000000.25", now, &ns, &err) == 0 && ns == 1700000000250000000LL);
  CHECK (nook_log_parse_time ("soon", now, &ns, &err) < 0 && strstr (err.msg, "soon") != NULL);
}

static void
test_ts_format (void)
{
  char buf[40];
  int64_t ns;

  nook_log_format_ts (1714557600123456789LL, buf, sizeof (buf));
  CHECK_STR (buf, TS);
  CHECK (nook_log_parse_rfc3339 (buf, &ns) && ns == 1714557600123456789LL);
}

static void
test_frames (void)
{
  struct nook_buf b = { 0 };
  int type;
  const char *p;
  size_t plen, total;

  nook_attach_frame (&b, NOOK_ATTACH_OUT, "hi", 2);
  nook_attach_frame (&b, NOOK_ATTACH_EXIT, "127", 3);
  CHECK (b.len == 15);
  CHECK (nook_attach_frame_next (b.data, 4, &type, &p, &plen, &total) == 0);
  CHECK (nook_attach_frame_next (b.data, 6, &type, &p, &plen, &total) == 0);
  CHECK (nook_attach_frame_next (b.data, b.len, &type, &p, &plen, &total) == 1);
  CHECK (type == NOOK_ATTACH_OUT && plen == 2 && memcmp (p, "hi", 2) == 0 && total == 7);
  nook_buf_consume (&b, total);
  CHECK (nook_attach_frame_next (b.data, b.len, &type, &p, &plen, &total) == 1);
  CHECK (type == NOOK_ATTACH_EXIT && plen == 3 && memcmp (p, "127", 3) == 0);
  CHECK (nook_attach_frame_next ("\1\xff\xff\xff\xff", 5, &type, &p, &plen, &total) == -1);
  nook_buf_free (&b);
}

static void
test_detach_parse (void)
{
  struct nook_detach d;
  nook_err err;

  CHECK (nook_detach_parse (NULL, &d, &err) == 0 && d.n == 2 && d.keys[0] == 16 && d.keys[1] == 17);
  CHECK (nook_detach_parse ("", &d, &err) == 0 && d.n == 0);
  CHECK (nook_detach_parse ("a,ctrl-[,ctrl-@,ctrl-_", &d, &err) == 0 && d.n == 4);
  CHECK (d.keys[0] == 'a' && d.keys[1] == 27 && d.keys[2] == 0 && d.keys[3] == 31);
  CHECK (nook_detach_parse ("ctrl-", &d, &err) < 0);
  CHECK (nook_detach_parse ("ctrl-1", &d, &err) < 0);
  CHECK (nook_detach_parse ("ab", &d, &err) < 0);
  CHECK (nook_detach_parse ("a,", &d, &err) < 0 && strstr (err.msg, "detach keys") != NULL);
}

static void
test_detach_filter (void)
{
  struct nook_detach d;
  struct nook_buf out = { 0 };
  nook_err err;

  nook_detach_parse ("ctrl-p,ctrl-q", &d, &err);
  CHECK (!nook_detach_filter (&d, "ab\x10", 3, &out));
  CHECK (out.len == 2 && memcmp (out.data, "ab", 2) == 0); /* ctrl-p held back */
  CHECK (!nook_detach_filter (&d, "x", 1, &out));
  CHECK (out.len == 4 && memcmp (out.data, "ab\x10x", 4) == 0); /* released */
  out.len = 0;
  CHECK (!nook_detach_filter (&d, "\x10\x10", 2, &out));
  CHECK (out.len == 1 && out.data[0] == 0x10);
  CHECK (nook_detach_filter (&d, "\x11rest", 5, &out));
  CHECK (out.len == 1);
  out.len = 0;
  nook_detach_parse ("", &d, &err);
  CHECK (!nook_detach_filter (&d, "\x10\x11", 2, &out) && out.len == 2);
  out.len = 0;
  nook_detach_parse ("z", &d, &err);
  CHECK (nook_detach_filter (&d, "abz", 3, &out) && out.len == 2);
  nook_buf_free (&out);
}

int
main (void)
{
  RUN (test_format_lines);
  RUN (test_parse_line);
  RUN (test_reader_joins);
  RUN (test_round_trip);
  RUN (test_tail);
  RUN (test_since_until_filter);
  RUN (test_time_parsing);
  RUN (test_ts_format);
  RUN (test_frames);
  RUN (test_detach_parse);
  RUN (test_detach_filter);
  return HARNESS_END ();
}
