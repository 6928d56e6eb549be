#!/bin/bash
# What runc's own integration tests (v1.1.5 tests/integration) expect of a runc-compatible runtime, checked on
# what the container saw: the device cgroup (deny-all wins over linux.devices), --no-pivot not exposing a
# bare /proc to a nested user namespace, read-only /dev, "rbind,ro" vs "rro", exec --additional-gids, and
# the command line: --debug/--log records, kill 0, delete --force of a missing container, list JSON, run
# --keep, spec's namespaces.
# modes: root rootless
. "$(dirname "$0")/../lib.sh"
require_runtime

B=$TMP/bundle
mode_bundle "$B" || { fail make_bundle "could not create a bundle"; finish; }
CFG=$B/config.json
cp "$CFG" "$TMP/config.orig"
reset_cfg () { cp "$TMP/config.orig" "$CFG"; }

# --- the device cgroup (root: the cgroup is ours; rootless on v1 nothing is delegated) ------------------------
if [ "$MODE" = root ]; then
  # runc's default: deny all.  /dev/kmsg created from linux.devices must stay unusable; /dev/null works.
  jq_edit "$CFG" '.linux.devices = [{path: "/dev/kmsg", type: "c", major: 1, minor: 11}]
    | .linux.resources.devices = [{allow: false, access: "rwm"}]'
  ct_sh "$B" '(: > /dev/kmsg) 2>&1; echo x > /dev/null && echo null-ok'
  assert_contains devices_deny_all_wins_over_linux_devices "Operation not permitted" "$OUT"
  assert_contains devices_default_null_allowed null-ok "$OUT"
  # No rules at all: still deny-by-default (a new cgroup must not inherit "everything").
  jq_edit "$CFG" 'del(.linux.resources.devices)'
  ct_sh "$B" '(: > /dev/kmsg) 2>&1; head -c 4 /dev/zero | wc -c'
  assert_contains devices_no_rules_still_denies "Operation not permitted" "$OUT"
  assert_contains devices_no_rules_zero_allowed 4 "$OUT"
  # An explicit allow works; a later deny with runc's "rwa" spelling (a ignored) takes write back out.
  jq_edit "$CFG" '.linux.resources.devices = [{allow: false, access: "rwm"},
    {allow: true, type: "c", major: 1, minor: 11, access: "rw"}]'
  ct_sh "$B" '(: > /dev/kmsg) 2>&1 && echo opened'
  assert_ok devices_allow_rule_opens opened
  jq_edit "$CFG" '.linux.resources.devices += [{allow: false, type: "c", major: 1, minor: 11, access: "rwa"}]'
  ct_sh "$B" '(: > /dev/kmsg) 2>&1; true'
  assert_contains devices_later_deny_rwa_wins "Operation not permitted" "$OUT"
  # The cgroup's own list says the same (v1: the kernel's view of the rules).
  jq_edit "$CFG" '.linux.resources.devices = [{allow: false, access: "rwm"}]'
  set_args "$B" sleep 60
  id=$(new_id)
  capture rt run -d -b "$B" "$id"
  pid=$(ct_state "$id" pid)
  dcg=$(awk -F: '$2 == "devices" {print $3}' "/proc/$pid/cgroup" 2> /dev/null)
  list=$(cat "/sys/fs/cgroup/devices$dcg/devices.list" 2> /dev/null)
  if [ -z "$dcg" ] || [ "$dcg" = / ] || [ -z "$list" ]; then
    fail devices_v1_list "no devices cgroup for pid $pid ('$dcg')" "$ERR"
  else
    case $'\n'$list$'\n' in
      *$'\na *:* rwm\n'* | *$'\nc 1:11 '*) fail devices_v1_list "devices.list allows too much" "$list" ;;
      *$'\nc 1:3 rwm\n'*) pass devices_v1_list ;;
      *) fail devices_v1_list "devices.list misses /dev/null" "$list" ;;
    esac
  fi
  rt delete -f "$id" > /dev/null 2>&1
  # exec --cgroup into a sub-cgroup the container made (cgroup namespace, rw cgroupfs); then delete --force
  # removes those too, killing what is in them.
  jq_edit "$CFG" '.linux.namespaces += [{type: "cgroup"}]
    | .mounts |= map(if .destination == "/sys/fs/cgroup" then .options -= ["ro"] else . end)'
  set_args "$B" sh -c 'mkdir /sys/fs/cgroup/memory/sub && exec sleep 60'
  id=$(new_id)
  capture rt run -d -b "$B" "$id"
  pid=$(ct_state "$id" pid)
  sleep 0.5
  mcg=$(awk -F: '$2 == "memory" {print $3}' "/proc/$pid/cgroup" 2> /dev/null)
  capture rt exec --cgroup memory:sub "$id" sh -c 'grep -E ":(memory|pids):" /proc/self/cgroup | cut -d: -f2- | sort'
  assert_ok exec_cgroup_controller_sub "memory:/sub
pids:/"
  capture rt exec --cgroup sub "$id" true
  [ "$RC" != 0 ] && pass exec_cgroup_missing_sub_fails || fail exec_cgroup_missing_sub_fails "joined sub in every hierarchy"
  capture rt exec --cgroup .. "$id" true
  assert_contains exec_cgroup_parent_refused "is not a sub cgroup path" "$ERR"
  capture rt exec --cgroup whaaat:/ "$id" true
  assert_contains exec_cgroup_unknown_controller "unknown controller" "$ERR"
  capture rt exec -d --cgroup memory:sub "$id" sleep 60
  capture rt delete --force "$id"
  if [ -z "$mcg" ] || [ "$mcg" = / ]; then
    fail delete_force_removes_subcgroups "no memory cgroup for pid $pid" "$ERR"
  elif [ "$RC" != 0 ] || [ -d "/sys/fs/cgroup/memory$mcg" ]; then
    fail delete_force_removes_subcgroups "delete exited $RC; /sys/fs/cgroup/memory$mcg left" "$ERR"
  else
    pass delete_force_removes_subcgroups
  fi
  reset_cfg
fi

# --- --no-pivot: a nested user namespace must not be able to mount a fresh /proc -------------------------------
# (the host's /proc stays in the mount namespace under the moved root; runc detaches or covers it.)
jq_edit "$CFG" '.process.capabilities.bounding += ["CAP_SETFCAP"] | .process.capabilities.permitted += ["CAP_SETFCAP"]'
set_args "$B" unshare -mrpf sh -c 'mount -t proc none /proc 2>&1 && echo MOUNTED; true'
id=$(new_id)
capture rt run --no-pivot -b "$B" "$id"
if [ "$RC" != 0 ]; then
  fail no_pivot_nested_proc_refused "run --no-pivot exited $RC" "$ERR"
else
  assert_not_contains no_pivot_nested_proc_refused MOUNTED "$OUT"
fi
set_args "$B" sh -c 'awk "\$4 == \"/\" && (\$9 == \"proc\" || \$9 == \"sysfs\") {print \$5}" /proc/self/mountinfo | sort | tr "\n" " "'
capture rt run --no-pivot -b "$B" "$(new_id)"
assert_ok no_pivot_only_own_proc_sys "/proc /sys "
reset_cfg

# --- read-only /dev, rbind,ro vs rro --------------------------------------------------------------------------
jq_edit "$CFG" '.mounts |= map(if .destination == "/dev" then .options += ["ro"] else . end)'
ct_sh "$B" 'grep "^tmpfs /dev " /proc/mounts | cut -d" " -f4 | cut -d, -f1; ls /dev/pts/ptmx > /dev/null && echo x > /dev/null && echo ok'
assert_ok dev_readonly_with_devices "ro
ok"
reset_cfg

if [ "$MODE" = root ]; then
  # A host tree with a submount, in a private mount namespace of its own (the host's mounts stay untouched).
  mkdir -p "$TMP/tree/sub"
  cat > "$TMP/rro.sh" << 'EOF'
set -e
mount -t tmpfs none "$TREE/sub"
for o in ro rro; do
  jq --arg t "$TREE" --arg o "$o" '.mounts += [{destination: "/mnt", type: "bind", source: $t, options: ["rbind", $o]}]
    | .process.args = ["sh", "-c", "touch /mnt/a 2>/dev/null && echo top-rw || echo top-ro; touch /mnt/sub/b 2>/dev/null && echo sub-rw || echo sub-ro"]' \
    "$CFG0" > "$BUNDLE/config.json"
  "$RUNTIME" --root "$ROOT" run -b "$BUNDLE" "rro-$o-$$"
done
EOF
  capture env TREE="$TMP/tree" CFG0="$TMP/config.orig" BUNDLE="$B" RUNTIME="$NOOK_RUNTIME" ROOT="$RTROOT" \
    unshare -m --propagation private bash "$TMP/rro.sh"
  assert_ok rbind_ro_top_only_rro_recursive "top-ro
sub-rw
top-ro
sub-ro"
  reset_cfg
fi

# --- exec --additional-gids, kill 0, list JSON, run --keep, delete --force of nothing ---------------------------
set_args "$B" sleep 60
id=$(new_id)
capture rt run -d -b "$B" "$id"
capture rt exec --user 1000:1000 --additional-gids 100 --additional-gids 65534 "$id" id -G
assert_ok exec_additional_gids "1000 100 65534"
capture rt kill "$id" 0
assert_rc kill_signal_0_running 0
assert_eq kill_signal_0_still_running running "$(ct_state "$id")"
capture rt list --format json
line=$(printf '%s\n' "$OUT" | head -n 1)
[ "$(printf '%s\n' "$OUT" | wc -l)" = 1 ] &&
  printf '%s' "$line" | grep -q '^\[{"ociVersion":"[0-9.]*","id":"'"$id"'","pid":[0-9]*,"status":"running","bundle":"[^"]*","rootfs":"[^"]*","created":"[^"]*","owner":"[^"]*"}\]$' &&
  pass list_json_runc_layout || fail list_json_runc_layout "not runc's one-line layout" "$OUT"
rt kill "$id" KILL > /dev/null 2>&1
wait_status "$id" stopped
capture rt kill -a "$id" 0
assert_rc kill_all_signal_0_stopped 0
capture rt kill "$id" 0
[ "$RC" != 0 ] && pass kill_stopped_without_all_fails || fail kill_stopped_without_all_fails "exit 0"
rt delete "$id" > /dev/null 2>&1
capture rt delete --force "nonexistent-$$"
assert_rc delete_force_missing_ok 0
capture rt delete "nonexistent-$$"
assert_error delete_missing_fails

set_args "$B" echo hello
id=$(new_id)
capture rt run --keep -b "$B" "$id"
assert_ok run_keep_output hello
assert_eq run_keep_state_stopped stopped "$(ct_state "$id")"
capture rt delete "$id"
assert_rc run_keep_delete 0
assert_eq run_keep_deleted "" "$(ct_list)"

# --- --debug, --log, --log-format -----------------------------------------------------------------------------
id=$(new_id)
capture rt --debug run -b "$B" "$id"
assert_contains debug_stderr_level 'level=debug msg="nsexec container setup"' "$ERR"
assert_contains debug_stderr_init 'msg="child process in init()"' "$ERR"
assert_contains debug_stderr_exec 'msg="init: closing the pipe to signal completion"' "$ERR"
log=$TMP/log.json
rm -f "$log"
[ "$MODE" = rootless ] && { touch "$log"; chown "$TEST_UID" "$log"; }
capture rt --log "$log" --log-format json --debug run -b "$B" "$(new_id)"
assert_not_contains debug_log_not_on_stderr level=debug "$ERR"
jq -s -e 'any(.[]; .level == "debug" and .msg == "child process in init()" and (.time | test("^[0-9-]+T")))' "$log" \
  > /dev/null 2>&1 && pass debug_log_json || fail debug_log_json "no JSON debug record" "$(cat "$log" 2>&1)"
set_args "$B" sleep 60
id=$(new_id)
capture rt run -d -b "$B" "$id"
capture rt --debug exec "$id" true
assert_contains debug_exec 'msg="setns_init: about to exec"' "$ERR"
rt delete -f "$id" > /dev/null 2>&1

# --- proc and sysfs only on a real directory of the rootfs ------------------------------------------------------
mkdir -p "$TMP/linkroot"
cp -a "$ROOTFS/." "$TMP/linkroot/" 2> /dev/null
rm -rf "$TMP/linkroot/proc"
ln -s /tmp "$TMP/linkroot/proc"
[ "$MODE" = rootless ] && chown -R "$TEST_UID:$TEST_GID" "$TMP/linkroot"
jq_edit "$CFG" '.root.path = $r' --arg r "$TMP/linkroot"
capture rt run -b "$B" "$(new_id)"
assert_error proc_on_symlink_refused
assert_contains proc_on_symlink_message "must be mounted on ordinary directory" "$ERR"
reset_cfg

# --- the terminal belongs to the process's user ---------------------------------------------------------------
jq_edit "$CFG" '.process.terminal = true | .process.user = {uid: 1000, gid: 100}'
set_args "$B" sh -c 'stat -c %u $(tty); id -u'
capture as_mode script -qefc "timeout -k 5 $RT_TIMEOUT $NOOK_RUNTIME --root $RTROOT run -b $B $(new_id)" /dev/null
assert_eq tty_owned_by_process_user "1000 1000" "$(echo $(printf '%s\n' "$OUT" | grep -ao '[0-9][0-9]*'))"
reset_cfg

# --- seccomp notify: the notify fd and the container process state go to linux.seccomp.listenerPath ------------
AGENT_SOCK=$TMP/agent.sock
AGENT_OUT=$TMP/agent.out
python3 "$REPO/tests/helpers/seccomp_agent.py" "$AGENT_SOCK" "$AGENT_OUT" &
AGENT_PID=$!
for i in $(seq 50); do [ -S "$AGENT_SOCK" ] && break; sleep 0.1; done
notify_cfg () {
  jq_edit "$CFG" '.process.noNewPrivileges = $nnp | .linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW",
    listenerPath: $sock, listenerMetadata: "meta-nook", architectures: ["SCMP_ARCH_X86_64"],
    syscalls: [{names: ["mkdir", "mkdirat"], action: "SCMP_ACT_NOTIFY"}]}' --arg sock "$AGENT_SOCK" --argjson nnp "$1"
}
for nnp in true false; do
  notify_cfg "$nnp"
  ct_sh "$B" 'mkdir /dev/shm/x 2>&1; echo rc=$?'
  assert_contains "seccomp_notify_agent_answers_nnp_$nnp" "No medium found" "$OUT"
done
id=$CT_ID
line=$(grep -F "\"id\":\"$id\"" "$AGENT_OUT" 2> /dev/null | tail -n 1)
state=${line% nfds=*}
if [ -n "$line" ] && [ "${line##* nfds=}" = 1 ] &&
  printf '%s' "$state" | jq -e '.ociVersion != null and .fds == ["seccompFd"] and .metadata == "meta-nook"
    and (.pid | type) == "number" and .pid > 0 and .state.status != null and (.state.bundle | length) > 0' > /dev/null 2>&1; then
  pass seccomp_notify_state_sent
else
  fail seccomp_notify_state_sent "the agent got no containerProcessState with one fd for $id" "$(cat "$AGENT_OUT" 2>&1)"
fi
notify_cfg true
set_args "$B" sleep 60
id=$(new_id)
capture rt run -d -b "$B" "$id"
capture rt exec "$id" sh -c 'mkdir /dev/shm/y 2>&1; echo rc=$?'
assert_contains seccomp_notify_exec "No medium found" "$OUT"
rt delete -f "$id" > /dev/null 2>&1
kill "$AGENT_PID" 2> /dev/null
wait "$AGENT_PID" 2> /dev/null
rm -f "$AGENT_SOCK"
set_args "$B" true
capture rt run -b "$B" "$(new_id)"
assert_error seccomp_notify_no_agent_fails
assert_contains seccomp_notify_no_agent_message "failed to connect with seccomp agent" "$ERR"
no_state_left seccomp_notify_no_agent_no_state
jq_edit "$CFG" '.linux.seccomp.syscalls = [{names: ["write"], action: "SCMP_ACT_NOTIFY"}]'
capture rt run -b "$B" "$(new_id)"
assert_error seccomp_notify_write_refused
assert_contains seccomp_notify_write_message "SCMP_ACT_NOTIFY cannot be used for the write syscall" "$ERR"
jq_edit "$CFG" '.linux.seccomp.syscalls = [{names: ["mkdir"], action: "SCMP_ACT_NOTIFY"}] | .linux.seccomp.listenerPath = ""'
capture rt run -b "$B" "$(new_id)"
assert_error seccomp_notify_needs_listener_path
reset_cfg

# --- spec: runc's namespaces (a config adding a cgroup namespace must not list it twice) -----------------------
mkdir -p "$TMP/spec"
chmod 0777 "$TMP/spec"
(cd "$TMP/spec" && rt_plain spec > /dev/null 2>&1)
assert_eq spec_no_cgroup_namespace "pid network ipc uts mount" "$(jq -r '[.linux.namespaces[].type] | join(" ")' "$TMP/spec/config.json" 2>&1)"

finish
