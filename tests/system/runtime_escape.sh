#!/bin/bash
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
  rm -rf "$R/mnt"
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
rm -rf "$R/mnt"
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

finish
