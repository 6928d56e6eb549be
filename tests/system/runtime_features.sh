#!/bin/bash
# More of the runtime contract: the single-id rootless map, devices, stdin, --preserve-fds, exec details,
# umask, annotations, relative bundle paths, cwd through a symlink, sysctl, cgroup limits, mount
# propagation, --no-pivot, concurrent runs, never-started and self-exited containers.
# modes: root rootless
. "$(dirname "$0")/../lib.sh"
require_runtime

B=$TMP/bundle
mode_bundle "$B" || { fail make_bundle "could not create a bundle" "$(cd "$TMP" && rt_plain spec 2>&1)"; finish; }
CFG=$B/config.json
cp "$CFG" "$TMP/config.orig"
reset_cfg () { cp "$TMP/config.orig" "$CFG"; }

# --- rootless with only the user's own id (spec --rootless as written) ---------------------------------------
if [ "$MODE" = rootless ]; then
  S=$TMP/single
  mkdir -p "$S"
  chown "$TEST_UID:$TEST_GID" "$S"
  (cd "$S" && as_user "$NOOK_RUNTIME" spec --rootless)
  jq_edit "$S/config.json" '.process.terminal = false | .root = {path: $r, readonly: true}' --arg r "$ROOTFS_USER"
  ct_sh "$S" 'echo $(cat /proc/self/uid_map) $(cat /proc/self/setgroups) $(id -u)'
  assert_ok single_id_map "0 $TEST_UID 1 deny 0"
  jq_edit "$S/config.json" '.process.user.additionalGids = [10]'
  ct "$S" id
  [ "$RC" != 0 ] && pass single_id_additional_gids_refused ||
    fail single_id_additional_gids_refused "additionalGids with a single-id map (setgroups denied) ran: '$OUT'"
  no_state_left single_id_leaves_nothing
  # The root-owned rootfs: files appear owned by nobody, the container still runs.
  jq_edit "$S/config.json" 'del(.process.user.additionalGids) | .root.path = $r' --arg r "$ROOTFS_ROOT"
  ct_sh "$S" 'stat -c %u /etc/passwd'
  assert_ok single_id_unmapped_owner_is_overflow 65534
fi

# --- devices --------------------------------------------------------------------------------------------------
ct_sh "$B" 'for d in null zero full random urandom tty; do printf "%s=%s " $d "$(stat -c "%F %t:%T" /dev/$d)"; done'
assert_ok default_devices "null=character special file 1:3 zero=character special file 1:5 full=character special file 1:7 random=character special file 1:8 urandom=character special file 1:9 tty=character special file 5:0 "
ct_sh "$B" 'echo $(readlink /dev/ptmx) $(readlink /dev/fd) $(readlink /dev/stdin) $(readlink /dev/stdout) $(readlink /dev/stderr)'
assert_ok default_device_links "pts/ptmx /proc/self/fd /proc/self/fd/0 /proc/self/fd/1 /proc/self/fd/2"
ct_sh "$B" 'head -c 16 /dev/urandom | wc -c; echo x > /dev/null && echo null-ok; (echo x > /dev/full) 2>/dev/null || echo full-enospc'
OUT=$(echo $OUT)
assert_ok devices_work "16 null-ok full-enospc"
# A device from linux.devices (rootless: bound from the host's same path, so use one the host has).
if [ "$MODE" = root ]; then
  jq_edit "$CFG" '.linux.devices = [{path: "/dev/nook/extra", type: "c", major: 1, minor: 3, fileMode: 438, uid: 0, gid: 0}]'
  ct_sh "$B" 'stat -c "%F %t:%T" /dev/nook/extra; echo x > /dev/nook/extra && echo ok'
  OUT=$(echo $OUT)
  assert_ok spec_device "character special file 1:3 ok"
elif [ -c /dev/net/tun ]; then
  jq_edit "$CFG" '.linux.devices = [{path: "/dev/net/tun", type: "c", major: 10, minor: 200, fileMode: 438, uid: 0, gid: 0}]'
  ct_sh "$B" 'stat -c "%F %t:%T" /dev/net/tun'
  assert_ok spec_device "character special file a:c8"
fi
reset_cfg

# --- stdio, --preserve-fds ------------------------------------------------------------------------------------
set_args "$B" cat
id=$(new_id)
OUT=$(printf 'hello\nworld\n' | rt run -b "$B" "$id" 2> "$TMP/stderr"); RC=$?; ERR=$(cat "$TMP/stderr")
assert_ok stdin_passes "hello
world"
ct_sh "$B" 'head -c 1048576 /dev/zero | tr "\0" a'
assert_eq large_stdout_complete "0 1048576" "$RC ${#OUT}"
echo preserved > "$TMP/fd3"
chmod 0644 "$TMP/fd3"
# (No pipeline in these: the shell's own pipe fds would show up.)
set_args "$B" sh -c 'cat <&3; ls /proc/$$/fd; true'
id=$(new_id)
OUT=$(rt run --preserve-fds 1 -b "$B" "$id" 3< "$TMP/fd3" < /dev/null 2> "$TMP/stderr"); RC=$?; ERR=$(cat "$TMP/stderr")
OUT=$(echo $OUT)
assert_ok preserve_fds_1 "preserved 0 1 2 3"
set_args "$B" sh -c 'ls /proc/$$/fd; true'
id=$(new_id)
OUT=$(rt run -b "$B" "$id" 3< "$TMP/fd3" 4< "$TMP/fd3" < /dev/null 2> "$TMP/stderr"); RC=$?; ERR=$(cat "$TMP/stderr")
OUT=$(echo $OUT)
assert_ok inherited_fds_closed_without_preserve "0 1 2"

# Arguments and environment pass byte for byte.
set_args "$B" printf '%s|' 'a b' 'c
d' 'é' '' '$HOME' '*'
capture rt run -b "$B" "$(new_id)"
assert_ok args_verbatim 'a b|c
d|é||$HOME|*|'
reset_cfg

# A relative --pid-file is relative to the caller's cwd.
set_args "$B" sleep 60
id=$(new_id)
mkdir -p "$TMP/pidrel"
[ "$MODE" = rootless ] && chown "$TEST_UID:$TEST_GID" "$TMP/pidrel"
capture as_mode sh -c "cd '$TMP/pidrel' && timeout 60 '$NOOK_RUNTIME' --root '$RTROOT' run -d --pid-file rel.pid -b '$B' $id"
assert_eq pid_file_relative "$(ct_state "$id" pid)" "$(cat "$TMP/pidrel/rel.pid" 2>&1)"
rt delete -f "$id" > /dev/null 2>&1

# Seccomp with noNewPrivileges false and a non-root user (the filter goes in before the uid change).
jq_edit "$CFG" '.process.noNewPrivileges = false | .process.user = {uid: 1000, gid: 1000}
  | .linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW",
      syscalls: [{names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO", errnoRet: 1}]}'
ct_sh "$B" 'echo $(id -u) $(awk "/^NoNewPrivs:/ {print \$2}" /proc/self/status) $(awk "/^Seccomp:/ {print \$2}" /proc/self/status); mkdir /dev/shm/x 2>&1 | grep -o "Operation not permitted"'
assert_ok seccomp_without_nnp_non_root "1000 0 2
Operation not permitted"
reset_cfg

# Without a pid namespace, delete -f must still kill every process of the container (root: its cgroup).
if [ "$MODE" = root ]; then
  jq_edit "$CFG" '.linux.namespaces |= map(select(.type != "pid"))'
  set_args "$B" sh -c 'sleep 61 & echo $! > /dev/shm/child; exec sleep 62'
  id=$(new_id)
  capture rt run -d -b "$B" "$id"
  sleep 0.5
  kids=$(pgrep -f '^sleep 61$' | tr '\n' ' ')
  capture rt delete -f "$id"
  sleep 0.5
  left=
  for k in $kids; do alive "$k" && left="$left $k"; done
  [ -n "$kids" ] && [ -z "$left" ] && pass no_pidns_delete_force_kills_children ||
    fail no_pidns_delete_force_kills_children "children '$kids', still alive: '$left'"
  for k in $left; do kill -9 "$k" 2> /dev/null; done
  reset_cfg
fi

# --- exec details -------------------------------------------------------------------------------------------------
set_args "$B" sleep 60
jq_edit "$CFG" '.annotations = {"org.nook.test": "yes"}'
id=$(new_id)
capture rt run -d -b "$B" "$id"
assert_rc run_detached_for_exec 0
assert_eq state_annotations yes "$(rt state "$id" 2> /dev/null | jq -r '.annotations["org.nook.test"]' 2> /dev/null)"
capture rt exec "$id" sh -c 'ls /proc/$$/fd; true'
OUT=$(echo $OUT)
assert_ok exec_only_fds_0_1_2 "0 1 2"
capture rt exec --cap CAP_SYS_ADMIN "$id" sh -c 'awk "/^CapEff:/ {print \$2}" /proc/self/status'
want=$(cap_mask $(jq -r '.process.capabilities.effective[]' "$CFG") CAP_SYS_ADMIN)
assert_ok exec_cap_added "$want"
capture rt exec --no-new-privs "$id" sh -c 'awk "/^NoNewPrivs:/ {print \$2}" /proc/self/status'
assert_ok exec_no_new_privs 1
capture rt exec "$id" sh -c 'echo $(cat /proc/self/uid_map) $(hostname) $(readlink /proc/self/ns/pid)'
exec_view=$OUT
ct_view=$(as_mode sh -c "cat /proc/$(ct_state "$id" pid)/uid_map" 2> /dev/null | awk '{print $1, $2, $3}' | tr '\n' ' ')
assert_contains exec_joins_user_ns "$(echo $ct_view)" "$exec_view"
capture rt exec "$id" sh -c 'echo in-exec; exit 0'
assert_ok exec_output in-exec
rt delete -f "$id" > /dev/null 2>&1
capture rt exec "$id" true
assert_error exec_after_delete
reset_cfg

# --- umask, cwd through a symlink ----------------------------------------------------------------------------------
jq_edit "$CFG" '.process.user.umask = 63'
ct_sh "$B" umask
assert_ok umask 0077
reset_cfg
R=$TMP/rootfs-w
cp -a "$ROOTFS" "$R"
ln -s "/../../../../../etc" "$R/cwdlink"
chown -h "$(stat -c %u:%g "$R")" "$R/cwdlink"
jq_edit "$CFG" '.root.path = $r | .process.cwd = "/cwdlink"' --arg r "$R"
ct_sh "$B" 'pwd -P; test -f alpine-release && echo container-etc'
OUT=$(echo $OUT)
assert_ok cwd_symlink_stays_inside "/etc container-etc"
reset_cfg

# --- bundle paths ------------------------------------------------------------------------------------------------
RB=$TMP/relbundle
mkdir -p "$RB"
cp "$CFG" "$RB/config.json"
ln -s "$ROOTFS" "$RB/rootfs"
jq_edit "$RB/config.json" '.root.path = "rootfs" | .process.args = ["cat", "/etc/alpine-release"]'
[ "$MODE" = rootless ] && chown -R -h "$TEST_UID:$TEST_GID" "$RB"
capture as_mode sh -c "cd / && timeout 60 '$NOOK_RUNTIME' --root '$RTROOT' run -b '$RB' $(new_id)"
assert_ok relative_root_path_is_bundle_relative "$(cat "$ROOTFS/etc/alpine-release")"
capture as_mode sh -c "cd '$RB' && timeout 60 '$NOOK_RUNTIME' --root '$RTROOT' run $(new_id)"
assert_ok default_bundle_is_cwd "$(cat "$ROOTFS/etc/alpine-release")"
capture as_mode sh -c "cd '$TMP' && timeout 60 '$NOOK_RUNTIME' --root '$RTROOT' run -b relbundle $(new_id)"
assert_ok relative_bundle_flag "$(cat "$ROOTFS/etc/alpine-release")"
id=$(new_id)
capture as_mode sh -c "cd '$RB' && timeout 60 '$NOOK_RUNTIME' --root '$RTROOT' create $id"
assert_eq state_bundle_absolute "$RB" "$(ct_state "$id" bundle)"
rt delete -f "$id" > /dev/null 2>&1

# --- never-started and self-exited containers -------------------------------------------------------------------
set_args "$B" sleep 60
id=$(new_id)
capture rt create -b "$B" "$id"
pid=$(ct_state "$id" pid)
capture rt delete "$id"
assert_rc delete_created 0
rt delete -f "$id" > /dev/null 2>&1
sleep 0.3
[ -n "$pid" ] && ! alive "$pid" && pass delete_created_kills_init || fail delete_created_kills_init "init '$pid' still alive"
set_args "$B" true
id=$(new_id)
capture rt run -d -b "$B" "$id"
sleep 0.5
if wait_status "$id" stopped; then pass self_exited_is_stopped; else fail self_exited_is_stopped "status '$(ct_state "$id")'"; fi
capture rt delete "$id"
assert_rc self_exited_delete 0
capture rt kill "$id" KILL
assert_error kill_deleted
# kill without a signal sends SIGTERM.
set_args "$B" sh -c 'trap "exit 3" TERM; while :; do sleep 0.1; done'
id=$(new_id)
capture rt run -d -b "$B" "$id"
wait_status "$id" running
sleep 0.3
capture rt kill "$id"
if [ "$RC" = 0 ] && wait_status "$id" stopped; then pass kill_default_TERM; else fail kill_default_TERM "rc=$RC status '$(ct_state "$id")'" "$ERR"; fi
rt delete -f "$id" > /dev/null 2>&1
reset_cfg

# --- concurrent runs --------------------------------------------------------------------------------------------------
set_args "$B" sh -c 'echo $$'
for i in 1 2 3 4 5 6; do
  (capture rt run -b "$B" "$(new_id)-c$i"; echo "$RC:$OUT" > "$TMP/conc.$i") &
done
wait
res=$(cat "$TMP"/conc.* | sort | uniq -c | awk '{print $1 "x" $2}')
assert_eq concurrent_runs "6x0:1" "$res"
no_state_left concurrent_runs_leave_nothing
reset_cfg

# --- sysctl ------------------------------------------------------------------------------------------------------------
jq_edit "$CFG" '.linux.sysctl = {"net.ipv4.ip_forward": "1", "kernel.shmmni": "1234"}'
[ "$MODE" = rootless ] || jq_edit "$CFG" '.linux.namespaces |= (map(select(.type != "network")) + [{type: "network"}])'
host_fwd=$(cat /proc/sys/net/ipv4/ip_forward)
host_shm=$(cat /proc/sys/kernel/shmmni)
ct_sh "$B" 'echo $(cat /proc/sys/net/ipv4/ip_forward) $(cat /proc/sys/kernel/shmmni)'
assert_ok sysctl_namespaced "1 1234"
assert_eq sysctl_host_untouched "$host_fwd $host_shm" "$(cat /proc/sys/net/ipv4/ip_forward) $(cat /proc/sys/kernel/shmmni)"
reset_cfg
jq_edit "$CFG" '.linux.sysctl = {"kernel.panic": "5"}'
capture rt run -b "$B" "$(new_id)"
assert_error sysctl_not_namespaced_refused
assert_contains sysctl_refused_names_key kernel.panic "$ERR"
reset_cfg
jq_edit "$CFG" '.linux.sysctl = {"net.ipv4/../../kernel/panic": "5"}'
capture rt run -b "$B" "$(new_id)"
assert_error sysctl_path_escape_refused
reset_cfg

# --- cgroup limits --------------------------------------------------------------------------------------------------------
# (`spec` writes runc's namespaces, without a cgroup one: add it for the cgroup_namespace_hides_path check.)
jq_edit "$CFG" '.linux.resources = {pids: {limit: 42}, memory: {limit: 67108864}}
  | .linux.namespaces = ((.linux.namespaces // []) | map(select(.type != "cgroup")) + [{type: "cgroup"}])'
set_args "$B" sleep 60
id=$(new_id)
capture rt run -d -b "$B" "$id"
if [ "$RC" != 0 ]; then
  fail cgroup_limits_run "run -d with resources exited $RC" "$ERR"
else
  pid=$(ct_state "$id" pid)
  nwarn=$(printf '%s\n' "$ERR" | grep -c '^WARN:')
  if [ "$MODE" = root ]; then
    pcg=$(awk -F: '$2 == "pids" {print $3}' "/proc/$pid/cgroup")
    mcg=$(awk -F: '$2 == "memory" {print $3}' "/proc/$pid/cgroup")
    assert_eq cgroup_pids_max 42 "$(cat "/sys/fs/cgroup/pids$pcg/pids.max" 2>&1)"
    assert_eq cgroup_memory_limit 67108864 "$(cat "/sys/fs/cgroup/memory$mcg/memory.limit_in_bytes" 2>&1)"
    assert_eq cgroup_no_warning 0 "$nwarn"
    capture rt exec "$id" sh -c 'cat /proc/self/cgroup | grep -E ":(pids|memory):"'
    OUT=$(printf '%s\n' "$OUT" | cut -d: -f2- | sort)
    assert_ok cgroup_namespace_hides_path "memory:/
pids:/"
    rt delete -f "$id" > /dev/null 2>&1
    sleep 0.3
    [ -n "$pcg" ] && [ "$pcg" != / ] && [ ! -d "/sys/fs/cgroup/pids$pcg" ] && pass cgroup_removed_on_delete ||
      fail cgroup_removed_on_delete "pids cgroup '$pcg' still exists after delete"
  else
    [ "$nwarn" -le 1 ] && pass cgroup_rootless_at_most_one_warning ||
      fail cgroup_rootless_at_most_one_warning "$nwarn warnings" "$ERR"
    assert_eq cgroup_rootless_runs running "$(ct_state "$id")"
    rt delete -f "$id" > /dev/null 2>&1
  fi
fi
reset_cfg

# --- mount propagation and --no-pivot (root) ---------------------------------------------------------------------------
if [ "$MODE" = root ]; then
  mkdir -p "$TMP/prop"
  mount --bind "$TMP/prop" "$TMP/prop" && mount --make-shared "$TMP/prop"
  jq_edit "$CFG" '.mounts += [{destination: "/mnt", type: "bind", source: $s, options: ["rbind", "rw"]}]
    | .process.capabilities.effective += ["CAP_SYS_ADMIN"] | .process.capabilities.bounding += ["CAP_SYS_ADMIN"]
    | .process.capabilities.permitted += ["CAP_SYS_ADMIN"]' --arg s "$TMP/prop"
  ct_sh "$B" 'mkdir -p /dev/shm/m; mount -t tmpfs none /mnt && touch /mnt/from-container && echo mounted'
  assert_ok propagation_container_mount mounted
  [ ! -e "$TMP/prop/from-container" ] && ! grep -q " $TMP/prop tmpfs" /proc/self/mounts &&
    pass propagation_not_to_host || fail propagation_not_to_host "the container's mount propagated to the host"
  umount "$TMP/prop" 2> /dev/null
  reset_cfg
  set_args "$B" sh -c 'cat /etc/alpine-release; echo $$'
  id=$(new_id)
  capture rt create --no-pivot -b "$B" "$id"
  [ "$RC" = 0 ] && capture rt start "$id"
  assert_rc no_pivot_create_start 0
  rt delete -f "$id" > /dev/null 2>&1
  reset_cfg
fi

# --- exec with a terminal through --console-socket -------------------------------------------------------------------
RECVTTY=
for c in "$BUILD/tests/recvtty" "$(dirname "$NOOK")/recvtty"; do [ -x "$c" ] && { RECVTTY=$c; break; }; done
if [ -n "$RECVTTY" ]; then
  cp "$RECVTTY" "$TMP/recvtty"
  chmod 0755 "$TMP/recvtty"
  mkdir -p "$TMP/sock"
  [ "$MODE" = rootless ] && chown "$TEST_UID:$TEST_GID" "$TMP/sock"
  set_args "$B" sleep 60
  id=$(new_id)
  capture rt run -d -b "$B" "$id"
  sock=$TMP/sock/exec.sock
  (sleep 10 | as_mode "$TMP/recvtty" "$sock" > "$TMP/exec-tty.out" 2>&1) &
  rbg=$!
  for i in $(seq 50); do [ -S "$sock" ] && break; sleep 0.1; done
  capture rt exec -t --console-socket "$sock" "$id" sh -c 'tty; echo done'
  sleep 0.5
  assert_contains exec_tty_console_socket "/dev/pts/" "$(tr -d '\r' < "$TMP/exec-tty.out")"
  pkill -P "$rbg" 2> /dev/null; kill "$rbg" 2> /dev/null; wait "$rbg" 2> /dev/null
  rt delete -f "$id" > /dev/null 2>&1
  reset_cfg
fi

finish
