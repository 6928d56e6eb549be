/* The monitor's state, shared by monitor.c (setup, records, exit) and monitor_io.c (the event loop). */
#ifndef NOOK_MANAGER_MONITOR_INTERNAL_H
#define NOOK_MANAGER_MONITOR_INTERNAL_H

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

#include "manager/ctr_network.h"
#include "manager/logs_internal.h"
#include "manager/monitor.h"

#define MON_MAX_CLIENTS 16
#define MON_HIGH_WATER (1U << 20)    /* per-client queue: stop reading the container above this */
#define MON_READ_CHUNK 16384
#define MON_WAIT_ATTACH_MS 60000     /* WAIT_ATTACH: how long the start waits for the first client */
#define MON_CLIENT_READY_MS 2000     /* ... and for its READY frame once connected */
#define MON_DRAIN_IDLE_MS 500        /* after the exit: stop draining outputs idle this long */

struct mon_client
{
  int fd;
  struct nook_buf out;  /* frames not yet sent */
  struct nook_buf in;   /* bytes of an incomplete frame */
};

struct mon
{
  const struct nook_monitor_opts *o;
  char *ctr_dir;
  int userdata_fd;
  int log_fd;
  bool log_failed;      /* warned once */
  int out_fd, err_fd;   /* read ends of the container's stdout/stderr pipes (or the pty master as out) */
  int in_fd;            /* write end of its stdin pipe, or the pty master; -1 when not interactive */
  int master;           /* the pty master (tty), else -1 */
  int listen_fd;
  int sigfd;
  sigset_t oldmask;
  pid_t pid;
  int netns_fd, userns_fd;     /* the container's, from the runtime (network setup), closed after it */
  int mntns_fd;          /* the container's mount namespace, pinned: its leftover processes are killed at exit */
  bool exited;
  int status;
  struct nook_buf stdin_q;     /* client bytes not yet written to the container */
  bool stdin_eof;              /* a client closed its stdin: close the container's once STDIN_Q is written */
  struct mon_client clients[MON_MAX_CLIENTS];
  size_t n_clients;
  bool client_ready;           /* WAIT_ATTACH: the first client sent its READY frame */
  int ready_fd;
  struct nook_ctr_net net;     /* the container's network (helpers are our children) */
  bool net_up;                 /* net is set up (during the create, see net_up) */
};

/* monitor_io.c */
/* Pump until the container exits and its outputs are drained. */
int mon_loop (struct mon *m, nook_err *err);
/* WAIT_ATTACH, before the start: wait up to MS for the first client and its READY frame. */
void mon_wait_first_client (struct mon *m, int ms);
/* Send the last frame (exit: the status; failed: "STATUS MESSAGE") to every client, flush them (bounded),
 * close them. */
void mon_finish_clients (struct mon *m, int type, const char *payload);
/* Bind RUNROOT/<id>/attach.sock. */
int mon_listen (struct mon *m, nook_err *err);

#endif
