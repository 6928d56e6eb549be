#!/bin/bash
# modes: rootless
# Debian's distrobox (1.4.2.1) drives nook as its podman, unchanged, as the unprivileged user nooktest:
# `podman` on PATH is a symlink to the nook binary (anything not called nook-runtime is the manager).
# distrobox create (podman pull / inspect --type image / create --userns keep-id --privileged ... / cp),
# enter (start, logs --since polled until distrobox-init says container_setup_done, exec --user NAME),
# list (ps -a --format), stop, rm.  distrobox-init installs its packages with apt-get inside the box
# (--network host, the Debian mirror): the first enter takes a while.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../images/imagelib.sh"

DBX_TIMEOUT=${DBX_TIMEOUT:-600}
BOX=box

if [ "$MODE" != rootless ]; then
  fail setup "this suite runs as the test user only (# modes: rootless)"
  finish
fi
if ! command -v distrobox > /dev/null; then
  apt-get install -y -qq distrobox > /dev/null 2>&1
  if ! command -v distrobox > /dev/null; then
    fail setup "distrobox is not installed and \`apt-get install -y distrobox\` failed"
    finish
  fi
fi
image_setup
IMAGE=$REG/debian:bookworm

# The user's world: PATH with podman -> nook, a private HOME (store in ~/.local/share/nook) and runtime
# dir (nook's runroot), registries.conf marking the plain-HTTP local registry insecure.
DBIN=$TMP/bin
DHOME=$TMP/home
DRUN=$TMP/run
mkdir -p "$DBIN" "$DHOME/.config/containers" "$DRUN"
ln -s "$NOOK" "$DBIN/podman"
printf '[[registry]]\nlocation = "%s"\ninsecure = true\n' "$REG" > "$DHOME/.config/containers/registries.conf"
chown -R "$TEST_UID:$TEST_GID" "$DHOME" "$DRUN"
chmod 0755 "$DBIN"
chmod 0700 "$DRUN"

# dbx CMD...: CMD as the test user, in its HOME, with distrobox told to use podman; bounded in time.
dbx () {
  runuser -u "$TEST_USER" -- env -i PATH="$DBIN:/usr/local/bin:/usr/bin:/bin" HOME="$DHOME" USER="$TEST_USER" \
    LOGNAME="$TEST_USER" SHELL=/bin/bash XDG_RUNTIME_DIR="$DRUN" DBX_CONTAINER_MANAGER=podman TERM=dumb \
    timeout -k 10 "$DBX_TIMEOUT" sh -c 'cd "$HOME" && exec "$@"' sh "$@"
}
pm () { dbx podman "$@"; }

dbx_cleanup () {
  pm rm -f -t 0 "$BOX" > /dev/null 2>&1
  rm -f "/tmp/$BOX.os-release" 2> /dev/null
  cleanup_suite
}
trap dbx_cleanup EXIT

# ok NAME WANT_SUBSTRING: the last capture exited 0 and its stdout+stderr contain WANT.
ok () {
  if [ "$RC" != 0 ]; then
    fail "$1" "exit status $RC, expected 0" "$(printf '%s\n%s' "$OUT" "$ERR" | tail -n 20)"
  else
    assert_contains "$1" "$2" "$OUT$ERR"
  fi
}

# ---- create ----
t0=$(date +%s.%N)
capture dbx distrobox create -i "$IMAGE" -n "$BOX" --yes
t1=$(date +%s.%N)
ok "create" "successfully created"
capture pm inspect --type container --format '{{.State.Status}} {{index .Config.Labels "manager"}}' "$BOX"
assert_ok "create: the container exists, created, labelled manager=distrobox" "created distrobox"
capture pm image exists "$IMAGE"
assert_rc "create: pulled the image" 0
assert_not_contains "create: no error from distrobox-generate-entry (podman cp)" "Error" "$ERR"

# ---- enter (starts the box: distrobox-init, apt-get) ----
capture dbx distrobox enter "$BOX" -- cat /etc/os-release
t2=$(date +%s.%N)
ok "enter: first enter runs distrobox-init and the command" "ID=debian"
assert_contains "enter: distrobox-init finished" "Container Setup Complete" "$ERR"
echo "info: create took $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s," \
  "first enter (distrobox-init, apt-get) $(awk -v a="$t1" -v b="$t2" 'BEGIN { printf "%.1f", b - a }') s"
capture pm inspect --type container --format '{{.State.Status}}' "$BOX"
assert_ok "enter: the box is running" "running"

capture dbx distrobox enter "$BOX" -- id -un
assert_ok "enter: commands run as the user" "$TEST_USER"
# (distrobox-enter evals the command line: no shell syntax in it)
capture dbx distrobox enter "$BOX" -- printenv HOME
assert_ok "enter: HOME is the user's" "$DHOME"
capture dbx distrobox enter "$BOX" -- pwd
assert_ok "enter: the workdir is the current directory" "$DHOME"
# --userns keep-id: the image's files keep their owners (setuid-root sudo works), the home is the user's
capture dbx distrobox enter "$BOX" -- stat -c '%u:%g %A' /usr/bin/sudo
assert_ok "enter: image files owned by root under keep-id" "0:0 -rwsr-xr-x"
capture dbx distrobox enter "$BOX" -- sudo -n id -u
assert_ok "enter: sudo (setuid root) works in the box" "0"
capture dbx distrobox enter "$BOX" -- cp /etc/hostname from-box
check_eq "enter: a file written in the home belongs to the user on the host" \
  "$TEST_UID:$TEST_GID" "$(stat -c %u:%g "$DHOME/from-box" 2> /dev/null)" "rc=$RC $ERR"
capture dbx sh -c "script -qec 'distrobox enter $BOX -- tty' /dev/null"
assert_contains "enter: with a terminal (exec --tty)" "/dev/pts/" "$OUT"

# ---- list ----
capture dbx distrobox list
ok "list: shows the box" "| $BOX "
assert_contains "list: running" "running" "$OUT"

# ---- stop ----
capture dbx distrobox stop "$BOX" --yes
ok "stop" "$BOX"
capture pm inspect --type container --format '{{.State.Status}}' "$BOX"
assert_ok "stop: the box is stopped" "exited"

# ---- enter again: restarts the stopped box (init already done) ----
capture dbx distrobox enter "$BOX" -- true
assert_rc "enter: restarts a stopped box" 0

# ---- rm ----
capture dbx distrobox rm "$BOX" --force
ok "rm" "$BOX"
capture pm inspect --type container "$BOX"
assert_rc "rm: the container is gone" 125
capture dbx distrobox list
assert_not_contains "rm: list no longer shows it" "| $BOX " "$OUT"

finish
