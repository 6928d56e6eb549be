/* The port forwarder of root bridge networking: one child process, one epoll loop.
 *
 * TCP: every accepted connection gets a non-blocking connect to CTR_IP:ctr_port (+ its offset in a range);
 * data is copied both ways through a buffer per direction (a full buffer stops reading its source: back
 * pressure), an EOF is passed on as shutdown (SHUT_WR), and the pair is closed once both directions are done
 * or either side fails.  UDP: one connected socket per client address, replies go back with sendto; sessions
 * idle for FWD_UDP_IDLE seconds are closed (the least recently used one first when the table is full).
 * Objects closed while an epoll batch is being handled are freed after the batch. */
#include "net/net_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/strutil.h"
#include "util/syscalls.h"

#define FWD_BUF (64 * 1024)    /* per direction of a TCP connection */
#define FWD_MAX_CONNS 16384    /* more are accepted and closed at once */
#define FWD_MAX_UDP 4096       /* more evict the least recently used session */
#define FWD_UDP_IDLE 60
#define FWD_UDP_BUCKETS 4096
#define FWD_BATCH 64           /* accepts / datagrams / copy rounds per event */

enum ref_kind
{
  REF_TCP_LISTEN,
  REF_UDP_LISTEN,
  REF_CONN,
  REF_UDP,
};

/* What an epoll event points at. */
struct ref
{
  enum ref_kind kind;
  void *obj;
  int side;
};

struct listener
{
  struct ref ref;
  int fd;
  bool udp;
  struct sockaddr_storage dst;   /* the container's address for this host port */
  socklen_t dstlen;
};

struct dirbuf
{
  size_t off, len;
  char data[FWD_BUF];
};

struct conn
{
  struct ref ref[2];
  int fd[2];              /* 0: the client, 1: the container */
  uint32_t mask[2];       /* epoll events registered (0: not registered) */
  bool eof[2];            /* fd[i] has nothing more to read */
  bool shut[2];           /* everything read from fd[i] was delivered and fd[1-i] is shut for writing */
  bool connecting, dead;
  struct conn *next_dead;
  struct dirbuf buf[2];   /* buf[i]: read from fd[i], to write to fd[1-i] */
};

struct udp_sess
{
  struct ref ref;
  int fd;                 /* connected to the container's port */
  bool dead;
  struct listener *l;
  struct sockaddr_storage peer;
  socklen_t peerlen;
  time_t last;
  struct udp_sess *hnext, *prev, *next, *next_dead;   /* hash chain; LRU list (head: most recent) */
};

struct fwd
{
  int ep;
  int reserve_fd;         /* given up to accept-and-close a connection when out of descriptors */
  struct listener *ls;
  size_t n_ls;
  size_t n_conns, n_udp;
  struct conn *dead_conns;
  struct udp_sess *dead_udp;
  struct udp_sess *buckets[FWD_UDP_BUCKETS];
  struct udp_sess *lru_head, *lru_tail;
  char dgram[65536];
};

static time_t
now_s (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec;
}

/* ---- binding (in the child, before it reports) ---- */

static int
bind_all (struct fwd *f, const struct nook_port *ports, size_t n, const char *ctr_ip, nook_err *err)
{
  size_t total = 0;

  for (size_t i = 0; i < n; i++)
    total += ports[i].count ? ports[i].count : 1;
  f->ls = xcalloc (total ? total : 1, sizeof (*f->ls));
  for (size_t i = 0; i < n; i++)
    for (uint32_t k = 0; k < (ports[i].count ? ports[i].count : 1u); k++)
      {
        struct listener *l = &f->ls[f->n_ls];
        struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &l->ref };

        l->udp = ports[i].udp;
        l->ref = (struct ref) { l->udp ? REF_UDP_LISTEN : REF_TCP_LISTEN, l, 0 };
        nook_port_sockaddr (ctr_ip, (uint16_t) (ports[i].ctr_port + k), &l->dst, &l->dstlen);
        l->fd = nook_port_listen (&ports[i], (uint16_t) (ports[i].host_port + k), SOCK_NONBLOCK, SOMAXCONN, err);
        if (l->fd < 0)
          return -1;
        f->n_ls++;
        if (epoll_ctl (f->ep, EPOLL_CTL_ADD, l->fd, &ev) < 0)
          return nook_error (err, errno, "epoll_ctl");
      }
  return 0;
}

/* ---- TCP ---- */

/* Register FD for WANT (0: unregister), from what is registered now (*CUR). */
static void
ep_update (struct fwd *f, int fd, struct ref *ref, uint32_t *cur, uint32_t want)
{
  struct epoll_event ev = { .events = want, .data.ptr = ref };

  if (want == *cur)
    return;
  if (want == 0)
    epoll_ctl (f->ep, EPOLL_CTL_DEL, fd, NULL);
  else
    epoll_ctl (f->ep, *cur ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &ev);
  *cur = want;
}

static void
conn_close (struct fwd *f, struct conn *c)
{
  if (c->dead)
    return;
  close (c->fd[0]);
  close (c->fd[1]);
  c->dead = true;
  c->next_dead = f->dead_conns;
  f->dead_conns = c;
  f->n_conns--;
}

/* Read from side S when its buffer has room; write to S what the other side sent. */
static void
conn_update (struct fwd *f, struct conn *c)
{
  for (int s = 0; s < 2; s++)
    {
      uint32_t want = 0;
      if (!c->eof[s] && !(s == 1 && c->connecting) && c->buf[s].off + c->buf[s].len < FWD_BUF)
        want |= EPOLLIN;
      if ((s == 1 && c->connecting) || (!c->connecting && c->buf[1 - s].len > 0))
        want |= EPOLLOUT;
      ep_update (f, c->fd[s], &c->ref[s], &c->mask[s], want);
    }
}

/* Move data read from side D to the other side.  -1 when the connection failed. */
static int
conn_pump (struct conn *c, int d)
{
  struct dirbuf *b = &c->buf[d];
  ssize_t r;

  if (c->connecting && d == 1)
    return 0;   /* nothing to read from the container yet, nothing to write to it */
  for (int round = 0; round < FWD_BATCH; round++)
    {
      if (b->len > 0 && !c->connecting)
        {
          r = send (c->fd[1 - d], b->data + b->off, b->len, MSG_NOSIGNAL);
          if (r < 0)
            {
              if (errno == EAGAIN || errno == EINTR)
                break;
              return -1;
            }
          b->off += (size_t) r;
          b->len -= (size_t) r;
          if (b->len == 0)
            b->off = 0;
          continue;
        }
      if (c->eof[d] || b->off + b->len >= FWD_BUF)
        break;
      r = recv (c->fd[d], b->data + b->off + b->len, FWD_BUF - b->off - b->len, 0);
      if (r == 0)
        c->eof[d] = true;
      else if (r < 0 && errno != EINTR)
        {
          if (errno == EAGAIN)
            break;
          return -1;
        }
      else if (r > 0)
        b->len += (size_t) r;
    }
  if (c->eof[d] && b->len == 0 && !c->shut[d] && !c->connecting)
    {
      shutdown (c->fd[1 - d], SHUT_WR);
      c->shut[d] = true;
    }
  return 0;
}

static bool
sock_failed (int fd)
{
  int e = 0;
  socklen_t len = sizeof (e);
  return getsockopt (fd, SOL_SOCKET, SO_ERROR, &e, &len) < 0 || e != 0;
}

static void
conn_event (struct fwd *f, struct conn *c, int side, uint32_t events)
{
  if (c->dead)
    return;
  if (side == 1 && c->connecting)
    {
      if (sock_failed (c->fd[1]))
        {
          conn_close (f, c);   /* refused or unreachable: the client sees its connection closed */
          return;
        }
      c->connecting = false;
    }
  else if ((events & EPOLLERR) && sock_failed (c->fd[side]))
    {
      conn_close (f, c);
      return;
    }
  if (conn_pump (c, 0) < 0 || conn_pump (c, 1) < 0 || (c->shut[0] && c->shut[1]))
    {
      conn_close (f, c);
      return;
    }
  conn_update (f, c);
}

static void
conn_new (struct fwd *f, struct listener *l, int client)
{
  struct conn *c;
  int fd = socket (l->dst.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

  if (fd < 0)
    {
      close (client);
      return;
    }
  c = xmalloc (sizeof (*c));
  memset (c, 0, offsetof (struct conn, buf[0].data));
  c->buf[1].off = c->buf[1].len = 0;
  c->fd[0] = client;
  c->fd[1] = fd;
  c->ref[0] = (struct ref) { REF_CONN, c, 0 };
  c->ref[1] = (struct ref) { REF_CONN, c, 1 };
  f->n_conns++;
  if (connect (fd, (struct sockaddr *) &l->dst, l->dstlen) < 0)
    {
      if (errno != EINPROGRESS)
        {
          conn_close (f, c);
          return;
        }
      c->connecting = true;
    }
  conn_update (f, c);
}

/* Out of descriptors: take the oldest pending connection and close it, so the listener does not spin. */
static void
accept_refuse (struct fwd *f, struct listener *l)
{
  int fd;

  if (f->reserve_fd < 0)
    return;
  close (f->reserve_fd);
  fd = accept4 (l->fd, NULL, NULL, SOCK_CLOEXEC);
  if (fd >= 0)
    close (fd);
  f->reserve_fd = open ("/dev/null", O_RDONLY | O_CLOEXEC);
}

static void
tcp_accept (struct fwd *f, struct listener *l)
{
  for (int i = 0; i < FWD_BATCH; i++)
    {
      int fd = accept4 (l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0)
        {
          if (errno == EMFILE || errno == ENFILE)
            accept_refuse (f, l);
          if (errno == EINTR || errno == ECONNABORTED)
            continue;
          return;
        }
      if (f->n_conns >= FWD_MAX_CONNS)
        close (fd);
      else
        conn_new (f, l, fd);
    }
}

/* ---- UDP ---- */

static size_t
udp_hash (const struct listener *l, const struct sockaddr_storage *peer, socklen_t len)
{
  const unsigned char *p = (const unsigned char *) peer;
  uint64_t h = 1469598103934665603ULL ^ (uintptr_t) l;

  for (socklen_t i = 0; i < len; i++)
    h = (h ^ p[i]) * 1099511628211ULL;
  return (size_t) (h % FWD_UDP_BUCKETS);
}

static void
lru_unlink (struct fwd *f, struct udp_sess *s)
{
  if (s->prev)
    s->prev->next = s->next;
  else
    f->lru_head = s->next;
  if (s->next)
    s->next->prev = s->prev;
  else
    f->lru_tail = s->prev;
  s->prev = s->next = NULL;
}

static void
lru_push (struct fwd *f, struct udp_sess *s)
{
  if (s->prev != NULL || f->lru_head == s)
    lru_unlink (f, s);
  s->next = f->lru_head;
  s->prev = NULL;
  if (f->lru_head)
    f->lru_head->prev = s;
  f->lru_head = s;
  if (f->lru_tail == NULL)
    f->lru_tail = s;
}

static void
udp_close (struct fwd *f, struct udp_sess *s)
{
  struct udp_sess **pp = &f->buckets[udp_hash (s->l, &s->peer, s->peerlen)];

  while (*pp != s)
    pp = &(*pp)->hnext;
  *pp = s->hnext;
  lru_unlink (f, s);
  close (s->fd);
  s->dead = true;
  s->next_dead = f->dead_udp;
  f->dead_udp = s;
  f->n_udp--;
}

static struct udp_sess *
udp_find (struct fwd *f, struct listener *l, const struct sockaddr_storage *peer, socklen_t len)
{
  for (struct udp_sess *s = f->buckets[udp_hash (l, peer, len)]; s; s = s->hnext)
    if (s->l == l && s->peerlen == len && memcmp (&s->peer, peer, len) == 0)
      return s;
  return NULL;
}

static struct udp_sess *
udp_new (struct fwd *f, struct listener *l, const struct sockaddr_storage *peer, socklen_t len)
{
  struct udp_sess *s;
  struct epoll_event ev = { .events = EPOLLIN };
  size_t h = udp_hash (l, peer, len);
  int fd;

  if (f->n_udp >= FWD_MAX_UDP && f->lru_tail != NULL)
    udp_close (f, f->lru_tail);
  fd = socket (l->dst.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return NULL;
  if (connect (fd, (struct sockaddr *) &l->dst, l->dstlen) < 0)
    {
      close (fd);
      return NULL;
    }
  s = xcalloc (1, sizeof (*s));
  s->fd = fd;
  s->l = l;
  memcpy (&s->peer, peer, len);
  s->peerlen = len;
  s->ref = (struct ref) { REF_UDP, s, 0 };
  ev.data.ptr = &s->ref;
  if (epoll_ctl (f->ep, EPOLL_CTL_ADD, fd, &ev) < 0)
    {
      close (fd);
      free (s);
      return NULL;
    }
  s->hnext = f->buckets[h];
  f->buckets[h] = s;
  lru_push (f, s);
  f->n_udp++;
  return s;
}

/* Datagrams from clients to the host port: through the client's session to the container. */
static void
udp_from_client (struct fwd *f, struct listener *l)
{
  for (int i = 0; i < FWD_BATCH; i++)
    {
      struct sockaddr_storage peer;
      socklen_t len = sizeof (peer);
      struct udp_sess *s;
      ssize_t r = recvfrom (l->fd, f->dgram, sizeof (f->dgram), 0, (struct sockaddr *) &peer, &len);

      if (r < 0)
        {
          if (errno == EINTR)
            continue;
          return;
        }
      s = udp_find (f, l, &peer, len);
      if (s == NULL && (s = udp_new (f, l, &peer, len)) == NULL)
        continue;   /* dropped, as a busy network would */
      send (s->fd, f->dgram, (size_t) r, MSG_NOSIGNAL | MSG_DONTWAIT);
      s->last = now_s ();
      lru_push (f, s);
    }
}

/* Replies from the container: back to the client from the host port. */
static void
udp_from_ctr (struct fwd *f, struct udp_sess *s)
{
  if (s->dead)
    return;
  for (int i = 0; i < FWD_BATCH; i++)
    {
      ssize_t r = recv (s->fd, f->dgram, sizeof (f->dgram), 0);
      if (r < 0)
        {
          if (errno == EAGAIN)
            return;
          continue;   /* ECONNREFUSED (ICMP from the container) and the like: nothing to pass on */
        }
      sendto (s->l->fd, f->dgram, (size_t) r, MSG_DONTWAIT, (struct sockaddr *) &s->peer, s->peerlen);
      s->last = now_s ();
    }
}

static void
udp_sweep (struct fwd *f, time_t now)
{
  while (f->lru_tail != NULL && now - f->lru_tail->last >= FWD_UDP_IDLE)
    udp_close (f, f->lru_tail);
}

/* ---- the loop ---- */

static void
free_dead (struct fwd *f)
{
  while (f->dead_conns)
    {
      struct conn *c = f->dead_conns;
      f->dead_conns = c->next_dead;
      free (c);
    }
  while (f->dead_udp)
    {
      struct udp_sess *s = f->dead_udp;
      f->dead_udp = s->next_dead;
      free (s);
    }
}

static void
dispatch (struct fwd *f, struct epoll_event *ev)
{
  struct ref *r = ev->data.ptr;

  switch (r->kind)
    {
    case REF_TCP_LISTEN:
      tcp_accept (f, r->obj);
      break;
    case REF_UDP_LISTEN:
      udp_from_client (f, r->obj);
      break;
    case REF_CONN:
      conn_event (f, r->obj, r->side, ev->events);
      break;
    case REF_UDP:
      udp_from_ctr (f, r->obj);
      break;
    }
}

static void __attribute__ ((noreturn))
fwd_loop (struct fwd *f)
{
  struct epoll_event evs[FWD_BATCH];
  time_t last_sweep = now_s ();

  for (;;)
    {
      int n = epoll_wait (f->ep, evs, FWD_BATCH, f->n_udp ? 5000 : -1);
      time_t now;

      if (n < 0 && errno != EINTR)
        _exit (1);
      for (int i = 0; i < n; i++)
        dispatch (f, &evs[i]);
      now = now_s ();
      if (now - last_sweep >= 5)
        {
          udp_sweep (f, now);
          last_sweep = now;
        }
      free_dead (f);
    }
}

/* ---- the child and its start ---- */

/* A fresh daemon: SIGTERM ends it (a terminal's SIGINT/SIGHUP do not); only STATUS_FD is kept, stdio goes
 * to /dev/null; as many descriptors as allowed. */
static void
child_setup (int status_fd)
{
  struct rlimit rl;
  sigset_t none;
  int null = open ("/dev/null", O_RDWR | O_CLOEXEC);

  sigemptyset (&none);
  sigprocmask (SIG_SETMASK, &none, NULL);
  signal (SIGTERM, SIG_DFL);
  signal (SIGPIPE, SIG_IGN);
  signal (SIGINT, SIG_IGN);
  signal (SIGHUP, SIG_IGN);

  if (null >= 0 && status_fd > 2)
    {
      for (int i = 0; i < 3; i++)
        dup2 (null, i);
      if (null > 2 && null != status_fd)
        close (null);
      if (status_fd > 3)
        sys_close_range (3, (unsigned) status_fd - 1, 0);
      sys_close_range ((unsigned) status_fd + 1, ~0U, 0);
    }
  if (getrlimit (RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max)
    {
      rl.rlim_cur = rl.rlim_max;
      setrlimit (RLIMIT_NOFILE, &rl);
    }
}

static void __attribute__ ((noreturn))
child_main (const struct nook_port *ports, size_t n, const char *ctr_ip, int status_fd, pid_t parent)
{
  nook_err st = { 0 };
  struct fwd *f;

  if (prctl (PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid () != parent)
    _exit (1);
  child_setup (status_fd);
  f = xcalloc (1, sizeof (*f));
  f->ep = epoll_create1 (EPOLL_CLOEXEC);
  if (f->ep < 0)
    nook_error (&st, errno, "epoll_create1");
  else
    bind_all (f, ports, n, ctr_ip, &st);
  f->reserve_fd = open ("/dev/null", O_RDONLY | O_CLOEXEC);
  if (write (status_fd, &st, sizeof (st)) != (ssize_t) sizeof (st) || st.code != 0)
    _exit (1);
  close (status_fd);
  fwd_loop (f);
}

int
nook_forward_start (const struct nook_port *ports, size_t n, const char *ctr_ip, pid_t *helper, nook_err *err)
{
  struct sockaddr_storage ss;
  socklen_t len;
  cleanup_close int rd = -1;
  cleanup_pid pid_t child = 0;
  pid_t parent = getpid ();
  nook_err st = { 0 };
  ssize_t r;
  int p[2];

  if (ctr_ip == NULL || *ctr_ip == '\0' || !nook_port_sockaddr (ctr_ip, 0, &ss, &len))
    return nook_error_input (err, "invalid container address `%s` for port forwarding", ctr_ip ? ctr_ip : "");
  if (pipe2 (p, O_CLOEXEC) < 0)
    return nook_error (err, errno, "pipe2");
  rd = p[0];
  child = fork ();
  if (child < 0)
    {
      int saved = errno;
      child = 0;
      close (p[1]);
      return nook_error (err, saved, "fork");
    }
  if (child == 0)
    {
      close (p[0]);
      child_main (ports, n, ctr_ip, p[1], parent);
    }
  close (p[1]);
  do   /* one write below PIPE_BUF: all or nothing */
    r = read (rd, &st, sizeof (st));
  while (r < 0 && errno == EINTR);
  if (r != (ssize_t) sizeof (st))
    return nook_error (err, EPIPE, "port forwarder exited before binding its ports");
  if (st.code != 0)
    {
      *err = st;
      return -1;
    }
  *helper = steal_pid (&child);
  return 0;
}
