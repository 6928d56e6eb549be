/* The container log (k8s-file format) as pure functions: the monitor's writer, the `logs` reader, and the
 * time parsing of --since/--until.  Also the attach wire format and the detach-key matcher (shared by the
 * monitor and the attach client).
 *
 *   2024-05-01T10:00:00.123456789Z stdout F a whole line
 *   2024-05-01T10:00:00.123456789Z stderr P a piece without its newline (continued by the next line(s))
 */
#ifndef NOOK_MANAGER_LOGS_INTERNAL_H
#define NOOK_MANAGER_LOGS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

enum
{
  NOOK_LOG_STDOUT = 1,
  NOOK_LOG_STDERR = 2,
};

/* A growing byte buffer. */
struct nook_buf
{
  char *data;
  size_t len, cap;
};
void nook_buf_add (struct nook_buf *b, const void *data, size_t len);
void nook_buf_addc (struct nook_buf *b, char c);
/* Drop the first N bytes. */
void nook_buf_consume (struct nook_buf *b, size_t n);
void nook_buf_free (struct nook_buf *b);

/* Timestamps: nanoseconds since the epoch <-> "2024-05-01T10:00:00.123456789Z" (BUF >= 40 bytes). */
int64_t nook_log_now_ns (void);
void nook_log_format_ts (int64_t ns, char *buf, size_t len);
/* RFC 3339 with optional fraction and "Z" or "+hh:mm" (no zone: local time); also "YYYY-MM-DD" (UTC).
 * false on junk. */
bool nook_log_parse_rfc3339 (const char *s, int64_t *ns);
/* Go-style duration: "10s", "5m", "2h", "1h30m", "1.5h", "300ms", "10us", "10ns".  false on junk. */
bool nook_log_parse_duration (const char *s, int64_t *ns);
/* --since / --until: RFC 3339, a duration (NOW - it), or unix seconds ("1700000000[.5]"). */
int nook_log_parse_time (const char *s, int64_t now_ns, int64_t *ns, nook_err *err);

/* Writer: format one chunk read from STREAM at time TS as log lines appended to OUT: each complete line
 * "F", the trailing piece without a newline "P".  An empty chunk writes nothing. */
void nook_log_format (struct nook_buf *out, const char *ts, int stream, const char *data, size_t len);

/* One parsed log line; TEXT points into the line given to the parser (not NUL-terminated). */
struct nook_log_line
{
  int64_t ns;
  const char *ts;
  size_t ts_len;
  int stream;
  bool partial;
  const char *text;
  size_t len;
};
/* Parse LINE (without its '\n').  -1 with ERR naming what is wrong. */
int nook_log_parse_line (const char *line, size_t len, struct nook_log_line *out, nook_err *err);

/* A logical line: "P" pieces joined with the "F" that ends them.  NEWLINE false for a piece that never got
 * its end (the output stopped without a newline). */
struct nook_log_entry
{
  int64_t ns;
  char ts[40];
  int stream;
  const char *text;
  size_t len;
  bool newline;
};

typedef void (*nook_log_emit_fn) (void *ctx, const struct nook_log_entry *e);

/* Reader: feed it raw log bytes in any chunks; it splits lines, joins pieces (per stream), filters by time
 * and calls EMIT for each logical line.  Malformed lines are skipped and counted. */
struct nook_log_reader
{
  int64_t since_ns, until_ns;   /* 0: no bound */
  nook_log_emit_fn emit;
  void *ctx;
  struct nook_buf line;         /* bytes of an incomplete line */
  struct nook_buf pend[3];      /* joined pieces per stream */
  int64_t pend_ns[3];
  char pend_ts[3][40];
  bool has_pend[3];
  size_t bad;                   /* malformed lines seen */
};
void nook_log_reader_init (struct nook_log_reader *r, nook_log_emit_fn emit, void *ctx);
void nook_log_reader_feed (struct nook_log_reader *r, const char *data, size_t len);
/* End of input: emit pieces still waiting for their end (NEWLINE false). */
void nook_log_reader_flush (struct nook_log_reader *r);
void nook_log_reader_free (struct nook_log_reader *r);

/* The last N entries (tail): a ring that keeps copies. */
struct nook_log_tail
{
  struct nook_log_entry *ring;
  char **texts;
  size_t n, head, count;
};
void nook_log_tail_init (struct nook_log_tail *t, size_t n);
void nook_log_tail_push (void *tail, const struct nook_log_entry *e); /* a nook_log_emit_fn */
/* Oldest first: I in [0, count). */
const struct nook_log_entry *nook_log_tail_get (const struct nook_log_tail *t, size_t i);
void nook_log_tail_free (struct nook_log_tail *t);

/* ---- attach wire format (see monitor.h) ---- */
enum
{
  NOOK_ATTACH_STDIN = 1,   /* client -> monitor */
  NOOK_ATTACH_WINSIZE = 2,
  NOOK_ATTACH_STDIN_EOF = 3,
  NOOK_ATTACH_SIGNAL = 4,
  NOOK_ATTACH_READY = 5,   /* the client's initial frames (window size) are sent: start (WAIT_ATTACH) */
  NOOK_ATTACH_OUT = 1,     /* monitor -> client */
  NOOK_ATTACH_ERR = 2,
  NOOK_ATTACH_EXIT = 3,
  NOOK_ATTACH_FAILED = 4,  /* the container could not start: "STATUS MESSAGE" */
};
#define NOOK_ATTACH_HDR 5
#define NOOK_ATTACH_MAX_FRAME (1U << 20)
/* Append one frame to OUT. */
void nook_attach_frame (struct nook_buf *out, int type, const void *data, size_t len);
/* A whole frame at the start of BUF?  1: *TYPE, *PAYLOAD, *PLEN and *TOTAL (bytes to consume) set;
 * 0: need more bytes; -1: a bad frame (too long). */
int nook_attach_frame_next (const char *buf, size_t len, int *type, const char **payload, size_t *plen,
                            size_t *total);

/* ---- detach keys ---- */
#define NOOK_DETACH_KEYS_DEFAULT "ctrl-p,ctrl-q"
struct nook_detach
{
  unsigned char keys[16];
  size_t n;       /* 0: detaching disabled */
  size_t matched; /* how many of KEYS the input ended with so far (held back) */
};
/* "ctrl-p,ctrl-q", "a,ctrl-[", "" (none); NULL: the default.  -1 with ERR on a bad spec. */
int nook_detach_parse (const char *spec, struct nook_detach *d, nook_err *err);
/* Filter IN: bytes to forward go to OUT (held-back prefixes of the sequence are released when the match
 * breaks).  Returns true when the whole sequence was typed (the rest of IN is dropped). */
bool nook_detach_filter (struct nook_detach *d, const char *in, size_t len, struct nook_buf *out);

#endif
