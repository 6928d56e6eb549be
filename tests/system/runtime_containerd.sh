#!/bin/bash
# containerd (1.6, io.containerd.runc.v2 shim) driving nook-runtime as its runc (`ctr run --runc-binary`):
# run attached, -d, task exec, pause/resume, metrics, kill, delete, with checks on what the container saw.
# containerd gets a config of its own: private socket, root and state under $TMP, no CRI plugin; the suite
# runs in a private mount namespace with a tmpfs on /run (the shim's sockets go to /run/containerd/s and
# the runc state root to /run/containerd/runc): nothing touches the host's containerd, if any.
# modes: root
. "$(dirname "$0")/../lib.sh"
. "$REPO/tests/images/imagelib.sh"
require_runtime

if ! command -v containerd > /dev/null || ! command -v ctr > /dev/null || ! command -v containerd-shim-runc-v2 > /dev/null; then
  fail setup "containerd, ctr and containerd-shim-runc-v2 are needed (Debian package containerd)"
  finish
fi

# ---- outside: run the rest in a private mount namespace, then check the host was left alone ------------
if [ -z "${NOOK_CTRD_INNER:-}" ]; then
  image_setup
  had_run_containerd=no
  [ -e /run/containerd ] && had_run_containerd=yes
  NOOK_CTRD_INNER=1 NOOK_CTRD_REG=$REG NOOK_CTRD_TMP=$TMP unshare -m --propagation private bash "$0"
  rc=$?
  if [ "$had_run_containerd" = no ]; then
    if [ ! -e /run/containerd ]; then pass host_run_containerd_untouched; else fail host_run_containerd_untouched "/run/containerd appeared on the host"; fi
  fi
  left=$(pgrep -f "containerd-shim-runc-v2 -namespace nook-ctrd" || true)
  [ -z "$left" ] && pass no_shim_left || fail no_shim_left "shims left: $left"
  exit $rc
fi

# ---- inside ------------------------------------------------------------------------------------------------
rmdir "$TMP" 2> /dev/null
TMP=$NOOK_CTRD_TMP
REG=$NOOK_CTRD_REG
D=$TMP/ctrd
mount -t tmpfs -o mode=0755 tmpfs /run || { fail setup "mount a tmpfs on /run in the private namespace"; finish; }
mkdir -p "$D/root" "$D/state" "$D/opt"
cat > "$D/config.toml" << EOF
version = 2
root = "$D/root"
state = "$D/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$D/containerd.sock"
[ttrpc]
  address = "$D/containerd.sock.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = "$D/opt"
EOF
containerd --config "$D/config.toml" > "$D/containerd.log" 2>&1 &
CTRD_PID=$!
stop_containerd () {
  local i
  [ -n "${CTRD_PID:-}" ] || return 0
  kill "$CTRD_PID" 2> /dev/null
  for i in $(seq 100); do kill -0 "$CTRD_PID" 2> /dev/null || break; sleep 0.1; done
  kill -9 "$CTRD_PID" 2> /dev/null
  wait "$CTRD_PID" 2> /dev/null
  CTRD_PID=
}
cleanup_ctrd () {
  local t
  for t in $(c task ls -q 2> /dev/null); do c task kill -s SIGKILL "$t" > /dev/null 2>&1; done
  sleep 0.3
  for t in $(c container ls -q 2> /dev/null); do c task rm -f "$t" > /dev/null 2>&1; c container rm "$t" > /dev/null 2>&1; done
  stop_containerd
  rm -rf --one-file-system "$TMP" 2> /dev/null
}
trap cleanup_ctrd EXIT

c () { timeout -k 5 60 ctr -a "$D/containerd.sock" -n nook-ctrd "$@"; }
for i in $(seq 100); do [ -S "$D/containerd.sock" ] && c version > /dev/null 2>&1 && break; sleep 0.1; done
if ! c version > /dev/null 2>&1; then
  fail containerd_starts "containerd did not answer on $D/containerd.sock" "$(tail -5 "$D/containerd.log")"
  finish
fi
pass containerd_starts

IMG=$REG/alpine:3.20
capture c image pull --plain-http "$IMG"
assert_rc image_pull_from_test_registry 0
RTBIN=$NOOK_RUNTIME
RUNC_ROOT=/run/containerd/runc/nook-ctrd

# ---- run attached -------------------------------------------------------------------------------------
capture c run --rm --runc-binary "$RTBIN" "$IMG" c-att cat /etc/alpine-release
assert_ok run_attached 3.20.3
capture c run --rm --runc-binary "$RTBIN" "$IMG" c-sig grep -E '^Sig(Ign|Blk):' /proc/self/status
OUT=$(echo $OUT)
assert_ok run_signals_clean "SigBlk: 0000000000000000 SigIgn: 0000000000000000"
capture c run --rm --runc-binary "$RTBIN" "$IMG" c-rc sh -c 'exit 7'
assert_rc run_exit_status 7

# ---- run -d, exec, pause/resume, metrics, kill, delete ----------------------------------------------------
capture c run -d --runc-binary "$RTBIN" "$IMG" c-bg sh -c 'i=0; while :; do i=$((i+1)); echo $i > /dev/shm/count; sleep 0.05; done'
assert_rc run_detached 0
sleep 0.3
task_status () { c task ls 2> /dev/null | awk -v t="$1" '$1 == t { print $3 }'; }
assert_eq task_running RUNNING "$(task_status c-bg)"
pid=$(c task ls 2> /dev/null | awk '$1 == "c-bg" { print $2 }')
count () { cat "/proc/$pid/root/dev/shm/count" 2> /dev/null; }
assert_eq runtime_state_running running "$("$NOOK_RUNTIME" --root "$RUNC_ROOT" state c-bg 2> /dev/null | jq -r .status)"

capture c task exec --exec-id e1 c-bg sh -c 'echo "$(cat /etc/alpine-release) $(tr "\0" " " < /proc/1/cmdline)"'
assert_contains task_exec_sees_container "3.20.3 sh -c i=0" "$OUT"
capture c task exec --exec-id e2 c-bg sh -c 'exit 5'
assert_rc task_exec_exit_status 5

capture c task pause c-bg
assert_rc task_pause 0
assert_eq task_paused PAUSED "$(task_status c-bg)"
assert_eq runtime_state_paused paused "$("$NOOK_RUNTIME" --root "$RUNC_ROOT" state c-bg 2> /dev/null | jq -r .status)"
c1=$(count); sleep 0.4; c2=$(count)
if [ -n "$c1" ] && [ "$c1" = "$c2" ]; then pass paused_container_frozen; else fail paused_container_frozen "counter '$c1' -> '$c2'"; fi
capture c task resume c-bg
assert_rc task_resume 0
assert_eq task_resumed RUNNING "$(task_status c-bg)"
c1=$(count); sleep 0.4; c2=$(count)
if [ -n "$c1" ] && [ -n "$c2" ] && [ "$c2" -gt "$c1" ]; then pass resumed_container_runs; else fail resumed_container_runs "counter '$c1' -> '$c2'"; fi

capture c task metrics --format json c-bg
if jq -e '((.cpu.usage.total // .cpu.usage_usec // 0) > 0) and ((.pids.current // 1) >= 1) and (.memory != null)' <<< "$OUT" > /dev/null 2>&1; then
  pass task_metrics; else fail task_metrics "metrics: '$(echo $OUT | cut -c 1-300)'" "$ERR"; fi

capture c task kill -s SIGKILL c-bg
assert_rc task_kill 0
for i in $(seq 50); do [ "$(task_status c-bg)" = STOPPED ] && break; sleep 0.1; done
assert_eq task_stopped STOPPED "$(task_status c-bg)"
capture c task rm c-bg
assert_rc task_delete 0
capture c container rm c-bg
assert_rc container_delete 0
assert_eq runtime_state_gone "" "$("$NOOK_RUNTIME" --root "$RUNC_ROOT" list -q 2> /dev/null)"
assert_eq no_tasks_left "" "$(c task ls -q 2> /dev/null)"

old=$CTRD_PID
stop_containerd
if kill -0 "$old" 2> /dev/null; then fail containerd_stops "containerd ($old) still running"; else pass containerd_stops; fi
finish
