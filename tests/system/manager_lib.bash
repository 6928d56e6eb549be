# shellcheck shell=bash disable=SC2034
# Helpers for the container manager suites (tests/system/manager_*.sh), sourced after tests/lib.sh and
# tests/images/imagelib.sh.  (Named .bash so that tests/run does not take it for a suite.)
#
# mgr_setup: image_setup, then a per-suite store ($STORE, --root) and runroot ($RUNROOT, --runroot), both
# owned by the test user when rootless, and alpine:3.20 pulled into the store.  Then:
#   IMG            $REG/alpine:3.20
#   n ARGS...      nook --root $STORE --runroot $RUNROOT ARGS as the mode's user (timeout $NK_TIMEOUT)
#   nrun ARGS...   capture n run ARGS (OUT, ERR, RC)
#   ins CTR FMT    inspect --format FMT CTR (stdout only)
#   wait_state CTR STATUS [SECONDS]   poll inspect .State.Status until STATUS
# At exit every container of the suite is removed (rm -f) before lib.sh's cleanup.

NK_TIMEOUT=${NK_TIMEOUT:-120}

mgr_setup () {
  image_setup
  RUNROOT=$(user_dir runroot)/rr
  IMG=$REG/alpine:3.20
  trap mgr_cleanup EXIT
  capture n pull -q --tls-verify=false "$IMG"
  if [ "$RC" != 0 ]; then
    fail setup "pull $IMG exited $RC" "$ERR"
    exit 1
  fi
}

n () { as_mode timeout -k 5 "$NK_TIMEOUT" "$NOOK" --root "$STORE" --runroot "$RUNROOT" "$@"; }
nrun () { capture n run "$@"; }
ins () { n inspect --format "$2" "$1" 2> /dev/null; }

wait_state () {
  local i s max=$((${3:-10} * 10))
  for i in $(seq "$max"); do
    s=$(ins "$1" '{{.State.Status}}')
    [ "$s" = "$2" ] && return 0
    sleep 0.1
  done
  return 1
}

mgr_cleanup () {
  local ids
  ids=$(n ps -aq --no-trunc 2> /dev/null)
  # shellcheck disable=SC2086
  [ -n "$ids" ] && n rm -f $ids > /dev/null 2>&1
  cleanup_suite
}

# check_re NAME REGEX ACTUAL: ACTUAL matches the extended regex.
check_re () {
  if [[ $3 =~ $2 ]]; then pass "$1"; else fail "$1" "expected to match /$2/, got '$3' (rc=${RC:-?})" "${ERR:-}"; fi
}

# A directory the mode's user owns, outside the store.
mgr_dir () { user_dir "$1"; }

# The host's value of a capability set of this shell (for --privileged).
host_capbnd () { awk '/^CapBnd/ { print $2 }' /proc/self/status; }
# What --privileged / --cap-add ALL must give: as root the caller's bounding set (podman's choice; this
# VM's sessions lack CAP_SYS_RESOURCE), in a user namespace every capability the kernel knows.
all_caps () {
  if [ "$MODE" = rootless ]; then printf '%016x\n' $(((1 << ($(cat /proc/sys/kernel/cap_last_cap) + 1)) - 1))
  else host_capbnd; fi
}
