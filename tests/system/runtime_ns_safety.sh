#!/bin/bash
# modes: root rootless
# The runtime never changes its caller's mounts.  Every namespace of the spec (mount, pid, network, ipc,
# uts, user, cgroup, time) is new, absent (inherited from the caller) or joined by path, in a pairwise
# covering set of combinations (every pair of choices of every two namespaces appears in some row), plus
# all-absent (runtime-tools' linux_ns_itype) and all-joined.  Each row goes through create, start, exec,
# kill, delete and run; after every step the caller's root and its /proc/self/mountinfo are unchanged, and
# so is the mount table of the namespaces it joined.  Rootless: the user namespace is new or joined.
# The whole suite runs in a private mount namespace of its own, so a regression cannot hurt the machine.
if [ -z "${NOOK_NS_SAFETY_PRIVATE:-}" ]; then
  NOOK_NS_SAFETY_PRIVATE=1 exec unshare -m --propagation private bash "$0" "$@"
fi
source "$(dirname "$0")/../lib.sh"
require_runtime

NSES=(mount pid network ipc uts user cgroup time)
UNSHARE_FLAGS=(-m -p -n -i -u -U -C -T)

# Holders of the namespaces rows join: "sys" (root only) owns its namespaces in the initial user namespace,
# "usr" (created by the mode's user) has a user namespace of its own that owns the rest.  A row joins the
# user namespace of "usr" and the other namespaces of "sys" as root (so joining needs both passes around the
# user namespace), everything of "usr" rootless.  Each holder is a `sleep` forked by unshare (pid ns).
start_holder () {
  local name=$1 secs=$2 i
  shift 2
  "$@" sleep "$secs" > /dev/null 2>&1 &
  HOLDER_UNSHARE+=("$!")
  disown "$!"
  for i in $(seq 50); do
    HOLDER_PID=$(pgrep -f "^sleep $secs\$" | head -n 1)
    [ -n "$HOLDER_PID" ] && break
    sleep 0.1
  done
  [ -n "$HOLDER_PID" ] || { echo "holder $name did not start" >&2; return 1; }
  eval "HOLDER_$name=$HOLDER_PID"
}
HOLDER_UNSHARE=()
stop_holders () {
  local p
  for p in "${HOLDER_sys:-}" "${HOLDER_usr:-}" "${HOLDER_UNSHARE[@]}"; do [ -n "$p" ] && kill -9 "$p" 2> /dev/null; done
}
trap 'stop_holders; cleanup_suite' EXIT

if [ "$MODE" = root ]; then
  start_holder sys 6001 unshare -m -p -f -n -i -u -C -T --propagation private || exit 1
  start_holder usr 6002 unshare -U -m -p -f -n -i -u -C -T || exit 1
  echo "0 0 65536" > "/proc/$HOLDER_usr/uid_map" && echo "0 0 65536" > "/proc/$HOLDER_usr/gid_map" || exit 1
else
  start_holder usr 6003 as_user unshare -U -r -m -p -f -n -i -u -C -T || exit 1
  HOLDER_sys=$HOLDER_usr
fi

ns_proc_name () {
  case $1 in mount) echo mnt ;; network) echo net ;; *) echo "$1" ;; esac
}

# The rows: one line each, a level per namespace in NSES order (n = new, a = absent, j = joined).
# Pairwise covering by a greedy search (deterministic: fixed candidate order).  Rootless: user is n or j.
rows () {
  python3 - "$MODE" << 'EOF'
import itertools, sys
mode = sys.argv[1]
k = 8
levels = [['n', 'a', 'j']] * k
if mode == 'rootless':
    levels = [l if i != 5 else ['n', 'j'] for i, l in enumerate(levels)]
# Rootless, a new user namespace cannot join namespaces owned by another one (the kernel wants
# CAP_SYS_ADMIN over their owner, which only the joined user namespace gives).
def allowed(r):
    return mode == 'root' or r[5] != 'n' or 'j' not in r
need = set()
for i, j in itertools.combinations(range(k), 2):
    for a in levels[i]:
        for b in levels[j]:
            if mode == 'rootless' and ((i == 5 and a == 'n' and b == 'j') or (j == 5 and b == 'n' and a == 'j')):
                continue
            need.add((i, a, j, b))
rows = []
if mode == 'root':
    rows.append('a' * k)          # runtime-tools linux_ns_itype: nothing new
rows.append('j' * k)
rows.append('n' * k)
def covers(r):
    return {(i, r[i], j, r[j]) for i, j in itertools.combinations(range(k), 2)}
for r in rows:
    need -= covers(r)
cands = [''.join(c) for c in itertools.product(*levels) if allowed(''.join(c))]
while need:
    best = max(cands, key=lambda r: len(covers(r) & need))
    rows.append(best)
    need -= covers(best)
print('\n'.join(rows))
EOF
}

# A bundle for ROW: a default bundle of the mode, with the namespaces, mappings, hostname and the paths that
# need a mount namespace of its own set to fit.
row_bundle () {
  local b=$1 row=$2 ns=() i lvl name path
  mode_bundle "$b" || return 1
  for i in "${!NSES[@]}"; do
    lvl=${row:$i:1}
    name=${NSES[$i]}
    case $lvl in
      n) ns+=("{\"type\":\"$name\"}") ;;
      j)
        if [ "$name" = user ]; then path=/proc/$HOLDER_usr/ns/user; else path=/proc/$HOLDER_sys/ns/$(ns_proc_name "$name"); fi
        ns+=("{\"type\":\"$name\",\"path\":\"$path\"}")
        ;;
    esac
  done
  jq_edit "$b/config.json" '.linux.namespaces = $ns' --argjson ns "[$(IFS=,; echo "${ns[*]}")]" || return 1
  # user: new needs mappings (root: the identity map of 65536 ids), joined or absent must have none.
  case ${row:5:1} in
    n) [ "$MODE" = root ] && { jq_edit "$b/config.json" '.linux.uidMappings = [{containerID: 0, hostID: 0, size: 65536}]
         | .linux.gidMappings = [{containerID: 0, hostID: 0, size: 65536}]' || return 1; } ;;
    *) jq_edit "$b/config.json" 'del(.linux.uidMappings, .linux.gidMappings)' || return 1 ;;
  esac
  [ "${row:4:1}" = n ] || { jq_edit "$b/config.json" 'del(.hostname)' || return 1; }
  # A new mqueue instance needs the IPC namespace's owner; a joined or the host's one is podman's bind case.
  [ "${row:3:1}" = n ] || { jq_edit "$b/config.json" '.mounts |= map(select(.type != "mqueue"))' || return 1; }
  if [ "${row:0:1}" != n ]; then
    jq_edit "$b/config.json" '.linux.maskedPaths = [] | .linux.readonlyPaths = [] | .root.readonly = false
      | del(.linux.rootfsPropagation)' || return 1
  fi
  # No cgroup namespace of its own: a /sys/fs/cgroup mount would show the host's hierarchy (still no change
  # to the caller: it is mounted inside the container's own mount namespace or not at all).
  return 0
}

snapshot () {
  {
    stat -c 'root %d:%i' /
    cat /proc/self/mountinfo
    echo "== sys"; cat "/proc/$HOLDER_sys/mountinfo" 2> /dev/null
    echo "== usr"; cat "/proc/$HOLDER_usr/mountinfo" 2> /dev/null
  } > "$1"
}

BASE=$TMP/mounts.base
snapshot "$BASE"
BROKEN=0

# unchanged ROW STEP: the caller's and the holders' mounts are as at the start.
unchanged () {
  snapshot "$TMP/mounts.now"
  if [ ! -x /usr/bin/grep ] || ! cmp -s "$BASE" "$TMP/mounts.now"; then
    fail "$1: $2: caller's mounts unchanged" "the mount table changed" "$(diff "$BASE" "$TMP/mounts.now" | head -n 20)"
    BROKEN=1
    return 1
  fi
  return 0
}

RELEASE=$(cat "$ROOTFS/etc/alpine-release")

# One row through the whole lifecycle; one PASS per row (the failing step is named).
run_row () {
  local row=$1 b=$TMP/b-$1 id step
  row_bundle "$b" "$row" || { fail "$row" "cannot make the bundle"; return; }
  set_args "$b" sleep 60 || { fail "$row" "set_args failed"; return; }
  id=$(new_id)
  capture rt create -b "$b" "$id"
  if [ "$RC" != 0 ]; then fail "$row" "create exited $RC" "$ERR"; return; fi
  unchanged "$row" create || return
  capture rt start "$id"
  if [ "$RC" != 0 ]; then fail "$row" "start exited $RC" "$ERR"; rt delete -f "$id" > /dev/null 2>&1; return; fi
  unchanged "$row" start || return
  # exec sees the container's rootfs, never the caller's (also without a mount namespace of its own).
  capture rt exec "$id" cat /etc/alpine-release
  if [ "$RC" != 0 ] || [ "$OUT" != "$RELEASE" ]; then
    fail "$row" "exec saw '$OUT' (rc=$RC), expected the rootfs' release $RELEASE" "$ERR"
    rt delete -f "$id" > /dev/null 2>&1
    return
  fi
  unchanged "$row" exec || return
  capture rt kill "$id" KILL
  wait_status "$id" stopped
  capture rt delete "$id"
  if [ "$RC" != 0 ]; then fail "$row" "delete exited $RC" "$ERR"; rt delete -f "$id" > /dev/null 2>&1; return; fi
  unchanged "$row" delete || return
  # run (create + start + wait + delete) with delete --force of a running one.
  set_args "$b" cat /etc/alpine-release
  ct "$b" cat /etc/alpine-release
  if [ "$RC" != 0 ] || [ "$OUT" != "$RELEASE" ]; then fail "$row" "run saw '$OUT' (rc=$RC)" "$ERR"; return; fi
  unchanged "$row" run || return
  set_args "$b" sleep 60
  id=$(new_id)
  capture rt run -d -b "$b" "$id"
  [ "$RC" = 0 ] || { fail "$row" "run -d exited $RC" "$ERR"; return; }
  capture rt delete --force "$id"
  [ "$RC" = 0 ] || { fail "$row" "delete --force exited $RC" "$ERR"; return; }
  unchanged "$row" "delete --force" || return
  # The holders (namespaces the row joined) are untouched and alive.
  if ! alive "$HOLDER_sys" || ! alive "$HOLDER_usr"; then fail "$row" "a holder of joined namespaces was killed"; BROKEN=1; return; fi
  pass "$row: create/start/exec/kill/delete/run leave the caller's mounts unchanged"
}

for row in $(rows); do
  run_row "$row"
  if [ "$BROKEN" = 1 ]; then
    fail "stop" "the caller's mounts changed: the remaining rows are not run"
    break
  fi
done

# Without a mount namespace of its own the container is chrooted, nothing mounted: it sees no /proc mount.
if [ "$MODE" = root ]; then b=$TMP/absent; row_bundle "$b" aaaaaaaa; else b=$TMP/absent; row_bundle "$b" aaaaanaa; fi
ct "$b" sh -c 'test -e /proc/self/mountinfo && echo proc || echo noproc; pwd'
assert_ok no_mountns_chroot_nothing_mounted "$(printf 'noproc\n/')"
unchanged no_mountns_chroot_nothing_mounted run

# What cannot be honoured without a private mount namespace is refused before anything exists.
for f in '.linux.maskedPaths = ["/proc/kcore"]' '.linux.readonlyPaths = ["/proc/sys"]' '.root.readonly = true' \
  '.linux.rootfsPropagation = "rshared"'; do
  jq_edit "$b/config.json" '.linux.maskedPaths = [] | .linux.readonlyPaths = [] | .root.readonly = false
    | del(.linux.rootfsPropagation)'
  jq_edit "$b/config.json" "$f"
  field=$(echo "$f" | sed 's/^\.\([a-zA-Z.]*\) .*/\1/')
  capture rt create -b "$b" "$(new_id)"
  assert_error "no_mountns_refuses_$field"
  assert_contains "no_mountns_refuses_${field}_names_it" "$field: requires a private mount namespace" "$ERR"
  no_state_left "no_mountns_refuses_${field}_nothing_left"
done
jq_edit "$b/config.json" '.linux.maskedPaths = [] | .linux.readonlyPaths = [] | .root.readonly = false
  | del(.linux.rootfsPropagation)'
capture rt run --no-pivot -b "$b" "$(new_id)"
assert_error no_mountns_refuses_no_pivot
unchanged refusals all

# A cgroup that already holds processes (a `sleep` of this suite, placed in every hierarchy) is refused:
# kill --all / delete --force would signal them.  Never `delete --force` a container placed there.
if [ "$MODE" = root ]; then
  sleep 600 &
  shared_pid=$!
  shared=nook-shared-$$
  for d in /sys/fs/cgroup /sys/fs/cgroup/*; do
    [ -f "$d/cgroup.procs" ] || continue
    mkdir -p "$d/$shared" && echo "$shared_pid" > "$d/$shared/cgroup.procs"
  done
  b=$TMP/sharedcg
  mode_bundle "$b" && set_args "$b" true && jq_edit "$b/config.json" '.linux.cgroupsPath = $p' --arg p "/$shared"
  id=$(new_id)
  capture rt create -b "$b" "$id"
  assert_error shared_cgroup_refused
  assert_contains shared_cgroup_refused_names_it "already has 1 process(es)" "$ERR"
  [ "$RC" = 0 ] && rt delete "$id" > /dev/null 2>&1
  no_state_left shared_cgroup_nothing_left
  alive "$shared_pid" && pass shared_cgroup_process_untouched || fail shared_cgroup_process_untouched "the sleep died"
  kill -9 "$shared_pid"
  wait "$shared_pid" 2> /dev/null
  for d in /sys/fs/cgroup /sys/fs/cgroup/*; do [ -d "$d/$shared" ] && rmdir "$d/$shared"; done
fi

finish
