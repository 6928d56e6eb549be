#!/bin/bash
# config.json mounts as the container sees them: bind mounts (rw, ro, a file), tmpfs options, noexec;
# joining another container's namespace by path; hostname without a UTS namespace.
# modes: root rootless
. "$(dirname "$0")/../lib.sh"
require_runtime

B=$TMP/bundle
mode_bundle "$B" || { fail make_bundle "could not create a bundle" "$(cd "$TMP" && rt_plain spec 2>&1)"; finish; }
CFG=$B/config.json
cp "$CFG" "$TMP/config.orig"
reset_cfg () { cp "$TMP/config.orig" "$CFG"; }

V=$TMP/vol
mkdir -p "$V/rw" "$V/ro"
echo ro-content > "$V/ro/f"
echo file-content > "$V/file"
chmod -R a+rX "$V"
[ "$MODE" = rootless ] && chown "$TEST_UID:$TEST_GID" "$V/rw"

jq_edit "$CFG" '.mounts += [
  {destination: "/mnt", type: "bind", source: $rw, options: ["rbind", "rw"]},
  {destination: "/srv", type: "bind", source: $ro, options: ["rbind", "ro"]},
  {destination: "/etc/motd", type: "bind", source: $file, options: ["bind", "ro"]},
  {destination: "/run", type: "tmpfs", source: "tmpfs", options: ["nosuid", "nodev", "noexec", "mode=0710", "size=1m"]}]' \
  --arg rw "$V/rw" --arg ro "$V/ro" --arg file "$V/file"
ct_sh "$B" 'echo from-container > /mnt/new && echo wrote'
assert_ok bind_rw_write wrote
assert_eq bind_rw_visible_on_host from-container "$(cat "$V/rw/new" 2>&1)"
ct_sh "$B" 'cat /srv/f; (echo x > /srv/g) 2>&1 | grep -o "Read-only file system"'
assert_ok bind_ro "ro-content
Read-only file system"
ct "$B" cat /etc/motd
assert_ok bind_file file-content
ct_sh "$B" 'stat -c %a /run; df -k /run | awk "NR == 2 {print \$2}"; printf "#!/bin/sh\necho ran\n" > /run/s; chmod +x /run/s; /run/s 2>&1 | grep -o "Permission denied"'
assert_ok tmpfs_mode_size_noexec "710
1024
Permission denied"
ct_sh "$B" 'awk "\$5 == \"/srv\" {print \$6}" /proc/self/mountinfo | tr , "\n" | grep -x ro'
assert_ok bind_ro_in_mountinfo ro
reset_cfg

# Joining a namespace by path (the network namespace of a running container).
set_args "$B" sleep 60
id=$(new_id)
capture rt run -d -b "$B" "$id"
pid=$(ct_state "$id" pid)
if [ -n "$pid" ] && [ "$MODE" = root ]; then
  want=$(readlink "/proc/$pid/ns/net")
  jq_edit "$CFG" '.linux.namespaces |= map(if .type == "network" then .path = $p else . end)' --arg p "/proc/$pid/ns/net"
  ct "$B" readlink /proc/self/ns/net
  assert_ok join_netns_by_path "$want"
  reset_cfg
fi
if [ -n "$pid" ] && [ "$MODE" = rootless ]; then
  # Rootless: join the running container's user and network namespaces (no new id maps then).
  want=$(readlink "/proc/$pid/ns/net")
  jq_edit "$CFG" '.linux.namespaces |= map(if .type == "network" then .path = $n elif .type == "user" then .path = $u else . end)
    | del(.linux.uidMappings) | del(.linux.gidMappings)' --arg n "/proc/$pid/ns/net" --arg u "/proc/$pid/ns/user"
  ct "$B" readlink /proc/self/ns/net
  assert_ok join_user_and_netns_by_path "$want"
  reset_cfg
fi
rt delete -f "$id" > /dev/null 2>&1

# A hostname needs a UTS namespace of the container's own.
jq_edit "$CFG" '.linux.namespaces |= map(select(.type != "uts")) | .hostname = "nope"'
ct "$B" hostname
assert_error hostname_without_uts_refused
no_state_left hostname_without_uts_leaves_nothing
reset_cfg

finish
