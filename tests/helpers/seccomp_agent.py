#!/usr/bin/env python3
"""seccomp_agent.py SOCKET OUT: a seccomp notify agent for the system tests (like runc's seccompagent).

Listens on SOCKET (mode 0777, so an unprivileged runtime can connect); for every connection it receives the
container process state (JSON) and the notify fd (SCM_RIGHTS), appends the state as one line to OUT, and
answers every notification of that fd with ENOMEDIUM ("No medium found") until the fd reports the process
gone.  Runs until killed."""
import errno
import fcntl
import os
import socket
import struct
import sys
import threading

NOTIF_SIZE = 80  # struct seccomp_notif: id u64, pid u32, flags u32, seccomp_data (64 bytes)
IOCTL_RECV = 0xC0502100  # _IOWR('!', 0, struct seccomp_notif)
IOCTL_SEND = 0xC0182101  # _IOWR('!', 1, struct seccomp_notif_resp)


def serve(fd):
    while True:
        buf = bytearray(NOTIF_SIZE)
        try:
            fcntl.ioctl(fd, IOCTL_RECV, buf, True)
        except OSError as e:
            if e.errno == errno.EINTR:
                continue
            break
        notif_id = struct.unpack_from("Q", buf, 0)[0]
        resp = bytearray(struct.pack("QqiI", notif_id, 0, -errno.ENOMEDIUM, 0))
        try:
            fcntl.ioctl(fd, IOCTL_SEND, resp, True)
        except OSError:
            pass
    os.close(fd)


def main():
    path, out = sys.argv[1], sys.argv[2]
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    os.chmod(path, 0o777)
    srv.listen(8)
    while True:
        conn, _ = srv.accept()
        msg, fds, _, _ = socket.recv_fds(conn, 65536, 4)
        conn.close()
        with open(out, "a") as f:
            f.write(msg.decode(errors="replace") + " nfds=%d\n" % len(fds))
        for fd in fds[1:]:
            os.close(fd)
        if fds:
            threading.Thread(target=serve, args=(fds[0],), daemon=True).start()


if __name__ == "__main__":
    main()
