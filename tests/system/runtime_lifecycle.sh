#!/bin/bash
# The runc-compatible lifecycle: create/start/state/kill/delete, run -d, run attached (exit codes, signals),
# exec, list, ps, pid files, the default --root, spec, features, --version, `nook runtime`.
# modes: root rootless
. "$(dirname "$0")/../lib.sh"
require_runtime

B=$TMP/bundle
mode_bundle "$B" || { fail make_bundle "could not create a bundle" "$(cd "$TMP" && rt_plain spec 2>&1)"; finish; }
CFG=$B/config.json
cp "$CFG" "$TMP/config.orig"
PIDS=$TMP/pids
mkdir -p "$PIDS"
[ "$MODE" = rootless ] && chown "$TEST_UID:$TEST_GID" "$PIDS"

# --- create / start / state / kill / delete --------------------------------------------------------------
set_args "$B" sleep 30
id=$(new_id)
capture rt create -b "$B" --pid-file "$PIDS/$id" "$id"
assert_rc create 0
capture rt state "$id"
if [ "$RC" != 0 ] || ! printf '%s' "$OUT" | jq -e . > /dev/null 2>&1; then
  fail state_created_json "state exited $RC or printed no JSON: '$OUT'" "$ERR"
else
  st=$OUT
  assert_eq state_created_status created "$(jq -r .status <<< "$st")"
  assert_eq state_id "$id" "$(jq -r .id <<< "$st")"
  assert_eq state_bundle "$B" "$(jq -r .bundle <<< "$st")"
  v=$(jq -r '.ociVersion // empty' <<< "$st"); [ -n "$v" ] && pass state_ociVersion || fail state_ociVersion "no ociVersion: $st"
  v=$(jq -r '.created // empty' <<< "$st")
  [[ $v =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8} ]] && pass state_created_rfc3339 || fail state_created_rfc3339 "created='$v'"
  jq -e 'has("owner") and has("annotations")' <<< "$st" > /dev/null && pass state_owner_annotations ||
    fail state_owner_annotations "state lacks owner or annotations: $(jq -c . <<< "$st")"
  pid=$(jq -r .pid <<< "$st")
  if [ "$pid" -gt 0 ] 2> /dev/null && [ -d "/proc/$pid" ]; then pass state_created_pid; else fail state_created_pid "pid='$pid'"; fi
  assert_eq pid_file "$pid" "$(cat "$PIDS/$id" 2> /dev/null)"
  # A created container has not run its process yet.
  assert_not_contains created_not_exec_yet "sleep" "$(tr '\0' ' ' < "/proc/$pid/cmdline" 2> /dev/null)"
fi
assert_contains list_shows_created "$id" "$(ct_list)"
capture rt start "$id"
assert_rc start 0
if wait_status "$id" running; then pass state_running; else fail state_running "status '$(ct_state "$id")'"; fi
pid=$(ct_state "$id" pid)
assert_contains running_process_is_sleep "sleep 30" "$(tr '\0' ' ' < "/proc/$pid/cmdline" 2> /dev/null)"
capture rt start "$id"
[ "$RC" != 0 ] && pass start_twice_fails || fail start_twice_fails "second start succeeded"
capture rt ps "$id"
assert_contains ps_lists_pid "$pid" "$OUT"
capture rt list -f json
if printf '%s' "$OUT" | jq -e --arg id "$id" 'map(select(.id == $id)) | length == 1' > /dev/null 2>&1; then
  pass list_json; else fail list_json "list -f json: '$OUT'" "$ERR"; fi

# --- exec ------------------------------------------------------------------------------------------------
capture rt exec "$id" sh -c 'tr "\0" " " < /proc/1/cmdline'
OUT=$(echo $OUT)
assert_ok exec_sees_pid1_sleep "sleep 30"
capture rt exec "$id" hostname
assert_ok exec_same_hostname "$(jq -r .hostname "$CFG")"
capture rt exec "$id" sh -c 'exit 5'
assert_rc exec_exit_code 5
capture rt exec "$id" /no/such/command
assert_error exec_not_found_127 127
capture rt exec "$id" /etc/passwd
assert_error exec_not_executable_126 126
capture rt exec -e FOO=bar --cwd /etc "$id" /bin/sh -c 'echo "$FOO $(pwd)"'
assert_ok exec_env_cwd "bar /etc"
capture rt exec -e FOO=bar "$id" /bin/sh -c 'echo "$PATH"'
assert_ok exec_env_keeps_process_env "$(jq -r '.process.env[] | select(startswith("PATH=")) | ltrimstr("PATH=")' "$CFG")"
capture rt exec -u 1000:1001 "$id" sh -c 'echo "$(id -u) $(id -g)"'
assert_ok exec_user "1000 1001"
jq '.process | .args = ["sh", "-c", "echo from-process-json $PJ"] | .env = ["PJ=yes", "PATH=/bin:/usr/bin"]
    | .terminal = false' "$CFG" > "$TMP/process.json"
chmod 0644 "$TMP/process.json"
capture rt exec -p "$TMP/process.json" "$id"
assert_ok exec_process_json "from-process-json yes"
capture rt exec "$id" sh -c 'awk "/^CapEff:/ {print \$2}" /proc/self/status'
assert_ok exec_caps_as_spec "$(cap_mask $(jq -r '.process.capabilities.effective // [] | .[]' "$CFG"))"
capture rt exec --pid-file "$PIDS/exec-$id" -d "$id" sleep 5
assert_rc exec_detached 0
epid=$(cat "$PIDS/exec-$id" 2> /dev/null)
assert_contains exec_detached_pid_file "sleep 5" "$(tr '\0' ' ' < "/proc/$epid/cmdline" 2> /dev/null)"

# --- kill and delete --------------------------------------------------------------------------------------
capture rt delete "$id"
[ "$RC" != 0 ] && [ -n "$(ct_state "$id")" ] && pass delete_running_refused ||
  fail delete_running_refused "delete without -f of a running container: rc=$RC, state '$(ct_state "$id")'"
capture rt kill "$id" KILL
assert_rc kill_KILL 0
if wait_status "$id" stopped; then pass state_stopped; else fail state_stopped "status '$(ct_state "$id")'"; fi
capture rt delete "$id"
assert_rc delete_stopped 0
capture rt state "$id"
assert_error state_after_delete_fails
assert_not_contains list_after_delete "$id" "$(ct_list)"
[ -n "$pid" ] && ! alive "$pid" && pass init_gone || fail init_gone "pid $pid still exists"

# kill: signal names with and without SIG, and numbers (a TERM handler: pid 1 ignores default signals).
set_args "$B" sh -c 'trap "exit 3" TERM; while :; do sleep 0.1; done'
for sig in TERM SIGTERM 15; do
  id=$(new_id)
  capture rt run -d -b "$B" "$id"
  if [ "$RC" != 0 ]; then fail "kill_$sig" "run -d exited $RC" "$ERR"; continue; fi
  wait_status "$id" running
  sleep 0.3
  capture rt kill "$id" "$sig"
  if [ "$RC" != 0 ]; then fail "kill_$sig" "kill exited $RC" "$ERR"
  elif wait_status "$id" stopped; then pass "kill_$sig"
  else fail "kill_$sig" "still '$(ct_state "$id")' after kill $sig"; fi
  rt delete -f "$id" > /dev/null 2>&1
done
capture rt kill "$(new_id)" KILL
assert_error kill_unknown_container
capture rt kill "$id" NOSUCHSIG
[ "$RC" != 0 ] && pass kill_bad_signal_name || fail kill_bad_signal_name "kill NOSUCHSIG succeeded"

# kill --all reaches exec'd processes too; delete -f removes a running container.
set_args "$B" sleep 30
id=$(new_id)
capture rt run -d -b "$B" "$id"
assert_rc run_detached 0
assert_eq run_detached_running running "$(ct_state "$id")"
capture rt exec -d --pid-file "$PIDS/all-$id" "$id" sleep 31
epid=$(cat "$PIDS/all-$id" 2> /dev/null)
capture rt kill --all "$id" KILL
assert_rc kill_all 0
sleep 0.5
if [ -n "$epid" ] && ! alive "$epid"; then pass kill_all_reaches_exec; else fail kill_all_reaches_exec "exec'd pid '$epid' survived kill --all"; fi
rt delete -f "$id" > /dev/null 2>&1
id=$(new_id)
capture rt run -d -b "$B" "$id"
pid=$(ct_state "$id" pid)
capture rt delete -f "$id"
assert_rc delete_force_running 0
sleep 0.3
[ -n "$pid" ] && ! alive "$pid" && [ -z "$(ct_state "$id")" ] && pass delete_force_kills ||
  fail delete_force_kills "pid '$pid' alive or state still there"

# create with an id in use
id=$(new_id)
capture rt create -b "$B" "$id"
capture rt create -b "$B" "$id"
assert_error create_duplicate_id
assert_eq duplicate_keeps_original created "$(ct_state "$id")"
rt delete -f "$id" > /dev/null 2>&1

# --- run attached: exit codes and signals ------------------------------------------------------------------
ct_sh "$B" 'exit 7'
assert_rc run_exit_7 7
ct_sh "$B" 'echo out; echo err >&2'
assert_ok run_stdout out
assert_eq run_stderr err "$(printf '%s\n' "$ERR" | grep -v '^WARN: ')"
ct "$B" /no/such/command
assert_error run_not_found_127 127
ct "$B" /etc/passwd
assert_error run_not_executable_126 126
no_state_left run_failed_exec_leaves_nothing
# Without a pid namespace the process is not an init, so its own signals kill it (rootless: /proc then
# has to be bound from the host, a new procfs needs a pid namespace of our own).
jq_edit "$CFG" '.linux.namespaces |= map(select(.type != "pid"))'
[ "$MODE" = rootless ] && jq_edit "$CFG" '.mounts |= map(if .destination == "/proc" then
  {destination: "/proc", type: "bind", source: "/proc", options: ["rbind", "nosuid", "nodev", "noexec"]} else . end)'
ct_sh "$B" 'kill -TERM $$'
assert_rc run_signal_TERM_143 143
ct_sh "$B" 'kill -KILL $$'
assert_rc run_signal_KILL_137 137
cp "$TMP/config.orig" "$CFG"
# SIGKILL from `kill` on an attached run; SIGTERM to the attached runtime is forwarded.
set_args "$B" sleep 30
id=$(new_id)
rt run -b "$B" "$id" < /dev/null > /dev/null 2>&1 &
bg=$!
wait_status "$id" running
capture rt kill "$id" KILL
wait "$bg"
RC=$?
assert_rc run_attached_killed_137 137
rt delete -f "$id" > /dev/null 2>&1
set_args "$B" sh -c 'trap "exit 9" TERM; while :; do sleep 0.1; done'
id=$(new_id)
rt run -b "$B" "$id" < /dev/null > /dev/null 2>&1 &
bg=$!
wait_status "$id" running
sleep 0.3
# The attached runtime: the process with our command line that is neither timeout, runuser nor env (it may
# run from a memfd copy of itself, so its exe is not the binary's path).
rpid=
for p in $(pgrep -f -- "--root $RTROOT run -b $B $id\$"); do
  case $(readlink "/proc/$p/exe") in */timeout | */runuser | */env) ;; *) rpid=$p ;; esac
done
if [ -z "$rpid" ]; then
  fail run_forwards_TERM "could not find the attached runtime process"
else
  kill -TERM "$rpid"
  wait "$bg"
  RC=$?
  assert_rc run_forwards_TERM 9
fi
rt delete -f "$id" > /dev/null 2>&1
no_state_left run_attached_leaves_nothing

# --- the default --root --------------------------------------------------------------------------------------
if [ "$MODE" = rootless ]; then droot=/run/user/$TEST_UID/nook-runtime; else droot=/run/nook-runtime; fi
set_args "$B" sleep 30
id=$(new_id)
capture rt_plain run -d -b "$B" "$id"
assert_rc default_root_run 0
[ -d "$droot" ] && pass default_root_dir || fail default_root_dir "$droot does not exist"
assert_contains default_root_list "$id" "$(rt_plain list -q 2> /dev/null)"
assert_not_contains default_root_separate "$id" "$(ct_list)"
capture rt_plain delete -f "$id"
assert_rc default_root_delete 0

# --- spec, features, --version, nook runtime ------------------------------------------------------------
S=$TMP/spec
mkdir -p "$S/a" "$S/b"
[ "$MODE" = rootless ] && chown -R "$TEST_UID:$TEST_GID" "$S"
(cd "$S/a" && rt_plain spec --rootless > /dev/null 2>&1)
if jq -e --argjson uid "$([ "$MODE" = rootless ] && echo "$TEST_UID" || echo 0)" '
    (.linux.namespaces | map(.type) | index("user")) and .linux.uidMappings[0].hostID == $uid
    and .linux.uidMappings[0].containerID == 0' "$S/a/config.json" > /dev/null 2>&1; then
  pass spec_rootless_maps_caller
else
  fail spec_rootless_maps_caller "config.json: $(jq -c '.linux | {namespaces, uidMappings}' "$S/a/config.json" 2>&1)"
fi
capture rt_plain spec --bundle "$S/b"
[ "$RC" = 0 ] && jq -e .ociVersion "$S/b/config.json" > /dev/null 2>&1 && pass spec_bundle_flag ||
  fail spec_bundle_flag "rc=$RC, no valid $S/b/config.json" "$ERR"
capture rt_plain features
printf '%s' "$OUT" | jq -e '.ociVersionMin and .ociVersionMax' > /dev/null 2>&1 && pass features_json ||
  fail features_json "rc=$RC: '$(printf '%s' "$OUT" | head -c 300)'" "$ERR"
capture rt_plain --version
[ "$RC" = 0 ] && [ -n "$OUT" ] && pass version || fail version "rc=$RC out='$OUT'" "$ERR"
v1=$OUT
capture as_mode "$NOOK" runtime --version
assert_ok nook_runtime_alias_version "$v1"
set_args "$B" sleep 30
id=$(new_id)
capture as_mode "$NOOK" runtime --root "$RTROOT" run -d -b "$B" "$id"
assert_rc nook_runtime_alias_run 0
assert_eq nook_runtime_alias_state running "$(ct_state "$id")"
rt delete -f "$id" > /dev/null 2>&1

finish
