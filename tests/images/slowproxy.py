#!/usr/bin/env python3
"""A TCP proxy on 127.0.0.1 that slows the upstream -> client direction to RATE bytes/s, so a test can
kill "the registry" (this proxy, with SIGKILL: every connection drops at once) in the middle of a blob.

  slowproxy.py PORT UPSTREAM_HOST:PORT RATE_BYTES_PER_SECOND

Prints "ready" on stdout once it listens.
"""
import socket
import sys
import threading
import time


def pipe(src, dst, rate):
    chunk = 16384
    start = time.monotonic()
    sent = 0
    try:
        while True:
            data = src.recv(chunk)
            if not data:
                break
            dst.sendall(data)
            sent += len(data)
            if rate:
                ahead = sent / rate - (time.monotonic() - start)
                if ahead > 0:
                    time.sleep(ahead)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def serve(conn, upstream, rate):
    host, port = upstream.rsplit(":", 1)
    try:
        up = socket.create_connection((host, int(port)))
    except OSError:
        conn.close()
        return
    threading.Thread(target=pipe, args=(conn, up, 0), daemon=True).start()
    threading.Thread(target=pipe, args=(up, conn, rate), daemon=True).start()


def main():
    port, upstream, rate = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", port))
    ls.listen(64)
    print("ready", flush=True)
    while True:
        conn, _ = ls.accept()
        serve(conn, upstream, rate)


if __name__ == "__main__":
    main()
