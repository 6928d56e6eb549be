#include "runtime/sync.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

int
nook_sync_send (int fd, int type, int value, nook_err *err)
{
  struct nook_sync_msg m;
  memset (&m, 0, sizeof (m));
  m.type = type;
  m.value = value;
  while (send (fd, &m, sizeof (m), MSG_NOSIGNAL) < 0)
    if (errno != EINTR)
      return nook_error (err, errno, "sync: send");
  return 0;
}

void
nook_sync_send_error (int fd, const nook_err *failure)
{
  struct nook_sync_msg m;
  memset (&m, 0, sizeof (m));
  m.type = NOOK_SYNC_ERROR;
  m.err = *failure;
  while (send (fd, &m, sizeof (m), MSG_NOSIGNAL) < 0 && errno == EINTR)
    ;
}

int
nook_sync_recv (int fd, struct nook_sync_msg *msg, nook_err *err)
{
  ssize_t n;
  do
    n = recv (fd, msg, sizeof (*msg), 0);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return nook_error (err, errno, "sync: recv");
  if (n == 0)
    {
      nook_error_input (err, "container init exited before it was ready");
      err->code = EPIPE;
      return -1;
    }
  if ((size_t) n != sizeof (*msg))
    return nook_error_input (err, "sync: short record (%zd bytes)", n);
  if (msg->type == NOOK_SYNC_ERROR)
    {
      *err = msg->err;
      err->msg[sizeof (err->msg) - 1] = '\0';
      return -1;
    }
  return 0;
}

int
nook_sync_expect (int fd, int type, struct nook_sync_msg *msg, nook_err *err)
{
  if (nook_sync_recv (fd, msg, err) < 0)
    return -1;
  if (msg->type != type)
    return nook_error_input (err, "sync: expected record %d, got %d", type, msg->type);
  return 0;
}
