#!/bin/bash
# What a process inside a nook container sees: identity maps, capabilities, pid 1, hostname, the root after
# pivot_root, masked and read-only /proc paths, fds, seccomp, user/groups, env, cwd, rlimits, oom score.
# modes: root rootless
. "$(dirname "$0")/../lib.sh"
require_runtime

B=$TMP/bundle
mode_bundle "$B" || { fail make_bundle "could not create a bundle" "$(cd "$TMP" && rt_plain spec 2>&1)"; finish; }
CFG=$B/config.json

# --- identity ------------------------------------------------------------------------------------------
ct_sh "$B" 'awk "{print \$1, \$2, \$3}" /proc/self/uid_map'
if [ "$MODE" = rootless ]; then
  assert_ok uid_map_full "0 $TEST_UID 1
1 $SUBID_START 65536"
else
  assert_ok uid_map_identity "0 0 4294967295"
fi
ct_sh "$B" 'awk "{print \$1, \$2, \$3}" /proc/self/gid_map'
if [ "$MODE" = rootless ]; then
  assert_ok gid_map_full "0 $TEST_GID 1
1 $SUBGID_START 65536"
fi
ct "$B" cat /proc/self/setgroups
assert_ok setgroups_allow allow
ct "$B" su nobody -s /bin/sh -c id
if [ "$RC" = 0 ]; then assert_contains su_nobody "uid=65534(nobody) gid=65534(nobody)" "$OUT"
else fail su_nobody "su exited $RC: $OUT" "$ERR"; fi
ct "$B" id -u
assert_ok uid_0 0

# --- capabilities ----------------------------------------------------------------------------------------
want=$(cap_mask $(jq -r '.process.capabilities.effective // [] | .[]' "$CFG"))
ct_sh "$B" 'awk "/^CapEff:/ {print \$2}" /proc/self/status'
assert_ok capeff_is_spec_effective "$want"
assert_eq default_spec_effective_is_docker_set 00000000a80425fb "$want"
want=$(cap_mask $(jq -r '.process.capabilities.bounding // [] | .[]' "$CFG"))
ct_sh "$B" 'awk "/^CapBnd:/ {print \$2}" /proc/self/status'
assert_ok capbnd_is_spec_bounding "$want"
for set in permitted:CapPrm inheritable:CapInh ambient:CapAmb; do
  want=$(cap_mask $(jq -r ".process.capabilities.${set%%:*} // [] | .[]" "$CFG"))
  ct_sh "$B" "awk '/^${set#*:}:/ {print \$2}' /proc/self/status"
  assert_ok "${set#*:}_is_spec_${set%%:*}" "$want"
done
jq -e '.process.noNewPrivileges == true' "$CFG" > /dev/null && nnp=1 || nnp=0
ct_sh "$B" 'awk "/^NoNewPrivs:/ {print \$2}" /proc/self/status'
assert_ok no_new_privs "$nnp"

# Ambient capabilities: raised when also inheritable; an ambient cap that is not inheritable cannot be raised
# and is skipped, as crun and runc do (crun's own `spec --rootless` writes such a config).
cp "$CFG" "$TMP/config.caps"
jq_edit "$CFG" '.process.capabilities.inheritable = ["CAP_KILL"] | .process.capabilities.ambient = ["CAP_KILL"]'
ct_sh "$B" 'awk "/^CapAmb:/ {print \$2}" /proc/self/status'
assert_ok ambient_cap_raised 0000000000000020
jq_edit "$CFG" '.process.capabilities.inheritable = [] | .process.capabilities.ambient = ["CAP_KILL", "CAP_NET_BIND_SERVICE"]'
ct_sh "$B" 'awk "/^CapAmb:/ {print \$2}" /proc/self/status'
assert_ok ambient_not_inheritable_skipped_like_crun 0000000000000000
cp "$TMP/config.caps" "$CFG"

# --- pid, hostname ---------------------------------------------------------------------------------------
ct_sh "$B" 'echo $$'
assert_ok pid_1 1
ct_sh "$B" 'ls /proc | grep -c "^[0-9]"'
[ "$RC" = 0 ] && [ "$OUT" -le 3 ] 2> /dev/null && pass pid_namespace_isolated ||
  fail pid_namespace_isolated "container sees $OUT pids in /proc" "$ERR"
ct_sh "$B" 'awk "NR > 2 {print \$1}" /proc/net/dev'
assert_ok network_namespace_only_lo "lo:"
ct "$B" hostname
assert_ok hostname "$(jq -r .hostname "$CFG")"

# --- the root after pivot_root ---------------------------------------------------------------------------
marker=/tmp/nook-host-marker-$$
echo host > "$marker"
chmod 0644 "$marker"
ct_sh "$B" "test -e $marker && echo visible || echo hidden"
assert_ok host_marker_hidden hidden
rm -f "$marker"
ct "$B" cat /proc/self/mountinfo
if [ "$RC" != 0 ]; then
  fail mountinfo_no_host_rootfs "cat /proc/self/mountinfo exited $RC" "$ERR"
else
  bad=$(printf '%s\n' "$OUT" | awk -v r="$ROOTFS" '$5 == r || index($5, r "/") == 1')
  if [ -z "$bad" ]; then pass mountinfo_no_host_rootfs
  else fail mountinfo_no_host_rootfs "mount points under the host rootfs path $ROOTFS are visible" "$bad"; fi
  root_line=$(printf '%s\n' "$OUT" | awk '$5 == "/"' | head -n 1)
  case " $(echo "$root_line" | awk '{print $6}' | tr , ' ') " in
    *" ro "*) pass root_mount_readonly ;;
    *) fail root_mount_readonly "the / mount is not read-only: '$root_line'" ;;
  esac
  sys_line=$(printf '%s\n' "$OUT" | awk '$5 == "/proc/sys"' | tail -n 1)
  case " $(echo "$sys_line" | awk '{print $6}' | tr , ' ') " in
    *" ro "*) pass proc_sys_mount_readonly ;;
    *) fail proc_sys_mount_readonly "/proc/sys is not a read-only mount: '$sys_line'" ;;
  esac
fi
ct_sh "$B" 'touch /x 2>&1; echo rc=$?'
assert_contains readonly_root_touch_fails "Read-only file system" "$OUT"

# --- masked and read-only paths --------------------------------------------------------------------------
if jq -e '.linux.maskedPaths | index("/proc/kcore")' "$CFG" > /dev/null; then
  ct_sh "$B" 'cat /proc/kcore | wc -c'
  assert_ok masked_kcore_empty 0
else
  fail masked_kcore_empty "the default spec does not mask /proc/kcore" "$(jq -c .linux.maskedPaths "$CFG")"
fi
if jq -e '.linux.maskedPaths | index("/sys/firmware")' "$CFG" > /dev/null; then
  ct_sh "$B" 'ls -A /sys/firmware | wc -l'
  assert_ok masked_sys_firmware_empty 0
fi
ct_sh "$B" 'v=$(cat /proc/sys/kernel/sysrq); (echo "$v" > /proc/sys/kernel/sysrq) 2>/dev/null && echo WROTE || echo DENIED'
assert_ok proc_sys_write_fails DENIED

# --- fds ------------------------------------------------------------------------------------------------
ct_sh "$B" 'ls /proc/$$/fd; true'
OUT=$(echo $OUT)
assert_ok only_fds_0_1_2 "0 1 2"

# --- seccomp ---------------------------------------------------------------------------------------------
cp "$CFG" "$TMP/config.orig"
ct_sh "$B" 'mkdir /dev/shm/x 2>&1 && echo made'
assert_ok seccomp_control_mkdir_works made
jq_edit "$CFG" '.linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW",
  syscalls: [{names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO", errnoRet: 1}]}'
ct_sh "$B" 'mkdir /dev/shm/x 2>&1 && echo made'
assert_contains seccomp_errno_eperm "Operation not permitted" "$OUT"
jq_edit "$CFG" '.linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW",
  syscalls: [{names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO", errnoRet: 13}]}'
ct_sh "$B" 'mkdir /dev/shm/x 2>&1 && echo made'
assert_contains seccomp_errno_eacces "Permission denied" "$OUT"
cp "$TMP/config.orig" "$CFG"

# --- user, groups, env, cwd ----------------------------------------------------------------------------
jq_edit "$CFG" '.process.user = {uid: 1000, gid: 1000, additionalGids: [10, 20]}'
ct_sh "$B" 'set -- $(awk "/^Groups:/ {for (i = 2; i <= NF; i++) print \$i}" /proc/self/status); echo "$(id -u) $(id -g) $*"'
assert_ok user_uid_gid_groups "1000 1000 10 20"
ct_sh "$B" 'awk "/^CapEff:/ {print \$2}" /proc/self/status'
assert_ok non_root_user_no_effective_caps 0000000000000000
cp "$TMP/config.orig" "$CFG"
jq_edit "$CFG" '.process.env = ["PATH=/usr/sbin:/usr/bin:/sbin:/bin", "FOO=bar baz", "EMPTY="] | .process.cwd = "/etc"'
ct_sh "$B" 'echo "[$FOO][${EMPTY-unset}][$(pwd)]"'
assert_ok env_and_cwd "[bar baz][][/etc]"
ct_sh "$B" 'echo "${PATH}"'
assert_ok env_path "/usr/sbin:/usr/bin:/sbin:/bin"
cp "$TMP/config.orig" "$CFG"

# --- rlimits, oom score ---------------------------------------------------------------------------------
jq_edit "$CFG" '.process.rlimits = [{type: "RLIMIT_NOFILE", soft: 777, hard: 1000}] | .process.oomScoreAdj = 500'
ct_sh "$B" 'echo $(ulimit -n) $(ulimit -Hn)'
assert_ok rlimit_nofile "777 1000"
ct "$B" cat /proc/self/oom_score_adj
assert_ok oom_score_adj 500
cp "$TMP/config.orig" "$CFG"

finish
