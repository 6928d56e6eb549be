# shellcheck shell=bash disable=SC2034
# Helpers for the image system tests (tests/system/image_*.sh), sourced after tests/lib.sh.
#
# image_setup: checks that the nook binary has the image commands, seeds the local registries
# (tests/images/seed.sh, cached) and creates this suite's store $STORE (owned by the test user when
# rootless).  Then:
#   REG      plain registry "127.0.0.1:PORT" (HTTP, no auth)
#   TLSREG   TLS + basic auth registry (testuser/testpass), CA certificate $TLSCA, cert dir $TLSCERTDIR
#   FAKEREG  tests/images/fakereg.py (oversized / endless manifests)
#   nk ARGS...         nook --root $STORE ARGS as the mode's user (timeout $NK_TIMEOUT, default 300 s)
#   nk_root DIR ARGS   the same with another store
#   pull_ok NAME REF [ARGS]  pull; checks exit 0 and a 64-hex ID on the last stdout line; sets ID
#   assert_nook_error NAME [REGEX]  last capture exited 125 with an "Error: " line (matching REGEX, -i -E)

IMG_HELPERS=$REPO/tests/images
IMG_WORK=$REPO/tests/.work
IMG_SHARED=${NOOK_IMAGES:-$(cd "$REPO" && git rev-parse --show-toplevel 2> /dev/null || echo "$REPO")/../shared/images}
NK_TIMEOUT=${NK_TIMEOUT:-300}

image_setup () {
  if [ ! -x "$NOOK" ]; then
    fail setup "no nook binary at $NOOK (run make)"
    exit 1
  fi
  # `image exists` of a name that cannot exist: 1 when the image commands work.
  local d rc
  d=$(mktemp -d /tmp/nook-probe.XXXXXX)
  "$NOOK" --root "$d/s" image exists localhost/nook-probe-none:1 > /dev/null 2> "$d/err"
  rc=$?
  if [ "$rc" != 1 ]; then
    fail setup "nook has no working image commands (\`nook image exists\` exited $rc, expected 1)" "$(cat "$d/err")"
    rm -rf "$d"
    exit 1
  fi
  rm -rf "$d"
  local out
  if ! out=$(bash "$IMG_HELPERS/seed.sh" 2>&1); then
    fail setup "tests/images/seed.sh failed" "$out"
    exit 1
  fi
  REG=$(cat "$IMG_WORK/registry.addr")
  TLSREG=$(cat "$IMG_WORK/registry-tls.addr")
  FAKEREG=$(cat "$IMG_WORK/registry-fake.addr")
  TLSCA=$(cat "$IMG_WORK/registry-tls.ca")
  TLSCERTDIR=$IMG_WORK/registry-tls/certs.d
  STORE=$(new_store store)
}

# new_store NAME: an empty directory under $TMP for a store (the store itself is created by nook).
new_store () {
  local d=$TMP/$1
  mkdir -p "$d"
  chmod 0755 "$d"
  [ "$MODE" = rootless ] && chown "$TEST_UID:$TEST_GID" "$d"
  echo "$d/root"
}

# A directory the mode's user can write (auth files, archives).
user_dir () {
  local d=$TMP/$1
  mkdir -p "$d"
  chmod 0755 "$d"
  [ "$MODE" = rootless ] && chown "$TEST_UID:$TEST_GID" "$d"
  echo "$d"
}

nk () { as_mode timeout -k 5 "$NK_TIMEOUT" "$NOOK" --root "$STORE" "$@"; }
nk_root () { local r=$1; shift; as_mode timeout -k 5 "$NK_TIMEOUT" "$NOOK" --root "$r" "$@"; }

# The last line of $OUT.
last_line () { printf '%s\n' "$OUT" | tail -n 1; }

# pull_ok NAME REF [ARGS...]: nook pull ARGS REF succeeds and prints the ID; sets ID (empty on failure).
pull_ok () {
  local name=$1 ref=$2
  shift 2
  ID=
  capture nk pull "$@" "$ref"
  if [ "$RC" != 0 ]; then
    fail "$name" "pull $ref exited $RC" "$ERR"
    return 1
  fi
  ID=$(last_line)
  if [[ ! $ID =~ ^[0-9a-f]{64}$ ]]; then
    fail "$name" "pull $ref: last stdout line is not a 64-hex image ID: '$ID'" "$OUT"
    ID=
    return 1
  fi
  pass "$name"
}

# assert_nook_error NAME [REGEX]: the last capture failed with exit 125 ($RC_WANT when set) and printed
# "Error: ..." (matching REGEX, case-insensitive ERE, when given).
assert_nook_error () {
  local name=$1 re=${2:-} want=${RC_WANT:-125}
  if [ "$RC" = 0 ]; then
    fail "$name" "succeeded (exit 0), expected an error" "$OUT"
  elif [ "$RC" != "$want" ]; then
    fail "$name" "exit status $RC, expected $want" "$ERR"
  elif ! printf '%s\n' "$ERR" | grep -q '^Error: '; then
    fail "$name" "no 'Error: ' line on stderr" "$ERR"
  elif [ -n "$re" ] && ! printf '%s\n' "$ERR" | grep -Eiq -- "$re"; then
    fail "$name" "error message does not match /$re/" "$ERR"
  else
    pass "$name"
  fi
}

# What the registry says about REF (skopeo, no TLS verification on the plain registry).
reg_config_digest () { skopeo "${@:2}" inspect --tls-verify=false --raw --config "docker://$1" | sha256sum | cut -d' ' -f1; }
reg_manifest_digest () { skopeo inspect --tls-verify=false --raw "docker://$1" | sha256sum | cut -d' ' -f1; }
reg_diff_ids () { skopeo "${@:2}" inspect --tls-verify=false --raw --config "docker://$1" | jq -r '.rootfs.diff_ids[]'; }

# layer_dir [STORE] DIFF_ID: the extracted tree of a layer.
layer_dir () {
  if [ $# = 2 ]; then echo "$1/layers/${2#sha256:}/diff"; else echo "$STORE/layers/${1#sha256:}/diff"; fi
}

# The layer directories of image ID (from `image inspect` RootFS.Layers) in $STORE, base first.
image_layers () { nk image inspect "$1" 2> /dev/null | jq -r '.[0].RootFS.Layers[]' 2> /dev/null; }

# Host uid/gid of container uid/gid N (root: N; rootless: 0 -> the user, N -> sub-id start + N - 1).
host_uid () { if [ "$MODE" = rootless ]; then if [ "$1" = 0 ]; then echo "$TEST_UID"; else echo $((SUBID_START + $1 - 1)); fi; else echo "$1"; fi; }
host_gid () { if [ "$MODE" = rootless ]; then if [ "$1" = 0 ]; then echo "$TEST_GID"; else echo $((SUBGID_START + $1 - 1)); fi; else echo "$1"; fi; }

# xattr_value FILE NAME: the value of an extended attribute (no getfattr needed), empty when absent.
xattr_value () {
  python3 -c 'import os, sys
try:
    print(os.getxattr(sys.argv[1], sys.argv[2], follow_symlinks=False).decode())
except OSError as e:
    print("(%s)" % e.strerror)' "$1" "$2"
}

# The overlay xattr namespace for this mode's layers.
opaque_xattr () { if [ "$MODE" = rootless ]; then echo user.overlay.opaque; else echo trusted.overlay.opaque; fi; }

# check_file NAME PATH CONTENT: PATH exists and holds CONTENT (first line).
check_file () {
  local got
  if [ ! -f "$2" ]; then
    fail "$1" "$2 does not exist" "$(ls -la "$(dirname "$2")" 2>&1 | head -n 5)"
    return
  fi
  got=$(head -n 1 "$2")
  if [ "$got" = "$3" ]; then pass "$1"; else fail "$1" "$2 holds '$got', expected '$3'"; fi
}

# check_eq NAME EXPECTED ACTUAL [WHAT]
check_eq () {
  if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "expected '$2', got '$3'${4:+ ($4)}"; fi
}

# The number of layer directories in a store.
count_layers () { find "${1:-$STORE}/layers" -mindepth 1 -maxdepth 1 -type d 2> /dev/null | wc -l; }

# no_half_image NAME: `nook images` works and lists no image without a name and nothing in $STORE/tmp
# survives except what the next writer cleans (reported separately).
images_clean () {
  local name=$1 want=${2:-0}
  capture nk images -q
  if [ "$RC" != 0 ]; then
    fail "$name" "nook images exited $RC after the failed pull" "$ERR"
    return
  fi
  local n
  n=$(printf '%s' "$OUT" | grep -c .)
  if [ "$n" = "$want" ]; then pass "$name"; else fail "$name" "nook images lists $n images, expected $want" "$OUT"; fi
}

# descendant_pid ROOT COMM: the first process named COMM in the tree below ROOT (breadth first).
descendant_pid () {
  local queue=("$1") p c
  while [ ${#queue[@]} -gt 0 ]; do
    p=${queue[0]}
    queue=("${queue[@]:1}")
    if [ "$p" != "$1" ] && [ "$(cat "/proc/$p/comm" 2> /dev/null)" = "$2" ]; then
      echo "$p"
      return 0
    fi
    for c in $(cat /proc/"$p"/task/*/children 2> /dev/null); do queue+=("$c"); done
  done
  return 1
}

# Processes whose command line mentions STORE (nook helpers that outlived their parent).
store_processes () {
  local p
  for p in /proc/[0-9]*; do
    [ "${p#/proc/}" = "$$" ] && continue
    tr '\0' ' ' 2> /dev/null < "$p/cmdline" | grep -qF -- "$1" && echo "${p#/proc/}"
  done
}

# wait_pid_gone PID SECONDS
wait_pid_gone () {
  local i
  for i in $(seq $(($2 * 10))); do
    kill -0 "$1" 2> /dev/null || return 0
    sleep 0.1
  done
  return 1
}
