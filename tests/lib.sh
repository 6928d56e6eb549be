# Helpers for nook's system tests (sourced by tests/system/*.sh).
#
# A suite runs as root; NOOK_TEST_MODE=root|rootless (tests/run sets it from the suite's "# modes:" line)
# says whether the runtime is run as root or as the unprivileged user `nooktest` (through `as_user`).
# Results are TAP lines "ok - <suite>: <name>" / "not ok - <suite>: <name>: <why>" (details indented below) /
# "ok - <suite>: <name> # SKIP <why>"; tests/run counts them.  Suites never `set -e`: one failing check must not hide the others.

REPO=${REPO:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$REPO/$BUILD ;; esac
NOOK=${NOOK:-$BUILD/nook}
NOOK_RUNTIME=${NOOK_RUNTIME:-$(dirname "$NOOK")/nook-runtime}
MODE=${NOOK_TEST_MODE:-root}
SUITE=${SUITE:-$(basename "$0" .sh)}/$MODE
TEST_USER=nooktest
TEST_UID=$(id -u "$TEST_USER" 2>/dev/null || echo 2000)
TEST_GID=$(id -g "$TEST_USER" 2>/dev/null || echo 2000)
SUBID_START=$(awk -F: -v u="$TEST_USER" '$1 == u { print $2; exit }' /etc/subuid 2>/dev/null)
SUBID_START=${SUBID_START:-200000}
SUBGID_START=$(awk -F: -v u="$TEST_USER" '$1 == u { print $2; exit }' /etc/subgid 2>/dev/null)
SUBGID_START=${SUBGID_START:-200000}
RT_TIMEOUT=${RT_TIMEOUT:-60}

# The work dir holding the Alpine rootfs copies (tests/setup.sh chooses it the same way).
if [ -z "${WORK:-}" ]; then
  WORK=$REPO/tests/.work
  [ -d "$WORK/alpine-rootfs" ] || WORK=/var/tmp/nook-tests
fi
ROOTFS_ROOT=$WORK/alpine-rootfs
ROOTFS_USER=$WORK/alpine-rootfs-user
if [ "$MODE" = rootless ]; then ROOTFS=$ROOTFS_USER; else ROOTFS=$ROOTFS_ROOT; fi

TMP=$(mktemp -d /tmp/nook-test.XXXXXX)
chmod 0755 "$TMP"
RTROOT=$TMP/state
mkdir -p "$RTROOT"
[ "$MODE" = rootless ] && chown "$TEST_UID:$TEST_GID" "$RTROOT"
N_PASS=0
N_FAIL=0
ID_COUNTER=0

pass () { N_PASS=$((N_PASS + 1)); echo "ok - $SUITE: $1"; }
# skip NAME WHY: a check that cannot run here (a missing tool or kernel feature), reported as such, never as a pass.
skip () { echo "ok - $SUITE: $1 # SKIP $2"; }
# fail NAME WHY [DETAILS]: details (e.g. the runtime's stderr) are printed indented on the next lines.
fail () {
  N_FAIL=$((N_FAIL + 1))
  echo "not ok - $SUITE: $1: $2"
  [ -n "${3:-}" ] && printf '%s\n' "$3" | head -n 20 | cut -c 1-300 | sed 's/^/    | /'
  return 0
}

# Run CMD... as the test user, with its XDG_RUNTIME_DIR and a clean environment.
as_user () {
  runuser -u "$TEST_USER" -- env -i PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin HOME="/home/$TEST_USER" \
    USER="$TEST_USER" LOGNAME="$TEST_USER" XDG_RUNTIME_DIR="/run/user/$TEST_UID" TERM="${TERM:-dumb}" \
    ${ASAN_OPTIONS:+ASAN_OPTIONS="$ASAN_OPTIONS"} ${UBSAN_OPTIONS:+UBSAN_OPTIONS="$UBSAN_OPTIONS"} \
    ${LSAN_OPTIONS:+LSAN_OPTIONS="$LSAN_OPTIONS"} "$@"
}

# Run CMD... as the mode's user (root, or the test user).
as_mode () { if [ "$MODE" = rootless ]; then as_user "$@"; else "$@"; fi; }

# The runtime with this suite's private --root, as the mode's user, bounded in time.
rt () { as_mode timeout --foreground -k 5 "$RT_TIMEOUT" "$NOOK_RUNTIME" --root "$RTROOT" "$@"; }
# The runtime without --root (for `spec`, `features`, `--version`, default-root checks).
rt_plain () { as_mode timeout --foreground -k 5 "$RT_TIMEOUT" "$NOOK_RUNTIME" "$@"; }

# A fresh container id (unique also when called in a $(subshell)).
new_id () { ID_COUNTER=$((ID_COUNTER + 1)); echo "t$$-$BASHPID-$ID_COUNTER"; }

# capture CMD...: run with stdin from /dev/null; sets OUT (stdout, trailing newlines stripped), ERR, RC.
# Files, not pipes: a detached container inherits them and must not hold our command substitution open.
capture () {
  "$@" < /dev/null > "$TMP/stdout" 2> "$TMP/stderr"
  RC=$?
  OUT=$(cat "$TMP/stdout")
  ERR=$(cat "$TMP/stderr")
}

# jq_edit FILE FILTER [jq options...]: edit a JSON file in place (keeps it readable by everyone).
jq_edit () {
  local f=$1 filter=$2
  shift 2
  jq "$@" "$filter" "$f" > "$f.tmp" || { echo "jq_edit: $filter failed on $f" >&2; rm -f "$f.tmp"; return 1; }
  chmod 0644 "$f.tmp"
  mv "$f.tmp" "$f"
}

# make_bundle DIR [rootless] [ROOTFS]: a bundle from `nook-runtime spec` (`spec --rootless`), edited to run
# `true` without a terminal on the shared read-only Alpine rootfs, hostname nook-sys; rootless: the full
# sub-id map [{0 -> uid, 1}, {1 -> subid start, 65536}] and new user + network namespaces.
make_bundle () {
  local dir=$1 kind=${2:-root} rootfs=${3:-}
  mkdir -p "$dir"
  chmod 0755 "$dir"
  if [ "$kind" = rootless ]; then
    [ -n "$rootfs" ] || rootfs=$ROOTFS_USER
    chown "$TEST_UID:$TEST_GID" "$dir"
    (cd "$dir" && as_user "$NOOK_RUNTIME" spec --rootless) || { echo "make_bundle: spec --rootless failed" >&2; return 1; }
  else
    [ -n "$rootfs" ] || rootfs=$ROOTFS_ROOT
    (cd "$dir" && "$NOOK_RUNTIME" spec) || { echo "make_bundle: spec failed" >&2; return 1; }
  fi
  [ -s "$dir/config.json" ] || { echo "make_bundle: no config.json written in $dir" >&2; return 1; }
  jq_edit "$dir/config.json" '.process.terminal = false | .process.args = ["true"]
    | .root = {path: $rootfs, readonly: true} | .hostname = "nook-sys"' --arg rootfs "$rootfs" || return 1
  if [ "$kind" = rootless ]; then
    jq_edit "$dir/config.json" '
      .linux.uidMappings = [{containerID: 0, hostID: $uid, size: 1}, {containerID: 1, hostID: $subuid, size: 65536}]
      | .linux.gidMappings = [{containerID: 0, hostID: $gid, size: 1}, {containerID: 1, hostID: $subgid, size: 65536}]
      | .linux.namespaces = ((.linux.namespaces // []) | map(select(.type != "user" and .type != "network"))
                             + [{type: "user"}, {type: "network"}])' \
      --argjson uid "$TEST_UID" --argjson gid "$TEST_GID" \
      --argjson subuid "$SUBID_START" --argjson subgid "$SUBGID_START" || return 1
  fi
}

# A bundle for this suite's mode.
mode_bundle () { make_bundle "$1" "$MODE" "${2:-}"; }

# set_args BUNDLE CMD...: process.args = CMD.
set_args () {
  local b=$1
  shift
  local a
  a=$(for x in "$@"; do jq -n --arg x "$x" '$x'; done | jq -sc .) || return 1
  jq_edit "$b/config.json" '.process.args = $a' --argjson a "$a"
}

# ct BUNDLE CMD...: run CMD attached in a fresh container from BUNDLE; sets OUT, ERR, RC, CT_ID.
ct () {
  local b=$1
  shift
  set_args "$b" "$@" || { OUT="" ERR="set_args failed" RC=255; return; }
  CT_ID=$(new_id)
  capture rt run -b "$b" "$CT_ID"
}

# ct_sh BUNDLE SCRIPT: ct BUNDLE sh -c SCRIPT.
ct_sh () { ct "$1" sh -c "$2"; }

# assert_eq NAME EXPECTED ACTUAL: on failure, says what the container saw (and the runtime's stderr).
assert_eq () {
  if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "expected '$2', container saw '$3' (rc=${RC:-?})" "${ERR:-}"; fi
}
assert_contains () {
  case $3 in
    *"$2"*) pass "$1" ;;
    *) fail "$1" "expected to contain '$2', container saw '$3' (rc=${RC:-?})" "${ERR:-}" ;;
  esac
}
assert_not_contains () {
  case $3 in
    *"$2"*) fail "$1" "must not contain '$2', container saw '$3' (rc=${RC:-?})" "${ERR:-}" ;;
    *) pass "$1" ;;
  esac
}
# assert_ok NAME EXPECTED_OUT: the last ct/capture exited 0 and printed EXPECTED_OUT.
assert_ok () {
  if [ "$RC" != 0 ]; then fail "$1" "exit status $RC, expected 0 (stdout: '$OUT')" "$ERR"; else assert_eq "$1" "$2" "$OUT"; fi
}
# assert_rc NAME EXPECTED: the last ct/capture exited with EXPECTED.
assert_rc () {
  if [ "$RC" = "$2" ]; then pass "$1"; else fail "$1" "exit status $RC, expected $2 (stdout: '$OUT')" "$ERR"; fi
}

# cap_mask NAME...: the capability set as /proc/PID/status prints it (16 hex digits).
cap_mask () {
  local -A num=([CHOWN]=0 [DAC_OVERRIDE]=1 [DAC_READ_SEARCH]=2 [FOWNER]=3 [FSETID]=4 [KILL]=5 [SETGID]=6
    [SETUID]=7 [SETPCAP]=8 [LINUX_IMMUTABLE]=9 [NET_BIND_SERVICE]=10 [NET_BROADCAST]=11 [NET_ADMIN]=12
    [NET_RAW]=13 [IPC_LOCK]=14 [IPC_OWNER]=15 [SYS_MODULE]=16 [SYS_RAWIO]=17 [SYS_CHROOT]=18 [SYS_PTRACE]=19
    [SYS_PACCT]=20 [SYS_ADMIN]=21 [SYS_BOOT]=22 [SYS_NICE]=23 [SYS_RESOURCE]=24 [SYS_TIME]=25
    [SYS_TTY_CONFIG]=26 [MKNOD]=27 [LEASE]=28 [AUDIT_WRITE]=29 [AUDIT_CONTROL]=30 [SETFCAP]=31
    [MAC_OVERRIDE]=32 [MAC_ADMIN]=33 [SYSLOG]=34 [WAKE_ALARM]=35 [BLOCK_SUSPEND]=36 [AUDIT_READ]=37
    [PERFMON]=38 [BPF]=39 [CHECKPOINT_RESTORE]=40)
  local m=0 c n
  for c in "$@"; do
    n=${c#CAP_}
    [ -n "${num[$n]:-}" ] || { echo "cap_mask: unknown capability $c" >&2; return 1; }
    m=$((m | (1 << ${num[$n]})))
  done
  printf '%016x\n' "$m"
}

# alive PID: the process exists and is not a zombie.
alive () {
  local st
  st=$(awk '{print $3}' "/proc/$1/stat" 2> /dev/null) || return 1
  [ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# State helpers.
ct_state () { rt state "$1" 2> /dev/null | jq -r ".${2:-status}" 2> /dev/null; }
# The ids `list -q` prints.
ct_list () { rt list -q 2> /dev/null; }
# Wait until container ID's status is WANT (max ~10s).
wait_status () {
  local i s
  for i in $(seq 100); do
    s=$(ct_state "$1")
    [ "$s" = "$2" ] && return 0
    sleep 0.1
  done
  return 1
}
# no_state_left NAME: after a failed command, `list -q` is empty and --root holds nothing.
no_state_left () {
  local l left
  l=$(ct_list)
  left=$(ls -A "$RTROOT" 2> /dev/null)
  if [ -z "$l" ] && [ -z "$left" ]; then
    pass "$1"
  else
    fail "$1" "state left behind: list -q='$(echo $l)', $RTROOT holds '$(echo $left)'"
    for l in $(ct_list); do rt delete -f "$l" > /dev/null 2>&1; done
    rm -rf "${RTROOT:?}"/* 2> /dev/null
  fi
}
# The runtime's error convention: exactly one line "nook-runtime: <message>" on stderr, exit 125
# (or EXPECTED_RC when given).
assert_error () {
  local name=$1 want=${2:-125} n
  n=$(printf '%s\n' "$ERR" | grep -c '^nook-runtime: ')
  if [ "$RC" = 0 ]; then
    fail "$name" "succeeded (exit 0), expected an error" "$OUT"
  elif [ "$RC" != "$want" ]; then
    fail "$name" "exit status $RC, expected $want" "$ERR"
  elif [ "$n" != 1 ]; then
    fail "$name" "expected exactly one 'nook-runtime: ' line on stderr, got $n" "$ERR"
  else
    pass "$name"
  fi
}

cleanup_suite () {
  local id
  for id in $(ct_list); do rt delete -f "$id" > /dev/null 2>&1; done
  rm -rf --one-file-system "$TMP" 2> /dev/null
}
trap cleanup_suite EXIT

# Skip a whole suite with a reason when the runtime binary is missing: counted as one failure.
require_runtime () {
  if [ ! -x "$NOOK_RUNTIME" ]; then
    fail "setup" "no runtime binary at $NOOK_RUNTIME (run make)"
    exit 1
  fi
  if [ ! -d "$ROOTFS/bin" ]; then
    fail "setup" "no Alpine rootfs at $ROOTFS (run tests/setup.sh as root)"
    exit 1
  fi
}

# End of a suite: exit status says whether anything failed.
finish () { [ "$N_FAIL" = 0 ]; exit $?; }
