#!/bin/bash
# The verbs engines call besides the life cycle: pause/resume, update, events, ps, state's fields,
# features; a clean start (signal dispositions and mask, fds, LISTEN_FDS); `process: null`; rootless
# detection by user namespace, not euid.
# Rootless on a host whose cgroup v2 hierarchy is not delegated to the user (hybrid hosts): the suite
# delegates one for its own run (root makes a directory owned by the test user and moves this shell into it),
# as systemd does for a user session, so the freezer is tested rootless too.
# modes: root rootless
. "$(dirname "$0")/../lib.sh"
require_runtime

B=$TMP/bundle
mode_bundle "$B" || { fail make_bundle "could not create a bundle" "$(cd "$TMP" && rt_plain spec 2>&1)"; finish; }
cp "$B/config.json" "$TMP/config.orig"

# ---- a delegated cgroup v2 for the rootless run ----------------------------------------------------------
UNIFIED=/sys/fs/cgroup/unified
[ "$(stat -f -c %T /sys/fs/cgroup 2> /dev/null)" = cgroup2fs ] && UNIFIED=/sys/fs/cgroup
DELEG="" ORIG_CG=""
if [ "$MODE" = rootless ] && [ "$(stat -f -c %T "$UNIFIED" 2> /dev/null)" = cgroup2fs ]; then
  ORIG_CG=$(awk -F: '$1 == "0" { print $3 }' /proc/$$/cgroup)
  DELEG=$UNIFIED/nook-verbs-$$
  if ! { mkdir "$DELEG" && chown -R "$TEST_UID:$TEST_GID" "$DELEG" && echo $$ > "$DELEG/cgroup.procs"; }; then
    rmdir "$DELEG" 2> /dev/null
    DELEG=
  fi
fi
cleanup_verbs () {
  cleanup_suite
  if [ -n "$DELEG" ]; then
    echo $$ > "$UNIFIED${ORIG_CG%/}/cgroup.procs" 2> /dev/null || echo $$ > "$UNIFIED/cgroup.procs"
    rmdir "$DELEG"/* "$DELEG" 2> /dev/null
  fi
}
trap cleanup_verbs EXIT

# cg_file PID CONTROLLER V1FILE V2FILE: the container's cgroup file holding a controller's value (the v1
# hierarchy carrying CONTROLLER, else the unified one); empty when neither exists.
cg_file () {
  local pid=$1 c=$2 path f
  path=$(awk -F: -v c="$c" '$1 != "0" { n = split($2, a, ","); for (i = 1; i <= n; i++) if (a[i] == c) print $3 }' \
    "/proc/$pid/cgroup")
  f=/sys/fs/cgroup/$c${path%/}/$3
  if [ -n "$path" ] && [ -e "$f" ]; then echo "$f"; return; fi
  path=$(awk -F: '$1 == "0" { print $3 }' "/proc/$pid/cgroup")
  f=$UNIFIED${path%/}/$4
  [ -n "$path" ] && [ -e "$f" ] && echo "$f"
}

# A detached container counting in /dev/shm/count (a tmpfs), read from the host through /proc/PID/root.
set_args "$B" sh -c 'i=0; while :; do i=$((i+1)); echo $i > /dev/shm/count; sleep 0.05; done'
id=$(new_id)
capture rt run -d -b "$B" "$id"
assert_rc run_counter 0
pid=$(ct_state "$id" pid)
count () { cat "/proc/$pid/root/dev/shm/count" 2> /dev/null; }
sleep 0.3

# ---- pause / resume --------------------------------------------------------------------------------------
if [ "$MODE" = rootless ] && [ -z "$DELEG" ]; then
  capture rt pause "$id"
  assert_error pause_without_cgroup_is_clear
else
  capture rt pause "$id"
  assert_rc pause 0
  assert_eq state_paused paused "$(ct_state "$id")"
  assert_contains list_paused "paused" "$(rt list 2> /dev/null | grep "$id")"
  c1=$(count); sleep 0.4; c2=$(count)
  if [ -n "$c1" ] && [ "$c1" = "$c2" ]; then pass paused_process_frozen; else fail paused_process_frozen "counter moved while paused: '$c1' -> '$c2'"; fi
  fz=$(cg_file "$pid" freezer freezer.state cgroup.freeze)
  case $(cat "$fz" 2> /dev/null) in FROZEN | 1) pass freezer_file_frozen ;; *) fail freezer_file_frozen "$fz: '$(cat "$fz" 2> /dev/null)'" ;; esac
  if [ "${fz##*/}" = freezer.state ]; then
    assert_eq paused_task_state_D D "$(awk '/^State:/ {print $2}' "/proc/$pid/status")"
  fi
  capture rt exec "$id" true
  assert_error exec_in_paused_refused
  capture rt pause "$id"
  assert_error pause_twice_refused
  capture rt resume "$id"
  assert_rc resume 0
  assert_eq state_resumed running "$(ct_state "$id")"
  c1=$(count); sleep 0.4; c2=$(count)
  if [ -n "$c1" ] && [ -n "$c2" ] && [ "$c2" -gt "$c1" ]; then pass resumed_process_runs; else fail resumed_process_runs "counter '$c1' -> '$c2'"; fi
  capture rt resume "$id"
  assert_error resume_running_refused
fi
capture rt pause no-such-container
assert_error pause_missing_container

# ---- update ------------------------------------------------------------------------------------------------
mem=$(cg_file "$pid" memory memory.limit_in_bytes memory.max)
pids=$(cg_file "$pid" pids pids.max pids.max)
if [ -n "$mem" ] && [ -n "$pids" ]; then
  capture rt update --memory 64m --pids-limit 77 "$id"
  assert_rc update_flags 0
  assert_eq update_memory_file 67108864 "$(cat "$mem")"
  assert_eq update_pids_file 77 "$(cat "$pids")"
  echo '{"memory": {"limit": 100663296}, "pids": {"limit": 88}}' > "$TMP/res.json"
  chmod 0644 "$TMP/res.json"
  capture rt update --resources "$TMP/res.json" "$id"
  assert_rc update_resources_file 0
  assert_eq update_resources_memory 100663296 "$(cat "$mem")"
  assert_eq update_resources_pids 88 "$(cat "$pids")"
  capture as_mode sh -c 'echo "{\"pids\": {\"limit\": 99}}" | "$@"' sh "$NOOK_RUNTIME" --root "$RTROOT" update -r - "$id"
  assert_rc update_resources_stdin 0
  assert_eq update_stdin_pids 99 "$(cat "$pids")"
  cpu=$(cg_file "$pid" cpu cpu.cfs_quota_us cpu.max)
  if [ -n "$cpu" ]; then
    capture rt update --cpu-quota 20000 --cpu-period 100000 --cpu-share 512 "$id"
    assert_rc update_cpu 0
    assert_contains update_cpu_quota_file 20000 "$(cat "$cpu")"
  fi
  cpus=$(cg_file "$pid" cpuset cpuset.cpus cpuset.cpus)
  if [ -n "$cpus" ]; then
    capture rt update --cpuset-cpus 0 "$id"
    assert_rc update_cpuset 0
    assert_eq update_cpuset_file 0 "$(cat "$cpus")"
    assert_eq update_cpuset_seen_inside 0 "$(awk '/^Cpus_allowed_list:/ {print $2}' "/proc/$pid/status")"
  fi
  capture rt update --memory-swap -1 --memory-reservation 32m "$id"
  assert_rc update_swap_reservation 0
  capture rt exec "$id" sh -c 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max'
  [ "$RC" = 0 ] && [ "$OUT" != 100663296 ] && [ "$OUT" != max ] && [ "$OUT" != 9223372036854771712 ] &&
    fail update_seen_inside "container reads memory limit '$OUT'"
else
  capture rt update --memory 64m "$id"
  assert_error update_without_controllers_is_clear
  assert_contains update_error_names_controller "not available" "$ERR"
fi
capture rt update --memory lots "$id"
assert_error update_bad_size
echo '{"memory": {"limit": "big"}}' > "$TMP/bad.json"
chmod 0644 "$TMP/bad.json"
capture rt update -r "$TMP/bad.json" "$id"
assert_error update_bad_json_type
assert_contains update_bad_json_names_field "memory.limit" "$ERR"
capture rt update --memory 1g no-such-container
assert_error update_missing_container

# ---- events ------------------------------------------------------------------------------------------------
if [ "$MODE" = rootless ] && [ -z "$DELEG" ]; then
  capture rt events --stats "$id"
  assert_error events_without_cgroup_is_clear
else
  capture rt events --stats "$id"
  assert_rc events_stats 0
  if jq -e --arg id "$id" '.type == "stats" and .id == $id and (.data.cpu.usage.total > 0)
                           and (.data.memory | has("usage")) and (.data.pids | type == "object")' <<< "$OUT" > /dev/null 2>&1; then
    pass events_stats_json
  else
    fail events_stats_json "unexpected events --stats output: '$OUT'" "$ERR"
  fi
  if [ -n "$pids" ]; then
    assert_eq events_pids_current true "$(jq '.data.pids.current >= 2 and .data.pids.limit == 99' <<< "$OUT" 2> /dev/null)"
    assert_eq events_memory_limit 100663296 "$(jq '.data.memory.usage.limit' <<< "$OUT" 2> /dev/null)"
  fi
  capture as_mode timeout 1.3 "$NOOK_RUNTIME" --root "$RTROOT" events --interval 300ms "$id"
  n=$(printf '%s\n' "$OUT" | jq -s 'map(select(.type == "stats")) | length' 2> /dev/null)
  if [ "${n:-0}" -ge 3 ]; then pass events_stream_interval; else fail events_stream_interval "$n stats lines in 1.3 s at 300ms: '$OUT'" "$ERR"; fi
  # The stream ends by itself when the container stops.
  set_args "$B" sleep 1
  sid=$(new_id)
  rt run -d -b "$B" "$sid" > /dev/null 2>&1
  capture as_mode timeout 10 "$NOOK_RUNTIME" --root "$RTROOT" events --interval 100ms "$sid"
  assert_rc events_stream_ends_with_container 0
  rt delete -f "$sid" > /dev/null 2>&1
fi
# An OOM kill in the container shows up in the stream as {"type":"oom"} (root: the memory controller).
if [ "$MODE" = root ] && [ -n "$mem" ]; then
  set_args "$B" sleep 60
  oid=$(new_id)
  rt run -d -b "$B" "$oid" > /dev/null 2>&1
  rt update --memory 16m "$oid" > /dev/null 2>&1
  rt events --interval 100ms "$oid" > "$TMP/events.out" 2>&1 &
  evpid=$!
  sleep 0.3
  rt exec "$oid" sh -c 'x=$(head -c 100000000 /dev/zero | tr "\0" a); echo survived' > "$TMP/oom.out" 2>&1
  sleep 0.6
  kill "$evpid" 2> /dev/null
  wait "$evpid" 2> /dev/null
  if jq -e -s --arg id "$oid" 'any(.[]; .type == "oom" and .id == $id)' "$TMP/events.out" > /dev/null 2>&1; then
    pass events_oom; else fail events_oom "no oom event: $(tail -c 300 "$TMP/events.out"); exec said '$(cat "$TMP/oom.out")'"; fi
  rt delete -f "$oid" > /dev/null 2>&1
fi
capture rt events --interval bogus "$id"
assert_error events_bad_interval

# ---- ps ------------------------------------------------------------------------------------------------------
capture rt ps --format json "$id"
if jq -e --argjson p "$pid" 'type == "array" and (index($p) != null)' <<< "$OUT" > /dev/null 2>&1; then
  pass ps_json_has_init; else fail ps_json_has_init "ps --format json: '$OUT'" "$ERR"; fi
capture rt ps "$id" -o pid,comm
assert_contains ps_args_passed "COMMAND" "$OUT"
assert_contains ps_lists_init "$pid" "$OUT"

# ---- state's fields ----------------------------------------------------------------------------------------
capture rt state "$id"
if jq -e --arg id "$id" --arg b "$B" --argjson p "$pid" '.ociVersion != null and .id == $id and .status == "running"
     and .pid == $p and .bundle == $b and (.annotations | type == "object") and (.rootfs | length > 0)
     and (.created | test("^[0-9]{4}-")) and has("owner")' <<< "$OUT" > /dev/null 2>&1; then
  pass state_fields; else fail state_fields "state: '$OUT'" "$ERR"; fi

capture rt kill "$id" KILL
assert_rc kill_counter 0
wait_status "$id" stopped && pass stopped_after_kill || fail stopped_after_kill "status '$(ct_state "$id")'"
capture rt delete "$id"
assert_rc delete_counter 0

# A paused container: kill -9 and delete -f both work (a frozen task dies only once thawed).
if [ "$MODE" = root ] || [ -n "$DELEG" ]; then
  set_args "$B" sleep 100
  pid2=$(new_id)
  rt run -d -b "$B" "$pid2" > /dev/null 2>&1 && rt pause "$pid2" > /dev/null 2>&1
  capture rt delete -f "$pid2"
  assert_rc delete_force_paused 0
  assert_not_contains delete_force_paused_gone "$pid2" "$(ct_list)"
fi

# ---- features ------------------------------------------------------------------------------------------------
capture rt features
if jq -e '.ociVersionMin and .ociVersionMax and (.hooks | type == "array") and (.mountOptions | length > 10)
     and (.linux.namespaces | index("user") and index("cgroup")) and (.linux.capabilities | index("CAP_SYS_ADMIN"))
     and (.linux.cgroup | has("v1") and has("v2") and has("systemd") and has("systemdUser"))
     and (.linux.seccomp.enabled == true) and (.linux.seccomp.actions | index("SCMP_ACT_ERRNO"))
     and (.linux.seccomp.operators | index("SCMP_CMP_EQ")) and (.linux.seccomp.archs | index("SCMP_ARCH_X86_64"))
     and (.linux.apparmor | has("enabled")) and (.linux.selinux | has("enabled"))
     and (.linux.intelRdt | has("enabled")) and (.linux.mountExtensions.idmap | has("enabled"))
     and (.annotations["io.github.seccomp.libseccomp.version"] | test("^[0-9]+\\."))' <<< "$OUT" > /dev/null 2>&1; then
  pass features_complete; else fail features_complete "features: $(jq -c . <<< "$OUT" 2> /dev/null | cut -c 1-300)" "$ERR"; fi

# ---- the process starts clean --------------------------------------------------------------------------------
# The caller ignores SIGPIPE, SIGUSR1 and glibc's reserved signals 32 and 33 (which glibc's sigaction cannot
# reset; a CI runner left them ignored) and blocks SIGTERM and SIGUSR2 (podman runs runtimes with SIGPIPE
# ignored): none of it reaches the container.
IGN_RESERVED='import ctypes, struct
libc = ctypes.CDLL(None, use_errno=True)
for s in (32, 33):
    libc.syscall(13, s, struct.pack("QQQQ", 1, 0, 0, 0), None, 8)'

set_args "$B" sh -c 'grep -E "^Sig(Ign|Blk):" /proc/self/status | tr -s "\t " " " | tr "\n" " "'
capture as_mode python3 -c '
import os, signal, sys
'"$IGN_RESERVED"'
signal.signal(signal.SIGPIPE, signal.SIG_IGN)
signal.signal(signal.SIGUSR1, signal.SIG_IGN)
signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGTERM, signal.SIGUSR2])
os.execv(sys.argv[1], sys.argv[1:])' "$NOOK_RUNTIME" --root "$RTROOT" run -b "$B" "$(new_id)"
OUT=$(echo $OUT)
assert_ok signals_reset "SigBlk: 0000000000000000 SigIgn: 0000000000000000"
# The same through exec.
set_args "$B" sleep 30
eid=$(new_id)
rt run -d -b "$B" "$eid" > /dev/null 2>&1
capture as_mode python3 -c '
import os, signal, sys
'"$IGN_RESERVED"'
signal.signal(signal.SIGPIPE, signal.SIG_IGN)
signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGTERM])
os.execv(sys.argv[1], sys.argv[1:])' "$NOOK_RUNTIME" --root "$RTROOT" exec "$eid" sh -c 'grep -E "^Sig(Ign|Blk):" /proc/self/status | tr -s "\t " " " | tr "\n" " "'
OUT=$(echo $OUT)
assert_ok exec_signals_reset "SigBlk: 0000000000000000 SigIgn: 0000000000000000"
rt delete -f "$eid" > /dev/null 2>&1

# The init leads a session and process group of its own (conmon's --timeout kills the init's group).
set_args "$B" sh -c 'cut -d" " -f5,6 /proc/1/stat'
capture rt run -b "$B" "$(new_id)"
assert_ok init_own_session "1 1"

# Socket activation: LISTEN_FDS meant for the runtime (LISTEN_PID = its pid) reaches the process as fds
# 3.. with LISTEN_FDS=N and LISTEN_PID=1; a stray fd 5 does not.
set_args "$B" sh -c 'printf "%s %s" "$LISTEN_FDS" "$LISTEN_PID"; for f in 3 4 5 6; do [ -e /proc/$$/fd/$f ] && printf " %s" $f; done; echo'
capture as_mode bash -c 'exec 3< /dev/null 4< /dev/null 5< /dev/null; export LISTEN_FDS=2 LISTEN_PID=$$; exec "$@"' \
  sh "$NOOK_RUNTIME" --root "$RTROOT" run -b "$B" "$(new_id)"
OUT=$(echo $OUT)
assert_ok listen_fds "2 1 3 4"

# A device both bind-mounted by a `mounts` entry and listed in linux.devices (podman --privileged,
# rootless): the mount stays, no error.  (A device listed in linux.devices is usable only when a
# resources.devices rule allows it, as with runc: podman --privileged allows "a".)
jq_edit "$B/config.json" '.mounts += [{destination: "/dev/null", type: "bind", source: "/dev/null", options: ["rbind", "rw"]}]
  | .linux.devices = [{path: "/dev/null", type: "c", major: 1, minor: 3}]
  | .linux.resources.devices = ((.linux.resources.devices // []) + [{allow: true, type: "c", major: 1, minor: 3, access: "rwm"}])'
set_args "$B" sh -c 'echo x > /dev/null && stat -c "%t:%T" /dev/null'
capture rt run -b "$B" "$(new_id)"
assert_ok device_already_bind_mounted "1:3"
cp "$TMP/config.orig" "$B/config.json"

# ---- process: null -----------------------------------------------------------------------------------------
cp "$B/config.json" "$TMP/config.keep"
jq_edit "$B/config.json" '.process = null'
nid=$(new_id)
capture rt create -b "$B" "$nid"
assert_rc create_process_null 0
assert_eq process_null_created created "$(ct_state "$nid")"
capture rt exec "$nid" cat /etc/alpine-release
if [ "$RC" = 0 ] && [ -n "$OUT" ]; then pass process_null_exec_works; else fail process_null_exec_works "rc=$RC out='$OUT'" "$ERR"; fi
capture rt exec "$nid" sh -c 'echo "$(id -u) $(pwd)"'
assert_ok process_null_exec_root_in_slash "0 /"
capture rt start "$nid"
assert_error process_null_start_refused
assert_contains process_null_start_says_why "no process" "$ERR"
assert_eq process_null_still_created created "$(ct_state "$nid")"
capture rt delete "$nid"
assert_rc process_null_delete 0
cp "$TMP/config.keep" "$B/config.json"

# ---- rootless detection: "root" inside a user namespace is not the host's root ------------------------------
mkdir -p "$TMP/xdg" "$TMP/xdg2"
[ "$MODE" = rootless ] && chown "$TEST_UID:$TEST_GID" "$TMP/xdg" "$TMP/xdg2"
capture as_mode unshare -U -r env XDG_RUNTIME_DIR="$TMP/xdg" "$NOOK_RUNTIME" list -q
if [ "$RC" = 0 ] && [ -d "$TMP/xdg/nook-runtime" ]; then pass userns_root_uses_xdg_runtime_dir
else fail userns_root_uses_xdg_runtime_dir "rc=$RC, $TMP/xdg holds '$(ls -A "$TMP/xdg")'" "$ERR"; fi
capture as_mode unshare -U -r env XDG_RUNTIME_DIR="$TMP/xdg2" _CONTAINERS_USERNS_CONFIGURED=done "$NOOK_RUNTIME" list -q
[ -d "$TMP/xdg2/nook-runtime" ] && pass podman_userns_marker || fail podman_userns_marker "rc=$RC" "$ERR"
if [ "$MODE" = root ]; then
  rm -rf "$TMP/xdg2/nook-runtime"
  capture env XDG_RUNTIME_DIR="$TMP/xdg2" "$NOOK_RUNTIME" list -q
  if [ ! -e "$TMP/xdg2/nook-runtime" ]; then pass host_root_ignores_xdg; else fail host_root_ignores_xdg "host root used \$XDG_RUNTIME_DIR"; fi
  capture env XDG_RUNTIME_DIR="$TMP/xdg2" "$NOOK_RUNTIME" --rootless true list -q
  [ -d "$TMP/xdg2/nook-runtime" ] && pass rootless_flag_true || fail rootless_flag_true "rc=$RC" "$ERR"
fi
# Run a container the way rootless podman does: as root of a user namespace that maps only us (no user
# namespace in the spec): the state goes under XDG_RUNTIME_DIR and the container runs (devpts without
# gid=5: only our own ids are mapped there).
jq_edit "$B/config.json" '.linux.namespaces |= map(select(.type != "user")) | del(.linux.uidMappings, .linux.gidMappings)
  | .mounts |= map(.options |= ((. // []) | map(select(startswith("gid=") | not))))
  | .process.args = ["sh", "-c", "echo in-userns $(id -u)"]'
[ "$MODE" = rootless ] && jq_edit "$B/config.json" '.root.path = $r' --arg r "$ROOTFS_USER"
capture as_mode unshare -U -r env XDG_RUNTIME_DIR="$TMP/xdg" "$NOOK_RUNTIME" run -b "$B" "$(new_id)"
assert_ok run_as_root_of_a_user_namespace "in-userns 0"
cp "$TMP/config.keep" "$B/config.json"

finish
