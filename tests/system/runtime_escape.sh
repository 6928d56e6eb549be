#!/bin/bash
# CVE-2019-5736: the runtime image a container can reach through /proc/PID/exe is never writable.
# Symlinks in the image must never redirect the runtime to host paths: a mount destination that is (or
# passes through) a symlink pointing outside, and /dev/null symlinked to a host file.
# Each case uses a writable copy of the Alpine rootfs.  The run may succeed (the link resolved inside the
# rootfs) or fail with an error; either way the host paths must be untouched.
# modes: root rootless
. "$(dirname "$0")/../lib.sh"
require_runtime

B=$TMP/bundle
R=$TMP/rootfs-w
cp -a "$ROOTFS" "$R" || { fail copy_rootfs "cp -a $ROOTFS failed"; finish; }
mode_bundle "$B" "$R" || { fail make_bundle "could not create a bundle" "$(cd "$TMP" && rt_plain spec 2>&1)"; finish; }
CFG=$B/config.json
jq_edit "$CFG" '.root.readonly = false'
cp "$CFG" "$TMP/config.orig"
owner=$(stat -c %u:%g "$R")

# host_untouched NAME PATH: PATH does not exist on the host and nothing is mounted there.
host_untouched () {
  if [ -e "$2" ] || [ -L "$2" ]; then
    fail "$1" "host path $2 was created (run rc=$RC)" "$(ls -la "$2" 2>&1; echo "$ERR")"
  elif grep -q " $2 " /proc/self/mountinfo; then
    fail "$1" "host path $2 is a mount point"
  else
    pass "$1"
  fi
}

# --- a mount destination that is a symlink pointing outside -------------------------------------------------
n=0
for target in "/../../../../tmp/nook-escape-$$" "../../../../../../tmp/nook-escape-rel-$$"; do
  n=$((n + 1))
  host=/tmp/${target##*/tmp/}
  rm -rf "${R:?}/mnt"
  ln -s "$target" "$R/mnt"
  chown -h "$owner" "$R/mnt"
  cp "$TMP/config.orig" "$CFG"
  jq_edit "$CFG" '.mounts += [{destination: "/mnt", type: "tmpfs", source: "tmpfs", options: ["nosuid", "nodev"]}]'
  ct_sh "$B" 'echo inside > /mnt/file && cat /mnt/file'
  host_untouched "mount_symlink_escape_$n" "$host"
  # When it ran, the tmpfs must be where the container sees /mnt (inside the rootfs).
  if [ "$RC" = 0 ]; then
    assert_eq "mount_symlink_resolved_inside_$n" inside "$OUT"
  elif printf '%s\n' "$ERR" | grep -q '^nook-runtime: '; then
    pass "mount_symlink_resolved_inside_$n"
  else
    fail "mount_symlink_resolved_inside_$n" "run failed without a nook error (rc=$RC)" "$ERR"
  fi
  no_state_left "mount_symlink_leaves_nothing_$n"
  rm -rf "$host" 2> /dev/null
done

# An intermediate component that is a symlink pointing outside.
rm -rf "$R/opt"
ln -s "/../../../tmp/nook-escape-mid-$$" "$R/opt"
chown -h "$owner" "$R/opt"
cp "$TMP/config.orig" "$CFG"
jq_edit "$CFG" '.mounts += [{destination: "/opt/deep/dir", type: "tmpfs", source: "tmpfs", options: ["nosuid"]}]'
ct_sh "$B" 'echo inside > /opt/deep/dir/file && cat /opt/deep/dir/file'
host_untouched mount_symlink_intermediate_escape "/tmp/nook-escape-mid-$$"
rm -rf "/tmp/nook-escape-mid-$$" 2> /dev/null
rm -f "$R/opt"
mkdir "$R/opt"
chown "$owner" "$R/opt"

# A bind mount source is the host's business, but its destination symlink must not redirect it.
mkdir -p "$TMP/bindsrc"
echo from-host > "$TMP/bindsrc/f"
chmod -R a+rX "$TMP/bindsrc"
rm -rf "${R:?}/mnt"
ln -s "/../../../../tmp/nook-escape-bind-$$" "$R/mnt"
chown -h "$owner" "$R/mnt"
cp "$TMP/config.orig" "$CFG"
jq_edit "$CFG" '.mounts += [{destination: "/mnt", type: "bind", source: $src, options: ["rbind", "ro"]}]' \
  --arg src "$TMP/bindsrc"
ct "$B" cat /mnt/f
host_untouched bind_symlink_escape "/tmp/nook-escape-bind-$$"
rm -rf "/tmp/nook-escape-bind-$$" 2> /dev/null
rm -f "$R/mnt"
mkdir "$R/mnt"
chown "$owner" "$R/mnt"

# --- /dev/null symlinked to a host file (the image's own /dev: no tmpfs mounted on /dev) ---------------------
victim=/tmp/nook-devnull-victim-$$
echo host-secret > "$victim"
chmod 0666 "$victim"
mkdir -p "$R/dev"
rm -f "$R/dev/null"
ln -s "$victim" "$R/dev/null"
chown -h "$owner" "$R/dev/null"
cp "$TMP/config.orig" "$CFG"
jq_edit "$CFG" '.mounts |= map(select(.destination != "/dev"))'
ct_sh "$B" 'echo pwned > /dev/null; stat -c "%F %t:%T" /dev/null'
if [ "$(cat "$victim" 2> /dev/null)" = host-secret ] && [ -f "$victim" ] && [ ! -L "$victim" ] &&
   ! grep -q " $victim " /proc/self/mountinfo; then
  pass devnull_symlink_host_file_untouched
else
  fail devnull_symlink_host_file_untouched "host file $victim changed: '$(head -c 100 "$victim" 2>&1)'" "$(ls -la "$victim" 2>&1)"
fi
if [ "$RC" = 0 ]; then
  assert_eq devnull_is_char_device "character special file 1:3" "$OUT"
else
  fail devnull_is_char_device "run failed (rc=$RC)" "$ERR"
fi
rm -f "$victim"
no_state_left devnull_leaves_nothing

# --- CVE-2019-5736: the runtime's own image, reached through /proc/PID/exe, cannot be written ----------------
# A container gets at the runtime binary by opening /proc/PID/exe of a runtime process that entered it (or by
# making the runtime's final execve run `#!/proc/self/exe`), keeping the fd and writing once the runtime has
# exited.  We do the same with a copy of the binary that the runtime's user may write (root: any; rootless: the
# copy is given to the test user), holding the fd as root, who could write any plain file.
SB=$TMP/selfbin
mkdir -p "$SB"
cp "$NOOK" "$SB/nook-runtime"
[ "$MODE" = rootless ] && chown -R "$TEST_UID:$TEST_GID" "$SB"
sum=$(sha256sum < "$SB/nook-runtime")
cp "$TMP/config.orig" "$CFG"
set_args "$B" sleep 30
id=$(new_id)
as_mode timeout --foreground -k 5 "$RT_TIMEOUT" "$SB/nook-runtime" --root "$RTROOT" run -b "$B" "$id" \
  < /dev/null > /dev/null 2>&1 &
bg=$!
wait_status "$id" running
rpid=
for p in $(pgrep -f -- "--root $RTROOT run -b $B $id\$"); do
  case $(readlink "/proc/$p/exe") in */timeout | */runuser | */env) ;; *) rpid=$p ;; esac
done
if [ -z "$rpid" ]; then
  fail selfexe_found "could not find the attached runtime process"
else
  exe=$(readlink "/proc/$rpid/exe")
  case $exe in
    "$SB/nook-runtime"*) fail selfexe_not_the_binary "the runtime runs from the writable binary itself: $exe" ;;
    *) pass selfexe_not_the_binary ;;
  esac
  exec 3< "/proc/$rpid/exe"
  rt kill "$id" KILL > /dev/null 2>&1
  wait "$bg"
  # The runtime has exited: nothing is "text busy" any more; only the protection stops the write.
  if (printf pwned >> /proc/self/fd/3) 2> "$TMP/selfexe.err"; then
    fail selfexe_write_refused "writing the runtime image through /proc/PID/exe succeeded"
  else
    # EROFS (the read-only overlay) or EPERM (the sealed memfd); not EACCES/ETXTBSY, which would not hold
    if grep -qE "Read-only file system|Operation not permitted" "$TMP/selfexe.err"; then
      pass selfexe_write_refused
    else
      fail selfexe_write_refused "refused for another reason" "$(cat "$TMP/selfexe.err")"
    fi
  fi
  assert_eq selfexe_image_unchanged "$sum" "$(sha256sum < /proc/self/fd/3)"
  assert_eq selfexe_binary_unchanged "$sum" "$(sha256sum < "$SB/nook-runtime")"
  exec 3<&-
fi
rt delete -f "$id" > /dev/null 2>&1
no_state_left selfexe_leaves_nothing

finish
