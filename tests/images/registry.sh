#!/bin/bash
# Local registries for the image tests (Debian's docker-registry, distribution 2.8), on 127.0.0.1 only.
#
#   registry.sh start            start the three instances (idempotent: a running, answering one is kept)
#   registry.sh stop             stop them (and every extra instance)
#   registry.sh status           print the addresses; exit 1 when one does not answer
#   registry.sh start-extra NAME another plain instance over the SAME storage as the plain one (for tests
#                                that kill a registry mid-pull); reuses its previous port when it is free
#   registry.sh stop-extra NAME  kill it (SIGKILL: a registry dying, not a clean shutdown)
#
# The plain instance: HTTP, no auth, storage $W/registry-data, address in $W/registry.addr ("127.0.0.1:PORT").
# The TLS instance: HTTPS with a self-signed certificate for IP 127.0.0.1 and htpasswd basic auth
# (testuser/testpass), storage $W/registry-tls-data, address in $W/registry-tls.addr, the CA certificate's
# path in $W/registry-tls.ca; $W/registry-tls/certs.d holds it as ca.crt (a --cert-dir for skopeo/podman).
# The fake instance (tests/images/fakereg.py): what docker-registry refuses to serve (a 5 MiB manifest,
# an endless one, a blob longer than announced), address in $W/registry-fake.addr.
# $W is tests/.work.  Restarting an instance reuses the port of its .addr file when that port is free.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
W=$REPO/tests/.work
BIN=${DOCKER_REGISTRY:-/usr/bin/docker-registry}
mkdir -p "$W"
chmod 0755 "$W"
log () { echo "registry.sh: $*" >&2; }

free_port () {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

port_free () {
  python3 - "$1" << 'EOF'
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)
EOF
}

# answers NAME: the instance NAME's /v2/ responds (any HTTP status: 401 counts for the TLS one).
answers () {
  local name=$1 addr scheme=http code
  [ -f "$W/$name.addr" ] || return 1
  addr=$(cat "$W/$name.addr")
  [ "$name" = registry-tls ] && scheme=https
  code=$(curl -sk -o /dev/null -w '%{http_code}' --max-time 2 "$scheme://$addr/v2/" 2> /dev/null) || true
  [ "$code" = 200 ] || [ "$code" = 401 ]
}

running () {
  local pid
  [ -f "$W/$1.pid" ] || return 1
  pid=$(cat "$W/$1.pid")
  [ -n "$pid" ] && kill -0 "$pid" 2> /dev/null || return 1
  if [ "$1" = registry-fake ]; then
    tr '\0' ' ' < "/proc/$pid/cmdline" | grep -q fakereg.py
  else
    [ "$(readlink "/proc/$pid/exe" 2> /dev/null)" = "$BIN" ]
  fi
}

tls_material () {
  local d=$W/registry-tls
  mkdir -p "$d/certs.d"
  if [ ! -s "$d/ca.crt" ] || [ ! -s "$d/key.pem" ]; then
    log "creating a self-signed certificate for 127.0.0.1"
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj /CN=127.0.0.1 \
      -addext subjectAltName=IP:127.0.0.1 -addext basicConstraints=critical,CA:TRUE \
      -keyout "$d/key.pem.tmp" -out "$d/ca.crt.tmp" 2> /dev/null
    mv "$d/key.pem.tmp" "$d/key.pem"
    mv "$d/ca.crt.tmp" "$d/ca.crt"
  fi
  cp "$d/ca.crt" "$d/certs.d/ca.crt"
  chmod 0644 "$d/ca.crt" "$d/certs.d/ca.crt"
  chmod 0755 "$d" "$d/certs.d"
  [ -s "$d/htpasswd" ] || htpasswd -Bbn testuser testpass > "$d/htpasswd"
  echo "$d/ca.crt" > "$W/registry-tls.ca"
}

# write_config NAME PORT STORAGE
write_config () {
  local name=$1 port=$2 storage=$3 cfg=$W/$1.yml
  {
    echo "version: 0.1"
    echo "log:"
    echo "  level: warn"
    echo "  accesslog:"
    echo "    disabled: true"
    echo "storage:"
    echo "  filesystem:"
    echo "    rootdirectory: $storage"
    echo "  delete:"
    echo "    enabled: true"
    echo "  maintenance:"
    echo "    uploadpurging:"
    echo "      enabled: false"
    echo "http:"
    echo "  addr: 127.0.0.1:$port"
    if [ "$name" = registry-tls ]; then
      echo "  tls:"
      echo "    certificate: $W/registry-tls/ca.crt"
      echo "    key: $W/registry-tls/key.pem"
      echo "auth:"
      echo "  htpasswd:"
      echo "    realm: nook-test"
      echo "    path: $W/registry-tls/htpasswd"
    fi
  } > "$cfg"
}

# start_one NAME STORAGE
start_one () {
  local name=$1 storage=$2 port='' try pid i
  if running "$name" && answers "$name"; then return 0; fi
  stop_one "$name"
  [ "$name" = registry-tls ] && tls_material
  mkdir -p "$storage"
  for try in 1 2 3 4 5; do
    port=
    if [ "$try" = 1 ] && [ -f "$W/$name.addr" ]; then
      port=$(sed -n 's/^127\.0\.0\.1:\([0-9]*\)$/\1/p' "$W/$name.addr")
      [ -n "$port" ] && ! port_free "$port" && port=
    fi
    [ -n "$port" ] || port=$(free_port)
    write_config "$name" "$port" "$storage"
    echo "127.0.0.1:$port" > "$W/$name.addr"
    if [ "$name" = registry-fake ]; then
      setsid python3 "$REPO/tests/images/fakereg.py" "$port" >> "$W/$name.log" 2>&1 < /dev/null 9>&- 8>&- &
    else
      setsid "$BIN" serve "$W/$name.yml" >> "$W/$name.log" 2>&1 < /dev/null 9>&- 8>&- &
    fi
    pid=$!
    echo "$pid" > "$W/$name.pid"
    for i in $(seq 100); do
      if answers "$name"; then
        log "$name listening on 127.0.0.1:$port (pid $pid)"
        return 0
      fi
      kill -0 "$pid" 2> /dev/null || break
      sleep 0.1
    done
    kill -9 "$pid" 2> /dev/null || true
    wait "$pid" 2> /dev/null || true
    rm -f "$W/$name.pid"
  done
  log "$name did not start; see $W/$name.log"
  tail -n 5 "$W/$name.log" >&2 || true
  return 1
}

# stop_one NAME [SIGNAL]
stop_one () {
  local name=$1 sig=${2:-TERM} pid i
  if running "$name"; then
    pid=$(cat "$W/$name.pid")
    kill "-$sig" "$pid" 2> /dev/null || true
    for i in $(seq 50); do
      kill -0 "$pid" 2> /dev/null || break
      sleep 0.1
    done
    kill -9 "$pid" 2> /dev/null || true
  fi
  rm -f "$W/$name.pid"
}

cmd=${1:-}
exec 8> "$W/registry.lock"
flock 8
case $cmd in
  start)
    start_one registry "$W/registry-data"
    start_one registry-tls "$W/registry-tls-data"
    start_one registry-fake "$W/registry-fake-data"
    ;;
  stop)
    for f in "$W"/registry*.pid; do
      [ -f "$f" ] || continue
      stop_one "$(basename "$f" .pid)"
    done
    ;;
  status)
    rc=0
    for name in registry registry-tls registry-fake; do
      if running "$name" && answers "$name"; then echo "$name $(cat "$W/$name.addr")"; else echo "$name down"; rc=1; fi
    done
    exit $rc
    ;;
  start-extra)
    [ -n "${2:-}" ] || { log "usage: start-extra NAME"; exit 2; }
    start_one "registry-extra-$2" "$W/registry-data"
    cat "$W/registry-extra-$2.addr"
    ;;
  stop-extra)
    [ -n "${2:-}" ] || { log "usage: stop-extra NAME"; exit 2; }
    stop_one "registry-extra-$2" KILL
    ;;
  *)
    log "usage: $0 start|stop|status|start-extra NAME|stop-extra NAME"
    exit 2
    ;;
esac
